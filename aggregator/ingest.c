/*
 * ingest.c — see ingest.h.
 *
 * Invariants:
 *  - A seq goes into an Ack.seqs only after store_commit returned ZE_OK
 *    for a transaction that holds it (or found it stored before).
 *  - Jobs move main -> todo queue -> a worker -> done list -> main; only
 *    the queues are shared, under one mutex.  A worker touches nothing of
 *    a job but its items.  The main thread is woken through a pipe.
 *  - At most MAX_INFLIGHT jobs are queued or being verified; beyond that
 *    the main loop stops reading the ROUTER and ZeroMQ's high-water marks
 *    push back on the agents.  A commit group holds at most commit_max
 *    verified measurements and MAX_GROUP_JOBS batches.
 *  - Every input buffer is bounded: frames by ZMQ_MAXMSGSIZE (twice
 *    max_frame: larger ones are read only to be refused) and
 *    wire_uplink_decode, batches by WIRE_MAX_BATCH, status updates by
 *    SEEN_MAX (a full table forces a commit).
 *  - Commits run on the writer's commit thread (writer.h), so the main
 *    loop keeps reading and verifying the next group while LMDB syncs
 *    the last one.  The main thread hands a group over in `slot` (its
 *    jobs and the arrays store_commit reads, swapped with the main
 *    thread's: no copy; writer_submit) and takes it back (writer_reap),
 *    sends the ACKs and frees the jobs when the writer marks it done and
 *    commit_done writes to the wake pipe.  One group is committed at a
 *    time, in order; while it is, the next group grows (up to commit_max
 *    / MAX_GROUP_JOBS, then input pauses).
 */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "agentcount.h"
#include "key.h"
#include "kv.h"
#include "log.h"
#include "tlpush.h"
#include "wire.h"
#include "zclock.h"
#include "ztime.h"

#define MAX_INFLIGHT 64		/* jobs queued or being verified */
#define MAX_GROUP_JOBS 512	/* batches waiting for one commit */
#define SEEN_MAX 4096		/* pending hello/heartbeat updates */
#define SEEN_DELAY_US 1000000	/* status-only commits at most this late */
#define READ_BURST 256		/* messages per ingest_on_router call */
#define LOG_REJECTS_PER_JOB 3
#define REST_MAX_US 100000	/* longest rest after a commit */
#define REST_MIN_GROUP 256	/* smaller commits: no rest (light load) */
#define FLUSH_IDLE_US 20000	/* idle this long: write lagging records */

struct item {
	uint8_t reason;		/* 0: verified; else a RejectReason */
	bool again;		/* its seq came earlier in the batch: no answer */
	bool has_seq;
	uint64_t seq;
	uint8_t id[WIRE_ID_LEN];
	int64_t start_us;
	int64_t time_us;	/* placed start (zclock.h) */
	uint8_t time_by;	/* enum zclock_placed */
	uint32_t test;
	uint64_t thash;		/* store_target_hash(target) */
};

struct job {
	struct job *next;
	void *sock;		/* the ROUTER it came on: its answer goes there */
	uint8_t rid[256];
	size_t rid_len;
	uint8_t agent[KEY_PUB_LEN];
	char agent_hex[KEY_HEX_LEN + 1];
	wire_uplink_t *up;
	int64_t recv_us;
	struct zclock_anchor anchor;	/* the agent's boot, from its last
					 * Hello or Heartbeat (may be unset) */
	uint8_t whole;		/* reject every item for this reason */
	size_t n, nok;
	struct item items[];
};

/* A group handed to the writer: its jobs and the arrays its writer_group
 * points into. */
struct cslot {
	struct writer_group g;
	struct job *jobs;
	struct store_meas_in *min;
	enum store_put *res;
	size_t amin;
	struct store_seen *seen;
};

struct ingest {
	struct ingest_opts o;
	store_t *store;
	void *router;
	void *relay;		/* the relay's inproc ROUTER (relay.h); NULL: off */
	void *cur;		/* the socket of the message being handled */
	agentcount_t *rej;	/* measurements refused per enrolled agent */

	/* worker pool */
	pthread_t *thr;
	int nthr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, **todo_tail;
	struct job *done, **done_tail;
	bool stop;
	int pipe[2];
	int inflight;		/* main thread only */

	/* the commit group */
	struct job *group, **group_tail;
	size_t group_n;		/* verified measurements in the group */
	int64_t idle_since;	/* monotonic us: the last commit's end */
	int64_t flush_retry;	/* monotonic us: no lag flush before */
	size_t group_jobs;	/* batches in the group (their memory) */
	int64_t group_deadline;	/* monotonic us */
	struct store_seen *seen;
	size_t nseen;
	int64_t seen_deadline;
	struct store_meas_in *min;
	enum store_put *res;
	size_t amin;

	zbuf_t out;
	struct ingest_stats st;

	/* each agent's last Hello/Heartbeat anchor (main thread only):
	 * open addressing by key, grown at half full; one entry per
	 * enrolled agent that spoke */
	struct anchor_ent *anchors;
	size_t nanchors, aanchors;
	int64_t storage_fail_logged;
	int64_t unknown_log;		/* monotonic: last refused-frame line */
	int64_t enroll_limited_log;	/* monotonic: last rate-limited line */
	int64_t rest_until;	/* monotonic us: the commit thread rests */

	tlpush_t *tl;			/* test lists to agents (tlpush.h) */

	/* the commit thread */
	writer_t *w;
	struct cslot slot;		/* the writer's while WRITER_QUEUED */
};

/* ------------------------------------------------------------ anchors */

struct anchor_ent {
	uint8_t agent[KEY_PUB_LEN];
	struct zclock_anchor a;		/* a.set: slot used */
};

static size_t
anchor_slot(const struct anchor_ent *t, size_t cap, const uint8_t *agent)
{
	uint64_t h;
	size_t i;

	memcpy(&h, agent, sizeof(h));	/* keys are uniform already */
	for (i = (size_t)h & (cap - 1); t[i].a.set &&
	    memcmp(t[i].agent, agent, KEY_PUB_LEN) != 0; i = (i + 1) &
	    (cap - 1))
		;
	return i;
}

static const struct zclock_anchor *
anchor_get(const struct ingest *ig, const uint8_t *agent)
{
	size_t i;

	if (ig->aanchors == 0)
		return NULL;
	i = anchor_slot(ig->anchors, ig->aanchors, agent);
	return ig->anchors[i].a.set ? &ig->anchors[i].a : NULL;
}

