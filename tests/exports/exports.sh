#!/bin/bash
# exports.sh BINDIR [EXPORT_FILL] — exports of a real dataset (issue 7).  One real
# zond-aggregator, two probe agents in two regions and ASNs and one control
# agent (real zond-agent processes) measure loopback servers (HTTP, a tiny
# DNS responder, zond-helper for STUN, QUIC, OpenVPN and TLS, a closed port) for two
# rounds; then: JSONL export -> verify; a changed byte and a swapped agent
# key are caught and named; CSV loads in pandas with the right dtypes; the
# OONI export has the documented keys per test and verifies; every format
# carries each agent's network type (p1 mobile, p2 fixed, c1 unknown);
# every filter returns exactly the matching records; daily bundles and their manifest; the
# progress line only on a terminal.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
FILL=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/zond-exports-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { $PY -c 'import socket,sys;s=socket.socket(socket.AF_INET,getattr(socket,sys.argv[1]));s.bind(("127.0.0.1",0));print(s.getsockname()[1])' "$1"; }
WEB=$(port SOCK_STREAM); ZMQ=$(port SOCK_STREAM); BULK=$(port SOCK_STREAM)
DNS=$(port SOCK_DGRAM); STUN=$(port SOCK_DGRAM); QUIC=$(port SOCK_DGRAM); OVPN=$(port SOCK_DGRAM)
CLOSED=$(port SOCK_STREAM)	# nothing listens there: refused

echo hello >"$T/index.html"
$PY -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
$PY "$HERE/dnsd.py" "$DNS" &
pids+=($!)
cat >"$T/helper.conf" <<CONF
[helper]
listen = 127.0.0.1
user = ""
[ports]
stun = $STUN
quic = $QUIC
wireguard = 0
openvpn = $OVPN
echo = 0
bulk = $BULK
CONF
"$BIN/zond-helper" -c "$T/helper.conf" >"$T/helper.log" 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
CONF
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,http,http://127.0.0.1:$WEB/,,,,,,,
web,tcp,127.0.0.1,,$WEB,,,,,
web,dns,ok.test,,,,,,,
news,dns,nx.test,,,,,,,
news,tcp,127.0.0.1,,$CLOSED,,,,,
news,tls,helper.test,127.0.0.1,$BULK,helper.test,control.test,,,
call,stun,127.0.0.1,,$STUN,,,plain,,
call,quic,127.0.0.1,,$QUIC,,,vn,,
vpn,vpn,127.0.0.1,,$OVPN,,,openvpn,,
CONF
NT=9 ROUNDS=2
enroll() {	# name region asn role
	new_agent "$@"
	cat >>"$T/$1.conf" <<CONF
resolver = 127.0.0.1:$DNS
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 2s
rounds = $ROUNDS
CONF
}
enroll p1 RU-MOW 64501 probe
enroll p2 RU-SPE 64502 probe
enroll c1 DE-BE 64600 control
# the operator marks p1 mobile and p2 fixed (c1 stays unknown): every
# format carries the type, --network keeps one
renet() {	# name region asn network
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/$1.pub")" \
		--region "$2" --asn "$3" --name "$1" --network "$4" >/dev/null || bad "enroll $1 --network $4"
}
renet p1 RU-MOW 64501 mobile
renet p2 RU-SPE 64502 fixed
NETS="$(cat "$T/p1.pub")=mobile,$(cat "$T/p2.pub")=fixed,$(cat "$T/c1.pub")=unknown"
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
pids+=($!)
apids=()
for a in p1 p2 c1; do
	timeout 60 "$BIN/zond-agent" -c "$T/$a.conf" >"$T/$a.log" 2>&1 &
	apids+=($!)
