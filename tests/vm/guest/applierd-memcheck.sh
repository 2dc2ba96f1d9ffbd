#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applierd-memcheck.sh
# MEMCHECK_BUILDDIR): the real kipvs-applierd of a `make VG=1` build
# (seccomp filter only logging, loaded with prctl) under valgrind memcheck
# on the guest's real kernel, driven by tests/helpers/pa_client over its
# planner link (tests/vm/guest/applier-lib.sh): an apply of every op kind
# plus 60 VS x 4 RS, a re-apply that changes nothing, deletes, a dump, a
# mass deletion refused and then confirmed, protocol violations that
# close the channel, a fresh socket, a batch on it, SIGTERM.  Then the
# valgrind log must show zero errors and nothing definitely or
# indirectly lost.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build-memcheck}
. tests/vm/guest/applier-lib.sh

# pa_client starts $D: a script that execs the real daemon in valgrind,
# so the pid pa_client reports is the daemon's (valgrind runs in it).
REAL=$D
D=$tmp/applierd-vg
VGLOG=$tmp/vg
cat >"$D" <<EOS
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full \\
    --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --track-origins=yes \\
    --log-file=$VGLOG.%p.log $REAL "\$@"
EOS
chmod 0755 "$D"

foreign_objects
foreign_ipvs=$(ipvs)

# A short hold-off: the confirmed mass deletion below waits it out.
FLAGS=(--user 65533:65533 --log-level info --mass-delete-min 20
    --mass-delete-holdoff-ms 3000 --apiserver-address 10.96.0.250
    --drift-check-ms 600000)
