/*
 * stun.c — STUN/TURN messages, ChannelData and RTP headers (stun.h).
 * Invariant: every read is preceded by a check that the bytes are there;
 * every write by a check that they fit.
 */
#include "stun.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "bytes.h"

#define INTEGRITY_LEN	20

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

void
stun_w_init(stun_w_t *w, uint8_t *buf, size_t cap, uint16_t type,
    const uint8_t tid[STUN_TID_LEN])
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = cap < STUN_HDR;
	if (w->overflow)
		return;
	be16_put(buf, type);
	be16_put(buf + 2, 0);
	be32_put(buf + 4, STUN_COOKIE);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	w->len = STUN_HDR;
}

void
stun_w_attr(stun_w_t *w, uint16_t type, const void *val, size_t len)
{
	size_t padded = pad4(len);

	if (w->overflow || len > 0xffff || w->cap - w->len < 4 + padded) {
		w->overflow = true;
		return;
	}
	be16_put(w->p + w->len, type);
	be16_put(w->p + w->len + 2, (uint16_t)len);
	if (len > 0)
		memcpy(w->p + w->len + 4, val, len);
	memset(w->p + w->len + 4 + len, 0, padded - len);
	w->len += 4 + padded;
	be16_put(w->p + 2, (uint16_t)(w->len - STUN_HDR));
}

void
stun_w_xaddr(stun_w_t *w, uint16_t type, const uint8_t *addr, size_t alen,
    uint16_t port)
{
	uint8_t v[20];
	size_t i;

	if (alen != 4 && alen != 16) {
		w->overflow = true;
		return;
	}
	v[0] = 0;
	v[1] = alen == 4 ? 0x01 : 0x02;
	be16_put(v + 2, (uint16_t)(port ^ (STUN_COOKIE >> 16)));
	for (i = 0; i < alen; i++)	/* cookie || transaction id */
		v[4 + i] = addr[i] ^ (i < 4 ?
		    (uint8_t)(STUN_COOKIE >> (24 - 8 * i)) :
		    (w->len >= STUN_HDR ? w->p[8 + i - 4] : 0));
	stun_w_attr(w, type, v, 4 + alen);
}

void
stun_w_error(stun_w_t *w, unsigned code, const char *reason)
{
	uint8_t v[4 + 64];
	size_t rl = strlen(reason);

	if (rl > 64)
		rl = 64;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)((code / 100) & 7);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rl);
	stun_w_attr(w, STUN_A_ERROR_CODE, v, 4 + rl);
}

/* HMAC-SHA1 over p[0..off) with the header's length set as if the
 * message ended after MESSAGE-INTEGRITY (RFC 5389 15.4).  The one-shot
 * HMAC() takes one buffer, so the message is copied with that header. */
