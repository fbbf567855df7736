/*
 * test_cells — cells from judged measurements, judged over agents: one
 * agent's repeats are one sample, one volunteer alone never makes a
 * verdict, a broken Pi among healthy neighbours is an agent anomaly and no
 * evidence, geoblocked and filtered never make blocked; conservative
 * against one unlucky measurement and lossy networks, insufficient below
 * the minimums, the dominant method, the stored encoding (round trip,
 * every rule of the layout, damaged records, caps), bucket merges, region
 * roll-ups (partial with the blocked ASNs), the map document byte for
 * byte, and events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "events.h"
#include "ipasn.h"
#include "map.h"
#include "mk.h"
#include "verdict.h"

#define T0 1767225600000000LL	/* 2026-01-01T00:00:00Z */

static uint8_t keys[16][32];

static const uint8_t *
key(int i)
{
	memset(keys[i], i, 32);
	return keys[i];
}

static void
add_n(cell_acc_t *a, int agent, const char *target, Zond__V1__TestKind t,
    const char *variant, verdict_t v, method_t m, int n)
{
	struct cell_obs o = {
		.agent = key(agent), .target = target, .test = t,
		.variant = variant, .verdict = v, .method = m,
	};

	while (n-- > 0)
		assert_int_equal(cell_acc_add(a, &o), ZE_OK);
}

/* n blocking measurements with a localization of kind w at hop (0:
 * none). */
static void
add_loc(cell_acc_t *a, int agent, const char *target, Zond__V1__TestKind t,
    verdict_t v, method_t m, cell_where_t w, uint8_t hop, int n)
{
	struct cell_obs o = {
		.agent = key(agent), .target = target, .test = t,
		.verdict = v, .method = m, .locate = true, .where = w,
		.hop = hop,
	};

	while (n-- > 0)
		assert_int_equal(cell_acc_add(a, &o), ZE_OK);
}

/* The same measurements from agents 1 and 2. */
static void
add2(cell_acc_t *a, const char *target, Zond__V1__TestKind t,
    const char *variant, verdict_t v, method_t m, int n)
{
	add_n(a, 1, target, t, variant, v, m, n);
	add_n(a, 2, target, t, variant, v, m, n);
}

static cell_acc_t *
acc(const char *region, int64_t asn, const char *service)
{
	cell_acc_t *a = NULL;

	assert_int_equal(cell_acc_new(region, asn, service, &a), ZE_OK);
	assert_non_null(a);
	return a;
}

static cell_t
judged(const cell_acc_t *a, const struct cell_opts *o)
{
	cell_t c;

	assert_int_equal(cell_judge(a, o, &c), ZE_OK);
	return c;
}

#define CELL_IS(c, v, m) do { \
	if ((c).verdict != (v) || (c).method != (m)) \
		fail_msg("cell %s/%s, want %s/%s", \
		    cell_verdict_name((c).verdict), \
		    method_name((c).method) ? method_name((c).method) : "-", \
		    cell_verdict_name(v), \
		    method_name(m) ? method_name(m) : "-"); \
} while (0)

static void
t_wilson(void **state)
{
	(void)state;
	assert_true(fabs(cell_wilson_lower(6, 6, 1.96) - 0.6097) < 1e-3);
	assert_true(fabs(cell_wilson_lower(5, 10, 1.96) - 0.2366) < 1e-3);
	assert_true(cell_wilson_lower(0, 10, 1.96) == 0.0);
	assert_true(cell_wilson_lower(0, 0, 1.96) == 0.0);
	assert_true(cell_wilson_lower(3, 3, 1.96) < 0.5);
}

static void
t_one_lost_packet(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 12389, "whatsapp");
	cell_t c;

	(void)state;
	/* one timeout (judged blocked/tcp: control worked) among 11 ok */
	add_n(a, 1, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 6);
	add_n(a, 2, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 5);
	add_n(a, 2, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.measurements, 12);
	assert_int_equal(c.agents, 2);
	/* agent 2's sample is ok (5 of its 6): no blocked sample at all */
	assert_true(c.blocked_share == 0.0);
	assert_int_equal(c.targets[0].verdict, CELL_OK);
	assert_int_equal(c.targets[0].agents, 2);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 2, 1.96)) <
	    1e-9);
	cell_clear(&c);

	/* a tie (1 ok, 1 blocked) never makes an agent's sample blocked */
	cell_acc_free(&a);
	a = acc("RU-MOW", 12389, "whatsapp");
	add_n(a, 1, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 1);
	add_n(a, 1, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 1);
	add_n(a, 2, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 1);
	add_n(a, 2, "e1.whatsapp.net:5222", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 1);
	add_n(a, 1, "web.whatsapp.com", TK(DNS), NULL, VERDICT_OK,
	    METHOD_NONE, 2);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.targets[0].verdict, CELL_OK);
	assert_true(c.targets[0].blocked_share == 0.0);
	cell_clear(&c);
	cell_acc_free(&a);
	assert_null(a);
}

/* A 5 % loss network, no censorship, through the real verdict rules:
 * retries left 4 failures in 80 measurements, two on the same target. */
static void
t_loss_only_network(void **state)
{
	static const char *const targets[] = {
		"a.example:443", "b.example:443", "c.example:443",
		"d.example:443",
	};
	cell_acc_t *a = acc("RU-TA", 64501, "news");
	meas_t *ctl = mk(TK(TCP), "", 9, FL(NONE));
	size_t i, blocked = 0;
	cell_t c;

	(void)state;
	for (i = 0; i < 80; i++) {
		const char *t = targets[i % 4];
		bool lost = i == 7 || i == 30 || i == 31 || i == 62;
		meas_t *m = mk(TK(TCP), t, 1 + (int)(i / 4 % 2),
		    lost ? FL(TIMEOUT) : FL(NONE));
		const meas_t *cv[1] = {ctl};
		struct verdict_res r;
		struct cell_obs o;

		free(ctl->target);
		ctl->target = strdup(t);
		assert_int_equal(mk_judge(NULL, m, cv, 1, NULL, 0, &r), ZE_OK);
		if (r.verdict == VERDICT_BLOCKED)
			blocked++;
		o = (struct cell_obs){.agent = m->agent.data, .target = t,
		    .test = m->test, .verdict = r.verdict,
		    .method = r.method};
		assert_int_equal(cell_acc_add(a, &o), ZE_OK);
		mk_free(m);
	}
	/* each lost one alone looks blocked: the cell must not */
	assert_int_equal(blocked, 4);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	for (i = 0; i < c.ntargets; i++) {
		assert_int_equal(c.targets[i].verdict, CELL_OK);
		assert_int_equal(c.targets[i].agents, 2);
	}
	assert_true(c.blocked_share == 0.0);	/* no agent mostly failed */
	cell_clear(&c);
	cell_acc_free(&a);
	mk_free(ctl);
}

static void
t_blocked_cell(void **state)
{
	cell_acc_t *a = acc("RU-SPE", 8359, "facetime");
	cell_t c;

	(void)state;
	add_n(a, 1, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 3);
	add_n(a, 2, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 3);
	add_n(a, 1, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	add_n(a, 2, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TLS);
	assert_int_equal(c.measurements, 12);
	assert_int_equal(c.agents, 2);
	/* 2 of 4 agent samples (2 sub-rows), blocked by 2 of 2 agents */
	assert_true(fabs(c.blocked_share - 0.5) < 1e-9);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 2, 1.96)) <
	    1e-9);
	assert_int_equal(c.targets[0].agents, 2);
	assert_true(c.targets[0].blocked_share == 1.0);
	assert_int_equal(c.ntargets, 2);
	assert_string_equal(c.targets[0].target, "call.example");
	assert_int_equal(c.targets[0].verdict, CELL_BLOCKED);
	assert_int_equal(c.targets[0].method, METHOD_TLS);
	assert_string_equal(c.targets[1].variant, "plain");
	assert_int_equal(c.targets[1].verdict, CELL_OK);
	cell_clear(&c);

	/* one agent of two blocked is not enough (1 < min_blocked), and
	 * not ok either: inconclusive */
	cell_acc_free(&a);
	a = acc("RU-SPE", 8359, "facetime");
	add_n(a, 1, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 3);
	add_n(a, 2, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    3);
	c = judged(a, NULL);
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	cell_clear(&c);

	/* one agent's 20 repeats against another agent's one ok: one
	 * sample each, never blocked */
	cell_acc_free(&a);
	a = acc("RU-SPE", 8359, "facetime");
	add_n(a, 1, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 20);
	add_n(a, 2, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	c = judged(a, NULL);
	assert_int_not_equal(c.verdict, CELL_BLOCKED);
	assert_int_equal(c.measurements, 21);
	assert_int_equal(c.targets[0].agents, 2);
	assert_true(fabs(c.targets[0].blocked_share - 0.5) < 1e-9);
	assert_int_equal(c.agent_anomaly, 0);	/* one ok is no majority */
	cell_clear(&c);
	cell_acc_free(&a);
}

static void
t_down_cell(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 64501, "news");
	cell_t c;

	(void)state;
	/* a dead site: the name resolves, nothing answers anywhere */
	add_n(a, 1, "dead.example", TK(DNS), NULL, VERDICT_OK, METHOD_NONE, 6);
	add_n(a, 1, "dead.example", TK(TLS), NULL, VERDICT_DOWN, METHOD_NONE,
	    6);
	add_n(a, 2, "http://dead.example/", TK(HTTP), NULL, VERDICT_DOWN,
	    METHOD_NONE, 6);
	c = judged(a, NULL);
	CELL_IS(c, CELL_DOWN, METHOD_NONE);
	assert_true(c.blocked_share == 0.0);
	cell_clear(&c);

	/* a stray blocked verdict on a dead site does not make it blocked:
	 * agent 1's sample stays down (6 of 7) */
	add_n(a, 1, "dead.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_DOWN, METHOD_NONE);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* Failures nobody can explain (anomalies) make neither ok nor blocked. */
static void
t_inconclusive(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 1, "signal");
	cell_t c;

	(void)state;
	/* every agent's sample an anomaly */
	for (int g = 1; g <= 3; g++) {
		add_n(a, g, "chat.signal.org", TK(TLS), NULL, VERDICT_ANOMALY,
		    METHOD_TLS, 5);
		add_n(a, g, "chat.signal.org", TK(TLS), NULL, VERDICT_OK,
		    METHOD_NONE, 1);
	}
	c = judged(a, NULL);
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	assert_int_equal(c.targets[0].verdict, CELL_INSUFFICIENT);
	assert_int_equal(c.targets[0].agents, 3);
	cell_clear(&c);
	/* two of them now mostly reach it: ok, 2 of 3 agent samples */
	add_n(a, 1, "chat.signal.org", TK(TLS), NULL, VERDICT_OK,
	    METHOD_NONE, 9);
	add_n(a, 2, "chat.signal.org", TK(TLS), NULL, VERDICT_OK,
	    METHOD_NONE, 9);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 3, 1.96)) <
	    1e-9);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* One volunteer alone cannot make a cell blocked, however often it
 * measures; a second agent seeing the same can. */
