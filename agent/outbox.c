/*
 * outbox.c — see outbox.h.  This file owns every LMDB call of the agent.
 *
 * Layout: "items" maps be64(seq) to sig (64 bytes) || body; "meta" maps
 * short names to be64 counters: seq_hwm (every seq handed out is <= it),
 * last_seq, dropped, rejected.  bytes and backlog are derived at open by
 * one cursor pass (values are not read, so overflow pages stay cold).
 *
 * Every write goes through write_txn(): a callback proposes new counters
 * in a struct wctx; they reach the outbox_t only after the commit
 * succeeded, so a failed or retried transaction leaves memory and disk in
 * agreement.  MDB_MAP_FULL (from a put or from the commit) aborts, makes
 * room (grow the map, or at its limit evict the oldest items) and retries.
 * Debug builds check these invariants with ZASSERT (lib/err.h).
 */
#include "outbox.h"

#include <errno.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "log.h"
#include "wire.h"
#include "ztime.h"

#define MIB (1024 * 1024)
#define KEYLEN 8
#define ITEM_COST(n) ((uint64_t)KEYLEN + KEY_SIG_LEN + (n))
#define MAP_STEP_MIN (1 * MIB)
#define MAP_EMERGENCY (1 * MIB)	/* beyond map_max, for evictions only */
#define MAP_MAX_32 (1024LL * MIB)	/* address space of a 32-bit agent */
#define WRITE_ATTEMPTS 64
#define FORMAT_VERSION 1
#define DROP_LOG_US (60 * 1000000LL)

struct outbox {
	char *dir;
	MDB_env *env;		/* NULL after a failed reopen: all calls fail */
	MDB_dbi items;
	MDB_dbi meta;
	int64_t budget;
	int64_t map_max;
	int64_t map_size;
	uint64_t seq_next;	/* next seq to hand out */
	uint64_t seq_hwm;	/* persisted reservation */
	uint64_t last_seq;
	uint64_t dropped;
	uint64_t rejected;
	uint64_t bytes;
	uint64_t backlog;
	uint64_t unlogged;	/* drops not logged yet */
	int64_t logged_us;	/* last drop log line */
};

/* Counters a write transaction proposes; applied after its commit. */
struct wctx {
	uint64_t seq_hwm;
	uint64_t last_seq;
	uint64_t dropped;
	uint64_t rejected;
	uint64_t bytes;
	uint64_t backlog;
	size_t deleted;		/* items deleted by this transaction */
	size_t evicted;		/* of which by the budget */
};

/* A write step: returns 0 or an LMDB error code. */
typedef int (*wfn)(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg);

static zerr_t
mdb_err(zdiag_t *d, int rc, const char *what)
{
	zerr_t e = ZE_STORAGE;

	if (rc == MDB_MAP_FULL || rc == ENOSPC)
		e = ZE_FULL;
	else if (rc == ENOMEM)
		e = ZE_NOMEM;
	else if (rc == EACCES || rc == EPERM)
		e = ZE_PERM;
	return zdiag_set(d, e, "outbox: %s: %s", what, mdb_strerror(rc));
}

static void
wctx_load(const outbox_t *ob, struct wctx *w)
{
	memset(w, 0, sizeof(*w));
	w->seq_hwm = ob->seq_hwm;
	w->last_seq = ob->last_seq;
	w->dropped = ob->dropped;
	w->rejected = ob->rejected;
	w->bytes = ob->bytes;
	w->backlog = ob->backlog;
}

static void
wctx_apply(outbox_t *ob, const struct wctx *w)
{
	/* every seq handed out stays <= seq_hwm; the counters only grow;
	 * evictions are among the deletions */
	ZASSERT(ob->seq_next == 0 || w->seq_hwm >= ob->seq_next - 1);
	ZASSERT(w->last_seq >= ob->last_seq);
	ZASSERT(w->dropped >= ob->dropped && w->rejected >= ob->rejected);
	ZASSERT(w->evicted <= w->deleted);
	ob->seq_hwm = w->seq_hwm;
	ob->last_seq = w->last_seq;
	ob->dropped = w->dropped;
	ob->rejected = w->rejected;
	ob->bytes = w->bytes;
	ob->backlog = w->backlog;
}

