# Shared by tests/watch/*.t: a throwaway CA and server certificate, the test
# apiserver (tests/apiserver/apiserver.py) on 127.0.0.1, a kubeconfig for
# it, and helpers to drive watch_driver and assert on both sides.
#
# Source it from the repository root after `cd "$(dirname "$0")/../.."`.
#
# SPDX-License-Identifier: Apache-2.0

B=${B:-build}
DRIVER=$B/tests/helpers/watch_driver
TOKEN=test-token-$$
W=$(mktemp -d /tmp/kipvs-watch.XXXXXX)
API_PID=
DRV_PID=
n=0
failed=0

cleanup() {
	[ -n "$DRV_PID" ] && kill "$DRV_PID" 2>/dev/null
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null
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

# Test certificates, made fresh for every run (never committed).
make_certs() {
	local ext=$W/ext.cnf
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc" \
	    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" >"$ext"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$W/ca.key" -out "$W/ca.crt" -days 1 \
	    -subj /CN=kipvs-test-ca 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$W/server.key" -out "$W/server.csr" \
	    -subj /CN=kube-apiserver 2>/dev/null &&
	openssl x509 -req -in "$W/server.csr" -CA "$W/ca.crt" \
	    -CAkey "$W/ca.key" -CAcreateserial -out "$W/server.crt" -days 1 \
	    -extfile "$ext" 2>/dev/null
}

# start_api [extra apiserver args]: sets API (https URL) and CTL (http URL).
start_api() {
	make_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
	python3 tests/apiserver/apiserver.py --cert "$W/server.crt" \
	    --key "$W/server.key" --token "$TOKEN" --ports-file "$W/ports" \
	    --fixtures tests/apiserver/fixtures.json "$@" \
	    2>"$W/apiserver.err" &
	API_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$W/ports" ] && break
		sleep 0.1
	done
	[ -s "$W/ports" ] || { echo "Bail out! apiserver did not start"; \
	    cat "$W/apiserver.err" >&2; exit 1; }
	read -r api_port ctl_port <"$W/ports"
	API=https://127.0.0.1:$api_port
	CTL=http://127.0.0.1:$ctl_port
	write_kubeconfig "$W/kubeconfig"
}

write_kubeconfig() {	# write_kubeconfig FILE [token]
	cat >"$1" <<EOK
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: $API
    certificate-authority: $W/ca.crt
contexts:
- name: test
  context:
    cluster: test
    user: kipvs
users:
- name: kipvs
  user:
    token: ${2:-$TOKEN}
EOK
}

ctl() {	# ctl PATH [JSON]: POST (or GET without JSON) to the control port
	if [ $# -ge 2 ]; then
		curl -sS -X POST --data-binary "$2" "$CTL$1"
	else
		curl -sS "$CTL$1"
	fi
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
	for i in $(seq $((secs * 10))); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_count PATTERN N [SECONDS] [FILE]: until at least N lines match.
wait_count() {
	local pat=$1 want=$2 secs=${3:-10} file=${4:-$W/out} i
	for i in $(seq $((secs * 10))); do
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
