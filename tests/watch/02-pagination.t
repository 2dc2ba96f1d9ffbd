#!/usr/bin/env bash
# Paginated lists: limit on every page, the continue token passed back
# verbatim, one snapshot across all pages; an expired continue token (410)
# restarts the list from the beginning.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api
ctl /generate '{"kind":"services","count":7,"namespace":"gen"}' >/dev/null

start_driver --kubeconfig "$W/kubeconfig" --resources svc --page-limit 3
wait_for 'svc END' 10
wait_req watch services 1 5
stop_driver
reqlog >/dev/null
reqs list services | awk '{print $5}' >"$W/lists"
t "wire: 4 pages for 10 Services at limit=3" test "$(wc -l <"$W/lists")" -eq 4
t "wire: every page asks limit=3" \
    test "$(qparam limit <"$W/lists" | sort -u)" = 3
t "wire: the first page has no continue" \
    test -z "$(head -1 "$W/lists" | qparam continue)"
t "wire: every later page sends a continue token" \
    test "$(tail -n +2 "$W/lists" | qparam continue | grep -c .)" -eq 3
tok=$(sed -n 2p "$W/lists" | qparam continue | sed 's/%3D/=/g')
dec=$(printf '%s' "$tok" | tr _- /+ | base64 -d 2>/dev/null)
t "wire: the token is the server's, passed back verbatim ($dec)" \
    grep -q '"start":"default/kubernetes' <<<"$dec"
t "wire: every page keeps the selector" \
    test "$(qparam labelSelector <"$W/lists" | sort -u)" = "$SEL_ENC"
t "sink: one BEGIN, one END for all pages" bash -c "
    test \$(grep -c 'svc BEGIN' '$W/out') -eq 1 &&
    test \$(grep -c 'svc END' '$W/out') -eq 1"
t "sink: all 10 Services" grep -Eq 'svc END [0-9]+ items=10$' "$W/out"
t "sink: items in list order, none twice" bash -c "
    grep 'svc ITEM' '$W/out' | awk '{print \$4}' | sort -c &&
    test \$(grep 'svc ITEM' '$W/out' | awk '{print \$4}' | sort -u | wc -l) -eq 10"
t "stats: 4 pages, 1 list" grep -q 'STATS svc lists=1 relists=0 pages=4' \
    "$W/out"

# Expired continue token: the third page gets 410 Expired.
: >"$W/out"
ctl /fault '{"kind":"services","verb":"list","action":"expire_continue","count":1}' >/dev/null
before=$(reqlog | wc -l)
start_driver --kubeconfig "$W/kubeconfig" --resources svc --page-limit 3
wait_for 'svc END' 10
wait_req watch services 2 5
stop_driver
reqlog | tail -n +$((before + 1)) | awk '$2 == "list"' >"$W/lists"
t "wire: 410 on the first continued page" \
    grep -Eq '^[0-9]+ list services 410 .*continue=' "$W/lists"
first410=$(grep -n ' 410 ' "$W/lists" | head -1 | cut -d: -f1)
t "wire: the next request starts over without continue" \
    test -z "$(sed -n "$((first410 + 1))p" "$W/lists" | qparam continue)"
t "wire: 1 + 1 + 4 list requests" test "$(wc -l <"$W/lists")" -eq 6
t "sink: a second BEGIN, then one complete END" bash -c "
    test \$(grep -c 'svc BEGIN' '$W/out') -eq 2 &&
    test \$(grep -c 'svc END' '$W/out') -eq 1 &&
    grep -Eq 'svc END [0-9]+ items=10$' '$W/out'"
t "stats: one relist" grep -q 'STATS svc lists=2 relists=1' "$W/out"
finish
