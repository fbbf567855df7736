/*
 * test_group — judging a (test, target) group (aggregator/analysis/group.c)
 * hands verdict_judge, for every measurement, the controls and siblings
 * the former nested loop over all pairs did (kept here as the reference,
 * judging through the same verdict_judge, so this checks the selection,
 * not the rules; test_verdict checks those): randomized groups of
 * many agents, controls and probes, starts on a grid so that window and
 * sibling edges are hit exactly, same-agent repeats, ties, windows shorter
 * than the sibling span, and groups with more controls in the window than
 * verdict_judge looks at (issue 15: the loop was quadratic; the rewrite
 * must not change a verdict).  Plus starts at the ends of int64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "group.h"
#include "mk.h"
#include "verdict.h"

#define SEC 1000000LL

/* The judging as analyze.c did it before issue 15: every item against
 * every other (all controls in the window, the same agent's others within
 * 120 s as siblings), verdict_judge capping what it reads. */
static void
ref_judge(const struct verdict_opts *o, int64_t window,
    const struct group_item *g, size_t n, struct verdict_res *out)
{
	const Zond__V1__Measurement **ctl = calloc(n + 1, sizeof(*ctl));
	const Zond__V1__Measurement **sib = calloc(n + 1, sizeof(*sib));

	assert_non_null(ctl);
	assert_non_null(sib);
	for (size_t i = 0; i < n; i++) {
		size_t nc = 0, ns = 0;

		if (!g[i].judge)
			continue;
		for (size_t j = 0; j < n; j++) {
			int64_t dt = g[j].start_us - g[i].start_us;
			if (j == i || dt < -window || dt > window)
				continue;
			if (g[j].control)
				ctl[nc++] = g[j].m;
			else if (memcmp(g[j].agent, g[i].agent,
			    GROUP_AGENT_LEN) == 0 && (dt < 0 ? -dt : dt) <
			    GROUP_SIBLING_US)
				sib[ns++] = g[j].m;
		}
		if (mk_judge(o, g[i].m, ctl, nc, sib, ns, &out[i]) != ZE_OK) {
			out[i].verdict = VERDICT_ANOMALY;
			out[i].method = METHOD_NONE;
		}
	}
	free(ctl);
	free(sib);
}

struct got {
	struct verdict_res *r;
	bool *seen;
	size_t n, calls;
};

static void
got_one(size_t i, const struct verdict_res *r, void *arg)
{
	struct got *g = arg;

	assert_true(i < g->n);
	assert_false(g->seen[i]);
	g->seen[i] = true;
	g->r[i] = *r;
	g->calls++;
}

/* xorshift: reproducible without libc's rand state */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
pick(uint64_t *s, size_t n)
{
	return (size_t)(rnd(s) % n);
}

static int
cmp_start(const void *x, const void *y)
{
	const struct group_item *a = x, *b = y;

	return a->start_us < b->start_us ? -1 : a->start_us > b->start_us;
}

/* One random measurement of test t by agent a. */
static meas_t *
rnd_meas(uint64_t *s, Zond__V1__TestKind t, int a)
{
	static const Zond__V1__Failure fails[] = {
		FL(NONE), FL(NONE), FL(TIMEOUT), FL(RESET), FL(REFUSED),
		FL(LOCAL), FL(BAD_RESPONSE), FL(CERT_INVALID),
	};
	static const char *const qvar[] = { "initial_large", "initial_small",
	    "vn" };
	static const char *const a4[] = { "198.51.100.7", NULL };
	static const char *const a4b[] = { "203.0.113.9", NULL };
	static const char *const bog[] = { "10.0.0.1", NULL };
	static const char *const *const addrs[] = { a4, a4b, bog };
	meas_t *m;

	if (t == TK(DNS)) {
		static const unsigned rcodes[] = { 0, 0, 0, 3, 2 };
		unsigned rc = rcodes[pick(s, ZARRAY_LEN(rcodes))];

		m = mk(t, "example.org", a, FL(NONE));
		if (pick(s, 3) == 0) {
			free(m->outcome->dns->qtype);
			m->outcome->dns->qtype = strdup("AAAA");
			assert_non_null(m->outcome->dns->qtype);
		}
		if (pick(s, 8) != 0)
			mk_dns(m, rc, rc == 0 ? addrs[pick(s, 3)] : NULL);
		if (pick(s, 6) == 0)
			mk_dns(m, 0, addrs[pick(s, 3)]);
		return m;
	}
	if (t == TK(HTTP)) {
		static const char *const titles[] = { "Example Domain",
		    "Access denied", NULL };
		static const char *const hd[] = { "Server: nginx", NULL };
		static const char *const redir[] = {
		    "http://example.org/next", "http://warning.isp.example/",
		    "https://EXAMPLE.org:8443/x" };
		static const uint64_t lens[] = { 5120, 5000, 900, 0 };
		static const unsigned status[] = { 200, 200, 302, 403, 0 };

		m = mk(t, "http://example.org/", a,
		    fails[pick(s, ZARRAY_LEN(fails))]);
		mk_http(m, pick(s, 10) == 0 ? "https://example.org/" :
		    "http://example.org/", status[pick(s, ZARRAY_LEN(status))],
		    lens[pick(s, ZARRAY_LEN(lens))],
		    titles[pick(s, ZARRAY_LEN(titles))],
		    pick(s, 2) ? hd : NULL, NULL);
		if (pick(s, 4) == 0) {
			Zond__V1__HttpOutcome *h = m->outcome->http;

			h->redirects = calloc(1, sizeof(*h->redirects));
			assert_non_null(h->redirects);
			h->redirects[0] = strdup(redir[pick(s,
			    ZARRAY_LEN(redir))]);
			assert_non_null(h->redirects[0]);
			h->n_redirects = 1;
		}
		if (pick(s, 8) == 0) {
			m->outcome->http->blockpage = strdup(pick(s, 2) ?
			    "ru-rkn" : "ru-other");
			assert_non_null(m->outcome->http->blockpage);
		}
		return m;
	}
	m = mk(t, "192.0.2.1:443", a, fails[pick(s, ZARRAY_LEN(fails))]);
	if (t == TK(QUIC))
		mk_quic(m, qvar[pick(s, 3)], (int)pick(s, 3) - 1);
	if (t == TK(TLS))
		mk_tls(m, pick(s, 2) ? "client_hello" : "connect",
		    pick(s, 2) ? "example.net" : NULL, pick(s, 2) ? FL(NONE) :
		    FL(CERT_INVALID));
	return m;
}

