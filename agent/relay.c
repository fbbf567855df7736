/*
 * relay.c — see relay.h.
 *
 * Invariants: at most one exchange is under way (job or result pending);
 * boot_us of successive requests strictly increases; a reply is trusted
 * only after relay_reply_open, and the body it verified is the one hashed
 * when the request was built.  The worker never reads more than
 * RELAY_MAX_REPLY bytes of a reply.  Failure round: every URL failing in
 * turn doubles the pause before the next try (capped); one success resets.
 */
#include "relay.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sign.h"
#include "wire.h"
#include "ztime.h"

#define MS 1000LL
#define URL_MAX 1024
#define RELAY_MAX_REQUEST (WIRE_MAX_FRAME + 4096)

/* ------------------------------------------------------------ envelope */

zerr_t
relay_request_build(const zkey_t *k, const uint8_t boot_id[RELAY_BOOT_ID_LEN],
    uint64_t boot_us, const uint8_t *uplink, size_t n, zbuf_t *out,
    uint8_t hash[RELAY_HASH_LEN], zdiag_t *d)
{
	Zond__V1__RelayBody b = ZOND__V1__RELAY_BODY__INIT;
	Zond__V1__RelayRequest rq = ZOND__V1__RELAY_REQUEST__INIT;
	uint8_t sig[KEY_SIG_LEN];
	zbuf_t body;
	zerr_t e;

	zbuf_init(&body, RELAY_MAX_REQUEST);
	b.has_agent = b.has_boot_id = b.has_boot_us = b.has_uplink = 1;
	b.agent.data = (uint8_t *)(uintptr_t)key_public(k);
	b.agent.len = KEY_PUB_LEN;
	b.boot_id.data = (uint8_t *)(uintptr_t)boot_id;
	b.boot_id.len = RELAY_BOOT_ID_LEN;
	b.boot_us = boot_us;
	b.uplink.data = (uint8_t *)(uintptr_t)uplink;
	b.uplink.len = n;
	if ((e = wire_pack(&b.base, &body)) != ZE_OK) {
		e = zdiag_set(d, e, "relay: cannot encode a request of %zu "
		    "bytes: %s", n, zerr_str(e));
		goto out;
	}
	if ((e = sign_body(k, ZDOM_RELAY, body.data, body.len, sig)) !=
	    ZE_OK) {
		e = zdiag_set(d, e, "relay: cannot sign a request");
		goto out;
	}
	crypto_hash_sha256(hash, body.data, body.len);
	rq.has_body = rq.has_sig = 1;
	rq.body.data = body.data;
	rq.body.len = body.len;
	rq.sig.data = sig;
	rq.sig.len = KEY_SIG_LEN;
	zbuf_reset(out);
	if ((e = wire_pack(&rq.base, out)) != ZE_OK)
		e = zdiag_set(d, e, "relay: cannot encode a request: %s",
		    zerr_str(e));
out:
	zbuf_free(&body);
	return e;
}

zerr_t
relay_reply_open(const uint8_t server_pk[KEY_PUB_LEN], const uint8_t *reply,
    size_t n, const uint8_t hash[RELAY_HASH_LEN], zbuf_t *downlink,
    enum relay_reply_why *why, zdiag_t *d)
{
	Zond__V1__RelayReply *r = NULL;
	Zond__V1__RelayReplyBody *b = NULL;
	zerr_t e = ZE_OK;

