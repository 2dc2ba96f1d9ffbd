#!/usr/bin/env bash
# Runs inside the VM (tests/bench/run.sh): times the reference tools, the
# raw netlink floor and kipvs on identical IPVS and ipset work, several
# repetitions per size.  The table every method loads is the one
# kipvs-render computes for the workload (run.sh renders it on the host
# into $KIPVS_BENCH_WORK/<size>/), and guest-kipvs.sh checks that kipvs
# programmed exactly that.  Every measurement runs in a fresh network
# namespace: IPVS and ipset state are per namespace, so each starts from
# an empty table with no deleted real servers lingering in the kernel's
# destination trash (re-adding soon after a mass delete is far slower; see
# docs/benchmarks.md).  Modules are loaded and the namespace initialised
# before the clock starts.  Methods are interleaved within a repetition so
# that a change in the host's load hits all of them alike.
#
# Prints one CSV row per measurement: workload,metric,rep,value,unit, and
# "# phase ..." lines with the time each size took.
set -euo pipefail
b=${KIPVS_BUILD:-build}
floor=$b/tests/bench/ipvs_floor
reps=${KIPVS_BENCH_REPS:-3}
sizes=${KIPVS_BENCH_SIZES:-1000 10000}
work=${KIPVS_BENCH_WORK:?set by tests/bench/run.sh}
change_size=${KIPVS_BENCH_CHANGE_SIZE:-10000}
export floor

# Load the modules once: ip_vs, the rr scheduler, ip_set, the set types,
# the iptables tables kipvs uses and dummy (kube-ipvs0).
ipvsadm -A -t 10.255.255.1:1 -s rr && ipvsadm -C
ipset create kipvs-warmup hash:ip,port && ipset destroy kipvs-warmup
iptables-legacy -t nat -S >/dev/null
iptables-legacy -t filter -S >/dev/null
ip link add kipvs-warmup type dummy && ip link del kipvs-warmup

# measure WORKLOAD METHOD REP SHELL-COMMAND WANT: prints the CSV row.  The
# command prints "seconds=<t>" itself or is timed around.  Loopback is up
# first: without any local address the namespace has no local routing
# table, and the kernel refuses every real server (EINVAL, "address not
# unicast").  Afterwards the kernel must hold WANT real servers (IPVS) or
# the command must have succeeded (ipset); otherwise the row says FAILED.
measure() {
	local s
	s=$(unshare -n bash -c '
		ip link set lo up
		ipvsadm -Ln >/dev/null
		ipset list -n >/dev/null
		t0=$(date +%s.%N)
		out=$(eval "$1" 2>&1); rc=$?
		t1=$(date +%s.%N)
		if [ "$2" = - ]; then
			[ "$rc" = 0 ] || { echo FAILED; exit; }
		else
			got=$(grep -c -- "->.*Masq" /proc/net/ip_vs)
			[ "$got" = "$2" ] || { echo FAILED; exit; }
		fi
		case $out in
		*seconds=*) echo "${out##*seconds=}" ;;
		*) awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.6f\", b - a }" ;;
		esac' _ "$4" "$5")
	echo "$1,$2,$3,$s,s"
}

# Reps for a size: KIPVS_BENCH_REPS_<size> overrides (e.g. 1 at 50,000).
for n in $sizes; do
	w="${n}x5"
	d=$work/$n
	r=$(eval echo "\${KIPVS_BENCH_REPS_$n:-$reps}")
	p0=$(date +%s)
	nrs=$(grep -c '^-a' "$d/ipvs")
	# The addresses kipvs binds to kube-ipvs0: every virtual server's
	# address but the node's own (192.168.50.1, gen-objects.py), as an
	# `ip -b` script (one request per line, each acknowledged).
	awk '$1 == "-A" { sub(/:[0-9]+$/, "", $3); if ($3 != "192.168.50.1")
		print "address add " $3 "/32 dev kube-ipvs0" }' "$d/ipvs" |
	    sort -u >"/tmp/addrs.$n"
	for rep in $(seq 1 "$r"); do
		measure "$w" "ipvsadm -R" "$rep" "ipvsadm -R <$d/ipvs" "$nrs"
		measure "$w" "floor 256/sendmsg" "$rep" \
		    "\$floor add -f $d/ipvs -b 256" "$nrs"
		measure "$w" "one request per sendmsg" "$rep" \
		    "\$floor add -f $d/ipvs -b 1" "$nrs"
		measure "$w" "ipset restore (all sets)" "$rep" \
		    "ipset restore <$d/ipset" -
		measure "$w" "ip -b addresses (kube-ipvs0)" "$rep" \
		    "ip link add kube-ipvs0 type dummy && ip -b /tmp/addrs.$n" -
		extra=()
		if [ "$n" = "$change_size" ] && [ "$rep" = 1 ]; then
			extra=(change idle)
		fi
		unshare -n bash tests/bench/guest-kipvs.sh "$d" "$w" "$rep" \
		    "${extra[@]}" || echo "$w,kipvs FAILED,$rep,0,-"
	done
	echo "# phase VM $w: $(($(date +%s) - p0)) s ($r reps)"
done
