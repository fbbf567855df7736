/* conf.c — see conf.h.  Invariant: after any error return, obj still holds
 * valid values (defaults or earlier lines), so conf_free is always safe. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "utf8.h"
#include "zbuf.h"

static size_t
tab_len(const struct conf_opt *tab)
{
	size_t n = 0;

	while (tab[n].name != NULL)
		n++;
	return n;
}

zerr_t
conf_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return ZE_PARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return ZE_RANGE;
	if (*end != '\0')
		return ZE_PARSE;
	*out = v;
	return ZE_OK;
}

int
conf_parse_ports(const char *s, uint16_t *lo, uint16_t *hi, size_t maxranges,
    size_t maxports, size_t *n, char *why, size_t whylen)
{
	size_t total = 0;
	const char *p = s;

	*n = 0;
	while (*p != '\0') {
		char item[32], *dash;
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int64_t a, b;

		if (len == 0 || len >= sizeof(item)) {
			snprintf(why, whylen, "empty or overlong item at "
			    "offset %zu of '%s'", (size_t)(p - s), s);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if ((dash = strchr(item, '-')) != NULL)
			*dash = '\0';
		if (conf_parse_int(item, &a) != ZE_OK || a < 1 || a > 65535 ||
		    (dash != NULL && (conf_parse_int(dash + 1, &b) != ZE_OK ||
		    b < a || b > 65535))) {
			if (dash != NULL)
				*dash = '-';
			snprintf(why, whylen, "'%s' is not a port 1-65535 or a "
			    "range A-B with A <= B", item);
			return -1;
		}
		if (dash == NULL)
			b = a;
		if (*n >= maxranges || (size_t)(b - a + 1) > maxports - total) {
			snprintf(why, whylen, "more than %zu ports or %zu items "
			    "in '%s'", maxports, maxranges, s);
			return -1;
		}
		total += (size_t)(b - a + 1);
		lo[*n] = (uint16_t)a;
		hi[*n] = (uint16_t)b;
		(*n)++;
		p += len;
		if (*p == ',' && *++p == '\0') {
			snprintf(why, whylen, "trailing ',' in '%s'", s);
			return -1;
		}
	}
	if (*n == 0) {
		snprintf(why, whylen, "no ports");
		return -1;
	}
	return 0;
}

zerr_t
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < ZARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return ZE_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return ZE_OK;
		}
	}
	return ZE_PARSE;
}

/* Number followed by a unit from units[]; mult[] the factor of each. */
static zerr_t
parse_scaled(const char *s, const char *const *units, const int64_t *mult,
    size_t nunits, int64_t defmult, int64_t *out)
{
	char *end;
	unsigned long long v;
	int64_t m = defmult;

	if (!isdigit((unsigned char)*s))
		return ZE_PARSE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return ZE_RANGE;
	if (*end != '\0') {
		size_t i;
		for (i = 0; i < nunits; i++)
			if (strcmp(end, units[i]) == 0)
				break;
		if (i == nunits)
			return ZE_PARSE;
		m = mult[i];
	}
	if (v > (unsigned long long)(INT64_MAX / m))
		return ZE_RANGE;
	*out = (int64_t)v * m;
	return ZE_OK;
}

zerr_t
conf_parse_duration(const char *s, int64_t *ms)
{
	static const char *const u[] = {"ms", "s", "m", "h", "d"};
	static const int64_t m[] = {1, 1000, 60000, 3600000, 86400000};

	return parse_scaled(s, u, m, ZARRAY_LEN(u), 1000, ms);
}

zerr_t
conf_parse_size(const char *s, int64_t *bytes)
{
	static const char *const u[] = {"k", "K", "M", "G", "T", "KiB", "MiB",
	    "GiB", "TiB"};
	static const int64_t m[] = {1LL << 10, 1LL << 10, 1LL << 20, 1LL << 30,
	    1LL << 40, 1LL << 10, 1LL << 20, 1LL << 30, 1LL << 40};

	return parse_scaled(s, u, m, ZARRAY_LEN(u), 1, bytes);
}

