/*
 * test_uplink — the uplink delivers everything in the outbox to a real
 * ROUTER + CURVE peer on 127.0.0.1 and deletes it only once acknowledged.
 *
 * The peer, written here (a minimal aggregator stand-in, not a mock of
 * libzmq), runs in a thread with its own ZeroMQ context: a ZAP handler
 * that admits only the agent's CURVE key, a ROUTER that decodes every
 * Uplink with wire_uplink_decode, verifies every measurement with
 * wire_signed_verify against the agent's Ed25519 key, and answers with an
 * Ack (or Rejects, in the modes below).  It records how often each seq
 * arrived and whether it was acknowledged.
 *
 * Cases: plain delivery (and a heartbeat reporting the empty backlog); a
 * peer that dies mid-stream without acking and comes back on the same
 * port while the agent keeps producing; items with broken signatures
 * (dropped and counted by the agent, never stored by the peer); a peer
 * answering REJECT_STORAGE for a while (kept and resent); a peer that
 * reads batches and never answers (resent after the ack timeout); a peer
 * whose frame limit is below 1 MiB and refuses larger frames whole with
 * REJECT_OVERSIZED (the agent shrinks its batches); a peer that adds a
 * permanent reject naming no seq to its acks (counted, no hold); a peer
 * refusing some items as REJECT_DUPLICATE_ID (dropped, not resent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "helpers.h"
#include "log.h"
#include "outbox.h"
#include "uplink.h"
#include "wire.h"
#include "ztime.h"

#define MAXSEQ 4096
#define DEADLINE_S 120	/* a hung test fails instead of hanging */

/* cmocka's asserts must not run off the main thread. */
#define PCHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "peer: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* ---------------------------------------------------------------- peer */

struct peer {
	/* set before start */
	zkey_t *skey;			/* the peer's identity */
	uint8_t agent_pk[KEY_PUB_LEN];	/* the agent's Ed25519 key */
	uint8_t agent_curve[32];
	int crash_after;	/* batches; 0: never */
	int down_ms;
	int storage_batches;	/* first batches answered REJECT_STORAGE */
	int silent_batches;	/* first batches not answered at all */
	size_t max_frame;	/* larger frames: Reject OVERSIZED; 0: 1 MiB */
	int unnamed_acks;	/* first acks carry an unnamed MALFORMED */
	int dupid_mod;		/* seq % dupid_mod == 1: DUPLICATE_ID */
	atomic_int oversized;	/* frames refused as too large */
	atomic_int unnamed_sent;	/* unnamed rejects sent */
	/* written by the peer thread, read after join or atomically */
	int port;
	atomic_int ready;
	atomic_int stop;
	atomic_int down;
	atomic_int hellos;
	atomic_int heartbeats;
	atomic_int batches;
	atomic_int last_hb_backlog;	/* -1: none yet */
	uint64_t hello_last_seq;	/* from the first Hello */
	uint64_t hello_backlog;
	int hello_version_ok;		/* agent_version and clock present */
	int zap_denied;
	int user_mismatch;	/* message not attributed to the agent */
	int agent_mismatch;	/* body names another agent */
	int bad_frames;
	int bad_sigs;
	uint32_t seen[MAXSEQ];	/* arrivals per seq */
	uint32_t stored[MAXSEQ];	/* acknowledged per seq */
	pthread_t th;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
send_parts(void *s, zmq_msg_t *id, const uint8_t *p, size_t n)
{
	zmq_msg_t copy;

	zmq_msg_init(&copy);
	zmq_msg_copy(&copy, id);
	if (zmq_msg_send(&copy, s, ZMQ_SNDMORE) < 0)
		zmq_msg_close(&copy);
	else
		(void)zmq_send(s, p, n, 0);
}

/* ZAP (RFC 27): admit only the agent's CURVE key; user id = its hex. */
static void
zap_answer(struct peer *p, void *zap)
{
	zmq_msg_t part[8];
	int n = 0, more = 1;
	char hex[KEY_HEX_LEN + 1];
	bool ok = false;
	const char *status;

	while (more && n < 8) {
		zmq_msg_init(&part[n]);
		if (zmq_msg_recv(&part[n], zap, 0) < 0)
			return;
		more = zmq_msg_more(&part[n]);
		n++;
	}
	if (n >= 7 && zmq_msg_size(&part[5]) == 5 &&
	    memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&part[6]) == 32 &&
	    memcmp(zmq_msg_data(&part[6]), p->agent_curve, 32) == 0)
		ok = true;
	if (!ok)
		p->zap_denied++;
	sodium_bin2hex(hex, sizeof(hex), p->agent_pk, KEY_PUB_LEN);
	status = ok ? "200" : "400";
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]),
	    ZMQ_SNDMORE);
	zmq_send(zap, status, 3, ZMQ_SNDMORE);
	zmq_send(zap, ok ? "OK" : "denied", ok ? 2 : 6, ZMQ_SNDMORE);
	zmq_send(zap, ok ? hex : "", ok ? KEY_HEX_LEN : 0, ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&part[i]);
	while (more) {	/* over-long request: drain */
		zmq_msg_t m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, zap, 0) < 0)
			break;
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
}

