/*
 * zond-agent — the measurement daemon volunteers run.
 *
 * main parses the command line, loads and checks the config, and hands
 * over to the scheduler (daemon) or runs the list once (--once).
 */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "log.h"

#define PROG "zond-agent"

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct agent_conf conf;
	int rc;

	cli_crypto_init(PROG);
	rc = cli_parse(argc, argv, PROG,
	    "Runs Zond's reachability tests on a schedule, signs each result\n"
	    "and sends it to the aggregator.", "/etc/zond/agent.conf",
	    agent_conf_tab, true, &a);
	if (rc >= 0)
		return rc;
	log_init(PROG, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!cli_load_config(agent_conf_tab, &conf, a.config, a.check))
		return 1;
	if (a.check)
		rc = 0;
	else
		rc = cli_notimpl(PROG, a.once ? "--once" :
		    "the measurement daemon");
	conf_free(agent_conf_tab, &conf);
	return rc;
}
