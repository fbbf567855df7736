/*
 * verify.c — `zondctl verify FILE`: check every record of a JSONL export
 * offline, trusting nothing but the agents' public keys in the records.
 *
 * A record is valid when its `sig` is the `agent`'s Ed25519 signature over
 * `signed`, `signed` starts with the measurement domain prefix, the signed
 * Measurement decodes, and the record's signed fields (id, agent, seq,
 * start, service, test, target; in JSONL records also duration_ms,
 * outcome, net, resolution, locate, clock, agent_version, list_version,
 * compared as
 * JSON values) say
 * what the signed bytes say.  Signed
 * text with a NUL byte or invalid UTF-8 makes a record invalid: the
 * protocol forbids it, and no export could carry it exactly.  Fields the
 * aggregator adds (region, asn, role, verdict, method) are not signed by
 * agents and so are not covered (docs/DATA.md), nor is the placed time
 * (time, time_by).
 *
 * Records in OONI's format (`export --format ooni`) carry the same keys in
 * their "zond" object (its `target` too); there `input` must be OONI's
 * input for the signed measurement (ooni_input: `stun://host:port`,
 * `dnslookup://name`, ...) and `measurement_start_time` (to the second)
 * stands for start.
 *
 * Lines are read in blocks and checked on every core; results are printed
 * in file order.  Accepts gzip files (by their magic bytes).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "export_ooni.h"
#include "jscan.h"
#include "json.h"
#include "sign.h"
#include "verify.h"
#include "wire.h"
#include "zid.h"
#include "ztime.h"

#define BLOCK_LINES 4096
#define MAX_LINE (1024 * 1024)
#define MAX_THREADS 64

struct vline {
	char *text;
	size_t len;
	long lineno;
	char why[200];		/* empty: valid */
};

struct vblock {
	struct vline *lines;
	size_t n;
	size_t next;		/* next line to check */
	pthread_mutex_t mu;
};

