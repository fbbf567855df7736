/*
 * store.h — the aggregator's LMDB environment.  This module (store.c and
 * store_meas.c, store_registry.c, store_queue.c, store_token.c,
 * store_testlist.c, store_beats.c behind it) owns every LMDB call of the
 * aggregator; nothing else includes <lmdb.h>.
 *
 * Named databases (layouts in docs/STORAGE.md):
 *   meas      id(16)              -> measurement record (signed body, sig,
 *                                    derived fields at receive time)
 *   dedup     agent(32) seq(8 BE) -> id(16)   (also the per-agent index)
 *   agents    ed25519 pk(32)      -> agent record
 *   by_curve  curve25519 pk(32)   -> ed25519 pk(32)
 *   meta      name                -> value ("format", "registry_gen")
 * and the analyzer's derived data (aggregator/rollup.c; rebuilt from meas
 * by store_an_reset + the analyzer):
 *   todo      arrival(8 BE)       -> id(16) test(1) thash(8) role(1): to
 *                                    judge, in the order they came
 *   ctl       test(1) thash(8) id(16) -> ""   control and domestic
 *                                    control measurements
 *   open      id(16)              -> verdict(1) method(1): counted, judged
 *                                    again once its control window closed
 *   rollup    hour(4) service NUL region(8) asn(4) -> cell accumulator
 *   cellhour  service NUL region(8) asn(4) hour(4) -> verdict(1) method(1)
 *   events    hour(4) service NUL region(8) asn(4) -> from(1) to(1) method(1)
 *   hookq     seq(8)              -> event JSON waiting for the webhook
 * and what the analyzer cannot rebuild (store_beats.c; kept by
 * store_an_reset):
 *   beats     agent(32) time(8 BE) -> ""  the last heartbeats' times
 *   silence   region(8) asn(4) start(8 BE) -> end(8) agents(4)
 *
 * Invariants: a measurement is in meas iff its (agent, seq) is in dedup,
 * pointing at its id — both are written in one write transaction.
 * Writes are durable when store_commit returns ZE_OK (no MDB_NOSYNC, no
 * MDB_WRITEMAP: a full disk is an error return, never a SIGBUS).  The map grows on demand up to the configured maximum.
 *
 * Threads: a store_t may be shared between threads.  Every function opens
 * and closes its own transaction.  Iteration callbacks run inside a read
 * transaction and must not call store functions that write.
 * Several processes may open the same directory (zondctl beside the
 * daemon); LMDB serialises writers across processes.
 */
#ifndef AGGREGATOR_STORE_H
#define AGGREGATOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zbuf.h"

#define STORE_FORMAT 1		/* meta "format"; bump on layout change */
#define STORE_ID_LEN 16
#define STORE_PK_LEN 32
#define STORE_SIG_LEN 64
#define STORE_REGION_LEN 8	/* "RU-MOW" + NUL, padded */
#define STORE_NAME_LEN 64	/* agent name incl. NUL */
#define STORE_VERSION_LEN 32	/* agent software version incl. NUL */

/* An agent's role (its byte in the agent, measurement and todo records:
 * append only).  Probes are judged and counted; controls are the
 * uncensored comparison; a domestic control (inside the censored
 * country, on another ISP) is neither counted nor an ordinary control:
 * the verdict reads it apart (docs/METHODOLOGY.md §2.7). */
enum store_role {
	STORE_ROLE_PROBE = 0,
	STORE_ROLE_CONTROL = 1,
	STORE_ROLE_DOMESTIC = 2,
};

/* The role of a stored byte; an unknown value reads as probe. */
static inline enum store_role
store_role_of(unsigned b)
{
	return b == STORE_ROLE_CONTROL || b == STORE_ROLE_DOMESTIC ?
	    (enum store_role)b : STORE_ROLE_PROBE;
}

/* An agent's access network (its byte in the agent and token records:
 * append only); records written before it existed read as unknown. */
enum store_network {
	STORE_NET_UNKNOWN = 0,
	STORE_NET_FIXED = 1,
	STORE_NET_MOBILE = 2,
};

static inline enum store_network
store_network_of(unsigned b)
{
	return b == STORE_NET_FIXED || b == STORE_NET_MOBILE ?
	    (enum store_network)b : STORE_NET_UNKNOWN;
}

