/*
 * test_censor.c — zond-censor's pure parts, without root: the rules file
 * parser, the packet readers (with a real ClientHello from
 * clienthello.hex), forged packets and their checksums, per-packet
 * decisions, the generated nft text, and a fuzz loop that feeds random and
 * mutated packets to censor_decide (run under ASan/UBSan in CI).
 *
 * argv[1] is the tests/censor source folder.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "censor.h"
#include "forge.h"
#include "kernel.h"
#include "pkt.h"
#include "quic.h"
#include "rules.h"
#include "tlshello.h"

static const char *srcdir = ".";
static uint8_t ch[2048];	/* the real ClientHello */
static size_t chlen;

/* Parse text into a fresh ruleset; return the error code. */
static zerr_t
parse(const char *text, struct ruleset **rsp, zdiag_t *d)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	zerr_t e;

	assert_non_null(rs);
	e = rules_parse("t.rules", text, strlen(text), rs, d);
	*rsp = rs;
	return e;
}

static void
test_rules_good(void **state)
{
	const char *text =
	    "# every type\n"
	    "ip_drop ip=198.51.100.9\n"
	    "\n"
	    "tcp_rst ip=198.51.100.10 port=443\r\n"
	    "udp_drop ports=3478,16384-16387\n"
	    "udp_drop ip=10.0.0.1 ports=53   # trailing comment\n"
	    "loss pct=0\n"
	    "tcp_freeze ip=198.51.100.11 after_bytes=18000\n"
	    "\tsni_rst   sni=Call.Example.\n"
	    "sni_drop sni=x.example\n"
	    "throttle sni=video.example kbps=150\n"
	    "dns_hijack domain=news.example answer=10.99.0.1\n"
	    "dns_nxdomain domain=nx.example\n"
	    "dns_inject domain=inj.example answer=10.99.0.2\n"
	    "http_blockpage host=news.example\n"
	    "quic_v1_drop\n"
	    "proto_drop protocol=wireguard\n"
	    "proto_drop protocol=openvpn\n"
	    "tcp_drop ip=198.51.100.48/29 ports=443,5222-5223\n"
	    "udp_drop ip=203.0.113.0/24 ports=3478-3497\n"
	    "udp_cutoff ip=203.0.113.40 ports=3478 after_s=5\n"
	    "udp_cutoff ports=1400 after_packets=100\n"
	    "tcp_drop ip=0.0.0.0/0 ports=1\n"
	    "quic_sni sni=YouTube.example\n"
	    "tls_fingerprint sni=x.example shape=other";	/* no final newline */
	struct ruleset *rs, *again;
	char line[512], all[8192];
	size_t i, o = 0;
	zdiag_t d;

	(void)state;
	assert_int_equal(parse(text, &rs, &d), ZE_OK);
	assert_int_equal(rs->n, 23);
	assert_int_equal(rs->r[21].type, RT_QUIC_SNI);
	assert_string_equal(rs->r[21].name, "youtube.example");
	assert_int_equal(rs->r[22].shape, TLS_SHAPE_OTHER);
	assert_int_equal(rs->r[0].type, RT_IP_DROP);
	assert_int_equal(rs->r[0].line, 2);
	assert_int_equal(rs->r[1].port, 443);
	assert_int_equal(rs->r[1].line, 4);
	assert_int_equal(rs->r[2].nports, 2);
	assert_int_equal(rs->r[2].ports[1].lo, 16384);
	assert_int_equal(rs->r[2].ports[1].hi, 16387);
	assert_false(rs->r[2].has_ip);
	assert_true(rs->r[3].has_ip);
	assert_int_equal(rs->r[4].pct, 0);
	assert_int_equal(rs->r[5].after_bytes, 18000);
	assert_string_equal(rs->r[6].name, "call.example");
	assert_int_equal(rs->r[8].kbps, 150);
	assert_int_equal(rs->r[13].type, RT_QUIC_V1_DROP);
	assert_int_equal(rs->r[14].proto, RP_WIREGUARD);
	assert_int_equal(rs->r[15].proto, RP_OPENVPN);
	assert_int_equal(rs->r[15].line, 18);
	assert_int_equal(rs->r[3].prefix, 32);
	assert_int_equal(rs->r[16].type, RT_TCP_DROP);
	assert_int_equal(rs->r[16].prefix, 29);
	assert_int_equal(rs->r[16].nports, 2);
	assert_int_equal(rs->r[17].prefix, 24);
	assert_int_equal(rs->r[18].type, RT_UDP_CUTOFF);
	assert_int_equal(rs->r[18].after_s, 5);
	assert_int_equal(rs->r[18].after_packets, 0);
	assert_int_equal(rs->r[19].after_packets, 100);
	assert_false(rs->r[19].has_ip);
	assert_int_equal(rs->r[20].prefix, 0);

	/* rules_format writes lines that parse back to the same rules. */
	for (i = 0; i < rs->n; i++) {
		rules_format(&rs->r[i], line, sizeof(line));
		o += (size_t)snprintf(all + o, sizeof(all) - o, "%s\n", line);
	}
	assert_int_equal(parse(all, &again, &d), ZE_OK);
	assert_int_equal(again->n, rs->n);
	for (i = 0; i < rs->n; i++) {
		again->r[i].line = rs->r[i].line;
		assert_memory_equal(&again->r[i], &rs->r[i], sizeof(rs->r[i]));
	}
	free(again);
	free(rs);
}

