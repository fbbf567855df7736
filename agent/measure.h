/*
 * measure.h — turn a scheduler result into a signed measurement.
 *
 * The main loop owns the id generator and sequence numbers; this module
 * only assembles the Measurement (proto/zond.proto), encodes and signs it.
 */
#ifndef AGENT_MEASURE_H
#define AGENT_MEASURE_H

#include <stdint.h>

#include "clock.h"
#include "key.h"
#include "scheduler.h"
#include "targets.h"
#include "zbuf.h"
#include "zid.h"

struct measure_ctx {
	const zkey_t *key;
	zidgen_t *ids;
	const char *resolver;	/* what the agent used for DNS */
	uint64_t list_version;
	const struct aclock *clock;	/* NULL: no ClockCheck, wall time */
};

/* Assemble, encode into body (appended) and sign.  seq > 0. */
zerr_t measure_seal(const struct measure_ctx *c, const target_t *t,
    const sched_result_t *r, uint64_t seq, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN]) ZWUR;

#endif
