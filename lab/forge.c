/*
 * forge.c — build injected packets (forge.h).
 *
 * Invariant: nothing is written past cap; lengths are checked before any
 * byte is written.  The IP id is fixed (DF is set, so it is never used
 * for reassembly).
 */
#include "forge.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"

#define IPHDR 20
#define TCPHDR 20
#define UDPHDR 8

static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += be16_get(p + i);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
ip_header(uint8_t *p, size_t total, uint8_t proto, struct in_addr src,
    struct in_addr dst)
{
	p[0] = 0x45;
	p[1] = 0;
	be16_put(p + 2, (uint16_t)total);
	be16_put(p + 4, 0x7a6e);	/* "zn": recognisable in captures */
	be16_put(p + 6, 0x4000);	/* DF */
	p[8] = 64;
	p[9] = proto;
	be16_put(p + 10, 0);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	be16_put(p + 10, fold(sum16(0, p, IPHDR)));
}

/* Checksum over the pseudo header and the l4len bytes at l4. */
static uint16_t
l4_sum(const uint8_t *ip, const uint8_t *l4, size_t l4len, uint8_t proto)
{
	uint32_t s = 0;

	s = sum16(s, ip + 12, 8);
	s += proto;
	s += (uint32_t)l4len;
	s = sum16(s, l4, l4len);
	return fold(s);
}

size_t
forge_tcp(uint8_t *buf, size_t cap, struct in_addr src, struct in_addr dst,
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *data, size_t dlen)
{
	size_t total = IPHDR + TCPHDR + dlen;
	uint8_t *t = buf + IPHDR;

	if (cap < total || total > FORGE_MAX)
		return 0;
	ip_header(buf, total, IPPROTO_TCP, src, dst);
	be16_put(t, sport);
	be16_put(t + 2, dport);
	be32_put(t + 4, seq);
	be32_put(t + 8, ack);
	t[12] = (TCPHDR / 4) << 4;
	t[13] = flags;
	be16_put(t + 14, 65535);	/* window */
	be16_put(t + 16, 0);
	be16_put(t + 18, 0);
	if (dlen > 0)
		memcpy(t + TCPHDR, data, dlen);
	be16_put(t + 16, l4_sum(buf, t, TCPHDR + dlen, IPPROTO_TCP));
	return total;
}

size_t
forge_udp(uint8_t *buf, size_t cap, struct in_addr src, struct in_addr dst,
    uint16_t sport, uint16_t dport, const uint8_t *data, size_t dlen)
{
	size_t total = IPHDR + UDPHDR + dlen;
	uint8_t *u = buf + IPHDR;
	uint16_t s;

	if (cap < total || total > FORGE_MAX)
		return 0;
	ip_header(buf, total, IPPROTO_UDP, src, dst);
	be16_put(u, sport);
	be16_put(u + 2, dport);
	be16_put(u + 4, (uint16_t)(UDPHDR + dlen));
	be16_put(u + 6, 0);
	if (dlen > 0)
		memcpy(u + UDPHDR, data, dlen);
	s = l4_sum(buf, u, UDPHDR + dlen, IPPROTO_UDP);
	be16_put(u + 6, s == 0 ? 0xffff : s);
	return total;
}

size_t
forge_dns_answer(uint8_t *buf, size_t cap, const uint8_t *query,
    const struct dns_q *q, unsigned rcode, const struct in_addr *a)
{
	bool with_a = a != NULL && q->qtype == 1 && q->qclass == 1;
	size_t len = q->qend + (with_a ? 16 : 0);
	uint8_t *p;

	if (q->qend < 12 + 5 || cap < len)
		return 0;
	memcpy(buf, query, q->qend);
	/* QR, opcode 0, AA, RD as asked, RA, rcode. */
	be16_put(buf + 2, (uint16_t)(0x8000 | 0x0400 | (q->flags & 0x0100) |
	    0x0080 | (rcode & 0xf)));
	be16_put(buf + 4, 1);
	be16_put(buf + 6, with_a ? 1 : 0);
	be16_put(buf + 8, 0);
	be16_put(buf + 10, 0);
	if (with_a) {
		p = buf + q->qend;
		be16_put(p, 0xc00c);	/* the name at offset 12 */
		be16_put(p + 2, 1);		/* A */
		be16_put(p + 4, 1);		/* IN */
		be32_put(p + 6, 60);
		be16_put(p + 10, 4);
		memcpy(p + 12, a, 4);
	}
	return len;
}

size_t
forge_blockpage(char *buf, size_t cap, const char *host)
{
	char body[512];
	int bn, n;

	bn = snprintf(body, sizeof(body),
	    "<html><head><title>Access restricted</title></head><body>\n"
	    "<h1>" FORGE_BLOCKPAGE_TEXT "</h1>\n"
	    "<p>Access to %.200s is restricted by the emulated ISP.</p>\n"
	    "</body></html>\n", host);
	if (bn < 0 || (size_t)bn >= sizeof(body))
		return 0;
	n = snprintf(buf, cap,
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", bn, body);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}
