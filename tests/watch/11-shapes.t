#!/usr/bin/env bash
# The test apiserver answers in the real kube-apiserver's byte shapes: for
# each recorded response in tests/apiserver/recorded/ the same request to
# the test apiserver gives the same status, header names in the same order,
# the same framing (Content-Length under 2 KiB, chunked above, one chunk
# per watch event ending in "\n"), compact JSON with a trailing newline,
# and the same JSON keys in the same order.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api
REC=tests/apiserver/recorded

get() {	# get OUT PATH [curl args]: raw response as the recordings were made
	local out=$1 path=$2; shift 2
	curl -sS --http1.1 -i --raw --cacert "$W/ca.crt" \
	    -A wire-recorder/1.0 -H 'Accept: application/json' "$@" \
	    "$API$path" >"$W/$out"
}
auth=(-H "Authorization: Bearer $TOKEN")
shape() {	# the distinct shape lines, in order of first appearance
	python3 tests/apiserver/shape.py "$1" | awk '!seen[$0]++'
}
same() {	# same RECORDED LIVE DESCRIPTION
	if diff <(shape "$REC/$1") <(shape "$W/$2") >"$W/diff"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		sed 's/^/#   /' "$W/diff"
	fi
}

get small '/api/v1/services?limit=2' "${auth[@]}"
same services-list-page2.http small "list page under 2 KiB: Content-Length"
ctl /generate '{"kind":"services","count":10}' >/dev/null
get big '/api/v1/services?limit=8' "${auth[@]}"
same services-list-page1.http big "list page over 2 KiB: chunked"
tok=$(sed -n 's/.*"continue":"\([^"]*\)".*/\1/p' "$W/big")
t "list page carries continue and remainingItemCount" \
    grep -q '"continue":".*","remainingItemCount":6}' "$W/big"

rv=$(ctl /rv | tr -dc 0-9)
( sleep 0.5; ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"api","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.1"}}}' >/dev/null ) &
bg=$!
get watch "/api/v1/services?allowWatchBookmarks=true&labelSelector=$SEL_ENC&resourceVersion=$rv&timeoutSeconds=2&watch=1" "${auth[@]}"
wait $bg
same services-watch.http watch "watch: chunked, one event per chunk, then the end"
t "watch: the final bookmark is a Service of only a resourceVersion" \
    grep -q '{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"[0-9]*","creationTimestamp":null},"spec":{},"status":{"loadBalancer":{}}}}' "$W/watch"

get unauth '/api/v1/services'
same unauthorized.http unauth "401 without a token: no priority-and-fairness headers"

ctl /compact '' >/dev/null
get old "/api/v1/services?labelSelector=$SEL_ENC&limit=500&resourceVersion=$rv" \
    "${auth[@]}"
same list-too-old.http old "list from a compacted rv: HTTP 410"
get gone "/api/v1/services?allowWatchBookmarks=true&labelSelector=$SEL_ENC&resourceVersion=$rv&timeoutSeconds=30&watch=1" "${auth[@]}"
same watch-too-old.http gone "watch from before the window: 200 + ERROR 410"
t "watch 410 message names both versions" \
    grep -q "too old resource version: $rv ([0-9]*)" "$W/gone"
get cont "/api/v1/services?limit=8&continue=$tok" "${auth[@]}"
same list-continue-expired.http cont "expired continue token: 410 with a new token"
finish
