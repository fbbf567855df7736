/*
 * zond-aggregator — ingest, storage, analysis and the HTTP API.
 */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "log.h"

#define PROG "zond-aggregator"

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct aggr_conf conf;
	int rc;

	cli_crypto_init(PROG);
	rc = cli_parse(argc, argv, PROG,
	    "Receives signed measurements from agents over CurveZMQ, stores\n"
	    "them in LMDB, judges them against control and serves maps.",
	    "/etc/zond/aggregator.conf", aggr_conf_tab, false, &a);
	if (rc >= 0)
		return rc;
	log_init(PROG, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (!cli_load_config(aggr_conf_tab, &conf, a.config, a.check))
		return 1;
	rc = a.check ? 0 : cli_notimpl(PROG, "the aggregator daemon");
	conf_free(aggr_conf_tab, &conf);
	return rc;
}
