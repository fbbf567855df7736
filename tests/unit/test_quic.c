/*
 * test_quic — QUIC v1 Initial protection against RFC 9001 Appendix A
 * (keys from DCID 8394c8f03e515708, the protected client Initial of A.2,
 * the Retry of A.4), opening an Initial back to its ClientHello and SNI,
 * and refusals of malformed datagrams with the reason.
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

#include "quic.h"
#include "tlshello.h"

static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57,
	0x08 };

/* RFC 9001 A.2: the CRYPTO frame's data (the ClientHello) */
static const char a2_hello[] =
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";
/* the protected packet's first 32 and last 48 bytes */
static const char a2_head[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11";
static const char a2_tail[] =
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;
	unsigned v;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
assert_hex(const uint8_t *b, const char *h)
{
	uint8_t want[128];
	size_t n = unhex(h, want, sizeof(want));

	assert_memory_equal(b, want, n);
}

static void
t_keys(void **state)
{
	quic_keys_t k;
	zdiag_t d;

	(void)state;
	assert_int_equal(quic_initial_keys(dcid, 8, false, &k, &d), ZE_OK);
	assert_hex(k.key, "1f369613dd76d5467730efcbe3b1a22d");
	assert_hex(k.iv, "fa044b2f42a3fd3b46fb255c");
	assert_hex(k.hp, "9f50449e04a0e810283a1e9933adedd2");
	assert_int_equal(quic_initial_keys(dcid, 8, true, &k, &d), ZE_OK);
	assert_hex(k.key, "cf3a5331653c364c88f0f379b6067e37");
	assert_hex(k.iv, "0ac1493ca1905853b0bba03e");
	assert_hex(k.hp, "c206b8d9b9f0f37644430b490eeaa314");
}

/* The A.2 Initial built from its parts: header with packet number 2,
 * one CRYPTO frame, PADDING to 1200 bytes. */
static size_t
a2_packet(uint8_t *pkt, size_t cap)
{
	uint8_t hello[512];
	size_t hl = unhex(a2_hello, hello, sizeof(hello)), n = 0;
	quic_hdr_t h;
	zdiag_t d;

	memset(&h, 0, sizeof(h));
	h.version = QUIC_V1;
	memcpy(h.dcid, dcid, 8);
	h.dcid_len = 8;
	h.pn = 2;
	assert_int_equal(quic_client_initial(&h, hello, hl, 1200, pkt, cap,
	    &n, &d), ZE_OK);
	return n;
}

static void
t_protect_a2(void **state)
{
	uint8_t pkt[1500];
	size_t n = a2_packet(pkt, sizeof(pkt));

	(void)state;
	assert_int_equal(n, 1200);
	assert_hex(pkt, a2_head);
	/* the end of the ciphertext and the AEAD tag */
	assert_hex(pkt + n - 48, a2_tail);
}

static void
t_open_a2(void **state)
{
	uint8_t pkt[1500], crypto[2048], hello[512];
	size_t n = a2_packet(pkt, sizeof(pkt)), cl = 0;
	size_t hl = unhex(a2_hello, hello, sizeof(hello));
	quic_hdr_t h;
	tls_hello_t th;
	char sni[64];
	zdiag_t d;

	(void)state;
	assert_int_equal(quic_initial_open(pkt, n, &h, crypto,
	    sizeof(crypto), &cl), 0);
	assert_int_equal(h.pn, 2);
	assert_int_equal(h.dcid_len, 8);
	assert_int_equal(h.scid_len, 0);
	assert_int_equal(cl, hl);
	assert_memory_equal(crypto, hello, hl);
	assert_int_equal(quic_initial_sni(pkt, n, sni, sizeof(sni)), 0);
	assert_string_equal(sni, "example.com");
	/* the SNI does not fit: said so, nothing half-copied */
	assert_int_equal(quic_initial_sni(pkt, n, sni, 11), QUIC_E_CAP);
	assert_string_equal(sni, "");
	/* the RFC's hello: TLS 1.3 suites, ALPN "alpn", x25519 share */
	assert_int_equal(tls_hello_parse(crypto, cl, &th, &d), ZE_OK);
	assert_int_equal(th.n_ciphers, 2);
	assert_int_equal(th.ciphers[0], 0x1301);
	assert_int_equal(th.n_alpn, 1);
	assert_string_equal(th.alpn[0], "alpn");
	assert_int_equal(th.n_key_shares, 1);
	assert_int_equal(th.key_shares[0], 0x001d);
	assert_false(th.truncated);
	assert_int_equal(tls_hello_shape(&th), TLS_SHAPE_OTHER);
}

static void
t_refused(void **state)
{
	uint8_t pkt[1500], bad[1500], crypto[2048];
	size_t n = a2_packet(pkt, sizeof(pkt)), cl;
	quic_hdr_t h;
	char sni[64];

	(void)state;
	/* truncated: the Length field promises more than is there */
	assert_int_equal(quic_initial_sni(pkt, n - 1, sni, sizeof(sni)),
	    QUIC_E_SHORT);
	assert_int_equal(quic_initial_sni(pkt, 5, sni, sizeof(sni)),
	    QUIC_E_SHORT);
	assert_int_equal(quic_initial_sni(pkt, 30, sni, sizeof(sni)),
	    QUIC_E_SHORT);
	/* wrong version */
	memcpy(bad, pkt, n);
	bad[4] = 2;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_VERSION);
	/* bad tag, bad ciphertext */
	memcpy(bad, pkt, n);
	bad[n - 1] ^= 1;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_DECRYPT);
	memcpy(bad, pkt, n);
	bad[100] ^= 0x80;
	assert_int_equal(quic_initial_open(bad, n, &h, crypto,
	    sizeof(crypto), &cl), QUIC_E_DECRYPT);
	/* another DCID derives other keys */
	memcpy(bad, pkt, n);
	bad[6] ^= 1;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_DECRYPT);
	/* short header; Handshake packet type; oversized connection id */
	memcpy(bad, pkt, n);
	bad[0] = 0x40;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_NOT_LONG);
	bad[0] = 0xe0;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_NOT_INITIAL);
	memcpy(bad, pkt, n);
	bad[5] = 21;
	assert_int_equal(quic_initial_sni(bad, n, sni, sizeof(sni)),
	    QUIC_E_CID);
	assert_string_equal(quic_strerror(QUIC_E_DECRYPT),
	    "payload does not decrypt (bad tag)");
}

