/*
 * http_ep.c — the HTTP API's endpoints and the dashboard files
 * (http_int.h; the documents: docs/API.md).
 *
 * A handler runs in its connection's thread and may block: it reads the
 * store through its own read transactions and judges measurements on
 * demand (analyze.c), one hour slice at a time, so memory stays bounded
 * by one slice whatever range a client asks for.  The export streams: a
 * producer thread runs export_run into a pipe whose other end the
 * connection's content reader drains, so the pipe's buffer bounds memory;
 * a client that goes away closes the read end, the producer's write
 * fails (EPIPE) and it stops.
 *
 * Dashboard file names are one path component of [A-Za-z0-9._-], not
 * starting with '.', with a known extension (fixed MIME types), opened
 * relative to the dashboard directory without following symbolic links.
 */
#include "http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentcount.h"
#include "events.h"
#include "export.h"
#include "json.h"
#include "log.h"
#include "map.h"
#include "pubview.h"
#include "rollup.h"
#include "wire.h"
#include "zclock.h"
#include "ztime.h"

#define HTTP_DOC_MAX	(64u << 20)	/* largest JSON document */
#define HTTP_FILE_MAX	(8 << 20)	/* largest dashboard file */
#define HOUR_US		(3600LL * 1000000)
#define DAY_US		(24 * HOUR_US)
#define EVENTS_MAX_US	(366 * DAY_US)		/* one events document */
#define ONLINE_US	(5 * 60LL * 1000000)	/* seen this recently: online */
#define MEAS_LIMIT_DEF	100
#define MEAS_LIMIT_MAX	1000
#define RANGE_MAX_US	(366 * DAY_US)		/* timeseries */

/* ----------------------------------------------------------------- map */

static const char *const map_params[] = {"service", "since", "until",
    "network", "sample", "region", "cells", NULL};

/* The map cache's key of a request (docs/API.md "Map cache"): the same
 * view, filters, sample and cells, since in the same hour, until in the
 * same hour when it is now (equal when given). */
static void
map_key(const struct map_req *r, uint32_t k, char key[HCACHE_KEY_MAX])
{
	snprintf(key, HCACHE_KEY_MAX, "%d|%u|%s|%s|%d|%s|%s|%d|%" PRId64 "|%"
	    PRId64, r->pub, k, r->has_service ? r->service : "",
	    r->has_region ? r->region : "", r->network, r->latest ? "l" : "c",
	    r->no_cells ? "n" : "a", r->until_given, (int64_t)(r->since /
	    HOUR_US), (int64_t)(r->until_given ? r->until : (r->until +
	    HOUR_US - 1) / HOUR_US));
}

/* The map document of r into b (appended). */
static zerr_t
map_make(http_t *h, const struct map_req *r, zbuf_t *b, zdiag_t *d)
{
	struct cell_opts co = h->ao.c;
	struct map_view mv = {0};
	cell_t *cells = NULL;
	size_t n = 0;
	uint64_t pending = 0;
	zerr_t e;

	co.latest = r->latest;
	mv.no_cells = r->no_cells;
	mv.pub = r->pub;
	mv.k = h->k;
	mv.region = r->has_region ? r->region : NULL;
	if ((e = rollup_map_region(h->store, r->since, r->until,
	    r->has_service ? r->service : NULL, r->network, mv.region, &co,
	    &cells, &n, &pending, d)) != ZE_OK)
		return e;
	/* the public view: pubview.h's k rule */
	e = map_json_view(b, r->since, r->until, cells, n, &pending, &mv);
	rollup_cells_free(cells, n);
	return e;
}

/* Keep b, the document of r made from store generation gen, in the map
 * cache: what follows its range, which each answer writes anew. */
static void
map_keep(http_t *h, const char *key, const struct map_req *r, uint64_t gen,
    const zbuf_t *b)
{
	const uint8_t *t = memmem(b->data, b->len, MAP_JSON_CELLS,
	    strlen(MAP_JSON_CELLS));

	if (t != NULL)
		hcache_put(h->mapc, key, ztime_mono_us(), gen, t,
		    b->len - (size_t)(t - b->data), r, sizeof(*r));
	else
		hcache_abandon(h->mapc, key);
}

bool
http_map_refresh(http_t *h)
{
	struct map_req r;
	char key[HCACHE_KEY_MAX];
	size_t nr = 0;
	uint64_t gen = store_gen(h->store);
	zdiag_t d = {.text = ""};
	zbuf_t b;
	zerr_t e;

	if (h->mapc == NULL || !hcache_due(h->mapc, ztime_mono_us(), gen, key,
	    &r, &nr))
		return false;
	if (nr != sizeof(r)) {
		hcache_abandon(h->mapc, key);
		return true;
	}
	/* until now: the same hour as the kept document's, else the key is
	 * no one's any more (the next request has the next hour's) */
	if (!r.until_given) {
		int64_t now = ztime_now_us();

		if ((now + HOUR_US - 1) / HOUR_US !=
		    (r.until + HOUR_US - 1) / HOUR_US) {
			hcache_abandon(h->mapc, key);
			return true;
		}
		r.until = now;
	}
	zbuf_init(&b, HTTP_DOC_MAX);
	if ((e = map_make(h, &r, &b, &d)) == ZE_OK)
		map_keep(h, key, &r, gen, &b);
	else {
		hcache_abandon(h->mapc, key);
		log_warnx("http: map cache: making a map again failed: %s",
		    d.text[0] ? d.text : zerr_str(e));
	}
	zbuf_free(&b);
	return true;
}

