/*
 * report.c — `zondctl map` and `zondctl export`: read the aggregator's
 * LMDB environment (beside the running daemon: LMDB allows many readers),
 * judge measurements (aggregator/analyze.c) and print.
 *
 * The export itself is aggregator/export.c, shared with the HTTP API;
 * here are its file ends: stdout or -o FILE, or --daily DIR (one gzip
 * JSONL per UTC day plus manifest.json, each replaced atomically by
 * rename, so readers never see half a file), and the progress line on a
 * terminal.  Paths are bounded (4096 bytes, longer ones are cut and fail
 * to open).
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "analyze.h"
#include "bytes.h"
#include "rollup.h"
#include "export.h"
#include "fingerprint.h"
#include "ipasn.h"
#include "cli.h"
#include "jscan.h"
#include "json.h"
#include "kv.h"
#include "map.h"
#include "report.h"
#include "store.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

/* The store, read-only, for cmd; --data is required. */
static int
open_ro(const char *cmd, const char *dir, store_t **s)
{
	if (dir == NULL) {
		fprintf(stderr, "zondctl: %s: --data DIR is required\n", cmd);
		return -1;
	}
	return ctl_open_store(cmd, dir, true, s) == 0 ? 0 : -1;
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
	/* ANOM: agents flagged agent_anomaly (docs/METHODOLOGY.md) */
	fprintf(f, "%-8s %8s  %-14s %-12s %-8s %6s %6s %4s %7s %5s\n",
	    "REGION", "ASN", "SERVICE", "VERDICT", "METHOD", "MEAS", "AGENTS",
	    "ANOM", "BLOCKED", "CONF");
	for (size_t i = 0; i < n; i++) {
		const cell_t *c = &cells[i];
		/* the service is the agents' text: quoted when it has blanks
		 * or controls (kv.h), and not cut, so no two look alike */
		char svc[KV_QUOTED_LEN(sizeof(c->service))];
		kv_quote(c->service, false, svc, sizeof(svc));
		fprintf(f, "%-8s %8" PRId64 "  %-14s %-12s %-8s %6u %6u %4u "
		    "%6.0f%% %5.2f\n", c->region, c->asn, svc,
		    cell_verdict_name(c->verdict),
		    c->method == METHOD_NONE ? "-" : method_name(c->method),
		    c->measurements, c->agents, c->agent_anomaly,
		    100.0 * c->blocked_share, c->confidence);
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
		{"network", required_argument, NULL, 'W'},
		{"sample", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *service = NULL;
	int network = -1;
	struct cell_opts co;
	int64_t now = ztime_now_us(), since = now - 86400LL * 1000000,
	    until = now + 1;
	bool json = false;
	store_t *s = NULL;
	cell_t *cells = NULL;
	size_t n = 0;
	uint64_t pending = 0;
	zdiag_t d;
	int ch, rc = 1;

	if (ctl_cell_opts(&co) != 0)
		return 2;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 's': service = optarg; break;
		case 'S':
			if (parse_time("--since", optarg, &since) != 0)
				return 2;
			break;
		case 'U':
			if (parse_time("--until", optarg, &until) != 0)
				return 2;
			break;
		case 'j': json = true; break;
		case 'W':
			if ((network = store_network_parse(optarg)) < 0) {
				fprintf(stderr, "zondctl: --network: '%s' is "
				    "not fixed, mobile or unknown\n", optarg);
				return 2;
			}
			break;
		case 'A':
			if (cell_sample_parse(optarg, &co.latest) != ZE_OK) {
				fprintf(stderr, "zondctl: --sample: '%s' is "
				    "not common or latest\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: zondctl map --data DIR [--service S] "
			    "[--since T] [--until T] [--json]\n"
			    "           [--network fixed|mobile|unknown] "
			    "[--sample common|latest]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || open_ro(argv[0], dir, &s) != 0)
		return 2;
	if (rollup_map_net(s, since, until, service, network, &co, &cells,
	    &n, &pending, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: map: %s\n", d.text);
		goto out;
	}
	if (json) {
		zbuf_t b;
		zbuf_init(&b, 256 * 1024 * 1024);
		if (map_json(&b, since, until, cells, n, &pending) != ZE_OK) {
			fprintf(stderr, "zondctl: map: too large\n");
			zbuf_free(&b);
			goto out;
		}
		fwrite(b.data, 1, b.len, stdout);
		fputc('\n', stdout);
		zbuf_free(&b);
	} else {
		print_table(cells, n, stdout);
		if (pending > 0)
			printf("%" PRIu64 " measurements not judged yet "
			    "(waiting for control data)\n", pending);
	}
	rc = 0;
out:
	rollup_cells_free(cells, n);
	store_close(&s);
	return rc;
}

/* -------------------------------------------------------------- export */

/*
 * Progress on a terminal: records, rate and ETA against the store's
 * measurement count (an upper bound when filters are set), drawn at the
 * first record and then at most every 200 ms, erased at the end.  Off
 * unless stderr is a TTY.
 */
struct progress {
	bool on, drawn;
	uint64_t total, n;
	int64_t t0, last;
};

static void
progress_init(struct progress *p, store_t *s)
{
	struct store_counts c;
	zdiag_t d;

	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) == 1;
	if (p->on && store_counts(s, &c, &d) == ZE_OK)
		p->total = c.meas;
	p->t0 = p->last = ztime_mono_us();
}

static void
progress_tick(struct progress *p)
{
	int64_t now;
	double el, rate;
	char eta[32] = "-";
	int w = 24, fill;

	p->n++;
	if (!p->on || (p->n != 1 && (p->n & 63) != 0))
		return;
	now = ztime_mono_us();
	if (p->n != 1 && now - p->last < 200000)
		return;
	p->last = now;
	el = (double)(now - p->t0) / 1e6;
	rate = el > 0 ? (double)p->n / el : 0;
	if (rate > 0 && p->total > p->n)
		snprintf(eta, sizeof(eta), "%.0fs",
		    (double)(p->total - p->n) / rate);
	fill = p->total > 0 ? (int)((double)w * (double)(p->n < p->total ?
	    p->n : p->total) / (double)p->total) : 0;
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " records  "
	    "%.0f/s  ETA %s\033[K", fill, "########################",
	    w - fill, "", p->n, p->total, rate, eta);
	p->drawn = true;
}

static void
progress_end(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

/* Where export records go: a stdio stream or a gzip file, hashing the
 * uncompressed bytes for --daily. */
struct sink {
	FILE *f;
	gzFile gz;
	bool hash;
	crypto_hash_sha256_state h;
	struct progress *p;
};

static int
sink_write(const void *p, size_t n, void *arg)
{
	struct sink *k = arg;

	if (p != export_csv_header() && k->p != NULL)
		progress_tick(k->p);
	if (k->hash)
		crypto_hash_sha256_update(&k->h, p, n);
	if (k->gz != NULL)
		return n == 0 || gzwrite(k->gz, p, (unsigned)n) == (int)n ?
		    0 : -1;
	return fwrite(p, 1, n, k->f) == n ? 0 : -1;
}

/* One file of a daily bundle, as the manifest lists it. */
struct dayfile {
	char day[11];		/* YYYY-MM-DD */
	uint64_t records, bytes;
	char sha256[65];	/* of the .gz file */
	char content[65];	/* of the uncompressed JSONL */
};

struct manifest {
	struct dayfile *v;
	size_t n, cap;
};

static struct dayfile *
manifest_find(struct manifest *m, const char *day)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].day, day) == 0)
			return &m->v[i];
	return NULL;
}

