/*
 * tlpush.h — which agent gets the newest stored test list, and when
 * (docs/PROTOCOL.md §5 "What the aggregator pushes").
 *
 * The ingest asks on every Hello and Heartbeat: an agent that reports a
 * list_version below the stored list's gets the list once per connection
 * (a Hello starts a connection and forgets what was sent on the last);
 * an agent that refuses it is not sent it again until it reconnects or a
 * newer list is stored.  An expired stored list is not pushed.  The
 * stored list is read again at most once a second (zondctl testlist push
 * writes it while the aggregator runs), and its Downlink frame is encoded
 * once per version.  Memory: one small entry per agent that was offered
 * a list (agents are enrolled, so bounded by the registry).
 * Main thread only.
 */
#ifndef AGGREGATOR_TLPUSH_H
#define AGGREGATOR_TLPUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"
#include "zbuf.h"

typedef struct tlpush tlpush_t;

struct tlpush_stats {
	uint64_t version;	/* the stored list's; 0: none */
	int64_t expires_us;
	uint64_t pushed;	/* Downlink{test_list} sent */
};

zerr_t tlpush_new(store_t *s, tlpush_t **out) ZWUR;
void tlpush_free(tlpush_t **p);

/*
 * An agent's status: hello (a new connection) or heartbeat, reporting
 * list version v.  Returns the Downlink frame to send it, or NULL.  After
 * a successful send, call tlpush_sent.  now_mono_us: ztime_mono_us.
 */
const zbuf_t *tlpush_offer(tlpush_t *p, const uint8_t agent[32], bool hello,
    uint64_t v, int64_t now_mono_us);
void tlpush_sent(tlpush_t *p, const uint8_t agent[32]);

void tlpush_get_stats(const tlpush_t *p, struct tlpush_stats *st);

#endif
