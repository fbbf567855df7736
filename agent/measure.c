/* measure.c — see measure.h. */
#include "measure.h"

#include <stdio.h>
#include <string.h>

#include "probe_util.h"
#include "version.h"
#include "wire.h"

/* The address family the probe's socket used, from the address its
 * outcome names ("ip:port", "[v6]:port"); UNSPEC when it names none (or a
 * host name).  The verdict compares IPv4 with IPv4 controls and IPv6 with
 * IPv6. */
static Zond__V1__AddrFamily
outcome_family(const Zond__V1__Outcome *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *a = NULL;

	if (o == NULL)
		return ZOND__V1__ADDR_FAMILY__AF_UNSPEC_;
	switch (o->test_case) {
	case ZOND__V1__OUTCOME__TEST_TCP: a = o->tcp->addr; break;
	case ZOND__V1__OUTCOME__TEST_TLS: a = o->tls->addr; break;
	case ZOND__V1__OUTCOME__TEST_HTTP: a = o->http->addr; break;
	case ZOND__V1__OUTCOME__TEST_STUN: a = o->stun->addr; break;
	case ZOND__V1__OUTCOME__TEST_QUIC: a = o->quic->addr; break;
	case ZOND__V1__OUTCOME__TEST_THROUGHPUT: a = o->throughput->addr;
		break;
	case ZOND__V1__OUTCOME__TEST_FREEZE: a = o->freeze->addr; break;
	case ZOND__V1__OUTCOME__TEST_VPN: a = o->vpn->addr; break;
	default: break;
	}
	if (a == NULL || pu_parse_addr(a, 1, &ss, &sl, NULL) != ZE_OK)
		return ZOND__V1__ADDR_FAMILY__AF_UNSPEC_;
	return ss.ss_family == AF_INET6 ? ZOND__V1__ADDR_FAMILY__AF_INET6 :
	    ZOND__V1__ADDR_FAMILY__AF_INET4;
}

zerr_t
measure_seal(const struct measure_ctx *c, const target_t *t,
    const sched_result_t *r, uint64_t seq, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN])
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__NetContext net = ZOND__V1__NET_CONTEXT__INIT;
	Zond__V1__ClockCheck cc = ZOND__V1__CLOCK_CHECK__INIT;
	int64_t start = r->start_us;
	uint8_t agent[KEY_PUB_LEN];
	zid_t id;
	char target[300];

	/* the id is made from the same start that is signed: PROTOCOL.md
	 * "Ids" keeps the two within a minute */
	if (c->clock != NULL) {
		aclock_stamp(c->clock, r->start_us, r->boot_us, &start, &cc);
		m.clock = &cc;
	}
	zid_next(c->ids, start, &id);
	memcpy(agent, key_public(c->key), KEY_PUB_LEN);
	m.has_id = 1;
	m.id.data = id.b;
	m.id.len = ZID_LEN;
	m.has_seq = 1;
	m.seq = seq;
	m.has_agent = 1;
	m.agent.data = agent;
	m.agent.len = KEY_PUB_LEN;
	m.has_start_us = 1;
	m.start_us = start;
	m.has_duration_us = 1;
	m.duration_us = r->duration_us > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)r->duration_us;
	m.agent_version = ZOND_VERSION;
	m.has_test = 1;
	m.test = t->req.test;
	/* the target names the port when the list gives one, so tests of
	 * one host on different ports are compared separately */
	if (t->req.port > 0 && strchr(t->req.target, ':') == NULL &&
	    (size_t)snprintf(target, sizeof(target), "%s:%d", t->req.target,
	    t->req.port) < sizeof(target))
		m.target = target;
	else
		m.target = (char *)t->req.target;
	m.service = (char *)t->req.service;
	net.resolver = (char *)(c->resolver ? c->resolver : "system");
	net.family = outcome_family(r->outcome);
	net.has_family = net.family != ZOND__V1__ADDR_FAMILY__AF_UNSPEC_;
	m.net = &net;
	m.outcome = r->outcome;
	if (c->list_version) {
		m.has_list_version = 1;
		m.list_version = c->list_version;
	}
	/* text from the network (details, names in answers) must be valid
	 * UTF-8: the aggregator refuses anything else.  Only the probe's own
	 * outcome is touched; the list and the config were checked when
	 * they were read (csv, conf) and are shared with other threads. */
	if (r->outcome != NULL)
		wire_msg_sanitize(&r->outcome->base);
	if (r->resolution != NULL) {
		wire_msg_sanitize(&r->resolution->base);
		m.resolution = r->resolution;
	}
	m.locate = r->locate;
	return wire_meas_seal(c->key, &m, body, sig);
}
