/*
 * test_probe_v6 — the same probes over IPv6 loopback ([::1]): address
 * parsing and printing with brackets, CURLOPT_RESOLVE entries for a v6
 * address, DNS from a v6 resolver.  Skipped (exit 77) when this host has
 * no ::1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"
#include "servers.h"

static void
t_dns6(void **state)
{
	struct srv *s = srv_dns6();
	char resolver[64];
	probe_env_t env = {.timeout_ms = 2000, .resolver = resolver,
	    .dns_window_ms = 100};
	probe_req_t req = {.target = "normal.test"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_non_null(s);
	snprintf(resolver, sizeof(resolver), "[::1]:%d", srv_port(s));
	assert_int_equal(probe_dns(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->dns->n_responses, 1);
	assert_string_equal(o->dns->responses[0]->from, resolver);
	assert_string_equal(o->dns->responses[0]->answers[0]->data,
	    "192.0.2.10");
	zond__v1__outcome__free_unpacked(o, NULL);
	srv_stop(&s);
}

static void
t_tcp_http6(void **state)
{
	struct srv *s = srv_http6();
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.ip = "::1"};
	Zond__V1__Outcome *o = NULL;
	char want[64], url[128];
	zdiag_t d;

	(void)state;
	assert_non_null(s);
	snprintf(want, sizeof(want), "[::1]:%d", srv_port(s));
	req.target = "example.test";
	req.port = srv_port(s);
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->tcp->addr, want);
	zond__v1__outcome__free_unpacked(o, NULL);

	snprintf(url, sizeof(url), "http://site.test:%d/ok", srv_port(s));
	req.target = url;
	req.port = 0;
	assert_int_equal(probe_http(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->http->status, 200);
	assert_string_equal(o->http->addr, want);
	zond__v1__outcome__free_unpacked(o, NULL);
	srv_stop(&s);
}

static void
t_tls6(void **state)
{
	struct srv *s = srv_tls6();
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.ip = "::1", .target = "ok.test",
	    .control_sni = "control.test"};
	Zond__V1__Outcome *o = NULL;
	char want[64];
	zdiag_t d;

	(void)state;
	assert_non_null(s);
	env.ca_file = srv_ca_file(s);
	req.port = srv_port(s);
	snprintf(want, sizeof(want), "[::1]:%d", srv_port(s));
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->tls->addr, want);
	assert_true(o->tls->cert_valid);
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);

	req.sni = "blocked.test";
	assert_int_equal(probe_tls(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_RESET);
	assert_string_equal(o->tls->error_stage, "client_hello");
	zond__v1__outcome__free_unpacked(o, NULL);
	srv_stop(&s);
}

static bool
have_v6_loopback(void)
{
	struct sockaddr_in6 a;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dns6),
		cmocka_unit_test(t_tcp_http6),
		cmocka_unit_test(t_tls6),
	};
	int r;

	if (!have_v6_loopback()) {
		printf("NOTE: no ::1 on this host; IPv6 probe cases NOT run\n");
		return 77;
	}
	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