/* One Uplink from the agent; returns false when the peer should crash. */
static bool
peer_frame(struct peer *p, void *r, zmq_msg_t *id, zmq_msg_t *msg)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	Zond__V1__Ack ack = ZOND__V1__ACK__INIT;
	Zond__V1__Reject rj[WIRE_MAX_BATCH], *rjp[WIRE_MAX_BATCH];
	uint64_t seqs[WIRE_MAX_BATCH];
	char hex[KEY_HEX_LEN + 1];
	const char *user;
	wire_uplink_t *up;
	wire_meas_t *m;
	zbuf_t out;
	int nb;
	bool storage;

	sodium_bin2hex(hex, sizeof(hex), p->agent_pk, KEY_PUB_LEN);
	user = zmq_msg_gets(msg, "User-Id");
	if (user == NULL || strcmp(user, hex) != 0)
		p->user_mismatch++;
	if (p->max_frame > 0 && zmq_msg_size(msg) > p->max_frame) {
		Zond__V1__Reject big = ZOND__V1__REJECT__INIT;

		big.has_reason = 1;
		big.reason = ZOND__V1__REJECT_REASON__REJECT_OVERSIZED;
		big.detail = "frame over the limit";
		dl.has_version = 1;
		dl.version = WIRE_VERSION;
		dl.msg_case = ZOND__V1__DOWNLINK__MSG_REJECT;
		dl.reject = &big;
		zbuf_init(&out, 4096);
		if (wire_pack(&dl.base, &out) == ZE_OK)
			send_parts(r, id, out.data, out.len);
		zbuf_free(&out);
		p->oversized++;
		return true;
	}
	if (wire_uplink_decode(zmq_msg_data(msg), zmq_msg_size(msg), &up,
	    NULL) != ZE_OK) {
		p->bad_frames++;
		return true;
	}
	switch (up->msg_case) {
	case ZOND__V1__UPLINK__MSG_HELLO:
		if (p->hellos == 0) {
			const Zond__V1__Hello *h = up->hello;

			p->hello_last_seq = h->has_last_seq ? h->last_seq : 0;
			p->hello_backlog = h->has_backlog ? h->backlog : 0;
			p->hello_version_ok = h->agent_version != NULL &&
			    h->agent_version[0] != '\0' && h->has_clock_us &&
			    h->clock_us > 0;
		}
		p->hellos++;
		wire_uplink_free(up);
		return true;
	case ZOND__V1__UPLINK__MSG_HEARTBEAT:
		if (up->heartbeat->has_backlog)
			p->last_hb_backlog = (int)up->heartbeat->backlog;
		p->heartbeats++;
		wire_uplink_free(up);
		return true;
	default:
		break;
	}
	nb = ++p->batches;
	if (p->crash_after > 0 && nb == p->crash_after) {
		/* Dies after receiving, before committing: no ack. */
		for (size_t i = 0; i < up->batch->n_items; i++) {
			const wire_signed_t *s = up->batch->items[i];

			if (wire_meas_decode(s->body.data, s->body.len, &m,
			    NULL) != ZE_OK)
				continue;
			if (m->seq < MAXSEQ)
				p->seen[m->seq]++;
			wire_meas_free(m);
		}
		wire_uplink_free(up);
		return false;
	}
	if (nb <= p->silent_batches) {
		/* A hung aggregator: connected, reading, never answering. */
		for (size_t i = 0; i < up->batch->n_items; i++) {
			const wire_signed_t *s = up->batch->items[i];

			if (wire_meas_decode(s->body.data, s->body.len, &m,
			    NULL) != ZE_OK)
				continue;
			if (m->seq < MAXSEQ)
				p->seen[m->seq]++;
			wire_meas_free(m);
		}
		wire_uplink_free(up);
		return true;
	}
	storage = nb <= p->storage_batches;
	for (size_t i = 0; i < up->batch->n_items; i++) {
		const wire_signed_t *s = up->batch->items[i];
		bool good = wire_signed_verify(s, p->agent_pk) == ZE_OK;

		/* The seq of an unverified body only names what to refuse. */
		if (wire_meas_decode(s->body.data, s->body.len, &m, NULL) !=
		    ZE_OK) {
			p->bad_frames++;
			continue;
		}
		if (m->seq < MAXSEQ)
			p->seen[m->seq]++;
		if (memcmp(m->agent.data, p->agent_pk, KEY_PUB_LEN) != 0)
			p->agent_mismatch++;
		if (good && p->dupid_mod > 0 && m->seq % (uint64_t)
		    p->dupid_mod == 1) {
			zond__v1__reject__init(&rj[ack.n_rejects]);
			rj[ack.n_rejects].has_seq = 1;
			rj[ack.n_rejects].seq = m->seq;
			rj[ack.n_rejects].has_reason = 1;
			rj[ack.n_rejects].reason =
			    ZOND__V1__REJECT_REASON__REJECT_DUPLICATE_ID;
			rjp[ack.n_rejects] = &rj[ack.n_rejects];
			ack.n_rejects++;
		} else if (good && !storage) {
			if (m->seq < MAXSEQ)
				p->stored[m->seq]++;
			seqs[ack.n_seqs++] = m->seq;
		} else {
			zond__v1__reject__init(&rj[ack.n_rejects]);
			rj[ack.n_rejects].has_seq = 1;
			rj[ack.n_rejects].seq = m->seq;
			rj[ack.n_rejects].has_reason = 1;
			rj[ack.n_rejects].reason = good ?
			    ZOND__V1__REJECT_REASON__REJECT_STORAGE :
			    ZOND__V1__REJECT_REASON__REJECT_BAD_SIGNATURE;
			rj[ack.n_rejects].detail = good ? "disk full" :
			    "signature\ndoes not verify";
			rjp[ack.n_rejects] = &rj[ack.n_rejects];
			ack.n_rejects++;
			if (!good)
				p->bad_sigs++;
		}
		wire_meas_free(m);
	}
	if (nb <= p->unnamed_acks && ack.n_rejects < WIRE_MAX_BATCH) {
		/* an item the aggregator could not name */
		zond__v1__reject__init(&rj[ack.n_rejects]);
		rj[ack.n_rejects].has_reason = 1;
		rj[ack.n_rejects].reason =
		    ZOND__V1__REJECT_REASON__REJECT_MALFORMED;
		rjp[ack.n_rejects] = &rj[ack.n_rejects];
		ack.n_rejects++;
		p->unnamed_sent++;
	}
	ack.seqs = seqs;
	ack.rejects = rjp;
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	dl.msg_case = ZOND__V1__DOWNLINK__MSG_ACK;
	dl.ack = &ack;
	zbuf_init(&out, WIRE_MAX_FRAME);
	if (wire_pack(&dl.base, &out) == ZE_OK)
		send_parts(r, id, out.data, out.len);
	zbuf_free(&out);
	wire_uplink_free(up);
	return true;
}

