/*
 * utf8.h — UTF-8 validation shared by the JSON writer, the wire checks
 * and the agent's sanitizing of text taken from the network.
 * RFC 3629: no overlong forms, no surrogates, nothing beyond U+10FFFF.
 */
#ifndef ZOND_UTF8_H
#define ZOND_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes, n > 0), or 0
 * when the bytes there are no valid sequence. */
size_t utf8_len(const unsigned char *p, size_t n);

/* Whether p[0..n) is valid UTF-8 without NUL. */
bool utf8_text_ok(const unsigned char *p, size_t n);

#endif
