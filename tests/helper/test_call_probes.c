/*
 * test_call_probes — the call test (agent/probe_call.c) against the real
 * zond-helper binary on 127.0.0.1, listening on a port range of its
 * `udp_ports`:
 *   - relay: the helper's 401 to an Allocate (realm, nonce, software,
 *     the answering address) and its echo of the neutral datagram; a
 *     silent "relay" beside an answering helper is FAIL_NO_REPLY;
 *   - the port range: run k takes the range's (k mod span)-th port;
 *   - flow: connected, every media packet echoed, one loss entry per
 *     second; through a relay that stops passing ChannelData after N
 *     packets (a censor that cuts the flow): FAIL_STALL, "cut after"
 *     N packets; to a closed port: never connects, stage binding; with a
 *     wrong password: never connects, stage auth.
 * Traffic goes to 127.0.0.1 only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"
#include "stun.h"

#define LO		"127.0.0.1"
#define NPORTS		4
#define CUT_AFTER	30	/* ChannelData the cutting relay passes */

static char tmpdir[64], logpath[128], confpath[128];
static int p_base;	/* p_base .. p_base+NPORTS-1: the helper's range */
static pid_t helper = -1;

static int
port_free(int port)
{
	struct sockaddr_in s;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ok;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.sin_port = htons((uint16_t)port);
	ok = bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0;
	close(fd);
	return ok;
}

/* A UDP socket on 127.0.0.1, its port in *port. */
static int
udp_lo(int *port)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	*port = ntohs(s.sin_port);
	return fd;
}

static int
log_has(const char *what, int ms)
{
	char buf[8192];

	for (int t = 0; t <= ms; t += 50) {
		FILE *f = fopen(logpath, "r");
		size_t n = 0;
		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if (strstr(buf, what) != NULL)
			return 1;
		usleep(50000);
	}
	fprintf(stderr, "helper log:\n%s\n", buf);
	return 0;
}

static int
group_setup(void **state)
{
	char conf[512];
	uint16_t r;
	FILE *f;
	int i;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zond-call-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/helper.log", tmpdir);
	snprintf(confpath, sizeof(confpath), "%s/helper.conf", tmpdir);
	for (;;) {	/* NPORTS free ports in a row, below the ephemeral range */
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -1;
		p_base = 20000 + r % 10000;
		for (i = 0; i < NPORTS && port_free(p_base + i); i++)
			;
		if (i == NPORTS)
			break;
	}
	snprintf(conf, sizeof(conf),
	    "[helper]\nlisten = " LO "\nuser = \"\"\n"
	    "[ports]\nstun = 0\nquic = 0\nwireguard = 0\nopenvpn = 0\n"
	    "echo = 0\nbulk = 0\nudp_ports = %d-%d\n"
	    "[limits]\nudp_rate = 100000\n", p_base, p_base + NPORTS - 1);
	if ((f = fopen(confpath, "w")) == NULL)
		return -1;
	fputs(conf, f);
	fclose(f);
	helper = fork();
	if (helper == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(ZOND_HELPER_BIN, ZOND_HELPER_BIN, "-c", confpath,
		    (char *)NULL);
		_exit(127);
	}
	return log_has("event=ready", 20000) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (helper > 0) {
		kill(helper, SIGTERM);
		waitpid(helper, NULL, 0);
	}
	unlink(logpath);
	unlink(confpath);
	rmdir(tmpdir);
	return 0;
}

static probe_env_t
env_of(int64_t timeout_ms, int64_t call_ms)
{
	probe_env_t e;

	memset(&e, 0, sizeof(e));
	e.timeout_ms = timeout_ms;
	e.call_ms = call_ms;
	e.helper = LO;
	return e;
}

static Zond__V1__Outcome *
run_call(const probe_env_t *env, const char *variant, int port, int port_hi,
    uint32_t run)
{
	probe_req_t r;
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	memset(&r, 0, sizeof(r));
	r.test = ZOND__V1__TEST_KIND__TEST_CALL;
	r.target = LO;
	r.port = port;
	r.port_hi = port_hi;
	r.run = run;
	r.variant = variant;
	d.text[0] = '\0';
	if (probe_call(env, &r, &o, &d) != ZE_OK)
		fail_msg("probe refused the request: %s", d.text);
	assert_non_null(o);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_CALL);
	return o;
}

