/*
 * tlshello.c — ClientHello builder, parser and shape classifier
 * (tlshello.h; the shapes' figures and sources are in
 * docs/PROBES-TCP.md).
 *
 * The builder writes through a bounded writer that records overflow
 * instead of writing past `cap`; lengths are back-patched once each
 * nested part is done.  The parser reads through breader (lib/bytes.h)
 * and takes an extension only when all of its bytes are there.
 */
#include "tlshello.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"

/* --- the shapes' figures ------------------------------------------------ */

/* OpenSSL 3.0.x (Debian 12) through libcurl 7.88, captured from a real
 * ClientHello; the order is OpenSSL's default cipher string. */
static const uint16_t openssl_ciphers[] = {
	0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8,
	0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023,
	0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033,
	0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
};
/* Its extension order; 35 (session_ticket) and 16 (ALPN) appear only
 * when enabled, 21 (padding) only for hellos of 256-511 bytes. */
static const uint16_t openssl_exts[] = {
	TLS_EXT_SNI, TLS_EXT_POINTS, TLS_EXT_GROUPS, TLS_EXT_TICKET,
	TLS_EXT_ALPN, TLS_EXT_ETM, TLS_EXT_EMS, TLS_EXT_PHA, TLS_EXT_SIGALGS,
	TLS_EXT_VERSIONS, TLS_EXT_PSK_MODES, TLS_EXT_KEY_SHARE,
	TLS_EXT_PADDING,
};
static const uint16_t openssl_groups[] = {
	0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102,
	0x0103, 0x0104,
};
static const uint16_t openssl_sigalgs[] = {
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b,
	0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301,
	0x0302, 0x0402, 0x0502, 0x0602,
};
static const uint16_t openssl_versions[] = { 0x0304, 0x0303, 0x0302,
	0x0301 };

/* Chromium 110-123 (BoringSSL) without the GREASE entries, which are
 * added where Chromium puts them. */
static const uint16_t browser_ciphers[] = {
	0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
	0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
/* The order sent (Chromium's before it began permuting extensions in
 * 110; it permutes them per connection since, so the classifier
 * compares the set).  GREASE first and before padding. */
static const uint16_t browser_exts[] = {
	TLS_EXT_SNI, TLS_EXT_EMS, TLS_EXT_RENEGO, TLS_EXT_GROUPS,
	TLS_EXT_POINTS, TLS_EXT_TICKET, TLS_EXT_ALPN, TLS_EXT_STATUS,
	TLS_EXT_SIGALGS, TLS_EXT_SCT, TLS_EXT_KEY_SHARE, TLS_EXT_PSK_MODES,
	TLS_EXT_VERSIONS, TLS_EXT_COMPRESS_CERT, TLS_EXT_ALPS,
	TLS_EXT_PADDING,
};
static const uint16_t browser_groups[] = { 0x001d, 0x0017, 0x0018 };
static const uint16_t browser_sigalgs[] = {
	0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
};

static const uint16_t quic_ciphers[] = { 0x1301, 0x1302, 0x1303 };
static const uint16_t quic_exts[] = {
	TLS_EXT_SNI, TLS_EXT_GROUPS, TLS_EXT_SIGALGS, TLS_EXT_ALPN,
	TLS_EXT_VERSIONS, TLS_EXT_PSK_MODES, TLS_EXT_KEY_SHARE,
	TLS_EXT_QUIC_TP,
};

/* --- writer -------------------------------------------------------------- */

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool over;
};

static void
w_bytes(struct wr *w, const void *b, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return;
	}
	if (n == 0)
		return;
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void
w_u8(struct wr *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	w_bytes(w, &b, 1);
}

static void
w_u16(struct wr *w, unsigned v)
{
	uint8_t b[2];

	be16_put(b, (uint16_t)v);
	w_bytes(w, b, 2);
}

static void
w_rand(struct wr *w, size_t n)
{
	uint8_t b[32];

	ZASSERT(n <= sizeof(b));
	randombytes_buf(b, n);
	w_bytes(w, b, n);
}

/* Open a length field of `size` bytes; close it with w_close(). */
static size_t
w_open(struct wr *w, size_t size)
{
	size_t at = w->len;
	uint8_t z[3] = { 0, 0, 0 };

	w_bytes(w, z, size);
	return at;
}