/* Record agent's anchor; false when out of memory (the old one stays). */
static bool
anchor_put(struct ingest *ig, const uint8_t *agent,
    const struct zclock_anchor *a)
{
	size_t i;

	if (2 * (ig->nanchors + 1) > ig->aanchors) {
		size_t cap = ig->aanchors ? 2 * ig->aanchors : 64;
		struct anchor_ent *t = calloc(cap, sizeof(*t));

		if (t == NULL)
			return false;
		for (size_t k = 0; k < ig->aanchors; k++)
			if (ig->anchors[k].a.set)
				t[anchor_slot(t, cap, ig->anchors[k].agent)] =
				    ig->anchors[k];
		free(ig->anchors);
		ig->anchors = t;
		ig->aanchors = cap;
	}
	i = anchor_slot(ig->anchors, ig->aanchors, agent);
	if (!ig->anchors[i].a.set)
		ig->nanchors++;
	memcpy(ig->anchors[i].agent, agent, KEY_PUB_LEN);
	ig->anchors[i].a = *a;
	return true;
}

/* ------------------------------------------------------------ sending */

static void
send_downlink(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    Zond__V1__Downlink *dl)
{
	/* every answer carries the aggregator's clock (PROTOCOL.md
	 * "Clock") */
	dl->has_server_us = 1;
	dl->server_us = ztime_now_us();
	zbuf_reset(&ig->out);
	if (wire_pack(&dl->base, &ig->out) != ZE_OK) {
		log_warnx("ingest: downlink does not fit %zu bytes; dropped",
		    ig->out.max);
		return;
	}
	if (zmq_send(ig->cur, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT)
	    < 0 || zmq_send(ig->cur, ig->out.data, ig->out.len,
	    ZMQ_DONTWAIT) < 0)
		log_debug("ingest: downlink not sent: %s",
		    zmq_strerror(zmq_errno()));
}

/* Refuse a whole frame of agent `who` (hex; NULL: not identified, the
 * caller logs): one log line, the standalone Reject, the counters. */
static void
send_reject(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const char *who, Zond__V1__RejectReason reason, const char *detail)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	Zond__V1__Reject rj = ZOND__V1__REJECT__INIT;

	rj.has_reason = 1;
	rj.reason = reason;
	rj.detail = (char *)(uintptr_t)detail;
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	dl.msg_case = ZOND__V1__DOWNLINK__MSG_REJECT;
	dl.reject = &rj;
	if (who != NULL)
		log_warnx("ingest: frame rejected agent=%.16s reason=%s: %s",
		    who, wire_reject_name(reason), detail);
	send_downlink(ig, rid, rid_len, &dl);
	ig->st.frame_rejects++;
	ig->st.rejected[reason]++;
}

/*
 * Acknowledge a job: committed says its verified items are durable (res
 * points at the store's result for its first verified item); otherwise
 * they are refused with REJECT_STORAGE so the agent keeps and resends
 * them.  Items refused by verification are listed in either case.
 */
static void
send_ack(struct ingest *ig, struct job *j, bool committed,
    const enum store_put *res)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	Zond__V1__Ack ack = ZOND__V1__ACK__INIT;
	Zond__V1__Reject rj[WIRE_MAX_BATCH], *rjp[WIRE_MAX_BATCH];
	uint64_t seqs[WIRE_MAX_BATCH];
	size_t k = 0;
	unsigned dupids = 0;
	uint64_t nrej = 0;

	for (size_t i = 0; i < j->n; i++) {
		struct item *it = &j->items[i];
		uint8_t reason = it->reason;

		if (it->again)
			continue;	/* answered by the first of its seq */
		if (reason == 0 && committed) {
			enum store_put r = res[k++];

			if (r == STORE_DUP_ID) {
				/* its id is stored under another (agent,
				 * seq): nothing is stored under this seq */
				reason = ZOND__V1__REJECT_REASON__REJECT_DUPLICATE_ID;
				ig->st.rejected[reason]++;
				if (dupids++ < LOG_REJECTS_PER_JOB)
					log_warnx("ingest: rejected agent=%.16s "
					    "seq=%" PRIu64 " reason=%s: the id "
					    "is stored under another (agent, "
					    "seq)", j->agent_hex, it->seq,
					    wire_reject_name((Zond__V1__RejectReason)
					    reason));
			} else {
				seqs[ack.n_seqs++] = it->seq;
				if (r == STORE_STORED) {
					ig->st.stored++;
					if (it->time_by == ZCLOCK_BY_BOOT)
						ig->st.clock_by_boot++;
					else if (it->time_by ==
					    ZCLOCK_UNPLACED)
						ig->st.clock_unplaced++;
				} else
					ig->st.dup++;
				continue;
			}
		} else if (reason == 0) {
			reason = ZOND__V1__REJECT_REASON__REJECT_STORAGE;
			ig->st.rejected[reason]++;
		}
		zond__v1__reject__init(&rj[ack.n_rejects]);
		rj[ack.n_rejects].has_reason = 1;
		rj[ack.n_rejects].reason = (Zond__V1__RejectReason)reason;
		if (it->has_seq) {
			rj[ack.n_rejects].has_seq = 1;
			rj[ack.n_rejects].seq = it->seq;
		}
		rjp[ack.n_rejects] = &rj[ack.n_rejects];
		ack.n_rejects++;
		/* the agent's own refusals (not our storage failing; an
		 * unknown key is not an agent of the registry) */
		if (reason != ZOND__V1__REJECT_REASON__REJECT_STORAGE &&
		    reason != ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT)
			nrej++;
	}
	agentcount_add(ig->rej, j->agent, nrej);
	if (dupids > LOG_REJECTS_PER_JOB)
		log_warnx("ingest: rejected agent=%.16s: %u more duplicate ids "
		    "in the same batch", j->agent_hex,
		    dupids - LOG_REJECTS_PER_JOB);
	ack.seqs = seqs;
	ack.rejects = rjp;
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	dl.msg_case = ZOND__V1__DOWNLINK__MSG_ACK;
	dl.ack = &ack;
	{
		void *was = ig->cur;

		ig->cur = j->sock;
		send_downlink(ig, j->rid, j->rid_len, &dl);
		ig->cur = was;
	}
	ig->st.acks++;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	wire_uplink_free(j->up);
	free(j);
}

/* ------------------------------------------------------------ workers */

static uint8_t
reason_of(zerr_t e)
{
	return e == ZE_TOOBIG ? ZOND__V1__REJECT_REASON__REJECT_OVERSIZED :
	    ZOND__V1__REJECT_REASON__REJECT_MALFORMED;
}

/* A refused item is named by its seq whenever the body has one, read
 * from the wire format alone (it may not decode), so that the agent can
 * drop it.  Bodies are bounded by the frame. */
static void
name_item(const wire_signed_t *s, struct item *it)
{
	uint64_t seq;

	if (s->has_body && wire_seq_peek(s->body.data, s->body.len, &seq) ==
	    ZE_OK) {
		it->has_seq = true;
		it->seq = seq;
	}
}

/* Seqs that come a second time in one batch: marked `again`, so that each
 * seq is answered once, by its first item (qsort: n is at most
 * WIRE_MAX_BATCH). */
