/*
 * fuzz_token — fuzz harness for the enrollment parsers a volunteer's paste
 * and an installed config reach: token_decode (lib/token.c) and
 * enroll_conf_merge (agent/enroll.c).
 *
 * The first input byte selects: 0 the rest as token text; 1 the rest as
 * EnrollToken bytes, given a valid "zt1." text form and checksum here so
 * that the field checks behind the checksum are reached; 2 the rest as a
 * config file to merge.  Built with clang and -DZOND_LIBFUZZER it is a
 * libFuzzer target; otherwise the replay driver (tests/fuzz_replay.c) runs
 * the seeds in corpus/ and their mutations under ASan/UBSan (label fuzz).
 * Invariants: a decoded token is within its bounds and encodes again to a
 * text that decodes to the same bytes; a merge never fails on any input
 * and its output holds the server key line.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll.h"
#include "fuzz_replay.h"
#include "token.h"

#define SK "28b011b3705fe716baf63d4bc50f5d608dc5f6a5919e80ec4c1ad29ac6548e03"

static void
check_token(const token_t *t)
{
	uint8_t a[TOKEN_MAX_TEXT], b[TOKEN_MAX_TEXT];
	size_t na, nb;
	token_t *again = NULL;
	zbuf_t txt;
	zdiag_t d;

	if (t->n_endpoints < 1 || t->n_endpoints > TOKEN_MAX_URLS ||
	    t->n_relays > TOKEN_MAX_URLS || t->server_key.len != 32 ||
	    t->id.len != TOKEN_ID_LEN || t->secret.len != TOKEN_SECRET_LEN)
		abort();
	zbuf_init(&txt, TOKEN_MAX_TEXT + 1);
	/* may be ZE_TOOBIG: unknown fields made the text long */
	if (token_encode(t, &txt, &d) == ZE_OK) {
		if (token_decode((char *)txt.data, &again, &d) != ZE_OK)
			abort();
		na = zond__v1__enroll_token__get_packed_size(t);
		nb = zond__v1__enroll_token__get_packed_size(again);
		if (na > sizeof(a) || na != nb)
			abort();
		zond__v1__enroll_token__pack(t, a);
		zond__v1__enroll_token__pack(again, b);
		if (memcmp(a, b, na) != 0)
			abort();
		token_free(&again);
	}
	zbuf_free(&txt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	token_t *t = NULL;
	zdiag_t d;
	char *s;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	if (size < 1 || size > 64 * 1024)
		return 0;
	if (data[0] == 0) {
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		if (token_decode(s, &t, &d) == ZE_OK)
			check_token(t);
		token_free(&t);
		free(s);
	} else if (data[0] == 1 && size - 1 <= 2048) {
		uint8_t bin[2048 + TOKEN_CHECK_LEN], h[32];
		char txt[TOKEN_MAX_TEXT * 2];

		memcpy(bin, data + 1, size - 1);
		crypto_hash_sha256(h, bin, size - 1);
		memcpy(bin + size - 1, h, TOKEN_CHECK_LEN);
		memcpy(txt, TOKEN_PREFIX, 4);
		sodium_bin2base64(txt + 4, sizeof(txt) - 4, bin,
		    size - 1 + TOKEN_CHECK_LEN,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		if (token_decode(txt, &t, &d) == ZE_OK)
			check_token(t);
		else if (size > 1 && strstr(d.text, "damaged") != NULL &&
		    strlen(txt) <= TOKEN_MAX_TEXT)
			abort();	/* the checksum holds: never "damaged" */
		token_free(&t);
	} else if (data[0] == 2) {
#define RELAYS_LINE "relays = \"https://192.0.2.2/ingest/v1\"\n"
		struct enroll_conf_vals v = {"tcp://192.0.2.1:7800", SK, NULL,
		    "/k", "/s", "https://192.0.2.2/ingest/v1"};
		zbuf_t out;

		zbuf_init(&out, 4 * (size + 1024));
		if (enroll_conf_merge((const char *)data + 1, size - 1, &v,
		    &out, &d) != ZE_OK || memmem(out.data, out.len,
		    "server_key = \"" SK "\"\n", 80) == NULL ||
		    memmem(out.data, out.len, RELAYS_LINE,
		    sizeof(RELAYS_LINE) - 1) == NULL)
			abort();
		zbuf_free(&out);
	}
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* set one length byte of a protobuf (mode 1) to 0 or 0xff */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	if (n > 2)
		buf[2 + r % (n - 2)] = (r >> 32) & 1 ? 0xff : 0;
}

const struct fuzz_replay fuzz_replay = {"fuzz_token", 1, extreme, 0,
    NULL, NULL};
#endif
