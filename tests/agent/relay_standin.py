#!/usr/bin/python3
"""relay_standin.py — a stand-in for the aggregator's HTTPS relay ingest
(docs/PROTOCOL.md §8), for the agent's relay tests.

It implements the wire contract, not the aggregator: it checks each
RelayRequest (agent key enrolled, the agent's signature over
"zond/relay/v1\\0" || body, boot_us strictly increasing per boot_id, the
Uplink inside, every measurement's signature) and answers HTTP 200 with a
RelayReply signed by the aggregator's identity over
"zond/relay-reply/v1\\0" || RelayReplyBody, binding the SHA-256 of the
request body to a Downlink (Ack with the seqs, or the time reply to a
Hello or Heartbeat).  It keeps the set of seqs it acknowledged ("stored")
and prints one line per event on stdout:
    port=N                      listening
    req kind=K mode=M n=N       a verified request (K: hello, heartbeat, batch)
    stored seq=N | dup seq=N    a measurement acknowledged (first / again)
    refused status=S why=...    a request refused with an HTTP error

MODE_FILE, read at every request, makes it misbehave like a hostile or
overloaded relay: ok | forge (reply signed by another key) | unsigned |
mismatch (the aggregator's signature, but for another request) | 429 |
503 | 403 | hostile (forge, unsigned, mismatch in turn, one per request)
| busy (429, 503, 413 in turn).  In every mode but ok nothing is acknowledged
as stored.

usage: relay_standin.py CERT KEY SERVER_SEED_FILE AGENT_PUB_HEX MODE_FILE
"""
import hashlib
import http.server
import os
import ssl
import sys
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

MAX_BODY = 2 * 1024 * 1024 + 8192


# ------------------------------------------------------------ protobuf

def varint(buf, i):
    v = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def fields(buf):
    """{field number: [values]}; varints as int, length-delimited as bytes."""
    out, i = {}, 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field %d" % num)
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def one(f, num, kind):
    v = f.get(num)
    if not v or not isinstance(v[-1], kind):
        raise ValueError("field %d missing" % num)
    return v[-1]


def enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def enc_int(num, v):
    return enc_varint(num << 3) + enc_varint(v)


def enc_bytes(num, b):
    return enc_varint(num << 3 | 2) + enc_varint(len(b)) + b


# ------------------------------------------------------------ server

def main():
    cert, key, seed_file, agent_hex, mode_file = sys.argv[1:6]
    seed = bytes.fromhex(open(seed_file).read().strip())
    server = Ed25519PrivateKey.from_private_bytes(seed)
    forger = Ed25519PrivateKey.generate()
    agent_pk = bytes.fromhex(agent_hex)
    agent = Ed25519PublicKey.from_public_bytes(agent_pk)
    last_boot = {}
    stored = set()
    turn = [0]
    cycles = {"hostile": ["forge", "unsigned", "mismatch"],
              "busy": ["429", "503", "413"]}

    def say(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def fail(self, status, why, extra=None):
            say("refused status=%d why=%s" % (status, why))
            body = (why + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            try:
                mode = open(mode_file).read().strip()
            except OSError:
                mode = "ok"
            if mode in cycles:
                mode = cycles[mode][turn[0] % len(cycles[mode])]
                turn[0] += 1
            n = int(self.headers.get("Content-Length", "0"))
            if n <= 0 or n > MAX_BODY:
                self.fail(413, "body of %d bytes" % n)
                return
            raw = self.rfile.read(n)
            if self.path != "/ingest/v1":
                self.fail(404, "no such path " + self.path)
                return
            if mode in ("429", "503", "403", "413"):
                self.fail(int(mode), "mode " + mode,
                          {"Retry-After": "1"} if mode == "429" else None)
                return
            try:
                rq = fields(raw)
                body, sig = one(rq, 1, bytes), one(rq, 2, bytes)
                rb = fields(body)
                if one(rb, 1, bytes) != agent_pk:
                    self.fail(403, "unknown agent")
                    return
                try:
                    agent.verify(sig, b"zond/relay/v1\0" + body)
                except InvalidSignature:
                    self.fail(403, "bad request signature")
                    return
                boot_id, boot_us = one(rb, 2, bytes), one(rb, 3, int)
                if boot_us <= last_boot.get(boot_id, -1):
                    self.fail(409, "replay boot_us=%d" % boot_us)
                    return
                last_boot[boot_id] = boot_us
                up = fields(one(rb, 4, bytes))
                if one(up, 1, int) != 1:
                    self.fail(400, "version")
                    return
                seqs = []
                if 2 in up:
                    kind = "hello"
                elif 3 in up:
                    kind = "heartbeat"
                elif 4 in up:
                    kind = "batch"
                    for item in fields(up[4][-1]).get(1, []):
                        sm = fields(item)
                        mb, ms = one(sm, 1, bytes), one(sm, 2, bytes)
                        agent.verify(ms, b"zond/measurement/v1\0" + mb)
                        seqs.append(one(fields(mb), 2, int))
                else:
                    self.fail(400, "no message in the uplink")
                    return
            except (ValueError, InvalidSignature) as e:
                self.fail(400, "malformed: %s" % e)
                return
            say("req kind=%s mode=%s n=%d" % (kind, mode, len(seqs)))
            if mode == "ok":
                for s in seqs:
                    say("%s seq=%d" % ("dup" if s in stored else "stored", s))
                    stored.add(s)
            dl = enc_int(1, 1)
            if seqs:
                packed = b"".join(enc_varint(s) for s in seqs)
                dl += enc_bytes(2, enc_bytes(1, packed))
            dl += enc_int(6, int(time.time() * 1e6))
            h = hashlib.sha256(body).digest()
            if mode == "mismatch":
                h = hashlib.sha256(body + b"x").digest()
            rbody = enc_bytes(1, h) + enc_bytes(2, dl)
            signer = forger if mode == "forge" else server
            reply = enc_bytes(1, rbody)
            if mode != "unsigned":
                reply += enc_bytes(2, signer.sign(
                    b"zond/relay-reply/v1\0" + rbody))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    say("port=%d" % httpd.server_address[1])
    httpd.serve_forever()


if __name__ == "__main__":
    os.umask(0o077)
    main()
