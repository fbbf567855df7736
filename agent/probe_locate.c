/*
 * probe_locate.c — where the censor sits: the trigger of a failed test
 * replayed with TTL 1, 2, ... (see probe_locate.h; docs/PROBES-TCP.md and
 * docs/PROBES-UDP.md "Localization").
 *
 * Each TTL costs one attempt of the trigger on a socket of its own and one
 * neutral UDP datagram of the same size to the same address (TCP
 * triggers: the same port number; UDP triggers: the neutral port
 * LOCATE_NEUTRAL_PORT, so a rule keyed on the port as well as one keyed
 * on the payload lets it pass):
 *   - TCP triggers: connect with the default TTL, set IP_TTL (v6:
 *     IPV6_UNICAST_HOPS) to k and IP_RECVERR, send the trigger, wait.  The
 *     kernel turns an ICMP time exceeded on an established socket with
 *     IP_RECVERR into EHOSTUNREACH; an RST is ECONNRESET; data is an
 *     answer.  TCP gives no ICMP sender, so the hop's address comes from
 *     the neutral datagram (another 5-tuple: ECMP may route it apart).
 *   - "syn": the connect itself goes out with TTL k; the SYN's ICMP error
 *     is queued with its sender (the kernel does so in SYN_SENT).
 *   - UDP triggers: the datagram with TTL k; the ICMP error names the hop.
 * Packets are counted exactly: TCP_INFO's segs_out of each connection
 * (SYN, ACK, trigger, retransmissions) plus the RST that closes it, and
 * each datagram.  Before a TTL starts, the most it can cost must fit in
 * LOCATE_MAX_PACKETS.  Sockets are closed with the default TTL restored,
 * so the closing RST reaches the server and no half-open state remains.
 */
#include "probe_locate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "probe_helper.h"
#include "probe_util.h"
#include "ztime.h"

#define S(x) ZOND__V1__LOCATE_SEEN__LOCATE_SEEN_##x
#define R(x) ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_##x
#define TRIGGER_MAX	4096	/* a ClientHello, a request, a datagram */
#define NEUTRAL_MAX	1200
/* The most one attempt can cost, the neutral datagram included. */
#define TCP_COST	9	/* SYN, its retransmission (the connect
				 * waits up to CONNECT_MS), ACK, trigger, 2
				 * retransmissions in the longest wait, RST,
				 * the RST answering the server's challenge
				 * ACK, the neutral */
#define CONNECT_MS	2000	/* the connect before a TCP trigger */
#define SYN_COST	4	/* SYN, its retransmission, RST, neutral */
#define UDP_COST	2	/* trigger, neutral */
#define LOCATE_NEUTRAL_PORT	33434	/* UDP triggers' neutral datagram */

/* ------------------------------------------------------------ decision */

const char *
locate_reaction_name(locate_reaction_t r)
{
	switch (r) {
	case R(RST): return "rst";
	case R(FORGED): return "forged";
	case R(DROP): return "drop";
	case R(UNREACHABLE): return "unreachable";
	default: return "none";
	}
}

const char *
locate_seen_name(locate_seen_t s)
{
	switch (s) {
	case S(SILENCE): return "silence";
	case S(TIME_EXCEEDED): return "time_exceeded";
	case S(RESET): return "reset";
	case S(FORGED): return "forged";
	case S(SERVER): return "server";
	case S(UNREACHABLE): return "unreachable";
	default: return "unknown";
	}
}

locate_seen_t
locate_seen_fix(locate_seen_t trigger, locate_seen_t neutral)
{
	if (trigger == S(SERVER) && neutral == S(TIME_EXCEEDED))
		return S(FORGED);
	return trigger;
}

static bool
is_reaction(locate_seen_t s)
{
	return s == S(RESET) || s == S(FORGED) || s == S(UNREACHABLE);
}

static bool
answered(locate_seen_t s)
{
	return s == S(TIME_EXCEEDED) || s == S(SERVER) ||
	    s == S(UNREACHABLE);
}

