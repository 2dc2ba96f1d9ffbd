#!/usr/bin/env bash
# Guest side of tests/vm/40-e2e.t: kipvs end to end on the VM's real
# kernel, with packets.  The test apiserver on loopback, kipvs (parent and
# the three sandboxed daemons) in the guest's root namespace, pods as
# network namespaces (tests/vm/guest/lib-cluster.sh), Services and
# EndpointSlices made through the apiserver's control port; then traffic:
# ClusterIP round robin, NodePort from outside, ClientIP affinity, a
# service without endpoints refused, externalTrafficPolicy Local keeping
# the client's address, hairpin, graceful termination of a TCP endpoint,
# a removed UDP endpoint; and the kernel state against kipvs-render.
# TAP on stdout.
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
# names FILE: the pod names answering, sorted and counted ("2 pod-a ...").
names() { awk '{ print $1 }' "$1" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }'; }

echo 1..22
cl_init
cl_node
cl_pod pod-a 10.244.0.11
cl_pod pod-b 10.244.0.12
cl_pod pod-c 10.244.0.13
cl_pod cpod 10.244.0.100
cl_serve pod-a pod-b pod-c || echo "Bail out! the pod servers did not start"
cl_api_start

A=10.244.0.11 Bb=10.244.0.12 C=10.244.0.13
P=http/TCP/8080
svc() { cl_change services add "$(cl_svc "$@")"; }
eps() { cl_change endpointslices add "$(cl_eps "$@")"; }
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(svc default kubernetes 10.96.0.1 https/TCP/443/6443),
 $(eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP"),
 $(svc default web 10.96.0.10 type=NodePort http/TCP/80/8080/30080),
 $(eps default web web-1 $P $A $Bb $C),
 $(svc default sticky 10.96.0.11 affinity=ClientIP:600 http/TCP/80/8080),
 $(eps default sticky sticky-1 $P $A $Bb $C),
 $(svc default empty 10.96.0.12 http/TCP/80/8080),
 $(eps default empty empty-1 $P),
 $(svc default local 10.96.0.13 type=NodePort etp=Local http/TCP/80/8080/30081),
 $(eps default local local-1 $P $A),
 $(svc default dns 10.96.0.14 dns/UDP/53/5353),
 $(eps default dns dns-1 dns/UDP/5353 $A $Bb),
 $(svc default drain 10.96.0.15 http/TCP/80/8080),
 $(eps default drain drain-1 $P $A $Bb),
 $(svc default hairpin 10.96.0.16 http/TCP/80/8080),
 $(eps default hairpin hairpin-1 $P $A)]" || echo "Bail out! cannot load the apiserver"

cl_log "starting kipvs"
cl_kipvs_start
converged() {
	cl_has_rs 10.96.0.10:80 t "$A:8080 $Bb:8080 $C:8080" &&
	    cl_has_rs 192.168.50.1:30081 t "$A:8080" &&
	    cl_has_rs 10.96.0.14:53 u "$A:5353 $Bb:5353" &&
	    cl_has_rs 10.96.0.16:80 t "$A:8080" &&
	    ipvsadm -Ln -t 10.96.0.12:80 >/dev/null 2>&1
}
cl_wait 60 converged
ok $? "kipvs programs every Service of the apiserver (first sync)"
cl_log "converged"
AP=$(cl_child kipvs-applierd) PP=$(cl_child kipvs-planner) WP=$(cl_child kipvs-watcherd)
sb=1
for p in "$AP" "$PP" "$WP"; do
	[[ -n $p ]] && grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status" || sb=0
done
[[ $sb == 1 ]] && grep -q '^CapEff:[[:space:]]*0000000000001000$' "/proc/$AP/status" &&
    [[ $(stat -c %u "/proc/$PP") == "$CL_P_ID" && $(stat -c %u "/proc/$WP") == "$CL_W_ID" ]]
ok $? "the three daemons run sandboxed under their own uids (applier: CAP_NET_ADMIN only)"

# --- the kernel state against kipvs-render -------------------------------
cl_objects >"$CL/objects.json"
nodeips=$(ip -4 -o addr show | awk '$2 != "lo" && $2 != "kube-ipvs0" { sub("/.*", "", $4); print $4 }' |
    sort -u | grep -vx "$CL_NODE_IP" | sed 's/^/--node-ip /' | tr '\n' ' ')
