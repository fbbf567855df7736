/*
 * fingerprint.c — OONI-format blockpage fingerprint CSV: parser and
 * matcher.  See fingerprint.h for the format.
 *
 * Invariants: fpdb_parse does no I/O and touches no globals; every field
 * is bounded (FPDB_MAX_FIELD), the row count too (FPDB_MAX_ROWS); a
 * database exists only when every row of its file was valid; after
 * parsing, a database is never written again (matching is read-only, so
 * threads may share it).
 */
#include "fingerprint.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "conf.h"
#include "zbuf.h"

enum fp_loc { FP_BODY, FP_DNS, FP_HEADER };	/* FP_BODY, FP_DNS as locs[] */
enum fp_type { FP_FULL, FP_PREFIX, FP_CONTAINS, FP_REGEXP };

struct fp {
	char *name;
	enum fp_scope scope;
	enum fp_loc loc;
	char *header;		/* FP_HEADER: the NAME of header.NAME */
	enum fp_type type;
	char *pattern;
	size_t plen;
	bool has_re;
	regex_t re;
	int confidence;		/* -1: empty */
	char *countries;
	size_t line;
};

/* The rows by name, for duplicates and fpdb_find in O(log n). */
struct fp_key {
	const char *name;	/* the row's name (its own allocation) */
	size_t i;		/* index in v */
};

struct fpdb {
	struct fp *v;
	size_t n;
	size_t alloc;
	struct fp_key *byname;	/* n keys by (name, i) */
	bool body_re;		/* some body row is a regexp */
};

/* The two accepted header rows: OONI's published columns, and the
 * seven our files had before OONI added other_names, source, exp_url and
 * notes.  A row is read into the published order (col[] maps it). */
enum { C_NAME, C_SCOPE, C_OTHER, C_LOC, C_TYPE, C_PATTERN, C_CONF, C_CC,
	C_SOURCE, C_URL, C_NOTES, NCOLS };
static const char *const columns[NCOLS] = {
	"name", "scope", "other_names", "location_found", "pattern_type",
	"pattern", "confidence_no_fp", "expected_countries", "source",
	"exp_url", "notes",
};
#define NCOLS_OLD 7
static const int old_cols[NCOLS_OLD] = {
	C_NAME, C_SCOPE, C_LOC, C_TYPE, C_PATTERN, C_CONF, C_CC,
};
/* in enum fp_scope order */
static const char *const scopes[] = {
	"nat", "isp", "prod", "inst", "prov", "vbw", "injb", "fp",
};
/* location_found and pattern_type names, in enum order (header.NAME is
 * matched apart) */
static const char *const locs[] = {"body", "dns"};
static const char *const types[] = {"full", "prefix", "contains", "regexp"};

/* Index of s in names[0..n), or -1. */
static int
name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static void
fp_clear(struct fp *f)
{
	free(f->name);
	free(f->header);
	free(f->pattern);
	free(f->countries);
	if (f->has_re)
		regfree(&f->re);
	memset(f, 0, sizeof(*f));
}

void
fpdb_free(struct fpdb **dbp)
{
	struct fpdb *db;
	size_t i;

	if (dbp == NULL || (db = *dbp) == NULL)
		return;
	for (i = 0; i < db->n; i++)
		fp_clear(&db->v[i]);
	free(db->v);
	free(db->byname);
	free(db);
	*dbp = NULL;
}

size_t
fpdb_count(const struct fpdb *db)
{
	return db == NULL ? 0 : db->n;
}

const char *
fpdb_scope_name(enum fp_scope s)
{
	if ((size_t)s >= ZARRAY_LEN(scopes))
		return "?";
	return scopes[s];
}

