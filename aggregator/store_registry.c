/*
 * store_registry.c — see store.h.  The registry: agent records (agents,
 * by_curve, meta "registry_gen") and their lag under load
 * (store_agents_defer: the lag table is the committing thread's).
 */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "ztime.h"

/* ------------------------------------------------------------ records */

/* Copy a NUL-padded text field of len bytes into dst (len bytes, always
 * NUL-terminated). */
void
st_text_get(char *dst, const uint8_t *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len - 1] = '\0';
}

void
st_text_put(uint8_t *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memset(dst, 0, len);
	memcpy(dst, src, n);
}

void
st_arec_encode(const struct store_agent *a, uint8_t r[AREC_LEN])
{
	memset(r, 0, AREC_LEN);
	r[0] = AREC_FORMAT;
	r[1] = (uint8_t)a->role;
	r[2] = a->enabled ? 1 : 0;
	r[3] = (uint8_t)a->network;
	be32_put(r + 4, a->asn);
	be64_put(r + 8, (uint64_t)a->enrolled_us);
	be64_put(r + 16, (uint64_t)a->last_seen_us);
	be64_put(r + 24, a->backlog);
	be64_put(r + 32, a->dropped);
	be64_put(r + 40, a->last_seq);
	be64_put(r + 48, a->list_version);
	be64_put(r + 56, a->stored);
	st_text_put(r + 64, a->region, STORE_REGION_LEN);
	st_text_put(r + 72, a->name, STORE_NAME_LEN);
	st_text_put(r + 136, a->version, STORE_VERSION_LEN);
	/* INT64_MIN: no offset known */
	be64_put(r + 168, !a->has_clock ? (uint64_t)INT64_MIN :
	    a->clock_offset_us == INT64_MIN ? (uint64_t)(INT64_MIN + 1) :
	    (uint64_t)a->clock_offset_us);
}

zerr_t
st_arec_decode(const uint8_t pk[STORE_PK_LEN], const MDB_val *v,
    struct store_agent *a, zdiag_t *d)
{
	const uint8_t *r = v->mv_data;

	if (v->mv_size < 1 || (r[0] == 1 && v->mv_size < AREC_LEN1) ||
	    (r[0] == AREC_FORMAT && v->mv_size < AREC_LEN) ||
	    (r[0] != 1 && r[0] != AREC_FORMAT))
		return zdiag_set(d, ZE_STORAGE, "agent record of %zu bytes, "
		    "format %u: not understood", v->mv_size,
		    v->mv_size ? r[0] : 0);
	memset(a, 0, sizeof(*a));
	memcpy(a->pk, pk, STORE_PK_LEN);
	a->role = store_role_of(r[1]);
	a->enabled = r[2] != 0;
	a->network = store_network_of(r[3]);
	a->asn = be32_get(r + 4);
	a->enrolled_us = (int64_t)be64_get(r + 8);
	a->last_seen_us = (int64_t)be64_get(r + 16);
	a->backlog = be64_get(r + 24);
	a->dropped = be64_get(r + 32);
	a->last_seq = be64_get(r + 40);
	a->list_version = be64_get(r + 48);
	a->stored = be64_get(r + 56);
	st_text_get(a->region, r + 64, STORE_REGION_LEN);
	st_text_get(a->name, r + 72, STORE_NAME_LEN);
	st_text_get(a->version, r + 136, STORE_VERSION_LEN);
	if (r[0] == AREC_FORMAT) {
		a->clock_offset_us = (int64_t)be64_get(r + 168);
		a->has_clock = a->clock_offset_us != INT64_MIN;
		if (!a->has_clock)
			a->clock_offset_us = 0;
	}
	return ZE_OK;
}

/* ------------------------------------------- agent records under load */

void
store_agents_defer(store_t *s, bool on)
{
	s->defer = on;
}

/* pk's slot: its own, or the free one where it would go (NULL only when
 * the table is empty).  Public keys are uniform: their first bytes hash. */
static struct lag *
lag_slot(store_t *s, const uint8_t *pk)
{
	size_t i;

	if (s->alag == 0)
		return NULL;
	for (i = (size_t)be64_get(pk) & (s->alag - 1);; i = (i + 1) &
	    (s->alag - 1))
		if (!s->lag[i].used ||
		    memcmp(s->lag[i].pk, pk, STORE_PK_LEN) == 0)
			return &s->lag[i];
}

/* The deferred update of pk, or NULL. */
static struct lag *
lag_find(store_t *s, const uint8_t *pk)
{
	struct lag *l = lag_slot(s, pk);

	return l != NULL && l->used && l->since_us != 0 ? l : NULL;
}

/* pk's slot, added if new (slots are kept for the agents seen: at most
 * one per enrolled agent). */
