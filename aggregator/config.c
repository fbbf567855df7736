/* config.c — zond-aggregator option table: each option once, with its
 * default, range and documentation (docs/CONFIG.md, --config-reference). */
#include "config.h"

#include "ipasn.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define O(f) offsetof(struct aggr_conf, f)

/* tcp://host:port, or tcp://host:* for a port the system picks (the log
 * names the endpoint bound: tests use it). */
static int
check_listen(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n > 8 && strncmp(v, "tcp://", 6) == 0 &&
	    strcmp(v + n - 2, ":*") == 0)
		return 0;
	return conf_check_endpoint(v, why, whylen);
}

/* Comma-separated URLs without blanks or quotes, each at most 256
 * bytes, at most 8 (what a token carries: lib/token.h). */
static int
check_url_list(const char *v, char *why, size_t whylen)
{
	size_t n = 0, len = 0;

	if (*v == '\0')
		return 0;
	for (const char *p = v;; p++) {
		if (*p == ',' || *p == '\0') {
			if (len == 0) {
				snprintf(why, whylen, "empty entry in the list");
				return -1;
			}
			if (++n > 8) {
				snprintf(why, whylen, "more than 8 entries");
				return -1;
			}
			len = 0;
			if (*p == '\0')
				return 0;
			continue;
		}
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '"' || *p == '\\') {
			snprintf(why, whylen, "blank, quote or non-ASCII "
			    "byte in a URL");
			return -1;
		}
		if (++len > 256) {
			snprintf(why, whylen, "a URL longer than 256 bytes");
			return -1;
		}
	}
}

/* empty, or an http:// or https:// URL */
static int
check_webhook(const char *v, char *why, size_t whylen)
{
	if (*v == '\0' || strncmp(v, "http://", 7) == 0 ||
	    strncmp(v, "https://", 8) == 0) {
		if (strlen(v) < 2048 && strpbrk(v, " \t\r\n") == NULL)
			return 0;
	}
	snprintf(why, whylen, "not an http:// or https:// URL");
	return -1;
}

static int
check_opt_hostport(const char *v, char *why, size_t n)
{
	size_t len = strlen(v);

	/* host:0: a port the system picks (the log names it: tests) */
	if (len > 2 && strcmp(v + len - 2, ":0") == 0 && v[len - 3] != ':')
		return 0;
	return *v == '\0' ? 0 : conf_check_hostport(v, why, n);
}

/* empty, or host:port with a port 1-65535 */
static int
check_opt_listen(const char *v, char *why, size_t n)
{
	return *v == '\0' ? 0 : conf_check_hostport(v, why, n);
}

static int
check_opt_hexkey(const char *v, char *why, size_t n)
{
	return *v == '\0' ? 0 : conf_check_hexkey(v, why, n);
}

