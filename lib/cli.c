/* cli.c — see cli.h. */
#include "cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "version.h"

void
cli_version(const char *prog)
{
	printf("%s %s (git %s)\n", prog, ZOND_VERSION, ZOND_GIT);
}

bool
cli_load_config(const struct conf_opt *tab, void *obj, const char *path,
    bool check)
{
	zdiag_t d;

	if (conf_load(tab, obj, path, &d) != ZE_OK) {
		fprintf(stderr, "%s\n", d.text);
		return false;
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		conf_dump(tab, obj, stdout);
	}
	return true;
}

void
cli_crypto_init(const char *prog)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
		exit(1);
	}
}

#include <getopt.h>

static void
cli_usage(FILE *f, const char *prog, const char *summary,
    const char *default_config, bool allow_once)
{
	fprintf(f, "usage: %s [-c FILE] [-n] [-v]%s\n\n%s\n\n", prog,
	    allow_once ? " [--once]" : "", summary);
	fprintf(f, "  -c, --config FILE       config file (default %s)\n",
	    default_config);
	fprintf(f, "  -n, --check             check the config, print it, "
	    "exit\n");
	if (allow_once)
		fprintf(f, "      --once              run the test list once "
		    "and print one JSON object per measurement\n");
	fprintf(f, "  -v, --verbose           debug logging\n"
	    "      --config-reference  print the option reference (Markdown)\n"
	    "  -h, --help              this help\n"
	    "  -V, --version           print the version\n");
}

int
cli_parse(int argc, char **argv, const char *prog, const char *summary,
    const char *default_config, const struct conf_opt *tab, bool allow_once,
    struct cli_args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'n'},
		{"once", no_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{"config-reference", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	a->config = default_config;
	a->check = false;
	a->verbose = 0;
	a->once = false;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:nvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'n': a->check = true; break;
		case 'v': a->verbose++; break;
		case 'o':
			if (!allow_once)
				goto bad;
			a->once = true;
			break;
		case 'R':
			conf_reference(tab, prog, stdout);
			return 0;
		case 'h':
			cli_usage(stdout, prog, summary, default_config,
			    allow_once);
			return 0;
		case 'V':
			cli_version(prog);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
		    argv[optind]);
		goto bad;
	}
	return -1;
bad:
	cli_usage(stderr, prog, summary, default_config, allow_once);
	return 2;
}
