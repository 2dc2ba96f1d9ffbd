#!/usr/bin/env python3
"""The benchmark's workload as API objects (docs/benchmarks.md).

  gen-objects.py N OUTDIR [watch]

writes, for N ClusterIP Services x 5 ready endpoints (every tenth Service
is a NodePort), plus default/kubernetes and the own Node:

  OUTDIR/fixtures.json  the test apiserver's --fixtures ([{kind, object}])
  OUTDIR/objects.json   the same objects as one v1 List (kipvs-render)
  OUTDIR/watch.jsonl    (with "watch") a watch stream in the apiserver's byte shape (one
                        compact JSON event per line): every Service and
                        slice ADDED, then 4 x N slices MODIFIED, each
                        moving one endpoint (bench_ingest reads it)

Addresses: Service i has ClusterIP 10.96.0.0/12 + 16 + i, port 80 -> 8080;
its endpoints are 10.128.0.0/9 + 1 + 5i + j on node-2 (not this node);
NodePort Services get nodePort 30000 + i/10.  The node is node-1 with
InternalIP 192.168.50.1 (the bench gives its namespace that address).

SPDX-License-Identifier: Apache-2.0
"""
import ipaddress
import json
import os
import sys

NODE = "node-1"
NODE_IP = "192.168.50.1"


def svc_ip(i):
    return str(ipaddress.IPv4Address("10.96.0.0") + 16 + i)


def ep_ip(i, j):
    return str(ipaddress.IPv4Address("10.128.0.0") + 1 + 5 * i + j)


def meta(ns, name, i, labels=None):
    m = {"name": name, "namespace": ns,
         "uid": "00000000-0000-4000-8000-%012x" % i,
         "creationTimestamp": "2026-11-26T10:00:00Z"}
    if labels:
        m["labels"] = labels
    return m


def service(ns, name, i, ip, port, target, node_port=None):
    p = {"name": "http", "protocol": "TCP", "port": port,
         "targetPort": target}
    if node_port:
        p["nodePort"] = node_port
    return {"metadata": meta(ns, name, i),
            "spec": {"ports": [p], "selector": {"app": name},
                     "clusterIP": ip, "clusterIPs": [ip],
                     "type": "NodePort" if node_port else "ClusterIP",
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster",
                     **({"externalTrafficPolicy": "Cluster"}
                        if node_port else {})},
            "status": {"loadBalancer": {}}}


def endpoint(ip, node="node-2"):
    return {"addresses": [ip],
            "conditions": {"ready": True, "serving": True,
                           "terminating": False},
            "nodeName": node, "zone": "zone-a"}


def eslice(ns, svc, name, i, ips, port):
    return {"metadata": meta(ns, name, i, {
                "kubernetes.io/service-name": svc,
                "endpointslice.kubernetes.io/managed-by":
                "endpointslice-controller.k8s.io"}),
            "addressType": "IPv4",
            "endpoints": [endpoint(a) for a in ips],
            "ports": [{"name": "http", "protocol": "TCP", "port": port}]}


def workload(n):
    svcs = [service("default", "kubernetes", 1 << 40, "10.96.0.1", 443,
                    6443)]
    svcs[0]["spec"]["ports"][0]["name"] = "https"
    k = eslice("default", "kubernetes", "kubernetes", 1 << 40, [NODE_IP],
               6443)
    k["endpoints"][0]["nodeName"] = NODE
    k["ports"][0]["name"] = "https"
    slices = [k]
    for i in range(n):
        ns = "ns-%d" % (i % 16)
        name = "svc-%05d" % i
        svcs.append(service(ns, name, i, svc_ip(i), 80, 8080,
                            30000 + i // 10 if i % 10 == 0 else None))
        slices.append(eslice(ns, name, "%s-%05x" % (name, i), i,
                             [ep_ip(i, j) for j in range(5)], 8080))
    node = {"metadata": {"name": NODE, "uid": "node-uid",
                         "labels": {"kubernetes.io/hostname": NODE}},
            "spec": {"podCIDR": "10.244.0.0/24",
                     "podCIDRs": ["10.244.0.0/24"]},
            "status": {"addresses": [
                {"type": "InternalIP", "address": NODE_IP},
                {"type": "Hostname", "address": NODE}]}}
    return svcs, slices, node


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: gen-objects.py N OUTDIR [watch]")
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    svcs, slices, node = workload(n)
    fx = ([{"kind": "nodes", "object": node}] +
          [{"kind": "services", "object": s} for s in svcs] +
          [{"kind": "endpointslices", "object": s} for s in slices])
    with open(os.path.join(out, "fixtures.json"), "w") as f:
        json.dump(fx, f, separators=(",", ":"))
    items = ([dict(kind="Node", apiVersion="v1", **node)] +
             [dict(kind="Service", apiVersion="v1", **s) for s in svcs] +
             [dict(kind="EndpointSlice", apiVersion="discovery.k8s.io/v1",
                   **s) for s in slices])
    with open(os.path.join(out, "objects.json"), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f,
                  separators=(",", ":"))
    if sys.argv[3:] != ["watch"]:
        return
    with open(os.path.join(out, "watch.jsonl"), "w") as f:
        rv = 1000

        def event(t, s, kind="EndpointSlice", api="discovery.k8s.io/v1"):
            nonlocal rv
            rv += 1
            o = dict(kind=kind, apiVersion=api, **s)
            o["metadata"] = dict(s["metadata"], resourceVersion=str(rv))
            f.write(json.dumps({"type": t, "object": o},
                               separators=(",", ":")) + "\n")
        for s in svcs:
            event("ADDED", s, "Service", "v1")
        for s in slices:
            event("ADDED", s)
        for r in range(4):
            for i, s in enumerate(slices[1:]):
                ips = [ep_ip(i, j) for j in range(5)]
                ips[r % 5] = str(ipaddress.IPv4Address("10.64.0.0") +
                                 1 + 5 * i + r)
                event("MODIFIED", eslice(s["metadata"]["namespace"],
                                         s["metadata"]["labels"][
                                             "kubernetes.io/service-name"],
                                         s["metadata"]["name"], i, ips,
                                         8080))


if __name__ == "__main__":
    main()
