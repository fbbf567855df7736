/*
 * outbox.h — the agent's durable store of signed measurements.
 *
 * Every measurement is written here before it is sent, and deleted only
 * when the aggregator acknowledges it (or refuses it for good).  The outbox
 * is an LMDB environment of its own (a directory, e.g. STATE/outbox) with
 * two named databases: "items" (8-byte big-endian seq -> sig || body, so
 * LMDB's byte order is seq order) and "meta" (counters).
 *
 * Invariants:
 *   - outbox_put returns only after its transaction committed with fsync:
 *     a measurement it accepted survives kill -9 and power loss.
 *   - Sequence numbers are handed out by outbox_next_seq from a persisted
 *     high-water mark reserved in blocks, so they strictly increase across
 *     restarts and crashes; a crash may leave a gap, a number is never
 *     handed out twice.  Items are put in increasing seq order, so the
 *     items database is in put order too.
 *   - "bytes" is the sum of key + value sizes of the stored items.  When a
 *     put takes it over the budget, the oldest items are deleted in the
 *     same transaction and counted in `dropped` (persisted, travels in
 *     Hello and Heartbeat).
 *   - The memory map grows on demand up to a limit (by default twice the
 *     budget plus 2 MiB, at most 1 GiB on 32-bit systems), which bounds
 *     the file on disk (plus 1 MiB that only evictions may use);
 *     MDB_MAP_FULL grows the map or, at the limit, evicts the oldest
 *     eighth (counted in `dropped`) and retries.  A failed grow (no
 *     address space) reopens the environment at the old size and stops
 *     growing.  None of it is a crash.
 *
 * Threads: an outbox_t is NOT thread-safe.  All calls, including the
 * uplink's reads (outbox_iter), happen on the agent's main loop thread;
 * that is also what lets the map grow (LMDB needs no open transaction in
 * the process to resize).  Other processes (zondctl) may open the same
 * environment read-only at the same time.
 */
#ifndef AGENT_OUTBOX_H
#define AGENT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"

#define OUTBOX_MIN_BUDGET (128 * 1024)	/* two largest measurements */
#define OUTBOX_SEQ_BLOCK 1024		/* seqs reserved per fsync */

typedef struct outbox outbox_t;

struct outbox_opts {
	int64_t budget;		/* bytes; >= OUTBOX_MIN_BUDGET */
	int64_t map_init;	/* first map size; 0: 1 MiB */
	int64_t map_max;	/* map size limit; 0: 2 * budget + 2 MiB */
};

/* Counters; dropped, rejected and last_seq are persisted, backlog and
 * bytes derived at open. */
struct outbox_stats {
	uint64_t backlog;	/* measurements waiting for an ACK */
	uint64_t bytes;		/* their key + value bytes */
	uint64_t dropped;	/* evicted unacked (budget, map full), ever */
	uint64_t rejected;	/* refused for good by the aggregator, ever */
	uint64_t last_seq;	/* highest seq ever put */
	int64_t map_size;	/* current LMDB map size */
};

/* One stored measurement, as outbox_iter shows it.  The pointers point
 * into the LMDB map and are valid only during the callback. */
struct outbox_item {
	uint64_t seq;
	const uint8_t *body;	/* the signed Measurement encoding */
	size_t len;
	const uint8_t *sig;	/* KEY_SIG_LEN bytes */
};

/*
 * Open (creating dir with mode 0700 if it does not exist; its parent must)
 * the outbox in dir.  Clears stale reader slots left by a killed process.
 * Caller frees with outbox_close.
 */
zerr_t outbox_open(const char *dir, int64_t budget, outbox_t **out,
    zdiag_t *d) ZWUR;
zerr_t outbox_open_opts(const char *dir, const struct outbox_opts *o,
    outbox_t **out, zdiag_t *d) ZWUR;
/* Close and clear *ob; accepts NULL.  Gives back the unused part of the
 * reserved seq block, so a clean restart leaves no gap. */
void outbox_close(outbox_t **ob);

/* Next sequence number (> every seq handed out before, in this or any
 * earlier run).  Fails only when the reservation cannot be written. */
zerr_t outbox_next_seq(outbox_t *ob, uint64_t *seq, zdiag_t *d) ZWUR;

/*
 * Store one signed measurement under seq, durably (committed and synced
 * when ZE_OK comes back).  seq must come from outbox_next_seq and be above
 * every seq put before (ZE_INVAL otherwise); n must be 1..64 KiB
 * (ZE_TOOBIG).  May evict the oldest items to honour the budget.
 */
zerr_t outbox_put(outbox_t *ob, uint64_t seq, const uint8_t *body, size_t n,
    const uint8_t sig[KEY_SIG_LEN], zdiag_t *d) ZWUR;

/*
 * Call fn for each stored item with seq >= from, in seq order, at most max
 * of them, within one read transaction.  fn returns 0 to go on, non-zero
 * to stop; it must not call other outbox functions (a map resize would
 * pull the pages from under it).  *count (may be NULL) gets the number of
 * calls made.
 */
typedef int (*outbox_iter_fn)(const struct outbox_item *it, void *arg);
zerr_t outbox_iter(outbox_t *ob, uint64_t from, size_t max,
    outbox_iter_fn fn, void *arg, size_t *count, zdiag_t *d) ZWUR;

/* Copy of the oldest item with seq >= from (ZE_NOTFOUND when none); body
 * points into buf (capacity cap) — ZE_TOOBIG if it does not fit. */
zerr_t outbox_peek(outbox_t *ob, uint64_t from, uint64_t *seq,
    uint8_t *buf, size_t cap, size_t *len, uint8_t sig[KEY_SIG_LEN],
    zdiag_t *d) ZWUR;

/* Delete acknowledged items, in one synced transaction.  Seqs not stored
 * (acked before, evicted) are ignored; *deleted (may be NULL) counts the
 * others. */
zerr_t outbox_ack(outbox_t *ob, const uint64_t *seqs, size_t n,
    size_t *deleted, zdiag_t *d) ZWUR;

/* Delete items the aggregator refused for good and count them in
 * `rejected`; reason goes to the log.  Seqs not stored are ignored. */
zerr_t outbox_drop(outbox_t *ob, const uint64_t *seqs, size_t n,
    const char *reason, size_t *deleted, zdiag_t *d) ZWUR;

/* Current counters (from memory; no I/O). */
void outbox_stats(const outbox_t *ob, struct outbox_stats *st);

#endif
