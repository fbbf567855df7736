/*
 * test_store — the store and registry through their API on a real LMDB
 * environment in a temporary directory: enrolment validation, group
 * commit with duplicates inside one call and across calls, the read API,
 * map growth, map_max reached (ZE_FULL, nothing half-written, works
 * again once the limit is raised), agent records that lag under load
 * (and their recount after a crash), and the data file kept written
 * ahead of the pages in use (prefill).
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
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "store.h"
#include "storeread.h"
#include "testagent.h"
#include "wire.h"
#include "ztime.h"

#define SEED "unit"

struct item {
	zbuf_t body;
	uint8_t sig[KEY_SIG_LEN];
	wire_meas_t *m;
};

static char dir[64];

static void
rmdir_all(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zond-store-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir_all();
	return 0;
}

static store_t *
open_store(int64_t map_size, int64_t map_max)
{
	struct store_opts o = {false, map_size, map_max, 0};
	store_t *s = NULL;
	zdiag_t d;

	if (store_open(dir, &o, &s, &d) != ZE_OK)
		fail_msg("store_open: %s", d.text);
	return s;
}

static zkey_t *
enrolled(store_t *s, unsigned idx)
{
	char hex[KEY_HEX_LEN + 1];
	zkey_t *k;
	zdiag_t d;

	assert_int_equal(ta_key(SEED, idx, &k), ZE_OK);
	key_public_hex(k, hex);
	if (registry_enroll(s, hex, "RU-MOW", "AS12389", "unit", "control",
	    NULL, &d) != ZE_OK)
		fail_msg("enroll: %s", d.text);
	return k;
}

static void
make(zkey_t *k, unsigned idx, uint64_t seq, struct item *it,
    struct store_meas_in *in)
{
	memset(in, 0, sizeof(*in));
	zbuf_init(&it->body, WIRE_MAX_MEASUREMENT);
	assert_int_equal(ta_measurement(k, SEED, idx, seq,
	    ztime_now_us() - 1000000, NULL, 0, &it->body, it->sig), ZE_OK);
	assert_int_equal(wire_meas_decode(it->body.data, it->body.len, &it->m,
	    NULL), ZE_OK);
	in->id = it->m->id.data;
	in->agent = key_public(k);
	in->seq = seq;
	in->start_us = it->m->start_us;
	in->recv_us = ztime_now_us();
	in->test = (uint32_t)it->m->test;
	in->body = it->body.data;
	in->body_len = it->body.len;
	in->sig = it->sig;
}

static void
unmake(struct item *it)
{
	zbuf_free(&it->body);
	wire_meas_free(it->m);
}

static void
t_registry_validation(void **state)
{
	enum store_role r;
	uint32_t asn;

	(void)state;
	assert_int_equal(registry_check_region("RU-MOW", NULL), ZE_OK);
	assert_int_equal(registry_check_region("UA-43", NULL), ZE_OK);
	assert_int_equal(registry_check_region("RU-A", NULL), ZE_OK);
	assert_int_not_equal(registry_check_region("ru-mow", NULL), ZE_OK);
	assert_int_not_equal(registry_check_region("RUMOW", NULL), ZE_OK);
	assert_int_not_equal(registry_check_region("RU-MOSC", NULL), ZE_OK);
	assert_int_not_equal(registry_check_region("RU-", NULL), ZE_OK);
	assert_int_not_equal(registry_check_region("", NULL), ZE_OK);
	assert_int_equal(registry_parse_asn("AS8359", &asn, NULL), ZE_OK);
	assert_int_equal(asn, 8359);
	assert_int_equal(registry_parse_asn("4294967295", &asn, NULL), ZE_OK);
	assert_int_not_equal(registry_parse_asn("4294967296", &asn, NULL),
	    ZE_OK);
	assert_int_not_equal(registry_parse_asn("0", &asn, NULL), ZE_OK);
	assert_int_not_equal(registry_parse_asn("12a", &asn, NULL), ZE_OK);
	assert_int_not_equal(registry_parse_asn("", &asn, NULL), ZE_OK);
	assert_int_equal(registry_parse_role("control", &r, NULL), ZE_OK);
	assert_int_equal(r, STORE_ROLE_CONTROL);
	assert_int_not_equal(registry_parse_role("Probe", &r, NULL), ZE_OK);
	assert_int_equal(registry_parse_role("control-domestic", &r, NULL),
	    ZE_OK);
	assert_int_equal(r, STORE_ROLE_DOMESTIC);
	assert_string_equal(store_role_name(r), "control-domestic");
	assert_int_equal(store_role_of(2), STORE_ROLE_DOMESTIC);
	assert_int_equal(store_role_of(9), STORE_ROLE_PROBE);
	assert_int_not_equal(registry_parse_role("domestic", &r, NULL),
	    ZE_OK);
	assert_int_not_equal(registry_check_name("a\nb", NULL), ZE_OK);
}

static int
count_cb(const struct store_meas *m, void *arg)
{
	uint64_t *n = arg;

	(void)m;
	(*n)++;
	return 0;
}

static void
t_commit_dedup_read(void **state)
{
	struct store_meas_in in[4];
	struct item it[3];
	enum store_put res[4];
	struct store_counts c;
	struct store_agent a;
	struct store_meas got;
	struct store_seen seen;
	uint8_t id[STORE_ID_LEN], pk[32], curve[32];
	uint64_t n = 0;
	zbuf_t buf;
	zkey_t *k, *other;
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(1 << 20, 0);
	k = enrolled(s, 1);
	other = enrolled(s, 2);
	make(k, 1, 1, &it[0], &in[0]);
	make(k, 1, 2, &it[1], &in[1]);
	in[2] = in[0];				/* the same one twice */
	make(other, 2, 1, &it[2], &in[3]);
	memset(&seen, 0, sizeof(seen));
	memcpy(seen.agent, key_public(k), 32);
	seen.seen_us = ztime_now_us();
	seen.has_status = true;
	memcpy(seen.version, "9.9", 4);
	seen.backlog = 11;
	assert_int_equal(store_commit(s, in, 4, res, &seen, 1, &d), ZE_OK);
	assert_int_equal(res[0], STORE_STORED);
	assert_int_equal(res[1], STORE_STORED);
	assert_int_equal(res[2], STORE_DUP);
	assert_int_equal(res[3], STORE_STORED);
	/* again: all duplicates */
	assert_int_equal(store_commit(s, in, 2, res, NULL, 0, &d), ZE_OK);
	assert_int_equal(res[0], STORE_DUP);
	assert_int_equal(res[1], STORE_DUP);
	assert_int_equal(store_counts(s, &c, &d), ZE_OK);
	assert_int_equal(c.meas, 3);
	assert_int_equal(c.dedup, 3);
	assert_int_equal(c.agents, 2);
	/* a new seq carrying a stored id: not stored, and its seq stays
	 * free (no dedup entry left behind), in a later commit and next to
	 * a new one in the same commit */
	{
		struct store_meas_in reuse[2] = {in[1], in[1]};
		struct item fresh;

		reuse[0].seq = 7;
		make(k, 1, 8, &fresh, &reuse[1]);
		assert_int_equal(store_commit(s, reuse, 2, res, NULL, 0, &d),
		    ZE_OK);
		assert_int_equal(res[0], STORE_DUP_ID);
		assert_int_equal(res[1], STORE_STORED);
		assert_int_equal(sr_lookup(s, key_public(k), 7, id,
		    NULL), ZE_NOTFOUND);
		reuse[1] = reuse[0];
		reuse[1].seq = 9;
		reuse[1].id = fresh.m->id.data;	/* the id stored just now */
		assert_int_equal(store_commit(s, reuse, 2, res, NULL, 0, &d),
		    ZE_OK);
		assert_int_equal(res[0], STORE_DUP_ID);
		assert_int_equal(res[1], STORE_DUP_ID);
		assert_int_equal(store_counts(s, &c, &d), ZE_OK);
		assert_int_equal(c.meas, 4);
		assert_int_equal(c.dedup, 4);
		/* agent 1 now has seqs 1, 2 and 8 */
		n = 0;
		assert_int_equal(sr_agent_iter(s, key_public(k),
		    count_cb, &n, &d), ZE_OK);
		assert_int_equal(n, 3);
		unmake(&fresh);
	}

	/* reads */
	n = 0;
	assert_int_equal(store_meas_iter(s, NULL, NULL, count_cb, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(sr_agent_iter(s, key_public(k), count_cb, &n,
	    &d), ZE_OK);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(store_meas_iter(s, in[1].id, NULL, count_cb, &n, &d),
	    ZE_OK);
	assert_true(n >= 1);
	assert_int_equal(sr_lookup(s, key_public(k), 2, id, &d), ZE_OK);
	assert_memory_equal(id, in[1].id, STORE_ID_LEN);
	assert_int_equal(sr_lookup(s, key_public(k), 3, id, NULL),
	    ZE_NOTFOUND);
	zbuf_init(&buf, 1 << 20);
	assert_int_equal(store_meas_get(s, id, &got, &buf, &d), ZE_OK);
	assert_int_equal(got.seq, 2);
	assert_int_equal(got.asn, 12389);
	assert_string_equal(got.region, "RU-MOW");
	assert_int_equal(got.role, STORE_ROLE_CONTROL);
	assert_int_equal(got.body_len, in[1].body_len);
	assert_memory_equal(got.body, in[1].body, got.body_len);
	assert_memory_equal(got.sig, in[1].sig, KEY_SIG_LEN);
	zbuf_free(&buf);

	/* registry */
	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	assert_int_equal(a.stored, 3);
	assert_int_equal(a.backlog, 11);
	assert_string_equal(a.version, "9.9");
	assert_true(a.enabled);
	assert_true(a.last_seen_us > 0);
	assert_int_equal(pubkey_to_curve(key_public(k), curve), ZE_OK);
	assert_int_equal(store_agent_by_curve(s, curve, pk, &d), ZE_OK);
	assert_memory_equal(pk, key_public(k), 32);
	assert_int_equal(store_agent_set_enabled(s, key_public(k), false, &d),
	    ZE_OK);
	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	assert_false(a.enabled);
	assert_int_equal(a.stored, 3);
	memset(pk, 7, sizeof(pk));
	assert_int_equal(store_agent_set_enabled(s, pk, true, NULL),
	    ZE_NOTFOUND);

	for (int i = 0; i < 3; i++)
		unmake(&it[i]);
	key_free(&k);
	key_free(&other);
	store_close(&s);
}

static void
t_map_max(void **state)
{
	enum { BATCH = 200 };
	struct store_meas_in in[BATCH];
	struct item it[BATCH];
	enum store_put res[BATCH];
	struct store_counts c, c2;
	uint64_t seq = 1, stored = 0;
	zkey_t *k;
	store_t *s;
	zdiag_t d;
	zerr_t e = ZE_OK;

	(void)state;
	s = open_store(1 << 20, 2 << 20);
	k = enrolled(s, 1);
	while (seq < 20000) {
		for (int i = 0; i < BATCH; i++)
			make(k, 1, seq + (uint64_t)i, &it[i], &in[i]);
		e = store_commit(s, in, BATCH, res, NULL, 0, &d);
		for (int i = 0; i < BATCH; i++)
			unmake(&it[i]);
		if (e != ZE_OK)
			break;
		stored += BATCH;
		seq += BATCH;
	}
	assert_int_equal(e, ZE_FULL);
	assert_non_null(strstr(d.text, "map_max"));
	assert_true(stored > 0);
	assert_int_equal(store_counts(s, &c, &d), ZE_OK);
	assert_int_equal(c.meas, stored);	/* nothing half-written */
	assert_int_equal(c.dedup, stored);
	assert_true(c.map_size <= 2 << 20);
	assert_true(c.map_size > 1 << 20);	/* it did grow */
	store_close(&s);

	/* the operator raises map_max: the same commit now works */
	s = open_store(1 << 20, 16 << 20);
	for (int i = 0; i < BATCH; i++)
		make(k, 1, seq + (uint64_t)i, &it[i], &in[i]);
	assert_int_equal(store_commit(s, in, BATCH, res, NULL, 0, &d), ZE_OK);
	for (int i = 0; i < BATCH; i++) {
		assert_int_equal(res[i], STORE_STORED);
		unmake(&it[i]);
	}
	assert_int_equal(store_counts(s, &c2, &d), ZE_OK);
	assert_int_equal(c2.meas, stored + BATCH);
	key_free(&k);
	store_close(&s);
}

static uint64_t
stored_of(store_t *s, const zkey_t *k)
{
	struct store_agent a;
	zdiag_t d;

	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	return a.stored;
}

/* Commit seqs first..first+n-1 of agents 0..na-1, interleaved. */
static void
commit_some(store_t *s, zkey_t **k, unsigned na, uint64_t first,
    unsigned n)
{
	struct item it[64];
	struct store_meas_in in[64];
	enum store_put res[64];
	size_t c = 0;
	zdiag_t d;

	assert_true(na * n <= 64);
	for (unsigned q = 0; q < n; q++)
		for (unsigned i = 0; i < na; i++, c++)
			make(k[i], i, first + q, &it[c], &in[c]);
	if (store_commit(s, in, c, res, NULL, 0, &d) != ZE_OK)
		fail_msg("commit: %s", d.text);
	for (size_t i = 0; i < c; i++) {
		assert_int_equal(res[i], STORE_STORED);
		unmake(&it[i]);
	}
}

/* Deferred agent records (the ingest under load): the counts stay behind
 * until a status update, a second later, or store_agents_flush; a crash
 * while they lag leaves them short, and store_agents_recount at the next
 * start puts them right. */
static void
t_agents_lag(void **state)
{
	store_t *s = open_store(0, 0);
	zkey_t *k[4];
	struct store_seen st;
	bool ran;
	uint64_t fixed;
	zdiag_t d;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		k[i] = enrolled(s, i);
	/* nothing lags: nothing to recount */
	assert_int_equal(store_agents_recount(s, &ran, &fixed, &d), ZE_OK);
	assert_false(ran);
	commit_some(s, k, 4, 1, 2);
	assert_int_equal(stored_of(s, k[0]), 2);
	store_agents_defer(s, true);
	assert_false(store_agents_lagging(s));
	commit_some(s, k, 4, 3, 3);
	commit_some(s, k, 4, 6, 1);
	assert_true(store_agents_lagging(s));
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(stored_of(s, k[i]), 2);
	/* a status update writes that agent's record at once */
	memset(&st, 0, sizeof(st));
	memcpy(st.agent, key_public(k[1]), STORE_PK_LEN);
	st.seen_us = ztime_now_us();
	st.has_status = true;
	if (store_commit(s, NULL, 0, NULL, &st, 1, &d) != ZE_OK)
		fail_msg("commit: %s", d.text);
	assert_int_equal(stored_of(s, k[1]), 6);
	assert_int_equal(stored_of(s, k[0]), 2);
	/* a second later the next commit writes all that waited so long */
	usleep(1100000);
	commit_some(s, k, 1, 7, 1);
	assert_int_equal(stored_of(s, k[0]), 7);
	assert_int_equal(stored_of(s, k[2]), 6);
	assert_int_equal(stored_of(s, k[3]), 6);
	assert_false(store_agents_lagging(s));
	/* lagging again; the flush writes everything */
	commit_some(s, k, 4, 8, 1);
	assert_int_equal(stored_of(s, k[2]), 6);
	assert_true(store_agents_lagging(s));
	assert_int_equal(store_agents_flush(s, &d), ZE_OK);
	assert_false(store_agents_lagging(s));
	assert_int_equal(stored_of(s, k[0]), 8);
	assert_int_equal(stored_of(s, k[2]), 7);
	assert_int_equal(store_agents_recount(s, &ran, &fixed, &d), ZE_OK);
	assert_false(ran);

	/* lagging, then gone without writing them (a crash) */
	commit_some(s, k, 4, 9, 2);
	assert_int_equal(stored_of(s, k[3]), 7);
	store_close(&s);
	s = open_store(0, 0);
	assert_int_equal(stored_of(s, k[3]), 7);
	assert_int_equal(store_agents_recount(s, &ran, &fixed, &d), ZE_OK);
	assert_true(ran);
	assert_int_equal(fixed, 4);
	assert_int_equal(stored_of(s, k[0]), 10);
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(stored_of(s, k[i]), 9);
	assert_int_equal(store_agents_recount(s, &ran, &fixed, &d), ZE_OK);
	assert_false(ran);
	for (unsigned i = 0; i < 4; i++)
		key_free(&k[i]);
	store_close(&s);
}

static int64_t
file_size(void)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	assert_int_equal(stat(p, &st), 0);
	return (int64_t)st.st_size;
}

