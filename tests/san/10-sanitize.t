#!/usr/bin/env bash
# `make sanitize` inside `make check`: the unit, netns and render suites
# built with ASan+UBSan (-fno-sanitize-recover=all, LeakSanitizer on) in
# ${B}-san/ and run with every sanitizer report counted, also from
# processes whose exit status a test ignores (tests/san/run.sh).  Needs
# root for the netns suite, as make check has.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
echo "1..1"
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - make sanitize needs root (the netns suite)"
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
if make -s SAN_B="$B-san" sanitize >"$log" 2>&1; then
	echo "ok 1 - make sanitize: $(grep -o 'Files=[0-9]*, Tests=[0-9]*' "$log" |
	    tail -n1), $(grep -o 'sanitizer reports: [0-9]*' "$log"), in" \
	    "$((SECONDS - start)) s"
else
	echo "not ok 1 - make sanitize"
	grep -Ev '^(ok|.* \.\. ok)$|warning:|info:' "$log" | tail -n 60 |
	    sed 's/^/# /'
	exit 1
fi