void
locate_decide(const struct locate_obs *obs, size_t n, struct locate_verdict *v)
{
	size_t i, r = n, last_te = SIZE_MAX;
	bool neutral_past = false, any = false;

	memset(v, 0, sizeof(*v));
	v->addr_obs = SIZE_MAX;
	v->reaction = R(NONE);
	for (i = 0; i < n && r == n; i++) {
		if (is_reaction(obs[i].trigger))
			r = i;
		else if (obs[i].trigger == S(TIME_EXCEEDED))
			last_te = i;
	}
	if (n == 0) {
		v->reason = "nothing_sent";
		return;
	}
	if (r < n) {
		if (obs[r].neutral == S(SERVER)) {
			/* the trigger reached the destination at that TTL:
			 * the answer may be the server's own */
			v->reason = "reaction_at_destination";
			return;
		}
		v->located = true;
		v->reaction = obs[r].trigger == S(RESET) ? R(RST) :
		    obs[r].trigger == S(FORGED) ? R(FORGED) : R(UNREACHABLE);
		if (last_te == SIZE_MAX) {
			v->hop = 0;
			v->reason = "reaction_at_first_hop";
			return;
		}
		v->hop = obs[last_te].ttl;
		if (obs[last_te].has_addr)
			v->addr_obs = last_te;
		v->reason = last_te + 1 == r ? "reaction_after_hop" :
		    "reaction_after_silent_hops";
		return;
	}
	for (i = 0; i < n; i++) {
		if (obs[i].trigger == S(SERVER)) {
			v->reason = "destination_reached";
			return;
		}
		if (answered(obs[i].trigger) || answered(obs[i].neutral))
			any = true;
	}
	if (!any) {
		v->reason = "no_answer";
		return;
	}
	/* a drop: the trigger stopped drawing answers after last_te while
	 * the neutral datagram still drew some further on */
	for (i = last_te == SIZE_MAX ? 0 : last_te + 1; i < n; i++)
		if (answered(obs[i].neutral))
			neutral_past = true;
	if (!neutral_past) {
		v->reason = last_te == SIZE_MAX || last_te + 1 < n ?
		    "neutral_silent_too" : "no_reaction";
		return;
	}
	v->located = true;
	v->reaction = R(DROP);
	if (last_te == SIZE_MAX) {
		v->hop = 0;
		v->reason = "dropped_before_first_hop";
		return;
	}
	v->hop = obs[last_te].ttl;
	if (obs[last_te].has_addr)
		v->addr_obs = last_te;
	v->reason = "dropped_after_hop";
}

bool
locate_wanted(Zond__V1__TestKind t, Zond__V1__Failure f)
{
	switch (t) {
	case ZOND__V1__TEST_KIND__TEST_TCP:
	case ZOND__V1__TEST_KIND__TEST_TLS:
	case ZOND__V1__TEST_KIND__TEST_HTTP:
	case ZOND__V1__TEST_KIND__TEST_QUIC:
	case ZOND__V1__TEST_KIND__TEST_STUN:
	case ZOND__V1__TEST_KIND__TEST_CALL:
	/* its path variant probes the hops itself (locate_from_call); its
	 * relay variant is replayed as stun is; its flow has nothing */
		break;
	default:
		return false;
	}
	switch (f) {
	case ZOND__V1__FAILURE__FAIL_RESET:
	case ZOND__V1__FAILURE__FAIL_TIMEOUT:
	case ZOND__V1__FAILURE__FAIL_EOF:
	case ZOND__V1__FAILURE__FAIL_NO_REPLY:
	case ZOND__V1__FAILURE__FAIL_BLOCKPAGE:
	case ZOND__V1__FAILURE__FAIL_TLS_ERROR:
	case ZOND__V1__FAILURE__FAIL_REFUSED:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------ limiter */

zerr_t
locate_limit_init(struct locate_limit *l, size_t ntargets, int64_t interval_ms,
    int per_hour)
{
	memset(l, 0, sizeof(*l));
	if ((l->last_us = calloc(ntargets + 1, sizeof(*l->last_us))) == NULL)
		return ZE_NOMEM;
	l->n = ntargets;
	l->interval_us = interval_ms * 1000;
	l->per_hour = per_hour;
	l->tokens = per_hour;	/* full at start; refilled from the first take */
	pthread_mutex_init(&l->mu, NULL);
	return ZE_OK;
}

void
locate_limit_fini(struct locate_limit *l)
{
	if (l->last_us == NULL)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l->last_us);
	l->last_us = NULL;
}

bool
locate_limit_take(struct locate_limit *l, size_t i, int64_t now_us)
{
	bool ok = false;

	if (i >= l->n)
		return false;
	pthread_mutex_lock(&l->mu);
	if (l->refill_us == 0)
		l->refill_us = now_us;
	if (now_us > l->refill_us) {
		l->tokens += l->per_hour * (double)(now_us - l->refill_us) /
		    3600e6;
		if (l->tokens > l->per_hour)
			l->tokens = l->per_hour;
		l->refill_us = now_us;
	}
	if (l->tokens >= 1.0 && (l->last_us[i] == 0 ||
	    now_us - l->last_us[i] >= l->interval_us)) {
		l->tokens -= 1.0;
		l->last_us[i] = now_us;
		ok = true;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

/* ------------------------------------------------------------ sockets */

/* What one packet drew. */
struct shot {
	locate_seen_t seen;
	int64_t rtt_us;
	char addr[INET6_ADDRSTRLEN];	/* ICMP sender; "" none */
};

static int
set_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
		    sizeof(ttl));
	return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
}

static int
set_recverr(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
		    sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
}

static bool
same_host(const struct sockaddr *dst, const char *addr)
{
	char h[INET6_ADDRSTRLEN];
	const void *p = dst->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)(const void *)dst)->
	    sin6_addr : (const void *)&((const struct sockaddr_in *)
	    (const void *)dst)->sin_addr;

	return inet_ntop(dst->sa_family, p, h, sizeof(h)) != NULL &&
	    strcmp(h, addr) == 0;
}

