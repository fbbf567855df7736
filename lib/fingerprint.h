/*
 * fingerprint.h — blockpage fingerprints in the CSV format of OONI's
 * blocking-fingerprints repository (fingerprints_http.csv and
 * fingerprints_dns.csv):
 *
 *   name,scope,location_found,pattern_type,pattern,confidence_no_fp,
 *   expected_countries
 *
 * The header row is required and must name exactly these columns.
 * scope is nat|isp|prod|inst|vbw|fp; location_found is body, dns or
 * header.NAME; pattern_type is full|prefix|contains|regexp (POSIX
 * extended); confidence_no_fp an integer 0-100 or empty;
 * expected_countries a comma-separated list of ISO 3166 alpha-2 codes
 * (quote it when it has commas) or empty.  RFC 4180 quoting: a field in
 * double quotes may hold commas, newlines and "" for one quote.
 *
 * One bad row rejects the whole file with "file:line: what is wrong", so
 * a caller that reloads keeps its last good database.  Parsing is a pure
 * function over bytes (fpdb_parse); fpdb_load only adds the file read.
 *
 * A loaded struct fpdb is immutable: any number of threads may match
 * against it at once.  Names returned by the match functions point into
 * the database and live as long as it does.
 */
#ifndef ZOND_FINGERPRINT_H
#define ZOND_FINGERPRINT_H

#include <stddef.h>

#include "err.h"

struct fpdb;

#define FPDB_MAX_FILE (4 * 1024 * 1024)	/* bytes in one CSV file */
#define FPDB_MAX_ROWS 10000
#define FPDB_MAX_FIELD 4096		/* bytes in one field */

/* Parse len bytes of CSV text; fname names it in messages.  On success
 * *out is a new database (caller frees with fpdb_free). */
zerr_t fpdb_parse(const char *fname, const char *text, size_t len,
    struct fpdb **out, zdiag_t *d) ZWUR;

/* Read and fpdb_parse one file, or several separated by commas (OONI
 * keeps fingerprints_http.csv and fingerprints_dns.csv apart): one
 * database of all their rows; an error names the file and line. */
zerr_t fpdb_load(const char *path, struct fpdb **out, zdiag_t *d) ZWUR;

/* Release a database; accepts NULL and clears the pointer. */
void fpdb_free(struct fpdb **db);

/* Number of fingerprints held. */
size_t fpdb_count(const struct fpdb *db);

/*
 * First fingerprint that matches an HTTP response: "body" rows against
 * body[0..n), "header.NAME" rows against the value of every header NAME
 * (case-insensitive name) in headers[], each "Name: value".  Returns its
 * name or NULL.  db may be NULL (no match), body NULL (no body).  The
 * body need not be NUL-terminated and may hold NUL bytes.
 */
const char *fpdb_match_http(const struct fpdb *db, const char *body,
    size_t n, const char *const *headers, size_t nh);

/* First "header.NAME" fingerprint matching one header value. */
const char *fpdb_match_header(const struct fpdb *db, const char *name,
    const char *value);

/* First "dns" fingerprint matching an answer address (text form). */
const char *fpdb_match_dns(const struct fpdb *db, const char *addr);

#endif
