/*
 * test_targets — endpoint and URL lists: the shipped defaults load, every
 * kind of bad row is refused with file:line, and a bad file leaves the
 * caller's list as it was; the probe table has a row for every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "targets.h"
#include "wire.h"

static const char *srcdir;

static void
t_defaults(void **state)
{
	char ep[1024], urls[1024];
	targets_t t;
	zdiag_t d;
	size_t stun = 0, helper = 0, news = 0, controls = 0, call = 0;
	size_t refdom = 0, refforeign = 0;
	/* blocked in Russia, so a failure of theirs says nothing about the
	 * real name (FACTS.md; OONI reports) */
	static const char *const blocked[] = {"facebook.com",
	    "www.facebook.com", "instagram.com", "www.instagram.com",
	    "twitter.com", "x.com", "telegram.org", "signal.org",
	    "www.linkedin.com", "linkedin.com"};

	(void)state;
	snprintf(ep, sizeof(ep), "%s/ops/targets/ru-endpoints.csv", srcdir);
	snprintf(urls, sizeof(urls), "%s/ops/targets/ru-urls.csv", srcdir);
	targets_init(&t);
	if (targets_load(&t, ep, urls, &d) != ZE_OK)
		fail_msg("%s", d.text);
	assert_true(t.n >= 30);
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].req.test == ZOND__V1__TEST_KIND__TEST_STUN)
			stun++;
		if (t.v[i].req.test == ZOND__V1__TEST_KIND__TEST_CALL) {
			call++;
			assert_non_null(t.v[i].req.variant);
		}
		if (t.v[i].req.ip && strcmp(t.v[i].req.ip, "helper") == 0)
			helper++;
		if (strcmp(t.v[i].req.service, "news") == 0)
			news++;
		/* the regime references (METHODOLOGY.md "Regimes"): tcp or
		 * tls rows, foreign ones never a name blocked in Russia */
		if (strcmp(t.v[i].req.service, "reference-domestic") == 0 ||
		    strcmp(t.v[i].req.service, "reference-foreign") == 0) {
			bool dom = t.v[i].req.service[10] == 'd';

			assert_true(t.v[i].req.test ==
			    ZOND__V1__TEST_KIND__TEST_TCP ||
			    t.v[i].req.test == ZOND__V1__TEST_KIND__TEST_TLS);
			if (dom)
				refdom++;
			else
				refforeign++;
			for (size_t k = 0; !dom &&
			    k < sizeof(blocked) / sizeof(blocked[0]); k++)
				if (strcmp(t.v[i].req.target, blocked[k]) == 0)
					fail_msg("line %d: foreign reference %s "
					    "is blocked in Russia", t.v[i].line,
					    blocked[k]);
		}
		assert_non_null(t.v[i].req.target);
		assert_true(t.v[i].line > 1);
		if (t.v[i].req.control_sni == NULL)
			continue;
		controls++;
		for (size_t k = 0; k < sizeof(blocked) / sizeof(blocked[0]);
		    k++)
			if (strcmp(t.v[i].req.control_sni, blocked[k]) == 0)
				fail_msg("line %d: control SNI %s is blocked in "
				    "Russia", t.v[i].line, blocked[k]);
	}
	assert_true(controls >= 8);
	assert_int_equal(stun, 3);
	/* calls of each service: path to its own network, flow to the
	 * helper (docs/TARGETS.md "Call rows") */
	assert_int_equal(call, 9);
	assert_true(helper >= 8);
	assert_int_equal(news, 6);
	assert_true(refdom >= 3);
	assert_true(refforeign >= 3);
	targets_free(&t);
}

static void
t_endpoint_row(void **state)
{
	static const char text[] =
	    "service,test,target,ip,port,sni,control_sni,variant,bytes,interval\n"
	    "whatsapp,tls,web.whatsapp.com,192.0.2.1,443,web.whatsapp.com,"
	    "example.org,,,90s\n"
	    "\"call\",stun,helper,helper,3478,,,whatsapp,,\n"
	    "yt,throughput,helper,helper,8443,a.example,b.example,,1M,\n"
	    "facetime,call,17.0.0.1,,3478-3497,,,path,,\n"
	    "telegram,call,91.108.4.1,,1400,,,relay,,\n";
	targets_t t;
	zdiag_t d;

	(void)state;
	targets_init(&t);
	assert_int_equal(targets_parse_endpoints(&t, "x.csv", text,
	    strlen(text), &d), ZE_OK);
	assert_int_equal(t.n, 5);
	assert_int_equal(t.v[0].req.test, ZOND__V1__TEST_KIND__TEST_TLS);
	assert_string_equal(t.v[0].req.ip, "192.0.2.1");
	assert_int_equal(t.v[0].req.port, 443);
	assert_string_equal(t.v[0].req.control_sni, "example.org");
	assert_null(t.v[0].req.variant);
	assert_int_equal(t.v[0].interval_ms, 90000);
	assert_string_equal(t.v[1].req.service, "call");
	assert_string_equal(t.v[1].req.variant, "whatsapp");
	assert_int_equal(t.v[2].req.bytes, 1048576);
	assert_int_equal(t.v[2].line, 4);
	assert_int_equal(t.v[3].req.test, ZOND__V1__TEST_KIND__TEST_CALL);
	assert_int_equal(t.v[3].req.port, 3478);
	assert_int_equal(t.v[3].req.port_hi, 3497);
	assert_string_equal(t.v[3].req.variant, "path");
	assert_int_equal(t.v[4].req.port, 1400);
	assert_int_equal(t.v[4].req.port_hi, 0);
	targets_free(&t);
}

