/*
 * test_helper_probes — the real zond-helper binary on 127.0.0.1 (high
 * ports from a temporary config), the real stun, quic, vpn, throughput
 * and freeze probes against it, and misbehaving peers written here the
 * way censorship looks from the agent:
 *   - a UDP port with nothing listening (ICMP port unreachable),
 *   - a UDP port that swallows everything,
 *   - a UDP relay in front of the helper that drops WireGuard
 *     initiations and QUIC-v1 payloads of 1001 bytes or more (the TSPU
 *     rule) and passes everything else, baseline included,
 *   - a TCP server that stops sending after N bytes (the freeze),
 *   - a TLS server that throttles, stalls or resets one SNI.
 * Also: garbage of every size 0..1500 does not hurt the helper; `-n` on
 * good and bad configs; privilege drop; clean exit on SIGTERM.
 * Traffic goes to 127.0.0.1 only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "probe.h"
#include "quic.h"
#include "tls.h"

#define LO		"127.0.0.1"
#define QUICK_MS	2000	/* for tests that must wait out a timeout */
#define SLOW_MS		8000	/* for tests that should succeed */

static char tmpdir[64], logpath[128], confpath[128];
static int p_stun, p_quic, p_wg, p_ovpn, p_echo, p_bulk;
static pid_t helper = -1;

/* ------------------------------------------------------------ plumbing */

static int
free_port(int type)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, type, 0), port;

	assert_true(fd >= 0);
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	port = ntohs(s.sin_port);
	close(fd);
	return port;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Whole file (at most 1 MiB) as a string; caller frees. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(buf);
	if (f == NULL)
		return buf;
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Run zond-helper with args; stdout+stderr to out.  Returns the pid. */
static pid_t
spawn(const char *const *args, const char *out)
{
	const char *argv[8] = {ZOND_HELPER_BIN};
	pid_t pid;
	int i;

	for (i = 0; args[i] != NULL && i < 6; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait for pid to exit within ms; its exit status, or -1. */
static int
wait_exit(pid_t pid, int ms)
{
	int st;

	for (int t = 0; t < ms; t += 20) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(20000);
	}
	return -1;
}

static int
run_helper(const char *const *args, const char *out)
{
	pid_t pid = spawn(args, out);
	int rc = wait_exit(pid, 30000);

	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rc;
}

static int
log_has(const char *what, int ms)
{
	for (int t = 0; t <= ms; t += 50) {
		char *s = slurp(logpath);
		int found = strstr(s, what) != NULL;
		free(s);
		if (found)
			return 1;
		usleep(50000);
	}
	return 0;
}

static void
alive(void)
{
	assert_int_equal(waitpid(helper, NULL, WNOHANG), 0);
}

static Zond__V1__Outcome *
run(probe_fn fn, const probe_req_t *req, int64_t timeout_ms)
{
	probe_env_t env;
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	memset(&env, 0, sizeof(env));
	env.timeout_ms = timeout_ms;
	d.text[0] = '\0';
	if (fn(&env, req, &o, &d) != ZE_OK)
		fail_msg("probe refused the request: %s", d.text);
	assert_non_null(o);
	return o;
}

static probe_req_t
req_at(Zond__V1__TestKind t, int port, const char *variant)
{
	probe_req_t r;

	memset(&r, 0, sizeof(r));
	r.test = t;
	r.target = LO;
	r.port = port;
	r.variant = variant;
	return r;
}

static void
expect_fail(const Zond__V1__Outcome *o, Zond__V1__Failure f)
{
	if (o->failure != f)
		fail_msg("failure %d, wanted %d (detail: %s)", o->failure, f,
		    o->detail ? o->detail : "");
}

/* ------------------------------------------------------------ fixture */

static int
group_setup(void **state)
{
	char conf[1024];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zond-helper-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/helper.log", tmpdir);
	snprintf(confpath, sizeof(confpath), "%s/helper.conf", tmpdir);
	do {
		p_stun = free_port(SOCK_DGRAM);
		p_quic = free_port(SOCK_DGRAM);
		p_wg = free_port(SOCK_DGRAM);
		p_ovpn = free_port(SOCK_DGRAM);
		p_echo = free_port(SOCK_DGRAM);
	} while (p_stun == p_quic || p_stun == p_wg || p_stun == p_ovpn ||
	    p_stun == p_echo || p_quic == p_wg || p_quic == p_ovpn ||
	    p_quic == p_echo || p_wg == p_ovpn || p_wg == p_echo ||
	    p_ovpn == p_echo);
	p_bulk = free_port(SOCK_STREAM);
	snprintf(conf, sizeof(conf),
	    "[helper]\nlisten = " LO "\nuser = nobody\nlog_level = info\n"
	    "[ports]\nstun = %d\nquic = %d\nwireguard = %d\nopenvpn = %d\n"
	    "echo = %d\nbulk = %d\n"
	    "[limits]\nbulk_max = 4M\nudp_rate = 100000\n",
	    p_stun, p_quic, p_wg, p_ovpn, p_echo, p_bulk);
	write_file(confpath, conf);
	helper = spawn((const char *const[]){"-c", confpath, NULL}, logpath);
	if (!log_has("event=ready", 20000)) {
		char *s = slurp(logpath);
		fprintf(stderr, "helper did not start:\n%s\n", s);
		free(s);
		return -1;
	}
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_teardown(void **state)
{
	(void)state;
	if (helper > 0 && waitpid(helper, NULL, WNOHANG) == 0) {
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
	}
	if (strncmp(tmpdir, "/tmp/zond-helper-", 17) == 0)
		nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ------------------------------------------------------------ stun */

static void
t_stun_variants(void **state)
{
	static const char *const v[] = {"plain", "whatsapp", "telegram"};
	char addr[32];

	(void)state;
	snprintf(addr, sizeof(addr), LO ":%d", p_stun);
	for (size_t i = 0; i < 3; i++) {
		probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_STUN, p_stun,
		    v[i]);
		Zond__V1__Outcome *o = run(probe_stun, &r, SLOW_MS);
		expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
		assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_STUN);
		assert_string_equal(o->stun->addr, addr);
		assert_string_equal(o->stun->variant, v[i]);
		assert_string_equal(o->stun->mapped, "ipv4");
		assert_true(o->stun->has_rtt_us && o->stun->rtt_us > 0);
		assert_true(o->stun->has_baseline_ok && o->stun->baseline_ok);
		zond__v1__outcome__free_unpacked(o, NULL);
	}
	/* host:port in the target, and the echo port (every port answers) */
	{
		probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_STUN, 0,
		    NULL);
		Zond__V1__Outcome *o;
		snprintf(addr, sizeof(addr), LO ":%d", p_echo);
		r.target = addr;
		o = run(probe_stun, &r, SLOW_MS);
		expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
		assert_string_equal(o->stun->addr, addr);
		assert_string_equal(o->stun->variant, "plain");
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

static void
t_stun_unreachable(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_STUN,
	    free_port(SOCK_DGRAM), "plain");
	Zond__V1__Outcome *o;

	(void)state;
	o = run(probe_stun, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_UNREACHABLE);
	assert_false(o->stun->baseline_ok);
	assert_false(o->stun->has_rtt_us);
	assert_null(o->stun->mapped);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_bad_requests(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_STUN, p_stun, "skype");
	probe_env_t env = {.timeout_ms = 100};
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	(void)state;
	assert_int_equal(probe_stun(&env, &r, &o, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "skype"));
	r.variant = NULL;
	r.target = "stun.example.org";	/* probes never resolve */
	assert_int_equal(probe_stun(&env, &r, &o, &d), ZE_INVAL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, p_quic, "initial_huge");
	assert_int_equal(probe_quic(&env, &r, &o, &d), ZE_INVAL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_VPN, p_wg, "ipsec");
	assert_int_equal(probe_vpn(&env, &r, &o, &d), ZE_INVAL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_THROUGHPUT, p_bulk, NULL);
	assert_int_equal(probe_throughput(&env, &r, &o, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "SNI"));
	r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE, p_bulk, NULL);
	r.bytes = -5;
	assert_int_equal(probe_freeze(&env, &r, &o, &d), ZE_INVAL);
	assert_null(o);
}

