#!/usr/bin/python3
"""check.py BASE BINDIR DATADIR TMPDIR — asks every endpoint of the HTTP
API (docs/API.md) of a running aggregator whose store holds the agents'
measurements of http.sh, and compares with zondctl reading the same store.
Prints ok/FAIL lines; exit 1 on any failure."""
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

BASE, BIN, DATA, TMP = sys.argv[1:5]
U = urllib.parse.urlparse(BASE)
fails = 0


def check(cond, what, detail=""):
    global fails
    if cond:
        print("ok   " + what)
    else:
        fails += 1
        print("FAIL " + what + (": " + str(detail)[:600] if detail else ""))


def req(path, method="GET", headers=None):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=60)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def get_json(path):
    st, h, b = req(path)
    assert st == 200, (path, st, b[:300])
    assert h["content-type"] == "application/json", (path, h)
    assert h.get("cache-control") == "no-store", (path, h)
    return json.loads(b)


def zondctl(*args):
    return subprocess.run([BIN + "/zondctl"] + list(args), check=True,
                          capture_output=True).stdout


# the analyzer judges in rounds: wait until the map counts everything
import time
for _ in range(100):
    if get_json("/api/v1/map?since=2020-01-01T00:00:00Z")["pending"] == 0:
        break
    time.sleep(0.2)
check(get_json("/api/v1/map?since=2020-01-01T00:00:00Z")["pending"] == 0,
      "map: every measurement judged (pending 0)")

# the whole dataset, as zondctl exports it
exp_jsonl = zondctl("export", "--data", DATA, "--format", "jsonl").decode()
recs = [json.loads(l) for l in exp_jsonl.splitlines()]
check(len(recs) == 72, "zondctl export has 72 records", len(recs))
by_id = {r["id"]: r for r in recs}
SINCE, UNTIL = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
starts = sorted(r["start"] for r in recs)
lo, hi = starts[0][:13] + ":00:00Z", "2099-01-01T00:00:00Z"

# ---------------------------------------------------------------- map
try:
    m = get_json("/api/v1/map?since=%s&until=%s" % (lo, hi))
    assert {"since", "until", "cells", "regions"} <= set(m), m.keys()
    ck = {"region", "asn", "service", "verdict", "method", "measurements",
          "agents", "blocked_share", "confidence", "targets",
          "agent_anomaly", "agent_anomalies"}
    assert m["cells"] and all(ck <= set(c) for c in m["cells"]), m["cells"]
    tk = {"target", "test", "verdict", "method", "measurements", "agents",
          "agent_anomaly"}
    assert all(tk <= set(t) for c in m["cells"] for t in c["targets"])
    assert all({"region", "service", "verdict", "agents", "asns",
                "asns_blocked", "blocked_asns", "agent_anomaly"} <= set(r)
               for r in m["regions"])
    cells = {(c["region"], c["asn"], c["service"]): c for c in m["cells"]}
    assert cells[("RU-MOW", 64501, "web")]["verdict"] == "ok", cells
    assert cells[("RU-SPE", 64502, "closed")]["verdict"] == "down", cells
    assert not any(k[0] == "DE-BE" for k in cells), "control in the map"
    # the aggregator's [analysis] thresholds (min_agents = 1: one probe
    # agent per cell here), as the API applies them
    ref = json.loads(zondctl("-c", TMP + "/agg.conf", "map", "--data", DATA,
                             "--json", "--since", lo, "--until", hi))
    assert ref == m, (ref, m)
    probes = [r for r in recs if r["role"] == "probe"]
    # the whole services (a part cell "S/calls" counts its sub-rows again)
    assert sum(c["measurements"] for c in m["cells"]
               if "/" not in c["service"]) == len(probes) == 48
    check(True, "map: keys of INTERFACES.md, verdicts, equals zondctl map --json")
except Exception as e:  # noqa: BLE001
    check(False, "map", repr(e))
try:
    # the state now (METHODOLOGY.md §3.9): each agent's latest sample, as
    # zondctl map --sample latest judges it; common is the default
    m = get_json("/api/v1/map?sample=latest&since=%s&until=%s" % (lo, hi))
    ref = json.loads(zondctl("-c", TMP + "/agg.conf", "map", "--data", DATA,
                             "--json", "--since", lo, "--until", hi,
                             "--sample", "latest"))
    assert ref == m and m["cells"], (ref, m)
    assert get_json("/api/v1/map?sample=common&since=%s&until=%s" % (lo, hi)) == \
        get_json("/api/v1/map?since=%s&until=%s" % (lo, hi))
    r = subprocess.run([BIN + "/zondctl", "map", "--data", DATA, "--sample", "now"],
                       capture_output=True)
    assert r.returncode == 2 and b"--sample: 'now' is not common or latest" in r.stderr, r
    check(True, "map: sample=latest equals zondctl map --sample latest; common is the default")