/* One life of the peer: bind, serve until stop or crash. */
static bool
peer_life(struct peer *p, bool first)
{
	uint8_t cpk[32], csk[32];
	void *ctx, *zap, *r;
	char ep[64];
	size_t eplen = sizeof(ep);
	int one = 1, zero = 0;
	int64_t maxmsg = WIRE_TRANSPORT_MAX(WIRE_MAX_FRAME);
	bool crashed = false;

	PCHECK((ctx = zmq_ctx_new()) != NULL);
	PCHECK((zap = zmq_socket(ctx, ZMQ_REP)) != NULL);
	PCHECK(zmq_bind(zap, "inproc://zeromq.zap.01") == 0);
	PCHECK((r = zmq_socket(ctx, ZMQ_ROUTER)) != NULL);
	PCHECK(key_curve(p->skey, cpk, csk) == ZE_OK);
	zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, csk, 32);
	zmq_setsockopt(r, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	zmq_setsockopt(zap, ZMQ_LINGER, &zero, sizeof(zero));
	sodium_memzero(csk, sizeof(csk));
	if (first) {
		PCHECK(zmq_bind(r, "tcp://127.0.0.1:*") == 0);
		PCHECK(zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &eplen) == 0);
		PCHECK(strrchr(ep, ':') != NULL);
		p->port = (int)strtol(strrchr(ep, ':') + 1, NULL, 10);
		PCHECK(p->port > 0);
	} else {
		snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", p->port);
		/* The old listener may take a moment to go away. */
		for (int i = 0; zmq_bind(r, ep) != 0; i++) {
			PCHECK(i < 500);
			sleep_ms(10);
		}
	}
	p->ready = 1;
	while (!p->stop && !crashed) {
		zmq_pollitem_t it[2] = {
			{ zap, 0, ZMQ_POLLIN, 0 }, { r, 0, ZMQ_POLLIN, 0 } };

		if (zmq_poll(it, 2, 20) < 0)
			continue;
		if (it[0].revents & ZMQ_POLLIN)
			zap_answer(p, zap);
		if (it[1].revents & ZMQ_POLLIN) {
			zmq_msg_t id, msg;

			zmq_msg_init(&id);
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&id, r, 0) >= 0 && zmq_msg_more(&id) &&
			    zmq_msg_recv(&msg, r, 0) >= 0) {
				if (zmq_msg_more(&msg))
					p->bad_frames++;
				else if (!peer_frame(p, r, &id, &msg))
					crashed = true;
			}
			zmq_msg_close(&id);
			zmq_msg_close(&msg);
		}
	}
	zmq_close(r);
	zmq_close(zap);
	zmq_ctx_term(ctx);
	return crashed;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	bool first = true;

	while (peer_life(p, first)) {
		first = false;
		p->down = 1;
		sleep_ms(p->down_ms);
		p->down = 0;
	}
	return NULL;
}

