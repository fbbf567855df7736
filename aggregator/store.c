/*
 * store.c — see store.h.  Every LMDB call of the project is in this file.
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
 *  - Records are fixed little headers in big-endian plus the signed body;
 *    docs/STORAGE.md describes them byte by byte.
 */
#include "store.h"
#include "key.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAP (64LL << 20)
#define LAG_MAX_US 1000000	/* longest delay of a deferred agent record */
#define GROW_STEP (1LL << 30)

/* measurement record header (docs/STORAGE.md) */
#define MREC_HDR 144
#define MREC_FORMAT 1
/* agent record */
#define AREC_LEN 168
#define AREC_FORMAT 1

struct store {
	MDB_env *env;
	MDB_dbi meas, dedup, agents, by_curve, meta;
	MDB_dbi todo, ctl, open, rollup, cellhour, events, hookq;
	pthread_rwlock_t lock;
	bool readonly;
	bool panic;
	int64_t map_size;
	int64_t map_max;
	int64_t prefill;	/* store_opts.prefill */
	int64_t filled;		/* the file is written (by us) up to here */
	int64_t prefill_retry;	/* monotonic us: after a failed prefill */
	char dir[4096];
	/* store_commit scratch, reused */
	struct touched *touched;
	size_t ntouched, atouched;
	/* agent records deferred (store_agents_defer) */
	bool defer;
	bool flush_all;		/* store_agents_flush's commit */
	struct lag *lag;	/* open-addressing hash table by pk */
	size_t alag, ulag;	/* slots (a power of two), slots used */
	size_t nlag;		/* entries holding a deferred update */
	int64_t lag_due;	/* monotonic: the oldest one is due then */
	bool lag_meta;		/* meta "agents_lag" is 1 (set by us) */
	atomic_bool lagging;	/* nlag > 0, for other threads */
	bool lag_lost;		/* a deferred count was lost (no memory) */
};

/* An agent whose record lags behind what is committed: the measurements
 * stored and the newest arrival not yet in it. */
struct lag {
	uint8_t pk[STORE_PK_LEN];
	bool used;		/* the slot belongs to pk */
	uint64_t add;
	int64_t seen_us;
	int64_t since_us;	/* monotonic; 0: nothing deferred */
};

/* Appending to todo inside one write transaction (docs/STORAGE.md). */
struct tqueue {
	bool init;
	bool append;	/* every key is an arrival number: MDB_APPEND */
	uint64_t next;	/* arrival number of the next entry */
	bool refill;	/* a reanalysis is queueing the stored measurements */
	uint8_t refill_at[STORE_ID_LEN];	/* ... every id below this */
};

struct store_tx {
	store_t *s;
	MDB_txn *txn;
	int rc;		/* first database error */
	struct tqueue q;
};

struct touched {
	struct store_agent a;
	bool found;
	bool status;	/* status fields came from a seen update */
	bool write;	/* its record is written in this transaction */
	uint64_t add;
	int64_t seen_us;
};

static int an_ready_put(store_t *s, MDB_txn *txn);

/* meta "analysis" value: the layout of the derived databases this program
 * writes ("1": todo keyed by id, before arrival numbers) */
#define AN_LAYOUT "2"
#define TODO_VAL (STORE_ID_LEN + 10)	/* id test(1) thash(8) role(1) */

/* ------------------------------------------------------------ encoding */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Copy a NUL-padded text field of len bytes into dst (len bytes, always
 * NUL-terminated). */
static void
text_get(char *dst, const uint8_t *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len - 1] = '\0';
}

static void
text_put(uint8_t *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memset(dst, 0, len);
	memcpy(dst, src, n);
}

static void
arec_encode(const struct store_agent *a, uint8_t r[AREC_LEN])
{
	memset(r, 0, AREC_LEN);
	r[0] = AREC_FORMAT;
	r[1] = (uint8_t)a->role;
	r[2] = a->enabled ? 1 : 0;
	put32(r + 4, a->asn);
	put64(r + 8, (uint64_t)a->enrolled_us);
	put64(r + 16, (uint64_t)a->last_seen_us);
	put64(r + 24, a->backlog);
	put64(r + 32, a->dropped);
	put64(r + 40, a->last_seq);
	put64(r + 48, a->list_version);
	put64(r + 56, a->stored);
	text_put(r + 64, a->region, STORE_REGION_LEN);
	text_put(r + 72, a->name, STORE_NAME_LEN);
	text_put(r + 136, a->version, STORE_VERSION_LEN);
}

static zerr_t
arec_decode(const uint8_t pk[STORE_PK_LEN], const MDB_val *v,
    struct store_agent *a, zdiag_t *d)
{
	const uint8_t *r = v->mv_data;

