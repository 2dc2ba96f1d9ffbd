#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applierd-main.sh BUILDDIR):
# the real kipvs-applierd (module preload, sysctls, sandbox with exactly
# CAP_NET_ADMIN) driven by tests/helpers/pa_client over its planner link.
# Every op kind applied, re-applied without a kernel write (no ipset
# netlink message in strace either), removed; the
# dump's chain records matching the last replace, and not after a change
# from outside; op k of N failing alone; each policy rejection with the
# kernel unchanged; mass deletion refused, then accepted when confirmed
# after the hold-off; the xtables lock held elsewhere; the audit log under
# kill -9 between and inside batches; 10,000 VS x 5 RS in one batch;
# cleanup sparing foreign objects.
# TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
. tests/vm/guest/applier-lib.sh

foreign_objects
foreign_ipvs=$(ipvs)

# No drift-check dump while the ipset requests are counted.
FLAGS=(--user 65533:65533 --log-level info --xtables-wait-ms 300
    --mass-delete-min 5 --mass-delete-holdoff-ms 4000
    --apiserver-address 10.96.0.250 --ipvs-exclude-cidrs 10.250.0.0/16
    --drift-check-ms 600000)

echo 1..32
start 1
st=/proc/$DPID/status
grep -q '^CapEff:[[:space:]]*0000000000001000$' "$st" &&
    grep -q '^CapBnd:[[:space:]]*0000000000001000$' "$st" &&
    grep -q '^Seccomp:[[:space:]]*2$' "$st"
ok $? "the daemon holds exactly CAP_NET_ADMIN under seccomp ($(grep CapEff "$st"))"
[[ $(cat /proc/sys/net/ipv4/vs/conntrack) == 1 &&
   $(cat /proc/sys/net/ipv4/vs/expire_nodest_conn) == 1 &&
   $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]] &&
    grep -q '^ip_vs_rr ' /proc/modules && grep -q '^xt_set ' /proc/modules
ok $? "start-up: kube-proxy's sysctls set, allow-listed modules loaded"

every_op_kind

ipset_count_start
batch "${ALL[@]}" dump; count_ops
ipset_count_stop; nl_first=$nl_count
summary | diag
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last"
ok $? "every op kind applied: $(summary)"
ipvs >"$tmp/ipvs1"
diag <"$tmp/ipvs1"
grep -qx -- '-A -t 10.96.0.1:443 -s rr' "$tmp/ipvs1" &&
    grep -qx -- '-a -t 10.96.0.1:443 -r 10.244.2.5:6443 -m -w 1' "$tmp/ipvs1" &&
    grep -qx -- '-A -u 10.96.0.10:53 -s sh -p 10800' "$tmp/ipvs1" &&
    grep -qx -- '-A -t 10.96.0.10:80 -s mh -b mh-port' "$tmp/ipvs1" &&
    grep -qx -- '-A -t 192.0.2.10:30080 -s rr' "$tmp/ipvs1"
ok $? "ipvsadm -Sn shows the services (persistence, mh-port) and real servers"
ip -d link show kube-ipvs0 | grep -q 'dummy' &&
    [[ $(ip -4 -o addr show dev kube-ipvs0 | awk '{print $4}' | sort | tr '\n' ' ') == "10.96.0.1/32 10.96.0.10/32 " ]]
ok $? "kube-ipvs0 is a dummy with the two /32 addresses"
ipset save | grep -q '^add KUBE-CLUSTER-IP 10.96.0.1,tcp:443$' &&
    ipset save | grep -q '^add KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.9,tcp:80,198.51.100.0/24$' &&
    ! ipset list -n | grep -q KIPVS-RELOAD-TMP
ok $? "ipset members added and the reload swapped in"
iptables-legacy-save -t nat | grep -q -- '-A KUBE-SERVICES .*KUBE-CLUSTER-IP' &&
    iptables-legacy-save -t nat | grep -q -- '-A PREROUTING .*-j KUBE-SERVICES' &&
    iptables-legacy-save -t filter | grep -q -- '-A KUBE-IPVS-OUT-FILTER -s 203.0.113.9/32 -m ipvs'
