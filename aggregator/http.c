/*
 * http.c — see http.h.  Endpoints and their documents: docs/API.md.
 *
 * libmicrohttpd runs one thread per connection (at most HTTP_MAX_CONN, of
 * them HTTP_MAX_PER_IP from one address), so a handler may block: it
 * reads the store through its own read transactions and judges
 * measurements on demand (analyze.c), one hour slice at a time, so memory
 * stays bounded by one slice whatever range a client asks for.  The
 * export streams: a producer thread runs export_run into a pipe whose
 * other end the connection's content reader drains, so the pipe's buffer
 * bounds memory; a client that goes away closes the read end, the
 * producer's write fails (EPIPE) and it stops.
 *
 * Connections: one that has not sent a whole request (new, or between
 * keep-alive requests) is closed after HTTP_IDLE_S without a byte, so idle
 * sockets cannot hold the slots for long; while a request is answered the
 * limit is HTTP_TIMEOUT_S without progress, counted from when the handler
 * returns (a slow query is not cut off).  libmicrohttpd's messages (one
 * per refused connection, among others) are logged at most once per
 * HTTP_LOG_EVERY_US per kind, the rest counted.
 *
 * Input checks: every query parameter is known to its endpoint, given at
 * most once and validated; anything else is 400 with a JSON body naming
 * the parameter and its value.  A NUL byte anywhere in the request target
 * (raw or %00) is 400; a target over HTTP_URI_MAX is 414 and header
 * fields over HTTP_HEADERS_MAX are 431, both with the JSON body (the
 * request head must fit HTTP_POOL, else libmicrohttpd answers by itself).
 * Dashboard file names are one path component of [A-Za-z0-9._-], not
 * starting with '.', with a known extension (fixed MIME types), opened
 * relative to the dashboard directory without following symbolic links.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "events.h"
#include "rollup.h"
#include "export.h"
#include "json.h"
#include "log.h"
#include "map.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#define HTTP_MAX_CONN	128		/* connections (threads) at once */
#define HTTP_MAX_PER_IP	64		/* of them from one address */
#define HTTP_IDLE_S	10u		/* waiting for a request */
#define HTTP_TIMEOUT_S	60u		/* answering: no progress */
#define HTTP_POOL	(256u << 10)	/* libmicrohttpd memory per connection */
#define HTTP_URI_MAX	8192		/* request target, raw */
#define HTTP_HEADERS_MAX (32u << 10)	/* names and values of header fields */
#define HTTP_LOG_EVERY_US (10 * 1000000LL)	/* per kind of message */
#define HTTP_LOG_KINDS	16
#define HTTP_DOC_MAX	(64u << 20)	/* largest JSON document */
#define HTTP_FILE_MAX	(8 << 20)	/* largest dashboard file */
#define HTTP_MAX_PARAMS	16
#define EVENTS_MAX_US	(366 * DAY_US)		/* one events document */
#define HOUR_US		(3600LL * 1000000)
#define DAY_US		(24 * HOUR_US)
#define ONLINE_US	(5 * 60LL * 1000000)	/* seen this recently: online */
#define MEAS_LIMIT_DEF	100
#define MEAS_LIMIT_MAX	1000
#define RANGE_MAX_US	(366 * DAY_US)		/* timeseries */

#ifndef ZOND_SOURCE_DIR
#define ZOND_SOURCE_DIR ""
#endif

struct http {
	struct MHD_Daemon *mhd;
	store_t *store;
	struct analyze_opts ao;
	int dashfd;			/* dashboard directory; -1: none */
	char dashdir[1200];
	_Atomic uint64_t requests;
	pthread_mutex_t mu;		/* guards ist */
	struct ingest_stats ist;
	bool have_ist;
	pthread_mutex_t logmu;		/* guards logk */
	struct logkind {		/* one kind of libmicrohttpd message */
		const char *fmt;	/* its format; NULL: slot free */
		int64_t last_us;	/* monotonic time of its last line */
		uint64_t dropped;	/* not logged since */
		char text[160];		/* its last line, for the count */
	} logk[HTTP_LOG_KINDS];
};

/* One request as the URI log callback saw it, before libmicrohttpd
 * decodes the target in place (its client context; freed when the
 * request completes). */
struct req {
	const char *uri;		/* the raw target */
	size_t len;			/* its length up to a first NUL */
	bool nul;			/* %00 in the path */
};

/* One request's parsed query: every parameter once. */
struct query {
	const char *name[HTTP_MAX_PARAMS];
	const char *val[HTTP_MAX_PARAMS];
	size_t n;
	const char *const *allowed;	/* NULL-terminated */
	char err[400];			/* first problem; "" if none */
};

