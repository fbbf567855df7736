/*
 * writer.h — the aggregator's single LMDB writer: one commit thread
 * (named zond-commit) that main creates and hands to the ingest and the
 * analyzer, so that every write of the daemon is one transaction at a
 * time and the analyzer's writes share the ingest's fsync.
 *
 *   - The ingest submits a group (writer_submit): measurements and
 *     status updates for store_commit, or an agent-record flush.  The
 *     group's memory stays the submitter's; the commit thread reads and
 *     writes it only between writer_submit and the group's `done` call.
 *   - Other threads (the analyzer) hand extra writes to writer_apply; they
 *     ride inside the next group's transaction, or go alone when no group
 *     waits.
 *
 * Invariants:
 *  - At most one group is held at a time: writer_submit only in state
 *    WRITER_IDLE; the state goes IDLE -> QUEUED (writer_submit, the
 *    submitter) -> DONE (the commit thread, after the commit) -> IDLE
 *    (writer_reap, the submitter).  Groups are committed in order.
 *  - A group's result (e, d, t0, us) is set before its state becomes
 *    DONE; its `done` callback runs then, on the commit thread, before
 *    writer_wait returns.
 *  - A failure of an extra write never fails a group: the group is
 *    committed again without it.
 *  - Agent records lag (store_agents_defer) while the writer runs; on
 *    writer_free they are written and the lag ends.
 *
 * Threads: writer_submit, writer_reap, writer_state and writer_wait are
 * for one submitting thread (the ingest's, main); writer_apply is
 * thread-safe; writer_new and writer_free run in main.
 */
#ifndef AGGREGATOR_WRITER_H
#define AGGREGATOR_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

typedef struct writer writer_t;

enum writer_state { WRITER_IDLE = 0, WRITER_QUEUED, WRITER_DONE };

/* One group for the commit thread, owned by the submitter. */
struct writer_group {
	/* in: store_commit's arguments, or flush (store_agents_flush; an
	 * extra write is then committed on its own right after it) */
	const struct store_meas_in *min;
	size_t n;
	enum store_put *res;		/* n results */
	const struct store_seen *seen;
	size_t nseen;
	bool flush;
	/* called on the commit thread once the group is DONE, under the
	 * writer's lock: it must not block nor call writer functions (the
	 * ingest writes to its wake pipe) */
	void (*done)(void *arg);
	void *done_arg;
	/* out */
	zerr_t e;
	zdiag_t d;
	int64_t t0, us;			/* monotonic start, duration */
};

/* Start the commit thread on s (and let agent records lag).  Caller frees
 * with writer_free. */
zerr_t writer_new(store_t *s, writer_t **out, zdiag_t *d) ZWUR;
/* Commit a group still queued, stop the thread, write the lagging agent
 * records.  Free the ingest and stop the analyzer first. */
void writer_free(writer_t **w);

/* Hand g over (state must be WRITER_IDLE). */
void writer_submit(writer_t *w, struct writer_group *g);
enum writer_state writer_state(writer_t *w);
/* The group when it is DONE (the state becomes IDLE); NULL otherwise. */
struct writer_group *writer_reap(writer_t *w);
/* Wait while a group is QUEUED. */
void writer_wait(writer_t *w);

/* Commit x (store_commit_with) on the commit thread, inside the next
 * group's transaction or alone when none is waiting, and wait for it.
 * Thread-safe; one at a time. */
zerr_t writer_apply(writer_t *w, const struct store_extra *x, zdiag_t *d)
    ZWUR;

#endif
