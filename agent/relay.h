/*
 * relay.h — the agent's HTTPS relay transport (PROTOCOL.md 8, "The agent").
 *
 * When the CurveZMQ uplink is cut, uplink.c hands the same Uplink frames
 * to this module instead of the DEALER.  Each frame goes as one
 * RelayRequest (RelayBody: agent key, boot_id, boot_us strictly
 * increasing, the Uplink bytes; signed ZDOM_RELAY with the agent key),
 * POSTed to the current relay URL.  Only an HTTP 200 whose RelayReply is
 * signed (ZDOM_RELAY_REPLY) by the aggregator's identity and binds the
 * SHA-256 of the request body sent gives back a Downlink; anything else is
 * a failure of that relay: backoff, then the next URL in the list.
 *
 * One request at a time: the aggregator refuses a boot_us not above the
 * last it accepted, so two requests racing each other would get one
 * refused as a replay.  The HTTPS exchange runs on a worker thread
 * (blocking libcurl, with a timeout); the main loop polls relay_fd() and
 * collects the outcome with relay_poll().  The outbox is never touched
 * here.
 *
 * Threads: relay_* are called from the main loop only; the worker owns
 * its curl handle and shares only the job and result under a mutex.
 */
#ifndef AGENT_RELAY_H
#define AGENT_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "zbuf.h"

#define RELAY_MAX_URLS 8
#define RELAY_HASH_LEN 32
/* a RelayReply: one Downlink (at most a frame) and its envelope */
#define RELAY_MAX_REPLY (2 * 1024 * 1024)
#define RELAY_BOOT_ID_LEN 16

/* ------------------------------------------------------------ envelope */

/*
 * The RelayRequest for one Uplink encoding: RelayBody {agent, boot_id,
 * boot_us, uplink}, signed by k.  out gets the RelayRequest bytes
 * (replaced), hash the SHA-256 of the RelayBody bytes.  Pure.
 */
zerr_t relay_request_build(const zkey_t *k,
    const uint8_t boot_id[RELAY_BOOT_ID_LEN], uint64_t boot_us,
    const uint8_t *uplink, size_t n, zbuf_t *out,
    uint8_t hash[RELAY_HASH_LEN], zdiag_t *d) ZWUR;

/* Why a reply was refused. */
enum relay_reply_why {
	RELAY_REPLY_OK,
	RELAY_REPLY_MALFORMED,	/* not a RelayReply / RelayReplyBody */
	RELAY_REPLY_FORGED,	/* signature missing or not the aggregator's */
	RELAY_REPLY_MISMATCH,	/* signed, but for another request */
};

/*
 * Open a RelayReply: ZE_OK and the Downlink bytes in downlink (replaced)
 * only when the signature verifies with server_pk over the exact body
 * bytes and the body's request_hash equals hash.  Else an error, *why and
 * d say which check failed.  Pure.
 */
zerr_t relay_reply_open(const uint8_t server_pk[KEY_PUB_LEN],
    const uint8_t *reply, size_t n, const uint8_t hash[RELAY_HASH_LEN],
    zbuf_t *downlink, enum relay_reply_why *why, zdiag_t *d) ZWUR;

/* ------------------------------------------------------------ transport */

typedef struct relay relay_t;

struct relay_opts {
	const char *urls;	/* comma-separated https:// URLs, in order */
	const char *ca_file;	/* NULL or "": the system's CA bundle */
	int64_t timeout_ms;	/* one whole request */
	int64_t backoff_ms;	/* first pause after a failed round; doubling */
	int64_t backoff_max_ms;
};

/* Split and check a URL list: ZE_OK when it holds 1..RELAY_MAX_URLS
 * http(s) URLs without spaces or control bytes (what = where, for the
 * message).  n may be NULL. */
zerr_t relay_urls_check(const char *urls, size_t *n, zdiag_t *d) ZWUR;

/*
 * Start the worker.  k and server_pk are copied or must outlive the relay
 * (k: must); boot_id identifies this boot (random when the agent knows
 * none).  Caller frees with relay_free.
 */
zerr_t relay_new(const struct relay_opts *o, const zkey_t *k,
    const uint8_t server_pk[KEY_PUB_LEN],
    const uint8_t boot_id[RELAY_BOOT_ID_LEN], relay_t **out,
    zdiag_t *d) ZWUR;
/* Stops the worker (an exchange under way is aborted); accepts NULL. */
void relay_free(relay_t **r);

/* Readable (POLLIN) when an exchange has finished. */
int relay_fd(const relay_t *r);

/* True when a frame can be sent now: no exchange under way, no backoff. */
bool relay_ready(const relay_t *r, int64_t now_us);

/* Send one Uplink encoding (copied) to the current relay.  ZE_BUSY-like
 * ZE_RANGE when not ready. */
zerr_t relay_send(relay_t *r, const uint8_t *uplink, size_t n,
    int64_t now_us, zdiag_t *d) ZWUR;

enum relay_outcome {
	RELAY_NONE,		/* nothing finished */
	RELAY_DOWNLINK,		/* a verified Downlink is in the buffer */
	RELAY_FAILED,		/* transport, HTTP status or bad reply */
	RELAY_TOOLARGE,		/* HTTP 413: the request was too large */
};

/* Collect a finished exchange, without blocking.  Failures are logged
 * and counted here, and move to the next URL after the backoff (413
 * too: the caller sends smaller batches). */
enum relay_outcome relay_poll(relay_t *r, int64_t now_us, zbuf_t *downlink);

/* Milliseconds until relay_ready turns true on its own (backoff end),
 * -1 when not backing off. */
long relay_timeout_ms(const relay_t *r, int64_t now_us);

struct relay_stats {
	uint64_t requests;	/* exchanges started */
	uint64_t ok;		/* verified replies */
	uint64_t failed;	/* network errors and HTTP statuses */
	uint64_t bad_replies;	/* 200 with a reply that did not verify */
	uint64_t http_status[6];	/* 400, 403, 409, 413, 429, 503 */
	size_t current;		/* index of the URL in use */
};
void relay_stats(const relay_t *r, struct relay_stats *st);

#endif
