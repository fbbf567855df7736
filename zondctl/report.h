/* report.h — `zondctl map` and `zondctl export` (report.c). */
#ifndef ZONDCTL_REPORT_H
#define ZONDCTL_REPORT_H

#include <stdbool.h>

#include "store.h"

/* Open the aggregator's store for command cmd; prints the error.  0 ok.
 * (zondctl/main.c) */
int ctl_open_store(const char *cmd, const char *dir, bool readonly,
    store_t **s);

/* Map thresholds: the defaults, or [analysis] min_measurements and
 * min_agents of the aggregator config given with the global -c.  -1 (and
 * a message) when that config does not load. */
struct cell_opts;
int ctl_cell_opts(struct cell_opts *co);
/* Judging options of exports: the defaults, with the IP-to-ASN table of
 * [analysis] ip_asn of that config loaded into *asn (caller frees with
 * ipasn_free; NULL when none).  -1 (and a message) when the config or the
 * table does not load. */
struct analyze_opts;
struct ipasn;
struct fpdb;
int ctl_analyze_opts(struct analyze_opts *ao, struct ipasn **asn,
    struct fpdb **fp);
/* The aggregator config given with the global -c, loaded into *conf
 * (caller frees with conf_free when 1): 1 loaded, 0 no -c, -1 (and a
 * message) when it does not load.  (zondctl/main.c) */
struct aggr_conf;
int ctl_config(struct aggr_conf *conf);
int cmd_token(int argc, char **argv);	/* zondctl/token.c */
int cmd_map(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
