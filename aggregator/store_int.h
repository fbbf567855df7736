/*
 * store_int.h — what the store files (store.c, store_meas.c,
 * store_registry.c, store_queue.c, store_token.c, store_beats.c) share:
 * the store's struct, the record layouts and the helpers one file defines
 * and another calls.  Only they include it (and <lmdb.h>).
 */
#ifndef AGGREGATOR_STORE_INT_H
#define AGGREGATOR_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"
#include "store.h"

#define DEFAULT_MAP (64LL << 20)
#define LAG_MAX_US 1000000	/* longest delay of a deferred agent record */
#define GROW_STEP (1LL << 30)

/* measurement record header (docs/STORAGE.md) */
#define MREC_HDR1 144	/* format 1 */
#define MREC_HDR 152	/* format 2: + placed time */
#define MREC_FORMAT 2
/* agent record */
#define AREC_LEN1 168	/* format 1 */
#define AREC_LEN 176	/* format 2: + clock offset */
#define AREC_FORMAT 2
/* token record (store_token.c) */
#define TREC_LEN 168
#define TREC_FORMAT 1

struct store {
	MDB_env *env;
	MDB_dbi meas, dedup, agents, by_curve, meta;
	MDB_dbi todo, ctl, open, rollup, cellhour, events, hookq;
	MDB_dbi tokens;
	bool no_tokens;		/* read-only and the table is not there yet */
	MDB_dbi beats, silence;	/* store_beats.c */
	bool no_beats;		/* read-only and they are not there yet */
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
	char commit_why[160];	/* store_tx.why of the last commit's extra */
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
	char why[160];	/* what rc was, when a store file said (a record
			 * not understood); store_tx_run reports it */
};

struct touched {
	struct store_agent a;
	bool found;
	bool status;	/* status fields came from a seen update */
	bool write;	/* its record is written in this transaction */
	uint64_t add;
	int64_t seen_us;
};

/* meta "analysis" value: the layout of the derived databases this program
 * writes ("1": todo keyed by id, before arrival numbers; "2": roll-ups in
 * cell encoding 1, without counts per agent in a sub-row; "3": cell
 * encoding 2, without where counts) */
#define AN_LAYOUT "4"
#define TODO_VAL (STORE_ID_LEN + 10)	/* id test(1) thash(8) role(1) */

/* environment and transactions (store.c) */
zerr_t st_fail(int rc, zdiag_t *d, const char *what);
int st_txn_begin(store_t *s, unsigned flags, MDB_txn **txn);
void st_txn_abort(store_t *s, MDB_txn *txn);
int st_txn_commit(store_t *s, MDB_txn *txn);
zerr_t st_map_grow(store_t *s, zdiag_t *d);
void st_prefill(store_t *s);
zerr_t st_env_reopen(store_t *s, zdiag_t *d);
zerr_t st_write_txn(store_t *s, int (*fn)(store_t *, MDB_txn *, void *),
    void *arg, const char *what, zdiag_t *d);
int st_tx_rc(store_tx_t *tx, int rc);
int st_tx_walk(store_tx_t *tx, MDB_dbi dbi, const void *key, size_t klen,
    int (*fn)(const MDB_val *k, const MDB_val *v, void *arg), void *arg);
int st_tx_put(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn,
    const void *vp, size_t vn);
int st_tx_get(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn,
    MDB_val *v);
int st_tx_del(store_tx_t *tx, MDB_dbi dbi, const void *kp, size_t kn);

/* measurements (store_meas.c) */
int st_touched_get(store_t *s, MDB_txn *txn, const uint8_t *pk,
    struct touched **out);

/* registry (store_registry.c) */
void st_text_get(char *dst, const uint8_t *src, size_t len);
void st_text_put(uint8_t *dst, const char *src, size_t len);
void st_arec_encode(const struct store_agent *a, uint8_t r[AREC_LEN]);
zerr_t st_arec_decode(const uint8_t pk[STORE_PK_LEN], const MDB_val *v,
    struct store_agent *a, zdiag_t *d);
int st_lag_meta_put(store_t *s, MDB_txn *txn, bool on);
int st_lag_plan(store_t *s, MDB_txn *txn, bool *lagging);
void st_lag_done(store_t *s, bool lagging);

int st_agent_put(store_t *s, MDB_txn *txn, const struct store_agent *in,
    bool *created);

/* heartbeat history (store_beats.c): record agent pk's heartbeat at us
 * in txn (the commit, for an enrolled agent).  0 or an LMDB code. */
int st_beat_put(store_t *s, MDB_txn *txn, const uint8_t *pk, int64_t us);

/* analysis queues (store_queue.c) */
int st_an_ready_put(store_t *s, MDB_txn *txn);
int st_index_put(store_t *s, MDB_txn *txn, struct tqueue *q,
    const struct store_meas_in *m, enum store_role role);

#endif
