/*
 * zap.h — the ZAP handler (ZeroMQ RFC 27) at inproc://zeromq.zap.01.
 *
 * Admits a CURVE client as an agent only if its key belongs to an
 * enrolled, enabled agent (a key that is not enrolled: for enrollment
 * only, below); the reply's user id is the agent's Ed25519 public key in
 * hex, so
 * every message on that connection carries it as the "User-Id" property.
 * The registry is read from the store on every request, so `zondctl
 * enroll`/`disable` take effect for the next connection without a
 * restart.  Runs in a thread of its own; counters are atomic.
 *
 * Enrollment (docs/PROTOCOL.md 7): a key that is not enrolled is admitted
 * for enrollment only, with user id ZAP_ENROLL_USER and its CURVE key in
 * hex ("enroll:HEX"); over the per-source rate (a fixed-size table:
 * ratelimit.h) the user id is ZAP_LIMITED_USER ("enroll-limited:HEX"), so
 * that the ingest answers ENROLL_RATE_LIMITED instead of leaving the agent
 * without an answer.  On such connections the ingest accepts nothing but
 * Uplink.enroll.  A disabled agent is refused as before.
 */
#ifndef AGGREGATOR_ZAP_H
#define AGGREGATOR_ZAP_H

#include <stdint.h>

#include "err.h"
#include "store.h"

typedef struct zap zap_t;

#define ZAP_ENROLL_USER "enroll:"
#define ZAP_LIMITED_USER "enroll-limited:"
#define ZAP_RL_SLOTS 1024	/* sources the rate limit tells apart */

struct zap_opts {
	uint32_t enroll_rate;	/* enrollment connections per source per
				 * minute; 0: unknown keys are refused */
};

struct zap_stats {
	uint64_t admitted;
	uint64_t enroll;	/* unknown key admitted for enrollment */
	uint64_t enroll_limited;	/* ... over the rate of its source */
	uint64_t unknown;	/* key not enrolled */
	uint64_t disabled;	/* enrolled but disabled */
	uint64_t bad;		/* malformed request, other mechanism */
};

/* Bind the handler socket in zctx (before any CURVE server binds) and
 * start its thread.  Caller frees with zap_stop. */
zerr_t zap_start(void *zctx, store_t *s, const struct zap_opts *o,
    zap_t **out, zdiag_t *d) ZWUR;
void zap_stop(zap_t **z);
void zap_get_stats(zap_t *z, struct zap_stats *st);

#endif
