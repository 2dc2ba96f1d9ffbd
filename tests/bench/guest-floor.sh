#!/usr/bin/env bash
# Runs inside the VM (tests/bench/run.sh): times the reference tools and
# the raw netlink floor on identical IPVS and ipset work, several
# repetitions per size.  Every measurement runs in a fresh network
# namespace: IPVS and ipset state are per namespace, so each starts from an
# empty table with no deleted real servers lingering in the kernel's
# destination trash (re-adding soon after a mass delete is far slower; see
# docs/benchmarks.md).  Modules are loaded and the namespace initialised
# before the clock starts.  Prints one CSV row per measurement:
# workload,method,rep,seconds.
set -euo pipefail
b=${KIPVS_BUILD:-build}
floor=$b/tests/bench/ipvs_floor
reps=${KIPVS_BENCH_REPS:-3}
sizes=${KIPVS_BENCH_SIZES:-1000 10000}
tmp=$(mktemp -d)
export floor tmp

# Load the modules once: ip_vs, the rr scheduler, ip_set and the set type.
ipvsadm -A -t 10.255.255.1:1 -s rr && ipvsadm -C
ipset create kipvs-warmup hash:ip,port && ipset destroy kipvs-warmup

# measure WORKLOAD METHOD REP SHELL-COMMAND: prints the CSV row.  The
# command prints "seconds=<t>" itself or is timed around.
measure() {
	local s
	s=$(unshare -n bash -c '
		ipvsadm -Ln >/dev/null
		ipset list -n >/dev/null
		t0=$(date +%s.%N)
		out=$(eval "$1")
		t1=$(date +%s.%N)
		case $out in
		*seconds=*) echo "${out##*seconds=}" ;;
		*) awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.6f\", b - a }" ;;
		esac' _ "$4")
	echo "$1,$2,$3,$s"
}

for n in $sizes; do
	"$floor" ipvsadm -n "$n" -m 5 >"$tmp/ipvs-$n"
	"$floor" ipset -n "$n" >"$tmp/ipset-$n"
	w="${n}x5"
	for rep in $(seq 1 "$reps"); do
		measure "$w" "ipvsadm -R" "$rep" "ipvsadm -R <\$tmp/ipvs-$n"
		measure "$w" "floor 256/sendmsg" "$rep" \
		    "\$floor add -n $n -m 5 -b 256"
		measure "$w" "one request per sendmsg" "$rep" \
		    "\$floor add -n $n -m 5 -b 1"
		measure "$w" "ipset restore (KUBE-CLUSTER-IP)" "$rep" \
		    "ipset restore <\$tmp/ipset-$n"
	done
done
