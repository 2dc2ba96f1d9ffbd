#!/usr/bin/env python3
"""A small Kubernetes apiserver for kipvs-watcherd's tests.

Serves the list/watch protocol of Services, EndpointSlices and Nodes over
HTTPS with a bearer token, shaped like the real kube-apiserver v1.26
responses recorded in ../shared/apiserver/ (header order, compact JSON plus
"\\n", Content-Length under 2 KiB and chunked above, one chunk per watch
event, Status objects for errors, BOOKMARK objects of the watched kind).

What it models:
  * one global resourceVersion counter; every change is kept in a history
    that watches replay from any rv inside the "watch cache window";
  * consistent lists with limit/continue from a snapshot taken at the
    first page (continue token = base64url of {"v","rv","start"} as the
    real server makes it); resourceVersion=0 lists served whole;
  * label selectors (k, !k, k=v, k==v, k!=v) and field selectors
    (metadata.name, metadata.namespace), with the selector exit/entry
    rule of a real watch (DELETED with the old object, ADDED on re-entry);
  * bookmarks every --bookmark-interval seconds and ~2 s before
    timeoutSeconds, only when the kind changed after the watch's start;
  * a watch ends within a second of its client leaving (EOF or a TLS
    close_notify), so /watches counts only watches someone reads;
  * 410 both ways: lists with an old rv or an expired continue token get
    HTTP 410; watches from before the window get an in-stream ERROR event.

A plain-HTTP control server on a second loopback port lets a test change
objects, inject faults and read the request log:

  POST /apply      {"kind":K,"op":"add|modify|delete","object":{...}}
                   or a JSON list of those; returns {"rv":N}
  POST /generate   {"kind":K,"count":N,"namespace":NS}: N synthetic objects
  POST /fault      {"kind":K|"*","verb":"list|watch|*","action":A,
                    "count":N (-1: forever), "status":S,"retry_after":R,
                    "after_events":E}
                   A: status (HTTP S with a Status body, Retry-After R),
                      drop (close without a response), stall (stop
                      sending, keep the connection; a watch after the
                      head and E events, a list after half its body),
                      garbage (a line that is not JSON / a body that is
                      not JSON), truncate (a watch cut inside an event
                      after E events), gone (watch: 200 + ERROR 410
                      event), expire_continue (a list page with a
                      continue token: 410 Expired), redirect (302 to
                      "location")
  POST /clear-faults, /release (ends every stall), /end-watches (every
       open watch ends normally now; returns {"t":ms}), /compact (the watch window starts
       at the current rv: older watches and continue tokens get 410),
       /token {"token":T} (the only token accepted from now on)
  POST /outage     {"on":true}: the API port closes its listening socket
                   (new connections are refused: RST) and every open API
                   connection is shut down (FIN; stalls end); the port
                   stays bound, not listening, so nothing else takes it.
                   {"on":false}: the same port listens again.  Returns
                   {"t":ms}.  The control port is not affected.
  GET  /log        one line per API request:
                   "<ms> <verb> <kind> <status> <path?query> <user-agent>"
  GET  /watches    {"services":n,...} open watches per kind
  GET  /rv         {"rv":N}

Run: apiserver.py --cert C --key K --token T --ports-file F [--fixtures J]
It writes "<api port> <control port>" to F when ready.
"""

import argparse
import base64
import copy
import http.server
import json
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

KINDS = {
    "services": ("/api/v1/services", "Service", "ServiceList", "v1"),
    "endpointslices": ("/apis/discovery.k8s.io/v1/endpointslices",
                       "EndpointSlice", "EndpointSliceList",
                       "discovery.k8s.io/v1"),
    "nodes": ("/api/v1/nodes", "Node", "NodeList", "v1"),
}
PATHS = {v[0]: k for k, v in KINDS.items()}
FLOWSCHEMA = "7d579fdb-504d-4326-98c9-bca38ed9ff56"
PRIOLEVEL = "8dd61ac7-adb3-44d1-b844-801bb16fb356"
REASONS = {
    302: ("Found", ""),
    400: ("Bad Request", "BadRequest"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "Forbidden"),
    404: ("Not Found", "NotFound"),
    410: ("Gone", "Expired"),
    422: ("Unprocessable Entity", "Invalid"),
    429: ("Too Many Requests", "TooManyRequests"),
    500: ("Internal Server Error", "InternalError"),
    503: ("Service Unavailable", "ServiceUnavailable"),
}
T0 = time.monotonic()