enum MHD_Result
http_ep_map(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	struct map_req r;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	const char *sample, *cs;
	char key[HCACHE_KEY_MAX];
	uint64_t gen = 0;
	zerr_t e;

	http_query_read(c, map_params, &q);
	if (q.err[0] || !http_query_filters(&q, &f, DAY_US))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	memset(&r, 0, sizeof(r));
	/* sample=latest: the state now (METHODOLOGY.md "The state now") */
	if ((sample = http_query_get(&q, "sample")) != NULL &&
	    cell_sample_parse(sample, &r.latest) != ZE_OK) {
		snprintf(q.err, sizeof(q.err), "sample: '%.64s' is not common "
		    "or latest", sample);
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	}
	/* cells=none: the region rows alone (a national map's page) */
	if ((cs = http_query_get(&q, "cells")) != NULL &&
	    strcmp(cs, "all") != 0 && strcmp(cs, "none") != 0) {
		snprintf(q.err, sizeof(q.err), "cells: '%.64s' is not all or "
		    "none", cs);
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	}
	r.no_cells = cs != NULL && strcmp(cs, "none") == 0;
	r.pub = http_is_public(h, c);
	if ((r.has_service = f.has_service))
		memcpy(r.service, f.service, sizeof(r.service));
	if ((r.has_region = f.has_region))
		memcpy(r.region, f.region, sizeof(r.region));
	r.network = f.network;
	r.since = f.since;
	r.until = f.until;
	r.until_given = http_query_get(&q, "until") != NULL;
	/* the same request, kept (docs/API.md "Map cache"): its document
	 * with this request's range */
	zbuf_init(&b, HTTP_DOC_MAX);
	if (h->mapc != NULL) {
		gen = store_gen(h->store);
		map_key(&r, h->k, key);
		if (zbuf_putc(&b, '{') == ZE_OK && map_json_range(&b, f.since,
		    f.until) == ZE_OK && hcache_get(h->mapc, key,
		    ztime_mono_us(), &b))
			return http_respond_doc(c, "map", ZE_OK, "\n", &b, NULL);
		zbuf_reset(&b);
	}
	e = map_make(h, &r, &b, &d);
	if (e == ZE_OK && h->mapc != NULL)
		map_keep(h, key, &r, gen, &b);
	return http_respond_doc(c, "map", e, "\n", &b, &d);
}

/* ----------------------------------------------------- hourly slices */

/*
 * Call fn for every measurement matching f, in id order, with its verdict
 * from the judgment of its hour slice (export_run judges six-hour
 * slices the same way).
 */
typedef int (*judged_fn)(const struct store_meas *sm, verdict_t v,
    method_t m, void *arg);

struct slice_walk {
	const struct filt *f;
	const analysis_t *a;
	int64_t lo, hi;
	judged_fn fn;
	void *arg;
};

static int
slice_one(const struct store_meas *sm, void *arg)
{
	struct slice_walk *w = arg;
	verdict_t v = VERDICT_PENDING;
	method_t m = METHOD_NONE;

	if (sm->start_us < w->lo || sm->start_us >= w->hi ||
	    !http_filt_match(w->f, sm))
		return 0;
	(void)analysis_verdict(w->a, sm->id, &v, &m);
	return w->fn(sm, v, m, w->arg);
}

static zerr_t
walk_judged(http_t *h, const struct filt *f, judged_fn fn, void *arg,
    zdiag_t *d)
{
	int64_t t, end = f->until, limit = ztime_now_us() + DAY_US, first;
	zerr_t e;

	if ((e = store_first_start(h->store, &first, d)) != ZE_OK)
		return e;
	t = first > f->since ? first : f->since;
	if (end > limit)
		end = limit;
	t -= t % HOUR_US;
	for (; t < end; t += HOUR_US) {
		struct slice_walk w = {.f = f, .lo = t, .hi = t + HOUR_US,
		    .fn = fn, .arg = arg};
		uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
		analysis_t *a = NULL;

		if ((e = analyze_range(h->store, t, t + HOUR_US, &h->ao, &a,
		    d)) != ZE_OK)
			return e;
		w.a = a;
		store_ids_of_starts(t, t + HOUR_US, from, to);
		e = store_meas_iter(h->store, from, to, slice_one, &w, d);
		analysis_free(&a);
		if (e != ZE_OK)
			return e;
	}
	return ZE_OK;
}

/* ---------------------------------------------------------- timeseries */

static const char *const ts_params[] = {"service", "region", "asn", "role",
    "grain", "since", "until", NULL};

struct bucket {
	uint64_t n[VERDICT__COUNT];
	uint64_t total;
};

struct ts {
	struct bucket *b;
	size_t nb;
	int64_t base, grain;
};

static int
ts_one(const struct store_meas *sm, verdict_t v, method_t m, void *arg)
{
	struct ts *t = arg;
	int64_t i = (sm->start_us - t->base) / t->grain;

	(void)m;
	if (i >= 0 && (size_t)i < t->nb && (unsigned)v < VERDICT__COUNT) {
		t->b[i].n[v]++;
		t->b[i].total++;
	}
	return 0;
}

enum MHD_Result
http_ep_timeseries(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	struct ts t;
	const char *grain;
	char ts1[40], ts2[40];
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e = ZE_OK;
	enum MHD_Result r;

	http_query_read(c, ts_params, &q);
	memset(&t, 0, sizeof(t));
	t.grain = HOUR_US;
	grain = http_query_get(&q, "grain");
	if (!q.err[0] && grain != NULL) {
		if (strcmp(grain, "day") == 0)
			t.grain = DAY_US;
		else if (strcmp(grain, "hour") != 0)
			snprintf(q.err, sizeof(q.err), "grain: '%.64s' is not "
			    "hour or day", grain);
	}
	if (q.err[0] || !http_query_filters(&q, &f, t.grain == DAY_US ?
	    7 * DAY_US : DAY_US))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if (f.until - f.since > RANGE_MAX_US)
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, "until: the "
		    "range since..until is longer than 366 days");
	/* the public view: probe agents' measurements only, filters of at
	 * least k of them */
	if (http_is_public(h, c)) {
		if (f.role >= 0 && f.role != STORE_ROLE_PROBE)
			return http_respond_error(c, MHD_HTTP_FORBIDDEN, "role: "
			    "control agents' measurements are not in the public "
			    "view");
		f.role = STORE_ROLE_PROBE;
		if ((f.has_region || f.asn > 0) && !pub_filter_ok(h, c,
		    f.has_region ? f.region : NULL, f.asn, &r))
			return r;
	}
	t.base = f.since - f.since % t.grain;
	t.nb = (size_t)((f.until - t.base + t.grain - 1) / t.grain);
	if ((t.b = calloc(t.nb, sizeof(*t.b))) == NULL)
		return http_respond_internal(c, "timeseries", ZE_NOMEM, NULL);
	if ((e = walk_judged(h, &f, ts_one, &t, &d)) != ZE_OK) {
		free(t.b);
		return http_respond_internal(c, "timeseries", e, &d);
	}
	zbuf_init(&b, HTTP_DOC_MAX);
	e = zbuf_printf(&b, "{\"since\": \"%s\", \"until\": \"%s\", "
	    "\"grain\": \"%s\", \"buckets\": [", ztime_fmt_iso(f.since, ts1,
	    sizeof(ts1), 3), ztime_fmt_iso(f.until, ts2, sizeof(ts2), 3),
	    t.grain == DAY_US ? "day" : "hour");
	for (size_t i = 0; i < t.nb && e == ZE_OK; i++) {
		const struct bucket *k = &t.b[i];
		e = zbuf_printf(&b, "%s\n {\"start\": \"%s\", \"measurements\": "
		    "%" PRIu64 ", \"ok\": %" PRIu64 ", \"blocked\": %" PRIu64
		    ", \"throttled\": %" PRIu64 ", \"down\": %" PRIu64
		    ", \"anomaly\": %" PRIu64 ", \"pending\": %" PRIu64
		    ", \"geoblocked\": %" PRIu64 ", \"filtered\": %" PRIu64
		    ", \"review\": %" PRIu64 "}", i ? "," : "", ztime_fmt_iso(t.base + (int64_t)i *
		    t.grain, ts1, sizeof(ts1), 0), k->total,
		    k->n[VERDICT_OK], k->n[VERDICT_BLOCKED],
		    k->n[VERDICT_THROTTLED], k->n[VERDICT_DOWN],
		    k->n[VERDICT_ANOMALY], k->n[VERDICT_PENDING],
		    k->n[VERDICT_GEOBLOCKED], k->n[VERDICT_FILTERED],
		    k->n[VERDICT_REVIEW]);
	}
	r = http_respond_doc(c, "timeseries", e, "]}\n", &b, NULL);
	free(t.b);
	return r;
}

