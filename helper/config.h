/*
 * config.h — zond-helper's options (table in config.c, reference in
 * docs/HELPER.md).  A port of 0 disables that endpoint; UDP ports that
 * appear twice are bound once (every UDP port answers every shape).
 */
#ifndef HELPER_CONFIG_H
#define HELPER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct helper_conf {
	char *listen;		/* numeric address to bind; "::" = dual stack */
	char *user;
	char *log_level;
	int64_t stun_port;
	int64_t quic_port;
	int64_t wireguard_port;
	int64_t openvpn_port;
	int64_t echo_port;
	int64_t bulk_port;	/* TCP, plain and TLS */
	int64_t bulk_max;
	int64_t max_conns;
	int64_t idle_timeout;	/* ms */
	int64_t udp_rate;	/* replies per second, all UDP ports */
	char *udp_ports;	/* more UDP ports: "A-B,C" (call ports) */
	char *turn_user;	/* TURN long-term credential */
	char *turn_realm;
	char *turn_password;
};

/* At most this many ports in udp_ports, in at most this many items. */
#define HELPER_MAX_PORTS	64
#define HELPER_MAX_RANGES	16

extern const struct conf_opt helper_conf_tab[];

/* Checks across options (the table checks each alone); fills why. */
int helper_conf_check(const struct helper_conf *c, char *why, size_t len);

#endif