static void
t_prefill(void **state)
{
	enum { BATCH = 200, PREFILL = 1 << 20 };
	struct store_opts o = {false, 1 << 20, 0, PREFILL};
	struct store_meas_in in[BATCH];
	struct item it[BATCH];
	enum store_put res[BATCH];
	struct store_counts c;
	uint64_t seq = 1, n = 0;
	zkey_t *k;
	store_t *s = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(store_open(dir, &o, &s, &d), ZE_OK);
	k = enrolled(s, 1);
	assert_int_equal(store_counts(s, &c, &d), ZE_OK);
	assert_true(file_size() >= (int64_t)c.map_used + PREFILL / 2);
	/* ~5 MB of measurements: the map grows past its 1 MiB start and the
	 * file stays written ahead of the pages in use */
	while (seq < 16000) {
		for (int i = 0; i < BATCH; i++)
			make(k, 1, seq + (uint64_t)i, &it[i], &in[i]);
		assert_int_equal(store_commit(s, in, BATCH, res, NULL, 0, &d),
		    ZE_OK);
		for (int i = 0; i < BATCH; i++) {
			assert_int_equal(res[i], STORE_STORED);
			unmake(&it[i]);
		}
		seq += BATCH;
		assert_int_equal(store_counts(s, &c, &d), ZE_OK);
		assert_true(file_size() >= (int64_t)c.map_used + PREFILL / 2);
		assert_true(file_size() <= (int64_t)c.map_used + PREFILL);
	}
	assert_true(c.map_used > 4 * PREFILL);
	store_close(&s);

	/* without prefill (zondctl): every measurement there, file as is */
	s = open_store(0, 0);
	assert_int_equal(store_counts(s, &c, &d), ZE_OK);
	assert_int_equal(c.meas, seq - 1);
	assert_int_equal(store_meas_iter(s, NULL, NULL, count_cb, &n, &d),
	    ZE_OK);
	assert_int_equal(n, seq - 1);
	store_close(&s);

	key_free(&k);

	/* a new store: written ahead, but never past map_max */
	rmdir_all();
	assert_int_equal(mkdir(dir, 0700), 0);
	o.map_size = o.map_max = PREFILL / 2;
	assert_int_equal(store_open(dir, &o, &s, &d), ZE_OK);
	assert_int_equal(store_counts(s, &c, &d), ZE_OK);
	assert_true(c.map_used < PREFILL / 8);
	assert_int_equal(file_size(), PREFILL / 2);
	store_close(&s);
}