static int
key_cmp(const void *a, const void *b)
{
	const struct fp_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* (Re)build db->byname.  fname non-NULL: one file's rows, where a name
 * may appear once (the later row is named in the error); NULL: rows of
 * several files, where the first file's row wins in fpdb_find. */
static zerr_t
fpdb_index(struct fpdb *db, const char *fname, zdiag_t *d)
{
	struct fp_key *k;
	size_t i;

	free(db->byname);
	db->byname = NULL;
	if (db->n == 0)
		return ZE_OK;
	if ((k = calloc(db->n, sizeof(*k))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "%s: out of memory",
		    fname != NULL ? fname : "fingerprints");
	for (i = 0; i < db->n; i++) {
		k[i].name = db->v[i].name;
		k[i].i = i;
	}
	qsort(k, db->n, sizeof(*k), key_cmp);
	for (i = 1; fname != NULL && i < db->n; i++)
		if (strcmp(k[i - 1].name, k[i].name) == 0) {
			zerr_t e = zdiag_set(d, ZE_PARSE, "%s:%zu: duplicate "
			    "name '%s' (first on line %zu)", fname,
			    db->v[k[i].i].line, k[i].name,
			    db->v[k[i - 1].i].line);
			free(k);
			return e;
		}
	db->byname = k;
	return ZE_OK;
}

struct fp_match
fpdb_find(const struct fpdb *db, const char *name)
{
	struct fp_match m = {NULL, FP_SCOPE_FP};
	size_t lo = 0, hi, mid;

	if (db == NULL || name == NULL || db->byname == NULL)
		return m;
	/* the first key with this name: lower bound */
	hi = db->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(db->byname[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < db->n && strcmp(db->byname[lo].name, name) == 0) {
		const struct fp *f = &db->v[db->byname[lo].i];
		m.name = f->name;
		m.scope = f->scope;
	}
	return m;
}

/*
 * CSV record reader.  Reads one record starting at *pos into fields
 * (each a zbuf capped at FPDB_MAX_FIELD), counting newlines in *line.
 * Returns ZE_OK with *nf fields, ZE_TRUNC at end of input (no record).
 */
struct csv {
	const char *fname;
	const char *p;
	size_t len;
	size_t pos;
	size_t line;		/* line of the next character */
};

static zerr_t
csv_record(struct csv *c, zbuf_t *fields, size_t maxf, size_t *nf,
    size_t *recline, zdiag_t *d)
{
	size_t n = 0;
	zerr_t e;

	if (c->pos >= c->len)
		return ZE_TRUNC;
	*recline = c->line;
	for (n = 0; n < maxf; n++)
		zbuf_reset(&fields[n]);
	n = 0;
	for (;;) {
		zbuf_t *f = n < maxf ? &fields[n] : NULL;
		size_t fl = c->line;

		if (c->pos < c->len && c->p[c->pos] == '"') {
			c->pos++;
			for (;;) {
				char ch;
				if (c->pos >= c->len)
					return zdiag_set(d, ZE_PARSE, "%s:%zu: "
					    "quoted field never closed",
					    c->fname, fl);
				ch = c->p[c->pos++];
				if (ch == '"') {
					if (c->pos < c->len &&
					    c->p[c->pos] == '"')
						c->pos++;
					else
						break;
				}
				if (ch == '\n')
					c->line++;
				if (f != NULL &&
				    (e = zbuf_putc(f, ch)) != ZE_OK)
					goto toolong;
			}
			if (c->pos < c->len && c->p[c->pos] != ',' &&
			    c->p[c->pos] != '\n' && c->p[c->pos] != '\r')
				return zdiag_set(d, ZE_PARSE, "%s:%zu: text "
				    "after the closing quote of field %zu",
				    c->fname, c->line, n + 1);
		} else {
			while (c->pos < c->len && c->p[c->pos] != ',' &&
			    c->p[c->pos] != '\n' && c->p[c->pos] != '\r') {
				char ch = c->p[c->pos++];
				if (ch == '"')
					return zdiag_set(d, ZE_PARSE, "%s:%zu: "
					    "quote inside unquoted field %zu "
					    "(quote the field and double the "
					    "quote)", c->fname, c->line, n + 1);
				if (f != NULL &&
				    (e = zbuf_putc(f, ch)) != ZE_OK)
					goto toolong;
			}
		}
		n++;
		if (c->pos >= c->len)
			break;
		if (c->p[c->pos] == ',') {
			c->pos++;
			continue;
		}
		/* end of record: \n, \r\n or a lone \r */
		if (c->p[c->pos] == '\r')
			c->pos++;
		if (c->pos < c->len && c->p[c->pos] == '\n')
			c->pos++;
		c->line++;
		break;
	}
	*nf = n;
	return ZE_OK;
toolong:
	if (e == ZE_NOMEM)
		return zdiag_set(d, ZE_NOMEM, "%s:%zu: out of memory",
		    c->fname, c->line);
	return zdiag_set(d, ZE_TOOBIG, "%s:%zu: field %zu longer than %d "
	    "bytes", c->fname, c->line, n + 1, FPDB_MAX_FIELD);
}

/* A field as a C string; a field never written has no buffer yet. */
static const char *
fstr(const zbuf_t *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}

static bool
valid_countries(const char *s)
{
	/* "", "RU", "RU,BY" (blanks after commas allowed) */
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if (!isupper((unsigned char)s[0]) ||
		    !isupper((unsigned char)s[1]))
			return false;
		s += 2;
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		if (*s != ',')
			return false;
		s++;
		if (*s == '\0')
			return false;
	}
	return true;
}

static bool
valid_header_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/*
 * OONI's regexps are written for Python's re, where a "{" that does not
 * open a repetition ({m}, {m,}, {m,n}) is an ordinary character (OONI's
 * cp.fp_x_msg_id starts with one); POSIX ERE rejects it.  Copy p into
 * out (2 * strlen(p) + 1 bytes) with such braces escaped; the rest of
 * the syntax the files use means the same in both.
 */
static void
re_posix(const char *p, char *out)
{
	size_t i, j, o = 0;

	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] == '\\' && p[i + 1] != '\0') {
			out[o++] = p[i++];
			out[o++] = p[i];
			continue;
		}
		if (p[i] == '{') {
			j = i + 1;
			while (isdigit((unsigned char)p[j]))
				j++;
			if (j > i + 1 && p[j] == ',')
				for (j++; isdigit((unsigned char)p[j]); j++)
					;
			if (j == i + 1 || p[j] != '}' || i == 0)
				out[o++] = '\\';
		}
		out[o++] = p[i];
	}
	out[o] = '\0';
}

