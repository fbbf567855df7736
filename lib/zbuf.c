/*
 * zbuf.c — see zbuf.h.
 *
 * Invariants (checked by ZASSERT in debug builds): len <= max; with no
 * memory (data NULL) len and alloc are 0; otherwise len < alloc <=
 * max + 1, so the NUL always has room; after every call that writes,
 * data[len] is the NUL.  zbuf_reserve's callers write at most n bytes
 * at *p and then add to len themselves.
 */
#include "zbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The invariants every call finds and leaves. */
static void
check(const zbuf_t *b)
{
	ZASSERT(b->len <= b->max);
	ZASSERT(b->data != NULL || (b->len == 0 && b->alloc == 0));
	ZASSERT(b->data == NULL || (b->len < b->alloc &&
	    b->alloc <= b->max + 1));
}

/* ... and what a call that wrote leaves: the NUL after the data. */
static void
check_nul(const zbuf_t *b)
{
	check(b);
	ZASSERT(b->data == NULL || b->data[b->len] == '\0');
}

void
zbuf_init(zbuf_t *b, size_t max)
{
	ZASSERT(max < SIZE_MAX);	/* room for the NUL */
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void
zbuf_free(zbuf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void
zbuf_reset(zbuf_t *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
	check_nul(b);
}

zerr_t
zbuf_reserve(zbuf_t *b, size_t n, uint8_t **p)
{
	size_t need, na;
	uint8_t *nd;

	check(b);
	if (n > b->max || b->len > b->max - n)
		return ZE_TOOBIG;
	need = b->len + n + 1;
	if (need > b->alloc) {
		na = b->alloc ? b->alloc : 64;
		while (na < need)
			na *= 2;
		if (na > b->max + 1)
			na = b->max + 1;
		nd = realloc(b->data, na);
		if (nd == NULL)
			return ZE_NOMEM;
		b->data = nd;
		b->alloc = na;
	}
	check(b);
	ZASSERT(b->alloc - b->len > n);	/* n bytes and the NUL fit */
	if (p != NULL)
		*p = b->data + b->len;
	return ZE_OK;
}

zerr_t
zbuf_append(zbuf_t *b, const void *p, size_t n)
{
	uint8_t *w;
	zerr_t e;

	if ((e = zbuf_reserve(b, n, &w)) != ZE_OK)
		return e;
	if (n)
		memcpy(w, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	check_nul(b);
	return ZE_OK;
}

zerr_t
zbuf_putc(zbuf_t *b, char c)
{
	return zbuf_append(b, &c, 1);
}

zerr_t
zbuf_puts(zbuf_t *b, const char *s)
{
	return zbuf_append(b, s, strlen(s));
}

zerr_t
zbuf_printf(zbuf_t *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;
	zerr_t e;
	uint8_t *w;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZE_INVAL;
	if ((size_t)n < sizeof(small))
		return zbuf_append(b, small, (size_t)n);
	if ((e = zbuf_reserve(b, (size_t)n, &w)) != ZE_OK)
		return e;
	va_start(ap, fmt);
	vsnprintf((char *)w, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	check_nul(b);
	return ZE_OK;
}
