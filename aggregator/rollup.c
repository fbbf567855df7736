/*
 * rollup.c — see rollup.h.
 *
 * A round: (1) in a read transaction, walk todo and the open entries whose
 * control window closed, judge what can be judged and write down a plan
 * (one entry per measurement: where it came from, the old and the new
 * verdict, its cell); (2) sort the plan by cell; (3) in a write
 * transaction apply it: take each entry off todo/open (skipping entries
 * no longer there), update one accumulator per touched cell-hour, write
 * it back, and recompute that cell's events.  The write step keeps no
 * state outside the transaction, so store_tx_run may repeat it after
 * growing the map.
 */
#include "zclock.h"
#include "rollup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "regime.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#define SIB_US (120LL * 1000000)	/* siblings: same agent, +- this */
#define SIB_SLACK_US (60LL * 1000000)	/* walk a little further (seq order
					 * is not strictly time order) */
#define MAX_CTL 256			/* controls looked at per judgment */

enum src { SRC_TODO = 0, SRC_OPEN = 1 };

/* Control measurements decoded in this round, by id: many probes of a
 * target share the controls of their windows, so each is decoded once per
 * round.  Open addressing, power-of-two size, never more than half full. */
struct ccache_ent {
	uint8_t id[STORE_ID_LEN];
	wire_meas_t *m;			/* NULL: not a usable control */
	struct verdict_ctl *pc;		/* m prepared for judging */
	bool domestic;			/* a domestic control's */
	bool used;
};

struct ccache {
	struct ccache_ent *t;
	size_t n, cap;
};

/* Per round: does a (test, target) group have any control measurement
 * within +- window of an hour of probe starts?  "No" lets every waiting
 * probe of that hour be skipped without its own index seek (a control
 * outage leaves many); "yes" still checks each probe's exact window. */
struct gh_ent {
	uint64_t thash;
	uint32_t test, hour;
	bool used, any;
};

struct ghcache {
	struct gh_ent *t;
	size_t n, cap;
};

struct plan {
	struct store_cellkey k;
	uint8_t id[STORE_ID_LEN];
	uint64_t tkey;			/* SRC_TODO: its arrival number */
	uint8_t agent[STORE_PK_LEN];
	uint8_t src;
	uint8_t old_v, old_m;		/* SRC_OPEN: what was counted */
	uint8_t v, m;			/* the new verdict */
	bool keep_open;			/* counted before its window closed */
	bool counted;			/* has a cell */
	bool locate;			/* where of the measurement (old and */
	uint8_t where, hop;		/* new: the same inputs) */
	int64_t start_us;		/* placed start: an agent's latest */
	uint32_t test;
	char target[CELL_TARGET_MAX];
	char variant[CELL_VARIANT_MAX];
};

struct round {
	const struct rollup_opts *o;
	int64_t now;
	store_tx_t *tx;
	struct plan *p;
	size_t np, cap;
	bool more;
	zerr_t err;
	struct rollup_stats st;
	struct rollup_stats st_read;	/* st after reading: each write
					 * attempt counts from here */
	/* judging scratch */
	const wire_meas_t *self;
	int64_t self_start;
	size_t walked;			/* by take_sib in this direction */
	const struct verdict_ctl *ctl[MAX_CTL];	/* borrowed from cc */
	const struct verdict_ctl *dom[MAX_CTL];	/* borrowed from cc */
	wire_meas_t *sib[MAX_CTL];
	size_t nctl, ndom, nsib;
	const wire_meas_t *hself;	/* domestic_healthy: whose agent */
	int64_t hstart;
	bool healthy;
	struct ccache cc;
	struct verdict_memo *memo;	/* lists of cc's controls: freed with
					 * cc */
	struct ghcache gh;
	uint8_t open_to[STORE_ID_LEN];
	/* regime_refresh: the services of one hour's roll-ups, read once
	 * per hour and write attempt */
	uint32_t hs_hour;
	bool hs_valid, hs_nomem;
	char (*hs)[CELL_SERVICE_MAX];
	size_t nhs, ahs;
};

void
rollup_opts_default(struct rollup_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_us = 3600LL * 1000000;
	o->settle_us = 60LL * 1000000;
	o->batch = 2000;
	o->hook_max_age_us = 6 * STORE_HOUR_US;
	o->sib_walk = ROLLUP_SIB_WALK;
	verdict_opts_default(&o->v);
	cell_opts_default(&o->c);
	regime_silence_default(&o->sil);
}

static int64_t
id_us(const uint8_t id[STORE_ID_LEN])
{
	return store_id_ms(id) * 1000;
}

static uint32_t
hour_of(int64_t us)
{
	return us <= 0 ? 0 : (uint32_t)(us / STORE_HOUR_US);
}

/* ------------------------------------------------------------ judging */

static int
any_ctl(const uint8_t id[STORE_ID_LEN], void *arg)
{
	(void)id;
	*(bool *)arg = true;
	return 1;
}

static bool
same_target(const wire_meas_t *a, const wire_meas_t *b)
{
	return a->test == b->test && a->target != NULL && b->target != NULL &&
	    strcmp(a->target, b->target) == 0;
}

static size_t
cc_slot(const struct ccache *c, const uint8_t id[STORE_ID_LEN])
{
	/* the id's last 8 bytes are random */
	uint64_t h = be64_get(id + STORE_ID_LEN - 8);

	h ^= h >> 29;
	for (size_t i = (size_t)h & (c->cap - 1);;
	    i = (i + 1) & (c->cap - 1))
		if (!c->t[i].used || memcmp(c->t[i].id, id,
		    STORE_ID_LEN) == 0)
			return i;
}

static void
cc_clear(struct ccache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		if (c->t[i].used) {
			verdict_ctl_free(&c->t[i].pc);
			wire_meas_free(c->t[i].m);
		}
	free(c->t);
	memset(c, 0, sizeof(*c));
}

/* Make room for one more entry; false when out of memory. */
static bool
cc_grow(struct ccache *c)
{
	struct ccache old = *c;

	if (c->cap > 0 && 2 * (c->n + 1) <= c->cap)
		return true;
	c->cap = old.cap ? 2 * old.cap : 256;
	if ((c->t = calloc(c->cap, sizeof(*c->t))) == NULL) {
		*c = old;
		return false;
	}
	c->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.t[i].used) {
			c->t[cc_slot(c, old.t[i].id)] = old.t[i];
			c->n++;
		}
	free(old.t);
	return true;
}

/* The slot of (test, thash, hour), growing the table first; NULL when
 * out of memory. */
static struct gh_ent *
gh_slot(struct ghcache *c, uint32_t test, uint64_t thash, uint32_t hour)
{
	uint64_t h;
	size_t i;

	if (c->cap == 0 || 2 * (c->n + 1) > c->cap) {
		struct ghcache old = *c;

		c->cap = old.cap ? 2 * old.cap : 256;
		if ((c->t = calloc(c->cap, sizeof(*c->t))) == NULL) {
			*c = old;
			return NULL;
		}
		c->n = 0;
		for (size_t k = 0; k < old.cap; k++) {
			struct gh_ent *e = &old.t[k];
			if (!e->used)
				continue;
			*gh_slot(c, e->test, e->thash, e->hour) = *e;
			c->n++;
		}
		free(old.t);
	}
	h = (thash ^ ((uint64_t)hour << 8) ^ test) * 0x9e3779b97f4a7c15ULL;
	for (i = (size_t)(h >> 20) & (c->cap - 1);; i = (i + 1) & (c->cap - 1))
		if (!c->t[i].used || (c->t[i].thash == thash &&
		    c->t[i].test == test && c->t[i].hour == hour))
			return &c->t[i];
}

static int domestic_healthy(struct round *r, const struct store_meas *sm,
    const wire_meas_t *m);

/* One entry of the ctl index (controls and domestic controls of the
 * probe's test and target hash), each read and prepared once a round. */
static int
take_ctl(const uint8_t id[STORE_ID_LEN], void *arg)
{
	struct round *r = arg;
	struct ccache_ent *ce;
	struct store_meas sm;
	wire_meas_t *m = NULL;
	int rc;

	/* the controls' bound (METHODOLOGY §2): domestic controls after
	 * the first MAX_CTL controls of the window are not read either */
	if (r->nctl == MAX_CTL)
		return 1;
	if (!cc_grow(&r->cc)) {
		r->err = ZE_NOMEM;
		return 1;
	}
	ce = &r->cc.t[cc_slot(&r->cc, id)];
	if (!ce->used) {
		if ((rc = store_tx_meas_get(r->tx, id, &sm)) < 0)
			return -1;
		if (rc == 0 && sm.role != STORE_ROLE_PROBE &&
		    wire_meas_decode(sm.body, sm.body_len, &m, NULL) != ZE_OK)
			m = NULL;
		memcpy(ce->id, id, STORE_ID_LEN);
		ce->m = m;
		ce->pc = NULL;
		ce->domestic = rc == 0 && sm.role == STORE_ROLE_DOMESTIC;
		ce->used = true;
		r->cc.n++;
		if (m != NULL && verdict_ctl_new(&r->o->v, m, &ce->pc) !=
		    ZE_OK) {
			r->err = ZE_NOMEM;
			return 1;
		}
		if (m != NULL && ce->domestic) {
			/* the walk reads other records: sm is not kept */
			struct store_meas dm = sm;
			if ((rc = domestic_healthy(r, &dm, m)) < 0)
				return -1;
			verdict_ctl_set_healthy(ce->pc, rc == 1);
		}
	}
	/* the window by start time, both ends included, as group_judge
	 * takes it (the id range is wider by the id skew); a target of
	 * another name is a hash collision */
	if (ce->m != NULL && ce->m->start_us >= r->self_start -
	    r->o->window_us && ce->m->start_us <= r->self_start +
	    r->o->window_us && same_target(ce->m, r->self)) {
		if (!ce->domestic && r->nctl < MAX_CTL)
			r->ctl[r->nctl++] = ce->pc;
		else if (ce->domestic && r->ndom < MAX_CTL)
			r->dom[r->ndom++] = ce->pc;
	}
	return 0;
}