static void
t_insufficient(void **state)
{
	struct cell_opts o;
	cell_acc_t *a = acc("RU-SA", 64502, "telegram");
	cell_t c;

	(void)state;
	add_n(a, 1, "web.telegram.org", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 2);
	c = judged(a, NULL);	/* 2 < min_measurements 3 */
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	assert_true(c.confidence == 0.0);
	cell_clear(&c);
	add_n(a, 1, "web.telegram.org", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 48);
	c = judged(a, NULL);	/* 1 agent < min_agents 2 */
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	assert_int_equal(c.measurements, 50);
	assert_int_equal(c.agents, 1);
	cell_clear(&c);
	/* even where one agent is allowed, its 50 are one sample */
	cell_opts_default(&o);
	assert_int_equal(o.min_agents, 2);
	o.min_agents = 1;
	c = judged(a, &o);
	assert_int_not_equal(c.verdict, CELL_BLOCKED);
	assert_int_equal(c.targets[0].agents, 1);
	assert_int_not_equal(c.targets[0].verdict, CELL_BLOCKED);
	cell_clear(&c);
	/* a second agent sees it too: blocked by 2 of 2 agents */
	add_n(a, 2, "web.telegram.org", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TLS);
	assert_int_equal(c.agents, 2);
	assert_int_equal(c.targets[0].agents, 2);
	assert_true(c.targets[0].blocked_share == 1.0);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 2, 1.96)) <
	    1e-9);
	cell_clear(&c);
	cell_acc_free(&a);
}

static void
t_throttled_cell(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 12389, "youtube");
	cell_t c;

	(void)state;
	/* one slow transfer is no throttling */
	add_n(a, 1, "helper", TK(THROUGHPUT), NULL, VERDICT_THROTTLED,
	    METHOD_THROTTLE, 1);
	add_n(a, 1, "helper", TK(THROUGHPUT), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	add_n(a, 2, "helper", TK(THROUGHPUT), NULL, VERDICT_OK, METHOD_NONE,
	    2);
	add_n(a, 1, "www.youtube.com", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    4);
	add_n(a, 2, "www.youtube.com", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    4);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	cell_clear(&c);
	/* consistently slow for both agents: throttled */
	add_n(a, 1, "helper", TK(THROUGHPUT), NULL, VERDICT_THROTTLED,
	    METHOD_THROTTLE, 3);
	add_n(a, 2, "helper", TK(THROUGHPUT), NULL, VERDICT_THROTTLED,
	    METHOD_THROTTLE, 3);
	c = judged(a, NULL);
	CELL_IS(c, CELL_THROTTLED, METHOD_THROTTLE);
	cell_clear(&c);
	cell_acc_free(&a);
}

static void
t_dominant_method(void **state)
{
	cell_acc_t *a;
	cell_t c;

	(void)state;
	/* DNS lie: the follow-up HTTP fetch fails too; dns explains it */
	a = acc("RU-MOW", 1, "news");
	add2(a, "http://news.example/", TK(HTTP), NULL, VERDICT_BLOCKED,
	    METHOD_HTTP, 8);
	add2(a, "news.example", TK(DNS), NULL, VERDICT_BLOCKED,
	    METHOD_DNS, 6);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_DNS);
	cell_clear(&c);
	cell_acc_free(&a);

	/* IP block: tcp outnumbers http, neither is specific */
	a = acc("RU-MOW", 1, "news");
	add2(a, "news.example:443", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 6);
	add2(a, "news.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 6);
	add2(a, "http://news.example/", TK(HTTP), NULL, VERDICT_BLOCKED,
	    METHOD_HTTP, 6);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TCP);
	cell_clear(&c);
	cell_acc_free(&a);

	/* freeze beats the http fetch it breaks */
	a = acc("RU-MOW", 1, "hosting");
	add2(a, "http://h.example/", TK(HTTP), NULL, VERDICT_BLOCKED,
	    METHOD_HTTP, 6);
	add2(a, "helper", TK(FREEZE), NULL, VERDICT_BLOCKED,
	    METHOD_FREEZE, 6);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_FREEZE);
	cell_clear(&c);
	cell_acc_free(&a);
}

static void
t_add_remove(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 12389, "facetime");
	struct cell_obs o = {
		.agent = key(1), .target = "call.example", .test = TK(TLS),
		.verdict = VERDICT_BLOCKED, .method = METHOD_TLS,
	};
	zbuf_t b0, b1;
	cell_t c;

	(void)state;
	zbuf_init(&b0, 1 << 20);
	zbuf_init(&b1, 1 << 20);
	assert_int_equal(cell_acc_encode(a, &b0), ZE_OK);
	add_n(a, 1, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 2);
	assert_int_equal(cell_acc_count(a), 2);
	/* removing what was never added changes nothing */
	o.method = METHOD_TCP;
	assert_int_equal(cell_acc_remove(a, &o), ZE_NOTFOUND);
	o.method = METHOD_TLS;
	o.agent = key(3);
	assert_int_equal(cell_acc_remove(a, &o), ZE_NOTFOUND);
	o.agent = key(1);
	o.verdict = VERDICT_OK;
	assert_int_equal(cell_acc_remove(a, &o), ZE_NOTFOUND);
	o.verdict = VERDICT_BLOCKED;
	assert_int_equal(cell_acc_count(a), 2);
	/* re-judgment: blocked out, ok in */
	assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	o.verdict = VERDICT_OK;
	o.method = METHOD_NONE;
	assert_int_equal(cell_acc_add(a, &o), ZE_OK);
	c = judged(a, NULL);
	assert_int_equal(c.measurements, 2);
	assert_int_equal(c.agents, 1);
	cell_clear(&c);
	/* all out again: the empty encoding comes back */
	assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	o.verdict = VERDICT_BLOCKED;
	o.method = METHOD_TLS;
	assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	assert_int_equal(cell_acc_encode(a, &b1), ZE_OK);
	assert_int_equal(b0.len, b1.len);
	assert_memory_equal(b0.data, b1.data, b0.len);
	c = judged(a, NULL);
	assert_int_equal(c.agents, 0);
	assert_int_equal(c.ntargets, 0);
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	cell_clear(&c);
	/* pending is not a verdict to count */
	o.verdict = VERDICT_PENDING;
	assert_int_equal(cell_acc_add(a, &o), ZE_INVAL);
	o.verdict = VERDICT_OK;
	o.target = NULL;
	assert_int_equal(cell_acc_add(a, &o), ZE_INVAL);
	assert_int_equal(cell_acc_count(a), 0);
	/* bad keys */
	cell_acc_t *x = NULL;
	assert_int_equal(cell_acc_new("", 1, "s", &x), ZE_INVAL);
	assert_int_equal(cell_acc_new("RU-A-VERY-LONG-REGION", 1, "s", &x),
	    ZE_INVAL);
	assert_null(x);
	zbuf_free(&b0);
	zbuf_free(&b1);
	cell_acc_free(&a);
}

static cell_acc_t *
sample(void)
{
	cell_acc_t *a = acc("RU-SPE", 8359, "facetime");

	/* localized: 3 at the ISP's hop 2, one upstream at hop 4, two not
	 * located */
	add_loc(a, 1, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_ISP, 2, 3);
	add_loc(a, 2, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UPSTREAM, 4, 1);
	add_loc(a, 2, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UNKNOWN, 0, 2);
	add_n(a, 1, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	add_n(a, 2, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	return a;
}

static void
t_roundtrip(void **state)
{
	cell_acc_t *a = sample(), *b = NULL;
	zbuf_t e1, e2;
	zdiag_t d;
	cell_t c1, c2;
	size_t i, off;
	uint8_t *copy;

	(void)state;
	zbuf_init(&e1, 1 << 20);
	zbuf_init(&e2, 1 << 20);
	assert_int_equal(cell_acc_encode(a, &e1), ZE_OK);
	assert_int_equal(e1.data[0], CELL_ACC_VERSION);
	assert_int_equal(cell_acc_decode(e1.data, e1.len, &b, &d), ZE_OK);
	assert_int_equal(cell_acc_encode(b, &e2), ZE_OK);
	assert_int_equal(e1.len, e2.len);
	assert_memory_equal(e1.data, e2.data, e1.len);
	c1 = judged(a, NULL);
	c2 = judged(b, NULL);
	assert_int_equal(c1.verdict, c2.verdict);
	assert_int_equal(c1.method, c2.method);
	assert_int_equal(c1.measurements, c2.measurements);
	assert_int_equal(c1.agents, c2.agents);
	assert_string_equal(c2.region, "RU-SPE");
	assert_int_equal(c2.asn, 8359);
	assert_string_equal(c2.service, "facetime");
	assert_int_equal(c1.ntargets, c2.ntargets);
	cell_clear(&c1);
	cell_clear(&c2);
	/* the decoded accumulator keeps working incrementally */
	add_n(b, 3, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	assert_int_equal(cell_acc_count(b), 13);
	cell_acc_free(&b);

	/* every truncation is refused */
	for (i = 0; i < e1.len; i++) {
		assert_int_not_equal(cell_acc_decode(e1.data, i, &b, &d),
		    ZE_OK);
		assert_null(b);
	}
	copy = malloc(e1.len + 1);
	assert_non_null(copy);
	memcpy(copy, e1.data, e1.len);
	/* a trailing byte */
	copy[e1.len] = 0;
	assert_int_equal(cell_acc_decode(copy, e1.len + 1, &b, &d),
	    ZE_PARSE);
	/* the old versions (no counts per agent in a sub-row, no where
	 * counts: the store rebuilds such roll-ups) and an unknown one;
	 * version 3 is read (t_latest), but not a version 4 body */
	assert_int_equal(CELL_ACC_VERSION, 4);
	copy[0] = 1;
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_VERSION);
	assert_non_null(strstr(d.text, "version 1, expected 4"));
	copy[0] = 2;	/* no where counts: rebuilt too */
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_VERSION);
	assert_non_null(strstr(d.text, "version 2, expected 4"));
	copy[0] = 5;
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_VERSION);
	copy[0] = 3;
	assert_int_not_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_OK);
	assert_null(b);
	copy[0] = CELL_ACC_VERSION;
	/* an agent count that no longer sums with the rows */
	off = 1 + 1 + strlen("RU-SPE") + 8 + 1 + strlen("facetime") + 4 + 32;
	assert_int_equal(copy[off + 3], 6);
	copy[off + 3] = 7;
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_PARSE);
	copy[off + 3] = 6;
	/* agents out of order */
	copy[off - 32] = 0xff;
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_PARSE);
	assert_null(b);
	copy[off - 32] = 1;
	assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_OK);
	cell_acc_free(&b);
	/* the first row's entries: agent 1 then 2, 3 blocked/tls each */
	off += 4 + 36 + 4;			/* agent 2, nrows */
	assert_int_equal(copy[off + 1], strlen("call.example"));
	off += 2 + strlen("call.example") + 1 + 1;	/* nents */
	assert_int_equal(copy[off + 1], 2);
	{
		/* byte, value, error: each breaks one rule of the layout */
		const struct {
			size_t at;
			uint8_t v;
			zerr_t e;
			const char *what;
		} bad[] = {
			{1, 0, ZE_PARSE, "no entries"},
			{1, 3, ZE_PARSE, "more entries than agents"},
			{3, 2, ZE_PARSE, "agent index past the agents"},
			{2 + 24 + 1, 0, ZE_PARSE, "agents out of order"},
			{5, VERDICT__COUNT, ZE_VERSION, "unknown verdict"},
			{5, VERDICT_PENDING, ZE_PARSE, "pending counted"},
			{5, VERDICT_OK, ZE_PARSE, "methods without a block"},
			{9, 0, ZE_PARSE, "a zero count"},
			{9, 4, ZE_PARSE, "blocked and methods differ"},
			{11, METHOD__COUNT, ZE_VERSION, "unknown method"},
			{15, 2, ZE_PARSE, "methods do not sum"},
			{10, 2, ZE_PARSE, "methods out of order"},
			/* the latest (none: time 0, verdict and method 0) */
			{16, 0x80, ZE_PARSE, "a negative latest time"},
			{24, VERDICT_BLOCKED, ZE_PARSE, "a latest verdict, no time"},
			{25, METHOD_TLS, ZE_PARSE, "a latest method, no time"},
			{23, 1, ZE_PARSE, "a latest the counts lack (ok)"},
		};
		for (i = 0; i < ZARRAY_LEN(bad); i++) {
			uint8_t was = copy[off + bad[i].at];

			copy[off + bad[i].at] = bad[i].v;
			if (cell_acc_decode(copy, e1.len, &b, &d) != bad[i].e)
				fail_msg("%s: %s", bad[i].what, d.text);
			assert_null(b);
			copy[off + bad[i].at] = was;
		}
		assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_OK);
		cell_acc_free(&b);
		/* the first row's where counts, after its two entries */
		off += 2 + 2 * (2 + 1 + 5 + 1 + 5 + 10);
		assert_int_equal(copy[off], 3);	/* unknown, isp, upstream */
		assert_int_equal(copy[off + 1], CELL_WHERE_UNKNOWN);
		assert_int_equal(copy[off + 5], 2);
		assert_int_equal(copy[off + 16], 2);	/* hops 2 and 4 */
		const struct {
			size_t at;
			uint8_t v;
			zerr_t e;
			const char *what;
		} badw[] = {
			{1, CELL_WHERE_KINDS, ZE_VERSION, "unknown where"},
			{5, 0, ZE_PARSE, "a zero where count"},
			{5, 3, ZE_PARSE, "where past the blocking count"},
			{6, 0, ZE_PARSE, "where kinds out of order"},
			{17, 0, ZE_PARSE, "hop 0"},
			{17, CELL_HOP_MAX + 1, ZE_PARSE, "hop past the cap"},
			{22, 2, ZE_PARSE, "hops out of order"},
			{21, 6, ZE_PARSE, "hops past the where counts"},
			{26, 0, ZE_PARSE, "a zero hop count"},
		};
		for (i = 0; i < ZARRAY_LEN(badw); i++) {
			uint8_t was = copy[off + badw[i].at];

			copy[off + badw[i].at] = badw[i].v;
			if (cell_acc_decode(copy, e1.len, &b, &d) != badw[i].e)
				fail_msg("%s: %s", badw[i].what, d.text);
			assert_null(b);
			copy[off + badw[i].at] = was;
		}
		assert_int_equal(cell_acc_decode(copy, e1.len, &b, &d), ZE_OK);
		cell_acc_free(&b);
	}
	free(copy);
	zbuf_free(&e1);
	zbuf_free(&e2);
	cell_acc_free(&a);
}

