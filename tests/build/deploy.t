#!/usr/bin/env bash
# deploy/kipvs-daemonset.yaml: every YAML document parses (libyaml, through
# tests/helpers/yaml_flat) and has the structure a node proxy needs:
# the kinds, hostNetwork, system-node-critical, tolerate-everything, exactly
# the capabilities of systemd/kipvs.service, the xtables lock and
# /lib/modules (read-only) from the host, kube-proxy's node-proxier rights,
# and a ConfigMap whose KubeProxyConfiguration kipvs itself accepts without
# a warning.
#
# Then `kubectl apply --dry-run=client --validate=false -f` on the file
# (kubectl from Debian's kubernetes-client, 1.20, or whichever kubectl is
# installed; $KUBECTL overrides), against tests/build/discovery-server.py
# on loopback: a stand-in apiserver serving the discovery documents of the
# five kinds (with their real groups, versions and scopes) and 404 for
# every object.  What that checks: each document is YAML kubectl decodes,
# with apiVersion, kind and metadata.name; each kind maps to its resource
# through discovery (a misspelt kind fails: the negative control); kubectl
# builds each object's last-applied annotation and takes its create path,
# looking up namespaced objects in kube-system and cluster-scoped ones
# without a namespace; no write request is sent.
# What it does not check: field names, types and required fields against
# the Kubernetes API schema.  kubectl validates those against the OpenAPI
# document an apiserver serves (/openapi/v2), and this test has no
# honest copy of one (a hand-written one would check only what its author
# believed), hence --validate=false.  Run it without that flag against a
# real cluster for the schema.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
cd "$(dirname "$0")/../.."

f=deploy/kipvs-daemonset.yaml
yf=${B:-build}/tests/helpers/yaml_flat
n=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
echo "1..24"
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

# kubectl apply --dry-run=client against the discovery stand-in.
kubectl_dry_run() {
	local kc=${KUBECTL:-kubectl} i
	if ! command -v "$kc" >/dev/null || ! command -v python3 >/dev/null; then
		for i in 1 2 3 4; do
			n=$((n + 1))
			echo "ok $n # skip kubectl or python3 not installed (tests/deps.sh installs kubernetes-client)"
		done
		return
	fi
	python3 tests/build/discovery-server.py --port-file "$tmp/port" \
	    --log "$tmp/requests" &
	srv=$!
	for i in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	cat >"$tmp/kubeconfig" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: discovery
	  cluster:
	    server: http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)
	contexts:
	- name: discovery
	  context: {cluster: discovery, user: nobody}
	current-context: discovery
	users:
	- name: nobody
	  user: {}
	EOF
	kube() {
		HOME=$tmp KUBECONFIG=$tmp/kubeconfig timeout 120 "$kc" \
		    --cache-dir="$tmp/cache" --request-timeout=30s "$@"
	}
	kube apply --dry-run=client --validate=false -f "$f" \
	    >"$tmp/kubectl.out" 2>&1
	echo "# $("$kc" version --client 2>/dev/null | head -1)"
	sed 's/^/# /' "$tmp/kubectl.out"
	t "kubectl apply --dry-run=client: the five objects, each created (dry run)" \
	    test "$(cat "$tmp/kubectl.out")" = "serviceaccount/kipvs created (dry run)
clusterrole.rbac.authorization.k8s.io/kipvs:node-proxier created (dry run)
clusterrolebinding.rbac.authorization.k8s.io/kipvs:node-proxier created (dry run)
configmap/kipvs created (dry run)
daemonset.apps/kipvs created (dry run)"
	t "... kinds mapped through discovery, objects looked up in their scope" \
	    test "$(sed -n 's/^GET \([^?]*\).*/\1/p' "$tmp/requests" |
	    grep -Ev '^/(api|apis|version|openapi/v2|swagger.*)$|^/api/v1$|^/apis/[^/]+/v1$|^/api/v1/namespaces/kube-system$' |
	    tr '\n' ' ')" = "/api/v1/namespaces/kube-system/serviceaccounts/kipvs /apis/rbac.authorization.k8s.io/v1/clusterroles/kipvs:node-proxier /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kipvs:node-proxier /api/v1/namespaces/kube-system/configmaps/kipvs /apis/apps/v1/namespaces/kube-system/daemonsets/kipvs "
	t "... no write request reached the server" \
	    test -z "$(grep -v '^GET ' "$tmp/requests")"
	sed 's/^kind: DaemonSet$/kind: DaemonSett/' "$f" >"$tmp/misspelt.yaml"
	kube apply --dry-run=client --validate=false -f "$tmp/misspelt.yaml" \
	    >"$tmp/misspelt.out" 2>&1
	t "negative control: a misspelt kind fails to map" \
	    grep -q 'no matches for kind "DaemonSett" in version "apps/v1"' \
	    "$tmp/misspelt.out"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
}

if [ ! -x "$yf" ]; then
	for i in $(seq 20); do echo "ok $i # skip $yf not built (make tests)"; done
	n=20
	kubectl_dry_run
	exit 0
fi

t "every document parses" bash -c "'$yf' '$f' > '$tmp/flat'"
get() {	# get DOC PATH: one scalar
	"$yf" -g "$1" "$2" "$f"
}
# values of one document whose path matches an extended regex, sorted
vals() {
	awk -F'\t' -v d="$1" -v re="$2" '$1 == d && $2 ~ re { print $3 }' \
	    "$tmp/flat" | sort | tr '\n' ' ' | sed 's/ $//'
}
t "five documents: ServiceAccount ClusterRole ClusterRoleBinding ConfigMap DaemonSet" \
    test "$(awk -F'\t' '$2 == "kind" { printf "%s ", $3 }' "$tmp/flat")" = \
    "ServiceAccount ClusterRole ClusterRoleBinding ConfigMap DaemonSet "
