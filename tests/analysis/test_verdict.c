/*
 * test_verdict — one verdict rule per test over recorded outcomes built in
 * C, including OONI's false-positive traps (dead site, geo page served by
 * the site itself, a resolver that differs but agrees, NXDOMAIN on both,
 * a censored control).  Each case asserts the verdict and the method a
 * user would read in the export.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "httpcmp.h"
#include "mk.h"
#include "verdict.h"

#define MAXC 8

struct fx {
	meas_t *m;
	meas_t *c[MAXC];
	size_t nc;
	meas_t *s[MAXC];
	size_t ns;
};

static void
fx_free(struct fx *f)
{
	size_t i;

	mk_free(f->m);
	for (i = 0; i < f->nc; i++)
		mk_free(f->c[i]);
	for (i = 0; i < f->ns; i++)
		mk_free(f->s[i]);
	memset(f, 0, sizeof(*f));
}

static meas_t *
ctl(struct fx *f, meas_t *c)
{
	assert_true(f->nc < MAXC);
	f->c[f->nc++] = c;
	return c;
}

static struct verdict_res
judge_o(struct fx *f, const struct verdict_opts *o)
{
	struct verdict_res r;

	assert_int_equal(mk_judge(o, f->m, (const meas_t *const *)f->c, f->nc,
	    (const meas_t *const *)f->s, f->ns, &r), ZE_OK);
	assert_non_null(memchr(r.reason, '\0', sizeof(r.reason)));
	assert_true(strlen(r.reason) > 0);
	return r;
}

static struct verdict_res
judge(struct fx *f)
{
	return judge_o(f, NULL);
}

#define EXPECT(r, v, meth) do { \
	if ((r).verdict != (v) || (r).method != (meth)) \
		fail_msg("got %s/%s (%s), want %s/%s", \
		    verdict_name((r).verdict), \
		    method_name((r).method) ? method_name((r).method) : "-", \
		    (r).reason, verdict_name(v), \
		    method_name(meth) ? method_name(meth) : "-"); \
} while (0)

static const char *const A_REAL[] = {"93.184.216.34", NULL};
static const char *const A_SAME24[] = {"93.184.216.10", NULL};
static const char *const A_OTHER[] = {"203.0.113.66", NULL};
static const char *const A_PRIV[] = {"10.99.0.1", NULL};

/* ------------------------------------------------------------ control */

static void
t_down_everywhere(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* tcp: dead site, control times out too */
	f.m = mk(TK(TCP), "dead.example:443", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(TCP), "dead.example:443", 9, FL(TIMEOUT)));
	ctl(&f, mk(TK(TCP), "dead.example:443", 8, FL(REFUSED)));
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* tls: reset at connect from both */
	f.m = mk(TK(TLS), "dead.example", 1, FL(TIMEOUT));
	mk_tls(f.m, "connect", "example.org", FL(TIMEOUT));
	ctl(&f, mk(TK(TLS), "dead.example", 9, FL(TIMEOUT)));
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* http: probe and control both fail */
	f.m = mk(TK(HTTP), "http://dead.example/", 1, FL(TIMEOUT));
	mk_http(f.m, "http://dead.example/", 0, 0, NULL, NULL, NULL);
	ctl(&f, mk(TK(HTTP), "http://dead.example/", 9, FL(REFUSED)));
	mk_http(f.c[0], "http://dead.example/", 0, 0, NULL, NULL, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* dns: no answer anywhere */
	f.m = mk(TK(DNS), "dead.example", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(DNS), "dead.example", 9, FL(TIMEOUT)));
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);
}

static void
t_no_control_pending(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_TCP);
	assert_int_equal(r.expire_to, VERDICT_ANOMALY);
	verdict_expire(&r);
	assert_int_equal(r.verdict, VERDICT_ANOMALY);
	verdict_expire(&r);	/* idempotent */
	assert_int_equal(r.verdict, VERDICT_ANOMALY);
	fx_free(&f);

	/* a control of another target does not count */
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(TCP), "y.example:443", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_TCP);
	fx_free(&f);

	/* a success needs no control */
	f.m = mk(TK(TCP), "x.example:443", 1, FL(NONE));
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* DNS answers need comparing: pending, expiring to ok */
	f.m = mk(TK(DNS), "x.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_DNS);
	verdict_expire(&r);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* a bogon answer without control expires to anomaly, not blocked */
	f.m = mk(TK(DNS), "x.example", 1, FL(BOGON));
	mk_dns(f.m, 0, A_PRIV);
	r = judge(&f);
	assert_int_equal(r.verdict, VERDICT_PENDING);
	assert_int_equal(r.expire_to, VERDICT_ANOMALY);
	fx_free(&f);

	/* a control with a local failure is no control */
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(TCP), "x.example:443", 9, FL(LOCAL)));
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_TCP);
	fx_free(&f);
}

static void
t_local_failure(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(TCP), "x.example:443", 1, FL(LOCAL));
	ctl(&f, mk(TK(TCP), "x.example:443", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_NONE);
	fx_free(&f);
}

/* A local fault on the agent (FAIL_LOCAL: no route, no IPv6, the local
 * firewall, no resolver) is never blocked or throttled, whatever the
 * healthy controls say, for every probe kind (issue 17). */
