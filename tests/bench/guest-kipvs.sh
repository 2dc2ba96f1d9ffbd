#!/usr/bin/env bash
# Runs inside the VM, in a fresh network namespace of its own (called by
# guest-floor.sh through `unshare -n`): one kipvs cold start of the
# workload in $1 (made by gen-objects.py on the host) and, when asked, the
# measurements on the running daemons.
#
#	guest-kipvs.sh WORKDIR WORKLOAD REP [change] [idle]
#
# The test apiserver (tests/apiserver/apiserver.py) serves the objects on
# this namespace's loopback; kipvs runs as in production (parent, three
# sandboxed daemons, numeric accounts) with its stderr time-stamped on
# arrival.  Clocks: the planner's "snapshot N complete" line (it now holds
# the complete snapshot) to its "first sync applied" line (every batch of
# the first sync answered by the applier, i.e. acknowledged by the
# kernel).  Time-to-first comes from the audit log's timestamps, taken by
# the applier right after the kernel answered: default/kubernetes' virtual
# server and the nat KUBE-POSTROUTING chain (the masquerade rule).
# Nothing here is timed around a shell command.
#
# Prints CSV rows workload,metric,rep,value,unit and "# " diagnostics.
# The kernel state is checked against kipvs-render of the same objects
# before anything is reported (a wrong table is a failure, exit 1).
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
work=$1 wl=$2 rep=$3
shift 3
do_change=0 do_idle=0
for a in "$@"; do
	case $a in change) do_change=1 ;; idle) do_idle=1 ;; esac
