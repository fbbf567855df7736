/*
 * test_wire — envelope decoding never trusts its input.
 *
 * Truncated, oversized, garbage and wrong-version frames all come back
 * as errors (never a crash; run under the asan preset too), and no
 * truncation or corruption of a signed measurement both decodes and
 * verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "vector.h"
#include "wire.h"

struct fx {
	zkey_t *k;
	struct vector_meas v;
	zbuf_t body;
	uint8_t sig[64];
	zbuf_t frame;	/* Uplink{batch{ the vector }} */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t seed[32];
	Zond__V1__SignedMeasurement sm = ZOND__V1__SIGNED_MEASUREMENT__INIT;
	Zond__V1__SignedMeasurement *items[1] = {&sm};
	Zond__V1__Batch batch = ZOND__V1__BATCH__INIT;
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;

	vector_seed(seed);
	if (key_from_seed(seed, &f->k) != ZE_OK)
		return -1;
	vector_measurement(&f->v, key_public(f->k));
	zbuf_init(&f->body, WIRE_MAX_MEASUREMENT);
	zbuf_init(&f->frame, WIRE_MAX_FRAME);
	if (wire_meas_seal(f->k, &f->v.m, &f->body, f->sig) != ZE_OK)
		return -1;
	sm.has_body = sm.has_sig = 1;
	sm.body.data = f->body.data;
	sm.body.len = f->body.len;
	sm.sig.data = f->sig;
	sm.sig.len = 64;
	batch.n_items = 1;
	batch.items = items;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &batch;
	if (wire_pack(&up.base, &f->frame) != ZE_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	key_free(&f->k);
	zbuf_free(&f->body);
	zbuf_free(&f->frame);
	free(f);
	return 0;
}

/* A frame is usable when it decodes and every item verifies and decodes. */
static int
frame_usable(const uint8_t *p, size_t n, const uint8_t *pk)
{
	wire_uplink_t *u = NULL;
	wire_meas_t *m = NULL;
	zdiag_t d;
	int ok = 1;

	if (wire_uplink_decode(p, n, &u, &d) != ZE_OK) {
		assert_null(u);
		assert_true(d.text[0] != '\0');	/* always says why */
		return 0;
	}
	if (u->msg_case != ZOND__V1__UPLINK__MSG_BATCH ||
	    u->batch->n_items == 0)
		ok = 0;
	for (size_t i = 0; ok && i < u->batch->n_items; i++) {
		if (wire_signed_verify(u->batch->items[i], pk) != ZE_OK ||
		    wire_meas_decode(u->batch->items[i]->body.data,
		    u->batch->items[i]->body.len, &m, &d) != ZE_OK)
			ok = 0;
		wire_meas_free(m);
		m = NULL;
	}
	wire_uplink_free(u);
	return ok;
}

static void
t_good(void **state)
{
	struct fx *f = *state;

	assert_true(frame_usable(f->frame.data, f->frame.len,
	    key_public(f->k)));
}

static void
t_truncated(void **state)
{
	struct fx *f = *state;
	zdiag_t d;
	wire_uplink_t *u;
	wire_meas_t *m;

	assert_int_equal(wire_uplink_decode(f->frame.data, 0, &u, &d),
	    ZE_TRUNC);
	for (size_t n = 0; n < f->frame.len; n++)
		assert_false(frame_usable(f->frame.data, n, key_public(f->k)));
	for (size_t n = 0; n < f->body.len; n++) {
		zerr_t e = wire_meas_decode(f->body.data, n, &m, &d);
		if (e == ZE_OK)		/* a prefix may parse; it never verifies */
			wire_meas_free(m);
		assert_int_not_equal(sign_verify(ZDOM_MEASUREMENT,
		    key_public(f->k), f->body.data, n, f->sig), ZE_OK);
	}
}

