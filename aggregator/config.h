/* config.h — zond-aggregator's options; the table in config.c declares
 * each once. */
#ifndef AGGREGATOR_CONFIG_H
#define AGGREGATOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

struct aggr_conf {
	/* [aggregator] */
	char *data_dir;
	char *key;
	char *log_level;
	/* [ingest] */
	char *listen;
	int64_t max_frame;
	int64_t commit_delay_ms;
	int64_t commit_max;
	int64_t clock_skew_ms;
	int64_t late_window_ms;
	int64_t verify_threads;
	int64_t stats_interval_ms;
	/* [storage] */
	int64_t map_size;
	int64_t map_max;
	int64_t prefill;
	/* [http] */
	char *http_listen;
	char *dashboard_dir;
	char *http_token;		/* "": no operator token */
	bool http_public;		/* listen serves the public view */
	char *http_public_listen;	/* "": no second (public) listener */
	int64_t http_public_min_agents;	/* k */
	int64_t http_map_cache_ms;	/* 0: no map cache */
	/* [analysis] */
	int64_t window_ms;
	int64_t settle_ms;
	int64_t analysis_interval_ms;
	int64_t min_measurements;
	int64_t min_agents;
	int64_t regime_min_agents;
	int64_t silence_after_ms;	/* [analysis] silence_after; 0: off */
	int64_t silence_spread_ms;
	char *fingerprints;
	char *ip_asn;
	char *webhook;
	int64_t webhook_max_age_ms;
	char *operator_key;
	/* [relay] */
	char *relay_listen;
	char *relay_tls_cert;
	char *relay_tls_key;
	int64_t relay_max_body;
	int64_t relay_rate;
	int64_t relay_timeout_ms;
	int64_t relay_reply_ms;
	/* [enroll] */
	bool enroll;
	char *enroll_endpoints;
	char *enroll_relays;
	int64_t enroll_rate;
};

extern const struct conf_opt aggr_conf_tab[];

struct ipasn;
/* The IP-to-ASN table [analysis] ip_asn names, loaded (caller frees with
 * ipasn_free); *out NULL when the option is empty.  A missing or bad file
 * is an error naming it (and the line). */
zerr_t aggr_conf_ipasn(const struct aggr_conf *conf, struct ipasn **out,
    zdiag_t *d) ZWUR;

#endif