static void
test_rules_bad(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"bogus ip=1.2.3.4\n", "t.rules:1: unknown rule type 'bogus'"},
		{"\n\nip_drop\n", "t.rules:3: ip_drop needs ip="},
		{"ip_drop ip=1.2.3\n", "t.rules:1: ip '1.2.3' is not an IPv4"},
		{"ip_drop ip=1.2.3.4 ip=1.2.3.5\n", "key 'ip' given twice"},
		{"ip_drop ip=1.2.3.4 port=3\n", "ip_drop takes no key 'port'"},
		{"ip_drop ip\n", "'ip' is not key=value"},
		{"ip_drop =1\n", "'=1' is not key=value"},
		{"ip_drop ip=\n", "key 'ip' has no value"},
		{"tcp_rst ip=1.2.3.4 port=0\n", "port '0' is not in 1..65535"},
		{"tcp_rst ip=1.2.3.4 port=65536\n", "port '65536'"},
		{"tcp_rst ip=1.2.3.4 port=-1\n", "port '-1'"},
		{"tcp_rst ip=1.2.3.4 port=80x\n", "port '80x'"},
		{"udp_drop ports=5-3\n", "ports '5-3'"},
		{"udp_drop ports=1,\n", "ports '1,'"},
		{"udp_drop ports=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
		    "up to 16 ports"},
		{"loss_pct pct=101\n", "pct '101' is not in 0..100"},
		{"throttle sni=a.example\n", "throttle needs kbps="},
		{"throttle sni=a.example kbps=0\n", "kbps '0'"},
		{"tcp_freeze ip=1.2.3.4 after_bytes=99999999999999\n",
		    "after_bytes"},
		{"sni_rst sni=bad..name\n", "'bad..name' is not a host name"},
		{"sni_rst sni=bad/name\n", "is not a host name"},
		{"sni_rst sni=.\n", "'.' is not a host name"},
		{"dns_hijack domain=a.example\n", "dns_hijack needs answer="},
		{"dns_hijack domain=a.example answer=::1\n", "answer '::1'"},
		{"proto_drop protocol=ipsec\n", "protocol 'ipsec'"},
		{"quic_v1_drop a b c d e f g h i j k l m\n", "more than 12"},
		{"quic_v1_drop\0\n", "NUL byte"},
		{"tcp_drop ip=1.2.3.4\n", "tcp_drop needs ports="},
		{"tcp_drop ip=1.2.3.4/24 ports=1\n",
		    "ip '1.2.3.4/24' is not an IPv4 address or CIDR prefix "
		    "(host bits clear)"},
		{"tcp_drop ip=1.2.3.0/33 ports=1\n", "ip '1.2.3.0/33'"},
		{"tcp_drop ip=1.2.3.0/ ports=1\n", "ip '1.2.3.0/'"},
		{"tcp_drop ip=1.2.3.0/-8 ports=1\n", "ip '1.2.3.0/-8'"},
		{"ip_drop ip=1.2.3.0/24\n",
		    "ip '1.2.3.0/24': ip_drop takes an address, not a prefix"},
		{"tcp_rst ip=1.2.3.0/24 port=1\n", "tcp_rst takes an address"},
		{"udp_cutoff ports=1\n",
		    "udp_cutoff needs one of after_s= or after_packets="},
		{"udp_cutoff ports=1 after_s=1 after_packets=2\n",
		    "udp_cutoff needs one of"},
		{"udp_cutoff ports=1 after_s=0\n", "after_s '0' is not in 1..3600"},
		{"udp_cutoff ports=1 after_s=3601\n", "after_s '3601'"},
		{"udp_cutoff ports=1 after_packets=1000001\n",
		    "after_packets '1000001' is not in 1..1000000"},
		{"udp_cutoff after_s=5\n", "udp_cutoff needs ports="},
		{"tcp_drop ports=1 after_s=5\n", "tcp_drop takes no key 'after_s'"},
		{"quic_sni\n", "quic_sni needs sni="},
		{"tls_fingerprint sni=a.example\n", "tls_fingerprint needs shape="},
		{"tls_fingerprint sni=a.example shape=chrome\n",
		    "shape 'chrome' is not openssl, browser, quic or other"},
	};
	struct ruleset *rs;
	size_t i;
	zdiag_t d;

	(void)state;
	for (i = 0; i < ZARRAY_LEN(cases); i++) {
		memset(&d, 0, sizeof(d));
		rs = calloc(1, sizeof(*rs));
		assert_non_null(rs);
		/* The NUL case needs its real length. */
		if (rules_parse("t.rules", cases[i].text,
		    strlen(cases[i].text) + (strstr(cases[i].msg, "NUL") ?
		    2 : 0), rs, &d) == ZE_OK)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		if (strstr(d.text, cases[i].msg) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, d.text,
			    cases[i].msg);
		free(rs);
	}
}

