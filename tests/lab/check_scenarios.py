#!/usr/bin/python3
"""check_scenarios.py REPO — the lab's scenario reader is strict.

`ops/lab/run --check` (no root, no namespaces) must pass every scenario in
tests/lab and ops/lab/demo.json, and must refuse each broken scenario below
(mixed.json with one mistake put in) with exit status 2 and a message that
names the file and the field path: `lab: FILE: FIELD: ...`.  A scenario run
(without --check) must refuse it the same way before it builds anything.
"""

import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

repo = sys.argv[1]
run = os.path.join(repo, "ops", "lab", "run")
base = json.load(open(os.path.join(repo, "tests", "lab", "mixed.json")))
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL " + msg)


def check(*args):
    r = subprocess.run([run, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


# 1. every scenario we ship passes
good = sorted(glob.glob(os.path.join(repo, "tests", "lab", "*.json")))
good.append(os.path.join(repo, "ops", "lab", "demo.json"))
rc, out, err = check("--check", *good)
if rc != 0:
    fail(f"--check of the shipped scenarios: exit {rc}: {err.strip()}")
for g in good:
    if f"{g}: ok" not in out.splitlines():
        fail(f"--check did not report {g}: ok")
print(f"ok   {len(good)} shipped scenarios pass --check")


def edit(f):
    def make():
        sc = copy.deepcopy(base)
        f(sc)
        return json.dumps(sc, indent=1)
    return make


def text(s):
    return lambda: s


def setitem(path, value):
    """edit: set sc[path...] = value."""
    def f(sc):
        o = sc
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
    return edit(f)


def delitem(path):
    def f(sc):
        o = sc
        for k in path[:-1]:
            o = o[k]
        del o[path[-1]]
    return edit(f)


# 2. broken scenarios: (name, scenario text, field path, words the message has)
BROKEN = [
    ("site_unknown_key", setitem(["sites", 1, "dwon"], True),
     "sites[1].dwon", ["unknown key", "did you mean 'down'"]),
    ("isp_unknown_key", setitem(["isps", 0, "agent"], 2),
     "isps[0].agent", ["unknown key", "did you mean 'agents'"]),
    ("rule_unknown_key", setitem(["isps", 1, "censor", 1, "port"], 3478),
     "isps[1].censor[1].port", ["unknown key", "did you mean 'ports'", "udp_drop"]),
    ("rule_misspelt_type", setitem(["isps", 0, "censor", 0, "type"], "sni_rts"),
     "isps[0].censor[0].type", ["unknown value 'sni_rts'", "did you mean 'sni_rst'"]),
    ("rule_misspelt_type_key", edit(lambda sc: sc["isps"][0]["censor"][0].update(
        tpye=sc["isps"][0]["censor"][0].pop("type"))),
     "isps[0].censor[0].tpye", ["unknown key", "did you mean 'type'"]),
    ("rule_misspelt_protocol", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "proto_drop", "protocol": "wiregaurd"})),
     "isps[0].censor[2].protocol", ["unknown value 'wiregaurd'", "did you mean 'wireguard'"]),
    ("rule_name_matches_no_site", setitem(["isps", 0, "censor", 0, "sni"], "facetime.exmaple"),
     "isps[0].censor[0].sni", ["matches no site", "did you mean 'facetime.example'"]),
    ("rule_missing_key", delitem(["isps", 2, "censor", 0, "kbps"]),
     "isps[2].censor[0]", ["missing 'kbps'"]),
    ("expect_misspelt_verdict", setitem(["expect", 5, "verdict"], "throttle"),
     "expect[5].verdict", ["unknown value 'throttle'", "did you mean 'throttled'"]),
    ("expect_misspelt_method", setitem(["expect", 0, "method"], "tsl"),
     "expect[0].method", ["unknown value 'tsl'", "did you mean 'tls'"]),
    ("expect_unknown_isp", setitem(["expect", 1, "isp"], "rostelecom-mov"),
     "expect[1].isp", ["no ISP 'rostelecom-mov'", "did you mean 'rostelecom-mow'"]),
    ("expect_unknown_service", setitem(["expect", 1, "service"], "yotube"),
     "expect[1].service", ["no site serves 'yotube'", "did you mean 'youtube'"]),
    ("expect_twice", edit(lambda sc: sc["expect"].append(dict(sc["expect"][0]))),
     "expect[6]", ["already expected by expect[0]"]),
    ("top_unknown_key", setitem(["control_agent"], 1),
     "control_agent", ["unknown key", "did you mean 'control_agents'"]),
    ("serve_misspelt", setitem(["sites", 0, "serve", 1], "htpp"),
     "sites[0].serve[1]", ["unknown value 'htpp'", "did you mean 'http'"]),
    ("wrong_type_agents", setitem(["isps", 0, "agents"], "2"),
     "isps[0].agents", ["wrong type", "a string", "expected an integer"]),
    ("wrong_type_down", setitem(["sites", 2, "down"], "yes"),
     "sites[2].down", ["wrong type", "expected true or false"]),
    ("wrong_type_ports", setitem(["isps", 1, "censor", 1, "ports"], 3478),
     "isps[1].censor[1].ports", ["wrong type", "an integer"]),
    ("wrong_type_isp", setitem(["isps", 1], ["mts-spe"]),
     "isps[1]", ["wrong type", "an array", "expected an object"]),
    ("range_loss", setitem(["isps", 1, "loss_pct"], 150),
     "isps[1].loss_pct", ["150 is out of range (0..100)"]),
    ("range_kbps", setitem(["isps", 2, "censor", 0, "kbps"], 0),
     "isps[2].censor[0].kbps", ["0 is out of range (1..10000000)"]),
    ("range_rounds", setitem(["rounds"], 0),
     "rounds", ["0 is out of range (1..100)"]),
    ("range_port_range", setitem(["isps", 1, "censor", 1, "ports"], [3478, "3500-3400"]),
     "isps[1].censor[1].ports[1]", ["'3500-3400' is not a LO-HI range"]),
    ("bad_ip", setitem(["sites", 0, "ip"], "198.51.100.300"),
     "sites[0].ip", ["'198.51.100.300' is not an IPv4 address"]),
    ("missing_site_ip", delitem(["sites", 3, "ip"]),
     "sites[3]", ["missing 'ip'"]),
    ("key_twice", text(json.dumps(base, indent=1).replace(
        '"rounds": 2,', '"rounds": 2, "rounds": 3,')),
     "rounds", ["key given twice"]),
]

