/*
 * test_dns_check — DNS consistency on the agent's side (issue 17,
 * docs/PROBES-TCP.md "Answer check" and "Resolution").
 *
 * The process moves into network and mount namespaces of its own: its
 * loopback carries the routable-looking addresses 192.0.2.10, .66, .99
 * and 2001:db8::10 (documentation ranges, not bogons to the agent), a
 * TLS server listens on 192.0.2.10:443 (servers.h: certificates by SNI,
 * DoH at /dns-query; .66 and .99 have nothing on 443) and a DNS server on 127.0.0.1:53, which a
 * resolv.conf bind-mounted over /etc/resolv.conf names, so the system
 * resolver (getaddrinfo) asks it.  Nothing leaves the namespace.
 *
 * With the argument "unit", only the parts that need no namespace:
 * which rows are tests of a name, and a lookup from /etc/hosts.
 * With the path of zond-agent as argument, the agent itself runs a list
 * once (--once) and its signed records are read back.
 *
 * Needs root (namespaces, ports 53 and 443, mount) and ip(8); without
 * them it exits 77 (skipped), never passes.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include <poll.h>

#include "probe.h"
#include "probe_util.h"
#include "resolve.h"
#include "scheduler.h"
#include "servers.h"
#include "targets.h"
#include "ztime.h"

#define EXIT_SKIP 77
#define F(x) ZOND__V1__FAILURE__FAIL_##x
#define T(x) ZOND__V1__TEST_KIND__TEST_##x

static struct srv *dns, *tls;
static char resolv[64] = "/tmp/zond-dnscheck-XXXXXX";

/* ------------------------------------------------------- answer check */

/* Connections the TLS server accepted since before, once they settle:
 * it serves one at a time, so a short connection may wait in its
 * backlog after the client is done.  Waits until want have come (at most
 * 3 s), then 300 ms more for any extra one. */
static int
tls_conns_since(int before, int want)
{
	int64_t end = ztime_mono_us() + 3000000;

	while (srv_count(tls) - before < want && ztime_mono_us() < end)
		usleep(10000);
	usleep(300000);
	return srv_count(tls) - before;
}

static Zond__V1__Outcome *
run_dns_ca(const char *name, const char *qtype, bool check,
    int64_t timeout, const char *ca)
{
	probe_env_t env = {.timeout_ms = timeout, .resolver = "127.0.0.1",
	    .ca_file = ca, .dns_window_ms = 50,
	    .answer_check = check};
	probe_req_t req = {.test = T(DNS), .target = name, .variant = qtype};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	d.text[0] = '\0';
	if (probe_dns(&env, &req, &o, &d) != ZE_OK)
		fail_msg("dns %s: %s", name, d.text);
	assert_non_null(o);
	assert_non_null(o->dns);
	return o;
}

static Zond__V1__Outcome *
run_dns(const char *name, const char *qtype, bool check, int64_t timeout)
{
	return run_dns_ca(name, qtype, check, timeout, srv_ca_file(tls));
}

