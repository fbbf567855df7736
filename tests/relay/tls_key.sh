#!/bin/bash
# tls_key.sh BINDIR — [relay] tls_key is a secret (docs/SECURITY.md): the
# real zond-aggregator with a certificate and key made here by openssl.
# A key that group or others may read (0644, 0640, 0604) is refused by
# `zond-aggregator -n` and at start, exit 1, the error naming the option,
# the file, its mode and the fix, and nothing is served; 0600 and 0400
# pass -n, start, and the relay answers a TLS client (curl) on loopback.
# A missing key is named too; with the relay off the key is not read.
set -u
BIN=$1
T=$(mktemp -d /tmp/zond-tlskey-XXXXXX)
AP=
cleanup() {
	[ -n "$AP" ] && kill -9 "$AP" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
"$BIN/zondctl" keygen -o "$T/aggr" >/dev/null || { echo "FAIL keygen"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
	{ echo "FAIL openssl could not make a test certificate"; exit 1; }

conf() {	# conf RELAY_LISTEN KEYFILE
	cat >"$T/agg.conf" <<-EOF
	[aggregator]
	data_dir = $T/data
	key = $T/aggr/identity.key
	[ingest]
	listen = tcp://127.0.0.1:*
	[relay]
	listen = $1
	tls_cert = $T/cert.pem
	tls_key = $2
	EOF
}

conf 127.0.0.1:0 "$T/key.pem"
for m in 0644 0640 0604; do
	chmod $m "$T/key.pem"
	want="zond-aggregator: [relay] tls_key: $T/key.pem: TLS private key is readable by group or others (mode $m); refusing to use it. Run: chmod 600 $T/key.pem"
	"$BIN/zond-aggregator" -n -c "$T/agg.conf" >"$T/n.out" 2>"$T/n.err"; rc=$?
	[ $rc = 1 ] && grep -qxF "$want" "$T/n.err" \
		&& ok "-n with a $m key: exit 1, names the option, file, mode and fix" \
		|| { bad "-n with a $m key (exit $rc)"; cat "$T/n.err"; }
	rm -rf "$T/data"
	timeout 20 "$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/s.out" 2>"$T/s.err"; rc=$?
	[ $rc = 1 ] && grep -qF "$want" "$T/s.err" && ! grep -q "relay listening" "$T/s.err" \
		&& [ ! -e "$T/data" ] \
		&& ok "start with a $m key: exit 1 before anything is opened or served, same error" \
		|| { bad "start with a $m key (exit $rc)"; cat "$T/s.err"; }
done

for m in 0600 0400; do
	chmod $m "$T/key.pem"
	"$BIN/zond-aggregator" -n -c "$T/agg.conf" >"$T/n.out" 2>"$T/n.err"; rc=$?
	[ $rc = 0 ] && [ ! -s "$T/n.err" ] && ok "-n with a $m key: exit 0, nothing said" \
		|| { bad "-n with a $m key (exit $rc)"; cat "$T/n.err"; }
	: >"$T/agg.log"
	"$BIN/zond-aggregator" -c "$T/agg.conf" 2>"$T/agg.log" &
	AP=$!
	port=
	for _ in $(seq 200); do
		port=$(grep -o 'relay listening=[^ ]* port=[0-9]*' "$T/agg.log" | sed 's/.*port=//')
		[ -n "$port" ] && break
		kill -0 "$AP" 2>/dev/null || break
		sleep 0.05
	done
	# GET is not the relay's method: a TLS answer from it, 405
	code=$(curl -s --max-time 10 --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:${port:-1}/ingest/v1")
	[ -n "$port" ] && grep -q "tls=1" "$T/agg.log" && [ "$code" = 405 ] \
		&& ok "start with a $m key: the relay serves TLS (curl GET: $code)" \
		|| { bad "start with a $m key (port '$port', curl '$code')"; tail -5 "$T/agg.log"; }
	kill -TERM "$AP"; wait "$AP"; rc=$?; AP=
	[ $rc = 0 ] && ! grep -qE "Sanitizer|runtime error" "$T/agg.log" \
		&& ok "SIGTERM: exit 0, no sanitizer report" || { bad "exit $rc on SIGTERM"; tail -20 "$T/agg.log"; }
done

# a key that is not there is named; with the relay off, tls_key is not read
conf 127.0.0.1:0 "$T/nokey.pem"
"$BIN/zond-aggregator" -n -c "$T/agg.conf" >/dev/null 2>"$T/n.err"; rc=$?
[ $rc = 1 ] && grep -qF "zond-aggregator: [relay] tls_key: $T/nokey.pem: cannot open TLS private key: No such file or directory" "$T/n.err" \
	&& ok "-n with a missing key: exit 1, names it" || { bad "-n missing key (exit $rc)"; cat "$T/n.err"; }
chmod 0644 "$T/key.pem"
conf '""' "$T/key.pem"
"$BIN/zond-aggregator" -n -c "$T/agg.conf" >/dev/null 2>"$T/n.err"; rc=$?
[ $rc = 0 ] && ok "-n with the relay off: tls_key not read, exit 0" || { bad "-n relay off (exit $rc)"; cat "$T/n.err"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
