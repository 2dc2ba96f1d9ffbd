#!/usr/bin/env bash
# A compromised planner against the real kipvs-applierd (issue #9 item
# 3), through tests/helpers/pa_client: deny-listed and foreign targets,
# port 0, foreign IPVS services, mass deletion, malformed and oversized
# frames, a flood.  Each attempt: refused, kernel unchanged, audited.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/pa_client" "$B/kipvs-applierd"
# A loaded CI machine runs the VM several times slower.
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-1500} vm_guest tests/vm/guest/applier-hostile.sh "$B"
vm_done
