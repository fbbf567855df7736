/*
 * zondctl — the operator's and analyst's tool: keys, enrollment, exports,
 * offline verification and the map in a terminal.
 *
 * Each command is a function cmd_NAME(argc, argv) with argv[0] the command
 * name; the table below dispatches.  Commands that read the aggregator's
 * data take --data DIR, or -c FILE to read data_dir from aggregator.conf.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cli.h"
#include "key.h"
#include "kv.h"
#include "log.h"
#include "report.h"
#include "verify.h"
#include "analyze.h"
#include "analyzer.h"
#include "ipasn.h"
#include "rollup.h"
#include "registry.h"
#include "store.h"
#include "testlist.h"
#include "ztime.h"

#define PROG "zondctl"

static const char *g_config;	/* global -c FILE, for data_dir */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [-c AGGREGATOR.CONF] [-n] COMMAND [ARGS]\n"
	    "\n"
	    "commands:\n"
	    "  keygen -o DIR            new identity: DIR/identity.key, DIR/identity.pub\n"
	    "  pubkey KEYFILE           print the public key of a secret key file\n"
	    "  enroll --data DIR --pubkey HEX --region RU-XXX --asn N\n"
	    "         [--name S] [--role probe|control|control-domestic]\n"
	    "         [--network fixed|mobile|unknown]\n"
	    "  token create --data DIR --region RU-XXX --asn N --network mobile|fixed\n"
	    "         [--name S] [--expires 7d|never] [--endpoint URL ...]\n"
	    "         [--relay URL ...]   print a one-time enrollment token\n"
	    "  token list --data DIR    tokens (key=value lines; never the secret)\n"
	    "  token revoke --data DIR ID\n"
	    "  disable --data DIR --pubkey HEX   refuse an agent's connections\n"
	    "  enable --data DIR --pubkey HEX    admit a disabled agent again\n"
	    "  agents --data DIR        list enrolled agents (key=value lines)\n"
	    "  export --data DIR --format jsonl|csv|ooni [--since T] [--until T]\n"
	    "         [--region R] [--asn N] [--service S] [--network N] [-o FILE]\n"
	    "  verify FILE              check every signature of a JSONL export\n"
	    "  map --data DIR [--service S] [--since T] [--until T] [--json]\n"
	    "      [--network fixed|mobile|unknown] [--sample common|latest]\n"
	    "  reanalyze --data DIR     rebuild verdicts, roll-ups and events\n"
	    "                           from the stored measurements\n"
	    "  testlist sign --key OPERATOR.key [--version N] [--expires 30d]\n"
	    "         [-o OUT] LIST.csv...   sign endpoint/URL lists for agents\n"
	    "  testlist show FILE [--operator-key HEX]   verify and print one\n"
	    "  testlist push [--data DIR] FILE   (with -c: [testlist] operator_key)\n"
	    "                           store it; the aggregator hands it to agents\n"
	    "\n"
	    "  -c FILE    read data_dir from this aggregator config\n"
	    "  -n         check that config and exit\n"
	    "  -h, --help, -V, --version\n", PROG);
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	char hex[KEY_HEX_LEN + 1];
	zkey_t *k = NULL;
	zdiag_t d;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': dir = optarg; break;
		case 'h':
			printf("usage: %s keygen -o DIR\n", PROG);
			return 0;
		default:
			fprintf(stderr, "usage: %s keygen -o DIR\n", PROG);
			return 2;
		}
	}
	if (dir == NULL || optind != argc) {
		fprintf(stderr, "usage: %s keygen -o DIR\n", PROG);
		return 2;
	}
	if (key_generate(&k) != ZE_OK) {
		fprintf(stderr, "%s: keygen: key generation failed\n", PROG);
		return 1;
	}
	if (key_save(k, dir, &d) != ZE_OK) {
		fprintf(stderr, "%s: keygen: %s\n", PROG, d.text);
		key_free(&k);
		return 1;
	}
	key_public_hex(k, hex);
	printf("%s\n", hex);
	key_free(&k);
	return 0;
}

/* pubkey KEYFILE: print the public key of a secret key file, after the
 * same permission checks every daemon applies. */