/* ------------------------------------------------------------ quic, vpn */

static void
t_quic_helper(void **state)
{
	static const char *const v[] = {"vn", "initial_large",
	    "initial_small"};
	static const uint32_t size[] = {1200, 1200, 1000};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, p_quic,
		    v[i]);
		Zond__V1__Outcome *o = run(probe_quic, &r, SLOW_MS);
		expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
		assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_QUIC);
		assert_string_equal(o->quic->variant, v[i]);
		assert_int_equal(o->quic->sent_bytes, size[i]);
		assert_true(o->quic->has_rtt_us);
		assert_true(o->quic->baseline_ok);
		if (i == 0)	/* the helper lists version 1 */
			assert_non_null(strstr(o->detail, "00000001"));
		zond__v1__outcome__free_unpacked(o, NULL);
	}
}

static void
t_vpn_helper(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_VPN, p_wg,
	    "wireguard");
	Zond__V1__Outcome *o;

	(void)state;
	o = run(probe_vpn, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->vpn->protocol, "wireguard");
	assert_true(o->vpn->baseline_ok && o->vpn->has_rtt_us);
	zond__v1__outcome__free_unpacked(o, NULL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_VPN, p_ovpn, "openvpn");
	o = run(probe_vpn, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->vpn->protocol, "openvpn");
	assert_true(o->vpn->baseline_ok && o->vpn->has_rtt_us);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* A UDP socket that reads nothing: every probe times out. */
