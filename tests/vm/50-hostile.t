#!/usr/bin/env bash
# The hostile-object corpus in the one-node cluster on a real kernel (one
# boot): nothing denied bound, no host service captured, the normal
# Services still carry traffic, rejections and neutralisations logged and
# on /metrics, the same table after restarts.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-watcherd" "$B/kipvs-planner" \
    "$B/kipvs-applierd" "$B/kipvs-render"
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-600} KIPVS_BUILD=$B vm_guest tests/vm/guest/hostile.sh
vm_done
