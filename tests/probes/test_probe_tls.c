/*
 * test_probe_tls — probe_tls, probe_doh and HTTPS probe_http against a
 * real OpenSSL server on 127.0.0.1 with a CA made at test time.  The
 * server picks its behaviour from the SNI: normal handshake, TCP reset
 * right after the ClientHello, clean close, silence, or a certificate
 * for another name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "servers.h"

static struct srv *tls;
static int port;

static Zond__V1__Outcome *
run_tls(const char *sni, const char *control, int64_t tmo, bool ca)
{
	probe_env_t env = {.timeout_ms = tmo,
	    .ca_file = ca ? srv_ca_file(tls) : NULL};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .target = "ok.test", .ip = "127.0.0.1", .port = port, .sni = sni,
	    .control_sni = control};
	Zond__V1__Outcome *o = NULL;
	char want[64];
	zdiag_t d = {""};

	if (probe_tls(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_tls %s: %s", sni, d.text);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_TLS);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	assert_string_equal(o->tls->addr, want);
	assert_string_equal(o->tls->sni, sni);
	return o;
}

static void
t_ok(void **state)
{
	Zond__V1__Outcome *o = run_tls("ok.test", "control.test", 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_handshake_us);
	assert_true(o->tls->handshake_us > 0);
	assert_true(o->tls->has_cert_valid);
	assert_true(o->tls->cert_valid);
	assert_non_null(o->tls->tls_version);
	assert_string_equal(o->tls->tls_version, "TLSv1.3");
	assert_null(o->tls->error_stage);
	assert_string_equal(o->tls->control_sni, "control.test");
	assert_true(o->tls->has_control_failure);
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_control_handshake_us);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* The real and the control SNI go first at random: over 64 runs both
 * orders occur, and each run records its own. */
static void
t_order_drawn(void **state)
{
	int first = 0, runs = 64;

	(void)state;
	for (int i = 0; i < runs; i++) {
		Zond__V1__Outcome *o = run_tls("ok.test", "control.test", 2000,
		    true);

		assert_true(o->tls->has_control_first);
		first += o->tls->control_first;
		assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
	assert_true(first > 0 && first < runs);
}

static void
t_reset_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("blocked.test", "control.test", 2000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_false(o->tls->has_handshake_us);
	assert_false(o->tls->has_cert_valid);
	/* the control SNI to the same address works: SNI filtering */
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_control_handshake_us);
	assert_non_null(strstr(o->detail, "blocked.test"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_eof_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("eof.test", NULL, 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_EOF);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_null(o->tls->control_sni);
	assert_false(o->tls->has_control_failure);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_timeout_after_client_hello(void **state)
{
	Zond__V1__Outcome *o = run_tls("slow.test", "control.test", 1000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* The server answers the ClientHello with an alert: stage "alert",
 * which the aggregator reads as the site's own refusal (geoblocked),
 * unlike the censor's reset or silence at "client_hello". */
static void
t_server_alert(void **state)
{
	Zond__V1__Outcome *o = run_tls("refuse.test", "control.test", 2000,
	    true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TLS_ERROR);
	assert_string_equal(o->tls->error_stage, "alert");
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_non_null(strstr(o->detail, "alert"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_cert_other_name(void **state)
{
	Zond__V1__Outcome *o = run_tls("wrong.test", NULL, 2000, true);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	assert_true(o->tls->has_cert_valid);
	assert_false(o->tls->cert_valid);
	assert_string_equal(o->tls->error_stage, "handshake");
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_cert_unknown_ca(void **state)
{
	/* without the test CA the system store cannot vouch for it */
	Zond__V1__Outcome *o = run_tls("ok.test", NULL, 2000, false);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	assert_false(o->tls->cert_valid);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_refused_and_defaults(void **state)
{
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls)};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char target[64];
	zdiag_t d;
	int closed = srv_closed_port();

	(void)state;
	/* SNI defaults to the host of the target, port comes from it */
	snprintf(target, sizeof(target), "ok.test:%d", port);
	req.target = target;
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->tls->sni, "ok.test");
	zond__v1__outcome__free_unpacked(o, NULL);

	/* nothing listening: refused at the connect stage */
	snprintf(target, sizeof(target), "ok.test:%d", closed);
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_REFUSED);
	assert_string_equal(o->tls->error_stage, "connect");
	zond__v1__outcome__free_unpacked(o, NULL);

	req.target = NULL;
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

static Zond__V1__Outcome *
run_doh(const char *host, const char *name)
{
	char url[128];
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls),
	    .doh_url = url};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_DOH,
	    .target = name, .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d = {""};

	snprintf(url, sizeof(url), "https://%s:%d/dns-query", host, port);
	if (probe_doh(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_doh %s: %s", name, d.text);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_DNS);
	assert_string_equal(o->dns->query, name);
	assert_string_equal(o->dns->qtype, "A");
	return o;
}

static void
t_doh(void **state)
{
	Zond__V1__Outcome *o;
	char from[64];

	(void)state;
	snprintf(from, sizeof(from), "127.0.0.1:%d", port);
	o = run_doh("doh.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->dns->n_responses, 1);
	assert_int_equal(o->dns->responses[0]->rcode, 0);
	assert_int_equal(o->dns->responses[0]->n_answers, 1);
	assert_string_equal(o->dns->responses[0]->answers[0]->type, "A");
	assert_string_equal(o->dns->responses[0]->answers[0]->data,
	    "192.0.2.10");
	assert_string_equal(o->dns->responses[0]->from, from);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("doh.test", "nx.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NXDOMAIN);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("doh.test", "bogon.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BOGON);
	zond__v1__outcome__free_unpacked(o, NULL);

	/* DoH reset after ClientHello, as reported from Russia since 2023 */
	o = run_doh("blocked.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_int_equal(o->dns->n_responses, 0);
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run_doh("wrong.test", "normal.test");
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_CERT_INVALID);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_https_get(void **state)
{
	probe_env_t env = {.timeout_ms = 2000, .ca_file = srv_ca_file(tls)};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_HTTP,
	    .ip = "127.0.0.1"};
	Zond__V1__Outcome *o = NULL;
	char url[128], addr[64];
	zdiag_t d;

	(void)state;
	snprintf(url, sizeof(url), "https://ok.test:%d/", port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	req.target = url;
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_string_equal(o->http->title, "Zond test page");
	assert_string_equal(o->http->addr, addr);
	zond__v1__outcome__free_unpacked(o, NULL);

	snprintf(url, sizeof(url), "https://blocked.test:%d/", port);
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_false(o->http->has_status);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static int
setup(void **state)
{
	(void)state;
	if ((tls = srv_tls()) == NULL)
		return -1;
	port = srv_port(tls);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	srv_stop(&tls);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ok),
		cmocka_unit_test(t_order_drawn),
		cmocka_unit_test(t_reset_after_client_hello),
		cmocka_unit_test(t_eof_after_client_hello),
		cmocka_unit_test(t_timeout_after_client_hello),
		cmocka_unit_test(t_server_alert),
		cmocka_unit_test(t_cert_other_name),
		cmocka_unit_test(t_cert_unknown_ca),
		cmocka_unit_test(t_refused_and_defaults),
		cmocka_unit_test(t_doh),
		cmocka_unit_test(t_https_get),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
