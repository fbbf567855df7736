/* scheduler.c — see scheduler.h.  One mutex guards the job queue, the
 * per-target busy flags and the result list; workers wait on a condition
 * variable; an eventfd wakes the main loop when results arrive. */
#include "scheduler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "probe_locate.h"
#include "wire.h"
#include "probe_util.h"
#include "resolve.h"
#include "ztime.h"

#define SCHED_MAX_WORKERS 64

struct sched {
	struct sched_opts o;
	const targets_t *t;
	const probe_env_t *env;
	int64_t *next_due;	/* per target, monotonic us */
	uint32_t *runs;		/* per target: runs started (req.run) */
	bool *busy;		/* queued or running */
	size_t *queue;		/* ring of target indices */
	size_t *scratch;	/* due targets of one dispatch (main loop) */
	size_t qhead, qlen;
	size_t running;
	sched_result_t *res_head, *res_tail;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pthread_t workers[SCHED_MAX_WORKERS];
	int nworkers;
	int efd;
	struct locate_limit lim;
};

/* Host part of a "host" or "host:port" target. */
static void
target_host(const char *target, char *host, size_t len)
{
	const char *colon = strrchr(target, ':');
	size_t n = strlen(target);

	if (colon != NULL && strchr(target, ':') == colon)
		n = (size_t)(colon - target);
	if (n >= len)
		n = len - 1;
	memcpy(host, target, n);
	host[n] = '\0';
}

/*
 * Resolve a host-name target with the system resolver.  On failure the
 * outcome says what the resolver answered.
 */
static Zond__V1__Outcome *
resolve(const char *target, char *ip, size_t iplen)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	Zond__V1__Outcome *o;
	Zond__V1__Failure f;
	int r;

	target_host(target, host, sizeof(host));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, NULL, &hints, &ai);
	if (r == 0 && ai != NULL) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    ai->ai_addr)->sin_addr, ip, (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    ai->ai_addr)->sin6_addr, ip, (socklen_t)iplen);
		freeaddrinfo(ai);
		return NULL;
	}
	if ((o = pu_outcome_new()) == NULL)
		return NULL;
	f = r == EAI_NONAME ? ZOND__V1__FAILURE__FAIL_NXDOMAIN :
	    r == EAI_AGAIN ? ZOND__V1__FAILURE__FAIL_TIMEOUT :
	    ZOND__V1__FAILURE__FAIL_LOCAL;
	pu_fail(o, f, "system resolver: %s: %s", host, gai_strerror(r));
	return o;
}

/* Interruptible sleep: false when the scheduler is stopping. */
static bool
nap(sched_t *s, int64_t ms)
{
	struct timespec ts;
	bool stop;

	/* the cv waits on CLOCK_MONOTONIC: a Pi's wall clock set back by
	 * hours (NTP at last) must not stretch a retry delay by as much */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return !stop;
}

/*
 * The system resolver's answer for a test of a name (resolve.h) as the
 * test's address: *ip points into *res (replaced at each attempt).  NULL
 * when it gave one, else the outcome saying what it answered; *res NULL
 * only when out of memory.
 */
static Zond__V1__Outcome *
resolve_named_target(const char *host, Zond__V1__Resolution **res,
    const char **ip)
{
	Zond__V1__Outcome *o;
	char why[400];

	zond__v1__resolution__free_unpacked(*res, NULL);
	*res = NULL;
	*ip = NULL;
	if (resolve_system(host, res, why, sizeof(why)) != ZE_OK)
		return NULL;
	if ((*res)->n_system > 0) {
		*ip = (*res)->system[0];
		return NULL;
	}
	if ((o = pu_outcome_new()) != NULL)
		pu_fail(o, (*res)->system_failure, "%s", why);
	return o;
}

/* The localization of a failed test (probe_locate.h) into *locp, when
 * wanted and the rate limits allow it.  ZE_NOMEM only. */
