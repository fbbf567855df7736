/*
 * relay.c — see relay.h.
 *
 * Invariants:
 *  - A body is never held beyond max_body: a Content-Length over it is
 *    answered 413 before any of the body is read; a chunked body that
 *    grows over it is cut (the connection is closed).
 *  - The envelope is checked in the order that costs an attacker most and
 *    us least: decoding, then the registry (unknown or disabled: 403),
 *    then the Ed25519 signature, and only a verified request touches the
 *    per-agent tables (the replay rule, then the rate), so nobody but the
 *    agent (or a relay replaying its requests) can spend its rate.
 *  - The per-agent table holds enrolled, verified keys only (bounded by the
 *    registry); the rate table and the log limiter have fixed sizes
 *    (ratelimit.h).
 *  - Every answer but 200 is text/plain, one line naming what is wrong;
 *    each refusal is counted and logged at most once a minute per source
 *    address.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bytes.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "sign.h"
#include "wire.h"
#include "zbuf.h"
#include "zclock.h"
#include "zond.pb-c.h"
#include "ztime.h"

#define RELAY_PATH "/ingest/v1"
#define RELAY_MAX_CONN 512	/* connections (threads) at once */
#define RELAY_RATE_SLOTS 4096	/* rate table (fixed) */
#define RELAY_LOG_SLOTS 1024	/* log limiter: one line a minute a source */
#define RELAY_PAST_BOOTS 4	/* earlier boots remembered per agent */
#define PEM_MAX (64 * 1024)

/* An agent that sent a verified request: its boot and the newest
 * boot_us seen in it, and the boots before (requests naming them are
 * replays). */
struct boot_ent {
	uint8_t agent[KEY_PUB_LEN];
	bool used;
	uint8_t boot_id[ZCLOCK_BOOT_ID_LEN];
	uint64_t boot_us;
	uint8_t past[RELAY_PAST_BOOTS][ZCLOCK_BOOT_ID_LEN];
	unsigned npast;
};

struct relay {
	struct relay_opts o;
	void *ctx;
	store_t *store;
	const zkey_t *key;
	struct MHD_Daemon *mhd;
	zbuf_t cert, tkey;

	pthread_mutex_t mu;	/* boots, rate, logrl */
	struct boot_ent *boots;
	size_t nboots, aboots;
	rlimit_t *rate;
	rlimit_t *logrl;

	atomic_bool stopping;	/* relay_stop: waits for the ingest end */
	_Atomic uint64_t c_requests, c_ok, c_bad, c_forbidden, c_not_found,
	    c_replay, c_too_large, c_limited, c_unavailable;
};

/* One request's body as it arrives. */
struct req {
	zbuf_t body;
	bool started;
};

/* ------------------------------------------------------------ answers */

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *ctype,
    const void *p, size_t n, const char *retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(n, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, "Content-Type", ctype);
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	if (retry_after != NULL)
		(void)MHD_add_response_header(r, "Retry-After", retry_after);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, "Allow", "POST");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
peer_of(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, n, "-");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, out, (socklen_t)n);
}

