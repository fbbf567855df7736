/*
 * test_locate — where the censor sits (agent/probe_locate.c; issue 18).
 *
 * "unit": the decision (a series of reactions per TTL -> the hop) with its
 * edge cases, the answer-or-forged rule, which failures are localized,
 * the rate limiter, and the call test's path result taken as it is.
 *
 * "netns SCRIPT HELPER": the real thing as root, in namespaces of its own
 * (SCRIPT is locate_net.sh: zq2c -> zq2r1 -> zq2r2 -> zq2r3 -> zq2s).  The
 * real zond-helper (HELPER) runs in zq2s, TLS on its bulk port 4433, its
 * UDP ports closed; censor rules go into r2's
 * FORWARD chain; the test process sits in zq2c and localizes:
 * (a) an RST on the SNI, (b) a drop of the ClientHello, (c) a drop of the
 * QUIC-shaped datagram by its version bytes (u32), (c2) a drop of a
 * STUN datagram by address and port (the neutral goes to another port
 * and passes), (d) no censor, (e) a
 * routing loop that expires every TTL (the packet budget); (f) the
 * scheduler localizes a failed tls row once per interval and the signed
 * measurement carries it; (g) a reset and a drop over IPv6.  In every case
 * the packets r1 saw from the agent are counted and must not exceed 64.
 * Without root it is skipped (77), never passed; the namespaces are
 * removed on exit, failed or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "key.h"
#include "measure.h"
#include "probe.h"
#include "probe_locate.h"
#include "probe_util.h"
#include "scheduler.h"
#include "targets.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#define EXIT_SKIP 77
#define S(x) ZOND__V1__LOCATE_SEEN__LOCATE_SEEN_##x
#define R(x) ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_##x
#define F(x) ZOND__V1__FAILURE__FAIL_##x
#define T(x) ZOND__V1__TEST_KIND__TEST_##x
#define LOCATED ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED
#define NOT_LOCATED ZOND__V1__LOCATE_RESULT__LOCATE_NOT_LOCATED

/* ------------------------------------------------------------ unit */

static void
obs_set(struct locate_obs *o, size_t n, const locate_seen_t *trig,
    const locate_seen_t *neut)
{
	size_t i;

	for (i = 0; i < n; i++) {
		o[i].ttl = (unsigned)(i + 1);
		o[i].trigger = trig[i];
		o[i].neutral = neut[i];
		o[i].has_addr = trig[i] == S(TIME_EXCEEDED) ||
		    neut[i] == S(TIME_EXCEEDED);
	}
}

static void
t_decide_rst(void **state)
{
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(RESET)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(TIME_EXCEEDED)};
	struct locate_obs o[3];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 3, tr, ne);
	locate_decide(o, 3, &v);
	assert_true(v.located);
	assert_int_equal(v.hop, 2);
	assert_int_equal(v.addr_obs, 1);
	assert_int_equal(v.reaction, R(RST));
	assert_string_equal(v.reason, "reaction_after_hop");
}

static void
t_decide_silent_hop_before_reaction(void **state)
{
	/* hop 2 does not answer: the censor is after hop 1, hop 2 or 3 */
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(SILENCE), S(FORGED)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(SILENCE),
	    S(TIME_EXCEEDED)};
	struct locate_obs o[3];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 3, tr, ne);
	locate_decide(o, 3, &v);
	assert_true(v.located);
	assert_int_equal(v.hop, 1);
	assert_int_equal(v.addr_obs, 0);
	assert_int_equal(v.reaction, R(FORGED));
	assert_string_equal(v.reason, "reaction_after_silent_hops");
}

static void
t_decide_reaction_ttl1(void **state)
{
	const locate_seen_t tr[] = {S(RESET)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED)};
	struct locate_obs o[1];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 1, tr, ne);
	locate_decide(o, 1, &v);
	assert_true(v.located);
	assert_int_equal(v.hop, 0);
	assert_int_equal(v.addr_obs, SIZE_MAX);
	assert_string_equal(v.reason, "reaction_at_first_hop");
}

