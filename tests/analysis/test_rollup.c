/*
 * test_rollup — the analyzer's incremental roll-ups (aggregator/rollup.c)
 * on a real LMDB store in a temporary directory: measurements wait for
 * control data; provisional verdicts are corrected when the control window
 * closes; pending ones expire; the map read from roll-ups equals the
 * on-demand analysis of the same measurements; reanalysis rebuilds the
 * same map and events, also while measurements keep arriving, and an
 * older store's derived data is rebuilt; two analyzers at once count
 * nothing twice; a burst of QUIC measurements costs linear work; events
 * follow hour states (also when late data changes an older hour) and are
 * queued for the webhook only when recent; one region's roll-ups sought
 * (store_tx_rollup_iter with a region) are exactly those a walk of every
 * key finds, whatever the services' names and the regions around it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "export.h"
#include "ipasn.h"
#include "map.h"
#include "mk.h"
#include "regime.h"
#include "rollup.h"
#include "store.h"
#include "zclock.h"
#include "zid.h"

#define MIN_US (60LL * 1000000)
#define H_US STORE_HOUR_US
#define T0 1767225600000000LL	/* 2026-01-01T00:00:00Z, an hour start */
#define NAGENTS 6		/* 1,2: RU-MOW/64501; 3,4: RU-SPE/64502;
				 * 5: RU-MOW/64501; 0: control DE-BE */

struct fx {
	char dir[64];
	store_t *s;
	uint8_t pk[NAGENTS][32];
	uint64_t seq[NAGENTS];
	uint32_t n;		/* ids handed out */
	uint8_t last[16];	/* the id put_meas stored last */
	uint8_t time_by;	/* what put_meas stores as its placement */
	struct rollup_opts o;
};

static int
setup(void **state)
{
	static const char *const region[NAGENTS] = {"DE-BE", "RU-MOW",
	    "RU-MOW", "RU-SPE", "RU-SPE", "RU-MOW"};
	static const uint32_t asn[NAGENTS] = {64999, 64501, 64501, 64502,
	    64502, 64501};
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts so = {0};
	zdiag_t d;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zond-rollup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &so, &f->s, &d), ZE_OK);
	for (int i = 0; i < NAGENTS; i++) {
		struct store_agent a;
		uint8_t sk[64];
		bool created;

		crypto_sign_keypair(f->pk[i], sk);
		memset(&a, 0, sizeof(a));
		memcpy(a.pk, f->pk[i], 32);
		snprintf(a.region, sizeof(a.region), "%s", region[i]);
		a.asn = asn[i];
		a.role = i == 0 ? STORE_ROLE_CONTROL : STORE_ROLE_PROBE;
		a.enabled = true;
		snprintf(a.name, sizeof(a.name), "a%d", i);
		assert_int_equal(store_agent_enroll(f->s, &a, &created, &d),
		    ZE_OK);
	}
	rollup_opts_default(&f->o);
	f->o.c.min_measurements = 1;
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
	free(f);
	return 0;
}

/* Store m (service svc; freed here) as agent i's measurement starting at
 * start. */
static void
put_meas(struct fx *f, int i, const char *svc, meas_t *m, int64_t start)
{
	struct store_meas_in in;
	enum store_put res;
	uint8_t id[16], sig[64] = {0};
	zid_t z;
	zdiag_t d;
	size_t n;
	uint8_t *body;

	zid_floor(start, &z);
	memcpy(id, z.b, 16);
	f->n++;
	id[12] = (uint8_t)(f->n >> 24);
	id[13] = (uint8_t)(f->n >> 16);
	id[14] = (uint8_t)(f->n >> 8);
	id[15] = (uint8_t)f->n;
	memcpy(m->agent.data, f->pk[i], 32);
	m->start_us = start;
	m->service = strdup(svc);
	m->has_seq = 1;
	m->seq = f->seq[i] + 1;
	m->has_id = 1;
	m->id.len = 16;
	m->id.data = malloc(16);
	assert_non_null(m->service);
	assert_non_null(m->id.data);
	memcpy(m->id.data, id, 16);
	n = zond__v1__measurement__get_packed_size(m);
	body = malloc(n);
	assert_non_null(body);
	zond__v1__measurement__pack(m, body);
	memset(&in, 0, sizeof(in));
	in.id = id;
	in.agent = f->pk[i];
	in.seq = ++f->seq[i];
	in.start_us = start;
	in.time_us = start;
	in.time_by = f->time_by;
	in.recv_us = start + 1000000;
	in.test = m->test;
	in.thash = store_target_hash(m->target);
	in.body = body;
	in.body_len = n;
	in.sig = sig;
	assert_int_equal(store_commit(f->s, &in, 1, &res, NULL, 0, &d), ZE_OK);
	assert_int_equal(res, STORE_STORED);
	memcpy(f->last, id, 16);
	free(body);
	mk_free(m);
}

/* Store one TCP measurement of `target` (service svc) by agent i. */
static void
put(struct fx *f, int i, const char *svc, const char *target, int64_t start,
    Zond__V1__Failure fail)
{
	put_meas(f, i, svc, mk(TK(TCP), target, i, fail), start);
}

/* Store one QUIC measurement of `target` and variant by agent i. */
static void
put_quic(struct fx *f, int i, const char *target, const char *variant,
    int64_t start, Zond__V1__Failure fail)
{
	meas_t *m = mk(TK(QUIC), target, i, fail);

	mk_quic(m, variant, -1);
	put_meas(f, i, "yt", m, start);
}

static void
drain(struct fx *f, int64_t now, struct rollup_stats *st)
{
	zdiag_t d;

	memset(st, 0, sizeof(*st));
	assert_int_equal(rollup_drain(f->s, &f->o, now, st, &d), ZE_OK);
}

/* The map of [since, until) from the roll-ups. */
static cell_t *
rmap(struct fx *f, int64_t since, int64_t until, size_t *n, uint64_t *pend)
{
	cell_t *c = NULL;
	zdiag_t d;

	assert_int_equal(rollup_map(f->s, since, until, NULL, &f->o.c, &c, n,
	    pend, &d), ZE_OK);
	return c;
}

static const cell_t *
cell_of(const cell_t *c, size_t n, const char *region, const char *svc)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].region, region) == 0 &&
		    strcmp(c[i].service, svc) == 0)
			return &c[i];
	return NULL;
}

/* The map document, for comparing whole maps. */
static char *
doc(const cell_t *c, size_t n)
{
	zbuf_t b;
	char *s;

	zbuf_init(&b, 1 << 20);
	assert_int_equal(map_json(&b, T0, T0 + H_US, c, n, NULL), ZE_OK);
	s = strndup((const char *)b.data, b.len);
	zbuf_free(&b);
	return s;
}

/* Probes 1, 2 (RU-MOW) time out 3 times each, probes 3, 4 (RU-SPE)
 * connect; the control connects once at 00:15. */
static void
scenario(struct fx *f, bool control)
{
	for (int k = 1; k <= 3; k++) {
		put(f, 1, "svc", "a.example:443", T0 + k * 10 * MIN_US,
		    FL(TIMEOUT));
		put(f, 2, "svc", "a.example:443", T0 + k * 10 * MIN_US + 5000,
		    FL(TIMEOUT));
		put(f, 3, "svc", "a.example:443", T0 + k * 10 * MIN_US,
		    FL(NONE));
		put(f, 4, "svc", "a.example:443", T0 + k * 10 * MIN_US + 5000,
		    FL(NONE));
	}
	if (control)
		put(f, 0, "svc", "a.example:443", T0 + 15 * MIN_US, FL(NONE));
}

static void
t_waits_for_control(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t pend;
	size_t n;
	cell_t *c;
	const cell_t *mow, *spe;

	scenario(f, false);
	drain(f, T0 + 35 * MIN_US, &st);
	assert_int_equal(st.judged, 0);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(n, 0);
	assert_int_equal(pend, 12);
	rollup_cells_free(c, n);

	/* the control arrives: every probe is judged at once */
	put(f, 0, "svc", "a.example:443", T0 + 15 * MIN_US, FL(NONE));
	drain(f, T0 + 36 * MIN_US, &st);
	assert_int_equal(st.judged, 12);
	assert_int_equal(st.controls, 1);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(pend, 0);
	assert_int_equal(n, 2);
	mow = cell_of(c, n, "RU-MOW", "svc");
	spe = cell_of(c, n, "RU-SPE", "svc");
	assert_non_null(mow);
	assert_non_null(spe);
	assert_int_equal(mow->verdict, CELL_BLOCKED);
	assert_int_equal(mow->method, METHOD_TCP);
	assert_int_equal(mow->measurements, 6);
	assert_int_equal(mow->agents, 2);
	assert_int_equal(spe->verdict, CELL_OK);
	assert_int_equal(spe->measurements, 6);
	rollup_cells_free(c, n);

	/* the window closes: judged again, nothing changes, still counted
	 * once */
	drain(f, T0 + 3 * H_US, &st);
	assert_int_equal(st.settled, 12);
	assert_int_equal(st.changed, 0);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(cell_of(c, n, "RU-MOW", "svc")->measurements, 6);
	rollup_cells_free(c, n);
	drain(f, T0 + 4 * H_US, &st);
	assert_int_equal(st.settled + st.judged, 0);
}

