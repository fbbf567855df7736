/*
 * probe_tls.c — TLS handshake test through libcurl, with a control SNI.
 *
 * One handshake (CURLOPT_CONNECT_ONLY) to ip:port (default 443) with the
 * SNI req->sni (default: the host of the target), the address forced with
 * CURLOPT_RESOLVE so the name is never looked up when req->ip is given.
 * The certificate is verified for that name against env->ca_file or the
 * system store: an invalid one is FAIL_CERT_INVALID.  Then the same
 * handshake with req->control_sni to the same address, so the aggregator
 * can tell SNI filtering (control works, real SNI reset) from a dead host.
 *
 * The ClientHello's shape is req->variant (docs/PROBES-TCP.md "ClientHello
 * shapes"): "openssl" (default) is the handshake above; "browser" sends
 * lib/tlshello.c's Chromium-like hello on a plain TCP connection and
 * succeeds when a ServerHello comes back (no certificate is checked: the
 * handshake stops there).  The control SNI runs with the same shape.
 *
 * error_stage says where a failure happened: "connect" (no TCP),
 * "client_hello" (TCP up, ClientHello sent, not one TLS byte back before
 * the reset, timeout or EOF: the TSPU signature), "alert" (the server
 * answered with a TLS alert and the handshake failed on it: the server
 * itself refused), "handshake" (any other failure later).
 * Invariants: every curl handle is local to one call; no proxy is used;
 * each attempt is bounded by env->timeout_ms.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "bytes.h"
#include "probe.h"
#include "probe_util.h"
#include "tlshello.h"
#include "ztime.h"

struct tls_try {
	Zond__V1__Failure fail;
	bool has_hs;
	uint32_t hs_us;
	bool has_cert;
	bool cert_valid;
	char version[32];
	const char *stage;
	char detail[CURL_ERROR_SIZE + 128];
	bool sent;		/* TLS bytes went out (ClientHello) */
	bool got;		/* TLS bytes came back */
	bool alert;		/* one of them was a TLS alert */
};

static int
tls_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct tls_try *t = arg;

	(void)h;
	/* "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384" */
	if (type == CURLINFO_TEXT && size > 21 &&
	    memcmp(data, "SSL connection using ", 21) == 0) {
		size_t n = 0;
		while (21 + n < size && n + 1 < sizeof(t->version) &&
		    data[21 + n] != ' ' && data[21 + n] != '\n')
			n++;
		memcpy(t->version, data + 21, n);
		t->version[n] = '\0';
	}
	/* libcurl's trace of an incoming record: "TLSv1.3 (IN), TLS alert,
	 * unrecognized name (624):" */
	if (type == CURLINFO_TEXT && memmem(data, size, "(IN), TLS alert",
	    15) != NULL)
		t->alert = true;
	if (type == CURLINFO_SSL_DATA_OUT && size > 0)
		t->sent = true;
	else if (type == CURLINFO_SSL_DATA_IN && size > 0)
		t->got = true;
	return 0;
}

/* Does an OpenSSL error text name a received alert?  OpenSSL 3 puts
 * one as "error:0A000xxx:SSL routines::..." with reason 1000 + the
 * alert's code (SSL_AD_REASON_OFFSET), e.g. 0A000458 for
 * unrecognized_name (112): the fallback when no trace line was seen. */
static bool
alert_in(const char *errbuf)
{
	const char *p = strstr(errbuf, "error:0A");
	unsigned long code, reason;
	char *end;

	if (p == NULL)
		return false;
	code = strtoul(p + 6, &end, 16);
	if (end != p + 14 || *end != ':')
		return false;
	reason = code & 0x7fffffUL;
	return reason >= 1000 && reason < 1256;
}

/* host and port of a target ("host", "host:port", "[v6]:port" or an
 * URL) into host (brackets kept for IPv6) and *port. */
