#!/usr/bin/env bash
# Guest side of tests/vm/41-e2e-restart.t: restarts and an apiserver
# outage are invisible to traffic.  A client pod sends requests back to
# back through a ClusterIP (a new connection each) while kipvs's children
# are killed with SIGKILL one by one, then the parent (kipvs is started
# again), and then the apiserver's API port goes away (/outage: open
# connections shut, new ones refused) for 45 s, longer than the watcher's
# back-off steps up to 12.8 s add up to; the watcher is killed in the
# middle of it.  During the outage Services and endpoints change through
# the control port; the kernel keeps its state until the API is back,
# then converges to them.  Zero failed requests, no kernel object deleted
# but those the changes remove (audit log), the unchanged virtual servers
# never re-created (same service lines, their connection counters only
# grow).  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
. tests/vm/guest/lib-cluster.sh

OUTAGE=45
n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
# names FILE: the pod names answering, sorted and counted ("2 pod-a ...").
names() { awk '{ print $1 }' "$1" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }'; }
# conns: the web VS's total connection counter (ipvsadm --stats).
conns() { ipvsadm -Ln --stats --exact -t 10.96.0.10:80 2>/dev/null | awk '$1 == "TCP" { print $3 }'; }
counter_ok=1 last=0
sample() {
	local c
	c=$(conns)
	[[ -n $c ]] && ((c >= last)) || { counter_ok=0; echo "# counter went from $last to '${c}'"; }
	last=${c:-0}
}
# unchanged: the service lines of the virtual servers no change touches.
unchanged() { ipvsadm -Sn | grep -E -- '^-A -t (10\.96\.0\.1:443|10\.96\.0\.10:80) '; }

echo 1..13
cl_init
cl_node
cl_pod pod-a 10.244.0.11
cl_pod pod-b 10.244.0.12
cl_pod pod-c 10.244.0.13
cl_pod pod-d 10.244.0.14
cl_pod cpod 10.244.0.100
cl_serve pod-a pod-b pod-c pod-d || echo "Bail out! the pod servers did not start"
cl_api_start
P=http/TCP/8080
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default kubernetes 10.96.0.1 https/TCP/443/6443)"),
 $(cl_change endpointslices add "$(cl_eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default web 10.96.0.10 http/TCP/80/8080)"),
 $(cl_change endpointslices add "$(cl_eps default web web-1 $P 10.244.0.11 10.244.0.12)"),
 $(cl_change services add "$(cl_svc default old 10.96.0.12 http/TCP/80/8080)"),
 $(cl_change endpointslices add "$(cl_eps default old old-1 $P 10.244.0.13)")]" ||
    echo "Bail out! cannot load the apiserver"
FLAGS=(--heartbeat-ms 200 --heartbeat-timeout-ms 3000)
cl_kipvs_start "${FLAGS[@]}"
cl_wait 60 cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080" &&
    cl_wait 20 cl_has_rs 10.96.0.12:80 t "10.244.0.13:8080"
ok $? "kipvs is up and programs the web and old Services"
cl_wait 20 grep -q 'first sync applied' "$CL/kipvs.log"
audit0=$(wc -l <"$CL/audit.log")
unchanged >"$CL/unchanged.0"

# The request loop (bounded: 600 s, stopped by a file).
cl_in cpod python3 "$CL_PY" loop http://10.96.0.10/ 600 "$CL/loop" "$CL/stop" &
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

# --- the apiserver outage ---------------------------------------------------
ipvsadm -Sn >"$CL/before.ipvs"
t0=$SECONDS
out=$(ctl /outage '{"on":true}')
cl_log "API port down ($out)"
curl -sS --max-time 5 --cacert "$API_DIR/ca.crt" "$API/version" >"$CL/refused" 2>&1
rc=$?
diag <"$CL/refused"
[[ $out == *'"t"'* && $rc == 7 ]]
ok $? "outage: the apiserver's API port refuses connections (curl exit $rc, 7 = refused)"
# Made during the outage: web loses pod-b and gains pod-d, the Service
# "new" appears (pod-b, pod-d), "old" and its slice are deleted.
cl_apply "[$(cl_change endpointslices modify "$(cl_eps default web web-1 $P 10.244.0.11 10.244.0.13 10.244.0.14)"),
 $(cl_change services add "$(cl_svc default new 10.96.0.13 http/TCP/80/8080)"),
 $(cl_change endpointslices add "$(cl_eps default new new-1 $P 10.244.0.12 10.244.0.14)"),
 $(cl_change endpointslices delete "$(cl_eps default old old-1 $P 10.244.0.13)"),
 $(cl_change services delete "$(cl_svc default old 10.96.0.12 http/TCP/80/8080)")]"
