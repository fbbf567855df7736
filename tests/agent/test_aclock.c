/*
 * test_aclock — the agent's clock (agent/clock.c): before any reply a
 * measurement keeps its wall clock and is unverified; after one it is the
 * anchored time, verified, with the correction applied; the anchor is
 * kept in the state directory for this boot only (another boot's file, a
 * damaged file are ignored); an imprecise reply (an Ack) never replaces a
 * precise one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "ztime.h"

#define S 1000000LL

static char dir[64];
static char file[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zond-aclock-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/clock", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static void
t_unknown_then_learnt(void **state)
{
	Zond__V1__ClockCheck cc = ZOND__V1__CLOCK_CHECK__INIT;
	aclock_t c;
	int64_t start, boot = ztime_boot_us(), wall = ztime_now_us();
	int64_t truth = wall + 3 * 86400 * S;	/* the wall clock: slow */
	struct stat st;

	(void)state;
	aclock_init(&c, dir);
	assert_true(c.have_boot);
	assert_false(aclock_known(&c));
	aclock_stamp(&c, wall, boot, &start, &cc);
	assert_true(cc.has_unverified && cc.unverified);
	assert_false(cc.has_offset_us);
	assert_true(start == wall);
	assert_true(cc.has_boot_id && cc.boot_id.len == 16);
	assert_true(cc.has_boot_us && cc.boot_us == (uint64_t)boot);
	assert_int_equal(stat(file, &st), -1);	/* nothing learnt, no file */

	/* a time reply: round trip of 20 ms from boot */
	aclock_learn(&c, boot, boot + 20000, truth, true);
	assert_true(aclock_known(&c));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	memset(&cc, 0, sizeof(cc));
	zond__v1__clock_check__init(&cc);
	/* a test started 5 s later by the boot clock */
	aclock_stamp(&c, wall + 5 * S, boot + 5 * S, &start, &cc);
	assert_false(cc.unverified);
	assert_true(start == truth + 5 * S - 10000);
	assert_true(cc.has_offset_us && cc.offset_us == start - (wall + 5 * S));
	/* the wall clock stepped (NTP) in between: the boot clock decides */
	aclock_stamp(&c, wall + 5 * S + 3 * 86400 * S, boot + 5 * S, &start,
	    &cc);
	assert_true(start == truth + 5 * S - 10000);
	assert_true(cc.offset_us == -10000);
	/* an Ack's time (imprecise) does not replace the anchor */
	aclock_learn(&c, 0, boot + 30 * S, truth + 999 * S, false);
	aclock_stamp(&c, wall, boot + 5 * S, &start, &cc);
	assert_true(start == truth + 5 * S - 10000);
	/* nor does a server time of 0 */
	aclock_learn(&c, boot, boot + 1, 0, true);
	aclock_stamp(&c, wall, boot + 5 * S, &start, &cc);
	assert_true(start == truth + 5 * S - 10000);
}

/* A restart in the same boot reads the anchor back. */
static void
t_persist(void **state)
{
	Zond__V1__ClockCheck cc = ZOND__V1__CLOCK_CHECK__INIT;
	aclock_t c, again;
	int64_t start, boot = ztime_boot_us();

	(void)state;
	aclock_init(&c, dir);
	aclock_learn(&c, 0, boot, 1796637600 * S, true);
	aclock_init(&again, dir);
	assert_true(aclock_known(&again));
	aclock_stamp(&again, 1, boot + S, &start, &cc);
	assert_false(cc.unverified);
	assert_true(start == 1796637600 * S + S);
}

static void
write_file(const char *text)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Another boot's file, or one that does not parse, is ignored. */
static void
t_other_boot_or_damaged(void **state)
{
	aclock_t c;

	(void)state;
	write_file("zond-clock 1 00000000000000000000000000000000 5 "
	    "1796637600000000\n");
	aclock_init(&c, dir);
	assert_false(aclock_known(&c));
	write_file("zond-clock 1 garbage\n");
	aclock_init(&c, dir);
	assert_false(aclock_known(&c));
	write_file("");
	aclock_init(&c, dir);
	assert_false(aclock_known(&c));
	/* learning again replaces the stale file */
	aclock_learn(&c, 0, ztime_boot_us(), 1796637600 * S, true);
	aclock_init(&c, dir);
	assert_true(aclock_known(&c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_unknown_then_learnt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(t_other_boot_or_damaged, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
