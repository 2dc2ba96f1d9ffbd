#!/usr/bin/env python3
# The hostile-object corpus (tests/hostile/corpus.json) through
# kipvs-render, which runs the watcher's JSON conversion and the planner's
# desired state: every entry next to a normal Service, one render each,
# then the whole corpus at once and in other orders.  Entries that need
# the daemon's --nodeport-range (render has none, like kube-proxy) are
# asserted by 20-planner.t, which runs every entry through the real
# planner.  SPDX-License-Identifier: Apache-2.0

import json
import os
import random
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "build")
RENDER = os.path.join(ROOT, B, "kipvs-render")

n = 0
fails = 0


def ok(cond, desc, why=None):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, desc))
    if not cond:
        fails += 1
        for w in (why if isinstance(why, list) else [why] if why else []):
            print("#   " + str(w).replace("\n", "\n#   "))
    return cond


if not os.access(RENDER, os.X_OK):
    print("1..0 # SKIP %s not built (make B=%s all)" % (RENDER, B))
    sys.exit(0)

C = corpus.load()
TMP = tempfile.mkdtemp(prefix="kipvs-hostile.")
FLAGS = ["--hostname-override", C["node"], "--node-ip", C["node_ip"],
         "--ip-family", "ipv4", "--output", "ipvs", "--output", "addresses"]
BASE_VS = "10.96.100.1:80"
BASE_RS = "10.96.100.1:80>10.244.0.10:8080"


def render(items, name):
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump(corpus.object_list(items), f)
    p = subprocess.run([RENDER, "--objects", path] + FLAGS,
                       capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    os.unlink(path)
    sect, ipvs, addrs = None, [], []
    for line in out.splitlines():
        if line.startswith("# "):
            sect = line[2:].strip()
        elif sect == "ipvs":
            ipvs.append(line)
        elif sect == "addresses":
            addrs.append(line)
    vs, rs = corpus.parse_ipvs("\n".join(ipvs))
    return p.returncode, out, err, vs, rs, corpus.parse_addrs(
        "\n".join(addrs))


def lines_with(err, *subs):
    return [ln for ln in err.splitlines() if all(s in ln for s in subs)]


# 1. One entry at a time, next to the baseline.
tested = 0
for e in C["entries"]:
    if e.get("daemon_only"):
        print("# %s: needs --nodeport-range, asserted in 20-planner.t"
              % e["name"])
        continue
    tested += 1
    rc, out, err, vs, rs, addrs = render(C["baseline"] + e["expanded"],
                                         e["name"])
    bad = corpus.check_state(e, vs, rs, addrs)
    if BASE_VS not in vs or BASE_RS not in rs:
        bad.append("the normal Service is not programmed")
    if e["expect"] == "rejected":
        hit = lines_with(err, "skipping", e["shown"] + ": ", e["log"])
        if len(hit) != 1:
            bad.append("no single rejection line naming %r with %r"
                       % (e["shown"], e["log"]))
        if len(lines_with(err, "skipping")) != 1:
            bad.append("%d objects skipped, not 1"
                       % len(lines_with(err, "skipping")))
    else:
        hit = lines_with(err, e["log"], "left out (%s)" % e["reason"])
        if not hit:
            bad.append("no log line with %r and the reason %s"
                       % (e["log"], e["reason"]))
        if lines_with(err, "skipping"):
            bad.append("an object was rejected: "
                       + lines_with(err, "skipping")[0])
    if e.get("log_forbid") and e["log_forbid"] in err:
        bad.append("the log carries %r" % e["log_forbid"])
    if rc != 0:
        bad.append("exit status %d" % rc)
    ok(not bad, "%s %s: %s" % (e["name"], e["expect"], e["why"]),
       bad + ([err[-2000:]] if bad else []))

# 2. The whole corpus at once: the same outcome for every entry.
everything = list(C["baseline"])
for e in C["entries"]:
    if not e.get("daemon_only"):
        everything += e["expanded"]
rc, out_all, err, vs, rs, addrs = render(everything, "all")
bad = []
nrej = sum(1 for e in C["entries"] if e["expect"] == "rejected" and
           not e.get("daemon_only"))
if len(lines_with(err, "skipping")) != nrej:
    bad.append("%d rejections logged, %d expected"
               % (len(lines_with(err, "skipping")), nrej))
for e in C["entries"]:
    if e["expect"] == "rejected":
        if len(lines_with(err, "skipping", e["shown"] + ": ",
                          e["log"])) < 1:
            bad.append(e["name"] + ": no rejection line")
    elif not e.get("daemon_only") and not lines_with(
            err, e["log"], "left out (%s)" % e["reason"]):
        bad.append(e["name"] + ": no neutralisation line")
    if not e.get("daemon_only"):
        bad += [e["name"] + ": " + b
                for b in corpus.check_state(e, vs, rs, addrs)]
if BASE_VS not in vs or BASE_RS not in rs:
    bad.append("the normal Service is not programmed")
ok(rc == 0 and not bad, "the whole corpus (%d entries but the "
   "--nodeport-range ones) at once: every outcome as alone, %d rejections"
   % (tested, nrej), bad)

denied = ("127.", "169.254.", "0.", "224.", "239.", "240.", "255.")
bound_bad = sorted(a for a in addrs
                   if a.startswith(denied) or a == C["node_ip"])
vip_bad = sorted(v for v in vs if v.startswith(denied) or
                 (v.startswith(C["node_ip"] + ":") and
                  not 30000 <= int(v.rsplit(":", 1)[1]) <= 32767))
ok(not bound_bad and not vip_bad, "no denied or node address bound, no "
   "VS on one (outside the NodePort range)", bound_bad + vip_bad)

# 3. Order does not matter: reversed and shuffled inputs render the same.
rev = list(reversed(everything))
rc2, out_rev, _, _, _, _ = render(rev, "rev")
rng = random.Random(9)
shuf = list(everything)
rng.shuffle(shuf)
rc3, out_shuf, _, _, _, _ = render(shuf, "shuf")
ok(rc2 == 0 and rc3 == 0 and out_rev == out_all and out_shuf == out_all,
   "reversed and shuffled corpus render byte for byte the same "
   "(conflict winners included)")

# 4. Bytes that are not JSON text (invalid UTF-8): the file is refused.
path = os.path.join(TMP, "utf8.json")
with open(path, "wb") as f:
    f.write(b'{"kind":"List","items":[{"kind":"Service","metadata":'
            b'{"name":"a\xff\xfe","namespace":"evil"},"spec":{}}]}')
p = subprocess.run([RENDER, "--objects", path] + FLAGS,
                   capture_output=True, timeout=60)
ok(p.returncode == 1 and p.stdout == b"" and b"--objects" in p.stderr,
   "raw invalid UTF-8: the document is refused (exit 1, nothing printed)",
   p.stderr.decode("utf-8", "replace"))
os.unlink(path)
os.rmdir(TMP)

ok(tested + sum(1 for e in C["entries"] if e.get("daemon_only")) ==
   len(C["entries"]) and len(C["entries"]) >= 60,
   "%d corpus entries (%d here, the rest in 20-planner.t)"
   % (len(C["entries"]), tested))
print("1..%d" % n)
sys.exit(1 if fails else 0)
