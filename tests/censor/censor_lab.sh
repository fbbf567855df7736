#!/bin/bash
# censor_lab.sh BINDIR SRCDIR GROUP — zond-censor in a throwaway topology.
#
#   client ns (10.N.1.2) <-veth-> router ns (zond-censor) <-veth-> server ns
#                                                  (198.51.100.10/.11/.12)
#
# Names carry this shell's PID, so parallel runs never collide; addresses
# exist only inside these namespaces.  The EXIT trap kills every process in
# the namespaces and deletes them (links and nft tables go with them), also
# when an assertion fails.  Needs root; exits 77 (skip) without it.
# GROUP: tls dns http udp calls kernel loss cli.  Each check prints PASS/FAIL;
# the exit status is the number of failures (0 = all passed).
set -u
BIN=$1/zond-censor
SRC=$2
GROUP=$3
PY=/usr/bin/python3
TOOL="$PY $SRC/labtool.py"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root"
	exit 77
fi

P=zc$$
C=${P}c R=${P}r S=${P}s
NET=$(( $$ % 200 + 20 ))	# 10.NET.1.0/24 on the client side
CIP=10.$NET.1.2
S1=198.51.100.10 S2=198.51.100.11 S3=198.51.100.12
ISP=t$$
QNUM=$(( $$ % 60000 + 100 ))
TMP=$(mktemp -d /tmp/censor_lab.XXXXXX)
CENSOR_PID=
FAILS=0

teardown() {
	local ns
	exec 2>/dev/null	# no "Killed" notices for our servers
	[ -n "$CENSOR_PID" ] && kill -TERM "$CENSOR_PID" 2>/dev/null &&
		wait "$CENSOR_PID" 2>/dev/null
	for ns in $C $R $S; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# check NAME OUTPUT REGEX: pass when OUTPUT matches REGEX (grep -E).
check() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
	else
		fail "$1: got '$2', want /$3/"
	fi
}

inc() { ip netns exec $C "$@"; }
ins() { ip netns exec $S "$@"; }
inr() { ip netns exec $R "$@"; }

topology() {
	ip netns add $C && ip netns add $R && ip netns add $S || exit 1
	ip link add ${P}c0 type veth peer name ${P}r0 || exit 1
	ip link set ${P}c0 netns $C
	ip link set ${P}r0 netns $R
	ip link add ${P}r1 type veth peer name ${P}s0 || exit 1
	ip link set ${P}r1 netns $R
	ip link set ${P}s0 netns $S
	ip -n $C addr add $CIP/24 dev ${P}c0
	ip -n $R addr add 10.$NET.1.1/24 dev ${P}r0
	ip -n $R addr add 198.51.100.1/24 dev ${P}r1
	ip -n $S addr add $S1/24 dev ${P}s0
	ip -n $S addr add $S2/32 dev ${P}s0
	ip -n $S addr add $S3/32 dev ${P}s0
	for ns in $C $R $S; do ip -n $ns link set lo up; done
	ip -n $C link set ${P}c0 up
	ip -n $R link set ${P}r0 up
	ip -n $R link set ${P}r1 up
	ip -n $S link set ${P}s0 up
	ip -n $C route add default via 10.$NET.1.1
	ip -n $S route add default via 198.51.100.1
	inr sysctl -qw net.ipv4.ip_forward=1
}

# bg NS CMD...: start a server in a namespace (killed by teardown).
bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >>"$TMP/servers.log" 2>&1 &
}

# wait_port PROTO PORT: until a server listens in the server namespace.
wait_port() {
	local i
	for i in $(seq 50); do
		if ins ss -Hln"$1" "sport = :$2" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	fail "server on $1 port $2 did not start"
	return 1
}

start_censor() {
	local i
	ip netns exec $R "$BIN" -r "$TMP/rules" --isp $ISP --lan ${P}r0 --wan ${P}r1 \
	    -q $QNUM >"$TMP/counts" 2>"$TMP/censor.log" &
	CENSOR_PID=$!
	for i in $(seq 100); do
		grep -q 'event=ready' "$TMP/censor.log" 2>/dev/null && return 0
		kill -0 $CENSOR_PID 2>/dev/null || break
		sleep 0.1
	done
	fail "zond-censor did not start"
	cat "$TMP/censor.log"
	exit $FAILS
}