static int
cmp_seq_pos(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static void
mark_repeats(struct job *j)
{
	uint64_t sp[WIRE_MAX_BATCH][2];
	size_t n = 0;
	bool rising = true;	/* an agent's batch: oldest first, no sort */

	for (size_t i = 0; i < j->n; i++)
		if (j->items[i].has_seq) {
			sp[n][0] = j->items[i].seq;
			sp[n][1] = i;
			rising = rising && (n == 0 || sp[n - 1][0] < sp[n][0]);
			n++;
		}
	if (rising)
		return;
	qsort(sp, n, sizeof(sp[0]), cmp_seq_pos);
	for (size_t i = 1; i < n; i++) {
		struct item *it = &j->items[sp[i][1]];

		if (sp[i][0] != sp[i - 1][0])
			continue;
		it->again = true;
		if (it->reason == 0) {
			it->reason = ZOND__V1__REJECT_REASON__REJECT_MALFORMED;
			j->nok--;	/* neither stored nor answered */
		}
	}
}

static void
verify_job(struct ingest *ig, struct job *j)
{
	int64_t now = ztime_now_us();
	int64_t ahead = ig->o.clock_skew_ms * 1000;
	int64_t late = ig->o.late_window_ms * 1000;
	unsigned logged = 0, unlogged = 0;
	zdiag_t d;

	j->nok = 0;
	for (size_t i = 0; i < j->n; i++) {
		const wire_signed_t *s = j->up->batch->items[i];
		struct item *it = &j->items[i];
		wire_meas_t *m = NULL;
		zerr_t e;

		memset(it, 0, sizeof(*it));
		d.text[0] = '\0';
		if ((e = wire_signed_check(s, &d)) != ZE_OK ||
		    (e = wire_meas_decode(s->body.data, s->body.len, &m,
		    &d)) != ZE_OK) {
			it->reason = reason_of(e);
			name_item(s, it);
			goto done;
		}
		it->has_seq = true;
		it->seq = m->seq;
		if (j->whole != 0) {
			it->reason = j->whole;
			goto done;
		}
		if (memcmp(m->agent.data, j->agent, KEY_PUB_LEN) != 0) {
			it->reason =
			    ZOND__V1__REJECT_REASON__REJECT_AGENT_MISMATCH;
			zdiag_set(&d, ZE_INVAL, "agent field names another "
			    "key than the connection's");
			goto done;
		}
		if (wire_signed_verify(s, j->agent) != ZE_OK) {
			it->reason =
			    ZOND__V1__REJECT_REASON__REJECT_BAD_SIGNATURE;
			zdiag_set(&d, ZE_BADSIG, "signature does not verify "
			    "with the enrolled key");
			goto done;
		}
		/* an agent's clock taken before it knew the time is
		 * placed by its boot's anchor; the window applies to the
		 * placed start (PROTOCOL.md "Clock") */
		{
			const Zond__V1__ClockCheck *cc = m->clock;

			it->time_by = (uint8_t)zclock_place(&j->anchor,
			    cc != NULL, cc != NULL && cc->has_unverified &&
			    cc->unverified, cc != NULL && cc->has_boot_id ?
			    cc->boot_id.data : NULL, cc != NULL &&
			    cc->has_boot_id ? cc->boot_id.len : 0, cc != NULL &&
			    cc->has_boot_us, cc != NULL ? cc->boot_us : 0,
			    m->start_us, &it->time_us);
		}
		if (it->time_us > now + ahead || it->time_us < now - late) {
			it->reason = ZOND__V1__REJECT_REASON__REJECT_CLOCK;
			/* in seconds first: no overflow for any start_us */
			zdiag_set(&d, ZE_RANGE, "start %" PRId64 " us is %"
			    PRId64 " s from now (placed %s%s)", it->time_us,
			    it->time_us / 1000000 - now / 1000000,
			    zclock_placed_name((enum zclock_placed)
			    it->time_by), it->time_by == ZCLOCK_UNPLACED ?
			    ": taken before the agent knew the time, and no "
			    "anchor of its boot" : "");
			goto done;
		}
		if (wire_meas_check(m, s->body.data, s->body.len, &d) !=
		    ZE_OK) {
			it->reason = ZOND__V1__REJECT_REASON__REJECT_MALFORMED;
			goto done;
		}
		memcpy(it->id, m->id.data, WIRE_ID_LEN);
		it->start_us = m->start_us;
		it->test = (uint32_t)m->test;
		it->thash = store_target_hash(m->target);
		j->nok++;
done:
		wire_meas_free(m);
		if (it->reason != 0 && j->whole == 0) {
			if (logged < LOG_REJECTS_PER_JOB) {
				logged++;
				log_warnx("ingest: rejected agent=%.16s seq=%"
				    PRIu64 " reason=%s: %s", j->agent_hex,
				    it->seq, wire_reject_name(
				    (Zond__V1__RejectReason)it->reason),
				    d.text);
			} else
				unlogged++;
		}
	}
	if (unlogged > 0)
		log_warnx("ingest: rejected agent=%.16s: %u more in the same "
		    "batch", j->agent_hex, unlogged);
	mark_repeats(j);
}

static void *
worker_main(void *arg)
{
	struct ingest *ig = arg;
	struct job *j;
	char one = 1;

	pthread_setname_np(pthread_self(), "zond-verify");

	for (;;) {
		pthread_mutex_lock(&ig->mu);
		while (!ig->stop && ig->todo == NULL)
			pthread_cond_wait(&ig->cv, &ig->mu);
		if (ig->todo == NULL) {
			pthread_mutex_unlock(&ig->mu);
			return NULL;
		}
		j = ig->todo;
		ig->todo = j->next;
		if (ig->todo == NULL)
			ig->todo_tail = &ig->todo;
		pthread_mutex_unlock(&ig->mu);

		verify_job(ig, j);

		pthread_mutex_lock(&ig->mu);
		j->next = NULL;
		*ig->done_tail = j;
		ig->done_tail = &j->next;
		pthread_mutex_unlock(&ig->mu);
		/* a full pipe means main is awake anyway */
		(void)!write(ig->pipe[1], &one, 1);
	}
}

/* ------------------------------------------------------------ commit */

/* Called on the commit thread once the group is done (writer.h). */
static void
commit_done(void *arg)
{
	struct ingest *ig = arg;
	char one = 1;

	/* a full pipe means main is awake anyway */
	(void)!write(ig->pipe[1], &one, 1);
}

/* The commit thread finished: count, log, ACK and free its group. */
static void
commit_reap(struct ingest *ig)
{
	struct cslot *cs = &ig->slot;
	struct writer_group *c;
	struct job *j, *next;
	size_t k = 0;

	if ((c = writer_reap(ig->w)) == NULL)
		return;
	ZASSERT(c == &cs->g);
	ig->idle_since = ztime_mono_us();
	if (c->e == ZE_OK) {
		/* under load, rest as long as the commit took: the next
		 * group grows (fewer, larger commits write fewer B-tree
		 * pages per measurement: random ids share branch pages);
		 * light load keeps the shortest ACK delay */
		ig->rest_until = c->n < REST_MIN_GROUP ? 0 :
		    ztime_mono_us() + (c->us < REST_MAX_US ? c->us :
		    REST_MAX_US);
		ig->st.commits++;
		ig->st.commit_us_sum += (uint64_t)c->us;
		if ((uint64_t)c->us > ig->st.commit_us_max)
			ig->st.commit_us_max = (uint64_t)c->us;
		if (!ig->st.storage_ok)
			log_warnx("storage: commits work again; acknowledging "
			    "measurements");
		ig->st.storage_ok = true;
	} else {
		ig->st.commit_fail++;
		if (ig->st.storage_ok || c->t0 - ig->storage_fail_logged >
		    60 * 1000000LL) {
			log_warnx("storage: cannot commit %zu measurements: "
			    "%s; not acknowledging them (REJECT_STORAGE), "
			    "agents keep and resend them%s", c->n, c->d.text,
			    c->e == ZE_FULL ? "; free disk space or raise "
			    "[storage] map_max" : "");
			ig->storage_fail_logged = c->t0;
		}
		ig->st.storage_ok = false;
	}
	/* a seq goes to an Ack only after a commit of its group: res holds
	 * one result for each verified item of these jobs, in order */
	for (j = cs->jobs; j != NULL; j = next) {
		next = j->next;
		send_ack(ig, j, c->e == ZE_OK, cs->res + k);
		k += j->nok;
		job_free(j);
	}
	ZASSERT(k == c->n && (!c->flush || c->n == 0));
	cs->jobs = NULL;
	c->n = c->nseen = 0;
	c->flush = false;
}

/* When agent records that lag are to be written (store_agents_defer): once
 * the ingest has been idle for FLUSH_IDLE_US (under load the store writes
 * each at least once a second); -1: nothing lags, or batches are still in
 * verification. */
static int64_t
flush_due(const struct ingest *ig)
{
	int64_t t = ig->idle_since + FLUSH_IDLE_US;

	if (ig->inflight > 0 || !store_agents_lagging(ig->store))
		return -1;
	return t > ig->flush_retry ? t : ig->flush_retry;
}

/* Hand the current group to the idle commit thread. */
static void
commit_start(struct ingest *ig)
{
	struct cslot *c = &ig->slot;
	struct writer_group *g = &c->g;
	struct store_meas_in *tm;
	enum store_put *tr;
	struct store_seen *ts;
	size_t n = 0, ta;

	for (struct job *j = ig->group; j != NULL; j = j->next) {
		for (size_t i = 0; i < j->n; i++) {
			struct item *it = &j->items[i];
			const wire_signed_t *s = j->up->batch->items[i];

			if (it->reason != 0)
				continue;
			ig->min[n].id = it->id;
			ig->min[n].agent = j->agent;
			ig->min[n].seq = it->seq;
			ig->min[n].start_us = it->start_us;
			ig->min[n].time_us = it->time_us;
			ig->min[n].time_by = it->time_by;
			ig->min[n].recv_us = j->recv_us;
			ig->min[n].test = it->test;
			ig->min[n].thash = it->thash;
			ig->min[n].body = s->body.data;
			ig->min[n].body_len = s->body.len;
			ig->min[n].sig = s->sig.data;
			n++;
		}
	}
	/* swap the arrays: the slot reads these, main fills the others */
	tm = c->min, tr = c->res, ta = c->amin, ts = c->seen;
	c->min = ig->min, c->res = ig->res, c->amin = ig->amin;
	c->seen = ig->seen;
	ig->min = tm, ig->res = tr, ig->amin = ta, ig->seen = ts;
	c->jobs = ig->group;
	g->min = c->min;
	g->res = c->res;
	g->n = n;
	g->seen = c->seen;
	g->nseen = ig->nseen;
	g->done = commit_done;
	g->done_arg = ig;
	ig->group = NULL;
	ig->group_tail = &ig->group;
	ig->group_n = 0;
	ig->group_jobs = 0;
	ig->nseen = 0;
	writer_submit(ig->w, g);
}

static bool
group_due(const struct ingest *ig, int64_t now)
{
	return ig->group_n >= (size_t)ig->o.commit_max ||
	    ig->group_jobs >= MAX_GROUP_JOBS || ig->nseen >= SEEN_MAX ||
	    (now >= ig->rest_until && ((ig->group != NULL &&
	    now >= ig->group_deadline) || (ig->nseen > 0 &&
	    now >= ig->seen_deadline)));
}

/* Reap a finished commit; start the next group when it is due (or force,
 * and there is one) and the commit thread is free. */
static void
commit_step(struct ingest *ig, bool force)
{
	int64_t now = ztime_mono_us();

	commit_reap(ig);
	if (writer_state(ig->w) != WRITER_IDLE)
		return;
	if (ig->group == NULL && ig->nseen == 0) {
		/* idle for FLUSH_IDLE_US with agent records lagging: a
		 * commit of their own writes them */
		int64_t f = flush_due(ig);

		if (f >= 0 && f <= now) {
			ig->flush_retry = now + 1000000;
			ig->slot.g.flush = true;
			commit_start(ig);
		}
		return;
	}
	if (force || group_due(ig, now))
		commit_start(ig);
}

/* Wait for the commit thread to finish the group it has, and reap it. */
static void
commit_wait(struct ingest *ig)
{
	writer_wait(ig->w);
	commit_reap(ig);
}

/* ------------------------------------------------------------ input */

static struct store_seen *
seen_slot(struct ingest *ig, const uint8_t *agent)
{
	struct store_seen *s;

	for (size_t i = 0; i < ig->nseen; i++)
		if (memcmp(ig->seen[i].agent, agent, KEY_PUB_LEN) == 0)
			return &ig->seen[i];
	if (ig->nseen == SEEN_MAX) {
		commit_wait(ig);	/* rare: 4096 agents between commits */
		commit_step(ig, true);
		commit_wait(ig);
	}
	if (ig->nseen == 0)
		ig->seen_deadline = ztime_mono_us() + SEEN_DELAY_US;
	ZASSERT(ig->nseen < SEEN_MAX);
	s = &ig->seen[ig->nseen++];
	memset(s, 0, sizeof(*s));
	memcpy(s->agent, agent, KEY_PUB_LEN);
	return s;
}

/* The version as stored: printable ASCII, '?' for anything else. */
static void
version_keep(char out[STORE_VERSION_LEN], const char *ver)
{
	size_t n = strnlen(ver, STORE_VERSION_LEN - 1);

	for (size_t i = 0; i < n; i++)
		out[i] = (ver[i] >= 0x20 && ver[i] < 0x7f) ? ver[i] : '?';
	out[n] = '\0';
}

/* Hand the newest stored test list to an agent that reports an older
 * one (tlpush.h says when). */
static void
offer_testlist(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t *agent, const char *hex, bool hello, uint64_t v)
{
	const zbuf_t *f = tlpush_offer(ig->tl, agent, hello, v,
	    ztime_mono_us());

	if (f == NULL && ig->cur == ig->relay) {
		/* a relayed Uplink gets exactly one Downlink: the time */
		Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;

		dl.has_version = 1;
		dl.version = WIRE_VERSION;
		send_downlink(ig, rid, rid_len, &dl);
		return;
	}
	if (f == NULL)
		return;
	if (ig->cur == ig->relay) {
		/* the one answer carries the time too: protobuf merges a
		 * field appended to an encoding (Downlink.server_us = 6) */
		uint8_t t[11];
		uint64_t now = (uint64_t)ztime_now_us();
		size_t k = 0;

		t[k++] = 6 << 3;
		for (; now >= 0x80; now >>= 7)
			t[k++] = (uint8_t)(now | 0x80);
		t[k++] = (uint8_t)now;
		zbuf_reset(&ig->out);
		if (zbuf_append(&ig->out, f->data, f->len) == ZE_OK &&
		    zbuf_append(&ig->out, t, k) == ZE_OK)
			f = &ig->out;	/* else (at the size cap) without */
	}
	if (zmq_send(ig->cur, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) <
	    0 || zmq_send(ig->cur, f->data, f->len, ZMQ_DONTWAIT) < 0) {
		log_debug("ingest: test list not sent agent=%.16s: %s", hex,
		    zmq_strerror(zmq_errno()));
		return;
	}
	tlpush_sent(ig->tl, agent);
	log_info("ingest: test list sent agent=%.16s agent_list=%" PRIu64
	    " bytes=%zu", hex, v, f->len);
}

/* Hello and Heartbeat carrying a boot: the agent's anchor (that instant of
 * its boot is now on this clock) and the time reply, a Downlink with only
 * server_us, so an agent with nothing to send learns the time too. */
static void
on_boot(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t *agent, int64_t now, const ProtobufCBinaryData *boot_id,
    bool has_boot_us, uint64_t boot_us)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	struct zclock_anchor a;

	if (boot_id->len != ZCLOCK_BOOT_ID_LEN || !has_boot_us ||
	    boot_us > INT64_MAX)
		return;
	memset(&a, 0, sizeof(a));
	a.set = true;
	memcpy(a.boot_id, boot_id->data, ZCLOCK_BOOT_ID_LEN);
	a.boot_us = (int64_t)boot_us;
	a.true_us = now;
	if (!anchor_put(ig, agent, &a))
		log_warnx("ingest: out of memory; clock anchor not kept");
	if (ig->cur == ig->relay)
		return;		/* its one answer comes from offer_testlist */
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	send_downlink(ig, rid, rid_len, &dl);
}

