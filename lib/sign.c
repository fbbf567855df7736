/* sign.c — see sign.h.  Bodies up to 4 KiB are joined with the prefix on
 * the stack; larger ones on the heap. */
#include "sign.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t dom_measurement[] = "zond/measurement/v1";
static const uint8_t dom_testlist[] = "zond/testlist/v1";
static const uint8_t dom_relay[] = "zond/relay/v1";
static const uint8_t dom_relay_reply[] = "zond/relay-reply/v1";

size_t
sign_prefix(enum zdomain dom, const uint8_t **prefix)
{
	switch (dom) {
	case ZDOM_MEASUREMENT:
		*prefix = dom_measurement;
		return sizeof(dom_measurement);	/* NUL included */
	case ZDOM_TESTLIST:
		*prefix = dom_testlist;
		return sizeof(dom_testlist);
	case ZDOM_RELAY:
		*prefix = dom_relay;
		return sizeof(dom_relay);
	case ZDOM_RELAY_REPLY:
		*prefix = dom_relay_reply;
		return sizeof(dom_relay_reply);
	}
	*prefix = NULL;
	return 0;
}

zerr_t
sign_signed_bytes(enum zdomain dom, const uint8_t *body, size_t n,
    zbuf_t *out)
{
	const uint8_t *p;
	size_t pn = sign_prefix(dom, &p);
	zerr_t e;

	if ((e = zbuf_append(out, p, pn)) != ZE_OK)
		return e;
	return zbuf_append(out, body, n);
}

/* Join prefix and body; *heap set when the result must be freed. */
static uint8_t *
join(enum zdomain dom, const uint8_t *body, size_t n, uint8_t *stack,
    size_t stacklen, size_t *total, uint8_t **heap)
{
	const uint8_t *p;
	size_t pn = sign_prefix(dom, &p);
	uint8_t *b = stack;

	*heap = NULL;
	*total = pn + n;
	if (*total > stacklen) {
		if ((b = malloc(*total)) == NULL)
			return NULL;
		*heap = b;
	}
	memcpy(b, p, pn);
	if (n)
		memcpy(b + pn, body, n);
	return b;
}

zerr_t
sign_body(const zkey_t *k, enum zdomain dom, const uint8_t *body, size_t n,
    uint8_t sig[KEY_SIG_LEN])
{
	uint8_t stack[4096], *heap, *b;
	size_t total;
	zerr_t e;

	if ((b = join(dom, body, n, stack, sizeof(stack), &total,
	    &heap)) == NULL)
		return ZE_NOMEM;
	e = key_sign_raw(k, b, total, sig);
	free(heap);
	return e;
}

zerr_t
sign_verify(enum zdomain dom, const uint8_t pk[KEY_PUB_LEN],
    const uint8_t *body, size_t n, const uint8_t sig[KEY_SIG_LEN])
{
	uint8_t stack[4096], *heap, *b;
	size_t total;
	int r;

	if ((b = join(dom, body, n, stack, sizeof(stack), &total,
	    &heap)) == NULL)
		return ZE_NOMEM;
	r = crypto_sign_verify_detached(sig, b, total, pk);
	free(heap);
	return r == 0 ? ZE_OK : ZE_BADSIG;
}

zerr_t
sign_verify_signed(enum zdomain dom, const uint8_t pk[KEY_PUB_LEN],
    const uint8_t *signed_bytes, size_t n, const uint8_t sig[KEY_SIG_LEN])
{
	const uint8_t *p;
	size_t pn = sign_prefix(dom, &p);

	if (n < pn || memcmp(signed_bytes, p, pn) != 0)
		return ZE_BADSIG;
	if (crypto_sign_verify_detached(sig, signed_bytes, n, pk) != 0)
		return ZE_BADSIG;
	return ZE_OK;
}
