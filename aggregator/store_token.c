/*
 * store_token.c — see store.h "tokens".  Enrollment tokens:
 *
 *   tokens  id(16) -> token record (TREC_LEN bytes, docs/STORAGE.md)
 *
 * Invariant: a token is marked used by a key in the same write transaction
 * that enrols that key (store_token_redeem), so a crash never leaves a
 * used token without its agent or an agent admitted by a token still
 * marked unused.
 */
#include "store_int.h"

#include <sodium.h>
#include <string.h>

#include "token.h"

/* Record layout: format(1) network(1) revoked(1) 0(1) asn(4 BE)
 * created(8) expires(8) used_at(8) used_by(32) secret(32) region(8)
 * name(64). */
static void
trec_encode(const struct store_token *t, uint8_t r[TREC_LEN])
{
	memset(r, 0, TREC_LEN);
	r[0] = TREC_FORMAT;
	r[1] = (uint8_t)t->network;
	r[2] = t->revoked ? 1 : 0;
	be32_put(r + 4, t->asn);
	be64_put(r + 8, (uint64_t)t->created_us);
	be64_put(r + 16, (uint64_t)t->expires_us);
	be64_put(r + 24, (uint64_t)t->used_at_us);
	memcpy(r + 32, t->used_by, STORE_PK_LEN);
	memcpy(r + 64, t->secret, STORE_TOKEN_SECRET_LEN);
	st_text_put(r + 96, t->region, STORE_REGION_LEN);
	st_text_put(r + 104, t->name, STORE_NAME_LEN);
}

static int
trec_decode(const MDB_val *k, const MDB_val *v, struct store_token *t)
{
	const uint8_t *r = v->mv_data;

	if (k->mv_size != STORE_TOKEN_ID_LEN || v->mv_size < TREC_LEN ||
	    r[0] != TREC_FORMAT)
		return MDB_CORRUPTED;
	memset(t, 0, sizeof(*t));
	memcpy(t->id, k->mv_data, STORE_TOKEN_ID_LEN);
	t->network = store_network_of(r[1]);
	t->revoked = r[2] != 0;
	t->asn = be32_get(r + 4);
	t->created_us = (int64_t)be64_get(r + 8);
	t->expires_us = (int64_t)be64_get(r + 16);
	t->used_at_us = (int64_t)be64_get(r + 24);
	memcpy(t->used_by, r + 32, STORE_PK_LEN);
	memcpy(t->secret, r + 64, STORE_TOKEN_SECRET_LEN);
	st_text_get(t->region, r + 96, STORE_REGION_LEN);
	st_text_get(t->name, r + 104, STORE_NAME_LEN);
	return 0;
}

static zerr_t
no_table(const store_t *s, zdiag_t *d)
{
	return s->no_tokens ? zdiag_set(d, ZE_NOTFOUND, "no such token "
	    "(no token was ever created here)") : ZE_OK;
}

static int
put_fn(store_t *s, MDB_txn *txn, void *arg)
{
	const struct store_token *t = arg;
	uint8_t rec[TREC_LEN];
	MDB_val k = {.mv_size = STORE_TOKEN_ID_LEN,
	    .mv_data = (void *)(uintptr_t)t->id};
	MDB_val v = {.mv_size = TREC_LEN, .mv_data = rec};
	int rc;

	trec_encode(t, rec);
	rc = mdb_put(txn, s->tokens, &k, &v, MDB_NOOVERWRITE);
	sodium_memzero(rec, sizeof(rec));
	return rc;
}

zerr_t
store_token_put(store_t *s, const struct store_token *t, zdiag_t *d)
{
	zerr_t e = st_write_txn(s, put_fn, (void *)(uintptr_t)t,
	    "creating a token", d);

	if (e == ZE_EXISTS)
		return zdiag_set(d, ZE_EXISTS, "token id exists already");
	return e;
}

zerr_t
store_token_get(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    struct store_token *t, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k = {.mv_size = STORE_TOKEN_ID_LEN,
	    .mv_data = (void *)(uintptr_t)id}, v;
	zerr_t e;
	int rc;

	if ((e = no_table(s, d)) != ZE_OK)
		return e;
	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	if ((rc = mdb_get(txn, s->tokens, &k, &v)) == 0)
		rc = trec_decode(&k, &v, t);
	st_txn_abort(s, txn);
	if (rc == MDB_NOTFOUND)
		return zdiag_set(d, ZE_NOTFOUND, "no such token");
	return rc == 0 ? ZE_OK : st_fail(rc, d, "token");
}

static int
revoke_fn(store_t *s, MDB_txn *txn, void *arg)
{
	MDB_val k = {.mv_size = STORE_TOKEN_ID_LEN, .mv_data = arg}, v;
	uint8_t rec[TREC_LEN];
	int rc;

	if ((rc = mdb_get(txn, s->tokens, &k, &v)) != 0)
		return rc;
	if (v.mv_size != TREC_LEN)
		return MDB_CORRUPTED;
	memcpy(rec, v.mv_data, TREC_LEN);
	rec[2] = 1;
	v.mv_data = rec;
	rc = mdb_put(txn, s->tokens, &k, &v, 0);
	sodium_memzero(rec, sizeof(rec));
	return rc;
}

