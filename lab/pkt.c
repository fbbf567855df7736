/*
 * pkt.c — bounded packet readers (pkt.h).
 *
 * Invariant: every read of p[i] is preceded by a check that i < len (the
 * helpers need() and the explicit comparisons); lengths read from the
 * packet only ever shrink the window, never grow it.
 */
#include "pkt.h"

#include <string.h>

#include "bytes.h"

bool
pkt_parse(const uint8_t *p, size_t len, struct pkt *out)
{
	size_t ihl, tot, l4len, off;

	memset(out, 0, sizeof(*out));
	if (len < 20 || (p[0] >> 4) != 4)
		return false;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = be16_get(p + 2);
	if (ihl < 20 || tot < ihl || tot > len)
		return false;
	out->proto = p[9];
	memcpy(&out->src, p + 12, 4);
	memcpy(&out->dst, p + 16, 4);
	if ((be16_get(p + 6) & 0x3fff) != 0) {	/* MF or an offset */
		out->frag = true;
		return true;
	}
	l4len = tot - ihl;
	p += ihl;
	if (out->proto == IPPROTO_TCP) {
		if (l4len < 20)
			return false;
		off = (size_t)(p[12] >> 4) * 4;
		if (off < 20 || off > l4len)
			return false;
		out->sport = be16_get(p);
		out->dport = be16_get(p + 2);
		out->seq = be32_get(p + 4);
		out->ack = be32_get(p + 8);
		out->tcp_flags = p[13];
		out->payload = p + off;
		out->plen = l4len - off;
	} else if (out->proto == IPPROTO_UDP) {
		size_t ulen;

		if (l4len < 8)
			return false;
		ulen = be16_get(p + 4);
		if (ulen < 8 || ulen > l4len)
			return false;
		out->sport = be16_get(p);
		out->dport = be16_get(p + 2);
		out->payload = p + 8;
		out->plen = ulen - 8;
	}
	return true;
}

