#!/usr/bin/env bash
# kipvs-planner when a batch fails wholesale: every failed op is counted
# and retried, but only the first 100 of a batch are logged one by one,
# then one line says how many more failed (a kernel refusing a cold start
# of 10,000 Services used to be 76,000 warnings, and the planner, busy
# writing them, missed its heartbeat and was killed by the parent).
. "$(dirname "$0")/lib.sh"
need_root

F="--hostname-override node-a --ip-family ipv4"
# 150 more Services like web, each with its own ClusterIP: 150 vs-ensure.
python3 - "$FIX" "$TMP/many.json" <<'EOF'
import copy, json, sys
fix, out = sys.argv[1:3]
base = json.load(open(fix))
svc = next(i for i in base["items"]
           if i["kind"] == "Service" and i["metadata"]["name"] == "web")
for i in range(150):
    s = copy.deepcopy(svc)
    s["metadata"]["name"] = "many-%d" % i
    ip = "10.96.%d.%d" % (100 + i // 200, 10 + i % 200)
    s["spec"]["clusterIP"] = ip
    s["spec"]["clusterIPs"] = [ip]
    base["items"].append(s)
json.dump(base, open(out, "w"), indent=1)
EOF
ok $? "fixture: the base cluster plus 150 Services"

drive many $F <<EOS
objects $TMP/many.json
node-ip 192.168.1.10
fail vs-ensure 1000 12
wait 200
snapshot
wait 3000
EOS

failed=$(grep -c '^op vs-ensure .* FAILED 12$' "$TMP/many.out")
[ "$failed" -gt 150 ]
ok $? "more than 150 vs-ensure failed in the first sync ($failed)"
# Per batch (the driver's output): k failed ops -> min(k, 100) logged,
# and "k - 100 more" when k > 100.
awk '/^batch /{ if (b) print k; b = 1; k = 0; next }
    /^op .* (FAILED|REJECTED|BLOCKED)/{ k++ } END { if (b) print k }' \
    "$TMP/many.out" >"$TMP/many.per"
want_logged=$(awk '{ s += ($1 > 100 ? 100 : $1) } END { print s + 0 }' "$TMP/many.per")
want_more=$(awk '$1 > 100 { printf "%d ", $1 - 100 }' "$TMP/many.per")
logged=$(grep -c 'skipping ' "$TMP/many.log")
got_more=$(grep -oE 'batch [0-9]+: [0-9]+ more failed ops not logged one by one' \
    "$TMP/many.log" | awk '{ printf "%d ", $3 }')
[ "$logged" -eq "$want_logged" ]
ok $? "at most 100 failed ops logged one by one per batch ($logged logged; failures per batch: $(tr '\n' ' ' <"$TMP/many.per"))"
[ -n "$want_more" ] && [ "$got_more" = "$want_more" ]
ok $? "one line per batch with more than 100 says how many more (got: $got_more; want: $want_more)"
grep -q "^status .*failed=[1-9]" "$TMP/many.out"
ok $? "the status counts the failures"
finish