	if (v->mv_size < AREC_LEN || r[0] != AREC_FORMAT)
		return zdiag_set(d, ZE_STORAGE, "agent record of %zu bytes, "
		    "format %u: not understood", v->mv_size,
		    v->mv_size ? r[0] : 0);
	memset(a, 0, sizeof(*a));
	memcpy(a->pk, pk, STORE_PK_LEN);
	a->role = r[1] == STORE_ROLE_CONTROL ? STORE_ROLE_CONTROL :
	    STORE_ROLE_PROBE;
	a->enabled = r[2] != 0;
	a->asn = get32(r + 4);
	a->enrolled_us = (int64_t)get64(r + 8);
	a->last_seen_us = (int64_t)get64(r + 16);
	a->backlog = get64(r + 24);
	a->dropped = get64(r + 32);
	a->last_seq = get64(r + 40);
	a->list_version = get64(r + 48);
	a->stored = get64(r + 56);
	text_get(a->region, r + 64, STORE_REGION_LEN);
	text_get(a->name, r + 72, STORE_NAME_LEN);
	text_get(a->version, r + 136, STORE_VERSION_LEN);
	return ZE_OK;
}

static void
mrec_encode(uint8_t *r, const struct store_meas_in *m,
    const struct store_agent *a)
{
	memset(r, 0, MREC_HDR);
	r[0] = MREC_FORMAT;
	r[1] = a != NULL ? (uint8_t)a->role : 0;
	put32(r + 4, m->test);
	put64(r + 8, m->seq);
	put64(r + 16, (uint64_t)m->start_us);
	put64(r + 24, (uint64_t)m->recv_us);
	put32(r + 32, a != NULL ? a->asn : 0);
	if (a != NULL)
		text_put(r + 36, a->region, STORE_REGION_LEN);
	memcpy(r + 44, m->agent, STORE_PK_LEN);
	memcpy(r + 76, m->sig, STORE_SIG_LEN);
	put32(r + 140, (uint32_t)m->body_len);
	memcpy(r + MREC_HDR, m->body, m->body_len);
}

static zerr_t
mrec_decode(const MDB_val *k, const MDB_val *v, struct store_meas *m,
    zdiag_t *d)
{
	const uint8_t *r = v->mv_data;

	if (k->mv_size != STORE_ID_LEN || v->mv_size < MREC_HDR ||
	    r[0] != MREC_FORMAT || get32(r + 140) != v->mv_size - MREC_HDR)
		return zdiag_set(d, ZE_STORAGE, "measurement record of %zu "
		    "bytes: not understood (corrupt or newer format)",
		    v->mv_size);
	memcpy(m->id, k->mv_data, STORE_ID_LEN);
	m->role = r[1] == STORE_ROLE_CONTROL ? STORE_ROLE_CONTROL :
	    STORE_ROLE_PROBE;
	m->test = get32(r + 4);
	m->seq = get64(r + 8);
	m->start_us = (int64_t)get64(r + 16);
	m->recv_us = (int64_t)get64(r + 24);
	m->asn = get32(r + 32);
	text_get(m->region, r + 36, STORE_REGION_LEN);
	memcpy(m->agent, r + 44, STORE_PK_LEN);
	m->sig = r + 76;
	m->body = r + MREC_HDR;
	m->body_len = v->mv_size - MREC_HDR;
	return ZE_OK;
}

/* ------------------------------------------------------------ env, txns */

static zerr_t
mdb_fail(int rc, zdiag_t *d, const char *what)
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
	case ENOMEM:
		e = ZE_NOMEM;
		break;
	default:
		e = ZE_STORAGE;
	}
	return zdiag_set(d, e, "%s: %s", what, mdb_strerror(rc));
}

/* Begin a transaction with the lock held for reading; adopts a map grown
 * by another process.  On success the caller ends it with txn_end. */
static int
txn_begin(store_t *s, unsigned flags, MDB_txn **txn)
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

static void
txn_abort(store_t *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->lock);
}

static int
txn_commit(store_t *s, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&s->lock);
	return rc;
}

/* Grow the map by doubling (1 GiB steps past 1 GiB), up to map_max.
 * ZE_FULL when already at the maximum. */