static struct lag *
lag_add(store_t *s, const uint8_t *pk)
{
	struct lag *l;

	if (2 * (s->ulag + 1) > s->alag) {
		struct lag *old = s->lag, *nl;
		size_t na = s->alag ? 2 * s->alag : 256, oa = s->alag;

		if ((nl = calloc(na, sizeof(*nl))) == NULL)
			return NULL;
		s->lag = nl;
		s->alag = na;
		for (size_t i = 0; i < oa; i++)
			if (old[i].used)
				*lag_slot(s, old[i].pk) = old[i];
		free(old);
	}
	l = lag_slot(s, pk);
	if (!l->used) {
		memset(l, 0, sizeof(*l));
		memcpy(l->pk, pk, STORE_PK_LEN);
		l->used = true;
		s->ulag++;
	}
	return l;
}

/* meta "agents_lag": 1 while some agent record lags behind the committed
 * measurements (a crash then leaves counts short: store_agents_recount). */
int
st_lag_meta_put(store_t *s, MDB_txn *txn, bool on)
{
	MDB_val k = {.mv_data = "agents_lag", .mv_size = 10};
	MDB_val v = {.mv_data = on ? "1" : "0", .mv_size = 1};

	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Which touched records this transaction writes.  Deferring, an agent's
 * record is written at most once per LAG_MAX_US: its count and last
 * arrival wait in s->lag (else each commit writes one random page of
 * `agents` per agent in it).  A status update writes at once; a record
 * that has waited LAG_MAX_US is written by the next transaction;
 * store_agents_flush writes all.  Returns an LMDB code; *lagging:
 * something still lags after this transaction. */
int
st_lag_plan(store_t *s, MDB_txn *txn, bool *lagging)
{
	int64_t now = ztime_mono_us();
	bool defer = s->defer && !s->flush_all;
	struct touched *t;
	size_t cleared = 0;	/* lag entries this transaction writes */
	int rc;

	*lagging = s->lag_lost;
	if (s->nlag > 0 && (!defer || now >= s->lag_due)) {
		for (size_t i = 0; i < s->alag; i++) {
			const struct lag *l = &s->lag[i];

			if (l->used && l->since_us != 0 && (!defer ||
			    now - l->since_us >= LAG_MAX_US) &&
			    (rc = st_touched_get(s, txn, l->pk, &t)) != 0)
				return rc;
		}
	}
	for (size_t i = 0; i < s->ntouched; i++) {
		struct lag *l;

		t = &s->touched[i];
		l = lag_find(s, t->a.pk);
		t->write = !defer || t->status || (l != NULL &&
		    now - l->since_us >= LAG_MAX_US);
		if (t->found && !t->write)
			*lagging = true;
		if (t->write && l != NULL) {
			t->add += l->add;
			if (l->seen_us > t->seen_us)
				t->seen_us = l->seen_us;
			cleared++;
		}
	}
	/* and the deferred ones this transaction does not write */
	if (cleared < s->nlag)
		*lagging = true;
	return 0;
}

/* After the commit: the written records no longer lag, the deferred ones
 * do.  Should memory for a new slot fail, that agent's deferred count is
 * lost: meta "agents_lag" then stays 1 (lag_lost) and the next start
 * recounts. */
void
st_lag_done(store_t *s, bool lagging)
{
	int64_t now = ztime_mono_us();

	for (size_t i = 0; i < s->ntouched; i++) {
		const struct touched *t = &s->touched[i];
		struct lag *l;

		if (t->write) {
			if ((l = lag_find(s, t->a.pk)) != NULL) {
				l->add = 0;
				l->seen_us = 0;
				l->since_us = 0;
				s->nlag--;
			}
			continue;
		}
		if (!t->found)
			continue;
		if ((l = lag_add(s, t->a.pk)) == NULL) {
			s->lag_lost = true;
			continue;
		}
		if (l->since_us == 0) {
			l->since_us = now;
			s->nlag++;
		}
		l->add += t->add;
		if (t->seen_us > l->seen_us)
			l->seen_us = t->seen_us;
	}
	s->lag_due = INT64_MAX;
	for (size_t i = 0; i < s->alag && s->nlag > 0; i++)
		if (s->lag[i].used && s->lag[i].since_us != 0 &&
		    s->lag[i].since_us + LAG_MAX_US < s->lag_due)
			s->lag_due = s->lag[i].since_us + LAG_MAX_US;
	s->lag_meta = lagging;
	atomic_store(&s->lagging, s->nlag > 0);
}

bool
store_agents_lagging(store_t *s)
{
	return atomic_load(&s->lagging);
}

zerr_t
store_agents_flush(store_t *s, zdiag_t *d)
{
	zerr_t e;

	s->flush_all = true;
	e = store_commit(s, NULL, 0, NULL, NULL, 0, d);
	s->flush_all = false;
	return e;
}

/* ------------------------------------------------------------ registry */

static int
gen_bump(store_t *s, MDB_txn *txn)
{
	MDB_val k, v;
	uint8_t b[8];
	uint64_t g = 0;
	int rc;

	k.mv_data = "registry_gen";
	k.mv_size = 12;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		g = be64_get(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	be64_put(b, g + 1);
	v.mv_data = b;
	v.mv_size = 8;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

struct enroll_arg {
	const struct store_agent *in;
	bool created;
};

/* Write in's enrolment (see store_agent_enroll) in txn. */
int
st_agent_put(store_t *s, MDB_txn *txn, const struct store_agent *in,
    bool *created)
{
	struct store_agent a;
	MDB_val k, v;
	uint8_t rec[AREC_LEN], curve[32];
	int rc;

	k.mv_data = (void *)(uintptr_t)in->pk;
	k.mv_size = STORE_PK_LEN;
	rc = mdb_get(txn, s->agents, &k, &v);
	if (rc == 0 && st_arec_decode(in->pk, &v, &a, NULL) == ZE_OK) {
		*created = false;
		memcpy(a.region, in->region, sizeof(a.region));
		a.asn = in->asn;
		a.role = in->role;
		a.enabled = in->enabled;
		if (in->network != STORE_NET_UNKNOWN)
			a.network = in->network;
		memcpy(a.name, in->name, sizeof(a.name));
	} else if (rc == 0 || rc == MDB_NOTFOUND) {
		*created = true;
		a = *in;
	} else
		return rc;
	st_arec_encode(&a, rec);
	v.mv_data = rec;
	v.mv_size = AREC_LEN;
	if ((rc = mdb_put(txn, s->agents, &k, &v, 0)) != 0)
		return rc;
	if (pubkey_to_curve(in->pk, curve) != ZE_OK)
		return EINVAL;
	k.mv_data = curve;
	k.mv_size = sizeof(curve);
	v.mv_data = (void *)(uintptr_t)in->pk;
	v.mv_size = STORE_PK_LEN;
	if ((rc = mdb_put(txn, s->by_curve, &k, &v, 0)) != 0)
		return rc;
	return gen_bump(s, txn);
}

static int
enroll_fn(store_t *s, MDB_txn *txn, void *arg)
{
	struct enroll_arg *ea = arg;

	return st_agent_put(s, txn, ea->in, &ea->created);
}

zerr_t
store_agent_enroll(store_t *s, const struct store_agent *a, bool *created,
    zdiag_t *d)
{
	struct enroll_arg ea = {a, false};
	zerr_t e;

	e = st_write_txn(s, enroll_fn, &ea, "enrolling an agent", d);
	if (e == ZE_OK && created != NULL)
		*created = ea.created;
	return e;
}

struct enable_arg {
	const uint8_t *pk;
	bool enabled;
};

static int
enable_fn(store_t *s, MDB_txn *txn, void *arg)
{
	struct enable_arg *ea = arg;
	struct store_agent a;
	MDB_val k, v;
	uint8_t rec[AREC_LEN];
	int rc;

	k.mv_data = (void *)(uintptr_t)ea->pk;
	k.mv_size = STORE_PK_LEN;
	if ((rc = mdb_get(txn, s->agents, &k, &v)) != 0)
		return rc;
	/* a format-1 record is written again as format 2 */
	if (st_arec_decode(ea->pk, &v, &a, NULL) != ZE_OK)
		return MDB_CORRUPTED;
	a.enabled = ea->enabled;
	st_arec_encode(&a, rec);
	v.mv_data = rec;
	v.mv_size = AREC_LEN;
	if ((rc = mdb_put(txn, s->agents, &k, &v, 0)) != 0)
		return rc;
	return gen_bump(s, txn);
}

zerr_t
store_agent_set_enabled(store_t *s, const uint8_t pk[STORE_PK_LEN],
    bool enabled, zdiag_t *d)
{
	struct enable_arg ea = {pk, enabled};
	zerr_t e;

	e = st_write_txn(s, enable_fn, &ea, "changing an agent", d);
	if (e == ZE_NOTFOUND)
		return zdiag_set(d, ZE_NOTFOUND, "agent not enrolled");
	return e;
}

zerr_t
store_agent_get(store_t *s, const uint8_t pk[STORE_PK_LEN],
    struct store_agent *a, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k, v;
	zerr_t e;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)pk;
	k.mv_size = STORE_PK_LEN;
	if ((rc = mdb_get(txn, s->agents, &k, &v)) == 0)
		e = st_arec_decode(pk, &v, a, d);
	else
		e = st_fail(rc, d, "agent");
	st_txn_abort(s, txn);
	return e;
}

zerr_t
store_agent_by_curve(store_t *s, const uint8_t curve[32],
    uint8_t pk[STORE_PK_LEN], zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k, v;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)curve;
	k.mv_size = 32;
	if ((rc = mdb_get(txn, s->by_curve, &k, &v)) == 0 &&
	    v.mv_size == STORE_PK_LEN)
		memcpy(pk, v.mv_data, STORE_PK_LEN);
	else if (rc == 0)
		e = zdiag_set(d, ZE_STORAGE, "by_curve record corrupt");
	else
		e = st_fail(rc, d, "curve key");
	st_txn_abort(s, txn);
	return e;
}

zerr_t
store_agent_iter(store_t *s, store_agent_fn fn, void *arg, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct store_agent a;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->agents, &c)) != 0) {
		st_txn_abort(s, txn);
		return st_fail(rc, d, "cursor");
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_PK_LEN)
			continue;
		if ((e = st_arec_decode(k.mv_data, &v, &a, d)) != ZE_OK)
			break;
		if (fn(&a, arg) != 0)
			break;
	}
	if (e == ZE_OK && rc != 0 && rc != MDB_NOTFOUND)
		e = st_fail(rc, d, "reading agents");
	mdb_cursor_close(c);
	st_txn_abort(s, txn);
	return e;
}

