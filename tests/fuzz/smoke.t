#!/usr/bin/env bash
# Fuzz smoke run in `make check`: builds every libFuzzer target
# (tests/fuzz/*_fuzz.c, clang with ASan+UBSan, `make fuzz`) and runs each
# for a fixed number of executions, starting from its seed corpus
# (tests/fuzz/corpus/<name>/, which holds the regression inputs of every
# crash found so far) with the dictionary.  A crash, leak, timeout or
# sanitizer report fails the target.  Long runs: make fuzz-long
# FUZZ_SECONDS=600.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
RUNS=${KIPVS_FUZZ_RUNS:-20000}
if ! command -v "${CLANG:-clang}" >/dev/null; then
	echo "Bail out! clang is not installed (tests/deps.sh installs it)"
	exit 1
fi
targets=()
for f in tests/fuzz/*_fuzz.c; do
	targets+=("$(basename "$f" .c)")
done
echo "1..$((1 + ${#targets[@]}))"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if make -s -j"$(nproc)" B="$B" fuzz >"$log" 2>&1; then
	echo "ok 1 - built ${#targets[@]} fuzz targets"
else
	echo "not ok 1 - building the fuzz targets"
	sed 's/^/# /' "$log" | tail -n 20
	exit 1
fi
FUZZ_TAP_FIRST=2 B="$B" tests/fuzz/run.sh --runs "$RUNS" "${targets[@]}"
