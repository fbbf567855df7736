/*
 * store_meas.c — see store.h.  Measurements: the commit (meas, dedup,
 * the agents' records and the analysis queues in one transaction) and
 * the measurement reads; ids and target hashes.
 *
 * Invariants: a measurement is in meas iff its (agent, seq) is in dedup,
 * both written by commit_once in one transaction.  Records are fixed
 * little headers in big-endian plus the signed body; docs/STORAGE.md
 * describes them byte by byte.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "zid.h"

/* ------------------------------------------------------------ records */

static void
mrec_encode(uint8_t *r, const struct store_meas_in *m,
    const struct store_agent *a)
{
	memset(r, 0, MREC_HDR);
	r[0] = MREC_FORMAT;
	r[1] = a != NULL ? (uint8_t)a->role : 0;
	r[2] = m->time_by;
	be32_put(r + 4, m->test);
	be64_put(r + 8, m->seq);
	be64_put(r + 16, (uint64_t)m->start_us);
	be64_put(r + 24, (uint64_t)m->recv_us);
	be32_put(r + 32, a != NULL ? a->asn : 0);
	if (a != NULL)
		st_text_put(r + 36, a->region, STORE_REGION_LEN);
	memcpy(r + 44, m->agent, STORE_PK_LEN);
	memcpy(r + 76, m->sig, STORE_SIG_LEN);
	be32_put(r + 140, (uint32_t)m->body_len);
	/* time_by 0: placed as signed (callers that know nothing of the
	 * clock leave both fields 0) */
	be64_put(r + 144, (uint64_t)(m->time_by != 0 ? m->time_us :
	    m->start_us));
	memcpy(r + MREC_HDR, m->body, m->body_len);
}

static zerr_t
mrec_decode(const MDB_val *k, const MDB_val *v, struct store_meas *m,
    zdiag_t *d)
{
	const uint8_t *r = v->mv_data;
	size_t hdr = v->mv_size > 0 && r[0] == 1 ? MREC_HDR1 : MREC_HDR;

	if (k->mv_size != STORE_ID_LEN || v->mv_size < hdr ||
	    (r[0] != 1 && r[0] != MREC_FORMAT) ||
	    be32_get(r + 140) != v->mv_size - hdr)
		return zdiag_set(d, ZE_STORAGE, "measurement record of %zu "
		    "bytes: not understood (corrupt or newer format)",
		    v->mv_size);
	memcpy(m->id, k->mv_data, STORE_ID_LEN);
	m->role = store_role_of(r[1]);
	m->test = be32_get(r + 4);
	m->seq = be64_get(r + 8);
	m->start_us = (int64_t)be64_get(r + 16);
	m->recv_us = (int64_t)be64_get(r + 24);
	m->asn = be32_get(r + 32);
	st_text_get(m->region, r + 36, STORE_REGION_LEN);
	memcpy(m->agent, r + 44, STORE_PK_LEN);
	m->sig = r + 76;
	m->body = r + hdr;
	m->body_len = v->mv_size - hdr;
	/* format 1 knew only the signed start */
	m->time_us = r[0] == 1 ? m->start_us : (int64_t)be64_get(r + 144);
	m->time_by = r[0] == 1 ? 0 : r[2];
	return ZE_OK;
}

static struct touched *
touched_find(store_t *s, const uint8_t *pk)
{
	for (size_t i = s->ntouched; i > 0; i--)
		if (memcmp(s->touched[i - 1].a.pk, pk, STORE_PK_LEN) == 0)
			return &s->touched[i - 1];
	return NULL;
}

/* Find or add pk's entry, reading its record in txn. */
int
st_touched_get(store_t *s, MDB_txn *txn, const uint8_t *pk,
    struct touched **out)
{
	struct touched *t, *nt;
	MDB_val k, v;
	size_t na;
	int rc;

	if ((t = touched_find(s, pk)) != NULL) {
		*out = t;
		return 0;
	}
	if (s->ntouched == s->atouched) {
		na = s->atouched ? s->atouched * 2 : 64;
		if ((nt = realloc(s->touched, na * sizeof(*nt))) == NULL)
			return ENOMEM;
		s->touched = nt;
		s->atouched = na;
	}
	t = &s->touched[s->ntouched++];
	memset(t, 0, sizeof(*t));
	memcpy(t->a.pk, pk, STORE_PK_LEN);
	k.mv_data = (void *)(uintptr_t)pk;
	k.mv_size = STORE_PK_LEN;
	rc = mdb_get(txn, s->agents, &k, &v);
	if (rc == 0 && st_arec_decode(pk, &v, &t->a, NULL) == ZE_OK)
		t->found = true;
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*out = t;
	return 0;
}

