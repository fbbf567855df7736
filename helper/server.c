/*
 * server.c — zond-helper's sockets, privilege drop and poll loop
 * (server.h).
 *
 * One thread, one poll(2) loop over: a signalfd (SIGTERM, SIGINT), the
 * UDP sockets, the TCP bulk listener and its connections.  UDP datagrams
 * are answered at once by hu_answer() (udp.c); TCP connections advance
 * as far as they can without blocking (bulk.c).
 * Invariants: nothing a peer sends can stop the loop: bad input is
 * counted and dropped; every UDP reply costs a token from one bucket of
 * udp_rate per second; datagrams from port 0 or from one of our own UDP
 * ports are never answered, so two helpers (or a helper and a spoofed
 * source) cannot ping-pong.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "bulk.h"
#include "log.h"
#include "tls.h"
#include "udp.h"
#include "ztime.h"

#define MAX_UDP		(5 + HELPER_MAX_PORTS)
#define UDP_BURST	64	/* datagrams read per socket per wakeup */
#define TICK_MS		1000
#define STATS_EVERY_US	(600 * 1000000LL)

struct helper {
	int udp[MAX_UDP];
	uint16_t udp_port[MAX_UDP];
	size_t nudp;
	struct bulk *bulk;
	SSL_CTX *ctx;
	int sigfd;
	struct pollfd *pfd;
	size_t npfd;
	int64_t rate;			/* replies per second */
	int64_t tokens;			/* in millionths of a reply */
	int64_t tokens_us;		/* when tokens were last topped up */
	uint64_t count[HU__COUNT];
	uint64_t ratelimited, looped, truncated, send_failed;
	char listen[64];
	uint8_t in[HU_OUT_MAX + 1];
	uint8_t out[HU_OUT_MAX];
	struct hu_turn turn;
};

static zerr_t
open_sock(const char *addr, int type, uint16_t port, int *out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, zero = 0;
	const char *what = type == SOCK_STREAM ? "tcp" : "udp";

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return zdiag_set(d, ZE_INVAL, "listen '%s' is not a numeric "
		    "address", addr);
	}
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return zdiag_set(d, ZE_IO, "%s socket: %s", what,
		    strerror(errno));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;
		close(fd);
		return zdiag_set(d, ZE_IO, "bind %s %s port %u: %s%s", what,
		    addr, port, strerror(e), e == EACCES ? " (ports below "
		    "1024 need root or CAP_NET_BIND_SERVICE)" : "");
	}
	if (type == SOCK_STREAM && listen(fd, 128) != 0) {
		int e = errno;
		close(fd);
		return zdiag_set(d, ZE_IO, "listen tcp port %u: %s", port,
		    strerror(e));
	}
	*out = fd;
	return ZE_OK;
}

zerr_t
helper_new(const struct helper_conf *c, struct helper **out, zdiag_t *d)
{
	int64_t ports[MAX_UDP] = {c->stun_port, c->quic_port,
	    c->wireguard_port, c->openvpn_port, c->echo_port};
	uint16_t lo[HELPER_MAX_RANGES], hi[HELPER_MAX_RANGES];
	size_t nports = 5, nr = 0;
	struct helper *h;
	char why[160];
	zerr_t e;
	size_t i, j;
	int lfd = -1;

	if (*c->udp_ports != '\0' && conf_parse_ports(c->udp_ports, lo, hi,
	    HELPER_MAX_RANGES, HELPER_MAX_PORTS, &nr, why, sizeof(why)) != 0)
		return zdiag_set(d, ZE_INVAL, "udp_ports: %s", why);
	for (i = 0; i < nr; i++)
		for (uint32_t p = lo[i]; p <= hi[i]; p++)
			ports[nports++] = p;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	h->sigfd = -1;
	h->rate = c->udp_rate;
	h->tokens = c->udp_rate * 1000000;
	h->tokens_us = ztime_mono_us();
	snprintf(h->listen, sizeof(h->listen), "%s", c->listen);
	hu_turn_init(&h->turn, c->turn_user, c->turn_realm, c->turn_password);
	for (i = 0; i < nports; i++) {
		if (ports[i] == 0)
			continue;
		for (j = 0; j < h->nudp; j++)
			if (h->udp_port[j] == ports[i])
				break;
		if (j < h->nudp)
			continue;	/* bound already: same classifier */
		h->udp_port[h->nudp] = (uint16_t)ports[i];
		if ((e = open_sock(c->listen, SOCK_DGRAM, (uint16_t)ports[i],
		    &h->udp[h->nudp], d)) != ZE_OK)
			goto fail;
		h->nudp++;
	}
	if (c->bulk_port != 0) {
		if ((e = htls_ctx_new("zond-helper", &h->ctx, d)) != ZE_OK)
			goto fail;
		if ((e = open_sock(c->listen, SOCK_STREAM,
		    (uint16_t)c->bulk_port, &lfd, d)) != ZE_OK)
			goto fail;
		if ((e = bulk_new(lfd, h->ctx, c->bulk_max, c->max_conns,
		    c->idle_timeout, &h->bulk, d)) != ZE_OK) {
			close(lfd);
			goto fail;
		}
	}
	h->npfd = 1 + h->nudp + (h->bulk ? bulk_npoll(h->bulk) : 0);
	if ((h->pfd = calloc(h->npfd, sizeof(*h->pfd))) == NULL) {
		e = zdiag_set(d, ZE_NOMEM, "out of memory");
		goto fail;
	}
	*out = h;
	return ZE_OK;
fail:
	helper_free(&h);
	return e;
}

