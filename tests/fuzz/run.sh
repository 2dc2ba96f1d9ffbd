#!/usr/bin/env bash
# Runs libFuzzer targets (built by `make fuzz` into $B/fuzz/) from their
# seed corpora (tests/fuzz/corpus/<name>/, <name> the target without
# "_fuzz") with the JSON/YAML dictionary, and prints one TAP line each.
#
#   tests/fuzz/run.sh --runs N [TARGET...]      N executions each (make check)
#   tests/fuzz/run.sh --seconds S [TARGET...]   S seconds each (make fuzz-long)
#
# New inputs go to a working corpus in $B/fuzz/corpus/<name>/ (never into
# the repository's seeds); a crash, leak, timeout, OOM or sanitizer report
# fails the target and leaves the reproducer in $B/fuzz/crashes/ with the
# command that replays it.  To keep one as a regression input, copy it to
# tests/fuzz/corpus/<name>/regress-<what>.  Exit status: 0 if all passed.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
mode=$1 amount=$2
shift 2
case $mode in
--runs) limit=(-runs="$amount" -max_total_time=60) ;;
--seconds) limit=(-max_total_time="$amount") ;;
*) echo "usage: $0 --runs N|--seconds S [TARGET...]" >&2; exit 2 ;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/*_fuzz.c; do
		targets+=("$(basename "$f" .c)")
	done
fi
mkdir -p "$B/fuzz/crashes"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# FUZZ_TAP_FIRST: the first test number (the caller printed the plan).
first=${FUZZ_TAP_FIRST:-1}
[ "$first" -eq 1 ] && echo "1..${#targets[@]}"
n=$((first - 1)) failed=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	name=${t%_fuzz}
	seeds=tests/fuzz/corpus/$name
	work=$B/fuzz/corpus/$name
	mkdir -p "$work" "$seeds"
	case $name in
	watch_stream) maxlen=1048576 ;;
	ipc_*) maxlen=8192 ;;
	*) maxlen=65536 ;;
	esac
	start=$SECONDS
	if "$B/fuzz/$t" "${limit[@]}" -timeout=5 -rss_limit_mb=2048 \
	    -max_len="$maxlen" -dict=tests/fuzz/kipvs.dict \
	    -print_final_stats=1 -artifact_prefix="$B/fuzz/crashes/$name-" \
	    "$work" "$seeds" >"$log" 2>&1 &&
	    grep -q '^Done [0-9]* runs' "$log"; then
		echo "ok $n - $t: $(grep -o '^Done [0-9]* runs' "$log" |
		    tail -n1) in $((SECONDS - start)) s," \
		    "$(grep -o 'cov: [0-9]*' "$log" | tail -n1)," \
		    "$(find "$seeds" -type f | wc -l) seeds"
	else
		failed=$((failed + 1))
		echo "not ok $n - $t"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" |
		    head -n 20 | sed 's/^/# /'
		tail -n 30 "$log" | sed 's/^/# /'
		echo "# replay: $B/fuzz/$t $B/fuzz/crashes/$name-*"
	fi
done
[ "$failed" -eq 0 ]
