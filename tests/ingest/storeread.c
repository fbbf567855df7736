/*
 * storeread.c — see storeread.h.
 */
#include "storeread.h"

#include <string.h>

struct walk {
	const uint8_t *agent;
	uint64_t seq;		/* sr_lookup: the seq looked for */
	store_meas_fn fn;	/* sr_agent_iter: the caller's */
	void *arg;
	uint8_t *id;		/* sr_lookup: found here */
	bool found;
};

static int
iter_fn(store_tx_t *tx, void *arg)
{
	struct walk *w = arg;

	return store_tx_agent_walk(tx, w->agent, 0, 1, w->fn, w->arg) < 0;
}

zerr_t
sr_agent_iter(store_t *s, const uint8_t agent[STORE_PK_LEN],
    store_meas_fn fn, void *arg, zdiag_t *d)
{
	struct walk w = {.agent = agent, .fn = fn, .arg = arg};

	return store_tx_run(s, false, iter_fn, &w, "agent walk", d);
}

static int
first_fn(const struct store_meas *m, void *arg)
{
	struct walk *w = arg;

	if (m->seq == w->seq) {
		memcpy(w->id, m->id, STORE_ID_LEN);
		w->found = true;
	}
	return 1;	/* the first at or after seq is all we need */
}

static int
lookup_fn(store_tx_t *tx, void *arg)
{
	struct walk *w = arg;

	return store_tx_agent_walk(tx, w->agent, w->seq, 1, first_fn, w) < 0;
}

zerr_t
sr_lookup(store_t *s, const uint8_t agent[STORE_PK_LEN], uint64_t seq,
    uint8_t id[STORE_ID_LEN], zdiag_t *d)
{
	struct walk w = {.agent = agent, .seq = seq, .id = id};
	zerr_t e;

	if ((e = store_tx_run(s, false, lookup_fn, &w, "dedup lookup", d)) !=
	    ZE_OK)
		return e;
	return w.found ? ZE_OK : zdiag_set(d, ZE_NOTFOUND, "seq %llu not "
	    "stored", (unsigned long long)seq);
}
