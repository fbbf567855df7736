/*
 * bulk.c — TCP bulk source, plain and TLS (bulk.h).
 *
 * Each connection is a small state machine driven by poll(2):
 *   SNIFF  peek the first byte: 0x16 -> TLS_ACCEPT, else REQUEST
 *   TLS_ACCEPT  non-blocking SSL_accept
 *   REQUEST     read one line into req[] (capped at BULK_REQ_MAX)
 *   SEND        the "OK N\n" header, then N payload bytes
 *   SHUT        TLS close_notify, then shutdown(SHUT_WR)
 *   DRAIN       read and discard until the client closes
 * Invariants: at most max_conns connections; a connection that makes no
 * progress for idle_ms is closed; payload comes from one static random
 * buffer, so memory does not grow with N; one dispatch writes at most
 * SEND_BUDGET bytes per connection, so no client starves the others.
 * Peer addresses are never logged (they are volunteers' addresses).
 */
#include "bulk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "log.h"
#include "ztime.h"

#define CHUNK		16384
#define SEND_BUDGET	(8 * CHUNK)

enum cstate { C_SNIFF, C_TLS_ACCEPT, C_REQUEST, C_SEND, C_SHUT, C_DRAIN };

struct conn {
	int fd;
	SSL *ssl;
	enum cstate st;
	short want;		/* POLLIN or POLLOUT */
	char req[BULK_REQ_MAX];
	size_t reqlen;
	char hdr[48];
	size_t hdrlen, hdroff;
	uint64_t left;		/* payload still to send */
	uint64_t requested;
	size_t pend;		/* TLS: length of an SSL_write to retry */
	int64_t start_us, last_us;
};

struct bulk {
	int lfd;
	SSL_CTX *ctx;
	int64_t max, idle_ms;
	size_t nconns, maxconns;
	struct conn **conns;	/* maxconns slots, NULL when free */
	size_t *slot;		/* pollfd index -> slot, filled by pollfds */
	struct bulk_stats st;
	uint8_t data[CHUNK];
};

zerr_t
bulk_parse_request(const char *line, size_t len, int64_t max, int64_t *n,
    zdiag_t *d)
{
	uint64_t v = 0;
	size_t i, digits = 0;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len < 5 || memcmp(line, "GET ", 4) != 0)
		return zdiag_set(d, ZE_PARSE, "request must be 'GET N'");
	for (i = 4; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return zdiag_set(d, ZE_PARSE, "byte count must be "
			    "decimal digits");
		if (++digits > 18)
			return zdiag_set(d, ZE_RANGE, "byte count too long");
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	if (v > (uint64_t)max)
		return zdiag_set(d, ZE_RANGE, "%llu bytes is over bulk_max "
		    "%lld", (unsigned long long)v, (long long)max);
	*n = (int64_t)v;
	return ZE_OK;
}

zerr_t
bulk_new(int lfd, SSL_CTX *ctx, int64_t max, int64_t max_conns,
    int64_t idle_ms, struct bulk **out, zdiag_t *d)
{
	struct bulk *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "bulk: out of memory");
	b->lfd = lfd;
	b->ctx = ctx;
	b->max = max;
	b->idle_ms = idle_ms;
	b->maxconns = (size_t)max_conns;
	b->conns = calloc(b->maxconns, sizeof(*b->conns));
	b->slot = calloc(b->maxconns + 1, sizeof(*b->slot));
	if (b->conns == NULL || b->slot == NULL) {
		bulk_free(&b);
		return zdiag_set(d, ZE_NOMEM, "bulk: out of memory");
	}
	if (RAND_bytes(b->data, sizeof(b->data)) != 1) {
		bulk_free(&b);
		return zdiag_set(d, ZE_CRYPTO, "bulk: RAND_bytes failed");
	}
	*out = b;
	return ZE_OK;
}

static void
conn_close(struct bulk *b, size_t i)
{
	struct conn *c = b->conns[i];

	if (c == NULL)
		return;
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
	b->conns[i] = NULL;
	b->nconns--;
}

void
bulk_free(struct bulk **bp)
{
	struct bulk *b;
	size_t i;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	for (i = 0; b->conns != NULL && i < b->maxconns; i++)
		conn_close(b, i);
	if (b->lfd >= 0)
		close(b->lfd);
	free(b->conns);
	free(b->slot);
	free(b);
	*bp = NULL;
}