static int
meta_put(outbox_t *ob, MDB_txn *t, const char *name, uint64_t v)
{
	uint8_t b[KEYLEN];
	MDB_val k = { strlen(name), (void *)(uintptr_t)name };
	MDB_val val = { sizeof(b), b };

	be64_put(b, v);
	return mdb_put(t, ob->meta, &k, &val, 0);
}

static int
meta_get(outbox_t *ob, MDB_txn *t, const char *name, uint64_t *v)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name };
	MDB_val val;
	int rc;

	*v = 0;
	if ((rc = mdb_get(t, ob->meta, &k, &val)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (val.mv_size != KEYLEN)
		return MDB_CORRUPTED;
	*v = be64_get(val.mv_data);
	return 0;
}

/* Write the persisted counters that changed. */
static int
meta_write(outbox_t *ob, MDB_txn *t, const struct wctx *w)
{
	int rc = 0;

	if (w->seq_hwm != ob->seq_hwm)
		rc = meta_put(ob, t, "seq_hwm", w->seq_hwm);
	if (rc == 0 && w->last_seq != ob->last_seq)
		rc = meta_put(ob, t, "last_seq", w->last_seq);
	if (rc == 0 && w->dropped != ob->dropped)
		rc = meta_put(ob, t, "dropped", w->dropped);
	if (rc == 0 && w->rejected != ob->rejected)
		rc = meta_put(ob, t, "rejected", w->rejected);
	return rc;
}

/* Delete the oldest item (never one with seq >= keep_from) as an
 * eviction.  *done is set when there is nothing left to evict. */
static int
evict_oldest(outbox_t *ob, MDB_txn *t, struct wctx *w, uint64_t keep_from,
    bool *done)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*done = false;
	if ((rc = mdb_cursor_open(t, ob->items, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (rc == MDB_NOTFOUND || (rc == 0 && k.mv_size == KEYLEN &&
	    be64_get(k.mv_data) >= keep_from)) {
		*done = true;
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = mdb_cursor_del(c, 0)) != 0)
		goto out;
	w->bytes -= k.mv_size + v.mv_size <= w->bytes ?
	    k.mv_size + v.mv_size : w->bytes;
	if (w->backlog > 0)
		w->backlog--;
	w->dropped++;
	w->deleted++;
	w->evicted++;
out:
	mdb_cursor_close(c);
	return rc;
}

/* Evict oldest items while bytes exceed target (never seq >= keep_from). */
static int
evict_to(outbox_t *ob, MDB_txn *t, struct wctx *w, uint64_t target,
    uint64_t keep_from)
{
	bool done = false;
	int rc = 0;

	while (rc == 0 && !done && w->bytes > target)
		rc = evict_oldest(ob, t, w, keep_from, &done);
	return rc;
}

static int64_t
round_map(int64_t n)
{
	return (n + MIB - 1) / MIB * MIB;
}

static int
set_map(outbox_t *ob, int64_t size)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_set_mapsize(ob->env, (size_t)size)) != 0)
		return rc;
	if ((rc = mdb_env_info(ob->env, &info)) != 0)
		return rc;
	ob->map_size = (int64_t)info.me_mapsize;
	log_debug("outbox: map size now %lld bytes", (long long)ob->map_size);
	return 0;
}

static int
evict_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	const uint64_t *target = arg;

	return evict_to(ob, t, w, *target, UINT64_MAX);
}

static zerr_t write_txn(outbox_t *ob, wfn fn, void *arg, struct wctx *res,
    bool emergency, zdiag_t *d);
static zerr_t grow_failed(outbox_t *ob, int64_t want, int rc, zdiag_t *d);

static int
nudge_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	uint64_t gen;
	int rc;

	if ((rc = meta_get(ob, t, "gen", &gen)) != 0)
		return rc;
	return meta_put(ob, t, "gen", gen + 1);
}

/* Log drops at most once a minute, with the count since the last line. */
static void
log_drops(outbox_t *ob, size_t n, const char *why)
{
	int64_t now = ztime_mono_us();

	ob->unlogged += n;
	if (ob->unlogged == 0 || (ob->logged_us != 0 &&
	    now - ob->logged_us < DROP_LOG_US))
		return;
	log_warnx("outbox: %s: dropped the %llu oldest measurements "
	    "dropped_total=%llu", why, (unsigned long long)ob->unlogged,
	    (unsigned long long)ob->dropped);
	ob->unlogged = 0;
	ob->logged_us = now;
}