static const char *
type_name(enum conf_type t)
{
	switch (t) {
	case CONF_STRING: return "string";
	case CONF_INT: return "integer";
	case CONF_BOOL: return "boolean";
	case CONF_DURATION: return "duration";
	case CONF_SIZE: return "size";
	}
	return "?";
}

/*
 * Convert and store one value.  `where` is "file:line" for messages.
 */
static zerr_t
set_value(const struct conf_opt *o, void *obj, const char *val,
    const char *where, zdiag_t *d)
{
	char *base = (char *)obj + o->offset;
	int64_t n = 0;
	bool b;
	zerr_t e = ZE_OK;
	char why[256];

	switch (o->type) {
	case CONF_STRING: {
		char *copy;
		why[0] = '\0';
		if (o->check != NULL && o->check(val, why, sizeof(why)) != 0)
			return zdiag_set(d, ZE_INVAL, "%s: bad value '%s' for "
			    "%s: %s", where, val, o->name, why);
		if ((copy = strdup(val)) == NULL)
			return zdiag_set(d, ZE_NOMEM, "%s: out of memory",
			    where);
		free(*(char **)(void *)base);
		*(char **)(void *)base = copy;
		return ZE_OK;
	}
	case CONF_BOOL:
		if (conf_parse_bool(val, &b) != ZE_OK)
			return zdiag_set(d, ZE_PARSE, "%s: '%s' is not a "
			    "boolean for %s (use true/false, yes/no, on/off, "
			    "1/0)", where, val, o->name);
		*(bool *)(void *)base = b;
		return ZE_OK;
	case CONF_INT:
		e = conf_parse_int(val, &n);
		if (e == ZE_PARSE)
			return zdiag_set(d, e, "%s: '%s' is not an integer "
			    "for %s", where, val, o->name);
		break;
	case CONF_DURATION:
		e = conf_parse_duration(val, &n);
		if (e == ZE_PARSE)
			return zdiag_set(d, e, "%s: '%s' is not a duration "
			    "for %s (use e.g. 500ms, 10s, 5m, 2h, 1d)", where,
			    val, o->name);
		break;
	case CONF_SIZE:
		e = conf_parse_size(val, &n);
		if (e == ZE_PARSE)
			return zdiag_set(d, e, "%s: '%s' is not a size for "
			    "%s (use e.g. 4096, 64k, 10M, 2G)", where, val,
			    o->name);
		break;
	}
	if (e == ZE_RANGE && o->min == 0 && o->max == 0)
		return zdiag_set(d, ZE_RANGE, "%s: %s = %s is too large", where,
		    o->name, val);
	if (e == ZE_RANGE || ((o->min != 0 || o->max != 0) &&
	    (n < o->min || n > o->max))) {
		if (o->type == CONF_DURATION)
			return zdiag_set(d, ZE_RANGE, "%s: %s = %s is out of "
			    "range [%" PRId64 "ms, %" PRId64 "ms]", where,
			    o->name, val, o->min, o->max);
		return zdiag_set(d, ZE_RANGE, "%s: %s = %s is out of range "
		    "[%" PRId64 ", %" PRId64 "]", where, o->name, val, o->min,
		    o->max);
	}
	*(int64_t *)(void *)base = n;
	return ZE_OK;
}

zerr_t
conf_init(const struct conf_opt *tab, void *obj, zdiag_t *d)
{
	zerr_t e;

	for (const struct conf_opt *o = tab; o->name != NULL; o++) {
		char *base = (char *)obj + o->offset;
		switch (o->type) {
		case CONF_STRING:
			*(char **)(void *)base = NULL;
			break;
		case CONF_BOOL:
			*(bool *)(void *)base = false;
			break;
		default:
			*(int64_t *)(void *)base = 0;
		}
	}
	for (const struct conf_opt *o = tab; o->name != NULL; o++) {
		if (o->defval == NULL)
			continue;
		/* a default that does not parse is a programmer error */
		if ((e = set_value(o, obj, o->defval, "default", d)) != ZE_OK)
			return e;
	}
	return ZE_OK;
}