def now_ms():
    return int((time.monotonic() - T0) * 1000)


def go_json(obj, pretty=False):
    """JSON the way the apiserver writes it (Go's encoder escapes <>&)."""
    if pretty:
        s = json.dumps(obj, indent=2, ensure_ascii=False)
    else:
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
    s = s.replace("<", "\\u003c").replace(">", "\\u003e")
    s = s.replace("&", "\\u0026")
    return s.encode()


def status_obj(code, message, reason=None, md=None, details=None):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": md or {},
         "status": "Failure", "message": message,
         "reason": reason or REASONS.get(code, ("", "InternalError"))[1]}
    if details:
        o["details"] = details
    o["code"] = code
    return o


def key_of(obj):
    md = obj.get("metadata", {})
    ns = md.get("namespace", "")
    return (ns + "/" if ns else "") + md.get("name", "")


def match_labels(sel, labels):
    if not sel:
        return True
    for term in sel.split(","):
        term = term.strip()
        if not term:
            continue
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            v = v.lstrip("=")
            if labels.get(k) != v:
                return False
        elif term not in labels:
            return False
    return True


def match_fields(sel, obj):
    if not sel:
        return True
    md = obj.get("metadata", {})
    for term in sel.split(","):
        k, _, v = term.partition("=")
        v = v.lstrip("=")
        if k == "metadata.name" and md.get("name") != v:
            return False
        if k == "metadata.namespace" and md.get("namespace", "") != v:
            return False
    return True


class Store:
    def __init__(self):
        self.cond = threading.Condition()
        self.rv = 100
        self.objs = {k: {} for k in KINDS}
        self.kind_rv = {k: 0 for k in KINDS}
        self.history = []       # (rv, kind, type, old, new)
        self.window = 0         # watches from rv < window get 410
        self.snapshots = {}     # (kind, rv, lsel, fsel) -> [obj]
        self.end_gen = 0

    def _bump(self):
        self.rv += 1
        return self.rv

    def apply(self, kind, op, obj):
        with self.cond:
            rv = self._bump()
            k = key_of(obj)
            old = self.objs[kind].get(k)
            if op == "delete":
                if old is None:
                    raise KeyError(k)
                gone = copy.deepcopy(old)
                gone["metadata"]["resourceVersion"] = str(rv)
                del self.objs[kind][k]
                self.history.append((rv, kind, "DELETED", old, gone))
            else:
                new = copy.deepcopy(obj)
                md = new.setdefault("metadata", {})
                if old is not None:
                    md["uid"] = old["metadata"]["uid"]
                    md["creationTimestamp"] = \
                        old["metadata"]["creationTimestamp"]
                else:
                    md.setdefault("uid", str(uuid.uuid4()))
                    md.setdefault("creationTimestamp",
                                  time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                time.gmtime()))
                md["resourceVersion"] = str(rv)
                self.objs[kind][k] = new
                self.history.append((rv, kind, "MODIFIED" if old else
                                     "ADDED", old, new))
            self.kind_rv[kind] = rv
            self.cond.notify_all()
            return rv

    def compact(self):
        """Like an apiserver restart: a new revision opens the window."""
        with self.cond:
            self.window = self._bump()
            self.snapshots.clear()
            self.cond.notify_all()
            return self.rv


