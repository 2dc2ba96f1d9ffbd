#!/usr/bin/env python3
"""Pods and clients for the VM's end-to-end tests (tests/vm/guest/e2e.sh,
demo.sh, through lib-cluster.sh).  Standard library only.

  serve READY_FILE NETNS:NAME...
      one process for every pod: in each network namespace (entered with
      setns(2) just long enough to make the sockets) an HTTP/1.1 server on
      TCP 8080 (keep-alive) and a datagram server on UDP 5353; both answer
      "NAME CLIENT-IP\\n".  READY_FILE is written once all are bound.
  get URL COUNT [TIMEOUT]
      COUNT requests, each on a new connection; one line per request: the
      answer, or "ERR <reason>".
  hold HOST PORT TRIGGER [TIMEOUT]
      one keep-alive connection: a request, then, once TRIGGER exists, a
      second request on the same connection; prints both answers.
  udp HOST PORT COUNT [SRCPORT] [TIMEOUT]
      COUNT datagrams (from SRCPORT if given, else one fresh socket each);
      one line per datagram: the answer or "ERR timeout".
  loop URL SECONDS OUT [STOPFILE]
      requests back to back (a new connection each) for SECONDS or until
      STOPFILE exists; writes "ok N failed M slowest S" (seconds) to OUT
      at the end, and every failure as it happens to OUT.err.  A request
      fails when refused or reset, or after 10 s without an answer: the
      guest can stand still for seconds when the host is loaded (5 s
      seen), which is no fault of kipvs.
  churn CTL SEED STOPFILE OUT [INTERVAL]
      random changes through the test apiserver's control port CTL (an
      http URL) until STOPFILE exists, one about every INTERVAL seconds
      (default 0.5): Services churn-0..churn-19 (ClusterIP 10.96.1.10+i,
      port 80 or 8080, sometimes NodePort 31000+i) added, modified and
      deleted, their EndpointSlices' endpoints drawn from
      10.244.0.21-26.  Writes to OUT the final expected state as JSON
      {"changes":N,"errors":M,"services":{NAME:{"vip","port","nodePort",
      "endpoints"}}} (endpoints as sorted IP:8080).
  sample OUT STOPFILE INTERVAL NAME...
      every INTERVAL seconds until STOPFILE exists, one line per process
      whose comm is one of NAMEs, "S TIME PID PPID STATE COMM RSS_KB FDS",
      and one per zombie process of any name, "Z TIME PID PPID COMM".
"""

import ctypes
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

CLONE_NEWNET = 0x40000000


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def http_conn(name, conn, peer):
    f = conn.makefile("rb")
    try:
        while True:
            line = f.readline(8192)
            if not line:
                return
            # Headers until the empty line; no request bodies expected.
            while True:
                h = f.readline(8192)
                if not h or h in (b"\r\n", b"\n"):
                    break
            body = ("%s %s\n" % (name, peer[0])).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    except OSError:
        pass
    finally:
        f.close()
        conn.close()


def tcp_loop(name, s):
    while True:
        c, peer = s.accept()
        threading.Thread(target=http_conn, args=(name, c, peer),
                         daemon=True).start()


def udp_loop(name, s):
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(("%s %s\n" % (name, peer[0])).encode(), peer)


def serve(ready, pods):
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    socks = []
    libc = ctypes.CDLL(None, use_errno=True)
    for spec in pods:
        ns, name = spec.split(":", 1)
        setns("/run/netns/" + ns)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", 8080))
        t.listen(64)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", 5353))
        socks.append((name, t, u))
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
    for name, t, u in socks:
        threading.Thread(target=tcp_loop, args=(name, t), daemon=True).start()
        threading.Thread(target=udp_loop, args=(name, u), daemon=True).start()
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    while True:
        time.sleep(3600)


def split_url(url):
    rest = url.split("://", 1)[-1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    return host, int(port or 80), "/" + path


def one_get(host, port, path, timeout):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.read().decode().strip()
    finally:
        c.close()


def get(url, count, timeout=2.0):
    host, port, path = split_url(url)
    for _ in range(count):
        try:
            print(one_get(host, port, path, timeout), flush=True)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            print("ERR %s" % (e.__class__.__name__,), flush=True)


def hold(host, port, trigger, timeout=60.0):
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("GET", "/first")
    print(c.getresponse().read().decode().strip(), flush=True)
    end = time.monotonic() + timeout
    while not os.path.exists(trigger):
        if time.monotonic() > end:
            print("ERR trigger never came", flush=True)
            return
        time.sleep(0.1)
    try:
        c.request("GET", "/second")
        print(c.getresponse().read().decode().strip(), flush=True)
    except Exception as e:  # noqa: BLE001
        print("ERR %s" % (e.__class__.__name__,), flush=True)


def udp(host, port, count, srcport=0, timeout=1.0):
    fixed = None
    if srcport:
        fixed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fixed.bind(("0.0.0.0", srcport))
    for i in range(count):
        s = fixed or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        try:
            s.sendto(b"ping %d\n" % i, (host, int(port)))
            data, _ = s.recvfrom(2048)
            print(data.decode().strip(), flush=True)
        except OSError as e:
            print("ERR %s" % (e.__class__.__name__,), flush=True)
        finally:
            if fixed is None:
                s.close()


def loop(url, seconds, out, stop=None):
    host, port, path = split_url(url)
    good = bad = 0
    slowest = 0.0
    end = time.monotonic() + seconds
    with open(out + ".err", "w") as err:
        while time.monotonic() < end and not (stop and os.path.exists(stop)):
            t0 = time.monotonic()
            try:
                one_get(host, port, path, 10.0)
                good += 1
                slowest = max(slowest, time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001
                bad += 1
                err.write("%.3f %s %s\n" % (time.time(), e.__class__.__name__,
                                            e))
                err.flush()
    with open(out + ".tmp", "w") as f:
        f.write("ok %d failed %d slowest %.3f\n" % (good, bad, slowest))
    os.rename(out + ".tmp", out)


CHURN_N = 20
CHURN_IPS = ["10.244.0.%d" % i for i in range(21, 27)]


def churn_svc(i, port, nodeport):
    p = {"name": "http", "protocol": "TCP", "port": port, "targetPort": 8080}
    spec = {"type": "ClusterIP", "clusterIP": "10.96.1.%d" % (10 + i),
            "clusterIPs": ["10.96.1.%d" % (10 + i)], "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster", "sessionAffinity": "None",
            "ports": [p]}
    if nodeport:
        spec["type"] = "NodePort"
        spec["externalTrafficPolicy"] = "Cluster"
        p["nodePort"] = 31000 + i
    return {"metadata": {"name": "churn-%d" % i, "namespace": "default"},
            "spec": spec, "status": {"loadBalancer": {}}}


def churn_slice(i, ips):
    return {"metadata": {"name": "churn-%d-1" % i, "namespace": "default",
                         "labels": {"kubernetes.io/service-name":
                                    "churn-%d" % i}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "nodeName": "node-1",
                           "conditions": {"ready": True, "serving": True,
                                          "terminating": False}}
                          for ip in ips],
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]}


