/*
 * kv.h — values in line-oriented output (key=value lines of zondctl and
 * of the logs, tables), so that no stored or received string can end a
 * line or forge a field.
 *
 * The rule (logfmt's): a value of printable ASCII without blanks, '"',
 * '\\' or '=' prints as it is; any other value prints in double quotes
 * with \" \\ \n \r \t escapes and \xHH for every other byte below 0x20,
 * 0x7f and every byte from 0x80 (so also non-ASCII text).  The empty
 * string prints as "".  Documented in docs/OPERATIONS.md.
 */
#ifndef ZOND_KV_H
#define ZOND_KV_H

#include <stdbool.h>
#include <stddef.h>

/* Room kv_quote needs for a value of n bytes (with the NUL). */
#define KV_QUOTED_LEN(n) (4 * (n) + 3)

/* Write s to out (cap bytes, at least KV_QUOTED_LEN(strlen(s))) by the
 * rule above; always quoted when force (free text such as names).
 * Returns out. */
const char *kv_quote(const char *s, bool force, char *out, size_t cap);

#endif