static void
w_close(struct wr *w, size_t at, size_t size)
{
	size_t v;

	if (w->over)
		return;
	v = w->len - at - size;
	if (size == 1)
		w->p[at] = (uint8_t)v;
	else if (size == 2)
		be16_put(w->p + at, (uint16_t)v);
	else {
		w->p[at] = (uint8_t)(v >> 16);
		be16_put(w->p + at + 1, (uint16_t)v);
	}
}

static void
w_list16(struct wr *w, const uint16_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w_u16(w, v[i]);
}

/* A GREASE value other than `not` (Chromium never repeats the value of
 * the first GREASE extension in the second). */
static uint16_t
grease(uint16_t not)
{
	uint16_t g;

	do {
		uint32_t i = randombytes_uniform(16);
		g = (uint16_t)(i << 12 | i << 4 | 0x0a0a);
	} while (g == not);
	return g;
}

/* --- builder ------------------------------------------------------------- */

static zerr_t
check_sni(const char *s, zdiag_t *d)
{
	size_t i, n = strlen(s), label = 0;

	if (n > 253)
		return zdiag_set(d, ZE_INVAL, "ClientHello: SNI '%.40s...' "
		    "is %zu bytes, over 253", s, n);
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return zdiag_set(d, ZE_INVAL, "ClientHello: "
				    "SNI '%s' has an empty label", s);
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return zdiag_set(d, ZE_INVAL, "ClientHello: SNI '%s' "
			    "has character 0x%02x at %zu", s,
			    (unsigned)(unsigned char)c, i);
		label++;
	}
	if (label == 0)
		return zdiag_set(d, ZE_INVAL, "ClientHello: SNI '%s' has an "
		    "empty label", s);
	return ZE_OK;
}

static zerr_t
ext_alpn(struct wr *w, const char *alpn, zdiag_t *d)
{
	const char *p = alpn, *c;
	size_t at, l;

	w_u16(w, TLS_EXT_ALPN);
	at = w_open(w, 2);
	{
		size_t lat = w_open(w, 2);
		for (;;) {
			c = strchr(p, ',');
			l = c != NULL ? (size_t)(c - p) : strlen(p);
			if (l == 0 || l > 31)
				return zdiag_set(d, ZE_INVAL, "ClientHello: "
				    "ALPN list '%s': a name is empty or over "
				    "31 bytes", alpn);
			w_u8(w, (unsigned)l);
			w_bytes(w, p, l);
			if (c == NULL)
				break;
			p = c + 1;
		}
		w_close(w, lat, 2);
	}
	w_close(w, at, 2);
	return ZE_OK;
}

static void
ext_sni(struct wr *w, const char *sni)
{
	size_t at, lat;

	w_u16(w, TLS_EXT_SNI);
	at = w_open(w, 2);
	lat = w_open(w, 2);
	w_u8(w, 0);			/* host_name */
	w_u16(w, (unsigned)strlen(sni));
	w_bytes(w, sni, strlen(sni));
	w_close(w, lat, 2);
	w_close(w, at, 2);
}

/* An extension whose body is a 2-byte-length list of 16-bit values
 * (after an optional leading GREASE value). */
static void
ext_list16(struct wr *w, unsigned type, uint16_t g, const uint16_t *v,
    size_t n)
{
	size_t at, lat;

	w_u16(w, type);
	at = w_open(w, 2);
	lat = w_open(w, 2);
	if (g != 0)
		w_u16(w, g);
	w_list16(w, v, n);
	w_close(w, lat, 2);
	w_close(w, at, 2);
}

static void
ext_versions(struct wr *w, uint16_t g, const uint16_t *v, size_t n)
{
	size_t at, lat;

	w_u16(w, TLS_EXT_VERSIONS);
	at = w_open(w, 2);
	lat = w_open(w, 1);
	if (g != 0)
		w_u16(w, g);
	w_list16(w, v, n);
	w_close(w, lat, 1);
	w_close(w, at, 2);
}