/* Fingerprints for half the groups: one of the random DNS answers and
 * one of the random redirects look censored, so controls are dropped. */
static const char FP_CSV[] =
    "name,scope,location_found,pattern_type,pattern,confidence_no_fp,"
    "expected_countries\n"
    "t.dns,nat,dns,full,203.0.113.9,100,RU\n"
    "t.rt,isp,header.Location,prefix,http://warning.isp.example,100,RU\n";

/* One random group: judge it both ways and compare every result. */
static void
one_group(uint64_t seed)
{
	static const Zond__V1__TestKind tests[] = { TK(QUIC), TK(TCP),
	    TK(DNS), TK(HTTP), TK(TLS) };
	static const int64_t windows[] = { 3600 * SEC, 600 * SEC, 150 * SEC,
	    120 * SEC, 90 * SEC, 60 * SEC, 30 * SEC, 0, -1 };
	uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
	struct verdict_opts o;
	Zond__V1__TestKind t = tests[pick(&s, ZARRAY_LEN(tests))];
	int64_t window = windows[pick(&s, ZARRAY_LEN(windows))];
	size_t nagents = 1 + pick(&s, 40);
	size_t n = pick(&s, 8) == 0 ? 600 + pick(&s, 1500) : pick(&s, 200);
	size_t ctl_pct = 5 + pick(&s, 60);
	int64_t spread = 1 + (int64_t)pick(&s, 120);	/* grid slots */
	struct group_item *g = calloc(n + 1, sizeof(*g));
	struct verdict_res *want = calloc(n + 1, sizeof(*want));
	struct fpdb *db = NULL;
	struct got got;
	zdiag_t d;

	verdict_opts_default(&o);
	if (pick(&s, 2) == 0) {
		if (fpdb_parse("fp.csv", FP_CSV, sizeof(FP_CSV) - 1, &db,
		    &d) != ZE_OK)
			fail_msg("%s", d.text);
		o.fp = db;
	}
	assert_non_null(g);
	assert_non_null(want);
	got.r = calloc(n + 1, sizeof(*got.r));
	got.seen = calloc(n + 1, sizeof(*got.seen));
	got.n = n;
	got.calls = 0;
	assert_non_null(got.r);
	assert_non_null(got.seen);
	for (size_t i = 0; i < n; i++) {
		/* agents 1..nagents; the first ctl_pct percent are controls */
		int a = 1 + (int)pick(&s, nagents);
		meas_t *m = rnd_meas(&s, t, a);

		/* a 30 s grid around the window (starts land exactly on
		 * +-window and +-120 s of each other), sometimes a few
		 * microseconds off it */
		m->start_us = 1767225600000000LL + ((int64_t)pick(&s,
		    (size_t)(2 * spread + 1)) - spread) * 30 * SEC;
		if (pick(&s, 10) == 0)
			m->start_us += (int64_t)pick(&s, 3) - 1;
		g[i].m = m;
		g[i].agent = m->agent.data;
		g[i].start_us = m->start_us;
		g[i].control = (size_t)(a - 1) * 100 < ctl_pct * nagents;
		g[i].judge = pick(&s, 4) != 0;
	}
	/* group order: by start, ties as they fall */
	if (n > 1)
		qsort(g, n, sizeof(*g), cmp_start);
	ref_judge(&o, window, g, n, want);
	assert_int_equal(group_judge(&o, window, g, n, got_one, &got),
	    ZE_OK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got.seen[i], g[i].judge);
		if (!g[i].judge)
			continue;
		if (got.r[i].verdict != want[i].verdict ||
		    got.r[i].method != want[i].method ||
		    got.r[i].expire_to != want[i].expire_to ||
		    got.r[i].confirmed != want[i].confirmed ||
		    strcmp(got.r[i].reason, want[i].reason) != 0)
			fail_msg("seed %llu item %zu of %zu (window %lld): "
			    "%s/%s \"%s\", reference %s/%s \"%s\"",
			    (unsigned long long)seed, i, n, (long long)window,
			    verdict_name(got.r[i].verdict),
			    method_name(got.r[i].method), got.r[i].reason,
			    verdict_name(want[i].verdict),
			    method_name(want[i].method), want[i].reason);
	}
	for (size_t i = 0; i < n; i++)
		mk_free((meas_t *)(uintptr_t)g[i].m);
	free(g);
	free(want);
	free(got.r);
	free(got.seen);
	fpdb_free(&db);
}

