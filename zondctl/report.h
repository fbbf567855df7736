/* report.h — `zondctl map` and `zondctl export` (report.c). */
#ifndef ZONDCTL_REPORT_H
#define ZONDCTL_REPORT_H

#include <stdbool.h>

#include "store.h"

/* Open the aggregator's store for command cmd; prints the error.  0 ok.
 * (zondctl/main.c) */
int ctl_open_store(const char *cmd, const char *dir, bool readonly,
    store_t **s);

int cmd_map(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
