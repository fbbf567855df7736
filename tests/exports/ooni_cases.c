/*
 * ooni_cases — OONI records of measurements the loopback dataset of
 * exports.sh cannot produce (blocked, down, geoblocked and filtered
 * verdicts, redirect chains, long and binary bodies, certificate
 * messages, DoH, QUIC and VPN variants), through the real ooni_record.
 * Prints "CASE<TAB>record" per line, then "FAIL<TAB>ours<TAB>OONI's" for
 * every failure kind; ooni_cases.py asserts on them and runs the shape
 * checker over the records.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_ooni.h"
#include "json.h"
#include "wire.h"

#define S(x) ((char *)(x))

static void
emit(const char *name, Zond__V1__Measurement *m, Zond__V1__Outcome *o,
    verdict_t v, method_t meth)
{
	static uint8_t body[65536], sig[64];
	struct store_meas sm;
	zbuf_t b;
	size_t n;

	m->outcome = o;
	m->has_start_us = 1;
	m->start_us = 1796000000000000LL;
	m->has_duration_us = 1;
	m->duration_us = 1500000;
	m->agent_version = S("0.1.0");
	m->service = S("web");
	n = zond__v1__measurement__get_packed_size(m);
	if (n > sizeof(body))
		abort();
	zond__v1__measurement__pack(m, body);
	memset(&sm, 0, sizeof(sm));
	randombytes_buf(sm.id, sizeof(sm.id));
	randombytes_buf(sm.agent, sizeof(sm.agent));
	sm.seq = 1;
	sm.start_us = m->start_us;
	sm.asn = 12389;
	sm.role = STORE_ROLE_PROBE;
	snprintf(sm.region, sizeof(sm.region), "RU-MOW");
	sm.sig = sig;
	sm.body = body;
	sm.body_len = n;
	zbuf_init(&b, OONI_RECORD_MAX);
	if (ooni_record(&b, &sm, m, v, meth, NULL, NULL,
	    STORE_NET_MOBILE) != ZE_OK ||
	    zbuf_putc(&b, '\0') != ZE_OK) {
		fprintf(stderr, "%s: ooni_record failed\n", name);
		exit(1);
	}
	printf("%s\t%s\n", name, (const char *)b.data);
	zbuf_free(&b);
}

static void
http_case(const char *name, Zond__V1__Failure f, const char *detail,
    verdict_t v, method_t meth, bool resolved)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__HttpOutcome h = ZOND__V1__HTTP_OUTCOME__INIT;
	Zond__V1__Resolution r = ZOND__V1__RESOLUTION__INIT;
	char *addrs[] = {S("203.0.113.7")};
	char *hdrs[] = {S("Content-Type: text/html"), S("X-Site: a"),
	    S("Set-Cookie: a=1"), S("Set-Cookie: b=2")};

	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_HTTP;
	m.target = S("http://news.example/");
	o.has_failure = 1;
	o.failure = f;
	o.detail = S(detail);
	o.test_case = ZOND__V1__OUTCOME__TEST_HTTP;
	o.http = &h;
	h.url = m.target;
	h.addr = S("203.0.113.7:80");
	if (f == ZOND__V1__FAILURE__FAIL_NONE ||
	    f == ZOND__V1__FAILURE__FAIL_BLOCKPAGE) {
		h.has_status = 1;
		h.status = f == ZOND__V1__FAILURE__FAIL_NONE ? 200 : 451;
		h.n_headers = 4;
		h.headers = hdrs;
		h.has_body_head = 1;
		h.body_head.data = (uint8_t *)S("<title>Blocked</title>");
		h.body_head.len = 22;
		h.has_body_length = 1;
		h.body_length = 22;
		if (f == ZOND__V1__FAILURE__FAIL_BLOCKPAGE)
			h.blockpage = S("ru-rkn-stub");
	}
	if (resolved) {
		m.resolution = &r;
		r.name = S("news.example");
		r.n_system = 1;
		r.system = addrs;
	}
	emit(name, &m, &o, v, meth);
}

static void
https_case(void)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__HttpOutcome h = ZOND__V1__HTTP_OUTCOME__INIT;
	char *redir[] = {S("https://[2001:db8::7]:8443/a"), S("/b")};

	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_HTTP;
	m.target = S("https://news.example/");
	o.has_failure = 1;
	o.failure = ZOND__V1__FAILURE__FAIL_CERT_INVALID;
	o.detail = S("SSL certificate problem: self-signed certificate");
	o.test_case = ZOND__V1__OUTCOME__TEST_HTTP;
	o.http = &h;
	h.url = m.target;
	h.addr = S("203.0.113.7:443");
	emit("https_mitm", &m, &o, VERDICT_BLOCKED, METHOD_TLS);
	h.n_redirects = 2;
	h.redirects = redir;
	h.addr = S("[2001:db8::7]:8443");
	o.failure = ZOND__V1__FAILURE__FAIL_NONE;
	o.detail = NULL;
	h.has_status = 1;
	h.status = 200;
	emit("https_redirected", &m, &o, VERDICT_OK, METHOD_NONE);
}

static void
redirect_case(void)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__HttpOutcome h = ZOND__V1__HTTP_OUTCOME__INIT;
	char *redir[] = {S("https://www.news.example/"),
	    S("https://www.news.example/ru/")};
	static uint8_t bin[512];

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(0x80 + i % 64);	/* not UTF-8 */
	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_HTTP;
	m.target = S("http://news.example/");
	o.has_failure = 1;
	o.test_case = ZOND__V1__OUTCOME__TEST_HTTP;
	o.http = &h;
	h.url = m.target;
	h.n_redirects = 2;
	h.redirects = redir;
	h.has_status = 1;
	h.status = 200;
	h.has_body_head = 1;
	h.body_head.data = bin;
	h.body_head.len = sizeof(bin);
	h.has_body_length = 1;
	h.body_length = 5000;
	emit("redirects", &m, &o, VERDICT_OK, METHOD_NONE);
}