/* domestic_healthy's walk: a success of another target of the agent
 * less than SIB_US away ends it. */
static int
take_health(const struct store_meas *sm, void *arg)
{
	struct round *r = arg;
	int64_t dt = sm->start_us - r->hstart;
	wire_meas_t *m = NULL;

	if (r->walked >= r->o->sib_walk)
		return 1;
	r->walked++;
	if (dt < -(SIB_US + SIB_SLACK_US) || dt > SIB_US + SIB_SLACK_US)
		return 1;
	if (dt <= -SIB_US || dt >= SIB_US)
		return 0;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;
	/* another target: another site, whatever the test */
	if (m->outcome != NULL && (!m->outcome->has_failure ||
	    m->outcome->failure == ZOND__V1__FAILURE__FAIL_NONE) &&
	    m->target != NULL && r->hself->target != NULL &&
	    strcmp(m->target, r->hself->target) != 0)
		r->healthy = true;
	wire_meas_free(m);
	return r->healthy ? 1 : 0;
}

/* 1 when the domestic control's agent reached another target less than
 * SIB_US from sm (at most o->sib_walk of its measurements each way, as
 * for siblings; analyze.c's domestic_health does the same on demand),
 * 0 when not, -1 on a database error. */
static int
domestic_healthy(struct round *r, const struct store_meas *sm,
    const wire_meas_t *m)
{
	size_t walked = r->walked;

	r->hself = m;
	r->hstart = sm->start_us;
	r->healthy = false;
	r->walked = 0;
	if (store_tx_agent_walk(r->tx, sm->agent, sm->seq, -1, take_health,
	    r) < 0)
		return -1;
	r->walked = 0;
	if (!r->healthy && store_tx_agent_walk(r->tx, sm->agent, sm->seq + 1,
	    1, take_health, r) < 0)
		return -1;
	r->walked = walked;
	return r->healthy ? 1 : 0;
}

static int
take_sib(const struct store_meas *sm, void *arg)
{
	struct round *r = arg;
	int64_t dt = sm->start_us - r->self_start;
	wire_meas_t *m = NULL;

	/* the agent measures a target's variants in one round, among that
	 * round's other rows: o->sib_walk entries each way find them unless
	 * the round has more rows, and bound a burst's cost to O(n) */
	if (r->walked >= r->o->sib_walk)
		return 1;
	r->walked++;
	r->st.sib_walked++;
	if (dt < -(SIB_US + SIB_SLACK_US) || dt > SIB_US + SIB_SLACK_US)
		return 1;
	if (r->nsib == MAX_CTL)
		return 1;
	if (sm->test != (uint32_t)r->self->test || dt <= -SIB_US ||
	    dt >= SIB_US || (r->self->has_id && r->self->id.len ==
	    STORE_ID_LEN && memcmp(sm->id, r->self->id.data,
	    STORE_ID_LEN) == 0))
		return 0;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;
	if (!same_target(m, r->self)) {
		wire_meas_free(m);
		return 0;
	}
	r->sib[r->nsib++] = m;
	return 0;
}

/* The agent's measurements of sm's test and target less than SIB_US
 * away, walking its sequence down from sm and up from it, at most
 * o->sib_walk entries each way; -1 on a database error. */
static int
find_sibs(struct round *r, const struct store_meas *sm)
{
	r->walked = 0;
	if (store_tx_agent_walk(r->tx, sm->agent, sm->seq, -1, take_sib,
	    r) < 0)
		return -1;
	r->walked = 0;
	return store_tx_agent_walk(r->tx, sm->agent, sm->seq + 1, 1, take_sib,
	    r) < 0 ? -1 : 0;
}

static void
scratch_free(struct round *r)
{
	for (size_t i = 0; i < r->nsib; i++)
		wire_meas_free(r->sib[i]);
	r->nctl = r->ndom = r->nsib = 0;
}

/* Judge sm (decoded m) against the controls of its window; -1 on a
 * database error. */
static int
judge(struct round *r, const struct store_meas *sm, const wire_meas_t *m,
    struct verdict_res *res)
{
	uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
	struct verdict_in in;

	r->self = m;
	/* the placed start (a clock corrected by its boot's anchor,
	 * PROTOCOL.md "Clock"); controls by their own starts */
	r->self_start = sm->time_us;
	store_ids_of_starts(sm->time_us - r->o->window_us, sm->time_us +
	    r->o->window_us + 1, from, to);
	if (store_tx_ctl_iter(r->tx, sm->test, store_target_hash(m->target),
	    from, to, take_ctl, r) < 0 || r->err != ZE_OK)
		goto fail;
	if (m->test == ZOND__V1__TEST_KIND__TEST_QUIC && find_sibs(r, sm) < 0)
		goto fail;
	if (r->memo == NULL && verdict_memo_new(&r->memo) != ZE_OK)
		r->memo = NULL;		/* judged without one */
	memset(&in, 0, sizeof(in));
	in.m = m;
	in.control = r->ctl;
	in.ncontrol = r->nctl;
	in.memo = r->memo;
	in.siblings = (const Zond__V1__Measurement *const *)r->sib;
	in.nsiblings = r->nsib;
	in.domestic = r->dom;
	in.ndomestic = r->ndom;
	if (verdict_judge(&r->o->v, &in, res) != ZE_OK) {
		res->verdict = VERDICT_ANOMALY;
		res->method = METHOD_NONE;
	}
	scratch_free(r);
	return 0;
fail:
	scratch_free(r);
	return -1;
}

static struct plan *
plan_add(struct round *r)
{
	if (r->np == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 256;
		struct plan *np = realloc(r->p, nc * sizeof(*np));
		if (np == NULL) {
			r->err = ZE_NOMEM;
			return NULL;
		}
		r->p = np;
		r->cap = nc;
	}
	memset(&r->p[r->np], 0, sizeof(r->p[r->np]));
	return &r->p[r->np++];
}

/* The cell fields of a judged probe measurement. */
static void
plan_cell(struct plan *p, const struct store_meas *sm, const wire_meas_t *m,
    const struct ipasn *asn)
{
	const char *var = verdict_variant(m);
	struct cell_obs ob;

	memcpy(p->agent, sm->agent, STORE_PK_LEN);
	p->test = (uint32_t)m->test;
	/* a measurement whose time cannot be known (taken before its agent
	 * knew the time, delivered after a reboot) votes in no hour: it is
	 * stored, judged and exported, not put into a wrong one
	 * (METHODOLOGY.md "A clock the agent could not verify") */
	if (sm->role != STORE_ROLE_PROBE || sm->time_by == ZCLOCK_UNPLACED ||
	    m->service == NULL ||
	    *m->service == '\0' || m->target == NULL ||
	    strlen(m->service) >= sizeof(p->k.service) ||
	    strlen(m->target) >= sizeof(p->target) ||
	    (var != NULL && strlen(var) >= sizeof(p->variant)))
		return;
	p->counted = true;
	p->k.hour = hour_of(sm->time_us);	/* placed: METHODOLOGY.md */
	p->start_us = sm->time_us;
	snprintf(p->k.service, sizeof(p->k.service), "%s", m->service);
	memcpy(p->k.region, sm->region, STORE_REGION_LEN);
	p->k.asn = sm->asn;
	snprintf(p->target, sizeof(p->target), "%s", m->target);
	snprintf(p->variant, sizeof(p->variant), "%s", var ? var : "");
	cell_obs_where(&ob, m, sm->asn, asn);
	p->locate = ob.locate;
	p->where = (uint8_t)ob.where;
	p->hop = ob.hop;
}

/* Is there a control measurement of t's (test, target) within +- window
 * of start?  1 yes, 0 no, -1 database error (1 with r->err on memory).
 * One index lookup per (test, target, hour) answers "no" for a whole hour
 * of waiting probes; a "maybe" is then checked for the probe's own
 * window. */
static int
control_near(struct round *r, const struct store_todo *t, int64_t start)
{
	uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
	uint32_t hour = hour_of(start);
	struct gh_ent *g = gh_slot(&r->gh, t->test, t->thash, hour);
	bool any = false;

	if (g == NULL) {
		r->err = ZE_NOMEM;
		return 1;
	}
	if (!g->used) {
		/* the union of the windows of this hour's probes */
		store_id_at((int64_t)hour * STORE_HOUR_US - r->o->window_us -
		    1000, from);
		store_id_at((int64_t)(hour + 1) * STORE_HOUR_US +
		    r->o->window_us + 2000, to);
		if (store_tx_ctl_iter(r->tx, t->test, t->thash, from, to,
		    any_ctl, &any) < 0)
			return -1;
		g->used = true;
		g->test = t->test;
		g->thash = t->thash;
		g->hour = hour;
		g->any = any;
		r->gh.n++;
	}
	if (!g->any)
		return 0;
	store_id_at(start - r->o->window_us - 1000, from);
	store_id_at(start + r->o->window_us + 2000, to);
	any = false;
	if (store_tx_ctl_iter(r->tx, t->test, t->thash, from, to, any_ctl,
	    &any) < 0)
		return -1;
	return any;
}

