/*
 * store.c — see store.h.  The environment: open and close, transactions,
 * map growth and prefill, counts, and the transaction runner
 * (store_tx_run) the other store files write through.  Every LMDB call of
 * the aggregator is in aggregator/store*.c (store_int.h is what they
 * share; the agent's outbox has its own).
 *
 * Invariants:
 *  - mdb_env_set_mapsize runs only with the rwlock held for writing, so no
 *    transaction of this process is open then (LMDB's rule); every
 *    transaction holds the lock for reading while it is open.
 *  - A write transaction that fails is aborted whole; nothing partial is
 *    ever committed.  MDB_MAP_FULL grows the map and retries the same
 *    work; ENOSPC and growth past map_max come back as ZE_FULL.
 *  - MDB_PANIC (the environment is unusable after a failed meta write)
 *    reopens the environment on the next commit.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ztime.h"

/* ------------------------------------------------------------ env, txns */

zerr_t
st_fail(int rc, zdiag_t *d, const char *what)
{
	zerr_t e;

	switch (rc) {
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		e = ZE_FULL;
		break;
	case MDB_NOTFOUND:
		e = ZE_NOTFOUND;
		break;
	case MDB_KEYEXIST:
		e = ZE_EXISTS;
		break;
	case ENOMEM:
		e = ZE_NOMEM;
		break;
	default:
		e = ZE_STORAGE;
	}
	return zdiag_set(d, e, "%s: %s", what, mdb_strerror(rc));
}

/* Begin a transaction with the lock held for reading; adopts a map grown
 * by another process.  On success the caller ends it with st_txn_abort
 * or st_txn_commit. */
int
st_txn_begin(store_t *s, unsigned flags, MDB_txn **txn)
{
	int rc;

	for (int i = 0; i < 3; i++) {
		pthread_rwlock_rdlock(&s->lock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED)
			break;
		pthread_rwlock_unlock(&s->lock);
		pthread_rwlock_wrlock(&s->lock);
		rc = mdb_env_set_mapsize(s->env, 0);
		pthread_rwlock_unlock(&s->lock);
		if (rc != 0)
			return rc;
	}
	if (rc != 0)
		pthread_rwlock_unlock(&s->lock);
	return rc;
}

void
st_txn_abort(store_t *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->lock);
}

int
st_txn_commit(store_t *s, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&s->lock);
	return rc;
}

/* Grow the map by doubling (1 GiB steps past 1 GiB), up to map_max.
 * ZE_FULL when already at the maximum. */
zerr_t
st_map_grow(store_t *s, zdiag_t *d)
{
	MDB_envinfo info;
	int64_t cur, next, pg = sysconf(_SC_PAGESIZE);
	int rc;

	pthread_rwlock_wrlock(&s->lock);
	mdb_env_info(s->env, &info);
	cur = (int64_t)info.me_mapsize;
	next = cur < GROW_STEP ? cur * 2 : cur + GROW_STEP;
	if (s->map_max > 0 && next > s->map_max)
		next = s->map_max / pg * pg;
	if (next <= cur) {
		pthread_rwlock_unlock(&s->lock);
		return zdiag_set(d, ZE_FULL, "%s: database map is full at "
		    "%lld bytes (map_max)", s->dir, (long long)cur);
	}
	rc = mdb_env_set_mapsize(s->env, (size_t)next);
	pthread_rwlock_unlock(&s->lock);
	if (rc != 0)
		return st_fail(rc, d, "growing the map");
	return ZE_OK;
}

/* Bytes of the data file in use (up to the last page of the last commit);
 * *psize: LMDB's page size. */
static int64_t
used_bytes(store_t *s, unsigned *psize)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*psize = st.ms_psize;
	return ((int64_t)info.me_last_pgno + 1) * st.ms_psize;
}

#define PREFILL_RETRY_US 10000000	/* after a failed prefill (disk full) */

/*
 * Keep the data file written past the last page in use (store_opts.
 * prefill).  LMDB writes the pages of a commit where its free list puts
 * them, and runs of new pages at the end in one writev; the kernel caches
 * such runs in large folios, and every later single-page write into a
 * large folio, and its writeback, walks the whole folio (measured: 6x the
 * system time of single-page folios for random page writes).  Pages
 * written one at a time beforehand stay single-page folios.  Runs inside
 * a write transaction that changes nothing, so no writer of any process
 * allocates pages meanwhile; pages past the last one in use are never
 * read by LMDB.  A failure (a full disk) is not an error: LMDB's own
 * writes report it; prefill tries again later.
 */
