/*
 * probe_throughput.c — download speed with a real SNI and with a control
 * SNI to the same server (docs/PROBES-UDP.md).
 *
 * TLS to req->ip (or the numeric target) with SNI req->sni (default: the
 * host of req->target), "GET N\n" to zond-helper's bulk service (N =
 * req->bytes, default 1 MiB), bytes/s from the request to the last byte;
 * then the same with req->control_sni when given.  SNI-triggered
 * throttling shows as bytes_per_s far below control_bytes_per_s.
 * Failures (of the real-SNI transfer; the control's go to
 * control_failure): stall (no data for env->timeout_ms mid-transfer;
 * bytes = what arrived), reset, eof, timeout, refused, unreachable,
 * tls_error, bad_response.  TLS is done with OpenSSL: probe_helper.c says
 * why.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"

#define TP_DEFAULT	(1024 * 1024)
#define TP_MAX		(1024LL * 1024 * 1024)

/* The host part of a target ("host", "host:port", "scheme://host/..."),
 * into buf; NULL when there is none or it is an IP literal. */
static const char *
target_host(const char *t, char *buf, size_t len)
{
	const char *p, *end;
	unsigned char a[16];
	size_t n;

	if (t == NULL)
		return NULL;
	if ((p = strstr(t, "://")) != NULL)
		t = p + 3;
	if (*t == '[')
		return NULL;	/* v6 literal */
	end = t + strcspn(t, ":/?#");
	n = (size_t)(end - t);
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, t, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		return NULL;
	return buf;
}

zerr_t
probe_throughput(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ph_bulk r, c;
	Zond__V1__Outcome *o;
	Zond__V1__ThroughputOutcome *to;
	bool ok = false, first;
	int64_t bytes = req->bytes ? req->bytes : TP_DEFAULT;
	char abuf[64], hbuf[256];
	const char *sni;
	zerr_t e;

	*out = NULL;
	if (bytes < 1 || bytes > TP_MAX)
		return zdiag_set(d, ZE_INVAL, "throughput: bytes %lld out of "
		    "range [1, %lld]", (long long)bytes, TP_MAX);
	sni = req->sni ? req->sni : target_host(req->target, hbuf,
	    sizeof(hbuf));
	if (sni == NULL || *sni == '\0')
		return zdiag_set(d, ZE_INVAL, "throughput: no SNI (set sni or "
		    "a host name as target)");
	if ((e = ph_addr(req, probe_port(ZOND__V1__TEST_KIND__TEST_THROUGHPUT,
	    NULL), &ss, &sl, d)) != ZE_OK)
		return e;
	/* real and control in an order drawn per run (as probe_tls) */
	first = req->control_sni != NULL && randombytes_uniform(2) == 1;
	if (first)
		ph_bulk_get(env, (struct sockaddr *)&ss, sl, req->control_sni,
		    (uint64_t)bytes, &c);
	ph_bulk_get(env, (struct sockaddr *)&ss, sl, sni, (uint64_t)bytes,
	    &r);
	if (req->control_sni != NULL && !first)
		ph_bulk_get(env, (struct sockaddr *)&ss, sl, req->control_sni,
		    (uint64_t)bytes, &c);

	if ((o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_THROUGHPUT)) ==
	    NULL)
		goto end;
	to = o->throughput;
	pu_addr_str((struct sockaddr *)&ss, abuf, sizeof(abuf));
	if ((to->addr = pu_strdup(abuf)) == NULL ||
	    (to->sni = pu_strdup(sni)) == NULL)
		goto end;
	to->has_bytes = 1;
	to->bytes = r.received;
	to->has_bytes_per_s = 1;
	to->bytes_per_s = ph_rate(r.received, r.elapsed_us);
	if (req->control_sni != NULL) {
		if ((to->control_sni = pu_strdup(req->control_sni)) == NULL)
			goto end;
		to->has_control_first = 1;
		to->control_first = first;
		to->has_control_failure = 1;
		to->control_failure = c.fail;
		to->has_control_bytes_per_s = 1;
		to->control_bytes_per_s = ph_rate(c.received, c.elapsed_us);
	}
	ok = true;
end:
	return pu_finish(o, ok, r.fail, r.detail, "throughput", out, d);
}
