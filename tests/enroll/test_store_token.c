/*
 * test_store_token — tokens and the agent's network through the store API
 * on a real LMDB environment in a temporary folder: put, get, list,
 * revoke; store_token_redeem's order of checks, that a refusal writes
 * nothing, that the same key again is admitted without a write, and that
 * an admission enrols the key with the token's region, ASN, network and
 * name; an agent enrolled without a network reads as unknown and keeps
 * its network when enrolled again without one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "key.h"
#include "registry.h"
#include "store.h"
#include "token.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zond-tokens-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

static store_t *
open_store(void)
{
	struct store_opts o = {0};
	store_t *s = NULL;
	zdiag_t d;

	o.map_size = 1 << 20;
	if (store_open(dir, &o, &s, &d) != ZE_OK)
		fail_msg("store_open: %s", d.text);
	return s;
}

static void
new_token(store_t *s, struct store_token *t, int64_t expires)
{
	zdiag_t d;

	memset(t, 0, sizeof(*t));
	randombytes_buf(t->id, sizeof(t->id));
	randombytes_buf(t->secret, sizeof(t->secret));
	memcpy(t->region, "RU-SPE", 7);
	t->asn = 12389;
	t->network = STORE_NET_MOBILE;
	memcpy(t->name, "pi", 3);
	t->created_us = 1000;
	t->expires_us = expires;
	assert_int_equal(store_token_put(s, t, &d), ZE_OK);
}

static enum store_redeem
redeem(store_t *s, const struct store_token *t, const zkey_t *k,
    bool good_proof, int64_t now)
{
	uint8_t proof[TOKEN_PROOF_LEN];
	enum store_redeem r = 0;
	zdiag_t d;

	token_proof(t->secret, t->id, key_public(k), proof);
	if (!good_proof)
		proof[0] ^= 1;
	assert_int_equal(store_token_redeem(s, t->id, key_public(k), proof,
	    sizeof(proof), now, &r, NULL, &d), ZE_OK);
	return r;
}

static int
count(const struct store_token *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static void
t_redeem(void **state)
{
	store_t *s = open_store();
	struct store_token a, b, c, got;
	struct store_agent ag;
	zkey_t *k1 = NULL, *k2 = NULL;
	zdiag_t d;
	int n = 0;

	(void)state;
	assert_int_equal(key_generate(&k1), ZE_OK);
	assert_int_equal(key_generate(&k2), ZE_OK);
	new_token(s, &a, 0);
	new_token(s, &b, 5000);
	new_token(s, &c, 0);
	assert_int_equal(store_token_iter(s, count, &n, &d), ZE_OK);
	assert_int_equal(n, 3);

	/* forged: nothing written, the token still admits its holder */
	assert_int_equal(redeem(s, &a, k1, false, 2000), STORE_REDEEM_FORGED);
	assert_int_equal(store_agent_get(s, key_public(k1), &ag, &d),
	    ZE_NOTFOUND);
	assert_int_equal(redeem(s, &a, k1, true, 2000),
	    STORE_REDEEM_ADMITTED);
	assert_int_equal(store_agent_get(s, key_public(k1), &ag, &d), ZE_OK);
	assert_string_equal(ag.region, "RU-SPE");
	assert_int_equal(ag.asn, 12389);
	assert_int_equal(ag.network, STORE_NET_MOBILE);
	assert_string_equal(ag.name, "pi");
	assert_true(ag.enabled);
	assert_int_equal(ag.role, STORE_ROLE_PROBE);
	assert_int_equal(store_token_get(s, a.id, &got, &d), ZE_OK);
	assert_int_equal(got.used_at_us, 2000);
	assert_memory_equal(got.used_by, key_public(k1), KEY_PUB_LEN);
	/* the same key again: admitted, nothing changes; another: used */
	assert_int_equal(redeem(s, &a, k1, true, 9000),
	    STORE_REDEEM_ADMITTED);
	assert_int_equal(store_token_get(s, a.id, &got, &d), ZE_OK);
	assert_int_equal(got.used_at_us, 2000);
	assert_int_equal(redeem(s, &a, k2, true, 9000), STORE_REDEEM_USED);
	assert_int_equal(store_agent_get(s, key_public(k2), &ag, &d),
	    ZE_NOTFOUND);
	/* expired at its time, not before */
	assert_int_equal(redeem(s, &b, k2, true, 5000),
	    STORE_REDEEM_EXPIRED);
	/* revoked wins over expired and used; forged over revoked */
	assert_int_equal(store_token_revoke(s, b.id, &d), ZE_OK);
	assert_int_equal(redeem(s, &b, k2, true, 9000),
	    STORE_REDEEM_REVOKED);
	assert_int_equal(redeem(s, &b, k2, false, 9000),
	    STORE_REDEEM_FORGED);
	assert_int_equal(store_token_revoke(s, a.id, &d), ZE_OK);
	assert_int_equal(redeem(s, &a, k1, true, 9000),
	    STORE_REDEEM_REVOKED);
	/* unknown id */
	c.id[0] ^= 1;
	assert_int_equal(redeem(s, &c, k2, true, 9000), STORE_REDEEM_UNKNOWN);
	assert_int_equal(store_token_revoke(s, c.id, &d), ZE_NOTFOUND);
	key_free(&k1);
	key_free(&k2);
	store_close(&s);
}

static void
t_network(void **state)
{
	store_t *s = open_store();
	struct store_agent ag;
	zkey_t *k = NULL;
	char hex[KEY_HEX_LEN + 1];
	bool created;
	zdiag_t d;

	(void)state;
	assert_int_equal(key_generate(&k), ZE_OK);
	key_public_hex(k, hex);
	/* as enrolled before networks existed: unknown */
	assert_int_equal(registry_enroll(s, hex, "RU-MOW", "8359", NULL,
	    NULL, &created, &d), ZE_OK);
	assert_int_equal(store_agent_get(s, key_public(k), &ag, &d), ZE_OK);
	assert_int_equal(ag.network, STORE_NET_UNKNOWN);
	assert_int_equal(registry_enroll_net(s, hex, "RU-MOW", "8359", NULL,
	    NULL, "fixed", &created, &d), ZE_OK);
	assert_int_equal(store_agent_get(s, key_public(k), &ag, &d), ZE_OK);
	assert_int_equal(ag.network, STORE_NET_FIXED);
	/* enrolled again without one: kept */
	assert_int_equal(registry_enroll(s, hex, "RU-SPE", "8359", NULL,
	    NULL, &created, &d), ZE_OK);
	assert_int_equal(store_agent_get(s, key_public(k), &ag, &d), ZE_OK);
	assert_int_equal(ag.network, STORE_NET_FIXED);
	assert_string_equal(ag.region, "RU-SPE");
	assert_int_equal(registry_enroll_net(s, hex, "RU-MOW", "8359", NULL,
	    NULL, "cable", &created, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "network 'cable'"));
	key_free(&k);
	store_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_redeem, setup, teardown),
		cmocka_unit_test_setup_teardown(t_network, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
