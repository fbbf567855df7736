/*
 * enroll.h — `zond-agent --enroll TOKEN [--accept-risk] [-c CONFIG]`:
 * from a token to an enrolled agent (docs/PROTOCOL.md 7,
 * docs/OPERATIONS.md "Enrolling a volunteer with a token").
 *
 * Decodes the token, shows the volunteer notice and asks for "yes",
 * creates the identity key, writes CONFIG (atomically; never over a
 * config that names another aggregator), sends Uplink.enroll and waits at
 * most ENROLL_WAIT_MS for the EnrollResult.  Exit status: 0 admitted;
 * 1 refused by the aggregator, or a local failure (config, key); 2 usage,
 * a damaged token, or no consent; 3 no answer in time.
 */
#ifndef AGENT_ENROLL_H
#define AGENT_ENROLL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "zbuf.h"

#define ENROLL_WAIT_MS 30000
#define ENROLL_RESEND_MS 5000

/* True when the command line asks for --enroll. */
bool agent_enroll_wanted(int argc, char **argv);
/* Run the enrollment; returns the exit status above. */
int agent_enroll_main(int argc, char **argv);

/* What enrollment writes into [uplink]. */
struct enroll_conf_vals {
	const char *endpoint;
	const char *server_key;		/* hex */
	const char *operator_key;	/* hex, or NULL: left as it is */
	const char *key;		/* [agent] key, for a new file */
	const char *state_dir;		/* [agent] state_dir, for a new file */
	const char *relays;		/* "URL, URL", or NULL: left as it is */
};

/*
 * The config text to write: old (NULL: no file yet) with [uplink]
 * endpoint, server_key, operator_key and relays set to v's (lines replaced in
 * place, missing ones added at the end of [uplink], the section added if
 * absent); every other line kept as it is.  Pure.
 */
zerr_t enroll_conf_merge(const char *old, size_t n,
    const struct enroll_conf_vals *v, zbuf_t *out, zdiag_t *d) ZWUR;

#endif
