/* csv.c — see csv.h.  Fields are stored NUL-separated in r->store;
 * r->off[i] is the offset of field i. */
#include "csv.h"

#include <string.h>

#include "utf8.h"

void
csv_init(csv_reader_t *r, const char *fname, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->fname = fname;
	r->buf = buf;
	r->len = len;
	r->line = 1;
	zbuf_init(&r->store, CSV_MAX_RECORD);
}

void
csv_free(csv_reader_t *r)
{
	zbuf_free(&r->store);
}

const char *
csv_field(const csv_reader_t *r, size_t i)
{
	if (i >= r->nfields)
		return "";
	return (const char *)r->store.data + r->off[i];
}

static zerr_t
end_field(csv_reader_t *r, zdiag_t *d, size_t *start)
{
	/* lists are text; their fields end up in signed measurements */
	if (!utf8_text_ok(r->store.data + *start, r->store.len - *start))
		return zdiag_set(d, ZE_PARSE, "%s:%d: field %zu is not valid "
		    "UTF-8 text", r->fname, r->rec_line, r->nfields + 1);
	if (r->nfields == CSV_MAX_FIELDS)
		return zdiag_set(d, ZE_TOOBIG, "%s:%d: more than %d fields",
		    r->fname, r->rec_line, CSV_MAX_FIELDS);
	if (zbuf_putc(&r->store, '\0') != ZE_OK)
		return zdiag_set(d, ZE_TOOBIG, "%s:%d: record longer than %d "
		    "bytes", r->fname, r->rec_line, CSV_MAX_RECORD);
	r->off[r->nfields++] = *start;
	*start = r->store.len;
	return ZE_OK;
}

zerr_t
csv_next(csv_reader_t *r, zdiag_t *d)
{
	size_t start = 0;
	int quoted = 0, was_quoted = 0;
	zerr_t e;

	zbuf_reset(&r->store);
	r->nfields = 0;
	/* skip blank and comment lines */
	while (r->pos < r->len) {
		char c = r->buf[r->pos];
		if (c == '\n') {
			r->pos++;
			r->line++;
		} else if (c == '\r' && r->pos + 1 < r->len &&
		    r->buf[r->pos + 1] == '\n') {
			r->pos += 2;
			r->line++;
		} else if (c == '#') {
			while (r->pos < r->len && r->buf[r->pos] != '\n')
				r->pos++;
		} else {
			break;
		}
	}
	if (r->pos >= r->len)
		return ZE_NOTFOUND;
	r->rec_line = r->line;
	while (r->pos < r->len) {
		char c = r->buf[r->pos++];
		if (c == '\0')
			return zdiag_set(d, ZE_PARSE, "%s:%d: NUL byte",
			    r->fname, r->line);
		if (quoted) {
			if (c == '"') {
				if (r->pos < r->len && r->buf[r->pos] == '"') {
					r->pos++;
				} else {
					quoted = 0;
					continue;
				}
			} else if (c == '\n') {
				r->line++;
			}
			if (zbuf_putc(&r->store, c) != ZE_OK)
				goto toobig;
			continue;
		}
		if (c == '"') {
			if (r->store.len != start || was_quoted)
				return zdiag_set(d, ZE_PARSE, "%s:%d: quote in "
				    "the middle of field %zu", r->fname,
				    r->line, r->nfields + 1);
			quoted = was_quoted = 1;
			continue;
		}
		if (c == ',') {
			if ((e = end_field(r, d, &start)) != ZE_OK)
				return e;
			was_quoted = 0;
			continue;
		}
		if (c == '\r' && r->pos < r->len && r->buf[r->pos] == '\n')
			continue;
		if (c == '\n') {
			r->line++;
			break;
		}
		if (was_quoted)
			return zdiag_set(d, ZE_PARSE, "%s:%d: text after the "
			    "closing quote of field %zu", r->fname, r->line,
			    r->nfields + 1);
		if (zbuf_putc(&r->store, c) != ZE_OK)
			goto toobig;
	}
	if (quoted)
		return zdiag_set(d, ZE_PARSE, "%s:%d: quoted field never "
		    "closed", r->fname, r->rec_line);
	return end_field(r, d, &start);
toobig:
	return zdiag_set(d, ZE_TOOBIG, "%s:%d: record longer than %d bytes",
	    r->fname, r->rec_line, CSV_MAX_RECORD);
}

