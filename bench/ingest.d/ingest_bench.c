/*
 * ingest_bench — load generator for bench/ingest.
 *
 *   ingest_bench enroll --data DIR --agents N --seed S
 *       enrolls N test agents through the registry (the store API).
 *   ingest_bench run --server EP --server-pub FILE --agents N --count C
 *       --seed S [--latency-rate R --latency-secs T --aggregator-pid P]
 *       1. measures single-core crypto_sign_verify_detached on a typical
 *          signed measurement for 2 s, here and again after steps 3 and
 *          4 (verify_ceiling = the mean of the three x CPUs), and
 *          once on every CPU at once (verify_all_cores_before=, and
 *          ratio_all_cores= rate / that: informative);
 *       2. signs C measurements from N agents beforehand (not timed);
 *       3. sends them over N CURVE connections as fast as the aggregator
 *          acknowledges (two batches in flight per agent) and times first
 *          send to last ACK: rate=; the CPU seconds it and the aggregator
 *          (process P) used meanwhile: rate_*_cpu_s=, and each thread of
 *          P: rate_thread_cpu_s[NAME]= (user, sys);
 *       4. offers R measurements/s (one per frame, agents in turn) for T
 *          seconds and reports ACK latency percentiles: ack_p99_ms=.
 *   ingest_bench relay --url URL --cafile PEM --server-pub FILE
 *       --agents N --count C --seed S
 *       the HTTPS relay path (docs/PROTOCOL.md 8): signs C measurements
 *       from N agents beforehand (seqs from RELAY_SEQ0, beside those of
 *       run), then POSTs them in batches as RelayRequests over --conns (16)
 *       keep-alive TLS connections (libcurl multi; each connection serves
 *       its own agents, one request in flight per agent), verifies each
 *       RelayReply (signature, request hash) and counts the acked seqs;
 *       prints relay_rate= (first request to last verified ACK).
 * Prints key=value lines; the last is ratio=.  Traffic to the given
 * endpoint only (bench/ingest uses 127.0.0.1).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zmq.h>

#include "key.h"
#include "registry.h"
#include "sign.h"
#include "store.h"
#include "testagent.h"
#include "wire.h"
#include "ztime.h"

#define BATCH 128
#define MAX_CONNS 256	/* relay: most TLS connections at once */
#define RELAY_SEQ0 1000000ULL	/* relay: first seq (starts stay in the past) */
#define WINDOW 2	/* batches in flight per agent */

struct frame {
	uint8_t *data;
	size_t len;
	uint64_t first, n;	/* seqs first .. first+n-1 */
};

struct agent {
	unsigned idx;
	zkey_t *k;
	void *sock;
	struct frame *f;	/* rate phase frames */
	size_t nf, next, acked_frames;
	uint64_t per;		/* measurements in the rate phase */
	uint64_t acked;
	struct frame *lf;	/* latency phase: one measurement each */
	size_t nlf;
	int64_t *lsent;		/* mono us per latency frame */
	uint64_t boot_us;	/* relay: the last request's (a counter) */
};

static const char *seed = "bench";
static unsigned nagents = 1000;
static uint64_t count = 1000000;
static int64_t base_us;
static struct agent *ag;
static int64_t lat_rate = 5000, lat_secs = 6;
static long agg_pid;		/* --aggregator-pid: its CPU is read too */
static unsigned nconns = 16;	/* --conns: relay connections */
static uint64_t seq0 = 1;	/* first seq of the prepared frames */

/* CPU seconds (user + system) this process has used. */
static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Reads a /proc stat file (a process's or a thread's): its name (the
 * command in parentheses, if name != NULL) and user and system CPU
 * seconds.  0, or -1 if unreadable. */
static int
stat_read(const char *path, char *name, size_t nlen, double *user,
    double *sys)
{
	char buf[1024], *p, *q;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command's closing parenthesis: 14 and 15 */
	if ((p = strchr(buf, '(')) == NULL || (q = strrchr(buf, ')')) ==
	    NULL || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &st) != 2)
		return -1;
	if (name != NULL)
		snprintf(name, nlen, "%.*s", (int)(q - p - 1), p + 1);
	*user = (double)ut / (double)sysconf(_SC_CLK_TCK);
	*sys = (double)st / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* CPU seconds of process pid (all threads), from /proc; -1 if unknown. */
