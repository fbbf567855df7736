/*
 * relay.h — the HTTPS relay ingest (docs/PROTOCOL.md §8): one endpoint,
 * POST /ingest/v1, taking a RelayRequest signed by an agent and answering
 * a RelayReply signed by the aggregator.
 *
 * The relay checks the envelope only (size, decoding, the agent enrolled
 * and enabled, the agent's signature, the replay rule, the per-agent
 * rate) and hands the Uplink inside to the ingest's main loop over the
 * inproc socket RELAY_INPROC (ingest_on_relay), as a peer attributed to
 * that agent: the same verification, dedup, group commit and ACK after a
 * durable commit as on the ZeroMQ path.  The ingest answers each relayed
 * Uplink with exactly one Downlink, which the relay binds to the request
 * (SHA-256 of RelayRequest.body) and signs.
 *
 * Threads: libmicrohttpd's, one per connection (a bounded number); each
 * request uses its own short-lived DEALER socket.  The replay and rate
 * tables are behind one mutex; the counters are atomic.
 * Ownership: relay_start's caller keeps the store, the key and the ZeroMQ
 * context alive until relay_stop.
 */
#ifndef AGGREGATOR_RELAY_H
#define AGGREGATOR_RELAY_H

#include <stdint.h>

#include "err.h"
#include "key.h"
#include "store.h"

#define RELAY_INPROC "inproc://zond-relay"

struct relay_opts {
	const char *listen;	/* host:port ("[v6]:port"); port 0: any */
	const char *tls_cert;	/* PEM file; empty with tls_key: plain HTTP */
	const char *tls_key;
	int64_t max_body;	/* bytes; larger bodies: 413 */
	int64_t rate;		/* requests per agent per minute */
	int64_t timeout_s;	/* idle connection cut after this */
	int64_t reply_ms;	/* longest wait for the ingest's answer */
};

/* Answers by HTTP status. */
struct relay_stats {
	uint64_t requests;
	uint64_t ok;		/* 200 */
	uint64_t bad;		/* 400 */
	uint64_t forbidden;	/* 403 */
	uint64_t not_found;	/* 404, 405 */
	uint64_t replay;	/* 409 */
	uint64_t too_large;	/* 413 (or a chunked body cut) */
	uint64_t limited;	/* 429 */
	uint64_t unavailable;	/* 503 */
};

typedef struct relay relay_t;

/* Start serving o->listen.  ctx: the ZeroMQ context whose RELAY_INPROC
 * the ingest binds; key: the aggregator's identity (signs the replies).
 * Errors name the option at fault (a missing certificate, a busy port). */
zerr_t relay_start(void *ctx, store_t *s, const zkey_t *key,
    const struct relay_opts *o, relay_t **out, zdiag_t *d) ZWUR;
/* What relay_start reads before it listens, checked alone (for `-n` and
 * before anything starts): tls_cert and tls_key go together, this
 * libmicrohttpd has TLS, both files read, and tls_key is a secret no
 * group or others may read (key_check_secret).  Errors name the option
 * and the file. */
zerr_t relay_check_tls(const char *tls_cert, const char *tls_key,
    zdiag_t *d) ZWUR;
/* Stop (waits for the connection threads) and free; accepts NULL. */
void relay_stop(relay_t **r);
/* Thread-safe snapshot of the counters; r may be NULL (all zero). */
void relay_get_stats(const relay_t *r, struct relay_stats *st);

#endif