ds=4
spec=spec.template.spec
c0=$spec.containers\\[0\\]
t "DaemonSet in kube-system" test "$(get $ds metadata.namespace)" = kube-system
t "hostNetwork: true" test "$(get $ds $spec.hostNetwork)" = true
t "priorityClassName: system-node-critical" \
    test "$(get $ds $spec.priorityClassName)" = system-node-critical
t "tolerates every taint" \
    test "$(get $ds "$spec.tolerations[0].operator")" = Exists
t "runs as its ServiceAccount" \
    test "$(get $ds $spec.serviceAccountName)" = "$(get 0 metadata.name)"
want=$(sed -n 's/^CapabilityBoundingSet=//p' systemd/kipvs.service |
    tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ' | sed 's/ $//')
t "capabilities added: exactly kipvs.service's bounding set ($want)" \
    test "$(vals $ds "^$c0\\.securityContext\\.capabilities\\.add")" = "$want"
t "capabilities dropped: ALL" \
    test "$(vals $ds "^$c0\\.securityContext\\.capabilities\\.drop")" = ALL
t "main container not privileged, no privilege escalation, read-only root" \
    test "$(get $ds "$spec.containers[0].securityContext.privileged")" = false -a \
    "$(get $ds "$spec.containers[0].securityContext.allowPrivilegeEscalation")" = false -a \
    "$(get $ds "$spec.containers[0].securityContext.readOnlyRootFilesystem")" = true
t "only the init container is privileged" \
    test "$(vals $ds 'privileged$')" = "false true" -a \
    "$(get $ds "$spec.initContainers[0].securityContext.privileged")" = true
# Volume NAME is the hostPath PATH, mounted at the same place in the
# container, read-only or not as asked.
hostvol() {	# hostvol PATH READONLY
	local i v=
	for i in 0 1 2 3 4 5; do
		if [ "$(get $ds "$spec.volumes[$i].hostPath.path")" = "$1" ]; then
			v=$(get $ds "$spec.volumes[$i].name"); break
		fi
	done
	[ -n "$v" ] || return 1
	for i in 0 1 2 3 4 5; do
		if [ "$(get $ds "$spec.containers[0].volumeMounts[$i].name")" = "$v" ]; then
			[ "$(get $ds "$spec.containers[0].volumeMounts[$i].mountPath")" = "$1" ] || return 1
			local ro
			ro=$(get $ds "$spec.containers[0].volumeMounts[$i].readOnly" || echo false)
			[ "$ro" = "$2" ]
			return
		fi
	done
	return 1
}
t "/run/xtables.lock from the host, writable" hostvol /run/xtables.lock false
t "/lib/modules from the host, read-only" hostvol /lib/modules true
t "ClusterRole: kube-proxy's node-proxier verbs and resources" \
    test "$(awk -F'\t' '$1 == 1 && $2 ~ /^rules/ { printf "%s=%s;", $2, $3 }' "$tmp/flat")" = \
    "rules[0].apiGroups[0]=;rules[0].resources[0]=services;rules[0].resources[1]=endpoints;rules[0].verbs[0]=list;rules[0].verbs[1]=watch;rules[1].apiGroups[0]=;rules[1].resources[0]=nodes;rules[1].verbs[0]=get;rules[1].verbs[1]=list;rules[1].verbs[2]=watch;rules[2].apiGroups[0]=discovery.k8s.io;rules[2].resources[0]=endpointslices;rules[2].verbs[0]=list;rules[2].verbs[1]=watch;rules[3].apiGroups[0]=;rules[3].apiGroups[1]=events.k8s.io;rules[3].resources[0]=events;rules[3].verbs[0]=create;rules[3].verbs[1]=patch;rules[3].verbs[2]=update;"
t "ClusterRoleBinding: the role to the ServiceAccount" \
    test "$(get 2 roleRef.name)" = "$(get 1 metadata.name)" -a \
    "$(get 2 'subjects[0].name')" = "$(get 0 metadata.name)" -a \
    "$(get 2 'subjects[0].namespace')" = "$(get 0 metadata.namespace)"
get 3 data.config.conf >"$tmp/config.conf"
t "the ConfigMap's KubeProxyConfiguration loads with kpconf_file" \
    bash -c "'$yf' -k '$tmp/config.conf' >'$tmp/flags' 2>'$tmp/warn'"
sed 's/^/# /' "$tmp/warn"
t "... without a warning" test ! -s "$tmp/warn"
t "... as mode ipvs with a cluster CIDR" grep -qx -- '--cluster-cidr=10.244.0.0/16' "$tmp/flags"
t "kipvs is given the ConfigMap's file" bash -c "
	m=\$('$yf' -g $ds 'spec.template.spec.containers[0].volumeMounts[0].mountPath' '$f')
	test \"\$('$yf' -g $ds 'spec.template.spec.containers[0].args[0]' '$f')\" = \"--config=\$m/config.conf\""
t "node name from the downward API" \
    test "$(get $ds "$spec.containers[0].env[0].valueFrom.fieldRef.fieldPath")" = spec.nodeName
kubectl_dry_run