/*
 * After MDB_MAP_FULL: grow the map if it is under its limit, otherwise
 * evict the oldest eighth of the stored bytes (at least 64 KiB), counted
 * as dropped.  The eviction may itself need pages, so it alone may take
 * the map MAP_EMERGENCY past the limit.  LMDB reuses the pages freed by a
 * transaction only two transactions later, so a tiny "nudge" write
 * follows the eviction; the retried write then finds the room.
 */
static zerr_t
make_room(outbox_t *ob, bool emergency, zdiag_t *d)
{
	int64_t limit = ob->map_max + (emergency ? MAP_EMERGENCY : 0);
	int64_t want;
	uint64_t target, step;
	struct wctx w;
	zerr_t e;
	int rc;

	if (ob->map_size < limit) {
		want = ob->map_size * 2;
		if (want < ob->map_size + MAP_STEP_MIN)
			want = ob->map_size + MAP_STEP_MIN;
		if (want > limit)
			want = limit;
		if ((rc = set_map(ob, round_map(want))) != 0)
			return grow_failed(ob, round_map(want), rc, d);
		return ZE_OK;
	}
	if (emergency || ob->backlog == 0)
		return zdiag_set(d, ZE_FULL, "outbox: map full at %lld bytes "
		    "with %llu items; nothing left to evict",
		    (long long)ob->map_size, (unsigned long long)ob->backlog);
	step = ob->bytes / 8;
	if (step < 64 * 1024)
		step = 64 * 1024;
	target = ob->bytes > step ? ob->bytes - step : 0;
	if ((e = write_txn(ob, evict_step, &target, &w, true, d)) != ZE_OK ||
	    (e = write_txn(ob, nudge_step, NULL, NULL, true, d)) != ZE_OK)
		return e;
	log_drops(ob, w.evicted, "map full");
	return ZE_OK;
}

/*
 * Run fn in a write transaction, commit (synced) and apply its counters.
 * res (may be NULL) gets the committed wctx.
 */
static zerr_t
write_txn(outbox_t *ob, wfn fn, void *arg, struct wctx *res,
    bool emergency, zdiag_t *d)
{
	struct wctx w;
	MDB_txn *t;
	zerr_t e;
	int rc = 0;

	ZASSERT(fn != NULL);
	if (ob->env == NULL)
		return zdiag_set(d, ZE_STORAGE, "outbox: %s could not be "
		    "reopened; restart the agent", ob->dir);
	for (int i = 0; i < WRITE_ATTEMPTS; i++) {
		wctx_load(ob, &w);
		rc = mdb_txn_begin(ob->env, NULL, 0, &t);
		if (rc == MDB_MAP_RESIZED) {
			if ((rc = set_map(ob, 0)) != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		if ((rc = fn(ob, t, &w, arg)) == 0 &&
		    (rc = meta_write(ob, t, &w)) == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
		if (rc == 0) {
			wctx_apply(ob, &w);
			if (res != NULL)
				*res = w;
			return ZE_OK;
		}
		if (rc != MDB_MAP_FULL)
			break;
		if ((e = make_room(ob, emergency, d)) != ZE_OK)
			return e;
	}
	return mdb_err(d, rc, "write failed");
}

/* ---------------------------------------------------------------- open */

static int
open_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	uint64_t fmt;
	int rc;

	if ((rc = mdb_dbi_open(t, "items", MDB_CREATE, &ob->items)) != 0 ||
	    (rc = mdb_dbi_open(t, "meta", MDB_CREATE, &ob->meta)) != 0)
		return rc;
	if ((rc = meta_get(ob, t, "format", &fmt)) != 0)
		return rc;
	if (fmt == 0)
		return meta_put(ob, t, "format", FORMAT_VERSION);
	if (fmt != FORMAT_VERSION) {
		*(uint64_t *)arg = fmt;
		return MDB_INCOMPATIBLE;
	}
	return 0;
}

/* Read counters and derive bytes, backlog and the highest stored seq. */
static zerr_t
load_state(outbox_t *ob, zdiag_t *d)
{
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t maxseq = 0, hwm;
	int rc;

	if ((rc = mdb_txn_begin(ob->env, NULL, MDB_RDONLY, &t)) != 0)
		return mdb_err(d, rc, "cannot read");
	if ((rc = meta_get(ob, t, "seq_hwm", &ob->seq_hwm)) != 0 ||
	    (rc = meta_get(ob, t, "last_seq", &ob->last_seq)) != 0 ||
	    (rc = meta_get(ob, t, "dropped", &ob->dropped)) != 0 ||
	    (rc = meta_get(ob, t, "rejected", &ob->rejected)) != 0)
		goto out;
	if ((rc = mdb_cursor_open(t, ob->items, &c)) != 0)
		goto out;
	ob->bytes = ob->backlog = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != KEYLEN) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		maxseq = be64_get(k.mv_data);
		ob->bytes += k.mv_size + v.mv_size;
		ob->backlog++;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	if (rc != 0)
		return mdb_err(d, rc, "cannot read the state");
	/* Never hand out a seq at or below anything stored or reserved. */
	hwm = ob->seq_hwm;
	if (ob->last_seq > hwm)
		hwm = ob->last_seq;
	if (maxseq > hwm)
		hwm = maxseq;
	if (maxseq > ob->last_seq)
		ob->last_seq = maxseq;
	ob->seq_next = hwm + 1;
	ZASSERT(ob->seq_next > ob->last_seq && ob->seq_next > ob->seq_hwm);
	return ZE_OK;
}

static int64_t
file_size(const char *dir)
{
	char path[4096];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0)
		return 0;
	return (int64_t)st.st_size;
}

