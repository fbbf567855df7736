/*
 * export.c — see export.h.  Three record writers over one streaming loop:
 * JSONL (json_measurement, INTERFACES.md), CSV (RFC 4180) and OONI's
 * measurement data format (ooni_record; mapping in docs/DATA.md "OONI
 * format").  Every writer appends one line to a capped zbuf; every record
 * carries what is needed to check its signature except CSV's.
 */
#include "export.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sign.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

/* six hours: each slice also reads the control window (1 h) on both
 * sides, so longer slices read less twice; memory stays bounded by one
 * slice and its windows */
#define SLICE_US (6 * 3600LL * 1000000)

static const char csv_header[] = "id,agent,seq,start,region,asn,role,"
    "service,test,target,failure,verdict,method,attempts,duration_ms\n";

const char *
export_csv_header(void)
{
	return csv_header;
}

zerr_t
export_fmt_from_name(const char *name, enum export_fmt *f)
{
	if (strcmp(name, "jsonl") == 0)
		*f = EXPORT_JSONL;
	else if (strcmp(name, "csv") == 0)
		*f = EXPORT_CSV;
	else if (strcmp(name, "ooni") == 0)
		*f = EXPORT_OONI;
	else
		return ZE_NOTFOUND;
	return ZE_OK;
}

struct exp {
	enum export_fmt fmt;
	const struct export_filter *flt;
	int64_t slice_lo, slice_hi;	/* this slice */
	const analysis_t *a;
	export_write_fn w;
	void *arg;
	zbuf_t line;
	uint64_t count;
	int err;
};

static const char *
role_name(enum store_role r)
{
	return store_role_name(r);
}

/* CSV field with RFC 4180 quoting. */
static zerr_t
csv_field(zbuf_t *b, const char *s)
{
	zerr_t e;

	if (s == NULL)
		return ZE_OK;
	if (strpbrk(s, ",\"\r\n") == NULL)
		return zbuf_puts(b, s);
	if ((e = zbuf_putc(b, '"')) != ZE_OK)
		return e;
	for (; *s; s++) {
		if (*s == '"' && (e = zbuf_putc(b, '"')) != ZE_OK)
			return e;
		if ((e = zbuf_putc(b, *s)) != ZE_OK)
			return e;
	}
	return zbuf_putc(b, '"');
}

/* ---------------------------------------------------------------- OONI */

/*
 * OONI's failure string for one of ours (docs/DATA.md "OONI format").
 * NULL is JSON null: no network failure (blockpages are no transport
 * failure in OONI's terms; `blocking` says it).
 */
static const char *
ooni_failure(Zond__V1__Failure f)
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
		return "ssl_invalid_hostname";
	case ZOND__V1__FAILURE__FAIL_TLS_ERROR:
		return "ssl_failed_handshake";
	case ZOND__V1__FAILURE__FAIL_BAD_RESPONSE:
		return "unknown_failure: bad_response";
	case ZOND__V1__FAILURE__FAIL_HTTP_ERROR:
		return "unknown_failure: http_error";
	case ZOND__V1__FAILURE__FAIL_LOCAL:
		return "unknown_failure: local";
	default:
		return "unknown_failure";
	}
}

static const char *
ooni_test_name(Zond__V1__TestKind t)
{
	switch (t) {
	case ZOND__V1__TEST_KIND__TEST_HTTP:
		return "web_connectivity";
	case ZOND__V1__TEST_KIND__TEST_DNS:
	case ZOND__V1__TEST_KIND__TEST_DOH:
		return "dnscheck";
	case ZOND__V1__TEST_KIND__TEST_TCP:
		return "tcp_connect";
	case ZOND__V1__TEST_KIND__TEST_TLS:
		return "tls_handshake";
	case ZOND__V1__TEST_KIND__TEST_STUN:
		return "stunreachability";
	case ZOND__V1__TEST_KIND__TEST_QUIC:
		return "zond_quic";
	case ZOND__V1__TEST_KIND__TEST_THROUGHPUT:
		return "zond_throughput";
	case ZOND__V1__TEST_KIND__TEST_FREEZE:
		return "zond_freeze";
	case ZOND__V1__TEST_KIND__TEST_VPN:
		return "zond_vpn";
	default:
		return "zond_unknown";
	}
}

#define TRY(x) do { zerr_t e_ = (x); if (e_ != ZE_OK) return e_; } while (0)