static void
t_decide_reaction_at_destination(void **state)
{
	/* the neutral reached the host at TTL 3: that RST may be its own */
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(RESET)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(SERVER)};
	struct locate_obs o[3];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 3, tr, ne);
	locate_decide(o, 3, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "reaction_at_destination");
}

static void
t_decide_destination_reached(void **state)
{
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(SERVER)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(SERVER)};
	struct locate_obs o[3];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 3, tr, ne);
	locate_decide(o, 3, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "destination_reached");
	assert_int_equal(v.reaction, R(NONE));
}

static void
t_decide_drop(void **state)
{
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(SILENCE), S(SILENCE)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED),
	    S(TIME_EXCEEDED), S(SERVER)};
	struct locate_obs o[4];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 4, tr, ne);
	locate_decide(o, 4, &v);
	assert_true(v.located);
	assert_int_equal(v.hop, 2);
	assert_int_equal(v.addr_obs, 1);
	assert_int_equal(v.reaction, R(DROP));
	assert_string_equal(v.reason, "dropped_after_hop");
}

static void
t_decide_drop_first_hop(void **state)
{
	const locate_seen_t tr[] = {S(SILENCE), S(SILENCE)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(SERVER)};
	struct locate_obs o[2];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 2, tr, ne);
	locate_decide(o, 2, &v);
	assert_true(v.located);
	assert_int_equal(v.hop, 0);
	assert_int_equal(v.reaction, R(DROP));
	assert_string_equal(v.reason, "dropped_before_first_hop");
}

static void
t_decide_both_silent(void **state)
{
	/* hops past 1 answer nobody: a drop cannot be told from that */
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(SILENCE), S(SILENCE),
	    S(SILENCE)};
	const locate_seen_t ne[] = {S(TIME_EXCEEDED), S(SILENCE), S(SILENCE),
	    S(SILENCE)};
	struct locate_obs o[4];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 4, tr, ne);
	locate_decide(o, 4, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "neutral_silent_too");
}

static void
t_decide_no_answer(void **state)
{
	const locate_seen_t tr[] = {S(SILENCE), S(SILENCE), S(SILENCE)};
	struct locate_obs o[3];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 3, tr, tr);
	locate_decide(o, 3, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "no_answer");
	locate_decide(o, 0, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "nothing_sent");
}

static void
t_decide_all_expired(void **state)
{
	/* every TTL expired (max TTL too small): nothing to say */
	const locate_seen_t tr[] = {S(TIME_EXCEEDED), S(TIME_EXCEEDED)};
	struct locate_obs o[2];
	struct locate_verdict v;

	(void)state;
	obs_set(o, 2, tr, tr);
	locate_decide(o, 2, &v);
	assert_false(v.located);
	assert_string_equal(v.reason, "no_reaction");
}

static void
t_seen_fix(void **state)
{
	(void)state;
	assert_int_equal(locate_seen_fix(S(SERVER), S(TIME_EXCEEDED)),
	    S(FORGED));
	assert_int_equal(locate_seen_fix(S(SERVER), S(SERVER)), S(SERVER));
	assert_int_equal(locate_seen_fix(S(SERVER), S(SILENCE)), S(SERVER));
	assert_int_equal(locate_seen_fix(S(RESET), S(TIME_EXCEEDED)),
	    S(RESET));
}

