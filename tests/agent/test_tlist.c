/*
 * test_tlist — signed test lists (agent/tlist.c): CSV rows survive the
 * trip to TestSpecs and back row for row; each refusal comes with its
 * reason (unsigned, other signer, bad signature, malformed, older,
 * expired, empty) and leaves the caller's list untouched; a bad row is
 * refused by the CSV loader's own rule; 2,000 rows cost about a quarter
 * of 8,000 (no quadratic step); a list over one frame is refused by sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "sign.h"
#include "tlist.h"
#include "ztime.h"

#define NOW 1796600000000000LL	/* 2026-12-07, microseconds */
#define DAY 86400000000LL

static const char ep_csv[] =
    "service,test,target,ip,port,sni,control_sni,variant,bytes,interval\n"
    "web,tcp,127.0.0.1,,8080,,,,,\n"
    "facetime,call,1-courier.push.apple.com,,3478-3497,,,path,,30m\n"
    "youtube,throughput,helper,helper,8443,\"a,b.example\",example.org,,1M,"
    "30m\n"
    "whatsapp,stun,helper,helper,3478,,,whatsapp,,\n"
    "dns,dns,example.com,192.0.2.53,53,,,AAAA,,90s\n";
static const char url_csv[] =
    "url,category_code,category_description,date_added,source,notes\n"
    "https://meduza.io/,NEWS,News,2026-01-01,x,\n"
    "http://example.org/a,GRP,Group,2026-01-01,x,service=social\n";

static zkey_t *op, *other;

static int
setup(void **state)
{
	uint8_t seed[KEY_SEED_LEN];

	(void)state;
	memset(seed, 7, sizeof(seed));
	if (key_from_seed(seed, &op) != ZE_OK)
		return -1;
	memset(seed, 9, sizeof(seed));
	return key_from_seed(seed, &other) == ZE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	key_free(&op);
	key_free(&other);
	return 0;
}

static void
load(targets_t *t)
{
	zdiag_t d;

	targets_init(t);
	if (targets_parse_endpoints(t, "ep.csv", ep_csv, strlen(ep_csv), &d) !=
	    ZE_OK || targets_parse_urls(t, "urls.csv", url_csv,
	    strlen(url_csv), &d) != ZE_OK)
		fail_msg("%s", d.text);
}

/* Sign t with k into out. */
static void
sign(const targets_t *t, const zkey_t *k, uint64_t v, int64_t exp,
    zbuf_t *out)
{
	zdiag_t d;

	zbuf_init(out, TLIST_MAX_FILE);
	if (tlist_sign(t, k, v, NOW, exp, out, &d) != ZE_OK)
		fail_msg("%s", d.text);
}

static enum tlist_reason
check(const zbuf_t *b, const zkey_t *opk, uint64_t cur, targets_t *t,
    zdiag_t *d)
{
	struct tlist_check c = {.operator_pk = key_public(opk), .newer = true,
	    .current = cur, .now_us = NOW};
	struct tlist_info info;

	return tlist_verify_bytes(b->data, b->len, &c, "list", t, &info, d);
}

static void
csv_of(const targets_t *t, zbuf_t *o)
{
	zbuf_init(o, 1 << 24);
	assert_int_equal(tlist_csv_header(o), ZE_OK);
	for (size_t i = 0; i < t->n; i++)
		assert_int_equal(tlist_csv_row(&t->v[i], o), ZE_OK);
}

