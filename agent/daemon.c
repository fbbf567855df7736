/*
 * daemon.c — the agent's one poll loop: agent_open, agent_step, agent_close.
 *
 * Each agent_step (the loop's "tick"):
 *   - polls the uplink's sockets and the scheduler's result fd, sleeping
 *     until the next timed work (uplink timers, next due test);
 *   - lets the uplink read acks/rejects/test lists (uplink_handle);
 *   - seals every finished result: next sequence number, sign, durable
 *     outbox_put — a measurement exists only once it is in the outbox;
 *   - starts due tests (sched_dispatch), or the next round when rounds
 *     are configured;
 *   - lets the uplink send, resend and heartbeat (uplink_tick).
 * On SIGHUP the test lists are read again; a list with a bad row is
 * refused with its file:line and the agent keeps measuring the last good
 * one.  A signed list the aggregator pushes (tlist.h) replaces the
 * scheduler's list the same way once it passed every check and is saved
 * as state_dir/testlist.signed; the agent starts from that file when it
 * is valid, else from the CSVs (list version 0).  While a signed list is
 * in use SIGHUP does not read the CSVs.  On SIGINT/SIGTERM the scheduler stops (running probes finish within
 * their timeouts), finished results still go to the outbox, then exit.
 * Privileges: when started as root with [agent] user set, the outbox is
 * opened and handed to that user, then the process switches to it before
 * any probe runs.  No probe needs a capability.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "log.h"
#include "measure.h"
#include "outbox.h"
#include "tlist.h"
#include "uplink.h"
#include "version.h"
#include "ztime.h"

#define TESTLIST_FILE "testlist.signed"

static volatile sig_atomic_t stop_signal, reload_signal;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void
agent_user_ids(const char *user, long *uid, long *gid)
{
	struct passwd *pw;

	*uid = *gid = -1;
	if (getuid() != 0 || user == NULL || *user == '\0' ||
	    (pw = getpwnam(user)) == NULL)
		return;	/* a missing user is reported by drop_privileges */
	*uid = (long)pw->pw_uid;
	*gid = (long)pw->pw_gid;
}

/* Give dir's files (names appended to dir; "" is dir itself) to pw; a
 * missing one is skipped.  0 on success. */
static int
give(const struct passwd *pw, const char *dir, const char *const *names,
    size_t n)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, names[i]);
		if (chown(path, pw->pw_uid, pw->pw_gid) != 0 &&
		    errno != ENOENT) {
			log_warn("chown %s", path);
			return -1;
		}
	}
	return 0;
}

/* Switch to user after giving it the outbox files.  0 on success. */
static int
drop_privileges(const char *user, const char *sdir, const char *obdir)
{
	static const char *const files[] = {"", "/data.mdb", "/lock.mdb"};
	static const char *const sfiles[] = {"", "/" TESTLIST_FILE};
	struct passwd *pw;

	if (getuid() != 0 || user == NULL || *user == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("[agent] user '%s' does not exist; create it or set "
		    "user = \"\" to keep running as root", user);
		return -1;
	}
	/* the state folder too: the agent saves pushed test lists there */
	if (give(pw, sdir, sfiles, ZARRAY_LEN(sfiles)) != 0 ||
	    give(pw, obdir, files, ZARRAY_LEN(files)) != 0)
		return -1;
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_warn("cannot switch to user %s", user);
		return -1;
	}
	log_info("running as user=%s uid=%u", user, (unsigned)pw->pw_uid);
	return 0;
}

/* Seal and store one result.  Errors are logged; the loop goes on. */
static void
store_result(outbox_t *ob, const struct measure_ctx *mc, const targets_t *t,
    sched_result_t *r, zbuf_t *body)
{
	const target_t *tg = &t->v[r->target];
	uint8_t sig[KEY_SIG_LEN];
	uint64_t seq;
	zdiag_t d;

	zbuf_reset(body);
	if (outbox_next_seq(ob, &seq, &d) != ZE_OK) {
		log_warnx("outbox: %s; measurement of %s lost", d.text,
		    tg->req.target);
		return;
	}
	if (measure_seal(mc, tg, r, seq, body, sig) != ZE_OK) {
		log_warnx("target=%s: cannot encode the measurement",
		    tg->req.target);
		return;
	}
	if (outbox_put(ob, seq, body->data, body->len, sig, &d) != ZE_OK) {
		log_warnx("outbox: %s; measurement seq=%llu lost", d.text,
		    (unsigned long long)seq);
		return;
	}
	log_info("measurement seq=%llu service=%s test=%s target=%s "
	    "failure=%s attempts=%u ms=%lld", (unsigned long long)seq,
	    tg->req.service, wire_test_name(tg->req.test), tg->req.target,
	    wire_failure_name(r->outcome->failure), r->outcome->attempts,
	    (long long)(r->duration_us / 1000));
}