static void
test_rules_limits(void **state)
{
	size_t n = RULES_MAX + 1, i, o = 0, cap = n * 20 + 64;
	char *text = malloc(cap), big[RULES_MAX_LINE + 10];
	struct ruleset *rs = calloc(1, sizeof(*rs));
	zdiag_t d;

	(void)state;
	assert_non_null(text);
	assert_non_null(rs);
	for (i = 0; i < RULES_MAX; i++)
		o += (size_t)snprintf(text + o, cap - o, "quic_v1_drop\n");
	o += (size_t)snprintf(text + o, cap - o, "# fine\n\n");
	assert_int_equal(rules_parse("t", text, o, rs, &d), ZE_OK);
	assert_int_equal(rs->n, RULES_MAX);
	o += (size_t)snprintf(text + o, cap - o, "quic_v1_drop\n");
	assert_int_equal(rules_parse("t", text, o, rs, &d), ZE_TOOBIG);
	assert_non_null(strstr(d.text, "more than 256 rules"));
	memset(big, 'a', sizeof(big));
	assert_int_equal(rules_parse("t", big, sizeof(big), rs, &d),
	    ZE_TOOBIG);
	assert_non_null(strstr(d.text, "t:1: line longer"));
	free(text);
	free(rs);
}

static void
test_name_match(void **state)
{
	(void)state;
	assert_true(rules_name_match("a.example", "a.example"));
	assert_true(rules_name_match("a.example", "www.a.example"));
	assert_false(rules_name_match("a.example", "xa.example"));
	assert_false(rules_name_match("a.example", "example"));
	assert_false(rules_name_match("a.example", "a.example.org"));
	assert_false(rules_name_match("", "a"));
}

static void
load_clienthello(void)
{
	char path[1024], line[256];
	FILE *f;
	size_t i, n;
	unsigned v;

	snprintf(path, sizeof(path), "%s/clienthello.hex", srcdir);
	f = fopen(path, "r");
	assert_non_null(f);
	chlen = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		n = strcspn(line, "\r\n");
		for (i = 0; i + 1 < n && chlen < sizeof(ch); i += 2) {
			assert_int_equal(sscanf(line + i, "%2x", &v), 1);
			ch[chlen++] = (uint8_t)v;
		}
	}
	fclose(f);
	assert_true(chlen > 100);
}

static void
test_tls_sni(void **state)
{
	char name[PKT_NAME_MAX];
	uint8_t mut[2048];
	size_t cut, sni_end = 0, i;

	(void)state;
	assert_true(pkt_tls_sni(ch, chlen, name, sizeof(name)));
	assert_string_equal(name, "video.example.org");
	/* Cut short: found once the whole name is in, never before. */
	for (cut = 0; cut <= chlen; cut++) {
		bool ok = pkt_tls_sni(ch, cut, name, sizeof(name));

		if (ok && sni_end == 0)
			sni_end = cut;
		if (sni_end != 0)
			assert_true(ok);
	}
	assert_true(sni_end > 50 && sni_end < chlen);
	/* A name buffer too small is a miss, not an overflow. */
	assert_false(pkt_tls_sni(ch, chlen, name, 10));
	/* Not a handshake, not a ClientHello. */
	memcpy(mut, ch, chlen);
	mut[0] = 23;
	assert_false(pkt_tls_sni(mut, chlen, name, sizeof(name)));
	mut[0] = 22;
	mut[5] = 2;
	assert_false(pkt_tls_sni(mut, chlen, name, sizeof(name)));
	/* Every single-byte corruption: no crash (ASan watches). */
	for (i = 0; i < chlen; i++) {
		memcpy(mut, ch, chlen);
		mut[i] ^= 0xff;
		(void)pkt_tls_sni(mut, chlen, name, sizeof(name));
	}
}

static void
test_http_host(void **state)
{
	static const struct {
		const char *req, *host;
	} cases[] = {
		{"GET / HTTP/1.1\r\nHost: News.Example\r\n\r\n",
		    "news.example"},
		{"GET / HTTP/1.1\r\nUser-Agent: x\r\n"
		    "host:a.example:8080\r\n\r\n", "a.example"},
		{"POST /x HTTP/1.0\nHOST: \t b.example \t\n\n", "b.example"},
		{"GET / HTTP/1.1\r\nX-Host: c.example\r\n\r\n", NULL},
		{"GET / HTTP/1.1\r\n\r\nHost: d.example\r\n", NULL},
		{"get / HTTP/1.1\r\nHost: e.example\r\n\r\n", NULL},
		{"GET / HTTP/1.1\r\nHost: e.example", NULL},
		{"GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", NULL},
		{"\x16\x03\x01", NULL},
	};
	char name[PKT_NAME_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ZARRAY_LEN(cases); i++) {
		bool ok = pkt_http_host((const uint8_t *)cases[i].req,
		    strlen(cases[i].req), name, sizeof(name));

		if (cases[i].host == NULL) {
			if (ok)
				fail_msg("case %zu: found '%s'", i, name);
		} else {
			assert_true(ok);
			assert_string_equal(name, cases[i].host);
		}
	}
}