except Exception as e:  # noqa: BLE001
    check(False, "map sample", repr(e))
try:
    # one region's cells and rows; the region rows alone (cells=none)
    full = get_json("/api/v1/map?sample=latest&since=%s&until=%s" % (lo, hi))
    spe = get_json("/api/v1/map?sample=latest&region=RU-SPE&since=%s&until=%s"
                   % (lo, hi))
    assert spe["cells"] == [c for c in full["cells"]
                            if c["region"] == "RU-SPE"] and spe["cells"], spe
    assert spe["regions"] == [r for r in full["regions"]
                              if r["region"] == "RU-SPE"] and spe["regions"]
    assert spe["pending"] == full["pending"]
    rows = get_json("/api/v1/map?sample=latest&cells=none&since=%s&until=%s"
                    % (lo, hi))
    assert rows["cells"] == [] and rows["regions"] == full["regions"], rows
    assert get_json("/api/v1/map?cells=all&since=%s&until=%s" % (lo, hi)) == \
        get_json("/api/v1/map?since=%s&until=%s" % (lo, hi))
    none = get_json("/api/v1/map?region=RU-KDA&since=%s&until=%s" % (lo, hi))
    assert none["cells"] == [] and none["regions"] == [], none
    check(True, "map: region filter (its cells and rows); cells=none: the "
          "region rows alone")
except Exception as e:  # noqa: BLE001
    check(False, "map region and cells", repr(e))
try:
    m = get_json("/api/v1/map?service=web&since=%s&until=%s" % (lo, hi))
    assert m["cells"] and {c["service"] for c in m["cells"]} == {"web"}, m
    m = get_json("/api/v1/map")
    assert {"since", "until", "cells", "regions"} <= set(m)
    assert m["cells"], "default range (last 24 h) holds the run"
    check(True, "map: service filter and the default range")
except Exception as e:  # noqa: BLE001
    check(False, "map filters", repr(e))

# docs/DATA.md's `method` values, in its order
METHODS = ["dns", "tcp", "tls", "http", "udp", "quic", "throttle", "freeze",
           "proto"]

# ------------------------------------------- calls, messaging and where
try:
    m = get_json("/api/v1/map?since=%s&until=%s" % (lo, hi))
    cells = {(c["region"], c["asn"], c["service"]): c for c in m["cells"]}
    regs = {(r["region"], r["service"]): r for r in m["regions"]}
    # closed has a stun row (calls) and a tcp row (messaging): its parts
    # are cells and region rows of their own, and the whole names them
    k = ("RU-SPE", 64502)
    calls, msg = cells[k + ("closed/calls",)], cells[k + ("closed/messaging",)]
    assert [t["test"] for t in calls["targets"]] == ["stun"], calls
    assert [t["test"] for t in msg["targets"]] == ["tcp"], msg
    assert calls["verdict"] == "down" and msg["verdict"] == "down", (calls, msg)
    assert cells[k + ("closed",)]["facets"] == {"calls": "down",
                                                "messaging": "down"}
    assert regs[("RU-SPE", "closed")]["facets"] == {"calls": "down",
                                                   "messaging": "down"}
    assert regs[("RU-SPE", "closed/calls")]["verdict"] == "down"
    # web has no call test: no parts, no facets
    assert not any(s.startswith("web/") for _, _, s in cells), cells.keys()
    assert "facets" not in cells[("RU-MOW", 64501, "web")]
    # where only on blocked or throttled cells and regions with a blocked
    # ASN (none here)
    assert not any("where" in c for c in m["cells"]), m["cells"]
    assert not any("where" in r for r in m["regions"]), m["regions"]
    # a region row's method is what most of its cells show (null when
    # none shows one) and its confidence their mean (the matrix view)
    for (rg, sv), r in regs.items():
        cs = [c for (cr, _, cv), c in cells.items() if (cr, cv) == (rg, sv)]
        ms = [c["method"] for c in cs if c["method"]]
        # ties: the first in docs/DATA.md's list of methods
        want = max(sorted(set(ms), key=METHODS.index),
                   key=ms.count) if ms else None
        assert r["method"] == want, (r, ms)
        mean = sum(c["confidence"] for c in cs) / len(cs)
        assert abs(r["confidence"] - mean) <= 0.002, (r, mean)
    m = get_json("/api/v1/map?service=closed/calls&since=%s&until=%s" %
                 (lo, hi))
    assert m["cells"] and {c["service"] for c in m["cells"]} == \
        {"closed/calls"}, m
    assert {r["service"] for r in m["regions"]} == {"closed/calls"}, m
    d = get_json("/api/v1/measurements?limit=1000&service=closed/calls"
                 "&since=" + SINCE)
    want = {i for i, r in by_id.items() if r["service"] == "closed" and
            r["test"] == "stun"}
    assert len(want) == 18 and {r["id"] for r in d["items"]} == want, d
    d = get_json("/api/v1/timeseries?service=closed/messaging&since=" + lo)
    assert sum(b["measurements"] for b in d["buckets"]) == 18, d
    st, h, b = req("/api/v1/export?format=jsonl&service=closed/calls")
    got = [json.loads(l) for l in b.decode().splitlines()]
    assert st == 200 and {r["id"] for r in got} == want, st
    d = get_json("/api/v1/events?service=closed/calls&since=" + lo)
    assert d["events"] and all(e["service"] == "closed/calls" and
                               e["to"] == "down" for e in d["events"]), d
    for q in ("/api/v1/map?service=closed/video",
              "/api/v1/measurements?service=/calls"):
        st, h, b = req(q)
        assert st == 400 and b"/calls or /messaging" in b, (q, st, b)
    check(True, "calls and messaging: part cells and regions, facets, "
          "S/calls and S/messaging filters on map, measurements, "
          "timeseries, events, export; bad parts refused; where only with "
          "a block")
