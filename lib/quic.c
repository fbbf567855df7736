/*
 * quic.c — QUIC v1 Initial protection and unprotection (quic.h).
 *
 * RFC 9001: initial_secret = HKDF-Extract(initial_salt, DCID); the
 * client's and server's secrets, and from each key, iv and hp, by
 * HKDF-Expand-Label (RFC 8446 7.1) with SHA-256.  Payload: AES-128-GCM
 * with nonce iv XOR packet number and the header as associated data;
 * header: the low 4 bits of the first byte and the packet number masked
 * with AES-ECB(hp, 16 bytes sampled 4 bytes after the packet number's
 * start).  Every length read from the wire is checked against the bytes
 * left before it is used; plaintext lives in a buffer as large as the
 * packet's payload, never larger than the datagram.
 */
#include "quic.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bytes.h"
#include "tlshello.h"

/* RFC 9001 5.2 */
static const uint8_t initial_salt_v1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
/* RFC 9001 5.8 */
static const uint8_t retry_key_v1[16] = {
	0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
	0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e,
};
static const uint8_t retry_nonce_v1[12] = {
	0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2,
	0x23, 0x98, 0x25, 0xbb,
};

#define CRYPTO_RANGES	32	/* CRYPTO frames kept per packet */

/* HKDF-Expand-Label(secret, label, "", len) for len <= 32: one block. */
static int
expand_label(const uint8_t secret[32], const char *label, uint8_t *out,
    size_t len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 1], md[32];
	unsigned int mdlen = 0;
	size_t ll = strlen(label), i = 0;

	ZASSERT(len <= 32 && ll <= 32);
	be16_put(info, (uint16_t)len);
	i = 2;
	info[i++] = (uint8_t)(6 + ll);
	memcpy(info + i, "tls13 ", 6);
	i += 6;
	memcpy(info + i, label, ll);
	i += ll;
	info[i++] = 0;			/* empty context */
	info[i++] = 1;			/* T(1) */
	if (HMAC(EVP_sha256(), secret, 32, info, i, md, &mdlen) == NULL ||
	    mdlen != 32)
		return -1;
	memcpy(out, md, len);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

zerr_t
quic_initial_keys(const uint8_t *dcid, size_t dcid_len, bool server,
    quic_keys_t *k, zdiag_t *d)
{
	uint8_t init[32], secret[32];
	unsigned int l = 0;
	zerr_t e = ZE_OK;

	if (HMAC(EVP_sha256(), initial_salt_v1, sizeof(initial_salt_v1),
	    dcid, dcid_len, init, &l) == NULL || l != 32 ||
	    expand_label(init, server ? "server in" : "client in", secret,
	    32) != 0 ||
	    expand_label(secret, "quic key", k->key, sizeof(k->key)) != 0 ||
	    expand_label(secret, "quic iv", k->iv, sizeof(k->iv)) != 0 ||
	    expand_label(secret, "quic hp", k->hp, sizeof(k->hp)) != 0)
		e = zdiag_set(d, ZE_CRYPTO, "quic: HKDF-SHA256 failed");
	OPENSSL_cleanse(init, sizeof(init));
	OPENSSL_cleanse(secret, sizeof(secret));
	return e;
}