size_t
bulk_npoll(const struct bulk *b)
{
	return b->maxconns + 1;
}

size_t
bulk_active(const struct bulk *b)
{
	return b->nconns;
}

const struct bulk_stats *
bulk_stats(const struct bulk *b)
{
	return &b->st;
}

size_t
bulk_pollfds(struct bulk *b, struct pollfd *pfd)
{
	size_t i, n = 0;

	pfd[n].fd = b->lfd;
	pfd[n].events = POLLIN;
	pfd[n].revents = 0;
	b->slot[n++] = (size_t)-1;
	for (i = 0; i < b->maxconns; i++) {
		if (b->conns[i] == NULL)
			continue;
		pfd[n].fd = b->conns[i]->fd;
		pfd[n].events = b->conns[i]->want;
		pfd[n].revents = 0;
		b->slot[n++] = i;
	}
	return n;
}

static void
do_accept(struct bulk *b)
{
	int one = 1;

	for (;;) {
		struct conn *c;
		size_t i;
		int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("event=bulk_accept_failed");
			return;
		}
		if (b->nconns >= b->maxconns ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			b->st.refused++;
			close(fd);
			continue;
		}
		/* The header and short TLS records must not wait for the
		 * client's delayed ACK: that would be our slowness, not the
		 * path's. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		for (i = 0; b->conns[i] != NULL; i++)
			;
		c->fd = fd;
		c->st = C_SNIFF;
		c->want = POLLIN;
		c->start_us = c->last_us = ztime_mono_us();
		b->conns[i] = c;
		b->nconns++;
		b->st.accepted++;
	}
}

/* Plain or TLS I/O.  Returns bytes moved (> 0), 0 for "try again when
 * c->want is ready", -1 for a dead connection (reset, EOF, error). */
static ssize_t
cio(struct conn *c, int wr, void *buf, size_t len)
{
	ssize_t r;
	int n, e;

	if (c->ssl == NULL) {
		r = wr ? send(c->fd, buf, len, MSG_NOSIGNAL) :
		    recv(c->fd, buf, len, 0);
		if (r > 0)
			return r;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			c->want = wr ? POLLOUT : POLLIN;
			return 0;
		}
		return -1;
	}
	ERR_clear_error();
	n = wr ? SSL_write(c->ssl, buf, (int)len) :
	    SSL_read(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ) {
		c->want = POLLIN;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want = POLLOUT;
		return 0;
	}
	ERR_clear_error();
	return -1;
}

static void
start_send(struct bulk *b, struct conn *c)
{
	zdiag_t d;
	int64_t n;
	zerr_t e;
	int r;

	if ((e = bulk_parse_request(c->req, c->reqlen, b->max, &n, &d)) !=
	    ZE_OK) {
		b->st.bad_request++;
		log_debug("event=bulk_bad_request tls=%d reason=\"%s\"",
		    c->ssl != NULL, d.text);
		r = snprintf(c->hdr, sizeof(c->hdr), "ERR %s\n",
		    e == ZE_RANGE ? "too big" : "bad request");
		c->left = 0;
	} else {
		r = snprintf(c->hdr, sizeof(c->hdr), "OK %lld\n",
		    (long long)n);
		c->left = c->requested = (uint64_t)n;
	}
	c->hdrlen = r < 0 ? 0 : (size_t)r;
	c->hdroff = 0;
	c->st = C_SEND;
	c->want = POLLOUT;
}

/* Advance c as far as it goes without blocking.  Returns 0 to keep the
 * connection, -1 to close it. */