static double
proc_cpu(long pid)
{
	char path[64];
	double u, s;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	return stat_read(path, NULL, 0, &u, &s) == 0 ? u + s : -1;
}

/* Bytes process pid handed to write calls (/proc/PID/io wchar); -1 if
 * unknown. */
static double
proc_wchar(long pid)
{
	char path[64], line[128];
	unsigned long long w;
	double r = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/io", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (r < 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %llu", &w) == 1)
			r = (double)w;
	fclose(f);
	return r;
}

/* CPU of each thread of process pid, from /proc/PID/task/TID/stat:
 * user and system seconds, summed by thread name. */
#define TH_MAX 64
struct thcpu {
	size_t n;
	char name[TH_MAX][32];
	double user[TH_MAX], sys[TH_MAX];
};

static void
threads_cpu(long pid, struct thcpu *t)
{
	char path[96], name[32];
	struct dirent *de;
	double u, sy;
	DIR *dir;
	size_t i;

	t->n = 0;
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if (pid <= 0 || (dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/stat", pid,
		    de->d_name);
		if (stat_read(path, name, sizeof(name), &u, &sy) != 0)
			continue;
		for (i = 0; i < t->n && strcmp(t->name[i], name) != 0; i++)
			;
		if (i == t->n) {
			if (t->n == TH_MAX)
				continue;
			memcpy(t->name[i], name, sizeof(name));
			t->user[i] = t->sys[i] = 0;
			t->n++;
		}
		t->user[i] += u;
		t->sys[i] += sy;
	}
	closedir(dir);
}

/* Prints what each thread name of pid used since *before. */
static void
threads_print(long pid, const struct thcpu *before)
{
	struct thcpu now;

	threads_cpu(pid, &now);
	for (size_t i = 0; i < now.n; i++) {
		double u = now.user[i], s = now.sys[i];

		for (size_t j = 0; j < before->n; j++)
			if (strcmp(before->name[j], now.name[i]) == 0) {
				u -= before->user[j];
				s -= before->sys[j];
			}
		if (u + s >= 0.05)
			printf("rate_thread_cpu_s[%s]=%.1f user=%.1f sys=%.1f\n",
			    now.name[i], u + s, u, s);
	}
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "ingest_bench: %s\n", what);
	exit(1);
}

static void
pack_frame(struct agent *a, uint64_t first, uint64_t n, struct frame *f)
{
	Zond__V1__Uplink up = ZOND__V1__UPLINK__INIT;
	Zond__V1__Batch b = ZOND__V1__BATCH__INIT;
	wire_signed_t sm[BATCH], *smp[BATCH];
	uint8_t sig[BATCH][KEY_SIG_LEN];
	zbuf_t body[BATCH], out;

	for (uint64_t i = 0; i < n; i++) {
		zbuf_init(&body[i], WIRE_MAX_MEASUREMENT);
		if (ta_measurement(a->k, seed, a->idx, first + i, base_us,
		    NULL, 0, &body[i], sig[i]) != ZE_OK)
			die("cannot build a measurement");
		zond__v1__signed_measurement__init(&sm[i]);
		sm[i].has_body = sm[i].has_sig = 1;
		sm[i].body.data = body[i].data;
		sm[i].body.len = body[i].len;
		sm[i].sig.data = sig[i];
		sm[i].sig.len = KEY_SIG_LEN;
		smp[i] = &sm[i];
	}
	b.n_items = n;
	b.items = smp;
	up.has_version = 1;
	up.version = WIRE_VERSION;
	up.msg_case = ZOND__V1__UPLINK__MSG_BATCH;
	up.batch = &b;
	zbuf_init(&out, WIRE_MAX_FRAME);
	if (wire_pack(&up.base, &out) != ZE_OK)
		die("frame too large");
	f->data = out.data;
	f->len = out.len;
	f->first = first;
	f->n = n;
	for (uint64_t i = 0; i < n; i++)
		zbuf_free(&body[i]);
}

struct prep_arg {
	unsigned from, to;
	uint64_t lat_per;
};

