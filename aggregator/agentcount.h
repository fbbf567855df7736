/*
 * agentcount.h — a count per agent key, shared between threads: the
 * measurements the ingest refused from each enrolled agent since the
 * aggregator started (GET /api/v1/agents "rejected").
 *
 * Keys are 32-byte Ed25519 public keys of enrolled agents (the caller adds
 * no others), so the table holds at most one entry per enrolled agent.
 * Buckets by SipHash with a key drawn at creation (no chosen-key
 * collisions); linear probing; doubles at 3/4 full.  One mutex: adds are
 * rare (refusals), gets are one per agent per /api/v1/agents.
 */
#ifndef ZOND_AGENTCOUNT_H
#define ZOND_AGENTCOUNT_H

#include <stdint.h>

#include "err.h"

typedef struct agentcount agentcount_t;

zerr_t agentcount_new(agentcount_t **out) ZWUR;
void agentcount_free(agentcount_t **c);
/* Add n to pk's count (memory running out: the count is lost, logged by
 * nobody: these are figures, not data). */
void agentcount_add(agentcount_t *c, const uint8_t pk[32], uint64_t n);
/* pk's count; 0 when never added (or c is NULL). */
uint64_t agentcount_get(agentcount_t *c, const uint8_t pk[32]);

#endif