except Exception as e:  # noqa: BLE001
    check(False, "calls and messaging", repr(e))

# ------------------------------------------------------- measurements
try:
    seen, pages, cur = [], 0, None
    while True:
        q = "/api/v1/measurements?limit=7&since=" + SINCE
        if cur:
            q += "&cursor=" + cur
        d = get_json(q)
        assert set(d) == {"items", "next_cursor"}, d.keys()
        assert len(d["items"]) <= 7
        seen += d["items"]
        pages += 1
        cur = d["next_cursor"]
        if cur is None:
            break
        assert pages < 50, "cursor does not advance"
    ids = [r["id"] for r in seen]
    assert len(ids) == len(set(ids)), "a record came twice"
    assert set(ids) == set(by_id), (len(ids), len(by_id))
    assert ids == sorted(ids, reverse=True), "not newest first"
    assert all(r == by_id[r["id"]] for r in seen), \
        [(r, by_id[r["id"]]) for r in seen if r != by_id[r["id"]]][:1]
    check(pages == 11, "measurements: 72 records in 11 pages of 7, each "
          "once, newest first, equal to the export records", pages)
    d = get_json("/api/v1/measurements?limit=1000&since=%s&region=RU-SPE"
                 "&service=closed" % SINCE)
    want = {i for i, r in by_id.items() if r["region"] == "RU-SPE" and
            r["service"] == "closed"}
    assert {r["id"] for r in d["items"]} == want and d["next_cursor"] is None
    d = get_json("/api/v1/measurements?asn=64999&role=control&since=" + SINCE)
    assert len(d["items"]) == 24 and all(r["role"] == "control"
                                         for r in d["items"])
    d = get_json("/api/v1/measurements")
    assert len(d["items"]) == 72, "default range (last 24 h)"
    check(True, "measurements: region, service, asn, role filters")
except Exception as e:  # noqa: BLE001
    check(False, "measurements", repr(e))

# ---------------------------------------------------------- timeseries
try:
    d = get_json("/api/v1/timeseries?since=%s&grain=hour" % lo)
    keys = {"start", "measurements", "ok", "blocked", "throttled", "down",
            "anomaly", "pending", "geoblocked", "filtered", "review"}
    assert {"since", "until", "grain", "buckets"} <= set(d)
    assert d["grain"] == "hour" and all(keys <= set(b) for b in d["buckets"])
    total = sum(b["measurements"] for b in d["buckets"])
    assert total == 72, total
    assert all(b["measurements"] == sum(b[k] for k in keys - {"start",
               "measurements"}) for b in d["buckets"])
    nok = sum(b["ok"] for b in d["buckets"])
    assert nok == sum(r["verdict"] == "ok" for r in recs), nok
    nd = sum(b["down"] for b in d["buckets"])
    assert nd == sum(r["verdict"] == "down" for r in recs), nd
    d = get_json("/api/v1/timeseries?grain=day&region=RU-MOW&asn=64501"
                 "&service=web")
    assert d["grain"] == "day"
    want = sum(r["region"] == "RU-MOW" and r["service"] == "web" for r in recs)
    assert sum(b["measurements"] for b in d["buckets"]) == want == 12, want
    check(True, "timeseries: hour and day buckets add up to the export's "
          "counts per verdict; filters")
