/*
 * test_regime.c — whitelist and shutdown regimes from the reference
 * cells (aggregator/analysis/regime.c) and their region roll-up
 * (cells_regions): docs/METHODOLOGY.md §3.8, §4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "regime.h"

static cell_t
mkcell(const char *region, int64_t asn, const char *svc, cell_verdict_t v,
    uint32_t agents)
{
	cell_t c;

	memset(&c, 0, sizeof(c));
	snprintf(c.region, sizeof(c.region), "%s", region);
	c.asn = asn;
	snprintf(c.service, sizeof(c.service), "%s", svc);
	c.verdict = v;
	c.method = v == CELL_BLOCKED ? METHOD_TLS : METHOD_NONE;
	c.agents = agents;
	return c;
}

static void
t_regime_of(void **state)
{
	cell_t ok = mkcell("RU-MOW", 1, REGIME_DOMESTIC, CELL_OK, 2);
	cell_t dblk = mkcell("RU-MOW", 1, REGIME_DOMESTIC, CELL_BLOCKED, 2);
	cell_t fblk = mkcell("RU-MOW", 1, REGIME_FOREIGN, CELL_BLOCKED, 2);
	cell_t fdown = mkcell("RU-MOW", 1, REGIME_FOREIGN, CELL_DOWN, 2);
	cell_t fok = mkcell("RU-MOW", 1, REGIME_FOREIGN, CELL_OK, 2);
	cell_t fins = mkcell("RU-MOW", 1, REGIME_FOREIGN, CELL_INSUFFICIENT,
	    2);
	cell_t lone = mkcell("RU-MOW", 1, REGIME_DOMESTIC, CELL_OK, 1);

	(void)state;
	assert_int_equal(regime_of(&ok, &fblk, 2), REGIME_WHITELIST);
	assert_int_equal(regime_of(&ok, &fdown, 2), REGIME_WHITELIST);
	assert_int_equal(regime_of(&ok, &fok, 2), REGIME_NONE);
	assert_int_equal(regime_of(&ok, NULL, 2), REGIME_NONE);
	assert_int_equal(regime_of(&ok, &fins, 2), REGIME_NONE);
	assert_int_equal(regime_of(&dblk, &fblk, 2), REGIME_SHUTDOWN);
	assert_int_equal(regime_of(&dblk, NULL, 2), REGIME_SHUTDOWN);
	assert_int_equal(regime_of(&dblk, &fins, 2), REGIME_SHUTDOWN);
	/* foreign reachable while domestic fails: the domestic sites'
	 * trouble, not a regime */
	assert_int_equal(regime_of(&dblk, &fok, 2), REGIME_NONE);
	assert_int_equal(regime_of(NULL, &fblk, 2), REGIME_NONE);
	/* one agent is never a regime; 0 turns regimes off */
	assert_int_equal(regime_of(&lone, &fblk, 2), REGIME_NONE);
	assert_int_equal(regime_of(&ok, &fblk, 0), REGIME_NONE);
	assert_int_equal(regime_of(&ok, &fblk, 3), REGIME_NONE);
}

static void
t_regime_apply(void **state)
{
	(void)state;
	assert_int_equal(regime_apply(REGIME_WHITELIST, CELL_BLOCKED),
	    CELL_WHITELIST);
	assert_int_equal(regime_apply(REGIME_WHITELIST, CELL_THROTTLED),
	    CELL_WHITELIST);
	assert_int_equal(regime_apply(REGIME_WHITELIST, CELL_DOWN),
	    CELL_WHITELIST);
	assert_int_equal(regime_apply(REGIME_SHUTDOWN, CELL_REVIEW),
	    CELL_SHUTDOWN);
	assert_int_equal(regime_apply(REGIME_WHITELIST, CELL_OK), CELL_OK);
	assert_int_equal(regime_apply(REGIME_SHUTDOWN, CELL_INSUFFICIENT),
	    CELL_INSUFFICIENT);
	assert_int_equal(regime_apply(REGIME_NONE, CELL_BLOCKED),
	    CELL_BLOCKED);
	assert_true(regime_is_reference("reference-domestic"));
	assert_true(regime_is_reference("reference-foreign/calls"));
	assert_false(regime_is_reference("reference-domesticx"));
	assert_false(regime_is_reference("svc"));
	assert_string_equal(cell_verdict_name(CELL_WHITELIST), "whitelist");
	assert_string_equal(cell_verdict_name(CELL_SHUTDOWN), "shutdown");
}

/* Two ASNs of RU-MOW: AS1 under a whitelist, AS2 open and blocking one
 * service; RU-SPE's AS3 shut down.  The references leave the map. */
