/*
 * test_geoblock — fingerprint scopes and geoblocking in the verdict
 * (docs/METHODOLOGY.md §2.2, §6): each false-positive trap as a case,
 * judged with the fingerprint files the project ships
 * (ops/fingerprints/, argv[1] is the source root) or a small database in
 * OONI's published format where a scope has no shipped row.
 *
 *   SkyDNS answer -> filtered; Rostelecom stub -> blocked; VK's rkn
 *   redirect (prov) -> geoblocked; Cloudflare's 403 page -> geoblocked;
 *   451 -> geoblocked; 403 over HTTPS -> geoblocked; a bare 403 over
 *   HTTP that shares nothing -> still blocked; TLS alert -> geoblocked;
 *   TLS reset with the control SNI working -> still blocked/tls; fp rows
 *   ignored; vbw and injb alone confirm nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "mk.h"
#include "verdict.h"

static const char *srcdir;
static struct fpdb *shipped;	/* ops/fingerprints, both files */
static struct fpdb *small;	/* the vbw, injb and fp rows below */

#define MAXC 4

struct fx {
	meas_t *m;
	meas_t *c[MAXC];
	size_t nc;
};

static void
fx_free(struct fx *f)
{
	size_t i;

	mk_free(f->m);
	for (i = 0; i < f->nc; i++)
		mk_free(f->c[i]);
	memset(f, 0, sizeof(*f));
}

static meas_t *
ctl(struct fx *f, meas_t *c)
{
	assert_true(f->nc < MAXC);
	f->c[f->nc++] = c;
	return c;
}

/* Judge f->m against its controls with the database db. */
static struct verdict_res
judge(struct fx *f, const struct fpdb *db)
{
	struct verdict_opts o;
	struct verdict_res r;

	verdict_opts_default(&o);
	o.fp = db;
	assert_int_equal(mk_judge(&o, f->m, (const meas_t *const *)f->c,
	    f->nc, NULL, 0, &r), ZE_OK);
	return r;
}

#define EXPECT(r, v, meth, conf) do { \
	if ((r).verdict != (v) || (r).method != (meth) || \
	    (r).confirmed != (conf)) \
		fail_msg("line %d: got %s/%s%s (%s), want %s/%s%s", __LINE__, \
		    verdict_name((r).verdict), \
		    method_name((r).method) ? method_name((r).method) : "-", \
		    (r).confirmed ? " confirmed" : "", (r).reason, \
		    verdict_name(v), method_name(meth) ? method_name(meth) : \
		    "-", (conf) ? " confirmed" : ""); \
} while (0)

static const char *const A_REAL[] = {"93.184.216.34", NULL};
static const char *const A_SKYDNS[] = {"193.58.251.1", NULL};
static const char *const A_RT_STUB[] = {"95.167.13.50", NULL};
/* a site behind a CDN: its headers on every page it serves */
static const char *const H_CF[] = {"Server: cloudflare", "CF-RAY: 8a1-DME",
    "Content-Type: text/html", NULL};
static const char *const H_CF_CTL[] = {"Server: cloudflare",
    "CF-RAY: 8a2-FRA", "Content-Type: text/html", NULL};
static const char *const H_NGINX[] = {"Server: nginx",
    "Content-Type: text/html", NULL};
static const char *const H_OTHER[] = {"Server: nginx", "X-Isp-Node: 7",
    NULL};

/* ------------------------------------------------------------ dns */

static void
t_dns_scopes(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* SkyDNS (prod): a chosen filter, filtered, decided without
	 * waiting for control */
	f.m = mk(TK(DNS), "lgbt.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_SKYDNS);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_FILTERED, METHOD_DNS, true);
	assert_non_null(strstr(r.reason, "prod_ru_skydns_1 (scope prod)"));
	fx_free(&f);

	/* Rostelecom's stub address (isp): blocked */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_RT_STUB);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, true);
	assert_non_null(strstr(r.reason, "isp_ru_rostelecom_stub_1"));
	fx_free(&f);

	/* a control that resolves through SkyDNS is a censored control:
	 * ignored, so the probe's real answer waits for a real control */
	f.m = mk(TK(DNS), "lgbt.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_REAL);
	mk_dns(ctl(&f, mk(TK(DNS), "lgbt.example", 9, FL(NONE))), 0,
	    A_SKYDNS);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_PENDING, METHOD_DNS, false);
	fx_free(&f);
}

/* ------------------------------------------------------------ http */

