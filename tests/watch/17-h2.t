#!/usr/bin/env bash
# HTTP/2: the test apiserver speaks HTTP/1.1 only, so Debian's nghttpx
# (nghttp2-proxy) stands in front of it as a TLS HTTP/2 server (ALPN h2,
# the test CA's certificate) and logs every frame it receives.  The real
# daemon (sandboxed, seccomp enforcing) under the fake planner
# (watcher_peer) then shows: lists and watches over HTTP/2, multiplexed on
# one connection; the records and a later change reach the planner; an
# idle watch (--watch-idle-timeout 3) is replaced by resetting its stream
# and resuming from the same rv on a fresh connection; nothing is refused
# by seccomp.  HTTP/2 PINGs are NOT shown: Debian 12's libcurl (7.88)
# does nothing in curl_easy_upkeep() for handles in a multi handle (see
# docs/watcher.md).  Runs in a throwaway network namespace (root).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
netns_enter "$0" "$@"
. tests/watch/lib.sh
PEER=$B/tests/helpers/watcher_peer
WATCHERD=$B/kipvs-watcherd
need_tools
command -v nghttpx >/dev/null || skip_all "nghttpx not installed (nghttp2-proxy)"
[ -x "$PEER" ] && [ -x "$WATCHERD" ] || skip_all "$PEER or $WATCHERD not built"
start_api
api_port=${API##*:}
FRONT=8443
# No configuration file (/dev/null), one worker, frame debugging into its
# error log; the backend is the test apiserver over TLS (not verified:
# it is the harness's own link).  Long read timeouts: watches are quiet.
nghttpx --conf=/dev/null --workers=1 --no-ocsp \
    --frontend="127.0.0.1,$FRONT" --backend="127.0.0.1,$api_port;;tls" -k \
    --frontend-frame-debug --frontend-read-timeout=10m \
    --backend-read-timeout=10m --errorlog-file="$W/frames" \
    --accesslog-file="$W/access" "$W/server.key" "$W/server.crt" \
    2>"$W/nghttpx.err" &
NGX=$!
API=https://127.0.0.1:$FRONT
write_kubeconfig "$W/kubeconfig"
# Ready once it accepts (a bare TCP connection: no frame, no request).
for i in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$FRONT) 2>/dev/null && break
	sleep 0.1
done

mkfifo "$W/cmd"
OUT=$W/peer.out ERR=$W/peer.err
"$PEER" -c "$W/cmd" -- "$WATCHERD" --user 65531:65531 \
    --kubeconfig "$W/kubeconfig" --hostname-override node-a \
    >"$OUT" 2>"$ERR" &
PEER_PID=$!
trap 'kill "$PEER_PID" "$NGX" 2>/dev/null; [ -n "${KEEP:-}" ] && cp -r "$W" /tmp/wt/h2keep; cleanup' EXIT
cmd() { echo "$*" >"$W/cmd"; }
wait_for '^pid ' 5 "$OUT"
WPID=$(sed -n 's/^pid //p' "$OUT")

t "planner: first snapshot complete over HTTP/2" \
    wait_for '^end 1 svc=2 slice=1 node=1$' 10 "$OUT"
wait_req watch nodes 1 5
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"h2","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.22","ports":[{"port":80,"protocol":"TCP"}]}}}' | tr -dc 0-9)
t "planner: a change made later arrives through the HTTP/2 watch" \
    wait_for '^svc alpha/h2 ' 5 "$OUT"
sleep 0.5
t "front: the client opened one connection (one SETTINGS)" \
    test "$(grep -c 'recv SETTINGS frame <length=[0-9]*, flags=0x00' "$W/frames")" -eq 1
t "front: six requests on streams 1..11 of it" test "$(
    sed -n 's/.*recv HEADERS frame <.*stream_id=\([0-9]*\)>.*/\1/p' "$W/frames" |
    sort -n | tr '\n' ' ')" = "1 3 5 7 9 11 "
reqlog >/dev/null
t "backend: the apiserver saw the same requests (via the front)" \
    test "$(grep -c 'kipvs-watcherd' "$W/log")" -eq 6
t "sandboxed: Seccomp 2, CapEff 0, uid 65531" bash -c "
    grep -Eq '^Seccomp:[[:space:]]+2$' /proc/$WPID/status &&
    grep -Eq '^CapEff:[[:space:]]+0+$' /proc/$WPID/status &&
    grep -Eq '^Uid:[[:space:]]+65531' /proc/$WPID/status"
t "no syscall was refused over HTTP/2" bash -c "! grep -q seccomp '$ERR'"
cmd quit
wait_for '^exit 0$' 5 "$OUT"
wait "$PEER_PID" 2>/dev/null
# (nghttpx logs a request when its stream ends.)
t "front: 3 lists and 3 watches, every one over HTTP/2" bash -c "
    [ \$(grep -c '\"GET /api[^ ]*limit=500 HTTP/2\" 200 ' '$W/access') -eq 3 ] &&
    [ \$(grep -c '\"GET /api[^ ]*watch=true HTTP/2\" 200 ' '$W/access') -eq 3 ] &&
    ! grep -v ' HTTP/2\" ' '$W/access' | grep -q ."

# An idle watch over HTTP/2 (the server answered it, then nothing): its
# stream is reset and the replacement resumes from the same rv on the same
# connection.
: >"$OUT"
"$PEER" -c "$W/cmd" -- "$WATCHERD" --user 65531:65531 \
    --kubeconfig "$W/kubeconfig" --hostname-override node-a \
    --watch-idle-timeout 3 >"$OUT" 2>"$ERR" &
PEER_PID=$!
wait_for '^end 1 ' 10 "$OUT"
s0=$(grep -c 'recv SETTINGS frame <length=[0-9]*, flags=0x00' "$W/frames")
r0=$(grep -c 'recv RST_STREAM' "$W/frames")
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
wait_req watch services $((n0 + 1)) 8
sleep 0.5
reqlog >/dev/null
t "idle over HTTP/2: the client reset the idle streams" \
    test "$(grep -c 'recv RST_STREAM' "$W/frames")" -ge $((r0 + 3))
t "idle over HTTP/2: the replacements share the connection (no new SETTINGS)" \
    test "$(grep -c 'recv SETTINGS frame <length=[0-9]*, flags=0x00' "$W/frames")" -eq "$s0"
t "idle over HTTP/2: the replacement resumes from the same rv ($rv)" \
    test "$(reqs watch services | tail -2 | awk '{print $5}' | qparam resourceVersion | sort -u)" = "$rv"
t "idle over HTTP/2: no relist" \
    test "$(reqs list services | wc -l)" -eq 2
t "idle over HTTP/2: nothing refused by seccomp" bash -c "! grep -q seccomp '$ERR'"
cmd quit
t "SIGTERM: exit status 0" wait_for '^exit 0$' 5 "$OUT"
if [ "$failed" -ne 0 ]; then
	echo "# watcher:"; sed 's/^/#   /' "$ERR" | tail -20
	echo "# front frames:"; grep -E 'recv|send' "$W/frames" | sed 's/^/#   /' | tail -30
	echo "# front access:"; sed 's/^/#   /' "$W/access"
fi
finish
