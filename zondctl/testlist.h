/* testlist.h — `zondctl testlist sign|show|push` (testlist.c). */
#ifndef ZONDCTL_TESTLIST_H
#define ZONDCTL_TESTLIST_H

int cmd_testlist(int argc, char **argv);

#endif