with tempfile.TemporaryDirectory(prefix="zond-labcheck-") as tmp:
    for name, make, where, words in BROKEN:
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            f.write(make())
        # the run is given no binaries: a scenario wrongly accepted fails
        # with exit 1 before it builds anything
        for args in (["--check", path],
                     ["--bin", os.path.join(tmp, "nobin"), path, os.path.join(tmp, "out")]):
            rc, out, err = check(*args)
            lines = err.strip().splitlines()
            want = f"lab: {path}: {where}: "
            mode = "check" if args[0] == "--check" else "run"
            if rc != 2:
                fail(f"{name} ({mode}): exit {rc}, expected 2: {err.strip()}")
            elif len(lines) != 1 or not lines[0].startswith(want):
                fail(f"{name} ({mode}): expected one line starting {want!r}, got {err.strip()!r}")
            elif not all(w in lines[0] for w in words):
                fail(f"{name} ({mode}): {lines[0]!r} lacks one of {words}")
            elif mode == "check":
                print(f"ok   {name}: {lines[0][len('lab: ' + path + ': '):]}")
        if os.path.exists(os.path.join(tmp, "out")):
            fail(f"{name}: a run of a bad scenario made its OUTDIR")

    # several files at once: every one reported, exit 2 if any is bad
    bad = os.path.join(tmp, "range_loss.json")
    rc, out, err = check("--check", good[0], bad)
    if rc != 2 or f"{good[0]}: ok" not in out or f"lab: {bad}: isps[1].loss_pct" not in err:
        fail(f"--check GOOD BAD: exit {rc}, out {out!r}, err {err!r}")

    # not JSON: the line is named
    path = os.path.join(tmp, "not_json.json")
    with open(path, "w") as f:
        f.write('{\n "name": "x",\n "rounds": 2\n "sites": []\n}\n')
    rc, out, err = check("--check", path)
    if rc != 2 or not err.startswith(f"lab: {path}:4: "):
        fail(f"not_json: exit {rc}, {err.strip()!r}")

print(f"{len(BROKEN)} broken scenarios, {failures} failures")
sys.exit(1 if failures else 0)