/* The probe's page; controls get the site's 200 page (headers hc). */
static void
http_case(struct fx *f, const char *url, unsigned status, uint64_t len,
    const char *title, const char *const *h, const char *body,
    unsigned cstatus, const char *const *hc)
{
	size_t i;

	f->m = mk(TK(HTTP), url, 1, FL(NONE));
	mk_http(f->m, url, status, len, title, h, body);
	for (i = 0; i < 2; i++)
		mk_http(ctl(f, mk(TK(HTTP), url, 9 + (int)i, FL(NONE))), url,
		    cstatus, 48000, "Shop of examples: catalogue", hc,
		    "<html><title>Shop of examples: catalogue</title>");
}

static void
t_http_prov(void **state)
{
	struct fx f = {0};
	struct verdict_res r;
	Zond__V1__HttpOutcome *h;
	const char *cf = "<html><title>Access denied | shop.example used "
	    "Cloudflare to restrict access</title><p>The owner of this "
	    "website (shop.example) has banned the country or region your "
	    "IP address is in (RU) from accessing this website.</p>";

	(void)state;
	/* VK's own redirect of a page withheld in Russia: geoblocked,
	 * confirmed, never blocked */
	f.m = mk(TK(HTTP), "http://vk.com/somepage", 1, FL(NONE));
	mk_http(f.m, "http://vk.com/somepage", 200, 5000, "VK", NULL,
	    "<html>");
	h = f.m->outcome->http;
	h->redirects = calloc(1, sizeof(*h->redirects));
	assert_non_null(h->redirects);
	h->redirects[0] = strdup("https://vk.com/blank.php?rkn=12345");
	assert_non_null(h->redirects[0]);
	h->n_redirects = 1;
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, true);
	assert_non_null(strstr(r.reason, "prov_ru_vk_rkn_geoblock"));
	fx_free(&f);

	/* Cloudflare's country-ban page with 403: geoblocked */
	http_case(&f, "http://shop.example/", 403, 4200, "Access denied",
	    H_CF, cf, 200, H_CF_CTL);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, true);
	assert_non_null(strstr(r.reason, "prov_cloudflare_1009"));
	fx_free(&f);

	/* the agent matched the whole page (its head, all the aggregator
	 * has, does not hold the text): the recorded name decides */
	http_case(&f, "http://shop.example/", 403, 4200, "Access denied",
	    H_NGINX, "<html><head>", 200, H_NGINX);
	f.m->outcome->http->blockpage = strdup("prov_cloudflare_1009");
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, true);
	fx_free(&f);

	/* the same refusal page for the control too: not this country's
	 * refusal, an anomaly */
	http_case(&f, "http://shop.example/", 403, 4200, "Access denied",
	    H_CF, cf, 403, H_CF_CTL);
	mk_free(f.c[0]);
	f.c[0] = mk(TK(HTTP), "http://shop.example/", 9, FL(NONE));
	mk_http(f.c[0], "http://shop.example/", 403, 4200, "Access denied",
	    H_CF_CTL, cf);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_ANOMALY, METHOD_HTTP, false);
	fx_free(&f);

	/* an ISP blockpage fingerprint wins over everything: blocked */
	http_case(&f, "http://shop.example/", 451, 900, "Blocked", H_OTHER,
	    "<h1>Доступ к сайту ограничен в соответствии с Федеральными "
	    "законами</h1>", 200, H_CF_CTL);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP, true);
	fx_free(&f);
}

static void
t_http_status(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* 451 with no fingerprint: the site withholds itself */
	http_case(&f, "http://shop.example/", 451, 700, "Unavailable",
	    H_OTHER, "<h1>Unavailable</h1>", 200, H_NGINX);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, false);
	fx_free(&f);

	/* 403 over HTTPS: only the site's own server could send it */
	http_case(&f, "https://shop.example/", 403, 700, "Forbidden",
	    H_OTHER, "<h1>Forbidden</h1>", 200, H_NGINX);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, false);
	fx_free(&f);

	/* 403 over HTTP from the same CDN (Server cloudflare, cf-ray) */
	http_case(&f, "http://shop.example/", 403, 700, "Forbidden", H_CF,
	    "<h1>Forbidden</h1>", 200, H_CF_CTL);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_HTTP, false);
	fx_free(&f);

	/* 403 over HTTP sharing only a stock Server (nginx) and nothing
	 * else: an ISP's page may look like that, so it stays blocked */
	http_case(&f, "http://shop.example/", 403, 700, "Forbidden",
	    H_NGINX, "<h1>Forbidden</h1>", 200, H_NGINX);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP, false);
	fx_free(&f);

	/* 403 where the controls get 403 too: the same refusal everywhere
	 * is the site's page, ok */
	http_case(&f, "https://shop.example/", 403, 700, "Forbidden",
	    H_OTHER, "<h1>Forbidden</h1>", 403, H_NGINX);
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);

	/* 451 and no control yet: wait */
	f.m = mk(TK(HTTP), "http://shop.example/", 1, FL(NONE));
	mk_http(f.m, "http://shop.example/", 451, 700, "Unavailable",
	    H_OTHER, "<h1>Unavailable</h1>");
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_PENDING, METHOD_HTTP, false);
	fx_free(&f);
}

