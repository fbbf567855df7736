/*
 * zbuf.h — growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Anything that input can grow goes in a zbuf with a cap; an append past
 * the cap fails with ZE_TOOBIG and leaves the buffer as it was.  The data
 * is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef ZOND_ZBUF_H
#define ZOND_ZBUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct zbuf {
	uint8_t *data;
	size_t len;
	size_t alloc;
	size_t max;	/* hard cap on len */
} zbuf_t;

void zbuf_init(zbuf_t *b, size_t max);
void zbuf_free(zbuf_t *b);	/* releases memory; b may be reused after init */
void zbuf_reset(zbuf_t *b);	/* len = 0, keeps memory */
zerr_t zbuf_append(zbuf_t *b, const void *p, size_t n) ZWUR;
zerr_t zbuf_putc(zbuf_t *b, char c) ZWUR;
zerr_t zbuf_puts(zbuf_t *b, const char *s) ZWUR;
zerr_t zbuf_printf(zbuf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) ZWUR;
/* Make room for n more bytes without changing len; *p gets the write spot. */
zerr_t zbuf_reserve(zbuf_t *b, size_t n, uint8_t **p) ZWUR;

#endif
