/*
 * verdict.h — the verdict on one probe measurement, decided by comparing it
 * with control measurements of the same test and target (docs/METHODOLOGY.md
 * is the reasoning; DESIGN.md "Verdicts" the rules).
 *
 * Pure: no I/O, no globals, no allocation that outlives a call except the
 * prepared controls and memos the caller asks for.  Every function here
 * is thread-safe as long as the inputs are not written concurrently (a
 * struct fpdb may be shared, fingerprint.h; a memo is written by the
 * judgments that use it).
 *
 * Flow for the aggregator:
 *   1. when a probe measurement is stored, call verdict_judge() with the
 *      control measurements of the same (test, target) in the window
 *      (role "control" agents; the caller picks the window, e.g. +-1 h),
 *      each prepared once with verdict_ctl_new();
 *   2. a `pending` result means "not enough control yet": judge again when
 *      control arrives, or after the deadline call verdict_expire(), which
 *      turns pending into its `expire_to` verdict (anomaly for a failure,
 *      ok for a success);
 *   3. feed the final verdict into the cell accumulator (cells.h).
 */
#ifndef ZOND_VERDICT_H
#define ZOND_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zond.pb-c.h"

struct fpdb;	/* blockpage fingerprints, fingerprint.h */
struct ipasn;	/* IP-to-ASN table, ipasn.h */

/* Verdict of one measurement (export record `verdict`).  The order is part
 * of the stored rollup format (cells.c): append only. */
typedef enum verdict {
	VERDICT_OK = 0,
	VERDICT_BLOCKED,
	VERDICT_THROTTLED,
	VERDICT_DOWN,
	VERDICT_ANOMALY,
	VERDICT_PENDING,
	VERDICT_GEOBLOCKED,	/* the site itself refuses these users */
	VERDICT_FILTERED,	/* a filter product or institution's filter
				 * (fingerprint scope prod/inst), not the
				 * state's censorship */
	VERDICT_REVIEW,		/* a block the site could cause itself that
				 * a healthy domestic control sees too:
				 * flagged for review, never blocked */
	VERDICT__COUNT
} verdict_t;

/* How a block was done (export record `method`; METHOD_NONE is null).
 * The order is part of the stored rollup format: append only. */
typedef enum method {
	METHOD_NONE = 0,
	METHOD_DNS,
	METHOD_TCP,
	METHOD_TLS,
	METHOD_HTTP,
	METHOD_UDP,
	METHOD_QUIC,
	METHOD_THROTTLE,
	METHOD_FREEZE,
	METHOD_PROTO,
	METHOD__COUNT
} method_t;

/* Thresholds.  verdict_opts_default() fills the documented defaults. */
struct verdict_opts {
	const struct fpdb *fp;	/* HTTP and DNS fingerprints; NULL: none */
	const struct ipasn *asn;	/* IP-to-ASN table for DNS consistency;
					 * NULL: none (a /24 or /48 stands in) */
	double body_ratio;	/* body lengths match when min/max > this (0.7) */
	double throttle_ratio;	/* real/control SNI rate below this is
				 * throttling (0.3) */
	uint64_t freeze_min;	/* a stall with received in [min, max] is */
	uint64_t freeze_max;	/* the 16-20 KB freeze (12288, 24576) */
	unsigned title_word;	/* title words of at least this many
				 * characters are compared (5) */
};

/* verdict_judge reads the first this many controls and the first this
 * many siblings only, so a caller need not pass more (group.h passes the
 * first of the window in start order; docs/METHODOLOGY.md). */
#define VERDICT_CONTROL_MAX 256

/*
 * A control measurement prepared for judging: what every judgment would
 * otherwise work out from it again (its sanity checks, its DNS answers
 * or the addresses a tcp/tls/http test used parsed, with their ASNs when
 * the opts carry a table, its DNS answers and HTTP page matched against
 * the fingerprints), so that many probes judged against the same
 * controls pay for that once (issue 15).  Borrows c, which must outlive
 * it; judge only with the opts it was prepared with (o NULL: the
 * defaults).  c may be anything a control list may hold, NULL too.
 * Immutable once made: may be shared between threads.
 */