def gen_service(i, ns):
    name = "svc-%05d" % i
    ip = "10.%d.%d.%d" % (96 + i // 65536, (i // 256) % 256, i % 256)
    return {
        "metadata": {
            "name": name, "namespace": ns, "labels": {"app": name},
            "managedFields": [{
                "manager": "fixture-setup", "operation": "Update",
                "apiVersion": "v1", "time": "2026-11-26T10:53:16Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:ports": {".": {}, "k:{\"port\":80"
                             ",\"protocol\":\"TCP\"}": {".": {}, "f:name": {},
                                                        "f:port": {}}},
                                        "f:selector": {}, "f:type": {}}}}]},
        "spec": {
            "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                       "targetPort": 8080},
                      {"name": "https", "protocol": "TCP", "port": 443,
                       "targetPort": "https"}],
            "selector": {"app": name}, "clusterIP": ip, "clusterIPs": [ip],
            "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}}


def gen_slice(i, ns):
    svc = "svc-%05d" % i
    return {
        "metadata": {
            "name": "%s-%05x" % (svc, i), "namespace": ns, "generation": 1,
            "labels": {"kubernetes.io/service-name": svc,
                       "endpointslice.kubernetes.io/managed-by":
                       "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.%d.%d" % (j, i % 250 + 1)],
                       "conditions": {"ready": True, "serving": True,
                                      "terminating": False},
                       "nodeName": "node-%d" % j, "zone": "zone-a"}
                      for j in range(3)],
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]}


def bookmark_obj(kind, rv):
    _, k, _, api = KINDS[kind]
    md = {"resourceVersion": str(rv), "creationTimestamp": None}
    if kind == "services":
        return {"kind": k, "apiVersion": api, "metadata": md, "spec": {},
                "status": {"loadBalancer": {}}}
    if kind == "endpointslices":
        return {"kind": k, "apiVersion": api, "metadata": md,
                "addressType": "", "endpoints": None, "ports": None}
    return {"kind": k, "apiVersion": api, "metadata": md, "spec": {},
            "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
                       "nodeInfo": {"machineID": "", "systemUUID": "",
                                    "bootID": "", "kernelVersion": "",
                                    "osImage": "",
                                    "containerRuntimeVersion": "",
                                    "kubeletVersion": "",
                                    "kubeProxyVersion": "",
                                    "operatingSystem": "",
                                    "architecture": ""}}}


def with_kind(kind, obj):
    _, k, _, api = KINDS[kind]
    o = {"kind": k, "apiVersion": api}
    o.update(obj)
    return o


def make_continue(rv, start):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\0"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        o = json.loads(base64.urlsafe_b64decode(tok + pad))
        return int(o["rv"]), o["start"].rstrip("\0")
    except Exception:
        return None