/* Filters shared by measurements, timeseries and export. */
struct filt {
	int64_t since, until;
	char region[STORE_REGION_LEN];
	int64_t asn;
	char service[CELL_SERVICE_MAX];
	int role;			/* -1: any */
	bool has_region, has_service;
};

/* ------------------------------------------------------------ responses */

/* The headers every response carries. */
static void
add_headers(struct MHD_Response *r, const char *ctype)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *ctype,
    const void *p, size_t n)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(n, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	add_headers(r, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond_json(struct MHD_Connection *c, unsigned status, const zbuf_t *b)
{
	return respond(c, status, "application/json", b->data, b->len);
}

/* {"error": msg} with the given status. */
static enum MHD_Result
respond_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	zbuf_t b;
	enum MHD_Result r;

	zbuf_init(&b, 4096);
	if (zbuf_puts(&b, "{\"error\": ") != ZE_OK || json_cstr(&b, msg) !=
	    ZE_OK || zbuf_puts(&b, "}\n") != ZE_OK) {
		zbuf_free(&b);
		return respond(c, status, "application/json",
		    "{\"error\": \"error\"}\n", 19);
	}
	r = respond_json(c, status, &b);
	zbuf_free(&b);
	return r;
}

/* A failure of ours (store, memory): 500, logged. */
static enum MHD_Result
respond_internal(struct MHD_Connection *c, const char *what, zerr_t e,
    const zdiag_t *d)
{
	char msg[700];

	snprintf(msg, sizeof(msg), "%s: %s", what, d != NULL && d->text[0] ?
	    d->text : zerr_str(e));
	log_warnx("http: %s", msg);
	return respond_error(c, e == ZE_TOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE :
	    MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

/* --------------------------------------------------------------- query */

/* One query parameter, decoded; key_size and value_size are the decoded
 * lengths, so a %00 shows as a C string shorter than its size. */
static enum MHD_Result
query_one(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct query *q = cls;
	bool known = false;

	(void)kind;
	if (q->err[0])
		return MHD_YES;
	if (strlen(key) != key_size || (value != NULL && strlen(value) !=
	    value_size)) {
		snprintf(q->err, sizeof(q->err), "%.64s: a NUL byte (%%00) in "
		    "the %s", key, strlen(key) != key_size ? "name" : "value");
		return MHD_YES;
	}
	for (size_t i = 0; q->allowed[i] != NULL; i++)
		if (strcmp(q->allowed[i], key) == 0)
			known = true;
	if (!known) {
		snprintf(q->err, sizeof(q->err), "unknown parameter '%.64s'",
		    key);
		return MHD_YES;
	}
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->name[i], key) == 0) {
			snprintf(q->err, sizeof(q->err), "%.64s: given more "
			    "than once", key);
			return MHD_YES;
		}
	if (value == NULL || *value == '\0') {
		snprintf(q->err, sizeof(q->err), "%.64s: no value given", key);
		return MHD_YES;
	}
	if (q->n == HTTP_MAX_PARAMS) {
		snprintf(q->err, sizeof(q->err), "too many parameters");
		return MHD_YES;
	}
	q->name[q->n] = key;
	q->val[q->n++] = value;
	return MHD_YES;
}

static void
query_read(struct MHD_Connection *c, const char *const *allowed,
    struct query *q)
{
	memset(q, 0, sizeof(*q));
	q->allowed = allowed;
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, query_one, q);
}

static const char *
query_get(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->val[i];
	return NULL;
}

static bool
q_time(struct query *q, const char *name, int64_t *us)
{
	const char *v = query_get(q, name);
	zdiag_t d = {.text = ""};

	if (v == NULL || q->err[0])
		return !q->err[0];
	if (ztime_parse_iso(v, us, &d) != ZE_OK) {
		snprintf(q->err, sizeof(q->err), "%s: '%.64s' is not an ISO "
		    "8601 UTC time (%.200s)", name, v, d.text);
		return false;
	}
	return true;
}

static bool
q_int(struct query *q, const char *name, int64_t lo, int64_t hi,
    const char *what, int64_t *out)
{
	const char *v = query_get(q, name);
	char *end;
	long long x;

	if (v == NULL || q->err[0])
		return !q->err[0];
	errno = 0;
	x = strtoll(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || x < lo ||
	    x > hi) {
		snprintf(q->err, sizeof(q->err), "%s: '%.64s' is not %s", name,
		    v, what);
		return false;
	}
	*out = x;
	return true;
}