static void
t_silent_peer(void **state)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	probe_req_t r;
	Zond__V1__Outcome *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	r = req_at(ZOND__V1__TEST_KIND__TEST_VPN, ntohs(s.sin_port),
	    "wireguard");
	o = run(probe_vpn, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_false(o->vpn->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, ntohs(s.sin_port), "vn");
	o = run(probe_quic, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_TIMEOUT);
	assert_false(o->quic->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	close(fd);
}

/* ------------------------------------------------------------ censor */

struct relay {
	int front, stop[2];
	int up_port, port;
	pthread_t th;
	unsigned dropped, passed;
	const char *sni;	/* set: drop only v1 Initials naming it */
	struct {
		struct sockaddr_in cli;
		int up;
	} map[16];
	size_t nmap;
};

/* The censor's rules: WireGuard handshake initiations, and UDP payloads
 * of at least 1001 bytes whose bytes 1-4 are 00 00 00 01 (FACTS.md). */
static int
censored(const uint8_t *p, size_t n)
{
	if (n == 148 && p[0] == 1 && p[1] == 0 && p[2] == 0 && p[3] == 0)
		return 1;
	return n >= 1001 && p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 1;
}

/* The QUIC SNI rule (net4people/bbs 654): open the Initial with the
 * keys of its DCID, as a censor can, and drop it when it names sni. */
static int
censored_sni(const uint8_t *p, size_t n, const char *sni)
{
	char got[256];

	return quic_initial_sni(p, n, got, sizeof(got)) == 0 &&
	    strcmp(got, sni) == 0;
}

static void *
relay_main(void *arg)
{
	struct relay *rl = arg;
	uint8_t buf[2048];

	for (;;) {
		struct pollfd pfd[18];
		size_t i, np = 0;

		pfd[np].fd = rl->stop[0];
		pfd[np++].events = POLLIN;
		pfd[np].fd = rl->front;
		pfd[np++].events = POLLIN;
		for (i = 0; i < rl->nmap; i++) {
			pfd[np].fd = rl->map[i].up;
			pfd[np++].events = POLLIN;
		}
		if (poll(pfd, np, -1) < 0)
			continue;
		if (pfd[0].revents)
			return NULL;
		if (pfd[1].revents & POLLIN) {
			struct sockaddr_in cli;
			socklen_t cl = sizeof(cli);
			ssize_t n = recvfrom(rl->front, buf, sizeof(buf), 0,
			    (struct sockaddr *)&cli, &cl);
			if (n >= 0 && (rl->sni != NULL ?
			    censored_sni(buf, (size_t)n, rl->sni) :
			    censored(buf, (size_t)n))) {
				rl->dropped++;
			} else if (n >= 0) {
				for (i = 0; i < rl->nmap; i++)
					if (rl->map[i].cli.sin_port ==
					    cli.sin_port)
						break;
				if (i == rl->nmap && i < 16) {
					struct sockaddr_in h;
					memset(&h, 0, sizeof(h));
					h.sin_family = AF_INET;
					h.sin_port =
					    htons((uint16_t)rl->up_port);
					h.sin_addr.s_addr =
					    htonl(INADDR_LOOPBACK);
					rl->map[i].cli = cli;
					rl->map[i].up = socket(AF_INET,
					    SOCK_DGRAM, 0);
					connect(rl->map[i].up,
					    (struct sockaddr *)&h, sizeof(h));
					rl->nmap++;
				}
				if (i < rl->nmap) {
					rl->passed++;
					send(rl->map[i].up, buf, (size_t)n, 0);
				}
			}
		}
		for (i = 0; i < rl->nmap; i++) {
			ssize_t n;
			if (!(pfd[2 + i].revents & POLLIN))
				continue;
			n = recv(rl->map[i].up, buf, sizeof(buf), 0);
			if (n >= 0)
				sendto(rl->front, buf, (size_t)n, 0,
				    (struct sockaddr *)&rl->map[i].cli,
				    sizeof(rl->map[i].cli));
		}
	}
}

static void
relay_start_sni(struct relay *rl, int up_port, const char *sni)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);

	memset(rl, 0, sizeof(*rl));
	rl->up_port = up_port;
	rl->sni = sni;
	assert_int_equal(pipe(rl->stop), 0);
	rl->front = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rl->front, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(rl->front, (struct sockaddr *)&s, &sl),
	    0);
	rl->port = ntohs(s.sin_port);
	assert_int_equal(pthread_create(&rl->th, NULL, relay_main, rl), 0);
}

static void
relay_start(struct relay *rl, int up_port)
{
	relay_start_sni(rl, up_port, NULL);
}

static void
relay_stop(struct relay *rl)
{
	(void)!write(rl->stop[1], "x", 1);
	pthread_join(rl->th, NULL);
	for (size_t i = 0; i < rl->nmap; i++)
		close(rl->map[i].up);
	close(rl->front);
	close(rl->stop[0]);
	close(rl->stop[1]);
}