/* ------------------------------------------------------------ commit */

/* One attempt: all puts and the commit.  Returns an LMDB/errno code. */
static int
commit_once(store_t *s, const struct store_meas_in *m, size_t n,
    enum store_put *res, const struct store_seen *seen, size_t ns,
    const struct store_extra *extra)
{
	MDB_txn *txn;
	MDB_val k, v;
	struct touched *t = NULL;
	struct tqueue q = {.init = false};
	uint8_t dk[STORE_PK_LEN + 8];
	uint8_t arec[AREC_LEN];
	bool lagging;
	int rc;

	if ((rc = st_txn_begin(s, 0, &txn)) != 0)
		return rc;
	s->ntouched = 0;
	for (size_t i = 0; i < n; i++) {
		/* the two keys are checked by the inserts themselves (one
		 * descent of each tree, not a lookup and then an insert) */
		memcpy(dk, m[i].agent, STORE_PK_LEN);
		be64_put(dk + STORE_PK_LEN, m[i].seq);
		k.mv_data = dk;
		k.mv_size = sizeof(dk);
		v.mv_data = (void *)(uintptr_t)m[i].id;
		v.mv_size = STORE_ID_LEN;
		if ((rc = mdb_put(txn, s->dedup, &k, &v,
		    MDB_NOOVERWRITE)) == MDB_KEYEXIST) {
			res[i] = STORE_DUP;
			continue;
		} else if (rc != 0)
			goto fail;
		if (t == NULL || memcmp(t->a.pk, m[i].agent,
		    STORE_PK_LEN) != 0) {
			if ((rc = st_touched_get(s, txn, m[i].agent, &t)) != 0)
				goto fail;
		}
		k.mv_data = (void *)(uintptr_t)m[i].id;
		k.mv_size = STORE_ID_LEN;
		v.mv_size = MREC_HDR + m[i].body_len;
		v.mv_data = NULL;
		if ((rc = mdb_put(txn, s->meas, &k, &v,
		    MDB_NOOVERWRITE | MDB_RESERVE)) == MDB_KEYEXIST) {
			/* another (agent, seq) holds this id: take back the
			 * dedup entry just made */
			k.mv_data = dk;
			k.mv_size = sizeof(dk);
			if ((rc = mdb_del(txn, s->dedup, &k, NULL)) != 0)
				goto fail;
			res[i] = STORE_DUP_ID;
			continue;
		} else if (rc != 0)
			goto fail;
		mrec_encode(v.mv_data, &m[i], t->found ? &t->a : NULL);
		if ((rc = st_index_put(s, txn, &q, &m[i], t->found ?
		    t->a.role : STORE_ROLE_PROBE)) != 0)
			goto fail;
		res[i] = STORE_STORED;
		t->add++;
		if (m[i].recv_us > t->seen_us)
			t->seen_us = m[i].recv_us;
	}
	for (size_t i = 0; i < ns; i++) {
		if ((rc = st_touched_get(s, txn, seen[i].agent, &t)) != 0)
			goto fail;
		if (seen[i].seen_us > t->seen_us)
			t->seen_us = seen[i].seen_us;
		if (seen[i].has_status) {
			/* the heartbeat history, of enrolled agents only */
			if (t->found && (rc = st_beat_put(s, txn,
			    seen[i].agent, seen[i].seen_us)) != 0)
				goto fail;
			t->status = true;
			/* heartbeats carry no version: keep the hello's */
			if (seen[i].version[0] != '\0') {
				memcpy(t->a.version, seen[i].version,
				    STORE_VERSION_LEN);
				t->a.version[STORE_VERSION_LEN - 1] = '\0';
			}
			t->a.backlog = seen[i].backlog;
			t->a.dropped = seen[i].dropped;
			if (seen[i].last_seq > t->a.last_seq)
				t->a.last_seq = seen[i].last_seq;
			t->a.list_version = seen[i].list_version;
			if (seen[i].has_clock) {
				t->a.has_clock = true;
				t->a.clock_offset_us = seen[i].clock_offset_us;
			}
		}
	}
	if ((rc = st_lag_plan(s, txn, &lagging)) != 0)
		goto fail;
	if (lagging != s->lag_meta && (rc = st_lag_meta_put(s, txn,
	    lagging)) != 0)
		goto fail;
	for (size_t i = 0; i < s->ntouched; i++) {
		t = &s->touched[i];
		if (!t->found || !t->write)
			continue;	/* not enrolled, or deferred */
		t->a.stored += t->add;
		if (t->seen_us > t->a.last_seen_us)
			t->a.last_seen_us = t->seen_us;
		st_arec_encode(&t->a, arec);
		k.mv_data = t->a.pk;
		k.mv_size = STORE_PK_LEN;
		v.mv_data = arec;
		v.mv_size = AREC_LEN;
		if ((rc = mdb_put(txn, s->agents, &k, &v, 0)) != 0)
			goto fail;
	}
	if (extra != NULL && extra->fn != NULL) {
		store_tx_t tx = {.s = s, .txn = txn, .rc = 0};

		if (extra->fn(&tx, extra->arg) != 0) {
			rc = tx.rc != 0 ? tx.rc : EINVAL;
			snprintf(s->commit_why, sizeof(s->commit_why), "%s",
			    tx.why);
			goto fail;
		}
	}
	if ((rc = st_txn_commit(s, txn)) == 0)
		st_lag_done(s, lagging);
	return rc;
fail:
	st_txn_abort(s, txn);
	return rc;
}

