/*
 * store_queue.c — see store.h.  The analyzer's databases: todo (with meta
 * "refill"), ctl, open, rollup, cellhour, events, hookq, and their reset.
 * commit_once queues each new measurement here (st_index_put).
 */
#include "store_int.h"

#include <string.h>

/* ------------------------------------------------- queueing at commit */

int
st_an_ready_put(store_t *s, MDB_txn *txn)
{
	MDB_val k = {.mv_data = "analysis", .mv_size = 8};
	MDB_val v = {.mv_data = AN_LAYOUT, .mv_size = 1};

	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* meta "refill": while a reanalysis queues the stored measurements, it
 * has queued every id below this one.  0, MDB_NOTFOUND, or an error. */
static int
refill_get(store_t *s, MDB_txn *txn, uint8_t at[STORE_ID_LEN])
{
	MDB_val k = {.mv_data = "refill", .mv_size = 6}, v;
	int rc;

	if ((rc = mdb_get(txn, s->meta, &k, &v)) != 0)
		return rc;
	if (v.mv_size != STORE_ID_LEN)
		return MDB_NOTFOUND;	/* not ours: as if absent */
	memcpy(at, v.mv_data, STORE_ID_LEN);
	return 0;
}

static int
refill_put(store_t *s, MDB_txn *txn, const uint8_t at[STORE_ID_LEN])
{
	MDB_val k = {.mv_data = "refill", .mv_size = 6};
	MDB_val v = {.mv_data = (void *)(uintptr_t)at, .mv_size = STORE_ID_LEN};

	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Where the next todo entry goes, and whether a reanalysis is refilling
 * the queue. */
static int
tq_init(store_t *s, MDB_txn *txn, struct tqueue *q)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (q->init)
		return 0;
	if ((rc = mdb_cursor_open(txn, s->todo, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	/* a todo of layout 1 (id keys) until the rebuild empties it */
	q->append = rc == MDB_NOTFOUND || k.mv_size == 8;
	q->next = rc == 0 && k.mv_size == 8 ? be64_get(k.mv_data) + 1 : 1;
	rc = refill_get(s, txn, q->refill_at);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	q->refill = rc == 0;
	q->init = true;
	return 0;
}

static int
tq_put(store_t *s, MDB_txn *txn, struct tqueue *q, const uint8_t *id,
    uint32_t test, uint64_t thash, enum store_role r)
{
	uint8_t kb[8], vb[TODO_VAL];
	MDB_val k = {.mv_size = sizeof(kb), .mv_data = kb};
	MDB_val v = {.mv_size = sizeof(vb), .mv_data = vb};
	int rc;

	if ((rc = tq_init(s, txn, q)) != 0)
		return rc;
	be64_put(kb, q->next);
	memcpy(vb, id, STORE_ID_LEN);
	vb[STORE_ID_LEN] = (uint8_t)test;
	be64_put(vb + STORE_ID_LEN + 1, thash);
	vb[STORE_ID_LEN + 9] = (uint8_t)r;
	if ((rc = mdb_put(txn, s->todo, &k, &v, q->append ? MDB_APPEND :
	    0)) == 0)
		q->next++;
	return rc;
}

static void
ctl_key(uint8_t k[9 + STORE_ID_LEN], uint32_t test, uint64_t thash,
    const uint8_t *id)
{
	k[0] = (uint8_t)test;
	be64_put(k + 1, thash);
	memcpy(k + 9, id, STORE_ID_LEN);
}

/* A new measurement's analyzer entries: todo (unless a running
 * reanalysis will queue it), and ctl for a control or domestic
 * control. */
int
st_index_put(store_t *s, MDB_txn *txn, struct tqueue *q,
    const struct store_meas_in *m, enum store_role role)
{
	uint8_t ck[9 + STORE_ID_LEN];
	MDB_val k, v;
	int rc;

	if ((rc = tq_init(s, txn, q)) != 0)
		return rc;
	if ((!q->refill || memcmp(m->id, q->refill_at, STORE_ID_LEN) < 0) &&
	    (rc = tq_put(s, txn, q, m->id, m->test, m->thash, role)) != 0)
		return rc;
	if (role == STORE_ROLE_PROBE)
		return 0;
	ctl_key(ck, m->test, m->thash, m->id);
	k.mv_data = ck;
	k.mv_size = sizeof(ck);
	v.mv_data = "";
	v.mv_size = 0;
	return mdb_put(txn, s->ctl, &k, &v, 0);
}
/* --- todo */

struct todo_walk {
	int (*fn)(const struct store_todo *, void *);
	void *arg;
	const uint8_t *from, *to;	/* count: the id range */
	uint64_t n;
};

static bool
todo_decode(const MDB_val *k, const MDB_val *v, struct store_todo *t)
{
	const uint8_t *p = v->mv_data;

	if (k->mv_size != 8 || v->mv_size != TODO_VAL)
		return false;	/* not ours (or layout 1): skip */
	t->key = be64_get(k->mv_data);
	memcpy(t->id, p, STORE_ID_LEN);
	t->test = p[STORE_ID_LEN];
	t->thash = be64_get(p + STORE_ID_LEN + 1);
	t->role = store_role_of(p[STORE_ID_LEN + 9]);
	return true;
}

static int
todo_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct todo_walk *w = arg;
	struct store_todo t;

	return todo_decode(k, v, &t) ? w->fn(&t, w->arg) : 0;
}

int
store_tx_todo_iter(store_tx_t *tx, int (*fn)(const struct store_todo *,
    void *), void *arg)
{
	struct todo_walk w = {.fn = fn, .arg = arg};

	return st_tx_walk(tx, tx->s->todo, NULL, 0, todo_one, &w);
}

int
store_tx_todo_put(store_tx_t *tx, const struct store_todo *t)
{
	return st_tx_rc(tx, tq_put(tx->s, tx->txn, &tx->q, t->id, t->test,
	    t->thash, t->role));
}

int
store_tx_todo_del(store_tx_t *tx, const struct store_todo *t)
{
	uint8_t kb[8];
	struct store_todo cur;
	MDB_val k = {.mv_size = sizeof(kb), .mv_data = kb}, v;
	int rc;

	be64_put(kb, t->key);
	if ((rc = st_tx_get(tx, tx->s->todo, kb, sizeof(kb), &v)) != 0)
		return rc;
	/* arrival numbers start again at 1 when todo empties: the entry
	 * must still be this measurement's */
	if (!todo_decode(&k, &v, &cur) || memcmp(cur.id, t->id,
	    STORE_ID_LEN) != 0)
		return 1;
	return st_tx_del(tx, tx->s->todo, kb, sizeof(kb));
}

static int
count_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct todo_walk *w = arg;
	struct store_todo t;

	if (todo_decode(k, v, &t) && (w->from == NULL || memcmp(t.id,
	    w->from, STORE_ID_LEN) >= 0) && (w->to == NULL || memcmp(t.id,
	    w->to, STORE_ID_LEN) < 0))
		w->n++;
	return 0;
}

int
store_tx_todo_count(store_tx_t *tx, const uint8_t *from, const uint8_t *to,
    uint64_t *n)
{
	struct todo_walk w = {.from = from, .to = to};
	int r;

	if (from == NULL && to == NULL) {	/* all: no walk */
		MDB_stat st;

		r = st_tx_rc(tx, mdb_stat(tx->txn, tx->s->todo, &st));
		*n = r == 0 ? st.ms_entries : 0;
		return r < 0 ? -1 : 0;
	}
	r = st_tx_walk(tx, tx->s->todo, NULL, 0, count_one, &w);
	*n = w.n;
	return r < 0 ? -1 : 0;
}

int
store_tx_refill_get(store_tx_t *tx, uint8_t at[STORE_ID_LEN])
{
	return st_tx_rc(tx, refill_get(tx->s, tx->txn, at));
}

int
store_tx_refill_set(store_tx_t *tx, const uint8_t *at)
{
	int r;

	if (at != NULL)
		return st_tx_rc(tx, refill_put(tx->s, tx->txn, at));
	r = st_tx_del(tx, tx->s->meta, "refill", 6);
	return r == 1 ? 0 : r;
}

/* --- ctl */

struct ctl_walk {
	uint8_t to[9 + STORE_ID_LEN];
	int (*fn)(const uint8_t *, void *);
	void *arg;
};

static int
ctl_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct ctl_walk *w = arg;

	(void)v;
	if (k->mv_size != sizeof(w->to) ||
	    memcmp(k->mv_data, w->to, sizeof(w->to)) >= 0)
		return 1;
	return w->fn((const uint8_t *)k->mv_data + 9, w->arg) != 0 ? 1 : 0;
}

int
store_tx_ctl_iter(store_tx_t *tx, uint32_t test, uint64_t thash,
    const uint8_t from[STORE_ID_LEN], const uint8_t to[STORE_ID_LEN],
    int (*fn)(const uint8_t id[STORE_ID_LEN], void *arg), void *arg)
{
	struct ctl_walk w = {.fn = fn, .arg = arg};
	uint8_t fk[9 + STORE_ID_LEN];

	ctl_key(fk, test, thash, from);
	ctl_key(w.to, test, thash, to);
	return st_tx_walk(tx, tx->s->ctl, fk, sizeof(fk), ctl_one, &w);
}

int
store_tx_ctl_put(store_tx_t *tx, uint32_t test, uint64_t thash,
    const uint8_t id[STORE_ID_LEN])
{
	uint8_t k[9 + STORE_ID_LEN];

	ctl_key(k, test, thash, id);
	return st_tx_put(tx, tx->s->ctl, k, sizeof(k), "", 0);
}

/* --- open */

int
store_tx_open_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    uint8_t *verdict, uint8_t *method)
{
	MDB_val v;
	int r;

	if ((r = st_tx_get(tx, tx->s->open, id, STORE_ID_LEN, &v)) != 0)
		return r;
	if (v.mv_size != 2)
		return 1;
	*verdict = ((const uint8_t *)v.mv_data)[0];
	*method = ((const uint8_t *)v.mv_data)[1];
	return 0;
}

