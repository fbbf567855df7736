/* jscan.c — see jscan.h.  A recursive-descent validator with an explicit
 * depth bound; only the top level is recorded. */
#include "jscan.h"

#include <stdlib.h>
#include <string.h>

struct js {
	const char *p, *end, *start;
	zdiag_t *d;
};

static void
ws(struct js *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static zerr_t
bad(struct js *s, const char *what)
{
	return zdiag_set(s->d, ZE_PARSE, "invalid JSON at byte %zu: %s",
	    (size_t)(s->p - s->start) + 1, what);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static zerr_t
string(struct js *s)
{
	s->p++;		/* opening quote */
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20)
			return bad(s, "control character in string");
		if (c == '\\') {
			s->p++;
			if (s->p >= s->end)
				break;
			if (*s->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (s->p + i >= s->end ||
					    hexval(s->p[i]) < 0)
						return bad(s, "bad \\u escape");
				s->p += 4;
			} else if (strchr("\"\\/bfnrt", *s->p) == NULL) {
				return bad(s, "bad escape");
			}
		}
		s->p++;
	}
	if (s->p >= s->end)
		return bad(s, "unterminated string");
	s->p++;
	return ZE_OK;
}

static zerr_t value(struct js *s, int depth, char *type);

static zerr_t
number(struct js *s)
{
	const char *b = s->p;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return bad(s, "expected a value");
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return bad(s, "digit expected after '.'");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return bad(s, "digit expected in exponent");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return s->p > b ? ZE_OK : bad(s, "expected a value");
}

static zerr_t
word(struct js *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return bad(s, "expected a value");
	s->p += n;
	return ZE_OK;
}

static zerr_t
container(struct js *s, int depth, char close)
{
	zerr_t e;
	char t;

	if (depth > JSCAN_MAX_DEPTH)
		return bad(s, "nested too deeply");
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return ZE_OK;
	}
	for (;;) {
		ws(s);
		if (close == '}') {
			if (s->p >= s->end || *s->p != '"')
				return bad(s, "expected a key");
			if ((e = string(s)) != ZE_OK)
				return e;
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return bad(s, "expected ':'");
			s->p++;
		}
		if ((e = value(s, depth + 1, &t)) != ZE_OK)
			return e;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return ZE_OK;
		}
		return bad(s, close == '}' ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
}

static zerr_t
value(struct js *s, int depth, char *type)
{
	ws(s);
	if (s->p >= s->end)
		return bad(s, "expected a value");
	switch (*s->p) {
	case '"': *type = 's'; return string(s);
	case '{': *type = 'o'; return container(s, depth, '}');
	case '[': *type = 'a'; return container(s, depth, ']');
	case 't': *type = 't'; return word(s, "true");
	case 'f': *type = 'f'; return word(s, "false");
	case 'n': *type = 'z'; return word(s, "null");
	default: *type = 'n'; return number(s);
	}
}

/* The members of an object, or with arr the elements of an array (key
 * NULL), of text[0..n). */
static zerr_t
members(const char *text, size_t n, bool arr, struct jmember *m, size_t max,
    size_t *count, zdiag_t *d)
{
	struct js s = {.p = text, .end = text + n, .start = text, .d = d};
	char open = arr ? '[' : '{', close = arr ? ']' : '}';
	zerr_t e;

	*count = 0;
	ws(&s);
	if (s.p >= s.end || *s.p != open)
		return bad(&s, arr ? "expected an array" :
		    "expected an object");
	s.p++;
	ws(&s);
	if (s.p < s.end && *s.p == close) {
		s.p++;
		goto tail;
	}
	for (;;) {
		struct jmember x = {.key = NULL, .keylen = 0};
		const char *k;
		ws(&s);
		if (!arr) {
			if (s.p >= s.end || *s.p != '"')
				return bad(&s, "expected a key");
			k = s.p;
			if ((e = string(&s)) != ZE_OK)
				return e;
			x.key = k + 1;
			x.keylen = (size_t)(s.p - k - 2);
			ws(&s);
			if (s.p >= s.end || *s.p != ':')
				return bad(&s, "expected ':'");
			s.p++;
		}
		ws(&s);
		x.val = s.p;
		if ((e = value(&s, 1, &x.type)) != ZE_OK)
			return e;
		x.vallen = (size_t)(s.p - x.val);
		if (*count == max)
			return zdiag_set(d, ZE_TOOBIG, "more than %zu members",
			    max);
		m[(*count)++] = x;
		ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == close) {
			s.p++;
			break;
		}
		return bad(&s, arr ? "expected ',' or ']'" :
		    "expected ',' or '}'");
	}
tail:
	ws(&s);
	if (s.p != s.end)
		return bad(&s, arr ? "text after the array" :
		    "text after the object");
	return ZE_OK;
}

zerr_t
jscan_object(const char *text, size_t n, struct jmember *m, size_t max,
    size_t *count, zdiag_t *d)
{
	return members(text, n, false, m, max, count, d);
}

