/* verify.h — offline verification of JSONL exports (verify.c). */
#ifndef ZONDCTL_VERIFY_H
#define ZONDCTL_VERIFY_H

#include <stdint.h>
#include <stdio.h>

/* Check every record of path; invalid ones are named on out.  Returns 0
 * when the file was read to the end, -1 otherwise. */
int verify_file(const char *path, int nthreads, FILE *out, uint64_t *nvalid,
    uint64_t *ninvalid);
/* The `zondctl verify` command. */
int cmd_verify(int argc, char **argv);

#endif
