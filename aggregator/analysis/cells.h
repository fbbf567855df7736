/*
 * cells.h — map cells: judged measurements aggregated per (region, ASN,
 * service) over a time window, with one sub-row per (target, test,
 * variant); region roll-ups over a region's ASNs.
 *
 * Incremental by design: a cell_acc_t holds counts only (verdict and
 * method counts per agent in each sub-row, measurement counts per agent),
 * so the
 * aggregator updates it one measurement at a time (cell_acc_add, and
 * cell_acc_remove when a measurement is re-judged), keeps it in LMDB as
 * bytes (cell_acc_encode/decode, a version byte first), and merges the
 * accumulators of its time buckets (cell_acc_merge) to read a map over any
 * window in O(cells).  cell_judge turns an accumulator into a cell_t, the
 * verdict the map shows.  docs/METHODOLOGY.md "Cells" has the rules.
 *
 * Ownership: cell_acc_new/decode return a new accumulator the caller frees
 * with cell_acc_free; cell_judge fills a cell_t whose targets the caller
 * releases with cell_clear.  Not thread-safe per object; distinct objects
 * may be used from distinct threads.
 */
#ifndef ZOND_CELLS_H
#define ZOND_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "verdict.h"
#include "zbuf.h"
#include "zond.pb-c.h"

#define CELL_REGION_MAX 16	/* "RU-MOW" and NUL; ISO 3166-2 fits */
#define CELL_SERVICE_MAX 64
#define CELL_TARGET_MAX 256
#define CELL_VARIANT_MAX 32
#define CELL_MAX_ROWS 1024	/* sub-rows per cell */
#define CELL_MAX_AGENTS 4096	/* distinct agents per cell */
#define CELL_MAX_ENTRIES 65536	/* (sub-row, agent) pairs per cell */
#define CELL_ACC_VERSION 4	/* first byte of the encoding (1: no
				 * counts per agent in a sub-row; 2: no
				 * where counts; 3: no latest measurement
				 * per agent, still decoded) */
#define CELL_HOP_MAX 64		/* censor hops counted 1..64; the agent's
				 * localization sends at most 64 packets */

typedef struct cell_acc cell_acc_t;

/* Cell verdicts of INTERFACES.md; the order is stable. */
typedef enum cell_verdict {
	CELL_OK = 0,
	CELL_BLOCKED,
	CELL_THROTTLED,
	CELL_DOWN,
	CELL_INSUFFICIENT,
	CELL_GEOBLOCKED,	/* the service refuses these users itself */
	CELL_FILTERED,		/* a local filter product, not the state */
	CELL_PARTIAL,		/* regions only: some ASNs blocked, not all */
	CELL_REVIEW,		/* flagged for review: a domestic control
				 * fails too (METHODOLOGY §2.7), not blocked */
	CELL_WHITELIST,		/* the network is on a whitelist: domestic
				 * references reachable, foreign ones not
				 * (regime.h, METHODOLOGY "Regimes") */
	CELL_SHUTDOWN,		/* the network is off: nothing reachable */
	CELL__COUNT
} cell_verdict_t;

struct ipasn;

/* Where the censor sits for a blocked or throttled measurement
 * (docs/METHODOLOGY.md "Where the censor sits").  MIXED is a region's
 * only: its blocked ASNs disagree. */
typedef enum cell_where {
	CELL_WHERE_UNKNOWN = 0,
	CELL_WHERE_ISP,		/* the censor hop is in the agent's ASN */
	CELL_WHERE_UPSTREAM,	/* in another ASN */
	CELL_WHERE_MIXED,
} cell_where_t;
#define CELL_WHERE_KINDS 3	/* counted kinds: unknown, isp, upstream */

/* A service's part (docs/METHODOLOGY.md "Calls and messaging"): a sub-row
 * is `calls` when its test is a media-path test (stun, call), else
 * `messaging`.  ALL: the whole service. */
typedef enum cell_facet {
	CELL_FACET_ALL = 0,
	CELL_FACET_CALLS,
	CELL_FACET_MESSAGING,
} cell_facet_t;

/* One judged measurement as the cell sees it.  The aggregator fills it
 * from the measurement (agent, target, test, verdict_variant(m)) and its
 * final verdict (never pending). */
