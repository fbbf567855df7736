/*
 * bulk.h — zond-helper's TCP bulk source, plain and TLS on one port.
 *
 * Protocol (docs/HELPER.md): the client sends one line "GET N\n" (or
 * "GET N\r\n"), N decimal bytes, at most bulk_max; the helper answers
 * "OK N\n" and then exactly N bytes of random data, then closes.  A bad
 * request gets "ERR reason\n" and a close.  A connection whose first
 * byte is 0x16 (a TLS handshake record) is TLS: the same exchange runs
 * inside TLS, whatever the SNI.
 *
 * The module runs inside the daemon's single poll loop: every socket is
 * non-blocking; bulk_pollfds() lists what to poll, bulk_dispatch() acts
 * on the results, bulk_sweep() closes idle connections.  Not thread-safe.
 */
#ifndef HELPER_BULK_H
#define HELPER_BULK_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "err.h"

#define BULK_REQ_MAX	64	/* longest request line, newline included */

struct bulk;

struct bulk_stats {
	uint64_t accepted;	/* connections taken */
	uint64_t refused;	/* closed at once: max_conns reached */
	uint64_t served;	/* transfers completed */
	uint64_t bad_request;	/* request line malformed or over bulk_max */
	uint64_t tls_failed;	/* TLS handshake failed */
	uint64_t aborted;	/* reset, EOF or error mid-way */
	uint64_t idle;		/* closed by the idle timeout */
	uint64_t tls;		/* connections that were TLS */
	uint64_t bytes;		/* payload bytes sent */
};

/*
 * Parse a request line (without or with its "\n" / "\r\n") of len bytes.
 * Pure.  *n gets the byte count; over max is ZE_RANGE, anything else not
 * matching "GET <decimal>" is ZE_PARSE; d says what was wrong.
 */
zerr_t bulk_parse_request(const char *line, size_t len, int64_t max,
    int64_t *n, zdiag_t *d) ZWUR;

/* A bulk server on the listening socket lfd (non-blocking; bulk takes
 * ownership and closes it).  ctx (not owned, may be NULL: plain only). */
zerr_t bulk_new(int lfd, SSL_CTX *ctx, int64_t max, int64_t max_conns,
    int64_t idle_ms, struct bulk **out, zdiag_t *d) ZWUR;
void bulk_free(struct bulk **b);

/* Fill pfd[0..) with the listener and every connection; returns the
 * count (at most bulk_npoll()). */
size_t bulk_pollfds(struct bulk *b, struct pollfd *pfd);
size_t bulk_npoll(const struct bulk *b);

/* Act on the revents of the n entries bulk_pollfds() filled. */
void bulk_dispatch(struct bulk *b, const struct pollfd *pfd, size_t n);

/* Close connections idle for longer than idle_ms. */
void bulk_sweep(struct bulk *b);

const struct bulk_stats *bulk_stats(const struct bulk *b);
size_t bulk_active(const struct bulk *b);

#endif
