/*
 * test_quic_interop — the quic probe's initial_sni Initial against an
 * independent QUIC server: ngtcp2's example server (Debian package
 * ngtcp2-server, /usr/sbin/gtlsserver, ngtcp2 with GnuTLS) on
 * 127.0.0.1 with a certificate made here.  The server must decrypt the
 * Initial, accept its ClientHello and transport parameters and answer
 * with its own Initial and a Handshake packet (its log says so), and the
 * probe must see that answer for both the real and the control SNI.
 * Without gtlsserver or openssl(1) it exits 77 (skipped), never passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "probe.h"

#define EXIT_SKIP	77
#define SERVER		"/usr/sbin/gtlsserver"

static char dir[64] = "/tmp/zond-quic-interop-XXXXXX";
static pid_t server = -1;
static int port;

static int
free_udp_port(void)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), p;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof(s)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&s, &sl) != 0)
		return -1;
	p = ntohs(s.sin_port);
	close(fd);
	return p;
}

/* Does the server's log hold text? */
static int
log_has(const char *text)
{
	char path[128], line[1024];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/server.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

static void
t_interop(void **state)
{
	probe_env_t env = {.timeout_ms = 3000};
	probe_req_t r = {.test = ZOND__V1__TEST_KIND__TEST_QUIC,
	    .target = "127.0.0.1", .port = port, .variant = "initial_sni",
	    .sni = "www.youtube.com", .control_sni = "www.google.com"};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(probe_quic(&env, &r, &o, &d), ZE_OK);
	if (o->failure != ZOND__V1__FAILURE__FAIL_NONE)
		fail_msg("real SNI: %s", o->detail ? o->detail : "");
	assert_true(o->quic->has_control_failure);
	assert_int_equal(o->quic->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->quic->has_rtt_us && o->quic->has_control_rtt_us);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* the server read our transport parameters and went on to its
	 * Handshake packet: a real handshake answer, not a refusal */
	assert_true(log_has("initial_source_connection_id="));
	assert_true(log_has("type=Handshake"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_interop),
	};
	char cmd[512], logp[128], key[128], crt[128];
	int r;

	if (access(SERVER, X_OK) != 0) {
		fprintf(stderr, "skipped: no %s (Debian ngtcp2-server)\n",
		    SERVER);
		return EXIT_SKIP;
	}
	if (sodium_init() < 0 || mkdtemp(dir) == NULL ||
	    (port = free_udp_port()) < 0)
		return 1;
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", dir);
	snprintf(logp, sizeof(logp), "%s/server.log", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout %s -out %s -days 1 "
	    "-subj /CN=www.youtube.com >/dev/null 2>&1", key, crt);
	if (system(cmd) != 0) {
		fprintf(stderr, "skipped: openssl(1) made no certificate\n");
		return EXIT_SKIP;
	}
	if ((server = fork()) == 0) {
		char p[16];
		FILE *f = freopen(logp, "w", stdout);
		if (f == NULL || dup2(1, 2) < 0)
			_exit(127);
		snprintf(p, sizeof(p), "%d", port);
		execl(SERVER, SERVER, "127.0.0.1", p, key, crt, (char *)NULL);
		_exit(127);
	}
	usleep(500 * 1000);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return r;
}
