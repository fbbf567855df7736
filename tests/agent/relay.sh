#!/bin/bash
# relay.sh BINDIR — the agent's HTTPS relay uplink (docs/PROTOCOL.md §8,
# "The agent"), with a real zond-agent, real TLS on loopback (a
# certificate made here with openssl) and, as the relay, the stand-in
# relay_standin.py that implements the relay contract (it verifies every
# request and signs its replies with the aggregator's identity key).
#
# The agent's CurveZMQ endpoint is dead from the start (the aggregator is
# not running) and its relays are: 1. a port where nothing listens,
# 2. the stand-in.  Phases:
#   1. after relay_after everything goes through the second relay: Hello
#      first, batches, heartbeats; the first relay's failure is logged;
#   2. the relay forges acks (another key), sends unsigned replies, and
#      replies signed for another request: each refused, nothing deleted
#      (a restart shows the backlog; all of it is stored later);
#   3. the relay answers 429, 503 and 413: the agent backs off (and
#      makes its batches smaller after 413) and loses nothing;
#   4. kill -9 of the agent while it streams through the relay;
#   5. the real aggregator starts on the CurveZMQ endpoint: the agent
#      returns to CurveZMQ and stops using the relay;
#   6. a last round (rounds = 1) that exits only when everything is
#      delivered.
# Checks: every sequence number the agent logged as put in its outbox is
# acknowledged by the relay or stored by the aggregator; none twice in
# either.  Waits are bounded; no assertion depends on speed.
#
# Against the real relay ingest of zond-aggregator: set ZOND_RELAY_AGG_CONF
# to a file of aggregator config lines that switch its HTTPS ingest on,
# with @PORT@, @CRT@, @KEY@ for the port, certificate and key this test
# makes (tests/agent/relay_real.conf; ctest agent_relay_aggregator).  The aggregator
# then runs from the start with that ingest and its ZeroMQ on another port
# than the agent's endpoint (CurveZMQ dead), the relay URL is
# https://127.0.0.1:PORT/ingest/v1, phases 2-4 (a misbehaving relay) are
# skipped, and everything must end up stored once in its store.
set -u
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../agents.sh"
T=$(mktemp -d /tmp/zond-relay-XXXXXX)
AP= RP= WP= P1=
pass=0 fail=0
cleanup() {
	for p in $AP $RP $WP $P1; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
die() {
	echo "FAIL $*"
	for f in a1 relay agg; do
		[ -f "$T/$f.log" ] && { echo "--- $f.log (last 20 lines)"; tail -20 "$T/$f.log"; }
	done
	exit 1
}
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
logged() { grep -o 'measurement seq=[0-9]*' "$1" | cut -d= -f2; }
waituntil() {	# waituntil SECS CMD...
	local n=$(($1 * 5))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
	return 1
}
count() { grep -c "$1" "$2" 2>/dev/null || true; }
acked() { grep -c '^stored seq=' "$T/relay.log"; }
at_least() { [ "$(acked)" -ge "$1" ]; }
has() { grep -q "$1" "$2" 2>/dev/null; }
start_agent() {
	"$BIN/zond-agent" -c "$T/a1.conf" >>"$T/a1.log" 2>&1 &
	P1=$!
}
stop_agent() {	# stop_agent TERM|KILL
	kill -"$1" "$P1"
	wait "$P1" 2>/dev/null
	P1=
	echo "--- stopped with SIG$1" >>"$T/a1.log"
}

# --- the world: a web server to measure, keys, enrolment, TLS
WEB=$(port)
/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
WP=$!
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null || die "keygen"
ZMQ=$(port)
new_agent a1 RU-MOW 64501 probe || die "keygen and enrolment of the agent"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/tls.key" -out "$T/tls.crt" -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || die "openssl"
echo ok >"$T/mode"
REAL=${ZOND_RELAY_AGG_CONF:-}
agg_conf() {	# agg_conf ZMQPORT: the aggregator's config (+ the relay ingest)
	cat >"$T/agg.conf" <<-CONF
	[aggregator]
	data_dir = $T/agg
	key = $T/agg/identity.key
	[ingest]
	listen = tcp://127.0.0.1:$1
	CONF
	[ -z "$REAL" ] || sed -e "s|@PORT@|$RPORT|g; s|@CRT@|$T/tls.crt|g; s|@KEY@|$T/tls.key|g" \
		"$REAL" >>"$T/agg.conf"
}
stored() { "$BIN/zondctl" agents --data "$T/agg" | grep -o 'measurements=[0-9]*' | cut -d= -f2; }
if [ -z "$REAL" ]; then
	/usr/bin/python3 "$HERE/relay_standin.py" "$T/tls.crt" "$T/tls.key" \
		"$T/agg/identity.key" "$(cat "$T/a1.pub")" "$T/mode" >"$T/relay.log" 2>&1 &
	RP=$!
	waituntil 10 has '^port=' "$T/relay.log" || die "the stand-in relay did not start"
	URL="https://127.0.0.1:$(sed -n 's/^port=//p' "$T/relay.log")/ingest/v1"
	CA=$T/tls.crt
else
	RPORT=$(port)
	agg_conf "$(port)"
	"$BIN/zond-aggregator" -c "$T/agg.conf" >>"$T/agg.log" 2>&1 &
	AP=$!
	URL="https://127.0.0.1:$RPORT/ingest/v1"
	CA=$T/tls.crt
	touch "$T/relay.log"
fi
DEAD="https://127.0.0.1:$(port)/ingest/v1"
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
closed,tcp,127.0.0.1,,1,,,,,
CONF
cat >"$T/a1.conf" <<CONF
[agent]
state_dir = $T/a1
key = $T/a1/identity.key
user = ""
[uplink]
endpoint = tcp://127.0.0.1:$ZMQ
server_key = $(cat "$T/agg/identity.pub")
heartbeat = 2s
relays = $DEAD, $URL
relay_after = 3s
relay_ca_file = $CA
relay_timeout = 5s
[tests]
endpoints = $T/ep.csv
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 2s
CONF

# --- 0. a relay_ca_file that cannot be read: refused at start, named
sed "s|^relay_ca_file = .*|relay_ca_file = $T/missing.pem|" "$T/a1.conf" >"$T/bad.conf"
"$BIN/zond-agent" -c "$T/bad.conf" >"$T/bad.log" 2>&1
[ $? != 0 ] && grep -q "relay_ca_file $T/missing.pem: No such file" "$T/bad.log" &&
	ok "an unreadable relay_ca_file stops the agent at start, named" ||
	bad "relay_ca_file missing: $(tail -2 "$T/bad.log")"

# --- 1. CurveZMQ dead from the start: the relays
start_agent
waituntil 30 has 'sending through the HTTPS relays' "$T/a1.log" &&
	ok "CurveZMQ dead: the agent turns to the relays after relay_after" ||
	die "the agent never used the relays"
if [ -n "$REAL" ]; then
	waituntil 60 eval '[ "$(stored)" -ge 10 ] 2>/dev/null' &&
		ok "the aggregator stored $(stored) measurements that came through its HTTPS ingest" ||
		bad "the aggregator's HTTPS ingest stored fewer than 10"
fi
has "relay: no answer.*url=$DEAD" "$T/a1.log" &&
	ok "the first relay (nothing listening) failed and is logged" ||
	bad "no log of the first relay's failure"
if [ -z "$REAL" ]; then
	waituntil 30 at_least 10 && ok "measurements acknowledged through the second relay ($(acked))" ||
		die "fewer than 10 measurements through the relay"
	[ "$(grep -m1 '^req ' "$T/relay.log" | grep -c 'kind=hello')" = 1 ] &&
		ok "the first request through the relay is a Hello" || bad "first request: $(grep -m1 '^req ' "$T/relay.log")"
	waituntil 10 has '^req kind=heartbeat' "$T/relay.log" &&
		ok "heartbeats go through the relay ($(count 'kind=heartbeat' "$T/relay.log"))" ||
		bad "no heartbeat through the relay"

	# --- 2. a relay that forges acks: nothing deleted.  A bad reply is a
	# failure of that relay: the agent backs off (doubling after each
	# round of the list), so the three kinds take turns per request.
	echo hostile >"$T/mode"	# first: what is logged after mark went after it
	mark=$(logged "$T/a1.log" | tail -1)
	waituntil 60 eval '[ $(count "mode=mismatch" "$T/relay.log") -ge 1 ]' ||
		bad "the hostile relay got fewer than 3 requests"
	stop_agent TERM
	for w in "not the aggregator's" "no signature" "another request"; do
		has "reply refused, nothing applied.*$w" "$T/a1.log" &&
			ok "a reply with $w refused, logged" || bad "no refusal logged for: $w"
	done
	since=$(logged "$T/a1.log" | awk -v m="$mark" '$1 > m' | wc -l)
	starts=$(count 'started version=' "$T/a1.log")
	echo busy >"$T/mode"
	start_agent
	waituntil 10 eval '[ $(count "started version=" "$T/a1.log") -gt $starts ]'
	b=$(grep -o 'started version=.*backlog=[0-9]*' "$T/a1.log" | tail -1 | grep -o '[0-9]*$')
	[ "${b:-0}" -ge "$since" ] && [ "$since" -gt 0 ] &&
		ok "forged, unsigned and mismatched acks deleted nothing: backlog=$b >= $since measured meanwhile" ||
		bad "backlog ${b:-none} after forged acks, $since measured meanwhile"

	# --- 3. 429, 503 and 413 in turn: backoff, nothing lost
	waituntil 60 eval '[ $(count "status=503" "$T/relay.log") -ge 1 ] &&
		[ $(count "status=429" "$T/relay.log") -ge 1 ] &&
		[ $(count "status=413" "$T/relay.log") -ge 1 ]'
	for m in 429 503 413; do
		has "status=$m" "$T/relay.log" && has "relay: HTTP $m" "$T/a1.log" &&
			ok "HTTP $m answered: logged, the agent retries" || bad "HTTP $m not seen or not logged"
	done
	has "refused a request as too large; batches of at most 524288 bytes" "$T/a1.log" &&
		ok "after 413 the batches are halved" || bad "no smaller batches after 413"
	echo ok >"$T/mode"
	n=$(acked)
	waituntil 60 at_least $((n + 5)) && ok "after 429/503 the relay acknowledges again" ||
		bad "no progress after 429/503"

	# --- 4. kill -9 while streaming through the relay
	sleep 1.$((RANDOM % 10))
	stop_agent KILL
	start_agent
	n=$(acked)
	waituntil 30 at_least $((n + 3)) && ok "killed with SIGKILL mid-relay, started again, streams again" ||
		bad "no progress after SIGKILL"
fi

# --- 5. the aggregator on the CurveZMQ endpoint: back to it
if [ -n "$AP" ]; then kill -TERM "$AP"; wait "$AP" 2>/dev/null; fi
agg_conf "$ZMQ"
"$BIN/zond-aggregator" -c "$T/agg.conf" >>"$T/agg.log" 2>&1 &
AP=$!
waituntil 100 has 'CurveZMQ works again' "$T/a1.log" &&
	ok "the aggregator back on CurveZMQ: the agent returns to it" ||
	bad "the agent did not return to CurveZMQ"
if [ -z "$REAL" ]; then
	sleep 1
	r0=$(count '^req ' "$T/relay.log")
	sleep 6
	r1=$(count '^req ' "$T/relay.log")
	[ "$r1" -le $((r0 + 1)) ] && ok "no more requests to the relay after the return ($r0 -> $r1)" ||
		bad "the relay still gets requests: $r0 -> $r1"
fi

# --- 6. a last round that exits when everything is delivered
stop_agent TERM
printf 'rounds = 1\n' >>"$T/a1.conf"
timeout 120 "$BIN/zond-agent" -c "$T/a1.conf" >>"$T/a1.log" 2>&1
[ $? = 0 ] && ok "a last round: measured and delivered everything" || bad "last round did not finish"
kill -TERM "$AP"; wait "$AP" 2>/dev/null; AP=
"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export.jsonl" || die "export"
logged "$T/a1.log" >"$T/seqs"
kills=$(count "stopped with SIGKILL" "$T/a1.log")
/usr/bin/python3 - "$T/export.jsonl" "$T/relay.log" "$T/seqs" "$kills" <<'PY' &&
import collections, json, sys
agg = collections.Counter(json.loads(l)["seq"] for l in open(sys.argv[1]))
rel = collections.Counter(int(l.split("=")[1]) for l in open(sys.argv[2])
                          if l.startswith("stored seq="))
logged = [int(s) for s in open(sys.argv[3]).read().split()]
assert not agg or max(agg.values()) == 1, "a seq stored twice by the aggregator"
assert not rel or max(rel.values()) == 1, "a seq acknowledged twice as new"
dup = [s for s, n in collections.Counter(logged).items() if n > 1]
assert not dup, "seq handed out twice: %s" % dup[:5]
missing = sorted(set(logged) - set(agg) - set(rel))
assert not missing, "logged, never delivered: %s" % missing[:10]
extra = sorted((set(agg) | set(rel)) - set(logged))
assert len(extra) <= int(sys.argv[4]), "delivered, never logged: %s" % extra[:10]
print("logged=%d relay=%d aggregator=%d both=%d" % (len(logged), len(rel),
      len(agg), len(set(agg) & set(rel))))
PY
	ok "every logged measurement delivered: acknowledged by the relay or stored by the aggregator, none twice in either" ||
	bad "delivery check"
grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$T/a1.log" &&
	bad "sanitizer report in the agent's log: $(grep -m3 'runtime error\|Sanitizer' "$T/a1.log")" ||
	ok "no sanitizer report in the agent's log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
