/*
 * rules.c — parse zond-censor's rules file (rules.h).
 *
 * One line at a time: blanks split the line into at most MAX_TOKENS
 * tokens, the first is the type, the rest are key=value pairs checked
 * against the type's table of required and optional keys.  A key may
 * appear once.  Nothing here does I/O except rules_load.
 */
#include "rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tlshello.h"

#define MAX_TOKENS 12

enum key {
	K_IP = 1 << 0,
	K_PORT = 1 << 1,
	K_PORTS = 1 << 2,
	K_SNI = 1 << 3,
	K_DOMAIN = 1 << 4,
	K_HOST = 1 << 5,
	K_ANSWER = 1 << 6,
	K_KBPS = 1 << 7,
	K_AFTER = 1 << 8,
	K_PCT = 1 << 9,
	K_PROTOCOL = 1 << 10,
	K_AFTER_S = 1 << 11,
	K_AFTER_PACKETS = 1 << 12,
	K_SHAPE = 1 << 13,
};
#define K_LAST K_SHAPE

static const struct {
	const char *name;
	enum key key;
} keys[] = {
	{"ip", K_IP}, {"port", K_PORT}, {"ports", K_PORTS}, {"sni", K_SNI},
	{"domain", K_DOMAIN}, {"host", K_HOST}, {"answer", K_ANSWER},
	{"kbps", K_KBPS}, {"after_bytes", K_AFTER}, {"pct", K_PCT},
	{"protocol", K_PROTOCOL}, {"after_s", K_AFTER_S},
	{"after_packets", K_AFTER_PACKETS}, {"shape", K_SHAPE},
};

static const struct {
	const char *name;
	unsigned required, optional;
	bool userspace;
	bool prefix;		/* ip may be a CIDR prefix */
} types[RT__COUNT] = {
	[RT_IP_DROP] = {"ip_drop", K_IP, 0, false},
	[RT_TCP_RST] = {"tcp_rst", K_IP | K_PORT, 0, false},
	[RT_UDP_DROP] = {"udp_drop", K_PORTS, K_IP, false, true},
	[RT_TCP_DROP] = {"tcp_drop", K_PORTS, K_IP, false, true},
	[RT_UDP_CUTOFF] = {"udp_cutoff", K_PORTS,
	    K_IP | K_AFTER_S | K_AFTER_PACKETS, false, true},
	[RT_QUIC_SNI] = {"quic_sni", K_SNI, 0, true},
	[RT_TLS_FINGERPRINT] = {"tls_fingerprint", K_SNI | K_SHAPE, 0, true},
	[RT_LOSS_PCT] = {"loss_pct", K_PCT, 0, false},
	[RT_TCP_FREEZE] = {"tcp_freeze", K_IP | K_AFTER, 0, false},
	[RT_SNI_RST] = {"sni_rst", K_SNI, 0, true},
	[RT_SNI_DROP] = {"sni_drop", K_SNI, 0, true},
	[RT_THROTTLE] = {"throttle", K_SNI | K_KBPS, 0, true},
	[RT_DNS_HIJACK] = {"dns_hijack", K_DOMAIN | K_ANSWER, 0, true},
	[RT_DNS_NXDOMAIN] = {"dns_nxdomain", K_DOMAIN, 0, true},
	[RT_DNS_INJECT] = {"dns_inject", K_DOMAIN | K_ANSWER, 0, true},
	[RT_HTTP_BLOCKPAGE] = {"http_blockpage", K_HOST, 0, true},
	[RT_QUIC_V1_DROP] = {"quic_v1_drop", 0, 0, true},
	[RT_PROTO_DROP] = {"proto_drop", K_PROTOCOL, 0, true},
};

const char *
rules_type_name(enum rule_type t)
{
	if ((unsigned)t >= RT__COUNT)
		return "unknown";
	return types[t].name;
}

bool
rules_type_userspace(enum rule_type t)
{
	return (unsigned)t < RT__COUNT && types[t].userspace;
}

bool
rules_name_match(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern), nl = strlen(name);

	if (pl == 0 || nl < pl)
		return false;
	if (strcmp(name + (nl - pl), pattern) != 0)
		return false;
	return nl == pl || name[nl - pl - 1] == '.';
}

static bool
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A DNS name (or a TLS server name): letters, digits, '-', '_', '.',
 * labels of 1..63, at most 253 characters; lowercased, trailing dot
 * dropped. */
static bool
parse_name(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s), i, label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= outlen)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
		out[i] = c;
	}
	if (label == 0)
		return false;
	out[n] = '\0';
	return true;
}

