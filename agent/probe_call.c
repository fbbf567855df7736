/*
 * probe_call.c — the call test (docs/PROBES-UDP.md "call"): a service's
 * own call path, crossed with the operator's helper and a neutral
 * payload, so the method of a block can be named.
 *
 *   relay  STUN Binding and TURN Allocate (no credential) to the service's
 *          relay and to the helper on the same port, each beside a
 *          random-payload datagram.  A Binding success or a 401 with REALM
 *          and NONCE proves the path.
 *   path   hop-limited probing (probe_call_path.c).
 *   flow   to the helper: Binding, Allocate (401, then the long-term
 *          credential), ChannelBind, then RTP-like media in ChannelData at
 *          50 packets/s for [tests] call_seconds, counted per second.
 *
 * Never records the XOR-MAPPED address (the volunteer's IP): its family
 * only.  Every wait is bounded; the media loop sleeps in poll between
 * packets.  Thread-safe: nothing shared.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytes.h"
#include "probe.h"
#include "probe_call.h"
#include "probe_helper.h"
#include "probe_util.h"
#include "stun.h"
#include "ztime.h"

#define CALL_RATE		50	/* packets per second, one per 20 ms */
#define CALL_DEF_MS		15000
#define CALL_CHANNEL		0x4001
#define CALL_GRACE_MS		1000	/* late echoes after the last packet */
#define CALL_MAX_SECONDS	300
#define CALL_SOFTWARE	"zond-agent call test (censorship measurement)"

#define F(x) ZOND__V1__FAILURE__FAIL_##x

/* ------------------------------------------------------- exchanges */

/* One request and its answer, on an unconnected socket of its own so the
 * answer's source address is seen. */
struct cx {
	const uint8_t *pkt;
	size_t len;
	int (*match)(const uint8_t *, size_t, void *);
	void *arg;
	int fd;
	unsigned tx;
	int64_t next_us, rto_ms, first_us, rtt_us;
	enum ph_state state;
	int err, bad;
	enum pu_side side;	/* who said err */
	struct sockaddr_storage from;
};

int
call_udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if (family == AF_INET6)
		(void)setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		(void)setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	return fd;
}

