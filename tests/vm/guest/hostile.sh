#!/usr/bin/env bash
# Guest side of tests/vm/50-hostile.t: the whole hostile-object corpus
# (tests/hostile/corpus.json) next to normal Services in the one-node
# cluster of lib-cluster.sh, with kipvs and its three sandboxed daemons on
# the VM's real kernel.  Checks: no denied or node address is ever bound
# on kube-ipvs0 (sampled all along, not only at the end), no virtual
# server on one (outside the NodePort range), every entry's must /
# must-not in `ipvsadm -Sn`, host services on the node's own ports
# outside the NodePort range still answer (not captured), the normal
# Services carry traffic, rejections and neutralisations are logged and
# counted on /metrics with no op refused by the applier, and the same
# table after a planner kill -9 and after a restart of kipvs (conflict
# winners included).  TAP on stdout.
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

if [[ ${KIPVS_IN_VM:-} != 1 ]]; then
	echo "1..0 # SKIP only runs inside the VM (tests/vm/run.sh $0)"
	exit 0
fi
. tests/vm/guest/lib-cluster.sh

n=0 failed=0
ok() {
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
TOOL=tests/hostile/corpus-tool.py
# Addresses that must never be on kube-ipvs0.
DENIED='^(127\.|169\.254\.|0\.|22[4-9]\.|23[0-9]\.|24[0-9]\.|25[0-5]\.|192\.168\.50\.1$)'

echo 1..13
cl_log "guest up"
cl_init
cl_node
cl_pod pod-a 10.244.0.10
cl_pod pod-b 10.244.0.20
cl_pod pod-c 10.244.0.22
cl_pod cpod 10.244.0.100
cl_serve pod-a pod-b pod-c || echo "Bail out! the pod servers did not start"

# Host services on the node's own ports outside the NodePort range: the
# corpus has externalIPs, LB IPs and nodePorts aimed at them.
mkdir -p "$CL/host"
echo HOST >"$CL/host/who"
for p in 22 6443 10250; do
	(cd "$CL/host" && exec python3 -m http.server "$p" --bind 0.0.0.0) \
	    >"$CL/host-$p.log" 2>&1 &
done

# The fixtures: the own Node, default/kubernetes, two normal Services (the
# corpus's baseline base/web, a NodePort here) and every corpus object.
P=http/TCP/8080
cat >"$CL/extra.json" <<EOF
[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default kubernetes 10.96.0.1 https/TCP/443/6443)"),
 $(cl_change endpointslices add "$(cl_eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc base np 10.96.100.2 type=NodePort http/TCP/80/8080/30090)"),
 $(cl_change endpointslices add "$(cl_eps base np np-1 $P 10.244.0.10)")]
EOF
python3 "$TOOL" fixtures "$CL/fixtures.json" "$CL/extra.json" ||
    echo "Bail out! cannot build the fixtures"
cl_api_start "$CL/fixtures.json"
cl_log "apiserver up with $(grep -o '"kind": *"[a-z]*"' "$CL/fixtures.json" | wc -l) objects"

# Sample kube-ipvs0 from before kipvs starts to the end.
( while :; do ip -o addr show dev kube-ipvs0 2>/dev/null |
	awk '{ print $4 }' >>"$CL/ever-bound.raw"; sleep 0.2; done ) &
SAMPLER=$!

cl_log "starting kipvs"
cl_kipvs_start
converged() {
	cl_has_rs 10.96.100.1:80 t "10.244.0.10:8080" &&
	    cl_has_rs "$CL_NODE_IP:30090" t "10.244.0.10:8080" &&
	    cl_has_rs 192.0.2.200:80 t "10.244.0.20:8080" &&
	    curl -s --max-time 5 http://127.0.0.1:10249/metrics |
	    grep -q '^kipvs_planner_synced 1'
}
cl_wait 120 converged
ok $? "kipvs converges with the corpus loaded (the normal Services programmed)"
cl_log "converged"
sleep 3		# a few more syncs: nothing hostile may appear later either

ipvsadm -Sn >"$CL/ipvs.1"
ip -o addr show dev kube-ipvs0 | awk '{ print $4 }' >"$CL/addrs.1"
python3 "$TOOL" check "$CL/ipvs.1" "$CL/addrs.1" >"$CL/check.1" 2>&1
ok $? "every corpus entry's must / must-not holds in ipvsadm -Sn and on kube-ipvs0 ($(tail -n1 "$CL/check.1"))" ||
    diag <"$CL/check.1"