static zerr_t
localize(sched_t *s, size_t idx, const probe_req_t *req,
    const Zond__V1__Outcome *o, const struct probe_sent *sent,
    Zond__V1__Localization **locp)
{
	struct locate_cfg lc;
	Zond__V1__Localization *L;

	if (s->o.locate && req->test == ZOND__V1__TEST_KIND__TEST_CALL) {
		/* the path variant has probed the hops already */
		if (locate_from_call(o, locp) != ZE_OK)
			return ZE_NOMEM;
		if (*locp != NULL)
			goto logit;
		/* relay: replayed below, as stun is */
	}
	if (!s->o.locate || !locate_wanted(req->test, o->failure) ||
	    !locate_limit_take(&s->lim, idx, ztime_mono_us()))
		return ZE_OK;
	lc.max_ttl = s->o.locate_max_ttl;
	lc.budget_ms = LOCATE_MAX_MS;
	if (locate_run(s->env, &lc, req, o, sent, locp) != ZE_OK)
		return ZE_NOMEM;
logit:
	if ((L = *locp) != NULL)
		log_info("locate target=%s test=%s trigger=%s result=%s "
		    "reason=%s hop=%u addr=%s reaction=%s packets=%u ms=%u",
		    req->target, wire_test_name(req->test), L->trigger,
		    L->result == ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED ?
		    "located" : "not_located", L->reason, L->censor_hop,
		    L->censor_addr != NULL ? L->censor_addr : "-",
		    locate_reaction_name(L->reaction), L->packets,
		    L->duration_us / 1000);
	return ZE_OK;
}

/* Run one target with retries; returns the outcome to report and, for a
 * test of a name (resolve.h), its Resolution in *resp, and the failure's
 * localization in *locp. */
static Zond__V1__Outcome *
run_target(sched_t *s, size_t idx, Zond__V1__Resolution **resp,
    Zond__V1__Localization **locp)
{
	const target_t *tg = &s->t->v[idx];
	struct probe_sent sent;
	probe_req_t req = tg->req;
	const probe_info_t *pi = probe_info(req.test);
	probe_fn fn = pi != NULL ? pi->run : NULL;
	Zond__V1__Outcome *o = NULL;
	Zond__V1__Resolution *res = NULL;
	char ip[64], host[256];
	const char *rip = NULL;
	bool named = resolve_named(&tg->req, host, sizeof(host));
	uint32_t attempt;
	zdiag_t d;

	*resp = NULL;
	req.run = s->runs[idx]++;	/* one worker per target at a time */
	*locp = NULL;
	sent.len = 0;
	req.sent = &sent;
	if (req.ip != NULL && strcmp(req.ip, TARGET_IP_HELPER) == 0) {
		req.ip = s->o.helper;
		if (req.ip == NULL) {
			o = pu_outcome_new();
			if (o != NULL)
				pu_fail(o, ZOND__V1__FAILURE__FAIL_LOCAL,
				    "no [tests] helper configured");
			return o;
		}
	}
	for (attempt = 1;; attempt++) {
		if (named) {
			o = resolve_named_target(host, &res, &rip);
			if (res == NULL)
				return NULL;	/* out of memory */
			/* http: libcurl resolves the URL itself */
			if (pi != NULL && pi->connects)
				req.ip = rip;
			else if (o != NULL) {
				zond__v1__outcome__free_unpacked(o, NULL);
				o = NULL;
			}
		} else if (req.ip == NULL && pi != NULL && pi->connects) {
			o = resolve(req.target, ip, sizeof(ip));
			if (o == NULL)
				req.ip = ip;
		}
		if (o == NULL && fn == NULL) {
			if ((o = pu_outcome_new()) != NULL)
				pu_fail(o, ZOND__V1__FAILURE__FAIL_LOCAL,
				    "no probe for this test");
		} else if (o == NULL) {
			d.text[0] = '\0';
			if (fn(s->env, &req, &o, &d) != ZE_OK) {
				/* the request itself is unusable: no retry */
				if (o == NULL)
					o = pu_outcome_new();
				if (o != NULL)
					pu_fail(o,
					    ZOND__V1__FAILURE__FAIL_LOCAL,
					    "%s", d.text);
				break;
			}
		}
		if (o == NULL)
			goto nomem;
		if (o->failure == ZOND__V1__FAILURE__FAIL_NONE ||
		    attempt > (uint32_t)s->o.retries)
			break;
		log_debug("retry target=%s test=%s attempt=%u failure=%s",
		    tg->req.target, wire_test_name(req.test), attempt,
		    wire_failure_name(o->failure));
		zond__v1__outcome__free_unpacked(o, NULL);
		o = NULL;
		if (tg->req.ip == NULL)
			req.ip = NULL;	/* resolve again */
		if (!nap(s, s->o.retry_delay_ms))
			goto nomem;
	}
	o->has_attempts = 1;
	o->attempts = attempt;
	if (pu_outcome_shape(o, req.test) != ZE_OK)
		goto nomem;
	/* the second opinion, once, after the test's own attempts */
	if (res != NULL && resolve_second(s->env, &tg->req, res) != ZE_OK)
		goto nomem;
	if (res != NULL && res->alt_addr != NULL)
		log_debug("resolution target=%s system=%zu doh=%zu alt=%s "
		    "alt_failure=%s", tg->req.target, res->n_system, res->n_doh,
		    res->alt_addr, wire_failure_name(res->alt_failure));
	if (localize(s, idx, &req, o, &sent, locp) != ZE_OK)
		goto nomem;
	*resp = res;
	return o;
nomem:
	zond__v1__outcome__free_unpacked(o, NULL);
	zond__v1__resolution__free_unpacked(res, NULL);
	return NULL;
}

