/*
 * export.c — see export.h.  Three record writers over one streaming loop:
 * JSONL (json_measurement, INTERFACES.md), CSV (RFC 4180) and OONI's
 * measurement data format (export_ooni.c; mapping in docs/DATA.md "OONI
 * format").  Every writer appends one line to a capped zbuf; every record
 * carries what is needed to check its signature except CSV's.
 */
#include "export.h"
#include "export_ooni.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sign.h"
#include "wire.h"
#include "zclock.h"
#include "zid.h"
#include "ztime.h"

/* six hours: each slice also reads the control window (1 h) on both
 * sides, so longer slices read less twice; memory stays bounded by one
 * slice and its windows */
#define SLICE_US (6 * 3600LL * 1000000)

static const char csv_header[] = "id,agent,seq,start,region,asn,role,"
    "service,test,target,failure,verdict,method,attempts,duration_ms,"
    "network\n";

const char *
export_csv_header(void)
{
	return csv_header;
}

zerr_t
export_fmt_from_name(const char *name, enum export_fmt *f)
{
	if (strcmp(name, "jsonl") == 0)
		*f = EXPORT_JSONL;
	else if (strcmp(name, "csv") == 0)
		*f = EXPORT_CSV;
	else if (strcmp(name, "ooni") == 0)
		*f = EXPORT_OONI;
	else
		return ZE_NOTFOUND;
	return ZE_OK;
}

struct exp {
	enum export_fmt fmt;
	const struct export_filter *flt;
	int64_t slice_lo, slice_hi;	/* this slice */
	const analysis_t *a;
	const ooni_ctl_t *ctl;	/* EXPORT_OONI: the slice's controls */
	const struct ipasn *asn;	/* IP-to-ASN table for where */
	export_write_fn w;
	void *arg;
	zbuf_t line;
	uint64_t count;
	int err;
	struct netkey *net;	/* every agent's network type, by key */
	size_t nnet, cnet;
	bool nomem;
};

struct netkey {
	uint8_t pk[STORE_PK_LEN];
	enum store_network network;
};

static int
netkey_cmp(const void *x, const void *y)
{
	return memcmp(((const struct netkey *)x)->pk,
	    ((const struct netkey *)y)->pk, STORE_PK_LEN);
}

static int
net_add(const struct store_agent *a, void *arg)
{
	struct exp *x = arg;

	if (x->nnet == x->cnet) {
		size_t nc = x->cnet ? 2 * x->cnet : 64;
		struct netkey *nk = realloc(x->net, nc * sizeof(*nk));

		if (nk == NULL) {
			x->nomem = true;
			return 1;
		}
		x->net = nk;
		x->cnet = nc;
	}
	memcpy(x->net[x->nnet].pk, a->pk, STORE_PK_LEN);
	x->net[x->nnet++].network = a->network;
	return 0;
}

/* The network type an agent is enrolled with (unknown when not). */
static enum store_network
net_of(const struct exp *x, const uint8_t *pk)
{
	struct netkey k;
	const struct netkey *f;

	memcpy(k.pk, pk, STORE_PK_LEN);
	f = x->nnet > 0 ? bsearch(&k, x->net, x->nnet, sizeof(*x->net),
	    netkey_cmp) : NULL;
	return f != NULL ? f->network : STORE_NET_UNKNOWN;
}

static const char *
role_name(enum store_role r)
{
	return store_role_name(r);
}

/* CSV field with RFC 4180 quoting. */
static zerr_t
csv_field(zbuf_t *b, const char *s)
{
	zerr_t e;

	if (s == NULL)
		return ZE_OK;
	if (strpbrk(s, ",\"\r\n") == NULL)
		return zbuf_puts(b, s);
	if ((e = zbuf_putc(b, '"')) != ZE_OK)
		return e;
	for (; *s; s++) {
		if (*s == '"' && (e = zbuf_putc(b, '"')) != ZE_OK)
			return e;
		if ((e = zbuf_putc(b, *s)) != ZE_OK)
			return e;
	}
	return zbuf_putc(b, '"');
}

/* The filter "S", "S/calls" or "S/messaging" (the part by its test). */
static bool
service_match(const char *flt, const wire_meas_t *m)
{
	char base[CELL_SERVICE_MAX];
	cell_facet_t f;

	if (m->service == NULL ||
	    cell_facet_parse(flt, base, sizeof(base), &f) != ZE_OK)
		return false;
	return strcmp(base, m->service) == 0 &&
	    (f == CELL_FACET_ALL || cell_facet_of(m->test) == f);
}