/* Our time minus the agent's clock_us, saturating: a hostile clock_us
 * does not overflow (nor reach INT64_MIN, the store's "none"). */
static void
clock_offset_keep(struct store_seen *s, int64_t clock_us)
{
	s->has_clock = true;
	s->clock_offset_us = clock_us < 0 && s->seen_us > INT64_MAX +
	    clock_us ? INT64_MAX : clock_us > 0 && s->seen_us < INT64_MIN + 1 +
	    clock_us ? INT64_MIN + 1 : s->seen_us - clock_us;
}

static void
on_status(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t *agent, const char *hex, const wire_uplink_t *up)
{
	struct store_seen *s = seen_slot(ig, agent);

	s->seen_us = ztime_now_us();
	s->has_status = true;
	if (up->msg_case == ZOND__V1__UPLINK__MSG_HELLO) {
		const Zond__V1__Hello *h = up->hello;
		char v[STORE_VERSION_LEN], q[KV_QUOTED_LEN(STORE_VERSION_LEN)];

		ig->st.hellos++;
		s->backlog = h->has_backlog ? h->backlog : 0;
		s->dropped = h->has_dropped ? h->dropped : 0;
		s->last_seq = h->has_last_seq ? h->last_seq : 0;
		s->list_version = h->has_list_version ? h->list_version : 0;
		if (h->agent_version != NULL)
			version_keep(s->version, h->agent_version);
		if (h->has_boot_id)
			on_boot(ig, rid, rid_len, agent, s->seen_us,
			    &h->boot_id, h->has_boot_us, h->boot_us);
		if (h->has_clock_us)
			clock_offset_keep(s, h->clock_us);
		/* as much as is stored, as received, quoted (kv.h) */
		snprintf(v, sizeof(v), "%s", h->agent_version != NULL ?
		    h->agent_version : "-");
		/* the agent's wall clock against ours, in seconds first:
		 * no overflow for any clock_us */
		log_info("ingest: hello agent=%.16s version=%s backlog=%"
		    PRIu64 " dropped=%" PRIu64 " last_seq=%" PRIu64
		    " clock_offset_s=%" PRId64, hex,
		    kv_quote(v, false, q, sizeof(q)), s->backlog, s->dropped,
		    s->last_seq, h->has_clock_us ? s->seen_us / 1000000 -
		    h->clock_us / 1000000 : 0);
	} else {
		const Zond__V1__Heartbeat *h = up->heartbeat;
		ig->st.heartbeats++;
		s->backlog = h->has_backlog ? h->backlog : 0;
		s->dropped = h->has_dropped ? h->dropped : 0;
		s->list_version = h->has_list_version ? h->list_version : 0;
		if (h->has_boot_id)
			on_boot(ig, rid, rid_len, agent, s->seen_us,
			    &h->boot_id, h->has_boot_us, h->boot_us);
		if (h->has_clock_us)
			clock_offset_keep(s, h->clock_us);
		log_debug("ingest: heartbeat agent=%.16s backlog=%" PRIu64,
		    hex, s->backlog);
	}
	offer_testlist(ig, rid, rid_len, agent, hex,
	    up->msg_case == ZOND__V1__UPLINK__MSG_HELLO, s->list_version);
}

