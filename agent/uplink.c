/*
 * uplink.c — see uplink.h.
 *
 * State: `cursor` is the highest seq sent since the last rewind; the
 * outbox holds seqs in put order, so the next batch is simply the items
 * above the cursor.  `inflight` is the sorted list of seqs sent and not yet
 * acked or refused (at most `window` of them).  A rewind (reconnect,
 * timeout, end of a retry delay) empties both, so everything still in the
 * outbox goes out again from the oldest.  Acks for seqs no longer in
 * flight (replies to an earlier round) are still applied to the outbox;
 * a permanent reject deletes only a seq in flight now, so a stray one
 * costs a resend, never data.
 *
 * Every downlink frame is one ZeroMQ part of at most WIRE_MAX_FRAME bytes
 * (ZMQ_MAXMSGSIZE also refuses larger ones at the transport) and is
 * decoded by wire_downlink_decode, which checks size, version and oneof.
 */
#include "uplink.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "log.h"
#include "relay.h"
#include "version.h"
#include "zbuf.h"
#include "ztime.h"

#define MS 1000LL
#define BATCH_SLACK 64		/* Uplink + Batch headers */
#define ITEM_OVERHEAD 32	/* tags and lengths of one item */
#define RECV_BURST 1024		/* messages handled per uplink_handle */
#define BLOCKED_RETRY_MS 100	/* when ZeroMQ refused a send */
#define DROP_CHUNK 256
#define ZMTP_HEARTBEAT_MS 10000
#define ZMTP_HEARTBEAT_TIMEOUT_MS 30000
/* smallest batch budget: one largest measurement always fits */
#define MIN_BUDGET (WIRE_MAX_MEASUREMENT + KEY_SIG_LEN + ITEM_OVERHEAD + \
	BATCH_SLACK)

struct uplink {
	void *sock;		/* DEALER, CURVE client */
	void *mon;		/* PAIR receiving sock's monitor events */
	char mon_ep[64];
	char endpoint[256];	/* for logs */
	outbox_t *ob;
	struct uplink_opts o;
	int64_t start_us;

	bool connected;
	bool need_hello;	/* connected, Hello not sent yet */
	bool blocked;		/* ZeroMQ refused the last send (HWM) */
	unsigned last_fail;	/* last handshake failure event logged */
	int64_t redial_at;	/* refused handshake: dial again then (0: no) */
	int64_t redial_us;	/* current delay before dialling again */

	uint64_t cursor;	/* highest seq sent this round */
	uint64_t *inflight;	/* sorted, n_inflight of window */
	size_t n_inflight;
	size_t window;
	int64_t progress_us;	/* last ack, or first send when idle */
	int64_t rto_us;		/* current resend timeout */
	int64_t retry_us;	/* current delay after a temporary reject */
	bool hold;		/* temporary reject: wait for hold_until */
	int64_t hold_until;
	int64_t next_hb;
	int64_t status_boot_us;	/* CLOCK_BOOTTIME: last Hello/Heartbeat */

	size_t budget;		/* bytes a batch frame may have */
	int64_t unnamed_logged;	/* last log of an unnamed reject */
	zbuf_t frame;		/* encoded outgoing message */
	zbuf_t arena;		/* copies of the items of the next batch */
	struct uplink_stats st;

	/* HTTPS relays (NULL: none) */
	relay_t *relay;
	bool via_relay;		/* frames go to the relay, not the DEALER */
	bool relay_hello;	/* Hello to send through the relay first */
	bool relay_hello_out;	/* the exchange under way carries a Hello */
	int64_t zmq_good_us;	/* CurveZMQ last seen working */
	int64_t probe_at;	/* via relay: next Hello over CurveZMQ */
	int64_t relay_boot_us;	/* CLOCK_BOOTTIME: last relay Hello/HB */
	zbuf_t dl;		/* a verified Downlink from the relay */
};

void
uplink_opts_default(struct uplink_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->heartbeat_ms = 30000;
	o->window = 512;
	o->ack_timeout_ms = 10000;
	o->backoff_max_ms = 60000;
	o->retry_ms = 1000;
	o->reconnect_ms = 1000;
	o->reconnect_max_ms = 60000;
	o->relay_after_ms = 60000;
	o->relay_timeout_ms = 30000;
}

/* Untrusted text (a Reject's detail), at most DETAIL_MAX bytes of it,
 * quoted as one key=value value (kv.h). */
#define DETAIL_MAX 120
#define DETAIL_BUF KV_QUOTED_LEN(DETAIL_MAX)

