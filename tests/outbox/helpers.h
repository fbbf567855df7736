/*
 * helpers.h — shared by the outbox and uplink tests: temporary
 * directories for real LMDB environments, and real signed measurements.
 */
#ifndef TEST_OUTBOX_HELPERS_H
#define TEST_OUTBOX_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "zbuf.h"

/* mkdtemp under $TMPDIR or /tmp; path needs 256 bytes.  0 on success. */
int th_tmpdir(char *path, size_t n);
/* Remove dir and the files in it (one level: data.mdb, lock.mdb, ...). */
void th_rmdir(const char *path);

/*
 * A valid Measurement with this seq, signed by k: body appended to body
 * (reset first), signature into sig.  pad adds that many bytes to the
 * target so sizes vary.  0 on success.
 */
int th_meas(const zkey_t *k, uint64_t seq, size_t pad, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN]);

/* Deterministic filler: byte i of item seq. */
uint8_t th_byte(uint64_t seq, size_t i);

#endif
