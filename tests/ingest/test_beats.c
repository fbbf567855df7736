/*
 * test_beats — the heartbeat history and the silence periods of the store
 * (aggregator/store_beats.c) on a real LMDB environment in a temporary
 * directory: heartbeats recorded through store_commit with `seen` entries
 * as the ingest makes them, the newest STORE_BEATS_MAX kept (and the rest
 * really deleted), no beat for unenrolled agents or commits without
 * status, one beat per time; silence periods put, replaced and walked
 * with the overlap rule; both kept by a reanalysis and a reopen; a store
 * made before these databases; records not understood reported, not
 * crashed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rollup.h"
#include "store.h"

#define T0 1767225600000000LL	/* 2026-01-01 00:00 UTC, µs */
#define MIN_US 60000000LL

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zond-beats-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

static store_t *
open_store(bool readonly)
{
	struct store_opts o = {.readonly = readonly};
	store_t *s = NULL;
	zdiag_t d;

	if (store_open(dir, &o, &s, &d) != ZE_OK)
		fail_msg("store_open: %s", d.text);
	return s;
}

/* A new key, enrolled as a probe of region/asn unless region is NULL. */
static void
agent(store_t *s, const char *region, uint32_t asn, uint8_t pk[32])
{
	struct store_agent a;
	uint8_t sk[64];
	bool created;
	zdiag_t d;

	crypto_sign_keypair(pk, sk);
	if (region == NULL)
		return;
	memset(&a, 0, sizeof(a));
	memcpy(a.pk, pk, 32);
	snprintf(a.region, sizeof(a.region), "%s", region);
	a.asn = asn;
	a.role = STORE_ROLE_PROBE;
	a.enabled = true;
	snprintf(a.name, sizeof(a.name), "beats");
	if (store_agent_enroll(s, &a, &created, &d) != ZE_OK)
		fail_msg("enroll: %s", d.text);
}

/* A heartbeat's seen entry as the ingest's on_status fills it. */
static void
seen_of(struct store_seen *sn, const uint8_t pk[32], int64_t us,
    bool status)
{
	memset(sn, 0, sizeof(*sn));
	memcpy(sn->agent, pk, 32);
	sn->seen_us = us;
	sn->has_status = status;
	sn->backlog = 3;
	sn->list_version = 7;
}

static void
beat(store_t *s, const uint8_t pk[32], int64_t us)
{
	struct store_seen sn;
	zdiag_t d;

	seen_of(&sn, pk, us, true);
	if (store_commit(s, NULL, 0, NULL, &sn, 1, &d) != ZE_OK)
		fail_msg("store_commit: %s", d.text);
}

static size_t
beats(store_t *s, const uint8_t pk[32], int64_t *t, size_t cap)
{
	size_t n = 99;
	zdiag_t d;

	if (store_beats_get(s, pk, t, cap, &n, &d) != ZE_OK)
		fail_msg("store_beats_get: %s", d.text);
	return n;
}

/* Entries in a named database, read with LMDB itself. */
static size_t
raw_entries(const char *name)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

/* Write (or with del, drop) one record of a named database directly. */
static void
raw_write(const char *name, const void *kp, size_t kn, const void *vp,
    size_t vn, bool drop)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {kn, (void *)(uintptr_t)kp}, v = {vn, (void *)(uintptr_t)vp};

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	if (drop)
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	else
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

struct txget {
	const uint8_t *pk;
	int64_t t[STORE_BEATS_MAX];
	size_t n;
};

static int
txget_fn(store_tx_t *tx, void *arg)
{
	struct txget *g = arg;

	return store_tx_beats_get(tx, g->pk, g->t, 3, &g->n) < 0;
}

/* 20 heartbeats keep the newest 16, ascending; the 4 oldest are gone
 * from the database, not only hidden; a smaller cap gives the newest. */