static const char *
clean(const char *s, char *buf, size_t n)
{
	char cut[DETAIL_MAX + 1];

	snprintf(cut, sizeof(cut), "%s", s != NULL ? s : "");
	return kv_quote(cut, true, buf, n);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ---------------------------------------------------------------- flight */

static void
rewind_stream(uplink_t *u)
{
	u->cursor = 0;
	u->n_inflight = 0;
	u->blocked = false;
}

static bool
inflight_remove(uplink_t *u, uint64_t seq)
{
	size_t lo = 0, hi = u->n_inflight, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->inflight[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == u->n_inflight || u->inflight[lo] != seq)
		return false;
	memmove(&u->inflight[lo], &u->inflight[lo + 1],
	    (u->n_inflight - lo - 1) * sizeof(u->inflight[0]));
	u->n_inflight--;
	return true;
}

/* ---------------------------------------------------------------- send */

/* Send the packed frame, through the relay when relay (one exchange at
 * a time: false while one is under way) else the DEALER; false when it
 * would block or failed. */
static bool
send_frame(uplink_t *u, const ProtobufCMessage *m, bool relay)
{
	zdiag_t d;
	zerr_t e;

	zbuf_reset(&u->frame);
	if ((e = wire_pack(m, &u->frame)) != ZE_OK) {
		log_warnx("uplink: cannot encode a message: %s", zerr_str(e));
		return false;
	}
	if (relay) {
		int64_t now = ztime_mono_us();

		if (!relay_ready(u->relay, now))
			return false;
		if (relay_send(u->relay, u->frame.data, u->frame.len, now,
		    &d) != ZE_OK) {
			log_warnx("uplink: %s", d.text);
			return false;
		}
		return true;
	}
	if (zmq_send(u->sock, u->frame.data, u->frame.len, ZMQ_DONTWAIT) < 0) {
		if (errno != EAGAIN)
			log_warnx("uplink: send: %s", zmq_strerror(errno));
		u->blocked = true;
		return false;
	}
	u->blocked = false;
	return true;
}

static bool
send_hello(uplink_t *u, bool relay)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Hello h = ZOND__V1__HELLO__INIT;
	struct outbox_stats os;

	outbox_stats(u->ob, &os);
	h.agent_version = (char *)(uintptr_t)u->o.agent_version;
	h.has_clock_us = h.has_backlog = h.has_dropped = 1;
	h.has_last_seq = h.has_list_version = 1;
	h.clock_us = ztime_now_us();
	h.backlog = os.backlog;
	h.dropped = os.dropped;
	h.last_seq = os.last_seq;
	h.list_version = u->o.list_version;
	if (u->o.clock != NULL && u->o.clock->have_boot) {
		h.has_boot_id = h.has_boot_us = 1;
		h.boot_id.data = u->o.clock->boot_id;
		h.boot_id.len = ZCLOCK_BOOT_ID_LEN;
		h.boot_us = (uint64_t)ztime_boot_us();
	}
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_HELLO;
	up.hello = &h;
	if (!send_frame(u, &up.base, relay))
		return false;
	*(relay ? &u->relay_boot_us : &u->status_boot_us) = (int64_t)h.boot_us;
	if (relay)	/* a CurveZMQ probe leaves the relay's state alone */
		u->relay_hello_out = true;
	return true;
}

static bool
send_heartbeat(uplink_t *u, int64_t now_us)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Heartbeat hb = ZOND__V1__HEARTBEAT__INIT;
	struct outbox_stats os;

	outbox_stats(u->ob, &os);
	hb.has_clock_us = hb.has_backlog = hb.has_dropped = 1;
	hb.has_uptime_s = hb.has_list_version = 1;
	hb.clock_us = ztime_now_us();
	hb.backlog = os.backlog;
	hb.dropped = os.dropped;
	hb.uptime_s = (uint64_t)((now_us - u->start_us) / (1000 * MS));
	hb.list_version = u->o.list_version;
	if (u->o.clock != NULL && u->o.clock->have_boot) {
		hb.has_boot_id = hb.has_boot_us = 1;
		hb.boot_id.data = u->o.clock->boot_id;
		hb.boot_id.len = ZCLOCK_BOOT_ID_LEN;
		hb.boot_us = (uint64_t)ztime_boot_us();
	}
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_HEARTBEAT;
	up.heartbeat = &hb;
	if (!send_frame(u, &up.base, u->via_relay))
		return false;
	*(u->via_relay ? &u->relay_boot_us : &u->status_boot_us) =
	    (int64_t)hb.boot_us;
	if (u->via_relay)
		u->relay_hello_out = false;
	return true;
}

/* Items of the batch being built: copies in the arena, by offset. */
struct batch {
	uplink_t *u;
	size_t max;
	size_t n;
	size_t bytes;		/* encoded size, upper bound */
	bool full;		/* arena refused an item */
	uint64_t seq[WIRE_MAX_BATCH];
	size_t off[WIRE_MAX_BATCH];
	size_t len[WIRE_MAX_BATCH];
	Zond__V1__SignedMeasurement sm[WIRE_MAX_BATCH];
	Zond__V1__SignedMeasurement *items[WIRE_MAX_BATCH];
};

static int
collect(const struct outbox_item *it, void *arg)
{
	struct batch *b = arg;
	size_t cost = it->len + KEY_SIG_LEN + ITEM_OVERHEAD;
	size_t off = b->u->arena.len;

	if (b->n > 0 && b->bytes + cost > b->u->budget - BATCH_SLACK)
		return 1;
	if (zbuf_append(&b->u->arena, it->sig, KEY_SIG_LEN) != ZE_OK ||
	    zbuf_append(&b->u->arena, it->body, it->len) != ZE_OK) {
		b->u->arena.len = off;
		b->full = true;
		return 1;
	}
	b->seq[b->n] = it->seq;
	b->off[b->n] = off;
	b->len[b->n] = it->len;
	b->bytes += cost;
	b->n++;
	return b->n == b->max;
}

/*
 * Send one batch of the items above the cursor.  *sent gets how many went
 * out (0: nothing to send, or ZeroMQ would block).
 */
