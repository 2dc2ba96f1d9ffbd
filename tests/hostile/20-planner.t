#!/usr/bin/env python3
# The whole hostile-object corpus through the real kipvs-planner daemon
# (tests/helpers/planner_driver: the watcher's converter feeds it, a
# simulated kernel applies its ops), with kipvs's default --nodeport-range:
# every entry's must / must-not holds in the simulated kernel, every
# neutralisation is logged by the planner, and conflicts end with the same
# winner whatever the order of the objects and after watcher and applier
# restarts and a fresh planner.  Needs root (the planner enters its
# sandbox).  SPDX-License-Identifier: Apache-2.0

import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "build")
PLANNER = os.path.join(ROOT, B, "kipvs-planner")
DRIVER = os.path.join(ROOT, B, "tests", "helpers", "planner_driver")

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


if os.geteuid() != 0:
    print("1..0 # SKIP needs root: kipvs-planner enters its sandbox itself")
    sys.exit(0)
for f in (PLANNER, DRIVER):
    if not os.access(f, os.X_OK):
        print("1..0 # SKIP %s not built (make B=%s all tests)" % (f, B))
        sys.exit(0)

C = corpus.load()
TMP = tempfile.mkdtemp(prefix="kipvs-hostile.")
os.chmod(TMP, 0o755)


def drive(name, items, extra=""):
    """Runs the planner over items; returns (driver output, planner log,
    {file: text} of what the script saved)."""
    objs = os.path.join(TMP, name + ".json")
    with open(objs, "w") as f:
        json.dump(corpus.object_list(items), f)
    saves = {k: os.path.join(TMP, "%s.%s" % (name, k))
             for k in ("ipvs", "sets", "addrs", "ipvs2")}
    script = """objects {objs}
node-ip {node_ip}
wait 200
snapshot
wait 2500
save-ipvs {ipvs}
save-sets {sets}
save-addrs {addrs}
{extra}
save-ipvs {ipvs2}
""".format(objs=objs, node_ip=C["node_ip"], extra=extra, **saves)
    p = subprocess.run(
        [DRIVER, PLANNER, "--user", "65532:65532", "--heartbeat-ms", "200",
         "--hostname-override", C["node"], "--ip-family", "ipv4"],
        input=script.encode(), capture_output=True, timeout=300)
    got = {}
    for k, path in saves.items():
        try:
            with open(path) as f:
                got[k] = f.read()
            os.unlink(path)
        except OSError:
            got[k] = ""
    os.unlink(objs)
    return (p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), got)


everything = list(C["baseline"])
for e in C["entries"]:
    everything += e["expanded"]

RESTARTS = """mark restarts
watcher-restart
wait 300
snapshot
wait 1000
applier-restart
wait 2500"""
out, log, got = drive("fwd", everything, RESTARTS)
vs, rs = corpus.parse_ipvs(got["ipvs"])
addrs = corpus.parse_addrs(got["addrs"])
ok("10.96.100.1:80>10.244.0.10:8080" in rs,
   "the normal Service is programmed next to the corpus",
   [got["ipvs"][:1000], log[-2000:]])

for e in C["entries"]:
    bad = corpus.check_state(e, vs, rs, addrs)
    if e["expect"] == "neutralised":
        if not [ln for ln in log.splitlines() if e["log"] in ln and
                "left out (%s)" % e["reason"] in ln]:
            bad.append("no planner log line with %r" % e["log"])
    ok(not bad, "%s %s: %s" % (e["name"], e["expect"], e["why"]), bad)

denied = ("127.", "169.254.", "0.", "224.", "239.", "240.", "255.")
sets_bad = [ln for ln in got["sets"].splitlines()
            if any(" " + d in ln for d in denied)]
bound_bad = sorted(a for a in addrs if a.startswith(denied))
vip_bad = sorted(v for v in vs if v.startswith(denied) or
                 (v.startswith(C["node_ip"] + ":") and
                  not 30000 <= int(v.rsplit(":", 1)[1]) <= 32767))
ok(not bound_bad and not vip_bad and not sets_bad,
   "no denied address bound or in a set, no VS on the node's address "
   "outside 30000-32767", bound_bad + vip_bad + sets_bad)
failed = [ln for ln in out.splitlines() if " FAILED " in ln]
ok(not failed, "the planner sent no op the simulated kernel failed", failed)

# Conflicts: the same winners after watcher and applier restarts, and from
# a fresh planner fed the objects in the reverse order.
ok(got["ipvs2"] == got["ipvs"] and got["ipvs"] != "",
   "after a watcher restart (new snapshot) and an applier restart: the "
   "same IPVS table")
restart_ops = [ln for ln in out.split("mark restarts", 1)[-1].splitlines()
               if ln.startswith("op ") and "dump-request" not in ln and
               "chain-replace" not in ln]
ok(not restart_ops, "... and no IPVS, address or set op was needed",
   restart_ops[:10])
out2, log2, got2 = drive("rev", list(reversed(everything)))
ok(got2["ipvs"] == got["ipvs"] and
   sorted(got2["addrs"].splitlines()) == sorted(got["addrs"].splitlines()),
   "a fresh planner fed the corpus in reverse order: the same IPVS table "
   "and addresses (same conflict winners)")

os.rmdir(TMP)
print("1..%d" % n)
sys.exit(1 if fails else 0)
