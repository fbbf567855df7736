#!/usr/bin/python3
"""hostile.py — an agent written from docs/PROTOCOL.md alone (its own
protobuf encoder, PyNaCl, pyzmq), that tries what a hostile or broken agent
would, against a real zond-aggregator, and checks each answer against the
document.

  hostile.py pubkey SEEDHEX
      print the agent's Ed25519 public key (to enroll it)
  hostile.py run ENDPOINT SERVER_PUB_FILE SEEDHEX ZONDCTL DATA_DIR
      run every case; prints "ok ..." / "FAIL ..." lines, exits 1 on any
      failure.  Last, compares export counts (zondctl export, several
      ranges) with what the aggregator acknowledged.

Every wait is bounded; nothing depends on speed.
"""
import calendar
import json
import os
import subprocess
import sys
import time

import nacl.bindings as nb
import nacl.signing
import zmq
import zmq.utils.z85

PREFIX = b"zond/measurement/v1\x00"
MAX_FRAME = 1048576
SKEW_MS = 60000
SLICE_US = 6 * 3600 * 10**6

REASONS = {1: "bad_signature", 2: "unknown_agent", 3: "disabled_agent",
           4: "malformed", 5: "oversized", 6: "version", 7: "clock",
           8: "agent_mismatch", 9: "storage", 10: "duplicate_id"}

# ------------------------------------------------------------ protobuf


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fv(num, n):
    return varint(num << 3) + varint(n)


