#!/usr/bin/python3
"""labtool.py - small servers and clients for the zond-censor lab tests.

Each subcommand is one server (runs until killed) or one client (prints
one result line and exits 0; the test script judges the line).  Only the
standard library, so Debian's /usr/bin/python3 runs it as is.

Servers:  tls-server PORT CERT KEY    TLS; "GET n" -> n bytes, then close
          http-server PORT            HTTP; answers "real site" for any Host
          dns-server PORT ANSWER      DNS; A = ANSWER for every name
          udp-echo PORT               echoes each datagram
          udp-count PORT FILE         writes the datagram count to FILE
          tcp-bulk PORT BYTES         sends BYTES to each client, then close
Clients:  tls-hello IP PORT SNI       -> ok | reset | timeout | eof | error
          tls-rate IP PORT SNI BYTES SECS -> bytes=N secs=S kbps=R
          http-get IP PORT HOST       -> the body, or reset/timeout
          dns-query IP NAME WINDOW    -> one "resp ..." line per answer
          udp-probe IP PORT SHAPE SIZE -> reply | timeout
          udp-blast IP PORT COUNT     -> sent=COUNT
          tcp-get IP PORT SECS        -> bytes=N done=0|1
"""
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time


def serve_forever(sock, handler):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def listen_tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    return s


def tls_server(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s = listen_tcp(port)

    def handle(conn):
        try:
            conn.settimeout(30)
            t = ctx.wrap_socket(conn, server_side=True)
            line = b""
            while not line.endswith(b"\n") and len(line) < 100:
                d = t.recv(100)
                if not d:
                    break
                line += d
            if line.startswith(b"GET "):
                n = int(line.split()[1])
                chunk = b"z" * 16384
                while n > 0:
                    k = min(n, len(chunk))
                    t.sendall(chunk[:k])
                    n -= k
            t.close()
        except Exception:
            conn.close()

    serve_forever(s, handle)


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_hello(ip, port, sni):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((ip, port))
        t = client_ctx().wrap_socket(s, server_hostname=sni)
        t.sendall(b"GET 10\n")
        d = t.recv(100)
        print("ok" if d else "eof")
    except (ConnectionResetError, ConnectionRefusedError):
        print("reset")
    except (socket.timeout, TimeoutError):
        print("timeout")
    except ssl.SSLEOFError:
        print("eof")
    except Exception as e:
        print("error", type(e).__name__, e)


def tls_rate(ip, port, sni, nbytes, secs):
    s = socket.create_connection((ip, port), timeout=5)
    t = client_ctx().wrap_socket(s, server_hostname=sni)
    t.sendall(b"GET %d\n" % nbytes)
    got = 0
    start = time.monotonic()
    t.settimeout(1)
    while got < nbytes and time.monotonic() - start < secs:
        try:
            d = t.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        if not d:
            break
        got += len(d)
    el = max(time.monotonic() - start, 1e-6)
    print("bytes=%d secs=%.2f kbps=%d" % (got, el, got * 8 / el / 1000))


def http_server(port):
    s = listen_tcp(port)
    body = b"<html><body>real site</body></html>\n"

    def handle(conn):
        try:
            conn.settimeout(5)
            req = b""
            while b"\r\n\r\n" not in req and len(req) < 8192:
                d = conn.recv(4096)
                if not d:
                    break
                req += d
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(body), body))
        except Exception:
            pass
        conn.close()

    serve_forever(s, handle)


