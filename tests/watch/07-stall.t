#!/usr/bin/env bash
# A stalled connection — open, no FIN, no data — is given up and replaced:
# a watch when its own deadline (timeoutSeconds + grace) passes without the
# server ending it, a list when it makes no progress for list-idle
# seconds.  The replacement watch resumes from the last rv, so a change
# made during the stall still reaches the sink, and no relist happens.
# (With the real defaults the watch idle limit, 45 s, replaces a stalled
# watch first: 14-idle.t.  A dead peer is also caught below this, by TCP
# keepalive and TCP_USER_TIMEOUT: 13-deadpeer.t; see docs/watcher.md.)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

ctl /fault '{"kind":"services","verb":"list","action":"stall","count":1}' >/dev/null
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --watch-timeout 2 --watch-grace 2 --list-idle 2 \
    --backoff-base 200 --jitter 0 --min-watch-ms 1
t "sink: the list completes after a stalled attempt" wait_for 'svc END' 10
reqlog >/dev/null
t "wire: the first list stalled" grep -q 'list services 200+stall' "$W/log"
g=$(gaps list services | head -1)
t "wire: retried after 2 s without a byte + 200 ms back-off ($g ms)" \
    about "$g" 2200 2800
t "sink: the stalled half page was never shown" \
    test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1

wait_req watch services 1 5
# The next watch stalls right after its head.
ctl /fault '{"kind":"services","verb":"watch","action":"stall","count":1}' >/dev/null
sleep 0.3
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
ctl /end-watches '' >/dev/null
wait_req watch services $((n0 + 1)) 3
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"during","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.3"}}}' | tr -dc 0-9)
t "sink: the change made during the stall arrives after the replacement" \
    wait_for "svc ADDED alpha/during $rv" 10
reqlog >/dev/null
st=$(grep 'watch services 200+stall' "$W/log" | head -1)
ts=$(awk '{print $5}' <<<"$st" | qparam timeoutSeconds)
s0=$(cut -d' ' -f1 <<<"$st")
next=$(awk -v s="$s0" '$2 == "watch" && $1 > s {print; exit}' "$W/log")
g=$(( $(cut -d' ' -f1 <<<"$next") - s0 ))
lo=$(( (ts + 2) * 1000 + 200 ))
t "wire: stalled watch replaced at timeoutSeconds + grace + back-off ($g ms, ts=$ts)" \
    about "$g" $lo $((lo + 600))
t "wire: the replacement resumes from the same rv" \
    test "$(awk '{print $5}' <<<"$st" | qparam resourceVersion)" = \
    "$(awk '{print $5}' <<<"$next" | qparam resourceVersion)"
t "wire: no relist" test "$(reqs list services | wc -l)" -eq 2
t "driver log: timeout" grep -qi 'timed out\|timeout' "$W/err"
ctl /release '' >/dev/null
stop_driver
finish