/* The first ICMP error queued on fd into *s (TIME_EXCEEDED, or
 * UNREACHABLE; SERVER when the destination itself sent it).  false when
 * none was queued. */
static bool
read_icmp(int fd, const struct sockaddr *dst, struct shot *s)
{
	struct pu_icmp e;
	bool te;

	if (pu_errqueue_read(fd, &e) != 1)
		return false;
	if (e.origin == SO_EE_ORIGIN_ICMP)
		te = e.type == ICMP_TIME_EXCEEDED;
	else if (e.origin == SO_EE_ORIGIN_ICMP6)
		te = e.type == ICMP6_TIME_EXCEEDED;
	else
		return false;	/* the local kernel's own error */
	s->addr[0] = '\0';
	if (e.off.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&e.off)->
		    sin_addr, s->addr, sizeof(s->addr));
	else if (e.off.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&e.off)->
		    sin6_addr, s->addr, sizeof(s->addr));
	s->seen = te ? S(TIME_EXCEEDED) : s->addr[0] != '\0' &&
	    same_host(dst, s->addr) ? S(SERVER) : S(UNREACHABLE);
	return true;
}

/* A connected UDP socket with TTL ttl and IP_RECVERR that has sent
 * p[0..n); -1 when it could not (a local fault: nothing left). */
static int
udp_send(const struct sockaddr *dst, socklen_t dl, int ttl, const uint8_t *p,
    size_t n)
{
	int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (set_recverr(fd, dst->sa_family) != 0 ||
	    set_ttl(fd, dst->sa_family, ttl) != 0 || connect(fd, dst, dl) != 0 ||
	    send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to wait_ms for what each of fds[0..n) (fds[i] < 0: skip)
 * draws, into s[i]; t0 is when they were sent. */
static void
udp_collect(const int *fds, struct shot *s, size_t n,
    const struct sockaddr *dst, int64_t t0, int64_t wait_ms)
{
	int64_t deadline = t0 + wait_ms * 1000;
	struct pollfd p[2];
	size_t i, left = 0;

	for (i = 0; i < n; i++) {
		s[i].seen = S(SILENCE);
		s[i].addr[0] = '\0';
		p[i].fd = fds[i];
		p[i].events = POLLIN;
		p[i].revents = 0;
		left += fds[i] >= 0;
	}
	while (left > 0) {
		int64_t now = ztime_mono_us();
		int r;

		/* at least one look, even when the wait is over */
		r = poll(p, (nfds_t)n, now >= deadline ? 0 :
		    (int)((deadline - now + 999) / 1000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < n; i++) {
			uint8_t buf[64];

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if (!read_icmp(p[i].fd, dst, &s[i])) {
				ssize_t got = recv(p[i].fd, buf, sizeof(buf),
				    MSG_DONTWAIT);
				if (got < 0 && (errno == EAGAIN ||
				    errno == EINTR))
					continue;
				s[i].seen = got >= 0 ? S(SERVER) :
				    S(UNREACHABLE);
			}
			s[i].rtt_us = ztime_mono_us() - t0;
			p[i].fd = -1;	/* poll skips negative fds */
			left--;
		}
	}
}

/* tcpi_state values (the kernel's net/tcp_states.h; linux/tcp.h has no
 * names for them and glibc's netinet/tcp.h clashes with linux/tcp.h) */
enum { ST_ESTABLISHED = 1, ST_CLOSE = 7, ST_CLOSE_WAIT = 8 };

/* The TCP state, segments sent and segments unacknowledged of fd, from
 * TCP_INFO. */
static unsigned
tcp_sent(int fd, uint8_t *state, unsigned *unacked)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	*unacked = 0;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0) {
		*state = ST_CLOSE;
		return 0;
	}
	*state = ti.tcpi_state;
	*unacked = ti.tcpi_unacked;
	return ti.tcpi_segs_out;
}

/*
 * Close a TCP socket: back to the default TTL, and an RST when it is
 * still connected.  Returns the packets it sent, that RST included.  An
 * RST sent while the trigger is unacknowledged (it expired or was
 * dropped) carries a sequence number past what the server expects: the
 * server answers with a challenge ACK (RFC 5961 3.2) and our kernel,
 * the socket gone, resets once more, this time exactly.  That RST is
 * counted here too.
 */
static unsigned
tcp_close(int fd, int family)
{
	uint8_t state;
	unsigned unacked, n = tcp_sent(fd, &state, &unacked);

	if (state == ST_ESTABLISHED || state == ST_CLOSE_WAIT) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)set_ttl(fd, family, -1);
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		n += unacked > 0 ? 2 : 1;
	}
	close(fd);
	return n;
}

