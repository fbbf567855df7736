/*
 * sender — test agents for the ingest tests: N agents (one DEALER + CURVE
 * connection each, keys derived from --seed) send M signed measurements
 * each to a real zond-aggregator and resend what is not acknowledged, as
 * a real agent does.  Every ACK is appended to --state FILE ("A idx seq"),
 * so a restarted sender resumes, and a checker can prove that every ACKed
 * measurement is in the store.  Final rejects are logged too ("R idx seq
 * reason").  Exit 0 when every measurement is acknowledged or finally
 * rejected, 1 when --deadline passes first.
 *
 * --mode pubkeys prints the agents' public keys; the other modes send one
 * kind of bad input and print what came back (one line per ack, reject or
 * event), for tests/ingest/ingest_test.sh to check.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "key.h"
#include "testagent.h"
#include "wire.h"
#include "ztime.h"

#define BODY_MAX (256 * 1024)

struct opts {
	const char *server, *server_pub, *seed, *state, *mode, *go, *marker;
	unsigned first, agents;
	uint64_t count;
	unsigned batch, window;
	int64_t resend_ms, deadline_s;
	int64_t rate;		/* measurements/s, all agents; 0: no cap */
};

struct item {
	uint8_t *body;
	size_t len;
	uint8_t sig[KEY_SIG_LEN];
};

struct agent {
	unsigned idx;
	zkey_t *k;
	void *sock;
	uint8_t *st;		/* per seq: 0 open, 1 acked, 2 rejected */
	int64_t *sent;		/* mono us of last send; 0: not sent */
	struct item *it;
	uint64_t lo;		/* lowest open seq */
	uint64_t done, inflight;
	bool hello;
	int64_t last_rx;	/* mono us of last downlink or connect */
};

static struct opts o;
static uint8_t server_curve[32];
static int64_t base_us;
static FILE *statef;
static uint64_t rejects[16];
static int64_t budget = INT64_MAX;
static uint64_t resent, reconnects;	/* sends allowed now (--rate) */

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sender: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void *
connect_agent(void *ctx, zkey_t *k, bool immediate)
{
	uint8_t cpk[32], csk[32];
	int one = 1, linger = 0, ivl = 100;
	void *s;

	if ((s = zmq_socket(ctx, ZMQ_DEALER)) == NULL)
		die("zmq_socket: %s", zmq_strerror(zmq_errno()));
	if (key_curve(k, cpk, csk) != ZE_OK)
		die("%s", "key_curve");
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_curve, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 32) ||
	    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) ||
	    (immediate && zmq_setsockopt(s, ZMQ_IMMEDIATE, &one,
	    sizeof(one))))
		die("setsockopt: %s", zmq_strerror(zmq_errno()));
	sodium_memzero(csk, sizeof(csk));
	if (zmq_connect(s, o.server) != 0)
		die("connect: %s", zmq_strerror(zmq_errno()));
	return s;
}

static int
send_uplink(void *sock, Zond__V1__Uplink *up, int flags)
{
	zbuf_t b;
	int rc;

	zbuf_init(&b, 8 * WIRE_MAX_FRAME);
	if (wire_pack(&up->base, &b) != ZE_OK)
		die("%s", "pack");
	rc = zmq_send(sock, b.data, b.len, flags);
	zbuf_free(&b);
	return rc;
}

static int
send_hello(void *sock, int flags)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Hello h = ZOND__V1__HELLO__INIT;

	h.agent_version = "0.1.0-test";
	h.has_clock_us = 1;
	h.clock_us = ztime_now_us();
	h.has_backlog = 1;
	h.backlog = 7;
	h.has_dropped = 1;
	h.dropped = 3;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_HELLO;
	up.hello = &h;
	return send_uplink(sock, &up, flags);
}

static struct item *
get_item(struct agent *a, uint64_t seq)
{
	struct item *it = &a->it[seq - 1];
	zbuf_t b;

	if (it->body != NULL)
		return it;
	zbuf_init(&b, BODY_MAX);
	if (ta_measurement(a->k, o.seed, a->idx, seq, base_us, NULL, 0, &b,
	    it->sig) != ZE_OK)
		die("%s", "cannot build a measurement");
	it->body = b.data;
	it->len = b.len;
	return it;
}

