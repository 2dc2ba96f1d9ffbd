#!/usr/bin/env bash
# deploy/kipvs-daemonset.yaml: every YAML document parses (libyaml, through
# tests/helpers/yaml_flat) and has the structure a node proxy needs:
# the kinds, hostNetwork, system-node-critical, tolerate-everything, exactly
# the capabilities of systemd/kipvs.service, the xtables lock and
# /lib/modules (read-only) from the host, kube-proxy's node-proxier rights,
# and a ConfigMap whose KubeProxyConfiguration kipvs itself accepts without
# a warning.
# Not checked here: the Kubernetes API schema.  `kubectl apply
# --dry-run=client` needs kubectl and an apiserver to map kinds, neither of
# which a fresh build machine has; run it by hand against a cluster.
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
echo "1..20"
if [ ! -x "$yf" ]; then
	for i in $(seq 20); do echo "ok $i # skip $yf not built (make tests)"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