except Exception as e:  # noqa: BLE001
    check(False, "timeseries", repr(e))

# -------------------------------------------------------------- agents
try:
    d = get_json("/api/v1/agents")
    ag = {a["name"]: a for a in d["agents"]}
    assert set(ag) == {"a1", "a2", "a3"}, ag.keys()
    keys = {"agent", "name", "region", "asn", "role", "state", "last_seen",
            "backlog", "dropped", "version", "stored", "rejected"}
    assert all(keys <= set(a) for a in ag.values())
    assert (ag["a1"]["region"], ag["a1"]["asn"], ag["a1"]["role"]) == \
        ("RU-MOW", 64501, "probe")
    assert ag["a2"]["role"] == "control" and ag["a3"]["region"] == "RU-SPE"
    assert all(a["stored"] == 24 and a["state"] == "online" and
               a["last_seen"] and a["rejected"] == 0 for a in ag.values()), ag
    assert not any("ip" in k.lower() or "addr" in k.lower()
                   for a in ag.values() for k in a), "an address key"
    check(True, "agents: the three enrolled agents with their figures")
except Exception as e:  # noqa: BLE001
    check(False, "agents", repr(e))

# -------------------------------------------------------------- events
try:
    d = get_json("/api/v1/events?since=" + lo)
    assert {"since", "until", "events"} <= set(d)
    evk = {"time", "region", "asn", "service", "from", "to", "method"}
    assert all(evk <= set(e) for e in d["events"])
    ev = {(e["region"], e["asn"], e["service"]): e for e in d["events"]}
    # a cell's first judgement to ok is not news: left out by default
    assert ("RU-MOW", 64501, "web") not in ev, d
    # a first judgement to another state is, marked first
    assert ev[("RU-SPE", 64502, "closed")]["to"] == "down", d
    assert ev[("RU-SPE", 64502, "closed")]["first"] is True, d
    assert get_json("/api/v1/events?first=news&since=" + lo)["events"] == \
        d["events"], d
    d = get_json("/api/v1/events?first=all&since=" + lo)
    ev = {(e["region"], e["asn"], e["service"]): e for e in d["events"]}
    assert ev[("RU-MOW", 64501, "web")]["to"] == "ok", d
    assert ev[("RU-MOW", 64501, "web")]["from"] == "insufficient", d
    assert ev[("RU-MOW", 64501, "web")]["first"] is True, d
    assert all(e.get("first") is (True if e["from"] == "insufficient"
                                  else None) for e in d["events"]), d
    d = get_json("/api/v1/events?first=none&since=" + lo)
    assert all(e["from"] != "insufficient" and "first" not in e
               for e in d["events"]), d
    d = get_json("/api/v1/events?region=RU-SPE&since=" + lo)
    assert d["events"] and all(e["region"] == "RU-SPE" for e in d["events"])
    check(True, "events: first judgements marked, to ok left out unless "
          "first=all; first=none; region filter")
except Exception as e:  # noqa: BLE001
    check(False, "events", repr(e))

# ------------------------------------------------------------- history
try:
    hist = get_json("/api/v1/history?service=web&since=" + lo)
    assert {"since", "until", "service", "buckets"} <= set(hist), hist
    assert hist["service"] == "web"
    keys = ["start", "cells", "ok", "blocked", "throttled", "down",
            "geoblocked", "filtered", "review", "whitelist", "shutdown"]
    assert all(list(b) == keys for b in hist["buckets"]), hist
    assert all(b["cells"] == sum(b[k] for k in keys[2:])
               for b in hist["buckets"]), hist
    # every hour of the range listed, one hour apart
    starts = [b["start"] for b in hist["buckets"]]
    assert len(starts) == len(set(starts)) and starts == sorted(starts)
    # the hour now: as many web cells per state as the map of that hour
    now_h = hist["buckets"][-1]
    m = get_json("/api/v1/map?service=web&since=" + now_h["start"])
    mc = [c for c in m["cells"] if c["service"] == "web" and
          c["verdict"] != "insufficient"]
    assert now_h["cells"] == len(mc) > 0, (now_h, mc)
    assert now_h["ok"] == sum(c["verdict"] == "ok" for c in mc), (now_h, mc)
    down = get_json("/api/v1/history?service=closed&since=" + lo)
    assert sum(b["down"] for b in down["buckets"]) >= 1, down
    spe = get_json("/api/v1/history?service=closed&region=RU-SPE&asn=64502"
                   "&since=" + lo)
    assert sum(b["down"] for b in spe["buckets"]) >= 1 and all(
        b["cells"] <= 1 for b in spe["buckets"]), spe
    none = get_json("/api/v1/history?service=closed&region=RU-KDA&since=" + lo)
    assert all(b["cells"] == 0 for b in none["buckets"]), none
    wk = get_json("/api/v1/history?service=web")
    assert 168 <= len(wk["buckets"]) <= 169, len(wk["buckets"])
    check(True, "history: hourly cell states of a service, as the map of "
          "the hour; region and asn filters; 7 days by default")
