/* token.c — see token.h. */
#include "token.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* An endpoint or relay: 1..TOKEN_MAX_URL printable ASCII bytes without
 * blanks (it goes into a config file as a quoted string). */
static zerr_t
check_url(const char *what, size_t i, const char *u, zdiag_t *d)
{
	size_t n = u != NULL ? strnlen(u, TOKEN_MAX_URL + 1) : 0;

	if (n == 0 || n > TOKEN_MAX_URL)
		return zdiag_set(d, ZE_INVAL, "token: %s %zu is empty or "
		    "longer than %d bytes", what, i + 1, TOKEN_MAX_URL);
	for (size_t k = 0; k < n; k++)
		if (u[k] <= 0x20 || u[k] >= 0x7f || u[k] == '"' ||
		    u[k] == '\\')
			return zdiag_set(d, ZE_INVAL, "token: %s %zu has a "
			    "blank, quote or non-ASCII byte at %zu", what,
			    i + 1, k + 1);
	return ZE_OK;
}

static zerr_t
check_fields(const token_t *t, zdiag_t *d)
{
	zerr_t e;

	if (t->n_endpoints == 0 || t->n_endpoints > TOKEN_MAX_URLS)
		return zdiag_set(d, ZE_INVAL, "token: %zu endpoints (1 to %d "
		    "expected)", t->n_endpoints, TOKEN_MAX_URLS);
	if (t->n_relays > TOKEN_MAX_URLS)
		return zdiag_set(d, ZE_INVAL, "token: %zu relays (at most %d)",
		    t->n_relays, TOKEN_MAX_URLS);
	for (size_t i = 0; i < t->n_endpoints; i++)
		if ((e = check_url("endpoint", i, t->endpoints[i], d)) !=
		    ZE_OK)
			return e;
	for (size_t i = 0; i < t->n_relays; i++)
		if ((e = check_url("relay", i, t->relays[i], d)) != ZE_OK)
			return e;
	if (!t->has_server_key || t->server_key.len != 32)
		return zdiag_set(d, ZE_INVAL, "token: aggregator key missing "
		    "or not 32 bytes");
	if (t->has_operator_key && t->operator_key.len != 32 &&
	    t->operator_key.len != 0)
		return zdiag_set(d, ZE_INVAL, "token: operator key not 32 "
		    "bytes");
	if (!t->has_id || t->id.len != TOKEN_ID_LEN)
		return zdiag_set(d, ZE_INVAL, "token: id missing or not %d "
		    "bytes", TOKEN_ID_LEN);
	if (!t->has_secret || t->secret.len != TOKEN_SECRET_LEN)
		return zdiag_set(d, ZE_INVAL, "token: secret missing or not "
		    "%d bytes", TOKEN_SECRET_LEN);
	return ZE_OK;
}