# shellcheck disable=SC2086
render() {
	"$CL_B/kipvs-render" --objects "$CL/objects.json" --hostname-override "$CL_NODE" \
	    --node-ip "$CL_NODE_IP" $nodeips --cluster-cidr "$CL_CLUSTER_CIDR" --output "$1"
}
render ipvs | LC_ALL=C sort >"$CL/want.ipvs"
ipvsadm -Sn | LC_ALL=C sort >"$CL/got.ipvs"
diff "$CL/want.ipvs" "$CL/got.ipvs" | diag
cmp -s "$CL/want.ipvs" "$CL/got.ipvs" && [[ -s $CL/got.ipvs ]]
ok $? "ipvsadm -Sn equals kipvs-render's ipvs output ($(wc -l <"$CL/got.ipvs") lines)"
render ipset | sed -E 's/ bucketsize [0-9]+ initval 0x[0-9a-f]+//' | LC_ALL=C sort >"$CL/want.ipset"
ipset save | grep -E '^(create|add) KUBE-' | sed -E 's/ bucketsize [0-9]+ initval 0x[0-9a-f]+//' |
    LC_ALL=C sort >"$CL/got.ipset"
diff "$CL/want.ipset" "$CL/got.ipset" | diag
cmp -s "$CL/want.ipset" "$CL/got.ipset"
ok $? "ipset save equals kipvs-render's ipset output ($(grep -c '^add' "$CL/got.ipset") members)"
# Rules per table, in order; chain declarations of KUBE- chains.
iptnorm() {
	awk '/^\*/ { t = substr($0, 2) } /^-A / || /^:KUBE-/ { sub(/ \[[0-9]+:[0-9]+\]$/, ""); print t, $0 }' |
	    sort -s -k1,1
}
render iptables | awk '/^# ip6tables-save/ { exit } { print }' | iptnorm >"$CL/want.ipt"
iptables-legacy-save | iptnorm >"$CL/got.ipt"
render iptables | awk '/^# ip6tables-save/ { p = 1; next } p' | iptnorm >"$CL/want.ip6t"
ip6tables-legacy-save | iptnorm >"$CL/got.ip6t"
diff "$CL/want.ipt" "$CL/got.ipt" | diag
diff "$CL/want.ip6t" "$CL/got.ip6t" | diag
cmp -s "$CL/want.ipt" "$CL/got.ipt" && cmp -s "$CL/want.ip6t" "$CL/got.ip6t" && [[ -s $CL/got.ipt ]]
ok $? "iptables-legacy-save and ip6tables-legacy-save equal kipvs-render's rules ($(wc -l <"$CL/got.ipt") + $(wc -l <"$CL/got.ip6t") lines)"
render addresses | LC_ALL=C sort >"$CL/want.addr"
ip -o addr show dev kube-ipvs0 | awk '{ print $4 }' | LC_ALL=C sort >"$CL/got.addr"
diff "$CL/want.addr" "$CL/got.addr" | diag
cmp -s "$CL/want.addr" "$CL/got.addr"
ok $? "kube-ipvs0 holds exactly the rendered addresses ($(wc -l <"$CL/got.addr"))"

# --- traffic ---------------------------------------------------------------
cl_in cpod python3 "$CL_PY" get http://10.96.0.10/ 6 >"$CL/rr"
diag <"$CL/rr"
[[ $(names "$CL/rr") == "2 pod-a 2 pod-b 2 pod-c " ]]
ok $? "ClusterIP round robin: 6 requests from a pod, each backend twice ($(names "$CL/rr"))"
[[ $(awk '{ print $2 }' "$CL/rr" | sort -u) == 10.244.0.100 ]]
ok $? "pod to ClusterIP: the backend sees the client pod's own address"

cl_in client python3 "$CL_PY" get "http://$CL_NODE_IP:30080/" 6 >"$CL/np"
diag <"$CL/np"
[[ $(names "$CL/np") == "2 pod-a 2 pod-b 2 pod-c " ]]
ok $? "NodePort from a client outside the cluster reaches every backend ($(names "$CL/np"))"
! grep -q " $CL_CLIENT_IP\$" "$CL/np" && ! grep -q '^ERR' "$CL/np"
ok $? "NodePort with externalTrafficPolicy Cluster: the client's address is masqueraded"

cl_in client python3 "$CL_PY" get "http://$CL_NODE_IP:30081/" 3 >"$CL/local"
diag <"$CL/local"
[[ $(sort -u "$CL/local") == "pod-a $CL_CLIENT_IP" ]]
ok $? "NodePort with externalTrafficPolicy Local: the backend sees the client's address $CL_CLIENT_IP"

cl_in cpod python3 "$CL_PY" get http://10.96.0.11/ 6 >"$CL/sticky"
diag <"$CL/sticky"
[[ $(awk '{ print $1 }' "$CL/sticky" | sort -u | wc -l) == 1 ]] && ! grep -q '^ERR' "$CL/sticky" &&
    ipvsadm -Sn | grep -q -- '^-A -t 10.96.0.11:80 -s rr -p 600$'
ok $? "sessionAffinity ClientIP: 6 requests stick to one backend ($(names "$CL/sticky"))"

