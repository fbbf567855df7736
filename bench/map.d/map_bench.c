/*
 * map_bench — the map benchmark of bench/map: incremental roll-ups.
 *
 *   map_bench --data DIR --count N [--days D] [--queries Q]
 *   map_bench --data DIR --trickle SECONDS
 *
 * Creates a fresh store in DIR (which must not hold one), enrolls 3,400
 * probe agents — 85 regions (RU-R01 .. RU-R85) x 20 ASNs, two agents per
 * (region, ASN), as a cell needs (min_agents) — and 4 control agents
 * (DE-BE), and stores N measurements
 * through the store API (store_commit, batches of 5,000), spread evenly
 * over the last D days (default 30) ending now: TCP tests of 20 services
 * with 2 targets each.  Probes cycle through the 40 targets; the control
 * agents measure, in every hour, each target the probes measured in that
 * hour, about 6 % of the probe count per (hour, target) and at least once
 * (so every probe measurement has control data within its +-1 h window;
 * with few measurements per hour that floor makes the control share
 * larger — printed as control_share=).
 *
 * Outcomes (so verdicts vary): service-03 is blocked in regions R01-R20
 * (probes time out, controls connect); service-11 is down (every
 * measurement, controls included, times out); service-07 fails for a
 * third of the probes in regions R41-R60 (mixed); the rest connects.
 *
 * Bodies are real protobuf Measurement encodings; signatures are 64
 * pseudo-random bytes (the analyzer does not verify them; signing 10M
 * bodies would only slow the fill).  Fill is timed but not part of the
 * figures.  Then:
 *   rollup_drain at the real time + 1 day (every control window closed:
 *   each measurement is judged once, finally) -> analysis_s=, analysis_rate=
 *   map queries, rollup_map + map_json into a zbuf, until = end of the
 *   data:
 *     one random service, last 24 h, Q queries     -> p50_ms=, p99_ms=
 *     all services, last 24 h, Q/4 queries         -> p50_ms_all=, ...
 *     one random service, last 7 days, Q/4 queries -> p50_ms_week=, ...
 * Per query type also mean_ms=, mean_ms_rollup_map= (rollup_map alone, the
 * rest is map_json), cells=, json_bytes=, max_ms=; the 24-h all-service
 * map's cells per verdict as cells_24h_<verdict>=.
 * Checks (exit 1 on failure, after printing): pending=0 after the drain,
 * judged= equals the probe count, and the total measurements of the 24-h
 * all-service map equal the probe measurements of its hours.
 * Prints key=value lines (no size suffix: bench/map adds it).
 *
 * --trickle: the live network beside a running aggregator.  Opens the
 * store an earlier run filled (LMDB allows a second process) and, for
 * SECONDS, commits every TRICKLE_MS a batch of TRICKLE_N probe
 * measurements of now (random agents and targets) with a control of
 * each of their targets, so the aggregator's analyzer judges something in
 * every round and keeps changing the store (store_gen).  Prints
 * trickled=.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "map.h"
#include "rollup.h"
#include "store.h"
#include "zond.pb-c.h"
#include "ztime.h"

#define NREG 85
#define NASN 20
#define NSVC 20
#define NTPS 2				/* targets per service */
#define NTGT (NSVC * NTPS)
#define NPERCELL 2			/* probe agents per (region, ASN) */
#define NPROBE (NREG * NASN * NPERCELL)
#define NCTL 4
#define NAGENT (NPROBE + NCTL)
#define BATCH 5000
#define BODY_MAX 512
#define CTL_SHARE 0.06			/* of all measurements */
#define HOUR STORE_HOUR_US

#define TRICKLE_MS 500
#define TRICKLE_N 40

#define SVC_BLOCKED 3			/* in regions 0..19 */
#define SVC_DOWN 11			/* everywhere */
#define SVC_MIXED 7			/* 1/3 of probes in regions 40..59 */

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "map_bench: %s\n", what);
	exit(1);
}

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t
hour_of(int64_t us)
{
	return us <= 0 ? 0 : (uint32_t)(us / HOUR);
}

/* ------------------------------------------------------------ schedule */

static int64_t t0, t1;			/* data span [t0, t1) */
static uint32_t h_first, nhours;	/* hours of the span */

