/*
 * export_ooni.c — see export_ooni.h.  One stored measurement in OONI's
 * measurement data format; every mapping and its ooni/spec source is in
 * docs/DATA.md "OONI format".  Keys OONI does not define start with
 * "zond_"; the "zond" object keeps the record verifiable (zondctl verify).
 *
 * Web Connectivity's comparison keys (`*_match`, `dns_consistency`,
 * `control`) compare the probe's measurement with the nearest control
 * agent's measurement of the same test and target within the control
 * window (ooni_ctl_t), as OONI compares with its test helper.
 */
#include "export_ooni.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpcmp.h"
#include "json.h"
#include "utf8.h"
#include "ztime.h"

#define TRY(x) do { zerr_t e_ = (x); if (e_ != ZE_OK) return e_; } while (0)

/* ------------------------------------------------------------ controls */

struct ctl_ent {
	const wire_meas_t *m;
	int64_t start_us;
};

struct ooni_ctl {
	struct ctl_ent *e;
	size_t n, cap;
	int64_t window_us;
	bool nomem;
};

static const char *
tgt(const wire_meas_t *m)
{
	return m->target != NULL ? m->target : "";
}

static int
cmp_key(int test_a, const char *tgt_a, int64_t s_a, const struct ctl_ent *b)
{
	int c;

	if (test_a != (int)b->m->test)
		return test_a < (int)b->m->test ? -1 : 1;
	if ((c = strcmp(tgt_a, tgt(b->m))) != 0)
		return c;
	return s_a < b->start_us ? -1 : s_a > b->start_us;
}

static int
cmp_ent(const void *x, const void *y)
{
	const struct ctl_ent *a = x;
	return cmp_key((int)a->m->test, tgt(a->m), a->start_us, y);
}

static void
ctl_add(const wire_meas_t *m, enum store_role role, int64_t start_us,
    void *arg)
{
	ooni_ctl_t *c = arg;

	if (role != STORE_ROLE_CONTROL || c->nomem || m->outcome == NULL)
		return;
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 256;
		struct ctl_ent *ne = realloc(c->e, nc * sizeof(*ne));
		if (ne == NULL) {
			c->nomem = true;
			return;
		}
		c->e = ne;
		c->cap = nc;
	}
	c->e[c->n].m = m;
	c->e[c->n].start_us = start_us;
	c->n++;
}

zerr_t
ooni_ctl_build(const analysis_t *a, int64_t window_us, ooni_ctl_t **out)
{
	ooni_ctl_t *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return ZE_NOMEM;
	c->window_us = window_us;
	analysis_each(a, ctl_add, c);
	if (c->nomem) {
		ooni_ctl_free(&c);
		return ZE_NOMEM;
	}
	if (c->n > 1)
		qsort(c->e, c->n, sizeof(*c->e), cmp_ent);
	*out = c;
	return ZE_OK;
}

void
ooni_ctl_free(ooni_ctl_t **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free((*cp)->e);
	free(*cp);
	*cp = NULL;
}

/* The measurement of another control agent of m's test and target
 * nearest in start time, within the window; NULL if none.  A binary
 * search, then a few neighbours on each side (another agent's, the
 * nearest first): O(log n). */
#define CTL_NEAR 8

static bool
ctl_usable(const ooni_ctl_t *c, const wire_meas_t *m, size_t k, int64_t *d)
{
	const struct ctl_ent *e = &c->e[k];

	*d = e->start_us > m->start_us ? e->start_us - m->start_us :
	    m->start_us - e->start_us;
	return e->m->test == m->test && strcmp(tgt(e->m), tgt(m)) == 0 &&
	    *d <= c->window_us && !(e->m->agent.len == m->agent.len &&
	    e->m->agent.len > 0 && memcmp(e->m->agent.data, m->agent.data,
	    m->agent.len) == 0);
}