/* An Initial whose payload holds a frame we do not read (STREAM), and
 * one with only PADDING: refused with the reason. */
static void
t_frames(void **state)
{
	uint8_t pkt[1500], plain[1500];
	quic_keys_t k;
	size_t hl, n;
	char sni[64];
	zdiag_t d;

	(void)state;
	assert_int_equal(quic_initial_keys(dcid, 8, false, &k, &d), ZE_OK);
	/* c3 00000001 08 dcid 00 00 Length(2) pn(4) */
	pkt[0] = 0xc3;
	memcpy(pkt + 1, "\x00\x00\x00\x01\x08", 5);
	memcpy(pkt + 6, dcid, 8);
	pkt[14] = 0;
	pkt[15] = 0;
	hl = 16 + 2 + 4;
	memset(plain, 0, sizeof(plain));
	plain[0] = 0x08;			/* STREAM */
	n = 1000;
	pkt[16] = (uint8_t)(0x40 | ((4 + n + 16) >> 8));
	pkt[17] = (uint8_t)(4 + n + 16);
	memcpy(pkt + 18, "\x00\x00\x00\x00", 4);
	memcpy(pkt + hl, plain, n);
	assert_int_equal(quic_protect(&k, pkt, hl, 4, n, &d), ZE_OK);
	assert_int_equal(quic_initial_sni(pkt, hl + n + 16, sni,
	    sizeof(sni)), QUIC_E_FRAME);
	plain[0] = 0x00;			/* only PADDING */
	memcpy(pkt + 18, "\x00\x00\x00\x00", 4);
	pkt[0] = 0xc3;
	memcpy(pkt + hl, plain, n);
	assert_int_equal(quic_protect(&k, pkt, hl, 4, n, &d), ZE_OK);
	assert_int_equal(quic_initial_sni(pkt, hl + n + 16, sni,
	    sizeof(sni)), QUIC_E_NO_CRYPTO);
}