/* A DNS query for name (type qtype) into buf; returns its length. */
static size_t
dns_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	size_t o = 12, l;
	const char *p = name, *dot;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x01;	/* RD */
	buf[5] = 1;
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		buf[o++] = (uint8_t)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l + (dot != NULL ? 1 : 0);
	}
	buf[o++] = 0;
	buf[o++] = (uint8_t)(qtype >> 8);
	buf[o++] = (uint8_t)qtype;
	buf[o++] = 0;
	buf[o++] = 1;
	return o;
}

static void
test_dns(void **state)
{
	uint8_t q[512], r[512];
	struct dns_q dq, back;
	struct in_addr a;
	size_t n, m;

	(void)state;
	n = dns_query(q, "WWW.News.example", 1);
	assert_true(pkt_dns_query(q, n, &dq));
	assert_string_equal(dq.name, "www.news.example");
	assert_int_equal(dq.id, 0x1234);
	assert_int_equal(dq.qtype, 1);
	assert_int_equal(dq.qend, n);
	inet_pton(AF_INET, "10.99.0.1", &a);
	m = forge_dns_answer(r, sizeof(r), q, &dq, 0, &a);
	assert_int_equal(m, n + 16);
	assert_int_equal(r[2] & 0x80, 0x80);		/* QR */
	assert_int_equal(r[2] & 0x01, 0x01);		/* RD kept */
	assert_int_equal(r[3] & 0x0f, 0);
	assert_int_equal(r[7], 1);			/* ANCOUNT */
	assert_memory_equal(r + m - 4, &a, 4);
	assert_false(pkt_dns_query(r, m, &back));	/* a response */
	m = forge_dns_answer(r, sizeof(r), q, &dq, 3, NULL);
	assert_int_equal(m, n);
	assert_int_equal(r[3] & 0x0f, 3);
	assert_int_equal(r[7], 0);
	assert_int_equal(forge_dns_answer(r, n, q, &dq, 0, &a), 0);
	/* AAAA gets an empty answer even from dns_hijack. */
	n = dns_query(q, "a.example", 28);
	assert_true(pkt_dns_query(q, n, &dq));
	assert_int_equal(forge_dns_answer(r, sizeof(r), q, &dq, 0, &a), n);
	/* Malformed. */
	q[12] = 64;
	assert_false(pkt_dns_query(q, n, &dq));
	q[12] = 0xc0;
	assert_false(pkt_dns_query(q, n, &dq));
	n = dns_query(q, "a.example", 1);
	assert_false(pkt_dns_query(q, n - 1, &dq));
	assert_false(pkt_dns_query(q, 11, &dq));
}

static void
test_shapes(void **state)
{
	uint8_t p[1300];

	(void)state;
	memset(p, 0xaa, sizeof(p));
	p[0] = 0xc3;
	p[1] = p[2] = p[3] = 0;
	p[4] = 1;
	assert_true(pkt_quic_v1_big(p, 1001));
	assert_true(pkt_quic_v1_big(p, 1200));
	assert_false(pkt_quic_v1_big(p, 1000));
	p[4] = 2;
	assert_false(pkt_quic_v1_big(p, 1200));
	p[0] = 1;
	p[1] = p[2] = p[3] = 0;
	assert_true(pkt_wireguard_init(p, 148));
	assert_false(pkt_wireguard_init(p, 147));
	p[3] = 1;
	assert_false(pkt_wireguard_init(p, 148));
	p[0] = 7 << 3 | 2;
	p[9] = 0;
	assert_true(pkt_openvpn_reset(p, 14, false));
	assert_false(pkt_openvpn_reset(p, 13, false));
	p[0] = 10 << 3;
	assert_true(pkt_openvpn_reset(p, 60, false));
	p[0] = 8 << 3;
	assert_false(pkt_openvpn_reset(p, 60, false));
	/* TCP framing: a 2-byte length first. */
	p[0] = 0;
	p[1] = 40;
	p[2] = 7 << 3;
	p[11] = 0;
	assert_true(pkt_openvpn_reset(p, 42, true));
	assert_false(pkt_openvpn_reset(p, 43, true));
}

