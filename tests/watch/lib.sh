# Shared by tests/watch/*.t: the test apiserver with its certificates and
# kubeconfig (tests/lib/apiserver.sh), and helpers to drive watch_driver
# and assert on both sides.
#
# Source it from the repository root after `cd "$(dirname "$0")/../.."`.
#
# SPDX-License-Identifier: Apache-2.0

B=${B:-build}
DRIVER=$B/tests/helpers/watch_driver
W=$(mktemp -d /tmp/kipvs-watch.XXXXXX)
# The apiserver's files (certificates, kubeconfig) live in $W too.
API_DIR=$W
. tests/lib/apiserver.sh
DRV_PID=
n=0
failed=0

cleanup() {
	[ -n "$DRV_PID" ] && kill "$DRV_PID" 2>/dev/null
	stop_api
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

ok() {	# ok COND-EXIT-STATUS DESCRIPTION
	local rc=$1; shift
	n=$((n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $*"
	else
		echo "not ok $n - $*"
		failed=$((failed + 1))
	fi
}

t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

need_tools() {
	command -v python3 >/dev/null || skip_all "python3 not installed"
	command -v openssl >/dev/null || skip_all "openssl not installed"
	command -v curl >/dev/null || skip_all "curl not installed"
	[ -x "$DRIVER" ] || skip_all "$DRIVER not built"
}

# start_driver ARGS...: runs watch_driver in the background, output in
# $W/out, log in $W/err.
start_driver() {
	"$DRIVER" "$@" >"$W/out" 2>"$W/err" &
	DRV_PID=$!
}

stop_driver() {
	[ -n "$DRV_PID" ] || return 0
	kill "$DRV_PID" 2>/dev/null
	wait "$DRV_PID" 2>/dev/null
	DRV_PID=
}

# wait_for PATTERN [SECONDS] [FILE]: until an extended regex matches a line.
wait_for() {
	local pat=$1 secs=${2:-10} file=${3:-$W/out} i
	# KIPVS_TIME_SCALE: slower daemons (make memcheck runs them in valgrind).
	for i in $(seq $((secs * 10 * ${KIPVS_TIME_SCALE:-1}))); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_count PATTERN N [SECONDS] [FILE]: until at least N lines match.
wait_count() {
	local pat=$1 want=$2 secs=${3:-10} file=${4:-$W/out} i
	for i in $(seq $((secs * 10 * ${KIPVS_TIME_SCALE:-1}))); do
		[ "$(grep -Ec -- "$pat" "$file" 2>/dev/null)" -ge "$want" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

# The apiserver's request log: "<ms> <verb> <kind> <status> <target> <ua>".
reqlog() {
	ctl /log >"$W/log"
	cat "$W/log"
}

# Milliseconds between consecutive matching requests, one per line.
gaps() {	# gaps VERB KIND
	reqlog | awk -v v="$1" -v k="$2" '$2 == v && $3 == k {
	    if (seen) print $1 - last; last = $1; seen = 1 }'
}

finish() {
	echo "1..$n"
	if [ "$failed" -ne 0 ]; then
		echo "# driver stderr:" && sed 's/^/#   /' "$W/err" | tail -30
		echo "# driver stdout:" && sed 's/^/#   /' "$W/out" | tail -30
		echo "# apiserver log:" && ctl /log 2>/dev/null | \
		    sed 's/^/#   /' | tail -30
		echo "# apiserver stderr:" && sed 's/^/#   /' \
		    "$W/apiserver.err" | tail -20
	fi
	exit $((failed > 0))
}

# qparam NAME: the value of query parameter NAME in the target read on stdin.
qparam() {
	sed -n "s/.*[?&]$1=\([^& ]*\).*/\1/p"
}

# Lines of the request log for VERB KIND (after reqlog has run).
reqs() {	# reqs VERB KIND
	awk -v v="$1" -v k="$2" '$2 == v && $3 == k' "$W/log"
}

# within VALUE LOW HIGH: LOW <= VALUE <= HIGH (integers).
within() {
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# about VALUE LOW HIGH: within, less 10 ms at the low end (the apiserver
# stamps arrivals, and the previous request's own latency varies).
about() {
	[ -n "$1" ] && [ "$1" -ge $(($2 - 10)) ] && [ "$1" -le "$3" ]
}

SEL_ENC='%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name'

# wait_req VERB KIND N [SECONDS]: until the apiserver saw N such requests.
wait_req() {
	local i
	for i in $(seq $((${4:-10} * 10))); do
		reqlog >/dev/null
		[ "$(reqs "$1" "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_cmd SECONDS COMMAND...: until COMMAND succeeds (polled every 100 ms).
wait_cmd() {
	local secs=$1 i; shift
	for i in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