static void
ext_key_share(struct wr *w, uint16_t g)
{
	size_t at, lat;

	w_u16(w, TLS_EXT_KEY_SHARE);
	at = w_open(w, 2);
	lat = w_open(w, 2);
	if (g != 0) {			/* Chromium: GREASE with one 0 byte */
		w_u16(w, g);
		w_u16(w, 1);
		w_u8(w, 0);
	}
	w_u16(w, 0x001d);		/* x25519 */
	w_u16(w, 32);
	w_rand(w, 32);
	w_close(w, lat, 2);
	w_close(w, at, 2);
}

static void
ext_raw(struct wr *w, unsigned type, const void *b, size_t n)
{
	w_u16(w, type);
	w_u16(w, (unsigned)n);
	w_bytes(w, b, n);
}

/* RFC 7685 padding as OpenSSL and BoringSSL add it: a hello whose
 * handshake message is 256-511 bytes is padded to 512 (the F5 bug
 * workaround); min is the smallest body (BoringSSL 1, OpenSSL 0). */
static void
ext_padding(struct wr *w, size_t msg_start, size_t min)
{
	static const uint8_t zero[512];
	size_t l = w->len - msg_start, pad;

	if (w->over || l <= 0xff || l >= 0x200)
		return;
	pad = 0x200 - l;
	pad = pad >= 4 + min ? pad - 4 : min;
	ext_raw(w, TLS_EXT_PADDING, zero, pad);
}

static zerr_t
build_exts(const tls_hello_opts_t *o, struct wr *w, size_t msg_start,
    zdiag_t *d)
{
	const char *sni = o->sni != NULL && *o->sni != '\0' ? o->sni : NULL;
	static const uint8_t points[] = { 1, 0 }, points3[] = { 3, 0, 1, 2 };
	static const uint8_t reneg[] = { 0 }, psk[] = { 1, 1 };
	static const uint8_t status[] = { 1, 0, 0, 0, 0 };
	static const uint8_t brotli[] = { 2, 0, 2 };
	static const uint8_t alps_h2[] = { 0, 3, 2, 'h', '2' };
	static const uint8_t grease_last[] = { 0 };
	uint16_t g1, gx;
	zerr_t e;

	switch (o->shape) {
	case TLS_SHAPE_OPENSSL:
		if (sni != NULL)
			ext_sni(w, sni);
		ext_raw(w, TLS_EXT_POINTS, points3, sizeof(points3));
		ext_list16(w, TLS_EXT_GROUPS, 0, openssl_groups,
		    ZARRAY_LEN(openssl_groups));
		/* libcurl offers h2 when built with nghttp2 (Debian's is) */
		if ((e = ext_alpn(w, o->alpn != NULL ? o->alpn :
		    "h2,http/1.1", d)) != ZE_OK)
			return e;
		ext_raw(w, TLS_EXT_ETM, NULL, 0);
		ext_raw(w, TLS_EXT_EMS, NULL, 0);
		ext_raw(w, TLS_EXT_PHA, NULL, 0);
		ext_list16(w, TLS_EXT_SIGALGS, 0, openssl_sigalgs,
		    ZARRAY_LEN(openssl_sigalgs));
		ext_versions(w, 0, openssl_versions,
		    ZARRAY_LEN(openssl_versions));
		ext_raw(w, TLS_EXT_PSK_MODES, psk, sizeof(psk));
		ext_key_share(w, 0);
		ext_padding(w, msg_start, 0);
		return ZE_OK;
	case TLS_SHAPE_BROWSER:
		g1 = grease(0);
		ext_raw(w, g1, NULL, 0);
		if (sni != NULL)
			ext_sni(w, sni);
		ext_raw(w, TLS_EXT_EMS, NULL, 0);
		ext_raw(w, TLS_EXT_RENEGO, reneg, sizeof(reneg));
		gx = grease(0);
		ext_list16(w, TLS_EXT_GROUPS, gx, browser_groups,
		    ZARRAY_LEN(browser_groups));
		ext_raw(w, TLS_EXT_POINTS, points, sizeof(points));
		ext_raw(w, TLS_EXT_TICKET, NULL, 0);
		if ((e = ext_alpn(w, o->alpn != NULL ? o->alpn :
		    "h2,http/1.1", d)) != ZE_OK)
			return e;
		ext_raw(w, TLS_EXT_STATUS, status, sizeof(status));
		ext_list16(w, TLS_EXT_SIGALGS, 0, browser_sigalgs,
		    ZARRAY_LEN(browser_sigalgs));
		ext_raw(w, TLS_EXT_SCT, NULL, 0);
		ext_key_share(w, gx);
		ext_raw(w, TLS_EXT_PSK_MODES, psk, sizeof(psk));
		{
			static const uint16_t v[] = { 0x0304, 0x0303 };
			ext_versions(w, grease(0), v, ZARRAY_LEN(v));
		}
		ext_raw(w, TLS_EXT_COMPRESS_CERT, brotli, sizeof(brotli));
		ext_raw(w, TLS_EXT_ALPS, alps_h2, sizeof(alps_h2));
		ext_raw(w, grease(g1), grease_last, sizeof(grease_last));
		ext_padding(w, msg_start, 1);
		return ZE_OK;
	case TLS_SHAPE_QUIC:
		if (sni != NULL)
			ext_sni(w, sni);
		ext_list16(w, TLS_EXT_GROUPS, 0, browser_groups,
		    ZARRAY_LEN(browser_groups));
		ext_list16(w, TLS_EXT_SIGALGS, 0, browser_sigalgs,
		    ZARRAY_LEN(browser_sigalgs));
		if ((e = ext_alpn(w, o->alpn != NULL ? o->alpn : "h3",
		    d)) != ZE_OK)
			return e;
		{
			static const uint16_t v[] = { 0x0304 };
			ext_versions(w, 0, v, ZARRAY_LEN(v));
		}
		ext_raw(w, TLS_EXT_PSK_MODES, psk, sizeof(psk));
		ext_key_share(w, 0);
		ext_raw(w, TLS_EXT_QUIC_TP, o->quic_tp, o->quic_tp_len);
		return ZE_OK;
	case TLS_SHAPE_OTHER:
		break;
	}
	return zdiag_set(d, ZE_INVAL, "ClientHello: no builder for shape "
	    "%d", (int)o->shape);
}