zerr_t
outbox_open(const char *dir, int64_t budget, outbox_t **out, zdiag_t *d)
{
	struct outbox_opts o = { .budget = budget };

	return outbox_open_opts(dir, &o, out, d);
}

/*
 * Create and open the environment in ob->dir with a map of at least size
 * bytes, clear stale reader slots, open the databases.  On failure
 * ob->env is NULL.
 */
static zerr_t
env_open(outbox_t *ob, int64_t size, zdiag_t *d)
{
	uint64_t fmt = 0;
	int dead = 0, rc;
	zerr_t e;

	if ((rc = mdb_env_create(&ob->env)) != 0) {
		ob->env = NULL;
		return mdb_err(d, rc, "cannot create the environment");
	}
	if ((rc = mdb_env_set_maxdbs(ob->env, 2)) != 0 ||
	    (rc = mdb_env_set_mapsize(ob->env, (size_t)round_map(size))) !=
	    0) {
		e = mdb_err(d, rc, "cannot configure the environment");
		goto bad;
	}
	if ((rc = mdb_env_open(ob->env, ob->dir, MDB_NOTLS, 0600)) != 0) {
		e = mdb_err(d, rc, "cannot open the environment");
		zdiag_prefix(d, "%s", ob->dir);
		goto bad;
	}
	if ((rc = mdb_reader_check(ob->env, &dead)) != 0) {
		e = mdb_err(d, rc, "cannot check readers");
		goto bad;
	}
	if (dead > 0)
		log_info("outbox: cleared %d stale reader slots", dead);
	if ((rc = set_map(ob, 0)) != 0) {
		e = mdb_err(d, rc, "cannot read the map size");
		goto bad;
	}
	if ((e = write_txn(ob, open_step, &fmt, NULL, false, d)) != ZE_OK) {
		if (fmt != 0)
			e = zdiag_set(d, ZE_VERSION, "%s: outbox format %llu "
			    "is not supported (this agent writes %d)", ob->dir,
			    (unsigned long long)fmt, FORMAT_VERSION);
		goto bad;
	}
	return ZE_OK;
bad:
	mdb_env_close(ob->env);
	ob->env = NULL;
	return e;
}

/*
 * mdb_env_set_mapsize unmaps before it maps again: when the new mapping
 * fails (address space, on a 32-bit Pi) the environment is left without a
 * map.  Reopen it at the size that worked and stop growing.
 */
static zerr_t
grow_failed(outbox_t *ob, int64_t want, int rc, zdiag_t *d)
{
	int64_t old = ob->map_size;

	log_warnx("outbox: cannot grow the map to %lld bytes: %s; keeping "
	    "%lld bytes", (long long)want, mdb_strerror(rc), (long long)old);
	mdb_env_close(ob->env);
	ob->env = NULL;
	ob->map_max = old;
	return env_open(ob, old, d);
}