def http_get(ip, port, host):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((ip, port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: labtool\r\n"
                  b"Connection: close\r\n\r\n" % host.encode())
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        print(data.decode("utf-8", "replace"))
    except ConnectionResetError:
        print("reset")
    except (socket.timeout, TimeoutError):
        print("timeout")


def dns_name(msg, off):
    labels = []
    while msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1


def dns_server(port, answer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    addr = socket.inet_aton(answer)
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        _, qend = dns_name(q, 12)
        qend += 4
        qtype = struct.unpack("!H", q[qend - 4:qend - 2])[0]
        hdr = q[:2] + b"\x81\x80" + struct.pack("!HHHH", 1,
                                                1 if qtype == 1 else 0, 0, 0)
        r = hdr + q[12:qend]
        if qtype == 1:
            r += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + addr
        s.sendto(r, peer)


def dns_query(ip, name, window):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", 1, 1)
    s.sendto(q, (ip, 53))
    end = time.monotonic() + window
    n = 0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            r, _ = s.recvfrom(4096)
        except (socket.timeout, TimeoutError):
            break
        if len(r) < 12 or struct.unpack("!H", r[:2])[0] != qid:
            continue
        rcode = r[3] & 0xF
        an = struct.unpack("!H", r[6:8])[0]
        _, off = dns_name(r, 12)
        off += 4
        addrs = []
        for _ in range(an):
            if r[off] & 0xC0 == 0xC0:
                off += 2
            else:
                _, off = dns_name(r, off)
            typ, _, _, rdlen = struct.unpack("!HHIH", r[off:off + 10])
            off += 10
            if typ == 1 and rdlen == 4:
                addrs.append(socket.inet_ntoa(r[off:off + 4]))
            off += rdlen
        n += 1
        print("resp n=%d rcode=%d a=%s" % (n, rcode, ",".join(addrs) or "-"))
    print("responses=%d" % n)


def udp_echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        d, peer = s.recvfrom(65536)
        s.sendto(d[:64], peer)


def udp_count(port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    n = 0
    while True:
        s.recvfrom(65536)
        n += 1
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % n)
        os.rename(tmp, path)


def shaped(shape, size):
    rnd = random.Random(7)
    body = bytes(rnd.randrange(256) for _ in range(max(size, 16)))
    if shape == "quic1":      # long header, version 1
        p = b"\xc3\x00\x00\x00\x01" + body
    elif shape == "quic2":    # long header, version 2 (0x6b3343cf)
        p = b"\xc3\x6b\x33\x43\xcf" + body
    elif shape == "wg":       # handshake initiation
        p = b"\x01\x00\x00\x00" + body
    elif shape == "ovpn":     # HARD_RESET_CLIENT_V2, key 0, no ack
        p = bytes([7 << 3]) + body[:8] + b"\x00" + b"\x00\x00\x00\x00" + body
    else:                     # random, but not any shape above
        p = b"\x55" + body
    return p[:size]


def udp_probe(ip, port, shape, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    p = shaped(shape, size)
    for _ in range(2):
        s.sendto(p, (ip, port))
        try:
            s.recvfrom(65536)
            print("reply")
            return
        except (socket.timeout, TimeoutError):
            pass
    print("timeout")


def udp_blast(ip, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(b"x%d" % i, (ip, port))
        time.sleep(0.002)
    print("sent=%d" % count)


def udp_flow(ip, port, count, interval):
    """One UDP flow (one socket): count datagrams, one every interval
    seconds; prints how many got their echo, the number of the last that
    did and when (seconds after the first was sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))      # one source port: one flow
    s.setblocking(False)
    got, last, last_t = set(), 0, 0.0
    t0 = time.monotonic()

    def drain():
        nonlocal last, last_t
        while True:
            try:
                d = s.recv(65536)     # unconnected: the echo's source is the
            except (BlockingIOError, ConnectionRefusedError):   # server's own
                return
            if d.startswith(b"f"):
                n = int(d[1:].split(b" ")[0])
                got.add(n)
                if n > last:
                    last, last_t = n, time.monotonic() - t0
    for i in range(1, count + 1):
        s.sendto(b"f%d " % i + b"x" * 100, (ip, port))
        end = t0 + i * interval
        while time.monotonic() < end:
            drain()
            time.sleep(0.005)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    print("replies=%d last=%d at=%.1f" % (len(got), last, last_t))


def tcp_bulk(port, nbytes):
    s = listen_tcp(port)

    def handle(conn):
        try:
            conn.sendall(b"b" * nbytes)
        except Exception:
            pass
        conn.close()

    serve_forever(s, handle)


def tcp_get(ip, port, secs):
    try:
        s = socket.create_connection((ip, port), timeout=2)
    except ConnectionRefusedError:
        print("refused")
        return
    except (socket.timeout, TimeoutError):
        print("connect-timeout")
        return
    got = 0
    done = 0
    end = time.monotonic() + secs
    try:
        while time.monotonic() < end:
            s.settimeout(max(end - time.monotonic(), 0.01))
            d = s.recv(65536)
            if not d:
                done = 1
                break
            got += len(d)
    except (socket.timeout, TimeoutError):
        pass
    except ConnectionResetError:
        print("reset", end=" ")
    print("bytes=%d done=%d" % (got, done))


def main():
    a = sys.argv[1:]
    cmd = a[0]
    if cmd == "tls-server":
        tls_server(int(a[1]), a[2], a[3])
    elif cmd == "tls-hello":
        tls_hello(a[1], int(a[2]), a[3])
    elif cmd == "tls-rate":
        tls_rate(a[1], int(a[2]), a[3], int(a[4]), float(a[5]))
    elif cmd == "http-server":
        http_server(int(a[1]))
    elif cmd == "http-get":
        http_get(a[1], int(a[2]), a[3])
    elif cmd == "dns-server":
        dns_server(int(a[1]), a[2])
    elif cmd == "dns-query":
        dns_query(a[1], a[2], float(a[3]))
    elif cmd == "udp-echo":
        udp_echo(int(a[1]))
    elif cmd == "udp-count":
        udp_count(int(a[1]), a[2])
    elif cmd == "udp-probe":
        udp_probe(a[1], int(a[2]), a[3], int(a[4]))
    elif cmd == "udp-blast":
        udp_blast(a[1], int(a[2]), int(a[3]))
    elif cmd == "udp-flow":
        udp_flow(a[1], int(a[2]), int(a[3]), float(a[4]))
    elif cmd == "tcp-bulk":
        tcp_bulk(int(a[1]), int(a[2]))
    elif cmd == "tcp-get":
        tcp_get(a[1], int(a[2]), float(a[3]))
    else:
        sys.exit("labtool: unknown command " + cmd)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
