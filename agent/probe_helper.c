/*
 * probe_helper.c — client side of zond-helper's protocols (see
 * probe_helper.h).
 *
 * Why OpenSSL and not libcurl for the TLS bulk download: the throughput
 * test must send an exact SNI to an exact address whatever the name
 * resolves to, notice a stall within env->timeout_ms (curl's low-speed
 * limit works in whole seconds on an average rate), tell a reset from a
 * clean close from a stall from the socket itself (curl folds them into
 * CURLE_RECV_ERROR), and speak the helper's one-line protocol, which is
 * not HTTP.  A few dozen lines of OpenSSL do exactly that.
 * The helper's certificate is self-signed and deliberately not verified:
 * the test measures the path's treatment of an SNI, not the server.
 * Invariants: every wait is bounded by env->timeout_ms; buffers are
 * fixed-size; nothing here is shared between threads.
 */
#include "probe_helper.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "probe_util.h"
#include "ztime.h"

#define PH_MAX_UDP	4
#define PH_MAX_TX	7	/* RFC 5389 Rc */
#define PH_HDR_MAX	32	/* longest "OK N\n" we accept */

void
ph_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t off = 0;

	while (off < len) {
		ssize_t r = getrandom(p + off, len - off, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source: ids only need to differ. */
			for (; off < len; off++)
				p[off] = (uint8_t)(ztime_mono_us() >>
				    (off % 8));
			return;
		}
		off += (size_t)r;
	}
}

/* The port written in a target text ("h:p", "[v6]:p"), or 0. */
static int
text_port(const char *t)
{
	const char *c;
	int64_t v;

	if (t == NULL)
		return 0;
	if (t[0] == '[') {
		if ((c = strchr(t, ']')) == NULL || c[1] != ':')
			return 0;
		c++;
	} else if ((c = strchr(t, ':')) == NULL || strchr(c + 1, ':')) {
		return 0;
	}
	if (conf_parse_int(c + 1, &v) != ZE_OK || v < 1 || v > 65535)
		return 0;
	return (int)v;
}

