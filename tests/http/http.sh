#!/bin/bash
# http.sh BINDIR [PYTHON3] — the aggregator's HTTP API (docs/API.md) and
# dashboard, end to end: one real zond-aggregator with [http] listen on a
# free loopback port, three real agents (two probes in two regions, one
# control) measuring a local web server for six rounds; then check.py
# asks every endpoint and compares with zondctl; last, SIGTERM must stop
# the daemon cleanly (exit 0, no sanitizer report).
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/zond-http-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port); HTTP=$(port); ZMQ2=$(port); HOOK=$(port)

# the webhook receiver: answers 500 to the first POST (the aggregator must
# retry), then 200, and appends each delivered body to hook.jsonl
"$PY" - "$HOOK" "$T/hook.jsonl" >"$T/hook.log" 2>&1 <<'PY' &
import http.server, sys
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global n
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n += 1
        if n == 1:
            self.send_response(500); self.end_headers(); return
        assert self.headers["Content-Type"] == "application/json"
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)

"$PY" -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
dashboard_dir = $T/dash
[analysis]
interval = 300ms
min_agents = 1
webhook = http://127.0.0.1:$HOOK/hook
fingerprints = $HERE/../../ops/fingerprints/fingerprints_http.csv, $HERE/../../ops/fingerprints/fingerprints_dns.csv
CONF
# the dashboard plus bait for path traversal: a file beside the
# directory, a subdirectory, a symbolic link out, a dot file
mkdir -p "$T/dash/sub"
find "$HERE/../../dashboards" -maxdepth 1 -type f -exec cp {} "$T/dash/" \;
echo "secret outside" >"$T/secret.txt"
echo "secret inner" >"$T/dash/sub/inner.html"
echo "secret hidden" >"$T/dash/.hidden.html"
ln -s "$T/secret.txt" "$T/dash/link.txt"
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
web,http,http://127.0.0.1:$WEB/,,,,,,,
closed,tcp,127.0.0.1,,1,,,,,
closed,stun,127.0.0.1,,1,,,plain,,
CONF
for a in a1 a2 a3; do
	role=probe region=RU-MOW asn=64501
	[ $a = a2 ] && role=control region=DE-BE asn=64999
	[ $a = a3 ] && region=RU-SPE asn=64502
	new_agent $a $region $asn $role
	cat >>"$T/$a.conf" <<CONF
[schedule]
interval = 1s
jitter = 100ms
retries = 1
retry_delay = 100ms
timeout = 2s
rounds = 6
CONF
done

"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
pids+=($agg)
apids=()
for a in a1 a2 a3; do
	timeout 60 "$BIN/zond-agent" -c "$T/$a.conf" >"$T/$a.log" 2>&1 &
	apids+=($!)
done
rcs=""
for p in "${apids[@]}"; do wait "$p"; rcs="$rcs$?"; done
[ "$rcs" = 000 ] && ok "agents delivered 3 x 6 rounds x 4 tests" || { bad "agents exited $rcs"; tail -5 "$T/a1.log"; }
grep -q "http listening=127.0.0.1:$HTTP dashboard=$T/dash" "$T/agg.log" && ok "aggregator logs its HTTP address" || { bad "no http line"; tail -5 "$T/agg.log"; }
nfp=$(($(grep -c . "$HERE/../../ops/fingerprints/fingerprints_http.csv") + $(grep -c . "$HERE/../../ops/fingerprints/fingerprints_dns.csv") - 2))
grep -q "analysis .* fingerprints=$nfp\$" "$T/agg.log" && ok "the analyzer loaded [analysis] fingerprints ($nfp rows)" || { bad "no fingerprints=$nfp in the analysis line"; grep analysis "$T/agg.log"; }

wait_agents_stored 24 3 || bad "the registry never showed 24 stored for each agent"
"$PY" "$HERE/check.py" "http://127.0.0.1:$HTTP" "$BIN" "$T/agg" "$T"
r=$?
[ $r = 0 ] && ok "check.py: every endpoint" || bad "check.py failed"