static void *
prep(void *arg)
{
	struct prep_arg *p = arg;

	for (unsigned i = p->from; i < p->to; i++) {
		struct agent *a = &ag[i];
		uint64_t seq = seq0;

		a->nf = (a->per + BATCH - 1) / BATCH;
		if ((a->f = calloc(a->nf, sizeof(*a->f))) == NULL)
			die("out of memory");
		for (size_t j = 0; j < a->nf; j++) {
			uint64_t n = a->per - (seq - seq0) < BATCH ?
			    a->per - (seq - seq0) : BATCH;
			pack_frame(a, seq, n, &a->f[j]);
			seq += n;
		}
		a->nlf = p->lat_per;
		if ((a->lf = calloc(a->nlf + 1, sizeof(*a->lf))) == NULL ||
		    (a->lsent = calloc(a->nlf + 1, sizeof(int64_t))) == NULL)
			die("out of memory");
		for (size_t j = 0; j < a->nlf; j++)
			pack_frame(a, seq + j, 1, &a->lf[j]);
	}
	return NULL;
}

/* Single-core Ed25519 verifications per second of a typical record. */
static double
verify_rate(void)
{
	uint8_t sig[KEY_SIG_LEN];
	zbuf_t body, sb;
	zkey_t *k;
	int64_t t0, t;
	uint64_t n = 0;

	zbuf_init(&body, WIRE_MAX_MEASUREMENT);
	zbuf_init(&sb, WIRE_MAX_MEASUREMENT + 64);
	if (ta_key(seed, 0, &k) != ZE_OK ||
	    ta_measurement(k, seed, 0, 1, ztime_now_us(), NULL, 0, &body,
	    sig) != ZE_OK ||
	    sign_signed_bytes(ZDOM_MEASUREMENT, body.data, body.len, &sb) !=
	    ZE_OK)
		die("verify setup");
	t0 = ztime_mono_us();
	do {
		for (int i = 0; i < 256; i++)
			if (crypto_sign_verify_detached(sig, sb.data, sb.len,
			    key_public(k)) != 0)
				die("verify failed");
		n += 256;
		t = ztime_mono_us();
	} while (t - t0 < 2000000);
	key_free(&k);
	zbuf_free(&body);
	zbuf_free(&sb);
	return (double)n * 1e6 / (double)(t - t0);
}

static void *
verify_thread(void *arg)
{
	*(double *)arg = verify_rate();
	return NULL;
}

/* The same on every core at once: what the machine verifies in parallel
 * (informative: the goal's ceiling is the single-core rate x cores). */
static double
verify_rate_all(long ncpu)
{
	pthread_t th[64];
	double r[64], sum = 0;
	long n = ncpu < 1 ? 1 : ncpu > 64 ? 64 : ncpu;

	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, verify_thread, &r[i]) != 0)
			die("thread");
	for (long i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		sum += r[i];
	}
	return sum;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Handle the downlinks waiting on agent a; returns seqs acknowledged. */
static uint64_t
drain(struct agent *a, int64_t *lat, size_t *nlat, bool latency)
{
	wire_downlink_t *dl;
	zmq_msg_t m;
	uint64_t got = 0;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, a->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		if (wire_downlink_decode(zmq_msg_data(&m), zmq_msg_size(&m),
		    &dl, NULL) == ZE_OK) {
			if (dl->msg_case == ZOND__V1__DOWNLINK__MSG_ACK) {
				int64_t now = ztime_mono_us();
				got += dl->ack->n_seqs;
				if (dl->ack->n_rejects > 0)
					fprintf(stderr, "ingest_bench: %zu "
					    "rejects (reason %d)\n",
					    dl->ack->n_rejects,
					    dl->ack->rejects[0]->reason);
				for (size_t i = 0; latency &&
				    i < dl->ack->n_seqs; i++) {
					uint64_t j = dl->ack->seqs[i] - a->per
					    - 1;
					if (j < a->nlf && a->lsent[j] > 0) {
						lat[(*nlat)++] = now -
						    a->lsent[j];
						a->lsent[j] = 0;
					}
				}
			}
			wire_downlink_free(dl);
		}
		zmq_msg_close(&m);
	}
	return got;
}