static int
cmd_pubkey(int argc, char **argv)
{
	char hex[KEY_HEX_LEN + 1];
	zkey_t *k = NULL;
	zdiag_t d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s pubkey KEYFILE\n", PROG);
		return 2;
	}
	if (key_load(argv[1], &k, &d) != ZE_OK) {
		fprintf(stderr, "%s: pubkey: %s\n", PROG, d.text);
		return 1;
	}
	key_public_hex(k, hex);
	printf("%s\n", hex);
	key_free(&k);
	return 0;
}

/*
 * The aggregator's data directory: --data DIR, else data_dir of the
 * config given with the global -c.  NULL (and a message) if neither.
 */
static const char *
data_dir(const char *cmd, const char *opt, struct aggr_conf *conf,
    bool *loaded)
{
	*loaded = false;
	if (opt != NULL)
		return opt;
	if (g_config == NULL) {
		fprintf(stderr, "%s: %s: give --data DIR or -c "
		    "AGGREGATOR.CONF\n", PROG, cmd);
		return NULL;
	}
	if (!cli_load_config(aggr_conf_tab, conf, g_config, false)) {
		conf_free(aggr_conf_tab, conf);
		return NULL;
	}
	*loaded = true;
	return conf->data_dir;
}

int
ctl_config(struct aggr_conf *conf)
{
	if (g_config == NULL)
		return 0;
	if (!cli_load_config(aggr_conf_tab, conf, g_config, false)) {
		conf_free(aggr_conf_tab, conf);
		return -1;
	}
	return 1;
}

int
ctl_cell_opts(struct cell_opts *co)
{
	struct aggr_conf conf;

	cell_opts_default(co);
	if (g_config == NULL)
		return 0;
	if (!cli_load_config(aggr_conf_tab, &conf, g_config, false)) {
		conf_free(aggr_conf_tab, &conf);
		return -1;
	}
	co->min_measurements = (uint32_t)conf.min_measurements;
	co->min_agents = (uint32_t)conf.min_agents;
	conf_free(aggr_conf_tab, &conf);
	return 0;
}

int
ctl_analyze_opts(struct analyze_opts *ao, struct ipasn **asn,
    struct fpdb **fp)
{
	struct aggr_conf conf;
	zdiag_t d;
	int rc = 0;

	analyze_opts_default(ao);
	*asn = NULL;
	*fp = NULL;
	if (g_config == NULL)
		return 0;
	if (!cli_load_config(aggr_conf_tab, &conf, g_config, false)) {
		conf_free(aggr_conf_tab, &conf);
		return -1;
	}
	/* judge as the daemon's HTTP API does (http.c): its window,
	 * minimums, IP-to-ASN table and fingerprints */
	ao->window_us = conf.window_ms * 1000;
	ao->c.min_measurements = (uint32_t)conf.min_measurements;
	ao->c.min_agents = (uint32_t)conf.min_agents;
	if (aggr_conf_ipasn(&conf, asn, &d) != ZE_OK) {
		fprintf(stderr, "%s: [analysis] ip_asn: %s\n", PROG, d.text);
		rc = -1;
	} else if (analyzer_fingerprints(&conf, fp, &d) != ZE_OK) {
		fprintf(stderr, "%s: [analysis] fingerprints: %s\n", PROG,
		    d.text);
		rc = -1;
	}
	ao->v.asn = *asn;
	ao->v.fp = *fp;
	conf_free(aggr_conf_tab, &conf);
	return rc;
}

int
ctl_open_store(const char *cmd, const char *dir, bool readonly, store_t **s)
{
	struct store_opts o;
	zdiag_t d;

	memset(&o, 0, sizeof(o));
	o.readonly = readonly;
	o.map_size = 1 << 20;	/* a new environment starts small */
	if (store_open(dir, &o, s, &d) != ZE_OK) {
		fprintf(stderr, "%s: %s: %s\n", PROG, cmd, d.text);
		return 1;
	}
	return 0;
}

#define ENROLL_USAGE "usage: %s enroll --data DIR --pubkey HEX " \
	"--region RU-XXX --asn N [--name S] [--role probe|control|" \
	"control-domestic] [--network fixed|mobile|unknown]\n"

