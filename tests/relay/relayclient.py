#!/usr/bin/python3
"""relayclient.py — an agent's HTTPS relay uplink written from
docs/PROTOCOL.md §8 alone (its own protobuf encoder, Ed25519 from the
`cryptography` package, http.client over ssl), against a real
zond-aggregator.

  relayclient.py pubkey SEEDHEX
      print the agent's Ed25519 public key (to enroll it)
  relayclient.py cases URL AGGR_PUB_HEX CAFILE SEED UNKNOWN DISABLED LIMITED
      every case of the relay's contract; "ok ..." / "FAIL ..." lines,
      exit 1 on any failure; prints acked=N (distinct seqs acknowledged)
  relayclient.py deliver URL AGGR_PUB_HEX CAFILE SEED N ACKFILE
      deliver N measurements in batches of 50, retrying through refused
      connections and 503 (the aggregator may be killed meanwhile); each
      acknowledged seq is appended to ACKFILE once its ack verified

URL: https://host:port/ingest/v1 (or http:// behind no TLS).  CAFILE: the
certificate to trust ("-": none, plain HTTP).  Every wait is bounded.
"""
import hashlib
import http.client
import os
import socket
import ssl
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidSignature

D_MEAS = b"zond/measurement/v1\x00"
D_RELAY = b"zond/relay/v1\x00"
D_REPLY = b"zond/relay-reply/v1\x00"
REASONS = {1: "bad_signature", 2: "unknown_agent", 3: "disabled_agent",
           4: "malformed", 5: "oversized", 6: "version", 7: "clock",
           8: "agent_mismatch", 9: "storage", 10: "duplicate_id"}

# ------------------------------------------------------------ protobuf