zerr_t
store_commit(store_t *s, const struct store_meas_in *m, size_t n,
    enum store_put *res, const struct store_seen *seen, size_t ns,
    zdiag_t *d)
{
	return store_commit_with(s, m, n, res, seen, ns, NULL, d);
}

zerr_t
store_commit_with(store_t *s, const struct store_meas_in *m, size_t n,
    enum store_put *res, const struct store_seen *seen, size_t ns,
    const struct store_extra *extra, zdiag_t *d)
{
	zerr_t e;
	int rc;

	if (s->readonly)
		return zdiag_set(d, ZE_INVAL, "store opened read-only");
	for (size_t i = 0; i < n; i++)
		if (m[i].body_len > UINT32_MAX - MREC_HDR)
			return zdiag_set(d, ZE_TOOBIG, "body too large");
	for (;;) {
		if (s->panic && (e = st_env_reopen(s, d)) != ZE_OK)
			return e;
		s->commit_why[0] = '\0';
		rc = commit_once(s, m, n, res, seen, ns, extra);
		if (rc == 0) {
			st_prefill(s);
			return ZE_OK;
		}
		if (rc == MDB_MAP_FULL) {
			if ((e = st_map_grow(s, d)) != ZE_OK)
				return e;
			continue;
		}
		if (rc == MDB_PANIC)
			s->panic = true;
		if (s->commit_why[0] != '\0')	/* a record not understood */
			return zdiag_set(d, ZE_STORAGE, "committing "
			    "measurements: %s", s->commit_why);
		return st_fail(rc, d, "committing measurements");
	}
}

/* ------------------------------------------------------------ reading */

zerr_t
store_meas_iter(store_t *s, const uint8_t *from, const uint8_t *to,
    store_meas_fn fn, void *arg, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct store_meas m;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->meas, &c)) != 0) {
		st_txn_abort(s, txn);
		return st_fail(rc, d, "cursor");
	}
	if (from != NULL) {
		k.mv_data = (void *)(uintptr_t)from;
		k.mv_size = STORE_ID_LEN;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (to != NULL && k.mv_size == STORE_ID_LEN &&
		    memcmp(k.mv_data, to, STORE_ID_LEN) >= 0)
			break;
		if ((e = mrec_decode(&k, &v, &m, d)) != ZE_OK)
			break;
		if (fn(&m, arg) != 0)
			break;
	}
	if (e == ZE_OK && rc != 0 && rc != MDB_NOTFOUND)
		e = st_fail(rc, d, "reading measurements");
	mdb_cursor_close(c);
	st_txn_abort(s, txn);
	return e;
}

zerr_t
store_meas_get(store_t *s, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m, zbuf_t *buf, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k, v, bk;
	zerr_t e;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)id;
	k.mv_size = STORE_ID_LEN;
	if ((rc = mdb_get(txn, s->meas, &k, &v)) != 0) {
		st_txn_abort(s, txn);
		return st_fail(rc, d, "measurement");
	}
	zbuf_reset(buf);
	if ((e = zbuf_append(buf, v.mv_data, v.mv_size)) != ZE_OK) {
		st_txn_abort(s, txn);
		return zdiag_set(d, e, "measurement of %zu bytes does not "
		    "fit the buffer", v.mv_size);
	}
	st_txn_abort(s, txn);
	bk.mv_data = buf->data;
	bk.mv_size = buf->len;
	return mrec_decode(&k, &bk, m, d);
}

