#!/bin/bash
# tests/dashboard/screenshots.sh [BINDIR] — regenerate the README's
# screenshots docs/img/dashboard-{map,matrix,timeline,events,phone}.png:
# dashboard_seed writes the `small` scenario (tests/dashboard/README.md),
# a zond-aggregator (BINDIR, default build/ci/bin) serves it on loopback
# with the source tree's dashboards/, and shots.mjs saves each view in
# headless chromium once it has painted.  Run by hand after changing the
# page; needs chromium and `npm ci` in tests/dashboard.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:-$ROOT/build/ci/bin}
PY=/usr/bin/python3
for f in "$BIN/dashboard_seed" "$BIN/zond-aggregator" "$BIN/zondctl"; do
	[ -x "$f" ] || { echo "screenshots.sh: no $f (build first)" >&2; exit 1; }
done
[ -f "$HERE/node_modules/playwright-core/package.json" ] ||
	{ echo "screenshots.sh: run npm ci in $HERE first" >&2; exit 1; }
T=$(mktemp -d /tmp/zond-shots-XXXXXX)
agg=
cleanup() { [ -n "$agg" ] && kill "$agg" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# n distinct free loopback ports (all bound at once, so never the same twice)
ports() { "$PY" -c 'import socket,sys;s=[socket.socket() for _ in range(int(sys.argv[1]))];[x.bind(("127.0.0.1",0)) for x in s];print(*[x.getsockname()[1] for x in s])' "$1"; }
read -r ZMQ HTTP <<<"$(ports 2)"
"$BIN/dashboard_seed" --data "$T/agg" --scenario small >/dev/null
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
dashboard_dir = $ROOT/dashboards
[analysis]
interval = 300ms
CONF
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
# wait until the analyzer has judged the data (nothing pending, cells)
"$PY" - "http://127.0.0.1:$HTTP" <<'PY'
import json, sys, time, urllib.request
for _ in range(300):
    try:
        m = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/map?sample=latest", timeout=5))
        if m["pending"] == 0 and len(m["cells"]) >= 42:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("screenshots.sh: the analyzer never judged the seeded data")
PY
mkdir -p "$ROOT/docs/img"
node "$HERE/shots.mjs" --base "http://127.0.0.1:$HTTP" --out "$ROOT/docs/img"
