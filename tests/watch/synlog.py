#!/usr/bin/env python3
"""Logs the TCP handshakes and closes of one loopback port, from the wire.

Run as root inside a test's own network namespace (AF_PACKET on "lo"):

    synlog.py PORT

prints one line per packet of interest, flushed, until killed:

    <realtime ms> syn <client port>   a client's SYN to PORT (a connection
                                      attempt, refused or not)
    <realtime ms> fin <client port>   PORT closed its side (FIN)
    <realtime ms> rst <client port>   PORT reset (e.g. a refused attempt)

tests/watch/15-outage.t reads the watcher's back-off from it: while the
apiserver refuses connections nothing reaches its request log, but every
attempt is a SYN here.

SPDX-License-Identifier: Apache-2.0
"""

import signal
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def main():
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_IP))
    s.bind(("lo", 0))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("%d ready 0" % int(time.time() * 1000), flush=True)
    while True:
        data = s.recv(256)
        ip = data[14:]
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        if len(ip) < ihl + 14:
            continue
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        flags = ip[ihl + 13]
        now = int(time.time() * 1000)
        if dport == port and flags & SYN and not flags & ACK:
            print("%d syn %d" % (now, sport), flush=True)
        elif sport == port and flags & RST:
            print("%d rst %d" % (now, dport), flush=True)
        elif sport == port and flags & FIN:
            print("%d fin %d" % (now, dport), flush=True)


if __name__ == "__main__":
    main()
