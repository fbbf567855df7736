/*
 * regime.h — network regimes of a cell (docs/METHODOLOGY.md "Regimes"):
 * a whitelist (domestic references reachable, foreign ones not) or a
 * shutdown (the domestic references fail too), read from the cells of the
 * two reference services of the same region, ASN and window.  Inside a
 * regime a service cell that fails says `whitelist` or `shutdown`, never
 * `blocked`: the network is closed, not the service singled out.
 *
 * The references are evidence, never services of their own on the map
 * (regime_is_reference).  Pure and thread-safe.
 */
#ifndef ZOND_REGIME_H
#define ZOND_REGIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cells.h"

/* The service names of the reference rows (docs/TARGETS.md). */
#define REGIME_DOMESTIC "reference-domestic"
#define REGIME_FOREIGN "reference-foreign"

typedef enum regime {
	REGIME_NONE = 0,	/* open, or not enough evidence */
	REGIME_WHITELIST,
	REGIME_SHUTDOWN,
} regime_t;

/* Whether service (or a part "S/calls") is one of the references. */
bool regime_is_reference(const char *service);

/*
 * The regime of a cell's region and ASN from the judged cells of its
 * references in the same window (NULL: none measured).  min_agents: each
 * reference cell that counts needs at least this many agents (0: regimes
 * off, always NONE).  Rules:
 *   - whitelist: the domestic cell is ok and the foreign cell is blocked
 *     or down;
 *   - shutdown: the domestic cell is blocked or down and the foreign one
 *     too (or not measured);
 *   - else none.
 */
regime_t regime_of(const cell_t *domestic, const cell_t *foreign,
    uint32_t min_agents);

/* A service cell's verdict inside regime r: a failing verdict (blocked,
 * throttled, down, filtered, geoblocked, review, partial) becomes
 * CELL_WHITELIST or CELL_SHUTDOWN; ok (the service is on the list) and
 * insufficient stay. */
cell_verdict_t regime_apply(regime_t r, cell_verdict_t v);

/*
 * The map's cells with regimes applied: for each (region, ASN) of cells
 * (any order) the regime of its reference cells is applied to its other
 * cells (method cleared, where counts kept); then the reference cells are
 * removed unless keep_refs, the rest keeping their order.  *n is updated;
 * removed cells are cleared (cell_clear).  O(n log n).
 */
zerr_t regime_cells(cell_t *cells, size_t *n, uint32_t min_agents,
    bool keep_refs) ZWUR;

/*
 * Silence as evidence of a shutdown (docs/METHODOLOGY.md §3.8 "Silence"):
 * the heartbeat times the aggregator saw from each agent of one region
 * and ASN, and the thresholds.  An agent counts when its heartbeats had
 * been regular (at least min_beats, no gap longer than twice their
 * median) and it has now been silent for longer than max(after_us, three
 * median gaps); a shutdown needs at least min_agents such agents whose
 * last heartbeats lie within spread_us of each other.  One agent's
 * silence is that agent being offline, never a shutdown.
 */
struct regime_silence_opts {
	uint32_t min_agents;	/* 2 */
	uint32_t min_beats;	/* 5 */
	int64_t after_us;	/* 3 min */
	int64_t spread_us;	/* 5 min */
};

struct regime_beats {
	const int64_t *t;	/* heartbeat times, ascending */
	size_t n;
};

void regime_silence_default(struct regime_silence_opts *o);

/* Whether the agents a[0..n) fell silent together at now; *since (may be
 * NULL) gets the earliest last heartbeat of the silent group, *agents
 * (may be NULL) its size.  O(sum of n log n). */
bool regime_silent(const struct regime_beats *a, size_t n, int64_t now_us,
    const struct regime_silence_opts *o, int64_t *since, uint32_t *agents);

#endif
