/*
 * ingest.h — the aggregator's ingest pipeline on the ROUTER socket:
 *
 *   frame in (main thread) -> length/version check, decode Uplink
 *     -> verify job to the worker pool (structure, agent field, Ed25519
 *        signature against the enrolled key, clock window)
 *     -> verified items join the commit group (main thread)
 *     -> one LMDB transaction for the group (store_commit, fsync'd), on
 *        the writer's commit thread (writer.h)
 *     -> Downlink{ack{seqs, rejects}} per batch, only after the commit.
 *
 * Whole-frame errors get a standalone Downlink{reject}.  A frame's sender
 * is the "User-Id" property that the ZAP handler set for its connection;
 * on a connection admitted for enrollment only (zap.h) Uplink.enroll is
 * answered with Downlink{enroll_result} (enroll.h) and anything else is
 * refused with REJECT_UNKNOWN_AGENT.  The HTTPS relay (relay.h) is a
 * second ROUTER whose messages name their agent (checked by the relay):
 * the same pipeline, and exactly one Downlink per relayed Uplink.
 * All functions but the worker threads' run in the main thread; an
 * ingest_t is not shared otherwise.  The ingest is the writer's one group
 * submitter; the writer tells it a group is done through the wake pipe.
 */
#ifndef AGGREGATOR_INGEST_H
#define AGGREGATOR_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "enroll.h"
#include "err.h"
#include "store.h"
#include "writer.h"
#include "zond.pb-c.h"

/* RejectReason values 0..REJECT_DUPLICATE_ID; a newer reason must move
 * this (ingest_new checks it in debug builds) */
#define INGEST_NREASONS (ZOND__V1__REJECT_REASON__REJECT_DUPLICATE_ID + 1)

struct ingest_opts {
	int64_t commit_delay_ms;	/* longest wait before a commit */
	int64_t commit_max;		/* measurements per commit */
	int64_t clock_skew_ms;		/* start may be this far ahead */
	int64_t late_window_ms;		/* start may be this old */
	int verify_threads;		/* worker threads, >= 1 */
	int64_t max_frame;		/* larger frames: REJECT_OVERSIZED */
	bool enroll;			/* [enroll] enabled: tokens admit keys */
};

struct ingest_stats {
	uint64_t frames;		/* ZeroMQ messages received */
	uint64_t hellos, heartbeats;
	uint64_t received;		/* measurements received in batches */
	uint64_t stored;		/* new, committed */
	uint64_t dup;			/* already stored, acknowledged */
	uint64_t rejected[INGEST_NREASONS];	/* by RejectReason */
	uint64_t frame_rejects;		/* standalone Reject sent */
	uint64_t commits;
	uint64_t commit_fail;
	uint64_t commit_us_sum;
	uint64_t commit_us_max;
	uint64_t acks;			/* Ack messages sent */
	uint64_t pending;		/* items waiting for a commit now */
	uint64_t testlist_version;	/* the stored list's, as last read */
	uint64_t testlist_sent;		/* Downlink{test_list} sent */
	uint64_t enroll[ENROLL_NSTATUS];	/* EnrollResult sent, by status */
	uint64_t clock_by_boot;		/* stored, placed by their boot */
	uint64_t clock_unplaced;	/* stored unverified, as signed */
	bool storage_ok;
};

typedef struct ingest ingest_t;

/* router: a bound ROUTER socket (CURVE server, ZAP in place); w: the
 * writer its groups go to (the caller's; free it after the ingest).
 * Starts the worker threads.  Caller frees with ingest_free (after
 * ingest_drain). */
zerr_t ingest_new(const struct ingest_opts *o, store_t *s, writer_t *w,
    void *router, ingest_t **out, zdiag_t *d) ZWUR;
void ingest_free(ingest_t **ig);

/* File descriptor that becomes readable when verified jobs are back or
 * the writer has committed a group. */
int ingest_wake_fd(const ingest_t *ig);
/* False while too much work is queued: stop reading the ROUTER then. */
bool ingest_want_input(const ingest_t *ig);
/* Read and dispatch the messages waiting on the ROUTER (bounded). */
void ingest_on_router(ingest_t *ig);
/* The relay's inproc ROUTER, bound to RELAY_INPROC (relay.h); NULL: no
 * relay.  Its messages are read by ingest_on_relay and each is answered
 * with exactly one Downlink on it. */
void ingest_set_relay(ingest_t *ig, void *relay);
/* Read and dispatch the relay's messages (bounded), as ingest_on_router. */
void ingest_on_relay(ingest_t *ig);
/* Collect verified jobs; commit if the group is full. */
void ingest_on_results(ingest_t *ig);
/* Commit the group if its delay has run out. */
void ingest_tick(ingest_t *ig);
/* Milliseconds until ingest_tick has work; -1: none. */
long ingest_timeout_ms(const ingest_t *ig);
/* Shutdown: wait for every job, commit, acknowledge. */
void ingest_drain(ingest_t *ig);
void ingest_get_stats(const ingest_t *ig, struct ingest_stats *st);
/* Measurements refused from each enrolled agent since the start (its own
 * refusals: not those of storage failing); thread-safe, valid until
 * ingest_free. */
struct agentcount *ingest_rejects(const ingest_t *ig);

#endif