static const Zond__V1__CallLeg *
leg(const Zond__V1__CallOutcome *c, const char *dest, const char *payload)
{
	for (size_t i = 0; i < c->n_legs; i++)
		if (strcmp(c->legs[i]->destination, dest) == 0 &&
		    strcmp(c->legs[i]->payload, payload) == 0)
			return c->legs[i];
	fail_msg("no %s/%s leg", dest, payload);
	return NULL;
}

static void
expect_fail(const Zond__V1__Outcome *o, Zond__V1__Failure f)
{
	if (o->failure != f)
		fail_msg("failure %d, wanted %d (detail: %s)", o->failure, f,
		    o->detail ? o->detail : "");
}

/* ------------------------------------------------------------ relay */

static void
t_relay_helper(void **state)
{
	probe_env_t env = env_of(3000, 0);
	Zond__V1__Outcome *o = run_call(&env, "relay", p_base, 0, 0);
	const Zond__V1__CallLeg *l;
	char from[32];

	(void)state;
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->call->n_legs, 4);
	l = leg(o->call, "service", "shaped");
	assert_int_equal(l->failure, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(l->step, "allocate");
	assert_true(l->has_error_code);
	assert_int_equal(l->error_code, 401);
	assert_string_equal(l->realm, "zond");
	assert_true(l->nonce);
	assert_string_equal(l->software, "zond-helper");
	snprintf(from, sizeof(from), LO ":%d", p_base);
	assert_string_equal(l->from, from);
	/* the family only, never the address */
	assert_string_equal(l->mapped, "ipv4");
	assert_int_equal(leg(o->call, "service", "neutral")->failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(leg(o->call, "helper", "shaped")->failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_relay_silent(void **state)
{
	/* a "relay" on 127.0.0.2 that swallows everything, on a port the
	 * helper (127.0.0.1) has too: the helper leg answers the same
	 * messages, the service leg does not -> FAIL_NO_REPLY */
	probe_env_t env = env_of(1500, 0);
	struct sockaddr_in s;
	probe_req_t r;
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(0x7f000002);
	s.sin_port = htons((uint16_t)p_base);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	memset(&r, 0, sizeof(r));
	r.test = ZOND__V1__TEST_KIND__TEST_CALL;
	r.target = "127.0.0.2";
	r.port = p_base;
	r.variant = "relay";
	assert_int_equal(probe_call(&env, &r, &o, &d), ZE_OK);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NO_REPLY);
	assert_int_equal(leg(o->call, "service", "shaped")->failure,
	    ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_false(leg(o->call, "service", "shaped")->has_error_code);
	assert_int_equal(leg(o->call, "service", "neutral")->failure,
	    ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_int_equal(leg(o->call, "helper", "shaped")->failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(leg(o->call, "helper", "neutral")->failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	close(fd);
}

static void
t_port_range(void **state)
{
	probe_env_t env = env_of(3000, 0);
	char want[32];

	(void)state;
	for (uint32_t run = 0; run < 6; run++) {
		Zond__V1__Outcome *o = run_call(&env, "relay", p_base,
		    p_base + NPORTS - 1, run);
		snprintf(want, sizeof(want), LO ":%d",
		    p_base + (int)(run % NPORTS));
		assert_string_equal(o->call->addr, want);
		assert_int_equal(leg(o->call, "service", "shaped")->port,
		    p_base + (int)(run % NPORTS));
		expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

/* ------------------------------------------------------------ flow */

static void
t_flow_ok(void **state)
{
	probe_env_t env = env_of(3000, 2000);
	Zond__V1__Outcome *o = run_call(&env, "flow", p_base + 1, 0, 0);
	const Zond__V1__CallFlow *f = o->call->flow;

	(void)state;
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_non_null(f);
	assert_true(f->connected);
	assert_int_equal(f->sent, 100);
	assert_int_equal(f->received, 100);
	assert_int_equal(f->n_lost_per_s, 2);
	assert_int_equal(f->lost_per_s[0], 0);
	assert_int_equal(f->lost_per_s[1], 0);
	assert_false(f->has_first_silent_s);
	assert_false(f->has_cut_after_s);
	assert_int_equal(f->rate, 50);
	assert_int_equal(leg(o->call, "helper", "neutral")->failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(leg(o->call, "helper", "shaped")->error_code, 401);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_flow_closed(void **state)
{
	probe_env_t env = env_of(1500, 2000);
	int port, fd = udp_lo(&port);
	Zond__V1__Outcome *o;

	(void)state;
	close(fd);	/* nothing there: ICMP port unreachable */
	o = run_call(&env, "flow", port, 0, 0);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_UNREACHABLE);
	assert_false(o->call->flow->connected);
	assert_string_equal(o->call->flow->stage, "binding");
	assert_non_null(strstr(o->detail, "never connects"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_flow_bad_password(void **state)
{
	probe_env_t env = env_of(1500, 2000);
	Zond__V1__Outcome *o;

	(void)state;
	env.call_password = "wrong";
	o = run_call(&env, "flow", p_base, 0, 0);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_BAD_RESPONSE);
	assert_false(o->call->flow->connected);
	assert_string_equal(o->call->flow->stage, "auth");
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* A relay in front of the helper that passes everything, but only the
 * first CUT_AFTER ChannelData datagrams: the flow is cut. */
struct relay {
	int front, back, port, stop[2];
	pthread_t th;
};

static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	struct sockaddr_storage client;
	socklen_t cl = 0;
	uint8_t buf[2048];
	int chandata = 0;

	for (;;) {
		struct pollfd p[3] = {{r->front, POLLIN, 0},
		    {r->back, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
		ssize_t n;
		if (poll(p, 3, 1000) < 0 || p[2].revents)
			return NULL;
		if (p[0].revents) {
			cl = sizeof(client);
			n = recvfrom(r->front, buf, sizeof(buf), 0,
			    (struct sockaddr *)&client, &cl);
			if (n > 0 && (buf[0] & 0xc0) == 0x40 &&
			    ++chandata > CUT_AFTER)
				continue;
			if (n > 0)
				(void)send(r->back, buf, (size_t)n, 0);
		}
		if (p[1].revents) {
			n = recv(r->back, buf, sizeof(buf), 0);
			if (n > 0 && cl > 0)
				(void)sendto(r->front, buf, (size_t)n, 0,
				    (struct sockaddr *)&client, cl);
		}
	}
}

static void
t_flow_cut(void **state)
{
	probe_env_t env = env_of(2000, 3000);
	struct relay r;
	struct sockaddr_in h;
	Zond__V1__Outcome *o;
	const Zond__V1__CallFlow *f;
	int bp;

	(void)state;
	r.front = udp_lo(&r.port);
	r.back = udp_lo(&bp);
	memset(&h, 0, sizeof(h));
	h.sin_family = AF_INET;
	h.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h.sin_port = htons((uint16_t)(p_base + 2));
	assert_int_equal(connect(r.back, (struct sockaddr *)&h, sizeof(h)), 0);
	assert_int_equal(pipe(r.stop), 0);
	assert_int_equal(pthread_create(&r.th, NULL, relay_main, &r), 0);
	o = run_call(&env, "flow", r.port, 0, 0);
	assert_int_equal(write(r.stop[1], "x", 1), 1);
	pthread_join(r.th, NULL);
	close(r.front);
	close(r.back);
	close(r.stop[0]);
	close(r.stop[1]);
	f = o->call->flow;
	expect_fail(o, ZOND__V1__FAILURE__FAIL_STALL);
	assert_true(f->connected);
	assert_int_equal(f->sent, 150);
	assert_int_equal(f->received, CUT_AFTER);
	assert_true(f->has_cut_after_packets);
	assert_int_equal(f->cut_after_packets, CUT_AFTER);
	assert_int_equal(f->cut_after_s, 1);
	assert_int_equal(f->first_silent_s, 2);
	assert_int_equal(f->n_lost_per_s, 3);
	assert_int_equal(f->lost_per_s[0], 50 - CUT_AFTER);
	assert_int_equal(f->lost_per_s[1], 50);
	assert_int_equal(f->lost_per_s[2], 50);
	assert_non_null(strstr(o->detail, "cut after 1 s / 30 packets"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_relay_helper),
		cmocka_unit_test(t_relay_silent),
		cmocka_unit_test(t_port_range),
		cmocka_unit_test(t_flow_ok),
		cmocka_unit_test(t_flow_closed),
		cmocka_unit_test(t_flow_bad_password),
		cmocka_unit_test(t_flow_cut),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