/* An IPv4/TCP or UDP packet from the client to the server. */
static size_t
packet(uint8_t *buf, uint8_t proto, uint16_t dport, uint8_t flags,
    const uint8_t *data, size_t dlen)
{
	struct in_addr c, s;

	inet_pton(AF_INET, "10.1.1.2", &c);
	inet_pton(AF_INET, "198.51.100.10", &s);
	if (proto == IPPROTO_TCP)
		return forge_tcp(buf, FORGE_MAX, c, s, 40000, dport, 1000,
		    5000, flags, data, dlen);
	return forge_udp(buf, FORGE_MAX, c, s, 40000, dport, data, dlen);
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Internet checksum over the IP header, and over the pseudo header plus
 * the segment: both must come out 0 (i.e. 0xffff folded). */
static void
assert_checksums(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i, l4 = len - 20;

	for (i = 0; i < 20; i += 2)
		s += rd16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	assert_int_equal(s, 0xffff);
	s = 0;
	for (i = 12; i < 20; i += 2)
		s += rd16(p + i);
	s += p[9];
	s += (uint32_t)l4;
	for (i = 0; i + 1 < l4; i += 2)
		s += rd16(p + 20 + i);
	if (l4 & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	assert_int_equal(s, 0xffff);
	assert_int_equal(rd16(p + 2), len);
}

static void
test_decide(void **state)
{
	struct ruleset *rs;
	struct censor_decision *d = calloc(1, sizeof(*d));
	uint8_t pk[FORGE_MAX], q[512];
	const uint8_t *in;
	zdiag_t e;
	size_t n;
	const char *http = "GET / HTTP/1.1\r\nHost: news.example\r\n\r\n";

	(void)state;
	assert_non_null(d);
	assert_int_equal(parse("throttle sni=other.example kbps=100\n"
	    "sni_rst sni=example.org\n"
	    "http_blockpage host=news.example\n"
	    "dns_hijack domain=hijack.example answer=10.99.0.1\n"
	    "dns_inject domain=inject.example answer=10.99.0.2\n"
	    "quic_v1_drop\n", &rs, &e), ZE_OK);

	/* sni_rst: RST to the client at its ack, RST to the server. */
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK | TCPF_PSH, ch, chlen);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 1);
	assert_int_equal(d->verdict, CV_ACCEPT);
	assert_int_equal(d->mark, KMARK(KMARK_DROP, 1));
	assert_string_equal(d->name, "video.example.org");
	assert_int_equal(d->ninject, 2);
	in = d->inject[0].buf;
	assert_checksums(in, d->inject[0].len);
	assert_memory_equal(in + 12, pk + 16, 4);	/* from the server */
	assert_int_equal(rd16(in + 20), 443);
	assert_int_equal(rd32(in + 24), 5000);		/* seq = client ack */
	assert_int_equal(rd32(in + 28), 1000 + chlen);
	assert_int_equal(in[33], TCPF_RST | TCPF_ACK);
	in = d->inject[1].buf;
	assert_checksums(in, d->inject[1].len);
	assert_memory_equal(in + 16, pk + 16, 4);	/* to the server */
	assert_int_equal(rd32(in + 24), 1000);
	assert_int_equal(in[33], TCPF_RST);
	/* The same ClientHello to port 8443 is caught too: SNI filters key
	 * on the name, not the port. */
	n = packet(pk, IPPROTO_TCP, 8443, TCPF_ACK, ch, chlen);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 1);
	/* Other data on that port is not. */
	n = packet(pk, IPPROTO_TCP, 8443, TCPF_ACK,
	    (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);

	/* http_blockpage: the page with FIN, then RST to the server. */
	n = packet(pk, IPPROTO_TCP, 80, TCPF_ACK | TCPF_PSH,
	    (const uint8_t *)http, strlen(http));
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 2);
	assert_int_equal(d->ninject, 2);
	in = d->inject[0].buf;
	assert_checksums(in, d->inject[0].len);
	assert_int_equal(in[33], TCPF_ACK | TCPF_PSH | TCPF_FIN);
	assert_int_equal(rd32(in + 24), 5000);
	assert_int_equal(rd32(in + 28), 1000 + strlen(http));
	assert_non_null(memmem(in + 40, d->inject[0].len - 40,
	    FORGE_BLOCKPAGE_TEXT, strlen(FORGE_BLOCKPAGE_TEXT)));

	/* dns_hijack: drop, and an answer from the resolver. */
	n = dns_query(q, "www.hijack.example", 1);
	n = packet(pk, IPPROTO_UDP, 53, 0, q, n);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 3);
	assert_int_equal(d->verdict, CV_DROP);
	assert_int_equal(d->ninject, 1);
	in = d->inject[0].buf;
	assert_checksums(in, d->inject[0].len);
	assert_memory_equal(in + 12, pk + 16, 4);
	assert_int_equal(rd16(in + 20), 53);
	assert_int_equal(rd16(in + 22), 40000);
	/* dns_inject: the query passes. */
	n = dns_query(q, "inject.example", 1);
	n = packet(pk, IPPROTO_UDP, 53, 0, q, n);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 4);
	assert_int_equal(d->verdict, CV_ACCEPT);
	assert_int_equal(d->ninject, 1);

	/* quic_v1_drop. */
	memset(q, 0, sizeof(q));
	q[0] = 0xc3;
	q[4] = 1;
	{
		uint8_t big[1200];

		memset(big, 0, sizeof(big));
		big[0] = 0xc3;
		big[4] = 1;
		n = packet(pk, IPPROTO_UDP, 443, 0, big, sizeof(big));
		censor_decide(rs, pk, n, d);
		assert_int_equal(d->rule, 5);
		assert_int_equal(d->verdict, CV_DROP);
		n = packet(pk, IPPROTO_UDP, 443, 0, big, 1000);
		censor_decide(rs, pk, n, d);
		assert_int_equal(d->rule, -1);
	}
	/* Fragments are never read. */
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK, ch, chlen);
	pk[6] |= 0x20;
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	free(rs);
	free(d);
}

