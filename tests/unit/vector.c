/* vector.c — see vector.h.  Changing anything here changes the golden
 * bytes: regenerate with `test_vectors --write tests/vectors` only for a
 * deliberate protocol change, and say so in docs/PROTOCOL.md. */
#include "vector.h"

#include <string.h>

void
vector_seed(uint8_t seed[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
}

void
vector_measurement(struct vector_meas *v, const uint8_t pk[32])
{
	/* 2026-01-01T12:00:00.000Z = 1767268800000 ms */
	static const uint8_t rnd[10] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	    0x06, 0x07, 0x08, 0x09};
	const int64_t ms = 1767268800000LL;

	memset(v, 0, sizeof(*v));
	for (int i = 0; i < 6; i++)
		v->id[i] = (uint8_t)(ms >> (8 * (5 - i)));
	memcpy(v->id + 6, rnd, 10);
	memcpy(v->agent, pk, 32);

	zond__v1__tls_outcome__init(&v->tls);
	v->tls.addr = "198.51.100.20:443";
	v->tls.sni = "web.whatsapp.com";
	v->tls.control_sni = "example.org";
	v->tls.has_control_failure = 1;
	v->tls.control_failure = ZOND__V1__FAILURE__FAIL_NONE;
	v->tls.has_control_handshake_us = 1;
	v->tls.control_handshake_us = 41000;
	v->tls.error_stage = "client_hello";

	zond__v1__outcome__init(&v->out);
	v->out.has_failure = 1;
	v->out.failure = ZOND__V1__FAILURE__FAIL_RESET;
	v->out.detail = "connection reset after ClientHello";
	v->out.has_attempts = 1;
	v->out.attempts = 3;
	v->out.test_case = ZOND__V1__OUTCOME__TEST_TLS;
	v->out.tls = &v->tls;

	zond__v1__net_context__init(&v->net);
	v->net.resolver = "192.0.2.53:53";
	v->net.has_family = 1;
	v->net.family = ZOND__V1__ADDR_FAMILY__AF_INET4;

	zond__v1__measurement__init(&v->m);
	v->m.has_id = 1;
	v->m.id.data = v->id;
	v->m.id.len = 16;
	v->m.has_seq = 1;
	v->m.seq = 42;
	v->m.has_agent = 1;
	v->m.agent.data = v->agent;
	v->m.agent.len = 32;
	v->m.has_start_us = 1;
	v->m.start_us = ms * 1000;
	v->m.has_duration_us = 1;
	v->m.duration_us = 183000;
	v->m.agent_version = "0.1.0";
	v->m.has_test = 1;
	v->m.test = ZOND__V1__TEST_KIND__TEST_TLS;
	v->m.target = "198.51.100.20:443";
	v->m.service = "whatsapp";
	v->m.net = &v->net;
	v->m.outcome = &v->out;
	v->m.has_list_version = 1;
	v->m.list_version = 7;
}