static void
t_answer_valid(void **state)
{
	Zond__V1__Outcome *o = run_dns("ok.test", "A", true, 3000);
	Zond__V1__AnswerCheck *ac = o->dns->answer_check;
	struct srv *tls6;

	(void)state;
	assert_int_equal(o->failure, F(NONE));
	assert_non_null(ac);
	assert_string_equal(ac->addr, "192.0.2.10:443");
	assert_true(ac->has_cert_valid && ac->cert_valid);
	assert_true(ac->has_failure);
	assert_int_equal(ac->failure, F(NONE));
	assert_true(ac->has_handshake_us);
	zond__v1__outcome__free_unpacked(o, NULL);

	/* the AAAA answer 2001:db8::10 (a server of its own, its own CA) */
	assert_non_null(tls6 = srv_tls_at("2001:db8::10", 443));
	o = run_dns_ca("ok.test", "AAAA", true, 3000, srv_ca_file(tls6));
	srv_stop(&tls6);
	ac = o->dns->answer_check;
	assert_non_null(ac);
	assert_string_equal(ac->addr, "[2001:db8::10]:443");
	assert_true(ac->has_cert_valid && ac->cert_valid);
	assert_int_equal(ac->failure, F(NONE));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_answer_other_cert(void **state)
{
	/* the address serves other.example's certificate, not wrong.test's */
	Zond__V1__Outcome *o = run_dns("wrong.test", "A", true, 3000);
	Zond__V1__AnswerCheck *ac = o->dns->answer_check;

	(void)state;
	assert_int_equal(o->failure, F(NONE));	/* the DNS test itself */
	assert_non_null(ac);
	assert_string_equal(ac->addr, "192.0.2.10:443");
	assert_true(ac->has_cert_valid);
	assert_false(ac->cert_valid);
	assert_int_equal(ac->failure, F(CERT_INVALID));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_answer_nothing_listening(void **state)
{
	Zond__V1__Outcome *o = run_dns("dead.test", "A", true, 3000);
	Zond__V1__AnswerCheck *ac = o->dns->answer_check;

	(void)state;
	assert_non_null(ac);
	assert_string_equal(ac->addr, "192.0.2.99:443");
	assert_int_equal(ac->failure, F(REFUSED));
	assert_false(ac->has_cert_valid);
	assert_false(ac->has_handshake_us);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_answer_bounded(void **state)
{
	/* slow.test: the server never answers the ClientHello; the check
	 * ends with the test's own timeout, not later */
	int64_t t0 = ztime_mono_us(), ms;
	Zond__V1__Outcome *o = run_dns("slow.test", "A", true, 1200);
	Zond__V1__AnswerCheck *ac = o->dns->answer_check;

	(void)state;
	ms = (ztime_mono_us() - t0) / 1000;
	assert_non_null(ac);
	assert_int_equal(ac->failure, F(TIMEOUT));
	if (ms > 1200 + 500)
		fail_msg("dns with answer check took %lld ms, timeout 1200",
		    (long long)ms);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_answer_no_check(void **state)
{
	int before = srv_count(tls);
	Zond__V1__Outcome *o;

	(void)state;
	/* a bogon answer: no ClientHello goes into the LAN */
	o = run_dns("bogon.test", "A", true, 3000);
	assert_int_equal(o->failure, F(BOGON));
	assert_null(o->dns->answer_check);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* no answer at all */
	o = run_dns("nx.test", "A", true, 3000);
	assert_null(o->dns->answer_check);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* [tests] answer_check = false */
	o = run_dns("ok.test", "A", false, 3000);
	assert_int_equal(o->failure, F(NONE));
	assert_null(o->dns->answer_check);
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_int_equal(tls_conns_since(before, 0), 0);
}

/* What the check costs: exactly one connection per dns test, and the
 * time it adds (printed: docs/PERFORMANCE.md-style figures, loopback). */
static void
t_answer_cost(void **state)
{
	int64_t t0, with = 0, without = 0;
	int i, n = 20, before;
	Zond__V1__Outcome *o;

	(void)state;
	before = srv_count(tls);
	for (i = 0; i < n; i++) {
		t0 = ztime_mono_us();
		o = run_dns("ok.test", "A", true, 3000);
		with += ztime_mono_us() - t0;
		zond__v1__outcome__free_unpacked(o, NULL);
		t0 = ztime_mono_us();
		o = run_dns("ok.test", "A", false, 3000);
		without += ztime_mono_us() - t0;
		zond__v1__outcome__free_unpacked(o, NULL);
	}
	assert_int_equal(tls_conns_since(before, n), n);
	printf("figure: dns test (window 50 ms) mean %lld us without the "
	    "answer check, %lld us with it (%d runs each, loopback)\n",
	    (long long)(without / n), (long long)(with / n), n);
}

/* --------------------------------------------------------- resolution */

#define DOH_URL "https://doh.test/dns-query"

struct run {
	Zond__V1__Outcome *o;
	Zond__V1__Resolution *r;
	sched_result_t *res;
};

/* One run of one endpoint-list row through the real scheduler (system
 * resolver, probe, DoH, alt run), no retries. */
static void
run_row(const char *row, const char *doh_url, struct run *out)
{
	probe_env_t env = {.timeout_ms = 3000, .doh_url = doh_url,
	    .ca_file = srv_ca_file(tls), .body_cap = 4096};
	struct sched_opts so = {.interval_ms = 3600000, .concurrency = 1};
	char text[512];
	targets_t t;
	sched_t *s = NULL;
	sched_result_t *r = NULL;
	zdiag_t d;
	int64_t end = ztime_mono_us() + 30 * 1000000LL;

	snprintf(text, sizeof(text), "service,test,target\n%s\n", row);
	targets_init(&t);
	if (targets_parse_endpoints(&t, "t.csv", text, strlen(text), &d) !=
	    ZE_OK)
		fail_msg("%s: %s", row, d.text);
	assert_int_equal(sched_new(&so, &t, &env, &s), ZE_OK);
	sched_run_all(s);
	while (r == NULL && ztime_mono_us() < end) {
		struct pollfd p = {.fd = sched_fd(s), .events = POLLIN};
		poll(&p, 1, 200);
		r = sched_pop(s);
	}
	sched_free(&s);
	targets_free(&t);
	if (r == NULL)
		fail_msg("%s: no result in 30 s", row);
	out->res = r;
	out->o = r->outcome;
	out->r = r->resolution;
}

static void
assert_addrs(char **v, size_t n, const char *want)
{
	if (want == NULL) {
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(n, 1);
	assert_string_equal(v[0], want);
}

/* The system resolver forges the address (nothing serves there); DoH
 * names the real one, where the test works: recorded as the alt run,
 * while the test's own outcome stays the system address's. */
static void
t_res_forged(void **state)
{
	static const struct {
		const char *row, *alt;
	} rows[] = {
		{"s,tcp,forged.test:443", "192.0.2.10:443"},
		{"s,tls,forged.test", "192.0.2.10:443"},
		{"s,http,https://forged.test/", "192.0.2.10:443"},
	};
	struct run x;
	size_t i;
	int before;
	int64_t t0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		before = srv_count(tls);
		t0 = ztime_mono_us();
		run_row(rows[i].row, DOH_URL, &x);
		printf("figure: %s with DoH and the alt run: %lld us\n",
		    rows[i].row, (long long)(ztime_mono_us() - t0));
		/* one DoH query and one alt run: no more */
		assert_int_equal(tls_conns_since(before, 2), 2);
		if (x.o->failure != F(REFUSED))
			fail_msg("%s: failure %d (%s), want REFUSED at the "
			    "forged address", rows[i].row, (int)x.o->failure,
			    x.o->detail ? x.o->detail : "");
		assert_non_null(x.r);
		assert_string_equal(x.r->name, "forged.test");
		assert_addrs(x.r->system, x.r->n_system, "192.0.2.66");
		assert_false(x.r->has_system_failure);
		assert_addrs(x.r->doh, x.r->n_doh, "192.0.2.10");
		assert_true(x.r->has_doh_failure);
		assert_int_equal(x.r->doh_failure, F(NONE));
		assert_non_null(x.r->alt_addr);
		assert_string_equal(x.r->alt_addr, rows[i].alt);
		assert_true(x.r->has_alt_failure);
		if (x.r->alt_failure != F(NONE))
			fail_msg("%s: alt failure %d", rows[i].row,
			    (int)x.r->alt_failure);
		assert_true(x.r->has_alt_us);
		sched_result_free(x.res);
	}
}

/* The system resolver says NXDOMAIN: the test is the resolver's failure,
 * and the DoH address is tried. */
static void
t_res_nxdomain(void **state)
{
	static const char *const rows[] = {"s,tls,nxsys.test",
	    "s,tcp,nxsys.test:443", "s,http,https://nxsys.test/"};
	struct run x;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_row(rows[i], DOH_URL, &x);
		if (x.o->failure != F(NXDOMAIN))
			fail_msg("%s: failure %d (%s)", rows[i],
			    (int)x.o->failure, x.o->detail ? x.o->detail : "");
		assert_non_null(x.r);
		assert_int_equal(x.r->n_system, 0);
		assert_true(x.r->has_system_failure);
		assert_int_equal(x.r->system_failure, F(NXDOMAIN));
		assert_addrs(x.r->doh, x.r->n_doh, "192.0.2.10");
		assert_non_null(x.r->alt_addr);
		assert_string_equal(x.r->alt_addr, "192.0.2.10:443");
		assert_int_equal(x.r->alt_failure, F(NONE));
		sched_result_free(x.res);
	}
	/* the test's shape all the same */
	run_row(rows[0], DOH_URL, &x);
	assert_non_null(x.o->tls);
	sched_result_free(x.res);
}

/* Both resolvers agree: no alt run. */
static void
t_res_same(void **state)
{
	int before = srv_count(tls);
	struct run x;

	(void)state;
	run_row("s,tcp,v4.test:443", DOH_URL, &x);
	assert_int_equal(x.o->failure, F(NONE));
	assert_non_null(x.r);
	assert_addrs(x.r->system, x.r->n_system, "192.0.2.10");
	assert_addrs(x.r->doh, x.r->n_doh, "192.0.2.10");
	assert_null(x.r->alt_addr);
	assert_false(x.r->has_alt_failure);
	assert_false(x.r->has_alt_us);
	/* one connection for the test, one for DoH: no third */
	assert_int_equal(tls_conns_since(before, 2), 2);
	sched_result_free(x.res);
}

/* No [tests] doh_url: the system's answer only, no DoH, no alt. */
static void
t_res_no_doh(void **state)
{
	struct run x;

	(void)state;
	run_row("s,tcp,forged.test:443", NULL, &x);
	assert_int_equal(x.o->failure, F(REFUSED));
	assert_non_null(x.r);
	assert_addrs(x.r->system, x.r->n_system, "192.0.2.66");
	assert_int_equal(x.r->n_doh, 0);
	assert_false(x.r->has_doh_failure);
	assert_null(x.r->alt_addr);
	assert_false(x.r->has_alt_failure);
	sched_result_free(x.res);
	/* a row that names its address is not a test of a name */
	run_row("s,tcp,192.0.2.10:443", DOH_URL, &x);
	assert_int_equal(x.o->failure, F(NONE));
	assert_null(x.r);
	sched_result_free(x.res);
}

/* ---------------------------------------------------------- unit part */

/* Which rows are tests of a name (resolve_named), and the host. */
static void
t_named(void **state)
{
	static const struct {
		Zond__V1__TestKind test;
		const char *target, *ip, *host;	/* host NULL: not named */
	} c[] = {
		{T(TCP), "forged.test:443", NULL, "forged.test"},
		{T(TLS), "forged.test", NULL, "forged.test"},
		{T(HTTP), "https://forged.test:8443/a?b", NULL, "forged.test"},
		{T(HTTP), "http://Example.test/", NULL, "Example.test"},
		{T(TCP), "forged.test:443", "192.0.2.10", NULL},
		{T(TCP), "192.0.2.10:443", NULL, NULL},
		{T(TCP), "[2001:db8::1]:443", NULL, NULL},
		{T(HTTP), "http://192.0.2.10/", NULL, NULL},
		{T(HTTP), "http://[2001:db8::1]:80/", NULL, NULL},
		{T(DNS), "forged.test", NULL, NULL},
		{T(STUN), "forged.test:3478", NULL, NULL},
		{T(TCP), "", NULL, NULL},
	};
	char host[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		probe_req_t req = {.test = c[i].test, .target = c[i].target,
		    .ip = c[i].ip};
		bool named = resolve_named(&req, host, sizeof(host));

		if (named != (c[i].host != NULL) ||
		    (named && strcmp(host, c[i].host) != 0))
			fail_msg("%s: named %d host '%s', want %s", c[i].target,
			    named, named ? host : "", c[i].host ? c[i].host :
			    "not named");
	}
	/* a host longer than the buffer is not named (never cut) */
	{
		probe_req_t req = {.test = T(TLS), .target = "forged.test"};
		assert_false(resolve_named(&req, host, 5));
	}
}

/* resolve_system from /etc/hosts (no network): localhost. */
static void
t_system_hosts(void **state)
{
	Zond__V1__Resolution *r = NULL;
	char why[128];
	size_t i;
	bool v4 = false;

	(void)state;
	assert_int_equal(resolve_system("localhost", &r, why, sizeof(why)),
	    ZE_OK);
	assert_non_null(r);
	assert_string_equal(r->name, "localhost");
	assert_true(r->n_system >= 1 && r->n_system <= RESOLVE_MAX_ADDRS);
	assert_false(r->has_system_failure);
	for (i = 0; i < r->n_system; i++) {
		v4 |= strcmp(r->system[i], "127.0.0.1") == 0;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(r->system[i], r->system[j]);
	}
	assert_true(v4);
	assert_int_equal(r->n_doh, 0);
	assert_null(r->alt_addr);
	zond__v1__resolution__free_unpacked(r, NULL);
}

/* ------------------------------------------------ the agent, end to end */

static const char *agent_bin;	/* argv[1]: zond-agent */

/* zond-agent --once with doh_url, a dns and a tcp row of names: the
 * printed (signed) records carry the answer check and the resolution. */
static void
t_agent_once(void **state)
{
	char dir[] = "/tmp/zond-dnscheck-agent-XXXXXX", conf[128], list[128];
	char cmd[1024], line[16384], out[128], ctl[512];
	bool dns_seen = false, tcp_seen = false;
	FILE *f, *o;
	const char *slash;

	(void)state;
	if (agent_bin == NULL)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(list, sizeof(list), "%s/endpoints.csv", dir);
	assert_non_null(f = fopen(list, "w"));
	fprintf(f, "service,test,target\ns,dns,ok.test\n"
	    "s,tcp,forged.test:443\n");
	fclose(f);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "[agent]\nkey = %s/none.key\nlog_level = warn\n"
	    "[tests]\nendpoints = %s\ndoh_url = " DOH_URL "\n"
	    "ca_file = %s\n[schedule]\nretries = 0\ntimeout = 3s\n", dir,
	    list, srv_ca_file(tls));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --once -c %s 2>/dev/null", agent_bin,
	    conf);
	snprintf(out, sizeof(out), "%s/out.jsonl", dir);
	assert_non_null(o = fopen(out, "w"));
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		fputs(line, o);
		if (strstr(line, "\"test\":\"dns\"") != NULL) {
			dns_seen = true;
			if (strstr(line, "\"answer_check\":{\"addr\":"
			    "\"192.0.2.10:443\",\"cert_valid\":true") == NULL)
				fail_msg("dns record without a valid answer "
				    "check: %s", line);
		} else if (strstr(line, "\"test\":\"tcp\"") != NULL) {
			tcp_seen = true;
			if (strstr(line, "\"resolution\":{\"name\":"
			    "\"forged.test\",\"system\":[\"192.0.2.66\"]")
			    == NULL || strstr(line, "\"alt_addr\":"
			    "\"192.0.2.10:443\",\"alt_failure\":\"none\"") ==
			    NULL)
				fail_msg("tcp record without the resolution: "
				    "%s", line);
		}
	}
	assert_int_equal(pclose(f), 0);
	fclose(o);
	assert_true(dns_seen && tcp_seen);
	/* the records, resolution included, verify against their
	 * signatures (zondctl next to zond-agent) */
	slash = strrchr(agent_bin, '/');
	snprintf(ctl, sizeof(ctl), "%.*szondctl", slash != NULL &&
	    slash - agent_bin < 400 ? (int)(slash - agent_bin + 1) : 0,
	    agent_bin);
	snprintf(cmd, sizeof(cmd), "%s verify %s >/dev/null", ctl, out);
	assert_int_equal(system(cmd), 0);
	/* and a record whose resolution (only) was rewritten does not */
	snprintf(cmd, sizeof(cmd), "sed -i 's/\"system\":\\[\"192.0.2.66\"/"
	    "\"system\":[\"192.0.2.67\"/' %s && grep -q 192.0.2.67 %s && "
	    "! %s verify %s >/dev/null 2>&1", out, out, ctl, out);
	assert_int_equal(system(cmd), 0);
	unlink(out);
	unlink(conf);
	unlink(list);
	rmdir(dir);
}