static void
t_regime_cells(void **state)
{
	cell_t c[10];
	size_t n = 0;
	struct region_row *rr = NULL;
	size_t nr = 0;

	(void)state;
	c[n++] = mkcell("RU-MOW", 1, "svc", CELL_BLOCKED, 2);
	c[n++] = mkcell("RU-MOW", 1, REGIME_DOMESTIC, CELL_OK, 2);
	c[n++] = mkcell("RU-MOW", 1, "web", CELL_OK, 2);
	c[n++] = mkcell("RU-MOW", 1, REGIME_FOREIGN, CELL_BLOCKED, 2);
	c[n++] = mkcell("RU-MOW", 2, "svc", CELL_BLOCKED, 2);
	c[n++] = mkcell("RU-MOW", 2, REGIME_DOMESTIC, CELL_OK, 2);
	c[n++] = mkcell("RU-MOW", 2, REGIME_FOREIGN, CELL_OK, 2);
	c[n++] = mkcell("RU-SPE", 3, REGIME_DOMESTIC, CELL_DOWN, 2);
	c[n++] = mkcell("RU-SPE", 3, "svc", CELL_DOWN, 2);
	c[n++] = mkcell("RU-SPE", 3, "web", CELL_BLOCKED, 2);
	assert_int_equal(regime_cells(c, &n, 2, false), ZE_OK);
	assert_int_equal(n, 5);
	assert_string_equal(c[0].service, "svc");
	assert_int_equal(c[0].verdict, CELL_WHITELIST);
	assert_int_equal(c[0].method, METHOD_NONE);
	assert_int_equal(c[1].verdict, CELL_OK);	/* on the list */
	assert_int_equal(c[2].asn, 2);
	assert_int_equal(c[2].verdict, CELL_BLOCKED);	/* open network */
	assert_int_equal(c[2].method, METHOD_TLS);
	assert_int_equal(c[3].verdict, CELL_SHUTDOWN);
	assert_int_equal(c[4].verdict, CELL_SHUTDOWN);
	assert_int_equal(cells_regions(c, n, &rr, &nr), ZE_OK);
	assert_int_equal(nr, 4);
	/* RU-MOW svc: one ASN whitelisted, one blocking: partial */
	assert_string_equal(rr[0].region, "RU-MOW");
	assert_string_equal(rr[0].service, "svc");
	assert_int_equal(rr[0].verdict, CELL_PARTIAL);
	assert_int_equal(rr[0].nblocked_asns, 1);
	assert_int_equal(rr[1].verdict, CELL_OK);
	assert_int_equal(rr[2].verdict, CELL_SHUTDOWN);
	assert_int_equal(rr[3].verdict, CELL_SHUTDOWN);
	free(rr);
	for (size_t i = 0; i < n; i++)
		cell_clear(&c[i]);
}

/* A region whose judged ASNs are all whitelisted (one shut down) is
 * whitelist; an insufficient ASN does not stop it. */
static void
t_region_whitelist(void **state)
{
	cell_t c[3];
	struct region_row *rr = NULL;
	size_t nr = 0;

	(void)state;
	c[0] = mkcell("RU-MOW", 1, "svc", CELL_WHITELIST, 2);
	c[1] = mkcell("RU-MOW", 2, "svc", CELL_SHUTDOWN, 3);
	c[2] = mkcell("RU-MOW", 3, "svc", CELL_INSUFFICIENT, 1);
	assert_int_equal(cells_regions(c, 3, &rr, &nr), ZE_OK);
	assert_int_equal(nr, 1);
	assert_int_equal(rr[0].verdict, CELL_WHITELIST);
	assert_int_equal(rr[0].agents, 6);
	free(rr);
}

#define S_US 1000000LL

/* Heartbeats every 60 s from t0 to t1 (inclusive) into v; their count. */
static size_t
beats(int64_t *v, int64_t t0, int64_t t1)
{
	size_t n = 0;

	for (int64_t t = t0; t <= t1; t += 60 * S_US)
		v[n++] = t;
	return n;
}

/* Two agents of a cell stop within a minute of each other: shutdown
 * since the first one's last heartbeat; one agent alone is offline;
 * irregular heartbeats are no evidence; stops far apart are two agents
 * going offline. */
static void
t_silence(void **state)
{
	struct regime_silence_opts o;
	int64_t a[64], b[64], c[64], since;
	struct regime_beats g[3];
	uint32_t nag;
	int64_t now = 3600 * S_US;

	(void)state;
	regime_silence_default(&o);
	g[0] = (struct regime_beats){a, beats(a, 0, 1800 * S_US)};
	g[1] = (struct regime_beats){b, beats(b, 30 * S_US, 1830 * S_US)};
	g[2] = (struct regime_beats){c, beats(c, 0, 3540 * S_US)};
	assert_true(regime_silent(g, 3, now, &o, &since, &nag));
	assert_int_equal(since, 1800 * S_US);
	assert_int_equal(nag, 2);
	/* the same two, not silent long enough yet */
	assert_false(regime_silent(g, 2, 1900 * S_US, &o, NULL, NULL));
	/* one agent silent, the other alive: offline, not a shutdown */
	assert_false(regime_silent(&g[1], 2, now, &o, NULL, NULL));
	/* min_agents 3: two are not enough */
	o.min_agents = 3;
	assert_false(regime_silent(g, 3, now, &o, NULL, NULL));
	o.min_agents = 2;
	/* irregular: a gap of ten minutes in one agent's heartbeats */
	a[10] += 9 * 60 * S_US;
	for (size_t i = 11; i < g[0].n; i++)
		a[i] += 9 * 60 * S_US;
	assert_false(regime_silent(g, 2, now, &o, NULL, NULL));
	/* regular again, but stopped 20 minutes apart */
	g[0] = (struct regime_beats){a, beats(a, 0, 600 * S_US)};
	assert_false(regime_silent(g, 2, now, &o, NULL, NULL));
	/* too few heartbeats to know a rhythm */
	g[0] = (struct regime_beats){a, beats(a, 1620 * S_US, 1800 * S_US)};
	assert_int_equal(g[0].n, 4);
	assert_false(regime_silent(g, 2, now, &o, NULL, NULL));
	g[0] = (struct regime_beats){a, beats(a, 1560 * S_US, 1800 * S_US)};
	assert_true(regime_silent(g, 2, now, &o, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_regime_of),
		cmocka_unit_test(t_regime_apply),
		cmocka_unit_test(t_regime_cells),
		cmocka_unit_test(t_region_whitelist),
		cmocka_unit_test(t_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
