/*
 * analyze.c — see analyze.h.
 *
 * Steps: read every measurement whose id time lies in [since - window,
 * until + window) (ids start with their millisecond time, so this is one
 * range scan); sort them by (test, target, start); within each group judge
 * each measurement of the range against the control measurements of the
 * group within +- window, with the same agent's other variants as
 * siblings (group.h: O(n log n) per group, never all pairs); feed final
 * verdicts of probe agents into one accumulator per (region, ASN,
 * service); judge the cells.
 */
#include "analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "log.h"
#include "regime.h"
#include "rollup.h"
#include "wire.h"
#include "ztime.h"

struct item {
	uint8_t id[STORE_ID_LEN];
	uint8_t agent[STORE_PK_LEN];
	char region[STORE_REGION_LEN];
	uint32_t asn;
	enum store_role role;
	int64_t start_us, recv_us;
	bool in_range;
	bool healthy;		/* domestic: its agent reached another
				 * target near then (domestic_health) */
	wire_meas_t *m;
	verdict_t v;
	method_t meth;
};

struct analysis {
	struct item *items;	/* sorted by id for lookups */
	size_t n, cap;
	cell_t *cells;
	size_t ncells;
};

void
analyze_opts_default(struct analyze_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_us = 3600LL * 1000000;
	o->deadline_us = 3600LL * 1000000;
	verdict_opts_default(&o->v);
	cell_opts_default(&o->c);
}

struct collect {
	analysis_t *a;
	int64_t since, until;
	zerr_t err;
};

static int
collect_one(const struct store_meas *sm, void *arg)
{
	struct collect *c = arg;
	analysis_t *a = c->a;
	struct item *it;
	wire_meas_t *m = NULL;

	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;	/* verified at ingest; cannot happen */
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 1024;
		struct item *ni = realloc(a->items, nc * sizeof(*ni));
		if (ni == NULL) {
			wire_meas_free(m);
			c->err = ZE_NOMEM;
			return 1;
		}
		a->items = ni;
		a->cap = nc;
	}
	it = &a->items[a->n++];
	memset(it, 0, sizeof(*it));
	memcpy(it->id, sm->id, STORE_ID_LEN);
	memcpy(it->agent, sm->agent, STORE_PK_LEN);
	memcpy(it->region, sm->region, STORE_REGION_LEN);
	it->region[STORE_REGION_LEN - 1] = '\0';
	it->asn = sm->asn;
	it->role = sm->role;
	/* judged at its placed start (PROTOCOL.md "Clock"), as the
	 * roll-ups do; selected by the signed one, as the ids are */
	it->start_us = sm->time_us;
	it->recv_us = sm->recv_us;
	it->in_range = sm->start_us >= c->since && sm->start_us < c->until;
	it->m = m;
	it->v = VERDICT_PENDING;
	return 0;
}

static int
cmp_group(const void *x, const void *y)
{
	const struct item *a = *(const struct item *const *)x;
	const struct item *b = *(const struct item *const *)y;
	int r;

	if (a->m->test != b->m->test)
		return a->m->test < b->m->test ? -1 : 1;
	r = strcmp(a->m->target ? a->m->target : "",
	    b->m->target ? b->m->target : "");
	if (r != 0)
		return r;
	return a->start_us < b->start_us ? -1 : a->start_us > b->start_us;
}

/* By agent, then start. */
static int
cmp_agent_start(const void *x, const void *y)
{
	const struct item *a = *(const struct item *const *)x;
	const struct item *b = *(const struct item *const *)y;
	int r = memcmp(a->agent, b->agent, STORE_PK_LEN);

	if (r != 0)
		return r;
	return a->start_us < b->start_us ? -1 : a->start_us > b->start_us;
}

/* Is it a success of a target other than t's? */
static bool
reached_other(const struct item *it, const struct item *t)
{
	const Zond__V1__Outcome *oc = it->m->outcome;
	const char *a = it->m->target, *b = t->m->target;

	return oc != NULL && (!oc->has_failure ||
	    oc->failure == ZOND__V1__FAILURE__FAIL_NONE) && a != NULL &&
	    b != NULL && strcmp(a, b) != 0;
}

/*
 * Mark each domestic control's measurement healthy when its agent reached
 * another target less than GROUP_SIBLING_US away, looking at most
 * ROLLUP_SIB_WALK of its measurements each way (as the roll-ups walk the
 * agent's sequence: aggregator/rollup.c).  ord: scratch of a->n.
 */