bad=$(awk '{ print $1 }' "$CL/addrs.1" | sed 's,/.*,,' | grep -E "$DENIED")
[[ -z $bad ]]
ok $? "no denied or node address on kube-ipvs0 ($(wc -l <"$CL/addrs.1") bound)" || echo "$bad" | diag
bad=$(awk '$1 == "-A" { print $3 }' "$CL/ipvs.1" | awk -F: -v node="$CL_NODE_IP" '
	$1 ~ /^(127\.|169\.254\.|0\.|22[4-9]\.|23[0-9]\.|24[0-9]\.|25[0-5]\.)/ ||
	($1 == node && ($2 < 30000 || $2 > 32767))')
[[ -z $bad ]]
ok $? "no virtual server on a denied address or on the node's address outside 30000-32767" ||
    echo "$bad" | diag

# Traffic: the normal Services, and the host's own services.
cl_in cpod python3 "$CL_PY" get http://10.96.100.1/ 4 >"$CL/web"
[[ $(grep -c '^pod-a ' "$CL/web") == 4 ]]
ok $? "the normal ClusterIP Service carries traffic" || diag <"$CL/web"
cl_in client python3 "$CL_PY" get "http://$CL_NODE_IP:30090/" 4 >"$CL/np"
[[ $(grep -c '^pod-a ' "$CL/np") == 4 ]]
ok $? "the normal NodePort Service carries traffic from outside" || diag <"$CL/np"
cl_in cpod python3 "$CL_PY" get http://192.0.2.200/ 3 >"$CL/claim"
[[ $(grep -c '^pod-b ' "$CL/claim") == 3 ]]
ok $? "a contested externalIP:port goes to the older Service's pod" || diag <"$CL/claim"
hs=ok
for p in 22 6443 10250; do
	got=$(cl_in client curl -s --max-time 5 "http://$CL_NODE_IP:$p/who")
	[[ $got == HOST ]] || { hs=bad; echo "port $p: '$got'" | diag; }
done
[[ $hs == ok ]]
ok $? "host services on the node's ports 22, 6443, 10250 still answer themselves (not captured)"

# Logs and metrics.
python3 "$TOOL" logs "$CL/kipvs.log" >"$CL/logs.out" 2>&1
ok $? "every rejection names its object and every neutralisation is logged" ||
    diag <"$CL/logs.out"
curl -s --max-time 5 http://127.0.0.1:10249/metrics >"$CL/metrics"
python3 "$TOOL" metrics "$CL/metrics" >"$CL/metrics.out" 2>&1
ok $? "/metrics: rejections per kind and neutralisations per reason counted, no op failed in the applier" ||
    { diag <"$CL/metrics.out"; grep -E '^kipvs_(ops|planner_neut|watch_objects_rej)' "$CL/metrics" | diag; }
diag <"$CL/metrics.out"

# Determinism: the same table after a planner crash and a kipvs restart.
PP=$(cl_child kipvs-planner)
kill -KILL "$PP"
same1() { [[ -n $(cl_child kipvs-planner) && $(cl_child kipvs-planner) != "$PP" ]] &&
	ipvsadm -Sn | cmp -s - "$CL/ipvs.1"; }
sleep 2
cl_wait 60 same1
ok $? "planner killed (-9) and restarted: the same IPVS table" ||
    { ipvsadm -Sn | diff "$CL/ipvs.1" - | diag; }
cl_kipvs_stop
cl_kipvs_start
sleep 5
same2() { curl -s --max-time 5 http://127.0.0.1:10249/metrics | grep -q '^kipvs_planner_synced 1' &&
	ipvsadm -Sn | cmp -s - "$CL/ipvs.1"; }
cl_wait 90 same2
ok $? "kipvs stopped and started again: the same IPVS table (same conflict winners)" ||
    { ipvsadm -Sn | diff "$CL/ipvs.1" - | diag; }

kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
sed 's,/.*,,' "$CL/ever-bound.raw" | sort -u >"$CL/ever-bound"
bad=$(grep -E "$DENIED" "$CL/ever-bound")
[[ -s $CL/ever-bound && -z $bad ]]
ok $? "sampled every 0.2 s from start to end: no denied or node address was ever bound ($(wc -l <"$CL/ever-bound") seen)" ||
    echo "$bad" | diag
grep -iE 'fatal|sanitizer|seccomp' "$CL/kipvs.log" | head -n 5 | diag
[[ $failed == 0 ]]
