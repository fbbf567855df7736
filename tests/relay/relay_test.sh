#!/bin/bash
# relay_test.sh SCENARIO BINDIR — the HTTPS relay ingest (PROTOCOL.md §8)
# as agents and relays meet it: the real zond-aggregator on 127.0.0.1
# with a certificate made here by openssl, LMDB in a temporary directory,
# and relayclient.py, a client written from the document alone.
# Scenarios:
#   cases   every answer of the contract (relayclient.py cases): hello,
#           batch stored and acked, replay 409, same batch resent, forged
#           measurement and envelope signatures, unknown and disabled
#           keys, garbage, wrong path and method, oversize, a slow client,
#           the rate limit; then the export holds exactly what was acked,
#           the stats line counted the refusals, the daemon is alive
#   kill9   kill -9 of the aggregator at random moments while a client
#           delivers through the relay; after restarts every acked
#           measurement is stored exactly once, none twice; then SIGTERM
#           with requests in flight: a prompt exit 0, delivery completes
#           after a restart
#   nginx   the aggregator's relay in plain HTTP behind nginx terminating
#           TLS (docs/OPERATIONS.md): delivered through the proxy
# Waiting loops are bounded; no assertion depends on speed.
set -u
SCEN=$1
BIN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON3:-/usr/bin/python3}
CLIENT=$HERE/relayclient.py
T=$(mktemp -d /tmp/zond-relay-XXXXXX)
AP=
CP=
NP=

cleanup() {
	[ -n "$CP" ] && kill -9 "$CP" 2>/dev/null
	[ -n "$AP" ] && kill -9 "$AP" 2>/dev/null
	[ -n "$NP" ] && kill -TERM "$NP" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	if [ -f "$T/agg.log" ]; then
		echo "--- aggregator log (last 40 lines)"
		tail -40 "$T/agg.log"
	fi
	exit 1
}
ok() { echo "ok   $*"; }