/* Which bytes of an encoding a change may leave valid: the ASN, agent
 * keys, names and test kinds (any value is a record), the verdict and
 * method indexes (a count moved to another verdict) and the where and hop
 * pairs (bounded from above only).  Walks the layout of
 * cells.c. */
static void
free_bytes(const uint8_t *p, size_t n, bool *fr)
{
	size_t i = 0, k, r, g, c, na, nr, ne, len;

	memset(fr, 0, n);
	len = p[1];
	for (k = 2; k < 2 + len + 8; k++)
		fr[k] = true;			/* region, asn */
	i = 2 + len + 8;
	len = p[i];
	for (k = i + 1; k < i + 1 + len; k++)
		fr[k] = true;			/* service */
	i += 1 + len;
	na = (size_t)p[i + 2] << 8 | p[i + 3];
	i += 4;
	for (g = 0; g < na; g++, i += 36)
		for (k = i; k < i + 32; k++)
			fr[k] = true;		/* key */
	nr = (size_t)p[i + 2] << 8 | p[i + 3];
	i += 4;
	for (r = 0; r < nr; r++) {
		len = (size_t)p[i] << 8 | p[i + 1];
		for (k = i + 2; k < i + 2 + len + 1; k++)
			fr[k] = true;		/* target, test */
		i += 2 + len + 1;
		len = p[i];
		for (k = i + 1; k < i + 1 + len; k++)
			fr[k] = true;		/* variant */
		i += 1 + len;
		ne = (size_t)p[i] << 8 | p[i + 1];
		i += 2;
		for (g = 0; g < ne; g++) {
			i += 2;			/* agent index */
			for (c = 0; c < 2; c++) {
				size_t np = p[i++];
				for (k = 0; k < np; k++, i += 5)
					fr[i] = true;	/* index */
			}
			/* the latest's time: another is a record when the
			 * entry counts its verdict */
			for (k = i; k < i + 8; k++)
				fr[k] = true;
			i += 10;
		}
		for (c = 0; c < 2; c++) {	/* where kinds, hops */
			size_t np = p[i++];
			/* kind or hop and count: only bounded by the
			 * blocking counts, so a smaller one is a record */
			for (k = 0; k < 5 * np; k++)
				fr[i++] = true;
		}
	}
	assert_int_equal(i, n);
}

/* Damaged records: every single-byte change and random garbage either
 * fails to decode or decodes to something that encodes back the same;
 * a change to a length, count, agent index or the version always fails. */
static void
t_decode_damage(void **state)
{
	cell_acc_t *a = sample(), *b = NULL;
	zbuf_t e, e2;
	zdiag_t d;
	uint8_t *copy, rnd[512];
	bool *fr;
	uint32_t x = 12345;
	size_t i, j, ok = 0, nfree = 0;
	static const uint8_t deltas[] = {1, 0x80, 0xff};

	(void)state;
	zbuf_init(&e, 1 << 20);
	zbuf_init(&e2, 1 << 20);
	assert_int_equal(cell_acc_encode(a, &e), ZE_OK);
	copy = malloc(e.len);
	fr = malloc(e.len);
	assert_non_null(copy);
	assert_non_null(fr);
	free_bytes(e.data, e.len, fr);
	for (i = 0; i < e.len; i++) {
		nfree += fr[i];
		for (j = 0; j < sizeof(deltas); j++) {
			memcpy(copy, e.data, e.len);
			copy[i] = (uint8_t)(copy[i] + deltas[j]);
			if (cell_acc_decode(copy, e.len, &b, &d) != ZE_OK) {
				assert_null(b);
				assert_true(strlen(d.text) > 0);
				continue;
			}
			ok++;
			if (!fr[i])
				fail_msg("byte %zu + %u decodes", i, deltas[j]);
			zbuf_reset(&e2);
			assert_int_equal(cell_acc_encode(b, &e2), ZE_OK);
			assert_int_equal(e2.len, e.len);
			assert_memory_equal(e2.data, copy, e.len);
			cell_acc_free(&b);
		}
	}
	/* some changes of the free bytes fail too (keys out of order, a
	 * count moved onto pending) */
	assert_true(ok > 0 && ok < nfree * sizeof(deltas));
	for (i = 0; i < 2000; i++) {
		size_t n = 1 + i % sizeof(rnd);
		for (j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			rnd[j] = (uint8_t)(x >> 16);
		}
		rnd[0] = CELL_ACC_VERSION;
		if (cell_acc_decode(rnd, n, &b, &d) == ZE_OK)
			cell_acc_free(&b);
		assert_null(b);
	}
	free(copy);
	free(fr);
	zbuf_free(&e);
	zbuf_free(&e2);
	cell_acc_free(&a);
}

/* n measurements of one agent at start times t0, t0 + 1, ... */
static void
add_at(cell_acc_t *a, int agent, const char *target, verdict_t v,
    method_t m, int64_t t0, int n)
{
	struct cell_obs o = {
		.agent = key(agent), .target = target, .test = TK(TLS),
		.verdict = v, .method = m,
	};

	for (int i = 0; i < n; i++) {
		o.start_us = t0 + i;
		assert_int_equal(cell_acc_add(a, &o), ZE_OK);
	}
}

/* Version 3 of an encoding (cells.c): the same without each entry's
 * latest (10 bytes after its method counts). */
static size_t
to_v3(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t i, o, k, r, g, c, na, nr, ne, len;

	len = p[1];
	i = 2 + len + 8;
	i += 1 + p[i];				/* service */
	na = (size_t)p[i + 2] << 8 | p[i + 3];
	i += 4 + 36 * na;
	nr = (size_t)p[i + 2] << 8 | p[i + 3];
	i += 4;
	memcpy(out, p, i);
	o = i;
	for (r = 0; r < nr; r++) {
		k = i;
		i += 2 + ((size_t)p[i] << 8 | p[i + 1]) + 1;
		i += 1 + p[i];			/* variant */
		ne = (size_t)p[i] << 8 | p[i + 1];
		i += 2;
		memcpy(out + o, p + k, i - k);
		o += i - k;
		for (g = 0; g < ne; g++) {
			k = i;
			i += 2;
			for (c = 0; c < 2; c++)
				i += 1 + 5 * (size_t)p[i];
			memcpy(out + o, p + k, i - k);
			o += i - k;
			i += 10;		/* the latest: left out */
		}
		k = i;
		for (c = 0; c < 2; c++)
			i += 1 + 5 * (size_t)p[i];
		memcpy(out + o, p + k, i - k);
		o += i - k;
	}
	assert_int_equal(i, n);
	out[0] = 3;
	return o;
}

/* The state now (METHODOLOGY.md §3.9): with cell_opts.latest each agent's
 * sample is its latest measurement by start time, whatever order they
 * were added in; a removed latest falls back to the most common; merging
 * keeps the later; the latest survives encoding, and a version 3 record
 * (none) is read and judged by the most common. */
