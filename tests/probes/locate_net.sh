#!/bin/sh
# locate_net.sh up|down — the path of test_locate (tests/probes): network
# namespaces zq2c (the agent) -> zq2r1 -> zq2r2 -> zq2r3 -> zq2s (the
# server), each router forwarding and answering ICMP time exceeded without
# rate limit, over IPv4 and IPv6 (10.92.N.0/24 and fd92:N::/64 on link
# N); 10.92.9.0/24 loops between r2 and r3 (every TTL expires, no
# destination: the packet budget case).  Needs root.  "up" removes what a
# failed earlier run left; "down" removes everything.
set -e
N="zq2c zq2r1 zq2r2 zq2r3 zq2s"
down() { for n in $N; do ip netns del "$n" 2>/dev/null || true; done; }
down
[ "$1" = down ] && exit 0
for n in $N; do ip netns add "$n"; ip -n "$n" link set lo up; done
# link NS1 IF1 NS2 IF2 NET A1 A2: 10.92.NET.A1/24 and fd92:NET::A1/64
link() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" addr add "10.92.$5.$6/24" dev "$2"
	ip -n "$3" addr add "10.92.$5.$7/24" dev "$4"
	ip -n "$1" addr add "fd92:$5::$6/64" dev "$2" nodad
	ip -n "$3" addr add "fd92:$5::$7/64" dev "$4" nodad
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
link zq2c v0 zq2r1 v1 1 2 1
link zq2r1 v2 zq2r2 v3 2 1 2
link zq2r2 v4 zq2r3 v5 3 2 3
link zq2r3 v6 zq2s v7 4 3 4
ip -n zq2c -6 route add default via fd92:1::1
ip -n zq2r1 -6 route add default via fd92:2::2
ip -n zq2r2 -6 route add fd92:1::/64 via fd92:2::1
ip -n zq2r2 -6 route add fd92:4::/64 via fd92:3::3
ip -n zq2r3 -6 route add default via fd92:3::2
ip -n zq2s -6 route add default via fd92:4::3
ip -n zq2c route add default via 10.92.1.1
ip -n zq2r1 route add default via 10.92.2.2
ip -n zq2r2 route add 10.92.1.0/24 via 10.92.2.1
ip -n zq2r2 route add 10.92.4.0/24 via 10.92.3.3
ip -n zq2r2 route add 10.92.9.0/24 via 10.92.3.3
ip -n zq2r3 route add default via 10.92.3.2
ip -n zq2s route add default via 10.92.4.3
for n in zq2r1 zq2r2 zq2r3; do
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
done
for n in $N; do
	ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0
	ip netns exec "$n" sysctl -qw net.ipv6.icmp.ratelimit=0
done
# every packet the agent sends enters r1 here (TTL 1 ones too, which
# never reach FORWARD): the test reads these counters.  IPv6 leaves out
# ICMPv6, the neighbour discovery of the agent's kernel (the localization
# sends none)
ip netns exec zq2r1 iptables -t mangle -A PREROUTING -i v1 -s 10.92.1.2
ip netns exec zq2r1 ip6tables -t mangle -A PREROUTING -i v1 -s fd92:1::2 ! -p ipv6-icmp
