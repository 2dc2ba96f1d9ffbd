#!/usr/bin/env bash
# `kipvs cleanup` through the parent (kipvs-applierd in its one-shot
# mode): foreign IPVS services, chains, sets and addresses made with the
# stock tools survive, everything kipvs owns goes, exit status and output
# are clear (also with the xtables lock held elsewhere).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-applierd" "$B/tests/helpers/pa_client"
# A loaded CI machine runs the VM several times slower.
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-600} vm_guest tests/vm/guest/applier-cleanup.sh "$B"
vm_done