int
store_tx_open_put(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    uint8_t verdict, uint8_t method)
{
	uint8_t v[2] = {verdict, method};

	return st_tx_put(tx, tx->s->open, id, STORE_ID_LEN, v, 2);
}

int
store_tx_open_del(store_tx_t *tx, const uint8_t id[STORE_ID_LEN])
{
	return st_tx_del(tx, tx->s->open, id, STORE_ID_LEN);
}

struct open_walk {
	const uint8_t *to;
	int (*fn)(const uint8_t *, uint8_t, uint8_t, void *);
	void *arg;
};

static int
open_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct open_walk *w = arg;
	const uint8_t *p = v->mv_data;

	if (k->mv_size != STORE_ID_LEN ||
	    memcmp(k->mv_data, w->to, STORE_ID_LEN) >= 0)
		return 1;
	if (v->mv_size != 2)
		return 0;
	return w->fn(k->mv_data, p[0], p[1], w->arg) != 0 ? 1 : 0;
}

int
store_tx_open_iter(store_tx_t *tx, const uint8_t to[STORE_ID_LEN],
    int (*fn)(const uint8_t id[STORE_ID_LEN], uint8_t, uint8_t, void *),
    void *arg)
{
	struct open_walk w = {to, fn, arg};

	return st_tx_walk(tx, tx->s->open, NULL, 0, open_one, &w);
}