static int
conn_step(struct bulk *b, struct conn *c)
{
	size_t budget = SEND_BUDGET;
	ssize_t r;
	uint8_t first;
	int n;

	switch (c->st) {
	case C_SNIFF:
		r = recv(c->fd, &first, 1, MSG_PEEK);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return -1;
		if (first == 0x16 && b->ctx != NULL) {
			if ((c->ssl = SSL_new(b->ctx)) == NULL ||
			    SSL_set_fd(c->ssl, c->fd) != 1) {
				log_warnx("event=bulk_ssl_new_failed");
				return -1;
			}
			b->st.tls++;
			c->st = C_TLS_ACCEPT;
		} else {
			c->st = C_REQUEST;
		}
		return conn_step(b, c);
	case C_TLS_ACCEPT:
		ERR_clear_error();
		n = SSL_accept(c->ssl);
		if (n == 1) {
			c->st = C_REQUEST;
			c->want = POLLIN;
			return conn_step(b, c);
		}
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			c->want = POLLIN;
			return 0;
		case SSL_ERROR_WANT_WRITE:
			c->want = POLLOUT;
			return 0;
		default:
			ERR_clear_error();
			b->st.tls_failed++;
			return -1;
		}
	case C_REQUEST:
		for (;;) {
			char *nl;
			if (c->reqlen == sizeof(c->req)) {
				start_send(b, c);	/* too long: ERR */
				return conn_step(b, c);
			}
			r = cio(c, 0, c->req + c->reqlen,
			    sizeof(c->req) - c->reqlen);
			if (r == 0)
				return 0;
			if (r < 0) {
				b->st.aborted++;
				return -1;
			}
			nl = memchr(c->req + c->reqlen, '\n', (size_t)r);
			c->reqlen += (size_t)r;
			if (nl != NULL) {
				c->reqlen = (size_t)(nl - c->req) + 1;
				start_send(b, c);
				return conn_step(b, c);
			}
		}
	case C_SEND:
		while (c->hdroff < c->hdrlen) {
			r = cio(c, 1, c->hdr + c->hdroff,
			    c->hdrlen - c->hdroff);
			if (r == 0)
				return 0;
			if (r < 0) {
				b->st.aborted++;
				return -1;
			}
			c->hdroff += (size_t)r;
		}
		while (c->left > 0 && budget > 0) {
			size_t len = c->pend;
			if (len == 0)
				len = c->left < sizeof(b->data) ?
				    (size_t)c->left : sizeof(b->data);
			r = cio(c, 1, b->data, len);
			if (r == 0) {
				c->pend = len;	/* OpenSSL: retry the same */
				return 0;
			}
			if (r < 0) {
				b->st.aborted++;
				log_debug("event=bulk_aborted tls=%d "
				    "requested=%llu sent=%llu", c->ssl != NULL,
				    (unsigned long long)c->requested,
				    (unsigned long long)(c->requested -
				    c->left));
				return -1;
			}
			c->pend = 0;
			c->left -= (uint64_t)r;
			b->st.bytes += (uint64_t)r;
			budget -= (size_t)r < budget ? (size_t)r : budget;
		}
		if (c->left > 0) {
			c->want = POLLOUT;
			return 0;
		}
		if (strncmp(c->hdr, "OK", 2) == 0) {
			b->st.served++;
			log_debug("event=bulk_served tls=%d bytes=%llu "
			    "ms=%lld", c->ssl != NULL,
			    (unsigned long long)c->requested,
			    (long long)((ztime_mono_us() - c->start_us) /
			    1000));
		}
		c->st = C_SHUT;
		return conn_step(b, c);
	case C_SHUT:
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_shutdown(c->ssl);
			if (n < 0 && SSL_get_error(c->ssl, n) ==
			    SSL_ERROR_WANT_WRITE) {
				c->want = POLLOUT;
				return 0;
			}
			ERR_clear_error();
		}
		shutdown(c->fd, SHUT_WR);
		c->st = C_DRAIN;
		c->want = POLLIN;
		return conn_step(b, c);
	case C_DRAIN:
		for (;;) {
			char junk[4096];
			r = recv(c->fd, junk, sizeof(junk), 0);
			if (r > 0)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			return -1;	/* EOF or error: done */
		}
	}
	return -1;
}

void
bulk_dispatch(struct bulk *b, const struct pollfd *pfd, size_t n)
{
	size_t k;

	for (k = 1; k < n; k++) {
		size_t i = b->slot[k];
		struct conn *c = b->conns[i];

		if (pfd[k].revents == 0 || c == NULL)
			continue;
		c->last_us = ztime_mono_us();
		if ((pfd[k].revents & POLLNVAL) || conn_step(b, c) != 0)
			conn_close(b, i);
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		do_accept(b);
}

void
bulk_sweep(struct bulk *b)
{
	int64_t now = ztime_mono_us();
	size_t i;

	for (i = 0; i < b->maxconns; i++) {
		struct conn *c = b->conns[i];
		if (c != NULL && now - c->last_us > b->idle_ms * 1000) {
			b->st.idle++;
			conn_close(b, i);
		}
	}
}