struct cell_obs {
	const uint8_t *agent;	/* 32-byte public key */
	const char *target;
	Zond__V1__TestKind test;
	const char *variant;	/* NULL or "": none */
	verdict_t verdict;
	method_t method;
	/* counted only when verdict is blocked or throttled */
	bool locate;		/* the measurement carries a localization */
	cell_where_t where;	/* then: its kind (never MIXED) */
	uint8_t hop;		/* located: the censor hop 1..CELL_HOP_MAX;
				 * 0: none */
	int64_t start_us;	/* its (placed) start, us since the epoch:
				 * which of an agent's measurements is its
				 * latest (cell_opts.latest); 0: unknown,
				 * never the latest */
};

/* Fill o from a measurement and its final verdict (pointers into m);
 * where not set (cell_obs_where).  ZE_INVAL when m has no 32-byte agent
 * key or no target. */
zerr_t cell_obs_fill(struct cell_obs *o, const Zond__V1__Measurement *m,
    verdict_t v, method_t meth) ZWUR;

/* Set o->locate, o->where and o->hop from m's localization, the agent's
 * ASN (0: unknown) and the operator's IP-to-ASN table (NULL: none):
 * located with the censor hop's address in agent_asn -> isp, in another
 * ASN -> upstream; private or unmapped -> isp when a later hop of the
 * same localization is in agent_asn (the path had not left the ISP), else
 * unknown; not located -> unknown. */
void cell_obs_where(struct cell_obs *o, const Zond__V1__Measurement *m,
    uint32_t agent_asn, const struct ipasn *t);
cell_where_t cell_where_of(const Zond__V1__Measurement *m,
    uint32_t agent_asn, const struct ipasn *t, uint8_t *hop);
const char *cell_where_name(cell_where_t w);
/* A measurement's judged where as export records and the measurements API
 * show it: the name for a blocked or throttled measurement with a
 * localization, else NULL (no key). */
const char *cell_meas_where(const Zond__V1__Measurement *m, verdict_t v,
    uint32_t agent_asn, const struct ipasn *t);
/* The ASN of a located censor hop's address in t (0: none, not located,
 * no table, unmapped), for the same records. */
uint32_t cell_meas_censor_asn(const Zond__V1__Measurement *m, verdict_t v,
    const struct ipasn *t);

/* The facet of a test; the name of a facet ("calls", "messaging"; NULL
 * for ALL). */
cell_facet_t cell_facet_of(Zond__V1__TestKind test);
const char *cell_facet_name(cell_facet_t f);
/* Split a service filter "S", "S/calls" or "S/messaging" into base (cap
 * bytes) and facet; ZE_INVAL for another suffix or a base that does not
 * fit. */
zerr_t cell_facet_parse(const char *service, char *base, size_t cap,
    cell_facet_t *f) ZWUR;

/* Thresholds; cell_opts_default() fills the documented defaults. */
struct cell_opts {
	uint32_t min_measurements;	/* judged measurements per cell (3) */
	uint32_t min_agents;		/* distinct agents per cell (2) */
	uint32_t target_min;		/* judged measurements per sub-row (2) */
	uint32_t min_blocked;		/* blocked or throttled agent samples
					 * a sub-row needs to be blocked (2) */
	double block_share;		/* blocked share at least (0.5) */
	double block_lower;		/* and its Wilson lower bound at least
					 * (0.3) */
	double z;			/* Wilson z (1.96: 95 %) */
	uint32_t regime_min_agents;	/* agents each reference cell needs
					 * for a whitelist or shutdown
					 * (regime.h; 2; 0: regimes off) */
	bool latest;			/* each agent's sample in a sub-row is
					 * its latest verdict (the state now)
					 * instead of its most common one
					 * (METHODOLOGY.md "The state now");
					 * an entry without one: most common */
};

struct cell_row {
	char target[CELL_TARGET_MAX];
	Zond__V1__TestKind test;
	char variant[CELL_VARIANT_MAX];	/* "" when none */
	cell_verdict_t verdict;
	method_t method;
	uint32_t measurements;		/* judged */
	uint32_t agents;		/* agent samples, flagged ones not
					 * included */
	uint32_t agent_anomaly;		/* agents flagged in this sub-row */
	double blocked_share;		/* (blocked + throttled) / not down,
					 * over agent samples */
	double confidence;		/* Wilson lower bound of that share */
};

/* An agent flagged agent_anomaly in some sub-row of a cell: it fails what
 * the others of its cell reach.  share: its blocked and throttled
 * measurements over all its measurements in the cell. */
struct cell_anomaly {
	uint8_t agent[32];
	double share;
};