/* --- cell keys */

#define CK_MAX (4 + 64 + STORE_REGION_LEN + 4)

/* hour service NUL region asn (hour_last: service NUL region asn hour). */
static size_t
ck_encode(uint8_t *p, const struct store_cellkey *k, bool hour_last)
{
	size_t sn = strnlen(k->service, sizeof(k->service) - 1), o = 0;

	if (!hour_last) {
		be32_put(p, k->hour);
		o = 4;
	}
	memcpy(p + o, k->service, sn);
	p[o + sn] = '\0';
	o += sn + 1;
	st_text_put(p + o, k->region, STORE_REGION_LEN);
	o += STORE_REGION_LEN;
	be32_put(p + o, k->asn);
	o += 4;
	if (hour_last) {
		be32_put(p + o, k->hour);
		o += 4;
	}
	return o;
}

static bool
ck_decode(const uint8_t *p, size_t n, struct store_cellkey *k,
    bool hour_last)
{
	size_t o = hour_last ? 0 : 4, sn;
	const uint8_t *z;

	if (n < 4 + 1 + STORE_REGION_LEN + 4 + 1)
		return false;
	if ((z = memchr(p + o, 0, n - o)) == NULL)
		return false;
	sn = (size_t)(z - (p + o));
	if (sn == 0 || sn >= sizeof(k->service) ||
	    n != 4 + sn + 1 + STORE_REGION_LEN + 4)
		return false;
	memset(k, 0, sizeof(*k));
	if (!hour_last)
		k->hour = be32_get(p);
	memcpy(k->service, p + o, sn);
	o += sn + 1;
	st_text_get(k->region, p + o, STORE_REGION_LEN);
	o += STORE_REGION_LEN;
	k->asn = be32_get(p + o);
	o += 4;
	if (hour_last)
		k->hour = be32_get(p + o);
	return true;
}

