#!/usr/bin/env bash
# The benchmark pipeline, small and without the VM (make check): run.sh in
# smoke mode makes a 200-service workload, renders its tables, measures the
# watch ingest and the planner's instructions per change, and prints the
# table; then table.py on hand-made rows, whose medians, ratios and
# verdicts are worked out here.  No timing is asserted.  The kernel rows
# are exercised by tests/vm/15-bench-floor.t.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
n=0 failed=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; failed=$((failed + 1)); fi
}
if [ ! -x "$B/tests/helpers/bench_ingest" ] || [ ! -x "$B/kipvs-render" ]; then
	echo "1..0 # SKIP $B/tests/helpers/bench_ingest or $B/kipvs-render not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 1..15

KIPVS_BENCH_SMOKE=1 KIPVS_BENCH_SIZES=200 KIPVS_BENCH_REPS=2 \
KIPVS_BENCH_OUT=$tmp/out B=$B tests/bench/run.sh >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
sed 's/^/# /' "$tmp/stdout"
t "run.sh in smoke mode exits 0" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/# /' "$tmp/stderr"
w=$tmp/out/work/200
t "the workload's IPVS table: 221 virtual servers (200 + 20 NodePorts + kubernetes)" \
	test "$(grep -c '^-A' "$w/ipvs" 2>/dev/null)" = 221
t "... and 1,101 real servers" test "$(grep -c '^-a' "$w/ipvs" 2>/dev/null)" = 1101
t "the watch stream: 201 Services, 201 slices added, 800 slices modified" \
	test "$(grep -c . "$w/watch.jsonl" 2>/dev/null)" = 1202
# Every row of the summary: a known workload, a metric, a unit, a number.
t "summary.csv: every table row well-formed" awk -F, '
	/^workload,target/ { exit(ok ? 0 : 1) }
	NR > 1 && NF == 7 { if ($1 !~ /^[0-9]+x5$/ || $4 !~ /^[0-9.]+$/ || $5 < 1) exit 1; ok = 1 }
	END { }' "$tmp/out/summary.csv"
t "watch ingest rows: wall clock and per CPU second, 2 reps each" \
	grep -Eq '^200x5,watch ingest per CPU second,records/s,[0-9]+,2,' "$tmp/out/summary.csv"
if command -v valgrind >/dev/null; then
	t "callgrind row: instructions for one change at 1,000" \
		grep -Eq '^1000x5,planner instructions per change,instr,[1-9][0-9]*,1,' "$tmp/out/summary.csv"
else
	echo "ok $((n += 1)) # SKIP valgrind not installed"
fi
t "the printed table lists the nine acceptance targets" \
	test "$(sed -n '/^acceptance at/,$p' "$tmp/stdout" | grep -cE ' (met|MISSED)')" = 9

# table.py on known rows.
cat >"$tmp/raw.csv" <<'EOF'
10000x5,ipvsadm -R,1,40,s
10000x5,ipvsadm -R,2,10,s
10000x5,ipvsadm -R,3,20,s
10000x5,floor 256/sendmsg,1,0.5,s
10000x5,floor 256/sendmsg,2,0.4,s
10000x5,floor 256/sendmsg,3,0.6,s
10000x5,kipvs cold start,1,1.0,s
10000x5,kipvs cold start,2,0.8,s
10000x5,kipvs cold start,3,9.0,s
10000x5,change endpoint add: kernel ops,1,1,ops
10000x5,change endpoint remove (weight 0): kernel ops,1,1,ops
10000x5,change endpoint remove: kernel ops,1,4,ops
10000x5,idle 60 s: netlink requests outside drift checks,1,0,requests
10000x5,RSS VmRSS total,1,31.5,MB
10000x5,watch ingest per CPU second,1,60000,records/s
1000x5,planner instructions per change,1,10000,instr
10000x5,planner instructions per change,1,11000,instr
10000x5,ip -b addresses (kube-ipvs0),1,4.0,s
10000x5,kipvs addresses part of the cold start,1,5.0,s
10000x5,ipset restore (all sets),1,8.0,s
10000x5,kipvs ipsets part of the cold start,1,2.0,s
EOF
python3 tests/bench/table.py "$tmp/raw.csv" "$tmp/sum.csv" 10000 "10000 50000" >"$tmp/table"
rc=$?
sed 's/^/# /' "$tmp/table"
t "table.py exits 0 on good rows" test "$rc" = 0
# kipvs: median 1.0 s; ipvsadm -R median 20 s -> 20.0x; floor 0.5 s -> 2.00x.
t "median and both ratios of the kipvs row" \
	grep -q '^10000x5,kipvs cold start,s,1.000,3,20.0,2.00$' "$tmp/sum.csv"
t "verdicts: 10x and 2x met, 4 ops MISSED, RSS 31.5 MB MISSED" sh -c "
	grep -q 'cold start >= 10x faster than ipvsadm -R,20.0x,met' '$tmp/sum.csv' &&
	grep -q 'cold start within 2x of the raw floor,2.00x,met' '$tmp/sum.csv' &&
	grep -q 'endpoint remove: <= 3 kernel ops,4,MISSED' '$tmp/sum.csv' &&
	grep -q 'total RSS <= 30 MB,31.5 MB,MISSED' '$tmp/sum.csv' &&
	grep -q 'planner instructions per change at 10k within 1.2x of 1k,1.100,met' '$tmp/sum.csv'"
# The parts against their stock tools: 5.0 / 4.0 s and 2.0 / 8.0 s.
t "the address and ipset parts of the cold start against ip -b and ipset restore" sh -c "
	grep -q '^10000x5,kipvs addresses part of the cold start,s,5.000,1,,1.25$' '$tmp/sum.csv' &&
	grep -q '^10000x5,kipvs ipsets part of the cold start,s,2.000,1,,0.25$' '$tmp/sum.csv'"
t "a size without rows is reported as not run" grep -q '^50000x5 *not run' "$tmp/table"
echo '10000x5,ipvsadm -R,4,FAILED,s' >>"$tmp/raw.csv"
python3 tests/bench/table.py "$tmp/raw.csv" "$tmp/sum.csv" 10000 >"$tmp/table"
rc=$?
t "a FAILED measurement makes table.py exit 1" test "$rc" = 1
t "... and is named" grep -q '^FAILED: 10000x5 ipvsadm -R' "$tmp/table"
exit $((failed > 0))