# stop_censor: SIGTERM; it must exit 0 and leave no table or chain.
stop_censor() {
	local rc
	kill -TERM $CENSOR_PID
	wait $CENSOR_PID
	rc=$?
	CENSOR_PID=
	check "censor exits 0 on SIGTERM" "rc=$rc" '^rc=0$'
	check "nft table removed" "$(inr nft list tables | grep -c zond_censor)" '^0$'
	check "queue chain removed" \
	    "$(inr iptables -S 2>/dev/null | grep -c "ZC_")" '^0$'
	if grep -Eq 'ERROR: (Address|Undefined|Leak)Sanitizer|runtime error' \
	    "$TMP/censor.log"; then
		fail "sanitizer report in censor log"
	fi
}

# count TYPE [FIELD]: the FIELD= figure (matches, userspace, kernel;
# default matches) of the first rule of TYPE in the counts.
count() {
	grep -E "type=$1 " "$TMP/counts" | head -1 |
	    sed -E "s/.* ${2:-matches}=([0-9]+).*/\\1/"
}

certs() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lab \
	    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 ||
	    { fail "openssl req"; exit $FAILS; }
}

group_tls() {
	certs
	cat >"$TMP/rules" <<-EOF
	# tls group
	sni_rst sni=blocked.example
	sni_drop sni=drop.example
	throttle sni=slow.example kbps=400
	EOF
	bg $S $TOOL tls-server 443 "$TMP/cert.pem" "$TMP/key.pem"
	wait_port t 443 || return
	start_censor
	check "sni_rst: blocked SNI is reset" \
	    "$(inc $TOOL tls-hello $S1 443 blocked.example)" '^reset$'
	check "sni_rst: subdomain is reset" \
	    "$(inc $TOOL tls-hello $S1 443 www.blocked.example)" '^reset$'
	check "sni_rst: other SNI to the same server works" \
	    "$(inc $TOOL tls-hello $S1 443 fine.example)" '^ok$'
	check "sni_rst: look-alike name is not a subdomain" \
	    "$(inc $TOOL tls-hello $S1 443 notblocked.example)" '^ok$'
	check "sni_drop: blocked SNI times out" \
	    "$(inc $TOOL tls-hello $S1 443 drop.example)" '^timeout$'
	check "sni_drop: other SNI works" \
	    "$(inc $TOOL tls-hello $S2 443 fine.example)" '^ok$'
	local slow fast
	slow=$(inc $TOOL tls-rate $S1 443 slow.example 3000000 4)
	fast=$(inc $TOOL tls-rate $S1 443 fast.example 3000000 4)
	echo "throttle: slow: $slow; fast: $fast"
	slow=${slow##*kbps=}
	fast=${fast##*kbps=}
	# 400 kbps allowed; TCP under drops stays below it, the burst adds a
	# little.  Without the SNI a veth moves megabits.
	if [ "${slow:-0}" -gt 20 ] && [ "$slow" -lt 700 ] &&
	    [ "${fast:-0}" -gt $((slow * 8)) ]; then
		pass "throttle: $slow kbps with the SNI, $fast kbps without"
	else
		fail "throttle: $slow kbps with the SNI, $fast kbps without"
	fi
	stop_censor
	check "counts: sni_rst matched" "$(count sni_rst)" '^[1-9][0-9]*$'
	check "counts: sni_drop matched" "$(count sni_drop)" '^[1-9][0-9]*$'
	check "counts: throttle matched" "$(count throttle)" '^[1-9][0-9]*$'
	check "log: one action line per reset" \
	    "$(grep -c 'action=sni_rst .*name=blocked.example' "$TMP/censor.log")" \
	    '^[1-9]'
}

group_dns() {
	cat >"$TMP/rules" <<-EOF
	dns_hijack domain=hijack.example answer=10.99.0.1
	dns_nxdomain domain=nx.example
	dns_inject domain=inject.example answer=10.99.0.2
	EOF
	bg $S $TOOL dns-server 53 198.51.100.77
	wait_port u 53 || return
	start_censor
	local out
	out=$(inc $TOOL dns-query $S1 ok.example 1)
	check "dns: control name gets the real answer only" "$out" \
	    '^resp n=1 rcode=0 a=198\.51\.100\.77$'
	check "dns: control name, one response" "$out" '^responses=1$'
	out=$(inc $TOOL dns-query $S1 hijack.example 1)
	check "dns_hijack: forged answer" "$out" '^resp n=1 rcode=0 a=10\.99\.0\.1$'
	check "dns_hijack: forged answer only" "$out" '^responses=1$'
	out=$(inc $TOOL dns-query $S1 www.hijack.example 1)
	check "dns_hijack: subdomain" "$out" '^resp n=1 rcode=0 a=10\.99\.0\.1$'
	out=$(inc $TOOL dns-query $S1 nx.example 1)
	check "dns_nxdomain: NXDOMAIN" "$out" '^resp n=1 rcode=3 a=-$'
	check "dns_nxdomain: one response" "$out" '^responses=1$'
	out=$(inc $TOOL dns-query $S1 inject.example 1)
	check "dns_inject: forged answer first" "$out" \
	    '^resp n=1 rcode=0 a=10\.99\.0\.2$'
	check "dns_inject: real answer second" "$out" \
	    '^resp n=2 rcode=0 a=198\.51\.100\.77$'
	check "dns_inject: two responses" "$out" '^responses=2$'
	stop_censor
	check "counts: dns_hijack" "$(count dns_hijack)" '^2$'
	check "counts: dns_nxdomain" "$(count dns_nxdomain)" '^1$'
	check "counts: dns_inject" "$(count dns_inject)" '^1$'
}

group_http() {
	cat >"$TMP/rules" <<-EOF
	http_blockpage host=news.example
	EOF
	bg $S $TOOL http-server 80
	wait_port t 80 || return
	start_censor
	local out
	out=$(inc $TOOL http-get $S1 80 news.example)
	check "http_blockpage: the page" "$out" 'Zond lab: access restricted'
	check "http_blockpage: status 200" "$out" '^HTTP/1.1 200 OK'
	check "http_blockpage: not the real site" \
	    "$(printf '%s' "$out" | grep -c 'real site')" '^0$'
	out=$(inc $TOOL http-get $S1 80 other.example)
	check "http_blockpage: other host gets the real site" "$out" 'real site'
	out=$(inc curl -s -m 3 -H 'Host: news.example:80' http://$S1/)
	check "http_blockpage: curl sees the page" "$out" \
	    'Zond lab: access restricted'
	stop_censor
	check "counts: http_blockpage, userspace" \
	    "$(count http_blockpage userspace)" '^2$'
	check "counts: http_blockpage, total" "$(count http_blockpage)" \
	    '^[2-9]$'
}

group_udp() {
	cat >"$TMP/rules" <<-EOF
	quic_v1_drop
	proto_drop protocol=wireguard
	proto_drop protocol=openvpn
	udp_drop ip=$S1 ports=5000,6000-6001
	EOF
	local p
	for p in 443 51820 1194 5000 5001 6001; do
		bg $S $TOOL udp-echo $p
	done
	wait_port u 6001 || return
	start_censor
	check "quic_v1_drop: 1200-byte v1 dropped" \
	    "$(inc $TOOL udp-probe $S1 443 quic1 1200)" '^timeout$'
	check "quic_v1_drop: 1001-byte v1 dropped" \
	    "$(inc $TOOL udp-probe $S1 443 quic1 1001)" '^timeout$'
	check "quic_v1_drop: 1000-byte v1 passes" \
	    "$(inc $TOOL udp-probe $S1 443 quic1 1000)" '^reply$'
	check "quic_v1_drop: 1200-byte other version passes" \
	    "$(inc $TOOL udp-probe $S1 443 quic2 1200)" '^reply$'
	check "quic_v1_drop: small v1 passes" \
	    "$(inc $TOOL udp-probe $S1 443 quic1 200)" '^reply$'
	check "proto_drop: WireGuard initiation dropped" \
	    "$(inc $TOOL udp-probe $S1 51820 wg 148)" '^timeout$'
	check "proto_drop: random 148 bytes pass" \
	    "$(inc $TOOL udp-probe $S1 51820 random 148)" '^reply$'
	check "proto_drop: OpenVPN hard reset dropped" \
	    "$(inc $TOOL udp-probe $S1 1194 ovpn 60)" '^timeout$'
	check "proto_drop: random payload to OpenVPN port passes" \
	    "$(inc $TOOL udp-probe $S1 1194 random 60)" '^reply$'
	check "udp_drop: listed port dropped" \
	    "$(inc $TOOL udp-probe $S1 5000 random 100)" '^timeout$'
	check "udp_drop: port in a range dropped" \
	    "$(inc $TOOL udp-probe $S1 6001 random 100)" '^timeout$'
	check "udp_drop: other port passes" \
	    "$(inc $TOOL udp-probe $S1 5001 random 100)" '^reply$'
	check "udp_drop: same port on another ip passes" \
	    "$(inc $TOOL udp-probe $S2 5000 random 100)" '^reply$'
	kill -USR1 $CENSOR_PID
	sleep 0.5
	check "SIGUSR1 prints the counts" "$(grep -c '^count ' "$TMP/counts")" \
	    '^4$'
	stop_censor
	# udp-probe sends twice before it gives up.
	check "counts: quic_v1_drop" "$(count quic_v1_drop)" '^4$'
	check "counts: proto_drop" "$(count proto_drop)" '^2$'
	check "counts: udp_drop (kernel)" "$(count udp_drop)" '^4$'
}

# The call rules (issue 18): drops by prefix and port ranges, UDP and TCP,
# and flows cut after N packets or N seconds, each flow on its own clock.
group_calls() {
	cat >"$TMP/rules" <<-EOF
	udp_drop ip=198.51.100.10/31 ports=3478-3480,5000
	tcp_drop ip=198.51.100.8/30 ports=443,5222-5223
	udp_cutoff ip=$S3 ports=3478 after_packets=5
	udp_cutoff ip=$S3 ports=1400 after_s=1
	EOF
	local p
	for p in 3478 3481 5000 1400; do
		bg $S $TOOL udp-echo $p
	done
	for p in 443 5223 5224; do
		bg $S $TOOL tcp-bulk $p 1000
	done
	wait_port u 1400 && wait_port t 5224 || return
	start_censor
	check "udp_drop: prefix, port in range dropped" \
	    "$(inc $TOOL udp-probe $S1 3480 random 100)" '^timeout$'
	check "udp_drop: prefix, other address in it dropped" \
	    "$(inc $TOOL udp-probe $S2 5000 random 100)" '^timeout$'
	check "udp_drop: port outside the ranges passes" \
	    "$(inc $TOOL udp-probe $S1 3481 random 100)" '^reply$'
	check "udp_drop: address outside the prefix passes" \
	    "$(inc $TOOL udp-probe $S3 5000 random 100)" '^reply$'
	check "tcp_drop: listed port times out" \
	    "$(inc $TOOL tcp-get $S1 443 1)" '^connect-timeout$'
	check "tcp_drop: port in a range times out" \
	    "$(inc $TOOL tcp-get $S2 5223 1)" '^connect-timeout$'
	check "tcp_drop: other port passes" \
	    "$(inc $TOOL tcp-get $S1 5224 1)" '^bytes=1000 done=1$'
	check "tcp_drop: address outside the prefix passes" \
	    "$(inc $TOOL tcp-get $S3 443 1)" '^bytes=1000 done=1$'
	check "udp_cutoff after_packets: the first 5 pass, then cut" \
	    "$(inc $TOOL udp-flow $S3 3478 12 0.05)" '^replies=5 last=5 '
	check "udp_cutoff after_packets: a new flow passes again" \
	    "$(inc $TOOL udp-flow $S3 3478 3 0.05)" '^replies=3 last=3 '
	check "udp_cutoff after_s: passes about 1 s, then cut" \
	    "$(inc $TOOL udp-flow $S3 1400 25 0.1)" \
	    '^replies=(8|9|10|11) last=(8|9|10|11) at=(0\.[89]|1\.[01])$'
	check "udp_cutoff after_s: another flow has its own clock" \
	    "$(inc $TOOL udp-flow $S3 1400 5 0.1)" '^replies=5 last=5 '
	check "udp_cutoff: other ports pass" \
	    "$(inc $TOOL udp-flow $S3 5000 3 0.05)" '^replies=3 '
	stop_censor
	# udp-probe sends twice before it gives up; a refused TCP connect
	# retries its SYN (at least twice in a second)
	check "counts: udp_drop (kernel)" "$(count udp_drop)" '^4$'
	check "counts: tcp_drop (kernel)" "$(count tcp_drop)" '^([4-9]|1[0-9])$'
	check "counts: udp_cutoff after_packets (kernel)" \
	    "$(count udp_cutoff)" '^7$'
}

group_kernel() {
	# One segment per skb from the server, as on a real link: without
	# this, veth's TSO hands the router 64 KB bursts and the freeze hits
	# at a burst boundary far below after_bytes.
	ip -n $S link set ${P}s0 gso_max_segs 1
	cat >"$TMP/rules" <<-EOF
	ip_drop ip=$S3
	tcp_rst ip=$S1 port=81
	tcp_freeze ip=$S2 after_bytes=20000
	EOF
	bg $S $TOOL tcp-bulk 81 1000
	bg $S $TOOL tcp-bulk 82 300000
	wait_port t 82 || return
	start_censor
	check "ip_drop: blocked ip times out" \
	    "$(inc $TOOL tcp-get $S3 82 2)" '^connect-timeout$'
	check "ip_drop and tcp_freeze: other ip gets everything" \
	    "$(inc $TOOL tcp-get $S1 82 3)" '^bytes=300000 done=1$'
	check "tcp_rst: port is reset" "$(inc $TOOL tcp-get $S1 81 2)" '^refused$'
	check "tcp_rst: same port on another ip works" \
	    "$(inc $TOOL tcp-get $S2 81 2)" '^bytes=1000 done=1$'
	local out n
	out=$(inc $TOOL tcp-get $S2 82 3)
	n=$(printf '%s' "$out" | sed -nE 's/^bytes=([0-9]+) done=0$/\1/p')
	# Counted bytes include headers and the client's ACKs, and the
	# segment that would cross the limit is dropped whole, so the client
	# sees 12 or 13 full segments: a little under 20000.
	if [ -n "$n" ] && [ "$n" -ge 15000 ] && [ "$n" -le 20000 ]; then
		pass "tcp_freeze: stalled at $n bytes"
	else
		fail "tcp_freeze: got '$out', want a stall at 15000..20000 bytes"
	fi
	stop_censor
	check "counts: ip_drop" "$(count ip_drop)" '^[1-9][0-9]*$'
	check "counts: tcp_rst" "$(count tcp_rst)" '^1$'
	check "counts: tcp_freeze" "$(count tcp_freeze)" '^[1-9][0-9]*$'
}

group_loss() {
	cat >"$TMP/rules" <<-EOF
	loss_pct pct=30
	EOF
	bg $S $TOOL udp-count 7000 "$TMP/udpcount"
	wait_port u 7000 || return
	start_censor
	inc $TOOL udp-blast $S1 7000 400 >/dev/null
	sleep 0.5
	local got
	got=$(cat "$TMP/udpcount" 2>/dev/null || echo 0)
	# 30% of 400: 280 expected; binomial sd is 9, so 220..340 never
	# fails by chance.
	if [ "$got" -ge 220 ] && [ "$got" -le 340 ]; then
		pass "loss_pct 30: $got of 400 datagrams arrived"
	else
		fail "loss_pct 30: $got of 400 datagrams arrived, want 220..340"
	fi
	stop_censor
	check "counts: loss_pct equals what was lost" "$(count loss_pct)" \
	    "^$((400 - got))\$"
}

group_cli() {
	local out rc
	out=$("$BIN" --help)
	check "--help" "$out" '^usage: zond-censor'
	out=$("$BIN" --version)
	check "--version" "$out" '^zond-censor '
	printf 'sni_rst sni=a.example\n\nthrottle sni=b.example kbps=0\n' \
	    >"$TMP/bad.rules"
	out=$("$BIN" -n -r "$TMP/bad.rules" 2>&1)
	rc=$?
	check "-n: bad file fails" "rc=$rc" '^rc=[1-9]'
	check "-n: error names file:line" "$out" "bad.rules:3: kbps '0'"
	printf 'sni_rst sni=a.example\nquic_v1_drop\n' >"$TMP/rules"
	out=$("$BIN" -n -r "$TMP/rules" 2>&1)
	check "-n: good file" "$out" 'rules: 2 rules OK'
	# A crashed censor leaves its table; --cleanup removes it and a new
	# start replaces it.
	start_censor
	check "table installed" "$(inr nft list tables)" "zond_censor_$ISP"
	kill -KILL $CENSOR_PID
	wait $CENSOR_PID 2>/dev/null
	CENSOR_PID=
	check "table left after SIGKILL" "$(inr nft list tables)" \
	    "zond_censor_$ISP"
	start_censor
	check "restart replaces leftovers: one table" \
	    "$(inr nft list tables | grep -c "zond_censor_$ISP")" '^1$'
	check "restart replaces leftovers: one jump" \
	    "$(inr iptables -S FORWARD | grep -c "ZC_$ISP")" '^1$'
	kill -KILL $CENSOR_PID
	wait $CENSOR_PID 2>/dev/null
	CENSOR_PID=
	inr "$BIN" --cleanup --isp $ISP 2>/dev/null
	check "--cleanup removes the table" \
	    "$(inr nft list tables | grep -c zond_censor)" '^0$'
	check "--cleanup removes the chain" \
	    "$(inr iptables -S | grep -c ZC_)" '^0$'
}

topology
case $GROUP in
tls | dns | http | udp | calls | kernel | loss | cli) group_$GROUP ;;
*) echo "unknown group $GROUP"; exit 2 ;;
esac
echo "$GROUP: $FAILS failure(s)"
if [ $FAILS -ne 0 ]; then
	echo "--- censor log"
	cat "$TMP/censor.log" 2>/dev/null
	echo "--- server log"
	cat "$TMP/servers.log" 2>/dev/null
fi
exit $FAILS
