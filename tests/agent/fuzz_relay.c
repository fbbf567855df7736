/*
 * fuzz_relay — fuzz harness for the relay reply check (agent/relay.c
 * relay_reply_open), which reads what any HTTPS relay sends back.
 *
 * The first input byte selects: 0 the rest is a RelayReply as received
 * (the wrapper's decoding and the refusals before and at the signature);
 * 1 the rest is a RelayReplyBody, signed here with the aggregator's key,
 * so the body's decoding and the hash binding run behind a valid
 * signature.  Built with clang and -DZOND_LIBFUZZER it is a libFuzzer
 * target; otherwise the replay driver for ctest (label fuzz).
 * Invariants: a refusal leaves the Downlink buffer empty; an accepted
 * reply was signed by the key and bound to the expected hash, and gives
 * back exactly the body's downlink bytes.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "relay.h"
#include "sign.h"
#include "wire.h"

static zkey_t *srv;

/* The expected hash of the requests of mode 0: SHA-256("fuzz"). */
static void
want_hash(uint8_t h[RELAY_HASH_LEN])
{
	crypto_hash_sha256(h, (const uint8_t *)"fuzz", 4);
}

/* Open and check the invariants; returns whether it was accepted. */
static int
open_check(const uint8_t *p, size_t n, const uint8_t hash[RELAY_HASH_LEN])
{
	enum relay_reply_why why;
	zbuf_t dl;
	zdiag_t d;
	int ok;

	zbuf_init(&dl, RELAY_MAX_REPLY);
	ok = relay_reply_open(key_public(srv), p, n, hash, &dl, &why, &d) ==
	    ZE_OK;
	if (ok != (why == RELAY_REPLY_OK) || (!ok && dl.len != 0))
		abort();
	zbuf_free(&dl);
	return ok;
}

/* Mode 1: sign body, wrap it, open it with the body's own hash. */
static void
signed_body(const uint8_t *body, size_t n)
{
	Zond__V1__RelayReply r = ZOND__V1__RELAY_REPLY__INIT;
	Zond__V1__RelayReplyBody *b;
	enum relay_reply_why why;
	uint8_t sig[KEY_SIG_LEN], other[RELAY_HASH_LEN];
	zbuf_t w, dl;
	zdiag_t d;
	zerr_t e;

	if (sign_body(srv, ZDOM_RELAY_REPLY, body, n, sig) != ZE_OK)
		abort();
	r.has_body = r.has_sig = 1;
	r.body.data = (uint8_t *)(uintptr_t)body;
	r.body.len = n;
	r.sig.data = sig;
	r.sig.len = KEY_SIG_LEN;
	zbuf_init(&w, RELAY_MAX_REPLY + 1024);
	zbuf_init(&dl, RELAY_MAX_REPLY);
	if (wire_pack(&r.base, &w) != ZE_OK)
		goto out;
	b = zond__v1__relay_reply_body__unpack(NULL, n, body);
	memset(other, 0x5a, sizeof(other));
	if (b != NULL && b->has_request_hash &&
	    b->request_hash.len == RELAY_HASH_LEN) {
		e = relay_reply_open(key_public(srv), w.data, w.len,
		    b->request_hash.data, &dl, &why, &d);
		/* bound and signed: accepted exactly when it has a downlink,
		 * and then with its bytes */
		if ((e == ZE_OK) != (b->has_downlink && w.len <=
		    RELAY_MAX_REPLY) || (e == ZE_OK && (dl.len !=
		    b->downlink.len || (dl.len > 0 && memcmp(dl.data,
		    b->downlink.data, dl.len) != 0))))
			abort();
		if (memcmp(other, b->request_hash.data, RELAY_HASH_LEN) != 0 &&
		    open_check(w.data, w.len, other))
			abort();	/* bound to another request */
	} else if (open_check(w.data, w.len, other)) {
		abort();		/* no binding, never accepted */
	}
	if (b != NULL)
		zond__v1__relay_reply_body__free_unpacked(b, NULL);
out:
	zbuf_free(&w);
	zbuf_free(&dl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t seed[KEY_SEED_LEN], h[RELAY_HASH_LEN];

	if (srv == NULL) {
		if (sodium_init() < 0)
			abort();
		memset(seed, 9, sizeof(seed));
		if (key_from_seed(seed, &srv) != ZE_OK)
			abort();
	}
	if (size < 1)
		return 0;
	if (data[0] == 0) {
		want_hash(h);
		(void)open_check(data + 1, size - 1, h);
	} else if (data[0] == 1) {
		signed_body(data + 1, size - 1);
	}
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* set one length byte of a protobuf to 0 or 0xff */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	if (n > 2)
		buf[2 + r % (n - 2)] = (r >> 32) & 1 ? 0xff : 0;
}

/* Seeds named good_* are replies the aggregator would send: refusing one
 * fails the run (a check that refuses everything passes every fuzz). */
static int
seed_check(const char *name, const uint8_t *data, size_t n)
{
	uint8_t h[RELAY_HASH_LEN];

	if (strstr(name, "good_") == NULL)
		return 0;
	want_hash(h);
	return n > 1 && data[0] == 0 && open_check(data + 1, n - 1, h) ? 0 :
	    1;
}

static void
fini(void)
{
	key_free(&srv);
}

const struct fuzz_replay fuzz_replay = {"fuzz_relay", 1, extreme, 0,
    seed_check, fini};
#endif