static void
t_censored_udp(void **state)
{
	struct relay rl;
	probe_req_t r;
	Zond__V1__Outcome *o;
	unsigned dropped;

	(void)state;
	relay_start(&rl, p_quic);
	/* QUIC v1 of 1200 bytes: dropped; the baseline passes. */
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, rl.port, "initial_large");
	o = run(probe_quic, &r, QUICK_MS + 1000);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NO_REPLY);
	assert_true(o->quic->baseline_ok);
	assert_false(o->quic->has_rtt_us);
	assert_int_equal(o->quic->sent_bytes, 1200);
	zond__v1__outcome__free_unpacked(o, NULL);
	dropped = rl.dropped;
	assert_true(dropped >= 2);	/* retransmitted, dropped again */
	/* Under the rule's size, and a grease version: both get through. */
	r.variant = "initial_small";
	o = run(probe_quic, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	r.variant = "vn";
	o = run(probe_quic, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_int_equal(rl.dropped, dropped);
	/* WireGuard dropped, OpenVPN passes (same relay, same port). */
	r = req_at(ZOND__V1__TEST_KIND__TEST_VPN, rl.port, "wireguard");
	o = run(probe_vpn, &r, QUICK_MS + 1000);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NO_REPLY);
	assert_true(o->vpn->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	r.variant = "openvpn";
	o = run(probe_vpn, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	relay_stop(&rl);
}

/* initial_sni: real Initials with the real and the control SNI.  The
 * helper answers both (a Retry); a relay that drops Initials naming the
 * real SNI (a censor reading the Initial) leaves the control answered;
 * the size rule drops both, while initial_small passes. */
static void
t_quic_sni(void **state)
{
	struct relay rl;
	probe_req_t r;
	Zond__V1__Outcome *o;
	zdiag_t d;

	(void)state;
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, p_quic, "initial_sni");
	r.sni = "www.youtube.com";
	r.control_sni = "www.google.com";
	o = run(probe_quic, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->quic->variant, "initial_sni");
	assert_string_equal(o->quic->sni, "www.youtube.com");
	assert_string_equal(o->quic->control_sni, "www.google.com");
	assert_true(o->quic->has_control_failure);
	assert_int_equal(o->quic->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->quic->has_control_rtt_us);
	assert_true(o->quic->has_control_first);
	assert_true(o->quic->has_rtt_us && o->quic->baseline_ok);
	assert_int_equal(o->quic->sent_bytes, 1200);
	zond__v1__outcome__free_unpacked(o, NULL);

	relay_start_sni(&rl, p_quic, "www.youtube.com");
	r.port = rl.port;
	o = run(probe_quic, &r, QUICK_MS + 1000);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NO_REPLY);
	assert_true(o->quic->baseline_ok);
	assert_int_equal(o->quic->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_non_null(strstr(o->detail, "control SNI answered"));
	assert_true(rl.dropped >= 2);
	zond__v1__outcome__free_unpacked(o, NULL);
	relay_stop(&rl);

	relay_start(&rl, p_quic);
	r.port = rl.port;
	o = run(probe_quic, &r, QUICK_MS + 1000);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NO_REPLY);
	assert_int_equal(o->quic->control_failure,
	    ZOND__V1__FAILURE__FAIL_NO_REPLY);
	zond__v1__outcome__free_unpacked(o, NULL);
	r.variant = "initial_small";
	o = run(probe_quic, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	relay_stop(&rl);

	/* no SNI: a numeric target names none */
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, p_quic, "initial_sni");
	o = NULL;
	assert_int_equal(probe_quic(&(probe_env_t){.timeout_ms = 100}, &r,
	    &o, &d), ZE_INVAL);
	assert_non_null(strstr(d.text, "initial_sni needs an SNI"));
	assert_null(o);
}

/* ------------------------------------------------------------ TCP peers */

static int
listen_lo(int *port)
{
	struct sockaddr_in s;
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	*port = ntohs(s.sin_port);
	return fd;
}

/* Wait for fd readable or the stop pipe; 1 readable, 0 stop/timeout. */
static int
wait_in(int fd, int stop, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
	    {.fd = stop, .events = POLLIN}};

	if (poll(p, 2, ms) <= 0 || p[1].revents)
		return 0;
	return 1;
}

struct tcpsrv {
	int lfd, port, stop[2];
	size_t after;		/* stall after this many payload bytes */
	SSL_CTX *ctx;		/* TLS server when set */
	pthread_t th;
};

/* Read the request line; the N asked, or -1. */
static long
read_req(int fd, SSL *ssl, int stop)
{
	char line[80];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		ssize_t r;
		if (ssl == NULL && !wait_in(fd, stop, 10000))
			return -1;
		r = ssl ? SSL_read(ssl, line + n, 1) : read(fd, line + n, 1);
		if (r <= 0)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return strncmp(line, "GET ", 4) == 0 ? strtol(line + 4, NULL, 10) : -1;
}