/* "198.51.100.7" (prefix 32) or "203.0.113.0/24" with the host bits
 * clear, so a rule means what it says. */
static bool
parse_cidr(const char *s, struct rule *r)
{
	char tmp[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint64_t len = 32;
	uint32_t a, mask;

	if (n >= INET_ADDRSTRLEN)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, &r->ip) != 1)
		return false;
	if (slash != NULL && !parse_u64(slash + 1, 0, 32, &len))
		return false;
	a = ntohl(r->ip.s_addr);
	mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
	if ((a & ~mask) != 0)
		return false;
	r->prefix = (unsigned)len;
	return true;
}

/* "53", "3478,16384-16387": up to RULES_MAX_PORTS ranges. */
static bool
parse_ports(const char *s, struct rule *r)
{
	char tmp[RULES_MAX_LINE], *p, *next, *dash;
	uint64_t lo, hi;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n + 1);
	r->nports = 0;
	for (p = tmp; p != NULL; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		if (r->nports == RULES_MAX_PORTS)
			return false;
		dash = strchr(p, '-');
		if (dash != NULL)
			*dash++ = '\0';
		if (!parse_u64(p, 1, 65535, &lo))
			return false;
		hi = lo;
		if (dash != NULL &&
		    (!parse_u64(dash, 1, 65535, &hi) || hi < lo))
			return false;
		r->ports[r->nports].lo = (uint16_t)lo;
		r->ports[r->nports].hi = (uint16_t)hi;
		r->nports++;
	}
	return true;
}

static zerr_t
parse_value(enum key k, const char *v, struct rule *r, const char *where,
    zdiag_t *d)
{
	uint64_t u;

	switch (k) {
	case K_IP:
		if (!parse_cidr(v, r))
			return zdiag_set(d, ZE_PARSE, "%s: ip '%s' is not an "
			    "IPv4 address%s", where, v, types[r->type].prefix ?
			    " or CIDR prefix (host bits clear)" : "");
		if (r->prefix < 32 && !types[r->type].prefix)
			return zdiag_set(d, ZE_PARSE, "%s: ip '%s': %s takes "
			    "an address, not a prefix", where, v,
			    types[r->type].name);
		r->has_ip = true;
		return ZE_OK;
	case K_AFTER_S:
		if (!parse_u64(v, 1, 3600, &u))
			return zdiag_set(d, ZE_RANGE,
			    "%s: after_s '%s' is not in 1..3600", where, v);
		r->after_s = (uint32_t)u;
		return ZE_OK;
	case K_AFTER_PACKETS:
		if (!parse_u64(v, 1, 1000000, &u))
			return zdiag_set(d, ZE_RANGE, "%s: after_packets '%s' "
			    "is not in 1..1000000", where, v);
		r->after_packets = (uint32_t)u;
		return ZE_OK;
	case K_ANSWER:
		if (inet_pton(AF_INET, v, &r->answer) != 1)
			return zdiag_set(d, ZE_PARSE,
			    "%s: answer '%s' is not an IPv4 address", where, v);
		return ZE_OK;
	case K_PORT:
		if (!parse_u64(v, 1, 65535, &u))
			return zdiag_set(d, ZE_RANGE,
			    "%s: port '%s' is not in 1..65535", where, v);
		r->port = (uint16_t)u;
		return ZE_OK;
	case K_PORTS:
		if (!parse_ports(v, r))
			return zdiag_set(d, ZE_PARSE, "%s: ports '%s' is not "
			    "a list of up to %d ports or LO-HI ranges in "
			    "1..65535", where, v, RULES_MAX_PORTS);
		return ZE_OK;
	case K_SNI:
	case K_DOMAIN:
	case K_HOST:
		if (!parse_name(v, r->name, sizeof(r->name)))
			return zdiag_set(d, ZE_PARSE,
			    "%s: '%s' is not a host name", where, v);
		return ZE_OK;
	case K_KBPS:
		if (!parse_u64(v, 1, 10000000, &u))
			return zdiag_set(d, ZE_RANGE,
			    "%s: kbps '%s' is not in 1..10000000", where, v);
		r->kbps = (uint32_t)u;
		return ZE_OK;
	case K_AFTER:
		if (!parse_u64(v, 1, UINT64_C(1) << 40, &u))
			return zdiag_set(d, ZE_RANGE, "%s: after_bytes '%s' "
			    "is not in 1..2^40", where, v);
		r->after_bytes = u;
		return ZE_OK;
	case K_PCT:
		if (!parse_u64(v, 0, 100, &u))
			return zdiag_set(d, ZE_RANGE,
			    "%s: pct '%s' is not in 0..100", where, v);
		r->pct = (unsigned)u;
		return ZE_OK;
	case K_SHAPE: {
		enum tls_shape sh;
		zdiag_t ignore;

		if (strcmp(v, "other") == 0)
			sh = TLS_SHAPE_OTHER;
		else if (tls_shape_parse(v, &sh, &ignore) != ZE_OK)
			return zdiag_set(d, ZE_PARSE, "%s: shape '%s' is not "
			    "openssl, browser, quic or other", where, v);
		r->shape = (int)sh;
		return ZE_OK;
	}
	case K_PROTOCOL:
		if (strcmp(v, "wireguard") == 0)
			r->proto = RP_WIREGUARD;
		else if (strcmp(v, "openvpn") == 0)
			r->proto = RP_OPENVPN;
		else
			return zdiag_set(d, ZE_PARSE, "%s: protocol '%s' is "
			    "not wireguard or openvpn", where, v);
		return ZE_OK;
	}
	return zdiag_set(d, ZE_INVAL, "%s: internal: key %u", where,
	    (unsigned)k);
}