/* ------------------------------------------------------------ scopes */

static const char SMALL[] =
    "name,scope,other_names,location_found,pattern_type,pattern,"
    "confidence_no_fp,expected_countries,source,exp_url,notes\n"
    "t.vbw,vbw,,body,contains,Access restricted,5,,,,\n"
    "t.injb,injb,,body,contains,/main/fwUpInfoBlock.htm,10,,,,\n"
    "t.fp,fp,,body,contains,Shop of examples,5,,,,\"a site's own text\"\n"
    "t.fp_dns,fp,,dns,full,93.184.216.34,5,,,,\n";

static void
t_weak_scopes(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* a vague word alone: no confirmation, no verdict without
	 * control */
	f.m = mk(TK(HTTP), "http://shop.example/", 1, FL(NONE));
	mk_http(f.m, "http://shop.example/", 200, 900, "Access restricted",
	    H_OTHER, "<h1>Access restricted</h1>");
	r = judge(&f, small);
	EXPECT(r, VERDICT_PENDING, METHOD_HTTP, false);
	fx_free(&f);

	/* a vague word in the site's own page, which the control gets
	 * too: ok */
	http_case(&f, "http://shop.example/", 200, 48000,
	    "Shop of examples: catalogue", H_NGINX,
	    "<p>Access restricted to members</p>", 200, H_NGINX);
	r = judge(&f, small);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);

	/* a benign injection alone: the same */
	http_case(&f, "http://shop.example/", 200, 48000,
	    "Shop of examples: catalogue", H_NGINX,
	    "<a href=/main/fwUpInfoBlock.htm>", 200, H_NGINX);
	r = judge(&f, small);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);

	/* fp rows never match: the control's page (which an fp row
	 * describes) is not a censored control, and the probe's answer
	 * matching an fp address is judged by consistency */
	http_case(&f, "http://shop.example/", 200, 48000,
	    "Shop of examples: catalogue", H_NGINX, "<html>", 200, H_NGINX);
	r = judge(&f, small);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);
	f.m = mk(TK(DNS), "shop.example", 1, FL(NONE));
	mk_dns(f.m, 0, A_REAL);
	mk_dns(ctl(&f, mk(TK(DNS), "shop.example", 9, FL(NONE))), 0, A_REAL);
	r = judge(&f, small);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);
}

/* An agent's blockpage name the aggregator does not know. */
static void
t_agent_names(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* called a blockpage by the agent (as agents before scopes did):
	 * blocked */
	f.m = mk(TK(HTTP), "http://news.example/", 1, FL(BLOCKPAGE));
	mk_http(f.m, "http://news.example/", 200, 900, "x", NULL, "<p>");
	f.m->outcome->http->blockpage = strdup("their_own_row");
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP, true);
	fx_free(&f);

	/* named without a failure (a scope that blocks nothing on the
	 * agent's side): the name decides nothing */
	http_case(&f, "http://shop.example/", 200, 48000,
	    "Shop of examples: catalogue", H_NGINX, "<html>", 200, H_NGINX);
	f.m->outcome->http->blockpage = strdup("their_vague_row");
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_OK, METHOD_NONE, false);
	fx_free(&f);
}

/* ------------------------------------------------------------ tls */

static void
tls_case(struct fx *f, Zond__V1__Failure pf, const char *stage,
    Zond__V1__Failure csni, Zond__V1__Failure cf)
{
	size_t i;

	f->m = mk(TK(TLS), "shop.example:443", 1, pf);
	mk_tls(f->m, stage, "example.org", csni);
	for (i = 0; i < 2; i++)
		mk_tls(ctl(f, mk(TK(TLS), "shop.example:443", 9 + (int)i, cf)),
		    cf == FL(NONE) ? NULL : "handshake", NULL, FL(NONE));
}

