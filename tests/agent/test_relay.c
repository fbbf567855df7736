/*
 * test_relay.c — the relay envelope (agent/relay.c): what the agent signs
 * and what reply it accepts.  The aggregator's side is played here with
 * the project's own signing functions over bytes encoded by protobuf-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "key.h"
#include "relay.h"
#include "sign.h"
#include "wire.h"

static zkey_t *agent, *server, *other;
static const uint8_t boot_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16};
static const uint8_t uplink[] = {0x08, 0x01, 0x1a, 0x00};  /* v1, heartbeat */

static int
setup(void **state)
{
	uint8_t seed[32];

	(void)state;
	memset(seed, 7, sizeof(seed));
	if (key_from_seed(seed, &agent) != ZE_OK)
		return -1;
	memset(seed, 9, sizeof(seed));
	if (key_from_seed(seed, &server) != ZE_OK)
		return -1;
	memset(seed, 11, sizeof(seed));
	return key_from_seed(seed, &other) == ZE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	key_free(&agent);
	key_free(&server);
	key_free(&other);
	return 0;
}

/* The request decodes, its signature is the agent's over zond/relay/v1
 * and the body, the body holds what was given, hash is its SHA-256. */
static void
t_request(void **state)
{
	Zond__V1__RelayRequest *rq;
	Zond__V1__RelayBody *b;
	uint8_t hash[32], want[32];
	zbuf_t out;
	zdiag_t d;

	(void)state;
	zbuf_init(&out, 1 << 21);
	assert_int_equal(relay_request_build(agent, boot_id, 12345, uplink,
	    sizeof(uplink), &out, hash, &d), ZE_OK);
	rq = zond__v1__relay_request__unpack(NULL, out.len, out.data);
	assert_non_null(rq);
	assert_true(rq->has_body && rq->has_sig);
	assert_int_equal(rq->sig.len, KEY_SIG_LEN);
	assert_int_equal(sign_verify(ZDOM_RELAY, key_public(agent),
	    rq->body.data, rq->body.len, rq->sig.data), ZE_OK);
	/* not valid as any other kind of signed object */
	assert_int_not_equal(sign_verify(ZDOM_MEASUREMENT, key_public(agent),
	    rq->body.data, rq->body.len, rq->sig.data), ZE_OK);
	crypto_hash_sha256(want, rq->body.data, rq->body.len);
	assert_memory_equal(hash, want, 32);
	b = zond__v1__relay_body__unpack(NULL, rq->body.len, rq->body.data);
	assert_non_null(b);
	assert_int_equal(b->agent.len, KEY_PUB_LEN);
	assert_memory_equal(b->agent.data, key_public(agent), KEY_PUB_LEN);
	assert_int_equal(b->boot_id.len, 16);
	assert_memory_equal(b->boot_id.data, boot_id, 16);
	assert_true(b->has_boot_us);
	assert_int_equal(b->boot_us, 12345);
	assert_int_equal(b->uplink.len, sizeof(uplink));
	assert_memory_equal(b->uplink.data, uplink, sizeof(uplink));
	zond__v1__relay_body__free_unpacked(b, NULL);
	zond__v1__relay_request__free_unpacked(rq, NULL);
	zbuf_free(&out);
}

/* A RelayReply as the aggregator makes it: body {hash, downlink} signed
 * by signer (NULL: no signature); tamper flips a body byte after. */
static void
reply(const zkey_t *signer, const uint8_t hash[32], const uint8_t *dl,
    size_t dn, bool tamper, zbuf_t *out)
{
	Zond__V1__RelayReplyBody b = ZOND__V1__RELAY_REPLY_BODY__INIT;
	Zond__V1__RelayReply r = ZOND__V1__RELAY_REPLY__INIT;
	uint8_t sig[KEY_SIG_LEN];
	zbuf_t body;

	zbuf_init(&body, 1 << 21);
	b.has_request_hash = b.has_downlink = 1;
	b.request_hash.data = (uint8_t *)(uintptr_t)hash;
	b.request_hash.len = 32;
	b.downlink.data = (uint8_t *)(uintptr_t)dl;
	b.downlink.len = dn;
	assert_int_equal(wire_pack(&b.base, &body), ZE_OK);
	r.has_body = 1;
	r.body.data = body.data;
	r.body.len = body.len;
	if (signer != NULL) {
		assert_int_equal(sign_body(signer, ZDOM_RELAY_REPLY, body.data,
		    body.len, sig), ZE_OK);
		r.has_sig = 1;
		r.sig.data = sig;
		r.sig.len = KEY_SIG_LEN;
	}
	if (tamper)
		body.data[body.len - 1] ^= 1;
	zbuf_reset(out);
	assert_int_equal(wire_pack(&r.base, out), ZE_OK);
	zbuf_free(&body);
}

