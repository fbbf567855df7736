/*
 * test_probe_http — probe_http against a real plain-TCP HTTP server on
 * 127.0.0.1 that serves a normal page, the Russian blockpage text, the
 * lab's blockpage, a redirect to warning.rt.ru, a redirect chain, a
 * redirect loop, a large body, a reset, a clean close and silence.
 * warning.rt.ru is never contacted: the chain stops at the fingerprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"
#include "probe.h"
#include "servers.h"

static struct srv *http;
static struct fpdb *fp;
static const char *srcdir;

static Zond__V1__Outcome *
get(const char *path, int64_t tmo, int64_t cap)
{
	probe_env_t env = {.timeout_ms = tmo, .fp = fp, .body_cap = cap};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_HTTP,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char url[128];
	zdiag_t d = {""};

	/* a name that only the pinned address makes reachable */
	snprintf(url, sizeof(url), "http://site.test:%d%s", srv_port(http),
	    path);
	req.target = url;
	if (probe_http(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_http %s: %s", path, d.text);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_HTTP);
	assert_string_equal(o->http->url, url);
	return o;
}

static bool
has_header(const Zond__V1__HttpOutcome *h, const char *line)
{
	size_t i;

	for (i = 0; i < h->n_headers; i++)
		if (strcmp(h->headers[i], line) == 0)
			return true;
	return false;
}

static void
t_ok(void **state)
{
	static const char page[] = "<html><head><title>Zond test page"
	    "</title></head><body>hello</body></html>";
	unsigned char md[32];
	Zond__V1__Outcome *o = get("/ok", 2000, 0);
	char addr[64];

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_int_equal(o->http->n_redirects, 0);
	assert_string_equal(o->http->title, "Zond test page");
	assert_int_equal(o->http->body_length, sizeof(page) - 1);
	assert_int_equal(o->http->body_head.len, sizeof(page) - 1);
	assert_memory_equal(o->http->body_head.data, page, sizeof(page) - 1);
	crypto_hash_sha256(md, (const unsigned char *)page, sizeof(page) - 1);
	assert_int_equal(o->http->body_sha256.len, 32);
	assert_memory_equal(o->http->body_sha256.data, md, 32);
	assert_true(has_header(o->http, "Server: zond-test"));
	assert_true(has_header(o->http, "Content-Type: text/html; "
	    "charset=utf-8"));
	assert_null(o->http->blockpage);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv_port(http));
	assert_string_equal(o->http->addr, addr);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_blockpage(void **state)
{
	Zond__V1__Outcome *o = get("/block", 2000, 0);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BLOCKPAGE);
	assert_int_equal(o->http->status, 200);
	assert_string_equal(o->http->blockpage, "nat_ru_rkn_law_text");
	assert_string_equal(o->http->title, "Доступ ограничен");
	zond__v1__outcome__free_unpacked(o, NULL);

	/* blockpage then reset: the page is named, the reset kept */
	o = get("/blockreset", 2000, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BLOCKPAGE);
	assert_int_equal(o->http->status, 200);
	assert_string_equal(o->http->blockpage, "nat_ru_rkn_law_text");
	assert_non_null(strstr(o->detail, "reset by peer"));
	zond__v1__outcome__free_unpacked(o, NULL);

	o = get("/lab", 2000, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BLOCKPAGE);
	assert_string_equal(o->http->blockpage, "zond_lab_blockpage");
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_redirect_blockpage(void **state)
{
	Zond__V1__Outcome *o = get("/redirect", 2000, 0);

	(void)state;
	assert_int_equal(o->failure,
	    ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT);
	assert_int_equal(o->http->status, 302);
	assert_int_equal(o->http->n_redirects, 1);
	assert_string_equal(o->http->redirects[0],
	    "http://warning.rt.ru/?id=1");
	assert_string_equal(o->http->blockpage, "isp_ru_rostelecom_location");
	assert_true(has_header(o->http, "Location: http://warning.rt.ru/"
	    "?id=1"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* A redirect matching a prov fingerprint (the site's own geoblock) is
 * named but is no failure: the chain goes on to the site's page, and the
 * aggregator makes it geoblocked (docs/METHODOLOGY.md §2.1). */
static void
t_redirect_prov(void **state)
{
	Zond__V1__Outcome *o = get("/geo", 2000, 0);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_int_equal(o->http->n_redirects, 1);
	assert_string_equal(o->http->redirects[0], "/blank.php?rkn=7");
	assert_string_equal(o->http->blockpage, "prov_ru_vk_rkn_geoblock");
	assert_string_equal(o->http->title, "Zond test page");
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_redirect_chain(void **state)
{
	Zond__V1__Outcome *o = get("/hop", 2000, 0);
	int before;

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_int_equal(o->http->n_redirects, 2);
	assert_string_equal(o->http->redirects[0], "/hop2");
	assert_string_equal(o->http->redirects[1], "/ok");
	assert_string_equal(o->http->title, "Zond test page");
	/* headers are the final response's, not the redirects' */
	assert_false(has_header(o->http, "Location: /ok"));
	zond__v1__outcome__free_unpacked(o, NULL);

	before = srv_count(http);
	o = get("/loop", 2000, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_HTTP_ERROR);
	assert_int_equal(o->http->n_redirects, 10);
	assert_int_equal(srv_count(http) - before, 11);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_body_cap(void **state)
{
	Zond__V1__Outcome *o = get("/big", 2000, 4096);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_int_equal(o->http->body_length, 4096);
	assert_int_equal(o->http->body_head.len, 512);
	assert_non_null(strstr(o->detail, "body cut at 4096"));
	zond__v1__outcome__free_unpacked(o, NULL);

	o = get("/big", 2000, 0);	/* default cap: 1 MiB */
	assert_int_equal(o->http->body_length, 100000);
	assert_null(o->detail);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_reset_eof_timeout(void **state)
{
	Zond__V1__Outcome *o = get("/reset", 2000, 0);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_false(o->http->has_status);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = get("/eof", 2000, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_EOF);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = get("/silent", 1000, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_false(o->http->has_status);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_refused_and_bad(void **state)
{
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_HTTP,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char url[128];
	zdiag_t d;

	(void)state;
	snprintf(url, sizeof(url), "http://site.test:%d/", srv_closed_port());
	req.target = url;
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_REFUSED);
	zond__v1__outcome__free_unpacked(o, NULL);

	req.target = "ftp://site.test/";
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

static int
setup(void **state)
{
	char path[1024];
	zdiag_t d;

	(void)state;
	snprintf(path, sizeof(path), "%s/ops/fingerprints/"
	    "fingerprints_http.csv", srcdir);
	if (fpdb_load(path, &fp, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		return -1;
	}
	if ((http = srv_http()) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	srv_stop(&http);
	fpdb_free(&fp);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ok),
		cmocka_unit_test(t_blockpage),
		cmocka_unit_test(t_redirect_blockpage),
		cmocka_unit_test(t_redirect_prov),
		cmocka_unit_test(t_redirect_chain),
		cmocka_unit_test(t_body_cap),
		cmocka_unit_test(t_reset_eof_timeout),
		cmocka_unit_test(t_refused_and_bad),
	};
	int r;

	srcdir = argc > 1 ? argv[1] : "../..";
	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