static void
t_local_failure_every_kind(void **state)
{
	static const Zond__V1__TestKind kinds[] = {TK(DNS), TK(DOH), TK(TCP),
	    TK(TLS), TK(HTTP), TK(STUN), TK(QUIC), TK(THROUGHPUT),
	    TK(FREEZE), TK(VPN), TK(CALL)};
	struct fx f = {0};
	struct verdict_res r;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		Zond__V1__TestKind t = kinds[i];
		f.m = mk(t, "x.example:443", 1, FL(LOCAL));
		for (k = 0; k < 3; k++)
			ctl(&f, mk(t, "x.example:443", 9 + (int)k, FL(NONE)));
		if (t == TK(DNS))
			for (k = 0; k < f.nc; k++)
				mk_dns(f.c[k], 0, A_REAL);
		if (t == TK(TLS))
			mk_tls(f.m, "connect", "example.org", FL(NONE));
		if (t == TK(HTTP)) {
			mk_http(f.m, "http://x.example/", 0, 0, NULL, NULL,
			    NULL);
			for (k = 0; k < f.nc; k++)
				mk_http(f.c[k], "http://x.example/", 200,
				    1000, "Example", NULL, "hello");
		}
		if (t == TK(STUN) || t == TK(QUIC) || t == TK(VPN)) {
			const char *v = t == TK(STUN) ? "plain" :
			    t == TK(QUIC) ? "vn" : "wireguard";
			void (*fn)(meas_t *, const char *, int) =
			    t == TK(STUN) ? mk_stun : t == TK(QUIC) ? mk_quic :
			    mk_vpn;
			fn(f.m, v, 1);
			for (k = 0; k < f.nc; k++)
				fn(f.c[k], v, 1);
		}
		if (t == TK(THROUGHPUT)) {
			mk_tp(f.m, 0, 8000000, FL(NONE));
			for (k = 0; k < f.nc; k++)
				mk_tp(f.c[k], 8000000, 8000000, FL(NONE));
		}
		if (t == TK(FREEZE)) {
			mk_freeze(f.m, 65536, 16384);
			for (k = 0; k < f.nc; k++)
				mk_freeze(f.c[k], 65536, 65536);
		}
		r = judge(&f);
		if (r.verdict == VERDICT_BLOCKED ||
		    r.verdict == VERDICT_THROTTLED)
			fail_msg("test %d: local fault judged %s (%s)", (int)t,
			    verdict_name(r.verdict), r.reason);
		EXPECT(r, VERDICT_ANOMALY, METHOD_NONE);
		fx_free(&f);
	}
}

/* IPv6 results are compared with IPv6 controls only (issue 17): a v6
 * failure beside v4 controls that work is no evidence (broken local
 * IPv6 is a known false positive); beside a v6 control that works it is. */
static void
t_family_matching(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	mk_family(f.m, ZOND__V1__ADDR_FAMILY__AF_INET6);
	mk_family(ctl(&f, mk(TK(TCP), "x.example:443", 9, FL(NONE))),
	    ZOND__V1__ADDR_FAMILY__AF_INET4);
	mk_family(ctl(&f, mk(TK(TCP), "x.example:443", 8, FL(NONE))),
	    ZOND__V1__ADDR_FAMILY__AF_INET4);
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_TCP);
	/* now an IPv6 control that connects */
	mk_family(ctl(&f, mk(TK(TCP), "x.example:443", 7, FL(NONE))),
	    ZOND__V1__ADDR_FAMILY__AF_INET6);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	fx_free(&f);

	/* an IPv4 failure beside an IPv6 control that fails and IPv4 ones
	 * that work: the v4 ones decide */
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	mk_family(f.m, ZOND__V1__ADDR_FAMILY__AF_INET4);
	mk_family(ctl(&f, mk(TK(TCP), "x.example:443", 9, FL(TIMEOUT))),
	    ZOND__V1__ADDR_FAMILY__AF_INET6);
	mk_family(ctl(&f, mk(TK(TCP), "x.example:443", 8, FL(NONE))),
	    ZOND__V1__ADDR_FAMILY__AF_INET4);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	fx_free(&f);

	/* no family recorded on either side (older agents): as before */
	f.m = mk(TK(TCP), "x.example:443", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(TCP), "x.example:443", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	fx_free(&f);
}

static void
t_bad_input(void **state)
{
	struct verdict_in in;
	struct verdict_res r;
	meas_t *m;

	(void)state;
	memset(&in, 0, sizeof(in));
	assert_int_equal(verdict_judge(NULL, &in, &r), ZE_INVAL);
	assert_int_equal(r.verdict, VERDICT_ANOMALY);
	/* a tls test carrying a tcp outcome */
	m = mk(TK(TCP), "x.example:443", 1, FL(NONE));
	m->test = TK(TLS);
	in.m = m;
	assert_int_equal(verdict_judge(NULL, &in, &r), ZE_INVAL);
	assert_int_equal(r.verdict, VERDICT_ANOMALY);
	mk_free(m);
}

