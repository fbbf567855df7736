/*
 * zid.h — measurement ids: 16 bytes, unique and time-ordered.
 *
 * Layout (big-endian): 48 bits of Unix time in milliseconds, then 80
 * random bits.  Within one millisecond a generator increments the random
 * part, so ids from one generator strictly increase (ULID's monotonic
 * rule; a clock stepped back by more than ZID_STEP_BACK_MS restarts the
 * sequence at the clock, so an id's time is never more than that ahead of
 * the time it was made for); ids from different agents are unique with overwhelming
 * probability.  Sorting ids as bytes (memcmp, LMDB's default) sorts them
 * by time.  Text form: 32 lowercase hex characters.
 * A zidgen_t is not thread-safe; give each thread its own or lock.
 */
#ifndef ZOND_ZID_H
#define ZOND_ZID_H

#include <stdint.h>

#include "err.h"

#define ZID_LEN 16
/* A clock step back of more than this restarts a generator from the
 * clock (its ids then increase again from there). */
#define ZID_STEP_BACK_MS 1000

typedef struct zid {
	uint8_t b[ZID_LEN];
} zid_t;

typedef struct zidgen {
	zid_t last;
} zidgen_t;

void zidgen_init(zidgen_t *g);
/* Next id for wall time now_us (microseconds). */
void zid_next(zidgen_t *g, int64_t now_us, zid_t *out);
/* Milliseconds since the epoch encoded in the id. */
int64_t zid_time_ms(const zid_t *id);
/* The smallest id of time us (microseconds; negative counts as 0): the
 * millisecond prefix and zeros.  Range scans over time start here. */
void zid_floor(int64_t us, zid_t *id);

#endif