static zerr_t
split_target(const char *target, char *host, size_t hl, int *port,
    zdiag_t *d)
{
	CURLU *u;
	char *h = NULL, *p = NULL;
	zerr_t e = ZE_OK;
	long v;

	if (target == NULL || *target == '\0')
		return zdiag_set(d, ZE_INVAL, "tls: no target");
	if ((u = curl_url()) == NULL)
		return zdiag_set(d, ZE_NOMEM, "tls: out of memory");
	if (curl_url_set(u, CURLUPART_URL, target, CURLU_DEFAULT_SCHEME |
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		e = zdiag_set(d, ZE_INVAL, "tls: target '%s' is not "
		    "host[:port] or a URL", target);
		goto out;
	}
	if (strlen(h) >= hl) {
		e = zdiag_set(d, ZE_INVAL, "tls: host of '%s' too long",
		    target);
		goto out;
	}
	memcpy(host, h, strlen(h) + 1);
	*port = 0;
	if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK) {
		v = strtol(p, NULL, 10);
		if (v > 0 && v < 65536)
			*port = (int)v;
	}
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return e;
}

/* One handshake with sni to ip:port. */
static zerr_t
tls_try(const probe_env_t *env, const char *sni, const char *ip, int port,
    struct tls_try *t, zdiag_t *d)
{
	char errbuf[CURL_ERROR_SIZE], url[512], res[512];
	struct curl_slist *resolve = NULL;
	struct curl_tlssessioninfo *si = NULL;
	curl_off_t tcon = 0, tapp = 0;
	long oserr = 0;
	CURLcode rc;
	CURL *h;
	struct pu_curl_addr ca;
	bool v6host = strchr(sni, ':') != NULL;
	bool v6ip = ip != NULL && strchr(ip, ':') != NULL && ip[0] != '[';
	zerr_t e = ZE_OK;

	memset(t, 0, sizeof(*t));
	errbuf[0] = '\0';
	if ((size_t)snprintf(url, sizeof(url), "https://%s%s%s:%d/",
	    v6host && sni[0] != '[' ? "[" : "", sni,
	    v6host && sni[0] != '[' ? "]" : "", port) >= sizeof(url))
		return zdiag_set(d, ZE_INVAL, "tls: SNI '%s' too long", sni);
	if ((h = curl_easy_init()) == NULL)
		return zdiag_set(d, ZE_NOMEM, "tls: curl_easy_init failed");
	if (ip != NULL) {
		if ((size_t)snprintf(res, sizeof(res), "%s:%d:%s%s%s", sni,
		    port, v6ip ? "[" : "", ip, v6ip ? "]" : "") >=
		    sizeof(res) ||
		    (resolve = curl_slist_append(NULL, res)) == NULL) {
			e = zdiag_set(d, ZE_NOMEM, "tls: out of memory");
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)env->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)env->timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	if (env->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, env->ca_file);
	/* The debug callback is how we learn whether any TLS byte came
	 * back before a failure; nothing is printed. */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, tls_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, t);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);

	pu_curl_track(h, &ca);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &tcon);
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tapp);
	t->fail = pu_curl_result(h, &ca, rc, errbuf, &oserr,
	    env->timeout_ms);
	if (rc == CURLE_OK) {
		t->has_hs = true;
		t->hs_us = tapp > tcon ? (uint32_t)(tapp - tcon) : 0;
		t->has_cert = t->cert_valid = true;
		if (t->version[0] == '\0' &&
		    curl_easy_getinfo(h, CURLINFO_TLS_SSL_PTR, &si) ==
		    CURLE_OK && si != NULL &&
		    si->backend == CURLSSLBACKEND_OPENSSL &&
		    si->internals != NULL)
			snprintf(t->version, sizeof(t->version), "%s",
			    SSL_get_version(si->internals));
		goto out;
	}
	if (t->fail == ZOND__V1__FAILURE__FAIL_CERT_INVALID) {
		t->has_cert = true;
		t->cert_valid = false;
	}
	if (tcon == 0 && !t->sent)
		t->stage = "connect";
	else if (!t->got && (t->fail == ZOND__V1__FAILURE__FAIL_RESET ||
	    t->fail == ZOND__V1__FAILURE__FAIL_TIMEOUT ||
	    t->fail == ZOND__V1__FAILURE__FAIL_EOF))
		t->stage = "client_hello";
	else if (t->fail == ZOND__V1__FAILURE__FAIL_TLS_ERROR &&
	    (t->alert || alert_in(errbuf)))
		t->stage = "alert";
	else
		t->stage = "handshake";
	snprintf(t->detail, sizeof(t->detail), "SNI %s: %s (curl %d, errno "
	    "%ld)", sni, errbuf[0] ? errbuf : curl_easy_strerror(rc), (int)rc,
	    oserr);
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(resolve);
	return e;
}