/* A measurement that cannot be placed in time (taken before its agent
 * knew the time, delivered after a reboot) is judged but votes in no
 * cell: agent 1's three timeouts leave RU-MOW to agent 2's. */
static void
t_unplaced_out(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t pend;
	size_t n;
	cell_t *c;
	const cell_t *mow;

	for (int k = 1; k <= 3; k++) {
		f->time_by = ZCLOCK_UNPLACED;
		put(f, 1, "svc", "a.example:443", T0 + k * 10 * MIN_US,
		    FL(TIMEOUT));
		f->time_by = ZCLOCK_SIGNED;
		put(f, 2, "svc", "a.example:443", T0 + k * 10 * MIN_US + 5000,
		    FL(TIMEOUT));
	}
	put(f, 0, "svc", "a.example:443", T0 + 15 * MIN_US, FL(NONE));
	drain(f, T0 + 36 * MIN_US, &st);
	assert_int_equal(st.judged, 3);	/* the ones that vote */
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(pend, 0);
	mow = cell_of(c, n, "RU-MOW", "svc");
	assert_non_null(mow);
	assert_int_equal(mow->measurements, 3);
	assert_int_equal(mow->agents, 1);
	rollup_cells_free(c, n);
}

/* The roll-up map equals the on-demand analysis of the same data. */
static void
t_equals_on_demand(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct analyze_opts ao;
	analysis_t *a = NULL;
	const cell_t *oc;
	size_t n, on;
	uint64_t pend;
	cell_t *c;
	char *d1, *d2;
	zdiag_t d;

	scenario(f, true);
	/* a second service blocked for one agent of RU-MOW only */
	for (int k = 0; k < 4; k++) {
		put(f, 5, "vid", "v.example:443", T0 + k * 7 * MIN_US,
		    k % 2 ? FL(RESET) : FL(NONE));
		put(f, 3, "vid", "v.example:443", T0 + k * 7 * MIN_US,
		    FL(NONE));
	}
	put(f, 0, "vid", "v.example:443", T0 + 20 * MIN_US, FL(NONE));
	/* a third service: agent 5's own link fails what 1 and 2 reach */
	for (int k = 0; k < 3; k++) {
		put(f, 1, "web", "w.example:443", T0 + k * 9 * MIN_US,
		    FL(NONE));
		put(f, 2, "web", "w.example:443", T0 + k * 9 * MIN_US,
		    FL(NONE));
		put(f, 5, "web", "w.example:443", T0 + k * 9 * MIN_US,
		    FL(TIMEOUT));
	}
	put(f, 0, "web", "w.example:443", T0 + 10 * MIN_US, FL(NONE));
	drain(f, T0 + 3 * H_US, &st);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	analyze_opts_default(&ao);
	ao.c = f->o.c;
	ao.now_us = T0 + 3 * H_US;
	assert_int_equal(analyze_range(f->s, T0, T0 + H_US, &ao, &a, &d),
	    ZE_OK);
	oc = analysis_cells(a, &on);
	assert_int_equal(n, 5);
	{
		const cell_t *w = cell_of(c, n, "RU-MOW", "web");

		assert_non_null(w);
		assert_int_equal(w->verdict, CELL_OK);
		assert_int_equal(w->agents, 3);
		assert_int_equal(w->agent_anomaly, 1);
		assert_memory_equal(w->anomalies[0].agent, f->pk[5], 32);
		assert_true(w->anomalies[0].share == 1.0);
	}
	d1 = doc(c, n);
	d2 = doc(oc, on);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	analysis_free(&a);
	rollup_cells_free(c, n);
}

/* Agent 5 re-enrolled as a domestic control (role control-domestic). */
static void
make_domestic(struct fx *f)
{
	struct store_agent a;
	bool created;
	zdiag_t d;

	memset(&a, 0, sizeof(a));
	memcpy(a.pk, f->pk[5], 32);
	snprintf(a.region, sizeof(a.region), "RU-SPE");
	a.asn = 64777;
	a.role = STORE_ROLE_DOMESTIC;
	a.enabled = true;
	snprintf(a.name, sizeof(a.name), "dom");
	assert_int_equal(store_agent_enroll(f->s, &a, &created, &d), ZE_OK);
}

/* Probes 1, 2 reset on s.example three times, the control connects, the
 * domestic control (agent 5) is reset too; healthy: it reached another
 * target 30 s later. */
static void
domestic_scenario(struct fx *f, bool healthy)
{
	make_domestic(f);
	for (int k = 1; k <= 3; k++) {
		put(f, 1, "svc", "s.example:443", T0 + k * 10 * MIN_US,
		    FL(RESET));
		put(f, 2, "svc", "s.example:443", T0 + k * 10 * MIN_US + 5000,
		    FL(RESET));
	}
	put(f, 0, "svc", "s.example:443", T0 + 15 * MIN_US, FL(NONE));
	put(f, 5, "svc", "s.example:443", T0 + 10 * MIN_US + 1000000,
	    FL(RESET));
	put(f, 5, "svc", healthy ? "other.example:443" : "s.example:443",
	    T0 + 10 * MIN_US + 30000000, healthy ? FL(NONE) : FL(RESET));
}

/* The map of the first hour by the roll-ups and on demand (equal), and
 * the RU-MOW cell's verdict. */
static cell_verdict_t
domestic_map(struct fx *f)
{
	struct rollup_stats st;
	struct analyze_opts ao;
	analysis_t *a = NULL;
	const cell_t *oc, *mow;
	size_t n, on;
	uint64_t pend;
	cell_t *c;
	char *d1, *d2;
	cell_verdict_t v;
	zdiag_t d;

	drain(f, T0 + 3 * H_US, &st);
	assert_int_equal(st.judged, 6);		/* probes only */
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	analyze_opts_default(&ao);
	ao.c = f->o.c;
	ao.now_us = T0 + 3 * H_US;
	assert_int_equal(analyze_range(f->s, T0, T0 + H_US, &ao, &a, &d),
	    ZE_OK);
	oc = analysis_cells(a, &on);
	d1 = doc(c, n);
	d2 = doc(oc, on);
	assert_string_equal(d1, d2);
	/* the domestic control is counted nowhere */
	assert_int_equal(n, 1);
	mow = cell_of(c, n, "RU-MOW", "svc");
	assert_non_null(mow);
	assert_int_equal(mow->measurements, 6);
	v = mow->verdict;
	free(d1);
	free(d2);
	analysis_free(&a);
	rollup_cells_free(c, n);
	return v;
}

/* Works abroad, fails from the domestic control too, which is healthy:
 * every probe failure is flagged for review, and so is the cell (the
 * map says so, never blocked). */
static void
t_domestic_review(void **state)
{
	struct fx *f = *state;

	domestic_scenario(f, true);
	assert_int_equal(domestic_map(f), CELL_REVIEW);
}

/* The same with a domestic control that reached nothing else near that
 * time (perhaps broken itself): blocked as before. */
static void
t_domestic_unhealthy(void **state)
{
	struct fx *f = *state;

	domestic_scenario(f, false);
	assert_int_equal(domestic_map(f), CELL_BLOCKED);
}

/* Judged with the first control only (it failed too: down), corrected
 * when the window closes with a later control that connects. */
static void
t_settle_corrects(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t pend;
	size_t n;
	cell_t *c;

	put(f, 1, "svc", "b.example:443", T0 + 10 * MIN_US, FL(TIMEOUT));
	put(f, 2, "svc", "b.example:443", T0 + 12 * MIN_US, FL(TIMEOUT));
	put(f, 0, "svc", "b.example:443", T0 + 5 * MIN_US, FL(TIMEOUT));
	drain(f, T0 + 20 * MIN_US, &st);
	assert_int_equal(st.judged, 2);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_DOWN);
	rollup_cells_free(c, n);

	put(f, 0, "svc", "b.example:443", T0 + 30 * MIN_US, FL(NONE));
	drain(f, T0 + 40 * MIN_US, &st);
	assert_int_equal(st.settled, 0);	/* window still open */
	drain(f, T0 + 2 * H_US, &st);
	assert_int_equal(st.settled, 2);
	assert_int_equal(st.changed, 2);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_BLOCKED);
	assert_int_equal(c[0].method, METHOD_TCP);
	assert_int_equal(c[0].measurements, 2);
	rollup_cells_free(c, n);
}

/* No control ever: pending until the window closes, then the failure
 * counts as an anomaly (never blocked). */
static void
t_expires(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t pend;
	size_t n;
	cell_t *c;

	put(f, 1, "svc", "c.example:443", T0 + 10 * MIN_US, FL(TIMEOUT));
	drain(f, T0 + H_US, &st);
	assert_int_equal(st.judged, 0);
	drain(f, T0 + 10 * MIN_US + H_US + 2 * MIN_US, &st);
	assert_int_equal(st.judged, 1);
	assert_int_equal(st.expired, 1);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(pend, 0);
	assert_int_equal(n, 1);
	assert_int_not_equal(c[0].verdict, CELL_BLOCKED);
	rollup_cells_free(c, n);
}

