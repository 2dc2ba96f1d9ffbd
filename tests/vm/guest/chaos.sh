#!/usr/bin/env bash
# Guest side of tests/vm/60-chaos.t: the chaos soak.  For
# KIPVS_SOAK_SECONDS (default 300) kipvs runs a one-node cluster
# (tests/vm/guest/lib-cluster.sh) while
#   * Services and EndpointSlices churn through the test apiserver
#     (lib-cluster.py churn: about two changes a second),
#   * two request loops run against Services that never change (a
#     ClusterIP from a pod, a NodePort from outside the cluster),
#   * every few seconds one disturbance: kill -9 of a child or of the
#     parent (started again at once, as a service manager would), an
#     apiserver fault (dropped requests, 5xx/429, a stalled watch, a
#     410 followed by a stalled list, a cut or garbled watch) or an
#     apiserver outage (/outage), some with a kill in the middle;
#     after each, a change to the "probe" Service must reach the kernel;
#   * a sampler records VmRSS, open fds and zombies once a second.
# Then the churn stops and the kernel must equal what kipvs-render makes
# of the apiserver's final objects and what the churn driver expects.
# TAP on stdout, a summary at the end.  KIPVS_SOAK_SEED repeats a run's
# choices (not its timing).
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
. tests/vm/guest/lib-cluster.sh

SOAK=${KIPVS_SOAK_SECONDS:-300}
SEED=${KIPVS_SOAK_SEED:-$(date +%s)}
RANDOM=$SEED
# Bounds (see docs/testing.md): VmRSS in KiB and open descriptors per
# process, by program; a change after a disturbance reaches the kernel
# within PROBE_MAX seconds (a parent restart took up to 40 s to its first
# batch on a loaded machine, and the applier's mass-deletion hold-off,
# 30 s, may follow it when the churn went on meanwhile).
# Measured in the VM: 2-4, 13, 1-2 and 5 MiB; 11, 16, 7 and 15 fds.
declare -A RSS_MAX=([kipvs]=8192 [kipvs-watcherd]=32768
    [kipvs-planner]=16384 [kipvs-applierd]=16384)
declare -A FD_MAX=([kipvs]=16 [kipvs-watcherd]=32 [kipvs-planner]=12
    [kipvs-applierd]=20)
FD_GROWTH=4
PROBE_MAX=120

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo 1..15
cl_log "soak of $SOAK s, seed $SEED"
cl_init
cl_node
cl_pod pod-a 10.244.0.11
cl_pod pod-b 10.244.0.12
cl_pod cpod 10.244.0.100
cl_serve pod-a pod-b || echo "Bail out! the pod servers did not start"
cl_api_start
P=http/TCP/8080
svc() { cl_change services add "$(cl_svc "$@")"; }
eps() { cl_change endpointslices add "$(cl_eps "$@")"; }
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(svc default kubernetes 10.96.0.1 https/TCP/443/6443),
 $(eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP"),
 $(svc default web 10.96.0.10 http/TCP/80/8080),
 $(eps default web web-1 $P 10.244.0.11 10.244.0.12),
 $(svc default webnp 10.96.0.11 type=NodePort http/TCP/80/8080/30080),
 $(eps default webnp webnp-1 $P 10.244.0.11 10.244.0.12),
 $(svc default probe 10.96.0.20 http/TCP/80/8080),
 $(eps default probe probe-1 $P 10.244.0.31)]" ||
    echo "Bail out! cannot load the apiserver"
# A restart storm is kipvs's designed way out (the parent exits for its
# service manager); this soak kills children faster than the default
# allows on purpose, so the storm limit is the highest allowed over a
# short window, and the restart back-off is capped at 5 s.
FLAGS=(--restart-max-ms 5000 --restart-reset-ms 20000
    --restart-storm-count 60 --restart-storm-window-ms 60000)