/* A token of [A-Za-z0-9._-] (service) or [A-Z0-9-] (region). */
static bool
q_token(struct query *q, const char *name, bool region, char *out,
    size_t outlen)
{
	const char *v = query_get(q, name);
	size_t n;

	if (v == NULL || q->err[0])
		return !q->err[0];
	n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || (!region && ((ch >= 'a' && ch <= 'z') ||
		    ch == '.' || ch == '_'));
		if (!ok)
			n = outlen;	/* refused below */
	}
	if (n >= outlen) {
		snprintf(q->err, sizeof(q->err), region ? "%s: '%.64s' is not "
		    "an ISO 3166-2 region (e.g. RU-MOW)" : "%s: '%.64s' is not "
		    "a service name ([A-Za-z0-9._-], at most 63)", name, v);
		return false;
	}
	memcpy(out, v, n + 1);
	return true;
}

/* since/until (defaults: now - back_us .. now; back_us < 0: everything),
 * region, asn, service, role; false with q->err set on the first bad
 * one. */
static bool
q_filters(struct query *q, struct filt *f, int64_t back_us)
{
	int64_t now = ztime_now_us();
	const char *role;

	memset(f, 0, sizeof(*f));
	f->until = back_us < 0 ? INT64_MAX : now + 1;
	f->since = back_us < 0 ? 0 : now - back_us;
	f->role = -1;
	if (!q_time(q, "since", &f->since) || !q_time(q, "until", &f->until))
		return false;
	if (!q_int(q, "asn", 1, 4294967295LL, "an AS number (1-4294967295)",
	    &f->asn))
		return false;
	if (query_get(q, "region") != NULL) {
		if (!q_token(q, "region", true, f->region, sizeof(f->region)))
			return false;
		f->has_region = true;
	}
	if (query_get(q, "service") != NULL) {
		if (!q_token(q, "service", false, f->service,
		    sizeof(f->service)))
			return false;
		f->has_service = true;
	}
	if ((role = query_get(q, "role")) != NULL) {
		if (strcmp(role, "probe") == 0)
			f->role = STORE_ROLE_PROBE;
		else if (strcmp(role, "control") == 0)
			f->role = STORE_ROLE_CONTROL;
		else {
			snprintf(q->err, sizeof(q->err), "role: '%.64s' is not "
			    "probe or control", role);
			return false;
		}
	}
	if (f->since >= f->until) {
		char a[40], b[40];
		snprintf(q->err, sizeof(q->err), "until: %s is not after "
		    "since %s", ztime_fmt_iso(f->until, b, sizeof(b), 3),
		    ztime_fmt_iso(f->since, a, sizeof(a), 3));
		return false;
	}
	return true;
}


/* Does a stored measurement pass f?  The body is decoded only for a
 * service filter. */
static bool
filt_match(const struct filt *f, const struct store_meas *sm)
{
	wire_meas_t *m = NULL;
	bool ok;

	if (sm->start_us < f->since || sm->start_us >= f->until)
		return false;
	if (f->has_region && strcmp(f->region, sm->region) != 0)
		return false;
	if (f->asn > 0 && (int64_t)sm->asn != f->asn)
		return false;
	if (f->role >= 0 && (int)sm->role != f->role)
		return false;
	if (!f->has_service)
		return true;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return false;
	ok = m->service != NULL && strcmp(m->service, f->service) == 0;
	wire_meas_free(m);
	return ok;
}

/* ----------------------------------------------------------------- map */

static const char *const map_params[] = {"service", "since", "until", NULL};

static enum MHD_Result
ep_map(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	cell_t *cells = NULL;
	size_t n = 0;
	uint64_t pending = 0;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	query_read(c, map_params, &q);
	if (q.err[0] || !q_filters(&q, &f, DAY_US))
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if ((e = rollup_map(h->store, f.since, f.until, f.has_service ?
	    f.service : NULL, &h->ao.c, &cells, &n, &pending, &d)) != ZE_OK)
		return respond_internal(c, "map", e, &d);
	zbuf_init(&b, HTTP_DOC_MAX);
	if ((e = map_json(&b, f.since, f.until, cells, n, &pending)) !=
	    ZE_OK || (e = zbuf_putc(&b, '\n')) != ZE_OK)
		r = respond_internal(c, "map", e, NULL);
	else
		r = respond_json(c, MHD_HTTP_OK, &b);
	zbuf_free(&b);
	rollup_cells_free(cells, n);
	return r;
}

/* ----------------------------------------------------- hourly slices */

