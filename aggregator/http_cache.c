/*
 * http_cache.c — see http_cache.h.  The slots are searched linearly: they
 * are few (tens), and a lookup is a string compare each.
 */
#include "http_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char key[HCACHE_KEY_MAX];	/* "" when free */
	int64_t made_us;
	uint8_t *p;
	size_t n;
};

struct hcache {
	pthread_mutex_t mu;
	int64_t ttl_us;
	size_t max_bytes;		/* all documents together */
	size_t total;
	size_t nslots;
	uint64_t hits, misses;
	struct slot s[];
};

zerr_t
hcache_new(size_t slots, int64_t ttl_us, size_t max_bytes, hcache_t **out)
{
	hcache_t *c;

	*out = NULL;
	if (slots == 0 || ttl_us <= 0)
		return ZE_INVAL;
	if ((c = calloc(1, sizeof(*c) + slots * sizeof(c->s[0]))) == NULL)
		return ZE_NOMEM;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return ZE_NOMEM;
	}
	c->ttl_us = ttl_us;
	c->max_bytes = max_bytes;
	c->nslots = slots;
	*out = c;
	return ZE_OK;
}

void
hcache_free(hcache_t **cp)
{
	hcache_t *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		free(c->s[i].p);
	pthread_mutex_destroy(&c->mu);
	free(c);
	*cp = NULL;
}

static struct slot *
find(hcache_t *c, const char *key)
{
	for (size_t i = 0; i < c->nslots; i++)
		if (c->s[i].key[0] != '\0' && strcmp(c->s[i].key, key) == 0)
			return &c->s[i];
	return NULL;
}

/* Empty slot s. */
static void
drop(hcache_t *c, struct slot *s)
{
	if (s->key[0] != '\0')
		c->total -= s->n;
	free(s->p);
	s->p = NULL;
	s->n = 0;
	s->key[0] = '\0';
}

/* The slot made longest ago (used only: NULL when all are free), or,
 * when !used, a free slot if there is one. */
static struct slot *
oldest(hcache_t *c, bool used)
{
	struct slot *o = NULL;

	for (size_t i = 0; i < c->nslots; i++) {
		if (c->s[i].key[0] == '\0') {
			if (!used)
				return &c->s[i];
			continue;
		}
		if (o == NULL || c->s[i].made_us < o->made_us)
			o = &c->s[i];
	}
	return o;
}

bool
hcache_get(hcache_t *c, const char *key, int64_t now_us, zbuf_t *out)
{
	struct slot *s;
	bool hit = false;

	pthread_mutex_lock(&c->mu);
	s = find(c, key);
	if (s != NULL && now_us >= s->made_us &&
	    now_us - s->made_us <= c->ttl_us)
		hit = zbuf_append(out, s->p, s->n) == ZE_OK;
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
hcache_put(hcache_t *c, const char *key, int64_t now_us, const void *p,
    size_t n)
{
	struct slot *s;
	uint8_t *q;

	if (strlen(key) >= HCACHE_KEY_MAX || n > c->max_bytes || n == 0 ||
	    (q = malloc(n)) == NULL)
		return;
	memcpy(q, p, n);
	pthread_mutex_lock(&c->mu);
	if ((s = find(c, key)) != NULL)
		drop(c, s);
	/* room for n bytes: the oldest documents go first */
	while (c->total + n > c->max_bytes && (s = oldest(c, true)) != NULL)
		drop(c, s);
	s = oldest(c, false);
	drop(c, s);
	c->total += n;
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->made_us = now_us;
	s->p = q;
	s->n = n;
	pthread_mutex_unlock(&c->mu);
}

void
hcache_stats(hcache_t *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->mu);
}