cl_kipvs_start "${FLAGS[@]}"
stable() {
	cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080" &&
	    cl_has_rs "$CL_NODE_IP:30080" t "10.244.0.11:8080 10.244.0.12:8080" &&
	    cl_has_rs 10.96.0.20:80 t "10.244.0.31:8080"
}
cl_wait 90 stable
ok $? "kipvs is up and programs the unchanged Services and the probe"
cl_wait 20 grep -q 'first sync applied' "$CL/kipvs.log"
audit0=$(wc -l <"$CL/audit.log")
outage_ok=0
[[ $(ctl /outage '{"on":false}' 2>/dev/null) == *'"t"'* ]] && outage_ok=1
((outage_ok)) || cl_log "the test apiserver has no /outage: no outages"

# --- background: request loops, churn, sampler ---------------------------
cl_in cpod python3 "$CL_PY" loop http://10.96.0.10/ $((SOAK + 900)) \
    "$CL/loop-ci" "$CL/loop.stop" &
loop1=$!
cl_in client python3 "$CL_PY" loop "http://$CL_NODE_IP:30080/" $((SOAK + 900)) \
    "$CL/loop-np" "$CL/loop.stop" &
loop2=$!
python3 "$CL_PY" churn "$CTL" "$SEED" "$CL/churn.stop" "$CL/churn.json" 0.5 \
    2>"$CL/churn.err" &
churn_pid=$!
python3 "$CL_PY" sample "$CL/samples" "$CL/sample.stop" 1 \
    kipvs kipvs-watcherd kipvs-planner kipvs-applierd &
sampler=$!

# The unchanged virtual servers' connection counters only grow (a VS
# deleted and made again would start from zero).
counter_ok=1
declare -A last=()
sample_vs() {
	local vs c
	for vs in 10.96.0.10:80 "$CL_NODE_IP:30080"; do
		c=$(ipvsadm -Ln --stats --exact -t "$vs" 2>/dev/null | awk '$1 == "TCP" { print $3 }')
		if [[ -z $c ]] || ((c < ${last[$vs]:-0})); then
			counter_ok=0
			cl_log "$vs: connection counter went from ${last[$vs]:-0} to '$c'"
		fi
		last[$vs]=${c:-0}
	done
}