static int
todo_one(const struct store_todo *t, void *arg)
{
	struct round *r = arg;
	int64_t start = id_us(t->id);
	bool due = r->now >= start + r->o->window_us + r->o->settle_us;
	struct store_meas sm;
	struct verdict_res res;
	wire_meas_t *m = NULL;
	struct plan *p;
	int rc;

	if (r->np >= r->o->batch) {
		r->more = true;
		return 1;
	}
	if (t->role == STORE_ROLE_PROBE && !due) {
		if ((rc = control_near(r, t, start)) != 1)
			return rc;	/* none yet: leave it, undecoded */
		if (r->err != ZE_OK)
			return 1;
	}
	if ((rc = store_tx_meas_get(r->tx, t->id, &sm)) < 0)
		return -1;
	if (rc == 0 && sm.role == STORE_ROLE_PROBE &&
	    wire_meas_decode(sm.body, sm.body_len, &m, NULL) == ZE_OK) {
		if (judge(r, &sm, m, &res) < 0) {
			wire_meas_free(m);
			return -1;
		}
		due = r->now >= sm.time_us + r->o->window_us +
		    r->o->settle_us;
		if (res.verdict == VERDICT_PENDING && !due) {
			wire_meas_free(m);
			return 0;
		}
		if (res.verdict == VERDICT_PENDING) {
			verdict_expire(&res);
			r->st.expired++;
		}
	} else if (rc == 0 && sm.role != STORE_ROLE_PROBE)
		r->st.controls++;	/* domestic controls too */
	/* control, missing or undecodable (cannot happen: verified at
	 * ingest): just taken off todo */
	if ((p = plan_add(r)) == NULL) {
		wire_meas_free(m);
		return 1;
	}
	memcpy(p->id, t->id, STORE_ID_LEN);
	p->tkey = t->key;
	p->src = SRC_TODO;
	if (m != NULL) {
		p->v = (uint8_t)res.verdict;
		p->m = (uint8_t)res.method;
		p->keep_open = !due;
		plan_cell(p, &sm, m, r->o->v.asn);
		if (!p->counted)
			p->keep_open = false;
	}
	wire_meas_free(m);
	return 0;
}

static int
open_one(const uint8_t id[STORE_ID_LEN], uint8_t v, uint8_t meth,
    void *arg)
{
	struct round *r = arg;
	struct store_meas sm;
	struct verdict_res res;
	wire_meas_t *m = NULL;
	struct plan *p;
	int rc;

	if (r->np >= 2 * r->o->batch) {
		r->more = true;
		return 1;
	}
	if ((rc = store_tx_meas_get(r->tx, id, &sm)) < 0)
		return -1;
	if ((p = plan_add(r)) == NULL)
		return 1;
	memcpy(p->id, id, STORE_ID_LEN);
	p->src = SRC_OPEN;
	p->old_v = v;
	p->old_m = meth;
	p->v = v;
	p->m = meth;
	if (rc != 0 || wire_meas_decode(sm.body, sm.body_len, &m, NULL) !=
	    ZE_OK)
		return 0;	/* gone: the entry is dropped */
	if (judge(r, &sm, m, &res) < 0) {
		wire_meas_free(m);
		return -1;
	}
	verdict_expire(&res);
	p->v = (uint8_t)res.verdict;
	p->m = (uint8_t)res.method;
	plan_cell(p, &sm, m, r->o->v.asn);
	wire_meas_free(m);
	return 0;
}

static int
read_fn(store_tx_t *tx, void *arg)
{
	struct round *r = arg;

	int rc = 0;

	r->tx = tx;
	r->np = 0;
	r->more = false;
	if (store_tx_todo_iter(tx, todo_one, r) < 0)
		rc = -1;
	else if (r->err == ZE_OK &&
	    store_tx_open_iter(tx, r->open_to, open_one, r) < 0)
		rc = -1;
	verdict_memo_free(&r->memo);	/* knows cc's controls by address */
	cc_clear(&r->cc);	/* bounded per round */
	free(r->gh.t);
	memset(&r->gh, 0, sizeof(r->gh));
	return rc;	/* r->err is checked by the caller */
}

/* ------------------------------------------------------------ applying */

static int
cellkey_cmp(const struct store_cellkey *a, const struct store_cellkey *b)
{
	int c;

	if (a->hour != b->hour)
		return a->hour < b->hour ? -1 : 1;
	if ((c = strcmp(a->service, b->service)) != 0)
		return c;
	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static int
plan_cmp(const void *x, const void *y)
{
	const struct plan *a = x, *b = y;

	if (a->counted != b->counted)
		return a->counted ? 1 : -1;
	return a->counted ? cellkey_cmp(&a->k, &b->k) : 0;
}

static void
obs_of(const struct plan *p, bool old, struct cell_obs *ob)
{
	ob->agent = p->agent;
	ob->target = p->target;
	ob->test = (Zond__V1__TestKind)p->test;
	ob->variant = p->variant;
	ob->verdict = (verdict_t)(old ? p->old_v : p->v);
	ob->method = (method_t)(old ? p->old_m : p->m);
	ob->locate = p->locate;
	ob->where = (cell_where_t)p->where;
	ob->hop = p->hop;
	ob->start_us = p->start_us;
}

/* Queue ev for the webhook when it is on, ev is news (not a first
 * judgement to ok) and recent enough. */
static int
hook_push(struct round *r, const event_t *ev)
{
	zbuf_t b;
	int ok;

	if (!r->o->hook || !event_news(ev) ||
	    ev->time_us < r->now - r->o->hook_max_age_us)
		return 0;
	zbuf_init(&b, 4096);
	ok = event_json(&b, ev) == ZE_OK ?
	    store_tx_hook_push(r->tx, (const char *)b.data, b.len) : 0;
	zbuf_free(&b);
	if (ok < 0)
		return -1;
	r->st.hooked++;
	return 0;
}

/* The event at hour k->hour for a cell whose state there is (v, m),
 * against the cell's previous judged hour (event_make's rule): written,
 * replaced or removed. */
static int
event_at(struct round *r, const struct store_cellkey *k, cell_verdict_t v,
    method_t m)
{
	struct store_event old, se;
	uint32_t ph;
	uint8_t pv = CELL_INSUFFICIENT, pm = METHOD_NONE;
	cell_t now;
	event_t ev;
	int had;

	if (regime_is_reference(k->service))
		return 0;	/* evidence, not a service: no events */
	if ((had = store_tx_event_get(r->tx, k, &old)) < 0)
		return -1;
	if (v != CELL_INSUFFICIENT &&
	    store_tx_cellhour_near(r->tx, k, -1, &ph, &pv, &pm) < 0)
		return -1;
	memset(&now, 0, sizeof(now));
	snprintf(now.region, sizeof(now.region), "%s", k->region);
	now.asn = k->asn;
	snprintf(now.service, sizeof(now.service), "%s", k->service);
	now.verdict = v;
	now.method = m;
	if (!event_make((int64_t)k->hour * STORE_HOUR_US, &now,
	    (cell_verdict_t)pv, (method_t)pm, &ev)) {
		if (had != 0)
			return 0;
		if (store_tx_event_del(r->tx, k) < 0)
			return -1;
		/* a webhook that was told of it is told it no longer holds
		 * (an hour judged again once over: "The state now") */
		memset(&ev, 0, sizeof(ev));
		ev.time_us = (int64_t)k->hour * STORE_HOUR_US;
		snprintf(ev.region, sizeof(ev.region), "%s", k->region);
		ev.asn = k->asn;
		snprintf(ev.service, sizeof(ev.service), "%s", k->service);
		ev.from = (cell_verdict_t)old.from;
		ev.to = (cell_verdict_t)old.to;
		ev.method = (method_t)old.method;
		ev.retracted = true;
		return hook_push(r, &ev);
	}
	se.k = *k;
	se.from = (uint8_t)ev.from;
	se.to = (uint8_t)ev.to;
	se.method = (uint8_t)ev.method;
	if (had == 0 && old.from == se.from && old.to == se.to &&
	    old.method == se.method)
		return 0;
	if (store_tx_event_put(r->tx, &se) < 0)
		return -1;
	r->st.events++;
	return hook_push(r, &ev);
}

/* Bring the hour state of k (v, m) and its events up to date. */
static int
state_flush(struct round *r, const struct store_cellkey *k, cell_verdict_t v,
    method_t m)
{
	struct store_cellkey nk = *k;
	uint32_t nh;
	uint8_t nv, nm;
	int rc;

	rc = v == CELL_INSUFFICIENT ? store_tx_cellhour_del(r->tx, k) :
	    store_tx_cellhour_put(r->tx, k, (uint8_t)v, (uint8_t)m);
	if (rc < 0 || event_at(r, k, v, m) < 0)
		return -1;
	/* the next judged hour's event depends on this one */
	if ((rc = store_tx_cellhour_near(r->tx, k, 1, &nh, &nv, &nm)) < 0)
		return -1;
	if (rc == 0) {
		nk.hour = nh;
		if (event_at(r, &nk, (cell_verdict_t)nv, (method_t)nm) < 0)
			return -1;
	}
	return 0;
}

/* The judged cell of one stored roll-up of this transaction (ZE_NOTFOUND
 * when there is none or it does not decode). */
static zerr_t
judge_stored(struct round *r, const struct store_cellkey *k,
    const struct cell_opts *co, cell_t *out)
{
	const uint8_t *b;
	size_t n;
	cell_acc_t *acc = NULL;
	zerr_t e;
	int rc;

	if ((rc = store_tx_rollup_get(r->tx, k, &b, &n)) < 0)
		return ZE_IO;
	if (rc == 1 || cell_acc_decode(b, n, &acc, NULL) != ZE_OK)
		return ZE_NOTFOUND;
	e = cell_judge(acc, co, out);
	cell_acc_free(&acc);
	return e;
}

/* The regime of k's hour, region and ASN from its reference roll-ups
 * (regime.h); -1 on a storage error. */
static int
hour_regime(struct round *r, const struct store_cellkey *k,
    const struct cell_opts *co, regime_t *out)
{
	static const char *const refs[2] = {REGIME_DOMESTIC, REGIME_FOREIGN};
	struct store_cellkey rk = *k;
	cell_t c[2];
	bool have[2];
	zerr_t e;

	*out = REGIME_NONE;
	if (r->o->c.regime_min_agents == 0)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		snprintf(rk.service, sizeof(rk.service), "%s", refs[i]);
		e = judge_stored(r, &rk, co, &c[i]);
		if (e == ZE_IO) {
			if (i == 1 && have[0])
				cell_clear(&c[0]);
			return -1;
		}
		have[i] = e == ZE_OK;
	}
	*out = regime_of(have[0] ? &c[0] : NULL, have[1] ? &c[1] : NULL,
	    r->o->c.regime_min_agents);
	for (size_t i = 0; i < 2; i++)
		if (have[i])
			cell_clear(&c[i]);
	return 0;
}

