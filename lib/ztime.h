/*
 * ztime.h — time in microseconds, ISO 8601 UTC formatting and parsing.
 *
 * Wall-clock times are int64 microseconds since the Unix epoch (UTC).
 * Parsing is a pure function over a string; no locale, no time zone.
 */
#ifndef ZOND_ZTIME_H
#define ZOND_ZTIME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* CLOCK_REALTIME.  In a build with ZOND_TEST_HOOKS (ZOND_TESTS=ON, never
 * a release build) the environment variable ZOND_TEST_CLOCK_OFFSET, whole
 * seconds (may be negative), is added: the tests' wrong clock of a Pi. */
int64_t ztime_now_us(void);
int64_t ztime_mono_us(void);	/* CLOCK_MONOTONIC */
/* CLOCK_BOOTTIME: counts suspend, never steps */
int64_t ztime_boot_us(void);

/*
 * Format us as "YYYY-MM-DDTHH:MM:SS[.fff]Z" with `frac` (0, 3 or 6)
 * fractional digits.  buf needs 32 bytes.  Returns buf.
 */
char *ztime_fmt_iso(int64_t us, char *buf, size_t len, int frac);

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS" with an
 * optional fraction, ending in "Z" or "+00:00" (a bare date or time is
 * taken as UTC).  Years 1970-9999.
 */
zerr_t ztime_parse_iso(const char *s, int64_t *us, zdiag_t *d) ZWUR;

#endif
