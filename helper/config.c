/* config.c — zond-helper option table. */
#include "config.h"

#include <stddef.h>

#define O(f) offsetof(struct helper_conf, f)

const struct conf_opt helper_conf_tab[] = {
	{"helper", "listen", CONF_STRING, "0.0.0.0", O(listen), 0, 0, false,
	    NULL, "address every endpoint binds to"},
	{"helper", "user", CONF_STRING, "zond", O(user), 0, 0, false, NULL,
	    "user to switch to after binding when started as root"},
	{"helper", "log_level", CONF_STRING, "info", O(log_level), 0, 0,
	    false, conf_check_loglevel, "warn, info or debug"},
	{"ports", "stun", CONF_INT, "3478", O(stun_port), 1, 65535, false,
	    NULL, "UDP: STUN Binding responder (plain and app-shaped)"},
	{"ports", "quic", CONF_INT, "443", O(quic_port), 1, 65535, false,
	    NULL, "UDP: QUIC-shaped echo"},
	{"ports", "wireguard", CONF_INT, "51820", O(wireguard_port), 1, 65535,
	    false, NULL, "UDP: WireGuard-shaped handshake responder"},
	{"ports", "openvpn", CONF_INT, "1194", O(openvpn_port), 1, 65535,
	    false, NULL, "UDP: OpenVPN-shaped handshake responder"},
	{"ports", "echo", CONF_INT, "7", O(echo_port), 1, 65535, false, NULL,
	    "UDP: random-payload baseline echo"},
	{"ports", "bulk", CONF_INT, "8443", O(bulk_port), 1, 65535, false,
	    NULL, "TCP: bulk data for throughput and freeze tests"},
	{"limits", "bulk_max", CONF_SIZE, "16M", O(bulk_max), 1024,
	    1073741824, false, NULL, "largest transfer one request may ask"},
	{NULL, NULL, 0, NULL, 0, 0, 0, false, NULL, NULL},
};
