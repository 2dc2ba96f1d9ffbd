#!/usr/bin/env bash
# kipvs-render --kubeconfig: one list of Services, EndpointSlices and the
# own Node from the test apiserver (the watcher's selectors, no watch)
# renders exactly what --objects renders for the same objects as a v1
# List, malformed objects are skipped with the same reasons, and a bad
# token, a closed port or --objects together with --kubeconfig are clear
# errors with a non-zero exit.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.."

B=${B:-build}
BIN=${KIPVS_RENDER:-$B/kipvs-render}
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ -x "$BIN" ] || skip_all "$BIN not built"
for tool in python3 openssl curl; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done

W=$(mktemp -d /tmp/kipvs-render-kc.XXXXXX)
API_DIR=$W
. tests/lib/apiserver.sh
n=0
failed=0

cleanup() {
	stop_api
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

ok() {	# ok EXIT-STATUS DESCRIPTION [DIAGNOSTIC FILE]
	local rc=$1 d=$2
	n=$((n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -30
	fi
}

t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}

render() {	# render OUT-PREFIX ARGS...: stdout, stderr and status in files
	local p=$1; shift
	timeout 60 "$BIN" "$@" >"$p.out" 2>"$p.err"
	echo $? >"$p.rc"
}

# The apiserver's request log keeps everything: mark where a run starts.
log_mark() {
	MARK=$(ctl /log | wc -l)
}

# The requests since log_mark, in $W/log.
log_since() {
	ctl /log | tail -n +$((MARK + 1)) >"$W/log"
}

qparam() {
	sed -n "s/.*[?&]$1=\([^& ]*\).*/\1/p"
}

SEL_ENC='%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name'
FLAGS=(--hostname-override node-a --node-ip 192.168.1.10,fd00::10
    --output all)

# The watcher's fixtures plus the malformed objects of render case 125
# (in the apiserver's {"kind", "object"} form): selected, filtered and
# invalid objects side by side.
python3 - "$W/fixtures.json" <<'EOF' || { echo "Bail out! fixtures"; exit 1; }
import json, sys
out = json.load(open("tests/apiserver/fixtures.json"))
plural = {"Service": "services", "EndpointSlice": "endpointslices",
          "Node": "nodes"}
case = json.load(open(
    "tests/render/cases/125-malformed-objects-skipped/cluster.json"))
for o in case["items"]:
    md = o.get("metadata") or {}
    if not isinstance(md.get("name"), str):
        continue
    k = plural[o.pop("kind")]
    o.pop("apiVersion", None)
    out.append({"kind": k, "object": o})
json.dump(out, open(sys.argv[1], "w"))
EOF
start_api --fixtures "$W/fixtures.json"

# One list of each kind.
log_mark
render "$W/kc" --kubeconfig "$W/kubeconfig" "${FLAGS[@]}"
log_since
ok "$(cat "$W/kc.rc")" "--kubeconfig: exit 0" "$W/kc.err"
t "--kubeconfig: something rendered" grep -q '^-A -t 10.96.0.1:443 ' \
    "$W/kc.out"
t "wire: exactly three requests" test "$(wc -l <"$W/log")" -eq 3
t "wire: no watch" bash -c "! awk '{print \$2}' '$W/log' | grep -qv '^list$'"
for k in services endpointslices nodes; do
	t "wire: one list of $k" \
	    test "$(awk -v k=$k '$2 == "list" && $3 == k' "$W/log" | wc -l)" \
	    -eq 1
done
svc=$(awk '$3 == "services" {print $5}' "$W/log")
sl=$(awk '$3 == "endpointslices" {print $5}' "$W/log")
nd=$(awk '$3 == "nodes" {print $5}' "$W/log")
t "services list: the watcher's label selector" \
    test "$(qparam labelSelector <<<"$svc")" = "$SEL_ENC"
t "services list: paginated (limit=500), consistent (no resourceVersion)" \
    bash -c "test '$(qparam limit <<<"$svc")' = 500 &&
    test -z '$(qparam resourceVersion <<<"$svc")'"
t "endpointslices list: the same label selector" \
    test "$(qparam labelSelector <<<"$sl")" = "$SEL_ENC"
t "nodes list: field selector metadata.name=node-a" \
    test "$(qparam fieldSelector <<<"$nd")" = "metadata.name%3Dnode-a"
t "all requests answered 200" \
    bash -c "! awk '{print \$4}' '$W/log' | grep -qv '^200$'"

# The same objects, every one of them (no selector: --objects filters by
# label itself), as the v1 List kubectl prints.
for k in api/v1/services apis/discovery.k8s.io/v1/endpointslices \
    api/v1/nodes; do
	curl -sS --fail --cacert "$W/ca.crt" \
	    -H "Authorization: Bearer $TOKEN" "$API/$k" \
	    >"$W/$(basename $k).json" ||
	    { echo "Bail out! cannot fetch $k"; exit 1; }
done
python3 - "$W" <<'EOF' || { echo "Bail out! v1 List"; exit 1; }
import json, sys
d = sys.argv[1]
items = []
for f, kind, api in (("services", "Service", "v1"),
                     ("endpointslices", "EndpointSlice",
                      "discovery.k8s.io/v1"),
                     ("nodes", "Node", "v1")):
    for o in json.load(open("%s/%s.json" % (d, f)))["items"]:
        o = dict([("apiVersion", api), ("kind", kind)] + list(o.items()))
        items.append(o)
json.dump({"apiVersion": "v1", "kind": "List", "items": items,
           "metadata": {"resourceVersion": ""}},
          open(d + "/objects.json", "w"), indent=4)
EOF
render "$W/obj" --objects "$W/objects.json" "${FLAGS[@]}"
ok "$(cat "$W/obj.rc")" "--objects of the same objects: exit 0" "$W/obj.err"
diff -u "$W/obj.out" "$W/kc.out" >"$W/diff"
ok $? "identical output (ipvs, ipset, iptables, addresses)" "$W/diff"
# Malformed objects: the same reasons, whatever list they came from.
reasons() {
	sed -n 's/.*warning: skipping [a-z]*\[[0-9]*\]: //p' "$1" | sort
}
reasons "$W/kc.err" >"$W/kc.why"
reasons "$W/obj.err" >"$W/obj.why"
diff -u "$W/obj.why" "$W/kc.why" >"$W/diff"
ok $? "the same objects skipped for the same reasons" "$W/diff"
t "malformed objects were skipped ($(wc -l <"$W/kc.why"))" \
    test "$(wc -l <"$W/kc.why")" -ge 10
t "a skip message names the list" \
    grep -Eq 'skipping services\[[0-9]+\]: Service bad/leading-zero: ' \
    "$W/kc.err"

# --service-proxy-name: the other selector.
log_mark
render "$W/pn" --kubeconfig "$W/kubeconfig" "${FLAGS[@]}" \
    --service-proxy-name other
log_since
svc=$(awk '$3 == "services" {print $5}' "$W/log")
ok "$(cat "$W/pn.rc")" "--service-proxy-name other: exit 0" "$W/pn.err"
t "--service-proxy-name other: its label selector" \
    test "$(qparam labelSelector <<<"$svc")" = \
    "service.kubernetes.io%2Fservice-proxy-name%3Dother"

# A bad token: the apiserver's 401, named, and exit 1 with no output.
write_kubeconfig "$W/bad-token.kubeconfig" wrong-token
log_mark
render "$W/bad" --kubeconfig "$W/bad-token.kubeconfig" "${FLAGS[@]}"
log_since
t "bad token: exit 1" test "$(cat "$W/bad.rc")" = 1
t "bad token: the HTTP 401 is named" grep -Eq 'list: HTTP 401' "$W/bad.err"
t "bad token: a final message names the server" \
    grep -q "cannot list the objects from $API" "$W/bad.err"
t "bad token: no output, no retry message" bash -c "test ! -s '$W/bad.out' &&
    ! grep -q retrying '$W/bad.err'"
t "bad token: no request retried (at most one list of each kind)" \
    test "$(awk '$4 == 401' "$W/log" | wc -l)" -le 3 -a \
    "$(awk '{print $3}' "$W/log" | sort | uniq -d | wc -l)" -eq 0

# Nothing listening: a connection error, exit 1.
API=https://127.0.0.1:1 write_kubeconfig "$W/closed.kubeconfig"
render "$W/closed" --kubeconfig "$W/closed.kubeconfig" "${FLAGS[@]}"
t "closed port: exit 1 with a connection error" bash -c "
    test \"\$(cat '$W/closed.rc')\" = 1 &&
    grep -q 'cannot list the objects from https://127.0.0.1:1' '$W/closed.err'"

# A kubeconfig the watcher refuses is refused here too.
sed 's/^    token: .*/    token: x\n    username: admin/' "$W/kubeconfig" \
    >"$W/basic.kubeconfig"
render "$W/basic" --kubeconfig "$W/basic.kubeconfig" "${FLAGS[@]}"
t "refused kubeconfig field: exit 1, named" bash -c "
    test \"\$(cat '$W/basic.rc')\" = 1 &&
    grep -q 'kubeconfig.*username' '$W/basic.err'"

# Usage errors.
render "$W/both" --objects "$W/objects.json" --kubeconfig "$W/kubeconfig"
t "--objects with --kubeconfig: exit 2, mutually exclusive" bash -c "
    test \"\$(cat '$W/both.rc')\" = 2 &&
    grep -q 'mutually exclusive' '$W/both.err'"
render "$W/none" --hostname-override node-a
t "neither: exit 2" bash -c "test \"\$(cat '$W/none.rc')\" = 2 &&
    grep -q -- '--objects FILE|- or --kubeconfig FILE is required' \
    '$W/none.err'"

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# apiserver stderr:"
	sed 's/^/#   /' "$W/apiserver.err" | tail -20
fi
exit $((failed > 0))
