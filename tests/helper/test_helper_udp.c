/*
 * test_helper_udp — zond-helper's pure parts: what hu_answer() replies to
 * each datagram shape (and to garbage), and the bulk request parser.
 * The invariants checked on every input: no reply larger than
 * HU_OUT_MAX, and no reply more than 24 bytes larger than its request
 * (the helper must not be a UDP amplifier).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "quic.h"
#include "tlshello.h"
#include "udp.h"

static uint8_t rnd[HU_RAND_LEN];
static uint8_t out[HU_OUT_MAX];

static struct sockaddr_in
peer4(const char *ip, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
	return s;
}

static size_t
answer(const uint8_t *in, size_t n, const void *peer, enum hu_kind *k)
{
	size_t r = hu_answer(in, n, peer, rnd, out, sizeof(out), k);

	assert_true(r <= HU_OUT_MAX);
	assert_true(r <= n + 24);
	return r;
}

/* A Binding Request with optional attributes appended (already padded). */
static size_t
stun_req(uint8_t *p, uint16_t type, const uint8_t *attrs, size_t alen)
{
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(alen >> 8);
	p[3] = (uint8_t)alen;
	p[4] = 0x21, p[5] = 0x12, p[6] = 0xa4, p[7] = 0x42;
	for (int i = 0; i < 12; i++)
		p[8 + i] = (uint8_t)(0xa0 + i);
	if (alen > 0)
		memcpy(p + 20, attrs, alen);
	return 20 + alen;
}

static void
t_stun_plain(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.77", 40000);
	uint8_t req[64];
	enum hu_kind k;
	size_t n = stun_req(req, 0x0001, NULL, 0), r;

	(void)state;
	r = answer(req, n, &p, &k);
	assert_int_equal(k, HU_STUN);
	assert_int_equal(r, 32);
	assert_int_equal(out[0] << 8 | out[1], 0x0101);
	assert_int_equal(out[2] << 8 | out[3], 12);
	assert_memory_equal(out + 4, req + 4, 16);	/* cookie + tid */
	assert_int_equal(out[20] << 8 | out[21], 0x0020);
	assert_int_equal(out[25], 0x01);
	assert_int_equal((out[26] << 8 | out[27]) ^ 0x2112, 40000);
	assert_int_equal(out[28] ^ 0x21, 192);
	assert_int_equal(out[29] ^ 0x12, 0);
	assert_int_equal(out[30] ^ 0xa4, 2);
	assert_int_equal(out[31] ^ 0x42, 77);
}

static void
t_stun_variants(void **state)
{
	struct sockaddr_in p = peer4("198.51.100.1", 5000);
	static const uint8_t wa[] = {0x40, 0x03, 0, 4, 1, 2, 3, 4,
	    0x40, 0x07, 0, 1, 9, 0, 0, 0};
	static const uint8_t tg[] = {0x00, 0x14, 0, 12, 'T', 'e', 'l', 'e',
	    'g', 'r', 'a', 'm', '.', 'o', 'r', 'g'};
	static const uint8_t other_realm[] = {0x00, 0x14, 0, 4, 'a', 'b',
	    'c', 'd'};
	uint8_t req[64];
	enum hu_kind k;

	(void)state;
	assert_int_equal(answer(req, stun_req(req, 1, wa, sizeof(wa)), &p, &k),
	    32);
	assert_int_equal(k, HU_STUN_WHATSAPP);
	assert_int_equal(answer(req, stun_req(req, 1, tg, sizeof(tg)), &p, &k),
	    32);
	assert_int_equal(k, HU_STUN_TELEGRAM);
	assert_int_equal(answer(req, stun_req(req, 1, other_realm,
	    sizeof(other_realm)), &p, &k), 32);
	assert_int_equal(k, HU_STUN);
}

