/*
 * zap.c — see zap.h.  One REP socket in one thread; each request is read
 * whole (at most ZAP_MAX_FRAMES frames, each length-checked) before it is
 * answered.  Refusals are logged at most once a minute per key.
 */
#include "zap.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "key.h"
#include "log.h"
#include "ratelimit.h"
#include "ztime.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_MAX_FRAMES 8
#define ZAP_FRAME_MAX 256

struct zap {
	void *sock;
	store_t *store;
	pthread_t thr;
	atomic_bool stop;
	atomic_uint_least64_t admitted, unknown, disabled, bad;
	atomic_uint_least64_t enroll, enroll_limited;
	struct zap_opts o;
	rlimit_t *rl;		/* enrollment attempts per source */
	int64_t limited_log_us;	/* monotonic: last rate-limit log line */
	uint8_t last_refused[32];
	int64_t last_refused_us;
};

struct zreq {
	size_t n;
	size_t len[ZAP_MAX_FRAMES];
	uint8_t f[ZAP_MAX_FRAMES][ZAP_FRAME_MAX];
	bool toolong;
};

static void
send_str(void *sock, const void *p, size_t n, bool more)
{
	(void)zmq_send(sock, p, n, more ? ZMQ_SNDMORE : 0);
}

static void
reply(struct zap *z, const struct zreq *r, const char *code,
    const char *text, const char *user)
{
	send_str(z->sock, "1.0", 3, true);
	send_str(z->sock, r->n > 1 ? r->f[1] : (const uint8_t *)"",
	    r->n > 1 ? r->len[1] : 0, true);
	send_str(z->sock, code, strlen(code), true);
	send_str(z->sock, text, strlen(text), true);
	send_str(z->sock, user, strlen(user), true);
	send_str(z->sock, "", 0, false);
}

/* Read one request; false if the socket had nothing (timeout/stop). */
static bool
read_req(struct zap *z, struct zreq *r)
{
	zmq_msg_t m;
	int more;

	memset(r, 0, sizeof(*r));
	do {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, z->sock, 0) < 0) {
			zmq_msg_close(&m);
			return r->n > 0;
		}
		if (r->n < ZAP_MAX_FRAMES) {
			size_t n = zmq_msg_size(&m);
			if (n > ZAP_FRAME_MAX) {
				r->toolong = true;
				n = 0;
			}
			memcpy(r->f[r->n], zmq_msg_data(&m), n);
			r->len[r->n] = n;
		} else
			r->toolong = true;
		r->n++;
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	} while (more);
	return true;
}

static bool
frame_is(const struct zreq *r, size_t i, const char *s)
{
	return i < r->n && r->len[i] == strlen(s) &&
	    memcmp(r->f[i], s, r->len[i]) == 0;
}

static void
refused(struct zap *z, const uint8_t *curve, const struct zreq *r,
    const char *why)
{
	char hex[65], addr[64];
	int64_t now = ztime_now_us();
	size_t an;

	if (memcmp(curve, z->last_refused, 32) == 0 &&
	    now - z->last_refused_us < 60 * 1000000LL)
		return;
	memcpy(z->last_refused, curve, 32);
	z->last_refused_us = now;
	sodium_bin2hex(hex, sizeof(hex), curve, 32);
	an = r->len[3] < sizeof(addr) - 1 ? r->len[3] : sizeof(addr) - 1;
	memcpy(addr, r->f[3], an);
	addr[an] = '\0';
	log_warnx("zap: refused connection from %s curve_key=%s reason=%s",
	    addr, hex, why);
}

