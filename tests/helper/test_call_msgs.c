/*
 * test_call_msgs — the call test's packet builders and parsers
 * (lib/stun.c: STUN/TURN, MESSAGE-INTEGRITY, ChannelData, RTP), the
 * port-list parser (conf_parse_ports), and zond-helper's TURN answers
 * (hu_answer_turn): 401 with realm and nonce, success with the
 * credential, no amplification, ChannelData echoed.  Malformed input of
 * each kind is refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "bytes.h"
#include "conf.h"
#include "stun.h"
#include "udp.h"

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12};

static void
t_binding_roundtrip(void **state)
{
	uint8_t b[64];
	stun_w_t w;
	struct stun_msg m;
	char why[128];
	size_t n;

	(void)state;
	stun_w_init(&w, b, sizeof(b), STUN_BINDING, tid);
	n = stun_w_end(&w);
	assert_int_equal(n, 20);
	assert_int_equal(be16_get(b), 0x0001);
	assert_int_equal(be16_get(b + 2), 0);
	assert_int_equal(be32_get(b + 4), STUN_COOKIE);
	assert_true(stun_is(b, n));
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, STUN_BINDING);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_int_equal(m.integrity_off, 0);
}

static void
t_error_answer(void **state)
{
	uint8_t b[256], a4[4] = {192, 0, 2, 1};
	stun_w_t w;
	struct stun_msg m;
	char why[128];
	size_t n;

	(void)state;
	stun_w_init(&w, b, sizeof(b), STUN_ALLOCATE | STUN_ERROR, tid);
	stun_w_error(&w, 401, "Unauthorized");
	stun_w_attr(&w, STUN_A_REALM, "example.org", 11);
	stun_w_attr(&w, STUN_A_NONCE, "abc", 3);
	stun_w_attr(&w, STUN_A_SOFTWARE, "relay 1.0", 9);
	stun_w_xaddr(&w, STUN_A_XOR_MAPPED, a4, 4, 5000);
	n = stun_w_end(&w);
	assert_true(n > 0);
	assert_int_equal((n - 20) % 4, 0);
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, 0x0113);
	assert_int_equal(m.error_code, 401);
	assert_string_equal(m.realm, "example.org");
	assert_true(m.has_nonce);
	assert_string_equal(m.nonce, "abc");
	assert_string_equal(m.software, "relay 1.0");
	assert_int_equal(m.mapped_family, 4);
}

static void
t_xor_address(void **state)
{
	uint8_t b[64], a4[4] = {192, 0, 2, 1};
	stun_w_t w;

	(void)state;
	/* RFC 5389 15.2: port ^ 0x2112, address ^ the cookie */
	stun_w_init(&w, b, sizeof(b), STUN_BINDING | STUN_SUCCESS, tid);
	stun_w_xaddr(&w, STUN_A_XOR_MAPPED, a4, 4, 32853);
	assert_int_equal(stun_w_end(&w), 32);
	assert_int_equal(be16_get(b + 20), STUN_A_XOR_MAPPED);
	assert_int_equal(b[25], 0x01);
	assert_int_equal(be16_get(b + 26), 32853 ^ 0x2112);
	assert_int_equal(b[28], 192 ^ 0x21);
	assert_int_equal(b[31], 1 ^ 0x42);
}

static void
t_integrity(void **state)
{
	static const uint8_t want[16] = {0xc3, 0x9a, 0xc8, 0x0d, 0xb7, 0xe2,
	    0xd7, 0x13, 0x04, 0xc5, 0x09, 0xbe, 0xc3, 0xc4, 0x82, 0xc9};
	uint8_t key[STUN_KEY_LEN], bad[STUN_KEY_LEN], b[256];
	stun_w_t w;
	struct stun_msg m;
	char why[128];
	size_t n;

	(void)state;
	stun_lt_key("zond", "zond", "zond-call", key);
	assert_memory_equal(key, want, 16);	/* MD5("zond:zond:zond-call") */
	stun_w_init(&w, b, sizeof(b), STUN_ALLOCATE, tid);
	stun_w_attr(&w, STUN_A_USERNAME, "zond", 4);
	stun_w_attr(&w, STUN_A_REALM, "zond", 4);
	stun_w_integrity(&w, key);
	n = stun_w_end(&w);
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), 0);
	assert_true(m.integrity_off > 0);
	assert_true(stun_integrity_ok(b, n, &m, key));
	stun_lt_key("zond", "zond", "other", bad);
	assert_false(stun_integrity_ok(b, n, &m, bad));
	b[m.integrity_off - 1] ^= 1;	/* a byte the MAC covers */
	assert_false(stun_integrity_ok(b, n, &m, key));
}

