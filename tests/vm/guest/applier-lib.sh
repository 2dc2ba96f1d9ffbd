# Sourced by the guest sides that drive the real kipvs-applierd through
# tests/helpers/pa_client (applierd-main.sh, applier-hostile.sh): TAP
# helpers, starting the daemon, sending batches, counting the daemon's
# ipset netlink requests (strace), the kernel state in one string, and
# the audit log's checker.  Needs B (the build directory)
# and FLAGS (the daemon's flags); sets PC, D, tmp, A, L.
#
# SPDX-License-Identifier: Apache-2.0

PC=$PWD/$B/tests/helpers/pa_client
D=$PWD/$B/kipvs-applierd
tmp=$(mktemp -d)
A=$tmp/audit.log
L=$tmp/xtables.lock
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

n=0 failed=0
# ok STATUS NAME: one TAP line; returns STATUS's truth, so that
# `ok $? NAME || diag` shows the evidence of a failure.
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"; return 0; fi
	echo "not ok $n - $2"; failed=$((failed + 1))
	return 1
}
diag() { sed 's/^/# /'; }
ipvs() { ipvsadm -Sn | LC_ALL=C sort; }
# Everything a kipvs op could touch, as the stock tools print it, sorted
# (less what moves by itself: IPv6 DAD flags, packet counters).  Few
# processes: they are slow to start in the emulated VM.
kstate() {
	{ ipvsadm -Sn; ip -o addr; ip -o link; ipset save
	    iptables-legacy-save; ip6tables-legacy-save; } 2>&1 |
	    sed -e '/^#/d' -e 's/ tentative//' -e 's/\[[0-9]*:[0-9]*\]//' |
	    LC_ALL=C sort
}

# foreign_objects: what other agents made with the stock tools before
# kipvs runs: a node address on another link; IPVS services, one with a
# real server, one on that node address off the NodePort range; sets and
# chains, two with KUBE- names kipvs does not own; jump rules.
foreign_objects() {
	ip link add eth9 type dummy && ip link set eth9 up &&
	    ip addr add 192.0.2.10/24 dev eth9
	modprobe -a ip_vs ip_set ip_tables ip6_tables 2>/dev/null
	ipvsadm -A -t 203.0.113.5:80 -s rr
	ipvsadm -a -t 203.0.113.5:80 -r 192.0.2.20:80 -m
	ipvsadm -A -t 192.0.2.10:8080 -s rr
	ipset create FOREIGN-SET hash:ip
	ipset create KUBE-FOREIGN hash:ip
	iptables-legacy -N FOREIGN-CHAIN
	iptables-legacy -A INPUT -j FOREIGN-CHAIN
	iptables-legacy -N KUBE-FIREWALL
	iptables-legacy -A OUTPUT -j KUBE-FIREWALL
	ip6tables-legacy -N KUBE-KUBELET-CANARY
}

# start RUN [PA_CLIENT_FLAGS...]: pa_client reading a FIFO (fd 9), output
# in $tmp/out.RUN; waits for the daemon's first dump.
start() {
	run=$1
	shift
	rm -f "$tmp/in"
	mkfifo "$tmp/in"
	"$PC" -a "$A" -l "$L" ${QUIET:-} "$@" -- "$D" "${FLAGS[@]}" \
	    <"$tmp/in" >"$tmp/out.$run" 2>"$tmp/err.$run" &
	PCPID=$!
	exec 9>"$tmp/in"
	for _ in $(seq 600); do
		grep -q '^dump 1 end' "$tmp/out.$run" && break
		sleep 0.1
	done
	DPID=$(sed -n 's/^pid //p' "$tmp/out.$run")
	sums=0
}
# batch LINES...: one batch; waits for its summary; $tmp/last has it.
batch() {
	local want=$((sums + 1)) i
	{ echo begin; printf '%s\n' "$@"; echo end; } >&9
	for i in $(seq 1800); do
		[[ $(grep -c '^summary' "$tmp/out.$run") -ge $want ]] && break
		kill -0 "$PCPID" 2>/dev/null || { diag <"$tmp/err.$run"; break; }
		sleep 0.1
	done
	sums=$want
	awk -v w="$want" '/^summary/{k++} k==w-1 && /^result/{print} k==w && /^summary/{print}' \
	    "$tmp/out.$run" >"$tmp/last"
	# A requested dump follows the summary.
	if printf '%s\n' "$@" | grep -q '^dump'; then
		for i in $(seq 600); do
			[[ $(grep -c '^dump [0-9]* end' "$tmp/out.$run") -ge $((want + 1)) ]] && break
			sleep 0.1
		done
	fi
}
summary() { grep '^summary' "$tmp/last"; }
ops_sent=0
count_ops() { ops_sent=$((ops_sent + $(sed -n 's/^summary.* ops \([0-9]*\) .*/\1/p' "$tmp/last" | grep . || echo 0))); }

