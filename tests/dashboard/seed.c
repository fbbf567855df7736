/*
 * seed.c — dashboard_seed: a data directory with known data for the
 * dashboard's browser tests, its screenshots and its first-paint bench.
 *
 *   dashboard_seed --data DIR --scenario small|national
 *
 * Creates a fresh store in DIR (which must not hold one) through the store
 * API, as an aggregator's ingest would have filled it: enrolled agents with
 * real Ed25519 keys (probe and control, region, ASN, network type), and
 * real signed measurements (protobuf Measurement bodies signed over
 * "zond/measurement/v1\0" || body, docs/DATA.md) of the last hours, each
 * committed with store_commit, which queues it in `todo` for the
 * analyzer exactly as ingest does.  Nothing is judged here: an unchanged
 * zond-aggregator started on DIR judges them, writes its roll-ups, hour
 * states and events.  Last, one status update per agent (version, clock,
 * last seen now), as a heartbeat leaves it.
 *
 * Writes DIR/truth.json: the state each (region, ASN, service) cell and
 * each region row must have in the map of the state now
 * (/api/v1/map?sample=latest), derived from the scenario's rules below
 * (every agent of a cell behaves alike, so the oracle needs no vote), and
 * the agents' keys.  See tests/dashboard/README.md for the scenarios.
 *
 * Invariants: every probe measurement has control measurements of its
 * target within +-1 h (the controls measure every target every round);
 * ids are time-ordered per agent and start with the measurement's start
 * millisecond (PROTOCOL.md "Ids"); the last measurement starts at least a
 * minute before now.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sign.h"
#include "store.h"
#include "zid.h"
#include "zond.pb-c.h"
#include "ztime.h"

#define HOUR_US (3600LL * 1000000)
#define MIN_US (60LL * 1000000)
#define BATCH 4096
#define BODY_MAX 512
#define MAX_SVC 24
#define MAX_TGT 32
#define MAX_REG 90
#define MAX_ISP 12
#define VERSION "0.9.0-seed"

static void __attribute__((noreturn))
die(const char *what, const char *detail)
{
	fprintf(stderr, "dashboard_seed: %s%s%s\n", what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	exit(1);
}

/* The 83 subjects of ISO 3166-2:RU. */
static const char *const iso_ru[] = {
	"RU-AD", "RU-AL", "RU-BA", "RU-BU", "RU-CE", "RU-CU", "RU-DA",
	"RU-IN", "RU-KB", "RU-KL", "RU-KC", "RU-KR", "RU-KK", "RU-KO",
	"RU-ME", "RU-MO", "RU-SA", "RU-SE", "RU-TA", "RU-TY", "RU-UD",
	"RU-ALT", "RU-KAM", "RU-KHA", "RU-KDA", "RU-KYA", "RU-PER",
	"RU-PRI", "RU-STA", "RU-ZAB", "RU-AMU", "RU-ARK", "RU-AST",
	"RU-BEL", "RU-BRY", "RU-CHE", "RU-IRK", "RU-IVA", "RU-KGD",
	"RU-KLU", "RU-KEM", "RU-KIR", "RU-KOS", "RU-KGN", "RU-KRS",
	"RU-LEN", "RU-LIP", "RU-MAG", "RU-MOS", "RU-MUR", "RU-NIZ",
	"RU-NGR", "RU-NVS", "RU-OMS", "RU-ORE", "RU-ORL", "RU-PNZ",
	"RU-PSK", "RU-ROS", "RU-RYA", "RU-SAM", "RU-SAR", "RU-SAK",
	"RU-SVE", "RU-SMO", "RU-TAM", "RU-TVE", "RU-TOM", "RU-TUL",
	"RU-TYU", "RU-ULY", "RU-VLA", "RU-VGG", "RU-VLG", "RU-VOR",
	"RU-YAR", "RU-MOW", "RU-SPE", "RU-YEV", "RU-CHU", "RU-KHM",
	"RU-NEN", "RU-YAN",
};
#define NISO (sizeof(iso_ru) / sizeof(iso_ru[0]))

/* ------------------------------------------------------------ scenario */

struct target {
	unsigned svc;
	Zond__V1__TestKind test;
	char name[48];			/* Measurement.target */
	char addr[32];			/* the outcome's addr */
};

struct isp {
	uint32_t asn;
	unsigned agents;
	enum store_network net;
};

