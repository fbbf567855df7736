/*
 * test_pubview — the public view's k rule (aggregator/analysis/pubview.c,
 * docs/API.md "Public view and operator token"): which cells are shown,
 * region rows that count hidden cells but never name their ASN, small
 * regions merged into one "other" row per service by the region rule,
 * the edges at k, agent counts per region and ASN, and the public map
 * document (no agent key, no hidden cell).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "map.h"
#include "pubview.h"

static cell_t
mk(const char *region, int64_t asn, const char *service, cell_verdict_t v,
    uint32_t agents)
{
	cell_t c;

	memset(&c, 0, sizeof(c));
	snprintf(c.region, sizeof(c.region), "%s", region);
	c.asn = asn;
	snprintf(c.service, sizeof(c.service), "%s", service);
	c.verdict = v;
	c.agents = agents;
	c.measurements = 3 * agents;
	return c;
}

static const struct region_row *
row(const struct region_row *rr, size_t n, const char *region,
    const char *service)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rr[i].region, region) == 0 &&
		    strcmp(rr[i].service, service) == 0)
			return &rr[i];
	return NULL;
}

/* The cells of public.sh and a bigger region: rows shown, the hidden
 * ASN counted but not named, small regions in "other". */
static void
t_regions(void **st)
{
	cell_t c[] = {
		mk("RU-MOW", 64502, "whatsapp", CELL_BLOCKED, 2),
		mk("RU-MOW", 64501, "whatsapp", CELL_BLOCKED, 3),
		mk("RU-SPE", 64503, "whatsapp", CELL_BLOCKED, 2),
		mk("RU-TA", 64504, "whatsapp", CELL_INSUFFICIENT, 1),
		mk("RU-KDA", 64505, "whatsapp", CELL_OK, 4),
		mk("RU-MOW", 64501, "telegram", CELL_OK, 3),
	};
	struct region_row *rr = NULL;
	const struct region_row *r;
	size_t n = 0;

	(void)st;
	assert_int_equal(pub_regions(c, 6, 3, &rr, &n), ZE_OK);
	assert_int_equal(n, 4);
	/* sorted: ISO codes, then "other" */
	assert_string_equal(rr[0].region, "RU-KDA");
	assert_string_equal(rr[1].region, "RU-MOW");
	assert_string_equal(rr[1].service, "telegram");
	assert_string_equal(rr[2].service, "whatsapp");
	assert_string_equal(rr[3].region, "other");
	r = row(rr, n, "RU-MOW", "whatsapp");
	assert_non_null(r);
	assert_int_equal(r->verdict, CELL_BLOCKED);
	assert_int_equal(r->agents, 5);
	assert_int_equal(r->asns, 2);
	assert_int_equal(r->asns_blocked, 2);	/* counts stay */
	assert_int_equal(r->nblocked_asns, 1);	/* names only the shown */
	assert_int_equal(r->blocked_asns[0], 64501);
	r = row(rr, n, "other", "whatsapp");
	assert_non_null(r);
	assert_int_equal(r->agents, 3);
	assert_int_equal(r->asns, 2);
	assert_int_equal(r->asns_blocked, 1);
	assert_int_equal(r->nblocked_asns, 0);
	/* by the region rule: the one judged ISP blocked -> blocked */
	assert_int_equal(r->verdict, CELL_BLOCKED);
	assert_null(row(rr, n, "RU-SPE", "whatsapp"));
	assert_null(row(rr, n, "RU-TA", "whatsapp"));
	assert_true(pub_cell_shown(&c[1], 3));
	assert_false(pub_cell_shown(&c[0], 3));
	free(rr);
}

/* The edges: a row of exactly k agents is shown, k - 1 is "other"; the
 * "other" row's verdict is partial when its parts differ; one "other"
 * row per service. */
static void
t_edges(void **st)
{
	cell_t c[] = {
		mk("RU-AD", 1, "s", CELL_OK, 2),
		mk("RU-AD", 2, "s", CELL_OK, 1),	/* row: 3 = k */
		mk("RU-AL", 3, "s", CELL_BLOCKED, 2),	/* row: 2 < k */
		mk("RU-BA", 4, "s", CELL_OK, 2),	/* row: 2 < k */
		mk("RU-BA", 4, "t", CELL_THROTTLED, 2),
	};
	struct region_row *rr = NULL;
	const struct region_row *r;
	size_t n = 0;

	(void)st;
	assert_int_equal(pub_regions(c, 5, 3, &rr, &n), ZE_OK);
	assert_int_equal(n, 3);
	r = row(rr, n, "RU-AD", "s");
	assert_non_null(r);
	assert_int_equal(r->agents, 3);
	assert_int_equal(r->verdict, CELL_OK);
	r = row(rr, n, "other", "s");
	assert_non_null(r);
	assert_int_equal(r->agents, 4);
	assert_int_equal(r->verdict, CELL_PARTIAL);
	assert_int_equal(r->nblocked_asns, 0);
	r = row(rr, n, "other", "t");
	assert_non_null(r);
	assert_int_equal(r->verdict, CELL_THROTTLED);
	free(rr);
	/* k 1: the operator's rows (nothing merged, every ASN named) */
	assert_int_equal(pub_regions(c, 5, 1, &rr, &n), ZE_OK);
	assert_int_equal(n, 4);
	r = row(rr, n, "RU-AL", "s");
	assert_non_null(r);
	assert_int_equal(r->nblocked_asns, 1);
	assert_int_equal(r->blocked_asns[0], 3);
	assert_null(row(rr, n, "other", "s"));
	free(rr);
	/* k 1000: every region in "other", one row per service */
	assert_int_equal(pub_regions(c, 5, 1000, &rr, &n), ZE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rr[0].region, "other");
	assert_string_equal(rr[0].service, "s");
	assert_int_equal(rr[0].agents, 7);
	assert_int_equal(rr[0].asns, 4);
	assert_string_equal(rr[1].service, "t");
	free(rr);
	/* no cells */
	rr = (void *)&n;
	assert_int_equal(pub_regions(NULL, 0, 3, &rr, &n), ZE_OK);
	assert_null(rr);
	assert_int_equal(n, 0);
}

