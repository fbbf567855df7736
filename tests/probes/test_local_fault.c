/*
 * test_local_fault — local faults are FAIL_LOCAL, never a verdict input
 * (issue 17, docs/METHODOLOGY.md "Local faults and address families").
 *
 * Unit part: the one errno map (pu_errno_failure) and the ICMP side rule
 * (pu_icmp_side), case by case.  With the argument "netns" the process
 * moves into a network namespace of its own that has no route at all (no
 * IPv4, no IPv6) and runs every probe kind against an address it cannot
 * reach: each must say FAIL_LOCAL, none FAIL_UNREACHABLE.  Without the
 * privilege for a namespace that part is skipped (77), not passed.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "probe_util.h"

#define EXIT_SKIP 77
#define F(x) ZOND__V1__FAILURE__FAIL_##x
#define T(x) ZOND__V1__TEST_KIND__TEST_##x

static void
t_errno_map(void **state)
{
	static const int unreach[] = {ENETUNREACH, EHOSTUNREACH, EACCES,
	    EHOSTDOWN, ENONET};
	static const int local[] = {EPERM, ENETDOWN, EADDRNOTAVAIL,
	    EAFNOSUPPORT};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unreach) / sizeof(unreach[0]); i++) {
		assert_int_equal(pu_errno_failure(unreach[i], PU_SIDE_LOCAL),
		    F(LOCAL));
		assert_int_equal(pu_errno_failure(unreach[i], PU_SIDE_REMOTE),
		    F(UNREACHABLE));
		assert_int_equal(pu_errno_failure(unreach[i],
		    PU_SIDE_UNKNOWN), F(UNREACHABLE));
	}
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		assert_int_equal(pu_errno_failure(local[i], PU_SIDE_REMOTE),
		    F(LOCAL));
	assert_int_equal(pu_errno_failure(ECONNREFUSED, PU_SIDE_LOCAL),
	    F(REFUSED));
	assert_int_equal(pu_errno_failure(ETIMEDOUT, PU_SIDE_UNKNOWN),
	    F(TIMEOUT));
	assert_int_equal(pu_errno_failure(ECONNRESET, PU_SIDE_REMOTE),
	    F(RESET));
	/* libcurl's connect errors take the same map */
	assert_int_equal(pu_curl_failure(7, EHOSTUNREACH, "", PU_SIDE_LOCAL),
	    F(LOCAL));
	assert_int_equal(pu_curl_failure(7, EHOSTUNREACH, "",
	    PU_SIDE_REMOTE), F(UNREACHABLE));
}

static void
t_icmp_side(void **state)
{
	(void)state;
	/* made by the agent's own kernel (neighbour resolution failed) */
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_LOCAL, 0, 0,
	    PU_WHERE_AWAY), PU_SIDE_LOCAL);
	/* sent from one of the agent's own addresses (local REJECT) */
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP, 3, 13,
	    PU_WHERE_SELF), PU_SIDE_LOCAL);
	/* the agent's gateway has no route: host/net unreachable */
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP, 3, 1, PU_WHERE_LINK),
	    PU_SIDE_LOCAL);
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP, 3, 0, PU_WHERE_LINK),
	    PU_SIDE_LOCAL);
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP6, 1, 0,
	    PU_WHERE_LINK), PU_SIDE_LOCAL);
	/* a remote router says host unreachable: the path's doing */
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP, 3, 1, PU_WHERE_AWAY),
	    PU_SIDE_REMOTE);
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP6, 1, 3,
	    PU_WHERE_AWAY), PU_SIDE_REMOTE);
	/* a filter, even next door, is not the agent's fault */
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP, 3, 13,
	    PU_WHERE_LINK), PU_SIDE_REMOTE);
	assert_int_equal(pu_icmp_side(SO_EE_ORIGIN_ICMP6, 1, 1,
	    PU_WHERE_LINK), PU_SIDE_REMOTE);
}