	*why = RELAY_REPLY_MALFORMED;
	if (n == 0 || n > RELAY_MAX_REPLY)
		return zdiag_set(d, ZE_PARSE, "relay reply: %zu bytes (1 to "
		    "%d expected)", n, RELAY_MAX_REPLY);
	if ((r = zond__v1__relay_reply__unpack(NULL, n, reply)) == NULL) {
		e = zdiag_set(d, ZE_PARSE, "relay reply: not a RelayReply");
		goto out;
	}
	if (!r->has_body || !r->has_sig || r->sig.len != KEY_SIG_LEN) {
		*why = RELAY_REPLY_FORGED;
		e = zdiag_set(d, ZE_BADSIG, "relay reply: %s", !r->has_body ?
		    "no body" : "no signature of 64 bytes");
		goto out;
	}
	if (sign_verify(ZDOM_RELAY_REPLY, server_pk, r->body.data,
	    r->body.len, r->sig.data) != ZE_OK) {
		*why = RELAY_REPLY_FORGED;
		e = zdiag_set(d, ZE_BADSIG, "relay reply: the signature is "
		    "not the aggregator's ([uplink] server_key)");
		goto out;
	}
	if ((b = zond__v1__relay_reply_body__unpack(NULL, r->body.len,
	    r->body.data)) == NULL || !b->has_downlink) {
		e = zdiag_set(d, ZE_PARSE, "relay reply: signed body is not a "
		    "RelayReplyBody with a downlink");
		goto out;
	}
	if (!b->has_request_hash || b->request_hash.len != RELAY_HASH_LEN ||
	    sodium_memcmp(b->request_hash.data, hash, RELAY_HASH_LEN) != 0) {
		*why = RELAY_REPLY_MISMATCH;
		e = zdiag_set(d, ZE_BADSIG, "relay reply: signed for another "
		    "request (request_hash differs)");
		goto out;
	}
	zbuf_reset(downlink);
	if ((e = zbuf_append(downlink, b->downlink.data, b->downlink.len)) !=
	    ZE_OK) {
		e = zdiag_set(d, e, "relay reply: downlink of %zu bytes",
		    b->downlink.len);
		goto out;
	}
	*why = RELAY_REPLY_OK;
out:
	if (b != NULL)
		zond__v1__relay_reply_body__free_unpacked(b, NULL);
	if (r != NULL)
		zond__v1__relay_reply__free_unpacked(r, NULL);
	return e;
}

/* ------------------------------------------------------------ URLs */

/* The i-th URL of a comma-separated list into buf, trimmed; false when
 * there is none. */
static bool
url_at(const char *urls, size_t i, char *buf, size_t n)
{
	const char *p = urls, *end;
	size_t len;

	for (size_t k = 0;; k++) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (k == i) {
			if (len == 0 || len >= n)
				return false;
			memcpy(buf, p, len);
			buf[len] = '\0';
			return true;
		}
		if (end == NULL)
			return false;
		p = end + 1;
	}
}

zerr_t
relay_urls_check(const char *urls, size_t *np, zdiag_t *d)
{
	char u[URL_MAX];
	size_t n = 0, commas = 0;

	for (const char *p = urls; *p != '\0'; p++)
		commas += *p == ',';
	if (commas >= RELAY_MAX_URLS)
		return zdiag_set(d, ZE_RANGE, "%zu relay URLs (at most %d)",
		    commas + 1, RELAY_MAX_URLS);
	for (size_t i = 0; i <= commas; i++) {
		if (!url_at(urls, i, u, sizeof(u)))
			return zdiag_set(d, ZE_PARSE, "relay URL %zu is empty "
			    "or longer than %d bytes", i + 1, URL_MAX - 1);
		if (strncmp(u, "https://", 8) != 0 &&
		    strncmp(u, "http://", 7) != 0)
			return zdiag_set(d, ZE_PARSE, "relay URL %zu '%.64s' "
			    "is not https://HOST/PATH", i + 1, u);
		for (const char *c = u; *c != '\0'; c++)
			if ((unsigned char)*c <= ' ' || *c == 0x7f ||
			    *c == '"' || *c == '\\')
				return zdiag_set(d, ZE_PARSE, "relay URL %zu "
				    "'%.64s' holds a space, quote or control "
				    "byte", i + 1, u);
		n++;
	}
	if (np != NULL)
		*np = n;
	return ZE_OK;
}

/* ------------------------------------------------------------ worker */

