/*
 * zondctl — the operator's and analyst's tool: keys, enrollment, exports,
 * offline verification and the map in a terminal.
 *
 * Each command is a function cmd_NAME(argc, argv) with argv[0] the command
 * name; the table below dispatches.  Commands that read the aggregator's
 * data take --data DIR, or -c FILE to read data_dir from aggregator.conf.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cli.h"
#include "key.h"
#include "log.h"

#define PROG "zondctl"

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
	    "         [--name S] [--role probe|control]\n"
	    "  export --data DIR --format jsonl|csv|ooni [--since T] [--until T]\n"
	    "         [--region R] [--asn N] [--service S] [-o FILE]\n"
	    "  verify FILE              check every signature of a JSONL export\n"
	    "  map --data DIR [--service S] [--since T] [--until T] [--json]\n"
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

static int
cmd_later(int argc, char **argv)
{
	(void)argc;
	return cli_notimpl(PROG, argv[0]);
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"keygen", cmd_keygen},
	{"pubkey", cmd_pubkey},
	{"enroll", cmd_later},
	{"export", cmd_later},
	{"verify", cmd_later},
	{"map", cmd_later},
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
	if (check) {
		struct aggr_conf conf;
		bool ok;
		if (cfpath == NULL)
			cfpath = "/etc/zond/aggregator.conf";
		ok = cli_load_config(aggr_conf_tab, &conf, cfpath, true);
		if (ok)
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