static void
tls_case(const char *name, const char *detail)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TlsOutcome t = ZOND__V1__TLS_OUTCOME__INIT;

	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_TLS;
	m.target = S("news.example:443");
	o.has_failure = 1;
	o.failure = ZOND__V1__FAILURE__FAIL_CERT_INVALID;
	o.detail = S(detail);
	o.test_case = ZOND__V1__OUTCOME__TEST_TLS;
	o.tls = &t;
	t.addr = S("203.0.113.7:443");
	t.sni = S("news.example");
	if (strcmp(name, "tls_name") == 0)
		t.shape = S("browser");
	emit(name, &m, &o, VERDICT_BLOCKED, METHOD_TLS);
}

/* The worst case for the record's size: a measurement of the largest size
 * that is all one address of control characters (escaped as \u0001). */
static void
huge_case(void)
{
	static char addr[WIRE_MAX_MEASUREMENT - 200];
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TlsOutcome t = ZOND__V1__TLS_OUTCOME__INIT;

	memset(addr, 1, sizeof(addr) - 1);
	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_TLS;
	m.target = S("x");
	o.has_failure = 1;
	o.failure = ZOND__V1__FAILURE__FAIL_RESET;
	o.test_case = ZOND__V1__OUTCOME__TEST_TLS;
	o.tls = &t;
	t.addr = addr;
	t.sni = S("news.example");
	t.control_sni = S("example.org");
	emit("huge", &m, &o, VERDICT_BLOCKED, METHOD_TLS);
}

static void
doh_case(void)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__DnsOutcome d = ZOND__V1__DNS_OUTCOME__INIT;
	Zond__V1__DnsResponse r = ZOND__V1__DNS_RESPONSE__INIT, *rs[] = {&r};
	Zond__V1__DnsAnswer a1 = ZOND__V1__DNS_ANSWER__INIT;
	Zond__V1__DnsAnswer a2 = ZOND__V1__DNS_ANSWER__INIT;
	Zond__V1__DnsAnswer *as[] = {&a1, &a2};

	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_DOH;
	m.target = S("news.example");
	o.has_failure = 1;
	o.test_case = ZOND__V1__OUTCOME__TEST_DNS;
	o.dns = &d;
	d.query = S("news.example");
	d.qtype = S("AAAA");
	d.n_responses = 1;
	d.responses = rs;
	r.has_rcode = 1;
	r.from = S("https://doh.example/dns-query");
	r.n_answers = 2;
	r.answers = as;
	a1.type = S("CNAME");
	a1.data = S("cdn.example");
	a1.has_ttl = 1;
	a1.ttl = 30;
	a2.type = S("AAAA");
	a2.data = S("2001:db8::7");
	a2.has_ttl = 1;
	a2.ttl = 30;
	emit("doh", &m, &o, VERDICT_OK, METHOD_NONE);
}

