/*
 * jscan.h — read the top-level members of one JSON object (one JSONL
 * line), for offline verification and for tests.
 *
 * Pure and bounded: validates the whole text as JSON (nesting up to 64),
 * returns each top-level member's key and raw value span; strings can be
 * decoded with jscan_string.  No allocation.
 */
#ifndef ZOND_JSCAN_H
#define ZOND_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "zbuf.h"

struct jmember {
	const char *key;	/* points into the text, after the quote */
	size_t keylen;		/* raw (escaped) length */
	const char *val;	/* raw value text */
	size_t vallen;
	char type;		/* 's' string, 'n' number, 'o' object, 'a' array,
				 * 't' true, 'f' false, 'z' null */
};

#define JSCAN_MAX_DEPTH 64

/* Parse text[0..n) as one JSON object; at most max members are returned
 * (more is ZE_TOOBIG).  *count gets the number.  d names the offset of an
 * error. */
zerr_t jscan_object(const char *text, size_t n, struct jmember *m,
    size_t max, size_t *count, zdiag_t *d) ZWUR;

/* Find a member by (unescaped, plain ASCII) key; NULL if absent. */
const struct jmember *jscan_find(const struct jmember *m, size_t count,
    const char *key);

/*
 * Whether two member values mean the same JSON: strings equal once
 * decoded (escapes may differ), numbers equal as doubles (1.5 and 1.500),
 * objects with the same keys in any order and arrays element by element,
 * whitespace aside.  Objects and arrays of more than 64 members, and
 * objects that name a key twice, compare unequal.
 */
bool jscan_equal(const struct jmember *a, const struct jmember *b);

/* The first member of m[0..count) whose key an earlier one has; NULL
 * when every key is named once.  Quadratic: for objects of a few dozen
 * members. */
const struct jmember *jscan_dup_key(const struct jmember *m, size_t count);

/* Decode a string value (with escapes) into out (appended, NUL-ended). */
zerr_t jscan_string(const struct jmember *m, zbuf_t *out) ZWUR;

#endif