static void
t_wanted(void **state)
{
	(void)state;
	assert_true(locate_wanted(T(TLS), F(RESET)));
	assert_true(locate_wanted(T(TCP), F(TIMEOUT)));
	assert_true(locate_wanted(T(HTTP), F(BLOCKPAGE)));
	assert_true(locate_wanted(T(QUIC), F(NO_REPLY)));
	assert_true(locate_wanted(T(STUN), F(NO_REPLY)));
	assert_true(locate_wanted(T(TCP), F(REFUSED)));
	assert_true(locate_wanted(T(TLS), F(EOF)));
	assert_true(locate_wanted(T(TLS), F(TLS_ERROR)));
	assert_false(locate_wanted(T(TLS), F(NONE)));
	assert_false(locate_wanted(T(TLS), F(LOCAL)));
	assert_false(locate_wanted(T(TLS), F(CERT_INVALID)));
	assert_false(locate_wanted(T(DNS), F(TIMEOUT)));
	assert_false(locate_wanted(T(THROUGHPUT), F(RESET)));
}

static void
t_limit(void **state)
{
	struct locate_limit l;
	const int64_t h = 3600000000LL, t0 = 1000000;

	(void)state;
	assert_int_equal(locate_limit_init(&l, 3, 3600000, 2), ZE_OK);
	assert_true(locate_limit_take(&l, 0, t0));
	assert_false(locate_limit_take(&l, 0, t0 + 1));	/* same target */
	assert_true(locate_limit_take(&l, 1, t0 + 2));
	assert_false(locate_limit_take(&l, 2, t0 + 3));	/* bucket empty */
	assert_false(locate_limit_take(&l, 3, t0 + 3));	/* no such target */
	/* half an hour later one token is back */
	assert_true(locate_limit_take(&l, 2, t0 + h / 2 + 10));
	assert_false(locate_limit_take(&l, 0, t0 + h / 2 + 20));
	/* an hour after its last one, target 0 again */
	assert_true(locate_limit_take(&l, 0, t0 + h + 10));
	locate_limit_fini(&l);
	/* per_hour 0: never */
	assert_int_equal(locate_limit_init(&l, 1, 0, 0), ZE_OK);
	assert_false(locate_limit_take(&l, 0, t0));
	locate_limit_fini(&l);
}

/* The call test's path result becomes the localization, no replay. */
static void
t_from_call(void **state)
{
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__CallOutcome c = ZOND__V1__CALL_OUTCOME__INIT;
	Zond__V1__CallLeg svc = ZOND__V1__CALL_LEG__INIT,
	    neu = ZOND__V1__CALL_LEG__INIT;
	Zond__V1__CallLeg np = ZOND__V1__CALL_LEG__INIT;
	Zond__V1__CallLeg *legs[] = {&neu, &svc, &np};
	Zond__V1__Localization *L;

	(void)state;
	o.has_failure = 1;
	o.failure = F(NO_REPLY);
	o.test_case = ZOND__V1__OUTCOME__TEST_CALL;
	o.call = &c;
	c.variant = "path";
	c.addr = "17.1.2.3:3480";
	c.legs = legs;
	c.n_legs = 3;
	/* the neutral-port series goes to the service with the shaped
	 * datagram too, on another port: never the censor's evidence */
	c.has_neutral_port = 1;
	c.neutral_port = 33434;
	np.destination = "service";
	np.payload = "shaped";
	np.has_port = 1;
	np.port = 33434;
	np.last_hop = 4;
	np.last_hop_addr = "10.0.4.1";
	neu.destination = "service";
	neu.payload = "neutral";
	neu.last_hop = 9;
	neu.reached = 1;
	svc.destination = "service";
	svc.payload = "shaped";
	svc.has_port = 1;
	svc.port = 3480;
	svc.last_hop = 3;
	svc.last_hop_addr = "10.0.3.1";
	assert_int_equal(locate_from_call(&o, &L), ZE_OK);
	assert_non_null(L);
	assert_int_equal(L->result, ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED);
	assert_int_equal(L->censor_hop, 3);
	assert_string_equal(L->censor_addr, "10.0.3.1");
	assert_int_equal(L->reaction,
	    ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_DROP);
	assert_string_equal(L->trigger, "datagram");
	assert_string_equal(L->dst, "17.1.2.3:3480");
	assert_string_equal(L->reason, "call_path");
	assert_int_equal(L->packets, 0);
	zond__v1__localization__free_unpacked(L, NULL);
	/* reached the service: not located */
	svc.reached = 1;
	assert_int_equal(locate_from_call(&o, &L), ZE_OK);
	assert_int_equal(L->result, ZOND__V1__LOCATE_RESULT__LOCATE_NOT_LOCATED);
	assert_string_equal(L->reason, "call_path_reached");
	assert_false(L->has_censor_hop);
	zond__v1__localization__free_unpacked(L, NULL);
	/* success, another variant, another test: nothing */
	svc.reached = 0;
	o.failure = F(NONE);
	assert_int_equal(locate_from_call(&o, &L), ZE_OK);
	assert_null(L);
	o.failure = F(NO_REPLY);
	c.variant = "flow";
	assert_int_equal(locate_from_call(&o, &L), ZE_OK);
	assert_null(L);
	o.test_case = ZOND__V1__OUTCOME__TEST_STUN;
	assert_int_equal(locate_from_call(&o, &L), ZE_OK);
	assert_null(L);
}

