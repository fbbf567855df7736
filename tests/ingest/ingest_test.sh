#!/bin/bash
# ingest_test.sh SCENARIO BINDIR SENDER STORECHECK — the aggregator's ingest
# as agents meet it: the real zond-aggregator on 127.0.0.1, test agents
# (sender) over CURVE, LMDB in a temporary directory, and storecheck to
# prove what was stored.  Scenarios:
#   basic     N agents x M measurements stored exactly once; a full resend
#             is acknowledged and stored once; registry figures updated
#   kill9     kill -9 at random moments while agents stream (once the
#             agents too, which resume from their ACK log); after each
#             kill every ACKed measurement is in the store; in the end all
#             are stored exactly once and the registry counts are exact
#   outage    agents start while the aggregator is down, it comes up, goes
#             down cleanly (SIGTERM) mid-stream and up again: all delivered
#   rejects   bad signature, agent mismatch, clock, oversized items and
#             batches, garbage, empty, multi-frame and huge frames, wrong
#             version, replay, unknown and disabled keys (ZAP), an agent
#             disabled while connected; a good agent streams meanwhile
#   enroll    agents refused by ZAP until `zondctl enroll` runs beside the
#             daemon, then delivered without a restart
#   hostile   tests/ingest/hostile.py, an agent written from PROTOCOL.md
#             alone: ids that lie about their time, malformed items named
#             by seq, NUL and bad UTF-8, repeated seqs and ids, absurd
#             starts, frames at the size limit, a log-forging version;
#             then export counts against what was acknowledged
#   diskfull  (root only: a small tmpfs) the disk fills: no ACKs, counted
#             REJECT_STORAGE, daemon alive; space returns: all delivered
# Waiting loops are bounded; no assertion depends on speed.
set -u
SCEN=$1
BIN=$2
SENDER=$3
CHECK=$4
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/zond-ingest-XXXXXX)
AP=
SP=
MNT=
SEED="s$$"