static void
t_keep_newest(void **state)
{
	uint8_t a[32], b[32];
	int64_t t[32];
	struct txget g;
	store_t *s;
	size_t n;
	zdiag_t d;

	(void)state;
	s = open_store(false);
	agent(s, "RU-MOW", 64501, a);
	agent(s, "RU-MOW", 64501, b);
	for (int i = 0; i < 20; i++) {
		beat(s, a, T0 + i * MIN_US);
		if (i % 5 == 0)
			beat(s, b, T0 + i * MIN_US + 1);
	}
	n = beats(s, a, t, 32);
	assert_int_equal(n, STORE_BEATS_MAX);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(t[i], T0 + (int64_t)(i + 4) * MIN_US);
	n = beats(s, a, t, 5);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(t[i], T0 + (int64_t)(i + 15) * MIN_US);
	assert_int_equal(beats(s, a, t, 0), 0);
	/* b's four are untouched by a's trimming */
	n = beats(s, b, t, 32);
	assert_int_equal(n, 4);
	assert_int_equal(t[0], T0 + 1);
	assert_int_equal(t[3], T0 + 15 * MIN_US + 1);
	/* inside a transaction of the caller's */
	g.pk = a;
	assert_int_equal(store_tx_run(s, false, txget_fn, &g, "test", &d),
	    ZE_OK);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.t[0], T0 + 17 * MIN_US);
	assert_int_equal(g.t[2], T0 + 19 * MIN_US);
	/* an older time than all kept ones comes and goes at once */
	beat(s, a, T0 - MIN_US);
	assert_int_equal(beats(s, a, t, 32), STORE_BEATS_MAX);
	assert_int_equal(t[0], T0 + 4 * MIN_US);
	store_close(&s);
	assert_int_equal(raw_entries("beats"), STORE_BEATS_MAX + 4);
}

/* Several seen entries in one commit (a hello and a heartbeat of one
 * agent, and another agent's), a measurement commit without status, an
 * unenrolled agent, the same time twice. */
static void
t_what_counts(void **state)
{
	uint8_t a[32], b[32], stranger[32], id[STORE_ID_LEN], sig[64] = {0};
	struct store_seen sn[4];
	struct store_meas_in m;
	struct store_agent ag;
	enum store_put res;
	int64_t t[32];
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(false);
	agent(s, "RU-SPE", 64502, a);
	agent(s, "RU-SPE", 64502, b);
	agent(s, NULL, 0, stranger);
	/* a measurement of a, with a seen entry without status: no beat */
	store_id_at(T0, id);
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.agent = a;
	m.seq = 1;
	m.start_us = m.recv_us = m.time_us = T0;
	m.test = 1;
	m.body = (const uint8_t *)"x";
	m.body_len = 1;
	m.sig = sig;
	seen_of(&sn[0], a, T0 + 5, false);
	assert_int_equal(store_commit(s, &m, 1, &res, &sn[0], 1, &d), ZE_OK);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(beats(s, a, t, 32), 0);
	assert_int_equal(store_agent_get(s, a, &ag, &d), ZE_OK);
	assert_int_equal(ag.last_seen_us, T0 + 5);	/* it was recorded */
	/* the unenrolled key's heartbeat: nothing (and no record) */
	beat(s, stranger, T0 + MIN_US);
	assert_int_equal(beats(s, stranger, t, 32), 0);
	assert_int_equal(store_agent_get(s, stranger, &ag, &d), ZE_NOTFOUND);
	/* one commit: a twice at different times, b, a again at the same
	 * time as its first */
	seen_of(&sn[0], a, T0 + 2 * MIN_US, true);
	seen_of(&sn[1], b, T0 + 2 * MIN_US, true);
	seen_of(&sn[2], a, T0 + 3 * MIN_US, true);
	seen_of(&sn[3], a, T0 + 2 * MIN_US, true);
	assert_int_equal(store_commit(s, NULL, 0, NULL, sn, 4, &d), ZE_OK);
	assert_int_equal(beats(s, a, t, 32), 2);
	assert_int_equal(t[0], T0 + 2 * MIN_US);
	assert_int_equal(t[1], T0 + 3 * MIN_US);
	/* and the same time again in a later commit */
	beat(s, a, T0 + 3 * MIN_US);
	assert_int_equal(beats(s, a, t, 32), 2);
	assert_int_equal(beats(s, b, t, 32), 1);
	assert_int_equal(t[0], T0 + 2 * MIN_US);
	store_close(&s);
	assert_int_equal(raw_entries("beats"), 3);
}