/* One data row, its fields in the published column order (f[C_...]; a
 * column the file does not have is an empty buffer). */
static zerr_t
fp_row(struct fpdb *db, const char *fname, size_t line,
    const zbuf_t *const *f, zdiag_t *d)
{
	struct fp fp;
	const char *name = fstr(f[C_NAME]);
	const char *scope = fstr(f[C_SCOPE]);
	const char *loc = fstr(f[C_LOC]);
	const char *type = fstr(f[C_TYPE]);
	const char *conf = fstr(f[C_CONF]);
	const char *cc = fstr(f[C_CC]);
	size_t i;
	int64_t v;
	int r;

	memset(&fp, 0, sizeof(fp));
	fp.line = line;
	for (i = 0; i < NCOLS; i++)
		if (strlen(fstr(f[i])) != f[i]->len)
			return zdiag_set(d, ZE_PARSE, "%s:%zu: NUL byte in "
			    "column %s", fname, line, columns[i]);
	if (*name == '\0')
		return zdiag_set(d, ZE_PARSE, "%s:%zu: empty name", fname,
		    line);
	if ((r = name_index(scope, scopes, ZARRAY_LEN(scopes))) < 0)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: unknown scope '%s' "
		    "(nat, isp, prod, inst, prov, vbw, injb or fp)", fname,
		    line, scope);
	fp.scope = (enum fp_scope)r;
	if (strncmp(loc, "header.", 7) == 0 && valid_header_name(loc + 7))
		r = FP_HEADER;
	else if ((r = name_index(loc, locs, ZARRAY_LEN(locs))) < 0)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: unknown location_found "
		    "'%s' (body, dns or header.NAME)", fname, line, loc);
	fp.loc = (enum fp_loc)r;
	if ((r = name_index(type, types, ZARRAY_LEN(types))) < 0)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: unknown pattern_type "
		    "'%s' (full, prefix, contains or regexp)", fname, line,
		    type);
	fp.type = (enum fp_type)r;
	if (f[C_PATTERN]->len == 0)
		return zdiag_set(d, ZE_PARSE, "%s:%zu: empty pattern", fname,
		    line);
	fp.confidence = -1;
	if (*conf != '\0') {
		if (conf_parse_int(conf, &v) != ZE_OK || v < 0 || v > 100)
			return zdiag_set(d, ZE_PARSE, "%s:%zu: "
			    "confidence_no_fp '%s' is not an integer 0-100",
			    fname, line, conf);
		fp.confidence = (int)v;
	}
	if (!valid_countries(cc))
		return zdiag_set(d, ZE_PARSE, "%s:%zu: expected_countries "
		    "'%s' is not a comma-separated list of two-letter "
		    "country codes", fname, line, cc);
	if (fp.type == FP_REGEXP) {
		char re[2 * FPDB_MAX_FIELD + 1];

		re_posix(fstr(f[C_PATTERN]), re);
		r = regcomp(&fp.re, re, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char msg[128];
			regerror(r, &fp.re, msg, sizeof(msg));
			return zdiag_set(d, ZE_PARSE, "%s:%zu: bad regexp "
			    "'%s': %s", fname, line, fstr(f[C_PATTERN]),
			    msg);
		}
		fp.has_re = true;
	}
	fp.name = strdup(name);
	fp.pattern = strdup(fstr(f[C_PATTERN]));
	fp.plen = f[C_PATTERN]->len;
	fp.countries = strdup(cc);
	if (fp.loc == FP_HEADER)
		fp.header = strdup(loc + 7);
	if (fp.name == NULL || fp.pattern == NULL ||
	    fp.countries == NULL || (fp.loc == FP_HEADER && fp.header == NULL))
		goto nomem;
	if (db->n == db->alloc) {
		size_t na = db->alloc ? db->alloc * 2 : 16;
		struct fp *nv = reallocarray(db->v, na, sizeof(*nv));
		if (nv == NULL)
			goto nomem;
		db->v = nv;
		db->alloc = na;
	}
	if (fp.loc == FP_BODY && fp.type == FP_REGEXP)
		db->body_re = true;
	db->v[db->n++] = fp;
	return ZE_OK;