/* Probe measurement i of np: its time, agent and target. */
static int64_t
probe_time(uint64_t i, uint64_t np)
{
	return t0 + (int64_t)((double)(t1 - t0) * ((double)i + 0.5) /
	    (double)np);
}

static unsigned
probe_agent(uint64_t i)
{
	return (unsigned)(i % NPROBE);
}

static unsigned
probe_target(uint64_t i)
{
	return (unsigned)((i / NPROBE + i % NPROBE) % NTGT);
}

/* Controls per (hour, target) for the probe counts in cnt. */
static unsigned
ctl_per(uint32_t c)
{
	double f = CTL_SHARE / (1.0 - CTL_SHARE);
	long r;

	if (c == 0)
		return 0;
	r = lround((double)c * f);
	return r < 1 ? 1 : (unsigned)r;
}

static void
count_probes(uint64_t np, uint32_t *cnt)
{
	memset(cnt, 0, sizeof(*cnt) * nhours * NTGT);
	for (uint64_t i = 0; i < np; i++) {
		uint32_t h = hour_of(probe_time(i, np)) - h_first;
		cnt[(size_t)h * NTGT + probe_target(i)]++;
	}
}

static uint64_t
count_ctl(const uint32_t *cnt)
{
	uint64_t n = 0;

	for (size_t k = 0; k < (size_t)nhours * NTGT; k++)
		n += ctl_per(cnt[k]);
	return n;
}

/* ------------------------------------------------------------ bodies */

struct agent {
	uint8_t pk[STORE_PK_LEN];
	uint64_t seq;
	unsigned region;		/* probes */
};

static struct agent agents[NAGENT];
static char svcname[NSVC][16];
static char tgtname[NTGT][32];

/* Build measurement (agent a, its next seq, target tg, at st). */
static void
build(struct store_meas_in *in, unsigned a, unsigned tg, int64_t st,
    uint8_t *body, uint8_t *id, uint8_t *sig)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TcpOutcome t = ZOND__V1__TCP_OUTCOME__INIT;
	struct agent *ag = &agents[a];
	uint64_t seq = ++ag->seq, ms = (uint64_t)(st / 1000);
	uint64_t hsh = mix64(((uint64_t)a << 40) ^ seq);
	unsigned svc = tg / NTPS;
	bool probe = a < NPROBE, fail;
	size_t n;

	if (svc == SVC_DOWN)
		fail = true;
	else if (!probe)
		fail = false;
	else if (svc == SVC_BLOCKED)
		fail = ag->region < 20;
	else if (svc == SVC_MIXED)
		fail = ag->region >= 40 && ag->region < 60 && hsh % 3 == 0;
	else
		fail = false;
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	for (int i = 6; i < STORE_ID_LEN; i++)
		id[i] = (uint8_t)(mix64(hsh + (uint64_t)i) >> 7);
	for (int i = 0; i < 64; i += 8) {
		uint64_t x = mix64(hsh ^ (uint64_t)(i + 100));
		memcpy(sig + i, &x, 8);
	}
	m.has_id = m.has_seq = m.has_agent = m.has_start_us = 1;
	m.id.data = id;
	m.id.len = STORE_ID_LEN;
	m.seq = seq;
	m.agent.data = ag->pk;
	m.agent.len = STORE_PK_LEN;
	m.start_us = st;
	m.has_duration_us = 1;
	m.duration_us = fail ? 10000000 : 20000 + (uint32_t)(hsh % 5000);
	m.agent_version = "0.1.0-bench";
	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_TCP;
	m.target = tgtname[tg];
	m.service = svcname[svc];
	t.addr = tgtname[tg];
	o.has_failure = o.has_attempts = 1;
	o.attempts = fail ? 3 : 1;
	o.failure = fail ? ZOND__V1__FAILURE__FAIL_TIMEOUT :
	    ZOND__V1__FAILURE__FAIL_NONE;
	o.test_case = ZOND__V1__OUTCOME__TEST_TCP;
	o.tcp = &t;
	m.outcome = &o;
	if ((n = zond__v1__measurement__get_packed_size(&m)) > BODY_MAX)
		die("body too large");
	zond__v1__measurement__pack(&m, body);
	in->id = id;
	in->agent = ag->pk;
	in->seq = seq;
	in->start_us = st;
	in->recv_us = st + 1000000;
	in->test = (uint32_t)m.test;
	in->thash = store_target_hash(tgtname[tg]);
	in->body = body;
	in->body_len = n;
	in->sig = sig;
}