static void
t_agents(void **st)
{
	pub_agents_t *p = NULL;

	(void)st;
	assert_int_equal(pub_agents_new(&p), ZE_OK);
	assert_int_equal(pub_agents_count(p, NULL, 0), 0);
	assert_int_equal(pub_agents_add(p, "RU-MOW", 64501), ZE_OK);
	assert_int_equal(pub_agents_add(p, "RU-SPE", 64501), ZE_OK);
	assert_int_equal(pub_agents_add(p, "RU-MOW", 64502), ZE_OK);
	assert_int_equal(pub_agents_add(p, "RU-MOW", 64501), ZE_OK);
	assert_int_equal(pub_agents_count(p, "RU-MOW", 64501), 2);
	assert_int_equal(pub_agents_count(p, "RU-MOW", 0), 3);
	assert_int_equal(pub_agents_count(p, NULL, 64501), 3);
	assert_int_equal(pub_agents_count(p, NULL, 0), 4);
	assert_int_equal(pub_agents_count(p, "RU-SPE", 64502), 0);
	assert_int_equal(pub_agents_count(p, "RU-TA", 0), 0);
	assert_int_equal(pub_agents_count(p, "RU-A", 0), 0);
	/* adds after a count are counted too */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(pub_agents_add(p, "RU-TA", 64504 + i % 7),
		    ZE_OK);
	assert_int_equal(pub_agents_count(p, "RU-TA", 0), 1000);
	assert_int_equal(pub_agents_count(p, "RU-TA", 64504), 143);
	assert_int_equal(pub_agents_count(p, "RU-MOW", 64501), 2);
	pub_agents_free(&p);
	assert_null(p);
	pub_agents_free(&p);
	pub_agents_free(NULL);
}

/* The public map document: the hidden cell and the anomaly's key are in
 * the operator's document and not in the public one. */
static void
t_map(void **st)
{
	cell_t c[] = {
		mk("RU-MOW", 64501, "whatsapp", CELL_OK, 3),
		mk("RU-MOW", 64502, "whatsapp", CELL_BLOCKED, 2),
		mk("RU-MOW", 64503, "whatsapp", CELL_BLOCKED, 3),
	};
	struct cell_anomaly an = {.share = 1.0};
	char hex[65];
	zbuf_t b;

	(void)st;
	memset(an.agent, 0xab, sizeof(an.agent));
	for (int i = 0; i < 64; i++)
		hex[i] = i % 2 ? 'b' : 'a';
	hex[64] = '\0';
	c[0].agent_anomaly = 1;
	c[0].anomalies = &an;
	zbuf_init(&b, 1 << 20);
	assert_int_equal(map_json(&b, 0, 3600000000LL, c, 3, NULL), ZE_OK);
	assert_int_equal(zbuf_putc(&b, '\0'), ZE_OK);
	assert_non_null(strstr((char *)b.data, hex));
	assert_non_null(strstr((char *)b.data, "64502"));
	zbuf_free(&b);
	zbuf_init(&b, 1 << 20);
	assert_int_equal(map_json_public(&b, 0, 3600000000LL, c, 3, NULL, 3),
	    ZE_OK);
	assert_int_equal(zbuf_putc(&b, '\0'), ZE_OK);
	assert_null(strstr((char *)b.data, hex));
	assert_null(strstr((char *)b.data, "agent_anomalies"));
	assert_null(strstr((char *)b.data, "64502"));
	assert_non_null(strstr((char *)b.data, "\"agent_anomaly\":1"));
	assert_non_null(strstr((char *)b.data, "\"blocked_asns\":[64503]"));
	assert_non_null(strstr((char *)b.data, "\"asns_blocked\":2"));
	assert_non_null(strstr((char *)b.data, "\"verdict\":\"partial\""));
	zbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_regions),
		cmocka_unit_test(t_edges),
		cmocka_unit_test(t_agents),
		cmocka_unit_test(t_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
