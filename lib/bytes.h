/*
 * bytes.h — big-endian integers, a bounded reader over a byte span, and a
 * capped whole-file read and an atomic whole-file write.
 *
 * be16_get/be32_get/be64_get read and be16_put/... write network byte
 * order at p; the caller has checked that the bytes are there.
 *
 * A breader walks a span it does not own.  Reading past the end sets its
 * error (ZE_TRUNC), returns zeros and leaves the position at the end; the
 * first error is kept, so a decoder reads every field and checks
 * br_error() once at the end.  Not thread-safe; one reader per thread.
 */
#ifndef ZOND_BYTES_H
#define ZOND_BYTES_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include "err.h"
#include "zbuf.h"

static inline uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

static inline void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

typedef struct breader {
	const uint8_t *p;	/* the span; not owned */
	size_t len;
	size_t pos;		/* next byte to read; pos <= len */
	zerr_t err;		/* first error, ZE_OK if none */
} breader_t;

/* Start reading len bytes at p (p may be NULL when len is 0). */
void br_init(breader_t *r, const void *p, size_t len);

uint8_t br_u8(breader_t *r);
uint16_t br_be16(breader_t *r);
uint32_t br_be32(breader_t *r);
uint64_t br_be64(breader_t *r);

/* Copy n bytes to dst; past the end, dst gets n zeros. */
void br_copy(breader_t *r, void *dst, size_t n);

/* The next n bytes in place (inside the span), or NULL past the end. */
const uint8_t *br_ptr(breader_t *r, size_t n);

/* Skip n bytes. */
void br_skip(breader_t *r, size_t n);

/* Bytes left to read (0 after an error). */
size_t br_left(const breader_t *r);

/* The first error, or ZE_OK. */
zerr_t br_error(const breader_t *r) ZWUR;

/*
 * Read all of path into b (initialised here with cap max; the caller
 * frees it with zbuf_free, also on error).  Errors name the file:
 * ZE_NOTFOUND when it does not exist, ZE_IO when it cannot be opened or
 * read, ZE_TOOBIG when it holds more than max bytes.  b.data is
 * NUL-terminated (and not NULL, even for an empty file).
 */
zerr_t bytes_read_file(const char *path, size_t max, zbuf_t *b, zdiag_t *d)
	ZWUR;

/*
 * Read the rest of the open file fd (named path in messages) into
 * buf[cap], for callers that check the file first (fstat) or must keep
 * the bytes out of the heap (secrets); *n gets the count.  ZE_TOOBIG
 * when more than cap bytes are left, ZE_IO when a read fails.  fd stays
 * open.
 */
zerr_t bytes_read_fd(int fd, const char *path, void *buf, size_t cap,
    size_t *n, zdiag_t *d) ZWUR;

/*
 * Replace path by n bytes at p, atomically: a new file beside it
 * (path.tmp-PID, mode), written, fsync'd, renamed over path, then the
 * folder fsync'd, so a crash leaves the old file or the new one, never a
 * part.  Errors name the file (ZE_IO); the temporary file is removed.
 */
zerr_t bytes_write_file(const char *path, const void *p, size_t n,
    mode_t mode, zdiag_t *d) ZWUR;

#endif
