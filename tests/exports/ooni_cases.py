#!/usr/bin/python3
"""ooni_cases.py OONI_CASES SAMPLES_DIR — run the ooni_cases program (OONI
records of crafted measurements through the real ooni_record) and check
what docs/DATA.md "OONI format" promises for each: blocking/accessible per
verdict, requests newest first, truncated and binary bodies, certificate
failures, DoH, the QUIC and VPN names, and df-007 strings for every
failure kind; then OONI's shapes (ooni_check.py) over all records."""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import ooni_check  # noqa: E402

out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
recs, fails = {}, {}
for line in out.splitlines():
    parts = line.split("\t")
    if parts[0] == "FAIL":
        fails[parts[1]] = parts[2]
    else:
        recs[parts[0]] = json.loads(parts[1])
passed = failed = 0


def check(name, cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}: {what}")
    else:
        failed += 1
        print(f"FAIL {name}: {what}")


def tk(name):
    return recs[name]["test_keys"]


def ba(name):
    k = tk(name)
    return (k["blocking"], k["accessible"])


check("http_ok", recs["http_ok"]["annotations"]["zond_network"] == "mobile"
      and "network_type" not in recs["http_ok"]["annotations"],
      "the agent's network type as annotation zond_network, OONI's network_type left out")
check("http_ok", ba("http_ok") == (False, True), "ok -> blocking false, accessible true")
check("http_ok", tk("http_ok")["dns_consistency"] == "consistent", "ok -> dns consistent")
check("http_ok", tk("http_ok")["control_failure"] == "unknown_failure: zond_no_control"
      and tk("http_ok")["control"]["http_request"]["status_code"] == -1
      and tk("http_ok")["status_code_match"] is None,
      "no control: control_failure set, status_code -1, *_match null")
check("http_dns", ba("http_dns") == ("dns", False), "blocked by dns -> \"dns\"")
check("http_dns", tk("http_dns")["dns_consistency"] == "inconsistent"
      and tk("http_dns")["dns_experiment_failure"] == "dns_nxdomain_error"
      and tk("http_dns")["http_experiment_failure"] == "dns_nxdomain_error",
      "dns: inconsistent, the name's failure as dns_experiment_failure")
check("http_tcp", ba("http_tcp") == ("tcp_ip", False), "blocked by tcp -> \"tcp_ip\"")
check("http_tcp", tk("http_tcp")["tcp_connect"][0]["status"] ==
      {"failure": "generic_timeout_error", "success": False}, "a connect timeout in tcp_connect")
check("http_blockpage", ba("http_blockpage") == ("http-diff", False), "blockpage -> \"http-diff\"")
check("http_blockpage", tk("http_blockpage")["http_experiment_failure"] is None
      and tk("http_blockpage")["zond_blockpage"] == "ru-rkn-stub"
      and tk("http_blockpage")["requests"][0]["response"]["code"] == 451,
      "blockpage: no transport failure, fingerprint named, status kept")
check("http_reset", ba("http_reset") == ("http-failure", False), "reset (tls) -> \"http-failure\"")
check("http_reset", tk("http_reset")["tcp_connect"][0]["status"]["success"] is True
      and tk("http_reset")["http_experiment_failure"] == "connection_reset",
      "reset after connect: connect succeeded, request failed")
check("http_down", ba("http_down") == (False, False), "down -> blocking false, accessible false")
check("http_geoblocked", ba("http_geoblocked") == (False, False), "geoblocked -> false, false")
check("http_filtered", ba("http_filtered") == ("http-diff", False), "filtered blockpage -> \"http-diff\"")
check("http_pending", ba("http_pending") == (None, None), "pending -> null, null")
check("http_review", ba("http_review") == (None, None)
      and recs["http_review"]["zond"]["verdict"] == "review",
      "review (censor or site, not known) -> null, null; zond says review")
check("http_ok", recs["http_ok"]["zond"]["verdict"] == "ok"
      and recs["http_geoblocked"]["zond"]["verdict"] == "geoblocked"
      and recs["http_filtered"]["zond"]["verdict"] == "filtered", "our verdict kept in zond")
hd = tk("http_ok")["requests"][0]["response"]
check("http_ok", hd["headers"]["Set-Cookie"] == "a=1" and
      [h for h in hd["headers_list"] if h[0] == "Set-Cookie"] == [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]],
      "headers keeps a repeated name's first value, headers_list all")
q = tk("http_ok")["queries"]
check("http_ok", len(q) == 1 and q[0]["answers"] == [{"answer_type": "A", "ipv4": "203.0.113.7", "ttl": None}]
      and q[0]["hostname"] == "news.example", "the resolution as a df-002 query")