/* "fixed", "mobile", "unknown" (the text of the API, CLI and wire). */
const char *store_network_name(enum store_network n);
/* The network named by text; -1 if none of the three. */
int store_network_parse(const char *text);

typedef struct store store_t;

struct store_opts {
	bool readonly;		/* open for reading only */
	int64_t map_size;	/* initial map size (new env); 0: default */
	int64_t map_max;	/* never grow beyond; 0: no limit */
	/* Keep this many bytes of the data file written (zeros) past the
	 * pages in use, one page per write, and map it without readahead:
	 * the page cache then holds the file in single-page folios, which
	 * LMDB's scattered page writes and their writeback cost a fraction
	 * of what they cost in large folios.  0: off (readers, tools). */
	int64_t prefill;
};

/* Open (creating dir 0700 and the databases if needed).  Caller frees with
 * store_close.  Checks the meta format version. */
zerr_t store_open(const char *dir, const struct store_opts *o,
    store_t **out, zdiag_t *d) ZWUR;
void store_close(store_t **s);

/* ---------------------------------------------------------- measurements */

/* One verified measurement to store.  Pointers must stay valid during the
 * store_commit call. */
struct store_meas_in {
	const uint8_t *id;		/* 16 */
	const uint8_t *agent;		/* 32 */
	uint64_t seq;
	int64_t start_us;
	int64_t recv_us;
	int64_t time_us;		/* placed start (lib/zclock.h) */
	uint8_t time_by;		/* enum zclock_placed */
	uint32_t test;
	uint64_t thash;			/* store_target_hash(target) */
	const uint8_t *body;
	size_t body_len;
	const uint8_t *sig;		/* 64 */
};

enum store_put {
	STORE_STORED = 1,	/* new, written */
	STORE_DUP = 2,		/* (agent, seq) already stored */
	STORE_DUP_ID = 3,	/* new (agent, seq) but its id is stored */
};

/* Registry status reported by an agent (hello/heartbeat) to record in the
 * same transaction as the measurements. */
struct store_seen {
	uint8_t agent[STORE_PK_LEN];
	int64_t seen_us;
	bool has_status;	/* the fields below are set */
	char version[STORE_VERSION_LEN];
	uint64_t backlog;
	uint64_t dropped;
	uint64_t last_seq;
	uint64_t list_version;
	bool has_clock;			/* clock_offset_us is known */
	int64_t clock_offset_us;	/* aggregator's time - agent's clock */
};

/*
 * Write n measurements and ns registry updates in one transaction and
 * commit it durably.  res[i] tells for each measurement whether it was
 * stored or was already there (checked by (agent, seq) and by id, also
 * against earlier items of the same call); an id already stored under
 * another (agent, seq) is STORE_DUP_ID and not stored either.  Region, ASN and role come from
 * the agent's registry record at this moment; each agent's last-seen time
 * and stored count are updated (under load later: store_agents_defer).  Grows the map and retries on MDB_MAP_FULL.
 * Returns ZE_FULL when the map would exceed map_max or the disk is full
 * (nothing was stored), ZE_STORAGE on other database failures.
 * Not to be called from two threads at once.
 */
zerr_t store_commit(store_t *s, const struct store_meas_in *m, size_t n,
    enum store_put *res, const struct store_seen *seen, size_t ns,
    zdiag_t *d) ZWUR;

/* store_commit plus more writes in the same transaction: extra(tx, arg)
 * runs after the measurements (store_tx_run's rules: re-runnable, non-zero
 * aborts everything).  The aggregator's analyzer writes this way, so its
 * updates share the single writer's commits (writer.h) and fsync. */
struct store_tx;
struct store_extra {
	int (*fn)(struct store_tx *tx, void *arg);
	void *arg;
};
zerr_t store_commit_with(store_t *s, const struct store_meas_in *m,
    size_t n, enum store_put *res, const struct store_seen *seen, size_t ns,
    const struct store_extra *extra, zdiag_t *d) ZWUR;

/* A stored measurement.  Pointers refer to memory valid only inside the
 * callback (iteration) or in the caller's zbuf (store_meas_get). */