/* enroll: admit an agent (or update its enrolment); works while the
 * aggregator runs: the ZAP handler reads the registry per connection. */
static int
cmd_enroll(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"pubkey", required_argument, NULL, 'k'},
		{"region", required_argument, NULL, 'r'},
		{"asn", required_argument, NULL, 'a'},
		{"name", required_argument, NULL, 'N'},
		{"role", required_argument, NULL, 'R'},
		{"network", required_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *pk = NULL, *region = NULL, *asn = NULL;
	const char *name = NULL, *role = NULL, *net = NULL, *dir;
	struct aggr_conf conf;
	store_t *s = NULL;
	bool loaded, created = false;
	zdiag_t d;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'k': pk = optarg; break;
		case 'r': region = optarg; break;
		case 'a': asn = optarg; break;
		case 'N': name = optarg; break;
		case 'R': role = optarg; break;
		case 'W': net = optarg; break;
		case 'h':
			printf(ENROLL_USAGE, PROG);
			return 0;
		default:
			fprintf(stderr, ENROLL_USAGE, PROG);
			return 2;
		}
	}
	if (pk == NULL || region == NULL || asn == NULL || optind != argc) {
		fprintf(stderr, ENROLL_USAGE, PROG);
		return 2;
	}
	if ((dir = data_dir("enroll", data, &conf, &loaded)) == NULL)
		return 2;
	if ((rc = ctl_open_store("enroll", dir, false, &s)) == 0) {
		if (registry_enroll_net(s, pk, region, asn, name, role, net,
		    &created, &d) != ZE_OK) {
			fprintf(stderr, "%s: enroll: %s\n", PROG, d.text);
			rc = 1;
		} else
			printf("%s agent=%s region=%s asn=%s role=%s\n",
			    created ? "enrolled" : "updated", pk, region, asn,
			    role != NULL ? role : "probe");
	}
	store_close(&s);
	if (loaded)
		conf_free(aggr_conf_tab, &conf);
	return rc;
}

/* enable / disable --data DIR --pubkey HEX */
static int
cmd_enable(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"pubkey", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool on = strcmp(argv[0], "enable") == 0, loaded;
	const char *data = NULL, *hex = NULL, *dir;
	uint8_t pk[KEY_PUB_LEN];
	struct aggr_conf conf;
	store_t *s = NULL;
	zdiag_t d;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'k': hex = optarg; break;
		case 'h':
			printf("usage: %s %s --data DIR --pubkey HEX\n", PROG,
			    argv[0]);
			return 0;
		default:
			goto usage;
		}
	}
	if (hex == NULL || optind != argc)
		goto usage;
	if (pubkey_from_hex(hex, pk, &d) != ZE_OK) {
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[0], d.text);
		return 1;
	}
	if ((dir = data_dir(argv[0], data, &conf, &loaded)) == NULL)
		return 2;
	if ((rc = ctl_open_store(argv[0], dir, false, &s)) == 0) {
		if (store_agent_set_enabled(s, pk, on, &d) != ZE_OK) {
			fprintf(stderr, "%s: %s: %s: %s\n", PROG, argv[0], hex,
			    d.text);
			rc = 1;
		} else
			printf("%s agent=%s\n", on ? "enabled" : "disabled",
			    hex);
	}
	store_close(&s);
	if (loaded)
		conf_free(aggr_conf_tab, &conf);
	return rc;
usage:
	fprintf(stderr, "usage: %s %s --data DIR --pubkey HEX\n", PROG,
	    argv[0]);
	return 2;
}

/* One agent's line.  The version is the agent's, the name and region the
 * operator's: kv_quote keeps each one value on this one line (kv.h); the
 * name is always quoted, as it always was. */
