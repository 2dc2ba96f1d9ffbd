#!/usr/bin/env bash
# Regenerates the seed corpora under tests/fuzz/corpus/<target>/ from real
# objects: the recorded apiserver responses (../shared/apiserver/*.http,
# when present), the test apiserver's fixtures, the render cases, the
# DaemonSet's KubeProxyConfiguration and the kubeconfig shapes the tests
# write.  The seeds are kept in the repository; run this after adding
# sources, then review and commit what changed.  Files are named by the
# SHA-1 of their content, so a rerun adds only new ones; hand-written
# seeds and crash reproducers (crash-*, regress-*) are never removed.
# The ipc_* corpora are not generated here: they are fuzzing corpora
# minimised with libFuzzer's -merge=1 (e.g. after make fuzz-long:
#   $B/fuzz/ipc_pa_fuzz -merge=1 tests/fuzz/corpus/ipc_pa $B/fuzz/corpus/ipc_pa).
#
#   tests/fuzz/gen-seeds.sh [APISERVER_RECORDINGS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
rec=${1:-../shared/apiserver}
B=${B:-build}
out=tests/fuzz/corpus

python3 - "$rec" "$out" <<'PY'
import glob, hashlib, json, os, re, sys

rec, out = sys.argv[1], sys.argv[2]

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, hashlib.sha1(data).hexdigest()[:16])
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)

def http_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    if not _:
        head, _, body = raw.partition(b"\n\n")
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        out, rest = b"", body
        while rest:
            line, _, rest = rest.partition(b"\n")
            try:
                n = int(line.strip().split(b";")[0], 16)
            except ValueError:
                break
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n:].lstrip(b"\r\n")
        body = out
    return body

def objects(doc):
    """API objects in a list, a watch event or an object."""
    if not isinstance(doc, dict):
        return
    if "items" in doc and isinstance(doc["items"], list):
        for it in doc["items"]:
            yield from objects(it)
    elif "object" in doc and "type" in doc:
        yield from objects(doc["object"])
    elif "kind" in doc or "metadata" in doc:
        yield doc

def strip(o):
    o = json.loads(json.dumps(o))
    o.get("metadata", {}).pop("managedFields", None)
    return o

# API objects: recordings, fixtures, render cases.
for p in sorted(glob.glob(os.path.join(rec, "*.http"))):
    body = http_body(open(p, "rb").read())
    if body.strip():
        put("watch_stream", b"\x00\x10" + body)
        put("watch_stream", b"\x07\x01" + body[:6000])
    for line in body.splitlines() or [body]:
        try:
            doc = json.loads(line)
        except ValueError:
            try:
                doc = json.loads(body)
            except ValueError:
                continue
        for o in objects(doc):
            put("watch_json", json.dumps(strip(o), separators=(",", ":")))
fx = "tests/apiserver/fixtures.json"
if os.path.exists(fx):
    for it in json.load(open(fx)):
        for o in objects(it.get("object", it)):
            put("watch_json", json.dumps(strip(o), separators=(",", ":")))
for p in sorted(glob.glob("tests/render/cases/*/cluster.json")):
    for o in objects(json.load(open(p))):
        put("watch_json", json.dumps(o, separators=(",", ":")))
for p in sorted(glob.glob("tests/render/cases/*/expected.ipvs")):
    put("plan_ipvsfile", open(p, "rb").read())

# KubeProxyConfiguration: the DaemonSet's and every field once.
ds = "deploy/kipvs-daemonset.yaml"
if os.path.exists(ds):
    m = re.search(r"config\.conf: \|\n((?:    .*\n|\s*\n)+)", open(ds).read())
    if m:
        put("kpconf_file", re.sub(r"(?m)^    ", "", m.group(1)))
