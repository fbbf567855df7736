#!/bin/bash
# silence.sh BINDIR [PYTHON3] — a shutdown seen from silence, end to end
# (docs/METHODOLOGY.md §3.8 "Silence", docs/API.md /api/v1/silences): one
# real zond-aggregator ([analysis] silence_after 3s, silence_spread 3s),
# a control and two probes of RU-MOW/AS64501 that heartbeat every second
# and measure a local web server, then stop together.  The aggregator
# opens a silence period for RU-MOW/AS64501 (2 agents, no end), the map
# of the state now and the events say `shutdown` for the service; a third
# probe of RU-SPE that stops alone makes no period.  The two come back:
# the period ends at their first heartbeat and the map says ok again.
# A public listener (k 3; a third RU-MOW probe of another ASN is enrolled
# and never runs) shows the period without its ASN (docs/API.md "Public
# view and operator token").
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
PY=${2:-/usr/bin/python3}
T=$(mktemp -d /tmp/zond-silence-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port); HTTP=$(port); PUB=$(port)

"$PY" -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
agg_conf
cat >>"$T/agg.conf" <<CONF
silence_after = 3s
silence_spread = 3s
[http]
public_listen = 127.0.0.1:$PUB
CONF
"$BIN/zondctl" keygen -o "$T/p3" >"$T/p3.pub" &&
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/p3.pub")" \
	--region RU-MOW --asn 64503 --name p3 --role probe >/dev/null || bad "enroll p3"
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,web.test,127.0.0.1,$WEB,,,,,
CONF
for a in c1 p1 p2 s1; do
	role=probe region=RU-MOW asn=64501
	[ $a = c1 ] && role=control region=DE-BE asn=64999
	[ $a = s1 ] && region=RU-SPE asn=64502
	new_agent $a $region $asn $role || bad "new_agent $a"
	cat >>"$T/$a.conf" <<CONF
[schedule]
interval = 1s
jitter = 100ms
retries = 1
retry_delay = 100ms
timeout = 2s
CONF
done
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
pids+=($agg)
# the control keeps measuring; the probes beat for 10 s, then stop together
"$BIN/zond-agent" -c "$T/c1.conf" >"$T/c1.log" 2>&1 &
pids+=($!)
apids=()
for a in p1 p2 s1; do
	timeout -s TERM 10 "$BIN/zond-agent" -c "$T/$a.conf" >"$T/$a.log" 2>&1 &
	apids+=($!)
done
for p in "${apids[@]}"; do wait "$p"; done

"$PY" - "http://127.0.0.1:$HTTP" "http://127.0.0.1:$PUB" <<'PY'
import json, sys, time, urllib.error, urllib.request
base = sys.argv[1]
fails = 0
def ok(c, what):
    global fails
    print(("ok   " if c else "FAIL ") + what)
    fails += 0 if c else 1
def get(path):
    return json.load(urllib.request.urlopen(base + path))
R = "since=2020-01-01T00:00:00Z"
# silence_after 3 s, checked every 5 s: a period within about 10 s
sil = []
for _ in range(100):
    sil = get("/api/v1/silences?" + R)["silences"]
    if sil:
        break
    time.sleep(0.2)
ok(len(sil) == 1 and sil[0]["region"] == "RU-MOW" and sil[0]["asn"] == 64501 and
   sil[0]["agents"] == 2 and sil[0]["end"] is None,
   "silences: RU-MOW AS64501, 2 agents, still open (RU-SPE's lone agent: none): %s" % sil)
m = get("/api/v1/map?sample=latest&" + R)
web = {(c["region"], c["service"]): c["verdict"] for c in m["cells"]}
ok(web.get(("RU-MOW", "web")) == "shutdown",
   "map?sample=latest: web in RU-MOW is shutdown: %s" % web)
mc = get("/api/v1/map?" + R)
ok([c["verdict"] for c in mc["cells"] if c["region"] == "RU-MOW" and c["service"] == "web"] == ["ok"],
   "map (common): what the measurements said, ok")
ev = get("/api/v1/events?region=RU-MOW&since=%s" % time.strftime(
    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200)))["events"]
ok(ev and ev[-1]["service"] == "web" and ev[-1]["to"] == "shutdown",
   "events: web in RU-MOW went to shutdown: %s" % ev)
ok(get("/api/v1/silences?region=RU-SPE&" + R)["silences"] == [] and
   len(get("/api/v1/silences?region=RU-MOW&asn=64501&" + R)["silences"]) == 1,
   "silences?region=...&asn=... filter")
try:
    urllib.request.urlopen(base + "/api/v1/silences?agents=2")
    ok(False, "silences?agents=2 refused")
except urllib.error.HTTPError as e:
    ok(e.code == 400 and "agents" in e.read().decode(), "silences?agents=2: 400 naming it")
# the public view (k 3): RU-MOW has 3 probes enrolled, AS64501 2
pub = json.load(urllib.request.urlopen(sys.argv[2] + "/api/v1/silences?" + R))
ok([(p["region"], p["asn"], p["agents"]) for p in pub["silences"]] ==
   [("RU-MOW", None, 2)], "public silences: RU-MOW's period without its ASN: %s" % pub)
ok("64501" not in json.dumps(pub), "public silences: no AS64501 anywhere")
for q in ("asn=64501", "region=RU-SPE"):
    try:
        urllib.request.urlopen(sys.argv[2] + "/api/v1/silences?" + q)
        ok(False, "public silences?%s refused" % q)
    except urllib.error.HTTPError as e:
        ok(e.code == 403 and "fewer than 3 agents" in e.read().decode(),
           "public silences?%s: 403 fewer than 3 agents" % q)
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] && ok "silence.py: the period, the map now, the events" || bad "silence.py failed"

# back: the two probes beat and measure again
apids=()
for a in p1 p2; do
	timeout -s TERM 6 "$BIN/zond-agent" -c "$T/$a.conf" >>"$T/$a.log" 2>&1 &
	apids+=($!)
done
"$PY" - "http://127.0.0.1:$HTTP" <<'PY'
import json, sys, time, urllib.request
base = sys.argv[1]
def get(path):
    return json.load(urllib.request.urlopen(base + path))
R = "since=2020-01-01T00:00:00Z"
for _ in range(100):
    sil = get("/api/v1/silences?" + R)["silences"]
    web = [c["verdict"] for c in get("/api/v1/map?sample=latest&" + R)["cells"]
           if c["region"] == "RU-MOW" and c["service"] == "web"]
    if sil and sil[0]["end"] is not None and web == ["ok"]:
        print("ok   back: the period ended at %s; map?sample=latest says ok" % sil[0]["end"])
        sys.exit(0)
    time.sleep(0.2)
print("FAIL back: %s %s" % (sil, web))
sys.exit(1)
PY
[ $? = 0 ] && ok "the period ends when the agents are back" || bad "the period did not end"
for p in "${apids[@]}"; do wait "$p"; done
grep -q "shutdown seen from silence: RU-MOW AS64501, 2 agents" "$T/agg.log" &&
	grep -q "silence over: RU-MOW AS64501" "$T/agg.log" &&
	ok "the aggregator logs the period's start and end" || { bad "log lines"; grep -i silen "$T/agg.log"; }

kill -TERM $agg; wait $agg
rc=$?
[ $rc = 0 ] && ! grep -qE "Sanitizer|runtime error" "$T/agg.log" \
	&& ok "the aggregator stops cleanly (no sanitizer report)" || { bad "aggregator exit $rc"; tail -20 "$T/agg.log"; }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
