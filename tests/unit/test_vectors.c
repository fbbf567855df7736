/*
 * test_vectors — golden wire bytes and signatures (tests/vectors/).
 *
 * Checks that this build encodes the fixed vector measurement to exactly
 * the committed bytes, signs it to exactly the committed signature, that
 * the committed signature verifies, and that flipping any single bit of
 * the signed bytes or of the signature makes verification fail.
 * `test_vectors --write DIR` regenerates the files (protocol changes only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "key.h"
#include "sign.h"
#include "vector.h"
#include "wire.h"
#include "zbuf.h"

static int failures, passes;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		failures++;						\
	} else								\
		passes++;						\
} while (0)

static void
write_hex(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	char *hex = malloc(2 * n + 1);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	sodium_bin2hex(hex, 2 * n + 1, p, n);
	if ((f = fopen(path, "w")) == NULL || fprintf(f, "%s\n", hex) < 0) {
		perror(path);
		exit(1);
	}
	fclose(f);
	free(hex);
}

/* Read a hex file into b; exits on error (a missing vector is a failure
 * of the test setup, not something to skip). */
static void
read_hex(const char *dir, const char *name, zbuf_t *b)
{
	char path[4096];
	FILE *f;
	char *line = NULL;
	size_t cap = 0, bin = 0;
	ssize_t n;
	uint8_t *w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	if ((n = getline(&line, &cap, f)) <= 0) {
		fprintf(stderr, "%s: empty\n", path);
		exit(1);
	}
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (zbuf_reserve(b, (size_t)n / 2, &w) != ZE_OK ||
	    sodium_hex2bin(w, (size_t)n / 2, line, (size_t)n, NULL, &bin,
	    NULL) != 0) {
		fprintf(stderr, "%s: not hex\n", path);
		exit(1);
	}
	b->len += bin;
	free(line);
}