/* Rewrite the record of key k in database db of the closed store as its
 * format-1 form (the layout before issue 19: docs/STORAGE.md), straight
 * through LMDB: what a store written by an older aggregator holds. */
static void
to_format1(const char *db, const uint8_t *k, size_t klen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = {klen, (void *)(uintptr_t)k}, v, nv;
	uint8_t rec[4096];

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	assert_true(v.mv_size <= sizeof(rec));
	if (strcmp(db, "meas") == 0) {
		/* 152-byte header, placed start at 144: drop it */
		assert_int_equal(((const uint8_t *)v.mv_data)[0], 2);
		memcpy(rec, v.mv_data, 144);
		memcpy(rec + 144, (const uint8_t *)v.mv_data + 152,
		    v.mv_size - 152);
		rec[0] = 1;
		rec[2] = 0;
		nv.mv_size = v.mv_size - 8;
	} else {
		/* 176 bytes, the clock offset at 168: 168 bytes */
		assert_int_equal(v.mv_size, 176);
		memcpy(rec, v.mv_data, 168);
		rec[0] = 1;
		rec[3] = 0;
		nv.mv_size = 168;
	}
	nv.mv_data = rec;
	assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The placed start and the clock offset (PROTOCOL.md "Clock") are stored
 * and read back; records of format 1 still read (as placed at their
 * signed start, no offset) and are rewritten in format 2. */
static void
t_clock_formats(void **state)
{
	struct store_meas_in in[2];
	struct item it[2];
	enum store_put res[2];
	struct store_seen seen;
	struct store_meas got;
	struct store_agent a;
	uint8_t id0[STORE_ID_LEN];
	int64_t start0;
	zbuf_t buf;
	zkey_t *k;
	store_t *s;
	zdiag_t d;

	(void)state;
	s = open_store(1 << 20, 0);
	k = enrolled(s, 1);
	make(k, 1, 1, &it[0], &in[0]);
	make(k, 1, 2, &it[1], &in[1]);
	/* placed 3 days after its signed start (a Pi 3 days slow) */
	in[0].time_us = in[0].start_us + 259200LL * 1000000;
	in[0].time_by = 1;
	memcpy(id0, in[0].id, STORE_ID_LEN);
	start0 = in[0].start_us;
	memset(&seen, 0, sizeof(seen));
	memcpy(seen.agent, key_public(k), 32);
	seen.seen_us = ztime_now_us();
	seen.has_status = true;
	seen.has_clock = true;
	seen.clock_offset_us = 259200LL * 1000000 + 17;
	assert_int_equal(store_commit(s, in, 2, res, &seen, 1, &d), ZE_OK);
	zbuf_init(&buf, 1 << 16);
	assert_int_equal(store_meas_get(s, id0, &got, &buf, &d), ZE_OK);
	assert_true(got.start_us == start0);
	assert_true(got.time_us == start0 + 259200LL * 1000000);
	assert_int_equal(got.time_by, 1);
	assert_int_equal(store_meas_get(s, in[1].id, &got, &buf, &d), ZE_OK);
	/* a caller that knows nothing of clocks: placed at its start */
	assert_true(got.time_us == got.start_us && got.time_by == 0);
	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	assert_true(a.has_clock && a.clock_offset_us == 259200LL * 1000000 + 17);
	store_close(&s);

	to_format1("meas", id0, STORE_ID_LEN);
	to_format1("agents", key_public(k), 32);
	s = open_store(0, 0);
	assert_int_equal(store_meas_get(s, id0, &got, &buf, &d), ZE_OK);
	assert_true(got.start_us == start0 && got.time_us == start0);
	assert_int_equal(got.time_by, 0);
	assert_memory_equal(got.body, it[0].body.data, it[0].body.len);
	assert_int_equal(got.body_len, it[0].body.len);
	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	assert_false(a.has_clock);
	assert_string_equal(a.region, "RU-MOW");
	/* disabling rewrites the old record in the new format */
	assert_int_equal(store_agent_set_enabled(s, key_public(k), false, &d),
	    ZE_OK);
	assert_int_equal(store_agent_get(s, key_public(k), &a, &d), ZE_OK);
	assert_false(a.enabled);
	assert_string_equal(a.region, "RU-MOW");
	store_close(&s);
	zbuf_free(&buf);
	key_free(&k);
	unmake(&it[0]);
	unmake(&it[1]);
}

static void
t_readonly_missing(void **state)
{
	struct store_opts o = {true, 0, 0, 0};
	store_t *s = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(store_open("/nonexistent/zond", &o, &s, &d),
	    ZE_NOTFOUND);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_registry_validation),
		cmocka_unit_test_setup_teardown(t_commit_dedup_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_map_max, setup, teardown),
		cmocka_unit_test_setup_teardown(t_agents_lag, setup, teardown),
		cmocka_unit_test_setup_teardown(t_prefill, setup, teardown),
		cmocka_unit_test(t_readonly_missing),
		cmocka_unit_test_setup_teardown(t_clock_formats, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