enum { TCP_OK, TCP_NO_CONNECT, TCP_LOCAL };

/*
 * One TCP attempt at TTL ttl: with payload, connect at the default TTL
 * and send it with TTL ttl; without ("syn"), connect with TTL ttl.  *s
 * gets what it drew, *sent the packets.  TCP_NO_CONNECT: the connect at
 * the default TTL failed (the trigger is the SYN); TCP_LOCAL: no socket.
 */
static int
tcp_attempt(const struct sockaddr *dst, socklen_t dl, int ttl,
    const uint8_t *payload, size_t len, int64_t wait_ms,
    int64_t connect_ms, struct shot *s, unsigned *sent, int64_t *conn_us)
{
	int fam = dst->sa_family, fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);
	int64_t t0;
	uint8_t buf[256];

	*sent = 0;
	s->seen = S(SILENCE);
	s->addr[0] = '\0';
	s->rtt_us = 0;
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || set_recverr(fd, fam) != 0 ||
	    (payload == NULL && set_ttl(fd, fam, ttl) != 0)) {
		if (fd >= 0)
			close(fd);
		return TCP_LOCAL;
	}
	t0 = ztime_mono_us();
	r = connect(fd, dst, dl);
	if (r != 0 && errno != EINPROGRESS) {
		close(fd);
		return TCP_LOCAL;
	}
	if (r != 0) {
		r = pu_wait(fd, POLLOUT, payload == NULL ? wait_ms :
		    connect_ms);
		if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) != 0)
			soerr = errno;
		if (r <= 0)
			soerr = ETIMEDOUT;
	}
	if (payload == NULL) {
		s->rtt_us = ztime_mono_us() - t0;
		if (soerr == 0)
			s->seen = S(SERVER);
		else if (soerr == ECONNREFUSED)
			s->seen = S(RESET);
		else if (soerr == ETIMEDOUT)
			s->seen = S(SILENCE);
		else if (!read_icmp(fd, dst, s))
			s->seen = S(UNREACHABLE);
		*sent = tcp_close(fd, fam);
		return TCP_OK;
	}
	if (soerr != 0) {
		*sent = tcp_close(fd, fam);
		return TCP_NO_CONNECT;
	}
	*conn_us = ztime_mono_us() - t0;
	if (set_ttl(fd, fam, ttl) != 0) {
		*sent = tcp_close(fd, fam);
		return TCP_LOCAL;
	}
	t0 = ztime_mono_us();
	if (send(fd, payload, len, MSG_NOSIGNAL) < 0) {
		*sent = tcp_close(fd, fam);
		return TCP_LOCAL;
	}
	r = pu_wait(fd, POLLIN, wait_ms);
	s->rtt_us = ztime_mono_us() - t0;
	if (r > 0) {
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int e = errno;
		if (got >= 0)
			s->seen = S(SERVER);	/* data or a close */
		else if (e == ECONNRESET || e == EPIPE)
			s->seen = S(RESET);
		else if (e == EHOSTUNREACH)
			s->seen = S(TIME_EXCEEDED);
		else if (e != EAGAIN)
			s->seen = S(UNREACHABLE);
	} else if (r < 0) {
		s->seen = errno == ECONNRESET ? S(RESET) :
		    errno == EHOSTUNREACH ? S(TIME_EXCEEDED) : S(UNREACHABLE);
	}
	*sent = tcp_close(fd, fam);
	return TCP_OK;
}

/* ------------------------------------------------------------ the run */

static bool
is_tcp_trigger(const char *trigger)
{
	return strcmp(trigger, "syn") == 0 ||
	    strcmp(trigger, "client_hello") == 0 ||
	    strcmp(trigger, "http_request") == 0;
}

/*
 * How long to wait for what a packet draws: four round trips and 100 ms,
 * within [LOCATE_WAIT_MIN_MS, LOCATE_WAIT_MAX_MS] (TCP: at least
 * LOCATE_WAIT_TCP_MS).  The kernel reports an ICMP error on an
 * established socket only when it is not busy with that socket; one that
 * arrives while send() still holds it (a very near hop) is noted silently
 * and reported at the first retransmission, at least 200 ms later (the
 * minimum RTO), so a TCP trigger waits past that.
 */
static int64_t
wait_for(int64_t rtt_max_us, bool tcp)
{
	int64_t w = rtt_max_us <= 0 ? LOCATE_WAIT_MAX_MS :
	    4 * rtt_max_us / 1000 + 100;

	if (w < (tcp ? LOCATE_WAIT_TCP_MS : LOCATE_WAIT_MIN_MS))
		w = tcp ? LOCATE_WAIT_TCP_MS : LOCATE_WAIT_MIN_MS;
	if (w > LOCATE_WAIT_MAX_MS)
		w = LOCATE_WAIT_MAX_MS;
	return w;
}

