/*
 * cells.c — see cells.h; docs/METHODOLOGY.md "Cells" for the reasoning.
 *
 * Invariants of a cell_acc: rows sorted by (target, test, variant) and
 * unique, each with at least one entry; a row's entries (one per agent
 * that measured it) sorted by agent key and unique, each with at least one
 * measurement; agents sorted by key and unique, each with n equal to the
 * sum of its entries over all rows; a row's verdict and method counts are
 * the sums of its entries'; pending is never counted; method counts of an
 * entry sum to its blocked + throttled count (method NONE included).
 * Every array is capped (CELL_MAX_ROWS, CELL_MAX_AGENTS, CELL_MAX_ENTRIES)
 * and decode re-checks all of it, so a damaged record is refused rather
 * than believed.  Row slots past nrows keep their entry buffers (empty) for
 * reuse, so decoding many records into one scratch allocates nothing.
 * Where counts live per row (not per agent): a row's where kinds sum to
 * at most its blocked + throttled count, its hop counts to at most its
 * where kinds; nhop bounds the hops in use (0: none).
 */
#include "cells.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "ipasn.h"

#define AGENT_LEN 32

/* One agent's measurements in one sub-row, and its latest one (the
 * sample of a judgment with cell_opts.latest): last_us is that
 * measurement's start, 0 when not known (a record of version 3, or the
 * latest one was taken away by cell_acc_remove). */
struct acc_ent {
	uint8_t key[AGENT_LEN];
	uint32_t n[VERDICT__COUNT];
	uint32_t m[METHOD__COUNT];
	int64_t last_us;
	uint8_t last_v, last_m;
};

struct acc_row {
	char target[CELL_TARGET_MAX];
	char variant[CELL_VARIANT_MAX];
	uint8_t test;
	uint32_t n[VERDICT__COUNT];	/* sums over ents */
	uint32_t m[METHOD__COUNT];
	uint32_t w[CELL_WHERE_KINDS];	/* localized blocking measurements */
	uint32_t hop[CELL_HOP_MAX + 1];	/* located ones by censor hop */
	uint8_t nhop;			/* hop[nhop..] are 0 */
	struct acc_ent *ents;
	size_t nents, aents;
};

struct acc_agent {
	uint8_t key[AGENT_LEN];
	uint32_t n;
	uint32_t seen;		/* decode: sum of its entries so far */
};

struct cell_acc {
	char region[CELL_REGION_MAX];
	int64_t asn;
	char service[CELL_SERVICE_MAX];
	struct acc_row *rows;
	size_t nrows, arows;
	struct acc_agent *agents;
	size_t nagents, aagents;
	size_t nents;		/* entries over all rows */
};

static const char *const cell_names[CELL__COUNT] = {
	"ok", "blocked", "throttled", "down", "insufficient", "geoblocked",
	"filtered", "partial", "review", "whitelist", "shutdown",
};

const char *
cell_verdict_name(cell_verdict_t v)
{
	if ((unsigned)v >= CELL__COUNT)
		return "insufficient";
	return cell_names[v];
}

int
cell_order(const char *ra, int64_t aa, const char *sa, const char *rb,
    int64_t ab, const char *sb)
{
	int c;

	if ((c = strcmp(ra, rb)) != 0)
		return c;
	if (aa != ab)
		return aa < ab ? -1 : 1;
	return strcmp(sa, sb);
}

int
cell_ptr_cmp(const void *x, const void *y)
{
	const cell_t *a = *(const cell_t *const *)x;
	const cell_t *b = *(const cell_t *const *)y;

	return cell_order(a->region, a->asn, a->service, b->region, b->asn,
	    b->service);
}

void
cell_opts_default(struct cell_opts *o)
{
	o->min_measurements = 3;
	o->min_agents = 2;
	o->target_min = 2;
	o->min_blocked = 2;
	o->block_share = 0.5;
	o->block_lower = 0.3;
	o->z = 1.96;
	o->regime_min_agents = 2;
	o->latest = false;
}

zerr_t
cell_sample_parse(const char *s, bool *latest)
{
	if (strcmp(s, "common") == 0)
		*latest = false;
	else if (strcmp(s, "latest") == 0)
		*latest = true;
	else
		return ZE_PARSE;
	return ZE_OK;
}

double
cell_wilson_lower(uint64_t k, uint64_t n, double z)
{
	double p, nn, z2, c, s;

	if (n == 0)
		return 0.0;
	if (k > n)
		k = n;
	nn = (double)n;
	p = (double)k / nn;
	z2 = z * z;
	c = p + z2 / (2 * nn);
	s = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	p = (c - s) / (1 + z2 / nn);
	return p < 0 ? 0.0 : p;
}

/* ------------------------------------------------------------ accumulator */

/* Copy s into a fixed field of len bytes; false when it does not fit or
 * is empty and empty is not allowed. */
