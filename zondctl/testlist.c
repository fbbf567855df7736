/*
 * testlist.c — `zondctl testlist`: sign the operator's CSV lists into one
 * SignedTestList file, show (and verify) such a file, push it into the
 * aggregator's store, from where the aggregator hands it to agents that
 * report an older list (docs/PROTOCOL.md §5, docs/OPERATIONS.md).
 *
 * The CSVs are read by the agent's own loader (agent/targets.c) and the
 * file is verified by the agent's own check (agent/tlist.c): whatever
 * zondctl signs or pushes, an agent accepts, and the other way round.
 */
#include "testlist.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "cli.h"
#include "config.h"
#include "conf.h"
#include "key.h"
#include "report.h"
#include "store.h"
#include "targets.h"
#include "tlist.h"
#include "ztime.h"

#define PROG "zondctl"
#define SIGN_USAGE "usage: %s testlist sign --key OPERATOR.key [--version N]" \
	" [--expires 30d] [-o OUT] LIST.csv...\n"
#define SHOW_USAGE "usage: %s testlist show FILE [--operator-key HEX]\n"
#define PUSH_USAGE "usage: %s -c AGGREGATOR.CONF testlist push " \
	"[--data DIR] FILE\n"

/* One CSV file into t: a Citizen Lab URL list when its header starts
 * with "url", else an endpoint list. */
static zerr_t
load_csv(targets_t *t, const char *path, zdiag_t *d)
{
	zbuf_t b;
	size_t i = 0;
	zerr_t e;

	if ((e = bytes_read_file(path, TARGETS_MAX_FILE, &b, d)) != ZE_OK)
		return e;
	/* the first line that is neither blank nor a comment */
	for (;;) {
		while (i < b.len && (b.data[i] == '\r' || b.data[i] == '\n'))
			i++;
		if (i >= b.len || b.data[i] != '#')
			break;
		while (i < b.len && b.data[i] != '\n')
			i++;
	}
	if (b.len - i >= 4 && memcmp(b.data + i, "url,", 4) == 0)
		e = targets_parse_urls(t, path, (const char *)b.data, b.len, d);
	else
		e = targets_parse_endpoints(t, path, (const char *)b.data,
		    b.len, d);
	zbuf_free(&b);
	return e;
}

static int
cmd_sign(int argc, char **argv)
{
	static const struct option lo[] = {
		{"key", required_argument, NULL, 'k'},
		{"version", required_argument, NULL, 'v'},
		{"expires", required_argument, NULL, 'e'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyf = NULL, *ver = NULL, *exp = "30d", *out = NULL;
	int64_t now = ztime_now_us(), ttl_ms, v;
	uint64_t version;
	char when[40], hex[KEY_HEX_LEN + 1];
	zkey_t *k = NULL;
	targets_t t;
	zbuf_t sig;
	zdiag_t d;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'k': keyf = optarg; break;
		case 'v': ver = optarg; break;
		case 'e': exp = optarg; break;
		case 'o': out = optarg; break;
		case 'h': printf(SIGN_USAGE, PROG); return 0;
		default: fprintf(stderr, SIGN_USAGE, PROG); return 2;
		}
	}
	if (keyf == NULL || optind >= argc) {
		fprintf(stderr, SIGN_USAGE, PROG);
		return 2;
	}
	/* default: the time in seconds, so a later signing is newer */
	version = (uint64_t)(now / 1000000);
	if (ver != NULL) {
		if (conf_parse_int(ver, &v) != ZE_OK || v < 1) {
			fprintf(stderr, "%s: testlist sign: --version '%s' is "
			    "not a positive integer\n", PROG, ver);
			return 2;
		}
		version = (uint64_t)v;
	}
	if (conf_parse_duration(exp, &ttl_ms) != ZE_OK || ttl_ms < 1000 ||
	    ttl_ms > 3660LL * 86400000) {
		fprintf(stderr, "%s: testlist sign: --expires '%s' is not a "
		    "duration from 1s to 3660d (e.g. 30d)\n", PROG, exp);
		return 2;
	}
	if (out == NULL && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: testlist sign: the signed list is binary; "
		    "give -o FILE or redirect stdout\n", PROG);
		return 2;
	}
	targets_init(&t);
	zbuf_init(&sig, TLIST_MAX_FILE);
	for (int i = optind; i < argc; i++) {
		if (load_csv(&t, argv[i], &d) != ZE_OK) {
			fprintf(stderr, "%s: testlist sign: %s\n", PROG, d.text);
			goto done;
		}
	}
	if (t.n == 0) {
		fprintf(stderr, "%s: testlist sign: the lists hold no tests; "
		    "agents refuse an empty list\n", PROG);
		goto done;
	}
	if (key_load(keyf, &k, &d) != ZE_OK) {
		fprintf(stderr, "%s: testlist sign: %s\n", PROG, d.text);
		goto done;
	}
	if (tlist_sign(&t, k, version, now, now + ttl_ms * 1000, &sig, &d) !=
	    ZE_OK) {
		fprintf(stderr, "%s: testlist sign: %s\n", PROG, d.text);
		goto done;
	}
	if (out != NULL) {
		if (tlist_save(out, sig.data, sig.len, &d) != ZE_OK) {
			fprintf(stderr, "%s: testlist sign: %s\n", PROG,
			    d.text);
			goto done;
		}
	} else if (fwrite(sig.data, 1, sig.len, stdout) != sig.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "%s: testlist sign: cannot write stdout\n",
		    PROG);
		goto done;
	}
	key_public_hex(k, hex);
	ztime_fmt_iso(now + ttl_ms * 1000, when, sizeof(when), 0);
	fprintf(stderr, "signed version=%" PRIu64 " tests=%zu bytes=%zu "
	    "expires=%s signer=%s\n", version, t.n, sig.len, when, hex);
	rc = 0;
