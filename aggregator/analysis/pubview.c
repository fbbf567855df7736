/*
 * pubview.c — see pubview.h.  Costs: pub_regions O(n log n) in the map's
 * cells; pub_agents sorts once, on the first count after an add.
 */
#include "pubview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
pub_cell_shown(const cell_t *c, uint32_t k)
{
	return c->agents >= k;
}

static int
cellp_cmp(const void *x, const void *y)
{
	const cell_t *a = *(const cell_t *const *)x;
	const cell_t *b = *(const cell_t *const *)y;

	return cell_order(a->region, a->asn, a->service, b->region, b->asn,
	    b->service);
}

/* The cell of (region, asn, service) in v (sorted by cellp_cmp), or
 * NULL. */
static const cell_t *
find_cell(const cell_t **v, size_t n, const char *region, int64_t asn,
    const char *service)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cell_order(v[mid]->region, v[mid]->asn,
		    v[mid]->service, region, asn, service);
		if (c == 0)
			return v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

zerr_t
pub_regions(const cell_t *cells, size_t n, uint32_t k,
    struct region_row **out, size_t *nout)
{
	const cell_t **v = NULL;
	cell_t *oc = NULL;		/* copies of the cells of "other" */
	struct region_row *ra = NULL, *ro = NULL, *rr = NULL;
	size_t na = 0, no = 0, noc = 0, nr = 0, nasn = 0, i, j;
	int64_t *asns;
	zerr_t e;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return ZE_OK;
	if ((e = cells_regions(cells, n, &ra, &na)) != ZE_OK)
		return e;
	e = ZE_NOMEM;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (oc = calloc(n, sizeof(*oc))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		v[i] = &cells[i];
	qsort(v, n, sizeof(*v), cellp_cmp);
	/* the cells of small region rows, renamed "other" (shallow: their
	 * targets are not read by cells_regions) */
	for (i = 0; i < n; i++) {
		struct region_row key;
		const struct region_row *r;
		size_t lo = 0, hi = na;

		r = NULL;
		memcpy(key.region, cells[i].region, sizeof(key.region));
		memcpy(key.service, cells[i].service, sizeof(key.service));
		while (lo < hi && r == NULL) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(ra[mid].region, key.region);
			if (c == 0)
				c = strcmp(ra[mid].service, key.service);
			if (c == 0)
				r = &ra[mid];
			else if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (r != NULL && r->agents >= k)
			continue;
		oc[noc] = cells[i];
		oc[noc].targets = NULL;
		oc[noc].ntargets = 0;
		oc[noc].anomalies = NULL;
		memset(oc[noc].region, 0, sizeof(oc[noc].region));
		memcpy(oc[noc].region, PUB_OTHER, sizeof(PUB_OTHER));
		noc++;
	}
	if ((e = cells_regions(oc, noc, &ro, &no)) != ZE_OK)
		goto out;
	/* rows, then at most one blocked ASN per cell */
	e = ZE_NOMEM;
	if ((rr = calloc(1, (na + no) * sizeof(*rr) + n * sizeof(*asns))) ==
	    NULL)
		goto out;
	asns = (int64_t *)(void *)&rr[na + no];
	nasn = 0;
	for (i = 0; i < na; i++) {
		struct region_row *w;

		if (ra[i].agents < k)
			continue;
		w = &rr[nr++];
		*w = ra[i];
		w->blocked_asns = &asns[nasn];
		w->nblocked_asns = 0;
		for (j = 0; j < ra[i].nblocked_asns; j++) {
			const cell_t *c = find_cell(v, n, ra[i].region,
			    ra[i].blocked_asns[j], ra[i].service);
			if (c != NULL && pub_cell_shown(c, k)) {
				asns[nasn++] = ra[i].blocked_asns[j];
				w->nblocked_asns++;
			}
		}
	}
	for (i = 0; i < no; i++) {
		rr[nr] = ro[i];
		rr[nr].blocked_asns = &asns[nasn];
		rr[nr].nblocked_asns = 0;	/* no ASN of a hidden cell */
		nr++;
	}
	*out = rr;
	*nout = nr;
	rr = NULL;
	e = ZE_OK;
out:
	free(rr);
	free(ro);
	free(ra);
	free(oc);
	free(v);
	return e;
}

/* ------------------------------------------------------------- agents */

struct pub_net {
	char region[CELL_REGION_MAX];
	int64_t asn;
	uint32_t n;
};

struct pub_agents {
	struct pub_net *v;
	size_t n, cap;
	bool sorted;		/* and merged: one entry per network */
};

zerr_t
pub_agents_new(pub_agents_t **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return ZE_NOMEM;
	(*out)->sorted = true;
	return ZE_OK;
}

void
pub_agents_free(pub_agents_t **p)
{
	if (p == NULL || *p == NULL)
		return;
	free((*p)->v);
	free(*p);
	*p = NULL;
}

zerr_t
pub_agents_add(pub_agents_t *p, const char *region, int64_t asn)
{
	struct pub_net *w;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		if (cap > SIZE_MAX / sizeof(*p->v) ||
		    (w = realloc(p->v, cap * sizeof(*w))) == NULL)
			return ZE_NOMEM;
		p->v = w;
		p->cap = cap;
	}
	w = &p->v[p->n++];
	memset(w, 0, sizeof(*w));
	snprintf(w->region, sizeof(w->region), "%s", region);
	w->asn = asn;
	w->n = 1;
	p->sorted = false;
	return ZE_OK;
}

static int
net_cmp(const void *x, const void *y)
{
	const struct pub_net *a = x, *b = y;
	int c = strcmp(a->region, b->region);

	if (c != 0)
		return c;
	return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static void
agents_sort(pub_agents_t *p)
{
	size_t i, k = 0;

	if (p->sorted)
		return;
	qsort(p->v, p->n, sizeof(*p->v), net_cmp);
	for (i = 0; i < p->n; i++) {
		if (k > 0 && net_cmp(&p->v[k - 1], &p->v[i]) == 0)
			p->v[k - 1].n += p->v[i].n;
		else
			p->v[k++] = p->v[i];
	}
	p->n = k;
	p->sorted = true;
}

uint32_t
pub_agents_count(pub_agents_t *p, const char *region, int64_t asn)
{
	uint64_t sum = 0;
	size_t lo = 0, hi, i;

	agents_sort(p);
	hi = p->n;
	if (region == NULL) {
		for (i = 0; i < p->n; i++)
			if (asn == 0 || p->v[i].asn == asn)
				sum += p->v[i].n;
		return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
	}
	/* the first entry of region */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->v[mid].region, region) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < p->n && strcmp(p->v[i].region, region) == 0; i++)
		if (asn == 0 || p->v[i].asn == asn)
			sum += p->v[i].n;
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}