struct store_meas {
	uint8_t id[STORE_ID_LEN];
	uint8_t agent[STORE_PK_LEN];
	uint64_t seq;
	int64_t start_us;		/* as signed */
	int64_t recv_us;
	int64_t time_us;		/* placed start: cells and hours use
					 * it (= start_us in format 1) */
	uint8_t time_by;		/* enum zclock_placed */
	uint32_t test;
	uint32_t asn;
	enum store_role role;
	char region[STORE_REGION_LEN];
	const uint8_t *sig;		/* 64 bytes */
	const uint8_t *body;		/* the signed Measurement bytes */
	size_t body_len;
};

/* Return non-zero to stop the iteration. */
typedef int (*store_meas_fn)(const struct store_meas *m, void *arg);

/*
 * Call fn for every measurement with from <= id < to, in id (time) order.
 * from or to NULL: unbounded.  ZE_OK also when fn stopped early.
 */
zerr_t store_meas_iter(store_t *s, const uint8_t *from, const uint8_t *to,
    store_meas_fn fn, void *arg, zdiag_t *d) ZWUR;

/* Copy one measurement into buf (reset first); m's pointers point into
 * buf.  ZE_NOTFOUND if absent. */
zerr_t store_meas_get(store_t *s, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m, zbuf_t *buf, zdiag_t *d) ZWUR;

struct store_counts {
	uint64_t meas;		/* entries in meas */
	uint64_t dedup;		/* entries in dedup */
	uint64_t agents;	/* enrolled agents */
	uint64_t map_size;	/* current map size, bytes */
	uint64_t map_used;	/* bytes of the map in use */
};
zerr_t store_counts(store_t *s, struct store_counts *c, zdiag_t *d) ZWUR;

/* ---------------------------------------------------------- registry */

struct store_agent {
	uint8_t pk[STORE_PK_LEN];
	char region[STORE_REGION_LEN];
	uint32_t asn;
	enum store_role role;
	enum store_network network;
	bool enabled;
	char name[STORE_NAME_LEN];
	int64_t enrolled_us;
	int64_t last_seen_us;		/* 0: never */
	char version[STORE_VERSION_LEN];
	uint64_t backlog;
	uint64_t dropped;
	uint64_t last_seq;		/* highest seq the agent reported */
	uint64_t list_version;
	uint64_t stored;		/* measurements stored from it */
	bool has_clock;			/* clock_offset_us known */
	int64_t clock_offset_us;	/* aggregator's time - agent's wall
					 * clock, at its last Hello/Heartbeat */
};

/*
 * Insert or update an agent's enrolment (region, ASN, role, name; enabled).
 * An existing record keeps its enrolment time and status figures.  Also
 * maps its CURVE key and bumps meta "registry_gen".
 */
zerr_t store_agent_enroll(store_t *s, const struct store_agent *a,
    bool *created, zdiag_t *d) ZWUR;
/* Enable or disable an enrolled agent.  ZE_NOTFOUND if not enrolled. */
zerr_t store_agent_set_enabled(store_t *s, const uint8_t pk[STORE_PK_LEN],
    bool enabled, zdiag_t *d) ZWUR;
zerr_t store_agent_get(store_t *s, const uint8_t pk[STORE_PK_LEN],
    struct store_agent *a, zdiag_t *d) ZWUR;
/* The Ed25519 key of an agent from its CURVE key; ZE_NOTFOUND if none. */
zerr_t store_agent_by_curve(store_t *s, const uint8_t curve[32],
    uint8_t pk[STORE_PK_LEN], zdiag_t *d) ZWUR;
typedef int (*store_agent_fn)(const struct store_agent *a, void *arg);
/* Every agent in key order. */
zerr_t store_agent_iter(store_t *s, store_agent_fn fn, void *arg,
    zdiag_t *d) ZWUR;

/* ---------------------------------------------------------- tokens */

#define STORE_TOKEN_ID_LEN 16
#define STORE_TOKEN_SECRET_LEN 32

/* An enrollment token (docs/PROTOCOL.md "Enrollment"). */
struct store_token {
	uint8_t id[STORE_TOKEN_ID_LEN];
	uint8_t secret[STORE_TOKEN_SECRET_LEN];
	char region[STORE_REGION_LEN];
	uint32_t asn;
	enum store_network network;
	char name[STORE_NAME_LEN];
	int64_t created_us;
	int64_t expires_us;		/* 0: never */
	int64_t used_at_us;		/* 0: unused */
	uint8_t used_by[STORE_PK_LEN];	/* the key it admitted */
	bool revoked;
};

