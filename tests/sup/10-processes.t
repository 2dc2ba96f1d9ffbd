#!/usr/bin/env bash
# kipvs starts the three daemons against the test apiserver, each
# sandboxed as declared: uid/gid, capabilities (applier: CAP_NET_ADMIN
# only, after its start-up), no new privileges, seccomp filter, only the
# declared descriptors and environment; every edge carries hello and
# heartbeats, and the fixtures cross from the watcher to the applier;
# SIGTERM stops everything cleanly.
. "$(dirname "$0")/lib.sh"
need_root

# The in-cluster apiserver address reaches the watcher alone (the
# kubeconfig takes precedence, so these values are never used); any other
# variable is dropped.
KUBERNETES_SERVICE_HOST=192.0.2.1 KUBERNETES_SERVICE_PORT=6443 \
KIPVS_TEST_NOT_PASSED=1 start_kipvs --heartbeat-ms 100 --log-level debug \
    --watch-idle-timeout 50 --blast-radius-hold-ms 7000 \
    --mass-delete-holdoff-ms 31000
wait_for 10 all_up
ok $? "three children up and sandboxed"
# Each daemon's own flag reaches that daemon alone.
own_flags() {	# own_flags NAME: its own flags in its command line
	tr '\0' ' ' <"/proc/$(child_pid "$1")/cmdline" |
	    grep -oE -- '--(watch-idle-timeout|blast-radius-hold-ms|mass-delete-holdoff-ms) [0-9]+' |
	    tr '\n' ' '
}
[ "$(own_flags kipvs-watcherd)" = "--watch-idle-timeout 50 " ] &&
    [ "$(own_flags kipvs-planner)" = "--blast-radius-hold-ms 7000 " ] &&
    [ "$(own_flags kipvs-applierd)" = "--mass-delete-holdoff-ms 31000 " ]
