#!/bin/sh
# call_path.sh — the call test's path variant in network namespaces of
# its own (prefix zq1): client -> r1 -> r2 -> server, forwarding on.
# 1. At r2's forward chain an nftables drop of UDP to the service's call
#    port (10.81.3.2:3478); the helper (10.81.3.3) is not blocked.  The
#    test must find the last answering hop for the call datagram = r2,
#    the hop where the drop sits, while the neutral port reaches the
#    server (blocked by address/port).
# 2. The rule replaced by a drop of STUN-shaped UDP (the magic cookie) to
#    port 3478 anywhere: the shaped datagram stops after r2 towards the
#    service and the helper, the neutral payload reaches both (by shape).
# 3. r2 rejects the call port with ICMP admin-prohibited: the refusal is
#    r2's (a hop's), not the destination's, so the destination was not
#    reached: failure unreachable at hop 2.
# Needs root (skipped, 77, without).  Usage: call_path.sh CALL_PROBE
set -u
PROBE=$1
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v nft >/dev/null || { echo "skip: no nft"; exit 77; }
NS="zq1c zq1r1 zq1r2 zq1s"
cleanup() {
	for n in $NS; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
cleanup
set -e
for n in $NS; do
	ip netns add "$n"
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0
done
ip link add zq1a type veth peer name zq1b
ip link set zq1a netns zq1c; ip link set zq1b netns zq1r1
ip link add zq1d type veth peer name zq1e
ip link set zq1d netns zq1r1; ip link set zq1e netns zq1r2
ip link add zq1f type veth peer name zq1g
ip link set zq1f netns zq1r2; ip link set zq1g netns zq1s
ip -n zq1c addr add 10.81.1.2/24 dev zq1a
ip -n zq1r1 addr add 10.81.1.1/24 dev zq1b
ip -n zq1r1 addr add 10.81.2.1/24 dev zq1d
ip -n zq1r2 addr add 10.81.2.2/24 dev zq1e
ip -n zq1r2 addr add 10.81.3.1/24 dev zq1f
ip -n zq1s addr add 10.81.3.2/24 dev zq1g
ip -n zq1s addr add 10.81.3.3/24 dev zq1g
for p in "zq1c zq1a" "zq1r1 zq1b" "zq1r1 zq1d" "zq1r2 zq1e" "zq1r2 zq1f" \
    "zq1s zq1g"; do
	set -- $p
	ip -n "$1" link set "$2" up
done
ip -n zq1c route add default via 10.81.1.1
ip -n zq1r1 route add 10.81.3.0/24 via 10.81.2.2
ip -n zq1r2 route add 10.81.1.0/24 via 10.81.2.1
ip -n zq1s route add default via 10.81.3.1
ip netns exec zq1r1 sysctl -qw net.ipv4.ip_forward=1
ip netns exec zq1r2 sysctl -qw net.ipv4.ip_forward=1
ip netns exec zq1r2 nft -f - <<'NFT'
table inet zq1censor {
	chain calls {
		type filter hook forward priority 0;
		ip daddr 10.81.3.2 udp dport 3478 drop
	}
}
NFT
# the helper stands in on the server: a UDP echo of everything on 3478
# (both cases)
ip netns exec zq1s python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.81.3.3", 3478))
s.settimeout(30)
try:
    while True:
        d, a = s.recvfrom(2048)
        s.sendto(d, a)
except socket.timeout:
    pass
' &
ECHO=$!
sleep 0.5
set +e
OUT=$(ip netns exec zq1c "$PROBE" path 10.81.3.2 3478 10.81.3.3 1000)
RC=$?
echo "$OUT"
fail=0
check() { if echo "$OUT" | grep -q -- "$1"; then echo "ok   $2";
	else echo "FAIL $2"; fail=1; fi; }
[ $RC = 0 ] || { echo "FAIL probe exit $RC"; exit 1; }
check '^failure=no_reply$' "a silent drop of the call datagram is no_reply"
check 'stop after hop 2 (10.81.2.2)' "detail names hop 2, r2"
check 'leg=service/shaped port=3478 failure=no_reply last_hop=2 last_hop_addr=10.81.2.2 reached=0' \
    "call datagram: last hop r2, never reached"
check 'leg=service/neutral port=3478 .*last_hop=2 .*reached=0' \
    "neutral payload on the call port: dropped at r2 too (address/port)"
check 'leg=service/shaped port=33434 failure=none .*reached=1' \
    "neutral port: reaches the server"
check 'leg=helper/shaped port=3478 failure=none .*reached=1' \
    "helper on the call port: reached"
check 'leg=helper/neutral port=3478 failure=none .*reached=1' \
    "helper, neutral payload: reached"
# bounded: at most 2 datagrams per TTL, and the blocked series stops two
# silent TTLs after hop 2 (TTL 3 and 4, with one retry each)
check 'leg=service/shaped port=3478 .*sent=[5-8]$' \
    "blocked series stops early (<= 8 datagrams)"

ip netns exec zq1r2 nft flush chain inet zq1censor calls
ip netns exec zq1r2 nft add rule inet zq1censor calls \
    udp dport 3478 @th,96,32 0x2112a442 drop
OUT=$(ip netns exec zq1c "$PROBE" path 10.81.3.2 3478 10.81.3.3 1000)
RC=$?
echo "$OUT"
[ $RC = 0 ] || { echo "FAIL probe exit $RC"; exit 1; }
check '^failure=no_reply$' "shape rule: no_reply"
check 'leg=service/shaped port=3478 failure=no_reply last_hop=2 ' \
    "shape rule: the call datagram stops after r2"
check 'leg=service/neutral port=3478 failure=none .*reached=1' \
    "shape rule: the neutral payload reaches the service"
check 'leg=helper/shaped port=3478 failure=no_reply last_hop=2 ' \
    "shape rule: the call datagram stops after r2 towards the helper too"
check 'leg=helper/neutral port=3478 failure=none .*reached=1' \
    "shape rule: the neutral payload reaches the helper"

ip netns exec zq1r2 nft flush chain inet zq1censor calls
ip netns exec zq1r2 nft add rule inet zq1censor calls \
    ip daddr 10.81.3.2 udp dport 3478 reject with icmp type admin-prohibited
OUT=$(ip netns exec zq1c "$PROBE" path 10.81.3.2 3478 10.81.3.3 1000)
RC=$?
kill "$ECHO" 2>/dev/null; wait "$ECHO" 2>/dev/null
echo "$OUT"
[ $RC = 0 ] || { echo "FAIL probe exit $RC"; exit 1; }
check '^failure=unreachable$' "a hop's reject: unreachable"
check 'after hop 2 (10.81.2.2), 10.81.2.2 answers the call datagram with ICMP unreachable at TTL 3' \
    "reject: detail names r2, after hop 2"
check 'leg=service/shaped port=3478 failure=unreachable last_hop=2 last_hop_addr=10.81.2.2 reached=0' \
    "reject: the call datagram is refused at r2, not reached"
check 'leg=service/shaped port=33434 failure=none .*reached=1' \
    "reject: the neutral port reaches the server"
exit $fail