/* The neutral datagram's port for UDP triggers: traceroute's first
 * port, or the next one when the trigger itself goes there. */
static void
neutral_port(struct sockaddr_storage *ss)
{
	in_port_t *p = ss->ss_family == AF_INET6 ?
	    &((struct sockaddr_in6 *)ss)->sin6_port :
	    &((struct sockaddr_in *)ss)->sin_port;

	*p = htons(ntohs(*p) == LOCATE_NEUTRAL_PORT ? LOCATE_NEUTRAL_PORT + 1 :
	    LOCATE_NEUTRAL_PORT);
}

struct run {
	const struct locate_cfg *cfg;
	const struct sockaddr *dst;
	socklen_t dl;
	const uint8_t *payload;	/* NULL: syn */
	size_t len;
	bool tcp;
	uint8_t neutral[NEUTRAL_MAX];
	size_t nlen;
	struct sockaddr_storage ndst;	/* where the neutral goes */
	socklen_t ndl;
	unsigned packets;
	int64_t rtt_max_us;
	int64_t deadline_us;
	bool no_connect;	/* switch to "syn" */
	unsigned cost;		/* the most one attempt may cost */
};

/* One TTL: the trigger (retried once when silent) beside the neutral
 * datagram.  false when nothing could be sent (a local fault). */
static bool
one_ttl(struct run *u, int ttl, Zond__V1__LocateHop *h, struct shot *addr)
{
	struct shot sh[2];
	int fds[2] = {-1, -1};
	unsigned sent = 0, n;
	int tries, r;

	addr->addr[0] = '\0';
	sh[0].seen = sh[1].seen = S(SILENCE);
	for (tries = 0; tries < 2; tries++) {
		int64_t wait = wait_for(u->rtt_max_us, u->tcp), t0;
		bool need_neutral = sh[1].seen == S(SILENCE);
		unsigned cost = u->cost;

		if (tries > 0 && (u->packets + sent + cost > LOCATE_MAX_PACKETS
		    || ztime_mono_us() + wait * 2000 > u->deadline_us))
			break;
		t0 = ztime_mono_us();
		if (need_neutral) {
			fds[1] = udp_send((struct sockaddr *)&u->ndst, u->ndl,
			    ttl, u->neutral, u->nlen);
			sent += fds[1] >= 0;
		}
		if (u->tcp) {
			int64_t conn_us = 0;
			r = tcp_attempt(u->dst, u->dl, ttl, u->payload, u->len,
			    wait, CONNECT_MS, &sh[0], &n, &conn_us);
			if (conn_us > u->rtt_max_us)
				u->rtt_max_us = conn_us;
			sent += n;
			if (r == TCP_NO_CONNECT)
				u->no_connect = true;
			if (r != TCP_OK) {
				if (fds[1] >= 0)
					close(fds[1]);
				u->packets += sent;
				return r == TCP_NO_CONNECT;
			}
			/* the neutral has had the trigger's wait already */
			if (fds[1] >= 0)
				udp_collect(&fds[1], &sh[1], 1,
				    (struct sockaddr *)&u->ndst, t0, wait);
		} else {
			fds[0] = udp_send(u->dst, u->dl, ttl, u->payload,
			    u->len);
			sent += fds[0] >= 0;
			if (fds[0] < 0 && fds[1] < 0) {
				u->packets += sent;
				return false;
			}
			if (need_neutral)
				udp_collect(fds, sh, 2, u->dst, t0, wait);
			else
				udp_collect(fds, sh, 1, u->dst, t0, wait);
		}
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		fds[0] = fds[1] = -1;
		/* TCP: the connect's round trip only (an ICMP error can be
		 * reported late, wait_for; the neutral is read late) */
		if (!u->tcp && sh[0].seen != S(SILENCE) &&
		    sh[0].rtt_us > u->rtt_max_us)
			u->rtt_max_us = sh[0].rtt_us;
		if (!u->tcp && sh[1].seen != S(SILENCE) &&
		    sh[1].rtt_us > u->rtt_max_us)
			u->rtt_max_us = sh[1].rtt_us;
		if (tries == 1)
			h->has_retried = h->retried = 1;
		if (sh[0].seen != S(SILENCE))
			break;
	}
	u->packets += sent;
	h->has_ttl = 1;
	h->ttl = (uint32_t)ttl;
	h->has_neutral = 1;
	h->neutral = sh[1].seen;
	h->has_trigger = 1;
	h->trigger = locate_seen_fix(sh[0].seen, sh[1].seen);
	if (sh[0].seen != S(SILENCE)) {
		h->has_rtt_us = 1;
		h->rtt_us = (uint32_t)sh[0].rtt_us;
	}
	h->has_sent = 1;
	h->sent = sent;
	/* the trigger's own ICMP sender first; TCP has none */
	*addr = sh[0].addr[0] != '\0' ? sh[0] : sh[1];
	return true;
}