cl_in cpod curl -sS --max-time 5 http://10.96.0.12/ >"$CL/empty.out" 2>&1
rc=$?
diag <"$CL/empty.out"
[[ $rc == 7 ]]
ok $? "a Service without endpoints refuses connections (curl exit $rc, 7 = refused)"

cl_in pod-a python3 "$CL_PY" get http://10.96.0.16/ 3 >"$CL/hairpin"
diag <"$CL/hairpin"
[[ $(awk '{ print $1 }' "$CL/hairpin" | sort -u) == pod-a ]]
ok $? "hairpin: a pod reaches itself through its Service"

# Graceful termination: a connection held open to the endpoint that goes
# (spec §5: weight 0 while it has connections, never deleted under it).
rm -f "$CL/trigger"
cl_in cpod python3 "$CL_PY" hold 10.96.0.15 80 "$CL/trigger" 60 >"$CL/hold" 2>&1 &
hold_pid=$!
cl_wait 20 test -s "$CL/hold"
first=$(head -n1 "$CL/hold" | awk '{ print $1 }')
case $first in pod-a) gone=$A keep=$Bb keepname=pod-b ;; *) gone=$Bb keep=$A keepname=pod-a ;; esac
cl_apply "$(cl_change endpointslices modify "$(cl_eps default drain drain-1 $P "$keep")")"
drained() { [[ $(cl_rs 10.96.0.15:80 | tr '\n' ' ') == *"$gone:8080 0 "* ]] && cl_has_rs 10.96.0.15:80 t "$keep:8080"; }
cl_wait 30 drained
rc=$?
cl_rs 10.96.0.15:80 | diag
ok $rc "endpoint $first removed with a connection open: its real server stays at weight 0"
cl_in cpod python3 "$CL_PY" get http://10.96.0.15/ 4 >"$CL/after"
diag <"$CL/after"
[[ $(names "$CL/after") == "4 $keepname " ]]
ok $? "new connections go to the remaining endpoint only ($(names "$CL/after"))"
touch "$CL/trigger"
wait "$hold_pid"
diag <"$CL/hold"
[[ $(sed -n 2p "$CL/hold" | awk '{ print $1 }') == "$first" ]]
ok $? "the established connection still reaches $first after its removal"

# UDP: a removed endpoint stops receiving, also on a flow it had.
cl_in cpod python3 "$CL_PY" udp 10.96.0.14 53 3 40000 >"$CL/udp1"
diag <"$CL/udp1"
ufirst=$(head -n1 "$CL/udp1" | awk '{ print $1 }')
case $ufirst in pod-a) ukeep=$Bb ukeepname=pod-b ;; *) ukeep=$A ukeepname=pod-a ;; esac
[[ $(awk '{ print $1 }' "$CL/udp1" | sort -u | wc -l) == 1 ]] && [[ $ufirst == pod-? ]]
ok $? "UDP through the ClusterIP: one flow answered by one backend ($ufirst)"
cl_apply "$(cl_change endpointslices modify "$(cl_eps default dns dns-1 dns/UDP/5353 "$ukeep")")"
cl_wait 30 cl_has_rs 10.96.0.14:53 u "$ukeep:5353"
rc=$?
cl_rs 10.96.0.14:53 u | diag
ok $rc "UDP endpoint $ufirst removed: its real server is deleted at once"
{ cl_in cpod python3 "$CL_PY" udp 10.96.0.14 53 4 40000
  cl_in cpod python3 "$CL_PY" udp 10.96.0.14 53 4; } >"$CL/udp2"
diag <"$CL/udp2"
! grep -q "^$ufirst " "$CL/udp2" && grep -q "^$ukeepname " "$CL/udp2"
ok $? "after the removal no datagram reaches $ufirst, the same flow and new ones reach $ukeepname"

# --- audit log and the daemons' view ---------------------------------------
python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["errno"] != 0:
        bad += 1
        print(line.strip())
sys.exit(1 if bad else 0)' "$CL/audit.log" >"$CL/audit.bad" 2>&1
rc=$?
diag <"$CL/audit.bad"
ok $rc "audit log: $(wc -l <"$CL/audit.log") JSON lines, no operation failed or was rejected"
m=$(curl -s --max-time 5 http://127.0.0.1:10249/metrics)
h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:10256/healthz)
[[ $h == 200 ]] && grep -q '^kubeproxy_sync_proxy_rules' <<<"$m"
ok $? "/healthz answers 200 and /metrics has kube-proxy's sync metrics (healthz $h)"

if ((failed)); then
	echo "# kipvs log (last 40 lines):"
	tail -n 40 "$CL/kipvs.log" | diag
fi
cl_kipvs_stop
((failed == 0))