int
main(int argc, char **argv)
{
	uint8_t seed[32], sig[64], curve_pk[32], curve_sk[32];
	struct vector_meas v;
	zkey_t *k = NULL;
	zbuf_t body, signed_b, uplink;
	zbuf_t f_body, f_signed, f_sig, f_pub, f_uplink, f_curve;
	Zond__V1__SignedMeasurement sm = ZOND__V1__SIGNED_MEASUREMENT__INIT;
	Zond__V1__SignedMeasurement *items[1] = {&sm};
	Zond__V1__Batch batch = ZOND__V1__BATCH__INIT;
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	const char *dir;
	size_t nbits = 0, accepted = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: test_vectors DIR [--write]\n");
		return 2;
	}
	dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	vector_seed(seed);
	if (key_from_seed(seed, &k) != ZE_OK)
		return 1;
	if (key_curve(k, curve_pk, curve_sk) != ZE_OK)
		return 1;
	sodium_memzero(curve_sk, sizeof(curve_sk));
	vector_measurement(&v, key_public(k));

	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	zbuf_init(&signed_b, WIRE_MAX_MEASUREMENT + 64);
	zbuf_init(&uplink, WIRE_MAX_FRAME);
	if (wire_meas_seal(k, &v.m, &body, sig) != ZE_OK ||
	    sign_signed_bytes(ZDOM_MEASUREMENT, body.data, body.len,
	    &signed_b) != ZE_OK)
		return 1;
	sm.has_body = sm.has_sig = 1;
	sm.body.data = body.data;
	sm.body.len = body.len;
	sm.sig.data = sig;
	sm.sig.len = 64;
	batch.n_items = 1;
	batch.items = items;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &batch;
	if (wire_pack(&up.base, &uplink) != ZE_OK)
		return 1;

	if (argc > 2 && strcmp(argv[2], "--write") == 0) {
		write_hex(dir, "ed25519-seed.hex", seed, 32);
		write_hex(dir, "ed25519-public.hex", key_public(k), 32);
		write_hex(dir, "curve25519-public.hex", curve_pk, 32);
		write_hex(dir, "measurement.hex", body.data, body.len);
		write_hex(dir, "signed.hex", signed_b.data, signed_b.len);
		write_hex(dir, "signature.hex", sig, 64);
		write_hex(dir, "uplink-batch.hex", uplink.data, uplink.len);
		printf("wrote vectors to %s\n", dir);
		return 0;
	}

	zbuf_init(&f_body, 1 << 20);
	zbuf_init(&f_signed, 1 << 20);
	zbuf_init(&f_sig, 1 << 20);
	zbuf_init(&f_pub, 1 << 20);
	zbuf_init(&f_uplink, 1 << 20);
	zbuf_init(&f_curve, 1 << 20);
	read_hex(dir, "measurement.hex", &f_body);
	read_hex(dir, "signed.hex", &f_signed);
	read_hex(dir, "signature.hex", &f_sig);
	read_hex(dir, "ed25519-public.hex", &f_pub);
	read_hex(dir, "uplink-batch.hex", &f_uplink);
	read_hex(dir, "curve25519-public.hex", &f_curve);

	CHECK(f_pub.len == 32 && memcmp(f_pub.data, key_public(k), 32) == 0,
	    "public key of the vector seed differs from ed25519-public.hex");
	CHECK(f_curve.len == 32 && memcmp(f_curve.data, curve_pk, 32) == 0,
	    "CURVE key differs from curve25519-public.hex");
	CHECK(f_body.len == body.len && memcmp(f_body.data, body.data,
	    body.len) == 0, "encoding differs from measurement.hex");
	CHECK(f_signed.len == signed_b.len && memcmp(f_signed.data,
	    signed_b.data, signed_b.len) == 0, "signed bytes differ");
	CHECK(f_sig.len == 64 && memcmp(f_sig.data, sig, 64) == 0,
	    "signature differs from signature.hex");
	CHECK(f_uplink.len == uplink.len && memcmp(f_uplink.data, uplink.data,
	    uplink.len) == 0, "uplink frame differs from uplink-batch.hex");

	/* the committed signature verifies, both ways of asking */
	CHECK(sign_verify(ZDOM_MEASUREMENT, f_pub.data, f_body.data,
	    f_body.len, f_sig.data) == ZE_OK, "committed signature rejected");
	CHECK(sign_verify_signed(ZDOM_MEASUREMENT, f_pub.data, f_signed.data,
	    f_signed.len, f_sig.data) == ZE_OK,
	    "committed signed bytes rejected");
	/* and not in another domain */
	CHECK(sign_verify(ZDOM_TESTLIST, f_pub.data, f_body.data, f_body.len,
	    f_sig.data) == ZE_BADSIG, "signature valid as a test list");

	/* one flipped bit anywhere in the signed bytes or the signature */
	for (size_t i = 0; i < f_signed.len * 8; i++, nbits++) {
		f_signed.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sign_verify_signed(ZDOM_MEASUREMENT, f_pub.data,
		    f_signed.data, f_signed.len, f_sig.data) == ZE_OK)
			accepted++;
		f_signed.data[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < 64 * 8; i++, nbits++) {
		f_sig.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sign_verify(ZDOM_MEASUREMENT, f_pub.data, f_body.data,
		    f_body.len, f_sig.data) == ZE_OK)
			accepted++;
		f_sig.data[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < 32 * 8; i++, nbits++) {
		f_pub.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sign_verify(ZDOM_MEASUREMENT, f_pub.data, f_body.data,
		    f_body.len, f_sig.data) == ZE_OK)
			accepted++;
		f_pub.data[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK(accepted == 0, "%zu of %zu single-bit flips still verified",
	    accepted, nbits);
	printf("flipped %zu bits one at a time: %zu accepted\n", nbits,
	    accepted);

	/* the vector frame decodes and its item verifies */
	{
		wire_uplink_t *u = NULL;
		wire_meas_t *m = NULL;
		zdiag_t d;
		CHECK(wire_uplink_decode(f_uplink.data, f_uplink.len, &u, &d) ==
		    ZE_OK, "vector uplink does not decode");
		if (u != NULL) {
			CHECK(u->batch->n_items == 1 &&
			    wire_signed_verify(u->batch->items[0], f_pub.data)
			    == ZE_OK, "vector item does not verify");
			CHECK(wire_meas_decode(u->batch->items[0]->body.data,
			    u->batch->items[0]->body.len, &m, &d) == ZE_OK,
			    "vector measurement does not decode: %s", d.text);
			if (m != NULL)
				CHECK(m->seq == 42 && strcmp(m->service,
				    "whatsapp") == 0 && m->outcome->tls != NULL,
				    "vector measurement fields differ");
			wire_meas_free(m);
		}
		wire_uplink_free(u);
	}
	key_free(&k);
	zbuf_free(&body);
	zbuf_free(&signed_b);
	zbuf_free(&uplink);
	zbuf_free(&f_body);
	zbuf_free(&f_signed);
	zbuf_free(&f_sig);
	zbuf_free(&f_pub);
	zbuf_free(&f_uplink);
	zbuf_free(&f_curve);
	printf("%d passed, %d failed\n", passes, failures);
	return failures ? 1 : 0;
}
