/*
 * probe_call_path.c — the call test's `path` variant (probe_call.h,
 * docs/PROBES-UDP.md "call"): hop-limited probing with IP_TTL and
 * IP_RECVERR on ordinary UDP sockets, no privilege.  Five series at once
 * (the call datagram, a neutral payload and a neutral port to the
 * service; the call and neutral datagrams to the helper), one datagram
 * per TTL and series and one retry on silence; a series stops at its
 * destination or two silent TTLs after its last answering hop.  At most
 * 16 x 5 x 2 datagrams.  Thread-safe: nothing shared.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_call.h"
#include "probe_helper.h"
#include "probe_util.h"
#include "stun.h"
#include "ztime.h"

#define F(x) ZOND__V1__FAILURE__FAIL_##x

struct series {
	Zond__V1__CallLeg *leg;
	struct sockaddr_storage dst;
	socklen_t sl;
	uint8_t pkt[RTP_HDR + CALL_PAYLOAD + 64];
	size_t len;
	int ttl, tries, silent, fd;
	int send_err;		/* errno of a send refused at once */
	int64_t deadline;
	bool done;
	bool refused;		/* an ICMP unreachable from a hop */
	char refuser[64];	/* ... its sender */
};

/* The call-shaped datagram for port: RTP (the media ports FaceTime
 * names, 16384-16402) or a STUN Binding Request (the rest). */
static size_t
call_shaped_payload(int port, uint8_t *out, size_t cap)
{
	if (port >= 16384 && port <= 16402) {
		struct rtp_hdr h = {.pt = RTP_PT_OPUS, .seq = 1, .ts = 960};
		uint8_t pay[CALL_PAYLOAD];
		ph_random(&h.ssrc, sizeof(h.ssrc));
		ph_random(pay, sizeof(pay));
		return rtp_build(out, cap, &h, pay, sizeof(pay));
	} else {
		uint8_t tid[STUN_TID_LEN];
		stun_w_t w;
		ph_random(tid, sizeof(tid));
		stun_w_init(&w, out, cap, STUN_BINDING, tid);
		return stun_w_end(&w);
	}
}

static void
series_send(struct series *s, int64_t hop_wait_ms)
{
	int v6 = s->dst.ss_family == AF_INET6;

	if (s->fd < 0) {
		if ((s->fd = call_udp_socket(s->dst.ss_family)) < 0 ||
		    setsockopt(s->fd, v6 ? SOL_IPV6 : SOL_IP,
		    v6 ? IPV6_UNICAST_HOPS : IP_TTL, &s->ttl,
		    sizeof(s->ttl)) != 0) {
			s->send_err = errno;
			s->done = true;
			return;
		}
	}
	if (sendto(s->fd, s->pkt, s->len, 0, (struct sockaddr *)&s->dst,
	    s->sl) >= 0)
		s->leg->sent++;
	else if (errno != EAGAIN && errno != EINTR) {
		/* refused at once (no route): every TTL would be */
		s->send_err = errno;
		s->done = true;
		return;
	}
	s->deadline = ztime_mono_us() + hop_wait_ms * 1000;
}

static void
series_next(struct series *s, int max_ttl, int64_t hop_wait_ms)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->done || s->ttl >= max_ttl) {
		s->done = true;
		return;
	}
	s->ttl++;
	s->tries = 0;
	series_send(s, hop_wait_ms);
}

/* Is the ICMP error's sender the series' destination itself? */
static bool
from_dst(const struct series *s, const struct sockaddr *off)
{
	struct sockaddr_storage o;

	if (off->sa_family != s->dst.ss_family)
		return false;
	/* copied: the offender sits in a control message, which need not
	 * be aligned for sockaddr_in6 (armhf) */
	memcpy(&o, off, off->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	if (off->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&o)->sin_addr,
		    &((const struct sockaddr_in *)&s->dst)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&o)->sin6_addr,
	    &((const struct sockaddr_in6 *)&s->dst)->sin6_addr, 16) == 0;
}

/* The hop's address text (no port) of an ICMP error's sender. */
static char *
hop_str(const struct sockaddr *off)
{
	struct sockaddr_storage o;
	char addr[64];

	if (off->sa_family == AF_INET6) {
		memcpy(&o, off, sizeof(struct sockaddr_in6));
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&o)->
		    sin6_addr, addr, sizeof(addr));
	} else if (off->sa_family == AF_INET) {
		memcpy(&o, off, sizeof(struct sockaddr_in));
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&o)->sin_addr,
		    addr, sizeof(addr));
	} else
		snprintf(addr, sizeof(addr), "?");
	return pu_strdup(addr);
}