struct region {
	char code[STORE_REGION_LEN];
	struct isp isp[MAX_ISP];
	unsigned nisp;
};

struct scenario {
	const char *name;
	char svc[MAX_SVC][32];
	bool hidden[MAX_SVC];		/* the reference services */
	unsigned nsvc;
	struct target tgt[MAX_TGT];
	unsigned ntgt;
	struct region reg[MAX_REG];
	unsigned nreg;
	unsigned nctl;			/* control agents, DE-BE */
	int64_t t0, t1;			/* rounds start in [t0, t1) */
	int64_t change;			/* the small scenario's switch */
	int64_t interval;		/* between an agent's rounds */
};

static struct scenario sc;

static unsigned
svc_id(const char *name)
{
	for (unsigned i = 0; i < sc.nsvc; i++)
		if (strcmp(sc.svc[i], name) == 0)
			return i;
	snprintf(sc.svc[sc.nsvc], sizeof(sc.svc[0]), "%s", name);
	sc.hidden[sc.nsvc] = strncmp(name, "reference-", 10) == 0;
	return sc.nsvc++;
}

static void
add_target(const char *svc, Zond__V1__TestKind test, const char *name,
    const char *addr)
{
	struct target *t = &sc.tgt[sc.ntgt++];

	t->svc = svc_id(svc);
	t->test = test;
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
}

static struct region *
add_region(const char *code)
{
	struct region *r = &sc.reg[sc.nreg++];

	snprintf(r->code, sizeof(r->code), "%s", code);
	return r;
}

static void
add_isp(struct region *r, uint32_t asn, unsigned agents,
    enum store_network net)
{
	r->isp[r->nisp].asn = asn;
	r->isp[r->nisp].agents = agents;
	r->isp[r->nisp].net = net;
	r->nisp++;
}

#define TCP ZOND__V1__TEST_KIND__TEST_TCP
#define STUN ZOND__V1__TEST_KIND__TEST_STUN

/*
 * small: RU-MOW with three ISPs of three agents, RU-SPE with one ISP of
 * two (a cell below the public view's k = 3), RU-NVS where all is well,
 * RU-KDA (mobile) under a whitelist since `change`.  instagram fails for
 * every probe (blocked everywhere by tcp); youtube fails in RU-MOW AS
 * 64501 since `change` (partial in RU-MOW); whatsapp's STUN fails in
 * RU-MOW and RU-SPE (calls blocked, messaging ok); in RU-KDA since
 * `change` every foreign target fails, the domestic ones (vk,
 * reference-domestic) work.  Rounds every 10 min from change - 2 h, so
 * the state since change is each agent's most common one too.
 */
static void
scenario_small(int64_t now)
{
	struct region *r;

	sc.name = "small";
	add_target("youtube", TCP, "www.youtube.com:443", "198.18.1.1:443");
	add_target("instagram", TCP, "www.instagram.com:443",
	    "198.18.2.1:443");
	add_target("telegram", TCP, "web.telegram.org:443", "198.18.3.1:443");
	add_target("whatsapp", TCP, "web.whatsapp.com:443", "198.18.4.1:443");
	add_target("whatsapp", STUN, "198.18.4.2:3478", "198.18.4.2:3478");
	add_target("vk", TCP, "vk.com:443", "198.18.5.1:443");
	add_target("reference-domestic", TCP, "www.gosuslugi.ru:443",
	    "198.18.6.1:443");
	add_target("reference-domestic", TCP, "ya.ru:443", "198.18.6.2:443");
	add_target("reference-foreign", TCP, "www.wikipedia.org:443",
	    "198.18.7.1:443");
	add_target("reference-foreign", TCP, "www.apple.com:443",
	    "198.18.7.2:443");
	r = add_region("RU-MOW");
	add_isp(r, 64501, 3, STORE_NET_FIXED);
	add_isp(r, 64502, 3, STORE_NET_FIXED);
	add_isp(r, 64503, 3, STORE_NET_MOBILE);
	r = add_region("RU-SPE");
	add_isp(r, 64504, 2, STORE_NET_FIXED);
	r = add_region("RU-NVS");
	add_isp(r, 64505, 3, STORE_NET_FIXED);
	r = add_region("RU-KDA");
	add_isp(r, 64506, 3, STORE_NET_MOBILE);
	sc.nctl = 2;
	sc.interval = 10 * MIN_US;
	sc.change = (now / HOUR_US - 3) * HOUR_US;
	sc.t0 = sc.change - 2 * HOUR_US;
	sc.t1 = now - MIN_US;
}