zerr_t
tls_hello_build(const tls_hello_opts_t *o, bool record, uint8_t *out,
    size_t cap, size_t *n, zdiag_t *d)
{
	struct wr w = { out, cap, 0, false };
	size_t rec = 0, msg, body, exts;
	const uint16_t *c;
	size_t nc;
	zerr_t e;

	*n = 0;
	if (o->sni != NULL && *o->sni != '\0' &&
	    (e = check_sni(o->sni, d)) != ZE_OK)
		return e;
	if (o->shape == TLS_SHAPE_QUIC && o->quic_tp_len > 1024)
		return zdiag_set(d, ZE_INVAL, "ClientHello: %zu bytes of "
		    "QUIC transport parameters, over 1024", o->quic_tp_len);
	if (record) {
		w_u8(&w, 22);			/* handshake */
		w_u16(&w, 0x0301);		/* as OpenSSL and Chromium */
		rec = w_open(&w, 2);
	}
	msg = w.len;
	w_u8(&w, 1);				/* client_hello */
	body = w_open(&w, 3);
	w_u16(&w, 0x0303);
	w_rand(&w, 32);
	if (o->shape == TLS_SHAPE_QUIC) {
		w_u8(&w, 0);		/* RFC 9001 8.4: no session id */
	} else {
		w_u8(&w, 32);
		w_rand(&w, 32);
	}
	switch (o->shape) {
	case TLS_SHAPE_OPENSSL:
		c = openssl_ciphers;
		nc = ZARRAY_LEN(openssl_ciphers);
		break;
	case TLS_SHAPE_BROWSER:
		c = browser_ciphers;
		nc = ZARRAY_LEN(browser_ciphers);
		break;
	default:
		c = quic_ciphers;
		nc = ZARRAY_LEN(quic_ciphers);
		break;
	}
	w_u16(&w, (unsigned)(2 * (nc + (o->shape == TLS_SHAPE_BROWSER))));
	if (o->shape == TLS_SHAPE_BROWSER)
		w_u16(&w, grease(0));
	w_list16(&w, c, nc);
	w_u8(&w, 1);				/* compression: null */
	w_u8(&w, 0);
	exts = w_open(&w, 2);
	if ((e = build_exts(o, &w, msg, d)) != ZE_OK)
		return e;
	w_close(&w, exts, 2);
	w_close(&w, body, 3);
	if (record)
		w_close(&w, rec, 2);
	if (w.over)
		return zdiag_set(d, ZE_TOOBIG, "ClientHello: does not fit in "
		    "%zu bytes", cap);
	*n = w.len;
	return ZE_OK;
}

