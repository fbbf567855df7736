#!/bin/bash
# regime.sh BINDIR [PYTHON3] — a whitelist seen through the HTTP API
# (docs/METHODOLOGY.md §3.8, docs/API.md "network"): one real
# zond-aggregator, a control agent that reaches everything and two
# mobile probes of RU-MOW/AS64501 that reach the domestic reference but
# not the foreign reference nor the service (their lists aim those
# names at a loopback address where nothing listens).  The map says `whitelist`
# for the service, never `blocked`; the events read the entry; the map
# and the export (JSONL, CSV, OONI) split by network type.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/zond-regime-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port); HTTP=$(port)

# three loopback addresses: domestic reference, foreign reference, service
for a in 127.0.0.1 127.0.0.2 127.0.0.3; do
	"$PY" -m http.server "$WEB" --bind $a --directory "$T" >/dev/null 2>&1 &
	pids+=($!)
done
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
agg_conf
# the control reaches all three; the probes only the domestic one (the
# same names and port on 127.0.0.9, where nothing listens: refused)
cat >"$T/ep-open.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
reference-domestic,tcp,domestic.test,127.0.0.1,$WEB,,,,,
reference-foreign,tcp,foreign.test,127.0.0.2,$WEB,,,,,
web,tcp,web.test,127.0.0.3,$WEB,,,,,
CONF
cat >"$T/ep-closed.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
reference-domestic,tcp,domestic.test,127.0.0.1,$WEB,,,,,
reference-foreign,tcp,foreign.test,127.0.0.9,$WEB,,,,,
web,tcp,web.test,127.0.0.9,$WEB,,,,,
CONF
for a in c1 p1 p2; do
	role=probe region=RU-MOW asn=64501 ep=closed
	[ $a = c1 ] && role=control region=DE-BE asn=64999 ep=open
	new_agent $a $region $asn $role
	sed -i "s|^endpoints = .*|endpoints = $T/ep-$ep.csv|" "$T/$a.conf"
	cat >>"$T/$a.conf" <<CONF
[schedule]
interval = 1s
jitter = 100ms
retries = 1
retry_delay = 100ms
timeout = 2s
rounds = 4
CONF
done
# the operator marks the probes mobile (enroll again with --network)
for a in p1 p2; do
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/$a.pub")" \
		--region RU-MOW --asn 64501 --name $a --network mobile >/dev/null
done
"$BIN/zondctl" agents --data "$T/agg" | grep -c "network=mobile" | grep -qx 2 \
	&& ok "zondctl enroll --network mobile changes an enrolled agent's type" || bad "network not changed"

"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
pids+=($agg)
apids=()
for a in c1 p1 p2; do
	timeout 60 "$BIN/zond-agent" -c "$T/$a.conf" >"$T/$a.log" 2>&1 &
	apids+=($!)
done
rcs=""
for p in "${apids[@]}"; do wait "$p"; rcs="$rcs$?"; done
[ "$rcs" = 000 ] && ok "agents delivered 3 x 4 rounds x 3 tests" || { bad "agents exited $rcs"; tail -5 "$T/p1.log"; }
wait_agents_stored 12 3 || bad "the registry never showed 12 stored for each agent"

"$PY" - "http://127.0.0.1:$HTTP" <<'PY'
import json, sys, time, urllib.error, urllib.request
base = sys.argv[1]
R = "since=2020-01-01T00:00:00Z&until=2099-01-01T00:00:00Z"
fails = 0
def ok(c, what):
    global fails
    print(("ok   " if c else "FAIL ") + what)
    fails += 0 if c else 1
def get(path):
    return json.load(urllib.request.urlopen(base + path))
# the analyzer judges within a few rounds (interval 300 ms)
for _ in range(100):
    m = get("/api/v1/map?" + R)
    if m.get("pending") == 0 and any(c["service"] == "web" and c["verdict"] != "insufficient" for c in m["cells"]):
        break
    time.sleep(0.2)
web = [c for c in m["cells"] if c["service"] == "web"]
ok(len(web) == 1 and web[0]["verdict"] == "whitelist" and web[0]["method"] is None and web[0]["agents"] == 2,
   "map: the service of a whitelisted network is whitelist, not blocked: %s" % [(c["verdict"], c["agents"]) for c in web])
ok(all(not c["service"].startswith("reference-") for c in m["cells"]) and
   all(not r["service"].startswith("reference-") for r in m["regions"]),
   "map: the references are evidence, no cells or regions of their own")