struct evlist {
	char s[4096];
	size_t n;
};

static int
ev_cb(const event_t *ev, void *arg)
{
	struct evlist *l = arg;
	size_t len = strlen(l->s);

	snprintf(l->s + len, sizeof(l->s) - len, "%lld %s %s %s>%s %s;",
	    (long long)((ev->time_us - T0) / H_US), ev->region, ev->service,
	    cell_verdict_name(ev->from), cell_verdict_name(ev->to),
	    ev->method == METHOD_NONE ? "-" : method_name(ev->method));
	l->n++;
	return 0;
}

static void
events(struct fx *f, struct evlist *l)
{
	zdiag_t d;

	memset(l, 0, sizeof(*l));
	assert_int_equal(rollup_events(f->s, T0, T0 + 10 * H_US, ev_cb, l,
	    &d), ZE_OK);
}

/* Hour states: ok at 0, blocked at 1 (both agents of the cell time out),
 * ok at 2; then late data turns hour 1 ok and its two events go away. */
static void
t_events(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;

	for (int h = 0; h < 3; h++) {
		put(f, 0, "svc", "e.example:443", T0 + h * H_US + 30 * MIN_US,
		    FL(NONE));
		for (int k = 0; k < 6; k++)
			put(f, 1 + k % 2, "svc", "e.example:443", T0 +
			    h * H_US + (10 + 5 * k) * MIN_US, h == 1 ?
			    FL(TIMEOUT) : FL(NONE));
	}
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>blocked tcp;2 RU-MOW svc blocked>ok -;");
	/* the same hour states as a history (GET /api/v1/history) */
	{
		uint32_t c[4][CELL__COUNT];
		zdiag_t d;

		memset(c, 0, sizeof(c));
		assert_int_equal(rollup_history(f->s, "svc", NULL, 0, T0, 4, c,
		    &d), ZE_OK);
		assert_int_equal(c[0][CELL_OK], 1);
		assert_int_equal(c[1][CELL_BLOCKED], 1);
		assert_int_equal(c[1][CELL_OK], 0);
		assert_int_equal(c[2][CELL_OK], 1);
		for (int v = 0; v < CELL__COUNT; v++)
			assert_int_equal(c[3][v], 0);
		/* one hour from hour 1; the cell's region and ASN */
		memset(c, 0, sizeof(c));
		assert_int_equal(rollup_history(f->s, "svc", "RU-MOW", 64501,
		    T0 + H_US + 5, 1, c, &d), ZE_OK);
		assert_int_equal(c[0][CELL_BLOCKED], 1);
		assert_int_equal(c[1][CELL_OK], 0);
		/* another region, ASN or service: nothing */
		memset(c, 0, sizeof(c));
		assert_int_equal(rollup_history(f->s, "svc", "RU-SPE", 0, T0, 4,
		    c, &d), ZE_OK);
		assert_int_equal(rollup_history(f->s, "svc", "RU-MOW", 64502,
		    T0, 4, c, &d), ZE_OK);
		assert_int_equal(rollup_history(f->s, "sv", NULL, 0, T0, 4, c,
		    &d), ZE_OK);
		assert_int_equal(rollup_history(f->s, "svc2", NULL, 0, T0, 4,
		    c, &d), ZE_OK);
		for (int h = 0; h < 4; h++)
			for (int v = 0; v < CELL__COUNT; v++)
				assert_int_equal(c[h][v], 0);
	}
	/* reanalysis gives the same events */
	{
		uint64_t n;
		zdiag_t d;
		struct evlist l2;

		assert_int_equal(rollup_reset(f->s, &n, &d), ZE_OK);
		assert_int_equal(n, 21);
		drain(f, T0 + 10 * H_US, &st);
		events(f, &l2);
		assert_string_equal(l.s, l2.s);
	}
	/* late data: nine successes in hour 1 from a third agent: 2 of 3
	 * agents blocked is no longer enough (Wilson bound 0.21) */
	for (int k = 0; k < 9; k++)
		put(f, 5, "svc", "e.example:443", T0 + H_US + (5 + 5 * k) *
		    MIN_US, FL(NONE));
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;");
}

/* One hour of a network under test: the control (agent 0) reaches
 * everything; agents 1 and 2 (RU-MOW/64501) measure the domestic and
 * foreign references and service svc three times each, reaching what
 * the flags say (docs/METHODOLOGY.md "Regimes"). */
static void
regime_hour(struct fx *f, const char *svc, int h, bool dom, bool foreign,
    bool service)
{
	int64_t t = T0 + h * H_US;

	put(f, 0, REGIME_DOMESTIC, "ya.example:443", t + 30 * MIN_US,
	    FL(NONE));
	put(f, 0, REGIME_FOREIGN, "cdn.example:443", t + 30 * MIN_US,
	    FL(NONE));
	put(f, 0, svc, "s.example:443", t + 30 * MIN_US, FL(NONE));
	for (int k = 0; k < 6; k++) {
		int64_t at = t + (10 + 5 * k) * MIN_US;

		put(f, 1 + k % 2, REGIME_DOMESTIC, "ya.example:443", at,
		    dom ? FL(NONE) : FL(TIMEOUT));
		put(f, 1 + k % 2, REGIME_FOREIGN, "cdn.example:443", at,
		    foreign ? FL(NONE) : FL(TIMEOUT));
		put(f, 1 + k % 2, svc, "s.example:443", at,
		    service ? FL(NONE) : FL(TIMEOUT));
	}
}

static cell_t *
rmap_svc(struct fx *f, int64_t since, const char *svc, size_t *n)
{
	cell_t *c = NULL;
	zdiag_t d;

	assert_int_equal(rollup_map(f->s, since, since + H_US, svc, &f->o.c,
	    &c, n, NULL, &d), ZE_OK);
	return c;
}

/* Hour 1 under a whitelist: the service says whitelist (never blocked),
 * with entry and exit events; the references are no cells of the map
 * unless asked for, and make no events. */
static void
t_regime_whitelist(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;
	cell_t *c;
	size_t n;
	char *m;

	regime_hour(f, "svc", 0, true, true, true);
	regime_hour(f, "svc", 1, true, false, false);
	regime_hour(f, "svc", 2, true, true, true);
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>whitelist -;2 RU-MOW svc whitelist>ok -;");
	c = rmap(f, T0 + H_US, T0 + 2 * H_US, &n, NULL);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].service, "svc");
	assert_int_equal(c[0].verdict, CELL_WHITELIST);
	assert_int_equal(c[0].method, METHOD_NONE);
	m = doc(c, n);
	assert_non_null(strstr(m, "\"regions\":[{\"region\":\"RU-MOW\","
	    "\"service\":\"svc\",\"verdict\":\"whitelist\""));
	free(m);
	rollup_cells_free(c, n);
	/* one service's map reads the references too */
	c = rmap_svc(f, T0 + H_US, "svc", &n);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_WHITELIST);
	rollup_cells_free(c, n);
	/* the evidence, by name */
	c = rmap_svc(f, T0 + H_US, REGIME_FOREIGN, &n);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_BLOCKED);
	rollup_cells_free(c, n);
	c = rmap(f, T0, T0 + H_US, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_OK);
	rollup_cells_free(c, n);
}

/* Hour 1 with nothing reachable, domestic references included: shutdown.
 * Service "aa" sorts before the references, so its cell is judged before
 * them in the same round and again when they change. */
static void
t_regime_shutdown(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;

	regime_hour(f, "aa", 0, true, true, true);
	regime_hour(f, "aa", 1, false, false, false);
	regime_hour(f, "aa", 2, true, true, true);
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW aa insufficient>ok -;"
	    "1 RU-MOW aa ok>shutdown -;2 RU-MOW aa shutdown>ok -;");
	/* reanalysis gives the same events */
	{
		uint64_t n;
		zdiag_t d;
		struct evlist l2;

		assert_int_equal(rollup_reset(f->s, &n, &d), ZE_OK);
		assert_int_equal(n, 3 * (3 + 18));
		drain(f, T0 + 10 * H_US, &st);
		events(f, &l2);
		assert_string_equal(l.s, l2.s);
	}
}

/* The references reachable: a failing service is blocked, as before;
 * with references that arrive later (delivered after a shutdown) the
 * service's hour turns whitelist and its event follows. */