struct bad {
	const char *row;
	const char *msg;
};

static void
t_endpoint_errors(void **state)
{
	static const char hdr[] =
	    "service,test,target,ip,port,sni,control_sni,variant,bytes,interval\n"
	    "ok,tcp,192.0.2.1,,80,,,,,\n";
	static const struct bad bad[] = {
	    {"Bad Service,tcp,h,,80,,,,,", "x.csv:3: service 'Bad Service'"},
	    {"s,ping,h,,80,,,,,", "x.csv:3: unknown test 'ping'"},
	    {"s,tls,h\xe9.example,,443,,,,,", "x.csv:3: field 3 is not "
	    "valid UTF-8"},
	    {"s,tcp,,,80,,,,,", "x.csv:3: empty target"},
	    {"s,tcp,h,,70000,,,,,", "x.csv:3: port '70000' is not 1-65535"},
	    {"s,tcp,h,,8o,,,,,", "x.csv:3: port '8o'"},
	    {"s,tcp,h,not-an-ip,80,,,,,", "x.csv:3: ip 'not-an-ip'"},
	    {"s,http,ftp://h/,,,,,,,", "x.csv:3: http target 'ftp://h/'"},
	    {"s,tcp,h/x,,80,,,,,", "x.csv:3: target 'h/x'"},
	    {"s,tcp,h,,80,,,plain,,", "x.csv:3: variant 'plain' does not "
		"apply to test tcp"},
	    {"s,stun,h,,80,,,zoom,,", "x.csv:3: variant 'zoom'"},
	    {"s,vpn,h,,80,,,,,", "x.csv:3: vpn test needs a variant"},
	    {"s,call,h,,3478,,,,,", "x.csv:3: call test needs a variant"},
	    {"s,call,h,,3478,,,zoom,,", "x.csv:3: variant 'zoom'"},
	    {"s,call,h,,3497-3478,,,relay,,", "x.csv:3: port: '3497-3478' "
		"is not a port"},
	    {"s,call,h,,3478-,,,relay,,", "x.csv:3: port: '3478-'"},
	    {"s,call,h,,1-2,3,,,relay,,", "x.csv:3: 11 fields"},
	    {"s,call,h,,a-b,,,relay,,", "x.csv:3: port: 'a-b'"},
	    {"s,tcp,h,,80-90,,,,,", "x.csv:3: port '80-90' is not 1-65535"},
	    {"s,freeze,h,,80,,,,2T,", "x.csv:3: bytes '2T'"},
	    {"s,tcp,h,,80,,,,,0s", "x.csv:3: interval '0s'"},
	    {"s,tcp,h,,80,,,,", "x.csv:3: 9 fields, the header has 10"},
	    {"s,tcp,h,,80,,,,,,", "x.csv:3: 11 fields"},
	    {"s,tcp,\"h,,80,,,,,", "x.csv:3: quoted field never closed"},
	    {"s,tcp,h\"x\",,80,,,,,", "x.csv:3: quote in the middle"},
	};
	char text[1024];
	targets_t t;
	zdiag_t d;

	(void)state;
	targets_init(&t);
	/* a good list first: a bad file must leave it untouched */
	assert_int_equal(targets_parse_endpoints(&t, "x.csv", hdr,
	    strlen(hdr), &d), ZE_OK);
	assert_int_equal(t.n, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", hdr, bad[i].row);
		assert_int_not_equal(targets_parse_endpoints(&t, "x.csv", text,
		    strlen(text), &d), ZE_OK);
		if (strstr(d.text, bad[i].msg) == NULL)
			fail_msg("row '%s': got '%s', want '%s'", bad[i].row,
			    d.text, bad[i].msg);
		assert_int_equal(t.n, 1);
	}
	/* headers */
	assert_int_not_equal(targets_parse_endpoints(&t, "h.csv",
	    "service,test\n", 13, &d), ZE_OK);
	assert_non_null(strstr(d.text, "h.csv:1: header lacks column 'target'"));
	assert_int_not_equal(targets_parse_endpoints(&t, "h.csv",
	    "service,test,target,colour\n", 27, &d), ZE_OK);
	assert_non_null(strstr(d.text, "h.csv:1: unknown column 'colour'"));
	assert_int_not_equal(targets_parse_endpoints(&t, "h.csv", "", 0, &d),
	    ZE_OK);
	assert_non_null(strstr(d.text, "h.csv: empty file"));
	assert_int_equal(t.n, 1);
	targets_free(&t);
}

