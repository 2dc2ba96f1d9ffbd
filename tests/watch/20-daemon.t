#!/usr/bin/env bash
# The real kipvs-watcherd (sandboxed: own uid, no capabilities, seccomp
# enforcing) against the test apiserver, with a fake planner
# (tests/helpers/watcher_peer) on its planner link: the records of the
# fixtures, an invalid object skipped and named, a deletion, a planner
# reconnect answered with a complete snapshot from the cache, a 410
# relist that retracts nothing early, /healthz and a health-check port
# driven by the fake planner's status, and /proc of the watcher all along.
# Runs in a throwaway network namespace (the apiserver on its loopback).
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
# The watcher reads its files as root before it drops to its uid.
mkfifo "$W/cmd"
OUT=$W/peer.out ERR=$W/peer.err
"$PEER" -c "$W/cmd" -- "$WATCHERD" --user 65531:65531 \
    --kubeconfig "$W/kubeconfig" --hostname-override node-a \
    --ipvs-sync-period 1s >"$OUT" 2>"$ERR" &
PEER_PID=$!
trap 'kill "$PEER_PID" 2>/dev/null; cleanup' EXIT
cmd() { echo "$*" >"$W/cmd"; }
wait_for '^pid ' 5 "$OUT"
WPID=$(sed -n 's/^pid //p' "$OUT")

sandboxed() {
	local s=/proc/$WPID/status
	grep -Eq '^Seccomp:[[:space:]]+2$' "$s" &&
	    grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$s" &&
	    grep -Eq '^CapEff:[[:space:]]+0+$' "$s" &&
	    grep -Eq '^CapPrm:[[:space:]]+0+$' "$s" &&
	    grep -Eq '^Uid:[[:space:]]+65531[[:space:]]+65531[[:space:]]+65531[[:space:]]+65531$' "$s"
}

t "first snapshot complete" wait_for '^end 1 svc=2 slice=1 node=1$' 10 "$OUT"
t "sandboxed: Seccomp 2, NoNewPrivs 1, CapEff 0, uid 65531" sandboxed
t "record: default/kubernetes ClusterIP 10.96.0.1 https/tcp/443" \
    grep -q '^svc default/kubernetes type=ClusterIP ips=10.96.0.1 ports=https/tcp/443/0 ' "$OUT"
t "record: alpha/web two ports, ClientIP affinity" \
    grep -q '^svc alpha/web type=ClusterIP ips=10.96.10.10 ports=http/tcp/80/0,https/tcp/443/0 .* affinity=1$' "$OUT"
t "record: the slice with both endpoints, conditions and nodes" \
    grep -q '^slice alpha/web-x7k2p svc=web fam=4 ports=http/tcp/8080,https/tcp/8443 eps=10.244.1.5/3/node-a,10.244.2.6/6/node-b$' "$OUT"
t "record: only the own node, with its address and pod CIDR" \
    bash -c "grep -q '^node node-a addrs=192.168.10.11 cidrs=10.244.1.0/24$' '$OUT' && ! grep -q '^node node-b' '$OUT'"
t "headless and other-proxy Services are not records" \
    bash -c "! grep -Eq 'beta/(headless|other-proxy)' '$OUT'"
t "markers: complete per kind inside the snapshot" \
    bash -c "[ \$(grep -c '^complete ' '$OUT') -eq 3 ]"

# An invalid object is logged by name and skipped; the stream goes on.
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"bad","namespace":"alpha"},"spec":{"clusterIP":"banana","ports":[{"port":80,"protocol":"TCP"}]}}}' >/dev/null
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"lb","namespace":"alpha"},"spec":{"type":"LoadBalancer","clusterIP":"10.96.20.20","clusterIPs":["10.96.20.20"],"externalTrafficPolicy":"Local","healthCheckNodePort":32000,"ports":[{"name":"http","port":80,"protocol":"TCP","nodePort":30080}]},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}}' >/dev/null
t "delta: a LoadBalancer with its node port, ingress and hc port" \
    wait_for '^svc alpha/lb type=LoadBalancer ips=10.96.20.20 ports=http/tcp/80/30080 ext= lb=192.0.2.10 hc=32000 flags=1 ' 5 "$OUT"
t "invalid object logged with its namespace/name" \
    grep -q 'service rejected: .*alpha/bad' "$ERR"
