#!/usr/bin/env bash
# `make install DESTDIR=... PREFIX=...` puts each file where the README says,
# and `make uninstall` removes them again.
set -uo pipefail
cd "$(dirname "$0")/../.."

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}

echo "1..10"
t "make install succeeds" make -s install DESTDIR="$dest" PREFIX=/usr
t "kipvs in sbin" test -x "$dest/usr/sbin/kipvs"
for d in kipvs-watcherd kipvs-planner kipvs-applierd kipvs-render; do
	t "$d in libexec/kipvs" test -x "$dest/usr/libexec/kipvs/$d"
done
t "LICENSE in the doc folder" test -f "$dest/usr/share/doc/kipvs/LICENSE"
# The parent looks its daemons up where install put them.
t "installed kipvs names its libexec dir" \
	bash -c "'$dest/usr/sbin/kipvs' --help | grep -q '/usr/libexec/kipvs'"
t "make uninstall succeeds" make -s uninstall DESTDIR="$dest" PREFIX=/usr
t "nothing but empty folders left" \
	test -z "$(find "$dest" -type f -o -type l)"
# Put the default build back so later tests see the default paths.
make -s all >/dev/null 2>&1
