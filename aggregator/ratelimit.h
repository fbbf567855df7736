/*
 * ratelimit.h — a per-source rate limit in a fixed-size table (GCRA, the
 * "virtual scheduling" form of a token bucket).
 *
 * Each source (an address as bytes) may pass `rate` times per minute, up
 * to `rate` at once.  The table has a fixed number of slots chosen at
 * creation, in sets of RL_WAYS: a source is looked up in its set only
 * (keyed SipHash with a random key, so senders cannot aim at one set), and
 * a new source takes the slot of its set that owes least.  Memory never
 * grows with the number of sources seen; a flood from very many addresses
 * evicts entries (each of those addresses then starts afresh), which only
 * makes the limit looser for them, never tighter for others.
 * Pure: time is passed in.  Not thread-safe (one owner).
 */
#ifndef AGGREGATOR_RATELIMIT_H
#define AGGREGATOR_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_WAYS 4

typedef struct rlimit rlimit_t;

/* slots is rounded up to a multiple of RL_WAYS (at least RL_WAYS); rate
 * per minute >= 1.  NULL when out of memory.  Caller frees with
 * rl_free. */
rlimit_t *rl_new(size_t slots, uint32_t rate_per_min);
void rl_free(rlimit_t **rl);
/* May src pass at now_us (monotonic)?  Counts the pass when it may. */
bool rl_allow(rlimit_t *rl, const void *src, size_t len, int64_t now_us);
/* Slots in the table (its fixed size). */
size_t rl_slots(const rlimit_t *rl);

#endif
