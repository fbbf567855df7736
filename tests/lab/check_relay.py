#!/usr/bin/python3
"""check_relay.py REPO — the lab's call relay (a `relay` site, docs/LAB.md).

Starts `ops/lab/run --relay-server 127.0.0.1 PORTS` (no root) and checks
over real loopback sockets what a call test sees: a STUN Binding Request
gets a Binding Success whose XOR-MAPPED-ADDRESS is the client's own
address and port, a TURN Allocate without credentials gets a 401 with
REALM and NONCE, on every listed port and range; malformed or other
messages get nothing, and a port off the list is not served.
"""

import os
import random
import socket
import struct
import subprocess
import sys
import time

repo = sys.argv[1]
run = os.path.join(repo, "ops", "lab", "run")
COOKIE = 0x2112A442
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def ok(msg):
    print("ok   " + msg)


def request(mtype, txid, attrs=b""):
    return struct.pack("!HHI", mtype, len(attrs), COOKIE) + txid + attrs


def attrs_of(msg):
    out, off = {}, 20
    while off + 4 <= len(msg):
        t, n = struct.unpack_from("!HH", msg, off)
        out[t] = msg[off + 4:off + 4 + n]
        off += 4 + n + (-n % 4)
    return out


def ask(port, msg, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    s.sendto(msg, ("127.0.0.1", port))
    try:
        return s.recv(2048), s.getsockname()
    except (socket.timeout, TimeoutError, ConnectionRefusedError):
        return None, s.getsockname()
    finally:
        s.close()


base = random.randrange(20000, 60000)
ports = [base, base + 2, base + 3]
proc = subprocess.Popen([run, "--relay-server", "127.0.0.1", f"{base},{base + 2}-{base + 3}"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    line = proc.stdout.readline()
    if "event=ready" not in line or "ports=3" not in line:
        fail(f"relay did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}")
        sys.exit(1)
    for p in ports:
        txid = os.urandom(12)
        ans, me = ask(p, request(0x0001, txid))
        if ans is None or ans[:2] != b"\x01\x01" or ans[8:20] != txid:
            fail(f"port {p}: Binding answered {ans!r}")
            continue
        xma = attrs_of(ans).get(0x0020, b"")
        if len(xma) != 8:
            fail(f"port {p}: no XOR-MAPPED-ADDRESS in {ans!r}")
            continue
        mport = struct.unpack("!H", xma[2:4])[0] ^ (COOKIE >> 16)
        maddr = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", xma[4:8])[0] ^ COOKIE))
        if (maddr, mport) != me:
            fail(f"port {p}: XOR-MAPPED-ADDRESS {maddr}:{mport}, client is {me}")
        else:
            ok(f"port {p}: Binding Success, XOR-MAPPED-ADDRESS {maddr}:{mport}")
        txid = os.urandom(12)
        # REQUESTED-TRANSPORT UDP, as a TURN client's first Allocate
        ans, _ = ask(p, request(0x0003, txid, struct.pack("!HHI", 0x0019, 4, 17 << 24)))
        a = attrs_of(ans or b"\0" * 20)
        err = a.get(0x0009, b"")
        if ans is None or ans[:2] != b"\x01\x13" or ans[8:20] != txid or len(err) < 4 or \
                err[2] * 100 + err[3] != 401 or a.get(0x0014) != b"zond-lab" or not a.get(0x0015):
            fail(f"port {p}: Allocate answered {ans!r}")
        else:
            ok(f"port {p}: Allocate 401, realm {a[0x0014].decode()}, nonce {len(a[0x0015])} bytes")
    junk = [("wrong cookie", struct.pack("!HHI", 1, 0, 0x12345678) + os.urandom(12)),
            ("short", b"\x00\x01\x00\x00"),
            ("length past the end", struct.pack("!HHI", 1, 8, COOKIE) + os.urandom(12)),
            ("a response, not a request", request(0x0101, os.urandom(12))),
            ("Refresh", request(0x0004, os.urandom(12))),
            ("RTP-like", b"\x80\x6f" + os.urandom(170))]
    for what, msg in junk:
        ans, _ = ask(base, msg, 0.3)
        if ans is not None:
            fail(f"{what}: answered {ans!r}")
        else:
            ok(f"{what}: no answer")
    ans, _ = ask(base + 1, request(0x0001, os.urandom(12)), 0.3)
    if ans is not None:
        fail(f"port {base + 1} (not listed) answered")
    else:
        ok(f"port {base + 1} (not listed): no answer")
    if proc.poll() is not None:
        fail(f"relay exited: {proc.stderr.read()}")
finally:
    proc.terminate()
    proc.wait(5)
print(f"relay checks, {failures} failures")
sys.exit(1 if failures else 0)