# ipset_count_start / ipset_count_stop: strace follows the daemon's
# sendto/sendmsg between the two; stop sets nl_count to the number of
# netlink messages (each of a batched send counts) the daemon sent on its
# NETLINK_NETFILTER socket, which only libipset uses.  The guest kernel
# has no netlink_diag for strace -yy to name the protocol, so the socket
# is found by its inode in /proc/net/netlink (protocol 12).  Not in a
# subshell: stop waits for strace to exit and flush.
ipset_fds() {
	local f ino
	for f in /proc/"$DPID"/fd/*; do
		ino=$(readlink "$f")
		[[ $ino == socket:* ]] || continue
		ino=${ino#socket:[}
		awk -v i="${ino%]}" '$2 == 12 && $NF == i { f = 1 } END { exit !f }' \
		    /proc/net/netlink && printf '%s ' "${f##*/}"
	done
}
ipset_count_start() {
	NLFDS=$(ipset_fds)
	strace -f -qq -e trace=sendto,sendmsg -o "$tmp/strace.out" \
	    -p "$DPID" 2>"$tmp/strace.err" &
	STPID=$!
	for _ in $(seq 100); do
		[[ $(awk '/^TracerPid:/{print $2}' /proc/"$DPID"/status) != 0 ]] && break
		sleep 0.05
	done
}
ipset_count_stop() {
	local re
	kill -INT "$STPID"
	wait "$STPID" 2>/dev/null
	re=$(echo $NLFDS | tr ' ' '|')
	nl_count=0
	[[ -n $re ]] && nl_count=$(grep -E "^[0-9]+ +(sendto|sendmsg)\(($re)," "$tmp/strace.out" |
	    grep -o 'nlmsg_len=' | wc -l)
	echo "ipset socket fds: ${NLFDS:-none}; $(wc -l <"$tmp/strace.out") sends traced" >>"$tmp/strace.err"
}

# audit_check [FROM_LINE]: every line of the audit log (from that line)
# is a JSON object with the fields; prints "results R intents I
# channels C" and the result count of each batch as "batch B results N
# intent-ops M".
audit_check() {
	python3 - "$A" "${1:-1}" <<'PY'
import json, sys
want = {"time", "record", "batch", "seq", "op", "object", "errno", "text"}
kinds = {"result": 0, "intent": 0, "channel": 0}
per = {}
for i, line in enumerate(open(sys.argv[1]), 1):
    if i < int(sys.argv[2]):
        continue
    r = json.loads(line)
    assert want <= set(r), line
    kinds[r["record"]] += 1
    b = per.setdefault(r["batch"], [0, 0])
    if r["record"] == "result":
        b[0] += 1
    elif r["record"] == "intent" and r["op"] == "batch":
        b[1] += int(r["object"].split()[0])
print("results %d intents %d channels %d" % (kinds["result"],
      kinds["intent"], kinds["channel"]))
for k in sorted(per):
    print("batch %d results %d intent-ops %d" % (k, per[k][0], per[k][1]))
PY
}

