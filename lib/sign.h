/*
 * sign.h — domain-separated Ed25519 signatures.
 *
 * The signed bytes are a domain prefix (ASCII, ending in one NUL byte)
 * followed by the exact protobuf encoding of the object:
 *     measurement:  "zond/measurement/v1\0" || Measurement bytes
 *     test list:    "zond/testlist/v1\0"    || TestList bytes
 *     relay request: "zond/relay/v1\0"      || RelayBody bytes (agent)
 *     relay reply:  "zond/relay-reply/v1\0" || RelayReplyBody bytes
 *                                              (aggregator)
 * so a signature made for one kind of object never verifies as another.
 * Verifiers check the bytes they received; they never re-encode.
 * All functions are thread-safe.
 */
#ifndef ZOND_SIGN_H
#define ZOND_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "zbuf.h"

enum zdomain {
	ZDOM_MEASUREMENT,
	ZDOM_TESTLIST,
	ZDOM_RELAY,
	ZDOM_RELAY_REPLY,
};

/* Prefix bytes of a domain, NUL included; returns their count. */
size_t sign_prefix(enum zdomain dom, const uint8_t **prefix);

/* prefix || body into out (appended). */
zerr_t sign_signed_bytes(enum zdomain dom, const uint8_t *body, size_t n,
    zbuf_t *out) ZWUR;

zerr_t sign_body(const zkey_t *k, enum zdomain dom, const uint8_t *body,
    size_t n, uint8_t sig[KEY_SIG_LEN]) ZWUR;

/* ZE_OK only if sig is pk's signature over prefix || body. */
zerr_t sign_verify(enum zdomain dom, const uint8_t pk[KEY_PUB_LEN],
    const uint8_t *body, size_t n, const uint8_t sig[KEY_SIG_LEN]) ZWUR;

/* Verify a complete signed-bytes buffer (prefix included), as exports
 * carry it: checks the prefix names dom, then the signature. */
zerr_t sign_verify_signed(enum zdomain dom, const uint8_t pk[KEY_PUB_LEN],
    const uint8_t *signed_bytes, size_t n,
    const uint8_t sig[KEY_SIG_LEN]) ZWUR;

#endif
