/*
 * probe_http.c — HTTP(S) GET through libcurl, redirects followed by hand.
 *
 * The URL is the target; req->ip pins the URL's host:port to an address
 * with CURLOPT_RESOLVE (other hosts met on redirects are resolved by
 * libcurl).  Redirects are followed here, not by libcurl, up to
 * HTTP_MAX_REDIRECTS, so that every Location value is recorded in order
 * and a Location that matches a blockpage fingerprint ends the chain
 * (FAIL_BLOCKPAGE_REDIRECT) without ever contacting the blockpage host.
 * Of the final response we keep status, headers ("Name: value", capped
 * in count and size), body length, <title>, body SHA-256, the first
 * bytes, and the fingerprint name when body or headers match one
 * (FAIL_BLOCKPAGE).  A reset, a timeout and a clean close stay apart.
 *
 * Invariants: the body kept is capped at env->body_cap (1 MiB when 0);
 * at most HTTP_MAX_HEADERS headers of at most HTTP_MAX_HEADER bytes are
 * kept; no proxy is ever used; the handle lives in one call.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "fingerprint.h"
#include "probe.h"
#include "probe_util.h"
#include "zbuf.h"

#define HTTP_MAX_REDIRECTS 10
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEADER 1024
#define HTTP_MAX_LOCATION 2048
#define HTTP_TITLE_MAX 256
#define HTTP_HEAD_MAX 512
#define HTTP_BODY_CAP (1024 * 1024)

struct hop {
	zbuf_t body;
	bool truncated;
	uint64_t body_len;
	crypto_hash_sha256_state sha;
	char *hdr[HTTP_MAX_HEADERS];
	size_t nhdr;
	size_t hdr_dropped;
	char location[HTTP_MAX_LOCATION];
	bool has_location;
	bool nomem;
};

static void
hop_reset_headers(struct hop *h)
{
	size_t i;

	for (i = 0; i < h->nhdr; i++)
		free(h->hdr[i]);
	h->nhdr = 0;
	h->hdr_dropped = 0;
	h->has_location = false;
	h->location[0] = '\0';
}

static void
hop_init(struct hop *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	zbuf_init(&h->body, cap);
	crypto_hash_sha256_init(&h->sha);
}

static void
hop_free(struct hop *h)
{
	hop_reset_headers(h);
	zbuf_free(&h->body);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct hop *h = arg;
	size_t len = size * n, l = len, vl;
	const char *colon, *v;

	while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		l--;
	if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (1xx, or the next hop): start over */
		hop_reset_headers(h);
		return len;
	}
	if (l == 0)
		return len;
	if (h->nhdr == HTTP_MAX_HEADERS) {
		h->hdr_dropped++;
		return len;
	}
	if ((h->hdr[h->nhdr] = strndup(p, l > HTTP_MAX_HEADER ?
	    HTTP_MAX_HEADER : l)) == NULL) {
		h->nomem = true;
		return 0;
	}
	h->nhdr++;
	colon = memchr(p, ':', l);
	if (colon != NULL && colon - p == 8 && strncasecmp(p, "location", 8)
	    == 0) {
		for (v = colon + 1; v < p + l && (*v == ' ' || *v == '\t'); v++)
			;
		vl = (size_t)(p + l - v);
		if (vl >= sizeof(h->location))
			vl = sizeof(h->location) - 1;
		memcpy(h->location, v, vl);
		h->location[vl] = '\0';
		h->has_location = true;
	}
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct hop *h = arg;
	size_t len = size * n, room = h->body.max - h->body.len;
	size_t take = len < room ? len : room;

	if (take > 0) {
		if (zbuf_append(&h->body, p, take) != ZE_OK) {
			h->nomem = true;
			return 0;
		}
		crypto_hash_sha256_update(&h->sha, (const unsigned char *)p,
		    take);
	}
	h->body_len += take;
	if (take < len) {
		h->truncated = true;
		return 0;	/* stop the transfer: we keep no more */
	}
	return len;
}

/* Case-insensitive search of an ASCII needle in p[0..n). */
static const char *
find_ci(const char *p, size_t n, const char *needle)
{
	size_t nl = strlen(needle), i;

	for (i = 0; nl <= n && i <= n - nl; i++)
		if (strncasecmp(p + i, needle, nl) == 0)
			return p + i;
	return NULL;
}

/* The text of the first <title> element, trimmed, at most
 * HTTP_TITLE_MAX bytes and never cut inside a UTF-8 sequence. */
static char *
body_title(const char *b, size_t n)
{
	const char *s, *e, *end = b + n;
	size_t l;

	if ((s = find_ci(b, n, "<title")) == NULL)
		return NULL;
	if ((s = memchr(s, '>', (size_t)(end - s))) == NULL)
		return NULL;
	s++;
	if ((e = find_ci(s, (size_t)(end - s), "</title")) == NULL)
		e = end;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	l = (size_t)(e - s);
	if (l > HTTP_TITLE_MAX) {
		l = HTTP_TITLE_MAX;
		while (l > 0 && ((unsigned char)s[l] & 0xc0) == 0x80)
			l--;	/* s[l] continues a sequence: cut before it */
	}
	return strndup(s, l);
}