struct agent {
	const struct agent_conf *c;
	const probe_env_t *env;
	const struct sched_opts *so;
	outbox_t *ob;
	uplink_t *up;
	sched_t *s;
	void *zctx;
	struct measure_ctx mc;
	aclock_t clock;		/* the aggregator's time (clock.h) */
	zidgen_t ids;
	zbuf_t body;
	const targets_t *cur;	/* the list in use: the caller's or owned */
	targets_t owned;	/* the list the last reload read */
	int64_t round_start, rounds_done, last_stats;
	bool round_running;
	uint8_t opk[KEY_PUB_LEN];	/* [uplink] operator_key */
	bool has_opk;
	uint64_t list_version;	/* signed list in use; 0: the CSVs */
	uint64_t tl_refused[TL__N];	/* pushed lists refused, by reason */
};

/*
 * Measure nt from now on: the scheduler stops (running probes finish and
 * their results are stored, sealed with the old list's version), then
 * starts again on nt, which the agent now owns (nt is emptied).
 * a->s is NULL when the scheduler could not start again.
 */
static void
swap_list(agent_t *a, targets_t *nt, uint64_t version)
{
	sched_t *ns = NULL;
	sched_result_t *r;

	sched_stop(a->s);
	while ((r = sched_pop(a->s)) != NULL) {
		store_result(a->ob, &a->mc, a->cur, r, &a->body);
		sched_result_free(r);
	}
	sched_free(&a->s);
	targets_free(&a->owned);
	a->owned = *nt;
	targets_init(nt);
	a->cur = &a->owned;
	a->list_version = version;
	a->mc.list_version = version;
	if (a->up != NULL)
		uplink_set_list_version(a->up, version);
	a->round_running = false;
	if (sched_new(a->so, a->cur, a->env, &ns) != ZE_OK) {
		log_warnx("cannot restart the scheduler");
		return;
	}
	a->s = ns;
}

/*
 * Read the CSV lists again (SIGHUP).  On any error the old list stays.
 * A signed list in use stays too: the CSVs are the fallback, not news.
 */
static void
reload_lists(agent_t *a)
{
	targets_t nt;
	zdiag_t d;

	if (a->list_version != 0) {
		log_info("reload: signed test list version=%llu in use; the "
		    "CSV lists are not read (remove %s/%s and restart to "
		    "measure them)", (unsigned long long)a->list_version,
		    a->c->state_dir, TESTLIST_FILE);
		return;
	}
	targets_init(&nt);
	if (targets_load(&nt, a->c->endpoints, a->c->urls, &d) != ZE_OK) {
		log_warnx("reload: %s; keeping the last good list (%zu tests)",
		    d.text, a->cur->n);
		targets_free(&nt);
		return;
	}
	swap_list(a, &nt, 0);
	if (a->s != NULL)
		log_info("reload: test lists read again tests=%zu", a->cur->n);
}

/*
 * A test list the aggregator pushed: apply it when it passes every check
 * (tlist_verify: signer, signature, newer, not expired, rows), after it
 * is saved; else keep the list in use, log one line and count it.
 */
