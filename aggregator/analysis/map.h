/*
 * map.h — the map document of INTERFACES.md ("Map document") from judged
 * cells: since, until, cells[] with their targets[], regions[] (the
 * roll-ups of cells_regions).  GET /api/v1/map and `zondctl map --json`
 * both print exactly this.
 *
 * Pure: appends to a zbuf (ZE_TOOBIG at its cap, the buffer then holds a
 * partial document the caller discards).  Cells are written sorted by
 * region, ASN, service whatever their order in the input; targets in
 * their cell's order.  Shares and confidences have three decimals.
 * pending non-NULL adds "pending": measurements of the range not judged
 * yet (the aggregator's roll-ups; waiting for control data).
 * Blocked and throttled cells add where, where_counts and where_hops; a
 * cell or region row with both parts adds facets (docs/API.md); part
 * cells ("S/calls") are cells like others, made by cell_judge_map.
 */
#ifndef ZOND_MAP_H
#define ZOND_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cells.h"
#include "zbuf.h"

/* The map document's range keys, "since":"T","until":"T" (what map_json
 * writes after its opening brace), and the text that follows them: a map
 * document of another range is the one of its own range with these keys
 * rewritten (the public view's cache, aggregator/http_ep.c). */
zerr_t map_json_range(zbuf_t *b, int64_t since_us, int64_t until_us) ZWUR;
#define MAP_JSON_CELLS ",\"cells\":["

zerr_t map_json(zbuf_t *b, int64_t since_us, int64_t until_us,
    const cell_t *cells, size_t n, const uint64_t *pending) ZWUR;
/* The same document in the public view with k (pubview.h): only the cells
 * of at least k agents, no "agent_anomalies" lists (agent keys), region
 * rows of pub_regions ("other" merged, no ASN of a hidden cell). */
zerr_t map_json_public(zbuf_t *b, int64_t since_us, int64_t until_us,
    const cell_t *cells, size_t n, const uint64_t *pending, uint32_t k) ZWUR;

/* What a map document shows (GET /api/v1/map's region and cells
 * parameters, and the public view): every cell and region row by default
 * (all zero). */
struct map_view {
	bool pub;		/* the public view with k (as map_json_public) */
	uint32_t k;
	bool no_cells;		/* "cells": [] (region rows alone, still judged
				 * from every cell) */
	const char *region;	/* non-NULL: only this region's cells and
				 * rows (the rows made from every cell, so the
				 * public "other" merge is the same) */
};
zerr_t map_json_view(zbuf_t *b, int64_t since_us, int64_t until_us,
    const cell_t *cells, size_t n, const uint64_t *pending,
    const struct map_view *mv) ZWUR;

#endif
