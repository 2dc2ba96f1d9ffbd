#!/usr/bin/env bash
# `make demo`, run inside the real-kernel VM: the test apiserver loaded
# with a small cluster (default/kubernetes and a two-pod web Service), the
# kipvs parent with its three sandboxed daemons, two pods answering with
# their name; then what kipvs programmed, a request through the ClusterIP,
# the audit log and the metrics.  Shares its set-up with the end-to-end
# test (tests/vm/guest/lib-cluster.sh).
#
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
. tests/vm/guest/lib-cluster.sh

say() { printf '\n== %s\n' "$*"; }
cl_init
say "guest kernel $(uname -r); node $CL_NODE_IP; pods web-1 10.244.0.11, web-2 10.244.0.12, client-pod 10.244.0.100"
cl_node
cl_pod web-1 10.244.0.11
cl_pod web-2 10.244.0.12
cl_pod client-pod 10.244.0.100
cl_serve web-1 web-2 || { echo "demo: the pod servers did not start"; exit 1; }
cl_api_start
cl_apply "[$(cl_change nodes add "$(cl_node_obj "$CL_NODE" "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default kubernetes 10.96.0.1 https/TCP/443/6443)"),
 $(cl_change endpointslices add "$(cl_eps default kubernetes kubernetes https/TCP/6443 "$CL_NODE_IP")"),
 $(cl_change services add "$(cl_svc default web 10.96.0.10 type=NodePort http/TCP/80/8080/30080)"),
 $(cl_change endpointslices add "$(cl_eps default web web-abc12 http/TCP/8080 10.244.0.11 10.244.0.12)")]" ||
    { echo "demo: cannot load the apiserver"; exit 1; }
say "test apiserver at $API: default/kubernetes (10.96.0.1:443), default/web (10.96.0.10:80, NodePort 30080)"
say "starting: kipvs --kubeconfig $API_DIR/kubeconfig --hostname-override $CL_NODE --cluster-cidr $CL_CLUSTER_CIDR ..."
cl_kipvs_start
if ! cl_wait 60 cl_has_rs 10.96.0.10:80 t "10.244.0.11:8080 10.244.0.12:8080"; then
	echo "demo: kipvs did not program default/web within 60 s; its log:"
	tail -n 30 "$CL/kipvs.log"
	exit 1
fi
ps -o pid,user,comm --ppid "$KPID" --pid "$KPID"

say "ipvsadm -Ln"
ipvsadm -Ln
say "ip addr show kube-ipvs0"
ip -brief addr show dev kube-ipvs0

say "curl http://10.96.0.10/ from client-pod 10.244.0.100 (four requests, round robin; each answers \"POD CLIENT-IP\")"
rc=0
for _ in 1 2 3 4; do
	cl_in client-pod curl -sS --max-time 5 http://10.96.0.10/ || rc=1
done
say "curl http://$CL_NODE_IP:30080/ (NodePort) from outside the cluster"
cl_in client curl -sS --max-time 5 "http://$CL_NODE_IP:30080/" || rc=1

say "audit log: $CL/audit.log ($(wc -l <"$CL/audit.log") lines, one JSON object each: an intent record per batch, a result per kernel operation); the last 3:"
tail -n 3 "$CL/audit.log"
say "metrics: curl -s 127.0.0.1:10249/metrics | head"
curl -s --max-time 5 http://127.0.0.1:10249/metrics | head
say "healthz: curl -s 127.0.0.1:10256/healthz"
curl -s --max-time 5 http://127.0.0.1:10256/healthz; echo
say "daemon log: $CL/kipvs.log (first sync):"
grep -E 'snapshot 1 complete|first sync|batch [12]:' "$CL/kipvs.log" | head -n 6
cl_kipvs_stop
say "(everything above ran in a throwaway VM; nothing on this machine was changed)"
exit $rc