/* ------------------------------------------------------------ enrollment */

/* Answer an Uplink.enroll (enroll.h), count and log it. */
static void
enroll_reply(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t curve[32], bool limited, const char *peer,
    const wire_uplink_t *up)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	Zond__V1__EnrollResult er = ZOND__V1__ENROLL_RESULT__INIT;
	const Zond__V1__Enroll *en = up->enroll;
	struct enroll_answer a;
	char who[KEY_HEX_LEN + 1];
	int64_t now = ztime_mono_us();

	enroll_decide(ig->store, ig->o.enroll, limited, curve, en,
	    ztime_now_us(), &a);
	ig->st.enroll[a.status]++;
	if (en->has_agent_key && en->agent_key.len == KEY_PUB_LEN)
		sodium_bin2hex(who, sizeof(who), en->agent_key.data,
		    KEY_PUB_LEN);
	else
		snprintf(who, sizeof(who), "-");
	if (a.status == ZOND__V1__ENROLL_STATUS__ENROLL_ADMITTED)
		log_info("ingest: enroll admitted agent=%.16s from=%s "
		    "region=%s asn=%" PRIu32 " network=%s", who, peer,
		    a.region, a.asn, store_network_name(a.network));
	else if (a.status != ZOND__V1__ENROLL_STATUS__ENROLL_RATE_LIMITED ||
	    now - ig->enroll_limited_log > 60 * 1000000LL) {
		if (a.status == ZOND__V1__ENROLL_STATUS__ENROLL_RATE_LIMITED)
			ig->enroll_limited_log = now;
		log_warnx("ingest: enroll refused agent=%.16s from=%s "
		    "reason=%s: %s", who, peer, enroll_status_name(a.status),
		    a.detail);
	}
	er.has_status = 1;
	er.status = a.status;
	er.detail = a.detail;
	if (a.has_agent) {
		er.region = a.region;
		er.has_asn = 1;
		er.asn = a.asn;
		er.network = (char *)(uintptr_t)store_network_name(a.network);
	}
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	dl.msg_case = ZOND__V1__DOWNLINK__MSG_ENROLL_RESULT;
	dl.enroll_result = &er;
	send_downlink(ig, rid, rid_len, &dl);
}

