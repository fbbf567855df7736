/*
 * queue.h — the NFQUEUE side of zond-censor: read queued packets, decide
 * (censor.h), send the forged packets over a raw socket, then give the
 * verdict with the flow mark.  Single-threaded; the caller polls
 * cq_fd() and calls cq_service() when it is readable.
 *
 * hits[i] (owned by the caller, one per rule) counts the packets rule i
 * matched in userspace.
 */
#ifndef ZOND_LAB_QUEUE_H
#define ZOND_LAB_QUEUE_H

#include <stdint.h>

#include "rules.h"

typedef struct cq cq_t;

zerr_t cq_open(unsigned num, const struct ruleset *rs, uint64_t *hits,
    cq_t **out, zdiag_t *d) ZWUR;
int cq_fd(const cq_t *q);
/* Handle what is waiting on the queue socket (never blocks). */
void cq_service(cq_t *q);
void cq_free(cq_t **qp);

#endif
