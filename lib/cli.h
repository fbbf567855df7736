/*
 * cli.h — what every Zond program does the same way on its command line:
 * --version text, config loading with `-n` checking, the daemons' shared
 * options.
 */
#ifndef ZOND_CLI_H
#define ZOND_CLI_H

#include <stdbool.h>

#include "conf.h"

/* Print "PROG VERSION (git REV)" to stdout. */
void cli_version(const char *prog);

/*
 * Load path into obj with tab.  On error print "file:line: message" to
 * stderr and return false.  With check set, print "PATH: configuration OK"
 * and the effective values to stdout on success.
 */
bool cli_load_config(const struct conf_opt *tab, void *obj, const char *path,
    bool check);

/* sodium_init() or exit with a message.  Call once, first thing in main. */
void cli_crypto_init(const char *prog);

/* The command line every daemon shares. */
struct cli_args {
	const char *config;	/* -c FILE */
	bool check;		/* -n */
	int verbose;		/* -v, repeatable */
	bool once;		/* --once (when allowed) */
};

/*
 * Parse the shared daemon command line.  Returns -1 when the program
 * should go on, or the exit status to return now (--help, --version,
 * --config-reference, usage errors).
 */
int cli_parse(int argc, char **argv, const char *prog, const char *summary,
    const char *default_config, const struct conf_opt *tab, bool allow_once,
    struct cli_args *a);
#endif