applied=$?
sleep 10
sample
# A watcher started during the outage has nothing to list from.
p=$(cl_child kipvs-watcherd)
kill -KILL "$p"
cl_log "killed kipvs-watcherd ($p) during the outage"
t=$((OUTAGE - (SECONDS - t0)))
((t > 0)) && sleep "$t"
sample
ipvsadm -Sn >"$CL/during.ipvs"
diff "$CL/before.ipvs" "$CL/during.ipvs" | diag
cmp -s "$CL/before.ipvs" "$CL/during.ipvs" && all_up && [[ $applied == 0 && $(cl_child kipvs-watcherd) != "$p" ]]
ok $? "during the ${OUTAGE} s outage (changes made, the watcher killed and restarted) the kernel keeps its state"
ctl /outage '{"on":false}' >/dev/null
cl_log "API port up again after $((SECONDS - t0)) s"
t1=$SECONDS
converged() {
	cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.13:8080 10.244.0.14:8080" &&
	    cl_has_rs 10.96.0.13:80 t "10.244.0.12:8080 10.244.0.14:8080" &&
	    ! ipvsadm -Ln -t 10.96.0.12:80 >/dev/null 2>&1
}
cl_wait 120 converged
rc=$?
ipvsadm -Ln | diag
ok $rc "after the outage the kernel converges to the changes made during it ($((SECONDS - t1)) s): web's endpoints, the new Service, the old one gone"
sample
cl_in cpod python3 "$CL_PY" get http://10.96.0.13/ 6 >"$CL/new"
diag <"$CL/new"
[[ $(names "$CL/new") == "3 pod-b 3 pod-d " ]]
ok $? "traffic to the Service made during the outage reaches its endpoints ($(names "$CL/new"))"
# pod-b may stay in web at weight 0 while its connections drain.
cl_wait 30 cl_state_diff --draining-ok
rc=$?
cl_state_diff --draining-ok | head -n 40 | diag
ok $rc "the kernel equals kipvs-render of the apiserver's objects (ipvs, ipset, iptables, kube-ipvs0)"
sample

touch "$CL/stop"
wait "$loop_pid"
read -r _ good _ bad _ slow <"$CL/loop"
head -n 5 "$CL/loop.err" | diag
[[ $bad == 0 && $good -gt 0 ]]
ok $? "zero failed requests through the restarts and the outage ($good ok, $bad failed, slowest $slow s)"
((good >= 2000))
ok $? "at least 2,000 requests spanned the disturbances ($good)"
unchanged >"$CL/unchanged.1"
diff "$CL/unchanged.0" "$CL/unchanged.1" | diag
[[ $counter_ok == 1 ]] && cmp -s "$CL/unchanged.0" "$CL/unchanged.1" && [[ -s $CL/unchanged.1 ]]
ok $? "the unchanged virtual servers were never re-created (same service lines; web's connection counter only grew: $last)"
# Deletions in the audit log after the start: only what the changes
# removed: pod-b from web (rs-del or weight 0), the old Service.
tail -n +$((audit0 + 1)) "$CL/audit.log" |
    grep -E '"op":"(vs-del|rs-del|rs-weight|addr-del|set-del)"' >"$CL/dels"
diag <"$CL/dels"
! grep -Ev '10\.244\.0\.12[^0-9]|10\.96\.0\.12[^0-9]' "$CL/dels" | grep -q . &&
    grep -q '10\.96\.0\.12[^0-9]' "$CL/dels"
ok $? "the audit log shows deletions only of what the changes removed ($(wc -l <"$CL/dels") lines)"
if ((failed)); then
	echo "# kipvs log (last 40 lines):"
	tail -n 40 "$CL/kipvs.log" | diag
fi
cl_kipvs_stop
((failed == 0))