static void
handle(struct zap *z, const struct zreq *r)
{
	struct store_agent a;
	uint8_t pk[KEY_PUB_LEN];
	char hex[KEY_HEX_LEN + 1];
	zdiag_t d;
	zerr_t e;

	if (r->toolong || r->n < 7 || !frame_is(r, 0, "1.0") ||
	    !frame_is(r, 5, "CURVE") || r->n != 7 || r->len[6] != 32) {
		atomic_fetch_add(&z->bad, 1);
		log_warnx("zap: malformed or non-CURVE request refused "
		    "(frames=%zu)", r->n);
		reply(z, r, r->n > 1 && !r->toolong ? "400" : "500",
		    "refused", "");
		return;
	}
	e = store_agent_by_curve(z->store, r->f[6], pk, &d);
	if (e == ZE_OK)
		e = store_agent_get(z->store, pk, &a, &d);
	if (e == ZE_NOTFOUND && z->rl != NULL) {
		/* enrollment only (zap.h); the address frame names the
		 * source, without its port */
		char user[sizeof(ZAP_LIMITED_USER) + 64];
		bool ok = rl_allow(z->rl, r->f[3], r->len[3],
		    ztime_mono_us());

		atomic_fetch_add(ok ? &z->enroll : &z->enroll_limited, 1);
		snprintf(user, sizeof(user), "%s", ok ? ZAP_ENROLL_USER :
		    ZAP_LIMITED_USER);
		sodium_bin2hex(user + strlen(user), 65, r->f[6], 32);
		if (!ok && ztime_mono_us() - z->limited_log_us >
		    60 * 1000000LL) {
			/* once a minute whatever the keys: a flood of
			 * fresh keys must not flood the log */
			z->limited_log_us = ztime_mono_us();
			refused(z, r->f[6], r, "enroll_rate_limited");
		}
		reply(z, r, "200", "OK", user);
		return;
	}
	if (e == ZE_NOTFOUND) {
		atomic_fetch_add(&z->unknown, 1);
		refused(z, r->f[6], r, "unknown_agent");
		reply(z, r, "400", "not enrolled", "");
		return;
	}
	if (e != ZE_OK) {
		atomic_fetch_add(&z->bad, 1);
		log_warnx("zap: registry lookup failed: %s", d.text);
		reply(z, r, "500", "registry unavailable", "");
		return;
	}
	if (!a.enabled) {
		atomic_fetch_add(&z->disabled, 1);
		refused(z, r->f[6], r, "disabled_agent");
		reply(z, r, "400", "disabled", "");
		return;
	}
	atomic_fetch_add(&z->admitted, 1);
	sodium_bin2hex(hex, sizeof(hex), pk, KEY_PUB_LEN);
	log_debug("zap: admitted agent=%s region=%s asn=%u", hex, a.region,
	    a.asn);
	reply(z, r, "200", "OK", hex);
}

static void *
zap_main(void *arg)
{
	struct zap *z = arg;
	struct zreq *r;

	pthread_setname_np(pthread_self(), "zond-zap");
	if ((r = malloc(sizeof(*r))) == NULL) {
		log_warnx("zap: out of memory; handler stopped");
		return NULL;
	}
	while (!atomic_load(&z->stop)) {
		if (!read_req(z, r))
			continue;
		handle(z, r);
	}
	free(r);
	return NULL;
}

zerr_t
zap_start(void *zctx, store_t *s, const struct zap_opts *o, zap_t **out,
    zdiag_t *d)
{
	struct zap *z;
	int tmo = 200, linger = 0;

	*out = NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	z->store = s;
	z->o = *o;
	if (o->enroll_rate > 0 &&
	    (z->rl = rl_new(ZAP_RL_SLOTS, o->enroll_rate)) == NULL) {
		free(z);
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	}
	atomic_init(&z->stop, false);
	if ((z->sock = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(z->sock, ZMQ_RCVTIMEO, &tmo, sizeof(tmo)) != 0 ||
	    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
		zerr_t e = zdiag_set(d, ZE_IO, "zap: %s: %s", ZAP_ENDPOINT,
		    zmq_strerror(zmq_errno()));
		if (z->sock != NULL)
			zmq_close(z->sock);
		rl_free(&z->rl);
		free(z);
		return e;
	}
	if (pthread_create(&z->thr, NULL, zap_main, z) != 0) {
		zmq_close(z->sock);
		rl_free(&z->rl);
		free(z);
		return zdiag_set(d, ZE_IO, "zap: cannot start thread");
	}
	*out = z;
	return ZE_OK;
}

void
zap_stop(zap_t **zp)
{
	struct zap *z;

	if (zp == NULL || (z = *zp) == NULL)
		return;
	atomic_store(&z->stop, true);
	pthread_join(z->thr, NULL);
	zmq_close(z->sock);
	rl_free(&z->rl);
	free(z);
	*zp = NULL;
}

void
zap_get_stats(zap_t *z, struct zap_stats *st)
{
	st->admitted = atomic_load(&z->admitted);
	st->unknown = atomic_load(&z->unknown);
	st->disabled = atomic_load(&z->disabled);
	st->bad = atomic_load(&z->bad);
	st->enroll = atomic_load(&z->enroll);
	st->enroll_limited = atomic_load(&z->enroll_limited);
}