class App:
    def __init__(self, args):
        self.args = args
        self.store = Store()
        self.tokens = {args.token}
        self.faults = []
        self.flock = threading.Lock()
        self.log = []
        self.release = threading.Event()
        self.watches = {k: 0 for k in KINDS}
        self.conns = set()      # open API connections (for /outage)
        self.outage_gen = 0     # bumped by every outage: watches end
        self.api = None         # the API Server (for /outage)
        self.ctx = None
        self.parked = None      # the bound, not listening, socket
        self.olock = threading.Lock()

    def outage(self, on):
        """Closes or reopens the API port; see /outage."""
        with self.olock:
            if on and self.parked is None:
                port = self.api.server_address[1]
                self.api.shutdown()
                self.api.server_close()
                # Keep the port: bound but not listening refuses
                # connections and keeps it out of the ephemeral range.
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                self.parked = s
                with self.store.cond:
                    self.outage_gen += 1
                    conns = list(self.conns)
                    self.store.cond.notify_all()
                for c in conns:
                    try:
                        socket.socket.shutdown(c, socket.SHUT_RDWR)
                    except OSError:
                        pass
                self.release.set()
                self.release = threading.Event()
            elif not on and self.parked is not None:
                s, self.parked = self.parked, None
                s.listen(self.api.request_queue_size)
                api = Server(s.getsockname(), ApiHandler,
                             bind_and_activate=False)
                api.socket.close()
                api.socket = self.ctx.wrap_socket(
                    s, server_side=True, do_handshake_on_connect=False)
                api.app = self
                self.api = api
                threading.Thread(target=api.serve_forever, args=(0.1,),
                                 daemon=True).start()

    def take_fault(self, kind, verb):
        with self.flock:
            for f in self.faults:
                if f.get("kind", "*") not in ("*", kind):
                    continue
                if f.get("verb", "*") not in ("*", verb):
                    continue
                if f.get("count", 1) == 0:
                    continue
                if f.get("count", 1) > 0:
                    f["count"] = f.get("count", 1) - 1
                return f
        return None


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-test"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        with self.server.app.store.cond:
            self.server.app.conns.add(self.request)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            with self.server.app.store.cond:
                self.server.app.conns.discard(self.request)
            self.request.close()
            raise
        self.request.settimeout(None)
        super().setup()

    def finish(self):
        with self.server.app.store.cond:
            self.server.app.conns.discard(self.request)
        try:
            super().finish()
        except OSError:
            pass

    @property
    def app(self):
        return self.server.app

    # --- writing -----------------------------------------------------

    def head(self, code, chunked=False, length=None, extra=(), pf=True,
             body=b""):
        reason = REASONS.get(code, ("OK", ""))[0] if code != 200 else "OK"
        h = ["HTTP/1.1 %d %s" % (code, reason),
             "Audit-Id: %s" % uuid.uuid4(),
             "Cache-Control: no-cache, private",
             "Content-Type: application/json"]
        if code == 403:
            h.append("X-Content-Type-Options: nosniff")
        if pf:
            h.append("X-Kubernetes-Pf-Flowschema-Uid: " + FLOWSCHEMA)
            h.append("X-Kubernetes-Pf-Prioritylevel-Uid: " + PRIOLEVEL)
        h.extend(extra)
        h.append("Date: " + formatdate(usegmt=True))
        if chunked:
            h.append("Transfer-Encoding: chunked")
        else:
            h.append("Content-Length: %d" % length)
        # One write per response part: no Nagle/delayed-ACK stalls.
        self.wfile.write(("\r\n".join(h) + "\r\n\r\n").encode() + body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def pretty(self):
        ua = self.headers.get("User-Agent", "")
        return ua.startswith(("curl", "Wget", "Mozilla/5.0")) or \
            self.query.get("pretty") == "true"

    def send_body(self, code, obj, extra=(), pf=True):
        body = go_json(obj, self.pretty())
        self.entry["status"] = str(code)
        # Go's server sets Content-Length for bodies that fit its buffer.
        if len(body) < 2048:
            self.head(code, length=len(body), extra=extra, pf=pf, body=body)
        else:
            data = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]),
                                               body[i:i + 65536])
                            for i in range(0, len(body), 65536))
            self.head(code, chunked=True, extra=extra, pf=pf,
                      body=data + b"0\r\n\r\n")

    def send_status(self, code, message, reason=None, md=None, extra=(),
                    pf=True):
        self.send_body(code, status_obj(code, message, reason, md),
                       extra=extra, pf=pf)

    def drop(self):
        self.entry["status"] = "drop"
        self.close_connection = True
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def peer_gone(self):
        """Whether a watching client is done with the connection (a real
        apiserver notices at once; a watch here would otherwise live on
        until its next write).  A client sends nothing while it watches
        over HTTP/1.1, so anything to read — EOF, or TLS close_notify
        before the FIN — means it left."""
        try:
            # The raw socket under TLS: peek, never consume.
            socket.socket.recv(self.request, 1,
                               socket.MSG_PEEK | socket.MSG_DONTWAIT)
            return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def stall(self):
        self.entry["status"] += "+stall"
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.app.release.wait()
        self.close_connection = True

    # --- requests ----------------------------------------------------

    def do_GET(self):
        u = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(u.query,
                                                     keep_blank_values=True)
                      .items()}
        kind = PATHS.get(u.path, "-")
        watch = self.query.get("watch") in ("1", "true")
        verb = "watch" if watch else "list"
        self.entry = {"t": now_ms(), "verb": verb, "kind": kind,
                      "status": "-", "target": self.path,
                      "ua": self.headers.get("User-Agent", "-")
                      .replace(" ", "_")}
        with self.app.flock:
            self.app.log.append(self.entry)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or \
                auth[7:] not in self.app.tokens:
            self.send_status(401, "Unauthorized", pf=False)
            return
        if u.path == "/version":
            self.send_body(200, {"major": "1", "minor": "26",
                                 "gitVersion": "v1.26.0"})
            return
        if kind == "-":
            self.send_status(404, "the server could not find the "
                             "requested resource")
            return
        fault = self.app.take_fault(kind, verb)
        if fault is not None:
            a = fault["action"]
            if a == "drop":
                return self.drop()
            if a == "redirect":
                self.entry["status"] = "302"
                self.head(302, length=0, extra=[
                    "Location: " + fault.get("location",
                                             "https://127.0.0.1:1/elsewhere")])
                return
            if a == "status":
                code = fault.get("status", 500)
                extra = []
                if "retry_after" in fault:
                    extra.append("Retry-After: %d" % fault["retry_after"])
                msg = fault.get("message", "injected %d" % code)
                return self.send_status(code, msg, extra=extra)
            if a == "expire_continue" and self.query.get("continue"):
                return self.send_status(
                    410, "The provided continue parameter is too old to "
                    "display a consistent list result.", "Expired",
                    md={"continue": make_continue(-1, "")})
            if a == "expire_continue":
                fault["count"] = fault.get("count", 0) + 1
                fault = None
        try:
            if watch:
                self.do_watch(kind, fault)
            else:
                self.do_list(kind, fault)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                OSError):
            self.close_connection = True

    def selected(self, obj):
        return obj is not None and \
            match_labels(self.query.get("labelSelector", ""),
                         obj.get("metadata", {}).get("labels", {})) and \
            match_fields(self.query.get("fieldSelector", ""), obj)

    def do_list(self, kind, fault):
        st = self.app.store
        q = self.query
        lsel, fsel = q.get("labelSelector", ""), q.get("fieldSelector", "")
        limit = int(q.get("limit", "0") or 0)
        with st.cond:
            if q.get("continue"):
                c = parse_continue(q["continue"])
                if c is None:
                    return self.send_status(400, "invalid continue token")
                rv, start = c
                snap = st.snapshots.get((kind, rv, lsel, fsel))
                if snap is None or rv < st.window:
                    return self.send_status(
                        410, "The provided continue parameter is too old "
                        "to display a consistent list result.", "Expired",
                        md={"continue": make_continue(-1, start)})
                items = [o for o in snap if key_of(o) > start]
            elif q.get("resourceVersion") == "0":
                rv = st.kind_rv[kind] or st.rv
                items = [o for o in st.objs[kind].values()
                         if self.selected(o)]
                limit = 0
            else:
                rvq = q.get("resourceVersion")
                if rvq and int(rvq) < st.window:
                    return self.send_status(
                        410, "The resourceVersion for the provided list "
                        "is too old.", "Expired")
                rv = st.rv
                snap = sorted((o for o in st.objs[kind].values()
                               if self.selected(o)), key=key_of)
                if limit:
                    st.snapshots[(kind, rv, lsel, fsel)] = snap
                items = snap
        md = {"resourceVersion": str(rv)}
        if limit and len(items) > limit:
            md["continue"] = make_continue(rv, key_of(items[limit - 1]))
            md["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        _, _, lkind, api = KINDS[kind]
        body = {"kind": lkind, "apiVersion": api, "metadata": md,
                "items": items}
        if fault is None:
            return self.send_body(200, body)
        a = fault["action"]
        self.entry["status"] = "200"
        if a == "garbage":
            data = b"{\"kind\":\"" + lkind.encode() + b"\",garbage\n"
            self.head(200, length=len(data))
            self.wfile.write(data)
            return
        data = go_json(body)
        self.head(200, chunked=True)
        half = data[:len(data) // 2]
        self.chunk(half)
        if a == "stall":
            return self.stall()
        self.drop()

    def do_watch(self, kind, fault):
        st = self.app.store
        q = self.query
        timeout = int(q.get("timeoutSeconds", "0") or 0) or 1800
        deadline = time.monotonic() + timeout
        bookmarks = q.get("allowWatchBookmarks") == "true"
        rvq = q.get("resourceVersion", "")
        self.entry["status"] = "200"
        with st.cond:
            start = int(rvq) if rvq not in ("", "0") else None
            if start is not None and start < st.window:
                gone = status_obj(410, "too old resource version: %d (%d)"
                                  % (start, st.window), "Expired")
                self.head(200, chunked=True)
                self.chunk(go_json({"type": "ERROR", "object": gone}))
                self.wfile.write(b"0\r\n\r\n")
                self.entry["status"] = "200+gone"
                return
            pending = []
            if start is None:
                start = st.rv
                for o in st.objs[kind].values():
                    if self.selected(o):
                        pending.append(("ADDED", with_kind(kind, o)))
            cursor = 0
            while cursor < len(st.history) and st.history[cursor][0] <= start:
                cursor += 1
            end_gen = st.end_gen
            out_gen = self.app.outage_gen
        self.head(200, chunked=True)
        if fault is not None and fault["action"] == "gone":
            gone = status_obj(410, "too old resource version: %s (%d)"
                              % (rvq, st.rv), "Expired")
            self.chunk(go_json({"type": "ERROR", "object": gone}))
            self.wfile.write(b"0\r\n\r\n")
            self.entry["status"] = "200+gone"
            return
        if fault is not None and fault["action"] == "garbage":
            self.chunk(b"this is not JSON\n")
        after = fault.get("after_events", 0) if fault else 0
        cut = fault is not None and \
            fault["action"] in ("stall", "truncate", "drop")
        sent = 0
        bm_iv = self.app.args.bookmark_interval
        next_bm = time.monotonic() + bm_iv
        final_bm = deadline - min(2.0, timeout / 4.0)
        final_bm_sent = False
        with st.cond:
            self.app.watches[kind] += 1
        try:
            while True:
                while pending and not (cut and sent >= after):
                    typ, obj = pending.pop(0)
                    self.chunk(go_json({"type": typ, "object": obj}))
                    sent += 1
                if cut and sent >= after:
                    a = fault["action"]
                    if a == "stall":
                        return self.stall()
                    if a == "truncate":
                        self.chunk(b"{\"type\":\"ADDED\",\"object\":"
                                   b"{\"kind\"")
                    return self.drop()
                now = time.monotonic()
                if now >= deadline:
                    break
                with st.cond:
                    if st.end_gen != end_gen:
                        break
                    if self.app.outage_gen != out_gen:
                        return
                    if cursor >= len(st.history):
                        # Look at the client at least every second.
                        wake = min(deadline, now + 1.0)
                        if bookmarks:
                            wake = min(wake, next_bm)
                            if not final_bm_sent:
                                wake = min(wake, final_bm)
                        st.cond.wait(max(0.0, wake - now))
                    new = st.history[cursor:]
                    cursor = len(st.history)
                    krv = st.kind_rv[kind]
                if self.peer_gone():
                    return
                for rv, k, typ, old, obj in new:
                    if k != kind:
                        continue
                    was, now_in = self.selected(old), self.selected(obj)
                    if typ == "DELETED":
                        if was:
                            pending.append(("DELETED", with_kind(kind, obj)))
                    elif was and now_in:
                        pending.append(("MODIFIED", with_kind(kind, obj)))
                    elif now_in:
                        pending.append(("ADDED", with_kind(kind, obj)))
                    elif was:
                        gone = copy.deepcopy(old)
                        gone["metadata"]["resourceVersion"] = str(rv)
                        pending.append(("DELETED", with_kind(kind, gone)))
                now = time.monotonic()
                due = bookmarks and (now >= next_bm or
                                     (not final_bm_sent and now >= final_bm))
                if due and not pending:
                    if now >= final_bm:
                        final_bm_sent = True
                    next_bm = now + bm_iv
                    if krv > start:
                        self.chunk(go_json({"type": "BOOKMARK", "object":
                                            bookmark_obj(kind, krv)}))
            self.wfile.write(b"0\r\n\r\n")
        finally:
            with st.cond:
                self.app.watches[kind] -= 1


class CtlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, obj, code=200, text=None):
        body = text.encode() if text is not None else \
            (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if text is not None
                         else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        app = self.server.app
        if self.path.startswith("/log"):
            with app.flock:
                lines = ["%d %s %s %s %s %s" % (e["t"], e["verb"], e["kind"],
                                                e["status"], e["target"],
                                                e["ua"]) for e in app.log]
            return self.reply(None, text="".join(s + "\n" for s in lines))
        if self.path == "/watches":
            with app.store.cond:
                return self.reply(dict(app.watches))
        if self.path == "/rv":
            return self.reply({"rv": app.store.rv})
        self.reply({"error": "not found"}, 404)

    def do_POST(self):
        app = self.server.app
        st = app.store
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            arg = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            return self.reply({"error": str(e)}, 400)
        p = self.path
        try:
            if p == "/apply":
                rv = 0
                for a in arg if isinstance(arg, list) else [arg]:
                    rv = st.apply(a["kind"], a.get("op", "add"), a["object"])
                return self.reply({"rv": rv})
            if p == "/generate":
                gen = gen_service if arg["kind"] == "services" else gen_slice
                ns = arg.get("namespace", "gen")
                for i in range(arg["count"]):
                    st.apply(arg["kind"], "add", gen(i, ns))
                return self.reply({"rv": st.rv})
            if p == "/fault":
                with app.flock:
                    app.faults.append(arg)
                return self.reply({"ok": True})
            if p == "/clear-faults":
                with app.flock:
                    app.faults.clear()
                return self.reply({"ok": True})
            if p == "/release":
                app.release.set()
                app.release = threading.Event()
                return self.reply({"ok": True})
            if p == "/end-watches":
                with st.cond:
                    st.end_gen += 1
                    st.cond.notify_all()
                return self.reply({"t": now_ms()})
            if p == "/compact":
                return self.reply({"rv": st.compact()})
            if p == "/token":
                app.tokens = {arg["token"]}
                return self.reply({"ok": True})
            if p == "/outage":
                app.outage(bool(arg["on"]))
                return self.reply({"t": now_ms()})
        except (KeyError, TypeError, ValueError) as e:
            return self.reply({"error": repr(e)}, 400)
        self.reply({"error": "not found"}, 404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # Failed handshakes and dropped clients are what the tests do.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--fixtures")
    ap.add_argument("--bookmark-interval", type=float, default=60.0)
    args = ap.parse_args()

    app = App(args)
    if args.fixtures:
        with open(args.fixtures) as f:
            for a in json.load(f):
                app.store.apply(a["kind"], "add", a["object"])

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    api = Server(("127.0.0.1", 0), ApiHandler)
    api.socket = ctx.wrap_socket(api.socket, server_side=True,
                                 do_handshake_on_connect=False)
    api.app = app
    app.api, app.ctx = api, ctx
    ctl = Server(("127.0.0.1", 0), CtlHandler)
    ctl.app = app
    # The API server polls often: /outage waits for it to stop.
    for s, poll in ((api, 0.1), (ctl, 0.5)):
        threading.Thread(target=s.serve_forever, args=(poll,),
                         daemon=True).start()

    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (api.server_address[1], ctl.server_address[1]))
    import os
    os.rename(tmp, args.ports_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(1):
        pass
    app.release.set()
    # No joining of handler threads (a stalled one would keep the process,
    # and the test waiting for it, alive): flush and go.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
