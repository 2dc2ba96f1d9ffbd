#!/usr/bin/env bash
# Node eligibility on the real daemon's /healthz (kube-proxy-ipvs.md 9.1):
# the own Node tainted ToBeDeletedByClusterAutoscaler or carrying a
# deletionTimestamp makes /healthz 503 with "nodeEligible":false while
# /livez stays 200; the node is eligible until the first Node object says
# otherwise (here its list is held back by a 503 + Retry-After), and
# eligible again when the taint goes.  Every state comes from the test
# apiserver through the watcher's Node watch, checked with curl.
# Also: the daemon's --watch-idle-timeout replaces quiet watches from the
# same rv (no list) and counts them in /metrics.
# Runs in a throwaway network namespace (root), with a fake planner.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
netns_enter "$0" "$@"
. tests/watch/lib.sh
PEER=$B/tests/helpers/watcher_peer
WATCHERD=$B/kipvs-watcherd
need_tools
[ -x "$PEER" ] && [ -x "$WATCHERD" ] || skip_all "$PEER or $WATCHERD not built"
start_api

# node_a [JQ-LIKE PYTHON]: the fixture's node-a, changed by a Python
# statement on `o`, as an /apply body.
node_a() {
	python3 -c '
import json, sys
for a in json.load(open("tests/apiserver/fixtures.json")):
    o = a["object"]
    if a["kind"] == "nodes" and o["metadata"]["name"] == "node-a":
        exec(sys.argv[1])
        print(json.dumps({"kind": "nodes", "op": "modify", "object": o}))
' "$1"
}
TAINT='o["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}, {"key": "ToBeDeletedByClusterAutoscaler", "value": "1700000000", "effect": "NoSchedule"}]'
OTHER='o["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]'
DELETING='o["metadata"]["deletionTimestamp"] = "2026-11-26T12:00:00Z"; o["metadata"]["finalizers"] = ["example.com/hold"]'

# The node is tainted before the watcher starts, and its first list is
# held back 4 s.
ctl /apply "$(node_a "$TAINT")" >/dev/null
ctl /fault '{"kind":"nodes","verb":"list","action":"status","status":503,"retry_after":4,"count":1}' >/dev/null

mkfifo "$W/cmd"
OUT=$W/peer.out ERR=$W/peer.err
"$PEER" -c "$W/cmd" -- "$WATCHERD" --user 65531:65531 \
    --kubeconfig "$W/kubeconfig" --hostname-override node-a \
    --watch-idle-timeout 3 >"$OUT" 2>"$ERR" &
PEER_PID=$!
trap 'kill "$PEER_PID" 2>/dev/null; cleanup' EXIT
cmd() { echo "$*" >"$W/cmd"; }
wait_for '^pid ' 5 "$OUT"

HZ=http://127.0.0.1:10256
code() { curl -s -o "$W/body" -w '%{http_code}' "$HZ$1"; }
# state PATH CODE ELIGIBLE: status and nodeEligible of one answer; the
# overall "healthy" follows the status (kube-proxy 1.33 ands in the
# node), the family is healthy all along (the planner's status is fresh).
state() {
	local h=false
	[ "$2" = 200 ] && h=true
	[ "$(code "$1")" = "$2" ] &&
	    grep -q "\"nodeEligible\":$3,\"healthy\":$h,\"status\":{\"IPv4\":{\"lastUpdated\":\"[^\"]*\",\"healthy\":true}" "$W/body"
}
livez_ok() {
	[ "$(code /livez)" = 200 ] && ! grep -q nodeEligible "$W/body" &&
	    grep -q '"healthy":true' "$W/body"
}

t "watcher up: services listed, the node's list refused (503)" \
    wait_req list services 1 5
wait_req list nodes 1 5
t "before any Node object: /healthz 200, nodeEligible true" \
    state /healthz 200 true
t "sink: the tainted node arrives after its Retry-After" \
    wait_for '^node node-a ' 10 "$OUT"
t "tainted ToBeDeletedByClusterAutoscaler: /healthz 503, nodeEligible false" \
    state /healthz 503 false
t "tainted: /livez 200, no node check" livez_ok
t "log: the watcher says why" \
    grep -q 'node node-a: tainted ToBeDeletedByClusterAutoscaler; not eligible' "$ERR"
cmd status 3 now now 2 0

ctl /apply "$(node_a "$OTHER")" >/dev/null
t "another taint only: eligible again (/healthz 200, nodeEligible true)" \
    wait_cmd 5 state /healthz 200 true
ctl /apply "$(node_a "$TAINT")" >/dev/null
t "the autoscaler taint back (watch event): /healthz 503" \
    wait_cmd 5 state /healthz 503 false
ctl /apply "$(node_a "")" >/dev/null
t "taint removed: /healthz 200" wait_cmd 5 state /healthz 200 true
ctl /apply "$(node_a "$DELETING")" >/dev/null
t "deletionTimestamp set: /healthz 503, nodeEligible false" \
    wait_cmd 5 state /healthz 503 false
t "being deleted: /livez 200" livez_ok
t "log: being deleted" grep -q 'node node-a: being deleted; not eligible' "$ERR"
ctl /apply '{"kind":"nodes","op":"delete","object":{"metadata":{"name":"node-a"}}}' >/dev/null
t "sink: the node's deletion reaches the planner" \
    wait_for '^delete node node-a$' 5 "$OUT"
t "deleted (last seen being deleted): /healthz still 503" \
    state /healthz 503 false
t "/metrics healthz counters: 200s and 503s counted" bash -c "
    m=\$(curl -s http://127.0.0.1:10249/metrics)
    grep -Eq '^kubeproxy_proxy_healthz_total\\{code=\"200\"\\} [1-9]' <<<\"\$m\" &&
    grep -Eq '^kubeproxy_proxy_healthz_total\\{code=\"503\"\\} [1-9]' <<<\"\$m\""

# --watch-idle-timeout 3: the quiet Services watch is replaced every 3 s
# from the same rv, without a list, and counted.
sleep 4
reqlog >/dev/null
t "idle: quiet Services watch replaced (>= 2 watches), one list" bash -c "
    [ \$(awk '\$2 == \"watch\" && \$3 == \"services\"' '$W/log' | wc -l) -ge 2 ] &&
    [ \$(awk '\$2 == \"list\" && \$3 == \"services\"' '$W/log' | wc -l) -eq 1 ]"
t "idle: every Services watch from the list's rv" test "$(
    awk '$2 == "watch" && $3 == "services" {print $5}' "$W/log" |
    qparam resourceVersion | sort -u | wc -l)" -eq 1
t "idle: counted in /metrics" bash -c \
    "curl -s http://127.0.0.1:10249/metrics | grep -Eq '^kipvs_watch_idle_restarts_total\\{kind=\"service\"\\} [1-9]'"
t "idle: logged at info" grep -q 'info: services: watch: no byte for 3 s; replacing it from' "$ERR"
t "no syscall was refused" bash -c "! grep -q seccomp '$ERR'"
cmd quit
t "SIGTERM: exit status 0" wait_for '^exit 0$' 5 "$OUT"
if [ "$failed" -ne 0 ]; then
	echo "# watcher:"; sed 's/^/#   /' "$ERR" | tail -40
	echo "# peer:"; sed 's/^/#   /' "$OUT" | tail -30
	echo "# last body:"; sed 's/^/#   /' "$W/body"
fi
finish
