/*
 * uplink.h — the agent's connection to the aggregator (PROTOCOL.md 2, 4).
 *
 * A ZeroMQ DEALER with CURVE, connected to [uplink] endpoint, driven by the
 * agent's one poll loop: the loop polls uplink_pollitems(), calls
 * uplink_handle() after every poll and uplink_tick() on every iteration,
 * and sleeps at most uplink_timeout_ms().  It sends Hello on every
 * (re)connection, a Heartbeat every heartbeat interval, and batches of up
 * to 256 signed measurements (and at most 1 MiB) from the outbox while the
 * in-flight window allows.  Acks delete from the outbox; per-item rejects
 * drop (permanent reasons, counted in the outbox's `rejected`) or keep and
 * resend later (REJECT_STORAGE, UNKNOWN_AGENT, DISABLED, VERSION and any
 * reason this agent does not know).  A permanent reject that names no seq
 * (the aggregator could not read one) is counted and logged and changes
 * nothing else: the item stays and goes out again after ack_timeout.  A
 * whole frame refused as REJECT_OVERSIZED halves the byte budget of the
 * following batches (down to one measurement; the aggregator's
 * [ingest] max_frame may be below 1 MiB) and sends the items again.
 *
 * Invariants: the outbox is the only source of truth.  Nothing is deleted
 * before an Ack names it; ZeroMQ's queues are never trusted to deliver
 * (ZMQ_IMMEDIATE: no queueing while disconnected; after a reconnect, a
 * timeout or a temporary reject everything unacknowledged is sent again,
 * from the oldest).  Resending is always safe: the aggregator stores a
 * (agent, seq) once and acknowledges replays.
 *
 * HTTPS relays (relay.h, PROTOCOL.md 8): when [uplink] relays are set and
 * CurveZMQ has not worked for relay_after (no handshake, or data in
 * flight without an answer), the same frames (Hello first, then batches
 * and heartbeats) go through the relays, one exchange at a time, with the
 * same window, acks, rejects and resends; only a Downlink whose reply the
 * aggregator signed for that very request is applied.  CurveZMQ keeps
 * dialling meanwhile; on a handshake the agent sends it a Hello (again
 * every relay_after while connected) and its first answer there brings
 * the agent back: everything unacknowledged goes again over CurveZMQ.
 * An exchange still under way is let finish; its acks still apply.
 *
 * Threads: not thread-safe.  Call everything from the thread that owns
 * the outbox (the main loop).  The uplink reads the outbox (outbox_iter)
 * and writes acks and drops to it on that same thread.
 */
#ifndef AGENT_UPLINK_H
#define AGENT_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "clock.h"
#include "err.h"
#include "key.h"
#include "outbox.h"
#include "wire.h"

typedef struct uplink uplink_t;

/* A DEALER socket, not connected, with k's CURVE client keys for the
 * aggregator's Ed25519 key server_pk, ZMQ_LINGER 0 and ZMQ_MAXMSGSIZE
 * WIRE_MAX_FRAME: what uplink_new and `zond-agent --enroll` connect.
 * Caller closes it with zmq_close. */
zerr_t uplink_dealer(void *zctx, const uint8_t server_pk[KEY_PUB_LEN],
    const zkey_t *k, void **sock, zdiag_t *d) ZWUR;

/* Called with every test list the aggregator pushes, undecoded and
 * unverified (the callee checks signer, signature, version, expiry). */
typedef void (*uplink_testlist_fn)(const Zond__V1__SignedTestList *tl,
    void *arg);

struct uplink_opts {
	int64_t heartbeat_ms;	/* [uplink] heartbeat; 30000 */
	int64_t window;		/* [uplink] window (in flight); 512 */
	int64_t ack_timeout_ms;	/* first resend timeout; 10000, doubling */
	int64_t backoff_max_ms;	/* cap of both backoffs; 60000 */
	int64_t retry_ms;	/* first delay after a temporary reject; 1000 */
	int64_t reconnect_ms;	/* ZMQ_RECONNECT_IVL; 1000 */
	int64_t reconnect_max_ms;	/* ZMQ_RECONNECT_IVL_MAX; 60000 */
	const char *agent_version;	/* NULL: ZOND_VERSION */
	uint64_t list_version;	/* test list in use (also settable) */
	uplink_testlist_fn on_test_list;	/* NULL: lists are ignored */
	void *arg;
	struct aclock *clock;	/* learns Downlink.server_us; NULL: none */
	/* HTTPS relays (relay.h), for when CurveZMQ fails */
	const char *relays;	/* [uplink] relays, comma-separated; NULL/"": none */
	int64_t relay_after_ms;	/* [uplink] relay_after; 60000 */
	const char *relay_ca_file;	/* [uplink] relay_ca_file; NULL: system */
	int64_t relay_timeout_ms;	/* [uplink] relay_timeout; 30000 */
};