zerr_t
ph_addr(const probe_req_t *req, int defport, struct sockaddr_storage *ss,
    socklen_t *len, zdiag_t *d)
{
	const char *text = req->ip != NULL ? req->ip : req->target;
	int port = defport;
	zerr_t e;

	if (req->port < 0 || req->port > 65535)
		return zdiag_set(d, ZE_INVAL, "port %d out of range",
		    req->port);
	if (req->ip != NULL && text_port(req->target) != 0)
		port = text_port(req->target);
	if ((e = pu_parse_addr(text, port, ss, len, d)) != ZE_OK)
		return e;
	if (req->port != 0) {
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port =
			    htons((uint16_t)req->port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port =
			    htons((uint16_t)req->port);
	}
	return ZE_OK;
}

/*
 * A UDP socket connected to sa whose local port is none of zond-helper's
 * default ports nor sa's port: the helper drops datagrams from its own
 * ports (its loop guard, docs/HELPER.md), and 51820 lies in Linux's
 * ephemeral range.  -1 with errno on failure.
 */
static int
udp_open(const struct sockaddr *sa, socklen_t salen)
{
	static const uint16_t avoid[] = {7, 443, 1194, 3478, 51820};
	uint16_t dport;
	int tries, fd = -1, one = 1;

	/* sin_port and sin6_port share their offset; copied, as sa need not
	 * be aligned for sockaddr_in */
	memcpy(&dport, (const char *)sa + offsetof(struct sockaddr_in,
	    sin_port), sizeof(dport));
	dport = ntohs(dport);

	for (tries = 0; tries < 8; tries++) {
		struct sockaddr_storage ls;
		socklen_t ll = sizeof(ls);
		uint16_t lport;
		size_t i;

		fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		/* ICMP errors with their sender, to tell whose they are */
		if (sa->sa_family == AF_INET6)
			(void)setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one,
			    sizeof(one));
		else
			(void)setsockopt(fd, SOL_IP, IP_RECVERR, &one,
			    sizeof(one));
		if (connect(fd, sa, salen) != 0 ||
		    getsockname(fd, (struct sockaddr *)&ls, &ll) != 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		/* sin_port and sin6_port sit at the same offset */
		lport = ntohs(((struct sockaddr_in *)&ls)->sin_port);
		for (i = 0; i < ZARRAY_LEN(avoid); i++)
			if (lport == avoid[i])
				break;
		if (i == ZARRAY_LEN(avoid) && lport != dport)
			return fd;
		close(fd);
		fd = -1;
	}
	errno = EADDRINUSE;
	return -1;
}

static void
udp_finish(struct ph_udp *x, enum ph_state st, int err)
{
	x->state = st;
	x->err = err;
	x->side = PU_SIDE_UNKNOWN;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

void
ph_udp_run(const struct sockaddr *sa, socklen_t salen, struct ph_udp *x,
    size_t n, int64_t timeout_ms)
{
	int64_t now = ztime_mono_us(), deadline = now + timeout_ms * 1000;
	struct pollfd pfd[PH_MAX_UDP];
	size_t map[PH_MAX_UDP];
	uint8_t buf[2048];
	size_t i;

	assert(n <= PH_MAX_UDP);
	for (i = 0; i < n; i++) {
		x[i].state = PH_WAIT;
		x[i].tx = 0;
		x[i].bad = 0;
		x[i].err = 0;
		x[i].rtt_us = 0;
		x[i].rto_ms = PH_RTO_MS;
		x[i].next_us = now;
		if ((x[i].fd = udp_open(sa, salen)) < 0) {
			/* socket or route lookup refused: the host's own */
			udp_finish(&x[i], PH_ERROR, errno);
			x[i].side = PU_SIDE_LOCAL;
		}
	}
	for (;;) {
		int64_t wake = deadline;
		size_t np = 0;

		now = ztime_mono_us();
		for (i = 0; i < n; i++) {
			if (x[i].state != PH_WAIT)
				continue;
			if (now >= deadline) {
				udp_finish(&x[i], x[i].bad ? PH_BAD :
				    PH_TIMEOUT, 0);
				continue;
			}
			if (now >= x[i].next_us && x[i].tx < PH_MAX_TX) {
				if (send(x[i].fd, x[i].pkt, x[i].len, 0) < 0 &&
				    errno != EAGAIN && errno != EINTR) {
					/* an earlier ICMP error, or refused
					 * at once by the host */
					int e = errno, sd = pu_errqueue_side(
					    x[i].fd);
					udp_finish(&x[i], PH_ERROR, e);
					x[i].side = sd != PU_SIDE_UNKNOWN ? sd :
					    PU_SIDE_LOCAL;
					continue;
				}
				if (x[i].tx++ == 0)
					x[i].first_us = now;
				x[i].next_us = now + x[i].rto_ms * 1000;
				x[i].rto_ms *= 2;
			}
			if (x[i].tx < PH_MAX_TX && x[i].next_us < wake)
				wake = x[i].next_us;
			pfd[np].fd = x[i].fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			map[np++] = i;
		}
		if (np == 0)
			return;
		if (wake - now > 1000000)	/* poll takes an int */
			wake = now + 1000000;
		if (poll(pfd, np, (int)((wake - now + 999) / 1000)) < 0 &&
		    errno != EINTR) {
			for (i = 0; i < np; i++)
				udp_finish(&x[map[i]], PH_ERROR, errno);
			return;
		}
		for (i = 0; i < np; i++) {
			struct ph_udp *u = &x[map[i]];
			if (pfd[i].revents == 0)
				continue;
			while (u->state == PH_WAIT) {
				ssize_t r = recv(u->fd, buf, sizeof(buf), 0);
				int m;
				if (r < 0) {
					if (errno != EAGAIN && errno != EINTR) {
						int e = errno, sd =
						    pu_errqueue_side(u->fd);
						udp_finish(u, PH_ERROR, e);
						u->side = sd;
					}
					break;
				}
				m = u->match(buf, (size_t)r, u->arg);
				if (m > 0) {
					u->rtt_us = ztime_mono_us() -
					    u->first_us;
					udp_finish(u, PH_OK, 0);
				} else if (m < 0) {
					u->bad = 1;
				}
			}
		}
	}
}

Zond__V1__Failure
ph_udp_failure(const struct ph_udp *x, int64_t timeout_ms, char *buf,
    size_t len)
{
	switch (x->state) {
	case PH_OK:
		snprintf(buf, len, "reply after %u transmission(s)", x->tx);
		return ZOND__V1__FAILURE__FAIL_NONE;
	case PH_BAD:
		snprintf(buf, len, "only replies that do not parse as the "
		    "protocol in %lld ms", (long long)timeout_ms);
		return ZOND__V1__FAILURE__FAIL_BAD_RESPONSE;
	case PH_ERROR:
		if (x->err == ECONNREFUSED) {
			snprintf(buf, len, "ICMP port unreachable");
			return ZOND__V1__FAILURE__FAIL_UNREACHABLE;
		}
		snprintf(buf, len, "%s%s", strerror(x->err),
		    x->side == PU_SIDE_LOCAL ? " (agent's own side)" : "");
		return pu_errno_failure(x->err, x->side);
	case PH_WAIT:
	case PH_TIMEOUT:
		break;
	}
	snprintf(buf, len, "no reply in %lld ms (%u transmissions)",
	    (long long)timeout_ms, x->tx);
	return ZOND__V1__FAILURE__FAIL_TIMEOUT;
}

static int
baseline_match(const uint8_t *reply, size_t n, void *arg)
{
	const struct ph_baseline *b = arg;

	return n == sizeof(b->pkt) && memcmp(reply, b->pkt, n) == 0 ? 1 : -1;
}

void
ph_baseline_init(struct ph_baseline *b, struct ph_udp *x)
{
	ph_random(b->pkt, sizeof(b->pkt));
	/* 0x08-0x37: not STUN (00 + cookie), not WireGuard (1-4), not the
	 * OpenVPN hard reset (0x38-0x3f), not a QUIC long header (>= 0x80). */
	b->pkt[0] = (uint8_t)(0x08 + b->pkt[0] % 0x30);
	memset(x, 0, sizeof(*x));
	x->pkt = b->pkt;
	x->len = sizeof(b->pkt);
	x->match = baseline_match;
	x->arg = b;
}

zerr_t
ph_shot_run(const probe_env_t *env, const probe_req_t *req, int port,
    struct ph_shot *s, zdiag_t *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ph_baseline b;
	struct ph_udp x[2];
	char detail[128];
	zerr_t e;

	if ((e = ph_addr(req, port, &ss, &sl, d)) != ZE_OK)
		return e;
	memset(x, 0, sizeof(x));
	x[0].pkt = s->pkt;
	x[0].len = s->len;
	x[0].match = s->match;
	x[0].arg = s->arg;
	ph_baseline_init(&b, &x[1]);
	if (req->sent != NULL && s->len <= sizeof(req->sent->pkt)) {
		memcpy(req->sent->pkt, s->pkt, s->len);
		req->sent->len = s->len;
	}
	ph_udp_run((struct sockaddr *)&ss, sl, x, 2, env->timeout_ms);
	pu_addr_str((struct sockaddr *)&ss, s->addr, sizeof(s->addr));
	s->baseline_ok = x[1].state == PH_OK;
	s->f = ph_udp_failure(&x[0], env->timeout_ms, detail, sizeof(detail));
	s->rtt_us = s->f == ZOND__V1__FAILURE__FAIL_NONE ?
	    (uint32_t)x[0].rtt_us : 0;
	if (s->no_reply && s->f == ZOND__V1__FAILURE__FAIL_TIMEOUT &&
	    s->baseline_ok) {
		s->f = ZOND__V1__FAILURE__FAIL_NO_REPLY;
		snprintf(s->detail, sizeof(s->detail), "%s; baseline answered",
		    detail);
	} else
		snprintf(s->detail, sizeof(s->detail), "%s", detail);
	return ZE_OK;
}

bool
ph_shot_fill(Zond__V1__Outcome *o, const struct ph_shot *s,
    const char *variant)
{
	/* the three messages share these fields' names and types */
#define SHOT_FILL(m, vfield) { \
		(m)->has_baseline_ok = 1; \
		(m)->baseline_ok = s->baseline_ok; \
		if (s->f == ZOND__V1__FAILURE__FAIL_NONE) { \
			(m)->has_rtt_us = 1; \
			(m)->rtt_us = s->rtt_us; \
		} \
		return ((m)->addr = pu_strdup(s->addr)) != NULL && \
		    ((m)->vfield = pu_strdup(variant)) != NULL; \
	}
	if (o == NULL)
		return false;
	switch (o->test_case) {
	case ZOND__V1__OUTCOME__TEST_STUN: SHOT_FILL(o->stun, variant)
	case ZOND__V1__OUTCOME__TEST_QUIC: SHOT_FILL(o->quic, variant)
	case ZOND__V1__OUTCOME__TEST_VPN: SHOT_FILL(o->vpn, protocol)
	default: return false;
	}
#undef SHOT_FILL
}

uint64_t
ph_rate(uint64_t bytes, int64_t us)
{
	if (us <= 0)
		return 0;
	if (bytes > UINT64_MAX / 1000000)
		return bytes / (uint64_t)us * 1000000;
	return bytes * 1000000 / (uint64_t)us;
}

/* ------------------------------------------------------------ bulk */

struct io {
	int fd;
	SSL *ssl;
	int64_t timeout_ms;
};

enum { IO_TIMEOUT = -1, IO_ERRNO = -2, IO_TLS = -3 };

/* Read up to len bytes.  > 0 bytes, 0 EOF, IO_TIMEOUT, IO_ERRNO (*err
 * set) or IO_TLS (TLS protocol error, text in *why). */
static ssize_t
io_read(struct io *io, void *buf, size_t len, int *err, char *why,
    size_t wlen)
{
	for (;;) {
		int n, e, w;

		if (io->ssl == NULL) {
			ssize_t r = recv(io->fd, buf, len, 0);
			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				*err = errno;
				return IO_ERRNO;
			}
			w = POLLIN;
		} else {
			ERR_clear_error();
			errno = 0;
			n = SSL_read(io->ssl, buf, (int)(len > 65536 ? 65536 :
			    len));
			if (n > 0)
				return n;
			e = SSL_get_error(io->ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_SYSCALL) {
				*err = errno;
				return errno == 0 ? 0 : IO_ERRNO;
			}
			if (e == SSL_ERROR_SSL) {
				ERR_error_string_n(ERR_get_error(), why, wlen);
				return IO_TLS;
			}
			w = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		}
		n = pu_wait(io->fd, (short)w, io->timeout_ms);
		if (n == 0)
			return IO_TIMEOUT;
		if (n < 0) {
			*err = errno;
			return IO_ERRNO;
		}
	}
}

