#!/usr/bin/env bash
# A watch that ends normally (the server's timeoutSeconds) is resumed at
# once from the last resourceVersion seen — an event's or a bookmark's —
# with no back-off and no relist; the sink notices nothing.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --watch-timeout 2 --min-watch-ms 1 --backoff-base 3000
wait_for 'svc END' 10
list_rv=$(sed -n 's/^[0-9]* svc END \([0-9]*\) .*/\1/p' "$W/out")
wait_req watch services 1 5
rv1=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"api","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.1"}}}' | tr -dc 0-9)
wait_for "svc ADDED alpha/api $rv1" 5
wait_req watch services 2 6
# A change the selector hides: only a bookmark can carry its rv.
rv2=$(ctl /apply '{"kind":"services","op":"modify","object":{"metadata":{"name":"other-proxy","namespace":"beta","labels":{"service.kubernetes.io/service-proxy-name":"other","x":"1"}},"spec":{"clusterIP":"10.96.20.20"}}}' | tr -dc 0-9)
t "sink: the bookmark before the end carries the hidden change's rv" \
    wait_for "svc BOOKMARK $rv2" 6
wait_req watch services 4 10
reqlog >/dev/null
reqs watch services >"$W/w"
t "wire: first watch from the list's rv" \
    test "$(sed -n 1p "$W/w" | awk '{print $5}' | qparam resourceVersion)" = \
    "$list_rv"
t "wire: second watch resumes from the event's rv ($rv1)" \
    test "$(sed -n 2p "$W/w" | awk '{print $5}' | qparam resourceVersion)" = \
    "$rv1"
t "wire: a later watch resumes from the bookmark's rv ($rv2)" \
    bash -c "awk '{print \$5}' '$W/w' | tail -n +3 | grep -q 'resourceVersion=$rv2&'"
ok=0
i=1
diag=
while [ $i -lt "$(wc -l <"$W/w")" ]; do
	a=$(sed -n ${i}p "$W/w")
	b=$(sed -n $((i + 1))p "$W/w")
	ts=$(awk '{print $5}' <<<"$a" | qparam timeoutSeconds)
	gap=$(( $(awk '{print $1}' <<<"$b") - $(awk '{print $1}' <<<"$a") ))
	about $gap $((ts * 1000)) $((ts * 1000 + 300)) || ok=1
	diag="$diag $gap/${ts}s"
	i=$((i + 1))
done
t "wire: each next watch starts when the last ends, no back-off (${diag# })" \
    test $ok -eq 0
t "wire: no list after the first" test "$(reqs list services | wc -l)" -eq 1
t "sink: one snapshot only" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1

# The apiserver closes every watch at once (e.g. it is shutting down):
# resumed immediately, too.
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
te=$(ctl /end-watches '' | tr -dc 0-9)
wait_req watch services $((n0 + 1)) 5
g=$(( $(reqs watch services | tail -1 | cut -d' ' -f1) - te ))
t "wire: a watch the server closes early is resumed at once ($g ms)" \
    about "$g" 0 300
stop_driver
t "stats: no failures" grep -q 'STATS svc .* failures=0' "$W/out"
finish
