#!/usr/bin/env bash
# Fuzz smoke run: builds the ipc decoders' libFuzzer targets
# (tests/fuzz/ipc_*_fuzz.c, clang with ASan+UBSan) through `make fuzz`'s
# rules and runs each for a short fixed budget.  A crash, leak or
# sanitizer report fails the test.  Long runs: run a target by hand, e.g.
#   build/fuzz/ipc_pa_fuzz -max_total_time=600 corpus/
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
if ! command -v "${CLANG:-clang}" >/dev/null; then
	echo "1..0 # SKIP clang not installed (tests/deps.sh installs it)"
	exit 0
fi
targets=()
for f in tests/fuzz/ipc_*_fuzz.c; do
	targets+=("$(basename "$f" .c)")
done
echo "1..$((1 + ${#targets[@]}))"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if make -s -j"$(nproc)" B="$B" "${targets[@]/#/$B/fuzz/}" >"$log" 2>&1; then
	echo "ok 1 - built ${#targets[@]} ipc fuzz targets"
else
	echo "not ok 1 - building the ipc fuzz targets"
	sed 's/^/# /' "$log" | tail -n 20
	exit 1
fi
n=1
for t in "${targets[@]}"; do
	n=$((n + 1))
	if "$B/fuzz/$t" -runs=30000 -max_total_time=4 -timeout=5 \
	    -rss_limit_mb=1024 -max_len=8192 >"$log" 2>&1; then
		echo "ok $n - $t: $(grep -o 'Done [0-9]* runs' "$log" | tail -n1)"
	else
		echo "not ok $n - $t"
		sed 's/^/# /' "$log" | tail -n 30
	fi
done