ok $? "iptables chains, jumps and the drop-VIP rule are in the kernel"
grep -q '^rec rs tcp 10.96.0.1:443 -> 10.244.1.5:6443 weight 1 active 0' "$tmp/out.1" &&
    grep -q '^rec addr kube-ipvs0 10.96.0.10/32' "$tmp/out.1" &&
    grep -q '^rec addr eth9 192.0.2.10/32' "$tmp/out.1" &&
    grep -q '^rec member KUBE-NODE-PORT-TCP 30080' "$tmp/out.1" &&
    grep -q '^rec chain 4 nat KUBE-SERVICES rules' "$tmp/out.1" &&
    ! grep -q '^rec vs tcp 203.0.113.5:80' "$tmp/out.1"
ok $? "the dump has RS with counts, addresses by interface, members, chains; no foreign VS"

# The chain records' "matches": the kernel's chain against the template of
# what this applier last wrote there.  After the replaces above all 11
# match; a rule added from outside makes that one chain differ.
last_dump() { awk '/^dump [0-9]* begin/{b=""} {b=b $0 "\n"} END{printf "%s", b}' "$tmp/out.$run"; }
last_dump | grep '^rec chain 4 ' >"$tmp/chains1"
[[ $(grep -c ' matches 1$' "$tmp/chains1") == 11 ]]
ok $? "dump after the chain replaces: all 11 chains match their templates" ||
    diag <"$tmp/chains1"
iptables-legacy -t nat -A KUBE-SERVICES -j RETURN
batch dump; count_ops
last_dump | grep '^rec chain 4 ' >"$tmp/chains2"
iptables-legacy -t nat -D KUBE-SERVICES -j RETURN
batch dump; count_ops
last_dump | grep '^rec chain 4 ' >"$tmp/chains3"
grep -q '^rec chain 4 nat KUBE-SERVICES rules [0-9]* matches 0$' "$tmp/chains2" &&
    [[ $(grep -c ' matches 1$' "$tmp/chains2") == 10 ]] &&
    [[ $(grep -c ' matches 1$' "$tmp/chains3") == 11 ]]
ok $? "a rule added from outside: KUBE-SERVICES alone reported as not matching; matching again once removed" ||
    diag <"$tmp/chains2"

# Re-apply: no kernel write of any kind.  The daemon's ipset netlink
# messages are counted with strace (not by the daemon itself); the first
# batch's count shows the counter sees them.
kstate >"$tmp/kstate-before"
ipset_count_start
batch "${ALL[@]}"; count_ops
ipset_count_stop; nl_again=$nl_count
kstate >"$tmp/kstate-after"
nlines=$(grep -c '^result' "$tmp/last")
nun=$(grep -c '^result [0-9]* ok 0 unchanged$' "$tmp/last")
grep 'batch 4:' "$tmp/err.1" | diag
grep -v ' ok 0 unchanged$' "$tmp/last" | diag
diff "$tmp/kstate-before" "$tmp/kstate-after" | diag
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" &&
    grep -q 'batch 4: .*(0 changed), 0 table commits, 0 ipset writes' "$tmp/err.1" &&
    cmp -s "$tmp/kstate-before" "$tmp/kstate-after"
ok $? "re-applied: all ok, 0 IPVS writes, 0 table commits, 0 ipset writes, kernel unchanged ($nun of $nlines unchanged)"
[[ $nl_again == 0 && $nl_first -gt 20 && $nun == "$nlines" ]] ||
    { diag <"$tmp/strace.err"; false; }
ok $? "ipset netlink messages sent by the daemon (strace): $nl_first for the first apply, $nl_again for the re-apply; every result \"unchanged\""

batch "rs 10.96.0.1 tcp 443 10.244.3.1 80 1" "rs 10.96.0.1 tcp 443 10.244.3.2 80 1" \
    "rs 10.96.0.1 tcp 9999 10.244.3.3 80 1" "rs 10.96.0.1 tcp 443 10.244.3.4 80 1" \
    "rs 10.96.0.1 tcp 443 10.244.3.5 80 1"; count_ops
diag <"$tmp/last"
[[ $(grep -c ' ok 0' "$tmp/last") == 4 ]] && grep -q ' failed 3 ' "$tmp/last" &&
    [[ $(ipvsadm -Sn | grep -c -- '-r 10.244.3.') == 4 ]]
ok $? "op 3 of 5 fails with ESRCH alone; the other 4 are applied"