static zerr_t
send_batch(uplink_t *u, int64_t now_us, size_t *sent, zdiag_t *d)
{
	Zond__V1__Batch batch = ZOND__V1__BATCH__INIT;
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	struct batch *b;
	size_t room = u->window - u->n_inflight;
	zerr_t e;

	*sent = 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return ZE_NOMEM;
	b->u = u;
	b->max = room < WIRE_MAX_BATCH ? room : WIRE_MAX_BATCH;
	zbuf_reset(&u->arena);
	e = outbox_iter(u->ob, u->cursor + 1, b->max, collect, b, NULL, d);
	if (e != ZE_OK || b->n == 0)
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		Zond__V1__SignedMeasurement *sm = &b->sm[i];

		zond__v1__signed_measurement__init(sm);
		sm->has_sig = sm->has_body = 1;
		sm->sig.data = u->arena.data + b->off[i];
		sm->sig.len = KEY_SIG_LEN;
		sm->body.data = u->arena.data + b->off[i] + KEY_SIG_LEN;
		sm->body.len = b->len[i];
		b->items[i] = sm;
	}
	batch.n_items = b->n;
	batch.items = b->items;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &batch;
	if (!send_frame(u, &up.base, u->via_relay))
		goto out;
	if (u->via_relay)
		u->relay_hello_out = false;
	if (u->n_inflight == 0)
		u->progress_us = now_us;
	/* Seqs above the cursor, ascending: the list stays sorted. */
	memcpy(&u->inflight[u->n_inflight], b->seq, b->n * sizeof(b->seq[0]));
	u->n_inflight += b->n;
	u->cursor = b->seq[b->n - 1];
	u->st.sent += b->n;
	u->st.batches++;
	*sent = b->n;
	log_debug("uplink: batch n=%zu first_seq=%llu last_seq=%llu "
	    "inflight=%zu", b->n, (unsigned long long)b->seq[0],
	    (unsigned long long)u->cursor, u->n_inflight);
out:
	free(b);
	return e;
}

/* ---------------------------------------------------------------- receive */

static bool
reject_is_permanent(int r)
{
	switch (r) {
	case ZOND__V1__REJECT_REASON__REJECT_BAD_SIGNATURE:
	case ZOND__V1__REJECT_REASON__REJECT_MALFORMED:
	case ZOND__V1__REJECT_REASON__REJECT_OVERSIZED:
	case ZOND__V1__REJECT_REASON__REJECT_CLOCK:
	case ZOND__V1__REJECT_REASON__REJECT_AGENT_MISMATCH:
	case ZOND__V1__REJECT_REASON__REJECT_DUPLICATE_ID:
		return true;
	default:
		/* STORAGE, UNKNOWN_AGENT, DISABLED, VERSION, and reasons
		 * newer than this agent: keep the data, try again later. */
		return false;
	}
}

/* A temporary refusal: stop sending batches for the retry delay. */
static void
defer(uplink_t *u, int64_t now_us, int reason, const char *detail)
{
	char buf[DETAIL_BUF];

	u->st.deferred++;
	if (u->hold)
		return;
	u->hold = true;
	u->hold_until = now_us + u->retry_us;
	log_warnx("uplink: aggregator refused for now reason=%s detail=%s"
	    " retry_in_ms=%lld", wire_reject_name(reason),
	    clean(detail, buf, sizeof(buf)), (long long)(u->retry_us / MS));
	u->retry_us = min64(u->retry_us * 2, u->o.backoff_max_ms * MS);
}

/*
 * A permanent reject that names no measurement: the aggregator could not
 * read the seq of an item (it never can of a body that is not a protobuf
 * encoding).  Nothing can be dropped; counted, logged at most once a
 * minute, and no hold: the other measurements keep flowing, and the item
 * goes out again after ack_timeout like any unanswered one.
 */
static void
unnamed(uplink_t *u, int64_t now_us, int reason, const char *detail)
{
	char buf[DETAIL_BUF];

	u->st.unnamed++;
	if (u->unnamed_logged != 0 && now_us - u->unnamed_logged <
	    60 * 1000 * MS)
		return;
	u->unnamed_logged = now_us;
	log_warnx("uplink: aggregator refused a measurement it could not "
	    "name reason=%s detail=%s unnamed_total=%llu",
	    wire_reject_name(reason), clean(detail, buf, sizeof(buf)),
	    (unsigned long long)u->st.unnamed);
}

struct drops {
	uint64_t seq[DROP_CHUNK];
	size_t n;
	int reason;
};

static zerr_t
drops_flush(uplink_t *u, struct drops *dr, zdiag_t *d)
{
	size_t del = 0;
	zerr_t e;

	if (dr->n == 0)
		return ZE_OK;
	e = outbox_drop(u->ob, dr->seq, dr->n, wire_reject_name(dr->reason),
	    &del, d);
	u->st.dropped += del;
	dr->n = 0;
	return e;
}

static zerr_t
drops_add(uplink_t *u, struct drops *dr, uint64_t seq, int reason,
    zdiag_t *d)
{
	zerr_t e = ZE_OK;

	if (dr->n == DROP_CHUNK || (dr->n > 0 && dr->reason != reason))
		e = drops_flush(u, dr, d);
	dr->reason = reason;
	dr->seq[dr->n++] = seq;
	return e;
}

