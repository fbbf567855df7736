#!/bin/bash
# where.sh BINDIR [PYTHON3] — where the censor sits, end to end: a real
# zond-aggregator with an IP-to-ASN table ([analysis] ip_asn) and the
# HTTP API on loopback; agents written from docs/PROTOCOL.md (where.py)
# send localized blocked measurements of two ISPs and a control's
# reaching ones; where.py checks the map's and the export's where.
set -u
BIN=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/zond-where-XXXXXX)
agg=""
cleanup() { [ -n "$agg" ] && kill "$agg" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ZMQ=$(port); HTTP=$(port)
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null || exit 1
printf '10.1.0.0\t10.1.255.255\t64501\tRU\tISP one\n10.2.0.0\t10.2.255.255\t64502\tRU\tISP two\n100.66.0.0\t100.66.255.255\t64900\tRU\tTransit\n' >"$T/ip_asn.tsv"
cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
[analysis]
interval = 200ms
ip_asn = $T/ip_asn.tsv
CONF
seeds=()
enroll() {	# NAME REGION ASN ROLE
	local seed
	seed=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	seeds+=("$seed")
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$("$PY" "$HERE/where.py" pubkey "$seed")" \
		--region "$2" --asn "$3" --name "$1" --role "$4" >/dev/null || { echo "FAIL enroll $1"; exit 1; }
}
enroll c1 DE-BE 64999 control
enroll p1 RU-MOW 64501 probe
enroll p2 RU-MOW 64501 probe
enroll q1 RU-MOW 64502 probe
enroll q2 RU-MOW 64502 probe
"$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
agg=$!
for _ in $(seq 100); do grep -q "http listening" "$T/agg.log" && break; sleep 0.1; done
"$PY" "$HERE/where.py" run "tcp://127.0.0.1:$ZMQ" "$T/agg/identity.pub" "http://127.0.0.1:$HTTP" "${seeds[@]}"
r=$?
kill -TERM "$agg"; wait "$agg"; rc=$?; agg=""
if [ $rc != 0 ] || grep -qE "Sanitizer|runtime error" "$T/agg.log"; then
	echo "FAIL aggregator exit $rc"; tail -20 "$T/agg.log"; r=1
fi
[ $r = 0 ] || tail -20 "$T/agg.log"
exit $r
