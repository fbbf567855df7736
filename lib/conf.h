/*
 * conf.h — table-driven INI-style configuration (after Redis config.c).
 *
 * Each program declares its options once in a conf_opt table: section,
 * name, type, default, where the value goes in the program's config
 * struct, range and documentation.  The same table drives parsing, `-n`
 * checking, conf_dump() and the reference in docs/ (conf_reference()).
 *
 * Syntax:  `# comment` or `; comment` lines, `[section]` headers,
 * `name = value` lines.  A value is the rest of the line with blanks
 * trimmed, or a "double-quoted string" with \" \\ \n \t escapes.  A '#'
 * or ';' that starts an unquoted value or follows a blank starts an inline
 * comment (`user = zond   # why`); one inside a word stays (`a#b`), and
 * quoted values keep both.  Every error names the file and line:
 * "agent.conf:12: unknown option 'intervall' in [schedule]".
 *
 * Types and their C storage at `offset` in the struct:
 *   CONF_STRING   char *        (malloc'd; conf_free releases)
 *   CONF_INT      int64_t
 *   CONF_BOOL     bool          true/false, yes/no, on/off, 1/0
 *   CONF_DURATION int64_t ms    500ms, 10s, 5m, 2h, 1d; a bare number is s
 *   CONF_SIZE     int64_t bytes 4096, 64k, 10M, 2G (powers of 1024)
 * Parsing is pure (conf_parse works on a buffer); conf_load reads a file.
 */
#ifndef ZOND_CONF_H
#define ZOND_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

enum conf_type {
	CONF_STRING,
	CONF_INT,
	CONF_BOOL,
	CONF_DURATION,
	CONF_SIZE,
};

/* Extra check on a string value; fill why and return non-zero to refuse. */
typedef int (*conf_check_fn)(const char *value, char *why, size_t whylen);

struct conf_opt {
	const char *section;
	const char *name;
	enum conf_type type;
	const char *defval;	/* NULL: none (strings stay NULL) */
	size_t offset;
	int64_t min, max;	/* numeric range; min == max == 0: any */
	bool required;
	conf_check_fn check;
	const char *doc;
};
/* A table ends with an entry whose name is NULL. */

#define CONF_MAX_FILE (1024 * 1024)
#define CONF_MAX_LINE 4096

/* Set every option to its default.  Call before conf_parse/conf_load. */
zerr_t conf_init(const struct conf_opt *tab, void *obj, zdiag_t *d) ZWUR;

/* Parse text (len bytes) named fname into obj.  Pure: no I/O. */
zerr_t conf_parse(const struct conf_opt *tab, void *obj, const char *fname,
    const char *text, size_t len, zdiag_t *d) ZWUR;

/* conf_init + read path + conf_parse.  On error obj's strings are
 * released (NULL), so a caller may return at once; conf_free stays safe. */
zerr_t conf_load(const struct conf_opt *tab, void *obj, const char *path,
    zdiag_t *d) ZWUR;

/* Release strings held in obj. */
void conf_free(const struct conf_opt *tab, void *obj);

/* Print every option's effective value, one "[section] name = value" per
 * line, in table order. */
void conf_dump(const struct conf_opt *tab, const void *obj, FILE *out);

/* Print the table as Markdown reference documentation. */
void conf_reference(const struct conf_opt *tab, const char *title, FILE *out);

/* Value parsers, exposed for tests and for command-line flags. */
zerr_t conf_parse_int(const char *s, int64_t *out) ZWUR;
zerr_t conf_parse_bool(const char *s, bool *out) ZWUR;
zerr_t conf_parse_duration(const char *s, int64_t *ms) ZWUR;
zerr_t conf_parse_size(const char *s, int64_t *bytes) ZWUR;
/*
 * A list of UDP/TCP ports and ranges, "3478-3497,596-599,1400": up to
 * maxranges items, at most maxports ports in all, each 1-65535 with A <= B
 * in a range.  Fills lo[i], hi[i] and *n; -1 with why naming the bad item.
 */
int conf_parse_ports(const char *s, uint16_t *lo, uint16_t *hi,
    size_t maxranges, size_t maxports, size_t *n, char *why, size_t whylen);

/* Ready-made checks. */
int conf_check_endpoint(const char *v, char *why, size_t whylen);	/* tcp://host:port */
int conf_check_hostport(const char *v, char *why, size_t whylen);	/* host:port */
int conf_check_hexkey(const char *v, char *why, size_t whylen);	/* 64 hex chars */
/* A secret token: empty, or 16-256 printable ASCII characters without
 * blanks.  An option with this check is a secret: conf_dump prints it as
 * "(secret, not shown)" when set. */
int conf_check_token(const char *v, char *why, size_t whylen);
int conf_check_loglevel(const char *v, char *why, size_t whylen);	/* warn/info/debug */

#endif