/* Note hop ttl's address as the last that answered. */
static void
series_hop(struct series *s, const struct sockaddr *off)
{
	s->leg->last_hop = (uint32_t)s->ttl;
	free(s->leg->last_hop_addr);
	s->leg->last_hop_addr = hop_str(off);	/* NULL: left out */
	s->silent = 0;
}

/*
 * Read what came back on s: ICMP time-exceeded (a hop answered), an ICMP
 * unreachable from the destination or any answer from it (reached), or
 * an unreachable from a hop before it (the series ends there, refused).
 * false when nothing of these was read.
 */
static bool
series_read(struct series *s)
{
	uint8_t buf[2048];
	struct sockaddr_storage from;
	struct pu_icmp e;
	socklen_t fl = sizeof(from);
	int r;

	if ((r = pu_errqueue_read(s->fd, &e)) >= 0) {
		const struct sockaddr *off = (const struct sockaddr *)&e.off;
		bool v4 = e.origin == SO_EE_ORIGIN_ICMP;
		bool v6 = e.origin == SO_EE_ORIGIN_ICMP6;

		if (r == 0 || (!v4 && !v6))
			return false;
		if ((v4 && e.type == 11) || (v6 && e.type == 3)) {
			series_hop(s, off);	/* time exceeded */
			return true;
		}
		if ((v4 && e.type == 3) || (v6 && e.type == 1)) {
			if (from_dst(s, off)) {
				s->leg->reached = true;
			} else {
				/* the hop count stays the last
				 * time-exceeded's: the refusal is the
				 * reaction after it */
				char *a = hop_str(off);
				snprintf(s->refuser, sizeof(s->refuser), "%s",
				    a ? a : "?");
				free(a);
				s->refused = true;
			}
			s->done = true;
			return true;
		}
		return false;
	}
	if (recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fl) >= 0) {
		s->leg->reached = true;
		s->done = true;
		return true;
	}
	return false;
}

/* Run the series at once, TTL 1..max_ttl each: one datagram per TTL and
 * one retry on silence; a series stops when its destination answers or
 * two TTLs in a row after its last answering hop are silent. */