static void
t_regime_blocked_then_late(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;
	int64_t t = T0 + 3 * H_US;

	regime_hour(f, "svc", 0, true, true, true);
	regime_hour(f, "svc", 1, true, true, false);
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>blocked tcp;");
	/* hour 3: the service fails first, the references come late */
	put(f, 0, "svc", "s.example:443", t + 30 * MIN_US, FL(NONE));
	for (int k = 0; k < 6; k++)
		put(f, 1 + k % 2, "svc", "s.example:443", t + (10 + 5 * k) *
		    MIN_US, FL(TIMEOUT));
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>blocked tcp;");	/* still blocked */
	put(f, 0, REGIME_DOMESTIC, "ya.example:443", t + 30 * MIN_US,
	    FL(NONE));
	put(f, 0, REGIME_FOREIGN, "cdn.example:443", t + 30 * MIN_US,
	    FL(NONE));
	for (int k = 0; k < 6; k++) {
		put(f, 1 + k % 2, REGIME_DOMESTIC, "ya.example:443", t +
		    (10 + 5 * k) * MIN_US, FL(NONE));
		put(f, 1 + k % 2, REGIME_FOREIGN, "cdn.example:443", t +
		    (10 + 5 * k) * MIN_US, FL(TIMEOUT));
	}
	drain(f, T0 + 10 * H_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>blocked tcp;3 RU-MOW svc blocked>whitelist -;");
}

/* Fewer agents behind the references than regime_min_agents: no regime,
 * the service is judged blocked as any other; 0 turns regimes off. */
static void
t_regime_min_agents(void **state)
{
	struct fx *f = *state;
	cell_t *c;
	size_t n;

	regime_hour(f, "svc", 1, true, false, false);
	f->o.c.regime_min_agents = 3;
	drain(f, T0 + 10 * H_US, &(struct rollup_stats){0});
	c = rmap(f, T0 + H_US, T0 + 2 * H_US, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_BLOCKED);
	rollup_cells_free(c, n);
	f->o.c.regime_min_agents = 2;
	c = rmap(f, T0 + H_US, T0 + 2 * H_US, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_WHITELIST);
	rollup_cells_free(c, n);
	f->o.c.regime_min_agents = 0;
	c = rmap(f, T0 + H_US, T0 + 2 * H_US, &n, NULL);
	assert_int_equal(n, 1);	/* off; the references still hidden */
	assert_int_equal(c[0].verdict, CELL_BLOCKED);
	rollup_cells_free(c, n);
}

/* Events are queued for the webhook only when their hour is recent. */
static void
t_hook_queue(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t n, seq;
	zbuf_t b;
	zdiag_t d;

	f->o.hook = true;
	f->o.hook_max_age_us = 6 * H_US;
	scenario(f, true);
	drain(f, T0 + 30 * H_US, &st);		/* a day later: too old */
	assert_int_equal(store_hook_count(f->s, &n, &d), ZE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st.events, 2);
	/* a new service blocked now: recent, queued */
	put(f, 1, "new", "n.example:443", T0 + 30 * H_US, FL(TIMEOUT));
	put(f, 2, "new", "n.example:443", T0 + 30 * H_US, FL(TIMEOUT));
	put(f, 0, "new", "n.example:443", T0 + 30 * H_US, FL(NONE));
	/* and one open from its first hour: a first judgement to ok is not
	 * news, stored as an event but not POSTed */
	put(f, 1, "fine", "f.example:443", T0 + 30 * H_US, FL(NONE));
	put(f, 2, "fine", "f.example:443", T0 + 30 * H_US, FL(NONE));
	put(f, 0, "fine", "f.example:443", T0 + 30 * H_US, FL(NONE));
	drain(f, T0 + 30 * H_US + MIN_US, &st);
	assert_int_equal(st.events, 2);
	assert_int_equal(store_hook_count(f->s, &n, &d), ZE_OK);
	assert_int_equal(n, 1);
	zbuf_init(&b, 4096);
	assert_int_equal(store_hook_peek(f->s, &seq, &b, &d), ZE_OK);
	assert_non_null(strstr((const char *)b.data,
	    "\"region\":\"RU-MOW\""));
	assert_non_null(strstr((const char *)b.data, "\"to\":\"blocked\""));
	assert_non_null(strstr((const char *)b.data, "\"method\":\"tcp\""));
	/* the first state of its cell: news, and marked so */
	assert_non_null(strstr((const char *)b.data,
	    "\"from\":\"insufficient\""));
	assert_non_null(strstr((const char *)b.data, "\"first\":true"));
	assert_int_equal(store_hook_del(f->s, seq, &d), ZE_OK);
	assert_int_equal(store_hook_count(f->s, &n, &d), ZE_OK);
	assert_int_equal(n, 0);
	zbuf_free(&b);
}

/* Every webhook record queued, oldest first, each on its own line. */
static void
hooks(struct fx *f, zbuf_t *out)
{
	uint64_t seq;
	zbuf_t b;
	zdiag_t d;

	zbuf_reset(out);
	zbuf_init(&b, 4096);
	while (store_hook_peek(f->s, &seq, &b, &d) == ZE_OK) {
		assert_int_equal(zbuf_append(out, b.data, b.len), ZE_OK);
		assert_int_equal(zbuf_putc(out, '\n'), ZE_OK);
		assert_int_equal(store_hook_del(f->s, seq, &d), ZE_OK);
		zbuf_reset(&b);
	}
	zbuf_free(&b);
}

/* The state now (METHODOLOGY.md §3.9): hour 0 ok; in hour 1, after
 * three ok rounds, both agents' latest round fails.  While hour 1 is not
 * over its state follows the latest round: blocked at once, its event
 * and webhook record with it, and the map with sample=latest says so
 * (the common map: ok).  Once hour 1 is over and its measurements are
 * judged a last time, its most common samples rule: ok again, the event
 * gone and the webhook told it was retracted. */
static void
t_open_hour(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;
	struct cell_opts now = f->o.c;
	const cell_t *x;
	cell_t *c;
	size_t n;
	zbuf_t hb;

	f->o.hook = true;
	now.latest = true;
	zbuf_init(&hb, 1 << 16);
	for (int h = 0; h < 2; h++) {
		put(f, 0, "svc", "o.example:443", T0 + h * H_US + 2 * MIN_US,
		    FL(NONE));
		for (int k = 1; k <= 3; k++) {
			put(f, 1, "svc", "o.example:443", T0 + h * H_US +
			    k * MIN_US, FL(NONE));
			put(f, 2, "svc", "o.example:443", T0 + h * H_US +
			    k * MIN_US + 5000, FL(NONE));
		}
	}
	drain(f, T0 + H_US + 4 * MIN_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;");
	/* the block starts: one round of both agents */
	put(f, 1, "svc", "o.example:443", T0 + H_US + 5 * MIN_US,
	    FL(TIMEOUT));
	put(f, 2, "svc", "o.example:443", T0 + H_US + 5 * MIN_US + 5000,
	    FL(TIMEOUT));
	hooks(f, &hb);
	drain(f, T0 + H_US + 6 * MIN_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>blocked tcp;");
	hooks(f, &hb);
	assert_non_null(strstr((const char *)hb.data,
	    "\"from\":\"ok\",\"to\":\"blocked\",\"method\":\"tcp\"}\n"));
	assert_null(strstr((const char *)hb.data, "retracted"));
	c = NULL;
	assert_int_equal(rollup_map(f->s, T0, T0 + 2 * H_US, NULL, &now, &c,
	    &n, NULL, NULL), ZE_OK);
	assert_non_null(x = cell_of(c, n, "RU-MOW", "svc"));
	assert_int_equal(x->verdict, CELL_BLOCKED);
	rollup_cells_free(c, n);
	c = rmap(f, T0, T0 + 2 * H_US, &n, NULL);
	assert_non_null(x = cell_of(c, n, "RU-MOW", "svc"));
	assert_int_equal(x->verdict, CELL_OK);
	rollup_cells_free(c, n);

	/* hour 1 is over and judged a last time: 3 ok, 1 failed per agent */
	drain(f, T0 + 3 * H_US, &st);
	assert_true(st.settled > 0);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;");
	hooks(f, &hb);
	assert_non_null(strstr((const char *)hb.data,
	    "\"to\":\"blocked\",\"method\":\"tcp\",\"retracted\":true}\n"));
	zbuf_free(&hb);
}

/* Heartbeats of the agent of key pk every 30 s over [from, to). */
static void
beats_of(struct fx *f, const uint8_t *pk, int64_t from, int64_t to)
{
	zdiag_t d;

	for (int64_t t = from; t < to; t += 30 * 1000000LL) {
		struct store_seen se;

		memset(&se, 0, sizeof(se));
		memcpy(se.agent, pk, 32);
		se.seen_us = t;
		se.has_status = true;
		assert_int_equal(store_commit(f->s, NULL, 0, NULL, &se, 1, &d),
		    ZE_OK);
	}
}

static void
beats(struct fx *f, int i, int64_t from, int64_t to)
{
	beats_of(f, f->pk[i], from, to);
}

static int
sil_collect(const struct store_silence *p, void *arg)
{
	memcpy(arg, p, sizeof(*p));
	return 0;
}

/* Silence as evidence (METHODOLOGY.md §3.8 "Silence"): RU-MOW/64501's
 * three agents beat regularly, measure svc in hour 0 and fall silent
 * together at 00:10; RU-SPE's agent 3 goes on beating (one agent: never
 * a network's silence) and agent 4 stops (alone: offline).  At 01:20
 * RU-MOW is a shutdown from 00:10: hour 1 (no measurements) says so,
 * with its event and webhook record, and the map of the state now too;
 * hour 0 keeps its verdict.  Not within the aggregator's first minutes,
 * nor while most networks are silent.  At 01:30 they are back: the
 * period ends at their first heartbeat, the hour is judged by its
 * measurements again. */
static void
t_silence(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct evlist l;
	struct store_silence p;
	struct cell_opts now = f->o.c;
	uint32_t op, cl;
	const cell_t *x;
	cell_t *c;
	size_t n;
	zdiag_t d;

	f->o.hook = true;
	now.latest = true;
	for (int i = 1; i <= 5; i++)
		beats(f, i, T0 - 20 * MIN_US, i == 3 ? T0 + 2 * H_US :
		    i == 4 ? T0 + 30 * MIN_US : T0 + 10 * MIN_US);
	put(f, 0, "svc", "q.example:443", T0 + 5 * MIN_US, FL(NONE));
	for (int k = 1; k <= 3; k++) {
		put(f, 1, "svc", "q.example:443", T0 + (k + 5) * MIN_US,
		    FL(NONE));
		put(f, 2, "svc", "q.example:443", T0 + (k + 5) * MIN_US,
		    FL(NONE));
	}
	drain(f, T0 + H_US + 20 * MIN_US, &st);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;");

	/* the aggregator started 5 minutes ago: its own absence */
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + H_US + 20 * MIN_US,
	    T0 + H_US + 15 * MIN_US, &st, &op, &cl, &d), ZE_OK);
	assert_int_equal(op, 0);
	/* silence off */
	f->o.sil.after_us = 0;
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + H_US + 20 * MIN_US,
	    T0, &st, &op, &cl, &d), ZE_OK);
	assert_int_equal(op, 0);
	regime_silence_default(&f->o.sil);

	memset(&st, 0, sizeof(st));
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + H_US + 20 * MIN_US,
	    T0, &st, &op, &cl, &d), ZE_OK);
	assert_int_equal(op, 1);		/* RU-MOW only */
	assert_int_equal(cl, 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_silence_iter(f->s, NULL, 0, 0, INT64_MAX,
	    sil_collect, &p, &d), ZE_OK);
	assert_string_equal(p.region, "RU-MOW");
	assert_int_equal(p.asn, 64501);
	assert_int_equal(p.agents, 3);
	assert_int_equal(p.end_us, 0);
	assert_true(p.start_us >= T0 + 9 * MIN_US &&
	    p.start_us < T0 + 10 * MIN_US);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;"
	    "1 RU-MOW svc ok>shutdown -;");
	assert_true(st.hooked >= 1);
	c = NULL;
	assert_int_equal(rollup_map(f->s, T0, T0 + H_US + 21 * MIN_US, NULL,
	    &now, &c, &n, NULL, &d), ZE_OK);
	assert_non_null(x = cell_of(c, n, "RU-MOW", "svc"));
	assert_int_equal(x->verdict, CELL_SHUTDOWN);
	rollup_cells_free(c, n);
	c = rmap(f, T0, T0 + 2 * H_US, &n, NULL);	/* common: the data */
	assert_non_null(x = cell_of(c, n, "RU-MOW", "svc"));
	assert_int_equal(x->verdict, CELL_OK);
	rollup_cells_free(c, n);
	/* again: nothing new */
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + H_US + 21 * MIN_US,
	    T0, &st, &op, &cl, &d), ZE_OK);
	assert_int_equal(op + cl, 0);
	/* a reanalysis keeps the period and, replayed, its states */
	{
		uint64_t nq;
		struct evlist l2;

		assert_int_equal(rollup_reset(f->s, &nq, &d), ZE_OK);
		drain(f, T0 + H_US + 21 * MIN_US, &st);
		events(f, &l2);
		assert_string_equal(l2.s, "0 RU-MOW svc insufficient>ok -;");
		assert_int_equal(rollup_silence_replay(f->s, &f->o,
		    T0 + H_US + 21 * MIN_US, &st, &d), ZE_OK);
		events(f, &l2);
		assert_string_equal(l2.s, l.s);
	}

	/* back at 01:30, measuring again */
	for (int i = 1; i <= 2; i++)
		beats(f, i, T0 + H_US + 30 * MIN_US, T0 + H_US + 35 * MIN_US);
	beats(f, 5, T0 + H_US + 31 * MIN_US, T0 + H_US + 35 * MIN_US);
	put(f, 0, "svc", "q.example:443", T0 + H_US + 31 * MIN_US, FL(NONE));
	for (int i = 1; i <= 2; i++)
		put(f, i, "svc", "q.example:443", T0 + H_US + 32 * MIN_US,
		    FL(NONE));
	put(f, 1, "svc", "q.example:443", T0 + H_US + 33 * MIN_US, FL(NONE));
	drain(f, T0 + H_US + 35 * MIN_US, &st);
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + H_US + 35 * MIN_US,
	    T0, &st, &op, &cl, &d), ZE_OK);
	assert_int_equal(op, 0);
	assert_int_equal(cl, 1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_silence_iter(f->s, "RU-MOW", 64501, 0,
	    INT64_MAX, sil_collect, &p, &d), ZE_OK);
	assert_int_equal(p.end_us, T0 + H_US + 30 * MIN_US);
	events(f, &l);
	assert_string_equal(l.s, "0 RU-MOW svc insufficient>ok -;");
	c = NULL;
	assert_int_equal(rollup_map(f->s, T0, T0 + H_US + 36 * MIN_US, NULL,
	    &now, &c, &n, NULL, &d), ZE_OK);
	assert_non_null(x = cell_of(c, n, "RU-MOW", "svc"));
	assert_int_equal(x->verdict, CELL_OK);
	rollup_cells_free(c, n);
}

