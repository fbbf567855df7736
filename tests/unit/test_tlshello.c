/*
 * test_tlshello — the ClientHello builder's shapes parsed back and
 * classified, the padding rule, and the parser's refusals (naming the
 * field and byte) and its handling of a hello cut short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "tlshello.h"

static size_t
build(enum tls_shape s, const char *sni, const char *alpn, bool record,
    uint8_t *out, size_t cap)
{
	tls_hello_opts_t o;
	size_t n = 0;
	zdiag_t d;

	memset(&o, 0, sizeof(o));
	o.shape = s;
	o.sni = sni;
	o.alpn = alpn;
	if (s == TLS_SHAPE_QUIC) {
		o.quic_tp = (const uint8_t *)"\x04\x01\x10";
		o.quic_tp_len = 3;
	}
	assert_int_equal(tls_hello_build(&o, record, out, cap, &n, &d),
	    ZE_OK);
	return n;
}

static size_t
index_of(const uint16_t *a, size_t n, uint16_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return i;
	return n;
}

static void
t_browser(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_BROWSER, "www.youtube.com", NULL, true, b,
	    sizeof(b));
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	/* a record holding a handshake message padded to 512 bytes */
	assert_int_equal(b[0], 22);
	assert_int_equal(be16_get(b + 3), n - 5);
	assert_int_equal(n - 5, 512);
	assert_int_equal(tls_hello_parse_record(b, n, &h, &d), ZE_OK);
	assert_string_equal(h.sni, "www.youtube.com");
	assert_true(tls_is_grease(h.ciphers[0]));
	assert_int_equal(h.ciphers[1], 0x1301);
	assert_int_equal(h.n_ciphers, 16);
	assert_true(tls_is_grease(h.exts[0]));
	assert_int_equal(h.exts[h.n_exts - 1], TLS_EXT_PADDING);
	assert_true(tls_is_grease(h.exts[h.n_exts - 2]));
	assert_int_not_equal(h.exts[0], h.exts[h.n_exts - 2]);
	assert_int_equal(h.n_alpn, 2);
	assert_string_equal(h.alpn[0], "h2");
	assert_string_equal(h.alpn[1], "http/1.1");
	assert_int_equal(h.n_groups, 4);
	assert_true(tls_is_grease(h.groups[0]));
	assert_int_equal(h.groups[1], 0x001d);
	assert_int_equal(h.groups[2], 0x0017);
	assert_int_equal(h.groups[3], 0x0018);
	assert_int_equal(h.n_key_shares, 2);
	assert_int_equal(h.key_shares[1], 0x001d);
	assert_true(tls_is_grease(h.versions[0]));
	assert_int_equal(h.versions[1], 0x0304);
	assert_true(index_of(h.exts, h.n_exts, TLS_EXT_COMPRESS_CERT) <
	    h.n_exts);
	assert_true(index_of(h.exts, h.n_exts, TLS_EXT_ALPS) < h.n_exts);
	assert_int_equal(tls_hello_shape(&h), TLS_SHAPE_BROWSER);
	assert_string_equal(tls_shape_name(tls_hello_shape(&h)), "browser");
	/* without GREASE it is no browser */
	h.ciphers[0] = 0x00ff;
	assert_int_equal(tls_hello_shape(&h), TLS_SHAPE_OTHER);
}

static void
t_openssl(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_OPENSSL, "example.com", NULL, true, b,
	    sizeof(b));
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	assert_int_equal(n - 5, 512);	/* OpenSSL pads to 512 as well */
	assert_int_equal(tls_hello_parse_record(b, n, &h, &d), ZE_OK);
	assert_int_equal(h.n_ciphers, 31);
	assert_int_equal(h.ciphers[0], 0x1302);
	assert_int_equal(h.ciphers[30], 0x00ff);
	assert_int_equal(h.exts[0], TLS_EXT_SNI);
	assert_int_equal(h.exts[1], TLS_EXT_POINTS);
	assert_int_equal(h.n_versions, 4);
	assert_int_equal(tls_hello_shape(&h), TLS_SHAPE_OPENSSL);
	/* a reordered extension list is another client */
	h.exts[0] = TLS_EXT_POINTS;
	h.exts[1] = TLS_EXT_SNI;
	assert_int_equal(tls_hello_shape(&h), TLS_SHAPE_OTHER);
}

static void
t_quic_shape(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_QUIC, "a.example", NULL, false, b,
	    sizeof(b));
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	assert_int_equal(b[0], 1);
	assert_int_equal(tls_hello_parse(b, n, &h, &d), ZE_OK);
	assert_int_equal(h.session_id_len, 0);
	assert_string_equal(h.alpn[0], "h3");
	assert_int_equal(h.exts[h.n_exts - 1], TLS_EXT_QUIC_TP);
	assert_int_equal(tls_hello_shape(&h), TLS_SHAPE_QUIC);
}

