/*
 * store.h — the aggregator's LMDB environment.  This module owns every
 * LMDB call in the project; nothing else includes <lmdb.h>.
 *
 * Named databases (layouts in docs/STORAGE.md):
 *   meas      id(16)              -> measurement record (signed body, sig,
 *                                    derived fields at receive time)
 *   dedup     agent(32) seq(8 BE) -> id(16)   (also the per-agent index)
 *   agents    ed25519 pk(32)      -> agent record
 *   by_curve  curve25519 pk(32)   -> ed25519 pk(32)
 *   meta      name                -> value ("format", "registry_gen")
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

enum store_role {
	STORE_ROLE_PROBE = 0,
	STORE_ROLE_CONTROL = 1,
};

typedef struct store store_t;

struct store_opts {
	bool readonly;		/* open for reading only */
	int64_t map_size;	/* initial map size (new env); 0: default */
	int64_t map_max;	/* never grow beyond; 0: no limit */
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
	uint32_t test;
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
};

/*
 * Write n measurements and ns registry updates in one transaction and
 * commit it durably.  res[i] tells for each measurement whether it was
 * stored or was already there (checked by (agent, seq) and by id, also
 * against earlier items of the same call); an id already stored under
 * another (agent, seq) is STORE_DUP_ID and not stored either.  Region, ASN and role come from
 * the agent's registry record at this moment; each agent's last-seen time
 * and stored count are updated.  Grows the map and retries on MDB_MAP_FULL.
 * Returns ZE_FULL when the map would exceed map_max or the disk is full
 * (nothing was stored), ZE_STORAGE on other database failures.
 * Not to be called from two threads at once.
 */
zerr_t store_commit(store_t *s, const struct store_meas_in *m, size_t n,
    enum store_put *res, const struct store_seen *seen, size_t ns,
    zdiag_t *d) ZWUR;

/* A stored measurement.  Pointers refer to memory valid only inside the
 * callback (iteration) or in the caller's zbuf (store_meas_get). */
struct store_meas {
	uint8_t id[STORE_ID_LEN];
	uint8_t agent[STORE_PK_LEN];
	uint64_t seq;
	int64_t start_us;
	int64_t recv_us;
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

/* Same, limited to one agent's measurements, in seq order (dedup). */
zerr_t store_meas_iter_agent(store_t *s, const uint8_t agent[STORE_PK_LEN],
    store_meas_fn fn, void *arg, zdiag_t *d) ZWUR;

/* Copy one measurement into buf (reset first); m's pointers point into
 * buf.  ZE_NOTFOUND if absent. */
zerr_t store_meas_get(store_t *s, const uint8_t id[STORE_ID_LEN],
    struct store_meas *m, zbuf_t *buf, zdiag_t *d) ZWUR;

/* Id of (agent, seq) if stored. */
zerr_t store_meas_lookup(store_t *s, const uint8_t agent[STORE_PK_LEN],
    uint64_t seq, uint8_t id[STORE_ID_LEN], zdiag_t *d) ZWUR;

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
/* Bumped by every registry change. */
zerr_t store_registry_gen(store_t *s, uint64_t *gen, zdiag_t *d) ZWUR;

const char *store_role_name(enum store_role r);

#endif