static void
integrity(const uint8_t *p, size_t off, const uint8_t key[STUN_KEY_LEN],
    uint8_t mac[INTEGRITY_LEN])
{
	uint8_t buf[STUN_MSG_MAX], full[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	memset(mac, 0, INTEGRITY_LEN);
	if (off < STUN_HDR || off > sizeof(buf))
		return;
	memcpy(buf, p, off);
	be16_put(buf + 2, (uint16_t)(off - STUN_HDR + 4 + INTEGRITY_LEN));
	if (HMAC(EVP_sha1(), key, STUN_KEY_LEN, buf, off, full, &ml) != NULL &&
	    ml == INTEGRITY_LEN)
		memcpy(mac, full, INTEGRITY_LEN);
}

void
stun_w_integrity(stun_w_t *w, const uint8_t key[STUN_KEY_LEN])
{
	uint8_t mac[INTEGRITY_LEN];
	size_t off = w->len;

	if (w->overflow)
		return;
	integrity(w->p, off, key, mac);
	stun_w_attr(w, STUN_A_INTEGRITY, mac, sizeof(mac));
}

size_t
stun_w_end(const stun_w_t *w)
{
	return w->overflow ? 0 : w->len;
}

void
stun_lt_key(const char *user, const char *realm, const char *password,
    uint8_t key[STUN_KEY_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned kl = 0;

	memset(key, 0, STUN_KEY_LEN);
	if (c == NULL)
		return;
	if (EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(c, user, strlen(user)) == 1 &&
	    EVP_DigestUpdate(c, ":", 1) == 1 &&
	    EVP_DigestUpdate(c, realm, strlen(realm)) == 1 &&
	    EVP_DigestUpdate(c, ":", 1) == 1 &&
	    EVP_DigestUpdate(c, password, strlen(password)) == 1)
		(void)EVP_DigestFinal_ex(c, key, &kl);
	EVP_MD_CTX_free(c);
}

bool
stun_is(const uint8_t *p, size_t n)
{
	return n >= STUN_HDR && (p[0] & 0xc0) == 0 &&
	    be32_get(p + 4) == STUN_COOKIE;
}

/* Copy an attribute's text, cut to fit. */
static void
text(char dst[STUN_TEXT_MAX], bool *has, const uint8_t *v, size_t len)
{
	if (len > STUN_TEXT_MAX - 1)
		len = STUN_TEXT_MAX - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	*has = true;
}

/* Family of an address attribute (4 or 6), -1 when malformed. */
static int
addr_family(const uint8_t *v, size_t len)
{
	if (len == 8 && v[1] == 0x01)
		return 4;
	if (len == 20 && v[1] == 0x02)
		return 6;
	return -1;
}

#define BAD(...) do { snprintf(why, wlen, __VA_ARGS__); return -1; } while (0)

int
stun_parse(const uint8_t *p, size_t n, struct stun_msg *m, char *why,
    size_t wlen)
{
	size_t off, mlen;

	memset(m, 0, sizeof(*m));
	if (n < STUN_HDR)
		BAD("%zu bytes, shorter than a STUN header", n);
	if ((p[0] & 0xc0) != 0 || be32_get(p + 4) != STUN_COOKIE)
		BAD("not STUN (first bits or magic cookie)");
	m->type = be16_get(p);
	mlen = be16_get(p + 2);
	if (mlen != n - STUN_HDR || mlen % 4 != 0)
		BAD("length field %zu for %zu bytes of attributes", mlen,
		    n - STUN_HDR);
	memcpy(m->tid, p + 8, STUN_TID_LEN);
	for (off = STUN_HDR; off < n;) {
		uint16_t t;
		size_t len;
		const uint8_t *v;
		int fam;

		if (n - off < 4)
			BAD("attribute header cut at byte %zu", off);
		t = be16_get(p + off);
		len = be16_get(p + off + 2);
		if (pad4(len) > n - off - 4)
			BAD("attribute 0x%04x of %zu bytes runs past the end "
			    "at byte %zu", t, len, off);
		v = p + off + 4;
		if (m->integrity_off != 0)
			BAD("attribute 0x%04x after MESSAGE-INTEGRITY", t);
		switch (t) {
		case STUN_A_ERROR_CODE:
			if (len < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 ||
			    v[3] > 99)
				BAD("malformed ERROR-CODE at byte %zu", off);
			m->error_code = (unsigned)(v[2] & 7) * 100 + v[3];
			break;
		case STUN_A_REALM:
			text(m->realm, &m->has_realm, v, len);
			break;
		case STUN_A_NONCE:
			text(m->nonce, &m->has_nonce, v, len);
			break;
		case STUN_A_SOFTWARE:
			text(m->software, &m->has_software, v, len);
			break;
		case STUN_A_USERNAME:
			text(m->username, &m->has_username, v, len);
			break;
		case STUN_A_MAPPED:
		case STUN_A_XOR_MAPPED:
		case STUN_A_XOR_RELAYED:
			if ((fam = addr_family(v, len)) < 0)
				BAD("malformed address attribute 0x%04x at "
				    "byte %zu", t, off);
			if (t == STUN_A_XOR_RELAYED)
				m->relayed_family = fam;
			else
				m->mapped_family = fam;
			break;
		case STUN_A_CHANNEL:
			if (len != 4)
				BAD("CHANNEL-NUMBER of %zu bytes", len);
			m->has_channel = true;
			m->channel = be16_get(v);
			break;
		case STUN_A_TRANSPORT:
			if (len != 4)
				BAD("REQUESTED-TRANSPORT of %zu bytes", len);
			m->has_transport = true;
			m->transport = v[0];
			break;
		case STUN_A_INTEGRITY:
			if (len != INTEGRITY_LEN)
				BAD("MESSAGE-INTEGRITY of %zu bytes", len);
			m->integrity_off = off;
			break;
		default:
			break;	/* comprehension-optional or unknown */
		}
		off += 4 + pad4(len);
	}
	return 0;
}

bool
stun_integrity_ok(const uint8_t *p, size_t n, const struct stun_msg *m,
    const uint8_t key[STUN_KEY_LEN])
{
	uint8_t mac[INTEGRITY_LEN];
	size_t off = m->integrity_off;

	if (off < STUN_HDR || n < off + 4 + INTEGRITY_LEN)
		return false;
	integrity(p, off, key, mac);
	return sodium_memcmp(mac, p + off + 4, INTEGRITY_LEN) == 0;
}

size_t
stun_chandata_build(uint8_t *out, size_t cap, uint16_t channel,
    const uint8_t *data, size_t len)
{
	if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX ||
	    len > 0xffff || cap < STUN_CHANDATA_HDR + len)
		return 0;
	be16_put(out, channel);
	be16_put(out + 2, (uint16_t)len);
	if (len > 0)
		memcpy(out + STUN_CHANDATA_HDR, data, len);
	return STUN_CHANDATA_HDR + len;
}

int
stun_chandata_parse(const uint8_t *p, size_t n, uint16_t *channel,
    const uint8_t **data, size_t *len)
{
	size_t l;

	if (n < STUN_CHANDATA_HDR)
		return -1;
	*channel = be16_get(p);
	if (*channel < STUN_CHANNEL_MIN || *channel > STUN_CHANNEL_MAX)
		return -1;
	l = be16_get(p + 2);
	/* over UDP the datagram may carry up to 3 bytes of padding */
	if (l > n - STUN_CHANDATA_HDR || n - STUN_CHANDATA_HDR - l > 3)
		return -1;
	*data = p + STUN_CHANDATA_HDR;
	*len = l;
	return 0;
}

size_t
rtp_build(uint8_t *out, size_t cap, const struct rtp_hdr *h,
    const uint8_t *pay, size_t payload_len)
{
	if (cap < RTP_HDR || payload_len > cap - RTP_HDR)
		return 0;
	out[0] = 0x80;		/* V=2, P=0, X=0, CC=0 */
	out[1] = (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f));
	be16_put(out + 2, h->seq);
	be32_put(out + 4, h->ts);
	be32_put(out + 8, h->ssrc);
	if (pay != NULL)
		memcpy(out + RTP_HDR, pay, payload_len);
	else
		memset(out + RTP_HDR, 0, payload_len);
	return RTP_HDR + payload_len;
}

int
rtp_parse(const uint8_t *p, size_t n, struct rtp_hdr *h)
{
	size_t cc;

	if (n < RTP_HDR || (p[0] >> 6) != 2)
		return -1;
	cc = p[0] & 0x0f;
	if (n - RTP_HDR < 4 * cc)
		return -1;
	h->marker = (p[1] & 0x80) != 0;
	h->pt = p[1] & 0x7f;
	h->seq = be16_get(p + 2);
	h->ts = be32_get(p + 4);
	h->ssrc = be32_get(p + 8);
	return 0;
}