static void
on_test_list(const Zond__V1__SignedTestList *tl, void *arg)
{
	agent_t *a = arg;
	struct tlist_check c = {0};
	struct tlist_info info;
	enum tlist_reason r;
	char path[4200];
	targets_t nt;
	zbuf_t raw;
	zdiag_t d;

	targets_init(&nt);
	if (!a->has_opk) {
		r = TL_NO_OPERATOR_KEY;
		snprintf(d.text, sizeof(d.text), "[uplink] operator_key is not "
		    "set: no list can be checked");
	} else {
		c.operator_pk = a->opk;
		c.newer = true;
		c.current = a->list_version;
		c.now_us = ztime_now_us();
		r = tlist_verify(tl, &c, "pushed list", &nt, &info, &d);
	}
	if (r != TL_OK) {
		a->tl_refused[r]++;
		log_warnx("test list refused reason=%s refused=%llu: %s; "
		    "keeping version=%llu", tlist_reason_name(r),
		    (unsigned long long)a->tl_refused[r], d.text,
		    (unsigned long long)a->list_version);
		targets_free(&nt);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", a->c->state_dir, TESTLIST_FILE);
	zbuf_init(&raw, WIRE_MAX_FRAME);
	if (wire_pack(&tl->base, &raw) != ZE_OK ||
	    tlist_save(path, raw.data, raw.len, &d) != ZE_OK)
		log_warnx("test list version=%llu not saved (%s): measured "
		    "until the agent restarts", (unsigned long long)
		    info.version, raw.len ? d.text : "cannot encode");
	zbuf_free(&raw);
	swap_list(a, &nt, info.version);
	log_info("test list applied version=%llu tests=%zu",
	    (unsigned long long)info.version, a->cur->n);
}

/*
 * At start: state_dir/testlist.signed when it passes the checks but
 * "newer" (an expired one is measured with a warning: the operator's
 * last list beats the packaged CSVs; the aggregator pushes a fresh one).
 * ZE_OK with *version and the rows in a->owned; else the CSVs are used.
 */
static zerr_t
load_saved_list(agent_t *a, uint64_t *version)
{
	struct tlist_check c = {0};
	struct tlist_info info;
	enum tlist_reason r;
	char path[4200];
	targets_t nt;
	zbuf_t b;
	zdiag_t d;

	*version = 0;
	snprintf(path, sizeof(path), "%s/%s", a->c->state_dir, TESTLIST_FILE);
	if (access(path, F_OK) != 0)
		return ZE_NOTFOUND;
	if (bytes_read_file(path, TLIST_MAX_FILE + 1, &b, &d) != ZE_OK) {
		log_warnx("%s; measuring the CSV lists", d.text);
		return ZE_IO;
	}
	targets_init(&nt);
	c.operator_pk = a->has_opk ? a->opk : NULL;
	r = a->has_opk ? tlist_verify_bytes(b.data, b.len, &c, path, &nt,
	    &info, &d) : TL_NO_OPERATOR_KEY;
	zbuf_free(&b);
	if (r != TL_OK) {
		log_warnx("saved test list refused reason=%s: %s; measuring "
		    "the CSV lists", tlist_reason_name(r), r ==
		    TL_NO_OPERATOR_KEY ? "[uplink] operator_key is not set" :
		    d.text);
		targets_free(&nt);
		return ZE_INVAL;
	}
	if (info.expires_us <= ztime_now_us())
		log_warnx("saved test list version=%llu has expired; measuring "
		    "it until the aggregator sends a newer one",
		    (unsigned long long)info.version);
	targets_free(&a->owned);
	a->owned = nt;
	*version = info.version;
	log_info("test list version=%llu tests=%zu from %s",
	    (unsigned long long)info.version, nt.n, path);
	return ZE_OK;
}

/* The outbox, privileges and signals: the part of agent_open that runs
 * as root when started as root. */
static zerr_t
open_outbox(agent_t *a)
{
	const struct agent_conf *c = a->c;
	char obdir[4096];
	zdiag_t d;

	if (mkdir(c->state_dir, 0700) != 0 && errno != EEXIST) {
		log_warn("cannot create state_dir %s", c->state_dir);
		return ZE_IO;
	}
	snprintf(obdir, sizeof(obdir), "%s/outbox", c->state_dir);
	if (outbox_open(obdir, c->budget, &a->ob, &d) != ZE_OK) {
		log_warnx("%s", d.text);
		return ZE_IO;
	}
	if (drop_privileges(c->user, c->state_dir, obdir) != 0)
		return ZE_PERM;
	/* its file sits beside the outbox: the directory the agent's user
	 * owns once privileges are dropped */
	aclock_init(&a->clock, obdir);
	install_signals();
	return ZE_OK;
}

zerr_t
agent_open(const struct agent_conf *c, const zkey_t *k, const targets_t *t,
    const probe_env_t *env, const struct sched_opts *so, agent_t **out)
{
	uint8_t server_pk[KEY_PUB_LEN];
	struct uplink_opts uo;
	struct outbox_stats st;
	agent_t *a;
	zdiag_t d;
	zerr_t e = ZE_INVAL;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ZE_NOMEM;
	a->c = c;
	a->env = env;
	a->so = so;
	a->cur = t;
	targets_init(&a->owned);
	zbuf_init(&a->body, WIRE_MAX_MEASUREMENT);
	if (*c->server_key == '\0') {
		log_warnx("[uplink] server_key is not set: put the aggregator's "
		    "identity.pub there");
		goto fail;
	}
	if (pubkey_from_hex(c->server_key, server_pk, &d) != ZE_OK) {
		log_warnx("[uplink] server_key: %s", d.text);
		goto fail;
	}
	if (*c->operator_key != '\0') {
		if (pubkey_from_hex(c->operator_key, a->opk, &d) != ZE_OK) {
			log_warnx("[uplink] operator_key: %s", d.text);
			goto fail;
		}
		a->has_opk = true;
	}
	if ((e = open_outbox(a)) != ZE_OK)
		goto fail;
	if (load_saved_list(a, &a->list_version) == ZE_OK)
		a->cur = &a->owned;
	a->mc.list_version = a->list_version;
	e = ZE_IO;
	if ((a->zctx = zmq_ctx_new()) == NULL) {
		log_warnx("zmq_ctx_new failed");
		goto fail;
	}
	uplink_opts_default(&uo);
	uo.heartbeat_ms = c->heartbeat_ms;
	uo.window = c->window;
	uo.agent_version = ZOND_VERSION;
	uo.list_version = a->list_version;
	uo.on_test_list = on_test_list;
	uo.arg = a;
	uo.clock = &a->clock;
	uo.relays = c->relays;
	uo.relay_after_ms = c->relay_after_ms;
	uo.relay_ca_file = c->relay_ca_file;
	uo.relay_timeout_ms = c->relay_timeout_ms;
	if ((e = uplink_new(a->zctx, c->endpoint, server_pk, k, a->ob, &uo,
	    &a->up, &d)) != ZE_OK) {
		log_warnx("uplink: %s", d.text);
		goto fail;
	}
	if ((e = sched_new(so, a->cur, env, &a->s)) != ZE_OK) {
		log_warnx("cannot start the scheduler's threads");
		goto fail;
	}
	zidgen_init(&a->ids);
	a->mc.key = k;
	a->mc.ids = &a->ids;
	a->mc.resolver = env->resolver;
	a->mc.clock = &a->clock;
	outbox_stats(a->ob, &st);
	log_info("started version=%s tests=%zu list_version=%llu endpoint=%s "
	    "backlog=%llu rounds=%lld", ZOND_VERSION, a->cur->n,
	    (unsigned long long)a->list_version, c->endpoint,
	    (unsigned long long)st.backlog, (long long)c->rounds);
	*out = a;
	return ZE_OK;
fail:
	agent_close(&a);
	return e;
}

/* Wait for sockets, results or the next timed work (at most 1 s). */
static zerr_t
wait_work(agent_t *a, int64_t now)
{
	zmq_pollitem_t items[UPLINK_POLLITEMS + 1];
	size_t n = uplink_pollitems(a->up, items, UPLINK_POLLITEMS);
	long timeout = uplink_timeout_ms(a->up, now), wait_due;
	int64_t due;

	items[n].socket = NULL;
	items[n].fd = sched_fd(a->s);
	items[n].events = ZMQ_POLLIN;
	items[n].revents = 0;
	n++;
	due = a->c->rounds > 0 ? (a->round_running ? INT64_MAX :
	    a->round_start + a->so->interval_ms * 1000) : sched_next_due(a->s);
	wait_due = due == INT64_MAX ? 1000 : (long)((due - now) / 1000);
	if (wait_due < 0)
		wait_due = 0;
	if (timeout < 0 || timeout > wait_due)
		timeout = wait_due;
	if (timeout > 1000)
		timeout = 1000;
	if (zmq_poll(items, (int)n, timeout) < 0 && errno != EINTR) {
		log_warnx("zmq_poll: %s", zmq_strerror(errno));
		return ZE_IO;
	}
	return ZE_OK;
}

/* Round mode ([schedule] rounds): start every test at once, wait until
 * all are done, then the next round one interval after the last began. */
static void
step_rounds(agent_t *a, int64_t now)
{
	if (a->round_running && sched_busy(a->s) == 0) {
		a->round_running = false;
		a->rounds_done++;
		log_info("round=%lld done", (long long)a->rounds_done);
	} else if (!a->round_running && a->rounds_done < a->c->rounds &&
	    (a->rounds_done == 0 || now >= a->round_start +
	    a->so->interval_ms * 1000)) {
		a->round_start = now;
		a->round_running = true;
		sched_run_all(a->s);
	}
}

static void
log_stats(agent_t *a, const struct outbox_stats *st, int64_t now)
{
	struct uplink_stats us;
	uint64_t refused = 0;

	if (now - a->last_stats <= 60 * 1000000LL)
		return;
	uplink_stats(a->up, &us);
	for (int i = 0; i < TL__N; i++)
		refused += a->tl_refused[i];
	log_info("stats backlog=%llu dropped=%llu rejected=%llu "
	    "sent=%llu acked=%llu connected=%d via_relay=%d "
	    "relay_requests=%llu relay_bad_replies=%llu list_version=%llu "
	    "lists_refused=%llu",
	    (unsigned long long)st->backlog,
	    (unsigned long long)st->dropped,
	    (unsigned long long)st->rejected,
	    (unsigned long long)us.sent,
	    (unsigned long long)us.acked, us.connected, us.via_relay,
	    (unsigned long long)us.relay_requests,
	    (unsigned long long)us.relay_bad_replies,
	    (unsigned long long)a->list_version, (unsigned long long)refused);
	a->last_stats = now;
}

enum agent_step
agent_step(agent_t *a)
{
	struct outbox_stats st;
	sched_result_t *r;
	int64_t now;
	zdiag_t d;

	if (stop_signal)
		return AGENT_STOP;
	if (reload_signal) {
		reload_signal = 0;
		reload_lists(a);
		if (a->s == NULL)
			return AGENT_STOP;
	}
	if (wait_work(a, ztime_mono_us()) != ZE_OK)
		return AGENT_STOP;
	now = ztime_mono_us();
	if (uplink_handle(a->up, now, &d) != ZE_OK)
		log_warnx("uplink: %s", d.text);
	if (a->s == NULL)	/* a pushed list could not restart it */
		return AGENT_STOP;
	while ((r = sched_pop(a->s)) != NULL) {
		store_result(a->ob, &a->mc, a->cur, r, &a->body);
		sched_result_free(r);
	}
	if (a->c->rounds == 0)
		sched_dispatch(a->s, now);
	else
		step_rounds(a, now);
	if (uplink_tick(a->up, now, &d) != ZE_OK)
		log_warnx("uplink: %s", d.text);
	outbox_stats(a->ob, &st);
	if (a->c->rounds > 0 && a->rounds_done >= a->c->rounds &&
	    !a->round_running && st.backlog == 0) {
		log_info("all %lld rounds measured and delivered",
		    (long long)a->c->rounds);
		return AGENT_DONE;
	}
	log_stats(a, &st, now);
	return AGENT_GO;
}

void
agent_close(agent_t **ap)
{
	agent_t *a;
	sched_result_t *r;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	if (a->s != NULL) {
		/* what was measured before the stop still goes to the outbox */
		sched_stop(a->s);
		while (a->ob != NULL && (r = sched_pop(a->s)) != NULL) {
			store_result(a->ob, &a->mc, a->cur, r, &a->body);
			sched_result_free(r);
		}
		sched_free(&a->s);
	}
	uplink_free(&a->up);
	if (a->zctx != NULL)
		zmq_ctx_term(a->zctx);
	outbox_close(&a->ob);
	targets_free(&a->owned);
	zbuf_free(&a->body);
	free(a);
	*ap = NULL;
}

int
agent_daemon(const struct agent_conf *c, const zkey_t *k, const targets_t *t,
    const probe_env_t *env, const struct sched_opts *so)
{
	agent_t *a;
	enum agent_step st;

	if (agent_open(c, k, t, env, so, &a) != ZE_OK)
		return 1;
	while ((st = agent_step(a)) == AGENT_GO)
		;
	if (st == AGENT_STOP)
		log_info("signal %d: stopping", (int)stop_signal);
	agent_close(&a);
	return 0;
}
