#!/bin/bash
# e2e.sh BINDIR — one real aggregator and two real agents on loopback:
# the agents measure a local HTTP server for three rounds, sign, store in
# their outboxes and deliver; the aggregator verifies and stores each
# measurement once; the export verifies offline, and a changed byte is
# caught.  Also --once prints valid JSON lines.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
T=$(mktemp -d /tmp/zond-e2e-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# free TCP ports on 127.0.0.1
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port)

/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[analysis]
min_agents = 1
CONF
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
web,http,http://127.0.0.1:$WEB/,,,,,,,
closed,tcp,127.0.0.1,,1,,,,,
CONF
for a in a1 a2; do
	role=probe; [ $a = a2 ] && role=control
	new_agent $a RU-MOW 64501 $role
	cat >>"$T/$a.conf" <<CONF
[schedule]
interval = 1s
jitter = 100ms
retries = 1
retry_delay = 100ms
timeout = 2s
rounds = 3
CONF
done

# --once: one signed JSON object per test on stdout, nothing sent
"$BIN/zond-agent" -c "$T/a1.conf" --once >"$T/once.jsonl" 2>"$T/once.err"
[ "$(wc -l <"$T/once.jsonl")" = 3 ] && ok "--once prints one line per test" || bad "--once printed $(wc -l <"$T/once.jsonl") lines"
/usr/bin/python3 - "$T/once.jsonl" <<'PY' && ok "--once lines are JSON with the record keys and the right outcomes" || bad "--once output"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
keys = {"id", "agent", "seq", "start", "service", "test", "target", "outcome", "verdict", "method", "signed", "sig"}
assert all(keys <= set(r) for r in recs), recs
by = {(r["service"], r["test"]): r for r in recs}
assert by[("web", "tcp")]["outcome"]["failure"] == "none"
assert by[("web", "http")]["outcome"]["http"]["status"] == 200
assert by[("closed", "tcp")]["outcome"]["failure"] == "refused"
assert by[("closed", "tcp")]["outcome"]["attempts"] == 2   # one retry
PY

"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
pids+=($!)
for a in a1 a2; do
	timeout 60 "$BIN/zond-agent" -c "$T/$a.conf" >"$T/$a.log" 2>&1 &
	eval "pid_$a=\$!"
done
wait "$pid_a1"; r1=$?
wait "$pid_a2"; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && ok "agents ran 3 rounds and delivered everything" || { bad "agents exited $r1 $r2"; tail -5 "$T/a1.log"; }
grep -q "all 3 rounds measured and delivered" "$T/a1.log" && ok "agent logs delivery" || bad "no delivery line"
"$BIN/zondctl" agents --data "$T/agg" >"$T/agents.txt"
grep -q "name=\"a1\"" "$T/agents.txt" && ! grep -q "version=- " "$T/agents.txt" && ok "the registry shows each agent's version (from its hello)" || { bad "version missing"; cat "$T/agents.txt"; }
grep -q "measurements=18" "$T/agents.txt" && ok "aggregator stored 18 measurements (2 agents x 3 rounds x 3 tests)" || { bad "stored: $(tail -1 "$T/agents.txt")"; }

"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export.jsonl"
[ "$(wc -l <"$T/export.jsonl")" = 18 ] && ok "export has 18 records" || bad "export has $(wc -l <"$T/export.jsonl") records"
"$BIN/zondctl" verify "$T/export.jsonl" >"$T/verify.txt"
[ $? = 0 ] && grep -qx "18 valid, 0 invalid" "$T/verify.txt" && ok "verify: 18 valid" || { bad "verify"; cat "$T/verify.txt"; }
/usr/bin/python3 - "$T/export.jsonl" <<'PY' && ok "export carries region, asn, role and verdicts" || bad "export fields"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["region"] == "RU-MOW" and r["asn"] == 64501 for r in recs)
assert {r["role"] for r in recs} == {"probe", "control"}
# the closed port fails from control too: down, never blocked
closed = [r for r in recs if r["service"] == "closed" and r["role"] == "probe"]
assert closed and all(r["verdict"] == "down" for r in closed), [r["verdict"] for r in closed]
web = [r for r in recs if r["service"] == "web" and r["role"] == "probe"]
assert web and all(r["verdict"] == "ok" for r in web), [r["verdict"] for r in web]
PY
# one changed byte inside the signed bytes, and a changed service name
/usr/bin/python3 - "$T/export.jsonl" "$T/tampered.jsonl" <<'PY'
import base64, json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[4]); b = bytearray(base64.b64decode(r["signed"])); b[-1] ^= 1
r["signed"] = base64.b64encode(bytes(b)).decode(); lines[4] = json.dumps(r)
r = json.loads(lines[9]); r["service"] = "other"; lines[9] = json.dumps(r)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
"$BIN/zondctl" verify "$T/tampered.jsonl" >"$T/verify2.txt"
rc=$?
[ $rc = 1 ] && grep -qx "16 valid, 2 invalid" "$T/verify2.txt" && grep -q "line 5 .*bad signature" "$T/verify2.txt" \
	&& grep -q "line 10 .*'service' differs" "$T/verify2.txt" && ok "verify names the two tampered records" || { bad "tampered verify (exit $rc)"; cat "$T/verify2.txt"; }