done:
	key_free(&k);
	targets_free(&t);
	zbuf_free(&sig);
	return rc;
}

/* Read FILE (at most one byte more than a list may have, so a larger
 * one is named as such by the verifier). */
static int
read_list(const char *cmd, const char *path, zbuf_t *b)
{
	zdiag_t d;

	if (bytes_read_file(path, TLIST_MAX_FILE + 1, b, &d) != ZE_OK) {
		fprintf(stderr, "%s: testlist %s: %s\n", PROG, cmd, d.text);
		return -1;
	}
	return 0;
}

static int
opkey(const char *cmd, const char *hex, uint8_t pk[KEY_PUB_LEN])
{
	zdiag_t d;

	if (pubkey_from_hex(hex, pk, &d) != ZE_OK) {
		fprintf(stderr, "%s: testlist %s: operator key: %s\n", PROG,
		    cmd, d.text);
		return -1;
	}
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option lo[] = {
		{"operator-key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *khex = NULL;
	uint8_t pk[KEY_PUB_LEN];
	struct tlist_check c = {0};
	struct tlist_info info;
	enum tlist_reason r;
	char iss[40], exp[40], hex[KEY_HEX_LEN + 1];
	targets_t t;
	zbuf_t b, o;
	zdiag_t d;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'k': khex = optarg; break;
		case 'h': printf(SHOW_USAGE, PROG); return 0;
		default: fprintf(stderr, SHOW_USAGE, PROG); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, SHOW_USAGE, PROG);
		return 2;
	}
	if (khex != NULL) {
		if (opkey("show", khex, pk) != 0)
			return 2;
		c.operator_pk = pk;
	}
	if (read_list("show", argv[optind], &b) != 0)
		return 1;
	targets_init(&t);
	zbuf_init(&o, (size_t)16 * TLIST_MAX_FILE);
	r = tlist_verify_bytes(b.data, b.len, &c, argv[optind], &t, &info,
	    &d);
	if (r != TL_OK) {
		fprintf(stderr, "%s: testlist show: refused (%s): %s\n", PROG,
		    tlist_reason_name(r), d.text);
		goto done;
	}
	sodium_bin2hex(hex, sizeof(hex), info.signer, KEY_PUB_LEN);
	ztime_fmt_iso(info.issued_us, iss, sizeof(iss), 0);
	ztime_fmt_iso(info.expires_us, exp, sizeof(exp), 0);
	/* '#' lines are comments to the CSV reader: the output is an
	 * endpoint list that signs again to the same rows */
	if (zbuf_printf(&o, "# version=%" PRIu64 "\n# issued=%s\n"
	    "# expires=%s%s\n# signer=%s (%s)\n# tests=%zu\n", info.version,
	    iss, exp, info.expires_us <= ztime_now_us() ? " (expired)" : "",
	    hex, khex != NULL ? "the operator key given" : "signature valid; "
	    "signer not checked, give --operator-key", info.ntests) != ZE_OK ||
	    tlist_csv_header(&o) != ZE_OK)
		goto nomem;
	for (size_t i = 0; i < t.n; i++)
		if (tlist_csv_row(&t.v[i], &o) != ZE_OK)
			goto nomem;
	if (fwrite(o.data, 1, o.len, stdout) != o.len || fflush(stdout) != 0)
		fprintf(stderr, "%s: testlist show: cannot write stdout\n",
		    PROG);
	else
		rc = 0;
	goto done;
nomem:
	fprintf(stderr, "%s: testlist show: out of memory\n", PROG);
done:
	targets_free(&t);
	zbuf_free(&b);
	zbuf_free(&o);
	return rc;
}