static void
t_oversized(void **state)
{
	struct fx *f = *state;
	uint8_t *big = calloc(1, WIRE_MAX_FRAME + 1);
	zdiag_t d;
	wire_uplink_t *u;
	wire_downlink_t *dl;
	wire_meas_t *m;

	(void)f;
	assert_int_equal(wire_uplink_decode(big, WIRE_MAX_FRAME + 1, &u, &d),
	    ZE_TOOBIG);
	assert_non_null(strstr(d.text, "limit"));
	assert_int_equal(wire_downlink_decode(big, WIRE_MAX_FRAME + 1, &dl,
	    &d), ZE_TOOBIG);
	assert_int_equal(wire_meas_decode(big, WIRE_MAX_MEASUREMENT + 1, &m,
	    &d), ZE_TOOBIG);
	free(big);
}

static void
t_batch_limit(void **state)
{
	struct fx *f = *state;
	Zond__V1__SignedMeasurement sm = ZOND__V1__SIGNED_MEASUREMENT__INIT;
	Zond__V1__SignedMeasurement *items[WIRE_MAX_BATCH + 1];
	Zond__V1__Batch batch = ZOND__V1__BATCH__INIT;
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	wire_uplink_t *u;
	zbuf_t b;
	zdiag_t d;

	sm.has_body = sm.has_sig = 1;
	sm.body.data = f->body.data;
	sm.body.len = f->body.len;
	sm.sig.data = f->sig;
	sm.sig.len = 64;
	for (int i = 0; i <= WIRE_MAX_BATCH; i++)
		items[i] = &sm;
	batch.items = items;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &batch;
	zbuf_init(&b, WIRE_MAX_FRAME);
	batch.n_items = WIRE_MAX_BATCH;
	assert_int_equal(wire_pack(&up.base, &b), ZE_OK);
	assert_int_equal(wire_uplink_decode(b.data, b.len, &u, &d), ZE_OK);
	wire_uplink_free(u);
	zbuf_reset(&b);
	batch.n_items = WIRE_MAX_BATCH + 1;
	assert_int_equal(wire_pack(&up.base, &b), ZE_OK);
	assert_int_equal(wire_uplink_decode(b.data, b.len, &u, &d), ZE_TOOBIG);
	assert_null(u);
	zbuf_free(&b);
}

static void
t_version(void **state)
{
	Zond__V1__Heartbeat hb = ZOND__V1__HEARTBEAT__INIT;
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Ack ack = ZOND__V1__ACK__INIT;
	Zond__V1__Downlink dn = ZOND__V1__DOWNLINK__INIT;
	wire_uplink_t *u;
	wire_downlink_t *dl;
	zbuf_t b;
	zdiag_t d;

	(void)state;
	zbuf_init(&b, WIRE_MAX_FRAME);
	up.msg_case = ZOND__V1__UPLINK__MSG_HEARTBEAT;
	up.heartbeat = &hb;
	/* no version at all */
	assert_int_equal(wire_pack(&up.base, &b), ZE_OK);
	assert_int_equal(wire_uplink_decode(b.data, b.len, &u, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "no version"));
	/* a future version */
	up.has_version = 1;
	up.version = 2;
	zbuf_reset(&b);
	assert_int_equal(wire_pack(&up.base, &b), ZE_OK);
	assert_int_equal(wire_uplink_decode(b.data, b.len, &u, &d),
	    ZE_VERSION);
	assert_non_null(strstr(d.text, "version 2"));
	/* the right version but no message */
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG__NOT_SET;
	zbuf_reset(&b);
	assert_int_equal(wire_pack(&up.base, &b), ZE_OK);
	assert_int_equal(wire_uplink_decode(b.data, b.len, &u, &d), ZE_PARSE);
	/* downlink: same rules */
	dn.has_version = 1;
	dn.version = 9;
	dn.msg_case = ZOND__V1__DOWNLINK__MSG_ACK;
	dn.ack = &ack;
	zbuf_reset(&b);
	assert_int_equal(wire_pack(&dn.base, &b), ZE_OK);
	assert_int_equal(wire_downlink_decode(b.data, b.len, &dl, &d),
	    ZE_VERSION);
	dn.version = WIRE_VERSION;
	zbuf_reset(&b);
	assert_int_equal(wire_pack(&dn.base, &b), ZE_OK);
	assert_int_equal(wire_downlink_decode(b.data, b.len, &dl, &d), ZE_OK);
	wire_downlink_free(dl);
	zbuf_free(&b);
}