static void
t_build_refused(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	tls_hello_opts_t o;
	char longname[300];
	size_t n;
	zdiag_t d;
	enum tls_shape s;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.shape = TLS_SHAPE_BROWSER;
	o.sni = "bad..name";
	assert_int_equal(tls_hello_build(&o, true, b, sizeof(b), &n, &d),
	    ZE_INVAL);
	assert_non_null(strstr(d.text, "empty label"));
	o.sni = "sp ace.com";
	assert_int_equal(tls_hello_build(&o, true, b, sizeof(b), &n, &d),
	    ZE_INVAL);
	assert_non_null(strstr(d.text, "0x20 at 2"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	o.sni = longname;
	assert_int_equal(tls_hello_build(&o, true, b, sizeof(b), &n, &d),
	    ZE_INVAL);
	o.sni = "ok.example";
	o.alpn = "h2,,x";
	assert_int_equal(tls_hello_build(&o, true, b, sizeof(b), &n, &d),
	    ZE_INVAL);
	assert_non_null(strstr(d.text, "ALPN list 'h2,,x'"));
	o.alpn = NULL;
	assert_int_equal(tls_hello_build(&o, true, b, 100, &n, &d),
	    ZE_TOOBIG);
	assert_int_equal(tls_shape_parse("chrome", &s, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "'chrome'"));
	assert_int_equal(tls_shape_parse("browser", &s, &d), ZE_OK);
	assert_int_equal(s, TLS_SHAPE_BROWSER);
}

static void
t_parse_refused(void **state)
{
	uint8_t b[TLS_HELLO_CAP], c[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_OPENSSL, "example.com", NULL, false, b,
	    sizeof(b));
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	memcpy(c, b, n);
	c[0] = 2;			/* ServerHello */
	assert_int_equal(tls_hello_parse(c, n, &h, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "handshake type 2"));
	memcpy(c, b, n);
	c[4 + 2 + 32] = 33;		/* session id too long */
	assert_int_equal(tls_hello_parse(c, n, &h, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "session id of 33"));
	memcpy(c, b, n);
	c[4 + 2 + 32 + 1 + 32 + 1] ^= 1;	/* odd cipher length */
	assert_int_equal(tls_hello_parse(c, n, &h, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "is odd"));
	/* message length one short of the extensions: they overrun it */
	memcpy(c, b, n);
	be16_put(c + 2, (uint16_t)(be16_get(c + 2) - 1));
	assert_int_equal(tls_hello_parse(c, n - 1, &h, &d), ZE_PARSE);
	assert_int_equal(tls_hello_parse(b, 20, &h, &d), ZE_TRUNC);
	/* a record of the wrong type */
	memcpy(c, "\x17\x03\x03\x00\x05hello", 10);
	assert_int_equal(tls_hello_parse_record(c, 10, &h, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "record type 23"));
}

/* A hello cut after its SNI still gives the SNI, marked truncated; cut
 * inside the SNI, no SNI. */
static void
t_truncated(void **state)
{
	uint8_t b[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_OPENSSL, "example.com", NULL, false, b,
	    sizeof(b));
	size_t sni_end = 4 + 2 + 32 + 1 + 32 + 2 + 62 + 2 + 2 + 4 + 5 + 11;
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	assert_int_equal(tls_hello_parse(b, sni_end, &h, &d), ZE_OK);
	assert_true(h.truncated);
	assert_string_equal(h.sni, "example.com");
	assert_int_equal(tls_hello_parse(b, sni_end - 1, &h, &d), ZE_OK);
	assert_true(h.truncated);
	assert_string_equal(h.sni, "");
	assert_int_equal(tls_hello_parse(b, n, &h, &d), ZE_OK);
	assert_false(h.truncated);
}

/* Every prefix and every single-byte corruption of a hello parses or
 * is refused without reading out of bounds (ASan watches). */
static void
t_mutations(void **state)
{
	uint8_t b[TLS_HELLO_CAP], c[TLS_HELLO_CAP];
	size_t n = build(TLS_SHAPE_BROWSER, "x.example", NULL, false, b,
	    sizeof(b));
	size_t i;
	tls_hello_t h;
	zdiag_t d;

	(void)state;
	for (i = 0; i <= n; i++) {
		uint8_t *p = malloc(i ? i : 1);
		assert_non_null(p);
		memcpy(p, b, i);
		zerr_t e = tls_hello_parse(p, i, &h, &d);
		assert_true(e == ZE_OK || e == ZE_TRUNC || e == ZE_PARSE);
		assert_true(e != ZE_OK || i == n || h.truncated);
		free(p);
	}
	for (i = 0; i < n; i++) {
		memcpy(c, b, n);
		c[i] ^= 0xff;
		zerr_t e = tls_hello_parse(c, n, &h, &d);
		assert_true(e == ZE_OK || e == ZE_TRUNC || e == ZE_PARSE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_browser),
		cmocka_unit_test(t_openssl),
		cmocka_unit_test(t_quic_shape),
		cmocka_unit_test(t_build_refused),
		cmocka_unit_test(t_parse_refused),
		cmocka_unit_test(t_truncated),
		cmocka_unit_test(t_mutations),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
