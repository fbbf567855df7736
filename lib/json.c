/* json.c — see json.h.  json_message walks protobuf-c descriptors, so new
 * fields in zond.proto appear in exports without code changes here. */
#include "json.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "sign.h"
#include "utf8.h"
#include "zid.h"
#include "ztime.h"

#define TRY(x) do { zerr_t e_ = (x); if (e_ != ZE_OK) return e_; } while (0)

zerr_t
json_str(zbuf_t *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	TRY(zbuf_putc(b, '"'));
	while (i < n) {
		unsigned char c = p[i];
		size_t l;
		if (c == '"' || c == '\\') {
			TRY(zbuf_putc(b, '\\'));
			TRY(zbuf_putc(b, (char)c));
			i++;
		} else if (c == '\n') {
			TRY(zbuf_puts(b, "\\n"));
			i++;
		} else if (c == '\r') {
			TRY(zbuf_puts(b, "\\r"));
			i++;
		} else if (c == '\t') {
			TRY(zbuf_puts(b, "\\t"));
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			TRY(zbuf_printf(b, "\\u%04x", c));
			i++;
		} else if ((l = utf8_len(p + i, n - i)) == 0) {
			TRY(zbuf_puts(b, "\\ufffd"));
			i++;
		} else {
			TRY(zbuf_append(b, p + i, l));
			i += l;
		}
	}
	return zbuf_putc(b, '"');
}

zerr_t
json_cstr(zbuf_t *b, const char *s)
{
	if (s == NULL)
		return zbuf_puts(b, "null");
	return json_str(b, s, strlen(s));
}

zerr_t
json_hex(zbuf_t *b, const uint8_t *p, size_t n)
{
	uint8_t *w;

	TRY(zbuf_putc(b, '"'));
	TRY(zbuf_reserve(b, 2 * n + 1, &w));
	sodium_bin2hex((char *)w, 2 * n + 1, p, n);
	b->len += 2 * n;
	return zbuf_putc(b, '"');
}

zerr_t
json_b64(zbuf_t *b, const uint8_t *p, size_t n)
{
	size_t m = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	uint8_t *w;

	TRY(zbuf_putc(b, '"'));
	TRY(zbuf_reserve(b, m, &w));
	sodium_bin2base64((char *)w, m, p, n, sodium_base64_VARIANT_ORIGINAL);
	b->len += m - 1;
	return zbuf_putc(b, '"');
}

const char *
json_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf,
    size_t len)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d,
	    value);
	const char *n, *us;
	size_t i;

	if (v == NULL) {
		snprintf(buf, len, "%d", value);
		return buf;
	}
	n = v->name;
	us = strchr(n, '_');
	if (us != NULL && us[1] != '\0')
		n = us + 1;
	for (i = 0; n[i] != '\0' && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)n[i]);
	buf[i] = '\0';
	return buf;
}

static zerr_t
json_value(zbuf_t *b, const ProtobufCFieldDescriptor *f, const void *p)
{
	char en[64];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return zbuf_printf(b, "%" PRId32, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return zbuf_printf(b, "%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return zbuf_printf(b, "%" PRId64, *(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return zbuf_printf(b, "%" PRIu64, *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return zbuf_printf(b, "%.9g", (double)*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return zbuf_printf(b, "%.17g", *(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return zbuf_puts(b, *(const protobuf_c_boolean *)p ? "true" :
		    "false");
	case PROTOBUF_C_TYPE_ENUM:
		return json_cstr(b, json_enum_name(f->descriptor,
		    *(const int *)p, en, sizeof(en)));
	case PROTOBUF_C_TYPE_STRING:
		return json_cstr(b, *(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;
		return json_hex(b, bd->data, bd->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m == NULL)
			return zbuf_puts(b, "null");
		return json_message(b, m);
	}
	}
	return ZE_INVAL;
}

static size_t
type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

zerr_t
json_message(zbuf_t *b, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	int first = 1;

	TRY(zbuf_putc(b, '{'));
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base +
			    f->quantifier_offset);
			const char *arr = *(char *const *)p;
			if (n == 0)
				continue;
			TRY(zbuf_printf(b, "%s\"%s\":[", first ? "" : ",",
			    f->name));
			for (size_t j = 0; j < n; j++) {
				if (j)
					TRY(zbuf_putc(b, ','));
				TRY(json_value(b, f, arr + j *
				    type_size(f->type)));
			}
			TRY(zbuf_putc(b, ']'));
			first = 0;
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t c = *(const uint32_t *)(const void *)(base +
			    f->quantifier_offset);
			if (c != f->id)
				continue;
		} else if (f->type == PROTOBUF_C_TYPE_STRING ||
		    f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const void *ptr = *(void *const *)p;
			if (ptr == NULL || (f->type == PROTOBUF_C_TYPE_STRING &&
			    f->default_value != NULL &&
			    ptr == *(void *const *)f->default_value))
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			if (!*(const protobuf_c_boolean *)(const void *)(base +
			    f->quantifier_offset))
				continue;
		}
		TRY(zbuf_printf(b, "%s\"%s\":", first ? "" : ",", f->name));
		TRY(json_value(b, f, p));
		first = 0;
	}
	return zbuf_putc(b, '}');
}

