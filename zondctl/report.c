/*
 * report.c — `zondctl map` and `zondctl export`: read the aggregator's
 * LMDB environment (beside the running daemon: LMDB allows many readers),
 * judge measurements (aggregator/analyze.c) and print.
 *
 * Export streams in time slices of one hour: each slice is judged with
 * the control window around it, printed, and freed, so memory stays
 * bounded by the measurements of one slice and its window, whatever the
 * size of the dataset.
 */
#include <getopt.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "cli.h"
#include "json.h"
#include "map.h"
#include "report.h"
#include "store.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#define SLICE_US (3600LL * 1000000)

static int
open_ro(const char *dir, store_t **s)
{
	struct store_opts o;
	zdiag_t d;

	memset(&o, 0, sizeof(o));
	o.readonly = true;
	if (dir == NULL) {
		fprintf(stderr, "zondctl: --data DIR is required\n");
		return -1;
	}
	if (store_open(dir, &o, s, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: %s\n", d.text);
		return -1;
	}
	return 0;
}

static int
parse_time(const char *opt, const char *v, int64_t *us)
{
	zdiag_t d;

	if (ztime_parse_iso(v, us, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: %s: %s\n", opt, d.text);
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------- map */

static void
print_table(const cell_t *cells, size_t n, FILE *f)
{
	fprintf(f, "%-8s %8s  %-14s %-12s %-8s %6s %6s %7s %5s\n", "REGION",
	    "ASN", "SERVICE", "VERDICT", "METHOD", "MEAS", "AGENTS", "BLOCKED",
	    "CONF");
	for (size_t i = 0; i < n; i++) {
		const cell_t *c = &cells[i];
		fprintf(f, "%-8s %8" PRId64 "  %-14.14s %-12s %-8s %6u %6u "
		    "%6.0f%% %5.2f\n", c->region, c->asn, c->service,
		    cell_verdict_name(c->verdict),
		    c->method == METHOD_NONE ? "-" : method_name(c->method),
		    c->measurements, c->agents, 100.0 * c->blocked_share,
		    c->confidence);
	}
	if (n == 0)
		fprintf(f, "(no cells: no judged measurements from probe agents "
		    "in this time range)\n");
}

int
cmd_map(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"service", required_argument, NULL, 's'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	struct analyze_opts o;
	int64_t now = ztime_now_us(), since = now - 86400LL * 1000000,
	    until = now + 1;
	bool json = false;
	store_t *s = NULL;
	analysis_t *a = NULL;
	zdiag_t d;
	int ch, rc = 1;

	analyze_opts_default(&o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 's': o.service = optarg; break;
		case 'S':
			if (parse_time("--since", optarg, &since) != 0)
				return 2;
			break;
		case 'U':
			if (parse_time("--until", optarg, &until) != 0)
				return 2;
			break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: zondctl map --data DIR [--service S] "
			    "[--since T] [--until T] [--json]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || open_ro(dir, &s) != 0)
		return 2;
	if (analyze_range(s, since, until, &o, &a, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: map: %s\n", d.text);
		goto out;
	}
	{
		size_t n;
		const cell_t *cells = analysis_cells(a, &n);
		if (json) {
			zbuf_t b;
			zbuf_init(&b, 256 * 1024 * 1024);
			if (map_json(&b, since, until, cells, n) != ZE_OK) {
				fprintf(stderr, "zondctl: map: too large\n");
				zbuf_free(&b);
				goto out;
			}
			fwrite(b.data, 1, b.len, stdout);
			fputc('\n', stdout);
			zbuf_free(&b);
		} else {
			print_table(cells, n, stdout);
			if (analysis_pending(a) > 0)
				printf("%" PRIu64 " measurements still pending "
				    "(waiting for control data)\n",
				    analysis_pending(a));
		}
	}
	rc = 0;
out:
	analysis_free(&a);
	store_close(&s);
	return rc;
}

/* -------------------------------------------------------------- export */

enum fmt { FMT_JSONL, FMT_CSV };

struct exp {
	enum fmt fmt;
	FILE *out;
	const char *region, *service;
	int64_t asn;
	int64_t since, until;		/* filter on start */
	int64_t slice_lo, slice_hi;	/* this slice */
	const analysis_t *a;
	zbuf_t line;
	uint64_t count;
	int err;
};

static const char *
role_name(enum store_role r)
{
	return r == STORE_ROLE_CONTROL ? "control" : "probe";
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

static int
export_one(const struct store_meas *sm, void *arg)
{
	struct exp *x = arg;
	wire_meas_t *m = NULL;
	verdict_t v = VERDICT_PENDING;
	method_t meth = METHOD_NONE;
	zerr_t e;

	if (sm->start_us < x->since || sm->start_us >= x->until ||
	    sm->start_us < x->slice_lo || sm->start_us >= x->slice_hi)
		return 0;
	if (x->region && strcmp(x->region, sm->region) != 0)
		return 0;
	if (x->asn > 0 && (int64_t)sm->asn != x->asn)
		return 0;
	if (wire_meas_decode(sm->body, sm->body_len, &m, NULL) != ZE_OK)
		return 0;
	if (x->service && (m->service == NULL ||
	    strcmp(x->service, m->service) != 0)) {
		wire_meas_free(m);
		return 0;
	}
	(void)analysis_verdict(x->a, sm->id, &v, &meth);
	zbuf_reset(&x->line);
	if (x->fmt == FMT_JSONL) {
		struct json_meas_extra ex = {
			.region = sm->region, .asn = sm->asn,
			.role = role_name(sm->role), .verdict = verdict_name(v),
			.method = meth == METHOD_NONE ? NULL : method_name(meth),
			.body = sm->body, .body_len = sm->body_len,
			.sig = sm->sig,
		};
		e = json_measurement(&x->line, m, &ex);
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
			e = zbuf_printf(&x->line, ",%s,%s,%s,%u,%.3f",
			    wire_failure_name(m->outcome->failure),
			    verdict_name(v), meth == METHOD_NONE ? "" :
			    method_name(meth), m->outcome->attempts,
			    m->duration_us / 1000.0);
	}
	wire_meas_free(m);
	if (e != ZE_OK || zbuf_putc(&x->line, '\n') != ZE_OK) {
		x->err = 1;
		return 1;
	}
	if (fwrite(x->line.data, 1, x->line.len, x->out) != x->line.len) {
		x->err = 1;
		return 1;
	}
	x->count++;
	return 0;
}

/* Time of the first stored measurement (id order); 0 if none. */
static int
first_time(const struct store_meas *sm, void *arg)
{
	*(int64_t *)arg = sm->start_us;
	return 1;
}

int
cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"region", required_argument, NULL, 'r'},
		{"asn", required_argument, NULL, 'a'},
		{"service", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *outpath = NULL, *fmt = "jsonl";
	struct exp x;
	struct analyze_opts o;
	store_t *s = NULL;
	zdiag_t d;
	int ch, rc = 1;

	memset(&x, 0, sizeof(x));
	x.since = 0;
	x.until = INT64_MAX;
	analyze_opts_default(&o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'f': fmt = optarg; break;
		case 'S':
			if (parse_time("--since", optarg, &x.since) != 0)
				return 2;
			break;
		case 'U':
			if (parse_time("--until", optarg, &x.until) != 0)
				return 2;
			break;
		case 'r': x.region = optarg; break;
		case 'a': {
			char *end;
			x.asn = strtoll(optarg, &end, 10);
			if (*end != '\0' || x.asn <= 0 || x.asn > 4294967295LL) {
				fprintf(stderr, "zondctl: --asn: '%s' is not an "
				    "AS number\n", optarg);
				return 2;
			}
			break;
		}
		case 's': x.service = optarg; break;
		case 'o': outpath = optarg; break;
		case 'h':
			printf("usage: zondctl export --data DIR --format "
			    "jsonl|csv|ooni [--since T] [--until T] [--region R]"
			    " [--asn N] [--service S] [-o FILE]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (strcmp(fmt, "jsonl") == 0)
		x.fmt = FMT_JSONL;
	else if (strcmp(fmt, "csv") == 0)
		x.fmt = FMT_CSV;
	else if (strcmp(fmt, "ooni") == 0)
		return cli_notimpl("zondctl", "export --format ooni");
	else {
		fprintf(stderr, "zondctl: --format: '%s' is not jsonl, csv or "
		    "ooni\n", fmt);
		return 2;
	}
	if (optind != argc || open_ro(dir, &s) != 0)
		return 2;
	x.out = stdout;
	if (outpath != NULL && strcmp(outpath, "-") != 0 &&
	    (x.out = fopen(outpath, "w")) == NULL) {
		perror(outpath);
		goto out;
	}
	zbuf_init(&x.line, 4 * WIRE_MAX_MEASUREMENT);
	if (x.fmt == FMT_CSV)
		fputs("id,agent,seq,start,region,asn,role,service,test,target,"
		    "failure,verdict,method,attempts,duration_ms\n", x.out);
	{
		int64_t t = 0, end = x.until;
		int64_t now = ztime_now_us() + 86400LL * 1000000;
		if (store_meas_iter(s, NULL, NULL, first_time, &t, &d) !=
		    ZE_OK) {
			fprintf(stderr, "zondctl: export: %s\n", d.text);
			goto out;
		}
		if (t < x.since)
			t = x.since;
		if (end > now)
			end = now;
		t -= t % SLICE_US;
		for (; t < end && !x.err; t += SLICE_US) {
			analysis_t *a = NULL;
			uint8_t from[STORE_ID_LEN], to[STORE_ID_LEN];
			int64_t lo_ms = t / 1000 - 60000, hi_ms =
			    (t + SLICE_US) / 1000 + 60000;
			if (analyze_range(s, t, t + SLICE_US, &o, &a, &d) !=
			    ZE_OK) {
				fprintf(stderr, "zondctl: export: %s\n", d.text);
				goto out;
			}
			/* ids carry the start time to the millisecond; scan a
			 * minute either side for ids assigned late */
			memset(from, 0, sizeof(from));
			memset(to, 0, sizeof(to));
			for (int i = 0; i < 6; i++) {
				from[i] = (uint8_t)(lo_ms >> (8 * (5 - i)));
				to[i] = (uint8_t)(hi_ms >> (8 * (5 - i)));
			}
			x.a = a;
			x.slice_lo = t;
			x.slice_hi = t + SLICE_US;
			if (store_meas_iter(s, from, to, export_one, &x, &d) !=
			    ZE_OK) {
				fprintf(stderr, "zondctl: export: %s\n", d.text);
				analysis_free(&a);
				goto out;
			}
			analysis_free(&a);
		}
	}
	if (x.err || fflush(x.out) != 0) {
		fprintf(stderr, "zondctl: export: write failed\n");
		goto out;
	}
	rc = 0;
out:
	if (x.out != NULL && x.out != stdout)
		fclose(x.out);
	zbuf_free(&x.line);
	store_close(&s);
	return rc;
}
