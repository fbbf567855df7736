/*
 * ipasn.c — see ipasn.h.
 *
 * Invariants: each family's rows are sorted by start and disjoint (the
 * loader refuses anything else), so a lookup is one binary search; only
 * routed rows (ASN > 0) are kept, the others count for the order checks
 * only.  Growth is by doubling: loading is linear in the file.
 */
#include "ipasn.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "zbuf.h"

struct row4 {
	uint32_t lo, hi, asn;
};

struct row6 {
	uint8_t lo[16], hi[16];
	uint32_t asn;
};

struct ipasn {
	struct row4 *v4;
	size_t n4, cap4;
	struct row6 *v6;
	size_t n6, cap6;
};

/* What the loader remembers of a family's previous row. */
struct prev {
	bool seen;
	size_t line;
	uint8_t lo[16], hi[16];
};

void
ipasn_free(struct ipasn **t)
{
	if (t == NULL || *t == NULL)
		return;
	free((*t)->v4);
	free((*t)->v6);
	free(*t);
	*t = NULL;
}

static bool
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return true;
	nc = *cap == 0 ? 1024 : *cap * 2;
	if ((p = reallocarray(*v, nc, size)) == NULL)
		return false;
	*v = p;
	*cap = nc;
	return true;
}

/* One field [s, e) as a NUL-terminated copy in buf[len]; false when it
 * does not fit. */
static bool
field_copy(const char *s, const char *e, char *buf, size_t len)
{
	size_t n = (size_t)(e - s);

	if (n >= len)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* An address field: family 4 or 6 into *fam, 16 bytes into b (IPv4 in
 * the first 4). */
static bool
parse_addr(const char *s, const char *e, int *fam, uint8_t b[16])
{
	char buf[INET6_ADDRSTRLEN];

	memset(b, 0, 16);
	if (!field_copy(s, e, buf, sizeof(buf)))
		return false;
	if (inet_pton(AF_INET, buf, b) == 1) {
		*fam = 4;
		return true;
	}
	if (inet_pton(AF_INET6, buf, b) == 1) {
		*fam = 6;
		return true;
	}
	return false;
}

/* Decimal 0..4294967295, digits only. */
static bool
parse_asn(const char *s, const char *e, uint32_t *out)
{
	uint64_t v = 0;

	if (s == e || e - s > 10)
		return false;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool
cc_ok(const char *s, const char *e)
{
	if (s == e || e - s > IPASN_MAX_CC)
		return false;
	for (; s < e; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
			return false;
	return true;
}

/* Parse line lineno ([s, e), no newline) into t.  p4/p6: the previous row
 * of each family. */
static zerr_t
parse_line(struct ipasn *t, const char *name, size_t lineno, const char *s,
    const char *e, struct prev *p4, struct prev *p6, zdiag_t *d)
{
	const char *f[6], *fe[6], *c;
	size_t nf = 0, i;
	uint8_t lo[16], hi[16];
	int flo, fhi;
	uint32_t asn;
	struct prev *p;

	if (s == e)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: empty line", name,
		    lineno);
	if ((size_t)(e - s) > IPASN_MAX_LINE)
		return zdiag_set(d, ZE_TOOBIG, "%s:%zu: line longer than %u "
		    "bytes", name, lineno, IPASN_MAX_LINE);
	f[0] = s;
	for (c = s; c < e; c++) {
		if (*c == '\t') {
			if (nf == 4)
				return zdiag_set(d, ZE_PARSE, "%s:%zu: more "
				    "than 5 tab-separated fields", name,
				    lineno);
			fe[nf++] = c;
			f[nf] = c + 1;
		} else if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return zdiag_set(d, ZE_PARSE, "%s:%zu: control "
			    "character 0x%02x", name, lineno,
			    (unsigned)(unsigned char)*c);
	}
	fe[nf++] = e;
	if (nf != 5)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: %zu tab-separated "
		    "fields, want 5 (range_start, range_end, AS_number, "
		    "country_code, AS_description)", name, lineno, nf);
	for (i = 0; i < 2; i++)
		if (fe[i] - f[i] >= INET6_ADDRSTRLEN)
			return zdiag_set(d, ZE_TOOBIG, "%s:%zu: %s longer "
			    "than an address", name, lineno, i == 0 ?
			    "range_start" : "range_end");
	if (!parse_addr(f[0], fe[0], &flo, lo))
		return zdiag_set(d, ZE_PARSE, "%s:%zu: range_start '%.*s' is "
		    "not an IPv4 or IPv6 address", name, lineno,
		    (int)(fe[0] - f[0]), f[0]);
	if (!parse_addr(f[1], fe[1], &fhi, hi))
		return zdiag_set(d, ZE_PARSE, "%s:%zu: range_end '%.*s' is "
		    "not an IPv4 or IPv6 address", name, lineno,
		    (int)(fe[1] - f[1]), f[1]);
	if (flo != fhi)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: range mixes IPv%d and "
		    "IPv%d", name, lineno, flo, fhi);
	if (memcmp(hi, lo, 16) < 0)
		return zdiag_set(d, ZE_RANGE, "%s:%zu: range_end %.*s before "
		    "range_start %.*s", name, lineno, (int)(fe[1] - f[1]),
		    f[1], (int)(fe[0] - f[0]), f[0]);
	if (!parse_asn(f[2], fe[2], &asn))
		return zdiag_set(d, ZE_PARSE, "%s:%zu: AS_number '%.*s' is not "
		    "a number in 0..4294967295", name, lineno,
		    fe[2] - f[2] > 16 ? 16 : (int)(fe[2] - f[2]), f[2]);
	if (!cc_ok(f[3], fe[3]))
		return zdiag_set(d, ZE_PARSE, "%s:%zu: country_code '%.*s' is "
		    "not 1 to %u letters", name, lineno,
		    fe[3] - f[3] > 16 ? 16 : (int)(fe[3] - f[3]), f[3],
		    IPASN_MAX_CC);
	if (fe[4] - f[4] > IPASN_MAX_DESC)
		return zdiag_set(d, ZE_TOOBIG, "%s:%zu: AS_description longer "
		    "than %u bytes", name, lineno, IPASN_MAX_DESC);

	p = flo == 4 ? p4 : p6;
	if (p->seen && memcmp(lo, p->hi, 16) <= 0)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: range %s line %zu's "
		    "(rows of one family must be sorted and disjoint)", name,
		    lineno, memcmp(lo, p->lo, 16) < 0 ? "starts before" :
		    "overlaps", p->line);
	p->seen = true;
	p->line = lineno;
	memcpy(p->lo, lo, 16);
	memcpy(p->hi, hi, 16);
	if (asn == 0)
		return ZE_OK;		/* "Not routed": no ASN to find */
	if (flo == 4) {
		if (!grow((void **)&t->v4, &t->cap4, t->n4, sizeof(*t->v4)))
			return zdiag_set(d, ZE_NOMEM, "%s: out of memory",
			    name);
		t->v4[t->n4].lo = be32_get(lo);
		t->v4[t->n4].hi = be32_get(hi);
		t->v4[t->n4++].asn = asn;
	} else {
		if (!grow((void **)&t->v6, &t->cap6, t->n6, sizeof(*t->v6)))
			return zdiag_set(d, ZE_NOMEM, "%s: out of memory",
			    name);
		memcpy(t->v6[t->n6].lo, lo, 16);
		memcpy(t->v6[t->n6].hi, hi, 16);
		t->v6[t->n6++].asn = asn;
	}
	return ZE_OK;
}