static void
domestic_health(analysis_t *a, struct item **ord)
{
	size_t n = 0, i, k, w;

	for (i = 0; i < a->n; i++)
		if (a->items[i].role == STORE_ROLE_DOMESTIC)
			ord[n++] = &a->items[i];
	if (n == 0)
		return;
	qsort(ord, n, sizeof(*ord), cmp_agent_start);
	for (i = 0; i < n; i++) {
		struct item *t = ord[i];
		for (k = i, w = 0; !t->healthy && k-- > 0 &&
		    w++ < ROLLUP_SIB_WALK && memcmp(ord[k]->agent, t->agent,
		    STORE_PK_LEN) == 0 && t->start_us - ord[k]->start_us <
		    GROUP_SIBLING_US;)
			t->healthy = reached_other(ord[k], t);
		for (k = i + 1, w = 0; !t->healthy && k < n &&
		    w++ < ROLLUP_SIB_WALK && memcmp(ord[k]->agent, t->agent,
		    STORE_PK_LEN) == 0 && ord[k]->start_us - t->start_us <
		    GROUP_SIBLING_US; k++)
			t->healthy = reached_other(ord[k], t);
	}
}

static int
cmp_id(const void *x, const void *y)
{
	return memcmp(((const struct item *)x)->id,
	    ((const struct item *)y)->id, STORE_ID_LEN);
}

/* Items by their cell (region, ASN, service): the map's order. */
static int
cmp_item_cell(const void *x, const void *y)
{
	const struct item *a = *(const struct item *const *)x;
	const struct item *b = *(const struct item *const *)y;

	return cell_order(a->region, a->asn, a->m->service, b->region, b->asn,
	    b->m->service);
}

_Static_assert(STORE_PK_LEN == GROUP_AGENT_LEN, "agent keys");

struct judged {
	const struct analyze_opts *o;
	struct item **g;
	int64_t now;
};

static void
judged_one(size_t i, const struct verdict_res *res, void *arg)
{
	struct judged *j = arg;
	struct item *it = j->g[i];
	struct verdict_res r = *res;

	if (r.verdict == VERDICT_PENDING &&
	    j->now - it->recv_us > j->o->deadline_us)
		verdict_expire(&r);
	it->v = r.verdict;
	it->meth = r.method;
}

/* Judge the items of one (test, target) group g[0..n), sorted by start;
 * gi: scratch of n. */
static zerr_t
judge_group(const struct analyze_opts *o, struct item **g, size_t n,
    struct group_item *gi, int64_t now)
{
	struct judged j = { o, g, now };

	for (size_t i = 0; i < n; i++) {
		gi[i].m = g[i]->m;
		gi[i].agent = g[i]->agent;
		gi[i].start_us = g[i]->start_us;
		gi[i].control = g[i]->role == STORE_ROLE_CONTROL;
		gi[i].domestic = g[i]->role == STORE_ROLE_DOMESTIC;
		gi[i].healthy = g[i]->healthy;
		gi[i].judge = g[i]->in_range;
	}
	return group_judge(&o->v, o->window_us, gi, n, judged_one, &j);
}