static struct dayfile *
manifest_add(struct manifest *m, const char *day)
{
	struct dayfile *f;

	if ((f = manifest_find(m, day)) != NULL)
		return f;
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 64;
		struct dayfile *nv = reallocarray(m->v, nc, sizeof(*nv));
		if (nv == NULL)
			return NULL;
		m->v = nv;
		m->cap = nc;
	}
	f = &m->v[m->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->day, sizeof(f->day), "%s", day);
	return f;
}

static int
cmp_day(const void *a, const void *b)
{
	return strcmp(((const struct dayfile *)a)->day,
	    ((const struct dayfile *)b)->day);
}

static void
mstr(const struct jmember *mem, size_t cnt, const char *key, char *out,
    size_t len)
{
	const struct jmember *j = jscan_find(mem, cnt, key);

	out[0] = '\0';
	if (j != NULL && j->type == 's' && j->vallen >= 2 && j->vallen - 2 <
	    len) {
		memcpy(out, j->val + 1, j->vallen - 2);
		out[j->vallen - 2] = '\0';
	}
}

static uint64_t
mnum(const struct jmember *mem, size_t cnt, const char *key)
{
	const struct jmember *j = jscan_find(mem, cnt, key);
	char t[24];

	if (j == NULL || j->type != 'n' || j->vallen >= sizeof(t))
		return 0;
	memcpy(t, j->val, j->vallen);
	t[j->vallen] = '\0';
	return strtoull(t, NULL, 10);
}