static zerr_t
ooni_failure_json(zbuf_t *b, Zond__V1__Failure f)
{
	return json_cstr(b, ooni_failure(f));
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

static zerr_t
ooni_keys_http(zbuf_t *b, const wire_meas_t *m, verdict_t v, method_t meth)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__HttpOutcome *h = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_HTTP ? o->http : NULL;
	const char *blocking = NULL;
	int accessible = -1, match = -1;
	bool bp = o->failure == ZOND__V1__FAILURE__FAIL_BLOCKPAGE ||
	    o->failure == ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT;

	if (v == VERDICT_OK) {
		accessible = 1;
		blocking = "false";
		match = h != NULL && h->has_status ? 1 : -1;
	} else if (v == VERDICT_BLOCKED || v == VERDICT_THROTTLED) {
		accessible = 0;
		blocking = meth == METHOD_DNS ? "\"dns\"" : meth == METHOD_TCP ?
		    "\"tcp_ip\"" : bp ? "\"http-diff\"" : "\"http-failure\"";
	}
	if (bp)
		match = 0;
	TRY(zbuf_puts(b, "{\"agent\":\"redirect\",\"client_resolver\":null,"
	    "\"requests\":[{\"request\":{\"method\":\"GET\",\"url\":"));
	TRY(json_cstr(b, h != NULL && h->url != NULL ? h->url : m->target));
	TRY(zbuf_puts(b, "},\"response\":{"));
	if (h != NULL) {
		bool first = true;
		if (h->has_status) {
			TRY(zbuf_printf(b, "\"code\":%u", h->status));
			first = false;
		}
		if (h->has_body_length) {
			TRY(zbuf_printf(b, "%s\"body_length\":%" PRIu64,
			    first ? "" : ",", h->body_length));
			first = false;
		}
		if (h->has_body_head) {
			TRY(zbuf_puts(b, first ? "\"body\":" : ",\"body\":"));
			TRY(json_str(b, (const char *)h->body_head.data,
			    h->body_head.len));
			first = false;
		}
		TRY(zbuf_puts(b, first ? "\"headers\":{" : ",\"headers\":{"));
		first = true;
		for (size_t i = 0; i < h->n_headers; i++) {
			const char *hd = h->headers[i], *c = strchr(hd, ':');
			const char *val;
			if (c == NULL)
				continue;
			val = c + 1;
			while (*val == ' ')
				val++;
			if (!first)
				TRY(zbuf_putc(b, ','));
			first = false;
			TRY(json_str(b, hd, (size_t)(c - hd)));
			TRY(zbuf_putc(b, ':'));
			TRY(json_cstr(b, val));
		}
		/* OONI's headers_list keeps repeated names (Set-Cookie) */
		TRY(zbuf_puts(b, "},\"headers_list\":["));
		first = true;
		for (size_t i = 0; i < h->n_headers; i++) {
			const char *hd = h->headers[i], *c = strchr(hd, ':');
			const char *val;
			if (c == NULL)
				continue;
			val = c + 1;
			while (*val == ' ')
				val++;
			TRY(zbuf_puts(b, first ? "[" : ",["));
			first = false;
			TRY(json_str(b, hd, (size_t)(c - hd)));
			TRY(zbuf_putc(b, ','));
			TRY(json_cstr(b, val));
			TRY(zbuf_putc(b, ']'));
		}
		TRY(zbuf_putc(b, ']'));
	}
	TRY(zbuf_puts(b, "},\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_puts(b, "}],\"http_experiment_failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_puts(b, ",\"blocking\":"));
	TRY(zbuf_puts(b, blocking != NULL ? blocking : "null"));
	TRY(zbuf_puts(b, ",\"accessible\":"));
	TRY(put_bool3(b, accessible));
	TRY(zbuf_puts(b, ",\"status_code_match\":"));
	TRY(put_bool3(b, match));
	TRY(zbuf_puts(b, ",\"body_length_match\":"));
	TRY(put_bool3(b, match));
	TRY(zbuf_puts(b, ",\"title_match\":"));
	TRY(put_bool3(b, match));
	TRY(zbuf_puts(b, ",\"headers_match\":null"));
	if (h != NULL && h->blockpage != NULL) {
		TRY(zbuf_puts(b, ",\"zond_blockpage\":"));
		TRY(json_cstr(b, h->blockpage));
	}
	return zbuf_putc(b, '}');
}

