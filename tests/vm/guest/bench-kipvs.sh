#!/usr/bin/env bash
# The kipvs rows of the benchmark alone, for a quick look at one size
# (docs/benchmarks.md): one cold start of the workload in
# $KIPVS_BENCH_WORK (a folder made by tests/bench/run.sh or
# gen-objects.py + kipvs-render) in a fresh namespace, checked against
# kipvs-render; KIPVS_BENCH_LIVE="change idle" adds those phases.
#
#	KIPVS_BENCH_WORK=$PWD/build/bench/work/1000 KIPVS_BENCH_WL=1000x5 \
#	    tests/vm/run.sh tests/vm/guest/bench-kipvs.sh
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
ipvsadm -A -t 10.255.255.1:1 -s rr && ipvsadm -C
ipset create kipvs-warmup hash:ip,port && ipset destroy kipvs-warmup
# shellcheck disable=SC2086
KIPVS_BENCH_START_TIMEOUT=${KIPVS_BENCH_START_TIMEOUT:-600} \
    unshare -n bash tests/bench/guest-kipvs.sh "$KIPVS_BENCH_WORK" \
    "${KIPVS_BENCH_WL:-100x5}" 1 ${KIPVS_BENCH_LIVE:-}