static zerr_t
handle_ack(uplink_t *u, const Zond__V1__Ack *a, int64_t now_us, zdiag_t *d)
{
	struct drops dr;
	bool temp = false, was;
	size_t del = 0;
	uint64_t logged = u->st.dropped;
	zerr_t e, first = ZE_OK;
	char buf[DETAIL_BUF];

	dr.n = 0;
	dr.reason = 0;
	for (size_t i = 0; i < a->n_seqs; i++)
		inflight_remove(u, a->seqs[i]);
	if (a->n_seqs > 0) {
		if ((e = outbox_ack(u->ob, a->seqs, a->n_seqs, &del, d)) !=
		    ZE_OK)
			first = e;
		u->st.acked += del;
		u->progress_us = now_us;
		u->rto_us = u->o.ack_timeout_ms * MS;
	}
	for (size_t i = 0; i < a->n_rejects; i++) {
		const Zond__V1__Reject *r = a->rejects[i];
		int reason = r->has_reason ? (int)r->reason : 0;

		if (!r->has_seq && reject_is_permanent(reason)) {
			unnamed(u, now_us, reason, r->detail);
			continue;
		}
		if (!r->has_seq) {
			temp = true;
			defer(u, now_us, reason, r->detail);
			continue;
		}
		was = inflight_remove(u, r->seq);
		if (reject_is_permanent(reason) && !was) {
			/* Not sent this round (a late answer to an earlier
			 * one): it goes out again and is judged then. */
			log_debug("uplink: reject for seq=%llu not in flight",
			    (unsigned long long)r->seq);
		} else if (reject_is_permanent(reason)) {
			/* One warning per Ack; outbox_drop logs the count. */
			if (dr.n == 0 && u->st.dropped == logged)
				log_warnx("uplink: measurement refused "
				    "seq=%llu reason=%s detail=%s",
				    (unsigned long long)r->seq,
				    wire_reject_name(reason),
				    clean(r->detail, buf, sizeof(buf)));
			else
				log_debug("uplink: measurement refused "
				    "seq=%llu reason=%s",
				    (unsigned long long)r->seq,
				    wire_reject_name(reason));
			if ((e = drops_add(u, &dr, r->seq, reason, d)) !=
			    ZE_OK && first == ZE_OK)
				first = e;
		} else {
			temp = true;
			defer(u, now_us, reason, r->detail);
		}
	}
	if ((e = drops_flush(u, &dr, d)) != ZE_OK && first == ZE_OK)
		first = e;
	if (a->n_seqs > 0 && !temp)
		u->retry_us = u->o.retry_ms * MS;
	return first;
}

static zerr_t
handle_reject(uplink_t *u, const Zond__V1__Reject *r, int64_t now_us,
    zdiag_t *d)
{
	int reason = r->has_reason ? (int)r->reason : 0;
	char buf[DETAIL_BUF];
	size_t del = 0;
	zerr_t e;

	if (r->has_seq && reject_is_permanent(reason)) {
		if (!inflight_remove(u, r->seq))
			return ZE_OK;	/* not sent this round; see above */
		log_warnx("uplink: measurement refused seq=%llu reason=%s "
		    "detail=%s", (unsigned long long)r->seq,
		    wire_reject_name(reason), clean(r->detail, buf,
		    sizeof(buf)));
		e = outbox_drop(u->ob, &r->seq, 1, wire_reject_name(reason),
		    &del, d);
		u->st.dropped += del;
		return e;
	}
	if (!r->has_seq && reason ==
	    ZOND__V1__REJECT_REASON__REJECT_OVERSIZED) {
		/* a frame of ours was too large for this aggregator: smaller
		 * batches from now on, everything sent again */
		u->st.oversized++;
		if (u->budget / 2 >= MIN_BUDGET)
			u->budget /= 2;
		else
			u->budget = MIN_BUDGET;
		log_warnx("uplink: aggregator refused a frame as too large "
		    "detail=%s; batches of at most %zu bytes from now on",
		    clean(r->detail, buf, sizeof(buf)), u->budget);
		rewind_stream(u);
		return ZE_OK;
	}
	if (!r->has_seq && reject_is_permanent(reason)) {
		unnamed(u, now_us, reason, r->detail);
		return ZE_OK;
	}
	/* A whole frame refused for now (version, unknown or disabled
	 * agent): keep everything, wait, then send it all again. */
	defer(u, now_us, reason, r->detail);
	return ZE_OK;
}

/* ---------------------------------------------------------------- relays */

/* CurveZMQ has failed for relay_after: the same stream through the
 * relays, from the oldest unacknowledged, Hello first. */
static void
to_relay(uplink_t *u, int64_t now_us)
{
	u->via_relay = true;
	u->relay_hello = true;
	u->hold = false;
	u->rto_us = u->o.ack_timeout_ms * MS;
	u->probe_at = now_us + u->o.relay_after_ms * MS;
	u->st.relay_switches++;
	rewind_stream(u);
	log_warnx("uplink: CurveZMQ has not worked for %lld s (connected=%d);"
	    " sending through the HTTPS relays", (long long)((now_us -
	    u->zmq_good_us) / (1000 * MS)), (int)u->connected);
}

/* CurveZMQ answered: back to it, everything unacknowledged again. */
static void
back_to_zmq(uplink_t *u, int64_t now_us)
{
	u->via_relay = false;
	u->relay_hello = false;
	u->hold = false;
	u->zmq_good_us = now_us;
	u->rto_us = u->o.ack_timeout_ms * MS;
	u->next_hb = now_us + u->o.heartbeat_ms * MS;
	u->st.zmq_returns++;
	rewind_stream(u);
	log_info("uplink: CurveZMQ works again endpoint=%s; leaving the "
	    "HTTPS relays", u->endpoint);
}