static void *
worker(void *arg)
{
	sched_t *s = arg;

	for (;;) {
		size_t idx;
		sched_result_t *r;
		int64_t t0, m0;
		uint64_t one = 1;

		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->qlen == 0)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		idx = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % (s->t->n ? s->t->n : 1);
		s->qlen--;
		s->running++;
		pthread_mutex_unlock(&s->mu);

		t0 = ztime_now_us();
		m0 = ztime_mono_us();
		r = calloc(1, sizeof(*r));
		if (r != NULL) {
			r->target = idx;
			r->start_us = t0;
			r->boot_us = ztime_boot_us();
			r->outcome = run_target(s, idx, &r->resolution,
			    &r->locate);
			r->duration_us = ztime_mono_us() - m0;
			if (r->outcome == NULL) {
				free(r);
				r = NULL;
			}
		}
		pthread_mutex_lock(&s->mu);
		s->running--;
		s->busy[idx] = false;
		if (r != NULL) {
			if (s->res_tail != NULL)
				s->res_tail->next = r;
			else
				s->res_head = r;
			s->res_tail = r;
		}
		pthread_mutex_unlock(&s->mu);
		if (r == NULL)
			log_warnx("target=%s: out of memory or stopping; "
			    "result lost", s->t->v[idx].req.target);
		(void)!write(s->efd, &one, sizeof(one));
	}
}

static int64_t
spread(int64_t ms)
{
	if (ms <= 0)
		return 0;
	if (ms > UINT32_MAX / 1000)
		return (int64_t)randombytes_uniform(UINT32_MAX / 1000) * 1000;
	return (int64_t)randombytes_uniform((uint32_t)(ms * 1000));
}