static void
t_stun_v6(void **state)
{
	struct sockaddr_in6 p;
	uint8_t req[32];
	enum hu_kind k;
	size_t r, n = stun_req(req, 1, NULL, 0);

	(void)state;
	memset(&p, 0, sizeof(p));
	p.sin6_family = AF_INET6;
	p.sin6_port = htons(1234);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &p.sin6_addr), 1);
	r = answer(req, n, &p, &k);
	assert_int_equal(r, 44);
	assert_int_equal(out[25], 0x02);
	for (int i = 0; i < 16; i++)	/* xor with cookie || tid */
		assert_int_equal(out[28 + i] ^ req[4 + i],
		    p.sin6_addr.s6_addr[i]);
	/* A v4-mapped peer (dual-stack socket) is reported as IPv4. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.9",
	    &p.sin6_addr), 1);
	assert_int_equal(answer(req, n, &p, &k), 32);
	assert_int_equal(out[25], 0x01);
	assert_int_equal(out[31] ^ 0x42, 9);
}

static void
t_stun_bad(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 999);
	static const uint8_t overrun[] = {0x40, 0x00, 0, 9, 1, 2, 3, 4};
	uint8_t req[64];
	enum hu_kind k;
	size_t n;

	(void)state;
	n = stun_req(req, 1, NULL, 0);
	req[3] = 4;	/* length says 4, nothing follows */
	assert_int_equal(answer(req, n, &p, &k), 0);
	assert_int_equal(k, HU_BAD);
	n = stun_req(req, 1, overrun, sizeof(overrun));
	assert_int_equal(answer(req, n, &p, &k), 0);
	assert_int_equal(k, HU_BAD);
	n = stun_req(req, 0x0011, NULL, 0);	/* an indication */
	assert_int_equal(answer(req, n, &p, &k), 0);
	assert_int_equal(k, HU_IGNORED);
	n = stun_req(req, 1, NULL, 0);
	/* 19 bytes are not STUN: echoed like any baseline payload. */
	assert_int_equal(answer(req, n - 1, &p, &k), n - 1);
	assert_int_equal(k, HU_ECHO);
}

static size_t
quic_pkt(uint8_t *p, size_t len, uint32_t version, uint8_t dcil,
    uint8_t scil)
{
	memset(p, 0xee, len);
	p[0] = 0xc3;
	p[1] = (uint8_t)(version >> 24);
	p[2] = (uint8_t)(version >> 16);
	p[3] = (uint8_t)(version >> 8);
	p[4] = (uint8_t)version;
	p[5] = dcil;
	memset(p + 6, 0xd1, dcil);
	p[6 + dcil] = scil;
	memset(p + 7 + dcil, 0x5c, scil);
	return len;
}

static void
t_quic(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 4433);
	uint8_t pkt[1300];
	enum hu_kind k;
	size_t r;

	(void)state;
	/* VN probe: reserved version, 1200 bytes. */
	r = answer(pkt, quic_pkt(pkt, 1200, 0x1a2a3a4a, 8, 5), &p, &k);
	assert_int_equal(k, HU_QUIC_VN);
	assert_int_equal(r, 1 + 4 + 1 + 5 + 1 + 8 + 8);
	assert_true(out[0] & 0x80);
	assert_memory_equal(out + 1, "\0\0\0\0", 4);
	assert_int_equal(out[5], 5);		/* dcid = client's scid */
	assert_int_equal(out[6], 0x5c);
	assert_int_equal(out[11], 8);		/* scid = client's dcid */
	assert_int_equal(out[12], 0xd1);
	assert_memory_equal(out + 20, "\0\0\0\1", 4);
	assert_int_equal(out[24] & 0x0f, 0x0a);	/* a greased version */
	/* Too small for a VN: ignored (RFC 9000 6.1). */
	answer(pkt, quic_pkt(pkt, 1199, 0x1a2a3a4a, 8, 5), &p, &k);
	assert_int_equal(k, HU_IGNORED);
	/* A version-1 Initial of any size gets the small reply. */
	r = answer(pkt, quic_pkt(pkt, 1000, 1, 8, 8), &p, &k);
	assert_int_equal(k, HU_QUIC_INITIAL);
	assert_true(r > 20 && r < 100);
	assert_memory_equal(out + 1, "\0\0\0\1", 4);
	assert_int_equal(out[6], 0x5c);
	assert_int_equal(out[15], 0xd1);
	r = answer(pkt, quic_pkt(pkt, 1200, 1, 0, 0), &p, &k);
	assert_int_equal(k, HU_QUIC_INITIAL);
	/* Version 1 with a 21-byte id, a VN, truncated headers. */
	answer(pkt, quic_pkt(pkt, 1200, 1, 21, 0), &p, &k);
	assert_int_equal(k, HU_BAD);
	answer(pkt, quic_pkt(pkt, 1200, 0, 8, 8), &p, &k);
	assert_int_equal(k, HU_IGNORED);
	quic_pkt(pkt, 30, 0x1a2a3a4a, 200, 0);
	assert_int_equal(answer(pkt, 30, &p, &k), 0);
	assert_int_equal(k, HU_BAD);
	assert_int_equal(answer(pkt, 6, &p, &k), 0);
	assert_int_equal(k, HU_BAD);
}