/* --- parser -------------------------------------------------------------- */

static void
keep16(uint16_t *a, size_t *n, size_t cap, uint16_t v, bool *overflow)
{
	if (*n < cap)
		a[(*n)++] = v;
	else
		*overflow = true;
}

static zerr_t
parse_ext(tls_hello_t *h, uint16_t type, const uint8_t *b, size_t len,
    size_t at, zdiag_t *d)
{
	breader_t r;
	size_t l, i;

	br_init(&r, b, len);
	switch (type) {
	case TLS_EXT_SNI:
		l = br_be16(&r);
		while (br_error(&r) == ZE_OK && br_left(&r) > 0 && l > 0) {
			uint8_t t = br_u8(&r);
			size_t nl = br_be16(&r);
			const uint8_t *name = br_ptr(&r, nl);
			if (name == NULL)
				break;
			if (t != 0 || h->sni[0] != '\0')
				continue;
			if (nl == 0 || nl >= sizeof(h->sni))
				return zdiag_set(d, ZE_PARSE, "ClientHello: "
				    "server_name of %zu bytes at byte %zu",
				    nl, at);
			for (i = 0; i < nl; i++)
				if (name[i] <= 0x20 || name[i] >= 0x7f)
					return zdiag_set(d, ZE_PARSE,
					    "ClientHello: server_name byte "
					    "0x%02x at byte %zu", name[i],
					    at + 5 + i);
			memcpy(h->sni, name, nl);
			h->sni[nl] = '\0';
		}
		break;
	case TLS_EXT_GROUPS:
		l = br_be16(&r) / 2;
		for (i = 0; i < l && br_left(&r) >= 2; i++)
			keep16(h->groups, &h->n_groups, TLS_HELLO_SHORT,
			    br_be16(&r), &h->overflow);
		break;
	case TLS_EXT_KEY_SHARE:
		(void)br_be16(&r);
		while (br_left(&r) >= 4) {
			uint16_t g = br_be16(&r);
			br_skip(&r, br_be16(&r));
			if (br_error(&r) != ZE_OK)
				break;
			keep16(h->key_shares, &h->n_key_shares,
			    TLS_HELLO_SHORT, g, &h->overflow);
		}
		break;
	case TLS_EXT_VERSIONS:
		l = br_u8(&r) / 2;
		for (i = 0; i < l && br_left(&r) >= 2; i++)
			keep16(h->versions, &h->n_versions, TLS_HELLO_SHORT,
			    br_be16(&r), &h->overflow);
		break;
	case TLS_EXT_ALPN:
		(void)br_be16(&r);
		while (br_left(&r) > 0) {
			size_t nl = br_u8(&r);
			const uint8_t *name = br_ptr(&r, nl);
			if (name == NULL)
				break;
			if (h->n_alpn == TLS_HELLO_ALPN ||
			    nl >= sizeof(h->alpn[0])) {
				h->overflow = true;
				continue;
			}
			memcpy(h->alpn[h->n_alpn], name, nl);
			h->alpn[h->n_alpn++][nl] = '\0';
		}
		break;
	default:
		break;
	}
	return ZE_OK;
}