static void
t_names(void **state)
{
	size_t i, j;

	(void)state;
	/* every verdict and method has a name of its own */
	for (i = 0; i < VERDICT__COUNT; i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(verdict_name((verdict_t)i),
			    verdict_name((verdict_t)j));
	for (i = 1; i < METHOD__COUNT; i++) {
		assert_non_null(method_name((method_t)i));
		for (j = 1; j < i; j++)
			assert_string_not_equal(method_name((method_t)i),
			    method_name((method_t)j));
	}
	assert_null(method_name(METHOD_NONE));
	assert_string_equal(method_name(METHOD_TLS), "tls");
	assert_string_equal(verdict_name(VERDICT_THROTTLED), "throttled");
}

/* ------------------------------------------------------------ dns */

static void
t_dns_consistent_resolver(void **state)
{
	static const char *const two[] = {"93.184.216.34", "198.51.100.7",
	    NULL};
	static const char *const ctl2[] = {"198.51.100.7", "192.0.2.1", NULL};
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* other resolver, other address, same /24 */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_SAME24);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* one shared address among several */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, two);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, ctl2);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* a private answer the control gives too (lab addresses) is fine */
	f.m = mk(TK(DNS), "news.example", 1, FL(BOGON));
	mk_dns(f.m, 0, A_PRIV);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(BOGON)));
	mk_dns(f.c[0], 0, A_PRIV);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* controls of another qtype do not count */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_OTHER);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	free(f.c[0]->outcome->dns->qtype);
	f.c[0]->outcome->dns->qtype = strdup("AAAA");
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_DNS);
	fx_free(&f);
}

static void
t_dns_nxdomain(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* NXDOMAIN on both: consistent, never blocked */
	f.m = mk(TK(DNS), "gone.example", 1, FL(NXDOMAIN));
	mk_dns(f.m, 3, NULL);
	ctl(&f, mk(TK(DNS), "gone.example", 9, FL(NXDOMAIN)));
	mk_dns(f.c[0], 3, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* NXDOMAIN here while control resolves: the dns_nxdomain rule */
	f.m = mk(TK(DNS), "news.example", 1, FL(NXDOMAIN));
	mk_dns(f.m, 3, NULL);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	fx_free(&f);
}

static void
t_dns_hijack(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* private answer, control public */
	f.m = mk(TK(DNS), "news.example", 1, FL(BOGON));
	mk_dns(f.m, 0, A_PRIV);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	assert_false(r.confirmed);
	assert_non_null(strstr(r.reason, "10.99.0.1"));
	fx_free(&f);

	/* same /16 is not the same /24: no ASN database to say more */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, (const char *const[]){"93.184.17.1", NULL});
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	fx_free(&f);

	/* routable lie, control stable: blocked */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_OTHER);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	ctl(&f, mk(TK(DNS), "news.example", 8, FL(NONE)));
	mk_dns(f.c[1], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	fx_free(&f);
}

static void
t_dns_cdn_variance(void **state)
{
	static const char *const cdn2[] = {"151.101.1.69", NULL};
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* controls disagree among themselves (geo DNS): a routable answer
	 * that matches neither is only an anomaly */
	f.m = mk(TK(DNS), "cdn.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_OTHER);
	ctl(&f, mk(TK(DNS), "cdn.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	ctl(&f, mk(TK(DNS), "cdn.example", 8, FL(NONE)));
	mk_dns(f.c[1], 0, cdn2);
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS);
	fx_free(&f);
}

static void
t_dns_injection(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* two responses: the injector's first, the real one after */
	f.m = mk(TK(DNS), "news.example", 1, FL(MULTIPLE_RESPONSES));
	mk_dns(f.m, 0, A_OTHER);
	mk_dns(f.m, 0, A_REAL);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	ctl(&f, mk(TK(DNS), "news.example", 8, FL(NONE)));
	mk_dns(f.c[1], 0, (const char *const[]){"151.101.1.69", NULL});
	r = judge(&f);
	/* blocked even though the controls vary: the race is the proof */
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	assert_non_null(strstr(r.reason, "injection"));
	fx_free(&f);

	/* the first response agrees with control: the client used it */
	f.m = mk(TK(DNS), "news.example", 1, FL(MULTIPLE_RESPONSES));
	mk_dns(f.m, 0, A_REAL);
	mk_dns(f.m, 0, A_OTHER);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);
}

static const char FP_CSV[] =
    "name,scope,location_found,pattern_type,pattern,confidence_no_fp,"
    "expected_countries\n"
    "nat.ru.dns,nat,dns,full,195.175.254.2,100,RU\n"
    "nat.ru.body,nat,body,contains,"
    "\"Доступ к сайту ограничен\",100,RU\n"
    "isp.ru.rt,isp,header.Location,prefix,http://warning.rt.ru,100,RU\n";

static struct fpdb *
load_fp(void)
{
	struct fpdb *db = NULL;
	zdiag_t d;

	if (fpdb_parse("fp.csv", FP_CSV, sizeof(FP_CSV) - 1, &db, &d) !=
	    ZE_OK)
		fail_msg("%s", d.text);
	assert_int_equal(fpdb_count(db), 3);
	return db;
}

static void
t_dns_fingerprint(void **state)
{
	struct verdict_opts o;
	struct fpdb *db = load_fp();
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	verdict_opts_default(&o);
	o.fp = db;
	/* no control needed: a known blockpage address is proof */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, (const char *const[]){"195.175.254.2", NULL});
	r = judge_o(&f, &o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	assert_true(r.confirmed);
	/* without the database the same answer is only pending */
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_DNS);
	fx_free(&f);

	/* a control answering the blockpage address is censored: ignored */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_REAL);
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, (const char *const[]){"195.175.254.2", NULL});
	r = judge_o(&f, &o);
	EXPECT(r, VERDICT_PENDING, METHOD_DNS);
	fx_free(&f);
	fpdb_free(&db);
	assert_null(db);
}

