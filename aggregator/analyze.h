/*
 * analyze.h — judge stored measurements and build map cells for a time
 * range, by reading the measurements of the range (plus the control
 * window on both sides) from the store.
 *
 * This is the on-demand path: it scans the measurements of the range, so
 * its cost grows with them.  Exports, time series and measurement pages
 * use it; maps and events read the analyzer's roll-ups (rollup.h), which
 * apply the same verdict and cell rules (aggregator/analysis/,
 * docs/METHODOLOGY.md) and equal this path once windows have closed.
 *
 * Results are immutable after analyze_range returns.
 */
#ifndef AGGREGATOR_ANALYZE_H
#define AGGREGATOR_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "cells.h"
#include "store.h"
#include "verdict.h"
#include "wire.h"

struct analyze_opts {
	int64_t window_us;		/* control measurements within +- this */
	int64_t deadline_us;		/* pending for longer: final */
	int64_t now_us;			/* 0: the clock */
	const char *service;		/* map only this service; NULL: all */
	struct verdict_opts v;
	struct cell_opts c;
};

typedef struct analysis analysis_t;

void analyze_opts_default(struct analyze_opts *o);

/* Judge every measurement that started in [since, until) and build the
 * cells of probe agents.  Caller frees with analysis_free. */
zerr_t analyze_range(store_t *s, int64_t since_us, int64_t until_us,
    const struct analyze_opts *o, analysis_t **out, zdiag_t *d) ZWUR;
void analysis_free(analysis_t **a);

/* The verdict of a measurement in the range; false if it is not there. */
bool analysis_verdict(const analysis_t *a, const uint8_t id[STORE_ID_LEN],
    verdict_t *v, method_t *m);
/* Call fn for every measurement read (the range and its control window),
 * in id order; m stays valid until analysis_free.  For exports that
 * summarise control measurements (export_ooni.c). */
typedef void (*analysis_each_fn)(const wire_meas_t *m, enum store_role role,
    int64_t start_us, void *arg);
void analysis_each(const analysis_t *a, analysis_each_fn fn, void *arg);

/* Judged cells, sorted by region, ASN, service. */
const cell_t *analysis_cells(const analysis_t *a, size_t *n);

#endif