/* Whether messages wait on socket s (ZMQ_FD only says that something
 * happened: after every receive or send, ask). */
static bool
readable(void *s)
{
	int ev = 0;
	size_t sz = sizeof(ev);

	return zmq_getsockopt(s, ZMQ_EVENTS, &ev, &sz) == 0 &&
	    (ev & ZMQ_POLLIN) != 0;
}

/* Rate phase: take agent a's ACKs and keep WINDOW frames out. */
static uint64_t
rate_service(struct agent *a)
{
	uint64_t got, all = 0;

	do {
		got = drain(a, NULL, NULL, false);
		a->acked += got;
		all += got;
		/* frames are acknowledged whole */
		while (a->acked_frames < a->nf && a->acked >=
		    a->f[a->acked_frames].first - 1 + a->f[a->acked_frames].n)
			a->acked_frames++;
		for (; a->next < a->nf && a->next < a->acked_frames + WINDOW;
		    a->next++)
			zmq_send(a->sock, a->f[a->next].data,
			    a->f[a->next].len, 0);
	} while (readable(a->sock));
	return all;
}

static int
cmd_run(const char *server, const char *server_pub)
{
	uint8_t spk[KEY_PUB_LEN], scurve[32];
	struct epoll_event evs[256];
	int ep, nev;
	struct prep_arg pa[2];
	pthread_t th[2];
	double vr, vs[3], vall, ceiling, rate, gcpu, acpu, lw;
	struct thcpu th0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t acked = 0, total, lat_total;
	int64_t t0, t1, *lat;
	size_t nlat = 0;
	void *ctx;
	zdiag_t d;

	if (pubkey_load(server_pub, spk, &d) != ZE_OK)
		die(d.text);
	if (pubkey_to_curve(spk, scurve) != ZE_OK)
		die("server key");
	/* the machine's speed drifts (a shared VM): sample the single-core
	 * rate before, between and after the phases; the ceiling is the
	 * mean of the three */
	vs[0] = verify_rate();
	vall = verify_rate_all(ncpu);
	printf("verify_per_core_before=%.0f\nverify_all_cores_before=%.0f\n",
	    vs[0], vall);
	fflush(stdout);

	base_us = ztime_now_us() - 600 * 1000000LL;
	lat_total = (uint64_t)(lat_rate * lat_secs);
	if ((ag = calloc(nagents, sizeof(*ag))) == NULL ||
	    (lat = calloc(lat_total + 1, sizeof(int64_t))) == NULL)
		die("out of memory");
	for (unsigned i = 0; i < nagents; i++) {
		ag[i].idx = i;
		ag[i].per = count / nagents + (i < count % nagents);
		if (ta_key(seed, i, &ag[i].k) != ZE_OK)
			die("key");
	}
	t0 = ztime_mono_us();
	for (int i = 0; i < 2; i++) {
		pa[i].from = nagents * (unsigned)i / 2;
		pa[i].to = nagents * (unsigned)(i + 1) / 2;
		pa[i].lat_per = (lat_total + nagents - 1) / nagents;
		pthread_create(&th[i], NULL, prep, &pa[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "ingest_bench: signed %" PRIu64 " measurements in "
	    "%.1f s\n", count + pa[0].lat_per * nagents,
	    (double)(ztime_mono_us() - t0) / 1e6);

	/* one epoll set over the sockets' ZMQ_FDs: a wake-up costs what is
	 * ready, not a walk over every socket (the load generator shares
	 * the CPUs with the aggregator) */
	if ((ep = epoll_create1(0)) < 0)
		die("epoll");
	ctx = zmq_ctx_new();
	zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)nagents + 64);
	for (unsigned i = 0; i < nagents; i++) {
		uint8_t cpk[32], csk[32];
		int linger = 0, hwm = 0;
		void *s = zmq_socket(ctx, ZMQ_DEALER);
		if (s == NULL || key_curve(ag[i].k, cpk, csk) != ZE_OK)
			die("socket");
		zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, scurve, 32);
		zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 32);
		zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 32);
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		if (zmq_connect(s, server) != 0)
			die("connect");
		ag[i].sock = s;
		{
			struct epoll_event ev = {.events = EPOLLIN};
			int fd;
			size_t sz = sizeof(fd);

			ev.data.u32 = i;
			if (zmq_getsockopt(s, ZMQ_FD, &fd, &sz) != 0 ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
				die("epoll_ctl");
		}
	}

	/* rate phase */
	total = count;
	gcpu = self_cpu();
	acpu = proc_cpu(agg_pid);
	threads_cpu(agg_pid, &th0);
	t0 = ztime_mono_us();
	for (unsigned i = 0; i < nagents; i++)
		for (; ag[i].next < ag[i].nf && ag[i].next < WINDOW;
		    ag[i].next++)
			zmq_send(ag[i].sock, ag[i].f[ag[i].next].data,
			    ag[i].f[ag[i].next].len, 0);
	while (acked < total) {
		if ((nev = epoll_wait(ep, evs, 256, 1000)) < 0 && errno != EINTR)
			die("epoll_wait");
		if (ztime_mono_us() - t0 > 1800 * 1000000LL)
			die("rate phase took over 30 minutes");
		for (int k = 0; k < nev; k++)
			acked += rate_service(&ag[evs[k].data.u32]);
		/* a second without a wake-up: look at every socket */
		for (unsigned i = 0; nev == 0 && i < nagents; i++)
			if (readable(ag[i].sock))
				acked += rate_service(&ag[i]);
	}
	t1 = ztime_mono_us();
	rate = (double)total * 1e6 / (double)(t1 - t0);
	gcpu = self_cpu() - gcpu;
	printf("measurements=%" PRIu64 "\nagents=%u\nrate_secs=%.2f\n"
	    "rate=%.0f\n", total, nagents, (double)(t1 - t0) / 1e6, rate);
	/* where the two cores went during the rate phase, in CPU seconds */
	printf("rate_gen_cpu_s=%.1f\n", gcpu);
	if (acpu >= 0 && (acpu = proc_cpu(agg_pid) - acpu) >= 0)
		printf("rate_aggregator_cpu_s=%.1f\n", acpu);
	threads_print(agg_pid, &th0);
	fflush(stdout);
	vs[1] = verify_rate();
	printf("verify_per_core_between=%.0f\n", vs[1]);
	fflush(stdout);

	/* latency phase: lat_rate/s offered, one measurement per frame */
	lw = proc_wchar(agg_pid);
	{
		int64_t start = ztime_mono_us(), now;
		uint64_t sent = 0, got = 0;
		size_t j = 0;
		unsigned who = 0;

		while (got < sent || sent < lat_total) {
			now = ztime_mono_us();
			while (sent < lat_total && (int64_t)sent * 1000000 <
			    lat_rate * (now - start)) {
				struct agent *a = &ag[who];
				if (j < a->nlf) {
					a->lsent[j] = ztime_mono_us();
					zmq_send(a->sock, a->lf[j].data,
					    a->lf[j].len, 0);
					sent++;
					while (readable(a->sock))
						got += drain(a, lat, &nlat,
						    true);
				}
				if (++who == nagents) {
					who = 0;
					j++;
					if (j >= a->nlf)
						lat_total = sent;
				}
			}
			/* send in 5 ms ticks; between them sleep in poll
			 * (it returns at once when an ACK arrives), so the
			 * load generator does not spin on the shared CPUs */
			if ((nev = epoll_wait(ep, evs, 256, (int)(5 - ((now -
			    start) / 1000) % 5))) < 0 && errno != EINTR)
				die("epoll_wait");
			for (int k = 0; k < nev; k++) {
				struct agent *a = &ag[evs[k].data.u32];

				do
					got += drain(a, lat, &nlat, true);
				while (readable(a->sock));
			}
			if (now - start > (lat_secs + 60) * 1000000LL)
				break;
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp64);
	if (nlat > 0)
		printf("ack_offered_rate=%" PRId64 "\nack_samples=%zu\n"
		    "ack_p50_ms=%.2f\nack_p99_ms=%.2f\nack_max_ms=%.2f\n",
		    lat_rate, nlat, (double)lat[nlat / 2] / 1000.0,
		    (double)lat[nlat * 99 / 100] / 1000.0,
		    (double)lat[nlat - 1] / 1000.0);
	/* what the aggregator wrote per measurement at that rate: the
	 * pages its commits wrote (steadier than the latency here) */
	if (lw >= 0 && nlat > 0 && (lw = proc_wchar(agg_pid) - lw) >= 0)
		printf("ack_phase_wchar_per_measurement=%.0f\n",
		    lw / (double)nlat);
	vs[2] = verify_rate();
	vr = (vs[0] + vs[1] + vs[2]) / 3;
	ceiling = vr * (double)(ncpu > 0 ? ncpu : 1);
	printf("verify_per_core_after=%.0f\nverify_per_core=%.0f\ncores=%ld\n"
	    "verify_ceiling=%.0f\n", vs[2], vr, ncpu, ceiling);
	/* what verification alone takes at that rate, beside the CPU the
	 * rate phase used (rate_*_cpu_s) */
	printf("rate_verify_cpu_s=%.1f\n", (double)total / vr);
	printf("ratio_all_cores=%.3f\n", rate / vall);
	printf("ratio=%.3f\n", rate / ceiling);
	for (unsigned i = 0; i < nagents; i++)
		zmq_close(ag[i].sock);
	zmq_ctx_term(ctx);
	close(ep);
	return 0;
}

