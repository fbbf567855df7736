/* bytes.c — see bytes.h. */
#include "bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

void
br_init(breader_t *r, const void *p, size_t len)
{
	ZASSERT(p != NULL || len == 0);
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = ZE_OK;
}

/* The next n bytes, or NULL (error set, position at the end) past it. */
static const uint8_t *
take(breader_t *r, size_t n)
{
	const uint8_t *q;

	ZASSERT(r->pos <= r->len);
	if (r->err != ZE_OK || n > r->len - r->pos) {
		if (r->err == ZE_OK)
			r->err = ZE_TRUNC;
		r->pos = r->len;
		return NULL;
	}
	q = r->p + r->pos;
	r->pos += n;
	return q;
}

uint8_t
br_u8(breader_t *r)
{
	const uint8_t *q = take(r, 1);

	return q != NULL ? q[0] : 0;
}

uint16_t
br_be16(breader_t *r)
{
	const uint8_t *q = take(r, 2);

	return q != NULL ? be16_get(q) : 0;
}

uint32_t
br_be32(breader_t *r)
{
	const uint8_t *q = take(r, 4);

	return q != NULL ? be32_get(q) : 0;
}

uint64_t
br_be64(breader_t *r)
{
	const uint8_t *q = take(r, 8);

	return q != NULL ? be64_get(q) : 0;
}

void
br_copy(breader_t *r, void *dst, size_t n)
{
	const uint8_t *q = take(r, n);

	if (n == 0)
		return;
	if (q != NULL)
		memcpy(dst, q, n);
	else
		memset(dst, 0, n);
}

const uint8_t *
br_ptr(breader_t *r, size_t n)
{
	return take(r, n);
}

void
br_skip(breader_t *r, size_t n)
{
	(void)take(r, n);
}

size_t
br_left(const breader_t *r)
{
	return r->err != ZE_OK ? 0 : r->len - r->pos;
}

zerr_t
br_error(const breader_t *r)
{
	return r->err;
}

/* Read until n bytes or the end of the file; *got says how many. */
static zerr_t
read_full(int fd, const char *path, uint8_t *buf, size_t n, size_t *got,
    zdiag_t *d)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = read(fd, buf + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return zdiag_set(d, ZE_IO, "%s: cannot read: %s", path,
			    strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return ZE_OK;
}

/* ZE_TOOBIG if fd has at least one more byte. */
static zerr_t
at_end(int fd, const char *path, size_t cap, zdiag_t *d)
{
	uint8_t one;
	size_t got;
	zerr_t e;

	if ((e = read_full(fd, path, &one, 1, &got, d)) != ZE_OK)
		return e;
	if (got != 0)
		return zdiag_set(d, ZE_TOOBIG, "%s: larger than %zu bytes",
		    path, cap);
	return ZE_OK;
}

zerr_t
bytes_read_fd(int fd, const char *path, void *buf, size_t cap, size_t *n,
    zdiag_t *d)
{
	zerr_t e;

	if ((e = read_full(fd, path, buf, cap, n, d)) != ZE_OK)
		return e;
	return *n == cap ? at_end(fd, path, cap, d) : ZE_OK;
}

zerr_t
bytes_read_file(const char *path, size_t max, zbuf_t *b, zdiag_t *d)
{
	uint8_t *w;
	size_t chunk, got;
	zerr_t e = ZE_OK;
	int fd;

	zbuf_init(b, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return zdiag_set(d, errno == ENOENT ? ZE_NOTFOUND : ZE_IO,
		    "%s: cannot open: %s", path, strerror(errno));
	/* An empty file still gets a NUL-terminated, non-NULL b->data. */
	if (zbuf_reserve(b, 0, NULL) != ZE_OK) {
		e = zdiag_set(d, ZE_NOMEM, "%s: out of memory", path);
		goto out;
	}
	b->data[0] = '\0';
	for (;;) {
		if ((chunk = max - b->len) == 0) {
			e = at_end(fd, path, max, d);
			break;
		}
		if (chunk > 65536)
			chunk = 65536;
		if (zbuf_reserve(b, chunk, &w) != ZE_OK) {
			e = zdiag_set(d, ZE_NOMEM, "%s: out of memory", path);
			break;
		}
		e = read_full(fd, path, w, chunk, &got, d);
		b->len += got;
		b->data[b->len] = '\0';
		if (e != ZE_OK || got < chunk)
			break;
	}
out:
	close(fd);
	return e;
}

zerr_t
bytes_write_file(const char *path, const void *p, size_t n, mode_t mode,
    zdiag_t *d)
{
	char tmp[4200], dir[4096];
	const char *slash = strrchr(path, '/');
	size_t off = 0;
	int fd, dfd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return zdiag_set(d, ZE_INVAL, "%s: path too long", path);
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	(void)unlink(tmp);	/* a leftover of this pid's predecessor */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) <
	    0)
		return zdiag_set(d, ZE_IO, "%s: %s", tmp, strerror(errno));
	while (off < n) {
		ssize_t w = write(fd, (const char *)p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	/* the mode as asked, whatever the umask */
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		err = errno;
		if (dfd >= 0)
			close(dfd);
		return zdiag_set(d, ZE_IO, "%s: fsync of the folder: %s", dir,
		    strerror(err));
	}
	close(dfd);
	return ZE_OK;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return zdiag_set(d, ZE_IO, "%s: %s", tmp, strerror(err));
}