# zondctl reanalyze beside the running aggregator: everything judged
# again, the map and the events unchanged, nothing counted twice
MAPQ="http://127.0.0.1:$HTTP/api/v1/map?since=2020-01-01T00:00:00Z&until=2099-01-01T00:00:00Z"
EVQ0="http://127.0.0.1:$HTTP/api/v1/events?since=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)&until=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
getq() { "$PY" -c 'import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$1"; }
getq "$MAPQ" >"$T/map-before.json"; getq "$EVQ0" >"$T/ev-before.json"
"$BIN/zondctl" -c "$T/agg.conf" reanalyze >"$T/re.out" 2>"$T/re.err"
r=$?
[ $r = 0 ] && grep -qE '^measurements=72 judged=48 controls=24 waiting=0 events=[0-9]+ seconds=' "$T/re.out" \
	&& ok "zondctl reanalyze: 72 measurements, 48 probes judged, 24 controls" || { bad "reanalyze (exit $r)"; cat "$T/re.out" "$T/re.err"; }
# a bad fingerprint file stops reanalysis, naming file and line
printf 'name,scope,location_found,pattern_type,pattern,confidence_no_fp,expected_countries\nx,state,dns,full,1.2.3.4,,\n' >"$T/bad-fp.csv"
sed "s|^fingerprints = .*|fingerprints = $T/bad-fp.csv|" "$T/agg.conf" >"$T/badfp.conf"
"$BIN/zondctl" -c "$T/badfp.conf" reanalyze >/dev/null 2>"$T/badfp.err"
r=$?
[ $r = 1 ] && grep -q "reanalyze: $T/bad-fp.csv:2: unknown scope 'state'" "$T/badfp.err" \
	&& ok "zondctl reanalyze: a bad [analysis] fingerprints file is refused with file:line" || { bad "bad fingerprints (exit $r)"; cat "$T/badfp.err"; }
# zondctl -c takes the map thresholds from the aggregator config
{ cat "$T/agg.conf"; printf 'min_measurements = 1000\n'; } >"$T/strict.conf"
"$BIN/zondctl" -c "$T/strict.conf" map --data "$T/agg" --json --since 2020-01-01T00:00:00Z >"$T/strict.json" \
	&& "$PY" -c 'import json,sys;m=json.load(open(sys.argv[1]));assert m["cells"] and all(c["verdict"]=="insufficient" for c in m["cells"]),m' "$T/strict.json" \
	&& ok "zondctl -c CONF map: [analysis] min_measurements applies" || bad "zondctl -c map thresholds"
# the map kept since map-before was read is made again in the background
# once zondctl's writes moved the store on, and every read meanwhile is
# answered from the kept one (docs/API.md "Map cache"): wait for that new
# one (made after reanalyze ended) and compare it with map-before
metric() { getq "http://127.0.0.1:$HTTP/metrics" | sed -n "s/^$1 //p"; }
MADE='zond_http_map_refresh_total{result="made"}'
MISS='zond_http_map_cache_total{result="miss"}'
made0=$(metric "$MADE"); miss0=$(metric "$MISS")
for _ in $(seq 120); do
	getq "$MAPQ" >/dev/null
	[ "$(metric "$MADE")" -gt "$made0" ] && break
	sleep 0.25
done
[ "$(metric "$MADE")" -gt "$made0" ] && [ "$(metric "$MISS")" = "$miss0" ] \
	&& ok "map cache: a map read while another process rewrote the store is made again in the background, every read a hit" \
	|| bad "map cache refresh: made $made0 -> $(metric "$MADE"), misses $miss0 -> $(metric "$MISS")"
getq "$MAPQ" >"$T/map-after.json"; getq "$EVQ0" >"$T/ev-after.json"
[ "$(metric "$MISS")" = "$miss0" ] || bad "map-after was not the kept map made again"
cmp -s "$T/map-before.json" "$T/map-after.json" && cmp -s "$T/ev-before.json" "$T/ev-after.json" \
	&& ok "reanalyze: the same map and events" || { bad "reanalyze changed the map or events"; diff "$T/map-before.json" "$T/map-after.json" | head -5; diff "$T/ev-before.json" "$T/ev-after.json" | head -5; }

# every event reached the webhook once, after one refused attempt
EVQ="http://127.0.0.1:$HTTP/api/v1/events?since=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)"
n_ev=$("$PY" -c 'import json,sys,urllib.request;print(len(json.load(urllib.request.urlopen(sys.argv[1]))["events"]))' \
	"$EVQ")
for _ in $(seq 100); do [ "$(wc -l <"$T/hook.jsonl" 2>/dev/null || echo 0)" -ge "$n_ev" ] && break; sleep 0.2; done
"$PY" - "$EVQ" "$T/hook.jsonl" <<'PY' \
	&& ok "webhook: the $n_ev events POSTed once each, equal to /api/v1/events" || bad "webhook deliveries"
import json, sys, urllib.request
api = json.load(urllib.request.urlopen(sys.argv[1]))["events"]
got = [json.loads(l) for l in open(sys.argv[2])]
key = lambda e: json.dumps(e, sort_keys=True)
assert api and sorted(map(key, got)) == sorted(map(key, api)), (got, api)
PY
grep -q "webhook: .*HTTP status 500; event 1 stays queued" "$T/agg.log" \
	&& ok "webhook: a failed POST is logged and retried" || { bad "no webhook retry line"; grep webhook "$T/agg.log" | head; }

# the dashboard's modules under node against this aggregator (when node
# is installed: the page itself needs no build step and no node); the
# page in a browser is tests/dashboard/
if command -v node >/dev/null; then
	node "$HERE/dashboard.mjs" "http://127.0.0.1:$HTTP" "$T/dash" "$PY" \
		&& ok "dashboard modules: strings, regions, URL state, map states, verify snippet" || bad "dashboard modules"
else
	echo "skip dashboard module checks: node is not installed"
fi

# a second aggregator on the same HTTP port: logs it and keeps ingesting
"$BIN/zondctl" keygen -o "$T/agg2" >/dev/null
sed "s|$T/agg/|$T/agg2/|; s|$T/agg\$|$T/agg2|; s|:$ZMQ|:$ZMQ2|" "$T/agg.conf" >"$T/agg2.conf"
"$BIN/zond-aggregator" -c "$T/agg2.conf" >"$T/agg2.log" 2>&1 &
agg2=$!
for _ in $(seq 50); do grep -q "started data_dir" "$T/agg2.log" && break; sleep 0.1; done
grep -q "HTTP API disabled" "$T/agg2.log" && kill -0 $agg2 2>/dev/null \
	&& ok "a busy HTTP port disables the API, not the daemon" || { bad "busy port"; tail -5 "$T/agg2.log"; }
kill -TERM $agg2; wait $agg2
[ $? = 0 ] && ok "the second aggregator stops cleanly" || bad "second aggregator exit"

# clean shutdown under the sanitizers, with an export stream left open
"$PY" - "http://127.0.0.1:$HTTP/api/v1/export?format=jsonl" <<'PY' &
import sys, time, urllib.request
r = urllib.request.urlopen(sys.argv[1]); r.read(10); time.sleep(30)
PY
slow=$!
sleep 0.5
kill -TERM $agg; wait $agg
rc=$?
kill $slow 2>/dev/null; wait $slow 2>/dev/null
[ $rc = 0 ] && grep -q "stopped" "$T/agg.log" && ! grep -qE "Sanitizer|runtime error" "$T/agg.log" \
	&& ok "SIGTERM stops the aggregator cleanly (exit 0, no sanitizer report)" || { bad "shutdown exit $rc"; tail -20 "$T/agg.log"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
