#!/usr/bin/env bash
# Credentials and TLS: the bearer token on the wire, 401 backs off, a
# rotated token file is read again, the peer certificate and name are
# verified (a foreign CA or a wrong tls-server-name never gets a request
# through), tls-server-name and certificate-authority-data work, in-cluster
# configuration works, and what kipvs cannot honour is refused up front.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

# A wrong token: 401, back-off, nothing for the sink.
write_kubeconfig "$W/bad.kubeconfig" wrong-token
start_driver --kubeconfig "$W/bad.kubeconfig" --resources svc \
    --backoff-base 200 --jitter 0
wait_req list services 2 5
stop_driver
reqlog >/dev/null
t "wire: 401 for a wrong token" grep -q 'list services 401' "$W/log"
g=$(gaps list services | head -1)
t "wire: 401 backs off ($g ms)" about "$g" 200 500
t "driver log: HTTP 401: Unauthorized" grep -q 'HTTP 401: Unauthorized' "$W/err"
t "sink: nothing" bash -c "! grep -q 'svc BEGIN' '$W/out'"

# tokenFile, rotated while watching.
printf '%s\n' "$TOKEN" >"$W/token"
sed "s|    token: .*|    tokenFile: token|" "$W/kubeconfig" >"$W/tf.kubeconfig"
: >"$W/out"
start_driver --kubeconfig "$W/tf.kubeconfig" --resources svc \
    --backoff-base 200 --jitter 0 --min-watch-ms 1
wait_for 'svc END' 5
wait_req watch services 1 5
ctl /token '{"token":"rotated-token"}' >/dev/null
printf 'rotated-token\n' >"$W/token.new" && mv "$W/token.new" "$W/token"
sleep 0.2
reqlog >/dev/null
n0=$(reqs watch services | wc -l)
ctl /end-watches '' >/dev/null
wait_req watch services $((n0 + 2)) 5
reqs watch services | tail -2 >"$W/w"
t "wire: the old token is refused once" \
    test "$(sed -n 1p "$W/w" | cut -d' ' -f4)" = 401
t "wire: the re-read token is accepted" \
    test "$(sed -n 2p "$W/w" | cut -d' ' -f4)" = 200
t "sink: the watch goes on, no new snapshot" bash -c "
    test \$(grep -c 'svc BEGIN' '$W/out') -eq 1"
stop_driver
ctl /token "{\"token\":\"$TOKEN\"}" >/dev/null

# A CA that did not sign the server's certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$W/other.key" -out "$W/other.crt" -days 1 -subj /CN=other \
    2>/dev/null
sed "s|certificate-authority: .*|certificate-authority: $W/other.crt|" \
    "$W/kubeconfig" >"$W/ca.kubeconfig"
n0=$(reqlog | wc -l)
: >"$W/out"
start_driver --kubeconfig "$W/ca.kubeconfig" --resources svc \
    --backoff-base 200 --jitter 0
sleep 1
stop_driver
t "foreign CA: no request reaches the server" test "$(reqlog | wc -l)" -eq "$n0"
t "foreign CA: certificate problem logged" \
    grep -qi 'certificate' "$W/err"

# tls-server-name: the name checked instead of the URL's host.
tsn() {	# tsn NAME: a kubeconfig with tls-server-name NAME
	sed "s|    certificate-authority: .*|&\n    tls-server-name: $1|" \
	    "$W/kubeconfig"
}
tsn kubernetes.default.svc >"$W/tsn.kubeconfig"
: >"$W/out"
start_driver --kubeconfig "$W/tsn.kubeconfig" --resources svc
t "tls-server-name in the certificate: works" wait_for 'svc END' 5
stop_driver
tsn wrong.example >"$W/tsn2.kubeconfig"
n0=$(reqlog | wc -l)
: >"$W/out"
start_driver --kubeconfig "$W/tsn2.kubeconfig" --resources svc \
    --backoff-base 5000
sleep 1
stop_driver
t "tls-server-name not in the certificate: refused" \
    bash -c "test \$(curl -s $CTL/log | wc -l) -eq $n0 &&
    ! grep -q 'svc BEGIN' '$W/out'"

# certificate-authority-data instead of a file.
b64=$(base64 -w0 "$W/ca.crt")
sed "s|    certificate-authority: .*|    certificate-authority-data: $b64|" \
    "$W/kubeconfig" >"$W/data.kubeconfig"
: >"$W/out"
start_driver --kubeconfig "$W/data.kubeconfig" --resources svc
t "certificate-authority-data: works" wait_for 'svc END' 5
stop_driver

# In-cluster: environment + service account directory.
mkdir -p "$W/sa"
cp "$W/ca.crt" "$W/sa/ca.crt"
printf '%s' "$TOKEN" >"$W/sa/token"
: >"$W/out"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=${API##*:} \
    start_driver --incluster "$W/sa" --resources svc
t "in-cluster: works" wait_for 'svc END' 5
stop_driver
out=$(env -u KUBERNETES_SERVICE_HOST "$DRIVER" --incluster "$W/sa" 2>&1)
t "in-cluster without the environment: a clear error" \
    grep -q 'KUBERNETES_SERVICE_HOST' <<<"$out"

# Refused configurations.
refuse() {	# refuse DESCRIPTION PATTERN < KUBECONFIG: must fail so
	cat >"$W/r.kubeconfig"
	"$DRIVER" --kubeconfig "$W/r.kubeconfig" --check-config >"$W/r.out" 2>&1
	rc=$?
	t "refused: $1" bash -c "[ $rc -eq 2 ] && grep -q -- '$2' '$W/r.out'"
}
refuse "http:// server" "only https://" \
    < <(sed "s|server: https|server: http|" "$W/kubeconfig")
refuse "exec credential plugin" '"exec" is not supported' \
    < <(sed "s|    token: .*|    exec:\n      command: aws|" "$W/kubeconfig")
refuse "insecure-skip-tls-verify" "always verifies" \
    < <(sed "s|    certificate-authority: .*|    insecure-skip-tls-verify: true|" \
    "$W/kubeconfig")
out=$("$DRIVER" --master http://127.0.0.1:1 2>&1)
t "refused: --master http://" grep -q 'only https://' <<<"$out"
out=$("$DRIVER" --kubeconfig "$W/kubeconfig" --master "https://10.0.0.1:6443" \
    --check-config 2>&1)
t "--master replaces the kubeconfig's server" \
    grep -q '^server https://10.0.0.1:6443$' <<<"$out"
finish
