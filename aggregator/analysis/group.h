/*
 * group.h — judge the measurements of one (test, target) group, each
 * against the control measurements of the group within +- window of its
 * start and with the same agent's other measurements within +- 2 minutes
 * as siblings (verdict.h).
 *
 * Cost O(n log n) for a group of n (plus VERDICT_CONTROL_MAX per judged
 * measurement), never all pairs: one agent or many agents testing one
 * target must not make judging quadratic (issue 15).  The controls and
 * siblings handed to verdict_judge are the first VERDICT_CONTROL_MAX of
 * each in the group's order, exactly what verdict_judge would read of
 * all of them (docs/METHODOLOGY.md "Controls in the window").  Each
 * control is prepared once per group and one memo (verdict.h) serves the
 * whole group, so a probe whose control list is one of the last few
 * judged (its window did not move) reads none of its controls again.
 *
 * Pure: no I/O, no globals; thread-safe for distinct groups.
 */
#ifndef ZOND_GROUP_H
#define ZOND_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "verdict.h"

#define GROUP_AGENT_LEN 32		/* agent public key */
#define GROUP_SIBLING_US (120LL * 1000000)	/* siblings: |dt| below */

/* One measurement of the group.  Pointers are borrowed for the call. */
struct group_item {
	const Zond__V1__Measurement *m;
	const uint8_t *agent;		/* GROUP_AGENT_LEN bytes */
	int64_t start_us;
	bool control;			/* a control agent's measurement */
	bool domestic;			/* a domestic control's
					 * (verdict.h): not a control */
	bool healthy;			/* domestic: its agent reached
					 * another target near then */
	bool judge;			/* wanted: judge it (else it only serves
					 * as control or sibling) */
};

/* Called once per judged item i (in group order) with its verdict.  r is
 * valid during the call only; r->verdict is anomaly when verdict_judge
 * refused the measurement. */
typedef void (*group_done_fn)(size_t i, const struct verdict_res *r,
    void *arg);

/*
 * Judge every item of g[0..n) that has judge set.  g must be sorted by
 * start_us (ties in any order: that order is then the order controls and
 * siblings are handed on in).  A negative window means no controls and
 * no siblings.  ZE_NOMEM when scratch memory is short (nothing called).
 */
zerr_t group_judge(const struct verdict_opts *o, int64_t window_us,
    const struct group_item *g, size_t n, group_done_fn done, void *arg)
    ZWUR;

#endif
