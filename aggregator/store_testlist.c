/*
 * store_testlist.c — the newest signed test list (store.h): one meta
 * record "testlist" = version(8 BE) issued_us(8 BE) expires_us(8 BE)
 * tests(4 BE) then the SignedTestList bytes as zondctl pushed them
 * (docs/STORAGE.md).  The version only grows: a put of a version not
 * above the stored one is refused inside the same write transaction, so
 * two pushes racing cannot store the older one.
 */
#include <inttypes.h>
#include <string.h>

#include "store_int.h"

#define TL_KEY "testlist"
#define TL_HDR 28

struct tl_put {
	const struct store_testlist *m;
	const uint8_t *p;
	size_t n;
	uint64_t stored;	/* out: the version found (ZE_EXISTS) */
	bool older;
	zbuf_t rec;
};

static void
tl_hdr_get(const uint8_t *r, struct store_testlist *m)
{
	m->version = be64_get(r);
	m->issued_us = (int64_t)be64_get(r + 8);
	m->expires_us = (int64_t)be64_get(r + 16);
	m->ntests = be32_get(r + 24);
}

static int
tl_put_fn(store_tx_t *tx, void *arg)
{
	struct tl_put *a = arg;
	MDB_val v;
	int r;

	a->older = false;
	if ((r = st_tx_get(tx, tx->s->meta, TL_KEY, strlen(TL_KEY), &v)) < 0)
		return -1;
	if (r == 0 && v.mv_size >= TL_HDR) {
		a->stored = be64_get(v.mv_data);
		if (a->stored >= a->m->version) {
			a->older = true;
			return 1;
		}
	}
	return st_tx_put(tx, tx->s->meta, TL_KEY, strlen(TL_KEY),
	    a->rec.data, a->rec.len) < 0 ? -1 : 0;
}

zerr_t
store_testlist_put(store_t *s, const struct store_testlist *m,
    const uint8_t *p, size_t n, uint64_t *stored, zdiag_t *d)
{
	struct tl_put a = {.m = m, .p = p, .n = n};
	uint8_t *w;
	zerr_t e;

	*stored = 0;
	zbuf_init(&a.rec, TL_HDR + n);
	if ((e = zbuf_reserve(&a.rec, TL_HDR + n, &w)) != ZE_OK) {
		zbuf_free(&a.rec);
		return zdiag_set(d, e, "testlist: out of memory");
	}
	be64_put(w, m->version);
	be64_put(w + 8, (uint64_t)m->issued_us);
	be64_put(w + 16, (uint64_t)m->expires_us);
	be32_put(w + 24, m->ntests);
	memcpy(w + TL_HDR, p, n);
	a.rec.len = TL_HDR + n;
	e = store_tx_run(s, true, tl_put_fn, &a, "testlist", d);
	if (a.older) {
		*stored = a.stored;
		e = zdiag_set(d, ZE_EXISTS, "version %" PRIu64 " is not newer "
		    "than the stored list's %" PRIu64, m->version, a.stored);
	}
	zbuf_free(&a.rec);
	return e;
}

struct tl_get {
	struct store_testlist *m;
	zbuf_t *buf;
	bool found;
	zerr_t e;
};

static int
tl_get_fn(store_tx_t *tx, void *arg)
{
	struct tl_get *a = arg;
	MDB_val v;
	int r;

	a->found = false;
	if ((r = st_tx_get(tx, tx->s->meta, TL_KEY, strlen(TL_KEY), &v)) < 0)
		return -1;
	if (r != 0 || v.mv_size < TL_HDR)
		return 0;
	a->found = true;
	tl_hdr_get(v.mv_data, a->m);
	if (a->buf != NULL) {
		zbuf_reset(a->buf);
		a->e = zbuf_append(a->buf, (const uint8_t *)v.mv_data + TL_HDR,
		    v.mv_size - TL_HDR);
	}
	return 0;
}

zerr_t
store_testlist_get(store_t *s, struct store_testlist *m, zbuf_t *buf,
    zdiag_t *d)
{
	struct tl_get a = {.m = m, .buf = buf, .e = ZE_OK};
	zerr_t e;

	memset(m, 0, sizeof(*m));
	if ((e = store_tx_run(s, false, tl_get_fn, &a, "testlist", d)) !=
	    ZE_OK)
		return e;
	if (a.e != ZE_OK)
		return zdiag_set(d, a.e, "testlist: stored list does not fit "
		    "the buffer");
	return a.found ? ZE_OK : ZE_NOTFOUND;
}