/* ------------------------------------------------------------ ids */

void
store_id_at(int64_t us, uint8_t id[STORE_ID_LEN])
{
	zid_t z;

	zid_floor(us, &z);
	memcpy(id, z.b, STORE_ID_LEN);
}

void
store_ids_of_starts(int64_t lo, int64_t hi, uint8_t from[STORE_ID_LEN],
    uint8_t to[STORE_ID_LEN])
{
	const int64_t skew = (int64_t)WIRE_ID_SKEW_MS * 1000;
	const int64_t top = ((INT64_C(1) << 48) - 1) * 1000;	/* 48-bit ms */

	store_id_at(lo > skew ? lo - skew : 0, from);
	if (hi >= top - skew)
		memset(to, 0xff, STORE_ID_LEN);
	else
		store_id_at(hi + skew, to);
}

static int
first_id(const struct store_meas *sm, void *arg)
{
	*(int64_t *)arg = store_id_ms(sm->id) * 1000 -
	    (int64_t)WIRE_ID_SKEW_MS * 1000;
	return 1;
}

zerr_t
store_first_start(store_t *s, int64_t *us, zdiag_t *d)
{
	*us = INT64_MAX;
	return store_meas_iter(s, NULL, NULL, first_id, us, d);
}

int64_t
store_id_ms(const uint8_t id[STORE_ID_LEN])
{
	zid_t z;

	memcpy(z.b, id, STORE_ID_LEN);
	return zid_time_ms(&z);
}

uint64_t
store_target_hash(const char *target)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)(target ?
	    target : ""); *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

/* ------------------------------------------------------------ in a store_tx */

int
store_tx_meas_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)id,
	    .mv_size = STORE_ID_LEN}, v;
	int r;

	if ((r = st_tx_get(tx, tx->s->meas, id, STORE_ID_LEN, &v)) != 0)
		return r;
	if (mrec_decode(&k, &v, m, NULL) != ZE_OK)
		return 1;	/* not understood: as if absent */
	return 0;
}

struct meas_walk {
	const uint8_t *to;
	store_meas_fn fn;
	void *arg;
};

static int
meas_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct meas_walk *w = arg;
	struct store_meas m;

	if (w->to != NULL && k->mv_size == STORE_ID_LEN &&
	    memcmp(k->mv_data, w->to, STORE_ID_LEN) >= 0)
		return 1;
	if (mrec_decode(k, v, &m, NULL) != ZE_OK)
		return 0;
	return w->fn(&m, w->arg) != 0 ? 1 : 0;
}

int
store_tx_meas_iter(store_tx_t *tx, const uint8_t *from, const uint8_t *to,
    store_meas_fn fn, void *arg)
{
	struct meas_walk w = {to, fn, arg};

	return st_tx_walk(tx, tx->s->meas, from, from ? STORE_ID_LEN : 0,
	    meas_one, &w);
}

int
store_tx_agent_walk(store_tx_t *tx, const uint8_t agent[STORE_PK_LEN],
    uint64_t seq, int dir, store_meas_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v, mv;
	struct store_meas m;
	uint8_t dk[STORE_PK_LEN + 8];
	int rc, r = 0;

	memcpy(dk, agent, STORE_PK_LEN);
	be64_put(dk + STORE_PK_LEN, seq);
	if ((rc = mdb_cursor_open(tx->txn, tx->s->dedup, &c)) != 0)
		return st_tx_rc(tx, rc);
	k.mv_data = dk;
	k.mv_size = sizeof(dk);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (dir < 0) {
		/* the first key >= (agent, seq); step back unless it is seq */
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		else if (rc == 0 && (k.mv_size != sizeof(dk) ||
		    memcmp(k.mv_data, dk, sizeof(dk)) != 0))
			rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	}
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, dir < 0 ? MDB_PREV :
	    MDB_NEXT)) {
		if (k.mv_size != sizeof(dk) ||
		    memcmp(k.mv_data, agent, STORE_PK_LEN) != 0 ||
		    v.mv_size != STORE_ID_LEN)
			break;
		if ((rc = mdb_get(tx->txn, tx->s->meas, &v, &mv)) != 0)
			break;
		if (mrec_decode(&v, &mv, &m, NULL) != ZE_OK)
			continue;
		if ((r = fn(&m, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc);
	return r != 0;
}