static void
t_dns_timeout(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(DNS), "news.example", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE)));
	mk_dns(f.c[0], 0, A_REAL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS);
	fx_free(&f);
}

/* ------------------------------------------------------------ tcp, tls */

static void
t_tcp(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(TCP), "e1.whatsapp.net:5222", 1, FL(REFUSED));
	ctl(&f, mk(TK(TCP), "e1.whatsapp.net:5222", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	fx_free(&f);

	/* control mostly fails: unstable target, only an anomaly */
	f.m = mk(TK(TCP), "e1.whatsapp.net:5222", 1, FL(TIMEOUT));
	ctl(&f, mk(TK(TCP), "e1.whatsapp.net:5222", 9, FL(NONE)));
	ctl(&f, mk(TK(TCP), "e1.whatsapp.net:5222", 8, FL(TIMEOUT)));
	ctl(&f, mk(TK(TCP), "e1.whatsapp.net:5222", 7, FL(TIMEOUT)));
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_TCP);
	fx_free(&f);
}

static void
t_tls_sni(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* SNI reset, control SNI works to the same IP: the TSPU signature */
	f.m = mk(TK(TLS), "call.example", 1, FL(RESET));
	mk_tls(f.m, "client_hello", "example.org", FL(NONE));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS);
	fx_free(&f);

	/* sni_drop: timeout after ClientHello */
	f.m = mk(TK(TLS), "call.example", 1, FL(TIMEOUT));
	mk_tls(f.m, "client_hello", "example.org", FL(NONE));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS);
	fx_free(&f);

	/* both SNIs reset after connect: not SNI filtering */
	f.m = mk(TK(TLS), "call.example", 1, FL(RESET));
	mk_tls(f.m, "client_hello", "example.org", FL(RESET));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_TLS);
	fx_free(&f);

	/* no TCP at all: IP blocking */
	f.m = mk(TK(TLS), "call.example", 1, FL(TIMEOUT));
	mk_tls(f.m, "connect", "example.org", FL(TIMEOUT));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	fx_free(&f);

	/* the server itself rejects the name from control too: down */
	f.m = mk(TK(TLS), "call.example", 1, FL(RESET));
	mk_tls(f.m, "client_hello", "example.org", FL(NONE));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(RESET)));
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* certificate invalid only here: anomaly, never blocked */
	f.m = mk(TK(TLS), "call.example", 1, FL(CERT_INVALID));
	mk_tls(f.m, "handshake", "example.org", FL(NONE));
	ctl(&f, mk(TK(TLS), "call.example", 9, FL(NONE)));
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_TLS);
	fx_free(&f);
}

/* ------------------------------------------------------------ http */

static const char *const H_SITE[] = {"Server: nginx", "X-Site-Id: 42",
    "Content-Type: text/html", NULL};
static const char *const H_ISP[] = {"Server: isp", "X-Isp: 1", NULL};

static void
t_http_blockpage(void **state)
{
	struct verdict_opts o;
	struct fpdb *db = load_fp();
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	verdict_opts_default(&o);
	o.fp = db;
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(NONE));
	mk_http(f.m, "http://news.example/", 200, 600, "Блокировка", H_ISP,
	    "<html>Доступ к сайту ограничен в соответствии с ...</html>");
	r = judge_o(&f, &o);	/* no control needed */
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	assert_true(r.confirmed);
	assert_non_null(strstr(r.reason, "nat.ru.body"));
	fx_free(&f);

	/* redirect to a known warning page */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(NONE));
	mk_http(f.m, "http://news.example/", 200, 100, "", NULL, NULL);
	f.m->outcome->http->redirects = calloc(1, sizeof(char *));
	f.m->outcome->http->redirects[0] = strdup("http://warning.rt.ru/?id=1");
	f.m->outcome->http->n_redirects = 1;
	r = judge_o(&f, &o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	assert_true(r.confirmed);
	fx_free(&f);

	/* the agent matched it already (its own fingerprint DB) */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(BLOCKPAGE));
	mk_http(f.m, "http://news.example/", 200, 600, "", NULL, NULL);
	f.m->outcome->http->blockpage = strdup("lab.blockpage");
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	assert_true(r.confirmed);
	/* ... but the control sees the same page: a fingerprint false
	 * positive (the site's own page) or a censored control */
	ctl(&f, mk(TK(HTTP), "http://news.example/", 9, FL(BLOCKPAGE)));
	mk_http(f.c[0], "http://news.example/", 200, 600, "", NULL, NULL);
	f.c[0]->outcome->http->blockpage = strdup("lab.blockpage");
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_HTTP);
	assert_false(r.confirmed);
	fx_free(&f);
	fpdb_free(&db);
}