ok $? "each daemon's own flag reaches it alone (watcher: $(own_flags kipvs-watcherd); planner: $(own_flags kipvs-planner); applier: $(own_flags kipvs-applierd))"
# Descriptors are looked at once the first sync is over: the applier's
# ipset socket exists from its first set command on (docs/applier.md).
wait_for 10 first_sync "$(child_pid kipvs-planner)"
ok $? "first sync applied"

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
	# Exactly the fixed descriptors (docs/supervisor.md), and above them
	# only what the daemon documents (fds_watcher, fds_applier below).
	[ "$(fd_list "$p" | cut -d' ' -f1-$(echo "$fds" | wc -w))" = "$fds" ]
	ok $? "$name: descriptors $fds open ($(fd_list "$p"))"
	case $name in
	kipvs-watcherd) wait_for 2 fds_watcher "$p" ;;
	kipvs-applierd) wait_for 2 fds_applier "$p" ;;
	*) [ "$(fd_list "$p")" = "$fds" ] ;;
	esac
	ok $? "$name: nothing else open ($(fds_describe "$p" "$fds"))"
	[ "$(readlink "/proc/$p/fd/0")" = /dev/null ] &&
	    [ "$(readlink "/proc/$p/fd/1")" = /dev/null ]
	ok $? "$name: stdin and stdout are /dev/null"
	readlink "/proc/$p/fd/3" | grep -q '^socket:' &&
	    readlink "/proc/$p/fd/4" | grep -q '^socket:'
	ok $? "$name: descriptors 3 and 4 are sockets"
}
# What a socket is, from this namespace's tables: "unix:TYPE:STATE"
# (/proc/net/unix), "tcp:STATE:LPORT:RPORT" (hex, as the kernel prints
# them), "netlink:PROTO", or "inet" for a socket in none of them (an
# unbound datagram socket: the applier's x_tables sockets).
sock_kind() {	# sock_kind INODE
	awk -v i="$1" '
	FILENAME ~ /unix$/ && $7 == i { print "unix:" $5 ":" $6; f = 1; exit }
	FILENAME ~ /tcp6?$/ && $10 == i {
		split($2, l, ":"); split($3, r, ":")
		print "tcp:" $4 ":" l[2] ":" r[2]; f = 1; exit }
	FILENAME ~ /netlink$/ && $10 == i { print "netlink:" $2; f = 1; exit }
	END { if (!f) print "inet" }' /proc/net/unix /proc/net/tcp \
	    /proc/net/tcp6 /proc/net/netlink
}
fd_kind() {	# fd_kind PID FD: sock_kind, or what the link names
	local l
	l=$(readlink "/proc/$1/fd/$2") || return 1
	case $l in
	socket:\[*\]) l=${l#socket:[}; sock_kind "${l%]}" ;;
	*) echo "$l" ;;
	esac
}
fds_describe() {	# fds_describe PID FIXED: the descriptors above FIXED
	local f fixed=" $2 "
	for f in $(fd_list "$1"); do
		case $fixed in *" $f "*) continue ;; esac
		printf '%s=%s ' "$f" "$(fd_kind "$1" "$f")"
	done
}
unix_peer() {	# unix_peer INODE: the inode of its peer
	ss -xan | awk -v i="$1" '$6 == i { print $8; exit }'
}
# The watcher (docs/watcher.md, "Start-up order"): fds 0-5, then what it
# made before its sandbox -- the event loop (epoll and libevent's
# internal pipe pair), curl's wake-up socketpair, the /healthz and
# /metrics listeners, the token directory -- and, made inside the sandbox,
# only TCP connections to the apiserver.
fds_watcher() {	# fds_watcher PID
	local p=$1 f k ep=0 pipes= unix= lis=0 dir=0 bad=0
	for f in $(fd_list "$p"); do
		[ "$f" -le 5 ] && continue
		k=$(fd_kind "$p" "$f")
		case $k in
		'anon_inode:[eventpoll]') ep=$((ep + 1)) ;;
		pipe:*) pipes="$pipes $k" ;;
		"$TMP/sa") dir=$((dir + 1)) ;;
		unix:0001:03)
			k=$(readlink "/proc/$p/fd/$f"); k=${k#socket:[}
			unix="$unix ${k%]}" ;;
		# 10256 and 10249 listening, or connected to the apiserver.
		tcp:0A:2810:0000|tcp:0A:2809:0000) lis=$((lis + 1)) ;;
		tcp:*:"$(printf %04X "$API_PORT")") ;;
		*) bad=$((bad + 1)) ;;
		esac
	done
	set -- $unix
	[ $ep -eq 1 ] && [ $dir -eq 1 ] && [ $lis -eq 2 ] && [ $bad -eq 0 ] &&
	    [ $# -eq 2 ] && [ "$(unix_peer "$1")" = "$2" ] &&
	    [ "$(echo $pipes | wc -w)" -eq 2 ] &&
	    [ "$(echo $pipes | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ]
}
# The applier (docs/applier.md, "Start-up"): fds 0-7, then its kernel
# handles -- two rtnetlink sockets (libnl's and the address batches'), the
# two x_tables sockets (unbound datagram), the
# ipset netlink socket, and IPVS's generic netlink socket where the kernel
# has IPVS -- and nothing else.
fds_applier() {	# fds_applier PID
	local p=$1 f rt=0 xt=0 ns=0 ge=0 bad=0
	for f in $(fd_list "$p"); do
		[ "$f" -le 7 ] && continue
		case $(fd_kind "$p" "$f") in
		netlink:0) rt=$((rt + 1)) ;;
		netlink:12) ns=$((ns + 1)) ;;
		netlink:16) ge=$((ge + 1)) ;;
		inet) xt=$((xt + 1)) ;;
		*) bad=$((bad + 1)) ;;
		esac
	done
	# rtnetlink: libnl's socket and addr_batch()'s own.
	[ $rt -eq 2 ] && [ $xt -eq 2 ] && [ $ns -eq 1 ] && [ $ge -le 1 ] &&
	    [ $bad -eq 0 ]
}

