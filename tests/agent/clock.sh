#!/bin/bash
# clock.sh BINDIR — a Pi without a clock (issue 19), with the real
# aggregator and real agents on loopback.  Agent "behind" runs with its
# wall clock 3 days slow, agent "ahead" 2 hours fast (ZOND_TEST_CLOCK_OFFSET,
# a hook of test builds only, lib/ztime.h).  Both measure before the
# aggregator is up (they cannot know the time yet), then deliver.  Checks:
# every measurement is stored once, none refused; the ones taken before
# the first reply are unverified and placed by their boot (time_by
# "boot"), the later ones verified with start_us already right; every
# placed time is the real time of the test, so the map's current hour
# holds them all; the registry and the agents API show each clock's
# offset; an agent whose clock is set (NTP) between measuring and
# delivering has its outbox placed at the real times all the same; the
# metrics count the placements; a restart in the same boot knows the time
# at once.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
T=$(mktemp -d /tmp/zond-clock-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port); HTTP=$(port)

/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
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
[analysis]
min_agents = 1
CONF
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
closed,tcp,127.0.0.1,,1,,,,,
CONF
# 6 rounds a second apart: the aggregator starts after the third
for a in behind ahead stepped; do
	role=probe; [ $a = ahead ] && role=control
	new_agent $a RU-MOW 64501 $role
	cat >>"$T/$a.conf" <<CONF
[schedule]
interval = 1s
jitter = 0s
retries = 0
timeout = 2s
rounds = 6
CONF
done
now_s() { date +%s; }
t_begin=$(now_s)
ZOND_TEST_CLOCK_OFFSET=-259200 timeout 90 "$BIN/zond-agent" -c "$T/behind.conf" >"$T/behind.log" 2>&1 &
pid_behind=$!
ZOND_TEST_CLOCK_OFFSET=7200 timeout 90 "$BIN/zond-agent" -c "$T/ahead.conf" >"$T/ahead.log" 2>&1 &
pid_ahead=$!
# "stepped" measures 3 days slow while the aggregator is down and is
# stopped; NTP then sets its clock (offset 0) before it delivers, in the
# same boot: its outbox must still be placed at the real times
ZOND_TEST_CLOCK_OFFSET=-259200 timeout -s TERM 2.2 "$BIN/zond-agent" -c "$T/stepped.conf" >"$T/stepped.log" 2>&1 &
pid_stepped=$!
sleep 2.5
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg_pid=$!
pids+=($agg_pid)
wait "$pid_stepped"
wait "$pid_behind"; r1=$?
wait "$pid_ahead"; r2=$?
t_end=$(($(now_s) + 1))
[ $r1 = 0 ] && [ $r2 = 0 ] && grep -q "all 6 rounds measured and delivered" "$T/behind.log" \
	&& ok "both agents measured 6 rounds and delivered everything" || { bad "agents exited $r1 $r2"; tail -5 "$T/behind.log" "$T/ahead.log"; }
off=$(sed -n 's/.*clock: learnt the time from the aggregator offset_ms=\(-\?[0-9]*\).*/\1/p' "$T/behind.log")
[ -n "$off" ] && [ $((off - 259200000)) -lt 3000 ] && [ $((off - 259200000)) -gt -3000 ] \
	&& ok "the slow agent learnt the time (offset about +3 days)" || { bad "no clock line"; grep clock "$T/behind.log"; }
wait_agents_stored 12 2 && ok "each agent's 12 measurements stored" || { bad "stored"; "$BIN/zondctl" agents --data "$T/agg"; }
grep -q "reason=clock" "$T/agg.log" && bad "the aggregator refused measurements for their clock" || ok "no measurement refused for its clock"

