# Shared by tests/planner/*.t: run kipvs-planner under planner_driver
# (tests/helpers/planner_driver.c) with a script, as root, with a numeric
# account.  SPDX-License-Identifier: Apache-2.0

cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
PLANNER=$PWD/$B/kipvs-planner
DRIVER=$PWD/$B/tests/helpers/planner_driver
RENDER=$PWD/$B/kipvs-render
P_ID=65532
FIX=tests/planner/cluster.json

n=0
fails=0
ok() {	# ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fails=$((fails + 1)); fi
	return "$1"	# so that "ok $? ... || diag ..." shows the diagnosis
}
diag() { echo "# $*"; }
finish() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root: kipvs-planner enters its sandbox (setuid, chroot) itself"
		exit 0
	fi
	if [ ! -x "$PLANNER" ] || [ ! -x "$DRIVER" ]; then
		echo "1..0 # SKIP $PLANNER or $DRIVER not built (make B=$B all tests)"
		exit 0
	fi
}

TMP=$(mktemp -d /tmp/kipvs-plan.XXXXXX)
[ -n "$KEEP" ] && echo "# TMP=$TMP" || trap 'rm -rf "$TMP"' EXIT

# drive NAME [planner flags...] < script: output in $TMP/NAME.out, the
# planner's log in $TMP/NAME.log.
drive() {
	local name=$1; shift
	"$DRIVER" "$PLANNER" --user "$P_ID:$P_ID" --heartbeat-ms 200 \
	    "$@" >"$TMP/$name.out" 2>"$TMP/$name.log"
}

# batch N FILE: the op lines of the N-th batch.
batch() {
	awk -v want="$1" '/^batch /{b++; next} /^(dump-sent|status|local-eps|mark|planner-exited|kernel:)/{next} b==want && /^op /' "$2"
}
# after MARK FILE: the lines after "mark MARK".
after() {
	awk -v m="mark $1" 'f; $0==m{f=1}' "$2"
}