/* Most networks silent at once is the aggregator's own link: three
 * networks (a third enrolled here), two fall silent together. */
static void
t_silence_ours(void **state)
{
	struct fx *f = *state;
	struct store_agent a;
	uint8_t pk[2][32], sk[64];
	uint32_t op, cl;
	bool created;
	zdiag_t d;

	for (int k = 0; k < 2; k++) {
		crypto_sign_keypair(pk[k], sk);
		memset(&a, 0, sizeof(a));
		memcpy(a.pk, pk[k], 32);
		snprintf(a.region, sizeof(a.region), "RU-NVS");
		a.asn = 64503;
		a.role = STORE_ROLE_PROBE;
		a.enabled = true;
		assert_int_equal(store_agent_enroll(f->s, &a, &created, &d),
		    ZE_OK);
		beats_of(f, pk[k], T0, T0 + 2 * H_US);
	}
	for (int i = 1; i <= 5; i++)
		beats(f, i, T0, T0 + 10 * MIN_US);
	assert_int_equal(rollup_silence(f->s, &f->o, T0 + 40 * MIN_US, T0 -
	    H_US, NULL, &op, &cl, &d), ZE_OK);
	assert_int_equal(op, 0);
}

struct racer {
	struct fx *f;
	struct rollup_stats st;
	zerr_t e;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	zdiag_t d;

	r->e = rollup_drain(r->f->s, &r->f->o, T0 + 50 * H_US, &r->st, &d);
	return NULL;
}

/* Two analyzers at once (small batches, many rounds): every measurement
 * is counted exactly once. */
static void
t_two_analyzers(void **state)
{
	struct fx *f = *state;
	struct racer r[2];
	pthread_t th[2];
	uint64_t pend;
	uint32_t total = 0;
	size_t n;
	cell_t *c;

	for (int k = 0; k < 600; k++)
		put(f, 1 + k % 5, k % 3 ? "svc" : "vid", k % 2 ? "x.example:1" :
		    "y.example:1", T0 + k * 10 * 1000000LL, k % 7 ? FL(NONE) :
		    FL(TIMEOUT));
	for (int k = 0; k < 20; k++) {
		put(f, 0, "svc", k % 2 ? "x.example:1" : "y.example:1",
		    T0 + k * 5 * MIN_US, FL(NONE));
		put(f, 0, "vid", k % 2 ? "x.example:1" : "y.example:1",
		    T0 + k * 5 * MIN_US, FL(NONE));
	}
	f->o.batch = 37;
	for (int i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].f = f;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].e, ZE_OK);
	}
	assert_int_equal(r[0].st.judged + r[1].st.judged, 600);
	c = rmap(f, T0, T0 + 3 * H_US, &n, &pend);
	assert_int_equal(pend, 0);
	for (size_t i = 0; i < n; i++)
		total += c[i].measurements;
	assert_int_equal(total, 600);
	rollup_cells_free(c, n);
}

/* Sum of the measurements in the cells of the first `hours` hours. */
static uint32_t
map_total(struct fx *f, int hours, uint64_t *pend)
{
	uint32_t total = 0;
	size_t n;
	cell_t *c = rmap(f, T0, T0 + hours * H_US, &n, pend);

	for (size_t i = 0; i < n; i++)
		total += c[i].measurements;
	rollup_cells_free(c, n);
	return total;
}