static bool
fit(char *dst, size_t len, const char *s, bool empty_ok)
{
	size_t n;

	if (s == NULL)
		s = "";
	n = strlen(s);
	if (n >= len || (n == 0 && !empty_ok))
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

zerr_t
cell_acc_new(const char *region, int64_t asn, const char *service,
    cell_acc_t **out)
{
	cell_acc_t *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ZE_NOMEM;
	if (!fit(a->region, sizeof(a->region), region, false) ||
	    !fit(a->service, sizeof(a->service), service, false)) {
		free(a);
		return ZE_INVAL;
	}
	a->asn = asn;
	*out = a;
	return ZE_OK;
}

void
cell_acc_free(cell_acc_t **ap)
{
	cell_acc_t *a;
	size_t i;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	for (i = 0; i < a->arows; i++)
		free(a->rows[i].ents);
	free(a->rows);
	free(a->agents);
	free(a);
	*ap = NULL;
}

static int
row_cmp(const char *t1, uint8_t k1, const char *v1, const struct acc_row *r)
{
	int c;

	if ((c = strcmp(t1, r->target)) != 0)
		return c;
	if (k1 != r->test)
		return k1 < r->test ? -1 : 1;
	return strcmp(v1, r->variant);
}

/* Index of the row, or where it would go (*found false). */
static size_t
row_find(const cell_acc_t *a, const char *t, uint8_t k, const char *v,
    bool *found)
{
	size_t lo = 0, hi = a->nrows, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = row_cmp(t, k, v, &a->rows[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

/* Binary search of key in n records of size sz whose first bytes are the
 * agent key: index, or where it would go (*found false). */
static size_t
key_find(const void *base, size_t n, size_t sz, const uint8_t *key,
    bool *found)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(key, (const uint8_t *)base + mid * sz, AGENT_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static size_t
agent_find(const cell_acc_t *a, const uint8_t *key, bool *found)
{
	return key_find(a->agents, a->nagents, sizeof(*a->agents), key, found);
}

static zerr_t
grow(void **v, size_t *alloc, size_t n, size_t size, size_t cap)
{
	size_t na;
	void *nv;

	if (n < *alloc)
		return ZE_OK;
	if (n >= cap)
		return ZE_TOOBIG;
	na = *alloc ? *alloc * 2 : 8;
	if (na > cap)
		na = cap;
	if ((nv = reallocarray(*v, na, size)) == NULL)
		return ZE_NOMEM;
	*v = nv;
	*alloc = na;
	return ZE_OK;
}

/* At least want row slots; new slots are empty (no entry buffer). */
static zerr_t
rows_reserve(cell_acc_t *a, size_t want)
{
	struct acc_row *nr;
	size_t na;

	if (want <= a->arows)
		return ZE_OK;
	if (want > CELL_MAX_ROWS)
		return ZE_TOOBIG;
	na = a->arows ? a->arows * 2 : 4;
	if (na < want)
		na = want;
	if (na > CELL_MAX_ROWS)
		na = CELL_MAX_ROWS;
	if ((nr = reallocarray(a->rows, na, sizeof(*nr))) == NULL)
		return ZE_NOMEM;
	memset(&nr[a->arows], 0, (na - a->arows) * sizeof(*nr));
	a->rows = nr;
	a->arows = na;
	return ZE_OK;
}

/* At least want entry slots in r. */
static zerr_t
ents_reserve(struct acc_row *r, size_t want)
{
	struct acc_ent *ne;
	size_t na;

	if (want <= r->aents)
		return ZE_OK;
	if (want > CELL_MAX_AGENTS)
		return ZE_TOOBIG;
	na = r->aents ? r->aents * 2 : 2;
	if (na < want)
		na = want;
	if (na > CELL_MAX_AGENTS)
		na = CELL_MAX_AGENTS;
	if ((ne = reallocarray(r->ents, na, sizeof(*ne))) == NULL)
		return ZE_NOMEM;
	r->ents = ne;
	r->aents = na;
	return ZE_OK;
}

/* Empty row i in slot i (nrows < arows): counts zeroed, the slot's entry
 * buffer kept. */
static void
row_reset(struct acc_row *r)
{
	struct acc_ent *keep = r->ents;
	size_t ak = r->aents;

	memset(r, 0, sizeof(*r));
	r->ents = keep;
	r->aents = ak;
}

/* Get (or insert, when make) the row of (t, k, v). */
static zerr_t
row_get(cell_acc_t *a, const char *t, uint8_t k, const char *v, bool make,
    struct acc_row **out)
{
	struct acc_row spare;
	bool found;
	size_t i;
	zerr_t e;

	i = row_find(a, t, k, v, &found);
	if (found) {
		*out = &a->rows[i];
		return ZE_OK;
	}
	if (!make)
		return ZE_NOTFOUND;
	if (strlen(t) >= CELL_TARGET_MAX || strlen(v) >= CELL_VARIANT_MAX)
		return ZE_INVAL;
	if ((e = rows_reserve(a, a->nrows + 1)) != ZE_OK)
		return e;
	/* the free slot's buffer moves to the new row */
	spare = a->rows[a->nrows];
	memmove(&a->rows[i + 1], &a->rows[i],
	    (a->nrows - i) * sizeof(*a->rows));
	a->rows[i] = spare;
	row_reset(&a->rows[i]);
	(void)fit(a->rows[i].target, CELL_TARGET_MAX, t, true);
	(void)fit(a->rows[i].variant, CELL_VARIANT_MAX, v, true);
	a->rows[i].test = k;
	a->nrows++;
	*out = &a->rows[i];
	return ZE_OK;
}

/* Drop row r (it has no entries left); its buffer goes to the free slot. */
static void
row_drop(cell_acc_t *a, struct acc_row *r)
{
	size_t i = (size_t)(r - a->rows);
	struct acc_row keep = *r;

	memmove(&a->rows[i], &a->rows[i + 1],
	    (a->nrows - i - 1) * sizeof(*a->rows));
	a->nrows--;
	a->rows[a->nrows] = keep;
	row_reset(&a->rows[a->nrows]);
}

/* Get (or insert, when make) the agent's entry in r. */
static zerr_t
ent_get(cell_acc_t *a, struct acc_row *r, const uint8_t *key, bool make,
    struct acc_ent **out)
{
	bool found;
	size_t i;
	zerr_t e;

	i = key_find(r->ents, r->nents, sizeof(*r->ents), key, &found);
	if (found) {
		*out = &r->ents[i];
		return ZE_OK;
	}
	if (!make)
		return ZE_NOTFOUND;
	if (a->nents >= CELL_MAX_ENTRIES)
		return ZE_TOOBIG;
	if ((e = ents_reserve(r, r->nents + 1)) != ZE_OK)
		return e;
	memmove(&r->ents[i + 1], &r->ents[i], (r->nents - i) *
	    sizeof(*r->ents));
	memset(&r->ents[i], 0, sizeof(*r->ents));
	memcpy(r->ents[i].key, key, AGENT_LEN);
	r->nents++;
	a->nents++;
	*out = &r->ents[i];
	return ZE_OK;
}

static uint64_t
ent_total(const struct acc_ent *x)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < VERDICT__COUNT; i++)
		s += x->n[i];
	return s;
}

/* Drop entry x of r when it counts nothing, and r when it has no entry
 * left. */
static void
ent_tidy(cell_acc_t *a, struct acc_row *r, struct acc_ent *x)
{
	size_t i = (size_t)(x - r->ents);

	if (ent_total(x) != 0)
		return;
	memmove(&r->ents[i], &r->ents[i + 1], (r->nents - i - 1) *
	    sizeof(*r->ents));
	r->nents--;
	a->nents--;
	if (r->nents == 0)
		row_drop(a, r);
}

/* Add delta (may be negative) to the agent's count, inserting or
 * dropping the agent as needed. */
static zerr_t
agent_bump(cell_acc_t *a, const uint8_t *key, int64_t delta)
{
	bool found;
	size_t i;
	zerr_t e;
	int64_t n;

	i = agent_find(a, key, &found);
	if (!found) {
		if (delta <= 0)
			return ZE_NOTFOUND;
		if (delta > UINT32_MAX)
			return ZE_RANGE;
		if ((e = grow((void **)&a->agents, &a->aagents, a->nagents,
		    sizeof(*a->agents), CELL_MAX_AGENTS)) != ZE_OK)
			return e;
		memmove(&a->agents[i + 1], &a->agents[i],
		    (a->nagents - i) * sizeof(*a->agents));
		memset(&a->agents[i], 0, sizeof(a->agents[i]));
		memcpy(a->agents[i].key, key, AGENT_LEN);
		a->agents[i].n = (uint32_t)delta;
		a->nagents++;
		return ZE_OK;
	}
	n = (int64_t)a->agents[i].n + delta;
	if (n < 0)
		return ZE_NOTFOUND;
	if (n > UINT32_MAX)
		return ZE_RANGE;
	if (n == 0) {
		memmove(&a->agents[i], &a->agents[i + 1],
		    (a->nagents - i - 1) * sizeof(*a->agents));
		a->nagents--;
	} else
		a->agents[i].n = (uint32_t)n;
	return ZE_OK;
}

static bool
counts_method(verdict_t v)
{
	return v == VERDICT_BLOCKED || v == VERDICT_THROTTLED;
}

zerr_t
cell_obs_fill(struct cell_obs *o, const Zond__V1__Measurement *m,
    verdict_t v, method_t meth)
{
	memset(o, 0, sizeof(*o));
	if (m == NULL || !m->has_agent || m->agent.len != AGENT_LEN ||
	    m->target == NULL)
		return ZE_INVAL;
	o->agent = m->agent.data;
	o->target = m->target;
	o->test = m->test;
	o->variant = verdict_variant(m);
	o->verdict = v;
	o->method = meth;
	return ZE_OK;
}

static const char *const where_names[] = {
	"unknown", "isp", "upstream", "mixed",
};

const char *
cell_where_name(cell_where_t w)
{
	if ((unsigned)w > CELL_WHERE_MIXED)
		return "unknown";
	return where_names[w];
}

cell_where_t
cell_where_of(const Zond__V1__Measurement *m, uint32_t agent_asn,
    const struct ipasn *t, uint8_t *hop)
{
	const Zond__V1__Localization *l = m != NULL ? m->locate : NULL;
	uint32_t asn;
	size_t i;

	*hop = 0;
	if (l == NULL || !l->has_result ||
	    l->result != ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED ||
	    !l->has_censor_hop || l->censor_hop == 0)
		return CELL_WHERE_UNKNOWN;
	if (l->censor_hop <= CELL_HOP_MAX)
		*hop = (uint8_t)l->censor_hop;
	if (agent_asn == 0 || t == NULL)
		return CELL_WHERE_UNKNOWN;
	if (l->censor_addr != NULL &&
	    (asn = ipasn_lookup_str(t, l->censor_addr)) != 0)
		return asn == agent_asn ? CELL_WHERE_ISP : CELL_WHERE_UPSTREAM;
	/* a private or unmapped censor hop (an ISP's own routers are often
	 * numbered from RFC 1918 or CGNAT space): inside the ISP when the
	 * path still reached a router of the agent's ASN after it */
	for (i = 0; i < l->n_hops; i++) {
		const Zond__V1__LocateHop *h = l->hops[i];

		if (h != NULL && h->has_ttl && h->ttl > l->censor_hop &&
		    h->addr != NULL &&
		    ipasn_lookup_str(t, h->addr) == agent_asn)
			return CELL_WHERE_ISP;
	}
	return CELL_WHERE_UNKNOWN;
}

const char *
cell_meas_where(const Zond__V1__Measurement *m, verdict_t v,
    uint32_t agent_asn, const struct ipasn *t)
{
	uint8_t hop;

	if ((v != VERDICT_BLOCKED && v != VERDICT_THROTTLED) || m == NULL ||
	    m->locate == NULL)
		return NULL;
	return cell_where_name(cell_where_of(m, agent_asn, t, &hop));
}

uint32_t
cell_meas_censor_asn(const Zond__V1__Measurement *m, verdict_t v,
    const struct ipasn *t)
{
	if ((v != VERDICT_BLOCKED && v != VERDICT_THROTTLED) || m == NULL ||
	    m->locate == NULL || t == NULL || m->locate->censor_addr == NULL ||
	    m->locate->result != ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED)
		return 0;
	return ipasn_lookup_str(t, m->locate->censor_addr);
}

void
cell_obs_where(struct cell_obs *o, const Zond__V1__Measurement *m,
    uint32_t agent_asn, const struct ipasn *t)
{
	o->locate = m != NULL && m->locate != NULL;
	o->where = cell_where_of(m, agent_asn, t, &o->hop);
}

cell_facet_t
cell_facet_of(Zond__V1__TestKind test)
{
	return test == ZOND__V1__TEST_KIND__TEST_STUN ||
	    test == ZOND__V1__TEST_KIND__TEST_CALL ? CELL_FACET_CALLS :
	    CELL_FACET_MESSAGING;
}

const char *
cell_facet_name(cell_facet_t f)
{
	return f == CELL_FACET_CALLS ? "calls" :
	    f == CELL_FACET_MESSAGING ? "messaging" : NULL;
}

zerr_t
cell_facet_parse(const char *service, char *base, size_t cap,
    cell_facet_t *f)
{
	const char *sl = strchr(service, '/');
	size_t n = sl != NULL ? (size_t)(sl - service) : strlen(service);

	*f = CELL_FACET_ALL;
	if (sl != NULL) {
		if (strcmp(sl + 1, "calls") == 0)
			*f = CELL_FACET_CALLS;
		else if (strcmp(sl + 1, "messaging") == 0)
			*f = CELL_FACET_MESSAGING;
		else
			return ZE_INVAL;
	}
	if (n == 0 || n >= cap)
		return ZE_INVAL;
	memcpy(base, service, n);
	base[n] = '\0';
	return ZE_OK;
}

static zerr_t
obs_check(const struct cell_obs *o)
{
	if (o == NULL || o->agent == NULL || o->target == NULL ||
	    (unsigned)o->verdict >= VERDICT__COUNT ||
	    o->verdict == VERDICT_PENDING ||
	    (unsigned)o->method >= METHOD__COUNT ||
	    (unsigned)o->test > UINT8_MAX ||
	    (o->locate && ((unsigned)o->where >= CELL_WHERE_KINDS ||
	    o->hop > CELL_HOP_MAX)))
		return ZE_INVAL;
	return ZE_OK;
}

/* Count o's localization in r (a blocking measurement's); a count at
 * its limit stays there. */
static void
where_add(struct acc_row *r, const struct cell_obs *o)
{
	if (r->w[o->where] == UINT32_MAX)
		return;
	r->w[o->where]++;
	if (o->hop != 0 && r->hop[o->hop] < UINT32_MAX) {
		r->hop[o->hop]++;
		if (o->hop >= r->nhop)
			r->nhop = (uint8_t)(o->hop + 1);
	}
}

/* Keep r's where counts within its blocking count and its hop counts
 * within its where counts, taking from unknown first (then upstream,
 * isp) and from the highest hops: a removal whose kind is no longer
 * there (the IP-to-ASN table changed between counting and settling)
 * leaves no count behind. */
static void
where_clamp(struct acc_row *r)
{
	static const cell_where_t order[] = {CELL_WHERE_UNKNOWN,
	    CELL_WHERE_UPSTREAM, CELL_WHERE_ISP};
	uint64_t bt = (uint64_t)r->n[VERDICT_BLOCKED] +
	    r->n[VERDICT_THROTTLED], ws = 0, hs = 0, x, d;
	size_t i;

	for (i = 0; i < CELL_WHERE_KINDS; i++)
		ws += r->w[i];
	for (i = 0; ws > bt && i < ZARRAY_LEN(order); i++) {
		x = ws - bt;
		d = x < r->w[order[i]] ? x : r->w[order[i]];
		r->w[order[i]] -= (uint32_t)d;
		ws -= d;
	}
	for (i = 0; i < r->nhop; i++)
		hs += r->hop[i];
	for (i = r->nhop; hs > ws && i-- > 0;) {
		x = hs - ws;
		d = x < r->hop[i] ? x : r->hop[i];
		r->hop[i] -= (uint32_t)d;
		hs -= d;
	}
}

static void
where_sub(struct acc_row *r, const struct cell_obs *o)
{
	cell_where_t k = o->where;
	size_t i;

	for (i = 0; r->w[k] == 0 && i < CELL_WHERE_KINDS; i++)
		k = (cell_where_t)i;
	if (r->w[k] > 0)
		r->w[k]--;
	if (o->hop != 0 && o->hop < r->nhop && r->hop[o->hop] > 0)
		r->hop[o->hop]--;
}

zerr_t
cell_acc_add(cell_acc_t *a, const struct cell_obs *o)
{
	const char *v;
	struct acc_row *r;
	struct acc_ent *x;
	zerr_t e;

	if ((e = obs_check(o)) != ZE_OK)
		return e;
	v = o->variant != NULL ? o->variant : "";
	if (row_get(a, o->target, (uint8_t)o->test, v, false, &r) == ZE_OK &&
	    r->n[o->verdict] == UINT32_MAX)
		return ZE_RANGE;	/* entry counts are at most the row's */
	if ((e = row_get(a, o->target, (uint8_t)o->test, v, true, &r)) !=
	    ZE_OK)
		return e;
	if ((e = ent_get(a, r, o->agent, true, &x)) != ZE_OK) {
		if (r->nents == 0)
			row_drop(a, r);
		return e;
	}
	if ((e = agent_bump(a, o->agent, 1)) != ZE_OK) {
		ent_tidy(a, r, x);	/* leave no empty entry or row */
		return e;
	}
	x->n[o->verdict]++;
	r->n[o->verdict]++;
	if (o->start_us > 0 && o->start_us >= x->last_us) {
		x->last_us = o->start_us;
		x->last_v = (uint8_t)o->verdict;
		x->last_m = (uint8_t)(counts_method(o->verdict) ? o->method :
		    METHOD_NONE);
	}
	if (counts_method(o->verdict)) {
		x->m[o->method]++;
		r->m[o->method]++;
		if (o->locate)
			where_add(r, o);
	}
	return ZE_OK;
}

zerr_t
cell_acc_remove(cell_acc_t *a, const struct cell_obs *o)
{
	const char *v;
	struct acc_row *r;
	struct acc_ent *x;
	zerr_t e;

	if ((e = obs_check(o)) != ZE_OK)
		return e;
	v = o->variant != NULL ? o->variant : "";
	if (row_get(a, o->target, (uint8_t)o->test, v, false, &r) != ZE_OK ||
	    ent_get(a, r, o->agent, false, &x) != ZE_OK ||
	    x->n[o->verdict] == 0 ||
	    (counts_method(o->verdict) && x->m[o->method] == 0))
		return ZE_NOTFOUND;
	if ((e = agent_bump(a, o->agent, -1)) != ZE_OK)
		return e;
	x->n[o->verdict]--;
	r->n[o->verdict]--;
	/* the latest one taken away (a re-judgment adds it back at once):
	 * until then the entry has no latest and samples its most common */
	if (x->last_us != 0 && x->last_us == o->start_us &&
	    x->last_v == (uint8_t)o->verdict)
		x->last_us = 0;
	if (counts_method(o->verdict)) {
		x->m[o->method]--;
		r->m[o->method]--;
		if (o->locate)
			where_sub(r, o);
	}
	where_clamp(r);
	ent_tidy(a, r, x);
	return ZE_OK;
}

void
cell_acc_keep_agents(cell_acc_t *a,
    bool (*keep)(const uint8_t *key, void *arg), void *arg)
{
	size_t i, j, k, w;

	/* from the last row: row_drop moves only the rows after it */
	for (i = a->nrows; i-- > 0;) {
		struct acc_row *r = &a->rows[i];

		for (j = w = 0; j < r->nents; j++) {
			const struct acc_ent *x = &r->ents[j];

			if (keep(x->key, arg)) {
				if (w != j)
					r->ents[w] = *x;
				w++;
				continue;
			}
			for (k = 0; k < VERDICT__COUNT; k++)
				r->n[k] -= x->n[k];
			for (k = 0; k < METHOD__COUNT; k++)
				r->m[k] -= x->m[k];
			a->nents--;
		}
		r->nents = w;
		where_clamp(r);
		if (w == 0)
			row_drop(a, r);
	}
	for (j = w = 0; j < a->nagents; j++)
		if (keep(a->agents[j].key, arg))
			a->agents[w++] = a->agents[j];
	a->nagents = w;
}

static bool
ent_add_ok(const struct acc_ent *d, const struct acc_ent *s)
{
	size_t j;

	for (j = 0; j < VERDICT__COUNT; j++)
		if (d->n[j] > UINT32_MAX - s->n[j])
			return false;
	for (j = 0; j < METHOD__COUNT; j++)
		if (d->m[j] > UINT32_MAX - s->m[j])
			return false;
	return true;
}

static void
ent_add(struct acc_ent *d, const struct acc_ent *s)
{
	size_t j;

	for (j = 0; j < VERDICT__COUNT; j++)
		d->n[j] += s->n[j];
	for (j = 0; j < METHOD__COUNT; j++)
		d->m[j] += s->m[j];
	if (s->last_us > d->last_us) {
		d->last_us = s->last_us;
		d->last_v = s->last_v;
		d->last_m = s->last_m;
	}
}

/* r's entries += s's: both sorted, so one pass counts the union and a
 * second merges in place from the back (linear, no allocation once r's
 * buffer is large enough).  Checks everything before changing r. */
static zerr_t
ents_merge(cell_acc_t *a, struct acc_row *r, const struct acc_row *s)
{
	size_t i = 0, j = 0, u = 0, k;
	int c;
	zerr_t e;

	while (i < r->nents || j < s->nents) {
		if (i == r->nents)
			c = 1;
		else if (j == s->nents)
			c = -1;
		else
			c = memcmp(r->ents[i].key, s->ents[j].key, AGENT_LEN);
		if (c == 0 && !ent_add_ok(&r->ents[i], &s->ents[j]))
			return ZE_RANGE;
		i += c <= 0;
		j += c >= 0;
		u++;
	}
	if (u - r->nents > CELL_MAX_ENTRIES - a->nents)
		return ZE_TOOBIG;
	if (u > CELL_MAX_AGENTS)
		return ZE_TOOBIG;
	if ((e = ents_reserve(r, u)) != ZE_OK)
		return e;
	a->nents += u - r->nents;
	i = r->nents;
	j = s->nents;
	k = u;
	while (j > 0) {
		if (i == 0)
			c = -1;
		else
			c = memcmp(r->ents[i - 1].key, s->ents[j - 1].key,
			    AGENT_LEN);
		k--;
		if (c > 0)
			r->ents[k] = r->ents[--i];
		else if (c < 0)
			r->ents[k] = s->ents[--j];
		else {
			r->ents[k] = r->ents[--i];
			ent_add(&r->ents[k], &s->ents[--j]);
		}
	}
	r->nents = u;
	return ZE_OK;
}

zerr_t
cell_acc_merge(cell_acc_t *dst, const cell_acc_t *src)
{
	struct acc_row *r;
	size_t i, j;
	zerr_t e;

	if (strcmp(dst->region, src->region) != 0 || dst->asn != src->asn ||
	    strcmp(dst->service, src->service) != 0)
		return ZE_INVAL;
	for (i = 0; i < src->nrows; i++) {
		const struct acc_row *s = &src->rows[i];
		if ((e = row_get(dst, s->target, s->test, s->variant, true,
		    &r)) != ZE_OK)
			return e;
		for (j = 0; j < VERDICT__COUNT; j++)
			if (r->n[j] > UINT32_MAX - s->n[j])
				e = ZE_RANGE;
		for (j = 0; j < METHOD__COUNT; j++)
			if (r->m[j] > UINT32_MAX - s->m[j])
				e = ZE_RANGE;
		for (j = 0; j < CELL_WHERE_KINDS; j++)
			if (r->w[j] > UINT32_MAX - s->w[j])
				e = ZE_RANGE;
		for (j = 0; j < s->nhop; j++)
			if (r->hop[j] > UINT32_MAX - s->hop[j])
				e = ZE_RANGE;
		if (e == ZE_OK)
			e = ents_merge(dst, r, s);
		if (e != ZE_OK) {
			if (r->nents == 0)
				row_drop(dst, r);
			return e;
		}
		for (j = 0; j < VERDICT__COUNT; j++)
			r->n[j] += s->n[j];
		for (j = 0; j < METHOD__COUNT; j++)
			r->m[j] += s->m[j];
		for (j = 0; j < CELL_WHERE_KINDS; j++)
			r->w[j] += s->w[j];
		for (j = 0; j < s->nhop; j++)
			r->hop[j] += s->hop[j];
		if (s->nhop > r->nhop)
			r->nhop = s->nhop;
	}
	for (i = 0; i < src->nagents; i++)
		if ((e = agent_bump(dst, src->agents[i].key,
		    src->agents[i].n)) != ZE_OK)
			return e;
	return ZE_OK;
}

static uint64_t
row_judged(const struct acc_row *r)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < VERDICT__COUNT; i++)
		if (i != VERDICT_PENDING)
			s += r->n[i];
	return s;
}

uint64_t
cell_acc_count(const cell_acc_t *a)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < a->nrows; i++)
		s += row_judged(&a->rows[i]);
	return s;
}

