#!/bin/bash
# The planner gives a large kernel dump's memory back: at 10,000 Services
# x 5 endpoints (the benchmark's workload), its VmRSS after the first full
# dump of the programmed kernel stays within 4 MB of its VmRSS before it.
# Without malloc_trim after the dump it kept ~9 MB more for good (28 vs
# 19 MB, docs/benchmarks.md).
#
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
need_root

python3 tests/bench/gen-objects.py 10000 "$TMP/w" >/dev/null ||
	{ echo "1..0 # SKIP gen-objects.py failed"; exit 0; }
# The dump comes 20 s after the snapshot: the first sync is applied long
# before (about 2 s here).
"$DRIVER" "$PLANNER" --user "$P_ID:$P_ID" --heartbeat-ms 200 \
    --hostname-override node-1 --cluster-cidr 10.244.0.0/16 \
    --ip-family ipv4 >"$TMP/mem.out" 2>"$TMP/mem.log" <<EOS &
objects $TMP/w/objects.json
node-ip 192.168.50.1
wait 200
snapshot
wait 20000
dump
wait 4000
EOS
DPID=$!
# waitfor PATTERN: up to 60 s in the planner's log.
waitfor() {
	local i
	for i in $(seq 600); do
		grep -q -- "$1" "$TMP/mem.log" && return 0
		sleep 0.1
	done
	return 1
}
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

waitfor 'first sync applied'
ok $? "first sync of 10,000 Services applied" || tail -n 3 "$TMP/mem.log" | diag
sleep 1
PPID_=$(pgrep -P "$DPID" -x kipvs-planner | head -n1)
before=$(rss "$PPID_")
! grep -q 'dump [0-9]* complete: 11001 ' "$TMP/mem.log"
ok $? "measured before the full dump (VmRSS ${before:-?} kB)"
waitfor 'dump [0-9]* complete: 11001 virtual servers'
ok $? "the full dump (11,001 virtual servers) applied" || tail -n 3 "$TMP/mem.log" | diag
sleep 1
after=$(rss "$PPID_")
[ -n "$before" ] && [ -n "$after" ] && [ "$after" -le $((before + 4096)) ]
ok $? "VmRSS after the dump ${after:-?} kB, within 4 MB of before (${before:-?} kB)"
wait "$DPID" 2>/dev/null
finish