static void
peer_start(struct peer *p, const zkey_t *agent)
{
	p->last_hb_backlog = -1;
	assert_int_equal(key_generate(&p->skey), ZE_OK);
	memcpy(p->agent_pk, key_public(agent), KEY_PUB_LEN);
	assert_int_equal(pubkey_to_curve(p->agent_pk, p->agent_curve), ZE_OK);
	assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
	while (!p->ready)
		sleep_ms(1);
}

static void
peer_stop(struct peer *p)
{
	p->stop = 1;
	assert_int_equal(pthread_join(p->th, NULL), 0);
	key_free(&p->skey);
	/* Nothing the agent sent was ever malformed or misattributed. */
	assert_int_equal(p->bad_frames, 0);
	assert_int_equal(p->zap_denied, 0);
	assert_int_equal(p->user_mismatch, 0);
	assert_int_equal(p->agent_mismatch, 0);
}

/* ---------------------------------------------------------------- agent */

struct agent {
	char dir[256];
	zkey_t *k;
	outbox_t *ob;
	void *ctx;
	uplink_t *u;
	zbuf_t body;
	uint64_t nput;
};

static void
agent_put(struct agent *a, size_t pad, bool break_sig)
{
	uint8_t sig[KEY_SIG_LEN];
	uint64_t seq;
	zdiag_t d;

	assert_int_equal(outbox_next_seq(a->ob, &seq, &d), ZE_OK);
	assert_true(seq < MAXSEQ);
	assert_int_equal(th_meas(a->k, seq, pad, &a->body, sig), 0);
	if (break_sig)
		sig[0] ^= 0x01;
	if (outbox_put(a->ob, seq, a->body.data, a->body.len, sig, &d) !=
	    ZE_OK)
		fail_msg("put: %s", d.text);
	a->nput++;
}