put("kpconf_file", """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
hostnameOverride: node-a
bindAddress: 0.0.0.0
bindAddressHardFail: false
clusterCIDR: 10.244.0.0/16,fd00:244::/48
configSyncPeriod: 15m0s
clientConnection:
  kubeconfig: /var/lib/kipvs/kubeconfig
  acceptContentTypes: ""
  contentType: application/vnd.kubernetes.protobuf
  qps: 5
  burst: 10
conntrack:
  maxPerCore: 32768
  min: 131072
  tcpEstablishedTimeout: 24h0m0s
  tcpCloseWaitTimeout: 1h0m0s
  tcpBeLiberal: false
  udpTimeout: 0s
  udpStreamTimeout: 0s
detectLocalMode: ClusterCIDR
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
enableProfiling: false
healthzBindAddress: 0.0.0.0:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  localhostNodePorts: true
  masqueradeAll: false
  masqueradeBit: 14
  minSyncPeriod: 1s
  syncPeriod: 30s
ipvs:
  excludeCIDRs:
  - 10.250.0.0/16
  minSyncPeriod: 0s
  scheduler: wlc
  strictARP: true
  syncPeriod: 30s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
nodePortAddresses:
- 192.168.1.0/24
- fd00::/64
oomScoreAdj: -999
portRange: ""
showHiddenMetricsForVersion: ""
featureGates: {}
logging:
  flushFrequency: 0
  format: text
winkernel:
  enableDSR: false
nftables:
  masqueradeAll: false
""")
put("kpconf_file", """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: "ipvs"
detectLocalMode: InterfaceNamePrefix
detectLocal: {interfaceNamePrefix: veth}
nodePortAddresses: [primary]
ipvs: {scheduler: mh, syncPeriod: 1m30s, minSyncPeriod: 250ms}
iptables: {masqueradeAll: true, masqueradeBit: 31}
conntrack: {maxPerCore: 0, min: null}
""")
put("kpconf_file", """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
detectLocalMode: BridgeInterface
detectLocal:
  bridgeInterface: cbr0
oomScoreAdj: null
""")

# kubeconfig: the tests' shape, the in-cluster-like shape, *-data fields.
import base64
pem = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n"
                       b"-----END CERTIFICATE-----\n").decode()
put("kubeconfig", """apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca.crt
contexts:
- name: test
  context:
    cluster: test
    user: kipvs
users:
- name: kipvs
  user:
    token: abcdef.0123456789abcdef
""")
put("kubeconfig", f"""apiVersion: v1
kind: Config
preferences: {{}}
current-context: kubernetes-admin@kubernetes
clusters:
- cluster:
    certificate-authority-data: {pem}
    server: https://[fd00::1]:6443/
    tls-server-name: kubernetes.default.svc
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
    namespace: kube-system
  name: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: {pem}
    client-key-data: {pem}
""")
put("kubeconfig", """apiVersion: v1
kind: Config
current-context: c
clusters: [{name: k, cluster: {server: "https://api.example:443/prefix", insecure-skip-tls-verify: false, disable-compression: true}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {tokenFile: /var/run/secrets/token, client-certificate: /etc/c.crt, client-key: /etc/c.key}}]
""")
put("kubeconfig", "10.96.0.1\x00443")
put("kubeconfig", pem)
PY

# The planner's real ops for the render cases, for the applier's policy.
if command -v cc >/dev/null; then
	make -s B="$B" "$B/libkipvs-plan.a" "$B/libkipvs-watch.a" \
	    "$B/libkipvs-ipc.a" "$B/libkipvs-common.a"
	gen="$B/fuzz/gen_policy_seeds"
	mkdir -p "$B/fuzz" "$out/applier_policy"
	# shellcheck disable=SC2046
	cc -std=gnu11 -O1 -I. -I"$B" -D_GNU_SOURCE -o "$gen" \
	    tests/fuzz/gen_policy_seeds.c "$B/libkipvs-plan.a" \
	    "$B/libkipvs-watch.a" "$B/libkipvs-ipc.a" "$B/libkipvs-common.a" \
	    $(pkg-config --cflags --libs jansson libcurl libevent yaml-0.1 \
	    libcrypto libcap-ng libseccomp)
	tmp=$(mktemp)
	for c in tests/render/cases/*/; do
		"$gen" "$c" "$tmp"
		h=$(sha1sum "$tmp" | cut -c1-16)
		cp "$tmp" "$out/applier_policy/$h"
	done
	rm -f "$tmp"
fi
for d in "$out"/*/; do
	echo "$(basename "$d"): $(find "$d" -type f | wc -l) seeds"
done