static zerr_t
ooni_keys_dns(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__DnsOutcome *dn = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_DNS ? o->dns : NULL;
	const char *engine = m->test == ZOND__V1__TEST_KIND__TEST_DOH ?
	    "doh" : "udp";
	const char *q = dn != NULL && dn->query != NULL ? dn->query :
	    m->target;
	const char *qt = dn != NULL && dn->qtype != NULL ? dn->qtype : "A";
	size_t nr = dn != NULL ? dn->n_responses : 0;

	TRY(zbuf_puts(b, "{\"domain\":"));
	TRY(json_cstr(b, q));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_puts(b, ",\"queries\":["));
	/* one query entry per response; one without answers when none came */
	for (size_t i = 0; i < (nr > 0 ? nr : 1); i++) {
		const Zond__V1__DnsResponse *r = nr > 0 ? dn->responses[i] :
		    NULL;
		if (i > 0)
			TRY(zbuf_putc(b, ','));
		TRY(zbuf_printf(b, "{\"engine\":\"%s\",\"hostname\":", engine));
		TRY(json_cstr(b, q));
		TRY(zbuf_puts(b, ",\"query_type\":"));
		TRY(json_cstr(b, qt));
		TRY(zbuf_puts(b, ",\"resolver_address\":"));
		TRY(json_cstr(b, r != NULL && r->from != NULL ? r->from :
		    m->net != NULL ? m->net->resolver : NULL));
		TRY(zbuf_puts(b, ",\"failure\":"));
		TRY(ooni_failure_json(b, i == 0 ? o->failure :
		    ZOND__V1__FAILURE__FAIL_NONE));
		if (r != NULL && r->has_rcode)
			TRY(zbuf_printf(b, ",\"rcode\":%u", r->rcode));
		if (r != NULL && r->has_arrival_us)
			TRY(zbuf_printf(b, ",\"t\":%.6f", r->arrival_us / 1e6));
		TRY(zbuf_puts(b, ",\"answers\":["));
		for (size_t j = 0; r != NULL && j < r->n_answers; j++) {
			const Zond__V1__DnsAnswer *a = r->answers[j];
			const char *ty = a->type != NULL ? a->type : "";
			if (j > 0)
				TRY(zbuf_putc(b, ','));
			TRY(zbuf_puts(b, "{\"answer_type\":"));
			TRY(json_cstr(b, ty));
			TRY(zbuf_puts(b, strcmp(ty, "A") == 0 ? ",\"ipv4\":" :
			    strcmp(ty, "AAAA") == 0 ? ",\"ipv6\":" :
			    strcmp(ty, "CNAME") == 0 ? ",\"hostname\":" :
			    ",\"data\":"));
			TRY(json_cstr(b, a->data));
			TRY(zbuf_printf(b, ",\"ttl\":%u}", a->ttl));
		}
		TRY(zbuf_puts(b, "]}"));
	}
	return zbuf_puts(b, "]}");
}

static zerr_t
ooni_keys_tcp(zbuf_t *b, const wire_meas_t *m, verdict_t v)
{
	const Zond__V1__Outcome *o = m->outcome;
	const char *addr = o->test_case == ZOND__V1__OUTCOME__TEST_TCP &&
	    o->tcp->addr != NULL ? o->tcp->addr : m->target;
	char ip[64];
	unsigned port;

	split_addr(addr, ip, sizeof(ip), &port);
	TRY(zbuf_puts(b, "{\"connection\":"));
	TRY(json_cstr(b, o->failure == ZOND__V1__FAILURE__FAIL_NONE ?
	    "success" : ooni_failure(o->failure)));
	TRY(zbuf_puts(b, ",\"tcp_connect\":[{\"ip\":"));
	TRY(json_cstr(b, ip));
	TRY(zbuf_printf(b, ",\"port\":%u,\"status\":{\"success\":%s,"
	    "\"blocked\":", port, o->failure == ZOND__V1__FAILURE__FAIL_NONE ?
	    "true" : "false"));
	TRY(put_bool3(b, v == VERDICT_BLOCKED ? 1 : v == VERDICT_OK ? 0 : -1));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_putc(b, '}'));
	if (o->test_case == ZOND__V1__OUTCOME__TEST_TCP &&
	    o->tcp->has_connect_us)
		TRY(zbuf_printf(b, ",\"t\":%.6f", o->tcp->connect_us / 1e6));
	return zbuf_puts(b, "}]}");
}