/* ------------------------------------------------------------ encoding */

/*
 * Version 3 (integers big-endian):
 *   u8 version | u8 len, region | i64 asn | u8 len, service
 *   u32 nagents, then per agent (ascending keys): key[32] u32 count
 *   u32 nrows, then per row (ascending target, test, variant):
 *       u16 len, target | u8 test | u8 len, variant | u16 nents,
 *       then per entry (ascending agent index): u16 agent index |
 *       u8 nv, nv x (u8 verdict_t, u32 count) | u8 nm, nm x (u8 method_t,
 *       u32 count),
 *       then the row's where counts: u8 nw, nw x (u8 cell_where_t, u32
 *       count) | u8 nh, nh x (u8 hop 1..CELL_HOP_MAX, u32 count)
 * Only non-zero counts are written, in ascending verdict (method, where,
 * hop) order, so a row without localizations costs two bytes; a verdict,
 * method or where kind this reader does not know is ZE_VERSION.  An
 * agent's count is the sum of its entries; a row's verdict and method
 * counts are the sums of its entries' (not stored); its where counts sum
 * to at most its blocked + throttled ones, its hop counts to at most its
 * where counts.  Versions 1 (counts per row, no entries) and 2 (no where
 * counts) are refused: the store's analysis layout "4" rebuilds its
 * roll-ups.
 */