void
st_prefill(store_t *s)
{
	static const uint8_t zero[65536];
	MDB_txn *txn;
	int64_t used, from, to, off;
	unsigned psize;
	int fd;

	if (s->prefill <= 0 || s->readonly || s->env == NULL)
		return;
	used = used_bytes(s, &psize);
	if (psize == 0 || psize > sizeof(zero) ||
	    s->filled >= used + s->prefill / 2 ||
	    (s->prefill_retry != 0 && ztime_mono_us() < s->prefill_retry))
		return;
	if (st_txn_begin(s, 0, &txn) != 0)
		return;
	used = used_bytes(s, &psize);	/* now no writer can change it */
	from = s->filled > used ? s->filled : used;
	to = used + s->prefill;
	if (s->map_max > 0 && to > s->map_max)
		to = s->map_max;
	if (mdb_env_get_fd(s->env, &fd) != 0)
		to = from;
	for (off = from; off < to; off += psize)
		if (pwrite(fd, zero, psize, (off_t)off) != (ssize_t)psize)
			break;
	s->prefill_retry = off < to ? ztime_mono_us() + PREFILL_RETRY_US : 0;
	if (off > from) {
		/* start the writeback now, not in the next commit's sync */
		sync_file_range(fd, (off_t)from, (off_t)(off - from),
		    SYNC_FILE_RANGE_WRITE);
		s->filled = off;
	}
	st_txn_abort(s, txn);
}

/* Open databases that came after the format (n1, and n2 when not NULL)
 * in txn: a read-only opener of a store without them gets *absent and 0.
 * Returns LMDB's code. */
static int
st_dbi_late(const store_t *s, MDB_txn *txn, unsigned dbf, const char *n1,
    MDB_dbi *d1, const char *n2, MDB_dbi *d2, bool *absent)
{
	int rc;

	*absent = false;
	if ((rc = mdb_dbi_open(txn, n1, dbf, d1)) == 0 && n2 != NULL)
		rc = mdb_dbi_open(txn, n2, dbf, d2);
	if (rc == MDB_NOTFOUND && s->readonly) {
		*absent = true;
		rc = 0;
	}
	return rc;
}


