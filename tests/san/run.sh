#!/usr/bin/env bash
# Runs test programs and scripts through prove with every report of a
# memory checker counted, also from processes whose exit status a test
# does not look at.  Used by `make sanitize` and `make memcheck`; B is the
# build directory.
#
#   tests/san/run.sh asan TEST...
#	B was built with SAN=1 (ASan+UBSan, -fno-sanitize-recover=all).
#	Reports are written to $B/san-logs/ (log_path); any file there, or
#	any failing test, fails the run.
#
#   tests/san/run.sh memcheck TEST...
#	B was built with VG=1.  $B/vg/ mirrors B with kipvs-watcherd,
#	kipvs-planner and kipvs-applierd replaced by scripts that run the
#	real daemon under valgrind memcheck (--leak-check=full, definite and
#	indirect leaks are errors, --track-origins=yes); the tests run with
#	B=$B/vg and KIPVS_TIME_SCALE=10 (their waits stretched).  Every
#	daemon's log in $B/vg-logs/ must report zero errors.
#
# Whole test files skipped (no root, no namespace) fail the run too: a
# check that did not run is not a pass.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
PROVE=${PROVE:-prove}
mode=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0

run_prove() {	# run_prove B TEST...: prove's output in $out
	local b=$1
	shift
	B=$b $PROVE --exec '' "$@" 2>&1 | tee "$out"
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
	if grep -q 'skipped:' "$out"; then
		echo "tests/san/run.sh: test files were skipped:"
		grep 'skipped:' "$out"
		fail=1
	fi
}

case $mode in
asan)
	logs=$PWD/$B/san-logs
	rm -rf "$logs"
	mkdir -p "$logs"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:disable_coredump=1:fast_unwind_on_malloc=0:log_path=$logs/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
	export LSAN_OPTIONS="log_path=$logs/lsan:suppressions=$PWD/tests/san/lsan.supp:print_suppressions=0"
	run_prove "$B" "$@"
	reports=$(find "$logs" -type f | sort)
	if [ -n "$reports" ]; then
		fail=1
		for f in $reports; do
			echo "=== sanitizer report $f"
			head -n 60 "$f"
		done
	fi
	echo "sanitizer reports: $(find "$logs" -type f | wc -l)"
	;;
memcheck)
	command -v valgrind >/dev/null ||
	    { echo "tests/san/run.sh: valgrind is not installed"; exit 1; }
	vg=$B/vg
	logs=$PWD/$B/vg-logs
	rm -rf "$vg" "$logs"
	mkdir -p "$vg" "$logs"
	for f in "$B"/*; do
		n=${f##*/}
		case $n in
		vg|vg-logs|san-logs) continue ;;
		kipvs-watcherd|kipvs-planner|kipvs-applierd)
			cat >"$vg/$n" <<EOS
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full \\
    --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --track-origins=yes \\
    --log-file=$logs/$n.%p.log $PWD/$B/$n "\$@"
EOS
			chmod 0755 "$vg/$n" ;;
		*)
			ln -s "$PWD/$f" "$vg/$n" ;;
		esac
	done
	# The tests' waits are stretched for daemons running 10-50x slower.
	KIPVS_TIME_SCALE=${KIPVS_TIME_SCALE:-10} run_prove "$vg" "$@"
	n=0 complete=0
	for f in "$logs"/*.log; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			complete=$((complete + 1))
		elif grep -q 'ERROR SUMMARY:' "$f"; then
			echo "=== valgrind errors in $f"
			head -n 80 "$f"
			fail=1
		elif grep -Eq '(Invalid (read|write|free)|uninitialised|Conditional jump|Syscall param|Mismatched free|overlap|lost in)' "$f"; then
			# Killed before its summary, but an error was printed.
			echo "=== valgrind errors in $f (no summary)"
			head -n 80 "$f"
			fail=1
		fi
	done
	echo "valgrind logs: $n, with a clean summary: $complete"
	if [ "$complete" -eq 0 ]; then
		echo "tests/san/run.sh: no daemon ran to a valgrind summary"
		fail=1
	fi
	;;
*)
	echo "usage: $0 asan|memcheck TEST..." >&2
	exit 2
	;;
esac
[ "$fail" -eq 0 ]
