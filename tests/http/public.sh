#!/bin/bash
# public.sh BINDIR [PYTHON3] — the public view and the operator token
# (docs/API.md "Public view and operator token"), end to end: the
# refusals at start (-n and the daemon), then one real zond-aggregator
# with an operator listener (token) and a public listener (k = 3) on
# loopback, fed by agents written from docs/PROTOCOL.md (public.py):
# RU-MOW AS64501 with 3 probes (shown), RU-MOW AS64502 with 2 (hidden:
# merged into its region row), RU-SPE AS64503 with 2 and RU-TA AS64504
# with 1 (small regions: merged into "other").  public.py walks every
# endpoint of both listeners.
set -u
BIN=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/zond-public-XXXXXX)
agg=""
fails=0
cleanup() { [ -n "$agg" ] && kill "$agg" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ZMQ=$(port); HTTP=$(port); PUB=$(port)
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null || exit 1

# conf FILE HTTP-SECTION-LINES...: a whole config with that [http]
conf() {
	local f=$1
	shift
	{
		printf '[aggregator]\ndata_dir = %s\nkey = %s\n' "$T/agg" "$T/agg/identity.key"
		printf '[ingest]\nlisten = tcp://127.0.0.1:%s\n[http]\n' "$ZMQ"
		printf '%s\n' "$@"
		printf '[analysis]\ninterval = 200ms\n'
	} >"$f"
	chmod 600 "$f"
}

# refused FILE WHAT PATTERN: -n and the daemon both exit 1 naming it
refused() {
	local out
	out=$("$BIN/zond-aggregator" -n -c "$1" 2>&1)
	if [ $? = 1 ] && grep -q -- "$3" <<<"$out"; then ok "-n refuses $2"
	else fail "-n refuses $2: $out"; fi
	out=$(timeout 20 "$BIN/zond-aggregator" -c "$1" 2>&1)
	if [ $? = 1 ] && grep -q -- "$3" <<<"$out"; then ok "the daemon refuses $2"
	else fail "the daemon refuses $2: $(tail -3 <<<"$out")"; fi
}
accepted() {
	local out
	if out=$("$BIN/zond-aggregator" -n -c "$1" 2>&1); then ok "-n accepts $2"
	else fail "-n accepts $2: $out"; fi
}

conf "$T/c1.conf" "listen = 0.0.0.0:$HTTP"
refused "$T/c1.conf" "an operator listener on 0.0.0.0 without a token" \
	"0.0.0.0:$HTTP: the operator view .* set \[http\] token"
conf "$T/c2.conf" "listen = [::]:$HTTP"
refused "$T/c2.conf" "an operator listener on [::] without a token" \
	"the operator view"
conf "$T/c3.conf" "listen = 0.0.0.0:$HTTP" "public = yes"
accepted "$T/c3.conf" "a public listener on 0.0.0.0 without a token"
conf "$T/c4.conf" "listen = 0.0.0.0:$HTTP" "token = $TOKEN"
accepted "$T/c4.conf" "an operator listener on 0.0.0.0 with a token"
out=$("$BIN/zond-aggregator" -n -c "$T/c4.conf" 2>&1)
if grep -q "$TOKEN" <<<"$out" || ! grep -q '^\[http\] token = (secret, not shown)$' <<<"$out"; then
	fail "-n prints the token: $(grep token <<<"$out")"
else ok "-n does not print the token"; fi
conf "$T/c5.conf" "listen = 127.0.0.2:$HTTP"
accepted "$T/c5.conf" "an operator listener on 127.0.0.2 (loopback) without a token"
conf "$T/c6.conf" "token = 0123456789abcde"
refused "$T/c6.conf" "a token of 15 characters" "token.*15 characters; a token needs at least 16"
conf "$T/c7.conf" "token = 01234567 89abcdefgh"
refused "$T/c7.conf" "a token with a blank" "token.*blank.*position 9"
conf "$T/c8.conf" "listen = 127.0.0.1:$HTTP" "public_listen = 127.0.0.1:$HTTP"
refused "$T/c8.conf" "public_listen on listen's address" "public_listen.*the same address"
conf "$T/c8r.conf" "listen = 127.0.0.1:$HTTP" "public_listen = 127.0.0.1:$PUB" "[relay]" "listen = 127.0.0.1:$PUB"
refused "$T/c8r.conf" "public_listen on [relay] listen's address" "public_listen.*the same address as \[relay\] listen"
conf "$T/c8s.conf" "listen = 127.0.0.1:$HTTP" "[relay]" "listen = 127.0.0.1:$HTTP"
refused "$T/c8s.conf" "listen on [relay] listen's address" "listen.*the same address as \[relay\] listen"
conf "$T/c9.conf" "public_min_agents = 0"
refused "$T/c9.conf" "public_min_agents 0" "public_min_agents"
conf "$T/c10.conf" "token = $TOKEN"
chmod 644 "$T/c10.conf"
refused "$T/c10.conf" "a config file holding the token that others may read" \
	"c10.conf.*chmod"
chmod 640 "$T/c10.conf"
refused "$T/c10.conf" "a config file holding the token that its group may read" \
	"c10.conf.*chmod"

seeds=()
enroll() {	# NAME REGION ASN ROLE
	local seed
	seed=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	seeds+=("$seed")
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$("$PY" "$HERE/public.py" pubkey "$seed")" \
		--region "$2" --asn "$3" --name "$1" --role "$4" >/dev/null || { echo "FAIL enroll $1"; exit 1; }
}
enroll c1 DE-BE 64999 control
enroll a1 RU-MOW 64501 probe
enroll a2 RU-MOW 64501 probe
enroll a3 RU-MOW 64501 probe
enroll b1 RU-MOW 64502 probe
enroll b2 RU-MOW 64502 probe
enroll s1 RU-SPE 64503 probe
enroll s2 RU-SPE 64503 probe
enroll t1 RU-TA 64504 probe
conf "$T/agg.conf" "listen = 127.0.0.1:$HTTP" "token = $TOKEN" \
	"public_listen = 127.0.0.1:$PUB"
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
for _ in $(seq 100); do [ "$(grep -c "http listening" "$T/agg.log")" = 2 ] && break; sleep 0.1; done
if grep -q "http listening=127.0.0.1:$HTTP dashboard=.* view=operator token=yes$" "$T/agg.log" &&
	grep -q "http listening=127.0.0.1:$PUB dashboard=.* view=public$" "$T/agg.log"; then
	ok "the log names both listeners and their views"
else
	fail "the log names both listeners: $(grep http "$T/agg.log")"
fi
if grep -q "$TOKEN" "$T/agg.log"; then fail "the token is in the log"; fi
"$PY" "$HERE/public.py" run "tcp://127.0.0.1:$ZMQ" "$T/agg/identity.pub" \
	"http://127.0.0.1:$HTTP" "http://127.0.0.1:$PUB" "$TOKEN" "${seeds[@]}" || fails=$((fails + 1))
kill -TERM "$agg"; wait "$agg"; rc=$?; agg=""
if [ $rc != 0 ] || grep -qE "Sanitizer|runtime error" "$T/agg.log"; then
	echo "FAIL aggregator exit $rc"; tail -20 "$T/agg.log"; fails=$((fails + 1))
fi
[ $fails = 0 ] || { tail -20 "$T/agg.log"; exit 1; }
exit 0