rq = tk("redirects")["requests"]
check("redirects", [r["request"]["url"] for r in rq] ==
      ["https://www.news.example/ru/", "https://www.news.example/", "http://news.example/"],
      "one request per hop, newest first")
check("redirects", [r["response"]["code"] for r in rq] == [200, 0, 0]
      and rq[1]["response"]["headers"] == {"Location": "https://www.news.example/ru/"}
      and rq[2]["response"]["headers"] == {"Location": "https://www.news.example/"},
      "each redirect names its Location")
body = rq[0]["response"]["body"]
check("redirects", isinstance(body, dict) and body["format"] == "base64" and len(body["data"]) > 600
      and rq[0]["response"]["body_is_truncated"] is True and rq[1]["response"]["body_is_truncated"] is False,
      "binary body as BinaryData; truncated flag for the 5000-byte body")

th = tk("https_mitm")["tls_handshakes"]
check("https_mitm", len(th) == 1 and th[0]["failure"] == "ssl_unknown_authority"
      and th[0]["server_name"] == "news.example" and th[0]["address"] == "203.0.113.7:443"
      and tk("https_mitm")["tcp_connect"][0]["status"]["success"] is True
      and ba("https_mitm") == ("http-failure", False),
      "https with a forged certificate: connect ok, TLS handshake failed, http-failure")
th = tk("https_redirected")["tls_handshakes"]
check("https_redirected", len(th) == 1 and th[0]["failure"] is None and th[0]["server_name"] == "2001:db8::7"
      and tk("http_ok")["tls_handshakes"] == [],
      "the handshake names the host of the last absolute URL; none for http")
for name, want, result in (("tls_expired", "ssl_invalid_certificate", "interference.invalid_certificate"),
                           ("tls_name", "ssl_invalid_hostname", "interference.invalid_certificate"),
                           ("tls_selfsigned", "ssl_unknown_authority", "interference.unknown_authority")):
    t = tk(name)
    check(name, t["target"]["failure"] == want and t["result"] == result and t["control"] is None,
          f"certificate message -> {want}, result {result}")
check("tls_shape", tk("tls_name").get("zond_shape") == "browser" and "zond_shape" not in tk("tls_expired"),
      "the ClientHello shape is zond_shape when recorded")

d = tk("doh")
check("doh", recs["doh"]["input"] == "dnslookup://news.example" and recs["doh"]["test_name"] == "urlgetter"
      and d["queries"][0]["engine"] == "doh" and d["queries"][0]["query_type"] == "AAAA"
      and d["queries"][0]["answers"] == [{"answer_type": "CNAME", "hostname": "cdn.example", "ttl": 30},
                                         {"answer_type": "AAAA", "ipv6": "2001:db8::7", "ttl": 30}]
      and d["queries"][0]["resolver_address"] == "https://doh.example/dns-query",
      "DoH as urlgetter dnslookup, engine doh, CNAME and AAAA answers")
check("quic", recs["quic_initial"]["test_name"] == "zond_quic"
      and recs["quic_vn_blocked"]["test_name"] == "quicping"
      and tk("quic_vn_blocked")["pings"][0]["responses"] == []
      and tk("quic_vn_blocked")["failure"] == "generic_timeout_error",
      "QUIC vn is quicping (no response on no_reply), other variants zond_quic")
check("vpn", recs["wireguard"]["test_name"] == "zond_vpn"
      and recs["wireguard"]["input"] == "203.0.113.7:443", "WireGuard is zond_vpn")

h = tk("huge")
check("huge", len(h["target"]["th_address"]) == len(h["control"]["th_address"]) > 60000
      and h["target"]["tls_handshakes"][0]["address"] == h["target"]["th_address"],
      "a record of the largest measurement (an address of control characters) is written whole")
bad = {k: v for k, v in fails.items() if v != "null" and v not in ooni_check.DF007
       and not v.startswith("unknown_failure")}
check("failures", len(fails) == 20 and not bad, f"all {len(fails)} failure kinds map to df-007 ({bad or 'none off the list'})")
check("failures", fails["none"] == "null" and fails["blockpage"] == "null" and fails["stall"] == "generic_timeout_error"
      and fails["http_error"] == "http_request_failed", "none/blockpage null, stall a timeout, http_error http_request_failed")

with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    f.write("".join(json.dumps(r) + "\n" for r in recs.values()))
rc = subprocess.run([sys.executable, os.path.join(here, "ooni_check.py"), sys.argv[2], f.name])
os.unlink(f.name)
check("shapes", rc.returncode == 0, "every crafted record has OONI's keys and types")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