/*
 * national: 85 regions (the 83 subjects of ISO 3166-2:RU and two codes no
 * map draws, RU-ZZ1 and RU-ZZ2) x 10 ISPs (the last three mobile) of two
 * agents x 20 services of one tcp target; four controls; three rounds
 * 20 min apart in the last hour.  service-00 is blocked in the first 20
 * regions, service-01 on every region's first ISP (partial), service-02
 * is down (the controls fail too); the rest works.
 */
static void
scenario_national(int64_t now)
{
	char name[48], addr[32], svc[32];

	sc.name = "national";
	for (unsigned s = 0; s < 20; s++) {
		snprintf(svc, sizeof(svc), "service-%02u", s);
		snprintf(name, sizeof(name), "www.service-%02u.example:443", s);
		snprintf(addr, sizeof(addr), "198.18.%u.1:443", 10 + s);
		add_target(svc, TCP, name, addr);
	}
	for (unsigned i = 0; i < 85; i++) {
		struct region *r = add_region(i < NISO ? iso_ru[i] :
		    i == NISO ? "RU-ZZ1" : "RU-ZZ2");

		for (unsigned a = 0; a < 10; a++)
			add_isp(r, 4200000000u + i * 10 + a, 2, a < 7 ?
			    STORE_NET_FIXED : STORE_NET_MOBILE);
	}
	sc.nctl = 4;
	sc.interval = 20 * MIN_US;
	sc.change = 0;
	sc.t0 = now - 60 * MIN_US;
	sc.t1 = now - MIN_US;
}

/* Does a probe of (region ri, ISP ii) fail target t at time ts? */
static bool
probe_fails(unsigned ri, unsigned ii, const struct target *t, int64_t ts)
{
	const char *reg = sc.reg[ri].code, *svc = sc.svc[t->svc];
	bool after = sc.change != 0 && ts >= sc.change;

	if (strcmp(sc.name, "national") == 0)
		return (t->svc == 0 && ri < 20) || (t->svc == 1 && ii == 0) ||
		    t->svc == 2;
	if (strcmp(reg, "RU-KDA") == 0 && after)
		return strcmp(svc, "vk") != 0 &&
		    strcmp(svc, "reference-domestic") != 0;
	if (strcmp(svc, "instagram") == 0)
		return true;
	if (strcmp(svc, "youtube") == 0)
		return after && sc.reg[ri].isp[ii].asn == 64501;
	if (strcmp(svc, "whatsapp") == 0 && t->test == STUN)
		return strcmp(reg, "RU-MOW") == 0 || strcmp(reg, "RU-SPE") == 0;
	return false;
}

static bool
control_fails(const struct target *t)
{
	return strcmp(sc.name, "national") == 0 && t->svc == 2;
}

/* ------------------------------------------------------------ agents */

struct agent {
	uint8_t pk[STORE_PK_LEN];
	uint8_t *sk;			/* sodium_malloc'd, 64 bytes */
	uint64_t seq;
	zidgen_t ids;
	unsigned ri, ii;		/* probes: region and ISP */
	bool control;
	int64_t phase;			/* its rounds' offset */
};

static struct agent *agents;
static unsigned nagents;

