#!/usr/bin/python3
"""check_scenarios.py REPO — the lab's scenario reader is strict.

`ops/lab/run --check` (no root, no namespaces) must pass every scenario in
tests/lab and ops/lab/demo.json, and must refuse each broken scenario below
(mixed.json with one mistake put in) with exit status 2 and a message that
names the file and the field path: `lab: FILE: FIELD: ...`; the traps'
vocabulary (answers, refuse, agent_faults, domestic controls, the control's
censor, region expectations) is broken in mixed_traps.json the same way.  A scenario run
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
BASES = {name: json.load(open(os.path.join(repo, "tests", "lab", name + ".json")))
         for name in ("mixed", "mixed_traps", "censor_where", "call_relay_drop",
                      "timeline_sni_rst", "lone_agent_offline")}
base = BASES["mixed"]
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


def edit(f, on="mixed"):
    def make():
        sc = copy.deepcopy(BASES[on])
        f(sc)
        return json.dumps(sc, indent=1)
    return make


def text(s):
    return lambda: s


def setitem(path, value, on="mixed"):
    """edit: set sc[path...] = value."""
    def f(sc):
        o = sc
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
    return edit(f, on)


def delitem(path, on="mixed"):
    def f(sc):
        o = sc
        for k in path[:-1]:
            o = o[k]
        del o[path[-1]]
    return edit(f, on)


def rename(path, new, on="mixed_traps"):
    """edit: rename the key at path (keeping its value)."""
    def f(sc):
        o = sc
        for k in path[:-1]:
            o = o[k]
        o[new] = o.pop(path[-1])
    return edit(f, on)


T = "mixed_traps"
W = "censor_where"      # isps[0] and [1] have all three hops; rules placed "at" them
C = "call_relay_drop"   # relay sites with ports, tcp_drop/udp_drop by prefix, calls/messaging
O = "lone_agent_offline"  # isps[0].agent_faults[0]: agent 3 offline from 20 to 55 s
L = "timeline_sni_rst"  # rounds 20 x interval 5 s; isps[0].censor[0] on from 30 to 65 s;
                        # expect[0..2] windows of isp-a/facetime, expect[3] the whole run


def add_rule(rule, on=L, where="isps"):
    """edit: append a rule to isps[0]'s censor (or to control_censor)."""
    def f(sc):
        (sc["isps"][0]["censor"] if where == "isps" else sc.setdefault("control_censor", [])
         ).append(rule)
    return edit(f, on)


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
    # the traps (mixed_traps.json): sites[2] has answers, sites[3..5] refuse,
    # sites[6] is down, isps[0] and isps[2] have agent_faults, expect[3] is a
    # region's
    ("answers_misspelt_key", rename(["sites", 2, "answers"], "answer"),
     "sites[2].answer", ["unknown key", "did you mean 'answers'"]),
    ("answers_unknown_isp", setitem(["sites", 2, "answers"], {"isp-aa": "203.0.113.30"}, T),
     "sites[2].answers.isp-aa", ["no ISP 'isp-aa'", "did you mean 'isp-a'"]),
    ("answers_bad_ip", setitem(["sites", 2, "answers", "isp-a"], "203.0.113.300", T),
     "sites[2].answers.isp-a", ["'203.0.113.300' is not an IPv4 address"]),
    ("answers_wrong_type", setitem(["sites", 2, "answers"], ["203.0.113.30"], T),
     "sites[2].answers", ["wrong type", "an array", "ISP name: IPv4"]),
    ("answers_other_site", setitem(["sites", 2, "answers", "isp-a"], "198.51.100.10", T),
     "sites[2].answers.isp-a", ["already sites[0]'s"]),
    ("answers_reserved", setitem(["sites", 2, "answers", "isp-b"], "10.99.0.1", T),
     "sites[2].answers.isp-b", ["reserved"]),
    ("answers_no_dns", setitem(["sites", 2, "serve"], ["https"], T),
     "sites[2].answers", ["add 'dns' to serve"]),
    ("refuse_misspelt_key", rename(["sites", 3, "refuse"], "refuses"),
     "sites[3].refuses", ["unknown key", "did you mean 'refuse'"]),
    ("refuse_misspelt_with", setitem(["sites", 3, "refuse", "with"], "http_403", T),
     "sites[3].refuse.with", ["unknown value 'http_403'", "did you mean 'http403'",
                              "http403, tls_alert, rst"]),
    ("refuse_misspelt_tls_alert", setitem(["sites", 4, "refuse", "with"], "tls-alert", T),
     "sites[4].refuse.with", ["unknown value 'tls-alert'", "did you mean 'tls_alert'"]),
    ("refuse_misspelt_rst", setitem(["sites", 5, "refuse", "with"], "rts", T),
     "sites[5].refuse.with", ["unknown value 'rts'", "did you mean 'rst'"]),
    ("refuse_misspelt_from", rename(["sites", 3, "refuse", "from"], "form"),
     "sites[3].refuse.form", ["unknown key", "did you mean 'from'"]),
    ("refuse_unknown_isp", setitem(["sites", 5, "refuse", "from", 1], "isp-bb", T),
     "sites[5].refuse.from[1]", ["no ISP 'isp-bb'", "did you mean 'isp-b'"]),
    ("refuse_isp_twice", setitem(["sites", 5, "refuse", "from", 1], "isp-a", T),
     "sites[5].refuse.from[1]", ["'isp-a' given twice"]),
    ("refuse_tls_without_https", setitem(["sites", 4, "serve"], ["dns", "http"], T),
     "sites[4].refuse.with", ["refuses nothing", "https"]),
    ("refuse_down_site", setitem(["sites", 6, "refuse"], {"from": ["isp-a"], "with": "rst"}, T),
     "sites[6].refuse", ["a down site serves nobody"]),
    ("faults_misspelt_key", rename(["isps", 0, "agent_faults"], "agent_fault"),
     "isps[0].agent_fault", ["unknown key", "did you mean 'agent_faults'"]),
    ("fault_misspelt_local_drop", setitem(["isps", 0, "agent_faults", 0, "fault"], "local-drop", T),
     "isps[0].agent_faults[0].fault", ["unknown value 'local-drop'", "did you mean 'local_drop'",
                                       "local_drop, no_route, broken_link"]),
    ("fault_misspelt_no_route", setitem(["isps", 2, "agent_faults", 0, "fault"], "noroute", T),
     "isps[2].agent_faults[0].fault", ["unknown value 'noroute'", "did you mean 'no_route'"]),
    ("fault_misspelt_broken_link", setitem(["isps", 0, "agent_faults", 0, "fault"], "broken_lnk", T),
     "isps[0].agent_faults[0].fault", ["unknown value 'broken_lnk'", "did you mean 'broken_link'"]),
    ("fault_misspelt_agent", rename(["isps", 0, "agent_faults", 0, "agent"], "agnet"),
     "isps[0].agent_faults[0].agnet", ["unknown key", "did you mean 'agent'"]),
    ("fault_agent_out_of_range", setitem(["isps", 0, "agent_faults", 0, "agent"], 5, T),
     "isps[0].agent_faults[0].agent", ["out of range", "isp-a has 4 agents"]),
    ("fault_agent_twice", edit(lambda sc: sc["isps"][0]["agent_faults"].append(
        {"agent": 4, "fault": "broken_link"}), T),
     "isps[0].agent_faults[1].agent", ["already broken by isps[0].agent_faults[0]"]),
    ("domestic_misspelt_key", setitem(["domestic_control_agent"], 1, T),
     "domestic_control_agent", ["unknown key", "did you mean 'domestic_control_agents'"]),
    ("domestic_without_isp", edit(lambda sc: sc.pop("domestic_control_isp"), T),
     "top level", ["missing 'domestic_control_isp'"]),
    ("domestic_without_agents", edit(lambda sc: sc.pop("domestic_control_agents"), T),
     "top level", ["missing 'domestic_control_agents'"]),
    ("domestic_unknown_isp", edit(lambda sc: sc.update(domestic_control_agents=1,
                                                       domestic_control_isp="isp-d"), T),
     "domestic_control_isp", ["no ISP 'isp-d'", "did you mean"]),
    ("domestic_range", edit(lambda sc: sc.update(domestic_control_agents=0,
                                                 domestic_control_isp="isp-a"), T),
     "domestic_control_agents", ["0 is out of range (1..20)"]),
    ("control_censor_misspelt_key", rename(["control_censor"], "control_censr"),
     "control_censr", ["unknown key", "did you mean 'control_censor'"]),
    ("control_censor_no_site", setitem(["control_censor", 0, "host"], "wiki.exmaple", T),
     "control_censor[0].host", ["matches no site", "did you mean 'wiki.example'"]),
    ("expect_misspelt_geoblocked", setitem(["expect", 6, "verdict"], "geoblcoked", T),
     "expect[6].verdict", ["unknown value 'geoblcoked'", "did you mean 'geoblocked'"]),
    ("expect_partial_cell", setitem(["expect", 6, "verdict"], "partial", T),
     "expect[6].verdict", ["a region's verdict"]),
    ("expect_isp_and_region", setitem(["expect", 0, "region"], "RU-MOW", T),
     "expect[0]", ["give one of 'isp' (a cell) or 'region'"]),
    ("expect_region_method", edit(lambda sc: sc["expect"].append(
        {"region": "RU-MOW", "service": "news", "verdict": "partial", "method": "dns"}), T),
     f"expect[{len(BASES[T]['expect'])}].method", ["a region's roll-up has no method"]),
    ("expect_unknown_region", edit(lambda sc: sc["expect"].append(
        {"region": "RU-MWO", "service": "news", "verdict": "partial"}), T),
     f"expect[{len(BASES[T]['expect'])}].region", ["no ISP is in 'RU-MWO'",
                                                   "did you mean 'RU-MOW'"]),
    ("expect_region_twice", edit(lambda sc: sc["expect"].append(dict(sc["expect"][3])), T),
     f"expect[{len(BASES[T]['expect'])}]", ["region RU-MOW/news is already expected by expect[3]"]),
    # issue 18: hops, "at", the new rule types, relay and silent sites,
    # calls/messaging and where
    ("hops_misspelt", setitem(["isps", 0, "hops", 1], "cor", W),
     "isps[0].hops[1]", ["unknown value 'cor'", "did you mean 'core'", "access, core, upstream"]),
    ("hops_out_of_order", setitem(["isps", 0, "hops"], ["core", "access"], W),
     "isps[0].hops[1]", ["'access' comes before 'core'"]),
    ("hops_twice", setitem(["isps", 0, "hops"], ["access", "access"], W),
     "isps[0].hops[1]", ["'access' given twice"]),
    ("hops_upstream_alone", setitem(["isps", 0, "hops"], ["upstream"], W),
     "isps[0].hops[0]", ["'upstream' cannot be the only hop", "access or core before it"]),
    ("site_ip_operator_helper", setitem(["sites", 1, "ip"], "198.51.100.251", C),
     "sites[1].ip", ["reserved", "operator's helper"]),
    ("hops_empty", setitem(["isps", 0, "hops"], [], W),
     "isps[0].hops", ["0 entries; 1..3"]),
    ("hops_wrong_type", setitem(["isps", 0, "hops"], "access", W),
     "isps[0].hops", ["wrong type", "expected an array"]),
    ("at_misspelt", setitem(["isps", 0, "censor", 0, "at"], "upsteam", W),
     "isps[0].censor[0].at", ["unknown value 'upsteam'", "did you mean 'upstream'"]),
    ("at_hop_not_there", setitem(["isps", 0, "hops"], ["access", "upstream"], W),
     "isps[0].censor[0].at", ["'core' is not a hop of isp-a", "its hops are access, upstream"]),
    ("at_without_hops", delitem(["isps", 1, "hops"], W),
     "isps[1].censor[0].at", ["'upstream' is not a hop of isp-b", "no 'hops'"]),
    ("at_in_control_censor", setitem(["control_censor"], [{"type": "sni_rst", "sni": "news.example",
                                                           "at": "access"}], W),
     "control_censor[0].at", ["no hops"]),
    ("tcp_drop_bad_prefix", setitem(["isps", 1, "censor", 1, "ip"], "198.51.100.30/24", W),
     "isps[1].censor[1].ip", ["not an IPv4 address or CIDR prefix"]),
    ("tcp_drop_prefix_no_site", setitem(["isps", 1, "censor", 1, "ip"], "192.0.2.0/24", W),
     "isps[1].censor[1].ip", ["192.0.2.0/24 holds no site's address"]),
    ("tcp_drop_missing_ports", delitem(["isps", 1, "censor", 1, "ports"], W),
     "isps[1].censor[1]", ["missing 'ports'"]),
    ("tcp_drop_port_misspelt", rename(["isps", 1, "censor", 1, "ports"], "port", W),
     "isps[1].censor[1].port", ["unknown key", "did you mean 'ports'", "tcp_drop"]),
    ("udp_drop_bad_range", setitem(["isps", 0, "censor", 0, "ports"], ["3497-3478"], C),
     "isps[0].censor[0].ports[0]", ["'3497-3478' is not a LO-HI range"]),
    ("udp_drop_too_many_ports", setitem(["isps", 0, "censor", 0, "ports"], list(range(1, 18)), C),
     "isps[0].censor[0].ports", ["17 entries; 1..16"]),
    ("cutoff_neither", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "udp_cutoff", "ip": "203.0.113.40", "ports": [3478]}), C),
     "isps[0].censor[1]", ["give one of 'after_s' or 'after_packets'"]),
    ("cutoff_both", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "udp_cutoff", "ports": [3478], "after_s": 5, "after_packets": 9}), C),
     "isps[0].censor[1]", ["give one of 'after_s' or 'after_packets'"]),
    ("cutoff_range", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "udp_cutoff", "ports": [3478], "after_s": 0}), C),
     "isps[0].censor[1].after_s", ["0 is out of range (1..3600)"]),
    ("cutoff_misspelt", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "udp_cutoff", "ports": [3478], "after_packet": 10}), C),
     "isps[0].censor[1].after_packet", ["unknown key", "did you mean 'after_packets'"]),
    ("quic_sni_no_site", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "quic_sni", "sni": "wa.exmaple"}), C),
     "isps[0].censor[1].sni", ["matches no site", "did you mean 'wa.example'"]),
    ("quic_sni_missing", edit(lambda sc: sc["isps"][0]["censor"].append({"type": "quic_sni"}), C),
     "isps[0].censor[1]", ["missing 'sni'"]),
    ("fingerprint_misspelt_shape", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "tls_fingerprint", "sni": "wa.example", "shape": "browsr"}), C),
     "isps[0].censor[1].shape", ["unknown value 'browsr'", "did you mean 'browser'"]),
    ("fingerprint_missing_shape", edit(lambda sc: sc["isps"][0]["censor"].append(
        {"type": "tls_fingerprint", "sni": "wa.example"}), C),
     "isps[0].censor[1]", ["missing 'shape'"]),
    ("relay_without_ports", delitem(["sites", 0, "ports"], C),
     "sites[0]", ["missing 'ports'", "relay"]),
    ("ports_without_relay", setitem(["sites", 1, "ports"], [3478], C),
     "sites[1].ports", ["only a relay or silent site has ports"]),
    ("relay_ports_too_many", setitem(["sites", 0, "ports"], ["1000-1100"], C),
     "sites[0].ports", ["101 ports; at most 64"]),
    ("relay_misspelt", setitem(["sites", 0, "serve"], ["rleay"], C),
     "sites[0].serve[0]", ["unknown value 'rleay'", "did you mean 'relay'"]),
    ("silent_serves_more", setitem(["sites", 0, "serve"], ["silent", "https"], C),
     "sites[0].serve", ["a silent site answers nothing", "https"]),
    ("expect_misspelt_part", setitem(["expect", 0, "service"], "whatsapp/call", C),
     "expect[0].service", ["unknown part '/call'", "did you mean 'calls'"]),
    ("expect_part_unknown_service", setitem(["expect", 0, "service"], "whatsap/calls", C),
     "expect[0].service", ["no site serves 'whatsap'", "did you mean 'whatsapp'"]),
    ("expect_misspelt_where", setitem(["expect", 0, "where"], "ups", C),
     "expect[0].where", ["unknown value 'ups'", "isp, upstream"]),
    ("expect_region_where", edit(lambda sc: sc["expect"].append(
        {"region": "RU-MOW", "service": "whatsapp", "verdict": "partial", "where": "isp"}), C),
     f"expect[{len(BASES[C]['expect'])}].where", ["a region's roll-up has no where"]),
    ("expect_part_twice", edit(lambda sc: sc["expect"].append(dict(sc["expect"][0])), C),
     f"expect[{len(BASES[C]['expect'])}]", ["isp-a/whatsapp/calls is already expected by expect[0]"]),
    # issue 20: the timeline (from/to), whitelist, shutdown, block_aggregator,
    # relay_https sites, an ISP's network, whitelist/shutdown verdicts, "*"
    ("rule_from_misspelt", rename(["isps", 0, "censor", 0, "from"], "form", L),
     "isps[0].censor[0].form", ["unknown key", "did you mean 'from'"]),
    ("rule_from_wrong_type", setitem(["isps", 0, "censor", 0, "from"], "30", L),
     "isps[0].censor[0].from", ["wrong type", "expected an integer"]),
    ("rule_from_negative", setitem(["isps", 0, "censor", 0, "from"], -1, L),
     "isps[0].censor[0].from", ["-1 is out of range (0..86400)"]),
    ("rule_to_before_from", setitem(["isps", 0, "censor", 0, "to"], 20, L),
     "isps[0].censor[0].to", ["20 is not after from (30)"]),
    ("rule_from_after_run", edit(lambda sc: sc["isps"][0]["censor"][0].update(**{"from": 96,
                                                                                 "to": 200}), L),
     "isps[0].censor[0].from", ["after the agents' last round", "about 95 s"]),
    ("whitelist_missing_allow", add_rule({"type": "whitelist"}),
     "isps[0].censor[1]", ["missing 'allow'"]),
    ("whitelist_allow_empty", add_rule({"type": "whitelist", "allow": []}),
     "isps[0].censor[1].allow", ["0 entries; 1..64"]),
    ("whitelist_bad_prefix", add_rule({"type": "whitelist", "allow": ["198.51.100.10/24"]}),
     "isps[0].censor[1].allow[0]", ["not an IPv4 address or CIDR prefix"]),
    ("whitelist_allow_misspelt", add_rule({"type": "whitelist", "alow": ["198.51.100.0/24"]}),
     "isps[0].censor[1].alow", ["unknown key", "did you mean 'allow'"]),
    ("shutdown_with_key", add_rule({"type": "shutdown", "allow": ["198.51.100.0/24"]}),
     "isps[0].censor[1].allow", ["unknown key", "a shutdown rule's keys are type"]),
    ("shutdown_misspelt", add_rule({"type": "shutdwon"}),
     "isps[0].censor[1].type", ["unknown value 'shutdwon'", "did you mean 'shutdown'"]),
    ("block_aggregator_missing_how", add_rule({"type": "block_aggregator"}),
     "isps[0].censor[1]", ["missing 'how'"]),
    ("block_aggregator_misspelt_how", add_rule({"type": "block_aggregator", "how": "zmpt"}),
     "isps[0].censor[1].how", ["unknown value 'zmpt'", "did you mean 'zmtp'", "ip, zmtp"]),
    ("shutdown_in_control_censor", add_rule({"type": "shutdown"}, where="control"),
     "control_censor[0].type", ["would cut the control off"]),
    ("from_in_control_censor", add_rule({"type": "sni_rst", "sni": "news.example", "from": 5},
                                        where="control"),
     "control_censor[0].from", ["always on"]),
    ("relay_https_misspelt", setitem(["sites", 1, "serve"], ["dns", "relay_http"], L),
     "sites[1].serve[1]", ["unknown value 'relay_http'", "did you mean 'relay_https'"]),
    ("relay_https_with_https", setitem(["sites", 1, "serve"], ["https", "relay_https"], L),
     "sites[1].serve", ["port 443 is the relay's"]),
    ("relay_https_down", edit(lambda sc: sc["sites"][1].update(serve=["relay_https"], down=True),
                              L),
     "sites[1].down", ["cannot be down"]),
    ("network_misspelt", setitem(["isps", 0, "network"], "mobil", L),
     "isps[0].network", ["unknown value 'mobil'", "did you mean 'mobile'", "fixed, mobile"]),
    ("network_wrong_type", setitem(["isps", 0, "network"], True, L),
     "isps[0].network", ["wrong type"]),
    ("interval_range", setitem(["interval"], 0, L),
     "interval", ["0 is out of range (1..3600)"]),
    ("interval_float", setitem(["interval"], 5.0, L),
     "interval", ["wrong type", "expected an integer"]),
    ("expect_misspelt_whitelist", setitem(["expect", 1, "verdict"], "whitelsit", L),
     "expect[1].verdict", ["unknown value 'whitelsit'", "did you mean 'whitelist'"]),
    ("expect_misspelt_shutdown", setitem(["expect", 1, "verdict"], "shutdwn", L),
     "expect[1].verdict", ["unknown value 'shutdwn'", "did you mean 'shutdown'"]),
    ("expect_window_reversed", setitem(["expect", 1, "to"], 34, L),
     "expect[1].to", ["34 is not after from (34)"]),
    ("expect_window_misspelt", rename(["expect", 1, "from"], "form", L),
     "expect[1].form", ["unknown key", "did you mean 'from'"]),
    ("expect_window_twice", edit(lambda sc: sc["expect"].append(dict(sc["expect"][1])), L),
     "expect[4]", ["isp-a/facetime from 34 s to 64 s is already expected by expect[1]"]),
    ("offline_missing_to", delitem(["isps", 0, "agent_faults", 0, "to"], O),
     "isps[0].agent_faults[0]", ["missing 'to'", "offline"]),
    ("offline_reversed", setitem(["isps", 0, "agent_faults", 0, "to"], 10, O),
     "isps[0].agent_faults[0].to", ["10 is not after from (20)"]),
    ("offline_misspelt", setitem(["isps", 0, "agent_faults", 0, "fault"], "ofline", O),
     "isps[0].agent_faults[0].fault", ["unknown value 'ofline'", "did you mean 'offline'"]),
    ("fault_time_not_offline", setitem(["isps", 0, "agent_faults", 0, "fault"], "no_route", O),
     "isps[0].agent_faults[0].from", ["only an offline fault has a time"]),
    ("expect_star_twice", edit(lambda sc: sc["expect"].extend(
        [{"isp": "isp-a", "service": "*", "verdict": "whitelist", "from": 40},
         {"isp": "isp-a", "service": "*", "verdict": "shutdown", "from": 40}]), L),
     "expect[5]", ["isp-a/* from 40 s to the end is already expected by expect[4]"]),
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