static int
export_one(const struct store_meas *sm, void *arg)
{
	struct exp *x = arg;
	const struct export_filter *f = x->flt;
	wire_meas_t *m = NULL;
	verdict_t v = VERDICT_PENDING;
	method_t meth = METHOD_NONE;
	const char *where;
	enum store_network net;
	zerr_t e;

	if (sm->start_us < f->since || sm->start_us >= f->until ||
	    sm->start_us < x->slice_lo || sm->start_us >= x->slice_hi)
		return 0;
	if (f->region && strcmp(f->region, sm->region) != 0)
		return 0;
	if (f->asn > 0 && (int64_t)sm->asn != f->asn)
		return 0;
	net = net_of(x, sm->agent);
	if (f->has_network && net != f->network)
		return 0;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;
	if (f->service && !service_match(f->service, m)) {
		wire_meas_free(m);
		return 0;
	}
	(void)analysis_verdict(x->a, sm->id, &v, &meth);
	where = cell_meas_where(m, v, sm->asn, x->asn);
	zbuf_reset(&x->line);
	if (x->fmt == EXPORT_JSONL) {
		struct json_meas_extra ex = {
			.region = sm->region, .asn = sm->asn,
			.role = role_name(sm->role),
			.network = store_network_name(net),
			.verdict = verdict_name(v),
			.method = meth == METHOD_NONE ? NULL : method_name(meth),
			.where = where,
			.censor_asn = cell_meas_censor_asn(m, v, x->asn),
			.body = sm->body, .body_len = sm->body_len,
			.sig = sm->sig,
			.time_us = sm->time_us,
			.time_by = zclock_placed_name((enum zclock_placed)
			    sm->time_by),
		};
		e = json_measurement(&x->line, m, &ex);
	} else if (x->fmt == EXPORT_OONI) {
		e = ooni_record(&x->line, sm, m, v, meth, x->ctl, where,
		    net);
	} else {
		char hex[65], ts[40], tn[32];
		sodium_bin2hex(hex, sizeof(hex), sm->id, STORE_ID_LEN);
		e = zbuf_printf(&x->line, "%s,", hex);
		sodium_bin2hex(hex, sizeof(hex), sm->agent, STORE_PK_LEN);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, "%s,%" PRIu64 ",%s,%s,%u,%s,",
			    hex, sm->seq, ztime_fmt_iso(sm->start_us, ts,
			    sizeof(ts), 3), sm->region, sm->asn,
			    role_name(sm->role));
		if (e == ZE_OK)
			e = csv_field(&x->line, m->service);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, ",%s,", json_enum_name(
			    &zond__v1__test_kind__descriptor, (int)m->test, tn,
			    sizeof(tn)));
		if (e == ZE_OK)
			e = csv_field(&x->line, m->target);
		if (e == ZE_OK)
			e = zbuf_printf(&x->line, ",%s,%s,%s,%u,%.3f,%s",
			    wire_failure_name(m->outcome->failure),
			    verdict_name(v), meth == METHOD_NONE ? "" :
			    method_name(meth), m->outcome->attempts,
			    m->duration_us / 1000.0, store_network_name(net));
	}
	wire_meas_free(m);
	if (e != ZE_OK || zbuf_putc(&x->line, '\n') != ZE_OK ||
	    x->w(x->line.data, x->line.len, x->arg) != 0) {
		x->err = 1;
		return 1;
	}
	x->count++;
	return 0;
}

zerr_t
export_run(store_t *s, enum export_fmt fmt, const struct export_filter *flt,
    const struct analyze_opts *o, export_write_fn w, void *arg,
    uint64_t *count, zdiag_t *d)
{
	struct analyze_opts def;
	struct exp x;
	int64_t t = 0, end = flt->until;
	int64_t limit = ztime_now_us() + 86400LL * 1000000;
	zerr_t e = ZE_OK;

	if (o == NULL) {
		analyze_opts_default(&def);
		o = &def;
	}
	memset(&x, 0, sizeof(x));
	x.asn = o->v.asn;
	x.fmt = fmt;
	x.flt = flt;
	x.w = w;
	x.arg = arg;
	zbuf_init(&x.line, fmt == EXPORT_OONI ? OONI_RECORD_MAX :
	    4 * WIRE_MAX_MEASUREMENT);
	if (fmt == EXPORT_CSV && w(csv_header, strlen(csv_header), arg) != 0) {
		e = zdiag_set(d, ZE_IO, "write failed");
		goto out;
	}
	if ((e = store_agent_iter(s, net_add, &x, d)) != ZE_OK)
		goto out;
	if (x.nomem) {
		e = zdiag_set(d, ZE_NOMEM, "out of memory");
		goto out;
	}
	if (x.nnet > 1)
		qsort(x.net, x.nnet, sizeof(*x.net), netkey_cmp);
	if ((e = store_first_start(s, &t, d)) != ZE_OK)
		goto out;
	if (t < flt->since)
		t = flt->since;
	if (end > limit)
		end = limit;
	t -= t % SLICE_US;
	for (; t < end && !x.err; t += SLICE_US) {
		analysis_t *a = NULL;
		uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
		ooni_ctl_t *ctl = NULL;

		if ((e = analyze_range(s, t, t + SLICE_US, o, &a, d)) != ZE_OK)
			goto out;
		/* ids are within WIRE_ID_SKEW_MS of the start (ingest checks
		 * it): this id range holds every start of the slice */
		store_ids_of_starts(t, t + SLICE_US, from, to);
		if (fmt == EXPORT_OONI &&
		    ooni_ctl_build(a, o->window_us, &ctl) != ZE_OK) {
			analysis_free(&a);
			e = zdiag_set(d, ZE_NOMEM, "out of memory");
			goto out;
		}
		x.a = a;
		x.ctl = ctl;
		x.slice_lo = t;
		x.slice_hi = t + SLICE_US;
		e = store_meas_iter(s, from, to, export_one, &x, d);
		ooni_ctl_free(&ctl);
		analysis_free(&a);
		if (e != ZE_OK)
			goto out;
	}
	if (x.err)
		e = zdiag_set(d, ZE_IO, "write failed");
out:
	if (count != NULL)
		*count = x.count;
	zbuf_free(&x.line);
	free(x.net);
	return e;
}