static void
t_http_geo_page_everywhere(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* the site serves its own "not in your country" page to the control
	 * too: the same page everywhere is the site's choice, not a block */
	f.m = mk(TK(HTTP), "http://shop.example/", 1, FL(NONE));
	mk_http(f.m, "http://shop.example/", 451, 1200,
	    "Unavailable in your country", H_SITE, NULL);
	ctl(&f, mk(TK(HTTP), "http://shop.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://shop.example/", 451, 1180,
	    "Unavailable in your country", H_SITE, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* a 403 here only, from the same servers (uncommon headers shared
	 * with the control's page): the site refuses this country,
	 * geoblocked, never blocked (tests/analysis/test_geoblock.c) */
	f.m = mk(TK(HTTP), "http://shop.example/", 1, FL(NONE));
	mk_http(f.m, "http://shop.example/", 403, 900,
	    "Access denied", H_SITE, NULL);
	ctl(&f, mk(TK(HTTP), "http://shop.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://shop.example/", 200, 52000,
	    "Example Shop: catalogue", H_SITE, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP);
	fx_free(&f);
}

static void
t_http_diff(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* an unknown ISP page: other length, title and headers */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(NONE));
	mk_http(f.m, "http://news.example/", 200, 700, "Ресурс заблокирован",
	    H_ISP, NULL);
	ctl(&f, mk(TK(HTTP), "http://news.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://news.example/", 200, 48000,
	    "Example News - front page", H_SITE, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	fx_free(&f);

	/* the same page with a dynamic banner: length within 0.7 */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(NONE));
	mk_http(f.m, "http://news.example/", 200, 40000,
	    "Example News - front page", H_SITE, NULL);
	ctl(&f, mk(TK(HTTP), "http://news.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://news.example/", 200, 48000,
	    "Example News - front page", H_SITE, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* redirected to a host control never sees: an ISP warning page
	 * without a fingerprint, even though titles share a word */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(NONE));
	mk_http(f.m, "http://news.example/", 200, 3000,
	    "Example blocked", NULL, NULL);
	f.m->outcome->http->redirects = calloc(1, sizeof(char *));
	f.m->outcome->http->redirects[0] = strdup("http://Block.ISP.example:8080/p");
	f.m->outcome->http->n_redirects = 1;
	ctl(&f, mk(TK(HTTP), "http://news.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://news.example/", 200, 48000,
	    "Example News", NULL, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	assert_non_null(strstr(r.reason, "block.isp.example"));
	/* the same redirect seen by control is the site's own: status and
	 * a title word match, OONI's "accessible" */
	f.c[0]->outcome->http->redirects = calloc(1, sizeof(char *));
	f.c[0]->outcome->http->redirects[0] =
	    strdup("http://block.isp.example/x");
	f.c[0]->outcome->http->n_redirects = 1;
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* a successful HTTPS fetch is accessible (OONI) */
	f.m = mk(TK(HTTP), "https://news.example/", 1, FL(NONE));
	mk_http(f.m, "https://news.example/", 200, 700, "Other", H_ISP, NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* reset mid-request: http; refused: tcp */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(RESET));
	mk_http(f.m, "http://news.example/", 0, 0, NULL, NULL, NULL);
	ctl(&f, mk(TK(HTTP), "http://news.example/", 9, FL(NONE)));
	mk_http(f.c[0], "http://news.example/", 200, 48000, "Example", NULL,
	    NULL);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP);
	f.m->outcome->failure = FL(REFUSED);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP);
	/* timeout after the head: a slow body, not a clean block */
	f.m->outcome->failure = FL(TIMEOUT);
	f.m->outcome->http->has_status = 1;
	f.m->outcome->http->status = 200;
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_HTTP);
	fx_free(&f);
}

static void
t_httpcmp(void **state)
{
	Zond__V1__HttpOutcome a = ZOND__V1__HTTP_OUTCOME__INIT;
	Zond__V1__HttpOutcome b = ZOND__V1__HTTP_OUTCOME__INIT;
	char *ha[] = {"Server: x", "X-Cache-Key: 1"};
	char *hb[] = {"server: y", "x-cache-key: 2", "Date: now"};
	char *hc[] = {"Server: x", "Date: now"};
	struct httpcmp c;

	(void)state;
	a.has_status = b.has_status = 1;
	a.status = b.status = 200;
	a.has_body_length = b.has_body_length = 1;
	a.body_length = 701;
	b.body_length = 1000;
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.status, HC_MATCH);
	assert_int_equal(c.body, HC_MATCH);
	assert_int_equal(c.title, HC_UNKNOWN);
	assert_int_equal(c.headers, HC_UNKNOWN);
	assert_true(httpcmp_accessible(&c));
	a.body_length = 700;	/* min/max must exceed 0.7 */
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.body, HC_DIFF);
	assert_false(httpcmp_accessible(&c));
	/* titles: a shared word of 5+ characters, any case */
	a.title = "Welcome to NEWS portal";
	b.title = "news: the portal";
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.title, HC_MATCH);
	b.title = "news today";	/* only short words shared */
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.title, HC_DIFF);
	a.title = "Доступ ограничен";	/* 6 Cyrillic letters = 12 bytes */
	b.title = "Доступ закрыт";
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.title, HC_MATCH);
	a.title = "Сайт";	/* 4 letters, 8 bytes: too short */
	b.title = "Сайт";
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.title, HC_UNKNOWN);
	/* headers: only uncommon names count */
	a.headers = ha;
	a.n_headers = 2;
	b.headers = hb;
	b.n_headers = 3;
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.headers, HC_MATCH);
	b.headers = hc;
	b.n_headers = 2;
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.headers, HC_DIFF);
	assert_true(httpcmp_common_header("SERVER", 6));
	assert_false(httpcmp_common_header("x-cache-key", 11));
	/* a 5xx control says nothing about the status */
	b.status = 503;
	httpcmp_compare(&a, &b, 0.7, 5, &c);
	assert_int_equal(c.status, HC_UNKNOWN);
}

