/*
 * test_util — value parsers, time, ids and bounded buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "kv.h"
#include "log.h"
#include "zbuf.h"
#include "zid.h"
#include "ztime.h"

static void
t_durations(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(conf_parse_duration("500ms", &v), ZE_OK);
	assert_int_equal(v, 500);
	assert_int_equal(conf_parse_duration("10", &v), ZE_OK);
	assert_int_equal(v, 10000);
	assert_int_equal(conf_parse_duration("2h", &v), ZE_OK);
	assert_int_equal(v, 7200000);
	assert_int_equal(conf_parse_duration("1d", &v), ZE_OK);
	assert_int_equal(v, 86400000);
	assert_int_equal(conf_parse_duration("", &v), ZE_PARSE);
	assert_int_equal(conf_parse_duration("s", &v), ZE_PARSE);
	assert_int_equal(conf_parse_duration("1 s", &v), ZE_PARSE);
	assert_int_equal(conf_parse_duration("-1s", &v), ZE_PARSE);
	assert_int_equal(conf_parse_duration("99999999999999999d", &v),
	    ZE_RANGE);
}

static void
t_sizes(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(conf_parse_size("4096", &v), ZE_OK);
	assert_int_equal(v, 4096);
	assert_int_equal(conf_parse_size("64k", &v), ZE_OK);
	assert_int_equal(v, 65536);
	assert_int_equal(conf_parse_size("10MiB", &v), ZE_OK);
	assert_int_equal(v, 10485760);
	assert_int_equal(conf_parse_size("2G", &v), ZE_OK);
	assert_int_equal(v, 2147483648LL);
	assert_int_equal(conf_parse_size("1.5G", &v), ZE_PARSE);
	assert_int_equal(conf_parse_size("9999999999T", &v), ZE_RANGE);
}

static void
t_ints_bools(void **state)
{
	int64_t v;
	bool b;

	(void)state;
	assert_int_equal(conf_parse_int("-42", &v), ZE_OK);
	assert_int_equal(v, -42);
	assert_int_equal(conf_parse_int("4x", &v), ZE_PARSE);
	assert_int_equal(conf_parse_int(" 4", &v), ZE_PARSE);
	assert_int_equal(conf_parse_bool("ON", &b), ZE_OK);
	assert_true(b);
	assert_int_equal(conf_parse_bool("no", &b), ZE_OK);
	assert_false(b);
	assert_int_equal(conf_parse_bool("2", &b), ZE_PARSE);
}

static void
t_time(void **state)
{
	char buf[40];
	int64_t us;
	zdiag_t d;

	(void)state;
	assert_int_equal(ztime_parse_iso("2026-01-01T00:00:00Z", &us, &d),
	    ZE_OK);
	assert_int_equal(us, 1767225600LL * 1000000);
	assert_int_equal(ztime_parse_iso("2026-01-01", &us, &d), ZE_OK);
	assert_int_equal(us, 1767225600LL * 1000000);
	assert_int_equal(ztime_parse_iso("2024-02-29T23:59:59.5Z", &us, &d),
	    ZE_OK);
	assert_string_equal(ztime_fmt_iso(us, buf, sizeof(buf), 3),
	    "2024-02-29T23:59:59.500Z");
	assert_string_equal(ztime_fmt_iso(0, buf, sizeof(buf), 0),
	    "1970-01-01T00:00:00Z");
	assert_int_equal(ztime_parse_iso("2025-02-29", &us, &d), ZE_RANGE);
	assert_non_null(strstr(d.text, "2025-02-29"));
	assert_int_equal(ztime_parse_iso("2026-13-01", &us, &d), ZE_RANGE);
	/* every field in range: no second 60, hour 24 or minute 60 */
	assert_int_equal(ztime_parse_iso("2026-01-01T12:00:60Z", &us, &d),
	    ZE_RANGE);
	assert_non_null(strstr(d.text, "12:00:60"));
	assert_int_equal(ztime_parse_iso("2026-06-30T23:59:60.5Z", &us, &d),
	    ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-01-01T24:00:00Z", &us, &d),
	    ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-01-01T12:60Z", &us, &d),
	    ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-00-10", &us, &d), ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-04-31", &us, &d), ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-01-00", &us, &d), ZE_RANGE);
	assert_int_equal(ztime_parse_iso("1969-12-31T23:59:59Z", &us, &d),
	    ZE_RANGE);
	assert_int_equal(ztime_parse_iso("2026-01-01T23:59:59.999999Z", &us,
	    &d), ZE_OK);
	assert_int_equal(us, (1767225600LL + 86399) * 1000000 + 999999);
	assert_int_equal(ztime_parse_iso("2026-1-01", &us, &d), ZE_PARSE);
	assert_int_equal(ztime_parse_iso("2026-01-01T10:00+03:00", &us, &d),
	    ZE_PARSE);
	assert_int_equal(ztime_parse_iso("yesterday", &us, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "ISO 8601"));
	/* round trip over a span of dates, to the microsecond */
	for (int64_t t = -86400LL * 1000000; t < 4102444800LL * 1000000;
	    t += 7777777777777LL) {
		if (t < 0)
			continue;
		ztime_fmt_iso(t, buf, sizeof(buf), 6);
		assert_int_equal(ztime_parse_iso(buf, &us, &d), ZE_OK);
		assert_int_equal(us, t);
	}
}