/* ------------------------------------------------------------ fill */

struct filler {
	store_t *s;
	struct store_meas_in in[BATCH];
	enum store_put res[BATCH];
	uint8_t body[BATCH][BODY_MAX];
	uint8_t id[BATCH][STORE_ID_LEN];
	uint8_t sig[BATCH][64];
	size_t nb;
	uint64_t stored;
};

static void
flush(struct filler *f)
{
	zdiag_t d;

	if (f->nb == 0)
		return;
	if (store_commit(f->s, f->in, f->nb, f->res, NULL, 0, &d) != ZE_OK)
		die(d.text);
	for (size_t q = 0; q < f->nb; q++)
		f->stored += f->res[q] == STORE_STORED;
	f->nb = 0;
}

static void
add(struct filler *f, unsigned a, unsigned tg, int64_t st)
{
	size_t k = f->nb;

	build(&f->in[k], a, tg, st, f->body[k], f->id[k], f->sig[k]);
	if (++f->nb == BATCH)
		flush(f);
}

/* ------------------------------------------------------------ queries */

static int
dcmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
pct(double *v, size_t n, double p)
{
	size_t k;

	qsort(v, n, sizeof(*v), dcmp);
	k = (size_t)ceil(p * (double)n) - 1;
	return v[k < n ? k : n - 1];
}

struct qres {
	size_t cells;
	uint64_t meas;
	uint64_t pending;
	size_t bytes;
	uint64_t verdicts[CELL__COUNT];
	double read_ms;			/* rollup_map only */
};

static double
query(store_t *s, int64_t since, int64_t until, const char *svc,
    const struct cell_opts *co, zbuf_t *b, struct qres *qr)
{
	cell_t *cells;
	size_t n;
	uint64_t pending;
	zdiag_t d;
	double a = mono_s(), z;

	if (rollup_map(s, since, until, svc, co, &cells, &n, &pending, &d) !=
	    ZE_OK)
		die(d.text);
	qr->read_ms = (mono_s() - a) * 1000.0;
	zbuf_reset(b);
	if (map_json(b, since, until, cells, n, &pending) != ZE_OK)
		die("map_json failed");
	z = mono_s();
	qr->cells = n;
	qr->pending = pending;
	qr->bytes = b->len;
	qr->meas = 0;
	memset(qr->verdicts, 0, sizeof(qr->verdicts));
	for (size_t i = 0; i < n; i++) {
		qr->meas += cells[i].measurements;
		if (cells[i].verdict < CELL__COUNT)
			qr->verdicts[cells[i].verdict]++;
	}
	rollup_cells_free(cells, n);
	return (z - a) * 1000.0;
}

static void
run_queries(store_t *s, const char *tag, int64_t span, bool one_svc,
    size_t nq, const struct cell_opts *co, zbuf_t *b, uint64_t *rng,
    int64_t until)
{
	double *ms = calloc(nq, sizeof(*ms));
	double sum = 0, rsum = 0;
	uint64_t cells = 0, bytes = 0, pend = 0;
	struct qres qr;

	if (ms == NULL)
		die("out of memory");
	for (size_t q = 0; q < nq; q++) {
		const char *svc = NULL;

		if (one_svc) {
			*rng = mix64(*rng);
			svc = svcname[*rng % NSVC];
		}
		ms[q] = query(s, until - span, until, svc, co, b, &qr);
		sum += ms[q];
		rsum += qr.read_ms;
		cells += qr.cells;
		bytes += qr.bytes;
		pend += qr.pending;
	}
	printf("queries%s=%zu\n", tag, nq);
	printf("mean_ms%s=%.3f\n", tag, sum / (double)nq);
	printf("mean_ms_rollup_map%s=%.3f\n", tag, rsum / (double)nq);
	printf("cells%s=%.1f\n", tag, (double)cells / (double)nq);
	printf("json_bytes%s=%.0f\n", tag, (double)bytes / (double)nq);
	printf("p50_ms%s=%.3f\n", tag, pct(ms, nq, 0.50));
	printf("p99_ms%s=%.3f\n", tag, pct(ms, nq, 0.99));
	printf("max_ms%s=%.3f\n", tag, ms[nq - 1]);
	if (pend != 0)
		printf("query_pending%s=%" PRIu64 "\n", tag, pend);
	free(ms);
}