/* ------------------------------------------------------------ netns */

#define SRV "10.92.4.4"
#define R2 "10.92.2.2"
#define SRV6 "fd92:4::4"
#define R2_6 "fd92:2::2"
#define SNI "blocked.example"

static const char *script, *helper;
static char tmpdir[64];
static pid_t server = -1;

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		fail_msg("command failed (%d): %s", r, cmd);
}

static void
cleanup(void)
{
	char cmd[512];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	snprintf(cmd, sizeof(cmd), "sh %s down", script);
	(void)!system(cmd);
	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)!system(cmd);
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	exit(1);	/* runs cleanup */
}

static int
enter_ns(const char *name)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

/* Packets r1 saw from the agent since the last call, IPv4 and IPv6. */
static unsigned long
r1_count(void)
{
	FILE *p = popen("{ ip netns exec zq2r1 iptables -t mangle -L PREROUTING "
	    "-v -n -x -Z; ip netns exec zq2r1 ip6tables -t mangle -L PREROUTING "
	    "-v -n -x -Z; } | awk '$0 ~ /10.92.1.2|fd92:1::2/ {n += $1} "
	    "END {print n}'", "r");
	unsigned long n = 0;

	assert_non_null(p);
	if (fscanf(p, "%lu", &n) != 1)
		n = (unsigned long)-1;
	pclose(p);
	return n;
}

/* The rule (NULL: none) in r2's FORWARD chain, for IPv4 and IPv6. */
static void
censor(const char *rule)
{
	sh("ip netns exec zq2r2 iptables -F FORWARD");
	sh("ip netns exec zq2r2 ip6tables -F FORWARD");
	if (rule != NULL) {
		sh("ip netns exec zq2r2 iptables -A FORWARD %s", rule);
		sh("ip netns exec zq2r2 ip6tables -A FORWARD %s", rule);
	}
}

static void
dump(const Zond__V1__Localization *L, unsigned long seen)
{
	size_t i;

	printf("# trigger=%s dst=%s result=%s reason=%s hop=%u addr=%s "
	    "reaction=%s packets=%u (r1 counted %lu) us=%u\n", L->trigger,
	    L->dst, L->result == LOCATED ? "located" : "not_located",
	    L->reason, L->censor_hop, L->censor_addr ? L->censor_addr : "-",
	    locate_reaction_name(L->reaction), L->packets, seen,
	    L->duration_us);
	for (i = 0; i < L->n_hops; i++)
		printf("#   ttl=%u trigger=%s neutral=%s addr=%s sent=%u rtt_us=%u%s\n",
		    L->hops[i]->ttl, locate_seen_name(L->hops[i]->trigger),
		    locate_seen_name(L->hops[i]->neutral),
		    L->hops[i]->addr ? L->hops[i]->addr : "-",
		    L->hops[i]->sent, L->hops[i]->rtt_us,
		    L->hops[i]->retried ? " retried" : "");
}

