/* wire.c — see wire.h. */
#include "wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sign.h"
#include "utf8.h"
#include "zid.h"

zerr_t
wire_pack(const ProtobufCMessage *m, zbuf_t *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *w;
	zerr_t e;

	if ((e = zbuf_reserve(out, n, &w)) != ZE_OK)
		return e;
	if (protobuf_c_message_pack(m, w) != n)
		return ZE_INVAL;
	out->len += n;
	out->data[out->len] = '\0';
	return ZE_OK;
}

static zerr_t
frame_precheck(size_t n, const char *what, zdiag_t *d)
{
	if (n == 0)
		return zdiag_set(d, ZE_TRUNC, "empty %s frame", what);
	if (n > WIRE_MAX_FRAME)
		return zdiag_set(d, ZE_TOOBIG, "%s frame of %zu bytes is over "
		    "the %d-byte limit", what, n, WIRE_MAX_FRAME);
	return ZE_OK;
}

zerr_t
wire_uplink_decode(const uint8_t *p, size_t n, wire_uplink_t **out,
    zdiag_t *d)
{
	wire_uplink_t *m;
	zerr_t e;

	*out = NULL;
	if ((e = frame_precheck(n, "uplink", d)) != ZE_OK)
		return e;
	m = zond__v1__uplink__unpack(NULL, n, p);
	if (m == NULL)
		return zdiag_set(d, ZE_PARSE, "uplink frame of %zu bytes is "
		    "not a valid Uplink message", n);
	if (!m->has_version) {
		e = zdiag_set(d, ZE_PARSE, "uplink frame has no version");
		goto bad;
	}
	if (m->version != WIRE_VERSION) {
		e = zdiag_set(d, ZE_VERSION, "uplink protocol version %u is "
		    "not supported (this side speaks %d)", m->version,
		    WIRE_VERSION);
		goto bad;
	}
	switch (m->msg_case) {
	case ZOND__V1__UPLINK__MSG_HELLO:
	case ZOND__V1__UPLINK__MSG_HEARTBEAT:
	case ZOND__V1__UPLINK__MSG_ENROLL:
		break;
	case ZOND__V1__UPLINK__MSG_BATCH:
		if (m->batch->n_items > WIRE_MAX_BATCH) {
			e = zdiag_set(d, ZE_TOOBIG, "batch of %zu measurements"
			    " is over the limit of %d", m->batch->n_items,
			    WIRE_MAX_BATCH);
			goto bad;
		}
		break;
	default:
		e = zdiag_set(d, ZE_PARSE, "uplink frame carries no message");
		goto bad;
	}
	*out = m;
	return ZE_OK;
bad:
	zond__v1__uplink__free_unpacked(m, NULL);
	return e;
}

void
wire_uplink_free(wire_uplink_t *m)
{
	if (m != NULL)
		zond__v1__uplink__free_unpacked(m, NULL);
}

zerr_t
wire_downlink_decode(const uint8_t *p, size_t n, wire_downlink_t **out,
    zdiag_t *d)
{
	wire_downlink_t *m;
	zerr_t e;

	*out = NULL;
	if ((e = frame_precheck(n, "downlink", d)) != ZE_OK)
		return e;
	m = zond__v1__downlink__unpack(NULL, n, p);
	if (m == NULL)
		return zdiag_set(d, ZE_PARSE, "downlink frame of %zu bytes is "
		    "not a valid Downlink message", n);
	if (!m->has_version) {
		e = zdiag_set(d, ZE_PARSE, "downlink frame has no version");
		goto bad;
	}
	if (m->version != WIRE_VERSION) {
		e = zdiag_set(d, ZE_VERSION, "downlink protocol version %u is "
		    "not supported (this side speaks %d)", m->version,
		    WIRE_VERSION);
		goto bad;
	}
	/* a time reply (PROTOCOL.md "Clock") is server_us alone */
	if (m->msg_case == ZOND__V1__DOWNLINK__MSG__NOT_SET &&
	    !m->has_server_us) {
		e = zdiag_set(d, ZE_PARSE, "downlink frame carries no "
		    "message and no server time");
		goto bad;
	}
	*out = m;
	return ZE_OK;
bad:
	zond__v1__downlink__free_unpacked(m, NULL);
	return e;
}