/* ------------------------------------------------------------ trickle */

/* The agents' keys (the fill's and the trickle's alike), their first
 * sequence number seq0 + 1, and the service and target names. */
static void
keys(uint64_t seq0)
{
	for (unsigned i = 0; i < NAGENT; i++) {
		uint8_t seed[crypto_sign_SEEDBYTES];
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		char tag[64];
		int n = snprintf(tag, sizeof(tag), "zond-bench-map/%u", i);

		crypto_generichash(seed, sizeof(seed), (const uint8_t *)tag,
		    (size_t)n, NULL, 0);
		crypto_sign_seed_keypair(agents[i].pk, sk, seed);
		agents[i].region = i < NPROBE ? i / NPERCELL / NASN : 0;
		agents[i].seq = seq0;
	}
	for (unsigned i = 0; i < NSVC; i++)
		snprintf(svcname[i], sizeof(svcname[i]), "service-%02u", i);
	for (unsigned i = 0; i < NTGT; i++)
		snprintf(tgtname[i], sizeof(tgtname[i]), "198.18.%u.%u:443",
		    i / NTPS, i % NTPS + 1);
}

static int
trickle(const char *data, unsigned long secs)
{
	struct store_opts so;
	struct filler *f;
	store_t *s;
	zdiag_t d;
	uint64_t rng = 7;
	double end;

	keys((uint64_t)1 << 40);	/* past the fill's sequence numbers */
	memset(&so, 0, sizeof(so));
	if (store_open(data, &so, &s, &d) != ZE_OK)
		die(d.text);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		die("out of memory");
	f->s = s;
	end = mono_s() + (double)secs;
	while (mono_s() < end) {
		struct timespec ts = {0, TRICKLE_MS * 1000000L};
		bool tg_used[NTGT] = {false};
		int64_t now = ztime_now_us();

		for (unsigned j = 0; j < TRICKLE_N; j++) {
			unsigned a = (unsigned)((rng = mix64(rng)) % NPROBE);
			unsigned tg = (unsigned)((rng = mix64(rng)) % NTGT);

			add(f, a, tg, now + j);
			tg_used[tg] = true;
		}
		for (unsigned tg = 0; tg < NTGT; tg++)
			if (tg_used[tg])
				add(f, NPROBE + tg % NCTL, tg, now + 100);
		flush(f);
		nanosleep(&ts, NULL);
	}
	printf("trickled=%" PRIu64 "\n", f->stored);
	free(f);
	store_close(&s);
	return 0;
}

