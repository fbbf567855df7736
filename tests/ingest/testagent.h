/*
 * testagent.h — what the ingest test tools share: deterministic test
 * agent keys and measurements, so that a sender restarted from its ack
 * log resends byte-identical signed measurements (as a real agent resends
 * from its outbox) and the checker can name every expected (agent, seq).
 */
#ifndef TESTS_INGEST_TESTAGENT_H
#define TESTS_INGEST_TESTAGENT_H

#include <stdint.h>

#include "err.h"
#include "key.h"
#include "zbuf.h"

/* Key of test agent idx of run seed. */
zerr_t ta_key(const char *seed, unsigned idx, zkey_t **out) ZWUR;

/*
 * Build and sign measurement seq of agent k: id from base_ms + seq and a
 * hash of (seed, idx, seq); start base_us + seq ms.  body is reset and
 * filled; pad adds that many bytes to the target (for oversized tests).
 * agent_field (NULL: k's own key) is written into the agent field.
 * ta_id_of (tests of id reuse) sets id_override to another seq's id.
 */
zerr_t ta_measurement(const zkey_t *k, const char *seed, unsigned idx,
    uint64_t seq, int64_t base_us, const uint8_t *agent_field, size_t pad,
    zbuf_t *body, uint8_t sig[KEY_SIG_LEN]) ZWUR;
extern const uint8_t *ta_id_override;

#endif
