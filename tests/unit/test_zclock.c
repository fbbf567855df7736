/*
 * test_zclock — the arithmetic that places a Pi's measurements in time
 * (lib/zclock.h): anchors from replies, placement by the boot's anchor,
 * no correction, another boot, a wall clock stepped between measurement
 * and delivery, hostile values; and the boot id parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "zclock.h"

#define S 1000000LL
#define DAY (86400 * S)
/* 2026-12-07T10:00:00Z, the aggregator's true time in these cases */
#define T0 1796637600000000LL

static const uint8_t boot_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16};
static const uint8_t boot_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
	5, 4, 3, 2, 1};

static void
t_learn(void **state)
{
	struct zclock_anchor a;

	(void)state;
	/* a round trip of 40 ms: the server read its clock at the middle */
	zclock_learn(&a, boot_a, 100 * S, 100 * S + 40000, T0);
	assert_true(a.set);
	assert_memory_equal(a.boot_id, boot_a, 16);
	assert_true(a.boot_us == 100 * S + 20000);
	assert_true(zclock_at(&a, 100 * S + 20000) == T0);
	assert_true(zclock_at(&a, 160 * S + 20000) == T0 + 60 * S);
	assert_true(zclock_at(&a, 40 * S + 20000) == T0 - 60 * S);
	/* no request time (an Ack): the arrival is the instant */
	zclock_learn(&a, boot_a, 0, 100 * S, T0);
	assert_true(a.boot_us == 100 * S);
	/* a "request" after the reply is no round trip */
	zclock_learn(&a, boot_a, 200 * S, 100 * S, T0);
	assert_true(a.boot_us == 100 * S);
}

/* The agent's clock 3 days behind: a measurement 10 minutes before the
 * Hello is placed 10 minutes before the Hello's arrival. */
static void
t_place_boot(void **state)
{
	struct zclock_anchor a = {.set = true, .boot_us = 5000 * S,
	    .true_us = T0};
	int64_t placed;
	int64_t wall = T0 - 3 * DAY - 600 * S;	/* what the agent signed */

	(void)state;
	memcpy(a.boot_id, boot_a, 16);
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, true,
	    4400 * S, wall, &placed), ZCLOCK_BY_BOOT);
	assert_true(placed == T0 - 600 * S);
	/* 2 hours ahead: the same */
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, true,
	    4400 * S, T0 + 2 * 3600 * S - 600 * S, &placed), ZCLOCK_BY_BOOT);
	assert_true(placed == T0 - 600 * S);
}

/* The wall clock stepped (NTP) between the measurement and the Hello
 * that delivers it: CLOCK_BOOTTIME did not, the placement is exact.  The
 * signed start is off by the step; the placed one is not. */
static void
t_place_stepped(void **state)
{
	struct zclock_anchor a = {.set = true, .boot_us = 9000 * S,
	    .true_us = T0};
	int64_t placed, signed_start = T0 - 2 * DAY - 1000 * S;

	(void)state;
	memcpy(a.boot_id, boot_a, 16);
	/* measured at boot 8000 s, wall 2 days behind; NTP then fixed the
	 * wall clock, so Hello.clock_us is right: only boot time counts */
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, true,
	    8000 * S, signed_start, &placed), ZCLOCK_BY_BOOT);
	assert_true(placed == T0 - 1000 * S);
}

static void
t_place_signed(void **state)
{
	struct zclock_anchor a = {.set = true, .boot_us = 9000 * S,
	    .true_us = T0};
	int64_t placed = 0;

	(void)state;
	memcpy(a.boot_id, boot_a, 16);
	/* verified: the agent applied its anchor already */
	assert_int_equal(zclock_place(&a, true, false, boot_a, 16, true,
	    8000 * S, T0 - 5 * S, &placed), ZCLOCK_SIGNED);
	assert_true(placed == T0 - 5 * S);
	/* no ClockCheck at all (an older agent) */
	assert_int_equal(zclock_place(&a, false, false, NULL, 0, false, 0,
	    T0 - 7 * S, &placed), ZCLOCK_SIGNED);
	assert_true(placed == T0 - 7 * S);
}

