# Shared by tests/hostile/*.t and tests/vm/guest/hostile.sh: loads
# tests/hostile/corpus.json, expands the generated entries (10,000
# externalIPs, a 1 MB name, ...), and parses what kipvs programs
# (ipvsadm -Sn text, address lists) into sets the checks compare with.
# SPDX-License-Identifier: Apache-2.0

import copy
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def _gen(entry):
    """Expands entry["gen"] in place (on a deep copy of its objects)."""
    g = entry.get("gen")
    objs = copy.deepcopy(entry["objects"])
    if g is None:
        return objs
    what, arg = g.split(":", 1)
    svc = next(o for o in objs if o["kind"] == "Service")
    sl = next((o for o in objs if o["kind"] == "EndpointSlice"), None)
    if what == "externalIPs":
        n = int(arg)
        svc["spec"]["externalIPs"] = [
            "198.18.%d.%d" % (i // 250, 1 + i % 250) for i in range(n)]
    elif what == "ports":
        svc["spec"]["ports"] = [
            {"name": "p%d" % i, "protocol": "TCP", "port": 1000 + i}
            for i in range(int(arg))]
    elif what == "ingress":
        svc.setdefault("status", {})["loadBalancer"] = {"ingress": [
            {"ip": "203.0.113.%d" % (100 + i)} for i in range(int(arg))]}
    elif what == "name":
        svc["metadata"]["name"] = "a" * int(arg)
    elif what == "endpoints":
        n = int(arg)
        sl["endpoints"] = [
            {"addresses": ["10.245.%d.%d" % (i // 250, 1 + i % 250)],
             "conditions": {"ready": True}} for i in range(n)]
    elif what == "ready":
        sl["endpoints"][0]["conditions"]["ready"] = arg
    else:
        raise ValueError("unknown generator " + g)
    return objs


def load():
    with open(os.path.join(HERE, "corpus.json")) as f:
        c = json.load(f)
    for e in c["entries"]:
        e["expanded"] = _gen(e)
    return c


def object_list(items):
    return {"kind": "List", "apiVersion": "v1", "metadata": {},
            "items": items}


_VS = re.compile(r"^-A (?:-t|-u|--sctp-service) (\S+)")
_RS = re.compile(r"^-a (?:-t|-u|--sctp-service) (\S+) -r (\S+)")


def parse_ipvs(text):
    """ipvsadm -Sn text -> (set of "vip:port", set of "vip:port>rip:port")."""
    vs, rs = set(), set()
    for line in text.splitlines():
        m = _RS.match(line)
        if m:
            rs.add(m.group(1) + ">" + m.group(2))
            continue
        m = _VS.match(line)
        if m:
            vs.add(m.group(1))
    return vs, rs


def parse_addrs(text):
    """Lines "10.96.0.1/32" (or "inet 10.96.0.1/32 ...") -> set of IPs."""
    out = set()
    for line in text.splitlines():
        for tok in line.split():
            if "/" in tok and tok[0].isalnum():
                out.add(tok.split("/")[0])
    return out


def check_state(e, vs, rs, addrs):
    """The entry's must / must-not lists against a kernel state: a list
    of failures (empty when all hold)."""
    bad = []
    for v in e.get("vs", []):
        if v not in vs:
            bad.append("no virtual server " + v)
    for r in e.get("rs", []):
        if r not in rs:
            bad.append("no real server " + r)
    for v in e.get("no_vip", []):
        if v in vs:
            bad.append("virtual server " + v + " exists")
    for a in e.get("no_bind", []):
        if a in addrs:
            bad.append("address " + a + " bound")
    for r in e.get("no_rs", []):
        hit = [x for x in rs if x.endswith(">" + r)]
        if hit:
            bad.append("real server " + r + " exists: " + hit[0])
    for r in e.get("no_rs_on", []):
        if r in rs:
            bad.append("real server " + r + " exists")
    return bad