def uv(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def f_int(num, n):
    return uv(num << 3) + uv(n)


def f_len(num, b):
    if isinstance(b, str):
        b = b.encode()
    return uv(num << 3 | 2) + uv(len(b)) + b


def rd_uv(b, i):
    x = sh = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << sh
        sh += 7
        if c < 0x80:
            return x, i


def fields(b):
    """{num: [values]} of one message (varints as ints, others bytes)."""
    out, i = {}, 0
    while i < len(b):
        tag, i = rd_uv(b, i)
        wt = tag & 7
        if wt == 0:
            v, i = rd_uv(b, i)
        elif wt == 2:
            n, i = rd_uv(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(tag >> 3, []).append(v)
    return out


def packed(v):
    out, j = [], 0
    while j < len(v):
        x, j = rd_uv(v, j)
        out.append(x)
    return out


# ------------------------------------------------------------ agent


class Agent:
    def __init__(self, seedhex):
        self.sk = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seedhex))
        self.pk = self.sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.boot_id = os.urandom(16)
        self.n = 0

    def boot_us(self):
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1000

    def measurement(self, seq, forge=False):
        now = time.time_ns() // 1000
        self.n += 1
        ident = (now // 1000).to_bytes(6, "big") + os.urandom(6) + \
            self.n.to_bytes(4, "big")
        res = f_int(1, 0) + f_int(3, 1) + \
            f_len(11, f_len(1, "192.0.2.7:443") + f_int(2, 20000))
        body = (f_len(1, ident) + f_int(2, seq) + f_len(3, self.pk) +
                f_int(4, now) + f_int(5, 1500) + f_len(6, "relayclient") +
                f_int(7, 2) + f_len(8, "192.0.2.7:443") +
                f_len(9, "whatsapp") + f_len(11, res))
        sig = self.sk.sign(D_MEAS + body)
        if forge:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return f_len(1, f_len(1, body) + f_len(2, sig))

    def hello(self):
        return f_int(1, 1) + f_len(2, f_len(1, "relayclient/1") +
                                   f_int(2, time.time_ns() // 1000) +
                                   f_len(7, self.boot_id) +
                                   f_int(8, self.boot_us()))

    def heartbeat(self):
        return f_int(1, 1) + f_len(3, f_int(1, time.time_ns() // 1000) +
                                   f_len(6, self.boot_id) +
                                   f_int(7, self.boot_us()))

    def batch(self, items):
        return f_int(1, 1) + f_len(4, b"".join(items))

    def request(self, uplink, boot_us=None, forge=False, signer=None):
        body = (f_len(1, self.pk) + f_len(2, self.boot_id) +
                f_int(3, self.boot_us() if boot_us is None else boot_us) +
                f_len(4, uplink))
        sig = (signer or self.sk).sign(D_RELAY + body)
        if forge:
            sig = sig[:10] + bytes([sig[10] ^ 0x40]) + sig[11:]
        return f_len(1, body) + f_len(2, sig), body


class Relay:
    def __init__(self, url, aggr_pub_hex, cafile):
        u = urllib.parse.urlsplit(url)
        self.tls = u.scheme == "https"
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.apk = Ed25519PublicKey.from_public_bytes(
            bytes.fromhex(aggr_pub_hex))
        self.ctx = None
        if self.tls:
            self.ctx = ssl.create_default_context(cafile=cafile)
            self.ctx.check_hostname = False     # a test certificate

    def conn(self, timeout=30):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=timeout,
                                               context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)

    def post(self, data, path=None, method="POST", headers=None):
        """(status, headers, body bytes)"""
        c = self.conn()
        try:
            h = {"Content-Type": "application/octet-stream"}
            h.update(headers or {})
            c.request(method, path or self.path, body=data, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def reply(self, body, resp):
        """The Downlink fields of a verified RelayReply bound to body;
        raises ValueError naming what is wrong."""
        f = fields(resp)
        rb, sig = f[1][0], f[2][0]
        try:
            self.apk.verify(sig, D_REPLY + rb)
        except InvalidSignature:
            raise ValueError("reply signature does not verify")
        g = fields(rb)
        if g[1][0] != hashlib.sha256(body).digest():
            raise ValueError("reply bound to another request")
        return fields(g[2][0])


def ack_of(dl):
    """(seqs, [(seq, reason)]) of a Downlink with an ack, else None"""
    if 2 not in dl:
        return None
    a = fields(dl[2][0])
    seqs = []
    for v in a.get(1, []):
        seqs += packed(v) if isinstance(v, bytes) else [v]
    rej = []
    for v in a.get(2, []):
        r = fields(v)
        rej.append((r.get(1, [None])[0], REASONS.get(r.get(2, [0])[0])))
    return seqs, rej


# ------------------------------------------------------------ cases

fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
    print(("ok   " if cond else "FAIL ") + what, flush=True)


def cases(url, apub, cafile, seed, unknown, disabled, limited):
    rl = Relay(url, apub, cafile)
    ag = Agent(seed)
    acked = set()
    seq = [1000]

    def items(n, forge_at=None):
        out = []
        for k in range(n):
            seq[0] += 1
            out.append(ag.measurement(seq[0], forge=(k == forge_at)))
        return out

    # Hello: the stored test list (when OPERATOR_PUB names its signer)
    # with the time, signed and bound to the request
    req, body = ag.request(ag.hello())
    st, h, resp = rl.post(req)
    check(st == 200 and h.get("Content-Type") == "application/octet-stream",
          "hello: 200 application/octet-stream (%d)" % st)
    dl = rl.reply(body, resp)
    check(6 in dl and abs(dl[6][0] - time.time_ns() // 1000) < 60 * 10**6,
          "hello: reply verified with the aggregator key, bound to the "
          "request, carries server_us")
    op = os.environ.get("OPERATOR_PUB")
    if op:
        tl = fields(dl[4][0]) if 4 in dl else {}
        good = False
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(op)).verify(
                tl[2][0], b"zond/testlist/v1\x00" + tl[1][0])
            good = fields(tl[1][0])[1][0] == 100
        except (KeyError, InvalidSignature):
            pass
        check(good, "hello: the reply carries test list version 100, "
              "signed by the operator")
    req, body = ag.request(ag.heartbeat())
    st, _, resp = rl.post(req)
    check(st == 200 and 6 in rl.reply(body, resp), "heartbeat: 200, time")

    # a batch stored once and acked
    its = items(10)
    up = ag.batch(its)
    req, body = ag.request(up)
    st, _, resp = rl.post(req)
    a = ack_of(rl.reply(body, resp)) if st == 200 else None
    check(a is not None and sorted(a[0]) == list(range(1001, 1011)) and
          not a[1], "batch of 10: all acked (%r)" % (a,))
    acked.update(a[0] if a else [])

    # a replayed request: 409
    st, _, resp = rl.post(req)
    check(st == 409 and b"replay" in resp, "the same request again: 409 "
          "(%d %r)" % (st, resp[:80]))
    # an older boot_us of the same boot: 409
    req2, _ = ag.request(ag.heartbeat(), boot_us=1)
    st, _, _ = rl.post(req2)
    check(st == 409, "an older boot_us: 409 (%d)" % st)

    # a new boot is taken; a request of the boot before is a replay
    old_boot = ag.boot_id
    ag.boot_id = os.urandom(16)
    req, body = ag.request(ag.heartbeat())
    st, _, resp = rl.post(req)
    check(st == 200, "a new boot: 200 (%d)" % st)
    ag.boot_id = old_boot
    req2, _ = ag.request(ag.heartbeat())
    st, _, resp = rl.post(req2)
    check(st == 409 and b"earlier boot" in resp,
          "a request of the boot before: 409 (%d %r)" % (st, resp[:60]))
    ag.boot_id = os.urandom(16)

    # the same batch in a new request: acked, not stored twice
    req, body = ag.request(up)
    st, _, resp = rl.post(req)
    a = ack_of(rl.reply(body, resp)) if st == 200 else None
    check(a is not None and sorted(a[0]) == list(range(1001, 1011)),
          "the same batch in a new request: acked again (%r)" % (a,))

    # a forged measurement signature: its seq refused, the rest stored
    its = items(5, forge_at=2)
    req, body = ag.request(ag.batch(its))
    st, _, resp = rl.post(req)
    a = ack_of(rl.reply(body, resp)) if st == 200 else None
    check(a is not None and sorted(a[0]) == [1011, 1012, 1014, 1015] and
          a[1] == [(1013, "bad_signature")],
          "forged measurement: REJECT_BAD_SIGNATURE for its seq (%r)" % (a,))
    acked.update(a[0] if a else [])

    # a forged envelope: 403, nothing stored
    req, _ = ag.request(ag.batch(items(3)), forge=True)
    st, _, resp = rl.post(req)
    check(st == 403 and b"signature" in resp,
          "forged request signature: 403 (%d %r)" % (st, resp[:80]))
    # signed by another key than the one it names
    other = Agent(unknown)
    req, _ = ag.request(ag.batch(items(1)), signer=other.sk)
    st, _, _ = rl.post(req)
    check(st == 403, "request signed by another key: 403 (%d)" % st)
    # unknown and disabled agents: 403
    req, _ = other.request(other.hello())
    st, _, resp = rl.post(req)
    check(st == 403 and b"not enrolled" in resp,
          "unknown agent: 403 (%d %r)" % (st, resp[:60]))
    dis = Agent(disabled)
    req, _ = dis.request(dis.batch([dis.measurement(1)]))
    st, _, resp = rl.post(req)
    check(st == 403 and b"disabled" in resp,
          "disabled agent: 403 (%d %r)" % (st, resp[:60]))

    # garbage: 400 with a one-line reason
    # (wire type 7 at the first byte: never a protobuf message)
    for what, data in [("text", b"GET / HTTP/1.0\r\n" * 20),
                       ("an empty body", b""),
                       ("body not a RelayBody", f_len(1, b"\xff\xff") +
                        f_len(2, bytes(64))),
                       ("no boot_id", f_len(1, f_len(1, ag.pk) +
                                            f_int(3, 5) + f_len(4, b"x")) +
                        f_len(2, bytes(64)))]:
        st, h, resp = rl.post(data)
        check(st == 400 and h.get("Content-Type", "").startswith(
            "text/plain") and resp.count(b"\n") == 1,
            "garbage (%s): 400, one line (%d %r)" % (what, st, resp[:70]))
    # a garbage Uplink inside a good envelope: the ingest's reject
    req, body = ag.request(b"\x0a\xff")
    st, _, resp = rl.post(req)
    dl = rl.reply(body, resp) if st == 200 else {}
    check(3 in dl, "garbage Uplink in a signed request: 200 with a "
          "standalone reject (%d)" % st)

    # wrong path and method
    st, _, _ = rl.post(b"", path="/")
    check(st == 404, "POST /: 404 (%d)" % st)
    st, h, _ = rl.post(None, method="GET")
    check(st == 405 and h.get("Allow") == "POST",
          "GET /ingest/v1: 405, Allow: POST (%d)" % st)

    # oversize: refused from the header, before any of the body is sent
    # (none is: unread bytes would make the server's close a reset that
    # can discard the answer before it is read)
    c = socket.create_connection((rl.host, rl.port), timeout=10)
    if rl.tls:
        c = rl.ctx.wrap_socket(c, server_hostname=rl.host)
    c.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n"
               "Content-Type: application/octet-stream\r\n\r\n" %
               rl.path).encode())
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            b = c.recv(4096)
            if not b:
                break
            head += b
    except OSError:
        pass
    c.close()
    check(head.startswith(b"HTTP/1.1 413"),
          "50 MB announced, none sent: 413 at once (%r)" % head[:40])

    # a slow client: half a request head, then silence; cut by the
    # server's timeout ([relay] timeout = 2s here), the daemon serves on
    c = socket.create_connection((rl.host, rl.port), timeout=20)
    if rl.tls:
        c = rl.ctx.wrap_socket(c, server_hostname=rl.host)
    c.sendall(b"POST /ingest/v1 HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    try:
        cut = c.recv(100) == b""
    except OSError:
        cut = True
    took = time.time() - t0
    c.close()
    check(cut and took < 15, "slow client: cut after %.1f s" % took)
    req, body = ag.request(ag.heartbeat())
    st, _, resp = rl.post(req)
    check(st == 200, "after the slow client: served (%d)" % st)

    # the rate limit, on an agent of its own: 429 with Retry-After
    lim = Agent(limited)
    codes, retry = [], None
    for _ in range(40):
        req, body = lim.request(lim.heartbeat())
        st, h, _ = rl.post(req)
        codes.append(st)
        retry = h.get("Retry-After", retry)
    check(codes.count(200) >= 1 and codes.count(429) >= 1 and
          set(codes) <= {200, 429} and retry is not None,
          "40 requests at once: 200 then 429 with Retry-After (%d ok, %d "
          "limited, Retry-After %s)" % (codes.count(200), codes.count(429),
                                        retry))
    return acked


def deliver(url, apub, cafile, seed, n, ackfile):
    rl = Relay(url, apub, cafile)
    ag = Agent(seed)
    pending = list(range(1, n + 1))
    bodies = {}
    deadline = time.time() + 150
    hello = True
    with open(ackfile, "a") as af:
        while pending and time.time() < deadline:
            if hello:
                up = ag.hello()
            else:
                chunk = pending[:50]
                for s in chunk:
                    if s not in bodies:
                        bodies[s] = ag.measurement(s)
                up = ag.batch([bodies[s] for s in chunk])
            req, body = ag.request(up)
            try:
                st, _, resp = rl.post(req)
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if st != 200:
                if st not in (503, 429):
                    print("FAIL deliver: status %d %r" % (st, resp[:80]))
                    return 1
                time.sleep(0.2)
                continue
            dl = rl.reply(body, resp)
            if hello:
                hello = False
                continue
            a = ack_of(dl)
            if a is None:
                continue
            for s in a[0]:
                af.write("%d\n" % s)
            af.flush()
            done = set(a[0])
            if any(r != "storage" for _, r in a[1]):
                print("FAIL deliver: rejects %r" % a[1])
                return 1
            pending = [s for s in pending if s not in done]
    if pending:
        print("FAIL deliver: %d not acknowledged in time" % len(pending))
        return 1
    print("ok   deliver: all %d acknowledged" % n)
    return 0


def main():
    if sys.argv[1] == "pubkey":
        print(Agent(sys.argv[2]).pk.hex())
        return 0
    if sys.argv[1] == "cases":
        acked = cases(*sys.argv[2:9])
        print("acked=%d" % len(acked))
        return 1 if fails else 0
    if sys.argv[1] == "deliver":
        a = sys.argv[2:]
        return deliver(a[0], a[1], a[2], a[3], int(a[4]), a[5])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