except Exception as e:  # noqa: BLE001
    check(False, "history", repr(e))

# -------------------------------------------------------------- export
try:
    st, h, b = req("/api/v1/export?format=jsonl")
    assert st == 200 and h["content-type"] == "application/x-ndjson", h
    assert h.get("cache-control") == "no-store"
    assert b.decode().splitlines() == exp_jsonl.splitlines(), "differs"
    check(True, "export jsonl equals zondctl export line for line")
    st, h, b = req("/api/v1/export?format=csv&region=RU-MOW&service=web")
    ref = zondctl("export", "--data", DATA, "--format", "csv", "--region",
                  "RU-MOW", "--service", "web").decode()
    lines = b.decode().splitlines()
    assert st == 200 and h["content-type"].startswith("text/csv"), h
    assert lines[0].startswith("id,agent,seq,start,region,asn,role,")
    assert lines == ref.splitlines() and len(lines) == 13, len(lines)
    st, h, b = req("/api/v1/export?format=jsonl&asn=64502&since=" + SINCE)
    assert len(b.decode().splitlines()) == 24
    st, h, b = req("/api/v1/export?format=jsonl", "HEAD")
    assert st == 200 and b == b"" and "x-ndjson" in h["content-type"]
    check(True, "export csv has the header and equals zondctl; filters; HEAD")
except Exception as e:  # noqa: BLE001
    check(False, "export", repr(e))

# ------------------------------------------------------------ map cache
def metric(name):
    st, h, b = req("/metrics")
    for l in b.decode().splitlines():
        if l.startswith(name + " "):
            return float(l.split()[1])
    return None


try:
    # the same request of the same hour is answered from the cache, with
    # its own range (whatever the analyzer does meanwhile: a kept map is
    # made again in the background, http.sh)
    hit = 'zond_http_map_cache_total{result="hit"}'
    miss = 'zond_http_map_cache_total{result="miss"}'
    q = "/api/v1/map?sample=latest&service=web&since="
    h0, m0 = metric(hit), metric(miss)
    a = get_json(q + lo)
    b1 = get_json(q + lo)
    assert metric(miss) == m0 + 1 and metric(hit) == h0 + 1, \
        (h0, m0, metric(hit), metric(miss))
    assert a == b1, (a, b1)
    # another since in the same hour: the same cells, its own range
    lo2 = lo[:14] + "01:00Z"
    c2 = get_json(q + lo2)
    assert c2["cells"] == a["cells"] and c2["regions"] == a["regions"]
    assert c2["since"] == lo2, (c2["since"], lo2)
    # what zondctl makes of the store is what the cached answer says
    ref = json.loads(zondctl("-c", TMP + "/agg.conf", "map", "--data", DATA,
                             "--json", "--since", lo, "--until", hi,
                             "--sample", "latest", "--service", "web"))
    cached = get_json(q + lo + "&until=" + hi)
    again = get_json(q + lo + "&until=" + hi)
    assert ref == cached == again, (ref, cached)
    check(True, "map cache: a repeated map is a hit, the same document with "
          "the request's own range, equal to zondctl's")
except Exception as e:  # noqa: BLE001
    check(False, "map cache", repr(e))

# ------------------------------------------------------------- metrics
try:
    st, h, b = req("/metrics")
    assert st == 200 and h["content-type"].startswith("text/plain"), h
    line = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*='
                      r'"[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? '
                      r'-?[0-9.e+]+$')
    val = {}
    for l in b.decode().splitlines():
        if l.startswith("# HELP ") or l.startswith("# TYPE "):
            continue
        assert line.match(l), l
        k, v = l.rsplit(" ", 1)
        val[k] = float(v)
    assert val["zond_measurements_stored_total"] == 72, val
    assert val["zond_http_requests_total"] > 0
    assert val["zond_ingest_received_total"] >= 72
    assert val['zond_agents{state="online"}'] == 3
    assert 'zond_ingest_rejected_total{reason="bad_signature"}' in val or \
        any(k.startswith("zond_ingest_rejected_total{") for k in val)
    check(True, "metrics: Prometheus text, counters > 0")
except Exception as e:  # noqa: BLE001
    check(False, "metrics", repr(e))