struct relay {
	/* main thread only */
	const zkey_t *k;
	uint8_t server_pk[KEY_PUB_LEN];
	uint8_t boot_id[RELAY_BOOT_ID_LEN];
	uint64_t last_boot_us;
	struct relay_opts o;
	char *urls;
	size_t n_urls;
	size_t cur;		/* URL in use */
	size_t fails_in_row;	/* URLs failed since the last success */
	int64_t backoff_us;
	int64_t ready_at;	/* backoff end */
	bool busy;		/* a job handed to the worker, not polled */
	uint8_t hash[RELAY_HASH_LEN];
	char url[URL_MAX];
	struct relay_stats st;
	int64_t logged_us;	/* last failure log */

	/* shared under mu */
	pthread_t th;
	bool th_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool job;		/* req/url set, worker to run it */
	bool done;		/* result fields set */
	zbuf_t req;
	long status;		/* HTTP status, 0: no answer */
	CURLcode cc;
	char err[CURL_ERROR_SIZE];
	zbuf_t resp;
	bool resp_toobig;
	long retry_after_s;
	atomic_bool abort;
	int pipe[2];
};

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct relay *r = arg;
	size_t n = sz * nm;

	if (zbuf_append(&r->resp, p, n) != ZE_OK) {
		r->resp_toobig = true;
		return 0;	/* curl aborts the transfer */
	}
	return n;
}

static int
on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t e)
{
	struct relay *r = arg;

	(void)a, (void)b, (void)c, (void)e;
	return atomic_load(&r->abort) ? 1 : 0;
}

/* One exchange on the worker thread; the request buffer is not touched
 * by the main thread while job is set. */
static void
perform(struct relay *r, CURL *h, struct curl_slist *hdrs)
{
	char err[CURL_ERROR_SIZE];
	curl_off_t ra = -1;
	long status = 0;
	CURLcode cc;

	err[0] = '\0';
	zbuf_reset(&r->resp);
	r->resp_toobig = false;
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)r->req.data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)r->req.len);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra);
	}
	pthread_mutex_lock(&r->mu);
	r->cc = cc;
	r->status = status;
	r->retry_after_s = ra > 0 && ra < 86400 ? (long)ra : 0;
	snprintf(r->err, sizeof(r->err), "%s", err[0] != '\0' ? err :
	    curl_easy_strerror(cc));
	r->job = false;
	r->done = true;
	pthread_mutex_unlock(&r->mu);
	while (write(r->pipe[1], "x", 1) < 0 && errno == EINTR)
		;
}

static void *
worker(void *arg)
{
	struct relay *r = arg;
	struct curl_slist *hdrs = NULL;
	CURL *h;

	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	if (h != NULL) {
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)r->o.timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)r->o.timeout_ms);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "zond-agent");
		if (r->o.ca_file != NULL && *r->o.ca_file != '\0')
			curl_easy_setopt(h, CURLOPT_CAINFO, r->o.ca_file);
	}
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && !r->job)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		if (h == NULL || hdrs == NULL) {
			pthread_mutex_lock(&r->mu);
			r->cc = CURLE_OUT_OF_MEMORY;
			r->status = 0;
			snprintf(r->err, sizeof(r->err), "no curl handle");
			r->job = false;
			r->done = true;
			pthread_mutex_unlock(&r->mu);
			while (write(r->pipe[1], "x", 1) < 0 && errno == EINTR)
				;
		} else {
			perform(r, h, hdrs);
		}
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	return NULL;
}

/* ------------------------------------------------------------ main side */

