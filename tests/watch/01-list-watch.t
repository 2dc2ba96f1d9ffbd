#!/usr/bin/env bash
# List then watch: kube-proxy's selectors on the wire, the list's rv as the
# watch's start, bookmarks allowed, a randomised timeoutSeconds; the sink
# gets a snapshot and then every delta (including a selector exit/entry),
# bookmarks, and nothing about other nodes.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api --bookmark-interval 1

start_driver --kubeconfig "$W/kubeconfig" --node node-a --watch-timeout 20
wait_for '^[0-9]+ node END' 10
wait_for '^[0-9]+ svc END' 10
wait_for '^[0-9]+ slice END' 10
sleep 0.3
reqlog >/dev/null

# Wire: the lists.
svc_list=$(reqs list services | head -1 | awk '{print $5}')
t "services list: label selector" \
    test "$(qparam labelSelector <<<"$svc_list")" = "$SEL_ENC"
t "services list: limit=500" test "$(qparam limit <<<"$svc_list")" = 500
t "services list: consistent read (no resourceVersion)" \
    test -z "$(qparam resourceVersion <<<"$svc_list")"
sl_list=$(reqs list endpointslices | head -1 | awk '{print $5}')
t "endpointslices list: same label selector" \
    test "$(qparam labelSelector <<<"$sl_list")" = "$SEL_ENC"
node_list=$(reqs list nodes | head -1 | awk '{print $5}')
t "nodes list: field selector metadata.name=node-a" \
    test "$(qparam fieldSelector <<<"$node_list")" = "metadata.name%3Dnode-a"

# Sink: the snapshots.
t "sink: services snapshot has the 3 selected Services" \
    grep -Eq '^[0-9]+ svc END [0-9]+ items=3$' "$W/out"
t "sink: other-proxy is not in it" bash -c "! grep -q other-proxy '$W/out'"
t "sink: the headless EndpointSlice is not in it" \
    bash -c "! grep -q headless-h4s8k '$W/out'"
t "sink: only node-a" bash -c "grep -q 'node ITEM node-a' '$W/out' &&
    ! grep -q node-b '$W/out'"
t "sink: BEGIN before items before END" bash -c "
    grep -E '^[0-9]+ svc (BEGIN|ITEM|END)' '$W/out' | awk '{print \$3}' |
    uniq | tr '\n' ' ' | grep -qx 'BEGIN ITEM END '"

# Wire: the watches start from the list's rv.
list_rv=$(sed -n 's/^[0-9]* svc END \([0-9]*\) .*/\1/p' "$W/out")
wait_req watch services 1 5
reqlog >/dev/null
w=$(reqs watch services | head -1 | awk '{print $5}')
t "services watch: resourceVersion = the list's ($list_rv)" \
    test "$(qparam resourceVersion <<<"$w")" = "$list_rv"
t "services watch: allowWatchBookmarks=true" \
    test "$(qparam allowWatchBookmarks <<<"$w")" = true
t "services watch: watch=true" test "$(qparam watch <<<"$w")" = true
t "services watch: same label selector" \
    test "$(qparam labelSelector <<<"$w")" = "$SEL_ENC"
ts=$(qparam timeoutSeconds <<<"$w")
t "services watch: timeoutSeconds in [20, 40) (got $ts)" within "$ts" 20 39
nw=$(reqs watch nodes | head -1 | awk '{print $5}')
t "nodes watch: field selector" \
    test "$(qparam fieldSelector <<<"$nw")" = "metadata.name%3Dnode-a"

# Deltas.
ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"api","namespace":"alpha","labels":{"app":"api"}},"spec":{"clusterIP":"10.96.1.1","ports":[{"port":80}]}}}' >/dev/null
t "sink: ADDED alpha/api" wait_for 'svc ADDED alpha/api ' 5
ctl /apply '{"kind":"services","op":"modify","object":{"metadata":{"name":"api","namespace":"alpha","labels":{"app":"api"}},"spec":{"clusterIP":"10.96.1.1","ports":[{"port":80},{"port":9090}]}}}' >/dev/null
t "sink: MODIFIED alpha/api" wait_for 'svc MODIFIED alpha/api ' 5
ctl /apply '{"kind":"services","op":"modify","object":{"metadata":{"name":"api","namespace":"alpha","labels":{"app":"api","service.kubernetes.io/service-proxy-name":"other"}},"spec":{"clusterIP":"10.96.1.1"}}}' >/dev/null
t "sink: leaving the selector is DELETED" wait_for 'svc DELETED alpha/api ' 5
ctl /apply '{"kind":"services","op":"modify","object":{"metadata":{"name":"api","namespace":"alpha","labels":{"app":"api"}},"spec":{"clusterIP":"10.96.1.1"}}}' >/dev/null
t "sink: coming back is ADDED again" wait_count 'svc ADDED alpha/api ' 2 5
rv=$(ctl /apply '{"kind":"services","op":"delete","object":{"metadata":{"name":"api","namespace":"alpha"}}}' | tr -dc 0-9)
t "sink: DELETED alpha/api with the delete's rv ($rv)" \
    wait_for "svc DELETED alpha/api $rv\$" 5
ctl /apply '{"kind":"endpointslices","op":"add","object":{"metadata":{"name":"api-1","namespace":"alpha","labels":{"kubernetes.io/service-name":"api"}},"addressType":"IPv4","endpoints":[],"ports":[]}}' >/dev/null
t "sink: slice ADDED" wait_for 'slice ADDED alpha/api-1 ' 5
ctl /apply '{"kind":"nodes","op":"modify","object":{"metadata":{"name":"node-b","labels":{"x":"y"}}}}' >/dev/null
ctl /apply '{"kind":"nodes","op":"modify","object":{"metadata":{"name":"node-a","labels":{"topology.kubernetes.io/zone":"zone-c"}}}}' >/dev/null
t "sink: own node MODIFIED" wait_for 'node MODIFIED node-a ' 5
t "sink: never another node" bash -c "! grep -q node-b '$W/out'"
t "sink: bookmarks" wait_for 'svc BOOKMARK [0-9]+$' 5
reqlog >/dev/null
t "wire: still one watch per resource (no restarts)" \
    test "$(reqs watch services | wc -l)" -eq 1
t "wire: exactly one list per resource" \
    test "$(reqlog | awk '$2 == "list"' | wc -l)" -eq 3
stop_driver

# --service-proxy-name changes the selector.
: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --proxy-name other \
    --resources svc,slice
wait_for 'svc END' 10
stop_driver
reqlog >/dev/null
p=$(reqs list services | tail -1 | awk '{print $5}')
t "proxy name: selector service.kubernetes.io/service-proxy-name=other" \
    test "$(qparam labelSelector <<<"$p")" = \
    "service.kubernetes.io%2Fservice-proxy-name%3Dother"
t "proxy name: sink gets only other-proxy" \
    grep -Eq '^[0-9]+ svc END [0-9]+ items=1$' "$W/out"
finish
