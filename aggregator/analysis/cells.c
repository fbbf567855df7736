/*
 * cells.c — see cells.h; docs/METHODOLOGY.md "Cells" for the reasoning.
 *
 * Invariants of a cell_acc: rows sorted by (target, test, variant) and
 * unique; agents sorted by key and unique, each with n > 0; the sum of
 * agent counts equals the sum of row verdict counts; pending is never
 * counted; method counts of a row sum to its blocked + throttled count
 * (method NONE included).  Every array is capped (CELL_MAX_ROWS,
 * CELL_MAX_AGENTS) and decode re-checks all of it, so a damaged record is
 * refused rather than believed.
 */
#include "cells.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

#define AGENT_LEN 32

struct acc_row {
	char target[CELL_TARGET_MAX];
	char variant[CELL_VARIANT_MAX];
	uint8_t test;
	uint32_t n[VERDICT__COUNT];
	uint32_t m[METHOD__COUNT];
};

struct acc_agent {
	uint8_t key[AGENT_LEN];
	uint32_t n;
};

struct cell_acc {
	char region[CELL_REGION_MAX];
	int64_t asn;
	char service[CELL_SERVICE_MAX];
	struct acc_row *rows;
	size_t nrows, arows;
	struct acc_agent *agents;
	size_t nagents, aagents;
};

