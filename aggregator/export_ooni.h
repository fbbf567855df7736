/*
 * export_ooni.h — one stored measurement as a record of OONI's measurement
 * data format (ooni/spec df-000 and the nettest specs), for `zondctl
 * export --format ooni`; the mapping and its sources are docs/DATA.md
 * "OONI format".  Pure functions over a decoded measurement, its verdict
 * and the control measurements of its slice: no I/O.
 */
#ifndef AGGREGATOR_EXPORT_OONI_H
#define AGGREGATOR_EXPORT_OONI_H

#include <stddef.h>

#include "analyze.h"
#include "store.h"
#include "wire.h"
#include "zbuf.h"

/* The longest record ooni_record writes for a measurement within
 * WIRE_MAX_MEASUREMENT: a string may appear up to six times (an address in
 * both sni_blocking Subresults) and JSON escaping makes a control byte six
 * ("\u0001"), with the control's measurement and the signed bytes
 * besides. */
#define OONI_RECORD_MAX (64 * WIRE_MAX_MEASUREMENT)

/* The control measurements of one analysis (a slice and its window),
 * indexed by (test, target) and start: built once per slice, O(n log n). */
typedef struct ooni_ctl ooni_ctl_t;

/* Caller frees with ooni_ctl_free; it points into a, which must outlive
 * it. */
zerr_t ooni_ctl_build(const analysis_t *a, int64_t window_us,
    ooni_ctl_t **out) ZWUR;
void ooni_ctl_free(ooni_ctl_t **c);

/* Append one OONI record (no newline) to b.  ctl may be NULL (no control
 * data: web_connectivity's documented empty control).  where: the
 * measurement's judged where (export_where), NULL: none.  net: the
 * agent's network type as enrolled, the annotation zond_network. */
zerr_t ooni_record(zbuf_t *b, const struct store_meas *sm,
    const wire_meas_t *m, verdict_t v, method_t meth,
    const ooni_ctl_t *ctl, const char *where, enum store_network net) ZWUR;

/* OONI's `input` for m (the `stun://host:port` form for STUN): written
 * into buf (NUL-terminated, truncated to n).  zondctl verify compares it
 * with the signed measurement. */
void ooni_input(const wire_meas_t *m, char *buf, size_t n);

/* df-007's failure string for one of ours; NULL is JSON null. */
const char *ooni_failure(Zond__V1__Failure f, const char *detail);

#endif