static zerr_t
ooni_keys_tls(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__TlsOutcome *t = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_TLS ? o->tls : NULL;

	TRY(zbuf_puts(b, "{\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_puts(b, ",\"tls_handshakes\":[{\"address\":"));
	TRY(json_cstr(b, t != NULL ? t->addr : m->target));
	TRY(zbuf_puts(b, ",\"server_name\":"));
	TRY(json_cstr(b, t != NULL && t->sni != NULL ? t->sni : m->target));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	TRY(zbuf_puts(b, ",\"no_tls_verify\":false"));
	if (t != NULL && t->tls_version != NULL) {
		TRY(zbuf_puts(b, ",\"tls_version\":"));
		TRY(json_cstr(b, t->tls_version));
	}
	if (t != NULL && t->has_handshake_us)
		TRY(zbuf_printf(b, ",\"t\":%.6f", t->handshake_us / 1e6));
	if (t != NULL && t->error_stage != NULL) {
		TRY(zbuf_puts(b, ",\"zond_error_stage\":"));
		TRY(json_cstr(b, t->error_stage));
	}
	TRY(zbuf_putc(b, '}'));
	if (t != NULL && t->control_sni != NULL) {
		/* the harmless SNI to the same address: a second handshake */
		TRY(zbuf_puts(b, ",{\"address\":"));
		TRY(json_cstr(b, t->addr));
		TRY(zbuf_puts(b, ",\"server_name\":"));
		TRY(json_cstr(b, t->control_sni));
		TRY(zbuf_puts(b, ",\"failure\":"));
		TRY(ooni_failure_json(b, t->has_control_failure ?
		    t->control_failure : ZOND__V1__FAILURE__FAIL_NONE));
		TRY(zbuf_puts(b, ",\"no_tls_verify\":false,"
		    "\"zond_control\":true"));
		if (t->has_control_handshake_us)
			TRY(zbuf_printf(b, ",\"t\":%.6f",
			    t->control_handshake_us / 1e6));
		TRY(zbuf_putc(b, '}'));
	}
	return zbuf_puts(b, "]}");
}

static zerr_t
ooni_keys_stun(zbuf_t *b, const wire_meas_t *m)
{
	const Zond__V1__Outcome *o = m->outcome;
	const Zond__V1__StunOutcome *st = o->test_case ==
	    ZOND__V1__OUTCOME__TEST_STUN ? o->stun : NULL;

	TRY(zbuf_puts(b, "{\"endpoint\":"));
	TRY(json_cstr(b, st != NULL && st->addr != NULL ? st->addr :
	    m->target));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(ooni_failure_json(b, o->failure));
	if (st != NULL && st->variant != NULL) {
		TRY(zbuf_puts(b, ",\"zond_variant\":"));
		TRY(json_cstr(b, st->variant));
	}
	if (st != NULL && st->has_baseline_ok)
		TRY(zbuf_printf(b, ",\"zond_baseline_ok\":%s",
		    st->baseline_ok ? "true" : "false"));
	return zbuf_putc(b, '}');
}

/* Tests OONI has no experiment for: the failure and our outcome. */
static zerr_t
ooni_keys_other(zbuf_t *b, const wire_meas_t *m)
{
	TRY(zbuf_puts(b, "{\"failure\":"));
	TRY(ooni_failure_json(b, m->outcome->failure));
	TRY(zbuf_puts(b, ",\"zond_outcome\":"));
	TRY(json_message(b, &m->outcome->base));
	return zbuf_putc(b, '}');
}

/*
 * One record in OONI's measurement data format (df-000-base).  report_id
 * is stable for (agent, UTC day, test): OONI's shape
 * "YYYYMMDDThhmmssZ_<test>_<CC>_<ASN>_n1_<random>", the random part here
 * being hex of a hash of agent and day, so re-exports give the same ids.
 */