static void
t_latest(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 64501, "facetime"), *h2, *b = NULL;
	struct cell_opts now, common;
	struct cell_obs o;
	zbuf_t e, e2;
	uint8_t *v3;
	size_t n3;
	cell_t c;

	(void)state;
	cell_opts_default(&common);
	now = common;
	now.latest = true;
	/* three agents: five ok rounds, then the block of the latest */
	for (int g = 1; g <= 3; g++) {
		add_at(a, g, "call.example:443", VERDICT_OK, METHOD_NONE, 100,
		    5);
		add_at(a, g, "call.example:443", VERDICT_BLOCKED, METHOD_TLS,
		    200, 1);
	}
	assert_int_equal(cell_judge(a, &common, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_OK);
	cell_clear(&c);
	assert_int_equal(cell_judge(a, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_BLOCKED);
	assert_int_equal(c.method, METHOD_TLS);
	assert_int_equal(c.targets[0].agents, 3);
	cell_clear(&c);

	/* an older measurement delivered late is not the latest */
	add_at(a, 1, "call.example:443", VERDICT_OK, METHOD_NONE, 150, 1);
	add_at(a, 2, "call.example:443", VERDICT_OK, METHOD_NONE, 150, 1);
	assert_int_equal(cell_judge(a, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_BLOCKED);
	cell_clear(&c);

	/* the encoding keeps it; version 3 of the same has none */
	zbuf_init(&e, 1 << 20);
	zbuf_init(&e2, 1 << 20);
	assert_int_equal(cell_acc_encode(a, &e), ZE_OK);
	assert_int_equal(cell_acc_decode(e.data, e.len, &b, NULL), ZE_OK);
	assert_int_equal(cell_acc_encode(b, &e2), ZE_OK);
	assert_int_equal(e2.len, e.len);
	assert_memory_equal(e2.data, e.data, e.len);
	assert_int_equal(cell_judge(b, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_BLOCKED);
	cell_clear(&c);
	cell_acc_free(&b);
	v3 = malloc(e.len);
	assert_non_null(v3);
	n3 = to_v3(e.data, e.len, v3);
	assert_int_equal(n3, e.len - 3 * 10);
	assert_int_equal(cell_acc_decode(v3, n3, &b, NULL), ZE_OK);
	assert_int_equal(cell_acc_count(b), cell_acc_count(a));
	assert_int_equal(cell_judge(b, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_OK);	/* no latest: most common */
	cell_clear(&c);
	/* and is written back as version 4 */
	zbuf_reset(&e2);
	assert_int_equal(cell_acc_encode(b, &e2), ZE_OK);
	assert_int_equal(e2.data[0], CELL_ACC_VERSION);
	cell_acc_free(&b);
	free(v3);

	/* a re-judgment takes the latest away: until it is added back the
	 * entry samples its most common (ok); added back, it is the latest
	 * again */
	memset(&o, 0, sizeof(o));
	o.agent = key(1);
	o.target = "call.example:443";
	o.test = TK(TLS);
	o.verdict = VERDICT_BLOCKED;
	o.method = METHOD_TLS;
	o.start_us = 200;
	assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	o.agent = key(2);
	assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	assert_int_equal(cell_judge(a, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_OK);	/* one blocked of three */
	cell_clear(&c);
	assert_int_equal(cell_acc_add(a, &o), ZE_OK);
	o.agent = key(1);
	assert_int_equal(cell_acc_add(a, &o), ZE_OK);
	assert_int_equal(cell_judge(a, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_BLOCKED);
	cell_clear(&c);

	/* the next hour's bucket: every agent ok again at 300; merged, the
	 * later latest wins in either order */
	h2 = acc("RU-MOW", 64501, "facetime");
	for (int g = 1; g <= 3; g++)
		add_at(h2, g, "call.example:443", VERDICT_OK, METHOD_NONE, 300,
		    1);
	assert_int_equal(cell_acc_merge(a, h2), ZE_OK);
	assert_int_equal(cell_judge(a, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_OK);
	cell_clear(&c);
	cell_acc_free(&h2);
	h2 = acc("RU-MOW", 64501, "facetime");
	for (int g = 1; g <= 3; g++)
		add_at(h2, g, "call.example:443", VERDICT_BLOCKED, METHOD_TLS,
		    50, 1);
	assert_int_equal(cell_acc_merge(h2, a), ZE_OK);
	assert_int_equal(cell_judge(h2, &now, &c), ZE_OK);
	assert_int_equal(c.verdict, CELL_OK);
	cell_clear(&c);
	cell_acc_free(&h2);
	zbuf_free(&e);
	zbuf_free(&e2);
	cell_acc_free(&a);
}

/* One broken Pi among three healthy agents of its ISP: its failures are
 * no blocking evidence; the cell is ok and names it with its share. */
static void
t_broken_pi(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 64501, "news");
	cell_t c;

	(void)state;
	for (int g = 1; g <= 3; g++) {
		add_n(a, g, "news.example:443", TK(TCP), NULL, VERDICT_OK,
		    METHOD_NONE, 4);
		add_n(a, g, "news.example", TK(DNS), NULL, VERDICT_OK,
		    METHOD_NONE, 4);
	}
	/* agent 4 fails both targets (its own link): 18 of its 20
	 * measurements */
	add_n(a, 4, "news.example:443", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 9);
	add_n(a, 4, "news.example:443", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 1);
	add_n(a, 4, "news.example", TK(DNS), NULL, VERDICT_BLOCKED,
	    METHOD_DNS, 9);
	add_n(a, 4, "news.example", TK(DNS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.agents, 4);
	assert_int_equal(c.measurements, 44);
	assert_int_equal(c.agent_anomaly, 1);
	assert_memory_equal(c.anomalies[0].agent, key(4), 32);
	assert_true(fabs(c.anomalies[0].share - 18.0 / 20) < 1e-9);
	assert_true(c.blocked_share == 0.0);
	for (size_t i = 0; i < c.ntargets; i++) {
		assert_int_equal(c.targets[i].verdict, CELL_OK);
		assert_int_equal(c.targets[i].agents, 3);
		assert_int_equal(c.targets[i].agent_anomaly, 1);
	}
	cell_clear(&c);
	/* a real DNS block: every agent fails it; nobody is flagged there
	 * (agent 4 still is for the TCP target the others reach) */
	for (int g = 1; g <= 3; g++)
		add_n(a, g, "news.example", TK(DNS), NULL, VERDICT_BLOCKED,
		    METHOD_DNS, 5);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_DNS);
	assert_string_equal(c.targets[0].target, "news.example");
	assert_int_equal(c.targets[0].agents, 4);
	assert_int_equal(c.targets[0].agent_anomaly, 0);
	assert_true(c.targets[0].blocked_share == 1.0);
	assert_int_equal(c.targets[1].agent_anomaly, 1);
	assert_int_equal(c.agent_anomaly, 1);
	cell_clear(&c);
	cell_acc_free(&a);
	/* two healthy agents are needed to call one broken */
	a = acc("RU-MOW", 64501, "news");
	add_n(a, 1, "news.example", TK(DNS), NULL, VERDICT_OK, METHOD_NONE,
	    3);
	add_n(a, 2, "news.example", TK(DNS), NULL, VERDICT_BLOCKED,
	    METHOD_DNS, 3);
	c = judged(a, NULL);
	assert_int_equal(c.agent_anomaly, 0);
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	cell_clear(&c);
	cell_acc_free(&a);
	/* a split inside one ASN (2 blocked, 2 ok) flags nobody and is
	 * inconclusive: neither ok nor blocked */
	a = acc("RU-MOW", 64501, "news");
	for (int g = 1; g <= 4; g++)
		add_n(a, g, "news.example", TK(DNS), NULL, g <= 2 ?
		    VERDICT_BLOCKED : VERDICT_OK, g <= 2 ? METHOD_DNS :
		    METHOD_NONE, 3);
	c = judged(a, NULL);
	assert_int_equal(c.agent_anomaly, 0);
	CELL_IS(c, CELL_INSUFFICIENT, METHOD_NONE);
	cell_clear(&c);
	/* two more healthy agents (5 and 6): 2 blocked beside
	 * 4 ok are a clear minority, flagged */
	for (int g = 5; g <= 6; g++)
		add_n(a, g, "news.example", TK(DNS), NULL, VERDICT_OK,
		    METHOD_NONE, 3);
	c = judged(a, NULL);
	assert_int_equal(c.agent_anomaly, 2);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* A site that refuses these users itself, or a filter product: never
 * blocked, shown as geoblocked / filtered; a real block elsewhere in the
 * cell still wins. */
static void
t_geo_filtered(void **state)
{
	cell_acc_t *a = acc("RU-SPE", 8359, "ai");
	cell_t c;

	(void)state;
	add2(a, "chat.example:443", TK(TLS), NULL, VERDICT_GEOBLOCKED,
	    METHOD_NONE, 5);
	add2(a, "chat.example", TK(DNS), NULL, VERDICT_OK, METHOD_NONE, 5);
	c = judged(a, NULL);
	CELL_IS(c, CELL_GEOBLOCKED, METHOD_NONE);
	assert_int_equal(c.targets[1].verdict, CELL_GEOBLOCKED);
	assert_true(c.blocked_share == 0.0);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 2, 1.96)) <
	    1e-9);
	cell_clear(&c);
	/* a school filter on another target of the cell */
	add2(a, "http://chat.example/", TK(HTTP), NULL, VERDICT_FILTERED,
	    METHOD_NONE, 5);
	c = judged(a, NULL);
	CELL_IS(c, CELL_FILTERED, METHOD_NONE);
	cell_clear(&c);
	/* geoblocked samples dilute, never add to, the blocked ones */
	add_n(a, 3, "chat.example:443", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 5);
	add_n(a, 4, "chat.example:443", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 5);
	c = judged(a, NULL);
	assert_int_not_equal(c.verdict, CELL_BLOCKED);
	assert_true(fabs(c.targets[1].blocked_share - 0.5) < 1e-9);
	cell_clear(&c);
	/* a real block of another target: blocked wins */
	add2(a, "api.example:443", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 3);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TCP);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* Flagged for review (a domestic control fails too): a review cell, never
 * blocked and never blocking evidence; a tie with ok is ok; a blocked
 * sub-row still wins; review counts survive the stored encoding. */
static void
t_review(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 12389, "geo"), *b = NULL;
	zbuf_t e1;
	zdiag_t d;
	cell_t c;

	(void)state;
	add2(a, "geo.example:443", TK(TCP), NULL, VERDICT_REVIEW,
	    METHOD_TCP, 4);
	add2(a, "geo.example", TK(DNS), NULL, VERDICT_OK, METHOD_NONE, 4);
	c = judged(a, NULL);
	CELL_IS(c, CELL_REVIEW, METHOD_NONE);
	assert_string_equal(cell_verdict_name(c.verdict), "review");
	assert_int_equal(c.targets[1].verdict, CELL_REVIEW);
	assert_true(c.blocked_share == 0.0);
	assert_true(fabs(c.confidence - cell_wilson_lower(2, 2, 1.96)) <
	    1e-9);
	cell_clear(&c);
	/* stored and read back: still review */
	zbuf_init(&e1, 1 << 20);
	assert_int_equal(cell_acc_encode(a, &e1), ZE_OK);
	assert_int_equal(cell_acc_decode(e1.data, e1.len, &b, &d), ZE_OK);
	c = judged(b, NULL);
	CELL_IS(c, CELL_REVIEW, METHOD_NONE);
	cell_clear(&c);
	zbuf_free(&e1);
	cell_acc_free(&b);
	/* an agent whose review and ok measurements tie gives ok */
	add_n(a, 3, "geo.example:443", TK(TCP), NULL, VERDICT_REVIEW,
	    METHOD_TCP, 2);
	add_n(a, 3, "geo.example:443", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 2);
	add_n(a, 4, "geo.example:443", TK(TCP), NULL, VERDICT_OK,
	    METHOD_NONE, 4);
	c = judged(a, NULL);	/* 2 review beside 2 ok: no majority */
	assert_int_equal(c.targets[1].verdict, CELL_INSUFFICIENT);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	cell_clear(&c);
	/* review samples dilute, never add to, the blocked ones: 2 blocked
	 * beside 2 review are not enough */
	cell_acc_free(&a);
	a = acc("RU-MOW", 12389, "geo");
	add2(a, "geo.example:443", TK(TCP), NULL, VERDICT_REVIEW,
	    METHOD_TCP, 4);
	add_n(a, 3, "geo.example:443", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 4);
	c = judged(a, NULL);
	assert_int_not_equal(c.verdict, CELL_BLOCKED);
	assert_true(fabs(c.targets[0].blocked_share - 1.0 / 3) < 1e-9);
	cell_clear(&c);
	/* geoblocked beats review in the cell; a real block beats both */
	add2(a, "geo.example:80", TK(HTTP), NULL, VERDICT_GEOBLOCKED,
	    METHOD_NONE, 4);
	c = judged(a, NULL);
	CELL_IS(c, CELL_GEOBLOCKED, METHOD_NONE);
	cell_clear(&c);
	add2(a, "api.example:443", TK(TCP), NULL, VERDICT_BLOCKED,
	    METHOD_TCP, 3);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TCP);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* The caps: agents per cell and (sub-row, agent) entries; a refused add
 * changes nothing, and the full accumulator still encodes and decodes. */
static void
t_caps(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 1, "cdn"), *b = NULL;
	uint8_t k[32];
	char t[32];
	struct cell_obs o = {
		.agent = k, .target = t, .test = TK(TCP),
		.verdict = VERDICT_OK, .method = METHOD_NONE,
	};
	zbuf_t e;
	zdiag_t d;

	(void)state;
	memset(k, 0, sizeof(k));
	for (int r = 0; r < CELL_MAX_ENTRIES / CELL_MAX_AGENTS; r++) {
		snprintf(t, sizeof(t), "t%02d.example:443", r);
		for (int g = 0; g < CELL_MAX_AGENTS; g++) {
			k[0] = (uint8_t)(g >> 8);
			k[1] = (uint8_t)g;
			assert_int_equal(cell_acc_add(a, &o), ZE_OK);
		}
	}
	k[0] = 0xff;		/* one agent too many */
	assert_int_equal(cell_acc_add(a, &o), ZE_TOOBIG);
	k[0] = 0;		/* a known agent, one entry too many */
	snprintf(t, sizeof(t), "zz.example:443");
	assert_int_equal(cell_acc_add(a, &o), ZE_TOOBIG);
	assert_int_equal(cell_acc_count(a), CELL_MAX_ENTRIES);
	zbuf_init(&e, 16 << 20);
	assert_int_equal(cell_acc_encode(a, &e), ZE_OK);
	assert_int_equal(cell_acc_decode(e.data, e.len, &b, &d), ZE_OK);
	assert_int_equal(cell_acc_count(b), CELL_MAX_ENTRIES);
	/* merging it into itself doubles counts, adds no entry */
	assert_int_equal(cell_acc_merge(b, a), ZE_OK);
	assert_int_equal(cell_acc_count(b), 2 * CELL_MAX_ENTRIES);
	zbuf_free(&e);
	cell_acc_free(&a);
	cell_acc_free(&b);
}

static void
t_merge(void **state)
{
	cell_acc_t *all = sample(), *b1, *b2, *b3, *m, *other;
	cell_t c;
	zbuf_t e1, e2;

	(void)state;
	/* the same measurements split over two time buckets */
	b1 = acc("RU-SPE", 8359, "facetime");
	b2 = acc("RU-SPE", 8359, "facetime");
	add_loc(b1, 1, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_ISP, 2, 3);
	add_n(b1, 1, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	add_loc(b2, 2, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UPSTREAM, 4, 1);
	add_loc(b2, 2, "call.example", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UNKNOWN, 0, 2);
	add_n(b2, 2, "helper", TK(STUN), "plain", VERDICT_OK, METHOD_NONE, 3);
	/* a third bucket where agent 1 measured again and agent 3 came;
	 * merged first, so the entries of agents 1 and 2 go around 3's */
	b3 = acc("RU-SPE", 8359, "facetime");
	add_n(b3, 3, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	add_n(b3, 1, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    2);
	add_n(all, 3, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	add_n(all, 1, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    2);
	m = acc("RU-SPE", 8359, "facetime");
	assert_int_equal(cell_acc_merge(m, b3), ZE_OK);
	assert_int_equal(cell_acc_merge(m, b2), ZE_OK);
	assert_int_equal(cell_acc_merge(m, b1), ZE_OK);
	zbuf_init(&e1, 1 << 20);
	zbuf_init(&e2, 1 << 20);
	assert_int_equal(cell_acc_encode(all, &e1), ZE_OK);
	assert_int_equal(cell_acc_encode(m, &e2), ZE_OK);
	assert_int_equal(e1.len, e2.len);
	assert_memory_equal(e1.data, e2.data, e1.len);
	/* agent 1: 3 blocked, 2 ok: still one blocked sample; 2 of 3
	 * agents is no block (Wilson bound 0.21), nor ok for that target */
	c = judged(m, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.targets[0].verdict, CELL_INSUFFICIENT);
	assert_int_equal(c.agents, 3);
	assert_int_equal(c.targets[0].agents, 3);
	assert_true(fabs(c.targets[0].blocked_share - 2.0 / 3) < 1e-9);
	cell_clear(&c);
	other = acc("RU-SPE", 8359, "whatsapp");
	assert_int_equal(cell_acc_merge(other, b1), ZE_INVAL);
	zbuf_free(&e1);
	zbuf_free(&e2);
	cell_acc_free(&all);
	cell_acc_free(&b1);
	cell_acc_free(&b2);
	cell_acc_free(&b3);
	cell_acc_free(&m);
	cell_acc_free(&other);
}

/* Regions over their ASN cells: blocked only when the ASNs with a verdict
 * agree, partial (with the blocked ASNs named) when some do; filtered,
 * geoblocked and review never blocked (review below geoblocked); agents
 * and agent anomalies summed. */
static void
t_regions(void **state)
{
	enum { N = 23 };
	cell_t cells[N];
	struct region_row *rr = NULL;
	size_t nr = 0;
	const struct {
		const char *region;
		int64_t asn;
		cell_verdict_t v;
	} in[N] = {
		{"RU-MOW", 3, CELL_OK}, {"RU-MOW", 2, CELL_BLOCKED},
		{"RU-MOW", 1, CELL_OK}, {"RU-TA", 4, CELL_DOWN},
		{"RU-TA", 5, CELL_DOWN}, {"RU-TA", 6, CELL_OK},
		{"RU-SA", 7, CELL_INSUFFICIENT},
		{"RU-KDA", 11, CELL_THROTTLED}, {"RU-KDA", 10, CELL_BLOCKED},
		{"RU-KDA", 12, CELL_INSUFFICIENT},
		{"RU-NIZ", 13, CELL_THROTTLED}, {"RU-NIZ", 14, CELL_THROTTLED},
		{"RU-SVE", 15, CELL_GEOBLOCKED}, {"RU-SVE", 16, CELL_OK},
		{"RU-TYU", 17, CELL_FILTERED}, {"RU-TYU", 18, CELL_GEOBLOCKED},
		{"RU-TYU", 19, CELL_OK},
		{"RU-ULY", 20, CELL_REVIEW}, {"RU-ULY", 21, CELL_OK},
		{"RU-VLA", 22, CELL_REVIEW}, {"RU-VLA", 23, CELL_GEOBLOCKED},
		{"RU-YAR", 24, CELL_REVIEW}, {"RU-YAR", 25, CELL_BLOCKED},
	};
	static const char *const want[][2] = {
		{"RU-KDA", "blocked"}, {"RU-MOW", "partial"},
		{"RU-NIZ", "throttled"}, {"RU-SA", "insufficient"},
		{"RU-SVE", "geoblocked"}, {"RU-TA", "down"},
		{"RU-TYU", "filtered"}, {"RU-ULY", "review"},
		{"RU-VLA", "geoblocked"}, {"RU-YAR", "partial"},
	};
	size_t i;

	(void)state;
	memset(cells, 0, sizeof(cells));
	for (i = 0; i < N; i++) {
		snprintf(cells[i].region, sizeof(cells[i].region), "%s",
		    in[i].region);
		snprintf(cells[i].service, sizeof(cells[i].service), "news");
		cells[i].asn = in[i].asn;
		cells[i].verdict = in[i].v;
		cells[i].agents = 2 + (uint32_t)(i % 2);
		cells[i].agent_anomaly = in[i].asn == 1;
	}
	assert_int_equal(cells_regions(cells, N, &rr, &nr), ZE_OK);
	assert_int_equal(nr, ZARRAY_LEN(want));
	for (i = 0; i < nr; i++) {
		assert_string_equal(rr[i].region, want[i][0]);
		assert_string_equal(cell_verdict_name(rr[i].verdict),
		    want[i][1]);
		assert_int_equal(rr[i].nblocked_asns, rr[i].asns_blocked);
	}
	/* the ISPs disagree in Moscow: partial, ASN 2 named */
	assert_int_equal(rr[1].asns, 3);
	assert_int_equal(rr[1].asns_blocked, 1);
	assert_int_equal(rr[1].blocked_asns[0], 2);
	assert_int_equal(rr[1].agents, 2 + 3 + 2);
	assert_int_equal(rr[1].agent_anomaly, 1);
	/* both ASNs with a verdict agree (12 has none): blocked */
	assert_int_equal(rr[0].asns, 3);
	assert_int_equal(rr[0].asns_blocked, 2);
	assert_int_equal(rr[0].blocked_asns[0], 10);
	assert_int_equal(rr[0].blocked_asns[1], 11);
	assert_int_equal(rr[0].agent_anomaly, 0);
	assert_int_equal(rr[2].asns_blocked, 2);
	assert_int_equal(rr[3].asns_blocked, 0);
	assert_int_equal(rr[4].asns_blocked, 0);
	assert_int_equal(rr[5].asns, 3);
	assert_int_equal(rr[6].asns_blocked, 0);
	/* review is not blocking: YAR's one blocked ASN of two is partial */
	assert_int_equal(rr[7].asns_blocked, 0);
	assert_int_equal(rr[9].asns_blocked, 1);
	assert_int_equal(rr[9].blocked_asns[0], 25);
	free(rr);
	/* a row's method: what most of its cells show (ties: the lowest);
	 * its confidence: the mean of its cells' */
	cells[1].method = METHOD_TCP;		/* MOW: tcp once */
	cells[7].method = METHOD_DNS;		/* KDA: dns, tcp, tcp */
	cells[8].method = METHOD_TCP;
	cells[9].method = METHOD_TCP;
	cells[10].method = METHOD_TLS;		/* NIZ: tls, dns: a tie */
	cells[11].method = METHOD_DNS;
	for (i = 0; i < N; i++)
		cells[i].confidence = (double)(i % 4) / 4;
	assert_int_equal(cells_regions(cells, N, &rr, &nr), ZE_OK);
	assert_int_equal(rr[0].method, METHOD_TCP);
	assert_int_equal(rr[1].method, METHOD_TCP);
	assert_int_equal(rr[2].method, METHOD_DNS < METHOD_TLS ? METHOD_DNS :
	    METHOD_TLS);
	assert_int_equal(rr[3].method, METHOD_NONE);	/* RU-SA: none */
	/* MOW: cells 0, 1, 2: (0 + 0.25 + 0.5) / 3; KDA: 7, 8, 9 */
	assert_float_equal(rr[1].confidence, 0.75 / 3, 1e-9);
	assert_float_equal(rr[0].confidence, (0.75 + 0 + 0.25) / 3, 1e-9);
	free(rr);
	assert_int_equal(cells_regions(cells, 0, &rr, &nr), ZE_OK);
	assert_null(rr);
	assert_int_equal(nr, 0);
}

static const char MAP_WANT[] =
    "{\"since\":\"2026-01-01T00:00:00Z\",\"until\":\"2026-01-02T00:00:00Z\","
    "\"cells\":[{\"region\":\"RU-MOW\",\"asn\":12389,\"service\":\"facetime\","
    "\"verdict\":\"insufficient\",\"method\":null,\"measurements\":2,\"agents\":1,"
    "\"blocked_share\":0.0,\"confidence\":0.0,\"agent_anomaly\":0,\"agent_anomalies\":["
    "],\"targets\":[{\"target\":\"init.ess.apple.com\",\"test\":\"dns\",\"verdict\":\"ok\","
    "\"method\":null,\"measurements\":2,\"agents\":1,\"agent_anomaly\":0}]},"
    "{\"region\":\"RU-MOW\",\"asn\":12389,\"service\":\"facetime/messaging\","
    "\"verdict\":\"insufficient\",\"method\":null,\"measurements\":2,\"agents\":1,"
    "\"blocked_share\":0.0,\"confidence\":0.0,\"agent_anomaly\":0,\"agent_anomalies\":["
    "],\"targets\":[{\"target\":\"init.ess.apple.com\",\"test\":\"dns\",\"verdict\":\"ok\","
    "\"method\":null,\"measurements\":2,\"agents\":1,\"agent_anomaly\":0}]},"
    "{\"region\":\"RU-SPE\",\"asn\":8359,\"service\":\"facetime\",\"verdict\":\"blocked\","
    "\"method\":\"tls\",\"measurements\":12,\"agents\":2,\"blocked_share\":0.5,"
    "\"confidence\":0.342,\"where\":\"isp\",\"where_counts\":{\"isp\":3,\"upstream\":1,"
    "\"unknown\":2},\"where_hops\":[{\"hop\":2,\"count\":3},{\"hop\":4,\"count\":1}],"
    "\"facets\":{\"calls\":\"ok\",\"messaging\":\"blocked\"},\"agent_anomaly\":0,"
    "\"agent_anomalies\":[],\"targets\":[{\"target\":\"call.example\",\"test\":\"tls\","
    "\"verdict\":\"blocked\",\"method\":\"tls\",\"measurements\":6,\"agents\":2,"
    "\"agent_anomaly\":0},{\"target\":\"helper\",\"test\":\"stun\",\"variant\":\"plain\","
    "\"verdict\":\"ok\",\"method\":null,\"measurements\":6,\"agents\":2,\"agent_anomaly\":0}]},"
    "{\"region\":\"RU-SPE\",\"asn\":8359,\"service\":\"facetime/calls\",\"verdict\":\"ok\","
    "\"method\":null,\"measurements\":6,\"agents\":2,\"blocked_share\":0.0,"
    "\"confidence\":0.342,\"agent_anomaly\":0,\"agent_anomalies\":[],"
    "\"targets\":[{\"target\":\"helper\",\"test\":\"stun\",\"variant\":\"plain\","
    "\"verdict\":\"ok\",\"method\":null,\"measurements\":6,\"agents\":2,\"agent_anomaly\":0}]},"
    "{\"region\":\"RU-SPE\",\"asn\":8359,\"service\":\"facetime/messaging\","
    "\"verdict\":\"blocked\",\"method\":\"tls\",\"measurements\":6,\"agents\":2,"
    "\"blocked_share\":1.0,\"confidence\":0.342,\"where\":\"isp\",\"where_counts\":{"
    "\"isp\":3,\"upstream\":1,\"unknown\":2},\"where_hops\":[{\"hop\":2,\"count\":3},"
    "{\"hop\":4,\"count\":1}],\"agent_anomaly\":0,\"agent_anomalies\":["
    "],\"targets\":[{\"target\":\"call.example\",\"test\":\"tls\",\"verdict\":\"blocked\","
    "\"method\":\"tls\",\"measurements\":6,\"agents\":2,\"agent_anomaly\":0}]},"
    "{\"region\":\"RU-SPE\",\"asn\":8360,\"service\":\"facetime\",\"verdict\":\"ok\","
    "\"method\":null,\"measurements\":24,\"agents\":4,\"blocked_share\":0.0,"
    "\"confidence\":0.438,\"agent_anomaly\":1,\"agent_anomalies\":[{\"agent\":\"0606060606060606060606060606060606060606060606060606060606060606\","
    "\"share\":0.933}],\"targets\":[{\"target\":\"call.example\",\"test\":\"tls\","
    "\"verdict\":\"ok\",\"method\":null,\"measurements\":24,\"agents\":3,"
    "\"agent_anomaly\":1}]},{\"region\":\"RU-SPE\",\"asn\":8360,\"service\":\"facetime/messaging\","
    "\"verdict\":\"ok\",\"method\":null,\"measurements\":24,\"agents\":4,"
    "\"blocked_share\":0.0,\"confidence\":0.438,\"agent_anomaly\":1,\"agent_anomalies\":["
    "{\"agent\":\"0606060606060606060606060606060606060606060606060606060606060606\","
    "\"share\":0.933}],\"targets\":[{\"target\":\"call.example\",\"test\":\"tls\","
    "\"verdict\":\"ok\",\"method\":null,\"measurements\":24,\"agents\":3,"
    "\"agent_anomaly\":1}]}],\"regions\":[{\"region\":\"RU-MOW\",\"service\":\"facetime\","
    "\"verdict\":\"insufficient\",\"method\":null,\"confidence\":0.0,\"agents\":1,\"asns\":1,\"asns_blocked\":0,"
    "\"blocked_asns\":[],\"agent_anomaly\":0},{\"region\":\"RU-MOW\",\"service\":\"facetime/messaging\","
    "\"verdict\":\"insufficient\",\"method\":null,\"confidence\":0.0,\"agents\":1,\"asns\":1,\"asns_blocked\":0,"
    "\"blocked_asns\":[],\"agent_anomaly\":0},{\"region\":\"RU-SPE\",\"service\":\"facetime\","
    "\"verdict\":\"partial\",\"method\":\"tls\",\"confidence\":0.39,\"agents\":6,\"asns\":2,\"asns_blocked\":1,\"blocked_asns\":["
    "8359],\"agent_anomaly\":1,\"where\":\"isp\",\"facets\":{\"calls\":\"ok\","
    "\"messaging\":\"partial\"}},{\"region\":\"RU-SPE\",\"service\":\"facetime/calls\","
    "\"verdict\":\"ok\",\"method\":null,\"confidence\":0.342,\"agents\":2,\"asns\":1,\"asns_blocked\":0,\"blocked_asns\":["
    "],\"agent_anomaly\":0},{\"region\":\"RU-SPE\",\"service\":\"facetime/messaging\","
    "\"verdict\":\"partial\",\"method\":\"tls\",\"confidence\":0.39,\"agents\":6,\"asns\":2,\"asns_blocked\":1,\"blocked_asns\":["
    "8359],\"agent_anomaly\":1,\"where\":\"isp\"}]}";

static void
t_map_json(void **state)
{
	cell_acc_t *a = sample(), *b = acc("RU-MOW", 12389, "facetime");
	cell_acc_t *p = acc("RU-SPE", 8360, "facetime");
	cell_t cells[7];
	size_t nc;
	zbuf_t out;

	(void)state;
	add_n(b, 1, "init.ess.apple.com", TK(DNS), NULL, VERDICT_OK,
	    METHOD_NONE, 2);
	/* another ISP of the region reaches it; one of its Pis is broken */
	for (int g = 3; g <= 5; g++)
		add_n(p, g, "call.example", TK(TLS), NULL, VERDICT_OK,
		    METHOD_NONE, 3);
	add_n(p, 6, "call.example", TK(TLS), NULL, VERDICT_BLOCKED,
	    METHOD_TLS, 14);
	add_n(p, 6, "call.example", TK(TLS), NULL, VERDICT_OK, METHOD_NONE,
	    1);
	/* out of order on purpose; split: facetime has calls sub-rows (a's
	 * stun), so every cell gets the part cells of the parts it has */
	assert_int_equal(cell_judge_map(p, NULL, CELL_FACET_ALL, true,
	    &cells[0], &nc), ZE_OK);
	assert_int_equal(nc, 2);	/* facetime, facetime/messaging */
	assert_false(cells[0].has_facets);
	assert_int_equal(cell_judge_map(b, NULL, CELL_FACET_ALL, true,
	    &cells[2], &nc), ZE_OK);
	assert_int_equal(nc, 2);
	/* a's cell and its parts (stun: calls; tls: messaging) */
	assert_int_equal(cell_judge_map(a, NULL, CELL_FACET_ALL, true,
	    &cells[4], &nc), ZE_OK);
	assert_int_equal(nc, 3);
	zbuf_init(&out, 1 << 20);
	assert_int_equal(map_json(&out, T0, T0 + 86400000000LL, cells, 7, NULL),
	    ZE_OK);
	assert_string_equal((const char *)out.data, MAP_WANT);
	/* the cap holds */
	zbuf_free(&out);
	zbuf_init(&out, 64);
	assert_int_equal(map_json(&out, T0, T0, cells, 2, NULL), ZE_TOOBIG);
	zbuf_free(&out);
	/* an empty map is still the document */
	zbuf_init(&out, 1024);
	assert_int_equal(map_json(&out, T0, T0, NULL, 0, NULL), ZE_OK);
	assert_string_equal((const char *)out.data,
	    "{\"since\":\"2026-01-01T00:00:00Z\","
	    "\"until\":\"2026-01-01T00:00:00Z\",\"cells\":[],\"regions\":[]}");
	zbuf_free(&out);
	for (nc = 0; nc < 7; nc++)
		cell_clear(&cells[nc]);
	cell_acc_free(&a);
	cell_acc_free(&b);
	cell_acc_free(&p);
}

static void
t_events(void **state)
{
	cell_acc_t *a = sample();
	cell_t c;
	event_t ev;
	zbuf_t out;

	(void)state;
	c = judged(a, NULL);
	assert_true(event_make(T0, &c, CELL_OK, METHOD_NONE, &ev));
	zbuf_init(&out, 4096);
	assert_int_equal(event_json(&out, &ev), ZE_OK);
	assert_string_equal((const char *)out.data,
	    "{\"time\":\"2026-01-01T00:00:00Z\",\"region\":\"RU-SPE\","
	    "\"asn\":8359,\"service\":\"facetime\",\"from\":\"ok\","
	    "\"to\":\"blocked\",\"method\":\"tls\"}");
	assert_false(event_first(&ev));
	assert_true(event_news(&ev));
	/* the cell's first judgement: blocked is news, marked first */
	assert_true(event_make(T0, &c, CELL_INSUFFICIENT, METHOD_NONE, &ev));
	assert_true(event_first(&ev));
	assert_true(event_news(&ev));
	zbuf_reset(&out);
	assert_int_equal(event_json(&out, &ev), ZE_OK);
	assert_non_null(strstr((const char *)out.data,
	    "\"from\":\"insufficient\",\"to\":\"blocked\",\"method\":"
	    "\"tls\",\"first\":true}"));
	/* no change, no event */
	assert_false(event_make(T0, &c, CELL_BLOCKED, METHOD_TLS, &ev));
	/* a method change of a blocked cell is news */
	assert_true(event_make(T0, &c, CELL_BLOCKED, METHOD_DNS, &ev));
	assert_int_equal(ev.from, CELL_BLOCKED);
	assert_int_equal(ev.method, METHOD_TLS);
	/* falling silent is not a change of the network */
	c.verdict = CELL_INSUFFICIENT;
	assert_false(event_make(T0, &c, CELL_BLOCKED, METHOD_TLS, &ev));
	/* to and from the new verdicts: changes as any other */
	c.verdict = CELL_GEOBLOCKED;
	c.method = METHOD_NONE;
	assert_true(event_make(T0, &c, CELL_OK, METHOD_NONE, &ev));
	assert_int_equal(ev.to, CELL_GEOBLOCKED);
	assert_int_equal(ev.method, METHOD_NONE);
	assert_false(event_make(T0, &c, CELL_GEOBLOCKED, METHOD_NONE, &ev));
	c.verdict = CELL_FILTERED;
	assert_true(event_make(T0, &c, CELL_GEOBLOCKED, METHOD_NONE, &ev));
	assert_int_equal(ev.from, CELL_GEOBLOCKED);
	zbuf_reset(&out);
	assert_int_equal(event_json(&out, &ev), ZE_OK);
	assert_non_null(strstr((const char *)out.data,
	    "\"from\":\"geoblocked\",\"to\":\"filtered\",\"method\":null"));
	c.verdict = CELL_INSUFFICIENT;
	assert_false(event_make(T0, &c, CELL_FILTERED, METHOD_NONE, &ev));
	/* back to ok */
	c.verdict = CELL_OK;
	c.method = METHOD_NONE;
	/* a first judgement to ok is no news */
	assert_true(event_make(T0, &c, CELL_INSUFFICIENT, METHOD_NONE, &ev));
	assert_true(event_first(&ev));
	assert_false(event_news(&ev));
	assert_true(event_make(T0 + 1000000, &c, CELL_BLOCKED, METHOD_TLS,
	    &ev));
	zbuf_reset(&out);
	assert_int_equal(event_json(&out, &ev), ZE_OK);
	assert_string_equal((const char *)out.data,
	    "{\"time\":\"2026-01-01T00:00:01Z\",\"region\":\"RU-SPE\","
	    "\"asn\":8359,\"service\":\"facetime\",\"from\":\"blocked\","
	    "\"to\":\"ok\",\"method\":null}");
	zbuf_free(&out);
	cell_clear(&c);
	cell_acc_free(&a);
}

/* sni_rst on call.example in one ISP, two agents, three rounds: the real
 * rules from measurement to map cell. */
static void
t_pipeline_sni_rst(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 64501, "facetime");
	meas_t *ctl_tls = mk(TK(TLS), "call.example", 9, FL(NONE));
	meas_t *ctl_stun = mk(TK(STUN), "helper", 9, FL(NONE));
	int round, agent;
	cell_t c;

	(void)state;
	mk_stun(ctl_stun, "plain", 1);
	for (round = 0; round < 3; round++) {
		for (agent = 1; agent <= 2; agent++) {
			meas_t *t = mk(TK(TLS), "call.example", agent,
			    FL(RESET));
			meas_t *s = mk(TK(STUN), "helper", agent, FL(NONE));
			meas_t *ms[2] = {t, s};
			const meas_t *cv[2] = {ctl_tls, ctl_stun};
			int k;

			mk_tls(t, "client_hello", "example.org", FL(NONE));
			mk_stun(s, "plain", 1);
			for (k = 0; k < 2; k++) {
				struct verdict_res r;
				struct cell_obs o;
				assert_int_equal(mk_judge(NULL, ms[k], cv, 2,
				    NULL, 0, &r), ZE_OK);
				assert_int_equal(cell_obs_fill(&o, ms[k],
				    r.verdict, r.method), ZE_OK);
				assert_int_equal(cell_acc_add(a, &o), ZE_OK);
			}
			mk_free(t);
			mk_free(s);
		}
	}
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TLS);
	assert_int_equal(c.measurements, 12);
	assert_int_equal(c.agents, 2);
	assert_int_equal(c.ntargets, 2);
	assert_string_equal(c.targets[1].variant, "plain");
	assert_int_equal(c.targets[1].verdict, CELL_OK);
	cell_clear(&c);
	/* a measurement without a proper agent key is refused */
	{
		struct cell_obs o;
		ctl_tls->agent.len = 31;
		assert_int_equal(cell_obs_fill(&o, ctl_tls, VERDICT_OK,
		    METHOD_NONE), ZE_INVAL);
		ctl_tls->agent.len = 32;
	}
	cell_acc_free(&a);
	mk_free(ctl_tls);
	mk_free(ctl_stun);
}

/* The where of one measurement from its localization, the agent's ASN
 * and an IP-to-ASN table: the ISP's ASN 64501 (10.1.0.0/16), a transit
 * ASN 64900 (100.66.0.0/16); 192.168.0.0/16 is in no row. */
static void
t_where_of(void **state)
{
	static const char tsv[] =
	    "10.1.0.0\t10.1.255.255\t64501\tRU\tISP\n"
	    "100.66.0.0\t100.66.255.255\t64900\tRU\tTransit\n";
	static const char *const via_isp[] = {"192.168.0.1", "192.168.1.1",
	    "10.1.250.1", "", NULL};
	static const char *const via_transit[] = {"192.168.0.1",
	    "192.168.1.1", "100.66.1.1", NULL};
	static const char *const isp_before[] = {"10.1.0.1", "192.168.1.1",
	    "192.168.2.1", NULL};
	const struct {
		bool located;
		unsigned hop;
		const char *addr;
		const char *const *hops;
		uint32_t asn;
		bool table;
		cell_where_t want;
		uint8_t want_hop;
		const char *what;
	} cases[] = {
		{true, 2, "10.1.250.1", NULL, 64501, true, CELL_WHERE_ISP, 2,
		    "the censor hop in the agent's ASN"},
		{true, 3, "100.66.1.1", NULL, 64501, true,
		    CELL_WHERE_UPSTREAM, 3, "in another ASN"},
		{true, 2, "192.168.1.1", via_isp, 64501, true, CELL_WHERE_ISP,
		    2, "private, a later hop in the agent's ASN"},
		{true, 2, "192.168.1.1", via_transit, 64501, true,
		    CELL_WHERE_UNKNOWN, 2, "private, later hops elsewhere"},
		{true, 2, "192.168.1.1", isp_before, 64501, true,
		    CELL_WHERE_UNKNOWN, 2, "private, only an earlier hop in "
		    "the agent's ASN"},
		{true, 2, NULL, via_isp, 64501, true, CELL_WHERE_ISP, 2,
		    "a silent censor hop, a later hop in the agent's ASN"},
		{false, 0, NULL, via_isp, 64501, true, CELL_WHERE_UNKNOWN, 0,
		    "not located"},
		{true, 2, "10.1.250.1", NULL, 64501, false,
		    CELL_WHERE_UNKNOWN, 2, "no table"},
		{true, 2, "10.1.250.1", NULL, 0, true, CELL_WHERE_UNKNOWN, 2,
		    "the agent's ASN unknown"},
		{true, 3, "10.1.250.1", NULL, 64502, true,
		    CELL_WHERE_UPSTREAM, 3, "another ASN than the agent's"},
		{true, 200, "10.1.250.1", NULL, 64501, true, CELL_WHERE_ISP, 0,
		    "a hop past the cap is no hop"},
	};
	struct ipasn *t = NULL;
	struct cell_obs o;
	zdiag_t d;
	meas_t *m;
	size_t i;

	(void)state;
	assert_int_equal(ipasn_parse("test", tsv, sizeof(tsv) - 1, &t, &d),
	    ZE_OK);
	for (i = 0; i < ZARRAY_LEN(cases); i++) {
		m = mk(TK(TLS), "x.example:443", 1, FL(RESET));
		mk_locate(m, cases[i].located, cases[i].hop, cases[i].addr,
		    cases[i].hops);
		memset(&o, 0, sizeof(o));
		cell_obs_where(&o, m, cases[i].asn, cases[i].table ? t : NULL);
		if (!o.locate || o.where != cases[i].want ||
		    o.hop != cases[i].want_hop)
			fail_msg("%s: %s hop %u, want %s hop %u", cases[i].what,
			    cell_where_name(o.where), o.hop,
			    cell_where_name(cases[i].want), cases[i].want_hop);
		mk_free(m);
	}
	/* no localization: nothing to count */
	m = mk(TK(TLS), "x.example:443", 1, FL(RESET));
	cell_obs_where(&o, m, 64501, t);
	assert_false(o.locate);
	assert_int_equal(o.where, CELL_WHERE_UNKNOWN);
	mk_free(m);
	assert_string_equal(cell_where_name(CELL_WHERE_MIXED), "mixed");
	assert_string_equal(cell_where_name((cell_where_t)9), "unknown");
	ipasn_free(&t);
}

/* A cell's where: the majority of the known kinds over its blocking
 * sub-rows, ties and none unknown; the counts and hops beside it; nothing
 * for a cell that is not blocked; removals (also of a kind no longer
 * there) keep the counts within the blocking ones. */
static void
t_where_cell(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 64501, "telegram"), *b = NULL;
	struct cell_obs o;
	zbuf_t e;
	zdiag_t d;
	cell_t c;

	(void)state;
	add_loc(a, 1, "t.me:443", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_ISP, 3, 2);
	add_loc(a, 2, "t.me:443", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UPSTREAM, 5, 2);
	/* a sub-row with too few measurements: not blocking, not counted */
	add_loc(a, 1, "web.telegram.org:443", TK(TLS), VERDICT_BLOCKED,
	    METHOD_TLS, CELL_WHERE_UPSTREAM, 5, 1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TLS);
	assert_int_equal(c.where, CELL_WHERE_UNKNOWN);	/* a tie */
	assert_int_equal(c.where_n[CELL_WHERE_ISP], 2);
	assert_int_equal(c.where_n[CELL_WHERE_UPSTREAM], 2);
	assert_int_equal(c.hops[3], 2);
	assert_int_equal(c.hops[5], 2);
	cell_clear(&c);
	/* one more at the ISP: isp; unknowns never outvote */
	add_loc(a, 1, "t.me:443", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_ISP, 3, 1);
	add_loc(a, 2, "t.me:443", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_UNKNOWN, 0, 4);
	c = judged(a, NULL);
	assert_int_equal(c.where, CELL_WHERE_ISP);
	assert_int_equal(c.where_n[CELL_WHERE_UNKNOWN], 4);
	assert_int_equal(c.hops[3], 3);
	cell_clear(&c);
	/* settled again after the table changed: the upstream ones come out
	 * as isp; the counts stay within the blocked ones */
	memset(&o, 0, sizeof(o));
	o.agent = key(2);
	o.target = "t.me:443";
	o.test = TK(TLS);
	o.verdict = VERDICT_BLOCKED;
	o.method = METHOD_TLS;
	o.locate = true;
	o.where = CELL_WHERE_ISP;
	o.hop = 7;		/* never counted */
	for (int i = 0; i < 6; i++)
		assert_int_equal(cell_acc_remove(a, &o), ZE_OK);
	c = judged(a, NULL);
	assert_true(c.where_n[CELL_WHERE_ISP] + c.where_n[CELL_WHERE_UPSTREAM]
	    + c.where_n[CELL_WHERE_UNKNOWN] <= 3);
	cell_clear(&c);
	zbuf_init(&e, 1 << 16);
	assert_int_equal(cell_acc_encode(a, &e), ZE_OK);
	assert_int_equal(cell_acc_decode(e.data, e.len, &b, &d), ZE_OK);
	cell_acc_free(&b);
	zbuf_free(&e);
	/* no localization at all: a blocked cell says unknown, zero counts */
	cell_acc_free(&a);
	a = acc("RU-MOW", 64501, "telegram");
	add2(a, "t.me:443", TK(TLS), NULL, VERDICT_BLOCKED, METHOD_TLS, 2);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_TLS);
	assert_int_equal(c.where, CELL_WHERE_UNKNOWN);
	assert_int_equal(c.where_n[CELL_WHERE_UNKNOWN], 0);
	cell_clear(&c);
	/* an ok cell carries no where even with a localized sample */
	cell_acc_free(&a);
	a = acc("RU-MOW", 64501, "telegram");
	add_n(a, 1, "t.me:443", TK(TLS), NULL, VERDICT_OK, METHOD_NONE, 4);
	add_n(a, 2, "t.me:443", TK(TLS), NULL, VERDICT_OK, METHOD_NONE, 4);
	add_n(a, 3, "t.me:443", TK(TLS), NULL, VERDICT_OK, METHOD_NONE, 4);
	add_loc(a, 4, "t.me:443", TK(TLS), VERDICT_BLOCKED, METHOD_TLS,
	    CELL_WHERE_ISP, 2, 1);
	c = judged(a, NULL);
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.where_n[CELL_WHERE_ISP], 0);
	assert_int_equal(c.hops[2], 0);
	cell_clear(&c);
	/* a bad where or hop is refused */
	memset(&o, 0, sizeof(o));
	o.agent = key(1);
	o.target = "t.me:443";
	o.test = TK(TLS);
	o.verdict = VERDICT_BLOCKED;
	o.method = METHOD_TLS;
	o.locate = true;
	o.where = CELL_WHERE_MIXED;
	assert_int_equal(cell_acc_add(a, &o), ZE_INVAL);
	o.where = CELL_WHERE_ISP;
	o.hop = CELL_HOP_MAX + 1;
	assert_int_equal(cell_acc_add(a, &o), ZE_INVAL);
	cell_acc_free(&a);
}

