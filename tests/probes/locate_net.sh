#!/bin/sh
# locate_net.sh up|down — the path of test_locate (tests/probes): network
# namespaces zq2c (the agent) -> zq2r1 -> zq2r2 -> zq2r3 -> zq2s (the
# server), each router forwarding and answering ICMP time exceeded without
# rate limit; 10.92.9.0/24 loops between r2 and r3 (every TTL expires, no
# destination: the packet budget case).  Needs root.  "up" removes what a
# failed earlier run left; "down" removes everything.
set -e
N="zq2c zq2r1 zq2r2 zq2r3 zq2s"
down() { for n in $N; do ip netns del "$n" 2>/dev/null || true; done; }
down
[ "$1" = down ] && exit 0
for n in $N; do ip netns add "$n"; ip -n "$n" link set lo up; done
# link NS1 IF1 NS2 IF2 ADDR1 ADDR2
link() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" addr add "$5" dev "$2"
	ip -n "$3" addr add "$6" dev "$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
link zq2c v0 zq2r1 v1 10.92.1.2/24 10.92.1.1/24
link zq2r1 v2 zq2r2 v3 10.92.2.1/24 10.92.2.2/24
link zq2r2 v4 zq2r3 v5 10.92.3.2/24 10.92.3.3/24
link zq2r3 v6 zq2s v7 10.92.4.3/24 10.92.4.4/24
ip -n zq2c route add default via 10.92.1.1
ip -n zq2r1 route add default via 10.92.2.2
ip -n zq2r2 route add 10.92.1.0/24 via 10.92.2.1
ip -n zq2r2 route add 10.92.4.0/24 via 10.92.3.3
ip -n zq2r2 route add 10.92.9.0/24 via 10.92.3.3
ip -n zq2r3 route add default via 10.92.3.2
ip -n zq2s route add default via 10.92.4.3
for n in zq2r1 zq2r2 zq2r3; do
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
done
for n in $N; do
	ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0
done
# every packet the agent sends enters r1 here (TTL 1 ones too, which
# never reach FORWARD): the test reads this counter
ip netns exec zq2r1 iptables -t mangle -A PREROUTING -i v1 -s 10.92.1.2
