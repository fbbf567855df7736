/*
 * events.h — cell state changes ("FaceTime became blocked in RU-SPE on
 * AS8359"): the record the aggregator stores, serves at /api/v1/events
 * and POSTs to a webhook.
 *
 * The caller keeps, per cell, the state it last reported (the `to` and
 * `method` of the cell's last event; insufficient for a cell never
 * reported) and asks event_make after each re-judgment.  A cell that falls
 * to insufficient (agents went quiet) makes no event: missing data is not
 * a change of the network, and ok -> insufficient -> ok stays silent.
 * Pure and thread-safe.
 */
#ifndef ZOND_EVENTS_H
#define ZOND_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "cells.h"
#include "zbuf.h"

typedef struct event {
	int64_t time_us;
	char region[CELL_REGION_MAX];
	int64_t asn;
	char service[CELL_SERVICE_MAX];
	cell_verdict_t from;
	cell_verdict_t to;
	method_t method;	/* the new state's method; NONE: null */
	bool retracted;		/* webhook only: the event of this time and
				 * cell no longer holds (its hour judged
				 * again, METHODOLOGY.md "The state now") */
} event_t;

/*
 * Does `now` differ from the last reported (prev, prev_method)?  True, with
 * *ev filled, when the verdict changed to anything but insufficient, or
 * when a blocked/throttled cell changed its method (dns -> tls).
 */
bool event_make(int64_t time_us, const cell_t *now, cell_verdict_t prev,
    method_t prev_method, event_t *ev);

/* A cell's first judgement: no judged hour before it (`from` is
 * insufficient, which no other event has: a cell falling silent keeps its
 * last state). */
bool event_first(const event_t *ev);

/* Is ev news?  Every event but a first judgement to ok (a cell that starts
 * being measured and is open tells nothing about the network); a first
 * judgement to any other state is news ("first seen blocked").  The
 * default of /api/v1/events and the webhook's rule. */
bool event_news(const event_t *ev);

/* {"time":ISO 8601,"region":..,"asn":N,"service":..,"from":..,"to":..,
 *  "method":..|null} without a newline; ,"first":true before the brace
 *  for a first judgement and ,"retracted":true when ev->retracted. */
zerr_t event_json(zbuf_t *b, const event_t *ev) ZWUR;

#endif
