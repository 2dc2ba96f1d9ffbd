#!/usr/bin/env bash
# An apiserver outage of more than three minutes (the test apiserver's
# /outage: its port refuses connections and every open connection is
# dropped), with the real daemons under kipvs — watcher, planner and
# applier, sandboxed, in a throwaway network namespace:
#
#  * on the wire (every SYN and FIN of the apiserver port, from an
#    AF_PACKET socket on lo): the watcher's connection attempts during the
#    outage form exactly one back-off chain per resource (3), each wait in
#    [d, 2d) with d = 800 ms doubling to the 30 s cap, the cap reached, the
#    jitter real, no chain giving up;
#  * nothing is retracted: no delete record leaves the watcher, no delete
#    operation reaches the applier, the planner's Service count and the
#    kernel's ipsets are unchanged, no daemon restarts, /healthz stays 200;
#  * after the outage each resource is back within 60 s (2 x the cap) and
#    resyncs as the protocol requires: Services get a 410 on their resumed
#    watch (injected) and are listed again; EndpointSlices and the Node
#    resume their watches from the same resourceVersion (no list); the
#    Service added and the slice changed during the outage reach the
#    planner and the applier.
#
# Takes about 4 minutes (KIPVS_OUTAGE_S, default 181, shortens it for
# development only: below 180 the cap checks no longer hold).
set -uo pipefail
. "$(dirname "$0")/../sup/lib.sh"
need_root
OUTAGE_S=${KIPVS_OUTAGE_S:-181}
MS=127.0.0.1:10249
HZ=127.0.0.1:10256

