#!/usr/bin/env bash
# `systemd-analyze verify` on every unit in systemd/, as `make install`
# writes them.  What is checked: each unit parses with no unknown or
# misplaced directive and no bad value, every unit it names (sockets,
# services) loads, and its ExecStart binary exists and is executable.
# How: `make install DESTDIR=tmp PREFIX=/usr`, then copies of the
# installed units with /usr/libexec/kipvs and /usr/sbin/kipvs pointed into
# tmp (verify checks ExecStart= on the host's file system, and --root=
# would also hide the host's sysinit.target and friends).  Not checked:
# that the accounts exist, or that the units start — that needs a booted
# systemd (the VM suite's job).
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.."

units=(systemd/*.service systemd/*.socket)
echo "1..$((${#units[@]} + 6))"
if ! command -v systemd-analyze >/dev/null; then
	for i in $(seq $((${#units[@]} + 6))); do
		echo "ok $i # skip systemd-analyze is not installed (Debian: systemd)"
	done
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}

t "make install DESTDIR PREFIX=/usr" bash -c "make -s B='${B:-build}' \
    install DESTDIR='$tmp/root' PREFIX=/usr >'$tmp/install.log' 2>&1"
unitdir=$tmp/root/usr/lib/systemd/system
t "every unit installed" bash -c "
	for u in ${units[*]}; do test -f '$unitdir'/\${u#systemd/} || exit 1
	done"
t "installed units name /usr/sbin and /usr/libexec/kipvs" \
    grep -q '^ExecStart=/usr/libexec/kipvs/kipvs-planner ' \
    "$unitdir/kipvs-planner.service"
t "sysusers.d, tmpfiles.d and modules-load.d files installed" \
    test -f "$tmp/root/usr/lib/sysusers.d/kipvs.conf" -a \
    -f "$tmp/root/usr/lib/tmpfiles.d/kipvs.conf" -a \
    -f "$tmp/root/usr/lib/modules-load.d/kipvs.conf"

mkdir -p "$tmp/units"
for u in "$unitdir"/*; do
	sed -e "s|/usr/libexec/kipvs|$tmp/root/usr/libexec/kipvs|g" \
	    -e "s|/usr/sbin/kipvs|$tmp/root/usr/sbin/kipvs|g" "$u" \
	    >"$tmp/units/${u##*/}"
done
for u in "${units[@]}"; do
	f=$tmp/units/${u#systemd/}
	# Unknown keys are only warnings (exit 0): any output is a failure.
	(cd "$tmp/units" && systemd-analyze verify --man=no "./${f##*/}") \
	    >"$tmp/out" 2>&1
	rc=$?
	t "systemd-analyze verify ${u#systemd/}: exit 0, no message" \
	    test $rc -eq 0 -a ! -s "$tmp/out"
	sed 's/^/# /' "$tmp/out"
done

# The structure the issue asks for, read from the units themselves.
t "edge sockets are SOCK_SEQPACKET and activate the accepting side" bash -c '
	grep -q "^ListenSequentialPacket=/run/kipvs/wp.sock$" systemd/kipvs-wp.socket &&
	grep -q "^Service=kipvs-planner.service$" systemd/kipvs-wp.socket &&
	grep -q "^ListenSequentialPacket=/run/kipvs/pa.sock$" systemd/kipvs-pa.socket &&
	grep -q "^Service=kipvs-applierd.service$" systemd/kipvs-pa.socket'
t "Restart=always in every service" bash -c '
	for u in systemd/*.service; do
		grep -q "^Restart=always$" "$u" || exit 1; done'