/* ------------------------------------------------------------ relay */

struct rconn {
	CURL *h;
	unsigned first;		/* its agents: first, first + nconns, ... */
	unsigned cur;		/* the agent of the request in flight */
	struct frame *f;	/* the frame it carries */
	uint8_t *req;
	size_t reqlen;
	uint8_t hash[crypto_hash_sha256_BYTES];
	zbuf_t resp;
};

static size_t
relay_write(char *p, size_t sz, size_t n, void *arg)
{
	struct rconn *c = arg;

	if (zbuf_append(&c->resp, p, sz * n) != ZE_OK)
		return 0;
	return sz * n;
}

/* The next frame of one of c's agents as a signed RelayRequest; false
 * when they have none left. */
static bool
relay_next(struct rconn *c)
{
	Zond__V1__RelayBody rb = ZOND__V1__RELAY_BODY__INIT;
	Zond__V1__RelayRequest rq = ZOND__V1__RELAY_REQUEST__INIT;
	uint8_t boot[16], sig[KEY_SIG_LEN], *body;
	size_t bn;
	unsigned i;
	struct agent *a = NULL;

	for (i = c->first; i < nagents; i += nconns)
		if (ag[i].next < ag[i].nf) {
			a = &ag[i];
			break;
		}
	if (a == NULL)
		return false;
	c->cur = i;
	c->f = &a->f[a->next];
	memset(boot, 0, sizeof(boot));
	memcpy(boot, &i, sizeof(i));
	rb.has_agent = rb.has_boot_id = rb.has_boot_us = rb.has_uplink = 1;
	rb.agent.data = (uint8_t *)(uintptr_t)key_public(a->k);
	rb.agent.len = KEY_PUB_LEN;
	rb.boot_id.data = boot;
	rb.boot_id.len = sizeof(boot);
	rb.boot_us = ++a->boot_us;
	rb.uplink.data = c->f->data;
	rb.uplink.len = c->f->len;
	bn = zond__v1__relay_body__get_packed_size(&rb);
	if ((body = malloc(bn)) == NULL)
		die("out of memory");
	zond__v1__relay_body__pack(&rb, body);
	if (sign_body(a->k, ZDOM_RELAY, body, bn, sig) != ZE_OK)
		die("sign");
	crypto_hash_sha256(c->hash, body, bn);
	rq.has_body = rq.has_sig = 1;
	rq.body.data = body;
	rq.body.len = bn;
	rq.sig.data = sig;
	rq.sig.len = sizeof(sig);
	free(c->req);
	c->reqlen = zond__v1__relay_request__get_packed_size(&rq);
	if ((c->req = malloc(c->reqlen)) == NULL)
		die("out of memory");
	zond__v1__relay_request__pack(&rq, c->req);
	free(body);
	zbuf_reset(&c->resp);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->req);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)c->reqlen);
	return true;
}

