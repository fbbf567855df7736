#!/usr/bin/python3
"""check_score.py REPO — the lab's score (ops/lab/run --score, no root).

A scenario passes only with every expectation right and no false alarm
anywhere in the map: a cell or a region that is blocked or throttled
without an expectation saying so fails it (docs/LAB.md, "Scoring").  Each
case below is a map document as `zondctl map --json` prints it, scored
against one small scenario; the exit status (0 pass, 3 fail) and the named
false alarms are checked.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile

repo = sys.argv[1]
run = os.path.join(repo, "ops", "lab", "run")
failures = 0

SCENARIO = {
    "name": "score_case", "rounds": 1,
    "sites": [{"name": "news.example", "ip": "198.51.100.10", "service": "news",
               "serve": ["dns", "https"]},
              {"name": "call.example", "ip": "198.51.100.20", "service": "call",
               "serve": ["https"]}],
    "isps": [{"name": "isp-a", "asn": 64501, "region": "RU-MOW"},
             {"name": "isp-b", "asn": 64502, "region": "RU-MOW"},
             {"name": "isp-c", "asn": 64503, "region": "RU-SPE"}],
    "expect": [{"isp": "isp-a", "service": "news", "verdict": "blocked", "method": "dns"},
               {"isp": "isp-b", "service": "news", "verdict": "ok"},
               {"region": "RU-MOW", "service": "news", "verdict": "partial"},
               {"isp": "isp-c", "service": "call", "verdict": "geoblocked"}],
}


def cell(region, asn, svc, verdict, method=None):
    return {"region": region, "asn": asn, "service": svc, "verdict": verdict, "method": method,
            "measurements": 8, "agents": 2, "blocked_share": 1.0 if verdict == "blocked" else 0.0}


GOOD = {"since": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z", "pending": 0,
        "cells": [cell("RU-MOW", 64501, "news", "blocked", "dns"),
                  cell("RU-MOW", 64502, "news", "ok"),
                  cell("RU-SPE", 64503, "news", "ok"),
                  cell("RU-MOW", 64501, "call", "ok"),
                  cell("RU-MOW", 64502, "call", "ok"),
                  cell("RU-SPE", 64503, "call", "geoblocked")],
        "regions": [{"region": "RU-MOW", "service": "news", "verdict": "partial", "asns": 2},
                    {"region": "RU-SPE", "service": "news", "verdict": "ok", "asns": 1},
                    {"region": "RU-MOW", "service": "call", "verdict": "ok", "asns": 2},
                    {"region": "RU-SPE", "service": "call", "verdict": "geoblocked", "asns": 1}]}


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def variant(f):
    doc = copy.deepcopy(GOOD)
    f(doc)
    return doc


def set_cell(region, asn, svc, verdict, method=None):
    def f(doc):
        doc["cells"] = [c for c in doc["cells"]
                        if (c["region"], c["asn"], c["service"]) != (region, asn, svc)]
        doc["cells"].append(cell(region, asn, svc, verdict, method))
    return f


def set_region(region, svc, verdict):
    def f(doc):
        for r in doc["regions"]:
            if (r["region"], r["service"]) == (region, svc):
                r["verdict"] = verdict
    return f


# (name, map, passes, expectations failed, false alarms named as (who, service))
CASES = [
    ("all_right", GOOD, True, 0, []),
    ("unexpected_blocked_cell", variant(set_cell("RU-SPE", 64503, "news", "blocked", "tls")),
     False, 0, [("isp-c", "news")]),
    ("unexpected_throttled_cell", variant(set_cell("RU-MOW", 64502, "call", "throttled", "throttle")),
     False, 0, [("isp-b", "call")]),
    ("blocked_cell_of_no_isp", variant(set_cell("RU-KDA", 64999, "news", "blocked", "dns")),
     False, 0, [("region RU-KDA AS64999", "news")]),
    ("unexpected_blocked_region", variant(set_region("RU-MOW", "call", "blocked")),
     False, 0, [("region RU-MOW", "call")]),
    # isp-a's expectation says blocked in RU-MOW: not a false alarm, but the
    # region's own expectation (partial) fails
    ("blocked_region_its_isp_expects", variant(set_region("RU-MOW", "news", "blocked")),
     False, 1, []),
    ("geoblocked_called_blocked", variant(lambda d: (
        set_cell("RU-SPE", 64503, "call", "blocked", "tls")(d),
        set_region("RU-SPE", "call", "blocked")(d))),
     False, 1, [("region RU-SPE", "call")]),
    ("wrong_method", variant(set_cell("RU-MOW", 64501, "news", "blocked", "tls")), False, 1, []),
    ("missing_cell", variant(lambda d: d["cells"].pop(0)), False, 1, []),
    ("pending_left", variant(lambda d: d.update(pending=4)), False, 0, []),
    ("ok_not_blocked_elsewhere", variant(set_cell("RU-SPE", 64503, "news", "down")), True, 0, []),
]

# Calls and messaging apart, and where the censor sits (issue 18): the map
# names services "S/calls" and "S/messaging" beside "S", and a cell says
# "where" (isp, upstream or unknown).
CALLS = {
    "name": "score_calls", "rounds": 1,
    "sites": [{"name": "wa.example", "ip": "198.51.100.10", "service": "whatsapp",
               "serve": ["dns", "https"]},
              {"name": "relay.wa.example", "ip": "198.51.100.11", "service": "whatsapp",
               "serve": ["relay"], "ports": [3478]},
              {"name": "ft.example", "ip": "198.51.100.20", "service": "facetime",
               "serve": ["silent"], "ports": ["3478-3497"]}],
    "isps": [{"name": "isp-a", "asn": 64501, "region": "RU-MOW",
              "hops": ["access", "core", "upstream"]},
             {"name": "isp-b", "asn": 64502, "region": "RU-SPE"}],
    "expect": [{"isp": "isp-a", "service": "whatsapp/calls", "verdict": "blocked", "where": "isp"},
               {"isp": "isp-a", "service": "whatsapp/messaging", "verdict": "ok"},
               {"isp": "isp-a", "service": "facetime/calls", "verdict": "blocked",
                "where": "upstream"},
               {"isp": "isp-b", "service": "whatsapp/calls", "verdict": "ok"}],
}


def wcell(region, asn, svc, verdict, method=None, where=None):
    c = cell(region, asn, svc, verdict, method)
    if where is not None:
        c["where"] = where
    return c


CALLS_GOOD = {"since": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z", "pending": 0,
              "cells": [wcell("RU-MOW", 64501, "whatsapp/calls", "blocked", "udp", "isp"),
                        wcell("RU-MOW", 64501, "whatsapp/messaging", "ok", where="unknown"),
                        wcell("RU-MOW", 64501, "whatsapp", "blocked", "udp", "isp"),
                        wcell("RU-MOW", 64501, "facetime/calls", "blocked", "udp", "upstream"),
                        wcell("RU-MOW", 64501, "facetime", "blocked", "udp", "upstream"),
                        wcell("RU-SPE", 64502, "whatsapp/calls", "ok"),
                        wcell("RU-SPE", 64502, "whatsapp/messaging", "ok"),
                        wcell("RU-SPE", 64502, "whatsapp", "ok"),
                        wcell("RU-SPE", 64502, "facetime", "ok")],
              "regions": [{"region": "RU-MOW", "service": "whatsapp", "verdict": "blocked", "asns": 1},
                          {"region": "RU-MOW", "service": "facetime", "verdict": "blocked", "asns": 1},
                          {"region": "RU-SPE", "service": "whatsapp", "verdict": "ok", "asns": 1}]}


def cvariant(f):
    doc = copy.deepcopy(CALLS_GOOD)
    f(doc)
    return doc


def set_wcell(region, asn, svc, verdict, method=None, where=None):
    def f(doc):
        doc["cells"] = [c for c in doc["cells"]
                        if (c["region"], c["asn"], c["service"]) != (region, asn, svc)]
        doc["cells"].append(wcell(region, asn, svc, verdict, method, where))
    return f


CALL_CASES = [
    ("calls_all_right", CALLS_GOOD, True, 0, []),
    ("calls_where_wrong", cvariant(set_wcell("RU-MOW", 64501, "facetime/calls", "blocked", "udp",
                                             "isp")), False, 1, []),
    ("calls_where_unknown", cvariant(set_wcell("RU-MOW", 64501, "whatsapp/calls", "blocked", "udp",
                                               "unknown")), False, 1, []),
    # a map without "where" cannot show where: the expectation fails
    ("calls_where_missing", cvariant(set_wcell("RU-MOW", 64501, "whatsapp/calls", "blocked",
                                               "udp")), False, 1, []),
    ("calls_messaging_blocked", cvariant(set_wcell("RU-MOW", 64501, "whatsapp/messaging",
                                                   "blocked", "tls", "isp")), False, 1, []),
    # isp-b's calls expectation is ok: its messaging blocked, or the whole
    # service blocked, is a false alarm
    ("calls_other_part_blocked", cvariant(set_wcell("RU-SPE", 64502, "whatsapp/messaging",
                                                    "blocked", "tls", "isp")),
     False, 0, [("isp-b", "whatsapp/messaging")]),
    ("calls_whole_blocked_ok_expected", cvariant(set_wcell("RU-SPE", 64502, "whatsapp", "blocked",
                                                           "udp", "isp")),
     False, 0, [("isp-b", "whatsapp")]),
    ("calls_region_blocked", cvariant(lambda d: d["regions"].append(
        {"region": "RU-SPE", "service": "facetime", "verdict": "blocked", "asns": 1})),
     False, 0, [("region RU-SPE", "facetime")]),
    ("calls_missing_part", cvariant(lambda d: d.update(cells=[
        c for c in d["cells"] if c["service"] != "facetime/calls"])), False, 1, []),
]

with tempfile.TemporaryDirectory(prefix="zond-labscore-") as tmp:
    for key, doc in (("score", SCENARIO), ("calls", CALLS)):
        with open(os.path.join(tmp, key + ".json"), "w") as f:
            json.dump(doc, f)
    for name, doc, passes, failed, alarms in CASES + CALL_CASES:
        scen = os.path.join(tmp, ("calls" if name.startswith("calls_") else "score") + ".json")
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        r = subprocess.run([run, "--score", scen, path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != (0 if passes else 3):
            fail(f"{name}: exit {r.returncode}, expected {0 if passes else 3}: {r.stderr.strip()}")
            continue
        s = json.loads(r.stdout)
        got = sorted((fp.get("isp") or f"region {fp['region']}" +
                      (f" AS{fp['asn']}" if "asn" in fp else ""), fp["service"])
                     for fp in s["false_positive_cells"])
        if s["pass"] != passes or s["failed"] != failed or got != sorted(alarms):
            fail(f"{name}: pass {s['pass']}, failed {s['failed']}, false alarms {got}; expected "
                 f"{passes}, {failed}, {sorted(alarms)}")
        else:
            print(f"ok   {name}: pass={s['pass']} failed={s['failed']} false alarms={got}")

    # a map that is not JSON: exit 1, named
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write("{")
    r = subprocess.run([run, "--score", scen, bad], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 1 or bad not in r.stderr:
        fail(f"not-JSON map: exit {r.returncode}, {r.stderr.strip()!r}")

# the world checks (ops/lab/run's world_checks): a trap counts only when a
# record shows it took effect, so a trap that never bit fails the run
from importlib.machinery import SourceFileLoader
import importlib.util
spec = importlib.util.spec_from_loader("labrun", SourceFileLoader("labrun", run))
lab = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab)
TRAPS = copy.deepcopy(SCENARIO)
TRAPS["sites"][0]["answers"] = {"isp-b": "203.0.113.10"}
TRAPS["sites"][1]["refuse"] = {"from": ["isp-a"], "with": "tls_alert"}
TRAPS["isps"][2]["agents"] = 2
TRAPS["isps"][2]["agent_faults"] = [{"agent": 2, "fault": "no_route"}]
TRAPS["control_censor"] = [{"type": "http_blockpage", "host": "news.example"}]
with tempfile.TemporaryDirectory(prefix="zond-labtraps-") as tmp:
    path = os.path.join(tmp, "traps.json")
    with open(path, "w") as f:
        json.dump(TRAPS, f)
    sc = lab.load_scenario(path)


def rec(agent, region, asn, test, target, role="probe", **outcome):
    return {"agent": agent, "region": region, "asn": asn, "role": role, "test": test,
            "target": target, "outcome": outcome}


KEYS = {"isp-c-2": "c2", "control-1": "k1"}
BIT = [rec("b1", "RU-MOW", 64502, "tls", "news.example:443", failure="none",
           tls={"addr": "203.0.113.10:443"}),
       rec("a1", "RU-MOW", 64501, "tls", "call.example:443", failure="tls_error"),
       rec("c2", "RU-SPE", 64503, "dns", "news.example", failure="local"),
       rec("k1", "ZZ-CTL", 64496, "http", "http://news.example/", role="control",
           failure="blockpage")]
TRAP_CASES = [
    ("every_trap_bit", BIT, [1, 1, 1, 1]),
    # isp-b connected to the site's own address, isp-b (not isp-a) saw the
    # alert, the broken agent's failure was someone else's, the control's
    # failure was a timeout elsewhere than where it is filtered: none bit
    ("no_trap_bit", [rec("b1", "RU-MOW", 64502, "tls", "news.example:443", failure="none",
                         tls={"addr": "198.51.100.10:443"}),
                     rec("b1", "RU-MOW", 64502, "tls", "call.example:443", failure="tls_error"),
                     rec("c1", "RU-SPE", 64503, "dns", "news.example", failure="local"),
                     rec("k2", "ZZ-CTL", 64496, "http", "http://news.example/", role="control",
                         failure="blockpage")], [0, 0, 0, 0]),
]
for name, recs, want in TRAP_CASES:
    got = [t["records"] for t in lab.world_checks(sc, recs, KEYS)]
    if got != want:
        fail(f"traps {name}: records {got}, expected {want}")
    else:
        print(f"ok   traps {name}: {got}")

# Time windows and regimes (issue 20): an expectation with from/to is
# scored against the map of that window, "*" stands for every service but
# the reference targets, and whitelist/shutdown are verdicts.
REGIME = {
    "name": "score_regime", "rounds": 40, "interval": 5,
    "sites": SCENARIO["sites"] + [{"name": "ref.example", "ip": "198.51.100.30",
                                   "service": "reference-domestic", "serve": ["https"]}],
    "isps": [{"name": "isp-a", "asn": 64501, "region": "RU-MOW", "network": "mobile",
              "censor": [{"type": "whitelist", "allow": ["198.51.100.30"], "from": 60,
                          "to": 120}]},
             {"name": "isp-b", "asn": 64502, "region": "RU-SPE"}],
    "expect": [{"isp": "isp-a", "service": "*", "verdict": "whitelist", "from": 65, "to": 115},
               {"isp": "isp-a", "service": "news", "verdict": "ok", "to": 55},
               {"isp": "isp-a", "service": "news", "verdict": "blocked", "from": 125},
               {"isp": "isp-b", "service": "*", "verdict": "ok"}],
}


def rmap(*cells):
    return {"pending": 0, "cells": [cell(*c) for c in cells], "regions": []}


W_MID, W_EARLY, W_LATE = (65, 115), (None, 55), (125, None)
R_WHOLE = rmap(("RU-MOW", 64501, "news", "blocked", "sni"), ("RU-MOW", 64501, "call", "ok"),
               ("RU-SPE", 64502, "news", "ok"), ("RU-SPE", 64502, "call", "ok"))
R_WINDOWS = {W_MID: rmap(("RU-MOW", 64501, "news", "whitelist"),
                         ("RU-MOW", 64501, "call", "whitelist"),
                         ("RU-MOW", 64501, "reference-domestic", "ok")),
             W_EARLY: rmap(("RU-MOW", 64501, "news", "ok")),
             W_LATE: rmap(("RU-MOW", 64501, "news", "blocked", "sni"))}


def rvariant(win, *cells):
    w = copy.deepcopy(R_WINDOWS)
    if win is None:
        return rmap(*cells), w
    w[win] = rmap(*cells)
    return copy.deepcopy(R_WHOLE), w


# (name, whole-run map, window maps, passes, expectations failed, false alarms)
REGIME_CASES = [
    ("regime_all_right", R_WHOLE, R_WINDOWS, True, 0, []),
    ("regime_blocked_in_whitelist", *rvariant(W_MID, ("RU-MOW", 64501, "news", "whitelist"),
                                              ("RU-MOW", 64501, "call", "blocked", "tls")),
     False, 1, []),
    ("regime_star_missing_service", *rvariant(W_MID, ("RU-MOW", 64501, "news", "whitelist")),
     False, 1, []),
    ("regime_early_blocked", *rvariant(W_EARLY, ("RU-MOW", 64501, "news", "blocked", "sni")),
     False, 1, []),
    ("regime_other_isp_blocked_in_window", *rvariant(W_LATE,
                                                     ("RU-MOW", 64501, "news", "blocked", "sni"),
                                                     ("RU-SPE", 64502, "call", "blocked", "tls")),
     False, 0, [("isp-b", "call")]),
    ("regime_shutdown_not_whitelist", *rvariant(W_MID, ("RU-MOW", 64501, "news", "shutdown"),
                                                ("RU-MOW", 64501, "call", "shutdown")),
     False, 2, []),
]
with tempfile.TemporaryDirectory(prefix="zond-labregime-") as tmp:
    path = os.path.join(tmp, "regime.json")
    with open(path, "w") as f:
        json.dump(REGIME, f)
    rsc = lab.load_scenario(path)
    n = len(lab.expand(rsc))
    if n != 6:      # "*" of isp-a: news, call (not reference-domestic); isp-b's: three
        fail(f"regime: {n} expectations after '*', expected 6")
    for name, whole, wins, passes, failed, alarms in REGIME_CASES:
        s = lab.score_map(rsc, whole, wins)
        got = sorted((fp.get("isp") or f"region {fp['region']}", fp["service"])
                     for fp in s["false_positive_cells"])
        if s["pass"] != passes or s["failed"] != failed or got != sorted(alarms):
            fail(f"{name}: pass {s['pass']}, failed {s['failed']}, false alarms {got}; expected "
                 f"{passes}, {failed}, {sorted(alarms)}")
        else:
            print(f"ok   {name}: pass={s['pass']} failed={s['failed']} false alarms={got}")
    # --score has one map: every expectation, windowed or not, is scored
    # against it, so the whitelist window's expectations fail on R_WHOLE
    mp = os.path.join(tmp, "whole.json")
    with open(mp, "w") as f:
        json.dump(R_WHOLE, f)
    r = subprocess.run([run, "--score", path, mp], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 3 or json.loads(r.stdout)["failed"] != 3:
        fail(f"regime --score one map: exit {r.returncode}, {r.stdout[:300]!r}")
    else:
        print("ok   regime --score with one map: the windows' expectations scored against it")

# a window's map from the judged measurements (window_map): per agent its
# most common verdict per sub-row, ties never blocking, time-bounded
def mrec(agent, t, target, test, verdict, method=None, svc="call", asn=64501, role="probe"):
    return {"agent": agent, "time": f"2026-12-07T15:00:{t:02d}.500Z", "region": "RU-MOW",
            "asn": asn, "role": role, "service": svc, "target": target, "test": test,
            "verdict": verdict, "method": method}


T0 = 1796655600.0   # 2026-12-07T15:00:00Z
WREC = [mrec("a1", 1, "call.example:443", "tls", "ok"),
        mrec("a1", 11, "call.example:443", "tls", "blocked", "tls"),
        mrec("a1", 21, "call.example:443", "tls", "blocked", "tls"),
        mrec("a2", 12, "call.example:443", "tls", "blocked", "tls"),
        mrec("a2", 22, "call.example:443", "tls", "blocked", "tls"),
        mrec("a1", 12, "https://call.example/", "http", "blocked", "http"),
        mrec("a2", 12, "https://call.example/", "http", "blocked", "http"),
        mrec("a1", 13, "call.example", "dns", "ok"),
        mrec("a2", 13, "call.example", "dns", "ok"),
        mrec("k1", 13, "call.example:443", "tls", "ok", role="control"),
        mrec("a1", 14, "news.example:443", "tls", "ok", svc="news"),
        mrec("a2", 14, "news.example:443", "tls", "blocked", "tls", svc="news"),
        mrec("a1", 15, "news.example:443", "tls", "ok", svc="news", asn=64502)]
WINDOW_CASES = [
    # blocked with the lowest layer's method; the control's record is no sample
    # (news: 2 measurements, fewer than 3: insufficient)
    ("window_blocked", 10, 30, {"call": ("blocked", "tls"), "news": ("insufficient", None)}),
    # before 13 s a1 has 1 ok, 1 blocked tls: a tie, an ok sample; a2's one
    # blocked makes the sub-row's samples ok, blocked: a tie, ok; the http
    # sub-row has only blocked samples: blocked, method http
    ("window_tie_ok", 0, 13, {"call": ("blocked", "http")}),
    ("window_before", 0, 5, {"call": ("insufficient", None)}),
    ("window_one_agent_insufficient", 15, 16, {}),
]
for name, lo, hi, want in WINDOW_CASES:
    m = lab.window_map(WREC, T0 + lo, T0 + hi)
    got = {c["service"]: (c["verdict"], c["method"]) for c in m["cells"]
           if c["asn"] == 64501}
    if got != want:
        fail(f"{name}: {got}, expected {want}")
    else:
        print(f"ok   {name}: {got}")
# the regimes (METHODOLOGY.md §3.8) from the reference cells: whitelist
# when reference-domestic is ok and reference-foreign blocked; shutdown
# when both fail; an ok service stays ok; the references are left out
def refs(dom, far):
    return [mrec(a, 2 + i, t, "tls", v, "tls" if v == "blocked" else None, svc=s)
            for i, a in enumerate(("a1", "a2", "a1")) for s, t, v in
            (("reference-domestic", "ya.example:443", dom), ("reference-foreign", "ref:443", far))]


SVC = [mrec(a, 5 + i, "call.example:443", "tls", "blocked", "tls") for i, a in
       enumerate(("a1", "a2", "a1"))] + \
      [mrec(a, 6 + i, "news.example:443", "tls", "ok", svc="news") for i, a in
       enumerate(("a1", "a2", "a1"))]
REGIME_WINDOWS = [
    ("regime_whitelist", refs("ok", "blocked"), {"call": ("whitelist", None), "news": ("ok", None)}),
    ("regime_shutdown", refs("blocked", "blocked"), {"call": ("shutdown", None),
                                                     "news": ("ok", None)}),
    ("regime_none", refs("ok", "ok"), {"call": ("blocked", "tls"), "news": ("ok", None)}),
]
for name, rs, want in REGIME_WINDOWS:
    m = lab.window_map(rs + SVC, None, None)
    got = {c["service"]: (c["verdict"], c["method"]) for c in m["cells"]}
    if got != want:
        fail(f"{name}: {got}, expected {want}")
    else:
        print(f"ok   {name}: {got}")
WINDOW_CASES += REGIME_WINDOWS

# a measurement counts for a window only when it ran wholly inside it: two
# ok ones that began at 15 and 16 s but ended (after retries) past 20 s
# would tie each agent's tls sample to ok and leave the cell blocked/http
LONG = [{**mrec(a, t, "call.example:443", "tls", "ok"), "duration_ms": 6000}
        for a, t in (("a1", 15), ("a2", 16))]
m = lab.window_map(WREC + LONG, T0 + 10, T0 + 20)
got = {c["service"]: (c["verdict"], c["method"]) for c in m["cells"] if c["asn"] == 64501}
if got.get("call") != ("blocked", "tls"):
    fail(f"window_wholly_inside: {got}, expected call blocked/tls")
else:
    print("ok   window_wholly_inside: measurements that outlasted the window left out")

# a tie of the tls sub-row alone: a1 ok + blocked, a2 ok -> ok
m = lab.window_map([mrec("a1", 1, "x:443", "tls", "ok"), mrec("a1", 2, "x:443", "tls", "blocked"),
                    mrec("a2", 3, "x:443", "tls", "ok")], None, None)
if [c["verdict"] for c in m["cells"]] != ["ok"]:
    fail(f"window_tie_is_ok: {m['cells']}")
else:
    print("ok   window_tie_is_ok")

print(f"{len(CASES) + len(CALL_CASES) + len(TRAP_CASES) + len(REGIME_CASES) + len(WINDOW_CASES) + 3} "
      "score cases, "
      f"{failures} failures")
sys.exit(1 if failures else 0)