static void
agent_start(struct agent *a)
{
	zdiag_t d;

	memset(a, 0, sizeof(*a));
	assert_int_equal(th_tmpdir(a->dir, sizeof(a->dir)), 0);
	assert_int_equal(key_generate(&a->k), ZE_OK);
	if (outbox_open(a->dir, 64 << 20, &a->ob, &d) != ZE_OK)
		fail_msg("open: %s", d.text);
	zbuf_init(&a->body, WIRE_MAX_MEASUREMENT);
	assert_non_null(a->ctx = zmq_ctx_new());
}

static void
agent_connect(struct agent *a, struct peer *p)
{
	struct uplink_opts o;
	char ep[64];
	zdiag_t d;

	uplink_opts_default(&o);
	o.heartbeat_ms = 300;
	o.ack_timeout_ms = 500;
	o.backoff_max_ms = 2000;
	o.retry_ms = 200;
	o.reconnect_ms = 100;
	o.reconnect_max_ms = 500;
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", p->port);
	if (uplink_new(a->ctx, ep, key_public(p->skey), a->k, a->ob, &o,
	    &a->u, &d) != ZE_OK)
		fail_msg("uplink: %s", d.text);
}

static void
agent_stop(struct agent *a)
{
	uplink_free(&a->u);
	assert_null(a->u);
	zmq_ctx_term(a->ctx);
	outbox_close(&a->ob);
	th_rmdir(a->dir);
	key_free(&a->k);
	zbuf_free(&a->body);
}

static uint64_t
backlog(struct agent *a)
{
	struct outbox_stats st;

	outbox_stats(a->ob, &st);
	return st.backlog;
}

typedef bool (*until_fn)(struct agent *a, struct peer *p);

/* The agent's poll loop, as zond-agent runs it, until until() holds. */
static void
run(struct agent *a, struct peer *p, until_fn until)
{
	int64_t deadline = ztime_mono_us() + DEADLINE_S * 1000000LL, now;
	zmq_pollitem_t it[UPLINK_POLLITEMS];
	size_t n;
	long to;
	zdiag_t d;

	for (;;) {
		now = ztime_mono_us();
		n = uplink_pollitems(a->u, it, ZARRAY_LEN(it));
		assert_int_equal(n, 2);	/* no relays: the DEALER, its monitor */
		to = uplink_timeout_ms(a->u, now);
		if (to < 0 || to > 50)
			to = 50;
		assert_true(zmq_poll(it, (int)n, to) >= 0 || errno == EINTR);
		now = ztime_mono_us();
		if (uplink_handle(a->u, now, &d) != ZE_OK)
			fail_msg("handle: %s", d.text);
		if (uplink_tick(a->u, now, &d) != ZE_OK)
			fail_msg("tick: %s", d.text);
		if (until(a, p))
			return;
		if (now > deadline) {
			struct uplink_stats us;

			uplink_stats(a->u, &us);
			fail_msg("not done after %d s: backlog %llu, "
			    "connected %d, inflight %llu, sent %llu",
			    DEADLINE_S, (unsigned long long)backlog(a),
			    (int)us.connected, (unsigned long long)us.inflight,
			    (unsigned long long)us.sent);
		}
	}
}

/* ---------------------------------------------------------------- cases */

static bool
drained_and_reported(struct agent *a, struct peer *p)
{
	return backlog(a) == 0 && p->last_hb_backlog == 0;
}

