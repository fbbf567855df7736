/*
 * analyzer.c — see analyzer.h.
 */
#include "analyzer.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fingerprint.h"
#include "log.h"
#include "ztime.h"

#define HOOK_TIMEOUT_S 10
#define ROUND_BATCH 1000	/* measurements per analyzer round */
#define HOOK_BACKOFF_MIN_MS 1000
#define HOOK_BACKOFF_MAX_MS (5 * 60 * 1000)
#define HOOK_DOC_MAX (64 * 1024)
#define SILENCE_EVERY_US (5 * 1000000LL)	/* rollup_silence at most */

struct analyzer {
	store_t *store;
	struct rollup_opts o;
	struct fpdb *fp;		/* o.v.fp: [analysis] fingerprints */
	int64_t interval_ms;
	char *webhook;
	pthread_t th, hook_th;
	bool th_on, hook_on;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool quit;
	struct analyzer_stats st;	/* guarded by mu */
};

void
analyzer_opts(const struct aggr_conf *conf, const struct ipasn *asn,
    struct rollup_opts *o)
{
	rollup_opts_default(o);
	o->v.asn = asn;
	o->window_us = conf->window_ms * 1000;
	o->settle_us = conf->settle_ms * 1000;
	o->c.min_measurements = (uint32_t)conf->min_measurements;
	o->c.min_agents = (uint32_t)conf->min_agents;
	o->c.regime_min_agents = (uint32_t)conf->regime_min_agents;
	o->sil.after_us = conf->silence_after_ms * 1000;
	o->sil.spread_us = conf->silence_spread_ms * 1000;
	o->hook = conf->webhook != NULL && *conf->webhook != '\0';
	o->hook_max_age_us = conf->webhook_max_age_ms * 1000;
	o->batch = ROUND_BATCH;
}

/* Sleep ms unless told to quit; true when quitting. */
static bool
nap(analyzer_t *a, int64_t ms)
{
	struct timespec ts;
	bool q;

	/* monotonic (the cv's clock): a stepped wall clock does not
	 * stretch the nap */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->quit && pthread_cond_timedwait(&a->cv, &a->mu, &ts) !=
	    ETIMEDOUT)
		;
	q = a->quit;
	pthread_mutex_unlock(&a->mu);
	return q;
}

static void *
analyzer_run(void *arg)
{
	analyzer_t *a = arg;
	zdiag_t d;
	bool ready = false;
	int64_t up_us = ztime_now_us(), sil_us = 0;

	pthread_setname_np(pthread_self(), "zond-analyzer");

	for (;;) {
		struct rollup_stats rs;

		memset(&rs, 0, sizeof(rs));
		if (!ready) {
			if (rollup_prepare(a->store, &d) == ZE_OK)
				ready = true;
			else
				log_warnx("analysis: %s; trying again", d.text);
		}
		/* each round's writes ride on an ingest commit (writer.h:
		 * one LMDB writer, one fsync for both); a backlog goes
		 * round after round until the queue is done or we are told
		 * to stop */
		for (bool more = ready; more;) {
			if (rollup_round(a->store, &a->o, ztime_now_us(), &rs,
			    &more, &d) != ZE_OK) {
				log_warnx("analysis: %s; trying again",
				    d.text);
				break;
			}
			if (more && nap(a, 0))
				break;
		}
		/* networks falling silent together (and back) */
		if (ready && ztime_now_us() - sil_us >= SILENCE_EVERY_US) {
			sil_us = ztime_now_us();
			if (rollup_silence(a->store, &a->o, sil_us, up_us, &rs,
			    NULL, NULL, &d) != ZE_OK)
				log_warnx("analysis: %s; trying again", d.text);
		}
		if (rs.judged + rs.settled + rs.controls > 0)
			log_debug("analysis judged=%" PRIu64 " settled=%" PRIu64
			    " changed=%" PRIu64 " expired=%" PRIu64
			    " controls=%" PRIu64 " events=%" PRIu64, rs.judged,
			    rs.settled, rs.changed, rs.expired, rs.controls,
			    rs.events);
		pthread_mutex_lock(&a->mu);
		a->st.r.rounds += rs.rounds;
		a->st.r.judged += rs.judged;
		a->st.r.settled += rs.settled;
		a->st.r.changed += rs.changed;
		a->st.r.expired += rs.expired;
		a->st.r.controls += rs.controls;
		a->st.r.events += rs.events;
		a->st.r.hooked += rs.hooked;
		pthread_mutex_unlock(&a->mu);
		if (nap(a, a->interval_ms))
			break;
	}
	return NULL;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POST one document; true on a 2xx answer. */
static bool
hook_post(CURL *c, const char *url, const zbuf_t *doc, char *why,
    size_t whylen)
{
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode rc;

	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)doc->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)doc->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HOOK_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "zond-aggregator");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return false;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, whylen, "HTTP status %ld", status);
		return false;
	}
	return true;
}

