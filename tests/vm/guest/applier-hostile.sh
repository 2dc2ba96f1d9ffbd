#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-hostile.sh BUILDDIR):
# a compromised planner against the real kipvs-applierd in its sandbox,
# through tests/helpers/pa_client.  Each attempt is one test asserting
# that it was refused (a rejected result with its errno and reason, or
# the channel closed for a protocol violation), that the kernel is
# unchanged (ipvsadm -Sn, ipset save, iptables-legacy-save,
# ip6tables-legacy-save, ip addr, ip link compared before and after) and
# that it was audited (its record is in the log and parses).  After each
# violation the parent's way back in (a fresh socket over the control
# link) must work: the daemon stays up and keeps the kernel as it was.
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

# A long hold-off: a confirmed mass deletion is always too early here.
FLAGS=(--user 65533:65533 --log-level info --mass-delete-min 3
    --mass-delete-holdoff-ms 600000 --apiserver-address 10.96.0.250
    --drift-check-ms 600000)

POLICY=(
	"loopback VIP|vs 127.0.0.1 tcp 80 rr|1"
	"link-local VIP|vs 169.254.1.1 tcp 80 rr|1"
	"metadata VIP 169.254.169.254|vs 169.254.169.254 tcp 80 rr|1"
	"multicast VIP|vs 224.0.0.251 tcp 80 rr|1"
	"unspecified VIP|vs 0.0.0.0 tcp 80 rr|1"
	"broadcast VIP|vs 255.255.255.255 tcp 80 rr|1"
	"v4-mapped IPv6 VIP|vs ::ffff:10.96.0.1 tcp 80 rr|1"
	"the apiserver's address as a VIP|vs 10.96.0.250 tcp 443 rr|1"
	"a node address outside the NodePort range|vs 192.0.2.10 tcp 22 rr|1"
	"port 0 (a catch-all service)|vs 10.96.0.1 tcp 0 rr|22"
	"port 0 with persistence|vs 10.96.0.1 tcp 0 rr persistent 10800|22"
	"a real server on port 0|rs 10.96.0.1 tcp 443 10.244.1.9 0 1|22"
	"a real server at the metadata address|rs 10.96.0.1 tcp 443 169.254.169.254 80 1|1"
	"a scheduler not on the list|vs 10.96.0.1 tcp 444 foo|22"
	"delete a foreign IPVS service|vsdel 203.0.113.5 tcp 80|1"
	"modify a foreign IPVS service|vs 203.0.113.5 tcp 80 wrr|1"
	"add a real server to a foreign service|rs 203.0.113.5 tcp 80 10.244.1.9 80 1|1"
	"take a weight from a foreign real server|rsweight 203.0.113.5 tcp 80 192.0.2.20 80 0|1"
	"delete the foreign service on a node address|vsdel 192.0.2.10 tcp 8080|1"
	"bind a loopback address to kube-ipvs0|addr 127.0.0.2|1"
	"bind the metadata address|addr 169.254.169.254|1"
	"bind the apiserver's address|addr 10.96.0.250|1"
	"bind another link's node address|addr 192.0.2.10|1"
	"delete another link's address|addrdel 192.0.2.10|1"
	"mass deletion without confirmation|vsdel 10.96.0.1 tcp 443;vsdel 10.96.0.1 udp 53;addrdel 10.96.0.1;memberdel KUBE-CLUSTER-IP 10.96.0.1,tcp:443|125"
	"confirmed mass deletion within the hold-off|confirmed;vsdel 10.96.0.1 tcp 443;vsdel 10.96.0.1 udp 53;addrdel 10.96.0.1;memberdel KUBE-CLUSTER-IP 10.96.0.1,tcp:443|125"
)
# (what [N]) | expected reason in the daemon's log
VIOLATIONS=(
	"set-id 0|unknown set or family"
	"set-id 200|unknown set or family"
	"family 5|unknown set or family"
	"chain-id 0|bad chain parameters"
	"chain-id 200|bad chain parameters"
	"op-kind 0|unknown op kind"
	"op-kind 99|unknown op kind"
	"oversized|"
	"short|"
	"len-mismatch|"
	"bad-magic|"
	"bad-version|"
	"bad-seq|"
	"bad-flags|"
	"unknown-type|"
	"wrong-dir|"
	"fd|"
	"trailing|trailing bytes"
	"ops-outside|ops outside a batch"
	"too-many-ops|batch larger than the limit"
	"batch-replay|batch id not increasing"
	"more-ops|more ops than declared"
	"end-mismatch|batch end does not match"
)
echo "1..$((2 + ${#POLICY[@]} + ${#VIOLATIONS[@]} + 3))"