nomem:
	fp_clear(&fp);
	return zdiag_set(d, ZE_NOMEM, "%s:%zu: out of memory", fname, line);
}

zerr_t
fpdb_parse(const char *fname, const char *text, size_t len,
    struct fpdb **out, zdiag_t *d)
{
	struct csv c = {.fname = fname, .p = text, .len = len, .line = 1};
	zbuf_t f[NCOLS + 1], empty;
	const zbuf_t *col[NCOLS];
	struct fpdb *db = NULL;
	size_t i, nf, ncols, line, rows = 0;
	zerr_t e;

	*out = NULL;
	if (len > FPDB_MAX_FILE)
		return zdiag_set(d, ZE_TOOBIG, "%s: larger than %d bytes",
		    fname, FPDB_MAX_FILE);
	for (i = 0; i < ZARRAY_LEN(f); i++)
		zbuf_init(&f[i], FPDB_MAX_FIELD);
	zbuf_init(&empty, 1);
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		e = zdiag_set(d, ZE_NOMEM, "%s: out of memory", fname);
		goto out;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		c.pos = 3;	/* UTF-8 byte order mark */
	e = csv_record(&c, f, ZARRAY_LEN(f), &nf, &line, d);
	if (e == ZE_TRUNC) {
		e = zdiag_set(d, ZE_PARSE, "%s:1: empty file, expected the "
		    "header row", fname);
		goto out;
	}
	if (e != ZE_OK)
		goto out;
	/* the published header, or the older seven columns */
	for (i = 0; i < NCOLS && i < nf; i++)
		if (strcmp(fstr(&f[i]), columns[i]) != 0)
			break;
	if (nf == NCOLS && i == NCOLS) {
		ncols = NCOLS;
		for (i = 0; i < NCOLS; i++)
			col[i] = &f[i];
	} else {
		for (i = 0; i < NCOLS_OLD && i < nf; i++)
			if (strcmp(fstr(&f[i]), columns[old_cols[i]]) != 0)
				break;
		if (nf != NCOLS_OLD || i != NCOLS_OLD) {
			e = zdiag_set(d, ZE_PARSE, "%s:%zu: header row must be "
			    "name,scope,other_names,location_found,"
			    "pattern_type,pattern,confidence_no_fp,"
			    "expected_countries,source,exp_url,notes (OONI's) "
			    "or name,scope,location_found,pattern_type,pattern,"
			    "confidence_no_fp,expected_countries", fname,
			    line);
			goto out;
		}
		ncols = NCOLS_OLD;
		for (i = 0; i < NCOLS; i++)
			col[i] = &empty;
		for (i = 0; i < NCOLS_OLD; i++)
			col[old_cols[i]] = &f[i];
	}
	for (;;) {
		e = csv_record(&c, f, ZARRAY_LEN(f), &nf, &line, d);
		if (e == ZE_TRUNC)
			break;
		if (e != ZE_OK)
			goto out;
		if (nf == 1 && f[0].len == 0)
			continue;	/* blank line */
		if (nf != ncols) {
			e = zdiag_set(d, ZE_PARSE, "%s:%zu: expected %zu "
			    "fields, found %zu%s", fname, line, ncols, nf,
			    nf > ncols ? " (quote fields that hold commas)" :
			    "");
			goto out;
		}
		if (++rows > FPDB_MAX_ROWS) {
			e = zdiag_set(d, ZE_TOOBIG, "%s:%zu: more than %d "
			    "fingerprints", fname, line, FPDB_MAX_ROWS);
			goto out;
		}
		if ((e = fp_row(db, fname, line, col, d)) != ZE_OK)
			goto out;
	}
	if ((e = fpdb_index(db, fname, d)) != ZE_OK)
		goto out;
	*out = db;
	db = NULL;
	e = ZE_OK;
out:
	for (i = 0; i < ZARRAY_LEN(f); i++)
		zbuf_free(&f[i]);
	zbuf_free(&empty);
	fpdb_free(&db);
	return e;
}