static zerr_t
env_open(store_t *s, zdiag_t *d)
{
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	MDB_val k, v;
	unsigned flags = MDB_NOTLS | (s->readonly ? MDB_RDONLY : 0) |
	    (s->prefill > 0 ? MDB_NORDAHEAD : 0);
	unsigned dbf = s->readonly ? 0 : MDB_CREATE;
	uint8_t fmt[4];
	int rc, dead;
	zerr_t e;

	if ((rc = mdb_env_create(&s->env)) != 0)
		return st_fail(rc, d, "mdb_env_create");
	mdb_env_set_maxdbs(s->env, 32);
	if ((rc = mdb_env_open(s->env, s->dir, flags, 0600)) != 0) {
		e = st_fail(rc, d, s->dir);
		if (rc == ENOENT)
			e = zdiag_set(d, ZE_NOTFOUND, "%s: no Zond database "
			    "here", s->dir);
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	mdb_env_info(s->env, &info);
	if (!s->readonly && (int64_t)info.me_mapsize < s->map_size &&
	    (rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size)) != 0) {
		e = st_fail(rc, d, "mdb_env_set_mapsize");
		goto fail;
	}
	for (int attempt = 0;; attempt++) {
		if ((rc = st_txn_begin(s, s->readonly ? MDB_RDONLY : 0,
		    &txn)) != 0) {
			e = st_fail(rc, d, "opening the databases");
			goto fail;
		}
		if ((rc = mdb_dbi_open(txn, "meas", dbf, &s->meas)) ||
		    (rc = mdb_dbi_open(txn, "dedup", dbf, &s->dedup)) ||
		    (rc = mdb_dbi_open(txn, "agents", dbf, &s->agents)) ||
		    (rc = mdb_dbi_open(txn, "by_curve", dbf, &s->by_curve)) ||
		    (rc = mdb_dbi_open(txn, "meta", dbf, &s->meta)) ||
		    (rc = mdb_dbi_open(txn, "todo", dbf, &s->todo)) ||
		    (rc = mdb_dbi_open(txn, "ctl", dbf, &s->ctl)) ||
		    (rc = mdb_dbi_open(txn, "open", dbf, &s->open)) ||
		    (rc = mdb_dbi_open(txn, "rollup", dbf, &s->rollup)) ||
		    (rc = mdb_dbi_open(txn, "cellhour", dbf, &s->cellhour)) ||
		    (rc = mdb_dbi_open(txn, "events", dbf, &s->events)) ||
		    (rc = mdb_dbi_open(txn, "hookq", dbf, &s->hookq))) {
			st_txn_abort(s, txn);
			if (rc == MDB_NOTFOUND) {
				e = zdiag_set(d, ZE_NOTFOUND, "%s: not a Zond "
				    "database (tables missing)", s->dir);
				goto fail;
			}
			if (rc == MDB_MAP_FULL && attempt == 0 &&
			    st_map_grow(s, d) == ZE_OK)
				continue;
			e = st_fail(rc, d, "opening the databases");
			goto fail;
		}
		/* tokens, then beats and silence (issue 20) came later: a
		 * read-only opener of an older store sees none */
		if ((rc = st_dbi_late(s, txn, dbf, "tokens", &s->tokens, NULL,
		    NULL, &s->no_tokens)) == 0)
			rc = st_dbi_late(s, txn, dbf, "beats", &s->beats,
			    "silence", &s->silence, &s->no_beats);
		if (rc != 0) {
			st_txn_abort(s, txn);
			if (rc == MDB_MAP_FULL && attempt == 0 &&
			    st_map_grow(s, d) == ZE_OK)
				continue;
			e = st_fail(rc, d, "opening the databases");
			goto fail;
		}
		k.mv_data = "format";
		k.mv_size = 6;
		rc = mdb_get(txn, s->meta, &k, &v);
		if (rc == MDB_NOTFOUND && !s->readonly) {
			be32_put(fmt, STORE_FORMAT);
			v.mv_data = fmt;
			v.mv_size = 4;
			rc = mdb_put(txn, s->meta, &k, &v, 0);
			/* a new store: the analyzer's data covers it */
			if (rc == 0)
				rc = st_an_ready_put(s, txn);
		} else if (rc == 0 && (v.mv_size != 4 ||
		    be32_get(v.mv_data) != STORE_FORMAT)) {
			st_txn_abort(s, txn);
			e = zdiag_set(d, ZE_VERSION, "%s: database format %u; "
			    "this program reads format %d", s->dir,
			    v.mv_size == 4 ? be32_get(v.mv_data) : 0,
			    STORE_FORMAT);
			goto fail;
		} else if (rc == MDB_NOTFOUND)
			rc = 0;	/* read-only and empty: fine */
		if (rc != 0) {
			st_txn_abort(s, txn);
			e = st_fail(rc, d, "format record");
			goto fail;
		}
		/* read-only txns are committed too, to keep the handles */
		if ((rc = st_txn_commit(s, txn)) != 0) {
			e = st_fail(rc, d, "opening the databases");
			goto fail;
		}
		break;
	}
	return ZE_OK;
fail:
	mdb_env_close(s->env);
	s->env = NULL;
	return e;
}

zerr_t
store_open(const char *dir, const struct store_opts *o, store_t **out,
    zdiag_t *d)
{
	store_t *s;
	zerr_t e;

	*out = NULL;
	if (!o->readonly && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return zdiag_set(d, ZE_IO, "%s: cannot create: %s", dir,
		    strerror(errno));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
	    sizeof(s->dir)) {
		free(s);
		return zdiag_set(d, ZE_INVAL, "%s: path too long", dir);
	}
	s->readonly = o->readonly;
	s->map_size = o->map_size > 0 ? o->map_size : DEFAULT_MAP;
	s->map_max = o->map_max;
	s->prefill = o->prefill;
	if (s->map_max > 0 && s->map_size > s->map_max)
		s->map_size = s->map_max;
	pthread_rwlock_init(&s->lock, NULL);
	if ((e = env_open(s, d)) != ZE_OK) {
		pthread_rwlock_destroy(&s->lock);
		free(s);
		return e;
	}
	st_prefill(s);
	*out = s;
	return ZE_OK;
}

void
store_close(store_t **sp)
{
	store_t *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->lock);
	free(s->touched);
	free(s->lag);
	free(s);
	*sp = NULL;
}

/* After MDB_PANIC: close and reopen the environment. */
zerr_t
st_env_reopen(store_t *s, zdiag_t *d)
{
	zerr_t e;

	pthread_rwlock_wrlock(&s->lock);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	pthread_rwlock_unlock(&s->lock);
	if ((e = env_open(s, d)) == ZE_OK)
		s->panic = false;
	return e;
}