zerr_t
token_encode(const token_t *t, zbuf_t *out, zdiag_t *d)
{
	uint8_t *bin = NULL, h[crypto_hash_sha256_BYTES];
	size_t n, b64;
	uint8_t *w;
	zerr_t e;

	zbuf_reset(out);
	if ((e = check_fields(t, d)) != ZE_OK)
		return e;
	n = protobuf_c_message_get_packed_size(&t->base);
	if ((bin = malloc(n + TOKEN_CHECK_LEN)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	protobuf_c_message_pack(&t->base, bin);
	crypto_hash_sha256(h, bin, n);
	memcpy(bin + n, h, TOKEN_CHECK_LEN);
	b64 = sodium_base64_ENCODED_LEN(n + TOKEN_CHECK_LEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (strlen(TOKEN_PREFIX) + b64 > TOKEN_MAX_TEXT) {
		e = zdiag_set(d, ZE_TOOBIG, "token: %zu characters, over the "
		    "%d limit", strlen(TOKEN_PREFIX) + b64, TOKEN_MAX_TEXT);
		goto out;
	}
	if ((e = zbuf_puts(out, TOKEN_PREFIX)) != ZE_OK ||
	    (e = zbuf_reserve(out, b64, &w)) != ZE_OK) {
		zdiag_set(d, e, "token: %s", zerr_str(e));
		goto out;
	}
	sodium_bin2base64((char *)w, b64, bin, n + TOKEN_CHECK_LEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	out->len += b64 - 1;	/* without the NUL it wrote */
	out->data[out->len] = '\0';
out:
	sodium_memzero(bin, n + TOKEN_CHECK_LEN);
	free(bin);
	return e;
}

zerr_t
token_decode(const char *text, token_t **out, zdiag_t *d)
{
	size_t tl = strnlen(text, TOKEN_MAX_TEXT + 1), n = 0, bl = 0;
	size_t pl = strlen(TOKEN_PREFIX);
	char *c = NULL;
	uint8_t *bin = NULL, h[crypto_hash_sha256_BYTES];
	token_t *t = NULL;
	zerr_t e;

	*out = NULL;
	if (tl > TOKEN_MAX_TEXT)
		return zdiag_set(d, ZE_PARSE, "token damaged: longer than %d "
		    "characters", TOKEN_MAX_TEXT);
	if ((c = malloc(tl + 1)) == NULL || (bin = malloc(tl + 1)) == NULL) {
		e = zdiag_set(d, ZE_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < tl; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r')
			c[n++] = text[i];
	c[n] = '\0';
	if (n < pl || memcmp(c, TOKEN_PREFIX, pl) != 0) {
		e = zdiag_set(d, ZE_PARSE, "not a Zond enrollment token: it "
		    "must start with \"%s\"", TOKEN_PREFIX);
		goto out;
	}
	if (sodium_base642bin(bin, tl + 1, c + pl, n - pl, NULL, &bl, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		e = zdiag_set(d, ZE_PARSE, "token damaged: not base64url "
		    "after \"%s\" (a character was changed or cut off; copy "
		    "the whole line again)", TOKEN_PREFIX);
		goto out;
	}
	if (bl <= TOKEN_CHECK_LEN) {
		e = zdiag_set(d, ZE_PARSE, "token damaged: too short (copy "
		    "the whole line again)");
		goto out;
	}
	crypto_hash_sha256(h, bin, bl - TOKEN_CHECK_LEN);
	if (sodium_memcmp(h, bin + bl - TOKEN_CHECK_LEN, TOKEN_CHECK_LEN) !=
	    0) {
		e = zdiag_set(d, ZE_PARSE, "token damaged: checksum does not "
		    "match (a character was changed or cut off; copy the "
		    "whole line again)");
		goto out;
	}
	t = zond__v1__enroll_token__unpack(NULL, bl - TOKEN_CHECK_LEN, bin);
	if (t == NULL) {
		e = zdiag_set(d, ZE_INVAL, "token: checksum holds but the "
		    "content does not decode (made by another program?)");
		goto out;
	}
	if ((e = check_fields(t, d)) != ZE_OK) {
		token_free(&t);
		goto out;
	}
	*out = t;
out:
	if (bin != NULL)
		sodium_memzero(bin, tl + 1);
	if (c != NULL)
		sodium_memzero(c, tl + 1);
	free(bin);
	free(c);
	return e;
}

void
token_free(token_t **t)
{
	if (t == NULL || *t == NULL)
		return;
	if ((*t)->has_secret)
		sodium_memzero((*t)->secret.data, (*t)->secret.len);
	zond__v1__enroll_token__free_unpacked(*t, NULL);
	*t = NULL;
}

void
token_proof(const uint8_t secret[TOKEN_SECRET_LEN],
    const uint8_t id[TOKEN_ID_LEN], const uint8_t agent_key[32],
    uint8_t proof[TOKEN_PROOF_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, secret, TOKEN_SECRET_LEN);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)TOKEN_DOMAIN,
	    sizeof(TOKEN_DOMAIN));	/* with its NUL */
	crypto_auth_hmacsha256_update(&st, id, TOKEN_ID_LEN);
	crypto_auth_hmacsha256_update(&st, agent_key, 32);
	crypto_auth_hmacsha256_final(&st, proof);
	sodium_memzero(&st, sizeof(st));
}

int
token_proof_check(const uint8_t secret[TOKEN_SECRET_LEN],
    const uint8_t id[TOKEN_ID_LEN], const uint8_t agent_key[32],
    const uint8_t *proof, size_t proof_len)
{
	uint8_t want[TOKEN_PROOF_LEN];
	int r;

	if (proof == NULL || proof_len != TOKEN_PROOF_LEN)
		return -1;
	token_proof(secret, id, agent_key, want);
	r = sodium_memcmp(want, proof, TOKEN_PROOF_LEN);
	sodium_memzero(want, sizeof(want));
	return r;
}