static const char *
key_name(unsigned k)
{
	size_t i;

	for (i = 0; i < ZARRAY_LEN(keys); i++)
		if (keys[i].key == k)
			return keys[i].name;
	return "?";
}

/* Parse one line (NUL-terminated, no newline) into r.  *empty is set for
 * blank and comment lines. */
static zerr_t
parse_line(char *line, struct rule *r, bool *empty, const char *where,
    zdiag_t *d)
{
	char *tok[MAX_TOKENS], *p = line, *eq;
	size_t ntok = 0, i, j;
	unsigned seen = 0, bit;
	int t;
	zerr_t e;

	*empty = false;
	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		if (ntok == MAX_TOKENS)
			return zdiag_set(d, ZE_TOOBIG,
			    "%s: more than %d words", where, MAX_TOKENS);
		tok[ntok++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (ntok == 0) {
		*empty = true;
		return ZE_OK;
	}
	memset(r, 0, sizeof(*r));
	r->prefix = 32;
	for (t = 0; t < RT__COUNT; t++)
		if (strcmp(tok[0], types[t].name) == 0)
			break;
	if (strcmp(tok[0], "loss") == 0)	/* alias: the ISP's loss_pct */
		t = RT_LOSS_PCT;
	if (t == RT__COUNT)
		return zdiag_set(d, ZE_PARSE,
		    "%s: unknown rule type '%s'", where, tok[0]);
	r->type = (enum rule_type)t;
	for (i = 1; i < ntok; i++) {
		if ((eq = strchr(tok[i], '=')) == NULL || eq == tok[i])
			return zdiag_set(d, ZE_PARSE,
			    "%s: '%s' is not key=value", where, tok[i]);
		*eq = '\0';
		bit = 0;
		for (j = 0; j < ZARRAY_LEN(keys); j++)
			if (strcmp(tok[i], keys[j].name) == 0)
				bit = keys[j].key;
		if (bit == 0 ||
		    ((types[t].required | types[t].optional) & bit) == 0)
			return zdiag_set(d, ZE_PARSE, "%s: %s takes no key "
			    "'%s'", where, types[t].name, tok[i]);
		if (seen & bit)
			return zdiag_set(d, ZE_PARSE, "%s: key '%s' given "
			    "twice", where, tok[i]);
		if (eq[1] == '\0')
			return zdiag_set(d, ZE_PARSE, "%s: key '%s' has no "
			    "value", where, tok[i]);
		seen |= bit;
		if ((e = parse_value((enum key)bit, eq + 1, r, where, d)) !=
		    ZE_OK)
			return e;
	}
	for (bit = 1; bit <= K_LAST; bit <<= 1)
		if ((types[t].required & bit) && !(seen & bit))
			return zdiag_set(d, ZE_PARSE, "%s: %s needs %s=",
			    where, types[t].name, key_name(bit));
	if (r->type == RT_UDP_CUTOFF &&
	    !(seen & K_AFTER_S) == !(seen & K_AFTER_PACKETS))
		return zdiag_set(d, ZE_PARSE, "%s: udp_cutoff needs one of "
		    "after_s= or after_packets=", where);
	return ZE_OK;
}

zerr_t
rules_parse(const char *fname, const char *text, size_t len,
    struct ruleset *rs, zdiag_t *d)
{
	char line[RULES_MAX_LINE + 1], where[300];
	size_t pos = 0, n;
	const char *nl;
	int lineno = 0;
	bool empty;
	zerr_t e;

	rs->n = 0;
	if (len == 0)
		return ZE_OK;
	if (memchr(text, '\0', len) != NULL)
		return zdiag_set(d, ZE_PARSE, "%s: NUL byte in file", fname);
	while (pos < len) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", fname, lineno);
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > RULES_MAX_LINE)
			return zdiag_set(d, ZE_TOOBIG,
			    "%s: line longer than %d bytes", where,
			    RULES_MAX_LINE);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL ? 1 : 0);
		if (rs->n == RULES_MAX) {
			/* Only an error if the line holds a rule. */
			struct rule spare;

			if ((e = parse_line(line, &spare, &empty, where, d)) !=
			    ZE_OK)
				return e;
			if (!empty)
				return zdiag_set(d, ZE_TOOBIG, "%s: more than "
				    "%d rules", where, RULES_MAX);
			continue;
		}
		if ((e = parse_line(line, &rs->r[rs->n], &empty, where, d)) !=
		    ZE_OK)
			return e;
		if (!empty) {
			rs->r[rs->n].line = lineno;
			rs->n++;
		}
	}
	return ZE_OK;
}