static void
t_tls(void **state)
{
	struct fx f = {0};
	struct verdict_res r;

	(void)state;
	/* the server's alert, controls complete: geoblocked */
	tls_case(&f, FL(TLS_ERROR), "alert", FL(TLS_ERROR), FL(NONE));
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_TLS, false);
	fx_free(&f);

	/* an alert for the real name only (control SNI works): still the
	 * server's refusal, never SNI blocking */
	tls_case(&f, FL(TLS_ERROR), "alert", FL(NONE), FL(NONE));
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_GEOBLOCKED, METHOD_TLS, false);
	fx_free(&f);

	/* an alert while the controls fail too: down */
	tls_case(&f, FL(TLS_ERROR), "alert", FL(TLS_ERROR), FL(TLS_ERROR));
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_DOWN, METHOD_NONE, false);
	fx_free(&f);

	/* the TSPU signature, control SNI working: still blocked/tls */
	tls_case(&f, FL(RESET), "client_hello", FL(NONE), FL(NONE));
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS, false);
	fx_free(&f);

	/* another handshake error (no alert recorded) with the control SNI
	 * working: blocked/tls as before */
	tls_case(&f, FL(TLS_ERROR), "handshake", FL(NONE), FL(NONE));
	r = judge(&f, shipped);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS, false);
	fx_free(&f);
}

/* ------------------------------------------------------------ domestic */

/* Judge f->m with its controls and domestic controls d[0..nd), each
 * marked healthy or not as healthy[] says. */
static struct verdict_res
judge_dom(struct fx *f, meas_t *const *d, const bool *healthy, size_t nd)
{
	struct verdict_ctl *pc[MAXC], *pd[MAXC];
	struct verdict_opts o;
	struct verdict_in in;
	struct verdict_res r;
	size_t i;

	verdict_opts_default(&o);
	o.fp = shipped;
	assert_true(nd <= MAXC);
	for (i = 0; i < f->nc; i++)
		assert_int_equal(verdict_ctl_new(&o, f->c[i], &pc[i]), ZE_OK);
	for (i = 0; i < nd; i++) {
		assert_int_equal(verdict_ctl_new(&o, d[i], &pd[i]), ZE_OK);
		verdict_ctl_set_healthy(pd[i], healthy[i]);
	}
	memset(&in, 0, sizeof(in));
	in.m = f->m;
	in.control = (const struct verdict_ctl *const *)pc;
	in.ncontrol = f->nc;
	in.domestic = (const struct verdict_ctl *const *)pd;
	in.ndomestic = nd;
	assert_int_equal(verdict_judge(&o, &in, &r), ZE_OK);
	for (i = 0; i < f->nc; i++)
		verdict_ctl_free(&pc[i]);
	for (i = 0; i < nd; i++)
		verdict_ctl_free(&pd[i]);
	return r;
}

#define REVIEW(r) do { \
	EXPECT(r, VERDICT_REVIEW, (r).method, false); \
	if ((r).method == METHOD_NONE) \
		fail_msg("line %d: review without its method", __LINE__); \
	if (strncmp((r).reason, "review:", 7) != 0) \
		fail_msg("line %d: reason '%s'", __LINE__, (r).reason); \
} while (0)