static void *
hook_run(void *arg)
{
	analyzer_t *a = arg;
	CURL *c = curl_easy_init();
	int64_t backoff = HOOK_BACKOFF_MIN_MS;
	zbuf_t doc;
	zdiag_t d;

	pthread_setname_np(pthread_self(), "zond-webhook");

	if (c == NULL) {
		log_warnx("webhook: curl_easy_init failed; events stay queued");
		return NULL;
	}
	zbuf_init(&doc, HOOK_DOC_MAX);
	for (;;) {
		uint64_t seq;
		char why[CURL_ERROR_SIZE + 64];
		zerr_t e = store_hook_peek(a->store, &seq, &doc, &d);

		if (e == ZE_NOTFOUND) {
			if (nap(a, 1000))
				break;
			continue;
		}
		if (e == ZE_OK && zbuf_putc(&doc, '\0') == ZE_OK) {
			doc.len--;	/* NUL-terminated for libcurl */
			if (hook_post(c, a->webhook, &doc, why, sizeof(why))) {
				if (store_hook_del(a->store, seq, &d) != ZE_OK)
					log_warnx("webhook: %s", d.text);
				pthread_mutex_lock(&a->mu);
				a->st.hook_sent++;
				pthread_mutex_unlock(&a->mu);
				log_info("webhook: event %" PRIu64 " delivered",
				    seq);
				backoff = HOOK_BACKOFF_MIN_MS;
				continue;
			}
			log_warnx("webhook: %s: %s; event %" PRIu64 " stays "
			    "queued, retry in %" PRId64 " ms", a->webhook, why,
			    seq, backoff);
		} else
			log_warnx("webhook: reading the queue: %s", d.text);
		pthread_mutex_lock(&a->mu);
		a->st.hook_failed++;
		pthread_mutex_unlock(&a->mu);
		if (nap(a, backoff))
			break;
		backoff = backoff * 2 > HOOK_BACKOFF_MAX_MS ?
		    HOOK_BACKOFF_MAX_MS : backoff * 2;
	}
	zbuf_free(&doc);
	curl_easy_cleanup(c);
	return NULL;
}

static zerr_t
via_writer(void *ctx, const struct store_extra *x, zdiag_t *d)
{
	return writer_apply(ctx, x, d);
}

zerr_t
analyzer_fingerprints(const struct aggr_conf *conf, struct fpdb **out,
    zdiag_t *d)
{
	*out = NULL;
	if (conf->fingerprints == NULL || *conf->fingerprints == '\0')
		return ZE_OK;
	return fpdb_load(conf->fingerprints, out, d);
}

zerr_t
analyzer_start(store_t *s, const struct aggr_conf *conf,
    const struct ipasn *asn, writer_t *w, analyzer_t **out, zdiag_t *d)
{
	analyzer_t *a;
	zerr_t e;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	a->store = s;
	analyzer_opts(conf, asn, &a->o);
	if ((e = analyzer_fingerprints(conf, &a->fp, d)) != ZE_OK) {
		free(a);
		return e;
	}
	a->o.v.fp = a->fp;
	if (w != NULL) {
		a->o.write = via_writer;
		a->o.write_ctx = w;
	}
	a->interval_ms = conf->analysis_interval_ms;
	pthread_mutex_init(&a->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&a->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (a->o.hook && (a->webhook = strdup(conf->webhook)) == NULL) {
		analyzer_stop(&a);
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	}
	if (pthread_create(&a->th, NULL, analyzer_run, a) != 0) {
		analyzer_stop(&a);
		return zdiag_set(d, ZE_IO, "cannot start the analyzer thread");
	}
	a->th_on = true;
	if (a->o.hook) {
		if (pthread_create(&a->hook_th, NULL, hook_run, a) != 0) {
			analyzer_stop(&a);
			return zdiag_set(d, ZE_IO, "cannot start the webhook "
			    "thread");
		}
		a->hook_on = true;
	}
	log_info("analysis window_ms=%" PRId64 " settle_ms=%" PRId64
	    " interval_ms=%" PRId64 " webhook=%s fingerprints=%zu",
	    conf->window_ms, conf->settle_ms, conf->analysis_interval_ms,
	    a->o.hook ? a->webhook : "(none)", fpdb_count(a->fp));
	*out = a;
	return ZE_OK;
}

void
analyzer_get_stats(analyzer_t *a, struct analyzer_stats *st)
{
	if (a == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&a->mu);
	*st = a->st;
	pthread_mutex_unlock(&a->mu);
	if (store_hook_count(a->store, &st->hook_queued, NULL) != ZE_OK)
		st->hook_queued = 0;
}

void
analyzer_stop(analyzer_t **ap)
{
	analyzer_t *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->quit = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->th_on)
		pthread_join(a->th, NULL);
	if (a->hook_on)
		pthread_join(a->hook_th, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->webhook);
	fpdb_free(&a->fp);
	free(a);
	*ap = NULL;
}