/*
 * Call fn for every measurement matching f, in id order, with its verdict
 * from the judgment of its hour slice (the same slicing as export_run).
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
	    !filt_match(w->f, sm))
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

static enum MHD_Result
ep_timeseries(http_t *h, struct MHD_Connection *c)
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

	query_read(c, ts_params, &q);
	memset(&t, 0, sizeof(t));
	t.grain = HOUR_US;
	grain = query_get(&q, "grain");
	if (!q.err[0] && grain != NULL) {
		if (strcmp(grain, "day") == 0)
			t.grain = DAY_US;
		else if (strcmp(grain, "hour") != 0)
			snprintf(q.err, sizeof(q.err), "grain: '%.64s' is not "
			    "hour or day", grain);
	}
	if (q.err[0] || !q_filters(&q, &f, t.grain == DAY_US ? 7 * DAY_US :
	    DAY_US))
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if (f.until - f.since > RANGE_MAX_US)
		return respond_error(c, MHD_HTTP_BAD_REQUEST, "until: the "
		    "range since..until is longer than 366 days");
	t.base = f.since - f.since % t.grain;
	t.nb = (size_t)((f.until - t.base + t.grain - 1) / t.grain);
	if ((t.b = calloc(t.nb, sizeof(*t.b))) == NULL)
		return respond_internal(c, "timeseries", ZE_NOMEM, NULL);
	if ((e = walk_judged(h, &f, ts_one, &t, &d)) != ZE_OK) {
		free(t.b);
		return respond_internal(c, "timeseries", e, &d);
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
		    ", \"anomaly\": %" PRIu64 ", \"pending\": %" PRIu64 "}",
		    i ? "," : "", ztime_fmt_iso(t.base + (int64_t)i * t.grain,
		    ts1, sizeof(ts1), 0), k->total, k->n[VERDICT_OK],
		    k->n[VERDICT_BLOCKED], k->n[VERDICT_THROTTLED],
		    k->n[VERDICT_DOWN], k->n[VERDICT_ANOMALY],
		    k->n[VERDICT_PENDING]);
	}
	if (e == ZE_OK)
		e = zbuf_puts(&b, "]}\n");
	r = e == ZE_OK ? respond_json(c, MHD_HTTP_OK, &b) :
	    respond_internal(c, "timeseries", e, NULL);
	zbuf_free(&b);
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

	if (!filt_match(w->f, sm))
		return 0;
	memcpy(w->ring[w->head], sm->id, STORE_ID_LEN);
	w->head = (w->head + 1) % w->cap;
	if (w->n < w->cap)
		w->n++;
	return 0;
}

/*
 * ids (newest first) of up to want measurements matching f with id below
 * `below`: scan windows of growing width back in time, so a page costs
 * about its own measurements when data is dense.
 */
