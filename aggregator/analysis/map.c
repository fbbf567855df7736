/*
 * map.c — see map.h.  Invariant: every string goes through json_cstr (so
 * hostile target names stay valid JSON); numbers are printed from
 * integers or clamped doubles, never NaN or infinity.
 */
#include "map.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pubview.h"
#include "wire.h"
#include "ztime.h"

#define TRY(x) do { zerr_t e_ = (x); if (e_ != ZE_OK) return e_; } while (0)

/* A share in [0, 1] with three decimals and at least one: "1.0", "0.95". */
static zerr_t
put_share(zbuf_t *b, double v)
{
	char t[16];
	int n;

	if (!(v >= 0))		/* NaN too */
		v = 0;
	if (v > 1)
		v = 1;
	n = snprintf(t, sizeof(t), "%.3f", v);
	if (n <= 0 || (size_t)n >= sizeof(t))
		return ZE_RANGE;
	while (n > 3 && t[n - 1] == '0' && t[n - 2] != '.')
		t[--n] = '\0';
	return zbuf_puts(b, t);
}

static zerr_t
put_key(zbuf_t *b, const char *k, const char *v, bool first)
{
	if (!first)
		TRY(zbuf_putc(b, ','));
	TRY(json_cstr(b, k));
	TRY(zbuf_putc(b, ':'));
	return json_cstr(b, v);
}

/* ,"facets":{"calls":V,"messaging":V} */
static zerr_t
put_facets(zbuf_t *b, const cell_verdict_t f[2])
{
	TRY(zbuf_puts(b, ",\"facets\":{"));
	TRY(put_key(b, "calls", cell_verdict_name(f[0]), true));
	TRY(put_key(b, "messaging", cell_verdict_name(f[1]), false));
	return zbuf_putc(b, '}');
}

/* One cell object (as inside "cells"); pub: without the list of
 * agent_anomalies (agent keys). */
static zerr_t
cell_json(zbuf_t *b, const cell_t *c, bool pub)
{
	size_t i;

	TRY(put_key(b, "region", c->region, true));
	TRY(zbuf_printf(b, ",\"asn\":%" PRId64, c->asn));
	TRY(put_key(b, "service", c->service, false));
	TRY(put_key(b, "verdict", cell_verdict_name(c->verdict), false));
	TRY(put_key(b, "method", method_name(c->method), false));
	TRY(zbuf_printf(b, ",\"measurements\":%" PRIu32 ",\"agents\":%"
	    PRIu32 ",\"blocked_share\":", c->measurements, c->agents));
	TRY(put_share(b, c->blocked_share));
	TRY(zbuf_puts(b, ",\"confidence\":"));
	TRY(put_share(b, c->confidence));
	if (c->verdict == CELL_BLOCKED || c->verdict == CELL_THROTTLED) {
		bool first = true;

		TRY(put_key(b, "where", cell_where_name(c->where), false));
		TRY(zbuf_printf(b, ",\"where_counts\":{\"isp\":%" PRIu32
		    ",\"upstream\":%" PRIu32 ",\"unknown\":%" PRIu32
		    "},\"where_hops\":[", c->where_n[CELL_WHERE_ISP],
		    c->where_n[CELL_WHERE_UPSTREAM],
		    c->where_n[CELL_WHERE_UNKNOWN]));
		for (i = 1; i <= CELL_HOP_MAX; i++) {
			if (c->hops[i] == 0)
				continue;
			TRY(zbuf_printf(b, "%s{\"hop\":%zu,\"count\":%" PRIu32
			    "}", first ? "" : ",", i, c->hops[i]));
			first = false;
		}
		TRY(zbuf_putc(b, ']'));
	}
	if (c->has_facets)
		TRY(put_facets(b, c->facet));
	TRY(zbuf_printf(b, ",\"agent_anomaly\":%" PRIu32, c->agent_anomaly));
	if (!pub)
		TRY(zbuf_puts(b, ",\"agent_anomalies\":["));
	for (i = 0; !pub && i < c->agent_anomaly; i++) {
		TRY(zbuf_puts(b, i ? ",{\"agent\":" : "{\"agent\":"));
		TRY(json_hex(b, c->anomalies[i].agent,
		    sizeof(c->anomalies[i].agent)));
		TRY(zbuf_puts(b, ",\"share\":"));
		TRY(put_share(b, c->anomalies[i].share));
		TRY(zbuf_putc(b, '}'));
	}
	TRY(zbuf_puts(b, pub ? ",\"targets\":[" : "],\"targets\":["));
	for (i = 0; i < c->ntargets; i++) {
		const struct cell_row *r = &c->targets[i];
		TRY(zbuf_puts(b, i ? ",{" : "{"));
		TRY(put_key(b, "target", r->target, true));
		TRY(put_key(b, "test", wire_test_name(r->test), false));
		if (r->variant[0] != '\0')
			TRY(put_key(b, "variant", r->variant, false));
		TRY(put_key(b, "verdict", cell_verdict_name(r->verdict),
		    false));
		TRY(put_key(b, "method", method_name(r->method), false));
		TRY(zbuf_printf(b, ",\"measurements\":%" PRIu32
		    ",\"agents\":%" PRIu32 ",\"agent_anomaly\":%" PRIu32 "}",
		    r->measurements, r->agents, r->agent_anomaly));
	}
	TRY(zbuf_putc(b, ']'));
	return ZE_OK;
}