/* Send a batch of the given signed items. */
static int
send_batch(void *sock, wire_signed_t **items, size_t n, int flags)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Batch b = ZOND__V1__BATCH__INIT;

	b.n_items = n;
	b.items = items;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &b;
	return send_uplink(sock, &up, flags);
}

static void
fill_window(struct agent *a, int64_t now)
{
	wire_signed_t sm[WIRE_MAX_BATCH], *smp[WIRE_MAX_BATCH];
	uint64_t seqs[WIRE_MAX_BATCH];
	size_t n = 0;

	if (!a->hello) {
		if (send_hello(a->sock, ZMQ_DONTWAIT) < 0)
			return;
		a->hello = true;
	}
	while (a->lo <= o.count && a->st[a->lo - 1] != 0)
		a->lo++;
	/* unacknowledged for too long: out of the window, to be resent */
	for (uint64_t s = a->lo; s <= o.count && a->inflight > 0; s++) {
		if (a->sent[s - 1] != 0 &&
		    now - a->sent[s - 1] >= o.resend_ms * 1000) {
			a->sent[s - 1] = 0;
			a->inflight--;
			resent++;
		}
	}
	for (uint64_t s = a->lo; s <= o.count && a->inflight + n < o.window &&
	    budget > (int64_t)n; s++) {
		struct item *it;

		if (a->st[s - 1] != 0 || a->sent[s - 1] != 0)
			continue;
		it = get_item(a, s);
		zond__v1__signed_measurement__init(&sm[n]);
		sm[n].has_body = sm[n].has_sig = 1;
		sm[n].body.data = it->body;
		sm[n].body.len = it->len;
		sm[n].sig.data = it->sig;
		sm[n].sig.len = KEY_SIG_LEN;
		smp[n] = &sm[n];
		seqs[n] = s;
		if (++n == o.batch || n == WIRE_MAX_BATCH) {
			if (send_batch(a->sock, smp, n, ZMQ_DONTWAIT) < 0)
				return;	/* not connected: later */
			for (size_t i = 0; i < n; i++)
				a->sent[seqs[i] - 1] = now;
			a->inflight += n;
			budget -= (int64_t)n;
			n = 0;
		}
	}
	if (n > 0 && send_batch(a->sock, smp, n, ZMQ_DONTWAIT) >= 0) {
		for (size_t i = 0; i < n; i++)
			a->sent[seqs[i] - 1] = now;
		a->inflight += n;
		budget -= (int64_t)n;
	}
}

static bool
temporary(Zond__V1__RejectReason r)
{
	return r == ZOND__V1__REJECT_REASON__REJECT_STORAGE ||
	    r == ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT ||
	    r == ZOND__V1__REJECT_REASON__REJECT_DISABLED ||
	    r == ZOND__V1__REJECT_REASON__REJECT_VERSION;
}

static void
mark(struct agent *a, uint64_t seq, uint8_t st)
{
	if (seq == 0 || seq > o.count || a->st[seq - 1] != 0)
		return;
	a->st[seq - 1] = st;
	if (a->sent[seq - 1] != 0) {
		a->sent[seq - 1] = 0;
		a->inflight--;
	}
	a->done++;
}

static uint64_t
on_downlink(struct agent *a, const uint8_t *p, size_t n)
{
	wire_downlink_t *dl;
	uint64_t before = a->done;
	zdiag_t d;

	if (wire_downlink_decode(p, n, &dl, &d) != ZE_OK) {
		fprintf(stderr, "sender: agent %u: bad downlink: %s\n", a->idx,
		    d.text);
		return 0;
	}
	if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_ACK) {
		for (size_t i = 0; i < dl->ack->n_seqs; i++) {
			uint64_t s = dl->ack->seqs[i];
			if (s >= 1 && s <= o.count && a->st[s - 1] == 0)
				fprintf(statef, "A %u %" PRIu64 "\n", a->idx,
				    s);
			mark(a, s, 1);
		}
		for (size_t i = 0; i < dl->ack->n_rejects; i++) {
			Zond__V1__Reject *r = dl->ack->rejects[i];
			if (r->reason < 16)
				rejects[r->reason]++;
			if (temporary(r->reason) || !r->has_seq)
				continue;	/* resend after the timeout */
			if (r->seq >= 1 && r->seq <= o.count &&
			    a->st[r->seq - 1] == 0)
				fprintf(statef, "R %u %" PRIu64 " %s\n",
				    a->idx, r->seq, wire_reject_name(
				    r->reason));
			mark(a, r->seq, 2);
		}
		fflush(statef);
	} else if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_REJECT) {
		fprintf(stderr, "sender: agent %u: frame rejected: %s: %s\n",
		    a->idx, wire_reject_name(dl->reject->reason),
		    dl->reject->detail ? dl->reject->detail : "");
		if (dl->reject->reason < 16)
			rejects[dl->reject->reason]++;
	}
	wire_downlink_free(dl);
	return a->done - before;
}

