# shellcheck shell=bash
# Sourced by guest-kipvs.sh once kipvs has finished its first sync: one
# change at scale and the idle window, on the running daemons.
#
# One change: the object is changed through the apiserver's control port
# and the clock runs from just before that request to the audit line of
# the last kernel operation the change caused (the applier writes it when
# the kernel has answered), and also from the planner's receipt of the
# record: its recvmsg on the watcher edge (fd 4), seen by strace -ttt
# attached to the planner during the timed changes.
# Kernel operations are the audit lines the change caused (a dump request
# is counted apart: it reads, it writes nothing); netlink requests are
# counted by the kernel's syscall tracepoints in a separate, untimed pass.
#
# Idle: the tracepoints count every netlink send of the applier (the only
# process that talks to the kernel) over 60 s without API changes; sends
# inside a drift check (the periodic full dump) are told apart.
#
# SPDX-License-Identifier: Apache-2.0

apply() { curl -sS -m 60 -X POST --data-binary "$1" "$CTL/apply" >/dev/null; }
now() { date +%s.%N; }
nlines() { wc -l <"$W/audit.log"; }
# audit_after N: audit lines after line N, as "epoch op object".
audit_after() {
	tail -n +"$(($1 + 1))" "$W/audit.log" | python3 -c 'import sys, json, datetime
for l in sys.stdin:
    r = json.loads(l)
    t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    print("%.6f %s %s" % (t, r["op"], r["object"]))'
}
# wait_audit N "OP OBJECT-PREFIX": until an audit line after line N is
# that op on that object (60 s at most).
wait_audit() {
	local end=$((SECONDS + 60)) want
	want="\"op\":\"${2%% *}\",\"object\":\"${2#* }"
	while [ "$SECONDS" -lt "$end" ]; do
		tail -n +"$(($1 + 1))" "$W/audit.log" | grep -q -F -- "$want" &&
		    return 0
		sleep 0.2
	done
	return 1
}
# trace_start NAME PID ARGS...: strace attached to PID (the planner),
# output in $W/strace.NAME (-ttt: wall-clock stamps, the audit log's
# clock); waits until it is attached.  trace_stop NAME: fails (and says
# why) if strace died before it was stopped.
declare -A TRACE_PID
trace_start() {
	local name=$1 pid=$2 i
	shift 2
	strace -ttt -o "$W/strace.$name" "$@" -p "$pid" 2>"$W/strace.$name.err" &
	TRACE_PID[$name]=$!
	STRACE_PID="${TRACE_PID[*]}"
	for i in $(seq 100); do
		grep -q attached "$W/strace.$name.err" && return 0
		sleep 0.1
	done
	echo "# strace $name did not attach: $(head -c 300 "$W/strace.$name.err")"
	return 1
}
trace_stop() {
	local p=${TRACE_PID[$1]}
	unset "TRACE_PID[$1]"
	STRACE_PID="${TRACE_PID[*]}"
	if ! kill -0 "$p" 2>/dev/null; then
		echo "# strace $1 died early: $(head -c 300 "$W/strace.$1.err")"
		return 1
	fi
	kill -INT "$p"
	wait "$p" 2>/dev/null
	return 0
}