/* A new token.  ZE_EXISTS if its id is taken (16 random bytes: never). */
zerr_t store_token_put(store_t *s, const struct store_token *t,
    zdiag_t *d) ZWUR;
zerr_t store_token_get(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    struct store_token *t, zdiag_t *d) ZWUR;
/* Revoke a token (used or not: a used one admits its key again no more
 * after revocation; the agent stays enrolled).  ZE_NOTFOUND if none. */
zerr_t store_token_revoke(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    zdiag_t *d) ZWUR;
typedef int (*store_token_fn)(const struct store_token *t, void *arg);
/* Every token in id order (the callback sees the secret: never print). */
zerr_t store_token_iter(store_t *s, store_token_fn fn, void *arg,
    zdiag_t *d) ZWUR;

/* What store_token_redeem decided (EnrollStatus's order). */
enum store_redeem {
	STORE_REDEEM_ADMITTED = 1,	/* admitted now, or before (same key) */
	STORE_REDEEM_UNKNOWN = 2,
	STORE_REDEEM_FORGED = 3,
	STORE_REDEEM_USED = 4,
	STORE_REDEEM_EXPIRED = 5,
	STORE_REDEEM_REVOKED = 6,
};

/*
 * Redeem token id for agent key pk with proof (token.h token_proof), at
 * now_us: in ONE write transaction check it (unknown, forged, revoked,
 * used by another key, expired, in that order) and, when it holds,
 * enrol pk (enabled; the token's region, ASN, network, name, role probe)
 * and mark the token used by pk.  The same key again is ADMITTED with no
 * write.  *t receives the token (secret wiped) when it exists.  ZE_OK
 * with *res set, or a storage error (nothing written).
 */
zerr_t store_token_redeem(store_t *s, const uint8_t id[STORE_TOKEN_ID_LEN],
    const uint8_t pk[STORE_PK_LEN], const uint8_t *proof, size_t proof_len,
    int64_t now_us, enum store_redeem *res, struct store_token *t,
    zdiag_t *d) ZWUR;

/*
 * Let agent records lag (the aggregator's ingest, under load): store_commit
 * then writes an agent's record (stored count, last seen) at most once a
 * second, at once for a status update; store_agents_flush writes all that
 * lag (the writer calls it when the ingest is idle, and at its end).  Meta "agents_lag"
 * is 1 while records lag; after a crash store_agents_recount mends the
 * counts.  Set from the committing thread, before its first commit.
 */
void store_agents_defer(store_t *s, bool on);
/* Do agent records lag now?  (Any thread.) */
bool store_agents_lagging(store_t *s);
/* Write every lagging agent record (a commit of its own, if any lags). */
zerr_t store_agents_flush(store_t *s, zdiag_t *d) ZWUR;
/* If meta "agents_lag" is 1 (the last writer stopped with records behind
 * the measurements), count every agent's measurements in dedup again and
 * fix the records.  *ran: it was needed; *fixed: records corrected.  Call
 * at the start of the daemon, before committing. */
zerr_t store_agents_recount(store_t *s, bool *ran, uint64_t *fixed,
    zdiag_t *d) ZWUR;

const char *store_role_name(enum store_role r);

/* ---------------------------------------------------------- test list */

/* The newest signed test list (zondctl testlist push; docs/PROTOCOL.md
 * §5): its figures, then the SignedTestList bytes, verified by the
 * pusher before they are stored. */
struct store_testlist {
	uint64_t version;
	int64_t issued_us;
	int64_t expires_us;
	uint32_t ntests;
};
/* Store p (n bytes) with its figures m, replacing the stored list, only
 * if m->version is above the stored one's: else ZE_EXISTS, *stored the
 * stored version, nothing written. */
zerr_t store_testlist_put(store_t *s, const struct store_testlist *m,
    const uint8_t *p, size_t n, uint64_t *stored, zdiag_t *d) ZWUR;
/* The stored list's figures, and its bytes into buf (reset first) unless
 * buf is NULL.  ZE_NOTFOUND when none was ever pushed. */
zerr_t store_testlist_get(store_t *s, struct store_testlist *m, zbuf_t *buf,
    zdiag_t *d) ZWUR;

