#!/usr/bin/python3
# dnsd.py PORT — a tiny DNS responder on 127.0.0.1 for the export test:
# "ok.test" A -> 198.51.100.7 (TTL 60), anything else NXDOMAIN.
import socket, struct, sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    q, peer = s.recvfrom(2048)
    if len(q) < 12:
        continue
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    ok = name == "ok.test"
    hdr = struct.pack(">HHHHHH", qid, 0x8180 if ok else 0x8183, 1,
                      1 if ok else 0, 0, 0)
    ans = b""
    if ok:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([198, 51, 100, 7])
    s.sendto(hdr + question + ans, peer)