void
wire_downlink_free(wire_downlink_t *m)
{
	if (m != NULL)
		zond__v1__downlink__free_unpacked(m, NULL);
}

zerr_t
wire_meas_decode(const uint8_t *body, size_t n, wire_meas_t **out,
    zdiag_t *d)
{
	wire_meas_t *m;
	const char *missing = NULL;

	*out = NULL;
	if (n == 0)
		return zdiag_set(d, ZE_TRUNC, "empty measurement");
	if (n > WIRE_MAX_MEASUREMENT)
		return zdiag_set(d, ZE_TOOBIG, "measurement of %zu bytes is "
		    "over the %d-byte limit", n, WIRE_MAX_MEASUREMENT);
	if ((m = zond__v1__measurement__unpack(NULL, n, body)) == NULL)
		return zdiag_set(d, ZE_PARSE, "measurement of %zu bytes does "
		    "not decode", n);
	if (!m->has_id || m->id.len != WIRE_ID_LEN)
		missing = "id (16 bytes)";
	else if (!m->has_seq || m->seq == 0)
		missing = "seq (> 0)";
	else if (!m->has_agent || m->agent.len != KEY_PUB_LEN)
		missing = "agent (32 bytes)";
	else if (!m->has_start_us)
		missing = "start_us";
	else if (!m->has_test || m->test == ZOND__V1__TEST_KIND__TEST_UNKNOWN)
		missing = "test";
	else if (m->outcome == NULL)
		missing = "outcome";
	if (missing != NULL) {
		zond__v1__measurement__free_unpacked(m, NULL);
		return zdiag_set(d, ZE_PARSE, "measurement lacks required "
		    "field %s", missing);
	}
	*out = m;
	return ZE_OK;
}

/* ------------------------------------------------ the wire format itself */

#define WALK_DEPTH 8	/* Measurement nests 3 deep today */

/* A base-128 varint at *p (below end); advances *p.  -1 when truncated or
 * longer than 10 bytes. */
