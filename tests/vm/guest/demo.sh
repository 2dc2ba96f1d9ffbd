#!/usr/bin/env bash
# `make demo`, run inside the real-kernel VM.  Until the daemons carry the
# whole pipeline, it shows the guest kernel's IPVS being programmed by this
# tree's own netlink code (the benchmark floor program) and listed by the
# user's tool, ipvsadm.
set -euo pipefail
b=${KIPVS_BUILD:-build}
echo "== guest kernel: $(uname -r)"
echo "== programming 3 virtual servers x 2 real servers over generic netlink"
"$b/tests/bench/ipvs_floor" add -n 3 -m 2
echo "== ipvsadm -Ln"
ipvsadm -Ln