/* -------------------------------------------------------- measurements */

static const char *const meas_params[] = {"service", "region", "asn",
    "role", "since", "until", "limit", "cursor", NULL};

/* The newest `want` matches of one id window, in a ring. */
struct mwin {
	const struct filt *f;
	uint8_t (*ring)[STORE_ID_LEN];
	size_t cap, n, head;		/* head: next slot to write */
};

static int
mwin_one(const struct store_meas *sm, void *arg)
{
	struct mwin *w = arg;

	if (!http_filt_match(w->f, sm))
		return 0;
	memcpy(w->ring[w->head], sm->id, STORE_ID_LEN);
	w->head = (w->head + 1) % w->cap;
	if (w->n < w->cap)
		w->n++;
	return 0;
}

/*
 * ids (newest first) of up to want measurements matching f with id below
 * `cursor` (NULL: from the newest of f's range): scan windows of growing
 * width back in time, so a page costs about its own measurements when
 * data is dense.
 */
static zerr_t
meas_page(store_t *s, const struct filt *f, const uint8_t *cursor,
    uint8_t (*ids)[STORE_ID_LEN], size_t want, size_t *got, zdiag_t *d)
{
	uint8_t hi[STORE_ID_LEN], lo[STORE_ID_LEN], floor_id[STORE_ID_LEN];
	int64_t width = 10 * 60 * 1000LL, lo_ms;	/* ms */
	struct mwin w;
	zerr_t e = ZE_OK;

	*got = 0;
	if ((w.ring = calloc(want, STORE_ID_LEN)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	w.f = f;
	store_ids_of_starts(f->since, f->until, floor_id, hi);
	if (cursor != NULL && memcmp(cursor, hi, STORE_ID_LEN) < 0)
		memcpy(hi, cursor, STORE_ID_LEN);
	while (*got < want && memcmp(hi, floor_id, STORE_ID_LEN) > 0) {
		lo_ms = store_id_ms(hi) - width;
		store_id_at(lo_ms * 1000, lo);
		if (memcmp(lo, floor_id, STORE_ID_LEN) < 0)
			memcpy(lo, floor_id, STORE_ID_LEN);
		w.cap = want - *got;
		w.n = w.head = 0;
		if ((e = store_meas_iter(s, lo, hi, mwin_one, &w, d)) != ZE_OK)
			break;
		/* newest of this window first */
		for (size_t i = 0; i < w.n; i++) {
			size_t k = (w.head + w.cap - 1 - i) % w.cap;
			memcpy(ids[(*got)++], w.ring[k], STORE_ID_LEN);
		}
		memcpy(hi, lo, STORE_ID_LEN);
		if (width < 366 * 86400000LL)
			width *= 4;
	}
	free(w.ring);
	return e;
}

enum MHD_Result
http_ep_measurements(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	int64_t limit = MEAS_LIMIT_DEF, hour = -1;
	const char *cur;
	uint8_t cid[STORE_ID_LEN], (*ids)[STORE_ID_LEN] = NULL;
	size_t got = 0, n;
	analysis_t *a = NULL;
	zbuf_t b, buf;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	http_query_read(c, meas_params, &q);
	if (q.err[0] || !http_query_filters(&q, &f, DAY_US) ||
	    !http_query_int(&q, "limit", 1, MEAS_LIMIT_MAX,
	    "a page size (1-1000)", &limit))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if ((cur = http_query_get(&q, "cursor")) != NULL) {
		size_t bl;
		if (strlen(cur) != 2 * STORE_ID_LEN || sodium_hex2bin(cid,
		    sizeof(cid), cur, strlen(cur), NULL, &bl, NULL) != 0 ||
		    bl != STORE_ID_LEN) {
			snprintf(q.err, sizeof(q.err), "cursor: '%.64s' is not "
			    "a cursor from next_cursor", cur);
			return http_respond_error(c, MHD_HTTP_BAD_REQUEST,
			    q.err);
		}
	}
	if ((ids = calloc((size_t)limit + 1, STORE_ID_LEN)) == NULL)
		return http_respond_internal(c, "measurements", ZE_NOMEM, NULL);
	if ((e = meas_page(h->store, &f, cur != NULL ? cid : NULL, ids,
	    (size_t)limit + 1, &got, &d)) != ZE_OK) {
		free(ids);
		return http_respond_internal(c, "measurements", e, &d);
	}
	n = got > (size_t)limit ? (size_t)limit : got;
	zbuf_init(&b, HTTP_DOC_MAX);
	zbuf_init(&buf, 2 * WIRE_MAX_MEASUREMENT);
	e = zbuf_puts(&b, "{\"items\": [");
	for (size_t i = 0; i < n && e == ZE_OK; i++) {
		struct store_meas sm;
		wire_meas_t *m = NULL;
		verdict_t v = VERDICT_PENDING;
		method_t meth = METHOD_NONE;
		int64_t hs;

		if ((e = store_meas_get(h->store, ids[i], &sm, &buf, &d)) !=
		    ZE_OK) {
			if (e == ZE_NOTFOUND) {
				e = ZE_OK;
				continue;
			}
			break;
		}
		/* judge by the hour slice (the export: six-hour slices) */
		hs = sm.start_us - sm.start_us % HOUR_US;
		if (hs != hour) {
			analysis_free(&a);
			if ((e = analyze_range(h->store, hs, hs + HOUR_US,
			    &h->ao, &a, &d)) != ZE_OK)
				break;
			hour = hs;
		}
		(void)analysis_verdict(a, sm.id, &v, &meth);
		if ((e = wire_meas_decode(sm.body, sm.body_len, &m, &d)) !=
		    ZE_OK)
			break;
		{
			/* the agent's network type now, as the export */
			struct store_agent ag = {.network = STORE_NET_UNKNOWN};
			zdiag_t ad;
			struct json_meas_extra ex = {
				.region = sm.region, .asn = sm.asn,
				.role = store_role_name(sm.role),
				.network = store_network_name(
				    store_agent_get(h->store, sm.agent, &ag,
				    &ad) == ZE_OK ? ag.network :
				    STORE_NET_UNKNOWN),
				.verdict = verdict_name(v),
				.method = meth == METHOD_NONE ? NULL :
				    method_name(meth),
				.where = cell_meas_where(m, v, sm.asn,
				    h->ao.v.asn),
				.censor_asn = cell_meas_censor_asn(m, v,
				    h->ao.v.asn),
				.body = sm.body, .body_len = sm.body_len,
				.sig = sm.sig,
				.time_us = sm.time_us,
				.time_by = zclock_placed_name(
				    (enum zclock_placed)sm.time_by),
			};
			if ((e = zbuf_puts(&b, i ? ",\n " : "\n ")) == ZE_OK)
				e = json_measurement(&b, m, &ex);
		}
		wire_meas_free(m);
	}
	if (e == ZE_OK)
		e = zbuf_puts(&b, "],\n \"next_cursor\": ");
	if (e == ZE_OK && got > (size_t)limit) {
		char hex[2 * STORE_ID_LEN + 1];
		sodium_bin2hex(hex, sizeof(hex), ids[n - 1], STORE_ID_LEN);
		e = zbuf_printf(&b, "\"%s\"}\n", hex);
	} else if (e == ZE_OK)
		e = zbuf_puts(&b, "null}\n");
	r = http_respond_doc(c, "measurements", e, NULL, &b, &d);
	analysis_free(&a);
	zbuf_free(&buf);
	free(ids);
	return r;
}

/* -------------------------------------------------------------- agents */

static const char *
agent_state(const struct store_agent *a, int64_t now)
{
	if (!a->enabled)
		return "disabled";
	if (a->last_seen_us == 0)
		return "never";
	return now - a->last_seen_us <= ONLINE_US ? "online" : "offline";
}

struct agents_out {
	zbuf_t *b;
	struct agentcount *rej;		/* refused per agent; NULL: none yet */
	int64_t now;
	size_t n;
	zerr_t e;
};

static int
agent_one(const struct store_agent *a, void *arg)
{
	struct agents_out *o = arg;
	char hex[2 * STORE_PK_LEN + 1], t1[40], t2[40];
	char name[STORE_NAME_LEN], ver[STORE_VERSION_LEN];

	sodium_bin2hex(hex, sizeof(hex), a->pk, STORE_PK_LEN);
	memcpy(name, a->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	memcpy(ver, a->version, sizeof(ver));
	ver[sizeof(ver) - 1] = '\0';
	o->e = zbuf_printf(o->b, "%s\n {\"agent\": \"%s\", \"name\": ",
	    o->n++ ? "," : "", hex);
	if (o->e == ZE_OK)
		o->e = json_cstr(o->b, name);
	if (o->e == ZE_OK)
		o->e = zbuf_puts(o->b, ", \"region\": ");
	if (o->e == ZE_OK)
		o->e = json_cstr(o->b, a->region);
	if (o->e == ZE_OK)
		o->e = zbuf_printf(o->b, ", \"asn\": %u, \"role\": \"%s\", "
		    "\"network\": \"%s\", "
		    "\"state\": \"%s\", \"enabled\": %s, \"enrolled\": \"%s\", "
		    "\"last_seen\": ", a->asn, store_role_name(a->role),
		    store_network_name(a->network),
		    agent_state(a, o->now), a->enabled ? "true" : "false",
		    ztime_fmt_iso(a->enrolled_us, t1, sizeof(t1), 0));
	if (o->e == ZE_OK)
		o->e = a->last_seen_us ? zbuf_printf(o->b, "\"%s\"",
		    ztime_fmt_iso(a->last_seen_us, t2, sizeof(t2), 0)) :
		    zbuf_puts(o->b, "null");
	if (o->e == ZE_OK)
		o->e = zbuf_puts(o->b, ", \"version\": ");
	if (o->e == ZE_OK)
		o->e = ver[0] ? json_cstr(o->b, ver) : zbuf_puts(o->b, "null");
	if (o->e == ZE_OK)
		o->e = zbuf_printf(o->b, ", \"backlog\": %" PRIu64 ", "
		    "\"dropped\": %" PRIu64 ", \"last_seq\": %" PRIu64 ", "
		    "\"list_version\": %" PRIu64 ", \"stored\": %" PRIu64 ", "
		    "\"rejected\": %" PRIu64 ", \"clock_offset_ms\": ",
		    a->backlog, a->dropped, a->last_seq, a->list_version,
		    a->stored, agentcount_get(o->rej, a->pk));
	/* the aggregator's time minus the agent's wall clock */
	if (o->e == ZE_OK)
		o->e = a->has_clock ? zbuf_printf(o->b, "%" PRId64 "}",
		    a->clock_offset_us / 1000) : zbuf_puts(o->b, "null}");
	return o->e != ZE_OK;
}

/* ], "testlist": the stored signed list's figures, or null (none pushed
 * yet); agents whose list_version is below its version get it
 * (PROTOCOL.md §5). */
static zerr_t
testlist_json(http_t *h, zbuf_t *b, zdiag_t *d)
{
	struct store_testlist m;
	char iss[40], exp[40];
	zerr_t e;

	if ((e = store_testlist_get(h->store, &m, NULL, d)) == ZE_NOTFOUND)
		return zbuf_puts(b, "], \"testlist\": null");
	if (e != ZE_OK)
		return e;
	ztime_fmt_iso(m.issued_us, iss, sizeof(iss), 0);
	ztime_fmt_iso(m.expires_us, exp, sizeof(exp), 0);
	return zbuf_printf(b, "], \"testlist\": {\"version\": %" PRIu64 ", "
	    "\"issued\": \"%s\", \"expires\": \"%s\", \"expired\": %s, "
	    "\"tests\": %" PRIu32 "}", m.version, iss, exp,
	    m.expires_us <= ztime_now_us() ? "true" : "false", m.ntests);
}

enum MHD_Result
http_ep_agents(http_t *h, struct MHD_Connection *c)
{
	static const char *const none[] = {NULL};
	struct query q;
	struct agents_out o;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;

	http_query_read(c, none, &q);
	if (q.err[0])
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	zbuf_init(&b, HTTP_DOC_MAX);
	memset(&o, 0, sizeof(o));
	o.b = &b;
	o.now = ztime_now_us();
	pthread_mutex_lock(&h->mu);
	o.rej = h->rej;
	pthread_mutex_unlock(&h->mu);
	e = zbuf_puts(&b, "{\"agents\": [");
	if (e == ZE_OK)
		e = store_agent_iter(h->store, agent_one, &o, &d);
	if (e == ZE_OK)
		e = o.e;
	if (e == ZE_OK)
		e = testlist_json(h, &b, &d);
	return http_respond_doc(c, "agents", e, "}\n", &b, &d);
}

/* ------------------------------------------------------------ silences */

static const char *const sil_params[] = {"region", "asn", "since", "until",
    NULL};

/* A list document of a time range (events, silences) being written. */
struct listout {
	const struct filt *f;
	zbuf_t *b;
	size_t n;
	zerr_t e;
	enum { FIRST_NEWS, FIRST_ALL, FIRST_NONE } first;	/* events */
	pub_agents_t *pa;		/* public view: probe agents per
					 * network; NULL: operator view */
	uint32_t k;
};

/* {"since": ..., "until": ..., "NAME": [ into a new b (o's). */
static zerr_t
list_open(struct listout *o, zbuf_t *b, const struct filt *f,
    const char *name)
{
	char t1[40], t2[40];

	memset(o, 0, sizeof(*o));	/* o->pa NULL: the operator view */
	o->f = f;
	o->b = b;
	zbuf_init(b, HTTP_DOC_MAX);
	return zbuf_printf(b, "{\"since\": \"%s\", \"until\": \"%s\", "
	    "\"%s\": [", ztime_fmt_iso(f->since, t1, sizeof(t1), 3),
	    ztime_fmt_iso(f->until, t2, sizeof(t2), 3), name);
}

static int
sil_out(const struct store_silence *p, void *arg)
{
	struct listout *o = arg;
	char t1[40], t2[40], asn[16], region[STORE_REGION_LEN + 1];
	zerr_t e;

	if ((o->f->asn > 0 && p->asn != o->f->asn) || (o->f->has_region &&
	    strncmp(o->f->region, p->region, STORE_REGION_LEN) != 0))
		return 0;
	memcpy(region, p->region, STORE_REGION_LEN);
	region[STORE_REGION_LEN] = '\0';
	snprintf(asn, sizeof(asn), "%" PRIu32, p->asn);
	/* the public view: a network of fewer than k agents shows no ASN,
	 * a region of fewer than k is left out */
	if (o->pa != NULL && pub_agents_count(o->pa, region, p->asn) < o->k) {
		if (pub_agents_count(o->pa, region, 0) < o->k)
			return 0;
		snprintf(asn, sizeof(asn), "null");
	}
	if ((e = zbuf_puts(o->b, o->n++ ? ",\n {\"region\": " :
	    "\n {\"region\": ")) == ZE_OK &&
	    (e = json_cstr(o->b, region)) == ZE_OK)
		e = zbuf_printf(o->b, ", \"asn\": %s, \"start\": "
		    "\"%s\", \"end\": %s%s%s, \"agents\": %" PRIu32 "}",
		    asn, ztime_fmt_iso(p->start_us, t1, sizeof(t1), 3),
		    p->end_us ? "\"" : "", p->end_us ? ztime_fmt_iso(
		    p->end_us, t2, sizeof(t2), 3) : "null",
		    p->end_us ? "\"" : "", p->agents);
	o->e = e;
	return e != ZE_OK;
}

/* Shutdowns seen from silence (METHODOLOGY.md §3.8 "Silence"): the
 * periods that overlap since..until, of one region (and ASN) or all. */
enum MHD_Result
http_ep_silences(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	struct listout o;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	http_query_read(c, sil_params, &q);
	if (q.err[0] || !http_query_filters(&q, &f, DAY_US))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if ((f.has_region || f.asn > 0) && !pub_filter_ok(h, c, f.has_region ?
	    f.region : NULL, f.asn, &r))
		return r;
	e = list_open(&o, &b, &f, "silences");
	o.k = h->k;
	if (e == ZE_OK && http_is_public(h, c))
		e = http_pub_agents(h, &o.pa, &d);
	if (e == ZE_OK && (e = store_silence_iter(h->store, NULL, 0, f.since,
	    f.until, sil_out, &o, &d)) == ZE_OK)
		e = o.e;
	pub_agents_free(&o.pa);
	return http_respond_doc(c, "silences", e, "]}\n", &b, &d);
}

/* -------------------------------------------------------------- events */

static const char *const ev_params[] = {"service", "region", "asn",
    "since", "until", "first", NULL};

static int
ev_out(const event_t *ev, void *arg)
{
	struct listout *o = arg;

	if (ev->time_us < o->f->since - o->f->since % HOUR_US ||
	    ev->time_us >= o->f->until ||
	    (o->f->has_service && strcmp(o->f->service, ev->service) != 0) ||
	    (o->f->has_region && strcmp(o->f->region, ev->region) != 0) ||
	    (o->f->asn > 0 && ev->asn != o->f->asn) ||
	    (o->first == FIRST_NEWS && !event_news(ev)) ||
	    (o->first == FIRST_NONE && event_first(ev)))
		return 0;
	/* the public view: events of networks of at least k agents */
	if (o->pa != NULL && pub_agents_count(o->pa, ev->region, ev->asn) <
	    o->k)
		return 0;
	if ((o->e = zbuf_puts(o->b, o->n++ ? ",\n " : "\n ")) == ZE_OK)
		o->e = event_json(o->b, ev);
	return o->e != ZE_OK;
}

enum MHD_Result
http_ep_events(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	struct listout o;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	const char *fs;
	zerr_t e;
	enum MHD_Result r;

	http_query_read(c, ev_params, &q);
	if (q.err[0] || !http_query_filters(&q, &f, DAY_US))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if (f.until - f.since > EVENTS_MAX_US)
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, "until: the "
		    "range since..until is longer than 366 days");
	fs = http_query_get(&q, "first");
	if (fs != NULL && strcmp(fs, "news") != 0 && strcmp(fs, "all") != 0 &&
	    strcmp(fs, "none") != 0) {
		snprintf(q.err, sizeof(q.err), "first: '%.64s' is not news, "
		    "all or none", fs);
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	}
	if ((f.has_region || f.asn > 0) && !pub_filter_ok(h, c, f.has_region ?
	    f.region : NULL, f.asn, &r))
		return r;
	e = list_open(&o, &b, &f, "events");
	o.first = fs == NULL || strcmp(fs, "news") == 0 ? FIRST_NEWS :
	    strcmp(fs, "all") == 0 ? FIRST_ALL : FIRST_NONE;
	o.k = h->k;
	if (e == ZE_OK && http_is_public(h, c))
		e = http_pub_agents(h, &o.pa, &d);
	if (e == ZE_OK && (e = rollup_events(h->store, f.since, f.until,
	    ev_out, &o, &d)) == ZE_OK)
		e = o.e;
	pub_agents_free(&o.pa);
	return http_respond_doc(c, "events", e, "]}\n", &b, &d);
}

/* ------------------------------------------------------------- history */

static const char *const hist_params[] = {"service", "region", "asn",
    "since", "until", NULL};

/* The states a history bucket counts, in its order (every cell state). */
static const cell_verdict_t hist_states[] = {CELL_OK, CELL_BLOCKED,
    CELL_THROTTLED, CELL_DOWN, CELL_GEOBLOCKED, CELL_FILTERED, CELL_REVIEW,
    CELL_WHITELIST, CELL_SHUTDOWN};
#define HIST_N (sizeof(hist_states) / sizeof(hist_states[0]))

/* Hourly cell states of one service (METHODOLOGY.md §3.5): per hour of
 * since..until, how many of its (region, ASN) cells were in each state. */
enum MHD_Result
http_ep_history(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	uint32_t (*counts)[CELL__COUNT];
	size_t nh;
	int64_t h0;
	char t1[40], t2[40];
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	http_query_read(c, hist_params, &q);
	if (q.err[0] || !http_query_filters(&q, &f, 7 * DAY_US))
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if (!f.has_service)
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, "service: "
		    "required (the history is of one service)");
	if (f.until - f.since > RANGE_MAX_US)
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, "until: the "
		    "range since..until is longer than 366 days");
	/* the public view: a region/ASN filter of at least k agents (the
	 * counts name no ASN) */
	if ((f.has_region || f.asn > 0) && !pub_filter_ok(h, c, f.has_region ?
	    f.region : NULL, f.asn, &r))
		return r;
	/* whole hours: since rounded down, until up */
	h0 = f.since - f.since % HOUR_US;
	nh = (size_t)((f.until - h0 + HOUR_US - 1) / HOUR_US);
	if ((counts = calloc(nh ? nh : 1, sizeof(*counts))) == NULL)
		return http_respond_internal(c, "history", ZE_NOMEM, &d);
	e = rollup_history(h->store, f.service, f.has_region ? f.region :
	    NULL, (uint32_t)f.asn, h0, nh, counts, &d);
	zbuf_init(&b, HTTP_DOC_MAX);
	if (e == ZE_OK && (e = zbuf_printf(&b, "{\"since\": \"%s\", "
	    "\"until\": \"%s\", \"service\": ", ztime_fmt_iso(f.since, t1,
	    sizeof(t1), 3), ztime_fmt_iso(f.until, t2, sizeof(t2), 3))) ==
	    ZE_OK && (e = json_cstr(&b, f.service)) == ZE_OK)
		e = zbuf_puts(&b, ", \"buckets\": [");
	for (size_t i = 0; i < nh && e == ZE_OK; i++) {
		uint32_t n = 0;

		for (size_t j = 0; j < HIST_N; j++)
			n += counts[i][hist_states[j]];
		e = zbuf_printf(&b, "%s\n {\"start\": \"%s\", \"cells\": %"
		    PRIu32, i ? "," : "", ztime_fmt_iso(h0 + (int64_t)i *
		    HOUR_US, t1, sizeof(t1), 0), n);
		for (size_t j = 0; j < HIST_N && e == ZE_OK; j++)
			e = zbuf_printf(&b, ", \"%s\": %" PRIu32,
			    cell_verdict_name(hist_states[j]),
			    counts[i][hist_states[j]]);
		if (e == ZE_OK)
			e = zbuf_putc(&b, '}');
	}
	free(counts);
	return http_respond_doc(c, "history", e, "]}\n", &b, &d);
}