/* poll's timeout from now until wake (µs), never negative. */
int
call_wait_ms(int64_t now, int64_t wake)
{
	int64_t ms = (wake - now + 999) / 1000;

	return ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

static void
cx_done(struct cx *x, enum ph_state st, int err)
{
	x->state = st;
	x->err = err;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

/* Run the n (<= 4) exchanges to sa at once, retransmitting at
 * PH_RTO_MS, 2x, ... until each is answered or timeout_ms passed. */
static void
cx_run(const struct sockaddr *sa, socklen_t sl, struct cx *x, size_t n,
    int64_t timeout_ms)
{
	int64_t now = ztime_mono_us(), end = now + timeout_ms * 1000;
	struct pollfd pfd[4];
	size_t map[4], i;
	uint8_t buf[2048];

	for (i = 0; i < n; i++) {
		x[i].state = PH_WAIT;
		x[i].rto_ms = PH_RTO_MS;
		x[i].next_us = now;
		x[i].side = PU_SIDE_UNKNOWN;
		if ((x[i].fd = call_udp_socket(sa->sa_family)) < 0) {
			cx_done(&x[i], PH_ERROR, errno);
			x[i].side = PU_SIDE_LOCAL;
		}
	}
	for (;;) {
		int64_t wake = end;
		size_t np = 0;

		now = ztime_mono_us();
		for (i = 0; i < n; i++) {
			struct cx *c = &x[i];
			if (c->state != PH_WAIT)
				continue;
			if (now >= end) {
				cx_done(c, c->bad ? PH_BAD : PH_TIMEOUT, 0);
				continue;
			}
			if (now >= c->next_us && c->tx < 7) {
				if (sendto(c->fd, c->pkt, c->len, 0, sa, sl) < 0 &&
				    errno != EAGAIN && errno != EINTR) {
					/* refused at once: the host's own
					 * (no route), unless an ICMP error
					 * came back earlier */
					int e = errno, sd = pu_errqueue_side(
					    c->fd);
					cx_done(c, PH_ERROR, e);
					c->side = sd != PU_SIDE_UNKNOWN ?
					    (enum pu_side)sd : PU_SIDE_LOCAL;
					continue;
				}
				if (c->tx++ == 0)
					c->first_us = now;
				c->next_us = now + c->rto_ms * 1000;
				c->rto_ms *= 2;
			}
			if (c->tx < 7 && c->next_us < wake)
				wake = c->next_us;
			pfd[np].fd = c->fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			map[np++] = i;
		}
		if (np == 0)
			return;
		if (poll(pfd, np, call_wait_ms(now, wake)) < 0 && errno != EINTR)
			return;
		for (i = 0; i < np; i++) {
			struct cx *c = &x[map[i]];
			while (pfd[i].revents != 0 && c->state == PH_WAIT) {
				socklen_t fl = sizeof(c->from);
				ssize_t r = recvfrom(c->fd, buf, sizeof(buf), 0,
				    (struct sockaddr *)&c->from, &fl);
				int m;
				if (r < 0) {
					if (errno != EAGAIN && errno != EINTR) {
						int e = errno, sd =
						    pu_errqueue_side(c->fd);
						cx_done(c, PH_ERROR, e);
						c->side = (enum pu_side)sd;
					}
					break;
				}
				m = c->match(buf, (size_t)r, c->arg);
				if (m > 0) {
					c->rtt_us = ztime_mono_us() - c->first_us;
					cx_done(c, PH_OK, 0);
				} else if (m < 0) {
					c->bad = 1;
				}
			}
		}
	}
}

static Zond__V1__Failure
cx_failure(const struct cx *x, char *buf, size_t len)
{
	switch (x->state) {
	case PH_OK:
		snprintf(buf, len, "answered");
		return F(NONE);
	case PH_BAD:
		snprintf(buf, len, "only answers that do not parse");
		return F(BAD_RESPONSE);
	case PH_ERROR:
		snprintf(buf, len, "%s%s", strerror(x->err),
		    x->side == PU_SIDE_LOCAL ? " (agent's own side)" : "");
		return x->err == ECONNREFUSED ? F(UNREACHABLE) :
		    pu_errno_failure(x->err, x->side);
	default:
		snprintf(buf, len, "no answer (%u transmissions)", x->tx);
		return F(TIMEOUT);
	}
}

/* A STUN request and what came back. */
struct sreq {
	uint8_t pkt[512];
	size_t len;
	struct stun_msg m;
	char why[128];
};

static int
sreq_match(const uint8_t *r, size_t n, void *arg)
{
	struct sreq *s = arg;
	struct stun_msg m;
	char why[128];

	if (!stun_is(r, n) || memcmp(r + 8, s->pkt + 8, STUN_TID_LEN) != 0)
		return 0;
	if (stun_parse(r, n, &m, why, sizeof(why)) != 0 ||
	    (m.type & 0x3eef) != (be16_get(s->pkt) & 0x3eef) ||
	    (m.type & 0x0110) == 0) {
		snprintf(s->why, sizeof(s->why), "%s", why);
		return -1;
	}
	s->m = m;
	return 1;
}

static void
sreq_init(struct sreq *s, uint16_t type, const char *user,
    const char *realm, const char *nonce, const uint8_t *key,
    int channel, const struct sockaddr_storage *peer)
{
	uint8_t tid[STUN_TID_LEN], v[4] = {IPPROTO_UDP, 0, 0, 0};
	stun_w_t w;

	memset(s, 0, sizeof(*s));
	ph_random(tid, sizeof(tid));
	stun_w_init(&w, s->pkt, sizeof(s->pkt), type, tid);
	if (type == STUN_ALLOCATE) {
		stun_w_attr(&w, STUN_A_TRANSPORT, v, 4);
		/* long enough that zond-helper's answer (401 with realm,
		 * nonce and software) is no more than 24 bytes larger: the
		 * helper never amplifies */
		stun_w_attr(&w, STUN_A_SOFTWARE, CALL_SOFTWARE,
		    sizeof(CALL_SOFTWARE) - 1);
	}
	if (channel) {
		be16_put(v, (uint16_t)channel);
		v[2] = v[3] = 0;
		stun_w_attr(&w, STUN_A_CHANNEL, v, 4);
	}
	if (peer != NULL && peer->ss_family == AF_INET) {
		/* the peer the channel leads to: the helper itself */
		const struct sockaddr_in *p4 = (const void *)peer;
		stun_w_xaddr(&w, STUN_A_XOR_PEER,
		    (const uint8_t *)&p4->sin_addr, 4, ntohs(p4->sin_port));
	} else if (peer != NULL && peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *p6 = (const void *)peer;
		stun_w_xaddr(&w, STUN_A_XOR_PEER, p6->sin6_addr.s6_addr, 16,
		    ntohs(p6->sin6_port));
	}
	if (key != NULL) {
		stun_w_attr(&w, STUN_A_USERNAME, user, strlen(user));
		stun_w_attr(&w, STUN_A_REALM, realm, strlen(realm));
		stun_w_attr(&w, STUN_A_NONCE, nonce, strlen(nonce));
		stun_w_integrity(&w, key);
	}
	s->len = stun_w_end(&w);
}

static int
echo_match(const uint8_t *r, size_t n, void *arg)
{
	const struct ph_baseline *b = arg;

	return n == sizeof(b->pkt) && memcmp(r, b->pkt, n) == 0 ? 1 : 0;
}

/* ------------------------------------------------------- outcome */

Zond__V1__CallLeg *
call_leg_add(Zond__V1__CallOutcome *c, const char *dest, const char *payload,
    int port)
{
	Zond__V1__CallLeg **v, *l;

	if ((l = malloc(sizeof(*l))) == NULL)
		return NULL;
	zond__v1__call_leg__init(l);
	if ((v = realloc(c->legs, (c->n_legs + 1) * sizeof(*v))) == NULL) {
		free(l);
		return NULL;
	}
	c->legs = v;
	v[c->n_legs++] = l;
	if ((l->destination = pu_strdup(dest)) == NULL ||
	    (l->payload = pu_strdup(payload)) == NULL)
		return NULL;
	l->has_port = 1;
	l->port = (uint32_t)port;
	return l;
}

void
call_set_port(struct sockaddr_storage *ss, int port)
{
	/* sin_port and sin6_port sit at the same offset */
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* ------------------------------------------------------- relay */

/* Binding, Allocate and a neutral datagram to sa; fills the shaped and
 * neutral legs of dest.  Returns false when out of memory. */
static bool
relay_dest(const probe_env_t *env, struct sockaddr_storage *ss, socklen_t sl,
    int port, const char *dest, Zond__V1__CallOutcome *c,
    Zond__V1__Failure *shaped, struct probe_sent *sent)
{
	struct sreq bind, alloc;
	struct ph_baseline b;
	struct ph_udp unused;
	struct cx x[3];
	Zond__V1__CallLeg *ls, *ln;
	const struct cx *won;
	const struct sreq *ws;
	char why[160], addr[64];

	call_set_port(ss, port);
	sreq_init(&bind, STUN_BINDING, NULL, NULL, NULL, NULL, 0, NULL);
	sreq_init(&alloc, STUN_ALLOCATE, NULL, NULL, NULL, NULL, 0, NULL);
	ph_baseline_init(&b, &unused);
	memset(x, 0, sizeof(x));
	x[0].pkt = bind.pkt; x[0].len = bind.len;
	x[0].match = sreq_match; x[0].arg = &bind;
	x[1].pkt = alloc.pkt; x[1].len = alloc.len;
	x[1].match = sreq_match; x[1].arg = &alloc;
	x[2].pkt = b.pkt; x[2].len = sizeof(b.pkt);
	x[2].match = echo_match; x[2].arg = &b;
	cx_run((struct sockaddr *)ss, sl, x, 3, env->timeout_ms);
	if (sent != NULL && bind.len <= sizeof(sent->pkt)) {
		/* the localization replays the Binding (probe_locate.c) */
		memcpy(sent->pkt, bind.pkt, bind.len);
		sent->len = bind.len;
	}

	if ((ls = call_leg_add(c, dest, "shaped", port)) == NULL ||
	    (ln = call_leg_add(c, dest, "neutral", port)) == NULL)
		return false;
	/* The Allocate's 401 (realm, nonce) says more than a Binding
	 * success; either proves the path. */
	if (x[1].state == PH_OK && alloc.m.error_code == 401 &&
	    alloc.m.has_realm && alloc.m.has_nonce) {
		won = &x[1];
		ws = &alloc;
	} else if (x[0].state == PH_OK &&
	    (bind.m.type == (STUN_BINDING | STUN_SUCCESS))) {
		won = &x[0];
		ws = &bind;
	} else if (x[1].state == PH_OK) {
		won = &x[1];	/* an Allocate answered otherwise */
		ws = &alloc;
	} else {
		won = NULL;
		ws = NULL;
	}
	ls->has_sent = 1;
	ls->sent = x[0].tx + x[1].tx;
	if (won != NULL) {
		const struct stun_msg *m = &ws->m;
		ls->has_failure = 1;
		ls->failure = F(NONE);
		ls->has_rtt_us = 1;
		ls->rtt_us = (uint32_t)won->rtt_us;
		if ((ls->from = pu_strdup(pu_addr_str(
		    (const struct sockaddr *)&won->from, addr,
		    sizeof(addr)))) == NULL ||
		    (ls->step = pu_strdup(ws == &alloc ? "allocate" :
		    "binding")) == NULL)
			return false;
		if (m->error_code != 0) {
			ls->has_error_code = 1;
			ls->error_code = m->error_code;
		}
		if (m->has_realm && (ls->realm = pu_strdup(m->realm)) == NULL)
			return false;
		ls->has_nonce = 1;
		ls->nonce = m->has_nonce;
		if (m->has_software &&
		    (ls->software = pu_strdup(m->software)) == NULL)
			return false;
		if (bind.m.mapped_family != 0 && (ls->mapped = pu_strdup(
		    bind.m.mapped_family == 4 ? "ipv4" : "ipv6")) == NULL)
			return false;
		if (ws == &alloc && m->error_code != 401 &&
		    x[0].state != PH_OK) {
			ls->failure = F(BAD_RESPONSE);
		}
	} else if (x[0].state == PH_OK) {
		/* a Binding error response, the Allocate unanswered: an
		 * answer, but not one that proves the path */
		ls->has_failure = 1;
		ls->failure = F(BAD_RESPONSE);
		if (bind.m.error_code != 0) {
			ls->has_error_code = 1;
			ls->error_code = bind.m.error_code;
		}
	} else {
		const struct cx *worst = x[1].state == PH_ERROR ||
		    x[1].state == PH_BAD ? &x[1] : &x[0];
		ls->has_failure = 1;
		ls->failure = cx_failure(worst, why, sizeof(why));
	}
	*shaped = ls->failure;
	ln->has_sent = 1;
	ln->sent = x[2].tx;
	ln->has_failure = 1;
	ln->failure = cx_failure(&x[2], why, sizeof(why));
	if (x[2].state == PH_OK) {
		ln->has_rtt_us = 1;
		ln->rtt_us = (uint32_t)x[2].rtt_us;
		if ((ln->from = pu_strdup(pu_addr_str((const struct sockaddr *)
		    &x[2].from, addr, sizeof(addr)))) == NULL)
			return false;
	}
	return true;
}

/* ------------------------------------------------------- flow */

/* One request on the flow's socket fd (connected), retransmitted. */
static Zond__V1__Failure
flow_xchg(int fd, struct sreq *s, int64_t timeout_ms, char *why, size_t wl)
{
	struct cx x;
	int64_t now = ztime_mono_us(), end = now + timeout_ms * 1000;
	int64_t next = now, rto = PH_RTO_MS;
	uint8_t buf[2048];
	unsigned tx = 0;

	memset(&x, 0, sizeof(x));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;
		now = ztime_mono_us();
		if (now >= end) {
			snprintf(why, wl, "no answer in %lld ms (%u "
			    "transmissions)", (long long)timeout_ms, tx);
			return x.bad ? F(BAD_RESPONSE) : F(TIMEOUT);
		}
		if (now >= next && tx < 7) {
			if (send(fd, s->pkt, s->len, 0) < 0 && errno != EINTR &&
			    errno != EAGAIN) {
				snprintf(why, wl, "%s", strerror(errno));
				return errno == ECONNREFUSED ? F(UNREACHABLE) :
				    pu_errno_failure(errno, PU_SIDE_UNKNOWN);
			}
			tx++;
			next = now + rto * 1000;
			rto *= 2;
		}
		(void)poll(&p, 1, call_wait_ms(now, next < end && tx < 7 ? next :
		    end));
		while ((r = recv(fd, buf, sizeof(buf), 0)) >= 0) {
			int m = sreq_match(buf, (size_t)r, s);
			if (m > 0)
				return F(NONE);
			if (m < 0)
				x.bad = 1;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(why, wl, "%s", strerror(errno));
			return errno == ECONNREFUSED ? F(UNREACHABLE) :
			    pu_errno_failure(errno, PU_SIDE_UNKNOWN);
		}
	}
}

static bool
flow_media(const probe_env_t *env, int fd, Zond__V1__CallFlow *fl,
    Zond__V1__Failure *f, char *detail, size_t dlen)
{
	int64_t ms = env->call_ms > 0 ? env->call_ms : CALL_DEF_MS;
	uint32_t secs = (uint32_t)((ms + 999) / 1000), total, sent = 0;
	uint32_t got = 0, last_seq = 0, *rx, i, first_silent = 0, last_sec;
	uint8_t *seen;		/* one bit per packet: duplicates count once */
	bool any = false;
	uint32_t ssrc;
	int64_t t0, end;
	uint8_t pay[CALL_PAYLOAD], pkt[RTP_HDR + CALL_PAYLOAD], out[1500];
	uint8_t buf[2048];

	if (secs > CALL_MAX_SECONDS)
		secs = CALL_MAX_SECONDS;
	total = secs * CALL_RATE;
	if ((rx = calloc(secs, sizeof(*rx))) == NULL)
		return false;
	if ((seen = calloc(total / 8 + 1, 1)) == NULL) {
		free(rx);
		return false;
	}
	ph_random(&ssrc, sizeof(ssrc));
	ph_random(pay, sizeof(pay));
	t0 = ztime_mono_us();
	end = t0 + (int64_t)secs * 1000000 + CALL_GRACE_MS * 1000;
	for (;;) {
		int64_t now = ztime_mono_us(), next;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		while (sent < total && now >= t0 + (int64_t)sent *
		    (1000000 / CALL_RATE)) {
			struct rtp_hdr h = {.pt = RTP_PT_OPUS,
			    .seq = (uint16_t)sent, .ts = sent * 960,
			    .ssrc = ssrc, .marker = sent == 0};
			size_t pl = rtp_build(pkt, sizeof(pkt), &h, pay,
			    sizeof(pay));
			size_t ol = stun_chandata_build(out, sizeof(out),
			    CALL_CHANNEL, pkt, pl);
			(void)send(fd, out, ol, 0);
			sent++;
		}
		if (now >= end)
			break;
		next = sent < total ? t0 + (int64_t)sent *
		    (1000000 / CALL_RATE) : end;
		(void)poll(&p, 1, call_wait_ms(now, next));
		while ((r = recv(fd, buf, sizeof(buf), 0)) >= 0) {
			uint16_t ch;
			const uint8_t *data;
			size_t dl;
			struct rtp_hdr h;
			uint32_t seq;
			if (stun_chandata_parse(buf, (size_t)r, &ch, &data,
			    &dl) != 0 || ch != CALL_CHANNEL ||
			    rtp_parse(data, dl, &h) != 0 || h.ssrc != ssrc)
				continue;
			/* 16-bit sequence numbers: unwrap near what was
			 * sent (at most 300 s x 50 = 15000 < 65536) */
			seq = h.seq;
			if (seq >= sent || (seen[seq / 8] & (1u << (seq % 8))))
				continue;
			seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
			rx[seq / CALL_RATE]++;
			got++;
			any = true;
			if (seq + 1 > last_seq)
				last_seq = seq + 1;
		}
	}
	free(seen);
	fl->has_sent = fl->has_received = 1;
	fl->sent = sent;
	fl->received = got;
	fl->has_seconds = fl->has_rate = fl->has_payload_bytes = 1;
	fl->seconds = secs;
	fl->rate = CALL_RATE;
	fl->payload_bytes = CALL_PAYLOAD;
	if ((fl->lost_per_s = calloc(secs, sizeof(uint32_t))) == NULL) {
		free(rx);
		return false;
	}
	fl->n_lost_per_s = secs;
	last_sec = 0;
	for (i = 0; i < secs; i++) {
		fl->lost_per_s[i] = rx[i] > CALL_RATE ? 0 : CALL_RATE - rx[i];
		if (rx[i] == 0 && first_silent == 0)
			first_silent = i + 1;
		if (rx[i] > 0)
			last_sec = i + 1;
	}
	free(rx);
	if (first_silent != 0) {
		fl->has_first_silent_s = 1;
		fl->first_silent_s = first_silent;
	}
	if (!any || last_sec < secs) {
		/* the last second(s) silent: replies stopped for good */
		fl->has_cut_after_s = fl->has_cut_after_packets = 1;
		fl->cut_after_s = last_sec;
		fl->cut_after_packets = last_seq;
		*f = F(STALL);
		snprintf(detail, dlen, "connected, then cut after %u s / %u "
		    "packets (%u of %u echoed)", last_sec, last_seq, got, sent);
	} else {
		*f = F(NONE);
		snprintf(detail, dlen, "%u of %u media packets echoed", got,
		    sent);
	}
	return true;
}

static bool
call_flow(const probe_env_t *env, struct sockaddr_storage *ss, socklen_t sl,
    int port, Zond__V1__CallOutcome *c, Zond__V1__Failure *f, char *detail,
    size_t dlen)
{
	const char *user = env->call_user ? env->call_user : "zond";
	const char *pass = env->call_password ? env->call_password :
	    "zond-call";
	Zond__V1__CallFlow *fl;
	Zond__V1__CallLeg *ls, *ln;
	struct ph_baseline b;
	struct ph_udp unused;
	struct cx x;
	struct sreq s;
	uint8_t key[STUN_KEY_LEN];
	char realm[STUN_TEXT_MAX], nonce[STUN_TEXT_MAX], why[160], addr[64];
	const char *stage = "binding";
	int64_t t0;
	int fd;
	bool ok = true;

	call_set_port(ss, port);
	if ((fl = malloc(sizeof(*fl))) == NULL)
		return false;
	zond__v1__call_flow__init(fl);
	c->flow = fl;
	if ((ls = call_leg_add(c, "helper", "shaped", port)) == NULL ||
	    (ln = call_leg_add(c, "helper", "neutral", port)) == NULL)
		return false;
	/* the neutral leg: a random datagram the helper echoes */
	ph_baseline_init(&b, &unused);
	memset(&x, 0, sizeof(x));
	x.pkt = b.pkt;
	x.len = sizeof(b.pkt);
	x.match = echo_match;
	x.arg = &b;
	cx_run((struct sockaddr *)ss, sl, &x, 1, env->timeout_ms);
	ln->has_failure = ln->has_sent = 1;
	ln->failure = cx_failure(&x, why, sizeof(why));
	ln->sent = x.tx;

	if ((fd = call_udp_socket(ss->ss_family)) < 0 ||
	    connect(fd, (struct sockaddr *)ss, sl) != 0) {
		*f = F(LOCAL);
		snprintf(detail, dlen, "socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return true;
	}
	t0 = ztime_mono_us();
	sreq_init(&s, STUN_BINDING, NULL, NULL, NULL, NULL, 0, NULL);
	if ((*f = flow_xchg(fd, &s, env->timeout_ms, why, sizeof(why))) !=
	    F(NONE))
		goto fail;
	if (s.m.mapped_family != 0 && (ls->mapped = pu_strdup(
	    s.m.mapped_family == 4 ? "ipv4" : "ipv6")) == NULL)
		goto nomem;
	stage = "allocate";
	sreq_init(&s, STUN_ALLOCATE, NULL, NULL, NULL, NULL, 0, NULL);
	if ((*f = flow_xchg(fd, &s, env->timeout_ms, why, sizeof(why))) !=
	    F(NONE))
		goto fail;
	if (s.m.error_code != 401 || !s.m.has_realm || !s.m.has_nonce) {
		*f = F(BAD_RESPONSE);
		snprintf(why, sizeof(why), "Allocate answered %u, not 401 "
		    "with REALM and NONCE", s.m.error_code);
		goto fail;
	}
	ls->has_error_code = 1;
	ls->error_code = 401;
	ls->has_nonce = 1;
	ls->nonce = true;
	if ((ls->realm = pu_strdup(s.m.realm)) == NULL ||
	    (s.m.has_software &&
	    (ls->software = pu_strdup(s.m.software)) == NULL))
		goto nomem;
	snprintf(realm, sizeof(realm), "%s", s.m.realm);
	snprintf(nonce, sizeof(nonce), "%s", s.m.nonce);
	stun_lt_key(user, realm, pass, key);
	stage = "auth";
	sreq_init(&s, STUN_ALLOCATE, user, realm, nonce, key, 0, NULL);
	if ((*f = flow_xchg(fd, &s, env->timeout_ms, why, sizeof(why))) !=
	    F(NONE))
		goto fail;
	if (s.m.type != (STUN_ALLOCATE | STUN_SUCCESS)) {
		*f = F(BAD_RESPONSE);
		snprintf(why, sizeof(why), "authenticated Allocate answered "
		    "%u (check [tests] call_user and call_password)",
		    s.m.error_code);
		goto fail;
	}
	stage = "channel_bind";
	sreq_init(&s, STUN_CHANNEL_BIND, user, realm, nonce, key,
	    CALL_CHANNEL, ss);
	if ((*f = flow_xchg(fd, &s, env->timeout_ms, why, sizeof(why))) !=
	    F(NONE))
		goto fail;
	if (s.m.type != (STUN_CHANNEL_BIND | STUN_SUCCESS)) {
		*f = F(BAD_RESPONSE);
		snprintf(why, sizeof(why), "ChannelBind answered %u",
		    s.m.error_code);
		goto fail;
	}
	ls->has_failure = 1;
	ls->failure = F(NONE);
	ls->has_rtt_us = 1;
	ls->rtt_us = (uint32_t)(ztime_mono_us() - t0);
	if ((ls->from = pu_strdup(pu_addr_str((struct sockaddr *)ss, addr,
	    sizeof(addr)))) == NULL)
		goto nomem;
	fl->has_connected = 1;
	fl->connected = true;
	ok = flow_media(env, fd, fl, f, detail, dlen);
	close(fd);
	return ok;
fail:
	/* never connected: the step says where */
	ls->has_failure = 1;
	ls->failure = *f;
	fl->has_connected = 1;
	fl->connected = false;
	snprintf(detail, dlen, "never connects: %s step: %s", stage, why);
	if ((fl->stage = pu_strdup(stage)) == NULL)
		ok = false;
	close(fd);
	return ok;
nomem:
	close(fd);
	return false;
}

/* ------------------------------------------------------- the probe */

zerr_t
probe_call(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	const Zond__V1__TestKind t = ZOND__V1__TEST_KIND__TEST_CALL;
	const struct probe_variant *v = probe_variant(probe_info(t),
	    req->variant);
	struct sockaddr_storage ss, hs;
	socklen_t sl, hl = 0;
	Zond__V1__Outcome *o;
	Zond__V1__CallOutcome *c;
	Zond__V1__Failure f = F(NONE), hf = F(NONE);
	probe_req_t hr;
	char names[64], addr[64], detail[320] = "";
	int port = req->port != 0 ? req->port : probe_port(t, NULL);
	bool ok = true, have_helper = false;
	zerr_t e;

	*out = NULL;
	if (v == NULL)
		return zdiag_set(d, ZE_INVAL, "call: unknown variant '%s' (%s)",
		    req->variant ? req->variant : "", probe_names(
		    probe_info(t), names, sizeof(names)));
	if (req->port_hi > req->port && req->port != 0)
		port = req->port + (int)(req->run %
		    (uint32_t)(req->port_hi - req->port + 1));
	if ((e = ph_addr(req, port, &ss, &sl, d)) != ZE_OK)
		return e;
	call_set_port(&ss, port);
	if (env->helper != NULL && strcmp(v->name, "flow") != 0) {
		memset(&hr, 0, sizeof(hr));
		hr.target = env->helper;
		if ((e = ph_addr(&hr, port, &hs, &hl, d)) != ZE_OK)
			return e;
		have_helper = true;
	}
	if ((o = pu_outcome_for(t)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "call: out of memory");
	c = o->call;
	if ((c->variant = pu_strdup(v->name)) == NULL ||
	    (c->addr = pu_strdup(pu_addr_str((struct sockaddr *)&ss, addr,
	    sizeof(addr)))) == NULL)
		ok = false;
	if (ok && have_helper && (c->helper = pu_strdup(pu_addr_str(
	    (struct sockaddr *)&hs, addr, sizeof(addr)))) == NULL)
		ok = false;
	if (!ok) {
	} else if (strcmp(v->name, "relay") == 0) {
		ok = relay_dest(env, &ss, sl, port, "service", c, &f,
		    req->sent);
		if (ok && have_helper)
			ok = relay_dest(env, &hs, hl, port, "helper", c, &hf,
			    NULL);
		if (f == F(NONE))
			snprintf(detail, sizeof(detail), "the relay answered");
		else if (f == F(TIMEOUT) && have_helper && hf == F(NONE)) {
			f = F(NO_REPLY);
			snprintf(detail, sizeof(detail), "no answer from the "
			    "relay on port %d; the helper answered the same "
			    "messages there", port);
		} else
			snprintf(detail, sizeof(detail), "relay on port %d: "
			    "%s", port, f == F(TIMEOUT) ? "no answer" :
			    f == F(UNREACHABLE) ? "ICMP unreachable" :
			    "an answer that is not STUN/TURN");
	} else if (strcmp(v->name, "path") == 0) {
		ok = call_path(env, &ss, sl, have_helper ? &hs : NULL, hl, port,
		    c, &f, detail, sizeof(detail));
	} else {
		ok = call_flow(env, &ss, sl, port, c, &f, detail,
		    sizeof(detail));
	}
	return pu_finish(o, ok, f, detail, "call", out, d);
}