t "invalid object not sent" bash -c "! grep -q 'alpha/bad' '$OUT'"
t "/metrics counts the rejected object" bash -c \
    "curl -s http://127.0.0.1:10249/metrics | grep -q '^kipvs_watch_objects_rejected_total{kind=\"service\"} 1$'"

# Deletion.
ctl /apply '{"kind":"services","op":"delete","object":{"metadata":{"name":"kubernetes","namespace":"default"}}}' >/dev/null
t "delta: a deletion arrives as a delete record" \
    wait_for '^delete service default/kubernetes$' 5 "$OUT"

# Health: healthy at start; a change queued and no sync for 2 x 1 s is
# unhealthy; a status with a fresh sync makes it healthy again.
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
cmd status 3 now now 2 0
sleep 0.3
t "/healthz 200 after a sync" test "$(code http://127.0.0.1:10256/healthz)" = 200
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"late","namespace":"alpha"},"spec":{"clusterIP":"10.96.30.30","ports":[{"port":80,"protocol":"TCP"}]}}}' >/dev/null
wait_for '^svc alpha/late ' 5 "$OUT"
sleep 2.5
t "/healthz 503 when a change waits longer than 2 x the sync period" \
    test "$(code http://127.0.0.1:10256/healthz)" = 503
cmd status 3 now now 3 0
sleep 0.3
t "/healthz 200 again after the planner reports a sync" \
    test "$(code http://127.0.0.1:10256/healthz)" = 200
cmd eps alpha lb 32000 2
sleep 0.3
curl -s -D "$W/hc.h" -o "$W/hc.b" http://127.0.0.1:32000/ >/dev/null
t "health-check port: 200 with 2 local endpoints" bash -c \
    "head -1 '$W/hc.h' | grep -q ' 200 ' && grep -qi '^X-Load-Balancing-Endpoint-Weight: 2' '$W/hc.h' && grep -q '\"localEndpoints\": 2' '$W/hc.b'"
cmd eps alpha lb 32000 0
sleep 0.3
t "health-check port: 503 with none" \
    test "$(code http://127.0.0.1:32000/)" = 503

# A planner reconnect (fresh socket from the "parent"): a complete
# snapshot from the cache, with the current state.
cmd reconnect
t "reconnect: a second complete snapshot" \
    wait_for '^end 2 svc=3 slice=1 node=1$' 5 "$OUT"
t "reconnect: the snapshot holds the current Services" bash -c \
    "sed -n '/^begin 2/,/^end 2/p' '$OUT' | grep -c '^svc ' | grep -qx 3 &&
     ! sed -n '/^begin 2/,/^end 2/p' '$OUT' | grep -q default/kubernetes"
reqlog >/dev/null
t "reconnect: no apiserver relist was needed" \
    test "$(reqs list services | wc -l)" -eq 1

# 410: the watch cannot resume, the watcher lists again.  Objects that
# still exist are not retracted (nor sent again: unchanged); the one
# deleted while the watch was down is deleted after the list is whole.
mark=$(wc -l <"$OUT")
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":503,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services 2 5
ctl /apply '{"kind":"services","op":"delete","object":{"metadata":{"name":"late","namespace":"alpha"}}}' >/dev/null
ctl /compact '' >/dev/null
t "410: the deleted Service is deleted after the relist" \
    wait_for '^delete service alpha/late$' 10 "$OUT"
t "410: nothing else retracted, nothing resent" bash -c \
    "[ -z \"\$(tail -n +$((mark + 1)) '$OUT' | grep -Ev '^(delete service alpha/late|complete service)$')\" ]"
t "410: the relist is counted" bash -c \
    "curl -s http://127.0.0.1:10249/metrics | grep -Eq '^kipvs_watch_relists_total\\{kind=\"service\"\\} [1-9]'"
t "sandboxed still: Seccomp 2, NoNewPrivs 1, CapEff 0, uid 65531" sandboxed
t "no syscall was refused" bash -c "! grep -q seccomp '$ERR'"

cmd quit
t "SIGTERM: exit status 0" wait_for '^exit 0$' 5 "$OUT"
if [ "$failed" -ne 0 ]; then
	echo "# watcher:"; sed 's/^/#   /' "$ERR" | tail -40
	echo "# peer:"; sed 's/^/#   /' "$OUT" | tail -30
fi
finish
