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
	int64_t made_us;		/* made or renewed: served until + ttl */
	int64_t comp_us;		/* made (computed) */
	int64_t read_us;		/* last hit, or made by a miss */
	uint64_t gen;			/* store generation it was made from */
	bool busy;			/* being made again (hcache_due) */
	uint8_t *p;
	size_t n;
	uint8_t recipe[HCACHE_RECIPE_MAX];
	size_t nrecipe;
};

struct hcache {
	pthread_mutex_t mu;
	int64_t ttl_us;
	size_t max_bytes;		/* all documents together */
	size_t total;
	size_t nslots;
	uint64_t hits, misses, refreshed, renewed;
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
	s->busy = false;
}

/* The slot read longest ago (used only: NULL when all are free), or,
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
		if (o == NULL || c->s[i].read_us < o->read_us)
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
	if (hit) {
		c->hits++;
		if (now_us > s->read_us)
			s->read_us = now_us;
	} else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
hcache_put(hcache_t *c, const char *key, int64_t now_us, uint64_t gen,
    const void *p, size_t n, const void *recipe, size_t nrecipe)
{
	struct slot *s;
	uint8_t *q;
	int64_t read_us = now_us;

	if (strlen(key) >= HCACHE_KEY_MAX || n > c->max_bytes || n == 0 ||
	    nrecipe > HCACHE_RECIPE_MAX || (q = malloc(n)) == NULL) {
		hcache_abandon(c, key);
		return;
	}
	memcpy(q, p, n);
	pthread_mutex_lock(&c->mu);
	if ((s = find(c, key)) != NULL) {
		/* made again: read when it was last read */
		if (s->busy) {
			c->refreshed++;
			read_us = s->read_us;
		}
		drop(c, s);
	}
	/* room for n bytes: the oldest documents go first */
	while (c->total + n > c->max_bytes && (s = oldest(c, true)) != NULL)
		drop(c, s);
	if ((s = oldest(c, false)) == NULL) {	/* not with nslots >= 1 */
		pthread_mutex_unlock(&c->mu);
		free(q);
		return;
	}
	drop(c, s);
	c->total += n;
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->made_us = s->comp_us = now_us;
	s->read_us = read_us;
	s->gen = gen;
	s->busy = false;
	s->p = q;
	s->n = n;
	if (nrecipe > 0)
		memcpy(s->recipe, recipe, nrecipe);
	s->nrecipe = nrecipe;
	pthread_mutex_unlock(&c->mu);
}

bool
hcache_due(hcache_t *c, int64_t now_us, uint64_t gen, char *key,
    void *recipe, size_t *nrecipe)
{
	struct slot *o = NULL;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->nslots; i++) {
		struct slot *s = &c->s[i];

		if (s->key[0] == '\0' || s->busy || s->nrecipe == 0 ||
		    now_us < s->made_us || now_us - s->made_us < c->ttl_us / 2 ||
		    now_us - s->read_us > HCACHE_KEEP_US)
			continue;
		if (s->gen == gen && now_us >= s->comp_us &&
		    now_us - s->comp_us < HCACHE_RENEW_US) {
			s->made_us = now_us;
			c->renewed++;
			continue;
		}
		if (o == NULL || s->made_us < o->made_us)
			o = s;
	}
	if (o != NULL) {
		o->busy = true;
		memcpy(key, o->key, HCACHE_KEY_MAX);
		memcpy(recipe, o->recipe, o->nrecipe);
		*nrecipe = o->nrecipe;
	}
	pthread_mutex_unlock(&c->mu);
	return o != NULL;
}

void
hcache_abandon(hcache_t *c, const char *key)
{
	struct slot *s;

	pthread_mutex_lock(&c->mu);
	if ((s = find(c, key)) != NULL && s->busy)
		drop(c, s);
	pthread_mutex_unlock(&c->mu);
}

void
hcache_stats(hcache_t *c, struct hcache_stats *st)
{
	pthread_mutex_lock(&c->mu);
	st->hits = c->hits;
	st->misses = c->misses;
	st->refreshed = c->refreshed;
	st->renewed = c->renewed;
	pthread_mutex_unlock(&c->mu);
}
