#!/usr/bin/env bash
# The benchmark in the real kernel, small: the raw floor program programs
# exactly the table it claims (synthetic, and from an ipvsadm -Sn file),
# and the kipvs rows of `make bench` come out of one kipvs run on a
# 100-service workload (cold start, kernel == kipvs-render, memory, one
# change of each kind, idle), well-formed.  Timings are not asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/tests/bench/ipvs_floor" "$B/kipvs" "$B/kipvs-render"
# The workload, made on the host where the guest can read it.
work=$B/bench-smoke/100
mkdir -p "$work"
python3 tests/bench/gen-objects.py 100 "$work"
for o in ipvs ipset; do
	"$B/kipvs-render" --objects "$work/objects.json" --hostname-override node-1 \
	    --node-ip 192.168.50.1 --ip-family ipv4 --cluster-cidr 10.244.0.0/16 \
	    --output "$o" >"$work/$o"
done
KIPVS_BUILD=$B KIPVS_BENCH_WORK=$PWD/$work KIPVS_VM_MEM=${KIPVS_VM_MEM:-2048} \
    vm_guest tests/vm/guest/bench-floor.sh
vm_done
