/* targets.c — see targets.h.  Rows are appended to a scratch list and
 * moved into the caller's only when the whole file parsed. */
#include "targets.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "conf.h"
#include "csv.h"
#include "probe_util.h"
#include "wire.h"

void
targets_init(targets_t *t)
{
	memset(t, 0, sizeof(*t));
}

void
targets_free(targets_t *t)
{
	for (size_t i = 0; i < t->nstrs; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Keep a copy of s in t; NULL for "" so probes see "unset". */
static zerr_t
keep(targets_t *t, const char *s, const char **out)
{
	char *c;

	if (s == NULL || *s == '\0') {
		*out = NULL;
		return ZE_OK;
	}
	if (t->nstrs == t->capstrs) {
		size_t nc = t->capstrs ? 2 * t->capstrs : 64;
		char **ns = realloc(t->strs, nc * sizeof(*ns));
		if (ns == NULL)
			return ZE_NOMEM;
		t->strs = ns;
		t->capstrs = nc;
	}
	if ((c = strdup(s)) == NULL)
		return ZE_NOMEM;
	t->strs[t->nstrs++] = c;
	*out = c;
	return ZE_OK;
}

static zerr_t
push(targets_t *t, target_t **out)
{
	if (t->n >= TARGETS_MAX)
		return ZE_TOOBIG;
	if (t->n == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 64;
		target_t *nv = realloc(t->v, nc * sizeof(*nv));
		if (nv == NULL)
			return ZE_NOMEM;
		t->v = nv;
		t->cap = nc;
	}
	*out = &t->v[t->n++];
	memset(*out, 0, sizeof(**out));
	return ZE_OK;
}

/* Move everything from src into dst (src is emptied). */
static zerr_t
absorb(targets_t *dst, targets_t *src)
{
	for (size_t i = 0; i < src->n; i++) {
		target_t *x;
		zerr_t e;
		if ((e = push(dst, &x)) != ZE_OK)
			return e;
		*x = src->v[i];
	}
	for (size_t i = 0; i < src->nstrs; i++) {
		if (dst->nstrs == dst->capstrs) {
			size_t nc = dst->capstrs ? 2 * dst->capstrs : 64;
			char **ns = realloc(dst->strs, nc * sizeof(*ns));
			if (ns == NULL)
				return ZE_NOMEM;
			dst->strs = ns;
			dst->capstrs = nc;
		}
		dst->strs[dst->nstrs++] = src->strs[i];
	}
	src->nstrs = 0;
	targets_free(src);
	return ZE_OK;
}

/* A new row in t from fname at line (where is "file:line"). */
static zerr_t
new_row(targets_t *t, const char *fname, int line, const char *where,
    target_t **x, zdiag_t *d)
{
	zerr_t e;

	if ((e = push(t, x)) != ZE_OK)
		return zdiag_set(d, e, "%s: more than %d targets", where,
		    TARGETS_MAX);
	(*x)->line = line;
	if ((e = keep(t, fname, &(*x)->file)) != ZE_OK)
		return zdiag_set(d, e, "%s: out of memory", where);
	return ZE_OK;
}

/* The end of a parse: e is ZE_NOTFOUND when the reader reached the end of
 * the file, and then the rows in tmp go to t. */
static zerr_t
parse_end(targets_t *t, targets_t *tmp, csv_reader_t *r, zerr_t e)
{
	if (e == ZE_NOTFOUND)
		e = absorb(t, tmp);
	csv_free(r);
	targets_free(tmp);
	return e;
}

static int
valid_service(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		    *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int
valid_host(const char *s)
{
	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '.' ||
		    *s == '_' || *s == ':' || *s == '[' || *s == ']'))
			return 0;
	return 1;
}

enum col { C_SERVICE, C_TEST, C_TARGET, C_IP, C_PORT, C_SNI, C_CSNI,
    C_VARIANT, C_BYTES, C_INTERVAL, C__N };
_Static_assert(C__N == TARGETS_NCOLS, "targets.h names every column");
const char *const targets_columns[TARGETS_NCOLS] = {"service", "test",
    "target", "ip", "port", "sni", "control_sni", "variant", "bytes",
    "interval"};
#define colnames targets_columns

/* One endpoint row into x; where is "file:line". */
static zerr_t
endpoint_row(targets_t *t, target_t *x, const char *f[C__N],
    const char *where, zdiag_t *d)
{
	Zond__V1__TestKind tk;
	const probe_info_t *pi = NULL;
	int64_t n;
	char names[160];
	zerr_t e;

	if (!valid_service(f[C_SERVICE]))
		return zdiag_set(d, ZE_PARSE, "%s: service '%s' must be "
		    "lowercase letters, digits, '_', '-' or '.'", where,
		    f[C_SERVICE]);
	if (wire_test_from_name(f[C_TEST], &tk) != ZE_OK ||
	    (pi = probe_info(tk)) == NULL)
		return zdiag_set(d, ZE_PARSE, "%s: unknown test '%s' (%s)",
		    where, f[C_TEST], probe_names(NULL, names, sizeof(names)));
	if (*f[C_TARGET] == '\0')
		return zdiag_set(d, ZE_PARSE, "%s: empty target", where);
	if (pi->target == PROBE_TARGET_URL) {
		if (strncmp(f[C_TARGET], "http://", 7) != 0 &&
		    strncmp(f[C_TARGET], "https://", 8) != 0)
			return zdiag_set(d, ZE_PARSE, "%s: %s target '%s' "
			    "must be an http:// or https:// URL", where,
			    f[C_TEST], f[C_TARGET]);
	} else if (pi->target == PROBE_TARGET_HOST &&
	    !valid_host(f[C_TARGET])) {
		return zdiag_set(d, ZE_PARSE, "%s: target '%s' is not a host "
		    "name or address", where, f[C_TARGET]);
	}
	x->req.test = tk;
	if (*f[C_IP] != '\0' && strcmp(f[C_IP], TARGET_IP_HELPER) != 0) {
		struct sockaddr_storage ss;
		socklen_t sl;
		zdiag_t ad;
		if (pu_parse_addr(f[C_IP], 1, &ss, &sl, &ad) != ZE_OK ||
		    strchr(f[C_IP], ']') != NULL)
			return zdiag_set(d, ZE_PARSE, "%s: ip '%s' is not a "
			    "numeric address (or 'helper')", where, f[C_IP]);
	}
	if (*f[C_PORT] != '\0' && tk == ZOND__V1__TEST_KIND__TEST_CALL &&
	    strchr(f[C_PORT], '-') != NULL) {
		/* call tests: one range "A-B", a port of it per run */
		uint16_t lo, hi;
		size_t nr;
		char why[160];
		if (conf_parse_ports(f[C_PORT], &lo, &hi, 1, 65535, &nr, why,
		    sizeof(why)) != 0)
			return zdiag_set(d, ZE_PARSE, "%s: port: %s", where,
			    why);
		x->req.port = lo;
		x->req.port_hi = hi;
	} else if (*f[C_PORT] != '\0') {
		if (conf_parse_int(f[C_PORT], &n) != ZE_OK || n < 1 ||
		    n > 65535)
			return zdiag_set(d, ZE_PARSE, "%s: port '%s' is not "
			    "1-65535%s", where, f[C_PORT],
			    tk == ZOND__V1__TEST_KIND__TEST_CALL ?
			    " or a range A-B" : "");
		x->req.port = (int)n;
	}
	if (*f[C_VARIANT] != '\0' && probe_variant(pi, f[C_VARIANT]) == NULL)
		return zdiag_set(d, ZE_PARSE, "%s: variant '%s' does not apply "
		    "to test %s", where, f[C_VARIANT], f[C_TEST]);
	if (pi->variant_required && *f[C_VARIANT] == '\0')
		return zdiag_set(d, ZE_PARSE, "%s: %s test needs a variant "
		    "(%s)", where, f[C_TEST], probe_names(pi, names,
		    sizeof(names)));
	if (*f[C_BYTES] != '\0') {
		if (conf_parse_size(f[C_BYTES], &n) != ZE_OK || n < 1 ||
		    n > (1LL << 30))
			return zdiag_set(d, ZE_PARSE, "%s: bytes '%s' is not a "
			    "size up to 1G (e.g. 64k, 1M)", where, f[C_BYTES]);
		x->req.bytes = n;
	}
	if (*f[C_INTERVAL] != '\0') {
		if (conf_parse_duration(f[C_INTERVAL], &n) != ZE_OK ||
		    n < 1000 || n > 7 * 86400000LL)
			return zdiag_set(d, ZE_PARSE, "%s: interval '%s' is not "
			    "a duration from 1s to 7d", where, f[C_INTERVAL]);
		x->interval_ms = n;
	}
	if ((e = keep(t, f[C_SERVICE], &x->req.service)) != ZE_OK ||
	    (e = keep(t, f[C_TARGET], &x->req.target)) != ZE_OK ||
	    (e = keep(t, f[C_IP], &x->req.ip)) != ZE_OK ||
	    (e = keep(t, f[C_SNI], &x->req.sni)) != ZE_OK ||
	    (e = keep(t, f[C_CSNI], &x->req.control_sni)) != ZE_OK ||
	    (e = keep(t, f[C_VARIANT], &x->req.variant)) != ZE_OK)
		return zdiag_set(d, e, "%s: out of memory", where);
	return ZE_OK;
}

zerr_t
targets_add_endpoint(targets_t *t, const char *const f[TARGETS_NCOLS],
    const char *file, int line, const char *where, zdiag_t *d)
{
	const char *g[C__N];
	target_t *x;
	zerr_t e;

	for (int c = 0; c < C__N; c++)
		g[c] = f[c] != NULL ? f[c] : "";
	if ((e = new_row(t, file, line, where, &x, d)) != ZE_OK)
		return e;
	if ((e = endpoint_row(t, x, g, where, d)) != ZE_OK)
		t->n--;		/* its strings stay owned by t */
	return e;
}

zerr_t
targets_parse_endpoints(targets_t *t, const char *fname, const char *buf,
    size_t len, zdiag_t *d)
{
	csv_reader_t r;
	targets_t tmp;
	int colidx[C__N];
	size_t ncols;
	char where[300];
	zerr_t e;

	targets_init(&tmp);
	csv_init(&r, fname, buf, len);
	if ((e = csv_next(&r, d)) != ZE_OK) {
		if (e == ZE_NOTFOUND)
			e = zdiag_set(d, ZE_PARSE, "%s: empty file (expected a "
			    "header row: service,test,target,...)", fname);
		goto out;
	}
	for (int c = 0; c < C__N; c++)
		colidx[c] = -1;
	for (size_t i = 0; i < r.nfields; i++) {
		int c;
		for (c = 0; c < C__N; c++)
			if (strcmp(csv_field(&r, i), colnames[c]) == 0)
				break;
		if (c == C__N) {
			e = zdiag_set(d, ZE_PARSE, "%s:%d: unknown column '%s' "
			    "in header", fname, r.rec_line, csv_field(&r, i));
			goto out;
		}
		if (colidx[c] != -1) {
			e = zdiag_set(d, ZE_PARSE, "%s:%d: column '%s' twice in "
			    "header", fname, r.rec_line, colnames[c]);
			goto out;
		}
		colidx[c] = (int)i;
	}
	ncols = r.nfields;
	for (int c = C_SERVICE; c <= C_TARGET; c++) {
		if (colidx[c] == -1) {
			e = zdiag_set(d, ZE_PARSE, "%s:%d: header lacks column "
			    "'%s'", fname, r.rec_line, colnames[c]);
			goto out;
		}
	}
	while ((e = csv_next(&r, d)) == ZE_OK) {
		const char *f[C__N];
		target_t *x;
		snprintf(where, sizeof(where), "%s:%d", fname, r.rec_line);
		if (r.nfields != ncols) {
			e = zdiag_set(d, ZE_PARSE, "%s: %zu fields, the header "
			    "has %zu", where, r.nfields, ncols);
			goto out;
		}
		for (int c = 0; c < C__N; c++)
			f[c] = colidx[c] < 0 ? "" : csv_field(&r,
			    (size_t)colidx[c]);
		if ((e = new_row(&tmp, fname, r.rec_line, where, &x, d)) !=
		    ZE_OK || (e = endpoint_row(&tmp, x, f, where, d)) != ZE_OK)
			goto out;
	}
out:
	return parse_end(t, &tmp, &r, e);
}

zerr_t
targets_parse_urls(targets_t *t, const char *fname, const char *buf,
    size_t len, zdiag_t *d)
{
	static const char *const hdr[] = {"url", "category_code",
	    "category_description", "date_added", "source", "notes"};
	csv_reader_t r;
	targets_t tmp;
	char where[300], svc[65];
	zerr_t e;

	targets_init(&tmp);
	csv_init(&r, fname, buf, len);
	if ((e = csv_next(&r, d)) != ZE_OK) {
		if (e == ZE_NOTFOUND)
			e = zdiag_set(d, ZE_PARSE, "%s: empty file (expected "
			    "the Citizen Lab header url,category_code,...)",
			    fname);
		goto out;
	}
	if (r.nfields != ZARRAY_LEN(hdr)) {
		e = zdiag_set(d, ZE_PARSE, "%s:%d: header has %zu columns; a "
		    "Citizen Lab list has 6 (url,category_code,"
		    "category_description,date_added,source,notes)", fname,
		    r.rec_line, r.nfields);
		goto out;
	}
	for (size_t i = 0; i < ZARRAY_LEN(hdr); i++) {
		if (strcmp(csv_field(&r, i), hdr[i]) != 0) {
			e = zdiag_set(d, ZE_PARSE, "%s:%d: header column %zu is "
			    "'%s', expected '%s'", fname, r.rec_line, i + 1,
			    csv_field(&r, i), hdr[i]);
			goto out;
		}
	}
	while ((e = csv_next(&r, d)) == ZE_OK) {
		const char *url = csv_field(&r, 0), *cat = csv_field(&r, 1);
		const char *notes = csv_field(&r, 5), *s;
		target_t *x;
		size_t i;

		snprintf(where, sizeof(where), "%s:%d", fname, r.rec_line);
		if (r.nfields != ZARRAY_LEN(hdr)) {
			e = zdiag_set(d, ZE_PARSE, "%s: %zu columns, expected 6",
			    where, r.nfields);
			goto out;
		}
		if (strncmp(url, "http://", 7) != 0 &&
		    strncmp(url, "https://", 8) != 0) {
			e = zdiag_set(d, ZE_PARSE, "%s: '%s' is not an http:// "
			    "or https:// URL", where, url);
			goto out;
		}
		if ((s = strstr(notes, "service=")) != NULL) {
			s += 8;
			for (i = 0; i < sizeof(svc) - 1 && s[i] != '\0' &&
			    s[i] != ' ' && s[i] != ';'; i++)
				svc[i] = s[i];
		} else {
			for (i = 0; i < sizeof(svc) - 1 && cat[i] != '\0'; i++)
				svc[i] = (char)tolower((unsigned char)cat[i]);
		}
		svc[i] = '\0';
		if (!valid_service(svc)) {
			e = zdiag_set(d, ZE_PARSE, "%s: category/service '%s' "
			    "is not a valid service name", where, svc);
			goto out;
		}
		if ((e = new_row(&tmp, fname, r.rec_line, where, &x, d)) !=
		    ZE_OK)
			goto out;
		x->req.test = ZOND__V1__TEST_KIND__TEST_HTTP;
		if ((e = keep(&tmp, svc, &x->req.service)) != ZE_OK ||
		    (e = keep(&tmp, url, &x->req.target)) != ZE_OK) {
			zdiag_set(d, e, "%s: out of memory", where);
			goto out;
		}
	}
out:
	return parse_end(t, &tmp, &r, e);
}

zerr_t
targets_load(targets_t *t, const char *endpoints, const char *urls,
    zdiag_t *d)
{
	targets_t tmp;
	zbuf_t b;
	zerr_t e = ZE_OK;

	targets_init(&tmp);
	if (endpoints != NULL && *endpoints != '\0') {
		if ((e = bytes_read_file(endpoints, TARGETS_MAX_FILE, &b, d)) ==
		    ZE_OK)
			e = targets_parse_endpoints(&tmp, endpoints,
			    (const char *)b.data, b.len, d);
		zbuf_free(&b);
		if (e != ZE_OK)
			goto out;
	}
	if (urls != NULL && *urls != '\0') {
		if ((e = bytes_read_file(urls, TARGETS_MAX_FILE, &b, d)) == ZE_OK)
			e = targets_parse_urls(&tmp, urls,
			    (const char *)b.data, b.len, d);
		zbuf_free(&b);
		if (e != ZE_OK)
			goto out;
	}
	e = absorb(t, &tmp);
out:
	targets_free(&tmp);
	return e;
}