t00=$SECONDS
tmark() { echo "# $(date +%T) +$((SECONDS - t00)) s: $*"; }
# check STATUS DESCRIPTION [DIAG-COMMAND...]: ok, and on failure the
# command's output as diagnostics.
check() {
	local rc=$1 what=$2
	shift 2
	ok "$rc" "$what"
	((rc == 0)) || (($# == 0)) || "$@" 2>&1 | diag
}
# until_s SECONDS COMMAND...: poll (time-bounded: a process start is
# slow in the emulated VM) until the command succeeds.
until_s() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}
nsum() { grep -c '^summary' "$tmp/out.1"; }
ndump() { grep -c '^dump [0-9]* end' "$tmp/out.1"; }
# send_batch [begin-words] -- LINES...: one batch without batch()'s
# assumption that every batch so far requested a dump; waits for its
# summary and, if it has a dump op, for one more dump; $tmp/last as
# batch() leaves it.
send_batch() {
	local hdr="" d0 want
	while [[ $1 != -- ]]; do hdr+=" $1"; shift; done
	shift
	d0=$(ndump)
	want=$(($(nsum) + 1))
	{ echo "begin$hdr"; printf '%s\n' "$@"; echo end; } >&9
	until_s 300 eval '[[ $(nsum) -ge $want ]] || ! kill -0 $PCPID 2>/dev/null'
	if printf '%s\n' "$@" | grep -q '^dump'; then
		until_s 120 eval '[[ $(ndump) -gt $d0 ]]'
	fi
	sums=$want
	awk -v w="$want" '/^summary/{k++} k==w-1 && /^result/{print} k==w && /^summary/{print}' \
	    "$tmp/out.1" >"$tmp/last"
}

echo 1..13
tmark "starting kipvs-applierd under valgrind"
start 1
# Under valgrind in the emulated VM the start takes longer than start()
# waits for; pa_client itself waits 120 s for the first dump.
until_s 150 eval 'grep -q "^dump 1 end" "$tmp/out.1" || ! kill -0 $PCPID 2>/dev/null'
tmark "daemon up"
st=/proc/$DPID/status
grep -q '^dump 1 end' "$tmp/out.1" && [[ -f $VGLOG.$DPID.log ]] &&
    grep -q "Command: $REAL " "$VGLOG.$DPID.log" &&
    grep -q '^CapEff:[[:space:]]*0000000000001000$' "$st" &&
    grep -q '^Seccomp:[[:space:]]*2$' "$st"
check $? "kipvs-applierd up under valgrind memcheck in its sandbox (CAP_NET_ADMIN only, seccomp), first dump sent" \
    cat "$tmp/err.1" "$VGLOG".*.log

every_op_kind
ALL+=("scale 60 4")

# 1. The apply: ${#ALL[@]} lines, scale's 60 VS x 4 RS among them.
send_batch -- "${ALL[@]}" dump; count_ops
tmark "apply done: $(summary)"
nops=$(sed -n 's/^summary.* ops \([0-9]*\) .*/\1/p' "$tmp/last")
ipvs >"$tmp/ipvs1"
grep -q ' failed=0 rejected=0 blocked=0' "$tmp/last" && ((nops >= 300)) &&
    [[ $(grep -c -- '^-A -t 10.200.0.1:' "$tmp/ipvs1") == 60 &&
       $(grep -c -- '^-a -t 10.200.0.1:' "$tmp/ipvs1") == 240 ]] &&
    grep -qx -- '-A -t 10.96.0.10:80 -s mh -b mh-port' "$tmp/ipvs1" &&
    ipset save | grep -q '^add KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.9,tcp:80,198.51.100.0/24$' &&
    iptables-legacy-save -t nat | grep -q -- '-A KUBE-SERVICES .*KUBE-CLUSTER-IP'
check $? "apply of $nops ops of every kind (60 VS x 4 RS among them): all ok, in the kernel ($(summary))" \
    cat "$tmp/last" "$tmp/err.1"
[[ $(grep -c '^rec rs tcp 10.200.0.1:' "$tmp/out.1") -ge 240 ]] &&
    grep -q '^rec chain 4 nat KUBE-SERVICES rules' "$tmp/out.1"
check $? "the requested dump follows with the real servers and chains" \
    tail -n 30 "$tmp/out.1"

# 2. Re-apply: every result "unchanged", the kernel as it was.
kstate >"$tmp/k1"
send_batch -- "${ALL[@]}"; count_ops
tmark "re-apply done: $(summary)"
kstate >"$tmp/k2"
nres=$(grep -c '^result' "$tmp/last")
nun=$(grep -c '^result [0-9]* ok 0 unchanged$' "$tmp/last")
# The same ops less the dump request.
[[ $nres == $((nops - 1)) && $nun == "$nres" ]] && cmp -s "$tmp/k1" "$tmp/k2"
check $? "re-apply: all $nun of $nres results unchanged, kernel unchanged" \
    eval 'grep -v " ok 0 unchanged$" "$tmp/last"; diff "$tmp/k1" "$tmp/k2"'

# 3. Deletes of each kind: a weight to 0, 60 real servers, a set member,
# an address (the services on it stay).
DEL=("rsweight 10.96.0.1 tcp 443 10.244.1.5 6443 0"
    "memberdel KUBE-NODE-PORT-TCP 30080" "addrdel 10.96.0.10")
for i in $(seq 0 59); do
	DEL+=("rsdel 10.200.0.1 tcp $((1000 + i)) 10.244.4.$((i + 1)) 8000 1")
done
send_batch -- "${DEL[@]}"; count_ops
tmark "deletes done: $(summary)"
ipvs >"$tmp/ipvs2"
grep -q "ok=${#DEL[@]} failed=0 rejected=0 blocked=0" "$tmp/last" &&
    [[ $(grep -c -- '^-a -t 10.200.0.1:' "$tmp/ipvs2") == 180 ]] &&
    ! grep -q -- '-r 10.244.4\.' "$tmp/ipvs2" &&
    grep -qx -- '-a -t 10.96.0.1:443 -r 10.244.1.5:6443 -m -w 0' "$tmp/ipvs2" &&
    ! ipset save | grep -q '^add KUBE-NODE-PORT-TCP 30080$' &&
    ! ip -o addr show dev kube-ipvs0 | grep -q ' 10.96.0.10/32'
check $? "${#DEL[@]} deletes (weight 0, 60 real servers, a member, an address) applied ($(summary))" \
    cat "$tmp/last"

# 4. The address back (the services on it stay kipvs's) and a dump: the
# same real servers as the kernel.
send_batch -- "addr 10.96.0.10" dump
tmark "dump done: $(summary)"
awk '/^dump [0-9]* begin/{b=""} {b=b $0 "\n"} END{printf "%s", b}' \
    "$tmp/out.1" >"$tmp/dump"
nrec=$(grep -c '^rec rs tcp 10.200.0.1:' "$tmp/dump")
grep -q 'ok=2 failed=0 rejected=0 blocked=0' "$tmp/last" &&
    [[ $nrec == 180 ]] && ! grep -q '^rec rs .* 10.244.4\.' "$tmp/dump" &&
    grep -q '^rec addr kube-ipvs0 10.96.0.10/32' "$tmp/dump"
check $? "the address re-added; a dump: it, and $nrec real servers of the scaled services, as in the kernel" \
    tail -n 20 "$tmp/dump"

# 5. A mass deletion: refused, then accepted confirmed after the hold-off.
MASS=()
for i in $(seq 0 59); do MASS+=("vsdel 10.200.0.1 tcp $((1000 + i))"); done
MASS+=("vsdel 10.96.0.1 tcp 443" "vsdel 10.96.0.10 udp 53"
    "vsdel 10.96.0.10 tcp 80" "vsdel 192.0.2.10 tcp 30080")
send_batch -- "${MASS[@]}"; count_ops
grep -q "rejected=${#MASS[@]} " "$tmp/last" &&
    [[ $(grep -c 'rejected 125 mass deletion' "$tmp/last") == "${#MASS[@]}" ]] &&
    [[ $(ipvs) == "$(cat "$tmp/ipvs2")" ]]
check $? "a mass deletion of ${#MASS[@]} services is refused, kernel unchanged ($(summary))" \
    cat "$tmp/last"
sleep 3.2
send_batch confirmed -- "${MASS[@]}"; count_ops
tmark "confirmed mass deletion done: $(summary)"
grep -q "ok=${#MASS[@]} failed=0" "$tmp/last" && [[ $(ipvs) == "$foreign_ipvs" ]]
check $? "confirmed after the hold-off: deleted; only the foreign services remain ($(summary))" \
    eval 'grep -v " ok 0" "$tmp/last" | head -n 20; ipvs'


# 6. Protocol violations: the channel closes, the daemon stays; the
# parent's fresh socket over the control link works.
rcn=0
for v in bad-magic oversized end-mismatch "op-kind 99"; do
	w=${v%% *}
	echo "hostile $v" >&9
	until_s 60 grep -q "^hostile $w " "$tmp/out.1"
	res=$(grep "^hostile $w " "$tmp/out.1" | tail -n1)
	echo reconnect >&9
	rcn=$((rcn + 1))
	until_s 150 eval '[[ $(grep -c "^reconnected" "$tmp/out.1") -ge $rcn ]] ||
	    ! kill -0 $PCPID 2>/dev/null'
	[[ $res == "hostile $w closed" ]] || echo "$v: $res" >>"$tmp/viol"
done
tmark "protocol violations done"
[[ ! -s $tmp/viol ]] && [[ $(grep -c '^reconnected' "$tmp/out.1") == 4 ]] &&
    kill -0 "$DPID" &&
    [[ $(grep -c '"record":"channel"' "$A") -ge 4 ]]
check $? "4 protocol violations: each closes the channel (audited), the daemon stays, a fresh socket is accepted" \
    eval 'cat "$tmp/viol"; tail -n 20 "$tmp/out.1"'

# 7. The fresh socket carries a batch and a dump.
d0=$(ndump)
send_batch -- "vs 10.96.0.1 tcp 443 rr" "rs 10.96.0.1 tcp 443 10.244.1.5 6443 1" dump
count_ops
tmark "batch on the fresh socket done"
grep -q 'ok=3 failed=0 rejected=0 blocked=0' "$tmp/last" && (($(ndump) > d0)) &&
    ipvsadm -Sn | grep -qx -- '-a -t 10.96.0.1:443 -r 10.244.1.5:6443 -m -w 1'
check $? "on the fresh socket a batch and a dump work ($(summary))" \
    cat "$tmp/last"

# 8. SIGTERM: the daemon exits 0 (valgrind would exit 99 on an error).
kill -TERM "$DPID"
# pa_client reaps it once its input ends.
gone() { [[ ! -e /proc/$DPID/stat ]] || [[ $(awk '{print $3}' /proc/$DPID/stat 2>/dev/null) == Z ]]; }
until_s 150 gone
exec 9>&-
wait "$PCPID"
rc=$?
tmark "daemon exited with status $rc"
[[ $rc == 0 ]] && grep -q 'exiting on signal 15' "$tmp/err.1"
check $? "SIGTERM: the daemon exits with status 0 (valgrind's error exit code is 99)" \
    tail -n 20 "$tmp/err.1"

# 9. The valgrind log: one process, zero errors, nothing definitely or
# indirectly lost, the leak check run.
logs=("$VGLOG".*.log)
L1=${logs[0]}
grep -E 'ERROR SUMMARY|definitely lost:|indirectly lost:|possibly lost:|still reachable:|All heap blocks' "$L1" | diag
# The log for a closer look, where the caller shares a directory.
[[ -n ${KIPVS_VM_OUTDIR:-} ]] && cp "$L1" "$KIPVS_VM_OUTDIR/applierd-memcheck.log"
# Each error with its stack (the loss records too), up to a screenful.
vg_errors() {
	awk '/^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and|Argument|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly))/{p=1}
	    p{print} p && /^==[0-9]+== $/{p=0}' "$L1" | head -n 300
}
[[ ${#logs[@]} == 1 ]] && grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$L1"
check $? "valgrind: zero errors ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$L1"))" vg_errors
grep -q 'HEAP SUMMARY' "$L1" &&
    { grep -q 'All heap blocks were freed' "$L1" ||
      { grep -q 'definitely lost: 0 bytes in 0 blocks' "$L1" &&
        grep -q 'indirectly lost: 0 bytes in 0 blocks' "$L1"; }; }
check $? "valgrind: nothing definitely or indirectly lost" \
    grep -A 8 'LEAK SUMMARY' "$L1"
tmark "total ops sent $ops_sent"

((failed == 0))
