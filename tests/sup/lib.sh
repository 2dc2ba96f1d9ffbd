# Shared by the tests/sup/*.t process tests: start kipvs from the build
# directory with numeric accounts and temporary files, and the test
# apiserver (tests/lib/apiserver.sh) on the namespace's loopback for its
# watcher; find its children, read /proc.
# SPDX-License-Identifier: Apache-2.0

cd "$(dirname "$0")/../.." || exit 1
# The parent starts a real applier, which programs the kernel it runs on:
# every process test runs in a throwaway network namespace, never in this
# machine's own (tests/lib/netns.sh refuses to continue otherwise).
. tests/lib/netns.sh
netns_enter "$0" "$@"
B=${B:-build}
KIPVS=$PWD/$B/kipvs
LIBEXEC=$PWD/$B
W_ID=65531 P_ID=65532 A_ID=65533

n=0
fails=0
ok() {	# ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
check() {	# check DESCRIPTION COMMAND...
	local d=$1; shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}
diag() { echo "# $*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root (the parent starts each daemon under its own uid)"
		exit 0
	fi
	if [ ! -x "$KIPVS" ]; then
		echo "1..0 # SKIP $KIPVS not built (make B=$B all)"
		exit 0
	fi
	local t
	for t in python3 openssl curl; do
		if ! command -v $t >/dev/null; then
			echo "1..0 # SKIP $t not installed (the test apiserver)"
			exit 0
		fi
	done
}

TMP=$(mktemp -d /tmp/kipvs-sup.XXXXXX)
API_DIR=$TMP
. tests/lib/apiserver.sh
KPID=
cleanup() {
	# The children die with their parent (PR_SET_PDEATHSIG).
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null
	stop_api
	rm -rf "$TMP"
}
trap cleanup EXIT

# The watcher exits at start without an apiserver, as kube-proxy does:
# the test apiserver with its fixtures (tests/apiserver/fixtures.json:
# 2 proxied Services, 1 EndpointSlice, this node "node-a"), and a
# kubeconfig whose token is a file, so that the watcher keeps the token
# directory ($TMP/sa) open as documented.
NODE=node-a
start_api_once() {
	[ -n "$API_PID" ] && return 0
	start_api
	mkdir -p "$TMP/sa"
	printf '%s\n' "$TOKEN" >"$TMP/sa/token"
	sed "s|    token: .*|    tokenFile: sa/token|" "$TMP/kubeconfig" \
	    >"$TMP/tf.kubeconfig"
	API_PORT=${API##*:}
}

# start_kipvs [extra flags]: runs kipvs in the background against the test
# apiserver, log in $LOG.  The build host has no IPVS and its own netfilter
# must stay untouched: the applier skips its module preload and sysctls
# (--test-no-kernel-setup) and, like everything here, runs in the
# throwaway namespace, where the sets and chains it makes vanish with it.
start_kipvs() {
	start_api_once
	LOG=$TMP/kipvs.log
	AUDIT=$TMP/audit.log
	XTLOCK=$TMP/xtables.lock
	"$KIPVS" --libexec-dir "$LIBEXEC" \
	    --watcher-user "$W_ID:$W_ID" --planner-user "$P_ID:$P_ID" \
	    --applier-user "$A_ID:$A_ID" --audit-log "$AUDIT" \
	    --xtables-lock "$XTLOCK" --test-no-kernel-setup \
	    --kubeconfig "$TMP/tf.kubeconfig" --hostname-override "$NODE" \
	    "$@" >"$TMP/stdout" 2>"$LOG" &
	KPID=$!
}

# child_pid NAME: pid of the parent's child with that command name.
child_pid() {
	pgrep -P "$KPID" -x "$1" 2>/dev/null | head -n1
}

# wait_for SECONDS COMMAND...: polls every 50 ms.
wait_for() {
	local t=$1 i=0; shift
	while [ "$i" -lt $((t * 20)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# A child counts as up once it is sandboxed (Seccomp 2).
child_up() {
	local p
	p=$(child_pid "$1") && [ -n "$p" ] &&
	    grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status"
}
all_up() {
	child_up kipvs-watcherd && child_up kipvs-planner &&
	    child_up kipvs-applierd
}

status_field() {	# status_field PID FIELD
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '
}

fd_list() {	# fd_list PID: the open descriptors, sorted, space-separated
	ls "/proc/$1/fd" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# first_sync PLANNERPID: that planner's first sync was answered.
first_sync() {
	grep -q "^kipvs-planner\[$1\]: info: first sync applied" "$LOG"
}

# after MARK: the log from line MARK on (MARK=$(log_mark) before an event).
log_mark() { echo $(($(wc -l <"$LOG") + 1)); }
after() { tail -n "+$1" "$LOG"; }

no_zombies() {
	! ps -o stat= --ppid "$KPID" 2>/dev/null | grep -q '^Z'
}

finish() {
	echo "1..$n"
	if [ "$fails" -ne 0 ] && [ -n "${LOG:-}" ]; then
		echo "# kipvs log (no heartbeats):"
		grep -v ': heartbeat ' "$LOG" | tail -40 | sed 's/^/#   /'
	fi
	[ "$fails" -eq 0 ]
}
