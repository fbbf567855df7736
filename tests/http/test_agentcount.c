/*
 * test_agentcount — the per-agent refusal counts /api/v1/agents shows
 * (aggregator/agentcount.c): absent keys are 0, counts add up per key,
 * the table grows past its first size without losing any, and keys that
 * share their first bytes stay apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "agentcount.h"

static void
key(uint8_t pk[32], unsigned i)
{
	memset(pk, 0xab, 32);
	pk[28] = (uint8_t)(i >> 24);
	pk[29] = (uint8_t)(i >> 16);
	pk[30] = (uint8_t)(i >> 8);
	pk[31] = (uint8_t)i;
}

static void
t_counts(void **state)
{
	agentcount_t *c;
	uint8_t pk[32];

	(void)state;
	assert_int_equal(agentcount_new(&c), ZE_OK);
	key(pk, 1);
	assert_int_equal(agentcount_get(c, pk), 0);
	agentcount_add(c, pk, 2);
	agentcount_add(c, pk, 0);
	agentcount_add(c, pk, 3);
	assert_int_equal(agentcount_get(c, pk), 5);
	/* 5,000 agents: many doublings */
	for (unsigned i = 2; i < 5002; i++) {
		key(pk, i);
		agentcount_add(c, pk, i);
	}
	for (unsigned i = 2; i < 5002; i++) {
		key(pk, i);
		assert_int_equal(agentcount_get(c, pk), i);
	}
	key(pk, 1);
	assert_int_equal(agentcount_get(c, pk), 5);
	key(pk, 9999);
	assert_int_equal(agentcount_get(c, pk), 0);
	assert_int_equal(agentcount_get(NULL, pk), 0);
	agentcount_add(NULL, pk, 1);
	agentcount_free(&c);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
