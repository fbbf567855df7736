/*
 * test_token — enrollment token text: round trip, a damaged paste told
 * from a well-formed token, a paste split over lines, field bounds, and
 * the proof that binds a token to an agent key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static uint8_t srv[32], opk[32], tid[TOKEN_ID_LEN], sec[TOKEN_SECRET_LEN];
static char *eps[2] = {"tcp://192.0.2.1:7800", "tcp://[2001:db8::1]:7800"};
static char *rel[1] = {"https://relay.example/zond"};

static void
sample(token_t *t)
{
	zond__v1__enroll_token__init(t);
	memset(srv, 0x11, sizeof(srv));
	memset(opk, 0x22, sizeof(opk));
	memset(tid, 0x33, sizeof(tid));
	memset(sec, 0x44, sizeof(sec));
	t->n_endpoints = 2;
	t->endpoints = eps;
	t->n_relays = 1;
	t->relays = rel;
	t->has_server_key = t->has_operator_key = t->has_id = 1;
	t->has_secret = t->has_expires_us = 1;
	t->server_key.data = srv, t->server_key.len = 32;
	t->operator_key.data = opk, t->operator_key.len = 32;
	t->id.data = tid, t->id.len = TOKEN_ID_LEN;
	t->secret.data = sec, t->secret.len = TOKEN_SECRET_LEN;
	t->expires_us = 1800000000000000LL;
}

static void
t_roundtrip(void **state)
{
	token_t in, *out = NULL;
	zbuf_t b;
	zdiag_t d;

	(void)state;
	sample(&in);
	zbuf_init(&b, TOKEN_MAX_TEXT + 1);
	assert_int_equal(token_encode(&in, &b, &d), ZE_OK);
	assert_memory_equal(b.data, "zt1.", 4);
	assert_null(strpbrk((char *)b.data, " \n=+/"));	/* one line, URL-safe */
	assert_int_equal(token_decode((char *)b.data, &out, &d), ZE_OK);
	assert_int_equal(out->n_endpoints, 2);
	assert_string_equal(out->endpoints[1], eps[1]);
	assert_int_equal(out->n_relays, 1);
	assert_string_equal(out->relays[0], rel[0]);
	assert_memory_equal(out->server_key.data, srv, 32);
	assert_memory_equal(out->operator_key.data, opk, 32);
	assert_memory_equal(out->id.data, tid, TOKEN_ID_LEN);
	assert_memory_equal(out->secret.data, sec, TOKEN_SECRET_LEN);
	assert_int_equal(out->expires_us, in.expires_us);
	token_free(&out);
	assert_null(out);
	zbuf_free(&b);
}

/* Every single-character change and every cut is "damaged"; a paste
 * broken over lines and indented still decodes. */
static void
t_damaged(void **state)
{
	token_t in, *out = NULL;
	zbuf_t b;
	zdiag_t d;
	char *s, split[TOKEN_MAX_TEXT * 2];
	size_t n, k = 0;

	(void)state;
	sample(&in);
	zbuf_init(&b, TOKEN_MAX_TEXT + 1);
	assert_int_equal(token_encode(&in, &b, &d), ZE_OK);
	n = b.len;
	s = strdup((char *)b.data);
	for (size_t i = 4; i < n; i++) {
		char was = s[i];

		s[i] = s[i] == 'A' ? 'B' : 'A';
		assert_int_equal(token_decode(s, &out, &d), ZE_PARSE);
		assert_null(out);
		assert_non_null(strstr(d.text, "damaged"));
		s[i] = was;
	}
	for (size_t cut = 5; cut < n; cut += 7) {
		char c = s[cut];

		s[cut] = '\0';
		assert_int_equal(token_decode(s, &out, &d), ZE_PARSE);
		assert_non_null(strstr(d.text, "damaged"));
		s[cut] = c;
	}
	assert_int_equal(token_decode("zt2.AAAA", &out, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "not a Zond enrollment token"));
	assert_int_equal(token_decode("", &out, &d), ZE_PARSE);
	/* split over lines, as a mail client may wrap it */
	split[k++] = ' ';
	for (size_t i = 0; i < n; i++) {
		split[k++] = s[i];
		if (i % 40 == 39) {
			split[k++] = '\r';
			split[k++] = '\n';
			split[k++] = '\t';
		}
	}
	split[k++] = '\n';
	split[k] = '\0';
	assert_int_equal(token_decode(split, &out, &d), ZE_OK);
	assert_memory_equal(out->secret.data, sec, TOKEN_SECRET_LEN);
	token_free(&out);
	free(s);
	zbuf_free(&b);
}

/* A token with an intact checksum but a field out of bounds is refused
 * as invalid, not damaged; encode refuses to make one. */
static void
t_fields(void **state)
{
	token_t in, *out = NULL;
	uint8_t bin[512];
	char txt[1024];
	uint8_t h[32];
	char *bad[1] = {"tcp://x y"};
	size_t n;
	zbuf_t b;
	zdiag_t d;

	(void)state;
	zbuf_init(&b, TOKEN_MAX_TEXT + 1);
	sample(&in);
	in.id.len = 15;
	assert_int_equal(token_encode(&in, &b, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "id"));
	n = zond__v1__enroll_token__pack(&in, bin);
	crypto_hash_sha256(h, bin, n);
	memcpy(bin + n, h, TOKEN_CHECK_LEN);
	memcpy(txt, "zt1.", 4);
	sodium_bin2base64(txt + 4, sizeof(txt) - 4, bin, n + TOKEN_CHECK_LEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_int_equal(token_decode(txt, &out, &d), ZE_INVAL);
	assert_null(strstr(d.text, "damaged"));
	assert_non_null(strstr(d.text, "id"));
	sample(&in);
	in.n_endpoints = 0;
	assert_int_equal(token_encode(&in, &b, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "endpoints"));
	sample(&in);
	in.endpoints = bad;
	in.n_endpoints = 1;
	assert_int_equal(token_encode(&in, &b, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "endpoint 1"));
	zbuf_free(&b);
}

static void
t_proof(void **state)
{
	uint8_t p[TOKEN_PROOF_LEN], key[32], key2[32];

	(void)state;
	memset(sec, 0x44, sizeof(sec));
	memset(tid, 0x33, sizeof(tid));
	memset(key, 0x55, sizeof(key));
	memset(key2, 0x56, sizeof(key2));
	token_proof(sec, tid, key, p);
	assert_int_equal(token_proof_check(sec, tid, key, p, sizeof(p)), 0);
	assert_int_not_equal(token_proof_check(sec, tid, key2, p, sizeof(p)),
	    0);
	assert_int_not_equal(token_proof_check(sec, tid, key, p, 31), 0);
	sec[0] ^= 1;
	assert_int_not_equal(token_proof_check(sec, tid, key, p, sizeof(p)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_damaged),
		cmocka_unit_test(t_fields),
		cmocka_unit_test(t_proof),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