static zerr_t
meas_page(store_t *s, const struct filt *f, const uint8_t below[STORE_ID_LEN],
    uint8_t (*ids)[STORE_ID_LEN], size_t want, size_t *got, zdiag_t *d)
{
	uint8_t hi[STORE_ID_LEN], lo[STORE_ID_LEN], floor_id[STORE_ID_LEN],
	    top[STORE_ID_LEN];
	int64_t width = 10 * 60 * 1000LL, lo_ms;	/* ms */
	struct mwin w;
	zerr_t e = ZE_OK;

	*got = 0;
	if ((w.ring = calloc(want, STORE_ID_LEN)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	w.f = f;
	memcpy(hi, below, STORE_ID_LEN);
	store_ids_of_starts(f->since, f->until, floor_id, top);
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

static enum MHD_Result
ep_measurements(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	int64_t limit = MEAS_LIMIT_DEF, hour = -1;
	const char *cur;
	uint8_t below[STORE_ID_LEN], (*ids)[STORE_ID_LEN] = NULL;
	size_t got = 0, n;
	analysis_t *a = NULL;
	zbuf_t b, buf;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	query_read(c, meas_params, &q);
	if (q.err[0] || !q_filters(&q, &f, DAY_US) || !q_int(&q, "limit", 1,
	    MEAS_LIMIT_MAX, "a page size (1-1000)", &limit))
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	{
		uint8_t lo_id[STORE_ID_LEN];

		store_ids_of_starts(f.since, f.until, lo_id, below);
	}
	if ((cur = query_get(&q, "cursor")) != NULL) {
		uint8_t cid[STORE_ID_LEN];
		size_t bl;
		if (strlen(cur) != 2 * STORE_ID_LEN || sodium_hex2bin(cid,
		    sizeof(cid), cur, strlen(cur), NULL, &bl, NULL) != 0 ||
		    bl != STORE_ID_LEN) {
			snprintf(q.err, sizeof(q.err), "cursor: '%.64s' is not "
			    "a cursor from next_cursor", cur);
			return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
		}
		if (memcmp(cid, below, STORE_ID_LEN) < 0)
			memcpy(below, cid, STORE_ID_LEN);
	}
	if ((ids = calloc((size_t)limit + 1, STORE_ID_LEN)) == NULL)
		return respond_internal(c, "measurements", ZE_NOMEM, NULL);
	if ((e = meas_page(h->store, &f, below, ids, (size_t)limit + 1, &got,
	    &d)) != ZE_OK) {
		free(ids);
		return respond_internal(c, "measurements", e, &d);
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
		/* judge by the hour slice, as the export does */
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
			struct json_meas_extra ex = {
				.region = sm.region, .asn = sm.asn,
				.role = store_role_name(sm.role),
				.verdict = verdict_name(v),
				.method = meth == METHOD_NONE ? NULL :
				    method_name(meth),
				.body = sm.body, .body_len = sm.body_len,
				.sig = sm.sig,
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
	r = e == ZE_OK ? respond_json(c, MHD_HTTP_OK, &b) :
	    respond_internal(c, "measurements", e, &d);
	analysis_free(&a);
	zbuf_free(&buf);
	zbuf_free(&b);
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
		    "\"state\": \"%s\", \"enabled\": %s, \"enrolled\": \"%s\", "
		    "\"last_seen\": ", a->asn, store_role_name(a->role),
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
		    "\"list_version\": %" PRIu64 ", \"stored\": %" PRIu64 "}",
		    a->backlog, a->dropped, a->last_seq, a->list_version,
		    a->stored);
	return o->e != ZE_OK;
}

static enum MHD_Result
ep_agents(http_t *h, struct MHD_Connection *c)
{
	static const char *const none[] = {NULL};
	struct query q;
	struct agents_out o;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	query_read(c, none, &q);
	if (q.err[0])
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	zbuf_init(&b, HTTP_DOC_MAX);
	memset(&o, 0, sizeof(o));
	o.b = &b;
	o.now = ztime_now_us();
	e = zbuf_puts(&b, "{\"agents\": [");
	if (e == ZE_OK)
		e = store_agent_iter(h->store, agent_one, &o, &d);
	if (e == ZE_OK)
		e = o.e;
	if (e == ZE_OK)
		e = zbuf_puts(&b, "]}\n");
	r = e == ZE_OK ? respond_json(c, MHD_HTTP_OK, &b) :
	    respond_internal(c, "agents", e, &d);
	zbuf_free(&b);
	return r;
}

/* -------------------------------------------------------------- events */

static const char *const ev_params[] = {"service", "region", "asn",
    "since", "until", NULL};

struct evout {
	const struct filt *f;
	zbuf_t *b;
	size_t n;
	zerr_t e;
};

static int
ev_out(const event_t *ev, void *arg)
{
	struct evout *o = arg;

	if (ev->time_us < o->f->since - o->f->since % HOUR_US ||
	    ev->time_us >= o->f->until ||
	    (o->f->has_service && strcmp(o->f->service, ev->service) != 0) ||
	    (o->f->has_region && strcmp(o->f->region, ev->region) != 0) ||
	    (o->f->asn > 0 && ev->asn != o->f->asn))
		return 0;
	if ((o->e = zbuf_puts(o->b, o->n++ ? ",\n " : "\n ")) == ZE_OK)
		o->e = event_json(o->b, ev);
	return o->e != ZE_OK;
}

static enum MHD_Result
ep_events(http_t *h, struct MHD_Connection *c)
{
	struct query q;
	struct filt f;
	struct evout o;
	char t1[40], t2[40];
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	query_read(c, ev_params, &q);
	if (q.err[0] || !q_filters(&q, &f, DAY_US))
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	if (f.until - f.since > EVENTS_MAX_US)
		return respond_error(c, MHD_HTTP_BAD_REQUEST, "until: the "
		    "range since..until is longer than 366 days");
	zbuf_init(&b, HTTP_DOC_MAX);
	e = zbuf_printf(&b, "{\"since\": \"%s\", \"until\": \"%s\", "
	    "\"events\": [",
	    ztime_fmt_iso(f.since, t1, sizeof(t1), 3),
	    ztime_fmt_iso(f.until, t2, sizeof(t2), 3));
	memset(&o, 0, sizeof(o));
	o.f = &f;
	o.b = &b;
	if (e == ZE_OK && (e = rollup_events(h->store, f.since, f.until,
	    ev_out, &o, &d)) == ZE_OK)
		e = o.e;
	if (e == ZE_OK)
		e = zbuf_puts(&b, "]}\n");
	r = e == ZE_OK ? respond_json(c, MHD_HTTP_OK, &b) :
	    respond_internal(c, "events", e, &d);
	zbuf_free(&b);
	return r;
}

/* -------------------------------------------------------------- export */

static const char *const exp_params[] = {"format", "service", "region",
    "asn", "since", "until", NULL};

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

	add_headers(r, fmt == EXPORT_CSV ? "text/csv; charset=utf-8" :
	    "application/x-ndjson");
	MHD_add_response_header(r, "Content-Disposition", fmt == EXPORT_CSV ?
	    "attachment; filename=\"zond-export.csv\"" :
	    "attachment; filename=\"zond-export.jsonl\"");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
ep_export(http_t *h, struct MHD_Connection *c, bool head)
{
	struct query q;
	struct stream *s;
	struct MHD_Response *r;
	const char *fmt;
	int p[2];
	enum MHD_Result ret;

	query_read(c, exp_params, &q);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return respond_internal(c, "export", ZE_NOMEM, NULL);
	s->rfd = s->wfd = -1;
	s->fmt = EXPORT_JSONL;
	fmt = query_get(&q, "format");
	if (!q.err[0] && fmt != NULL && export_fmt_from_name(fmt, &s->fmt) !=
	    ZE_OK)
		snprintf(q.err, sizeof(q.err), "format: '%.64s' is not a "
		    "known export format (jsonl, csv or ooni)", fmt);
	/* default range: everything */
	if (q.err[0] || !q_filters(&q, &s->f, -1)) {
		free(s);
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	}
	s->ef.since = s->f.since;
	s->ef.until = s->f.until;
	s->ef.region = s->f.has_region ? s->f.region : NULL;
	s->ef.asn = s->f.asn;
	s->ef.service = s->f.has_service ? s->f.service : NULL;
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
		return respond_internal(c, "export: pipe", ZE_IO, NULL);
	}
	s->rfd = p[0];
	s->wfd = p[1];
	if (pthread_create(&s->th, NULL, stream_run, s) != 0) {
		stream_free(s);
		return respond_internal(c, "export: thread", ZE_NOMEM, NULL);
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

static enum MHD_Result
ep_metrics(http_t *h, struct MHD_Connection *c)
{
	static const char *const none[] = {NULL};
	struct query q;
	struct store_counts sc;
	struct agent_counts ac;
	struct ingest_stats st;
	bool have;
	zbuf_t b;
	zdiag_t d = {.text = ""};
	zerr_t e;
	enum MHD_Result r;

	query_read(c, none, &q);
	if (q.err[0])
		return respond_error(c, MHD_HTTP_BAD_REQUEST, q.err);
	memset(&ac, 0, sizeof(ac));
	if ((e = store_counts(h->store, &sc, &d)) != ZE_OK ||
	    (e = store_agent_iter(h->store, count_agent, &ac, &d)) != ZE_OK)
		return respond_internal(c, "metrics", e, &d);
	pthread_mutex_lock(&h->mu);
	st = h->ist;
	have = h->have_ist;
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
		    "# HELP zond_ingest_rejected_total Measurements rejected, "
		    "by reason.\n"
		    "# TYPE zond_ingest_rejected_total counter\n",
		    st.frames, st.received, st.stored, st.dup,
		    st.frame_rejects, st.commits, st.commit_fail,
		    st.storage_ok ? 1 : 0);
		for (int i = 1; i < INGEST_NREASONS && e == ZE_OK; i++)
			e = zbuf_printf(&b, "zond_ingest_rejected_total{reason="
			    "\"%s\"} %" PRIu64 "\n", wire_reject_name(
			    (Zond__V1__RejectReason)i), st.rejected[i]);
	}
	r = e == ZE_OK ? respond(c, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", b.data, b.len) :
	    respond_internal(c, "metrics", e, NULL);
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
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

static enum MHD_Result
ep_file(http_t *h, struct MHD_Connection *c, const char *url)
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
		return respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == '_'))
			return respond_error(c, MHD_HTTP_NOT_FOUND,
			    "not found");
	}
	if ((dot = strrchr(name, '.')) != NULL)
		for (size_t i = 0; i < ZARRAY_LEN(mime); i++)
			if (strcmp(dot, mime[i].ext) == 0)
				type = mime[i].type;
	if (type == NULL || strstr(name, "..") != NULL)
		return respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if ((fd = openat(h->dashfd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > HTTP_FILE_MAX) {
		close(fd);
		return respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	}
	/* the response owns fd from here */
	if ((r = MHD_create_response_from_fd((size_t)sb.st_size, fd)) ==
	    NULL) {
		close(fd);
		return MHD_NO;
	}
	add_headers(r, type);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ------------------------------------------------------------- logging */

/*
 * libmicrohttpd's messages, one line per kind (format) per
 * HTTP_LOG_EVERY_US; the others of that kind are counted and the count
 * logged with the kind's next line, or by log_flush once the time is up
 * (called on each request and from http_publish, each main loop tick).
 */
__attribute__((format(printf, 2, 0)))
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	http_t *h = cls;
	struct logkind *k = NULL;
	char buf[512], prev[sizeof(k->text)];
	int64_t now = ztime_mono_us();
	uint64_t n = 0;
	size_t len;
	bool quiet;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	pthread_mutex_lock(&h->logmu);
	for (size_t i = 0; i < HTTP_LOG_KINDS && k == NULL; i++)
		if (h->logk[i].fmt == fmt || h->logk[i].fmt == NULL)
			k = &h->logk[i];
	if (k == NULL)
		k = &h->logk[HTTP_LOG_KINDS - 1];	/* the rest share one */
	quiet = k->fmt != NULL && now - k->last_us < HTTP_LOG_EVERY_US;
	if (quiet)
		k->dropped++;
	else if ((n = k->dropped) > 0)
		memcpy(prev, k->text, sizeof(prev));
	if (!quiet) {
		k->fmt = fmt;
		k->last_us = now;
		k->dropped = 0;
	}
	snprintf(k->text, sizeof(k->text), "%.*s", (int)sizeof(k->text) - 1,
	    buf);
	pthread_mutex_unlock(&h->logmu);
	if (quiet)
		return;
	if (n > 0)
		log_warnx("http: %" PRIu64 " more like '%s' not logged", n,
		    prev);
	log_warnx("http: %s", buf);
}

/* Log the counts of suppressed messages whose time is up. */
static void
log_flush(http_t *h)
{
	int64_t now = ztime_mono_us();

	pthread_mutex_lock(&h->logmu);
	for (size_t i = 0; i < HTTP_LOG_KINDS; i++) {
		struct logkind *k = &h->logk[i];
		if (k->dropped > 0 && now - k->last_us >= HTTP_LOG_EVERY_US) {
			log_warnx("http: %" PRIu64 " more like '%s' not logged",
			    k->dropped, k->text);
			k->dropped = 0;
			k->last_us = now;
		}
	}
	pthread_mutex_unlock(&h->logmu);
}

/* ------------------------------------------------------------ dispatch */

/* Inactivity timeout of c: s seconds from now (libmicrohttpd restarts the
 * count only when the timeout it replaces is 0). */
static void
conn_timeout(struct MHD_Connection *c, unsigned s)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, s);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the raw request target, before it is split
 * at '?' and decoded in place.  Returns the request's context. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *rq;
	size_t path;

	(void)cls;
	(void)c;
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->uri = uri;
	rq->len = strlen(uri);
	path = strcspn(uri, "?");
	for (size_t i = 0; i + 2 < path; i++)
		if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
			rq->nul = true;
	return rq;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is answered (or abandoned);
 * back to the short timeout while the connection waits for the next. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	free(*con_cls);
	*con_cls = NULL;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_timeout(c, HTTP_IDLE_S);
}

/*
 * The raw target's length.  libmicrohttpd hands it over as a C string,
 * so a raw NUL byte cuts it; the request line is "METHOD SP target SP
 * version" in one buffer, so the version string starts right after the
 * whole target: a version further on (within the connection's memory,
 * HTTP_POOL) means a NUL inside.  (A version elsewhere, as another
 * libmicrohttpd might keep it, is not taken as one.)
 */
static size_t
raw_len(const struct req *rq, const char *version, bool *nul)
{
	uintptr_t v = (uintptr_t)version, end = (uintptr_t)(rq->uri +
	    rq->len + 1);

	*nul = false;
	if (version[0] == '\0' || v <= end || v - end >= HTTP_POOL)
		return rq->len;
	*nul = true;
	return (size_t)(v - (uintptr_t)rq->uri - 1);
}

static enum MHD_Result
header_size(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	(void)key;
	(void)value;
	*(size_t *)cls += key_size + value_size + 4;	/* ": ", CRLF */
	return MHD_YES;
}

static enum MHD_Result
dispatch(http_t *h, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const struct req *rq)
{
	size_t hsize = 0;
	bool head, nul;

	if (rq == NULL)
		return respond_internal(c, "request", ZE_NOMEM, NULL);
	if (raw_len(rq, version, &nul) > HTTP_URI_MAX)
		return respond_error(c, MHD_HTTP_URI_TOO_LONG, "the request "
		    "target is longer than 8192 bytes");
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, header_size, &hsize);
	if (hsize > HTTP_HEADERS_MAX)
		return respond_error(c,
		    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "the header "
		    "fields are larger than 32768 bytes");
	if (nul || rq->nul)
		return respond_error(c, MHD_HTTP_BAD_REQUEST, "the path holds "
		    "a NUL byte (%00)");
	head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!head && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed: use GET or HEAD");
	if (strcmp(url, "/api/v1/map") == 0)
		return ep_map(h, c);
	if (strcmp(url, "/api/v1/timeseries") == 0)
		return ep_timeseries(h, c);
	if (strcmp(url, "/api/v1/measurements") == 0)
		return ep_measurements(h, c);
	if (strcmp(url, "/api/v1/agents") == 0)
		return ep_agents(h, c);
	if (strcmp(url, "/api/v1/events") == 0)
		return ep_events(h, c);
	if (strcmp(url, "/api/v1/export") == 0)
		return ep_export(h, c, head);
	if (strcmp(url, "/metrics") == 0)
		return ep_metrics(h, c);
	if (strncmp(url, "/api/", 5) == 0 || strchr(url + 1, '/') != NULL ||
	    url[0] != '/')
		return respond_error(c, MHD_HTTP_NOT_FOUND, "not found");
	return ep_file(h, c, url);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	http_t *h = cls;
	enum MHD_Result r;

	(void)upload;
	(void)upload_size;
	atomic_fetch_add(&h->requests, 1);
	log_flush(h);
	r = dispatch(h, c, url, method, version, *con_cls);
	/* the answer has its own clock, from now */
	conn_timeout(c, HTTP_TIMEOUT_S);
	return r;
}