static const wire_meas_t *
ctl_find(const ooni_ctl_t *c, const wire_meas_t *m)
{
	size_t lo = 0, hi;
	const wire_meas_t *best = NULL;
	int64_t bd = 0, d;

	if (c == NULL || c->n == 0)
		return NULL;
	hi = c->n;
	while (lo < hi) {	/* first entry >= (test, target, start) */
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key((int)m->test, tgt(m), m->start_us, &c->e[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < c->n && k < lo + CTL_NEAR; k++)
		if (ctl_usable(c, m, k, &d) && (best == NULL || d < bd)) {
			best = c->e[k].m;
			bd = d;
		}
	for (size_t k = lo; k > 0 && k + CTL_NEAR > lo; k--)
		if (ctl_usable(c, m, k - 1, &d) && (best == NULL || d < bd)) {
			best = c->e[k - 1].m;
			bd = d;
		}
	return best;
}

/* ------------------------------------------------------------ failures */

static bool
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

/*
 * df-007's string for one of our failures.  A certificate we could not
 * verify is told apart by the TLS library's message in the detail (an
 * unknown issuer, an expired or otherwise bad certificate, a wrong name).
 */
const char *
ooni_failure(Zond__V1__Failure f, const char *detail)
{
	switch (f) {
	case ZOND__V1__FAILURE__FAIL_NONE:
	case ZOND__V1__FAILURE__FAIL_BLOCKPAGE:
	case ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT:
		return NULL;
	case ZOND__V1__FAILURE__FAIL_TIMEOUT:
	case ZOND__V1__FAILURE__FAIL_STALL:
	case ZOND__V1__FAILURE__FAIL_NO_REPLY:
		return "generic_timeout_error";
	case ZOND__V1__FAILURE__FAIL_REFUSED:
		return "connection_refused";
	case ZOND__V1__FAILURE__FAIL_UNREACHABLE:
		return "host_unreachable";
	case ZOND__V1__FAILURE__FAIL_RESET:
		return "connection_reset";
	case ZOND__V1__FAILURE__FAIL_NXDOMAIN:
		return "dns_nxdomain_error";
	case ZOND__V1__FAILURE__FAIL_SERVFAIL:
		return "dns_servfail_error";
	case ZOND__V1__FAILURE__FAIL_DNS_REFUSED:
		return "dns_refused_error";
	case ZOND__V1__FAILURE__FAIL_BOGON:
		return "dns_bogon_error";
	case ZOND__V1__FAILURE__FAIL_MULTIPLE_RESPONSES:
		return "unknown_failure: dns_multiple_responses";
	case ZOND__V1__FAILURE__FAIL_EOF:
		return "eof_error";
	case ZOND__V1__FAILURE__FAIL_CERT_INVALID:
		if (has(detail, "self-signed") || has(detail, "self signed") ||
		    has(detail, "local issuer") || has(detail, "unable to get "
		    "issuer") || has(detail, "unknown ca"))
			return "ssl_unknown_authority";
		if (has(detail, "subject name") || has(detail, "host name") ||
		    has(detail, "hostname"))
			return "ssl_invalid_hostname";
		return "ssl_invalid_certificate";
	case ZOND__V1__FAILURE__FAIL_TLS_ERROR:
		return "ssl_failed_handshake";
	case ZOND__V1__FAILURE__FAIL_BAD_RESPONSE:
		return "unknown_failure: bad_response";
	case ZOND__V1__FAILURE__FAIL_HTTP_ERROR:
		return "http_request_failed";
	case ZOND__V1__FAILURE__FAIL_LOCAL:
		return "unknown_failure: local";
	default:
		return "unknown_failure";
	}
}

static zerr_t
fail_json(zbuf_t *b, Zond__V1__Failure f, const char *detail)
{
	return json_cstr(b, ooni_failure(f, detail));
}

static zerr_t
put_bool3(zbuf_t *b, int v)	/* -1 null, 0 false, 1 true */
{
	return zbuf_puts(b, v < 0 ? "null" : v ? "true" : "false");
}

/* Split "ip:port" / "[v6]:port" into ip and port (0 when absent). */
static void
split_addr(const char *a, char *ip, size_t iplen, unsigned *port)
{
	const char *c;
	size_t n;

	*port = 0;
	ip[0] = '\0';
	if (a == NULL)
		return;
	if (a[0] == '[' && (c = strchr(a, ']')) != NULL) {
		n = (size_t)(c - a - 1);
		if (n >= iplen)
			n = iplen - 1;
		memcpy(ip, a + 1, n);
		ip[n] = '\0';
		c = c[1] == ':' ? c + 1 : NULL;
	} else if ((c = strrchr(a, ':')) != NULL && strchr(a, ':') == c) {
		n = (size_t)(c - a);
		if (n >= iplen)
			n = iplen - 1;
		memcpy(ip, a, n);
		ip[n] = '\0';
	} else {
		snprintf(ip, iplen, "%s", a);
		c = NULL;
	}
	if (c != NULL) {
		char *end;
		unsigned long p = strtoul(c + 1, &end, 10);
		if (*end == '\0' && p <= 65535)
			*port = (unsigned)p;
	}
}

/* ------------------------------------------------------------ names */

static bool
quic_is_ping(const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	return o != NULL && o->test_case == ZOND__V1__OUTCOME__TEST_QUIC &&
	    o->quic->variant != NULL && strcmp(o->quic->variant, "vn") == 0;
}

static bool
vpn_is_openvpn(const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	return o != NULL && o->test_case == ZOND__V1__OUTCOME__TEST_VPN &&
	    o->vpn->protocol != NULL && strcmp(o->vpn->protocol, "openvpn") ==
	    0;
}

static const char *
test_name(const wire_meas_t *m)
{
	switch (m->test) {
	case ZOND__V1__TEST_KIND__TEST_HTTP:
		return "web_connectivity";
	case ZOND__V1__TEST_KIND__TEST_DNS:
	case ZOND__V1__TEST_KIND__TEST_DOH:
		return "urlgetter";
	case ZOND__V1__TEST_KIND__TEST_TCP:
		return "tcp_connect";
	case ZOND__V1__TEST_KIND__TEST_TLS:
		return "sni_blocking";
	case ZOND__V1__TEST_KIND__TEST_STUN:
		return "stunreachability";
	case ZOND__V1__TEST_KIND__TEST_QUIC:
		return quic_is_ping(m) ? "quicping" : "zond_quic";
	case ZOND__V1__TEST_KIND__TEST_THROUGHPUT:
		return "zond_throughput";
	case ZOND__V1__TEST_KIND__TEST_FREEZE:
		return "zond_freeze";
	case ZOND__V1__TEST_KIND__TEST_VPN:
		return vpn_is_openvpn(m) ? "openvpn" : "zond_vpn";
	case ZOND__V1__TEST_KIND__TEST_CALL:
		return "zond_call";
	default:
		return "zond_unknown";
	}
}

static const char *
stun_addr(const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	return o != NULL && o->test_case == ZOND__V1__OUTCOME__TEST_STUN &&
	    o->stun->addr != NULL ? o->stun->addr : tgt(m);
}

void
ooni_input(const wire_meas_t *m, char *buf, size_t n)
{
	const Zond__V1__Outcome *o = m->outcome;

	if (m->test == ZOND__V1__TEST_KIND__TEST_STUN)
		snprintf(buf, n, "stun://%s", stun_addr(m));
	else if ((m->test == ZOND__V1__TEST_KIND__TEST_DNS ||
	    m->test == ZOND__V1__TEST_KIND__TEST_DOH) &&
	    strstr(tgt(m), "://") == NULL)
		snprintf(buf, n, "dnslookup://%s", tgt(m));
	else if (m->test == ZOND__V1__TEST_KIND__TEST_VPN && vpn_is_openvpn(m))
		snprintf(buf, n, "openvpn://unknown.corp/?address=%s&"
		    "transport=udp", o->vpn->addr != NULL ? o->vpn->addr :
		    tgt(m));
	else
		snprintf(buf, n, "%s", tgt(m));
}

/* ------------------------------------------------------------ DNS */

static zerr_t
answers_json(zbuf_t *b, const char *const *addrs, size_t n)
{
	TRY(zbuf_putc(b, '['));
	for (size_t i = 0; i < n; i++) {
		bool v6 = strchr(addrs[i], ':') != NULL;
		TRY(zbuf_puts(b, i ? "," : ""));
		TRY(zbuf_puts(b, v6 ? "{\"answer_type\":\"AAAA\",\"ipv6\":" :
		    "{\"answer_type\":\"A\",\"ipv4\":"));
		TRY(json_cstr(b, addrs[i]));
		TRY(zbuf_puts(b, ",\"ttl\":null}"));
	}
	return zbuf_putc(b, ']');
}

/* One df-002 query for a resolution: the addresses as a getaddrinfo-like
 * ANY lookup (df-002 "DNS resolver engines"). */
static zerr_t
query_json(zbuf_t *b, const char *engine, const char *name,
    const char *resolver, Zond__V1__Failure f, bool has_f,
    char *const *addrs, size_t n)
{
	TRY(zbuf_puts(b, "{\"answers\":"));
	TRY(answers_json(b, (const char *const *)addrs, n));
	TRY(zbuf_printf(b, ",\"engine\":\"%s\",\"failure\":", engine));
	TRY(has_f ? fail_json(b, f, NULL) : n > 0 ? zbuf_puts(b, "null") :
	    zbuf_puts(b, "\"dns_no_answer\""));
	TRY(zbuf_puts(b, ",\"hostname\":"));
	TRY(json_cstr(b, name));
	TRY(zbuf_puts(b, ",\"query_type\":\"ANY\",\"resolver_address\":"));
	TRY(json_cstr(b, resolver != NULL ? resolver : ""));
	return zbuf_puts(b, ",\"t\":0}");
}

/* `queries` of a tcp/tls/http test of a name: the system resolver's
 * answer and the DoH resolver's when asked. */
static zerr_t
resolution_queries(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Resolution *r = m->resolution;
	const char *res = m->net != NULL ? m->net->resolver : NULL;

	TRY(zbuf_putc(b, '['));
	if (r != NULL && r->name != NULL) {
		TRY(query_json(b, res != NULL ? "udp" : "getaddrinfo", r->name,
		    res, r->system_failure, r->has_system_failure &&
		    r->system_failure != ZOND__V1__FAILURE__FAIL_NONE,
		    r->system, r->n_system));
		if (r->n_doh > 0 || r->has_doh_failure) {
			TRY(zbuf_putc(b, ','));
			TRY(query_json(b, "doh", r->name, "doh", r->doh_failure,
			    r->has_doh_failure && r->doh_failure !=
			    ZOND__V1__FAILURE__FAIL_NONE, r->doh, r->n_doh));
		}
	}
	return zbuf_putc(b, ']');
}

/* DNS and DoH tests: urlgetter's shape for `dnslookup://name` (ts-027),
 * one df-002 query per response received (one without answers when none
 * came). */
static zerr_t
keys_dns(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__DnsOutcome *dn = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_DNS ? o->dns : NULL;
	bool doh = m->test == ZOND__V1__TEST_KIND__TEST_DOH;
	const char *q = dn != NULL && dn->query != NULL ? dn->query : tgt(m);
	const char *qt = dn != NULL && dn->qtype != NULL ? dn->qtype : "A";
	size_t nr = dn != NULL ? dn->n_responses : 0;
	const char *f = ooni_failure(o->failure, o->detail);

	TRY(zbuf_puts(b, "{\"agent\":\"\",\"failed_operation\":"));
	TRY(zbuf_puts(b, f != NULL ? "\"resolve\"" : "null"));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(json_cstr(b, f));
	TRY(zbuf_puts(b, ",\"network_events\":[],\"queries\":["));
	for (size_t i = 0; i < (nr > 0 ? nr : 1); i++) {
		const Zond__V1__DnsResponse *r = nr > 0 ? dn->responses[i] :
		    NULL;
		TRY(zbuf_puts(b, i ? ",{\"answers\":[" : "{\"answers\":["));
		for (size_t j = 0; r != NULL && j < r->n_answers; j++) {
			const Zond__V1__DnsAnswer *a = r->answers[j];
			const char *ty = a->type != NULL ? a->type : "";
			TRY(zbuf_puts(b, j ? ",{\"answer_type\":" :
			    "{\"answer_type\":"));
			TRY(json_cstr(b, ty));
			TRY(zbuf_puts(b, strcmp(ty, "A") == 0 ? ",\"ipv4\":" :
			    strcmp(ty, "AAAA") == 0 ? ",\"ipv6\":" :
			    strcmp(ty, "CNAME") == 0 ? ",\"hostname\":" :
			    ",\"zond_data\":"));
			TRY(json_cstr(b, a->data));
			TRY(zbuf_printf(b, ",\"ttl\":%u}", a->ttl));
		}
		TRY(zbuf_printf(b, "],\"engine\":\"%s\",\"failure\":",
		    doh ? "doh" : "udp"));
		/* the outcome's failure belongs to the first response; later
		 * ones are the extra answers of an injector */
		TRY(i == 0 ? json_cstr(b, f) : zbuf_puts(b, "null"));
		TRY(zbuf_puts(b, ",\"hostname\":"));
		TRY(json_cstr(b, q));
		TRY(zbuf_puts(b, ",\"query_type\":"));
		TRY(json_cstr(b, qt));
		if (r != NULL && r->has_rcode)
			TRY(zbuf_printf(b, ",\"rcode\":%u", r->rcode));
		TRY(zbuf_puts(b, ",\"resolver_address\":"));
		TRY(json_cstr(b, r != NULL && r->from != NULL ? r->from :
		    m->net != NULL && m->net->resolver != NULL ?
		    m->net->resolver : ""));
		TRY(zbuf_printf(b, ",\"t\":%.6f}", r != NULL &&
		    r->has_arrival_us ? r->arrival_us / 1e6 : 0.0));
	}
	TRY(zbuf_puts(b, "],\"requests\":[],\"socksproxy\":null,"
	    "\"tcp_connect\":[],\"tls_handshakes\":[]"));
	if (dn != NULL && dn->answer_check != NULL) {
		TRY(zbuf_puts(b, ",\"zond_answer_check\":"));
		TRY(json_message(b, &dn->answer_check->base));
	}
	return zbuf_putc(b, '}');
}

/* ------------------------------------------------------------ TCP */

static zerr_t
tcp_entry(zbuf_t *b, const char *addr, Zond__V1__Failure f,
    const char *detail, bool has_t, uint32_t t_us)
{
	char ip[64];
	unsigned port;

	split_addr(addr, ip, sizeof(ip), &port);
	TRY(zbuf_puts(b, "{\"ip\":"));
	TRY(json_cstr(b, ip));
	TRY(zbuf_printf(b, ",\"port\":%u,\"status\":{\"failure\":", port));
	TRY(fail_json(b, f, detail));
	TRY(zbuf_printf(b, ",\"success\":%s},\"t\":%.6f}",
	    f == ZOND__V1__FAILURE__FAIL_NONE ? "true" : "false",
	    has_t ? t_us / 1e6 : 0.0));
	return ZE_OK;
}

static zerr_t
keys_tcp(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__TcpOutcome *t = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_TCP ? o->tcp : NULL;
	const char *f = ooni_failure(o->failure, o->detail);

	TRY(zbuf_puts(b, "{\"connection\":"));
	TRY(json_cstr(b, f != NULL ? f : "success"));
	TRY(zbuf_puts(b, ",\"queries\":"));
	TRY(resolution_queries(b, m));
	TRY(zbuf_puts(b, ",\"tcp_connect\":["));
	TRY(tcp_entry(b, t != NULL && t->addr != NULL ? t->addr : tgt(m),
	    o->failure, o->detail, t != NULL && t->has_connect_us,
	    t != NULL ? t->connect_us : 0));
	return zbuf_puts(b, "]}");
}

/* ------------------------------------------------------------ TLS */

/* One df-006 TLSHandshake; what the agent does not keep (cipher suite,
 * ALPN, certificates) is empty or null. */
static zerr_t
tls_entry(zbuf_t *b, const char *addr, const char *sni, Zond__V1__Failure f,
    const char *detail, bool has_t, uint32_t t_us, const char *version)
{
	TRY(zbuf_puts(b, "{\"address\":"));
	TRY(json_cstr(b, addr));
	TRY(zbuf_puts(b, ",\"cipher_suite\":\"\",\"failure\":"));
	TRY(fail_json(b, f, detail));
	TRY(zbuf_puts(b, ",\"negotiated_protocol\":\"\",\"network\":\"tcp\","
	    "\"no_tls_verify\":false,\"peer_certificates\":null,"
	    "\"server_name\":"));
	TRY(json_cstr(b, sni));
	TRY(zbuf_printf(b, ",\"t\":%.6f,\"tls_version\":", has_t ?
	    t_us / 1e6 : 0.0));
	TRY(json_cstr(b, version != NULL ? version : ""));
	return zbuf_putc(b, '}');
}

/* One sni_blocking Subresult (ts-024): the handshake with one SNI. */
static zerr_t
sni_subresult(zbuf_t *b, const wire_meas_t *m, const char *addr,
    const char *sni, Zond__V1__Failure f, const char *detail, bool has_t,
    uint32_t t_us, const char *version, bool with_queries)
{
	bool connected = f == ZOND__V1__FAILURE__FAIL_NONE ||
	    (f != ZOND__V1__FAILURE__FAIL_REFUSED &&
	    f != ZOND__V1__FAILURE__FAIL_UNREACHABLE &&
	    f != ZOND__V1__FAILURE__FAIL_LOCAL &&
	    f != ZOND__V1__FAILURE__FAIL_TIMEOUT);
	const Zond__V1__TlsOutcome *t = m->outcome->test_case ==
	    ZOND__V1__OUTCOME__TEST_TLS ? m->outcome->tls : NULL;

	/* a timeout in the connect stage is a connect failure */
	if (f == ZOND__V1__FAILURE__FAIL_TIMEOUT && t != NULL &&
	    t->error_stage != NULL && strcmp(t->error_stage, "connect") != 0)
		connected = true;
	TRY(zbuf_puts(b, "{\"failure\":"));
	TRY(fail_json(b, f, detail));
	TRY(zbuf_puts(b, ",\"network_events\":[],\"queries\":"));
	if (with_queries)
		TRY(resolution_queries(b, m));
	else
		TRY(zbuf_puts(b, "[]"));
	TRY(zbuf_puts(b, ",\"requests\":null,\"sni\":"));
	TRY(json_cstr(b, sni));
	TRY(zbuf_puts(b, ",\"tcp_connect\":["));
	TRY(tcp_entry(b, addr, connected ? ZOND__V1__FAILURE__FAIL_NONE : f,
	    detail, false, 0));
	TRY(zbuf_puts(b, "],\"th_address\":"));
	TRY(json_cstr(b, addr));
	TRY(zbuf_puts(b, ",\"tls_handshakes\":["));
	if (connected)
		TRY(tls_entry(b, addr, sni, f, detail, has_t, t_us, version));
	return zbuf_puts(b, "]}");
}

static zerr_t
keys_tls(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__TlsOutcome *t = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_TLS ? o->tls : NULL;
	const char *addr = t != NULL && t->addr != NULL ? t->addr : tgt(m);
	const char *sni = t != NULL && t->sni != NULL ? t->sni : tgt(m);
	const char *f = ooni_failure(o->failure, o->detail);
	const char *result;

	/* ts-024 "result" from the target's failure (the control's is its
	 * own Subresult) */
	if (f == NULL)
		result = "success.got_server_hello";
	else if (strcmp(f, "connection_reset") == 0)
		result = "interference.reset";
	else if (strcmp(f, "eof_error") == 0)
		result = "interference.closed";
	else if (strcmp(f, "ssl_invalid_certificate") == 0 ||
	    strcmp(f, "ssl_invalid_hostname") == 0)
		result = "interference.invalid_certificate";
	else if (strcmp(f, "ssl_unknown_authority") == 0)
		result = "interference.unknown_authority";
	else if (strcmp(f, "generic_timeout_error") == 0)
		result = t != NULL && t->has_control_failure &&
		    t->control_failure == ZOND__V1__FAILURE__FAIL_NONE ?
		    "anomaly.timeout" : "anomaly.test_helper_unreachable";
	else
		result = "anomaly.unexpected_failure";
	TRY(zbuf_puts(b, "{\"control\":"));
	if (t != NULL && t->control_sni != NULL)
		TRY(sni_subresult(b, m, addr, t->control_sni,
		    t->has_control_failure ? t->control_failure :
		    ZOND__V1__FAILURE__FAIL_NONE, NULL,
		    t->has_control_handshake_us, t->control_handshake_us, NULL,
		    false));
	else
		TRY(zbuf_puts(b, "null"));
	TRY(zbuf_puts(b, ",\"result\":"));
	TRY(json_cstr(b, result));
	TRY(zbuf_puts(b, ",\"target\":"));
	TRY(sni_subresult(b, m, addr, sni, o->failure, o->detail,
	    t != NULL && t->has_handshake_us, t != NULL ? t->handshake_us : 0,
	    t != NULL ? t->tls_version : NULL, true));
	if (t != NULL && t->error_stage != NULL) {
		TRY(zbuf_puts(b, ",\"zond_error_stage\":"));
		TRY(json_cstr(b, t->error_stage));
	}
	if (t != NULL && t->has_control_first)
		TRY(zbuf_printf(b, ",\"zond_control_first\":%s",
		    t->control_first ? "true" : "false"));
	if (t != NULL && t->shape != NULL) {
		TRY(zbuf_puts(b, ",\"zond_shape\":"));
		TRY(json_cstr(b, t->shape));
	}
	return zbuf_putc(b, '}');
}

/* ------------------------------------------------------------ UDP */

static zerr_t
keys_stun(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__StunOutcome *st = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_STUN ? o->stun : NULL;
	const char *addr = stun_addr(m);

	TRY(zbuf_puts(b, "{\"endpoint\":"));
	TRY(json_cstr(b, addr));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(fail_json(b, o->failure, o->detail));
	/* what the agent did, as df-008 events; the response is never kept
	 * (ts-025 "Privacy considerations") */
	TRY(zbuf_puts(b, ",\"network_events\":[{\"address\":"));
	TRY(json_cstr(b, addr));
	TRY(zbuf_puts(b, ",\"failure\":null,\"operation\":\"connect\","
	    "\"proto\":\"udp\",\"t\":0},{\"failure\":null,"
	    "\"operation\":\"write\",\"t\":0}"));
	if (o->failure == ZOND__V1__FAILURE__FAIL_NONE)
		TRY(zbuf_printf(b, ",{\"failure\":null,\"operation\":\"read\","
		    "\"t\":%.6f}", st != NULL && st->has_rtt_us ?
		    st->rtt_us / 1e6 : 0.0));
	else {
		TRY(zbuf_puts(b, ",{\"failure\":"));
		TRY(fail_json(b, o->failure, o->detail));
		TRY(zbuf_puts(b, ",\"operation\":\"read\",\"t\":0}"));
	}
	TRY(zbuf_puts(b, "],\"queries\":"));
	TRY(resolution_queries(b, m));
	if (st != NULL && st->variant != NULL) {
		TRY(zbuf_puts(b, ",\"zond_variant\":"));
		TRY(json_cstr(b, st->variant));
	}
	if (st != NULL && st->has_baseline_ok)
		TRY(zbuf_printf(b, ",\"zond_baseline_ok\":%s",
		    st->baseline_ok ? "true" : "false"));
	return zbuf_putc(b, '}');
}

/* QUIC's version-negotiation probe as ts-031 quicping: one ping; its
 * response when one came.  Connection ids and raw packets are not kept by
 * the agent (docs/DATA.md). */
static zerr_t
keys_quicping(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__QuicOutcome *q = o->quic;
	char host[256];
	unsigned port;
	double t = q->has_rtt_us ? q->rtt_us / 1e6 : 0.0;

	split_addr(q->addr != NULL ? q->addr : tgt(m), host, sizeof(host),
	    &port);
	TRY(zbuf_puts(b, "{\"domain\":"));
	TRY(json_cstr(b, host));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(fail_json(b, o->failure, o->detail));
	TRY(zbuf_puts(b, ",\"pings\":[{\"failure\":"));
	TRY(fail_json(b, o->failure, o->detail));
	TRY(zbuf_puts(b, ",\"request\":null,\"responses\":["));
	if (o->failure == ZOND__V1__FAILURE__FAIL_NONE)
		TRY(zbuf_printf(b, "{\"failure\":null,\"response_data\":null,"
		    "\"supported_versions\":[],\"t\":%.6f}", t));
	TRY(zbuf_puts(b, "],\"t\":0}],\"repetitions\":1,"
	    "\"unexpected_responses\":null"));
	if (q->has_baseline_ok)
		TRY(zbuf_printf(b, ",\"zond_baseline_ok\":%s",
		    q->baseline_ok ? "true" : "false"));
	return zbuf_putc(b, '}');
}

/* An OpenVPN handshake probe as ts-040 openvpn (UDP). */
static zerr_t
keys_openvpn(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__VpnOutcome *v = o->vpn;
	const char *addr = v->addr != NULL ? v->addr : tgt(m);
	char ip[64];
	unsigned port;
	bool ok = o->failure == ZOND__V1__FAILURE__FAIL_NONE;
	double t = v->has_rtt_us ? v->rtt_us / 1e6 : 0.0;

	split_addr(addr, ip, sizeof(ip), &port);
	TRY(zbuf_printf(b, "{\"bootstrap_time\":%.6f,\"failure\":", ok ? t :
	    0.0));
	TRY(fail_json(b, o->failure, o->detail));
	TRY(zbuf_puts(b, ",\"network_events\":[],\"openvpn_handshake\":[{"
	    "\"endpoint\":"));
	{
		char ep[160];
		snprintf(ep, sizeof(ep), "openvpn://%s/udp", addr);
		TRY(json_cstr(b, ep));
	}
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(fail_json(b, o->failure, o->detail));
	TRY(zbuf_printf(b, ",\"handshake_time\":%.6f,\"ip\":", t));
	TRY(json_cstr(b, ip));
	TRY(zbuf_printf(b, ",\"openvpn_options\":{},\"port\":%u,\"provider\":"
	    "\"unknown\",\"t\":%.6f,\"t0\":0,\"transaction_id\":1,"
	    "\"transport\":\"udp\"}],\"success\":%s,\"tcp_connect\":[],"
	    "\"tunnel\":\"openvpn\"", port, t, ok ? "true" : "false"));
	if (v->has_baseline_ok)
		TRY(zbuf_printf(b, ",\"zond_baseline_ok\":%s",
		    v->baseline_ok ? "true" : "false"));
	return zbuf_putc(b, '}');
}

/* Tests OONI has no experiment for: the failure and our outcome. */
static zerr_t
keys_other(zbuf_t *b, const wire_meas_t *m)
{
	TRY(zbuf_puts(b, "{\"failure\":"));
	TRY(fail_json(b, m->outcome->failure, m->outcome->detail));
	TRY(zbuf_puts(b, ",\"zond_outcome\":"));
	TRY(json_message(b, &m->outcome->base));
	return zbuf_putc(b, '}');
}

/* ------------------------------------------------------------ HTTP */

static const Zond__V1__HttpOutcome *
http_of(const wire_meas_t *m)
{
	return m != NULL && m->outcome != NULL && m->outcome->test_case ==
	    ZOND__V1__OUTCOME__TEST_HTTP ? m->outcome->http : NULL;
}

/* Not one of OONI's common headers (ts-017 "headers_match"; the list the
 * verdict rules use, httpcmp.c). */
static bool
header_uncommon(const char *h, size_t n)
{
	return !httpcmp_common_header(h, n);
}

/* Whether the two responses share an uncommon header name: 1, 0, -1
 * when either has no response.  Headers are capped per response by the
 * agent (64), so this is bounded. */
static int
headers_match(const Zond__V1__HttpOutcome *p, const Zond__V1__HttpOutcome *c)
{
	if (p == NULL || c == NULL || !p->has_status || !c->has_status)
		return -1;
	for (size_t i = 0; i < p->n_headers && i < 64; i++) {
		const char *a = p->headers[i], *ca = strchr(a, ':');
		if (ca == NULL || !header_uncommon(a, (size_t)(ca - a)))
			continue;
		for (size_t j = 0; j < c->n_headers && j < 64; j++) {
			const char *h = c->headers[j], *ch = strchr(h, ':');
			if (ch != NULL && ch - h == ca - a &&
			    strncasecmp(a, h, (size_t)(ca - a)) == 0)
				return 1;
		}
	}
	return 0;
}

/* Words longer than four characters shared by the two titles: 1, 0, or
 * -1 when either title has no such word (ts-017 "title_match").  Titles
 * are capped (256 bytes) by the agent. */
static bool
next_word(const char **s, const char **w, size_t *n)
{
	const char *p = *s;

	for (;;) {
		while (*p != '\0' && isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return false;
		*w = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		*n = (size_t)(p - *w);
		*s = p;
		{
			size_t chars = 0;	/* UTF-8 characters */
			for (size_t k = 0; k < *n; k++)
				chars += ((unsigned char)(*w)[k] & 0xC0) != 0x80;
			if (chars > 4)
				return true;
		}
	}
}

static int
title_match(const char *a, const char *b)
{
	const char *sa = a, *wa, *wb;
	size_t na, nb;
	bool any_a = false, any_b = false;

	if (a == NULL || b == NULL || strlen(a) > 256 || strlen(b) > 256)
		return -1;
	while (next_word(&sa, &wa, &na)) {
		const char *sb = b;
		any_a = true;
		while (next_word(&sb, &wb, &nb)) {
			any_b = true;
			if (na == nb && strncasecmp(wa, wb, na) == 0)
				return 1;
		}
	}
	if (!any_b) {
		const char *sb = b;
		any_b = next_word(&sb, &wb, &nb);
	}
	return any_a && any_b ? 0 : -1;
}

static zerr_t
maybe_binary(zbuf_t *b, const uint8_t *p, size_t n)
{
	if (n == 0 || utf8_text_ok(p, n))
		return json_str(b, (const char *)p, n);
	TRY(zbuf_puts(b, "{\"data\":"));
	TRY(json_b64(b, p, n));
	return zbuf_puts(b, ",\"format\":\"base64\"}");
}

/* df-001 `headers` and, with list, `headers_list`. */
static zerr_t
headers_json(zbuf_t *b, char *const *hs, size_t n, bool list)
{
	bool first = true;

	TRY(zbuf_puts(b, "\"headers\":{"));
	for (size_t i = 0; i < n; i++) {
		const char *hd = hs[i], *c = strchr(hd, ':'), *val;
		bool seen = false;
		if (c == NULL)
			continue;
		/* df-001: the map keeps a repeated name's first value; the
		 * agent keeps at most 64 headers, so this stays bounded */
		for (size_t k = 0; k < i && k < 64 && !seen; k++)
			seen = strncasecmp(hs[k], hd, (size_t)(c - hd) + 1) ==
			    0;
		if (seen)
			continue;
		for (val = c + 1; *val == ' '; val++)
			;
		TRY(zbuf_puts(b, first ? "" : ","));
		first = false;
		TRY(json_str(b, hd, (size_t)(c - hd)));
		TRY(zbuf_putc(b, ':'));
		TRY(json_cstr(b, val));
	}
	if (!list)
		return zbuf_putc(b, '}');
	TRY(zbuf_puts(b, "},\"headers_list\":["));
	first = true;
	for (size_t i = 0; i < n; i++) {
		const char *hd = hs[i], *c = strchr(hd, ':'), *val;
		if (c == NULL)
			continue;
		for (val = c + 1; *val == ' '; val++)
			;
		TRY(zbuf_puts(b, first ? "[" : ",["));
		first = false;
		TRY(json_str(b, hd, (size_t)(c - hd)));
		TRY(zbuf_putc(b, ','));
		TRY(json_cstr(b, val));
		TRY(zbuf_putc(b, ']'));
	}
	return zbuf_putc(b, ']');
}

static zerr_t
request_json(zbuf_t *b, const char *url)
{
	TRY(zbuf_puts(b, "\"request\":{\"body\":\"\",\"body_is_truncated\":"
	    "false,\"headers\":{\"User-Agent\":\"zond-agent\"},"
	    "\"headers_list\":[[\"User-Agent\",\"zond-agent\"]],"
	    "\"method\":\"GET\",\"tor\":{\"exit_ip\":null,\"exit_name\":null,"
	    "\"is_tor\":false},\"url\":"));
	TRY(json_cstr(b, url));
	return zbuf_puts(b, ",\"x_transport\":\"tcp\"}");
}

/* `requests`: the final request first, then each redirect back to the
 * first request (ts-017 "Data collected by these steps": time-reverse
 * order).  The agent keeps each redirect's Location, not its status. */
static zerr_t
requests_json(zbuf_t *b, const wire_meas_t *m, const Zond__V1__HttpOutcome *h,
    const char *f)
{
	size_t nr = h != NULL ? h->n_redirects : 0;
	const char *first = h != NULL && h->url != NULL ? h->url : tgt(m);

	TRY(zbuf_putc(b, '['));
	for (size_t k = nr + 1; k-- > 0;) {
		const char *url = k == 0 ? first : h->redirects[k - 1];
		bool final = k == nr;
		TRY(zbuf_puts(b, final ? "{\"address\":" : ",{\"address\":"));
		TRY(json_cstr(b, final && h != NULL && h->addr != NULL ?
		    h->addr : ""));
		TRY(zbuf_puts(b, ",\"failure\":"));
		TRY(json_cstr(b, final ? f : NULL));
		TRY(zbuf_puts(b, ",\"network\":\"tcp\","));
		TRY(request_json(b, url));
		TRY(zbuf_puts(b, ",\"response\":{\"body\":"));
		if (final && h != NULL && h->has_body_head)
			TRY(maybe_binary(b, h->body_head.data, h->body_head.len));
		else
			TRY(zbuf_puts(b, "\"\""));
		TRY(zbuf_printf(b, ",\"body_is_truncated\":%s,\"code\":%u,",
		    final && h != NULL && h->has_body_length &&
		    h->body_length > h->body_head.len ? "true" : "false",
		    final && h != NULL && h->has_status ? h->status : 0));
		if (final) {
			TRY(headers_json(b, h != NULL ? h->headers : NULL,
			    h != NULL ? h->n_headers : 0, true));
		} else {
			/* a redirect: the Location it gave */
			const char *loc = h->redirects[k];
			TRY(zbuf_puts(b, "\"headers\":{\"Location\":"));
			TRY(json_cstr(b, loc));
			TRY(zbuf_puts(b, "},\"headers_list\":[[\"Location\","));
			TRY(json_cstr(b, loc));
			TRY(zbuf_puts(b, "]]"));
		}
		if (final && h != NULL && h->has_body_length)
			TRY(zbuf_printf(b, ",\"zond_body_length\":%" PRIu64,
			    h->body_length));
		TRY(zbuf_puts(b, "},\"t\":0}"));
	}
	return zbuf_putc(b, ']');
}

/* Whether a failure happened before a TCP connection existed. */
static bool
connect_failure(Zond__V1__Failure f, method_t meth)
{
	return f == ZOND__V1__FAILURE__FAIL_REFUSED ||
	    f == ZOND__V1__FAILURE__FAIL_UNREACHABLE ||
	    f == ZOND__V1__FAILURE__FAIL_LOCAL ||
	    (f == ZOND__V1__FAILURE__FAIL_TIMEOUT && meth == METHOD_TCP);
}

/* The host of the last absolute URL of m's redirect chain (the one its
 * final request went to) into host; whether that URL is https. */
static bool
final_https_host(const wire_meas_t *m, const Zond__V1__HttpOutcome *h,
    char *host, size_t n)
{
	const char *u = h != NULL && h->url != NULL ? h->url : tgt(m), *p, *e;
	size_t len;

	for (size_t i = 0; h != NULL && i < h->n_redirects; i++)
		if (strstr(h->redirects[i], "://") != NULL)
			u = h->redirects[i];	/* a relative one keeps the host */
	host[0] = '\0';
	if (strncasecmp(u, "https://", 8) != 0)
		return false;
	p = u + 8;
	if (*p == '[') {	/* [v6]:port */
		p++;
		e = strchr(p, ']');
	} else
		e = p + strcspn(p, ":/?#");
	len = e != NULL ? (size_t)(e - p) : strlen(p);
	if (len >= n)
		len = n - 1;
	memcpy(host, p, len);
	host[len] = '\0';
	return true;
}

/* The TLS handshake's failure of an https request that connected: none
 * once a response came, else the request's. */
static Zond__V1__Failure
tls_failure(const Zond__V1__Outcome *o, const Zond__V1__HttpOutcome *h)
{
	if (h != NULL && h->has_status)
		return ZOND__V1__FAILURE__FAIL_NONE;
	return o->failure;
}

/* OONI's control object (ts-017 "Example control request and response")
 * from our control agent's measurement of the same URL; the documented
 * empty shape (status_code and body_length -1) without one. */
static zerr_t
control_json(zbuf_t *b, const wire_meas_t *c)
{
	const Zond__V1__HttpOutcome *h = http_of(c);
	const Zond__V1__Resolution *r = c != NULL ? c->resolution : NULL;
	Zond__V1__Failure cf = c != NULL ? c->outcome->failure :
	    ZOND__V1__FAILURE__FAIL_NONE;
	char host[256];

	TRY(zbuf_puts(b, "{\"dns\":{\"addrs\":["));
	for (size_t i = 0; r != NULL && i < r->n_system; i++) {
		TRY(zbuf_puts(b, i ? "," : ""));
		TRY(json_cstr(b, r->system[i]));
	}
	TRY(zbuf_puts(b, "],\"failure\":"));
	TRY(r != NULL && r->has_system_failure ? fail_json(b,
	    r->system_failure, NULL) : zbuf_puts(b, "null"));
	TRY(zbuf_puts(b, "},\"http3_request\":null,\"http_request\":{"
	    "\"body_length\":"));
	TRY(zbuf_printf(b, "%" PRId64, h != NULL && h->has_body_length ?
	    (int64_t)h->body_length : -1));
	TRY(zbuf_puts(b, ",\"discovered_h3_endpoint\":\"\",\"failure\":"));
	TRY(c != NULL ? fail_json(b, cf, c->outcome->detail) :
	    zbuf_puts(b, "null"));
	TRY(zbuf_putc(b, ','));
	TRY(headers_json(b, h != NULL ? h->headers : NULL, h != NULL ?
	    h->n_headers : 0, false));
	TRY(zbuf_printf(b, ",\"status_code\":%d,\"title\":",
	    h != NULL && h->has_status ? (int)h->status : -1));
	TRY(json_cstr(b, h != NULL && h->title != NULL ? h->title : ""));
	TRY(zbuf_puts(b, "},\"ip_info\":{},\"quic_handshake\":{},"
	    "\"tcp_connect\":{"));
	if (h != NULL && h->addr != NULL) {
		TRY(json_cstr(b, h->addr));
		TRY(zbuf_printf(b, ":{\"failure\":"));
		TRY(connect_failure(cf, METHOD_NONE) ? fail_json(b, cf, NULL) :
		    zbuf_puts(b, "null"));
		TRY(zbuf_printf(b, ",\"status\":%s}", connect_failure(cf,
		    METHOD_NONE) ? "false" : "true"));
	}
	TRY(zbuf_puts(b, "},\"tls_handshake\":{"));
	if (h != NULL && h->addr != NULL && !connect_failure(cf, METHOD_NONE)
	    && final_https_host(c, h, host, sizeof(host))) {
		Zond__V1__Failure tf = tls_failure(c->outcome, h);
		TRY(json_cstr(b, h->addr));
		TRY(zbuf_puts(b, ":{\"failure\":"));
		TRY(fail_json(b, tf, c->outcome->detail));
		TRY(zbuf_puts(b, ",\"server_name\":"));
		TRY(json_cstr(b, host));
		TRY(zbuf_printf(b, ",\"status\":%s}",
		    tf == ZOND__V1__FAILURE__FAIL_NONE ? "true" : "false"));
	}
	return zbuf_puts(b, "}}");
}

static bool
shares_addr(const Zond__V1__Resolution *a, const Zond__V1__Resolution *b)
{
	/* the agent keeps a handful of addresses per name (8 at most) */
	for (size_t i = 0; i < a->n_system && i < 16; i++)
		for (size_t j = 0; j < b->n_system && j < 16; j++)
			if (strcmp(a->system[i], b->system[j]) == 0)
				return true;
	return false;
}

static zerr_t
keys_http(zbuf_t *b, const wire_meas_t *m, verdict_t v, method_t meth,
    const ooni_ctl_t *ctl)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__HttpOutcome *h = http_of(m);
	const wire_meas_t *c = ctl_find(ctl, m);
	const Zond__V1__HttpOutcome *ch = http_of(c);
	const Zond__V1__Resolution *r = m->resolution;
	const Zond__V1__Resolution *cr = c != NULL ? c->resolution : NULL;
	const char *f = ooni_failure(o->failure, o->detail);
	const char *blocking = "null", *consistency = "null";
	const char *dns_fail = NULL;
	int accessible = -1, scm = -1, blm = -1, tm, hm;
	double prop = -1;
	bool bp = o->failure == ZOND__V1__FAILURE__FAIL_BLOCKPAGE ||
	    o->failure == ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT;
	bool resolved = r != NULL && r->n_system > 0;
	char host[256];

	/* ts-017 "body_proportion", "body_length_match",
	 * "status_code_match", "headers_match", "title_match" */
	if (h != NULL && ch != NULL && h->has_status && ch->has_status &&
	    ch->status >= 200 && ch->status < 300)
		scm = h->status == ch->status;
	if (h != NULL && ch != NULL && h->has_body_length &&
	    ch->has_body_length && h->body_length > 0 &&
	    ch->body_length > 0) {
		double x = (double)h->body_length / (double)ch->body_length;
		prop = x < 1 ? x : 1 / x;
		blm = prop > 0.7;
	}
	tm = title_match(h != NULL ? h->title : NULL, ch != NULL ?
	    ch->title : NULL);
	hm = headers_match(h, ch);

	/* blocking and accessible from the aggregator's verdict */
	switch (v) {
	case VERDICT_OK:
		blocking = "false";
		accessible = 1;
		break;
	case VERDICT_DOWN:
	case VERDICT_GEOBLOCKED:
		blocking = "false";	/* ts-017: an expected failure */
		accessible = 0;
		break;
	case VERDICT_BLOCKED:
	case VERDICT_THROTTLED:
	case VERDICT_FILTERED:
		accessible = 0;
		blocking = meth == METHOD_DNS ? "\"dns\"" :
		    meth == METHOD_TCP ? "\"tcp_ip\"" :
		    bp || (h != NULL && h->has_status) ? "\"http-diff\"" :
		    "\"http-failure\"";
		break;
	case VERDICT_REVIEW:	/* censor or site: not known, like anomaly */
	default:
		break;
	}
	/* ts-017 "dns_consistency" */
	if ((v == VERDICT_BLOCKED || v == VERDICT_FILTERED) &&
	    meth == METHOD_DNS)
		consistency = "\"inconsistent\"";
	else if (v != VERDICT_PENDING && r != NULL && r->name != NULL) {
		if (resolved && cr != NULL && shares_addr(r, cr))
			consistency = "\"consistent\"";
		else if (!resolved && cr != NULL && cr->n_system == 0 &&
		    cr->has_system_failure && r->has_system_failure &&
		    cr->system_failure == r->system_failure)
			consistency = "\"consistent\"";
		else if (v == VERDICT_OK)
			consistency = "\"consistent\"";
	}
	if (r != NULL && r->has_system_failure &&
	    r->system_failure != ZOND__V1__FAILURE__FAIL_NONE)
		dns_fail = ooni_failure(r->system_failure, NULL);
	else if (r == NULL && (o->failure == ZOND__V1__FAILURE__FAIL_NXDOMAIN ||
	    o->failure == ZOND__V1__FAILURE__FAIL_SERVFAIL ||
	    o->failure == ZOND__V1__FAILURE__FAIL_DNS_REFUSED))
		dns_fail = ooni_failure(o->failure, NULL);

	TRY(zbuf_puts(b, "{\"accessible\":"));
	TRY(put_bool3(b, accessible));
	TRY(zbuf_puts(b, ",\"agent\":\"redirect\",\"blocking\":"));
	TRY(zbuf_puts(b, blocking));
	TRY(zbuf_puts(b, ",\"body_length_match\":"));
	TRY(put_bool3(b, blm));
	TRY(zbuf_puts(b, ",\"body_proportion\":"));
	TRY(prop < 0 ? zbuf_puts(b, "null") : zbuf_printf(b, "%.6f", prop));
	TRY(zbuf_puts(b, ",\"client_resolver\":"));
	{
		char ip[64];
		unsigned port;
		split_addr(m->net != NULL ? m->net->resolver : NULL, ip,
		    sizeof(ip), &port);
		TRY(json_cstr(b, ip[0] != '\0' ? ip : NULL));
	}
	TRY(zbuf_puts(b, ",\"control\":"));
	TRY(control_json(b, c));
	TRY(zbuf_puts(b, ",\"control_failure\":"));
	TRY(json_cstr(b, c == NULL ? "unknown_failure: zond_no_control" :
	    NULL));
	TRY(zbuf_puts(b, ",\"dns_consistency\":"));
	TRY(zbuf_puts(b, consistency));
	TRY(zbuf_puts(b, ",\"dns_experiment_failure\":"));
	TRY(json_cstr(b, dns_fail));
	TRY(zbuf_puts(b, ",\"headers_match\":"));
	TRY(put_bool3(b, hm));
	TRY(zbuf_puts(b, ",\"http_experiment_failure\":"));
	TRY(json_cstr(b, f));
	TRY(zbuf_puts(b, ",\"queries\":"));
	TRY(resolution_queries(b, m));
	TRY(zbuf_puts(b, ",\"requests\":"));
	TRY(requests_json(b, m, h, f));
	TRY(zbuf_puts(b, ",\"socksproxy\":null,\"status_code_match\":"));
	TRY(put_bool3(b, scm));
	TRY(zbuf_puts(b, ",\"tcp_connect\":["));
	if (h != NULL && h->addr != NULL)
		TRY(tcp_entry(b, h->addr, connect_failure(o->failure, meth) ?
		    o->failure : ZOND__V1__FAILURE__FAIL_NONE, o->detail,
		    false, 0));
	TRY(zbuf_puts(b, "],\"title_match\":"));
	TRY(put_bool3(b, tm));
	TRY(zbuf_puts(b, ",\"tls_handshakes\":["));
	if (h != NULL && h->addr != NULL && !connect_failure(o->failure, meth)
	    && final_https_host(m, h, host, sizeof(host)))
		TRY(tls_entry(b, h->addr, host, tls_failure(o, h), o->detail,
		    false, 0, NULL));
	TRY(zbuf_putc(b, ']'));
	if (h != NULL && h->blockpage != NULL) {
		TRY(zbuf_puts(b, ",\"zond_blockpage\":"));
		TRY(json_cstr(b, h->blockpage));
	}
	return zbuf_putc(b, '}');
}

/* ------------------------------------------------------------ record */

static const char *
extensions(const char *name)
{
	if (strcmp(name, "web_connectivity") == 0 ||
	    strcmp(name, "urlgetter") == 0)
		return "{\"dnst\":0,\"httpt\":0,\"netevents\":0,"
		    "\"tcpconnect\":0,\"tlshandshake\":0}";
	if (strcmp(name, "sni_blocking") == 0)
		return "{\"dnst\":0,\"netevents\":0,\"tcpconnect\":0,"
		    "\"tlshandshake\":0}";
	if (strcmp(name, "stunreachability") == 0)
		return "{\"dnst\":0,\"netevents\":0}";
	if (strcmp(name, "tcp_connect") == 0)
		return "{\"dnst\":0,\"tcpconnect\":0}";
	if (strcmp(name, "openvpn") == 0)
		return "{\"netevents\":0,\"tcpconnect\":0,\"tunnel\":0}";
	return "{}";
}

/*
 * One record (df-000-base).  report_id is stable for (agent, UTC day,
 * test): OONI's shape "YYYYMMDDThhmmssZ_<test>_<CC>_<ASN>_n1_<random>",
 * the random part here being hex of a hash of agent and day, so
 * re-exports give the same ids.
 */
zerr_t
ooni_record(zbuf_t *b, const struct store_meas *sm, const wire_meas_t *m,
    verdict_t v, method_t meth, const ooni_ctl_t *ctl, const char *where,
    enum store_network net)
{
	char ts[40], day[40], cc[8], tn[32], rid[2 * 8 + 1], rn[32];
	char input[1024];
	uint8_t h[8];
	const char *name = test_name(m), *mn, *p;
	/* the placed start: when it really ran (PROTOCOL.md "Clock") */
	int64_t day_us = sm->time_us - (sm->time_us % (86400LL * 1000000));
	size_t i;
	crypto_generichash_state hs;

	/* "YYYY-MM-DD HH:MM:SS" */
	ztime_fmt_iso(sm->time_us, ts, sizeof(ts), 0);
	ts[10] = ' ';
	ts[19] = '\0';
	ztime_fmt_iso(day_us, day, sizeof(day), 0);
	for (i = 0; i < 2 && sm->region[i] >= 'A' && sm->region[i] <= 'Z'; i++)
		cc[i] = sm->region[i];
	if (i < 2)
		memcpy(cc, "ZZ", 2);	/* OONI's unknown country */
	cc[2] = '\0';
	crypto_generichash_init(&hs, NULL, 0, sizeof(h));
	crypto_generichash_update(&hs, sm->agent, STORE_PK_LEN);
	crypto_generichash_update(&hs, (const uint8_t *)day, 10);
	crypto_generichash_final(&hs, h, sizeof(h));
	sodium_bin2hex(rid, sizeof(rid), h, sizeof(h));
	/* OONI writes the test name without underscores in report ids */
	for (i = 0, p = name; *p != '\0' && i + 1 < sizeof(rn); p++)
		if (*p != '_')
			rn[i++] = *p;
	rn[i] = '\0';
	ooni_input(m, input, sizeof(input));
	TRY(zbuf_puts(b, "{\"annotations\":{\"engine_name\":\"zond\","
	    "\"engine_version\":"));
	TRY(json_cstr(b, m->agent_version != NULL ? m->agent_version :
	    "unknown"));
	TRY(zbuf_puts(b, ",\"platform\":\"linux\",\"zond_region\":"));
	TRY(json_cstr(b, sm->region[0] != '\0' ? sm->region : ""));
	TRY(zbuf_printf(b, ",\"zond_network\":\"%s\",\"zond_role\":\"%s\","
	    "\"zond_service\":", store_network_name(net),
	    sm->role == STORE_ROLE_CONTROL ? "control" : "probe"));
	TRY(json_cstr(b, m->service != NULL ? m->service : ""));
	TRY(zbuf_printf(b, "},\"data_format_version\":\"0.2.0\","
	    "\"extensions\":%s,\"input\":", extensions(name)));
	TRY(json_cstr(b, input));
	TRY(zbuf_printf(b, ",\"measurement_start_time\":\"%s\","
	    "\"probe_asn\":\"AS%u\",\"probe_cc\":\"%s\","
	    "\"probe_ip\":\"127.0.0.1\",\"report_id\":\"%.4s%.2s%.2sT000000Z_"
	    "%s_%s_%u_n1_%s\"", ts, sm->asn, cc, day, day + 5, day + 8, rn,
	    cc, sm->asn, rid));
	if (m->net != NULL && m->net->resolver != NULL) {
		char ip[64];
		unsigned port;
		split_addr(m->net->resolver, ip, sizeof(ip), &port);
		TRY(zbuf_puts(b, ",\"resolver_ip\":"));
		TRY(json_cstr(b, ip));
	}
	TRY(zbuf_puts(b, ",\"software_name\":\"zond-agent\","
	    "\"software_version\":"));
	TRY(json_cstr(b, m->agent_version != NULL ? m->agent_version :
	    "unknown"));
	TRY(zbuf_puts(b, ",\"test_helpers\":{},\"test_keys\":"));
	switch (m->test) {
	case ZOND__V1__TEST_KIND__TEST_HTTP:
		TRY(keys_http(b, m, v, meth, ctl));
		break;
	case ZOND__V1__TEST_KIND__TEST_DNS:
	case ZOND__V1__TEST_KIND__TEST_DOH:
		TRY(keys_dns(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_TCP:
		TRY(keys_tcp(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_TLS:
		TRY(keys_tls(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_STUN:
		TRY(keys_stun(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_QUIC:
		TRY(quic_is_ping(m) ? keys_quicping(b, m) : keys_other(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_VPN:
		TRY(vpn_is_openvpn(m) ? keys_openvpn(b, m) : keys_other(b, m));
		break;
	default:
		TRY(keys_other(b, m));
		break;
	}
	TRY(zbuf_printf(b, ",\"test_name\":\"%s\",\"test_runtime\":%.6f,"
	    "\"test_start_time\":\"%s\",\"test_version\":\"0.2.0\"", name,
	    m->has_duration_us ? m->duration_us / 1e6 : 0.0, ts));
	/* ours, so the record stays verifiable (docs/DATA.md) */
	TRY(zbuf_puts(b, ",\"zond\":{\"id\":"));
	TRY(json_hex(b, sm->id, STORE_ID_LEN));
	TRY(zbuf_puts(b, ",\"agent\":"));
	TRY(json_hex(b, sm->agent, STORE_PK_LEN));
	TRY(zbuf_printf(b, ",\"seq\":%" PRIu64 ",\"test\":\"%s\",\"service\":",
	    sm->seq, json_enum_name(&zond__v1__test_kind__descriptor,
	    (int)m->test, tn, sizeof(tn))));
	TRY(json_cstr(b, m->service));
	TRY(zbuf_puts(b, ",\"target\":"));
	TRY(json_cstr(b, m->target));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(json_cstr(b, wire_failure_name(m->outcome->failure)));
	TRY(zbuf_puts(b, ",\"detail\":"));
	TRY(json_cstr(b, m->outcome->detail));
	TRY(zbuf_printf(b, ",\"verdict\":\"%s\",\"method\":",
	    verdict_name(v)));
	mn = meth == METHOD_NONE ? NULL : method_name(meth);
	TRY(json_cstr(b, mn));
	if (m->locate != NULL) {
		TRY(zbuf_puts(b, ",\"locate\":"));
		TRY(json_message(b, &m->locate->base));
	}
	if (where != NULL) {
		TRY(zbuf_puts(b, ",\"where\":"));
		TRY(json_cstr(b, where));
	}
	TRY(json_signed_sig(b, sm->body, sm->body_len, sm->sig));
	return zbuf_puts(b, "}}");
}