static zerr_t
ooni_record(zbuf_t *b, const struct store_meas *sm, const wire_meas_t *m,
    verdict_t v, method_t meth)
{
	char ts[40], day[40], cc[8], tn[32], rid[2 * 8 + 1], rn[32];
	uint8_t h[8];
	const char *name = ooni_test_name(m->test), *mn;
	int64_t day_us = sm->start_us - (sm->start_us % (86400LL * 1000000));
	size_t i;
	crypto_generichash_state hs;

	/* "YYYY-MM-DD HH:MM:SS" */
	ztime_fmt_iso(sm->start_us, ts, sizeof(ts), 0);
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
	for (i = 0; *name != '\0' && i + 1 < sizeof(rn); name++)
		if (*name != '_')
			rn[i++] = *name;
	rn[i] = '\0';
	name = ooni_test_name(m->test);
	TRY(zbuf_puts(b, "{\"annotations\":{\"engine_name\":\"zond\","
	    "\"zond_region\":"));
	TRY(json_cstr(b, sm->region[0] != '\0' ? sm->region : NULL));
	TRY(zbuf_puts(b, ",\"zond_service\":"));
	TRY(json_cstr(b, m->service));
	TRY(zbuf_printf(b, ",\"zond_role\":\"%s\"},\"data_format_version\":"
	    "\"0.2.0\",\"input\":", role_name(sm->role)));
	TRY(json_cstr(b, m->target));
	TRY(zbuf_printf(b, ",\"measurement_start_time\":\"%s\","
	    "\"test_start_time\":\"%s\",\"probe_asn\":\"AS%u\","
	    "\"probe_cc\":\"%s\",\"probe_ip\":\"127.0.0.1\","
	    "\"probe_network_name\":null,\"report_id\":\"%.4s%.2s%.2sT000000Z_"
	    "%s_%s_%u_n1_%s\",\"resolver_asn\":null,\"resolver_ip\":null,"
	    "\"software_name\":\"zond-agent\",\"software_version\":", ts, ts,
	    sm->asn, cc, day, day + 5, day + 8, rn, cc, sm->asn, rid));
	TRY(json_cstr(b, m->agent_version != NULL ? m->agent_version :
	    "unknown"));
	TRY(zbuf_printf(b, ",\"test_name\":\"%s\",\"test_runtime\":%.6f,"
	    "\"test_version\":\"0.1.0\",\"test_keys\":", name,
	    m->has_duration_us ? m->duration_us / 1e6 : 0.0));
	switch (m->test) {
	case ZOND__V1__TEST_KIND__TEST_HTTP:
		TRY(ooni_keys_http(b, m, v, meth));
		break;
	case ZOND__V1__TEST_KIND__TEST_DNS:
	case ZOND__V1__TEST_KIND__TEST_DOH:
		TRY(ooni_keys_dns(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_TCP:
		TRY(ooni_keys_tcp(b, m, v));
		break;
	case ZOND__V1__TEST_KIND__TEST_TLS:
		TRY(ooni_keys_tls(b, m));
		break;
	case ZOND__V1__TEST_KIND__TEST_STUN:
		TRY(ooni_keys_stun(b, m));
		break;
	default:
		TRY(ooni_keys_other(b, m));
		break;
	}
	/* ours, so the record stays verifiable (docs/DATA.md) */
	TRY(zbuf_puts(b, ",\"zond\":{\"id\":"));
	TRY(json_hex(b, sm->id, STORE_ID_LEN));
	TRY(zbuf_puts(b, ",\"agent\":"));
	TRY(json_hex(b, sm->agent, STORE_PK_LEN));
	TRY(zbuf_printf(b, ",\"seq\":%" PRIu64 ",\"test\":\"%s\",\"service\":",
	    sm->seq, json_enum_name(&zond__v1__test_kind__descriptor,
	    (int)m->test, tn, sizeof(tn))));
	TRY(json_cstr(b, m->service));
	TRY(zbuf_puts(b, ",\"failure\":"));
	TRY(json_cstr(b, wire_failure_name(m->outcome->failure)));
	TRY(zbuf_printf(b, ",\"verdict\":\"%s\",\"method\":",
	    verdict_name(v)));
	mn = meth == METHOD_NONE ? NULL : method_name(meth);
	TRY(json_cstr(b, mn));
	{
		zbuf_t sb;
		zerr_t e;
		zbuf_init(&sb, WIRE_MAX_MEASUREMENT + 64);
		e = sign_signed_bytes(ZDOM_MEASUREMENT, sm->body, sm->body_len,
		    &sb);
		if (e == ZE_OK)
			e = zbuf_puts(b, ",\"signed\":");
		if (e == ZE_OK)
			e = json_b64(b, sb.data, sb.len);
		zbuf_free(&sb);
		TRY(e);
	}
	TRY(zbuf_puts(b, ",\"sig\":"));
	TRY(json_b64(b, sm->sig, STORE_SIG_LEN));
	return zbuf_puts(b, "}}");
}

#undef TRY

static int
export_one(const struct store_meas *sm, void *arg)
{
	struct exp *x = arg;
	const struct export_filter *f = x->flt;
	wire_meas_t *m = NULL;
	verdict_t v = VERDICT_PENDING;
	method_t meth = METHOD_NONE;
	zerr_t e;

	if (sm->start_us < f->since || sm->start_us >= f->until ||
	    sm->start_us < x->slice_lo || sm->start_us >= x->slice_hi)
		return 0;
	if (f->region && strcmp(f->region, sm->region) != 0)
		return 0;
	if (f->asn > 0 && (int64_t)sm->asn != f->asn)
		return 0;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;
	if (f->service && (m->service == NULL ||
	    strcmp(f->service, m->service) != 0)) {
		wire_meas_free(m);
		return 0;
	}
	(void)analysis_verdict(x->a, sm->id, &v, &meth);
	zbuf_reset(&x->line);
	if (x->fmt == EXPORT_JSONL) {
		struct json_meas_extra ex = {
			.region = sm->region, .asn = sm->asn,
			.role = role_name(sm->role), .verdict = verdict_name(v),
			.method = meth == METHOD_NONE ? NULL : method_name(meth),
			.body = sm->body, .body_len = sm->body_len,
			.sig = sm->sig,
		};
		e = json_measurement(&x->line, m, &ex);
	} else if (x->fmt == EXPORT_OONI) {
		e = ooni_record(&x->line, sm, m, v, meth);
	} else {
		char hex[65], ts[40], tn[32];
		sodium_bin2hex(hex, sizeof(hex), sm->id, STORE_ID_LEN);
		e = zbuf_printf(&x->line, "%s,", hex);
		sodium_bin2hex(hex, sizeof(hex), sm->agent, STORE_PK_LEN);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, "%s,%" PRIu64 ",%s,%s,%u,%s,",
			    hex, sm->seq, ztime_fmt_iso(sm->start_us, ts,
			    sizeof(ts), 3), sm->region, sm->asn,
			    role_name(sm->role));
		if (e == ZE_OK)
			e = csv_field(&x->line, m->service);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, ",%s,", json_enum_name(
			    &zond__v1__test_kind__descriptor, (int)m->test, tn,
			    sizeof(tn)));
		if (e == ZE_OK)
			e = csv_field(&x->line, m->target);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, ",%s,%s,%s,%u,%.3f",
			    wire_failure_name(m->outcome->failure),
			    verdict_name(v), meth == METHOD_NONE ? "" :
			    method_name(meth), m->outcome->attempts,
			    m->duration_us / 1000.0);
	}
	wire_meas_free(m);
	if (e != ZE_OK || zbuf_putc(&x->line, '\n') != ZE_OK ||
	    x->w(x->line.data, x->line.len, x->arg) != 0) {
		x->err = 1;
		return 1;
	}
	x->count++;
	return 0;
}