/* A refusal: count it, log it (once a minute per source), answer it. */
static enum MHD_Result
refuse(struct relay *r, struct MHD_Connection *c, unsigned status,
    const char *agent_hex, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum MHD_Result
refuse(struct relay *r, struct MHD_Connection *c, unsigned status,
    const char *agent_hex, const char *fmt, ...)
{
	char why[256], peer[INET6_ADDRSTRLEN + 1], line[300], ra[24];
	const char *retry = NULL;
	va_list ap;
	bool log;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	switch (status) {
	case MHD_HTTP_BAD_REQUEST:
		atomic_fetch_add(&r->c_bad, 1);
		break;
	case MHD_HTTP_FORBIDDEN:
		atomic_fetch_add(&r->c_forbidden, 1);
		break;
	case MHD_HTTP_NOT_FOUND:
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		atomic_fetch_add(&r->c_not_found, 1);
		break;
	case MHD_HTTP_CONFLICT:
		atomic_fetch_add(&r->c_replay, 1);
		break;
	case MHD_HTTP_CONTENT_TOO_LARGE:
		atomic_fetch_add(&r->c_too_large, 1);
		break;
	case MHD_HTTP_TOO_MANY_REQUESTS:
		atomic_fetch_add(&r->c_limited, 1);
		snprintf(ra, sizeof(ra), "%" PRId64, r->o.rate >= 60 ? 1 :
		    (60 + r->o.rate - 1) / r->o.rate);
		retry = ra;
		break;
	default:
		atomic_fetch_add(&r->c_unavailable, 1);
		retry = "5";
		break;
	}
	peer_of(c, peer, sizeof(peer));
	pthread_mutex_lock(&r->mu);
	log = rl_allow(r->logrl, peer, strlen(peer), ztime_mono_us());
	pthread_mutex_unlock(&r->mu);
	if (log)
		log_warnx("relay: refused from=%s agent=%.16s status=%u: %s "
		    "(logged once a minute per source)", peer,
		    agent_hex != NULL ? agent_hex : "-", status, why);
	snprintf(line, sizeof(line), "%s\n", why);
	return respond(c, status, "text/plain; charset=utf-8", line,
	    strlen(line), retry);
}

/* ------------------------------------------------------------ tables */

static size_t
boot_slot(const struct boot_ent *t, size_t cap, const uint8_t *agent)
{
	uint64_t h;
	size_t i;

	memcpy(&h, agent, sizeof(h));	/* verified keys: uniform */
	for (i = (size_t)h & (cap - 1); t[i].used &&
	    memcmp(t[i].agent, agent, KEY_PUB_LEN) != 0; i = (i + 1) &
	    (cap - 1))
		;
	return i;
}

/* The agent's entry, made when new; NULL when out of memory. */
static struct boot_ent *
boot_get(struct relay *r, const uint8_t *agent)
{
	size_t i;

	if (2 * (r->nboots + 1) > r->aboots) {
		size_t cap = r->aboots ? 2 * r->aboots : 64;
		struct boot_ent *t = calloc(cap, sizeof(*t));

		if (t == NULL)
			return NULL;
		for (size_t k = 0; k < r->aboots; k++)
			if (r->boots[k].used)
				t[boot_slot(t, cap, r->boots[k].agent)] =
				    r->boots[k];
		free(r->boots);
		r->boots = t;
		r->aboots = cap;
	}
	i = boot_slot(r->boots, r->aboots, agent);
	if (!r->boots[i].used) {
		memset(&r->boots[i], 0, sizeof(r->boots[i]));
		r->boots[i].used = true;
		memcpy(r->boots[i].agent, agent, KEY_PUB_LEN);
		r->nboots++;
	}
	return &r->boots[i];
}

enum admit { ADMIT_OK, ADMIT_REPLAY, ADMIT_OLD_BOOT, ADMIT_RATE,
    ADMIT_NOMEM };

/* The replay rule (boot_us strictly increasing within a boot; an earlier
 * boot of the agent is never accepted again), then the rate.  A request
 * refused for its rate does not move boot_us: the agent's next one is
 * newer anyway. */
static enum admit
admit(struct relay *r, const uint8_t *agent, const uint8_t *boot_id,
    uint64_t boot_us)
{
	struct boot_ent *b;
	enum admit res = ADMIT_OK;
	bool fresh;

	pthread_mutex_lock(&r->mu);
	if ((b = boot_get(r, agent)) == NULL) {
		res = ADMIT_NOMEM;
		goto out;
	}
	fresh = b->boot_us == 0 && sodium_is_zero(b->boot_id,
	    ZCLOCK_BOOT_ID_LEN);
	if (!fresh && memcmp(b->boot_id, boot_id, ZCLOCK_BOOT_ID_LEN) == 0) {
		if (boot_us <= b->boot_us) {
			res = ADMIT_REPLAY;
			goto out;
		}
	} else {
		for (unsigned k = 0; k < b->npast; k++)
			if (memcmp(b->past[k], boot_id,
			    ZCLOCK_BOOT_ID_LEN) == 0) {
				res = ADMIT_OLD_BOOT;
				goto out;
			}
	}
	if (!rl_allow(r->rate, agent, KEY_PUB_LEN, ztime_mono_us())) {
		res = ADMIT_RATE;
		goto out;
	}
	if (!fresh && memcmp(b->boot_id, boot_id, ZCLOCK_BOOT_ID_LEN) != 0) {
		/* a new boot: the current one joins the past (oldest out) */
		if (b->npast == RELAY_PAST_BOOTS) {
			memmove(b->past[0], b->past[1], (RELAY_PAST_BOOTS - 1) *
			    ZCLOCK_BOOT_ID_LEN);
			b->npast--;
		}
		memcpy(b->past[b->npast++], b->boot_id, ZCLOCK_BOOT_ID_LEN);
	}
	memcpy(b->boot_id, boot_id, ZCLOCK_BOOT_ID_LEN);
	b->boot_us = boot_us;
out:
	pthread_mutex_unlock(&r->mu);
	return res;
}

/* ------------------------------------------------------------ ingest */

/* Hand the Uplink to the ingest main loop as agent's and wait for its one
 * Downlink (at most reply_ms).  *dl: caller closes. */
static zerr_t
ingest_call(struct relay *r, const uint8_t *agent, const uint8_t *up,
    size_t n, zmq_msg_t *dl, zdiag_t *d)
{
	int linger = 0, tmo = (int)r->o.reply_ms, rc = 0;
	int64_t until = ztime_mono_us() + r->o.reply_ms * 1000, left;
	zmq_pollitem_t pi;
	void *s;
	zerr_t e = ZE_OK;

	if ((s = zmq_socket(r->ctx, ZMQ_DEALER)) == NULL)
		return zdiag_set(d, ZE_IO, "zmq_socket: %s",
		    zmq_strerror(zmq_errno()));
	(void)zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	(void)zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
	if (zmq_connect(s, RELAY_INPROC) != 0) {
		e = zdiag_set(d, ZE_IO, "ingest not reachable: %s",
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	if (zmq_send(s, agent, KEY_PUB_LEN, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, up, n, 0) < 0) {
		e = zdiag_set(d, ZE_TIMEOUT, "ingest busy");
		goto out;
	}
	pi.socket = s;
	pi.fd = -1;
	pi.events = ZMQ_POLLIN;
	pi.revents = 0;
	/* in slices: at shutdown the main loop no longer answers */
	while (!atomic_load(&r->stopping) && (left = until -
	    ztime_mono_us()) > 0 && (rc = zmq_poll(&pi, 1, left > 100000 ?
	    100 : (long)(left + 999) / 1000)) == 0)
		;
	if (rc != 1 || zmq_msg_recv(dl, s, ZMQ_DONTWAIT) < 0) {
		e = zdiag_set(d, ZE_TIMEOUT, "the ingest did not answer "
		    "within %" PRId64 " ms", r->o.reply_ms);
		goto out;
	}
out:
	zmq_close(s);
	return e;
}

/* 200 with the signed RelayReply for request body rb and Downlink dl. */
static enum MHD_Result
answer(struct relay *r, struct MHD_Connection *c, const uint8_t *rb,
    size_t rbn, const void *dl, size_t dln)
{
	Zond__V1__RelayReplyBody body = ZOND__V1__RELAY_REPLY_BODY__INIT;
	Zond__V1__RelayReply rep = ZOND__V1__RELAY_REPLY__INIT;
	uint8_t hash[crypto_hash_sha256_BYTES], sig[KEY_SIG_LEN];
	uint8_t *bb = NULL, *out = NULL;
	size_t bn, on;
	enum MHD_Result ret;

	crypto_hash_sha256(hash, rb, rbn);
	body.has_request_hash = 1;
	body.request_hash.data = hash;
	body.request_hash.len = sizeof(hash);
	body.has_downlink = 1;
	body.downlink.data = (uint8_t *)(uintptr_t)dl;
	body.downlink.len = dln;
	bn = zond__v1__relay_reply_body__get_packed_size(&body);
	if ((bb = malloc(bn ? bn : 1)) == NULL)
		goto fail;
	zond__v1__relay_reply_body__pack(&body, bb);
	if (sign_body(r->key, ZDOM_RELAY_REPLY, bb, bn, sig) != ZE_OK)
		goto fail;
	rep.has_body = 1;
	rep.body.data = bb;
	rep.body.len = bn;
	rep.has_sig = 1;
	rep.sig.data = sig;
	rep.sig.len = sizeof(sig);
	on = zond__v1__relay_reply__get_packed_size(&rep);
	if ((out = malloc(on)) == NULL)
		goto fail;
	zond__v1__relay_reply__pack(&rep, out);
	atomic_fetch_add(&r->c_ok, 1);
	ret = respond(c, MHD_HTTP_OK, "application/octet-stream", out, on,
	    NULL);
	free(bb);
	free(out);
	return ret;
fail:
	free(bb);
	free(out);
	return refuse(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
	    "out of memory; retry");
}

/* The whole body is in: check the envelope, relay, answer. */
static enum MHD_Result
on_body(struct relay *r, struct MHD_Connection *c, const uint8_t *p,
    size_t n)
{
	Zond__V1__RelayRequest *rq = NULL;
	Zond__V1__RelayBody *rb = NULL;
	char hex[KEY_HEX_LEN + 1];
	struct store_agent a;
	zmq_msg_t dl;
	enum MHD_Result ret;
	enum admit ad;
	zdiag_t d;
	zerr_t e;

	if ((rq = zond__v1__relay_request__unpack(NULL, n, p)) == NULL) {
		ret = refuse(r, c, MHD_HTTP_BAD_REQUEST, NULL, "the body "
		    "(%zu bytes) is not a RelayRequest", n);
		goto out;
	}
	if (!rq->has_body || !rq->has_sig || rq->sig.len != KEY_SIG_LEN) {
		ret = refuse(r, c, MHD_HTTP_BAD_REQUEST, NULL, "RelayRequest "
		    "needs body and a %d-byte sig", KEY_SIG_LEN);
		goto out;
	}
	if ((rb = zond__v1__relay_body__unpack(NULL, rq->body.len,
	    rq->body.data)) == NULL) {
		ret = refuse(r, c, MHD_HTTP_BAD_REQUEST, NULL,
		    "RelayRequest.body is not a RelayBody");
		goto out;
	}
	if (!rb->has_agent || rb->agent.len != KEY_PUB_LEN) {
		ret = refuse(r, c, MHD_HTTP_BAD_REQUEST, NULL,
		    "RelayBody.agent must be a %d-byte key", KEY_PUB_LEN);
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), rb->agent.data, KEY_PUB_LEN);
	if (!rb->has_boot_id || rb->boot_id.len != ZCLOCK_BOOT_ID_LEN ||
	    !rb->has_boot_us || !rb->has_uplink || rb->uplink.len == 0) {
		ret = refuse(r, c, MHD_HTTP_BAD_REQUEST, hex, "RelayBody "
		    "needs a %d-byte boot_id, boot_us and an uplink",
		    ZCLOCK_BOOT_ID_LEN);
		goto out;
	}
	e = store_agent_get(r->store, rb->agent.data, &a, &d);
	if (e == ZE_NOTFOUND) {
		ret = refuse(r, c, MHD_HTTP_FORBIDDEN, hex,
		    "agent not enrolled");
		goto out;
	}
	if (e != ZE_OK) {
		ret = refuse(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, hex,
		    "registry: %s; retry", d.text);
		goto out;
	}
	if (!a.enabled) {
		ret = refuse(r, c, MHD_HTTP_FORBIDDEN, hex, "agent disabled");
		goto out;
	}
	if (sign_verify(ZDOM_RELAY, rb->agent.data, rq->body.data,
	    rq->body.len, rq->sig.data) != ZE_OK) {
		ret = refuse(r, c, MHD_HTTP_FORBIDDEN, hex, "the request's "
		    "signature does not verify with the agent's key");
		goto out;
	}
	ad = admit(r, rb->agent.data, rb->boot_id.data, rb->boot_us);
	if (ad == ADMIT_REPLAY || ad == ADMIT_OLD_BOOT) {
		ret = refuse(r, c, MHD_HTTP_CONFLICT, hex, ad == ADMIT_REPLAY ?
		    "replay: boot_us %" PRIu64 " is not newer than the last "
		    "request of this boot" : "replay: boot_us %" PRIu64 " of "
		    "an earlier boot", rb->boot_us);
		goto out;
	}
	if (ad == ADMIT_RATE) {
		ret = refuse(r, c, MHD_HTTP_TOO_MANY_REQUESTS, hex, "more than "
		    "%" PRId64 " requests a minute", r->o.rate);
		goto out;
	}
	if (ad == ADMIT_NOMEM) {
		ret = refuse(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, hex,
		    "out of memory; retry");
		goto out;
	}
	zmq_msg_init(&dl);
	if (ingest_call(r, rb->agent.data, rb->uplink.data, rb->uplink.len,
	    &dl, &d) != ZE_OK) {
		zmq_msg_close(&dl);
		ret = refuse(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, hex, "%s; "
		    "retry", d.text);
		goto out;
	}
	ret = answer(r, c, rq->body.data, rq->body.len, zmq_msg_data(&dl),
	    zmq_msg_size(&dl));
	zmq_msg_close(&dl);
out:
	zond__v1__relay_body__free_unpacked(rb, NULL);
	zond__v1__relay_request__free_unpacked(rq, NULL);
	return ret;
}

/* ------------------------------------------------------------ MHD */

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct relay *r = cls;
	struct req *q = *con_cls;
	const char *cl;

	(void)version;
	if (q == NULL) {
		atomic_fetch_add(&r->c_requests, 1);
		if (strcmp(url, RELAY_PATH) != 0)
			return refuse(r, c, MHD_HTTP_NOT_FOUND, NULL,
			    "no such resource; POST " RELAY_PATH);
		if (strcmp(method, "POST") != 0)
			return refuse(r, c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
			    "%s " RELAY_PATH ": only POST", method);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(cl, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    v > (unsigned long long)r->o.max_body)
				/* answered before the body is read */
				return refuse(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
				    NULL, "body of %s bytes is over the %"
				    PRId64 "-byte limit", cl, r->o.max_body);
		}
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		zbuf_init(&q->body, (size_t)r->o.max_body);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_len > 0) {
		if (zbuf_append(&q->body, upload, *upload_len) != ZE_OK) {
			/* chunked, over the limit: cut */
			atomic_fetch_add(&r->c_too_large, 1);
			return MHD_NO;
		}
		*upload_len = 0;
		return MHD_YES;
	}
	return on_body(r, c, q->body.data, q->body.len);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (q == NULL)
		return;
	zbuf_free(&q->body);
	free(q);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("relay: %s", buf);
}

