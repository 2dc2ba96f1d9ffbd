# shellcheck shell=bash
# Sourced by the guest scripts that run kipvs end to end in the VM
# (tests/vm/guest/e2e*.sh, demo.sh): a one-node "cluster" in the guest's
# root network namespace, which in the VM is throwaway.
#
#   node      the root namespace: node IP 192.168.50.1 on the link to the
#             client, 10.244.0.1/32 on every pod link (the pods' gateway)
#   pods      network namespaces with a veth each, 10.244.0.0/24, routed
#             through the node (host routes, proxy ARP); one Python
#             process (lib-cluster.py serve) answers in all of them on
#             TCP 8080 (HTTP) and UDP 5353 with "POD CLIENT-IP"
#   client    a namespace outside the cluster, 192.168.50.2, for NodePorts
#   apiserver tests/apiserver/apiserver.py on loopback (HTTPS, token)
#   kipvs     the parent and its three sandboxed children, numeric
#             accounts, audit log and xtables lock under $CL
#
#	cl_init; cl_node; cl_pod NAME IP...; cl_serve NAME...
#	cl_api_start; cl_kipvs_start [FLAGS]; cl_apply JSON...
#	cl_svc ...; cl_eps ...  (object builders, below)
#	cl_in NETNS CMD...; cl_py ARGS...; cl_wait SECONDS CMD...
#	cl_rs, cl_has_rs (IPVS real servers); cl_objects, cl_render,
#	cl_state_diff (the kernel against kipvs-render)
#
# With KIPVS_VM_OUTDIR set, $CL (logs, audit log, ...) is copied there
# when the script ends.
#
# SPDX-License-Identifier: Apache-2.0

CL_B=${KIPVS_BUILD:-${B:-build}}
case $CL_B in /*) ;; *) CL_B=$PWD/$CL_B ;; esac
CL_PY=$PWD/tests/vm/guest/lib-cluster.py
CL_NODE='node-1'
CL_NODE_IP=192.168.50.1
CL_CLIENT_IP=192.168.50.2
CL_POD_GW=10.244.0.1
CL_CLUSTER_CIDR=10.244.0.0/16
CL_W_ID=65531 CL_P_ID=65532 CL_A_ID=65533
CL=
KPID=
CL_SRV_PID=
CL_PODS=()

cl_log() { printf '# %s %s\n' "$(date +%T.%3N)" "$*"; }

# cl_init: the work directory ($CL, readable by the daemons' accounts)
# and a trap that stops everything started here.
cl_init() {
	CL=$(mktemp -d /tmp/kipvs-cluster.XXXXXX)
	chmod 755 "$CL"
	trap cl_cleanup EXIT
}

cl_cleanup() {
	exec 2>/dev/null	# no "Killed" job notices
	[ -z "$KPID" ] || kill -KILL "$KPID" 2>/dev/null
	[ -z "$CL_SRV_PID" ] || kill -KILL "$CL_SRV_PID" 2>/dev/null
	[ -z "${API_PID:-}" ] || kill -KILL "$API_PID" 2>/dev/null
	# shellcheck disable=SC2046
	kill -KILL $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	# With KIPVS_VM_OUTDIR (tests/vm/README.md) the work directory, logs
	# included, outlives the VM.
	[ -z "${KIPVS_VM_OUTDIR:-}" ] || [ -z "$CL" ] ||
	    cp -r "$CL" "$KIPVS_VM_OUTDIR/${0##*/}.$$"
}

# cl_node: forwarding on, the client namespace on the node's "LAN".
cl_node() {
	sysctl -qw net.ipv4.ip_forward=1
	ip netns add client
	ip link add vclient type veth peer name eth0 netns client
	ip addr add "$CL_NODE_IP/24" dev vclient
	ip link set vclient up
	ip -n client link set lo up
	ip -n client addr add "$CL_CLIENT_IP/24" dev eth0
	ip -n client link set eth0 up
	ip -n client route add default via "$CL_NODE_IP"
}