static void
hops_free(Zond__V1__LocateHop **hops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (hops[i] != NULL)
			free(hops[i]->addr);
		free(hops[i]);
	}
	free(hops);
}

zerr_t
locate_replay(const struct locate_cfg *cfg, const char *trigger,
    const struct sockaddr *dst, socklen_t dstlen, const uint8_t *payload,
    size_t len, Zond__V1__Localization **out)
{
	Zond__V1__Localization *L = NULL;
	Zond__V1__LocateHop **hops = NULL;
	struct locate_obs obs[LOCATE_MAX_TTL];
	struct locate_verdict v;
	struct run u;
	char dstr[64];
	size_t nh = 0, silent = 0;
	int64_t t0 = ztime_mono_us();
	unsigned ttl, max_ttl = cfg->max_ttl;
	const char *stop = NULL;

	*out = NULL;
	if (max_ttl < 1 || max_ttl > LOCATE_MAX_TTL)
		max_ttl = 16;
	memset(&u, 0, sizeof(u));
	u.cfg = cfg;
	u.dst = dst;
	u.dl = dstlen;
	u.tcp = is_tcp_trigger(trigger);
	u.payload = strcmp(trigger, "syn") == 0 ? NULL : payload;
	u.len = len;
	u.deadline_us = t0 + (cfg->budget_ms > 0 ? cfg->budget_ms :
	    LOCATE_MAX_MS) * 1000;
	/* the neutral datagram: random bytes of the trigger's size (capped),
	 * first byte 0 so it is no QUIC long header */
	u.nlen = len == 0 ? 1 : len > NEUTRAL_MAX ? NEUTRAL_MAX : len;
	ph_random(u.neutral, u.nlen);
	u.neutral[0] = 0;
	if (dstlen > sizeof(u.ndst))
		return ZE_OK;
	memcpy(&u.ndst, dst, dstlen);
	u.ndl = dstlen;
	if (!u.tcp)
		neutral_port(&u.ndst);
	if ((hops = calloc(max_ttl, sizeof(*hops))) == NULL)
		goto nomem;
	for (ttl = 1; ttl <= max_ttl; ttl++) {
		Zond__V1__LocateHop *h;
		struct shot a;

		u.cost = !u.tcp ? UDP_COST : u.payload == NULL ? SYN_COST :
		    TCP_COST;
		if (u.packets + u.cost > LOCATE_MAX_PACKETS) {
			stop = "packet_budget";
			break;
		}
		if (ztime_mono_us() + wait_for(u.rtt_max_us, u.tcp) * 1000 >
		    u.deadline_us) {
			stop = "time_budget";
			break;
		}
		if ((h = malloc(sizeof(*h))) == NULL)
			goto nomem;
		zond__v1__locate_hop__init(h);
		hops[nh] = h;
		if (!one_ttl(&u, (int)ttl, h, &a)) {
			hops[nh] = NULL;
			free(h);
			stop = "local_error";
			break;
		}
		if (u.no_connect) {
			hops[nh] = NULL;
			free(h);
			if (nh > 0) {
				/* it connected at first, no longer */
				stop = "connect_failed";
				break;
			}
			/* the connection itself is refused or dropped: the
			 * SYN is the trigger; start again from TTL 1 */
			u.no_connect = false;
			u.payload = NULL;
			trigger = "syn";
			ttl = 0;
			continue;
		}
		if (a.addr[0] != '\0' && (h->addr = pu_strdup(a.addr)) == NULL)
			goto nomem;
		obs[nh].ttl = ttl;
		obs[nh].trigger = h->trigger;
		obs[nh].neutral = h->neutral;
		obs[nh].has_addr = h->addr != NULL;
		nh++;
		if (h->trigger != S(SILENCE) && h->trigger != S(TIME_EXCEEDED))
			break;	/* a reaction, or the destination */
		if (h->trigger == S(SILENCE) && h->neutral == S(SERVER))
			break;	/* past the destination */
		silent = h->trigger == S(SILENCE) && h->neutral == S(SILENCE) ?
		    silent + 1 : 0;
		if (silent >= LOCATE_SILENT_STOP) {
			stop = "silent_hops";
			break;
		}
	}
	locate_decide(obs, nh, &v);
	if ((L = malloc(sizeof(*L))) == NULL)
		goto nomem;
	zond__v1__localization__init(L);
	L->hops = hops;
	L->n_hops = nh;
	hops = NULL;
	L->trigger = pu_strdup(trigger);
	L->dst = pu_strdup(pu_addr_str(dst, dstr, sizeof(dstr)));
	L->has_result = 1;
	L->result = v.located ? ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED :
	    ZOND__V1__LOCATE_RESULT__LOCATE_NOT_LOCATED;
	/* a run cut short (a budget, silent hops, a local error) without a
	 * reaction or the destination says what cut it */
	L->reason = pu_strdup(!v.located && stop != NULL &&
	    strcmp(v.reason, "destination_reached") != 0 &&
	    strcmp(v.reason, "reaction_at_destination") != 0 ? stop :
	    v.reason);
	if (v.located) {
		L->has_censor_hop = 1;
		L->censor_hop = v.hop;
		L->has_reaction = 1;
		L->reaction = v.reaction;
		if (v.addr_obs != SIZE_MAX &&
		    (L->censor_addr = pu_strdup(L->hops[v.addr_obs]->addr)) ==
		    NULL)
			goto nomem;
	}
	L->has_packets = 1;
	L->packets = u.packets;
	L->has_duration_us = 1;
	L->duration_us = (uint32_t)(ztime_mono_us() - t0);
	L->has_max_ttl = 1;
	L->max_ttl = max_ttl;
	if (L->trigger == NULL || L->dst == NULL || L->reason == NULL)
		goto nomem;
	*out = L;
	return ZE_OK;
nomem:
	if (hops != NULL)
		hops_free(hops, max_ttl);
	zond__v1__localization__free_unpacked(L, NULL);
	return ZE_NOMEM;
}