static void
t_ids(void **state)
{
	zidgen_t g;
	zid_t prev, cur;
	int64_t now = 1767225600123456LL;

	(void)state;
	zidgen_init(&g);
	zid_next(&g, now, &prev);
	assert_int_equal(zid_time_ms(&prev), now / 1000);
	/* many in the same millisecond: strictly increasing */
	for (int i = 0; i < 100000; i++) {
		zid_next(&g, now, &cur);
		assert_true(memcmp(prev.b, cur.b, ZID_LEN) < 0);
		prev = cur;
	}
	/* the clock stepping back a little does not break the order */
	zid_next(&g, now - ZID_STEP_BACK_MS * 1000, &cur);
	assert_true(memcmp(prev.b, cur.b, ZID_LEN) < 0);
	assert_int_equal(zid_time_ms(&cur), now / 1000);
	/* by more: the ids follow the clock, never run ahead of a start by
	 * more than ZID_STEP_BACK_MS (PROTOCOL.md "Ids") */
	zid_next(&g, now - 5000000, &cur);
	assert_int_equal(zid_time_ms(&cur), (now - 5000000) / 1000);
	zid_next(&g, now - 5000000, &prev);
	assert_true(memcmp(cur.b, prev.b, ZID_LEN) < 0);
}

static void
t_zbuf(void **state)
{
	zbuf_t b;

	(void)state;
	zbuf_init(&b, 10);
	assert_int_equal(zbuf_puts(&b, "hello"), ZE_OK);
	assert_int_equal(zbuf_printf(&b, "%d", 12345), ZE_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "hello12345");
	/* one more byte is refused and changes nothing */
	assert_int_equal(zbuf_putc(&b, 'x'), ZE_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "hello12345");
	zbuf_reset(&b);
	assert_int_equal(zbuf_printf(&b, "%0300d", 1), ZE_TOOBIG);
	assert_int_equal(b.len, 0);
	zbuf_free(&b);
	zbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(zbuf_printf(&b, "%0300d", i), ZE_OK);
	assert_int_equal(b.len, 300000);
	zbuf_free(&b);
}

/* No text a peer sends can start a log line of its own or forge a
 * key=value field. */
static void
t_log_lines(void **state)
{
	char path[] = "/tmp/zond-test-log-XXXXXX", buf[512], q[64];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;
	size_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_warnx("peer said %s", "a\nFORGED: b\r\x1b[2J\x7f end");
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_non_null(f = fdopen(fd, "r"));
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(buf, "peer said a\\x0aFORGED: b\\x0d\\x1b[2J"
	    "\\x7f end\n"));
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);	/* one line */
	/* values quoted as logfmt does */
	assert_string_equal(kv_quote("0.1.0", false, q, sizeof(q)), "0.1.0");
	assert_string_equal(kv_quote("1 state=x", false, q, sizeof(q)),
	    "\"1 state=x\"");
	assert_string_equal(kv_quote("a\"b\\\n\x01", false, q, sizeof(q)),
	    "\"a\\\"b\\\\\\n\\x01\"");
	assert_string_equal(kv_quote("", false, q, sizeof(q)), "\"\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_durations),
		cmocka_unit_test(t_sizes),
		cmocka_unit_test(t_ints_bools),
		cmocka_unit_test(t_time),
		cmocka_unit_test(t_ids),
		cmocka_unit_test(t_zbuf),
		cmocka_unit_test(t_log_lines),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