static zerr_t
load_one(const char *path, struct fpdb **out, zdiag_t *d)
{
	zbuf_t b;
	zerr_t e;

	*out = NULL;
	if ((e = bytes_read_file(path, FPDB_MAX_FILE, &b, d)) == ZE_OK)
		e = fpdb_parse(path, (const char *)b.data, b.len, out, d);
	zbuf_free(&b);
	return e;
}

/* Move src's rows to the end of dst (regex_t holds no pointer to
 * itself, so a row may move); src is freed. */
static zerr_t
fpdb_append(struct fpdb *dst, struct fpdb **srcp)
{
	struct fpdb *src = *srcp;

	if (dst->n + src->n > dst->alloc) {
		size_t na = dst->n + src->n;
		struct fp *nv = realloc(dst->v, na * sizeof(*nv));
		if (nv == NULL)
			return ZE_NOMEM;
		dst->v = nv;
		dst->alloc = na;
	}
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	dst->body_re = dst->body_re || src->body_re;
	free(src->v);
	free(src->byname);
	free(src);
	*srcp = NULL;
	return fpdb_index(dst, NULL, NULL);
}

zerr_t
fpdb_load(const char *paths, struct fpdb **out, zdiag_t *d)
{
	struct fpdb *db = NULL, *one = NULL;
	const char *p = paths;
	char path[4096];
	zerr_t e;

	*out = NULL;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(path)) {
			fpdb_free(&db);
			return zdiag_set(d, ZE_INVAL, "fingerprints '%s': %s",
			    paths, n == 0 ? "an empty file name in the list" :
			    "a file name too long");
		}
		memcpy(path, p, n);
		path[n] = '\0';
		if ((e = load_one(path, &one, d)) != ZE_OK) {
			fpdb_free(&db);
			return e;
		}
		if (db == NULL)
			db = one;
		else if (fpdb_append(db, &one) != ZE_OK) {
			fpdb_free(&one);
			fpdb_free(&db);
			return zdiag_set(d, ZE_NOMEM, "%s: out of memory",
			    path);
		}
		one = NULL;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = db;
	return ZE_OK;
}