static int
rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned sh = 0; sh < 70 && *p < end; sh += 7) {
		uint8_t c = *(*p)++;

		x |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/*
 * One field of an encoding at *p: its number and wire type; for
 * length-delimited fields *val and *vlen; advances *p past it.  -1 on
 * truncation, groups or a field number of 0.
 */
static int
rd_field(const uint8_t **p, const uint8_t *end, uint32_t *num, int *wt,
    const uint8_t **val, size_t *vlen, uint64_t *vint)
{
	uint64_t tag, len;

	if (rd_varint(p, end, &tag) != 0 || (tag >> 3) == 0 ||
	    (tag >> 3) > 0x1fffffff)
		return -1;
	*num = (uint32_t)(tag >> 3);
	*wt = (int)(tag & 7);
	switch (*wt) {
	case 0:
		return rd_varint(p, end, vint);
	case 1:
		if (end - *p < 8)
			return -1;
		*p += 8;
		return 0;
	case 5:
		if (end - *p < 4)
			return -1;
		*p += 4;
		return 0;
	case 2:
		if (rd_varint(p, end, &len) != 0 ||
		    len > (uint64_t)(end - *p))
			return -1;
		*val = *p;
		*vlen = (size_t)len;
		*p += len;
		return 0;
	default:
		return -1;
	}
}

zerr_t
wire_seq_peek(const uint8_t *body, size_t n, uint64_t *seq)
{
	const uint8_t *p = body, *end = body + n, *val;
	uint64_t v = 0, found = 0;
	uint32_t num;
	size_t vlen;
	int wt;

	if (body == NULL)
		return ZE_NOTFOUND;
	while (p < end) {
		if (rd_field(&p, end, &num, &wt, &val, &vlen, &v) != 0)
			break;
		if (num == 2 && wt == 0)
			found = v;	/* the last one wins, as in decoding */
	}
	if (found == 0)
		return ZE_NOTFOUND;
	*seq = found;
	return ZE_OK;
}

/* The fields from the top message down to a refused one, for the
 * diagnostic; formatted only when a field is refused. */
struct wpath {
	const struct wpath *up;
	const char *name;
};

static void
wpath_fmt(const struct wpath *w, char *buf, size_t n)
{
	size_t k;

	if (w->up == NULL) {
		snprintf(buf, n, "%s", w->name);
		return;
	}
	wpath_fmt(w->up, buf, n);
	k = strlen(buf);
	snprintf(buf + k, n - k, ".%s", w->name);
}

/* Every string field of an encoding of message type md (reached through
 * up; NULL: the top): valid UTF-8, no NUL. */
static zerr_t
strings_walk(const ProtobufCMessageDescriptor *md, const uint8_t *p,
    size_t n, const struct wpath *up, int depth, zdiag_t *d)
{
	const uint8_t *end = p + n, *val = NULL;
	uint64_t vint;
	uint32_t num;
	size_t vlen = 0;
	int wt;

	if (depth > WALK_DEPTH)
		return zdiag_set(d, ZE_PARSE, "measurement nests too deep");
	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		struct wpath here;
		const char *why = NULL;
		char path[128];
		zerr_t e;

		if (rd_field(&p, end, &num, &wt, &val, &vlen, &vint) != 0) {
			path[0] = '\0';
			if (up != NULL)
				wpath_fmt(up, path, sizeof(path));
			return zdiag_set(d, ZE_PARSE, "measurement is not a "
			    "valid protobuf encoding%s%s", *path ? " in " : "",
			    path);
		}
		if (wt != 2 ||
		    (f = protobuf_c_message_descriptor_get_field(md, num)) ==
		    NULL)
			continue;	/* unknown fields are not ours to judge */
		here.up = up;
		here.name = f->name;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if ((e = strings_walk(f->descriptor, val, vlen, &here,
			    depth + 1, d)) != ZE_OK)
				return e;
			continue;
		}
		if (f->type != PROTOBUF_C_TYPE_STRING)
			continue;
		if (memchr(val, '\0', vlen) != NULL)
			why = "contains a NUL byte";
		else if (!utf8_text_ok(val, vlen))
			why = "is not valid UTF-8";
		if (why != NULL) {
			wpath_fmt(&here, path, sizeof(path));
			return zdiag_set(d, ZE_PARSE, "string field %s %s", path,
			    why);
		}
	}
	return ZE_OK;
}

zerr_t
wire_meas_strings_check(const uint8_t *body, size_t n, zdiag_t *d)
{
	return strings_walk(&zond__v1__measurement__descriptor, body, n, NULL,
	    0, d);
}

_Static_assert(ZID_LEN == WIRE_ID_LEN, "a measurement id is a zid");

zerr_t
wire_meas_check(const wire_meas_t *m, const uint8_t *body, size_t n,
    zdiag_t *d)
{
	zid_t id;
	int64_t dt;

	memcpy(id.b, m->id.data, ZID_LEN);
	/* both sides in ms: no overflow for any int64 start_us */
	dt = zid_time_ms(&id) - m->start_us / 1000;
	if (dt > WIRE_ID_SKEW_MS || dt < -WIRE_ID_SKEW_MS)
		return zdiag_set(d, ZE_PARSE, "id time differs from start_us "
		    "by %" PRId64 " ms (at most %d allowed)", dt,
		    WIRE_ID_SKEW_MS);
	return wire_meas_strings_check(body, n, d);
}

/* Replace each byte of an invalid UTF-8 sequence (or NUL: cannot occur in
 * a C string) with '?'. */