/* A frame on a connection admitted for enrollment only: Uplink.enroll is
 * answered, anything else refused (REJECT_UNKNOWN_AGENT, logged at most
 * once a minute: unknown keys are many). */
static void
on_enroll_frame(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t *p, size_t n, bool multi, const uint8_t curve[32],
    bool limited, const char *peer)
{
	wire_uplink_t *up = NULL;
	int64_t now = ztime_mono_us();
	char hex[65];
	zdiag_t d;

	if (!multi && n <= (size_t)ig->o.max_frame &&
	    wire_uplink_decode(p, n, &up, &d) == ZE_OK &&
	    up->msg_case == ZOND__V1__UPLINK__MSG_ENROLL) {
		enroll_reply(ig, rid, rid_len, curve, limited, peer, up);
		wire_uplink_free(up);
		return;
	}
	wire_uplink_free(up);
	if (now - ig->unknown_log > 60 * 1000000LL) {
		ig->unknown_log = now;
		sodium_bin2hex(hex, sizeof(hex), curve, 32);
		log_warnx("ingest: frame refused from=%s curve_key=%.16s "
		    "reason=%s: not enrolled; this connection may only enroll "
		    "(logged once a minute)", peer, hex, wire_reject_name(
		    ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT));
	}
	send_reject(ig, rid, rid_len, NULL,
	    ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT,
	    "not enrolled: this connection may only enroll");
}

static void
on_frame(struct ingest *ig, const uint8_t *rid, size_t rid_len,
    const uint8_t *p, size_t n, bool multi, const char *user,
    const char *peer)
{
	uint8_t agent[KEY_PUB_LEN], curve[32];
	char now_hex[KEY_HEX_LEN + 1];
	struct store_agent a;
	wire_uplink_t *up = NULL;
	struct job *j;
	uint8_t reason;
	size_t ni;
	bool limited;
	zdiag_t d;
	zerr_t e;

	ig->st.frames++;
	if (enroll_user(user, curve, &limited)) {
		if (store_agent_by_curve(ig->store, curve, agent, &d) !=
		    ZE_OK) {
			on_enroll_frame(ig, rid, rid_len, p, n, multi, curve,
			    limited, peer);
			return;
		}
		/* enrolled since it connected (its token, zondctl
		 * enroll): from now on the connection is the agent's */
		sodium_bin2hex(now_hex, sizeof(now_hex), agent, KEY_PUB_LEN);
		user = now_hex;
	}
	if (user == NULL || strlen(user) != KEY_HEX_LEN ||
	    pubkey_from_hex(user, agent, NULL) != ZE_OK) {
		/* cannot happen with CURVE and our ZAP handler */
		log_warnx("ingest: frame without an enrolled sender dropped");
		send_reject(ig, rid, rid_len, NULL,
		    ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT,
		    "sender not identified");
		return;
	}
	if (multi) {
		send_reject(ig, rid, rid_len, user,
		    ZOND__V1__REJECT_REASON__REJECT_MALFORMED,
		    "multi-frame message");
		return;
	}
	if (n > (size_t)ig->o.max_frame) {
		/* the transport reads up to twice the limit so that this
		 * answer can be given (WIRE_TRANSPORT_MAX) */
		snprintf(d.text, sizeof(d.text), "frame of %zu bytes is over "
		    "the %" PRId64 "-byte limit", n, ig->o.max_frame);
		send_reject(ig, rid, rid_len, user,
		    ZOND__V1__REJECT_REASON__REJECT_OVERSIZED, d.text);
		return;
	}
	if ((e = wire_uplink_decode(p, n, &up, &d)) != ZE_OK) {
		reason = e == ZE_VERSION ?
		    ZOND__V1__REJECT_REASON__REJECT_VERSION : reason_of(e);
		send_reject(ig, rid, rid_len, user,
		    (Zond__V1__RejectReason)reason, d.text);
		return;
	}
	if (up->msg_case == ZOND__V1__UPLINK__MSG_ENROLL &&
	    ig->cur == ig->relay) {
		send_reject(ig, rid, rid_len, user,
		    ZOND__V1__REJECT_REASON__REJECT_MALFORMED,
		    "enrollment is not served over the relay");
		wire_uplink_free(up);
		return;
	}
	if (up->msg_case == ZOND__V1__UPLINK__MSG_ENROLL) {
		/* an enrolled key enrolls again (its answer was lost, or
		 * a new token re-places it) */
		if (pubkey_to_curve(agent, curve) == ZE_OK)
			enroll_reply(ig, rid, rid_len, curve, false, peer, up);
		wire_uplink_free(up);
		return;
	}
	if (up->msg_case != ZOND__V1__UPLINK__MSG_BATCH) {
		on_status(ig, rid, rid_len, agent, user, up);
		wire_uplink_free(up);
		return;
	}
	ni = up->batch->n_items;
	if (ni == 0 && ig->cur == ig->relay) {
		/* a relayed Uplink gets exactly one Downlink */
		send_reject(ig, rid, rid_len, user,
		    ZOND__V1__REJECT_REASON__REJECT_MALFORMED, "empty batch");
		wire_uplink_free(up);
		return;
	}
	if (ni == 0) {
		wire_uplink_free(up);
		return;
	}
	if ((j = calloc(1, sizeof(*j) + ni * sizeof(struct item))) == NULL) {
		log_warnx("ingest: out of memory; batch dropped (agent "
		    "resends)");
		wire_uplink_free(up);
		return;
	}
	memcpy(j->rid, rid, rid_len);
	j->rid_len = rid_len;
	j->sock = ig->cur;
	memcpy(j->agent, agent, KEY_PUB_LEN);
	memcpy(j->agent_hex, user, KEY_HEX_LEN + 1);
	j->up = up;
	j->n = ni;
	j->recv_us = ztime_now_us();
	{
		const struct zclock_anchor *an = anchor_get(ig, agent);

		if (an != NULL)
			j->anchor = *an;
	}
	ig->st.received += ni;
	/* disabled since it connected, or (never) unknown */
	e = store_agent_get(ig->store, agent, &a, &d);
	if (e == ZE_NOTFOUND)
		j->whole = ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT;
	else if (e == ZE_OK && !a.enabled)
		j->whole = ZOND__V1__REJECT_REASON__REJECT_DISABLED;
	else if (e != ZE_OK)
		log_warnx("ingest: registry: %s", d.text);
	if (j->whole != 0)
		log_warnx("ingest: batch refused agent=%.16s items=%zu "
		    "reason=%s", user, ni,
		    wire_reject_name((Zond__V1__RejectReason)j->whole));
	pthread_mutex_lock(&ig->mu);
	*ig->todo_tail = j;
	ig->todo_tail = &j->next;
	pthread_cond_signal(&ig->cv);
	pthread_mutex_unlock(&ig->mu);
	ig->inflight++;
	/* ingest_on_router reads only while ingest_want_input */
	ZASSERT(ig->inflight <= MAX_INFLIGHT);
}