/* Localize a failed tls test to addr (SRV:4433) with SNI. */
static Zond__V1__Localization *
locate_tls_at(const char *addr, Zond__V1__Failure f, unsigned long *seen)
{
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = T(TLS), .target = SNI, .port = 4433};
	struct locate_cfg cfg = {.max_ttl = 16, .budget_ms = LOCATE_MAX_MS};
	Zond__V1__Outcome *o = pu_outcome_for(T(TLS));
	Zond__V1__Localization *L = NULL;

	assert_non_null(o);
	o->failure = f;
	o->tls->addr = pu_strdup(addr);
	o->tls->sni = pu_strdup(SNI);
	o->tls->error_stage = pu_strdup("handshake");
	(void)r1_count();
	assert_int_equal(locate_run(&env, &cfg, &req, o, NULL, &L), ZE_OK);
	*seen = r1_count();
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_non_null(L);
	dump(L, *seen);
	assert_true(L->packets <= LOCATE_MAX_PACKETS);
	assert_true(*seen <= LOCATE_MAX_PACKETS);
	assert_int_equal(*seen, L->packets);
	assert_true(L->duration_us <= LOCATE_MAX_MS * 1000U + 2000000U);
	return L;
}

static Zond__V1__Localization *
locate_tls(Zond__V1__Failure f, unsigned long *seen)
{
	return locate_tls_at(SRV ":4433", f, seen);
}

/* IPv6: IPV6_UNICAST_HOPS, ICMPv6 time exceeded (a reset, then a drop) */
static void
t_tls_v6(void **state)
{
	Zond__V1__Localization *L;
	unsigned long seen;

	(void)state;
	censor("-p tcp -m string --string " SNI " --algo bm "
	    "-j REJECT --reject-with tcp-reset");
	L = locate_tls_at("[" SRV6 "]:4433", F(RESET), &seen);
	assert_string_equal(L->dst, "[" SRV6 "]:4433");
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2_6);
	assert_int_equal(L->reaction, R(RST));
	zond__v1__localization__free_unpacked(L, NULL);
	censor("-p tcp -m string --string " SNI " --algo bm -j DROP");
	L = locate_tls_at("[" SRV6 "]:4433", F(TIMEOUT), &seen);
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2_6);
	assert_int_equal(L->reaction, R(DROP));
	zond__v1__localization__free_unpacked(L, NULL);
}

static void
t_tls_rst(void **state)
{
	Zond__V1__Localization *L;
	unsigned long seen;

	(void)state;
	censor("-p tcp -m string --string " SNI " --algo bm "
	    "-j REJECT --reject-with tcp-reset");
	L = locate_tls(F(RESET), &seen);
	assert_string_equal(L->trigger, "client_hello");
	assert_string_equal(L->dst, SRV ":4433");
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2);
	assert_int_equal(L->reaction, R(RST));
	assert_int_equal(L->n_hops, 3);
	assert_int_equal(L->hops[0]->trigger, S(TIME_EXCEEDED));
	assert_int_equal(L->hops[2]->trigger, S(RESET));
	zond__v1__localization__free_unpacked(L, NULL);
}

static void
t_tls_drop(void **state)
{
	Zond__V1__Localization *L;
	unsigned long seen;

	(void)state;
	censor("-p tcp -m string --string " SNI " --algo bm -j DROP");
	L = locate_tls(F(TIMEOUT), &seen);
	assert_string_equal(L->trigger, "client_hello");
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2);
	assert_int_equal(L->reaction, R(DROP));
	assert_string_equal(L->reason, "dropped_after_hop");
	zond__v1__localization__free_unpacked(L, NULL);
}

static void
t_no_censor(void **state)
{
	Zond__V1__Localization *L;
	unsigned long seen;

	(void)state;
	censor(NULL);
	L = locate_tls(F(RESET), &seen);
	assert_int_equal(L->result, NOT_LOCATED);
	assert_string_equal(L->reason, "destination_reached");
	assert_false(L->has_censor_hop);
	assert_null(L->censor_addr);
	assert_int_equal(L->n_hops, 4);	/* r1, r2, r3, the server */
	assert_int_equal(L->hops[3]->trigger, S(SERVER));
	zond__v1__localization__free_unpacked(L, NULL);
}

