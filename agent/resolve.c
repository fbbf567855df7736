/*
 * resolve.c — see resolve.h.  Costs per test of a name: one getaddrinfo
 * per attempt (as before), at most one DoH query and at most one more
 * run of the test; at most 2 * RESOLVE_MAX_ADDRS addresses are kept.
 * Addresses are compared as inet_ntop text, which is canonical on both
 * sides (getaddrinfo here, ldns's presentation of A/AAAA for DoH).
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "probe_util.h"
#include "ztime.h"

bool
resolve_named(const probe_req_t *req, char *host, size_t len)
{
	struct in_addr a4;
	CURLU *u;
	char *h = NULL;
	bool ok = false;

	if (req->ip != NULL || req->target == NULL ||
	    (req->test != ZOND__V1__TEST_KIND__TEST_TCP &&
	    req->test != ZOND__V1__TEST_KIND__TEST_TLS &&
	    req->test != ZOND__V1__TEST_KIND__TEST_HTTP))
		return false;
	if ((u = curl_url()) == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, req->target, CURLU_DEFAULT_SCHEME |
	    CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    h[0] != '\0' && h[0] != '[' && inet_pton(AF_INET, h, &a4) != 1 &&
	    strlen(h) < len) {
		memcpy(host, h, strlen(h) + 1);
		ok = true;
	}
	curl_free(h);
	curl_url_cleanup(u);
	return ok;
}

/* Append text to the address list *v (n of them) unless it is there or
 * the list is full; false on ENOMEM. */
static bool
addr_add(char ***v, size_t *n, const char *text)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], text) == 0)
			return true;
	if (*n == RESOLVE_MAX_ADDRS)
		return true;
	if (*v == NULL &&
	    (*v = calloc(RESOLVE_MAX_ADDRS, sizeof(**v))) == NULL)
		return false;
	if (((*v)[*n] = pu_strdup(text)) == NULL)
		return false;
	(*n)++;
	return true;
}

zerr_t
resolve_system(const char *host, Zond__V1__Resolution **out, char *why,
    size_t whylen)
{
	struct addrinfo hints, *ai = NULL, *p;
	Zond__V1__Resolution *r;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	*out = NULL;
	why[0] = '\0';
	if ((r = malloc(sizeof(*r))) == NULL)
		return ZE_NOMEM;
	zond__v1__resolution__init(r);
	if ((r->name = pu_strdup(host)) == NULL)
		goto nomem;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	for (p = rc == 0 ? ai : NULL; p != NULL; p = p->ai_next) {
		const void *a;
		if (p->ai_family == AF_INET)
			a = &((struct sockaddr_in *)(void *)p->ai_addr)->
			    sin_addr;
		else if (p->ai_family == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)p->ai_addr)->
			    sin6_addr;
		else
			continue;
		if (inet_ntop(p->ai_family, a, ip, sizeof(ip)) == NULL)
			continue;
		if (!addr_add(&r->system, &r->n_system, ip))
			goto nomem;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	ai = NULL;
	if (r->n_system == 0) {
		r->has_system_failure = 1;
		r->system_failure = rc == EAI_NONAME ?
		    ZOND__V1__FAILURE__FAIL_NXDOMAIN : rc == EAI_AGAIN ?
		    ZOND__V1__FAILURE__FAIL_TIMEOUT :
		    ZOND__V1__FAILURE__FAIL_LOCAL;
		snprintf(why, whylen, "system resolver: %s: %s", host,
		    rc != 0 ? gai_strerror(rc) : "no address");
	}
	*out = r;
	return ZE_OK;
nomem:
	if (ai != NULL)
		freeaddrinfo(ai);
	zond__v1__resolution__free_unpacked(r, NULL);
	return ZE_NOMEM;
}