/* Between the refill's chunks: three measurements arrive, their start
 * times spread over the stored ones' hour, so some are behind the
 * refill's position and some ahead of it. */
static void
arrive(uint64_t queued, void *arg)
{
	struct fx *f = arg;
	static int k;

	(void)queued;
	for (int i = 0; i < 3; i++, k++)
		put(f, 1 + k % 5, "svc", "f.example:443", T0 +
		    (int64_t)(k * 37 % 300) * 10 * 1000000LL, FL(NONE));
}

/* zondctl reanalyze beside a running aggregator: a reset in small chunks
 * while measurements keep being committed; every one is counted exactly
 * once (queued by ingest or by the refill, never both, never neither). */
static void
t_reset_beside_ingest(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	uint64_t n, pend;
	zdiag_t d;

	for (int k = 0; k < 300; k++)
		put(f, 1 + k % 5, "svc", "f.example:443", T0 + k * 10 *
		    1000000LL, FL(NONE));
	drain(f, T0 + 10 * H_US, &st);
	assert_int_equal(map_total(f, 2, &pend), 300);
	/* 300 stored, then 3 more after each chunk of 10: 45 chunks, the
	 * last of them empty */
	assert_int_equal(rollup_reset_chunked(f->s, 10, arrive, f, &n, &d),
	    ZE_OK);
	assert_true(n > 300);
	drain(f, T0 + 10 * H_US, &st);
	assert_int_equal(map_total(f, 2, &pend), f->n);
	assert_true(f->n > 330);
	assert_int_equal(pend, 0);
	assert_int_equal(rollup_waiting(f->s, &n, &d), ZE_OK);
	assert_int_equal(n, 0);
}

/* A store whose derived data has the layout before arrival numbers (meta
 * "analysis" "1", todo keyed by id) is rebuilt when the analyzer opens it,
 * and measurements committed before the rebuild are counted once. */
static void
t_old_layout_rebuilt(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, todo;
	MDB_val k, v;
	uint8_t id[16] = {0x01, 0x90}, tv[10] = {0};
	uint64_t pend;
	bool ready;
	zdiag_t d;

	for (int k2 = 0; k2 < 20; k2++)
		put(f, 1 + k2 % 5, "svc", "o.example:443", T0 + k2 * MIN_US,
		    FL(NONE));
	drain(f, T0 + 10 * H_US, &st);
	store_close(&f->s);
	/* what the previous layout left: its marker and an id-keyed entry */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64 << 20), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "todo", 0, &todo), 0);
	k.mv_data = "analysis";
	k.mv_size = 8;
	v.mv_data = "1";
	v.mv_size = 1;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	k.mv_data = id;
	k.mv_size = sizeof(id);
	v.mv_data = tv;
	v.mv_size = sizeof(tv);
	assert_int_equal(mdb_put(txn, todo, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	{
		struct store_opts so = {0};

		assert_int_equal(store_open(f->dir, &so, &f->s, &d), ZE_OK);
	}
	assert_int_equal(store_an_ready(f->s, &ready, &d), ZE_OK);
	assert_false(ready);
	/* ingest goes on before the rebuild */
	for (int k2 = 0; k2 < 5; k2++)
		put(f, 1 + k2 % 5, "svc", "o.example:443", T0 + (30 + k2) *
		    MIN_US, FL(NONE));
	assert_int_equal(rollup_prepare(f->s, &d), ZE_OK);
	assert_int_equal(store_an_ready(f->s, &ready, &d), ZE_OK);
	assert_true(ready);
	drain(f, T0 + 10 * H_US, &st);
	assert_int_equal(st.judged, 25);
	assert_int_equal(map_total(f, 2, &pend), 25);
	assert_int_equal(pend, 0);
}

/* A store written by an older layout (marker; its roll-ups in cell
 * encoding version) is rebuilt when the analyzer opens it: its old
 * records are never misread (a map skips them), and after rollup_prepare
 * the map counts every measurement, judged by agents. */
static void
old_cells_rebuilt(struct fx *f, const char *marker, uint8_t version)
{
	struct rollup_stats st;
	struct store_opts so = {0};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, ru;
	MDB_cursor *cur;
	MDB_val k, v;
	cell_t *c = NULL;
	size_t n, nold = 0;
	uint64_t pend;
	bool ready;
	zdiag_t d;

	/* both agents of RU-MOW/64501 time out: blocked by 2 of 2 agents */
	for (int i = 0; i < 8; i++)
		put(f, 1 + i % 2, "svc", "v.example:443", T0 + i * MIN_US,
		    FL(TIMEOUT));
	put(f, 0, "svc", "v.example:443", T0 + 3 * MIN_US, FL(NONE));
	drain(f, T0 + 10 * H_US, &st);
	store_close(&f->s);
	/* what layout "2" left: its marker and version-1 records */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64 << 20), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "rollup", 0, &ru), 0);
	k.mv_data = "analysis";
	k.mv_size = 8;
	v.mv_data = (void *)(uintptr_t)marker;
	v.mv_size = 1;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_cursor_open(txn, ru, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, nold ? MDB_NEXT : MDB_FIRST) ==
	    0) {
		uint8_t old[512];

		assert_true(v.mv_size > 0 && v.mv_size <= sizeof(old));
		memcpy(old, v.mv_data, v.mv_size);
		assert_int_equal(old[0], CELL_ACC_VERSION);
		old[0] = version;
		v.mv_data = old;
		assert_int_equal(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
		nold++;
	}
	mdb_cursor_close(cur);
	assert_true(nold > 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(store_open(f->dir, &so, &f->s, &d), ZE_OK);
	assert_int_equal(store_an_ready(f->s, &ready, &d), ZE_OK);
	assert_false(ready);
	/* an old record is refused (ZE_VERSION), not counted */
	c = rmap(f, T0, T0 + 2 * H_US, &n, &pend);
	assert_int_equal(n, 0);
	rollup_cells_free(c, n);
	assert_int_equal(rollup_prepare(f->s, &d), ZE_OK);
	assert_int_equal(store_an_ready(f->s, &ready, &d), ZE_OK);
	assert_true(ready);
	drain(f, T0 + 10 * H_US, &st);
	c = rmap(f, T0, T0 + 2 * H_US, &n, &pend);
	assert_int_equal(pend, 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].measurements, 8);
	assert_int_equal(c[0].agents, 2);
	assert_int_equal(c[0].verdict, CELL_BLOCKED);
	assert_int_equal(c[0].targets[0].agents, 2);
	rollup_cells_free(c, n);
}

struct evs {
	char svc[8][64];
	cell_verdict_t to[8];
	size_t n;
};

static int
ev_collect(const event_t *e, void *arg)
{
	struct evs *v = arg;

	if (v->n < 8) {
		snprintf(v->svc[v->n], sizeof(v->svc[0]), "%s", e->service);
		v->to[v->n] = e->to;
	}
	v->n++;
	return 0;
}

static int
collect(const void *p, size_t n, void *arg)
{
	return zbuf_append(arg, p, n) == ZE_OK ? 0 : 1;
}

/* Layout "2" (cell encoding 1, no counts per agent in a sub-row). */
static void
t_cell_v1_rebuilt(void **state)
{
	old_cells_rebuilt(*state, "2", 1);
}

/* Layout "3" (cell encoding 2, no where counts). */
static void
t_cell_v2_rebuilt(void **state)
{
	old_cells_rebuilt(*state, "3", 2);
}

/* Where the censor sits and the calls/messaging parts through the
 * roll-ups: a TCP target and a STUN relay of one service, both timing out
 * for RU-MOW's two agents while the control reaches them; the TCP
 * localizations place the censor at a router of the agents' ASN (64501)
 * for one agent, upstream for the other's first, and at the ISP again. */
