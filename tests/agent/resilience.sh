#!/bin/bash
# resilience.sh BINDIR [OUTAGE_SECS] — nothing a real agent measured is
# lost, nothing is stored twice, through kills and a long outage.
#
# Real processes only: one zond-aggregator on a fixed port of 127.0.0.1,
# two zond-agents (probe and control) measuring a local HTTP server and a
# closed port every second, signing, storing in their outboxes and
# streaming over CURVE.  Then:
#   1. the probe agent is killed with SIGKILL three times at random
#      moments and started again on the same state directory;
#   2. the aggregator is killed with SIGKILL and stays down for
#      OUTAGE_SECS (default 120: minutes, longer than the agents' 60 s
#      reconnect and resend back-off caps); meanwhile the agents keep
#      measuring into their outboxes and the control agent is killed and
#      started again too;
#   3. the aggregator starts again; the running agents reconnect and
#      deliver their backlog by themselves;
#   4. the agents are stopped (SIGTERM) and run once more with rounds = 1,
#      which exits only when everything is delivered.
# Checks: every sequence number an agent logged as put in its outbox
# ("measurement seq=N", logged after the outbox commit) is stored exactly
# once with a valid signature; no agent handed out a sequence number
# twice; at most one stored measurement per kill was not logged (put, then
# killed before the log line); measurements made during the outage are
# among them.  Waits are bounded; no assertion depends on speed.
set -u
BIN=$1
. "$(dirname "$0")/../agents.sh"
OUTAGE=${2:-120}
T=$(mktemp -d /tmp/zond-resil-XXXXXX)
AP= WP= P1= P2=
pass=0 fail=0
cleanup() {
	for p in $AP $WP $P1 $P2; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
die() {
	echo "FAIL $*"
	for f in agg a1 a2; do
		[ -f "$T/$f.log" ] && { echo "--- $f.log (last 15 lines)"; tail -15 "$T/$f.log"; }
	done
	exit 1
}
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# logged LOG: sequence numbers the agent confirmed, one per line
logged() { grep -o 'measurement seq=[0-9]*' "$1" | cut -d= -f2; }
stored() { "$BIN/zondctl" agents --data "$T/agg" | grep -o 'measurements=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }'; }

WEB=$(port)
/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
WP=$!
"$BIN/zondctl" keygen -o "$T/agg" >/dev/null || die "keygen"

# the aggregator on a port outside the ephemeral range, so that no
# client connection of a parallel test takes it while the daemon is down
start_aggr() {
	local n
	n=$(grep -c 'listening endpoint=' "$T/agg.log" 2>/dev/null)
	"$BIN/zond-aggregator" -c "$T/agg.conf" 2>>"$T/agg.log" &
	AP=$!
	for _ in $(seq 100); do
		[ "$(grep -c 'listening endpoint=' "$T/agg.log")" -gt "${n:-0}" ] && return 0
		kill -0 "$AP" 2>/dev/null || { wait "$AP"; AP=; return 1; }
		sleep 0.05
	done
	die "aggregator did not start"
}
for _ in $(seq 30); do
	ZMQ=$((20000 + RANDOM % 12000))
	cat >"$T/agg.conf" <<-CONF
	[aggregator]
	data_dir = $T/agg
	key = $T/agg/identity.key
	[ingest]
	listen = tcp://127.0.0.1:$ZMQ
	stats_interval = 1s
	CONF
	start_aggr && break
done
[ -n "$AP" ] || die "no free port for the aggregator"

cat >"$T/ep.csv" <<CONF
service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,,
web,http,http://127.0.0.1:$WEB/,,,,,,,
closed,tcp,127.0.0.1,,1,,,,,
CONF
for a in a1 a2; do
	role=probe; [ $a = a2 ] && role=control
	new_agent $a RU-MOW 64501 $role || die "keygen and enrolment of $a"
	cat >>"$T/$a.conf" <<-CONF
	[schedule]
	interval = 1s
	jitter = 100ms
	retries = 0
	timeout = 2s
	CONF
done
start_agent() {	# start_agent a1|a2: appends to its log; sets P1/P2
	"$BIN/zond-agent" -c "$T/$1.conf" >>"$T/$1.log" 2>&1 &
	if [ "$1" = a1 ]; then P1=$!; else P2=$!; fi
}
kill9_agent() {	# kill9_agent a1|a2
	local p=$P1
	[ "$1" = a2 ] && p=$P2
	kill -9 "$p"
	wait "$p" 2>/dev/null
	echo "--- killed with SIGKILL" >>"$T/$1.log"
}
start_agent a1
start_agent a2

# waituntil SECS CMD...: poll CMD every 0.5 s for at most SECS seconds
waituntil() {
	local n=$(($1 * 2))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.5; done
	return 1
}
at_least() { [ "$(stored)" -ge "$1" ] 2>/dev/null; }
waituntil 30 at_least 12 || die "no measurements stored within 30 s"
ok "two agents stream to the aggregator"

# 1. the probe agent killed three times at random moments
for i in 1 2 3; do
	sleep "$((RANDOM % 3)).$((RANDOM % 10))"
	kill9_agent a1
	start_agent a1
done
ok "probe agent killed with SIGKILL 3 times and started again"

# 2. the aggregator killed and down for OUTAGE seconds
sleep 1.$((RANDOM % 10))
kill -9 "$AP"
wait "$AP" 2>/dev/null
AP=
before=$(($(logged "$T/a1.log" | wc -l) + $(logged "$T/a2.log" | wc -l)))
sleep $((OUTAGE / 2))
kill9_agent a2
start_agent a2
sleep $((OUTAGE - OUTAGE / 2))
during=$(($(logged "$T/a1.log" | wc -l) + $(logged "$T/a2.log" | wc -l) - before))
[ "$during" -gt 0 ] && ok "agents kept measuring through the ${OUTAGE} s outage ($during measurements)" \
	|| bad "nothing measured during the outage"
tail -n +"$(grep -n 'killed with SIGKILL' "$T/a2.log" | tail -1 | cut -d: -f1)" "$T/a2.log" | grep -q "started version=.* backlog=[1-9]" \
	&& ok "the control agent, killed during the outage, started again with a backlog" \
	|| bad "the control agent's restart shows no backlog"

# 3. the aggregator back: the running agents deliver their backlog
t0=$(date +%s)
start_aggr || die "aggregator did not start again"
want=$(($(logged "$T/a1.log" | wc -l) + $(logged "$T/a2.log" | wc -l)))
if waituntil 150 at_least "$want"; then
	ok "the running agents delivered the outage's backlog $(($(date +%s) - t0)) s after the aggregator returned"
else
	bad "after 150 s only $(stored) of $want stored"
fi

# 4. stop the agents, then one last round each that exits when delivered
for a in a1 a2; do
	p=$P1; [ $a = a2 ] && p=$P2
	kill -TERM "$p"
	wait "$p" || bad "$a exited non-zero on SIGTERM"
	printf 'rounds = 1\n' >>"$T/$a.conf"
	timeout 120 "$BIN/zond-agent" -c "$T/$a.conf" >>"$T/$a.log" 2>&1 &
	if [ $a = a1 ]; then P1=$!; else P2=$!; fi
done
wait "$P1"; r1=$?
wait "$P2"; r2=$?
P1= P2=
[ $r1 = 0 ] && [ $r2 = 0 ] && ok "a last round each: measured and delivered everything" || die "last rounds exited $r1 $r2"

"$BIN/zondctl" export --data "$T/agg" --format jsonl -o "$T/export.jsonl" || die "export"
"$BIN/zondctl" verify "$T/export.jsonl" >"$T/verify.txt"
[ $? = 0 ] && grep -q " valid, 0 invalid" "$T/verify.txt" && ok "every stored measurement verifies: $(cat "$T/verify.txt")" \
	|| bad "verify: $(cat "$T/verify.txt")"
for a in a1 a2; do
	logged "$T/$a.log" >"$T/$a.seqs"
	kills=$(grep -c "killed with SIGKILL" "$T/$a.log")
	/usr/bin/python3 - "$T/export.jsonl" "$(cat "$T/$a.pub")" "$T/$a.seqs" "$kills" <<-'PY' \
		&& ok "$a: every logged measurement stored exactly once ($(wc -l <"$T/$a.seqs") logged, $kills kills)" \
		|| bad "$a: stored set differs from the logged one"
	import collections, json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	mine = [r for r in recs if r["agent"] == sys.argv[2]]
	logged = [int(s) for s in open(sys.argv[3]).read().split()]
	kills = int(sys.argv[4])
	ids = collections.Counter(r["id"] for r in recs)
	assert max(ids.values()) == 1, "an id stored twice"
	seqs = collections.Counter(r["seq"] for r in mine)
	assert max(seqs.values()) == 1, "a seq stored twice"
	dup = [s for s, n in collections.Counter(logged).items() if n > 1]
	assert not dup, "seq handed out twice: %s" % dup[:5]
	missing = sorted(set(logged) - set(seqs))
	assert not missing, "logged, not stored: %s" % missing[:10]
	extra = sorted(set(seqs) - set(logged))
	assert len(extra) <= kills, "stored, never logged: %s" % extra
	print("agent %s: %d stored, %d logged, seqs %d..%d" % (sys.argv[2][:8],
	    len(seqs), len(logged), min(seqs), max(seqs)))
	PY
done
kill -TERM "$AP"
wait "$AP" && ok "the aggregator stops cleanly" || bad "aggregator exit on SIGTERM"
AP=
final=$(grep "stats final" "$T/agg.log" | tail -1)
if [ -n "$final" ] && ! grep -Eq "rejected_[a-z_]+=[1-9]" <<<"$final"; then
	ok "the aggregator rejected nothing; replays of what it had not acknowledged: $(grep -o ' dup=[0-9]*' <<<"$final")"
else
	bad "rejections: $final"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
