#!/usr/bin/env bash
# `kipvs check` on a real kernel with IPVS (tests/vm/guest/check.sh):
# passes with legacy iptables, warns (status 0) for the nft alternative,
# for missing CAP_SYS_MODULE and for a foreign address on kube-ipvs0,
# fails when a needed module cannot be loaded, and loads no module itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs"
vm_guest tests/vm/guest/check.sh "$B"
vm_done