static int
put(int fd, SSL *ssl, const void *p, size_t n)
{
	if (ssl != NULL)
		return SSL_write(ssl, p, (int)n) == (int)n ? 0 : -1;
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Serve one connection as the misbehaving peer. */
static void
serve(struct tcpsrv *s, int fd)
{
	static uint8_t junk[16384];
	const char *sni = NULL;
	size_t sent = 0, after = s->after, chunk = sizeof(junk);
	int pause_us = 0, reset = 0;
	char hdr[40];
	SSL *ssl = NULL;
	long n;

	if (s->ctx != NULL) {
		ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto out;
		sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		after = (size_t)-1;
		if (sni && strcmp(sni, "throttled.example") == 0)
			chunk = 512, pause_us = 10000;
		else if (sni && strcmp(sni, "stall.example") == 0)
			after = 20000;
		else if (sni && strcmp(sni, "reset.example") == 0)
			after = 5000, reset = 1;
	}
	if ((n = read_req(fd, ssl, s->stop[0])) < 0)
		goto out;
	snprintf(hdr, sizeof(hdr), "OK %ld\n", n);
	if (put(fd, ssl, hdr, strlen(hdr)) != 0)
		goto out;
	while (sent < (size_t)n && sent < after) {
		size_t k = (size_t)n - sent;
		if (k > chunk)
			k = chunk;
		if (k > after - sent)
			k = after - sent;
		if (put(fd, ssl, junk, k) != 0)
			goto out;
		sent += k;
		if (pause_us)
			usleep((useconds_t)pause_us);
	}
	if (reset) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		usleep(100000);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		goto out;
	}
	/* Frozen (or done): hold the connection until the client leaves. */
	while (wait_in(fd, s->stop[0], 30000)) {
		char b[512];
		if (read(fd, b, sizeof(b)) <= 0)
			break;
	}
out:
	SSL_free(ssl);
	close(fd);
}

static void *
tcpsrv_main(void *arg)
{
	struct tcpsrv *s = arg;

	while (wait_in(s->lfd, s->stop[0], -1)) {
		int fd = accept(s->lfd, NULL, NULL), one = 1;
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve(s, fd);
	}
	return NULL;
}

static void
tcpsrv_start(struct tcpsrv *s, size_t after, int tls)
{
	zdiag_t d;

	memset(s, 0, sizeof(*s));
	s->after = after;
	if (tls)
		assert_int_equal(htls_ctx_new("test", &s->ctx, &d), ZE_OK);
	assert_int_equal(pipe(s->stop), 0);
	s->lfd = listen_lo(&s->port);
	assert_int_equal(pthread_create(&s->th, NULL, tcpsrv_main, s), 0);
}

static void
tcpsrv_stop(struct tcpsrv *s)
{
	(void)!write(s->stop[1], "x", 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	SSL_CTX_free(s->ctx);
}

/* ------------------------------------------------------------ freeze */

static void
t_freeze_helper(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE, p_bulk, NULL);
	Zond__V1__Outcome *o;

	(void)state;
	o = run(probe_freeze, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_FREEZE);
	assert_int_equal(o->freeze->requested, 65536);	/* the default */
	assert_int_equal(o->freeze->received, 65536);
	zond__v1__outcome__free_unpacked(o, NULL);
	r.bytes = 3 * 1024 * 1024 + 17;
	o = run(probe_freeze, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->freeze->received, 3 * 1024 * 1024 + 17);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* Over the helper's bulk_max (4M): refused in words, not a freeze. */
	r.bytes = 5 * 1024 * 1024;
	o = run(probe_freeze, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_BAD_RESPONSE);
	assert_non_null(strstr(o->detail, "ERR too big"));
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_freeze_stall(void **state)
{
	struct tcpsrv s;
	probe_req_t r;
	Zond__V1__Outcome *o;

	(void)state;
	tcpsrv_start(&s, 17000, 0);
	r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE, s.port, NULL);
	o = run(probe_freeze, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_STALL);
	assert_int_equal(o->freeze->requested, 65536);
	assert_true(o->freeze->received >= 17000 - 4096);
	assert_true(o->freeze->received <= 17000);
	zond__v1__outcome__free_unpacked(o, NULL);
	tcpsrv_stop(&s);
}

static void
t_freeze_refused(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE,
	    free_port(SOCK_STREAM), NULL);
	Zond__V1__Outcome *o;

	(void)state;
	o = run(probe_freeze, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_REFUSED);
	assert_int_equal(o->freeze->received, 0);
	zond__v1__outcome__free_unpacked(o, NULL);
}

/* ------------------------------------------------------------ throughput */