zerr_t
store_counts(store_t *s, struct store_counts *c, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_stat st;
	MDB_envinfo info;
	unsigned psize;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = st_txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return st_fail(rc, d, "read transaction");
	if ((rc = mdb_stat(txn, s->meas, &st)) == 0) {
		c->meas = st.ms_entries;
		rc = mdb_stat(txn, s->dedup, &st);
	}
	if (rc == 0) {
		c->dedup = st.ms_entries;
		rc = mdb_stat(txn, s->agents, &st);
	}
	if (rc == 0)
		c->agents = st.ms_entries;
	mdb_env_info(s->env, &info);
	c->map_size = info.me_mapsize;
	c->map_used = (uint64_t)used_bytes(s, &psize);
	st_txn_abort(s, txn);
	return rc == 0 ? ZE_OK : st_fail(rc, d, "statistics");
}
/* ------------------------------------------------------------ store_tx */

/* Run fn(txn, arg) in a write transaction, growing the map as needed
 * (store_tx_run; any non-zero return of fn is the database error). */
struct write_adapter {
	int (*fn)(store_t *, MDB_txn *, void *);
	void *arg;
};

static int write_adapt(store_tx_t *tx, void *arg);

zerr_t
st_write_txn(store_t *s, int (*fn)(store_t *, MDB_txn *, void *), void *arg,
    const char *what, zdiag_t *d)
{
	struct write_adapter w = {fn, arg};

	return store_tx_run(s, true, write_adapt, &w, what, d);
}
static int
write_adapt(store_tx_t *tx, void *arg)
{
	struct write_adapter *w = arg;
	int rc = w->fn(tx->s, tx->txn, w->arg);

	if (rc != 0 && tx->rc == 0)
		tx->rc = rc;	/* NOTFOUND too: an error here */
	return rc != 0;
}

/* Record a database error; 1 for MDB_NOTFOUND, -1 for others. */
int
st_tx_rc(store_tx_t *tx, int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	if (tx->rc == 0)
		tx->rc = rc;
	return -1;
}

uint64_t
store_gen(store_t *s)
{
	MDB_envinfo info;

	return mdb_env_info(s->env, &info) == 0 ?
	    (uint64_t)info.me_last_txnid : 0;
}

zerr_t
store_tx_run(store_t *s, bool write, int (*fn)(store_tx_t *, void *),
    void *arg, const char *what, zdiag_t *d)
{
	store_tx_t tx = {.s = s};
	zerr_t e;
	int rc, r;

	if (write && s->readonly)
		return zdiag_set(d, ZE_INVAL, "store opened read-only");
	for (;;) {
		if (write && s->panic && (e = st_env_reopen(s, d)) != ZE_OK)
			return e;
		if ((rc = st_txn_begin(s, write ? 0 : MDB_RDONLY,
		    &tx.txn)) != 0)
			return st_fail(rc, d, what);
		tx.rc = 0;
		tx.why[0] = '\0';
		memset(&tx.q, 0, sizeof(tx.q));
		r = fn(&tx, arg);
		if (r != 0 || tx.rc != 0 || !write) {
			st_txn_abort(s, tx.txn);
			rc = tx.rc;
			if (rc == 0)	/* fn's own decision */
				return r == 0 ? ZE_OK : zdiag_set(d, ZE_INVAL,
				    "%s: stopped", what);
			if (tx.why[0] != '\0')
				return zdiag_set(d, ZE_STORAGE, "%s: %s", what,
				    tx.why);
		} else
			rc = st_txn_commit(s, tx.txn);
		if (rc == 0)
			return ZE_OK;
		if (rc == MDB_MAP_FULL && write) {
			if ((e = st_map_grow(s, d)) != ZE_OK)
				return e;
			continue;
		}
		if (rc == MDB_PANIC)
			s->panic = true;
		return st_fail(rc, d, what);
	}
}

/* Walk dbi from key (NULL: first) while fn says 0; fn gets k, v. */
int
st_tx_walk(store_tx_t *tx, MDB_dbi dbi, const void *key, size_t klen,
    int (*fn)(const MDB_val *k, const MDB_val *v, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, dbi, &c)) != 0)
		return st_tx_rc(tx, rc);
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	for (rc = mdb_cursor_get(c, &k, &v, key ? MDB_SET_RANGE : MDB_FIRST);
	    rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((r = fn(&k, &v, arg)) != 0)
			break;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_tx_rc(tx, rc);
	return r < 0 ? -1 : r != 0;
}

int
st_tx_put(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn,
    const void *vp, size_t vn)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};
	MDB_val v = {.mv_data = (void *)(uintptr_t)vp, .mv_size = vn};

	return st_tx_rc(tx, mdb_put(tx->txn, dbi, &k, &v, 0));
}

int
st_tx_get(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn, MDB_val *v)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};

	return st_tx_rc(tx, mdb_get(tx->txn, dbi, &k, v));
}

int
st_tx_del(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};

	return st_tx_rc(tx, mdb_del(tx->txn, dbi, &k, NULL));
}
