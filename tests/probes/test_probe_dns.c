/*
 * test_probe_dns — probe_dns against a real UDP DNS server on 127.0.0.1
 * (servers.c) that answers normally, injects a first answer, answers
 * NXDOMAIN/SERVFAIL/REFUSED, stays silent, or sends garbage first.
 * Every case asserts the recorded failure kind and the fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"
#include "probe.h"
#include "probe_util.h"
#include "servers.h"

static struct srv *dns;
static char resolver[64];

static Zond__V1__Outcome *
run(const char *name, const char *variant, const struct fpdb *fp,
    int64_t window)
{
	probe_env_t env = {.timeout_ms = 2000, .resolver = resolver,
	    .dns_window_ms = window, .fp = fp};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_DNS,
	    .target = name, .variant = variant};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d = {""};

	if (probe_dns(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_dns %s: %s", name, d.text);
	assert_non_null(o);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_DNS);
	assert_string_equal(o->dns->query, name);
	assert_int_equal(o->dns->window_ms, (uint32_t)window);
	return o;
}

static void
assert_answer(const Zond__V1__DnsResponse *r, const char *type,
    const char *data)
{
	assert_int_equal(r->n_answers, 1);
	assert_string_equal(r->answers[0]->type, type);
	assert_string_equal(r->answers[0]->data, data);
	assert_true(r->answers[0]->has_ttl);
	assert_int_equal(r->answers[0]->ttl, 300);
	assert_string_equal(r->from, resolver);
	assert_true(r->has_arrival_us);
}

static void
t_normal(void **state)
{
	Zond__V1__Outcome *o = run("normal.test", NULL, NULL, 300);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->dns->qtype, "A");
	assert_int_equal(o->dns->n_responses, 1);
	assert_int_equal(o->dns->responses[0]->rcode, 0);
	assert_answer(o->dns->responses[0], "A", "192.0.2.10");
	zond__v1__outcome__free_unpacked(o, NULL);

	o = run("normal.test", "AAAA", NULL, 300);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->dns->qtype, "AAAA");
	assert_int_equal(o->dns->n_responses, 1);
	assert_answer(o->dns->responses[0], "AAAA", "2001:db8::10");
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_injected(void **state)
{
	struct fpdb *fp = NULL;
	zdiag_t d;
	static const char csv[] = "name,scope,location_found,pattern_type,"
	    "pattern,confidence_no_fp,expected_countries\n"
	    "inj,nat,dns,full,10.10.34.34,90,IR\n";
	Zond__V1__Outcome *o;
	const Zond__V1__DnsResponse *a, *b;

	(void)state;
	assert_int_equal(fpdb_parse("t.csv", csv, sizeof(csv) - 1, &fp, &d),
	    ZE_OK);
	o = run("inject.test", NULL, fp, 1000);
	assert_int_equal(o->failure,
	    ZOND__V1__FAILURE__FAIL_MULTIPLE_RESPONSES);
	assert_int_equal(o->dns->n_responses, 2);
	a = o->dns->responses[0];
	b = o->dns->responses[1];
	assert_answer(a, "A", "10.10.34.34");
	assert_answer(b, "A", "192.0.2.11");
	/* the real one came about 50 ms after the injected one */
	assert_true(b->arrival_us >= a->arrival_us + 40000);
	assert_non_null(strstr(o->detail, "bogon answer 10.10.34.34"));
	assert_non_null(strstr(o->detail, "matches fingerprint inj"));
	zond__v1__outcome__free_unpacked(o, NULL);

	/* with no window only the injected answer is seen: a bogon */
	o = run("inject.test", NULL, NULL, 0);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BOGON);
	assert_int_equal(o->dns->n_responses, 1);
	assert_answer(o->dns->responses[0], "A", "10.10.34.34");
	zond__v1__outcome__free_unpacked(o, NULL);
	fpdb_free(&fp);
}

