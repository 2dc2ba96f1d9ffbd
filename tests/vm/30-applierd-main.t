#!/usr/bin/env bash
# kipvs-applierd itself on a real IPVS kernel, driven over its planner
# link by tests/helpers/pa_client: every op kind, idempotence, per-op
# errors, policy rejections, mass-deletion guard, xtables lock, audit
# under kill -9, 10,000 VS x 5 RS in one batch, cleanup.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/pa_client" "$B/kipvs-applierd"
# A loaded CI machine runs the VM several times slower.
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-900} vm_guest tests/vm/guest/applierd-main.sh "$B"
vm_done
