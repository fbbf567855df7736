/*
 * wire.h — the wire envelope: size limits, version check, decode and
 * encode of Uplink/Downlink frames and signed measurements.
 *
 * Every frame is length-checked before it is decoded; every decoded
 * message is checked for the fields the protocol requires before anyone
 * reads it.  docs/PROTOCOL.md is the normative description.
 * Decoded messages are protobuf-c objects; free them with the matching
 * wire_*_free (accepts NULL).  All functions are thread-safe.
 */
#ifndef ZOND_WIRE_H
#define ZOND_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "zbuf.h"
#include "zond.pb-c.h"

#define WIRE_VERSION 1
#define WIRE_MAX_FRAME (1024 * 1024)	/* one ZeroMQ message; ZMQ_MAXMSGSIZE */
#define WIRE_MAX_MEASUREMENT (64 * 1024)	/* one Measurement encoding */
#define WIRE_MAX_BATCH 256		/* measurements per Batch */
#define WIRE_ID_LEN 16
/* The id's time (bytes 0-5, ms) may differ from start_us by this much. */
#define WIRE_ID_SKEW_MS 60000
/* What the transport reads (ZMQ_MAXMSGSIZE) for a frame limit of n bytes:
 * frames up to twice the limit are read and refused with REJECT_OVERSIZED;
 * CURVE adds 33 bytes to each message (docs/PROTOCOL.md "Size limits"). */
#define WIRE_TRANSPORT_MAX(n) (2 * (int64_t)(n) + 64)

typedef Zond__V1__Uplink wire_uplink_t;
typedef Zond__V1__Downlink wire_downlink_t;
typedef Zond__V1__Measurement wire_meas_t;
typedef Zond__V1__SignedMeasurement wire_signed_t;

zerr_t wire_uplink_decode(const uint8_t *p, size_t n, wire_uplink_t **out,
    zdiag_t *d) ZWUR;
void wire_uplink_free(wire_uplink_t *m);
zerr_t wire_downlink_decode(const uint8_t *p, size_t n,
    wire_downlink_t **out, zdiag_t *d) ZWUR;
void wire_downlink_free(wire_downlink_t *m);

/*
 * Decode a measurement body and check the fields every measurement must
 * carry: id (16 bytes), seq > 0, agent (32 bytes), start_us, test, outcome.
 */
zerr_t wire_meas_decode(const uint8_t *body, size_t n, wire_meas_t **out,
    zdiag_t *d) ZWUR;
void wire_meas_free(wire_meas_t *m);

/*
 * What the protocol promises beyond decoding (docs/PROTOCOL.md "Ids",
 * "Fields"), for a measurement m decoded from body: the id's time is
 * within WIRE_ID_SKEW_MS of start_us, and every string field anywhere in
 * the body is valid UTF-8 without NUL.  ZE_PARSE with the field named.
 */
zerr_t wire_meas_check(const wire_meas_t *m, const uint8_t *body, size_t n,
    zdiag_t *d) ZWUR;

/* Only the strings part of wire_meas_check: every string field of the
 * Measurement encoding body is valid UTF-8 without NUL. */
zerr_t wire_meas_strings_check(const uint8_t *body, size_t n, zdiag_t *d)
    ZWUR;

/*
 * Make every string field of message m (and of the messages inside it)
 * valid UTF-8, in place (each byte of an invalid sequence becomes '?'):
 * what an agent does to the outcome it took from the network before it
 * signs a measurement.  m must own its strings.
 */
void wire_msg_sanitize(ProtobufCMessage *m);

/*
 * The seq (field 2) of a Measurement encoding, read from the wire format
 * alone, so that a body that does not decode or lacks other fields can
 * still be named in its reject.  ZE_NOTFOUND when absent, 0 or unreadable.
 */
zerr_t wire_seq_peek(const uint8_t *body, size_t n, uint64_t *seq) ZWUR;

/* Structural check of one signed item: body present and within limits,
 * signature 64 bytes. */
zerr_t wire_signed_check(const wire_signed_t *s, zdiag_t *d) ZWUR;

/* Verify a signed item against pk (structure, then signature). */
zerr_t wire_signed_verify(const wire_signed_t *s,
    const uint8_t pk[KEY_PUB_LEN]) ZWUR;

/* Encode m into out (appended) and sign it: body = encoding, sig. */
zerr_t wire_meas_seal(const zkey_t *k, const wire_meas_t *m, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN]) ZWUR;

/* Encode any message into out (appended), refusing more than out->max. */
zerr_t wire_pack(const ProtobufCMessage *m, zbuf_t *out) ZWUR;

/* Names for logs and exports. */
const char *wire_reject_name(Zond__V1__RejectReason r);
const char *wire_test_name(Zond__V1__TestKind t);
zerr_t wire_test_from_name(const char *name, Zond__V1__TestKind *t) ZWUR;
const char *wire_failure_name(Zond__V1__Failure f);

#endif