reg = [r for r in m["regions"] if r["service"] == "web"]
ok(len(reg) == 1 and reg[0]["verdict"] == "whitelist", "map: region RU-MOW web is whitelist: %s" % reg)
f = get("/api/v1/map?service=reference-foreign&" + R)["cells"]
ok(len(f) == 1 and f[0]["verdict"] == "blocked", "map?service=reference-foreign: the evidence, blocked")
w = get("/api/v1/map?service=web&" + R)["cells"]
ok(len(w) == 1 and w[0]["verdict"] == "whitelist", "map?service=web reads the references too")
mob = get("/api/v1/map?network=mobile&" + R)["cells"]
fix = get("/api/v1/map?network=fixed&" + R)["cells"]
ok([c["verdict"] for c in mob if c["service"] == "web"] == ["whitelist"] and fix == [],
   "map?network=mobile has the whitelist, network=fixed no cells")
try:
    urllib.request.urlopen(base + "/api/v1/map?network=wifi")
    ok(False, "map?network=wifi refused")
except urllib.error.HTTPError as e:
    body = e.read().decode()
    ok(e.code == 400 and "network: 'wifi' is not fixed, mobile or unknown" in body,
       "map?network=wifi: 400 naming the value (%d %s)" % (e.code, body.strip()))
ev = get("/api/v1/events?since=%s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200)))["events"]
ok(any(e["service"] == "web" and e["to"] == "whitelist" and e["region"] == "RU-MOW" for e in ev) and
   not any(e["service"].startswith("reference-") for e in ev) and
   not any(e["to"] == "blocked" for e in ev),
   "events: web entered whitelist in RU-MOW; no blocked event, none for references: %s" % ev)
def export(q):
    lines = urllib.request.urlopen(base + "/api/v1/export?format=jsonl" + q).read().decode().splitlines()
    return [json.loads(l) for l in lines]
allx = export("")
mx = export("&network=mobile")
ok(len(allx) == 36 and len(mx) == 24 and all(r["network"] == "mobile" and r["role"] == "probe" for r in mx)
   and sum(r["network"] == "unknown" for r in allx) == 12,
   "export: network on every record, network=mobile keeps the probes' 24 (%d, %d)" % (len(allx), len(mx)))
def raw(q):
    return urllib.request.urlopen(base + "/api/v1/export?" + q).read().decode().splitlines()
cx = raw("format=csv")
ok(cx[0].split(",")[-1] == "network" and len(cx) == 37 and
   sorted(l.rsplit(",", 1)[1] for l in cx[1:]) == ["mobile"] * 24 + ["unknown"] * 12,
   "export?format=csv: network the last column, mobile for the probes, unknown for the control")
ox = [json.loads(l)["annotations"]["zond_network"] for l in raw("format=ooni&network=mobile")]
ok(ox == ["mobile"] * 24, "export?format=ooni&network=mobile: 24 records, annotation zond_network mobile")
try:
    urllib.request.urlopen(base + "/api/v1/export?format=csv&network=wifi")
    ok(False, "export?network=wifi refused")
except urllib.error.HTTPError as e:
    body = e.read().decode()
    ok(e.code == 400 and "network: 'wifi' is not fixed, mobile or unknown" in body,
       "export?network=wifi: 400 naming the value (%d %s)" % (e.code, body.strip()))
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] && ok "regime.py: map, regions, events and export" || bad "regime.py failed"

out=$("$BIN/zondctl" map --data "$T/agg" --since 2020-01-01T00:00:00Z --network mobile --json)
echo "$out" | "$PY" -c 'import json,sys;m=json.load(sys.stdin);assert [c["verdict"] for c in m["cells"]]==["whitelist"],m' \
	&& ok "zondctl map --network mobile: whitelist" || bad "zondctl map --network"
"$BIN/zondctl" export --data "$T/agg" --network fixed >"$T/fixed.jsonl" && [ ! -s "$T/fixed.jsonl" ] \
	&& ok "zondctl export --network fixed: no records" || bad "zondctl export --network fixed"
"$BIN/zondctl" export --data "$T/agg" --network wifi >/dev/null 2>"$T/err"; r=$?
[ $r = 2 ] && grep -q "network: 'wifi' is not fixed, mobile or unknown" "$T/err" \
	&& ok "zondctl export --network wifi: refused, exit 2" || bad "export --network wifi (exit $r)"

kill -TERM $agg; wait $agg
rc=$?
[ $rc = 0 ] && ! grep -qE "Sanitizer|runtime error" "$T/agg.log" \
	&& ok "the aggregator stops cleanly (no sanitizer report)" || { bad "aggregator exit $rc"; tail -20 "$T/agg.log"; }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
