# tests/agents.sh — sourced by the shell tests that run real agents.
#
# new_agent NAME REGION ASN ROLE: in $T, a key ($T/NAME/identity.key,
# public key in $T/NAME.pub), enrolment in the aggregator's store $T/agg
# (its key in $T/agg), and $T/NAME.conf: state in $T/NAME, uplink to
# 127.0.0.1:$ZMQ with 1 s heartbeats, endpoint list $T/ep.csv.  The file
# ends inside [tests]: the caller appends more [tests] options, then its
# [schedule].  Needs BIN, T and ZMQ; returns non-zero when a step fails.
new_agent() {
	"$BIN/zondctl" keygen -o "$T/$1" >"$T/$1.pub" &&
	"$BIN/zondctl" enroll --data "$T/agg" --pubkey "$(cat "$T/$1.pub")" \
		--region "$2" --asn "$3" --name "$1" --role "$4" >/dev/null &&
	cat >"$T/$1.conf" <<CONF
[agent]
state_dir = $T/$1
key = $T/$1/identity.key
user = ""
[uplink]
endpoint = tcp://127.0.0.1:$ZMQ
server_key = $(cat "$T/agg/identity.pub")
heartbeat = 1s
[tests]
endpoints = $T/ep.csv
CONF
}

# wait_agents_stored N K: until K agents of the registry ($T/agg) show
# stored=N (agent records may lag the store for a moment after the last
# commit: docs/STORAGE.md); at most 5 s.  Non-zero if they never do.
wait_agents_stored() {
	for _ in $(seq 50); do
		[ "$("$BIN/zondctl" agents --data "$T/agg" | grep -c " stored=$1 ")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# agg_conf: $T/agg.conf for a real zond-aggregator on loopback: store
# $T/agg (its key in $T/agg), ingest on $ZMQ, HTTP API on $HTTP, analysis
# every 300 ms.  The caller appends more [analysis] options.  Needs T,
# ZMQ and HTTP.
agg_conf() {
	cat >"$T/agg.conf" <<CONF
[aggregator]
data_dir = $T/agg
key = $T/agg/identity.key
[ingest]
listen = tcp://127.0.0.1:$ZMQ
[http]
listen = 127.0.0.1:$HTTP
[analysis]
interval = 300ms
CONF
}