static void
t_throughput_helper(void **state)
{
	probe_req_t r = req_at(ZOND__V1__TEST_KIND__TEST_THROUGHPUT, p_bulk,
	    NULL);
	Zond__V1__Outcome *o;

	(void)state;
	r.sni = "www.youtube.com";
	r.control_sni = "example.org";
	o = run(probe_throughput, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->test_case, ZOND__V1__OUTCOME__TEST_THROUGHPUT);
	assert_string_equal(o->throughput->sni, "www.youtube.com");
	assert_string_equal(o->throughput->control_sni, "example.org");
	assert_int_equal(o->throughput->bytes, 1024 * 1024);
	assert_true(o->throughput->bytes_per_s > 0);
	assert_true(o->throughput->has_control_failure);
	assert_int_equal(o->throughput->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->throughput->control_bytes_per_s > 0);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* SNI from the target's host name, ip given separately */
	r.sni = NULL;
	r.control_sni = NULL;
	r.target = "googlevideo.com";
	r.ip = LO;
	r.bytes = 100000;
	o = run(probe_throughput, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->throughput->sni, "googlevideo.com");
	assert_int_equal(o->throughput->bytes, 100000);
	assert_false(o->throughput->has_control_failure);
	zond__v1__outcome__free_unpacked(o, NULL);
}

