#!/usr/bin/env bash
# kill -9 of each child in turn: it is back within its back-off, the other
# two are never restarted, its peers get fresh sockets and the heartbeat
# and the level-triggered resync resume; no zombies.  Then a restart
# storm: killing one child again and again makes kipvs exit non-zero.
. "$(dirname "$0")/lib.sh"
need_root

# Fast thresholds so the test takes seconds: back-off 50 ms doubling to
# 400 ms; more than 10 restarts of one child within 60 s is a storm.
start_kipvs --heartbeat-ms 100 --log-level debug --restart-min-ms 50 \
    --restart-max-ms 400 --restart-storm-count 10 \
    --restart-storm-window-ms 60000
wait_for 10 all_up
ok $? "three children up"
# The kills start from a synced set: the watcher's snapshot went to the
# planner and the first sync was applied.
wait_for 10 first_sync "$(child_pid kipvs-planner)"
ok $? "first sync applied"
SNAP='info: link watcher: snapshot [0-9]* complete: 2 services, 1 slices, 1 nodes$'

now_ms() { date +%s%3N; }
hb() {	# hb PROC LINK PEERPID
	grep -q "^$1\[[0-9]*\]: debug: link $2: heartbeat [0-9]* from pid $3\$" "$LOG"
}
new_pid() {	# new_pid NAME OLDPID: a different child of that name is up
	local p
	p=$(child_pid "$1")
	[ -n "$p" ] && [ "$p" != "$2" ] && child_up "$1"
}

# kill_one NAME ROLE PEER-CHECKS...: kill, wait, compare.
for name in kipvs-watcherd kipvs-planner kipvs-applierd; do
	W0=$(child_pid kipvs-watcherd)
	P0=$(child_pid kipvs-planner)
	A0=$(child_pid kipvs-applierd)
	old=$(child_pid "$name")
	mark=$(log_mark)
	t0=$(now_ms)
	kill -KILL "$old"
	# The first restart's delay is at most 50 ms; exec and sandbox take
	# a few more: 2 s is a generous bound that a broken back-off misses.
	wait_for 2 new_pid "$name" "$old"
	ok $? "$name: killed, back within 2 s ($(( $(now_ms) - t0 )) ms)"
	new=$(child_pid "$name")
	for other in kipvs-watcherd kipvs-planner kipvs-applierd; do
		[ "$other" = "$name" ] && continue
		case $other in
		kipvs-watcherd) before=$W0 ;;
		kipvs-planner) before=$P0 ;;
		kipvs-applierd) before=$A0 ;;
		esac
		[ "$(child_pid "$other")" = "$before" ]
		ok $? "$name killed: $other not restarted"
	done
	W=$(child_pid kipvs-watcherd)
	P=$(child_pid kipvs-planner)
	A=$(child_pid kipvs-applierd)
	case $name in
	kipvs-watcherd)
		wait_for 5 hb kipvs-planner watcher "$new"
		ok $? "planner gets heartbeats from the new watcher"
		snap() { after "$mark" | grep -q "^kipvs-planner\[$P\]: $SNAP"; }
		wait_for 5 snap
		ok $? "the new watcher's snapshot reached the same planner"
		wait_for 5 grep -Eq "^kipvs-watcherd\[$new\]: info: link planner: status flags 0x[1357], 2 services," "$LOG"
		ok $? "the planner sent its status to the new watcher"
		;;
	kipvs-planner)
		wait_for 5 hb kipvs-watcherd planner "$new"
		ok $? "watcher gets heartbeats from the new planner"
		wait_for 5 hb kipvs-applierd planner "$new"
		ok $? "applier gets heartbeats from the new planner"
		wait_for 5 grep -q "^kipvs-planner\[$new\]: $SNAP" "$LOG"
		ok $? "the new planner got a snapshot from the watcher"
		wait_for 5 grep -q "^kipvs-planner\[$new\]: info: link applier: dump [0-9]* complete" "$LOG"
		ok $? "the new planner got a dump from the applier"
		wait_for 5 first_sync "$new"
		ok $? "the new planner's first sync was answered by the applier"
		st() { after "$mark" | grep -Eq "^kipvs-watcherd\[$W\]: info: link planner: status flags 0x[1357], 2 services,"; }
		wait_for 5 st
		ok $? "the watcher got the new planner's status"
		;;
	kipvs-applierd)
		wait_for 5 hb kipvs-planner applier "$new"
		ok $? "planner gets heartbeats from the new applier"
		# Level-triggered: a new applier dumps the kernel's state to
		# the planner, which takes it as what is known.
		dump() {
			after "$mark" | sed -n "/^kipvs-planner\[$P\]: info: link applier: up, peer pid $new,/,\$p" |
			    grep -q "^kipvs-planner\[$P\]: info: link applier: dump [0-9]* complete"
		}
		wait_for 5 dump
		ok $? "the new applier's dump reached the same planner"
		;;
	esac
	wait_for 5 hb kipvs "${name#kipvs-}" "$new" ||
	    wait_for 5 hb kipvs "$(echo "${name#kipvs-}" | sed 's/d$//')" "$new"
	ok $? "parent gets heartbeats from the new $name"
	wait_for 2 no_zombies
	ok $? "no zombie after restarting $name"
done
! grep -q 'protocol violation' "$LOG"
ok $? "no protocol violation logged"

# Restart storm: kill the planner whenever it is back, up to 20 times.
kills=0
for i in $(seq 1 20); do
	kill -0 "$KPID" 2>/dev/null || break
	old=$(child_pid kipvs-planner)
	if [ -z "$old" ]; then
		wait_for 3 child_up kipvs-planner
		old=$(child_pid kipvs-planner)
	fi
	[ -n "$old" ] || continue
	kill -KILL "$old" && kills=$((kills + 1))
	wait_for 3 new_pid kipvs-planner "$old" || true
done
wait_for 10 bash -c "! kill -0 $KPID"
wait "$KPID"
rc=$?
K=$KPID
KPID=
[ "$rc" -eq 1 ]
ok $? "restart storm: kipvs exits 1 after $kills kills (status $rc)"
[ "$kills" -le 20 ] && [ "$kills" -ge 8 ]
ok $? "restart storm: not before the threshold ($kills kills)"
grep -q 'restart storm: planner' "$LOG"
ok $? "restart storm: reported in the log"
# In this namespace: other tests on the machine may run daemons under
# the same numeric accounts.
wait_for 3 bash -c "! pgrep --ns $$ --nslist net -u $W_ID,$P_ID,$A_ID -x 'kipvs-(watcherd|planner|applierd)'"
ok $? "restart storm: no daemon left running"
! ps -eo stat=,ppid= | awk -v k="$K" '$2 == k && $1 ~ /^Z/' | grep -q .
ok $? "restart storm: no zombies left"
finish