static void
t_equals_all_pairs(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++)
		one_group(seed);
}

/* More controls in the window than verdict_judge reads: the first ones
 * in group order decide, as before.  The first VERDICT_CONTROL_MAX
 * controls fail, the later ones work: a probe timeout is "down". */
static void
t_cap_keeps_the_first(void **state)
{
	size_t n = 3 * VERDICT_CONTROL_MAX + 1;
	struct group_item *g = calloc(n, sizeof(*g));
	struct got got;

	(void)state;
	assert_non_null(g);
	got.r = calloc(n, sizeof(*got.r));
	got.seen = calloc(n, sizeof(*got.seen));
	got.n = n;
	got.calls = 0;
	assert_non_null(got.r);
	assert_non_null(got.seen);
	for (size_t i = 0; i < n; i++) {
		bool ctl = i + 1 < n;
		meas_t *m = mk(TK(TCP), "192.0.2.1:443", ctl ? 2 : 1,
		    ctl ? (i < VERDICT_CONTROL_MAX ? FL(TIMEOUT) : FL(NONE)) :
		    FL(TIMEOUT));
		m->start_us = 1767225600000000LL + (int64_t)i * SEC;
		g[i].m = m;
		g[i].agent = m->agent.data;
		g[i].start_us = m->start_us;
		g[i].control = ctl;
		g[i].judge = !ctl;
	}
	assert_int_equal(group_judge(NULL, 3600 * SEC, g, n, got_one, &got),
	    ZE_OK);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.r[n - 1].verdict, VERDICT_DOWN);
	for (size_t i = 0; i < n; i++)
		mk_free((meas_t *)(uintptr_t)g[i].m);
	free(g);
	free(got.r);
	free(got.seen);
}

/* Starts at the ends of int64 (whatever an agent signed): no overflow
 * (UBSan), and the window still holds exactly what is within it. */
static void
t_extreme_starts(void **state)
{
	static const int64_t starts[] = { INT64_MIN, INT64_MIN + 1,
	    INT64_MAX - 1, INT64_MAX };
	struct group_item g[4] = {{0}};
	struct verdict_res r[4];
	struct got got = { r, (bool[4]){ false }, 4, 0 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		/* probes at MIN and MAX, a working control beside each */
		bool ctl = i == 1 || i == 2;
		meas_t *m = mk(TK(TCP), "192.0.2.1:443", ctl ? 2 : 1,
		    ctl ? FL(NONE) : FL(TIMEOUT));
		m->start_us = starts[i];
		g[i].m = m;
		g[i].agent = m->agent.data;
		g[i].start_us = starts[i];
		g[i].control = ctl;
		g[i].judge = true;
	}
	assert_int_equal(group_judge(NULL, 3600 * SEC, g, 4, got_one, &got),
	    ZE_OK);
	assert_int_equal(r[0].verdict, VERDICT_BLOCKED);
	assert_int_equal(r[3].verdict, VERDICT_BLOCKED);
	/* a window of 0: only the same microsecond, so no control */
	memset(got.seen, 0, 4 * sizeof(bool));
	assert_int_equal(group_judge(NULL, 0, g, 4, got_one, &got), ZE_OK);
	assert_int_equal(r[0].verdict, VERDICT_PENDING);
	assert_int_equal(r[3].verdict, VERDICT_PENDING);
	for (size_t i = 0; i < 4; i++)
		mk_free((meas_t *)(uintptr_t)g[i].m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_equals_all_pairs),
		cmocka_unit_test(t_cap_keeps_the_first),
		cmocka_unit_test(t_extreme_starts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