static void
sanitize_str(char *s)
{
	size_t n, l;

	if (s == NULL)
		return;
	n = strlen(s);
	for (size_t i = 0; i < n; i += l) {
		if ((l = utf8_len((unsigned char *)s + i, n - i)) == 0) {
			s[i] = '?';
			l = 1;
		}
	}
}

static void
sanitize_msg(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;
	char *base = (char *)m;

	if (depth > WALK_DEPTH)
		return;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		void *p = base + f->offset;
		size_t cnt = 1;
		void **arr = p;

		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			cnt = *(size_t *)(void *)(base + f->quantifier_offset);
			arr = *(void ***)p;
		} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)(void *)(base + f->quantifier_offset) !=
		    f->id)
			continue;
		for (size_t j = 0; arr != NULL && j < cnt; j++) {
			if (arr[j] == NULL)
				continue;
			if (f->type == PROTOBUF_C_TYPE_STRING)
				sanitize_str(arr[j]);
			else
				sanitize_msg(arr[j], depth + 1);
		}
	}
}

void
wire_msg_sanitize(ProtobufCMessage *m)
{
	if (m != NULL)
		sanitize_msg(m, 0);
}

void
wire_meas_free(wire_meas_t *m)
{
	if (m != NULL)
		zond__v1__measurement__free_unpacked(m, NULL);
}

zerr_t
wire_signed_check(const wire_signed_t *s, zdiag_t *d)
{
	if (!s->has_body || s->body.len == 0)
		return zdiag_set(d, ZE_PARSE, "signed measurement has no body");
	if (s->body.len > WIRE_MAX_MEASUREMENT)
		return zdiag_set(d, ZE_TOOBIG, "measurement of %zu bytes is "
		    "over the %d-byte limit", s->body.len,
		    WIRE_MAX_MEASUREMENT);
	if (!s->has_sig || s->sig.len != KEY_SIG_LEN)
		return zdiag_set(d, ZE_PARSE, "signature must be %d bytes",
		    KEY_SIG_LEN);
	return ZE_OK;
}

zerr_t
wire_signed_verify(const wire_signed_t *s, const uint8_t pk[KEY_PUB_LEN])
{
	zerr_t e;

	if ((e = wire_signed_check(s, NULL)) != ZE_OK)
		return e;
	return sign_verify(ZDOM_MEASUREMENT, pk, s->body.data, s->body.len,
	    s->sig.data);
}

zerr_t
wire_meas_seal(const zkey_t *k, const wire_meas_t *m, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN])
{
	size_t start = body->len;
	zerr_t e;

	if (protobuf_c_message_get_packed_size(&m->base) >
	    WIRE_MAX_MEASUREMENT)
		return ZE_TOOBIG;
	if ((e = wire_pack(&m->base, body)) != ZE_OK)
		return e;
	return sign_body(k, ZDOM_MEASUREMENT, body->data + start,
	    body->len - start, sig);
}

const char *
wire_reject_name(Zond__V1__RejectReason r)
{
	switch (r) {
	case ZOND__V1__REJECT_REASON__REJECT_BAD_SIGNATURE:
		return "bad_signature";
	case ZOND__V1__REJECT_REASON__REJECT_UNKNOWN_AGENT:
		return "unknown_agent";
	case ZOND__V1__REJECT_REASON__REJECT_DISABLED:
		return "disabled_agent";
	case ZOND__V1__REJECT_REASON__REJECT_MALFORMED:
		return "malformed";
	case ZOND__V1__REJECT_REASON__REJECT_OVERSIZED:
		return "oversized";
	case ZOND__V1__REJECT_REASON__REJECT_VERSION:
		return "version";
	case ZOND__V1__REJECT_REASON__REJECT_CLOCK:
		return "clock";
	case ZOND__V1__REJECT_REASON__REJECT_AGENT_MISMATCH:
		return "agent_mismatch";
	case ZOND__V1__REJECT_REASON__REJECT_STORAGE:
		return "storage";
	case ZOND__V1__REJECT_REASON__REJECT_DUPLICATE_ID:
		return "duplicate_id";
	default:
		return "unspecified";
	}
}

