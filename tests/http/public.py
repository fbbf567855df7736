#!/usr/bin/python3
"""public.py — the public view and the operator token over HTTP
(docs/API.md "Public view and operator token"), against a real
zond-aggregator fed by agents written from docs/PROTOCOL.md
(tests/ingest/hostile.py's encoder).  public.sh starts it.

  public.py pubkey SEEDHEX
  public.py run ENDPOINT SERVER_PUB_FILE OPERATOR_BASE PUBLIC_BASE TOKEN SEEDS...
      SEEDS as public.sh enrolls them: a control (DE-BE), three probes of
      RU-MOW AS64501, two of RU-MOW AS64502, two of RU-SPE AS64503, one
      of RU-TA AS64504.  Prints "ok ..." / "FAIL ..." lines, exits 1 on
      any failure.
"""
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "ingest"))
from hostile import Agent, Conn, fb, fv  # noqa: E402
import zmq  # noqa: E402

TARGET = "192.0.2.7:443"
TG_TARGET = "192.0.2.8:443"
WIDE = time.strftime("since=%Y-%m-%dT00:00:00Z",
                     time.gmtime(time.time() - 86400)) + \
    time.strftime("&until=%Y-%m-%dT00:00:00Z", time.gmtime(time.time() +
                                                           2 * 86400))
HIDDEN = (64502, 64503, 64504)
KEY_RE = re.compile(r"[0-9a-fA-F]{64}")
HIDDEN_RE = re.compile(r"(?<![0-9])(64502|64503|64504)(?![0-9])")
fails = 0


def check(cond, what, detail=""):
    global fails
    if cond:
        print("ok   " + what, flush=True)
    else:
        fails += 1
        print("FAIL %s %s" % (what, str(detail)[:600]), flush=True)