static zerr_t
put_u8(zbuf_t *b, uint8_t v)
{
	return zbuf_append(b, &v, 1);
}

/* The low n bytes of v, big-endian. */
static zerr_t
put_be(zbuf_t *b, uint64_t v, size_t n)
{
	uint8_t t[8];

	be64_put(t, v);
	return zbuf_append(b, t + sizeof(t) - n, n);
}

static zerr_t
put_str(zbuf_t *b, const char *s, size_t lenbytes)
{
	size_t n = strlen(s);
	zerr_t e;

	if ((e = put_be(b, n, lenbytes)) != ZE_OK)
		return e;
	return zbuf_append(b, s, n);
}

_Static_assert(VERDICT__COUNT <= 16 && METHOD__COUNT <= 16,
    "put_counts: room for 16 pairs");

/* The non-zero counts of c[n] as (index, count) pairs after their
 * number. */
static zerr_t
put_counts(zbuf_t *b, const uint32_t *c, size_t n)
{
	uint8_t t[1 + 5 * 16], k = 0;
	size_t i, len = 1;

	for (i = 0; i < n; i++) {
		if (c[i] == 0)
			continue;
		t[len] = (uint8_t)i;
		be32_put(t + len + 1, c[i]);
		len += 5;
		k++;
	}
	t[0] = k;
	return zbuf_append(b, t, len);
}

/* A row's non-zero hop counts as (hop, count) pairs after their
 * number. */
static zerr_t
put_hops(zbuf_t *b, const struct acc_row *r)
{
	uint8_t t[1 + 5 * (CELL_HOP_MAX + 1)], k = 0;
	size_t i, len = 1;

	for (i = 1; i < r->nhop; i++) {
		if (r->hop[i] == 0)
			continue;
		t[len] = (uint8_t)i;
		be32_put(t + len + 1, r->hop[i]);
		len += 5;
		k++;
	}
	t[0] = k;
	return zbuf_append(b, t, len);
}

#define TRY(x) do { if ((e = (x)) != ZE_OK) goto fail; } while (0)

zerr_t
cell_acc_encode(const cell_acc_t *a, zbuf_t *out)
{
	size_t i, j, len0 = out->len;
	bool found;
	zerr_t e;

	TRY(put_u8(out, CELL_ACC_VERSION));
	TRY(put_str(out, a->region, 1));
	TRY(put_be(out, (uint64_t)a->asn, 8));
	TRY(put_str(out, a->service, 1));
	TRY(put_be(out, a->nagents, 4));
	for (i = 0; i < a->nagents; i++) {
		TRY(zbuf_append(out, a->agents[i].key, AGENT_LEN));
		TRY(put_be(out, a->agents[i].n, 4));
	}
	TRY(put_be(out, a->nrows, 4));
	for (i = 0; i < a->nrows; i++) {
		const struct acc_row *r = &a->rows[i];
		TRY(put_str(out, r->target, 2));
		TRY(put_u8(out, r->test));
		TRY(put_str(out, r->variant, 1));
		TRY(put_be(out, r->nents, 2));
		for (j = 0; j < r->nents; j++) {
			const struct acc_ent *x = &r->ents[j];
			size_t ai = agent_find(a, x->key, &found);

			ZASSERT(found);
			TRY(put_be(out, ai, 2));
			TRY(put_counts(out, x->n, VERDICT__COUNT));
			TRY(put_counts(out, x->m, METHOD__COUNT));
			TRY(put_be(out, (uint64_t)x->last_us, 8));
			TRY(put_u8(out, x->last_v));
			TRY(put_u8(out, x->last_m));
		}
		TRY(put_counts(out, r->w, CELL_WHERE_KINDS));
		TRY(put_hops(out, r));
	}
	return ZE_OK;
fail:
	out->len = len0;
	if (out->data != NULL)
		out->data[len0] = '\0';
	return e;
}