void
ingest_on_router(ingest_t *ig)
{
	zmq_msg_t rid, body, extra;
	const char *user, *peer;
	bool multi;

	for (int i = 0; i < READ_BURST && ingest_want_input(ig); i++) {
		zmq_msg_init(&rid);
		if (zmq_msg_recv(&rid, ig->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&rid);
			return;
		}
		if (!zmq_msg_more(&rid) || zmq_msg_size(&rid) >
		    sizeof(((struct job *)0)->rid)) {
			/* the ROUTER always sends an id and a body */
			while (zmq_msg_more(&rid)) {
				zmq_msg_close(&rid);
				zmq_msg_init(&rid);
				if (zmq_msg_recv(&rid, ig->router, 0) < 0)
					break;
			}
			zmq_msg_close(&rid);
			continue;
		}
		zmq_msg_init(&body);
		if (zmq_msg_recv(&body, ig->router, 0) < 0) {
			zmq_msg_close(&body);
			zmq_msg_close(&rid);
			continue;
		}
		multi = false;
		while (zmq_msg_more(multi ? &extra : &body)) {
			if (multi)
				zmq_msg_close(&extra);
			multi = true;
			zmq_msg_init(&extra);
			if (zmq_msg_recv(&extra, ig->router, 0) < 0)
				break;
		}
		if (multi)
			zmq_msg_close(&extra);
		user = zmq_msg_gets(&body, "User-Id");
		peer = zmq_msg_gets(&body, "Peer-Address");
		on_frame(ig, zmq_msg_data(&rid), zmq_msg_size(&rid),
		    zmq_msg_data(&body), zmq_msg_size(&body), multi, user,
		    peer != NULL ? peer : "-");
		zmq_msg_close(&body);
		zmq_msg_close(&rid);
	}
}

void
ingest_set_relay(ingest_t *ig, void *relay)
{
	ig->relay = relay;
}

/*
 * The relay's messages: [routing id][agent key][Uplink], from relay.c
 * after it checked the envelope (the agent enrolled and enabled, its
 * signature, the replay rule).  Handled as that agent's frame; the one
 * Downlink goes back on this socket.
 */