/* "TLSv1.3" for 0x0304, ... */
static void
version_name(uint16_t v, char *buf, size_t len)
{
	if (v >= 0x0301 && v <= 0x0304)
		snprintf(buf, len, "TLSv1.%u", (unsigned)(v - 0x0301));
	else
		snprintf(buf, len, "0x%04x", (unsigned)v);
}

/*
 * What the first bytes b[0..n) from the server are: 1 a ServerHello
 * (t->version filled when the message is whole in its first record), 0
 * need more bytes, -1 a TLS alert (its description in *desc), -2 not a
 * TLS handshake answer.
 */
static int
server_hello(const uint8_t *b, size_t n, struct tls_try *t, int *desc)
{
	size_t rl, ml, o, el, end;

	if (n >= 1 && b[0] == 21) {		/* alert */
		if (n < 7)
			return 0;
		*desc = b[6];
		return -1;
	}
	if (n >= 1 && b[0] != 22)
		return -2;
	if (n < 9)
		return 0;
	if (b[1] != 3 || b[5] != 2)		/* ServerHello */
		return -2;
	rl = be16_get(b + 3);
	ml = (size_t)b[6] << 16 | be16_get(b + 7);
	if (ml + 4 > rl)			/* spans records: enough */
		return 1;
	if (n < 9 + ml)
		return 0;
	version_name(be16_get(b + 9), t->version, sizeof(t->version));
	/* legacy_version, random, session id, suite, compression */
	o = 9 + 2 + 32;
	if (o + 1 > 9 + ml || (o += 1 + b[o]) + 3 + 2 > 9 + ml)
		return 1;
	o += 3;
	end = o + 2 + be16_get(b + o);
	if (end > 9 + ml)
		return 1;
	for (o += 2; o + 4 <= end; o += 4 + el) {
		el = be16_get(b + o + 2);
		if (be16_get(b + o) == TLS_EXT_VERSIONS && el == 2 &&
		    o + 6 <= end)
			version_name(be16_get(b + o + 4), t->version,
			    sizeof(t->version));
	}
	return 1;
}

/* One ClientHello of `shape` (lib/tlshello.c) with sni to ip:port on a
 * plain TCP connection; success is a ServerHello back. */