static void
t_addr_where(void **state)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	zdiag_t d;

	(void)state;
	assert_int_equal(pu_parse_addr("127.0.0.1", 80, &ss, &sl, &d), ZE_OK);
	assert_int_equal(pu_addr_where((struct sockaddr *)&ss),
	    PU_WHERE_SELF);
	assert_int_equal(pu_parse_addr("[::1]:80", 80, &ss, &sl, &d), ZE_OK);
	assert_int_equal(pu_addr_where((struct sockaddr *)&ss),
	    PU_WHERE_SELF);
}

/* ------------------------------------------------------ no route at all */

struct kind {
	const char *name;
	probe_fn fn;
	Zond__V1__TestKind test;
	const char *target, *ip, *variant;
};

static void
t_every_probe_local(void **state)
{
	static const struct kind kinds[] = {
	    {"tcp v4", probe_tcp, T(TCP), "192.0.2.55:443", NULL, NULL},
	    {"tcp v6 (no IPv6 route)", probe_tcp, T(TCP),
		"[2001:db8::55]:443", NULL, NULL},
	    {"tls", probe_tls, T(TLS), "example.test:443", "192.0.2.55",
		NULL},
	    {"http", probe_http, T(HTTP), "http://example.test/",
		"192.0.2.55", NULL},
	    {"stun", probe_stun, T(STUN), "192.0.2.55:3478", NULL, "plain"},
	    {"quic", probe_quic, T(QUIC), "192.0.2.55:443", NULL, "vn"},
	    {"vpn", probe_vpn, T(VPN), "192.0.2.55", NULL, "wireguard"},
	    {"throughput", probe_throughput, T(THROUGHPUT), "192.0.2.55:443",
		NULL, NULL},
	    {"freeze", probe_freeze, T(FREEZE), "192.0.2.55:443", NULL, NULL},
	    {"dns (resolver without route)", probe_dns, T(DNS),
		"example.test", NULL, "A"},
	    {"doh", probe_doh, T(DOH), "example.test", NULL, "A"},
	    {"call relay", probe_call, T(CALL), "192.0.2.55:3478", NULL,
		"relay"},
	    {"call path", probe_call, T(CALL), "192.0.2.55:3478", NULL,
		"path"},
	    {"call flow", probe_call, T(CALL), "192.0.2.55:3478", NULL,
		"flow"},
	};
	probe_env_t env = {.timeout_ms = 1500, .resolver = "192.0.2.53",
	    .doh_url = "https://192.0.2.53/dns-query", .body_cap = 4096};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct kind *k = &kinds[i];
		probe_req_t req = {.test = k->test, .target = k->target,
		    .ip = k->ip, .variant = k->variant, .bytes = 1000,
		    .sni = k->test == T(THROUGHPUT) ? "example.test" : NULL};
		Zond__V1__Outcome *o = NULL;
		zdiag_t d;

		d.text[0] = '\0';

		if (k->fn(&env, &req, &o, &d) != ZE_OK)
			fail_msg("%s: %s", k->name, d.text);
		assert_non_null(o);
		if (o->failure != F(LOCAL))
			fail_msg("%s: failure %d (%s), want FAIL_LOCAL", k->name,
			    (int)o->failure, o->detail ? o->detail : "");
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(t_errno_map),
		cmocka_unit_test(t_icmp_side),
		cmocka_unit_test(t_addr_where),
	};
	const struct CMUnitTest netns[] = {
		cmocka_unit_test(t_every_probe_local),
	};

	if (argc > 1 && strcmp(argv[1], "netns") == 0) {
		/* a namespace of our own: only a loopback, down; no route */
		if (unshare(CLONE_NEWNET) != 0 &&
		    (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)) {
			fprintf(stderr, "SKIP: no network namespace: %s\n",
			    strerror(errno));
			return EXIT_SKIP;
		}
		return cmocka_run_group_tests(netns, NULL, NULL);
	}
	return cmocka_run_group_tests(unit, NULL, NULL);
}