/* ------------------------------------------------------------ udp */

static void
t_stun(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(STUN), "helper", 1, FL(NO_REPLY));
	mk_stun(f.m, "whatsapp", 1);
	ctl(&f, mk(TK(STUN), "helper", 9, FL(NONE)));
	mk_stun(f.c[0], "whatsapp", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);
	assert_non_null(strstr(r.reason, "baseline"));
	fx_free(&f);

	/* a control of another variant is not control for this one */
	f.m = mk(TK(STUN), "helper", 1, FL(NO_REPLY));
	mk_stun(f.m, "whatsapp", 1);
	ctl(&f, mk(TK(STUN), "helper", 9, FL(NONE)));
	mk_stun(f.c[0], "plain", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_UDP);
	fx_free(&f);
}

/* The call test names the method from its crossed legs (issue 18). */
static meas_t *
call_path(int agent, Zond__V1__Failure f, uint32_t svc_hop,
    uint32_t neutral_hop, bool helper_shaped)
{
	meas_t *m = mk(TK(CALL), "17.0.0.1", agent, f);

	mk_call(m, "path");
	m->outcome->call->has_neutral_port = 1;
	m->outcome->call->neutral_port = 33434;
	mk_call_leg(m, "service", "shaped", 3478, f, svc_hop, f == FL(NONE));
	mk_call_leg(m, "service", "neutral", 3478,
	    neutral_hop == UINT32_MAX ? FL(NONE) : FL(NO_REPLY),
	    neutral_hop == UINT32_MAX ? 9 : neutral_hop,
	    neutral_hop == UINT32_MAX);
	mk_call_leg(m, "service", "shaped", 33434, FL(NONE), 9, true);
	mk_call_leg(m, "helper", "shaped", 3478,
	    helper_shaped ? FL(NONE) : FL(NO_REPLY), 9, helper_shaped);
	mk_call_leg(m, "helper", "neutral", 3478, FL(NONE), 9, true);
	return m;
}

static void
t_call(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* path: both payloads stop at hop 2, the helper answers: by
	 * address/port; a control abroad gets through */
	f.m = call_path(1, FL(NO_REPLY), 2, 2, true);
	ctl(&f, call_path(9, FL(NONE), 9, UINT32_MAX, true));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);
	assert_non_null(strstr(r.reason, "by address/port"));
	assert_non_null(strstr(r.reason, "after hop 2"));
	fx_free(&f);

	/* the neutral payload passes, the shaped one fails towards the
	 * helper too: by shape */
	f.m = call_path(1, FL(NO_REPLY), 2, UINT32_MAX, false);
	ctl(&f, call_path(9, FL(NONE), 9, UINT32_MAX, true));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_PROTO);
	assert_non_null(strstr(r.reason, "by shape (DPI)"));
	fx_free(&f);

	/* both payloads stop towards the service and the helper refuses
	 * the shape: both */
	f.m = call_path(1, FL(NO_REPLY), 2, 2, false);
	ctl(&f, call_path(9, FL(NONE), 9, UINT32_MAX, true));
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_PROTO);
	assert_non_null(strstr(r.reason, "by address/port and by shape"));
	fx_free(&f);

	/* the helper answers nothing on that port: inconclusive */
	f.m = call_path(1, FL(NO_REPLY), 2, 2, false);
	f.m->outcome->call->legs[4]->failure = FL(NO_REPLY);
	ctl(&f, call_path(9, FL(NONE), 9, UINT32_MAX, true));
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_UDP);
	assert_non_null(strstr(r.reason, "inconclusive"));
	fx_free(&f);

	/* the control abroad fails the same way: the relay is down */
	f.m = call_path(1, FL(NO_REPLY), 2, 2, true);
	ctl(&f, call_path(9, FL(NO_REPLY), 5, 5, true));
	r = judge(&f);
	assert_int_equal(r.verdict, VERDICT_DOWN);
	fx_free(&f);

	/* flow: connects, then cut */
	f.m = mk(TK(CALL), "helper", 1, FL(STALL));
	mk_call(f.m, "flow");
	mk_call_flow(f.m, true, NULL, 4, 200);
	mk_call_leg(f.m, "helper", "neutral", 3478, FL(NONE), 0, false);
	ctl(&f, mk(TK(CALL), "helper", 9, FL(NONE)));
	mk_call(f.c[0], "flow");
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);	/* the flow's cut */
	assert_non_null(strstr(r.reason, "cut after 4 s / 200 packets"));
	fx_free(&f);

	/* flow: never connects, the helper's port answers a neutral
	 * datagram: by shape */
	f.m = mk(TK(CALL), "helper", 1, FL(TIMEOUT));
	mk_call(f.m, "flow");
	mk_call_flow(f.m, false, "allocate", 0, 0);
	mk_call_leg(f.m, "helper", "neutral", 3478, FL(NONE), 0, false);
	mk_call_leg(f.m, "helper", "shaped", 3478, FL(TIMEOUT), 0, false);
	ctl(&f, mk(TK(CALL), "helper", 9, FL(NONE)));
	mk_call(f.c[0], "flow");
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_PROTO);
	assert_non_null(strstr(r.reason, "never connects (allocate"));
	fx_free(&f);

	/* a path control of another variant is no control */
	f.m = call_path(1, FL(NO_REPLY), 2, 2, true);
	ctl(&f, mk(TK(CALL), "17.0.0.1", 9, FL(NONE)));
	mk_call(f.c[0], "relay");
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_UDP);
	fx_free(&f);
}