/* -------------------------------------------------------------- export */

static const char *const exp_params[] = {"format", "service", "region",
    "asn", "since", "until", "network", NULL};

struct stream {
	http_t *h;
	enum export_fmt fmt;
	struct filt f;
	struct export_filter ef;
	int rfd, wfd;
	pthread_t th;
	bool started, joined;
	zerr_t e;			/* export_run's result; after join */
	zdiag_t d;
};

static int
stream_write(const void *p, size_t n, void *arg)
{
	struct stream *s = arg;
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = write(s->wfd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;	/* reader gone (EPIPE) */
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *
stream_run(void *arg)
{
	struct stream *s = arg;

	s->e = export_run(s->h->store, s->fmt, &s->ef, &s->h->ao,
	    stream_write, s, NULL, &s->d);
	close(s->wfd);
	s->wfd = -1;
	return NULL;
}

static void
stream_join(struct stream *s)
{
	if (s->started && !s->joined) {
		pthread_join(s->th, NULL);
		s->joined = true;
		if (s->e != ZE_OK)
			log_warnx("http: export stopped: %s", s->d.text);
	}
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	ssize_t n;

	(void)pos;
	do
		n = read(s->rfd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	stream_join(s);
	if (n == 0 && s->e == ZE_OK)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->rfd >= 0)
		close(s->rfd);	/* the producer's next write fails */
	stream_join(s);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
}

/* HEAD's body: none (libmicrohttpd never asks for it). */
static ssize_t
stream_none(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* Queue r (200) with the export's headers, the same for GET and HEAD;
 * releases r. */
static enum MHD_Result
export_queue(struct MHD_Connection *c, struct MHD_Response *r,
    enum export_fmt fmt)
{
	enum MHD_Result ret;

	http_headers(r, fmt == EXPORT_CSV ? "text/csv; charset=utf-8" :
	    "application/x-ndjson");
	MHD_add_response_header(r, "Content-Disposition", fmt == EXPORT_CSV ?
	    "attachment; filename=\"zond-export.csv\"" :
	    "attachment; filename=\"zond-export.jsonl\"");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_ep_export(http_t *h, struct MHD_Connection *c, bool head)
{
	struct query q;
	struct stream *s;
	struct MHD_Response *r;
	const char *fmt;
	int p[2];
	enum MHD_Result ret;

	http_query_read(c, exp_params, &q);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return http_respond_internal(c, "export", ZE_NOMEM, NULL);
	s->rfd = s->wfd = -1;
	s->fmt = EXPORT_JSONL;
	fmt = http_query_get(&q, "format");
	if (!q.err[0] && fmt != NULL && export_fmt_from_name(fmt, &s->fmt) !=
	    ZE_OK)
		snprintf(q.err, sizeof(q.err), "format: '%.64s' is not a "
		    "known export format (jsonl, csv or ooni)", fmt);
	/* default range: everything */
	if (q.err[0] || !http_query_filters(&q, &s->f, -1)) {
		free(s);
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	}
	s->ef.since = s->f.since;
	s->ef.until = s->f.until;
	s->ef.region = s->f.has_region ? s->f.region : NULL;
	s->ef.asn = s->f.asn;
	s->ef.service = s->f.has_service ? s->f.service : NULL;
	s->ef.has_network = s->f.network >= 0;
	s->ef.network = (enum store_network)(s->f.network >= 0 ?
	    s->f.network : 0);
	s->h = h;
	if (head) {
		/*
		 * The GET's headers for a body of unknown length, never read.
		 * Not chunked: libmicrohttpd 0.9.75 would send the last chunk
		 * after the headers of a HEAD; so no Transfer-Encoding, and
		 * the connection closes (the end of the headers is the end).
		 */
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
		    stream_none, NULL, NULL);
		if (r != NULL)
			MHD_set_response_options(r,
			    MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
		ret = r == NULL ? MHD_NO : export_queue(c, r, s->fmt);
		free(s);
		return ret;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(s);
		return http_respond_internal(c, "export: pipe", ZE_IO, NULL);
	}
	s->rfd = p[0];
	s->wfd = p[1];
	if (pthread_create(&s->th, NULL, stream_run, s) != 0) {
		stream_free(s);
		return http_respond_internal(c, "export: thread", ZE_NOMEM,
		    NULL);
	}
	s->started = true;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	    stream_read, s, stream_free);
	if (r == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	return export_queue(c, r, s->fmt);
}

/* ------------------------------------------------------------- metrics */

struct agent_counts {
	uint64_t online, offline, never, disabled;
};

static int
count_agent(const struct store_agent *a, void *arg)
{
	struct agent_counts *n = arg;
	const char *st = agent_state(a, ztime_now_us());

	if (strcmp(st, "online") == 0)
		n->online++;
	else if (strcmp(st, "offline") == 0)
		n->offline++;
	else if (strcmp(st, "never") == 0)
		n->never++;
	else
		n->disabled++;
	return 0;
}

enum MHD_Result
http_ep_metrics(http_t *h, struct MHD_Connection *c)
{
	static const char *const none[] = {NULL};
	struct query q;
	struct store_counts sc;
	struct agent_counts ac;
	struct ingest_stats st;
	struct relay_stats rs;
	bool have, have_rs;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	http_query_read(c, none, &q);
	if (q.err[0])
		return http_respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	memset(&ac, 0, sizeof(ac));
	if ((e = store_counts(h->store, &sc, &d)) != ZE_OK ||
	    (e = store_agent_iter(h->store, count_agent, &ac, &d)) != ZE_OK)
		return http_respond_internal(c, "metrics", e, &d);
	pthread_mutex_lock(&h->mu);
	st = h->ist;
	have = h->have_ist;
	rs = h->rst;
	have_rs = h->have_rst;
	pthread_mutex_unlock(&h->mu);
	zbuf_init(&b, 1 << 20);
	e = zbuf_printf(&b,
	    "# HELP zond_measurements_stored_total Measurements in the store.\n"
	    "# TYPE zond_measurements_stored_total counter\n"
	    "zond_measurements_stored_total %" PRIu64 "\n"
	    "# HELP zond_agents Enrolled agents by state.\n"
	    "# TYPE zond_agents gauge\n"
	    "zond_agents{state=\"online\"} %" PRIu64 "\n"
	    "zond_agents{state=\"offline\"} %" PRIu64 "\n"
	    "zond_agents{state=\"never\"} %" PRIu64 "\n"
	    "zond_agents{state=\"disabled\"} %" PRIu64 "\n"
	    "# HELP zond_http_requests_total HTTP requests received.\n"
	    "# TYPE zond_http_requests_total counter\n"
	    "zond_http_requests_total %" PRIu64 "\n"
	    "# HELP zond_store_map_size_bytes LMDB map size.\n"
	    "# TYPE zond_store_map_size_bytes gauge\n"
	    "zond_store_map_size_bytes %" PRIu64 "\n"
	    "# HELP zond_store_map_used_bytes LMDB map in use.\n"
	    "# TYPE zond_store_map_used_bytes gauge\n"
	    "zond_store_map_used_bytes %" PRIu64 "\n",
	    sc.meas, ac.online, ac.offline, ac.never, ac.disabled,
	    atomic_load(&h->requests), sc.map_size, sc.map_used);
	if (e == ZE_OK && h->mapc != NULL) {
		struct hcache_stats hs;

		hcache_stats(h->mapc, &hs);
		e = zbuf_printf(&b,
		    "# HELP zond_http_map_cache_total Map requests answered "
		    "from the map cache (hit) or made anew (miss).\n"
		    "# TYPE zond_http_map_cache_total counter\n"
		    "zond_http_map_cache_total{result=\"hit\"} %" PRIu64 "\n"
		    "zond_http_map_cache_total{result=\"miss\"} %" PRIu64 "\n"
		    "# HELP zond_http_map_refresh_total Kept map documents made "
		    "again in the background (made) or renewed because the "
		    "store had not changed (renewed).\n"
		    "# TYPE zond_http_map_refresh_total counter\n"
		    "zond_http_map_refresh_total{result=\"made\"} %" PRIu64 "\n"
		    "zond_http_map_refresh_total{result=\"renewed\"} %" PRIu64
		    "\n", hs.hits, hs.misses, hs.refreshed, hs.renewed);
	}
	if (e == ZE_OK && have) {
		e = zbuf_printf(&b,
		    "# HELP zond_ingest_frames_total ZeroMQ messages received.\n"
		    "# TYPE zond_ingest_frames_total counter\n"
		    "zond_ingest_frames_total %" PRIu64 "\n"
		    "# HELP zond_ingest_received_total Measurements received.\n"
		    "# TYPE zond_ingest_received_total counter\n"
		    "zond_ingest_received_total %" PRIu64 "\n"
		    "# HELP zond_ingest_stored_total Measurements stored by "
		    "this process.\n"
		    "# TYPE zond_ingest_stored_total counter\n"
		    "zond_ingest_stored_total %" PRIu64 "\n"
		    "# HELP zond_ingest_duplicates_total Measurements already "
		    "stored.\n"
		    "# TYPE zond_ingest_duplicates_total counter\n"
		    "zond_ingest_duplicates_total %" PRIu64 "\n"
		    "# HELP zond_ingest_frame_rejects_total Whole frames "
		    "rejected.\n"
		    "# TYPE zond_ingest_frame_rejects_total counter\n"
		    "zond_ingest_frame_rejects_total %" PRIu64 "\n"
		    "# HELP zond_ingest_commits_total LMDB commits.\n"
		    "# TYPE zond_ingest_commits_total counter\n"
		    "zond_ingest_commits_total %" PRIu64 "\n"
		    "# HELP zond_ingest_commit_failures_total Failed commits.\n"
		    "# TYPE zond_ingest_commit_failures_total counter\n"
		    "zond_ingest_commit_failures_total %" PRIu64 "\n"
		    "# HELP zond_ingest_storage_ok 1 while storage accepts "
		    "writes.\n"
		    "# TYPE zond_ingest_storage_ok gauge\n"
		    "zond_ingest_storage_ok %d\n"
		    "# HELP zond_ingest_clock_placed_total Measurements stored "
		    "with a start taken before the agent knew the time, by "
		    "how they were placed.\n"
		    "# TYPE zond_ingest_clock_placed_total counter\n"
		    "zond_ingest_clock_placed_total{by=\"boot\"} %" PRIu64 "\n"
		    "zond_ingest_clock_placed_total{by=\"unplaced\"} %" PRIu64
		    "\n"
		    "# HELP zond_ingest_rejected_total Measurements rejected, "
		    "by reason.\n"
		    "# TYPE zond_ingest_rejected_total counter\n",
		    st.frames, st.received, st.stored, st.dup,
		    st.frame_rejects, st.commits, st.commit_fail,
		    st.storage_ok ? 1 : 0, st.clock_by_boot,
		    st.clock_unplaced);
		for (int i = 1; i < INGEST_NREASONS && e == ZE_OK; i++)
			e = zbuf_printf(&b, "zond_ingest_rejected_total{reason="
			    "\"%s\"} %" PRIu64 "\n", wire_reject_name(
			    (Zond__V1__RejectReason)i), st.rejected[i]);
		if (e == ZE_OK)
			e = zbuf_printf(&b,
			    "# HELP zond_testlist_version Version of the signed "
			    "test list handed to agents (0: none).\n"
			    "# TYPE zond_testlist_version gauge\n"
			    "zond_testlist_version %" PRIu64 "\n"
			    "# HELP zond_testlist_sent_total Test lists sent to "
			    "agents.\n"
			    "# TYPE zond_testlist_sent_total counter\n"
			    "zond_testlist_sent_total %" PRIu64 "\n",
			    st.testlist_version, st.testlist_sent);
		if (e == ZE_OK)
			e = zbuf_puts(&b, "# HELP zond_enroll_total Enrollment "
			    "requests answered, by status.\n"
			    "# TYPE zond_enroll_total counter\n");
		for (int i = 1; i < ENROLL_NSTATUS && e == ZE_OK; i++)
			e = zbuf_printf(&b, "zond_enroll_total{status=\"%s\"} %"
			    PRIu64 "\n", enroll_status_name(
			    (Zond__V1__EnrollStatus)i), st.enroll[i]);
	}
	if (e == ZE_OK && have_rs)
		e = zbuf_printf(&b,
		    "# HELP zond_relay_requests_total HTTPS relay requests "
		    "received.\n"
		    "# TYPE zond_relay_requests_total counter\n"
		    "zond_relay_requests_total %" PRIu64 "\n"
		    "# HELP zond_relay_answers_total HTTPS relay answers by "
		    "status (413 also counts chunked bodies cut).\n"
		    "# TYPE zond_relay_answers_total counter\n"
		    "zond_relay_answers_total{status=\"200\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"400\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"403\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"404\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"409\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"413\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"429\"} %" PRIu64 "\n"
		    "zond_relay_answers_total{status=\"503\"} %" PRIu64 "\n",
		    rs.requests, rs.ok, rs.bad, rs.forbidden, rs.not_found,
		    rs.replay, rs.too_large, rs.limited, rs.unavailable);
	r = e == ZE_OK ? http_respond(c, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", b.data, b.len) :
	    http_respond_internal(c, "metrics", e, NULL);
	zbuf_free(&b);
	return r;
}

/* ----------------------------------------------------------- dashboard */

static const struct {
	const char *ext, *type;
} mime[] = {
	{".html", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".geojson", "application/geo+json"},	/* regions.geojson: DASHBOARD.md */
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

enum MHD_Result
http_ep_file(http_t *h, struct MHD_Connection *c, const char *url)
{
	const char *name = url + 1, *type = NULL, *dot;
	struct MHD_Response *r;
	struct stat sb;
	size_t n;
	int fd;
	enum MHD_Result ret;

	if (*name == '\0')
		name = "index.html";
	n = strlen(name);
	if (h->dashfd < 0 || n > 64 || name[0] == '.')
		return http_respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == '_'))
			return http_respond_error(c, MHD_HTTP_NOT_FOUND,
			    "not found");
	}
	if ((dot = strrchr(name, '.')) != NULL)
		for (size_t i = 0; i < ZARRAY_LEN(mime); i++)
			if (strcmp(dot, mime[i].ext) == 0)
				type = mime[i].type;
	if (type == NULL || strstr(name, "..") != NULL)
		return http_respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if ((fd = openat(h->dashfd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return http_respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > HTTP_FILE_MAX) {
		close(fd);
		return http_respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	}
	/* the response owns fd from here */
	if ((r = MHD_create_response_from_fd((size_t)sb.st_size, fd)) ==
	    NULL) {
		close(fd);
		return MHD_NO;
	}
	http_headers(r, type);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