# cl_pod NAME IP: a pod namespace NAME with eth0 = IP/24, default route
# through the node; the node routes IP/32 to the pod's veth.
cl_pod() {
	local name=$1 ip=$2 hv=vp-$1
	ip netns add "$name"
	ip link add "$hv" type veth peer name eth0 netns "$name"
	ip addr add "$CL_POD_GW/32" dev "$hv"
	sysctl -qw "net.ipv4.conf.$hv.proxy_arp=1"
	ip link set "$hv" up
	ip route add "$ip/32" dev "$hv"
	ip -n "$name" link set lo up
	ip -n "$name" addr add "$ip/24" dev eth0
	ip -n "$name" link set eth0 up
	ip -n "$name" route add default via "$CL_POD_GW"
	CL_PODS+=("$name")
}

# cl_serve POD...: the pod servers (one process for all of them).
cl_serve() {
	local args=() p
	for p in "$@"; do args+=("$p:$p"); done
	python3 "$CL_PY" serve "$CL/serve.ready" "${args[@]}" \
	    >"$CL/serve.log" 2>&1 &
	CL_SRV_PID=$!
	for _ in $(seq 300); do
		[ -s "$CL/serve.ready" ] && return 0
		kill -0 "$CL_SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$CL/serve.log" >&2
	return 1
}

cl_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
cl_py() { python3 "$CL_PY" "$@"; }

# cl_api_start [FIXTURES]: the test apiserver (tests/lib/apiserver.sh)
# loaded with FIXTURES (a JSON list of {"kind","object"}; default none).
cl_api_start() {
	API_DIR=$CL/api
	mkdir -p "$API_DIR"
	chmod 755 "$API_DIR"
	# shellcheck source=../../lib/apiserver.sh
	. tests/lib/apiserver.sh
	if [ -n "${1:-}" ]; then
		cp "$1" "$API_DIR/fixtures.json"
	else
		echo '[]' >"$API_DIR/fixtures.json"
	fi
	start_api --fixtures "$API_DIR/fixtures.json"
	chmod 644 "$API_DIR/kubeconfig" "$API_DIR/ca.crt"
}

# cl_apply JSON: one change or a JSON list of them through the control
# port ({"kind":"services|endpointslices|nodes","op":"add|modify|delete",
# "object":{...}}).
cl_apply() {
	local out
	out=$(ctl /apply "$1") && case $out in *'"rv"'*) return 0 ;; esac
	echo "# apply failed: $out" >&2
	return 1
}

# cl_api_get PATH: a GET against the API port with the token.
cl_api_get() {
	curl -sS --max-time 20 --cacert "$API_DIR/ca.crt" \
	    -H "Authorization: Bearer $TOKEN" "$API$1"
}

# cl_objects: every Service, EndpointSlice and Node of the apiserver as
# one v1 List (kipvs-render --objects).
cl_objects() {
	{ cl_api_get /api/v1/services; cl_api_get /apis/discovery.k8s.io/v1/endpointslices
	  cl_api_get /api/v1/nodes; } |
	    jq -s '{apiVersion: "v1", kind: "List", items: (map(. as $l | .items |
		map({kind: ($l.kind | sub("List$"; "")), apiVersion: $l.apiVersion} + .)) | add)}'
}

# --- object builders (JSON on stdout) -------------------------------------
#
# cl_svc NS NAME CLUSTERIP [key=value...] PORT...
#   keys: type=ClusterIP|NodePort|LoadBalancer, etp=Cluster|Local,
#   affinity=ClientIP[:TIMEOUT]
#   PORT: NAME/PROTO/PORT/TARGETPORT[/NODEPORT]
cl_svc() {
	local ns=$1 name=$2 ip=$3 type=ClusterIP etp='' aff=None affto='' ports='' a
	shift 3
	local p pn pp pt tp np
	for a in "$@"; do
		case $a in
		type=*) type=${a#type=} ;;
		etp=*) etp=${a#etp=} ;;
		affinity=*) aff=${a#affinity=}; affto=${aff#*:}; aff=${aff%%:*}
			[ "$affto" != "$aff" ] || affto=10800 ;;
		*/*/*/*)
			IFS=/ read -r pn pp pt tp np <<<"$a"
			p="{\"name\":\"$pn\",\"protocol\":\"$pp\",\"port\":$pt,\"targetPort\":$tp${np:+,\"nodePort\":$np}}"
			ports=${ports:+$ports,}$p ;;
		*) echo "cl_svc: bad argument $a" >&2; return 1 ;;
		esac
	done
	printf '{"metadata":{"name":"%s","namespace":"%s"},' "$name" "$ns"
	printf '"spec":{"type":"%s","clusterIP":"%s","clusterIPs":["%s"],' \
	    "$type" "$ip" "$ip"
	printf '"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack",'
	printf '"internalTrafficPolicy":"Cluster",'
	[ -z "$etp" ] || printf '"externalTrafficPolicy":"%s",' "$etp"
	printf '"sessionAffinity":"%s",' "$aff"
	[ "$aff" != ClientIP ] ||
	    printf '"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":%s}},' "$affto"
	printf '"ports":[%s]},"status":{"loadBalancer":{}}}\n' "$ports"
}