# The applier's netlink requests are counted by the kernel's syscall
# tracepoints (tracefs), not by ptrace: attaching strace to the applier
# killed it on this kernel (it was restarted by the parent), which would
# have read as "no requests".  ft_start PID: every sendmsg/sendto of PID
# from now on.  ft_stop NAME: the events to $W/ft.NAME as "epoch fd",
# wall clock, and only those on PID's netlink sockets (descriptors whose
# inode /proc/net/netlink lists); fails if tracing is unavailable.
TR=/sys/kernel/tracing
ft_start() {
	[ -d "$TR/events/syscalls" ] || mount -t tracefs nodev "$TR" 2>/dev/null
	[ -d "$TR/events/syscalls/sys_enter_sendmsg" ] || {
		echo "# no syscall tracepoints in this kernel"; return 1; }
	FT_PID=$1
	echo 0 >"$TR/tracing_on"
	echo mono >"$TR/trace_clock"
	echo 16384 >"$TR/buffer_size_kb"
	: >"$TR/trace"
	for e in sendmsg sendto; do
		echo "common_pid == $1" >"$TR/events/syscalls/sys_enter_$e/filter"
		echo 1 >"$TR/events/syscalls/sys_enter_$e/enable"
	done
	# CLOCK_MONOTONIC -> wall clock.
	FT_OFF=$(python3 -c 'import time; print("%.6f" % (time.time() - time.monotonic()))')
	echo 1 >"$TR/tracing_on"
}
ft_stop() {
	local e nl
	echo 0 >"$TR/tracing_on"
	for e in sendmsg sendto; do
		echo 0 >"$TR/events/syscalls/sys_enter_$e/enable"
		echo 0 >"$TR/events/syscalls/sys_enter_$e/filter"
	done
	# /proc/net/netlink: "sk Eth Pid Groups Rmem Wmem Dump Locks Drops
	# Inode"; Eth is the protocol (0 route, 12 netfilter, 16 generic).
	nl=$(awk 'NR > 1 { print $NF }' /proc/net/netlink | sort -u | tr '\n' ' ')
	awk 'NR > 1 { print $NF, $2 }' /proc/net/netlink >"$W/ft.$1.proto"
	for e in /proc/"$FT_PID"/fd/*; do
		case $(readlink "$e") in
		"socket:["*) ;;
		*) continue ;;
		esac
		ino=$(readlink "$e"); ino=${ino#socket:[}; ino=${ino%]}
		case " $nl " in *" $ino "*) echo "${e##*/}" ;; esac
	done >"$W/ft.$1.fds"
	# Syscall tracepoint arguments are printed in hex ("fd: 9", "fd: 1a").
	python3 -c 'import re, sys
off = float(sys.argv[1])
nl = set(int(l) for l in open(sys.argv[2]))
for l in open(sys.argv[3]):
    m = re.search(r" ([0-9]+\.[0-9]+): sys_send(?:msg|to)\(fd: ([0-9a-f]+),", l)
    if m and int(m.group(2), 16) in nl:
        print("%.6f %d" % (float(m.group(1)) + off, int(m.group(2), 16)))' \
	    "$FT_OFF" "$W/ft.$1.fds" "$TR/trace" >"$W/ft.$1"
	# Requests per socket, for the log.
	while read -r fd; do
		ino=$(readlink "/proc/$FT_PID/fd/$fd"); ino=${ino#socket:[}; ino=${ino%]}
		echo "# $1: fd $fd (netlink protocol $(awk -v i="$ino" '$1 == i { print $2 }' \
		    "$W/ft.$1.proto")): $(awk -v f="$fd" '$2 == f' "$W/ft.$1" | wc -l) requests"
	done <"$W/ft.$1.fds"
	grep -q 'sys_send' "$TR/trace" || { echo "# tracefs recorded nothing"; : >"$TR/trace"; return 1; }
	: >"$TR/trace"
	return 0
}

# recv_after T: wall-clock time of the planner's first message from the
# watcher (its fd 4, docs/ipc.md) after T, from its strace.
recv_after() {
	awk -v t="$1" '$1 > t && $2 ~ /^recvmsg\(4,/ && $NF ~ /^[1-9][0-9]*$/ { print $1; exit }' \
	    "$W/strace.planner"
}