static int
cmd_push(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *khex = NULL, *file;
	struct aggr_conf conf;
	bool loaded = false;
	uint8_t pk[KEY_PUB_LEN];
	struct tlist_check c = {0};
	struct tlist_info info;
	struct store_testlist m, cur;
	enum tlist_reason r;
	uint64_t stored;
	store_t *s = NULL;
	targets_t t;
	zbuf_t b;
	zdiag_t d;
	char exp[40];
	int ch, rc = 1;
	zerr_t e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'h': printf(PUSH_USAGE, PROG); return 0;
		default: fprintf(stderr, PUSH_USAGE, PROG); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PUSH_USAGE, PROG);
		return 2;
	}
	file = argv[optind];
	switch (ctl_config(&conf)) {
	case -1:
		return 2;
	case 0:
		break;
	default:
		loaded = true;
		if (data == NULL)
			data = conf.data_dir;
		if (*conf.operator_key != '\0')
			khex = conf.operator_key;
	}
	if (data == NULL || khex == NULL) {
		fprintf(stderr, "%s: testlist push: %s\n", PROG, data == NULL ?
		    "give --data DIR or -c AGGREGATOR.CONF" : "no operator "
		    "key to check the list against: set [testlist] "
		    "operator_key in the aggregator config and give it with "
		    "-c");
		rc = 2;
		goto out;
	}
	if (opkey("push", khex, pk) != 0) {
		rc = 2;
		goto out;
	}
	if (read_list("push", file, &b) != 0)
		goto out;
	targets_init(&t);
	if (ctl_open_store("testlist push", data, false, &s) != 0)
		goto done;
	if ((e = store_testlist_get(s, &cur, NULL, &d)) != ZE_OK &&
	    e != ZE_NOTFOUND) {
		fprintf(stderr, "%s: testlist push: %s\n", PROG, d.text);
		goto done;
	}
	c.operator_pk = pk;
	c.newer = true;
	c.current = e == ZE_OK ? cur.version : 0;
	c.now_us = ztime_now_us();
	r = tlist_verify_bytes(b.data, b.len, &c, file, &t, &info, &d);
	if (r != TL_OK) {
		fprintf(stderr, "%s: testlist push: refused (%s): %s\n", PROG,
		    tlist_reason_name(r), d.text);
		goto done;
	}
	m.version = info.version;
	m.issued_us = info.issued_us;
	m.expires_us = info.expires_us;
	m.ntests = (uint32_t)info.ntests;
	if (store_testlist_put(s, &m, b.data, b.len, &stored, &d) != ZE_OK) {
		/* another push stored a newer one since we looked */
		fprintf(stderr, "%s: testlist push: refused (%s): %s\n", PROG,
		    stored ? "older" : "storage", d.text);
		goto done;
	}
	ztime_fmt_iso(info.expires_us, exp, sizeof(exp), 0);
	printf("pushed version=%" PRIu64 " tests=%zu expires=%s\n",
	    info.version, info.ntests, exp);
	rc = 0;
done:
	store_close(&s);
	targets_free(&t);
	zbuf_free(&b);
out:
	if (loaded)
		conf_free(aggr_conf_tab, &conf);
	return rc;
}

int
cmd_testlist(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "push") == 0)
		return cmd_push(argc - 1, argv + 1);
	fprintf(stderr, SIGN_USAGE SHOW_USAGE PUSH_USAGE, PROG, PROG, PROG);
	return 2;
}