static zerr_t
map_grow(store_t *s, zdiag_t *d)
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
		return mdb_fail(rc, d, "growing the map");
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
static void
prefill(store_t *s)
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
	if (txn_begin(s, 0, &txn) != 0)
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
	txn_abort(s, txn);
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
		return mdb_fail(rc, d, "mdb_env_create");
	mdb_env_set_maxdbs(s->env, 16);
	if ((rc = mdb_env_open(s->env, s->dir, flags, 0600)) != 0) {
		e = mdb_fail(rc, d, s->dir);
		if (rc == ENOENT)
			e = zdiag_set(d, ZE_NOTFOUND, "%s: no Zond database "
			    "here", s->dir);
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	mdb_env_info(s->env, &info);
	if (!s->readonly && (int64_t)info.me_mapsize < s->map_size &&
	    (rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size)) != 0) {
		e = mdb_fail(rc, d, "mdb_env_set_mapsize");
		goto fail;
	}
	for (int attempt = 0;; attempt++) {
		if ((rc = txn_begin(s, s->readonly ? MDB_RDONLY : 0,
		    &txn)) != 0) {
			e = mdb_fail(rc, d, "opening the databases");
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
			txn_abort(s, txn);
			if (rc == MDB_NOTFOUND) {
				e = zdiag_set(d, ZE_NOTFOUND, "%s: not a Zond "
				    "database (tables missing)", s->dir);
				goto fail;
			}
			if (rc == MDB_MAP_FULL && attempt == 0 &&
			    map_grow(s, d) == ZE_OK)
				continue;
			e = mdb_fail(rc, d, "opening the databases");
			goto fail;
		}
		k.mv_data = "format";
		k.mv_size = 6;
		rc = mdb_get(txn, s->meta, &k, &v);
		if (rc == MDB_NOTFOUND && !s->readonly) {
			put32(fmt, STORE_FORMAT);
			v.mv_data = fmt;
			v.mv_size = 4;
			rc = mdb_put(txn, s->meta, &k, &v, 0);
			/* a new store: the analyzer's data covers it */
			if (rc == 0)
				rc = an_ready_put(s, txn);
		} else if (rc == 0 && (v.mv_size != 4 ||
		    get32(v.mv_data) != STORE_FORMAT)) {
			txn_abort(s, txn);
			e = zdiag_set(d, ZE_VERSION, "%s: database format %u; "
			    "this program reads format %d", s->dir,
			    v.mv_size == 4 ? get32(v.mv_data) : 0,
			    STORE_FORMAT);
			goto fail;
		} else if (rc == MDB_NOTFOUND)
			rc = 0;	/* read-only and empty: fine */
		if (rc != 0) {
			txn_abort(s, txn);
			e = mdb_fail(rc, d, "format record");
			goto fail;
		}
		/* read-only txns are committed too, to keep the handles */
		if ((rc = txn_commit(s, txn)) != 0) {
			e = mdb_fail(rc, d, "opening the databases");
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
	prefill(s);
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
static zerr_t
env_reopen(store_t *s, zdiag_t *d)
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

/* ------------------------------------------------------------ commit */

static int
an_ready_put(store_t *s, MDB_txn *txn)
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
	q->next = rc == 0 && k.mv_size == 8 ? get64(k.mv_data) + 1 : 1;
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
	put64(kb, q->next);
	memcpy(vb, id, STORE_ID_LEN);
	vb[STORE_ID_LEN] = (uint8_t)test;
	put64(vb + STORE_ID_LEN + 1, thash);
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
	put64(k + 1, thash);
	memcpy(k + 9, id, STORE_ID_LEN);
}

/* A new measurement's analyzer entries: todo (unless a running
 * reanalysis will queue it), and ctl for a control. */
static int
index_put(store_t *s, MDB_txn *txn, struct tqueue *q,
    const struct store_meas_in *m, bool control)
{
	uint8_t ck[9 + STORE_ID_LEN];
	MDB_val k, v;
	int rc;

	if ((rc = tq_init(s, txn, q)) != 0)
		return rc;
	if ((!q->refill || memcmp(m->id, q->refill_at, STORE_ID_LEN) < 0) &&
	    (rc = tq_put(s, txn, q, m->id, m->test, m->thash, control ?
	    STORE_ROLE_CONTROL : STORE_ROLE_PROBE)) != 0)
		return rc;
	if (!control)
		return 0;
	ctl_key(ck, m->test, m->thash, m->id);
	k.mv_data = ck;
	k.mv_size = sizeof(ck);
	v.mv_data = "";
	v.mv_size = 0;
	return mdb_put(txn, s->ctl, &k, &v, 0);
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
static int
touched_get(store_t *s, MDB_txn *txn, const uint8_t *pk,
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
	if (rc == 0 && arec_decode(pk, &v, &t->a, NULL) == ZE_OK)
		t->found = true;
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*out = t;
	return 0;
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
	for (i = (size_t)get64(pk) & (s->alag - 1);; i = (i + 1) &
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
static int
lag_meta_put(store_t *s, MDB_txn *txn, bool on)
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
static int
lag_plan(store_t *s, MDB_txn *txn, bool *lagging)
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
			    (rc = touched_get(s, txn, l->pk, &t)) != 0)
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
static void
lag_done(store_t *s, bool lagging)
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

	if ((rc = txn_begin(s, 0, &txn)) != 0)
		return rc;
	s->ntouched = 0;
	for (size_t i = 0; i < n; i++) {
		/* the two keys are checked by the inserts themselves (one
		 * descent of each tree, not a lookup and then an insert) */
		memcpy(dk, m[i].agent, STORE_PK_LEN);
		put64(dk + STORE_PK_LEN, m[i].seq);
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
			if ((rc = touched_get(s, txn, m[i].agent, &t)) != 0)
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
		if ((rc = index_put(s, txn, &q, &m[i], t->found &&
		    t->a.role == STORE_ROLE_CONTROL)) != 0)
			goto fail;
		res[i] = STORE_STORED;
		t->add++;
		if (m[i].recv_us > t->seen_us)
			t->seen_us = m[i].recv_us;
	}
	for (size_t i = 0; i < ns; i++) {
		if ((rc = touched_get(s, txn, seen[i].agent, &t)) != 0)
			goto fail;
		if (seen[i].seen_us > t->seen_us)
			t->seen_us = seen[i].seen_us;
		if (seen[i].has_status) {
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
		}
	}
	if ((rc = lag_plan(s, txn, &lagging)) != 0)
		goto fail;
	if (lagging != s->lag_meta && (rc = lag_meta_put(s, txn,
	    lagging)) != 0)
		goto fail;
	for (size_t i = 0; i < s->ntouched; i++) {
		t = &s->touched[i];
		if (!t->found || !t->write)
			continue;	/* not enrolled, or deferred */
		t->a.stored += t->add;
		if (t->seen_us > t->a.last_seen_us)
			t->a.last_seen_us = t->seen_us;
		arec_encode(&t->a, arec);
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
			goto fail;
		}
	}
	if ((rc = txn_commit(s, txn)) == 0)
		lag_done(s, lagging);
	return rc;
fail:
	txn_abort(s, txn);
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
		if (s->panic && (e = env_reopen(s, d)) != ZE_OK)
			return e;
		rc = commit_once(s, m, n, res, seen, ns, extra);
		if (rc == 0) {
			prefill(s);
			return ZE_OK;
		}
		if (rc == MDB_MAP_FULL) {
			if ((e = map_grow(s, d)) != ZE_OK)
				return e;
			continue;
		}
		if (rc == MDB_PANIC)
			s->panic = true;
		return mdb_fail(rc, d, "committing measurements");
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

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->meas, &c)) != 0) {
		txn_abort(s, txn);
		return mdb_fail(rc, d, "cursor");
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
		e = mdb_fail(rc, d, "reading measurements");
	mdb_cursor_close(c);
	txn_abort(s, txn);
	return e;
}