# cl_eps NS SERVICE SLICE PORTS ENDPOINT...
#   PORTS: NAME/PROTO/PORT[,NAME/PROTO/PORT...]
#   ENDPOINT: IP[/NODE[/ready|terminating|notready]] (node: this node)
cl_eps() {
	local ns=$1 svc=$2 slice=$3 ports=$4 out='' e ip node st r s t p pn pp pt
	shift 4
	local plist=
	for p in ${ports//,/ }; do
		IFS=/ read -r pn pp pt <<<"$p"
		plist=${plist:+$plist,}"{\"name\":\"$pn\",\"protocol\":\"$pp\",\"port\":$pt}"
	done
	for e in "$@"; do
		IFS=/ read -r ip node st <<<"$e"
		node=${node:-$CL_NODE}
		case ${st:-ready} in
		ready) r=true s=true t=false ;;
		terminating) r=false s=true t=true ;;
		notready) r=false s=false t=false ;;
		esac
		out=${out:+$out,}"{\"addresses\":[\"$ip\"],\"conditions\":{\"ready\":$r,\"serving\":$s,\"terminating\":$t},\"nodeName\":\"$node\"}"
	done
	printf '{"metadata":{"name":"%s","namespace":"%s","labels":{"kubernetes.io/service-name":"%s","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},' \
	    "$slice" "$ns" "$svc"
	printf '"addressType":"IPv4","endpoints":[%s],"ports":[%s]}\n' "$out" "$plist"
}

# cl_node_obj NAME IP: the own Node object.
cl_node_obj() {
	printf '{"metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s"}},' "$1" "$1"
	printf '"spec":{"podCIDR":"10.244.0.0/24","podCIDRs":["10.244.0.0/24"]},'
	printf '"status":{"addresses":[{"type":"InternalIP","address":"%s"},{"type":"Hostname","address":"%s"}]}}\n' "$2" "$1"
}

# cl_change KIND OP JSON: one {"kind","op","object"} entry.
cl_change() { printf '{"kind":"%s","op":"%s","object":%s}' "$1" "$2" "$3"; }

# --- kipvs ----------------------------------------------------------------

# cl_kipvs_start [FLAGS]: the parent with the three daemons, log in
# $CL/kipvs.log, audit log $CL/audit.log.
cl_kipvs_start() {
	"$CL_B/kipvs" --libexec-dir "$CL_B" \
	    --watcher-user "$CL_W_ID:$CL_W_ID" --planner-user "$CL_P_ID:$CL_P_ID" \
	    --applier-user "$CL_A_ID:$CL_A_ID" --audit-log "$CL/audit.log" \
	    --xtables-lock "$CL/xtables.lock" --kubeconfig "$API_DIR/kubeconfig" \
	    --hostname-override "$CL_NODE" --cluster-cidr "$CL_CLUSTER_CIDR" \
	    "$@" >>"$CL/kipvs.out" 2>>"$CL/kipvs.log" </dev/null &
	KPID=$!
}

cl_kipvs_stop() {
	[ -n "$KPID" ] || return 0
	kill -TERM "$KPID" 2>/dev/null
	local _i
	for _i in $(seq 100); do
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$KPID" 2>/dev/null
	KPID=
}

# cl_child NAME: pid of kipvs's child NAME.
cl_child() { pgrep -P "$KPID" -x "$1" 2>/dev/null | head -n1; }