/* --- silence */

struct seen_sil {
	struct store_silence p[16];
	size_t n;
	int stop_at;		/* return 7 at this call (1-based); 0: never */
};

static int
collect(const struct store_silence *p, void *arg)
{
	struct seen_sil *c = arg;

	assert_true(c->n < 16);
	c->p[c->n++] = *p;
	return c->stop_at != 0 && (int)c->n == c->stop_at ? 7 : 0;
}

static void
sil(struct store_silence *p, const char *region, uint32_t asn, int64_t start,
    int64_t end, uint32_t agents)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->region, sizeof(p->region), "%s", region);
	p->asn = asn;
	p->start_us = start;
	p->end_us = end;
	p->agents = agents;
}

struct putarg {
	const struct store_silence *p;
	size_t n;
};

static int
put_fn(store_tx_t *tx, void *arg)
{
	struct putarg *a = arg;

	for (size_t i = 0; i < a->n; i++)
		if (store_tx_silence_put(tx, &a->p[i]) != 0)
			return 1;
	return 0;
}

static void
put(store_t *s, const struct store_silence *p, size_t n)
{
	struct putarg a = {p, n};
	zdiag_t d;

	if (store_tx_run(s, true, put_fn, &a, "silence put", &d) != ZE_OK)
		fail_msg("silence put: %s", d.text);
}

static struct seen_sil
walk(store_t *s, const char *region, uint32_t asn, int64_t t0, int64_t t1,
    int stop_at)
{
	struct seen_sil c = {.stop_at = stop_at};
	zdiag_t d;

	if (store_silence_iter(s, region, asn, t0, t1, collect, &c, &d) !=
	    ZE_OK)
		fail_msg("store_silence_iter: %s", d.text);
	return c;
}

struct txwalk {
	int stop_at;
	int ret;
	struct seen_sil c;
};

static int
txwalk_fn(store_tx_t *tx, void *arg)
{
	struct txwalk *w = arg;

	w->c.stop_at = w->stop_at;
	w->c.n = 0;
	w->ret = store_tx_silence_iter(tx, NULL, 0, 0, INT64_MAX, collect,
	    &w->c);
	return w->ret < 0;
}

/* The four periods every silence test below starts from. */
static void
four_periods(store_t *s)
{
	struct store_silence p[5];

	/* RU-MOW 64501: closed [1h, 2h), open from 5h; one of 64502;
	 * RU-KDA 64501: closed [3h, 4h) */
	sil(&p[0], "RU-MOW", 64501, T0 + 60 * MIN_US, T0 + 120 * MIN_US, 3);
	sil(&p[1], "RU-MOW", 64501, T0 + 300 * MIN_US, T0 + 301 * MIN_US, 1);
	sil(&p[2], "RU-MOW", 64502, T0 + 60 * MIN_US, 0, 2);
	sil(&p[3], "RU-KDA", 64501, T0 + 180 * MIN_US, T0 + 240 * MIN_US, 4);
	/* the same key again replaces: the 5h one becomes open with 5 */
	sil(&p[4], "RU-MOW", 64501, T0 + 300 * MIN_US, 0, 5);
	put(s, p, 5);
}

