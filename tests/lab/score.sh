#!/bin/bash
# score.sh SCENARIO BINDIR — run one lab scenario and pass only when every
# expectation holds and no cell is a false positive (score.json).
set -u
scen=$1
bin=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/zond-labtest-XXXXXX)
trap 'rm -rf "$out"' EXIT
"$here/ops/lab/run" --bin "$bin" "$scen" "$out"
rc=$?
if [ $rc -ne 0 ]; then
	echo "lab run failed (exit $rc)"
	for f in "$out"/logs/*.log; do [ -f "$f" ] && { echo "== $f"; tail -8 "$f"; }; done
	exit 1
fi
/usr/bin/python3 - "$out/score.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for r in s["results"]:
    e, o = r["expected"], r["observed"]
    print(("ok   " if r["pass"] else "FAIL ") + f"{r['isp']}/{r['service']}: expected "
          f"{e['verdict']}/{e['method'] or '*'}, observed {o['verdict']}/{o['method']} "
          f"({o['measurements']} measurements, blocked share {o['blocked_share']})")
for fp in s["false_positive_cells"]:
    print(f"FAIL false positive: {fp['isp']}/{fp['service']} judged {fp['verdict']}/{fp['method']}")
print("confusion:", json.dumps(s["confusion"], sort_keys=True))
print(f"{s['passed']} passed, {s['failed'] + s['false_positives']} failed")
sys.exit(0 if s["pass"] else 1)
PY
