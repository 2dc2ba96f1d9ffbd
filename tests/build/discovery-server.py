#!/usr/bin/env python3
"""A tiny stand-in apiserver for `kubectl apply --dry-run=client` in
tests/build/deploy.t: plain HTTP on loopback, stdlib only.

It serves what kubectl needs to map the manifest's kinds to resources --
the legacy discovery documents (/api, /apis, /api/v1 and each group
version) for exactly the kinds deploy/kipvs-daemonset.yaml uses -- and
answers kubectl's GET of each object with 404 NotFound, so kubectl takes
its create path.

It serves no OpenAPI document: /openapi/v2 is 404, so kubectl must run
with --validate=false.  Every request is logged to --log as
"METHOD PATH"; anything but GET is answered 405 so a dry run that writes
shows up in the log and fails.

    discovery-server.py --port-file F --log L
"""
import argparse
import os
import http.server
import json
import sys

GROUPS = {
    # group version: [(resource, kind, namespaced)]
    "v1": [
        ("configmaps", "ConfigMap", True),
        ("namespaces", "Namespace", False),
        ("serviceaccounts", "ServiceAccount", True),
    ],
    "apps/v1": [
        ("daemonsets", "DaemonSet", True),
    ],
    "rbac.authorization.k8s.io/v1": [
        ("clusterrolebindings", "ClusterRoleBinding", False),
        ("clusterroles", "ClusterRole", False),
    ],
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resource_list(gv):
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": [
            {"name": r, "singularName": "", "namespaced": ns, "kind": k,
             "verbs": VERBS}
            for r, k, ns in GROUPS[gv]
        ],
    }


def group_list():
    groups = []
    for gv in GROUPS:
        if "/" not in gv:
            continue
        g, v = gv.split("/")
        d = {"groupVersion": gv, "version": v}
        groups.append({"name": g, "versions": [d], "preferredVersion": d})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def object_for(path):
    """(gv, kind, namespace, name) for an object path, or None."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 2:
        gv, rest = parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        gv, rest = parts[1] + "/" + parts[2], parts[3:]
    else:
        return None
    if gv not in GROUPS:
        return None
    ns = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) == 4:
        ns, rest = rest[1], rest[2:]
    if len(rest) != 2:
        return None
    for r, k, namespaced in GROUPS[gv]:
        if r == rest[0] and namespaced == (ns is not None):
            return gv, k, ns, rest[1]
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "kipvs-discovery-test"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, msg):
        self.reply(code, {"kind": "Status", "apiVersion": "v1",
                          "metadata": {}, "status": "Failure",
                          "message": msg, "reason": reason, "code": code})

    def record(self):
        with open(self.server.log, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def do_GET(self):
        self.record()
        path = self.path.split("?")[0]
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions",
                                    "versions": ["v1"],
                                    "serverAddressByClientCIDRs": []})
        if path == "/apis":
            return self.reply(200, group_list())
        if path == "/api/v1":
            return self.reply(200, resource_list("v1"))
        if path.startswith("/apis/") and path[6:] in GROUPS:
            return self.reply(200, resource_list(path[6:]))
        if path == "/version":
            return self.reply(200, {"major": "1", "minor": "20",
                                    "gitVersion": "v1.20.0"})
        o = object_for(path)
        if o is None:
            return self.status(404, "NotFound", "not served: " + path)
        kind, name = o[1], o[3]
        self.status(404, "NotFound", '%s "%s" not found' % (kind, name))

    def refuse(self):
        self.record()
        self.status(405, "MethodNotAllowed", "a dry run must not write")

    do_POST = do_PUT = do_PATCH = do_DELETE = refuse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.log = a.log
    open(a.log, "w").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])

    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