/* A region's where: its blocked ASNs' known wheres agree, differ
 * (mixed) or none is known (unknown). */
static void
t_where_regions(void **state)
{
	cell_t cells[7];
	struct region_row *rr = NULL;
	size_t nr, i;

	(void)state;
	memset(cells, 0, sizeof(cells));
	for (i = 0; i < ZARRAY_LEN(cells); i++) {
		snprintf(cells[i].service, sizeof(cells[i].service), "s");
		cells[i].asn = (int64_t)(100 + i);
		cells[i].verdict = CELL_BLOCKED;
	}
	/* RU-A: isp + unknown -> isp; RU-B: isp + upstream -> mixed;
	 * RU-C: unknown only; RU-D: upstream, and an ok ASN whose where
	 * (never set for an ok cell) does not count */
	snprintf(cells[0].region, CELL_REGION_MAX, "RU-A");
	cells[0].where = CELL_WHERE_ISP;
	snprintf(cells[1].region, CELL_REGION_MAX, "RU-A");
	cells[1].where = CELL_WHERE_UNKNOWN;
	snprintf(cells[2].region, CELL_REGION_MAX, "RU-B");
	cells[2].where = CELL_WHERE_ISP;
	snprintf(cells[3].region, CELL_REGION_MAX, "RU-B");
	cells[3].where = CELL_WHERE_UPSTREAM;
	snprintf(cells[4].region, CELL_REGION_MAX, "RU-C");
	snprintf(cells[5].region, CELL_REGION_MAX, "RU-D");
	cells[5].where = CELL_WHERE_UPSTREAM;
	snprintf(cells[6].region, CELL_REGION_MAX, "RU-D");
	cells[6].verdict = CELL_OK;
	cells[6].where = CELL_WHERE_ISP;
	assert_int_equal(cells_regions(cells, ZARRAY_LEN(cells), &rr, &nr),
	    ZE_OK);
	assert_int_equal(nr, 4);
	assert_int_equal(rr[0].where, CELL_WHERE_ISP);
	assert_int_equal(rr[1].where, CELL_WHERE_MIXED);
	assert_int_equal(rr[2].where, CELL_WHERE_UNKNOWN);
	assert_int_equal(rr[3].where, CELL_WHERE_UPSTREAM);
	assert_int_equal(rr[3].verdict, CELL_PARTIAL);
	free(rr);
}