# The changed Service: a ClusterIP one (every tenth is a NodePort) in
# the middle of the table.
CI=$(( ${wl%%x*} / 2 + 1 ))
CNS=ns-$((CI % 16))
CSVC=$(printf 'svc-%05d' "$CI")
CSL=$(printf '%s-%05x' "$CSVC" "$CI")
CVIP=$(python3 -c "import ipaddress; print(ipaddress.IPv4Address('10.96.0.0') + 16 + $CI)")
eps5=$(python3 -c "import ipaddress
b = ipaddress.IPv4Address('10.128.0.0') + 1 + 5 * $CI
print(' '.join(str(b + j) for j in range(5)))")
# slice_json IP...: the changed service's slice with these endpoints.
slice_json() {
	local e='' ip
	for ip in "$@"; do
		e=${e:+$e,}"{\"addresses\":[\"$ip\"],\"conditions\":{\"ready\":true,\"serving\":true,\"terminating\":false},\"nodeName\":\"node-2\",\"zone\":\"zone-a\"}"
	done
	printf '{"kind":"endpointslices","op":"modify","object":{"metadata":{"name":"%s","namespace":"%s","labels":{"kubernetes.io/service-name":"%s","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},"addressType":"IPv4","endpoints":[%s],"ports":[{"name":"http","protocol":"TCP","port":8080}]}}' \
	    "$CSL" "$CNS" "$CSVC" "$e"
}
new_svc_json() {	# new_svc_json K OP: service bench-new-K and its slice
	local ip=10.111.0.$((K = $1 + 1)) o=$2
	printf '[{"kind":"services","op":"%s","object":{"metadata":{"name":"bench-new-%s","namespace":"default"},"spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080}],"clusterIP":"%s","clusterIPs":["%s"],"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}},' \
	    "$o" "$1" "$ip" "$ip"
	printf '{"kind":"endpointslices","op":"%s","object":{"metadata":{"name":"bench-new-%s-x","namespace":"default","labels":{"kubernetes.io/service-name":"bench-new-%s"}},"addressType":"IPv4","endpoints":[' \
	    "$o" "$1" "$1"
	for j in 1 2 3 4 5; do
		printf '%s{"addresses":["10.112.%s.%s"],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-2"}' \
		    "$([ $j = 1 ] || echo ,)" "$1" "$j"
	done
	printf '],"ports":[{"name":"http","protocol":"TCP","port":8080}]}}]'
}

# change NAME REP JSON DONE-PATTERN: one timed change.
change() {
	local name=$1 r=$2 json=$3 pat=$4 n0 t0 trec tend ops dumps
	say "change $name"
	n0=$(nlines)
	t0=$(now)
	apply "$json" || { echo "# $name: apply failed"; return 1; }
	wait_audit "$n0" "$pat" || { echo "# $name: no audit line matching $pat"; return 1; }
	sleep 0.5	# let a batch that is still being audited finish
	audit_after "$n0" >"$W/change.audit"
	tend=$(awk -v p="$pat" 'index($0, p) { t = $1 } END { print t }' "$W/change.audit")
	trec=$(recv_after "$t0")
	# Not kernel writes: dump requests and the applier's per-batch
	# summary records (op "batch").
	ops=$(awk '$2 != "dump-request" && $2 != "batch"' "$W/change.audit" | wc -l)
	dumps=$(awk '$2 == "dump-request"' "$W/change.audit" | wc -l)
	rep=$r row "change $name: API->kernel" "$(sub "$t0" "$tend")" s
	[ -z "$trec" ] || rep=$r row "change $name: record at planner->kernel" \
	    "$(sub "$trec" "$tend")" s
	rep=$r row "change $name: kernel ops" "$ops" ops
	sed "s/^/# $name rep $r: /" "$W/change.audit"
	[ "$dumps" = 0 ] || echo "# $name rep $r: plus $dumps dump request(s)"
}

if [ "$do_change" = 1 ]; then
	# The planner's receive times (the only syscalls printed; its other
	# syscalls are slowed a little by the tracer too).
	trace_start planner "$PPID_" -e trace=recvmsg || true
	# shellcheck disable=SC2086
	set -- $eps5
	extra=10.64.255.$((CI % 250 + 1))
	for r in $(seq 1 "${KIPVS_BENCH_CHANGE_REPS:-3}"); do
		change "endpoint add" "$r" "$(slice_json "$@" "$extra")" \
		    "rs-ensure tcp $CVIP:80 -> $extra:8080"
		# The removed TCP server goes to weight 0 at once (new
		# connections stop) and is deleted after the dump that
		# follows shows it idle: both ends are timed.
		n0=$(nlines)
		change "endpoint remove (weight 0)" "$r" "$(slice_json "$@")" \
		    "rs-weight tcp $CVIP:80 -> $extra:8080 weight 0"
		if wait_audit "$n0" "rs-del tcp $CVIP:80 -> $extra:8080"; then
			sleep 0.5
			audit_after "$n0" >"$W/del.audit"
			t0=$(awk '/rs-weight/ { print $1; exit }' "$W/del.audit")
			t1=$(awk '/rs-del/ { print $1; exit }' "$W/del.audit")
			rep=$r row "change endpoint remove: weight 0->deleted" \
			    "$(sub "$t0" "$t1")" s
			rep=$r row "change endpoint remove: kernel ops" \
			    "$(awk '$2 != "dump-request" && $2 != "batch"' "$W/del.audit" | wc -l)" ops
			# The dump in between is the same full dump as a
			# drift check: its cost, from the planner's lines.
			tdone=$(awk -v t="$t0" '$1 > t && /kipvs-planner.*batch [0-9]+ done/ { print $1; exit }' "$W/log")
			tdump=$(awk -v t="$t0" '$1 > t && /kipvs-planner.*dump [0-9]+ complete/ { print $1; exit }' "$W/log")
			[ -z "$tdone" ] || [ -z "$tdump" ] ||
			    rep=$r row "drift check: full dump time" "$(sub "$tdone" "$tdump")" s
		fi
		change "service add" "$r" "$(new_svc_json "$r" add)" \
		    "rs-ensure tcp 10.111.0.$((r + 1)):80 -> 10.112.$r.5:8080"
	done
	trace_stop planner || echo "# the record->kernel rows above are missing"
	# Netlink requests per change (the applier's sends on its netlink
	# sockets while the change is applied, dumps it causes included).
	ftc() {	# ftc NAME JSON OP-OBJECT: one change, counted
		local n0
		ft_start "$APID" || return 1
		n0=$(nlines)
		apply "$2"
		wait_audit "$n0" "$3"
		sleep 3
		ft_stop "$1" || return 1
		rep=1 row "$1: netlink requests" "$(wc -l <"$W/ft.$1")" requests
	}
	ftc "change endpoint add" "$(slice_json "$@" "$extra")" \
	    "rs-ensure tcp $CVIP:80 -> $extra:8080" ||
		rep=1 row "change endpoint add: netlink requests" FAILED requests
	ftc "change endpoint remove" "$(slice_json "$@")" \
	    "rs-del tcp $CVIP:80 -> $extra:8080" ||
		rep=1 row "change endpoint remove: netlink requests" FAILED requests
fi

if [ "$do_idle" = 1 ]; then
	sleep 2
	ft_start "$APID"
	sleep "${KIPVS_BENCH_IDLE_S:-60}"
	if ! ft_stop idle; then
		rep=1 row "idle ${KIPVS_BENCH_IDLE_S:-60} s: netlink requests" FAILED requests
		return 0 2>/dev/null || exit 0
	fi
	# Drift checks: sends closer than 2 s to each other are one burst; a
	# burst is a drift check when the planner received a dump ("dump N
	# complete", stamped) between its first send and 10 s after its
	# last.  Every other netlink send is one the idle target forbids.
	python3 - "$W/ft.idle" "$W/log" "$wl" "${KIPVS_BENCH_IDLE_S:-60}" <<'PY'
import re, sys
sends = [float(l.split()[0]) for l in open(sys.argv[1])]
dumps = [float(l.split()[0]) for l in open(sys.argv[2])
         if re.search(r"kipvs-planner.*dump [0-9]+ complete", l)]
bursts = []
for t in sends:
    if bursts and t - bursts[-1][1] < 2:
        bursts[-1][1] = t
        bursts[-1][2] += 1
    else:
        bursts.append([t, t, 1])
drift = [b for b in bursts if any(b[0] <= d <= b[1] + 10 for d in dumps)]
outside = len(sends) - sum(b[2] for b in drift)
w, idle = sys.argv[3], "idle %s s" % sys.argv[4]
print("%s,%s: netlink requests,1,%d,requests" % (w, idle, len(sends)))
print("%s,%s: drift checks,1,%d,checks" % (w, idle, len(drift)))
print("%s,%s: netlink requests outside drift checks,1,%d,requests"
      % (w, idle, outside))
for b in drift:
    print("%s,drift check: netlink requests,1,%d,requests" % (w, b[2]))
    print("# drift check: %d sends over %.2f s" % (b[2], b[1] - b[0]))
for b in bursts:
    if b not in drift:
        print("# idle: %d sends outside any drift check at %.3f" % (b[2], b[0]))
PY
	echo "# idle: netlink descriptors of the applier: $(tr '\n' ' ' <"$W/ft.idle.fds")"
fi