static uint64_t
next(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static void
test_fuzz(void **state)
{
	struct ruleset *rs;
	struct censor_decision *d = calloc(1, sizeof(*d));
	uint8_t base[6][FORGE_MAX], pk[FORGE_MAX], q[512];
	size_t blen[6], n, i, j, k;
	uint64_t x = 0x9e3779b97f4a7c15u;
	zdiag_t e;
	const char *http = "GET / HTTP/1.1\r\nHost: news.example\r\n\r\n";

	(void)state;
	assert_non_null(d);
	assert_int_equal(parse("sni_rst sni=example.org\n"
	    "http_blockpage host=news.example\n"
	    "dns_nxdomain domain=hijack.example\n"
	    "quic_v1_drop\nproto_drop protocol=wireguard\n"
	    "proto_drop protocol=openvpn\n", &rs, &e), ZE_OK);
	blen[0] = packet(base[0], IPPROTO_TCP, 443, TCPF_ACK, ch, chlen);
	blen[1] = packet(base[1], IPPROTO_TCP, 80, TCPF_ACK,
	    (const uint8_t *)http, strlen(http));
	n = dns_query(q, "www.hijack.example", 1);
	blen[2] = packet(base[2], IPPROTO_UDP, 53, 0, q, n);
	memset(q, 0, sizeof(q));
	q[0] = 1;
	blen[3] = packet(base[3], IPPROTO_UDP, 51820, 0, q, 148);
	q[0] = 7 << 3;
	blen[4] = packet(base[4], IPPROTO_UDP, 1194, 0, q, 60);
	blen[5] = packet(base[5], IPPROTO_TCP, 1194, TCPF_ACK, q, 60);
	for (i = 0; i < 200000; i++) {
		x = next(x);
		k = (size_t)(x % 6);
		memcpy(pk, base[k], blen[k]);
		n = blen[k];
		if (i % 4 == 0) {	/* random bytes after a v4 nibble */
			for (j = 0; j < sizeof(pk); j++)
				pk[j] = (uint8_t)(x >> (j % 57));
			pk[0] = 0x45;
			n = (size_t)(x >> 20) % sizeof(pk);
		} else {		/* a few flipped bytes, maybe cut */
			uint64_t y = x;

			for (j = 0; j < 1 + (x >> 60) && n > 0; j++) {
				y = next(y);
				pk[(y >> 8) % n] ^= (uint8_t)(y | 1);
			}
			if ((x >> 40) & 1)
				n = (size_t)(x >> 41) % (n + 1);
		}
		censor_decide(rs, pk, n, d);
		assert_true(d->ninject <= CENSOR_MAX_INJECT);
		for (j = 0; j < d->ninject; j++)
			assert_true(d->inject[j].len <= FORGE_MAX);
	}
	free(rs);
	free(d);
}

/* A client's version-1 Initial carrying a QUIC-shaped ClientHello for
 * sni, padded to 1200 bytes, as lib/quic.c builds it for the agent. */
static size_t
quic_initial(const char *sni, uint8_t *out, size_t cap)
{
	static const uint8_t tp[] = {0x04, 0x04, 0x80, 0x10, 0x00, 0x00};
	tls_hello_opts_t o = {.shape = TLS_SHAPE_QUIC, .sni = sni,
	    .alpn = "h3", .quic_tp = tp, .quic_tp_len = sizeof(tp)};
	quic_hdr_t h = {.version = QUIC_V1, .dcid_len = 8, .scid_len = 4,
	    .pn = 0};
	uint8_t hello[TLS_HELLO_CAP];
	size_t hn, n;
	zdiag_t d;

	memcpy(h.dcid, "\x83\x94\xc8\xf0\x3e\x51\x57\x08", 8);
	memcpy(h.scid, "zond", 4);
	assert_int_equal(tls_hello_build(&o, false, hello, sizeof(hello), &hn,
	    &d), ZE_OK);
	assert_int_equal(quic_client_initial(&h, hello, hn, 1200, out, cap,
	    &n, &d), ZE_OK);
	return n;
}

/* quic_sni and tls_fingerprint on real packets built by lib/quic.c and
 * lib/tlshello.c: the rule's name and shape decide, nothing else. */
static void
test_decide_shapes(void **state)
{
	struct ruleset *rs;
	struct censor_decision *d = calloc(1, sizeof(*d));
	uint8_t pk[FORGE_MAX], q[1400], hello[TLS_HELLO_CAP];
	tls_hello_opts_t o = {.shape = TLS_SHAPE_BROWSER,
	    .sni = "www.video.example"};
	size_t n, qn, hn;
	zdiag_t e;

	(void)state;
	assert_non_null(d);
	assert_int_equal(parse("quic_sni sni=video.example\n"
	    "tls_fingerprint sni=video.example shape=browser\n", &rs, &e),
	    ZE_OK);
	assert_int_equal(rs->r[1].shape, TLS_SHAPE_BROWSER);

	/* quic_sni: the Initial naming the SNI (or a subdomain) is dropped
	 * with its flow; another SNI, another port, a cut datagram pass. */
	qn = quic_initial("www.video.example", q, sizeof(q));
	assert_true(qn >= 1200);
	n = packet(pk, IPPROTO_UDP, 443, 0, q, qn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 0);
	assert_int_equal(d->mark, KMARK(KMARK_DROP, 0));
	assert_string_equal(d->name, "www.video.example");
	qn = quic_initial("control.example", q, sizeof(q));
	n = packet(pk, IPPROTO_UDP, 443, 0, q, qn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	assert_int_equal(d->mark, 0);
	assert_int_equal(d->verdict, CV_ACCEPT);
	qn = quic_initial("video.example", q, sizeof(q));
	n = packet(pk, IPPROTO_UDP, 8443, 0, q, qn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	n = packet(pk, IPPROTO_UDP, 443, 0, q, qn - 1);	/* tag cut */
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	q[qn - 1] ^= 1;					/* tag wrong */
	n = packet(pk, IPPROTO_UDP, 443, 0, q, qn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);

	/* tls_fingerprint: the browser-shaped hello with the SNI is dropped
	 * with its flow, the openssl-shaped one with the same SNI passes,
	 * as does a browser-shaped one with another SNI. */
	assert_int_equal(tls_hello_build(&o, true, hello, sizeof(hello), &hn,
	    &e), ZE_OK);
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK | TCPF_PSH, hello, hn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, 1);
	assert_int_equal(d->mark, KMARK(KMARK_DROP, 1));
	assert_int_equal(d->ninject, 0);
	o.shape = TLS_SHAPE_OPENSSL;
	assert_int_equal(tls_hello_build(&o, true, hello, sizeof(hello), &hn,
	    &e), ZE_OK);
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK | TCPF_PSH, hello, hn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	assert_int_equal(d->mark, 0);
	o.shape = TLS_SHAPE_BROWSER;
	o.sni = "other.example";
	assert_int_equal(tls_hello_build(&o, true, hello, sizeof(hello), &hn,
	    &e), ZE_OK);
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK | TCPF_PSH, hello, hn);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	/* the real OpenSSL ClientHello of clienthello.hex is no browser */
	free(rs);
	assert_int_equal(parse("tls_fingerprint sni=example.org "
	    "shape=browser\n", &rs, &e), ZE_OK);
	n = packet(pk, IPPROTO_TCP, 443, TCPF_ACK | TCPF_PSH, ch, chlen);
	censor_decide(rs, pk, n, d);
	assert_int_equal(d->rule, -1);
	free(rs);
	free(d);
}

static void
test_kernel_text(void **state)
{
	struct kernel_opts o;
	struct ruleset *rs;
	uint64_t counts[4] = {0};
	zbuf_t b;
	zdiag_t e;
	const char *listing =
	    "table inet zond_censor_isp_a {\n"
	    "\tchain pre {\n"
	    "\t\tip saddr 1.2.3.4 counter packets 5 bytes 300 drop "
	    "comment \"zond:r0\"\n"
	    "\t\tip daddr 1.2.3.4 counter packets 7 bytes 300 drop "
	    "comment \"zond:r0\"\n"
	    "\t\tnumgen random mod 100 < 30 counter packets 11 bytes 1 drop "
	    "comment \"zond:r3\"\n"
	    "\t\tcounter packets 99 bytes 1 drop comment \"zond:r9\"\n"
	    "\t\tcounter packets 99 bytes 1 drop comment \"zond:rx\"\n"
	    "\t}\n}\n";

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_true(kernel_set_tag(&o, "ISP-a.Moscow"));
	assert_string_equal(o.tag, "isp_a_moscow");
	assert_false(kernel_set_tag(&o, ""));
	assert_true(kernel_set_tag(&o, "isp-a"));
	assert_true(kernel_ifname_ok("veth-r0"));
	assert_false(kernel_ifname_ok("a b"));
	assert_false(kernel_ifname_ok("0123456789abcdef"));
	memcpy(o.lan, "lan0", 5);
	memcpy(o.wan, "wan0", 5);
	o.queue = 7;
	assert_int_equal(parse("ip_drop ip=1.2.3.4\n"
	    "throttle sni=v.example kbps=160\n"
	    "udp_drop ports=53,100-200\n"
	    "loss_pct pct=30\n", &rs, &e), ZE_OK);
	zbuf_init(&b, 65536);
	assert_int_equal(kernel_nft_script(rs, &o, &b), ZE_OK);
	assert_non_null(strstr((char *)b.data,
	    "table inet zond_censor_isp_a {"));
	assert_non_null(strstr((char *)b.data,
	    "iifname != { \"lan0\", \"wan0\" } accept"));
	assert_non_null(strstr((char *)b.data,
	    "ip daddr 1.2.3.4 counter drop comment \"zond:r0\""));
	assert_non_null(strstr((char *)b.data, "ct mark 0x5a020001 limit rate "
	    "over 20000 bytes/second burst 8000 bytes counter drop"));
	assert_non_null(strstr((char *)b.data,
	    "udp dport { 53, 100-200 } counter drop comment \"zond:r2\""));
	assert_non_null(strstr((char *)b.data,
	    "numgen random mod 100 < 30 counter drop comment \"zond:r3\""));
	assert_null(strstr((char *)b.data, "set cut_r"));
	zbuf_reset(&b);
	free(rs);
	/* the call rules: prefixes, TCP ports, cut-offs with their set */
	assert_int_equal(parse("tcp_drop ip=198.51.100.48/29 ports=443,5222-5223\n"
	    "udp_cutoff ip=203.0.113.40 ports=3478 after_s=5\n"
	    "udp_cutoff ports=1400 after_packets=100\n", &rs, &e), ZE_OK);
	assert_int_equal(kernel_nft_script(rs, &o, &b), ZE_OK);
	assert_non_null(strstr((char *)b.data, "ip daddr 198.51.100.48/29 tcp "
	    "dport { 443, 5222-5223 } counter drop comment \"zond:r0\""));
	assert_non_null(strstr((char *)b.data, "\tset cut_r1 {\n"
	    "\t\ttype ipv4_addr . inet_service . ipv4_addr . inet_service\n"
	    "\t\tflags dynamic,timeout\n\t\ttimeout 5s\n"));
	/* the set is declared before the chain that uses it */
	assert_true(strstr((char *)b.data, "set cut_r1") <
	    strstr((char *)b.data, "chain pre"));
	assert_non_null(strstr((char *)b.data, "ip daddr 203.0.113.40 udp dport "
	    "{ 3478 } ct original packets 1 add @cut_r1 { ip saddr . udp sport "
	    ". ip daddr . udp dport } comment \"zond:r1\""));
	assert_non_null(strstr((char *)b.data, "ip daddr 203.0.113.40 udp dport "
	    "{ 3478 } ip saddr . udp sport . ip daddr . udp dport != @cut_r1 "
	    "counter drop comment \"zond:r1\""));
	assert_non_null(strstr((char *)b.data, "\t\tudp dport { 1400 } ct "
	    "original packets > 100 counter drop comment \"zond:r2\""));
	zbuf_reset(&b);
	assert_int_equal(kernel_queue_rules(rs, &o, &b), ZE_OK);
	assert_int_equal(b.len, 0);	/* all in the kernel: no queue */
	free(rs);
	assert_int_equal(parse("ip_drop ip=1.2.3.4\n"
	    "throttle sni=v.example kbps=160\n"
	    "udp_drop ports=53,100-200\n"
	    "loss_pct pct=30\n", &rs, &e), ZE_OK);
	zbuf_reset(&b);
	assert_int_equal(kernel_queue_rules(rs, &o, &b), ZE_OK);
	assert_non_null(strstr((char *)b.data,
	    "-m u32 --u32 0>>22&0x3C@12>>26&0x3C@0>>24=0x16"));
	assert_non_null(strstr((char *)b.data, "--queue-num 7 --queue-bypass"));
	assert_non_null(strstr((char *)b.data, "! -i lan0 -j RETURN"));
	assert_null(strstr((char *)b.data, "--dport 53"));
	zbuf_free(&b);
	kernel_parse_counters(listing, strlen(listing), counts, 4);
	assert_int_equal(counts[0], 12);
	assert_int_equal(counts[3], 11);
	assert_int_equal(counts[1] + counts[2], 0);
	free(rs);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_good),
		cmocka_unit_test(test_rules_bad),
		cmocka_unit_test(test_rules_limits),
		cmocka_unit_test(test_name_match),
		cmocka_unit_test(test_tls_sni),
		cmocka_unit_test(test_http_host),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_kernel_text),
		cmocka_unit_test(test_decide_shapes),
	};

	if (argc > 1)
		srcdir = argv[1];
	load_clienthello();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