static const char *const test_names[] = {
	[ZOND__V1__TEST_KIND__TEST_UNKNOWN] = "unknown",
	[ZOND__V1__TEST_KIND__TEST_DNS] = "dns",
	[ZOND__V1__TEST_KIND__TEST_TCP] = "tcp",
	[ZOND__V1__TEST_KIND__TEST_TLS] = "tls",
	[ZOND__V1__TEST_KIND__TEST_HTTP] = "http",
	[ZOND__V1__TEST_KIND__TEST_STUN] = "stun",
	[ZOND__V1__TEST_KIND__TEST_QUIC] = "quic",
	[ZOND__V1__TEST_KIND__TEST_THROUGHPUT] = "throughput",
	[ZOND__V1__TEST_KIND__TEST_FREEZE] = "freeze",
	[ZOND__V1__TEST_KIND__TEST_VPN] = "vpn",
	[ZOND__V1__TEST_KIND__TEST_DOH] = "doh",
	[ZOND__V1__TEST_KIND__TEST_CALL] = "call",
};

const char *
wire_test_name(Zond__V1__TestKind t)
{
	if ((unsigned)t >= ZARRAY_LEN(test_names) || test_names[t] == NULL)
		return "unknown";
	return test_names[t];
}

zerr_t
wire_test_from_name(const char *name, Zond__V1__TestKind *t)
{
	for (size_t i = 1; i < ZARRAY_LEN(test_names); i++) {
		if (test_names[i] != NULL && strcmp(test_names[i], name) == 0) {
			*t = (Zond__V1__TestKind)i;
			return ZE_OK;
		}
	}
	return ZE_NOTFOUND;
}

static const char *const failure_names[] = {
	[ZOND__V1__FAILURE__FAIL_NONE] = "none",
	[ZOND__V1__FAILURE__FAIL_TIMEOUT] = "timeout",
	[ZOND__V1__FAILURE__FAIL_REFUSED] = "refused",
	[ZOND__V1__FAILURE__FAIL_UNREACHABLE] = "unreachable",
	[ZOND__V1__FAILURE__FAIL_RESET] = "reset",
	[ZOND__V1__FAILURE__FAIL_NXDOMAIN] = "nxdomain",
	[ZOND__V1__FAILURE__FAIL_SERVFAIL] = "servfail",
	[ZOND__V1__FAILURE__FAIL_DNS_REFUSED] = "dns_refused",
	[ZOND__V1__FAILURE__FAIL_BOGON] = "bogon",
	[ZOND__V1__FAILURE__FAIL_MULTIPLE_RESPONSES] = "multiple_responses",
	[ZOND__V1__FAILURE__FAIL_EOF] = "eof",
	[ZOND__V1__FAILURE__FAIL_CERT_INVALID] = "cert_invalid",
	[ZOND__V1__FAILURE__FAIL_BLOCKPAGE] = "blockpage",
	[ZOND__V1__FAILURE__FAIL_BLOCKPAGE_REDIRECT] = "blockpage_redirect",
	[ZOND__V1__FAILURE__FAIL_BAD_RESPONSE] = "bad_response",
	[ZOND__V1__FAILURE__FAIL_STALL] = "stall",
	[ZOND__V1__FAILURE__FAIL_NO_REPLY] = "no_reply",
	[ZOND__V1__FAILURE__FAIL_TLS_ERROR] = "tls_error",
	[ZOND__V1__FAILURE__FAIL_HTTP_ERROR] = "http_error",
	[ZOND__V1__FAILURE__FAIL_LOCAL] = "local",
};

const char *
wire_failure_name(Zond__V1__Failure f)
{
	if ((unsigned)f >= ZARRAY_LEN(failure_names) ||
	    failure_names[f] == NULL)
		return "unknown";
	return failure_names[f];
}
