/* config.c — zond-agent option table. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "relay.h"

#define O(f) offsetof(struct agent_conf, f)

static int
check_opt_hexkey(const char *v, char *why, size_t n)
{
	return *v == '\0' ? 0 : conf_check_hexkey(v, why, n);
}

static int
check_relays(const char *v, char *why, size_t n)
{
	zdiag_t d;

	if (*v == '\0' || relay_urls_check(v, NULL, &d) == ZE_OK)
		return 0;
	snprintf(why, n, "%s", d.text);
	return 1;
}

const struct conf_opt agent_conf_tab[] = {
	{"agent", "state_dir", CONF_STRING, "/var/lib/zond-agent",
	    O(state_dir), 0, 0, false, NULL,
	    "directory for the outbox and the identity"},
	{"agent", "key", CONF_STRING, "/var/lib/zond-agent/identity.key",
	    O(key), 0, 0, false, NULL,
	    "secret key file made by `zondctl keygen` (mode 0600)"},
	{"agent", "user", CONF_STRING, "zond", O(user), 0, 0, false, NULL,
	    "user to switch to when started as root"},
	{"agent", "log_level", CONF_STRING, "info", O(log_level), 0, 0, false,
	    conf_check_loglevel, "warn, info or debug"},
	{"uplink", "endpoint", CONF_STRING, "tcp://127.0.0.1:7800",
	    O(endpoint), 0, 0, false, conf_check_endpoint,
	    "aggregator's ZeroMQ endpoint"},
	{"uplink", "server_key", CONF_STRING, "", O(server_key), 0, 0, false,
	    check_opt_hexkey,
	    "aggregator's identity.pub (64 hex characters)"},
	{"uplink", "operator_key", CONF_STRING, "", O(operator_key), 0, 0,
	    false, check_opt_hexkey,
	    "operator's public key (64 hex characters): test lists pushed by "
	    "the aggregator are applied only when signed by it; empty: pushed "
	    "lists are refused (docs/PROTOCOL.md §5)"},
	{"uplink", "heartbeat", CONF_DURATION, "30s", O(heartbeat_ms), 1000,
	    3600000, false, NULL, "time between heartbeats"},
	{"uplink", "window", CONF_INT, "512", O(window), 1, 65536, false,
	    NULL, "measurements sent but not yet acknowledged, at most"},
	{"uplink", "relays", CONF_STRING, "", O(relays), 0, 0, false,
	    check_relays, "HTTPS relay URLs (https://HOST/ingest/v1), "
	    "separated by commas, tried in order when CurveZMQ fails "
	    "(docs/PROTOCOL.md §8); empty: none"},
	{"uplink", "relay_after", CONF_DURATION, "60s", O(relay_after_ms), 0,
	    86400000, false, NULL, "how long CurveZMQ must have failed (no "
	    "handshake, or measurements in flight without an answer) before "
	    "the relays are used"},
	{"uplink", "relay_ca_file", CONF_STRING, "", O(relay_ca_file), 0, 0,
	    false, NULL, "CA bundle the relays' certificates are checked "
	    "against (instead of the system's; must be readable at start); "
	    "empty: the system's"},
	{"uplink", "relay_timeout", CONF_DURATION, "30s",
	    O(relay_timeout_ms), 1000, 600000, false, NULL,
	    "longest one relay exchange may take, connection included"},
	{"tests", "urls", CONF_STRING, "", O(urls), 0, 0, false, NULL,
	    "URL list in Citizen Lab test-list CSV format"},
	{"tests", "endpoints", CONF_STRING, "", O(endpoints), 0, 0, false,
	    NULL, "endpoint test list (docs/TARGETS.md)"},
	{"tests", "resolver", CONF_STRING, "", O(resolver), 0, 0, false,
	    NULL, "DNS resolver ip[:port]; empty: the system's"},
	{"tests", "doh_url", CONF_STRING, "", O(doh_url), 0, 0, false, NULL,
	    "DNS-over-HTTPS resolver URL for comparison, also asked once "
	    "for the name of each tcp, tls and http test; empty: none"},
	{"tests", "helper", CONF_STRING, "", O(helper), 0, 0, false, NULL,
	    "zond-helper host for UDP, QUIC, VPN and transfer tests"},
	{"tests", "fingerprints", CONF_STRING, "", O(fingerprints), 0, 0,
	    false, NULL, "blockpage fingerprint CSV (OONI columns); several "
	    "separated by commas"},
	{"tests", "ca_file", CONF_STRING, "", O(ca_file), 0, 0, false, NULL,
	    "extra CA bundle for TLS and HTTPS tests; empty: the system's"},
	{"tests", "dns_window", CONF_DURATION, "500ms", O(dns_window_ms), 0,
	    10000, false, NULL,
	    "how long to keep collecting DNS responses after the first"},
	{"tests", "body_cap", CONF_SIZE, "1M", O(body_cap), 1024, 67108864,
	    false, NULL, "most HTTP body bytes read per test"},
	{"tests", "answer_check", CONF_BOOL, "true", O(answer_check), 0, 0,
	    false, NULL, "dns tests: one TLS handshake (SNI the name, no "
	    "request) to the first routable address answered, port 443, to "
	    "see whether it serves the name"},
	{"tests", "call_seconds", CONF_DURATION, "15s", O(call_ms), 1000,
	    300000, false, NULL, "call tests, flow variant: how long the "
	    "RTP-like media runs (50 packets/s)"},
	{"tests", "call_user", CONF_STRING, "zond", O(call_user), 0, 0, false,
	    NULL, "call tests, flow variant: TURN user name (the helper's "
	    "[turn] user)"},
	{"tests", "call_password", CONF_STRING, "zond-call", O(call_password),
	    0, 0, false, NULL, "call tests, flow variant: TURN password (the "
	    "helper's [turn] password)"},
	{"tests", "call_max_ttl", CONF_INT, "16", O(call_max_ttl), 1, 32,
	    false, NULL, "call tests, path variant: highest TTL probed"},
	{"tests", "locate", CONF_BOOL, "true", O(locate), 0, 0, false, NULL,
	    "after a tcp, tls, http, quic or stun test failed (reset, timeout, "
	    "eof, no_reply, blockpage, tls_error, refused), replay its "
	    "trigger with TTL 1, 2, ... to find the hop where the censor sits "
	    "(at most 64 packets and 20 s each; docs/PROBES-TCP.md)"},
	{"tests", "locate_max_ttl", CONF_INT, "16", O(locate_max_ttl), 1, 64,
	    false, NULL, "highest TTL a localization tries"},
	{"tests", "locate_interval", CONF_DURATION, "1h",
	    O(locate_interval_ms), 0, 604800000, false, NULL,
	    "at most one localization per test and target in this time"},
	{"tests", "locate_per_hour", CONF_INT, "6", O(locate_per_hour), 0,
	    3600, false, NULL, "localizations per hour for all tests together "
	    "(a token bucket holding as many); 0: none"},
	{"schedule", "interval", CONF_DURATION, "15m", O(interval_ms), 1000,
	    86400000, false, NULL, "default interval between runs of a test"},
	{"schedule", "jitter", CONF_DURATION, "2m", O(jitter_ms), 0,
	    86400000, false, NULL, "uniform random spread added to each run"},
	{"schedule", "concurrency", CONF_INT, "4", O(concurrency), 1, 64,
	    false, NULL, "tests running at once"},
	{"schedule", "retries", CONF_INT, "2", O(retries), 0, 10, false, NULL,
	    "retries of a failing test before its failure is reported"},
	{"schedule", "timeout", CONF_DURATION, "10s", O(timeout_ms), 100,
	    600000, false, NULL, "timeout of each step of a test"},
	{"schedule", "retry_delay", CONF_DURATION, "2s", O(retry_delay_ms), 0,
	    600000, false, NULL, "pause before retrying a failed test"},
	{"schedule", "rounds", CONF_INT, "0", O(rounds), 0, 1000000, false,
	    NULL, "stop after running the list this many times and delivering "
	    "everything (0: run forever; the lab uses it)"},
	{"outbox", "budget", CONF_SIZE, "64M", O(budget), 1048576,
	    1099511627776LL, false, NULL,
	    "disk budget; over it the oldest measurements are dropped"},
	{NULL, NULL, 0, NULL, 0, 0, 0, false, NULL, NULL},
};