static void
t_quic_drop(void **state)
{
	probe_env_t env = {.timeout_ms = 1500};
	struct probe_sent sent = {.len = 0};
	probe_req_t req = {.test = T(QUIC), .target = SRV, .port = 443,
	    .variant = "initial_large", .sent = &sent};
	struct locate_cfg cfg = {.max_ttl = 16, .budget_ms = LOCATE_MAX_MS};
	Zond__V1__Outcome *o = NULL;
	Zond__V1__Localization *L = NULL;
	zdiag_t d;
	unsigned long seen;

	(void)state;
	/* the TSPU rule: UDP to 443, at least 1001 bytes of payload, bytes
	 * 1-4 the QUIC version 1 */
	censor("-p udp --dport 443 -m length --length 1029:65535 "
	    "-m u32 --u32 '0>>22&0x3C@9=0x00000001' -j DROP");
	/* the quic test itself, against the server's closed port: what it
	 * sent is the trigger */
	assert_int_equal(probe_quic(&env, &req, &o, &d), ZE_OK);
	assert_int_equal(sent.len, 1200);
	assert_int_equal(sent.pkt[4], 1);
	o->failure = F(NO_REPLY);
	(void)r1_count();
	assert_int_equal(locate_run(&env, &cfg, &req, o, &sent, &L), ZE_OK);
	seen = r1_count();
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_non_null(L);
	dump(L, seen);
	assert_string_equal(L->trigger, "quic_initial");
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2);
	assert_int_equal(L->reaction, R(DROP));
	/* the neutral datagram of the same size went through to the host */
	assert_int_equal(L->hops[L->n_hops - 1]->neutral, S(SERVER));
	assert_int_equal(seen, L->packets);
	assert_true(seen <= LOCATE_MAX_PACKETS);
	zond__v1__localization__free_unpacked(L, NULL);
}

/* A drop keyed on the address and port (a call relay's), whatever the
 * payload: the neutral datagram goes to another port and gets past it. */
static void
t_udp_port_drop(void **state)
{
	probe_env_t env = {.timeout_ms = 1500};
	struct probe_sent sent = {.len = 0};
	probe_req_t req = {.test = T(STUN), .target = SRV, .port = 3478,
	    .variant = "plain", .sent = &sent};
	struct locate_cfg cfg = {.max_ttl = 16, .budget_ms = LOCATE_MAX_MS};
	Zond__V1__Outcome *o = NULL;
	Zond__V1__Localization *L = NULL;
	zdiag_t d;
	unsigned long seen;

	(void)state;
	censor("-p udp --dport 3478 -j DROP");
	assert_int_equal(probe_stun(&env, &req, &o, &d), ZE_OK);
	assert_true(sent.len >= 20);
	o->failure = F(NO_REPLY);
	(void)r1_count();
	assert_int_equal(locate_run(&env, &cfg, &req, o, &sent, &L), ZE_OK);
	seen = r1_count();
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_non_null(L);
	dump(L, seen);
	assert_string_equal(L->trigger, "datagram");
	assert_int_equal(L->result, LOCATED);
	assert_int_equal(L->censor_hop, 2);
	assert_non_null(L->censor_addr);
	assert_string_equal(L->censor_addr, R2);
	assert_int_equal(L->reaction, R(DROP));
	assert_int_equal(L->hops[L->n_hops - 1]->neutral, S(SERVER));
	assert_int_equal(seen, L->packets);
	zond__v1__localization__free_unpacked(L, NULL);
}

