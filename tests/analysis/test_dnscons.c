/*
 * test_dnscons — DNS consistency as OONI judges it (docs/METHODOLOGY.md
 * 2.2, 2.3): answers of probe and control are consistent when they share
 * an address, an ASN (with an IP-to-ASN table, ipasn.h) or when the
 * probe's answer served a certificate valid for the name; and tcp, tls
 * and http tests of a name the system resolver refused or forged are
 * attributed to DNS when the DoH resolver's address works.  Each case is
 * a trap a user would check in the export: a CDN answer from another
 * network must stay ok, a forged one must be blocked/dns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ipasn.h"
#include "mk.h"
#include "verdict.h"

/* A made-up world: Cloudflare-like CDN in two networks of one ASN, an
 * Edgecast-like CDN, the ISP's own network (where a forged answer points
 * to its blockpage server), an IPv6 CDN range. */
static const char TABLE[] =
    "1.0.0.0\t1.0.0.255\t13335\tUS\tCDN-ONE\n"
    "5.3.0.0\t5.3.255.255\t12389\tRU\tISP-RU\n"
    "93.184.216.0\t93.184.216.255\t15133\tUS\tCDN-TWO\n"
    "104.16.0.0\t104.31.255.255\t13335\tUS\tCDN-ONE\n"
    "151.101.0.0\t151.101.255.255\t54113\tUS\tCDN-THREE\n"
    "2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t13335\tUS\t"
    "CDN-ONE\n";

#define NAME "site.example"
#define MAXC 4

struct fx {
	meas_t *m;
	meas_t *c[MAXC];
	size_t nc;
	struct verdict_opts o;		/* with the table */
	struct verdict_opts plain;	/* without one */
	struct ipasn *t;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	zdiag_t d;

	if (f == NULL || ipasn_parse("table.tsv", TABLE, sizeof(TABLE) - 1,
	    &f->t, &d) != ZE_OK)
		return -1;
	verdict_opts_default(&f->o);
	verdict_opts_default(&f->plain);
	f->o.asn = f->t;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	mk_free(f->m);
	for (i = 0; i < f->nc; i++)
		mk_free(f->c[i]);
	ipasn_free(&f->t);
	free(f);
	return 0;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static meas_t *
ctl(struct fx *f, meas_t *c)
{
	assert_true(f->nc < MAXC);
	f->c[f->nc++] = c;
	return c;
}

/* A DNS measurement answered with the given addresses. */
static meas_t *
dns(int agent, const char *a, const char *b)
{
	const char *v[] = {a, b, NULL};
	meas_t *m = mk(TK(DNS), NAME, agent, FL(NONE));

	mk_dns(m, 0, v);
	return m;
}

/* The agent's TLS check of its first answer: cert 1 valid, 0 invalid;
 * fail a failure other than NONE (then cert is not recorded). */
static void
check(meas_t *m, const char *addr, int cert, Zond__V1__Failure fail)
{
	Zond__V1__AnswerCheck *ac = malloc(sizeof(*ac));

	assert_non_null(ac);
	zond__v1__answer_check__init(ac);
	ac->addr = xstrdup(addr);
	ac->has_failure = 1;
	ac->failure = fail;
	if (fail == FL(NONE)) {
		ac->has_cert_valid = 1;
		ac->cert_valid = cert != 0;
	}
	m->outcome->dns->answer_check = ac;
}

static char **
strs(const char *const *v, size_t *n)
{
	char **p;
	size_t i;

	for (*n = 0; v != NULL && v[*n] != NULL; (*n)++)
		;
	if (*n == 0)
		return NULL;
	p = calloc(*n, sizeof(*p));
	assert_non_null(p);
	for (i = 0; i < *n; i++)
		p[i] = xstrdup(v[i]);
	return p;
}

/* How m's name was resolved: the system's addresses (or its failure
 * sysf), the DoH resolver's, and the test on a DoH address (alt NULL:
 * not tried). */
static void
resolved(meas_t *m, const char *const *sys, Zond__V1__Failure sysf,
    const char *const *doh, const char *alt, Zond__V1__Failure altf)
{
	Zond__V1__Resolution *r = malloc(sizeof(*r));

	assert_non_null(r);
	zond__v1__resolution__init(r);
	r->name = xstrdup(NAME);
	r->system = strs(sys, &r->n_system);
	if (sysf != FL(NONE)) {
		r->has_system_failure = 1;
		r->system_failure = sysf;
	}
	r->doh = strs(doh, &r->n_doh);
	if (alt != NULL) {
		r->alt_addr = xstrdup(alt);
		r->has_alt_failure = 1;
		r->alt_failure = altf;
		r->has_alt_us = 1;
		r->alt_us = 20000;
	}
	m->resolution = r;
}

/* A tcp, tls or http measurement of NAME connected to addr. */
static meas_t *
conn(Zond__V1__TestKind t, int agent, Zond__V1__Failure fail,
    const char *addr)
{
	meas_t *m = mk(t, NAME ":443", agent, fail);
	Zond__V1__Outcome *o = m->outcome;

	switch (t) {
	case TK(TCP):
		o->tcp->addr = xstrdup(addr);
		break;
	case TK(TLS):
		o->tls->addr = xstrdup(addr);
		break;
	default:
		o->http->addr = xstrdup(addr);
		break;
	}
	return m;
}

static struct verdict_res
judge(struct fx *f, const struct verdict_opts *o)
{
	struct verdict_res r;

	assert_int_equal(mk_judge(o, f->m, (const meas_t *const *)f->c, f->nc,
	    NULL, 0, &r), ZE_OK);
	assert_non_null(memchr(r.reason, '\0', sizeof(r.reason)));
	return r;
}

static void
reset(struct fx *f)
{
	size_t i;

	mk_free(f->m);
	f->m = NULL;
	for (i = 0; i < f->nc; i++)
		mk_free(f->c[i]);
	f->nc = 0;
}

#define EXPECT(r, v, meth, text) do { \
	if ((r).verdict != (v) || (r).method != (meth) || \
	    strstr((r).reason, (text)) == NULL) \
		fail_msg("got %s/%s (%s), want %s/%s with '%s'", \
		    verdict_name((r).verdict), \
		    method_name((r).method) ? method_name((r).method) : "-", \
		    (r).reason, verdict_name(v), \
		    method_name(meth) ? method_name(meth) : "-", (text)); \
} while (0)

