/*
 * config.c — zond-helper's option table: each option declared once; the
 * table drives parsing, `-n` and `--config-reference`.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>

#define O(f) offsetof(struct helper_conf, f)

/* The listen address must be numeric: the helper never resolves names. */
static int
check_numeric_ip(const char *v, char *why, size_t whylen)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, v, buf) == 1 || inet_pton(AF_INET6, v, buf) == 1)
		return 0;
	snprintf(why, whylen, "use a numeric IPv4 or IPv6 address, e.g. "
	    "0.0.0.0 or ::");
	return -1;
}

const struct conf_opt helper_conf_tab[] = {
	{"helper", "listen", CONF_STRING, "0.0.0.0", O(listen), 0, 0, false,
	    check_numeric_ip, "numeric address every endpoint binds to; "
	    "\"::\" takes IPv4 and IPv6"},
	{"helper", "user", CONF_STRING, "zond", O(user), 0, 0, false,
	    NULL, "user to switch to after binding when started as root; "
	    "\"\" stays as started (tests, the lab)"},
	{"helper", "log_level", CONF_STRING, "info", O(log_level), 0, 0,
	    false, conf_check_loglevel, "warn, info or debug"},
	{"ports", "stun", CONF_INT, "3478", O(stun_port), 0, 65535, false,
	    NULL, "UDP: STUN Binding responder (plain and app-shaped); "
	    "0 disables"},
	{"ports", "quic", CONF_INT, "443", O(quic_port), 0, 65535, false,
	    NULL, "UDP: QUIC Version Negotiation, version-1 Initial "
	    "replies, a Retry to a real Initial; 0 disables"},
	{"ports", "wireguard", CONF_INT, "51820", O(wireguard_port), 0, 65535,
	    false, NULL, "UDP: WireGuard-shaped handshake responder; "
	    "0 disables"},
	{"ports", "openvpn", CONF_INT, "1194", O(openvpn_port), 0, 65535,
	    false, NULL, "UDP: OpenVPN-shaped hard reset responder; "
	    "0 disables"},
	{"ports", "echo", CONF_INT, "7", O(echo_port), 0, 65535, false, NULL,
	    "UDP: random-payload baseline echo (every UDP port echoes too); "
	    "0 disables"},
	{"ports", "bulk", CONF_INT, "8443", O(bulk_port), 0, 65535, false,
	    NULL, "TCP: bulk data for throughput and freeze tests, plain or "
	    "TLS on the same port; 0 disables"},
	{"limits", "bulk_max", CONF_SIZE, "16M", O(bulk_max), 0, 1073741824,
	    false, NULL, "largest transfer one request may ask"},
	{"limits", "max_conns", CONF_INT, "256", O(max_conns), 1, 4096, false,
	    NULL, "most TCP bulk connections at once; more are closed at "
	    "accept"},
	{"limits", "idle_timeout", CONF_DURATION, "30s", O(idle_timeout), 1000,
	    3600000, false, NULL, "close a TCP connection without progress "
	    "for this long"},
	{"limits", "udp_rate", CONF_INT, "5000", O(udp_rate), 1, 1000000,
	    false, NULL, "most UDP replies per second over all ports; the "
	    "rest are dropped and counted"},
	{NULL, NULL, 0, NULL, 0, 0, 0, false, NULL, NULL},
};

int
helper_conf_check(const struct helper_conf *c, char *why, size_t len)
{
	if (c->stun_port == 0 && c->quic_port == 0 && c->wireguard_port == 0 &&
	    c->openvpn_port == 0 && c->echo_port == 0 && c->bulk_port == 0) {
		snprintf(why, len, "every port is 0: nothing to serve");
		return -1;
	}
	return 0;
}
