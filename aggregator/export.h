/*
 * export.h — stream stored measurements with their verdicts, as JSONL
 * (docs/DATA.md), CSV or OONI's measurement format, for `zondctl export` and `GET /api/v1/export`.
 *
 * Streams in time slices of six hours: each slice is judged with the
 * control window around it (analyze.c), written and freed, so memory stays
 * bounded by the measurements of one slice and its window whatever the
 * size of the dataset.  Reads only (LMDB read transactions): safe beside
 * the running aggregator.  Thread-safe for distinct calls.
 */
#ifndef AGGREGATOR_EXPORT_H
#define AGGREGATOR_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "store.h"

enum export_fmt {
	EXPORT_JSONL,
	EXPORT_CSV,
	EXPORT_OONI,	/* OONI df-000 records, docs/DATA.md "OONI format" */
};

struct export_filter {
	int64_t since, until;	/* start time in [since, until); 0/INT64_MAX */
	const char *region;	/* NULL: any */
	int64_t asn;		/* 0: any */
	const char *service;	/* NULL: any */
	bool has_network;	/* only agents of this network type (as
				 * enrolled now, store.h) */
	enum store_network network;
};

/* Receives output bytes; return non-zero to stop (a write error). */
typedef int (*export_write_fn)(const void *p, size_t n, void *arg);

/* Parse "jsonl" / "csv" / "ooni"; ZE_NOTFOUND for anything else. */
zerr_t export_fmt_from_name(const char *name, enum export_fmt *f) ZWUR;

/* The CSV header line (with its newline). */
const char *export_csv_header(void);

/*
 * Write every measurement matching flt, in time order, through w.  The
 * CSV header is written first for EXPORT_CSV.  *count (may be NULL) gets
 * the number of records.  o NULL: analyze_opts_default.
 */
zerr_t export_run(store_t *s, enum export_fmt f,
    const struct export_filter *flt, const struct analyze_opts *o,
    export_write_fn w, void *arg, uint64_t *count, zdiag_t *d) ZWUR;

#endif
