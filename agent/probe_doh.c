/*
 * probe_doh.c — DNS over HTTPS (RFC 8484): one POST of an
 * application/dns-message query to env->doh_url through libcurl, the
 * answer recorded like the dns probe's (DnsOutcome, one response).
 *
 * req->ip, when set, pins the URL's host to that address
 * (CURLOPT_RESOLVE); env->ca_file is the CA bundle when set.  Transport
 * failures keep their kinds (reset, timeout, EOF, certificate, TLS); a
 * status other than 200 is FAIL_HTTP_ERROR; a body that is not the answer
 * to the query is FAIL_BAD_RESPONSE; otherwise the answer is judged as a
 * UDP one (rcode, bogon).  Invariants: the response body is capped at
 * DOH_MAX_BODY; the query id is 0 as RFC 8484 asks; no proxy is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "probe.h"
#include "probe_util.h"
#include "zbuf.h"

#define DOH_MAX_BODY 65535

static size_t
doh_body(char *p, size_t size, size_t n, void *arg)
{
	zbuf_t *b = arg;

	if (zbuf_append(b, p, size * n) != ZE_OK)
		return 0;
	return size * n;
}

static zerr_t
doh_pin(const char *url, const char *ip, struct curl_slist **out,
    zdiag_t *d)
{
	CURLU *u;
	char *h = NULL, *p = NULL, buf[600];
	bool v6 = strchr(ip, ':') != NULL && ip[0] != '[';
	zerr_t e = ZE_OK;

	if ((u = curl_url()) == NULL)
		return zdiag_set(d, ZE_NOMEM, "doh: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		e = zdiag_set(d, ZE_INVAL, "doh: '%s' is not a URL", url);
		goto out;
	}
	if ((size_t)snprintf(buf, sizeof(buf), "%s:%s:%s%s%s", h, p,
	    v6 ? "[" : "", ip, v6 ? "]" : "") >= sizeof(buf)) {
		e = zdiag_set(d, ZE_INVAL, "doh: URL host too long");
		goto out;
	}
	if ((*out = curl_slist_append(NULL, buf)) == NULL)
		e = zdiag_set(d, ZE_NOMEM, "doh: out of memory");
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return e;
}

zerr_t
probe_doh(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	char errbuf[CURL_ERROR_SIZE], abuf[80];
	struct curl_slist *hdrs = NULL, *resolve = NULL, *t;
	Zond__V1__Outcome *o = NULL;
	Zond__V1__DnsOutcome *dn;
	Zond__V1__DnsResponse *r = NULL;
	uint8_t *q = NULL;
	size_t qn = 0;
	zbuf_t body;
	curl_off_t total = 0;
	long status = 0, oserr = 0, port = 0;
	char *pip = NULL;
	bool aaaa = false;
	CURLcode rc;
	CURL *h = NULL;
	struct pu_curl_addr ca;
	int m;
	zerr_t e;

	*out = NULL;
	zbuf_init(&body, DOH_MAX_BODY);
	if (env->doh_url == NULL || strncasecmp(env->doh_url, "https://", 8)
	    != 0)
		return zdiag_set(d, ZE_INVAL, "doh: no https:// resolver URL "
		    "configured");
	if ((e = pu_dns_qtype(req, "doh", &aaaa, d)) != ZE_OK)
		return e;
	if ((e = pu_dns_query(req->target, aaaa, 0, &q, &qn, d)) != ZE_OK)
		return e;
	if (req->ip != NULL &&
	    (e = doh_pin(env->doh_url, req->ip, &resolve, d)) != ZE_OK)
		goto out;
	e = ZE_NOMEM;
	if ((o = pu_dns_outcome(ZOND__V1__TEST_KIND__TEST_DOH, req->target,
	    aaaa)) == NULL)
		goto out;
	dn = o->dns;
	if ((dn->responses = calloc(1, sizeof(*dn->responses))) == NULL)
		goto out;
	if ((t = curl_slist_append(hdrs, "Content-Type: "
	    "application/dns-message")) == NULL)
		goto out;
	hdrs = t;
	if ((t = curl_slist_append(hdrs, "Accept: application/dns-message"))
	    == NULL)
		goto out;
	hdrs = t;
	if ((h = curl_easy_init()) == NULL)
		goto out;
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, env->doh_url);
	if (resolve != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, q);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)qn);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)env->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)env->timeout_ms * 2);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, doh_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "zond-agent");
	if (env->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, env->ca_file);
	pu_curl_track(h, &ca);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
	if (rc != CURLE_OK) {
		Zond__V1__Failure f = pu_curl_result(h, &ca, rc, errbuf, &oserr,
		    env->timeout_ms);
		if (rc == CURLE_WRITE_ERROR)
			f = ZOND__V1__FAILURE__FAIL_BAD_RESPONSE;
		pu_fail(o, f, "POST %s: %s (curl %d, errno %ld)", env->doh_url,
		    rc == CURLE_WRITE_ERROR ? "answer over 64 KiB" :
		    errbuf[0] ? errbuf : curl_easy_strerror(rc), (int)rc,
		    oserr);
		goto done;
	}
	if (status != 200) {
		pu_fail(o, ZOND__V1__FAILURE__FAIL_HTTP_ERROR, "POST %s: HTTP "
		    "status %ld", env->doh_url, status);
		goto done;
	}
	m = pu_dns_response(body.len ? body.data : (const uint8_t *)"",
	    body.len, req->target, aaaa, 0, &r);
	if (m < 0)
		goto out;
	if (m == 0) {
		pu_fail(o, ZOND__V1__FAILURE__FAIL_BAD_RESPONSE, "POST %s: %zu "
		    "bytes that do not answer the query", env->doh_url,
		    body.len);
		goto done;
	}
	r->has_arrival_us = 1;
	r->arrival_us = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &pip) == CURLE_OK &&
	    pip != NULL && *pip != '\0') {
		curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
		snprintf(abuf, sizeof(abuf), "%s%s%s:%ld",
		    strchr(pip, ':') ? "[" : "", pip,
		    strchr(pip, ':') ? "]" : "", port);
		if ((r->from = pu_strdup(abuf)) == NULL)
			goto out;
	}
	dn->responses[dn->n_responses++] = r;
	r = NULL;
	if (pu_dns_classify(o, env->fp, 0) != ZE_OK)
		goto out;
done:
	if (o->failure != ZOND__V1__FAILURE__FAIL_NONE && o->detail == NULL)
		goto out;
	*out = o;
	o = NULL;
	e = ZE_OK;
out:
	if (r != NULL)
		zond__v1__dns_response__free_unpacked(r, NULL);
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	zbuf_free(&body);
	free(q);
	if (o != NULL)
		zond__v1__outcome__free_unpacked(o, NULL);
	if (e == ZE_NOMEM)
		return zdiag_set(d, ZE_NOMEM, "doh: out of memory");
	return e;
}