/* ------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'n'},
		{"days", required_argument, NULL, 'D'},
		{"queries", required_argument, NULL, 'q'},
		{"trickle", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL;
	unsigned long long count = 0;
	unsigned long days = 30, nq = 200, trickle_s = 0;
	struct store_opts so;
	struct filler *f;
	store_t *s;
	zdiag_t d;
	uint32_t *cnt;
	uint64_t np, nc, lo_np, hi_np, extra, expect24 = 0, rng = 42;
	uint64_t waiting;
	struct rollup_opts ro;
	struct rollup_stats st;
	struct store_counts sc;
	struct cell_opts co;
	struct qres qr;
	struct stat sb;
	char path[4096];
	zbuf_t b;
	int ch, bad = 0;
	double a, z;
	uint32_t q0, q1;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'D': days = strtoul(optarg, NULL, 10); break;
		case 'q': nq = strtoul(optarg, NULL, 10); break;
		case 't': trickle_s = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (data != NULL && trickle_s > 0) {
		if (sodium_init() < 0)
			die("sodium_init");
		return trickle(data, trickle_s);
	}
	if (data == NULL || count < 100 || count > 1000000000ULL ||
	    days == 0 || days > 3650 || nq < 4)
		die("usage: map_bench --data DIR --count N (>= 100) "
		    "[--days D] [--queries Q]");
	if (sodium_init() < 0)
		die("sodium_init");
	snprintf(path, sizeof(path), "%s/data.mdb", data);
	if (stat(path, &sb) == 0)
		die("the data directory already holds a store");

	/* the schedule: the most probe measurements whose controls fit */
	t1 = ztime_now_us();
	t0 = t1 - (int64_t)days * 24 * HOUR;
	h_first = hour_of(t0);
	nhours = hour_of(t1 - 1) - h_first + 1;
	if ((cnt = calloc((size_t)nhours * NTGT, sizeof(*cnt))) == NULL)
		die("out of memory");
	lo_np = 1;
	hi_np = count;
	while (lo_np < hi_np) {
		uint64_t mid = lo_np + (hi_np - lo_np + 1) / 2;
		count_probes(mid, cnt);
		if (mid + count_ctl(cnt) <= count)
			lo_np = mid;
		else
			hi_np = mid - 1;
	}
	np = lo_np;
	count_probes(np, cnt);
	nc = count_ctl(cnt);
	if (np + nc > count)
		die("count too small for the schedule");
	extra = count - np - nc;	/* one more control on some pairs */
	nc += extra;

	keys(0);

	memset(&so, 0, sizeof(so));
	so.map_size = (int64_t)1 << 30;
	if (store_open(data, &so, &s, &d) != ZE_OK)
		die(d.text);
	a = mono_s();
	for (unsigned i = 0; i < NAGENT; i++) {
		struct store_agent ag;
		bool created;

		memset(&ag, 0, sizeof(ag));
		memcpy(ag.pk, agents[i].pk, STORE_PK_LEN);
		ag.enabled = true;
		ag.enrolled_us = t0;
		if (i < NPROBE) {
			unsigned cell = i / NPERCELL;

			snprintf(ag.region, sizeof(ag.region), "RU-R%02u",
			    cell / NASN + 1);
			ag.asn = 64600 + cell % NASN;
			ag.role = STORE_ROLE_PROBE;
			snprintf(ag.name, sizeof(ag.name), "probe-%u", i);
		} else {
			snprintf(ag.region, sizeof(ag.region), "DE-BE");
			ag.asn = 3320;
			ag.role = STORE_ROLE_CONTROL;
			snprintf(ag.name, sizeof(ag.name), "control-%u",
			    i - NPROBE);
		}
		if (store_agent_enroll(s, &ag, &created, &d) != ZE_OK)
			die(d.text);
	}
	z = mono_s();
	printf("agents=%u\n", NAGENT);
	printf("enroll_s=%.2f\n", z - a);

	/* fill, hour by hour: the probes of the hour, then its controls */
	q0 = hour_of(t1 - 24 * HOUR);
	q1 = hour_of(t1 + HOUR - 1);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		die("out of memory");
	f->s = s;
	a = mono_s();
	{
		uint64_t i = 0, nctl = 0;

		for (uint32_t h = 0; h < nhours; h++) {
			int64_t hs = (int64_t)(h_first + h) * HOUR;
			int64_t lo_t = hs < t0 ? t0 : hs;
			int64_t hi_t = hs + HOUR > t1 ? t1 : hs + HOUR;

			for (; i < np; i++) {
				int64_t st = probe_time(i, np);
				if (hour_of(st) != h_first + h)
					break;
				if (h_first + h >= q0 && h_first + h < q1)
					expect24++;
				add(f, probe_agent(i), probe_target(i), st);
			}
			for (unsigned tg = 0; tg < NTGT; tg++) {
				unsigned r = ctl_per(cnt[(size_t)h * NTGT +
				    tg]);
				if (r > 0 && extra > 0) {
					r++;
					extra--;
				}
				for (unsigned j = 0; j < r; j++) {
					int64_t st = lo_t + (int64_t)(
					    (double)(hi_t - lo_t) *
					    ((double)j + 0.5) / (double)r) +
					    (int64_t)tg * 1000;
					if (st >= hi_t)
						st = hi_t - 1;
					add(f, NPROBE + (unsigned)(nctl++ %
					    NCTL), tg, st);
				}
			}
		}
		flush(f);
		if (i != np || nctl != nc)
			die("schedule mismatch");
	}
	z = mono_s();
	printf("stored=%" PRIu64 "\n", f->stored);
	printf("probes=%" PRIu64 "\n", np);
	printf("controls=%" PRIu64 "\n", nc);
	printf("control_share=%.3f\n", (double)nc / (double)count);
	printf("days=%lu\n", days);
	printf("fill_s=%.2f\n", z - a);
	printf("fill_rate=%.0f\n", (double)f->stored / (z - a));
	fflush(stdout);
	if (f->stored != count) {
		fprintf(stderr, "map_bench: stored %" PRIu64 " of %llu\n",
		    f->stored, count);
		bad = 1;
	}

	/* analysis: every window closed */
	rollup_opts_default(&ro);
	memset(&st, 0, sizeof(st));
	a = mono_s();
	if (rollup_drain(s, &ro, ztime_now_us() + 24 * HOUR, &st, &d) !=
	    ZE_OK)
		die(d.text);
	z = mono_s();
	if (rollup_waiting(s, &waiting, &d) != ZE_OK)
		die(d.text);
	printf("analysis_s=%.2f\n", z - a);
	printf("analysis_rate=%.0f\n", (double)count / (z - a));
	printf("rounds=%" PRIu64 "\n", st.rounds);
	printf("judged=%" PRIu64 "\n", st.judged);
	printf("settled=%" PRIu64 "\n", st.settled);
	printf("expired=%" PRIu64 "\n", st.expired);
	printf("controls_taken=%" PRIu64 "\n", st.controls);
	printf("events=%" PRIu64 "\n", st.events);
	printf("pending=%" PRIu64 "\n", waiting);
	fflush(stdout);
	if (waiting != 0) {
		fprintf(stderr, "map_bench: %" PRIu64 " measurements still "
		    "pending after the drain\n", waiting);
		bad = 1;
	}
	if (st.judged != np || st.controls != nc) {
		fprintf(stderr, "map_bench: judged %" PRIu64 " of %" PRIu64
		    " probe measurements, %" PRIu64 " of %" PRIu64
		    " controls taken\n", st.judged, np, st.controls, nc);
		bad = 1;
	}
	if (store_counts(s, &sc, &d) != ZE_OK)
		die(d.text);
	printf("store_meas=%" PRIu64 "\n", sc.meas);
	printf("store_map_used_mb=%.1f\n", (double)sc.map_used / 1048576.0);
	if (stat(path, &sb) == 0)
		printf("store_disk_mb=%.1f\n", (double)sb.st_blocks * 512.0 /
		    1048576.0);

	/* the check: the 24-h all-service map counts every probe of its
	 * hours */
	cell_opts_default(&co);
	zbuf_init(&b, (size_t)1 << 30);
	(void)query(s, t1 - 24 * HOUR, t1, NULL, &co, &b, &qr);
	printf("map_total_24h=%" PRIu64 "\n", qr.meas);
	printf("expected_total_24h=%" PRIu64 "\n", expect24);
	printf("cells_24h=%zu\n", qr.cells);
	for (int v = 0; v < CELL__COUNT; v++)
		printf("cells_24h_%s=%" PRIu64 "\n",
		    cell_verdict_name((cell_verdict_t)v), qr.verdicts[v]);
	if (qr.meas != expect24 || qr.pending != 0) {
		fprintf(stderr, "map_bench: the 24-h map counts %" PRIu64
		    " measurements (pending %" PRIu64 "), expected %" PRIu64
		    "\n", qr.meas, qr.pending, expect24);
		bad = 1;
	}
	fflush(stdout);

	/* timed queries (after one warm-up of each kind) */
	(void)query(s, t1 - 24 * HOUR, t1, svcname[0], &co, &b, &qr);
	(void)query(s, t1 - 7 * 24 * HOUR, t1, svcname[0], &co, &b, &qr);
	run_queries(s, "", 24 * HOUR, true, nq, &co, &b, &rng, t1);
	run_queries(s, "_all", 24 * HOUR, false, nq / 4, &co, &b, &rng, t1);
	run_queries(s, "_week", 7 * 24 * HOUR, true, nq / 4, &co, &b, &rng,
	    t1);
	zbuf_free(&b);
	free(cnt);
	free(f);
	store_close(&s);
	if (bad)
		fprintf(stderr, "map_bench: FAILED checks (see above)\n");
	return bad;
}