/* ---------------------------------------------------------- analysis */

/* lib/zid on the store's byte arrays: the smallest id of time us (a range
 * bound) and the millisecond time an id starts with. */
void store_id_at(int64_t us, uint8_t id[STORE_ID_LEN]);
int64_t store_id_ms(const uint8_t id[STORE_ID_LEN]);

/*
 * The id range that holds every measurement starting in [lo, hi): ingest
 * refuses a measurement whose id time is more than WIRE_ID_SKEW_MS from
 * its start (PROTOCOL.md "Ids"), so ids in [from, to) cover it; readers
 * select by start_us within.  Saturates: no bound ever wraps.
 */
void store_ids_of_starts(int64_t lo, int64_t hi, uint8_t from[STORE_ID_LEN],
    uint8_t to[STORE_ID_LEN]);

/* The earliest start_us any stored measurement can have (the first id's
 * time less the skew); INT64_MAX when nothing is stored.  Readers that
 * walk time from the beginning start here. */
zerr_t store_first_start(store_t *s, int64_t *us, zdiag_t *d) ZWUR;

/* 64-bit FNV-1a of a target string: the (test, target) group key of the
 * todo and ctl databases.  Collisions only widen a lookup; readers compare
 * the decoded target. */
uint64_t store_target_hash(const char *target);

/*
 * One transaction for the analyzer.  store_tx_run calls fn(tx, arg) in a
 * read or write transaction; a write transaction is committed when fn
 * returns 0 and aborted otherwise.  When the map fills, the transaction is
 * aborted, the map grown and fn called again from the start: fn must not
 * keep effects outside the transaction between calls (rollup.c builds its
 * write plan before and only applies it inside fn).
 *
 * The store_tx_* functions return 0 (done / found), 1 (not found; for
 * iterations: stopped by the callback) or -1 (a database error, kept in
 * the transaction: fn must then return non-zero, and store_tx_run reports
 * it).  Pointers they hand out are valid until the transaction ends.
 */
typedef struct store_tx store_tx_t;
zerr_t store_tx_run(store_t *s, bool write, int (*fn)(store_tx_t *tx,
    void *arg), void *arg, const char *what, zdiag_t *d) ZWUR;

struct store_todo {
	uint64_t key;		/* arrival number (set by the iterator) */
	uint8_t id[STORE_ID_LEN];
	uint32_t test;
	uint64_t thash;
	enum store_role role;
};
/* todo entries in arrival order until fn != 0. */
int store_tx_todo_iter(store_tx_t *tx,
    int (*fn)(const struct store_todo *t, void *arg), void *arg);
/* Append t (its key is ignored: the next arrival number). */
int store_tx_todo_put(store_tx_t *tx, const struct store_todo *t);
/* Take t (as the iterator gave it) off todo; 1 if it is not there. */
int store_tx_todo_del(store_tx_t *tx, const struct store_todo *t);
/* Entries with from <= id < to (NULL: unbounded; a bounded count walks
 * the whole queue). */
int store_tx_todo_count(store_tx_t *tx, const uint8_t *from,
    const uint8_t *to, uint64_t *n);
/* meta "refill" while a reanalysis queues the stored measurements again:
 * it has queued every id below `at`, and ingest queues only those (the
 * refill takes the rest).  get: 0, or 1 when no refill runs; set NULL
 * ends it. */
int store_tx_refill_get(store_tx_t *tx, uint8_t at[STORE_ID_LEN]);
int store_tx_refill_set(store_tx_t *tx, const uint8_t *at);

/* The measurement with this id (pointers into the transaction). */
int store_tx_meas_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m);
/* Every measurement from <= id < to (NULL: unbounded), in id order. */
int store_tx_meas_iter(store_tx_t *tx, const uint8_t *from,
    const uint8_t *to, store_meas_fn fn, void *arg);
/* One agent's measurements from seq on, upwards (dir > 0) or downwards
 * (dir < 0, seq included in both), until fn returns non-zero. */
int store_tx_agent_walk(store_tx_t *tx, const uint8_t agent[STORE_PK_LEN],
    uint64_t seq, int dir, store_meas_fn fn, void *arg);

