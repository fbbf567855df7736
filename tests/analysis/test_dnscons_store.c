/*
 * test_dnscons_store — the IP-to-ASN table reaches the verdicts of stored
 * measurements: a real LMDB store in a temporary directory holds DNS
 * measurements of a CDN name whose probe answers lie in the control's
 * ASN but not its /24.  The analyzer's roll-ups (rollup_opts.v.asn, as
 * analyzer_opts sets it from [analysis] ip_asn) and the on-demand
 * analysis of exports and the HTTP API (analyze_opts.v.asn) call the cell
 * ok with the table, and blocked/dns without it (the /24 stand-in with a
 * single control), so reanalysis with a table clears a false alarm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "ipasn.h"
#include "mk.h"
#include "rollup.h"
#include "store.h"
#include "zid.h"

#define MIN_US (60LL * 1000000)
#define H_US STORE_HOUR_US
#define T0 1767225600000000LL	/* 2026-01-01T00:00:00Z */
#define NAGENTS 3		/* 0: control DE-BE; 1, 2: RU-MOW/64501 */

static const char TABLE[] =
    "93.184.216.0\t93.184.223.255\t15133\tUS\tCDN-TWO\n"
    "2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t15133\tUS\t"
    "CDN-TWO\n";

struct fx {
	char dir[64];
	store_t *s;
	uint8_t pk[NAGENTS][32];
	uint64_t seq[NAGENTS];
	uint32_t n;
	struct ipasn *t;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts so = {0};
	zdiag_t d;

	assert_non_null(f);
	assert_int_equal(ipasn_parse("table.tsv", TABLE, sizeof(TABLE) - 1,
	    &f->t, &d), ZE_OK);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zond-dnscons-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &so, &f->s, &d), ZE_OK);
	for (int i = 0; i < NAGENTS; i++) {
		struct store_agent a;
		uint8_t sk[64];
		bool created;

		crypto_sign_keypair(f->pk[i], sk);
		memset(&a, 0, sizeof(a));
		memcpy(a.pk, f->pk[i], 32);
		snprintf(a.region, sizeof(a.region), "%s", i == 0 ? "DE-BE" :
		    "RU-MOW");
		a.asn = i == 0 ? 64999 : 64501;
		a.role = i == 0 ? STORE_ROLE_CONTROL : STORE_ROLE_PROBE;
		a.enabled = true;
		snprintf(a.name, sizeof(a.name), "a%d", i);
		assert_int_equal(store_agent_enroll(f->s, &a, &created, &d),
		    ZE_OK);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	ipasn_free(&f->t);
	free(f);
	return 0;
}

/* Store agent i's DNS measurement answered addr at start. */
static void
put_dns(struct fx *f, int i, const char *addr, int64_t start)
{
	const char *v[] = {addr, NULL};
	meas_t *m = mk(TK(DNS), "cdn.example", i, FL(NONE));
	struct store_meas_in in;
	enum store_put res;
	uint8_t id[16], sig[64] = {0}, *body;
	zid_t z;
	zdiag_t d;
	size_t n;

	mk_dns(m, 0, v);
	zid_floor(start, &z);
	memcpy(id, z.b, 16);
	f->n++;
	id[14] = (uint8_t)(f->n >> 8);
	id[15] = (uint8_t)f->n;
	memcpy(m->agent.data, f->pk[i], 32);
	m->start_us = start;
	m->service = strdup("web");
	m->has_seq = 1;
	m->seq = f->seq[i] + 1;
	m->has_id = 1;
	m->id.len = 16;
	m->id.data = malloc(16);
	assert_non_null(m->service);
	assert_non_null(m->id.data);
	memcpy(m->id.data, id, 16);
	n = zond__v1__measurement__get_packed_size(m);
	assert_non_null(body = malloc(n));
	zond__v1__measurement__pack(m, body);
	memset(&in, 0, sizeof(in));
	in.id = id;
	in.agent = f->pk[i];
	in.seq = ++f->seq[i];
	in.start_us = start;
	in.recv_us = start + 1000000;
	in.test = m->test;
	in.thash = store_target_hash(m->target);
	in.body = body;
	in.body_len = n;
	in.sig = sig;
	assert_int_equal(store_commit(f->s, &in, 1, &res, NULL, 0, &d), ZE_OK);
	assert_int_equal(res, STORE_STORED);
	free(body);
	mk_free(m);
}

/* The RU-MOW cell of the roll-ups, judged with table t (or none). */
static void
rollup_cell(struct fx *f, const struct ipasn *t, cell_verdict_t want,
    method_t meth)
{
	struct rollup_opts o;
	struct rollup_stats st;
	uint64_t pend, nq;
	cell_t *c = NULL;
	size_t n;
	zdiag_t d;

	rollup_opts_default(&o);
	o.c.min_measurements = 1;
	o.v.asn = t;
	assert_int_equal(rollup_reset(f->s, &nq, &d), ZE_OK);
	memset(&st, 0, sizeof(st));
	assert_int_equal(rollup_drain(f->s, &o, T0 + 3 * H_US, &st, &d),
	    ZE_OK);
	assert_int_equal(st.judged, 6);
	assert_int_equal(rollup_map(f->s, T0, T0 + H_US, NULL, &o.c, &c, &n,
	    &pend, &d), ZE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].region, "RU-MOW");
	if (c[0].verdict != want || c[0].method != meth)
		fail_msg("roll-up cell %s/%s, want %s/%s",
		    cell_verdict_name(c[0].verdict),
		    method_name(c[0].method) ? method_name(c[0].method) : "-",
		    cell_verdict_name(want),
		    method_name(meth) ? method_name(meth) : "-");
	rollup_cells_free(c, n);
}

/* The same cell from the on-demand analysis (exports, HTTP API). */
static void
demand_cell(struct fx *f, const struct ipasn *t, cell_verdict_t want)
{
	struct analyze_opts ao;
	const cell_t *c;
	analysis_t *a = NULL;
	size_t n;
	zdiag_t d;

	analyze_opts_default(&ao);
	ao.c.min_measurements = 1;
	ao.now_us = T0 + 3 * H_US;
	ao.v.asn = t;
	assert_int_equal(analyze_range(f->s, T0, T0 + H_US, &ao, &a, &d),
	    ZE_OK);
	c = analysis_cells(a, &n);
	assert_int_equal(n, 1);
	if (c[0].verdict != want)
		fail_msg("on-demand cell %s, want %s",
		    cell_verdict_name(c[0].verdict), cell_verdict_name(want));
	analysis_free(&a);
}

static void
t_table_clears_cdn(void **state)
{
	struct fx *f = *state;

	/* the control's answer and the probes' share ASN 15133, not a /24 */
	put_dns(f, 0, "93.184.216.34", T0 + 15 * MIN_US);
	for (int k = 1; k <= 3; k++) {
		put_dns(f, 1, "93.184.220.7", T0 + k * 10 * MIN_US);
		put_dns(f, 2, "93.184.221.9", T0 + k * 10 * MIN_US + 5000);
	}
	rollup_cell(f, NULL, CELL_BLOCKED, METHOD_DNS);
	demand_cell(f, NULL, CELL_BLOCKED);
	/* reanalysis with the table: the false alarm goes */
	rollup_cell(f, f->t, CELL_OK, METHOD_NONE);
	demand_cell(f, f->t, CELL_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_table_clears_cdn, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