zerr_t
store_meas_iter_agent(store_t *s, const uint8_t agent[STORE_PK_LEN],
    store_meas_fn fn, void *arg, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v, mk, mv;
	struct store_meas m;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->dedup, &c)) != 0) {
		txn_abort(s, txn);
		return mdb_fail(rc, d, "cursor");
	}
	/* dedup is keyed agent || seq: one agent's records in seq order */
	k.mv_data = (void *)(uintptr_t)agent;
	k.mv_size = STORE_PK_LEN;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_PK_LEN + 8 ||
		    memcmp(k.mv_data, agent, STORE_PK_LEN) != 0)
			break;
		mk.mv_data = v.mv_data;
		mk.mv_size = v.mv_size;
		if (v.mv_size != STORE_ID_LEN ||
		    (rc = mdb_get(txn, s->meas, &mk, &mv)) != 0) {
			e = zdiag_set(d, ZE_STORAGE, "dedup points to a "
			    "missing measurement");
			rc = 0;
			break;
		}
		if ((e = mrec_decode(&mk, &mv, &m, d)) != ZE_OK)
			break;
		if (fn(&m, arg) != 0)
			break;
	}
	if (e == ZE_OK && rc != 0 && rc != MDB_NOTFOUND)
		e = mdb_fail(rc, d, "reading measurements");
	mdb_cursor_close(c);
	txn_abort(s, txn);
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

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)id;
	k.mv_size = STORE_ID_LEN;
	if ((rc = mdb_get(txn, s->meas, &k, &v)) != 0) {
		txn_abort(s, txn);
		return mdb_fail(rc, d, "measurement");
	}
	zbuf_reset(buf);
	if ((e = zbuf_append(buf, v.mv_data, v.mv_size)) != ZE_OK) {
		txn_abort(s, txn);
		return zdiag_set(d, e, "measurement of %zu bytes does not "
		    "fit the buffer", v.mv_size);
	}
	txn_abort(s, txn);
	bk.mv_data = buf->data;
	bk.mv_size = buf->len;
	return mrec_decode(&k, &bk, m, d);
}

zerr_t
store_meas_lookup(store_t *s, const uint8_t agent[STORE_PK_LEN],
    uint64_t seq, uint8_t id[STORE_ID_LEN], zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t dk[STORE_PK_LEN + 8];
	int rc;

	memcpy(dk, agent, STORE_PK_LEN);
	put64(dk + STORE_PK_LEN, seq);
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	k.mv_data = dk;
	k.mv_size = sizeof(dk);
	rc = mdb_get(txn, s->dedup, &k, &v);
	if (rc == 0 && v.mv_size == STORE_ID_LEN)
		memcpy(id, v.mv_data, STORE_ID_LEN);
	txn_abort(s, txn);
	return rc == 0 ? ZE_OK : mdb_fail(rc, d, "dedup lookup");
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
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
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
	txn_abort(s, txn);
	return rc == 0 ? ZE_OK : mdb_fail(rc, d, "statistics");
}

/* ------------------------------------------------------------ registry */

/* Run fn(txn, arg) in a write transaction, growing the map as needed
 * (store_tx_run; any non-zero return of fn is the database error). */
struct write_adapter {
	int (*fn)(store_t *, MDB_txn *, void *);
	void *arg;
};

static int write_adapt(store_tx_t *tx, void *arg);