zerr_t
outbox_open_opts(const char *dir, const struct outbox_opts *o,
    outbox_t **out, zdiag_t *d)
{
	outbox_t *ob;
	struct stat st;
	int64_t init;
	uint64_t target;
	zerr_t e;

	*out = NULL;
	if (o->budget < OUTBOX_MIN_BUDGET)
		return zdiag_set(d, ZE_RANGE, "outbox: budget of %lld bytes "
		    "is below the minimum of %d", (long long)o->budget,
		    OUTBOX_MIN_BUDGET);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return zdiag_set(d, ZE_IO, "%s: cannot create the outbox "
		    "directory: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return zdiag_set(d, ZE_IO, "%s: not a directory", dir);
	if ((ob = calloc(1, sizeof(*ob))) == NULL ||
	    (ob->dir = strdup(dir)) == NULL) {
		free(ob);
		return ZE_NOMEM;
	}
	ob->budget = o->budget;
	ob->map_max = o->map_max > 0 ? o->map_max : 2 * o->budget + 2 * MIB;
	if (sizeof(size_t) < 8 && ob->map_max > MAP_MAX_32)
		ob->map_max = MAP_MAX_32;
	ob->map_max = round_map(ob->map_max);
	init = o->map_init > 0 ? o->map_init : MIB;
	if (init > ob->map_max)
		init = ob->map_max;
	if (file_size(dir) > init)
		init = file_size(dir);
	if ((e = env_open(ob, init, d)) != ZE_OK)
		goto bad;
	if ((e = load_state(ob, d)) != ZE_OK)
		goto bad;
	/* A smaller budget than last run applies at once. */
	if (ob->bytes > (uint64_t)ob->budget) {
		target = (uint64_t)ob->budget;
		if ((e = write_txn(ob, evict_step, &target, NULL, false,
		    d)) != ZE_OK)
			goto bad;
		log_warnx("outbox: over the budget of %lld bytes at start: "
		    "dropped_total=%llu", (long long)ob->budget,
		    (unsigned long long)ob->dropped);
	}
	log_debug("outbox: open dir=%s backlog=%llu bytes=%llu next_seq=%llu",
	    dir, (unsigned long long)ob->backlog,
	    (unsigned long long)ob->bytes, (unsigned long long)ob->seq_next);
	*out = ob;
	return ZE_OK;
bad:
	if (ob->env != NULL)
		mdb_env_close(ob->env);
	free(ob->dir);
	free(ob);
	return e;
}

static int
hwm_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	w->seq_hwm = *(const uint64_t *)arg;
	return 0;
}

void
outbox_close(outbox_t **obp)
{
	outbox_t *ob;
	uint64_t hwm;
	zdiag_t d;

	if (obp == NULL || (ob = *obp) == NULL)
		return;
	/* Give back the unused reservation: a clean restart leaves no gap. */
	hwm = ob->seq_next - 1;
	if (ob->env != NULL && hwm < ob->seq_hwm && write_txn(ob, hwm_step, &hwm, NULL, false,
	    &d) != ZE_OK)
		log_warnx("%s", d.text);
	if (ob->env != NULL)
		mdb_env_close(ob->env);
	free(ob->dir);
	free(ob);
	*obp = NULL;
}

/* ---------------------------------------------------------------- seqs */

zerr_t
outbox_next_seq(outbox_t *ob, uint64_t *seq, zdiag_t *d)
{
	uint64_t hwm;
	zerr_t e;

	if (ob->seq_next > ob->seq_hwm) {
		hwm = ob->seq_next - 1 + OUTBOX_SEQ_BLOCK;
		if ((e = write_txn(ob, hwm_step, &hwm, NULL, false, d)) !=
		    ZE_OK) {
			zdiag_prefix(d, "cannot reserve sequence numbers");
			return e;
		}
	}
	ZASSERT(ob->seq_next <= ob->seq_hwm);
	*seq = ob->seq_next++;
	return ZE_OK;
}

/* ---------------------------------------------------------------- put */

struct put_arg {
	uint64_t seq;
	const uint8_t *body;
	size_t n;
	const uint8_t *sig;
};

