/*
 * err.h — the project's one error type.
 *
 * Functions return a zerr_t; results go out through parameters.  Where a
 * caller needs to tell a user what was wrong and where, the function also
 * fills a zdiag_t with a one-line message ("file:line: what").  zerr_str()
 * names a code; it never returns NULL.
 */
#ifndef ZOND_ERR_H
#define ZOND_ERR_H

#include <stddef.h>

typedef enum zerr {
	ZE_OK = 0,
	ZE_NOMEM,	/* out of memory */
	ZE_IO,		/* read, write, open or socket failure (see errno text) */
	ZE_PARSE,	/* input does not follow its format */
	ZE_RANGE,	/* value outside its allowed range */
	ZE_PERM,	/* file permissions unsafe or access denied */
	ZE_TOOBIG,	/* input or buffer over its hard cap */
	ZE_TRUNC,	/* input ends early */
	ZE_VERSION,	/* unsupported protocol or format version */
	ZE_CRYPTO,	/* a libsodium call failed */
	ZE_BADSIG,	/* signature does not verify */
	ZE_NOTFOUND,	/* no such record, file or key */
	ZE_EXISTS,	/* refusing to overwrite */
	ZE_NOTIMPL,	/* not implemented yet */
	ZE_INVAL,	/* invalid argument or field */
	ZE_TIMEOUT,	/* operation timed out */
	ZE_STORAGE,	/* database failure */
	ZE_FULL,	/* disk or map full */
	ZE__COUNT
} zerr_t;

/* Diagnostic text to go with an error code. */
typedef struct zdiag {
	char text[512];
} zdiag_t;

/* Name of an error code, e.g. "parse error".  Thread-safe. */
const char *zerr_str(zerr_t e);

/*
 * Fill d (may be NULL) with a printf-formatted message and return code, so
 * that callers can write `return zdiag_set(d, ZE_PARSE, "...", ...)`.
 */
zerr_t zdiag_set(zdiag_t *d, zerr_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix d's text with "prefix: " (used to add a file name). */
void zdiag_prefix(zdiag_t *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ZWUR __attribute__((warn_unused_result))
#define ZARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * ZASSERT(cond): a programmer error check for the invariants the comments
 * state (after curl's DEBUGASSERT).  Active when NDEBUG is not defined
 * (the debug, asan and ci presets); in release builds (MinSizeRel) cond is
 * not evaluated, only type-checked, so it must have no side effects.
 */
#ifdef NDEBUG
#define ZASSERT(cond) ((void)sizeof(!(cond)))
#else
#include <assert.h>
#define ZASSERT(cond) assert(cond)
#endif

#endif
