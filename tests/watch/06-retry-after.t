#!/usr/bin/env bash
# 429 and 503 with Retry-After: the watcher waits what the server asks,
# not its own back-off; without Retry-After it backs off as usual.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

ctl /fault '{"kind":"services","verb":"list","action":"status","status":429,"retry_after":2,"count":1}' >/dev/null
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 100 --jitter 0 --min-watch-ms 1
wait_for 'svc END' 10
reqlog >/dev/null
g=$(gaps list services | head -1)
t "wire: 429 recorded" grep -q 'list services 429' "$W/log"
t "wire: next list after Retry-After: 2 s ($g ms)" about "$g" 2000 2400
t "driver log names Retry-After" grep -q 'Retry-After' "$W/err"

wait_req watch services 1 5
sleep 0.2
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":503,"retry_after":1,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services $((n0 + 2)) 5
g=$(gaps watch services | tail -1)
t "wire: 503 with Retry-After: 1 on a watch waits 1 s ($g ms)" \
    about "$g" 1000 1300

sleep 0.2
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":429,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services $((n0 + 2)) 5
g=$(gaps watch services | tail -1)
t "wire: 429 without Retry-After uses the back-off ($g ms)" about "$g" 100 350
stop_driver
t "sink: one snapshot throughout" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1
finish