/* Two numbers' texts as doubles (both valid JSON numbers). */
static bool
num_equal(const char *a, size_t an, const char *b, size_t bn)
{
	char x[64], y[64];

	if (an == bn && memcmp(a, b, an) == 0)
		return true;
	if (an >= sizeof(x) || bn >= sizeof(y))
		return false;
	memcpy(x, a, an);
	x[an] = '\0';
	memcpy(y, b, bn);
	y[bn] = '\0';
	return strtod(x, NULL) == strtod(y, NULL);
}

#define EQ_MEMBERS 64

static bool
same_key(const struct jmember *x, const struct jmember *y)
{
	return x->keylen == y->keylen && memcmp(x->key, y->key, x->keylen) ==
	    0;
}

const struct jmember *
jscan_dup_key(const struct jmember *m, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (same_key(&m[i], &m[j]))
				return &m[i];
	return NULL;
}

static bool
eq_value(const struct jmember *a, const struct jmember *b, int depth)
{
	struct jmember ma[EQ_MEMBERS], mb[EQ_MEMBERS];
	size_t na, nb;
	bool r = false;

	if (a->type != b->type || depth > JSCAN_MAX_DEPTH)
		return false;
	switch (a->type) {
	case 'n':
		return num_equal(a->val, a->vallen, b->val, b->vallen);
	case 's': {
		zbuf_t x, y;

		zbuf_init(&x, a->vallen + 1);
		zbuf_init(&y, b->vallen + 1);
		r = jscan_string(a, &x) == ZE_OK && jscan_string(b, &y) ==
		    ZE_OK && x.len == y.len && (x.len == 0 ||
		    memcmp(x.data, y.data, x.len) == 0);
		zbuf_free(&x);
		zbuf_free(&y);
		return r;
	}
	case 'o':
	case 'a':
		if (members(a->val, a->vallen, a->type == 'a', ma, EQ_MEMBERS,
		    &na, NULL) != ZE_OK || members(b->val, b->vallen,
		    b->type == 'a', mb, EQ_MEMBERS, &nb, NULL) != ZE_OK ||
		    na != nb)
			return false;
		/* a key twice could hide a member from the comparison */
		if (a->type == 'o' && (jscan_dup_key(ma, na) != NULL ||
		    jscan_dup_key(mb, nb) != NULL))
			return false;
		for (size_t i = 0; i < na; i++) {
			const struct jmember *o = &mb[i];

			if (a->type == 'o') {	/* any order of keys */
				o = NULL;
				for (size_t j = 0; j < nb && o == NULL; j++)
					if (same_key(&mb[j], &ma[i]))
						o = &mb[j];
			}
			if (o == NULL || !eq_value(&ma[i], o, depth + 1))
				return false;
		}
		return true;
	default:	/* true, false, null */
		return true;
	}
}

bool
jscan_equal(const struct jmember *a, const struct jmember *b)
{
	return eq_value(a, b, 0);
}

const struct jmember *
jscan_find(const struct jmember *m, size_t count, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < count; i++)
		if (m[i].keylen == n && memcmp(m[i].key, key, n) == 0)
			return &m[i];
	return NULL;
}

/* Append code point cp as UTF-8. */
static zerr_t
put_utf8(zbuf_t *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return zbuf_append(b, u, n);
}

zerr_t
jscan_string(const struct jmember *m, zbuf_t *out)
{
	const char *p, *end;
	zerr_t e;

	if (m->type != 's' || m->vallen < 2)
		return ZE_INVAL;
	p = m->val + 1;
	end = m->val + m->vallen - 1;
	while (p < end) {
		if (*p != '\\') {
			if ((e = zbuf_putc(out, *p++)) != ZE_OK)
				return e;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': e = zbuf_putc(out, '\b'); break;
		case 'f': e = zbuf_putc(out, '\f'); break;
		case 'n': e = zbuf_putc(out, '\n'); break;
		case 'r': e = zbuf_putc(out, '\r'); break;
		case 't': e = zbuf_putc(out, '\t'); break;
		case 'u': {
			unsigned cp = 0;
			for (int i = 1; i <= 4; i++)
				cp = cp * 16 + (unsigned)hexval(p[i]);
			p += 4;
			/* a surrogate pair */
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 7 &&
			    p[1] == '\\' && p[2] == 'u') {
				unsigned lo = 0;
				int ok = 1;
				for (int i = 3; i <= 6; i++) {
					int h = hexval(p[i]);
					if (h < 0)
						ok = 0;
					lo = lo * 16 + (unsigned)(h < 0 ? 0 : h);
				}
				if (ok && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			e = put_utf8(out, cp);
			break;
		}
		default: e = zbuf_putc(out, *p); break;
		}
		if (e != ZE_OK)
			return e;
		p++;
	}
	return ZE_OK;
}
