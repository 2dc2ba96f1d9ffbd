#!/usr/bin/env bash
# A stalled watch to a live peer — the connection open, no FIN, no data —
# is replaced within 60 s with the daemon's real default (not scaled): a
# watch that got no byte for 45 s is closed and replaced at once (no
# back-off) by a watch resuming from the last rv, on a fresh connection,
# without a relist; a change made during the stall is delivered by the
# replacement.  (13-deadpeer.t covers a peer that vanished; this one is
# alive at the TCP level, so keepalive cannot see it.)  Takes ~50 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

# Default watch timeout (300-600 s), grace (30 s) and idle limit (45 s);
# --min-watch-ms 1: the /end-watches below is not a server closing at once.
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 5000 --jitter 0 --min-watch-ms 1
t "sink: the list completes" wait_for 'svc END' 10
list_rv=$(sed -n 's/^[0-9]* svc END \([0-9]*\) .*/\1/p' "$W/out")
wait_req watch services 1 5
# The next watch stalls right after its head, with the connection open.
ctl /fault '{"kind":"services","verb":"watch","action":"stall","count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services 2 5
sleep 1
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"during","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.3"}}}' | tr -dc 0-9)
t "sink: the change made during the stall arrives within 60 s" \
    wait_for "svc ADDED alpha/during $rv" 62
reqlog >/dev/null
st=$(grep 'watch services 200+stall' "$W/log" | head -1)
s0=$(cut -d' ' -f1 <<<"$st")
next=$(awk -v s="$s0" '$2 == "watch" && $1 > s {print; exit}' "$W/log")
g=$(( ${next%% *} - s0 ))
# 45 s after the head (which left with the request's arrival), plus the
# 250 ms watchdog tick; no back-off (its base is 5 s here).
t "wire: stalled watch replaced after 45 s idle, well within 60 s ($g ms)" \
    about "$g" 45000 47500
t "wire: the stalled watch was the replacement of a normal end" \
    test "$(reqs watch services | wc -l)" -eq 3
t "wire: the replacement resumes from the stalled watch's rv ($list_rv)" \
    test "$(awk '{print $5}' <<<"$st" | qparam resourceVersion)" = \
    "$list_rv" -a "$(awk '{print $5}' <<<"$next" | qparam resourceVersion)" = \
    "$list_rv"
t "wire: no relist" test "$(reqs list services | wc -l)" -eq 1
t "log: replaced at info, naming the idle limit and the rv" \
    grep -q "services: watch: no byte for 45 s; replacing it from $list_rv" \
    "$W/err"
t "log: not a failure (no back-off)" bash -c "! grep -q 'retrying in' '$W/err'"
ctl /release '' >/dev/null
stop_driver
t "stats: one idle replacement, no failure, no restart, one snapshot" \
    grep -Eq 'STATS svc lists=1 relists=0 .* restarts=0 failures=0 .* idle=1$' \
    "$W/out"
t "sink: one snapshot" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1
finish