zerr_t
store_token_revoke(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    zdiag_t *d)
{
	zerr_t e = st_write_txn(s, revoke_fn, (void *)(uintptr_t)id,
	    "revoking a token", d);

	if (e == ZE_NOTFOUND)
		return zdiag_set(d, ZE_NOTFOUND, "no such token");
	return e;
}

struct iter_arg {
	store_token_fn fn;
	void *arg;
	int bad;
};

static int
iter_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct iter_arg *ia = arg;
	struct store_token t;
	int r;

	if (trec_decode(k, v, &t) != 0) {
		ia->bad = MDB_CORRUPTED;
		return 1;
	}
	r = ia->fn(&t, ia->arg);
	sodium_memzero(t.secret, sizeof(t.secret));
	return r;
}

static int
iter_tx(store_tx_t *tx, void *arg)
{
	struct iter_arg *ia = arg;

	return st_tx_walk(tx, tx->s->tokens, NULL, 0, iter_one, ia) < 0 ? 1 :
	    0;
}

zerr_t
store_token_iter(store_t *s, store_token_fn fn, void *arg, zdiag_t *d)
{
	struct iter_arg ia = {fn, arg, 0};
	zerr_t e;

	if (s->no_tokens)
		return ZE_OK;
	e = store_tx_run(s, false, iter_tx, &ia, "listing tokens", d);
	if (e == ZE_OK && ia.bad != 0)
		return zdiag_set(d, ZE_STORAGE, "a token record is not "
		    "understood");
	return e;
}

struct redeem_arg {
	const uint8_t *id, *pk, *proof;
	size_t proof_len;
	int64_t now;
	enum store_redeem res;
	struct store_token t;
	bool found;
};

static int
redeem_fn(store_t *s, MDB_txn *txn, void *arg)
{
	struct redeem_arg *ra = arg;
	struct store_token *t = &ra->t;
	struct store_agent a;
	uint8_t rec[TREC_LEN];
	MDB_val k = {.mv_size = STORE_TOKEN_ID_LEN,
	    .mv_data = (void *)(uintptr_t)ra->id}, v;
	bool created;
	int rc;

	if ((rc = mdb_get(txn, s->tokens, &k, &v)) == MDB_NOTFOUND) {
		ra->res = STORE_REDEEM_UNKNOWN;
		return -1;
	}
	if (rc != 0 || (rc = trec_decode(&k, &v, t)) != 0)
		return rc;
	ra->found = true;
	if (token_proof_check(t->secret, t->id, ra->pk, ra->proof,
	    ra->proof_len) != 0)
		ra->res = STORE_REDEEM_FORGED;
	else if (t->revoked)
		ra->res = STORE_REDEEM_REVOKED;
	else if (t->used_at_us != 0)
		ra->res = sodium_memcmp(t->used_by, ra->pk, STORE_PK_LEN) == 0
		    ? STORE_REDEEM_ADMITTED : STORE_REDEEM_USED;
	else if (t->expires_us != 0 && ra->now >= t->expires_us)
		ra->res = STORE_REDEEM_EXPIRED;
	else {
		memset(&a, 0, sizeof(a));
		memcpy(a.pk, ra->pk, STORE_PK_LEN);
		memcpy(a.region, t->region, sizeof(a.region));
		a.asn = t->asn;
		a.role = STORE_ROLE_PROBE;
		a.network = t->network;
		a.enabled = true;
		memcpy(a.name, t->name, sizeof(a.name));
		a.enrolled_us = ra->now;
		if ((rc = st_agent_put(s, txn, &a, &created)) != 0)
			return rc;
		t->used_at_us = ra->now;
		memcpy(t->used_by, ra->pk, STORE_PK_LEN);
		trec_encode(t, rec);
		v.mv_data = rec;
		v.mv_size = TREC_LEN;
		rc = mdb_put(txn, s->tokens, &k, &v, 0);
		sodium_memzero(rec, sizeof(rec));
		if (rc != 0)
			return rc;
		ra->res = STORE_REDEEM_ADMITTED;
		return 0;
	}
	/* a refusal writes nothing: stop, the transaction is aborted */
	return -1;
}

/* A refusal (-1) stops with nothing written; an LMDB code fails. */
static int
redeem_tx(store_tx_t *tx, void *arg)
{
	int rc = redeem_fn(tx->s, tx->txn, arg);

	if (rc == -1)
		return 1;
	if (rc != 0) {
		tx->rc = rc;
		return 1;
	}
	return 0;
}

zerr_t
store_token_redeem(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    const uint8_t pk[STORE_PK_LEN], const uint8_t *proof, size_t proof_len,
    int64_t now_us, enum store_redeem *res, struct store_token *t,
    zdiag_t *d)
{
	struct redeem_arg ra = {.id = id, .pk = pk, .proof = proof,
	    .proof_len = proof_len, .now = now_us};
	zerr_t e;

	if (s->readonly)
		return zdiag_set(d, ZE_INVAL, "store opened read-only");
	e = store_tx_run(s, true, redeem_tx, &ra, "redeeming a token", d);
	sodium_memzero(ra.t.secret, sizeof(ra.t.secret));
	if (e == ZE_INVAL && ra.res != 0)
		e = ZE_OK;	/* refused: the "stopped" of st_write_txn */
	if (e != ZE_OK)
		return e;
	*res = ra.res;
	if (t != NULL)
		*t = ra.t;
	return ZE_OK;
}