cleanup() {
	[ -n "$SP" ] && kill -9 "$SP" 2>/dev/null
	[ -n "$AP" ] && kill -9 "$AP" 2>/dev/null
	wait 2>/dev/null
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
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

DATA=$T/data
EXTRA_CONF=""
"$BIN/zondctl" keygen -o "$T/aggr" >/dev/null || fail "keygen"

# start_aggr [LISTEN]: start the daemon, wait for its endpoint in the log.
# With TRY=1 a daemon that cannot start returns 1 instead of failing.
start_aggr() {
	local listen=${1:-tcp://127.0.0.1:*} n
	cat >"$T/agg.conf" <<-EOF
	[aggregator]
	data_dir = $DATA
	key = $T/aggr/identity.key
	[ingest]
	listen = $listen
	stats_interval = 1s
	$EXTRA_CONF
	[enroll]
	# these scenarios test the handshake's refusal of unknown keys;
	# enrollment has tests/enroll
	enabled = no
	EOF
	n=$(grep -c 'listening endpoint=' "$T/agg.log" 2>/dev/null)
	n=${n:-0}
	"$BIN/zond-aggregator" -c "$T/agg.conf" 2>>"$T/agg.log" &
	AP=$!
	for _ in $(seq 200); do
		[ "$(grep -c 'listening endpoint=' "$T/agg.log")" -gt "$n" ] && break
		if ! kill -0 "$AP" 2>/dev/null; then
			wait "$AP" 2>/dev/null
			AP=
			[ "${TRY:-0}" = 1 ] && return 1
			fail "aggregator did not start"
		fi
		sleep 0.05
	done
	EP=$(grep -o 'listening endpoint=[^ ]*' "$T/agg.log" | tail -1 | cut -d= -f2)
	[ -n "$EP" ] || fail "no endpoint in the log"
}

# stop_aggr: SIGTERM, expect exit 0
stop_aggr() {
	kill -TERM "$AP"
	wait "$AP"
	local rc=$?
	AP=
	[ "$rc" -eq 0 ] || fail "aggregator exited $rc on SIGTERM"
}

# start_fixed: start on a port outside the ephemeral range (so that no
# client connection of a parallel test takes it while the daemon is down)
# and set PORT_EP for restarts on the same endpoint
start_fixed() {
	local port
	for _ in $(seq 30); do
		port=$((20000 + RANDOM % 12000))
		if TRY=1 start_aggr "tcp://127.0.0.1:$port"; then
			PORT_EP=$EP
			return 0
		fi
	done
	fail "no free port"
}

kill9_aggr() {
	kill -9 "$AP"
	wait "$AP" 2>/dev/null
	AP=
}

# enroll FIRST N: enroll test agents FIRST..FIRST+N-1
enroll() {
	local k
	for k in $("$SENDER" --mode pubkeys --seed "$SEED" --first "$1" --agents "$2"); do
		"$BIN/zondctl" enroll --data "$DATA" --pubkey "$k" --region RU-MOW \
			--asn 64500 --name "test $1" >/dev/null || fail "enroll $k"
	done
}

pubkey_of() { "$SENDER" --mode pubkeys --seed "$SEED" --first "$1" --agents 1; }

# stat KEY: the value of KEY in the last stats line
stat() {
	grep -E 'info: stats( final)? ' "$T/agg.log" | tail -1 |
		grep -o " $1=[^ ]*" | cut -d= -f2
}

# wait_log PATTERN: until the aggregator log has it (bounded)
wait_log() {
	for _ in $(seq 600); do
		grep -qE -- "$1" "$T/agg.log" && return 0
		sleep 0.1
	done
	fail "log never showed /$1/"
}

# run CMD...: in a background subshell (`f &`), exec it so that $! is the
# program itself and kill -9 $! really kills it
run() {
	if [ "$BASHPID" != "$$" ]; then exec "$@"; else "$@"; fi
}

send() {	# send FIRST N M STATE [extra sender args]
	local first=$1 n=$2 m=$3 st=$4
	shift 4
	run "$SENDER" --server "$EP" --server-pub "$T/aggr/identity.pub" \
		--seed "$SEED" --first "$first" --agents "$n" --count "$m" \
		--state "$st" "$@"
}

special() {	# special MODE IDX [args]: one bad-input run, output to $T/MODE.out
	local mode=$1 idx=$2
	shift 2
	run "$SENDER" --server "$EP" --server-pub "$T/aggr/identity.pub" \
		--seed "$SEED" --first "$idx" --mode "$mode" --deadline 20 "$@" \
		>"$T/$mode.out" 2>"$T/$mode.err"
}

expect_out() {	# expect_out MODE PATTERN DESC
	grep -qE -- "$2" "$T/$1.out" && ok "$3" || {
		echo "--- $1.out"; cat "$T/$1.out"; cat "$T/$1.err"
		fail "$3: no /$2/"; }
}

expect_stat() {	# expect_stat KEY VALUE
	local v
	v=$(stat "$1")
	[ "$v" = "$2" ] && ok "counter $1=$2" || fail "counter $1=$v, wanted $2"
}

check_store() {	# check_store DESC [storecheck args]
	local desc=$1
	shift
	if "$CHECK" --data "$DATA" --seed "$SEED" "$@" >"$T/check.out"; then
		ok "$desc: $(cat "$T/check.out")"
	else
		fail "$desc: $(cat "$T/check.out")"
	fi
}

case $SCEN in
basic)
	N=8 M=400
	EXTRA_CONF="[storage]
	map_size = 1M"
	enroll 0 $N
	start_aggr
	send 0 $N $M "$T/st1" --batch 32 >"$T/send1.out" || fail "sender: $(cat "$T/send1.out")"
	ok "sender: $(cat "$T/send1.out")"
	check_store "all stored exactly once" --agents $N --count $M --acks "$T/st1"
	# a second sender with no memory of ACKs resends everything
	send 0 $N $M "$T/st2" --batch 50 >"$T/send2.out" || fail "resend: $(cat "$T/send2.out")"
	ok "full resend acknowledged: $(cat "$T/send2.out")"
	stop_aggr
	check_store "resend stored nothing twice" --agents $N --count $M --acks "$T/st2"
	expect_stat stored $((N * M))
	# resends of slow ACKs may add duplicates: at least the full resend
	[ "$(stat dup)" -ge $((N * M)) ] && ok "dup=$(stat dup) >= $((N * M))" ||
		fail "dup=$(stat dup), wanted >= $((N * M))"
	[ "$(stat received)" -eq $(($(stat stored) + $(stat dup))) ] &&
		ok "received = stored + dup" || fail "received=$(stat received) != stored + dup"
	expect_stat hellos $((2 * N))
	[ "$(stat map_size)" -gt 1048576 ] && ok "map grew from 1M to $(stat map_size)" ||
		fail "map did not grow: $(stat map_size)"
	"$BIN/zondctl" agents --data "$DATA" >"$T/agents.out" || fail "zondctl agents"
	[ "$(grep -c "stored=$M " "$T/agents.out")" -eq $N ] &&
		ok "zondctl agents: every agent stored=$M" || fail "agents: $(cat "$T/agents.out")"
	grep -q 'version=0.1.0-test backlog=7 dropped=3' "$T/agents.out" &&
		ok "hello recorded (version, backlog, dropped)" || fail "hello not recorded: $(head -2 "$T/agents.out")"
	grep -q "total agents=$N measurements=$((N * M))" "$T/agents.out" &&
		ok "zondctl agents totals" || fail "totals: $(tail -1 "$T/agents.out")"
	;;
kill9)
	N=6 M=1500
	enroll 0 $N
	start_fixed
	send 0 $N $M "$T/st" --batch 16 --rate 1200 --resend-ms 500 --deadline 150 \
		>"$T/send.out" 2>"$T/send.err" &
	SP=$!
	kills=0
	for i in 1 2 3 4 5; do
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 100) / 80 }')"
		kill -0 "$SP" 2>/dev/null || break
		if [ "$i" = 3 ]; then
			# the agents crash too, and resume from their ACK log
			kill -9 "$SP"
			wait "$SP" 2>/dev/null
			send 0 $N $M "$T/st" --batch 16 --rate 1200 --resend-ms 500 \
				--deadline 150 >"$T/send.out" 2>"$T/send.err" &
			SP=$!
			ok "sender killed with -9 and restarted from its ACK log"
		fi
		kill9_aggr
		kills=$((kills + 1))
		acked=$(grep -c '^A ' "$T/st")
		check_store "after kill -9 #$i ($acked ACKed so far): every ACKed one stored" --acks "$T/st"
		start_aggr "$PORT_EP"
	done
	[ "$kills" -ge 3 ] && ok "$kills kills while agents streamed" ||
		fail "only $kills kills landed while agents streamed"
	wait "$SP" || fail "sender did not finish: $(cat "$T/send.out")"
	SP=
	ok "sender: $(cat "$T/send.out")"
	stop_aggr
	check_store "in the end all stored exactly once" --agents $N --count $M --acks "$T/st"
	# agent records may lag under load; a kill then leaves counts short
	# until the next start recounts them
	"$BIN/zondctl" agents --data "$DATA" >"$T/agents.out" || fail "zondctl agents"
	[ "$(grep -c "stored=$M " "$T/agents.out")" -eq $N ] &&
		ok "registry counts exact: every agent stored=$M ($(grep -c 'registry: counts checked' "$T/agg.log") starts recounted)" ||
		fail "agents: $(cat "$T/agents.out")"
	;;