/* Does a silence period (rollup_silence) of k's region and ASN overlap
 * k's hour?  1 yes (*open: it is still open), 0 no (or silence is off),
 * -1 storage error. */
struct sil_hit {
	bool hit, open;
};

static int
sil_hit_one(const struct store_silence *p, void *arg)
{
	struct sil_hit *h = arg;

	h->hit = true;
	h->open = h->open || p->end_us == 0;
	return 0;
}

static int
sil_at(struct round *r, const struct store_cellkey *k, bool *open)
{
	struct sil_hit h = {false, false};
	char reg[STORE_REGION_LEN];

	*open = false;
	if (r->o->sil.after_us <= 0 || r->o->c.regime_min_agents == 0 ||
	    regime_is_reference(k->service))
		return 0;
	memcpy(reg, k->region, sizeof(reg));
	reg[sizeof(reg) - 1] = '\0';
	if (store_tx_silence_iter(r->tx, reg, k->asn,
	    (int64_t)k->hour * STORE_HOUR_US,
	    ((int64_t)k->hour + 1) * STORE_HOUR_US, sil_hit_one, &h) < 0)
		return -1;
	*open = h.open;
	return h.hit;
}

/* A cell's state inside a silence period: shutdown when its hour has no
 * verdict of its own, or when the hour is not over and the period still
 * open (the state now: its agents' latest rounds predate the silence). */
static void
sil_apply(int sil, bool open, bool latest, cell_verdict_t *v, method_t *m)
{
	if (sil > 0 && (*v == CELL_INSUFFICIENT || (latest && open))) {
		*v = CELL_SHUTDOWN;
		*m = METHOD_NONE;
	}
}

/* Bring the hour states and events of k (accumulator acc) up to date:
 * the cell's and, when it has call sub-rows, those of its parts "S/calls"
 * and "S/messaging" (METHODOLOGY.md §3.6, §5), inside the regime of its
 * hour (§"Regimes"). */
static int
cell_states(struct round *r, const struct store_cellkey *k,
    const cell_acc_t *acc)
{
	static const cell_facet_t parts[2] = {CELL_FACET_CALLS,
	    CELL_FACET_MESSAGING};
	struct store_cellkey pk;
	struct cell_opts co = r->o->c;
	cell_t cl;
	cell_verdict_t v = CELL_INSUFFICIENT;
	method_t m = METHOD_NONE;
	regime_t rg = REGIME_NONE;
	bool sil_open;
	int sil;

	/* the hour that is not over yet is the state now: each agent's
	 * latest sample, so a block shows one round after it starts; an
	 * hour that is over, by each agent's most common (METHODOLOGY.md
	 * "The state now") */
	co.latest = k->hour >= hour_of(r->now);
	if (!regime_is_reference(k->service) &&
	    hour_regime(r, k, &co, &rg) < 0)
		return -1;
	if ((sil = sil_at(r, k, &sil_open)) < 0)
		return -1;
	if (cell_judge(acc, &co, &cl) == ZE_OK) {
		v = regime_apply(rg, cl.verdict);
		m = v == cl.verdict ? cl.method : METHOD_NONE;
		cell_clear(&cl);
	}
	sil_apply(sil, sil_open, co.latest, &v, &m);
	if (state_flush(r, k, v, m) < 0)
		return -1;
	if (!cell_acc_has_facet(acc, CELL_FACET_CALLS))
		return 0;
	for (size_t i = 0; i < 2; i++) {
		pk = *k;
		if ((size_t)snprintf(pk.service, sizeof(pk.service), "%s/%s",
		    k->service, cell_facet_name(parts[i])) >=
		    sizeof(pk.service))
			continue;	/* a name too long for its parts */
		v = CELL_INSUFFICIENT;
		m = METHOD_NONE;
		if (cell_judge_facet(acc, &co, parts[i], &cl) == ZE_OK) {
			v = regime_apply(rg, cl.verdict);
			m = v == cl.verdict ? cl.method : METHOD_NONE;
			cell_clear(&cl);
		}
		sil_apply(sil, sil_open, co.latest, &v, &m);
		if (state_flush(r, &pk, v, m) < 0)
			return -1;
	}
	return 0;
}

/* Collect the distinct services of an hour (key order groups them). */
static int
hs_one(const struct store_cellkey *k, const uint8_t *p, size_t n, void *arg)
{
	struct round *r = arg;

	(void)p;
	(void)n;
	if (regime_is_reference(k->service) || (r->nhs > 0 &&
	    strcmp(r->hs[r->nhs - 1], k->service) == 0))
		return 0;
	if (r->nhs == r->ahs) {
		size_t nc = r->ahs ? 2 * r->ahs : 16;
		char (*nv)[CELL_SERVICE_MAX] = realloc(r->hs,
		    nc * sizeof(*nv));

		if (nv == NULL) {
			r->hs_nomem = true;
			return 1;
		}
		r->hs = nv;
		r->ahs = nc;
	}
	snprintf(r->hs[r->nhs++], CELL_SERVICE_MAX, "%s", k->service);
	return 0;
}

/* A reference cell of k's hour changed: judge the service cells of the
 * same hour, region and ASN again inside the new regime.  The hour's
 * services are read once per round (one walk of its roll-ups), then one
 * get per service: a round touching R networks' references costs
 * O(cells of the hour + R x services), not R walks.  A service whose
 * cell appears later in the round reads the references itself
 * (cell_states). */
