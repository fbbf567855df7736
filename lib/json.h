/*
 * json.h — JSON output: escaped strings, any protobuf-c message, and the
 * measurement record of INTERFACES.md "Export record".
 *
 * Writers append to a zbuf and fail with ZE_TOOBIG at its cap.  Strings
 * from the network may hold anything: invalid UTF-8 becomes U+FFFD and
 * control characters are escaped, so every output line is valid JSON.
 * Conventions (docs/DATA.md): enums as lowercase names without their
 * prefix (FAIL_RESET -> "reset"), bytes as lowercase hex, times as
 * ISO 8601 UTC, absent optional fields omitted.
 */
#ifndef ZOND_JSON_H
#define ZOND_JSON_H

#include <stdint.h>

#include "wire.h"
#include "zbuf.h"

zerr_t json_str(zbuf_t *b, const char *s, size_t n) ZWUR;
zerr_t json_cstr(zbuf_t *b, const char *s) ZWUR;	/* NULL -> null */
zerr_t json_hex(zbuf_t *b, const uint8_t *p, size_t n) ZWUR;
zerr_t json_b64(zbuf_t *b, const uint8_t *p, size_t n) ZWUR;
/* Any message as a JSON object, field names as in zond.proto. */
zerr_t json_message(zbuf_t *b, const ProtobufCMessage *m) ZWUR;
/* Lowercase enum name without its first "PREFIX_". */
const char *json_enum_name(const ProtobufCEnumDescriptor *d, int value,
    char *buf, size_t len);

/* What the aggregator knows beside the signed measurement. */
struct json_meas_extra {
	const char *region;	/* NULL: unknown (agent-side output) */
	int64_t asn;		/* 0: unknown */
	const char *role;	/* "probe" / "control"; NULL: unknown */
	const char *network;	/* the agent's network type ("fixed",
				 * "mobile", "unknown"); NULL: omitted */
	const char *verdict;	/* NULL: "pending" */
	const char *method;	/* NULL: null */
	const char *where;	/* where the censor sits (blocked or
				 * throttled with a localization); NULL:
				 * omitted */
	uint32_t censor_asn;	/* the censor hop's ASN from the operator's
				 * IP-to-ASN table; 0: omitted */
	const char *time_by;	/* how the start was placed ("signed",
				 * "boot", "unplaced"); NULL: omit time */
	int64_t time_us;	/* the placed start (zclock.h) */
	const uint8_t *body;	/* signed Measurement bytes; NULL: omit */
	size_t body_len;
	const uint8_t *sig;	/* 64 bytes; NULL: omit */
};

/* One export record (no trailing newline). */
/* ,"signed":BASE64,"sig":BASE64 of a signed measurement: the bytes its
 * signature covers (sign_signed_bytes: domain and body) and the
 * signature, as export records carry them (docs/DATA.md). */
zerr_t json_signed_sig(zbuf_t *b, const uint8_t *body, size_t n,
    const uint8_t sig[64]) ZWUR;

zerr_t json_measurement(zbuf_t *b, const wire_meas_t *m,
    const struct json_meas_extra *x) ZWUR;

#endif