static void
t_quic(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* the TSPU rule: large v1 Initial dropped, baseline answers */
	f.m = mk(TK(QUIC), "helper", 1, FL(TIMEOUT));
	mk_quic(f.m, "initial_large", 1);
	ctl(&f, mk(TK(QUIC), "helper", 9, FL(NONE)));
	mk_quic(f.c[0], "initial_large", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_QUIC);
	fx_free(&f);

	/* no baseline recorded, but the small Initial got through */
	f.m = mk(TK(QUIC), "helper", 1, FL(TIMEOUT));
	mk_quic(f.m, "initial_large", -1);
	ctl(&f, mk(TK(QUIC), "helper", 9, FL(NONE)));
	mk_quic(f.c[0], "initial_large", -1);
	f.s[f.ns++] = mk(TK(QUIC), "helper", 1, FL(NONE));
	mk_quic(f.s[0], "initial_small", -1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_QUIC);
	fx_free(&f);

	/* nothing on UDP gets through: udp, not quic */
	f.m = mk(TK(QUIC), "helper", 1, FL(TIMEOUT));
	mk_quic(f.m, "initial_large", 0);
	ctl(&f, mk(TK(QUIC), "helper", 9, FL(NONE)));
	mk_quic(f.c[0], "initial_large", 1);
	f.s[f.ns++] = mk(TK(QUIC), "helper", 1, FL(TIMEOUT));
	mk_quic(f.s[0], "initial_small", 0);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);
	fx_free(&f);

	/* initial_sni: the real SNI gets no answer, the same Initial with
	 * the control SNI does: quic (SNI), though no baseline or sibling
	 * says UDP passes */
	f.m = mk(TK(QUIC), "helper", 1, FL(NO_REPLY));
	mk_quic(f.m, "initial_sni", 0);
	f.m->outcome->quic->sni = strdup("www.youtube.com");
	f.m->outcome->quic->control_sni = strdup("www.google.com");
	f.m->outcome->quic->has_control_failure = 1;
	f.m->outcome->quic->control_failure = FL(NONE);
	ctl(&f, mk(TK(QUIC), "helper", 9, FL(NONE)));
	mk_quic(f.c[0], "initial_sni", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_QUIC);
	assert_non_null(strstr(r.reason, "control SNI www.google.com "
	    "answers"));
	/* both SNIs fail and nothing else passes: not SNI, udp */
	f.m->outcome->quic->control_failure = FL(TIMEOUT);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);
	fx_free(&f);
}

static void
t_vpn(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	f.m = mk(TK(VPN), "helper", 1, FL(NO_REPLY));
	mk_vpn(f.m, "wireguard", 1);
	ctl(&f, mk(TK(VPN), "helper", 9, FL(NONE)));
	mk_vpn(f.c[0], "wireguard", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_PROTO);
	fx_free(&f);

	f.m = mk(TK(VPN), "helper", 1, FL(NO_REPLY));
	mk_vpn(f.m, "wireguard", 0);
	ctl(&f, mk(TK(VPN), "helper", 9, FL(NONE)));
	mk_vpn(f.c[0], "wireguard", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_UDP);
	fx_free(&f);

	/* the helper is down for control too */
	f.m = mk(TK(VPN), "helper", 1, FL(NO_REPLY));
	mk_vpn(f.m, "openvpn", 1);
	ctl(&f, mk(TK(VPN), "helper", 9, FL(NO_REPLY)));
	mk_vpn(f.c[0], "openvpn", 1);
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);
}

/* ------------------------------------------------------------ throttle */

static void
t_throttle_ratio(void **state)
{
	struct fx f = {0};
	struct verdict_res r;
	struct verdict_opts o;

	(void)state;
	/* 150 kbps against 10 Mbps on the same path */
	f.m = mk(TK(THROUGHPUT), "rr1.googlevideo.com", 1, FL(NONE));
	mk_tp(f.m, 18750, 1250000, FL(NONE));
	ctl(&f, mk(TK(THROUGHPUT), "rr1.googlevideo.com", 9, FL(NONE)));
	mk_tp(f.c[0], 1200000, 1250000, FL(NONE));
	r = judge(&f);
	EXPECT(r, VERDICT_THROTTLED, METHOD_THROTTLE);
	/* the ratio is configurable */
	verdict_opts_default(&o);
	o.throttle_ratio = 0.01;
	r = judge_o(&f, &o);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* 0.8 of the control SNI rate: fine */
	f.m = mk(TK(THROUGHPUT), "rr1.googlevideo.com", 1, FL(NONE));
	mk_tp(f.m, 1000000, 1250000, FL(NONE));
	r = judge(&f);	/* no control needed for a clean ratio */
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* the server is slow for that name from control too */
	f.m = mk(TK(THROUGHPUT), "slow.example", 1, FL(NONE));
	mk_tp(f.m, 20000, 1250000, FL(NONE));
	ctl(&f, mk(TK(THROUGHPUT), "slow.example", 9, FL(NONE)));
	mk_tp(f.c[0], 25000, 1250000, FL(NONE));
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);

	/* the real SNI stalls mid-transfer, the control SNI completes */
	f.m = mk(TK(THROUGHPUT), "rr1.googlevideo.com", 1, FL(STALL));
	mk_tp(f.m, 0, 1250000, FL(NONE));
	ctl(&f, mk(TK(THROUGHPUT), "rr1.googlevideo.com", 9, FL(NONE)));
	mk_tp(f.c[0], 1200000, 1250000, FL(NONE));
	r = judge(&f);
	EXPECT(r, VERDICT_THROTTLED, METHOD_THROTTLE);
	/* ... or gets no reply at all: SNI blocking, not throttling */
	f.m->outcome->failure = FL(TIMEOUT);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS);
	fx_free(&f);

	/* low ratio, no control yet */
	f.m = mk(TK(THROUGHPUT), "rr1.googlevideo.com", 1, FL(NONE));
	mk_tp(f.m, 18750, 1250000, FL(NONE));
	r = judge(&f);
	EXPECT(r, VERDICT_PENDING, METHOD_THROTTLE);
	assert_int_equal(r.expire_to, VERDICT_ANOMALY);
	fx_free(&f);
}

