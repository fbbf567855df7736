/* tlpush.c — see tlpush.h.  The per-agent table is open addressing on
 * the key's first 8 bytes (keys are random), doubled at 3/4 full. */
#include "tlpush.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "wire.h"
#include "ztime.h"

#define RELOAD_US 1000000

struct slot {
	uint8_t pk[32];
	bool used;
	uint64_t sent;		/* version sent on this connection; 0: none */
};

struct tlpush {
	store_t *s;
	int64_t checked;	/* monotonic us of the last look at the store */
	struct store_testlist cur;
	bool have;
	zbuf_t frame;		/* Downlink{version, test_list} of cur */
	bool expired_logged;
	struct slot *tab;
	size_t cap, used;
	uint64_t pushed;
};

zerr_t
tlpush_new(store_t *s, tlpush_t **out)
{
	tlpush_t *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return ZE_NOMEM;
	p->s = s;
	p->checked = INT64_MIN;
	zbuf_init(&p->frame, WIRE_MAX_FRAME);
	*out = p;
	return ZE_OK;
}

void
tlpush_free(tlpush_t **pp)
{
	tlpush_t *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	zbuf_free(&p->frame);
	free(p->tab);
	free(p);
	*pp = NULL;
}

/* Read the stored list again if it may have changed. */
static void
refresh(tlpush_t *p, int64_t now)
{
	Zond__V1__Downlink dl = ZOND__V1__DOWNLINK__INIT;
	Zond__V1__SignedTestList *st;
	struct store_testlist m;
	zbuf_t raw;
	zdiag_t d;
	zerr_t e;

	if (p->checked != INT64_MIN && now - p->checked < RELOAD_US)
		return;
	p->checked = now;
	if ((e = store_testlist_get(p->s, &m, NULL, &d)) != ZE_OK) {
		if (e != ZE_NOTFOUND)
			log_warnx("testlist: %s", d.text);
		return;
	}
	if (p->have && m.version == p->cur.version)
		return;
	zbuf_init(&raw, WIRE_MAX_FRAME);
	if (store_testlist_get(p->s, &m, &raw, &d) != ZE_OK ||
	    (st = zond__v1__signed_test_list__unpack(NULL, raw.len,
	    raw.data)) == NULL) {
		log_warnx("testlist: stored list version=%" PRIu64 " cannot "
		    "be read; not pushed", m.version);
		zbuf_free(&raw);
		return;
	}
	dl.has_version = 1;
	dl.version = WIRE_VERSION;
	dl.msg_case = ZOND__V1__DOWNLINK__MSG_TEST_LIST;
	dl.test_list = st;
	zbuf_reset(&p->frame);
	e = wire_pack(&dl.base, &p->frame);
	zond__v1__signed_test_list__free_unpacked(st, NULL);
	zbuf_free(&raw);
	if (e != ZE_OK) {
		log_warnx("testlist: stored list version=%" PRIu64 " does not "
		    "fit a frame; not pushed", m.version);
		p->have = false;
		return;
	}
	p->cur = m;
	p->have = true;
	p->expired_logged = false;
	log_info("testlist: pushing version=%" PRIu64 " tests=%" PRIu32
	    " bytes=%zu to agents that report an older one", m.version,
	    m.ntests, p->frame.len);
}

static size_t
slot_of(const tlpush_t *p, const uint8_t pk[32])
{
	size_t i = (size_t)be64_get(pk) & (p->cap - 1);

	while (p->tab[i].used && memcmp(p->tab[i].pk, pk, 32) != 0)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static struct slot *
find(tlpush_t *p, const uint8_t pk[32], bool add)
{
	size_t i;

	if (p->cap == 0 || (add && (p->used + 1) * 4 > p->cap * 3)) {
		size_t nc = p->cap ? 2 * p->cap : 64;
		struct slot *old = p->tab, *nt = calloc(nc, sizeof(*nt));
		size_t oc = p->cap;
		if (nt == NULL)
			return NULL;
		p->tab = nt;
		p->cap = nc;
		for (size_t k = 0; k < oc; k++)
			if (old[k].used)
				p->tab[slot_of(p, old[k].pk)] = old[k];
		free(old);
	}
	i = slot_of(p, pk);
	if (!p->tab[i].used) {
		if (!add)
			return NULL;
		memcpy(p->tab[i].pk, pk, 32);
		p->tab[i].used = true;
		p->tab[i].sent = 0;
		p->used++;
	}
	return &p->tab[i];
}

const zbuf_t *
tlpush_offer(tlpush_t *p, const uint8_t agent[32], bool hello, uint64_t v,
    int64_t now_mono_us)
{
	struct slot *sl;

	refresh(p, now_mono_us);
	if (hello && (sl = find(p, agent, false)) != NULL)
		sl->sent = 0;	/* a new connection */
	if (!p->have || v >= p->cur.version)
		return NULL;
	if (p->cur.expires_us <= ztime_now_us()) {
		if (!p->expired_logged)
			log_warnx("testlist: stored version=%" PRIu64 " has "
			    "expired; not pushed (sign and push a new one)",
			    p->cur.version);
		p->expired_logged = true;
		return NULL;
	}
	if ((sl = find(p, agent, true)) == NULL)
		return NULL;
	if (sl->sent == p->cur.version)
		return NULL;	/* refused on this connection: not again */
	return &p->frame;
}

void
tlpush_sent(tlpush_t *p, const uint8_t agent[32])
{
	struct slot *sl = find(p, agent, true);

	if (sl != NULL)
		sl->sent = p->cur.version;
	p->pushed++;
}

void
tlpush_get_stats(const tlpush_t *p, struct tlpush_stats *st)
{
	st->version = p->have ? p->cur.version : 0;
	st->expires_us = p->have ? p->cur.expires_us : 0;
	st->pushed = p->pushed;
}