static int
print_agent(const struct store_agent *a, void *arg)
{
	char hex[KEY_HEX_LEN + 1], enr[40], seen[40];
	char region[KV_QUOTED_LEN(sizeof(a->region))];
	char version[KV_QUOTED_LEN(sizeof(a->version))];
	char name[KV_QUOTED_LEN(sizeof(a->name))];
	char clk[24];

	(void)arg;
	sodium_bin2hex(hex, sizeof(hex), a->pk, KEY_PUB_LEN);
	ztime_fmt_iso(a->enrolled_us, enr, sizeof(enr), 0);
	if (a->last_seen_us > 0)
		ztime_fmt_iso(a->last_seen_us, seen, sizeof(seen), 0);
	else
		memcpy(seen, "-", 2);
	/* "-": none reported; an agent's own "-" prints quoted */
	if (a->version[0] == '\0')
		memcpy(version, "-", 2);
	else
		kv_quote(a->version, strcmp(a->version, "-") == 0, version,
		    sizeof(version));
	kv_quote(a->region, false, region, sizeof(region));
	kv_quote(a->name, true, name, sizeof(name));
	/* the aggregator's time minus the agent's wall clock; "-": none */
	if (a->has_clock)
		snprintf(clk, sizeof(clk), "%" PRId64,
		    a->clock_offset_us / 1000);
	else
		memcpy(clk, "-", 2);
	printf("agent=%s region=%s asn=%" PRIu32 " role=%s network=%s "
	    "state=%s enrolled=%s last_seen=%s version=%s backlog=%" PRIu64
	    " dropped=%" PRIu64 " last_seq=%" PRIu64 " stored=%" PRIu64
	    " clock_offset_ms=%s name=%s\n", hex, region, a->asn,
	    store_role_name(a->role), store_network_name(a->network),
	    a->enabled ? "enabled" : "disabled", enr, seen, version,
	    a->backlog, a->dropped, a->last_seq, a->stored, clk, name);
	return 0;
}

/* agents --data DIR: one key=value line per enrolled agent, then a
 * summary line with the database's totals.  Read-only; safe while the
 * aggregator runs. */
static int
cmd_agents(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *dir;
	struct aggr_conf conf;
	struct store_counts c;
	store_t *s = NULL;
	bool loaded;
	zdiag_t d;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'h':
			printf("usage: %s agents --data DIR\n", PROG);
			return 0;
		default:
			fprintf(stderr, "usage: %s agents --data DIR\n", PROG);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: %s agents --data DIR\n", PROG);
		return 2;
	}
	if ((dir = data_dir("agents", data, &conf, &loaded)) == NULL)
		return 2;
	if ((rc = ctl_open_store("agents", dir, true, &s)) == 0) {
		if (store_agent_iter(s, print_agent, NULL, &d) != ZE_OK ||
		    store_counts(s, &c, &d) != ZE_OK) {
			fprintf(stderr, "%s: agents: %s\n", PROG, d.text);
			rc = 1;
		} else
			printf("total agents=%" PRIu64 " measurements=%" PRIu64
			    "\n", c.agents, c.meas);
	}
	store_close(&s);
	if (loaded)
		conf_free(aggr_conf_tab, &conf);
	return rc;
}

/*
 * reanalyze: forget every verdict, roll-up and event and judge every
 * stored measurement again (with the [analysis] options of -c FILE, else
 * the defaults).  Safe while the aggregator runs: both analyzers take
 * each measurement off the queue in a write transaction, so none is
 * counted twice; the aggregator then keeps up as usual.  Measurements
 * arriving meanwhile are queued once, by ingest or by the refill.
 * Progress goes to a terminal on stderr only.
 */
static void
reanalyze_progress(uint64_t queued, void *arg)
{
	(void)arg;
	fprintf(stderr, "\rqueued %" PRIu64 " measurements", queued);
}