static void
t_silence(void **state)
{
	struct seen_sil c;
	struct txwalk w = {0};
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(false);
	four_periods(s);
	/* everything of RU-MOW 64501 */
	c = walk(s, "RU-MOW", 64501, 0, INT64_MAX, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.p[0].region, "RU-MOW");
	assert_int_equal(c.p[0].asn, 64501);
	assert_int_equal(c.p[0].start_us, T0 + 60 * MIN_US);
	assert_int_equal(c.p[0].end_us, T0 + 120 * MIN_US);
	assert_int_equal(c.p[0].agents, 3);
	assert_int_equal(c.p[1].start_us, T0 + 300 * MIN_US);
	assert_int_equal(c.p[1].end_us, 0);	/* replaced */
	assert_int_equal(c.p[1].agents, 5);
	/* the closed one ended before t0 (its end is not inside): only the
	 * open one, for any t1 after its start */
	c = walk(s, "RU-MOW", 64501, T0 + 120 * MIN_US, T0 + 300 * MIN_US + 1,
	    0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0].start_us, T0 + 300 * MIN_US);
	c = walk(s, "RU-MOW", 64501, T0 + 10000 * MIN_US,
	    T0 + 10001 * MIN_US, 0);
	assert_int_equal(c.n, 1);
	/* a window before the open one's start, and one ending at it */
	c = walk(s, "RU-MOW", 64501, T0 + 200 * MIN_US, T0 + 300 * MIN_US, 0);
	assert_int_equal(c.n, 0);
	/* the closed one overlaps a window inside it */
	c = walk(s, "RU-MOW", 64501, T0 + 61 * MIN_US, T0 + 62 * MIN_US, 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0].agents, 3);
	/* another ASN and region: their own only; none of an unknown one */
	c = walk(s, "RU-MOW", 64502, 0, INT64_MAX, 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0].agents, 2);
	assert_int_equal(walk(s, "RU-SPE", 64501, 0, INT64_MAX, 0).n, 0);
	assert_int_equal(walk(s, "RU-MOW", 64501, 5, 5, 0).n, 0);
	/* NULL: every region and ASN in key order (region, ASN, start) */
	c = walk(s, NULL, 0, 0, INT64_MAX, 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.p[0].region, "RU-KDA");
	assert_string_equal(c.p[1].region, "RU-MOW");
	assert_int_equal(c.p[1].asn, 64501);
	assert_int_equal(c.p[2].start_us, T0 + 300 * MIN_US);
	assert_int_equal(c.p[3].asn, 64502);
	/* NULL with a window: the overlap rule still holds */
	c = walk(s, NULL, 0, T0 + 150 * MIN_US, T0 + 200 * MIN_US, 0);
	assert_int_equal(c.n, 2);	/* RU-KDA's, RU-MOW 64502's open */
	assert_string_equal(c.p[0].region, "RU-KDA");
	assert_int_equal(c.p[1].asn, 64502);
	/* fn's non-zero return stops the walk and is returned */
	w.stop_at = 2;
	assert_int_equal(store_tx_run(s, false, txwalk_fn, &w, "test", &d),
	    ZE_OK);
	assert_int_equal(w.ret, 7);
	assert_int_equal(w.c.n, 2);
	c = walk(s, NULL, 0, 0, INT64_MAX, 3);	/* ZE_OK when stopped */
	assert_int_equal(c.n, 3);
	w.stop_at = 0;
	assert_int_equal(store_tx_run(s, false, txwalk_fn, &w, "test", &d),
	    ZE_OK);
	assert_int_equal(w.ret, 0);
	assert_int_equal(w.c.n, 4);
	store_close(&s);
}

/* A reanalysis (rollup_reset) and a reopen keep both; a read-only
 * opener (zondctl) reads them. */
