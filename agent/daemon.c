/*
 * daemon.c — the agent's one poll loop.
 *
 * Each iteration (the loop's "tick"):
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
 * one.  On SIGINT/SIGTERM the scheduler stops (running probes finish within
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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "measure.h"
#include "outbox.h"
#include "uplink.h"
#include "version.h"
#include "ztime.h"

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

/* Switch to user after giving it the outbox files.  0 on success. */
static int
drop_privileges(const char *user, const char *obdir)
{
	static const char *const files[] = {"", "/data.mdb", "/lock.mdb"};
	struct passwd *pw;
	char path[4096];

	if (getuid() != 0 || user == NULL || *user == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("[agent] user '%s' does not exist; create it or set "
		    "user = \"\" to keep running as root", user);
		return -1;
	}
	for (size_t i = 0; i < ZARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s%s", obdir, files[i]);
		if (chown(path, pw->pw_uid, pw->pw_gid) != 0 &&
		    errno != ENOENT) {
			log_warn("chown %s", path);
			return -1;
		}
	}
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

/*
 * Read the lists again.  On success the scheduler restarts on the new
 * list (running probes finish first and their results are stored); on
 * any error the old list stays.  *cur points at the list in use; *owned
 * is the list this function loaded last (freed when replaced).
 */
static void
reload_lists(const struct agent_conf *c, const struct sched_opts *so,
    const probe_env_t *env, sched_t **s, const targets_t **cur,
    targets_t *owned, outbox_t *ob, const struct measure_ctx *mc,
    zbuf_t *body)
{
	targets_t nt;
	sched_t *ns = NULL;
	sched_result_t *r;
	zdiag_t d;

	targets_init(&nt);
	if (targets_load(&nt, c->endpoints, c->urls, &d) != ZE_OK) {
		log_warnx("reload: %s; keeping the last good list (%zu tests)",
		    d.text, (*cur)->n);
		targets_free(&nt);
		return;
	}
	sched_stop(*s);
	while ((r = sched_pop(*s)) != NULL) {
		store_result(ob, mc, *cur, r, body);
		sched_result_free(r);
	}
	sched_free(s);
	targets_free(owned);
	*owned = nt;
	*cur = owned;
	if (sched_new(so, *cur, env, &ns) != ZE_OK) {
		log_warnx("reload: cannot restart the scheduler");
		return;
	}
	*s = ns;
	log_info("reload: test lists read again tests=%zu", (*cur)->n);
}

int
agent_daemon(const struct agent_conf *c, const zkey_t *k, const targets_t *t,
    const probe_env_t *env, const struct sched_opts *so)
{
	uint8_t server_pk[KEY_PUB_LEN];
	struct uplink_opts uo;
	struct measure_ctx mc;
	struct outbox_stats st;
	zidgen_t ids;
	outbox_t *ob = NULL;
	uplink_t *up = NULL;
	sched_t *s = NULL;
	void *zctx = NULL;
	char obdir[4096];
	zbuf_t body;
	zdiag_t d;
	int64_t round_start = 0, rounds_done = 0, last_stats = 0;
	bool round_running = false;
	const targets_t *cur = t;
	targets_t owned;
	int rc = 1;

	targets_init(&owned);

	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	memset(&mc, 0, sizeof(mc));
	if (*c->server_key == '\0') {
		log_warnx("[uplink] server_key is not set: put the aggregator's "
		    "identity.pub there");
		goto out;
	}
	if (pubkey_from_hex(c->server_key, server_pk, &d) != ZE_OK) {
		log_warnx("[uplink] server_key: %s", d.text);
		goto out;
	}
	if (mkdir(c->state_dir, 0700) != 0 && errno != EEXIST) {
		log_warn("cannot create state_dir %s", c->state_dir);
		goto out;
	}
	snprintf(obdir, sizeof(obdir), "%s/outbox", c->state_dir);
	if (outbox_open(obdir, c->budget, &ob, &d) != ZE_OK) {
		log_warnx("%s", d.text);
		goto out;
	}
	if (drop_privileges(c->user, obdir) != 0)
		goto out;
	install_signals();
	if ((zctx = zmq_ctx_new()) == NULL) {
		log_warnx("zmq_ctx_new failed");
		goto out;
	}
	uplink_opts_default(&uo);
	uo.heartbeat_ms = c->heartbeat_ms;
	uo.window = c->window;
	uo.agent_version = ZOND_VERSION;
	if (uplink_new(zctx, c->endpoint, server_pk, k, ob, &uo, &up, &d) !=
	    ZE_OK) {
		log_warnx("uplink: %s", d.text);
		goto out;
	}
	if (sched_new(so, t, env, &s) != ZE_OK) {
		log_warnx("cannot start the scheduler's threads");
		goto out;
	}
	zidgen_init(&ids);
	memset(&mc, 0, sizeof(mc));
	mc.key = k;
	mc.ids = &ids;
	mc.resolver = env->resolver;
	outbox_stats(ob, &st);
	log_info("started version=%s tests=%zu endpoint=%s backlog=%llu "
	    "rounds=%lld", ZOND_VERSION, t->n, c->endpoint,
	    (unsigned long long)st.backlog, (long long)c->rounds);

	while (!stop_signal) {
		zmq_pollitem_t items[UPLINK_POLLITEMS + 1];
		size_t n = uplink_pollitems(up, items, UPLINK_POLLITEMS);
		int64_t now = ztime_mono_us(), due;
		long timeout = uplink_timeout_ms(up, now), wait_due;
		sched_result_t *r;

		if (reload_signal) {
			reload_signal = 0;
			reload_lists(c, so, env, &s, &cur, &owned, ob, &mc, &body);
			if (s == NULL)
				break;
			round_running = false;
		}
		items[n].socket = NULL;
		items[n].fd = sched_fd(s);
		items[n].events = ZMQ_POLLIN;
		items[n].revents = 0;
		n++;
		due = c->rounds > 0 ? (round_running ? INT64_MAX :
		    round_start + so->interval_ms * 1000) : sched_next_due(s);
		wait_due = due == INT64_MAX ? 1000 : (long)((due - now) / 1000);
		if (wait_due < 0)
			wait_due = 0;
		if (timeout < 0 || timeout > wait_due)
			timeout = wait_due;
		if (timeout > 1000)
			timeout = 1000;
		if (zmq_poll(items, (int)n, timeout) < 0 && errno != EINTR) {
			log_warnx("zmq_poll: %s", zmq_strerror(errno));
			break;
		}
		now = ztime_mono_us();
		if (uplink_handle(up, now, &d) != ZE_OK)
			log_warnx("uplink: %s", d.text);
		while ((r = sched_pop(s)) != NULL) {
			store_result(ob, &mc, cur, r, &body);
			sched_result_free(r);
		}
		if (c->rounds == 0) {
			sched_dispatch(s, now);
		} else if (round_running && sched_busy(s) == 0) {
			round_running = false;
			rounds_done++;
			log_info("round=%lld done", (long long)rounds_done);
		} else if (!round_running && rounds_done < c->rounds &&
		    (rounds_done == 0 || now >= round_start +
		    so->interval_ms * 1000)) {
			round_start = now;
			round_running = true;
			sched_run_all(s);
		}
		if (uplink_tick(up, now, &d) != ZE_OK)
			log_warnx("uplink: %s", d.text);
		outbox_stats(ob, &st);
		if (c->rounds > 0 && rounds_done >= c->rounds &&
		    !round_running && st.backlog == 0) {
			log_info("all %lld rounds measured and delivered",
			    (long long)c->rounds);
			rc = 0;
			goto out;
		}
		if (now - last_stats > 60 * 1000000LL) {
			struct uplink_stats us;
			uplink_stats(up, &us);
			log_info("stats backlog=%llu dropped=%llu rejected=%llu "
			    "sent=%llu acked=%llu connected=%d",
			    (unsigned long long)st.backlog,
			    (unsigned long long)st.dropped,
			    (unsigned long long)st.rejected,
			    (unsigned long long)us.sent,
			    (unsigned long long)us.acked, us.connected);
			last_stats = now;
		}
	}
	log_info("signal %d: stopping", (int)stop_signal);
	rc = 0;
out:
	if (s != NULL) {
		sched_result_t *r;
		/* what was measured before the stop still goes to the outbox */
		sched_stop(s);
		while (ob != NULL && (r = sched_pop(s)) != NULL) {
			store_result(ob, &mc, cur, r, &body);
			sched_result_free(r);
		}
		sched_free(&s);
	}
	uplink_free(&up);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	outbox_close(&ob);
	targets_free(&owned);
	zbuf_free(&body);
	return rc;
}