/* AES-ECB(hp, sample) -> mask[16]. */
static int
hp_mask(const uint8_t hp[16], const uint8_t *sample, uint8_t mask[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, ok;

	if (c == NULL)
		return -1;
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, mask, &l, sample, 16) == 1 && l == 16;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* AES-128-GCM over in[0..len) with aad; encrypt writes the tag to
 * tag[16], decrypt checks it.  0, or -1 (for decrypt: tag mismatch). */
static int
gcm(bool enc, const uint8_t key[16], const uint8_t nonce[12],
    const uint8_t *aad, size_t alen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[QUIC_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t fin[16];
	int l = 0, ok;

	if (c == NULL || alen > INT32_MAX || len > INT32_MAX) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce,
	    enc ? 1 : 0) == 1 &&
	    EVP_CipherUpdate(c, NULL, &l, aad, (int)alen) == 1 &&
	    (len == 0 || EVP_CipherUpdate(c, out, &l, in, (int)len) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
		    tag) == 1;
	/* GCM's final step writes no bytes: it computes or checks the tag */
	if (ok)
		ok = EVP_CipherFinal_ex(c, fin, &l) == 1 && l == 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, QUIC_TAG_LEN,
		    tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static void
nonce_for(const quic_keys_t *k, uint64_t pn, uint8_t nonce[12])
{
	int i;

	memcpy(nonce, k->iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

zerr_t
quic_protect(const quic_keys_t *k, uint8_t *pkt, size_t hdr_len,
    size_t pn_len, size_t plain_len, zdiag_t *d)
{
	uint8_t nonce[12], mask[16];
	size_t pn_off = hdr_len - pn_len, i;
	uint64_t pn = 0;

	ZASSERT(pn_len >= 1 && pn_len <= 4 && hdr_len > pn_len);
	ZASSERT((pkt[0] & 0x80) != 0);
	if (plain_len + QUIC_TAG_LEN < 4 - pn_len + 16)
		return zdiag_set(d, ZE_INVAL, "quic: %zu payload bytes, too "
		    "few for the header-protection sample", plain_len);
	for (i = 0; i < pn_len; i++)
		pn = pn << 8 | pkt[pn_off + i];
	nonce_for(k, pn, nonce);
	if (gcm(true, k->key, nonce, pkt, hdr_len, pkt + hdr_len, plain_len,
	    pkt + hdr_len, pkt + hdr_len + plain_len) != 0 ||
	    hp_mask(k->hp, pkt + pn_off + 4, mask) != 0)
		return zdiag_set(d, ZE_CRYPTO, "quic: AES-128 failed");
	pkt[0] ^= mask[0] & 0x0f;
	for (i = 0; i < pn_len; i++)
		pkt[pn_off + i] ^= mask[1 + i];
	return ZE_OK;
}

/* QUIC variable-length integer (RFC 9000 16); -1 past the end. */
static int
varint(breader_t *r, uint64_t *v)
{
	uint8_t b = br_u8(r);
	size_t n = (size_t)1 << (b >> 6), i;

	*v = b & 0x3f;
	for (i = 1; i < n; i++)
		*v = *v << 8 | br_u8(r);
	return br_error(r) == ZE_OK ? 0 : -1;
}

zerr_t
quic_client_initial(const quic_hdr_t *h, const uint8_t *crypto,
    size_t clen, size_t size, uint8_t *out, size_t cap, size_t *n,
    zdiag_t *d)
{
	quic_keys_t k;
	size_t hdr, frame, plain, len_at, total;
	zerr_t e;

	*n = 0;
	if (h->dcid_len > QUIC_CID_MAX || h->scid_len > QUIC_CID_MAX)
		return zdiag_set(d, ZE_INVAL, "quic: connection ids of %zu and "
		    "%zu bytes, over 20", h->dcid_len, h->scid_len);
	if (clen > 4000)
		return zdiag_set(d, ZE_TOOBIG, "quic: %zu bytes of CRYPTO "
		    "data, over one packet", clen);
	/* first byte, version, dcid, scid, token length 0, Length (2-byte
	 * varint), packet number (4 bytes) */
	hdr = 1 + 4 + 1 + h->dcid_len + 1 + h->scid_len + 1;
	len_at = hdr;
	hdr += 2 + 4;
	frame = 1 + 1 + 2 + clen;	/* type, offset 0, length, data */
	plain = frame;
	if (hdr + plain + QUIC_TAG_LEN < size)
		plain = size - hdr - QUIC_TAG_LEN;
	total = hdr + plain + QUIC_TAG_LEN;
	if (total > cap)
		return zdiag_set(d, ZE_TOOBIG, "quic: Initial of %zu bytes "
		    "does not fit in %zu", total, cap);
	out[0] = 0xc3;			/* long, fixed, Initial, 4-byte pn */
	be32_put(out + 1, h->version);
	out[5] = (uint8_t)h->dcid_len;
	memcpy(out + 6, h->dcid, h->dcid_len);
	out[6 + h->dcid_len] = (uint8_t)h->scid_len;
	memcpy(out + 7 + h->dcid_len, h->scid, h->scid_len);
	out[len_at - 1] = 0;		/* token length */
	be16_put(out + len_at, (uint16_t)(0x4000 | (4 + plain +
	    QUIC_TAG_LEN)));
	be32_put(out + len_at + 2, h->pn);
	out[hdr] = 0x06;		/* CRYPTO */
	out[hdr + 1] = 0;		/* offset 0 */
	be16_put(out + hdr + 2, (uint16_t)(0x4000 | clen));
	memcpy(out + hdr + 4, crypto, clen);
	memset(out + hdr + frame, 0, plain - frame);	/* PADDING */
	if ((e = quic_initial_keys(h->dcid, h->dcid_len, false, &k, d)) !=
	    ZE_OK)
		return e;
	e = quic_protect(&k, out, hdr, 4, plain, d);
	OPENSSL_cleanse(&k, sizeof(k));
	if (e == ZE_OK)
		*n = total;
	return e;
}

const char *
quic_strerror(int e)
{
	switch (e) {
	case 0: return "ok";
	case QUIC_E_SHORT: return "datagram ends inside the packet";
	case QUIC_E_NOT_LONG: return "not a long-header packet";
	case QUIC_E_VERSION: return "not QUIC version 1";
	case QUIC_E_NOT_INITIAL: return "not an Initial packet";
	case QUIC_E_CID: return "connection id over 20 bytes";
	case QUIC_E_DECRYPT: return "payload does not decrypt (bad tag)";
	case QUIC_E_FRAME: return "frame not handled or malformed";
	case QUIC_E_NO_CRYPTO: return "no CRYPTO data at offset 0";
	case QUIC_E_HELLO: return "CRYPTO data is not a ClientHello";
	case QUIC_E_NO_SNI: return "ClientHello without SNI";
	case QUIC_E_CAP: return "SNI too long for the buffer";
	case QUIC_E_CRYPTO: return "libcrypto failed";
	default: return "unknown QUIC error";
	}
}

struct range {
	uint64_t off, len;
};

/* The frames of one Initial's plaintext: CRYPTO data into crypto[cap]. */
static int
read_frames(const uint8_t *p, size_t n, uint8_t *crypto, size_t cap,
    size_t *clen)
{
	struct range rg[CRYPTO_RANGES];
	size_t nr = 0, i;
	uint64_t t, off, len, cnt, v, have;
	bool grew;
	breader_t r;

	br_init(&r, p, n);
	while (br_left(&r) > 0) {
		if (varint(&r, &t) != 0)
			return QUIC_E_FRAME;
		switch (t) {
		case 0x00:		/* PADDING */
		case 0x01:		/* PING */
			break;
		case 0x02:		/* ACK */
		case 0x03:		/* ACK with ECN counts */
			if (varint(&r, &v) != 0 || varint(&r, &v) != 0 ||
			    varint(&r, &cnt) != 0 || varint(&r, &v) != 0 ||
			    cnt > n)
				return QUIC_E_FRAME;
			for (i = 0; i < 2 * cnt + (t == 3 ? 3 : 0); i++)
				if (varint(&r, &v) != 0)
					return QUIC_E_FRAME;
			break;
		case 0x06:		/* CRYPTO */
			if (varint(&r, &off) != 0 || varint(&r, &len) != 0 ||
			    len > br_left(&r))
				return QUIC_E_FRAME;
			if (nr == CRYPTO_RANGES)
				return QUIC_E_FRAME;
			rg[nr].off = off;
			rg[nr++].len = len;
			if (off < cap) {
				size_t take = len < cap - off ? (size_t)len :
				    cap - (size_t)off;
				memcpy(crypto + off, br_ptr(&r, take), take);
				br_skip(&r, (size_t)len - take);
			} else {
				br_skip(&r, (size_t)len);
			}
			break;
		default:
			return QUIC_E_FRAME;
		}
	}
	/* the data contiguous from 0: at most CRYPTO_RANGES passes */
	have = 0;
	do {
		grew = false;
		for (i = 0; i < nr; i++)
			if (rg[i].off <= have && rg[i].off + rg[i].len >
			    have) {
				have = rg[i].off + rg[i].len;
				grew = true;
			}
	} while (grew);
	if (have == 0)
		return QUIC_E_NO_CRYPTO;
	*clen = have < cap ? (size_t)have : cap;
	return 0;
}

int
quic_initial_open(const uint8_t *dgram, size_t n, quic_hdr_t *h,
    uint8_t *crypto, size_t cap, size_t *clen)
{
	uint8_t nonce[12], mask[16], tag[QUIC_TAG_LEN], *buf = NULL;
	uint64_t tlen, plen;
	size_t pn_off, pn_len, i, hl, ctlen;
	quic_keys_t k;
	breader_t r;
	int rc;

	memset(h, 0, sizeof(*h));
	memset(&k, 0, sizeof(k));
	*clen = 0;
	br_init(&r, dgram, n);
	if (n < 7)
		return QUIC_E_SHORT;
	if ((dgram[0] & 0xc0) != 0xc0)
		return QUIC_E_NOT_LONG;
	(void)br_u8(&r);
	h->version = br_be32(&r);
	if (h->version != QUIC_V1)
		return QUIC_E_VERSION;
	if ((dgram[0] & 0x30) != 0)
		return QUIC_E_NOT_INITIAL;
	h->dcid_len = br_u8(&r);
	if (h->dcid_len > QUIC_CID_MAX)
		return QUIC_E_CID;
	br_copy(&r, h->dcid, h->dcid_len);
	h->scid_len = br_u8(&r);
	if (h->scid_len > QUIC_CID_MAX)
		return QUIC_E_CID;
	br_copy(&r, h->scid, h->scid_len);
	if (varint(&r, &tlen) != 0 || tlen > br_left(&r))
		return QUIC_E_SHORT;
	br_skip(&r, (size_t)tlen);
	if (varint(&r, &plen) != 0 || plen > br_left(&r))
		return QUIC_E_SHORT;
	pn_off = r.pos;
	/* the sample starts 4 bytes after the packet number's start */
	if (plen < 4 + 16)
		return QUIC_E_SHORT;
	if (quic_initial_keys(h->dcid, h->dcid_len, false, &k, NULL) !=
	    ZE_OK || hp_mask(k.hp, dgram + pn_off + 4, mask) != 0) {
		rc = QUIC_E_CRYPTO;
		goto out;
	}
	pn_len = (size_t)((dgram[0] ^ (mask[0] & 0x0f)) & 0x03) + 1;
	hl = pn_off + pn_len;
	ctlen = (size_t)plen - pn_len - QUIC_TAG_LEN;
	/* the unmasked header (associated data), then the plaintext */
	if ((buf = malloc(hl + ctlen + 1)) == NULL) {
		rc = QUIC_E_CRYPTO;
		goto out;
	}
	memcpy(buf, dgram, hl);
	buf[0] ^= mask[0] & 0x0f;
	for (i = 0; i < pn_len; i++) {
		buf[pn_off + i] ^= mask[1 + i];
		h->pn = h->pn << 8 | buf[pn_off + i];
	}
	memcpy(tag, dgram + hl + ctlen, QUIC_TAG_LEN);
	nonce_for(&k, h->pn, nonce);
	if (gcm(false, k.key, nonce, buf, hl, dgram + hl, ctlen, buf + hl,
	    tag) != 0) {
		rc = QUIC_E_DECRYPT;
		goto out;
	}
	rc = read_frames(buf + hl, ctlen, crypto, cap, clen);
out:
	OPENSSL_cleanse(&k, sizeof(k));
	free(buf);
	return rc;
}

int
quic_initial_sni(const uint8_t *dgram, size_t n, char *sni, size_t cap)
{
	uint8_t crypto[TLS_HELLO_CAP * 2];
	tls_hello_t th;
	quic_hdr_t h;
	size_t clen, l;
	int rc;

	if (cap > 0)
		sni[0] = '\0';
	if ((rc = quic_initial_open(dgram, n, &h, crypto, sizeof(crypto),
	    &clen)) != 0)
		return rc;
	if (tls_hello_parse(crypto, clen, &th, NULL) != ZE_OK)
		return QUIC_E_HELLO;
	if (th.sni[0] == '\0')
		return QUIC_E_NO_SNI;
	l = strlen(th.sni);
	if (l >= cap)
		return QUIC_E_CAP;
	memcpy(sni, th.sni, l + 1);
	return 0;
}

zerr_t
quic_retry(const quic_hdr_t *client, const uint8_t *scid, size_t scid_len,
    const uint8_t *token, size_t tlen, uint8_t *out, size_t cap, size_t *n,
    zdiag_t *d)
{
	uint8_t pseudo[1 + QUIC_CID_MAX + 1 + 4 + 2 * (1 + QUIC_CID_MAX) +
	    256];
	size_t o = 0, total;

	*n = 0;
	if (client->dcid_len > QUIC_CID_MAX || client->scid_len >
	    QUIC_CID_MAX || scid_len > QUIC_CID_MAX || tlen > 256)
		return zdiag_set(d, ZE_INVAL, "quic: Retry ids over 20 bytes "
		    "or token over 256");
	total = 1 + 4 + 1 + client->scid_len + 1 + scid_len + tlen +
	    QUIC_TAG_LEN;
	if (total > cap)
		return zdiag_set(d, ZE_TOOBIG, "quic: Retry of %zu bytes does "
		    "not fit in %zu", total, cap);
	/* the pseudo-packet: ODCID length and ODCID, then the Retry */
	pseudo[o++] = (uint8_t)client->dcid_len;
	memcpy(pseudo + o, client->dcid, client->dcid_len);
	o += client->dcid_len;
	{
		size_t r0 = o;
		pseudo[o++] = 0xff;	/* long, fixed, Retry; unused bits set
					 * as in RFC 9001 A.4 */
		be32_put(pseudo + o, QUIC_V1);
		o += 4;
		pseudo[o++] = (uint8_t)client->scid_len;
		memcpy(pseudo + o, client->scid, client->scid_len);
		o += client->scid_len;
		pseudo[o++] = (uint8_t)scid_len;
		memcpy(pseudo + o, scid, scid_len);
		o += scid_len;
		memcpy(pseudo + o, token, tlen);
		o += tlen;
		memcpy(out, pseudo + r0, o - r0);
		if (gcm(true, retry_key_v1, retry_nonce_v1, pseudo, o, NULL,
		    0, NULL, out + (o - r0)) != 0)
			return zdiag_set(d, ZE_CRYPTO, "quic: AES-128-GCM "
			    "failed");
	}
	*n = total;
	return ZE_OK;
}
