/*
 * http.h — the aggregator's HTTP API and static dashboard (docs/API.md),
 * served by libmicrohttpd from its own threads (one per connection, a
 * bounded number of connections).
 *
 * Invariants: the HTTP side only reads the store (every store function
 * opens its own transaction; LMDB lets readers run beside the writer), so
 * it never blocks ingest; it binds only to [http] listen (and
 * public_listen); every response
 * carries Content-Type and Cache-Control: no-store (but for the 414/431
 * that libmicrohttpd itself sends for a request head over its memory).  The ingest counters
 * for /metrics are a snapshot the main thread publishes (http_publish),
 * never read across threads.
 *
 * Ownership: http_start returns an http_t the caller stops with http_stop
 * before closing the store.
 */
#ifndef AGGREGATOR_HTTP_H
#define AGGREGATOR_HTTP_H

#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "ingest.h"
#include "store.h"

typedef struct http http_t;

/*
 * Start serving conf->http_listen ("host:port", "[v6]:port") and
 * conf->http_public_listen when set (http_check_conf first).  Dashboard
 * files come from conf->dashboard_dir, or when it is empty from the first
 * of <exe dir>/../share/zond/dashboards, <exe dir>/../../dashboards and
 * the source tree's dashboards/ (compiled in) that exists.  The store and
 * asn (the IP-to-ASN table of its verdicts; may be NULL) must outlive the
 * http_t.  SIGPIPE must be ignored by the caller.
 */
struct ipasn;
zerr_t http_start(store_t *s, const struct aggr_conf *conf,
    const struct ipasn *asn, http_t **out, zdiag_t *d) ZWUR;

/*
 * The [http] options that can be wrong together (also for -n): listen and
 * public_listen parse and differ; an operator listener (listen without
 * public) on an address other than loopback needs a token (ZE_PERM, the
 * message says why and what to set).
 */
zerr_t http_check_conf(const struct aggr_conf *conf, zdiag_t *d) ZWUR;

/* With [http] token set, the configuration file at path is a secret file:
 * refused (ZE_PERM, the message names the mode and the chmod) when group
 * or others may read it (key_check_secret).  path NULL: nothing to do. */
zerr_t http_check_token_file(const struct aggr_conf *conf, const char *path,
    zdiag_t *d) ZWUR;

/* Copy the ingest counters for /metrics.  Call from the thread that owns
 * ig (the main loop); h may be NULL. */
void http_publish(http_t *h, const ingest_t *ig);

/* Copy the relay ingest's counters for /metrics (zond_relay_*); without
 * a call they are left out.  h may be NULL. */
struct relay_stats;
void http_publish_relay(http_t *h, const struct relay_stats *rs);

/* Stop the server (waits for its threads) and free; accepts NULL. */
void http_stop(http_t **h);

/* A listen address: host:port, [v6]:port, v6:port (the last colon
 * splits; "localhost" is 127.0.0.1), port at least min_port (0: any).
 * Errors name `what` (e.g. "[http] listen") and the value. */
struct sockaddr_storage;
zerr_t http_parse_listen(const char *what, const char *v, long min_port,
    struct sockaddr_storage *ss, bool *v6, zdiag_t *d);

#endif