/* Does the pattern of f match s[0..n)? */
static bool
fp_hit(const struct fp *f, const char *s, size_t n)
{
	regmatch_t m;

	switch (f->type) {
	case FP_FULL:
		return n == f->plen && memcmp(s, f->pattern, n) == 0;
	case FP_PREFIX:
		return n >= f->plen && memcmp(s, f->pattern, f->plen) == 0;
	case FP_CONTAINS:
		return memmem(s, n, f->pattern, f->plen) != NULL;
	case FP_REGEXP:
		m.rm_so = 0;
		m.rm_eo = (regoff_t)n;
		return regexec(&f->re, s, 1, &m, REG_STARTEND) == 0;
	}
	return false;
}

/* Keep f in *m when it is a stronger match than what *m holds; fp rows
 * never match.  True when nothing can beat *m any more. */
static bool
take(struct fp_match *m, const struct fp *f)
{
	if (f->scope == FP_SCOPE_FP)
		return false;
	if (m->name == NULL || f->scope < m->scope) {
		m->name = f->name;
		m->scope = f->scope;
	}
	return m->scope == FP_SCOPE_NAT;
}

struct fp_match
fpdb_match_header(const struct fpdb *db, const char *name,
    const char *value)
{
	struct fp_match m = {NULL, FP_SCOPE_FP};
	size_t i;

	if (db == NULL || name == NULL || value == NULL)
		return m;
	for (i = 0; i < db->n; i++) {
		const struct fp *f = &db->v[i];
		if (f->scope == FP_SCOPE_FP || (m.name != NULL &&
		    f->scope >= m.scope))
			continue;
		if (f->loc == FP_HEADER && strcasecmp(f->header, name) == 0 &&
		    fp_hit(f, value, strlen(value)) && take(&m, f))
			break;
	}
	return m;
}

/* Does header row f match one of headers[0..nh)? */
static bool
header_hit(const struct fp *f, const char *const *headers, size_t nh)
{
	char name[128];
	size_t j;

	for (j = 0; j < nh; j++) {
		const char *h = headers[j], *colon, *v;
		size_t nl;
		if (h == NULL || (colon = strchr(h, ':')) == NULL)
			continue;
		nl = (size_t)(colon - h);
		if (nl >= sizeof(name))
			continue;
		memcpy(name, h, nl);
		name[nl] = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strcasecmp(f->header, name) == 0 &&
		    fp_hit(f, v, strlen(v)))
			return true;
	}
	return false;
}

struct fp_match
fpdb_match_http(const struct fpdb *db, const char *body, size_t n,
    const char *const *headers, size_t nh)
{
	struct fp_match m = {NULL, FP_SCOPE_FP};
	char *copy = NULL;
	size_t i;
	bool hit;

	if (db == NULL)
		return m;
	/* regexec wants a terminated string even with REG_STARTEND (the
	 * sanitizers' interceptors read to the NUL): give it a copy; when
	 * that cannot be had, body regexps do not match */
	if (db->body_re && body != NULL && (copy = malloc(n + 1)) != NULL) {
		memcpy(copy, body, n);
		copy[n] = '\0';
	}
	for (i = 0; i < db->n; i++) {
		const struct fp *f = &db->v[i];
		/* only a stronger scope can change the answer */
		if (f->scope == FP_SCOPE_FP || (m.name != NULL &&
		    f->scope >= m.scope))
			continue;
		if (f->loc == FP_BODY && f->type == FP_REGEXP)
			hit = copy != NULL && fp_hit(f, copy, n);
		else if (f->loc == FP_BODY)
			hit = body != NULL && fp_hit(f, body, n);
		else if (f->loc == FP_HEADER)
			hit = header_hit(f, headers, nh);
		else
			hit = false;
		if (hit && take(&m, f))
			break;
	}
	free(copy);
	return m;
}

struct fp_match
fpdb_match_dns(const struct fpdb *db, const char *addr)
{
	struct fp_match m = {NULL, FP_SCOPE_FP};
	size_t i;

	if (db == NULL || addr == NULL)
		return m;
	for (i = 0; i < db->n; i++) {
		const struct fp *f = &db->v[i];
		if (f->scope == FP_SCOPE_FP || (m.name != NULL &&
		    f->scope >= m.scope))
			continue;
		if (f->loc == FP_DNS && fp_hit(f, addr, strlen(addr)) &&
		    take(&m, f))
			break;
	}
	return m;
}