static void
make_agents(store_t *s, int64_t enrolled)
{
	unsigned n = sc.nctl;
	zdiag_t d;

	for (unsigned r = 0; r < sc.nreg; r++)
		for (unsigned i = 0; i < sc.reg[r].nisp; i++)
			n += sc.reg[r].isp[i].agents;
	if ((agents = calloc(n, sizeof(*agents))) == NULL)
		die("out of memory", NULL);
	for (unsigned r = 0; r <= sc.nreg; r++) {
		unsigned ni = r < sc.nreg ? sc.reg[r].nisp : 1;

		for (unsigned i = 0; i < ni; i++) {
			unsigned na = r < sc.nreg ? sc.reg[r].isp[i].agents :
			    sc.nctl;

			for (unsigned k = 0; k < na; k++) {
				struct agent *a = &agents[nagents];
				struct store_agent sa;
				bool created;

				if ((a->sk = sodium_malloc(
				    crypto_sign_SECRETKEYBYTES)) == NULL)
					die("out of memory", NULL);
				crypto_sign_keypair(a->pk, a->sk);
				zidgen_init(&a->ids);
				a->ri = r;
				a->ii = i;
				a->control = r == sc.nreg;
				a->phase = (int64_t)(nagents * 37 % 300) *
				    1000000;
				memset(&sa, 0, sizeof(sa));
				memcpy(sa.pk, a->pk, STORE_PK_LEN);
				sa.enabled = true;
				sa.enrolled_us = enrolled;
				if (a->control) {
					snprintf(sa.region, sizeof(sa.region),
					    "DE-BE");
					sa.asn = 64510;
					sa.role = STORE_ROLE_CONTROL;
					sa.network = STORE_NET_FIXED;
					snprintf(sa.name, sizeof(sa.name),
					    "control-%u", k + 1);
				} else {
					const struct isp *p =
					    &sc.reg[r].isp[i];

					memcpy(sa.region, sc.reg[r].code,
					    STORE_REGION_LEN);
					sa.asn = p->asn;
					sa.role = STORE_ROLE_PROBE;
					sa.network = p->net;
					snprintf(sa.name, sizeof(sa.name),
					    "probe-%s-%" PRIu32 "-%u",
					    sc.reg[r].code + 3, p->asn, k + 1);
				}
				if (store_agent_enroll(s, &sa, &created, &d) !=
				    ZE_OK)
					die("enrolling", d.text);
				nagents++;
			}
		}
	}
}

/* ------------------------------------------------------------ measurements */

struct filler {
	store_t *s;
	struct store_meas_in in[BATCH];
	enum store_put res[BATCH];
	uint8_t body[BATCH][BODY_MAX];
	uint8_t id[BATCH][STORE_ID_LEN];
	uint8_t sig[BATCH][STORE_SIG_LEN];
	size_t nb;
	uint64_t stored, probes, failed;
	zbuf_t sb;			/* signed bytes */
};

static void
flush(struct filler *f)
{
	zdiag_t d;

	if (f->nb == 0)
		return;
	if (store_commit(f->s, f->in, f->nb, f->res, NULL, 0, &d) != ZE_OK)
		die("committing", d.text);
	for (size_t q = 0; q < f->nb; q++)
		f->stored += f->res[q] == STORE_STORED;
	f->nb = 0;
}

/* One measurement of target t by agent a at st, signed, queued. */
static void
measure(struct filler *f, struct agent *a, const struct target *t,
    int64_t st)
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TcpOutcome tcp = ZOND__V1__TCP_OUTCOME__INIT;
	Zond__V1__StunOutcome stun = ZOND__V1__STUN_OUTCOME__INIT;
	size_t k = f->nb, n;
	bool fail = a->control ? control_fails(t) :
	    probe_fails(a->ri, a->ii, t, st);
	uint32_t rtt = 20000 + (uint32_t)randombytes_uniform(30000);
	zid_t id;

	zid_next(&a->ids, st, &id);
	memcpy(f->id[k], id.b, STORE_ID_LEN);
	m.has_id = m.has_seq = m.has_agent = m.has_start_us = 1;
	m.id.data = f->id[k];
	m.id.len = STORE_ID_LEN;
	m.seq = ++a->seq;
	m.agent.data = a->pk;
	m.agent.len = STORE_PK_LEN;
	m.start_us = st;
	m.has_duration_us = 1;
	m.duration_us = fail ? 10000000 : rtt;
	m.agent_version = VERSION;
	m.has_list_version = 1;
	m.list_version = 1;
	m.has_test = 1;
	m.test = t->test;
	m.target = (char *)t->name;
	m.service = sc.svc[t->svc];
	o.has_failure = o.has_attempts = 1;
	o.attempts = fail ? 2 : 1;
	o.failure = fail ? ZOND__V1__FAILURE__FAIL_TIMEOUT :
	    ZOND__V1__FAILURE__FAIL_NONE;
	if (t->test == STUN) {
		stun.addr = (char *)t->addr;
		stun.variant = "whatsapp";
		stun.has_baseline_ok = 1;
		stun.baseline_ok = 1;
		if (!fail) {
			stun.has_rtt_us = 1;
			stun.rtt_us = rtt;
			stun.mapped = "ipv4";
		}
		o.test_case = ZOND__V1__OUTCOME__TEST_STUN;
		o.stun = &stun;
	} else {
		tcp.addr = (char *)t->addr;
		if (!fail) {
			tcp.has_connect_us = 1;
			tcp.connect_us = rtt;
		}
		o.test_case = ZOND__V1__OUTCOME__TEST_TCP;
		o.tcp = &tcp;
	}
	m.outcome = &o;
	if ((n = zond__v1__measurement__get_packed_size(&m)) > BODY_MAX)
		die("body too large", t->name);
	zond__v1__measurement__pack(&m, f->body[k]);
	zbuf_reset(&f->sb);
	if (sign_signed_bytes(ZDOM_MEASUREMENT, f->body[k], n, &f->sb) !=
	    ZE_OK)
		die("out of memory", NULL);
	crypto_sign_detached(f->sig[k], NULL, f->sb.data, f->sb.len, a->sk);
	f->in[k].id = f->id[k];
	f->in[k].agent = a->pk;
	f->in[k].seq = m.seq;
	f->in[k].start_us = st;
	f->in[k].time_us = st;
	f->in[k].time_by = 0;		/* ZCLOCK_SIGNED */
	f->in[k].recv_us = st + m.duration_us + 200000;
	f->in[k].test = (uint32_t)t->test;
	f->in[k].thash = store_target_hash(t->name);
	f->in[k].body = f->body[k];
	f->in[k].body_len = n;
	f->in[k].sig = f->sig[k];
	if (!a->control) {
		f->probes++;
		f->failed += fail;
	}
	if (++f->nb == BATCH)
		flush(f);
}