static void
t_where_parts(void **state)
{
	static const char tsv[] =
	    "10.1.0.0\t10.1.255.255\t64501\tRU\tISP\n"
	    "100.66.0.0\t100.66.255.255\t64900\tRU\tTransit\n";
	struct fx *f = *state;
	struct rollup_stats st;
	struct ipasn *t = NULL;
	const cell_t *x;
	cell_t *c;
	size_t n;
	uint64_t pend;
	zdiag_t d;
	meas_t *m;
	char *js;

	assert_int_equal(ipasn_parse("t.tsv", tsv, sizeof(tsv) - 1, &t, &d),
	    ZE_OK);
	f->o.v.asn = t;
	for (int i = 0; i < 6; i++) {
		int g = 1 + i % 2;
		int64_t at = T0 + i * MIN_US;

		m = mk(TK(TCP), "chat.example:443", g, FL(TIMEOUT));
		mk_locate(m, true, 3, i == 1 ? "100.66.1.1" : "10.1.250.1",
		    NULL);
		put_meas(f, g, "wa", m, at);
		m = mk(TK(STUN), "relay.example:3478", g, FL(TIMEOUT));
		mk_stun(m, "plain", -1);
		put_meas(f, g, "wa", m, at);
	}
	put(f, 0, "wa", "chat.example:443", T0 + 3 * MIN_US, FL(NONE));
	m = mk(TK(STUN), "relay.example:3478", 0, FL(NONE));
	mk_stun(m, "plain", -1);
	put_meas(f, 0, "wa", m, T0 + 3 * MIN_US);
	drain(f, T0 + 10 * H_US, &st);
	c = rmap(f, T0, T0 + H_US, &n, &pend);
	assert_int_equal(pend, 0);
	assert_int_equal(n, 3);		/* wa, wa/calls, wa/messaging */
	x = cell_of(c, n, "RU-MOW", "wa");
	assert_non_null(x);
	assert_int_equal(x->verdict, CELL_BLOCKED);
	assert_int_equal(x->where, CELL_WHERE_ISP);
	assert_int_equal(x->where_n[CELL_WHERE_ISP], 5);
	assert_int_equal(x->where_n[CELL_WHERE_UPSTREAM], 1);
	assert_int_equal(x->hops[3], 6);
	assert_true(x->has_facets);
	x = cell_of(c, n, "RU-MOW", "wa/calls");
	assert_non_null(x);
	assert_int_equal(x->verdict, CELL_BLOCKED);
	assert_int_equal(x->where_n[CELL_WHERE_ISP], 0);	/* no locate */
	x = cell_of(c, n, "RU-MOW", "wa/messaging");
	assert_non_null(x);
	assert_int_equal(x->verdict, CELL_BLOCKED);
	assert_int_equal(x->where, CELL_WHERE_ISP);
	js = doc(c, n);
	assert_non_null(strstr(js, "\"service\":\"wa/calls\""));
	assert_non_null(strstr(js, "\"where\":\"isp\",\"where_counts\":"
	    "{\"isp\":5,\"upstream\":1,\"unknown\":0},\"where_hops\":"
	    "[{\"hop\":3,\"count\":6}]"));
	free(js);
	rollup_cells_free(c, n);
	/* a part as the service filter; a bad part refused */
	assert_int_equal(rollup_map(f->s, T0, T0 + H_US, "wa/calls", &f->o.c,
	    &c, &n, &pend, &d), ZE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].service, "wa/calls");
	assert_int_equal(c[0].ntargets, 1);
	rollup_cells_free(c, n);
	assert_int_equal(rollup_map(f->s, T0, T0 + H_US, "wa/video", &f->o.c,
	    &c, &n, &pend, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "wa/video"));
	/* events: the cell's and its parts' first states */
	{
		struct evs ev = {0};

		assert_int_equal(rollup_events(f->s, T0, T0 + H_US, ev_collect,
		    &ev, &d), ZE_OK);
		assert_int_equal(ev.n, 3);
		assert_string_equal(ev.svc[0], "wa");
		assert_string_equal(ev.svc[1], "wa/calls");
		assert_string_equal(ev.svc[2], "wa/messaging");
		for (int i = 0; i < 3; i++)
			assert_int_equal(ev.to[i], CELL_BLOCKED);
	}
	/* the exports: each localized blocked measurement with its locate
	 * and where, the stun ones (no localization) with neither */
	for (int fmt = 0; fmt < 2; fmt++) {
		struct export_filter ef = {.since = 0, .until = INT64_MAX,
		    .service = "wa/messaging"};
		struct analyze_opts ao;
		zbuf_t out;
		uint64_t cnt = 0;
		size_t isp = 0, up = 0, lines = 0;

		analyze_opts_default(&ao);
		ao.v.asn = t;
		ao.now_us = T0 + 10 * H_US;
		zbuf_init(&out, 1 << 22);
		assert_int_equal(export_run(f->s, fmt ? EXPORT_OONI :
		    EXPORT_JSONL, &ef, &ao, collect, &out, &cnt, &d), ZE_OK);
		assert_int_equal(cnt, 7);	/* 6 probes, 1 control: tcp */
		for (const char *p = (const char *)out.data; p != NULL &&
		    *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			const char *nl = strchr(p, '\n');
			char *line = strndup(p, nl ? (size_t)(nl - p) :
			    strlen(p));

			lines++;
			isp += strstr(line, ",\"where\":\"isp\"") != NULL;
			up += strstr(line, ",\"where\":\"upstream\"") != NULL;
			assert_true((strstr(line, "\"locate\":{") != NULL) ==
			    (strstr(line, "\"role\":\"control\"") == NULL &&
			    strstr(line, "\"zond_role\":\"control\"") == NULL));
			free(line);
		}
		assert_int_equal(lines, 7);
		assert_int_equal(isp, 5);
		assert_int_equal(up, 1);
		zbuf_free(&out);
	}
	f->o.v.asn = NULL;
	ipasn_free(&t);
}

struct open_q {
	const uint8_t *id;
	uint8_t v, m;
	int rc;
};

static int
open_q_fn(store_tx_t *tx, void *arg)
{
	struct open_q *q = arg;

	q->rc = store_tx_open_get(tx, q->id, &q->v, &q->m);
	return q->rc < 0;
}

/* One agent sends a burst of QUIC measurements of different targets with
 * nearly equal starts: looking for each one's siblings walks at most
 * o.sib_walk of its measurements each way (it walked every one within 3
 * minutes, n^2 for a burst of n), and another variant of the same target
 * within that reach still makes a failure a QUIC block. */
static void
t_quic_burst_linear(void **state)
{
	struct fx *f = *state;
	struct rollup_stats st;
	struct open_q q;
	uint8_t large[16];
	char t[32];
	size_t n = 300, k;
	zdiag_t d;

	f->o.sib_walk = 16;
	put_quic(f, 0, "yt.example", "initial_large", T0 + 10 * MIN_US,
	    FL(NONE));
	put_quic(f, 2, "yt.example", "initial_large", T0 + 10 * MIN_US,
	    FL(TIMEOUT));
	memcpy(large, f->last, 16);
	for (k = 0; k < n; k++) {
		snprintf(t, sizeof(t), "q%zu.example", k);
		put_quic(f, 2, t, "initial_large", T0 + 10 * MIN_US +
		    (int64_t)k, FL(TIMEOUT));
		if (k == 10)	/* 12 entries after the failure, within 16 */
			put_quic(f, 2, "yt.example", "vn", T0 + 10 * MIN_US +
			    (int64_t)k, FL(NONE));
	}
	/* yt has a control: judged now, the sibling found */
	drain(f, T0 + 30 * MIN_US, &st);
	assert_int_equal(st.judged, 2);
	assert_true(st.sib_walked <= 2 * 2 * f->o.sib_walk);
	memset(&q, 0, sizeof(q));
	q.id = large;
	assert_int_equal(store_tx_run(f->s, false, open_q_fn, &q, "test", &d),
	    ZE_OK);
	assert_int_equal(q.rc, 0);
	assert_int_equal(q.v, VERDICT_BLOCKED);
	assert_int_equal(q.m, METHOD_QUIC);
	/* the burst without control, judged when its window closed: each
	 * walks at most 2 * sib_walk entries */
	drain(f, T0 + 3 * H_US, &st);
	assert_int_equal(st.judged, n);
	assert_true(st.sib_walked >= n);
	if (st.sib_walked > (uint64_t)(n + 2) * 2 * f->o.sib_walk)
		fail_msg("%llu entries walked for %zu QUIC measurements",
		    (unsigned long long)st.sib_walked, n);
}

/* Set agent i's network type (the operator's enroll --network). */
static void
set_network(struct fx *f, int i, enum store_network net)
{
	struct store_agent a;
	bool created;
	zdiag_t d;

	assert_int_equal(store_agent_get(f->s, f->pk[i], &a, &d), ZE_OK);
	a.network = net;
	assert_int_equal(store_agent_enroll(f->s, &a, &created, &d), ZE_OK);
	assert_false(created);
}

/* RU-MOW/64501 has mobile agents 1, 2 under a whitelist and fixed agent
 * 5 on an open line: the map split by network says whitelist for mobile
 * and ok for fixed; the export keeps one type and names it. */