/* Seqs the verified reply acknowledges; 0 for anything else. */
static uint64_t
relay_acked(struct rconn *c, const uint8_t spk[KEY_PUB_LEN])
{
	Zond__V1__RelayReply *r;
	Zond__V1__RelayReplyBody *b = NULL;
	Zond__V1__Downlink *dl = NULL;
	uint64_t n = 0;

	if ((r = zond__v1__relay_reply__unpack(NULL, c->resp.len,
	    c->resp.data)) == NULL)
		return 0;
	if (r->sig.len == KEY_SIG_LEN && sign_verify(ZDOM_RELAY_REPLY, spk,
	    r->body.data, r->body.len, r->sig.data) == ZE_OK &&
	    (b = zond__v1__relay_reply_body__unpack(NULL, r->body.len,
	    r->body.data)) != NULL && b->request_hash.len == sizeof(c->hash) &&
	    memcmp(b->request_hash.data, c->hash, sizeof(c->hash)) == 0 &&
	    (dl = zond__v1__downlink__unpack(NULL, b->downlink.len,
	    b->downlink.data)) != NULL &&
	    dl->msg_case == ZOND__V1__DOWNLINK__MSG_ACK)
		n = dl->ack->n_seqs;
	if (dl != NULL)
		zond__v1__downlink__free_unpacked(dl, NULL);
	if (b != NULL)
		zond__v1__relay_reply_body__free_unpacked(b, NULL);
	zond__v1__relay_reply__free_unpacked(r, NULL);
	return n;
}

