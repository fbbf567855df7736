/*
 * zond-helper — control endpoints an operator runs outside the censored
 * network: STUN, QUIC- and VPN-shaped UDP replies, a UDP baseline echo and
 * a TCP bulk source (plain and TLS) for throughput and freeze tests.
 * Order matters: parse and check the config, bind (may need root), drop
 * to the configured user, then serve.  docs/HELPER.md describes it all.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define PROG "zond-helper"

static int
level_of(const char *s)
{
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct helper_conf conf;
	struct helper *h = NULL;
	char why[256];
	zdiag_t d;
	int rc;

	cli_crypto_init(PROG);
	rc = cli_parse(argc, argv, PROG,
	    "Answers the agents' UDP probe shapes and serves bulk TCP data,\n"
	    "as the control end of the stun, quic, vpn, throughput and\n"
	    "freeze tests.", "/etc/zond/helper.conf", helper_conf_tab, false,
	    &a);
	if (rc >= 0)
		return rc;
	log_init(PROG, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!cli_load_config(helper_conf_tab, &conf, a.config, false))
		return 1;
	if (helper_conf_check(&conf, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", a.config, why);
		rc = 1;
		goto out;
	}
	if (a.check) {
		printf("%s: configuration OK\n", a.config);
		conf_dump(helper_conf_tab, &conf, stdout);
		rc = 0;
		goto out;
	}
	if (!a.verbose)
		log_setlevel(level_of(conf.log_level));
	if (helper_new(&conf, &h, &d) != ZE_OK) {
		log_warnx("event=start_failed error=\"%s\"", d.text);
		rc = 1;
		goto out;
	}
	if (helper_drop(conf.user, &d) != ZE_OK) {
		log_warnx("event=start_failed error=\"%s\"", d.text);
		rc = 1;
		goto out;
	}
	rc = helper_run(h);
out:
	helper_free(&h);
	conf_free(helper_conf_tab, &conf);
	return rc;
}