static int
rrkey_cmp(const void *k, const void *x)
{
	const struct region_row *a = k, *b = x;
	int c;

	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	return strcmp(a->service, b->service);
}

/* A region row "S" gets the verdicts of the rows "S/calls" and
 * "S/messaging" of its region when both are there (rr is sorted by
 * region, service: one binary search each). */
static void
regions_facets(struct region_row *rr, size_t nr)
{
	static const char *const part[2] = {"calls", "messaging"};
	struct region_row key;
	const struct region_row *f[2];
	size_t i, k;

	for (i = 0; i < nr; i++) {
		if (strchr(rr[i].service, '/') != NULL)
			continue;
		memcpy(key.region, rr[i].region, sizeof(key.region));
		for (k = 0; k < 2; k++) {
			f[k] = NULL;
			if ((size_t)snprintf(key.service, sizeof(key.service),
			    "%s/%s", rr[i].service, part[k]) <
			    sizeof(key.service))
				f[k] = bsearch(&key, rr, nr, sizeof(*rr),
				    rrkey_cmp);
		}
		if (f[0] == NULL || f[1] == NULL)
			continue;
		rr[i].has_facets = true;
		rr[i].facet[0] = f[0]->verdict;
		rr[i].facet[1] = f[1]->verdict;
	}
}

zerr_t
map_json_range(zbuf_t *b, int64_t since_us, int64_t until_us)
{
	char ts[32];

	TRY(put_key(b, "since", ztime_fmt_iso(since_us, ts, sizeof(ts), 0),
	    true));
	return put_key(b, "until", ztime_fmt_iso(until_us, ts, sizeof(ts), 0),
	    false);
}