int
store_tx_rollup_get(store_tx_t *tx, const struct store_cellkey *k,
    const uint8_t **p, size_t *n)
{
	uint8_t kb[CK_MAX];
	MDB_val v;
	int r;

	if ((r = st_tx_get(tx, tx->s->rollup, kb, ck_encode(kb, k, false),
	    &v)) != 0)
		return r;
	*p = v.mv_data;
	*n = v.mv_size;
	return 0;
}

int
store_tx_rollup_put(store_tx_t *tx, const struct store_cellkey *k,
    const uint8_t *p, size_t n)
{
	uint8_t kb[CK_MAX];

	return st_tx_put(tx, tx->s->rollup, kb, ck_encode(kb, k, false), p, n);
}

struct rollup_walk {
	uint32_t h1, hcur;
	bool stop;
	const char *service;
	int (*fn)(const struct store_cellkey *, const uint8_t *, size_t,
	    void *);
	void *arg;
};

static int
rollup_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct rollup_walk *w = arg;
	struct store_cellkey ck;

	if (k->mv_size < 4 || be32_get(k->mv_data) >= w->h1 ||
	    (w->service != NULL && be32_get(k->mv_data) != w->hcur))
		return 1;
	if (!ck_decode(k->mv_data, k->mv_size, &ck, false))
		return 0;
	if (w->service != NULL && strcmp(ck.service, w->service) != 0)
		return 1;	/* keys of this hour and service ended */
	if (w->fn(&ck, v->mv_data, v->mv_size, w->arg) != 0) {
		w->stop = true;
		return 1;
	}
	return 0;
}

/* The roll-ups of hour h in region (of service, or of every service of
 * the hour) into w: a seek to the region's keys of each service and one
 * past them.  -1 on a store error, else 0 (w->stop: fn said stop). */