done
arc=0
for p in "${apids[@]}"; do wait "$p" || arc=1; done
N=$((3 * NT * ROUNDS))
[ $arc = 0 ] && ok "three agents measured $ROUNDS rounds and delivered" || { bad "agents failed"; tail -5 "$T"/*.log; }
"$BIN/zondctl" agents --data "$T/agg" | grep -q "measurements=$N" && ok "aggregator stored $N measurements" || bad "stored: $("$BIN/zondctl" agents --data "$T/agg" | tail -1)"

# ---- JSONL -> verify, tampering
X=("$BIN/zondctl" export --data "$T/agg")
"${X[@]}" --format jsonl -o "$T/all.jsonl" 2>"$T/all.err"
[ "$(wc -l <"$T/all.jsonl")" = $N ] && ok "jsonl export has $N records" || bad "jsonl export has $(wc -l <"$T/all.jsonl") records"
$PY - "$T/all.jsonl" "$NETS" <<'PY' && ok "jsonl: network mobile, fixed and unknown by the agents' enrolment" || bad "jsonl network"
import json, sys
nets = dict(kv.split("=") for kv in sys.argv[2].split(","))
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["network"] == nets[r["agent"]] for r in recs), [(r["agent"][:8], r["network"]) for r in recs][:5]
assert {r["network"] for r in recs} == {"mobile", "fixed", "unknown"}
PY
"$BIN/zondctl" verify "$T/all.jsonl" >"$T/v.txt"
[ $? = 0 ] && grep -qx "$N valid, 0 invalid" "$T/v.txt" && ok "export -> verify round trip: $N valid" || { bad "verify"; cat "$T/v.txt"; }
$PY - "$T/all.jsonl" "$T" <<'PY'
import base64, json, sys
lines = open(sys.argv[1]).read().splitlines()
t = sys.argv[2]
# one changed byte inside the signed bytes of record 7 (line 7)
r = json.loads(lines[6]); b = bytearray(base64.b64decode(r["signed"]))
b[len(b) // 2] ^= 0x20
r["signed"] = base64.b64encode(bytes(b)).decode()
out = list(lines); out[6] = json.dumps(r)
open(t + "/byte.jsonl", "w").write("\n".join(out) + "\n")
open(t + "/byte.id", "w").write(r["id"])
# record 12 claims to be from another agent (its key replaced)
r = json.loads(lines[11])
other = next(json.loads(l)["agent"] for l in lines if json.loads(l)["agent"] != r["agent"])
r["agent"] = other
out = list(lines); out[11] = json.dumps(r)
open(t + "/key.jsonl", "w").write("\n".join(out) + "\n")
open(t + "/key.id", "w").write(r["id"])
PY
"$BIN/zondctl" verify "$T/byte.jsonl" >"$T/v1.txt"; rc=$?
[ $rc = 1 ] && grep -qx "$((N - 1)) valid, 1 invalid" "$T/v1.txt" && grep -q "^invalid: line 7 id \"$(cat "$T/byte.id")\": bad signature" "$T/v1.txt" \
	&& ok "one changed byte: verify fails and names line 7 and the id" || { bad "changed byte (exit $rc)"; cat "$T/v1.txt"; }
"$BIN/zondctl" verify "$T/key.jsonl" >"$T/v2.txt"; rc=$?
[ $rc = 1 ] && grep -qx "$((N - 1)) valid, 1 invalid" "$T/v2.txt" && grep -q "^invalid: line 12 id \"$(cat "$T/key.id")\"" "$T/v2.txt" \
	&& ok "another agent's key in a record: verify fails and names it" || { bad "swapped key (exit $rc)"; cat "$T/v2.txt"; }
# every signed field is compared, as JSON: a reformatted file (keys sorted,
# other spacing and escapes) stays valid; a changed outcome, net, version,
# duration or list version is named
$PY - "$T/all.jsonl" "$T" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
t = sys.argv[2]
open(t + "/fmt.jsonl", "w").write("".join(json.dumps(r, sort_keys=True, indent=None, separators=(", ", " : ")) + "\n" for r in lines))
edits = [("outcome", lambda r: r["outcome"].__setitem__("failure", "none" if r["outcome"].get("failure") != "none" else "reset")),
         ("net", lambda r: r.__setitem__("net", {"resolver": "203.0.113.9:53"})),
         ("agent_version", lambda r: r.__setitem__("agent_version", "9.9.9")),
         ("duration_ms", lambda r: r.__setitem__("duration_ms", r.get("duration_ms", 0) + 1)),
         ("list_version", lambda r: r.__setitem__("list_version", r.get("list_version", 0) + 1))]
# a repeated key: readers take the last "outcome", a check the first
open(t + "/f-twice.jsonl", "w").write("".join(
    (json.dumps(x) if i != 7 else json.dumps(x)[:-1] + ', "outcome": {"failure": "reset"}}') + "\n"
    for i, x in enumerate(lines)))
for i, (key, f) in enumerate(edits):
    out = [dict(r) for r in lines]
    out[i + 2] = json.loads(json.dumps(lines[i + 2]))
    f(out[i + 2])
    open(t + "/f-" + key + ".jsonl", "w").write("".join(json.dumps(r) + "\n" for r in out))
PY
"$BIN/zondctl" verify "$T/fmt.jsonl" >"$T/vf.txt" && grep -qx "$N valid, 0 invalid" "$T/vf.txt" &&
	ok "reformatted records (sorted keys, other spacing) still verify" || { bad "reformatted"; cat "$T/vf.txt"; }
"$BIN/zondctl" verify "$T/f-twice.jsonl" >"$T/vf.txt"; rc=$?
[ $rc = 1 ] && grep -qx "$((N - 1)) valid, 1 invalid" "$T/vf.txt" && grep -q "key 'outcome' given twice" "$T/vf.txt" &&
	ok "a record that repeats a key is invalid" || { bad "repeated key (exit $rc)"; cat "$T/vf.txt"; }
for key in outcome net agent_version duration_ms list_version; do
	"$BIN/zondctl" verify "$T/f-$key.jsonl" >"$T/vf.txt"; rc=$?
	[ $rc = 1 ] && grep -qx "$((N - 1)) valid, 1 invalid" "$T/vf.txt" && grep -q "'$key' differs from the signed measurement" "$T/vf.txt" &&
		ok "a changed $key is caught and named" || { bad "changed $key (exit $rc)"; cat "$T/vf.txt"; }
done

# ---- CSV in pandas
"${X[@]}" --format csv -o "$T/all.csv" 2>/dev/null
$PY - "$T/all.csv" "$T/all.jsonl" <<'PY' && ok "CSV loads in pandas: seq and asn integers, start datetime, verdict strings" || bad "CSV in pandas"
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1], parse_dates=["start"])
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(df) == len(recs), (len(df), len(recs))
assert pd.api.types.is_integer_dtype(df["seq"]), df.dtypes
assert pd.api.types.is_integer_dtype(df["asn"]), df.dtypes
assert pd.api.types.is_datetime64_any_dtype(df["start"]), df.dtypes
assert df["verdict"].map(type).eq(str).all()
assert set(df["verdict"]) <= {"ok", "blocked", "throttled", "down", "anomaly", "pending"}
assert list(df["id"]) == [r["id"] for r in recs]
assert list(df["asn"]) == [r["asn"] for r in recs]
assert set(df["region"]) == {"RU-MOW", "RU-SPE", "DE-BE"}
PY
$PY - "$T/all.csv" "$T/all.jsonl" "$NETS" <<'PY' && ok "CSV: network is the last column (the others where they were), mobile, fixed and unknown per agent" || bad "CSV network column"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
nets = dict(kv.split("=") for kv in sys.argv[3].split(","))
recs = [json.loads(l) for l in open(sys.argv[2])]
assert rows[0] == ["id", "agent", "seq", "start", "region", "asn", "role", "service", "test",
                   "target", "failure", "verdict", "method", "attempts", "duration_ms", "network"], rows[0]
assert all(len(r) == 16 for r in rows), {len(r) for r in rows}
assert [r[15] for r in rows[1:]] == [nets[r["agent"]] for r in recs] == [r["network"] for r in recs]
assert [r[1] for r in rows[1:]] == [r["agent"] for r in recs]
assert {r[15] for r in rows[1:]} == {"mobile", "fixed", "unknown"}
PY

# ---- OONI
"${X[@]}" --format ooni -o "$T/all.ooni" 2>/dev/null
$PY - "$T/all.ooni" "$T/all.jsonl" <<'PY' && ok "OONI export: base keys and the values of each test's keys" || bad "OONI export"
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
plain = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
assert len(recs) == len(plain)
names = {"http": "web_connectivity", "dns": "urlgetter", "tcp": "tcp_connect",
         "tls": "sni_blocking", "stun": "stunreachability", "quic": "quicping",
         "vpn": "openvpn"}
seen, nets = set(), set()
for o in recs:
    z = o["zond"]; p = plain[z["id"]]
    assert (z["agent"], z["seq"], z["signed"], z["sig"], z["verdict"], z["method"], z["target"]) == \
        (p["agent"], p["seq"], p["signed"], p["sig"], p["verdict"], p["method"], p["target"])
    assert o["data_format_version"] == "0.2.0" and o["probe_ip"] == "127.0.0.1"
    assert o["probe_asn"] == "AS%d" % p["asn"] and o["probe_cc"] == p["region"][:2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", o["measurement_start_time"])
    assert o["measurement_start_time"] == p["start"][:19].replace("T", " ")
    assert re.fullmatch(r"\d{8}T000000Z_[a-z]+_[A-Z]{2}_\d+_n1_[0-9a-f]{16}", o["report_id"]), o["report_id"]
    assert o["software_name"] == "zond-agent" and o["software_version"] == p["agent_version"]
    a = o["annotations"]
    assert a["engine_name"] == "zond" and a["platform"] == "linux" and a["zond_role"] == p["role"], a
    assert a["zond_network"] == p["network"] and "network_type" not in a, (a, p["network"])
    nets.add(a["zond_network"])
    assert o["test_helpers"] == {} and o["resolver_ip"] == "127.0.0.1"
    assert o["test_name"] == names[p["test"]], (o["test_name"], p["test"])
    k = o["test_keys"]; f = p["outcome"]["failure"]
    seen.add(p["test"])
    if p["test"] == "http":
        assert o["input"] == p["target"]
        r = k["requests"][0]
        assert r["response"]["code"] == 200 and k["http_experiment_failure"] is None and r["failure"] is None
        resp = r["response"]
        assert resp["headers"]["Content-Length"] == "6", resp["headers"]
        assert ["Content-Length", "6"] in resp["headers_list"] and resp["body"] == "hello\n", resp["headers_list"]
        assert resp["body_is_truncated"] is False and r["request"]["url"] == p["target"]
        ip, port = r["address"].rsplit(":", 1)
        assert k["tcp_connect"] == [{"ip": ip, "port": int(port), "status": {"failure": None, "success": True}, "t": 0.0}], k["tcp_connect"]
        # the control agent (DE-BE) fetched the same page in the window
        if p["role"] == "probe":
            c = k["control"]["http_request"]
            assert k["control_failure"] is None and c["status_code"] == 200 and c["body_length"] == 6, k["control"]
            assert k["status_code_match"] is True and k["body_length_match"] is True and k["body_proportion"] == 1, k
        if p["verdict"] == "ok":
            assert k["blocking"] is False and k["accessible"] is True, k
        elif p["verdict"] == "pending":
            assert k["blocking"] is None and k["accessible"] is None, k
    elif p["test"] == "dns":
        assert o["input"] == "dnslookup://" + p["target"]
        q = k["queries"][0]
        assert q["hostname"] == p["target"] and q["engine"] == "udp" and q["query_type"] == "A", q
        if p["target"] == "ok.test":
            assert k["failure"] is None and k["failed_operation"] is None
            assert q["answers"][0] == {"answer_type": "A", "ipv4": "198.51.100.7", "ttl": 60}, q
        else:
            assert k["failure"] == "dns_nxdomain_error" and q["answers"] == [] and k["failed_operation"] == "resolve"
    elif p["test"] == "tcp":
        c = k["tcp_connect"][0]
        assert c["ip"] == "127.0.0.1" and isinstance(c["port"], int) and o["input"] == p["target"]
        if f == "refused":
            assert k["connection"] == "connection_refused"
            assert c["status"] == {"success": False, "failure": "connection_refused"}, c
        else:
            assert f == "none" and k["connection"] == "success", (f, k, p["outcome"])
            assert c["status"] == {"success": True, "failure": None}, c
    elif p["test"] == "tls":
        t, c = k["target"], k["control"]
        assert o["input"] == p["target"] and t["sni"] == "helper.test" and c["sni"] == "control.test", (o["input"], t, c)
        # the helper's certificate is self-signed: an unknown authority
        assert f == "cert_invalid" and t["failure"] == "ssl_unknown_authority", (f, t)
        assert t["tls_handshakes"][0]["server_name"] == "helper.test" and t["tcp_connect"][0]["status"]["success"] is True, t
        assert k["result"] == "interference.unknown_authority", k["result"]
    elif p["test"] == "stun":
        addr = p["outcome"]["stun"]["addr"]
        assert o["input"] == "stun://" + addr and k["endpoint"] == addr, (o["input"], addr)
        assert k["failure"] is None and f == "none", (f, k)
        assert [e["operation"] for e in k["network_events"]] == ["connect", "write", "read"]
    elif p["test"] == "quic":
        assert k["domain"] == "127.0.0.1" and o["input"] == p["target"]
        assert (k["failure"] is None) == (f == "none") and len(k["pings"]) == 1, (f, k)
    elif p["test"] == "vpn":
        addr = p["outcome"]["vpn"]["addr"]
        assert o["input"] == "openvpn://unknown.corp/?address=%s&transport=udp" % addr, o["input"]
        h = k["openvpn_handshake"][0]
        assert k["tunnel"] == "openvpn" and h["ip"] == "127.0.0.1" and h["transport"] == "udp"
        assert k["success"] == (f == "none") and (k["failure"] is None) == (f == "none"), (f, k)
assert seen == set(names), seen
assert nets == {"mobile", "fixed", "unknown"}, nets
PY
# every key of OONI's own samples (written from ooni/spec), with its type,
# in every record of that test; every failure string one of df-007's
$PY "$HERE/ooni_check.py" "$HERE/ooni-samples" "$T/all.ooni" web_connectivity urlgetter tcp_connect \
	sni_blocking stunreachability quicping openvpn >"$T/oc.txt" \
	&& ok "OONI records have the keys and types of OONI's samples: $(tail -1 "$T/oc.txt")" || { bad "OONI shapes"; cat "$T/oc.txt"; }

"$BIN/zondctl" verify "$T/all.ooni" >"$T/vo.txt"
[ $? = 0 ] && grep -qx "$N valid, 0 invalid" "$T/vo.txt" && ok "OONI export verifies: $N valid" || { bad "OONI verify"; cat "$T/vo.txt"; }
$PY - "$T/all.ooni" "$T" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
# the first mapping (0.1.0) had no zond.target and input was the target:
# such a record still verifies
old = []
for l in lines:
    r = json.loads(l)
    if r["test_name"] == "web_connectivity":
        del r["zond"]["target"]
        old.append(json.dumps(r))
open(sys.argv[2] + "/ooni-010.jsonl", "w").write("\n".join(old) + "\n")
for key, n in (("input", 2), ("target", 4)):
    out = list(lines)
    r = json.loads(out[n])
    if key == "input":
        r["input"] = r["input"] + "x"
    else:
        r["zond"]["target"] = r["zond"]["target"] + "x"
    out[n] = json.dumps(r)
    open("%s/ooni-bad-%s.jsonl" % (sys.argv[2], key), "w").write("\n".join(out) + "\n")
PY
"$BIN/zondctl" verify "$T/ooni-bad-input.jsonl" >"$T/vo2.txt"; rc=$?
[ $rc = 1 ] && grep -q "^invalid: line 3 id \".*'input' differs" "$T/vo2.txt" && ok "a changed OONI input is caught and named" || { bad "OONI tamper input (exit $rc)"; cat "$T/vo2.txt"; }
"$BIN/zondctl" verify "$T/ooni-bad-target.jsonl" >"$T/vo2.txt"; rc=$?
[ $rc = 1 ] && grep -q "^invalid: line 5 id \".*'zond.target' differs" "$T/vo2.txt" && ok "a changed zond.target is caught and named" || { bad "OONI tamper target (exit $rc)"; cat "$T/vo2.txt"; }
n010=$(wc -l <"$T/ooni-010.jsonl")
"$BIN/zondctl" verify "$T/ooni-010.jsonl" >"$T/vo3.txt" && grep -qx "$n010 valid, 0 invalid" "$T/vo3.txt" \
	&& ok "records of the first OONI mapping (no zond.target) still verify" || { bad "OONI 0.1.0 records"; cat "$T/vo3.txt"; }

# ---- filters: each returns exactly what filtering the full export gives
$PY - "$T/all.jsonl" >"$T/cuts" <<'PY'
import json, sys
starts = sorted(json.loads(l)["start"] for l in open(sys.argv[1]))
print(starts[len(starts) // 3], starts[2 * len(starts) // 3])
PY
read -r CUT1 CUT2 <"$T/cuts"
fcheck() {	# description python-predicate export-args...
	local desc=$1 pred=$2; shift 2
	"${X[@]}" --format jsonl "$@" -o "$T/f.jsonl" 2>/dev/null || { bad "filter $desc: export failed"; return; }
	$PY - "$T/all.jsonl" "$T/f.jsonl" "$pred" <<'PY' && ok "filter $desc returns exactly the matching records" || bad "filter $desc"
import json, sys
allr = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l)["id"] for l in open(sys.argv[2])]
want = [r["id"] for r in allr if eval(sys.argv[3], {}, {"r": r})]
assert 0 < len(want) < len(allr), len(want)
assert got == want, (len(got), len(want))
PY
}
fcheck "--since" "r['start'] >= '$CUT1'" --since "$CUT1"
fcheck "--until" "r['start'] < '$CUT2'" --until "$CUT2"
fcheck "--since --until" "'$CUT1' <= r['start'] < '$CUT2'" --since "$CUT1" --until "$CUT2"
fcheck "--region" "r['region'] == 'RU-SPE'" --region RU-SPE
fcheck "--asn" "r['asn'] == 64501" --asn 64501
fcheck "--service" "r['service'] == 'news'" --service news
fcheck "--network mobile" "r['agent'] == '$(cat "$T/p1.pub")'" --network mobile
fcheck "--network fixed" "r['agent'] == '$(cat "$T/p2.pub")'" --network fixed
fcheck "--network unknown" "r['role'] == 'control'" --network unknown
for fmt in csv ooni; do
	"${X[@]}" --format $fmt --network mobile -o "$T/fm.$fmt" 2>/dev/null
	$PY - "$T/fm.$fmt" $fmt <<'PY' && ok "--network mobile --format $fmt: only the mobile agent's $((NT * ROUNDS)) records" || bad "--network mobile --format $fmt"
import csv, json, sys
if sys.argv[2] == "csv":
    got = [r[15] for r in list(csv.reader(open(sys.argv[1], newline="")))[1:]]
else:
    got = [json.loads(l)["annotations"]["zond_network"] for l in open(sys.argv[1])]
assert got and set(got) == {"mobile"}, got
PY
	[ "$(grep -vc '^id,' "$T/fm.$fmt")" = $((NT * ROUNDS)) ] || bad "--network mobile --format $fmt: $(wc -l <"$T/fm.$fmt") lines"
done
"${X[@]}" --network wifi >/dev/null 2>"$T/nw.err"; rc=$?
[ $rc = 2 ] && grep -q "network: 'wifi' is not fixed, mobile or unknown" "$T/nw.err" \
	&& ok "--network wifi: refused with exit 2, naming the value" || { bad "--network wifi (exit $rc)"; cat "$T/nw.err"; }
fcheck "all filters" "r['service'] == 'web' and r['asn'] == 64501 and r['region'] == 'RU-MOW' and r['start'] >= '$CUT1'" \
	--service web --asn 64501 --region RU-MOW --since "$CUT1"

# ---- daily bundles
"${X[@]}" --daily "$T/daily" 2>"$T/d1.err" >"$T/d1.out"
rc=$?
$PY - "$T/daily" "$T/all.jsonl" <<'PY' && [ $rc = 0 ] && ok "daily: one .jsonl.gz per UTC day, manifest counts, sizes and sha256 match" || { bad "daily bundles (exit $rc)"; cat "$T/d1.err"; }
import gzip, hashlib, json, os, sys
d = sys.argv[1]
recs = [json.loads(l) for l in open(sys.argv[2])]
days = {}
for r in recs:
    days.setdefault(r["start"][:10], []).append(r["id"])
m = json.load(open(os.path.join(d, "manifest.json")))
files = sorted(f for f in os.listdir(d) if f.endswith(".jsonl.gz"))
assert files == ["zond-%s.jsonl.gz" % k for k in sorted(days)], files
assert [e["day"] for e in m["files"]] == sorted(days)
for e in m["files"]:
    p = os.path.join(d, e["file"])
    raw = open(p, "rb").read()
    assert e["bytes"] == len(raw) and e["sha256"] == hashlib.sha256(raw).hexdigest()
    lines = gzip.decompress(raw).decode().splitlines()
    assert e["records"] == len(lines) == len(days[e["day"]])
    assert [json.loads(l)["id"] for l in lines] == days[e["day"]]
assert not [f for f in os.listdir(d) if f.startswith(".")], os.listdir(d)
PY
ok_v=1
for f in "$T"/daily/*.jsonl.gz; do "$BIN/zondctl" verify "$f" >/dev/null || ok_v=0; done
[ $ok_v = 1 ] && ok "daily files verify" || bad "daily files do not verify"
# a rewrite is a rename: a new inode (and a new mtime)
stat -c '%n %i %s %y' "$T"/daily/* | sort >"$T/d1.stat"
sha256sum "$T"/daily/* | sort >"$T/d1.sum"
"${X[@]}" --daily "$T/daily" 2>"$T/d2.err"
rc=$?
stat -c '%n %i %s %y' "$T"/daily/* | sort >"$T/d2.stat"
sha256sum "$T"/daily/* | sort >"$T/d2.sum"
[ $rc = 0 ] && cmp -s "$T/d1.stat" "$T/d2.stat" && cmp -s "$T/d1.sum" "$T/d2.sum" && grep -q "0 day files written" "$T/d2.err" \
	&& ok "daily: a second run changes nothing" || { bad "daily second run (exit $rc)"; cat "$T/d2.err"; diff "$T/d1.stat" "$T/d2.stat"; }
# a changed day is rewritten: fake an older content hash in the manifest
sed -i 's/"content_sha256":"[0-9a-f]*"/"content_sha256":"00"/' "$T/daily/manifest.json"
"${X[@]}" --daily "$T/daily" 2>"$T/d3.err"
sha256sum "$T"/daily/* | sort >"$T/d3.sum"
ndays=$(ls "$T"/daily/*.jsonl.gz | wc -l)
grep -q " $ndays day files written" "$T/d3.err" && cmp -s "$T/d1.sum" "$T/d3.sum" \
	&& ok "daily: a day whose content changed is rewritten (same bytes for the same content)" || { bad "daily rewrite"; cat "$T/d3.err"; }

# ---- daily bundles over several days (a dataset made through the store
# API by bench/export's filler: 3,000 signed measurements over 72 hours)
if [ -n "${FILL:-}" ]; then
	"$FILL" --data "$T/fill" --count 3000 --agents 20 --hours 72 >/dev/null
	F=("$BIN/zondctl" export --data "$T/fill")
	"${F[@]}" -o "$T/fill.jsonl" 2>/dev/null
	"${F[@]}" --daily "$T/fd" 2>"$T/fd1.err"
	$PY - "$T/fd" "$T/fill.jsonl" <<'PY' && ok "daily over several days: a file per day, manifest right" || { bad "daily over several days"; cat "$T/fd1.err"; }
import gzip, hashlib, json, os, sys
d = sys.argv[1]
days = {}
for l in open(sys.argv[2]):
    r = json.loads(l); days.setdefault(r["start"][:10], []).append(r["id"])
assert len(days) >= 3, sorted(days)
m = json.load(open(os.path.join(d, "manifest.json")))
assert sorted(f for f in os.listdir(d) if f.endswith(".gz")) == ["zond-%s.jsonl.gz" % k for k in sorted(days)]
assert [e["day"] for e in m["files"]] == sorted(days)
for e in m["files"]:
    raw = open(os.path.join(d, e["file"]), "rb").read()
    assert e["sha256"] == hashlib.sha256(raw).hexdigest() and e["bytes"] == len(raw)
    ids = [json.loads(l)["id"] for l in gzip.decompress(raw).decode().splitlines()]
    assert e["records"] == len(ids) and ids == days[e["day"]]
assert sum(e["records"] for e in m["files"]) == 3000
PY
	nv=0
	for f in "$T"/fd/*.gz; do "$BIN/zondctl" verify "$f" | grep -q ", 0 invalid" && nv=$((nv + 1)); done
	[ "$nv" = "$(ls "$T"/fd/*.gz | wc -l)" ] && ok "every day file verifies" || bad "day files verify: $nv"
	sha256sum "$T"/fd/* >"$T/fd1.sum"
	"${F[@]}" --daily "$T/fd" 2>"$T/fd2.err"
	sha256sum "$T"/fd/* >"$T/fd2.sum"
	cmp -s "$T/fd1.sum" "$T/fd2.sum" && grep -q "0 day files written" "$T/fd2.err" && ok "daily over several days: second run idempotent" || bad "daily idempotence"
	# mark every day as changed, then export only from the last day on:
	# that day is rewritten, the earlier ones are left as they were
	last=$(ls "$T"/fd/*.gz | tail -1 | sed 's/.*zond-\(.*\)\.jsonl\.gz/\1/')
	sed -i 's/"content_sha256":"[0-9a-f]*"/"content_sha256":"00"/' "$T/fd/manifest.json"
	"${F[@]}" --daily "$T/fd" --since "$last" 2>"$T/fd3.err"
	$PY - "$T/fd/manifest.json" "$last" <<'PY' && grep -q " 1 day files written" "$T/fd3.err" && ok "daily --since: only the days in range are rewritten" || { bad "daily --since"; cat "$T/fd3.err"; }
import json, sys
m = json.load(open(sys.argv[1]))
for e in m["files"]:
    assert (e["content_sha256"] == "00") == (e["day"] != sys.argv[2]), e
PY
fi

# ---- progress only on a terminal
"${X[@]}" --format jsonl -o "$T/p.jsonl" 2>"$T/p.err" | cat
[ ! -s "$T/p.err" ] && [ ! -s "$T/all.err" ] && ok "no progress output when stderr is not a terminal" || { bad "progress when piped"; od -c "$T/p.err" | head; }
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "${X[@]}") --format jsonl -o $T/p2.jsonl" /dev/null >"$T/tty.out" 2>&1
	grep -q "records" "$T/tty.out" && grep -q $'\033\\[K' "$T/tty.out" && cmp -s "$T/p2.jsonl" "$T/all.jsonl" \
		&& ok "progress line on a terminal, cleared at the end" || { bad "progress on a tty"; od -c "$T/tty.out" | head; }
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
