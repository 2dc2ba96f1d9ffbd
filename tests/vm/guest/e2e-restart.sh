#!/usr/bin/env bash
# Guest side of tests/vm/41-e2e-restart.t: restarts and an apiserver
# outage are invisible to traffic.  A client pod sends requests back to
# back through a ClusterIP (a new connection each) while kipvs's children
# are killed with SIGKILL one by one, then the parent (kipvs is started
# again), and the apiserver is frozen (SIGSTOP) for a while.  Zero failed
# requests, no kernel object deleted (audit log), the virtual server never
# re-created (its connection counter only grows), and a change made after
# each disturbance reaches the kernel.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
. tests/vm/guest/lib-cluster.sh

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
# conns: the web VS's total connection counter (ipvsadm --stats).
conns() { ipvsadm -Ln --stats -t 10.96.0.10:80 2>/dev/null | awk '$1 == "TCP" { print $3 }'; }
counter_ok=1 last=0
sample() {
	local c
	c=$(conns)
	[[ -n $c ]] && ((c >= last)) || { counter_ok=0; echo "# counter went from $last to '${c}'"; }
	last=${c:-0}
}

echo 1..9
cl_init
cl_node
cl_pod pod-a 10.244.0.11
cl_pod pod-b 10.244.0.12
cl_pod pod-c 10.244.0.13
cl_pod cpod 10.244.0.100
cl_serve pod-a pod-b pod-c || echo "Bail out! the pod servers did not start"
cl_api_start
P=http/TCP/8080
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default kubernetes 10.96.0.1 https/TCP/443/6443)"),
 $(cl_change endpointslices add "$(cl_eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default web 10.96.0.10 http/TCP/80/8080)"),
 $(cl_change endpointslices add "$(cl_eps default web web-1 $P 10.244.0.11 10.244.0.12)")]" ||
    echo "Bail out! cannot load the apiserver"
FLAGS=(--heartbeat-ms 200 --heartbeat-timeout-ms 3000)
cl_kipvs_start "${FLAGS[@]}"
cl_wait 60 cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080"
ok $? "kipvs is up and programs the web Service"
cl_wait 20 grep -q 'first sync applied' "$CL/kipvs.log"
audit0=$(wc -l <"$CL/audit.log")

# The request loop (bounded: 300 s, stopped by a file).
cl_in cpod python3 "$CL_PY" loop http://10.96.0.10/ 300 "$CL/loop" "$CL/stop" &
loop_pid=$!
sleep 3
sample
# change N IPS: the web slice's endpoints become IPS; waits for the kernel.
change() {
	local want=$1 e='' ip; shift
	for ip in "$@"; do e="$e $ip"; done
	# shellcheck disable=SC2086
	cl_apply "$(cl_change endpointslices modify "$(cl_eps default web web-1 $P $e)")" &&
	    cl_wait 60 cl_has_rs 10.96.0.10:80 t "$want"
}
all_up() {
	local c p
	for c in kipvs-watcherd kipvs-planner kipvs-applierd; do
		p=$(cl_child "$c") && [[ -n $p ]] &&
		    grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status" || return 1
	done
}
restarted=1
for c in kipvs-watcherd kipvs-planner kipvs-applierd; do
	p=$(cl_child "$c")
	kill -KILL "$p"
	cl_log "killed $c ($p)"
	sleep 2
	cl_wait 30 all_up && [[ $(cl_child "$c") != "$p" ]] || restarted=0
	sample
done
ok $((1 - restarted)) "kill -9 of each child in turn: each is restarted"
# Converges after the restarts: add pod-c.
change "10.244.0.11:8080 10.244.0.12:8080 10.244.0.13:8080" 10.244.0.11 10.244.0.12 10.244.0.13
ok $? "after the child restarts an endpoint added through the apiserver reaches the kernel"
sample

# The parent: its children die with it; kipvs is started again.
old=$KPID
kill -KILL "$KPID"
wait "$KPID" 2>/dev/null
KPID=
cl_log "killed the parent ($old)"
sleep 2
sample
cl_kipvs_start "${FLAGS[@]}"
cl_wait 30 all_up
ok $? "kill -9 of the parent; kipvs started again, its children up"
sleep 3
sample

# The apiserver frozen for 10 s: watches stall, nothing is retracted.
kill -STOP "$API_PID"
cl_log "apiserver stopped"
sleep 10
sample
kill -CONT "$API_PID"
cl_log "apiserver continued"
change "10.244.0.11:8080 10.244.0.13:8080" 10.244.0.11 10.244.0.13
ok $? "after the apiserver outage a removed endpoint leaves the kernel"
sample

touch "$CL/stop"
wait "$loop_pid"
read -r _ good _ bad <"$CL/loop"
head -n 5 "$CL/loop.err" | diag
[[ $bad == 0 && $good -gt 0 ]]
ok $? "zero failed requests through the restarts and the outage ($good ok, $bad failed)"
((good >= 2000))
ok $? "at least 2,000 requests spanned the disturbances ($good)"
[[ $counter_ok == 1 ]]
ok $? "the web virtual server was never re-created (its connection counter only grew: $last)"
# Deletions in the audit log after the start: only the one endpoint removed
# on purpose (rs-del or weight 0 of 10.244.0.12).
tail -n +$((audit0 + 1)) "$CL/audit.log" |
    grep -E '"op":"(vs-del|rs-del|rs-weight|addr-del|set-del|link-del)"' >"$CL/dels"
diag <"$CL/dels"
! grep -v '10\.244\.0\.12[:,]' "$CL/dels" | grep -q .
ok $? "the audit log shows no kernel object deleted except the removed endpoint ($(wc -l <"$CL/dels") lines)"
if ((failed)); then
	echo "# kipvs log (last 40 lines):"
	tail -n 40 "$CL/kipvs.log" | diag
fi
cl_kipvs_stop
((failed == 0))
