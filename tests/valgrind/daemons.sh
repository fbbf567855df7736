#!/bin/bash
# daemons.sh BINDIR — the daemons under valgrind memcheck: an aggregator
# and an agent deliver two rounds of real measurements on loopback, then
# both stop on SIGTERM; `zond-agent --once`, `zondctl export` and `zondctl
# verify` run too.  Fails on any memcheck error or definite leak.
set -u
BIN=$1
T=$(mktemp -d /tmp/zond-vg-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WEB=$(port); ZMQ=$(port)
/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
"$BIN/zondctl" keygen -o "$T/a" >"$T/a.pub"
"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/a.pub")" --region RU-MOW --asn 64501 >/dev/null
printf '[aggregator]\ndata_dir = %s/agg\nkey = %s/agg/identity.key\n[ingest]\nlisten = tcp://127.0.0.1:%s\n' "$T" "$T" "$ZMQ" >"$T/agg.conf"
printf 'service,test,target,ip,port,sni,control_sni,variant,bytes,interval\nweb,tcp,127.0.0.1,,%s,,,,,\nweb,http,http://127.0.0.1:%s/,,,,,,,\nweb,tcp,127.0.0.1,,1,,,,,\n' "$WEB" "$WEB" >"$T/ep.csv"
cat >"$T/a.conf" <<CONF
[agent]
state_dir = $T/a
key = $T/a/identity.key
user = ""
[uplink]
endpoint = tcp://127.0.0.1:$ZMQ
server_key = $(cat "$T/agg/identity.pub")
[tests]
endpoints = $T/ep.csv
[schedule]
interval = 1s
jitter = 10ms
retries = 1
retry_delay = 100ms
timeout = 3s
rounds = 2
CONF
$VG "$BIN/zond-agent" -c "$T/a.conf" --once >"$T/once.jsonl" 2>"$T/once.err"
r=$?; [ $r = 0 ] && [ "$(wc -l <"$T/once.jsonl")" = 3 ] && ok "agent --once clean" || { bad "agent --once (exit $r)"; tail -20 "$T/once.err"; }
$VG "$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
apid=$!
pids+=($apid)
sleep 3	# valgrind starts slowly
timeout 120 $VG "$BIN/zond-agent" -c "$T/a.conf" >"$T/a.log" 2>&1
r=$?; [ $r = 0 ] && ok "agent daemon delivers 2 rounds, clean" || { bad "agent daemon (exit $r)"; tail -20 "$T/a.log"; }
kill -TERM $apid; wait $apid
r=$?; [ $r = 0 ] && ok "aggregator stores and stops, clean" || { bad "aggregator (exit $r)"; tail -20 "$T/agg.log"; }
$VG "$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/e.jsonl" 2>"$T/exp.err"
r=$?; [ $r = 0 ] && [ "$(wc -l <"$T/e.jsonl")" = 6 ] && ok "zondctl export clean" || { bad "export (exit $r)"; tail -20 "$T/exp.err"; }
$VG "$BIN/zondctl" verify "$T/e.jsonl" >"$T/v.out" 2>"$T/v.err"
r=$?; [ $r = 0 ] && grep -qx "6 valid, 0 invalid" "$T/v.out" && ok "zondctl verify clean" || { bad "verify (exit $r)"; tail -20 "$T/v.err"; }
$VG "$BIN/zondctl" map --data "$T/agg" --json >/dev/null 2>"$T/m.err"
r=$?; [ $r = 0 ] && ok "zondctl map clean" || { bad "map (exit $r)"; tail -20 "$T/m.err"; }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