/* String with an n-byte length (1 or 2) into dst[cap]; ZE_TRUNC,
 * ZE_TOOBIG or ZE_PARSE (a NUL inside). */
static zerr_t
get_str(breader_t *r, size_t lenbytes, char *dst, size_t cap)
{
	size_t len = lenbytes == 1 ? br_u8(r) : br_be16(r);
	const uint8_t *s;

	if (br_error(r) != ZE_OK)
		return ZE_TRUNC;
	if (len >= cap)
		return ZE_TOOBIG;
	if ((s = br_ptr(r, len)) == NULL)
		return ZE_TRUNC;
	if (memchr(s, '\0', len) != NULL)
		return ZE_PARSE;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return ZE_OK;
}

/* (index, count) pairs into c[n] (zeroed first): ZE_TRUNC, ZE_VERSION for
 * an index past n, ZE_PARSE for a zero count or indexes out of order.
 * *sum gets their sum. */
static zerr_t
get_counts(breader_t *r, uint32_t *c, size_t n, uint64_t *sum)
{
	size_t k, i;
	int last = -1;
	uint8_t ix;
	uint32_t v;

	memset(c, 0, n * sizeof(*c));
	*sum = 0;
	k = br_u8(r);
	for (i = 0; i < k; i++) {
		ix = br_u8(r);
		v = br_be32(r);
		if (br_error(r) != ZE_OK)
			return ZE_TRUNC;
		if (ix >= n)
			return ZE_VERSION;
		if ((int)ix <= last || v == 0)
			return ZE_PARSE;
		last = ix;
		c[ix] = v;
		*sum += v;
	}
	return br_error(r) != ZE_OK ? ZE_TRUNC : ZE_OK;
}

/* A row's hop counts into w (zeroed by row_reset): ZE_TRUNC, ZE_PARSE for
 * a hop out of 1..CELL_HOP_MAX, out of order, a zero count or counts
 * summing past the row's where counts (wsum). */
static zerr_t
get_hops(breader_t *r, struct acc_row *w, uint64_t wsum)
{
	size_t k, i;
	int last = 0;
	uint8_t h;
	uint32_t v;
	uint64_t sum = 0;

	k = br_u8(r);
	for (i = 0; i < k; i++) {
		h = br_u8(r);
		v = br_be32(r);
		if (br_error(r) != ZE_OK)
			return ZE_TRUNC;
		if (h > CELL_HOP_MAX || (int)h <= last || v == 0)
			return ZE_PARSE;
		last = h;
		w->hop[h] = v;
		sum += v;
	}
	if (br_error(r) != ZE_OK)
		return ZE_TRUNC;
	if (sum > wsum)
		return ZE_PARSE;
	w->nhop = (uint8_t)(last + 1);
	if (last == 0)
		w->nhop = 0;
	return ZE_OK;
}

/* An entry's latest measurement (version 4) into x, whose counts are
 * read: ZE_TRUNC, or ZE_PARSE for a negative time, or one whose verdict
 * or method the counts do not have (0: none, then both are 0). */
static zerr_t
get_last(breader_t *r, struct acc_ent *x)
{
	int64_t t = (int64_t)br_be64(r);
	uint8_t v = br_u8(r), m = br_u8(r);

	if (br_error(r) != ZE_OK)
		return ZE_TRUNC;
	if (t < 0 || (t == 0 && (v != 0 || m != 0)))
		return ZE_PARSE;
	if (t > 0 && (v >= VERDICT__COUNT || v == VERDICT_PENDING ||
	    x->n[v] == 0 || m >= METHOD__COUNT ||
	    (counts_method((verdict_t)v) ? x->m[m] == 0 : m != METHOD_NONE)))
		return ZE_PARSE;
	x->last_us = t;
	x->last_v = v;
	x->last_m = m;
	return ZE_OK;
}

/* In acc_decode_into: a read past the end so far is ZE_TRUNC. */
#define NEED(r) do { if (br_error(r) != ZE_OK) { e = ZE_TRUNC; goto bad; } } \
	while (0)
#define BAD(x) do { e = (x); goto bad; } while (0)

/* Decode into a, reusing (and growing) its arrays; on error a holds part
 * of the record (the caller resets or frees it). */
static zerr_t
acc_decode_into(cell_acc_t *a, const uint8_t *p, size_t n, zdiag_t *d)
{
	breader_t r;
	uint64_t v, na, nr, ne, ai, vs, ms, bt;
	size_t i, j, k;
	int64_t last;
	zerr_t e;
	const char *what = "header";

	for (i = 0; i < a->nrows; i++)
		row_reset(&a->rows[i]);
	a->nrows = a->nagents = a->nents = 0;
	if (n == 0 || p == NULL)
		return zdiag_set(d, ZE_TRUNC, "cell: empty record");
	/* version 3 (no latest measurement per entry) is still read: its
	 * entries sample their most common verdict in every judgment */
	if (p[0] != CELL_ACC_VERSION && p[0] != 3)
		return zdiag_set(d, ZE_VERSION, "cell: version %u, expected %u",
		    p[0], CELL_ACC_VERSION);
	br_init(&r, p, n);
	br_skip(&r, 1);
	if ((e = get_str(&r, 1, a->region, sizeof(a->region))) != ZE_OK)
		goto bad;
	a->asn = (int64_t)br_be64(&r);
	NEED(&r);
	if ((e = get_str(&r, 1, a->service, sizeof(a->service))) != ZE_OK)
		goto bad;
	if (a->region[0] == '\0' || a->service[0] == '\0')
		BAD(ZE_PARSE);
	what = "agents";
	na = br_be32(&r);
	NEED(&r);
	if (na > CELL_MAX_AGENTS)
		BAD(ZE_TOOBIG);
	if (na > a->aagents) {
		struct acc_agent *ng = realloc(a->agents, na * sizeof(*ng));
		if (ng == NULL)
			BAD(ZE_NOMEM);
		a->agents = ng;
		a->aagents = na;
	}
	for (i = 0; i < na; i++) {
		struct acc_agent *g = &a->agents[i];

		br_copy(&r, g->key, AGENT_LEN);
		v = br_be32(&r);
		NEED(&r);
		if (v == 0 || (i > 0 && memcmp(a->agents[i - 1].key, g->key,
		    AGENT_LEN) >= 0))
			BAD(ZE_PARSE);
		g->n = (uint32_t)v;
		g->seen = 0;
		a->nagents++;
	}
	what = "rows";
	nr = br_be32(&r);
	NEED(&r);
	if (nr > CELL_MAX_ROWS)
		BAD(ZE_TOOBIG);
	if ((e = rows_reserve(a, nr)) != ZE_OK)
		goto bad;
	for (i = 0; i < nr; i++) {
		struct acc_row *w = &a->rows[i];

		row_reset(w);
		a->nrows++;	/* so that an error resets it */
		if ((e = get_str(&r, 2, w->target, sizeof(w->target))) !=
		    ZE_OK)
			goto bad;
		w->test = br_u8(&r);
		NEED(&r);
		if ((e = get_str(&r, 1, w->variant, sizeof(w->variant))) !=
		    ZE_OK)
			goto bad;
		if (i > 0 && row_cmp(w->target, w->test, w->variant,
		    &a->rows[i - 1]) <= 0)
			BAD(ZE_PARSE);	/* not sorted or duplicate */
		what = "entries";
		ne = br_be16(&r);
		NEED(&r);
		if (ne == 0 || ne > na)
			BAD(ZE_PARSE);
		if (ne > CELL_MAX_ENTRIES - a->nents)
			BAD(ZE_TOOBIG);
		if ((e = ents_reserve(w, ne)) != ZE_OK)
			goto bad;
		last = -1;
		for (j = 0; j < ne; j++) {
			struct acc_ent *x = &w->ents[j];

			ai = br_be16(&r);
			NEED(&r);
			if (ai >= na || (int64_t)ai <= last)
				BAD(ZE_PARSE);
			last = (int64_t)ai;
			memcpy(x->key, a->agents[ai].key, AGENT_LEN);
			if ((e = get_counts(&r, x->n, VERDICT__COUNT, &vs)) !=
			    ZE_OK ||
			    (e = get_counts(&r, x->m, METHOD__COUNT, &ms)) !=
			    ZE_OK)
				goto bad;
			x->last_us = 0;
			x->last_v = x->last_m = 0;
			if (p[0] >= 4 && (e = get_last(&r, x)) != ZE_OK)
				goto bad;
			bt = (uint64_t)x->n[VERDICT_BLOCKED] +
			    x->n[VERDICT_THROTTLED];
			if (vs == 0 || x->n[VERDICT_PENDING] != 0 || ms != bt ||
			    vs > UINT32_MAX - a->agents[ai].seen)
				BAD(ZE_PARSE);
			a->agents[ai].seen += (uint32_t)vs;
			for (k = 0; k < VERDICT__COUNT; k++) {
				if (w->n[k] > UINT32_MAX - x->n[k])
					BAD(ZE_PARSE);
				w->n[k] += x->n[k];
			}
			for (k = 0; k < METHOD__COUNT; k++)
				w->m[k] += x->m[k];	/* <= w->n[b, t] */
			w->nents++;
			a->nents++;
		}
		what = "where";
		if ((e = get_counts(&r, w->w, CELL_WHERE_KINDS, &vs)) != ZE_OK)
			goto bad;
		if (vs > (uint64_t)w->n[VERDICT_BLOCKED] +
		    w->n[VERDICT_THROTTLED])
			BAD(ZE_PARSE);
		if ((e = get_hops(&r, w, vs)) != ZE_OK)
			goto bad;
		what = "rows";
	}
	what = "record";
	if (br_left(&r) != 0)
		BAD(ZE_PARSE);
	for (i = 0; i < na; i++)
		if (a->agents[i].seen != a->agents[i].n)
			BAD(ZE_PARSE);	/* an agent's count is not its sum */
	return ZE_OK;
bad:
	for (i = 0; i < a->nrows; i++)
		row_reset(&a->rows[i]);
	a->nrows = a->nagents = a->nents = 0;
	return zdiag_set(d, e, "cell: bad %s at byte %zu: %s", what, r.pos,
	    zerr_str(e));
}