/* Read DIR/manifest.json as this program writes it: one file per line.
 * A missing manifest is an empty one. */
static int
manifest_read(const char *dir, struct manifest *m)
{
	char path[4096], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct jmember mem[16];
		size_t cnt, n = strlen(line);
		struct dayfile *df;
		char day[16];

		if (strncmp(line, "{\"day\":", 7) != 0)
			continue;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ',' ||
		    line[n - 1] == '\r'))
			n--;
		if (jscan_object(line, n, mem, ZARRAY_LEN(mem), &cnt, NULL) !=
		    ZE_OK)
			continue;
		mstr(mem, cnt, "day", day, sizeof(day));
		if (strlen(day) != 10 || (df = manifest_add(m, day)) == NULL)
			continue;
		df->records = mnum(mem, cnt, "records");
		df->bytes = mnum(mem, cnt, "bytes");
		mstr(mem, cnt, "sha256", df->sha256, sizeof(df->sha256));
		mstr(mem, cnt, "content_sha256", df->content,
		    sizeof(df->content));
	}
	fclose(f);
	return 0;
}

/* The largest manifest.json written or read back. */
#define MANIFEST_MAX (64 * 1024 * 1024)

/* Write DIR/manifest.json atomically (temp file, fsync, rename) unless it
 * already holds exactly these bytes. */
static int
manifest_write(const char *dir, struct manifest *m)
{
	char path[4096];
	zbuf_t b, old;
	zdiag_t d;
	zerr_t e;

	qsort(m->v, m->n, sizeof(*m->v), cmp_day);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	zbuf_init(&b, MANIFEST_MAX);
	zbuf_init(&old, MANIFEST_MAX);
	e = zbuf_puts(&b, "{\"format\":\"zond-daily/1\",\"record_format\":"
	    "\"jsonl\",\"files\":[\n");
	for (size_t i = 0; i < m->n && e == ZE_OK; i++)
		e = zbuf_printf(&b, "{\"day\":\"%s\",\"file\":\"zond-%s."
		    "jsonl.gz\",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"sha256\":\"%s\",\"content_sha256\":\"%s\"}%s\n",
		    m->v[i].day, m->v[i].day, m->v[i].records, m->v[i].bytes,
		    m->v[i].sha256, m->v[i].content, i + 1 < m->n ? "," : "");
	if (e == ZE_OK)
		e = zbuf_puts(&b, "]}\n");
	if (e != ZE_OK) {
		fprintf(stderr, "zondctl: export: manifest too large\n");
		goto fail;
	}
	if (bytes_read_file(path, MANIFEST_MAX, &old, NULL) == ZE_OK &&
	    old.len == b.len && memcmp(old.data, b.data, b.len) == 0)
		goto done;
	if (bytes_write_file(path, b.data, b.len, 0644, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: export: %s\n", d.text);
		goto fail;
	}
done:
	zbuf_free(&b);
	zbuf_free(&old);
	return 0;
fail:
	zbuf_free(&b);
	zbuf_free(&old);
	return -1;
}

/* sha256 (hex) and size of a file. */
static int
file_sha256(const char *path, char hex[65], uint64_t *size)
{
	crypto_hash_sha256_state h;
	uint8_t buf[65536], out[crypto_hash_sha256_BYTES];
	FILE *f;
	size_t n;

	*size = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	crypto_hash_sha256_init(&h);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		crypto_hash_sha256_update(&h, buf, n);
		*size += n;
	}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	crypto_hash_sha256_final(&h, out);
	sodium_bin2hex(hex, 65, out, sizeof(out));
	return 0;
}

