/* testlist.h — `zondctl testlist sign|show|push` (testlist.c). */
#ifndef ZONDCTL_TESTLIST_H
#define ZONDCTL_TESTLIST_H

/* The aggregator config given with the global -c, or NULL (main.c). */
const char *ctl_config(void);

int cmd_testlist(int argc, char **argv);

#endif