#undef NEED
#undef BAD

zerr_t
cell_acc_decode(const uint8_t *p, size_t n, cell_acc_t **out, zdiag_t *d)
{
	cell_acc_t *a;
	zerr_t e;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "cell: out of memory");
	if ((e = acc_decode_into(a, p, n, d)) != ZE_OK) {
		cell_acc_free(&a);
		return e;
	}
	*out = a;
	return ZE_OK;
}

zerr_t
cell_acc_merge_bytes(cell_acc_t **dst, cell_acc_t **scratch,
    const uint8_t *p, size_t n, zdiag_t *d)
{
	zerr_t e;

	if (*scratch == NULL && (*scratch = calloc(1, sizeof(**scratch))) ==
	    NULL)
		return zdiag_set(d, ZE_NOMEM, "cell: out of memory");
	if ((e = acc_decode_into(*scratch, p, n, d)) != ZE_OK)
		return e;
	if (*dst == NULL) {
		/* the first record becomes the accumulator */
		*dst = *scratch;
		*scratch = NULL;
		return ZE_OK;
	}
	if ((e = cell_acc_merge(*dst, *scratch)) != ZE_OK)
		return zdiag_set(d, e, "cell: cannot merge %s/%lld/%s: %s",
		    (*scratch)->region, (long long)(*scratch)->asn,
		    (*scratch)->service, zerr_str(e));
	return ZE_OK;
}

/* ------------------------------------------------------------ judging */

/* Method order for ties, and the specific signatures first: a named
 * technique (dns, tls, quic, proto, freeze, throttle) explains the cell
 * better than a generic failure it causes downstream (an HTTP fetch that
 * times out behind a DNS lie or a freeze). */
static const method_t method_rank[] = {
	METHOD_DNS, METHOD_TLS, METHOD_QUIC, METHOD_PROTO, METHOD_FREEZE,
	METHOD_THROTTLE, METHOD_TCP, METHOD_UDP, METHOD_HTTP, METHOD_NONE,
};

static bool
method_specific(method_t m)
{
	return m == METHOD_DNS || m == METHOD_TLS || m == METHOD_QUIC ||
	    m == METHOD_PROTO || m == METHOD_FREEZE || m == METHOD_THROTTLE;
}

/* Dominant method of counts m[]: specific ones first, then by count, ties
 * by method_rank. */
static method_t
dominant(const uint64_t *m)
{
	method_t best = METHOD_NONE;
	uint64_t bc = 0;
	bool bspec = false;
	size_t i;

	for (i = 0; i < ZARRAY_LEN(method_rank); i++) {
		method_t k = method_rank[i];
		bool spec = method_specific(k);
		if (m[k] == 0)
			continue;
		if (bc == 0 || (spec && !bspec) ||
		    (spec == bspec && m[k] > bc)) {
			best = k;
			bc = m[k];
			bspec = spec;
		}
	}
	return best;
}

/*
 * An agent's sample in a sub-row: the verdict most of its measurements
 * there have.  Ties go to the first of this list, so a tie never makes a
 * sample blocking evidence (blocked and throttled come last) nor a
 * review, geoblocked or filtered one when ok or down tie with it.
 */
static const verdict_t sample_rank[] = {
	VERDICT_OK, VERDICT_DOWN, VERDICT_ANOMALY, VERDICT_REVIEW,
	VERDICT_GEOBLOCKED,
	VERDICT_FILTERED, VERDICT_THROTTLED, VERDICT_BLOCKED,
};

static verdict_t
ent_sample(const struct acc_ent *x, bool latest)
{
	verdict_t best = VERDICT_OK;
	uint32_t bc = 0;
	size_t i;

	if (latest && x->last_us > 0)
		return (verdict_t)x->last_v;

	for (i = 0; i < ZARRAY_LEN(sample_rank); i++)
		if (x->n[sample_rank[i]] > bc) {
			best = sample_rank[i];
			bc = x->n[best];
		}
	return best;
}

static bool
is_bt(verdict_t v)
{
	return v == VERDICT_BLOCKED || v == VERDICT_THROTTLED;
}

/* Agent samples of a sub-row.  Flagged (agent_anomaly) samples are in
 * flagged only, none of the others. */
struct rowsum {
	uint64_t judged;	/* measurements */
	uint64_t samples;	/* agents, flagged ones not included */
	uint64_t b, t, down, ok, anom, geo, filt, rev;
	uint64_t flagged;
};

/* Whether sample s of an agent in a row with these totals (its own sample
 * included) is an agent anomaly: blocked or throttled while at least two
 * other agents reach the target and the blocking samples, its own
 * included, are a clear minority (at most half as many as the ok ones).
 * A split (2 blocked, 2 ok) flags nobody: it is inconclusive, not ok. */
static bool
anomalous(verdict_t s, uint64_t ok, uint64_t bt)
{
	return is_bt(s) && ok >= 2 && 2 * bt <= ok;
}

/* Sum r's samples; m[] (when not NULL) += the method counts of the
 * blocking samples counted. */
static void
row_sum(const struct acc_row *r, bool latest, struct rowsum *s, uint64_t *m)
{
	uint64_t ok = 0, bt = 0;
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->judged = row_judged(r);
	for (i = 0; i < r->nents; i++) {
		verdict_t v = ent_sample(&r->ents[i], latest);
		ok += v == VERDICT_OK;
		bt += is_bt(v);
	}
	for (i = 0; i < r->nents; i++) {
		const struct acc_ent *x = &r->ents[i];
		verdict_t v = ent_sample(x, latest);

		if (anomalous(v, ok, bt)) {
			s->flagged++;
			continue;
		}
		s->samples++;
		switch (v) {
		case VERDICT_BLOCKED:
			s->b++;
			break;
		case VERDICT_THROTTLED:
			s->t++;
			break;
		case VERDICT_DOWN:
			s->down++;
			break;
		case VERDICT_ANOMALY:
			s->anom++;
			break;
		case VERDICT_GEOBLOCKED:
			s->geo++;
			break;
		case VERDICT_FILTERED:
			s->filt++;
			break;
		case VERDICT_REVIEW:
			s->rev++;	/* never blocking evidence */
			break;
		default:
			s->ok++;
			break;
		}
		if (m != NULL && is_bt(v) && latest && x->last_us > 0)
			m[x->last_m]++;		/* the latest one's own */
		else if (m != NULL && is_bt(v))
			for (j = 0; j < METHOD__COUNT; j++)
				m[j] += x->m[j];
	}
}

static void
row_judge(const struct acc_row *r, const struct cell_opts *o,
    struct cell_row *w, struct rowsum *s)
{
	uint64_t bt, eff, m[METHOD__COUNT] = {0};
	double share = 0, lower = 0;