static void
t_garbage(void **state)
{
	struct fx *f = *state;
	uint8_t buf[2048];
	wire_uplink_t *u;
	wire_downlink_t *dl;
	wire_meas_t *m;
	zdiag_t d;
	size_t usable = 0;

	/* random bytes */
	for (int i = 0; i < 20000; i++) {
		size_t n = 1 + randombytes_uniform(sizeof(buf));
		randombytes_buf(buf, n);
		if (wire_uplink_decode(buf, n, &u, &d) == ZE_OK)
			wire_uplink_free(u);
		if (wire_downlink_decode(buf, n, &dl, &d) == ZE_OK)
			wire_downlink_free(dl);
		if (wire_meas_decode(buf, n, &m, &d) == ZE_OK)
			wire_meas_free(m);
	}
	/* the real frame with random bytes overwritten: never usable */
	for (int i = 0; i < 20000; i++) {
		zbuf_t c;
		size_t pos = randombytes_uniform((uint32_t)f->frame.len);
		uint8_t x = (uint8_t)(1 + randombytes_uniform(255));
		zbuf_init(&c, WIRE_MAX_FRAME);
		assert_int_equal(zbuf_append(&c, f->frame.data, f->frame.len),
		    ZE_OK);
		c.data[pos] ^= x;
		usable += (size_t)frame_usable(c.data, c.len,
		    key_public(f->k));
		zbuf_free(&c);
	}
	assert_int_equal(usable, 0);
}

static void
t_signed_check(void **state)
{
	struct fx *f = *state;
	Zond__V1__SignedMeasurement sm = ZOND__V1__SIGNED_MEASUREMENT__INIT;
	zdiag_t d;

	assert_int_equal(wire_signed_check(&sm, &d), ZE_PARSE);
	sm.has_body = 1;
	sm.body.data = f->body.data;
	sm.body.len = f->body.len;
	assert_int_equal(wire_signed_check(&sm, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "64 bytes"));
	sm.has_sig = 1;
	sm.sig.data = f->sig;
	sm.sig.len = 63;
	assert_int_equal(wire_signed_check(&sm, &d), ZE_PARSE);
	sm.sig.len = 64;
	assert_int_equal(wire_signed_check(&sm, &d), ZE_OK);
	/* another agent's key does not verify it */
	{
		uint8_t other[32];
		memcpy(other, key_public(f->k), 32);
		other[0] ^= 1;
		assert_int_equal(wire_signed_verify(&sm, other), ZE_BADSIG);
	}
}

static void
t_required_fields(void **state)
{
	struct fx *f = *state;
	zbuf_t b;
	wire_meas_t *m;
	zdiag_t d;
	uint8_t sig[64];

	zbuf_init(&b, WIRE_MAX_MEASUREMENT);
	f->v.m.has_seq = 0;
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_decode(b.data, b.len, &m, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "seq"));
	f->v.m.has_seq = 1;
	f->v.m.id.len = 15;
	zbuf_reset(&b);
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_decode(b.data, b.len, &m, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "id"));
	f->v.m.id.len = 16;
	f->v.m.outcome = NULL;
	zbuf_reset(&b);
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_decode(b.data, b.len, &m, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "outcome"));
	zbuf_free(&b);
	vector_measurement(&f->v, key_public(f->k));
}

/*
 * The raw readers agree with protobuf-c: on the vector body and on 20,000
 * mutations of it, whenever protobuf-c decodes a seq, wire_seq_peek reads
 * the same one, and strings_check never passes a body whose decoded
 * strings are shorter than their wire length (a NUL) or not UTF-8.
 */
