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

#endif
