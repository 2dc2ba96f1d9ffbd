#!/usr/bin/env bash
# Restarts and an apiserver outage are invisible to traffic (one boot):
# kill -9 of each child and of the parent, the apiserver's API port down
# for 45 s (/outage) while Services and endpoints change, under a steady
# request loop through a ClusterIP: zero failed requests, no kernel object
# deleted or re-created, the changes converge once the API is back.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-watcherd" "$B/kipvs-planner" \
    "$B/kipvs-applierd" "$B/kipvs-render"
# 6.6 min measured on a build machine at load 11 (2 cores, five VMs);
# a larger KIPVS_VM_TIMEOUT of the caller wins.
t=600
((${KIPVS_VM_TIMEOUT:-0} > t)) && t=$KIPVS_VM_TIMEOUT
KIPVS_VM_TIMEOUT=$t KIPVS_BUILD=$B vm_guest tests/vm/guest/e2e-restart.sh
vm_done