zerr_t
sched_new(const struct sched_opts *o, const targets_t *t,
    const probe_env_t *env, sched_t **out)
{
	sched_t *s;
	int64_t now = ztime_mono_us();
	int n = o->concurrency;

	if (n < 1)
		n = 1;
	if (n > SCHED_MAX_WORKERS)
		n = SCHED_MAX_WORKERS;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZE_NOMEM;
	s->o = *o;
	s->t = t;
	s->env = env;
	s->efd = -1;
	s->next_due = calloc(t->n + 1, sizeof(*s->next_due));
	s->busy = calloc(t->n + 1, sizeof(*s->busy));
	s->queue = calloc(t->n + 1, sizeof(*s->queue));
	s->scratch = calloc(t->n + 1, sizeof(*s->scratch));
	s->runs = calloc(t->n + 1, sizeof(*s->runs));
	if (s->next_due == NULL || s->busy == NULL || s->queue == NULL ||
	    s->scratch == NULL || s->runs == NULL ||
	    locate_limit_init(&s->lim, t->n, o->locate_interval_ms,
	    o->locate_per_hour) != ZE_OK)
		goto fail;
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto fail;
	/* first runs spread over one jitter span, so a restart does not
	 * fire every test at once */
	for (size_t i = 0; i < t->n; i++) {
		s->next_due[i] = now + spread(o->jitter_ms);
		/* agents start a port range at different ports */
		s->runs[i] = randombytes_random();
	}
	pthread_mutex_init(&s->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (int i = 0; i < n; i++) {
		if (pthread_create(&s->workers[i], NULL, worker, s) != 0)
			break;
		s->nworkers++;
	}
	if (s->nworkers == 0) {
		sched_free(&s);
		return ZE_IO;
	}
	*out = s;
	return ZE_OK;
fail:
	free(s->next_due);
	free(s->busy);
	free(s->queue);
	free(s->scratch);
	free(s->runs);
	if (s->efd >= 0)
		close(s->efd);
	locate_limit_fini(&s->lim);
	free(s);
	return ZE_NOMEM;
}

void
sched_stop(sched_t *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	s->nworkers = 0;
}

void
sched_free(sched_t **sp)
{
	sched_t *s;
	sched_result_t *r;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	sched_stop(s);
	while ((r = s->res_head) != NULL) {
		s->res_head = r->next;
		sched_result_free(r);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	close(s->efd);
	free(s->next_due);
	free(s->busy);
	free(s->queue);
	free(s->scratch);
	free(s->runs);
	locate_limit_fini(&s->lim);
	free(s);
	*sp = NULL;
}

int
sched_fd(const sched_t *s)
{
	return s->efd;
}

/* Queue the given targets in random order.  Caller holds no lock. */
static void
enqueue(sched_t *s, size_t *idx, size_t n)
{
	/* Fisher-Yates shuffle: no fixed order for the censor to learn */
	for (size_t i = n; i > 1; i--) {
		size_t j = randombytes_uniform((uint32_t)i);
		size_t tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		if (s->busy[idx[i]])
			continue;
		s->busy[idx[i]] = true;
		s->queue[(s->qhead + s->qlen) % s->t->n] = idx[i];
		s->qlen++;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
sched_dispatch(sched_t *s, int64_t now)
{
	size_t *due = s->scratch, n = 0;

	for (size_t i = 0; i < s->t->n; i++) {
		int64_t iv;
		if (s->next_due[i] > now)
			continue;
		iv = s->t->v[i].interval_ms ? s->t->v[i].interval_ms :
		    s->o.interval_ms;
		s->next_due[i] = now + iv * 1000 + spread(s->o.jitter_ms);
		due[n++] = i;
	}
	if (n > 0)
		enqueue(s, due, n);
}

void
sched_run_all(sched_t *s)
{
	size_t *all = s->scratch;

	if (s->t->n == 0)
		return;
	for (size_t i = 0; i < s->t->n; i++)
		all[i] = i;
	enqueue(s, all, s->t->n);
}

int64_t
sched_next_due(const sched_t *s)
{
	int64_t m = INT64_MAX;

	for (size_t i = 0; i < s->t->n; i++)
		if (s->next_due[i] < m)
			m = s->next_due[i];
	return m;
}

size_t
sched_busy(sched_t *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->qlen + s->running;
	pthread_mutex_unlock(&s->mu);
	return n;
}

sched_result_t *
sched_pop(sched_t *s)
{
	sched_result_t *r;
	uint64_t v;

	(void)!read(s->efd, &v, sizeof(v));
	pthread_mutex_lock(&s->mu);
	r = s->res_head;
	if (r != NULL) {
		s->res_head = r->next;
		if (s->res_head == NULL)
			s->res_tail = NULL;
		r->next = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
sched_result_free(sched_result_t *r)
{
	if (r == NULL)
		return;
	if (r->outcome != NULL)
		zond__v1__outcome__free_unpacked(r->outcome, NULL);
	if (r->resolution != NULL)
		zond__v1__resolution__free_unpacked(r->resolution, NULL);
	if (r->locate != NULL)
		zond__v1__localization__free_unpacked(r->locate, NULL);
	free(r);
}