static void
t_raw_readers(void **state)
{
	struct fx *f = *state;
	uint64_t seq;
	zdiag_t d;

	assert_int_equal(wire_seq_peek(f->body.data, f->body.len, &seq), ZE_OK);
	assert_int_equal(seq, f->v.m.seq);
	assert_int_equal(wire_meas_strings_check(f->body.data, f->body.len, &d),
	    ZE_OK);
	assert_int_equal(wire_seq_peek(NULL, 0, &seq), ZE_NOTFOUND);
	for (int i = 0; i < 20000; i++) {
		zbuf_t c;
		Zond__V1__Measurement *m;
		size_t pos = randombytes_uniform((uint32_t)f->body.len);
		size_t cut = f->body.len - randombytes_uniform(4);
		uint64_t s2;

		zbuf_init(&c, WIRE_MAX_MEASUREMENT);
		assert_int_equal(zbuf_append(&c, f->body.data, cut), ZE_OK);
		c.data[pos % cut] ^= (uint8_t)(1 + randombytes_uniform(255));
		m = zond__v1__measurement__unpack(NULL, c.len, c.data);
		if (m != NULL && m->has_seq && m->seq > 0) {
			assert_int_equal(wire_seq_peek(c.data, c.len, &s2),
			    ZE_OK);
			assert_int_equal(s2, m->seq);
		}
		if (m != NULL && wire_meas_strings_check(c.data, c.len, &d) ==
		    ZE_OK && m->target != NULL)
			assert_true(strlen(m->target) <= c.len);
		if (m != NULL)
			zond__v1__measurement__free_unpacked(m, NULL);
		zbuf_free(&c);
	}
}

/* Text fields: NUL and invalid UTF-8 anywhere are named; sanitizing makes
 * any text pass; the id's time must be within a minute of the start. */
static void
t_text_and_id(void **state)
{
	struct fx *f = *state;
	char target[] = "a\"b\n\\c\xc3\xa9", detail[] = "caf\xe9 \xff\xfe ok";
	char *old_target = f->v.m.target;
	zbuf_t b;
	wire_meas_t *m;
	zdiag_t d;
	uint8_t sig[64];
	uint64_t seq_unused = 0;
	int64_t start = f->v.m.start_us;

	zbuf_init(&b, WIRE_MAX_MEASUREMENT);
	f->v.m.target = target;
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_strings_check(b.data, b.len, &d), ZE_OK);
	assert_int_equal(wire_meas_decode(b.data, b.len, &m, &d), ZE_OK);
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_OK);
	/* id a minute and a millisecond off either way */
	m->start_us = start + (WIRE_ID_SKEW_MS + 1) * 1000LL;
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "id time"));
	m->start_us = start - (WIRE_ID_SKEW_MS + 1) * 1000LL;
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_PARSE);
	m->start_us = start + WIRE_ID_SKEW_MS * 1000LL;
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_OK);
	m->start_us = INT64_MIN;	/* no overflow anywhere */
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_PARSE);
	m->start_us = INT64_MAX;
	assert_int_equal(wire_meas_check(m, b.data, b.len, &d), ZE_PARSE);
	wire_meas_free(m);
	/* invalid UTF-8 deep inside: named by its path */
	f->v.m.outcome->detail = detail;
	zbuf_reset(&b);
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_strings_check(b.data, b.len, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "outcome.detail"));
	/* sanitized, the same measurement passes; valid text is kept */
	wire_msg_sanitize(&f->v.m.outcome->base);
	assert_string_equal(detail, "caf? ?? ok");
	assert_string_equal(target, "a\"b\n\\c\xc3\xa9");
	zbuf_reset(&b);
	assert_int_equal(wire_meas_seal(f->k, &f->v.m, &b, sig), ZE_OK);
	assert_int_equal(wire_meas_strings_check(b.data, b.len, &d), ZE_OK);
	/* a NUL inside a string (a hand-made encoding: C strings cannot
	 * hold one): field 8, "a\0b" */
	{
		uint8_t nul[] = {0x10, 0x01, 0x42, 0x04, 'a', '\0', 'b', 'c'};

		assert_int_equal(wire_meas_strings_check(nul, sizeof(nul), &d),
		    ZE_PARSE);
		assert_non_null(strstr(d.text, "target contains a NUL"));
		assert_int_equal(wire_seq_peek(nul, sizeof(nul), &seq_unused),
		    ZE_OK);
		assert_int_equal(seq_unused, 1);
	}
	zbuf_free(&b);
	f->v.m.target = old_target;
	vector_measurement(&f->v, key_public(f->k));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_raw_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(t_text_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(t_good, setup, teardown),
		cmocka_unit_test_setup_teardown(t_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(t_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(t_batch_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_version, setup, teardown),
		cmocka_unit_test_setup_teardown(t_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(t_signed_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_required_fields, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