static void
load_state(struct agent *ag)
{
	char line[256];
	unsigned idx;
	unsigned long long seq;
	long long b;
	FILE *f;

	if ((f = fopen(o.state, "r")) == NULL) {
		base_us = ztime_now_us() - 60 * 1000000LL;
		if ((statef = fopen(o.state, "a")) == NULL)
			die("%s: cannot create", o.state);
		fprintf(statef, "base_us=%lld\n", (long long)base_us);
		fflush(statef);
		return;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "base_us=%lld", &b) != 1)
		die("%s: not a sender state file", o.state);
	base_us = b;
	while (fgets(line, sizeof(line), f) != NULL) {
		char kind;
		if (strchr(line, '\n') == NULL)
			break;	/* torn last line */
		if (sscanf(line, "%c %u %llu", &kind, &idx, &seq) != 3)
			continue;
		if (idx < o.first || idx >= o.first + o.agents)
			continue;
		mark(&ag[idx - o.first], seq, kind == 'A' ? 1 : 2);
	}
	fclose(f);
	if ((statef = fopen(o.state, "a")) == NULL)
		die("%s: cannot append", o.state);
}

static int
run_normal(void *ctx)
{
	struct agent *ag;
	zmq_pollitem_t *pi;
	uint64_t total = (uint64_t)o.agents * o.count, done = 0;
	int64_t deadline = ztime_mono_us() + o.deadline_s * 1000000;
	int64_t start, spent = 0;
	int64_t silence = 3 * o.resend_ms * 1000 > 2000000 ?
	    3 * o.resend_ms * 1000 : 2000000;
	zmq_msg_t m;

	if ((ag = calloc(o.agents, sizeof(*ag))) == NULL ||
	    (pi = calloc(o.agents, sizeof(*pi))) == NULL)
		die("%s", "out of memory");
	for (unsigned i = 0; i < o.agents; i++) {
		ag[i].idx = o.first + i;
		ag[i].lo = 1;
		if (ta_key(o.seed, ag[i].idx, &ag[i].k) != ZE_OK)
			die("%s", "key");
		if ((ag[i].st = calloc(o.count, 1)) == NULL ||
		    (ag[i].sent = calloc(o.count, sizeof(int64_t))) == NULL ||
		    (ag[i].it = calloc(o.count, sizeof(struct item))) == NULL)
			die("%s", "out of memory");
	}
	load_state(ag);
	for (unsigned i = 0; i < o.agents; i++) {
		done += ag[i].done;
		ag[i].sock = connect_agent(ctx, ag[i].k, true);
		pi[i].socket = ag[i].sock;
		pi[i].events = ZMQ_POLLIN;
	}
	start = ztime_mono_us();
	for (unsigned i = 0; i < o.agents; i++)
		ag[i].last_rx = start;
	while (done < total && ztime_mono_us() < deadline) {
		int64_t now = ztime_mono_us(), before;

		if (o.rate > 0) {
			/* token bucket: at most a second's worth at once */
			budget = o.rate * (now - start) / 1000000 - spent;
			if (budget > o.rate) {
				spent += budget - o.rate;
				budget = o.rate;
			}
		}
		before = budget;
		for (unsigned i = 0; i < o.agents; i++) {
			/*
			 * Silent while measurements wait: start a new
			 * connection.  libzmq does not reconnect after the
			 * server's ZAP handler refused the handshake (not
			 * enrolled yet, disabled), so an agent must.
			 */
			if (ag[i].done < o.count && now - ag[i].last_rx >
			    silence) {
				zmq_close(ag[i].sock);
				ag[i].sock = connect_agent(ctx, ag[i].k, true);
				pi[i].socket = ag[i].sock;
				ag[i].hello = false;
				ag[i].last_rx = now;
				reconnects++;
			}
			fill_window(&ag[i], now);
		}
		if (o.rate > 0)
			spent += before - budget;
		if (zmq_poll(pi, (int)o.agents, 20) < 0 && zmq_errno() != EINTR)
			die("poll: %s", zmq_strerror(zmq_errno()));
		for (unsigned i = 0; i < o.agents; i++) {
			if (!(pi[i].revents & ZMQ_POLLIN))
				continue;
			for (;;) {
				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, ag[i].sock,
				    ZMQ_DONTWAIT) < 0) {
					zmq_msg_close(&m);
					break;
				}
				done += on_downlink(&ag[i], zmq_msg_data(&m),
				    zmq_msg_size(&m));
				ag[i].last_rx = ztime_mono_us();
				zmq_msg_close(&m);
			}
		}
	}
	{
		uint64_t acked = 0, rej = 0;
		for (unsigned i = 0; i < o.agents; i++)
			for (uint64_t s = 0; s < o.count; s++) {
				acked += ag[i].st[s] == 1;
				rej += ag[i].st[s] == 2;
			}
		printf("acked=%" PRIu64 " rejected=%" PRIu64 " total=%" PRIu64
		    " resent=%" PRIu64 " reconnects=%" PRIu64, acked, rej,
		    total, resent, reconnects);
		for (int r = 1; r < 10; r++)
			printf(" reject_%s=%" PRIu64,
			    wire_reject_name((Zond__V1__RejectReason)r),
			    rejects[r]);
		printf("\n");
	}
	for (unsigned i = 0; i < o.agents; i++) {
		zmq_close(ag[i].sock);
		key_free(&ag[i].k);
		for (uint64_t s = 0; s < o.count; s++)
			free(ag[i].it[s].body);
		free(ag[i].it);
		free(ag[i].st);
		free(ag[i].sent);
	}
	free(ag);
	free(pi);
	fclose(statef);
	return done == total ? 0 : 1;
}

