/*
 * test_ratelimit — the enrollment rate limit per source address
 * (aggregator/ratelimit.c): the rate holds per source, sources do not
 * share a budget, the budget comes back with time, and the table keeps
 * its size whatever the number of sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

#define S 1000000LL

static void
t_rate(void **state)
{
	rlimit_t *rl = rl_new(64, 3);
	const char *a = "192.0.2.1", *b = "192.0.2.2";
	int64_t t = 1000 * S;

	(void)state;
	assert_non_null(rl);
	/* three at once, then refused */
	assert_true(rl_allow(rl, a, strlen(a), t));
	assert_true(rl_allow(rl, a, strlen(a), t));
	assert_true(rl_allow(rl, a, strlen(a), t));
	assert_false(rl_allow(rl, a, strlen(a), t));
	assert_false(rl_allow(rl, a, strlen(a), t + 19 * S));
	/* another source has its own budget */
	assert_true(rl_allow(rl, b, strlen(b), t));
	/* one more every 20 s */
	assert_true(rl_allow(rl, a, strlen(a), t + 20 * S));
	assert_false(rl_allow(rl, a, strlen(a), t + 21 * S));
	/* a minute of quiet: the whole burst again */
	for (int i = 0; i < 3; i++)
		assert_true(rl_allow(rl, a, strlen(a), t + 100 * S));
	assert_false(rl_allow(rl, a, strlen(a), t + 100 * S));
	rl_free(&rl);
	assert_null(rl);
}

/* A flood from 100,000 addresses keeps the table at its size, and a
 * source that keeps trying within its set is still limited. */
static void
t_bounded(void **state)
{
	rlimit_t *rl = rl_new(10, 2);
	char addr[64];
	int64_t t = 5000 * S;
	int passed = 0;

	(void)state;
	assert_int_equal(rl_slots(rl), 12);	/* rounded to RL_WAYS */
	for (int i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		assert_true(rl_allow(rl, addr, strlen(addr), t));
	}
	assert_int_equal(rl_slots(rl), 12);
	/* one busy source among idle ones: limited */
	for (int i = 0; i < 10; i++)
		passed += rl_allow(rl, "203.0.113.9", 11, t + i);
	assert_int_equal(passed, 2);
	rl_free(&rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rate),
		cmocka_unit_test(t_bounded),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