void
conf_free(const struct conf_opt *tab, void *obj)
{
	for (const struct conf_opt *o = tab; o->name != NULL; o++) {
		if (o->type == CONF_STRING) {
			char **p = (char **)(void *)((char *)obj + o->offset);
			free(*p);
			*p = NULL;
		}
	}
}

static bool
section_known(const struct conf_opt *tab, const char *sec)
{
	for (const struct conf_opt *o = tab; o->name != NULL; o++)
		if (strcmp(o->section, sec) == 0)
			return true;
	return false;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Unquote a "..." value in place.  Returns NULL on a syntax error. */
static const char *
unquote(char *v, const char **err)
{
	char *r = v + 1, *w = v;

	for (;;) {
		if (*r == '\0') {
			*err = "unterminated quoted string";
			return NULL;
		}
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			switch (*r) {
			case '"': *w++ = '"'; break;
			case '\\': *w++ = '\\'; break;
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			default:
				*err = "unknown escape in quoted string "
				    "(use \\\" \\\\ \\n \\t)";
				return NULL;
			}
			r++;
			continue;
		}
		*w++ = *r++;
	}
	r++;
	while (*r == ' ' || *r == '\t')
		r++;
	/* a comment may follow, after a blank like everywhere else */
	if (*r != '\0' && !((*r == '#' || *r == ';') && (r[-1] == ' ' ||
	    r[-1] == '\t'))) {
		*err = "text after the closing quote";
		return NULL;
	}
	*w = '\0';
	return v;
}

/* Cut an inline comment off an unquoted value (already trimmed): a '#' or
 * ';' that starts the value or follows a blank starts one.  Returns
 * whether one was cut. */
static bool
cut_comment(char *v)
{
	for (char *p = v; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && (p == v || p[-1] == ' ' ||
		    p[-1] == '\t')) {
			*p = '\0';
			(void)trim(v);
			return true;
		}
	}
	return false;
}

