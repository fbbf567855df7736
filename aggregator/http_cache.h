/*
 * http_cache.h — a small cache of the map documents the dashboard and
 * the public view ask for (docs/API.md "Map cache"): many readers of the
 * same map cost one computation per key and time to live, not one each,
 * and a document that is being read is made again in the background
 * before it is too old, so readers do not wait for it.
 *
 * A document is kept under a key (the request's normalized parameters)
 * with the time it was made, the store generation (store_gen) it was made
 * from and the request that made it (an opaque recipe).  A get no older
 * than the time to live copies it out.  hcache_due hands a refresher the
 * recipe of a document read in the last HCACHE_KEEP_US that is half its
 * time to live old, so it is made again while it is still served; one
 * whose generation is still the store's is not made again but renewed
 * (what it says is what a new one would say), for up to HCACHE_RENEW_US
 * after it was made.  A fixed number of slots and at most max_bytes in
 * all, the documents read longest ago dropped to make room (a document
 * larger than max_bytes is not kept).  Thread-safe (one mutex; a copy
 * under it, never a computation).
 */
#ifndef ZOND_HTTP_CACHE_H
#define ZOND_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zbuf.h"

#define HCACHE_KEY_MAX 256
#define HCACHE_RECIPE_MAX 512
/* a document not read for this long is left to expire */
#define HCACHE_KEEP_US (120 * 1000000LL)
/* renewed without being made again for at most this long */
#define HCACHE_RENEW_US (600 * 1000000LL)

typedef struct hcache hcache_t;

/* slots >= 1; ttl_us > 0. */
zerr_t hcache_new(size_t slots, int64_t ttl_us, size_t max_bytes,
    hcache_t **out) ZWUR;
void hcache_free(hcache_t **c);

/* Append the document kept under key, if made (or renewed) at most ttl
 * before now_us (and not after it: a clock stepped back misses), to out;
 * true on a hit (false also when out cannot grow).  A hit marks the
 * document read at now_us. */
bool hcache_get(hcache_t *c, const char *key, int64_t now_us, zbuf_t *out);

/* Keep n bytes at p under key, made at now_us from store generation gen
 * by the request recipe (nrecipe bytes, at most HCACHE_RECIPE_MAX; may be
 * 0), replacing an older document of the key (whose read time it keeps),
 * else a free slot or the one read longest ago.  A key longer than
 * HCACHE_KEY_MAX - 1, a recipe too long or a document over max_bytes is
 * not kept; neither is one when memory runs out (the cache is an
 * optimization: a miss is always correct).  Ends a refresh of the key. */
void hcache_put(hcache_t *c, const char *key, int64_t now_us, uint64_t gen,
    const void *p, size_t n, const void *recipe, size_t nrecipe);

/*
 * A document to make again at now_us, the store being at generation gen:
 * one read since now_us - HCACHE_KEEP_US, made at least ttl / 2 ago and
 * not being made again already (the one made longest ago).  Documents of
 * generation gen made less than HCACHE_RENEW_US ago are renewed instead
 * (their made time set to now_us).  On true, key (HCACHE_KEY_MAX bytes)
 * and recipe (HCACHE_RECIPE_MAX bytes, *nrecipe of them) are the
 * document's, and it is being refreshed until hcache_put of the key or
 * hcache_abandon.
 */
bool hcache_due(hcache_t *c, int64_t now_us, uint64_t gen, char *key,
    void *recipe, size_t *nrecipe);

/* A refresh of key that will not be put: the document is dropped (it is
 * no longer the one its key would give, e.g. its hour has passed). */
void hcache_abandon(hcache_t *c, const char *key);

struct hcache_stats {
	uint64_t hits, misses;	/* gets */
	uint64_t refreshed;	/* made again by a refresher (hcache_put of
				 * a key being refreshed) */
	uint64_t renewed;	/* renewed without being made again */
};

void hcache_stats(hcache_t *c, struct hcache_stats *st);

#endif
