#!/usr/bin/env bash
# Guest side (tests/vm/run.sh tests/vm/guest/applier-ipvs.sh BUILDDIR):
# applierd/applier_ipvs against the guest's real IPVS, checked through
# `ipvsadm -Sn` and through the applier's own dump.  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
B=${1:-build}
T=$PWD/$B/tests/helpers/applier_ipvs_tool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
sorted_ipvsadm() { ipvsadm -Sn | LC_ALL=C sort; }
sorted_dump() { "$T" dump 2>/dev/null | LC_ALL=C sort; }
echo 1..20

modprobe ip_vs 2>/dev/null

# A foreign service (keepalived's, say) that must survive everything.
ipvsadm -A -t 192.0.2.200:22 -s wlc && ipvsadm -a -t 192.0.2.200:22 -r 192.0.2.201:22 -g

# 1-3: the spec's §3.2 example as one batch.
cat > "$tmp/example" <<'OPS'
svc_add tcp 10.96.0.1 443 rr
dest_add tcp 10.96.0.1 443 192.168.1.10 6443 1
svc_add udp 10.96.0.10 53 rr
dest_add udp 10.96.0.10 53 10.244.1.5 53 1
dest_add udp 10.96.0.10 53 10.244.2.7 53 1
svc_add tcp 10.96.0.10 53 rr
dest_add tcp 10.96.0.10 53 10.244.1.5 53 1
dest_add tcp 10.96.0.10 53 10.244.2.7 53 1
svc_add tcp 10.96.100.20 80 rr 10800
dest_add tcp 10.96.100.20 80 10.244.1.8 8080 1
dest_add tcp 10.96.100.20 80 10.244.2.9 8080 1
svc_add tcp 192.0.2.50 80 rr 10800
dest_add tcp 192.0.2.50 80 10.244.1.8 8080 1
svc_add tcp 203.0.113.10 80 rr 10800
dest_add tcp 203.0.113.10 80 10.244.1.8 8080 1
svc_add tcp 192.168.1.10 30080 rr 10800
dest_add tcp 192.168.1.10 30080 10.244.1.8 8080 1
svc_add udp fd00::a 53 rr
dest_add udp fd00::a 53 fd00:10:244:1::5 53 1
svc_add sctp 10.96.0.30 9000 rr
dest_add sctp 10.96.0.30 9000 10.244.1.9 9000 1
OPS
"$T" -a "$tmp/audit" batch < "$tmp/example" > "$tmp/res" 2> "$tmp/err"
rc=$?
diag < "$tmp/err"
[[ $rc == 0 && ! -s $tmp/res ]] && grep -q 'ops=21 failed=0 changed=21' "$tmp/err"
ok $? "example batch: 21 ops, all applied"
cat > "$tmp/want" <<'WANT'
-A -t 10.96.0.1:443 -s rr
-a -t 10.96.0.1:443 -r 192.168.1.10:6443 -m -w 1
-A -u 10.96.0.10:53 -s rr
-a -u 10.96.0.10:53 -r 10.244.1.5:53 -m -w 1
-a -u 10.96.0.10:53 -r 10.244.2.7:53 -m -w 1
-A -t 10.96.0.10:53 -s rr
-a -t 10.96.0.10:53 -r 10.244.1.5:53 -m -w 1
-a -t 10.96.0.10:53 -r 10.244.2.7:53 -m -w 1
-A -t 10.96.100.20:80 -s rr -p 10800
-a -t 10.96.100.20:80 -r 10.244.1.8:8080 -m -w 1
-a -t 10.96.100.20:80 -r 10.244.2.9:8080 -m -w 1
-A -t 192.0.2.50:80 -s rr -p 10800
-a -t 192.0.2.50:80 -r 10.244.1.8:8080 -m -w 1
-A -t 203.0.113.10:80 -s rr -p 10800
-a -t 203.0.113.10:80 -r 10.244.1.8:8080 -m -w 1
-A -t 192.168.1.10:30080 -s rr -p 10800
-a -t 192.168.1.10:30080 -r 10.244.1.8:8080 -m -w 1
-A -u [fd00::a]:53 -s rr
-a -u [fd00::a]:53 -r [fd00:10:244:1::5]:53 -m -w 1
-A --sctp-service 10.96.0.30:9000 -s rr
-a --sctp-service 10.96.0.30:9000 -r 10.244.1.9:9000 -m -w 1
WANT
sorted_ipvsadm | grep -v 192.0.2.20 > "$tmp/got"
LC_ALL=C sort "$tmp/want" | diff -u - "$tmp/got" | diag
LC_ALL=C sort "$tmp/want" | cmp -s - "$tmp/got"
ok $? "ipvsadm -Sn shows exactly the spec's example (plus the foreign service)"
sorted_dump | grep -v 192.0.2.20 | cmp -s - "$tmp/got"
ok $? "the applier's own dump equals ipvsadm -Sn"

