/*
 * rollup.h — the analyzer: judges stored measurements as their control
 * data arrives and keeps incremental roll-ups in LMDB, so a map reads
 * O(cells x hours) records and never scans measurements.
 *
 * Life of a measurement (docs/METHODOLOGY.md "Incremental roll-ups"):
 *   1. store_commit puts it in `todo` (and a control one in `ctl`);
 *   2. a round judges it against the control measurements of the same
 *      (test, target) within +-window; pending (no control yet) stays in
 *      todo without being decoded again until a control arrives;
 *   3. judged before its control window closed (start + window + settle),
 *      it is counted at once and kept in `open`; when the window closes it
 *      is judged again with every control of the window and the roll-up
 *      corrected if the verdict changed; judged after, it is final;
 *   4. a measurement still pending when its window closes gets its
 *      `expire_to` verdict (verdict.h).
 * Roll-ups are cell accumulators (cells.h) per (hour of the start time,
 * service, region, ASN).  After each change the cell's state in that hour
 * is judged; a state differing from the cell's previous judged hour is an
 * event (events.h), stored and, when the webhook is on and the event is
 * recent, queued for it.
 *
 * Every round is one read transaction (judging) and one write transaction
 * (applying), which checks that each entry is still where it was read, so
 * two analyzers (the aggregator and `zondctl reanalyze`) never count a
 * measurement twice.  Functions are thread-safe for distinct calls.
 */
#ifndef AGGREGATOR_ROLLUP_H
#define AGGREGATOR_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "cells.h"
#include "events.h"
#include "regime.h"
#include "store.h"
#include "verdict.h"

struct rollup_opts {
	int64_t window_us;	/* control measurements within +- this */
	int64_t settle_us;	/* window closes at start + window + this */
	size_t batch;		/* entries per round (2000) */
	bool hook;		/* queue new events for the webhook */
	int64_t hook_max_age_us;/* only events of hours newer than this */
	struct verdict_opts v;
	struct cell_opts c;
	/* QUIC siblings: at most this many of the agent's measurements are
	 * walked in each direction of its sequence (ROLLUP_SIB_WALK), so a
	 * burst of n measurements costs O(n), not O(n^2)
	 * (docs/METHODOLOGY.md "Controls in the window") */
	size_t sib_walk;
	/* shutdowns seen from silence (rollup_silence; sil.after_us 0:
	 * off; sil.min_agents is c.regime_min_agents) */
	struct regime_silence_opts sil;
	/* apply a round's writes through this (the aggregator: its one
	 * writer, writer_apply); NULL: a write transaction of its own */
	zerr_t (*write)(void *ctx, const struct store_extra *x, zdiag_t *d);
	void *write_ctx;
};

#define ROLLUP_SIB_WALK 1024

struct rollup_stats {
	uint64_t rounds;
	uint64_t judged;	/* counted for the first time */
	uint64_t settled;	/* judged again when their window closed */
	uint64_t changed;	/* of which the verdict changed */
	uint64_t expired;	/* pending when the window closed */
	uint64_t controls;	/* control measurements taken off todo */
	uint64_t events;	/* events written */
	uint64_t hooked;	/* events queued for the webhook */
	uint64_t sib_walked;	/* measurements walked for QUIC siblings */
};

void rollup_opts_default(struct rollup_opts *o);

/* One round at time now: judge up to o->batch todo entries and settle up
 * to o->batch open ones.  *more: a full batch was seen, call again. */
zerr_t rollup_round(store_t *s, const struct rollup_opts *o, int64_t now_us,
    struct rollup_stats *st, bool *more, zdiag_t *d) ZWUR;

/* Rounds until no batch is full (what is left waits for control data or
 * for its window to close). */
zerr_t rollup_drain(store_t *s, const struct rollup_opts *o,
    int64_t now_us, struct rollup_stats *st, zdiag_t *d) ZWUR;

/* Forget every judgment and roll-up and queue every stored measurement
 * again (todo, ctl).  *n: measurements queued.  Events are rebuilt by the
 * following rounds; the webhook queue is kept.  Safe while ingest commits
 * (each measurement is queued once, by ingest or by the refill) and
 * beside a running analyzer; a second reset of the same store stops the
 * first with an error.  _chunked: measurements per write transaction
 * (rollup_reset: ROLLUP_RESET_CHUNK, about 10 ms of ingest waiting each);
 * progress (may be NULL) is called after each
 * chunk's commit with the measurements queued so far. */
#define ROLLUP_RESET_CHUNK 4000
zerr_t rollup_reset(store_t *s, uint64_t *n, zdiag_t *d) ZWUR;
zerr_t rollup_reset_chunked(store_t *s, size_t chunk,
    void (*progress)(uint64_t queued, void *arg), void *arg, uint64_t *n,
    zdiag_t *d) ZWUR;

