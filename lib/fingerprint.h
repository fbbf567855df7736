/*
 * fingerprint.h — blockpage fingerprints in the CSV format of OONI's
 * blocking-fingerprints repository (fingerprints_http.csv and
 * fingerprints_dns.csv), as published today:
 *
 *   name,scope,other_names,location_found,pattern_type,pattern,
 *   confidence_no_fp,expected_countries,source,exp_url,notes
 *
 * or the older seven columns (name,scope,location_found,pattern_type,
 * pattern,confidence_no_fp,expected_countries).  The header row is
 * required and must be one of these two, exactly.  scope is
 * nat|isp|prod|inst|vbw|fp|injb|prov; location_found is body, dns or
 * header.NAME; pattern_type is full|prefix|contains|regexp (POSIX
 * extended); confidence_no_fp an integer 0-100 or empty;
 * expected_countries a comma-separated list of ISO 3166 alpha-2 codes
 * (quote it when it has commas) or empty; other_names, source, exp_url
 * and notes are free text, not kept.  RFC 4180 quoting: a field in
 * double quotes may hold commas, newlines and "" for one quote.
 *
 * Scope decides what a match means (docs/METHODOLOGY.md §2): a match
 * names its row's scope, and when several rows match one response the
 * strongest scope wins (enum order below; the first row in file order
 * among equals).  fp rows (known false positives) are loaded and
 * checked but never match.
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

/* A row's scope, strongest first (the order in which matches win). */
enum fp_scope {
	FP_SCOPE_NAT,	/* national blockpage: state censorship */
	FP_SCOPE_ISP,	/* an ISP's blockpage (the state's orders) */
	FP_SCOPE_PROD,	/* a filtering product (SkyDNS, NetPolice) */
	FP_SCOPE_INST,	/* an institution's filter (school, office) */
	FP_SCOPE_PROV,	/* the service provider's own refusal */
	FP_SCOPE_VBW,	/* a vague blocking word: confirms nothing alone */
	FP_SCOPE_INJB,	/* a benign injection (router update notice) */
	FP_SCOPE_FP,	/* a known false positive: never matches */
};

/* nat, isp, prod, inst: somebody between the user and the site blocks
 * (a control showing one is a censored control). */
#define FP_SCOPE_BLOCKS(s) ((s) <= FP_SCOPE_INST)

/* What a match function found: name NULL when nothing matched.  name
 * points into the database. */
struct fp_match {
	const char *name;
	enum fp_scope scope;
};

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

/* Keep m in *best when it is a stronger match (or *best holds none). */
static inline void
fp_match_keep(struct fp_match *best, struct fp_match m)
{
	if (m.name != NULL && (best->name == NULL || m.scope < best->scope))
		*best = m;
}

/* Release a database; accepts NULL and clears the pointer. */
void fpdb_free(struct fpdb **db);

/* Number of fingerprints held (fp rows included). */
size_t fpdb_count(const struct fpdb *db);

/* "nat", "isp", ... as in the CSV. */
const char *fpdb_scope_name(enum fp_scope s);

/* The row called name (case-sensitive), e.g. a name an agent recorded;
 * name NULL in the result when there is none. */
struct fp_match fpdb_find(const struct fpdb *db, const char *name);

/*
 * The fingerprint that matches an HTTP response: "body" rows against
 * body[0..n), "header.NAME" rows against the value of every header NAME
 * (case-insensitive name) in headers[], each "Name: value".  Returns the
 * strongest match (name NULL: none).  db may be NULL (no match), body
 * NULL (no body).  The body need not be NUL-terminated and may hold NUL
 * bytes.
 */
struct fp_match fpdb_match_http(const struct fpdb *db, const char *body,
    size_t n, const char *const *headers, size_t nh);

/* Strongest "header.NAME" fingerprint matching one header value. */
struct fp_match fpdb_match_header(const struct fpdb *db, const char *name,
    const char *value);

/* Strongest "dns" fingerprint matching an answer address (text form). */
struct fp_match fpdb_match_dns(const struct fpdb *db, const char *addr);

#endif
