#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-cleanup.sh BUILDDIR):
# `kipvs cleanup` through the parent, which runs kipvs-applierd in its
# one-shot cleanup mode.  Objects other agents made with the stock tools
# before (IPVS services, one on a node address and one on an excluded
# kube-ipvs0 address; KUBE-looking and other chains, sets, a jump rule;
# addresses) survive; everything kipvs owns is gone; the exit status and
# the output say what happened, also when the xtables lock is held
# elsewhere; a second run finds nothing and succeeds.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
FLAGS=(--user 65533:65533 --ipvs-exclude-cidrs 10.250.0.0/16
    --drift-check-ms 600000)
. tests/vm/guest/applier-lib.sh
K=$PWD/$B/kipvs
cleanup() {
	"$K" --libexec-dir "$PWD/$B" --applier-user 65533:65533 \
	    --audit-log "$A" --xtables-lock "$L" \
	    --ipvs-exclude-cidrs 10.250.0.0/16 "$@" cleanup
}
echo 1..9

foreign_objects
foreign() {
	ipvs | grep -e 203.0.113.5 -e 192.0.2.10:8080 -e 10.250.0.1
	ipset list -n | grep -v '^KUBE-\(6-\)\?[A-Z-]*$' ; ipset list -n | grep -x KUBE-FOREIGN
	iptables-legacy-save | grep -e FOREIGN -e KUBE-FIREWALL | sed 's/\[[0-9]*:[0-9]*\]//'
	ip6tables-legacy-save | grep CANARY | sed 's/\[[0-9]*:[0-9]*\]//'
	ip -o addr show dev eth9 | sed 's/ tentative//'
}

# What kipvs owns, made by the applier itself.
start 1
batch link "addr 10.96.0.1" "addr 10.96.0.10" "vs 10.96.0.1 tcp 443 rr" \
    "rs 10.96.0.1 tcp 443 10.244.1.5 6443 1" "vs 10.96.0.10 udp 53 rr" \
    "vs 192.0.2.10 tcp 30080 rr" "rs 192.0.2.10 tcp 30080 10.244.1.8 8080 1" \
    "set KUBE-CLUSTER-IP" "member KUBE-CLUSTER-IP 10.96.0.1,tcp:443" \
    "set KUBE-NODE-PORT-TCP" "member KUBE-NODE-PORT-TCP 30080" \
    "chain 4 nat/KUBE-SERVICES nonempty KUBE-CLUSTER-IP" \
    "chain 4 nat/KUBE-POSTROUTING" "chain 4 nat/KUBE-MARK-MASQ" \
    "chain 4 filter/KUBE-FORWARD" "chain 6 nat/KUBE-SERVICES"
exec 9>&-; wait "$PCPID" 2>/dev/null
# A service an admin put on an excluded address of kube-ipvs0.
ip addr add 10.250.0.1/32 dev kube-ipvs0
ipvsadm -A -t 10.250.0.1:80 -s rr
# Outputs captured first: grep -q ending a pipe early would fail it
# (pipefail) with SIGPIPE.
ipt=$(iptables-legacy-save -t nat) ip6t=$(ip6tables-legacy-save -t nat)
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" &&
    [[ $(ipvsadm -Sn | grep -c '^-A') == 6 ]] &&
    grep -q -- '-A PREROUTING .*-j KUBE-SERVICES' <<<"$ipt" &&
    grep -q -- ':KUBE-SERVICES' <<<"$ip6t"
ok $? "set-up: kipvs's objects next to the foreign ones ($(summary))"
foreign >"$tmp/f0"
diag <"$tmp/f0"

# The xtables lock held elsewhere: the chains cannot go, and the sets
# they use cannot either; said so, exit 1.
# This shell holds it (on fd 8, not passed on).
exec 8>>"$L"
flock -x 8
from=$(($(wc -l <"$A") + 1))
cleanup --xtables-wait-ms 300 8>&- >"$tmp/c1.out" 2>&1
rc=$?
flock -u 8; exec 8>&-
diag <"$tmp/c1.out"
[[ $rc == 1 ]] && grep -q 'xtables lock still held by another process after 300 ms' "$tmp/c1.out" &&
    grep -q 'cleanup incomplete' "$tmp/c1.out"
ok $? "lock held elsewhere: exit status $rc, the failure and \"cleanup incomplete\" on stderr"
[[ $(ipvsadm -Sn | grep -c '^-A') == 3 ]] && foreign | cmp -s - "$tmp/f0"
ok $? "... the owned virtual servers are gone all the same; foreign objects untouched"

from=$(($(wc -l <"$A") + 1))
t0=$(date +%s.%N)
cleanup >"$tmp/c2.out" 2>&1
rc=$?
t1=$(date +%s.%N)
diag <"$tmp/c2.out"
[[ $rc == 0 ]] && grep -q 'cleanup done: 0 virtual servers, the KUBE chains and jump rules, the KUBE sets and kube-ipvs0 removed; nothing else touched' "$tmp/c2.out" &&
    ! grep -qi 'warn\|error' "$tmp/c2.out"
ok $? "kipvs cleanup: exit 0, one clear line ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s)"
ipvs >"$tmp/ipvs"
[[ $(grep -c '^-A' "$tmp/ipvs") == 3 ]] && grep -qx -- '-A -t 203.0.113.5:80 -s rr' "$tmp/ipvs" &&
    grep -qx -- '-A -t 192.0.2.10:8080 -s rr' "$tmp/ipvs" && grep -qx -- '-A -t 10.250.0.1:80 -s rr' "$tmp/ipvs"
ok $? "IPVS: only the foreign services remain (node address off the NodePort range, excluded CIDR, other address)" ||
    diag <"$tmp/ipvs"
sets=$(ipset list -n) ipt=$(iptables-legacy-save) ip6t=$(ip6tables-legacy-save)
! ip link show kube-ipvs0 >/dev/null 2>&1 &&
    ! grep -v -x KUBE-FOREIGN <<<"$sets" | grep -q '^KUBE-' &&
    ! grep -v KUBE-FIREWALL <<<"$ipt" | grep -q 'KUBE-' &&
    ! grep -v CANARY <<<"$ip6t" | grep -q 'KUBE-'
ok $? "kube-ipvs0, the KUBE sets, both families' chains and jump rules are gone"
foreign | cmp -s - "$tmp/f0"
ok $? "foreign services, sets (KUBE-FOREIGN too), chains (KUBE-FIREWALL, the IPv6 canary), jumps and addresses survive" ||
    foreign | diff "$tmp/f0" - | diag
audit_check "$from" >"$tmp/a2" 2>"$tmp/pyerr"
rc=$?
diag <"$tmp/pyerr"
recs=$(tail -n +"$from" "$A")
[[ $rc == 0 ]] && grep -q '^results [1-9][0-9]* intents 1 channels 0$' "$tmp/a2" &&
    [[ ${recs%%$'\n'*} == *'"record":"intent"'*'"op":"cleanup"'* ]] &&
    ! grep '"record":"result"' <<<"$recs" | grep -vq '"errno":0,'
ok $? "audit: the cleanup's intent record first, then its results, all ok ($(head -n1 "$tmp/a2"))"

cleanup >"$tmp/c3.out" 2>&1
rc=$?
diag <"$tmp/c3.out"
[[ $rc == 0 ]] && grep -q 'cleanup done: 0 virtual servers' "$tmp/c3.out" &&
    foreign | cmp -s - "$tmp/f0"
ok $? "a second cleanup finds nothing, exits 0 and still spares the foreign objects"

((failed == 0))