static int
regime_refresh(struct round *r, const struct store_cellkey *k)
{
	struct store_cellkey sk = *k;
	cell_acc_t *acc;
	const uint8_t *b;
	size_t n;
	int rc;

	if (!r->hs_valid || r->hs_hour != k->hour) {
		r->nhs = 0;
		r->hs_nomem = false;
		if (store_tx_rollup_iter(r->tx, k->hour, k->hour + 1, NULL,
		    NULL, hs_one, r) < 0)
			return -1;
		if (r->hs_nomem) {
			r->err = ZE_NOMEM;
			return -1;
		}
		r->hs_hour = k->hour;
		r->hs_valid = true;
	}
	for (size_t i = 0; i < r->nhs; i++) {
		memcpy(sk.service, r->hs[i], sizeof(sk.service));
		if ((rc = store_tx_rollup_get(r->tx, &sk, &b, &n)) < 0)
			return -1;
		if (rc == 1)
			continue;	/* no cell of this network */
		acc = NULL;
		if (cell_acc_decode(b, n, &acc, NULL) != ZE_OK)
			continue;
		rc = cell_states(r, &sk, acc);
		cell_acc_free(&acc);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Write the accumulator of k back and bring its hour states and events
 * up to date (cell_states); a reference's change re-judges the services
 * of its hour, region and ASN (regime_refresh). */
static int
cell_flush(struct round *r, const struct store_cellkey *k, cell_acc_t *acc)
{
	zbuf_t b;
	int rc;

	zbuf_init(&b, 1 << 24);
	if (cell_acc_encode(acc, &b) != ZE_OK) {
		zbuf_free(&b);
		r->err = ZE_NOMEM;
		return -1;
	}
	rc = store_tx_rollup_put(r->tx, k, b.data, b.len);
	zbuf_free(&b);
	if (rc < 0 || cell_states(r, k, acc) < 0)
		return -1;
	if (regime_is_reference(k->service) && r->o->c.regime_min_agents > 0)
		return regime_refresh(r, k);
	return 0;
}

static int
write_fn(store_tx_t *tx, void *arg)
{
	struct round *r = arg;
	cell_acc_t *acc = NULL;
	const struct plan *cur = NULL;
	int rc;

	r->tx = tx;
	r->st = r->st_read;	/* store_tx_run may call again */
	r->hs_valid = false;
	for (size_t i = 0; i < r->np; i++) {
		const struct plan *p = &r->p[i];
		struct cell_obs ob;
		uint8_t ov, om;

		if (p->src == SRC_TODO) {
			struct store_todo t = {.key = p->tkey};

			memcpy(t.id, p->id, STORE_ID_LEN);
			if ((rc = store_tx_todo_del(tx, &t)) < 0)
				goto fail;
			if (rc == 1)
				continue;	/* taken by someone else */
		} else {
			if ((rc = store_tx_open_get(tx, p->id, &ov, &om)) < 0)
				goto fail;
			if (rc == 1 || ov != p->old_v || om != p->old_m)
				continue;
			if (store_tx_open_del(tx, p->id) < 0)
				goto fail;
		}
		if (p->keep_open && store_tx_open_put(tx, p->id, p->v,
		    p->m) < 0)
			goto fail;
		if (!p->counted)
			continue;
		if (cur == NULL || cellkey_cmp(&cur->k, &p->k) != 0) {
			const uint8_t *b;
			size_t n;

			if (acc != NULL && cell_flush(r, &cur->k, acc) < 0)
				goto fail;
			cell_acc_free(&acc);
			cur = p;
			if ((rc = store_tx_rollup_get(tx, &p->k, &b, &n)) < 0)
				goto fail;
			if (rc == 0 && cell_acc_decode(b, n, &acc, NULL) !=
			    ZE_OK) {
				log_warnx("roll-up %u/%s/%s/%u not understood; "
				    "starting it again (zondctl reanalyze "
				    "rebuilds all)", p->k.hour, p->k.service,
				    p->k.region, p->k.asn);
				acc = NULL;
			}
			if (acc == NULL && cell_acc_new(p->k.region,
			    p->k.asn, p->k.service, &acc) != ZE_OK)
				continue;
		}
		if (p->src == SRC_OPEN) {
			obs_of(p, true, &ob);
			if (cell_acc_remove(acc, &ob) != ZE_OK)
				log_debug("cell %s/%u/%s: the provisional "
				    "verdict was not counted", p->k.region,
				    p->k.asn, p->k.service);
			r->st.settled++;
			if (p->v != p->old_v || p->m != p->old_m)
				r->st.changed++;
		} else
			r->st.judged++;
		obs_of(p, false, &ob);
		if (cell_acc_add(acc, &ob) != ZE_OK)
			log_debug("cell %s/%u/%s: measurement not counted",
			    p->k.region, p->k.asn, p->k.service);
	}
	if (acc != NULL && cell_flush(r, &cur->k, acc) < 0)
		goto fail;
	cell_acc_free(&acc);
	return 0;
fail:
	cell_acc_free(&acc);
	return -1;
}

zerr_t
rollup_round(store_t *s, const struct rollup_opts *o, int64_t now_us,
    struct rollup_stats *st, bool *more, zdiag_t *d)
{
	struct round r;
	struct store_extra x;
	zerr_t e;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.now = now_us;
	store_id_at(now_us - o->window_us - o->settle_us, r.open_to);
	*more = false;
	e = store_tx_run(s, false, read_fn, &r, "analysis: reading", d);
	if (e == ZE_OK && r.err != ZE_OK)
		e = zdiag_set(d, r.err, "analysis: out of memory");
	if (e == ZE_OK && r.np > 0) {
		qsort(r.p, r.np, sizeof(*r.p), plan_cmp);
		r.st_read = r.st;
		x.fn = write_fn;
		x.arg = &r;
		e = o->write != NULL ? o->write(o->write_ctx, &x, d) :
		    store_tx_run(s, true, write_fn, &r, "analysis: writing", d);
		if (e == ZE_OK && r.err != ZE_OK)
			e = zdiag_set(d, r.err, "analysis: out of memory");
	}
	free(r.p);
	free(r.hs);
	if (e != ZE_OK)
		return e;
	*more = r.more;
	if (st != NULL) {
		st->rounds++;
		st->judged += r.st.judged;
		st->settled += r.st.settled;
		st->changed += r.st.changed;
		st->expired += r.st.expired;
		st->controls += r.st.controls;
		st->events += r.st.events;
		st->hooked += r.st.hooked;
		st->sib_walked += r.st.sib_walked;
	}
	return ZE_OK;
}

zerr_t
rollup_drain(store_t *s, const struct rollup_opts *o, int64_t now_us,
    struct rollup_stats *st, zdiag_t *d)
{
	bool more = true;
	zerr_t e = ZE_OK;

	while (more && (e = rollup_round(s, o, now_us, st, &more, d)) ==
	    ZE_OK)
		;
	return e;
}

/* ------------------------------------------------------------ silence */

struct sil_agent {
	uint8_t pk[STORE_PK_LEN];
	char region[STORE_REGION_LEN];
	uint32_t asn;
};

/* What a silence round found for one network. */
struct sil_act {
	struct store_silence p;	/* the period to put (opened, closed or
				 * replayed) */
	int64_t from_us;	/* judge the hours from this one to to_us */
	int64_t to_us;		/* 0: now */
};

struct sil {
	struct round r;
	struct sil_agent *a;
	size_t n, cap;
	struct sil_act *act;
	size_t nact, acap;	/* acap: rollup_silence_replay's */
	bool nomem;
	/* rollup_silence's read: each agent's beats (STORE_BEATS_MAX per
	 * agent in t), the rule, networks judged and silent */
	int64_t *t;
	struct regime_beats *bt;
	struct regime_silence_opts so;
	uint32_t nets, nsilent;
	/* sil_touch: services of a network, read from its roll-ups */
	const char *region;
	uint32_t asn;
	char (*svc)[CELL_SERVICE_MAX];
	size_t nsvc, asvc;
};

static int
sil_agent_one(const struct store_agent *a, void *arg)
{
	struct sil *s = arg;

	if (!a->enabled || a->role != STORE_ROLE_PROBE)
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		struct sil_agent *na = realloc(s->a, nc * sizeof(*na));

		if (na == NULL) {
			s->nomem = true;
			return 1;
		}
		s->a = na;
		s->cap = nc;
	}
	memcpy(s->a[s->n].pk, a->pk, STORE_PK_LEN);
	memcpy(s->a[s->n].region, a->region, STORE_REGION_LEN);
	s->a[s->n].region[STORE_REGION_LEN - 1] = '\0';
	s->a[s->n].asn = a->asn;
	s->n++;
	return 0;
}

static int
sil_agent_cmp(const void *x, const void *y)
{
	const struct sil_agent *a = x, *b = y;
	int c = strcmp(a->region, b->region);

	return c != 0 ? c : (a->asn > b->asn) - (a->asn < b->asn);
}

static int
sil_open_one(const struct store_silence *p, void *arg)
{
	struct store_silence *o = arg;

	if (p->end_us != 0)
		return 0;
	*o = *p;
	return 1;
}

/* When an open period of agents with heartbeats b[0..n) ended: the
 * first heartbeat of one of them that follows a gap of at least
 * o->after_us begun within o->spread_us of start (its return); else the
 * first after start + after_us; 0 when none is seen yet. */
static int64_t
sil_end(const struct regime_beats *b, size_t n, int64_t start,
    const struct regime_silence_opts *o)
{
	int64_t end = 0, late = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < b[i].n; j++) {
			int64_t t = b[i].t[j];

			if (t <= start)
				continue;
			if (j > 0 && b[i].t[j - 1] <= start + o->spread_us &&
			    t - b[i].t[j - 1] >= o->after_us &&
			    (end == 0 || t < end))
				end = t;
			if (t > start + o->after_us && (late == 0 || t < late))
				late = t;
		}
	return end != 0 ? end : late;
}

static int
sil_svc_one(const struct store_cellkey *k, const uint8_t *p, size_t n,
    void *arg)
{
	struct sil *s = arg;

	(void)p;
	(void)n;
	if (k->asn != s->asn || strncmp(k->region, s->region,
	    STORE_REGION_LEN) != 0 || regime_is_reference(k->service) ||
	    strchr(k->service, '/') != NULL)
		return 0;
	for (size_t i = 0; i < s->nsvc; i++)
		if (strcmp(s->svc[i], k->service) == 0)
			return 0;
	if (s->nsvc == s->asvc) {
		size_t nc = s->asvc ? 2 * s->asvc : 16;
		char (*nv)[CELL_SERVICE_MAX] = realloc(s->svc,
		    nc * sizeof(*nv));

		if (nv == NULL) {
			s->nomem = true;
			return 1;
		}
		s->svc = nv;
		s->asvc = nc;
	}
	snprintf(s->svc[s->nsvc++], CELL_SERVICE_MAX, "%s", k->service);
	return 0;
}

/* Judge the hours of a's network from a->from_us to now again: each
 * service it had a roll-up of in the hour before or in those hours, by
 * its roll-up when it has one (cell_states, which applies the silence),
 * else as the silence says (sil_apply on an empty hour). */
static int
sil_touch(struct sil *s, const struct sil_act *a)
{
	struct round *r = &s->r;
	uint32_t h0 = hour_of(a->from_us),
	    h1 = hour_of(a->to_us != 0 ? a->to_us : r->now);
	struct store_cellkey k;
	cell_acc_t *acc;
	const uint8_t *b;
	size_t n;
	bool open;
	int rc, sil;

	s->region = a->p.region;
	s->asn = a->p.asn;
	s->nsvc = 0;
	if (store_tx_rollup_iter(r->tx, h0 > 0 ? h0 - 1 : 0, h1 + 1, NULL,
	    s->region, sil_svc_one, s) < 0)
		return -1;
	if (s->nomem) {
		r->err = ZE_NOMEM;
		return -1;
	}
	memset(&k, 0, sizeof(k));
	memcpy(k.region, a->p.region, sizeof(k.region));
	k.asn = a->p.asn;
	for (uint32_t h = h0; h <= h1; h++)
		for (size_t i = 0; i < s->nsvc; i++) {
			k.hour = h;
			memcpy(k.service, s->svc[i], sizeof(k.service));
			if ((rc = store_tx_rollup_get(r->tx, &k, &b, &n)) < 0)
				return -1;
			acc = NULL;
			if (rc == 0 && cell_acc_decode(b, n, &acc, NULL) ==
			    ZE_OK) {
				rc = cell_states(r, &k, acc);
				cell_acc_free(&acc);
				if (rc < 0)
					return -1;
				continue;
			}
			cell_verdict_t v = CELL_INSUFFICIENT;
			method_t m = METHOD_NONE;

			if ((sil = sil_at(r, &k, &open)) < 0)
				return -1;
			sil_apply(sil, open, h >= hour_of(r->now), &v, &m);
			if (state_flush(r, &k, v, m) < 0)
				return -1;
		}
	return 0;
}

