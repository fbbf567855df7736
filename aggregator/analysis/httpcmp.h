/*
 * httpcmp.h — OONI Web Connectivity comparison of a probe's HTTP response
 * with a control's: status code, body length ratio, title words, uncommon
 * header names.  Pure functions over two decoded HttpOutcome messages.
 *
 * Each signal is a tri-state: HC_MATCH, HC_DIFF, or HC_UNKNOWN when one
 * side lacks the data (OONI's null), so callers never read "absent" as
 * "different".
 */
#ifndef ZOND_HTTPCMP_H
#define ZOND_HTTPCMP_H

#include <stdbool.h>
#include <stddef.h>

#include "zond.pb-c.h"

enum hc { HC_UNKNOWN = -1, HC_DIFF = 0, HC_MATCH = 1 };

struct httpcmp {
	enum hc status;		/* same status code (unknown when the
				 * control's is 5xx: the control broke) */
	enum hc body;		/* min/max of body lengths > ratio */
	enum hc title;		/* a title word of >= N characters shared */
	enum hc headers;	/* an uncommon header name shared */
};

void httpcmp_compare(const Zond__V1__HttpOutcome *probe,
    const Zond__V1__HttpOutcome *control, double body_ratio,
    unsigned title_word, struct httpcmp *out);

/* OONI's verdict: accessible when the status matches and at least one of
 * body, title, headers matches. */
bool httpcmp_accessible(const struct httpcmp *c);

/* Is this header name (any case, n bytes) one of the common ones that say
 * nothing about who served a page (Date, Server, Content-Type, ...)? */
bool httpcmp_common_header(const char *name, size_t n);

#endif