start 1
st=/proc/$DPID/status
grep -q '^CapEff:[[:space:]]*0000000000001000$' "$st" &&
    grep -q '^Seccomp:[[:space:]]*2$' "$st"
ok $? "the daemon runs sandboxed with exactly CAP_NET_ADMIN"

# What kipvs legitimately owns, so that deletions have something to hit.
OWN=(link "addr 10.96.0.1" "vs 10.96.0.1 tcp 443 rr"
    "rs 10.96.0.1 tcp 443 10.244.1.5 6443 1"
    "vs 10.96.0.1 udp 53 rr" "rs 10.96.0.1 udp 53 10.244.1.7 53 1"
    "set KUBE-CLUSTER-IP" "member KUBE-CLUSTER-IP 10.96.0.1,tcp:443"
    "chain 4 nat/KUBE-SERVICES" "chain 4 nat/KUBE-MARK-MASQ")
batch "${OWN[@]}"
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last"
ok $? "set-up: kipvs's own objects applied ($(summary))"
kstate >"$tmp/k0"

# Each attempt's checks are kept and its audit records counted at the
# end, in one pass over the log: ATT[i] "local-rc|name|expected audit",
# RNG[i] its lines of the log.
ATT=() RNG=()
attempt_done() {	# rc name expected-audit from
	ATT+=("$1|$2|$3")
	RNG+=("$4 $(wc -l <"$A")")
	echo "# $(date +%T) attempt ${#ATT[@]} (rc $1): $2"
}

