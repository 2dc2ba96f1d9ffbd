#!/usr/bin/env bash
# applierd/applier_ipt on the Debian kernel: the KUBE-IPVS-OUT-FILTER
# ipvs-match rule, IPv4 and IPv6, with exactly CAP_NET_ADMIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/applier_ipt_tool"
vm_guest tests/vm/guest/applier-ipt.sh "$B"
vm_done