struct uplink_stats {
	bool connected;		/* CURVE handshake done, no disconnect since */
	uint64_t connects;	/* handshakes that succeeded */
	uint64_t inflight;	/* sent, neither acked nor refused yet */
	uint64_t sent;		/* measurements sent, resends included */
	uint64_t batches;
	uint64_t acked;		/* acks received for stored items */
	uint64_t dropped;	/* permanent rejects applied */
	uint64_t deferred;	/* temporary rejects (kept, resent later) */
	uint64_t resends;	/* timeouts that rewound the stream */
	uint64_t bad_frames;	/* downlink frames refused */
	uint64_t unnamed;	/* permanent rejects naming no seq */
	uint64_t oversized;	/* our frames refused as too large */
	uint64_t frame_budget;	/* bytes a batch frame may have now */
	uint64_t heartbeats;
	bool via_relay;		/* sending through the HTTPS relays now */
	uint64_t relay_switches;	/* CurveZMQ failed: to the relays */
	uint64_t zmq_returns;	/* CurveZMQ worked again: back to it */
	uint64_t relay_requests;	/* HTTPS exchanges started */
	uint64_t relay_ok;	/* verified replies applied */
	uint64_t relay_failed;	/* no answer, HTTP error or bad reply */
	uint64_t relay_bad_replies;	/* replies that did not verify */
};

/* Fill o with the defaults above. */
void uplink_opts_default(struct uplink_opts *o);

/*
 * Create the DEALER in zctx and connect it to endpoint.  server_pk is the
 * aggregator's Ed25519 identity (identity.pub), converted here to its CURVE
 * key; the client CURVE pair comes from k.  k, ob and zctx must outlive
 * the uplink; o is copied (agent_version must stay valid).  Caller frees
 * with uplink_free.
 */
zerr_t uplink_new(void *zctx, const char *endpoint,
    const uint8_t server_pk[KEY_PUB_LEN], const zkey_t *k, outbox_t *ob,
    const struct uplink_opts *o, uplink_t **out, zdiag_t *d) ZWUR;
/* Close the sockets (linger 0; the outbox keeps everything unacked);
 * accepts NULL and clears *u. */
void uplink_free(uplink_t **u);

/*
 * Fill items (capacity n, at least UPLINK_POLLITEMS) with the sockets to
 * poll for ZMQ_POLLIN (and the relay worker's fd when relays are set);
 * returns how many.  They stay the same for the uplink's life.
 */
#define UPLINK_POLLITEMS 3
size_t uplink_pollitems(uplink_t *u, zmq_pollitem_t *items, size_t n);

/*
 * Read everything waiting, without blocking: connection events, Acks
 * (applied to the outbox), Rejects, test lists.  now_us is CLOCK_MONOTONIC
 * (ztime_mono_us).  Bad frames are counted and logged, never fatal; an
 * error comes back only when the outbox could not be written (the items
 * stay and are acknowledged again after the resend).
 */
zerr_t uplink_handle(uplink_t *u, int64_t now_us, zdiag_t *d) ZWUR;

/*
 * The periodic work, at most once per loop iteration:
 *   - after a (re)connection: Hello, and rewind to resend all unacked;
 *   - heartbeat when due;
 *   - resend timeout: nothing acknowledged for the current timeout while
 *     measurements are in flight -> rewind, timeout doubles (capped);
 *   - after a temporary reject, wait the retry delay (doubling), rewind;
 *   - send batches from the outbox while connected and the window allows.
 */
zerr_t uplink_tick(uplink_t *u, int64_t now_us, zdiag_t *d) ZWUR;

/* Milliseconds until uplink_tick has timed work (for zmq_poll), >= 0;
 * -1 when it has none.  Sending new outbox items needs no timer: call
 * uplink_tick after outbox_put. */
long uplink_timeout_ms(const uplink_t *u, int64_t now_us);

/* Test list version to report in Hello and Heartbeat. */
void uplink_set_list_version(uplink_t *u, uint64_t v);

void uplink_stats(const uplink_t *u, struct uplink_stats *st);

#endif