/* A real version-1 Initial (it decrypts): a Retry to its SCID whose
 * integrity tag is the one RFC 9001 5.8 gives for its DCID. */
static void
t_quic_real_initial(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 4433);
	uint8_t hello[TLS_HELLO_CAP], pkt[1300], again[128];
	tls_hello_opts_t o;
	quic_hdr_t h;
	size_t hl, n, r, m;
	enum hu_kind k;
	zdiag_t d;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.shape = TLS_SHAPE_QUIC;
	o.sni = "www.youtube.com";
	assert_int_equal(tls_hello_build(&o, false, hello, sizeof(hello), &hl,
	    &d), ZE_OK);
	memset(&h, 0, sizeof(h));
	h.version = QUIC_V1;
	h.dcid_len = 17;
	memset(h.dcid, 0x3d, 17);
	h.scid_len = 8;
	memset(h.scid, 0x5c, 8);
	assert_int_equal(quic_client_initial(&h, hello, hl, 1200, pkt,
	    sizeof(pkt), &n, &d), ZE_OK);
	r = answer(pkt, n, &p, &k);
	assert_int_equal(k, HU_QUIC_RETRY);
	assert_int_equal(r, 1 + 4 + 1 + 8 + 1 + 8 + 16 + 16);
	assert_int_equal(out[0], 0xff);
	assert_memory_equal(out + 1, "\0\0\0\1", 4);
	assert_int_equal(out[5], 8);			/* to our SCID */
	assert_memory_equal(out + 6, h.scid, 8);
	assert_int_equal(out[14], 8);
	/* the same Retry rebuilt from its SCID and token: the tag over
	 * the original DCID matches */
	assert_int_equal(quic_retry(&h, out + 15, 8, out + 23, 16, again,
	    sizeof(again), &m, &d), ZE_OK);
	assert_int_equal(m, r);
	assert_memory_equal(again, out, r);
	/* one flipped byte: no longer a real Initial, the old reply */
	pkt[200] ^= 1;
	answer(pkt, n, &p, &k);
	assert_int_equal(k, HU_QUIC_INITIAL);
}

static void
t_vpn(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 4433);
	uint8_t pkt[148];
	enum hu_kind k;
	size_t r;

	(void)state;
	memset(pkt, 0x77, sizeof(pkt));
	pkt[0] = 1, pkt[1] = pkt[2] = pkt[3] = 0;
	memcpy(pkt + 4, "\x11\x22\x33\x44", 4);
	r = answer(pkt, 148, &p, &k);
	assert_int_equal(k, HU_WIREGUARD);
	assert_int_equal(r, 92);
	assert_int_equal(out[0], 2);
	assert_memory_equal(out + 8, "\x11\x22\x33\x44", 4);
	answer(pkt, 147, &p, &k);	/* not the initiation size */
	assert_int_equal(k, HU_ECHO);

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x38;
	memcpy(pkt + 1, "ABCDEFGH", 8);
	r = answer(pkt, 14, &p, &k);
	assert_int_equal(k, HU_OPENVPN);
	assert_int_equal(r, 26);
	assert_int_equal(out[0] >> 3, 8);
	assert_int_equal(out[9], 1);
	assert_memory_equal(out + 10, "\0\0\0\0", 4);
	assert_memory_equal(out + 14, "ABCDEFGH", 8);
}