/* ---------------------------------------------------------------- frames */

static zerr_t
handle_frame(uplink_t *u, const uint8_t *p, size_t n, int64_t now_us,
    bool from_relay, zdiag_t *d)
{
	wire_downlink_t *m;
	zdiag_t why;
	zerr_t e = ZE_OK;

	if (wire_downlink_decode(p, n, &m, &why) != ZE_OK) {
		u->st.bad_frames++;
		log_warnx("uplink: refused a downlink frame%s: %s", from_relay ?
		    " (relay)" : "", why.text);
		return ZE_OK;
	}
	if (!from_relay) {
		/* the aggregator answered over CurveZMQ: it works */
		u->zmq_good_us = now_us;
		if (u->via_relay)
			back_to_zmq(u, now_us);
	}
	/* every Downlink carries the aggregator's clock; only the answer to
	 * a Hello or Heartbeat (the time reply, no message) comes at once,
	 * so only it has a round trip to correct by */
	if (m->has_server_us && u->o.clock != NULL) {
		bool precise = m->msg_case == ZOND__V1__DOWNLINK__MSG__NOT_SET;

		aclock_learn(u->o.clock, precise ? (from_relay ?
		    u->relay_boot_us : u->status_boot_us) : 0,
		    ztime_boot_us(), m->server_us, precise);
	}
	switch (m->msg_case) {
	case ZOND__V1__DOWNLINK__MSG__NOT_SET:
		break;		/* a time reply */
	case ZOND__V1__DOWNLINK__MSG_ACK:
		e = handle_ack(u, m->ack, now_us, d);
		break;
	case ZOND__V1__DOWNLINK__MSG_REJECT:
		e = handle_reject(u, m->reject, now_us, d);
		break;
	case ZOND__V1__DOWNLINK__MSG_TEST_LIST:
		if (u->o.on_test_list != NULL)
			u->o.on_test_list(m->test_list, u->o.arg);
		else
			log_debug("uplink: test list ignored (no handler)");
		break;
	default:
		u->st.bad_frames++;
		log_warnx("uplink: downlink message %d not understood",
		    (int)m->msg_case);
		break;
	}
	wire_downlink_free(m);
	return e;
}

/* Receive and discard the remaining parts of a multi-part message. */
static void
drain_parts(void *sock)
{
	zmq_msg_t m;
	int more;

	do {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	} while (more);
}

static const char *
event_name(unsigned ev)
{
	switch (ev) {
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		return "handshake failed";
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		return "handshake failed (protocol; wrong server key?)";
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		return "handshake refused (is this agent enrolled?)";
	default:
		return "event";
	}
}

static void
handle_event(uplink_t *u, unsigned ev, uint32_t val, int64_t now_us)
{
	switch (ev) {
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		u->redial_at = 0;
		u->redial_us = 0;
		u->connected = true;
		u->need_hello = true;
		u->last_fail = 0;
		if (u->via_relay) {
			/* the relays keep the stream until CurveZMQ answers
			 * its Hello; an aggregator that cannot (no boot id
			 * in the Hello, no time reply) is trusted now */
			log_info("uplink: CurveZMQ handshake endpoint=%s; "
			    "still on the relays until it answers",
			    u->endpoint);
			u->probe_at = now_us;
			if (u->o.clock == NULL || !u->o.clock->have_boot)
				back_to_zmq(u, now_us);
			break;
		}
		u->hold = false;
		u->rto_us = u->o.ack_timeout_ms * MS;
		u->st.connects++;
		rewind_stream(u);
		log_info("uplink: connected endpoint=%s", u->endpoint);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		if (u->connected)
			log_info("uplink: disconnected inflight=%zu",
			    u->n_inflight);
		u->connected = false;
		u->need_hello = false;
		if (!u->via_relay)
			rewind_stream(u);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		if (u->last_fail != ev)
			log_warnx("uplink: %s value=%u", event_name(ev), val);
		else
			log_debug("uplink: %s value=%u", event_name(ev), val);
		u->last_fail = ev;
		/*
		 * libzmq does not dial again after the server refused the
		 * handshake (ZAP: not enrolled yet, disabled), so an agent
		 * enrolled later would never get in: dial again ourselves,
		 * backing off from 5 s to 5 min.
		 */
		if (u->redial_at == 0) {
			u->redial_us = u->redial_us == 0 ? 5000 * MS :
			    min64(u->redial_us * 2, 300000 * MS);
			u->redial_at = now_us + u->redial_us;
		}
		break;
	default:
		break;
	}
}

/* One monitor message: [6 bytes: u16 event, u32 value][endpoint]. */
static bool
recv_event(uplink_t *u, int64_t now_us)
{
	zmq_msg_t m;
	uint16_t ev;
	uint32_t val;
	bool ok;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, u->mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return false;
	}
	ok = zmq_msg_size(&m) == 6 && zmq_msg_more(&m);
	if (ok) {
		memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
		memcpy(&val, (uint8_t *)zmq_msg_data(&m) + 2, sizeof(val));
	}
	if (zmq_msg_more(&m))
		drain_parts(u->mon);
	zmq_msg_close(&m);
	if (ok)
		handle_event(u, ev, val, now_us);
	return true;
}