static int
put_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	const struct put_arg *p = arg;
	uint8_t kb[KEYLEN];
	MDB_val k = { sizeof(kb), kb };
	MDB_val v = { KEY_SIG_LEN + p->n, NULL };
	int rc;

	/* MDB_APPEND: items go in in seq order, each seq handed out */
	ZASSERT(p->seq > w->last_seq && p->seq <= w->seq_hwm);
	be64_put(kb, p->seq);
	if ((rc = mdb_put(t, ob->items, &k, &v, MDB_APPEND | MDB_RESERVE)) !=
	    0)
		return rc;
	memcpy(v.mv_data, p->sig, KEY_SIG_LEN);
	memcpy((uint8_t *)v.mv_data + KEY_SIG_LEN, p->body, p->n);
	w->bytes += ITEM_COST(p->n);
	w->backlog++;
	w->last_seq = p->seq;
	return evict_to(ob, t, w, (uint64_t)ob->budget, p->seq);
}

zerr_t
outbox_put(outbox_t *ob, uint64_t seq, const uint8_t *body, size_t n,
    const uint8_t sig[KEY_SIG_LEN], zdiag_t *d)
{
	struct put_arg p = { seq, body, n, sig };
	struct wctx w;
	zerr_t e;

	if (n == 0 || n > WIRE_MAX_MEASUREMENT)
		return zdiag_set(d, n == 0 ? ZE_INVAL : ZE_TOOBIG, "outbox: "
		    "measurement seq=%llu of %zu bytes (limit %d)",
		    (unsigned long long)seq, n, WIRE_MAX_MEASUREMENT);
	if (seq == 0 || seq <= ob->last_seq || seq >= ob->seq_next)
		return zdiag_set(d, ZE_INVAL, "outbox: seq %llu was not handed"
		    " out or is not above the last one put (%llu)",
		    (unsigned long long)seq,
		    (unsigned long long)ob->last_seq);
	if ((e = write_txn(ob, put_step, &p, &w, false, d)) != ZE_OK)
		return e;
	if (w.evicted > 0)
		log_drops(ob, w.evicted, "over the budget");
	return ZE_OK;
}

/* ---------------------------------------------------------------- delete */

struct del_arg {
	const uint64_t *seqs;
	size_t n;
	bool reject;
};

static int
del_step(outbox_t *ob, MDB_txn *t, struct wctx *w, void *arg)
{
	const struct del_arg *a = arg;
	uint8_t kb[KEYLEN];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	for (size_t i = 0; i < a->n; i++) {
		be64_put(kb, a->seqs[i]);
		rc = mdb_get(t, ob->items, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0 || (rc = mdb_del(t, ob->items, &k, NULL)) != 0)
			return rc;
		w->bytes -= KEYLEN + v.mv_size <= w->bytes ?
		    KEYLEN + v.mv_size : w->bytes;
		if (w->backlog > 0)
			w->backlog--;
		w->deleted++;
		if (a->reject)
			w->rejected++;
	}
	return 0;
}

/* Delete seqs[0..n) (missing ones are skipped), rejected or acked;
 * *deleted (may be NULL) gets the count. */
static zerr_t
delete_seqs(outbox_t *ob, const uint64_t *seqs, size_t n, bool reject,
    size_t *deleted, zdiag_t *d)
{
	struct del_arg a = { seqs, n, reject };
	struct wctx w;
	zerr_t e;

	if (deleted != NULL)
		*deleted = 0;
	if (n == 0)
		return ZE_OK;
	if ((e = write_txn(ob, del_step, &a, &w, false, d)) != ZE_OK)
		return e;
	if (deleted != NULL)
		*deleted = w.deleted;
	return ZE_OK;
}

zerr_t
outbox_ack(outbox_t *ob, const uint64_t *seqs, size_t n, size_t *deleted,
    zdiag_t *d)
{
	return delete_seqs(ob, seqs, n, false, deleted, d);
}

zerr_t
outbox_drop(outbox_t *ob, const uint64_t *seqs, size_t n, const char *reason,
    size_t *deleted, zdiag_t *d)
{
	size_t k;
	zerr_t e;

	if ((e = delete_seqs(ob, seqs, n, true, &k, d)) != ZE_OK)
		return e;
	if (k > 0)
		log_warnx("outbox: dropped %zu measurements refused by the "
		    "aggregator reason=%s first_seq=%llu rejected_total=%llu",
		    k, reason != NULL ? reason : "unspecified",
		    (unsigned long long)seqs[0],
		    (unsigned long long)ob->rejected);
	if (deleted != NULL)
		*deleted = k;
	return ZE_OK;
}