static void
t_kept(void **state)
{
	uint8_t a[32];
	int64_t t[32];
	uint64_t queued;
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(false);
	agent(s, "RU-MOW", 64501, a);
	for (int i = 0; i < 3; i++)
		beat(s, a, T0 + i * MIN_US);
	four_periods(s);
	assert_int_equal(rollup_reset(s, &queued, &d), ZE_OK);
	assert_int_equal(beats(s, a, t, 32), 3);
	assert_int_equal(walk(s, NULL, 0, 0, INT64_MAX, 0).n, 4);
	store_close(&s);
	s = open_store(false);
	assert_int_equal(beats(s, a, t, 32), 3);
	assert_int_equal(t[2], T0 + 2 * MIN_US);
	assert_int_equal(walk(s, NULL, 0, 0, INT64_MAX, 0).n, 4);
	store_close(&s);
	s = open_store(true);
	assert_int_equal(beats(s, a, t, 32), 3);
	assert_int_equal(walk(s, "RU-KDA", 64501, 0, INT64_MAX, 0).n, 1);
	store_close(&s);
}

/* A store made before beats and silence: read-only it reads as none;
 * opened for writing it gets them and records. */
static void
t_older_store(void **state)
{
	uint8_t a[32];
	int64_t t[32];
	store_t *s;

	(void)state;
	s = open_store(false);
	agent(s, "RU-MOW", 64501, a);
	store_close(&s);
	raw_write("beats", NULL, 0, NULL, 0, true);
	raw_write("silence", NULL, 0, NULL, 0, true);
	s = open_store(true);
	assert_int_equal(beats(s, a, t, 32), 0);
	assert_int_equal(walk(s, NULL, 0, 0, INT64_MAX, 0).n, 0);
	store_close(&s);
	s = open_store(false);
	beat(s, a, T0);
	assert_int_equal(beats(s, a, t, 32), 1);
	four_periods(s);
	assert_int_equal(walk(s, NULL, 0, 0, INT64_MAX, 0).n, 4);
	store_close(&s);
}

static int
extra_get(store_tx_t *tx, void *arg)
{
	int64_t t[STORE_BEATS_MAX];
	size_t n;

	return store_tx_beats_get(tx, arg, t, STORE_BEATS_MAX, &n) < 0;
}

/* Records of a wrong size: a storage error naming the database (also
 * from inside a commit, where the analyzer reads), and the store goes on
 * working. */
static void
t_not_understood(void **state)
{
	uint8_t a[32], key[40], skey[20] = "RU-MOW\0\0\0\0\xfb\xf5";
	struct seen_sil c = {0};
	struct store_extra extra = {extra_get, NULL};
	int64_t t[32];
	size_t n;
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(false);
	agent(s, "RU-MOW", 64501, a);
	beat(s, a, T0);
	store_close(&s);
	memcpy(key, a, 32);
	memset(key + 32, 0, 8);
	raw_write("beats", key, 40, "v", 1, false);	/* value not empty */
	raw_write("silence", skey, 20, "short", 5, false);
	s = open_store(false);
	assert_int_equal(store_beats_get(s, a, t, 32, &n, &d), ZE_STORAGE);
	assert_non_null(strstr(d.text, "beats: a key of 40 bytes with a "
	    "value of 1"));
	assert_int_equal(n, 0);
	assert_int_equal(store_silence_iter(s, "RU-MOW", 64501, 0, INT64_MAX,
	    collect, &c, &d), ZE_STORAGE);
	assert_non_null(strstr(d.text, "silence: a key of 20 bytes with a "
	    "value of 5"));
	extra.arg = a;
	assert_int_equal(store_commit_with(s, NULL, 0, NULL, NULL, 0, &extra,
	    &d), ZE_STORAGE);
	assert_non_null(strstr(d.text, "committing measurements: beats: a "
	    "key of 40 bytes with a value of 1"));
	/* heartbeats still commit (the writer does not trip on it) */
	beat(s, a, T0 + MIN_US);
	assert_int_equal(store_commit_with(s, NULL, 0, NULL, NULL, 0, NULL,
	    &d), ZE_OK);
	store_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_keep_newest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_what_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(t_older_store, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_not_understood, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