#define DAY_US (86400LL * 1000000)

/*
 * --daily DIR: one gzip JSONL file per UTC day with records, and
 * DIR/manifest.json.  Each day is written to a temp file while its
 * uncompressed bytes are hashed; a day whose content hash equals the
 * manifest's (and whose file is still there) keeps its old file, any other
 * replaces it by rename.  Days without records in the range are left as
 * they are.
 */
static int
export_daily(store_t *s, const char *dir, const struct export_filter *flt,
    const struct analyze_opts *ao,
    struct progress *pg)
{
	struct manifest man = { NULL, 0, 0 };
	int64_t t = INT64_MAX, end = flt->until, limit = ztime_now_us() +
	    DAY_US;
	uint64_t written = 0, kept = 0, total = 0;
	zdiag_t d;
	int rc = -1;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return -1;
	}
	if (manifest_read(dir, &man) != 0)
		goto out;
	if (store_first_start(s, &t, &d) != ZE_OK) {
		fprintf(stderr, "zondctl: export: %s\n", d.text);
		goto out;
	}
	if (t < flt->since)
		t = flt->since;
	if (end > limit)
		end = limit;
	for (t -= t % DAY_US; t < end; t += DAY_US) {
		struct export_filter df = *flt;
		struct sink k;
		char day[40], tmp[4096], path[4096], content[65], fsha[65];
		uint8_t hb[crypto_hash_sha256_BYTES];
		struct dayfile *old;
		uint64_t n = 0, size;
		int fd, fd2;

		ztime_fmt_iso(t, day, sizeof(day), 0);
		day[10] = '\0';
		df.since = t > flt->since ? t : flt->since;
		df.until = t + DAY_US < flt->until ? t + DAY_US : flt->until;
		snprintf(path, sizeof(path), "%s/zond-%s.jsonl.gz", dir, day);
		snprintf(tmp, sizeof(tmp), "%s/.zond-%s.XXXXXX", dir, day);
		if ((fd = mkstemp(tmp)) < 0) {
			perror(tmp);
			goto out;
		}
		memset(&k, 0, sizeof(k));
		k.p = pg;
		k.hash = true;
		crypto_hash_sha256_init(&k.h);
		if ((fd2 = dup(fd)) < 0 ||
		    (k.gz = gzdopen(fd2, "wb6")) == NULL) {
			perror(tmp);
			if (fd2 >= 0)
				close(fd2);
			close(fd);
			unlink(tmp);
			goto out;
		}
		gzbuffer(k.gz, 256 * 1024);
		if (export_run(s, EXPORT_JSONL, &df, ao, sink_write, &k, &n,
		    &d) != ZE_OK) {
			progress_end(pg);
			fprintf(stderr, "zondctl: export: %s: %s\n", day,
			    d.text);
			gzclose(k.gz);
			close(fd);
			unlink(tmp);
			goto out;
		}
		if (gzclose(k.gz) != Z_OK || fsync(fd) != 0) {
			progress_end(pg);
			fprintf(stderr, "zondctl: export: %s: write failed\n",
			    tmp);
			close(fd);
			unlink(tmp);
			goto out;
		}
		close(fd);
		crypto_hash_sha256_final(&k.h, hb);
		sodium_bin2hex(content, sizeof(content), hb, sizeof(hb));
		old = manifest_find(&man, day);
		if (n == 0 || (old != NULL && strcmp(old->content, content) ==
		    0 && file_sha256(path, fsha, &size) == 0 &&
		    size == old->bytes && strcmp(fsha, old->sha256) == 0)) {
			unlink(tmp);
			if (n > 0) {
				kept++;
				total += n;
			}
			continue;
		}
		if (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
			perror(path);
			unlink(tmp);
			goto out;
		}
		if ((old = manifest_add(&man, day)) == NULL ||
		    file_sha256(path, old->sha256, &old->bytes) != 0) {
			fprintf(stderr, "zondctl: export: %s: cannot read "
			    "back\n", path);
			goto out;
		}
		old->records = n;
		memcpy(old->content, content, sizeof(old->content));
		written++;
		total += n;
	}
	if (manifest_write(dir, &man) != 0)
		goto out;
	progress_end(pg);
	fprintf(stderr, "zondctl: export: %" PRIu64 " records; %" PRIu64
	    " day files written, %" PRIu64 " unchanged\n", total, written,
	    kept);
	rc = 0;
