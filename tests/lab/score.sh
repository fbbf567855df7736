#!/bin/bash
# score.sh SCENARIO BINDIR — run one lab scenario and pass only when every
# expectation holds and no cell or region of the map is blocked or throttled
# without an expectation saying so (score.json, docs/LAB.md "Scoring").
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
    what = (f"({o['measurements']} measurements, blocked share {o['blocked_share']})"
            if "isp" in r else f"(region of {o['asns']} ASNs)")
    win = "".join(f" {k} {r[k]} s" for k in ("from", "to") if k in r)
    print(("ok   " if r["pass"] else "FAIL ") + f"{r.get('isp') or 'region ' + r['region']}/"
          f"{r['service']}{win}: expected {e['verdict']}/{e['method'] or '*'}, observed "
          f"{o['verdict']}/{o['method']} {what}")
    if not r["pass"] and o.get("references"):
        # what a regime (whitelist, shutdown) was judged from, in that window
        for svc, v in sorted(o["references"].items()):
            print(f"       {svc}: {v}")
for fp in s["false_positive_cells"]:
    where = fp.get("isp") or f"region {fp['region']}" + (f" AS{fp['asn']}" if "asn" in fp else "")
    win = f" in window {fp['window']}" if "window" in fp else ""
    print(f"FAIL false positive: {where}/{fp['service']} judged {fp['verdict']}/{fp['method']}{win}")
for t in s.get("traps", []):
    print(("ok   " if t["records"] else "FAIL ") + f"trap {t['trap']}: {t['records']} records show it")
if s.get("pending"):
    print(f"FAIL {s['pending']} measurements never judged (pending in the map)")
print("confusion:", json.dumps(s["confusion"], sort_keys=True))
print(f"{s['passed']} passed, {s['failed'] + s['false_positives'] + s.get('traps_missed', 0) + (1 if s.get('pending') else 0)} failed")
sys.exit(0 if s["pass"] else 1)
PY