# 4-5: re-applying changes nothing and writes nothing.
sorted_ipvsadm > "$tmp/before"
"$T" batch < "$tmp/example" > "$tmp/res" 2> "$tmp/err"
diag < "$tmp/err"
grep -q 'ops=21 failed=0 changed=0' "$tmp/err"
ok $? "re-apply: every op succeeds with no kernel write"
sorted_ipvsadm | cmp -s - "$tmp/before"; ok $? "re-apply: state unchanged"

# 6-8: an add that finds a different object becomes an edit.
printf '%s\n' 'svc_add tcp 10.96.0.1 443 wrr' \
    'dest_add tcp 10.96.0.1 443 192.168.1.10 6443 0' \
    'svc_add tcp 10.96.100.20 80 rr 600' | "$T" batch 2> "$tmp/err" >/dev/null
grep -q 'ops=3 failed=0 changed=3' "$tmp/err"; ok $? "add of changed objects: edited"
ipvsadm -Sn | grep -qx -- '-A -t 10.96.0.1:443 -s wrr' &&
    ipvsadm -Sn | grep -qx -- '-a -t 10.96.0.1:443 -r 192.168.1.10:6443 -m -w 0' &&
    ipvsadm -Sn | grep -qx -- '-A -t 10.96.100.20:80 -s rr -p 600'
ok $? "scheduler, weight 0 (graceful) and persistence timeout edited in place"
"$T" batch < "$tmp/example" 2> "$tmp/err" >/dev/null
grep -q 'ops=21 failed=0 changed=3' "$tmp/err" && sorted_ipvsadm | cmp -s - "$tmp/before"
ok $? "re-applying the example restores exactly those three"

# 9-11: op 5 of 10 fails (a destination for a missing service): only it.
cat > "$tmp/k" <<'OPS'
svc_add tcp 10.96.1.1 80 rr
dest_add tcp 10.96.1.1 80 10.244.3.1 80 1
svc_add tcp 10.96.1.2 80 rr
dest_add tcp 10.96.1.2 80 10.244.3.2 80 1
dest_add tcp 10.96.9.9 80 10.244.3.3 80 1
svc_add tcp 10.96.1.3 80 rr
dest_add tcp 10.96.1.3 80 10.244.3.4 80 1
dest_add tcp 10.96.1.3 80 10.244.3.5 80 1
svc_add udp 10.96.1.4 53 rr
dest_add udp 10.96.1.4 53 10.244.3.6 53 1
OPS
"$T" batch < "$tmp/k" > "$tmp/res" 2> "$tmp/err"
diag < "$tmp/res"
[[ $(cat "$tmp/res") == "5 3 0" ]]
ok $? "exactly op 5 reports ESRCH (3)"
grep -q 'ops=10 failed=1 changed=9' "$tmp/err"; ok $? "the other 9 report success"
[[ $(ipvsadm -Sn | grep -c '10\.96\.1\.') == 9 ]] && ! ipvsadm -Sn | grep -q 10.96.9.9
ok $? "the 9 others are in the kernel, the failed one is not"