static void
t_roundtrip(void **state)
{
	targets_t a, b, c;
	zbuf_t s, csv_a, csv_b, s2;
	struct tlist_info info;
	struct tlist_check chk = {.now_us = NOW};
	zdiag_t d;

	(void)state;
	load(&a);
	sign(&a, op, 42, NOW + DAY, &s);
	targets_init(&b);
	assert_int_equal(tlist_verify_bytes(s.data, s.len, &chk, "list", &b,
	    &info, &d), TL_OK);
	assert_int_equal(info.version, 42);
	assert_int_equal(info.ntests, a.n);
	assert_int_equal(info.issued_us, NOW);
	assert_memory_equal(info.signer, key_public(op), KEY_PUB_LEN);
	assert_int_equal(b.n, a.n);
	for (size_t i = 0; i < a.n; i++) {
		const probe_req_t *x = &a.v[i].req, *y = &b.v[i].req;
		assert_int_equal(x->test, y->test);
		assert_string_equal(x->service, y->service);
		assert_string_equal(x->target, y->target);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->port_hi, y->port_hi);
		assert_int_equal(x->bytes, y->bytes);
		assert_int_equal(a.v[i].interval_ms, b.v[i].interval_ms);
		assert_true((x->ip == NULL) == (y->ip == NULL));
		assert_true((x->sni == NULL) == (y->sni == NULL));
		if (x->sni)
			assert_string_equal(x->sni, y->sni);
		assert_true((x->variant == NULL) == (y->variant == NULL));
		if (x->variant)
			assert_string_equal(x->variant, y->variant);
	}
	/* the rows as CSV load again (the endpoint loader) to the same
	 * rows, and sign to the same body */
	csv_of(&a, &csv_a);
	csv_of(&b, &csv_b);
	assert_string_equal((char *)csv_a.data, (char *)csv_b.data);
	assert_non_null(strstr((char *)csv_a.data, "\"a,b.example\""));
	assert_non_null(strstr((char *)csv_a.data,
	    "facetime,call,1-courier.push.apple.com,,3478-3497,,,path,,1800s"));
	targets_init(&c);
	if (targets_parse_endpoints(&c, "back.csv", (char *)csv_b.data,
	    csv_b.len, &d) != ZE_OK)
		fail_msg("%s", d.text);
	sign(&c, op, 42, NOW + DAY, &s2);
	assert_int_equal(s.len, s2.len);
	assert_memory_equal(s.data, s2.data, s.len);
	targets_free(&a);
	targets_free(&b);
	targets_free(&c);
	zbuf_free(&s);
	zbuf_free(&s2);
	zbuf_free(&csv_a);
	zbuf_free(&csv_b);
}

/* A SignedTestList from parts (NULL: absent). */
static void
wrap(const uint8_t *body, size_t n, const uint8_t *sig, const uint8_t *pk,
    zbuf_t *out)
{
	Zond__V1__SignedTestList st = ZOND__V1__SIGNED_TEST_LIST__INIT;

	zbuf_init(out, TLIST_MAX_FILE);
	if (body) {
		st.has_body = 1;
		st.body.data = (uint8_t *)(uintptr_t)body;
		st.body.len = n;
	}
	if (sig) {
		st.has_sig = 1;
		st.sig.data = (uint8_t *)(uintptr_t)sig;
		st.sig.len = KEY_SIG_LEN;
	}
	if (pk) {
		st.has_signer = 1;
		st.signer.data = (uint8_t *)(uintptr_t)pk;
		st.signer.len = KEY_PUB_LEN;
	}
	assert_int_equal(wire_pack(&st.base, out), ZE_OK);
}

/* A TestList body with the given rows, signed by k. */
static void
signed_body(const zkey_t *k, Zond__V1__TestSpec **specs, size_t n,
    zbuf_t *out)
{
	Zond__V1__TestList tl = ZOND__V1__TEST_LIST__INIT;
	uint8_t sig[KEY_SIG_LEN];
	zbuf_t body;

	tl.has_version = tl.has_issued_us = tl.has_expires_us = 1;
	tl.version = 50;
	tl.issued_us = NOW;
	tl.expires_us = NOW + DAY;
	tl.n_tests = n;
	tl.tests = specs;
	zbuf_init(&body, TLIST_MAX_FILE);
	assert_int_equal(wire_pack(&tl.base, &body), ZE_OK);
	assert_int_equal(sign_body(k, ZDOM_TESTLIST, body.data, body.len, sig),
	    ZE_OK);
	wrap(body.data, body.len, sig, key_public(k), out);
	zbuf_free(&body);
}