typedef struct cell {
	char region[CELL_REGION_MAX];
	int64_t asn;
	char service[CELL_SERVICE_MAX];
	cell_verdict_t verdict;
	method_t method;		/* NONE unless blocked/throttled */
	uint32_t measurements;		/* judged measurements */
	uint32_t agents;		/* distinct agents */
	uint32_t agent_anomaly;		/* distinct agents flagged */
	double blocked_share;		/* over agent samples */
	double confidence;
	struct cell_row *targets;	/* sorted by target, test, variant */
	size_t ntargets;
	struct cell_anomaly *anomalies;	/* agent_anomaly of them, sorted by
					 * agent key */
	/* blocked or throttled cells: where the censor sits, over the
	 * localized measurements of the blocking sub-rows */
	cell_where_t where;		/* majority of isp/upstream; ties and
					 * none: unknown */
	uint32_t where_n[CELL_WHERE_KINDS];
	uint32_t hops[CELL_HOP_MAX + 1];	/* censor hop -> count */
	/* a service cell with sub-rows of both facets: their verdicts */
	bool has_facets;
	cell_verdict_t facet[2];	/* calls, messaging */
} cell_t;

struct region_row {
	char region[CELL_REGION_MAX];
	char service[CELL_SERVICE_MAX];
	cell_verdict_t verdict;
	uint32_t asns;			/* ASN cells of this region/service */
	uint32_t asns_blocked;		/* of which blocked or throttled */
	uint32_t agents;		/* sum over its ASN cells */
	uint32_t agent_anomaly;		/* sum over its ASN cells */
	const int64_t *blocked_asns;	/* the blocked or throttled ASNs,
					 * ascending; inside the array
					 * cells_regions returns */
	size_t nblocked_asns;		/* == asns_blocked */
	/* asns_blocked > 0: isp/upstream when every blocked ASN cell whose
	 * where is known says so, mixed when they differ, else unknown */
	cell_where_t where;
	/* the method most of its cells show (blocked and throttled cells
	 * carry one; ties: the lowest method_t), METHOD_NONE when none */
	method_t method;
	double confidence;		/* mean over its ASN cells */
	/* the rows "S/calls", "S/messaging" of the same region, when the
	 * map has them (map.c fills these) */
	bool has_facets;
	cell_verdict_t facet[2];
};

void cell_opts_default(struct cell_opts *o);

/* "common" (each agent's most common verdict: false) or "latest" (true)
 * into *latest: ZE_PARSE for anything else.  The map's `sample`. */
zerr_t cell_sample_parse(const char *s, bool *latest) ZWUR;

/* The map's order of cells: region, then ASN, then service (strcmp). */
int cell_order(const char *region_a, int64_t asn_a, const char *service_a,
    const char *region_b, int64_t asn_b, const char *service_b);
/* qsort/bsearch comparator of two `const cell_t *` by cell_order. */
int cell_ptr_cmp(const void *x, const void *y);
const char *cell_verdict_name(cell_verdict_t v);

/* A new empty accumulator for one cell.  ZE_INVAL when region or service
 * is empty or too long. */
zerr_t cell_acc_new(const char *region, int64_t asn, const char *service,
    cell_acc_t **out) ZWUR;
void cell_acc_free(cell_acc_t **a);	/* accepts NULL, clears *a */

/* Count one judged measurement in / out.  add: ZE_INVAL for a pending or
 * out-of-range verdict or a bad field, ZE_TOOBIG past the caps.  remove:
 * ZE_NOTFOUND when no such measurement was counted (nothing changes). */
zerr_t cell_acc_add(cell_acc_t *a, const struct cell_obs *o) ZWUR;
zerr_t cell_acc_remove(cell_acc_t *a, const struct cell_obs *o) ZWUR;

/* dst += src (same region, ASN and service, else ZE_INVAL).  On error dst
 * may hold part of src; callers merge into a scratch accumulator. */
zerr_t cell_acc_merge(cell_acc_t *dst, const cell_acc_t *src) ZWUR;

/* Keep only the agents keep() says yes to (key: 32 bytes): their
 * entries leave every sub-row and the agent list, sums follow, a sub-row
 * left empty goes; a sub-row's where and hop counts (not kept per agent)
 * are clamped to its remaining blocked and throttled measurements.  For
 * a map over part of the agents (a network type, docs/API.md). */
void cell_acc_keep_agents(cell_acc_t *a,
    bool (*keep)(const uint8_t *key, void *arg), void *arg);