	row_sum(r, o->latest, s, m);
	bt = s->b + s->t;
	eff = s->samples - s->down;
	if (eff > 0) {
		share = (double)bt / (double)eff;
		lower = cell_wilson_lower(bt, eff, o->z);
	}
	memcpy(w->target, r->target, sizeof(w->target));
	memcpy(w->variant, r->variant, sizeof(w->variant));
	w->test = (Zond__V1__TestKind)r->test;
	w->measurements = (uint32_t)s->judged;
	w->agents = (uint32_t)s->samples;
	w->agent_anomaly = (uint32_t)s->flagged;
	w->blocked_share = share;
	w->confidence = lower;
	w->method = METHOD_NONE;
	if (s->judged < o->target_min) {
		w->verdict = CELL_INSUFFICIENT;
		w->confidence = 0;
	} else if (bt >= o->min_blocked && share >= o->block_share &&
	    lower >= o->block_lower) {
		w->verdict = s->b >= s->t ? CELL_BLOCKED : CELL_THROTTLED;
		w->method = dominant(m);
	} else if (s->filt * 2 > s->samples) {
		w->verdict = CELL_FILTERED;
		w->confidence = cell_wilson_lower(s->filt, s->samples, o->z);
	} else if (s->geo * 2 > s->samples) {
		w->verdict = CELL_GEOBLOCKED;
		w->confidence = cell_wilson_lower(s->geo, s->samples, o->z);
	} else if (s->rev * 2 > s->samples) {
		w->verdict = CELL_REVIEW;
		w->confidence = cell_wilson_lower(s->rev, s->samples, o->z);
	} else if (s->down * 2 > s->samples) {
		w->verdict = CELL_DOWN;
		w->confidence = cell_wilson_lower(s->down, s->samples, o->z);
	} else if (s->ok * 2 <= eff) {
		/* mostly unexplained failures, or blocking seen by too few
		 * agents: ok would be a claim we cannot make, blocked one
		 * we must not */
		w->verdict = CELL_INSUFFICIENT;
		w->confidence = 0;
	} else {
		w->verdict = CELL_OK;
		w->confidence = cell_wilson_lower(s->ok, eff, o->z);
	}
}

void
cell_clear(cell_t *c)
{
	if (c == NULL)
		return;
	free(c->targets);
	free(c->anomalies);
	memset(c, 0, sizeof(*c));
}

/* c->anomalies: the agents flagged in some sub-row, with the share of
 * their blocked and throttled measurements in the cell. */
static bool
row_in(const struct acc_row *r, cell_facet_t f)
{
	return f == CELL_FACET_ALL ||
	    cell_facet_of((Zond__V1__TestKind)r->test) == f;
}

static zerr_t
cell_anomalies(const cell_acc_t *a, cell_facet_t f, bool latest, cell_t *c)
{
	uint64_t *bt = NULL;
	uint8_t *flag = NULL;
	size_t i, j, k, nf = 0;
	uint64_t ok, nbt;
	bool found;
	zerr_t e = ZE_NOMEM;

	if ((bt = calloc(a->nagents, sizeof(*bt))) == NULL ||
	    (flag = calloc(a->nagents, 1)) == NULL)
		goto out;
	for (i = 0; i < a->nrows; i++) {
		const struct acc_row *r = &a->rows[i];

		if (!row_in(r, f))
			continue;
		ok = nbt = 0;
		for (j = 0; j < r->nents; j++) {
			verdict_t v = ent_sample(&r->ents[j], latest);
			ok += v == VERDICT_OK;
			nbt += is_bt(v);
		}
		for (j = 0; j < r->nents; j++) {
			const struct acc_ent *x = &r->ents[j];

			k = agent_find(a, x->key, &found);
			ZASSERT(found);
			bt[k] += (uint64_t)x->n[VERDICT_BLOCKED] +
			    x->n[VERDICT_THROTTLED];
			if (anomalous(ent_sample(x, latest), ok, nbt) &&
			    !flag[k]) {
				flag[k] = 1;
				nf++;
			}
		}
	}
	if ((c->anomalies = calloc(nf, sizeof(*c->anomalies))) == NULL)
		goto out;
	for (i = 0; i < a->nagents; i++) {
		struct cell_anomaly *y;

		if (!flag[i])
			continue;
		y = &c->anomalies[c->agent_anomaly++];
		memcpy(y->agent, a->agents[i].key, AGENT_LEN);
		y->share = (double)bt[i] / (double)a->agents[i].n;
		/* a facet's share is over the whole cell's measurements of the
		 * agent: what it failed there out of all it measured */
	}
	e = ZE_OK;
out:
	free(bt);
	free(flag);
	return e;
}

/* Distinct agents measuring the sub-rows of facet f (ALL: a->nagents);
 * SIZE_MAX when out of memory. */
static size_t
facet_agents(const cell_acc_t *a, cell_facet_t f)
{
	uint8_t *seen;
	size_t i, j, k, n = 0;
	bool found;

	if (f == CELL_FACET_ALL)
		return a->nagents;
	if ((seen = calloc(a->nagents + 1, 1)) == NULL)
		return SIZE_MAX;
	for (i = 0; i < a->nrows; i++) {
		if (!row_in(&a->rows[i], f))
			continue;
		for (j = 0; j < a->rows[i].nents; j++) {
			k = agent_find(a, a->rows[i].ents[j].key, &found);
			ZASSERT(found);
			n += !seen[k];
			seen[k] = 1;
		}
	}
	free(seen);
	return n;
}

/* cell_judge over the sub-rows of f. */
static zerr_t
judge_part(const cell_acc_t *a, const struct cell_opts *opts,
    cell_facet_t f, cell_t *c)
{
	struct cell_opts def;
	struct rowsum s, tot;
	uint64_t m[METHOD__COUNT], eff;
	size_t i, nt = 0, nagents;
	bool any_b = false, any_t = false, any_f = false, any_g = false;
	bool any_r = false;
	double best = 0, best_f = 0, best_g = 0, best_r = 0;
	zerr_t e;

	memset(c, 0, sizeof(*c));
	if (opts == NULL) {
		cell_opts_default(&def);
		opts = &def;
	}
	memcpy(c->region, a->region, sizeof(c->region));
	memcpy(c->service, a->service, sizeof(c->service));
	if (f != CELL_FACET_ALL && (size_t)snprintf(c->service,
	    sizeof(c->service), "%s/%s", a->service, cell_facet_name(f)) >=
	    sizeof(c->service))
		return ZE_TOOBIG;
	c->asn = a->asn;
	if ((nagents = facet_agents(a, f)) == SIZE_MAX)
		return ZE_NOMEM;
	if (a->nrows > 0 &&
	    (c->targets = calloc(a->nrows, sizeof(*c->targets))) == NULL)
		return ZE_NOMEM;
	memset(&tot, 0, sizeof(tot));
	memset(m, 0, sizeof(m));
	for (i = 0; i < a->nrows; i++) {
		const struct acc_row *r = &a->rows[i];
		struct cell_row *w;

		if (!row_in(r, f))
			continue;
		w = &c->targets[nt++];
		row_judge(r, opts, w, &s);
		tot.judged += s.judged;
		tot.samples += s.samples;
		tot.b += s.b;
		tot.t += s.t;
		tot.down += s.down;
		tot.ok += s.ok;
		tot.anom += s.anom;
		tot.flagged += s.flagged;
		switch (w->verdict) {
		case CELL_BLOCKED:
		case CELL_THROTTLED:
			if (w->verdict == CELL_BLOCKED)
				any_b = true;
			else
				any_t = true;
			/* the methods of the blocking samples */
			row_sum(r, opts->latest, &s, m);
			if (w->confidence > best)
				best = w->confidence;
			for (size_t k = 0; k < CELL_WHERE_KINDS; k++)
				c->where_n[k] += r->w[k];
			for (size_t k = 0; k < r->nhop; k++)
				c->hops[k] += r->hop[k];
			break;
		case CELL_FILTERED:
		case CELL_GEOBLOCKED:
			if (w->verdict == CELL_FILTERED) {
				any_f = true;
				if (w->confidence > best_f)
					best_f = w->confidence;
			} else {
				any_g = true;
				if (w->confidence > best_g)
					best_g = w->confidence;
			}
			break;
		case CELL_REVIEW:
			any_r = true;
			if (w->confidence > best_r)
				best_r = w->confidence;
			break;
		default:
			break;
		}
	}
	c->ntargets = nt;
	if (nt == 0) {
		cell_clear(c);
		return ZE_NOTFOUND;
	}
	if (tot.flagged > 0 && (e = cell_anomalies(a, f, opts->latest, c)) != ZE_OK) {
		cell_clear(c);
		return e;
	}
	eff = tot.samples - tot.down;
	c->measurements = tot.judged > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)tot.judged;
	c->agents = (uint32_t)nagents;
	c->blocked_share = eff > 0 ? (double)(tot.b + tot.t) / (double)eff :
	    0;
	c->method = METHOD_NONE;
	if (tot.judged < opts->min_measurements ||
	    nagents < opts->min_agents) {
		c->verdict = CELL_INSUFFICIENT;
		c->confidence = 0;
	} else if (any_b || any_t) {
		c->verdict = any_b ? CELL_BLOCKED : CELL_THROTTLED;
		c->method = dominant(m);
		c->confidence = best;
	} else if (any_f || any_g) {
		/* a filter or the site's own refusal, never the state's */
		c->verdict = any_f ? CELL_FILTERED : CELL_GEOBLOCKED;
		c->confidence = any_f ? best_f : best_g;
	} else if (any_r) {
		/* flagged for review: a domestic control fails too */
		c->verdict = CELL_REVIEW;
		c->confidence = best_r;
	} else if (tot.down * 2 > tot.samples) {
		c->verdict = CELL_DOWN;
		c->confidence = cell_wilson_lower(tot.down, tot.samples,
		    opts->z);
	} else if (tot.ok * 2 <= eff) {
		c->verdict = CELL_INSUFFICIENT;	/* inconclusive */
		c->confidence = 0;
	} else {
		c->verdict = CELL_OK;
		c->confidence = cell_wilson_lower(tot.ok, eff, opts->z);
	}
	if (c->verdict == CELL_BLOCKED || c->verdict == CELL_THROTTLED) {
		uint32_t isp = c->where_n[CELL_WHERE_ISP];
		uint32_t up = c->where_n[CELL_WHERE_UPSTREAM];

		c->where = isp > up ? CELL_WHERE_ISP : up > isp ?
		    CELL_WHERE_UPSTREAM : CELL_WHERE_UNKNOWN;
	} else {
		/* where only speaks for a block */
		memset(c->where_n, 0, sizeof(c->where_n));
		memset(c->hops, 0, sizeof(c->hops));
	}
	return ZE_OK;
}