/* Control measurements of (test, thash) with from <= id < to. */
int store_tx_ctl_iter(store_tx_t *tx, uint32_t test, uint64_t thash,
    const uint8_t from[STORE_ID_LEN], const uint8_t to[STORE_ID_LEN],
    int (*fn)(const uint8_t id[STORE_ID_LEN], void *arg), void *arg);
int store_tx_ctl_put(store_tx_t *tx, uint32_t test, uint64_t thash,
    const uint8_t id[STORE_ID_LEN]);

/* Counted provisionally: id -> (verdict, method). */
int store_tx_open_get(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    uint8_t *verdict, uint8_t *method);
int store_tx_open_put(store_tx_t *tx, const uint8_t id[STORE_ID_LEN],
    uint8_t verdict, uint8_t method);
int store_tx_open_del(store_tx_t *tx, const uint8_t id[STORE_ID_LEN]);
/* Entries with id < to, in id order, until fn != 0. */
int store_tx_open_iter(store_tx_t *tx, const uint8_t to[STORE_ID_LEN],
    int (*fn)(const uint8_t id[STORE_ID_LEN], uint8_t verdict,
    uint8_t method, void *arg), void *arg);

/* A cell of one hour: the key of rollup, cellhour and events. */
struct store_cellkey {
	uint32_t hour;			/* hours since the epoch (UTC) */
	char service[64];		/* NUL-terminated, non-empty */
	char region[STORE_REGION_LEN];
	uint32_t asn;
};
#define STORE_HOUR_US (3600LL * 1000000)

int store_tx_rollup_get(store_tx_t *tx, const struct store_cellkey *k,
    const uint8_t **p, size_t *n);
int store_tx_rollup_put(store_tx_t *tx, const struct store_cellkey *k,
    const uint8_t *p, size_t n);
/* Roll-ups of hours [h0, h1), of one service or all (NULL), of one
 * region or all (NULL), in key order (hour, service, region, ASN), until
 * fn != 0.  One region's are sought: per hour, a seek per service of the
 * hour to the region's keys and one past them, so it costs that region's
 * share of the hours and not a walk of every key. */
int store_tx_rollup_iter(store_tx_t *tx, uint32_t h0, uint32_t h1,
    const char *service, const char *region,
    int (*fn)(const struct store_cellkey *k, const uint8_t *p, size_t n,
    void *arg), void *arg);

/* A cell's judged state per hour (only hours that were not insufficient).
 * near: the nearest hour before (dir < 0) or after (dir > 0) k->hour;
 * 1 when there is none. */
int store_tx_cellhour_put(store_tx_t *tx, const struct store_cellkey *k,
    uint8_t verdict, uint8_t method);
int store_tx_cellhour_del(store_tx_t *tx, const struct store_cellkey *k);
int store_tx_cellhour_near(store_tx_t *tx, const struct store_cellkey *k,
    int dir, uint32_t *hour, uint8_t *verdict, uint8_t *method);
/* The judged hours [h0, h1) of service's cells (of region when not NULL,
 * and of asn when not 0), cell by cell in key order, hours ascending,
 * until fn != 0.  Two seeks a cell and a step an hour. */
int store_tx_cellhour_iter(store_tx_t *tx, const char *service,
    const char *region, uint32_t asn, uint32_t h0, uint32_t h1,
    int (*fn)(const struct store_cellkey *k, uint8_t verdict,
    uint8_t method, void *arg), void *arg);

/* Events: a cell's state change at the start of an hour. */
struct store_event {
	struct store_cellkey k;
	uint8_t from, to, method;
};
int store_tx_event_get(store_tx_t *tx, const struct store_cellkey *k,
    struct store_event *ev);
int store_tx_event_put(store_tx_t *tx, const struct store_event *ev);
int store_tx_event_del(store_tx_t *tx, const struct store_cellkey *k);
/* Events of hours [h0, h1) in key order until fn != 0. */
int store_tx_event_iter(store_tx_t *tx, uint32_t h0, uint32_t h1,
    int (*fn)(const struct store_event *ev, void *arg), void *arg);

/* The webhook queue: JSON documents in the order they were pushed. */
int store_tx_hook_push(store_tx_t *tx, const char *json, size_t n);
/* The oldest queued document (copied into buf) and its sequence number;
 * ZE_NOTFOUND when the queue is empty. */
zerr_t store_hook_peek(store_t *s, uint64_t *seq, zbuf_t *buf,
    zdiag_t *d) ZWUR;
