/*
 * regime.c — see regime.h.  Invariant: a regime only ever replaces a
 * failing verdict; an ok cell stays ok inside a whitelist (the service is
 * on the list) and an insufficient one stays insufficient.
 */
#include "regime.h"

#include <stdlib.h>
#include <string.h>

static bool
base_is(const char *service, const char *ref)
{
	size_t n = strlen(ref);

	return strncmp(service, ref, n) == 0 &&
	    (service[n] == '\0' || service[n] == '/');
}

bool
regime_is_reference(const char *service)
{
	return service != NULL && (base_is(service, REGIME_DOMESTIC) ||
	    base_is(service, REGIME_FOREIGN));
}

static bool
counts(const cell_t *c, uint32_t min_agents)
{
	return c != NULL && c->verdict != CELL_INSUFFICIENT &&
	    c->agents >= min_agents;
}

static bool
fails(cell_verdict_t v)
{
	return v == CELL_BLOCKED || v == CELL_DOWN;
}

regime_t
regime_of(const cell_t *dom, const cell_t *foreign, uint32_t min_agents)
{
	if (min_agents == 0 || !counts(dom, min_agents))
		return REGIME_NONE;
	if (dom->verdict == CELL_OK)
		return counts(foreign, min_agents) && fails(foreign->verdict) ?
		    REGIME_WHITELIST : REGIME_NONE;
	if (!fails(dom->verdict))
		return REGIME_NONE;
	if (foreign == NULL || foreign->verdict == CELL_INSUFFICIENT ||
	    fails(foreign->verdict))
		return REGIME_SHUTDOWN;
	return REGIME_NONE;
}

cell_verdict_t
regime_apply(regime_t r, cell_verdict_t v)
{
	if (r == REGIME_NONE)
		return v;
	switch (v) {
	case CELL_BLOCKED:
	case CELL_THROTTLED:
	case CELL_DOWN:
	case CELL_FILTERED:
	case CELL_GEOBLOCKED:
	case CELL_REVIEW:
	case CELL_PARTIAL:
		return r == REGIME_WHITELIST ? CELL_WHITELIST : CELL_SHUTDOWN;
	default:
		return v;
	}
}

static int
ra_cmp(const void *x, const void *y)
{
	const cell_t *a = *(const cell_t *const *)x;
	const cell_t *b = *(const cell_t *const *)y;
	int c;

	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	if (a->asn != b->asn)
		return a->asn < b->asn ? -1 : 1;
	return a < b ? -1 : a > b;
}

zerr_t
regime_cells(cell_t *cells, size_t *n, uint32_t min_agents, bool keep_refs)
{
	cell_t **v;
	size_t i, j, k, w;

	if (*n == 0)
		return ZE_OK;
	if ((v = calloc(*n, sizeof(*v))) == NULL)
		return ZE_NOMEM;
	for (i = 0; i < *n; i++)
		v[i] = &cells[i];
	qsort(v, *n, sizeof(*v), ra_cmp);
	for (i = 0; i < *n; i = j) {
		const cell_t *dom = NULL, *foreign = NULL;
		regime_t r;

		for (j = i; j < *n && strcmp(v[j]->region, v[i]->region) == 0 &&
		    v[j]->asn == v[i]->asn; j++) {
			if (strcmp(v[j]->service, REGIME_DOMESTIC) == 0)
				dom = v[j];
			else if (strcmp(v[j]->service, REGIME_FOREIGN) == 0)
				foreign = v[j];
		}
		if ((r = regime_of(dom, foreign, min_agents)) == REGIME_NONE)
			continue;
		for (k = i; k < j; k++) {
			cell_t *c = v[k];
			cell_verdict_t nv;

			if (regime_is_reference(c->service))
				continue;
			nv = regime_apply(r, c->verdict);
			if (nv != c->verdict) {
				c->verdict = nv;
				c->method = METHOD_NONE;
			}
			if (c->has_facets) {
				c->facet[0] = regime_apply(r, c->facet[0]);
				c->facet[1] = regime_apply(r, c->facet[1]);
			}
		}
	}
	free(v);
	if (keep_refs)
		return ZE_OK;
	for (i = w = 0; i < *n; i++) {
		if (regime_is_reference(cells[i].service)) {
			cell_clear(&cells[i]);
			continue;
		}
		if (w != i)
			cells[w] = cells[i];
		w++;
	}
	*n = w;
	return ZE_OK;
}

void
regime_silence_default(struct regime_silence_opts *o)
{
	o->min_agents = 2;
	o->min_beats = 5;
	o->after_us = 3 * 60 * 1000000LL;
	o->spread_us = 5 * 60 * 1000000LL;
}

static int
i64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* The last heartbeat of an agent that had been regular and is silent
 * now; -1 when it is not such an agent (or out of memory: no evidence). */
static int64_t
silent_since(const struct regime_beats *b, int64_t now,
    const struct regime_silence_opts *o)
{
	int64_t *g, med, max = 0, quiet;
	size_t i, ng;

	if (b->t == NULL || b->n < 2 || b->n < o->min_beats)
		return -1;
	ng = b->n - 1;
	if ((g = malloc(ng * sizeof(*g))) == NULL)
		return -1;
	for (i = 0; i < ng; i++) {
		g[i] = b->t[i + 1] - b->t[i];
		if (g[i] > max)
			max = g[i];
	}
	qsort(g, ng, sizeof(*g), i64_cmp);
	med = g[ng / 2];
	free(g);
	if (med <= 0 || max > 2 * med)
		return -1;	/* irregular: a flaky link says nothing */
	quiet = 3 * med > o->after_us ? 3 * med : o->after_us;
	return now - b->t[b->n - 1] > quiet ? b->t[b->n - 1] : -1;
}

bool
regime_silent(const struct regime_beats *a, size_t n, int64_t now,
    const struct regime_silence_opts *o, int64_t *since, uint32_t *agents)
{
	int64_t *last;
	size_t i, k = 0, lo = 0, best = 0, best_lo = 0;

	if (since != NULL)
		*since = 0;
	if (agents != NULL)
		*agents = 0;
	if (n == 0 || o->min_agents < 2 ||
	    (last = malloc(n * sizeof(*last))) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		int64_t t = silent_since(&a[i], now, o);

		if (t >= 0)
			last[k++] = t;
	}
	qsort(last, k, sizeof(*last), i64_cmp);
	for (i = 0; i < k; i++) {	/* widest group within spread */
		while (last[i] - last[lo] > o->spread_us)
			lo++;
		if (i - lo + 1 > best) {
			best = i - lo + 1;
			best_lo = lo;
		}
	}
	if (best >= o->min_agents) {
		if (since != NULL)
			*since = last[best_lo];
		if (agents != NULL)
			*agents = (uint32_t)best;
	}
	free(last);
	return best >= o->min_agents;
}
