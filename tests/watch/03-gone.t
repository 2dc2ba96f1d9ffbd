#!/usr/bin/env bash
# 410 Gone: as an in-stream ERROR event (the watch cache moved past our
# rv) and as an HTTP status.  The watcher lists again at once, without
# back-off and without telling the sink anything was deleted; the sink gets
# a fresh snapshot (BEGIN, items, END) from which an object deleted during
# the gap is simply missing.  A relist on request works the same way.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

start_driver --kubeconfig "$W/kubeconfig" --resources svc --backoff-base 2000
wait_for 'svc END' 10
wait_req watch services 1 5
# Keep the watcher from watching while alpha/web is deleted and the
# apiserver "restarts" (compaction), so it never sees the delete.
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":503,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services 2 5
ctl /apply '{"kind":"services","op":"delete","object":{"metadata":{"name":"web","namespace":"alpha"}}}' >/dev/null
window=$(ctl /compact '' | tr -dc 0-9)
t "sink: a second snapshot" wait_count 'svc END' 2 10
wait_req watch services 4 5
reqlog >/dev/null
t "wire: the watch from the old rv got the in-stream 410" \
    grep -Eq ' watch services 200\+gone ' "$W/log"
gone_t=$(awk '$2 == "watch" && $4 == "200+gone" {print $1; exit}' "$W/log")
relist_t=$(awk -v g="$gone_t" '$2 == "list" && $1 >= g {print $1; exit}' \
    "$W/log")
t "wire: the relist follows at once, no back-off ($((relist_t - gone_t)) ms)" \
    within $((relist_t - gone_t)) 0 400
t "wire: the relist is a fresh consistent list (no rv, no continue)" bash -c "
    awk '\$2 == \"list\"' '$W/log' | tail -1 | grep -v resourceVersion |
    grep -vq continue"
last=$(reqs watch services | tail -1 | awk '{print $5}')
t "wire: the next watch starts from the new list's rv ($window)" \
    test "$(qparam resourceVersion <<<"$last")" = "$window"
t "sink: no DELETED event was made up" bash -c "! grep -q DELETED '$W/out'"
t "sink: second snapshot without alpha/web" bash -c "
    sed -n '/svc BEGIN/h; /svc BEGIN/!H; \${x;p}' '$W/out' |
    grep -q 'END [0-9]* items=2' &&
    ! sed -n '/svc BEGIN/h; /svc BEGIN/!H; \${x;p}' '$W/out' | grep -q alpha/web"
t "sink: BEGIN came only after the 410, not at the 503" \
    test "$(grep -c 'svc BEGIN' "$W/out")" -eq 2

# 410 as an HTTP status on the watch request.
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":410,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
t "sink: HTTP 410 on a watch makes a third snapshot" \
    wait_count 'svc END' 3 10
reqlog >/dev/null
t "wire: HTTP 410 recorded" grep -Eq ' watch services 410 ' "$W/log"

# A relist requested by the owner (the planner reconnected).
stop_driver
: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --resources svc --relist-after 1
wait_for 'RELIST' 5
t "sink: a requested relist gives a fresh snapshot" \
    wait_count 'svc END' 2 5
stop_driver
t "stats: counted as relist" grep -q 'STATS svc lists=2 relists=1' "$W/out"
finish