/* Copy a host name of n bytes, lowercased, refusing odd bytes. */
static bool
copy_name(const uint8_t *s, size_t n, char *name, size_t namelen)
{
	size_t i;

	if (n == 0 || n >= namelen)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return false;
		name[i] = (char)c;
	}
	if (name[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	name[n] = '\0';
	return true;
}

bool
pkt_tls_sni(const uint8_t *p, size_t len, char *name, size_t namelen)
{
	size_t end, i, n, extend;

	/* Record header: handshake(22), version 3.x, length. */
	if (len < 5 + 4 || p[0] != 22 || p[1] != 3)
		return false;
	end = 5 + (size_t)be16_get(p + 3);
	if (end > len)
		end = len;	/* the rest is in later segments */
	i = 5;
	if (p[i] != 1)		/* ClientHello */
		return false;
	i += 4;			/* type, 24-bit length */
	i += 2 + 32;		/* client_version, random */
	if (i + 1 > end)
		return false;
	i += 1 + (size_t)p[i];	/* session id */
	if (i + 2 > end)
		return false;
	i += 2 + (size_t)be16_get(p + i);	/* cipher suites */
	if (i + 1 > end)
		return false;
	i += 1 + (size_t)p[i];	/* compression methods */
	if (i + 2 > end)
		return false;
	extend = i + 2 + (size_t)be16_get(p + i);
	if (extend < end)
		end = extend;
	i += 2;
	while (i + 4 <= end) {
		uint16_t type = be16_get(p + i);

		n = be16_get(p + i + 2);
		i += 4;
		if (type != 0) {	/* not server_name */
			i += n;
			continue;
		}
		/* server_name_list length, then entries. */
		if (i + 2 > end)
			return false;
		n = be16_get(p + i);
		i += 2;
		if (i + n < end)
			end = i + n;
		while (i + 3 <= end) {
			uint8_t nt = p[i];

			n = be16_get(p + i + 1);
			i += 3;
			if (i + n > end)
				return false;
			if (nt == 0)
				return copy_name(p + i, n, name, namelen);
			i += n;
		}
		return false;
	}
	return false;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool
pkt_http_host(const uint8_t *p, size_t len, char *name, size_t namelen)
{
	size_t i = 0, ls, le, v, ve, c;

	if (len > 8192)
		len = 8192;
	/* Method: capital letters, then a space. */
	while (i < len && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == 0 || i >= len || p[i] != ' ')
		return false;
	/* Skip the request line, then look at each header line. */
	while (i < len && p[i] != '\n')
		i++;
	while (i < len) {
		ls = ++i;
		while (i < len && p[i] != '\n')
			i++;
		if (i >= len)
			return false;	/* no complete line */
		le = i;
		if (le > ls && p[le - 1] == '\r')
			le--;
		if (le == ls)
			return false;	/* end of headers */
		if (le - ls < 5 || lower(p[ls]) != 'h' ||
		    lower(p[ls + 1]) != 'o' || lower(p[ls + 2]) != 's' ||
		    lower(p[ls + 3]) != 't' || p[ls + 4] != ':')
			continue;
		v = ls + 5;
		while (v < le && (p[v] == ' ' || p[v] == '\t'))
			v++;
		ve = le;
		while (ve > v && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
			ve--;
		for (c = v; c < ve; c++)
			if (p[c] == ':') {	/* drop :port */
				ve = c;
				break;
			}
		return copy_name(p + v, ve - v, name, namelen);
	}
	return false;
}

bool
pkt_dns_query(const uint8_t *p, size_t len, struct dns_q *q)
{
	size_t i = 12, o = 0, l;

	memset(q, 0, sizeof(*q));
	if (len < 12 || len > 4096)
		return false;
	q->id = be16_get(p);
	q->flags = be16_get(p + 2);
	if ((q->flags & 0x8000) != 0 || ((q->flags >> 11) & 0xf) != 0)
		return false;	/* a response, or not a QUERY */
	if (be16_get(p + 4) != 1)
		return false;	/* exactly one question */
	for (;;) {
		if (i >= len)
			return false;
		l = p[i++];
		if (l == 0)
			break;
		if (l > 63 || i + l > len)
			return false;	/* pointers have no place here */
		if (o + l + 1 >= sizeof(q->name))
			return false;
		if (o > 0)
			q->name[o++] = '.';
		if (!copy_name(p + i, l, q->name + o, sizeof(q->name) - o))
			return false;
		if (memchr(p + i, '.', l) != NULL)
			return false;
		o += l;
		i += l;
	}
	if (o == 0 || i + 4 > len)
		return false;	/* the root, or no type and class */
	q->name[o] = '\0';
	q->qtype = be16_get(p + i);
	q->qclass = be16_get(p + i + 2);
	q->qend = i + 4;
	return true;
}

bool
pkt_quic_v1_big(const uint8_t *p, size_t len)
{
	return len >= 1001 && p[1] == 0 && p[2] == 0 && p[3] == 0 &&
	    p[4] == 1;
}

bool
pkt_wireguard_init(const uint8_t *p, size_t len)
{
	return len == 148 && p[0] == 1 && p[1] == 0 && p[2] == 0 &&
	    p[3] == 0;
}

/* Opcode 7 (HARD_RESET_CLIENT_V2) or 10 (_V3) in the top five bits, a
 * session id, and an empty ack array (byte 9) as a first packet has. */
static bool
ovpn_body(const uint8_t *p, size_t len)
{
	uint8_t op;

	if (len < 14 || len > 1400)
		return false;
	op = p[0] >> 3;
	return (op == 7 || op == 10) && p[9] == 0;
}

bool
pkt_openvpn_reset(const uint8_t *p, size_t len, bool tcp)
{
	if (!tcp)
		return ovpn_body(p, len);
	if (len < 2 + 14 || be16_get(p) != len - 2)
		return false;
	return ovpn_body(p + 2, len - 2);
}