static void
t_network_split(void **state)
{
	struct fx *f = *state;
	struct analyze_opts ao;
	struct export_filter ef = {.since = 0, .until = INT64_MAX,
	    .has_network = true, .network = STORE_NET_FIXED};
	cell_t *c;
	size_t n, lines = 0;
	uint64_t cnt = 0;
	zbuf_t out;
	zdiag_t d;

	set_network(f, 1, STORE_NET_MOBILE);
	set_network(f, 2, STORE_NET_MOBILE);
	set_network(f, 5, STORE_NET_FIXED);
	regime_hour(f, "svc", 1, true, false, false);
	for (int k = 0; k < 3; k++) {
		int64_t at = T0 + H_US + (12 + 5 * k) * MIN_US;

		put(f, 5, REGIME_DOMESTIC, "ya.example:443", at, FL(NONE));
		put(f, 5, REGIME_FOREIGN, "cdn.example:443", at, FL(NONE));
		put(f, 5, "svc", "s.example:443", at, FL(NONE));
	}
	drain(f, T0 + 10 * H_US, &(struct rollup_stats){0});
	assert_int_equal(rollup_map_net(f->s, T0 + H_US, T0 + 2 * H_US, NULL,
	    STORE_NET_MOBILE, &f->o.c, &c, &n, NULL, &d), ZE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_WHITELIST);
	assert_int_equal(c[0].agents, 2);
	rollup_cells_free(c, n);
	/* one fixed agent: enough only with minimums of 1 */
	f->o.c.min_agents = 1;
	f->o.c.regime_min_agents = 1;
	assert_int_equal(rollup_map_net(f->s, T0 + H_US, T0 + 2 * H_US,
	    "svc", STORE_NET_FIXED, &f->o.c, &c, &n, NULL, &d), ZE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].verdict, CELL_OK);
	assert_int_equal(c[0].agents, 1);
	assert_int_equal(c[0].measurements, 3);
	rollup_cells_free(c, n);
	c = rmap(f, T0 + H_US, T0 + 2 * H_US, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].agents, 3);	/* both types */
	rollup_cells_free(c, n);
	/* no agent of that type: no cell */
	assert_int_equal(rollup_map_net(f->s, T0 + H_US, T0 + 2 * H_US, NULL,
	    STORE_NET_UNKNOWN, &f->o.c, &c, &n, NULL, &d), ZE_OK);
	assert_int_equal(n, 0);
	rollup_cells_free(c, n);
	analyze_opts_default(&ao);
	ao.now_us = T0 + 10 * H_US;
	zbuf_init(&out, 1 << 22);
	assert_int_equal(export_run(f->s, EXPORT_JSONL, &ef, &ao, collect,
	    &out, &cnt, &d), ZE_OK);
	assert_int_equal(cnt, 9);	/* agent 5's records only */
	assert_int_equal(zbuf_putc(&out, '\0'), ZE_OK);
	for (const char *p = (const char *)out.data; (p = strstr(p,
	    ",\"network\":\"fixed\"")) != NULL; p++)
		lines++;
	assert_int_equal(lines, 9);
	assert_null(strstr((const char *)out.data, "\"network\":\"mobile\""));
	zbuf_free(&out);
	/* without the filter every record names its agent's type */
	ef.has_network = false;
	zbuf_init(&out, 1 << 22);
	assert_int_equal(export_run(f->s, EXPORT_JSONL, &ef, &ao, collect,
	    &out, &cnt, &d), ZE_OK);
	assert_int_equal(cnt, 9 + 18 + 3);
	assert_int_equal(zbuf_putc(&out, '\0'), ZE_OK);
	assert_non_null(strstr((const char *)out.data,
	    "\"network\":\"mobile\""));
	assert_non_null(strstr((const char *)out.data,
	    "\"role\":\"control\",\"network\":\"unknown\""));
	zbuf_free(&out);
}

/* ------------------------------------------------- region seek */

/* Roll-up keys whose names tempt a seek to go wrong: services that are
 * prefixes of others ("a", "a-b", "a/calls", "ab"), regions before and
 * after the one sought, a region that is a prefix of another, hours with
 * none of the region. */
static const char *const rs_svc[] = {"a", "a-b", "a/calls", "ab", "b",
    "zz", REGIME_DOMESTIC};
static const char *const rs_reg[] = {"RU-AD", "RU-MO", "RU-MOS",
    "RU-MOW", "RU-SPE", "RU-YAN"};

struct rs_put {
	uint64_t rng;
	int n;
};

static int
rs_put_fn(store_tx_t *tx, void *arg)
{
	struct rs_put *p = arg;

	for (uint32_t h = 100; h < 106; h++)
		for (size_t sv = 0; sv < sizeof(rs_svc) / sizeof(*rs_svc); sv++)
			for (size_t rg = 0; rg < sizeof(rs_reg) /
			    sizeof(*rs_reg); rg++)
				for (uint32_t asn = 1; asn <= 3; asn++) {
					struct store_cellkey k;
					uint8_t v[4];

					p->rng = p->rng * 6364136223846793005ULL +
					    1442695040888963407ULL;
					/* about half the cells; hour 103 holds
					 * no RU-MOW */
					if ((p->rng >> 33) % 2 == 0 ||
					    (h == 103 && rg == 3))
						continue;
					memset(&k, 0, sizeof(k));
					k.hour = h;
					snprintf(k.service, sizeof(k.service),
					    "%s", rs_svc[sv]);
					snprintf(k.region, sizeof(k.region),
					    "%s", rs_reg[rg]);
					k.asn = asn;
					memcpy(v, &p->n, sizeof(v));
					if (store_tx_rollup_put(tx, &k, v,
					    sizeof(v)) != 0)
						return -1;
					p->n++;
				}
	return 0;
}

struct rs_got {
	const char *region;	/* NULL: keep all (the sought walk) */
	char keys[4096][96];
	size_t n;
	size_t stop_at;		/* fn says stop after this many; 0: never */
};

static int
rs_one(const struct store_cellkey *k, const uint8_t *p, size_t n,
    void *arg)
{
	struct rs_got *g = arg;
	int32_t v;

	assert_int_equal(n, 4);
	memcpy(&v, p, 4);
	if (g->region != NULL && strcmp(k->region, g->region) != 0)
		return 0;
	assert_true(g->n < 4096);
	snprintf(g->keys[g->n++], sizeof(g->keys[0]), "%u|%s|%s|%u|%d",
	    k->hour, k->service, k->region, k->asn, v);
	return g->stop_at > 0 && g->n == g->stop_at;
}

struct rs_q {
	const char *service, *region;
	struct rs_got *all, *sought;
	uint32_t h0, h1;
};

static int
rs_read_fn(store_tx_t *tx, void *arg)
{
	struct rs_q *q = arg;

	if (store_tx_rollup_iter(tx, q->h0, q->h1, q->service, NULL, rs_one,
	    q->all) < 0)
		return -1;
	return store_tx_rollup_iter(tx, q->h0, q->h1, q->service, q->region,
	    rs_one, q->sought) < 0 ? -1 : 0;
}

static void
t_region_seek(void **state)
{
	struct fx *f = *state;
	struct rs_put p = {.rng = 11};
	struct rs_got *all = calloc(1, sizeof(*all));
	struct rs_got *sought = calloc(1, sizeof(*sought));
	static const char *const want[] = {"RU-AD", "RU-MO", "RU-MOW",
	    "RU-YAN", "RU-ZZZ", "AA-XX"};
	zdiag_t d;
	size_t checked = 0;

	assert_non_null(all);
	assert_non_null(sought);
	assert_int_equal(store_tx_run(f->s, true, rs_put_fn, &p, "test", &d),
	    ZE_OK);
	assert_true(p.n > 100);
	for (size_t r = 0; r < sizeof(want) / sizeof(*want); r++)
		for (int sv = -1; sv < (int)(sizeof(rs_svc) / sizeof(*rs_svc));
		    sv++) {
			struct rs_q q = {.service = sv < 0 ? NULL : rs_svc[sv],
			    .region = want[r], .all = all, .sought = sought,
			    .h0 = 101, .h1 = 105};

			all->n = sought->n = 0;
			all->region = want[r];
			sought->region = NULL;
			sought->stop_at = 0;
			assert_int_equal(store_tx_run(f->s, false, rs_read_fn,
			    &q, "test", &d), ZE_OK);
			assert_int_equal(sought->n, all->n);
			for (size_t i = 0; i < all->n; i++)
				assert_string_equal(sought->keys[i],
				    all->keys[i]);
			checked += all->n;
		}
	/* every region of the store was found somewhere */
	assert_true(checked > 50);
	/* fn's stop ends the walk at once, across hours */
	{
		struct rs_q q = {.service = NULL, .region = "RU-MOW",
		    .all = all, .sought = sought, .h0 = 100, .h1 = 106};

		all->n = sought->n = 0;
		all->region = "RU-MOW";
		sought->region = NULL;
		sought->stop_at = 3;
		assert_int_equal(store_tx_run(f->s, false, rs_read_fn, &q,
		    "test", &d), ZE_OK);
		assert_int_equal(sought->n, 3);
		for (size_t i = 0; i < 3; i++)
			assert_string_equal(sought->keys[i], all->keys[i]);
	}
	free(all);
	free(sought);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_region_seek, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_unplaced_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_waits_for_control, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_domestic_review, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_domestic_unhealthy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_equals_on_demand, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_settle_corrects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(t_events, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hook_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(t_open_hour, setup, teardown),
		cmocka_unit_test_setup_teardown(t_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(t_silence_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(t_two_analyzers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_reset_beside_ingest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_cell_v2_rebuilt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_where_parts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_cell_v1_rebuilt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_old_layout_rebuilt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_regime_whitelist, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_regime_shutdown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_regime_blocked_then_late,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_regime_min_agents, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_network_split, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_quic_burst_linear, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