static int
sil_write(store_tx_t *tx, void *arg)
{
	struct sil *s = arg;

	s->r.tx = tx;
	s->r.st = s->r.st_read;	/* store_tx_run may call again */
	for (size_t i = 0; i < s->nact; i++)
		if (store_tx_silence_put(tx, &s->act[i].p) < 0)
			return -1;
	for (size_t i = 0; i < s->nact; i++)
		if (sil_touch(s, &s->act[i]) < 0)
			return -1;
	return 0;
}

/* Put s's periods and judge their hours again (one write transaction,
 * through o->write when set); their events and hooks into stats. */
static zerr_t
sil_apply_acts(store_t *st, struct sil *s, struct rollup_stats *stats,
    zdiag_t *d)
{
	struct store_extra x = {sil_write, s};
	zerr_t e;

	if (s->nact == 0)
		return ZE_OK;
	e = s->r.o->write != NULL ? s->r.o->write(s->r.o->write_ctx, &x, d) :
	    store_tx_run(st, true, sil_write, s, "analysis: silence", d);
	if (e == ZE_OK && s->r.err != ZE_OK)
		e = zdiag_set(d, s->r.err, "analysis: out of memory");
	if (e == ZE_OK && stats != NULL) {
		stats->events += s->r.st.events;
		stats->hooked += s->r.st.hooked;
	}
	return e;
}

/* rollup_silence's read, in one transaction: for each network (s->a
 * sorted by region and ASN) its agents' beats and its open period, and
 * what changed: a period to open or to close (s->act). */
static int
sil_read(store_tx_t *tx, void *arg)
{
	struct sil *s = arg;
	int64_t now = s->r.now, since;
	uint32_t ag;

	s->nact = 0;		/* store_tx_run may call again */
	s->nets = s->nsilent = 0;
	for (size_t i = 0, j; i < s->n; i = j) {
		struct store_silence op;
		struct sil_act *a = &s->act[s->nact];
		bool silent;

		for (j = i; j < s->n && sil_agent_cmp(&s->a[i], &s->a[j]) ==
		    0; j++) {
			s->bt[j - i].t = s->t + j * STORE_BEATS_MAX;
			if (store_tx_beats_get(tx, s->a[j].pk,
			    s->t + j * STORE_BEATS_MAX, STORE_BEATS_MAX,
			    &s->bt[j - i].n) < 0)
				return -1;
		}
		memset(&op, 0, sizeof(op));
		if (store_tx_silence_iter(tx, s->a[i].region, s->a[i].asn, now,
		    now + 1, sil_open_one, &op) < 0)
			return -1;
		if (j - i < s->so.min_agents && op.start_us == 0)
			continue;
		s->nets++;
		silent = regime_silent(s->bt, j - i, now, &s->so, &since, &ag);
		s->nsilent += silent;
		memset(a, 0, sizeof(*a));
		if (silent && op.start_us == 0) {
			memcpy(a->p.region, s->a[i].region, STORE_REGION_LEN);
			a->p.asn = s->a[i].asn;
			a->p.start_us = since;
			a->p.agents = ag;
			a->from_us = since;
			s->nact++;
		} else if (!silent && op.start_us != 0) {
			/* its hours, from the start: those after the first
			 * were not written while it lasted */
			a->p = op;
			a->p.end_us = sil_end(s->bt, j - i, op.start_us,
			    &s->so);
			if (a->p.end_us == 0)
				a->p.end_us = now;
			a->from_us = op.start_us;
			a->to_us = a->p.end_us;
			s->nact++;
		}
	}
	return 0;
}

/* rollup_silence_replay: every stored period, to be judged again. */
static int
sil_replay_one(const struct store_silence *p, void *arg)
{
	struct sil *s = arg;

	if (s->nact == s->acap) {
		size_t nc = s->acap ? 2 * s->acap : 16;
		struct sil_act *na = realloc(s->act, nc * sizeof(*na));

		if (na == NULL) {
			s->nomem = true;
			return 1;
		}
		s->act = na;
		s->acap = nc;
	}
	memset(&s->act[s->nact], 0, sizeof(s->act[0]));
	s->act[s->nact].p = *p;
	s->act[s->nact].from_us = p->start_us;
	s->act[s->nact].to_us = p->end_us;
	s->nact++;
	return 0;
}

zerr_t
rollup_silence_replay(store_t *st, const struct rollup_opts *o,
    int64_t now_us, struct rollup_stats *stats, zdiag_t *d)
{
	struct sil s;
	zerr_t e;

	if (o->sil.after_us <= 0 || o->c.regime_min_agents == 0)
		return ZE_OK;
	memset(&s, 0, sizeof(s));
	s.r.o = o;
	s.r.now = now_us;
	e = store_silence_iter(st, NULL, 0, 0, INT64_MAX, sil_replay_one, &s,
	    d);
	if (e == ZE_OK && s.nomem)
		e = zdiag_set(d, ZE_NOMEM, "analysis: silence: out of memory");
	if (e == ZE_OK)
		e = sil_apply_acts(st, &s, stats, d);
	free(s.act);
	free(s.svc);
	return e;
}

zerr_t
rollup_silence(store_t *st, const struct rollup_opts *o, int64_t now_us,
    int64_t up_us, struct rollup_stats *stats, uint32_t *opened,
    uint32_t *closed, zdiag_t *d)
{
	struct sil s;
	uint32_t nopen = 0;
	bool ready = now_us - up_us >= o->sil.after_us + o->sil.spread_us;
	zerr_t e = ZE_OK;

	if (opened != NULL)
		*opened = 0;
	if (closed != NULL)
		*closed = 0;
	if (o->sil.after_us <= 0 || o->c.regime_min_agents == 0)
		return ZE_OK;
	memset(&s, 0, sizeof(s));
	s.r.o = o;
	s.r.now = now_us;
	s.so = o->sil;
	s.so.min_agents = o->c.regime_min_agents;
	if ((e = store_agent_iter(st, sil_agent_one, &s, d)) != ZE_OK)
		goto out;
	if (s.nomem)
		goto nomem;
	if (s.n > 1)
		qsort(s.a, s.n, sizeof(*s.a), sil_agent_cmp);
	if (s.n > 0 && ((s.t = calloc(s.n * STORE_BEATS_MAX,
	    sizeof(*s.t))) == NULL || (s.bt = calloc(s.n,
	    sizeof(*s.bt))) == NULL || (s.act = calloc(s.n,
	    sizeof(*s.act))) == NULL))
		goto nomem;
	if ((e = store_tx_run(st, false, sil_read, &s, "analysis: silence",
	    d)) != ZE_OK)
		goto out;
	/* new periods: not while the aggregator itself may be why nobody
	 * was heard, nor when most networks fell silent at once */
	for (size_t i = 0; i < s.nact; i++)
		nopen += s.act[i].p.end_us == 0;
	if (nopen > 0 && (!ready || (s.nets >= 3 && 2 * s.nsilent >
	    s.nets))) {
		size_t w = 0;

		if (ready)
			log_warnx("analysis: %u of %u networks fell silent at "
			    "once: the aggregator's own link, not a shutdown",
			    s.nsilent, s.nets);
		for (size_t i = 0; i < s.nact; i++)
			if (s.act[i].p.end_us != 0)
				s.act[w++] = s.act[i];
		s.nact = w;
		nopen = 0;
	}
	for (size_t i = 0; i < s.nact; i++) {
		const struct store_silence *p = &s.act[i].p;
		char t0[32], t1[32];

		ztime_fmt_iso(p->start_us, t0, sizeof(t0), 0);
		if (p->end_us == 0)
			log_info("analysis: shutdown seen from silence: %s "
			    "AS%u, %u agents silent since %s", p->region,
			    p->asn, p->agents, t0);
		else
			log_info("analysis: silence over: %s AS%u, from %s to "
			    "%s", p->region, p->asn, t0, ztime_fmt_iso(
			    p->end_us, t1, sizeof(t1), 0));
	}
	if ((e = sil_apply_acts(st, &s, stats, d)) == ZE_OK) {
		if (opened != NULL)
			*opened = nopen;
		if (closed != NULL)
			*closed = (uint32_t)s.nact - nopen;
	}
	goto out;
nomem:
	e = zdiag_set(d, ZE_NOMEM, "analysis: silence: out of memory");
out:
	free(s.a);
	free(s.act);
	free(s.svc);
	free(s.t);
	free(s.bt);
	return e;
}

/* ------------------------------------------------------------ reset */

struct refill {
	uint8_t from[STORE_ID_LEN];	/* the refill has queued ids below */
	uint8_t next[STORE_ID_LEN];
	size_t n;
	bool have_next;
	bool lost;		/* another reanalysis started meanwhile */
	size_t chunk;
	store_tx_t *tx;
};