"$PY" -c 'import cryptography' 2>/dev/null ||
	{ echo "skip: python3 cryptography missing"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

DATA=$T/data
"$BIN/zondctl" keygen -o "$T/aggr" >/dev/null || fail "keygen"
APUB=$(cat "$T/aggr/identity.pub")
"$BIN/zondctl" keygen -o "$T/op" >/dev/null || fail "keygen"
OP=$(cat "$T/op/identity.pub")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 2 -subj /CN=relay.test -keyout "$T/key.pem" -out "$T/cert.pem" \
	2>/dev/null || fail "openssl could not make a test certificate"

seed() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
enroll() { # SEED NAME
	"$BIN/zondctl" enroll --data "$DATA" --region RU-MOW --asn 64500 \
		--name "$2" --pubkey "$("$PY" "$CLIENT" pubkey "$1")" \
		>/dev/null || fail "enroll $2"
}

# start_aggr LISTEN TLS(1|0) RATE: start, wait for the relay's port
HPORT=$((20000 + RANDOM % 12000))
start_aggr() {
	local n tls=""
	[ "$2" = 1 ] && tls="tls_cert = $T/cert.pem
tls_key = $T/key.pem"
	cat >"$T/agg.conf" <<-EOF
	[aggregator]
	data_dir = $DATA
	key = $T/aggr/identity.key
	[ingest]
	listen = tcp://127.0.0.1:*
	stats_interval = 1s
	[http]
	listen = 127.0.0.1:$HPORT
	[relay]
	listen = $1
	$tls
	rate = $3
	timeout = 2s
	[enroll]
	enabled = no
	[testlist]
	operator_key = $OP
	EOF
	n=$(grep -c 'relay listening=' "$T/agg.log" 2>/dev/null)
	n=${n:-0}
	"$BIN/zond-aggregator" -c "$T/agg.conf" 2>>"$T/agg.log" &
	AP=$!
	for _ in $(seq 200); do
		[ "$(grep -c 'relay listening=' "$T/agg.log")" -gt "$n" ] && break
		if ! kill -0 "$AP" 2>/dev/null; then
			wait "$AP" 2>/dev/null
			AP=
			[ "${TRY:-0}" = 1 ] && return 1
			fail "aggregator did not start"
		fi
		sleep 0.05
	done
	RPORT=$(grep -o 'relay listening=[^ ]* port=[0-9]*' "$T/agg.log" |
		tail -1 | sed 's/.*port=//')
	[ -n "$RPORT" ] && [ "$RPORT" != 0 ] || fail "no relay port in the log"
}

stop_aggr() {
	kill -TERM "$AP"
	wait "$AP"
	local rc=$?
	AP=
	[ "$rc" -eq 0 ] || fail "aggregator exited $rc on SIGTERM"
}

exported() { # distinct and total seqs of agent HEX in the export
	"$BIN/zondctl" export --data "$DATA" --format jsonl |
		"$PY" -c 'import json,sys
k=sys.argv[1]; s=[json.loads(l)["seq"] for l in sys.stdin
  if json.loads(l)["agent"]==k]
print(len(set(s)), len(s))' "$1"
}

case $SCEN in
cases)
	S1=$(seed) S2=$(seed) S3=$(seed) S4=$(seed)
	enroll "$S1" good
	enroll "$S3" off
	enroll "$S4" limited
	"$BIN/zondctl" disable --data "$DATA" \
		--pubkey "$("$PY" "$CLIENT" pubkey "$S3")" >/dev/null || fail "disable"
	start_aggr 127.0.0.1:0 1 20
	# a stored test list: the relayed Hello's reply carries it
	printf 'service,test,target,ip,port,sni,control_sni,variant,bytes,interval\nweb,tcp,192.0.2.7,,443,,,,,60s\n' >"$T/list.csv"
	"$BIN/zondctl" testlist sign --key "$T/op/identity.key" --version 100 \
		-o "$T/l100" "$T/list.csv" 2>/dev/null &&
		"$BIN/zondctl" -c "$T/agg.conf" testlist push "$T/l100" >/dev/null 2>&1 ||
		fail "testlist sign/push"
	sleep 1.2	# the aggregator reads the stored list at most once a second
	OPERATOR_PUB=$OP "$PY" "$CLIENT" cases "https://127.0.0.1:$RPORT/ingest/v1" "$APUB" \
		"$T/cert.pem" "$S1" "$S2" "$S3" "$S4" >"$T/cases.out" 2>&1
	rc=$?
	cat "$T/cases.out"
	[ $rc -eq 0 ] || fail "$(grep -c '^FAIL' "$T/cases.out") relay cases failed"
	kill -0 "$AP" || fail "aggregator died"
	acked=$(sed -n 's/^acked=//p' "$T/cases.out")
	sleep 1.5
	K1=$("$PY" "$CLIENT" pubkey "$S1")
	grep -q "hello agent=${K1:0:16} version=relayclient/1" "$T/agg.log" ||
		fail "the relayed Hello was not taken as the agent's"
	ok "the relayed Hello logged as the agent's"
	if grep -q "http listening=127.0.0.1:$HPORT" "$T/agg.log"; then
		m=$(curl -s "http://127.0.0.1:$HPORT/metrics")
		echo "$m" | grep -q '^zond_relay_answers_total{status="409"} 3$' &&
			echo "$m" | grep -q '^zond_relay_answers_total{status="429"} [1-9]' ||
			fail "/metrics: $(echo "$m" | grep zond_relay)"
		ok "/metrics counts the relay's answers by status"
	else
		echo "skip /metrics: port $HPORT busy"
	fi
	stop_aggr
	read -r dist total <<<"$(exported "$("$PY" "$CLIENT" pubkey "$S1")")"
	[ "$dist" = "$acked" ] && [ "$total" = "$acked" ] ||
		fail "export holds $total ($dist distinct), $acked acked"
	ok "export holds the $acked acked measurements, each once"
	line=$(grep 'relay requests=' "$T/agg.log" | tail -1)
	for k in bad forbidden replay too_large limited not_found; do
		v=$(echo "$line" | grep -o " $k=[0-9]*" | cut -d= -f2)
		[ "${v:-0}" -gt 0 ] || fail "stats: $k not counted: $line"
	done
	ok "stats counted each refusal: ${line#*relay }"
	"$BIN/zondctl" agents --data "$DATA" | grep "agent=$K1" |
		grep -q 'last_seen=[0-9]' || fail "last_seen not set by the relay"
	ok "a relayed Hello sets the agent's last_seen"
	;;
