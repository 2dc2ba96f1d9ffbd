#!/bin/bash
# applier_ipset through libipset, inside a throwaway network namespace:
# kube-proxy's set types created with its parameters, members added and
# deleted idempotently in aggregated messages, per-member errors, listing,
# and a bulk reload through a temporary set and swap.  Compared with
# `ipset save` from the same namespace.
#
# SPDX-License-Identifier: Apache-2.0
set -u
B=${B:-build}
TOOL=$PWD/$B/tests/helpers/applier_ipset_tool

if [ ! -x "$TOOL" ]; then
	echo "1..0 # SKIP $TOOL not built (make B=$B tests)"
	exit 0
fi
# A throwaway network namespace (skips without root).
. "$(dirname "$0")/../lib/netns.sh"
netns_enter "$0" "$@"

n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
diag() { sed 's/^/# /'; }
# `ipset save` without the kernel's random initval, lines sorted.
save() {
	ipset save | sed 's/ bucketsize [0-9]* initval 0x[0-9a-f]*//' |
	    LC_ALL=C sort
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=$TOOL
echo 1..15

# 1: every kube-proxy type, with kube-proxy's create parameters.
$T ensure KUBE-CLUSTER-IP hash:ip,port inet &&
$T ensure KUBE-LOOP-BACK hash:ip,port,ip inet &&
$T ensure KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net inet &&
$T ensure KUBE-NODE-PORT-TCP bitmap:port inet &&
$T ensure KUBE-IPVS-IPS hash:ip inet &&
$T ensure KUBE-6-CLUSTER-IP hash:ip,port inet6
ok $? "ensure six sets of the five kinds, both families"

# 2: the spec's §4.2 members.
$T add KUBE-CLUSTER-IP hash:ip,port inet 10.96.0.1,tcp:443 \
    10.96.0.10,udp:53 10.96.0.10,tcp:53 10.96.100.20,tcp:80 2>/dev/null &&
$T add KUBE-LOOP-BACK hash:ip,port,ip inet 10.244.1.5,udp:53,10.244.1.5 \
    10.244.1.5,tcp:53,10.244.1.5 10.244.1.8,tcp:8080,10.244.1.8 \
    2>/dev/null &&
$T add KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net inet \
    203.0.113.10,tcp:80,198.51.100.0/24 203.0.113.10,tcp:443,192.0.2.7/32 \
    2>/dev/null &&
$T add KUBE-NODE-PORT-TCP bitmap:port inet 30080 2>/dev/null &&
$T add KUBE-IPVS-IPS hash:ip inet 10.96.0.1 10.96.0.10 2>/dev/null &&
$T add KUBE-6-CLUSTER-IP hash:ip,port inet6 fd00::a,udp:53 2>/dev/null
ok $? "add members to every set"

cat > "$tmp/want" <<'WANT'
create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-CLUSTER-IP fd00::a,udp:53
create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
add KUBE-CLUSTER-IP 10.96.0.10,tcp:53
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.96.100.20,tcp:80
create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536
add KUBE-IPVS-IPS 10.96.0.1
add KUBE-IPVS-IPS 10.96.0.10
create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.10,tcp:443,192.0.2.7
add KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.10,tcp:80,198.51.100.0/24
create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add KUBE-LOOP-BACK 10.244.1.5,tcp:53,10.244.1.5
add KUBE-LOOP-BACK 10.244.1.5,udp:53,10.244.1.5
add KUBE-LOOP-BACK 10.244.1.8,tcp:8080,10.244.1.8
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
WANT
LC_ALL=C sort -o "$tmp/want" "$tmp/want"
save > "$tmp/got"
diff -u "$tmp/want" "$tmp/got" | diag
cmp -s "$tmp/want" "$tmp/got"; ok $? "ipset save shows exactly the requested sets and members"

# 3-4: idempotence.
$T ensure KUBE-CLUSTER-IP hash:ip,port inet &&
    $T add KUBE-CLUSTER-IP hash:ip,port inet 10.96.0.1,tcp:443 2>/dev/null &&
    $T del KUBE-CLUSTER-IP hash:ip,port inet 10.1.1.1,tcp:1 2>/dev/null
ok $? "re-ensure, re-add a present member, delete a missing one: success"
save | cmp -s - "$tmp/want"; ok $? "... and the kernel state is unchanged"

# 5: listing, with the host-length net normalised to /32.
$T list KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net inet | sort > "$tmp/l"
printf '%s\n' 203.0.113.10,tcp:443,192.0.2.7/32 \
    203.0.113.10,tcp:80,198.51.100.0/24 | cmp -s - "$tmp/l"
ok $? "list returns kube-proxy's entry text (192.0.2.7/32 normalised)"
$T list KUBE-6-CLUSTER-IP hash:ip,port inet6 | grep -qx 'fd00::a,udp:53'
ok $? "list an IPv6 set"

# 7: a type clash is an error, not a silent success.
out=$($T ensure KUBE-CLUSTER-IP hash:ip inet)
[ $? != 0 ] && echo "$out" | grep -q '^error\[0\]: 17:'
ok $? "ensure with another type fails with EEXIST ($out)"

# 8-9: op k of N fails; the N-1 others are applied.
out=$($T add KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net inet \
    1.1.1.1,tcp:1,10.0.0.0/8 1.1.1.1,tcp:2,0.0.0.0/0 \
    1.1.1.1,tcp:3,10.0.0.0/8 1.1.1.1,tcp:4,10.0.0.0/8 2>/dev/null)
[ $? != 0 ] && echo "$out" | grep -q '^error\[1\]: 22:'
ok $? "member 2 of 4 rejected by the kernel is reported by index ($out)"
[ "$(ipset save KUBE-LOAD-BALANCER-SOURCE-CIDR | grep -c '^add .*1\.1\.1\.1')" = 3 ]
ok $? "the 3 valid members of that batch were applied"

# 10: deleting.
$T del KUBE-CLUSTER-IP hash:ip,port inet 10.96.0.10,udp:53 \
    10.96.0.10,tcp:53 2>/dev/null
[ "$(ipset save KUBE-CLUSTER-IP | grep -c '^add')" = 2 ]
ok $? "delete two members"

# 11-14: bulk reload through create-temp, fill, swap, destroy.
seq 1 20000 | awk '{ printf "10.%d.%d.%d,tcp:80\n", int($1/65536),
    int($1/256)%256, $1%256 }' > "$tmp/bulk"
$T reload KUBE-CLUSTER-IP hash:ip,port inet - < "$tmp/bulk" 2> "$tmp/time"
ok $? "reload 20000 members"
diag < "$tmp/time"
[ "$(ipset save KUBE-CLUSTER-IP | grep -c '^add')" = 20000 ] &&
    ! ipset save KUBE-CLUSTER-IP | grep -q '10.96.0.1,tcp:443'
ok $? "after the swap the set holds exactly the new members"
! ipset list -n | grep -q KIPVS-RELOAD-TMP
ok $? "no temporary set left behind"
ipset save KUBE-CLUSTER-IP | head -1 |
    grep -q '^create KUBE-CLUSTER-IP hash:ip,port family inet .*maxelem 65536'
ok $? "the swapped-in set has the same type, family and maxelem"

[ $fails = 0 ]
