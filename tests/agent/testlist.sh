#!/bin/bash
# testlist.sh BINDIR — signed test lists end to end on loopback: the
# operator signs a list (zondctl testlist sign) and pushes it into the
# running aggregator's store (zondctl testlist push); the real aggregator
# hands it to the real agent, which applies it (its measurements carry
# the version and test the new rows; its heartbeat and the API show the
# version), keeps it across a restart, and refuses, each with its reason
# and staying on the version it has, what a wrong aggregator (tl_inject)
# stores: another signer's list, an unsigned one, a tampered one, an
# older one, an expired one.  Also zondctl's own refusals and the 1 MiB limit of sign.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
T=$(mktemp -d /tmp/zond-testlist-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# wait_log FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN
wait_log() {
	for _ in $(seq $((${3:-20} * 10))); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
WEB=$(port); ZMQ=$(port); HTTP=$(port)
CTL="$BIN/zondctl"

/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$CTL" keygen -o "$T/agg" >/dev/null
"$CTL" keygen -o "$T/op" >/dev/null
"$CTL" keygen -o "$T/other" >/dev/null
OP=$(cat "$T/op/identity.pub")
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
[testlist]
operator_key = $OP
CONF
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
old,tcp,127.0.0.1,,$WEB,,,,,
CONF
new_agent a1 RU-MOW 64501 probe || { echo "FAIL setup"; exit 1; }
sed -i "/^\[uplink\]/a operator_key = $OP" "$T/a1.conf"
cat >>"$T/a1.conf" <<CONF
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 2s
CONF
agent_start() {
	"$BIN/zond-agent" -c "$T/a1.conf" >>"$T/a1.log" 2>&1 &
	AGENT=$!
	pids+=($AGENT)
}
# api_agent FIELD: the agent's FIELD in /api/v1/agents, then testlist.version
api() {
	/usr/bin/python3 - "$HTTP" <<'PY'
import json, sys, urllib.request
d = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/agents" % sys.argv[1]))
tl = d.get("testlist")
print(d["agents"][0]["list_version"], tl["version"] if tl else "null")
PY
}
# measured SERVICE VERSION: the store has a measurement of SERVICE whose
# list_version is VERSION (0: none stamped)
measured() {
	"$CTL" export --data "$T/agg" --format jsonl -o "$T/exp.jsonl" 2>/dev/null
	/usr/bin/python3 - "$T/exp.jsonl" "$1" "$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[3])
sys.exit(0 if any(r["service"] == sys.argv[2] and r.get("list_version", 0) == want for r in recs) else 1)
PY
}
wait_measured() {
	for _ in $(seq 40); do measured "$1" "$2" && return 0; sleep 0.5; done
	return 1
}

"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
pids+=($!)
agent_start
wait_log "$T/a1.log" "started .* list_version=0" && ok "agent starts on its CSV list (list_version=0)" || bad "agent start: $(tail -3 "$T/a1.log")"
wait_measured old 0 && ok "its measurements carry no list version" || bad "no measurement of the CSV list"

# --- zondctl: sign, show, push
cat >"$T/new.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
new,tcp,127.0.0.1,,$WEB,,,,,2s
CONF
cat >"$T/new-urls.csv" <<CONF
url,category_code,category_description,date_added,source,notes
http://127.0.0.1:$WEB/,NEWS,News,2026-12-01,test,service=newweb
CONF
"$CTL" testlist sign --key "$T/op/identity.key" --version 100 -o "$T/l100" \
	"$T/new.csv" "$T/new-urls.csv" 2>"$T/sign.err" &&
	grep -q "signed version=100 tests=2 " "$T/sign.err" && ok "sign: version 100, 2 tests from an endpoint and a URL list" || bad "sign: $(cat "$T/sign.err")"
"$CTL" testlist show --operator-key "$OP" "$T/l100" >"$T/show.out" 2>&1
grep -q "^# version=100$" "$T/show.out" && grep -q "^new,tcp,127.0.0.1,,$WEB,,,,,2s$" "$T/show.out" &&
	grep -q "^newweb,http,http://127.0.0.1:$WEB/,,,,,,,$" "$T/show.out" && ok "show prints the version and the rows" || { bad "show"; cat "$T/show.out"; }
# show's output is an endpoint list: signed again, the same rows
"$CTL" testlist sign --key "$T/op/identity.key" --version 100 -o "$T/again" "$T/show.out" 2>/dev/null &&
	"$CTL" testlist show "$T/again" | grep -v '^#' >"$T/again.rows" &&
	grep -v '^#' "$T/show.out" | cmp -s - "$T/again.rows" && ok "show's output signs again to the same rows" || bad "round trip"
"$CTL" testlist show --operator-key "$(cat "$T/other/identity.pub")" "$T/l100" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "refused (other_signer)" "$T/err" && ok "show --operator-key refuses another signer" || bad "show other: $(cat "$T/err")"

"$CTL" -c "$T/agg.conf" testlist push "$T/l100" >"$T/push.out" 2>&1 &&
	grep -q "pushed version=100 tests=2" "$T/push.out" && ok "push into the running aggregator's store" || bad "push: $(cat "$T/push.out")"

# --- the agent applies it
wait_log "$T/a1.log" "test list applied version=100 tests=2" && ok "agent applies version 100" || bad "not applied: $(grep -i 'test list' "$T/a1.log")"
[ -s "$T/a1/testlist.signed" ] && cmp -s "$T/a1/testlist.signed" "$T/l100" && ok "agent saved the list as state_dir/testlist.signed" || bad "testlist.signed missing or different"
wait_measured new 100 && ok "its next measurements test the new rows with list_version 100" || bad "no measurement of the new list"
measured old 100 && bad "a row of the old list was measured under 100" || ok "rows of the old list are no longer measured"
wait_measured newweb 100 && ok "... the URL row too" || bad "no http measurement of the new list"
sleep 2.5
[ "$(api)" = "100 100" ] && ok "heartbeat: the API shows the agent on 100 and the stored list 100" || bad "api: $(api)"
[ "$(grep -c 'test list sent' "$T/agg.log")" = 1 ] && ok "aggregator sent the list once" || bad "sent $(grep -c 'test list sent' "$T/agg.log") times"
/usr/bin/python3 -c 'import sys,urllib.request;sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode())' "$HTTP" >"$T/metrics"
grep -q "^zond_testlist_version 100$" "$T/metrics" && grep -q "^zond_testlist_sent_total 1$" "$T/metrics" && ok "metrics: zond_testlist_version 100, sent 1" || bad "metrics: $(grep testlist "$T/metrics")"

# --- restart: the saved list is used, not pushed again
kill "$AGENT"; wait "$AGENT" 2>/dev/null
: >"$T/a1.log"
agent_start
wait_log "$T/a1.log" "started .* list_version=100" && grep -q "test list version=100 tests=2 from" "$T/a1.log" && ok "after a restart the agent measures the saved list 100" || bad "restart: $(head -3 "$T/a1.log")"
sleep 2.5
[ "$(grep -c 'test list sent' "$T/agg.log")" = 1 ] && ok "an agent on the newest list is not sent it again" || bad "sent again"

# --- zondctl push refusals
refuse() {	# refuse REASON DESC FILE [OPTS]: push fails naming REASON
	local reason=$1 desc=$2 f=$3
	shift 3
	"$CTL" -c "$T/agg.conf" testlist push "$@" "$f" >"$T/out" 2>"$T/err"
	[ $? = 1 ] && grep -q "refused ($reason)" "$T/err" && ok "push refuses $desc" || bad "push $desc: $(cat "$T/err" "$T/out")"
}
refuse older "the same version again" "$T/l100"
"$CTL" testlist sign --key "$T/op/identity.key" --version 90 -o "$T/l90" "$T/new.csv" 2>/dev/null
refuse older "an older version" "$T/l90"
grep -q "not newer than the stored list's 100\|is not newer than 100" "$T/err" && ok "... and names the stored version" || bad "older message: $(cat "$T/err")"
"$CTL" testlist sign --key "$T/other/identity.key" --version 200 -o "$T/l200o" "$T/new.csv" 2>/dev/null
refuse other_signer "another signer's list" "$T/l200o"
"$CTL" testlist sign --key "$T/op/identity.key" --version 201 --expires 1s -o "$T/l201e" "$T/new.csv" 2>/dev/null
sleep 1.2
refuse expired "an expired list" "$T/l201e"
"$CTL" testlist sign --key "$T/op/identity.key" --version 202 -o "$T/l202" "$T/new.csv" 2>/dev/null
cp "$T/l202" "$T/l202t"
/usr/bin/python3 - "$T/l202t" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"127.0.0.1")
b[i] ^= 1          # inside the signed body
open(sys.argv[1], "wb").write(b)
PY
refuse bad_signature "a tampered list" "$T/l202t"
head -c 100 /dev/urandom >"$T/junk"
refuse malformed "a file that is no list" "$T/junk"
"$CTL" testlist push --data "$T/agg" "$T/l202" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "no operator key" "$T/err" && ok "push without an operator key says where to set it" || bad "push no key: $(cat "$T/err")"
[ "$(api)" = "100 100" ] && ok "refused pushes left the stored list at 100" || bad "api after refusals: $(api)"

# --- sign refusals: a bad row names file:line; more than one frame
printf 'service,test,target,port\nweb,tcp,127.0.0.1,0\n' >"$T/badrow.csv"
"$CTL" testlist sign --key "$T/op/identity.key" -o "$T/x" "$T/badrow.csv" 2>"$T/err"
[ $? = 1 ] && grep -q "badrow.csv:2: port '0' is not 1-65535" "$T/err" && ok "sign refuses a bad row with file:line" || bad "bad row: $(cat "$T/err")"
/usr/bin/python3 - "$T/big.csv" 20000 <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("service,test,target,port,sni,control_sni\n")
    for i in range(int(sys.argv[2])):
        f.write("svc%d,tls,host-%d.example.org,443,sni-%d.example.org,control.example.net\n" % (i % 40, i, i))
PY
"$CTL" testlist sign --key "$T/op/identity.key" -o "$T/big" "$T/big.csv" 2>"$T/err"
[ $? = 1 ] && grep -q "must fit one 1 MiB frame" "$T/err" && [ ! -e "$T/big" ] && ok "sign refuses a list over 1 MiB" || bad "big: $(cat "$T/err")"

# --- what a wrong aggregator stores, the agent refuses on its own
inject() {	# inject REASON DESC FILE VERSION [MODE]
	local reason=$1 desc=$2
	shift 2
	"$BIN/tl_inject" "$T/agg" "$@" || { bad "tl_inject $desc"; return; }
	if wait_log "$T/a1.log" "test list refused reason=$reason"; then
		ok "agent refuses $desc (reason=$reason)"
		grep -m1 "test list refused" "$T/a1.log" | sed 's/^/     /'
	else
		bad "agent did not refuse $desc: $(grep -i 'test list' "$T/a1.log" | tail -2)"
	fi
	: >"$T/a1.log"	# the next case's line is new
}
inject other_signer "another signer's list" "$T/l200o" 300
inject unsigned "an unsigned list" "$T/l202" 301 unsigned
inject bad_signature "a tampered list" "$T/l202" 302 tamper
inject older "an older list" "$T/l90" 303
inject expired "an expired list" "$T/l201e" 304
sleep 3
[ "$(grep -c 'test list sent.*agent_list=100' "$T/agg.log")" = 5 ] && ok "each refused list was sent once per connection (no flood)" || bad "sent: $(grep -c 'test list sent' "$T/agg.log")"
api_now=$(api)
[ "${api_now% *}" = 100 ] && ok "after the refusals the agent still reports 100" || bad "agent reports $api_now"
kill -0 "$AGENT" && ok "the agent kept running" || bad "agent died"
cmp -s "$T/a1/testlist.signed" "$T/l100" && ok "its saved list is still version 100" || bad "saved list changed"

# a new connection is sent the stored list again (and refuses it again)
kill "$AGENT"; wait "$AGENT" 2>/dev/null
: >"$T/a1.log"
agent_start
wait_log "$T/a1.log" "test list refused reason=expired" && ok "after reconnecting the agent is sent the stored list again, and refuses it again" || bad "no resend after reconnect"
sleep 2
[ "$(grep -c 'test list sent.*agent_list=100' "$T/agg.log")" = 6 ] && ok "... once on the new connection" || bad "sent $(grep -c 'test list sent.*agent_list=100' "$T/agg.log") times"
: >"$T/a1.log"

# an expired stored list is not pushed at all
"$BIN/tl_inject" "$T/agg" "$T/l202" 305 stale
wait_log "$T/agg.log" "stored version=305 has expired; not pushed" && ok "the aggregator does not push an expired stored list" || bad "stale list: $(grep testlist "$T/agg.log" | tail -2)"
sleep 2
grep -q "test list" "$T/a1.log" && bad "the agent was sent the expired list" || ok "... and the agent hears nothing of it"
[ "$(grep -c 'test list sent.*agent_list=100' "$T/agg.log")" = 6 ] || bad "stale list sent"

# --- a good newer list after the refusals is applied
"$CTL" testlist sign --key "$T/op/identity.key" --version 400 -o "$T/l400" "$T/ep.csv" 2>/dev/null
"$CTL" -c "$T/agg.conf" testlist push "$T/l400" >/dev/null 2>&1 &&
	wait_log "$T/a1.log" "test list applied version=400 tests=1" && ok "a good newer list is applied after the refusals" || bad "400 not applied"
wait_measured old 400 && ok "measurements now carry 400" || bad "no measurement with 400"

# --- the largest list sign makes still reaches the agent in one frame
size=$(/usr/bin/python3 "$(dirname "$0")/tl_fill.py" "$BIN" "$T/op/identity.key" "$T/l500" "$WEB" 500)
[ "${size:-0}" -gt 1040000 ] && [ "${size:-0}" -le 1048512 ] && ok "sign makes a list of $size bytes, up to the limit" || bad "fill: $size"
"$CTL" -c "$T/agg.conf" testlist push "$T/l500" >/dev/null 2>&1 &&
	wait_log "$T/a1.log" "test list applied version=500 tests=66" 30 && ok "the agent applies a list of $size bytes" || bad "big list not applied: $(grep -i 'test list\|uplink' "$T/a1.log" | tail -3)"

# --- 2,000 rows: sign, push and apply, timed
/usr/bin/python3 - "$T/l2k.csv" "$WEB" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("service,test,target,port,sni,control_sni,interval\n")
    for i in range(2000):
        f.write("bulk%d,tls,host-%d.example.org,%s,sni-%d.example.org,control.example.net,7d\n" % (i % 40, i, sys.argv[2], i))
PY
t0=$(date +%s%N)
"$CTL" testlist sign --key "$T/op/identity.key" --version 700 -o "$T/l700" "$T/l2k.csv" 2>/dev/null
t1=$(date +%s%N)
"$CTL" -c "$T/agg.conf" testlist push "$T/l700" >/dev/null 2>&1
t2=$(date +%s%N)
if wait_log "$T/a1.log" "test list applied version=700 tests=2000" 30; then
	t3=$(date +%s%N)
	ok "2,000 rows: sign $(( (t1 - t0) / 1000000 )) ms, push $(( (t2 - t1) / 1000000 )) ms, applied $(( (t3 - t2) / 1000000 )) ms after the push ($(stat -c %s "$T/l700") bytes)"
else
	bad "2,000 rows not applied"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