static int
b64_decode(const struct jmember *m, zbuf_t *tmp, zbuf_t *out)
{
	size_t bin = 0;
	uint8_t *w;

	zbuf_reset(tmp);
	zbuf_reset(out);
	if (m == NULL || m->type != 's' || jscan_string(m, tmp) != ZE_OK)
		return -1;
	if (zbuf_reserve(out, tmp->len, &w) != ZE_OK)
		return -1;
	if (sodium_base642bin(w, tmp->len, (const char *)tmp->data, tmp->len,
	    NULL, &bin, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	out->len = bin;
	return 0;
}

/* Compare a string member with s; members absent compare equal to NULL. */
static int
same_str(const struct jmember *m, const char *s, zbuf_t *tmp)
{
	zbuf_reset(tmp);
	if (m == NULL || m->type == 'z')
		return s == NULL || *s == '\0';
	if (m->type != 's' || jscan_string(m, tmp) != ZE_OK || s == NULL)
		return 0;
	return tmp->len == strlen(s) && memcmp(tmp->data, s, tmp->len) == 0;
}

/* The rest of a JSONL record's signed fields (docs/DATA.md): each the
 * same JSON as the signed measurement's own rendering (json_measurement),
 * an absent member the same as null. */
static void
other_fields(struct vline *l, const struct jmember *mem, size_t cnt,
    const wire_meas_t *m, zbuf_t *tmp)
{
	static const char *const keys[] = {"duration_ms", "outcome", "net",
	    "resolution", "locate", "clock", "agent_version", "list_version"};
	static const struct jmember null = {.val = "null", .vallen = 4,
	    .type = 'z'};
	struct jmember sm[64];
	size_t scnt;

	zbuf_reset(tmp);
	if (json_measurement(tmp, m, NULL) != ZE_OK ||
	    jscan_object((const char *)tmp->data, tmp->len, sm, ZARRAY_LEN(sm),
	    &scnt, NULL) != ZE_OK) {
		snprintf(l->why, sizeof(l->why), "signed measurement cannot "
		    "be shown as JSON");
		return;
	}
	for (size_t i = 0; i < ZARRAY_LEN(keys); i++) {
		const struct jmember *a = jscan_find(mem, cnt, keys[i]);
		const struct jmember *b = jscan_find(sm, scnt, keys[i]);

		if (!jscan_equal(a ? a : &null, b ? b : &null)) {
			snprintf(l->why, sizeof(l->why), "'%s' differs from "
			    "the signed measurement", keys[i]);
			return;
		}
	}
}

/* Check one record; fill why on failure. */
static void
check(struct vline *l)
{
	struct jmember top[64], zmem[64];
	const struct jmember *mem = top, *zo, *tgt, *stt, *dup;
	size_t cnt, tcnt;
	bool ooni = false;
	const struct jmember *ag, *sg, *sgn;
	uint8_t pk[KEY_PUB_LEN];
	zbuf_t tmp, signed_b, sig;
	wire_meas_t *m = NULL;
	const uint8_t *prefix;
	size_t pn = sign_prefix(ZDOM_MEASUREMENT, &prefix);
	zdiag_t d;
	char hex[2 * ZID_LEN + 1], ts[40], tn[32], oin[1024];

	zbuf_init(&tmp, MAX_LINE);
	zbuf_init(&signed_b, MAX_LINE);
	zbuf_init(&sig, 1024);
	l->why[0] = '\0';
	if (jscan_object(l->text, l->len, top, ZARRAY_LEN(top), &tcnt, &d) !=
	    ZE_OK) {
		snprintf(l->why, sizeof(l->why), "%.190s", d.text);
		goto out;
	}
	cnt = tcnt;
	tgt = jscan_find(top, tcnt, "target");
	stt = jscan_find(top, tcnt, "start");
	if (jscan_find(top, tcnt, "agent") == NULL &&
	    (zo = jscan_find(top, tcnt, "zond")) != NULL && zo->type == 'o') {
		/* an OONI-format record */
		if (jscan_object(zo->val, zo->vallen, zmem, ZARRAY_LEN(zmem),
		    &cnt, &d) != ZE_OK) {
			snprintf(l->why, sizeof(l->why), "'zond': %.180s",
			    d.text);
			goto out;
		}
		mem = zmem;
		ooni = true;
		tgt = jscan_find(top, tcnt, "input");
		stt = jscan_find(top, tcnt, "measurement_start_time");
	}
	/* readers take one of a repeated key's values, this check another:
	 * a record that repeats one is never valid */
	if ((dup = jscan_dup_key(top, tcnt)) != NULL ||
	    (ooni && (dup = jscan_dup_key(zmem, cnt)) != NULL)) {
		snprintf(l->why, sizeof(l->why), "key '%.*s' given twice",
		    (int)(dup->keylen < 64 ? dup->keylen : 64), dup->key);
		goto out;
	}
	ag = jscan_find(mem, cnt, "agent");
	sg = jscan_find(mem, cnt, "sig");
	sgn = jscan_find(mem, cnt, "signed");
	if (ag == NULL || ag->type != 's' || jscan_string(ag, &tmp) != ZE_OK ||
	    pubkey_from_hex((const char *)tmp.data, pk, NULL) != ZE_OK) {
		snprintf(l->why, sizeof(l->why), "no valid 'agent' key");
		goto out;
	}
	if (b64_decode(sg, &tmp, &sig) != 0 || sig.len != KEY_SIG_LEN) {
		snprintf(l->why, sizeof(l->why), "'sig' is not base64 of 64 "
		    "bytes");
		goto out;
	}
	if (b64_decode(sgn, &tmp, &signed_b) != 0) {
		snprintf(l->why, sizeof(l->why), "'signed' is not base64");
		goto out;
	}
	if (sign_verify_signed(ZDOM_MEASUREMENT, pk, signed_b.data,
	    signed_b.len, sig.data) != ZE_OK) {
		snprintf(l->why, sizeof(l->why), "bad signature");
		goto out;
	}
	if (wire_meas_decode(signed_b.data + pn, signed_b.len - pn, &m,
	    &d) != ZE_OK) {
		snprintf(l->why, sizeof(l->why), "signed bytes: %.180s", d.text);
		goto out;
	}
	/* C strings end at a NUL: only text without one compares exactly
	 * (the protocol allows neither NUL nor invalid UTF-8) */
	if (wire_meas_strings_check(signed_b.data + pn, signed_b.len - pn,
	    &d) != ZE_OK) {
		snprintf(l->why, sizeof(l->why), "signed bytes: %.180s", d.text);
		goto out;
	}
	if (memcmp(m->agent.data, pk, KEY_PUB_LEN) != 0) {
		snprintf(l->why, sizeof(l->why), "signed by its agent but "
		    "naming another agent");
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), m->id.data, ZID_LEN);
	ztime_fmt_iso(m->start_us, ts, sizeof(ts), ooni ? 0 : 3);
	if (ooni) {	/* "YYYY-MM-DD HH:MM:SS" */
		ts[10] = ' ';
		ts[19] = '\0';
	}
	json_enum_name(&zond__v1__test_kind__descriptor, (int)m->test, tn,
	    sizeof(tn));
	{
		const struct jmember *seq = jscan_find(mem, cnt, "seq");
		const struct jmember *zt = ooni ? jscan_find(mem, cnt,
		    "target") : NULL;
		char sq[32];

		if (ooni)
			ooni_input(m, oin, sizeof(oin));
		snprintf(sq, sizeof(sq), "%llu", (unsigned long long)m->seq);
		if (!same_str(jscan_find(mem, cnt, "id"), hex, &tmp))
			snprintf(l->why, sizeof(l->why), "'id' differs from "
			    "the signed measurement");
		else if (seq == NULL || seq->type != 'n' ||
		    seq->vallen != strlen(sq) ||
		    memcmp(seq->val, sq, seq->vallen) != 0)
			snprintf(l->why, sizeof(l->why), "'seq' differs from "
			    "the signed measurement");
		else if (!same_str(stt, ts, &tmp))
			snprintf(l->why, sizeof(l->why), "'start' differs "
			    "from the signed measurement");
		else if (!same_str(jscan_find(mem, cnt, "service"), m->service,
		    &tmp))
			snprintf(l->why, sizeof(l->why), "'service' differs "
			    "from the signed measurement");
		else if (!same_str(jscan_find(mem, cnt, "test"), tn, &tmp))
			snprintf(l->why, sizeof(l->why), "'test' differs from "
			    "the signed measurement");
		else if (!ooni && !same_str(tgt, m->target, &tmp))
			snprintf(l->why, sizeof(l->why), "'target' differs "
			    "from the signed measurement");
		else if (ooni && zt != NULL && !same_str(zt, m->target, &tmp))
			snprintf(l->why, sizeof(l->why), "'zond.target' differs "
			    "from the signed measurement");
		else if (ooni && !same_str(tgt, zt != NULL ? oin : m->target,
		    &tmp))	/* files of mapping 0.1.0 (no zond.target):
				 * input was the target */
			snprintf(l->why, sizeof(l->why), "'input' differs "
			    "from the signed measurement");
		else if (!ooni)
			other_fields(l, mem, cnt, m, &tmp);
	}
out:
	wire_meas_free(m);
	zbuf_free(&tmp);
	zbuf_free(&signed_b);
	zbuf_free(&sig);
}

static void *
worker(void *arg)
{
	struct vblock *b = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&b->mu);
		i = b->next++;
		pthread_mutex_unlock(&b->mu);
		if (i >= b->n)
			return NULL;
		check(&b->lines[i]);
	}
}