static zerr_t
write_txn(store_t *s, int (*fn)(store_t *, MDB_txn *, void *), void *arg,
    const char *what, zdiag_t *d)
{
	struct write_adapter w = {fn, arg};

	return store_tx_run(s, true, write_adapt, &w, what, d);
}

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
		g = get64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	put64(b, g + 1);
	v.mv_data = b;
	v.mv_size = 8;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

struct enroll_arg {
	const struct store_agent *in;
	bool created;
};

static int
enroll_fn(store_t *s, MDB_txn *txn, void *arg)
{
	struct enroll_arg *ea = arg;
	struct store_agent a;
	MDB_val k, v;
	uint8_t rec[AREC_LEN], curve[32];
	int rc;

	k.mv_data = (void *)(uintptr_t)ea->in->pk;
	k.mv_size = STORE_PK_LEN;
	rc = mdb_get(txn, s->agents, &k, &v);
	if (rc == 0 && arec_decode(ea->in->pk, &v, &a, NULL) == ZE_OK) {
		ea->created = false;
		memcpy(a.region, ea->in->region, sizeof(a.region));
		a.asn = ea->in->asn;
		a.role = ea->in->role;
		a.enabled = ea->in->enabled;
		memcpy(a.name, ea->in->name, sizeof(a.name));
	} else if (rc == 0 || rc == MDB_NOTFOUND) {
		ea->created = true;
		a = *ea->in;
	} else
		return rc;
	arec_encode(&a, rec);
	v.mv_data = rec;
	v.mv_size = AREC_LEN;
	if ((rc = mdb_put(txn, s->agents, &k, &v, 0)) != 0)
		return rc;
	if (pubkey_to_curve(ea->in->pk, curve) != ZE_OK)
		return EINVAL;
	k.mv_data = curve;
	k.mv_size = sizeof(curve);
	v.mv_data = (void *)(uintptr_t)ea->in->pk;
	v.mv_size = STORE_PK_LEN;
	if ((rc = mdb_put(txn, s->by_curve, &k, &v, 0)) != 0)
		return rc;
	return gen_bump(s, txn);
}

zerr_t
store_agent_enroll(store_t *s, const struct store_agent *a, bool *created,
    zdiag_t *d)
{
	struct enroll_arg ea = {a, false};
	zerr_t e;

	e = write_txn(s, enroll_fn, &ea, "enrolling an agent", d);
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
	MDB_val k, v;
	uint8_t rec[AREC_LEN];
	int rc;

	k.mv_data = (void *)(uintptr_t)ea->pk;
	k.mv_size = STORE_PK_LEN;
	if ((rc = mdb_get(txn, s->agents, &k, &v)) != 0)
		return rc;
	if (v.mv_size != AREC_LEN)
		return MDB_CORRUPTED;
	memcpy(rec, v.mv_data, AREC_LEN);
	rec[2] = ea->enabled ? 1 : 0;
	v.mv_data = rec;
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

	e = write_txn(s, enable_fn, &ea, "changing an agent", d);
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

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)pk;
	k.mv_size = STORE_PK_LEN;
	if ((rc = mdb_get(txn, s->agents, &k, &v)) == 0)
		e = arec_decode(pk, &v, a, d);
	else
		e = mdb_fail(rc, d, "agent");
	txn_abort(s, txn);
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

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	k.mv_data = (void *)(uintptr_t)curve;
	k.mv_size = 32;
	if ((rc = mdb_get(txn, s->by_curve, &k, &v)) == 0 &&
	    v.mv_size == STORE_PK_LEN)
		memcpy(pk, v.mv_data, STORE_PK_LEN);
	else if (rc == 0)
		e = zdiag_set(d, ZE_STORAGE, "by_curve record corrupt");
	else
		e = mdb_fail(rc, d, "curve key");
	txn_abort(s, txn);
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

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->agents, &c)) != 0) {
		txn_abort(s, txn);
		return mdb_fail(rc, d, "cursor");
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != STORE_PK_LEN)
			continue;
		if ((e = arec_decode(k.mv_data, &v, &a, d)) != ZE_OK)
			break;
		if (fn(&a, arg) != 0)
			break;
	}
	if (e == ZE_OK && rc != 0 && rc != MDB_NOTFOUND)
		e = mdb_fail(rc, d, "reading agents");
	mdb_cursor_close(c);
	txn_abort(s, txn);
	return e;
}

zerr_t
store_registry_gen(store_t *s, uint64_t *gen, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*gen = 0;
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	k.mv_data = "registry_gen";
	k.mv_size = 12;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == 0 && v.mv_size == 8)
		*gen = get64(v.mv_data);
	txn_abort(s, txn);
	return rc == 0 || rc == MDB_NOTFOUND ? ZE_OK :
	    mdb_fail(rc, d, "registry generation");
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

		if (k.mv_size != STORE_PK_LEN || arec_decode(k.mv_data, &v, &a,
		    NULL) != ZE_OK)
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
		arec_encode(&a, rec);
		v.mv_data = rec;
		v.mv_size = AREC_LEN;
		if ((rc = mdb_cursor_put(ac, &k, &v, MDB_CURRENT)) != 0)
			goto out;
	}
	if (rc == MDB_NOTFOUND)
		rc = lag_meta_put(s, txn, false);
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

	e = write_txn(s, recount_txn, &r, "recounting the registry", d);
	if (e == ZE_OK)
		s->lag_meta = false;
	*ran = e == ZE_OK && r.ran;
	*fixed = r.fixed;
	return e;
}