zerr_t
json_measurement(zbuf_t *b, const wire_meas_t *m,
    const struct json_meas_extra *x)
{
	char ts[40], tn[32];
	zid_t id;
	const Zond__V1__Outcome *o = m->outcome;

	memcpy(id.b, m->id.data, ZID_LEN);
	TRY(zbuf_puts(b, "{\"id\":"));
	TRY(json_hex(b, m->id.data, m->id.len));
	TRY(zbuf_puts(b, ",\"agent\":"));
	TRY(json_hex(b, m->agent.data, m->agent.len));
	TRY(zbuf_printf(b, ",\"seq\":%" PRIu64 ",\"start\":\"%s\"", m->seq,
	    ztime_fmt_iso(m->start_us, ts, sizeof(ts), 3)));
	if (x != NULL && x->time_by != NULL)
		TRY(zbuf_printf(b, ",\"time\":\"%s\",\"time_by\":\"%s\"",
		    ztime_fmt_iso(x->time_us, ts, sizeof(ts), 3), x->time_by));
	if (m->has_duration_us)
		TRY(zbuf_printf(b, ",\"duration_ms\":%.3f",
		    m->duration_us / 1000.0));
	TRY(zbuf_puts(b, ",\"region\":"));
	TRY(json_cstr(b, x ? x->region : NULL));
	if (x != NULL && x->asn > 0)
		TRY(zbuf_printf(b, ",\"asn\":%" PRId64, x->asn));
	else
		TRY(zbuf_puts(b, ",\"asn\":null"));
	TRY(zbuf_puts(b, ",\"role\":"));
	TRY(json_cstr(b, x ? x->role : NULL));
	if (x != NULL && x->network != NULL) {
		TRY(zbuf_puts(b, ",\"network\":"));
		TRY(json_cstr(b, x->network));
	}
	TRY(zbuf_puts(b, ",\"service\":"));
	TRY(json_cstr(b, m->service));
	TRY(zbuf_printf(b, ",\"test\":\"%s\",\"target\":",
	    json_enum_name(&zond__v1__test_kind__descriptor, (int)m->test, tn,
	    sizeof(tn))));
	TRY(json_cstr(b, m->target));
	TRY(zbuf_puts(b, ",\"outcome\":"));
	TRY(json_message(b, &o->base));
	if (m->net != NULL) {
		TRY(zbuf_puts(b, ",\"net\":"));
		TRY(json_message(b, &m->net->base));
	}
	if (m->resolution != NULL) {
		TRY(zbuf_puts(b, ",\"resolution\":"));
		TRY(json_message(b, &m->resolution->base));
	}
	if (m->locate != NULL) {
		TRY(zbuf_puts(b, ",\"locate\":"));
		TRY(json_message(b, &m->locate->base));
	}
	if (m->clock != NULL) {
		TRY(zbuf_puts(b, ",\"clock\":"));
		TRY(json_message(b, &m->clock->base));
	}
	TRY(zbuf_puts(b, ",\"agent_version\":"));
	TRY(json_cstr(b, m->agent_version));
	if (m->has_list_version)
		TRY(zbuf_printf(b, ",\"list_version\":%" PRIu64,
		    m->list_version));
	TRY(zbuf_puts(b, ",\"verdict\":"));
	TRY(json_cstr(b, x && x->verdict ? x->verdict : "pending"));
	TRY(zbuf_puts(b, ",\"method\":"));
	TRY(json_cstr(b, x ? x->method : NULL));
	if (x != NULL && x->where != NULL) {
		TRY(zbuf_puts(b, ",\"where\":"));
		TRY(json_cstr(b, x->where));
	}
	if (x != NULL && x->censor_asn != 0)
		TRY(zbuf_printf(b, ",\"censor_asn\":%" PRIu32, x->censor_asn));
	if (x != NULL && x->body != NULL && x->sig != NULL)
		TRY(json_signed_sig(b, x->body, x->body_len, x->sig));
	return zbuf_putc(b, '}');
}

zerr_t
json_signed_sig(zbuf_t *b, const uint8_t *body, size_t n,
    const uint8_t sig[KEY_SIG_LEN])
{
	zbuf_t sb;
	zerr_t e;

	zbuf_init(&sb, WIRE_MAX_MEASUREMENT + 64);
	e = sign_signed_bytes(ZDOM_MEASUREMENT, body, n, &sb);
	if (e == ZE_OK)
		e = zbuf_puts(b, ",\"signed\":");
	if (e == ZE_OK)
		e = json_b64(b, sb.data, sb.len);
	zbuf_free(&sb);
	TRY(e);
	TRY(zbuf_puts(b, ",\"sig\":"));
	return json_b64(b, sig, KEY_SIG_LEN);
}
