#!/usr/bin/env bash
# Restarts and an apiserver outage are invisible to traffic (one boot):
# kill -9 of each child and of the parent, the apiserver frozen, under a
# steady request loop through a ClusterIP: zero failed requests, no kernel
# object deleted or re-created, changes converge afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-watcherd" "$B/kipvs-planner" \
    "$B/kipvs-applierd"
KIPVS_BUILD=$B vm_guest tests/vm/guest/e2e-restart.sh
vm_done