const char *
store_role_name(enum store_role r)
{
	return r == STORE_ROLE_CONTROL ? "control" : "probe";
}

/* ------------------------------------------------------------ analysis */

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

zerr_t
store_first_start(store_t *s, int64_t *us, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*us = INT64_MAX;
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->meas, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0 && k.mv_size == STORE_ID_LEN)
			*us = store_id_ms(k.mv_data) * 1000 -
			    (int64_t)WIRE_ID_SKEW_MS * 1000;
		mdb_cursor_close(c);
	}
	txn_abort(s, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_fail(rc, d, "reading measurements");
	return ZE_OK;
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
static int
tx_rc(store_tx_t *tx, int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	if (tx->rc == 0)
		tx->rc = rc;
	return -1;
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
		if (write && s->panic && (e = env_reopen(s, d)) != ZE_OK)
			return e;
		if ((rc = txn_begin(s, write ? 0 : MDB_RDONLY, &tx.txn)) != 0)
			return mdb_fail(rc, d, what);
		tx.rc = 0;
		memset(&tx.q, 0, sizeof(tx.q));
		r = fn(&tx, arg);
		if (r != 0 || tx.rc != 0 || !write) {
			txn_abort(s, tx.txn);
			rc = tx.rc;
			if (rc == 0)	/* fn's own decision */
				return r == 0 ? ZE_OK : zdiag_set(d, ZE_INVAL,
				    "%s: stopped", what);
		} else
			rc = txn_commit(s, tx.txn);
		if (rc == 0)
			return ZE_OK;
		if (rc == MDB_MAP_FULL && write) {
			if ((e = map_grow(s, d)) != ZE_OK)
				return e;
			continue;
		}
		if (rc == MDB_PANIC)
			s->panic = true;
		return mdb_fail(rc, d, what);
	}
}

/* Walk dbi from key (NULL: first) while fn says 0; fn gets k, v. */
static int
tx_walk(store_tx_t *tx, MDB_dbi dbi, const void *key, size_t klen,
    int (*fn)(const MDB_val *k, const MDB_val *v, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(tx->txn, dbi, &c)) != 0)
		return tx_rc(tx, rc);
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	for (rc = mdb_cursor_get(c, &k, &v, key ? MDB_SET_RANGE : MDB_FIRST);
	    rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((r = fn(&k, &v, arg)) != 0)
			break;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return tx_rc(tx, rc);
	return r < 0 ? -1 : r != 0;
}

static int
tx_put(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn,
    const void *vp, size_t vn)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};
	MDB_val v = {.mv_data = (void *)(uintptr_t)vp, .mv_size = vn};

	return tx_rc(tx, mdb_put(tx->txn, dbi, &k, &v, 0));
}

static int
tx_get(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn, MDB_val *v)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};

	return tx_rc(tx, mdb_get(tx->txn, dbi, &k, v));
}

static int
tx_del(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)kp, .mv_size = kn};

	return tx_rc(tx, mdb_del(tx->txn, dbi, &k, NULL));
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
	t->key = get64(k->mv_data);
	memcpy(t->id, p, STORE_ID_LEN);
	t->test = p[STORE_ID_LEN];
	t->thash = get64(p + STORE_ID_LEN + 1);
	t->role = p[STORE_ID_LEN + 9] == STORE_ROLE_CONTROL ?
	    STORE_ROLE_CONTROL : STORE_ROLE_PROBE;
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

	return tx_walk(tx, tx->s->todo, NULL, 0, todo_one, &w);
}

int
store_tx_todo_put(store_tx_t *tx, const struct store_todo *t)
{
	return tx_rc(tx, tq_put(tx->s, tx->txn, &tx->q, t->id, t->test,
	    t->thash, t->role));
}

int
store_tx_todo_del(store_tx_t *tx, const struct store_todo *t)
{
	uint8_t kb[8];
	struct store_todo cur;
	MDB_val k = {.mv_size = sizeof(kb), .mv_data = kb}, v;
	int rc;

	put64(kb, t->key);
	if ((rc = tx_get(tx, tx->s->todo, kb, sizeof(kb), &v)) != 0)
		return rc;
	/* arrival numbers start again at 1 when todo empties: the entry
	 * must still be this measurement's */
	if (!todo_decode(&k, &v, &cur) || memcmp(cur.id, t->id,
	    STORE_ID_LEN) != 0)
		return 1;
	return tx_del(tx, tx->s->todo, kb, sizeof(kb));
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

		r = tx_rc(tx, mdb_stat(tx->txn, tx->s->todo, &st));
		*n = r == 0 ? st.ms_entries : 0;
		return r < 0 ? -1 : 0;
	}
	r = tx_walk(tx, tx->s->todo, NULL, 0, count_one, &w);
	*n = w.n;
	return r < 0 ? -1 : 0;
}