/* The TLS pair of [relay] into cert and key (both initialised here; the
 * caller wipes key and frees both, also on error).  Both empty: nothing
 * to load. */
static zerr_t
tls_load(const char *tls_cert, const char *tls_key, zbuf_t *cert,
    zbuf_t *key, zdiag_t *d)
{
	zerr_t e;

	zbuf_init(cert, PEM_MAX);
	zbuf_init(key, PEM_MAX);
	if (*tls_cert == '\0' && *tls_key == '\0')
		return ZE_OK;
	if (*tls_cert == '\0' || *tls_key == '\0')
		return zdiag_set(d, ZE_INVAL, "[relay] tls_cert and tls_key "
		    "go together (both empty: plain HTTP)");
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return zdiag_set(d, ZE_NOTIMPL, "[relay] tls_cert: this "
		    "libmicrohttpd has no TLS; leave tls_cert and tls_key "
		    "empty and terminate TLS in a reverse proxy");
	if ((e = bytes_read_file(tls_cert, PEM_MAX, cert, d)) != ZE_OK) {
		zdiag_prefix(d, "[relay] tls_cert");
		return e;
	}
	/* a private key others may read is refused, as the identity key */
	if ((e = key_read_secret(tls_key, "TLS private key", PEM_MAX, key,
	    d)) != ZE_OK)
		zdiag_prefix(d, "[relay] tls_key");
	return e;
}

