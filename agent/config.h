/*
 * config.h — zond-agent's options.  The table in config.c is the single
 * declaration of each option (docs/agent.conf.md is generated from it).
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

struct agent_conf {
	/* [agent] */
	char *state_dir;
	char *key;
	char *user;
	char *log_level;
	/* [uplink] */
	char *endpoint;
	char *server_key;
	char *operator_key;
	int64_t heartbeat_ms;
	int64_t window;
	char *relays;
	int64_t relay_after_ms;
	char *relay_ca_file;
	int64_t relay_timeout_ms;
	/* [tests] */
	char *urls;
	char *endpoints;
	char *resolver;
	char *doh_url;
	char *helper;
	char *fingerprints;
	char *ca_file;
	int64_t dns_window_ms;
	int64_t body_cap;
	bool answer_check;
	int64_t call_ms;
	char *call_user;
	char *call_password;
	int64_t call_max_ttl;
	bool locate;
	int64_t locate_max_ttl;
	int64_t locate_interval_ms;
	int64_t locate_per_hour;
	/* [schedule] */
	int64_t interval_ms;
	int64_t jitter_ms;
	int64_t concurrency;
	int64_t retries;
	int64_t timeout_ms;
	int64_t retry_delay_ms;
	int64_t rounds;
	/* [outbox] */
	int64_t budget;
};

extern const struct conf_opt agent_conf_tab[];

#endif