/* Write all of buf; 0 or an IO_ code as io_read. */
static int
io_write_all(struct io *io, const void *buf, size_t len, int *err)
{
	size_t off = 0;

	while (off < len) {
		int w = POLLOUT, n;
		if (io->ssl == NULL) {
			ssize_t r = send(io->fd, (const char *)buf + off,
			    len - off, MSG_NOSIGNAL);
			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				*err = errno;
				return IO_ERRNO;
			}
		} else {
			ERR_clear_error();
			errno = 0;
			n = SSL_write(io->ssl, (const char *)buf + off,
			    (int)(len - off));
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			switch (SSL_get_error(io->ssl, n)) {
			case SSL_ERROR_WANT_READ:
				w = POLLIN;
				break;
			case SSL_ERROR_WANT_WRITE:
				break;
			case SSL_ERROR_SYSCALL:
				*err = errno ? errno : EPIPE;
				return IO_ERRNO;
			default:
				return IO_TLS;
			}
		}
		n = pu_wait(io->fd, (short)w, io->timeout_ms);
		if (n == 0)
			return IO_TIMEOUT;
		if (n < 0) {
			*err = errno;
			return IO_ERRNO;
		}
	}
	return 0;
}

static Zond__V1__Failure
errno_fail(int err)
{
	if (err == 0 || err == EPIPE)
		return ZOND__V1__FAILURE__FAIL_RESET;
	/* mid-stream: the connection was up, the network said it */
	return pu_errno_failure(err, PU_SIDE_UNKNOWN);
}