def body(a, seq, start_us, failure, service="whatsapp", target=TARGET):
    ident = a.new_id(start_us // 1000)
    out = fv(1, failure) + fv(3, 1) + fb(11, fb(1, target))
    return (fb(1, ident) + fv(2, seq) + fb(3, a.pk) + fv(4, start_us) +
            fv(5, 1500) + fb(6, "public-test") + fv(7, 2) + fb(8, target) +
            fb(9, service) + fb(11, out))


def send(ctx, ep, spub, seed, failure, now, tg=None):
    """3 whatsapp measurements (failure: 0 reached, 1 timeout); tg not
    None: 3 telegram ones too with that failure."""
    a = Agent(seed)
    c = Conn(ctx, ep, spub, a)
    c.send(fv(1, 1) + fb(2, fb(1, "public-test") + fv(2, now) + fv(3, 0)))
    bodies = [body(a, i + 1, now + i * 1000, failure) for i in range(3)]
    if tg is not None:
        bodies += [body(a, i + 4, now + i * 1000 + 500, tg, "telegram",
                        TG_TARGET) for i in range(3)]
    items = [a.item(b) for b in bodies]
    c.send(a.frame(items))
    r = c.recv()
    c.close()
    return r is not None and r[0] == "ack" and len(r[1]) == len(items) \
        and not r[2], r


def req(base, path, token=None, auth=None, method="GET"):
    """(status, headers, text)."""
    r = urllib.request.Request(base + path, method=method)
    if token is not None:
        r.add_header("Authorization", "Bearer " + token)
    if auth is not None:
        r.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(r, timeout=30) as f:
            return f.status, f.headers, f.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def getj(base, path, token=None):
    s, _, t = req(base, path, token)
    if s != 200:
        raise RuntimeError("%s%s: %d %s" % (base, path, s, t))
    return json.loads(t)


def run(ep, spub_file, op, pub, token, seeds):
    ctx = zmq.Context()
    spub = open(spub_file).read().strip()
    now = time.time_ns() // 1000
    # whatsapp: the control reaches the target; every probe but RU-TA's
    # times out.  telegram: the control and two of AS64501 reach it, the
    # third times out (an agent anomaly: its key is in the operator's map)
    for i, seed in enumerate(seeds):
        tg = {0: 0, 1: 0, 2: 0, 3: 1}.get(i)
        ok, r = send(ctx, ep, spub, seed, 0 if i in (0, 8) else 1, now, tg)
        check(ok, "agent %d: its measurements acknowledged" % i, r)
    m = None
    for _ in range(150):
        m = getj(op, "/api/v1/map?" + WIDE, token)
        ev = getj(op, "/api/v1/events?" + WIDE, token)
        if len(m["cells"]) == 5 and m.get("pending") == 0 and \
                len(ev["events"]) >= 4:
            break
        time.sleep(0.2)
    cells = {(c["region"], c["asn"]): c for c in m["cells"]
             if c["service"] == "whatsapp"}
    tgc = [c for c in m["cells"] if c["service"] == "telegram"]
    check(len(tgc) == 1 and tgc[0]["agent_anomaly"] == 1 and
          KEY_RE.fullmatch(tgc[0]["agent_anomalies"][0]["agent"]) and
          tgc[0]["verdict"] == "ok",
          "operator map: telegram in AS64501 ok, one agent anomaly with "
          "its key", tgc)
    check(sorted(cells) == [("RU-MOW", 64501), ("RU-MOW", 64502),
                            ("RU-SPE", 64503), ("RU-TA", 64504)] and
          [cells[k]["verdict"] for k in sorted(cells)] ==
          ["blocked", "blocked", "blocked", "insufficient"],
          "operator map: the four cells (three blocked) with the token", m)
    check(all("agent_anomalies" in c for c in m["cells"]),
          "operator map: agent_anomalies lists are there", m["cells"][:1])
    check({(e["region"], e["asn"]) for e in ev["events"]} >=
          {("RU-MOW", 64501), ("RU-MOW", 64502), ("RU-SPE", 64503)},
          "operator events: the three blocked cells' events", ev)
    ag = getj(op, "/api/v1/agents", token)
    check(len(ag["agents"]) == 9 and all(KEY_RE.fullmatch(a["agent"])
                                         for a in ag["agents"]),
          "operator agents: nine rows with their keys")

    # ---------------------------------------------------- operator token
    s, h, t = req(op, "/api/v1/info")
    check(s == 200 and json.loads(t) == {
        "mode": "operator", "auth": True, "authorized": False,
        "min_agents": None, "version": json.loads(t).get("version")} and
        json.loads(t)["version"], "operator info without a token: auth "
        "true, authorized false", t)
    s, h, t = req(op, "/api/v1/info", token)
    check(s == 200 and json.loads(t)["authorized"] is True,
          "operator info with the token: authorized true", t)
    s, h, t = req(op, "/api/v1/info", "nope-nope-nope-nope")
    check(s == 200 and json.loads(t)["authorized"] is False,
          "operator info with a wrong token: authorized false", t)
    last = token[:-1] + ("0" if token[-1] != "0" else "1")
    wrong = [("no Authorization", None, None),
             ("a wrong token", None, "Bearer " + "f" * len(token)),
             ("the token but its last byte", None, "Bearer " + last),
             ("the token and one more byte", None, "Bearer " + token + "0"),
             ("the token less its last byte", None, "Bearer " + token[:-1]),
             ("the token as Basic", None, "Basic " + token),
             ("Bearer and nothing", None, "Bearer "),
             ("the token without a scheme", None, token)]
    paths = ["/api/v1/map", "/api/v1/events", "/api/v1/silences",
             "/api/v1/timeseries", "/api/v1/agents", "/api/v1/measurements",
             "/api/v1/export", "/metrics", "/api/v1/history",
             "/api/v1/nothing", "/api/v1/map?sample=bad"]
    for what, _, auth in wrong:
        bad = []
        for p in paths:
            for meth in ("GET", "HEAD"):
                s, h, t = req(op, p, auth=auth, method=meth)
                if s != 401 or not (h.get("WWW-Authenticate") or
                                    "").startswith("Bearer") or \
                        (meth == "GET" and "token" not in
                         json.loads(t)["error"]):
                    bad.append((meth, p, s, t[:80]))
        check(not bad, "operator: 401 with WWW-Authenticate: Bearer for "
              "every API path and /metrics, GET and HEAD, with " + what, bad)
    bad = []
    for p in paths[:8]:
        for meth in ("GET", "HEAD"):
            s, h, t = req(op, p + ("?format=csv" if "export" in p else ""),
                          token, method=meth)
            if s != 200:
                bad.append((meth, p, s, t[:80]))
    check(not bad, "operator: 200 with the token (GET and HEAD)", bad)
    s, _, t = req(op, "/api/v1/map", auth="bearer " + token)
    check(s == 200, "operator: the scheme name is case-insensitive", s)
    s, h, t = req(op, "/")
    check(s == 200 and "html" in h.get("Content-Type", ""),
          "operator: the dashboard page needs no token", s)
    for p, name in [("/api/v1/map?sample=bad", "sample"),
                    ("/api/v1/timeseries?grain=week", "grain"),
                    ("/api/v1/events?asn=AS1", "asn"),
                    ("/api/v1/info?x=1", "'x'")]:
        s, _, t = req(op, p, token)
        check(s == 400 and name in json.loads(t)["error"],
              "operator: %s is 400 naming %s" % (p, name), (s, t))

    # ------------------------------------------------------- public view
    s, _, t = req(pub, "/api/v1/info")
    i = json.loads(t)
    check(s == 200 and i["mode"] == "public" and i["auth"] is False and
          i["authorized"] is True and i["min_agents"] == 3 and
          i["version"] == json.loads(req(op, "/api/v1/info")[2])["version"],
          "public info: mode public, no auth, min_agents 3", t)
    for p in ("/api/v1/agents", "/api/v1/measurements", "/api/v1/export",
              "/metrics", "/api/v1/measurements?limit=1",
              "/api/v1/export?format=csv"):
        for meth in ("GET", "HEAD"):
            for tok in (None, token):
                s, _, t = req(pub, p, tok, method=meth)
                check(s == 403 and (meth == "HEAD" or json.loads(t) ==
                                    {"error": "not in the public view"}),
                      "public: %s %s is 403 not in the public view%s" %
                      (meth, p, " (with the token too)" if tok else ""),
                      (s, t))
    pm = getj(pub, "/api/v1/map?" + WIDE)
    check([(c["region"], c["asn"], c["service"], c["verdict"], c["agents"],
            c["agent_anomaly"]) for c in pm["cells"]] ==
          [("RU-MOW", 64501, "telegram", "ok", 3, 1),
           ("RU-MOW", 64501, "whatsapp", "blocked", 3, 0)],
          "public map: only the cells of 3 agents", pm["cells"])
    check(all("agent_anomalies" not in c for c in pm["cells"]) and
          all("agent_anomaly" in c for c in pm["cells"]),
          "public map: no agent_anomalies lists (counts stay)", pm["cells"])
    rows = {(r["region"], r["service"]): r for r in pm["regions"]}
    mow = rows.get(("RU-MOW", "whatsapp"), {})
    check(mow.get("agents") == 5 and mow.get("blocked_asns") == [64501] and
          mow.get("asns") == 2 and mow.get("asns_blocked") == 2 and
          mow.get("verdict") == "blocked",
          "public map: RU-MOW's row counts its hidden ISP but names only "
          "the shown one", mow)
    oth = rows.get(("other", "whatsapp"), {})
    check(oth.get("agents") == 3 and oth.get("blocked_asns") == [] and
          oth.get("verdict") == "blocked" and oth.get("asns") == 2,
          "public map: RU-SPE (2 agents) and RU-TA (1) merged into one row "
          "\"other\", naming no ASN", oth)
    check(sorted(rows) == [("RU-MOW", "telegram"), ("RU-MOW", "whatsapp"),
                           ("other", "whatsapp")],
          "public map: no row of a region of fewer than 3 agents",
          sorted(rows))
    pr = getj(pub, "/api/v1/map?cells=none&" + WIDE)
    check(pr["cells"] == [] and pr["regions"] == pm["regions"],
          "public map: cells=none gives the same region rows", pr)
    ps = getj(pub, "/api/v1/map?region=RU-SPE&" + WIDE)
    check(ps["cells"] == [] and ps["regions"] == [],
          "public map: a region of fewer than 3 agents shows nothing of "
          "its own (it is in \"other\")", ps)
    pw = getj(pub, "/api/v1/map?region=RU-MOW&" + WIDE)
    check(pw["cells"] == pm["cells"] and pw["regions"] == [
        r for r in pm["regions"] if r["region"] == "RU-MOW"],
        "public map: region=RU-MOW, its shown cells and rows", pw)
    pe = getj(pub, "/api/v1/events?first=all&" + WIDE)
    check(pe["events"] and all((e["region"], e["asn"]) == ("RU-MOW", 64501)
                               for e in pe["events"]),
          "public events: only the network of 3 agents", pe)

    # timeseries: probes only; filters of fewer than 3 agents refused
    def ts_total(base, q, tok=None):
        d = getj(base, "/api/v1/timeseries?" + q, tok)
        return sum(b["measurements"] for b in d["buckets"])
    check(ts_total(op, "service=whatsapp", token) == 27 and
          ts_total(pub, "service=whatsapp") == 24 and
          ts_total(pub, "region=RU-MOW") == 24 and
          ts_total(pub, "asn=64501") == 18 and
          ts_total(pub, "region=RU-MOW&asn=64501&role=probe") == 18,
          "public timeseries: probe measurements only (24 of 27 whatsapp), filters "
          "of at least 3 agents answered")
    for q, where in [("region=RU-SPE", "region RU-SPE"),
                     ("asn=64502", "AS64502"),
                     ("region=RU-MOW&asn=64502", "region RU-MOW, AS64502"),
                     ("region=RU-TA&service=whatsapp", "region RU-TA"),
                     ("region=RU-KDA", "region RU-KDA")]:
        for ep_ in ("timeseries", "events", "silences", "history"):
            qq = q.replace("&service=whatsapp", "") if ep_ == "silences" \
                else q
            if ep_ == "history" and "service" not in qq:
                qq += "&service=whatsapp"
            s, _, t = req(pub, "/api/v1/%s?%s" % (ep_, qq))
            check(s == 403 and json.loads(t)["error"] ==
                  "fewer than 3 agents in %s: not shown in the public view"
                  % where, "public %s?%s: 403 fewer than 3 agents" %
                  (ep_, qq), (s, t))
    for r in ("control", "control-domestic"):
        s, _, t = req(pub, "/api/v1/timeseries?role=" + r)
        check(s == 403 and "role" in json.loads(t)["error"],
              "public timeseries?role=%s: 403" % r, (s, t))
    for p, name in [("/api/v1/map?sample=bad", "sample"),
                    ("/api/v1/events?asn=AS1", "asn"),
                    ("/api/v1/silences?region=mow", "region"),
                    ("/api/v1/timeseries?role=admin", "role"),
                    ("/api/v1/info?x=1", "'x'")]:
        s, _, t = req(pub, p)
        check(s == 400 and name in json.loads(t)["error"],
              "public: %s is 400 naming %s" % (p, name), (s, t))

    # every answer of the public listener: no agent key, no hidden ASN
    walk = ["/", "/api/v1/info", "/api/v1/map", "/api/v1/map?" + WIDE,
            "/api/v1/map?sample=latest&" + WIDE,
            "/api/v1/map?service=whatsapp&" + WIDE,
            "/api/v1/map?service=whatsapp/calls&" + WIDE,
            "/api/v1/map?service=whatsapp/messaging&" + WIDE]
    walk += ["/api/v1/map?network=%s&%s" % (n, WIDE)
             for n in ("fixed", "mobile", "unknown")]
    walk += ["/api/v1/map?network=unknown&sample=latest&" + WIDE]
    walk += ["/api/v1/map?region=%s&%s" % (r, WIDE)
             for r in ("RU-MOW", "RU-SPE", "RU-TA")]
    walk += ["/api/v1/map?cells=none&" + WIDE]
    for e in ("events", "silences"):
        walk += ["/api/v1/%s" % e, "/api/v1/%s?%s" % (e, WIDE),
                 "/api/v1/%s?region=RU-MOW&%s" % (e, WIDE),
                 "/api/v1/%s?asn=64501&%s" % (e, WIDE)]
    walk += ["/api/v1/events?service=whatsapp&" + WIDE,
             "/api/v1/events?first=all&" + WIDE,
             "/api/v1/events?first=none&" + WIDE]
    walk += ["/api/v1/timeseries", "/api/v1/timeseries?grain=day",
             "/api/v1/timeseries?service=whatsapp&region=RU-MOW",
             "/api/v1/timeseries?asn=64501&grain=day"]
    walk += ["/api/v1/history?service=whatsapp",
             "/api/v1/history?service=whatsapp&region=RU-MOW",
             "/api/v1/history?service=whatsapp&region=RU-MOW&asn=64501"]
    seen = []
    for p in walk:
        for tok in (None, token):
            s, h, t = req(pub, p, tok)
            seen.append(p)
            check(s == 200, "public %s: 200" % p, (s, t[:200]))
            check(not KEY_RE.search(t), "public %s: no agent key" % p,
                  KEY_RE.search(t))
            check(not HIDDEN_RE.search(t),
                  "public %s: no ASN of a cell of fewer than 3 agents" % p,
                  t[max(0, (HIDDEN_RE.search(t) or re.search("", t))
                        .start() - 200):][:400])
            for name in ("a1", "b1", "s1", "t1", "c1", "DE-BE"):
                if '"%s"' % name in t:
                    check(False, "public %s: no agent name %s" % (p, name))
    check(len(seen) >= 60, "public: %d answers walked" % len(seen))
    return 1 if fails else 0


def main():
    if sys.argv[1] == "pubkey":
        print(Agent(sys.argv[2]).pk.hex())
        return 0
    return run(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
               sys.argv[6], sys.argv[7:16])


if __name__ == "__main__":
    sys.exit(main())