/* Calls and messaging: a service whose stun sub-rows are blocked and tls
 * ones reach: calls blocked, messaging ok, the service blocked as today;
 * the part cells, the filter's parts and the names. */
static void
t_facets(void **state)
{
	cell_acc_t *a = acc("RU-MOW", 12389, "whatsapp");
	cell_acc_t *m = acc("RU-MOW", 12389, "signal");
	cell_t c, out[3];
	char base[CELL_SERVICE_MAX];
	cell_facet_t f;
	size_t n, i;

	(void)state;
	add2(a, "relay.whatsapp.example:3478", TK(STUN), "plain",
	    VERDICT_BLOCKED, METHOD_UDP, 3);
	add2(a, "e1.whatsapp.net:443", TK(TLS), NULL, VERDICT_OK,
	    METHOD_NONE, 3);
	add_n(a, 3, "e1.whatsapp.net:443", TK(TLS), NULL, VERDICT_OK,
	    METHOD_NONE, 2);
	c = judged(a, NULL);
	CELL_IS(c, CELL_BLOCKED, METHOD_UDP);
	assert_false(c.has_facets);	/* cell_judge alone: no parts */
	assert_int_equal(c.agents, 3);
	cell_clear(&c);
	assert_int_equal(cell_judge_facet(a, NULL, CELL_FACET_CALLS, &c),
	    ZE_OK);
	assert_string_equal(c.service, "whatsapp/calls");
	CELL_IS(c, CELL_BLOCKED, METHOD_UDP);
	assert_int_equal(c.ntargets, 1);
	assert_int_equal(c.agents, 2);	/* agent 3 measured no call path */
	assert_int_equal(c.measurements, 6);
	cell_clear(&c);
	assert_int_equal(cell_judge_facet(a, NULL, CELL_FACET_MESSAGING, &c),
	    ZE_OK);
	assert_string_equal(c.service, "whatsapp/messaging");
	CELL_IS(c, CELL_OK, METHOD_NONE);
	assert_int_equal(c.agents, 3);
	cell_clear(&c);
	assert_int_equal(cell_judge_facet(a, NULL, CELL_FACET_ALL, &c),
	    ZE_INVAL);
	/* the map's cells: the service with its parts' verdicts, then the
	 * parts */
	assert_int_equal(cell_judge_map(a, NULL, CELL_FACET_ALL, true, out,
	    &n), ZE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].service, "whatsapp");
	assert_true(out[0].has_facets);
	assert_int_equal(out[0].facet[0], CELL_BLOCKED);
	assert_int_equal(out[0].facet[1], CELL_OK);
	assert_string_equal(out[1].service, "whatsapp/calls");
	assert_string_equal(out[2].service, "whatsapp/messaging");
	for (i = 0; i < n; i++)
		cell_clear(&out[i]);
	/* not split (no calls sub-row of the service in the map): alone */
	assert_int_equal(cell_judge_map(a, NULL, CELL_FACET_ALL, false, out,
	    &n), ZE_OK);
	assert_int_equal(n, 1);
	assert_false(out[0].has_facets);
	cell_clear(&out[0]);
	/* a filter's part */
	assert_int_equal(cell_judge_map(a, NULL, CELL_FACET_CALLS, false, out,
	    &n), ZE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].service, "whatsapp/calls");
	cell_clear(&out[0]);
	/* a service without call tests has no calls part */
	add2(m, "chat.signal.example:443", TK(TLS), NULL, VERDICT_OK,
	    METHOD_NONE, 2);
	assert_false(cell_acc_has_facet(m, CELL_FACET_CALLS));
	assert_int_equal(cell_judge_facet(m, NULL, CELL_FACET_CALLS, &c),
	    ZE_NOTFOUND);
	assert_int_equal(cell_judge_map(m, NULL, CELL_FACET_CALLS, false, out,
	    &n), ZE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cell_judge_map(m, NULL, CELL_FACET_ALL, true, out,
	    &n), ZE_OK);
	assert_int_equal(n, 2);		/* signal, signal/messaging */
	assert_false(out[0].has_facets);
	assert_string_equal(out[1].service, "signal/messaging");
	cell_clear(&out[0]);
	cell_clear(&out[1]);
	/* tests by part: stun and call are the media path */
	assert_int_equal(cell_facet_of(TK(STUN)), CELL_FACET_CALLS);
	assert_int_equal(cell_facet_of(TK(CALL)), CELL_FACET_CALLS);
	assert_int_equal(cell_facet_of(TK(TCP)), CELL_FACET_MESSAGING);
	assert_int_equal(cell_facet_of(TK(QUIC)), CELL_FACET_MESSAGING);
	/* filter names */
	assert_int_equal(cell_facet_parse("whatsapp/calls", base,
	    sizeof(base), &f), ZE_OK);
	assert_string_equal(base, "whatsapp");
	assert_int_equal(f, CELL_FACET_CALLS);
	assert_int_equal(cell_facet_parse("whatsapp/messaging", base,
	    sizeof(base), &f), ZE_OK);
	assert_int_equal(f, CELL_FACET_MESSAGING);
	assert_int_equal(cell_facet_parse("whatsapp", base, sizeof(base), &f),
	    ZE_OK);
	assert_int_equal(f, CELL_FACET_ALL);
	assert_int_equal(cell_facet_parse("whatsapp/video", base,
	    sizeof(base), &f), ZE_INVAL);
	assert_int_equal(cell_facet_parse("/calls", base, sizeof(base), &f),
	    ZE_INVAL);
	assert_int_equal(cell_facet_parse("a/calls/calls", base, sizeof(base),
	    &f), ZE_INVAL);
	cell_acc_free(&a);
	cell_acc_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_wilson),
		cmocka_unit_test(t_one_lost_packet),
		cmocka_unit_test(t_loss_only_network),
		cmocka_unit_test(t_blocked_cell),
		cmocka_unit_test(t_down_cell),
		cmocka_unit_test(t_insufficient),
		cmocka_unit_test(t_inconclusive),
		cmocka_unit_test(t_throttled_cell),
		cmocka_unit_test(t_dominant_method),
		cmocka_unit_test(t_add_remove),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_latest),
		cmocka_unit_test(t_decode_damage),
		cmocka_unit_test(t_broken_pi),
		cmocka_unit_test(t_geo_filtered),
		cmocka_unit_test(t_review),
		cmocka_unit_test(t_caps),
		cmocka_unit_test(t_merge),
		cmocka_unit_test(t_regions),
		cmocka_unit_test(t_map_json),
		cmocka_unit_test(t_events),
		cmocka_unit_test(t_pipeline_sni_rst),
		cmocka_unit_test(t_where_of),
		cmocka_unit_test(t_where_cell),
		cmocka_unit_test(t_where_regions),
		cmocka_unit_test(t_facets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
