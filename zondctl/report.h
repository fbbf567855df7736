/* report.h — `zondctl map` and `zondctl export` (report.c). */
#ifndef ZONDCTL_REPORT_H
#define ZONDCTL_REPORT_H

int cmd_map(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