outage)
	N=4 M=800
	enroll 0 $N
	start_fixed
	stop_aggr
	send 0 $N $M "$T/st" --batch 20 --rate 800 --resend-ms 500 --deadline 120 \
		>"$T/send.out" 2>"$T/send.err" &
	SP=$!
	sleep 2
	[ "$(grep -c '^A ' "$T/st")" -eq 0 ] && ok "nothing ACKed while down" || fail "ACKs while down"
	start_aggr "$PORT_EP"
	wait_log 'stored=[1-9]'
	stop_aggr
	ok "clean stop mid-stream (exit 0)"
	sleep 2
	start_aggr "$PORT_EP"
	wait "$SP" || fail "sender did not finish: $(cat "$T/send.out")"
	SP=
	ok "sender: $(cat "$T/send.out")"
	stop_aggr
	check_store "all delivered exactly once" --agents $N --count $M --acks "$T/st"
	;;
rejects)
	GOOD_N=3 GOOD_M=1500
	enroll 0 $GOOD_N
	enroll 100 20
	start_aggr
	send 0 $GOOD_N $GOOD_M "$T/good" --batch 20 --rate 600 --deadline 150 \
		>"$T/good.out" 2>"$T/good.err" &
	SP=$!
	special badsig 100;	expect_out badsig '^reject seq=1 reason=bad_signature$' "bad signature refused"
	special mismatch 101;	expect_out mismatch '^reject seq=1 reason=agent_mismatch$' "agent field mismatch refused"
	special clock 102;	expect_out clock '^reject seq=1 reason=clock$' "start in the future refused"
				expect_out clock '^reject seq=2 reason=clock$' "start too old refused"
	special bigitem 103;	expect_out bigitem '^reject seq=1 reason=oversized$' "measurement over 64 KiB refused"
				expect_out bigitem '^ack seq=2$' "its small neighbour stored"
	special bigbatch 104;	expect_out bigbatch '^frame_reject reason=oversized$' "batch of 257 refused whole"
	special garbage 105;	expect_out garbage '^frame_reject reason=malformed$' "garbage frame refused"
	special empty 106;	expect_out empty '^frame_reject reason=malformed$' "empty frame refused"
	special version 107;	expect_out version '^frame_reject reason=version$' "version 2 refused"
	special multiframe 108;	expect_out multiframe '^frame_reject reason=malformed$' "multi-frame message refused"
	special huge 109;	expect_out huge '^ack seq=1$' "after a 3 MiB frame (beyond what the transport reads) the agent reconnects and is served"
	special replay 110;	[ "$(grep -c '^ack seq=1$' "$T/replay.out")" -eq 3 ] &&
				ok "replayed measurement acknowledged three times" ||
				fail "replay: $(cat "$T/replay.out")"
	special idreuse 113;	expect_out idreuse '^reject seq=2 reason=duplicate_id$' "seq 2 reusing seq 1's id refused (REJECT_DUPLICATE_ID)"
	special unknown 200;	expect_out unknown '^auth_failed$' "unknown key refused by ZAP"
	"$BIN/zondctl" disable --data "$DATA" --pubkey "$(pubkey_of 111)" >/dev/null || fail "disable"
	special unknown 111;	mv "$T/unknown.out" "$T/disabled.out"
				expect_out disabled '^auth_failed$' "disabled key refused by ZAP"
	special disable-live 112 --marker "$T/acked1" --go "$T/go" &
	DP=$!
	for _ in $(seq 200); do [ -f "$T/acked1" ] && break; sleep 0.1; done
	[ -f "$T/acked1" ] || fail "disable-live: no first ACK"
	"$BIN/zondctl" disable --data "$DATA" --pubkey "$(pubkey_of 112)" >/dev/null || fail "disable 112"
	touch "$T/go"
	wait $DP
	expect_out disable-live '^ack seq=1$' "agent served before it was disabled"
	expect_out disable-live '^reject seq=2 reason=disabled_agent$' "disabled while connected: refused"
	kill -0 "$AP" || fail "aggregator died"
	wait "$SP" || fail "good agent did not finish: $(cat "$T/good.out")"
	SP=
	ok "good agents unaffected: $(cat "$T/good.out")"
	stop_aggr
	expect_stat rejected_bad_signature 1
	expect_stat rejected_agent_mismatch 1
	expect_stat rejected_clock 2
	expect_stat rejected_oversized 2
	expect_stat rejected_malformed 3
	expect_stat rejected_version 1
	expect_stat rejected_disabled_agent 1
	[ "$(stat dup)" -ge 2 ] && ok "dup=$(stat dup) (replays)" || fail "dup=$(stat dup), wanted >= 2"
	[ "$(stat zap_unknown)" -ge 1 ] && ok "zap_unknown=$(stat zap_unknown)" || fail "zap_unknown=0"
	[ "$(stat zap_disabled)" -ge 1 ] && ok "zap_disabled=$(stat zap_disabled)" || fail "zap_disabled=0"
	for r in bad_signature agent_mismatch clock oversized malformed version; do
		grep -q "reason=$r" "$T/agg.log" && ok "log line for $r" || fail "no log line for $r"
	done
	grep -q 'zap: refused .*reason=unknown_agent' "$T/agg.log" && ok "log line for ZAP refusal" || fail "no ZAP log line"
	grep -q 'seq=2 reason=duplicate_id' "$T/agg.log" && ok "log line for id reuse" || fail "no id reuse log line"
	expect_stat rejected_duplicate_id 1
	# good agents' 4500, and seq 2 of bigitem, seq 1 of huge, replay,
	# idreuse and disable-live: nothing else (idreuse's seq 2 not stored)
	check_store "every ACK of the good agents stored" --acks "$T/good"
	"$CHECK" --data "$DATA" --seed "$SEED" >"$T/check.out" 2>&1 && grep -q '^measurements=4505 ' "$T/check.out" &&
		ok "nothing refused was stored: $(cat "$T/check.out")" || fail "store: $(cat "$T/check.out")"
	;;