zerr_t
ipasn_parse(const char *name, const char *buf, size_t len,
    struct ipasn **out, zdiag_t *d)
{
	struct prev p4, p6;
	struct ipasn *t;
	const char *s = buf, *end = buf + len, *nl, *e;
	size_t lineno = 0;
	zerr_t err;

	*out = NULL;
	if (len > IPASN_MAX_FILE)
		return zdiag_set(d, ZE_TOOBIG, "%s: larger than %u bytes",
		    name, IPASN_MAX_FILE);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "%s: out of memory", name);
	memset(&p4, 0, sizeof(p4));
	memset(&p6, 0, sizeof(p6));
	while (s < end) {
		lineno++;
		nl = memchr(s, '\n', (size_t)(end - s));
		e = nl != NULL ? nl : end;
		if (e > s && e[-1] == '\r')
			e--;
		if ((err = parse_line(t, name, lineno, s, e, &p4, &p6, d)) !=
		    ZE_OK) {
			ipasn_free(&t);
			return err;
		}
		s = nl != NULL ? nl + 1 : end;
	}
	if (!p4.seen && !p6.seen) {
		ipasn_free(&t);
		return zdiag_set(d, ZE_PARSE, "%s: no rows", name);
	}
	*out = t;
	return ZE_OK;
}

zerr_t
ipasn_load(const char *path, struct ipasn **out, zdiag_t *d)
{
	struct stat st;
	zbuf_t b;
	zerr_t e;

	*out = NULL;
	/* refuse an oversized file before reading any of it */
	if (stat(path, &st) == 0 && st.st_size > (off_t)IPASN_MAX_FILE)
		return zdiag_set(d, ZE_TOOBIG, "%s: %lld bytes, more than %u",
		    path, (long long)st.st_size, IPASN_MAX_FILE);
	if ((e = bytes_read_file(path, IPASN_MAX_FILE, &b, d)) == ZE_OK)
		e = ipasn_parse(path, (const char *)b.data, b.len, out, d);
	zbuf_free(&b);
	return e;
}

uint32_t
ipasn_lookup(const struct ipasn *t, int fam, const uint8_t *addr)
{
	size_t lo = 0, hi, mid;

	if (t == NULL)
		return 0;
	if (fam == 4) {
		uint32_t x = be32_get(addr);

		hi = t->n4;
		/* the first row starting after x; the one before may hold it */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (t->v4[mid].lo <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && x <= t->v4[lo - 1].hi)
			return t->v4[lo - 1].asn;
		return 0;
	}
	if (fam != 6)
		return 0;
	hi = t->n6;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(t->v6[mid].lo, addr, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && memcmp(addr, t->v6[lo - 1].hi, 16) <= 0)
		return t->v6[lo - 1].asn;
	return 0;
}

uint32_t
ipasn_lookup_str(const struct ipasn *t, const char *addr)
{
	uint8_t b[16];

	if (t == NULL || addr == NULL)
		return 0;
	if (inet_pton(AF_INET, addr, b) == 1)
		return ipasn_lookup(t, 4, b);
	if (inet_pton(AF_INET6, addr, b) == 1)
		return ipasn_lookup(t, 6, b);
	return 0;
}

void
ipasn_count(const struct ipasn *t, size_t *n4, size_t *n6)
{
	*n4 = t != NULL ? t->n4 : 0;
	*n6 = t != NULL ? t->n6 : 0;
}
