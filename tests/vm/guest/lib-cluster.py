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
      requests back to back (a new connection each, 2 s timeout) for
      SECONDS or until STOPFILE exists; writes "ok N failed M" to OUT at
      the end, and every failure as it happens to OUT.err.
"""

import ctypes
import http.client
import os
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
    end = time.monotonic() + seconds
    with open(out + ".err", "w") as err:
        while time.monotonic() < end and not (stop and os.path.exists(stop)):
            try:
                one_get(host, port, path, 2.0)
                good += 1
            except Exception as e:  # noqa: BLE001
                bad += 1
                err.write("%.3f %s %s\n" % (time.time(), e.__class__.__name__,
                                            e))
                err.flush()
    with open(out + ".tmp", "w") as f:
        f.write("ok %d failed %d\n" % (good, bad))
    os.rename(out + ".tmp", out)


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
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
