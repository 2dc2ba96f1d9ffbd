#!/usr/bin/env bash
# `make memcheck` inside `make check`, on the watcher's daemon test: the
# real kipvs-watcherd under valgrind memcheck (zero errors, nothing
# definitely or indirectly lost) against the test apiserver, built in
# ${B}-memcheck/ with the seccomp filter only logging (tests/san/run.sh).
# `make memcheck` alone also runs the planner's cold-start and change
# tests (about 5 more minutes each: too long for CI); the applier's is
# tests/vm/33-applierd-memcheck.t.  Needs root: the daemons enter their
# sandboxes.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
echo "1..1"
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - make memcheck needs root (the daemons' sandboxes)"
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
if make -s MEMCHECK_B="$B-memcheck" MEMCHECK_TESTS=tests/watch/20-daemon.t \
    memcheck >"$log" 2>&1; then
	echo "ok 1 - make memcheck: $(grep -o 'Files=[0-9]*, Tests=[0-9]*' "$log" |
	    tail -n1), $(grep -o 'valgrind logs: .*' "$log"), in" \
	    "$((SECONDS - start)) s"
else
	echo "not ok 1 - make memcheck"
	grep -Ev '^(ok|.* \.\. ok)$|warning:|info:' "$log" | tail -n 80 |
	    sed 's/^/# /'
	exit 1
fi
