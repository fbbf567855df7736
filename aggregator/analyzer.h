/*
 * analyzer.h — the aggregator's two background threads around rollup.c:
 *   - the analyzer runs rollup rounds every [analysis] interval (and at
 *     once when the store predates the roll-ups: rollup_prepare);
 *   - the webhook sender POSTs queued events (store "hookq") to
 *     [analysis] webhook through libcurl, one at a time in order, and
 *     retries with a doubling delay (1 s up to 5 min) until the server
 *     answers 2xx; a queued event survives restarts.
 * analyzer_stop joins both; a POST in progress is bounded by its 10 s
 * timeout.
 */
#ifndef AGGREGATOR_ANALYZER_H
#define AGGREGATOR_ANALYZER_H

#include <stdint.h>

#include "config.h"
#include "fingerprint.h"
#include "rollup.h"
#include "store.h"
#include "writer.h"

typedef struct analyzer analyzer_t;

struct analyzer_stats {
	struct rollup_stats r;
	uint64_t hook_sent;	/* POSTs answered 2xx */
	uint64_t hook_failed;	/* attempts that failed (each retry counts) */
	uint64_t hook_queued;	/* waiting now */
};

/* Build the roll-up options from the configuration (also zondctl's);
 * asn: the table aggr_conf_ipasn loaded, or NULL (borrowed).  The
 * fingerprints are not loaded here: o->v.fp is NULL. */
struct ipasn;
void analyzer_opts(const struct aggr_conf *conf, const struct ipasn *asn,
    struct rollup_opts *o);

/* Load [analysis] fingerprints (one CSV or several separated by commas,
 * docs/FINGERPRINTS.md) into *out; NULL when the option is empty.  An
 * error names the file and line.  Caller frees with fpdb_free. */
zerr_t analyzer_fingerprints(const struct aggr_conf *conf,
    struct fpdb **out, zdiag_t *d) ZWUR;

/* w non-NULL: the analyzer's writes go through the writer's commit thread
 * (writer_apply); stop the analyzer before freeing w.  asn (may be NULL)
 * must outlive the analyzer. */
zerr_t analyzer_start(store_t *s, const struct aggr_conf *conf,
    const struct ipasn *asn, writer_t *w, analyzer_t **out,
    zdiag_t *d) ZWUR;
void analyzer_get_stats(analyzer_t *a, struct analyzer_stats *st);
void analyzer_stop(analyzer_t **a);

#endif
