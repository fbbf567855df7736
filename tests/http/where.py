#!/usr/bin/python3
"""where.py — agents written from docs/PROTOCOL.md (tests/ingest/hostile.py's
encoder) that send localized blocked measurements to a real
zond-aggregator, then check the map's and the export's `where`
(docs/API.md, METHODOLOGY.md 3.7) over its HTTP API.

  where.py pubkey SEEDHEX
  where.py run ENDPOINT SERVER_PUB_FILE HTTP_BASE SEEDS...
      SEEDS: control, two probes of AS64501, two of AS64502 (where.sh
      enrolls them so).  Prints "ok ..." / "FAIL ..." lines, exits 1 on
      any failure.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "ingest"))
from hostile import Agent, Conn, fb, fv  # noqa: E402
import zmq  # noqa: E402

TARGET = "192.0.2.7:443"
fails = 0


def check(cond, what, detail=""):
    global fails
    if cond:
        print("ok   " + what, flush=True)
    else:
        fails += 1
        print("FAIL %s %s" % (what, detail), flush=True)


def locate(hop, addr, later):
    """Localization (PROTOCOL.md "Localization"): located at TTL hop, its
    address addr; later: the address answering the neutral datagram one
    TTL further."""
    hops = b""
    for ttl in range(1, hop + 2):
        h = fv(1, ttl) + fv(2, 2 if ttl <= hop else 1) + fv(3, 2)
        a = addr if ttl == hop else later if ttl == hop + 1 else \
            "10.9.0.%d" % ttl
        hops += fb(3, h + fb(4, a))
    return (fb(1, "syn") + fb(2, TARGET) + hops + fv(4, 1) +
            fb(5, "reaction_before_destination") + fv(6, hop) +
            fb(7, addr) + fv(8, 3) + fv(9, 2 * hop + 2) + fv(10, 90000) +
            fv(11, 16))


def body(a, seq, start_us, failure, loc):
    ident = a.new_id(start_us // 1000)
    out = fv(1, failure) + fv(3, 1) + fb(11, fb(1, TARGET))
    b = (fb(1, ident) + fv(2, seq) + fb(3, a.pk) + fv(4, start_us) +
         fv(5, 1500) + fb(6, "where-test") + fv(7, 2) + fb(8, TARGET) +
         fb(9, "whatsapp") + fb(11, out))
    return b + (fb(14, loc) if loc is not None else b"")


def send(ctx, ep, spub, seed, bodies):
    a = Agent(seed)
    c = Conn(ctx, ep, spub, a)
    now = time.time_ns() // 1000
    c.send(fv(1, 1) + fb(2, fb(1, "where-test") + fv(2, now) + fv(3, 0)))
    items = [a.item(b(a)) for b in bodies]
    c.send(a.frame(items))
    r = c.recv()
    c.close()
    return r is not None and r[0] == "ack" and len(r[1]) == len(items) \
        and not r[2], r


def get(base, path):
    return json.load(urllib.request.urlopen(base + path, timeout=10))


def run(ep, spub_file, base, seeds):
    ctx = zmq.Context()
    spub = open(spub_file).read().strip()
    now = time.time_ns() // 1000
    ctl, p1, p2, q1, q2 = seeds
    # the control reaches the target; AS64501's two probes time out with
    # the censor at their ISP's core (10.1.250.1, AS64501), AS64502's two
    # behind a private hop that a transit router (AS64900) follows
    # (unknown) and at the transit hop itself (upstream)
    plan = [
        (ctl, [lambda a, i=i: body(a, i + 1, now + i * 1000, 0, None)
               for i in range(3)]),
        (p1, [lambda a, i=i: body(a, i + 1, now + i * 1000, 1,
              locate(2, "10.1.250.1", "100.66.0.1")) for i in range(3)]),
        (p2, [lambda a, i=i: body(a, i + 1, now + i * 1000, 1,
              locate(2, "10.1.250.1", "100.66.0.1")) for i in range(3)]),
        (q1, [lambda a, i=i: body(a, i + 1, now + i * 1000, 1,
              locate(3, "192.168.7.1", "100.66.0.1")) for i in range(3)]),
        (q2, [lambda a, i=i: body(a, i + 1, now + i * 1000, 1,
              locate(4, "100.66.0.1", "198.51.100.1")) for i in range(3)]),
    ]
    for seed, bodies in plan:
        ok, r = send(ctx, ep, spub, seed, bodies)
        check(ok, "agent %s...: 3 measurements acknowledged" % seed[:6], r)
    m = None
    for _ in range(100):
        m = get(base, "/api/v1/map?since=2020-01-01T00:00:00Z&until="
                "2099-01-01T00:00:00Z")
        if len(m["cells"]) == 2 and m.get("pending") == 0 and \
                all(c["verdict"] == "blocked" for c in m["cells"]):
            break
        time.sleep(0.2)
    cells = {c["asn"]: c for c in m["cells"]}
    check(set(cells) == {64501, 64502} and
          all(c["verdict"] == "blocked" for c in cells.values()),
          "map: both ISPs' cells blocked", m)
    c = cells.get(64501, {})
    check(c.get("where") == "isp" and c.get("where_counts") ==
          {"isp": 6, "upstream": 0, "unknown": 0} and
          c.get("where_hops") == [{"hop": 2, "count": 6}],
          "map: the censor at the ISP's own router is where=isp, 6 at hop 2",
          c)
    c = cells.get(64502, {})
    check(c.get("where") == "upstream" and c.get("where_counts") ==
          {"isp": 0, "upstream": 3, "unknown": 3} and
          c.get("where_hops") == [{"hop": 3, "count": 3},
                                  {"hop": 4, "count": 3}],
          "map: a transit router is upstream, a private hop before transit "
          "unknown; hops 3 and 4", c)
    r = m["regions"][0] if m["regions"] else {}
    check(r.get("where") == "mixed" and r.get("verdict") == "blocked",
          "map: the region's blocked ISPs disagree: where=mixed", r)
    st = urllib.request.urlopen(base + "/api/v1/export?format=jsonl",
                                timeout=10).read().decode()
    recs = [json.loads(l) for l in st.splitlines()]
    probes = [x for x in recs if x["role"] == "probe"]
    check(len(recs) == 15 and len(probes) == 12 and
          sorted(x.get("where") for x in probes) ==
          ["isp"] * 6 + ["unknown"] * 3 + ["upstream"] * 3 and
          all("locate" in x and x["locate"]["result"] == "located"
              for x in probes) and
          not any("where" in x or "locate" in x for x in recs
                  if x["role"] == "control"),
          "export jsonl: each probe's locate and judged where",
          [(x["role"], x.get("where"), x.get("locate")) for x in recs][:2])
    asns = sorted((x.get("where"), x.get("censor_asn", 0)) for x in probes)
    check(asns == [("isp", 64501)] * 6 + [("unknown", 0)] * 3 +
          [("upstream", 64900)] * 3,
          "export jsonl: the censor hop's ASN beside where (none for the "
          "private hop)", asns)
    d = get(base, "/api/v1/measurements?limit=1000&since=2020-01-01T00:00:00Z")
    by = {x["id"]: x for x in recs}
    check(len(d["items"]) == 15 and all(x == by[x["id"]] for x in d["items"]),
          "measurements API: the same records, where included")
    # the agents' own refusals, per agent: one measurement with a broken
    # signature and one again with a good one from the control
    a = Agent(ctl)
    c = Conn(ctx, ep, spub, a)
    c.send(fv(1, 1) + fb(2, fb(1, "where-test") + fv(2, now) + fv(3, 0)))
    bad_sig = a.item(body(a, 10, now + 10000, 0, None), sig=bytes(64))
    good = a.item(body(a, 11, now + 11000, 0, None))
    c.send(a.frame([bad_sig, good]))
    r = c.recv()
    c.close()
    check(r is not None and r[0] == "ack" and len(r[1]) == 1 and
          len(r[2]) == 1, "a broken signature refused, the other stored", r)
    ag = {x["agent"]: x for x in get(base, "/api/v1/agents")["agents"]}
    check(ag.get(a.pk.hex(), {}).get("rejected") == 1 and
          sorted(x["rejected"] for x in ag.values()) == [0, 0, 0, 0, 1],
          "agents: rejected counts the control's one refusal, 0 for others",
          [(k[:8], x.get("rejected")) for k, x in ag.items()])
    return 1 if fails else 0


def main():
    if sys.argv[1] == "pubkey":
        print(Agent(sys.argv[2]).pk.hex())
        return 0
    return run(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:10])


if __name__ == "__main__":
    sys.exit(main())
