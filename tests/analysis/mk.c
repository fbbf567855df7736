/* mk.c — see mk.h.  Aborts on out of memory: tests only. */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
xcalloc(size_t n, size_t s)
{
	void *p = calloc(n, s);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

static void *
xgrow(void *v, size_t n, size_t s)
{
	void *p = reallocarray(v, n, s);

	if (p == NULL)
		abort();
	return p;
}

meas_t *
mk(Zond__V1__TestKind t, const char *target, int agent, Zond__V1__Failure f)
{
	meas_t *m = xcalloc(1, sizeof(*m));
	Zond__V1__Outcome *o = xcalloc(1, sizeof(*o));

	zond__v1__measurement__init(m);
	zond__v1__outcome__init(o);
	m->has_test = 1;
	m->test = t;
	m->target = xstrdup(target);
	m->has_agent = 1;
	m->agent.len = 32;
	m->agent.data = xcalloc(1, 32);
	memset(m->agent.data, agent, 32);
	m->has_start_us = 1;
	m->start_us = 1767225600000000LL;
	o->has_failure = 1;
	o->failure = f;
	m->outcome = o;
	switch (t) {
	case TK(DNS):
		o->test_case = ZOND__V1__OUTCOME__TEST_DNS;
		o->dns = xcalloc(1, sizeof(*o->dns));
		zond__v1__dns_outcome__init(o->dns);
		o->dns->query = xstrdup(target);
		o->dns->qtype = xstrdup("A");
		break;
	case TK(TCP):
		o->test_case = ZOND__V1__OUTCOME__TEST_TCP;
		o->tcp = xcalloc(1, sizeof(*o->tcp));
		zond__v1__tcp_outcome__init(o->tcp);
		break;
	case TK(TLS):
		o->test_case = ZOND__V1__OUTCOME__TEST_TLS;
		o->tls = xcalloc(1, sizeof(*o->tls));
		zond__v1__tls_outcome__init(o->tls);
		o->tls->sni = xstrdup(target);
		break;
	case TK(HTTP):
		o->test_case = ZOND__V1__OUTCOME__TEST_HTTP;
		o->http = xcalloc(1, sizeof(*o->http));
		zond__v1__http_outcome__init(o->http);
		break;
	case TK(STUN):
		o->test_case = ZOND__V1__OUTCOME__TEST_STUN;
		o->stun = xcalloc(1, sizeof(*o->stun));
		zond__v1__stun_outcome__init(o->stun);
		break;
	case TK(QUIC):
		o->test_case = ZOND__V1__OUTCOME__TEST_QUIC;
		o->quic = xcalloc(1, sizeof(*o->quic));
		zond__v1__quic_outcome__init(o->quic);
		break;
	case TK(THROUGHPUT):
		o->test_case = ZOND__V1__OUTCOME__TEST_THROUGHPUT;
		o->throughput = xcalloc(1, sizeof(*o->throughput));
		zond__v1__throughput_outcome__init(o->throughput);
		break;
	case TK(FREEZE):
		o->test_case = ZOND__V1__OUTCOME__TEST_FREEZE;
		o->freeze = xcalloc(1, sizeof(*o->freeze));
		zond__v1__freeze_outcome__init(o->freeze);
		break;
	case TK(VPN):
		o->test_case = ZOND__V1__OUTCOME__TEST_VPN;
		o->vpn = xcalloc(1, sizeof(*o->vpn));
		zond__v1__vpn_outcome__init(o->vpn);
		break;
	case TK(CALL):
		o->test_case = ZOND__V1__OUTCOME__TEST_CALL;
		o->call = xcalloc(1, sizeof(*o->call));
		zond__v1__call_outcome__init(o->call);
		break;
	default:
		break;
	}
	return m;
}

void
mk_free(meas_t *m)
{
	if (m != NULL)
		zond__v1__measurement__free_unpacked(m, NULL);
}

void
mk_dns(meas_t *m, unsigned rcode, const char *const *addrs)
{
	Zond__V1__DnsOutcome *d = m->outcome->dns;
	Zond__V1__DnsResponse *r = xcalloc(1, sizeof(*r));
	size_t n = 0;

	zond__v1__dns_response__init(r);
	r->has_rcode = 1;
	r->rcode = rcode;
	r->has_arrival_us = 1;
	r->arrival_us = 1000 * (uint32_t)(d->n_responses + 1);
	while (addrs != NULL && addrs[n] != NULL)
		n++;
	if (n > 0)
		r->answers = xcalloc(n, sizeof(*r->answers));
	for (r->n_answers = 0; r->n_answers < n; r->n_answers++) {
		Zond__V1__DnsAnswer *a = xcalloc(1, sizeof(*a));
		zond__v1__dns_answer__init(a);
		a->type = xstrdup(strchr(addrs[r->n_answers], ':') ? "AAAA" :
		    "A");
		a->data = xstrdup(addrs[r->n_answers]);
		a->has_ttl = 1;
		a->ttl = 300;
		r->answers[r->n_answers] = a;
	}
	d->responses = xgrow(d->responses, d->n_responses + 1,
	    sizeof(*d->responses));
	d->responses[d->n_responses++] = r;
}

void
mk_tls(meas_t *m, const char *stage, const char *control_sni,
    Zond__V1__Failure cf)
{
	Zond__V1__TlsOutcome *t = m->outcome->tls;

	t->error_stage = xstrdup(stage);
	if (control_sni != NULL) {
		t->control_sni = xstrdup(control_sni);
		t->has_control_failure = 1;
		t->control_failure = cf;
	}
}

void
mk_http(meas_t *m, const char *url, unsigned status, uint64_t body_len,
    const char *title, const char *const *headers, const char *body)
{
	Zond__V1__HttpOutcome *h = m->outcome->http;
	size_t n = 0;

	h->url = xstrdup(url);
	if (status > 0) {
		h->has_status = 1;
		h->status = status;
	}
	h->has_body_length = 1;
	h->body_length = body_len;
	h->title = xstrdup(title);
	while (headers != NULL && headers[n] != NULL)
		n++;
	if (n > 0) {
		h->headers = xcalloc(n, sizeof(*h->headers));
		for (h->n_headers = 0; h->n_headers < n; h->n_headers++)
			h->headers[h->n_headers] =
			    xstrdup(headers[h->n_headers]);
	}
	if (body != NULL) {
		h->has_body_head = 1;
		h->body_head.len = strlen(body);
		h->body_head.data = xcalloc(1, h->body_head.len + 1);
		memcpy(h->body_head.data, body, h->body_head.len);
	}
}

void
mk_stun(meas_t *m, const char *variant, int baseline)
{
	Zond__V1__StunOutcome *s = m->outcome->stun;

	s->variant = xstrdup(variant);
	if (baseline >= 0) {
		s->has_baseline_ok = 1;
		s->baseline_ok = baseline != 0;
	}
}

void
mk_quic(meas_t *m, const char *variant, int baseline)
{
	Zond__V1__QuicOutcome *q = m->outcome->quic;

	q->variant = xstrdup(variant);
	if (baseline >= 0) {
		q->has_baseline_ok = 1;
		q->baseline_ok = baseline != 0;
	}
}

void
mk_vpn(meas_t *m, const char *protocol, int baseline)
{
	Zond__V1__VpnOutcome *v = m->outcome->vpn;

	v->protocol = xstrdup(protocol);
	if (baseline >= 0) {
		v->has_baseline_ok = 1;
		v->baseline_ok = baseline != 0;
	}
}

void
mk_tp(meas_t *m, uint64_t bps, uint64_t control_bps, Zond__V1__Failure cf)
{
	Zond__V1__ThroughputOutcome *t = m->outcome->throughput;

	t->sni = xstrdup(m->target);
	t->control_sni = xstrdup("example.org");
	if (bps > 0) {
		t->has_bytes_per_s = 1;
		t->bytes_per_s = bps;
	}
	if (control_bps > 0) {
		t->has_control_bytes_per_s = 1;
		t->control_bytes_per_s = control_bps;
	}
	t->has_control_failure = 1;
	t->control_failure = cf;
}

void
mk_freeze(meas_t *m, uint64_t requested, uint64_t received)
{
	Zond__V1__FreezeOutcome *z = m->outcome->freeze;

	z->has_requested = 1;
	z->requested = requested;
	z->has_received = 1;
	z->received = received;
}

static bool
same_res(const struct verdict_res *a, const struct verdict_res *b)
{
	return a->verdict == b->verdict && a->method == b->method &&
	    a->expire_to == b->expire_to && a->confirmed == b->confirmed &&
	    strcmp(a->reason, b->reason) == 0;
}

zerr_t
mk_judge(const struct verdict_opts *o, const meas_t *m,
    const meas_t *const *ctl, size_t nc, const meas_t *const *sib,
    size_t ns, struct verdict_res *r)
{
	struct verdict_ctl **pc = calloc(nc + 1, sizeof(*pc));
	struct verdict_memo *memo = NULL;
	struct verdict_res kept;
	struct verdict_in in;
	zerr_t e;

	if (pc == NULL || verdict_memo_new(&memo) != ZE_OK)
		abort();
	for (size_t i = 0; i < nc; i++)
		if (verdict_ctl_new(o, ctl[i], &pc[i]) != ZE_OK)
			abort();
	memset(&in, 0, sizeof(in));
	in.m = m;
	in.control = (const struct verdict_ctl *const *)pc;
	in.ncontrol = nc;
	in.siblings = sib;
	in.nsiblings = ns;
	e = verdict_judge(o, &in, r);
	in.memo = memo;
	for (int k = 0; k < 2; k++)
		if (verdict_judge(o, &in, &kept) != e || !same_res(r, &kept)) {
			fprintf(stderr, "mk_judge: with a memo (%s): %s (%s), "
			    "without: %s (%s)\n", k ? "kept" : "built",
			    verdict_name(kept.verdict), kept.reason,
			    verdict_name(r->verdict), r->reason);
			abort();
		}
	verdict_memo_free(&memo);
	for (size_t i = 0; i < nc; i++)
		verdict_ctl_free(&pc[i]);
	free(pc);
	return e;
}

void
mk_family(meas_t *m, Zond__V1__AddrFamily fam)
{
	if (m->net == NULL) {
		m->net = malloc(sizeof(*m->net));
		if (m->net == NULL)
			abort();
		zond__v1__net_context__init(m->net);
	}
	m->net->has_family = 1;
	m->net->family = fam;
}

void
mk_call(meas_t *m, const char *variant)
{
	m->outcome->call->variant = xstrdup(variant);
}

void
mk_call_leg(meas_t *m, const char *dest, const char *payload, uint32_t port,
    Zond__V1__Failure f, uint32_t last_hop, bool reached)
{
	Zond__V1__CallOutcome *c = m->outcome->call;
	Zond__V1__CallLeg *l = xcalloc(1, sizeof(*l));
	Zond__V1__CallLeg **v = xcalloc(c->n_legs + 1, sizeof(*v));

	zond__v1__call_leg__init(l);
	l->destination = xstrdup(dest);
	l->payload = xstrdup(payload);
	l->has_port = l->has_failure = l->has_last_hop = l->has_reached = 1;
	l->port = port;
	l->failure = f;
	l->last_hop = last_hop;
	l->reached = reached;
	if (c->n_legs > 0)
		memcpy(v, c->legs, c->n_legs * sizeof(*v));
	free(c->legs);
	c->legs = v;
	c->legs[c->n_legs++] = l;
}

void
mk_call_flow(meas_t *m, bool connected, const char *stage, uint32_t cut_s,
    uint32_t cut_packets)
{
	Zond__V1__CallFlow *fl = xcalloc(1, sizeof(*fl));

	zond__v1__call_flow__init(fl);
	fl->has_connected = 1;
	fl->connected = connected;
	if (stage != NULL)
		fl->stage = xstrdup(stage);
	if (connected) {
		fl->has_cut_after_s = fl->has_cut_after_packets = 1;
		fl->cut_after_s = cut_s;
		fl->cut_after_packets = cut_packets;
	}
	m->outcome->call->flow = fl;
}

void
mk_locate(meas_t *m, bool located, unsigned censor_hop,
    const char *censor_addr, const char *const *hops)
{
	Zond__V1__Localization *l = malloc(sizeof(*l));
	size_t n = 0;

	if (l == NULL)
		abort();
	zond__v1__localization__init(l);
	l->trigger = xstrdup("client_hello");
	l->has_result = 1;
	l->result = located ? ZOND__V1__LOCATE_RESULT__LOCATE_LOCATED :
	    ZOND__V1__LOCATE_RESULT__LOCATE_NOT_LOCATED;
	if (located) {
		l->has_censor_hop = 1;
		l->censor_hop = censor_hop;
		l->has_reaction = 1;
		l->reaction = ZOND__V1__LOCATE_REACTION__LOCATE_REACTION_RST;
		if (censor_addr != NULL)
			l->censor_addr = xstrdup(censor_addr);
	}
	while (hops != NULL && hops[n] != NULL)
		n++;
	if (n > 0 && (l->hops = calloc(n, sizeof(*l->hops))) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		Zond__V1__LocateHop *h = malloc(sizeof(*h));

		if (h == NULL)
			abort();
		zond__v1__locate_hop__init(h);
		h->has_ttl = 1;
		h->ttl = (uint32_t)(i + 1);
		if (*hops[i] != '\0')
			h->addr = xstrdup(hops[i]);
		l->hops[i] = h;
	}
	l->n_hops = n;
	m->locate = l;
}