static void
t_throughput_throttled(void **state)
{
	struct tcpsrv s;
	probe_req_t r;
	Zond__V1__Outcome *o;

	(void)state;
	tcpsrv_start(&s, 0, 1);
	r = req_at(ZOND__V1__TEST_KIND__TEST_THROUGHPUT, s.port, NULL);
	r.sni = "throttled.example";
	r.control_sni = "control.example";
	r.bytes = 64 * 1024;	/* 128 chunks of 512 bytes 10 ms apart */
	o = run(probe_throughput, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->throughput->bytes, 64 * 1024);
	assert_int_equal(o->throughput->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	/* At most ~50 KB/s (sleeps only lengthen it) against loopback
	 * speed; a factor of 5 leaves room for a loaded machine. */
	assert_true(o->throughput->bytes_per_s < 55 * 1024);
	if (o->throughput->bytes_per_s * 5 >=
	    o->throughput->control_bytes_per_s)
		fail_msg("real %llu B/s vs control %llu B/s: not throttled",
		    (unsigned long long)o->throughput->bytes_per_s,
		    (unsigned long long)o->throughput->control_bytes_per_s);
	zond__v1__outcome__free_unpacked(o, NULL);

	r.sni = "stall.example";
	r.bytes = 256 * 1024;
	o = run(probe_throughput, &r, QUICK_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_STALL);
	assert_int_equal(o->throughput->bytes, 20000);
	assert_int_equal(o->throughput->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);

	r.sni = "reset.example";
	o = run(probe_throughput, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_RESET);
	assert_true(o->throughput->bytes <= 5000);
	assert_int_equal(o->throughput->control_failure,
	    ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	tcpsrv_stop(&s);
}

/* ------------------------------------------------------------ robustness */

static int
connect_lo(int port)
{
	struct sockaddr_in s;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	return fd;
}

/* Send p, read what comes back until close or 10 s, into out. */
static size_t
tcp_exchange(const void *p, size_t n, char *out, size_t cap)
{
	int fd = connect_lo(p_bulk);
	size_t got = 0;

	if (n > 0)
		assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
	while (got < cap - 1) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;
		if (poll(&pf, 1, 10000) <= 0)
			break;
		if ((r = read(fd, out + got, cap - 1 - got)) <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static void
t_garbage(void **state)
{
	static const uint8_t firsts[] = {0x00, 0x01, 0x38, 0x80, 0xc3, 0x45};
	const int ports[] = {p_stun, p_quic, p_wg, p_ovpn, p_echo};
	uint8_t pkt[1500], tls[200];
	struct sockaddr_in s;
	unsigned seed = 42;
	char resp[256];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	probe_req_t r;
	Zond__V1__Outcome *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t n = 0; n <= sizeof(pkt); n++) {
		for (size_t i = 0; i < n; i++)
			pkt[i] = (uint8_t)rand_r(&seed);
		if (n > 0)
			pkt[0] = firsts[n % sizeof(firsts)];
		if (n >= 8 && n % 2 == 0) {	/* STUN cookie, junk rest */
			pkt[0] = 0;
			pkt[4] = 0x21, pkt[5] = 0x12, pkt[6] = 0xa4;
			pkt[7] = 0x42;
		}
		s.sin_port = htons((uint16_t)ports[n % 5]);
		sendto(fd, pkt, n, 0, (struct sockaddr *)&s, sizeof(s));
		if (n % 100 == 0)
			usleep(2000);	/* let the helper keep up */
	}
	close(fd);
	usleep(200000);
	alive();

	/* TCP: junk without a newline, a bad TLS record, an absurd size,
	 * a connection that says nothing and goes away. */
	memset(pkt, 'x', 100);
	tcp_exchange(pkt, 100, resp, sizeof(resp));
	assert_string_equal(resp, "ERR bad request\n");
	tcp_exchange("GET 99999999999\n", 16, resp, sizeof(resp));
	assert_string_equal(resp, "ERR too big\n");
	tcp_exchange("GET 12abc\r\n", 11, resp, sizeof(resp));
	assert_string_equal(resp, "ERR bad request\n");
	for (size_t i = 0; i < sizeof(tls); i++)
		tls[i] = (uint8_t)rand_r(&seed);
	tls[0] = 0x16, tls[1] = 3, tls[2] = 1;
	tcp_exchange(tls, sizeof(tls), resp, sizeof(resp));
	close(connect_lo(p_bulk));
	alive();

	/* Still answering both kinds of traffic. */
	r = req_at(ZOND__V1__TEST_KIND__TEST_STUN, p_stun, "whatsapp");
	o = run(probe_stun, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->stun->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE, p_bulk, NULL);
	o = run(probe_freeze, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	zond__v1__outcome__free_unpacked(o, NULL);
	alive();
}

/* ------------------------------------------------------------ process */

static void
t_check_configs(void **state)
{
	char path[160], out[160], *s;

	(void)state;
	snprintf(out, sizeof(out), "%s/n.out", tmpdir);
	assert_int_equal(run_helper((const char *const[]){"-n", "-c",
	    confpath, NULL}, out), 0);
	s = slurp(out);
	assert_non_null(strstr(s, "configuration OK"));
	assert_non_null(strstr(s, "[limits] bulk_max = 4194304"));
	free(s);

	snprintf(path, sizeof(path), "%s/bad1.conf", tmpdir);
	write_file(path, "[helper]\nlisten = localhost\n");
	assert_int_equal(run_helper((const char *const[]){"-n", "-c", path,
	    NULL}, out), 1);
	s = slurp(out);
	assert_non_null(strstr(s, "bad1.conf:2:"));
	assert_non_null(strstr(s, "numeric"));
	assert_null(strstr(s, "configuration OK"));
	free(s);

	snprintf(path, sizeof(path), "%s/bad2.conf", tmpdir);
	write_file(path, "[ports]\nstun = 0\nquic = 0\nwireguard = 0\n"
	    "openvpn = 0\necho = 0\nbulk = 0\n");
	assert_int_equal(run_helper((const char *const[]){"-n", "-c", path,
	    NULL}, out), 1);
	s = slurp(out);
	assert_non_null(strstr(s, "nothing to serve"));
	assert_null(strstr(s, "configuration OK"));
	free(s);

	snprintf(path, sizeof(path), "%s/bad3.conf", tmpdir);
	write_file(path, "[ports]\nquic = 70000\n");
	assert_int_equal(run_helper((const char *const[]){"-n", "-c", path,
	    NULL}, out), 1);
	s = slurp(out);
	assert_non_null(strstr(s, "bad3.conf:2:"));
	free(s);
}

/* A second helper on the same ports cannot bind and says so. */
static void
t_port_in_use(void **state)
{
	char out[160], *s;

	(void)state;
	snprintf(out, sizeof(out), "%s/second.log", tmpdir);
	assert_int_equal(run_helper((const char *const[]){"-c", confpath,
	    NULL}, out), 1);
	s = slurp(out);
	assert_non_null(strstr(s, "event=start_failed"));
	assert_non_null(strstr(s, "Address already in use"));
	free(s);
	alive();
}

static void
t_privileges(void **state)
{
	char path[64], *s, *uid;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "/proc/%d/status", (int)helper);
	s = slurp(path);
	uid = strstr(s, "\nUid:");
	assert_non_null(uid);
	/* real, effective, saved, fs: all nobody, none root */
	assert_int_equal(strncmp(uid, "\nUid:\t65534\t65534\t65534\t65534", 29),
	    0);
	free(s);
}

/* A second helper on ::1 (user "", as the lab runs it): the probes over
 * IPv6, the mapped family. */
static void
t_ipv6(void **state)
{
	char conf[512], path[160], out[160], addr[64];
	int us = free_port(SOCK_DGRAM), bulk = free_port(SOCK_STREAM);
	probe_req_t r;
	Zond__V1__Outcome *o;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/v6.conf", tmpdir);
	snprintf(out, sizeof(out), "%s/v6.log", tmpdir);
	snprintf(conf, sizeof(conf), "[helper]\nlisten = ::1\nuser = \"\"\n"
	    "[ports]\nstun = %d\nquic = 0\nwireguard = 0\nopenvpn = 0\n"
	    "echo = 0\nbulk = %d\n", us, bulk);
	write_file(path, conf);
	pid = spawn((const char *const[]){"-c", path, NULL}, out);
	for (int t = 0; t < 400; t++) {
		char *s = slurp(out);
		int up = strstr(s, "event=ready") != NULL;
		free(s);
		if (up)
			break;
		usleep(50000);
	}
	snprintf(addr, sizeof(addr), "[::1]:%d", us);
	r = req_at(ZOND__V1__TEST_KIND__TEST_STUN, 0, "telegram");
	r.target = addr;
	o = run(probe_stun, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_string_equal(o->stun->addr, addr);
	assert_string_equal(o->stun->mapped, "ipv6");
	assert_true(o->stun->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	/* every UDP port answers every shape: QUIC on the STUN port */
	r = req_at(ZOND__V1__TEST_KIND__TEST_QUIC, us, "initial_large");
	r.target = "::1";
	o = run(probe_quic, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_true(o->quic->baseline_ok);
	zond__v1__outcome__free_unpacked(o, NULL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_THROUGHPUT, bulk, NULL);
	r.target = "::1";
	r.sni = "www.youtube.com";
	r.bytes = 200000;
	o = run(probe_throughput, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->throughput->bytes, 200000);
	zond__v1__outcome__free_unpacked(o, NULL);
	r = req_at(ZOND__V1__TEST_KIND__TEST_FREEZE, bulk, NULL);
	r.target = "::1";
	o = run(probe_freeze, &r, SLOW_MS);
	expect_fail(o, ZOND__V1__FAILURE__FAIL_NONE);
	assert_int_equal(o->freeze->received, 65536);
	zond__v1__outcome__free_unpacked(o, NULL);
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 15000), 0);
	if (geteuid() == 0) {	/* user "" keeps root, and says so */
		char *s = slurp(out);
		assert_non_null(strstr(s, "event=running_as_root"));
		free(s);
	}
}

/* Run as root, the helper will not stay root. */
static void
t_refuses_root_user(void **state)
{
	char conf[256], path[160], out[160], *s;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/root.conf", tmpdir);
	snprintf(out, sizeof(out), "%s/root.log", tmpdir);
	snprintf(conf, sizeof(conf), "[helper]\nlisten = " LO "\nuser = root\n"
	    "[ports]\nstun = %d\nquic = 0\nwireguard = 0\nopenvpn = 0\n"
	    "echo = 0\nbulk = 0\n", free_port(SOCK_DGRAM));
	write_file(path, conf);
	assert_int_equal(run_helper((const char *const[]){"-c", path, NULL},
	    out), 1);
	s = slurp(out);
	assert_non_null(strstr(s, "user 'root' is root"));
	free(s);
}

static unsigned long long
stat_of(const char *log, const char *key)
{
	char pat[64];
	const char *p = strstr(log, "event=final_stats");

	snprintf(pat, sizeof(pat), " %s=", key);
	if (p == NULL || (p = strstr(p, pat)) == NULL)
		return 0;
	return strtoull(p + strlen(pat), NULL, 10);
}

static void
t_sigterm(void **state)
{
	char *s;

	(void)state;
	alive();
	assert_int_equal(kill(helper, SIGTERM), 0);
	assert_int_equal(wait_exit(helper, 15000), 0);
	helper = -1;
	s = slurp(logpath);
	assert_non_null(strstr(s, "event=shutdown signal=15"));
	/* The helper told the shapes apart. */
	assert_true(stat_of(s, "stun_whatsapp") >= 2);
	assert_true(stat_of(s, "stun_telegram") >= 1);
	assert_true(stat_of(s, "quic_vn") >= 2);
	assert_true(stat_of(s, "quic_initial") >= 2);
	assert_true(stat_of(s, "wireguard") >= 1);
	assert_true(stat_of(s, "openvpn") >= 2);
	assert_true(stat_of(s, "echo") >= 10);
	assert_true(stat_of(s, "bad") >= 100);	/* the garbage */
	assert_true(stat_of(s, "bulk_tls") >= 3);
	assert_true(stat_of(s, "bulk_bad_request") >= 3);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_stun_variants),
		cmocka_unit_test(t_stun_unreachable),
		cmocka_unit_test(t_bad_requests),
		cmocka_unit_test(t_quic_helper),
		cmocka_unit_test(t_vpn_helper),
		cmocka_unit_test(t_silent_peer),
		cmocka_unit_test(t_censored_udp),
		cmocka_unit_test(t_quic_sni),
		cmocka_unit_test(t_freeze_helper),
		cmocka_unit_test(t_freeze_stall),
		cmocka_unit_test(t_freeze_refused),
		cmocka_unit_test(t_throughput_helper),
		cmocka_unit_test(t_throughput_throttled),
		cmocka_unit_test(t_garbage),
		cmocka_unit_test(t_check_configs),
		cmocka_unit_test(t_port_in_use),
		cmocka_unit_test(t_privileges),
		cmocka_unit_test(t_ipv6),
		cmocka_unit_test(t_refuses_root_user),
		cmocka_unit_test(t_sigterm),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