# ------------------------------------------------------- bad requests
bad = [
    ("/api/v1/map?since=yesterday", "since", "yesterday"),
    ("/api/v1/map?until=2026-13-01", "until", "2026-13-01"),
    ("/api/v1/map?since=2026-01-02&until=2026-01-01", "until", "2026-01-01"),
    ("/api/v1/map?colour=red", "colour", ""),
    ("/api/v1/map?service=a%20b", "service", "a b"),
    ("/api/v1/map?service=web&service=x", "service", ""),
    ("/api/v1/map?since=", "since", ""),
    ("/api/v1/map?sample=newest", "sample", "newest"),
    ("/api/v1/timeseries?grain=week", "grain", "week"),
    ("/api/v1/timeseries?asn=abc", "asn", "abc"),
    ("/api/v1/timeseries?asn=0", "asn", "'0'"),
    ("/api/v1/timeseries?asn=-5", "asn", "-5"),
    ("/api/v1/timeseries?asn=99999999999", "asn", "99999999999"),
    ("/api/v1/timeseries?since=2020-01-01&until=2026-01-01", "until", ""),
    ("/api/v1/measurements?limit=0", "limit", "'0'"),
    ("/api/v1/measurements?limit=1001", "limit", "1001"),
    ("/api/v1/measurements?limit=ten", "limit", "ten"),
    ("/api/v1/measurements?cursor=zz", "cursor", "zz"),
    ("/api/v1/measurements?region=moscow", "region", "moscow"),
    ("/api/v1/measurements?role=admin", "role", "admin"),
    ("/api/v1/events?since=2020-01-01&until=2026-01-01", "until", ""),
    ("/api/v1/events?bogus=1", "bogus", ""),
    ("/api/v1/events?first=some", "first", "some"),
    ("/api/v1/map?cells=some", "cells", "some"),
    ("/api/v1/map?region=moscow", "region", "moscow"),
    ("/api/v1/history?since=" + "2026-01-01", "service", "required"),
    ("/api/v1/history?service=web&since=2020-01-01&until=2026-01-01",
     "until", "366 days"),
    ("/api/v1/history?service=web&asn=x", "asn", "x"),
    ("/api/v1/history?service=web&role=probe", "role", ""),
    ("/api/v1/export?format=xml", "format", "xml"),
    ("/api/v1/export?format=jsonl&asn=x1", "asn", "x1"),
    ("/api/v1/agents?all=1", "all", ""),
    ("/metrics?x=1", "x", ""),
]
for path, param, value in bad:
    st, h, b = req(path)
    try:
        msg = json.loads(b)["error"]
    except Exception:  # noqa: BLE001
        msg = None
    check(st == 400 and h.get("content-type") == "application/json" and
          h.get("cache-control") == "no-store" and msg is not None and
          param in msg and value in msg,
          "400 naming the parameter: " + path, (st, b[:200]))

for path in ["/api/v1/nope", "/api/v2/map", "/nope.html", "/api/v1/map/x",
             "/index.php"]:
    st, h, b = req(path)
    check(st == 404 and "error" in json.loads(b), "404: " + path, st)
for path in ["/../CMakeLists.txt", "/..%2fCMakeLists.txt",
             "/%2e%2e/%2e%2e/etc/passwd", "/..", "/.hidden.html",
             "/dashboards/../index.html", "//etc/passwd",
             "/..%5c..%5cREADME.md", "/....//index.html",
             "/index.html/../../README.md", "/sub/../../secret.txt",
             "/sub%2f..%2f..%2fsecret.txt", "/sub/inner.html", "/link.txt",
             "/sub/../index.html"]:
    st, h, b = req(path)
    check(st == 404 and b"root:" not in b and b"cmake" not in b and
          b"secret" not in b,
          "path traversal refused: " + path, (st, b[:100]))
for meth, path in [("POST", "/api/v1/map"), ("PUT", "/"),
                   ("DELETE", "/metrics"), ("PATCH", "/api/v1/agents")]:
    st, h, b = req(path, meth)
    check(st == 405 and "GET" in h.get("allow", "") and
          "error" in json.loads(b), "405: %s %s" % (meth, path), st)

# ----------------------------------------------------------- dashboard
for path, ctype, needle in [("/", "text/html", b"<html"),
                            ("/index.html", "text/html", b"<html"),
                            ("/app.js", "text/javascript", b"/api/v1/map"),
                            ("/style.css", "text/css", b"{")]:
    st, h, b = req(path)
    check(st == 200 and h["content-type"].startswith(ctype) and
          h.get("cache-control") == "no-store" and needle in b,
          "dashboard %s served as %s" % (path, ctype), (st, h))
st, h, b = req("/api/v1/map", "HEAD")
check(st == 200 and b == b"" and h["content-type"] == "application/json",
      "HEAD on the map: headers, no body")

