/*
 * test_hcache — the public view's document cache (aggregator/http_cache.c):
 * hits within the time to live, misses after it and for other keys, the
 * oldest slot replaced, too large documents and keys not kept, a clock
 * stepped back misses, and four threads getting and putting at once;
 * the refresher's side: a document read lately and half its time to live
 * old is handed out once to be made again and served meanwhile, one whose
 * store generation did not change is renewed instead (for a while), one
 * not read lately is left to expire, an abandoned one is dropped.
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
	struct hcache_stats st;

	(void)state;
	assert_int_equal(hcache_new(0, S, 100, &c), ZE_INVAL);
	assert_int_equal(hcache_new(2, 0, 100, &c), ZE_INVAL);
	assert_int_equal(hcache_new(2, 10 * S, 100, &c), ZE_OK);
	assert_false(got(c, "map?a", 0, NULL));
	hcache_put(c, "map?a", 100 * S, 0, "doc-a", 5, NULL, 0);
	assert_true(got(c, "map?a", 100 * S, "doc-a"));
	assert_true(got(c, "map?a", 110 * S, "doc-a"));
	assert_false(got(c, "map?a", 110 * S + 1, NULL));	/* too old */
	assert_false(got(c, "map?a", 99 * S, NULL));	/* clock stepped back */
	assert_false(got(c, "map?b", 100 * S, NULL));	/* another key */
	assert_false(got(c, "map?", 100 * S, NULL));	/* a prefix of it */
	/* a newer document of the key replaces the old one */
	hcache_put(c, "map?a", 200 * S, 0, "doc-a2", 6, NULL, 0);
	assert_true(got(c, "map?a", 201 * S, "doc-a2"));
	/* two slots: a third key replaces the oldest */
	hcache_put(c, "map?b", 202 * S, 0, "doc-b", 5, NULL, 0);
	hcache_put(c, "map?c", 203 * S, 0, "doc-c", 5, NULL, 0);
	assert_false(got(c, "map?a", 203 * S, NULL));
	assert_true(got(c, "map?b", 203 * S, "doc-b"));
	assert_true(got(c, "map?c", 203 * S, "doc-c"));
	/* too large, empty, or a key too long: not kept */
	{
		char big[101], key[HCACHE_KEY_MAX + 1];

		memset(big, 'x', sizeof(big));
		hcache_put(c, "map?big", 204 * S, 0, big, sizeof(big), NULL, 0);
		assert_false(got(c, "map?big", 204 * S, NULL));
		hcache_put(c, "map?empty", 204 * S, 0, "", 0, NULL, 0);
		assert_false(got(c, "map?empty", 204 * S, NULL));
		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		hcache_put(c, key, 204 * S, 0, "doc", 3, NULL, 0);
		assert_false(got(c, key, 204 * S, NULL));
		/* the slots still hold what they held */
		assert_true(got(c, "map?b", 204 * S, "doc-b"));
	}
	hcache_stats(c, &st);
	assert_true(st.hits > 0 && st.misses > 0);
	hcache_free(&c);
	assert_null(c);
	hcache_free(&c);
	/* a budget of 10 bytes in 4 slots: the oldest go to make room */
	assert_int_equal(hcache_new(4, 10 * S, 10, &c), ZE_OK);
	hcache_put(c, "a", 1 * S, 0, "aaaa", 4, NULL, 0);
	hcache_put(c, "b", 2 * S, 0, "bbbb", 4, NULL, 0);
	hcache_put(c, "c", 3 * S, 0, "cccc", 4, NULL, 0);
	assert_false(got(c, "a", 3 * S, NULL));
	assert_true(got(c, "b", 3 * S, "bbbb"));
	assert_true(got(c, "c", 3 * S, "cccc"));
	hcache_put(c, "b", 4 * S, 0, "bbbbbbbbb", 9, NULL, 0);	/* replaces b, drops c */
	assert_false(got(c, "c", 4 * S, NULL));
	assert_true(got(c, "b", 4 * S, "bbbbbbbbb"));
	hcache_put(c, "d", 5 * S, 0, "d", 1, NULL, 0);
	assert_true(got(c, "b", 5 * S, "bbbbbbbbb"));
	assert_true(got(c, "d", 5 * S, "d"));
	hcache_free(&c);
}