static zerr_t
map_body(zbuf_t *b, int64_t since_us, int64_t until_us, const cell_t **v,
    size_t n, const struct region_row *rr, size_t nr, bool pub)
{
	size_t i, j;

	TRY(map_json_range(b, since_us, until_us));
	TRY(zbuf_puts(b, MAP_JSON_CELLS));
	for (i = 0; i < n; i++) {
		TRY(zbuf_puts(b, i ? ",{" : "{"));
		TRY(cell_json(b, v[i], pub));
		TRY(zbuf_putc(b, '}'));
	}
	TRY(zbuf_puts(b, "],\"regions\":["));
	for (i = 0; i < nr; i++) {
		TRY(zbuf_puts(b, i ? ",{" : "{"));
		TRY(put_key(b, "region", rr[i].region, true));
		TRY(put_key(b, "service", rr[i].service, false));
		TRY(put_key(b, "verdict", cell_verdict_name(rr[i].verdict),
		    false));
		TRY(put_key(b, "method", method_name(rr[i].method), false));
		TRY(zbuf_puts(b, ",\"confidence\":"));
		TRY(put_share(b, rr[i].confidence));
		TRY(zbuf_printf(b, ",\"agents\":%" PRIu32 ",\"asns\":%"
		    PRIu32 ",\"asns_blocked\":%" PRIu32 ",\"blocked_asns\":[",
		    rr[i].agents, rr[i].asns, rr[i].asns_blocked));
		for (j = 0; j < rr[i].nblocked_asns; j++)
			TRY(zbuf_printf(b, j ? ",%" PRId64 : "%" PRId64,
			    rr[i].blocked_asns[j]));
		TRY(zbuf_printf(b, "],\"agent_anomaly\":%" PRIu32,
		    rr[i].agent_anomaly));
		if (rr[i].asns_blocked > 0)
			TRY(put_key(b, "where", cell_where_name(rr[i].where),
			    false));
		if (rr[i].has_facets)
			TRY(put_facets(b, rr[i].facet));
		TRY(zbuf_putc(b, '}'));
	}
	return zbuf_puts(b, "]");
}

/* map_json (pub false) and map_json_public (pub, with k). */
static zerr_t
map_doc(zbuf_t *b, int64_t since_us, int64_t until_us, const cell_t *cells,
    size_t n, const uint64_t *pending, const struct map_view *mv)
{
	const cell_t **v = NULL;
	struct region_row *rr = NULL;
	size_t i, nv = 0, nr = 0, nk;
	bool pub = mv->pub;
	uint32_t k = mv->k;
	zerr_t e;

	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		return ZE_NOMEM;
	for (i = 0; i < n && !mv->no_cells; i++)
		if ((!pub || pub_cell_shown(&cells[i], k)) &&
		    (mv->region == NULL || strcmp(cells[i].region,
		    mv->region) == 0))
			v[nv++] = &cells[i];
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cell_ptr_cmp);
	if ((e = pub ? pub_regions(cells, n, k, &rr, &nr) :
	    cells_regions(cells, n, &rr, &nr)) != ZE_OK)
		goto out;
	regions_facets(rr, nr);
	/* one region's rows: kept in their order */
	for (i = nk = 0; i < nr && mv->region != NULL; i++)
		if (strcmp(rr[i].region, mv->region) == 0)
			rr[nk++] = rr[i];
	if (mv->region != NULL)
		nr = nk;
	if ((e = zbuf_putc(b, '{')) != ZE_OK)
		goto out;
	if ((e = map_body(b, since_us, until_us, v, nv, rr, nr, pub)) != ZE_OK)
		goto out;
	if (pending != NULL && (e = zbuf_printf(b, ",\"pending\":%" PRIu64,
	    *pending)) != ZE_OK)
		goto out;
	e = zbuf_putc(b, '}');
out:
	free(v);
	free(rr);
	return e;
}

zerr_t
map_json(zbuf_t *b, int64_t since_us, int64_t until_us, const cell_t *cells,
    size_t n, const uint64_t *pending)
{
	struct map_view mv = {0};

	return map_doc(b, since_us, until_us, cells, n, pending, &mv);
}

zerr_t
map_json_public(zbuf_t *b, int64_t since_us, int64_t until_us,
    const cell_t *cells, size_t n, const uint64_t *pending, uint32_t k)
{
	struct map_view mv = {.pub = true, .k = k};

	return map_doc(b, since_us, until_us, cells, n, pending, &mv);
}

zerr_t
map_json_view(zbuf_t *b, int64_t since_us, int64_t until_us,
    const cell_t *cells, size_t n, const uint64_t *pending,
    const struct map_view *mv)
{
	return map_doc(b, since_us, until_us, cells, n, pending, mv);
}