check_child kipvs-watcherd $W_ID $ZERO "0 1 2 3 4 5"
check_child kipvs-planner $P_ID $ZERO "0 1 2 3 4 5 6"
check_child kipvs-applierd $A_ID $NET_ADMIN "0 1 2 3 4 5 6 7"

AP=$(child_pid kipvs-applierd)
PP=$(child_pid kipvs-planner)
WP=$(child_pid kipvs-watcherd)
[ "$(readlink "/proc/$WP/fd/5")" = 'anon_inode:[signalfd]' ] &&
    [ "$(readlink "/proc/$PP/fd/6")" = 'anon_inode:[signalfd]' ] &&
    [ "$(readlink "/proc/$AP/fd/7")" = 'anon_inode:[signalfd]' ]
ok $? "signalfd on 5 (watcher), 6 (planner), 7 (applier)"
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
# The fixtures cross every edge: a snapshot (watcher -> planner), the
# first sync's batch, executed op by op (planner -> applier, results
# back, one audit line per op), a dump (applier -> planner), a status
# (planner -> watcher).
wait_for 5 grep -q "^kipvs-watcherd\[$WP\]: info: link planner: snapshot 1 sent: 2 services, 1 slices, 1 nodes$" "$LOG" &&
    grep -q "^kipvs-planner\[$PP\]: info: link watcher: snapshot 1 complete: 2 services, 1 slices, 1 nodes$" "$LOG"
ok $? "watcher -> planner: snapshot delivered (2 services, 1 slice, 1 node)"
nops=$(sed -n "s/^kipvs-planner\[$PP\]: debug: batch 1 sent: \([0-9]*\) ops.*/\1/p" "$LOG")
[ -n "$nops" ] && [ "$nops" -gt 0 ] &&
    wait_for 5 grep -Eq "^kipvs-applierd\[$AP\]: info: link planner: batch 1: $nops results \(" "$LOG" &&
    wait_for 5 grep -Eq "^kipvs-planner\[$PP\]: info: link applier: batch 1 done: $nops results, [0-9]+ failed$" "$LOG"
ok $? "planner -> applier: batch 1 of ${nops:-?} ops answered with as many results"
# Result records only: the batch's intent record comes before them.
[ "$(grep '"record":"result"' "$AUDIT" | grep -c '"batch":1,')" = "$nops" ]
ok $? "applier: one audit result line per op of batch 1 ($(grep '"record":"result"' "$AUDIT" | grep -c '"batch":1,'))"
[ "$(grep '"record":"intent"' "$AUDIT" | grep -c '"batch":1,')" = 1 ]
ok $? "applier: one intent line for batch 1, before its results"
wait_for 5 grep -q "^kipvs-planner\[$PP\]: info: link applier: dump [0-9]* complete" "$LOG"
ok $? "applier -> planner dump delivered"
wait_for 5 grep -Eq "^kipvs-watcherd\[$WP\]: info: link planner: status flags 0x[1357], 2 services," "$LOG"
ok $? "planner -> watcher status delivered (synced, 2 services)"

# Only the watcher gets the in-cluster variables, and nothing else passes.
env_of() { tr '\0' '\n' <"/proc/$1/environ"; }
env_of "$WP" | grep -qx KUBERNETES_SERVICE_HOST=192.0.2.1 &&
    env_of "$WP" | grep -qx KUBERNETES_SERVICE_PORT=6443
ok $? "watcher: KUBERNETES_SERVICE_HOST and _PORT passed through"
! env_of "$PP" | grep -q KUBERNETES && ! env_of "$AP" | grep -q KUBERNETES
ok $? "planner and applier: not passed"
! env_of "$WP" | grep -q KIPVS_TEST_NOT_PASSED && ! env_of "$WP" | grep -q '^PATH='
ok $? "watcher: no other variable passed"
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
