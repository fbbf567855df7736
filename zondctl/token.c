/*
 * token.c — `zondctl token create|list|revoke`: enrollment tokens in the
 * aggregator's store (docs/OPERATIONS.md "Enrolling a volunteer with a
 * token", docs/PROTOCOL.md 7).  Works while the aggregator runs, as
 * `zondctl enroll` does.  The secret leaves this program only inside the
 * token line it prints once; `list` never shows it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "key.h"
#include "kv.h"
#include "registry.h"
#include "report.h"
#include "store.h"
#include "token.h"
#include "ztime.h"

#define PROG "zondctl"
#define CREATE_USAGE "usage: %s token create --data DIR --region RU-XXX " \
	"--asn N --network mobile|fixed [--name NAME] [--expires 7d|never] " \
	"[--endpoint tcp://HOST:PORT ...] [--relay URL ...]\n"
#define TOKEN_USAGE CREATE_USAGE \
	"       %s token list --data DIR\n" \
	"       %s token revoke --data DIR ID\n"

/* Split a comma-separated list (checked by the config) into v[] (at most
 * TOKEN_MAX_URLS; pointers into the copy *buf, caller frees). */
static size_t
split_list(const char *s, char **buf, char **v)
{
	size_t n = 0;
	char *p, *save = NULL;

	*buf = NULL;
	if (s == NULL || *s == '\0' || (*buf = strdup(s)) == NULL)
		return 0;
	for (p = strtok_r(*buf, ",", &save); p != NULL && n < TOKEN_MAX_URLS;
	    p = strtok_r(NULL, ",", &save))
		v[n++] = p;
	return n;
}

/* The aggregator's public key: identity.pub beside its configured key,
 * else DIR/identity.pub. */
static int
server_pub(const struct aggr_conf *conf, const char *dir,
    uint8_t pk[KEY_PUB_LEN])
{
	char path[4096];
	size_t n;
	zdiag_t d;

	if (conf != NULL) {
		n = strlen(conf->key);
		if (n > 4 && strcmp(conf->key + n - 4, ".key") == 0)
			n -= 4;
		snprintf(path, sizeof(path), "%.*s.pub", (int)n, conf->key);
	} else
		snprintf(path, sizeof(path), "%s/identity.pub", dir);
	if (pubkey_load(path, pk, &d) != ZE_OK) {
		fprintf(stderr, "%s: token create: the aggregator's public "
		    "key: %s (start the aggregator once to create it, or "
		    "give -c AGGREGATOR.CONF)\n", PROG, d.text);
		return -1;
	}
	return 0;
}