def fb(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b


def parse(buf):
    """[(num, wiretype, value)] of one message."""
    out, i = [], 0
    while i < len(buf):
        tag, i = rd_varint(buf, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = rd_varint(buf, i)
        elif wt == 2:
            n, i = rd_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def iso_us(s):
    """microseconds of an export time, "YYYY-MM-DDTHH:MM:SS.fffZ\""""
    t = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
    return t * 10**6 + int(s[20:23]) * 1000


def rd_varint(buf, i):
    x = sh = 0
    while True:
        c = buf[i]
        i += 1
        x |= (c & 0x7F) << sh
        sh += 7
        if not c & 0x80:
            return x, i


def downlink(frame):
    """('ack', [seqs], [(seq|None, reason)]) or ('reject', None, [...])"""
    f = parse(frame)
    for num, wt, v in f:
        if num == 2:
            seqs, rej = [], []
            for n2, w2, v2 in parse(v):
                if n2 == 1 and w2 == 2:
                    j = 0
                    while j < len(v2):
                        s, j = rd_varint(v2, j)
                        seqs.append(s)
                elif n2 == 1:
                    seqs.append(v2)
                elif n2 == 2:
                    rej.append(reject(v2))
            return ("ack", seqs, rej)
        if num == 3:
            return ("reject", None, [reject(v)])
    return ("other", None, [])


def reject(v):
    seq = reason = None
    detail = ""
    for n, _, x in parse(v):
        if n == 1:
            seq = x
        elif n == 2:
            reason = REASONS.get(x, str(x))
        elif n == 3:
            detail = x.decode(errors="replace")
    return (seq, reason, detail)

# ------------------------------------------------------------ agent


class Agent:
    def __init__(self, seedhex):
        self.sk = nacl.signing.SigningKey(bytes.fromhex(seedhex))
        self.pk = bytes(self.sk.verify_key)
        self.rand = 0

    def new_id(self, ms):
        self.rand += 1
        return ms.to_bytes(6, "big") + os.urandom(6) + \
            self.rand.to_bytes(4, "big")

    def body(self, seq, start_us, id_ms=None, drop=(), target=None,
             detail=None, test=2, id_len=16, ident=None, extra=b""):
        """A TCP measurement; drop names fields to leave out."""
        if id_ms is None:
            id_ms = start_us // 1000
        ident = ident if ident is not None else self.new_id(id_ms)
        ident = (ident + bytes(2))[:id_len]
        fields = [
            (1, fb(1, ident)), (2, fv(2, seq)), (3, fb(3, self.pk)),
            (4, fv(4, start_us)), (5, fv(5, 1500)), (6, fb(6, "hostile")),
            (7, fv(7, test)),
            (8, fb(8, target if target is not None else "192.0.2.7:443")),
            (9, fb(9, "whatsapp")),
        ]
        out = fv(1, 0) + fv(3, 1)
        if detail is not None:
            out += fb(2, detail)
        out += fb(11, fb(1, "192.0.2.7:443") + fv(2, 20000))
        fields.append((11, fb(11, out)))
        return b"".join(v for k, v in fields if k not in drop) + extra

    def item(self, body, sig=None):
        if sig is None:
            sig = self.sk.sign(PREFIX + body).signature
        return fb(1, fb(1, body) + fb(2, sig))

    def frame(self, items, pad=0):
        """Uplink{version 1, batch}; pad adds an unknown field (99) so the
        frame has exactly pad bytes when pad > 0."""
        f = fv(1, 1) + fb(4, b"".join(items))
        if pad:
            need = pad - len(f)
            for hdr in range(3, 8):
                n = need - hdr
                if len(fb(99, bytes(n))) == need:
                    f += fb(99, bytes(n))
                    break
            assert len(f) == pad, (len(f), pad)
        return f


class Conn:
    def __init__(self, ctx, ep, server_pub_hex, agent):
        s = ctx.socket(zmq.DEALER)
        cpk = nb.crypto_sign_ed25519_pk_to_curve25519(agent.pk)
        csk = nb.crypto_sign_ed25519_sk_to_curve25519(
            bytes(agent.sk) + agent.pk)
        spk = nb.crypto_sign_ed25519_pk_to_curve25519(
            bytes.fromhex(server_pub_hex))
        s.curve_publickey = zmq.utils.z85.encode(cpk)
        s.curve_secretkey = zmq.utils.z85.encode(csk)
        s.curve_serverkey = zmq.utils.z85.encode(spk)
        s.linger = 0
        s.connect(ep)
        self.s = s

    def send(self, frame):
        self.s.send(frame)

    def recv(self, timeout=15):
        if self.s.poll(timeout * 1000) == 0:
            return None
        return downlink(self.s.recv())

    def recv_raw(self, timeout=15):
        if self.s.poll(timeout * 1000) == 0:
            return None
        return parse(self.s.recv())

    def close(self):
        self.s.close(0)


# ------------------------------------------------------------ the cases

fails = 0


def ok(what):
    print("ok   " + what, flush=True)


def bad(what):
    global fails
    fails += 1
    print("FAIL " + what, flush=True)


def check(cond, what):
    (ok if cond else bad)(what)


def run(ep, spub_file, seedhex, zondctl, data):
    ctx = zmq.Context()
    a = Agent(seedhex)
    spub = open(spub_file).read().strip()
    c = Conn(ctx, ep, spub, a)
    now = time.time_ns() // 1000
    acked = {}          # seq -> start_us of every acknowledged measurement
    seq = [100]

    def nseq():
        seq[0] += 1
        return seq[0]

    def one(body, what, want, sig=None):
        """send one item; want: 'ack' or a reject reason (named seq)"""
        s = rd_seq(body)
        c.send(a.frame([a.item(body, sig)]))
        r = c.recv()
        if r is None:
            return bad(what + ": no answer")
        kind, seqs, rej = r
        if want == "ack":
            if kind == "ack" and seqs == [s] and not rej:
                acked[s] = start_of(body)
                return ok(what + ": acknowledged")
            return bad("%s: wanted an ack of seq %d, got %r" %
                       (what, s, r))
        if kind == "ack" and not seqs and len(rej) == 1 and \
                rej[0][0] == s and rej[0][1] == want:
            return ok("%s: %s naming seq %d (%s)" %
                      (what, want, s, rej[0][2]))
        return bad("%s: wanted %s naming seq %d, got %r" %
                   (what, want, s, r))

    # 6: a hostile version string must not forge log lines
    hello = fb(1, "1.0\nFORGED: info: state=disabled\x1b[2J") + \
        fv(2, now) + fv(3, 0)
    c.send(fv(1, 1) + fb(2, hello))

    # 1: ids must carry the start time (PROTOCOL.md "Ids")
    one(a.body(nseq(), now, ident=bytes(16)), "id 00..00 with start now",
        "malformed")
    one(a.body(nseq(), now, id_ms=now // 1000 + SKEW_MS + 1000),
        "id time 61 s after start", "malformed")
    one(a.body(nseq(), now, id_ms=now // 1000 - SKEW_MS - 1000),
        "id time 61 s before start", "malformed")
    # adversarial but valid: ids at the edge of the skew, starts at slice
    # boundaries, at the edges of the clock window
    edge = (now // SLICE_US) * SLICE_US
    for start, idms, what in [
            (now, now // 1000 + SKEW_MS - 1, "id 59.999 s after start"),
            (now, now // 1000 - SKEW_MS + 1, "id 59.999 s before start"),
            (edge - 1000, (edge - 1000) // 1000 + SKEW_MS - 1,
             "start 1 ms before a slice boundary, id a minute after"),
            (edge, edge // 1000 - SKEW_MS + 1,
             "start on a slice boundary, id a minute before"),
            (now - 13 * 86400 * 10**6, None, "start 13 days old"),
            (now - 13 * 86400 * 10**6 + 1, (now - 13 * 86400 * 10**6)
             // 1000 - SKEW_MS + 1, "13 days old, id a minute earlier"),
            (now + 50 * 60 * 10**6, None, "start 50 min ahead"),
            (now + 50 * 60 * 10**6, now // 1000 + 50 * 60 * 1000 +
             SKEW_MS - 1, "50 min ahead, id a minute later")]:
        one(a.body(nseq(), start, id_ms=idms), what, "ack")

    # 8: absurd starts are clock rejects, not undefined behaviour
    one(a.body(nseq(), -(1 << 63), id_ms=0), "start INT64_MIN", "clock")
    one(a.body(nseq(), (1 << 63) - 1, id_ms=0), "start INT64_MAX", "clock")

    # 9: a Pi without a clock (PROTOCOL.md "Clock").  A Hello with a boot
    # gets a time reply (server_us and no message); measurements taken
    # before the agent knew the time (ClockCheck.unverified) are placed by
    # that boot's anchor, and the clock window applies to the placed
    # start; ones that cannot be placed keep their signed start.
    boot, other_boot = os.urandom(16), os.urandom(16)
    hb_boot_us = 400000 * 10**6         # the boot is 4.6 days old
    c.send(fv(1, 1) + fb(2, fv(2, now - 3 * 86400 * 10**6) + fv(3, 0) +
                         fb(7, boot) + fv(8, hb_boot_us)))
    r = c.recv_raw()
    srv = [v for n, _, v in (r or []) if n == 6]
    check(r is not None and [n for n, _, _ in r] == [1, 6] and srv and
          abs(srv[0] - time.time_ns() // 1000) < 10 * 10**6,
          "a Hello with a boot gets a time reply: server_us, no message")

    def clocked(start, unverified, bid, boot_us):
        return a.body(nseq(), start, extra=fb(15, fv(1, unverified) +
                                              fb(3, bid) + fv(4, boot_us)))
    ten_min = 600 * 10**6
    one(clocked(now + 2 * 3600 * 10**6 - ten_min, 1, boot,
                hb_boot_us - ten_min),
        "unverified, wall clock 2 h ahead, placed by its boot", "ack")
    one(clocked(now - 20 * 86400 * 10**6 - ten_min, 1, boot,
                hb_boot_us - ten_min),
        "unverified, wall clock 20 days behind, placed by its boot", "ack")
    one(clocked(now + 2 * 3600 * 10**6, 1, other_boot, hb_boot_us),
        "unverified, 2 h ahead, of another boot (cannot be placed)",
        "clock")
    one(clocked(now - 20 * 86400 * 10**6, 1, other_boot, hb_boot_us),
        "unverified, 20 days behind, of another boot", "clock")
    one(clocked(now - 3600 * 10**6, 1, other_boot, hb_boot_us),
        "unverified, of another boot, 1 h old (stored as signed)", "ack")
    one(clocked(now + 2 * 3600 * 10**6, 0, boot, hb_boot_us),
        "verified (the agent's own correction), 2 h ahead", "clock")
    one(clocked(now + 2 * 3600 * 10**6, 1, boot, (1 << 64) - 1),
        "unverified, boot time 2^64-1 (absurd)", "clock")

    # 3: malformed items are named by their seq whenever it can be read
    good = a.body(nseq(), now)
    sig = a.sk.sign(PREFIX + good).signature
    one(good, "signature of 63 bytes", "malformed", sig=sig[:63])
    one(a.body(nseq(), now), "signature of 65 bytes", "malformed",
        sig=sig + b"x")
    for f, what in [(7, "test"), (11, "outcome"), (1, "id"), (3, "agent"),
                    (4, "start_us")]:
        one(a.body(nseq(), now, drop=(f,)), "no " + what, "malformed")
    one(a.body(nseq(), now, test=0), "test 0", "malformed")
    one(a.body(nseq(), now, id_len=15), "id of 15 bytes", "malformed")
    one(a.body(nseq(), now, id_len=17), "id of 17 bytes", "malformed")
    one(a.body(nseq(), now, extra=b"\x0a\x05ab"),
        "body truncated after its seq", "malformed")
    # 7: text must be UTF-8 without NUL, so exports can carry it exactly
    one(a.body(nseq(), now, target='a"b\n\\c\x00d'), "NUL in target",
        "malformed")
    one(a.body(nseq(), now, detail=b"caf\xe9"),
        "invalid UTF-8 in outcome.detail", "malformed")
    one(a.body(nseq(), now, target='a"b\n\\c\u00e9\U0001F600'),
        "quotes, newline, backslash and non-ASCII in target", "ack")
    # a body that is no protobuf at all cannot be named
    c.send(a.frame([a.item(b"\xff\xff\xff")]))
    r = c.recv()
    check(r is not None and r[0] == "ack" and not r[1] and
          len(r[2]) == 1 and r[2][0][0] is None and
          r[2][0][1] == "malformed",
          "a body that is no protobuf: malformed, unnamed (%r)" % (r,))

    # 8: one seq twice in a batch is answered once
    s1 = nseq()
    b1 = a.body(s1, now)
    c.send(a.frame([a.item(b1), a.item(b1)]))
    r = c.recv()
    check(r is not None and r[0] == "ack" and r[1] == [s1] and not r[2],
          "the same item twice in a batch: its seq acknowledged once (%r)"
          % (r,))
    acked[s1] = now
    # a stored id under a new seq: refused with its own reason
    ident = a.new_id(now // 1000)
    s2 = nseq()
    one(a.body(s2, now, ident=ident), "a new id", "ack")
    one(a.body(nseq(), now, ident=ident), "that id again under a new seq",
        "duplicate_id")
    one(a.body(s2, now, ident=ident), "the first again (a resend)", "ack")

    # 2: frame sizes
    s3 = nseq()
    c.send(a.frame([a.item(a.body(s3, now))], pad=MAX_FRAME))
    r = c.recv()
    check(r is not None and r[0] == "ack" and r[1] == [s3],
          "a frame of exactly 1,048,576 bytes is served (%r)" %
          ((r[0], r[1]) if r else None,))
    acked[s3] = now
    s4 = nseq()
    c.send(a.frame([a.item(a.body(s4, now))], pad=MAX_FRAME + 1))
    r = c.recv()
    check(r is not None and r[0] == "reject" and r[2][0][1] ==
          "oversized" and r[2][0][0] is None,
          "a frame of 1,048,577 bytes: REJECT_OVERSIZED for the frame (%r)"
          % (r,))
    c.close()

    # exports hold every stored measurement of their range
    time.sleep(0.5)

    def export_count(*args):
        p = subprocess.run([zondctl, "export", "--data", data, "--format",
                            "jsonl"] + list(args), capture_output=True,
                           check=False)
        if p.returncode != 0:
            bad("zondctl export %s: %s" % (args, p.stderr.decode()))
            return -1
        return len(p.stdout.splitlines())

    def iso(us):
        t = time.gmtime(us // 10**6)
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + \
            ".%03dZ" % (us // 1000 % 1000)

    print("acked_total=%d" % len(acked), flush=True)
    n = export_count()
    check(n == len(acked), "zondctl export holds all %d acknowledged "
          "measurements (exported %d)" % (len(acked), n))
    # the placements of section 9, as the export shows them
    p = subprocess.run([zondctl, "export", "--data", data, "--format",
                        "jsonl"], capture_output=True, check=False)
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    by = sorted((r["time_by"], r["seq"]) for r in recs
                if r["time_by"] != "signed")
    placed = {r["seq"]: r for r in recs if r["time_by"] == "boot"}
    check([b for b, _ in by] == ["boot", "boot", "unplaced"] and
          all(abs(iso_us(r["time"]) - (now - ten_min)) < 20 * 10**6
              for r in placed.values()),
          "export: 2 placed by their boot ten minutes before the Hello, "
          "1 unplaced (%r)" % by)
    for lo, hi in [(edge - 1000, edge), (edge, edge + 1000),
                   (now - 14 * 86400 * 10**6, now - 86400 * 10**6),
                   (now - 1000, now + 3600 * 10**6),
                   (edge - SLICE_US, edge + SLICE_US)]:
        lo -= lo % 1000
        hi -= hi % 1000
        want = sum(1 for s in acked.values() if lo <= s < hi)
        got = export_count("--since", iso(lo), "--until", iso(hi))
        check(got == want, "export [%s, %s): %d of %d" %
              (iso(lo), iso(hi), got, want))
    # the daily bundles share the code
    import gzip
    import glob
    import tempfile
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([zondctl, "export", "--data", data, "--daily",
                            out], capture_output=True, check=False)
        n = sum(len(gzip.open(f).read().splitlines())
                for f in glob.glob(out + "/*.jsonl.gz"))
        check(p.returncode == 0 and n == len(acked),
              "daily bundles hold all %d (%d, exit %d)" %
              (len(acked), n, p.returncode))
    return fails


def rd_seq(body):
    for n, wt, v in parse(body):
        if n == 2 and wt == 0:
            return v
    return None


def start_of(body):
    for n, wt, v in parse(body):
        if n == 4 and wt == 0:
            return v - (1 << 64) if v >= 1 << 63 else v
    return None


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "pubkey":
        print(bytes(nacl.signing.SigningKey(bytes.fromhex(sys.argv[2]))
                    .verify_key).hex())
        return 0
    if len(sys.argv) == 7 and sys.argv[1] == "run":
        return 1 if run(*sys.argv[2:]) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
