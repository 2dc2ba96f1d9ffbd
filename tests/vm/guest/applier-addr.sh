#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-addr.sh BUILDDIR):
# applierd/applier_addr against the guest's kernel: the kube-ipvs0 dummy
# link, its /32 and /128 addresses, the local address dump.  Checked with
# `ip -d addr`.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
T=$PWD/$B/tests/helpers/applier_ipvs_tool

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
echo 1..12

modprobe dummy 2>/dev/null
# Another interface with addresses, for the NodePort address dump.
ip link add eth9 type dummy && ip addr add 192.168.1.10/24 dev eth9 &&
    ip addr add 2001:db8::10/64 dev eth9 && ip link set eth9 up

out=$("$T" link) ; rc=$?
[[ $rc == 0 && $out == created=1* ]]; ok $? "kube-ipvs0 created ($out)"
out=$("$T" link) ; rc=$?
[[ $rc == 0 && $out == created=0* ]]; ok $? "ensure again: found, not recreated ($out)"
s=$(ip -d link show kube-ipvs0)
echo "$s" | diag
grep -Eq '^ +dummy( |$)' <<<"$s" && grep -q 'state DOWN' <<<"$s" &&
    ! grep -q '[<,]UP[,>]' <<<"$s"
ok $? "it is a dummy link, left down"

"$T" addr add 10.96.0.1 10.96.0.10 203.0.113.10 fd00::a fd00::1:b
ok $? "add three /32 and two /128"
"$T" addr add 10.96.0.1 fd00::a; ok $? "adding present addresses again is success"
s=$(ip -d addr show kube-ipvs0)
echo "$s" | diag
[[ $(grep -Ec 'inet 10\.96\.0\.1/32 scope global kube-ipvs0|inet 10\.96\.0\.10/32 scope global kube-ipvs0|inet 203\.0\.113\.10/32 scope global kube-ipvs0' <<<"$s") == 3 &&
    $(grep -Ec 'inet6 fd00::(a|1:b)/128 scope global' <<<"$s") == 2 ]]
ok $? "ip -d addr shows exactly the five host addresses, scope global"
ip route show table local | grep -q 'local 10.96.0.10 dev kube-ipvs0'
ok $? "the kernel made them local (local route on kube-ipvs0)"

"$T" addr del 10.96.0.10 fd00::1:b && "$T" addr del 10.96.0.10 10.9.9.9
ok $? "delete two; deleting missing ones is success"
[[ $(ip addr show kube-ipvs0 | grep -c 'inet') == 3 ]]; ok $? "three addresses remain"

"$T" addrs > /tmp/addrs.$$
diag < /tmp/addrs.$$
grep -qx 'eth9 192.168.1.10/24' /tmp/addrs.$$ && grep -qx 'eth9 2001:db8::10/64' /tmp/addrs.$$ &&
    grep -qx 'lo 127.0.0.1/8' /tmp/addrs.$$ && grep -qx 'kube-ipvs0 10.96.0.1/32' /tmp/addrs.$$ &&
    grep -qx 'kube-ipvs0 fd00::a/128' /tmp/addrs.$$
ok $? "the dump lists every interface's addresses by name"
rm -f /tmp/addrs.$$

"$T" unlink && ! ip link show kube-ipvs0 2>/dev/null && ip addr show eth9 | grep -q 192.168.1.10
ok $? "cleanup removes kube-ipvs0 only"

modprobe veth 2>/dev/null
ip link add kube-ipvs0 type veth peer name kube-peer0
out=$("$T" link); rc=$?
echo "$out" | diag
[[ $rc != 0 && $out == "error: 17:"* ]] && ip -d link show kube-ipvs0 | grep -q veth
ok $? "a kube-ipvs0 of another kind is EEXIST and left alone"

((failed == 0))