zerr_t
relay_new(const struct relay_opts *o, const zkey_t *k,
    const uint8_t server_pk[KEY_PUB_LEN],
    const uint8_t boot_id[RELAY_BOOT_ID_LEN], relay_t **out, zdiag_t *d)
{
	struct relay *r;
	sigset_t all, old;
	zerr_t e;
	size_t n;
	int rc;

	*out = NULL;
	if ((e = relay_urls_check(o->urls, &n, d)) != ZE_OK)
		return e;
	if (o->timeout_ms < 1 || o->backoff_ms < 1 ||
	    o->backoff_max_ms < o->backoff_ms)
		return zdiag_set(d, ZE_RANGE, "relay: option out of range");
	/* at start, not at the first cut: a typo would show only then */
	if (o->ca_file != NULL && *o->ca_file != '\0' &&
	    access(o->ca_file, R_OK) != 0)
		return zdiag_set(d, ZE_IO, "[uplink] relay_ca_file %s: %s",
		    o->ca_file, strerror(errno));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ZE_NOMEM;
	r->pipe[0] = r->pipe[1] = -1;
	r->k = k;
	memcpy(r->server_pk, server_pk, KEY_PUB_LEN);
	memcpy(r->boot_id, boot_id, RELAY_BOOT_ID_LEN);
	r->o = *o;
	r->n_urls = n;
	r->backoff_us = o->backoff_ms * MS;
	zbuf_init(&r->req, RELAY_MAX_REQUEST);
	zbuf_init(&r->resp, RELAY_MAX_REPLY);
	atomic_init(&r->abort, false);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if ((r->urls = strdup(o->urls)) == NULL) {
		e = ZE_NOMEM;
		goto bad;
	}
	r->o.urls = r->urls;
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		e = zdiag_set(d, ZE_IO, "relay: pipe: %s", strerror(errno));
		goto bad;
	}
	/* signals are the main loop's: the worker blocks them all */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->th, NULL, worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		e = zdiag_set(d, ZE_IO, "relay: cannot start its thread");
		goto bad;
	}
	r->th_started = true;
	*out = r;
	return ZE_OK;
bad:
	relay_free(&r);
	return e;
}

void
relay_free(relay_t **rp)
{
	relay_t *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->th_started) {
		atomic_store(&r->abort, true);
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->th, NULL);
	}
	if (r->pipe[0] >= 0)
		close(r->pipe[0]);
	if (r->pipe[1] >= 0)
		close(r->pipe[1]);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	zbuf_free(&r->req);
	zbuf_free(&r->resp);
	free(r->urls);
	free(r);
	*rp = NULL;
}

int
relay_fd(const relay_t *r)
{
	return r->pipe[0];
}

bool
relay_ready(const relay_t *r, int64_t now_us)
{
	return !r->busy && now_us >= r->ready_at;
}

zerr_t
relay_send(relay_t *r, const uint8_t *uplink, size_t n, int64_t now_us,
    zdiag_t *d)
{
	uint64_t boot_us = (uint64_t)ztime_boot_us();
	zerr_t e;

	if (!relay_ready(r, now_us))
		return zdiag_set(d, ZE_RANGE, "relay: busy");
	if (boot_us <= r->last_boot_us)
		boot_us = r->last_boot_us + 1;
	/* the worker is idle (not busy): req and url are ours */
	if ((e = relay_request_build(r->k, r->boot_id, boot_us, uplink, n,
	    &r->req, r->hash, d)) != ZE_OK)
		return e;
	if (!url_at(r->urls, r->cur, r->url, sizeof(r->url)))
		return zdiag_set(d, ZE_INVAL, "relay: no URL %zu", r->cur);
	r->last_boot_us = boot_us;
	r->busy = true;
	r->st.requests++;
	pthread_mutex_lock(&r->mu);
	r->job = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	log_debug("relay: request url=%s bytes=%zu", r->url, r->req.len);
	return ZE_OK;
}

static int
status_slot(long s)
{
	switch (s) {
	case 400: return 0;
	case 403: return 1;
	case 409: return 2;
	case 413: return 3;
	case 429: return 4;
	case 503: return 5;
	default: return -1;
	}
}