static bool
due(hcache_t *c, int64_t now, uint64_t gen, const char *want_key,
    const char *want_recipe)
{
	char key[HCACHE_KEY_MAX], recipe[HCACHE_RECIPE_MAX];
	size_t n = 0;

	if (!hcache_due(c, now, gen, key, recipe, &n))
		return false;
	assert_string_equal(key, want_key);
	assert_int_equal(n, strlen(want_recipe));
	assert_memory_equal(recipe, want_recipe, n);
	return true;
}

static void
t_refresh(void **state)
{
	hcache_t *c;
	struct hcache_stats st;
	char big[HCACHE_RECIPE_MAX + 1];

	(void)state;
	assert_int_equal(hcache_new(4, 10 * S, 1000, &c), ZE_OK);
	hcache_put(c, "a", 100 * S, 1, "doc-a", 5, "ra", 2);
	assert_true(got(c, "a", 101 * S, "doc-a"));
	/* younger than half the time to live: not yet */
	assert_false(due(c, 104 * S, 2, "", ""));
	/* the analyzer changed something: handed out once */
	assert_true(due(c, 105 * S, 2, "a", "ra"));
	assert_false(due(c, 105 * S, 2, "", ""));
	/* served while it is made again */
	assert_true(got(c, "a", 106 * S, "doc-a"));
	hcache_put(c, "a", 106 * S, 2, "doc-a2", 6, "ra", 2);
	assert_true(got(c, "a", 107 * S, "doc-a2"));
	hcache_stats(c, &st);
	assert_int_equal(st.refreshed, 1);
	assert_int_equal(st.renewed, 0);
	/* nothing changed since: renewed, not handed out, and served past
	 * its first time to live */
	assert_false(due(c, 111 * S + S / 2, 2, "", ""));
	hcache_stats(c, &st);
	assert_int_equal(st.renewed, 1);
	assert_true(got(c, "a", 120 * S, "doc-a2"));
	assert_false(got(c, "a", 122 * S, NULL));	/* 10.5 s after renewal */
	/* not read for HCACHE_KEEP_US: left to expire */
	hcache_put(c, "b", 200 * S, 1, "doc-b", 5, "rb", 2);
	assert_false(due(c, 200 * S + HCACHE_KEEP_US + 1, 2, "", ""));
	/* abandoned: dropped */
	hcache_put(c, "b", 400 * S, 1, "doc-b", 5, "rb", 2);
	assert_true(due(c, 405 * S, 2, "b", "rb"));
	assert_true(got(c, "b", 405 * S, "doc-b"));
	hcache_abandon(c, "b");
	assert_false(got(c, "b", 405 * S, NULL));
	/* no recipe: never handed out */
	hcache_put(c, "c", 500 * S, 1, "doc-c", 5, NULL, 0);
	assert_false(due(c, 506 * S, 2, "", ""));
	/* renewed for at most HCACHE_RENEW_US after it was made */
	hcache_put(c, "d", 1000 * S, 7, "doc-d", 5, "rd", 2);
	for (int64_t t = 1000 * S + 5 * S; t < 1000 * S + HCACHE_RENEW_US;
	    t += 5 * S) {
		assert_true(got(c, "d", t, "doc-d"));
		assert_false(due(c, t, 7, "", ""));
	}
	assert_true(got(c, "d", 1000 * S + HCACHE_RENEW_US, "doc-d"));
	assert_true(due(c, 1000 * S + HCACHE_RENEW_US, 7, "d", "rd"));
	/* a recipe too long: not kept */
	memset(big, 'r', sizeof(big));
	hcache_put(c, "e", 2000 * S, 1, "doc-e", 5, big, sizeof(big));
	assert_false(got(c, "e", 2000 * S, NULL));
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
			hcache_put(w->c, key, 5 * S, 0, doc, strlen(doc), NULL, 0);
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
	struct hcache_stats st;

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
	hcache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, 80000);
	assert_true(st.hits > 0);
	hcache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ttl),
		cmocka_unit_test(t_threads),
		cmocka_unit_test(t_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
