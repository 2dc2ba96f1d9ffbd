#!/usr/bin/env bash
# The benchmark's raw floor program must program exactly the table it
# claims, since every kipvs ratio is measured against it: 1,000 x 5 added
# in batches equals the same table loaded by ipvsadm -R, and deleting it
# leaves IPVS empty.
set -uo pipefail
floor=${KIPVS_BUILD:-build}/tests/bench/ipvs_floor
tmp=$(mktemp -d)
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
echo "1..6"
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