# --------------------------------------------------------------- edges
# (issue 15 item 5) NUL bytes, oversized requests, HEAD of the export,
# out-of-range times, idle sockets and the log of refused connections.
import socket


def json_error(st, h, b, status):
    """The API's error shape: status, JSON body, its headers."""
    try:
        msg = json.loads(b)["error"]
    except Exception:  # noqa: BLE001
        return None
    ok = (st == status and h.get("content-type") == "application/json" and
          h.get("cache-control") == "no-store")
    return msg if ok else None


def raw(data, timeout=10):
    """Send bytes on a fresh connection; the status line's code and the
    rest of the answer (until the server closes or timeout)."""
    s = socket.create_connection((U.hostname, U.port), timeout=timeout)
    s.sendall(data)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
            if b"\r\n\r\n" in got and b"Content-Length: " in got:
                head, body = got.split(b"\r\n\r\n", 1)
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                if len(body) >= n:
                    break
    except OSError:
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return (int(m.group(1)) if m else None), got


# (issue 15 item 9) docs/API.md and the server agree: events take up to
# 366 days; the map's since/until carry no fraction, as its example shows
st, h, b = req("/api/v1/events?since=2025-01-01T00:00:00Z"
               "&until=2026-01-02T00:00:00Z")
check(st == 200, "events: a range of 366 days", (st, b[:200]))
st, h, b = req("/api/v1/events?since=2025-01-01T00:00:00Z"
               "&until=2026-01-02T01:00:00Z")
check(st == 400 and b"366 days" in b, "events: 366 days and an hour is 400",
      (st, b[:200]))
api_md = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "..", "..", "docs", "API.md")).read()
iso_s = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
m = get_json("/api/v1/map")
doc_map = re.search(r"### GET /api/v1/map.*?```json\n(.*?)```", api_md,
                    re.S).group(1)
doc_times = re.findall(r'"(?:since|until)": "([^"]*)"', doc_map)
check(all(re.fullmatch(iso_s, t) for t in [m["since"], m["until"]] +
          doc_times) and len(doc_times) == 2 and
      "`until` (at most 366 days" in api_md and "31 days" not in api_md,
      "API.md: the map example's times and the events range as served",
      (m["since"], doc_times))

# an idle socket opened now must be closed by the server long before the
# old 60 s (checked at the end, so the wait overlaps the other checks)
idle_probe = socket.create_connection((U.hostname, U.port), timeout=60)
idle_opened = time.monotonic()

for path, param in [("/api/v1/measurements?region=RU%00", "region"),
                    ("/api/v1/measurements?region=RU%00XX", "region"),
                    ("/api/v1/map?service=web%00x", "service"),
                    ("/api/v1/map?since=2026-01-01%00junk", "since"),
                    ("/api/v1/map?service%00=web", "service"),
                    ("/api/v1/export?format=csv%00", "format")]:
    st, h, b = req(path)
    msg = json_error(st, h, b, 400)
    check(msg is not None and param in msg and "NUL" in msg,
          "400 for a NUL in a query: " + path, (st, b[:200]))
# short values with a bad character are refused (q_token stops at the
# first bad byte instead of reading on past the value)
for path, param in [("/api/v1/measurements?region=r", "region"),
                    ("/api/v1/map?service=%21", "service")]:
    st, h, b = req(path)
    msg = json_error(st, h, b, 400)
    check(msg is not None and param in msg,
          "400 for a short bad token: " + path, (st, b[:200]))
for path in ["/app.js%00.html", "/index.html%00", "/api/v1/agents%00",
             "/%00", "/style.css%00.js?x=1"]:
    st, h, b = req(path)
    msg = json_error(st, h, b, 400)
    check(msg is not None and "NUL" in msg and b"/api/v1/map" not in b,
          "400 for a NUL in the path: " + path, (st, b[:200]))
code, got = raw(b"GET /app.js\x00.html HTTP/1.1\r\nHost: x\r\n"
                b"Connection: close\r\n\r\n")
check(code in (400, None) and b"/api/v1/map" not in got,
      "a raw NUL byte in the path does not serve app.js", got[:200])

for status, path, headers, what in [
        (414, "/api/v1/map?service=" + "a" * 9000, None,
         "a 9 KB request target"),
        (414, "/api/v1/map?service=" + "a" * 40000, None,
         "a 40 KB request target"),
        (431, "/api/v1/agents", {"X-Big": "b" * 48000},
         "48 KB of headers"),
        (431, "/api/v1/agents", {"X-H%d" % i: "h" * 900 for i in range(40)},
         "40 headers of 900 B")]:
    st, h, b = req(path, headers=headers)
    check(json_error(st, h, b, status) is not None,
          "%d with the JSON error for %s" % (status, what), (st, h, b[:200]))