static int
refill_one(const struct store_meas *sm, void *arg)
{
	struct refill *f = arg;
	struct store_todo t = {.test = sm->test, .role = sm->role};
	wire_meas_t *m = NULL;

	if (f->n == f->chunk) {
		memcpy(f->next, sm->id, STORE_ID_LEN);
		f->have_next = true;
		return 1;
	}
	memcpy(t.id, sm->id, STORE_ID_LEN);
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) == ZE_OK) {
		t.thash = store_target_hash(m->target);
		wire_meas_free(m);
	}
	f->n++;
	if (store_tx_todo_put(f->tx, &t) < 0 || (t.role !=
	    STORE_ROLE_PROBE && store_tx_ctl_put(f->tx, t.test, t.thash,
	    t.id) < 0))
		return -1;
	return 0;
}

/* One chunk: read and queue in the same write transaction, so that ingest
 * (which queues only ids below meta "refill") and the refill never both
 * queue a measurement, nor both miss one. */
static int
refill_chunk(store_tx_t *tx, void *arg)
{
	struct refill *f = arg;
	uint8_t at[STORE_ID_LEN];
	int rc;

	f->n = 0;
	f->have_next = false;
	f->tx = tx;
	if ((rc = store_tx_refill_get(tx, at)) < 0)
		return -1;
	if (rc == 1 || memcmp(at, f->from, STORE_ID_LEN) != 0) {
		f->lost = true;
		return 1;
	}
	if (store_tx_meas_iter(tx, f->from, NULL, refill_one, f) < 0)
		return -1;
	if (f->have_next)
		return store_tx_refill_set(tx, f->next) < 0 ? -1 : 0;
	return store_tx_refill_set(tx, NULL) < 0 ||
	    store_tx_an_set_ready(tx) < 0 ? -1 : 0;
}

zerr_t
rollup_reset(store_t *s, uint64_t *n, zdiag_t *d)
{
	return rollup_reset_chunked(s, ROLLUP_RESET_CHUNK, NULL, NULL, n, d);
}

zerr_t
rollup_reset_chunked(store_t *s, size_t chunk,
    void (*progress)(uint64_t queued, void *arg), void *arg, uint64_t *n,
    zdiag_t *d)
{
	struct refill f;
	zerr_t e;

	*n = 0;
	if ((e = store_an_reset(s, d)) != ZE_OK)
		return e;
	memset(&f, 0, sizeof(f));
	f.chunk = chunk > 0 ? chunk : 1;
	do {
		e = store_tx_run(s, true, refill_chunk, &f,
		    "reanalyze: queueing", d);
		if (f.lost)
			return zdiag_set(d, ZE_INVAL, "reanalyze: another "
			    "reanalysis of this store started; this one "
			    "stopped");
		if (e != ZE_OK)
			return e;
		*n += f.n;
		if (progress != NULL)
			progress(*n, arg);
		memcpy(f.from, f.next, STORE_ID_LEN);
	} while (f.have_next);
	return ZE_OK;
}

zerr_t
rollup_prepare(store_t *s, zdiag_t *d)
{
	bool ready;
	uint64_t n;
	zerr_t e;

	if ((e = store_an_ready(s, &ready, d)) != ZE_OK || ready)
		return e;
	log_info("analysis: the store has no roll-ups yet; queueing every "
	    "measurement");
	if ((e = rollup_reset(s, &n, d)) == ZE_OK)
		log_info("analysis: %" PRIu64 " measurements queued", n);
	return e;
}

static int
waiting_fn(store_tx_t *tx, void *arg)
{
	return store_tx_todo_count(tx, NULL, NULL, arg) < 0 ? -1 : 0;
}

zerr_t
rollup_waiting(store_t *s, uint64_t *n, zdiag_t *d)
{
	*n = 0;
	return store_tx_run(s, false, waiting_fn, n, "analysis queue", d);
}

/* ------------------------------------------------------------ reading */

struct mcell {
	struct store_cellkey k;		/* hour unused */
	cell_acc_t *acc;		/* merged over the hours */
};

/* The map's cells while reading: an array plus an open-addressing index
 * by (region, ASN, service), so each roll-up record is merged straight
 * into its cell (no per-record allocation, no sort of records). */
struct mapread {
	int64_t since, until;
	const char *service;
	const char *region;		/* NULL: every region */
	struct mcell *c;
	size_t n, cap;
	size_t *ix;			/* SIZE_MAX: empty */
	size_t ixcap;
	cell_acc_t *scratch;
	uint64_t pending;
	zerr_t err;
};

static uint64_t
mc_hash(const struct store_cellkey *k)
{
	uint64_t h = store_target_hash(k->service);

	for (const char *p = k->region; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (h ^ k->asn) * 1099511628211ULL;
}

static bool
mc_same(const struct store_cellkey *a, const struct store_cellkey *b)
{
	return a->asn == b->asn && strcmp(a->region, b->region) == 0 &&
	    strcmp(a->service, b->service) == 0;
}

/* The index of k's cell, added if new; SIZE_MAX when out of memory. */
static size_t
mc_get(struct mapread *mr, const struct store_cellkey *k)
{
	size_t i;

	if (2 * (mr->n + 1) > mr->ixcap) {
		size_t nc = mr->ixcap ? 2 * mr->ixcap : 1024;
		size_t *nx = malloc(nc * sizeof(*nx));

		if (nx == NULL)
			return SIZE_MAX;
		for (i = 0; i < nc; i++)
			nx[i] = SIZE_MAX;
		for (size_t c = 0; c < mr->n; c++) {
			for (i = mc_hash(&mr->c[c].k) & (nc - 1);
			    nx[i] != SIZE_MAX; i = (i + 1) & (nc - 1))
				;
			nx[i] = c;
		}
		free(mr->ix);
		mr->ix = nx;
		mr->ixcap = nc;
	}
	for (i = mc_hash(k) & (mr->ixcap - 1); mr->ix[i] != SIZE_MAX;
	    i = (i + 1) & (mr->ixcap - 1))
		if (mc_same(&mr->c[mr->ix[i]].k, k))
			return mr->ix[i];
	if (mr->n == mr->cap) {
		size_t nc = mr->cap ? 2 * mr->cap : 256;
		struct mcell *nm = realloc(mr->c, nc * sizeof(*nm));

		if (nm == NULL)
			return SIZE_MAX;
		mr->c = nm;
		mr->cap = nc;
	}
	mr->c[mr->n].k = *k;
	mr->c[mr->n].acc = NULL;
	mr->ix[i] = mr->n;
	return mr->n++;
}

static int
map_one(const struct store_cellkey *k, const uint8_t *p, size_t n,
    void *arg)
{
	struct mapread *mr = arg;
	size_t c;

	if ((c = mc_get(mr, k)) == SIZE_MAX) {
		mr->err = ZE_NOMEM;
		return 1;
	}
	if (cell_acc_merge_bytes(&mr->c[c].acc, &mr->scratch, p, n, NULL) !=
	    ZE_OK)
		log_debug("map: a roll-up of %s/%u/%s not counted",
		    k->region, k->asn, k->service);
	return 0;
}

static void
mapread_clear(struct mapread *mr)
{
	for (size_t i = 0; i < mr->n; i++)
		cell_acc_free(&mr->c[i].acc);
	free(mr->c);
	free(mr->ix);
	cell_acc_free(&mr->scratch);
	mr->c = NULL;
	mr->ix = NULL;
	mr->n = mr->cap = mr->ixcap = 0;
}

static int
map_read(store_tx_t *tx, void *arg)
{
	struct mapread *mr = arg;
	uint32_t h0 = hour_of(mr->since);
	uint32_t h1 = hour_of(mr->until + STORE_HOUR_US - 1);
	uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];

	mapread_clear(mr);
	if (store_tx_rollup_iter(tx, h0, h1, mr->service, mr->region, map_one,
	    mr) < 0)
		return -1;
	/* one service's map still needs the references for its regimes */
	if (mr->service != NULL && !regime_is_reference(mr->service) &&
	    (store_tx_rollup_iter(tx, h0, h1, REGIME_DOMESTIC, mr->region,
	    map_one, mr) < 0 || store_tx_rollup_iter(tx, h0, h1,
	    REGIME_FOREIGN, mr->region, map_one, mr) < 0))
		return -1;
	store_id_at((int64_t)h0 * STORE_HOUR_US, from);
	store_id_at((int64_t)h1 * STORE_HOUR_US, to);
	return store_tx_todo_count(tx, from, to, &mr->pending) < 0 ? -1 : 0;
}

static int
mcell_cmp(const void *x, const void *y)
{
	const struct store_cellkey *a = &((const struct mcell *)x)->k;
	const struct store_cellkey *b = &((const struct mcell *)y)->k;

	return cell_order(a->region, a->asn, a->service, b->region, b->asn,
	    b->service);
}

static int
svc_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The services of the map's cells with a calls sub-row in some cell,
 * sorted and unique: their cells get part cells (O(n log n)). */
