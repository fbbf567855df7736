/*
 * test_tls_shape_netns — a censor rule keyed on SNI plus ClientHello
 * shape is visible to the tls probe (docs/PROBES-TCP.md "ClientHello
 * shapes").
 *
 * Three network namespaces of the test's own, zq3c<pid> (client),
 * zq3r<pid> (router) and zq3s<pid> (server), joined by veth pairs
 * (10.93.1.0/24, 10.93.2.0/24).  The real OpenSSL server of servers.c
 * listens on 10.93.2.2:443 in zq3s; the probe runs from zq3c.  In the
 * router's FORWARD chain an iptables string match drops TCP segments to
 * port 443 that carry both the SNI "ok.test" and the bytes of the
 * application_settings extension (type 17513, ALPN h2), which only the
 * browser shape sends.  So: the openssl shape with SNI ok.test
 * completes, the browser shape with ok.test times out at client_hello
 * while its control SNI (control.test) gets a ServerHello, and the
 * rule's packet counter shows it fired.
 *
 * Needs root, ip(8) and iptables with the string match; without them it
 * exits 77 (skipped), never passes.  The namespaces are removed on every
 * exit path (atexit, and SIGINT/SIGTERM); no address outside them is
 * used.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "probe.h"
#include "servers.h"

#define EXIT_SKIP	77
#define SERVER_IP	"10.93.2.2"
/* application_settings (0x4469), length 5, one protocol "h2" */
#define ALPS_HEX	"|44 69 00 05 00 03 02 68 32|"

static char ns_c[32], ns_r[32], ns_s[32];
static int fd_c = -1, fd_s = -1;
static struct srv *tls;

/* Run a shell command; its exit status (-1 when it could not run). */
static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 || !WIFEXITED(r) ? -1 : WEXITSTATUS(r);
}

static void
cleanup(void)
{
	if (ns_c[0] != '\0')
		(void)sh("ip netns del %s 2>/dev/null; ip netns del %s "
		    "2>/dev/null; ip netns del %s 2>/dev/null", ns_c, ns_r,
		    ns_s);
}

static void
on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
enter(int fd)
{
	return setns(fd, CLONE_NEWNET);
}

/* Build the three namespaces and the rule; 0, or -1 when the host
 * cannot (no root, no ip or iptables, no string match). */
static int
build(void)
{
	char path[64];
	int p = (int)getpid();

	snprintf(ns_c, sizeof(ns_c), "zq3c%d", p);
	snprintf(ns_r, sizeof(ns_r), "zq3r%d", p);
	snprintf(ns_s, sizeof(ns_s), "zq3s%d", p);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	cleanup();
	if (sh("ip netns add %s && ip netns add %s && ip netns add %s",
	    ns_c, ns_r, ns_s) != 0)
		return -1;
	if (sh("ip link add zq3a%d netns %s type veth peer name zq3b%d "
	    "netns %s && ip link add zq3d%d netns %s type veth peer name "
	    "zq3e%d netns %s", p, ns_c, p, ns_r, p, ns_r, p, ns_s) != 0 ||
	    sh("ip -n %s link set lo up && ip -n %s addr add 10.93.1.1/24 "
	    "dev zq3a%d && ip -n %s link set zq3a%d up && ip -n %s route add "
	    "default via 10.93.1.2", ns_c, ns_c, p, ns_c, p, ns_c) != 0 ||
	    sh("ip -n %s addr add 10.93.1.2/24 dev zq3b%d && ip -n %s link "
	    "set zq3b%d up && ip -n %s addr add 10.93.2.1/24 dev zq3d%d && "
	    "ip -n %s link set zq3d%d up && ip netns exec %s sysctl -qw "
	    "net.ipv4.ip_forward=1", ns_r, p, ns_r, p, ns_r, p, ns_r, p,
	    ns_r) != 0 ||
	    sh("ip -n %s link set lo up && ip -n %s addr add " SERVER_IP
	    "/24 dev zq3e%d && ip -n %s link set zq3e%d up && ip -n %s "
	    "route add default via 10.93.2.1", ns_s, ns_s, p, ns_s, p,
	    ns_s) != 0)
		return -1;
	if (sh("ip netns exec %s iptables -A FORWARD -p tcp --dport 443 "
	    "-m string --algo bm --string ok.test -m string --algo bm "
	    "--hex-string '" ALPS_HEX "' -j DROP", ns_r) != 0)
		return -1;
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns_c);
	fd_c = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns_s);
	fd_s = open(path, O_RDONLY | O_CLOEXEC);
	return fd_c >= 0 && fd_s >= 0 ? 0 : -1;
}

/* Packets the router's DROP rule matched so far (-1: unreadable). */
static long
dropped(void)
{
	char cmd[256], line[512];
	long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s iptables -L FORWARD "
	    "-v -x -n", ns_r);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "DROP") != NULL &&
		    strstr(line, "STRING") != NULL)
			n = strtol(line, NULL, 10);
	pclose(f);
	return n;
}

static Zond__V1__Outcome *
run(const char *shape)
{
	probe_env_t env = {.timeout_ms = 1500, .ca_file = srv_ca_file(tls)};
	probe_req_t req = {.test = ZOND__V1__TEST_KIND__TEST_TLS,
	    .target = "ok.test", .ip = SERVER_IP, .port = 443,
	    .sni = "ok.test", .control_sni = "control.test",
	    .variant = shape};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d = {""};

	if (probe_tls(&env, &req, &o, &d) != ZE_OK)
		fail_msg("probe_tls %s: %s", shape, d.text);
	assert_string_equal(o->tls->shape, shape);
	return o;
}

static void
t_shape_rule(void **state)
{
	Zond__V1__Outcome *o;
	long before;

	(void)state;
	/* the library's hello carries the SNI, not the marker: passes */
	before = dropped();
	assert_true(before == 0);
	o = run("openssl");
	if (o->failure != ZOND__V1__FAILURE__FAIL_NONE)
		fail_msg("openssl shape: %s", o->detail);
	assert_true(o->tls->cert_valid);
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_int_equal(dropped(), 0);
	/* the browser-shaped hello with the real SNI is dropped; the same
	 * shape with the control SNI gets its ServerHello */
	o = run("browser");
	if (o->failure != ZOND__V1__FAILURE__FAIL_TIMEOUT)
		fail_msg("browser shape: failure %d (%s)", o->failure,
		    o->detail ? o->detail : "");
	assert_string_equal(o->tls->error_stage, "client_hello");
	assert_true(o->tls->has_control_failure);
	assert_int_equal(o->tls->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->tls->has_control_handshake_us);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* the hello and its retransmissions hit the rule */
	assert_true(dropped() >= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_shape_rule),
	};
	int r;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for namespaces\n");
		return EXIT_SKIP;
	}
	if (build() != 0) {
		fprintf(stderr, "skipped: cannot build the zq3 namespaces or "
		    "the iptables string rule\n");
		return EXIT_SKIP;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (enter(fd_s) != 0 || (tls = srv_tls_at(SERVER_IP, 443)) == NULL ||
	    enter(fd_c) != 0) {
		fprintf(stderr, "cannot start the server in %s: %s\n", ns_s,
		    strerror(errno));
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	srv_stop(&tls);
	curl_global_cleanup();
	close(fd_c);
	close(fd_s);
	return r;
}
