/*
 * zond-helper — control endpoints an operator runs outside the censored
 * network: STUN, QUIC- and VPN-shaped UDP replies, a UDP baseline echo and
 * a TCP bulk source for throughput and freeze tests.
 */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "log.h"

#define PROG "zond-helper"

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct helper_conf conf;
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
	if (!cli_load_config(helper_conf_tab, &conf, a.config, a.check))
		return 1;
	rc = a.check ? 0 : cli_notimpl(PROG, "the helper daemon");
	conf_free(helper_conf_tab, &conf);
	return rc;
}