static void
t_echo_and_sizes(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 4433);
	static uint8_t big[HU_OUT_MAX + 1];
	uint8_t pkt[64];
	enum hu_kind k;

	(void)state;
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 0x10);
	assert_int_equal(answer(pkt, sizeof(pkt), &p, &k), sizeof(pkt));
	assert_int_equal(k, HU_ECHO);
	assert_memory_equal(out, pkt, sizeof(pkt));
	assert_int_equal(answer(pkt, 0, &p, &k), 0);
	assert_int_equal(k, HU_BAD);
	assert_int_equal(answer(big, sizeof(big), &p, &k), 0);
	assert_int_equal(k, HU_BAD);
	/* RTP v2 with a dynamic payload type (the call test's media
	 * ports): echoed; a static one or a short one is not RTP to us */
	memset(pkt, 0x55, sizeof(pkt));
	pkt[0] = 0x80, pkt[1] = 111;
	assert_int_equal(answer(pkt, 40, &p, &k), 40);
	assert_int_equal(k, HU_RTP);
	assert_memory_equal(out, pkt, 40);
	pkt[1] = 0x80 | 96;	/* marker bit set */
	assert_int_equal(answer(pkt, 40, &p, &k), 40);
	assert_int_equal(k, HU_RTP);
	assert_int_equal(answer(pkt, 11, &p, &k), 0);	/* under a header */
	assert_int_not_equal(k, HU_RTP);
	pkt[1] = 0;		/* PT 0: read as a QUIC long header */
	answer(pkt, 40, &p, &k);
	assert_int_not_equal(k, HU_RTP);
}

/* Random bytes of every size with every interesting first byte: no
 * crash (ASan watches), replies bounded. */
static void
t_garbage(void **state)
{
	struct sockaddr_in p = peer4("192.0.2.1", 4433);
	static const uint8_t firsts[] = {0x00, 0x01, 0x38, 0x80, 0xc3, 0xff};
	static uint8_t pkt[HU_OUT_MAX];
	unsigned seed = 12345;
	enum hu_kind k;

	(void)state;
	for (size_t n = 0; n <= HU_OUT_MAX; n++) {
		for (size_t f = 0; f <= sizeof(firsts); f++) {
			for (size_t i = 0; i < n; i++)
				pkt[i] = (uint8_t)rand_r(&seed);
			if (n > 0 && f < sizeof(firsts))
				pkt[0] = firsts[f];
			if (n >= 8 && f == 1) {	/* STUN header, junk body */
				pkt[4] = 0x21, pkt[5] = 0x12;
				pkt[6] = 0xa4, pkt[7] = 0x42;
			}
			answer(pkt, n, &p, &k);
			assert_true((unsigned)k < HU__COUNT);
		}
	}
}

static void
t_bulk_request(void **state)
{
	int64_t n = -1;
	zdiag_t d;

	(void)state;
	assert_int_equal(bulk_parse_request("GET 100\n", 8, 1000, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 100);
	assert_int_equal(bulk_parse_request("GET 0\r\n", 7, 1000, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bulk_parse_request("GET 1000", 8, 1000, &n, &d),
	    ZE_OK);
	assert_int_equal(bulk_parse_request("GET 1001\n", 9, 1000, &n, &d),
	    ZE_RANGE);
	assert_non_null(strstr(d.text, "bulk_max"));
	assert_int_equal(bulk_parse_request("GET 1234567890123456789\n", 24,
	    INT64_MAX, &n, &d), ZE_RANGE);
	assert_int_equal(bulk_parse_request("GET \n", 5, 1000, &n, &d),
	    ZE_PARSE);
	assert_int_equal(bulk_parse_request("GET -1\n", 7, 1000, &n, &d),
	    ZE_PARSE);
	assert_int_equal(bulk_parse_request("GET 1x\n", 7, 1000, &n, &d),
	    ZE_PARSE);
	assert_int_equal(bulk_parse_request("PUT 1\n", 6, 1000, &n, &d),
	    ZE_PARSE);
	assert_int_equal(bulk_parse_request("GET 1\0\n", 7, 1000, &n, &d),
	    ZE_PARSE);
	assert_int_equal(bulk_parse_request("", 0, 1000, &n, &d), ZE_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_stun_plain),
		cmocka_unit_test(t_stun_variants),
		cmocka_unit_test(t_stun_v6),
		cmocka_unit_test(t_stun_bad),
		cmocka_unit_test(t_quic),
		cmocka_unit_test(t_quic_real_initial),
		cmocka_unit_test(t_vpn),
		cmocka_unit_test(t_echo_and_sizes),
		cmocka_unit_test(t_garbage),
		cmocka_unit_test(t_bulk_request),
	};

	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(i * 13 + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
