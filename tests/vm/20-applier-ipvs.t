#!/usr/bin/env bash
# applierd/applier_ipvs on a real IPVS kernel: batches, per-op errors,
# idempotence, dumps, audit.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/helpers/applier_ipvs_tool"
vm_guest tests/vm/guest/applier-ipvs.sh "$B"
vm_done