void
helper_free(struct helper **hp)
{
	struct helper *h;
	size_t i;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	for (i = 0; i < h->nudp; i++)
		close(h->udp[i]);
	bulk_free(&h->bulk);
	SSL_CTX_free(h->ctx);
	if (h->sigfd >= 0)
		close(h->sigfd);
	free(h->pfd);
	free(h);
	*hp = NULL;
}

zerr_t
helper_drop(const char *user, zdiag_t *d)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	if (geteuid() != 0)
		return ZE_OK;
	if (user == NULL || *user == '\0') {
		log_warnx("event=running_as_root reason=\"[helper] user is "
		    "empty\"");
		return ZE_OK;
	}
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r != 0 || res == NULL)
		return zdiag_set(d, ZE_NOTFOUND, "user '%s': %s", user,
		    r != 0 ? strerror(r) : "no such user");
	if (pw.pw_uid == 0)
		return zdiag_set(d, ZE_PERM, "user '%s' is root; name an "
		    "unprivileged user", user);
	if (setgroups(1, &pw.pw_gid) != 0 ||
	    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0 ||
	    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0)
		return zdiag_set(d, ZE_PERM, "switching to user '%s': %s",
		    user, strerror(errno));
	if (setuid(0) == 0)
		return zdiag_set(d, ZE_PERM, "could regain root after "
		    "switching to '%s'", user);
	return ZE_OK;
}

static int
own_port(const struct helper *h, uint16_t port)
{
	size_t i;

	for (i = 0; i < h->nudp; i++)
		if (h->udp_port[i] == port)
			return 1;
	return 0;
}

/* Take one reply token; 0 when the bucket is empty. */
static int
take_token(struct helper *h)
{
	int64_t now = ztime_mono_us(), dt = now - h->tokens_us;

	if (dt > 1000000)
		dt = 1000000;
	if (dt > 0) {
		h->tokens += dt * h->rate;
		if (h->tokens > h->rate * 1000000)
			h->tokens = h->rate * 1000000;
		h->tokens_us = now;
	}
	if (h->tokens < 1000000)
		return 0;
	h->tokens -= 1000000;
	return 1;
}

static void
udp_drain(struct helper *h, size_t k)
{
	uint8_t rnd[HU_RAND_LEN];
	int i;

	for (i = 0; i < UDP_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		enum hu_kind kind;
		uint16_t sport;
		size_t olen;
		ssize_t r;

		r = recvfrom(h->udp[k], h->in, sizeof(h->in), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sl);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("event=udp_recv_error port=%u "
				    "error=\"%s\"", h->udp_port[k],
				    strerror(errno));
			return;
		}
		if ((size_t)r > HU_OUT_MAX) {
			h->truncated++;
			h->count[HU_BAD]++;
			continue;
		}
		sport = ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		if (sport == 0 || own_port(h, sport)) {
			h->looped++;
			continue;
		}
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			memset(rnd, 0x5a, sizeof(rnd));
		olen = hu_answer_turn(h->in, (size_t)r, (struct sockaddr *)&ss,
		    rnd, &h->turn, h->out, sizeof(h->out), &kind);
		h->count[kind]++;
		log_debug("event=udp port=%u kind=%s in=%zd out=%zu",
		    h->udp_port[k], hu_kind_name(kind), r, olen);
		if (olen == 0)
			continue;
		if (!take_token(h)) {
			h->ratelimited++;
			continue;
		}
		if (sendto(h->udp[k], h->out, olen, MSG_DONTWAIT,
		    (struct sockaddr *)&ss, sl) < 0)
			h->send_failed++;
	}
}

