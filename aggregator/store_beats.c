/*
 * store_beats.c — see store.h.  The heartbeat history (`beats`) and the
 * silence periods (`silence`) a shutdown is judged from (METHODOLOGY.md
 * §3.8; docs/STORAGE.md "Heartbeats and silence").
 *
 * Invariants: `beats` holds at most STORE_BEATS_MAX keys per agent, each
 * agent key (32) || receive time (8, big-endian), value empty; every
 * insert trims the agent's oldest key beyond that, so one heartbeat costs
 * one put, one seek and at most STORE_BEATS_MAX + 1 cursor steps.
 * `silence` is keyed region (8) || ASN (4) || start (8, big-endian).
 * Neither is derived from `meas`: store_an_reset leaves both alone.
 * A record not understood is a storage error naming the database and the
 * sizes (tx->why), never a crash.
 */
#include "store_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BEAT_KEY (STORE_PK_LEN + 8)
#define SIL_KEY (STORE_REGION_LEN + 4 + 8)
#define SIL_VAL (8 + 4)		/* end (8) || agents (4) */

/* A record not understood: a storage error with what and where. */
__attribute__((format(printf, 2, 3)))
static int
st_tx_bad(store_tx_t *tx, const char *fmt, ...)
{
	va_list ap;

	if (tx->rc == 0) {
		tx->rc = MDB_CORRUPTED;
		va_start(ap, fmt);
		vsnprintf(tx->why, sizeof(tx->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ------------------------------------------------------------ beats */

/* Put c on agent pk's newest key (or on the key below where it would be,
 * another agent's or none: callers check the prefix); kb is the key
 * buffer k points at.  LMDB's code. */
static int
beats_newest(MDB_cursor *c, uint8_t kb[BEAT_KEY], const uint8_t *pk,
    MDB_val *k, MDB_val *v)
{
	int rc;

	memcpy(kb, pk, STORE_PK_LEN);
	memset(kb + STORE_PK_LEN, 0xff, 8);	/* above any time stored */
	k->mv_size = BEAT_KEY;
	k->mv_data = kb;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	return rc == MDB_NOTFOUND ? mdb_cursor_get(c, k, v, MDB_LAST) :
	    rc == 0 ? mdb_cursor_get(c, k, v, MDB_PREV) : rc;
}

int
st_beat_put(store_t *s, MDB_txn *txn, const uint8_t *pk, int64_t us)
{
	uint8_t kb[BEAT_KEY];
	MDB_cursor *c;
	MDB_val k = {.mv_size = sizeof(kb), .mv_data = kb};
	MDB_val v = {.mv_size = 0, .mv_data = ""};
	int rc, n = 0;

	if (us < 0)
		return 0;	/* before 1970: would not sort; never sent */
	memcpy(kb, pk, STORE_PK_LEN);
	be64_put(kb + STORE_PK_LEN, (uint64_t)us);
	rc = mdb_put(txn, s->beats, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;	/* the same time: stored once */
	if (rc != 0)
		return rc;
	/* walk down from the agent's newest key; the 17th goes (at most
	 * one: every insert keeps the bound) */
	if ((rc = mdb_cursor_open(txn, s->beats, &c)) != 0)
		return rc;
	rc = beats_newest(c, kb, pk, &k, &v);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (k.mv_size != BEAT_KEY || memcmp(k.mv_data, pk,
		    STORE_PK_LEN) != 0)
			break;	/* another agent's (or not ours: leave it) */
		if (++n > STORE_BEATS_MAX) {
			rc = mdb_cursor_del(c, 0);
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_tx_beats_get(store_tx_t *tx, const uint8_t pk[STORE_PK_LEN],
    int64_t *t, size_t cap, size_t *n)
{
	uint8_t kb[BEAT_KEY];
	MDB_cursor *c;
	MDB_val k, v;
	size_t i = 0;
	int rc, r = 0;

	*n = 0;
	if (cap == 0 || tx->s->no_beats)
		return 0;
	if ((rc = mdb_cursor_open(tx->txn, tx->s->beats, &c)) != 0)
		return st_tx_rc(tx, rc);
	rc = beats_newest(c, kb, pk, &k, &v);
	for (; rc == 0 && i < cap; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		const uint8_t *p = k.mv_data;
		uint64_t u;

		if (k.mv_size < STORE_PK_LEN || memcmp(p, pk,
		    STORE_PK_LEN) != 0)
			break;
		if (k.mv_size != BEAT_KEY || v.mv_size != 0 ||
		    (u = be64_get(p + STORE_PK_LEN)) > INT64_MAX) {
			r = st_tx_bad(tx, "beats: a key of %zu bytes with a "
			    "value of %zu (want %d and 0): not understood "
			    "(corrupt or newer layout)", k.mv_size, v.mv_size,
			    BEAT_KEY);
			break;
		}
		t[i++] = (int64_t)u;
	}
	mdb_cursor_close(c);
	if (r != 0)
		return -1;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc);
	/* newest first so far: ascending */
	for (size_t a = 0, b = i; a + 1 < b; a++, b--) {
		int64_t x = t[a];

		t[a] = t[b - 1];
		t[b - 1] = x;
	}
	*n = i;
	return 0;
}

struct beats_get {
	const uint8_t *pk;
	int64_t *t;
	size_t cap, *n;
};

static int
beats_get_fn(store_tx_t *tx, void *arg)
{
	struct beats_get *g = arg;

	return store_tx_beats_get(tx, g->pk, g->t, g->cap, g->n) < 0;
}

zerr_t
store_beats_get(store_t *s, const uint8_t pk[STORE_PK_LEN], int64_t *t,
    size_t cap, size_t *n, zdiag_t *d)
{
	struct beats_get g = {pk, t, cap, n};

	*n = 0;
	return store_tx_run(s, false, beats_get_fn, &g, "heartbeat history",
	    d);
}

/* ------------------------------------------------------------ silence */

static void
sil_key(uint8_t kb[SIL_KEY], const char *region, uint32_t asn,
    int64_t start)
{
	st_text_put(kb, region, STORE_REGION_LEN);
	be32_put(kb + STORE_REGION_LEN, asn);
	be64_put(kb + STORE_REGION_LEN + 4, (uint64_t)start);
}

int
store_tx_silence_put(store_tx_t *tx, const struct store_silence *p)
{
	uint8_t kb[SIL_KEY], vb[SIL_VAL];

	/* keys sort by start as unsigned bytes */
	ZASSERT(p->start_us >= 0);
	if (tx->s->no_beats)
		return st_tx_bad(tx, "silence: this store has no such "
		    "database yet (opened read-only)");
	sil_key(kb, p->region, p->asn, p->start_us);
	be64_put(vb, (uint64_t)p->end_us);
	be32_put(vb + 8, p->agents);
	return st_tx_put(tx, tx->s->silence, kb, sizeof(kb), vb, sizeof(vb));
}

struct sil_walk {
	store_tx_t *tx;
	uint8_t prefix[STORE_REGION_LEN + 4];
	bool one;		/* one (region, asn): stop past its keys */
	int64_t t0, t1;
	int (*fn)(const struct store_silence *, void *);
	void *arg;
	int ret;		/* fn's non-zero return */
};

static int
sil_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct sil_walk *w = arg;
	const uint8_t *kp = k->mv_data, *vp = v->mv_data;
	struct store_silence p;

	if (w->one && (k->mv_size < sizeof(w->prefix) ||
	    memcmp(kp, w->prefix, sizeof(w->prefix)) != 0))
		return 1;	/* past this region and ASN */
	if (k->mv_size != SIL_KEY || v->mv_size != SIL_VAL ||
	    be64_get(kp + STORE_REGION_LEN + 4) > INT64_MAX)
		return st_tx_bad(w->tx, "silence: a key of %zu bytes with a "
		    "value of %zu (want %d and %d): not understood (corrupt "
		    "or newer layout)", k->mv_size, v->mv_size, SIL_KEY,
		    SIL_VAL);
	memset(&p, 0, sizeof(p));
	st_text_get(p.region, kp, STORE_REGION_LEN);
	p.asn = be32_get(kp + STORE_REGION_LEN);
	p.start_us = (int64_t)be64_get(kp + STORE_REGION_LEN + 4);
	p.end_us = (int64_t)be64_get(vp);
	p.agents = be32_get(vp + 8);
	if (p.start_us >= w->t1)
		return w->one ? 1 : 0;	/* in start order: none after */
	if (p.end_us != 0 && p.end_us <= w->t0)
		return 0;		/* over before t0 */
	if ((w->ret = w->fn(&p, w->arg)) != 0)
		return 1;
	return 0;
}

int
store_tx_silence_iter(store_tx_t *tx, const char *region, uint32_t asn,
    int64_t t0, int64_t t1,
    int (*fn)(const struct store_silence *p, void *arg), void *arg)
{
	struct sil_walk w = {.tx = tx, .one = region != NULL, .t0 = t0,
	    .t1 = t1, .fn = fn, .arg = arg};
	uint8_t kb[SIL_KEY];
	int r;

	if (tx->s->no_beats || t1 <= t0)
		return 0;
	if (region != NULL) {
		sil_key(kb, region, asn, 0);
		memcpy(w.prefix, kb, sizeof(w.prefix));
	}
	r = st_tx_walk(tx, tx->s->silence, region != NULL ? kb : NULL,
	    region != NULL ? sizeof(kb) : 0, sil_one, &w);
	if (r < 0 || tx->rc != 0)
		return -1;
	return w.ret;
}

struct sil_iter {
	const char *region;
	uint32_t asn;
	int64_t t0, t1;
	int (*fn)(const struct store_silence *, void *);
	void *arg;
};

static int
sil_iter_fn(store_tx_t *tx, void *arg)
{
	struct sil_iter *x = arg;

	/* fn stopping is not an error here */
	return store_tx_silence_iter(tx, x->region, x->asn, x->t0, x->t1,
	    x->fn, x->arg) == -1 && tx->rc != 0;
}

zerr_t
store_silence_iter(store_t *s, const char *region, uint32_t asn, int64_t t0,
    int64_t t1, int (*fn)(const struct store_silence *p, void *arg),
    void *arg, zdiag_t *d)
{
	struct sil_iter x = {region, asn, t0, t1, fn, arg};

	return store_tx_run(s, false, sil_iter_fn, &x, "silence periods", d);
}