static int
token_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"region", required_argument, NULL, 'r'},
		{"asn", required_argument, NULL, 'a'},
		{"network", required_argument, NULL, 'n'},
		{"name", required_argument, NULL, 'N'},
		{"expires", required_argument, NULL, 'e'},
		{"endpoint", required_argument, NULL, 'E'},
		{"relay", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *region = NULL, *asn = NULL, *net = NULL;
	const char *name = "", *expires = "7d";
	char *ep[TOKEN_MAX_URLS], *rl[TOKEN_MAX_URLS], *epbuf = NULL;
	char *rlbuf = NULL, idhex[2 * STORE_TOKEN_ID_LEN + 1], when[40];
	size_t nep = 0, nrl = 0;
	struct aggr_conf conf;
	struct store_token st;
	uint8_t srv[KEY_PUB_LEN], opk[KEY_PUB_LEN];
	token_t t = ZOND__V1__ENROLL_TOKEN__INIT;
	int64_t ttl_ms = 0;
	store_t *s = NULL;
	zbuf_t text;
	zdiag_t d;
	int ch, rc = 1, loaded;

	memset(&st, 0, sizeof(st));
	memset(&conf, 0, sizeof(conf));
	zbuf_init(&text, TOKEN_MAX_TEXT + 1);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'r': region = optarg; break;
		case 'a': asn = optarg; break;
		case 'n': net = optarg; break;
		case 'N': name = optarg; break;
		case 'e': expires = optarg; break;
		case 'E':
			if (nep == TOKEN_MAX_URLS)
				goto usage;
			ep[nep++] = optarg;
			break;
		case 'R':
			if (nrl == TOKEN_MAX_URLS)
				goto usage;
			rl[nrl++] = optarg;
			break;
		case 'h':
			printf(CREATE_USAGE, PROG);
			return 0;
		default:
			goto usage;
		}
	}
	if (region == NULL || asn == NULL || net == NULL || optind != argc)
		goto usage;
	if (registry_check_region(region, &d) != ZE_OK ||
	    registry_parse_asn(asn, &st.asn, &d) != ZE_OK ||
	    registry_check_name(name, &d) != ZE_OK) {
		fprintf(stderr, "%s: token create: %s\n", PROG, d.text);
		return 2;
	}
	if (strcmp(net, "fixed") != 0 && strcmp(net, "mobile") != 0) {
		fprintf(stderr, "%s: token create: --network '%.32s': use "
		    "mobile or fixed\n", PROG, net);
		return 2;
	}
	st.network = (enum store_network)store_network_parse(net);
	if (strcmp(expires, "never") != 0 &&
	    (conf_parse_duration(expires, &ttl_ms) != ZE_OK || ttl_ms <= 0)) {
		fprintf(stderr, "%s: token create: --expires '%.32s': use a "
		    "duration such as 7d, 12h or 30m, or never\n", PROG,
		    expires);
		return 2;
	}
	if ((loaded = ctl_config(&conf)) < 0)
		return 2;
	if (data == NULL && !loaded) {
		fprintf(stderr, "%s: token create: give --data DIR or -c "
		    "AGGREGATOR.CONF\n", PROG);
		return 2;
	}
	if (nep == 0 && loaded)
		nep = split_list(conf.enroll_endpoints, &epbuf, ep);
	if (nrl == 0 && loaded)
		nrl = split_list(conf.enroll_relays, &rlbuf, rl);
	if (nep == 0) {
		fprintf(stderr, "%s: token create: no endpoint: give "
		    "--endpoint tcp://HOST:PORT (as agents reach the "
		    "aggregator) or set [enroll] endpoints\n", PROG);
		rc = 2;
		goto out;
	}
	if (server_pub(loaded ? &conf : NULL, data != NULL ? data :
	    conf.data_dir, srv) != 0)
		goto out;
	memcpy(st.region, region, strlen(region) + 1);
	memcpy(st.name, name, strlen(name) + 1);
	randombytes_buf(st.id, sizeof(st.id));
	randombytes_buf(st.secret, sizeof(st.secret));
	st.created_us = ztime_now_us();
	st.expires_us = ttl_ms > 0 ? st.created_us + ttl_ms * 1000 : 0;
	t.n_endpoints = nep;
	t.endpoints = ep;
	t.n_relays = nrl;
	t.relays = rl;
	t.has_server_key = 1;
	t.server_key.data = srv;
	t.server_key.len = sizeof(srv);
	if (loaded && conf.operator_key[0] != '\0' &&
	    pubkey_from_hex(conf.operator_key, opk, &d) == ZE_OK) {
		t.has_operator_key = 1;
		t.operator_key.data = opk;
		t.operator_key.len = sizeof(opk);
	}
	t.has_id = t.has_secret = 1;
	t.id.data = st.id;
	t.id.len = sizeof(st.id);
	t.secret.data = st.secret;
	t.secret.len = sizeof(st.secret);
	if (st.expires_us != 0) {
		t.has_expires_us = 1;
		t.expires_us = st.expires_us;
	}
	if (token_encode(&t, &text, &d) != ZE_OK) {
		fprintf(stderr, "%s: token create: %s\n", PROG, d.text);
		rc = 2;
		goto out;
	}
	if (ctl_open_store("token create", data != NULL ? data :
	    conf.data_dir, false, &s) != 0)
		goto out;
	if (store_token_put(s, &st, &d) != ZE_OK) {
		fprintf(stderr, "%s: token create: %s\n", PROG, d.text);
		goto out;
	}
	sodium_bin2hex(idhex, sizeof(idhex), st.id, sizeof(st.id));
	if (st.expires_us != 0)
		ztime_fmt_iso(st.expires_us, when, sizeof(when), 0);
	else
		memcpy(when, "never", 6);
	fprintf(stderr, "token id=%s region=%s asn=%" PRIu32 " network=%s "
	    "expires=%s endpoints=%zu relays=%zu operator_key=%s\n", idhex,
	    region, st.asn, net, when, nep, nrl, t.has_operator_key ? "yes" :
	    "no");
	printf("%s\n", (char *)text.data);
	rc = 0;
out:
	sodium_memzero(st.secret, sizeof(st.secret));
	if (text.data != NULL)
		sodium_memzero(text.data, text.len);
	zbuf_free(&text);
	store_close(&s);
	free(epbuf);
	free(rlbuf);
	if (loaded > 0)
		conf_free(aggr_conf_tab, &conf);
	return rc;