/* The probe table: a row with a probe for every test the wire names, the
 * parser's message lists them all, variants default to the first. */
static void
t_probe_table(void **state)
{
	static const char row[] = "service,test,target\ns,ping,h\n";
	const probe_info_t *p;
	targets_t t;
	zdiag_t d;
	size_t rows = 0;

	(void)state;
	for (int k = 1; k < 64; k++) {
		const char *name = wire_test_name((Zond__V1__TestKind)k);
		if (strcmp(name, "unknown") == 0)
			continue;
		rows++;
		p = probe_info((Zond__V1__TestKind)k);
		if (p == NULL || p->run == NULL)
			fail_msg("test %s has no probe", name);
	}
	for (size_t i = 0; (p = probe_info_at(i)) != NULL; i++)
		assert_ptr_equal(probe_info(p->test), p);
	assert_non_null(probe_info_at(rows - 1));
	assert_null(probe_info_at(rows));
	targets_init(&t);
	assert_int_not_equal(targets_parse_endpoints(&t, "x.csv", row,
	    strlen(row), &d), ZE_OK);
	for (size_t i = 0; (p = probe_info_at(i)) != NULL; i++)
		if (strstr(d.text, wire_test_name(p->test)) == NULL)
			fail_msg("'%s' does not name test %s", d.text,
			    wire_test_name(p->test));
	targets_free(&t);
	p = probe_info(ZOND__V1__TEST_KIND__TEST_STUN);
	assert_string_equal(probe_variant(p, NULL)->name, "plain");
	assert_string_equal(probe_variant(p, "telegram")->name, "telegram");
	assert_null(probe_variant(p, "zoom"));
	assert_null(probe_variant(probe_info(ZOND__V1__TEST_KIND__TEST_TCP),
	    NULL));
	assert_int_equal(probe_port(ZOND__V1__TEST_KIND__TEST_VPN, NULL),
	    51820);
	assert_int_equal(probe_port(ZOND__V1__TEST_KIND__TEST_VPN, "openvpn"),
	    1194);
	assert_int_equal(probe_port(ZOND__V1__TEST_KIND__TEST_STUN, NULL),
	    3478);
	assert_int_equal(probe_port(ZOND__V1__TEST_KIND__TEST_TCP, NULL), 0);
}

static void
t_urls(void **state)
{
	static const char good[] =
	    "url,category_code,category_description,date_added,source,notes\r\n"
	    "https://a.example/,NEWS,News Media,2020-01-01,x,\r\n"
	    "http://b.example/x,GRP,\"Human Rights, Issues\",2020,x,"
	    "\"service=call; more\"\r\n";
	targets_t t;
	zdiag_t d;

	(void)state;
	targets_init(&t);
	assert_int_equal(targets_parse_urls(&t, "u.csv", good, strlen(good),
	    &d), ZE_OK);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.v[0].req.service, "news");
	assert_string_equal(t.v[1].req.service, "call");
	assert_int_equal(t.v[1].req.test, ZOND__V1__TEST_KIND__TEST_HTTP);
	assert_string_equal(t.v[1].req.target, "http://b.example/x");
	assert_int_not_equal(targets_parse_urls(&t, "u.csv",
	    "url,category\n", 13, &d), ZE_OK);
	assert_non_null(strstr(d.text, "u.csv:1: header has 2 columns"));
	{
		static const char bad[] =
		    "url,category_code,category_description,date_added,source,notes\n"
		    "a.example,NEWS,x,x,x,\n";
		assert_int_not_equal(targets_parse_urls(&t, "u.csv", bad,
		    strlen(bad), &d), ZE_OK);
		assert_non_null(strstr(d.text, "u.csv:2: 'a.example' is not"));
	}
	assert_int_equal(t.n, 2);
	targets_free(&t);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_defaults),
		cmocka_unit_test(t_endpoint_row),
		cmocka_unit_test(t_endpoint_errors),
		cmocka_unit_test(t_urls),
		cmocka_unit_test(t_probe_table),
	};

	srcdir = argc > 1 ? argv[1] : ".";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