static void
t_identical_twice(void **state)
{
	Zond__V1__Outcome *o = run("same2.test", NULL, NULL, 1000);

	(void)state;
	/* two responses, same answers: recorded, not "multiple" */
	assert_int_equal(o->dns->n_responses, 2);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_rcodes(void **state)
{
	static const struct {
		const char *name;
		Zond__V1__Failure f;
		uint32_t rcode;
	} c[] = {
		{"nx.test", ZOND__V1__FAILURE__FAIL_NXDOMAIN, 3},
		{"servfail.test", ZOND__V1__FAILURE__FAIL_SERVFAIL, 2},
		{"refused.test", ZOND__V1__FAILURE__FAIL_DNS_REFUSED, 5},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		Zond__V1__Outcome *o = run(c[i].name, NULL, NULL, 100);
		assert_int_equal(o->failure, c[i].f);
		assert_int_equal(o->dns->n_responses, 1);
		assert_int_equal(o->dns->responses[0]->rcode, c[i].rcode);
		assert_int_equal(o->dns->responses[0]->n_answers, 0);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

static void
t_bogon(void **state)
{
	Zond__V1__Outcome *o = run("bogon.test", NULL, NULL, 100);

	(void)state;
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_BOGON);
	assert_answer(o->dns->responses[0], "A", "10.1.2.3");
	assert_non_null(strstr(o->detail, "10.1.2.3"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_silent(void **state)
{
	probe_env_t env = {.timeout_ms = 500, .resolver = resolver,
	    .dns_window_ms = 300};
	probe_req_t req = {.target = "silent.test"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(probe_dns(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_int_equal(o->dns->n_responses, 0);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_garbage(void **state)
{
	Zond__V1__Outcome *o = run("garbage.test", NULL, NULL, 300);

	(void)state;
	/* the junk and the wrong-id answer are counted, not recorded */
	assert_int_equal(o->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->dns->n_responses, 1);
	assert_answer(o->dns->responses[0], "A", "192.0.2.13");
	assert_non_null(o->detail);
	assert_non_null(strstr(o->detail, "2 datagrams ignored"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_bad_requests(void **state)
{
	probe_env_t env = {.timeout_ms = 500, .resolver = resolver};
	probe_req_t req = {.target = "normal.test", .variant = "MX"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(probe_dns(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
	req.variant = NULL;
	req.target = NULL;
	assert_int_equal(probe_dns(&env, &req, &o, &d), ZE_INVAL);
	req.target = "normal.test";
	env.resolver = "not-an-ip";
	assert_int_equal(probe_dns(&env, &req, &o, &d), ZE_INVAL);
	assert_null(o);
}

static void
t_bogon_ranges(void **state)
{
	static const char *yes[] = {"0.1.2.3", "10.0.0.1", "100.64.0.1",
	    "100.127.255.255", "127.0.0.1", "169.254.1.1", "172.16.0.1",
	    "172.31.255.255", "192.168.1.1", "198.18.0.1", "198.19.255.255",
	    "224.0.0.1", "239.1.1.1", "240.0.0.1", "255.255.255.255", "::1",
	    "fc00::1", "fd12::1", "fe80::1", "febf::1", "::ffff:10.0.0.1"};
	static const char *no[] = {"1.1.1.1", "100.63.255.255", "100.128.0.0",
	    "172.15.255.255", "172.32.0.0", "192.0.2.1", "198.17.255.255",
	    "198.20.0.0", "223.255.255.255", "2001:db8::1", "fec0::1",
	    "2a00::1", "not an ip"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!pu_dns_bogon(yes[i]))
			fail_msg("%s should be a bogon", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (pu_dns_bogon(no[i]))
			fail_msg("%s should not be a bogon", no[i]);
}

static int
setup(void **state)
{
	(void)state;
	if ((dns = srv_dns()) == NULL)
		return -1;
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%d", srv_port(dns));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	srv_stop(&dns);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_normal),
		cmocka_unit_test(t_injected),
		cmocka_unit_test(t_identical_twice),
		cmocka_unit_test(t_rcodes),
		cmocka_unit_test(t_bogon),
		cmocka_unit_test(t_silent),
		cmocka_unit_test(t_garbage),
		cmocka_unit_test(t_bad_requests),
		cmocka_unit_test(t_bogon_ranges),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