# --- disturbances -----------------------------------------------------------
declare -A count=()
CHILDREN=(kipvs-watcherd kipvs-planner kipvs-applierd)
all_up() {
	local c p
	for c in "${CHILDREN[@]}"; do
		p=$(cl_child "$c") && [[ -n $p ]] &&
		    grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status" || return 1
	done
}
kill_child() {
	local c p
	c=${CHILDREN[RANDOM % 3]}
	p=$(cl_child "$c")
	if [[ -z $p ]]; then
		cl_log "$c is down (being restarted): not killed"
		return
	fi
	kill -KILL "$p"
	count[kill-$c]=$((${count[kill-$c]:-0} + 1))
	cl_log "killed $c ($p)"
}
kill_parent() {
	local old=$KPID
	kill -KILL "$KPID"
	wait "$KPID" 2>/dev/null
	KPID=
	count[kill-parent]=$((${count[kill-parent]:-0} + 1))
	cl_log "killed the parent ($old); starting kipvs again"
	sleep 1
	cl_kipvs_start "${FLAGS[@]}"
}
# hold SECONDS: wait, with now and then a kill half-way.
hold() {
	local t=$1 r=$((RANDOM % 10))
	if ((r < 4)); then
		sleep $((t / 2))
		if ((r == 0)); then kill_parent; else kill_child; fi
		sleep $((t - t / 2))
	else
		sleep "$t"
	fi
}
fault() {
	ctl /fault "$1" >/dev/null
	ctl /end-watches >/dev/null
}
KINDS=(services endpointslices nodes)
disturb() {
	local what=$1 k=${KINDS[RANDOM % 3]} t
	count[$what]=$((${count[$what]:-0} + 1))
	case $what in
	child) kill_child ;;
	parent) kill_parent ;;
	drop)
		fault "{\"kind\":\"*\",\"verb\":\"*\",\"action\":\"drop\",\"count\":$((1 + RANDOM % 3))}"
		sleep 3 ;;
	status)
		t=$((RANDOM % 3))
		case $t in
		0) fault "{\"kind\":\"*\",\"verb\":\"*\",\"action\":\"status\",\"status\":500,\"count\":$((1 + RANDOM % 3))}" ;;
		1) fault '{"kind":"*","verb":"*","action":"status","status":503,"retry_after":1,"count":2}' ;;
		*) fault '{"kind":"*","verb":"*","action":"status","status":429,"retry_after":2,"count":1}' ;;
		esac
		sleep 3 ;;
	stall)
		fault "{\"kind\":\"$k\",\"verb\":\"watch\",\"action\":\"stall\",\"after_events\":0,\"count\":1}"
		hold $((4 + RANDOM % 9))
		ctl /release >/dev/null ;;
	liststall)
		ctl /fault "{\"kind\":\"$k\",\"verb\":\"list\",\"action\":\"stall\",\"count\":1}" >/dev/null
		fault "{\"kind\":\"$k\",\"verb\":\"watch\",\"action\":\"gone\",\"count\":1}"
		hold $((4 + RANDOM % 7))
		ctl /release >/dev/null ;;
	cut)
		if ((RANDOM % 2)); then t=truncate; else t=garbage; fi
		fault "{\"kind\":\"*\",\"verb\":\"watch\",\"action\":\"$t\",\"after_events\":1,\"count\":2}"
		sleep 4 ;;
	outage)
		if ((outage_ok)); then
			ctl /outage '{"on":true}' >/dev/null
			hold $((5 + RANDOM % 11))
			ctl /outage '{"on":false}' >/dev/null
		fi ;;
	esac
	ctl /clear-faults >/dev/null
}
# probe: a change right after a disturbance reaches the kernel in time.
probe_n=0 probe_bad=0 probe_max=0
probe() {
	local ip t0 dt
	probe_n=$((probe_n + 1))
	ip=10.244.0.$((31 + probe_n % 4))
	t0=$(now_ms)
	cl_apply "$(cl_change endpointslices modify "$(cl_eps default probe probe-1 $P $ip)")"
	if cl_wait $PROBE_MAX cl_has_rs 10.96.0.20:80 t "$ip:8080"; then
		dt=$(($(now_ms) - t0))
		((dt > probe_max)) && probe_max=$dt
		cl_log "probe $probe_n: $((dt / 1000)).$((dt % 1000 / 100)) s"
	else
		probe_bad=$((probe_bad + 1))
		cl_log "probe $probe_n ($ip) did not reach the kernel in $PROBE_MAX s"
	fi
}