/* ---------------------------------------------------------------- read */

static zerr_t
read_begin(outbox_t *ob, MDB_txn **t, zdiag_t *d)
{
	int rc;

	if (ob->env == NULL)
		return zdiag_set(d, ZE_STORAGE, "outbox: %s could not be "
		    "reopened; restart the agent", ob->dir);
	rc = mdb_txn_begin(ob->env, NULL, MDB_RDONLY, t);
	if (rc == MDB_MAP_RESIZED) {
		if ((rc = set_map(ob, 0)) == 0)
			rc = mdb_txn_begin(ob->env, NULL, MDB_RDONLY, t);
	}
	if (rc != 0)
		return mdb_err(d, rc, "cannot read");
	return ZE_OK;
}

zerr_t
outbox_iter(outbox_t *ob, uint64_t from, size_t max, outbox_iter_fn fn,
    void *arg, size_t *count, zdiag_t *d)
{
	struct outbox_item it;
	uint8_t kb[KEYLEN];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_txn *t;
	MDB_cursor *c;
	size_t calls = 0;
	zerr_t e;
	int rc;

	if (count != NULL)
		*count = 0;
	if (max == 0)
		return ZE_OK;
	if ((e = read_begin(ob, &t, d)) != ZE_OK)
		return e;
	if ((rc = mdb_cursor_open(t, ob->items, &c)) != 0) {
		mdb_txn_abort(t);
		return mdb_err(d, rc, "cannot read");
	}
	be64_put(kb, from);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != KEYLEN || v.mv_size <= KEY_SIG_LEN ||
		    v.mv_size > KEY_SIG_LEN + WIRE_MAX_MEASUREMENT) {
			/* LMDB has no checksums; skip rather than wedge. */
			log_warnx("outbox: skipping a malformed record "
			    "(key %zu bytes, value %zu bytes)", k.mv_size,
			    v.mv_size);
			continue;
		}
		it.seq = be64_get(k.mv_data);
		it.sig = v.mv_data;
		it.body = (const uint8_t *)v.mv_data + KEY_SIG_LEN;
		it.len = v.mv_size - KEY_SIG_LEN;
		calls++;
		if (fn(&it, arg) != 0 || calls == max) {
			rc = 0;
			break;
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	if (count != NULL)
		*count = calls;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_err(d, rc, "cannot read");
	return ZE_OK;
}

struct peek_arg {
	uint64_t *seq;
	uint8_t *buf;
	size_t cap;
	size_t *len;
	uint8_t *sig;
	bool toobig;
};

static int
peek_cb(const struct outbox_item *it, void *arg)
{
	struct peek_arg *p = arg;

	*p->seq = it->seq;
	*p->len = it->len;
	memcpy(p->sig, it->sig, KEY_SIG_LEN);
	if (it->len > p->cap)
		p->toobig = true;
	else
		memcpy(p->buf, it->body, it->len);
	return 1;
}

zerr_t
outbox_peek(outbox_t *ob, uint64_t from, uint64_t *seq, uint8_t *buf,
    size_t cap, size_t *len, uint8_t sig[KEY_SIG_LEN], zdiag_t *d)
{
	struct peek_arg p = { seq, buf, cap, len, sig, false };
	size_t n;
	zerr_t e;

	if ((e = outbox_iter(ob, from, 1, peek_cb, &p, &n, d)) != ZE_OK)
		return e;
	if (n == 0)
		return ZE_NOTFOUND;
	if (p.toobig)
		return zdiag_set(d, ZE_TOOBIG, "outbox: item seq=%llu of %zu "
		    "bytes does not fit in %zu", (unsigned long long)*seq,
		    *len, cap);
	return ZE_OK;
}

void
outbox_stats(const outbox_t *ob, struct outbox_stats *st)
{
	st->backlog = ob->backlog;
	st->bytes = ob->bytes;
	st->dropped = ob->dropped;
	st->rejected = ob->rejected;
	st->last_seq = ob->last_seq;
	st->map_size = ob->map_size;
}