/* store_agents_recount's transaction: arg is the struct recount. */
struct recount {
	bool ran;
	uint64_t agents, fixed;
};

static int
recount_txn(store_t *s, MDB_txn *txn, void *arg)
{
	struct recount *r = arg;
	MDB_cursor *ac = NULL, *dc = NULL;
	MDB_val k = {.mv_data = "agents_lag", .mv_size = 10}, v, dk, dv;
	uint8_t key[STORE_PK_LEN + 8], rec[AREC_LEN];
	int rc;

	r->ran = false;
	r->agents = r->fixed = 0;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == MDB_NOTFOUND ||
	    (rc == 0 && (v.mv_size != 1 || *(const char *)v.mv_data != '1')))
		return 0;
	if (rc != 0)
		return rc;
	r->ran = true;
	if ((rc = mdb_cursor_open(txn, s->agents, &ac)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->dedup, &dc)) != 0)
		goto out;
	for (rc = mdb_cursor_get(ac, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(ac, &k, &v, MDB_NEXT)) {
		struct store_agent a;
		uint64_t n = 0;

		if (k.mv_size != STORE_PK_LEN ||
		    st_arec_decode(k.mv_data, &v, &a, NULL) != ZE_OK)
			continue;	/* store_agent_iter skips it too */
		r->agents++;
		memcpy(key, k.mv_data, STORE_PK_LEN);
		memset(key + STORE_PK_LEN, 0, 8);
		dk.mv_data = key;
		dk.mv_size = sizeof(key);
		for (rc = mdb_cursor_get(dc, &dk, &dv, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(dc, &dk, &dv, MDB_NEXT)) {
			if (dk.mv_size < STORE_PK_LEN ||
			    memcmp(dk.mv_data, key, STORE_PK_LEN) != 0)
				break;
			n++;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto out;
		if (n == a.stored)
			continue;
		a.stored = n;
		r->fixed++;
		st_arec_encode(&a, rec);
		v.mv_data = rec;
		v.mv_size = AREC_LEN;
		if ((rc = mdb_cursor_put(ac, &k, &v, MDB_CURRENT)) != 0)
			goto out;
	}
	if (rc == MDB_NOTFOUND)
		rc = st_lag_meta_put(s, txn, false);
out:
	if (dc != NULL)
		mdb_cursor_close(dc);
	if (ac != NULL)
		mdb_cursor_close(ac);
	return rc;
}

zerr_t
store_agents_recount(store_t *s, bool *ran, uint64_t *fixed, zdiag_t *d)
{
	struct recount r = {.ran = false};
	zerr_t e;

	e = st_write_txn(s, recount_txn, &r, "recounting the registry", d);
	if (e == ZE_OK)
		s->lag_meta = false;
	*ran = e == ZE_OK && r.ran;
	*fixed = r.fixed;
	return e;
}

const char *
store_role_name(enum store_role r)
{
	return r == STORE_ROLE_CONTROL ? "control" :
	    r == STORE_ROLE_DOMESTIC ? "control-domestic" : "probe";
}

const char *
store_network_name(enum store_network n)
{
	return n == STORE_NET_FIXED ? "fixed" : n == STORE_NET_MOBILE ?
	    "mobile" : "unknown";
}

int
store_network_parse(const char *text)
{
	if (strcmp(text, "fixed") == 0)
		return STORE_NET_FIXED;
	if (strcmp(text, "mobile") == 0)
		return STORE_NET_MOBILE;
	if (strcmp(text, "unknown") == 0)
		return STORE_NET_UNKNOWN;
	return -1;
}