/* Everything goes, big items split by the 1 MiB frame limit; a later
 * heartbeat reports the empty outbox. */
static void
t_deliver_all(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct agent a;
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	assert_non_null(p);
	agent_start(&a);
	for (int i = 0; i < 40; i++)
		agent_put(&a, 60000, false);	/* 40 x ~60 KB > 2 MiB */
	for (int i = 0; i < 1000; i++)
		agent_put(&a, (size_t)(i * 7 % 2000), false);
	peer_start(p, a.k);
	agent_connect(&a, p);
	run(&a, p, drained_and_reported);
	outbox_stats(a.ob, &os);
	uplink_stats(a.u, &us);
	agent_stop(&a);
	peer_stop(p);
	for (uint64_t s = 1; s <= 1040; s++)
		if (p->stored[s] == 0)
			fail_msg("seq %llu never stored",
			    (unsigned long long)s);
	assert_int_equal(os.rejected, 0);
	assert_int_equal(os.dropped, 0);
	assert_int_equal(us.acked, 1040);
	assert_true(p->hellos >= 1);
	/* Hello told the aggregator what was waiting. */
	assert_int_equal(p->hello_last_seq, 1040);
	assert_int_equal(p->hello_backlog, 1040);
	assert_true(p->hello_version_ok);
	assert_true(p->heartbeats >= 1);
	assert_int_equal(p->bad_sigs, 0);
	/* The big ones cannot share one 1 MiB frame. */
	assert_true(p->batches >= 3);
	free(p);
}

static bool
restart_done(struct agent *a, struct peer *p)
{
	/* While the peer is down the agent keeps measuring. */
	for (int i = 0; i < 20 && p->down && a->nput < 1700; i++)
		agent_put(a, 100, false);
	return a->nput == 1700 && backlog(a) == 0;
}

/* The peer dies after receiving a batch, before acking it, and comes back
 * on the same port: everything arrives, the outbox empties. */
static void
t_peer_restart(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct agent a;
	struct outbox_stats os;
	struct uplink_stats us;
	size_t dups = 0;

	(void)state;
	assert_non_null(p);
	agent_start(&a);
	for (int i = 0; i < 1500; i++)
		agent_put(&a, (size_t)(i % 500), false);
	p->crash_after = 2;
	p->down_ms = 2000;
	peer_start(p, a.k);
	agent_connect(&a, p);
	run(&a, p, restart_done);
	outbox_stats(a.ob, &os);
	uplink_stats(a.u, &us);
	agent_stop(&a);
	peer_stop(p);
	for (uint64_t s = 1; s <= 1700; s++) {
		if (p->stored[s] == 0)
			fail_msg("seq %llu never stored",
			    (unsigned long long)s);
		if (p->seen[s] > 1)
			dups++;
	}
	/* The batch the dead peer swallowed was sent again. */
	assert_true(dups > 0);
	assert_true(p->hellos >= 2);
	assert_true(us.connects >= 2);
	assert_int_equal(os.rejected, 0);
	assert_int_equal(os.dropped, 0);
	free(p);
}

static bool
drained(struct agent *a, struct peer *p)
{
	(void)p;
	return backlog(a) == 0;
}

/* REJECT_BAD_SIGNATURE: dropped, counted, never stored. */
static void
t_bad_signature(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct agent a;
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	assert_non_null(p);
	agent_start(&a);
	for (int i = 1; i <= 60; i++)
		agent_put(&a, 200, i % 10 == 3);
	peer_start(p, a.k);
	agent_connect(&a, p);
	run(&a, p, drained);
	outbox_stats(a.ob, &os);
	uplink_stats(a.u, &us);
	agent_stop(&a);
	peer_stop(p);
	assert_int_equal(os.rejected, 6);
	assert_int_equal(os.dropped, 0);
	assert_int_equal(us.dropped, 6);
	assert_true(p->bad_sigs >= 6);
	for (uint64_t s = 1; s <= 60; s++) {
		if (s % 10 == 3)
			assert_int_equal(p->stored[s], 0);
		else if (p->stored[s] == 0)
			fail_msg("seq %llu never stored",
			    (unsigned long long)s);
	}
	free(p);
}

