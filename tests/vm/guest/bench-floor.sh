#!/usr/bin/env bash
# Guest side of tests/vm/15-bench-floor.t.  The benchmark's raw floor
# program must program exactly the table it claims, since every kipvs
# ratio is measured against it: 1,000 x 5 added in batches equals the same
# table loaded by ipvsadm -R, deleting it leaves IPVS empty, and the table
# of an ipvsadm -Sn file (-f, what make bench uses) equals ipvsadm -R of
# that file.  Then the kipvs rows of make bench on the 100-service
# workload in $KIPVS_BENCH_WORK (tests/bench/guest-kipvs.sh, which itself
# fails unless the kernel equals kipvs-render): every row present once and
# numeric, an endpoint change is at most 3 kernel writes, and nothing is
# sent to the kernel outside drift checks while idle.
set -uo pipefail
b=${KIPVS_BUILD:-build}
floor=$b/tests/bench/ipvs_floor
work=${KIPVS_BENCH_WORK:-}
tmp=$(mktemp -d)
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
echo "1..16"
"$floor" ipvsadm -n 1000 -m 5 >"$tmp/rules"
t "reference table has 6,000 lines" test "$(wc -l <"$tmp/rules")" = 6000
ipvsadm -R <"$tmp/rules"
ipvsadm -Sn | sort >"$tmp/want"
ipvsadm -C
out=$("$floor" add -n 1000 -m 5 -b 256)
echo "# floor: $out"
t "6,000 operations, no error" test "$out" != "${out/ops=6000 errors=0/}"
ipvsadm -Sn | sort >"$tmp/got"
t "floor table equals ipvsadm -R's" cmp -s "$tmp/want" "$tmp/got"
t "1,000 virtual servers listed" test "$(grep -c '^-A' "$tmp/got")" = 1000
out=$("$floor" del -n 1000 -m 5 -b 256)
echo "# floor: $out"
t "delete: 1,000 operations, no error" \
	test "$out" != "${out/ops=1000 errors=0/}"
t "IPVS empty afterwards" test -z "$(ipvsadm -Sn)"

# -f: the rendered workload table.
sort "$work/ipvs" >"$tmp/want.f"
out=$("$floor" add -f "$work/ipvs" -b 64)
echo "# floor -f: $out"
t "floor -f: $(wc -l <"$work/ipvs") operations, no error" \
	test "$out" != "${out/ops=$(wc -l <"$work/ipvs") errors=0/}"
ipvsadm -Sn | sort >"$tmp/got.f"
t "floor -f table equals the file" cmp -s "$tmp/want.f" "$tmp/got.f"
"$floor" del -f "$work/ipvs" >/dev/null
t "floor -f del leaves IPVS empty" test -z "$(ipvsadm -Sn)"

# The kipvs rows.
ipset create kipvs-warmup hash:ip,port && ipset destroy kipvs-warmup
KIPVS_BENCH_CHANGE_REPS=1 KIPVS_BENCH_IDLE_S=10 KIPVS_BENCH_START_TIMEOUT=240 \
    unshare -n bash tests/bench/guest-kipvs.sh "$work" 100x5 1 change idle \
    >"$tmp/rows" 2>&1
rc=$?
sed 's/^/# /' "$tmp/rows"
t "guest-kipvs.sh: kernel == kipvs-render, exit 0" test "$rc" = 0
row() { awk -F, -v m="$1" '$1 == "100x5" && $2 == m { print $4 }' "$tmp/rows"; }
num() { [[ $(row "$1") =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
t "cold start and time-to-first rows are numbers" \
	bash -c "$(declare -f row num); tmp=$tmp; num 'kipvs cold start' &&
	num 'kipvs first default/kubernetes' && num 'kipvs first masquerade rules'"
t "the IPVS, address and ipset parts of the cold start (the applier's own timing) are numbers > 0, together <= the cold start" \
	bash -c "$(declare -f row num); tmp=$tmp; num 'kipvs IPVS part of the cold start' &&
	num 'kipvs addresses part of the cold start' && num 'kipvs ipsets part of the cold start' &&
	awk -v p=\"\$(row 'kipvs IPVS part of the cold start')\" \
	    -v a=\"\$(row 'kipvs addresses part of the cold start')\" \
	    -v s=\"\$(row 'kipvs ipsets part of the cold start')\" -v c=\"\$(row 'kipvs cold start')\" \
	    'BEGIN { exit !(p > 0 && a > 0 && s > 0 && p + a + s <= c) }'"
t "memory rows for the four processes and the total" test \
	"$(grep -cE '^100x5,RSS Vm(HWM|RSS) (kipvs|watcherd|planner|applierd|total),1,[0-9.]+,MB$' "$tmp/rows")" = 10
t "endpoint add and remove: at most 3 kernel writes each" bash -c "
	$(declare -f row); tmp=$tmp
	a=\$(row 'change endpoint add: kernel ops'); r=\$(row 'change endpoint remove: kernel ops')
	[ -n \"\$a\" ] && [ -n \"\$r\" ] && [ \"\$a\" -le 3 ] && [ \"\$r\" -le 3 ]"
t "netlink requests counted for the changes" \
	bash -c "$(declare -f row num); tmp=$tmp; num 'change endpoint add: netlink requests'"
t "idle: no netlink request outside drift checks" \
	test "$(row 'idle 10 s: netlink requests outside drift checks')" = 0