done
B=${KIPVS_BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
W=$(mktemp -d /tmp/kipvs-bench.XXXXXX)
chmod 755 "$W"
NODE_IP=192.168.50.1
KPID= STRACE_PID=
API_PID=
cleanup() {
	exec 2>/dev/null
	# KIPVS_BENCH_KEEPLOG=PATH keeps kipvs's log (the applier's batch
	# lines say where each batch's time went).
	[ -z "${KIPVS_BENCH_KEEPLOG:-}" ] || cp "$W/log" "$KIPVS_BENCH_KEEPLOG"
	# shellcheck disable=SC2086
	[ -z "$STRACE_PID" ] || kill $STRACE_PID
	[ -z "$KPID" ] || kill -TERM "$KPID"
	sleep 0.5
	[ -z "$KPID" ] || kill -KILL "$KPID"
	[ -z "$API_PID" ] || kill -KILL "$API_PID"
	# shellcheck disable=SC2046
	kill -KILL $(jobs -p)
	wait
}
trap cleanup EXIT
row() { echo "$wl,$1,$rep,$2,$3"; }
say() { echo "# $(date +%T) kipvs $wl rep $rep: $*"; }
diag() { sed 's/^/# /'; }
fail() {
	echo "# kipvs $wl rep $rep: $*"
	echo "# the log's errors, warnings and exits (first 40):"
	grep -E 'error|fatal|warning|exit|signal|restart|kill|SIGSYS' "$W/log" |
	    head -n 40 | cut -c1-300 | diag
	echo "# the log's end:"
	tail -n 20 "$W/log" | cut -c1-300 | diag
	exit 1
}

# The namespace: loopback, and the node's address on a dummy "eth0" so
# NodePort Services get their virtual servers.  IPVS, ipset and iptables
# are initialised before any clock (as for the reference tools).
ip link set lo up
ip link add eth0 type dummy
ip addr add "$NODE_IP/24" dev eth0
ip link set eth0 up
ipvsadm -Ln >/dev/null
ipset list -n >/dev/null
iptables-legacy -t nat -S >/dev/null

# The apiserver, loaded with the workload (loading takes a while under
# TCG; no clock runs yet).
API_DIR=$W/api
mkdir -p "$API_DIR"
chmod 755 "$API_DIR"
# shellcheck source=../lib/apiserver.sh
. tests/lib/apiserver.sh
make_certs || fail "cannot make certificates"
python3 tests/apiserver/apiserver.py --cert "$API_DIR/server.crt" \
    --key "$API_DIR/server.key" --token "$TOKEN" \
    --ports-file "$API_DIR/ports" --fixtures "$work/fixtures.json" \
    2>"$API_DIR/apiserver.err" &
API_PID=$!
for _ in $(seq 3000); do
	[ -s "$API_DIR/ports" ] && break
	kill -0 "$API_PID" 2>/dev/null || break
	sleep 0.2
done
[ -s "$API_DIR/ports" ] || { cat "$API_DIR/apiserver.err" >&2; fail "apiserver did not start"; }
read -r api_port ctl_port <"$API_DIR/ports"
say "apiserver up"
API=https://127.0.0.1:$api_port
CTL=http://127.0.0.1:$ctl_port
write_kubeconfig "$API_DIR/kubeconfig"
chmod 644 "$API_DIR/kubeconfig" "$API_DIR/ca.crt"

# kipvs, stderr stamped with the wall clock on arrival (the audit log's
# clock), one line at a time, with the production defaults (the applier
# keeps its heartbeat going through a batch of many seconds).
stamp='import sys, time
out = sys.stdout.buffer
for l in iter(sys.stdin.buffer.readline, b""):
    out.write(b"%.6f " % time.time() + l)
    out.flush()'
"$B/kipvs" --libexec-dir "$B" \
    --watcher-user 65531:65531 --planner-user 65532:65532 \
    --applier-user 65533:65533 --audit-log "$W/audit.log" \
    --xtables-lock "$W/xtables.lock" --kubeconfig "$API_DIR/kubeconfig" \
    --hostname-override node-1 --cluster-cidr 10.244.0.0/16 \
    --ip-family ipv4 --nodeport-range 30000-39999 --log-level info \
    ${KIPVS_BENCH_FLAGS:-} \
    </dev/null 2>&1 >/dev/null | python3 -u -c "$stamp" >"$W/log" &
for _ in $(seq 50); do
	KPID=$(pgrep -x kipvs | head -n1)
	[ -n "$KPID" ] && break
	sleep 0.1
done
[ -n "$KPID" ] || fail "kipvs did not start"
say "kipvs started"
# KIPVS_BENCH_PERF=PATH (in KIPVS_VM_OUTDIR): a CPU profile of the
# applier (perf, cpu-clock samples, kernel and user) until the first sync,
# its report written to PATH. A diagnostic, not a measurement: sampling
# slows the applier.
if [ -n "${KIPVS_BENCH_PERF:-}" ]; then
	for _ in $(seq 100); do
		APID=$(pgrep -P "$KPID" -x kipvs-applierd) && break
		sleep 0.1
	done
	perf record -q -e cpu-clock -F 250 -o "$W/perf.data" -p "$APID" \
	    2>"$W/perf.err" &
	PERFPID=$!
fi

# logt PATTERN: the stamp of the first log line matching PATTERN.
logt() { awk -v p="$1" '$0 ~ p { print $1; exit }' "$W/log"; }
waitlog() {	# waitlog SECONDS PATTERN
	local end=$((SECONDS + $1)) next=$((SECONDS + 60))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q -- "$2" "$W/log" && return 0
		kill -0 "$KPID" 2>/dev/null || return 1
		if [ "$SECONDS" -ge "$next" ]; then
			say "waiting for \"$2\"; the log ends:"
			tail -n 2 "$W/log" | cut -c1-200 | diag
			next=$((SECONDS + 60))
		fi
		sleep 0.5
	done
	return 1
}
waitlog "${KIPVS_BENCH_START_TIMEOUT:-900}" 'first sync applied' ||
	fail "no first sync"
say "first sync applied"
if [ -n "${KIPVS_BENCH_PERF:-}" ]; then
	kill -INT "$PERFPID"
	wait "$PERFPID"
	perf report -q -i "$W/perf.data" --stdio --sort dso,sym 2>&1 |
	    head -n 80 >"$KIPVS_BENCH_PERF"
	perf report -q -i "$W/perf.data" --stdio --sort dso 2>&1 |
	    head -n 20 >>"$KIPVS_BENCH_PERF"
fi
# With --seccomp-debug (KIPVS_BENCH_FLAGS) a forbidden syscall fails with
# ENOSYS and is logged instead of killing the daemon: say which.
grep -o 'seccomp: blocked syscall [0-9]*' "$W/log" | sort | uniq -c | diag
t_snap=$(logt 'kipvs-planner.*snapshot 1 complete')
t_done=$(logt 'first sync applied')
# Audit times (RFC 3339 UTC, microseconds) as epoch seconds, in one pass:
# default/kubernetes' virtual server, the masquerade chain, the last line.
times=$(python3 -c 'import sys, json, calendar, time
want = ["vs-ensure tcp 10.96.0.1:443 ", "chain-replace IPv4 nat KUBE-POSTROUTING"]
got, last, secs = [None, None], None, {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    t = r["time"]
    if t[:19] not in secs:
        secs[t[:19]] = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
    last = secs[t[:19]] + float(t[19:-1])
    s = r["op"] + " " + r["object"]
    for i, w in enumerate(want):
        if got[i] is None and s.startswith(w):
            got[i] = last
print(" ".join("%.6f" % v if v is not None else "-" for v in got + [last]))' "$W/audit.log")
read -r t_kube t_masq t_last <<<"${times:-- - -}"
[ "$t_kube" != - ] || t_kube=
[ "$t_masq" != - ] || t_masq=
[ -n "$t_snap" ] && [ -n "$t_done" ] && [ -n "$t_kube" ] && [ -n "$t_masq" ] ||
	fail "missing timestamps: snap=$t_snap done=$t_done kube=$t_kube masq=$t_masq"
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
row "kipvs cold start" "$(sub "$t_snap" "$t_done")" s
row "kipvs first default/kubernetes" "$(sub "$t_snap" "$t_kube")" s
row "kipvs first masquerade rules" "$(sub "$t_snap" "$t_masq")" s
echo "# kipvs $wl rep $rep: snapshot->last audit line $(sub "$t_snap" "$t_last") s," \
    "$(wc -l <"$W/audit.log") audit lines"
# Where the applier's time went (its per-batch log line), summed over the
# batches of the first sync: the IPVS part is the one comparable with the
# raw floor (the same requests); the rest is what the floor does not do.
# The planner logs "first sync applied" and then "batch N done" for the
# batch that completed it; the applier logs a batch's timing after sending
# its results, so the lines are matched by batch number, not by time.
phases=$(awk 'NR == FNR {
		if (/kipvs-planner.*first sync applied/)
			fs = 1
		else if (fs && last == "" && match($0, /batch [0-9]+ done/))
			last = substr($0, RSTART + 6, RLENGTH - 11) + 0
		next
	}
	/kipvs-applierd.*batch [0-9]+: [0-9.]+ s: kernel read/ {
		match($0, /batch [0-9]+:/)
		if (last == "" || substr($0, RSTART + 6, RLENGTH - 7) + 0 > last)
			next
		for (i = 1; i <= NF; i++) {
			k = $i; v = $(i + 1); sub(/,$/, "", v)
			if (k == "read" || k == "policy" || k == "IPVS" ||
			    k == "addresses" || k == "ipsets" || k == "iptables" ||
			    k == "audit")
				t[k] += v
		}
	}
	END { printf "%.6f %.3f %.3f %.3f %.3f %.3f %.3f", t["IPVS"], t["read"],
	    t["policy"], t["addresses"], t["ipsets"], t["iptables"], t["audit"] }' \
	    "$W/log" "$W/log")
read -r p_ipvs p_read p_policy p_addr p_sets p_ipt p_audit <<<"$phases"
row "kipvs IPVS part of the cold start" "$p_ipvs" s
row "kipvs addresses part of the cold start" "$p_addr" s
row "kipvs ipsets part of the cold start" "$p_sets" s
echo "# kipvs $wl rep $rep: applier phases up to the first sync: IPVS $p_ipvs s," \
    "addresses $p_addr, ipsets $p_sets, iptables $p_ipt, audit $p_audit," \
    "policy $p_policy, kernel reads $p_read"

# The kernel must hold exactly what kipvs-render computes (run.sh
# rendered it on the host into $work).
sort "$work/ipvs" >"$W/want.ipvs"
ipvsadm -Sn | sort >"$W/got.ipvs"
cmp -s "$W/want.ipvs" "$W/got.ipvs" ||
	fail "IPVS differs from kipvs-render: $(diff "$W/want.ipvs" "$W/got.ipvs" | head -5)"
awk '$1 == "add"' "$work/ipset" | sort >"$W/want.sets"
ipset save | awk '$1 == "add"' | sort >"$W/got.sets"
cmp -s "$W/want.sets" "$W/got.sets" ||
	fail "set members differ from kipvs-render: $(diff "$W/want.sets" "$W/got.sets" | head -5)"
naddr=$(ip -o addr show dev kube-ipvs0 | wc -l)
echo "# kipvs $wl rep $rep: kernel == render: $(grep -c '^-A' "$W/got.ipvs") virtual servers," \
    "$(wc -l <"$W/got.sets") set members, $naddr kube-ipvs0 addresses"

# Memory of each process after the first sync.
mem() {	# mem NAME PID
	local k
	for k in VmHWM VmRSS; do
		row "RSS $k $1" "$(awk -v k="$k:" '$1 == k { printf "%.1f", $2 / 1024 }' \
		    "/proc/$2/status")" MB
	done
}
WPID=$(pgrep -P "$KPID" -x kipvs-watcherd)
PPID_=$(pgrep -P "$KPID" -x kipvs-planner)
APID=$(pgrep -P "$KPID" -x kipvs-applierd)
mem kipvs "$KPID"
mem watcherd "$WPID"
mem planner "$PPID_"
mem applierd "$APID"
# CPU seconds (user / system) each daemon spent up to here: which side of
# the system-call boundary a cold start's time went to.
cpu() {	# cpu PID
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f/%.2f", $14 / hz, $15 / hz }' \
	    "/proc/$1/stat"
}
echo "# kipvs $wl rep $rep: CPU s user/system after the first sync: watcherd" \
    "$(cpu "$WPID"), planner $(cpu "$PPID_"), applierd $(cpu "$APID")"
# VmRSS split: heap and other anonymous memory vs mapped files (shared
# libraries, mostly).
rss_split() {	# rss_split PID
	awk '$1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
	    END { printf "%.1f/%.1f", a / 1024, f / 1024 }' "/proc/$1/status"
}
echo "# kipvs $wl rep $rep: VmRSS MB anonymous/file: kipvs $(rss_split "$KPID")," \
    "watcherd $(rss_split "$WPID"), planner $(rss_split "$PPID_")," \
    "applierd $(rss_split "$APID")"
for k in VmHWM VmRSS; do
	row "RSS $k total" "$(cat "/proc/"{"$KPID","$WPID","$PPID_","$APID"}/status |
	    awk -v k="$k:" '$1 == k { s += $2 } END { printf "%.1f", s / 1024 }')" MB
done

if [ -n "${KIPVS_BENCH_PROBE:-}" ]; then
	strace -f -o "$W/probe" -p "$APID" 2>"$W/probe.err" &
	sp=$!
	sleep 5
	kill -0 "$sp" && echo "# probe: strace alive"
	kill -INT "$sp"
	head -c 300 "$W/probe.err" | diag
	tail -n 5 "$W/probe" | cut -c1-200 | diag
	grep -E 'exit|signal|restart|kill|SIGSYS|seccomp' "$W/log" | tail -n 8 | cut -c1-200 | diag
	exit 0
fi
[ "$do_change" = 1 ] || [ "$do_idle" = 1 ] || exit 0
. tests/bench/guest-kipvs-live.sh
exit 0
