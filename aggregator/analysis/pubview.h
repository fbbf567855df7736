/*
 * pubview.h — the public view's k rule (docs/API.md "Public view and
 * operator token"), as pure functions over cells and agent counts.
 *
 * A map cell (region, ASN, service) is shown when at least k distinct
 * agents stand behind it (cell.agents).  Region rows are rolled up over
 * all the cells of a region, shown or not (their counts may include
 * hidden cells), but name in blocked_asns only the ASNs of shown cells;
 * a region row of fewer than k agents is not shown: its cells join one
 * row "other" per service, rolled up by the same rule (cells_regions)
 * and naming no ASN.
 *
 * Filters and lists (events, silences, timeseries, history) count the
 * enabled probe agents enrolled with a region and ASN (a pub_agents_t
 * filled from the registry): a network, a region or the whole country is
 * shown when it has at least k.
 *
 * Not thread-safe per object; nothing global.
 */
#ifndef ZOND_PUBVIEW_H
#define ZOND_PUBVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cells.h"
#include "err.h"

#define PUB_OTHER "other"	/* the region of the merged row */

/* Is c shown in a public map with k? */
bool pub_cell_shown(const cell_t *c, uint32_t k);

/*
 * The public map's region rows from all of its cells (see above), sorted
 * by region then service ("other" after every ISO code).  *out is one
 * allocation holding the rows and the ASNs they point to (caller frees
 * *out only); NULL with *nout 0 when there are no cells.
 */
zerr_t pub_regions(const cell_t *cells, size_t n, uint32_t k,
    struct region_row **out, size_t *nout) ZWUR;

/* Agents per (region, ASN). */
typedef struct pub_agents pub_agents_t;

zerr_t pub_agents_new(pub_agents_t **out) ZWUR;
void pub_agents_free(pub_agents_t **p);		/* accepts NULL */
/* Count one agent of region (cut to CELL_REGION_MAX - 1) and asn. */
zerr_t pub_agents_add(pub_agents_t *p, const char *region, int64_t asn)
    ZWUR;
/* Agents of region (NULL: any) and asn (0: any).  O(log n) plus the ASNs
 * of the region, or O(n) for asn alone or neither. */
uint32_t pub_agents_count(pub_agents_t *p, const char *region, int64_t asn);

#endif