zerr_t
tls_hello_parse(const uint8_t *p, size_t n, tls_hello_t *h, zdiag_t *d)
{
	breader_t r;
	size_t mlen, end, l, i;
	const uint8_t *b;
	zerr_t e;

	memset(h, 0, sizeof(*h));
	br_init(&r, p, n);
	if (n >= 1 && p[0] != 1)
		return zdiag_set(d, ZE_PARSE, "ClientHello: handshake type "
		    "%u at byte 0, not 1 (client_hello)", p[0]);
	(void)br_u8(&r);
	mlen = (size_t)br_u8(&r) << 16;
	mlen |= br_be16(&r);
	h->version = br_be16(&r);
	br_skip(&r, 32);
	h->session_id_len = br_u8(&r);
	if (h->session_id_len > 32)
		return zdiag_set(d, ZE_PARSE, "ClientHello: session id of %u "
		    "bytes at byte 38, over 32", h->session_id_len);
	br_skip(&r, h->session_id_len);
	l = br_be16(&r);
	if (br_error(&r) != ZE_OK)
		return zdiag_set(d, ZE_TRUNC, "ClientHello: %zu bytes end "
		    "before the cipher suites", n);
	end = 4 + mlen;
	if (end > n) {
		h->truncated = true;
		end = n;
	}
	if (l % 2 != 0 || l == 0)
		return zdiag_set(d, ZE_PARSE, "ClientHello: cipher_suites "
		    "length %zu at byte %zu is %s", l, r.pos - 2,
		    l == 0 ? "zero" : "odd");
	for (i = 0; i < l / 2 && r.pos + 2 <= end; i++)
		keep16(h->ciphers, &h->n_ciphers, TLS_HELLO_LIST,
		    br_be16(&r), &h->overflow);
	if (i < l / 2)
		goto short_;
	if (r.pos + 1 > end)
		goto short_;
	l = br_u8(&r);
	if (r.pos + l > end)
		goto short_;
	br_skip(&r, l);
	if (r.pos == end && !h->truncated)
		return ZE_OK;		/* no extensions at all */
	if (r.pos + 2 > end)
		goto short_;
	l = br_be16(&r);
	if (!h->truncated && r.pos + l != end)
		return zdiag_set(d, ZE_PARSE, "ClientHello: extensions "
		    "length %zu at byte %zu does not end the message (%zu "
		    "bytes left)", l, r.pos - 2, end - r.pos);
	while (r.pos + 4 <= end) {
		size_t at = r.pos;
		uint16_t type = br_be16(&r);
		size_t el = br_be16(&r);
		if (r.pos + el > end) {
			if (!h->truncated)
				return zdiag_set(d, ZE_PARSE, "ClientHello: "
				    "extension %u at byte %zu runs %zu bytes "
				    "past the message", type, at,
				    r.pos + el - end);
			break;
		}
		b = br_ptr(&r, el);
		keep16(h->exts, &h->n_exts, TLS_HELLO_LIST, type,
		    &h->overflow);
		if ((e = parse_ext(h, type, b, el, at, d)) != ZE_OK)
			return e;
	}
	if (!h->truncated && r.pos != end)
		return zdiag_set(d, ZE_PARSE, "ClientHello: %zu stray bytes "
		    "at byte %zu", end - r.pos, r.pos);
	return ZE_OK;
short_:
	if (!h->truncated)
		return zdiag_set(d, ZE_PARSE, "ClientHello: a field at byte "
		    "%zu runs past the message's %zu bytes", r.pos, mlen);
	return ZE_OK;
}

zerr_t
tls_hello_parse_record(const uint8_t *p, size_t n, tls_hello_t *h,
    zdiag_t *d)
{
	uint8_t buf[TLS_HELLO_CAP * 4];
	size_t off = 0, len = 0, rl, take;

	while (off < n && len < sizeof(buf)) {
		if (n - off < 5)
			break;
		if (p[off] != 22)
			return zdiag_set(d, ZE_PARSE, "ClientHello: TLS record "
			    "type %u at byte %zu, not 22 (handshake)",
			    p[off], off);
		if (p[off + 1] != 3)
			return zdiag_set(d, ZE_PARSE, "ClientHello: record "
			    "version %02x%02x at byte %zu", p[off + 1],
			    p[off + 2], off + 1);
		rl = be16_get(p + off + 3);
		off += 5;
		take = rl < n - off ? rl : n - off;
		if (take > sizeof(buf) - len)
			take = sizeof(buf) - len;
		memcpy(buf + len, p + off, take);
		len += take;
		off += take;
		if (take < rl)
			break;
	}
	if (len == 0)
		return zdiag_set(d, ZE_TRUNC, "ClientHello: no handshake "
		    "record in %zu bytes", n);
	return tls_hello_parse(buf, len, h, d);
}

/* --- shapes -------------------------------------------------------------- */

static bool
has(const uint16_t *a, size_t n, uint16_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return true;
	return false;
}

/* a[0..n) without GREASE equals want[0..wn)? */
static bool
same_list(const uint16_t *a, size_t n, const uint16_t *want, size_t wn)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		if (tls_is_grease(a[i]))
			continue;
		if (j == wn || a[i] != want[j])
			return false;
		j++;
	}
	return j == wn;
}