const struct conf_opt aggr_conf_tab[] = {
	{"aggregator", "data_dir", CONF_STRING, "/var/lib/zond", O(data_dir),
	    0, 0, false, NULL, "LMDB environment and registry"},
	{"aggregator", "key", CONF_STRING, "/var/lib/zond/identity.key",
	    O(key), 0, 0, false, NULL,
	    "aggregator's secret key (its CURVE server key derives from it)"},
	{"aggregator", "log_level", CONF_STRING, "info", O(log_level), 0, 0,
	    false, conf_check_loglevel, "warn, info or debug"},
	{"ingest", "listen", CONF_STRING, "tcp://0.0.0.0:7800", O(listen), 0,
	    0, false, check_listen,
	    "ZeroMQ endpoint agents connect to; tcp://host:* picks a port"},
	{"ingest", "max_frame", CONF_SIZE, "1M", O(max_frame), 1024, 1048576,
	    false, NULL, "largest frame served; larger ones up to twice this get "
	    "REJECT_OVERSIZED (PROTOCOL.md \"Size limits\")"},
	{"ingest", "commit_delay", CONF_DURATION, "1ms", O(commit_delay_ms), 0,
	    1000, false, NULL, "longest wait to group measurements per commit"},
	{"ingest", "commit_max", CONF_INT, "4096", O(commit_max), 1, 100000,
	    false, NULL, "most measurements per commit"},
	{"ingest", "clock_skew", CONF_DURATION, "1h", O(clock_skew_ms), 1000,
	    86400000, false, NULL,
	    "how far in the future a measurement may start"},
	{"ingest", "late_window", CONF_DURATION, "14d", O(late_window_ms),
	    60000, 31536000000LL, false, NULL,
	    "how old a measurement may be when it arrives"},
	{"ingest", "verify_threads", CONF_INT, "0", O(verify_threads), 0, 64,
	    false, NULL, "signature verification threads; 0: one per CPU"},
	{"ingest", "stats_interval", CONF_DURATION, "60s", O(stats_interval_ms),
	    100, 86400000, false, NULL,
	    "how often to log the ingest counters (key=value)"},
	{"storage", "map_size", CONF_SIZE, "64M", O(map_size), 1048576,
	    1LL << 44, false, NULL,
	    "initial LMDB map size; it grows on demand"},
	{"storage", "map_max", CONF_SIZE, "64G", O(map_max), 0, 1LL << 50,
	    false, NULL, "largest the LMDB map may grow; 0: no limit "
	    "(the disk is the limit)"},
	{"storage", "prefill", CONF_SIZE, "16M", O(prefill), 0, 1LL << 34,
	    false, NULL, "keep the data file written this far past the "
	    "pages in use, a page at a time (cheaper page writes, "
	    "docs/STORAGE.md); 0: off"},
	{"http", "listen", CONF_STRING, "127.0.0.1:8080", O(http_listen), 0,
	    0, false, conf_check_hostport, "HTTP API and dashboard address: "
	    "the operator view unless public is set; an operator view on an "
	    "address other than loopback needs a token (refused at start "
	    "and by -n without one)"},
	{"http", "token", CONF_STRING, "", O(http_token), 0, 0, false,
	    conf_check_token, "operator token: when set, the operator view's /api/ "
	    "paths (but /api/v1/info) and /metrics need `Authorization: "
	    "Bearer TOKEN` (16-256 printable ASCII characters, no blanks); a "
	    "configuration file holding one is refused when group or others "
	    "may read it (chmod 600; docs/SECURITY.md); empty: none"},
	{"http", "public", CONF_BOOL, "no", O(http_public), 0, 0, false, NULL,
	    "listen serves the public view instead of the operator view (no "
	    "agent keys or per-agent rows; cells of fewer than "
	    "public_min_agents agents merged upward; docs/API.md \"Public "
	    "view and operator token\")"},
	{"http", "public_listen", CONF_STRING, "", O(http_public_listen), 0,
	    0, false, check_opt_listen, "a second listener, host:port, "
	    "serving the public view beside listen; empty: none"},
	{"http", "public_min_agents", CONF_INT, "3", O(http_public_min_agents),
	    1, 1000, false, NULL, "k of the public view: distinct probe "
	    "agents a region/ISP cell, a region row or a region/ASN filter "
	    "needs to be shown"},
	{"http", "map_cache", CONF_DURATION, "10s", O(http_map_cache_ms), 0,
	    600000, false, NULL, "how long a map document made for one "
	    "request serves the same request again; one that is read is "
	    "made again in the background after half of this when the "
	    "store has changed, so an answer is at most this much behind "
	    "the analyzer (docs/API.md \"Map cache\"); 0: off"},
	{"http", "dashboard_dir", CONF_STRING, "", O(dashboard_dir), 0, 0,
	    false, NULL, "dashboard files; empty: found next to the binary "
	    "or in the source tree (docs/API.md)"},
	{"analysis", "window", CONF_DURATION, "1h", O(window_ms), 60000,
	    86400000, false, NULL, "control comparison window"},
	{"analysis", "settle", CONF_DURATION, "60s", O(settle_ms), 0,
	    86400000, false, NULL, "a measurement's control window is "
	    "closed at start + window + settle; then it is judged a last "
	    "time"},
	{"analysis", "interval", CONF_DURATION, "2s", O(analysis_interval_ms),
	    100, 3600000, false, NULL, "how often the analyzer judges new "
	    "measurements and updates the roll-ups"},
	{"analysis", "min_measurements", CONF_INT, "3", O(min_measurements),
	    1, 100000, false, NULL, "measurements a cell needs for a verdict"},
	{"analysis", "min_agents", CONF_INT, "2", O(min_agents), 1, 10000,
	    false, NULL, "distinct probe agents a cell needs for a verdict "
	    "(one volunteer alone never makes a verdict)"},
	{"analysis", "regime_min_agents", CONF_INT, "2",
	    O(regime_min_agents), 0, 10000, false, NULL,
	    "agents each reference cell of a network needs before its "
	    "region and ASN can be judged under a whitelist or shutdown "
	    "(docs/METHODOLOGY.md \"Regimes\"); 0: regimes off"},
	{"analysis", "silence_after", CONF_DURATION, "3m",
	    O(silence_after_ms), 0, 86400000, false, NULL,
	    "agents whose heartbeats had been regular and that are silent "
	    "longer than this (and three of their usual gaps), at least "
	    "regime_min_agents of one region and ASN within silence_spread "
	    "of each other, are a shutdown of that network "
	    "(docs/METHODOLOGY.md \"Silence\"); 0: silence is no evidence"},
	{"analysis", "silence_spread", CONF_DURATION, "5m",
	    O(silence_spread_ms), 1000, 86400000, false, NULL,
	    "how close together the agents of a network must fall silent "
	    "to be a shutdown"},
	{"analysis", "fingerprints", CONF_STRING, "", O(fingerprints), 0, 0,
	    false, NULL, "fingerprint CSVs, separated by commas "
	    "(docs/FINGERPRINTS.md); empty: none, the names agents record "
	    "decide"},
	{"analysis", "ip_asn", CONF_STRING, "", O(ip_asn), 0, 0, false, NULL,
	    "IP-to-ASN table for DNS consistency and where the censor sits "
	    "in the iptoasn.com TSV format (ip2asn-combined.tsv); empty: "
	    "none, a /24 or /48 stands in for the ASN (docs/METHODOLOGY.md "
	    "2.3) and where is unknown (3.7)"},
	{"analysis", "webhook", CONF_STRING, "", O(webhook), 0, 0, false,
	    check_webhook, "URL to POST cell state changes to; empty: none"},
	{"analysis", "webhook_max_age", CONF_DURATION, "6h",
	    O(webhook_max_age_ms), 60000, 31536000000LL, false, NULL,
	    "events of older hours (late data, reanalysis) are stored but "
	    "not POSTed"},
	{"testlist", "operator_key", CONF_STRING, "", O(operator_key), 0, 0,
	    false, check_opt_hexkey,
	    "operator's public key (64 hex characters): the key test lists "
	    "must be signed with to be pushed to agents, and the one enrollment "
	    "tokens tell agents to trust; empty: no lists are pushed"},
	{"relay", "listen", CONF_STRING, "", O(relay_listen), 0, 0, false,
	    check_opt_hostport, "HTTPS relay ingest address (POST /ingest/v1, "
	    "docs/PROTOCOL.md 8), host:port; port 0: any; empty: off"},
	{"relay", "tls_cert", CONF_STRING, "", O(relay_tls_cert), 0, 0, false,
	    NULL, "PEM certificate (chain) of the relay ingest; empty with "
	    "tls_key: plain HTTP, for a reverse proxy in front that "
	    "terminates TLS (docs/OPERATIONS.md)"},
	{"relay", "tls_key", CONF_STRING, "", O(relay_tls_key), 0, 0, false,
	    NULL, "PEM private key of tls_cert; a secret: refused at start "
	    "and by -n when group or others may read it (chmod 600 or 400, "
	    "owned by the daemon's user; docs/SECURITY.md)"},
	{"relay", "max_body", CONF_SIZE, "1040K", O(relay_max_body), 4096,
	    4194304, false, NULL, "largest request body; larger: 413 before "
	    "the body is read (an Uplink of [ingest] max_frame and its "
	    "envelope fit the default)"},
	{"relay", "rate", CONF_INT, "600", O(relay_rate), 1, 1000000, false,
	    NULL, "requests per agent per minute; more: 429 with Retry-After"},
	{"relay", "timeout", CONF_DURATION, "30s", O(relay_timeout_ms), 1000,
	    3600000, false, NULL, "a connection idle this long (a slow "
	    "client) is closed"},
	{"relay", "reply_timeout", CONF_DURATION, "20s", O(relay_reply_ms),
	    100, 600000, false, NULL, "longest wait for the ingest to verify, "
	    "commit and answer a request; then 503 (the agent retries)"},
	{"enroll", "enabled", CONF_BOOL, "yes", O(enroll), 0, 0, false, NULL,
	    "admit agents that present an enrollment token (zondctl token "
	    "create); no: unknown keys are refused at the handshake, as "
	    "before enrollment existed (docs/PROTOCOL.md 7)"},
	{"enroll", "endpoints", CONF_STRING, "", O(enroll_endpoints), 0, 0,
	    false, check_url_list,
	    "ZeroMQ endpoints agents reach this aggregator at, separated by "
	    "commas (tcp://host:port), written into new tokens; empty: "
	    "zondctl token create needs --endpoint"},
	{"enroll", "relays", CONF_STRING, "", O(enroll_relays), 0, 0, false,
	    check_url_list,
	    "HTTPS relay URLs, separated by commas, written into new tokens "
	    "(the agent's [uplink] relays); empty: none"},
	{"enroll", "rate", CONF_INT, "10", O(enroll_rate), 1, 100000, false,
	    NULL, "enrollment connections admitted per source address per "
	    "minute; more are answered ENROLL_RATE_LIMITED"},
	{NULL, NULL, 0, NULL, 0, 0, 0, false, NULL, NULL},
};

zerr_t
aggr_conf_ipasn(const struct aggr_conf *conf, struct ipasn **out, zdiag_t *d)
{
	*out = NULL;
	if (conf->ip_asn == NULL || *conf->ip_asn == '\0')
		return ZE_OK;
	return ipasn_load(conf->ip_asn, out, d);
}