# Removal of each kind that has a delete (virtual servers are removed by
# the mass-deletion steps below): weight, real servers, an address, a set
# member; the address comes back so the services on it stay owned.
batch "rsweight 10.96.0.1 tcp 443 10.244.1.5 6443 0" \
    "rsdel 10.96.0.1 tcp 443 10.244.3.1 80 1" \
    "rsdel 10.96.0.1 tcp 443 10.244.3.2 80 1" \
    "rsdel 10.96.0.1 tcp 443 10.244.3.4 80 1" \
    "rsdel 10.96.0.1 tcp 443 10.244.3.5 80 1" \
    "memberdel KUBE-NODE-PORT-TCP 30080" "addrdel 10.96.0.10"; count_ops
diag <"$tmp/last"
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" &&
    [[ $(ipvsadm -Sn | grep -c -- '-r 10.244.3.') == 0 ]] &&
    ipvsadm -Sn | grep -qx -- '-a -t 10.96.0.1:443 -r 10.244.1.5:6443 -m -w 0' &&
    ! ipset save | grep -q '^add KUBE-NODE-PORT-TCP 30080$' &&
    ! ip -o addr show dev kube-ipvs0 | grep -q ' 10.96.0.10/32'
ok $? "removed: weight 0, four real servers, a set member, an address"
batch "addr 10.96.0.10" "rsweight 10.96.0.1 tcp 443 10.244.1.5 6443 1"
count_ops
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" &&
    ip -o addr show dev kube-ipvs0 | grep -q ' 10.96.0.10/32'
ok $? "the address is back for the steps below"

before=$(ipvs; ip -o addr; ipset save; iptables-legacy-save | grep -v '^#')
REJ=("vs 127.0.0.1 tcp 80 rr" "vs 169.254.169.254 tcp 80 rr"
    "vs 224.0.0.1 tcp 80 rr" "vs 0.0.0.0 tcp 80 rr"
    "vs 255.255.255.255 tcp 80 rr" "vs ::ffff:a00:1 tcp 80 rr"
    "vs 10.96.0.250 tcp 443 rr" "vs 192.0.2.10 tcp 8080 rr"
    "vs 10.96.0.1 tcp 0 rr" "vs 10.96.0.1 tcp 444 foo"
    "vs 10.96.0.1 tcp 445 rr persistent 0"
    "vs 10.96.0.1 tcp 446 rr persistent 86401"
    "vs 10.250.0.1 tcp 80 rr" "vs 203.0.113.77 tcp 80 rr"
    "vsdel 203.0.113.5 tcp 80" "vsdel 192.0.2.10 tcp 8080"
    "rs 203.0.113.5 tcp 80 10.244.9.9 80 1"
    "rs 10.96.0.1 tcp 443 127.0.0.1 80 1"
    "addr 192.0.2.10" "addr 127.0.0.2" "addr 10.96.0.250")
