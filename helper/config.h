/* config.h — zond-helper's options. */
#ifndef HELPER_CONFIG_H
#define HELPER_CONFIG_H

#include <stdint.h>

#include "conf.h"

struct helper_conf {
	char *listen;		/* address to bind */
	char *user;
	char *log_level;
	int64_t stun_port;
	int64_t quic_port;
	int64_t wireguard_port;
	int64_t openvpn_port;
	int64_t echo_port;
	int64_t bulk_port;
	int64_t bulk_max;
};

extern const struct conf_opt helper_conf_tab[];

#endif
