#!/usr/bin/env python3
"""Prints the shape of a raw HTTP/1.1 response (as `curl -i --raw` or the
recordings in recorded/ hold it), without the values that differ from one
server to the next, so a test can compare the test apiserver with the real
one:

  status <code>
  header <Name>            (each, in order)
  framing chunked|length
  chunks-end-in-newline yes|no    (chunked only: every data chunk ends "\\n")
  body compact|pretty, ends-in-newline yes|no
  keys <k1,k2,...>         top-level JSON keys of each body line, in order
  object-keys <...>        for watch events: the keys of "object", in order
                           (first two only: kind, apiVersion)
"""
import json
import sys


def main(path):
    raw = open(path, "rb").read()
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    out = ["status " + lines[0].split()[1].decode()]
    chunked = False
    for h in lines[1:]:
        name = h.split(b":", 1)[0].decode()
        out.append("header " + name)
        if name.lower() == "transfer-encoding":
            chunked = True
    out.append("framing " + ("chunked" if chunked else "length"))
    body = b""
    if chunked:
        nl = True
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            data, rest = rest[:n], rest[n + 2:]
            nl = nl and data.endswith(b"\n")
            body += data
        out.append("chunks-end-in-newline " + ("yes" if nl else "no"))
    else:
        body = rest
    text = body.decode()
    pretty = "\n  " in text
    out.append("body %s, ends-in-newline %s" % (
        "pretty" if pretty else "compact",
        "yes" if text.endswith("\n") else "no"))
    docs = [text] if pretty else [ln for ln in text.split("\n") if ln]
    for d in docs:
        o = json.loads(d)
        out.append("keys " + ",".join(o))
        if isinstance(o.get("object"), dict):
            out.append("object-keys " + ",".join(list(o["object"])[:2]))
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