# Every kind once (shuffled), then a weighted draw.
ORDER=(child parent drop status stall liststall cut outage)
for ((i = ${#ORDER[@]} - 1; i > 0; i--)); do
	j=$((RANDOM % (i + 1)))
	t=${ORDER[i]} ORDER[i]=${ORDER[j]} ORDER[j]=$t
done
draw() {
	local r=$((RANDOM % 100))
	if ((r < 40)); then echo child
	elif ((r < 47)); then echo parent
	elif ((r < 57)); then echo drop
	elif ((r < 65)); then echo status
	elif ((r < 75)); then echo stall
	elif ((r < 81)); then echo liststall
	elif ((r < 86)); then echo cut
	else echo outage
	fi
}
sleep 3
sample_vs
start=$SECONDS cycles=0
while ((SECONDS - start < SOAK)); do
	if ((cycles < ${#ORDER[@]})); then what=${ORDER[cycles]}; else what=$(draw); fi
	cycles=$((cycles + 1))
	cl_log "disturbance $cycles: $what"
	disturb "$what"
	probe
	sample_vs
	sleep $((1 + RANDOM % 3))
done
cl_log "soak over after $((SECONDS - start)) s and $cycles disturbances"

# model_check: the churned virtual servers against the churn driver's
# final state ($CL/model.out says how).
model_check() {
	ipvsadm -Sn >"$CL/final.ipvs"
	python3 - "$CL/churn.json" "$CL/final.ipvs" "$CL_NODE_IP" >"$CL/model.out" 2>&1 <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
node = sys.argv[3]
got = {}
for ln in open(sys.argv[2]):
    f = ln.split()
    vs = f[2]
    got.setdefault(vs, set())
    if f[0] == "-a":
        w = f[f.index("-w") + 1] if "-w" in f else "1"
        got[vs].add(f[f.index("-r") + 1] + ("" if w == "1" else " w" + w))
want = {}
for s in m["services"].values():
    want["%s:%d" % (s["vip"], s["port"])] = set(s["endpoints"])
    if s["nodePort"]:
        want["%s:%d" % (node, s["nodePort"])] = set(s["endpoints"])
def churned(vs):
    ip, port = vs.rsplit(":", 1)
    return ip.startswith("10.96.1.") or \
        (ip == node and 31000 <= int(port) < 31020)
bad = 0
for vs in sorted(set(want) | {v for v in got if churned(v)}):
    if want.get(vs) != got.get(vs):
        bad += 1
        print("%s: want %s got %s" % (vs, sorted(want.get(vs, ["(none)"])),
                                      sorted(got.get(vs, ["(none)"]))))
print("%d changes (%d failed), %d churned Services at the end, %d VSs"
      % (m["changes"], m["errors"], len(m["services"]), len(want)))
sys.exit(1 if bad or m["errors"] else 0)
PY
}

# --- the churn stops: convergence -----------------------------------------
touch "$CL/churn.stop"
wait "$churn_pid"
cl_log "churn stopped: $(jq -c '{changes, errors}' "$CL/churn.json")"
ctl /clear-faults >/dev/null
ctl /release >/dev/null
((outage_ok)) && ctl /outage '{"on":false}' >/dev/null
t0=$(now_ms)
cl_wait 120 model_check
conv=$(($(now_ms) - t0))
cl_log "the churned Services converged after $((conv / 1000)) s"
cl_wait 60 all_up || cl_log "kipvs's children are not all up"
t1=$(now_ms)
cl_wait 60 cl_state_diff
rc=$?
cl_log "kernel against kipvs-render: $rc after $((($(now_ms) - t1) / 1000)) s"
sample_vs
cl_state_diff 2>&1 | head -n 40 | diag
ok $rc "after the churn stops the kernel equals kipvs-render of the apiserver's objects (ipvs, ipset, iptables, kube-ipvs0; $(wc -l <"$CL/got.ipvs") ipvs lines)"

model_check
rc=$?
diag <"$CL/model.out"
ok $rc "the churned virtual servers and real servers are exactly what the churn driver expects"

# --- stop the loops and the sampler ------------------------------------------
touch "$CL/loop.stop"
wait "$loop1" "$loop2"
touch "$CL/sample.stop"
wait "$sampler"
read -r _ good1 _ bad1 _ slow1 <"$CL/loop-ci"
read -r _ good2 _ bad2 _ slow2 <"$CL/loop-np"
cat "$CL/loop-ci.err" "$CL/loop-np.err" | head -n 10 | diag
((bad1 == 0 && good1 >= SOAK))
ok $? "zero failed requests to the unchanged ClusterIP ($good1 ok, $bad1 failed, slowest $slow1 s)"
((bad2 == 0 && good2 >= SOAK))
ok $? "zero failed requests to the unchanged NodePort from outside ($good2 ok, $bad2 failed, slowest $slow2 s)"
[[ $counter_ok == 1 ]]
ok $? "the unchanged virtual servers were never re-created (connection counters only grew: ${last[10.96.0.10:80]}, ${last[$CL_NODE_IP:30080]})"
tail -n +$((audit0 + 1)) "$CL/audit.log" |
    grep -E '"op":"(vs-del|rs-del|rs-weight|addr-del|set-del)"' >"$CL/alldels"
grep -E '10\.96\.0\.(1|10|11)[^0-9]|:30080[^0-9]|10\.244\.0\.1[12][^0-9]' \
    "$CL/alldels" >"$CL/dels"
diag <"$CL/dels"
! [[ -s $CL/dels ]] && grep -q '"op":"vs-del","object":"tcp 10\.96\.1\.' "$CL/alldels"
ok $? "the audit log shows no deletion of an unchanged Service's objects ($(wc -l <"$CL/alldels") deletions, all of churned ones)"

nkills=0
for c in "${CHILDREN[@]}"; do nkills=$((nkills + ${count[kill-$c]:-0})); done
nfaults=$((${count[drop]:-0} + ${count[status]:-0} + ${count[stall]:-0} + ${count[liststall]:-0} + ${count[cut]:-0}))
((nkills > 0 && ${count[kill-parent]:-0} > 0 && nfaults > 0 && ${count[outage]:-0} > 0 && outage_ok))
ok $? "the soak disturbed everything: $nkills child kills, ${count[kill-parent]:-0} parent kills, $nfaults apiserver faults, ${count[outage]:-0} outages (/outage: $outage_ok)"
((probe_bad == 0 && probe_n > 0))
ok $? "after every disturbance a change reached the kernel within $PROBE_MAX s ($probe_n probes, $probe_bad late, slowest $((probe_max / 1000)).$((probe_max % 1000 / 100)) s)"

# --- zombies, memory, descriptors ---------------------------------------------
# A zombie counts if the same pid is one in samples at least 2 s apart
# (a child between its death and its parent's reaping is one for a
# moment).
awk '$1 == "Z" { if (!($3 in first)) first[$3] = $2; if ($2 - first[$3] >= 2) print $3, $4, $5 }' \
    "$CL/samples" | sort -u >"$CL/zombies"
diag <"$CL/zombies"
nz=$(awk '$1 == "Z"' "$CL/samples" | wc -l)
! [[ -s $CL/zombies ]]
ok $? "no zombies ($(grep -c '^S' "$CL/samples") process samples; $nz transient zombie sightings)"

# Per program: max VmRSS, max fds, the largest fd growth of a process
# that lived at least 60 s (the fewest fds in its last 20 s against the
# fewest between 10 and 30 s after its start: start-up and connections
# coming and going do not count, a leak does), pids seen, pids that old.
python3 - "$CL/samples" 2>"$CL/gap" >"$CL/procs" <<'PY'
import collections, sys
per = collections.defaultdict(list)
for ln in open(sys.argv[1]):
    f = ln.split()
    if f[0] == "S":
        per[(f[5], f[2])].append((float(f[1]), int(f[6]), int(f[7])))
prog = {}
for (comm, pid), s in per.items():
    p = prog.setdefault(comm, [0, 0, 0, 0, 0])
    p[0] = max([p[0]] + [x[1] for x in s])
    p[1] = max([p[1]] + [x[2] for x in s])
    p[3] += 1
    t0, t1 = s[0][0], s[-1][0]
    base = [x[2] for x in s if t0 + 10 <= x[0] <= t0 + 30]
    end = [x[2] for x in s if x[0] >= t1 - 20]
    if t1 - t0 >= 60 and base and end:
        p[2] = max(p[2], min(end) - min(base))
        p[4] += 1
for c in sorted(prog):
    print(c, *prog[c])
# How long the guest stood still: the longest gap between samples.
ts = sorted({float(ln.split()[1]) for ln in open(sys.argv[1])})
gap = max([b - a for a, b in zip(ts, ts[1:])] + [0])
sys.stderr.write("the longest gap between the 1 s samples: %.1f s\n" % gap)
PY
summary=$(cat "$CL/procs")
echo "$summary" | awk '{ printf "%s: max VmRSS %d KiB, max fds %d, fd growth %d; %d pids, %d lived 60 s\n", $1, $2, $3, $4, $5, $6 }' | diag
diag <"$CL/gap"
mem_ok=1 fd_ok=1
for c in kipvs "${CHILDREN[@]}"; do
	read -r _ rss fds grow _ <<<"$(grep "^$c " <<<"$summary")"
	[[ -n ${rss:-} ]] && ((rss <= RSS_MAX[$c])) || mem_ok=0
	[[ -n ${fds:-} ]] && ((fds <= FD_MAX[$c] && grow <= FD_GROWTH)) || fd_ok=0
done
[[ $mem_ok == 1 ]]
ok $? "bounded memory: every process's VmRSS stayed under its bound (KiB: parent ${RSS_MAX[kipvs]}, watcher ${RSS_MAX[kipvs-watcherd]}, planner ${RSS_MAX[kipvs-planner]}, applier ${RSS_MAX[kipvs-applierd]})"
[[ $fd_ok == 1 ]]
ok $? "bounded descriptors: at most parent ${FD_MAX[kipvs]}, watcher ${FD_MAX[kipvs-watcherd]}, planner ${FD_MAX[kipvs-planner]}, applier ${FD_MAX[kipvs-applierd]}, none growing by more than $FD_GROWTH over its life"

python3 - "$CL/audit.log" "$CL/audit.failed" >"$CL/audit.out" 2>&1 <<'PY'
import json, sys
keys = {"time", "batch", "seq", "op", "object", "errno", "text"}
n = bad = failed = 0
with open(sys.argv[2], "w") as out:
    for i, line in enumerate(open(sys.argv[1], "rb"), 1):
        n += 1
        try:
            r = json.loads(line.decode("utf-8"))
            if not isinstance(r, dict) or not keys <= set(r) or \
                    not line.endswith(b"\n"):
                raise ValueError("fields %s" % sorted(r))
            if r["errno"] != 0:
                failed += 1
                out.write(line.decode())
        except ValueError as e:
            bad += 1
            print("line %d not a record (%s): %r" % (i, e, line[:200]))
print("%d lines, %d not parseable, %d operations with an errno" %
      (n, bad, failed))
sys.exit(1 if bad or n == 0 else 0)
PY
rc=$?
diag <"$CL/audit.out"
ok $rc "every audit line is one parseable JSON record ($(tail -n1 "$CL/audit.out"))"
# An operation may fail only as a mass deletion refused (the applier's
# guard after a restart while the churn went on; the planner confirms it
# after the hold-off); anything else is a planner/applier disagreement.
grep -v '"text":"rejected: mass deletion of ' "$CL/audit.failed" >"$CL/audit.other"
head -n 10 "$CL/audit.other" | diag
! [[ -s $CL/audit.other ]]
ok $? "no operation failed but mass deletions refused ($(grep -c 'mass deletion' "$CL/audit.failed") refused, $(wc -l <"$CL/audit.other") others)"

kill -0 "$KPID" 2>/dev/null && all_up
ok $? "kipvs is still running with its three children"

echo "# summary: ${SOAK} s, seed $SEED, $cycles disturbances:" \
    "requests $good1 + $good2 ok, $((bad1 + bad2)) failed;" \
    "kills: watcher ${count[kill-kipvs-watcherd]:-0}, planner ${count[kill-kipvs-planner]:-0}," \
    "applier ${count[kill-kipvs-applierd]:-0}, parent ${count[kill-parent]:-0};" \
    "faults: drop ${count[drop]:-0}, status ${count[status]:-0}, stall ${count[stall]:-0}," \
    "list stall ${count[liststall]:-0}, cut ${count[cut]:-0}, outage ${count[outage]:-0};" \
    "churn $(jq -r '"\(.changes) changes"' "$CL/churn.json");" \
    "probes $probe_n (slowest $((probe_max / 1000)).$((probe_max % 1000 / 100)) s); convergence $((conv / 1000)) s"
echo "$summary" | awk '{ printf "# summary: %s max VmRSS %d KiB, max fds %d, %d pids\n", $1, $2, $3, $5 }'
if ((failed)); then
	echo "# kipvs log (last 40 lines):"
	tail -n 40 "$CL/kipvs.log" | diag
fi
cl_kipvs_stop
((failed == 0))