/* ------------------------------------------------------------ dns */

/* A CDN answers the probe from another ASN than the control; the address
 * serves a certificate valid for the name: ordinary CDN geography. */
static void
t_cdn_valid_cert(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = dns(1, "151.101.1.1", NULL);
	ctl(f, dns(9, "93.184.216.34", NULL));
	/* without the proof the same answer is a forgery (one control
	 * agrees with itself) */
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "(AS54113) shares no address "
	    "or ASN with control");
	check(f->m, "151.101.1.1:443", 1, FL(NONE));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "certificate valid for the name");
	r = judge(f, &f->plain);	/* the proof needs no table */
	EXPECT(r, VERDICT_OK, METHOD_NONE, "certificate valid for the name");
	reset(f);

	/* a check of an address the answer does not hold proves nothing */
	f->m = dns(1, "151.101.1.1", NULL);
	check(f->m, "93.184.216.34:443", 1, FL(NONE));
	ctl(f, dns(9, "93.184.216.34", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "shares no address or ASN");
	reset(f);

	/* IPv6: "[addr]:port" */
	f->m = dns(1, "2001:db9::5", NULL);
	check(f->m, "[2001:db9::5]:443", 1, FL(NONE));
	ctl(f, dns(9, "2001:db8::1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "certificate valid");
	reset(f);
}

/* Same ASN, different address and /24: the same operator (a CDN's other
 * network); without the table the /24 stand-in calls it blocked. */
static void
t_same_asn(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = dns(1, "104.18.7.7", NULL);
	ctl(f, dns(9, "1.0.0.1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "same ASN");
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "shares no address or /24");
	reset(f);

	/* IPv6 in the same ASN */
	f->m = dns(1, "2001:db8:77::1", NULL);
	ctl(f, dns(9, "2001:db8:1::1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "same ASN");
	reset(f);

	/* a shared address still says so */
	f->m = dns(1, "93.184.216.34", NULL);
	ctl(f, dns(9, "93.184.216.34", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "shared address");
	reset(f);

	/* "Not routed" and unknown addresses have no ASN: two of them are
	 * not one operator's */
	f->m = dns(1, "198.18.0.1", NULL);
	ctl(f, dns(9, "203.0.113.9", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "bogon answer 198.18.0.1");
	reset(f);
	f->m = dns(1, "192.0.2.1", NULL);
	ctl(f, dns(9, "203.0.113.9", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "answer 192.0.2.1 shares no "
	    "address or ASN");
	reset(f);
}

/* A forged routable answer (the ISP's blockpage server) whose certificate
 * is invalid for the name. */
static void
t_forged_cert_invalid(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = dns(1, "5.3.3.3", NULL);
	check(f->m, "5.3.3.3:443", 0, FL(NONE));
	ctl(f, dns(9, "93.184.216.34", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "(AS12389) shares no address "
	    "or ASN with control; its certificate is invalid for the name");
	reset(f);

	/* controls in two ASNs (a CDN): the mismatch alone is only an
	 * anomaly ... */
	f->m = dns(1, "5.3.3.3", NULL);
	ctl(f, dns(9, "93.184.216.34", NULL));
	ctl(f, dns(8, "151.101.1.1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS, "whose answers vary");
	/* ... an invalid certificate where the controls' answers serve a
	 * valid one decides it */
	check(f->m, "5.3.3.3:443", 0, FL(CERT_INVALID));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS, "its certificate is invalid");
	check(f->c[0], "93.184.216.34:443", 1, FL(NONE));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "its certificate is invalid "
	    "for the name; control's is valid");
	reset(f);

	/* controls in two networks of one ASN agree with the table: a
	 * mismatch in a third ASN is blocked */
	f->m = dns(1, "5.3.3.3", NULL);
	ctl(f, dns(9, "1.0.0.1", NULL));
	ctl(f, dns(8, "104.16.1.1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "shares no address or ASN");
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS, "whose answers vary");
	reset(f);
}

/* No table, a different /24, controls disagreeing: anomaly, as before. */
static void
t_no_table_cdn(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = dns(1, "151.101.1.1", NULL);
	ctl(f, dns(9, "93.184.216.34", NULL));
	ctl(f, dns(8, "104.16.1.1", NULL));
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS, "answer 151.101.1.1 differs "
	    "from control, whose answers vary (CDN?)");
	/* a shared /24 is consistent without a table only */
	mk_free(f->m);
	f->m = dns(1, "93.184.216.99", NULL);
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "shared /24");
	reset(f);
	f->m = dns(1, "5.3.0.99", NULL);
	ctl(f, dns(9, "5.3.0.1", NULL));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "same ASN");
	reset(f);
}

/* ------------------------------------------------------------ attribution */

static const char *const SYS_FORGED[] = {"5.3.3.3", NULL};
static const char *const DOH_REAL[] = {"93.184.216.34", NULL};

/* The system resolver forged the address; the TCP connection to it
 * "worked" (the blockpage server listens); the DoH address works. */
static void
t_tcp_forged_connected(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = conn(TK(TCP), 1, FL(NONE), "5.3.3.3:443");
	ctl(f, conn(TK(TCP), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->o);	/* no Resolution: as before */
	EXPECT(r, VERDICT_OK, METHOD_NONE, "succeeded");
	resolved(f->m, SYS_FORGED, FL(NONE), DOH_REAL, "93.184.216.34:443",
	    FL(NONE));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "system resolver's 5.3.3.3 "
	    "matches neither DoH nor control (connected there); DoH address "
	    "93.184.216.34:443 works; control works");
	/* without a table a routable mismatch that connected may be a
	 * CDN's other network: weak */
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_ANOMALY, METHOD_DNS, "matches neither");
	reset(f);

	/* a bogon from the system resolver needs no table */
	f->m = conn(TK(TCP), 1, FL(NONE), "10.10.10.10:443");
	resolved(f->m, (const char *const[]){"10.10.10.10", NULL}, FL(NONE),
	    DOH_REAL, "93.184.216.34:443", FL(NONE));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->plain);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "system resolver's bogon "
	    "10.10.10.10");
	reset(f);

	/* the system's address in the DoH address's ASN: honest, judged as
	 * before (a connect timeout there is TCP's) */
	f->m = conn(TK(TCP), 1, FL(TIMEOUT), "104.16.1.1:443");
	resolved(f->m, (const char *const[]){"104.16.1.1", NULL}, FL(NONE),
	    (const char *const[]){"1.0.0.1", NULL}, "1.0.0.1:443", FL(NONE));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "1.0.0.1:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, "connect: timeout");
	reset(f);

	/* the controls' address, not the DoH one, clears it too */
	f->m = conn(TK(TCP), 1, FL(NONE), "5.3.3.3:443");
	resolved(f->m, SYS_FORGED, FL(NONE), DOH_REAL, "93.184.216.34:443",
	    FL(NONE));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "5.3.200.1:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "succeeded");
	reset(f);
}

/* The system resolver says NXDOMAIN; the DoH address works. */
static void
t_nxdomain_doh_works(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;
	static const Zond__V1__TestKind kinds[] = {TK(TCP), TK(TLS),
	    TK(HTTP)};
	size_t k;

	for (k = 0; k < 3; k++) {
		f->m = mk(kinds[k], NAME ":443", 1, FL(NXDOMAIN));
		resolved(f->m, NULL, FL(NXDOMAIN), DOH_REAL,
		    "93.184.216.34:443", FL(NONE));
		ctl(f, conn(kinds[k], 9, FL(NONE), "93.184.216.34:443"));
		if (kinds[k] == TK(HTTP))
			f->c[0]->outcome->http->has_status = 1;
		r = judge(f, &f->plain);
		EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "system resolver: "
		    "nxdomain; DoH address 93.184.216.34:443 works");
		/* control fails too: the site is down, not blocked */
		f->c[0]->outcome->failure = FL(TIMEOUT);
		if (kinds[k] == TK(HTTP))
			f->c[0]->outcome->http->has_status = 0;
		r = judge(f, &f->plain);
		EXPECT(r, VERDICT_DOWN, METHOD_NONE, "control fails too");
		reset(f);
	}

	/* a resolver that is missing is local, never DNS blocking */
	f->m = mk(TK(TCP), NAME ":443", 1, FL(LOCAL));
	resolved(f->m, NULL, FL(LOCAL), DOH_REAL, "93.184.216.34:443",
	    FL(NONE));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_ANOMALY, METHOD_NONE, "local problem");
	reset(f);
}

/* Both the system's and the DoH address fail: judged as before on the
 * failure, both recorded in the reason. */
static void
t_both_fail(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = conn(TK(TCP), 1, FL(TIMEOUT), "5.3.3.3:443");
	resolved(f->m, SYS_FORGED, FL(NONE), DOH_REAL, "93.184.216.34:443",
	    FL(TIMEOUT));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, "connect: timeout; control "
	    "works; system resolver's 5.3.3.3 matches neither DoH nor control "
	    "(timeout there); DoH address");
	reset(f);

	/* long addresses: the reason is cut at its size, still one line */
	f->m = conn(TK(TCP), 1, FL(TIMEOUT), "[2a02:6b8:ffff:ffff:ffff:ffff:"
	    "ffff:fffe]:443");
	resolved(f->m, (const char *const[]){"2a02:6b8:ffff:ffff:ffff:ffff:"
	    "ffff:fffe", NULL}, FL(NONE), (const char *const[]){"2001:db8:"
	    "ffff:ffff:ffff:ffff:ffff:fffe", NULL}, "[2001:db8:ffff:ffff:ffff:"
	    "ffff:ffff:fffe]:443", FL(TIMEOUT));
	ctl(f, conn(TK(TCP), 9, FL(NONE), "[2001:db8::1]:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, "connect: timeout; control "
	    "works; system resolver's 2a02:6b8:ffff:ffff:ffff:ffff:ffff:fffe");
	assert_int_equal(strlen(r.reason), VERDICT_REASON_MAX - 1);
	reset(f);

	f->m = mk(TK(TLS), NAME ":443", 1, FL(NXDOMAIN));
	resolved(f->m, NULL, FL(NXDOMAIN), DOH_REAL, "93.184.216.34:443",
	    FL(RESET));
	ctl(f, conn(TK(TLS), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->o);
	if (r.method == METHOD_DNS || strstr(r.reason, "DoH address "
	    "93.184.216.34:443 fails too (reset)") == NULL)
		fail_msg("got %s/%s (%s)", verdict_name(r.verdict),
		    method_name(r.method) ? method_name(r.method) : "-",
		    r.reason);
	reset(f);
}

/* A TLS handshake with a valid certificate at the system's address
 * proves it, whatever its network; an HTTP fetch of a page from a forged
 * address is DNS blocking. */
static void
t_tls_http(void **state)
{
	struct fx *f = *state;
	struct verdict_res r;

	f->m = conn(TK(TLS), 1, FL(NONE), "151.101.1.1:443");
	f->m->outcome->tls->has_cert_valid = 1;
	f->m->outcome->tls->cert_valid = 1;
	resolved(f->m, (const char *const[]){"151.101.1.1", NULL}, FL(NONE),
	    DOH_REAL, "93.184.216.34:443", FL(NONE));
	ctl(f, conn(TK(TLS), 9, FL(NONE), "93.184.216.34:443"));
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_OK, METHOD_NONE, "succeeded");
	/* the same handshake without a valid certificate is a forgery */
	f->m->outcome->tls->cert_valid = 0;
	f->m->outcome->failure = FL(CERT_INVALID);
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "matches neither DoH nor "
	    "control (cert_invalid there)");
	reset(f);

	f->m = conn(TK(HTTP), 1, FL(NONE), "5.3.3.3:80");
	mk_http(f->m, "http://" NAME "/", 200, 900, "Access denied", NULL,
	    "<html>denied</html>");
	resolved(f->m, SYS_FORGED, FL(NONE), DOH_REAL, "93.184.216.34:80",
	    FL(NONE));
	ctl(f, conn(TK(HTTP), 9, FL(NONE), "93.184.216.34:80"));
	mk_http(f->c[0], "http://" NAME "/", 200, 30000, "Site", NULL,
	    "<html>site</html>");
	r = judge(f, &f->o);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, "DoH address 93.184.216.34:80 "
	    "works");
	reset(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cdn_valid_cert),
		cmocka_unit_test(t_same_asn),
		cmocka_unit_test(t_forged_cert_invalid),
		cmocka_unit_test(t_no_table_cdn),
		cmocka_unit_test(t_tcp_forged_connected),
		cmocka_unit_test(t_nxdomain_doh_works),
		cmocka_unit_test(t_both_fail),
		cmocka_unit_test(t_tls_http),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
