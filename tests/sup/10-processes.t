#!/usr/bin/env bash
# kipvs starts the three daemons, each sandboxed as declared: uid/gid,
# capabilities (applier: CAP_NET_ADMIN only, after its start-up), no new
# privileges, seccomp filter, only the declared descriptors; every edge
# carries hello and heartbeats; SIGTERM stops everything cleanly.
. "$(dirname "$0")/lib.sh"
need_root

start_kipvs --heartbeat-ms 100 --log-level debug
wait_for 10 all_up
ok $? "three children up and sandboxed"

NET_ADMIN=0000000000001000
ZERO=0000000000000000
check_child() {	# NAME ID CAPS FDS
	local name=$1 id=$2 caps=$3 fds=$4 p
	p=$(child_pid "$name")
	[ "$(status_field "$p" Uid)" = "$id $id $id $id" ]
	ok $? "$name: Uid $id everywhere ($(status_field "$p" Uid))"
	[ "$(status_field "$p" Gid)" = "$id $id $id $id" ]
	ok $? "$name: Gid $id everywhere"
	[ -z "$(status_field "$p" Groups)" ]
	ok $? "$name: no supplementary groups"
	for f in CapEff CapPrm CapBnd; do
		[ "$(status_field "$p" $f)" = "$caps" ]
		ok $? "$name: $f $caps ($(status_field "$p" $f))"
	done
	[ "$(status_field "$p" CapInh)" = $ZERO ] &&
	    [ "$(status_field "$p" CapAmb)" = $ZERO ]
	ok $? "$name: CapInh and CapAmb empty"
	[ "$(status_field "$p" NoNewPrivs)" = 1 ]
	ok $? "$name: NoNewPrivs 1"
	[ "$(status_field "$p" Seccomp)" = 2 ]
	ok $? "$name: Seccomp 2"
	[ "$(fd_list "$p")" = "$fds" ]
	ok $? "$name: open descriptors are exactly $fds ($(fd_list "$p"))"
	[ "$(readlink "/proc/$p/fd/0")" = /dev/null ] &&
	    [ "$(readlink "/proc/$p/fd/1")" = /dev/null ]
	ok $? "$name: stdin and stdout are /dev/null"
	readlink "/proc/$p/fd/3" | grep -q '^socket:' &&
	    readlink "/proc/$p/fd/4" | grep -q '^socket:'
	ok $? "$name: descriptors 3 and 4 are sockets"
}
check_child kipvs-watcherd $W_ID $ZERO "0 1 2 3 4 5"
check_child kipvs-planner $P_ID $ZERO "0 1 2 3 4 5 6"
check_child kipvs-applierd $A_ID $NET_ADMIN "0 1 2 3 4 5 6 7"

AP=$(child_pid kipvs-applierd)
PP=$(child_pid kipvs-planner)
WP=$(child_pid kipvs-watcherd)
[ "$(readlink "/proc/$AP/fd/5")" = "$AUDIT" ] &&
    [ "$(readlink "/proc/$AP/fd/6")" = "$XTLOCK" ]
ok $? "applier: descriptor 5 is the audit log, 6 the xtables lock"
readlink "/proc/$PP/fd/5" | grep -q '^socket:'
ok $? "planner: descriptor 5 is the applier socket"
readlink "/proc/$PP/root" | grep -q '(deleted)' &&
    readlink "/proc/$AP/root" | grep -q '(deleted)'
ok $? "planner and applier are chrooted into an empty deleted directory"

# Every edge: hellos in both directions and heartbeats flowing.
hb() {	# hb PROC LINK PEERPID: PROC logged a heartbeat from PEERPID
	grep -q "^$1\[[0-9]*\]: debug: link $2: heartbeat [0-9]* from pid $3\$" "$LOG"
}
wait_for 5 hb kipvs-planner watcher "$WP"
ok $? "planner receives heartbeats from the watcher"
wait_for 5 hb kipvs-watcherd planner "$PP"
ok $? "watcher receives heartbeats from the planner"
wait_for 5 hb kipvs-applierd planner "$PP"
ok $? "applier receives heartbeats from the planner"
wait_for 5 hb kipvs-planner applier "$AP"
ok $? "planner receives heartbeats from the applier"
for c in watcher:$WP planner:$PP applier:$AP; do
	wait_for 5 hb kipvs "${c%%:*}" "${c#*:}"
	ok $? "parent receives heartbeats from the ${c%%:*}"
done
wait_for 5 grep -q "kipvs-planner\[$PP\]: info: link watcher: snapshot 1 complete" "$LOG"
ok $? "watcher -> planner: snapshot delivered"
wait_for 5 grep -q "kipvs-planner\[$PP\]: info: link applier: batch 1 done: 1 results, 0 failed" "$LOG"
ok $? "planner -> applier batch answered with results"
wait_for 5 grep -q "kipvs-planner\[$PP\]: info: link applier: dump [0-9]* complete" "$LOG"
ok $? "applier -> planner dump delivered"
wait_for 5 grep -Eq "kipvs-watcherd\[$WP\]: info: link planner: status flags 0x[1357]," "$LOG"
ok $? "planner -> watcher status delivered"
! grep -q 'protocol violation' "$LOG"
ok $? "no protocol violation logged"

kill -TERM "$KPID"
wait "$KPID"
rc=$?
KPID_DONE=$KPID
KPID=
ok $rc "SIGTERM: kipvs exits 0"
! pgrep -P "$KPID_DONE" >/dev/null
ok $? "SIGTERM: no child left"
grep -q 'all daemons stopped' "$LOG"
ok $? "SIGTERM: forwarded and every daemon stopped"

# Named accounts that do not exist: a clear message, non-zero exit.
out=$("$KIPVS" --libexec-dir "$LIBEXEC" --planner-user kipvs-no-such-user \
    --watcher-user "$W_ID:$W_ID" --applier-user "$A_ID:$A_ID" \
    --audit-log "$TMP/a2" --xtables-lock "$TMP/x2" 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q 'user kipvs-no-such-user does not exist'
ok $? "missing account: refused with a clear message ($out)"
out=$("$KIPVS" --libexec-dir "$LIBEXEC" --planner-user 0:0 \
    --watcher-user "$W_ID:$W_ID" --applier-user "$A_ID:$A_ID" \
    --audit-log "$TMP/a2" --xtables-lock "$TMP/x2" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'must not be 0'
ok $? "root account refused"
finish
