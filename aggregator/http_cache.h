/*
 * http_cache.h — a small cache of the documents the public view serves
 * (docs/API.md "Public view"): many anonymous readers of the same map
 * cost one computation per key and time to live, not one each.
 *
 * A document is kept under a key (the request's normalized parameters)
 * with the time it was made; a get younger than the time to live copies
 * it out.  A fixed number of slots and at most max_bytes in all, the
 * oldest documents dropped to make room (a document larger than max_bytes
 * is not kept).  Thread-safe (one mutex; a copy under it, never a
 * computation).
 */
#ifndef ZOND_HTTP_CACHE_H
#define ZOND_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zbuf.h"

#define HCACHE_KEY_MAX 256

typedef struct hcache hcache_t;

/* slots >= 1; ttl_us > 0. */
zerr_t hcache_new(size_t slots, int64_t ttl_us, size_t max_bytes,
    hcache_t **out) ZWUR;
void hcache_free(hcache_t **c);

/* Append the document kept under key, if made at most ttl before now_us
 * (and not after it: a clock stepped back misses), to out; true on a hit
 * (false also when out cannot grow). */
bool hcache_get(hcache_t *c, const char *key, int64_t now_us, zbuf_t *out);

/* Keep n bytes at p under key (replacing an older document of the key,
 * else the oldest slot).  A key longer than HCACHE_KEY_MAX - 1 or a
 * document over max_bytes is not kept; neither is one when memory runs
 * out (the cache is an optimization: a miss is always correct). */
void hcache_put(hcache_t *c, const char *key, int64_t now_us, const void *p,
    size_t n);

/* Hits and misses so far. */
void hcache_stats(hcache_t *c, uint64_t *hits, uint64_t *misses);

#endif
