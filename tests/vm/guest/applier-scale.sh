#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-scale.sh BUILDDIR
# BATCH): 10,000 virtual servers x 5 real servers (60,000 operations) sent
# by applierd/applier_ipvs with BATCH requests per sendmsg (1 = one request
# and one acknowledgement at a time, the way kube-proxy's library works) on
# a fresh kernel; the kernel state must equal the request.  BATCH=ipvsadm
# loads the same table with `ipvsadm -R` instead, as the reference.  Times
# are printed as diagnostics; nothing asserts on them.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
BATCH=${2:-256}
NSVC=${KIPVS_SCALE_SVCS:-10000}
NRS=5
T=$PWD/$B/tests/helpers/applier_ipvs_tool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
echo 1..6

modprobe ip_vs 2>/dev/null
# VS 10.96.x.y:80 -> RS 10.244.x.y:8080+k, k = 1..5
awk -v n="$NSVC" -v r="$NRS" 'BEGIN {
	for (i = 1; i <= n; i++) {
		vip = sprintf("10.96.%d.%d", int(i / 256), i % 256)
		rip = sprintf("10.244.%d.%d", int(i / 256), i % 256)
		printf "svc_add tcp %s 80 rr\n", vip
		for (k = 1; k <= r; k++)
			printf "dest_add tcp %s 80 %s %d 1\n", vip, rip, 8080 + k
	} }' > "$tmp/ops"
awk '$1 == "svc_add" { printf "-A -t %s:%s -s rr\n", $3, $4 }
    $1 == "dest_add" { printf "-a -t %s:%s -r %s:%s -m -w 1\n", $3, $4, $5, $6 }' \
    "$tmp/ops" | LC_ALL=C sort > "$tmp/want"

ops=$((NSVC * (NRS + 1)))
if [[ $BATCH == ipvsadm ]]; then
	awk '$1 == "svc_add" { printf "-A -t %s:%s -s rr\n", $3, $4 }
	    $1 == "dest_add" { printf "-a -t %s:%s -r %s:%s -m -w 1\n", $3, $4, $5, $6 }' \
	    "$tmp/ops" > "$tmp/restore"
	start=$(date +%s.%N)
	ipvsadm -R < "$tmp/restore"
	rc=$?
	echo "ipvsadm -R: ops=$ops time=$(echo "$(date +%s.%N) - $start" | bc) s" | diag
	ok $rc "reference: ipvsadm -R loads the same $ops operations"
else
	"$T" -b "$BATCH" batch < "$tmp/ops" > "$tmp/res" 2> "$tmp/err"
	rc=$?
	diag < "$tmp/err"
	[[ $rc == 0 && ! -s $tmp/res ]] && grep -q "ops=$ops failed=0 changed=$ops" "$tmp/err"
	ok $? "$ops operations ($NSVC VS x $NRS RS), $BATCH per sendmsg: every result is success"
fi
start=$(date +%s.%N)
ipvsadm -Sn | LC_ALL=C sort > "$tmp/got"
echo "ipvsadm -Sn took $(echo "$(date +%s.%N) - $start" | bc) s" | diag
cmp -s "$tmp/want" "$tmp/got"; ok $? "ipvsadm -Sn equals the request ($(wc -l < "$tmp/got") lines)"
"$T" count > "$tmp/count" 2> "$tmp/err"
diag < "$tmp/err"
[[ $(cat "$tmp/count") == "services $NSVC dests $((NSVC * NRS))" ]]
ok $? "the applier's own dump counts $NSVC services and $((NSVC * NRS)) destinations"

[[ $BATCH == ipvsadm ]] && BATCH=256
# Re-apply a slice: ensure semantics, nothing written.
head -600 "$tmp/ops" | "$T" -b "$BATCH" batch > /dev/null 2> "$tmp/err"
diag < "$tmp/err"
grep -q 'ops=600 failed=0 changed=0' "$tmp/err"; ok $? "re-applying 600 of them writes nothing"

awk '$1 == "svc_add" { print "svc_del tcp", $3, $4 }' "$tmp/ops" |
    "$T" -b "$BATCH" batch > /dev/null 2> "$tmp/err"
rc=$?
diag < "$tmp/err"
[[ $rc == 0 ]] && grep -q "ops=$NSVC failed=0 changed=$NSVC" "$tmp/err"
ok $? "deleting the $NSVC services: every result is success"
[[ -z $(ipvsadm -Sn) ]]; ok $? "the kernel is empty again"

((failed == 0))