zerr_t
uplink_handle(uplink_t *u, int64_t now_us, zdiag_t *d)
{
	zmq_msg_t m;
	zerr_t e, first = ZE_OK;
	int i;

	/* Events first: a reconnect rewinds before new acks arrive. */
	for (i = 0; i < RECV_BURST && recv_event(u, now_us); i++)
		;
	for (i = 0; i < RECV_BURST; i++) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, u->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			if (errno != EAGAIN && errno != EINTR)
				log_warnx("uplink: receive: %s",
				    zmq_strerror(errno));
			break;
		}
		if (zmq_msg_more(&m)) {
			drain_parts(u->sock);
			u->st.bad_frames++;
			log_warnx("uplink: refused a multi-part downlink "
			    "message");
		} else {
			e = handle_frame(u, zmq_msg_data(&m), zmq_msg_size(&m),
			    now_us, false, d);
			if (e != ZE_OK && first == ZE_OK)
				first = e;
		}
		zmq_msg_close(&m);
	}
	if (u->relay != NULL) {
		enum relay_outcome oc = relay_poll(u->relay, now_us, &u->dl);

		if (oc == RELAY_DOWNLINK) {
			u->st.relay_ok++;
			e = handle_frame(u, u->dl.data, u->dl.len, now_us, true,
			    d);
			if (e != ZE_OK && first == ZE_OK)
				first = e;
		} else if (oc == RELAY_TOOLARGE && u->via_relay) {
			/* as a frame refused REJECT_OVERSIZED: smaller
			 * batches, the same items again */
			u->st.relay_failed++;
			u->st.oversized++;
			u->budget = u->budget / 2 >= MIN_BUDGET ? u->budget / 2 :
			    MIN_BUDGET;
			log_warnx("uplink: the relay refused a request as too "
			    "large; batches of at most %zu bytes from now on",
			    u->budget);
			if (u->relay_hello_out)
				u->relay_hello = true;
			rewind_stream(u);
		} else if (oc == RELAY_FAILED && u->via_relay) {
			/* not acknowledged: the same items go again, from
			 * the oldest, once the relays are ready */
			u->st.relay_failed++;
			if (u->relay_hello_out)
				u->relay_hello = true;
			rewind_stream(u);
		} else if (oc != RELAY_NONE) {
			u->st.relay_failed++;
		}
	}
	return first;
}

/* ---------------------------------------------------------------- tick */

/* Through the relays: one exchange at a time, the Hello first, then a
 * heartbeat when due, else the next batch the window allows.  CurveZMQ,
 * once connected, gets a Hello now and then: its answer ends this. */
static zerr_t
tick_relay(uplink_t *u, int64_t now_us, zdiag_t *d)
{
	size_t sent;

	if (u->connected && (u->need_hello || now_us >= u->probe_at)) {
		if (send_hello(u, false)) {
			u->need_hello = false;
			u->probe_at = now_us + u->o.relay_after_ms * MS;
		}
	}
	if (!relay_ready(u->relay, now_us))
		return ZE_OK;
	if (u->relay_hello) {
		if (send_hello(u, true)) {
			u->relay_hello = false;
			u->next_hb = now_us + u->o.heartbeat_ms * MS;
		}
		return ZE_OK;
	}
	if (now_us >= u->next_hb) {
		if (send_heartbeat(u, now_us)) {
			u->st.heartbeats++;
			u->next_hb = now_us + u->o.heartbeat_ms * MS;
		}
		return ZE_OK;
	}
	if (u->hold || u->n_inflight >= u->window)
		return ZE_OK;
	return send_batch(u, now_us, &sent, d);
}

zerr_t
uplink_tick(uplink_t *u, int64_t now_us, zdiag_t *d)
{
	size_t sent;
	zerr_t e;

	if (u->hold && now_us >= u->hold_until) {
		u->hold = false;
		rewind_stream(u);
	}
	if (u->n_inflight > 0 && now_us - u->progress_us >= u->rto_us) {
		log_info("uplink: no ack for %lld ms; resending from the "
		    "oldest inflight=%zu connected=%d",
		    (long long)(u->rto_us / MS), u->n_inflight,
		    (int)u->connected);
		u->st.resends++;
		u->rto_us = min64(u->rto_us * 2, u->o.backoff_max_ms * MS);
		rewind_stream(u);
	}
	if (!u->connected && u->redial_at != 0 && now_us >= u->redial_at) {
		u->redial_at = 0;
		log_info("uplink: dialling %s again after a refused handshake",
		    u->endpoint);
		(void)zmq_disconnect(u->sock, u->endpoint);
		if (zmq_connect(u->sock, u->endpoint) != 0)
			log_warnx("uplink: connect %s: %s", u->endpoint,
			    zmq_strerror(errno));
	}
	if (u->relay != NULL && !u->via_relay) {
		if (u->connected && u->n_inflight == 0 && !u->need_hello &&
		    !u->blocked)
			u->zmq_good_us = now_us;	/* idle and connected */
		else if (now_us - u->zmq_good_us >= u->o.relay_after_ms * MS)
			to_relay(u, now_us);
	}
	if (u->via_relay)
		return tick_relay(u, now_us, d);
	if (!u->connected)
		return ZE_OK;
	if (u->need_hello) {
		if (!send_hello(u, false))
			return ZE_OK;
		u->need_hello = false;
		u->next_hb = now_us + u->o.heartbeat_ms * MS;
	}
	if (now_us >= u->next_hb) {
		if (send_heartbeat(u, now_us))
			u->st.heartbeats++;
		u->next_hb = now_us + u->o.heartbeat_ms * MS;
	}
	if (u->hold)
		return ZE_OK;
	while (u->n_inflight < u->window) {
		if ((e = send_batch(u, now_us, &sent, d)) != ZE_OK)
			return e;
		if (sent == 0)
			break;
	}
	return ZE_OK;
}