zerr_t
rules_load(const char *path, struct ruleset *rs, zdiag_t *d)
{
	zbuf_t b;
	zerr_t e;

	if ((e = bytes_read_file(path, RULES_MAX_FILE, &b, d)) == ZE_OK)
		e = rules_parse(path, (const char *)b.data, b.len, rs, d);
	zbuf_free(&b);
	return e;
}

void
rules_format(const struct rule *r, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN + 4], ans[INET_ADDRSTRLEN];
	size_t o, i;
	int n;

	inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &r->answer, ans, sizeof(ans));
	switch (r->type) {
	case RT_IP_DROP:
		snprintf(buf, len, "ip_drop ip=%s", ip);
		break;
	case RT_TCP_RST:
		snprintf(buf, len, "tcp_rst ip=%s port=%u", ip, r->port);
		break;
	case RT_UDP_DROP:
	case RT_TCP_DROP:
	case RT_UDP_CUTOFF:
		if (r->has_ip && r->prefix < 32)
			snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip),
			    "/%u", r->prefix);
		n = snprintf(buf, len, "%s%s%s ports=",
		    rules_type_name(r->type), r->has_ip ? " ip=" : "",
		    r->has_ip ? ip : "");
		o = n < 0 ? len : (size_t)n;
		for (i = 0; i < r->nports && o < len; i++) {
			if (r->ports[i].lo == r->ports[i].hi)
				n = snprintf(buf + o, len - o, "%s%u",
				    i ? "," : "", r->ports[i].lo);
			else
				n = snprintf(buf + o, len - o, "%s%u-%u",
				    i ? "," : "", r->ports[i].lo,
				    r->ports[i].hi);
			o += n < 0 ? len : (size_t)n;
		}
		if (r->type == RT_UDP_CUTOFF && o < len)
			snprintf(buf + o, len - o, r->after_s ? " after_s=%u" :
			    " after_packets=%u", r->after_s ? r->after_s :
			    r->after_packets);
		break;
	case RT_LOSS_PCT:
		snprintf(buf, len, "loss_pct pct=%u", r->pct);
		break;
	case RT_TCP_FREEZE:
		snprintf(buf, len, "tcp_freeze ip=%s after_bytes=%" PRIu64, ip,
		    r->after_bytes);
		break;
	case RT_SNI_RST:
	case RT_SNI_DROP:
	case RT_QUIC_SNI:
		snprintf(buf, len, "%s sni=%s", rules_type_name(r->type),
		    r->name);
		break;
	case RT_TLS_FINGERPRINT:
		snprintf(buf, len, "tls_fingerprint sni=%s shape=%s", r->name,
		    tls_shape_name((enum tls_shape)r->shape));
		break;
	case RT_THROTTLE:
		snprintf(buf, len, "throttle sni=%s kbps=%u", r->name, r->kbps);
		break;
	case RT_DNS_HIJACK:
	case RT_DNS_INJECT:
		snprintf(buf, len, "%s domain=%s answer=%s",
		    rules_type_name(r->type), r->name, ans);
		break;
	case RT_DNS_NXDOMAIN:
		snprintf(buf, len, "dns_nxdomain domain=%s", r->name);
		break;
	case RT_HTTP_BLOCKPAGE:
		snprintf(buf, len, "http_blockpage host=%s", r->name);
		break;
	case RT_QUIC_V1_DROP:
		snprintf(buf, len, "quic_v1_drop");
		break;
	case RT_PROTO_DROP:
		snprintf(buf, len, "proto_drop protocol=%s",
		    r->proto == RP_WIREGUARD ? "wireguard" : "openvpn");
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
}