static int
rollup_region_hour(store_tx_t *tx, uint32_t h, const char *service,
    const char *region, struct rollup_walk *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[CK_MAX], reg[STORE_REGION_LEN];
	struct store_cellkey ck;
	size_t sn;
	int rc, cmp;

	st_text_put(reg, region, STORE_REGION_LEN);
	if ((rc = mdb_cursor_open(tx->txn, tx->s->rollup, &c)) != 0)
		return st_tx_rc(tx, rc) < 0 ? -1 : 0;
	be32_put(kb, h);
	k.mv_data = kb;
	k.mv_size = 4;
	if (service != NULL) {
		sn = strnlen(service, sizeof(ck.service) - 1);
		memcpy(kb + 4, service, sn);
		kb[4 + sn] = '\0';
		memcpy(kb + 5 + sn, reg, STORE_REGION_LEN);
		k.mv_size = 5 + sn + STORE_REGION_LEN;
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const uint8_t *kp = k.mv_data;

		if (k.mv_size < 4 || be32_get(kp) != h)
			break;
		if (!ck_decode(kp, k.mv_size, &ck, false)) {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (service != NULL && strcmp(ck.service, service) != 0)
			break;
		sn = strlen(ck.service);
		cmp = memcmp(kp + 5 + sn, reg, STORE_REGION_LEN);
		if (cmp == 0) {
			if (w->fn(&ck, v.mv_data, v.mv_size, w->arg) != 0) {
				w->stop = true;
				break;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (cmp > 0 && service != NULL)
			break;
		/* before the region: to it; past it: to the next service
		 * (its name and then a byte above the NUL) */
		memcpy(kb + 4, ck.service, sn);
		kb[4 + sn] = cmp < 0 ? '\0' : 1;
		memcpy(kb + 5 + sn, reg, STORE_REGION_LEN);
		k.mv_data = kb;
		k.mv_size = cmp < 0 ? 5 + sn + STORE_REGION_LEN : 5 + sn;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc) < 0 ? -1 : 0;
	return 0;
}

int
store_tx_rollup_iter(store_tx_t *tx, uint32_t h0, uint32_t h1,
    const char *service, const char *region,
    int (*fn)(const struct store_cellkey *, const uint8_t *, size_t,
    void *), void *arg)
{
	struct rollup_walk w = {.h1 = h1, .service = service, .fn = fn,
	    .arg = arg};
	uint8_t kb[CK_MAX];
	int r = 0;

	if (region != NULL) {
		for (uint32_t h = h0; h < h1 && r >= 0 && !w.stop; h++)
			r = rollup_region_hour(tx, h, service, region, &w);
		return r < 0 ? -1 : w.stop;
	}
	if (service == NULL) {
		be32_put(kb, h0);
		return st_tx_walk(tx, tx->s->rollup, kb, 4, rollup_one, &w);
	}
	/* one seek per hour: hour service NUL */
	for (uint32_t h = h0; h < h1 && r >= 0 && !w.stop; h++) {
		size_t sn = strnlen(service, 63);

		w.hcur = h;
		be32_put(kb, h);
		memcpy(kb + 4, service, sn);
		kb[4 + sn] = '\0';
		r = st_tx_walk(tx, tx->s->rollup, kb, 5 + sn, rollup_one, &w);
	}
	return r < 0 ? -1 : w.stop;
}

/* --- cellhour */

int
store_tx_cellhour_put(store_tx_t *tx, const struct store_cellkey *k,
    uint8_t verdict, uint8_t method)
{
	uint8_t kb[CK_MAX], v[2] = {verdict, method};

	return st_tx_put(tx, tx->s->cellhour, kb, ck_encode(kb, k, true), v, 2);
}

int
store_tx_cellhour_del(store_tx_t *tx, const struct store_cellkey *k)
{
	uint8_t kb[CK_MAX];

	return st_tx_del(tx, tx->s->cellhour, kb, ck_encode(kb, k, true));
}

int
store_tx_cellhour_near(store_tx_t *tx, const struct store_cellkey *k,
    int dir, uint32_t *hour, uint8_t *verdict, uint8_t *method)
{
	MDB_cursor *c;
	MDB_val key, v;
	uint8_t kb[CK_MAX];
	size_t n = ck_encode(kb, k, true);
	int rc;

	if ((rc = mdb_cursor_open(tx->txn, tx->s->cellhour, &c)) != 0)
		return st_tx_rc(tx, rc);
	key.mv_data = kb;
	key.mv_size = n;
	rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE);
	if (dir < 0) {
		rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &key, &v,
		    MDB_LAST) : rc == 0 ? mdb_cursor_get(c, &key, &v,
		    MDB_PREV) : rc;
	} else if (rc == 0 && key.mv_size == n &&
	    memcmp(key.mv_data, kb, n) == 0)
		rc = mdb_cursor_get(c, &key, &v, MDB_NEXT);
	mdb_cursor_close(c);
	if (rc != 0)
		return st_tx_rc(tx, rc);
	/* the same cell: everything but the last 4 bytes (the hour) */
	if (key.mv_size != n || memcmp(key.mv_data, kb, n - 4) != 0 ||
	    v.mv_size != 2)
		return 1;
	*hour = be32_get((const uint8_t *)key.mv_data + n - 4);
	*verdict = ((const uint8_t *)v.mv_data)[0];
	*method = ((const uint8_t *)v.mv_data)[1];
	return 0;
}

int
store_tx_cellhour_iter(store_tx_t *tx, const char *service,
    const char *region, uint32_t asn, uint32_t h0, uint32_t h1,
    int (*fn)(const struct store_cellkey *, uint8_t, uint8_t, void *),
    void *arg)
{
	struct store_cellkey ck;
	MDB_cursor *c;
	MDB_val key, v;
	uint8_t kb[CK_MAX];
	size_t sn = strnlen(service, sizeof(ck.service) - 1), pn, n;
	int rc, r = 0;

	/* the prefix: service NUL [region [asn]] */
	memcpy(kb, service, sn);
	kb[sn] = '\0';
	pn = sn + 1;
	if (region != NULL) {
		st_text_put(kb + pn, region, STORE_REGION_LEN);
		pn += STORE_REGION_LEN;
		if (asn != 0) {
			be32_put(kb + pn, asn);
			pn += 4;
		}
	}
	if ((rc = mdb_cursor_open(tx->txn, tx->s->cellhour, &c)) != 0)
		return st_tx_rc(tx, rc);
	key.mv_data = kb;
	key.mv_size = pn;
	rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const uint8_t *p = key.mv_data;
		uint8_t sk[CK_MAX];

		if (key.mv_size < pn || memcmp(p, kb, pn) != 0)
			break;		/* past the prefix */
		if (!ck_decode(p, key.mv_size, &ck, true)) {
			rc = mdb_cursor_get(c, &key, &v, MDB_NEXT);
			continue;
		}
		if (ck.hour < h0 || ck.hour >= h1) {
			/* this cell at h0, or the next cell */
			ck.hour = ck.hour < h0 ? h0 : UINT32_MAX;
			n = ck_encode(sk, &ck, true);
			key.mv_data = sk;
			key.mv_size = n;
			rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE);
			if (rc == 0 && ck.hour == UINT32_MAX &&
			    key.mv_size == n && memcmp(key.mv_data, sk, n) == 0)
				rc = mdb_cursor_get(c, &key, &v, MDB_NEXT);
			continue;
		}
		if (v.mv_size == 2 && (r = fn(&ck, ((const uint8_t *)
		    v.mv_data)[0], ((const uint8_t *)v.mv_data)[1], arg)) != 0)
			break;
		rc = mdb_cursor_get(c, &key, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc);
	return r != 0;
}

