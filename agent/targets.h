/*
 * targets.h — the agent's test lists (docs/TARGETS.md).
 *
 * Two CSV formats:
 *   - URL lists in the Citizen Lab test-list format (url, category_code,
 *     category_description, date_added, source, notes): one http test
 *     per URL, service = the lowercased category code unless notes say
 *     "service=NAME";
 *   - endpoint lists (service, test, target, ip, port, sni, control_sni,
 *     variant, bytes, interval), one test per row.
 * Parsing is pure (targets_parse_*) and all-or-nothing: a bad row fails
 * the whole file with "file:line: ..." so the caller keeps its last good
 * list.  A targets_t owns all its strings.
 */
#ifndef AGENT_TARGETS_H
#define AGENT_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

/* ip column value meaning "the [tests] helper address" */
#define TARGET_IP_HELPER "helper"

typedef struct target {
	probe_req_t req;	/* strings point into the owning targets_t */
	int64_t interval_ms;	/* 0: the [schedule] default */
	int line;		/* where it came from, for logs */
	const char *file;
} target_t;

typedef struct targets {
	target_t *v;
	size_t n, cap;
	char **strs;		/* owned strings */
	size_t nstrs, capstrs;
} targets_t;

#define TARGETS_MAX 100000
#define TARGETS_MAX_FILE (16 * 1024 * 1024)

void targets_init(targets_t *t);
void targets_free(targets_t *t);

/* The endpoint-list columns, in the order TARGETS.md lists them. */
#define TARGETS_NCOLS 10
extern const char *const targets_columns[TARGETS_NCOLS];

/*
 * Append one endpoint row given as its column texts (in targets_columns
 * order; NULL or "" is an empty cell), checked by the same rules as a CSV
 * row of targets_parse_endpoints (signed lists use it, tlist.h).  where
 * ("file:line", "list.signed: test 12") starts every message; file and
 * line are what the row records.  On error nothing is appended.
 */
zerr_t targets_add_endpoint(targets_t *t, const char *const f[TARGETS_NCOLS],
    const char *file, int line, const char *where, zdiag_t *d) ZWUR;

zerr_t targets_parse_endpoints(targets_t *t, const char *fname,
    const char *buf, size_t len, zdiag_t *d) ZWUR;
zerr_t targets_parse_urls(targets_t *t, const char *fname, const char *buf,
    size_t len, zdiag_t *d) ZWUR;
/* Read files; path NULL or "" is an empty list. */
zerr_t targets_load(targets_t *t, const char *endpoints, const char *urls,
    zdiag_t *d) ZWUR;

#endif