static const char *const cell_names[CELL__COUNT] = {
	"ok", "blocked", "throttled", "down", "insufficient", "geoblocked",
	"filtered", "partial",
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

void
cell_opts_default(struct cell_opts *o)
{
	o->min_measurements = 3;
	o->min_agents = 1;
	o->target_min = 2;
	o->min_blocked = 2;
	o->block_share = 0.5;
	o->block_lower = 0.3;
	o->z = 1.96;
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

	if (ap == NULL || (a = *ap) == NULL)
		return;
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

static size_t
agent_find(const cell_acc_t *a, const uint8_t *key, bool *found)
{
	size_t lo = 0, hi = a->nagents, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(key, a->agents[mid].key, AGENT_LEN);
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

/* Get (or insert, when make) the row of (t, k, v). */
static zerr_t
row_get(cell_acc_t *a, const char *t, uint8_t k, const char *v, bool make,
    struct acc_row **out)
{
	struct acc_row r;
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
	memset(&r, 0, sizeof(r));
	if (!fit(r.target, sizeof(r.target), t, true) ||
	    !fit(r.variant, sizeof(r.variant), v, true))
		return ZE_INVAL;
	r.test = k;
	if ((e = grow((void **)&a->rows, &a->arows, a->nrows,
	    sizeof(*a->rows), CELL_MAX_ROWS)) != ZE_OK)
		return e;
	memmove(&a->rows[i + 1], &a->rows[i],
	    (a->nrows - i) * sizeof(*a->rows));
	a->rows[i] = r;
	a->nrows++;
	*out = &a->rows[i];
	return ZE_OK;
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

static zerr_t
obs_check(const struct cell_obs *o)
{
	if (o == NULL || o->agent == NULL || o->target == NULL ||
	    (unsigned)o->verdict >= VERDICT__COUNT ||
	    o->verdict == VERDICT_PENDING ||
	    (unsigned)o->method >= METHOD__COUNT ||
	    (unsigned)o->test > UINT8_MAX)
		return ZE_INVAL;
	return ZE_OK;
}

zerr_t
cell_acc_add(cell_acc_t *a, const struct cell_obs *o)
{
	const char *v;
	struct acc_row *r;
	zerr_t e;

	if ((e = obs_check(o)) != ZE_OK)
		return e;
	v = o->variant != NULL ? o->variant : "";
	if ((e = row_get(a, o->target, (uint8_t)o->test, v, false, &r)) ==
	    ZE_OK) {
		if (r->n[o->verdict] == UINT32_MAX)
			return ZE_RANGE;
	} else if ((e = row_get(a, o->target, (uint8_t)o->test, v, true,
	    &r)) != ZE_OK)
		return e;
	if ((e = agent_bump(a, o->agent, 1)) != ZE_OK) {
		/* leave no empty row behind */
		uint32_t s = 0;
		for (size_t i = 0; i < VERDICT__COUNT; i++)
			s += r->n[i];
		if (s == 0) {
			size_t i = (size_t)(r - a->rows);
			memmove(&a->rows[i], &a->rows[i + 1],
			    (a->nrows - i - 1) * sizeof(*a->rows));
			a->nrows--;
		}
		return e;
	}
	r->n[o->verdict]++;
	if (counts_method(o->verdict))
		r->m[o->method]++;
	return ZE_OK;
}

zerr_t
cell_acc_remove(cell_acc_t *a, const struct cell_obs *o)
{
	const char *v;
	struct acc_row *r;
	bool found;
	size_t i;
	uint32_t s = 0;
	zerr_t e;

	if ((e = obs_check(o)) != ZE_OK)
		return e;
	v = o->variant != NULL ? o->variant : "";
	if (row_get(a, o->target, (uint8_t)o->test, v, false, &r) != ZE_OK ||
	    r->n[o->verdict] == 0 ||
	    (counts_method(o->verdict) && r->m[o->method] == 0))
		return ZE_NOTFOUND;
	(void)agent_find(a, o->agent, &found);
	if (!found)
		return ZE_NOTFOUND;
	if ((e = agent_bump(a, o->agent, -1)) != ZE_OK)
		return e;
	r->n[o->verdict]--;
	if (counts_method(o->verdict))
		r->m[o->method]--;
	for (i = 0; i < VERDICT__COUNT; i++)
		s += r->n[i];
	if (s == 0) {
		i = (size_t)(r - a->rows);
		memmove(&a->rows[i], &a->rows[i + 1],
		    (a->nrows - i - 1) * sizeof(*a->rows));
		a->nrows--;
	}
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
		for (j = 0; j < VERDICT__COUNT; j++) {
			if (r->n[j] > UINT32_MAX - s->n[j])
				return ZE_RANGE;
			r->n[j] += s->n[j];
		}
		for (j = 0; j < METHOD__COUNT; j++) {
			if (r->m[j] > UINT32_MAX - s->m[j])
				return ZE_RANGE;
			r->m[j] += s->m[j];
		}
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
 * Version 1 (integers big-endian):
 *   u8 version | u8 len, region | i64 asn | u8 len, service
 *   u32 nagents, then per agent: key[32] u32 count
 *   u32 nrows, then per row: u16 len, target | u8 test | u8 len, variant |
 *       u8 nv, u32 count[nv] (by verdict_t) | u8 nm, u32 count[nm] (by
 *       method_t)
 * nv and nm say how many counts follow, so a reader knows the layout; a
 * reader refuses more than it knows.
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

#define TRY(x) do { if ((e = (x)) != ZE_OK) goto fail; } while (0)

zerr_t
cell_acc_encode(const cell_acc_t *a, zbuf_t *out)
{
	size_t i, j, len0 = out->len;
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
		TRY(put_u8(out, VERDICT__COUNT));
		for (j = 0; j < VERDICT__COUNT; j++)
			TRY(put_be(out, r->n[j], 4));
		TRY(put_u8(out, METHOD__COUNT));
		for (j = 0; j < METHOD__COUNT; j++)
			TRY(put_be(out, r->m[j], 4));
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

/* In acc_decode_into: a read past the end so far is ZE_TRUNC. */
#define NEED(r) do { if (br_error(r) != ZE_OK) { e = ZE_TRUNC; goto bad; } } \
	while (0)

/* Decode into a, reusing (and growing) its arrays; on error a holds part
 * of the record (the caller resets or frees it). */
static zerr_t
acc_decode_into(cell_acc_t *a, const uint8_t *p, size_t n, zdiag_t *d)
{
	breader_t r;
	uint64_t v, na, nr, cnt, sum_agents = 0, sum_rows = 0, bt;
	size_t i, j;
	zerr_t e;
	const char *what = "header";

	a->nrows = a->nagents = 0;
	if (n == 0 || p == NULL)
		return zdiag_set(d, ZE_TRUNC, "cell: empty record");
	if (p[0] != CELL_ACC_VERSION)
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
	if (a->region[0] == '\0' || a->service[0] == '\0') {
		e = ZE_PARSE;
		goto bad;
	}
	what = "agents";
	na = br_be32(&r);
	NEED(&r);
	if (na > CELL_MAX_AGENTS) {
		e = ZE_TOOBIG;
		goto bad;
	}
	if (na > a->aagents) {
		struct acc_agent *ng = realloc(a->agents, na * sizeof(*ng));
		if (ng == NULL) {
			e = ZE_NOMEM;
			goto bad;
		}
		a->agents = ng;
		a->aagents = na;
	}
	for (i = 0; i < na; i++) {
		struct acc_agent *g = &a->agents[i];

		br_copy(&r, g->key, AGENT_LEN);
		v = br_be32(&r);
		NEED(&r);
		if (v == 0 || (i > 0 && memcmp(a->agents[i - 1].key, g->key,
		    AGENT_LEN) >= 0)) {
			e = ZE_PARSE;
			goto bad;
		}
		g->n = (uint32_t)v;
		sum_agents += v;
		a->nagents++;
	}
	what = "rows";
	nr = br_be32(&r);
	NEED(&r);
	if (nr > CELL_MAX_ROWS) {
		e = ZE_TOOBIG;
		goto bad;
	}
	if (nr > a->arows) {
		struct acc_row *nw = realloc(a->rows, nr * sizeof(*nw));
		if (nw == NULL) {
			e = ZE_NOMEM;
			goto bad;
		}
		a->rows = nw;
		a->arows = nr;
	}
	for (i = 0; i < nr; i++) {
		struct acc_row *w = &a->rows[i];
		uint64_t rs = 0, ms = 0;

		memset(w->n, 0, sizeof(w->n));
		memset(w->m, 0, sizeof(w->m));
		if ((e = get_str(&r, 2, w->target, sizeof(w->target))) !=
		    ZE_OK)
			goto bad;
		w->test = br_u8(&r);
		NEED(&r);
		if ((e = get_str(&r, 1, w->variant, sizeof(w->variant))) !=
		    ZE_OK)
			goto bad;
		if (i > 0 && row_cmp(w->target, w->test, w->variant,
		    &a->rows[i - 1]) <= 0) {
			e = ZE_PARSE;	/* not sorted or duplicate */
			goto bad;
		}
		cnt = br_u8(&r);
		NEED(&r);
		if (cnt > VERDICT__COUNT) {
			e = ZE_VERSION;
			goto bad;
		}
		for (j = 0; j < cnt; j++) {
			w->n[j] = br_be32(&r);
			rs += w->n[j];
		}
		cnt = br_u8(&r);
		NEED(&r);
		if (cnt > METHOD__COUNT) {
			e = ZE_VERSION;
			goto bad;
		}
		for (j = 0; j < cnt; j++) {
			w->m[j] = br_be32(&r);
			ms += w->m[j];
		}
		NEED(&r);
		bt = (uint64_t)w->n[VERDICT_BLOCKED] + w->n[VERDICT_THROTTLED];
		if (rs == 0 || w->n[VERDICT_PENDING] != 0 || ms != bt) {
			e = ZE_PARSE;
			goto bad;
		}
		sum_rows += rs;
		a->nrows++;
	}
	what = "record";
	if (br_left(&r) != 0 || sum_rows != sum_agents) {
		e = ZE_PARSE;
		goto bad;
	}
	return ZE_OK;
bad:
	a->nrows = a->nagents = 0;
	return zdiag_set(d, e, "cell: bad %s at byte %zu: %s", what, r.pos,
	    zerr_str(e));
}

#undef NEED

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

struct rowsum {
	uint64_t judged, eff, b, t, down, ok, anom;
};

static void
row_sum(const struct acc_row *r, struct rowsum *s)
{
	s->judged = row_judged(r);
	s->down = r->n[VERDICT_DOWN];
	s->eff = s->judged - s->down;
	s->b = r->n[VERDICT_BLOCKED];
	s->t = r->n[VERDICT_THROTTLED];
	s->ok = r->n[VERDICT_OK];
	s->anom = r->n[VERDICT_ANOMALY];
}

static void
row_judge(const struct acc_row *r, const struct cell_opts *o,
    struct cell_row *w)
{
	struct rowsum s;
	uint64_t bt, m[METHOD__COUNT];
	double share = 0, lower = 0;
	size_t i;

	row_sum(r, &s);
	bt = s.b + s.t;
	if (s.eff > 0) {
		share = (double)bt / (double)s.eff;
		lower = cell_wilson_lower(bt, s.eff, o->z);
	}
	memcpy(w->target, r->target, sizeof(w->target));
	memcpy(w->variant, r->variant, sizeof(w->variant));
	w->test = (Zond__V1__TestKind)r->test;
	w->measurements = (uint32_t)s.judged;
	w->blocked_share = share;
	w->confidence = lower;
	w->method = METHOD_NONE;
	if (s.judged < o->target_min) {
		w->verdict = CELL_INSUFFICIENT;
		w->confidence = 0;
	} else if (bt >= o->min_blocked && share >= o->block_share &&
	    lower >= o->block_lower) {
		w->verdict = s.b >= s.t ? CELL_BLOCKED : CELL_THROTTLED;
		for (i = 0; i < METHOD__COUNT; i++)
			m[i] = r->m[i];
		w->method = dominant(m);
	} else if (s.down * 2 > s.judged) {
		w->verdict = CELL_DOWN;
		w->confidence = cell_wilson_lower(s.down, s.judged, o->z);
	} else if (s.anom * 2 > s.eff) {
		/* mostly unexplained failures: ok would be a claim we
		 * cannot make, blocked one we must not */
		w->verdict = CELL_INSUFFICIENT;
		w->confidence = 0;
	} else {
		w->verdict = CELL_OK;
		w->confidence = cell_wilson_lower(s.ok, s.eff, o->z);
	}
}

void
cell_clear(cell_t *c)
{
	if (c == NULL)
		return;
	free(c->targets);
	memset(c, 0, sizeof(*c));
}

zerr_t
cell_judge(const cell_acc_t *a, const struct cell_opts *opts, cell_t *c)
{
	struct cell_opts def;
	struct rowsum s, tot;
	uint64_t m[METHOD__COUNT];
	size_t i, j;
	bool any_b = false, any_t = false;
	double best = 0;

	memset(c, 0, sizeof(*c));
	if (opts == NULL) {
		cell_opts_default(&def);
		opts = &def;
	}
	memcpy(c->region, a->region, sizeof(c->region));
	memcpy(c->service, a->service, sizeof(c->service));
	c->asn = a->asn;
	if (a->nrows > 0 &&
	    (c->targets = calloc(a->nrows, sizeof(*c->targets))) == NULL)
		return ZE_NOMEM;
	c->ntargets = a->nrows;
	memset(&tot, 0, sizeof(tot));
	memset(m, 0, sizeof(m));
	for (i = 0; i < a->nrows; i++) {
		struct cell_row *w = &c->targets[i];
		row_judge(&a->rows[i], opts, w);
		row_sum(&a->rows[i], &s);
		tot.judged += s.judged;
		tot.eff += s.eff;
		tot.b += s.b;
		tot.t += s.t;
		tot.down += s.down;
		tot.ok += s.ok;
		tot.anom += s.anom;
		if (w->verdict == CELL_BLOCKED || w->verdict == CELL_THROTTLED) {
			if (w->verdict == CELL_BLOCKED)
				any_b = true;
			else
				any_t = true;
			for (j = 0; j < METHOD__COUNT; j++)
				m[j] += a->rows[i].m[j];
			if (w->confidence > best)
				best = w->confidence;
		}
	}
	c->measurements = tot.judged > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)tot.judged;
	c->agents = (uint32_t)a->nagents;
	c->blocked_share = tot.eff > 0 ?
	    (double)(tot.b + tot.t) / (double)tot.eff : 0;
	c->method = METHOD_NONE;
	if (tot.judged < opts->min_measurements ||
	    a->nagents < opts->min_agents) {
		c->verdict = CELL_INSUFFICIENT;
		c->confidence = 0;
	} else if (any_b || any_t) {
		c->verdict = any_b ? CELL_BLOCKED : CELL_THROTTLED;
		c->method = dominant(m);
		c->confidence = best;
	} else if (tot.down * 2 > tot.judged) {
		c->verdict = CELL_DOWN;
		c->confidence = cell_wilson_lower(tot.down, tot.judged,
		    opts->z);
	} else if (tot.anom * 2 > tot.eff) {
		c->verdict = CELL_INSUFFICIENT;	/* inconclusive */
		c->confidence = 0;
	} else {
		c->verdict = CELL_OK;
		c->confidence = cell_wilson_lower(tot.ok, tot.eff, opts->z);
	}
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
 * A region is blocked (throttled) for a service when at least one of its
 * ASN cells is; down when its down cells are at least as many as its ok
 * ones; insufficient when no cell has enough data.  asns counts all ASN
 * cells, asns_blocked the blocked or throttled ones.
 */
zerr_t
cells_regions(const cell_t *cells, size_t n, struct region_row **out,
    size_t *nout)
{
	const cell_t **v = NULL;
	struct region_row *rr = NULL;
	size_t i, j, k = 0;
	uint32_t cnt[CELL__COUNT];

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return ZE_OK;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (rr = calloc(n, sizeof(*rr))) == NULL) {
		free(v);
		return ZE_NOMEM;
	}
	for (i = 0; i < n; i++)
		v[i] = &cells[i];
	qsort(v, n, sizeof(*v), cellp_cmp);
	for (i = 0; i < n; i = j) {
		struct region_row *w = &rr[k++];
		memset(cnt, 0, sizeof(cnt));
		for (j = i; j < n && strcmp(v[j]->region, v[i]->region) == 0 &&
		    strcmp(v[j]->service, v[i]->service) == 0; j++)
			if ((unsigned)v[j]->verdict < CELL__COUNT)
				cnt[v[j]->verdict]++;
		memcpy(w->region, v[i]->region, sizeof(w->region));
		memcpy(w->service, v[i]->service, sizeof(w->service));
		w->asns = (uint32_t)(j - i);
		w->asns_blocked = cnt[CELL_BLOCKED] + cnt[CELL_THROTTLED];
		if (cnt[CELL_BLOCKED] > 0)
			w->verdict = CELL_BLOCKED;
		else if (cnt[CELL_THROTTLED] > 0)
			w->verdict = CELL_THROTTLED;
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