/* RFC 9001 A.4: Retry to the A.2 client with SCID f067a5502a4262b5 and
 * token "token". */
static void
t_retry_a4(void **state)
{
	uint8_t out[128];
	quic_hdr_t h;
	size_t n = 0;
	zdiag_t d;

	(void)state;
	memset(&h, 0, sizeof(h));
	memcpy(h.dcid, dcid, 8);
	h.dcid_len = 8;
	assert_int_equal(quic_retry(&h, (const uint8_t *)
	    "\xf0\x67\xa5\x50\x2a\x42\x62\xb5", 8, (const uint8_t *)"token",
	    5, out, sizeof(out), &n, &d), ZE_OK);
	assert_int_equal(n, 36);
	assert_hex(out, "ff000000010008f067a5502a4262b5746f6b656e"
	    "04a265ba2eff4d829058fb3f0f2496ba");
}

/* Our own Initials: random ids of 8..20 bytes, the quic-shaped hello,
 * opened back; every datagram 1200 bytes. */
static void
t_roundtrip(void **state)
{
	uint8_t hello[TLS_HELLO_CAP], pkt[1500], crypto[2048];
	tls_hello_opts_t o;
	tls_hello_t th;
	quic_hdr_t h, g;
	size_t hl, n, cl, len;
	char sni[300];
	zdiag_t d;

	(void)state;
	for (len = 8; len <= 20; len++) {
		memset(&o, 0, sizeof(o));
		o.shape = TLS_SHAPE_QUIC;
		o.sni = "www.youtube.com";
		o.quic_tp = (const uint8_t *)"\x0f\x00";
		o.quic_tp_len = 2;
		assert_int_equal(tls_hello_build(&o, false, hello,
		    sizeof(hello), &hl, &d), ZE_OK);
		memset(&h, 0, sizeof(h));
		h.version = QUIC_V1;
		h.dcid_len = len;
		randombytes_buf(h.dcid, len);
		h.scid_len = 8;
		randombytes_buf(h.scid, 8);
		assert_int_equal(quic_client_initial(&h, hello, hl, 1200, pkt,
		    sizeof(pkt), &n, &d), ZE_OK);
		assert_int_equal(n, 1200);
		assert_int_equal(quic_initial_open(pkt, n, &g, crypto,
		    sizeof(crypto), &cl), 0);
		assert_int_equal(g.dcid_len, len);
		assert_memory_equal(g.dcid, h.dcid, len);
		assert_memory_equal(g.scid, h.scid, 8);
		assert_int_equal(cl, hl);
		assert_int_equal(tls_hello_parse(crypto, cl, &th, &d), ZE_OK);
		assert_int_equal(tls_hello_shape(&th), TLS_SHAPE_QUIC);
		assert_int_equal(quic_initial_sni(pkt, n, sni, sizeof(sni)),
		    0);
		assert_string_equal(sni, "www.youtube.com");
	}
	/* too small a buffer, too long an id */
	assert_int_equal(quic_client_initial(&h, hello, hl, 1200, pkt, 1000,
	    &n, &d), ZE_TOOBIG);
	h.dcid_len = 21;
	assert_int_equal(quic_client_initial(&h, hello, hl, 1200, pkt,
	    sizeof(pkt), &n, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "over 20"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_keys),
		cmocka_unit_test(t_protect_a2),
		cmocka_unit_test(t_open_a2),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_frames),
		cmocka_unit_test(t_retry_a4),
		cmocka_unit_test(t_roundtrip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