static int
cmd_reanalyze(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *dir;
	struct aggr_conf conf;
	struct rollup_opts o;
	struct rollup_stats st;
	struct ipasn *asn = NULL;
	struct fpdb *fp = NULL;
	store_t *s = NULL;
	bool loaded = false;
	uint64_t n = 0;
	int64_t t0;
	zdiag_t d;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'h':
			printf("usage: %s [-c AGGREGATOR.CONF] reanalyze "
			    "--data DIR\n", PROG);
			return 0;
		default:
			fprintf(stderr, "usage: %s [-c AGGREGATOR.CONF] "
			    "reanalyze --data DIR\n", PROG);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: %s [-c AGGREGATOR.CONF] reanalyze "
		    "--data DIR\n", PROG);
		return 2;
	}
	if (data != NULL && g_config != NULL) {
		if (!cli_load_config(aggr_conf_tab, &conf, g_config, false)) {
			conf_free(aggr_conf_tab, &conf);
			return 2;
		}
		loaded = true;
		dir = data;
	} else if ((dir = data_dir("reanalyze", data, &conf, &loaded)) ==
	    NULL)
		return 2;
	if (loaded) {
		if (aggr_conf_ipasn(&conf, &asn, &d) != ZE_OK) {
			fprintf(stderr, "%s: reanalyze: [analysis] ip_asn: "
			    "%s\n", PROG, d.text);
			conf_free(aggr_conf_tab, &conf);
			return 1;
		}
				analyzer_opts(&conf, asn, &o);
		/* the daemon's fingerprints, so that reanalysis judges as
		 * it does */
		if (analyzer_fingerprints(&conf, &fp, &d) != ZE_OK) {
			fprintf(stderr, "%s: reanalyze: %s\n", PROG, d.text);
			ipasn_free(&asn);
			conf_free(aggr_conf_tab, &conf);
			return 1;
		}
		o.v.fp = fp;
	} else
		rollup_opts_default(&o);
	o.hook = false;	/* history is not news */
	memset(&st, 0, sizeof(st));
	t0 = ztime_mono_us();
	if ((rc = ctl_open_store("reanalyze", dir, false, &s)) == 0) {
		uint64_t waiting = 0;
		bool tty = isatty(STDERR_FILENO);

		if (rollup_reset_chunked(s, ROLLUP_RESET_CHUNK, tty ?
		    reanalyze_progress : NULL, NULL, &n, &d) != ZE_OK ||
		    rollup_drain(s, &o, ztime_now_us(), &st, &d) != ZE_OK ||
		    rollup_silence_replay(s, &o, ztime_now_us(), &st,
		    &d) != ZE_OK ||
		    rollup_waiting(s, &waiting, &d) != ZE_OK) {
			fprintf(stderr, "%s%s: reanalyze: %s\n", tty ? "\n" : "",
			    PROG, d.text);
			rc = 1;
		} else {
			if (tty)
				fputc('\n', stderr);
			printf("measurements=%" PRIu64 " judged=%" PRIu64
			    " controls=%" PRIu64 " waiting=%" PRIu64
			    " events=%" PRIu64 " seconds=%.1f\n", n,
			    st.judged, st.controls, waiting, st.events,
			    (double)(ztime_mono_us() - t0) / 1e6);
		}
	}
	store_close(&s);
	ipasn_free(&asn);
	fpdb_free(&fp);
	if (loaded)
		conf_free(aggr_conf_tab, &conf);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"reanalyze", cmd_reanalyze},
	{"keygen", cmd_keygen},
	{"pubkey", cmd_pubkey},
	{"enroll", cmd_enroll},
	{"disable", cmd_enable},
	{"enable", cmd_enable},
	{"agents", cmd_agents},
	{"token", cmd_token},
	{"export", cmd_export},
	{"verify", cmd_verify},
	{"map", cmd_map},
	{"testlist", cmd_testlist},
};

int
main(int argc, char **argv)
{
	const char *cfpath = NULL;
	bool check = false;
	int i = 1;

	cli_crypto_init(PROG);
	log_init(PROG, LOG_LVL_INFO);
	/* global options come before the command */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			cli_version(PROG);
			return 0;
		} else if (strcmp(argv[i], "-n") == 0) {
			check = true;
			i++;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfpath = argv[i + 1];
			i += 2;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", PROG,
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	g_config = cfpath;
	if (check) {
		struct aggr_conf conf;
		bool ok;
		if (cfpath == NULL)
			cfpath = "/etc/zond/aggregator.conf";
		ok = cli_load_config(aggr_conf_tab, &conf, cfpath, true);
		conf_free(aggr_conf_tab, &conf);
		return ok ? 0 : 1;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < ZARRAY_LEN(commands); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(argc - i, argv + i);
	fprintf(stderr, "%s: unknown command '%s'\n", PROG, argv[i]);
	usage(stderr);
	return 2;
}
