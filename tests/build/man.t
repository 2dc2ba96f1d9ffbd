#!/usr/bin/env bash
# The man pages in docs/man/ render without a single groff or man warning
# (groff -ww: all warnings), and each has the sections a reader looks for.
# Skips, with the reason, where groff or man-db is not installed (both come
# with Debian's man-db, not with tests/deps.sh's list).
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.."

pages=(docs/man/*.8)
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }

echo "1..$((${#pages[@]} * 4))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for p in "${pages[@]}"; do
	name=$(basename "$p")
	if command -v groff >/dev/null; then
		groff -ww -z -man "$p" 2>"$tmp/groff.err"
		t "$name: groff -ww -z -man prints no warning" \
		    test ! -s "$tmp/groff.err"
		[ -s "$tmp/groff.err" ] && sed 's/^/# /' "$tmp/groff.err"
	else
		skip "groff is not installed"
	fi
	if command -v man >/dev/null; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" \
		    >"$tmp/out" 2>"$tmp/man.err"
		t "$name: man -l --warnings renders without warnings" \
		    test ! -s "$tmp/man.err" -a -s "$tmp/out"
		[ -s "$tmp/man.err" ] && sed 's/^/# /' "$tmp/man.err"
		t "$name: NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" bash -c \
		    "for s in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do
			grep -q \"^\$s\" '$tmp/out' || exit 1; done"
		# Every page it refers to as kipvs*(8) is one of ours.
		t "$name: its kipvs cross-references exist" bash -c \
		    "grep -o 'kipvs[a-z-]*(8)' '$tmp/out' | sort -u |
		    while read -r r; do
			test -f \"docs/man/\${r%(8)}.8\" || exit 1; done"
	else
		skip "man (man-db) is not installed"
		skip "man (man-db) is not installed"
		skip "man (man-db) is not installed"
	fi
done