static zerr_t
tls_try_shaped(const probe_env_t *env, enum tls_shape shape,
    const char *sni, const char *ip, int port, struct tls_try *t,
    zdiag_t *d)
{
	uint8_t hello[TLS_HELLO_CAP], in[4096];
	tls_hello_opts_t ho;
	struct sockaddr_storage ss;
	socklen_t sl;
	char abuf[80];
	size_t hl, sent = 0, got = 0;
	int64_t t0, us = 0, left;
	int fd, err = 0, r, desc = 0;
	Zond__V1__Failure fail;
	zerr_t e;

	memset(t, 0, sizeof(*t));
	memset(&ho, 0, sizeof(ho));
	ho.shape = shape;
	ho.sni = sni;
	if ((e = tls_hello_build(&ho, true, hello, sizeof(hello), &hl, d)) !=
	    ZE_OK)
		return e;
	if (ip == NULL)
		return zdiag_set(d, ZE_INVAL, "tls: the %s shape needs an "
		    "address (ip column or a resolved name)",
		    tls_shape_name(shape));
	if ((e = pu_parse_addr(ip, port, &ss, &sl, d)) != ZE_OK)
		return e;
	pu_addr_str((struct sockaddr *)&ss, abuf, sizeof(abuf));
	fd = pu_connect((struct sockaddr *)&ss, sl, SOCK_STREAM,
	    env->timeout_ms, &fail, &err, &us);
	if (fd < 0) {
		t->fail = fail;
		t->stage = "connect";
		snprintf(t->detail, sizeof(t->detail), "SNI %s: connect %s: "
		    "%s", sni, abuf, strerror(err));
		return ZE_OK;
	}
	t0 = ztime_mono_us();
	t->fail = ZOND__V1__FAILURE__FAIL_NONE;
	for (;;) {
		left = env->timeout_ms - (ztime_mono_us() - t0) / 1000;
		if (left <= 0) {
			t->fail = ZOND__V1__FAILURE__FAIL_TIMEOUT;
			err = ETIMEDOUT;
			break;
		}
		if (sent < hl) {
			r = pu_wait(fd, POLLOUT, left);
			if (r > 0) {
				ssize_t w = send(fd, hello + sent, hl - sent,
				    MSG_NOSIGNAL);
				if (w > 0)
					sent += (size_t)w;
				else if (w < 0 && errno != EAGAIN &&
				    errno != EINTR)
					r = -1;
			}
			t->sent = true;
		} else {
			r = pu_wait(fd, POLLIN, left);
			if (r > 0) {
				ssize_t g = recv(fd, in + got,
				    sizeof(in) - got, 0);
				if (g == 0) {
					t->fail = ZOND__V1__FAILURE__FAIL_EOF;
					break;
				}
				if (g < 0 && errno != EAGAIN &&
				    errno != EINTR)
					r = -1;
				else if (g > 0) {
					got += (size_t)g;
					t->got = true;
				}
				if (got > 0) {
					int sh = server_hello(in, got, t,
					    &desc);
					if (sh == 1)
						break;
					if (sh == -1) {
						t->alert = true;
						t->fail = ZOND__V1__FAILURE__FAIL_TLS_ERROR;
						break;
					}
					if (sh == -2 || got == sizeof(in)) {
						t->fail = ZOND__V1__FAILURE__FAIL_TLS_ERROR;
						break;
					}
				}
			}
		}
		if (r == 0) {
			t->fail = ZOND__V1__FAILURE__FAIL_TIMEOUT;
			err = ETIMEDOUT;
			break;
		}
		if (r < 0) {
			err = errno;
			t->fail = err == ECONNRESET || err == EPIPE ?
			    ZOND__V1__FAILURE__FAIL_RESET :
			    pu_errno_failure(err, PU_SIDE_UNKNOWN);
			break;
		}
	}
	if (t->fail == ZOND__V1__FAILURE__FAIL_TIMEOUT) {
		/* abort with a RST: a FIN would queue behind the unanswered
		 * hello, and a server (or a censor's state) would wait on
		 * this connection longer than we do */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	if (t->fail == ZOND__V1__FAILURE__FAIL_NONE) {
		us = ztime_mono_us() - t0;
		t->has_hs = true;
		t->hs_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		return ZE_OK;
	}
	if (!t->got)
		t->stage = "client_hello";
	else if (t->alert)
		t->stage = "alert";
	else
		t->stage = "handshake";
	if (t->alert)
		snprintf(t->detail, sizeof(t->detail), "SNI %s: %s hello to "
		    "%s: TLS alert %d", sni, tls_shape_name(shape), abuf,
		    desc);
	else if (t->fail == ZOND__V1__FAILURE__FAIL_TLS_ERROR)
		snprintf(t->detail, sizeof(t->detail), "SNI %s: %s hello to "
		    "%s: answer is no ServerHello (first byte 0x%02x, %zu "
		    "bytes)", sni, tls_shape_name(shape), abuf, in[0], got);
	else
		snprintf(t->detail, sizeof(t->detail), "SNI %s: %s hello to "
		    "%s: %s after %zu bytes back", sni, tls_shape_name(shape),
		    abuf, t->fail == ZOND__V1__FAILURE__FAIL_EOF ?
		    "closed" : strerror(err), got);
	return ZE_OK;
}

/* The shape's try: libcurl and OpenSSL for "openssl", else ours. */
static zerr_t
tls_try_as(const probe_env_t *env, enum tls_shape shape, const char *sni,
    const char *ip, int port, struct tls_try *t, zdiag_t *d)
{
	if (shape == TLS_SHAPE_OPENSSL)
		return tls_try(env, sni, ip, port, t, d);
	return tls_try_shaped(env, shape, sni, ip, port, t, d);
}

zerr_t
pu_tls_handshake(const probe_env_t *env, const char *sni, const char *ip,
    int port, int64_t timeout_ms, struct pu_tls_result *r, zdiag_t *d)
{
	probe_env_t e = *env;
	struct tls_try t;
	zerr_t err;

	e.timeout_ms = timeout_ms;
	memset(r, 0, sizeof(*r));
	if ((err = tls_try(&e, sni, ip, port, &t, d)) != ZE_OK)
		return err;
	r->fail = t.fail;
	r->has_hs = t.has_hs;
	r->hs_us = t.hs_us;
	r->has_cert = t.has_cert;
	r->cert_valid = t.cert_valid;
	return ZE_OK;
}

zerr_t
probe_tls(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	Zond__V1__Outcome *o = NULL;
	Zond__V1__TlsOutcome *t;
	struct tls_try a, c;
	char host[256], abuf[300];
	const char *sni;
	enum tls_shape shape = TLS_SHAPE_OPENSSL;
	int port = 0;
	bool ctl, first;
	zerr_t e;

	*out = NULL;
	if (req->variant != NULL && *req->variant != '\0' &&
	    ((e = tls_shape_parse(req->variant, &shape, d)) != ZE_OK ||
	    shape == TLS_SHAPE_QUIC))
		return zdiag_set(d, ZE_INVAL, "tls: unknown variant '%s' "
		    "(openssl, browser)", req->variant);
	if ((e = split_target(req->target, host, sizeof(host), &port, d)) !=
	    ZE_OK)
		return e;
	if (req->port > 0)
		port = req->port;
	if (port == 0)
		port = probe_port(ZOND__V1__TEST_KIND__TEST_TLS, NULL);
	sni = req->sni != NULL && *req->sni != '\0' ? req->sni : host;
	/* real and control in an order drawn per run, so that neither
	 * always meets a censor's state (or a warm path) first */
	ctl = req->control_sni != NULL && *req->control_sni != '\0';
	first = ctl && randombytes_uniform(2) == 1;
	if (first && (e = tls_try_as(env, shape, req->control_sni, req->ip,
	    port, &c, d)) != ZE_OK)
		return e;
	if ((e = tls_try_as(env, shape, sni, req->ip, port, &a, d)) != ZE_OK)
		return e;
	if (ctl && !first && (e = tls_try_as(env, shape, req->control_sni,
	    req->ip, port, &c, d)) != ZE_OK)
		return e;
	if ((o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_TLS)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "tls: out of memory");
	t = o->tls;
	if (req->ip != NULL)
		snprintf(abuf, sizeof(abuf), "%s%s%s:%d",
		    strchr(req->ip, ':') != NULL ? "[" : "", req->ip,
		    strchr(req->ip, ':') != NULL ? "]" : "", port);
	else
		snprintf(abuf, sizeof(abuf), "%s:%d", host, port);
	if ((t->addr = pu_strdup(abuf)) == NULL ||
	    (t->sni = pu_strdup(sni)) == NULL ||
	    (t->shape = pu_strdup(tls_shape_name(shape))) == NULL)
		goto nomem;
	t->has_handshake_us = a.has_hs;
	t->handshake_us = a.hs_us;
	t->has_cert_valid = a.has_cert;
	t->cert_valid = a.cert_valid;
	if (a.version[0] != '\0' &&
	    (t->tls_version = pu_strdup(a.version)) == NULL)
		goto nomem;
	if (a.stage != NULL && (t->error_stage = pu_strdup(a.stage)) == NULL)
		goto nomem;
	if (req->control_sni != NULL && *req->control_sni != '\0') {
		if ((t->control_sni = pu_strdup(req->control_sni)) == NULL)
			goto nomem;
		t->has_control_failure = 1;
		t->control_failure = c.fail;
		t->has_control_handshake_us = c.has_hs;
		t->control_handshake_us = c.hs_us;
		t->has_control_first = 1;
		t->control_first = first;
	}
	if (a.fail != ZOND__V1__FAILURE__FAIL_NONE) {
		if (req->control_sni != NULL && *req->control_sni != '\0')
			pu_fail(o, a.fail, "%s at %s; control %s", a.detail,
			    a.stage, c.fail == ZOND__V1__FAILURE__FAIL_NONE ?
			    "ok" : c.detail);
		else
			pu_fail(o, a.fail, "%s at %s", a.detail, a.stage);
		if (o->detail == NULL)
			goto nomem;
	} else if (req->control_sni != NULL && *req->control_sni != '\0' &&
	    c.fail != ZOND__V1__FAILURE__FAIL_NONE) {
		if ((o->detail = pu_asprintf("control %s", c.detail)) == NULL)
			goto nomem;
	}
	*out = o;
	return ZE_OK;
nomem:
	zond__v1__outcome__free_unpacked(o, NULL);
	return zdiag_set(d, ZE_NOMEM, "tls: out of memory");
}