/*
 * Shutdowns seen from silence (docs/METHODOLOGY.md §3.8 "Silence"): for
 * each region and ASN of enabled probe agents, regime_silent over their
 * stored heartbeat times (store_beats_get) at now.  A network that fell
 * silent opens a period (store "silence", from the earliest last
 * heartbeat of the silent group); an open one is closed at the first
 * heartbeat after the silence of one of them once it no longer is
 * silent.  The service cells of that network get `shutdown` for the
 * hours of the period in which they have no measurements (and, while it
 * is open, the hour that is not over), with their events: the hours from
 * its start to now when it opens, all of its hours again when it ends
 * (nothing is written while it lasts: an hour without a state makes no
 * event, so the shutdown stays the cell's last state).  One read
 * transaction for every agent's beats and the open periods.  No period is opened within
 * sil.after_us + sil.spread_us of up_us (the aggregator's start: its own
 * absence looks like everyone's silence), nor when more than half of at
 * least 3 networks fall silent at once (the aggregator's own link; a
 * warning is logged).  *opened, *closed (may be NULL): periods changed.
 */
zerr_t rollup_silence(store_t *s, const struct rollup_opts *o,
    int64_t now_us, int64_t up_us, struct rollup_stats *st,
    uint32_t *opened, uint32_t *closed, zdiag_t *d) ZWUR;

/* The hours of every stored silence period judged again (after
 * rollup_reset and a drain: `zondctl reanalyze`), so a reanalysis keeps
 * the shutdown states and events that only the silence made. */
zerr_t rollup_silence_replay(store_t *s, const struct rollup_opts *o,
    int64_t now_us, struct rollup_stats *st, zdiag_t *d) ZWUR;

/* Measurements not judged yet (waiting for control data). */
zerr_t rollup_waiting(store_t *s, uint64_t *n, zdiag_t *d) ZWUR;

/* Reset when the store predates the analyzer or its derived layout (meta
 * "analysis" unset or older). */
zerr_t rollup_prepare(store_t *s, zdiag_t *d) ZWUR;

/*
 * The cells of [since, until) read from the roll-ups: whole hours, since
 * rounded down and until up.  service NULL: all; "S/calls" or
 * "S/messaging": that part of S only (ZE_INVAL for another suffix).
 * Beside each cell with sub-rows of both parts come its part cells "S/calls"
 * and "S/messaging" (cell_judge_map).  *cells sorted by region, ASN,
 * service (free with rollup_cells_free); *pending: measurements of the
 * range not judged yet.
 */
zerr_t rollup_map(store_t *s, int64_t since_us, int64_t until_us,
    const char *service, const struct cell_opts *c, cell_t **cells,
    size_t *n, uint64_t *pending, zdiag_t *d) ZWUR;
/* rollup_map over the agents of one network type (network: an enum
 * store_network; -1: all, as rollup_map): each cell keeps only those
 * agents' measurements (cell_acc_keep_agents) before it is judged, so
 * its verdict, regime included, is that network's alone; a cell left
 * without any is not in the map (docs/API.md "network"). */
zerr_t rollup_map_net(store_t *s, int64_t since_us, int64_t until_us,
    const char *service, int network, const struct cell_opts *c,
    cell_t **cells, size_t *n, uint64_t *pending, zdiag_t *d) ZWUR;
/* rollup_map_net of one region's cells only (region not NULL): the other
 * regions' roll-ups are not read, so it costs what that region's share of
 * the map does.  Part cells ("S/calls") follow from the region's own cells
 * (a service whose calls tests run only elsewhere gets none here). */
zerr_t rollup_map_region(store_t *s, int64_t since_us, int64_t until_us,
    const char *service, int network, const char *region,
    const struct cell_opts *c, cell_t **cells, size_t *n, uint64_t *pending,
    zdiag_t *d) ZWUR;
void rollup_cells_free(cell_t *cells, size_t n);

/* The hour states of the cells of one service (of one region, and ASN
 * when asn > 0) over the hours of [since, until): counts[h][v] cells in
 * state v at hour h - hour(since), for nhours hours from since's hour
 * (counts zeroed by the caller).  From the stored hour states, so its cost
 * is one step per judged cell hour of the range, whatever is stored
 * beside. */
zerr_t rollup_history(store_t *s, const char *service, const char *region,
    uint32_t asn, int64_t since_us, size_t nhours,
    uint32_t (*counts)[CELL__COUNT], zdiag_t *d) ZWUR;

/* Stored events of the hours of [since, until) in time order. */
typedef int (*rollup_event_fn)(const event_t *ev, void *arg);
zerr_t rollup_events(store_t *s, int64_t since_us, int64_t until_us,
    rollup_event_fn fn, void *arg, zdiag_t *d) ZWUR;

#endif