/* Is a[0..n) (no GREASE) a subsequence of ref[0..rn)? */
static bool
in_order(const uint16_t *a, size_t n, const uint16_t *ref, size_t rn)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		while (j < rn && ref[j] != a[i])
			j++;
		if (j == rn)
			return false;
		j++;
	}
	return true;
}

enum tls_shape
tls_hello_shape(const tls_hello_t *h)
{
	size_t i, ng = 0, gc = 0;

	if (h->overflow || h->n_ciphers == 0)
		return TLS_SHAPE_OTHER;
	for (i = 0; i < h->n_exts; i++)
		ng += tls_is_grease(h->exts[i]);
	for (i = 0; i < h->n_ciphers; i++)
		gc += tls_is_grease(h->ciphers[i]);
	/* browser: GREASE leading the ciphers and among the extensions,
	 * Chromium's ciphers, and extensions all from Chromium's set
	 * (its order is permuted per connection since Chromium 110),
	 * including compress_certificate, supported_versions, key_share */
	if (tls_is_grease(h->ciphers[0]) && ng > 0 &&
	    same_list(h->ciphers, h->n_ciphers, browser_ciphers,
	    ZARRAY_LEN(browser_ciphers)) &&
	    has(h->exts, h->n_exts, TLS_EXT_COMPRESS_CERT) &&
	    has(h->exts, h->n_exts, TLS_EXT_VERSIONS) &&
	    has(h->exts, h->n_exts, TLS_EXT_KEY_SHARE)) {
		for (i = 0; i < h->n_exts; i++)
			if (!tls_is_grease(h->exts[i]) &&
			    !has(browser_exts, ZARRAY_LEN(browser_exts),
			    h->exts[i]))
				return TLS_SHAPE_OTHER;
		return TLS_SHAPE_BROWSER;
	}
	if (ng > 0 || gc > 0)
		return TLS_SHAPE_OTHER;
	/* openssl: exactly its ciphers, extensions in its order with the
	 * ones it always sends */
	if (same_list(h->ciphers, h->n_ciphers, openssl_ciphers,
	    ZARRAY_LEN(openssl_ciphers)) &&
	    in_order(h->exts, h->n_exts, openssl_exts,
	    ZARRAY_LEN(openssl_exts)) &&
	    has(h->exts, h->n_exts, TLS_EXT_ETM) &&
	    has(h->exts, h->n_exts, TLS_EXT_EMS) &&
	    has(h->exts, h->n_exts, TLS_EXT_VERSIONS) &&
	    has(h->exts, h->n_exts, TLS_EXT_KEY_SHARE))
		return TLS_SHAPE_OPENSSL;
	/* quic: our Initial's hello, the three TLS 1.3 suites and the
	 * transport parameters */
	if (same_list(h->ciphers, h->n_ciphers, quic_ciphers,
	    ZARRAY_LEN(quic_ciphers)) &&
	    in_order(h->exts, h->n_exts, quic_exts, ZARRAY_LEN(quic_exts)) &&
	    has(h->exts, h->n_exts, TLS_EXT_QUIC_TP))
		return TLS_SHAPE_QUIC;
	return TLS_SHAPE_OTHER;
}

static const char *const shape_names[] = {
	[TLS_SHAPE_OPENSSL] = "openssl",
	[TLS_SHAPE_BROWSER] = "browser",
	[TLS_SHAPE_QUIC] = "quic",
	[TLS_SHAPE_OTHER] = "other",
};

const char *
tls_shape_name(enum tls_shape s)
{
	return (unsigned)s < ZARRAY_LEN(shape_names) ? shape_names[s] :
	    "other";
}

zerr_t
tls_shape_parse(const char *name, enum tls_shape *s, zdiag_t *d)
{
	unsigned i;

	for (i = 0; i < TLS_SHAPE_OTHER; i++)
		if (name != NULL && strcmp(name, shape_names[i]) == 0) {
			*s = (enum tls_shape)i;
			return ZE_OK;
		}
	return zdiag_set(d, ZE_INVAL, "unknown ClientHello shape '%s' "
	    "(openssl, browser, quic)", name != NULL ? name : "");
}