zerr_t
cell_judge(const cell_acc_t *a, const struct cell_opts *opts, cell_t *c)
{
	zerr_t e = judge_part(a, opts, CELL_FACET_ALL, c);

	if (e == ZE_NOTFOUND) {
		/* no sub-row: insufficient, as before */
		memset(c, 0, sizeof(*c));
		memcpy(c->region, a->region, sizeof(c->region));
		memcpy(c->service, a->service, sizeof(c->service));
		c->asn = a->asn;
		c->verdict = CELL_INSUFFICIENT;
		return ZE_OK;
	}
	return e;
}

zerr_t
cell_judge_facet(const cell_acc_t *a, const struct cell_opts *opts,
    cell_facet_t f, cell_t *c)
{
	if (f != CELL_FACET_CALLS && f != CELL_FACET_MESSAGING) {
		memset(c, 0, sizeof(*c));
		return ZE_INVAL;
	}
	return judge_part(a, opts, f, c);
}

bool
cell_acc_has_facet(const cell_acc_t *a, cell_facet_t f)
{
	size_t i;

	for (i = 0; i < a->nrows; i++)
		if (row_in(&a->rows[i], f))
			return true;
	return false;
}

zerr_t
cell_judge_map(const cell_acc_t *a, const struct cell_opts *o,
    cell_facet_t want, bool split, cell_t out[3], size_t *n)
{
	static const cell_facet_t parts[2] = {CELL_FACET_CALLS,
	    CELL_FACET_MESSAGING};
	size_t k, i;
	zerr_t e;

	*n = 0;
	if (want != CELL_FACET_ALL) {
		if (!cell_acc_has_facet(a, want))
			return ZE_OK;
		if ((e = cell_judge_facet(a, o, want, &out[0])) == ZE_OK)
			*n = 1;
		return e == ZE_TOOBIG ? ZE_OK : e;
	}
	if ((e = cell_judge(a, o, &out[0])) != ZE_OK)
		return e;
	k = 1;
	for (i = 0; split && i < 2; i++) {
		if (!cell_acc_has_facet(a, parts[i]))
			continue;
		if ((e = cell_judge_facet(a, o, parts[i], &out[k])) == ZE_OK) {
			k++;
			continue;
		}
		if (e == ZE_TOOBIG)
			continue;	/* a name too long for its parts */
		while (k > 0)
			cell_clear(&out[--k]);
		return e;
	}
	if (k == 3) {
		out[0].has_facets = true;
		out[0].facet[0] = out[1].verdict;
		out[0].facet[1] = out[2].verdict;
	}
	*n = k;
	return ZE_OK;
}

/* ------------------------------------------------------------ regions */

static int
cellp_cmp(const void *x, const void *y)
{
	const cell_t *a = *(const cell_t *const *)x;
	const cell_t *b = *(const cell_t *const *)y;
	int c;

	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	if ((c = strcmp(a->service, b->service)) != 0)
		return c;
	return a->asn < b->asn ? -1 : a->asn > b->asn;
}

/*
 * Per (region, service) over its ASN cells, those with a verdict being
 * all but the insufficient ones: blocked when every one of those is
 * blocked or throttled and one is blocked (throttled when all are
 * throttled); partial when some but not all are, with the blocked ASNs
 * named; else filtered when a cell is, else geoblocked when one is, else
 * review when one is; down
 * when its down cells are at least as many as its ok ones; ok; else
 * insufficient.  where: isp (upstream) when the blocked or throttled
 * cells whose where is known all say isp (upstream), mixed when both
 * occur, unknown when none is known.  One allocation holds the rows and, after them, the
 * blocked ASNs they point to (at most one per cell).
 */
zerr_t
cells_regions(const cell_t *cells, size_t n, struct region_row **out,
    size_t *nout)
{
	const cell_t **v = NULL;
	struct region_row *rr = NULL;
	int64_t *asns;
	size_t i, j, k = 0, na = 0;
	uint32_t cnt[CELL__COUNT], judged, rg;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return ZE_OK;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (rr = calloc(n, sizeof(*rr) + sizeof(*asns))) == NULL) {
		free(v);
		return ZE_NOMEM;
	}
	asns = (int64_t *)(void *)&rr[n];
	for (i = 0; i < n; i++)
		v[i] = &cells[i];
	qsort(v, n, sizeof(*v), cellp_cmp);
	for (i = 0; i < n; i = j) {
		struct region_row *w = &rr[k++];
		unsigned wseen = 0;
		uint32_t mc[METHOD__COUNT] = {0};
		double conf = 0;

		memset(cnt, 0, sizeof(cnt));
		w->blocked_asns = &asns[na];
		for (j = i; j < n && strcmp(v[j]->region, v[i]->region) == 0 &&
		    strcmp(v[j]->service, v[i]->service) == 0; j++) {
			cell_verdict_t cv = v[j]->verdict;

			if ((unsigned)cv >= CELL__COUNT)
				cv = CELL_INSUFFICIENT;
			cnt[cv]++;
			if ((unsigned)v[j]->method < METHOD__COUNT)
				mc[v[j]->method]++;
			conf += v[j]->confidence;
			w->agents += v[j]->agents;
			w->agent_anomaly += v[j]->agent_anomaly;
			if (cv == CELL_BLOCKED || cv == CELL_THROTTLED) {
				asns[na++] = v[j]->asn;	/* ascending */
				if (v[j]->where == CELL_WHERE_ISP ||
				    v[j]->where == CELL_WHERE_UPSTREAM)
					wseen |= 1u << v[j]->where;
			}
		}
		w->where = wseen == 1u << CELL_WHERE_ISP ? CELL_WHERE_ISP :
		    wseen == 1u << CELL_WHERE_UPSTREAM ? CELL_WHERE_UPSTREAM :
		    wseen != 0 ? CELL_WHERE_MIXED : CELL_WHERE_UNKNOWN;
		memcpy(w->region, v[i]->region, sizeof(w->region));
		memcpy(w->service, v[i]->service, sizeof(w->service));
		w->asns = (uint32_t)(j - i);
		w->confidence = conf / (double)w->asns;
		w->method = METHOD_NONE;
		for (unsigned m = 0; m < METHOD__COUNT; m++)
			if (m != METHOD_NONE && mc[m] > 0 &&
			    (w->method == METHOD_NONE || mc[m] > mc[w->method]))
				w->method = (method_t)m;
		w->asns_blocked = cnt[CELL_BLOCKED] + cnt[CELL_THROTTLED];
		w->nblocked_asns = w->asns_blocked;
		judged = w->asns - cnt[CELL_INSUFFICIENT];
		rg = cnt[CELL_WHITELIST] + cnt[CELL_SHUTDOWN];
		if (rg > 0 && rg == judged)	/* METHODOLOGY "Regimes" */
			w->verdict = cnt[CELL_SHUTDOWN] == judged ?
			    CELL_SHUTDOWN : CELL_WHITELIST;
		else if (w->asns_blocked > 0 && w->asns_blocked == judged)
			w->verdict = cnt[CELL_BLOCKED] > 0 ? CELL_BLOCKED :
			    CELL_THROTTLED;
		else if (w->asns_blocked > 0 || rg > 0)
			w->verdict = CELL_PARTIAL;
		else if (cnt[CELL_FILTERED] > 0)
			w->verdict = CELL_FILTERED;
		else if (cnt[CELL_GEOBLOCKED] > 0)
			w->verdict = CELL_GEOBLOCKED;
		else if (cnt[CELL_REVIEW] > 0)
			w->verdict = CELL_REVIEW;
		else if (cnt[CELL_DOWN] > 0 && cnt[CELL_DOWN] >= cnt[CELL_OK])
			w->verdict = CELL_DOWN;
		else if (cnt[CELL_OK] > 0)
			w->verdict = CELL_OK;
		else
			w->verdict = CELL_INSUFFICIENT;
	}
	free(v);
	*out = rr;
	*nout = k;
	return ZE_OK;
}
