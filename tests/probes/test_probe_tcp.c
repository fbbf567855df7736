/*
 * test_probe_tcp — probe_tcp against real loopback sockets: a listener
 * that accepts, a closed port (RST: refused), and a listener whose
 * accept queue is full so SYNs go unanswered (timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "servers.h"

#define EXIT_SKIP 77	/* ctest SKIP_RETURN_CODE */

static int skipped;

static void
t_connects(void **state)
{
	struct srv *s = srv_http();
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TCP};
	Zond__V1__Outcome *o = NULL;
	char target[64], want[64];
	zdiag_t d;
	int i;

	(void)state;
	assert_non_null(s);
	snprintf(target, sizeof(target), "127.0.0.1:%d", srv_port(s));
	snprintf(want, sizeof(want), "127.0.0.1:%d", srv_port(s));
	/* target "ip:port", then ip + port, then ip + port from target */
	for (i = 0; i < 3; i++) {
		memset(&req, 0, sizeof(req));
		if (i == 0) {
			req.target = target;
		} else if (i == 1) {
			req.target = "example.test";
			req.ip = "127.0.0.1";
			req.port = srv_port(s);
		} else {
			snprintf(target, sizeof(target), "example.test:%d",
			    srv_port(s));
			req.target = target;
			req.ip = "127.0.0.1";
		}
		if (probe_tcp(&env, &req, &o, &d) != ZE_OK)
			fail_msg("case %d: %s", i, d.text);
		assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_TCP);
		assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
		assert_string_equal(o->tcp->addr, want);
		assert_true(o->tcp->has_connect_us);
		assert_true(o->tcp->connect_us < 2000000);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
	/* the server really saw the connections */
	for (i = 0; i < 50 && srv_count(s) < 3; i++)
		usleep(20000);
	assert_int_equal(srv_count(s), 3);
	srv_stop(&s);
}

static void
t_refused(void **state)
{
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TCP};
	Zond__V1__Outcome *o = NULL;
	char target[64];
	zdiag_t d;
	int port = srv_closed_port();

	(void)state;
	assert_true(port > 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	req.target = target;
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_REFUSED);
	assert_false(o->tcp->has_connect_us);
	assert_string_equal(o->tcp->addr, target);
	assert_non_null(strstr(o->detail, "refused"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_timeout(void **state)
{
	probe_env_t env = {.timeout_ms = 700};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TCP};
	Zond__V1__Outcome *o = NULL;
	char target[64];
	zdiag_t d;
	int fds[3], port, i;

	(void)state;
	port = srv_full_backlog(fds);
	assert_true(port > 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	req.target = target;
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_OK);
	if (o->failure == ZOND__V1__FAILURE__FAIL_NONE) {
		/* the kernel took the SYN after all: no timeout to see */
		printf("NOTE: t_timeout: a full accept queue did not drop the "
		    "SYN here; the timeout case was NOT exercised\n");
		zond__v1__outcome__free_unpacked(o, NULL);
		for (i = 0; i < 3; i++)
			close(fds[i]);
		skipped = 1;
		skip();
	}
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_false(o->tcp->has_connect_us);
	zond__v1__outcome__free_unpacked(o, NULL);
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

static void
t_bad_requests(void **state)
{
	probe_env_t env = {.timeout_ms = 500};
	probe_req_t req = {.target = "example.test"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	/* a name is never resolved; no port is an error */
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_INVAL);
	req.target = "127.0.0.1";
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "no port"));
	req.target = NULL;
	assert_int_equal(probe_tcp(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

/* With "timeout" as argument only the timeout case runs, as a test of
 * its own that ctest reports as skipped (exit 77) when this kernel gives
 * no way to see a timeout on loopback. */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_connects),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_bad_requests),
	};
	const struct CMUnitTest tmo[] = {
		cmocka_unit_test(t_timeout),
	};
	int r;

	if (argc > 1 && strcmp(argv[1], "timeout") == 0) {
		r = cmocka_run_group_tests_name("tcp_timeout", tmo, NULL, NULL);
		return r == 0 && skipped ? EXIT_SKIP : r;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