out:
	progress_end(pg);
	free(man.v);
	return rc;
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
		{"daily", required_argument, NULL, 'D'},
		{"network", required_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *outpath = NULL, *fmt = "jsonl", *daily = NULL;
	struct export_filter flt;
	struct analyze_opts ao;
	struct ipasn *asn = NULL;
	struct fpdb *fp = NULL;
	struct progress pg;
	struct sink k;
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
		case 'D': daily = optarg; break;
		case 'W': {
			int net = store_network_parse(optarg);

			if (net < 0) {
				fprintf(stderr, "zondctl: --network: '%s' is "
				    "not fixed, mobile or unknown\n", optarg);
				return 2;
			}
			flt.has_network = true;
			flt.network = (enum store_network)net;
			break;
		}
		case 'h':
			printf("usage: zondctl export --data DIR [--format "
			    "jsonl|csv|ooni] [--since T] [--until T]\n"
			    "           [--region R] [--asn N] [--service S] "
			    "[--network fixed|mobile|unknown]\n"
			    "           [-o FILE | --daily DIR]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (export_fmt_from_name(fmt, &ef) != ZE_OK) {
		fprintf(stderr, "zondctl: --format: '%s' is not jsonl, csv or "
		    "ooni\n", fmt);
		return 2;
	}
	if (daily != NULL && (outpath != NULL || ef != EXPORT_JSONL)) {
		fprintf(stderr, "zondctl: --daily writes JSONL files; it takes "
		    "no -o and no --format other than jsonl\n");
		return 2;
	}
	if (optind != argc || ctl_analyze_opts(&ao, &asn, &fp) != 0) {
		ipasn_free(&asn);
		fpdb_free(&fp);
		return 2;
	}
	if (open_ro(argv[0], dir, &s) != 0) {
		ipasn_free(&asn);
		fpdb_free(&fp);
		return 2;
	}
	progress_init(&pg, s);
	if (daily != NULL) {
		rc = export_daily(s, daily, &flt, &ao, &pg) == 0 ? 0 : 1;
		goto out;
	}
	if (outpath != NULL && strcmp(outpath, "-") != 0 &&
	    (out = fopen(outpath, "w")) == NULL) {
		perror(outpath);
		goto out;
	}
	memset(&k, 0, sizeof(k));
	k.f = out;
	k.p = &pg;
	if (export_run(s, ef, &flt, &ao, sink_write, &k, &n, &d) != ZE_OK) {
		progress_end(&pg);
		fprintf(stderr, "zondctl: export: %s\n", d.text);
		goto out;
	}
	progress_end(&pg);
	if (fflush(out) != 0) {
		fprintf(stderr, "zondctl: export: write failed\n");
		goto out;
	}
	rc = 0;
out:
	progress_end(&pg);
	if (out != stdout && out != NULL)
		fclose(out);
	store_close(&s);
	ipasn_free(&asn);
	fpdb_free(&fp);
	return rc;
}