struct verdict_ctl;

zerr_t verdict_ctl_new(const struct verdict_opts *o,
    const Zond__V1__Measurement *c, struct verdict_ctl **out) ZWUR;
void verdict_ctl_free(struct verdict_ctl **c);

/* A domestic control's agent reached another target near its time (the
 * caller knows; the measurement alone does not say): its failure is
 * evidence about the target, not a broken vantage point.  Set before
 * the prepared control is shared. */
void verdict_ctl_set_healthy(struct verdict_ctl *c, bool healthy);

/*
 * Optional memory between judgments: the usable controls of a probe's
 * (test, target, variant) in one control list and what the rules count
 * over them, for the last few lists seen, so a run of probes judged
 * against the same list (a dense group, group.h) reads each control once
 * instead of once per probe.  Lists are recognised by the addresses of
 * their prepared controls: free the memo before any verdict_ctl it has
 * seen, and use it with one opts only.  Not thread-safe; caller frees.
 */
struct verdict_memo;

zerr_t verdict_memo_new(struct verdict_memo **out) ZWUR;
void verdict_memo_free(struct verdict_memo **memo);

/* What is judged.  All pointers are borrowed for the call only. */
struct verdict_in {
	const Zond__V1__Measurement *m;	/* the probe measurement */
	/* control measurements of the same (test, target), any variant,
	 * prepared (entries may be NULL): the judge keeps those of the same
	 * variant (stun variant, quic variant, vpn protocol, dns qtype) and
	 * drops those that look censored themselves (blockpage,
	 * fingerprinted DNS answer) */
	const struct verdict_ctl *const *control;
	size_t ncontrol;
	/* optional: measurements of the same agent, test and target near the
	 * same time (other variants), e.g. QUIC initial_small beside
	 * initial_large; may be NULL */
	const Zond__V1__Measurement *const *siblings;
	size_t nsiblings;
	struct verdict_memo *memo;	/* optional, may be NULL */
	/* optional: measurements of the same (test, target) by domestic
	 * control agents (role control-domestic: inside the country, on
	 * another ISP) in the window, prepared like controls and marked
	 * healthy by the caller when their agent reached another target
	 * near that time (verdict_ctl_set_healthy); may be NULL.  Never
	 * counted as controls: they only turn an unconfirmed block that a
	 * site could cause itself into VERDICT_REVIEW
	 * (docs/METHODOLOGY.md §2.7). */
	const struct verdict_ctl *const *domestic;
	size_t ndomestic;
};

#define VERDICT_REASON_MAX 160

struct verdict_res {
	verdict_t verdict;
	method_t method;	/* NONE for ok/down; the suspected layer for
				 * blocked, throttled, anomaly and pending */
	verdict_t expire_to;	/* pending only: the verdict once the control
				 * deadline passed (anomaly or ok) */
	bool confirmed;		/* a blockpage fingerprint matched (OONI
				 * "confirmed") */
	char reason[VERDICT_REASON_MAX];	/* one line, for the record */
};

void verdict_opts_default(struct verdict_opts *o);

/*
 * Judge in->m against its control.  ZE_OK with *r filled, or ZE_INVAL when
 * the measurement has no outcome or the outcome does not match its test
 * (r then says why, as an anomaly).  o NULL means the defaults.
 */
zerr_t verdict_judge(const struct verdict_opts *o, const struct verdict_in *in,
    struct verdict_res *r) ZWUR;

/* The control deadline passed: pending becomes r->expire_to (method
 * cleared for ok).  Other verdicts are left alone. */
void verdict_expire(struct verdict_res *r);

/* The variant a measurement belongs to inside its (test, target): stun
 * variant, quic variant, vpn protocol, dns qtype; NULL when none.  Points
 * into m. */
const char *verdict_variant(const Zond__V1__Measurement *m);

/* Names as in INTERFACES.md: "ok", "blocked", ...; method_name() returns
 * NULL for METHOD_NONE (JSON null). */
const char *verdict_name(verdict_t v);
const char *method_name(method_t m);

#endif