/* ------------------------------------------------------------ special */

/* Print every downlink that arrives within ms; stop after the first if
 * one is set.  Returns how many arrived. */
static int
print_downlinks(void *sock, int64_t ms, bool one)
{
	int64_t end = ztime_mono_us() + ms * 1000;
	zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
	wire_downlink_t *dl;
	zmq_msg_t m;
	zdiag_t d;
	int got = 0;

	while (ztime_mono_us() < end) {
		if (zmq_poll(&pi, 1, 50) <= 0)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		if (wire_downlink_decode(zmq_msg_data(&m), zmq_msg_size(&m),
		    &dl, &d) != ZE_OK) {
			printf("bad_downlink %s\n", d.text);
		} else if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_ACK) {
			for (size_t i = 0; i < dl->ack->n_seqs; i++)
				printf("ack seq=%" PRIu64 "\n",
				    dl->ack->seqs[i]);
			for (size_t i = 0; i < dl->ack->n_rejects; i++)
				printf("reject seq=%" PRIu64 " reason=%s\n",
				    dl->ack->rejects[i]->seq,
				    wire_reject_name(
				    dl->ack->rejects[i]->reason));
			wire_downlink_free(dl);
		} else if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_REJECT) {
			printf("frame_reject reason=%s\n",
			    wire_reject_name(dl->reject->reason));
			wire_downlink_free(dl);
		} else
			wire_downlink_free(dl);
		zmq_msg_close(&m);
		fflush(stdout);
		got++;
		if (one)
			break;
	}
	return got;
}