/* Where the pinned address goes: "host:port:ip" for CURLOPT_RESOLVE. */
static zerr_t
pin_entry(const char *url, const char *ip, char *out, size_t len,
    zdiag_t *d)
{
	CURLU *u;
	char *h = NULL, *p = NULL;
	bool v6 = strchr(ip, ':') != NULL && ip[0] != '[';
	zerr_t e = ZE_OK;

	if ((u = curl_url()) == NULL)
		return zdiag_set(d, ZE_NOMEM, "http: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		e = zdiag_set(d, ZE_INVAL, "http: '%s' is not a URL", url);
		goto out;
	}
	if ((size_t)snprintf(out, len, "%s:%s:%s%s%s", h, p, v6 ? "[" : "",
	    ip, v6 ? "]" : "") >= len)
		e = zdiag_set(d, ZE_INVAL, "http: URL host too long");
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return e;
}

static bool
is_http_url(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 ||
	    strncasecmp(u, "https://", 8) == 0;
}

zerr_t
probe_http(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	char errbuf[CURL_ERROR_SIZE], pin[600], abuf[80];
	struct curl_slist *resolve = NULL;
	Zond__V1__Outcome *o = NULL;
	Zond__V1__HttpOutcome *ho = NULL;
	Zond__V1__Failure fail = ZOND__V1__FAILURE__FAIL_NONE;
	/* the strongest fingerprint seen on the way (redirects, last page);
	 * only nat/isp/prod/inst ones are a failure (FP_SCOPE_BLOCKS) */
	struct fp_match fm = {NULL, FP_SCOPE_FP}, m1;
	char *url = NULL;
	struct hop hop;
	CURL *h = NULL;
	struct pu_curl_addr ca;
	CURLcode rc;
	long status = 0, oserr = 0, port = 0;
	size_t cap, i;
	zerr_t e = ZE_NOMEM;

	*out = NULL;
	if (req->target == NULL || !is_http_url(req->target))
		return zdiag_set(d, ZE_INVAL, "http: target '%s' is not an "
		    "http:// or https:// URL", req->target != NULL ?
		    req->target : "");
	if (req->ip != NULL) {
		if ((e = pin_entry(req->target, req->ip, pin, sizeof(pin),
		    d)) != ZE_OK)
			return e;
		if ((resolve = curl_slist_append(NULL, pin)) == NULL)
			return zdiag_set(d, ZE_NOMEM, "http: out of memory");
	}
	cap = env->body_cap > 0 ? (size_t)env->body_cap : HTTP_BODY_CAP;
	hop_init(&hop, cap);
	e = ZE_NOMEM;
	if ((o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_HTTP)) == NULL)
		goto out;
	ho = o->http;
	if ((ho->url = pu_strdup(req->target)) == NULL ||
	    (url = pu_strdup(req->target)) == NULL ||
	    (ho->redirects = calloc(HTTP_MAX_REDIRECTS + 1,
	    sizeof(*ho->redirects))) == NULL)
		goto out;
	if ((h = curl_easy_init()) == NULL)
		goto out;

	for (;;) {
		char *next = NULL;

		curl_easy_reset(h);
		status = 0;
		hop_reset_headers(&hop);
		zbuf_reset(&hop.body);
		hop.body_len = 0;
		hop.truncated = false;
		crypto_hash_sha256_init(&hop.sha);
		errbuf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_URL, url);
		if (resolve != NULL)
			curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)env->timeout_ms);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
		    (long)env->timeout_ms * 3);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
		    (long)(env->timeout_ms + 999) / 1000);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &hop);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &hop);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "zond-agent");
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
		if (env->ca_file != NULL)
			curl_easy_setopt(h, CURLOPT_CAINFO, env->ca_file);
		pu_curl_track(h, &ca);
		rc = curl_easy_perform(h);
		if (hop.nomem)
			goto out;
		if (rc == CURLE_WRITE_ERROR && hop.truncated)
			rc = CURLE_OK;
		/* kept even when the transfer failed after the status line
		 * (a blockpage followed by a reset, a freeze mid-body) */
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (rc != CURLE_OK) {
			fail = pu_curl_result(h, &ca, rc, errbuf, &oserr,
			    env->timeout_ms);
			pu_fail(o, fail, "GET %s: %s (curl %d, errno %ld)", url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc),
			    (int)rc, oserr);
			break;
		}
		if (status < 300 || status > 399 || !hop.has_location)
			break;
		/* a redirect: record it, stop at a blockpage address */
		if (ho->n_redirects == HTTP_MAX_REDIRECTS) {
			fail = ZOND__V1__FAILURE__FAIL_HTTP_ERROR;
			pu_fail(o, fail, "more than %d redirects",
			    HTTP_MAX_REDIRECTS);
			break;
		}
		if ((ho->redirects[ho->n_redirects] =
		    pu_strdup(hop.location)) == NULL)
			goto out;
		ho->n_redirects++;
		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
		fp_match_keep(&fm, fpdb_match_header(env->fp, "Location",
		    hop.location));
		if (next != NULL)
			fp_match_keep(&fm, fpdb_match_header(env->fp,
			    "Location", next));
		if (fm.name != NULL && FP_SCOPE_BLOCKS(fm.scope)) {
			fail = ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT;
			pu_fail(o, fail, "redirect to %s matches fingerprint "
			    "%s (scope %s)", hop.location, fm.name,
			    fpdb_scope_name(fm.scope));
			break;
		}
		if (next == NULL || !is_http_url(next))
			break;	/* nowhere we can follow: this is final */
		free(url);
		if ((url = pu_strdup(next)) == NULL)
			goto out;
	}

	/* the last response: what came back, whatever the failure */
	{
		char *pip = NULL;
		if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &pip) ==
		    CURLE_OK && pip != NULL && *pip != '\0') {
			curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
			snprintf(abuf, sizeof(abuf), "%s%s%s:%ld",
			    strchr(pip, ':') ? "[" : "", pip,
			    strchr(pip, ':') ? "]" : "", port);
			if ((ho->addr = pu_strdup(abuf)) == NULL)
				goto out;
		} else if (req->ip != NULL &&
		    (ho->addr = pu_strdup(req->ip)) == NULL) {
			goto out;
		}
	}
	if (status > 0) {
		unsigned char md[crypto_hash_sha256_BYTES];

		ho->has_status = 1;
		ho->status = (uint32_t)status;
		if (hop.nhdr > 0) {
			if ((ho->headers = calloc(hop.nhdr,
			    sizeof(*ho->headers))) == NULL)
				goto out;
			for (i = 0; i < hop.nhdr; i++) {
				ho->headers[i] = hop.hdr[i];
				hop.hdr[i] = NULL;
			}
			ho->n_headers = hop.nhdr;
			hop.nhdr = 0;
		}
		ho->has_body_length = 1;
		ho->body_length = hop.body_len;
		crypto_hash_sha256_final(&hop.sha, md);
		ho->has_body_sha256 = 1;
		ho->body_sha256.len = sizeof(md);
		if ((ho->body_sha256.data = malloc(sizeof(md))) == NULL)
			goto out;
		memcpy(ho->body_sha256.data, md, sizeof(md));
		ho->has_body_head = 1;
		ho->body_head.len = hop.body.len < HTTP_HEAD_MAX ?
		    hop.body.len : HTTP_HEAD_MAX;
		if (ho->body_head.len > 0) {
			if ((ho->body_head.data = malloc(ho->body_head.len)) ==
			    NULL)
				goto out;
			memcpy(ho->body_head.data, hop.body.data,
			    ho->body_head.len);
		}
		errno = 0;
		if (hop.body.len > 0 && (ho->title = body_title(
		    (const char *)hop.body.data, hop.body.len)) == NULL &&
		    errno == ENOMEM)
			goto out;
		/* a blockpage is named even when the connection then broke
		 * (ISPs often send one and reset); the detail keeps both */
		m1 = fm;
		if (fail != ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT)
			fp_match_keep(&fm, fpdb_match_http(env->fp,
			    hop.body.len ? (const char *)hop.body.data : "",
			    hop.body.len, (const char *const *)ho->headers,
			    ho->n_headers));
		if (fm.name != m1.name && FP_SCOPE_BLOCKS(fm.scope)) {
			if (fail == ZOND__V1__FAILURE__FAIL_NONE)
				pu_fail(o, ZOND__V1__FAILURE__FAIL_BLOCKPAGE,
				    "response matches fingerprint %s (scope "
				    "%s)", fm.name, fpdb_scope_name(fm.scope));
			else
				pu_fail(o, ZOND__V1__FAILURE__FAIL_BLOCKPAGE,
				    "response matches fingerprint %s (scope "
				    "%s); then %s", fm.name,
				    fpdb_scope_name(fm.scope),
				    o->detail != NULL ? o->detail :
				    "a transport error");
			fail = ZOND__V1__FAILURE__FAIL_BLOCKPAGE;
		}
		if (fail == ZOND__V1__FAILURE__FAIL_NONE && hop.truncated &&
		    (o->detail = pu_asprintf("body cut at %zu bytes", cap)) ==
		    NULL)
			goto out;
	}
	if (fm.name != NULL && (ho->blockpage = pu_strdup(fm.name)) == NULL)
		goto out;
	if (o->failure != ZOND__V1__FAILURE__FAIL_NONE && o->detail == NULL)
		goto out;
	*out = o;
	o = NULL;
	e = ZE_OK;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(resolve);
	hop_free(&hop);
	free(url);
	if (o != NULL)
		zond__v1__outcome__free_unpacked(o, NULL);
	if (e == ZE_NOMEM)
		return zdiag_set(d, ZE_NOMEM, "http: out of memory");
	return e;
}
