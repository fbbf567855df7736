/*
 * fuzz_tlist — fuzz harness for signed test lists (agent/tlist.c), which
 * agents read from the aggregator and from state_dir.
 *
 * The first input byte selects: 0 the rest is a SignedTestList file
 * (tlist_verify_bytes against a fixed operator key: the wrapper's
 * decoding and the refusals before the signature); 1 the rest is a
 * TestList body, signed here with that key, so the body's decoding and
 * every row's check run behind a valid signature.  Built with clang and
 * -DZOND_LIBFUZZER it is a libFuzzer target; otherwise the replay driver
 * for ctest (label fuzz).  Invariants: a refusal leaves the caller's list
 * empty; an accepted list has as many rows as its TestList, each with a
 * service and a target, and its rows signed again verify to the same
 * rows.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "sign.h"
#include "tlist.h"

static zkey_t *op;

static void
check_again(const targets_t *t)
{
	struct tlist_check c = {.operator_pk = key_public(op)};
	struct tlist_info info;
	targets_t u;
	zbuf_t s;
	zdiag_t d;

	zbuf_init(&s, TLIST_MAX_FILE);
	targets_init(&u);
	/* whole seconds and the size limit may refuse; both are fine */
	if (tlist_sign(t, op, 1, 1, 2, &s, &d) == ZE_OK &&
	    (tlist_verify_bytes(s.data, s.len, &c, "again", &u, &info, &d) !=
	    TL_OK || u.n != t->n))
		abort();
	targets_free(&u);
	zbuf_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlist_check c = {0};
	struct tlist_info info;
	enum tlist_reason r;
	uint8_t seed[KEY_SEED_LEN];
	targets_t t;
	zbuf_t file;
	zdiag_t d;

	if (op == NULL) {
		if (sodium_init() < 0)
			abort();
		memset(seed, 3, sizeof(seed));
		if (key_from_seed(seed, &op) != ZE_OK)
			abort();
	}
	if (size == 0)
		return 0;
	c.operator_pk = key_public(op);
	targets_init(&t);
	zbuf_init(&file, TLIST_MAX_FILE + 256);
	if (data[0] % 2 == 0) {
		r = tlist_verify_bytes(data + 1, size - 1, &c, "fuzz", &t,
		    &info, &d);
	} else {
		Zond__V1__SignedTestList st = ZOND__V1__SIGNED_TEST_LIST__INIT;
		uint8_t sig[KEY_SIG_LEN];
		if (sign_body(op, ZDOM_TESTLIST, data + 1, size - 1, sig) !=
		    ZE_OK)
			abort();
		st.has_body = st.has_sig = st.has_signer = 1;
		st.body.data = (uint8_t *)(uintptr_t)(data + 1);
		st.body.len = size - 1;
		st.sig.data = sig;
		st.sig.len = KEY_SIG_LEN;
		st.signer.data = (uint8_t *)(uintptr_t)key_public(op);
		st.signer.len = KEY_PUB_LEN;
		r = tlist_verify(&st, &c, "fuzz", &t, &info, &d);
		if (data[0] % 2 == 1 && (r == TL_UNSIGNED ||
		    r == TL_OTHER_SIGNER || r == TL_BAD_SIGNATURE))
			abort();	/* it is signed, by the operator */
	}
	if (r != TL_OK && t.n != 0)
		abort();
	if (r == TL_OK) {
		if (t.n != info.ntests || t.n == 0)
			abort();
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].req.service == NULL ||
			    t.v[i].req.target == NULL)
				abort();
		check_again(&t);
	}
	targets_free(&t);
	zbuf_free(&file);
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* a protobuf length (any byte after the selector) at an extreme */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	if (n > 2)
		buf[1 + r % (n - 1)] = (r >> 8) % 2 ? 0xff : 0;
}

const struct fuzz_replay fuzz_replay = {"fuzz_tlist", 1, extreme, 0,
    NULL, NULL};
#endif