# cl_rs VIP:PORT [PROTO]: the real servers of a virtual server with their
# weights ("IP:PORT WEIGHT" per line, sorted); PROTO t (default) or u.
cl_rs() {
	ipvsadm -Ln "-${2:-t}" "$1" 2>/dev/null |
	    awk '$1 == "->" && $2 != "RemoteAddress:Port" { print $2, $4 }' | sort
}

# cl_wait SECONDS CMD...: until CMD succeeds (polls every 0.2 s), at most
# SECONDS of wall time however long CMD takes.
cl_wait() {
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# cl_has_rs VIP:PORT PROTO WANT: the real servers with weight 1 are
# exactly WANT (space-separated IP:PORT list, sorted).
cl_has_rs() {
	[ "$(cl_rs "$1" "$2" | awk '$2 == 1 { print $1 }' | tr '\n' ' ' | sed 's/ $//')" = "$3" ]
}

# --- the kernel against kipvs-render -------------------------------------

# cl_render OUTPUT: kipvs-render of the apiserver's objects in
# $CL/objects.json (cl_objects) for this node, every IPv4 address of the
# node but loopback's and kube-ipvs0's given as a node IP.
cl_render() {
	local a=() ip
	for ip in $(ip -4 -o addr show | awk '$2 != "lo" && $2 != "kube-ipvs0" {
	    sub("/.*", "", $4); print $4 }' | sort -u | grep -vx "$CL_NODE_IP"); do
		a+=(--node-ip "$ip")
	done
	"$CL_B/kipvs-render" --objects "$CL/objects.json" \
	    --hostname-override "$CL_NODE" --node-ip "$CL_NODE_IP" "${a[@]}" \
	    --cluster-cidr "$CL_CLUSTER_CIDR" --output "$1"
}

# cl_iptnorm: iptables-save to "TABLE RULE" lines, KUBE- chain
# declarations and rules, counters dropped, in order within each table.
cl_iptnorm() {
	awk '/^\*/ { t = substr($0, 2) } /^-A / || /^:KUBE-/ {
	    sub(/ \[[0-9]+:[0-9]+\]$/, ""); print t, $0 }' | sort -s -k1,1
}

# cl_state_diff [--draining-ok]: the apiserver's objects rendered against
# the kernel, want.* and got.* files in $CL for ipvs, ipset, ipt, ip6t and
# addr; prints the differences and fails if there are any.  With
# --draining-ok real servers at weight 0 (graceful termination) are left
# out of the kernel's side.
cl_state_diff() {
	local k rc=0 drop='^$'
	[ "${1:-}" != --draining-ok ] || drop='^-a .* -w 0$'
	cl_objects >"$CL/objects.json" || return 1
	cl_render ipvs | LC_ALL=C sort >"$CL/want.ipvs"
	ipvsadm -Sn | grep -Ev -- "$drop" | LC_ALL=C sort >"$CL/got.ipvs"
	cl_render ipset | sed -E 's/ bucketsize [0-9]+ initval 0x[0-9a-f]+//' |
	    LC_ALL=C sort >"$CL/want.ipset"
	ipset save | grep -E '^(create|add) KUBE-' |
	    sed -E 's/ bucketsize [0-9]+ initval 0x[0-9a-f]+//' |
	    LC_ALL=C sort >"$CL/got.ipset"
	cl_render iptables >"$CL/want.ipt.all"
	awk '/^# ip6tables-save/ { exit } { print }' "$CL/want.ipt.all" |
	    cl_iptnorm >"$CL/want.ipt"
	awk '/^# ip6tables-save/ { p = 1; next } p' "$CL/want.ipt.all" |
	    cl_iptnorm >"$CL/want.ip6t"
	iptables-legacy-save | cl_iptnorm >"$CL/got.ipt"
	ip6tables-legacy-save | cl_iptnorm >"$CL/got.ip6t"
	cl_render addresses | LC_ALL=C sort >"$CL/want.addr"
	ip -o addr show dev kube-ipvs0 | awk '{ print $4 }' |
	    LC_ALL=C sort >"$CL/got.addr"
	for k in ipvs ipset ipt ip6t addr; do
		[ -s "$CL/want.$k" ] || [ "$k" = ip6t ] || rc=1
		diff "$CL/want.$k" "$CL/got.$k" || rc=1
	done
	return $rc
}
