#!/usr/bin/env bash
# The real, sandboxed kipvs-watcherd with its record cache at 10,000
# Services and 10,000 EndpointSlices: every record reaches the fake
# planner in the first snapshot, a planner reconnect gets all of them
# again from the cache, and the watcher's peak RSS stays under 30 MB.
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
ctl /generate '{"kind":"services","count":10000}' >/dev/null
ctl /generate '{"kind":"endpointslices","count":10000}' >/dev/null
mkfifo "$W/cmd"
OUT=$W/peer.out ERR=$W/peer.err
"$PEER" -c "$W/cmd" -- "$WATCHERD" --user 65531:65531 \
    --kubeconfig "$W/kubeconfig" --hostname-override node-a \
    >"$OUT" 2>"$ERR" &
PEER_PID=$!
trap 'kill "$PEER_PID" 2>/dev/null; cleanup' EXIT
wait_for '^pid ' 5 "$OUT"
WPID=$(sed -n 's/^pid //p' "$OUT")
t "first snapshot: every Service and slice" \
    wait_for '^end 1 svc=1000[0-9] slice=1000[0-9] node=1$' 60 "$OUT"
echo reconnect >"$W/cmd"
t "reconnect: the same snapshot from the cache" \
    wait_for '^end 2 svc=1000[0-9] slice=1000[0-9] node=1$' 60 "$OUT"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$WPID/status")
t "peak RSS ${hwm} kB < 30 MB" within "${hwm:-99999999}" 1 30720
t "sandboxed all along (Seccomp 2)" \
    grep -Eq '^Seccomp:[[:space:]]+2$' "/proc/$WPID/status"
finish