/* Every agent's rounds, in time order (round by round): each round
 * measures every target, 2 s apart. */
static void
fill(struct filler *f)
{
	for (int64_t r = sc.t0; r < sc.t1; r += sc.interval)
		for (unsigned i = 0; i < nagents; i++) {
			struct agent *a = &agents[i];
			int64_t st = r + a->phase % sc.interval;

			for (unsigned t = 0; t < sc.ntgt; t++) {
				int64_t ts = st + (int64_t)t * 2000000;

				if (ts < sc.t1)
					measure(f, a, &sc.tgt[t], ts);
			}
		}
	flush(f);
}

/* The status a heartbeat leaves: version, list, clock, seen now. */
static void
status(store_t *s, int64_t now)
{
	struct store_seen *sn = calloc(nagents, sizeof(*sn));
	zdiag_t d;

	if (sn == NULL)
		die("out of memory", NULL);
	for (unsigned i = 0; i < nagents; i++) {
		memcpy(sn[i].agent, agents[i].pk, STORE_PK_LEN);
		sn[i].seen_us = now - (int64_t)(i % 50) * 1000000;
		sn[i].has_status = true;
		snprintf(sn[i].version, sizeof(sn[i].version), VERSION);
		sn[i].last_seq = agents[i].seq;
		sn[i].list_version = 1;
		sn[i].has_clock = true;
		sn[i].clock_offset_us = (int64_t)(i % 7) * 1000 - 3000;
	}
	if (store_commit(s, NULL, 0, NULL, sn, nagents, &d) != ZE_OK)
		die("committing the agents' status", d.text);
	free(sn);
}

/* ------------------------------------------------------------ truth */

/* The state now of a cell's sub-rows selected by part (0 all, 1 calls,
 * 2 messaging): blocked (with its method) if any fails while its
 * controls work, down if all fail with their controls, else ok; the
 * regime of its network replaces a failing state.  NULL: no sub-row. */
static const char *
cell_state(unsigned ri, unsigned ii, unsigned svc, int part,
    bool whitelist, const char **method)
{
	unsigned nsub = 0, nblk = 0, ndown = 0, udp = 0;
	const char *st;

	for (unsigned t = 0; t < sc.ntgt; t++) {
		const struct target *g = &sc.tgt[t];

		if (g->svc != svc || (part == 1 && g->test != STUN) ||
		    (part == 2 && g->test == STUN))
			continue;
		nsub++;
		if (!probe_fails(ri, ii, g, sc.t1))
			continue;
		if (control_fails(g))
			ndown++;
		else {
			nblk++;
			udp += g->test == STUN;
		}
	}
	*method = NULL;
	if (nsub == 0)
		return NULL;
	if (nblk > 0) {
		st = "blocked";
		*method = udp == nblk ? "udp" : "tcp";
	} else if (ndown == nsub)
		st = "down";
	else
		return "ok";
	if (whitelist) {
		*method = NULL;
		return "whitelist";
	}
	return st;
}

