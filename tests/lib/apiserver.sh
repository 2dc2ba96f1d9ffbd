# Sourced by script tests that need the test apiserver
# (tests/apiserver/apiserver.py): a throwaway CA and server certificate,
# the apiserver on 127.0.0.1 (random ports), a kubeconfig for it, and its
# control port.  Used by tests/watch/lib.sh and tests/sup/lib.sh.
#
# Source it from the repository root.  The caller sets API_DIR (a private
# temporary directory: certificates, ports file, kubeconfig and the
# apiserver's stderr go there) and calls stop_api on exit.  Sets TOKEN,
# and start_api sets API, CTL and API_PID.  `outage on|off` wraps the
# control port's /outage (the API port refuses connections / listens again).
#
# SPDX-License-Identifier: Apache-2.0

TOKEN=test-token-$$
API_PID=

# Test certificates, made fresh for every run (never committed).
make_certs() {
	local ext=$API_DIR/ext.cnf
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc" \
	    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" >"$ext"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$API_DIR/ca.key" -out "$API_DIR/ca.crt" -days 1 \
	    -subj /CN=kipvs-test-ca 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$API_DIR/server.key" -out "$API_DIR/server.csr" \
	    -subj /CN=kube-apiserver 2>/dev/null &&
	openssl x509 -req -in "$API_DIR/server.csr" -CA "$API_DIR/ca.crt" \
	    -CAkey "$API_DIR/ca.key" -CAcreateserial \
	    -out "$API_DIR/server.crt" -days 1 -extfile "$ext" 2>/dev/null
}

# stop_api: SIGTERM, and SIGKILL if it is not gone after 3 s; waits for
# it, so no test ever blocks on a wedged apiserver.
stop_api() {
	local killer
	[ -n "$API_PID" ] || return 0
	kill "$API_PID" 2>/dev/null
	(sleep 3; kill -KILL "$API_PID" 2>/dev/null) &
	killer=$!
	wait "$API_PID" 2>/dev/null
	kill "$killer" 2>/dev/null
	wait "$killer" 2>/dev/null
	API_PID=
}

# start_api [extra apiserver args]: sets API (https URL), CTL (http URL)
# and API_PID, and writes $API_DIR/kubeconfig.
start_api() {
	make_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
	python3 tests/apiserver/apiserver.py --cert "$API_DIR/server.crt" \
	    --key "$API_DIR/server.key" --token "$TOKEN" \
	    --ports-file "$API_DIR/ports" \
	    --fixtures tests/apiserver/fixtures.json "$@" \
	    2>"$API_DIR/apiserver.err" &
	API_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$API_DIR/ports" ] && break
		sleep 0.1
	done
	[ -s "$API_DIR/ports" ] || { echo "Bail out! apiserver did not start"; \
	    cat "$API_DIR/apiserver.err" >&2; exit 1; }
	read -r api_port ctl_port <"$API_DIR/ports"
	API=https://127.0.0.1:$api_port
	CTL=http://127.0.0.1:$ctl_port
	write_kubeconfig "$API_DIR/kubeconfig"
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
    certificate-authority: $API_DIR/ca.crt
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

outage() {	# outage on|off: the apiserver's API port refuses/accepts again
	case $1 in
	on) ctl /outage '{"on":true}' ;;
	off) ctl /outage '{"on":false}' ;;
	*) echo "outage: on or off" >&2; return 2 ;;
	esac
}