static void
t_place_unplaced(void **state)
{
	struct zclock_anchor a = {.set = true, .boot_us = 9000 * S,
	    .true_us = T0};
	struct zclock_anchor none = {.set = false};
	int64_t placed, wall = T0 - 3 * DAY;

	(void)state;
	memcpy(a.boot_id, boot_a, 16);
	/* taken in another boot: its boot time means nothing now */
	assert_int_equal(zclock_place(&a, true, true, boot_b, 16, true,
	    8000 * S, wall, &placed), ZCLOCK_UNPLACED);
	assert_true(placed == wall);
	/* no anchor yet (an agent that sent no Hello with a boot) */
	assert_int_equal(zclock_place(&none, true, true, boot_a, 16, true,
	    8000 * S, wall, &placed), ZCLOCK_UNPLACED);
	assert_int_equal(zclock_place(NULL, true, true, boot_a, 16, true,
	    8000 * S, wall, &placed), ZCLOCK_UNPLACED);
	/* a boot id of the wrong size, a boot time missing or absurd */
	assert_int_equal(zclock_place(&a, true, true, boot_a, 15, true,
	    8000 * S, wall, &placed), ZCLOCK_UNPLACED);
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, false,
	    8000 * S, wall, &placed), ZCLOCK_UNPLACED);
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, true,
	    UINT64_MAX, wall, &placed), ZCLOCK_UNPLACED);
	assert_true(placed == wall);
}

/* Hostile numbers saturate instead of overflowing (UBSan watches). */
static void
t_saturate(void **state)
{
	struct zclock_anchor a = {.set = true, .boot_us = 0,
	    .true_us = INT64_MAX - 5};
	int64_t placed;

	(void)state;
	memcpy(a.boot_id, boot_a, 16);
	assert_true(zclock_at(&a, INT64_MAX) == INT64_MAX);
	a.true_us = INT64_MIN + 5;
	a.boot_us = INT64_MAX;
	assert_true(zclock_at(&a, 0) == INT64_MIN);
	assert_int_equal(zclock_place(&a, true, true, boot_a, 16, true,
	    (uint64_t)INT64_MAX, 0, &placed), ZCLOCK_BY_BOOT);
	assert_true(placed == INT64_MIN + 5);
}

static void
t_boot_id(void **state)
{
	uint8_t id[16];
	static const uint8_t want[16] = {0x5b, 0x3e, 0x8f, 0x0c, 0x1d, 0x2a,
	    0x4b, 0x6c, 0x9e, 0x01, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56};
	zdiag_t d;

	(void)state;
	assert_int_equal(zclock_parse_boot_id(
	    "5b3e8f0c-1d2a-4b6c-9e01-abcdef123456\n", id, &d), ZE_OK);
	assert_memory_equal(id, want, 16);
	assert_int_equal(zclock_parse_boot_id(
	    "5B3E8F0C-1D2A-4B6C-9E01-ABCDEF123456", id, &d), ZE_OK);
	assert_memory_equal(id, want, 16);
	assert_int_equal(zclock_parse_boot_id(
	    "5b3e8f0c1d2a4b6c9e01abcdef123456", id, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "not a UUID"));
	assert_int_equal(zclock_parse_boot_id(
	    "5b3e8f0c-1d2a-4b6c-9e01-abcdef12345", id, &d), ZE_PARSE);
	assert_int_equal(zclock_parse_boot_id(
	    "5b3e8f0c-1d2a-4b6c-9e01-abcdef1234567", id, &d), ZE_PARSE);
	assert_int_equal(zclock_parse_boot_id(
	    "5b3e8f0c-1d2a-4b6c-9e01-abcdef12345g", id, &d), ZE_PARSE);
	assert_int_equal(zclock_parse_boot_id("", id, &d), ZE_PARSE);
	/* this machine's */
	assert_int_equal(zclock_boot_id(id, &d), ZE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_learn),
		cmocka_unit_test(t_place_boot),
		cmocka_unit_test(t_place_stepped),
		cmocka_unit_test(t_place_signed),
		cmocka_unit_test(t_place_unplaced),
		cmocka_unit_test(t_saturate),
		cmocka_unit_test(t_boot_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
