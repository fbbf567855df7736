#!/bin/bash
# run.sh BINDIR [PYTHON3] — the dashboard in a real browser against a real
# zond-aggregator with known data (tests/dashboard/README.md).
#
# dashboard_seed writes the `small` scenario (agents, signed measurements
# queued for the analyzer, truth.json); zond-aggregator serves it on
# loopback with the source tree's dashboards/ (an operator listener, with
# a token when this aggregator has `[http] token`, and a public one when
# it has `[http] public_listen`); once the
# analyzer has judged everything (map pending 0, every cell of truth.json
# present) check.mjs compares the API with truth.json and drives headless
# Debian chromium through playwright-core over every view of the DOM
# contract.  Last, SIGTERM must stop the daemon cleanly (exit 0).
#
# Exit 77 (ctest SKIP_RETURN_CODE) only when chromium or node_modules are
# missing and ZOND_REQUIRE_BROWSER is not set (ops/test sets it: then 1): ops/setup
# installs chromium and nodejs, and `npm ci` in tests/dashboard installs
# playwright-core (.ci/run does both).
set -u
BIN=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${ZOND_CHROMIUM:-/usr/bin/chromium}
# under ops/test (the README's test command and CI, after ops/setup) a
# missing part is a failure, never a skip
SKIP=77
[ -n "${ZOND_REQUIRE_BROWSER:-}" ] && SKIP=1
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: no chromium at $CHROMIUM (apt-get install chromium; ops/setup does)"
	exit $SKIP
fi
if ! command -v node >/dev/null; then
	echo "SKIP: no node (apt-get install nodejs; ops/setup does)"
	exit $SKIP
fi
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
	echo "SKIP: no $HERE/node_modules/playwright-core (run: cd tests/dashboard && npm ci)"
	exit $SKIP
fi

T=$(mktemp -d /tmp/zond-dash-XXXXXX)
agg=
cleanup() { [ -n "$agg" ] && kill "$agg" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# n distinct free loopback ports (all bound at once, so never the same twice)
ports() { "$PY" -c 'import socket,sys;s=[socket.socket() for _ in range(int(sys.argv[1]))];[x.bind(("127.0.0.1",0)) for x in s];print(*[x.getsockname()[1] for x in s])' "$1"; }
read -r ZMQ HTTP PUB <<<"$(ports 3)"

"$BIN/dashboard_seed" --data "$T/agg" --scenario small || { echo "FAIL dashboard_seed"; exit 1; }
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
dashboard_dir = $HERE/../../dashboards
CONF
# the public listener of docs/API.md
echo "public_listen = 127.0.0.1:$PUB" >>"$T/agg.conf"
PUBLIC=http://127.0.0.1:$PUB
# the operator token of docs/API.md: the page must ask for it, and every
# API request of the checks sends it
TOKEN=$("$PY" -c 'import secrets;print(secrets.token_hex(16))')
echo "token = $TOKEN" >>"$T/agg.conf"
chmod 600 "$T/agg.conf"
cat >>"$T/agg.conf" <<CONF
[analysis]
interval = 300ms
CONF

"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
BASE=http://127.0.0.1:$HTTP
# judged: the state now's map has nothing pending and every cell of truth
"$PY" - "$BASE" "$T/agg/truth.json" "$TOKEN" <<'PY' || { echo "FAIL the analyzer never judged the seeded data"; tail -20 "$T/agg.log"; exit 1; }
import json, sys, time, urllib.request
base, truth, token = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
want = {(c["region"], c["asn"], c["service"]) for c in truth["cells"]}
t_end = time.time() + 90
while time.time() < t_end:
    try:
        rq = urllib.request.Request(base + "/api/v1/map?sample=latest")
        if token:
            rq.add_header("Authorization", "Bearer " + token)
        m = json.load(urllib.request.urlopen(rq, timeout=5))
        have = {(c["region"], c["asn"], c["service"]) for c in m["cells"]}
        if m["pending"] == 0 and want <= have:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY

node "$HERE/check.mjs" --base "$BASE" --truth "$T/agg/truth.json" \
	--python "$PY" --chromium "$CHROMIUM" --tmp "$T" ${PUBLIC:+--public "$PUBLIC"} ${TOKEN:+--token "$TOKEN"}
r=$?

kill -TERM "$agg"
wait "$agg"
rc=$?
agg=
if [ $rc != 0 ]; then
	echo "FAIL zond-aggregator exited $rc after SIGTERM"
	tail -20 "$T/agg.log"
	r=1
elif grep -q "ERROR: .*Sanitizer\|runtime error:" "$T/agg.log"; then
	echo "FAIL sanitizer report in the aggregator's log"
	grep -A20 "Sanitizer\|runtime error:" "$T/agg.log" | head -40
	r=1
else
	echo "ok   zond-aggregator stopped cleanly"
fi
exit $r