batch "${REJ[@]}"; count_ops
diag <"$tmp/last"
after=$(ipvs; ip -o addr; ipset save; iptables-legacy-save | grep -v '^#')
[[ $(grep -c ' rejected ' "$tmp/last") == ${#REJ[@]} ]]
ok $? "each of the ${#REJ[@]} policy violations is rejected"
[[ $before == "$after" ]]
ok $? "the kernel is unchanged by the rejected batch"
tail -n ${#REJ[@]} "$A" | grep -c '"text":"rejected: ' | grep -qx ${#REJ[@]}
ok $? "each rejection is audited"

DEL=("vsdel 10.96.0.1 tcp 443" "vsdel 10.96.0.10 udp 53"
    "vsdel 10.96.0.10 tcp 80" "vsdel 192.0.2.10 tcp 30080")
# The refused batch and a confirmed one right behind it: pa_client sends
# the second as soon as the first is answered, well within the hold-off
# however slow this machine is.
wait_sums() {
	for _ in $(seq 1800); do
		[[ $(grep -c '^summary' "$tmp/out.$run") -ge $1 ]] && break
		sleep 0.1
	done
}
{ echo begin; printf '%s\n' "${DEL[@]}"; echo end
  echo begin confirmed; printf '%s\n' "${DEL[@]}"; echo end; } >&9
sums=$((sums + 2)); wait_sums $sums
ops_sent=$((ops_sent + 2 * ${#DEL[@]}))
grep '^summary' "$tmp/out.1" | tail -n2 >"$tmp/sum2"
diag <"$tmp/sum2"
head -n1 "$tmp/sum2" | grep -q "rejected=${#DEL[@]}" &&
    [[ $(grep -c 'rejected 125 mass deletion .*confirm after the hold-off' "$tmp/out.1") == "${#DEL[@]}" ]] &&
    [[ $(ipvsadm -Sn | grep -c '^-A') == 6 ]]
ok $? "a mass deletion is refused"
tail -n1 "$tmp/sum2" | grep -q "rejected=${#DEL[@]}" &&
    [[ $(grep -c 'rejected 125 mass deletion .*hold-off not over' "$tmp/out.1") == "${#DEL[@]}" ]]
ok $? "confirmed before the hold-off: still refused"
sleep 4.1
echo begin confirmed >&9
printf '%s\n' "${DEL[@]}" end >&9
sums=$((sums + 1)); wait_sums $sums
ops_sent=$((ops_sent + ${#DEL[@]}))
grep '^summary' "$tmp/out.1" | tail -n1 | grep -q "ok=${#DEL[@]}" &&
    [[ $(ipvs) == "$foreign_ipvs" ]]
ok $? "confirmed after the hold-off: deleted; only the foreign services remain"

# The xtables lock held by another process (this shell) past the wait.
exec 8>>"$L"
flock -x 8
batch "chain 4 nat/KUBE-SERVICES cidr 10.244.0.0/16 $NE"; count_ops
diag <"$tmp/last"
grep -q ' failed 110 xtables lock still held by another process after 300 ms' "$tmp/last" &&
    kill -0 "$DPID"
ok $? "lock held elsewhere: the chain op fails with ETIMEDOUT, daemon alive"
flock -u 8; exec 8>&-
batch "chain 4 nat/KUBE-SERVICES cidr 10.244.0.0/16 $NE"; count_ops
grep -q ' failed=0 rejected=0' "$tmp/last"
ok $? "lock free again: the same op succeeds with exactly CAP_NET_ADMIN"

# kill -9 between batches: the log holds whole lines only, one result
# record per op and one intent record per batch.
kill -9 "$DPID"; exec 9>&-; wait "$PCPID" 2>/dev/null
audit_check >"$tmp/audit1" 2>"$tmp/pyerr"
rc=$?
diag <"$tmp/pyerr"
[[ $rc == 0 ]] && head -n1 "$tmp/audit1" | grep -qx "results $ops_sent intents $sums channels 0" &&
    ! grep '^batch' "$tmp/audit1" | awk '$4 != $6' | grep -q .
ok $? "after kill -9 between batches: $(head -n1 "$tmp/audit1") (ops $ops_sent, batches $sums); each batch's results = its intent's op count"

# 10,000 VS x 5 RS in one batch.
echo "# $(date +%T) scale test starts"
QUIET=-q start 2
echo "# $(date +%T) daemon 2 up (pid $DPID)"
t0=$(date +%s.%N)
batch "scale 10000 5"; count_ops
t1=$(date +%s.%N)
summary | diag
grep -q 'ops 60101 ok=60101 failed=0 rejected=0 blocked=0' "$tmp/last"
ok $? "60,101 ops (10,000 VS, 50,000 RS) all reported ok ($(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s)"
grep 'batch 1:' "$tmp/err.2" | diag
awk 'BEGIN { for (i = 0; i < 10000; i++) {
	ip = sprintf("10.200.%d.%d", int(i / 100 / 250), (int(i / 100) % 250) + 1)
	vs = sprintf("%s:%d", ip, 1000 + i % 100)
	print "-A -t " vs " -s rr"
	for (j = 0; j < 5; j++)
		printf "-a -t %s -r 10.244.%d.%d:%d -m -w 1\n", vs, j + 1, i % 250 + 1, 8000 + int(i / 250)
} }' | LC_ALL=C sort >"$tmp/want"
ipvs | grep -v -e 203.0.113.5 -e 192.0.2.10:8080 >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got"
ok $? "ipvsadm -Sn equals the request ($(wc -l <"$tmp/got") lines)"

# Kinds interleaved as the planner sends them (an address, its virtual
# server and real server, its set members, the next Service ...): the
# applier runs them kind by kind, and within one set the batch's order
# holds (added then deleted stays deleted; deleted then added stays).
batch link "set KUBE-CLUSTER-IP" "set KUBE-IPVS-IPS" \
    "addr 10.96.5.1" "vs 10.96.5.1 tcp 80 rr" "rs 10.96.5.1 tcp 80 10.244.5.1 80 1" \
    "member KUBE-CLUSTER-IP 10.96.5.1,tcp:80" "member KUBE-IPVS-IPS 10.96.5.1" \
    "addr 10.96.5.2" "vs 10.96.5.2 tcp 80 rr" "rs 10.96.5.2 tcp 80 10.244.5.2 80 1" \
    "member KUBE-CLUSTER-IP 10.96.5.2,tcp:80" "memberdel KUBE-CLUSTER-IP 10.96.5.2,tcp:80" \
    "memberdel KUBE-IPVS-IPS 10.96.5.2" "member KUBE-IPVS-IPS 10.96.5.2"
count_ops
diag <"$tmp/last"
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" &&
    ipvs | grep -qx -- '-a -t 10.96.5.1:80 -r 10.244.5.1:80 -m -w 1' &&
    ipvs | grep -qx -- '-a -t 10.96.5.2:80 -r 10.244.5.2:80 -m -w 1' &&
    [[ $(ip -4 -o addr show dev kube-ipvs0 | grep -c ' 10\.96\.5\.[12]/32') == 2 ]] &&
    ipset save | grep -qx 'add KUBE-CLUSTER-IP 10.96.5.1,tcp:80' &&
    ! ipset save | grep -q '^add KUBE-CLUSTER-IP 10.96.5.2,tcp:80$' &&
    [[ $(ipset save | grep -c '^add KUBE-IPVS-IPS 10\.96\.5\.[12]$') == 2 ]]
ok $? "interleaved kinds: all applied; one set's add/delete order kept" ||
    { ipvs | grep 10.96.5; ipset save | grep 10.96.5; } | diag
exec 9>&-; wait "$PCPID" 2>/dev/null

# kill -9 inside a batch: its intent record is in the log, its results
# are not (they are written once the batch has run), and what it applied
# is covered by the intent's op count.
from=$(($(wc -l <"$A") + 1))
QUIET=-q start 3
{ echo begin; echo "scale 10000 6"; echo end; } >&9
# The real servers go in service order: the first service's new one
# appears early in the batch.
for _ in $(seq 1200); do
	ipvsadm -Ln -t 10.200.0.1:1000 2>/dev/null | grep -q '10\.244\.6\.1:8000' && break
	sleep 0.05
done
kill -9 "$DPID"; exec 9>&-; wait "$PCPID" 2>/dev/null
audit_check "$from" >"$tmp/audit3" 2>"$tmp/pyerr"
rc=$?
diag <"$tmp/pyerr" ; diag <"$tmp/audit3"
# 10.244.6.x as /proc/net/ip_vs prints it (faster than ipvsadm -Sn).
applied=$(grep -c -- '-> 0AF406' /proc/net/ip_vs)
[[ $rc == 0 ]] && grep -qx 'batch 1 results 0 intent-ops 70101' "$tmp/audit3" &&
    ((applied > 0))
ok $? "after kill -9 inside a batch: its intent record (70,101 ops) and no result; the $applied of 10,000 new real servers it applied are covered by the intent"

# Cleanup: only what kipvs owns goes.
"$D" --user 65533:65533 --cleanup 5>>"$A" 6<>"$L" 2>"$tmp/cleanup.err"
rc=$?
diag <"$tmp/cleanup.err"
ok $rc "kipvs-applierd --cleanup exits 0"
[[ $(ipvs) == "$foreign_ipvs" ]]
ok $? "cleanup: only the foreign IPVS services remain"
# Outputs captured first: grep -q ending a pipe early would fail it
# (pipefail) with SIGPIPE.
sets=$(ipset list -n) ipt=$(iptables-legacy-save)
! ip link show kube-ipvs0 >/dev/null 2>&1 &&
    ! grep -vx KUBE-FOREIGN <<<"$sets" | grep -q '^KUBE-' &&
    ! grep -v KUBE-FIREWALL <<<"$ipt" | grep -q KUBE-
ok $? "cleanup: kube-ipvs0, the KUBE sets, chains and jump rules are gone"
grep -qx FOREIGN-SET <<<"$sets" && grep -qx KUBE-FOREIGN <<<"$sets" &&
    grep -q -- '-A INPUT -j FOREIGN-CHAIN' <<<"$ipt" &&
    grep -q -- '-A OUTPUT -j KUBE-FIREWALL' <<<"$ipt" &&
    [[ $(ip -o addr show dev eth9) == *192.0.2.10/24* ]]
ok $? "cleanup: the foreign set, chain, jump and address survive"

((failed == 0))