static void
t_reply(void **state)
{
	static const uint8_t dl[] = {0x08, 0x01, 0x30, 0x05};
	uint8_t hash[32], other_hash[32];
	enum relay_reply_why why;
	zbuf_t rep, got;
	zdiag_t d;

	(void)state;
	zbuf_init(&rep, 1 << 21);
	zbuf_init(&got, 1 << 21);
	memset(hash, 0xab, 32);
	memset(other_hash, 0xac, 32);

	reply(server, hash, dl, sizeof(dl), false, &rep);
	assert_int_equal(relay_reply_open(key_public(server), rep.data,
	    rep.len, hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_OK);
	assert_int_equal(got.len, sizeof(dl));
	assert_memory_equal(got.data, dl, sizeof(dl));

	/* signed by another key (a relay forging acks) */
	zbuf_reset(&got);
	reply(other, hash, dl, sizeof(dl), false, &rep);
	assert_int_not_equal(relay_reply_open(key_public(server), rep.data,
	    rep.len, hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_FORGED);
	assert_non_null(strstr(d.text, "server_key"));
	assert_int_equal(got.len, 0);

	/* unsigned */
	reply(NULL, hash, dl, sizeof(dl), false, &rep);
	assert_int_not_equal(relay_reply_open(key_public(server), rep.data,
	    rep.len, hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_FORGED);

	/* altered after signing */
	reply(server, hash, dl, sizeof(dl), true, &rep);
	assert_int_not_equal(relay_reply_open(key_public(server), rep.data,
	    rep.len, hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_FORGED);

	/* the aggregator's genuine reply to another request (replayed) */
	reply(server, other_hash, dl, sizeof(dl), false, &rep);
	assert_int_not_equal(relay_reply_open(key_public(server), rep.data,
	    rep.len, hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_MISMATCH);
	assert_int_equal(got.len, 0);

	/* garbage and nothing */
	assert_int_not_equal(relay_reply_open(key_public(server),
	    (const uint8_t *)"<html>blocked</html>", 20, hash, &got, &why,
	    &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_MALFORMED);
	assert_int_not_equal(relay_reply_open(key_public(server), rep.data, 0,
	    hash, &got, &why, &d), ZE_OK);
	assert_int_equal(why, RELAY_REPLY_MALFORMED);
	assert_int_equal(got.len, 0);
	zbuf_free(&rep);
	zbuf_free(&got);
}

static void
t_urls(void **state)
{
	size_t n = 0;
	zdiag_t d;

	(void)state;
	assert_int_equal(relay_urls_check("https://a.example/ingest/v1", &n,
	    &d), ZE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(relay_urls_check(" https://a/x ,https://b:8443/y",
	    &n, &d), ZE_OK);
	assert_int_equal(n, 2);
	assert_int_not_equal(relay_urls_check("https://a/x,,https://b/y", &n,
	    &d), ZE_OK);
	assert_non_null(strstr(d.text, "relay URL 2"));
	assert_int_not_equal(relay_urls_check("tcp://a:7800", &n, &d), ZE_OK);
	assert_non_null(strstr(d.text, "tcp://a:7800"));
	assert_int_not_equal(relay_urls_check("https://a/x y", &n, &d),
	    ZE_OK);
	assert_int_not_equal(relay_urls_check("https://1,https://2,https://3,"
	    "https://4,https://5,https://6,https://7,https://8,https://9", &n,
	    &d), ZE_OK);
	assert_non_null(strstr(d.text, "at most"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_request),
		cmocka_unit_test(t_reply),
		cmocka_unit_test(t_urls),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