zerr_t
analyze_range(store_t *s, int64_t since, int64_t until,
    const struct analyze_opts *o, analysis_t **out, zdiag_t *d)
{
	uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
	struct collect c;
	struct item **ord = NULL;
	struct group_item *gi = NULL;
	size_t nord, capcells = 0;
	int64_t now = o->now_us ? o->now_us : ztime_now_us();
	analysis_t *a;
	zerr_t e;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	/* every start within the window of the range (ids are within a
	 * minute of their start: ingest checks it) */
	store_ids_of_starts(since - o->window_us, until + o->window_us, from,
	    to);
	c.a = a;
	c.since = since;
	c.until = until;
	c.err = ZE_OK;
	if ((e = store_meas_iter(s, from, to, collect_one, &c, d)) != ZE_OK)
		goto fail;
	if ((e = c.err) != ZE_OK) {
		zdiag_set(d, e, "out of memory reading measurements");
		goto fail;
	}
	e = ZE_NOMEM;
	if (a->n > 0 && ((ord = malloc(a->n * sizeof(*ord))) == NULL ||
	    (gi = malloc(a->n * sizeof(*gi))) == NULL)) {
		zdiag_set(d, e, "out of memory");
		goto fail;
	}
	if (a->n > 0)
		domestic_health(a, ord);
	for (size_t i = 0; i < a->n; i++)
		ord[i] = &a->items[i];
	if (a->n > 0)
		qsort(ord, a->n, sizeof(*ord), cmp_group);
	for (size_t i = 0, j; i < a->n; i = j) {
		for (j = i + 1; j < a->n && ord[j]->m->test == ord[i]->m->test &&
		    strcmp(ord[j]->m->target ? ord[j]->m->target : "",
		    ord[i]->m->target ? ord[i]->m->target : "") == 0; j++)
			;
		if (judge_group(o, ord + i, j - i, gi, now) != ZE_OK) {
			zdiag_set(d, e, "out of memory judging");
			goto fail;
		}
	}
	/* cells of probe agents: sort the counted measurements by cell, then
	 * one accumulator per run of equal keys */
	nord = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct item *it = &a->items[i];
		const char *svc = it->m->service ? it->m->service : "";

		if (!it->in_range || it->v == VERDICT_PENDING)
			continue;
		if (it->role != STORE_ROLE_PROBE || *svc == '\0' ||
		    (o->service != NULL && strcmp(o->service, svc) != 0))
			continue;
		ord[nord++] = it;
	}
	if (nord > 1)
		qsort(ord, nord, sizeof(*ord), cmp_item_cell);
	for (size_t i = 0, j; i < nord; i = j) {
		cell_acc_t *acc = NULL;

		for (j = i + 1; j < nord && cmp_item_cell(&ord[i], &ord[j]) ==
		    0; j++)
			;
		if (a->ncells == capcells) {
			size_t nc = capcells ? 2 * capcells : 64;
			cell_t *nk = realloc(a->cells, nc * sizeof(*nk));
			if (nk == NULL) {
				e = zdiag_set(d, ZE_NOMEM, "out of memory");
				goto fail;
			}
			a->cells = nk;
			capcells = nc;
		}
		if (cell_acc_new(ord[i]->region, ord[i]->asn,
		    ord[i]->m->service, &acc) != ZE_OK)
			continue;
		for (size_t k = i; k < j; k++) {
			struct item *it = ord[k];
			struct cell_obs ob;

			ob.agent = it->agent;
			ob.target = it->m->target ? it->m->target : "";
			ob.test = it->m->test;
			ob.variant = verdict_variant(it->m);
			ob.verdict = it->v;
			ob.method = it->meth;
			ob.start_us = it->start_us;
			cell_obs_where(&ob, it->m, it->asn, o->v.asn);
			if (cell_acc_add(acc, &ob) != ZE_OK)
				log_debug("cell %s/%u/%s: measurement not "
				    "counted", it->region, it->asn,
				    it->m->service);
		}
		if (cell_judge(acc, &o->c, &a->cells[a->ncells]) != ZE_OK)
			a->cells[a->ncells].verdict = CELL_INSUFFICIENT;
		a->ncells++;
		cell_acc_free(&acc);
	}
	/* whitelist and shutdown regimes (regime.h); references kept */
	if (regime_cells(a->cells, &a->ncells, o->c.regime_min_agents,
	    true) != ZE_OK) {
		e = zdiag_set(d, ZE_NOMEM, "out of memory");
		goto fail;
	}
	if (a->n > 1)
		qsort(a->items, a->n, sizeof(*a->items), cmp_id);
	free(ord);
	free(gi);
	*out = a;
	return ZE_OK;
fail:
	free(ord);
	free(gi);
	analysis_free(&a);
	return e;
}

void
analysis_free(analysis_t **ap)
{
	analysis_t *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		wire_meas_free(a->items[i].m);
	for (size_t k = 0; k < a->ncells; k++)
		cell_clear(&a->cells[k]);
	free(a->items);
	free(a->cells);
	free(a);
	*ap = NULL;
}

bool
analysis_verdict(const analysis_t *a, const uint8_t id[STORE_ID_LEN],
    verdict_t *v, method_t *m)
{
	struct item key;
	const struct item *it;

	memcpy(key.id, id, STORE_ID_LEN);
	it = a->n ? bsearch(&key, a->items, a->n, sizeof(*a->items), cmp_id) :
	    NULL;
	if (it == NULL || !it->in_range)
		return false;
	*v = it->v;
	*m = it->meth;
	return true;
}

void
analysis_each(const analysis_t *a, analysis_each_fn fn, void *arg)
{
	for (size_t i = 0; i < a->n; i++)
		fn(a->items[i].m, a->items[i].role, a->items[i].start_us, arg);
}

const cell_t *
analysis_cells(const analysis_t *a, size_t *n)
{
	*n = a->ncells;
	return a->cells;
}
