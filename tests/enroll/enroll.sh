#!/bin/bash
# enroll.sh BINDIR — one-token enrollment end to end (docs/PROTOCOL.md 7):
# the real zond-aggregator on 127.0.0.1 with LMDB in a temporary folder,
# zondctl token create|list|revoke beside it, real `zond-agent --enroll`
# runs and a real agent daemon that delivers afterwards.  Each refusal is
# checked on both sides: the agent's words and exit status, and the
# aggregator's counter (its stats line) and log.  Waits are bounded.
set -u
BIN=$1
T=$(mktemp -d /tmp/zond-enroll-XXXXXX)
pids=()
AP=
cleanup() {
	for p in "${pids[@]}" $AP; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ZMQ=$(port)
HTTP=$(port)
WEB=$(port)

# start_aggr RATE [ENABLED]: the daemon with [enroll] rate RATE (and
# enabled ENABLED, default yes); its identity is created on first start
start_aggr() {
	cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/data
key = $T/data/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
stats_interval = 1s
[http]
listen = 127.0.0.1:$HTTP
[enroll]
endpoints = tcp://127.0.0.1:$ZMQ
rate = $1
enabled = ${2:-yes}
CONF
	"$BIN/zond-aggregator" -c "$T/agg.conf" >>"$T/agg.log" 2>&1 &
	AP=$!
	for _ in $(seq 100); do
		[ -f "$T/data/identity.pub" ] && grep -q "listening endpoint=tcp://127.0.0.1:$ZMQ" "$T/agg.log" && return 0
		sleep 0.1
	done
	echo "aggregator did not start"; tail -20 "$T/agg.log"; exit 1
}
stop_aggr() { kill "$AP"; wait "$AP" 2>/dev/null; AP=; }

# stat KEY: KEY's value in the aggregator's last stats line
astat() {
	grep -E 'info: stats( final)? ' "$T/agg.log" | tail -1 | grep -o " $1=[^ ]*" | cut -d= -f2
}
# stat_is KEY VALUE: until the stats line says so (stats come every second)
stat_is() {
	for _ in $(seq 40); do
		[ "$(astat "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "   ($1=$(astat "$1"), expected $2)"
	return 1
}

# agent_conf NAME: a config as a package leaves it (no aggregator yet):
# state and key in $T/NAME, one test of a local web server, one round
agent_conf() {
	cat >"$T/$1.conf" <<CONF
# as installed; zond-agent --enroll fills [uplink]
[agent]
state_dir = $T/$1
key = $T/$1/identity.key
user = ""
[uplink]
server_key = ""
heartbeat = 1s
[tests]
endpoints = $T/ep.csv
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 2s
rounds = 1
CONF
}

# enroll NAME TOKEN [args]: zond-agent --enroll; output in $T/NAME.out,
# exit status in $RC
enroll() {
	local n=$1 tok=$2
	shift 2
	"$BIN/zond-agent" --enroll "$tok" -c "$T/$n.conf" "$@" >"$T/$n.out" 2>&1 </dev/null
	RC=$?
}

token() { "$BIN/zondctl" -c "$T/agg.conf" token create "$@" 2>>"$T/tokens.err"; }

cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
CONF
/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)

start_aggr 1000
grep -q "created a new identity key=$T/data/identity.key" "$T/agg.log" &&
	[ "$(/usr/bin/stat -c %a "$T/data/identity.key")" = 600 ] &&
	ok "aggregator created its identity on first start (0600)" || bad "aggregator identity"

# ---------------------------------------------------------------- tokens
TOK=$(token --region RU-SPE --asn AS12389 --network mobile --name pi-spb-1)
[ "$(printf '%s\n' "$TOK" | wc -l)" = 1 ] && [[ "$TOK" == zt1.* ]] && [[ "$TOK" != *[!A-Za-z0-9._-]* ]] &&
	ok "token create prints one copy-paste-safe line" || bad "token: '$TOK'"
"$BIN/zondctl" token list --data "$T/data" >"$T/list1"
grep -q "region=RU-SPE asn=12389 network=mobile .*state=unused used_by=- name=\"pi-spb-1\"" "$T/list1" &&
	ok "token list: region, asn, network, name, state=unused" || { bad "token list"; cat "$T/list1"; }
SECRET_HEX=$(/usr/bin/python3 - "$TOK" <<'PY'
import base64, sys
t = sys.argv[1][4:]
b = base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))[:-4]
def varint(b, i):
    v = s = 0
    while True:
        v |= (b[i] & 0x7f) << s; s += 7; i += 1
        if not b[i - 1] & 0x80: return v, i