static int
cmd_relay(const char *url, const char *cafile, const char *server_pub)
{
	uint8_t spk[KEY_PUB_LEN];
	struct rconn c[MAX_CONNS];
	struct prep_arg pa[2];
	pthread_t th[2];
	CURLM *m;
	CURLMsg *msg;
	struct curl_slist *hdr = NULL;
	uint64_t acked = 0, fails = 0;
	int64_t t0, t1;
	int running, left;
	zdiag_t d;

	if (pubkey_load(server_pub, spk, &d) != ZE_OK)
		die(d.text);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl");
	/* start = base + seq ms: these seqs start 10 minutes ago too */
	base_us = ztime_now_us() - 600 * 1000000LL - (int64_t)RELAY_SEQ0 *
	    1000;
	seq0 = RELAY_SEQ0;
	if ((ag = calloc(nagents, sizeof(*ag))) == NULL)
		die("out of memory");
	for (unsigned i = 0; i < nagents; i++) {
		ag[i].idx = i;
		ag[i].per = count / nagents + (i < count % nagents);
		if (ta_key(seed, i, &ag[i].k) != ZE_OK)
			die("key");
	}
	for (int i = 0; i < 2; i++) {
		pa[i].from = nagents * (unsigned)i / 2;
		pa[i].to = nagents * (unsigned)(i + 1) / 2;
		pa[i].lat_per = 0;
		pthread_create(&th[i], NULL, prep, &pa[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
	if ((m = curl_multi_init()) == NULL)
		die("curl_multi_init");
	t0 = ztime_mono_us();
	for (unsigned k = 0; k < nconns; k++) {
		memset(&c[k], 0, sizeof(c[k]));
		c[k].first = k;
		zbuf_init(&c[k].resp, WIRE_MAX_FRAME);
		if ((c[k].h = curl_easy_init()) == NULL)
			die("curl_easy_init");
		curl_easy_setopt(c[k].h, CURLOPT_URL, url);
		curl_easy_setopt(c[k].h, CURLOPT_CAINFO, cafile);
		curl_easy_setopt(c[k].h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c[k].h, CURLOPT_WRITEFUNCTION, relay_write);
		curl_easy_setopt(c[k].h, CURLOPT_WRITEDATA, &c[k]);
		curl_easy_setopt(c[k].h, CURLOPT_PRIVATE, &c[k]);
		curl_easy_setopt(c[k].h, CURLOPT_TIMEOUT, 60L);
		if (relay_next(&c[k]))
			curl_multi_add_handle(m, c[k].h);
	}
	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct rconn *cc;
			long st = 0;
			uint64_t n = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&cc);
			curl_easy_getinfo(cc->h, CURLINFO_RESPONSE_CODE, &st);
			curl_multi_remove_handle(m, cc->h);
			if (msg->data.result == CURLE_OK && st == 200)
				n = relay_acked(cc, spk);
			if (n == cc->f->n) {
				acked += n;
				ag[cc->cur].next++;
			} else {
				if (fails < 3)
					fprintf(stderr, "ingest_bench: relay: "
					    "status %ld (%s), %" PRIu64 " of %"
					    PRIu64 " acked; resent\n", st,
					    curl_easy_strerror(msg->data.result),
					    n, cc->f->n);
				if (++fails > 1000)
					die("relay: over 1000 requests not "
					    "acked");
			}
			if (relay_next(cc))
				curl_multi_add_handle(m, cc->h);
		}
		if (running > 0 || acked < count)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
		if (ztime_mono_us() - t0 > 1800 * 1000000LL)
			die("relay phase took over 30 minutes");
	} while (acked < count);
	t1 = ztime_mono_us();
	printf("relay_measurements=%" PRIu64 "\nrelay_secs=%.2f\n"
	    "relay_retries=%" PRIu64 "\nrelay_rate=%.0f\n", acked,
	    (double)(t1 - t0) / 1e6, fails,
	    (double)acked * 1e6 / (double)(t1 - t0));
	for (unsigned k = 0; k < nconns; k++) {
		curl_easy_cleanup(c[k].h);
		zbuf_free(&c[k].resp);
		free(c[k].req);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	return 0;
}

static int
cmd_enroll(const char *data)
{
	struct store_opts so;
	store_t *s;
	zdiag_t d;
	char hex[KEY_HEX_LEN + 1], asn[16];

	memset(&so, 0, sizeof(so));
	so.map_size = 64 << 20;
	if (store_open(data, &so, &s, &d) != ZE_OK)
		die(d.text);
	for (unsigned i = 0; i < nagents; i++) {
		zkey_t *k;
		if (ta_key(seed, i, &k) != ZE_OK)
			die("key");
		key_public_hex(k, hex);
		key_free(&k);
		snprintf(asn, sizeof(asn), "%u", 64500 + i % 50);
		if (registry_enroll(s, hex, "RU-MOW", asn, "bench", "probe",
		    NULL, &d) != ZE_OK)
			die(d.text);
	}
	store_close(&s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"server", required_argument, NULL, 's'},
		{"server-pub", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 'S'},
		{"agents", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'c'},
		{"latency-rate", required_argument, NULL, 'r'},
		{"latency-secs", required_argument, NULL, 't'},
		{"aggregator-pid", required_argument, NULL, 'P'},
		{"url", required_argument, NULL, 'u'},
		{"cafile", required_argument, NULL, 'C'},
		{"conns", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *server = NULL, *spub = NULL, *url = NULL;
	const char *cafile = NULL;
	int ch;

	if (sodium_init() < 0 || argc < 2)
		die("usage: ingest_bench enroll|run [options]");
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 's': server = optarg; break;
		case 'p': spub = optarg; break;
		case 'S': seed = optarg; break;
		case 'n': nagents = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': count = strtoull(optarg, NULL, 10); break;
		case 'r': lat_rate = strtoll(optarg, NULL, 10); break;
		case 't': lat_secs = strtoll(optarg, NULL, 10); break;
		case 'P': agg_pid = strtol(optarg, NULL, 10); break;
		case 'u': url = optarg; break;
		case 'C': cafile = optarg; break;
		case 'k': nconns = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			die("bad option");
		}
	}
	if (nconns < 1 || nconns > MAX_CONNS)
		die("--conns: 1 to 256");
	if (nagents == 0 || count < nagents || lat_rate <= 0 || lat_secs <= 0)
		die("need agents >= 1, count >= agents");
	if (strcmp(argv[1], "enroll") == 0 && data != NULL)
		return cmd_enroll(data);
	if (strcmp(argv[1], "run") == 0 && server != NULL && spub != NULL)
		return cmd_run(server, spub);
	if (strcmp(argv[1], "relay") == 0 && url != NULL && cafile != NULL &&
	    spub != NULL)
		return cmd_relay(url, cafile, spub);
	die("usage: ingest_bench enroll --data DIR | run --server EP "
	    "--server-pub FILE");
}