static void
udp_cases(void)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__QuicOutcome q = ZOND__V1__QUIC_OUTCOME__INIT;
	Zond__V1__VpnOutcome v = ZOND__V1__VPN_OUTCOME__INIT;

	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_QUIC;
	m.target = S("203.0.113.7:443");
	o.has_failure = 1;
	o.failure = ZOND__V1__FAILURE__FAIL_NO_REPLY;
	o.test_case = ZOND__V1__OUTCOME__TEST_QUIC;
	o.quic = &q;
	q.addr = S("203.0.113.7:443");
	q.variant = S("initial_large");
	emit("quic_initial", &m, &o, VERDICT_BLOCKED, METHOD_QUIC);
	q.variant = S("vn");
	emit("quic_vn_blocked", &m, &o, VERDICT_BLOCKED, METHOD_QUIC);
	m.test = ZOND__V1__TEST_KIND__TEST_VPN;
	o.test_case = ZOND__V1__OUTCOME__TEST_VPN;
	o.vpn = &v;
	v.addr = S("203.0.113.7:51820");
	v.protocol = S("wireguard");
	emit("wireguard", &m, &o, VERDICT_BLOCKED, METHOD_PROTO);
}

int
main(void)
{
	char name[32];

	if (sodium_init() < 0)
		return 1;
	http_case("http_ok", ZOND__V1__FAILURE__FAIL_NONE, NULL, VERDICT_OK,
	    METHOD_NONE, true);
	http_case("http_dns", ZOND__V1__FAILURE__FAIL_NXDOMAIN, "NXDOMAIN",
	    VERDICT_BLOCKED, METHOD_DNS, false);
	http_case("http_tcp", ZOND__V1__FAILURE__FAIL_TIMEOUT, "connect",
	    VERDICT_BLOCKED, METHOD_TCP, true);
	http_case("http_blockpage", ZOND__V1__FAILURE__FAIL_BLOCKPAGE, NULL,
	    VERDICT_BLOCKED, METHOD_HTTP, true);
	http_case("http_reset", ZOND__V1__FAILURE__FAIL_RESET, "reset",
	    VERDICT_BLOCKED, METHOD_TLS, true);
	http_case("http_down", ZOND__V1__FAILURE__FAIL_REFUSED, "refused",
	    VERDICT_DOWN, METHOD_NONE, true);
	http_case("http_geoblocked", ZOND__V1__FAILURE__FAIL_BLOCKPAGE, NULL,
	    VERDICT_GEOBLOCKED, METHOD_HTTP, true);
	http_case("http_filtered", ZOND__V1__FAILURE__FAIL_BLOCKPAGE, NULL,
	    VERDICT_FILTERED, METHOD_HTTP, true);
	http_case("http_review", ZOND__V1__FAILURE__FAIL_RESET, "reset",
	    VERDICT_REVIEW, METHOD_TLS, true);
	http_case("http_pending", ZOND__V1__FAILURE__FAIL_RESET, NULL,
	    VERDICT_PENDING, METHOD_NONE, true);
	redirect_case();
	https_case();
	tls_case("tls_expired",
	    "SSL certificate problem: certificate has expired");
	tls_case("tls_name", "SSL: no alternative certificate subject name "
	    "matches target host name 'news.example'");
	tls_case("tls_selfsigned",
	    "SSL certificate problem: self-signed certificate");
	doh_case();
	udp_cases();
	huge_case();
	for (int f = 0; f < 64; f++) {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
		    &zond__v1__failure__descriptor, f);
		const char *s;
		if (ev == NULL)
			continue;
		s = ooni_failure((Zond__V1__Failure)f, NULL);
		printf("FAIL\t%s\t%s\n", json_enum_name(
		    &zond__v1__failure__descriptor, f, name, sizeof(name)),
		    s != NULL ? s : "null");
	}
	return 0;
}