int
store_tx_refill_get(store_tx_t *tx, uint8_t at[STORE_ID_LEN])
{
	return tx_rc(tx, refill_get(tx->s, tx->txn, at));
}

int
store_tx_refill_set(store_tx_t *tx, const uint8_t *at)
{
	int r;

	if (at != NULL)
		return tx_rc(tx, refill_put(tx->s, tx->txn, at));
	r = tx_del(tx, tx->s->meta, "refill", 6);
	return r == 1 ? 0 : r;
}

/* --- measurements */

int
store_tx_meas_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m)
{
	MDB_val k = {.mv_data = (void *)(uintptr_t)id,
	    .mv_size = STORE_ID_LEN}, v;
	int r;

	if ((r = tx_get(tx, tx->s->meas, id, STORE_ID_LEN, &v)) != 0)
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

	return tx_walk(tx, tx->s->meas, from, from ? STORE_ID_LEN : 0,
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
	put64(dk + STORE_PK_LEN, seq);
	if ((rc = mdb_cursor_open(tx->txn, tx->s->dedup, &c)) != 0)
		return tx_rc(tx, rc);
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
		return tx_rc(tx, rc);
	return r != 0;
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
	return tx_walk(tx, tx->s->ctl, fk, sizeof(fk), ctl_one, &w);
}

int
store_tx_ctl_put(store_tx_t *tx, uint32_t test, uint64_t thash,
    const uint8_t id[STORE_ID_LEN])
{
	uint8_t k[9 + STORE_ID_LEN];

	ctl_key(k, test, thash, id);
	return tx_put(tx, tx->s->ctl, k, sizeof(k), "", 0);
}

/* --- open */

int
store_tx_open_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    uint8_t *verdict, uint8_t *method)
{
	MDB_val v;
	int r;

	if ((r = tx_get(tx, tx->s->open, id, STORE_ID_LEN, &v)) != 0)
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

	return tx_put(tx, tx->s->open, id, STORE_ID_LEN, v, 2);
}

int
store_tx_open_del(store_tx_t *tx, const uint8_t id[STORE_ID_LEN])
{
	return tx_del(tx, tx->s->open, id, STORE_ID_LEN);
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

	return tx_walk(tx, tx->s->open, NULL, 0, open_one, &w);
}

/* --- cell keys */

#define CK_MAX (4 + 64 + STORE_REGION_LEN + 4)