st, h, b = req("/api/v1/map?service=" + "a" * 2000)
check(st == 400, "a 2 KB request target is read (400: a bad service)",
      (st, b[:200]))

for fmt, ext in [("jsonl", "jsonl"), ("csv", "csv")]:
    path = "/api/v1/export?format=%s&region=RU-MOW" % fmt
    st, hh, bh = req(path, "HEAD")
    sg, hg, bg = req(path)
    same = {k: hg.get(k) for k in ("content-type", "content-disposition",
                                    "cache-control",
                                    "x-content-type-options")}
    check(st == sg == 200 and bh == b"" and bg and
          all(hh.get(k) == v for k, v in same.items()) and
          "zond-export.%s" % ext in (hh.get("content-disposition") or "")
          and "content-length" not in hh and "content-length" not in hg,
          "HEAD %s: the GET headers (Content-Disposition), no "
          "Content-Length" % path, (hh, hg))

for ver in (b"1.1", b"1.0"):
    code, got = raw(b"HEAD /api/v1/export?format=csv HTTP/" + ver +
                    b"\r\nHost: x\r\n\r\n")
    head, _, rest = got.partition(b"\r\n\r\n")
    check(code == 200 and rest == b"" and b"Content-Disposition: attachment"
          in head and b"Content-Length" not in head,
          "HEAD of the export over HTTP/%s: headers only, nothing after them"
          % ver.decode(), got[:400])

for t in ["2026-01-01T12:00:60Z", "2026-01-01T12:00:60.5Z",
          "2026-01-01T12:00:99Z", "2026-01-01T24:00:00Z",
          "2026-01-01T12:60:00Z", "2026-01-01T12:00:60+00:00"]:
    st, h, b = req("/api/v1/map?since=" + urllib.parse.quote(t))
    msg = json_error(st, h, b, 400)
    check(msg is not None and "since" in msg and t in msg,
          "400 for an out-of-range time: " + t, (st, b[:200]))
st, h, b = req("/api/v1/map?since=2026-01-01T23:59:59.999Z")
check(st == 200, "23:59:59.999 is a time", (st, b[:200]))

# 40 idle connections (no request sent) do not lock other clients out
idle = []
try:
    for _ in range(40):
        idle.append(socket.create_connection((U.hostname, U.port),
                                             timeout=10))
    time.sleep(0.3)
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection(U.hostname, U.port, timeout=8)
        c.request("GET", "/api/v1/agents")
        r = c.getresponse()
        st = r.status
        r.read()
        c.close()
    except OSError as e:
        st = repr(e)
    check(st == 200, "a request answers beside 40 idle connections "
          "(%.1f s)" % (time.monotonic() - t0), st)
    # more than one address may hold: connections beyond it are refused,
    # and the log does not get a line for each
    for _ in range(60):
        try:
            idle.append(socket.create_connection((U.hostname, U.port),
                                                 timeout=10))
        except OSError:
            pass
    time.sleep(1.0)
    refused = 0
    for s in idle:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
        s.setblocking(True)
    log = open(TMP + "/agg.log", errors="replace").read()
    nlines = len(re.findall(r"connection limit", log))
    check(refused >= 20 and nlines <= 2,
          "100 connections from one address: %d refused, %d log lines"
          % (refused, nlines), log[-600:])
finally:
    for s in idle:
        s.close()
st = None
for _ in range(50):
    try:
        st, h, b = req("/api/v1/agents")
        break
    except OSError as e:
        st = repr(e)
        time.sleep(0.1)
check(st == 200, "requests answer again once the idle sockets are gone", st)

# the idle probe was closed by the server (no request within its timeout)
try:
    idle_probe.settimeout(max(1.0, 40 - (time.monotonic() - idle_opened)))
    closed = idle_probe.recv(1) == b""
except socket.timeout:
    closed = False
except OSError:
    closed = True
check(closed, "an idle connection is closed by the server (after %.1f s)"
      % (time.monotonic() - idle_opened))
idle_probe.close()
# the refused connections are counted in one later line, written 10 s
# after the first with the next request (or main loop tick)
summary = None
for _ in range(150):
    req("/metrics")
    log = open(TMP + "/agg.log", errors="replace").read()
    summary = re.search(r"http: (\d+) more like '[^']*connection limit", log)
    if summary:
        break
    time.sleep(0.2)
check(summary is not None and int(summary.group(1)) >= 19,
      "the suppressed log lines are counted in one line",
      summary.group(0) if summary else log[-600:])

print("check.py: %d failed" % fails)
sys.exit(1 if fails else 0)