enroll)
	N=2 M=300
	start_aggr
	send 0 $N $M "$T/st" --batch 25 --deadline 120 >"$T/send.out" 2>"$T/send.err" &
	SP=$!
	wait_log 'zap: refused .*reason=unknown_agent'
	[ "$(grep -c '^A ' "$T/st")" -eq 0 ] && ok "not enrolled: refused" || fail "ACK before enrolment"
	enroll 0 $N
	ok "enrolled while the aggregator runs"
	wait "$SP" || fail "sender did not finish after enrolment: $(cat "$T/send.out")"
	SP=
	ok "sender: $(cat "$T/send.out")"
	# agent records may lag the last commit by a moment (docs/STORAGE.md)
	for _ in $(seq 50); do
		"$BIN/zondctl" agents --data "$DATA" >"$T/agents.out" || fail "zondctl agents"
		[ "$(grep -c "stored=$M .*name=\"test 0\"" "$T/agents.out")" -eq $N ] && break
		sleep 0.1
	done
	[ "$(grep -c "stored=$M .*name=\"test 0\"" "$T/agents.out")" -eq $N ] &&
		ok "registry shows both agents with stored=$M" || fail "agents: $(cat "$T/agents.out")"
	grep -q 'last_seen=-' "$T/agents.out" && fail "last_seen not recorded"
	ok "last_seen recorded"
	stop_aggr
	check_store "all stored exactly once" --agents $N --count $M --acks "$T/st"
	;;