/* Whitelist now in (ri, ii): its domestic references work, its foreign
 * ones fail (METHODOLOGY.md 3.8). */
static bool
regime_whitelist(unsigned ri, unsigned ii)
{
	bool dom_ok = true, for_fail = true, any = false;

	for (unsigned t = 0; t < sc.ntgt; t++) {
		const char *s = sc.svc[sc.tgt[t].svc];
		bool f = probe_fails(ri, ii, &sc.tgt[t], sc.t1);

		if (strcmp(s, "reference-domestic") == 0)
			dom_ok = dom_ok && !f, any = true;
		else if (strcmp(s, "reference-foreign") == 0)
			for_fail = for_fail && f;
	}
	return any && dom_ok && for_fail;
}

static bool
has_stun(unsigned svc)
{
	for (unsigned t = 0; t < sc.ntgt; t++)
		if (sc.tgt[t].svc == svc && sc.tgt[t].test == STUN)
			return true;
	return false;
}

static void
hex(FILE *fp, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%02x", p[i]);
}

/* The region row of METHODOLOGY.md 4 over the states of its cells. */
static const char *
region_state(const char **st, unsigned n)
{
	unsigned blk = 0, wl = 0, sd = 0, ok = 0, down = 0;

	for (unsigned i = 0; i < n; i++) {
		blk += strcmp(st[i], "blocked") == 0;
		wl += strcmp(st[i], "whitelist") == 0;
		sd += strcmp(st[i], "shutdown") == 0;
		ok += strcmp(st[i], "ok") == 0;
		down += strcmp(st[i], "down") == 0;
	}
	if (blk == n)
		return "blocked";
	if (wl + sd == n)
		return wl > 0 ? "whitelist" : "shutdown";
	if (blk > 0 || wl + sd > 0)
		return "partial";
	if (down > 0 && down >= ok)
		return "down";
	return ok > 0 ? "ok" : "insufficient";
}