/* Read one line (without '\n') into *buf; 0 at EOF, -1 when too long. */
static int
read_line(gzFile f, zbuf_t *line)
{
	char chunk[8192];

	zbuf_reset(line);
	for (;;) {
		size_t n;
		if (gzgets(f, chunk, sizeof(chunk)) == NULL)
			return line->len > 0 ? 1 : 0;
		n = strlen(chunk);
		if (zbuf_append(line, chunk, n) != ZE_OK)
			return -1;
		if (n > 0 && chunk[n - 1] == '\n') {
			line->len--;
			if (line->len > 0 && line->data[line->len - 1] == '\r')
				line->len--;
			line->data[line->len] = '\0';
			return 1;
		}
	}
}

int
verify_file(const char *path, int nthreads, FILE *out, uint64_t *nvalid,
    uint64_t *ninvalid)
{
	gzFile f;
	struct vblock b;
	pthread_t th[MAX_THREADS];
	zbuf_t line;
	long lineno = 0;
	int eof = 0, rc = 0;

	*nvalid = *ninvalid = 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	f = strcmp(path, "-") == 0 ? gzdopen(dup(STDIN_FILENO), "rb") :
	    gzopen(path, "rb");	/* reads plain files too */
	if (f == NULL) {
		fprintf(stderr, "zondctl: verify: %s: cannot open\n", path);
		return -1;
	}
	if ((b.lines = calloc(BLOCK_LINES, sizeof(*b.lines))) == NULL) {
		gzclose(f);
		return -1;
	}
	pthread_mutex_init(&b.mu, NULL);
	zbuf_init(&line, MAX_LINE);
	while (!eof) {
		b.n = b.next = 0;
		while (b.n < BLOCK_LINES) {
			int r = read_line(f, &line);
			if (r == 0) {
				eof = 1;
				break;
			}
			lineno++;
			if (r < 0) {
				fprintf(out, "invalid: line %ld: longer than %d "
				    "bytes\n", lineno, MAX_LINE);
				(*ninvalid)++;
				/* skip the rest of the line */
				while (read_line(f, &line) < 0)
					;
				continue;
			}
			if (line.len == 0)
				continue;
			b.lines[b.n].text = malloc(line.len + 1);
			if (b.lines[b.n].text == NULL) {
				rc = -1;
				eof = 1;
				break;
			}
			memcpy(b.lines[b.n].text, line.data, line.len + 1);
			b.lines[b.n].len = line.len;
			b.lines[b.n].lineno = lineno;
			b.n++;
		}
		int started = 0;
		for (int i = 0; i < nthreads && (size_t)i < b.n; i++)
			if (pthread_create(&th[started], NULL, worker, &b) == 0)
				started++;
		if (started == 0)
			worker(&b);
		for (int i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		for (size_t i = 0; i < b.n; i++) {
			if (b.lines[i].why[0] == '\0') {
				(*nvalid)++;
			} else {
				struct jmember mem[64], zm[64];
				size_t cnt = 0;
				const struct jmember *id = NULL, *z;
				if (jscan_object(b.lines[i].text,
				    b.lines[i].len, mem, ZARRAY_LEN(mem), &cnt,
				    NULL) == ZE_OK)
					id = jscan_find(mem, cnt, "id");
				if (id == NULL && (z = jscan_find(mem, cnt,
				    "zond")) != NULL && z->type == 'o' &&
				    jscan_object(z->val, z->vallen, zm,
				    ZARRAY_LEN(zm), &cnt, NULL) == ZE_OK)
					id = jscan_find(zm, cnt, "id");
				/* a string's raw text holds no control byte
				 * (JSON); anything else is not shown */
				if (id != NULL && (id->type != 's' ||
				    id->vallen > 80))
					id = NULL;
				fprintf(out, "invalid: line %ld%s%.*s: %s\n",
				    b.lines[i].lineno, id ? " id " : "",
				    id ? (int)id->vallen : 0, id ? id->val : "",
				    b.lines[i].why);
				(*ninvalid)++;
			}
			free(b.lines[i].text);
		}
	}
	if (gzclose(f) != Z_OK && rc == 0) {
		fprintf(stderr, "zondctl: verify: %s: read error (truncated "
		    "gzip?)\n", path);
		rc = -1;
	}
	pthread_mutex_destroy(&b.mu);
	zbuf_free(&line);
	free(b.lines);
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	uint64_t ok = 0, bad = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	if (argc != 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
		    "usage: zondctl verify FILE   (JSONL or OONI export, .gz "
		    "accepted,"
		    " - for stdin)\n");
		return argc == 2 ? 0 : 2;
	}
	rc = verify_file(argv[1], ncpu > 0 ? (int)ncpu : 1, stdout, &ok, &bad);
	printf("%llu valid, %llu invalid\n", (unsigned long long)ok,
	    (unsigned long long)bad);
	if (rc != 0)
		return 1;
	return bad == 0 ? 0 : 1;
}
