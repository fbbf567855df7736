/*
 * token.h — enrollment tokens: the one line an operator gives a volunteer
 * (docs/PROTOCOL.md "Enrollment").
 *
 * Text form: "zt1." then base64url without padding of the EnrollToken
 * protobuf bytes followed by the first TOKEN_CHECK_LEN bytes of their
 * SHA-256.  The checksum only tells a mangled paste ("damaged") from a
 * token the aggregator refuses; the secret inside is the credential and
 * the proof (token_proof) is what the aggregator checks.
 * Pure functions over bytes, no I/O, thread-safe.
 */
#ifndef ZOND_TOKEN_H
#define ZOND_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zbuf.h"
#include "zond.pb-c.h"

#define TOKEN_PREFIX "zt1."
#define TOKEN_ID_LEN 16
#define TOKEN_SECRET_LEN 32
#define TOKEN_PROOF_LEN 32
#define TOKEN_CHECK_LEN 4
#define TOKEN_MAX_TEXT 4096		/* longest token line accepted */
#define TOKEN_MAX_URLS 8		/* endpoints, relays each */
#define TOKEN_MAX_URL 256		/* one endpoint or relay */
#define TOKEN_DOMAIN "zond/enroll/v1"	/* the proof's domain string */

typedef Zond__V1__EnrollToken token_t;

/*
 * Text form of t (its fields checked as token_decode does) into out
 * (reset first; NUL-terminated).  ZE_INVAL with the field named.
 */
zerr_t token_encode(const token_t *t, zbuf_t *out, zdiag_t *d) ZWUR;

/*
 * Parse a token line; blanks and line breaks anywhere in it are skipped
 * (a paste split over lines).  ZE_PARSE "damaged" when the prefix, the
 * base64url or the checksum is wrong; ZE_INVAL when the checksum holds
 * but a field is missing or out of bounds.  Caller frees with token_free.
 */
zerr_t token_decode(const char *text, token_t **out, zdiag_t *d) ZWUR;
void token_free(token_t **t);

/* HMAC-SHA256 keyed by secret over TOKEN_DOMAIN "\0" || id || agent_key. */
void token_proof(const uint8_t secret[TOKEN_SECRET_LEN],
    const uint8_t id[TOKEN_ID_LEN], const uint8_t agent_key[32],
    uint8_t proof[TOKEN_PROOF_LEN]);
/* Constant-time check of a proof; 0 when it holds. */
int token_proof_check(const uint8_t secret[TOKEN_SECRET_LEN],
    const uint8_t id[TOKEN_ID_LEN], const uint8_t agent_key[32],
    const uint8_t *proof, size_t proof_len) ZWUR;

#endif