static void
log_stats(const struct helper *h, const char *event)
{
	char line[1024];
	size_t n = 0;
	int k, r;

	for (k = 0; k < HU__COUNT && n < sizeof(line); k++) {
		r = snprintf(line + n, sizeof(line) - n, "%s%s=%llu",
		    k ? " " : "", hu_kind_name((enum hu_kind)k),
		    (unsigned long long)h->count[k]);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, " ratelimited=%llu "
		    "looped=%llu oversized=%llu send_failed=%llu",
		    (unsigned long long)h->ratelimited,
		    (unsigned long long)h->looped,
		    (unsigned long long)h->truncated,
		    (unsigned long long)h->send_failed);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (h->bulk != NULL && n < sizeof(line)) {
		const struct bulk_stats *s = bulk_stats(h->bulk);
		snprintf(line + n, sizeof(line) - n, " bulk_accepted=%llu "
		    "bulk_tls=%llu bulk_served=%llu bulk_bytes=%llu "
		    "bulk_bad_request=%llu bulk_tls_failed=%llu "
		    "bulk_aborted=%llu bulk_idle=%llu bulk_refused=%llu "
		    "bulk_active=%zu",
		    (unsigned long long)s->accepted,
		    (unsigned long long)s->tls,
		    (unsigned long long)s->served,
		    (unsigned long long)s->bytes,
		    (unsigned long long)s->bad_request,
		    (unsigned long long)s->tls_failed,
		    (unsigned long long)s->aborted,
		    (unsigned long long)s->idle,
		    (unsigned long long)s->refused, bulk_active(h->bulk));
	}
	log_info("event=%s %s", event, line);
}

/*
 * The loop.  Each turn: poll the signalfd, the UDP sockets and the bulk
 * sockets (timeout TICK_MS); stop on a signal; answer pending datagrams;
 * advance TCP connections.  Periodic tick (every turn, cheap): close idle
 * TCP connections; every STATS_EVERY_US log the counters.
 */
int
helper_run(struct helper *h)
{
	char ports[MAX_UDP * 6 + 1] = "";
	int64_t next_stats = ztime_mono_us() + STATS_EVERY_US;
	sigset_t mask;
	size_t i, n, nb, off = 0;
	int rc = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (h->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_warn("event=signalfd_failed");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < h->nudp && off < sizeof(ports); i++) {
		int r = snprintf(ports + off, sizeof(ports) - off, "%s%u",
		    i ? "," : "", h->udp_port[i]);
		off += r < 0 ? 0 : (size_t)r;
	}
	log_info("event=ready listen=%s udp=%s bulk=%s uid=%u",
	    h->listen, h->nudp ? ports : "none", h->bulk ? "on" : "off",
	    (unsigned)geteuid());
	for (;;) {
		n = 0;
		h->pfd[n].fd = h->sigfd;
		h->pfd[n++].events = POLLIN;
		for (i = 0; i < h->nudp; i++) {
			h->pfd[n].fd = h->udp[i];
			h->pfd[n++].events = POLLIN;
		}
		nb = h->bulk ? bulk_pollfds(h->bulk, h->pfd + n) : 0;
		for (i = 0; i < n; i++)
			h->pfd[i].revents = 0;
		if (poll(h->pfd, n + nb, TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("event=poll_failed");
			rc = 1;
			break;
		}
		if (h->pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(h->sigfd, &si, sizeof(si)) == sizeof(si)) {
				log_info("event=shutdown signal=%u",
				    si.ssi_signo);
				break;
			}
		}
		for (i = 0; i < h->nudp; i++)
			if (h->pfd[1 + i].revents != 0)
				udp_drain(h, i);
		if (h->bulk != NULL) {
			bulk_dispatch(h->bulk, h->pfd + n, nb);
			bulk_sweep(h->bulk);
		}
		if (ztime_mono_us() >= next_stats) {
			log_stats(h, "stats");
			next_stats += STATS_EVERY_US;
		}
	}
	log_stats(h, "final_stats");
	return rc;
}
