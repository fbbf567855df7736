/*
 * test_hcache — the public view's document cache (aggregator/http_cache.c):
 * hits within the time to live, misses after it and for other keys, the
 * oldest slot replaced, too large documents and keys not kept, a clock
 * stepped back misses, and four threads getting and putting at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http_cache.h"

#define S 1000000LL

static bool
got(hcache_t *c, const char *key, int64_t now, const char *want)
{
	zbuf_t b;
	bool hit;

	zbuf_init(&b, 1 << 20);
	hit = hcache_get(c, key, now, &b);
	if (hit && want != NULL)
		hit = b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;
	zbuf_free(&b);
	return hit;
}

static void
t_ttl(void **state)
{
	hcache_t *c;
	uint64_t h, m;

	(void)state;
	assert_int_equal(hcache_new(0, S, 100, &c), ZE_INVAL);
	assert_int_equal(hcache_new(2, 0, 100, &c), ZE_INVAL);
	assert_int_equal(hcache_new(2, 10 * S, 100, &c), ZE_OK);
	assert_false(got(c, "map?a", 0, NULL));
	hcache_put(c, "map?a", 100 * S, "doc-a", 5);
	assert_true(got(c, "map?a", 100 * S, "doc-a"));
	assert_true(got(c, "map?a", 110 * S, "doc-a"));
	assert_false(got(c, "map?a", 110 * S + 1, NULL));	/* too old */
	assert_false(got(c, "map?a", 99 * S, NULL));	/* clock stepped back */
	assert_false(got(c, "map?b", 100 * S, NULL));	/* another key */
	assert_false(got(c, "map?", 100 * S, NULL));	/* a prefix of it */
	/* a newer document of the key replaces the old one */
	hcache_put(c, "map?a", 200 * S, "doc-a2", 6);
	assert_true(got(c, "map?a", 201 * S, "doc-a2"));
	/* two slots: a third key replaces the oldest */
	hcache_put(c, "map?b", 202 * S, "doc-b", 5);
	hcache_put(c, "map?c", 203 * S, "doc-c", 5);
	assert_false(got(c, "map?a", 203 * S, NULL));
	assert_true(got(c, "map?b", 203 * S, "doc-b"));
	assert_true(got(c, "map?c", 203 * S, "doc-c"));
	/* too large, empty, or a key too long: not kept */
	{
		char big[101], key[HCACHE_KEY_MAX + 1];

		memset(big, 'x', sizeof(big));
		hcache_put(c, "map?big", 204 * S, big, sizeof(big));
		assert_false(got(c, "map?big", 204 * S, NULL));
		hcache_put(c, "map?empty", 204 * S, "", 0);
		assert_false(got(c, "map?empty", 204 * S, NULL));
		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		hcache_put(c, key, 204 * S, "doc", 3);
		assert_false(got(c, key, 204 * S, NULL));
		/* the slots still hold what they held */
		assert_true(got(c, "map?b", 204 * S, "doc-b"));
	}
	hcache_stats(c, &h, &m);
	assert_true(h > 0 && m > 0);
	hcache_free(&c);
	assert_null(c);
	hcache_free(&c);
	/* a budget of 10 bytes in 4 slots: the oldest go to make room */
	assert_int_equal(hcache_new(4, 10 * S, 10, &c), ZE_OK);
	hcache_put(c, "a", 1 * S, "aaaa", 4);
	hcache_put(c, "b", 2 * S, "bbbb", 4);
	hcache_put(c, "c", 3 * S, "cccc", 4);
	assert_false(got(c, "a", 3 * S, NULL));
	assert_true(got(c, "b", 3 * S, "bbbb"));
	assert_true(got(c, "c", 3 * S, "cccc"));
	hcache_put(c, "b", 4 * S, "bbbbbbbbb", 9);	/* replaces b, drops c */
	assert_false(got(c, "c", 4 * S, NULL));
	assert_true(got(c, "b", 4 * S, "bbbbbbbbb"));
	hcache_put(c, "d", 5 * S, "d", 1);
	assert_true(got(c, "b", 5 * S, "bbbbbbbbb"));
	assert_true(got(c, "d", 5 * S, "d"));
	hcache_free(&c);
}

struct worker {
	hcache_t *c;
	int id;
	int bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char key[32], doc[64];

	for (int i = 0; i < 20000; i++) {
		int k = (i * 7 + w->id) % 12;
		zbuf_t b;

		snprintf(key, sizeof(key), "map?k=%d", k);
		snprintf(doc, sizeof(doc), "document of key %d", k);
		zbuf_init(&b, 1 << 16);
		if (hcache_get(w->c, key, 5 * S, &b) && (b.len != strlen(doc) ||
		    memcmp(b.data, doc, b.len) != 0))
			w->bad++;	/* a hit is always the key's own */
		else if (b.len == 0)
			hcache_put(w->c, key, 5 * S, doc, strlen(doc));
		zbuf_free(&b);
	}
	return NULL;
}

static void
t_threads(void **state)
{
	hcache_t *c;
	pthread_t th[4];
	struct worker w[4];
	uint64_t h, m;

	(void)state;
	assert_int_equal(hcache_new(8, 10 * S, 1 << 16, &c), ZE_OK);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){c, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	hcache_stats(c, &h, &m);
	assert_int_equal(h + m, 80000);
	assert_true(h > 0);
	hcache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ttl),
		cmocka_unit_test(t_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
