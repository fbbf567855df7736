/*
 * group.c — see group.h.
 *
 * Two views of the group: its controls in group order, swept by one lower
 * bound that only moves forward (starts only grow); and its other items
 * sorted by (agent, position), where an item's siblings are one run found
 * by binary search.  Each judged item copies at most VERDICT_CONTROL_MAX
 * of each, so a group costs O(n log n + n * VERDICT_CONTROL_MAX) whatever
 * its density.  Each control is prepared once for the group (verdict.h),
 * and one memo serves the group's judgments: consecutive items share
 * their control list until the window moves, and then the rules' counts
 * over it are not worked out again.
 */
#include "group.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A non-control item in the agent view. */
struct byagent {
	const uint8_t *agent;
	int64_t start_us;
	size_t pos;		/* index in the group */
};

static int
cmp_byagent(const void *x, const void *y)
{
	const struct byagent *a = x, *b = y;
	int r = memcmp(a->agent, b->agent, GROUP_AGENT_LEN);

	if (r != 0)
		return r;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* s - d and s + d for d >= 0, clamped instead of overflowing (a start
 * is whatever the agent signed). */
static int64_t
sub_sat(int64_t s, int64_t d)
{
	return s < INT64_MIN + d ? INT64_MIN : s - d;
}

static int64_t
add_sat(int64_t s, int64_t d)
{
	return s > INT64_MAX - d ? INT64_MAX : s + d;
}

/* The first entry of sa[0..n) at or after (agent, from). */
static size_t
agent_lower(const struct byagent *sa, size_t n, const uint8_t *agent,
    int64_t from)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(sa[mid].agent, agent, GROUP_AGENT_LEN);

		if (r < 0 || (r == 0 && sa[mid].start_us < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

zerr_t
group_judge(const struct verdict_opts *o, int64_t window_us,
    const struct group_item *g, size_t n, group_done_fn done, void *arg)
{
	const struct verdict_ctl *ctl[VERDICT_CONTROL_MAX];
	const struct verdict_ctl *dom[VERDICT_CONTROL_MAX];
	const Zond__V1__Measurement *sib[VERDICT_CONTROL_MAX];
	struct verdict_ctl **pc = NULL;	/* prepared, parallel to ci */
	struct verdict_ctl **pd = NULL;	/* prepared, parallel to di */
	struct verdict_memo *memo = NULL;
	struct byagent *sa;
	size_t *ci, *di, nci = 0, ndi = 0, nsa = 0, lo = 0, dlo = 0;
	int64_t sibw;
	zerr_t e = ZE_NOMEM;

	if (n == 0)
		return ZE_OK;
	ci = malloc(n * sizeof(*ci));
	di = malloc(n * sizeof(*di));
	sa = malloc(n * sizeof(*sa));
	if (ci == NULL || di == NULL || sa == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		assert(i == 0 || g[i - 1].start_us <= g[i].start_us);
		if (g[i].control) {
			ci[nci++] = i;
			continue;
		}
		if (g[i].domestic) {
			di[ndi++] = i;
			continue;
		}
		sa[nsa].agent = g[i].agent;
		sa[nsa].start_us = g[i].start_us;
		sa[nsa].pos = i;
		nsa++;
	}
	if (nsa > 1)
		qsort(sa, nsa, sizeof(*sa), cmp_byagent);
	if (nci > 0 && window_us >= 0) {
		if ((pc = calloc(nci, sizeof(*pc))) == NULL ||
		    verdict_memo_new(&memo) != ZE_OK)
			goto out;
		for (size_t k = 0; k < nci; k++)
			if (verdict_ctl_new(o, g[ci[k]].m, &pc[k]) != ZE_OK)
				goto out;
	}
	if (ndi > 0 && window_us >= 0) {
		if ((pd = calloc(ndi, sizeof(*pd))) == NULL)
			goto out;
		for (size_t k = 0; k < ndi; k++) {
			if (verdict_ctl_new(o, g[di[k]].m, &pd[k]) != ZE_OK)
				goto out;
			verdict_ctl_set_healthy(pd[k], g[di[k]].healthy);
		}
	}
	sibw = window_us < GROUP_SIBLING_US - 1 ? window_us :
	    GROUP_SIBLING_US - 1;

	for (size_t i = 0; i < n; i++) {
		const struct group_item *it = &g[i];
		struct verdict_in in;
		struct verdict_res r;
		size_t nc = 0, ns = 0, nd = 0;

		if (!it->judge)
			continue;
		if (window_us >= 0) {
			int64_t from = sub_sat(it->start_us, window_us);
			int64_t to = add_sat(it->start_us, window_us);

			while (lo < nci && g[ci[lo]].start_us < from)
				lo++;
			for (size_t k = lo; k < nci && nc < VERDICT_CONTROL_MAX &&
			    g[ci[k]].start_us <= to; k++)
				if (ci[k] != i)
					ctl[nc++] = pc[k];
			/* domestic controls: the same window, the same way */
			while (dlo < ndi && g[di[dlo]].start_us < from)
				dlo++;
			for (size_t k = dlo; pd != NULL && k < ndi &&
			    nd < VERDICT_CONTROL_MAX &&
			    g[di[k]].start_us <= to; k++)
				if (di[k] != i)
					dom[nd++] = pd[k];
			from = sub_sat(it->start_us, sibw);
			to = add_sat(it->start_us, sibw);
			for (size_t k = agent_lower(sa, nsa, it->agent, from);
			    k < nsa && ns < VERDICT_CONTROL_MAX &&
			    sa[k].start_us <= to && memcmp(sa[k].agent,
			    it->agent, GROUP_AGENT_LEN) == 0; k++)
				if (sa[k].pos != i)
					sib[ns++] = g[sa[k].pos].m;
		}
		memset(&in, 0, sizeof(in));
		in.m = it->m;
		in.control = ctl;
		in.ncontrol = nc;
		in.siblings = sib;
		in.nsiblings = ns;
		in.memo = memo;
		in.domestic = dom;
		in.ndomestic = nd;
		if (verdict_judge(o, &in, &r) != ZE_OK) {
			r.verdict = VERDICT_ANOMALY;
			r.method = METHOD_NONE;
		}
		done(i, &r, arg);
	}
	e = ZE_OK;
out:
	verdict_memo_free(&memo);
	for (size_t k = 0; pc != NULL && k < nci; k++)
		verdict_ctl_free(&pc[k]);
	for (size_t k = 0; pd != NULL && k < ndi; k++)
		verdict_ctl_free(&pd[k]);
	free(pc);
	free(pd);
	free(di);
	free(ci);
	free(sa);
	return e;
}
