/*
 * http_int.h — what the HTTP server's files share (not for other
 * modules; they use http.h).
 *
 *   http.c        the server: libmicrohttpd set-up (one daemon per
 *                 listener), connection limits and timeouts, routing,
 *                 the views (operator token, public view's gate and
 *                 /api/v1/info), responses and errors, logging
 *   analysis/pubview.c  the public view's k rule (pure)
 *   http_query.c  query parameters: parsed, checked, turned into filters
 *   http_ep.c     the endpoints (docs/API.md) and the dashboard files
 *
 * Every http_respond* function queues exactly one response on c and
 * returns libmicrohttpd's result; an endpoint returns what its response
 * call returned.  Every response carries http_headers().
 */
#ifndef AGGREGATOR_HTTP_INT_H
#define AGGREGATOR_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze.h"
#include "http.h"
#include "http_cache.h"
#include "relay.h"
#include "zbuf.h"

#define HTTP_LOG_KINDS	16
#define HTTP_MAX_PARAMS	16

/* One listening socket and its view. */
struct listener {
	struct http *h;
	struct MHD_Daemon *mhd;
	const char *addr;		/* as configured; the conf's string */
	bool pub;			/* the public view */
};

struct http {
	struct listener lst[2];		/* [http] listen, public_listen */
	size_t nlst;
	bool has_token;			/* [http] token set */
	uint8_t token_hash[32];		/* BLAKE2b-256 of it */
	uint32_t k;			/* [http] public_min_agents */
	store_t *store;
	struct analyze_opts ao;
	struct fpdb *fp;		/* ao.v.fp: [analysis] fingerprints */
	int dashfd;			/* dashboard directory; -1: none */
	char dashdir[1200];
	_Atomic uint64_t requests;
	pthread_mutex_t mu;		/* guards ist */
	struct ingest_stats ist;
	bool have_ist;
	hcache_t *mapc;			/* map documents; NULL: off */
	pthread_t refresh_th;		/* mapc's refresher (http_map_refresh) */
	bool refresh_on;		/* refresh_th runs */
	bool refresh_stop;		/* guarded by mu; refresh_cv */
	pthread_cond_t refresh_cv;
	struct agentcount *rej;		/* guarded by mu: the ingest's refusals
					 * per agent (valid until http_stop) */
	struct relay_stats rst;		/* guarded by mu; have_rst: relay on */
	bool have_rst;
	pthread_mutex_t logmu;		/* guards logk */
	struct logkind {		/* one kind of libmicrohttpd message */
		const char *fmt;	/* its format; NULL: slot free */
		int64_t last_us;	/* monotonic time of its last line */
		uint64_t dropped;	/* not logged since */
		char text[160];		/* its last line, for the count */
	} logk[HTTP_LOG_KINDS];
};

/* A map request as the map cache keeps it, to make it again
 * (http_map_refresh). */
struct map_req {
	char service[CELL_SERVICE_MAX];
	char region[STORE_REGION_LEN];
	int network;			/* enum store_network; -1: any */
	bool has_service, has_region;
	bool latest;			/* sample=latest */
	bool no_cells;			/* cells=none */
	bool pub;			/* the public view */
	bool until_given;		/* else until is now */
	int64_t since, until;
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
	char service[CELL_SERVICE_MAX];	/* as given: "S", "S/calls", ... */
	char base[CELL_SERVICE_MAX];	/* S */
	cell_facet_t facet;		/* the part the suffix names */
	int role;			/* -1: any */
	int network;			/* enum store_network; -1: any (map
					 * and export only) */
	bool has_region, has_service;
};

/* http.c: responses. */
void http_headers(struct MHD_Response *r, const char *ctype);
enum MHD_Result http_respond(struct MHD_Connection *c, unsigned status,
    const char *ctype, const void *p, size_t n);
enum MHD_Result http_respond_json(struct MHD_Connection *c, unsigned status,
    const zbuf_t *b);
/* {"error": msg} with the given status. */
enum MHD_Result http_respond_error(struct MHD_Connection *c, unsigned status,
    const char *msg);
/* A failure of ours (store, memory): 500 (413 for ZE_TOOBIG), logged. */
enum MHD_Result http_respond_internal(struct MHD_Connection *c,
    const char *what, zerr_t e, const zdiag_t *d);
/* The end of an endpoint's JSON document b, e its result so far: append
 * tail (may be NULL), then 200 with b, or http_respond_internal(c, what,
 * e, d).  Frees b. */
enum MHD_Result http_respond_doc(struct MHD_Connection *c, const char *what,
    zerr_t e, const char *tail, zbuf_t *b, const zdiag_t *d);

/* http.c: is c served by a public listener? */
bool http_is_public(const http_t *h, struct MHD_Connection *c);
/*
 * The public view's k rule for a filter (docs/API.md "Public view and
 * operator token"): in the operator view, or when the enabled probe
 * agents of region (NULL: any) and asn (0: any) are at least k, true;
 * else false with c answered (*r): 403 {"error": "fewer than k agents in
 * ..."} (or 500 when the registry cannot be read).  For every endpoint
 * with region/asn filters.
 */
bool pub_filter_ok(http_t *h, struct MHD_Connection *c, const char *region,
    int64_t asn, enum MHD_Result *r);
/* The registry's enabled probe agents per region and ASN, for the public
 * view's lists (caller frees with pub_agents_free). */
struct pub_agents;
zerr_t http_pub_agents(http_t *h, struct pub_agents **out, zdiag_t *d) ZWUR;

/* http_query.c: read c's query into q, allowing only the names in
 * allowed; the first problem goes to q->err. */
void http_query_read(struct MHD_Connection *c, const char *const *allowed,
    struct query *q);
/* The value of name, or NULL. */
const char *http_query_get(const struct query *q, const char *name);
/* An integer lo..hi (what names it in the error); absent: *out kept.
 * false with q->err set when bad (or q->err already set). */
bool http_query_int(struct query *q, const char *name, int64_t lo,
    int64_t hi, const char *what, int64_t *out);
/* since/until (defaults: now - back_us .. now; back_us < 0: everything),
 * region, asn, service, role; false with q->err set on the first bad
 * one. */
bool http_query_filters(struct query *q, struct filt *f, int64_t back_us);
/* Does a stored measurement pass f?  The body is decoded only for a
 * service filter ("S/calls": service S and a calls test). */
bool http_filt_match(const struct filt *f, const struct store_meas *sm);

/* http_ep.c: the endpoints; each answers c. */
enum MHD_Result http_ep_map(http_t *h, struct MHD_Connection *c);
/* Make one kept map document that is being read again, if one is due
 * (hcache_due): true when one was (call again), false when none is. */
bool http_map_refresh(http_t *h);
enum MHD_Result http_ep_timeseries(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_measurements(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_agents(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_events(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_silences(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_history(http_t *h, struct MHD_Connection *c);
enum MHD_Result http_ep_export(http_t *h, struct MHD_Connection *c,
    bool head);
enum MHD_Result http_ep_metrics(http_t *h, struct MHD_Connection *c);
/* A dashboard file; url is "/" or "/NAME". */
enum MHD_Result http_ep_file(http_t *h, struct MHD_Connection *c,
    const char *url);

#endif