/* Each malformed message refused, with a reason. */
static void
t_malformed(void **state)
{
	uint8_t b[128];
	stun_w_t w;
	struct stun_msg m;
	char why[128];
	size_t n;

	(void)state;
	stun_w_init(&w, b, sizeof(b), STUN_BINDING | STUN_SUCCESS, tid);
	stun_w_attr(&w, STUN_A_SOFTWARE, "x", 1);
	n = stun_w_end(&w);
	assert_int_equal(n, 28);
	why[0] = '\0';
	assert_int_equal(stun_parse(b, 19, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "shorter"));
	b[4] ^= 0xff;		/* cookie */
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
	b[4] ^= 0xff;
	assert_int_equal(stun_parse(b, n - 4, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "length"));
	be16_put(b + 22, 9);	/* attribute longer than the message */
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "past the end"));
	/* ERROR-CODE with class 7 */
	stun_w_init(&w, b, sizeof(b), STUN_ALLOCATE | STUN_ERROR, tid);
	stun_w_error(&w, 401, "x");
	n = stun_w_end(&w);
	b[26] = 7;
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "ERROR-CODE"));
	/* an address attribute of family 3 */
	stun_w_init(&w, b, sizeof(b), STUN_BINDING | STUN_SUCCESS, tid);
	stun_w_attr(&w, STUN_A_XOR_MAPPED, "\0\3\0\0\0\0\0\0", 8);
	n = stun_w_end(&w);
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
	/* an attribute after MESSAGE-INTEGRITY */
	stun_w_init(&w, b, sizeof(b), STUN_ALLOCATE, tid);
	stun_w_integrity(&w, (const uint8_t *)"0123456789abcdef");
	stun_w_attr(&w, STUN_A_REALM, "x", 1);
	n = stun_w_end(&w);
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "after MESSAGE-INTEGRITY"));
	/* a CHANNEL-NUMBER of 2 bytes */
	stun_w_init(&w, b, sizeof(b), STUN_CHANNEL_BIND, tid);
	stun_w_attr(&w, STUN_A_CHANNEL, "\x40\x01", 2);
	n = stun_w_end(&w);
	assert_int_equal(stun_parse(b, n, &m, why, sizeof(why)), -1);
}

static void
t_writer_overflow(void **state)
{
	uint8_t b[32];
	stun_w_t w;

	(void)state;
	stun_w_init(&w, b, sizeof(b), STUN_BINDING, tid);
	stun_w_attr(&w, STUN_A_SOFTWARE, "far too long for the buffer", 27);
	assert_int_equal(stun_w_end(&w), 0);
	stun_w_init(&w, b, 10, STUN_BINDING, tid);
	assert_int_equal(stun_w_end(&w), 0);
}

static void
t_chandata(void **state)
{
	uint8_t b[64];
	const uint8_t *d;
	uint16_t ch;
	size_t n, dl;

	(void)state;
	n = stun_chandata_build(b, sizeof(b), 0x4001, (const uint8_t *)"abcde",
	    5);
	assert_int_equal(n, 9);
	assert_int_equal(stun_chandata_parse(b, n, &ch, &d, &dl), 0);
	assert_int_equal(ch, 0x4001);
	assert_int_equal(dl, 5);
	assert_memory_equal(d, "abcde", 5);
	/* up to 3 bytes of padding are allowed, 4 are not */
	memset(b + n, 0, 4);
	assert_int_equal(stun_chandata_parse(b, n + 3, &ch, &d, &dl), 0);
	assert_int_equal(stun_chandata_parse(b, n + 4, &ch, &d, &dl), -1);
	/* length past the datagram */
	assert_int_equal(stun_chandata_parse(b, n - 1, &ch, &d, &dl), -1);
	assert_int_equal(stun_chandata_parse(b, 3, &ch, &d, &dl), -1);
	/* channel numbers outside 0x4000-0x4fff */
	assert_int_equal(stun_chandata_build(b, sizeof(b), 0x5000, b, 1), 0);
	be16_put(b, 0x3fff);
	assert_int_equal(stun_chandata_parse(b, n, &ch, &d, &dl), -1);
	assert_int_equal(stun_chandata_build(b, 8, 0x4001, b, 5), 0);
}