static void
t_budget(void **state)
{
	probe_env_t env = {.timeout_ms = 2000};
	probe_req_t req = {.test = T(TCP), .target = "10.92.9.9", .port = 443};
	struct locate_cfg cfg = {.max_ttl = LOCATE_MAX_TTL,
	    .budget_ms = LOCATE_MAX_MS};
	Zond__V1__Outcome *o = pu_outcome_for(T(TCP));
	Zond__V1__Localization *L = NULL;
	unsigned long seen;
	int64_t t0;

	(void)state;
	censor(NULL);
	assert_non_null(o);
	o->failure = F(TIMEOUT);
	o->tcp->addr = pu_strdup("10.92.9.9:443");
	(void)r1_count();
	t0 = ztime_mono_us();
	assert_int_equal(locate_run(&env, &cfg, &req, o, NULL, &L), ZE_OK);
	seen = r1_count();
	zond__v1__outcome__free_unpacked(o, NULL);
	assert_non_null(L);
	dump(L, seen);
	assert_string_equal(L->trigger, "syn");
	assert_int_equal(L->result, NOT_LOCATED);
	assert_string_equal(L->reason, "packet_budget");
	assert_true(L->packets <= LOCATE_MAX_PACKETS);
	assert_true(L->packets > LOCATE_MAX_PACKETS - 8);
	assert_int_equal(seen, L->packets);
	assert_true(ztime_mono_us() - t0 <= (LOCATE_MAX_MS + 1000) * 1000LL);
	zond__v1__localization__free_unpacked(L, NULL);
}

/* Through the agent's own path: the scheduler runs a tls row whose
 * handshake the censor resets, localizes it (and, by the rate limit, only
 * once), and the signed measurement carries the localization. */
static void
t_scheduler_signed(void **state)
{
	probe_env_t env = {.timeout_ms = 2000};
	struct sched_opts so = {.interval_ms = 3600000, .concurrency = 1,
	    .locate = true, .locate_max_ttl = 16,
	    .locate_interval_ms = 3600000, .locate_per_hour = 6};
	static const char text[] = "service,test,target,ip,port\n"
	    "s,tls," SNI "," SRV ",4433\n";
	targets_t t;
	sched_t *s = NULL;
	sched_result_t *r[2] = {NULL, NULL};
	zkey_t *k = NULL;
	zidgen_t ids;
	struct measure_ctx mc = {.resolver = NULL};
	zbuf_t body;
	uint8_t sig[KEY_SIG_LEN];
	wire_meas_t *m = NULL;
	zdiag_t d;
	int i;

	(void)state;
	censor("-p tcp -m string --string " SNI " --algo bm "
	    "-j REJECT --reject-with tcp-reset");
	targets_init(&t);
	if (targets_parse_endpoints(&t, "t.csv", text, strlen(text), &d) !=
	    ZE_OK)
		fail_msg("%s", d.text);
	assert_int_equal(sched_new(&so, &t, &env, &s), ZE_OK);
	for (i = 0; i < 2; i++) {
		int64_t end = ztime_mono_us() + 40 * 1000000LL;
		sched_run_all(s);
		while (r[i] == NULL && ztime_mono_us() < end) {
			struct pollfd p = {.fd = sched_fd(s), .events = POLLIN};
			poll(&p, 1, 200);
			r[i] = sched_pop(s);
		}
		assert_non_null(r[i]);
	}
	sched_free(&s);
	assert_int_equal(r[0]->outcome->failure, F(RESET));
	assert_non_null(r[0]->locate);
	assert_null(r[1]->locate);	/* one per target per interval */
	assert_int_equal(key_generate(&k), ZE_OK);
	zidgen_init(&ids);
	mc.key = k;
	mc.ids = &ids;
	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	assert_int_equal(measure_seal(&mc, &t.v[0], r[0], 1, &body, sig),
	    ZE_OK);
	assert_int_equal(wire_meas_decode(body.data, body.len, &m, &d), ZE_OK);
	assert_int_equal(wire_meas_check(m, body.data, body.len, &d), ZE_OK);
	assert_non_null(m->locate);
	assert_string_equal(m->locate->trigger, "client_hello");
	assert_int_equal(m->locate->result, LOCATED);
	assert_int_equal(m->locate->censor_hop, 2);
	assert_string_equal(m->locate->censor_addr, R2);
	assert_int_equal(m->locate->reaction, R(RST));
	/* the localization is part of the measurement's time */
	assert_true(m->duration_us >= m->locate->duration_us);
	wire_meas_free(m);
	zbuf_free(&body);
	key_free(&k);
	sched_result_free(r[0]);
	sched_result_free(r[1]);
	targets_free(&t);
}