/* Judged measurements counted (all sub-rows). */
uint64_t cell_acc_count(const cell_acc_t *a);

/* Bytes for storage (appended to out) and back.  decode checks every
 * length, cap and count and refuses trailing bytes (ZE_PARSE, ZE_TRUNC,
 * ZE_TOOBIG; ZE_VERSION for an unknown version byte). */
zerr_t cell_acc_encode(const cell_acc_t *a, zbuf_t *out) ZWUR;
zerr_t cell_acc_decode(const uint8_t *p, size_t n, cell_acc_t **out,
    zdiag_t *d) ZWUR;

/* Decode a stored record and add it to *dst (the decoded record itself
 * when *dst is NULL).  *scratch is a decoding buffer kept between calls
 * (NULL the first time; free with cell_acc_free): a map merging many
 * records allocates nothing per record.  Errors as decode and merge. */
zerr_t cell_acc_merge_bytes(cell_acc_t **dst, cell_acc_t **scratch,
    const uint8_t *p, size_t n, zdiag_t *d) ZWUR;

/*
 * The cell's verdict now.  o NULL: defaults.  Caller frees with
 * cell_clear.  Rules (docs/METHODOLOGY.md "Cells"):
 *   - a sub-row is judged over agents: each agent's sample is the verdict
 *     most of its measurements there have (ties never blocking); a
 *     blocked/throttled sample is an agent anomaly (out of every count)
 *     when at least 2 other agents have an ok sample and the
 *     blocked/throttled samples, its own included, are at most half as
 *     many as the ok ones;
 *   - fewer than min_measurements judged or min_agents agents:
 *     insufficient;
 *   - a sub-row with fewer than target_min measurements is
 *     insufficient; it is
 *     blocked (throttled) when its blocked + throttled samples are at
 *     least min_blocked, at least block_share of its samples that are not
 *     down, and the Wilson lower bound of that share is at least
 *     block_lower; else filtered (geoblocked) when most samples are; the
 *     cell is blocked when any sub-row is (throttled when only throttled
 *     ones are), with the dominant method of the blocking samples;
 *   - else filtered when a sub-row is, else geoblocked when one is,
 *     else review when one is (a sub-row is review when most samples
 *     are; review samples are never blocking evidence);
 *   - else down when more than half of the samples are down;
 *   - else insufficient (inconclusive) when ok samples are not more than
 *     half of those not down (unexplained failures, or blocking seen by
 *     too few agents to say); else ok.
 * confidence: blocked/throttled/filtered/geoblocked/review — the best such
 * sub-row's Wilson lower bound; down — that of the down share; ok — that
 * of the ok share; else 0.
 */
zerr_t cell_judge(const cell_acc_t *a, const struct cell_opts *o,
    cell_t *out) ZWUR;

/* The same rules over the sub-rows of one facet only: a cell named
 * "S/calls" or "S/messaging" (agents: those measuring its sub-rows).
 * ZE_NOTFOUND when the accumulator has no sub-row of that facet. */
zerr_t cell_judge_facet(const cell_acc_t *a, const struct cell_opts *o,
    cell_facet_t f, cell_t *out) ZWUR;

/* Whether a has a sub-row of facet f. */
bool cell_acc_has_facet(const cell_acc_t *a, cell_facet_t f);

/* The map's cells of one accumulator.  want ALL: out[0] the cell and,
 * when split (its service has calls sub-rows somewhere in the map), after
 * it a part cell "S/calls" and "S/messaging" for each part it has
 * sub-rows of; with both, out[0] carries their verdicts (has_facets).
 * want CALLS or MESSAGING: that part cell alone when a has sub-rows of it.
 * *n: cells written (0 to 3); a service name too long for the suffix
 * gets no part cells.  On error nothing is left to clear. */
zerr_t cell_judge_map(const cell_acc_t *a, const struct cell_opts *o,
    cell_facet_t want, bool split, cell_t out[3], size_t *n) ZWUR;
void cell_clear(cell_t *c);

/* Roll cells up per (region, service), sorted by region then service
 * (rules: docs/METHODOLOGY.md "Regions").  *out is one malloc'd block
 * holding the rows and their blocked_asns (caller frees *out only); *out
 * NULL when n is 0. */
zerr_t cells_regions(const cell_t *cells, size_t n, struct region_row **out,
    size_t *nout) ZWUR;

/* Wilson score lower bound of k successes in n trials (0 when n is 0). */
double cell_wilson_lower(uint64_t k, uint64_t n, double z);

#endif