static void
t_freeze(void **state)
{
	struct fx f = {0};
	struct verdict_res r;
	struct verdict_opts o;

	(void)state;
	f.m = mk(TK(FREEZE), "helper", 1, FL(STALL));
	mk_freeze(f.m, 65536, 17800);
	ctl(&f, mk(TK(FREEZE), "helper", 9, FL(NONE)));
	mk_freeze(f.c[0], 65536, 65536);
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_FREEZE);
	/* a stall elsewhere is not the freeze signature */
	f.m->outcome->freeze->received = 40000;
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_FREEZE);
	f.m->outcome->freeze->received = 9000;
	r = judge(&f);
	EXPECT(r, VERDICT_ANOMALY, METHOD_FREEZE);
	/* a box cutting at 16384 bytes on the wire leaves a little less
	 * payload; the range is configurable */
	f.m->outcome->freeze->received = 15100;
	r = judge(&f);
	EXPECT(r, VERDICT_BLOCKED, METHOD_FREEZE);
	verdict_opts_default(&o);
	o.freeze_min = 16 * 1024;
	r = judge_o(&f, &o);
	EXPECT(r, VERDICT_ANOMALY, METHOD_FREEZE);
	/* control stalls too: the helper's problem */
	f.m->outcome->freeze->received = 17800;
	f.c[0]->outcome->failure = FL(STALL);
	r = judge(&f);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE);
	fx_free(&f);

	/* complete transfer */
	f.m = mk(TK(FREEZE), "helper", 1, FL(NONE));
	mk_freeze(f.m, 65536, 65536);
	r = judge(&f);
	EXPECT(r, VERDICT_OK, METHOD_NONE);
	fx_free(&f);
}

/* Bare outcomes (every optional field absent) of every test, failed and
 * not, with and without control: a verdict, never a crash. */
static void
t_bare_outcomes(void **state)
{
	static const Zond__V1__Failure fails[] = {
		FL(NONE), FL(TIMEOUT), FL(RESET), FL(STALL), FL(NO_REPLY),
		FL(BAD_RESPONSE), FL(BLOCKPAGE), (Zond__V1__Failure)77,
	};
	struct fx f = {0};
	struct verdict_res r;
	int k;
	size_t i;

	(void)state;
	for (k = 0; k <= 10; k++) {
		for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
			f.m = mk((Zond__V1__TestKind)k, "x", 1, fails[i]);
			r = judge(&f);
			assert_true((unsigned)r.verdict < VERDICT__COUNT);
			ctl(&f, mk((Zond__V1__TestKind)k, "x", 9, FL(NONE)));
			ctl(&f, mk((Zond__V1__TestKind)k, "x", 8, fails[i]));
			r = judge(&f);
			assert_true((unsigned)r.verdict < VERDICT__COUNT);
			assert_true((unsigned)r.method < METHOD__COUNT);
			assert_int_not_equal(r.verdict, VERDICT_PENDING);
			fx_free(&f);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_down_everywhere),
		cmocka_unit_test(t_no_control_pending),
		cmocka_unit_test(t_local_failure),
		cmocka_unit_test(t_local_failure_every_kind),
		cmocka_unit_test(t_family_matching),
		cmocka_unit_test(t_bad_input),
		cmocka_unit_test(t_names),
		cmocka_unit_test(t_dns_consistent_resolver),
		cmocka_unit_test(t_dns_nxdomain),
		cmocka_unit_test(t_dns_hijack),
		cmocka_unit_test(t_dns_cdn_variance),
		cmocka_unit_test(t_dns_injection),
		cmocka_unit_test(t_dns_fingerprint),
		cmocka_unit_test(t_dns_timeout),
		cmocka_unit_test(t_tcp),
		cmocka_unit_test(t_tls_sni),
		cmocka_unit_test(t_http_blockpage),
		cmocka_unit_test(t_http_geo_page_everywhere),
		cmocka_unit_test(t_http_diff),
		cmocka_unit_test(t_httpcmp),
		cmocka_unit_test(t_stun),
		cmocka_unit_test(t_call),
		cmocka_unit_test(t_quic),
		cmocka_unit_test(t_vpn),
		cmocka_unit_test(t_throttle_ratio),
		cmocka_unit_test(t_freeze),
		cmocka_unit_test(t_bare_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