static int
netns_main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_tls_rst),
		cmocka_unit_test(t_tls_drop),
		cmocka_unit_test(t_no_censor),
		cmocka_unit_test(t_quic_drop),
		cmocka_unit_test(t_udp_port_drop),
		cmocka_unit_test(t_budget),
		cmocka_unit_test(t_scheduler_signed),
		cmocka_unit_test(t_tls_v6),
	};
	char cmd[512];
	FILE *f;
	int i;

	if (geteuid() != 0) {
		fprintf(stderr, "test_locate: needs root for namespaces; "
		    "skipped\n");
		return EXIT_SKIP;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGABRT, on_signal);	/* a failed assert in a library */
	if (sodium_init() < 0)
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zq2-locate-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "sh %s up", script);
	if (system(cmd) != 0)
		return 1;
	/* zond-helper serves each connection at once (non-blocking), so a
	 * connection the censor reset on our side only does not hold up the
	 * next */
	snprintf(cmd, sizeof(cmd), "%s/helper.conf", tmpdir);
	if ((f = fopen(cmd, "w")) == NULL)
		return 1;
	fprintf(f, "[helper]\nlisten = ::\nuser = \"\"\n[ports]\n"
	    "stun = 0\nquic = 0\nwireguard = 0\nopenvpn = 0\necho = 0\n"
	    "bulk = 4433\n");
	if (fclose(f) != 0)
		return 1;
	if ((server = fork()) == 0) {
		char conf[128];
		snprintf(conf, sizeof(conf), "%s/helper.conf", tmpdir);
		if (enter_ns("zq2s") != 0)
			_exit(1);
		execl(helper, helper, "-c", conf, (char *)NULL);
		_exit(1);
	}
	if (server < 0 || enter_ns("zq2c") != 0)
		return 1;
	/* wait for the server to listen */
	for (i = 0; i < 50; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		Zond__V1__Failure fk;
		int e, fd;
		int64_t us;
		if (pu_parse_addr(SRV ":4433", 0, &ss, &sl, NULL) != ZE_OK)
			return 1;
		fd = pu_connect((struct sockaddr *)&ss, sl, SOCK_STREAM, 200,
		    &fk, &e, &us);
		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(100000);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(t_decide_rst),
		cmocka_unit_test(t_decide_silent_hop_before_reaction),
		cmocka_unit_test(t_decide_reaction_ttl1),
		cmocka_unit_test(t_decide_reaction_at_destination),
		cmocka_unit_test(t_decide_destination_reached),
		cmocka_unit_test(t_decide_drop),
		cmocka_unit_test(t_decide_drop_first_hop),
		cmocka_unit_test(t_decide_both_silent),
		cmocka_unit_test(t_decide_no_answer),
		cmocka_unit_test(t_decide_all_expired),
		cmocka_unit_test(t_seen_fix),
		cmocka_unit_test(t_wanted),
		cmocka_unit_test(t_limit),
		cmocka_unit_test(t_from_call),
	};

	if (argc > 3 && strcmp(argv[1], "netns") == 0) {
		script = argv[2];
		helper = argv[3];
		if (argc > 4)	/* one case by name, e.g. "t_tls_rst" */
			cmocka_set_test_filter(argv[4]);
		return netns_main();
	}
	return cmocka_run_group_tests(unit, NULL, NULL);
}