static void
one_item(zkey_t *k, uint64_t seq, int64_t start_base,
    const uint8_t *agent_field, size_t pad, bool badsig, zbuf_t *b,
    uint8_t sig[KEY_SIG_LEN], wire_signed_t *sm)
{
	if (ta_measurement(k, o.seed, o.first, seq, start_base, agent_field,
	    pad, b, sig) != ZE_OK)
		die("%s", "cannot build a measurement");
	if (badsig)
		sig[7] ^= 0x01;
	zond__v1__signed_measurement__init(sm);
	sm->has_body = sm->has_sig = 1;
	sm->body.data = b->data;
	sm->body.len = b->len;
	sm->sig.data = sig;
	sm->sig.len = KEY_SIG_LEN;
}

static void
wait_file(const char *path)
{
	struct stat st;
	int64_t end = ztime_mono_us() + o.deadline_s * 1000000;

	while (stat(path, &st) != 0) {
		if (ztime_mono_us() > end)
			die("timed out waiting for %s", path);
		usleep(50000);
	}
}

static int
run_special(void *ctx)
{
	int64_t now = ztime_now_us();
	wire_signed_t sm[WIRE_MAX_BATCH + 1], *smp[WIRE_MAX_BATCH + 1];
	uint8_t sig[WIRE_MAX_BATCH + 1][KEY_SIG_LEN], other[KEY_PUB_LEN];
	zbuf_t b[WIRE_MAX_BATCH + 1];
	const char *md = o.mode;
	zkey_t *k;
	void *s;
	int wait_ms = 10000;

	if (ta_key(o.seed, o.first, &k) != ZE_OK)
		die("%s", "key");
	for (size_t i = 0; i <= WIRE_MAX_BATCH; i++) {
		zbuf_init(&b[i], BODY_MAX);
		smp[i] = &sm[i];
	}
	base_us = now - 60 * 1000000LL;
	if (strcmp(md, "unknown") == 0) {
		/* a key the ZAP handler must refuse: watch the handshake */
		void *mon;
		zmq_msg_t ev;
		int64_t end = ztime_mono_us() + o.deadline_s * 1000000;
		zmq_pollitem_t pi;
		int rc = 2;

		s = connect_agent(ctx, k, false);
		if (zmq_socket_monitor(s, "inproc://mon", ZMQ_EVENT_ALL) != 0)
			die("monitor: %s", zmq_strerror(zmq_errno()));
		mon = zmq_socket(ctx, ZMQ_PAIR);
		zmq_connect(mon, "inproc://mon");
		(void)send_hello(s, ZMQ_DONTWAIT);
		pi.socket = mon;
		pi.fd = 0;
		pi.events = ZMQ_POLLIN;
		while (rc == 2 && ztime_mono_us() < end) {
			uint16_t evid;
			if (zmq_poll(&pi, 1, 100) <= 0)
				continue;
			zmq_msg_init(&ev);
			if (zmq_msg_recv(&ev, mon, 0) < 0 ||
			    zmq_msg_size(&ev) < 6) {
				zmq_msg_close(&ev);
				continue;
			}
			memcpy(&evid, zmq_msg_data(&ev), 2);
			while (zmq_msg_more(&ev)) {
				zmq_msg_close(&ev);
				zmq_msg_init(&ev);
				zmq_msg_recv(&ev, mon, 0);
			}
			zmq_msg_close(&ev);
			if (evid == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
				printf("auth_failed\n");
				rc = 0;
			} else if (evid == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
				printf("handshake_succeeded\n");
				rc = 1;
			}
		}
		fflush(stdout);
		zmq_socket_monitor(s, NULL, 0);
		zmq_close(mon);
		zmq_close(s);
		key_free(&k);
		for (size_t i = 0; i <= WIRE_MAX_BATCH; i++)
			zbuf_free(&b[i]);
		return rc;
	}
	s = connect_agent(ctx, k, false);
	if (strcmp(md, "badsig") == 0) {
		one_item(k, 1, base_us, NULL, 0, true, &b[0], sig[0], &sm[0]);
		send_batch(s, smp, 1, 0);
	} else if (strcmp(md, "mismatch") == 0) {
		randombytes_buf(other, sizeof(other));
		one_item(k, 1, base_us, other, 0, false, &b[0], sig[0],
		    &sm[0]);
		send_batch(s, smp, 1, 0);
	} else if (strcmp(md, "clock") == 0) {
		/* seq 1: two days ahead; seq 2: thirty days old */
		one_item(k, 1, now + 2 * 86400 * 1000000LL, NULL, 0, false,
		    &b[0], sig[0], &sm[0]);
		one_item(k, 2, now - 30 * 86400 * 1000000LL, NULL, 0, false,
		    &b[1], sig[1], &sm[1]);
		send_batch(s, smp, 2, 0);
	} else if (strcmp(md, "bigitem") == 0) {
		/* seq 1 over 64 KiB, seq 2 fine: only seq 1 refused */
		one_item(k, 1, base_us, NULL, 70000, false, &b[0], sig[0],
		    &sm[0]);
		one_item(k, 2, base_us, NULL, 0, false, &b[1], sig[1], &sm[1]);
		send_batch(s, smp, 2, 0);
	} else if (strcmp(md, "bigbatch") == 0) {
		for (size_t i = 0; i <= WIRE_MAX_BATCH; i++)
			one_item(k, i + 1, base_us, NULL, 0, false, &b[i],
			    sig[i], &sm[i]);
		send_batch(s, smp, WIRE_MAX_BATCH + 1, 0);
	} else if (strcmp(md, "garbage") == 0) {
		uint8_t junk[300];
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 0xff;	/* an invalid protobuf tag */
		zmq_send(s, junk, sizeof(junk), 0);
	} else if (strcmp(md, "empty") == 0) {
		zmq_send(s, "", 0, 0);
	} else if (strcmp(md, "version") == 0) {
		Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
		Zond__V1__Heartbeat h = ZOND__V1__HEARTBEAT__INIT;
		up.has_version = 1;
		up.version = 2;
		up.msg_case = ZOND__V1__UPLINK__MSG_HEARTBEAT;
		up.heartbeat = &h;
		send_uplink(s, &up, 0);
	} else if (strcmp(md, "multiframe") == 0) {
		zmq_send(s, "a", 1, ZMQ_SNDMORE);
		zmq_send(s, "b", 1, 0);
	} else if (strcmp(md, "huge") == 0) {
		/* over ZMQ_MAXMSGSIZE (twice the frame limit): libzmq drops
		 * the connection; the agent reconnects and is served again */
		size_t n = 3 * 1024 * 1024;
		uint8_t *big = calloc(1, n);
		int64_t end = ztime_mono_us() + o.deadline_s * 1000000;
		if (big == NULL)
			die("%s", "out of memory");
		zmq_send(s, big, n, 0);
		free(big);
		one_item(k, 1, base_us, NULL, 0, false, &b[0], sig[0], &sm[0]);
		while (ztime_mono_us() < end) {
			send_batch(s, smp, 1, ZMQ_DONTWAIT);
			if (print_downlinks(s, 500, true) > 0)
				break;
		}
		wait_ms = 0;
	} else if (strcmp(md, "replay") == 0) {
		/* the same measurement three times: three ACKs, one
		 * record */
		one_item(k, 1, base_us, NULL, 0, false, &b[0], sig[0], &sm[0]);
		send_batch(s, smp, 1, 0);
		print_downlinks(s, wait_ms, true);
		send_batch(s, smp, 1, 0);
		send_batch(s, smp, 1, 0);
		print_downlinks(s, wait_ms, true);
		print_downlinks(s, wait_ms, true);
		wait_ms = 0;
	} else if (strcmp(md, "idreuse") == 0) {
		/* seq 2 carries seq 1's id: acknowledged, not stored */
		wire_meas_t *m1;
		uint8_t id1[WIRE_ID_LEN];
		one_item(k, 1, base_us, NULL, 0, false, &b[0], sig[0], &sm[0]);
		if (wire_meas_decode(b[0].data, b[0].len, &m1, NULL) != ZE_OK)
			die("%s", "decode");
		memcpy(id1, m1->id.data, sizeof(id1));
		wire_meas_free(m1);
		ta_id_override = id1;
		one_item(k, 2, base_us, NULL, 0, false, &b[1], sig[1], &sm[1]);
		ta_id_override = NULL;
		send_batch(s, smp, 1, 0);
		print_downlinks(s, wait_ms, true);
		send_batch(s, smp + 1, 1, 0);
	} else if (strcmp(md, "disable-live") == 0) {
		/* seq 1 acked; the test disables us; seq 2 refused */
		one_item(k, 1, base_us, NULL, 0, false, &b[0], sig[0], &sm[0]);
		send_batch(s, smp, 1, 0);
		print_downlinks(s, wait_ms, true);
		if (o.marker != NULL) {
			FILE *f = fopen(o.marker, "w");
			if (f != NULL)
				fclose(f);
		}
		if (o.go != NULL)
			wait_file(o.go);
		one_item(k, 2, base_us, NULL, 0, false, &b[0], sig[0], &sm[0]);
		send_batch(s, smp, 1, 0);
	} else
		die("unknown mode '%s'", md);
	if (wait_ms > 0)
		print_downlinks(s, wait_ms, true);
	zmq_close(s);
	key_free(&k);
	for (size_t i = 0; i <= WIRE_MAX_BATCH; i++)
		zbuf_free(&b[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", required_argument, NULL, 's'},
		{"server-pub", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 'S'},
		{"first", required_argument, NULL, 'f'},
		{"agents", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'm'},
		{"state", required_argument, NULL, 't'},
		{"batch", required_argument, NULL, 'b'},
		{"window", required_argument, NULL, 'w'},
		{"resend-ms", required_argument, NULL, 'r'},
		{"deadline", required_argument, NULL, 'D'},
		{"mode", required_argument, NULL, 'M'},
		{"rate", required_argument, NULL, 'R'},
		{"marker", required_argument, NULL, 'K'},
		{"go", required_argument, NULL, 'G'},
		{NULL, 0, NULL, 0},
	};
	uint8_t spk[KEY_PUB_LEN];
	zdiag_t d;
	void *ctx;
	int ch, rc;

	if (sodium_init() < 0)
		die("%s", "sodium_init");
	o.seed = "test";
	o.agents = 1;
	o.count = 10;
	o.batch = 32;
	o.window = 256;
	o.resend_ms = 1000;
	o.deadline_s = 90;
	o.mode = "normal";
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o.server = optarg; break;
		case 'p': o.server_pub = optarg; break;
		case 'S': o.seed = optarg; break;
		case 'f': o.first = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.agents = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o.count = strtoull(optarg, NULL, 10); break;
		case 't': o.state = optarg; break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.resend_ms = strtoll(optarg, NULL, 10); break;
		case 'D': o.deadline_s = strtoll(optarg, NULL, 10); break;
		case 'M': o.mode = optarg; break;
		case 'R': o.rate = strtoll(optarg, NULL, 10); break;
		case 'K': o.marker = optarg; break;
		case 'G': o.go = optarg; break;
		default:
			fprintf(stderr, "usage: sender --server EP "
			    "--server-pub "
			    "FILE [--seed S] [--first I] [--agents N] "
			    "[--count M] [--state FILE] [--mode MODE] ...\n");
			return 2;
		}
	}
	if (strcmp(o.mode, "pubkeys") == 0) {
		for (unsigned i = 0; i < o.agents; i++) {
			zkey_t *k;
			char hex[KEY_HEX_LEN + 1];
			if (ta_key(o.seed, o.first + i, &k) != ZE_OK)
				die("%s", "key");
			key_public_hex(k, hex);
			printf("%s\n", hex);
			key_free(&k);
		}
		return 0;
	}
	if (o.server == NULL || o.server_pub == NULL || o.agents == 0 ||
	    o.count == 0 || o.batch == 0 || o.window == 0)
		die("%s", "--server, --server-pub, --agents, --count needed");
	if (pubkey_load(o.server_pub, spk, &d) != ZE_OK)
		die("%s", d.text);
	if (pubkey_to_curve(spk, server_curve) != ZE_OK)
		die("%s", "server key");
	ctx = zmq_ctx_new();
	if (strcmp(o.mode, "normal") == 0) {
		if (o.state == NULL)
			die("%s", "--state FILE needed");
		rc = run_normal(ctx);
	} else
		rc = run_special(ctx);
	zmq_ctx_term(ctx);
	return rc;
}
