/* kv.c — see kv.h. */
#include "kv.h"

#include <string.h>

#include "err.h"

static bool
kv_plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

const char *
kv_quote(const char *s, bool force, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), w = 0;
	bool quote = force || n == 0;

	ZASSERT(cap >= KV_QUOTED_LEN(n));
	for (size_t i = 0; i < n && !quote; i++)
		quote = !kv_plain((unsigned char)s[i]);
	if (!quote) {
		memcpy(out, s, n + 1);
		return out;
	}
	out[w++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc != NULL) {
			out[w++] = esc[0];
			out[w++] = esc[1];
		} else if (c < 0x20 || c >= 0x7f) {
			out[w++] = '\\';
			out[w++] = 'x';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		} else
			out[w++] = (char)c;
	}
	out[w++] = '"';
	out[w] = '\0';
	return out;
}