# audit_ranges: "FROM TO" line ranges of the audit log on stdin (TO
# inclusive); prints "results R intents I channels C" for each, after
# checking every line of the log parses (one python start for all).
audit_ranges() {
	python3 -c '
import json, sys
want = {"time", "record", "batch", "seq", "op", "object", "errno", "text"}
recs = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert want <= set(r), line
    recs.append(r["record"])
for pair in sys.stdin:
    a, b = map(int, pair.split())
    k = recs[a - 1:b]
    print("results %d intents %d channels %d" % (k.count("result"),
          k.count("intent"), k.count("channel")))
' "$A"
}

# every_op_kind: SETS and CHAINS (every owned set and chain) and ALL, a
# batch with one op of every kind pa_client can send (besides scale's VS,
# RS and address), in pa_client's line format, and NE (the nonempty
# sets of a chain op); shared by applierd-main.sh
# and applierd-memcheck.sh.
every_op_kind() {
	local s c
	SETS=(KUBE-LOOP-BACK KUBE-CLUSTER-IP KUBE-EXTERNAL-IP KUBE-EXTERNAL-IP-LOCAL
	    KUBE-LOAD-BALANCER KUBE-LOAD-BALANCER-LOCAL KUBE-LOAD-BALANCER-FW
	    KUBE-LOAD-BALANCER-SOURCE-IP KUBE-LOAD-BALANCER-SOURCE-CIDR
	    KUBE-NODE-PORT-TCP KUBE-NODE-PORT-LOCAL-TCP KUBE-NODE-PORT-UDP
	    KUBE-NODE-PORT-LOCAL-UDP KUBE-NODE-PORT-SCTP-HASH
	    KUBE-NODE-PORT-LOCAL-SCTP-HASH KUBE-HEALTH-CHECK-NODE-PORT KUBE-IPVS-IPS)
	CHAINS=(nat/KUBE-SERVICES nat/KUBE-POSTROUTING nat/KUBE-NODE-PORT
	    nat/KUBE-LOAD-BALANCER nat/KUBE-MARK-MASQ filter/KUBE-FORWARD
	    filter/KUBE-NODE-PORT filter/KUBE-PROXY-FIREWALL
	    filter/KUBE-SOURCE-RANGES-FIREWALL filter/KUBE-IPVS-FILTER
	    filter/KUBE-IPVS-OUT-FILTER)
	ALL=(link "addr 10.96.0.1" "addr 10.96.0.10"
	    "vs 10.96.0.1 tcp 443 rr"
	    "rs 10.96.0.1 tcp 443 10.244.1.5 6443 1"
	    "rs 10.96.0.1 tcp 443 10.244.2.5 6443 1"
	    "vs 10.96.0.10 udp 53 sh persistent 10800"
	    "rs 10.96.0.10 udp 53 10.244.1.7 53 1"
	    "vs 10.96.0.10 tcp 80 mh mhport"
	    "rs 10.96.0.10 tcp 80 10.244.1.8 8080 1"
	    "vs 192.0.2.10 tcp 30080 rr"
	    "rs 192.0.2.10 tcp 30080 10.244.1.8 8080 1"
	    "timeouts 0 0 0")
	for s in "${SETS[@]}"; do ALL+=("set $s"); done
	ALL+=("member KUBE-CLUSTER-IP 10.96.0.1,tcp:443"
	    "member KUBE-IPVS-IPS 10.96.0.1" "member KUBE-IPVS-IPS 10.96.0.10"
	    "member KUBE-NODE-PORT-TCP 30080"
	    "member KUBE-LOOP-BACK 10.244.1.8,tcp:8080,10.244.1.8"
	    "reload KUBE-LOAD-BALANCER-SOURCE-CIDR"
	    "staged KUBE-LOAD-BALANCER-SOURCE-CIDR 203.0.113.9,tcp:80,198.51.100.0/24"
	    "commit KUBE-LOAD-BALANCER-SOURCE-CIDR")
	NE="nonempty KUBE-CLUSTER-IP,KUBE-NODE-PORT-TCP,KUBE-LOOP-BACK,KUBE-LOAD-BALANCER-SOURCE-CIDR"
	for c in "${CHAINS[@]}"; do ALL+=("chain 4 $c cidr 10.244.0.0/16 $NE"); done
	ALL+=("dropvip 4 203.0.113.9 tcp 80")
}
