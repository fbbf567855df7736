/* testagent.c — see testagent.h. */
#include "testagent.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "wire.h"

zerr_t
ta_key(const char *seed, unsigned idx, zkey_t **out)
{
	uint8_t s[KEY_SEED_LEN];
	char tag[256];
	int n;

	n = snprintf(tag, sizeof(tag), "zond-test-agent/%s/%u", seed, idx);
	if (n < 0 || (size_t)n >= sizeof(tag))
		return ZE_INVAL;
	crypto_generichash(s, sizeof(s), (const uint8_t *)tag, (size_t)n,
	    NULL, 0);
	return key_from_seed(s, out);
}

const uint8_t *ta_id_override;

zerr_t
ta_measurement(const zkey_t *k, const char *seed, unsigned idx,
    uint64_t seq, int64_t base_us, const uint8_t *agent_field, size_t pad,
    zbuf_t *body, uint8_t sig[KEY_SIG_LEN])
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TcpOutcome t = ZOND__V1__TCP_OUTCOME__INIT;
	uint8_t id[WIRE_ID_LEN], h[10];
	char tag[256], target[64], *big = NULL;
	uint64_t ms = (uint64_t)(base_us / 1000) + seq;
	int n;
	zerr_t e;

	n = snprintf(tag, sizeof(tag), "%s/%u/%llu", seed, idx,
	    (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(tag))
		return ZE_INVAL;
	crypto_generichash(h, sizeof(h), (const uint8_t *)tag, (size_t)n,
	    NULL, 0);
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(id + 6, h, sizeof(h));
	id[6] &= 0x7f;
	if (ta_id_override != NULL)
		memcpy(id, ta_id_override, sizeof(id));
	snprintf(target, sizeof(target), "198.51.100.%u:443", idx % 250 + 1);
	if (pad > 0) {
		if ((big = malloc(pad + 1)) == NULL)
			return ZE_NOMEM;
		memset(big, 'x', pad);
		big[pad] = '\0';
	}
	m.has_id = 1;
	m.id.data = id;
	m.id.len = sizeof(id);
	m.has_seq = 1;
	m.seq = seq;
	m.has_agent = 1;
	m.agent.data = (uint8_t *)(uintptr_t)(agent_field != NULL ?
	    agent_field : key_public(k));
	m.agent.len = KEY_PUB_LEN;
	m.has_start_us = 1;
	m.start_us = base_us + (int64_t)seq * 1000;
	m.has_duration_us = 1;
	m.duration_us = 1000 + (uint32_t)(seq % 5000);
	m.agent_version = "0.1.0-test";
	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_TCP;
	m.target = big != NULL ? big : target;
	m.service = "facetime";
	o.has_failure = 1;
	o.failure = seq % 3 ? ZOND__V1__FAILURE__FAIL_NONE :
	    ZOND__V1__FAILURE__FAIL_RESET;
	o.has_attempts = 1;
	o.attempts = 1;
	t.addr = target;
	t.has_connect_us = 1;
	t.connect_us = 20000 + (uint32_t)(seq % 1000);
	o.test_case = ZOND__V1__OUTCOME__TEST_TCP;
	o.tcp = &t;
	m.outcome = &o;
	zbuf_reset(body);
	if (protobuf_c_message_get_packed_size(&m.base) > body->max) {
		free(big);
		return ZE_TOOBIG;
	}
	if ((e = wire_pack(&m.base, body)) == ZE_OK)
		e = sign_body(k, ZDOM_MEASUREMENT, body->data, body->len,
		    sig);
	free(big);
	return e;
}