static void
t_refusals(void **state)
{
	Zond__V1__SignedTestList *st;
	targets_t a, t;
	zbuf_t s, x;
	zdiag_t d;

	(void)state;
	load(&a);
	sign(&a, op, 50, NOW + DAY, &s);
	/* the caller's list keeps what it had on every refusal */
	targets_init(&t);
	assert_int_equal(check(&s, op, 49, &t, &d), TL_OK);
	assert_int_equal(t.n, a.n);

	assert_int_equal(check(&s, op, 50, &t, &d), TL_OLDER);
	assert_non_null(strstr(d.text, "not newer than 50"));
	assert_int_equal(check(&s, op, 51, &t, &d), TL_OLDER);
	assert_int_equal(check(&s, other, 0, &t, &d), TL_OTHER_SIGNER);
	assert_non_null(strstr(d.text, "not by the operator key"));
	assert_int_equal(t.n, a.n);

	st = zond__v1__signed_test_list__unpack(NULL, s.len, s.data);
	assert_non_null(st);
	/* unsigned: no sig, or no signer */
	wrap(st->body.data, st->body.len, NULL, key_public(op), &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_UNSIGNED);
	zbuf_free(&x);
	wrap(st->body.data, st->body.len, st->sig.data, NULL, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_UNSIGNED);
	zbuf_free(&x);
	/* every single byte of the body changed: the signature fails */
	for (size_t i = 0; i < st->body.len; i++) {
		st->body.data[i] ^= 0x01;
		wrap(st->body.data, st->body.len, st->sig.data,
		    key_public(op), &x);
		assert_int_equal(check(&x, op, 0, &t, &d), TL_BAD_SIGNATURE);
		zbuf_free(&x);
		st->body.data[i] ^= 0x01;
	}
	/* a signature made for a measurement of the same bytes */
	{
		uint8_t sig[KEY_SIG_LEN];
		assert_int_equal(sign_body(op, ZDOM_MEASUREMENT, st->body.data,
		    st->body.len, sig), ZE_OK);
		wrap(st->body.data, st->body.len, sig, key_public(op), &x);
		assert_int_equal(check(&x, op, 0, &t, &d), TL_BAD_SIGNATURE);
		zbuf_free(&x);
	}
	zond__v1__signed_test_list__free_unpacked(st, NULL);
	zbuf_free(&s);

	/* expired */
	sign(&a, op, 60, NOW - 1, &s);
	assert_int_equal(check(&s, op, 0, &t, &d), TL_EXPIRED);
	zbuf_free(&s);
	/* not a SignedTestList at all */
	{
		zbuf_t junk;
		zbuf_init(&junk, 64);
		assert_int_equal(zbuf_puts(&junk, "\xff\xff\xff garbage"),
		    ZE_OK);
		assert_int_equal(check(&junk, op, 0, &t, &d), TL_MALFORMED);
		zbuf_free(&junk);
	}
	/* empty */
	signed_body(op, NULL, 0, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_EMPTY);
	zbuf_free(&x);
	assert_int_equal(t.n, a.n);
	targets_free(&a);
	targets_free(&t);
}

/* A signed row that a CSV would not pass is refused with the CSV rule's
 * words, naming the row. */
static void
t_bad_rows(void **state)
{
	static const struct {
		const char *key, *value, *want;
	} cases[] = {
		{"port", "0", "test 2: port '0' is not 1-65535"},
		{"port", "70000", "is not 1-65535"},
		{"variant", "nope", "variant 'nope' does not apply"},
		{"ip", "not-an-ip", "is not a numeric address"},
		{"bytes", "2G", "bytes '2G' is not a size up to 1G"},
		{"colour", "red", "unknown param 'colour'"},
		{"sni", "a\xc3", "sni is not UTF-8 text"},
	};
	Zond__V1__TestSpec s0 = ZOND__V1__TEST_SPEC__INIT;
	Zond__V1__TestSpec s1 = ZOND__V1__TEST_SPEC__INIT;
	Zond__V1__TestSpec__ParamsEntry pe =
	    ZOND__V1__TEST_SPEC__PARAMS_ENTRY__INIT;
	Zond__V1__TestSpec__ParamsEntry *pes[2] = {&pe, &pe};
	Zond__V1__TestSpec *specs[2] = {&s0, &s1};
	targets_t t;
	zbuf_t x;
	zdiag_t d;

	(void)state;
	s0.has_test = s1.has_test = 1;
	s0.test = s1.test = ZOND__V1__TEST_KIND__TEST_TCP;
	s0.service = s1.service = "web";
	s0.target = s1.target = "127.0.0.1";
	targets_init(&t);
	for (size_t i = 0; i < ZARRAY_LEN(cases); i++) {
		pe.key = (char *)(uintptr_t)cases[i].key;
		pe.value = (char *)(uintptr_t)cases[i].value;
		s1.n_params = 1;
		s1.params = pes;
		signed_body(op, specs, 2, &x);
		assert_int_equal(check(&x, op, 0, &t, &d), TL_MALFORMED);
		if (strstr(d.text, cases[i].want) == NULL)
			fail_msg("%s: got '%s'", cases[i].want, d.text);
		zbuf_free(&x);
	}
	/* the same param twice */
	pe.key = "port";
	pe.value = "80";
	s1.n_params = 2;
	signed_body(op, specs, 2, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_MALFORMED);
	assert_non_null(strstr(d.text, "param 'port' twice"));
	zbuf_free(&x);
	/* a service the CSV refuses; a test kind no probe runs */
	s1.n_params = 0;
	s1.service = "Web Site";
	signed_body(op, specs, 2, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_MALFORMED);
	assert_non_null(strstr(d.text, "service 'Web Site' must be"));
	zbuf_free(&x);
	s1.service = "web";
	s1.test = (Zond__V1__TestKind)99;
	signed_body(op, specs, 2, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_MALFORMED);
	assert_non_null(strstr(d.text, "no known test kind"));
	zbuf_free(&x);
	/* with both rows good it passes: the cases above failed for their
	 * row alone */
	s1.test = ZOND__V1__TEST_KIND__TEST_TCP;
	signed_body(op, specs, 2, &x);
	assert_int_equal(check(&x, op, 0, &t, &d), TL_OK);
	assert_int_equal(t.n, 2);
	zbuf_free(&x);
	targets_free(&t);
}

