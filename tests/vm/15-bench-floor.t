#!/usr/bin/env bash
# The benchmark's raw IPVS floor program against the real kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
vm_require build/tests/bench/ipvs_floor
vm_guest tests/vm/guest/bench-floor.sh
vm_done