gzip -c "$T/export.jsonl" >"$T/export.jsonl.gz"
"$BIN/zondctl" verify "$T/export.jsonl.gz" | grep -qx "18 valid, 0 invalid" && ok "verify reads .gz" || bad "verify .gz"
# the aggregator's analyzer judges in rounds: wait until nothing is pending
for _ in $(seq 50); do
	# one probe agent: the thresholds of agg.conf (min_agents = 1)
	"$BIN/zondctl" -c "$T/agg.conf" map --data "$T/agg" --json >"$T/map.json"
	grep -q '"pending":0' "$T/map.json" && break
	sleep 0.2
done
/usr/bin/python3 - "$T/map.json" <<'PY' && ok "map: web ok, closed down, for RU-MOW/64501" || { bad "map"; cat "$T/map.json"; }
import json, sys
m = json.load(open(sys.argv[1]))
assert m["pending"] == 0, m["pending"]
cells = {(c["region"], c["asn"], c["service"]): c for c in m["cells"]}
assert cells[("RU-MOW", 64501, "web")]["verdict"] == "ok", cells
assert cells[("RU-MOW", 64501, "closed")]["verdict"] == "down", cells
assert {"since", "until", "cells", "regions"} <= set(m)
PY
# an agent started before the operator enrolled it gets in once enrolled
"$BIN/zondctl" keygen -o "$T/a3" >"$T/a3.pub"
sed "s|$T/a1|$T/a3|g; s|rounds = 3|rounds = 1|" "$T/a1.conf" >"$T/a3.conf"
timeout 60 "$BIN/zond-agent" -c "$T/a3.conf" >"$T/a3.log" 2>&1 &
pid_a3=$!
sleep 2
# enrollment is on by default: the handshake admits it for enrollment
# only, and its frames are refused (docs/PROTOCOL.md 7)
grep -q "refused for now reason=unknown_agent" "$T/a3.log" && ok "an unenrolled agent's frames are refused (unknown_agent)" || bad "no refusal logged"
"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/a3.pub")" --region RU-SPE --asn 64502 >/dev/null
wait "$pid_a3"
[ $? = 0 ] && grep -q "all 1 rounds measured and delivered" "$T/a3.log" && ok "enrolled later, it delivers (on the same connection)" || { bad "late enrolment"; tail -5 "$T/a3.log"; }
"$BIN/zondctl" agents --data "$T/agg" | grep -q "measurements=21" && ok "aggregator stored its 3 measurements too" || bad "count after late enrolment: $("$BIN/zondctl" agents --data "$T/agg" | tail -1)"

# SIGHUP reads the lists again; a bad row is refused and the last good
# list stays in use
cp "$T/ep.csv" "$T/ep4.csv"
sed "s|$T/a1|$T/a4|g; s|rounds = 3|rounds = 0|; s|$T/ep.csv|$T/ep4.csv|" "$T/a1.conf" >"$T/a4.conf"
"$BIN/zondctl" keygen -o "$T/a4" >"$T/a4.pub"
"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/a4.pub")" --region RU-SPE --asn 64502 >/dev/null
"$BIN/zond-agent" -c "$T/a4.conf" >"$T/a4.log" 2>&1 &
pid_a4=$!
pids+=($pid_a4)
sleep 2
printf 'web,tcp,127.0.0.1,,99999,,,,,\n' >>"$T/ep4.csv"
kill -HUP $pid_a4
sleep 2.5
grep -q "ep4.csv:5: port '99999' is not 1-65535; keeping the last good list (3 tests)" "$T/a4.log" \
	&& ok "a bad list on SIGHUP is refused with file:line" || { bad "bad reload"; tail -3 "$T/a4.log"; }
n1=$(grep -c "measurement seq=" "$T/a4.log")
sleep 2.5
n2=$(grep -c "measurement seq=" "$T/a4.log")
kill -0 $pid_a4 2>/dev/null && [ "$n2" -gt "$n1" ] && ok "the agent keeps measuring the last good list" || bad "agent stopped measuring ($n1 -> $n2)"
head -2 "$T/ep.csv" >"$T/ep4.csv"
kill -HUP $pid_a4
sleep 1
grep -q "reload: test lists read again tests=1" "$T/a4.log" && ok "a good list on SIGHUP replaces the old one" || bad "good reload"
kill -TERM $pid_a4; wait $pid_a4
[ $? = 0 ] && ok "SIGTERM stops the agent cleanly" || bad "SIGTERM exit"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