static zerr_t
calls_services(const struct mapread *mr, const char ***out, size_t *n,
    zdiag_t *d)
{
	const char **v;
	size_t i, k = 0, u = 0;

	*out = NULL;
	*n = 0;
	if ((v = calloc(mr->n, sizeof(*v))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "map: out of memory");
	for (i = 0; i < mr->n; i++)
		if (mr->c[i].acc != NULL &&
		    cell_acc_has_facet(mr->c[i].acc, CELL_FACET_CALLS))
			v[k++] = mr->c[i].k.service;
	if (k > 1)
		qsort(v, k, sizeof(*v), svc_cmp);
	for (i = 0; i < k; i++)
		if (u == 0 || strcmp(v[u - 1], v[i]) != 0)
			v[u++] = v[i];
	if (u == 0) {
		free(v);
		return ZE_OK;
	}
	*out = v;
	*n = u;
	return ZE_OK;
}

static int
cell_cmp(const void *x, const void *y)
{
	const cell_t *a = x, *b = y;

	return cell_order(a->region, a->asn, a->service, b->region, b->asn,
	    b->service);
}

void
rollup_cells_free(cell_t *cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cell_clear(&cells[i]);
	free(cells);
}

/* The agents of one network type: sorted keys. */
struct netset {
	int network;
	uint8_t (*k)[32];
	size_t n, cap;
	bool nomem;
};

static int
net_one(const struct store_agent *a, void *arg)
{
	struct netset *ns = arg;

	if ((int)a->network != ns->network)
		return 0;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? 2 * ns->cap : 64;
		uint8_t (*nk)[32] = realloc(ns->k, nc * sizeof(*nk));

		if (nk == NULL) {
			ns->nomem = true;
			return 1;
		}
		ns->k = nk;
		ns->cap = nc;
	}
	memcpy(ns->k[ns->n++], a->pk, 32);
	return 0;
}

static int
key_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 32);
}

static bool
net_keep(const uint8_t *key, void *arg)
{
	const struct netset *ns = arg;

	return ns->n > 0 && bsearch(key, ns->k, ns->n, sizeof(*ns->k),
	    key_cmp) != NULL;
}

zerr_t
rollup_map(store_t *s, int64_t since, int64_t until, const char *service,
    const struct cell_opts *c, cell_t **cells, size_t *n, uint64_t *pending,
    zdiag_t *d)
{
	return rollup_map_net(s, since, until, service, -1, c, cells, n,
	    pending, d);
}

/* rollup_map_net with sample=latest: the cells of a network silent at the
 * map's end (a period store_silence_iter finds at until - 1) say
 * shutdown (rollup_silence). */
struct map_sil {
	cell_t *c;
	size_t n;
};

static int
map_sil_one(const struct store_silence *p, void *arg)
{
	struct map_sil *m = arg;

	for (size_t i = 0; i < m->n; i++)
		if (m->c[i].asn == p->asn && strncmp(m->c[i].region,
		    p->region, STORE_REGION_LEN) == 0 &&
		    !regime_is_reference(m->c[i].service)) {
			m->c[i].verdict = CELL_SHUTDOWN;
			m->c[i].method = METHOD_NONE;
		}
	return 0;
}

zerr_t
rollup_map_net(store_t *s, int64_t since, int64_t until,
    const char *service, int network, const struct cell_opts *c,
    cell_t **cells, size_t *n, uint64_t *pending, zdiag_t *d)
{
	return rollup_map_region(s, since, until, service, network, NULL, c,
	    cells, n, pending, d);
}

zerr_t
rollup_map_region(store_t *s, int64_t since, int64_t until,
    const char *service, int network, const char *region,
    const struct cell_opts *c, cell_t **cells, size_t *n, uint64_t *pending,
    zdiag_t *d)
{
	struct netset ns = {.network = network};
	struct mapread mr;
	cell_t *out = NULL;
	size_t nout = 0, k;
	char base[CELL_SERVICE_MAX];
	cell_facet_t want = CELL_FACET_ALL;
	bool parts = false;
	const char **split = NULL;	/* services with calls sub-rows */
	size_t nsplit = 0;
	zerr_t e;

	*cells = NULL;
	*n = 0;
	if (service != NULL && cell_facet_parse(service, base, sizeof(base),
	    &want) != ZE_OK)
		return zdiag_set(d, ZE_INVAL, "map: service '%.80s' is not S, "
		    "S/calls or S/messaging", service);
	if (network >= 0) {
		if ((e = store_agent_iter(s, net_one, &ns, d)) != ZE_OK) {
			free(ns.k);
			return e;
		}
		if (ns.nomem) {
			free(ns.k);
			return zdiag_set(d, ZE_NOMEM, "map: out of memory");
		}
		if (ns.n > 1)
			qsort(ns.k, ns.n, sizeof(*ns.k), key_cmp);
	}
	memset(&mr, 0, sizeof(mr));
	mr.since = since;
	mr.until = until;
	mr.service = service != NULL ? base : NULL;
	mr.region = region;
	e = store_tx_run(s, false, map_read, &mr, "map", d);
	for (size_t i = 0; e == ZE_OK && network >= 0 && i < mr.n; i++)
		if (mr.c[i].acc != NULL) {
			cell_acc_keep_agents(mr.c[i].acc, net_keep, &ns);
			if (cell_acc_count(mr.c[i].acc) == 0)
				cell_acc_free(&mr.c[i].acc);
		}
	free(ns.k);
	if (e == ZE_OK && mr.err != ZE_OK)
		e = zdiag_set(d, mr.err, "map: out of memory");
	if (e == ZE_OK && mr.n > 0) {
		qsort(mr.c, mr.n, sizeof(*mr.c), mcell_cmp);
		/* a cell and its two parts at most */
		if ((out = calloc(mr.n, 3 * sizeof(*out))) == NULL)
			e = zdiag_set(d, ZE_NOMEM, "map: out of memory");
	}
	if (e == ZE_OK && want == CELL_FACET_ALL && mr.n > 0)
		e = calls_services(&mr, &split, &nsplit, d);
	for (size_t i = 0; e == ZE_OK && i < mr.n; i++) {
		const char *sv = mr.c[i].k.service;
		bool ref = regime_is_reference(sv);

		if (mr.c[i].acc != NULL && cell_judge_map(mr.c[i].acc, c,
		    ref ? CELL_FACET_ALL : want, !ref && nsplit > 0 &&
		    bsearch(&sv, split, nsplit,
		    sizeof(*split), svc_cmp) != NULL, &out[nout], &k) ==
		    ZE_OK) {
			parts |= k > 1;
			nout += k;
		}
	}
	free(split);
	mapread_clear(&mr);
	/* regimes over the whole window; the references are shown only when
	 * asked for by name */
	if (e == ZE_OK && (e = regime_cells(out, &nout, c != NULL ?
	    c->regime_min_agents : 2, service != NULL &&
	    regime_is_reference(service))) != ZE_OK)
		e = zdiag_set(d, e, "map: out of memory");
	/* the state now: a network silent at until is shut down */
	if (e == ZE_OK && c != NULL && c->latest) {
		struct map_sil ms = {out, nout};

		e = store_silence_iter(s, NULL, 0, until - 1, until,
		    map_sil_one, &ms, d);
	}
	if (e != ZE_OK) {
		rollup_cells_free(out, nout);
		return e;
	}
	if (parts)	/* "S/calls" sorts after "S-x" */
		qsort(out, nout, sizeof(*out), cell_cmp);
	*cells = out;
	*n = nout;
	if (pending != NULL)
		*pending = mr.pending;
	return ZE_OK;
}

struct histread {
	const char *service, *region;
	uint32_t asn, h0;
	size_t nhours;
	uint32_t (*counts)[CELL__COUNT];
};

static int
hist_one(const struct store_cellkey *k, uint8_t v, uint8_t m, void *arg)
{
	struct histread *x = arg;

	(void)m;
	if (v < CELL__COUNT && k->hour >= x->h0 && k->hour - x->h0 < x->nhours)
		x->counts[k->hour - x->h0][v]++;
	return 0;
}

static int
hist_read(store_tx_t *tx, void *arg)
{
	struct histread *x = arg;

	return store_tx_cellhour_iter(tx, x->service, x->region, x->asn,
	    x->h0, x->h0 + (uint32_t)x->nhours, hist_one, x) < 0 ? -1 : 0;
}

zerr_t
rollup_history(store_t *s, const char *service, const char *region,
    uint32_t asn, int64_t since, size_t nhours,
    uint32_t (*counts)[CELL__COUNT], zdiag_t *d)
{
	struct histread x = {service, region, asn, hour_of(since), nhours,
	    counts};

	return store_tx_run(s, false, hist_read, &x, "history", d);
}

struct evread {
	rollup_event_fn fn;
	void *arg;
};

static int
ev_one(const struct store_event *se, void *arg)
{
	struct evread *er = arg;
	event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.time_us = (int64_t)se->k.hour * STORE_HOUR_US;
	snprintf(ev.region, sizeof(ev.region), "%s", se->k.region);
	ev.asn = se->k.asn;
	snprintf(ev.service, sizeof(ev.service), "%s", se->k.service);
	ev.from = se->from < CELL__COUNT ? (cell_verdict_t)se->from :
	    CELL_INSUFFICIENT;
	ev.to = se->to < CELL__COUNT ? (cell_verdict_t)se->to :
	    CELL_INSUFFICIENT;
	ev.method = se->method < METHOD__COUNT ? (method_t)se->method :
	    METHOD_NONE;
	return er->fn(&ev, er->arg);
}

struct evrange {
	uint32_t h0, h1;
	struct evread er;
};

static int
ev_read(store_tx_t *tx, void *arg)
{
	struct evrange *x = arg;

	return store_tx_event_iter(tx, x->h0, x->h1, ev_one, &x->er) < 0 ?
	    -1 : 0;
}

zerr_t
rollup_events(store_t *s, int64_t since, int64_t until, rollup_event_fn fn,
    void *arg, zdiag_t *d)
{
	struct evrange x = {hour_of(since), hour_of(until + STORE_HOUR_US - 1),
	    {fn, arg}};

	return store_tx_run(s, false, ev_read, &x, "events", d);
}