i = 0
while i < len(b):                     # protobuf fields: find 6 (secret)
    k, i = varint(b, i)
    n, i = varint(b, i)
    if k & 7 != 2: continue           # a varint field: n was its value
    if k == (6 << 3 | 2): print(b[i:i + n].hex())
    i += n
PY
)
[ ${#SECRET_HEX} = 64 ] && ! grep -qi "$SECRET_HEX" "$T/list1" && ! grep -qri "$SECRET_HEX" "$T/tokens.err" &&
	ok "token list never shows the secret" || bad "secret shown or not found (${#SECRET_HEX})"

# ---------------------------------------------------------------- no answer
# (in the background: it waits its 30 s while the rest runs) a token whose
# endpoint nobody listens on, as for a device without Internet
DEAD=$(port)
TOKD=$("$BIN/zondctl" -c "$T/agg.conf" token create --region RU-MOW --asn 1 --network fixed --endpoint "tcp://127.0.0.1:$DEAD" 2>/dev/null)
agent_conf dead
( enroll dead "$TOKD" --accept-risk; echo "rc=$RC" >>"$T/dead.out" ) &
DEADPID=$!
DEADT0=$(date +%s)

# ---------------------------------------------------------------- damaged
agent_conf bad
DAMAGED=$(/usr/bin/python3 -c 'import sys; t=sys.argv[1]; i=len(t)//2; print(t[:i] + ("A" if t[i] != "A" else "B") + t[i+1:])' "$TOK")
stat_is frames 0 || bad "no stats line"
enroll bad "$DAMAGED" --accept-risk
[ $RC = 2 ] && grep -q "damaged" "$T/bad.out" && ok "damaged token: exit 2, 'damaged'" || { bad "damaged: rc=$RC"; cat "$T/bad.out"; }
[ ! -e "$T/bad/identity.key" ] && grep -q 'server_key = ""' "$T/bad.conf" &&
	ok "damaged token: nothing written" || bad "damaged token wrote something"
sleep 1.2	# a stats line later
[ "$(astat frames)" = 0 ] && [ "$(astat zap_enroll)" = 0 ] && ok "damaged token: nothing reached the aggregator" || bad "frames=$(astat frames)"

# ---------------------------------------------------------------- consent
agent_conf a1
enroll a1 "$TOK"
[ $RC = 2 ] && grep -q "no terminal to answer on" "$T/a1.out" && [ ! -e "$T/a1/identity.key" ] &&
	ok "no terminal and no --accept-risk: refused, nothing written" || { bad "no consent: rc=$RC"; cat "$T/a1.out"; }
/usr/bin/python3 - "$BIN/zond-agent" "$TOK" "$T/a1.conf" >"$T/pty.out" <<'PY'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen([sys.argv[1], "--enroll", sys.argv[2], "-c", sys.argv[3]],
                     stdin=s, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
os.write(m, b"no\n")
out = p.communicate(timeout=20)[0].decode()
print(out)
print("rc=%d" % p.returncode)
PY
grep -q "rc=2" "$T/pty.out" && grep -q "did not answer yes" "$T/pty.out" && [ ! -e "$T/a1/identity.key" ] &&
	ok "answering no on a terminal: refused, nothing written" || { bad "answer no"; cat "$T/pty.out"; }

# ---------------------------------------------------------------- admitted
enroll a1 "$TOK" --accept-risk
[ $RC = 0 ] && grep -q "Enrolled: region RU-SPE, ASN 12389, mobile network" "$T/a1.out" &&
	ok "--enroll --accept-risk: admitted, exit 0" || { bad "enroll rc=$RC"; cat "$T/a1.out"; tail -5 "$T/agg.log"; }
A1=$(cat "$T/a1/identity.pub" 2>/dev/null)
[ "$(/usr/bin/stat -c %a "$T/a1/identity.key" 2>/dev/null)" = 600 ] && [ ${#A1} = 64 ] &&
	ok "agent key created (0600) with its .pub" || bad "agent key"
grep -qx "server_key = \"$(cat "$T/data/identity.pub")\"" "$T/a1.conf" &&
	grep -qx "endpoint = \"tcp://127.0.0.1:$ZMQ\"" "$T/a1.conf" && grep -qx "heartbeat = 1s" "$T/a1.conf" &&
	grep -qx "rounds = 1" "$T/a1.conf" && [ "$(grep -c server_key "$T/a1.conf")" = 1 ] &&
	ok "config: [uplink] endpoint and server_key set in place, other lines kept" || { bad "config"; cat "$T/a1.conf"; }
stat_is enroll_admitted 1 && ok "aggregator counted enroll_admitted=1" || bad "enroll_admitted"
grep -q "ingest: enroll admitted agent=${A1:0:16} from=127.0.0.1 region=RU-SPE asn=12389 network=mobile" "$T/agg.log" &&
	ok "aggregator logged the admission (key prefix, source)" || bad "no admission log line"
"$BIN/zondctl" token list --data "$T/data" | grep -q "state=used used_by=$A1 " &&
	ok "token list: state=used used_by=the agent's key" || bad "token not marked used"
"$BIN/zondctl" agents --data "$T/data" | grep -q "agent=$A1 region=RU-SPE asn=12389 role=probe network=mobile state=enabled" &&
	ok "zondctl agents: region, asn and network from the token" || { bad "agents"; "$BIN/zondctl" agents --data "$T/data"; }
curl -s "http://127.0.0.1:$HTTP/api/v1/agents" | grep -q "\"network\": \"mobile\"" &&
	ok "agents API shows network" || bad "agents API network"

# then the daemon runs as usual and its measurements carry the token's cell
timeout 60 "$BIN/zond-agent" -c "$T/a1.conf" >"$T/a1.log" 2>&1
[ $? = 0 ] && grep -q "all 1 rounds measured and delivered" "$T/a1.log" &&
	ok "zond-agent -c CONFIG delivers after enrollment" || { bad "daemon"; tail -5 "$T/a1.log"; }
"$BIN/zondctl" export --data "$T/data" --format jsonl -o "$T/export.jsonl"
/usr/bin/python3 - "$T/export.jsonl" "$A1" <<'PY' && ok "stored under the token's region and ASN" || bad "export"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, len(recs)
assert recs[0]["agent"] == sys.argv[2] and recs[0]["region"] == "RU-SPE" and recs[0]["asn"] == 12389, recs[0]
PY

# ---------------------------------------------------------------- same key again
/usr/bin/python3 - "$BIN/zond-agent" "$TOK" "$T/a1.conf" >"$T/pty.out" <<'PY'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen([sys.argv[1], "--enroll", sys.argv[2], "-c", sys.argv[3]],
                     stdin=s, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
os.write(m, b"yes\n")
print(p.communicate(timeout=40)[0].decode())
print("rc=%d" % p.returncode)
PY
grep -q "rc=0" "$T/pty.out" && grep -q "Enrolled" "$T/pty.out" && grep -q "(existing)" "$T/pty.out" &&
	ok "same key again (answer lost), answering yes on a terminal: admitted" || { bad "same key again"; cat "$T/pty.out"; }
stat_is enroll_admitted 2 && ok "aggregator counted it (enroll_admitted=2)" || bad "enroll_admitted after the repeat"

# ---------------------------------------------------------------- used
agent_conf a2
enroll a2 "$TOK" --accept-risk
[ $RC = 1 ] && grep -q "already enrolled another device" "$T/a2.out" &&
	ok "token used by another key: exit 1, plain words" || { bad "used: rc=$RC"; cat "$T/a2.out"; }
stat_is enroll_used 1 && grep -q "enroll refused agent=$(cut -c1-16 "$T/a2/identity.pub") from=127.0.0.1 reason=used" "$T/agg.log" &&
	ok "aggregator: enroll_used=1, logged with key prefix and source" || bad "used counter/log"

# ---------------------------------------------------------------- forged
TOK2=$(token --region RU-MOW --asn 8359 --network fixed)
FORGED=$(/usr/bin/python3 - "$TOK2" <<'PY'
import base64, hashlib, sys
t = sys.argv[1][4:]
b = bytearray(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))[:-4])
def varint(b, i):
    v = s = 0
    while True:
        v |= (b[i] & 0x7f) << s; s += 7; i += 1
        if not b[i - 1] & 0x80: return v, i
i = 0
while i < len(b):
    k, i = varint(b, i)
    n, i = varint(b, i)
    if k & 7 != 2: continue
    if k == (6 << 3 | 2): b[i] ^= 1   # one bit of the secret
    i += n
b = bytes(b) + hashlib.sha256(bytes(b)).digest()[:4]   # checksum fixed up
print("zt1." + base64.urlsafe_b64encode(b).decode().rstrip("="))
PY
)
agent_conf a3
enroll a3 "$FORGED" --accept-risk
[ $RC = 1 ] && grep -q "forged" "$T/a3.out" && ! grep -q "damaged" "$T/a3.out" &&
	ok "forged token (secret altered, checksum fixed): exit 1, 'forged'" || { bad "forged: rc=$RC"; cat "$T/a3.out"; }
stat_is enroll_forged 1 && ok "aggregator: enroll_forged=1" || bad "forged counter"
# the real token still works afterwards: a forgery does not burn it
enroll a3 "$TOK2" --accept-risk
[ $RC = 0 ] && grep -q "region RU-MOW, ASN 8359, fixed network" "$T/a3.out" &&
	ok "the genuine token still admits after a forgery" || { bad "genuine after forged: rc=$RC"; cat "$T/a3.out"; }

# ---------------------------------------------------------------- expired
TOK3=$(token --region RU-MOW --asn 8359 --network fixed --expires 1s)
sleep 1.5
agent_conf a4
enroll a4 "$TOK3" --accept-risk
[ $RC = 1 ] && grep -q "has expired" "$T/a4.out" && ok "expired token: exit 1, 'has expired'" || { bad "expired: rc=$RC"; cat "$T/a4.out"; }
stat_is enroll_expired 1 && ok "aggregator: enroll_expired=1" || bad "expired counter"
"$BIN/zondctl" token list --data "$T/data" | grep -c "state=expired" | grep -qx 1 && ok "token list: state=expired" || bad "expired state"

# ---------------------------------------------------------------- revoked
TOK4=$(token --region RU-MOW --asn 8359 --network fixed)
ID4=$(tail -1 "$T/tokens.err" | sed -n 's/^token id=\([0-9a-f]*\) .*/\1/p')	# create's line on stderr
"$BIN/zondctl" token revoke --data "$T/data" "$ID4" | grep -qx "revoked id=$ID4" && ok "token revoke" || bad "revoke $ID4"
"$BIN/zondctl" token revoke --data "$T/data" 0123456789abcdef0123456789abcdef 2>"$T/rev.err"
[ $? = 1 ] && grep -q "no such token" "$T/rev.err" && ok "revoking an unknown id: exit 1, 'no such token'" || bad "revoke unknown"
agent_conf a5
enroll a5 "$TOK4" --accept-risk
[ $RC = 1 ] && grep -q "revoked" "$T/a5.out" && ok "revoked token: exit 1, 'revoked'" || { bad "revoked: rc=$RC"; cat "$T/a5.out"; }
stat_is enroll_revoked 1 && ok "aggregator: enroll_revoked=1" || bad "revoked counter"
"$BIN/zondctl" token list --data "$T/data" | grep -q "id=$ID4 .*state=revoked" && ok "token list: state=revoked" || bad "revoked state"

# ---------------------------------------------------------------- unknown
mkdir -p "$T/other" && cp "$T/data/identity.pub" "$T/other/"
TOK5=$("$BIN/zondctl" token create --data "$T/other" --region RU-MOW --asn 1 --network fixed --endpoint "tcp://127.0.0.1:$ZMQ" 2>/dev/null)
agent_conf a6
enroll a6 "$TOK5" --accept-risk
[ $RC = 1 ] && grep -q "does not know this token" "$T/a6.out" && ok "a token of another store: exit 1, unknown" || { bad "unknown: rc=$RC"; cat "$T/a6.out"; }
stat_is enroll_unknown 1 && ok "aggregator: enroll_unknown=1" || bad "unknown counter"

# ---------------------------------------------------------------- another aggregator
"$BIN/zondctl" keygen -o "$T/agg2" >/dev/null
sed -i "s|^server_key = .*|server_key = \"$(cat "$T/agg2/identity.pub")\"|" "$T/a6.conf"
cp "$T/a6.conf" "$T/a6.conf.before"
TOK6=$(token --region RU-MOW --asn 8359 --network fixed)
enroll a6 "$TOK6" --accept-risk
[ $RC = 1 ] && grep -q "names another aggregator" "$T/a6.out" && cmp -s "$T/a6.conf" "$T/a6.conf.before" &&
	ok "a config naming another aggregator is not overwritten" || { bad "other aggregator: rc=$RC"; cat "$T/a6.out"; }

# ---------------------------------------------------------------- an unknown key sends a batch
M0=$("$BIN/zondctl" agents --data "$T/data" | tail -1)
U0=$(astat rejected_unknown_agent)
agent_conf u1
"$BIN/zondctl" keygen -o "$T/u1" >/dev/null
cat >>"$T/u1.conf" <<CONF
[uplink]
endpoint = tcp://127.0.0.1:$ZMQ
server_key = $(cat "$T/data/identity.pub")
CONF
sed -i '0,/^server_key = ""$/{/^server_key = ""$/d}' "$T/u1.conf"
timeout 8 "$BIN/zond-agent" -c "$T/u1.conf" >"$T/u1.log" 2>&1
for _ in $(seq 30); do [ "$(astat rejected_unknown_agent)" -ge $((U0 + 2)) ] && break; sleep 0.1; done
grep -q "refused for now reason=unknown_agent" "$T/u1.log" && ! grep -q "measured and delivered" "$T/u1.log" &&
	ok "unknown key: its hello and batches are refused (agent keeps them)" || { bad "unknown key agent side"; tail -5 "$T/u1.log"; }
[ "$(astat rejected_unknown_agent)" -ge $((U0 + 2)) ] && grep -q "this connection may only enroll" "$T/agg.log" &&
	ok "aggregator: rejected_unknown_agent counted ($U0 -> $(astat rejected_unknown_agent)), logged" || bad "unknown key counter $U0 -> $(astat rejected_unknown_agent)"
[ "$("$BIN/zondctl" agents --data "$T/data" | tail -1)" = "$M0" ] && ok "nothing stored from an unknown key ($M0)" || bad "stored: $("$BIN/zondctl" agents --data "$T/data" | tail -1)"
kill -0 "$AP" 2>/dev/null && ok "aggregator still running" || bad "aggregator died"

curl -s "http://127.0.0.1:$HTTP/metrics" >"$T/metrics"
grep -qx 'zond_enroll_total{status="admitted"} 3' "$T/metrics" && grep -qx 'zond_enroll_total{status="forged"} 1' "$T/metrics" &&
	ok "/metrics: zond_enroll_total by status" || { bad "metrics"; grep enroll "$T/metrics"; }

# ---------------------------------------------------------------- enrollment off
stop_aggr
start_aggr 1000 no
TOK7=$(token --region RU-MOW --asn 8359 --network fixed)
agent_conf off
enroll off "$TOK7" --accept-risk
[ $RC = 1 ] && grep -q "refused the connection" "$T/off.out" &&
	ok "enrollment off: an unknown key is refused at the handshake, exit 1 at once" || { bad "off: rc=$RC"; cat "$T/off.out"; }
stat_is zap_unknown 1 && ok "aggregator: zap_unknown=1" || bad "zap_unknown"
enroll a3 "$TOK2" --accept-risk
[ $RC = 1 ] && grep -q "does not accept enrollments now" "$T/a3.out" &&
	ok "enrollment off: an enrolled key's Enroll is answered 'disabled'" || { bad "disabled: rc=$RC"; cat "$T/a3.out"; }
stat_is enroll_disabled 1 && ok "aggregator: enroll_disabled=1" || bad "enroll_disabled"
"$BIN/zondctl" disable --data "$T/data" --pubkey "$A1" >/dev/null
enroll a1 "$TOK" --accept-risk
[ $RC = 1 ] && grep -q "refused the connection" "$T/a1.out" &&
	ok "a disabled agent's --enroll: refused at the handshake" || { bad "disabled agent: rc=$RC"; cat "$T/a1.out"; }

# ---------------------------------------------------------------- rate limit
stop_aggr
start_aggr 2
for i in 1 2 3; do
	agent_conf r$i
	enroll r$i "$TOK5" --accept-risk
	eval "RC$i=$RC"
done
[ "$RC1" = 1 ] && [ "$RC2" = 1 ] && grep -q "does not know" "$T/r2.out" && [ "$RC3" = 1 ] &&
	grep -q "Wait a minute" "$T/r3.out" && ok "rate 2/min: third attempt from one address refused, 'Wait a minute'" ||
	{ bad "rate limit: $RC1 $RC2 $RC3"; cat "$T/r3.out"; }
stat_is enroll_rate_limited 1 && stat_is zap_enroll_limited 1 && grep -q "reason=enroll_rate_limited" "$T/agg.log" &&
	ok "aggregator: enroll_rate_limited=1, zap_enroll_limited=1, logged" || bad "rate-limit counters"
kill -0 "$AP" 2>/dev/null && ok "aggregator still running" || bad "aggregator died"
stop_aggr

wait "$DEADPID"
DEADT=$(( $(date +%s) - DEADT0 ))
grep -q "rc=3" "$T/dead.out" && grep -q "no answer from the aggregator in 30 s (no connection could be made)" "$T/dead.out" &&
	[ $DEADT -ge 29 ] && [ $DEADT -le 40 ] && ok "no aggregator reachable: exit 3 after 30 s, plain words" ||
	{ bad "no answer: ${DEADT}s"; cat "$T/dead.out"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
