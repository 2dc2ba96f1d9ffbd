#!/usr/bin/env python3
# The corpus for the VM test (tests/vm/guest/hostile.sh):
#
#   corpus-tool.py fixtures OUT [EXTRA.json...]
#	the test apiserver's fixtures: every corpus object (generated ones
#	expanded), the baseline, plus the objects of each EXTRA file (a JSON
#	list of {"kind","object"})
#   corpus-tool.py check IPVS ADDRS
#	every entry's must / must-not against `ipvsadm -Sn` text and a list
#	of kube-ipvs0 addresses; prints the failures, exits 1 on any
#   corpus-tool.py logs LOG
#	every rejection is logged by the watcher naming its object, every
#	neutralisation by the planner; prints the missing ones, exits 1 on
#	any
#   corpus-tool.py metrics METRICS
#	the /metrics counters against the corpus: objects rejected per kind
#	at least the corpus's, every neutralisation reason counted, nothing
#	failed in the applier; prints the differences, exits 1 on any
#
# SPDX-License-Identifier: Apache-2.0

import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

KIND = {"Service": "services", "EndpointSlice": "endpointslices"}


def fixtures(out, extras):
    c = corpus.load()
    fx = []
    for path in extras:
        with open(path) as f:
            fx += json.load(f)
    objs = list(c["baseline"])
    for e in c["entries"]:
        objs += e["expanded"]
    for o in objs:
        o = dict(o)
        kind = KIND[o.pop("kind")]
        o.pop("apiVersion", None)
        fx.append({"kind": kind, "object": o})
    with open(out, "w") as f:
        json.dump(fx, f)
    return 0


def check(ipvs, addrs):
    c = corpus.load()
    with open(ipvs) as f:
        vs, rs = corpus.parse_ipvs(f.read())
    with open(addrs) as f:
        bound = corpus.parse_addrs(f.read())
    bad = []
    for e in c["entries"]:
        bad += [e["name"] + ": " + b
                for b in corpus.check_state(e, vs, rs, bound)]
    for b in bad:
        print(b)
    print("%d entries checked against %d virtual servers, %d real servers, "
          "%d addresses" % (len(c["entries"]), len(vs), len(rs), len(bound)))
    return 1 if bad else 0


def logs(path):
    c = corpus.load()
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    bad = []
    for e in c["entries"]:
        if e["expect"] == "rejected":
            want = [e["shown"] + ": ", e["log"], "rejected"]
        else:
            want = [e["log"], "left out (%s)" % e["reason"]]
        if not [ln for ln in lines if all(w in ln for w in want)]:
            bad.append("%s: no log line with %r" % (e["name"], want))
        if e.get("log_forbid") and any(e["log_forbid"] in ln
                                        for ln in lines):
            bad.append("%s: the log carries %r" % (e["name"],
                                                  e["log_forbid"]))
    for b in bad:
        print(b)
    return 1 if bad else 0


def metrics(path):
    c = corpus.load()
    got = {}
    with open(path) as f:
        for ln in f:
            m = re.match(r'^(\w+)\{(\w+)="([^"]*)"\} (\d+)$', ln.strip())
            if m:
                got[(m.group(1), m.group(3))] = int(m.group(4))
    want_rej = {"Service": 0, "EndpointSlice": 0}
    want_neut = {}
    for e in c["entries"]:
        if e["expect"] == "rejected":
            want_rej[e["kind"]] += 1
        else:
            want_neut[e["reason"]] = want_neut.get(e["reason"], 0) + 1
    bad = []
    for k, n in want_rej.items():
        v = got.get(("kipvs_watch_objects_rejected_total", k.lower()))
        if v is None or v < n:
            bad.append("kipvs_watch_objects_rejected_total{kind=%s} = %s, "
                       "want >= %d" % (k, v, n))
        else:
            print("rejected %s: %d (corpus %d)" % (k, v, n))
    for r, n in want_neut.items():
        v = got.get(("kipvs_planner_neutralised_total", r))
        if v is None or v < n:
            bad.append("kipvs_planner_neutralised_total{reason=%s} = %s, "
                       "want >= %d" % (r, v, n))
        else:
            print("neutralised %s: %d (corpus entries %d)" % (r, v, n))
    for (name, label), v in sorted(got.items()):
        if name == "kipvs_ops_failed_total" and v != 0:
            bad.append("kipvs_ops_failed_total{kind=%s} = %d" % (label, v))
    applied = got.get(("kipvs_ops_applied_total", "ipvs_service"), 0)
    if applied == 0:
        bad.append("kipvs_ops_applied_total{kind=ipvs_service} is 0")
    else:
        print("applied ipvs_service: %d" % applied)
    for b in bad:
        print(b)
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "fixtures":
        return fixtures(argv[2], argv[3:])
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "logs":
        return logs(argv[2])
    if len(argv) == 3 and argv[1] == "metrics":
        return metrics(argv[2])
    print("usage: corpus-tool.py fixtures OUT [EXTRA...] | check IPVS "
          "ADDRS | logs LOG | metrics METRICS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