for p in "${POLICY[@]}"; do
	IFS='|' read -r name ops want <<<"$p"
	IFS=';' read -r -a lines <<<"$ops"
	from=$(($(wc -l <"$A") + 1))
	if [[ ${lines[0]} == confirmed ]]; then
		echo "begin confirmed" >&9
		printf '%s\n' "${lines[@]:1}" end >&9
		lines=("${lines[@]:1}")
		sums=$((sums + 1))
		for _ in $(seq 600); do
			[[ $(grep -c '^summary' "$tmp/out.$run") -ge $sums ]] && break
			sleep 0.1
		done
		grep '^result\|^summary' "$tmp/out.$run" | tail -n $((${#lines[@]} + 1)) >"$tmp/last"
	else
		batch "${lines[@]}"
	fi
	kstate >"$tmp/k1"
	nl=${#lines[@]}
	nrej=$(grep -c "^result [0-9]* rejected $want " "$tmp/last")
	nrec=$(tail -n +"$from" "$A" | grep -c "\"record\":\"result\".*\"errno\":$want,\"text\":\"rejected: ")
	[[ $nrej == "$nl" && $nrec == "$nl" ]] && cmp -s "$tmp/k0" "$tmp/k1"
	rc=$?
	((rc == 0)) || { diag <"$tmp/last"; diff "$tmp/k0" "$tmp/k1" | diag
		echo "$name: $nrec audit records match" | diag; }
	attempt_done $rc "$name: rejected (errno $want), kernel unchanged, audited [$(grep -m1 '^result' "$tmp/last" | cut -d' ' -f3-)]" \
	    "results $nl intents 1 channels 0" "$from"
done

# Protocol violations: the channel closes, the daemon stays, the kernel
# is kept; a "channel" record says so; a fresh socket works again.
for v in "${VIOLATIONS[@]}"; do
	IFS='|' read -r what reason <<<"$v"
	from=$(($(wc -l <"$A") + 1))
	lfrom=$(($(wc -l <"$tmp/err.$run") + 1))
	echo "hostile $what" >&9
	w=${what%% *}
	for _ in $(seq 300); do
		grep -q "^hostile $w " "$tmp/out.$run" && break
		sleep 0.05
	done
	res=$(grep "^hostile $w " "$tmp/out.$run" | tail -n1)
	echo reconnect >&9
	for _ in $(seq 600); do
		[[ $(grep -c '^reconnected' "$tmp/out.$run") -ge $((${rc_n:-0} + 1)) ]] && break
		sleep 0.05
	done
	rc_n=$(grep -c '^reconnected' "$tmp/out.$run")
	kstate >"$tmp/k1"
	rec=$(tail -n +"$from" "$A" | grep '"record":"channel"')
	logged=$(tail -n +"$lfrom" "$tmp/err.$run" | grep -m1 'protocol violation' | sed 's/.*protocol violation: //')
	if [[ -n $reason ]]; then
		grep -q "\"errno\":71,\"text\":\"closed: protocol violation: $reason" <<<"$rec"
	else
		grep -q '"text":"closed' <<<"$rec" && [[ -n $logged ]]
	fi
	r=$?
	[[ $res == "hostile $w closed" && $r == 0 ]] && kill -0 "$DPID" &&
	    cmp -s "$tmp/k0" "$tmp/k1"
	rc=$?
	((rc == 0)) || { echo "$res / $rec" | diag; diff "$tmp/k0" "$tmp/k1" | diag
		tail -n +"$lfrom" "$tmp/err.$run" | diag; }
	# The replay follows one good batch (its intent and result).
	wa="results 0 intents 0 channels 1"
	[[ $w == batch-replay ]] && wa="results 1 intents 1 channels 1"
	attempt_done $rc "$what: channel closed, daemon up, kernel unchanged, audited (log: $logged)" \
	    "$wa" "$from"
done
printf '%s\n' "${RNG[@]}" | audit_ranges >"$tmp/ranges" 2>"$tmp/pyerr"
diag <"$tmp/pyerr"
for i in "${!ATT[@]}"; do
	IFS='|' read -r rc name wa <<<"${ATT[$i]}"
	got=$(sed -n "$((i + 1))p" "$tmp/ranges")
	[[ $rc == 0 && $got == "$wa" ]]
	ok $? "$name" || echo "audit: $got (want $wa)" | diag
done

sums=$(grep -c '^summary' "$tmp/out.$run")

# A flood: 40 batches of 1,000 deny-listed services, back to back.
from=$(($(wc -l <"$A") + 1))
echo "flood 40 1000" >&9
for _ in $(seq 3000); do
	grep -q '^flood ' "$tmp/out.$run" && break
	kill -0 "$PCPID" 2>/dev/null || break
	sleep 0.1
done
f=$(grep '^flood ' "$tmp/out.$run")
kstate >"$tmp/k1"
a=$(echo "$from $(wc -l <"$A")" | audit_ranges 2>"$tmp/pyerr")
[[ $f == "flood batches 40 ops 40000 results 40000 rejected 40000" ]] &&
    kill -0 "$DPID" && cmp -s "$tmp/k0" "$tmp/k1" &&
    [[ $a == "results 40000 intents 40 channels 0" ]]
ok $? "flood of 40,000 ops in 40 batches: every one rejected and audited, kernel unchanged ($f; $a)"

# Still a working applier: the legitimate state re-applied changes nothing.
batch "${OWN[@]}"
grep -q "ok=${#OWN[@]} " "$tmp/last" && [[ $(grep -c ' ok 0 unchanged$' "$tmp/last") == "${#OWN[@]}" ]]
ok $? "after all of it the same daemon applies the legitimate state: all unchanged ($(summary))"
kstate >"$tmp/k1"
exec 9>&-; wait "$PCPID" 2>/dev/null
audit_check >"$tmp/aall" 2>"$tmp/pyerr"
rc=$?
# Outputs captured first: grep -q ending a pipe early would fail it
# (pipefail) with SIGPIPE.
sets=$(ipset list -n) ipt=$(iptables-legacy-save) ipv=$(ipvsadm -Sn)
grep -qx FOREIGN-SET <<<"$sets" && grep -qx KUBE-FOREIGN <<<"$sets" &&
    grep -q -- '-A OUTPUT -j KUBE-FIREWALL' <<<"$ipt" &&
    grep -q -- '-a -t 203.0.113.5:80 -r 192.0.2.20:80 -m -w 1' <<<"$ipv" &&
    cmp -s "$tmp/k0" "$tmp/k1" && [[ $rc == 0 ]]
ok $? "foreign objects intact; the whole audit log parses ($(head -n1 "$tmp/aall"))"

((failed == 0))