diskfull)
	if [ "$(id -u)" -ne 0 ] || ! command -v mount >/dev/null; then
		echo "skip: needs root to mount a small tmpfs"
		exit 77
	fi
	MNT=$T/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=12m tmpfs "$MNT" 2>/dev/null || { echo "skip: cannot mount tmpfs"; MNT=; exit 77; }
	DATA=$MNT/data
	EXTRA_CONF="[storage]
	map_size = 1M"
	N=4 M=2500
	enroll 0 $N
	# leave about 1.5 MiB free
	dd if=/dev/zero of="$MNT/ballast" bs=1M count=10 status=none 2>/dev/null
	start_aggr
	send 0 $N $M "$T/st" --batch 25 --rate 2000 --resend-ms 300 --deadline 150 \
		>"$T/send.out" 2>"$T/send.err" &
	SP=$!
	wait_log 'storage: cannot commit'
	ok "disk full is logged"
	sleep 1
	kill -0 "$AP" || fail "aggregator died on a full disk"
	ok "aggregator alive with a full disk"
	kill -0 "$SP" 2>/dev/null && ok "agents still hold unACKed measurements" ||
		fail "sender finished although the disk is full"
	check_store "what was ACKed is stored" --acks "$T/st"
	rm -f "$MNT/ballast"
	ok "space returned"
	wait "$SP" || fail "sender did not finish after space returned: $(cat "$T/send.out")"
	SP=
	ok "sender: $(cat "$T/send.out")"
	wait_log 'storage: commits work again'
	ok "recovery logged"
	stop_aggr
	[ "$(stat rejected_storage)" -gt 0 ] && ok "rejected_storage=$(stat rejected_storage)" || fail "no REJECT_STORAGE counted"
	check_store "all stored exactly once" --agents $N --count $M --acks "$T/st"
	;;
hostile)
	# an agent written from docs/PROTOCOL.md alone tries what a hostile
	# or broken one would (tests/ingest/hostile.py); then exports must
	# hold every acknowledged measurement of any range
	PY=${PYTHON3:-/usr/bin/python3}
	HSEED=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	"$BIN/zondctl" enroll --data "$DATA" --pubkey "$("$PY" "$HERE/hostile.py" pubkey "$HSEED")" \
		--region RU-MOW --asn 64500 --name hostile >/dev/null || fail "enroll"
	start_aggr
	"$PY" "$HERE/hostile.py" run "$EP" "$T/aggr/identity.pub" "$HSEED" \
		"$BIN/zondctl" "$DATA" >"$T/hostile.out" 2>&1
	rc=$?
	cat "$T/hostile.out"
	[ $rc -eq 0 ] || fail "hostile agent: $(grep -c '^FAIL' "$T/hostile.out") failures"
	kill -0 "$AP" || fail "aggregator died"
	stop_aggr
	grep -q '^FORGED' "$T/agg.log" && fail "a version string forged a log line"
	grep -q 'hello agent=[0-9a-f]* version="1.0\\nFORGED: info: state=disab[^ ]*" backlog=' "$T/agg.log" &&
		ok "hostile version logged quoted and escaped, on its own line" ||
		fail "no escaped hello line: $(grep 'hello agent' "$T/agg.log")"
	grep -q 'runtime error' "$T/agg.log" && fail "undefined behaviour: $(grep 'runtime error' "$T/agg.log")"
	ok "no sanitizer report"
	grep -q 'frame rejected agent=[0-9a-f]* reason=oversized: frame of 1048577 bytes' "$T/agg.log" &&
		ok "oversized frame logged" || fail "no log line for the oversized frame"
	expect_stat db_measurements "$(sed -n 's/^acked_total=//p' "$T/hostile.out")"
	expect_stat frame_rejects 1
	expect_stat rejected_oversized 1
	expect_stat rejected_duplicate_id 1
	# 2 absurd starts, 4 unverified clocks that cannot be placed
	expect_stat rejected_clock 6
	expect_stat clock_by_boot 2
	expect_stat clock_unplaced 1
	;;
*)
	fail "unknown scenario $SCEN"
	;;
esac
echo "PASS $SCEN"
