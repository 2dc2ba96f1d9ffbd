#!/bin/bash
# applier_ipt against legacy x_tables, inside a throwaway network namespace:
# the spec's §6.3 iptables-save shapes, idempotence (no commit when nothing
# changed), IPv6, exactly CAP_NET_ADMIN, the xtables lock, cleanup that
# spares foreign rules.  Never touches this machine's own tables.
#
# SPDX-License-Identifier: Apache-2.0
set -u
B=${B:-build}
TOOL=$PWD/$B/tests/helpers/applier_ipt_tool

if [ ! -x "$TOOL" ]; then
	echo "1..0 # SKIP $TOOL not built (make B=$B tests)"
	exit 0
fi
# A throwaway network namespace (skips without root).
. "$(dirname "$0")/../lib/netns.sh"
netns_enter "$0" "$@"

n=0
fails=0
ok() {		# ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
diag() { sed 's/^/# /'; }
save() {	# the owned state as iptables-save prints it, tables in spec order
	{ "$1"-legacy-save -t nat; "$1"-legacy-save -t filter; } |
	    grep -v '^#' | grep -v '^:[A-Z]* ACCEPT'
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 1..17

# The spec's §6.3 example, less the KUBE-IPVS-OUT-FILTER DROP rule (the
# ipvs match is not templated yet).
cat > "$tmp/want" <<'WANT'
*nat
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN
-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ
-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN
-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER
-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m addrtype --dst-type LOCAL -j ACCEPT
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SOURCE-RANGES-FIREWALL - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-A FORWARD -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL
-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN
-A KUBE-SOURCE-RANGES-FIREWALL -j DROP
COMMIT
WANT

# 1-4: the spec's example, as iptables-legacy-save prints it.
out=$("$TOOL" -l "$tmp/xtables.lock" kube 2>&1)
ok $? "kube: chains, rules and jumps applied"
[ "$out" = "commits=2" ]; ok $? "first apply commits nat and filter once each ($out)"
save iptables > "$tmp/got"
diff -u "$tmp/want" "$tmp/got" | diag
cmp -s "$tmp/want" "$tmp/got"; ok $? "iptables-legacy-save equals the spec's §6.3 shapes"
"$TOOL" render | grep '^-A' | sort > "$tmp/render"
grep '^-A' "$tmp/got" | sort | cmp -s - "$tmp/render"
ok $? "the templates' own rendering equals the kernel's rules"

# 5-6: nothing changed -> no commit at all; foreign rules survive.
iptables-legacy -t filter -A INPUT -s 192.0.2.1/32 -j ACCEPT
iptables-legacy -t nat -N FOREIGN-CHAIN
save iptables > "$tmp/before"
out=$("$TOOL" -l "$tmp/xtables.lock" kube 2>&1)
[ "$out" = "commits=0" ]; ok $? "re-apply is a no-op without a commit ($out)"
save iptables > "$tmp/after"
cmp -s "$tmp/before" "$tmp/after"; ok $? "re-apply leaves the tables byte-identical"

# 7-8: a rule changed behind our back is repaired, only in its table.
iptables-legacy -t nat -A KUBE-MARK-MASQ -j ACCEPT
out=$("$TOOL" -l "$tmp/xtables.lock" kube 2>&1)
[ "$out" = "commits=1" ]; ok $? "tampered nat table is rewritten alone ($out)"
save iptables | cmp -s - "$tmp/before"; ok $? "after repair the state is the desired one again"

# 9-11: exactly CAP_NET_ADMIN, no CAP_NET_RAW, another uid.
"$TOOL" -l "$tmp/xtables.lock" clean > /dev/null
out=$("$TOOL" -c -l "$tmp/xtables.lock" kube 2>&1)
rc=$?
echo "$out" | diag
ok $rc "kube applied with only CAP_NET_ADMIN as uid 65534"
echo "$out" | grep -q '^CapEff:[[:space:]]*0000000000001000$'
ok $? "effective capabilities are exactly CAP_NET_ADMIN"
echo "$out" | grep -q '^raw socket: Operation not permitted$'
ok $? "raw sockets are refused to the helper (libiptc got a datagram socket)"

# 12-13: the lock held by someone else for longer than the wait.
save iptables > "$tmp/before"
iptables-legacy -t nat -A KUBE-MARK-MASQ -j ACCEPT	# something to repair
save iptables > "$tmp/tampered"
flock "$tmp/xtables.lock" sleep 3 &
holder=$!
sleep 0.3
out=$("$TOOL" -l "$tmp/xtables.lock" -w 200 kube 2>&1)
rc=$?
echo "$out" | diag
[ $rc = 3 ] && echo "$out" | grep -q 'lock still held'
ok $? "held lock: clean ETIMEDOUT failure after the wait"
save iptables | cmp -s - "$tmp/tampered"
ok $? "held lock: tables untouched"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# 14-15: cleanup removes exactly ours.
out=$("$TOOL" -l "$tmp/xtables.lock" clean 2>&1)
ok $? "clean ($out)"
save iptables > "$tmp/clean"
! grep -q 'KUBE-' "$tmp/clean" &&
    grep -q -- '-A INPUT -s 192.0.2.1/32 -j ACCEPT' "$tmp/clean" &&
    grep -q ':FOREIGN-CHAIN' "$tmp/clean"
ok $? "no KUBE- chain or jump left; foreign rule and chain intact"

# 16-17: IPv6 (ip6tables, KUBE-6-* sets).
out=$("$TOOL" -6 -l "$tmp/xtables.lock" kube 2>&1) &&
    out2=$("$TOOL" -6 -l "$tmp/xtables.lock" kube 2>&1)
[ $? = 0 ] && [ "$out" = "commits=2" ] && [ "$out2" = "commits=0" ]
ok $? "IPv6: applied, then idempotent ($out, $out2)"
"$TOOL" -6 render | grep '^-A' | sort > "$tmp/render6"
save ip6tables | grep '^-A' | sort > "$tmp/got6"
diff -u "$tmp/render6" "$tmp/got6" | diag
cmp -s "$tmp/render6" "$tmp/got6"
ok $? "IPv6: kernel rules equal the templates' rendering"

[ $fails = 0 ]