void
ingest_on_relay(ingest_t *ig)
{
	zmq_msg_t m[3];
	char hex[KEY_HEX_LEN + 1];
	int n, more;

	for (int i = 0; i < READ_BURST && ingest_want_input(ig); i++) {
		for (n = 0, more = 1; more && n < 3; n++) {
			zmq_msg_init(&m[n]);
			if (zmq_msg_recv(&m[n], ig->relay, n == 0 ?
			    ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(&m[n]);
				for (int k = 0; k < n; k++)
					zmq_msg_close(&m[k]);
				return;
			}
			more = zmq_msg_more(&m[n]);
		}
		if (more) {
			/* never sent by relay.c: drop the rest */
			zmq_msg_t x;

			do {
				zmq_msg_init(&x);
				if (zmq_msg_recv(&x, ig->relay, 0) < 0)
					more = 0;
				else
					more = zmq_msg_more(&x);
				zmq_msg_close(&x);
			} while (more);
		} else if (n == 3 && zmq_msg_size(&m[0]) <=
		    sizeof(((struct job *)0)->rid) && zmq_msg_size(&m[1]) ==
		    KEY_PUB_LEN) {
			sodium_bin2hex(hex, sizeof(hex), zmq_msg_data(&m[1]),
			    KEY_PUB_LEN);
			ig->cur = ig->relay;
			on_frame(ig, zmq_msg_data(&m[0]), zmq_msg_size(&m[0]),
			    zmq_msg_data(&m[2]), zmq_msg_size(&m[2]), false,
			    hex, "relay");
			ig->cur = ig->router;
		}
		for (int k = 0; k < n; k++)
			zmq_msg_close(&m[k]);
	}
}

/* ------------------------------------------------------------ results */

static int
grow_scratch(struct ingest *ig, size_t need)
{
	struct store_meas_in *nm;
	enum store_put *nr;
	size_t na = ig->amin ? ig->amin : 1024;

	while (na < need)
		na *= 2;
	if (na == ig->amin)
		return 0;
	if ((nm = realloc(ig->min, na * sizeof(*nm))) == NULL)
		return -1;
	ig->min = nm;
	if ((nr = realloc(ig->res, na * sizeof(*nr))) == NULL)
		return -1;
	ig->res = nr;
	ig->amin = na;
	return 0;
}

void
ingest_on_results(ingest_t *ig)
{
	struct job *list, *j, *next;
	char buf[256];

	while (read(ig->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&ig->mu);
	list = ig->done;
	ig->done = NULL;
	ig->done_tail = &ig->done;
	pthread_mutex_unlock(&ig->mu);
	for (j = list; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		ZASSERT(ig->inflight > 0);
		ig->inflight--;
		for (size_t i = 0; i < j->n; i++)
			if (j->items[i].reason != 0 && !j->items[i].again)
				ig->st.rejected[j->items[i].reason]++;
		if (j->nok == 0) {
			send_ack(ig, j, false, NULL);
			job_free(j);
			continue;
		}
		if (grow_scratch(ig, ig->group_n + j->nok) != 0) {
			log_warnx("ingest: out of memory; batch dropped "
			    "(agent resends)");
			job_free(j);
			continue;
		}
		if (ig->group == NULL)
			ig->group_deadline = ztime_mono_us() +
			    ig->o.commit_delay_ms * 1000;
		*ig->group_tail = j;
		ig->group_tail = &j->next;
		ig->group_n += j->nok;
		ig->group_jobs++;
	}
	commit_step(ig, false);
}

void
ingest_tick(ingest_t *ig)
{
	commit_step(ig, false);
}

long
ingest_timeout_ms(const ingest_t *ig)
{
	int64_t now = ztime_mono_us(), when = -1;

	/* a busy commit thread wakes the loop through the pipe */
	if (writer_state(ig->w) != WRITER_IDLE)
		return -1;
	if (ig->group != NULL)
		when = ig->group_deadline;
	else if (ig->nseen == 0)
		when = flush_due(ig);	/* -1: none */
	if (ig->nseen > 0 && (when < 0 || ig->seen_deadline < when))
		when = ig->seen_deadline;
	if (when < 0)
		return -1;
	if (when < ig->rest_until)
		when = ig->rest_until;
	if (when <= now)
		return 0;
	return (long)((when - now + 999) / 1000);
}

int
ingest_wake_fd(const ingest_t *ig)
{
	return ig->pipe[0];
}

bool
ingest_want_input(const ingest_t *ig)
{
	/* a full group waiting for the commit thread: let ZeroMQ push back */
	return ig->inflight < MAX_INFLIGHT &&
	    ig->group_n < (size_t)ig->o.commit_max &&
	    ig->group_jobs < MAX_GROUP_JOBS;
}

void
ingest_drain(ingest_t *ig)
{
	struct pollfd pfd;

	pfd.fd = ig->pipe[0];
	pfd.events = POLLIN;
	while (ig->inflight > 0) {
		(void)poll(&pfd, 1, 100);
		ingest_on_results(ig);
	}
	while (ig->group != NULL || ig->nseen > 0 ||
	    writer_state(ig->w) != WRITER_IDLE) {
		commit_wait(ig);
		commit_step(ig, true);
	}
}

void
ingest_get_stats(const ingest_t *ig, struct ingest_stats *st)
{
	struct tlpush_stats ts;

	*st = ig->st;
	st->pending = ig->group_n;
	tlpush_get_stats(ig->tl, &ts);
	st->testlist_version = ts.version;
	st->testlist_sent = ts.pushed;
	if (writer_state(ig->w) == WRITER_QUEUED)
		st->pending += ig->slot.g.n;
}

/* ------------------------------------------------------------ lifecycle */

zerr_t
ingest_new(const struct ingest_opts *o, store_t *s, writer_t *w,
    void *router, ingest_t **out, zdiag_t *d)
{
	struct ingest *ig;

	*out = NULL;
	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	ig->o = *o;
	if (ig->o.verify_threads < 1)
		ig->o.verify_threads = 1;
	if (ig->o.commit_max < 1)
		ig->o.commit_max = 1;
	/* st.rejected has a slot for every reason the schema knows */
	ZASSERT(zond__v1__reject_reason__descriptor.n_values ==
	    INGEST_NREASONS);
	/* st.enroll likewise for every EnrollStatus (enroll.h) */
	ZASSERT(zond__v1__enroll_status__descriptor.n_values ==
	    ENROLL_NSTATUS);
	if (ig->o.max_frame < 1 || ig->o.max_frame > WIRE_MAX_FRAME)
		ig->o.max_frame = WIRE_MAX_FRAME;
	ig->store = s;
	ig->w = w;
	ig->router = router;
	ig->cur = router;
	ig->todo_tail = &ig->todo;
	ig->done_tail = &ig->done;
	ig->group_tail = &ig->group;
	ig->st.storage_ok = true;
	ig->pipe[0] = ig->pipe[1] = -1;
	zbuf_init(&ig->out, WIRE_MAX_FRAME);
	pthread_mutex_init(&ig->mu, NULL);
	pthread_cond_init(&ig->cv, NULL);
	if ((ig->seen = calloc(SEEN_MAX, sizeof(*ig->seen))) == NULL ||
	    (ig->slot.seen = calloc(SEEN_MAX, sizeof(*ig->seen))) == NULL ||
	    (ig->thr = calloc((size_t)ig->o.verify_threads,
	    sizeof(*ig->thr))) == NULL || grow_scratch(ig,
	    (size_t)ig->o.commit_max + WIRE_MAX_BATCH) != 0 ||
	    tlpush_new(s, &ig->tl) != ZE_OK ||
	    agentcount_new(&ig->rej) != ZE_OK) {
		ingest_free(&ig);
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	}
	if (pipe2(ig->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		ingest_free(&ig);
		return zdiag_set(d, ZE_IO, "pipe: %s", strerror(errno));
	}
	for (int i = 0; i < ig->o.verify_threads; i++) {
		if (pthread_create(&ig->thr[i], NULL, worker_main, ig) != 0) {
			ingest_free(&ig);
			return zdiag_set(d, ZE_IO, "cannot start worker");
		}
		ig->nthr++;
	}
	*out = ig;
	return ZE_OK;
}

struct agentcount *
ingest_rejects(const ingest_t *ig)
{
	return ig->rej;
}

void
ingest_free(ingest_t **igp)
{
	struct ingest *ig;
	struct job *j, *next;

	if (igp == NULL || (ig = *igp) == NULL)
		return;
	pthread_mutex_lock(&ig->mu);
	ig->stop = true;
	pthread_cond_broadcast(&ig->cv);
	pthread_mutex_unlock(&ig->mu);
	for (int i = 0; i < ig->nthr; i++)
		pthread_join(ig->thr[i], NULL);
	/* a queued group is committed first; its jobs freed below */
	writer_wait(ig->w);
	(void)writer_reap(ig->w);
	tlpush_free(&ig->tl);
	for (j = ig->slot.jobs; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = ig->todo; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = ig->done; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = ig->group; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	if (ig->pipe[0] >= 0)
		close(ig->pipe[0]);
	if (ig->pipe[1] >= 0)
		close(ig->pipe[1]);
	pthread_mutex_destroy(&ig->mu);
	pthread_cond_destroy(&ig->cv);
	agentcount_free(&ig->rej);
	zbuf_free(&ig->out);
	free(ig->anchors);
	free(ig->seen);
	free(ig->slot.seen);
	free(ig->slot.min);
	free(ig->slot.res);
	free(ig->thr);
	free(ig->min);
	free(ig->res);
	free(ig);
	*igp = NULL;
}
