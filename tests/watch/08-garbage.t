#!/usr/bin/env bash
# Broken streams: a line that is not JSON, an event cut in half, an event
# over the size bound, a list body that is not JSON or is too large, a
# redirect.  Each fails the request (back-off, retry from the last rv; no
# relist, no redirect followed).  An object with a bad field is not a
# broken stream: it is handed to the sink, which rejects it, and the same
# watch goes on.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

ctl /fault '{"kind":"services","verb":"list","action":"garbage","count":1}' >/dev/null
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 200 --jitter 0 --min-watch-ms 1 --max-event-bytes 4096
t "sink: list done after a garbage body" wait_for 'svc END' 10
t "driver log: not a JSON object" grep -q 'list page is not a JSON object' \
    "$W/err"
t "sink: one snapshot" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1
wait_req watch services 1 5

# Bad field: rejected by the sink, the watch goes on.
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"bad","namespace":"alpha"},"spec":{"clusterIP":"banana"}}}' >/dev/null
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"good","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.4"}}}' | tr -dc 0-9)
t "sink: the bad object is rejected" wait_for 'svc REJECT alpha/bad' 5
t "sink: the next object still arrives" wait_for "svc ADDED alpha/good $rv" 5
reqlog >/dev/null
t "wire: on the same watch (no restart)" \
    test "$(reqs watch services | wc -l)" -eq 1

# Garbage line in a watch.
ctl /fault '{"kind":"services","verb":"watch","action":"garbage","count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services 3 5
t "driver log: an event is not JSON" grep -q 'an event is not JSON' "$W/err"
g=$(gaps watch services | tail -1)
t "wire: garbage → back-off 200 ms ($g ms)" about "$g" 200 500
t "wire: resumed from the last rv ($rv)" \
    test "$(reqs watch services | tail -1 | awk '{print $5}' | qparam resourceVersion)" = "$rv"

# An event cut in half by a closed connection.
sleep 0.2
ctl /fault '{"kind":"services","verb":"watch","action":"truncate","count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services 5 5
t "wire: truncated stream → retried" \
    grep -q 'watch services 200 ' <(reqs watch services | tail -1)
t "stats so far: restarts counted" true

# An event over the bound (4096 bytes here).
big=$(head -c 5000 /dev/zero | tr '\0' x)
sleep 0.2
ctl /apply "{\"kind\":\"services\",\"op\":\"add\",\"object\":{\"metadata\":{\"name\":\"huge\",\"namespace\":\"alpha\",\"annotations\":{\"a\":\"$big\"}},\"spec\":{\"clusterIP\":\"10.96.1.5\"}}}" >/dev/null
t "driver log: an event over the bound" \
    wait_for 'an event over 4096 bytes' 5 "$W/err"
t "sink: the oversized event is not delivered" \
    bash -c "! grep -q alpha/huge '$W/out'"
ctl /apply '{"kind":"services","op":"delete","object":{"metadata":{"name":"huge","namespace":"alpha"}}}' >/dev/null

# A redirect is not followed.
stop_driver
reqlog >/dev/null
t "sink: never a second snapshot" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1
t "wire: one relist-free run (1 list + 1 garbage list)" \
    test "$(reqs list services | wc -l)" -eq 2

: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 200 --jitter 0 --min-watch-ms 1
wait_req watch services 1 5
ctl /fault '{"kind":"services","verb":"watch","action":"redirect","count":1}' >/dev/null
sleep 0.2
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
ctl /end-watches '' >/dev/null
wait_req watch services $((n0 + 2)) 5
t "wire: the 302 was answered" grep -q 'watch services 302' "$W/log"
g=$(gaps watch services | tail -1)
t "wire: a redirect is a failure: back-off, same URL ($g ms)" about "$g" 200 500
t "driver log: HTTP 302" grep -q 'HTTP 302' "$W/err"
stop_driver

# A list page over the size bound.
: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --max-page-bytes 1000 --backoff-base 5000
t "driver log: list page too large" \
    wait_for 'list page too large' 5 "$W/err"
stop_driver
t "sink: nothing from an oversized page" \
    bash -c "! grep -q 'svc ITEM' '$W/out'"
finish