"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export.jsonl"
/usr/bin/python3 - "$T/export.jsonl" "$t_begin" "$t_end" "$(cat "$T/behind.pub")" "$T/nunv" "$(cat "$T/ahead.pub")" <<'PY' && ok "export: early ones unverified and placed by boot, later ones verified; every time is the real one" || bad "export times"
import json, sys, datetime
t0, t1, behind, ahead = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[6]
recs = [r for r in map(json.loads, open(sys.argv[1])) if r["agent"] in (behind, ahead)]
def ts(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
assert len(recs) == 24, len(recs)
for r in recs:
    c, shift = r["clock"], (-259200 if r["agent"] == behind else 7200)
    assert len(c["boot_id"]) == 32 and c["boot_us"] > 0, c
    # the placed time is the real time of the test
    assert t0 - 1 <= ts(r["time"]) <= t1, (r["time"], t0, t1)
    if c["unverified"]:
        assert r["time_by"] == "boot", r
        assert "offset_us" not in c, c
        # signed as the wrong wall clock said
        assert abs(ts(r["start"]) - shift - ts(r["time"])) < 2, (r["start"], r["time"])
    else:
        assert r["time_by"] == "signed", r
        assert r["start"] == r["time"], r
        assert abs(c["offset_us"] / 1e6 + shift) < 2, c
by = {}
for r in recs:
    by.setdefault(r["agent"], []).append(r)
for a, rs in by.items():
    rs.sort(key=lambda r: r["seq"])
    flags = [r["clock"]["unverified"] for r in rs]
    # unverified first (taken before the aggregator answered), then not
    assert flags[0] and not flags[-1], flags
    assert flags == sorted(flags, reverse=True), flags
    print(a[:8], "unverified", sum(flags), "of", len(flags))
open(sys.argv[5], "w").write(str(sum(r["clock"]["unverified"] for r in recs)))
PY

"$BIN/zondctl" verify "$T/export.jsonl" | grep -qx "24 valid, 0 invalid" && ok "the export verifies" || bad "verify"
# the clock is signed: a record whose clock says verified is caught
/usr/bin/python3 - "$T/export.jsonl" "$T/forged.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for i, l in enumerate(lines):
    r = json.loads(l)
    if r["clock"]["unverified"]:
        r["clock"]["unverified"] = False
        lines[i] = json.dumps(r)
        print(i + 1)
        break
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
"$BIN/zondctl" verify "$T/forged.jsonl" >"$T/verify2.txt"
grep -qx "23 valid, 1 invalid" "$T/verify2.txt" && grep -q "'clock' differs" "$T/verify2.txt" \
	&& ok "verify catches a record whose clock was changed" || { bad "forged clock"; cat "$T/verify2.txt"; }

# the map of the current hours holds all of the probe's measurements
for _ in $(seq 100); do
	"$BIN/zondctl" -c "$T/agg.conf" map --data "$T/agg" --json \
		--since "$(date -u -d @$((t_begin - 3600)) +%Y-%m-%dT%H:%M:%SZ)" >"$T/map.json"
	grep -q '"pending":0' "$T/map.json" && break
	sleep 0.2
done
"$BIN/zondctl" -c "$T/agg.conf" map --data "$T/agg" --json \
	--since "$(date -u -d @$((t_begin - 4 * 86400)) +%Y-%m-%dT%H:%M:%SZ)" \
	--until "$(date -u -d @$((t_begin - 2 * 86400)) +%Y-%m-%dT%H:%M:%SZ)" >"$T/map_old.json"
/usr/bin/python3 - "$T/map.json" "$T/map_old.json" <<'PY' && ok "map: the probe's 12 measurements are in the real hours, none 3 days back" || { bad "map"; cat "$T/map.json" "$T/map_old.json"; }
import json, sys
m, old = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n = sum(c["measurements"] for c in m["cells"] if c["asn"] == 64501 and "/" not in c["service"])
n += m.get("pending", 0)
assert n == 12, (n, m)
assert not old["cells"], old["cells"]
PY

"$BIN/zondctl" agents --data "$T/agg" >"$T/agents.txt"
/usr/bin/python3 - "$T/agents.txt" <<'PY' && ok "zondctl agents shows each clock's offset" || { bad "agents offset"; cat "$T/agents.txt"; }
import re, sys
off = dict(re.findall(r'clock_offset_ms=(-?\d+) name="(\w+)"', open(sys.argv[1]).read())[i][::-1] for i in range(2))
assert abs(int(off["behind"]) - 259200000) < 3000, off
assert abs(int(off["ahead"]) + 7200000) < 3000, off
PY
curl -s "http://127.0.0.1:$HTTP/api/v1/agents" >"$T/agents.json"
/usr/bin/python3 - "$T/agents.json" <<'PY' && ok "the agents API shows clock_offset_ms" || { bad "agents API"; cat "$T/agents.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
agents = d["agents"] if isinstance(d, dict) else d
off = {a["name"]: a["clock_offset_ms"] for a in agents}
assert abs(off["behind"] - 259200000) < 3000, off
assert abs(off["ahead"] + 7200000) < 3000, off
PY

# the stepped agent delivers now, its wall clock right
sed -i "s/rounds = 6/rounds = 1/" "$T/stepped.conf"
t_step=$(now_s)
timeout 60 "$BIN/zond-agent" -c "$T/stepped.conf" >"$T/stepped2.log" 2>&1
n_old=$(grep -c "measurement seq=" "$T/stepped.log")
[ "$n_old" -ge 2 ] && wait_agents_stored $((n_old + 2)) 1 && ok "the stepped agent delivered its $n_old old and 2 new measurements" || { bad "stepped delivery ($n_old)"; tail -3 "$T/stepped.log" "$T/stepped2.log"; }
"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export_s.jsonl"
/usr/bin/python3 - "$T/export_s.jsonl" "$(cat "$T/stepped.pub")" "$t_begin" "$t_step" "$n_old" "$T/nunv_s" <<'PY' && ok "its outbox, measured 3 days slow and delivered after the clock was set, is placed at the real times" || bad "stepped placement"
import json, sys, datetime
def ts(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
rs = sorted((r for r in map(json.loads, open(sys.argv[1])) if r["agent"] == sys.argv[2]), key=lambda r: r["seq"])
t0, t_step, n_old = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
old, new = rs[:n_old], rs[n_old:]
assert len(new) == 2, len(rs)
for r in old:
    assert r["clock"]["unverified"] and r["time_by"] == "boot", r
    assert t0 - 1 <= ts(r["time"]) <= t0 + 4, (r["time"], t0)
    assert abs(ts(r["start"]) + 259200 - ts(r["time"])) < 2, (r["start"], r["time"])
for r in new:
    # measured at once on the restart: unverified again (no reply yet in
    # this run), but its wall clock is right now
    assert r["time_by"] == ("boot" if r["clock"]["unverified"] else "signed"), r
    assert t_step - 1 <= ts(r["time"]) and abs(ts(r["time"]) - ts(r["start"])) < 2, r
open(sys.argv[6], "w").write(str(sum(r["clock"]["unverified"] for r in rs)))
PY

curl -s "http://127.0.0.1:$HTTP/metrics" >"$T/metrics.txt"
nboot=$(($(cat "$T/nunv") + $(cat "$T/nunv_s" 2>/dev/null || echo 0)))
grep -q "^zond_ingest_clock_placed_total{by=\"boot\"} $nboot\$" "$T/metrics.txt" \
	&& grep -q '^zond_ingest_clock_placed_total{by="unplaced"} 0$' "$T/metrics.txt" \
	&& ok "metrics count the $nboot measurements placed by their boot" || { bad "metrics"; grep clock_placed "$T/metrics.txt"; }

# a restart in the same boot: the time is known from the first test on
sed -i "s/rounds = 6/rounds = 1/" "$T/behind.conf"
ZOND_TEST_CLOCK_OFFSET=-259200 timeout 60 "$BIN/zond-agent" -c "$T/behind.conf" >"$T/behind2.log" 2>&1
grep -q "clock: known from .*(this boot)" "$T/behind2.log" && ok "restarted in the same boot, the agent knows the time at once" || { bad "restart"; grep clock "$T/behind2.log"; }
wait_agents_stored 14 1 || bad "restart: not stored"
"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export2.jsonl"
/usr/bin/python3 - "$T/export2.jsonl" "$(cat "$T/behind.pub")" <<'PY' && ok "its measurements are verified from the start" || bad "restart measurements"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["agent"] == sys.argv[2]]
last = sorted(recs, key=lambda r: r["seq"])[-2:]
assert len(recs) == 14 and all(not r["clock"]["unverified"] and r["time_by"] == "signed" for r in last), last
PY

# certificates are checked at the agent's best time: a TLS server whose
# certificate became valid a minute ago; an agent 3 days slow finds it
# "not yet valid" until it knows the time, then valid
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 1 -subj /CN=zond.test -addext subjectAltName=DNS:zond.test \
	-keyout "$T/tls.key" -out "$T/tls.pem" >/dev/null 2>&1 || bad "openssl req"
TLS=$(port)
/usr/bin/python3 - "$TLS" "$T/tls.pem" "$T/tls.key" <<'PY' &
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
def serve(c):
    try:
        with ctx.wrap_socket(c, server_side=True) as t:
            t.recv(1)
    except Exception:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
pids+=($!)
printf 'service,test,target,ip,port,sni,control_sni,variant,bytes,interval\ntlsweb,tls,zond.test,127.0.0.1,%s,zond.test,,,,\n' "$TLS" >"$T/tls.csv"
new_agent tlspi RU-MOW 64501 probe
sed -i "s|endpoints = $T/ep.csv|endpoints = $T/tls.csv\nca_file = $T/tls.pem|" "$T/tlspi.conf"
printf '[schedule]\ninterval = 1s\njitter = 0s\nretries = 0\ntimeout = 2s\nrounds = 6\n' >>"$T/tlspi.conf"
kill "$agg_pid"; wait "$agg_pid" 2>/dev/null
ZOND_TEST_CLOCK_OFFSET=-259200 timeout 60 "$BIN/zond-agent" -c "$T/tlspi.conf" >"$T/tlspi.log" 2>&1 &
pid_tls=$!
sleep 2.5
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg2.log" 2>&1 &
pids+=($!)
wait "$pid_tls" || bad "tlspi exited $?"
wait_agents_stored 6 1 || bad "tlspi: not stored"
"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export_t.jsonl"
/usr/bin/python3 - "$T/export_t.jsonl" "$(cat "$T/tlspi.pub")" <<'PY' && ok "certificates are checked at the agent's time: not yet valid while it did not know it, valid after" || bad "certificate time"
import json, sys
rs = sorted((r for r in map(json.loads, open(sys.argv[1])) if r["agent"] == sys.argv[2]), key=lambda r: r["seq"])
assert len(rs) == 6, len(rs)
early = [r for r in rs if r["clock"]["unverified"]]
late = [r for r in rs if not r["clock"]["unverified"]]
assert early and late, [r["clock"] for r in rs]
for r in early:
    assert r["outcome"]["failure"] == "cert_invalid", r["outcome"]
for r in late:
    assert r["outcome"]["failure"] == "none" and r["outcome"]["tls"]["cert_valid"], r["outcome"]
PY

echo "$pass passed, $fail failed"
[ $fail = 0 ]
