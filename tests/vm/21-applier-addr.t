#!/usr/bin/env bash
# applierd/applier_addr on a real kernel: kube-ipvs0 (dummy, down), /32 and
# /128 addresses, address dump.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/applier_ipvs_tool"
vm_guest tests/vm/guest/applier-addr.sh "$B"
vm_done