/* TLS handshake on io->fd with sni.  0 or fills r and returns -1. */
static int
tls_start(struct io *io, SSL_CTX **ctxp, const char *sni, struct ph_bulk *r)
{
	int64_t deadline = ztime_mono_us() + io->timeout_ms * 1000;
	char why[160];
	SSL_CTX *ctx;

	ctx = *ctxp = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || (io->ssl = SSL_new(ctx)) == NULL) {
		r->fail = ZOND__V1__FAILURE__FAIL_LOCAL;
		snprintf(r->detail, sizeof(r->detail), "SSL_new failed");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_set_verify(io->ssl, SSL_VERIFY_NONE, NULL);
	SSL_set_options(io->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_set_tlsext_host_name(io->ssl, sni) != 1 ||
	    SSL_set_fd(io->ssl, io->fd) != 1) {
		r->fail = ZOND__V1__FAILURE__FAIL_LOCAL;
		snprintf(r->detail, sizeof(r->detail), "SNI '%s' refused by "
		    "OpenSSL", sni);
		return -1;
	}
	for (;;) {
		int n, e, w;
		int64_t left;

		ERR_clear_error();
		errno = 0;
		n = SSL_connect(io->ssl);
		if (n == 1)
			return 0;
		e = SSL_get_error(io->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			w = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			w = POLLOUT;
		else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
			int err = errno;
			r->fail = err == 0 ? ZOND__V1__FAILURE__FAIL_EOF :
			    errno_fail(err);
			snprintf(r->detail, sizeof(r->detail), "TLS handshake: "
			    "%s", err == 0 ? "connection closed" :
			    strerror(err));
			return -1;
		} else {
			ERR_error_string_n(ERR_get_error(), why, sizeof(why));
			r->fail = ZOND__V1__FAILURE__FAIL_TLS_ERROR;
			snprintf(r->detail, sizeof(r->detail), "TLS handshake: "
			    "%s", why);
			return -1;
		}
		left = (deadline - ztime_mono_us()) / 1000;
		if (left <= 0 || (n = pu_wait(io->fd, (short)w, left)) == 0) {
			r->fail = ZOND__V1__FAILURE__FAIL_TIMEOUT;
			snprintf(r->detail, sizeof(r->detail), "TLS handshake "
			    "timed out after %lld ms",
			    (long long)io->timeout_ms);
			return -1;
		}
		if (n < 0) {
			r->fail = ZOND__V1__FAILURE__FAIL_LOCAL;
			snprintf(r->detail, sizeof(r->detail), "poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

/* "OK N" with N == want?  0 yes, else fills r. */
static int
check_header(const char *hdr, size_t len, uint64_t want, struct ph_bulk *r)
{
	int64_t n;
	char num[24];

	if (len > 3 && memcmp(hdr, "OK ", 3) == 0 && len - 3 < sizeof(num)) {
		memcpy(num, hdr + 3, len - 3);
		num[len - 3] = '\0';
		if (conf_parse_int(num, &n) == ZE_OK && n >= 0 &&
		    (uint64_t)n == want)
			return 0;
	}
	r->fail = ZOND__V1__FAILURE__FAIL_BAD_RESPONSE;
	snprintf(r->detail, sizeof(r->detail), "helper answered '%.*s'",
	    (int)(len > 40 ? 40 : len), hdr);
	for (char *p = r->detail; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return -1;
}

void
ph_bulk_get(const probe_env_t *env, const struct sockaddr *sa,
    socklen_t salen, const char *sni, uint64_t bytes, struct ph_bulk *r)
{
	struct io io = {.fd = -1, .ssl = NULL, .timeout_ms = env->timeout_ms};
	SSL_CTX *ctx = NULL;
	char req[40], hdr[PH_HDR_MAX], why[160];
	uint8_t buf[16384];
	size_t hlen = 0;
	int hdr_done = 0, got_any = 0, err = 0;
	int64_t t0, last, cap_us;
	Zond__V1__Failure f;

	memset(r, 0, sizeof(*r));
	io.fd = pu_connect(sa, salen, SOCK_STREAM, env->timeout_ms, &f, &err,
	    &r->connect_us);
	if (io.fd < 0) {
		r->fail = f;
		snprintf(r->detail, sizeof(r->detail), "connect: %s",
		    strerror(err));
		return;
	}
	if (sni != NULL && tls_start(&io, &ctx, sni, r) != 0)
		goto out;
	snprintf(req, sizeof(req), "GET %llu\n", (unsigned long long)bytes);
	if (io_write_all(&io, req, strlen(req), &err) != 0) {
		r->fail = err ? errno_fail(err) :
		    ZOND__V1__FAILURE__FAIL_TIMEOUT;
		snprintf(r->detail, sizeof(r->detail), "sending the request: "
		    "%s", err ? strerror(err) : "failed");
		goto out;
	}
	t0 = last = ztime_mono_us();
	cap_us = (env->timeout_ms * 10 > PH_BULK_CAP_MIN_MS ?
	    env->timeout_ms * 10 : PH_BULK_CAP_MIN_MS) * 1000;
	while (!hdr_done || r->received < bytes) {
		size_t want = sizeof(buf), off = 0;
		ssize_t n;

		if (last - t0 > cap_us) {
			/* A trickle is no stall, but must end some time. */
			r->fail = ZOND__V1__FAILURE__FAIL_TIMEOUT;
			snprintf(r->detail, sizeof(r->detail), "transfer cap "
			    "of %lld s reached after %llu of %llu bytes",
			    (long long)(cap_us / 1000000),
			    (unsigned long long)r->received,
			    (unsigned long long)bytes);
			break;
		}

		if (hdr_done && bytes - r->received < want)
			want = (size_t)(bytes - r->received);
		n = io_read(&io, buf, want, &err, why, sizeof(why));
		if (n <= 0) {
			const char *what;
			if (n == IO_TIMEOUT) {
				r->fail = got_any ?
				    ZOND__V1__FAILURE__FAIL_STALL :
				    ZOND__V1__FAILURE__FAIL_TIMEOUT;
				what = got_any ? "no data" : "no reply";
			} else if (n == 0) {
				r->fail = ZOND__V1__FAILURE__FAIL_EOF;
				what = "closed";
			} else if (n == IO_TLS) {
				r->fail = ZOND__V1__FAILURE__FAIL_TLS_ERROR;
				what = why;
			} else {
				r->fail = errno_fail(err);
				what = strerror(err);
			}
			snprintf(r->detail, sizeof(r->detail), "%.120s after %llu "
			    "of %llu bytes%s", what,
			    (unsigned long long)r->received,
			    (unsigned long long)bytes, n == IO_TIMEOUT ?
			    " within the timeout" : "");
			break;
		}
		got_any = 1;
		last = ztime_mono_us();
		while (!hdr_done && off < (size_t)n) {
			if (buf[off] == '\n') {
				hdr_done = 1;
				if (check_header(hdr, hlen, bytes, r) != 0)
					goto out;
			} else if (hlen == sizeof(hdr)) {
				check_header(hdr, hlen, bytes, r);
				goto out;
			} else {
				hdr[hlen++] = (char)buf[off];
			}
			off++;
		}
		if (hdr_done)
			r->received += (uint64_t)n - off;
	}
	r->elapsed_us = last - t0;
out:
	SSL_free(io.ssl);
	SSL_CTX_free(ctx);
	close(io.fd);
}