kill9)
	S1=$(seed)
	enroll "$S1" good
	TRY=1
	for _ in $(seq 30); do
		PORT=$((20000 + RANDOM % 12000))
		start_aggr "127.0.0.1:$PORT" 1 100000 && break
	done
	[ -n "$AP" ] || fail "no free port"
	TRY=0
	N=20000
	"$PY" "$CLIENT" deliver "https://127.0.0.1:$PORT/ingest/v1" "$APUB" \
		"$T/cert.pem" "$S1" $N "$T/acked" >"$T/deliver.out" 2>&1 &
	CP=$!
	kills=0
	while kill -0 "$CP" 2>/dev/null && [ $kills -lt 6 ]; do
		sleep "0.$((RANDOM % 4 + 1))"
		kill -9 "$AP" 2>/dev/null
		wait "$AP" 2>/dev/null
		AP=
		kills=$((kills + 1))
		# everything acked so far is in the store
		n=$(sort -un "$T/acked" 2>/dev/null | wc -l)
		read -r dist total <<<"$(exported "$("$PY" "$CLIENT" pubkey "$S1")")"
		[ "$dist" -ge "$n" ] && [ "$dist" = "$total" ] ||
			fail "after kill $kills: $n acked, $dist stored ($total rows)"
		start_aggr "127.0.0.1:$PORT" 1 100000
	done
	wait "$CP"
	rc=$?
	CP=
	cat "$T/deliver.out"
	[ $rc -eq 0 ] || fail "delivery did not complete"
	ok "$kills kill -9 during relay delivery"
	# SIGTERM while requests are in flight: a prompt clean exit (the
	# waiting requests get 503), then the client finishes after a restart
	S2=$(seed)
	enroll "$S2" second
	"$PY" "$CLIENT" deliver "https://127.0.0.1:$PORT/ingest/v1" "$APUB" \
		"$T/cert.pem" "$S2" 3000 "$T/acked2" >"$T/deliver2.out" 2>&1 &
	CP=$!
	sleep 0.5
	t0=$(date +%s%N)
	stop_aggr
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -lt 5000 ] || fail "SIGTERM during relay delivery took $ms ms"
	ok "SIGTERM during relay delivery: exit 0 in $ms ms"
	start_aggr "127.0.0.1:$PORT" 1 100000
	wait "$CP" || fail "second delivery: $(cat "$T/deliver2.out")"
	CP=
	stop_aggr
	read -r dist total <<<"$(exported "$("$PY" "$CLIENT" pubkey "$S1")")"
	[ "$dist" = $N ] && [ "$total" = $N ] ||
		fail "export holds $total rows ($dist distinct) of $N"
	ok "all $N stored exactly once"
	read -r dist total <<<"$(exported "$("$PY" "$CLIENT" pubkey "$S2")")"
	[ "$dist" = 3000 ] && [ "$total" = 3000 ] ||
		fail "second agent: export holds $total rows ($dist distinct) of 3000"
	ok "the second agent's 3000 stored exactly once"
	;;
nginx)
	command -v nginx >/dev/null || { echo "skip: no nginx"; exit 77; }
	S1=$(seed)
	enroll "$S1" good
	start_aggr 127.0.0.1:0 0 600
	mkdir -p "$T/nginx"
	TRY=1
	for _ in $(seq 30); do
		NPORT=$((20000 + RANDOM % 12000))
		# the configuration docs/OPERATIONS.md shows, on loopback
		cat >"$T/nginx/nginx.conf" <<-EOF
		pid $T/nginx/pid;
		error_log $T/nginx/error.log;
		events { worker_connections 64; }
		http {
		  access_log off;
		  client_body_temp_path $T/nginx/body;
		  proxy_temp_path $T/nginx/proxy;
		  fastcgi_temp_path $T/nginx/fcgi;
		  uwsgi_temp_path $T/nginx/uwsgi;
		  scgi_temp_path $T/nginx/scgi;
		  server {
		    listen 127.0.0.1:$NPORT ssl;
		    ssl_certificate $T/cert.pem;
		    ssl_certificate_key $T/key.pem;
		    location = /ingest/v1 {
		      client_max_body_size 1040k;
		      proxy_pass http://127.0.0.1:$RPORT;
		      proxy_http_version 1.1;
		      proxy_read_timeout 30s;
		    }
		    location / { return 404; }
		  }
		}
		EOF
		nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off; user root;' \
			2>>"$T/nginx/stderr" &
		NP=$!
		sleep 0.5
		kill -0 "$NP" 2>/dev/null && break
		NP=
	done
	[ -n "$NP" ] || fail "nginx did not start: $(tail -3 "$T/nginx/stderr")"
	"$PY" "$CLIENT" deliver "https://127.0.0.1:$NPORT/ingest/v1" "$APUB" \
		"$T/cert.pem" "$S1" 100 "$T/acked" || fail "delivery through nginx"
	ok "100 measurements delivered through nginx (TLS) to the plain-HTTP relay"
	stop_aggr
	read -r dist total <<<"$(exported "$("$PY" "$CLIENT" pubkey "$S1")")"
	[ "$dist" = 100 ] && [ "$total" = 100 ] ||
		fail "export holds $total rows ($dist distinct) of 100"
	ok "all 100 stored exactly once"
	;;
*)
	echo "unknown scenario $SCEN"
	exit 2
	;;
esac
exit 0