/* Printable start of a text/plain error body, for the log. */
static void
reason_text(const zbuf_t *b, char *out, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < b->len && j + 1 < n && j < 120; i++) {
		unsigned char c = b->data[i];

		if (c == '\n' || c == '\r')
			break;
		out[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[j] = '\0';
}

/* This URL failed: the next one; after a whole round, pause longer. */
static void
failed(relay_t *r, int64_t now_us, long retry_after_s, const char *what)
{
	int64_t pause = r->o.backoff_ms * MS;

	r->st.failed++;
	r->fails_in_row++;
	r->cur = (r->cur + 1) % r->n_urls;
	if (r->fails_in_row >= r->n_urls) {
		pause = r->backoff_us;
		r->backoff_us = r->backoff_us * 2 > r->o.backoff_max_ms * MS ?
		    r->o.backoff_max_ms * MS : r->backoff_us * 2;
	}
	if (retry_after_s > 0 && retry_after_s * 1000 * MS > pause)
		pause = retry_after_s * 1000 * MS > r->o.backoff_max_ms * MS ?
		    r->o.backoff_max_ms * MS : retry_after_s * 1000 * MS;
	r->ready_at = now_us + pause;
	log_warnx("relay: %s url=%s next=%zu retry_in_ms=%lld failed=%llu",
	    what, r->url, r->cur + 1, (long long)(pause / MS),
	    (unsigned long long)r->st.failed);
}

enum relay_outcome
relay_poll(relay_t *r, int64_t now_us, zbuf_t *downlink)
{
	enum relay_reply_why why;
	char buf[64], what[256], text[128];
	long status, ra;
	CURLcode cc;
	bool done, toobig;
	zdiag_t d;
	int slot;

	while (read(r->pipe[0], buf, sizeof(buf)) > 0)
		;
	if (!r->busy)
		return RELAY_NONE;
	pthread_mutex_lock(&r->mu);
	done = r->done;
	r->done = false;
	status = r->status;
	cc = r->cc;
	ra = r->retry_after_s;
	toobig = r->resp_toobig;
	snprintf(what, sizeof(what), "%s", r->err);
	pthread_mutex_unlock(&r->mu);
	if (!done)
		return RELAY_NONE;
	r->busy = false;	/* the worker is idle: resp is ours */
	if (cc != CURLE_OK) {
		char msg[320];

		snprintf(msg, sizeof(msg), "%s: %.200s", toobig ?
		    "reply over the size limit" : "no answer", what);
		failed(r, now_us, 0, msg);
		return RELAY_FAILED;
	}
	if (status != 200) {
		char msg[320];

		if ((slot = status_slot(status)) >= 0)
			r->st.http_status[slot]++;
		reason_text(&r->resp, text, sizeof(text));
		snprintf(msg, sizeof(msg), "HTTP %ld%s reason=\"%s\"", status,
		    status == 403 ? " (is this agent enrolled and enabled?)" :
		    status == 429 ? " (rate limited)" : status == 503 ?
		    " (aggregator cannot store now)" : "", text);
		failed(r, now_us, ra, msg);
		return status == 413 ? RELAY_TOOLARGE : RELAY_FAILED;
	}
	if (relay_reply_open(r->server_pk, r->resp.data, r->resp.len, r->hash,
	    downlink, &why, &d) != ZE_OK) {
		char msg[320];

		r->st.bad_replies++;
		snprintf(msg, sizeof(msg), "reply refused, nothing applied "
		    "(%.200s) bad_replies=%llu", d.text,
		    (unsigned long long)r->st.bad_replies);
		failed(r, now_us, 0, msg);
		return RELAY_FAILED;
	}
	r->st.ok++;
	r->fails_in_row = 0;
	r->backoff_us = r->o.backoff_ms * MS;
	return RELAY_DOWNLINK;
}

long
relay_timeout_ms(const relay_t *r, int64_t now_us)
{
	if (r->busy || r->ready_at <= now_us)
		return -1;
	return (long)((r->ready_at - now_us + MS - 1) / MS);
}

void
relay_stats(const relay_t *r, struct relay_stats *st)
{
	*st = r->st;
	st->current = r->cur;
}