/* --- events */

int
store_tx_event_get(store_tx_t *tx, const struct store_cellkey *k,
    struct store_event *ev)
{
	uint8_t kb[CK_MAX];
	MDB_val v;
	int r;

	if ((r = st_tx_get(tx, tx->s->events, kb, ck_encode(kb, k, false),
	    &v)) != 0)
		return r;
	if (v.mv_size != 3)
		return 1;
	ev->k = *k;
	ev->from = ((const uint8_t *)v.mv_data)[0];
	ev->to = ((const uint8_t *)v.mv_data)[1];
	ev->method = ((const uint8_t *)v.mv_data)[2];
	return 0;
}

int
store_tx_event_put(store_tx_t *tx, const struct store_event *ev)
{
	uint8_t kb[CK_MAX], v[3] = {ev->from, ev->to, ev->method};

	return st_tx_put(tx, tx->s->events, kb, ck_encode(kb, &ev->k, false), v,
	    3);
}

int
store_tx_event_del(store_tx_t *tx, const struct store_cellkey *k)
{
	uint8_t kb[CK_MAX];

	return st_tx_del(tx, tx->s->events, kb, ck_encode(kb, k, false));
}

struct event_walk {
	uint32_t h1;
	int (*fn)(const struct store_event *, void *);
	void *arg;
};

static int
event_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct event_walk *w = arg;
	struct store_event ev;

	if (k->mv_size < 4 || be32_get(k->mv_data) >= w->h1)
		return 1;
	if (v->mv_size != 3 || !ck_decode(k->mv_data, k->mv_size, &ev.k,
	    false))
		return 0;
	ev.from = ((const uint8_t *)v->mv_data)[0];
	ev.to = ((const uint8_t *)v->mv_data)[1];
	ev.method = ((const uint8_t *)v->mv_data)[2];
	return w->fn(&ev, w->arg) != 0 ? 1 : 0;
}

int
store_tx_event_iter(store_tx_t *tx, uint32_t h0, uint32_t h1,
    int (*fn)(const struct store_event *, void *), void *arg)
{
	struct event_walk w = {h1, fn, arg};
	uint8_t kb[4];

	be32_put(kb, h0);
	return st_tx_walk(tx, tx->s->events, kb, 4, event_one, &w);
}

