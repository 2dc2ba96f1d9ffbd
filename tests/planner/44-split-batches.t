#!/bin/bash
# A sync too large for one batch goes out as several, in order: the
# applier refuses a batch over its --max-batch-ops (250,000 by default),
# and a cold start at 50,000 Services is ~485,000 ops.  At 20,000
# Services (194,035 ops) the planner sends the critical batch and then
# the rest as batches of at most 100,000 ops; "first sync applied" comes
# once, after the last; the simulated kernel then equals kipvs-render.
#
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
need_root

python3 tests/bench/gen-objects.py 20000 "$TMP/w" >/dev/null ||
	{ echo "1..0 # SKIP gen-objects.py failed"; exit 0; }
F=(--hostname-override node-1 --cluster-cidr 10.244.0.0/16 --ip-family ipv4)
drive split "${F[@]}" <<EOS
objects $TMP/w/objects.json
node-ip 192.168.50.1
wait 200
snapshot
wait 40000
save-ipvs $TMP/split.ipvs
save-sets $TMP/split.sets
EOS
grep '^batch' "$TMP/split.out" | sed 's/^/# /'
awk '/^batch/ { sub(/ops=/, "", $4); n++; if ($4 + 0 > 100000) big++; sum += $4 }
    END { exit !(n >= 3 && big == 0 && sum > 190000) }' "$TMP/split.out"
ok $? "the cold start goes out as three or more batches of at most 100,000 ops"
[ "$(grep -c 'first sync applied' "$TMP/split.log")" = 1 ] &&
    awk '/first sync applied/ { f = NR } /batch [0-9]+ done/ { d = NR }
        END { exit !(f > 0 && d > f) }' "$TMP/split.log" &&
    [ "$(grep -c 'batch [0-9]* done: [0-9]* results, 0 failed' "$TMP/split.log")" -ge 3 ]
ok $? "\"first sync applied\" once, with the last batch; no op failed" ||
    grep -E "first sync|done|fail" "$TMP/split.log" | head -n 8 | sed "s/^/# /"
"$RENDER" --objects "$TMP/w/objects.json" "${F[@]}" --node-ip 192.168.50.1 \
    --output ipvs >"$TMP/r.ipvs" 2>/dev/null
cmp -s "$TMP/r.ipvs" "$TMP/split.ipvs"
ok $? "the simulated IPVS table equals kipvs-render ($(grep -c '^-A' "$TMP/split.ipvs") virtual servers)"
finish