static void
path_run(struct series *s, size_t n, int max_ttl, int64_t hop_wait_ms)
{
	size_t i;

	for (i = 0; i < n; i++) {
		s[i].fd = -1;
		s[i].ttl = 1;
		s[i].leg->has_sent = 1;
		s[i].leg->has_last_hop = 1;
		s[i].leg->has_reached = 1;
		series_send(&s[i], hop_wait_ms);
	}
	for (;;) {
		struct pollfd pfd[CALL_SERIES];
		size_t map[CALL_SERIES], np = 0;
		int64_t now = ztime_mono_us(), wake = INT64_MAX;

		for (i = 0; i < n; i++) {
			struct series *x = &s[i];
			if (x->done)
				continue;
			if (now >= x->deadline) {
				if (x->tries++ == 0) {
					series_send(x, hop_wait_ms);
				} else {
					if (x->leg->last_hop > 0 &&
					    ++x->silent >= 2)
						x->done = true;
					series_next(x, max_ttl, hop_wait_ms);
				}
				if (x->done)
					continue;
			}
			if (x->deadline < wake)
				wake = x->deadline;
			pfd[np].fd = x->fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			map[np++] = i;
		}
		if (np == 0)
			break;
		if (poll(pfd, np, call_wait_ms(now, wake)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < np; i++) {
			struct series *x = &s[map[i]];
			if (pfd[i].revents == 0)
				continue;
			if (series_read(x))
				series_next(x, max_ttl, hop_wait_ms);
		}
	}
	for (i = 0; i < n; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
}

/* How far a series got: the destination counts past every hop. */
static uint32_t
reach(const Zond__V1__CallLeg *l)
{
	return l->reached ? UINT32_MAX : l->last_hop;
}

bool
call_path(const probe_env_t *env, struct sockaddr_storage *svc, socklen_t sl,
    struct sockaddr_storage *hlp, socklen_t hl, int port,
    Zond__V1__CallOutcome *c, Zond__V1__Failure *f, char *detail,
    size_t dlen)
{
	struct series s[CALL_SERIES];
	struct ph_baseline b;
	struct ph_udp unused;
	int max_ttl = env->call_max_ttl > 0 ? env->call_max_ttl : CALL_DEF_TTL;
	int64_t wait = env->timeout_ms < CALL_HOP_WAIT_MS ? env->timeout_ms :
	    CALL_HOP_WAIT_MS;
	uint32_t best;
	size_t n = 3, i;

	memset(s, 0, sizeof(s));
	ph_baseline_init(&b, &unused);
	if ((s[0].leg = call_leg_add(c, "service", "shaped", port)) == NULL ||
	    (s[1].leg = call_leg_add(c, "service", "neutral", port)) == NULL ||
	    (s[2].leg = call_leg_add(c, "service", "shaped",
	    CALL_NEUTRAL_PORT)) == NULL)
		return false;
	c->has_neutral_port = 1;
	c->neutral_port = CALL_NEUTRAL_PORT;
	for (i = 0; i < 3; i++) {
		s[i].dst = *svc;
		s[i].sl = sl;
		call_set_port(&s[i].dst, i == 2 ? CALL_NEUTRAL_PORT : port);
	}
	if (hlp != NULL) {
		if ((s[3].leg = call_leg_add(c, "helper", "shaped", port)) == NULL ||
		    (s[4].leg = call_leg_add(c, "helper", "neutral", port)) == NULL)
			return false;
		for (i = 3; i < 5; i++) {
			s[i].dst = *hlp;
			s[i].sl = hl;
			call_set_port(&s[i].dst, port);
		}
		n = 5;
	}
	for (i = 0; i < n; i++) {
		if (i == 1 || i == 4) {
			memcpy(s[i].pkt, b.pkt, sizeof(b.pkt));
			s[i].len = sizeof(b.pkt);
		} else {
			s[i].len = call_shaped_payload(port, s[i].pkt,
			    sizeof(s[i].pkt));
		}
	}
	path_run(s, n, max_ttl, wait);
	for (i = 0; i < n; i++) {
		s[i].leg->has_failure = 1;
		s[i].leg->failure = s[i].leg->reached ? F(NONE) :
		    s[i].refused ? F(UNREACHABLE) : s[i].send_err != 0 ?
		    pu_errno_failure(s[i].send_err, PU_SIDE_LOCAL) :
		    F(NO_REPLY);
	}
	best = reach(s[1].leg) > reach(s[2].leg) ? reach(s[1].leg) :
	    reach(s[2].leg);
	if (s[0].send_err != 0) {
		*f = s[0].leg->failure;
		snprintf(detail, dlen, "cannot send the call datagram: %s "
		    "(agent's own side)", strerror(s[0].send_err));
	} else if (s[0].refused) {
		*f = F(UNREACHABLE);
		snprintf(detail, dlen, "after hop %u (%s), %s answers the call "
		    "datagram with ICMP unreachable at TTL %d%s",
		    s[0].leg->last_hop, s[0].leg->last_hop_addr ?
		    s[0].leg->last_hop_addr : "none", s[0].refuser, s[0].ttl,
		    best > s[0].leg->last_hop ? "; a neutral datagram gets "
		    "further" : "");
	} else if (s[0].leg->reached) {
		*f = F(NONE);
		snprintf(detail, dlen, "the call datagram reached the "
		    "destination");
	} else if (best > s[0].leg->last_hop) {
		*f = F(NO_REPLY);
		if (best == UINT32_MAX)
			snprintf(detail, dlen, "replies to the call datagram "
			    "stop after hop %u (%s); a neutral datagram "
			    "reaches the destination", s[0].leg->last_hop,
			    s[0].leg->last_hop_addr ? s[0].leg->last_hop_addr :
			    "none");
		else
			snprintf(detail, dlen, "replies to the call datagram "
			    "stop after hop %u (%s); a neutral datagram is "
			    "answered up to hop %u", s[0].leg->last_hop,
			    s[0].leg->last_hop_addr ? s[0].leg->last_hop_addr :
			    "none", best);
	} else {
		*f = F(NONE);
		snprintf(detail, dlen, "the call datagram is answered as far "
		    "as the neutral ones (hop %u)", s[0].leg->last_hop);
	}
	return true;
}