/* ------------------------------------------------------------ lifecycle */

/* host:port, [v6]:port, v6:port (the last colon splits). */
static zerr_t
parse_listen(const char *v, struct sockaddr_storage *ss, bool *v6,
    zdiag_t *d)
{
	char host[128];
	const char *colon = strrchr(v, ':');
	size_t hl;
	char *end;
	long port;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (hl = (size_t)(colon - v)) == 0 ||
	    hl >= sizeof(host))
		return zdiag_set(d, ZE_PARSE, "[http] listen '%s': expected "
		    "host:port", v);
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || errno || port < 1 ||
	    port > 65535)
		return zdiag_set(d, ZE_PARSE, "[http] listen '%s': port must "
		    "be 1-65535", v);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*v6 = false;
		return ZE_OK;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return ZE_OK;
	}
	return zdiag_set(d, ZE_PARSE, "[http] listen '%s': '%s' is not an "
	    "IPv4 or IPv6 address", v, host);
}

static int
try_dir(http_t *h, const char *dir)
{
	int fd;

	if (dir == NULL || *dir == '\0')
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (faccessat(fd, "index.html", R_OK, 0) != 0) {
		close(fd);
		return -1;
	}
	snprintf(h->dashdir, sizeof(h->dashdir), "%s", dir);
	return fd;
}