zerr_t
relay_check_tls(const char *tls_cert, const char *tls_key, zdiag_t *d)
{
	zbuf_t cert, key;
	zerr_t e = tls_load(tls_cert, tls_key, &cert, &key, d);

	if (key.data != NULL)
		sodium_memzero(key.data, key.len);
	zbuf_free(&key);
	zbuf_free(&cert);
	return e;
}

zerr_t
relay_start(void *ctx, store_t *s, const zkey_t *key,
    const struct relay_opts *o, relay_t **out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *di;
	bool v6 = false, tls;
	struct relay *r;
	zerr_t e;

	*out = NULL;
	if ((e = http_parse_listen("[relay] listen", o->listen, 0, &ss,
	    &v6, d)) != ZE_OK)
		return e;
	tls = *o->tls_cert != '\0' || *o->tls_key != '\0';
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	r->o = *o;
	r->ctx = ctx;
	r->store = s;
	r->key = key;
	pthread_mutex_init(&r->mu, NULL);
	zbuf_init(&r->cert, PEM_MAX);
	zbuf_init(&r->tkey, PEM_MAX);
	if ((r->rate = rl_new(RELAY_RATE_SLOTS, (uint32_t)o->rate)) == NULL ||
	    (r->logrl = rl_new(RELAY_LOG_SLOTS, 1)) == NULL) {
		relay_stop(&r);
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	}
	if (tls) {
		if ((e = tls_load(o->tls_cert, o->tls_key, &r->cert, &r->tkey,
		    d)) != ZE_OK) {
			relay_stop(&r);
			return e;
		}
		flags |= MHD_USE_TLS;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if (tls)
		r->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, r,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, r,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)RELAY_MAX_CONN,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
		    MHD_OPTION_HTTPS_MEM_CERT, (const char *)r->cert.data,
		    MHD_OPTION_HTTPS_MEM_KEY, (const char *)r->tkey.data,
		    MHD_OPTION_END);
	else
		r->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, r,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, r,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)RELAY_MAX_CONN,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
		    MHD_OPTION_END);
	if (r->mhd == NULL) {
		relay_stop(&r);
		return zdiag_set(d, ZE_IO, "[relay] cannot serve %s%s", 
		    o->listen, tls ? " (is the certificate and key a PEM "
		    "pair?)" : "");
	}
	di = MHD_get_daemon_info(r->mhd, MHD_DAEMON_INFO_BIND_PORT);
	log_info("relay listening=%s port=%u tls=%d max_body=%" PRId64
	    " rate=%" PRId64, o->listen, di != NULL ? di->port : 0u, tls,
	    o->max_body, o->rate);
	*out = r;
	return ZE_OK;
}

void
relay_stop(relay_t **rp)
{
	struct relay *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	atomic_store(&r->stopping, true);
	if (r->mhd != NULL)
		MHD_stop_daemon(r->mhd);
	rl_free(&r->rate);
	rl_free(&r->logrl);
	if (r->tkey.data != NULL)
		sodium_memzero(r->tkey.data, r->tkey.len);
	zbuf_free(&r->tkey);
	zbuf_free(&r->cert);
	free(r->boots);
	pthread_mutex_destroy(&r->mu);
	free(r);
	*rp = NULL;
}

void
relay_get_stats(const relay_t *r, struct relay_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (r == NULL)
		return;
	st->requests = atomic_load(&r->c_requests);
	st->ok = atomic_load(&r->c_ok);
	st->bad = atomic_load(&r->c_bad);
	st->forbidden = atomic_load(&r->c_forbidden);
	st->not_found = atomic_load(&r->c_not_found);
	st->replay = atomic_load(&r->c_replay);
	st->too_large = atomic_load(&r->c_too_large);
	st->limited = atomic_load(&r->c_limited);
	st->unavailable = atomic_load(&r->c_unavailable);
}
