#!/usr/bin/env bash
# `make bench`: boots the real-kernel VM, runs the benchmark workloads and
# prints one table of medians with ratios against `ipvsadm -R` measured in
# the same boot, and writes the raw rows and the table as CSV.
#
#   KIPVS_BENCH_SIZES   services per workload (default "1000 10000"), x5
#                       real servers each
#   KIPVS_BENCH_REPS    repetitions per measurement (default 3)
#   KIPVS_BENCH_OUT     output folder (default build/bench)
#
# Times inside the TCG VM are slower than on hardware; the ratios are the
# result.  SPDX-License-Identifier: Apache-2.0
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${KIPVS_BENCH_OUT:-build/bench}
mkdir -p "$out"
raw=$out/raw.csv
table=$out/summary.csv

[[ $(id -u) == 0 ]] || { echo "make bench: needs root (it boots the VM)" >&2; exit 1; }
echo "booting the real-kernel VM (sizes: ${KIPVS_BENCH_SIZES:-1000 10000}, reps: ${KIPVS_BENCH_REPS:-3})..." >&2
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-1200} tests/vm/run.sh tests/bench/guest-floor.sh |
	grep -E '^[0-9]+x[0-9]+,' >"$raw"

# Median per (workload, method); ratio = ipvsadm -R median / this median.
{
	echo "workload,method,median_s,reps,speedup_vs_ipvsadm_R"
	sort -t, -k1,1n -k2,2 -k4,4g "$raw" | awk -F, '
	function flush() {
		if (key == "") return
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		med[key] = m; cnt[key] = n; order[++k] = key
	}
	{ key2 = $1 "," $2
	  if (key2 != key) { flush(); key = key2; n = 0 }
	  v[++n] = $4 }
	END { flush()
	  for (i = 1; i <= k; i++) {
		split(order[i], p, ",")
		ref = med[p[1] ",ipvsadm -R"]
		r = (p[2] ~ /^ipset/ || ref == "") ? "" : sprintf("%.1f", ref / med[order[i]])
		printf "%s,%.4f,%d,%s\n", order[i], med[order[i]], cnt[order[i]], r
	  } }'
} >"$table"

printf '\n%-10s %-36s %10s %5s %10s\n' workload method median/s reps "vs ipvsadm -R"
tail -n +2 "$table" | while IFS=, read -r w m med n r; do
	printf '%-10s %-36s %10s %5s %10s\n' "$w" "$m" "$med" "$n" "${r:+${r}x}"
done
echo
echo "raw rows: $raw; table: $table"