/* n rows of a generated endpoint list. */
static void
many(targets_t *t, size_t n)
{
	zbuf_t csv;
	zdiag_t d;

	zbuf_init(&csv, 1 << 26);
	assert_int_equal(zbuf_puts(&csv, "service,test,target,port,sni,"
	    "control_sni,interval\n"), ZE_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(zbuf_printf(&csv, "svc%zu,tls,host-%zu.example."
		    "org,%zu,sni-%zu.example.org,control.example.net,%zus\n",
		    i % 50, i, 1 + i % 65535, i, 60 + i % 3600), ZE_OK);
	targets_init(t);
	if (targets_parse_endpoints(t, "many.csv", (char *)csv.data, csv.len,
	    &d) != ZE_OK)
		fail_msg("%s", d.text);
	zbuf_free(&csv);
}

static double
sign_verify_s(size_t n, size_t *bytes)
{
	struct timespec t0, t1;
	targets_t a, b;
	zbuf_t s;
	zdiag_t d;

	many(&a, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sign(&a, op, 1, NOW + DAY, &s);
	targets_init(&b);
	assert_int_equal(check(&s, op, 0, &b, &d), TL_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(b.n, n);
	*bytes = s.len;
	zbuf_free(&s);
	targets_free(&a);
	targets_free(&b);
	return (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
t_many(void **state)
{
	size_t b2k, b10k;
	double s2k, s10k;
	targets_t big;
	zbuf_t out;
	zdiag_t d;

	(void)state;
	s2k = sign_verify_s(2000, &b2k);
	s10k = sign_verify_s(8000, &b10k);
	printf("# sign+verify: 2000 rows %zu bytes %.3f s; 8000 rows %zu "
	    "bytes %.3f s\n", b2k, s2k, b10k, s10k);
	assert_true(b2k < TLIST_MAX_FILE);
	/* linear cost is a figure, not an assertion (timings are noisy
	 * here): four times the rows, the ratio printed */
	printf("# sign+verify time ratio 8000/2000 rows: %.2f\n",
	    s2k > 0 ? s10k / s2k : 0.0);
	/* a list that does not fit one frame is refused by sign */
	many(&big, 20000);
	zbuf_init(&out, TLIST_MAX_FILE);
	assert_int_equal(tlist_sign(&big, op, 1, NOW, NOW + DAY, &out, &d),
	    ZE_TOOBIG);
	assert_non_null(strstr(d.text, "must fit one 1 MiB frame"));
	assert_int_equal(out.len, 0);
	zbuf_free(&out);
	targets_free(&big);
}

/* A sub-second interval cannot be signed (interval_s is seconds). */
static void
t_interval_ms(void **state)
{
	static const char csv[] = "service,test,target,interval\n"
	    "web,tcp,127.0.0.1,1500ms\n";
	targets_t t;
	zbuf_t out;
	zdiag_t d;

	(void)state;
	targets_init(&t);
	assert_int_equal(targets_parse_endpoints(&t, "ms.csv", csv,
	    strlen(csv), &d), ZE_OK);
	zbuf_init(&out, TLIST_MAX_FILE);
	assert_int_equal(tlist_sign(&t, op, 1, NOW, NOW + DAY, &out, &d),
	    ZE_RANGE);
	assert_non_null(strstr(d.text, "ms.csv:2: interval of 1500 ms"));
	zbuf_free(&out);
	targets_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_bad_rows),
		cmocka_unit_test(t_many),
		cmocka_unit_test(t_interval_ms),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