usage:
	fprintf(stderr, CREATE_USAGE, PROG);
	return 2;
}

static const char *
token_state(const struct store_token *t, int64_t now)
{
	if (t->revoked)
		return "revoked";
	if (t->used_at_us != 0)
		return "used";
	if (t->expires_us != 0 && now >= t->expires_us)
		return "expired";
	return "unused";
}

static int
print_token(const struct store_token *t, void *arg)
{
	const int64_t *now = arg;
	char id[2 * STORE_TOKEN_ID_LEN + 1], by[KEY_HEX_LEN + 1];
	char c[40], e[40];
	char region[KV_QUOTED_LEN(sizeof(t->region))];
	char name[KV_QUOTED_LEN(sizeof(t->name))];

	sodium_bin2hex(id, sizeof(id), t->id, sizeof(t->id));
	ztime_fmt_iso(t->created_us, c, sizeof(c), 0);
	if (t->expires_us != 0)
		ztime_fmt_iso(t->expires_us, e, sizeof(e), 0);
	else
		memcpy(e, "never", 6);
	if (t->used_at_us != 0)
		sodium_bin2hex(by, sizeof(by), t->used_by, KEY_PUB_LEN);
	else
		memcpy(by, "-", 2);
	kv_quote(t->region, false, region, sizeof(region));
	kv_quote(t->name, true, name, sizeof(name));
	printf("id=%s region=%s asn=%" PRIu32 " network=%s created=%s "
	    "expires=%s state=%s used_by=%s name=%s\n", id, region, t->asn,
	    store_network_name(t->network), c, e, token_state(t, *now), by,
	    name);
	return 0;
}

static int
with_store(int argc, char **argv, const char *usage, bool write,
    int (*fn)(store_t *s, const char *arg))
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *arg = NULL;
	struct aggr_conf conf;
	store_t *s = NULL;
	int ch, rc, loaded = 0;

	memset(&conf, 0, sizeof(conf));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind != argc || (write != (arg != NULL))) {
		fputs(usage, stderr);
		return 2;
	}
	if (data == NULL) {
		if ((loaded = ctl_config(&conf)) <= 0) {
			if (loaded == 0)
				fprintf(stderr, "%s: token %s: give --data DIR "
				    "or -c AGGREGATOR.CONF\n", PROG, argv[0]);
			return 2;
		}
		data = conf.data_dir;
	}
	if ((rc = ctl_open_store(argv[0], data, !write, &s)) == 0)
		rc = fn(s, arg);
	store_close(&s);
	if (loaded > 0)
		conf_free(aggr_conf_tab, &conf);
	return rc;
}

static int
list_fn(store_t *s, const char *arg)
{
	int64_t now = ztime_now_us();
	zdiag_t d;

	(void)arg;
	if (store_token_iter(s, print_token, &now, &d) != ZE_OK) {
		fprintf(stderr, "%s: token list: %s\n", PROG, d.text);
		return 1;
	}
	return 0;
}

static int
revoke_fn(store_t *s, const char *arg)
{
	uint8_t id[STORE_TOKEN_ID_LEN];
	size_t got = 0;
	zdiag_t d;

	if (strlen(arg) != 2 * STORE_TOKEN_ID_LEN ||
	    sodium_hex2bin(id, sizeof(id), arg, strlen(arg), NULL, &got,
	    NULL) != 0 || got != sizeof(id)) {
		fprintf(stderr, "%s: token revoke: '%.40s' is not a token id "
		    "(%d hex characters, as token list prints)\n", PROG, arg,
		    2 * STORE_TOKEN_ID_LEN);
		return 2;
	}
	if (store_token_revoke(s, id, &d) != ZE_OK) {
		fprintf(stderr, "%s: token revoke: %s: %s\n", PROG, arg,
		    d.text);
		return 1;
	}
	printf("revoked id=%s\n", arg);
	return 0;
}

int
cmd_token(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 2 ? stderr : stdout, TOKEN_USAGE, PROG, PROG,
		    PROG);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return token_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return with_store(argc - 1, argv + 1,
		    "usage: " PROG " token list --data DIR\n", false, list_fn);
	if (strcmp(argv[1], "revoke") == 0)
		return with_store(argc - 1, argv + 1,
		    "usage: " PROG " token revoke --data DIR ID\n", true, revoke_fn);
	fprintf(stderr, "%s: token: unknown subcommand '%s'\n" TOKEN_USAGE,
	    PROG, argv[1], PROG, PROG, PROG);
	return 2;
}