/* hour service NUL region asn (hour_last: service NUL region asn hour). */
static size_t
ck_encode(uint8_t *p, const struct store_cellkey *k, bool hour_last)
{
	size_t sn = strnlen(k->service, sizeof(k->service) - 1), o = 0;

	if (!hour_last) {
		put32(p, k->hour);
		o = 4;
	}
	memcpy(p + o, k->service, sn);
	p[o + sn] = '\0';
	o += sn + 1;
	text_put(p + o, k->region, STORE_REGION_LEN);
	o += STORE_REGION_LEN;
	put32(p + o, k->asn);
	o += 4;
	if (hour_last) {
		put32(p + o, k->hour);
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
		k->hour = get32(p);
	memcpy(k->service, p + o, sn);
	o += sn + 1;
	text_get(k->region, p + o, STORE_REGION_LEN);
	o += STORE_REGION_LEN;
	k->asn = get32(p + o);
	o += 4;
	if (hour_last)
		k->hour = get32(p + o);
	return true;
}

int
store_tx_rollup_get(store_tx_t *tx, const struct store_cellkey *k,
    const uint8_t **p, size_t *n)
{
	uint8_t kb[CK_MAX];
	MDB_val v;
	int r;

	if ((r = tx_get(tx, tx->s->rollup, kb, ck_encode(kb, k, false),
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

	return tx_put(tx, tx->s->rollup, kb, ck_encode(kb, k, false), p, n);
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

	if (k->mv_size < 4 || get32(k->mv_data) >= w->h1 ||
	    (w->service != NULL && get32(k->mv_data) != w->hcur))
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

int
store_tx_rollup_iter(store_tx_t *tx, uint32_t h0, uint32_t h1,
    const char *service, int (*fn)(const struct store_cellkey *,
    const uint8_t *, size_t, void *), void *arg)
{
	struct rollup_walk w = {.h1 = h1, .service = service, .fn = fn,
	    .arg = arg};
	uint8_t kb[CK_MAX];
	int r = 0;

	if (service == NULL) {
		put32(kb, h0);
		return tx_walk(tx, tx->s->rollup, kb, 4, rollup_one, &w);
	}
	/* one seek per hour: hour service NUL */
	for (uint32_t h = h0; h < h1 && r >= 0 && !w.stop; h++) {
		size_t sn = strnlen(service, 63);

		w.hcur = h;
		put32(kb, h);
		memcpy(kb + 4, service, sn);
		kb[4 + sn] = '\0';
		r = tx_walk(tx, tx->s->rollup, kb, 5 + sn, rollup_one, &w);
	}
	return r < 0 ? -1 : w.stop;
}

/* --- cellhour */

int
store_tx_cellhour_put(store_tx_t *tx, const struct store_cellkey *k,
    uint8_t verdict, uint8_t method)
{
	uint8_t kb[CK_MAX], v[2] = {verdict, method};

	return tx_put(tx, tx->s->cellhour, kb, ck_encode(kb, k, true), v, 2);
}

int
store_tx_cellhour_del(store_tx_t *tx, const struct store_cellkey *k)
{
	uint8_t kb[CK_MAX];

	return tx_del(tx, tx->s->cellhour, kb, ck_encode(kb, k, true));
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
		return tx_rc(tx, rc);
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
		return tx_rc(tx, rc);
	/* the same cell: everything but the last 4 bytes (the hour) */
	if (key.mv_size != n || memcmp(key.mv_data, kb, n - 4) != 0 ||
	    v.mv_size != 2)
		return 1;
	*hour = get32((const uint8_t *)key.mv_data + n - 4);
	*verdict = ((const uint8_t *)v.mv_data)[0];
	*method = ((const uint8_t *)v.mv_data)[1];
	return 0;
}

/* --- events */

int
store_tx_event_get(store_tx_t *tx, const struct store_cellkey *k,
    struct store_event *ev)
{
	uint8_t kb[CK_MAX];
	MDB_val v;
	int r;

	if ((r = tx_get(tx, tx->s->events, kb, ck_encode(kb, k, false),
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

	return tx_put(tx, tx->s->events, kb, ck_encode(kb, &ev->k, false), v,
	    3);
}

int
store_tx_event_del(store_tx_t *tx, const struct store_cellkey *k)
{
	uint8_t kb[CK_MAX];

	return tx_del(tx, tx->s->events, kb, ck_encode(kb, k, false));
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

	if (k->mv_size < 4 || get32(k->mv_data) >= w->h1)
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

	put32(kb, h0);
	return tx_walk(tx, tx->s->events, kb, 4, event_one, &w);
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
		return tx_rc(tx, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = get64(k.mv_data) + 1;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return tx_rc(tx, rc);
	if (rc == MDB_NOTFOUND) {
		/* empty queue: continue after the last number handed out */
		MDB_val mk = {.mv_data = "hook_seq", .mv_size = 8}, mv;
		if (mdb_get(tx->txn, tx->s->meta, &mk, &mv) == 0 &&
		    mv.mv_size == 8)
			seq = get64(mv.mv_data) + 1;
	}
	put64(kb, seq);
	if ((rc = tx_put(tx, tx->s->meta, "hook_seq", 8, kb, 8)) != 0)
		return rc;
	return tx_put(tx, tx->s->hookq, kb, 8, json, n);
}

zerr_t
store_hook_peek(store_t *s, uint64_t *seq, zbuf_t *buf, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	zerr_t e = ZE_OK;
	int rc;

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->hookq, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		mdb_cursor_close(c);
	}
	if (rc == 0 && k.mv_size == 8) {
		*seq = get64(k.mv_data);
		zbuf_reset(buf);
		if ((e = zbuf_append(buf, v.mv_data, v.mv_size)) != ZE_OK)
			zdiag_set(d, e, "webhook document of %zu bytes",
			    v.mv_size);
	} else if (rc == 0 || rc == MDB_NOTFOUND)
		e = zdiag_set(d, ZE_NOTFOUND, "webhook queue empty");
	else
		e = mdb_fail(rc, d, "webhook queue");
	txn_abort(s, txn);
	return e;
}

static int
hook_del_fn(store_t *s, MDB_txn *txn, void *arg)
{
	uint8_t kb[8];
	MDB_val k = {.mv_data = kb, .mv_size = 8};
	int rc;

	put64(kb, *(const uint64_t *)arg);
	rc = mdb_del(txn, s->hookq, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

zerr_t
store_hook_del(store_t *s, uint64_t seq, zdiag_t *d)
{
	return write_txn(s, hook_del_fn, &seq, "webhook queue", d);
}

zerr_t
store_hook_count(store_t *s, uint64_t *n, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc;

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	rc = mdb_stat(txn, s->hookq, &st);
	*n = rc == 0 ? st.ms_entries : 0;
	txn_abort(s, txn);
	return rc == 0 ? ZE_OK : mdb_fail(rc, d, "webhook queue");
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
	return write_txn(s, reset_fn, NULL, "resetting the analysis", d);
}

zerr_t
store_an_ready(store_t *s, bool *ready, zdiag_t *d)
{
	MDB_txn *txn;
	MDB_val k = {.mv_data = "analysis", .mv_size = 8}, v;
	int rc;

	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(rc, d, "read transaction");
	rc = mdb_get(txn, s->meta, &k, &v);
	/* an older layout ("1") is rebuilt like a missing one */
	*ready = rc == 0 && v.mv_size == 1 &&
	    memcmp(v.mv_data, AN_LAYOUT, 1) == 0;
	txn_abort(s, txn);
	return rc == 0 || rc == MDB_NOTFOUND ? ZE_OK :
	    mdb_fail(rc, d, "meta analysis");
}

int
store_tx_an_set_ready(store_tx_t *tx)
{
	return tx_rc(tx, an_ready_put(tx->s, tx->txn));
}
