/*
 * agentcount.c — see agentcount.h.
 */
#include "agentcount.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ent {
	uint8_t pk[32];
	uint64_t n;
	bool used;
};

struct agentcount {
	pthread_mutex_t mu;
	uint8_t hk[crypto_shorthash_KEYBYTES];
	struct ent *t;
	size_t cap, used;		/* cap: a power of two */
};

zerr_t
agentcount_new(agentcount_t **out)
{
	agentcount_t *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return ZE_NOMEM;
	c->cap = 64;
	if ((c->t = calloc(c->cap, sizeof(*c->t))) == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->t);
		free(c);
		return ZE_NOMEM;
	}
	randombytes_buf(c->hk, sizeof(c->hk));
	*out = c;
	return ZE_OK;
}

void
agentcount_free(agentcount_t **cp)
{
	agentcount_t *c = *cp;

	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->t);
	free(c);
	*cp = NULL;
}

static size_t
slot(const agentcount_t *c, const struct ent *t, size_t cap,
    const uint8_t pk[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	size_t i;

	crypto_shorthash(h, pk, 32, c->hk);
	memcpy(&v, h, sizeof(v));
	for (i = (size_t)v & (cap - 1); t[i].used &&
	    memcmp(t[i].pk, pk, 32) != 0; i = (i + 1) & (cap - 1))
		;
	return i;
}

/* Double the table; false when memory runs out (the old one stays). */
static bool
grow(agentcount_t *c)
{
	size_t cap = c->cap * 2;
	struct ent *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return false;
	for (size_t i = 0; i < c->cap; i++)
		if (c->t[i].used)
			t[slot(c, t, cap, c->t[i].pk)] = c->t[i];
	free(c->t);
	c->t = t;
	c->cap = cap;
	return true;
}

void
agentcount_add(agentcount_t *c, const uint8_t pk[32], uint64_t n)
{
	size_t i;

	if (c == NULL || n == 0)
		return;
	pthread_mutex_lock(&c->mu);
	if ((c->used + 1) * 4 <= c->cap * 3 || grow(c)) {
		i = slot(c, c->t, c->cap, pk);
		if (!c->t[i].used) {
			memcpy(c->t[i].pk, pk, 32);
			c->t[i].used = true;
			c->used++;
		}
		c->t[i].n += n;
	}
	pthread_mutex_unlock(&c->mu);
}

uint64_t
agentcount_get(agentcount_t *c, const uint8_t pk[32])
{
	uint64_t n;
	size_t i;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	i = slot(c, c->t, c->cap, pk);
	n = c->t[i].used ? c->t[i].n : 0;
	pthread_mutex_unlock(&c->mu);
	return n;
}