# 12-13: deleting what is missing is success; deletes are applied.
printf '%s\n' 'svc_del tcp 10.96.7.7 80' 'dest_del tcp 10.96.0.1 443 10.9.9.9 1' \
    'dest_del tcp 10.96.7.7 80 10.9.9.9 1' 'dest_del tcp 10.96.1.3 80 10.244.3.5 80' \
    'svc_del tcp 10.96.1.1 80' | "$T" batch > "$tmp/res" 2> "$tmp/err"
grep -q 'ops=5 failed=0 changed=2' "$tmp/err"
ok $? "delete of missing service/destination: success, unchanged"
! ipvsadm -Sn | grep -q -e '10\.96\.1\.1:' -e '10\.244\.3\.5:'
ok $? "the existing ones were deleted"

# 14-15: timeouts.
"$T" timeouts 900 120 300 && [[ $("$T" gettimeouts) == "900 120 300" ]]
ok $? "set and read back the IPVS timeouts"
ipvsadm -L --timeout | grep -q 'Timeout (tcp tcpfin udp): 900 120 300'
ok $? "ipvsadm -L --timeout agrees"

# 16: active connection counts reach the dump.
modprobe dummy 2>/dev/null
ip link add kube-ipvs0 type dummy 2>/dev/null
ip addr add 10.96.0.1/32 dev kube-ipvs0
ip addr add 10.0.0.5/32 dev kube-ipvs0
printf '%s\n' 'svc_add tcp 10.96.0.1 443 rr' \
    'dest_add tcp 10.96.0.1 443 192.168.1.10 6443 1' \
    'dest_add tcp 10.96.0.1 443 10.0.0.5 6443 1' \
    'dest_edit tcp 10.96.0.1 443 192.168.1.10 6443 0' | "$T" batch 2>/dev/null
srv=$tmp/srv
printf '#!/bin/sh\necho hello\nsleep 4\n' > "$srv"
chmod +x "$srv"
busybox nc -ll -p 6443 -e "$srv" &
nc_pid=$!
sleep 0.3
( exec 3<>/dev/tcp/10.96.0.1/443 && read -r line <&3 && sleep 3 ) &
cl_pid=$!
conns=""
for i in $(seq 30); do
	conns=$("$T" dump 2>&1 >/dev/null | grep '# conns') && break
	sleep 0.1
done
echo "$conns" | diag
echo "$conns" | grep -q '10.96.0.1:443 -> 10.0.0.5:6443 active 1 inactive 0'
ok $? "dump reports the active connection on its real server"
kill "$cl_pid" "$nc_pid" 2>/dev/null
wait 2>/dev/null

# 17-18: the audit log of the first batch: one JSON line per op.
[[ $(wc -l < "$tmp/audit") == 21 ]]; ok $? "audit: 21 lines for 21 ops"
python3 - "$tmp/audit" <<'PY' 2>&1 | diag
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in recs] == list(range(1, 22)), "seq"
assert all(r["errno"] == 0 and r["text"] == "ok" for r in recs), "errno"
assert recs[0]["op"] == "svc_add" and recs[0]["object"] == "tcp 10.96.0.1:443"
assert recs[1]["object"] == "tcp 10.96.0.1:443 -> 192.168.1.10:6443"
assert recs[0]["time"].endswith("Z") and "T" in recs[0]["time"]
PY
ok ${PIPESTATUS[0]} "audit: every line parses as JSON with the right fields"

# 19-20: everything of ours removed in one batch; the foreign one stays.
"$T" dump 2>/dev/null | awk '/^-A/ && !/192\.0\.2\.200/ {
	p = $2 == "-u" ? "udp" : $2 == "-t" ? "tcp" : "sctp"
	a = $3; sub(/:[0-9]+$/, "", a); gsub(/[][]/, "", a)
	port = $3; sub(/.*:/, "", port)
	print "svc_del", p, a, port }' | "$T" batch 2> "$tmp/err" >/dev/null
diag < "$tmp/err"
[[ $(ipvsadm -Sn | grep -c '^-A') == 1 ]]; ok $? "all our services deleted in one batch"
ipvsadm -Sn | grep -q -- '-a -t 192.0.2.200:22 -r 192.0.2.201:22 -g -w 1'
ok $? "the foreign service and its route-mode real server survive"

((failed == 0))
