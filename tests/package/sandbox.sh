#!/bin/bash
# sandbox.sh DEBDIR SRCDIR — would the packaged daemons work inside their
# units' sandboxes?  This machine's PID 1 is not systemd, so the units
# cannot be started; instead the amd64 packages' binaries do real work on
# loopback under strace -f (the aggregator stores an agent's measurements
# and serves HTTP; the helper answers the agent's STUN, QUIC, WireGuard and
# throughput tests; the agent measures, sends and exits after one round),
# and syscalls.py checks each trace against its unit: system calls,
# socket families, files written.  Needs strace.
set -u
debs=$1 src=$2
T=$(mktemp -d /tmp/zond-sandbox-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
uport() { /usr/bin/python3 -c 'import socket;s=socket.socket(type=socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# run in the background: $! is strace (exec), and the daemon its child;
# a killed strace detaches and leaves the daemon running, so stop() stops
# the daemon and strace ends with it
trace() { local n=$1; shift; exec strace -f -qq -o "$T/$n.trace" "$@"; }
stop() { local p; for p in "$@"; do pkill -TERM -P "$p" 2>/dev/null; done; wait "$@" 2>/dev/null; }

for d in "$debs"/*_amd64.deb; do dpkg-deb -x "$d" "$T/root"; done
BIN=$T/root/usr/bin U=$T/root/lib/systemd/system
ZMQ=$(port) HTTP=$(port) BULK=$(port) STUN=$(uport) QUIC=$(uport) WG=$(uport)

"$BIN/zondctl" keygen -o "$T/agg" >/dev/null
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
CONF
cat >"$T/helper.conf" <<CONF
[helper]
listen = 127.0.0.1
user = ""
[ports]
stun = $STUN
quic = $QUIC
wireguard = $WG
openvpn = 0
echo = 0
bulk = $BULK
CONF
. "$src/tests/agents.sh"
new_agent a RU-MOW 64501 probe || bad "enroll"
cat >>"$T/a.conf" <<CONF
helper = 127.0.0.1
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 3s
rounds = 1
CONF
cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$HTTP,,,,,
web,http,http://127.0.0.1:$HTTP/,,,,,,,
facetime,stun,helper,helper,$STUN,,,plain,,
youtube,quic,helper,helper,$QUIC,www.youtube.com,www.google.com,initial_sni,,
vpn,vpn,helper,helper,$WG,,,wireguard,,
youtube,throughput,helper,helper,$BULK,a.example,example.org,,64K,
CONF

trace aggregator "$BIN/zond-aggregator" -c "$T/agg.conf" >"$T/agg.log" 2>&1 &
pids+=($!)
trace helper "$BIN/zond-helper" -c "$T/helper.conf" >"$T/helper.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	grep -q listening "$T/agg.log" 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$BULK") 2>/dev/null && break
	sleep 0.1
done
timeout 120 strace -f -qq -o "$T/agent.trace" "$BIN/zond-agent" -c "$T/a.conf" >"$T/agent.log" 2>&1
rc=$?
n=$(grep -c 'measurement seq=' "$T/agent.log")
[ $rc = 0 ] && [ "$n" = 6 ] && ok "the agent measured 6 tests, delivered them and exited" ||
    { bad "agent exit $rc, $n measurements"; tail -20 "$T/agent.log"; }
# agent records may lag the store a moment (docs/STORAGE.md)
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$HTTP/api/v1/agents" >"$T/agents.json"
	grep -q '"stored": 6' "$T/agents.json" && break
	sleep 0.1
done
grep -q '"stored": 6' "$T/agents.json" && ok "the aggregator stored them and serves the API" ||
    { bad "aggregator API"; cat "$T/agents.json"; }
curl -sf "http://127.0.0.1:$HTTP/" >/dev/null || bad "dashboard"
stop "${pids[@]}"
pids=()

check() {
	if "$src/tests/package/syscalls.py" "$@" >"$T/check" 2>&1; then
		ok "$(head -1 "$T/check"): all inside ${1##*/}'s sandbox"
	else bad "$(cat "$T/check")"; fi
}
check "$U/zond-agent.service" "$T/agent.trace" "$T/a"
check "$U/zond-aggregator.service" "$T/aggregator.trace" "$T/agg"
check "$U/zond-helper.service" "$T/helper.trace"
echo "pass=$pass fail=$fail"
[ "$fail" = 0 ]