zerr_t
conf_parse(const struct conf_opt *tab, void *obj, const char *fname,
    const char *text, size_t len, zdiag_t *d)
{
	size_t nopt = tab_len(tab), pos = 0;
	int *seen = NULL, lineno = 0;
	char section[128] = "";
	char line[CONF_MAX_LINE + 2], where[300];
	zerr_t e = ZE_OK;

	if (len > CONF_MAX_FILE)
		return zdiag_set(d, ZE_TOOBIG, "%s: file is larger than %d "
		    "bytes", fname, CONF_MAX_FILE);
	if ((seen = calloc(nopt + 1, sizeof(*seen))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "%s: out of memory", fname);

	while (pos < len) {
		size_t start = pos, n;
		char *s, *eq, *name, *val;
		const struct conf_opt *o;

		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		pos++;		/* skip '\n' */
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", fname, lineno);
		if (n > CONF_MAX_LINE) {
			e = zdiag_set(d, ZE_TOOBIG, "%s: line is longer than "
			    "%d bytes", where, CONF_MAX_LINE);
			goto out;
		}
		if (memchr(text + start, '\0', n) != NULL) {
			e = zdiag_set(d, ZE_PARSE, "%s: NUL byte in line",
			    where);
			goto out;
		}
		/* values end up in signed measurements, which carry text */
		if (!utf8_text_ok((const unsigned char *)text + start, n)) {
			e = zdiag_set(d, ZE_PARSE, "%s: line is not valid "
			    "UTF-8", where);
			goto out;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (close == NULL) {
				e = zdiag_set(d, ZE_PARSE, "%s: section header "
				    "without ']'", where);
				goto out;
			}
			*close = '\0';
			if (*trim(close + 1) != '\0') {
				e = zdiag_set(d, ZE_PARSE, "%s: text after "
				    "section header", where);
				goto out;
			}
			s = trim(s + 1);
			if (!section_known(tab, s)) {
				e = zdiag_set(d, ZE_PARSE, "%s: unknown "
				    "section [%.100s]", where, s);
				goto out;
			}
			snprintf(section, sizeof(section), "%s", s);
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			e = zdiag_set(d, ZE_PARSE, "%s: expected 'name = "
			    "value' or '[section]'", where);
			goto out;
		}
		*eq = '\0';
		name = trim(s);
		val = trim(eq + 1);
		if (*name == '\0') {
			e = zdiag_set(d, ZE_PARSE, "%s: missing option name "
			    "before '='", where);
			goto out;
		}
		if (section[0] == '\0') {
			e = zdiag_set(d, ZE_PARSE, "%s: option '%.100s' "
			    "outside any [section]", where, name);
			goto out;
		}
		for (o = tab; o->name != NULL; o++)
			if (strcmp(o->section, section) == 0 &&
			    strcmp(o->name, name) == 0)
				break;
		if (o->name == NULL) {
			e = zdiag_set(d, ZE_PARSE, "%s: unknown option "
			    "'%.100s' in [%s]", where, name, section);
			goto out;
		}
		if (seen[o - tab] != 0) {
			e = zdiag_set(d, ZE_PARSE, "%s: option '%s' in [%s] "
			    "set twice (first at line %d)", where, name,
			    section, seen[o - tab]);
			goto out;
		}
		if (*val == '"') {
			const char *qerr = NULL;
			if (unquote(val, &qerr) == NULL) {
				e = zdiag_set(d, ZE_PARSE, "%s: %s", where,
				    qerr);
				goto out;
			}
		} else if (cut_comment(val) && *val == '\0') {
			e = zdiag_set(d, ZE_PARSE, "%s: missing value for "
			    "'%s' (a '#' or ';' after a blank starts a comment; "
			    "quote a value that begins with one)", where, name);
			goto out;
		} else if (*val == '\0') {
			e = zdiag_set(d, ZE_PARSE, "%s: missing value for "
			    "'%s' (write \"\" for an empty string)", where,
			    name);
			goto out;
		}
		if ((e = set_value(o, obj, val, where, d)) != ZE_OK)
			goto out;
		seen[o - tab] = lineno;
	}
	for (size_t i = 0; i < nopt; i++) {
		if (tab[i].required && seen[i] == 0 && tab[i].defval == NULL) {
			e = zdiag_set(d, ZE_PARSE, "%s: required option '%s' "
			    "in [%s] is not set", fname, tab[i].name,
			    tab[i].section);
			goto out;
		}
	}
out:
	free(seen);
	return e;
}

zerr_t
conf_load(const struct conf_opt *tab, void *obj, const char *path,
    zdiag_t *d)
{
	zbuf_t b;
	zerr_t e;

	if ((e = conf_init(tab, obj, d)) != ZE_OK) {
		conf_free(tab, obj);
		return e;
	}
	if ((e = bytes_read_file(path, CONF_MAX_FILE, &b, d)) == ZE_OK)
		e = conf_parse(tab, obj, path, (const char *)b.data, b.len, d);
	zbuf_free(&b);
	if (e != ZE_OK)
		conf_free(tab, obj);
	return e;
}

static void
print_value(const struct conf_opt *o, const void *obj, FILE *out)
{
	const char *base = (const char *)obj + o->offset;
	int64_t n;

	switch (o->type) {
	case CONF_STRING: {
		const char *s = *(char *const *)(const void *)base;
		if (s == NULL) {
			fputs("(unset)", out);
			break;
		}
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				fprintf(out, "\\%c", *s);
			else if (*s == '\n')
				fputs("\\n", out);
			else if (*s == '\t')
				fputs("\\t", out);
			else
				fputc(*s, out);
		}
		fputc('"', out);
		break;
	}
	case CONF_BOOL:
		fputs(*(const bool *)(const void *)base ? "true" : "false",
		    out);
		break;
	case CONF_DURATION:
		n = *(const int64_t *)(const void *)base;
		fprintf(out, "%" PRId64 "ms", n);
		break;
	default:
		n = *(const int64_t *)(const void *)base;
		fprintf(out, "%" PRId64, n);
	}
}

