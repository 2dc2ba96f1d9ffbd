#!/usr/bin/env bash
# The netfilter test harness itself: a test re-executed through
# tests/lib/netns.sh runs in a private network namespace, where it can
# create ipsets, legacy iptables chains and veth links that the machine's
# own namespace never sees.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
netns_enter "$0" "$@"

n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
echo "1..7"
t "network namespace differs from the one the test started in" \
	test "$(stat -Lc %i /proc/self/ns/net)" != "$KIPVS_OUTER_NETNS"
t "loopback is up" bash -c "ip -o link show lo | grep -q 'UP'"
t "ipset create hash:ip,port" ipset create KUBE-CLUSTER-IP hash:ip,port
t "ipset add and save show the member" bash -c \
	"ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443 &&
	 ipset save KUBE-CLUSTER-IP | grep -qx 'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443'"
t "iptables-legacy nat chain and rule" bash -c \
	"iptables-legacy -w -t nat -N KUBE-SERVICES &&
	 iptables-legacy -w -t nat -A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT &&
	 iptables-legacy-save -t nat | grep -q -- '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'"
t "veth pair" bash -c "ip link add kv0 type veth peer name kv1 && ip -o link show kv1 >/dev/null"
# The namespace is gone with this process: nothing to clean up, but check
# the set really is private by looking from a second fresh namespace.
t "a second namespace does not see the set" bash -c \
	"! unshare --net ipset list KUBE-CLUSTER-IP"
