/*
 * test_json — JSON output stays valid whatever the network sent, and the
 * vector measurement renders as the export record INTERFACES.md names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"
#include "json.h"
#include "vector.h"

static const char *
render_str(zbuf_t *b, const char *s, size_t n)
{
	zbuf_reset(b);
	assert_int_equal(json_str(b, s, n), ZE_OK);
	return (const char *)b->data;
}

static void
t_strings(void **state)
{
	zbuf_t b;

	(void)state;
	zbuf_init(&b, 4096);
	assert_string_equal(render_str(&b, "plain", 5), "\"plain\"");
	assert_string_equal(render_str(&b, "q\"b\\", 4), "\"q\\\"b\\\\\"");
	assert_string_equal(render_str(&b, "a\nb\t\r\x01\x7f", 7),
	    "\"a\\nb\\t\\r\\u0001\\u007f\"");
	/* valid UTF-8 passes through */
	assert_string_equal(render_str(&b, "Доступ", strlen("Доступ")),
	    "\"Доступ\"");
	/* invalid: lone continuation, truncated sequence, overlong, surrogate */
	assert_string_equal(render_str(&b, "\x80x", 2), "\"\\ufffdx\"");
	assert_string_equal(render_str(&b, "\xd0", 1), "\"\\ufffd\"");
	assert_string_equal(render_str(&b, "\xc0\xaf", 2),
	    "\"\\ufffd\\ufffd\"");
	assert_string_equal(render_str(&b, "\xed\xa0\x80", 3),
	    "\"\\ufffd\\ufffd\\ufffd\"");
	/* NUL inside a length-delimited string */
	assert_string_equal(render_str(&b, "a\0b", 3), "\"a\\u0000b\"");
	/* the cap holds */
	zbuf_free(&b);
	zbuf_init(&b, 8);
	assert_int_equal(json_str(&b, "0123456789", 10), ZE_TOOBIG);
	zbuf_free(&b);
}

static void
t_measurement(void **state)
{
	uint8_t seed[32], sig[64];
	struct vector_meas v;
	zkey_t *k = NULL;
	zbuf_t body, out;
	wire_meas_t *m = NULL;
	struct json_meas_extra x = {.region = "RU-MOW", .asn = 12389,
	    .role = "probe", .verdict = "blocked", .method = "tls"};
	zdiag_t d;
	const char *s;

	(void)state;
	vector_seed(seed);
	assert_int_equal(key_from_seed(seed, &k), ZE_OK);
	vector_measurement(&v, key_public(k));
	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	zbuf_init(&out, 1 << 20);
	assert_int_equal(wire_meas_seal(k, &v.m, &body, sig), ZE_OK);
	assert_int_equal(wire_meas_decode(body.data, body.len, &m, &d), ZE_OK);
	x.body = body.data;
	x.body_len = body.len;
	x.sig = sig;
	assert_int_equal(json_measurement(&out, m, &x), ZE_OK);
	s = (const char *)out.data;
	assert_non_null(strstr(s, "{\"id\":\"019b796dd60000010203040506070809\""));
	assert_non_null(strstr(s, "\"seq\":42,\"start\":\"2026-01-01T12:00:00.000Z\""));
	assert_non_null(strstr(s, "\"region\":\"RU-MOW\",\"asn\":12389,\"role\":\"probe\""));
	assert_non_null(strstr(s, "\"service\":\"whatsapp\",\"test\":\"tls\",\"target\":\"198.51.100.20:443\""));
	assert_non_null(strstr(s, "\"outcome\":{\"failure\":\"reset\",\"detail\":\"connection reset after ClientHello\",\"attempts\":3,\"tls\":{"));
	assert_non_null(strstr(s, "\"control_failure\":\"none\""));
	assert_non_null(strstr(s, "\"verdict\":\"blocked\",\"method\":\"tls\""));
	assert_non_null(strstr(s, "\"signed\":\"em9uZC9tZWFzdXJlbWVudC92MQ")); /* base64 of the prefix */
	assert_non_null(strstr(s, "\"sig\":\""));
	assert_int_equal(s[out.len - 1], '}');
	/* without extras: agent-side output */
	zbuf_reset(&out);
	assert_int_equal(json_measurement(&out, m, NULL), ZE_OK);
	s = (const char *)out.data;
	assert_non_null(strstr(s, "\"region\":null,\"asn\":null,\"role\":null"));
	assert_non_null(strstr(s, "\"verdict\":\"pending\",\"method\":null"));
	assert_null(strstr(s, "\"signed\""));
	wire_meas_free(m);
	key_free(&k);
	zbuf_free(&body);
	zbuf_free(&out);
}

/* jscan_equal: the same JSON whatever the spelling; any real difference
 * is one. */
static int
eq(const char *a, const char *b)
{
	struct jmember ma[4], mb[4];
	size_t na, nb;
	char wa[256], wb[256];

	snprintf(wa, sizeof(wa), "{\"k\":%s}", a);
	snprintf(wb, sizeof(wb), "{\"k\":%s}", b);
	assert_int_equal(jscan_object(wa, strlen(wa), ma, 4, &na, NULL), ZE_OK);
	assert_int_equal(jscan_object(wb, strlen(wb), mb, 4, &nb, NULL), ZE_OK);
	return jscan_equal(&ma[0], &mb[0]);
}

static void
t_equal(void **state)
{
	(void)state;
	assert_true(eq("1.5", "1.500"));
	assert_true(eq("\"caf\u00e9\"", "\"caf\xc3\xa9\""));
	assert_true(eq("{\"a\":1,\"b\":[1,2]}", "{ \"b\" : [1, 2], \"a\" : 1 }"));
	assert_true(eq("null", "null"));
	assert_true(eq("\"a\\u0000b\"", "\"a\\u0000b\""));
	assert_false(eq("\"a\\u0000b\"", "\"a\""));
	assert_false(eq("1", "2"));
	assert_false(eq("\"1\"", "1"));
	assert_false(eq("[1,2]", "[2,1]"));
	assert_false(eq("{\"a\":1}", "{\"a\":1,\"b\":2}"));
	assert_false(eq("{\"a\":{\"x\":\"y\"}}", "{\"a\":{\"x\":\"z\"}}"));
	assert_false(eq("true", "false"));
	assert_false(eq("null", "0"));
	/* a repeated key must not hide another member */
	assert_false(eq("{\"x\":1,\"x\":1}", "{\"x\":1,\"y\":2}"));
	assert_false(eq("{\"x\":1,\"y\":2}", "{\"x\":1,\"x\":1}"));
	assert_false(eq("{\"x\":1,\"x\":1}", "{\"x\":1,\"x\":1}"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_strings),
		cmocka_unit_test(t_measurement),
		cmocka_unit_test(t_equal),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