def ctl_post(ctl, path, obj, timeout=10.0):
    host, port, _ = split_url(ctl)
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("POST", path, json.dumps(obj).encode(),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise OSError("%s: HTTP %d %s" % (path, r.status, body[:200]))
        return json.loads(body)
    finally:
        c.close()


def churn(ctl, seed, stop, out, interval=0.5):
    rnd = random.Random(int(seed))
    live = {}       # i -> {"port", "nodeport", "ips"}
    changes = errors = 0
    while not os.path.exists(stop):
        i = rnd.randrange(CHURN_N)
        cur = live.get(i)
        ops = []
        if cur is None:
            new = {"port": rnd.choice((80, 8080)),
                   "nodeport": rnd.random() < 0.3,
                   "ips": sorted(rnd.sample(CHURN_IPS, rnd.randint(0, 3)))}
            ops = [("services", "add", churn_svc(i, new["port"],
                                                 new["nodeport"])),
                   ("endpointslices", "add", churn_slice(i, new["ips"]))]
        else:
            r = rnd.random()
            new = dict(cur)
            if r < 0.55:
                new["ips"] = sorted(rnd.sample(CHURN_IPS,
                                               rnd.randint(0, 4)))
                ops = [("endpointslices", "modify",
                        churn_slice(i, new["ips"]))]
            elif r < 0.75:
                new["port"] = 8080 if cur["port"] == 80 else 80
                new["nodeport"] = rnd.random() < 0.3
                ops = [("services", "modify",
                        churn_svc(i, new["port"], new["nodeport"]))]
            else:
                new = None
                ops = [("endpointslices", "delete",
                        churn_slice(i, cur["ips"])),
                       ("services", "delete",
                        churn_svc(i, cur["port"], cur["nodeport"]))]
        try:
            ctl_post(ctl, "/apply", [{"kind": k, "op": o, "object": b}
                                     for k, o, b in ops])
            changes += 1
            if new is None:
                del live[i]
            else:
                live[i] = new
        except Exception as e:  # noqa: BLE001 - counted, not raised
            errors += 1
            sys.stderr.write("churn: %s\n" % e)
        time.sleep(rnd.uniform(0.5, 1.5) * interval)
    res = {"changes": changes, "errors": errors, "services": {
        "churn-%d" % i: {"vip": "10.96.1.%d" % (10 + i), "port": v["port"],
                         "nodePort": 31000 + i if v["nodeport"] else None,
                         "endpoints": ["%s:8080" % ip for ip in v["ips"]]}
        for i, v in sorted(live.items())}}
    with open(out + ".tmp", "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    os.rename(out + ".tmp", out)


def sample(out, stop, interval, names):
    names = set(names)
    with open(out, "a") as f:
        while not os.path.exists(stop):
            t = time.time()
            lines = []
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % d) as s:
                        st = s.read()
                    comm = st[st.index("(") + 1:st.rindex(")")]
                    state, ppid = st[st.rindex(")") + 2:].split()[:2]
                    if state == "Z":
                        lines.append("Z %.3f %s %s %s" % (t, d, ppid, comm))
                        continue
                    if comm not in names:
                        continue
                    rss = 0
                    with open("/proc/%s/status" % d) as s:
                        for ln in s:
                            if ln.startswith("VmRSS:"):
                                rss = int(ln.split()[1])
                    fds = len(os.listdir("/proc/%s/fd" % d))
                    lines.append("S %.3f %s %s %s %s %d %d" % (
                        t, d, ppid, state, comm, rss, fds))
                except (OSError, ValueError):
                    continue    # gone while we looked
            f.write("".join(ln + "\n" for ln in lines))
            f.flush()
            time.sleep(interval)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "serve":
        serve(args[0], args[1:])
    elif cmd == "get":
        get(args[0], int(args[1]), *map(float, args[2:3]))
    elif cmd == "hold":
        hold(args[0], args[1], args[2], *map(float, args[3:4]))
    elif cmd == "udp":
        udp(args[0], args[1], int(args[2]),
            *(int(a) for a in args[3:4]), *(float(a) for a in args[4:5]))
    elif cmd == "loop":
        loop(args[0], float(args[1]), args[2], *args[3:4])
    elif cmd == "churn":
        churn(args[0], args[1], args[2], args[3], *map(float, args[4:5]))
    elif cmd == "sample":
        sample(args[0], args[1], float(args[2]), args[3:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
