#!/usr/bin/env bash
# 10,000 VS x 5 RS through applierd/applier_ipvs, batched (256 per sendmsg)
# and one request per sendmsg, each on a fresh kernel (one boot each);
# KIPVS_SCALE_REFERENCE=1 adds ipvsadm -R as the reference.  Times are
# diagnostics only.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/applier_ipvs_tool"
vm_guest tests/vm/guest/applier-scale.sh "$B" 256
vm_guest tests/vm/guest/applier-scale.sh "$B" 1
if [[ ${KIPVS_SCALE_REFERENCE:-0} == 1 ]]; then
    vm_guest tests/vm/guest/applier-scale.sh "$B" ipvsadm
fi
vm_done
