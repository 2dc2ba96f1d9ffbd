#!/usr/bin/env bash
# kube-proxy's HTTP endpoints as the watcher serves them (1.33+ shapes):
# /healthz and /livez with their JSON, status and headers, going 503 when a
# queued change is older than the health timeout and back to 200 after a
# sync, /healthz alone failing for an ineligible node; /metrics, /healthz,
# /proxyMode on the metrics port; a service health-check port answering
# kube-proxy's body byte for byte with X-Load-Balancing-Endpoint-Weight.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
HDRV=$B/tests/helpers/watch_httpd_driver
command -v curl >/dev/null || skip_all "curl not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
[ -x "$HDRV" ] || skip_all "$HDRV not built"

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
hc1=$(freeport)
hc2=$(freeport)
"$HDRV" --healthz 127.0.0.1:0 --metrics 127.0.0.1:0 --families 4 \
    --timeout-ms 1000 --queue-at 1 --update-at 4 --ineligible-at 6 \
    --hc "default/wp-nginx-service:$hc1:1" --hc "alpha/empty:$hc2:0" \
    --ports-file "$W/hports" --exit-after 9 2>"$W/err" &
DRV_PID=$!
t0=$(date +%s%N)
at() {	# at S: sleep until S seconds after the driver started
	python3 -c "import time; d = $t0 / 1e9 + $1 - time.time()
if d > 0: time.sleep(d)"
}
for i in $(seq 50); do [ -s "$W/hports" ] && break; sleep 0.1; done
read -r hp mp <"$W/hports"
H=http://127.0.0.1:$hp
M=http://127.0.0.1:$mp
get() {	# get NAME URL: headers in $W/NAME.h, body in $W/NAME.b
	curl -sS -D "$W/$1.h" -o "$W/$1.b" "$2"
}
hdr() {	# hdr NAME HEADER: its value
	sed -n "s/^$2: \(.*\)\r$/\1/Ip" "$W/$1.h"
}
status() { head -1 "$W/$1.h" | cut -d' ' -f2; }
TS='"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z"'

# Healthy at start.
get hz "$H/healthz"
t "/healthz: 200" test "$(status hz)" = 200
t "/healthz: Content-Type application/json" \
    test "$(hdr hz Content-Type)" = application/json
t "/healthz: X-Content-Type-Options nosniff" \
    test "$(hdr hz X-Content-Type-Options)" = nosniff
t "/healthz: 1.33 body with nodeEligible and per-family status" \
    grep -Eqx "\{\"lastUpdated\":$TS,\"currentTime\":$TS,\"nodeEligible\":true,\"healthy\":true,\"status\":\{\"IPv4\":\{\"lastUpdated\":$TS,\"healthy\":true\}\}\}" "$W/hz.b"
t "/healthz: lastUpdated = currentTime when healthy" python3 -c "
import json,sys; o=json.load(open('$W/hz.b'))
sys.exit(o['lastUpdated'] != o['currentTime'])"
get lz "$H/livez"
t "/livez: 200 without nodeEligible" grep -Eqx "\{\"lastUpdated\":$TS,\"currentTime\":$TS,\"healthy\":true,\"status\":\{\"IPv4\":\{\"lastUpdated\":$TS,\"healthy\":true\}\}\}" "$W/lz.b"
get nf "$H/other"
t "other paths: 404" test "$(status nf)" = 404

# The service health check, byte for byte.
get hc "http://127.0.0.1:$hc1/anything"
printf '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "wp-nginx-service"\n\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}' >"$W/want"
t "health check: 200" test "$(status hc)" = 200
t "health check: kube-proxy's body (127 bytes, tabs, no newline)" \
    cmp -s "$W/hc.b" "$W/want"
t "health check: X-Load-Balancing-Endpoint-Weight: 1" \
    test "$(hdr hc X-Load-Balancing-Endpoint-Weight)" = 1
t "health check: Content-Type and nosniff" bash -c "
    [ '$(hdr hc Content-Type)' = application/json ] &&
    [ '$(hdr hc X-Content-Type-Options)' = nosniff ]"
get hc0 "http://127.0.0.1:$hc2/"
t "health check with no local endpoint: 503, weight 0" bash -c "
    [ '$(status hc0)' = 503 ] &&
    [ '$(hdr hc0 X-Load-Balancing-Endpoint-Weight)' = 0 ] &&
    grep -q '\"localEndpoints\": 0' '$W/hc0.b'"

# Metrics port.
get mh "$M/healthz"
t "metrics /healthz: ok" bash -c "[ '$(status mh)' = 200 ] && [ \"\$(cat '$W/mh.b')\" = ok ]"
get pm "$M/proxyMode"
t "/proxyMode: ipvs" test "$(cat "$W/pm.b")" = ipvs
get me "$M/metrics"
t "/metrics: healthz counter" \
    grep -qx 'kubeproxy_proxy_healthz_total{code="200"} 1' "$W/me.b"
t "/metrics: livez counter" \
    grep -qx 'kubeproxy_proxy_livez_total{code="200"} 1' "$W/me.b"
t "/metrics: TYPE lines" grep -qx '# TYPE kubeproxy_proxy_healthz_total counter' "$W/me.b"
t "/metrics: the owner's metrics appended" \
    grep -q '^kipvs_watch_relists_total{resource="services"} 0$' "$W/me.b"
t "/metrics: Prometheus text content type" \
    grep -q 'text/plain; version=0.0.4' "$W/me.h"

# A change queued at 1 s and not synced by 2 s (timeout 1 s): unhealthy.
at 2.5
get hz "$H/healthz"
t "stale queue: /healthz 503" test "$(status hz)" = 503
t "stale queue: healthy false, IPv4 healthy false" \
    grep -q '"healthy":false,"status":{"IPv4":{"lastUpdated":"[^"]*","healthy":false}}' "$W/hz.b"
get lz "$H/livez"
t "stale queue: /livez 503" test "$(status lz)" = 503
get hc "http://127.0.0.1:$hc1/"
t "stale queue: health check 503, serviceProxyHealthy false" bash -c "
    [ '$(status hc)' = 503 ] && grep -q '\"serviceProxyHealthy\": false' '$W/hc.b'"
# Synced at 4 s: healthy again; node ineligible from 6 s.
at 4.5
get hz "$H/healthz"
t "after the sync: /healthz 200" test "$(status hz)" = 200
at 6.5
get hz "$H/healthz"
get lz "$H/livez"
t "ineligible node: /healthz 503 with nodeEligible false" bash -c "
    [ '$(status hz)' = 503 ] && grep -q '\"nodeEligible\":false' '$W/hz.b'"
t "ineligible node: /livez still 200" test "$(status lz)" = 200
get me "$M/metrics"
t "/metrics: 503s counted" \
    grep -qx 'kubeproxy_proxy_healthz_total{code="503"} 2' "$W/me.b"
wait "$DRV_PID"
t "driver exits cleanly" test $? -eq 0
DRV_PID=
finish