static void
t_domestic(void **state)
{
	struct fx f = {0};
	struct verdict_res r;
	meas_t *d[2];
	bool yes[2] = {true, true}, no[2] = {false, false};

	(void)state;
	/* TCP reset here, controls abroad connect, a healthy domestic
	 * control gets a reset too: flagged for review */
	f.m = mk(TK(TCP), "203.0.113.9:443", 1, FL(RESET));
	ctl(&f, mk(TK(TCP), "203.0.113.9:443", 9, FL(NONE)));
	d[0] = mk(TK(TCP), "203.0.113.9:443", 20, FL(RESET));
	r = judge_dom(&f, d, yes, 1);
	REVIEW(r);
	assert_int_equal(r.method, METHOD_TCP);
	/* the same domestic control not known to be healthy: blocked */
	r = judge_dom(&f, d, no, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, false);
	mk_free(d[0]);
	/* a domestic control that connects: blocked (this network only) */
	d[0] = mk(TK(TCP), "203.0.113.9:443", 20, FL(NONE));
	r = judge_dom(&f, d, yes, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, false);
	mk_free(d[0]);
	/* a domestic control of another target says nothing */
	d[0] = mk(TK(TCP), "203.0.113.10:443", 20, FL(RESET));
	r = judge_dom(&f, d, yes, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TCP, false);
	mk_free(d[0]);
	fx_free(&f);

	/* TLS reset with no control SNI on the probe; the domestic
	 * control's own control SNI worked (healthy by itself) and its
	 * real SNI was reset: review */
	f.m = mk(TK(TLS), "shop.example:443", 1, FL(RESET));
	mk_tls(f.m, "client_hello", NULL, FL(NONE));
	mk_tls(ctl(&f, mk(TK(TLS), "shop.example:443", 9, FL(NONE))), NULL,
	    NULL, FL(NONE));
	d[0] = mk(TK(TLS), "shop.example:443", 20, FL(RESET));
	mk_tls(d[0], "client_hello", "example.org", FL(NONE));
	r = judge_dom(&f, d, no, 1);
	REVIEW(r);
	fx_free(&f);
	/* the probe's control SNI worked: SNI evidence, still blocked/tls */
	f.m = mk(TK(TLS), "shop.example:443", 1, FL(RESET));
	mk_tls(f.m, "client_hello", "example.org", FL(NONE));
	mk_tls(ctl(&f, mk(TK(TLS), "shop.example:443", 9, FL(NONE))), NULL,
	    NULL, FL(NONE));
	r = judge_dom(&f, d, yes, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_TLS, false);
	mk_free(d[0]);
	fx_free(&f);

	/* DNS blocking is never the site's doing: still blocked */
	f.m = mk(TK(DNS), "news.example", 1, FL(NONE));
	mk_dns(f.m, 3, NULL);
	mk_dns(ctl(&f, mk(TK(DNS), "news.example", 9, FL(NONE))), 0, A_REAL);
	d[0] = mk(TK(DNS), "news.example", 20, FL(NXDOMAIN));
	mk_dns(d[0], 3, NULL);
	r = judge_dom(&f, d, yes, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_DNS, false);
	mk_free(d[0]);
	fx_free(&f);

	/* a confirmed blockpage stays blocked whatever the domestic
	 * control saw */
	http_case(&f, "http://news.example/", 200, 900, "x", H_OTHER,
	    "<p>Доступ к сайту ограничен в соответствии с Федеральными "
	    "законами</p>", 200, H_NGINX);
	d[0] = mk(TK(HTTP), "http://news.example/", 20, FL(RESET));
	mk_http(d[0], "http://news.example/", 0, 0, NULL, NULL, NULL);
	r = judge_dom(&f, d, yes, 1);
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP, true);
	mk_free(d[0]);
	fx_free(&f);

	/* a page that differs from the one abroad, and the healthy
	 * domestic control gets the same page (status, about the length):
	 * the site's page for the country, review */
	http_case(&f, "http://shop.example/", 200, 900, "Unavailable here",
	    H_OTHER, "<p>Not available in your region</p>", 200, H_NGINX);
	d[0] = mk(TK(HTTP), "http://shop.example/", 20, FL(NONE));
	mk_http(d[0], "http://shop.example/", 200, 880, "Unavailable here",
	    H_OTHER, "<p>Not available in your region</p>");
	d[1] = mk(TK(HTTP), "http://shop.example/", 21, FL(NONE));
	mk_http(d[1], "http://shop.example/", 200, 48000, "Shop of examples",
	    H_NGINX, "<html>");
	r = judge_dom(&f, d + 1, yes, 1);	/* it gets the real page */
	EXPECT(r, VERDICT_BLOCKED, METHOD_HTTP, false);
	r = judge_dom(&f, d, yes, 2);
	REVIEW(r);
	mk_free(d[0]);
	mk_free(d[1]);
	fx_free(&f);
}

static int
setup(void **state)
{
	char path[2048];
	zdiag_t d = {""};

	(void)state;
	snprintf(path, sizeof(path), "%s/ops/fingerprints/"
	    "fingerprints_http.csv,%s/ops/fingerprints/fingerprints_dns.csv",
	    srcdir, srcdir);
	if (fpdb_load(path, &shipped, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		return -1;
	}
	if (fpdb_parse("small.csv", SMALL, sizeof(SMALL) - 1, &small, &d) !=
	    ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fpdb_free(&shipped);
	fpdb_free(&small);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dns_scopes),
		cmocka_unit_test(t_http_prov),
		cmocka_unit_test(t_http_status),
		cmocka_unit_test(t_weak_scopes),
		cmocka_unit_test(t_agent_names),
		cmocka_unit_test(t_tls),
		cmocka_unit_test(t_domestic),
	};

	srcdir = argc > 1 ? argv[1] : ".";
	return cmocka_run_group_tests(tests, setup, teardown);
}