/* One DoH query for r->name (AAAA when aaaa): doh[] and doh_failure. */
static zerr_t
second_doh(const probe_env_t *env, Zond__V1__Resolution *r, bool aaaa)
{
	probe_req_t q = {.test = ZOND__V1__TEST_KIND__TEST_DOH,
	    .target = r->name, .variant = aaaa ? "AAAA" : "A"};
	Zond__V1__Outcome *o = NULL;
	const Zond__V1__DnsResponse *resp;
	zdiag_t d;
	size_t i;
	zerr_t e;

	d.text[0] = '\0';
	r->has_doh_failure = 1;
	if ((e = probe_doh(env, &q, &o, &d)) != ZE_OK) {
		if (e == ZE_NOMEM)
			return e;
		/* an unusable URL or name: nothing was asked */
		r->doh_failure = ZOND__V1__FAILURE__FAIL_LOCAL;
		return ZE_OK;
	}
	r->doh_failure = o->failure;
	if (o->dns != NULL && o->dns->n_responses > 0) {
		resp = o->dns->responses[0];
		for (i = 0; i < resp->n_answers; i++)
			if (strcmp(resp->answers[i]->type, aaaa ? "AAAA" :
			    "A") == 0 && !addr_add(&r->doh, &r->n_doh,
			    resp->answers[i]->data)) {
				zond__v1__outcome__free_unpacked(o, NULL);
				return ZE_NOMEM;
			}
	}
	zond__v1__outcome__free_unpacked(o, NULL);
	return ZE_OK;
}

zerr_t
resolve_second(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Resolution *r)
{
	const probe_info_t *pi = probe_info(req->test);
	probe_req_t a = *req;
	Zond__V1__Outcome *o = NULL;
	const char *alt = NULL, *addr = NULL;
	bool aaaa;
	int64_t t0, us = -1;
	size_t i, j;
	zdiag_t d;
	zerr_t e;

	if (env->doh_url == NULL || r->name == NULL)
		return ZE_OK;
	aaaa = r->n_system > 0 && strchr(r->system[0], ':') != NULL;
	if ((e = second_doh(env, r, aaaa)) != ZE_OK)
		return e;
	for (i = 0; i < r->n_system; i++)
		for (j = 0; j < r->n_doh; j++)
			if (strcmp(r->system[i], r->doh[j]) == 0)
				return ZE_OK;	/* they agree */
	/* never a test into the volunteer's LAN */
	for (j = 0; j < r->n_doh && alt == NULL; j++)
		if (!pu_dns_bogon(r->doh[j]))
			alt = r->doh[j];
	if (alt == NULL || pi == NULL || pi->run == NULL)
		return ZE_OK;
	a.ip = alt;
	a.control_sni = NULL;	/* the real SNI only: one handshake */
	d.text[0] = '\0';
	t0 = ztime_mono_us();
	if ((e = pi->run(env, &a, &o, &d)) != ZE_OK) {
		if (e == ZE_NOMEM)
			return e;
		r->has_alt_failure = 1;
		r->alt_failure = ZOND__V1__FAILURE__FAIL_LOCAL;
		r->alt_addr = pu_strdup(alt);
		return r->alt_addr != NULL ? ZE_OK : ZE_NOMEM;
	}
	r->has_alt_failure = 1;
	r->alt_failure = o->failure;
	switch (o->test_case) {
	case ZOND__V1__OUTCOME__TEST_TCP:
		addr = o->tcp->addr;
		if (o->tcp->has_connect_us)
			us = o->tcp->connect_us;
		break;
	case ZOND__V1__OUTCOME__TEST_TLS:
		addr = o->tls->addr;
		if (o->tls->has_handshake_us)
			us = o->tls->handshake_us;
		break;
	case ZOND__V1__OUTCOME__TEST_HTTP:
		/* no handshake time in an http outcome: the whole request */
		addr = o->http->addr;
		if (o->failure == ZOND__V1__FAILURE__FAIL_NONE)
			us = ztime_mono_us() - t0;
		break;
	default:
		break;
	}
	if (us >= 0) {
		r->has_alt_us = 1;
		r->alt_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	r->alt_addr = pu_strdup(addr != NULL ? addr : alt);
	zond__v1__outcome__free_unpacked(o, NULL);
	return r->alt_addr != NULL ? ZE_OK : ZE_NOMEM;
}