zerr_t
locate_from_call(const Zond__V1__Outcome *o, Zond__V1__Localization **out)
{
	const Zond__V1__CallOutcome *c;
	const Zond__V1__CallLeg *g = NULL;
	Zond__V1__Localization *L;
	bool unreach;
	size_t i;

	*out = NULL;
	if (o == NULL || o->test_case != ZOND__V1__OUTCOME__TEST_CALL ||
	    (c = o->call) == NULL || c->variant == NULL ||
	    strcmp(c->variant, "path") != 0)
		return ZE_OK;
	unreach = o->failure == ZOND__V1__FAILURE__FAIL_UNREACHABLE;
	if (!unreach && o->failure != ZOND__V1__FAILURE__FAIL_NO_REPLY)
		return ZE_OK;
	for (i = 0; i < c->n_legs; i++)
		if (!(c->has_neutral_port && c->legs[i]->has_port &&
		    c->legs[i]->port == c->neutral_port) &&
		    c->legs[i]->destination != NULL &&
		    strcmp(c->legs[i]->destination, "service") == 0 &&
		    c->legs[i]->payload != NULL &&
		    strcmp(c->legs[i]->payload, "shaped") == 0)
			g = c->legs[i];
	if (g == NULL)
		return ZE_OK;
	if ((L = malloc(sizeof(*L))) == NULL)
		return ZE_NOMEM;
	zond__v1__localization__init(L);
	L->has_result = 1;
	L->has_packets = 1;	/* the test's own datagrams: none more */
	if (g->last_hop > 0 && !g->reached) {
		L->result = ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED;
		L->reason = pu_strdup("call_path");
		L->has_censor_hop = L->has_reaction = 1;
		L->censor_hop = g->last_hop;
		L->reaction = unreach ?
		    ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_UNREACHABLE :
		    ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_DROP;
		if (g->last_hop_addr != NULL &&
		    (L->censor_addr = pu_strdup(g->last_hop_addr)) == NULL)
			goto nomem;
	} else {
		L->result = ZOND__V1__LOCATE_RESULT__LOCATE_NOT_LOCATED;
		L->reason = pu_strdup(g->reached ? "call_path_reached" :
		    "call_path_no_hop");
	}
	L->trigger = pu_strdup("datagram");
	if (c->addr != NULL && (L->dst = pu_strdup(c->addr)) == NULL)
		goto nomem;
	if (L->trigger == NULL || L->reason == NULL)
		goto nomem;
	*out = L;
	return ZE_OK;
nomem:
	zond__v1__localization__free_unpacked(L, NULL);
	return ZE_NOMEM;
}

/* ------------------------------------------------------------ triggers */