long
uplink_timeout_ms(const uplink_t *u, int64_t now_us)
{
	int64_t due = INT64_MAX;

	if (u->hold)
		due = min64(due, u->hold_until);
	if (!u->connected && u->redial_at != 0)
		due = min64(due, u->redial_at);
	if (u->n_inflight > 0)
		due = min64(due, u->progress_us + u->rto_us);
	if (u->relay != NULL && !u->via_relay)
		due = min64(due, u->zmq_good_us + u->o.relay_after_ms * MS);
	if (u->via_relay) {
		long rt = relay_timeout_ms(u->relay, now_us);

		if (rt >= 0)
			due = min64(due, now_us + rt * MS);
		else if (relay_ready(u->relay, now_us))
			due = min64(due, u->relay_hello ? now_us : u->next_hb);
		if (u->connected)
			due = min64(due, u->need_hello ? now_us + BLOCKED_RETRY_MS *
			    MS : u->probe_at);
	} else if (u->connected) {
		due = min64(due, u->next_hb);
		if (u->need_hello || u->blocked)
			due = min64(due, now_us + BLOCKED_RETRY_MS * MS);
	}
	if (due == INT64_MAX)
		return -1;
	if (due <= now_us)
		return 0;
	return (long)((due - now_us + MS - 1) / MS);
}

/* ---------------------------------------------------------------- life */

void
uplink_set_list_version(uplink_t *u, uint64_t v)
{
	u->o.list_version = v;
}

void
uplink_stats(const uplink_t *u, struct uplink_stats *st)
{
	*st = u->st;
	st->connected = u->connected;
	st->inflight = u->n_inflight;
	st->frame_budget = u->budget;
	st->via_relay = u->via_relay;
	if (u->relay != NULL) {
		struct relay_stats rs;

		relay_stats(u->relay, &rs);
		st->relay_requests = rs.requests;
		st->relay_bad_replies = rs.bad_replies;
	}
}

size_t
uplink_pollitems(uplink_t *u, zmq_pollitem_t *items, size_t n)
{
	if (n < UPLINK_POLLITEMS)
		return 0;
	memset(items, 0, UPLINK_POLLITEMS * sizeof(*items));
	items[0].socket = u->sock;
	items[0].events = ZMQ_POLLIN;
	items[1].socket = u->mon;
	items[1].events = ZMQ_POLLIN;
	if (u->relay == NULL)
		return 2;
	items[2].socket = NULL;
	items[2].fd = relay_fd(u->relay);
	items[2].events = ZMQ_POLLIN;
	return 3;
}

static zerr_t
sockopt_int(void *s, int opt, int v, const char *name, zdiag_t *d)
{
	if (zmq_setsockopt(s, opt, &v, sizeof(v)) != 0)
		return zdiag_set(d, ZE_IO, "uplink: %s: %s", name,
		    zmq_strerror(errno));
	return ZE_OK;
}

static int
clamp_int(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < 0 ? 0 : (int)v;
}

zerr_t
uplink_dealer(void *zctx, const uint8_t server_pk[KEY_PUB_LEN],
    const zkey_t *k, void **out, zdiag_t *d)
{
	uint8_t spk[32], cpk[32], csk[32];
	int64_t maxmsg = WIRE_MAX_FRAME;
	void *sock = NULL;
	zerr_t e;

	*out = NULL;
	if (pubkey_to_curve(server_pk, spk) != ZE_OK)
		return zdiag_set(d, ZE_CRYPTO, "uplink: the aggregator key is "
		    "not a valid Ed25519 public key");
	if ((e = key_curve(k, cpk, csk)) != ZE_OK)
		return zdiag_set(d, e, "uplink: cannot derive the CURVE key");
	if ((sock = zmq_socket(zctx, ZMQ_DEALER)) == NULL) {
		e = zdiag_set(d, ZE_IO, "uplink: socket: %s",
		    zmq_strerror(errno));
		goto out;
	}
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spk, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpk, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, csk, 32) != 0) {
		e = zdiag_set(d, ZE_IO, "uplink: CURVE keys: %s",
		    zmq_strerror(errno));
		goto out;
	}
	if ((e = sockopt_int(sock, ZMQ_LINGER, 0, "linger", d)) != ZE_OK)
		goto out;
	if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg,
	    sizeof(maxmsg)) != 0) {
		e = zdiag_set(d, ZE_IO, "uplink: maxmsgsize: %s",
		    zmq_strerror(errno));
		goto out;
	}
	*out = sock;
	sock = NULL;
out:
	sodium_memzero(csk, sizeof(csk));
	if (sock != NULL)
		zmq_close(sock);
	return e;
}