zerr_t
export_run(store_t *s, enum export_fmt fmt, const struct export_filter *flt,
    const struct analyze_opts *o, export_write_fn w, void *arg,
    uint64_t *count, zdiag_t *d)
{
	struct analyze_opts def;
	struct exp x;
	int64_t t = 0, end = flt->until;
	int64_t limit = ztime_now_us() + 86400LL * 1000000;
	zerr_t e = ZE_OK;

	if (o == NULL) {
		analyze_opts_default(&def);
		o = &def;
	}
	memset(&x, 0, sizeof(x));
	x.fmt = fmt;
	x.flt = flt;
	x.w = w;
	x.arg = arg;
	zbuf_init(&x.line, 4 * WIRE_MAX_MEASUREMENT);
	if (fmt == EXPORT_CSV && w(csv_header, strlen(csv_header), arg) != 0) {
		e = zdiag_set(d, ZE_IO, "write failed");
		goto out;
	}
	if ((e = store_first_start(s, &t, d)) != ZE_OK)
		goto out;
	if (t < flt->since)
		t = flt->since;
	if (end > limit)
		end = limit;
	t -= t % SLICE_US;
	for (; t < end && !x.err; t += SLICE_US) {
		analysis_t *a = NULL;
		uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];

		if ((e = analyze_range(s, t, t + SLICE_US, o, &a, d)) != ZE_OK)
			goto out;
		/* ids are within WIRE_ID_SKEW_MS of the start (ingest checks
		 * it): this id range holds every start of the slice */
		store_ids_of_starts(t, t + SLICE_US, from, to);
		x.a = a;
		x.slice_lo = t;
		x.slice_hi = t + SLICE_US;
		e = store_meas_iter(s, from, to, export_one, &x, d);
		analysis_free(&a);
		if (e != ZE_OK)
			goto out;
	}
	if (x.err)
		e = zdiag_set(d, ZE_IO, "write failed");
out:
	if (count != NULL)
		*count = x.count;
	zbuf_free(&x.line);
	return e;
}