static void
write_truth(const char *dir, int64_t now)
{
	char path[4096], tmp[4200], ts[40];
	const char *parts[3] = {"", "/calls", "/messaging"};
	FILE *fp;
	bool first = true;

	snprintf(path, sizeof(path), "%s/truth.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		die("cannot write", tmp);
	ztime_fmt_iso(now, ts, sizeof(ts), 0);
	fprintf(fp, "{\"scenario\": \"%s\", \"now\": \"%s\",\n", sc.name, ts);
	ztime_fmt_iso(sc.change, ts, sizeof(ts), 0);
	fprintf(fp, " \"change\": %s%s%s,\n", sc.change ? "\"" : "",
	    sc.change ? ts : "null", sc.change ? "\"" : "");
	fprintf(fp, " \"services\": [");
	for (unsigned s = 0, k = 0; s < sc.nsvc; s++)
		if (!sc.hidden[s])
			fprintf(fp, "%s\"%s\"", k++ ? ", " : "", sc.svc[s]);
	fprintf(fp, "],\n \"regions_with_agents\": [");
	for (unsigned r = 0; r < sc.nreg; r++)
		fprintf(fp, "%s\"%s\"", r ? ", " : "", sc.reg[r].code);
	fprintf(fp, "],\n \"cells\": [");
	for (unsigned r = 0; r < sc.nreg; r++)
		for (unsigned i = 0; i < sc.reg[r].nisp; i++) {
			bool wl = regime_whitelist(r, i);

			for (unsigned s = 0; s < sc.nsvc; s++) {
				if (sc.hidden[s])
					continue;
				for (int p = 0; p < (has_stun(s) ? 3 : 1);
				    p++) {
					const char *m, *st = cell_state(r, i,
					    s, p, wl, &m);

					fprintf(fp, "%s\n  {\"region\": \"%s\", "
					    "\"asn\": %" PRIu32 ", \"service\": "
					    "\"%s%s\", \"agents\": %u, "
					    "\"state\": \"%s\", \"method\": "
					    "%s%s%s}", first ? "" : ",",
					    sc.reg[r].code, sc.reg[r].isp[i].asn,
					    sc.svc[s], parts[p],
					    sc.reg[r].isp[i].agents, st,
					    m ? "\"" : "", m ? m : "null",
					    m ? "\"" : "");
					first = false;
				}
			}
		}
	fprintf(fp, "],\n \"regions\": [");
	first = true;
	for (unsigned r = 0; r < sc.nreg; r++)
		for (unsigned s = 0; s < sc.nsvc; s++) {
			if (sc.hidden[s])
				continue;
			for (int p = 0; p < (has_stun(s) ? 3 : 1); p++) {
				const char *st[MAX_ISP], *m;
				unsigned n = sc.reg[r].nisp, ag = 0, nb = 0;

				for (unsigned i = 0; i < n; i++) {
					st[i] = cell_state(r, i, s, p,
					    regime_whitelist(r, i), &m);
					ag += sc.reg[r].isp[i].agents;
				}
				fprintf(fp, "%s\n  {\"region\": \"%s\", "
				    "\"service\": \"%s%s\", \"agents\": %u, "
				    "\"state\": \"%s\", \"blocked_asns\": [",
				    first ? "" : ",", sc.reg[r].code,
				    sc.svc[s], parts[p], ag,
				    region_state(st, n));
				for (unsigned i = 0; i < n; i++)
					if (strcmp(st[i], "blocked") == 0 &&
					    strcmp(region_state(st, n),
					    "partial") == 0)
						fprintf(fp, "%s%" PRIu32,
						    nb++ ? ", " : "",
						    sc.reg[r].isp[i].asn);
				fprintf(fp, "]}");
				first = false;
			}
		}
	fprintf(fp, "],\n \"agents\": [");
	for (unsigned i = 0; i < nagents; i++) {
		const struct agent *a = &agents[i];

		fprintf(fp, "%s\n  {\"key\": \"", i ? "," : "");
		hex(fp, a->pk, STORE_PK_LEN);
		if (a->control)
			fprintf(fp, "\", \"role\": \"control\", \"region\": "
			    "\"DE-BE\", \"asn\": 64510, \"measurements\": %"
			    PRIu64 "}", a->seq);
		else
			fprintf(fp, "\", \"role\": \"probe\", \"region\": "
			    "\"%s\", \"asn\": %" PRIu32 ", \"network\": "
			    "\"%s\", \"measurements\": %" PRIu64 "}",
			    sc.reg[a->ri].code, sc.reg[a->ri].isp[a->ii].asn,
			    store_network_name(sc.reg[a->ri].isp[a->ii].net),
			    a->seq);
	}
	fprintf(fp, "]}\n");
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		die("cannot write", path);
}

/* ------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"scenario", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *scen = "small";
	struct store_opts so;
	struct filler *f;
	struct stat sb;
	char path[4096];
	store_t *s;
	zdiag_t d;
	int64_t now;
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 's': scen = optarg; break;
		default: return 2;
		}
	}
	if (data == NULL || optind != argc) {
		fprintf(stderr, "usage: dashboard_seed --data DIR "
		    "[--scenario small|national]\n");
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init failed", NULL);
	now = ztime_now_us();
	if (strcmp(scen, "small") == 0)
		scenario_small(now);
	else if (strcmp(scen, "national") == 0)
		scenario_national(now);
	else
		die("--scenario is small or national, not", scen);
	snprintf(path, sizeof(path), "%s/data.mdb", data);
	if (stat(path, &sb) == 0)
		die("the data directory already holds a store", data);
	memset(&so, 0, sizeof(so));
	so.map_size = (int64_t)256 << 20;
	if (store_open(data, &so, &s, &d) != ZE_OK)
		die("opening the store", d.text);
	make_agents(s, sc.t0 - 24 * HOUR_US);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		die("out of memory", NULL);
	f->s = s;
	zbuf_init(&f->sb, 4096);
	fill(f);
	status(s, now);
	write_truth(data, now);
	printf("scenario=%s agents=%u stored=%" PRIu64 " probes=%" PRIu64
	    " probes_failed=%" PRIu64 "\n", sc.name, nagents, f->stored,
	    f->probes, f->failed);
	zbuf_free(&f->sb);
	free(f);
	for (unsigned i = 0; i < nagents; i++)
		sodium_free(agents[i].sk);
	free(agents);
	store_close(&s);
	return 0;
}