void
conf_dump(const struct conf_opt *tab, const void *obj, FILE *out)
{
	for (const struct conf_opt *o = tab; o->name != NULL; o++) {
		const char *sv = o->type == CONF_STRING ? *(char *const *)
		    (const void *)((const char *)obj + o->offset) : NULL;

		fprintf(out, "[%s] %s = ", o->section, o->name);
		/* a secret (conf_check_token) never goes to -n's output */
		if (o->check == conf_check_token && sv != NULL && *sv != '\0')
			fputs("(secret, not shown)", out);
		else
			print_value(o, obj, out);
		fputc('\n', out);
	}
}

void
conf_reference(const struct conf_opt *tab, const char *title, FILE *out)
{
	const char *cur = NULL;

	fprintf(out, "# %s configuration reference\n\n", title);
	fprintf(out, "Generated from the option table by `--config-reference`."
	    " Syntax: see docs/CONFIG.md.\n");
	for (const struct conf_opt *o = tab; o->name != NULL; o++) {
		if (cur == NULL || strcmp(cur, o->section) != 0) {
			cur = o->section;
			fprintf(out, "\n## [%s]\n\n", cur);
			fprintf(out, "| option | type | default | range | "
			    "meaning |\n|---|---|---|---|---|\n");
		}
		fprintf(out, "| `%s` | %s | %s%s%s | ", o->name,
		    type_name(o->type), o->defval ? "`" : "",
		    o->defval ? o->defval : (o->required ? "required" : "-"),
		    o->defval ? "`" : "");
		if (o->min != 0 || o->max != 0)
			fprintf(out, "%" PRId64 "..%" PRId64 "%s", o->min,
			    o->max, o->type == CONF_DURATION ? " ms" : "");
		else
			fputs("-", out);
		fprintf(out, " | %s |\n", o->doc ? o->doc : "");
	}
}

int
conf_check_token(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
			snprintf(why, whylen, "a blank, control or non-ASCII "
			    "byte at position %zu (a token is printable ASCII "
			    "without blanks)", i + 1);
			return -1;
		}
	if (n < 16) {
		snprintf(why, whylen, "%zu characters; a token needs at least "
		    "16 (e.g. zondctl keygen's hex, or openssl rand -hex 32)",
		    n);
		return -1;
	}
	if (n > 256) {
		snprintf(why, whylen, "longer than 256 characters");
		return -1;
	}
	return 0;
}

int
conf_check_hostport(const char *v, char *why, size_t whylen)
{
	const char *colon = strrchr(v, ':');
	int64_t port;

	if (colon == NULL || colon == v) {
		snprintf(why, whylen, "expected host:port");
		return -1;
	}
	if (conf_parse_int(colon + 1, &port) != ZE_OK || port < 1 ||
	    port > 65535) {
		snprintf(why, whylen, "port must be 1-65535");
		return -1;
	}
	return 0;
}

int
conf_check_endpoint(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "tcp://", 6) == 0)
		return conf_check_hostport(v + 6, why, whylen);
	if (strncmp(v, "ipc://", 6) == 0 && v[6] != '\0')
		return 0;
	snprintf(why, whylen, "expected tcp://host:port or ipc://path");
	return -1;
}

int
conf_check_hexkey(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n != 64) {
		snprintf(why, whylen, "expected 64 hex characters, found %zu",
		    n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)v[i])) {
			snprintf(why, whylen, "non-hex character at position "
			    "%zu", i + 1);
			return -1;
		}
	}
	return 0;
}

int
conf_check_loglevel(const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "warn") == 0 || strcmp(v, "info") == 0 ||
	    strcmp(v, "debug") == 0)
		return 0;
	snprintf(why, whylen, "use warn, info or debug");
	return -1;
}