/* Put n measurements (pad bytes each), serve them to peer p (its modes
 * set) until the outbox is empty, and return the figures. */
static void
serve_all(struct peer *p, int n, size_t pad, struct outbox_stats *os,
    struct uplink_stats *us)
{
	struct agent a;

	assert_non_null(p);
	agent_start(&a);
	for (int i = 0; i < n; i++)
		agent_put(&a, pad, false);
	peer_start(p, a.k);
	agent_connect(&a, p);
	run(&a, p, drained);
	outbox_stats(a.ob, os);
	uplink_stats(a.u, us);
	agent_stop(&a);
	peer_stop(p);
}

/* Every seq 1..n stored by the peer. */
static void
all_stored(const struct peer *p, uint64_t n)
{
	for (uint64_t s = 1; s <= n; s++)
		if (p->stored[s] == 0)
			fail_msg("seq %llu never stored",
			    (unsigned long long)s);
}

/* REJECT_STORAGE: kept, resent later, all stored in the end. */
static void
t_storage_retry(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	p->storage_batches = 3;
	serve_all(p, 600, 300, &os, &us);
	assert_int_equal(os.rejected, 0);
	assert_int_equal(os.dropped, 0);
	assert_true(us.deferred > 0);
	/* The first batch was refused, so it went out again. */
	assert_true(p->seen[1] >= 2);
	all_stored(p, 600);
	free(p);
}

/* No answer at all: after the ack timeout everything is sent again. */
static void
t_silent_peer(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	p->silent_batches = 2;
	serve_all(p, 300, 100, &os, &us);
	assert_true(us.resends >= 1);
	assert_int_equal(us.connects, 1);	/* no reconnect was needed */
	assert_true(p->seen[1] >= 2);
	assert_int_equal(os.rejected, 0);
	all_stored(p, 300);
	free(p);
}

/* A frame limit below 1 MiB: frames refused whole, the agent halves its
 * batches until they pass; nothing dropped, nothing held. */
static void
t_small_frames(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	p->max_frame = 200 * 1024;
	serve_all(p, 200, 10000, &os, &us);
	assert_true(p->oversized >= 1);
	assert_int_equal(us.oversized, (uint64_t)p->oversized);
	assert_true(us.frame_budget <= 200 * 1024);
	assert_int_equal(us.deferred, 0);
	assert_int_equal(os.rejected, 0);
	assert_int_equal(os.dropped, 0);
	all_stored(p, 200);
	free(p);
}

/* Permanent rejects that name no seq: counted, no hold, all delivered;
 * REJECT_DUPLICATE_ID: dropped like any permanent reject. */
static void
t_unnamed_and_dupid(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct outbox_stats os;
	struct uplink_stats us;

	(void)state;
	p->unnamed_acks = 3;
	p->dupid_mod = 50;
	serve_all(p, 400, 100, &os, &us);
	assert_true(p->unnamed_sent >= 1);
	assert_int_equal(us.unnamed, (uint64_t)p->unnamed_sent);
	assert_int_equal(us.deferred, 0);
	assert_int_equal(os.rejected, 8);	/* seqs 1, 51, ..., 351 */
	for (uint64_t s = 1; s <= 400; s++) {
		if (s % 50 == 1)
			assert_int_equal(p->stored[s], 0);
		else if (p->stored[s] == 0)
			fail_msg("seq %llu never stored",
			    (unsigned long long)s);
	}
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_deliver_all),
		cmocka_unit_test(t_peer_restart),
		cmocka_unit_test(t_bad_signature),
		cmocka_unit_test(t_storage_retry),
		cmocka_unit_test(t_silent_peer),
		cmocka_unit_test(t_small_frames),
		cmocka_unit_test(t_unnamed_and_dupid),
	};

	if (sodium_init() < 0)
		return 1;
	log_init("test_uplink", getenv("ZOND_TEST_DEBUG") != NULL ?
	    LOG_LVL_DEBUG : LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