static void
t_rtp(void **state)
{
	struct rtp_hdr h = {.pt = RTP_PT_OPUS, .marker = true, .seq = 65535,
	    .ts = 123456, .ssrc = 0xdeadbeef}, g;
	uint8_t b[RTP_HDR + 160];

	(void)state;
	assert_int_equal(rtp_build(b, sizeof(b), &h, NULL, 160), 172);
	assert_int_equal(b[0], 0x80);
	assert_int_equal(b[1], 0x80 | 111);
	assert_int_equal(rtp_parse(b, 172, &g), 0);
	assert_int_equal(g.pt, 111);
	assert_true(g.marker);
	assert_int_equal(g.seq, 65535);
	assert_int_equal(g.ts, 123456);
	assert_int_equal(g.ssrc, 0xdeadbeef);
	assert_int_equal(rtp_build(b, sizeof(b), &h, NULL, 161), 0);
	assert_int_equal(rtp_parse(b, 11, &g), -1);
	b[0] = 0x40;		/* version 1 */
	assert_int_equal(rtp_parse(b, 172, &g), -1);
	b[0] = 0x8f;		/* 15 CSRCs: 60 bytes past a 12-byte header */
	assert_int_equal(rtp_parse(b, 40, &g), -1);
	assert_int_equal(rtp_parse(b, 72, &g), 0);
}