/* --- webhook queue */

int
store_tx_hook_push(store_tx_t *tx, const char *json, size_t n)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[8];
	uint64_t seq = 1;
	int rc;

	if ((rc = mdb_cursor_open(tx->txn, tx->s->hookq, &c)) != 0)
		return st_tx_rc(tx, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = be64_get(k.mv_data) + 1;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc);
	if (rc == MDB_NOTFOUND) {
		/* empty queue: continue after the last number handed out */
		MDB_val mk = {.mv_data = "hook_seq", .mv_size = 8}, mv;
		if (mdb_get(tx->txn, tx->s->meta, &mk, &mv) == 0 &&
		    mv.mv_size == 8)
			seq = be64_get(mv.mv_data) + 1;
	}
	be64_put(kb, seq);
	if ((rc = st_tx_put(tx, tx->s->meta, "hook_seq", 8, kb, 8)) != 0)
		return rc;
	return st_tx_put(tx, tx->s->hookq, kb, 8, json, n);
}

zerr_t
store_hook_peek(store_t *s, uint64_t *seq, zbuf_t *buf, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->hookq, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		mdb_cursor_close(c);
	}
	if (rc == 0 && k.mv_size == 8) {
		*seq = be64_get(k.mv_data);
		zbuf_reset(buf);
		if ((e = zbuf_append(buf, v.mv_data, v.mv_size)) != ZE_OK)
			zdiag_set(d, e, "webhook document of %zu bytes",
			    v.mv_size);
	} else if (rc == 0 || rc == MDB_NOTFOUND)
		e = zdiag_set(d, ZE_NOTFOUND, "webhook queue empty");
	else
		e = st_fail(rc, d, "webhook queue");
	st_txn_abort(s, txn);
	return e;
}

static int
hook_del_fn(store_t *s, MDB_txn *txn, void *arg)
{
	uint8_t kb[8];
	MDB_val k = {.mv_data = kb, .mv_size = 8};
	int rc;

	be64_put(kb, *(const uint64_t *)arg);
	rc = mdb_del(txn, s->hookq, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

zerr_t
store_hook_del(store_t *s, uint64_t seq, zdiag_t *d)
{
	return st_write_txn(s, hook_del_fn, &seq, "webhook queue", d);
}

zerr_t
store_hook_count(store_t *s, uint64_t *n, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	rc = mdb_stat(txn, s->hookq, &st);
	*n = rc == 0 ? st.ms_entries : 0;
	st_txn_abort(s, txn);
	return rc == 0 ? ZE_OK : st_fail(rc, d, "webhook queue");
}

/* --- reset */

static int
reset_fn(store_t *s, MDB_txn *txn, void *arg)
{
	MDB_val k = {.mv_data = "analysis", .mv_size = 8};
	static const uint8_t first[STORE_ID_LEN];
	int rc;

	(void)arg;
	if ((rc = mdb_drop(txn, s->todo, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->ctl, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->open, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->rollup, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->cellhour, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->events, 0)) != 0)
		return rc;
	/* from now on ingest leaves every id the refill has not passed to
	 * the refill (rollup_reset), so nothing is queued twice */
	if ((rc = refill_put(s, txn, first)) != 0)
		return rc;
	rc = mdb_del(txn, s->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

zerr_t
store_an_reset(store_t *s, zdiag_t *d)
{
	return st_write_txn(s, reset_fn, NULL, "resetting the analysis", d);
}

zerr_t
store_an_ready(store_t *s, bool *ready, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k = {.mv_data = "analysis", .mv_size = 8}, v;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	rc = mdb_get(txn, s->meta, &k, &v);
	/* an older layout ("1", "2", "3") is rebuilt like a missing one */
	*ready = rc == 0 && v.mv_size == 1 &&
	    memcmp(v.mv_data, AN_LAYOUT, 1) == 0;
	st_txn_abort(s, txn);
	return rc == 0 || rc == MDB_NOTFOUND ? ZE_OK :
	    st_fail(rc, d, "meta analysis");
}

int
store_tx_an_set_ready(store_tx_t *tx)
{
	return st_tx_rc(tx, st_an_ready_put(tx->s, tx->txn));
}