metric() {	# metric NAME: its value on the watcher's /metrics
	curl -s "http://$MS/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
now_ms() { date +%s%3N; }
# The apiserver's request log: "<ms> <verb> <kind> <status> <target> <ua>".
reqlog() { ctl /log >"$TMP/log"; }
rvof() { sed -n 's/.*[?&]resourceVersion=\([0-9]*\).*/\1/p'; }
sets() {	# the kernel's KUBE-* ipset members, sorted
	ipset save 2>/dev/null | awk '$1 == "add" && $2 ~ /^KUBE-/' | sort
}

start_api_once
python3 tests/watch/synlog.py "$API_PORT" >"$TMP/wire" 2>"$TMP/wire.err" &
SNIFF=$!
trap 'kill "$SNIFF" 2>/dev/null; cleanup' EXIT
wait_for 5 grep -q ready "$TMP/wire"
start_kipvs
wait_for 10 all_up
ok $? "three children up and sandboxed"
wait_for 15 first_sync "$(child_pid kipvs-planner)"
ok $? "first sync applied"
watching() {
	[ "$(ctl /watches)" = '{"services": 1, "endpointslices": 1, "nodes": 1}' ]
}
wait_for 75 watching
ok $? "three watches open"
wait_for 10 metric_is kipvs_planner_services 2
ok $? "planner: 2 Services before the outage"
WPID=$(child_pid kipvs-watcherd) PPID_=$(child_pid kipvs-planner)
APID=$(child_pid kipvs-applierd)
sets >"$TMP/sets.before"
[ -s "$TMP/sets.before" ]
ok $? "kernel: $(wc -l <"$TMP/sets.before") ipset members before the outage"
sent0=$(curl -s "http://$MS/metrics" | grep '^kipvs_watch_records_sent_total')
reqlog
declare -A RV
for k in services endpointslices nodes; do
	RV[$k]=$(awk -v k=$k '$2 == "watch" && $3 == k {print $5}' "$TMP/log" |
	    tail -1 | rvof)
done
audit0=$(wc -l <"$AUDIT")

# --- the outage -------------------------------------------------------
t_on=$(now_ms)
api_on=$(ctl /outage '{"on":true}' | tr -dc 0-9)
# Changes while the apiserver is unreachable: a new Service, a new
# endpoint in the existing slice; and the Services' watch will find its
# rv too old (410) when it comes back.
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"during","namespace":"alpha"},"spec":{"clusterIP":"10.96.50.50","clusterIPs":["10.96.50.50"],"type":"ClusterIP","ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}}' >/dev/null
python3 -c '
import json, sys
for a in json.load(open("tests/apiserver/fixtures.json")):
    o = a["object"]
    if a["kind"] == "endpointslices" and o["metadata"]["name"] == "web-x7k2p":
        e = json.loads(json.dumps(o["endpoints"][0]))
        e["addresses"] = ["10.244.1.7"]
        e.pop("targetRef", None)
        o["endpoints"].append(e)
        print(json.dumps({"kind": "endpointslices", "op": "modify",
                          "object": o}))
' >"$TMP/slice.json"
ctl /apply "$(cat "$TMP/slice.json")" >/dev/null
ctl /fault '{"kind":"services","verb":"watch","action":"gone","count":1}' >/dev/null

bad=
while left=$(( OUTAGE_S * 1000 - ($(now_ms) - t_on) )); [ "$left" -gt 0 ]; do
	[ "$left" -gt 10000 ] && left=10000
	sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://$HZ/healthz")
	s=$(metric kipvs_planner_services)
	d=$(curl -s "http://$MS/metrics" |
	    awk '/^kipvs_watch_deletes_sent_total/ {s += $2} END {print s + 0}')
	[ "$c" = 200 ] && [ "$s" = 2 ] && [ "$d" = 0 ] ||
	    bad="$bad $(( ($(now_ms) - t_on) / 1000 ))s:healthz=$c,services=$s,deletes=$d"
done
ok $([ -z "$bad" ]; echo $?) "during the outage (sampled every 10 s): /healthz 200, planner 2 Services, no delete sent${bad:+ —$bad}"
sets >"$TMP/sets.during"
cmp -s "$TMP/sets.before" "$TMP/sets.during"
ok $? "kernel: ipsets unchanged at the end of the outage"
tail -n +$((audit0 + 1)) "$AUDIT" >"$TMP/audit.during"
! grep -Eq '"op":"(vs-del|rs-del|set-del|addr-del)"' "$TMP/audit.during"
ok $? "applier: no delete operation during the outage ($(wc -l <"$TMP/audit.during") audit lines)"
[ "$(curl -s "http://$MS/metrics" | grep '^kipvs_watch_records_sent_total')" = "$sent0" ]
ok $? "watcher: no record sent during the outage"
[ "$(child_pid kipvs-watcherd)" = "$WPID" ] &&
    [ "$(child_pid kipvs-planner)" = "$PPID_" ] &&
    [ "$(child_pid kipvs-applierd)" = "$APID" ]
ok $? "no daemon restarted"
t_off=$(now_ms)
api_off=$(ctl /outage '{"on":false}' | tr -dc 0-9)
reqlog
[ "$(awk -v a="$api_on" '$1 > a' "$TMP/log" | wc -l)" -eq 0 ]
ok $? "wire: no request reached the apiserver during the outage"

# --- back ---------------------------------------------------------------
# Each resource retries within 2 x the 30 s cap of the end: 75 s covers
# every wait below, which run one after the other.
wait_for 75 metric_is kipvs_planner_services 3
ok $? "planner: the Service added during the outage arrives (3 Services)"
wait_for 75 grep -q '10.244.1.7' "$AUDIT"
ok $? "applier: the endpoint added during the outage arrives"
wait_for 10 grep -q '10.96.50.50' "$AUDIT"
ok $? "applier: the Service added during the outage arrives"
wait_for 75 watching
ok $? "three watches open again ($(ctl /watches))"
reqlog
first_after() {	# first_after KIND: the first request of KIND after the outage
	awk -v k="$1" -v a="$api_on" '$1 > a && $3 == k {print; exit}' "$TMP/log"
}
for k in services endpointslices nodes; do
	f=$(first_after $k)
	d=$(( ${f%% *} - api_off ))
	[ -n "$f" ] && [ "$d" -le 60500 ]
	ok $? "wire: $k back $d ms after the outage ended (<= 2 x the 30 s cap)"
done
s1=$(first_after services)
set -- $s1
[ "$2" = watch ] && [ "$4" = "200+gone" ] &&
    [ "$(rvof <<<"$5")" = "${RV[services]}" ]
ok $? "wire: services resume from rv ${RV[services]} and get 410"
awk -v a="$api_on" '$1 > a && $3 == "services"' "$TMP/log" >"$TMP/svc.after"
sed -n 2p "$TMP/svc.after" | grep -q '^[0-9]* list services 200 '
ok $? "wire: services are listed again after the 410"
lrv=$(metric kipvs_watch_relists_total'{kind="service"}')
[ "$lrv" = 1 ]
ok $? "watcher: one relist of Services counted ($lrv)"
for k in endpointslices nodes; do
	set -- $(first_after $k)
	[ "$2" = watch ] && [ "$(rvof <<<"$5")" = "${RV[$k]}" ] &&
	    [ "$(awk -v k=$k '$2 == "list" && $3 == k' "$TMP/log" | wc -l)" -eq 1 ]
	ok $? "wire: $k resume their watch from rv ${RV[$k]}, no list"
done
[ "$(curl -s "http://$MS/metrics" |
    awk '/^kipvs_watch_deletes_sent_total/ {s += $2} END {print s + 0}')" = 0 ]
ok $? "watcher: no delete record sent, before or after"
tail -n +$((audit0 + 1)) "$AUDIT" >"$TMP/audit.after"
! grep -Eq '"op":"(vs-del|rs-del|set-del|addr-del)"' "$TMP/audit.after"
ok $? "applier: no delete operation, before or after"
sets >"$TMP/sets.after"
grep -q '10.96.50.50' "$TMP/sets.after" &&
    [ -z "$(comm -23 "$TMP/sets.before" "$TMP/sets.after")" ]
ok $? "kernel: every ipset member kept, the new Service's added"

# The back-off on the wire: every SYN from the drop to the end of the
# outage belongs to one of three chains (one per resource), each wait in
# [d - 50 ms, 2d + 1 s] (the sniffer's and a loaded machine's slack)
# with d = 800 ms doubling, capped at 30 s.
kill "$SNIFF" 2>/dev/null
python3 - "$TMP/wire" "$t_on" "$t_off" >"$TMP/chains" 2>&1 <<'EOF'
import sys
lines = [l.split() for l in open(sys.argv[1])]
t_on, t_off = int(sys.argv[2]), int(sys.argv[3])
fins = [int(t) for t, k, _ in lines if k == "fin" and int(t) >= t_on]
t0 = min(fins)
syns = [int(t) for t, k, _ in lines if k == "syn" and t0 < int(t) < t_off]
BASE, CAP, LO, HI = 800, 30000, 50, 1000
def d(k):
    return min(BASE << k, CAP)
def fits(gap, k):
    return d(k) - LO <= gap <= 2 * d(k) + HI
chains = [[t0], [t0], [t0]]
def fit(i):
    if i == len(syns):
        # No chain gave up: each one's next attempt was not yet due.
        return all(t_off - c[-1] <= 2 * d(len(c) - 1) + HI
                   for c in chains)
    tried = set()
    for c in chains:
        key = (c[-1], len(c))
        if key in tried:
            continue
        tried.add(key)
        if fits(syns[i] - c[-1], len(c) - 1):
            c.append(syns[i])
            if fit(i + 1):
                return True
            c.pop()
    return False
sys.setrecursionlimit(10000)
okay = fit(0)
print("syns", len(syns), "fit", okay)
ratios = []
capped = []
for c in chains:
    gaps = [b - a for a, b in zip(c, c[1:])]
    print("chain", " ".join(str(g) for g in gaps))
    ratios += [g / d(k) for k, g in enumerate(gaps)]
    capped.append(sum(1 for k in range(len(gaps)) if d(k) == CAP))
print("capped", *capped)
print("ratio_min %.3f ratio_max %.3f" % (min(ratios), max(ratios)))
print("jitter", sum(1 for r in ratios if r > 1.2))
EOF
grep -q '^syns [0-9]* fit True$' "$TMP/chains"
ok $? "wire: $(sed -n 's/^syns \([0-9]*\).*/\1/p' "$TMP/chains") attempts during the outage form 3 back-off chains (800 ms doubling, [d, 2d))"
sed 's/^/#   /' "$TMP/chains"
set -- $(grep '^capped' "$TMP/chains")
[ "$#" -eq 4 ] && [ "$2" -ge 1 ] && [ "$3" -ge 1 ] && [ "$4" -ge 1 ]
ok $? "wire: every chain reached the 30 s cap (waits at the cap: $2 $3 $4)"
j=$(sed -n 's/^jitter //p' "$TMP/chains")
[ "${j:-0}" -ge 3 ]
ok $? "wire: the waits are jittered ($j waits above 1.2 d)"
grep -v ': heartbeat ' "$LOG" | grep 'kipvs-watcherd' | grep -c 'retrying in' >/dev/null
ok $? "watcher log: the failures are logged with their waits"
finish