static void
t_ports(void **state)
{
	uint16_t lo[4], hi[4];
	size_t n;
	char why[160];

	(void)state;
	assert_int_equal(conf_parse_ports("3478-3497,596-599,1400", lo, hi, 4,
	    64, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(lo[0], 3478);
	assert_int_equal(hi[0], 3497);
	assert_int_equal(lo[2], 1400);
	assert_int_equal(hi[2], 1400);
	assert_int_equal(conf_parse_ports("1-65", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "more than 64 ports"));
	assert_int_equal(conf_parse_ports("5-3", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "'5-3'"));
	assert_int_equal(conf_parse_ports("0", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("70000", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("1,,2", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("1,", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("1,2,3,4,5", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(conf_parse_ports("a-b", lo, hi, 4, 64, &n, why,
	    sizeof(why)), -1);
}

/* ------------------------------------------------------------ helper */

static struct sockaddr_in
peer4(void)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(40000);
	s.sin_addr.s_addr = htonl(0xc0000201);
	return s;
}

static size_t
turn_req(uint8_t *b, size_t cap, uint16_t type, const struct hu_turn *cred,
    const char *password, int channel, bool pad)
{
	uint8_t key[STUN_KEY_LEN], v[4] = {IPPROTO_UDP, 0, 0, 0};
	stun_w_t w;

	stun_w_init(&w, b, cap, type, tid);
	if (type == STUN_ALLOCATE)
		stun_w_attr(&w, STUN_A_TRANSPORT, v, 4);
	if (channel) {
		be16_put(v, (uint16_t)channel);
		v[2] = v[3] = 0;
		stun_w_attr(&w, STUN_A_CHANNEL, v, 4);
	}
	if (pad)
		stun_w_attr(&w, STUN_A_SOFTWARE, "a client that pads its "
		    "requests to 76 bytes or more", 51);
	if (cred != NULL) {
		stun_lt_key(cred->user, cred->realm, password, key);
		stun_w_attr(&w, STUN_A_USERNAME, cred->user, strlen(cred->user));
		stun_w_attr(&w, STUN_A_REALM, cred->realm, strlen(cred->realm));
		stun_w_attr(&w, STUN_A_NONCE, "n", 1);
		stun_w_integrity(&w, key);
	}
	return stun_w_end(&w);
}

static void
t_helper_turn(void **state)
{
	struct sockaddr_in p = peer4();
	uint8_t rnd[HU_RAND_LEN], in[512], out[HU_OUT_MAX];
	struct hu_turn t;
	struct stun_msg m;
	enum hu_kind k;
	char why[128];
	size_t n, r;

	(void)state;
	memset(rnd, 0xab, sizeof(rnd));
	hu_turn_init(&t, NULL, NULL, NULL);
	/* no credential: 401, realm, nonce, software */
	n = turn_req(in, sizeof(in), STUN_ALLOCATE, NULL, NULL, 0, true);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(k, HU_TURN_CHALLENGE);
	assert_true(r > 0 && r <= n + HU_MAX_GROWTH);
	assert_int_equal(stun_parse(out, r, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, STUN_ALLOCATE | STUN_ERROR);
	assert_int_equal(m.error_code, 401);
	assert_string_equal(m.realm, "zond");
	assert_int_equal(strlen(m.nonce), 32);
	assert_string_equal(m.software, "zond-helper");
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	/* the same unpadded: the answer would amplify, none is sent */
	n = turn_req(in, sizeof(in), STUN_ALLOCATE, NULL, NULL, 0, false);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(r, 0);
	assert_int_equal(k, HU_IGNORED);
	/* the credential: success with a relayed address */
	n = turn_req(in, sizeof(in), STUN_ALLOCATE, &t, "zond-call", 0, true);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(k, HU_TURN_ALLOCATE);
	assert_int_equal(stun_parse(out, r, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, STUN_ALLOCATE | STUN_SUCCESS);
	assert_int_equal(m.relayed_family, 4);
	assert_true(stun_integrity_ok(out, r, &m, t.key));
	/* a wrong password: 401 again */
	n = turn_req(in, sizeof(in), STUN_ALLOCATE, &t, "nope", 0, true);
	(void)hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(k, HU_TURN_CHALLENGE);
	/* ChannelBind: a valid channel -> success; 0x3000 -> 400 */
	n = turn_req(in, sizeof(in), STUN_CHANNEL_BIND, &t, "zond-call",
	    0x4001, false);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(k, HU_TURN_CHANNEL_BIND);
	assert_int_equal(stun_parse(out, r, &m, why, sizeof(why)), 0);
	assert_int_equal(m.type, STUN_CHANNEL_BIND | STUN_SUCCESS);
	n = turn_req(in, sizeof(in), STUN_CHANNEL_BIND, &t, "zond-call",
	    0x3000, false);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(stun_parse(out, r, &m, why, sizeof(why)), 0);
	assert_int_equal(m.error_code, 400);
	/* ChannelData: echoed unchanged */
	n = stun_chandata_build(in, sizeof(in), 0x4001,
	    (const uint8_t *)"\x80\x6f\0\1media", 9);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(k, HU_CHANNEL_DATA);
	assert_int_equal(r, n);
	assert_memory_equal(out, in, n);
	/* a malformed Allocate (attribute past the end): no answer */
	n = turn_req(in, sizeof(in), STUN_ALLOCATE, NULL, NULL, 0, true);
	be16_put(in + 22, 200);
	r = hu_answer_turn(in, n, (struct sockaddr *)&p, rnd, &t, out,
	    sizeof(out), &k);
	assert_int_equal(r, 0);
	assert_int_equal(k, HU_BAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_binding_roundtrip),
		cmocka_unit_test(t_error_answer),
		cmocka_unit_test(t_xor_address),
		cmocka_unit_test(t_integrity),
		cmocka_unit_test(t_malformed),
		cmocka_unit_test(t_writer_overflow),
		cmocka_unit_test(t_chandata),
		cmocka_unit_test(t_rtp),
		cmocka_unit_test(t_ports),
		cmocka_unit_test(t_helper_turn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