/* [http] dashboard_dir, else the installed copy next to the binary, else
 * the build tree layout, else the source tree. */
static void
find_dashboard(http_t *h, const char *conf_dir)
{
	char exe[1024], p[1100], *slash;
	ssize_t n;

	h->dashfd = -1;
	if (conf_dir != NULL && *conf_dir != '\0') {
		if ((h->dashfd = try_dir(h, conf_dir)) < 0)
			log_warnx("http: dashboard_dir %s has no readable "
			    "index.html; no dashboard", conf_dir);
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		snprintf(p, sizeof(p), "%s/../share/zond/dashboards", exe);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
		snprintf(p, sizeof(p), "%s/../../dashboards", exe);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
	}
	if (ZOND_SOURCE_DIR[0] != '\0') {
		snprintf(p, sizeof(p), "%s/dashboards", ZOND_SOURCE_DIR);
		if ((h->dashfd = try_dir(h, p)) >= 0)
			return;
	}
	log_warnx("http: no dashboard directory found; set [http] "
	    "dashboard_dir");
}

zerr_t
http_start(store_t *s, const struct aggr_conf *conf, http_t **out,
    zdiag_t *d)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	bool v6 = false;
	http_t *h;
	zerr_t e;

	*out = NULL;
	if ((e = parse_listen(conf->http_listen, &ss, &v6, d)) != ZE_OK)
		return e;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "out of memory");
	h->store = s;
	atomic_init(&h->requests, 0);
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->logmu, NULL);
	analyze_opts_default(&h->ao);
	h->ao.window_us = conf->window_ms * 1000;
	h->ao.c.min_measurements = (uint32_t)conf->min_measurements;
	h->ao.c.min_agents = (uint32_t)conf->min_agents;
	find_dashboard(h, conf->dashboard_dir);
	if (v6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONN,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		e = zdiag_set(d, ZE_IO, "http: cannot listen on %s",
		    conf->http_listen);
		http_stop(&h);
		return e;
	}
	log_info("http listening=%s dashboard=%s", conf->http_listen,
	    h->dashfd >= 0 ? h->dashdir : "(none)");
	*out = h;
	return ZE_OK;
}

void
http_publish(http_t *h, const ingest_t *ig)
{
	struct ingest_stats st;

	if (h == NULL)
		return;
	ingest_get_stats(ig, &st);
	pthread_mutex_lock(&h->mu);
	h->ist = st;
	h->have_ist = true;
	pthread_mutex_unlock(&h->mu);
	log_flush(h);
}

void
http_stop(http_t **hp)
{
	http_t *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->dashfd >= 0)
		close(h->dashfd);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->logmu);
	free(h);
	*hp = NULL;
}
