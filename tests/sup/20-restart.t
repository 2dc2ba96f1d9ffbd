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
		snap() {
			[ "$(grep -c "kipvs-planner\[$P\]: info: link watcher: snapshot 1 complete" "$LOG")" -ge 2 ]
		}
		wait_for 5 snap
		ok $? "the new watcher's snapshot reached the same planner"
		;;
	kipvs-planner)
		wait_for 5 hb kipvs-watcherd planner "$new"
		ok $? "watcher gets heartbeats from the new planner"
		wait_for 5 hb kipvs-applierd planner "$new"
		ok $? "applier gets heartbeats from the new planner"
		wait_for 5 grep -q "kipvs-planner\[$new\]: info: link watcher: snapshot [0-9]* complete" "$LOG"
		ok $? "the new planner got a snapshot from the watcher"
		wait_for 5 grep -q "kipvs-planner\[$new\]: info: link applier: dump [0-9]* complete" "$LOG"
		ok $? "the new planner got a dump from the applier"
		;;
	kipvs-applierd)
		wait_for 5 hb kipvs-planner applier "$new"
		ok $? "planner gets heartbeats from the new applier"
		wait_for 5 grep -q "kipvs-applierd\[$new\]: info: link planner: batch [0-9]*: 1 results sent" "$LOG"
		ok $? "the planner resent its batch to the new applier"
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
wait_for 3 bash -c "! pgrep -u $W_ID,$P_ID,$A_ID -x 'kipvs-(watcherd|planner|applierd)'"
ok $? "restart storm: no daemon left running"
! ps -eo stat=,ppid= | awk -v k="$K" '$2 == k && $1 ~ /^Z/' | grep -q .
ok $? "restart storm: no zombies left"
finish