static zerr_t
open_relay(uplink_t *u, const zkey_t *k, const uint8_t server_pk[KEY_PUB_LEN],
    zdiag_t *d)
{
	struct relay_opts ro;
	uint8_t boot_id[RELAY_BOOT_ID_LEN];

	if (u->o.relay_after_ms < 0 || u->o.relay_timeout_ms < 1)
		return zdiag_set(d, ZE_RANGE, "uplink: relay option out of "
		    "range");
	/* the aggregator refuses a boot_us it saw in this boot_id: without
	 * a boot id, one made up for this process */
	if (u->o.clock != NULL && u->o.clock->have_boot)
		memcpy(boot_id, u->o.clock->boot_id, sizeof(boot_id));
	else
		randombytes_buf(boot_id, sizeof(boot_id));
	memset(&ro, 0, sizeof(ro));
	ro.urls = u->o.relays;
	ro.ca_file = u->o.relay_ca_file;
	ro.timeout_ms = u->o.relay_timeout_ms;
	ro.backoff_ms = u->o.retry_ms;
	ro.backoff_max_ms = u->o.backoff_max_ms;
	return relay_new(&ro, k, server_pk, boot_id, &u->relay, d);
}

zerr_t
uplink_new(void *zctx, const char *endpoint,
    const uint8_t server_pk[KEY_PUB_LEN], const zkey_t *k, outbox_t *ob,
    const struct uplink_opts *o, uplink_t **out, zdiag_t *d)
{
	uplink_t *u;
	zerr_t e;

	*out = NULL;
	if (o->window < 1 || o->heartbeat_ms < 1 || o->ack_timeout_ms < 1 ||
	    o->backoff_max_ms < o->ack_timeout_ms || o->retry_ms < 1 ||
	    o->reconnect_ms < 1 || o->reconnect_max_ms < 0)
		return zdiag_set(d, ZE_RANGE, "uplink: option out of range");
	if (!zmq_has("curve"))
		return zdiag_set(d, ZE_NOTIMPL, "uplink: libzmq was built "
		    "without CURVE");
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ZE_NOMEM;
	u->o = *o;
	if (u->o.agent_version == NULL)
		u->o.agent_version = ZOND_VERSION;
	u->ob = ob;
	snprintf(u->endpoint, sizeof(u->endpoint), "%s", endpoint);
	u->window = (size_t)o->window;
	u->rto_us = o->ack_timeout_ms * MS;
	u->retry_us = o->retry_ms * MS;
	u->start_us = ztime_mono_us();
	u->budget = WIRE_MAX_FRAME;
	zbuf_init(&u->frame, WIRE_MAX_FRAME);
	zbuf_init(&u->arena, WIRE_MAX_FRAME);
	zbuf_init(&u->dl, RELAY_MAX_REPLY);
	u->zmq_good_us = u->start_us;
	if (o->relays != NULL && *o->relays != '\0' &&
	    (e = open_relay(u, k, server_pk, d)) != ZE_OK)
		goto bad;
	if ((u->inflight = calloc(u->window, sizeof(uint64_t))) == NULL) {
		e = ZE_NOMEM;
		goto bad;
	}
	if ((e = uplink_dealer(zctx, server_pk, k, &u->sock, d)) != ZE_OK)
		goto bad;
	if ((e = sockopt_int(u->sock, ZMQ_IMMEDIATE, 1, "immediate", d)) !=
	    ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_SNDHWM, 256, "sndhwm", d)) != ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_RCVHWM, 256, "rcvhwm", d)) != ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_RECONNECT_IVL,
	    clamp_int(o->reconnect_ms), "reconnect_ivl", d)) != ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_RECONNECT_IVL_MAX,
	    clamp_int(o->reconnect_max_ms), "reconnect_ivl_max", d)) !=
	    ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_HEARTBEAT_IVL, ZMTP_HEARTBEAT_MS,
	    "heartbeat_ivl", d)) != ZE_OK ||
	    (e = sockopt_int(u->sock, ZMQ_HEARTBEAT_TIMEOUT,
	    ZMTP_HEARTBEAT_TIMEOUT_MS, "heartbeat_timeout", d)) != ZE_OK)
		goto bad;
	snprintf(u->mon_ep, sizeof(u->mon_ep), "inproc://zond-uplink-mon-%p",
	    (void *)u);
	if (zmq_socket_monitor(u->sock, u->mon_ep,
	    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
	    (u->mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    sockopt_int(u->mon, ZMQ_LINGER, 0, "linger", NULL) != ZE_OK ||
	    zmq_connect(u->mon, u->mon_ep) != 0) {
		e = zdiag_set(d, ZE_IO, "uplink: monitor: %s",
		    zmq_strerror(errno));
		goto bad;
	}
	if (zmq_connect(u->sock, endpoint) != 0) {
		e = zdiag_set(d, ZE_INVAL, "uplink: cannot connect to %s: %s",
		    endpoint, zmq_strerror(errno));
		goto bad;
	}
	*out = u;
	return ZE_OK;
bad:
	uplink_free(&u);
	return e;
}

void
uplink_free(uplink_t **up)
{
	uplink_t *u;

	if (up == NULL || (u = *up) == NULL)
		return;
	if (u->sock != NULL && u->mon_ep[0] != '\0')
		(void)zmq_socket_monitor(u->sock, NULL, 0);
	if (u->mon != NULL)
		zmq_close(u->mon);
	if (u->sock != NULL)
		zmq_close(u->sock);
	relay_free(&u->relay);
	zbuf_free(&u->frame);
	zbuf_free(&u->arena);
	zbuf_free(&u->dl);
	free(u->inflight);
	free(u);
	*up = NULL;
}