/* ---------------------------------------------------------- the world */

static int
run(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "SKIP: '%s' failed (%d)\n", cmd, r);
	return r;
}

/* Namespaces, addresses, resolv.conf, servers; EXIT_SKIP when any
 * privilege or tool is missing. */
static int
world(void)
{
	FILE *f;
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (network and mount "
		    "namespaces, ports 53 and 443)\n");
		return EXIT_SKIP;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		fprintf(stderr, "SKIP: no namespaces: %s\n", strerror(errno));
		return EXIT_SKIP;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		fprintf(stderr, "SKIP: mount --make-rprivate /: %s\n",
		    strerror(errno));
		return EXIT_SKIP;
	}
	if (run("ip link set lo up && "
	    "ip addr add 192.0.2.10/32 dev lo && "
	    "ip addr add 192.0.2.66/32 dev lo && "
	    "ip addr add 192.0.2.99/32 dev lo && "
	    "ip -6 addr add 2001:db8::10/128 dev lo nodad") != 0)
		return EXIT_SKIP;
	if ((fd = mkstemp(resolv)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "SKIP: %s: %s\n", resolv, strerror(errno));
		return EXIT_SKIP;
	}
	fprintf(f, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
	fclose(f);
	if (mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0) {
		fprintf(stderr, "SKIP: bind %s over /etc/resolv.conf: %s\n",
		    resolv, strerror(errno));
		unlink(resolv);
		return EXIT_SKIP;
	}
	if ((dns = srv_dns_at("127.0.0.1", 53)) == NULL ||
	    (tls = srv_tls_at("192.0.2.10", 443)) == NULL) {
		fprintf(stderr, "SKIP: cannot start the servers\n");
		return EXIT_SKIP;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_answer_valid),
		cmocka_unit_test(t_answer_other_cert),
		cmocka_unit_test(t_answer_nothing_listening),
		cmocka_unit_test(t_answer_bounded),
		cmocka_unit_test(t_answer_no_check),
		cmocka_unit_test(t_answer_cost),
		cmocka_unit_test(t_res_forged),
		cmocka_unit_test(t_res_nxdomain),
		cmocka_unit_test(t_res_same),
		cmocka_unit_test(t_res_no_doh),
		cmocka_unit_test(t_agent_once),
	};
	int r;

	const struct CMUnitTest unit[] = {
		cmocka_unit_test(t_named),
		cmocka_unit_test(t_system_hosts),
	};

	if (argc > 1 && strcmp(argv[1], "unit") == 0)
		return cmocka_run_group_tests(unit, NULL, NULL);
	agent_bin = argc > 1 ? argv[1] : NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((r = world()) != 0)
		return r;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	srv_stop(&dns);
	srv_stop(&tls);
	umount("/etc/resolv.conf");
	unlink(resolv);
	curl_global_cleanup();
	return r;
}
