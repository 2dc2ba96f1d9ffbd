#!/usr/bin/env bash
# kipvs end to end on a real kernel with packets (one boot): the test
# apiserver, the parent and its three sandboxed daemons, pods as network
# namespaces; ClusterIP, NodePort, affinity, no endpoints, ETP Local,
# hairpin, UDP endpoint removal, kernel state vs kipvs-render.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-watcherd" "$B/kipvs-planner" \
    "$B/kipvs-applierd" "$B/kipvs-render"
KIPVS_BUILD=$B vm_guest tests/vm/guest/e2e.sh
vm_done