/* The ClientHello our TLS library sends for sni, into buf.  0 on error. */
static size_t
client_hello(const char *sni, uint8_t *buf, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	BIO *rb = NULL, *wb = NULL;
	int n = 0;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL ||
	    (rb = BIO_new(BIO_s_mem())) == NULL ||
	    (wb = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	SSL_set_bio(ssl, rb, wb);
	rb = wb = NULL;		/* owned by ssl */
	if (sni != NULL && *sni != '\0' && !SSL_set_tlsext_host_name(ssl, sni))
		goto out;
	SSL_set_connect_state(ssl);
	(void)SSL_do_handshake(ssl);	/* wants to read: the hello is out */
	n = BIO_read(SSL_get_wbio(ssl), buf, (int)cap);
out:
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return n > 0 ? (size_t)n : 0;
}

/* Host (without port) and path of an http:// or https:// URL. */
static bool
url_parts(const char *url, bool *https, char *host, size_t hl, char *path,
    size_t pl)
{
	const char *h, *e, *p;
	size_t n;

	if (strncmp(url, "https://", 8) == 0) {
		*https = true;
		h = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		*https = false;
		h = url + 7;
	} else {
		return false;
	}
	p = h + strcspn(h, "/?#");
	e = h[0] == '[' ? strchr(h, ']') : NULL;
	e = e != NULL && e < p ? e + 1 : h + strcspn(h, ":/?#");
	n = (size_t)(e - h);
	if (n == 0 || n >= hl)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if ((size_t)snprintf(path, pl, "%s", *p == '/' ? p : "/") >= pl)
		return false;
	if ((p = strchr(path, '#')) != NULL)
		path[p - path] = '\0';
	return true;
}

/* The address text the outcome's message names, NULL when none. */
static const char *
outcome_addr(const Zond__V1__Outcome *o)
{
	switch (o->test_case) {
	case ZOND__V1__OUTCOME__TEST_TCP: return o->tcp->addr;
	case ZOND__V1__OUTCOME__TEST_TLS: return o->tls->addr;
	case ZOND__V1__OUTCOME__TEST_HTTP: return o->http->addr;
	case ZOND__V1__OUTCOME__TEST_STUN: return o->stun->addr;
	case ZOND__V1__OUTCOME__TEST_QUIC: return o->quic->addr;
	case ZOND__V1__OUTCOME__TEST_CALL: return o->call->addr;
	default: return NULL;
	}
}

zerr_t
locate_run(const probe_env_t *env, const struct locate_cfg *cfg,
    const probe_req_t *req, const Zond__V1__Outcome *o,
    const struct probe_sent *sent, Zond__V1__Localization **out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *trigger = NULL, *a;
	char host[256], path[1024];
	bool https = false;
	zerr_t e = ZE_OK;

	(void)env;
	*out = NULL;
	if (o == NULL || (a = outcome_addr(o)) == NULL ||
	    pu_parse_addr(a, req->port > 0 ? req->port : 443, &ss, &sl,
	    NULL) != ZE_OK)
		return ZE_OK;	/* nothing was sent anywhere: no replay */
	if ((buf = malloc(TRIGGER_MAX)) == NULL)
		return ZE_NOMEM;
	switch (req->test) {
	case ZOND__V1__TEST_KIND__TEST_TCP:
		trigger = "syn";
		break;
	case ZOND__V1__TEST_KIND__TEST_TLS: {
		const char *sni = o->tls->sni != NULL ? o->tls->sni : req->sni;
		if (o->tls->error_stage != NULL &&
		    strcmp(o->tls->error_stage, "connect") == 0) {
			trigger = "syn";
			break;
		}
		if (sni == NULL && req->target != NULL) {
			/* the target's host, without a port */
			size_t hn = strcspn(req->target, ":");
			if (hn < sizeof(host)) {
				memcpy(host, req->target, hn);
				host[hn] = '\0';
				sni = host;
			}
		}
		len = client_hello(sni, buf, TRIGGER_MAX);
		trigger = len > 0 ? "client_hello" : NULL;
		break;
	}
	case ZOND__V1__TEST_KIND__TEST_HTTP: {
		const char *url = o->http->url != NULL ? o->http->url :
		    req->target;
		int w;
		if (!url_parts(url, &https, host, sizeof(host), path,
		    sizeof(path)))
			break;
		if (https) {
			len = client_hello(host, buf, TRIGGER_MAX);
			trigger = len > 0 ? "client_hello" : NULL;
			break;
		}
		w = snprintf((char *)buf, TRIGGER_MAX, "GET %s HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: zond-agent\r\nAccept: */*\r\n"
		    "Connection: close\r\n\r\n", path, host);
		if (w > 0 && w < TRIGGER_MAX) {
			len = (size_t)w;
			trigger = "http_request";
		}
		break;
	}
	case ZOND__V1__TEST_KIND__TEST_QUIC:
	case ZOND__V1__TEST_KIND__TEST_STUN:
	case ZOND__V1__TEST_KIND__TEST_CALL:	/* relay: its Binding */
		if (sent == NULL || sent->len == 0 || sent->len > TRIGGER_MAX)
			break;
		memcpy(buf, sent->pkt, sent->len);
		len = sent->len;
		trigger = req->test == ZOND__V1__TEST_KIND__TEST_QUIC ?
		    "quic_initial" : "datagram";
		break;
	default:
		break;
	}
	if (trigger != NULL)
		e = locate_replay(cfg, trigger, (struct sockaddr *)&ss, sl, buf,
		    len, out);
	free(buf);
	return e;
}