zerr_t store_hook_del(store_t *s, uint64_t seq, zdiag_t *d) ZWUR;
zerr_t store_hook_count(store_t *s, uint64_t *n, zdiag_t *d) ZWUR;

/* The store's generation: a number that changes whenever anything may
 * have changed what a map says, so a reader that made a document from the
 * store knows it still holds while the number is the same (the HTTP map
 * cache, docs/API.md).  LMDB's last committed write transaction: every
 * change of roll-ups, hour states, events or silence periods is one, by
 * a writer in any process (the analyzer, ingest, zondctl reanalyze or
 * enroll). */
uint64_t store_gen(store_t *s);

/* Empty todo, ctl, open, rollup, cellhour and events (not hookq), clear
 * meta "analysis" and start a refill at the first id (the caller refills
 * todo and ctl from meas: rollup_reset).  */
zerr_t store_an_reset(store_t *s, zdiag_t *d) ZWUR;
/* meta "analysis": set once the analyzer's data covers every stored
 * measurement (a store written before the analyzer existed has none). */
zerr_t store_an_ready(store_t *s, bool *ready, zdiag_t *d) ZWUR;
int store_tx_an_set_ready(store_tx_t *tx);

/* ---------------------------------------------------------- heartbeats */

/* Heartbeat history (database `beats`, key: agent key (32) || time (8,
 * big-endian), value empty): the receive times (store_seen.seen_us) of
 * the last STORE_BEATS_MAX hellos and heartbeats of each agent, i.e. every
 * store_seen entry with has_status that store_commit/store_commit_with
 * records for an enrolled agent.  Written in the same transaction as the
 * agent record; each agent keeps at most STORE_BEATS_MAX (the oldest go,
 * O(1) per heartbeat amortised: no scan of the agent's whole history
 * beyond those 16 + 1 entries); a time equal to one already stored is
 * stored once.  NOT rebuilt by reanalysis (it cannot be: heartbeats are
 * not stored elsewhere), and kept by rollup_reset / `zondctl reanalyze`
 * (store_an_reset clears neither beats nor silence).  A negative time
 * (before 1970) is not recorded. */
#define STORE_BEATS_MAX 16
/* Agent pk's stored times, ascending, at most cap of the newest into
 * t[0..*n).  0 ok (also none: *n = 0), -1 storage error (also a record
 * not understood: store_tx_run names it). */
int store_tx_beats_get(store_tx_t *tx, const uint8_t pk[STORE_PK_LEN],
    int64_t *t, size_t cap, size_t *n);
/* The same in a read transaction of its own. */
zerr_t store_beats_get(store_t *s, const uint8_t pk[STORE_PK_LEN],
    int64_t *t, size_t cap, size_t *n, zdiag_t *d) ZWUR;

/* Silence periods (database `silence`, key: region (8, NUL-padded) ||
 * ASN (4) || start (8, big-endian)): a shutdown of one region and ASN
 * seen from its agents falling silent together (METHODOLOGY.md §3.8). */
struct store_silence {
	char region[STORE_REGION_LEN];
	uint32_t asn;
	int64_t start_us;	/* the earliest last heartbeat of the group
				 * (>= 0) */
	int64_t end_us;		/* 0: still open; else the first heartbeat
				 * of one of them after start */
	uint32_t agents;	/* agents that fell silent together */
};
/* Insert or replace (same region, asn, start). 0, -1. */
int store_tx_silence_put(store_tx_t *tx, const struct store_silence *p);
/* The periods of (region, asn) that overlap [t0, t1) (an open one
 * overlaps everything after its start), in start order, until fn != 0
 * (which is returned).  region NULL: every region and ASN (key order).
 * -1 storage error. */
int store_tx_silence_iter(store_tx_t *tx, const char *region,
    uint32_t asn, int64_t t0, int64_t t1,
    int (*fn)(const struct store_silence *p, void *arg), void *arg);
/* The same in a read transaction of its own (zondctl, the HTTP API);
 * ZE_OK also when fn stopped. */
zerr_t store_silence_iter(store_t *s, const char *region, uint32_t asn,
    int64_t t0, int64_t t1,
    int (*fn)(const struct store_silence *p, void *arg), void *arg,
    zdiag_t *d) ZWUR;

#endif
