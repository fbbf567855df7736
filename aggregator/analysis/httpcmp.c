/*
 * httpcmp.c — see httpcmp.h.  Follows OONI Web Connectivity (the legacy
 * and probe-cli analyses): body lengths match when min/max exceeds the
 * ratio; titles match when they share a word of at least N characters;
 * headers match when the sets of uncommon header names intersect.
 *
 * Invariants: reads only; never more than MAX_WORDS title words or
 * MAX_HDRS header names per side (the rest is ignored, bounded work for
 * hostile input); no allocation.
 */
#include "httpcmp.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define MAX_WORDS 64
#define MAX_HDRS 64
#define MAX_HNAME 64

/* From OONI probe-cli's list of headers that every server sends. */
static const char *const common_headers[] = {
	"accept-ranges", "age", "alt-svc", "cache-control", "cf-ray",
	"connection", "content-encoding", "content-language",
	"content-length", "content-security-policy", "content-type", "date",
	"etag", "expires", "keep-alive", "last-modified", "location",
	"p3p", "pragma", "referrer-policy", "server", "set-cookie",
	"strict-transport-security", "transfer-encoding", "vary", "via",
	"x-content-type-options", "x-frame-options", "x-powered-by",
	"x-xss-protection",
};

bool
httpcmp_common_header(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < ZARRAY_LEN(common_headers); i++)
		if (strlen(common_headers[i]) == n &&
		    strncasecmp(common_headers[i], name, n) == 0)
			return true;
	return false;
}

struct span {
	const char *p;
	size_t n;
};

/* Uncommon header names of h, at most MAX_HDRS. */
static size_t
uncommon(const Zond__V1__HttpOutcome *h, struct span *v)
{
	size_t i, k = 0;

	for (i = 0; i < h->n_headers && k < MAX_HDRS; i++) {
		const char *s = h->headers[i], *c;
		size_t n;
		if (s == NULL || (c = strchr(s, ':')) == NULL)
			continue;
		n = (size_t)(c - s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0 || n > MAX_HNAME || httpcmp_common_header(s, n))
			continue;
		v[k].p = s;
		v[k].n = n;
		k++;
	}
	return k;
}

static enum hc
headers_match(const Zond__V1__HttpOutcome *a, const Zond__V1__HttpOutcome *b)
{
	struct span va[MAX_HDRS], vb[MAX_HDRS];
	size_t na, nb, i, j;

	if (a->n_headers == 0 || b->n_headers == 0)
		return HC_UNKNOWN;
	na = uncommon(a, va);
	nb = uncommon(b, vb);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (va[i].n == vb[j].n &&
			    strncasecmp(va[i].p, vb[j].p, va[i].n) == 0)
				return HC_MATCH;
	return HC_DIFF;
}

/* Characters (UTF-8 code points) in p[0..n). */
static size_t
u8chars(const char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Words of at least min characters: runs of letters and digits, bytes
 * >= 0x80 counting as letters so Cyrillic titles split on spaces and
 * punctuation too. */
static size_t
words(const char *s, unsigned min, struct span *v)
{
	size_t k = 0, i = 0, n = strlen(s), st;

	while (i < n && k < MAX_WORDS) {
		while (i < n && (unsigned char)s[i] < 0x80 &&
		    !isalnum((unsigned char)s[i]))
			i++;
		st = i;
		while (i < n && ((unsigned char)s[i] >= 0x80 ||
		    isalnum((unsigned char)s[i])))
			i++;
		if (i > st && u8chars(s + st, i - st) >= min) {
			v[k].p = s + st;
			v[k].n = i - st;
			k++;
		}
	}
	return k;
}

static enum hc
title_match(const char *a, const char *b, unsigned min)
{
	struct span va[MAX_WORDS], vb[MAX_WORDS];
	size_t na, nb, i, j;

	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	na = words(a, min, va);
	nb = words(b, min, vb);
	if (na == 0 && nb == 0)
		return HC_UNKNOWN;	/* nothing to compare */
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (va[i].n == vb[j].n &&
			    strncasecmp(va[i].p, vb[j].p, va[i].n) == 0)
				return HC_MATCH;
	return HC_DIFF;
}

void
httpcmp_compare(const Zond__V1__HttpOutcome *p, const Zond__V1__HttpOutcome *c,
    double ratio, unsigned title_word, struct httpcmp *out)
{
	out->status = HC_UNKNOWN;
	if (p->has_status && c->has_status && !(c->status >= 500 &&
	    c->status < 600))
		out->status = p->status == c->status ? HC_MATCH : HC_DIFF;

	out->body = HC_UNKNOWN;
	if (p->has_body_length && c->has_body_length) {
		uint64_t lo = p->body_length, hi = c->body_length;
		if (lo > hi) {
			uint64_t t = lo;
			lo = hi;
			hi = t;
		}
		if (hi == 0)
			out->body = HC_MATCH;
		else
			out->body = (double)lo / (double)hi > ratio ?
			    HC_MATCH : HC_DIFF;
	}
	out->title = title_match(p->title, c->title, title_word);
	out->headers = headers_match(p, c);
}

bool
httpcmp_accessible(const struct httpcmp *c)
{
	return c->status == HC_MATCH && (c->body == HC_MATCH ||
	    c->title == HC_MATCH || c->headers == HC_MATCH);
}
