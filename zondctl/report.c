/*
 * report.c — `zondctl map` and `zondctl export`: read the aggregator's
 * LMDB environment (beside the running daemon: LMDB allows many readers),
 * judge measurements (aggregator/analyze.c) and print.
 *
 * The export itself is aggregator/export.c, shared with the HTTP API.
 */
#include <getopt.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "export.h"
#include "cli.h"
#include "json.h"
#include "map.h"
#include "report.h"
#include "store.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

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

static int
write_file(const void *p, size_t n, void *arg)
{
	return fwrite(p, 1, n, (FILE *)arg) == n ? 0 : -1;
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
	struct export_filter flt;
	enum export_fmt ef;
	FILE *out = stdout;
	store_t *s = NULL;
	uint64_t n = 0;
	zdiag_t d;
	int ch, rc = 1;

	memset(&flt, 0, sizeof(flt));
	flt.until = INT64_MAX;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'f': fmt = optarg; break;
		case 'S':
			if (parse_time("--since", optarg, &flt.since) != 0)
				return 2;
			break;
		case 'U':
			if (parse_time("--until", optarg, &flt.until) != 0)
				return 2;
			break;
		case 'r': flt.region = optarg; break;
		case 'a': {
			char *end;
			flt.asn = strtoll(optarg, &end, 10);
			if (*end != '\0' || flt.asn <= 0 ||
			    flt.asn > 4294967295LL) {
				fprintf(stderr, "zondctl: --asn: '%s' is not an "
				    "AS number\n", optarg);
				return 2;
			}
			break;
		}
		case 's': flt.service = optarg; break;
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
	if (strcmp(fmt, "ooni") == 0)
		return cli_notimpl("zondctl", "export --format ooni");
	if (export_fmt_from_name(fmt, &ef) != ZE_OK) {
		fprintf(stderr, "zondctl: --format: '%s' is not jsonl, csv or "
		    "ooni\n", fmt);
		return 2;
	}
	if (optind != argc || open_ro(dir, &s) != 0)
		return 2;
	if (outpath != NULL && strcmp(outpath, "-") != 0 &&
	    (out = fopen(outpath, "w")) == NULL) {
		perror(outpath);
		goto out;
	}
	if (export_run(s, ef, &flt, NULL, write_file, out, &n, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: export: %s\n", d.text);
		goto out;
	}
	if (fflush(out) != 0) {
		fprintf(stderr, "zondctl: export: write failed\n");
		goto out;
	}
	rc = 0;
out:
	if (out != stdout && out != NULL)
		fclose(out);
	store_close(&s);
	return rc;
}
