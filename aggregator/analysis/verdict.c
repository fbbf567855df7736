/*
 * verdict.c — see verdict.h; docs/METHODOLOGY.md gives the reasoning.
 *
 * Shape of every rule: a success is ok; a failure (or a success that only
 * a comparison can clear: DNS answers, HTTP page, throughput ratio) is
 * compared with the control measurements of the same (test, target,
 * variant).  No usable control -> pending; control fails too -> down;
 * control works -> blocked (strong evidence) or anomaly (weak).  Only a
 * blockpage fingerprint and a fingerprinted DNS answer are decided without
 * control ("confirmed").
 *
 * The controls come prepared (struct verdict_ctl: checks, parsed DNS
 * answers and fingerprint matches worked out once per control), and the
 * rules read them through a view (struct cview: the usable controls of
 * the probe's (test, target, variant) and the counts the rules need),
 * which a memo keeps for the next probe of the same key and list.  A
 * rule reads the view the same way whether it was built for this probe
 * or kept, so the memo cannot change a verdict.
 *
 * Invariants: no globals, reads only its inputs; verdict_judge allocates
 * nothing (prepared controls and memos are the caller's); every address
 * set and every loop over input is bounded (MAX_ADDRS,
 * VERDICT_CONTROL_MAX); r->reason is always NUL-terminated.
 */
#include "verdict.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "fingerprint.h"
#include "httpcmp.h"
#include "ipasn.h"
#include "wire.h"

#define MAX_ADDRS 64		/* addresses kept per answer set */

typedef Zond__V1__Measurement meas_t;
typedef Zond__V1__Outcome outcome_t;

#define F(x) ZOND__V1__FAILURE__FAIL_##x
#define T(x) ZOND__V1__TEST_KIND__TEST_##x
#define OC(x) ZOND__V1__OUTCOME__TEST_##x

static const char *const verdict_names[VERDICT__COUNT] = {
	"ok", "blocked", "throttled", "down", "anomaly", "pending",
	"geoblocked", "filtered", "review",
};
static const char *const method_names[METHOD__COUNT] = {
	NULL, "dns", "tcp", "tls", "http", "udp", "quic", "throttle",
	"freeze", "proto",
};

const char *
verdict_name(verdict_t v)
{
	if ((unsigned)v >= VERDICT__COUNT)
		return "anomaly";
	return verdict_names[v];
}

const char *
method_name(method_t m)
{
	if ((unsigned)m >= METHOD__COUNT)
		return NULL;
	return method_names[m];
}

void
verdict_opts_default(struct verdict_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fp = NULL;
	o->body_ratio = 0.7;
	o->throttle_ratio = 0.3;
	o->freeze_min = 12 * 1024;
	o->freeze_max = 24 * 1024;
	o->title_word = 5;
}

void
verdict_expire(struct verdict_res *r)
{
	if (r->verdict != VERDICT_PENDING)
		return;
	r->verdict = r->expire_to;
	if (r->verdict == VERDICT_OK || r->verdict == VERDICT_DOWN)
		r->method = METHOD_NONE;
}

const char *
verdict_variant(const meas_t *m)
{
	const outcome_t *o;

	if (m == NULL || (o = m->outcome) == NULL)
		return NULL;
	switch (o->test_case) {
	case OC(STUN):
		return o->stun->variant;
	case OC(QUIC):
		return o->quic->variant;
	case OC(TLS):
		/* a ClientHello shape other than the default is a cell of
		 * its own; the default keeps the cells it always had */
		return o->tls->shape != NULL &&
		    strcmp(o->tls->shape, "openssl") != 0 ? o->tls->shape :
		    NULL;
	case OC(VPN):
		return o->vpn->protocol;
	case OC(CALL):
		return o->call->variant;
	case OC(DNS):
		return o->dns->qtype;
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------ results */

static void
say(struct verdict_res *r, verdict_t v, method_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
say(struct verdict_res *r, verdict_t v, method_t m, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	r->method = (v == VERDICT_OK || v == VERDICT_DOWN) ? METHOD_NONE : m;
	r->expire_to = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static void
pending(struct verdict_res *r, method_t m, verdict_t expire_to,
    const char *why)
{
	say(r, VERDICT_PENDING, m, "no control yet: %s", why);
	r->expire_to = expire_to;
}

static Zond__V1__Failure
fail_of(const outcome_t *o)
{
	return o->has_failure ? o->failure : F(NONE);
}

static bool
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ------------------------------------------------------------ control */

/* Does the outcome carry the sub-message its test needs? */
static bool
shape_ok(Zond__V1__TestKind t, const outcome_t *o)
{
	switch (t) {
	case T(DNS):
		return o->test_case == OC(DNS);
	case T(DOH):
		return o->test_case == OC(DNS) ||
		    o->test_case == OC(_NOT_SET) || o->test_case == OC(HTTP);
	case T(TCP):
		return o->test_case == OC(TCP);
	case T(TLS):
		return o->test_case == OC(TLS);
	case T(HTTP):
		return o->test_case == OC(HTTP);
	case T(STUN):
		return o->test_case == OC(STUN);
	case T(QUIC):
		return o->test_case == OC(QUIC);
	case T(THROUGHPUT):
		return o->test_case == OC(THROUGHPUT);
	case T(FREEZE):
		return o->test_case == OC(FREEZE);
	case T(VPN):
		return o->test_case == OC(VPN);
	case T(CALL):
		return o->test_case == OC(CALL);
	default:
		return true;
	}
}

enum cstate { CS_NONE, CS_UP, CS_DOWN, CS_MIXED };

static enum cstate
cstate_of(size_t ok, size_t fail)
{
	if (ok == 0 && fail == 0)
		return CS_NONE;
	if (ok == 0)
		return CS_DOWN;
	return ok >= fail ? CS_UP : CS_MIXED;
}

/*
 * The probe failed (what); decide from the control state.  strong: the
 * failure is a censorship signature when the control works (else only an
 * anomaly).  v is the verdict for "control works" (blocked or throttled).
 */
static void
fail_vs(struct verdict_res *r, enum cstate cs, verdict_t v, method_t m,
    bool strong, const char *what)
{
	switch (cs) {
	case CS_NONE:
		pending(r, m, VERDICT_ANOMALY, what);
		break;
	case CS_DOWN:
		say(r, VERDICT_DOWN, m, "%s; control fails too", what);
		break;
	case CS_MIXED:
		say(r, VERDICT_ANOMALY, m, "%s; control mostly fails too "
		    "(unstable target)", what);
		break;
	case CS_UP:
		if (strong)
			say(r, v, m, "%s; control works", what);
		else
			say(r, VERDICT_ANOMALY, m, "%s; control works", what);
		break;
	}
}

/* ------------------------------------------------------------ addresses */

struct addr {
	int fam;		/* 4 or 6 */
	uint8_t b[16];
	uint32_t asn;		/* from the ASN table; 0: unknown */
};

struct aset {
	struct addr v[MAX_ADDRS];
	size_t n;
};

static bool
addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return false;
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->fam = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		static const uint8_t mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
		};
		if (memcmp(a->b, mapped, 12) == 0) {
			memmove(a->b, a->b + 12, 4);
			memset(a->b + 4, 0, 12);
			a->fam = 4;
		} else
			a->fam = 6;
		return true;
	}
	return false;
}

/* Private, loopback, link-local, CGNAT, benchmark, multicast or reserved:
 * no public site lives there, so an answer here that the control does not
 * share is a resolver lie.  Documentation ranges (TEST-NET) are left out:
 * labs use them for real servers. */
static bool
addr_bogon(const struct addr *a)
{
	static const struct { uint32_t net; int bits; } v4[] = {
		{0x00000000, 8}, {0x0a000000, 8}, {0x64400000, 10},
		{0x7f000000, 8}, {0xa9fe0000, 16}, {0xac100000, 12},
		{0xc0a80000, 16}, {0xc6120000, 15}, {0xe0000000, 4},
		{0xf0000000, 4},
	};
	static const uint8_t zero[16];
	uint32_t h;
	size_t i;

	if (a->fam == 6) {
		if (memcmp(a->b, zero, 15) == 0 && a->b[15] <= 1)
			return true;			/* :: and ::1 */
		if ((a->b[0] & 0xfe) == 0xfc)		/* fc00::/7 */
			return true;
		if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
			return true;			/* fe80::/10 */
		return a->b[0] == 0xff;			/* multicast */
	}
	h = be32_get(a->b);
	for (i = 0; i < ZARRAY_LEN(v4); i++)
		if ((h >> (32 - v4[i].bits)) ==
		    (v4[i].net >> (32 - v4[i].bits)))
			return true;
	return false;
}

/* Same /24 (IPv4) or /48 (IPv6): the stand-in for OONI's "same ASN"
 * when no ASN table is loaded. */
static bool
addr_near(const struct addr *a, const struct addr *b)
{
	if (a->fam != b->fam)
		return false;
	return memcmp(a->b, b->b, a->fam == 4 ? 3 : 6) == 0;
}

/* "ip:port", "[ip6]:port" or a bare address. */
static bool
addr_parse_hp(const char *s, struct addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	const char *e, *c;
	size_t n;

	if (s == NULL)
		return false;
	if (*s == '[') {
		if ((e = strchr(++s, ']')) == NULL)
			return false;
	} else if ((c = strchr(s, ':')) != NULL && strchr(c + 1, ':') == NULL)
		e = c;
	else
		e = s + strlen(s);
	n = (size_t)(e - s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return addr_parse(buf, a);
}

static void
aset_add(struct aset *s, const struct addr *a)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].fam == a->fam && memcmp(s->v[i].b, a->b, 16) == 0)
			return;
	if (s->n < MAX_ADDRS)
		s->v[s->n++] = *a;
}

/* Add the A/AAAA answers of one response. */
static void
aset_resp(struct aset *s, const Zond__V1__DnsResponse *r)
{
	struct addr a;
	size_t i;

	for (i = 0; i < r->n_answers; i++) {
		const Zond__V1__DnsAnswer *an = r->answers[i];
		if (an == NULL || an->type == NULL ||
		    (strcmp(an->type, "A") != 0 &&
		    strcmp(an->type, "AAAA") != 0))
			continue;
		if (addr_parse(an->data, &a))
			aset_add(s, &a);
	}
}

/* Look up the ASN of every address of s (t NULL: leave them 0). */
static void
aset_asn(struct aset *s, const struct ipasn *t)
{
	size_t i;

	for (i = 0; t != NULL && i < s->n; i++)
		s->v[i].asn = ipasn_lookup(t, s->v[i].fam, s->v[i].b);
}

static bool
aset_has(const struct aset *s, const struct addr *a)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].fam == a->fam && memcmp(s->v[i].b, a->b, 16) == 0)
			return true;
	return false;
}

/* Why two answer sets are consistent (METHODOLOGY.md 2.3): a shared
 * address; with an ASN table (tbl) a shared ASN, without one a shared /24
 * or /48.  The certificate proof is the caller's (answer_cert). */
enum cons { CONS_NONE, CONS_ADDR, CONS_ASN, CONS_NET };

static enum cons
addrs_cons(const struct addr *a, size_t na, const struct addr *b, size_t nb,
    bool tbl)
{
	enum cons best = CONS_NONE;
	size_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++) {
			const struct addr *x = &a[i], *y = &b[j];
			if (x->fam != y->fam)
				continue;
			if (memcmp(x->b, y->b, 16) == 0)
				return CONS_ADDR;
			if (tbl && x->asn != 0 && x->asn == y->asn)
				best = CONS_ASN;
			else if (!tbl && addr_near(x, y))
				best = CONS_NET;
		}
	return best;
}

static enum cons
aset_cons(const struct aset *a, const struct aset *b, bool tbl)
{
	return addrs_cons(a->v, a->n, b->v, b->n, tbl);
}

static bool
aset_consistent(const struct aset *a, const struct aset *b, bool tbl)
{
	return aset_cons(a, b, tbl) != CONS_NONE;
}

/* What an answer check (the agent's TLS handshake with the query name as
 * SNI to its first answered address) says of the answers p: 1 the address
 * served a certificate valid for the name, -1 one invalid for it, 0
 * nothing (no check, no TLS there, or an address p does not hold). */
static int
answer_cert(const Zond__V1__AnswerCheck *ac, const struct aset *p)
{
	Zond__V1__Failure f;
	struct addr a;

	if (ac == NULL || !addr_parse_hp(ac->addr, &a) || !aset_has(p, &a))
		return 0;
	f = ac->has_failure ? ac->failure : F(NONE);
	if (f == F(NONE) && ac->has_cert_valid)
		return ac->cert_valid ? 1 : -1;
	return f == F(CERT_INVALID) ? -1 : 0;
}

static bool
aset_same(const struct aset *a, const struct aset *b)
{
	size_t i, j;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (a->v[i].fam == b->v[j].fam &&
			    memcmp(a->v[i].b, b->v[j].b, 16) == 0)
				break;
		if (j == b->n)
			return false;
	}
	return true;
}

static const struct addr *
aset_bogon(const struct aset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (addr_bogon(&s->v[i]))
			return &s->v[i];
	return NULL;
}

static void
addr_str(const struct addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->fam == 4 ? AF_INET : AF_INET6, a->b, buf,
	    (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* The strongest DNS fingerprint (fingerprint.h) matching an A/AAAA
 * answer of any response; *addr the first answer that gave it. */
static struct fp_match
dns_fp(const struct fpdb *fp, const Zond__V1__DnsOutcome *d,
    const char **addr)
{
	struct fp_match m = {NULL, FP_SCOPE_FP}, was;
	size_t i, j;

	if (fp == NULL)
		return m;
	for (i = 0; i < d->n_responses; i++) {
		const Zond__V1__DnsResponse *r = d->responses[i];
		for (j = 0; r != NULL && j < r->n_answers; j++) {
			const Zond__V1__DnsAnswer *a = r->answers[j];
			if (a == NULL || a->data == NULL)
				continue;
			was = m;
			fp_match_keep(&m, fpdb_match_dns(fp, a->data));
			if (m.name != was.name && addr != NULL)
				*addr = a->data;
		}
	}
	return m;
}

/* What a fingerprint of this scope makes of a measurement by itself:
 * blocked (nat, isp), filtered (prod, inst), geoblocked (prov); ok for
 * the scopes that decide nothing alone (vbw, injb; fp never matches). */
static verdict_t
scope_verdict(enum fp_scope s)
{
	switch (s) {
	case FP_SCOPE_NAT:
	case FP_SCOPE_ISP:
		return VERDICT_BLOCKED;
	case FP_SCOPE_PROD:
	case FP_SCOPE_INST:
		return VERDICT_FILTERED;
	case FP_SCOPE_PROV:
		return VERDICT_GEOBLOCKED;
	default:
		return VERDICT_OK;
	}
}

/* ------------------------------------------------------------ prepared */

static struct fp_match http_fp(const struct verdict_opts *o,
    const outcome_t *oc);

enum dstate { D_ADDR, D_EMPTY, D_NX, D_FAIL };

static enum dstate
dns_state(const Zond__V1__DnsOutcome *d, struct aset *first)
{
	const Zond__V1__DnsResponse *r0;

	first->n = 0;
	if (d->n_responses == 0 || (r0 = d->responses[0]) == NULL)
		return D_FAIL;
	if (!r0->has_rcode || r0->rcode == 0) {
		aset_resp(first, r0);
		return first->n > 0 ? D_ADDR : D_EMPTY;
	}
	return r0->rcode == 3 ? D_NX : D_FAIL;
}

struct verdict_ctl {
	const meas_t *m;
	const char *variant;		/* verdict_variant(m) */
	Zond__V1__Failure fail;
	bool usable;			/* a sane outcome, no local failure */
	bool dns, http;			/* outcome kind (DNS answers, page) */
	bool censored;			/* fingerprinted DNS answer or
					 * page (nat, isp, prod, inst) */
	struct fp_match cfp;		/* http: the fingerprint seen */
	bool reached_http;		/* http: fetched, with a status */
	bool tbl;			/* prepared with an ASN table */
	bool cert_ok;			/* dns: its answer check found a
					 * certificate valid for the name */
	enum dstate dstate;		/* dns: its first response */
	/* dns: the first response's addresses; tcp, tls, http: the
	 * addresses its Resolution and outcome name (with their ASNs) */
	bool healthy;			/* domestic: its agent reached
					 * another target then (caller) */
	size_t naddr;
	struct addr addr[];
};

static bool
reached_http(const outcome_t *o)
{
	return fail_of(o) == F(NONE) && o->http->has_status;
}

/* The addresses a tcp, tls or http measurement used or was given: those
 * of its Resolution (system and DoH resolvers) and the one connected
 * to. */
static void
aset_used(const meas_t *m, struct aset *s)
{
	const Zond__V1__Resolution *rs = m->resolution;
	const outcome_t *oc = m->outcome;
	const char *a = NULL;
	struct addr x;
	size_t i;

	s->n = 0;
	if (oc->test_case == OC(TCP) && oc->tcp != NULL)
		a = oc->tcp->addr;
	else if (oc->test_case == OC(TLS) && oc->tls != NULL)
		a = oc->tls->addr;
	else if (oc->test_case == OC(HTTP) && oc->http != NULL)
		a = oc->http->addr;
	if (addr_parse_hp(a, &x))
		aset_add(s, &x);
	for (i = 0; rs != NULL && i < rs->n_system; i++)
		if (addr_parse_hp(rs->system[i], &x))
			aset_add(s, &x);
	for (i = 0; rs != NULL && i < rs->n_doh; i++)
		if (addr_parse_hp(rs->doh[i], &x))
			aset_add(s, &x);
}

zerr_t
verdict_ctl_new(const struct verdict_opts *opts, const meas_t *c,
    struct verdict_ctl **out)
{
	struct verdict_opts def;
	struct verdict_ctl *p;
	const outcome_t *oc = c != NULL ? c->outcome : NULL;
	struct aset first;
	enum dstate ds = D_FAIL;
	bool dns = false;

	*out = NULL;
	if (opts == NULL) {
		verdict_opts_default(&def);
		opts = &def;
	}
	first.n = 0;
	if (oc != NULL && oc->test_case == OC(DNS) && oc->dns != NULL) {
		ds = dns_state(oc->dns, &first);
		dns = true;
	} else if (oc != NULL && (c->test == T(TCP) || c->test == T(TLS) ||
	    c->test == T(HTTP)))
		aset_used(c, &first);
	aset_asn(&first, opts->asn);
	if ((p = calloc(1, sizeof(*p) + first.n * sizeof(p->addr[0]))) ==
	    NULL)
		return ZE_NOMEM;
	p->naddr = first.n;
	memcpy(p->addr, first.v, first.n * sizeof(p->addr[0]));
	p->tbl = opts->asn != NULL;
	if (dns) {
		p->dns = true;
		p->dstate = ds;
		struct fp_match dm = dns_fp(opts->fp, oc->dns, NULL);

		p->censored = dm.name != NULL && FP_SCOPE_BLOCKS(dm.scope);
		p->cert_ok = ds == D_ADDR &&
		    answer_cert(oc->dns->answer_check, &first) == 1;
	}
	p->m = c;
	if (oc == NULL) {
		*out = p;
		return ZE_OK;
	}
	p->variant = verdict_variant(c);
	p->fail = fail_of(oc);
	p->usable = shape_ok(c->test, oc) && p->fail != F(LOCAL);
	if (oc->test_case == OC(HTTP) && oc->http != NULL) {
		p->http = true;
		p->cfp = http_fp(opts, oc);
		p->censored = p->cfp.name != NULL &&
		    FP_SCOPE_BLOCKS(p->cfp.scope);
		p->reached_http = reached_http(oc);
	}
	*out = p;
	return ZE_OK;
}

void
verdict_ctl_set_healthy(struct verdict_ctl *c, bool healthy)
{
	if (c != NULL)
		c->healthy = healthy;
}

void
verdict_ctl_free(struct verdict_ctl **c)
{
	if (c == NULL)
		return;
	free(*c);
	*c = NULL;
}

/*
 * The controls one judgment reads: those of the first VERDICT_CONTROL_MAX
 * that belong to the probe's (test, target, variant, address family when
 * both record one) and are usable, in
 * their order, with what the rules count over them.  Depends on the
 * control list and the probe's (test, target, variant, family) only, so a memo
 * may keep it for the next probe of that key and list.
 */
struct cview {
	const struct verdict_ctl *c[VERDICT_CONTROL_MAX];
	size_t n;
	size_t n_none, n_cert;		/* failure none; certificate invalid */
	/* dns, uncensored controls: first responses by state, all their
	 * addresses, and whether every one shares one with the earlier */
	size_t nc_addr, nc_nx, nc_empty, nc_fail;
	size_t nc_valid;			/* of nc_addr: answer check valid */
	bool stable;
	struct aset cu;			/* dns: those addresses */
	size_t http_ok, http_fail;	/* http, uncensored: reached or not */
};

static size_t
nctl(const struct verdict_in *in)
{
	if (in->control == NULL)
		return 0;
	return in->ncontrol < VERDICT_CONTROL_MAX ? in->ncontrol :
	    VERDICT_CONTROL_MAX;
}

/* The family of m's socket (NetContext.family), 0 when not recorded. */
static int
meas_family(const meas_t *m)
{
	if (m == NULL || m->net == NULL || !m->net->has_family)
		return 0;
	return (int)m->net->family;
}

/* IPv4 results against IPv4 controls, IPv6 against IPv6: a control of
 * the other family says nothing about this path (broken local IPv6 is a
 * known false positive).  Either side without a family matches. */
static bool
family_ok(int probe_fam, const meas_t *c)
{
	int cf = meas_family(c);

	return probe_fam == 0 || cf == 0 || cf == probe_fam;
}

static void
view_build(const struct verdict_in *in, struct cview *v)
{
	const meas_t *m = in->m;
	const char *var = verdict_variant(m);
	int fam = meas_family(m);
	size_t i, k, n = nctl(in);

	v->n = v->n_none = v->n_cert = 0;
	v->nc_addr = v->nc_nx = v->nc_empty = v->nc_fail = v->nc_valid = 0;
	v->stable = true;
	v->cu.n = 0;
	v->http_ok = v->http_fail = 0;
	for (i = 0; i < n; i++) {
		const struct verdict_ctl *c = in->control[i];
		struct aset cs;

		if (c == NULL || !c->usable || c->m->test != m->test ||
		    !streq(c->m->target, m->target) || !streq(c->variant, var) ||
		    !family_ok(fam, c->m))
			continue;
		v->c[v->n++] = c;
		if (c->fail == F(NONE))
			v->n_none++;
		else if (c->fail == F(CERT_INVALID))
			v->n_cert++;
		if (c->http && !c->censored) {
			if (c->reached_http)
				v->http_ok++;
			else
				v->http_fail++;
		}
		if (!c->dns || c->censored)
			continue;
		switch (c->dstate) {
		case D_ADDR:
			/* every control must agree with the others for a
			 * routable mismatch to count (no CDN variance) */
			cs.n = c->naddr;
			memcpy(cs.v, c->addr, c->naddr * sizeof(cs.v[0]));
			if (v->nc_addr > 0 &&
			    !aset_consistent(&cs, &v->cu, c->tbl))
				v->stable = false;
			for (k = 0; k < cs.n; k++)
				aset_add(&v->cu, &cs.v[k]);
			v->nc_addr++;
			if (c->cert_ok)
				v->nc_valid++;
			break;
		case D_EMPTY:
			v->nc_empty++;
			break;
		case D_NX:
			v->nc_nx++;
			break;
		case D_FAIL:
			v->nc_fail++;
			break;
		}
	}
}

#define MEMO_SLOTS 4
#define MEMO_TARGET_MAX 256
#define MEMO_VARIANT_MAX 64

struct memo_slot {
	bool used;
	const struct verdict_ctl *key[VERDICT_CONTROL_MAX];
	size_t nkey;
	Zond__V1__TestKind test;
	int family;			/* meas_family of the probe */
	bool has_target, has_variant;	/* NULL and "" differ */
	char target[MEMO_TARGET_MAX];
	char variant[MEMO_VARIANT_MAX];
	struct cview v;
};

struct verdict_memo {
	struct memo_slot s[MEMO_SLOTS];
	unsigned next;			/* the slot replaced next */
};

zerr_t
verdict_memo_new(struct verdict_memo **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? ZE_OK : ZE_NOMEM;
}

void
verdict_memo_free(struct verdict_memo **memo)
{
	if (memo == NULL)
		return;
	free(*memo);
	*memo = NULL;
}

/* Same string, NULL only equal to NULL. */
static bool
memo_str_is(bool has, const char *kept, const char *s)
{
	return has ? s != NULL && strcmp(kept, s) == 0 : s == NULL;
}

/* Keep s in buf; false when it does not fit. */
static bool
memo_str_keep(char *buf, size_t len, bool *has, const char *s)
{
	*has = s != NULL;
	return s == NULL || (size_t)snprintf(buf, len, "%s", s) < len;
}

/* The view of in's controls: from in->memo when it holds this list for
 * this key, else built (into the memo's oldest slot, or into tmp). */
static const struct cview *
view_of(const struct verdict_in *in, struct cview *tmp)
{
	struct verdict_memo *mm = in->memo;
	const char *var = verdict_variant(in->m);
	size_t n = nctl(in), i;
	struct memo_slot *sl;

	if (mm == NULL) {
		view_build(in, tmp);
		return tmp;
	}
	for (i = 0; i < MEMO_SLOTS; i++) {
		sl = &mm->s[i];
		if (sl->used && sl->nkey == n && sl->test == in->m->test &&
		    sl->family == meas_family(in->m) &&
		    memo_str_is(sl->has_target, sl->target, in->m->target) &&
		    memo_str_is(sl->has_variant, sl->variant, var) &&
		    memcmp(sl->key, in->control, n * sizeof(sl->key[0])) == 0)
			return &sl->v;
	}
	sl = &mm->s[mm->next];
	mm->next = (mm->next + 1) % MEMO_SLOTS;
	sl->used = false;
	if (!memo_str_keep(sl->target, sizeof(sl->target), &sl->has_target,
	    in->m->target) || !memo_str_keep(sl->variant,
	    sizeof(sl->variant), &sl->has_variant, var)) {
		view_build(in, tmp);
		return tmp;
	}
	if (n > 0)
		memcpy(sl->key, in->control, n * sizeof(sl->key[0]));
	sl->nkey = n;
	sl->test = in->m->test;
	sl->family = meas_family(in->m);
	view_build(in, &sl->v);
	sl->used = true;
	return &sl->v;
}

/* Did a control reach the target?  plain: it succeeded (for TLS: with a
 * valid certificate); tls: the handshake completed, even with a
 * certificate the control does not like. */
enum reach { REACH_PLAIN, REACH_TLS };

static enum cstate
control_state(const struct cview *v, enum reach how)
{
	size_t ok = v->n_none + (how == REACH_TLS ? v->n_cert : 0);

	return cstate_of(ok, v->n - ok);
}

/* ------------------------------------------------------------ dns */

static void
judge_dns(const struct verdict_opts *o, const struct cview *v,
    const Zond__V1__DnsOutcome *d, struct verdict_res *r)
{
	struct aset p, later;
	const struct addr *bog;
	struct fp_match fm;
	const char *fpa = NULL;
	size_t i, nc_addr = v->nc_addr, nc_nx = v->nc_nx,
	    nc_empty = v->nc_empty, nc_fail = v->nc_fail;
	bool stable = v->stable, injected = false, tbl = o->asn != NULL;
	enum dstate ps;
	enum cons cons;
	int cert;
	char ab[INET6_ADDRSTRLEN], asb[24] = "", cb[48] = "";

	fm = dns_fp(o->fp, d, &fpa);
	if (fm.name != NULL && scope_verdict(fm.scope) != VERDICT_OK) {
		say(r, scope_verdict(fm.scope), METHOD_DNS, "answer %s "
		    "matches DNS fingerprint %s (scope %s)", fpa, fm.name,
		    fpdb_scope_name(fm.scope));
		r->confirmed = true;
		return;
	}
	ps = dns_state(d, &p);
	aset_asn(&p, o->asn);
	cert = ps == D_ADDR ? answer_cert(d->answer_check, &p) : 0;
	bog = aset_bogon(&p);
	/* a later response with other addresses than the first: two
	 * answerers raced, the on-path injector first */
	for (i = 1; i < d->n_responses && ps == D_ADDR; i++) {
		if (d->responses[i] == NULL)
			continue;
		later.n = 0;
		aset_resp(&later, d->responses[i]);
		if (!aset_same(&later, &p))
			injected = true;
	}

	/* the controls' answers, each uncensored control's first response
	 * (view_build) */
	if (nc_addr + nc_nx + nc_empty + nc_fail == 0) {
		if (ps == D_ADDR && bog == NULL && !injected)
			pending(r, METHOD_DNS, VERDICT_OK, "resolved");
		else
			pending(r, METHOD_DNS, VERDICT_ANOMALY, ps == D_ADDR ?
			    "suspicious answer" : "no address");
		return;
	}

	switch (ps) {
	case D_ADDR:
		if (nc_addr == 0) {
			if (nc_nx > 0)
				say(r, VERDICT_ANOMALY, METHOD_DNS, "resolves "
				    "here, NXDOMAIN from control");
			else if (bog != NULL) {
				addr_str(bog, ab, sizeof(ab));
				say(r, VERDICT_ANOMALY, METHOD_DNS, "bogon "
				    "answer %s; control has no address", ab);
			} else
				say(r, VERDICT_OK, METHOD_NONE, "resolved; "
				    "control has no address to compare");
			return;
		}
		if ((cons = aset_cons(&p, &v->cu, tbl)) != CONS_NONE ||
		    cert > 0) {
			say(r, VERDICT_OK, METHOD_NONE, "answer consistent "
			    "with control (%s)", cons == CONS_ADDR ?
			    "shared address" : cons == CONS_ASN ?
			    "same ASN" : cons == CONS_NET ? "shared /24" :
			    "certificate valid for the name");
			return;
		}
		addr_str(&p.v[0], ab, sizeof(ab));
		if (tbl && p.v[0].asn != 0)
			snprintf(asb, sizeof(asb), " (AS%u)",
			    (unsigned)p.v[0].asn);
		if (cert < 0)
			snprintf(cb, sizeof(cb), "; its certificate is invalid "
			    "for the name");
		if (injected)
			say(r, VERDICT_BLOCKED, METHOD_DNS, "%zu responses, "
			    "the first (%s) inconsistent with control: "
			    "injection%s", d->n_responses, ab, cb);
		else if (bog != NULL) {
			addr_str(bog, ab, sizeof(ab));
			say(r, VERDICT_BLOCKED, METHOD_DNS, "bogon answer %s "
			    "inconsistent with control%s", ab, cb);
		} else if (stable)
			say(r, VERDICT_BLOCKED, METHOD_DNS, "answer %s%s shares "
			    "no address or %s with control%s", ab, asb,
			    tbl ? "ASN" : "/24", cb);
		else if (cert < 0 && v->nc_valid > 0)
			/* the site serves a valid certificate at the
			 * controls' answers, and not at this one */
			say(r, VERDICT_BLOCKED, METHOD_DNS, "answer %s%s differs "
			    "from control and its certificate is invalid for "
			    "the name; control's is valid", ab, asb);
		else
			say(r, VERDICT_ANOMALY, METHOD_DNS, "answer %s%s differs "
			    "from control, whose answers vary (CDN?)%s", ab,
			    asb, cb);
		return;
	case D_EMPTY:
		if (nc_addr > 0)
			say(r, VERDICT_ANOMALY, METHOD_DNS, "no address while "
			    "control resolves");
		else if (nc_empty > 0)
			say(r, VERDICT_OK, METHOD_NONE, "no address, as for "
			    "control");
		else
			say(r, VERDICT_DOWN, METHOD_NONE, "no address; control "
			    "fails too");
		return;
	case D_NX:
		if (nc_addr > 0 && nc_addr >= nc_nx)
			say(r, VERDICT_BLOCKED, METHOD_DNS, "NXDOMAIN while "
			    "control resolves");
		else if (nc_addr > 0)
			say(r, VERDICT_ANOMALY, METHOD_DNS, "NXDOMAIN; control "
			    "mostly NXDOMAIN too");
		else
			say(r, VERDICT_DOWN, METHOD_NONE, "NXDOMAIN, consistent "
			    "with control");
		return;
	case D_FAIL:
		fail_vs(r, cstate_of(nc_addr, nc_nx + nc_empty + nc_fail),
		    VERDICT_BLOCKED, METHOD_DNS, true, d->n_responses == 0 ?
		    "no DNS response" : "DNS error rcode");
		return;
	}
}

/* ------------------------------------------------------------ tcp, tls */

static bool
conn_failure(Zond__V1__Failure f)
{
	return f == F(REFUSED) || f == F(UNREACHABLE);
}

static void
judge_tcp(const struct cview *v, const outcome_t *oc,
    struct verdict_res *r)
{
	Zond__V1__Failure f = fail_of(oc);
	char what[96];

	snprintf(what, sizeof(what), "connect: %s", wire_failure_name(f));
	fail_vs(r, control_state(v, REACH_PLAIN),
	    VERDICT_BLOCKED, METHOD_TCP, f == F(TIMEOUT) || f == F(RESET) ||
	    conn_failure(f), what);
}

static void
judge_tls(const struct cview *v, const outcome_t *oc,
    struct verdict_res *r)
{
	const Zond__V1__TlsOutcome *t = oc->tls;
	Zond__V1__Failure f = fail_of(oc), cf;
	bool tried, csni_ok, at_connect, early;
	const char *stage = t->error_stage != NULL ? t->error_stage : "?";
	char what[128];

	if (f == F(CERT_INVALID)) {
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_TLS, false, "certificate invalid "
		    "for the name");
		return;
	}
	tried = t->control_sni != NULL && *t->control_sni != '\0' &&
	    t->has_control_failure;
	cf = t->has_control_failure ? t->control_failure : F(NONE);
	csni_ok = tried && (cf == F(NONE) || cf == F(CERT_INVALID));
	at_connect = conn_failure(f) || streq(stage, "connect");
	early = f == F(RESET) || f == F(TIMEOUT) || f == F(EOF);

	if (at_connect) {
		snprintf(what, sizeof(what), "TCP connect: %s",
		    wire_failure_name(f));
		fail_vs(r, control_state(v, REACH_TLS),
		    VERDICT_BLOCKED, METHOD_TCP, true, what);
	} else if (f == F(TLS_ERROR) && streq(stage, "alert")) {
		/* the server answered the ClientHello with an alert: the
		 * site refuses this client (TSPU resets or drops, it sends
		 * no alerts), whatever the control SNI did */
		snprintf(what, sizeof(what), "TLS alert from the server%s",
		    csni_ok ? " (control SNI works)" : "");
		fail_vs(r, control_state(v, REACH_TLS),
		    VERDICT_GEOBLOCKED, METHOD_TLS, true, what);
	} else if (csni_ok) {
		snprintf(what, sizeof(what), "real SNI: %s at %s, control "
		    "SNI %s works", wire_failure_name(f), stage,
		    t->control_sni);
		fail_vs(r, control_state(v, REACH_TLS),
		    VERDICT_BLOCKED, METHOD_TLS, early || f == F(TLS_ERROR),
		    what);
	} else if (tried) {
		snprintf(what, sizeof(what), "real SNI: %s at %s, control "
		    "SNI fails too (%s)", wire_failure_name(f), stage,
		    wire_failure_name(cf));
		fail_vs(r, control_state(v, REACH_TLS),
		    VERDICT_BLOCKED, METHOD_TLS, false, what);
	} else {
		snprintf(what, sizeof(what), "%s at %s, no control SNI",
		    wire_failure_name(f), stage);
		fail_vs(r, control_state(v, REACH_TLS),
		    VERDICT_BLOCKED, METHOD_TLS, early &&
		    streq(stage, "client_hello"), what);
	}
}

/* ------------------------------------------------------------ http */

/*
 * The strongest fingerprint of an HTTP outcome: the aggregator's own
 * match of the page head, headers and redirects, and the one the agent
 * named (its scope looked up in the aggregator's database; a name the
 * database does not know counts as scope isp when the agent called the
 * page a blockpage, as agents did before scopes, and not at all
 * otherwise).
 */
static struct fp_match
http_fp(const struct verdict_opts *o, const outcome_t *oc)
{
	const Zond__V1__HttpOutcome *h = oc->http;
	struct fp_match m = {NULL, FP_SCOPE_FP}, a;
	bool bp = fail_of(oc) == F(BLOCKPAGE) ||
	    fail_of(oc) == F(BLOCKPAGE_REDIRECT);
	size_t i;

	if (h->blockpage != NULL && *h->blockpage != '\0') {
		a = fpdb_find(o->fp, h->blockpage);
		if (a.name == NULL && bp) {
			a.name = h->blockpage;
			a.scope = FP_SCOPE_ISP;
		}
		fp_match_keep(&m, a);
	}
	if (o->fp != NULL)
		fp_match_keep(&m, fpdb_match_http(o->fp, h->has_body_head ?
		    (const char *)h->body_head.data : NULL,
		    h->has_body_head ? h->body_head.len : 0,
		    (const char *const *)h->headers, h->n_headers));
	for (i = 0; o->fp != NULL && i < h->n_redirects; i++)
		fp_match_keep(&m, fpdb_match_header(o->fp, "Location",
		    h->redirects[i]));
	if (m.name == NULL && bp) {
		m.name = "(agent)";
		m.scope = FP_SCOPE_ISP;
	}
	return m;
}

/* Host part of a URL ("scheme://host[:port]/..."), lowercase, into buf;
 * false when there is none or it does not fit. */
static bool
url_host(const char *url, char *buf, size_t len)
{
	const char *p, *e;
	size_t n, i;

	if (url == NULL || (p = strstr(url, "://")) == NULL)
		return false;
	p += 3;
	for (e = p; *e != '\0' && *e != '/' && *e != '?' && *e != '#' &&
	    *e != ':'; e++)
		;
	n = (size_t)(e - p);
	if (n == 0 || n >= len)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 :
		    p[i]);
	buf[n] = '\0';
	return true;
}

static bool
chain_has_host(const Zond__V1__HttpOutcome *h, const char *host)
{
	char b[256];
	size_t i;

	if (url_host(h->url, b, sizeof(b)) && strcmp(b, host) == 0)
		return true;
	for (i = 0; i < h->n_redirects; i++)
		if (url_host(h->redirects[i], b, sizeof(b)) &&
		    strcmp(b, host) == 0)
			return true;
	return false;
}

/* Did the probe follow a redirect to a host that neither the URL nor any
 * control's redirect chain names (an ISP's warning page)? */
static const char *
foreign_redirect(const struct cview *v, const Zond__V1__HttpOutcome *h,
    char *buf, size_t len)
{
	char uh[256];
	size_t i, j;
	bool have_uh, seen;

	have_uh = url_host(h->url, uh, sizeof(uh));
	for (i = 0; i < h->n_redirects; i++) {
		if (!url_host(h->redirects[i], buf, len) ||
		    (have_uh && strcmp(buf, uh) == 0))
			continue;
		seen = false;
		for (j = 0; j < v->n && !seen; j++) {
			const struct verdict_ctl *c = v->c[j];
			if (!c->censored)
				seen = chain_has_host(c->m->outcome->http, buf);
		}
		if (!seen)
			return buf;
	}
	return NULL;
}

/* The value of header name (any case) in h, NULL when absent. */
static const char *
http_header(const Zond__V1__HttpOutcome *h, const char *name)
{
	size_t i, n = strlen(name);
	const char *v;

	for (i = 0; i < h->n_headers; i++) {
		const char *x = h->headers[i];
		if (x == NULL || strncasecmp(x, name, n) != 0 || x[n] != ':')
			continue;
		for (v = x + n + 1; *v == ' ' || *v == '\t'; v++)
			;
		return v;
	}
	return NULL;
}

/* Same Server header, naming something other than a stock web server
 * (an ISP's blockpage may run nginx too; "cloudflare", "AkamaiGHost" or
 * "CloudFront" say which network answered). */
static bool
same_server(const Zond__V1__HttpOutcome *a, const Zond__V1__HttpOutcome *b)
{
	static const char *const stock[] = {
		"nginx", "apache", "openresty", "microsoft-iis", "lighttpd",
		"caddy", "envoy", "tengine", "litespeed", "gunicorn",
	};
	const char *x = http_header(a, "Server"), *y = http_header(b, "Server");
	size_t i, n;

	if (x == NULL || y == NULL || *x == '\0' || strcasecmp(x, y) != 0)
		return false;
	for (i = 0; i < ZARRAY_LEN(stock); i++) {
		n = strlen(stock[i]);
		if (strncasecmp(x, stock[i], n) == 0 &&
		    (x[n] == '\0' || x[n] == '/' || x[n] == ' '))
			return false;
	}
	return true;
}

/*
 * Geoblocking: the probe got 403 or 451 where a working control got
 * 2xx/3xx (fingerprints were looked at before), and the refusal is the
 * site's own: 451 (Unavailable For Legal Reasons, sent by sites that
 * withhold themselves from a country), an HTTPS page (the certificate
 * says the site's own server answered), or a page sharing an uncommon
 * header name or a distinctive Server with a control's page (the same
 * CDN or servers).  Returns why, or NULL.
 */
static const char *
geoblock_http(const struct cview *v, const Zond__V1__HttpOutcome *h)
{
	const char *why = NULL, *last;
	bool c_ok = false;
	struct httpcmp cmp;
	size_t i;

	/* the URL whose response this is: the last absolute redirect (a
	 * relative one keeps the scheme), or the URL */
	last = h->url;
	for (i = 0; i < h->n_redirects; i++)
		if (h->redirects[i] != NULL &&
		    strstr(h->redirects[i], "://") != NULL)
			last = h->redirects[i];
	if (!h->has_status || (h->status != 403 && h->status != 451))
		return NULL;
	for (i = 0; i < v->n; i++) {
		const Zond__V1__HttpOutcome *ch;
		const struct verdict_ctl *c = v->c[i];
		if (c->censored || !c->reached_http)
			continue;
		ch = c->m->outcome->http;
		if (!ch->has_status || ch->status < 200 || ch->status > 399)
			continue;
		c_ok = true;
		if (why != NULL)
			continue;
		/* the header signal reads neither ratio nor title length */
		httpcmp_compare(h, ch, 0.7, 5, &cmp);
		if (cmp.headers == HC_MATCH)
			why = "the page shares uncommon headers with control's";
		else if (same_server(h, ch))
			why = "the page comes from the same Server as "
			    "control's";
	}
	if (!c_ok || cstate_of(v->http_ok, v->http_fail) != CS_UP)
		return NULL;
	if (h->status == 451)
		return "451 Unavailable For Legal Reasons from the site";
	if (last != NULL && strncmp(last, "https://", 8) == 0)
		return "HTTPS refusal from the site's own server";
	return why;
}

static void
judge_http(const struct verdict_opts *o, const struct cview *v,
    const outcome_t *oc, struct verdict_res *r)
{
	const Zond__V1__HttpOutcome *h = oc->http;
	Zond__V1__Failure f = fail_of(oc);
	const char *fr, *geo;
	size_t i, cok = v->http_ok, cfail = v->http_fail, weak = 0;
	char hb[512];
	struct httpcmp cmp;
	struct fp_match fm = http_fp(o, oc);
	enum cstate cs;
	char what[96];

	/* nat/isp: blocked; prod/inst: filtered; prov: the site's own
	 * refusal.  vbw and injb go on to the comparisons below. */
	if (fm.name != NULL && scope_verdict(fm.scope) != VERDICT_OK) {
		for (i = 0; i < v->n; i++) {
			const struct verdict_ctl *c = v->c[i];
			if (c->cfp.name != NULL &&
			    streq(c->cfp.name, fm.name)) {
				say(r, VERDICT_ANOMALY, METHOD_HTTP, "%s %s "
				    "seen by control too (fingerprint false "
				    "positive or censored control)",
				    fm.scope == FP_SCOPE_PROV ? "refusal page" :
				    "blockpage", fm.name);
				return;
			}
		}
		say(r, scope_verdict(fm.scope), METHOD_HTTP, "%s fingerprint "
		    "%s (scope %s)", fm.scope == FP_SCOPE_PROV ? "the site's "
		    "own refusal:" : "blockpage", fm.name,
		    fpdb_scope_name(fm.scope));
		r->confirmed = true;
		return;
	}
	/* control state over uncensored controls (view_build) */
	cs = cstate_of(cok, cfail);

	if (f != F(NONE)) {
		snprintf(what, sizeof(what), "HTTP: %s%s",
		    wire_failure_name(f), h->has_status ?
		    " after the response head" : "");
		if (conn_failure(f))
			fail_vs(r, cs, VERDICT_BLOCKED, METHOD_TCP, true, what);
		else if (f == F(CERT_INVALID) || f == F(TLS_ERROR))
			fail_vs(r, cs, VERDICT_BLOCKED, METHOD_TLS, false,
			    what);
		else
			/* a timeout after the head is a slow body (throttle,
			 * freeze), not a clean block of the page */
			fail_vs(r, cs, VERDICT_BLOCKED, METHOD_HTTP,
			    f == F(RESET) || f == F(EOF) ||
			    (f == F(TIMEOUT) && !h->has_status), what);
		return;
	}
	if ((geo = geoblock_http(v, h)) != NULL) {
		say(r, VERDICT_GEOBLOCKED, METHOD_HTTP, "status %u while "
		    "control gets 2xx/3xx: %s", h->status, geo);
		return;
	}
	if (h->url != NULL && strncmp(h->url, "https://", 8) == 0) {
		say(r, VERDICT_OK, METHOD_NONE, "HTTPS fetch succeeded");
		return;
	}
	if (cok == 0) {
		if (cfail > 0)
			say(r, VERDICT_OK, METHOD_NONE, "page fetched; control "
			    "fails");
		else
			pending(r, METHOD_HTTP, VERDICT_OK, "page fetched");
		return;
	}
	fr = foreign_redirect(v, h, hb, sizeof(hb));
	for (i = 0; i < v->n; i++) {
		const struct verdict_ctl *c = v->c[i];
		if (c->censored || !c->reached_http)
			continue;
		httpcmp_compare(h, c->m->outcome->http, o->body_ratio,
		    o->title_word, &cmp);
		/* a detour through a host control never sees outweighs a
		 * shared title word; only the same length clears it */
		if (httpcmp_accessible(&cmp) && (fr == NULL ||
		    cmp.body == HC_MATCH)) {
			say(r, VERDICT_OK, METHOD_NONE, "page matches control "
			    "(status and body, title or headers)");
			return;
		}
		/* any shared trait means the same server made both pages:
		 * the site's own variant (geo page, dynamic content) */
		if (cmp.body == HC_MATCH || cmp.title == HC_MATCH ||
		    cmp.headers == HC_MATCH || cmp.body == HC_UNKNOWN)
			weak++;
	}
	if (fr != NULL)
		say(r, VERDICT_BLOCKED, METHOD_HTTP, "redirected to %s, which "
		    "control never visits", fr);
	else if (weak > 0)
		say(r, VERDICT_ANOMALY, METHOD_HTTP, "page differs from "
		    "control, but shares length, title or headers");
	else
		say(r, VERDICT_BLOCKED, METHOD_HTTP, "page differs from "
		    "control in length, title and headers (status %u)",
		    h->has_status ? h->status : 0);
}

/* ------------------------------------------------------------ udp */

static void
judge_stun(const struct cview *v, const outcome_t *oc,
    struct verdict_res *r)
{
	const Zond__V1__StunOutcome *s = oc->stun;
	Zond__V1__Failure f = fail_of(oc);
	char what[128];
	bool base = s->has_baseline_ok && s->baseline_ok;

	snprintf(what, sizeof(what), "STUN %s: %s%s",
	    s->variant != NULL ? s->variant : "?", wire_failure_name(f),
	    base ? ", random-payload baseline answers" : "");
	fail_vs(r, control_state(v, REACH_PLAIN),
	    VERDICT_BLOCKED, METHOD_UDP, f != F(BAD_RESPONSE), what);
}

static void
judge_quic(const struct verdict_in *in, const struct cview *v,
    const outcome_t *oc, struct verdict_res *r)
{
	const Zond__V1__QuicOutcome *q = oc->quic;
	Zond__V1__Failure f = fail_of(oc);
	const char *why = NULL;
	char what[160];
	size_t i;

	/* initial_sni: the same Initial with a control SNI answered, as
	 * tls is judged: filtering by the SNI inside the Initial */
	if (q->control_sni != NULL && *q->control_sni != '\0' &&
	    q->has_control_failure && q->control_failure == F(NONE)) {
		snprintf(what, sizeof(what), "QUIC %s: real SNI %s: %s, "
		    "control SNI %s answers", q->variant != NULL ?
		    q->variant : "?", q->sni != NULL ? q->sni : "?",
		    wire_failure_name(f), q->control_sni);
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_QUIC, f != F(BAD_RESPONSE), what);
		return;
	}
	if (q->has_baseline_ok && q->baseline_ok)
		why = "random-payload baseline answers";
	for (i = 0; why == NULL && in->siblings != NULL &&
	    i < in->nsiblings && i < VERDICT_CONTROL_MAX; i++) {
		const meas_t *s = in->siblings[i];
		if (s != NULL && s->outcome != NULL && s->test == T(QUIC) &&
		    s->outcome->test_case == OC(QUIC) &&
		    fail_of(s->outcome) == F(NONE) &&
		    !streq(s->outcome->quic->variant, q->variant))
			why = s->outcome->quic->variant != NULL &&
			    strcmp(s->outcome->quic->variant, "vn") == 0 ?
			    "version negotiation answers" :
			    "another QUIC packet shape answers";
	}
	snprintf(what, sizeof(what), "QUIC %s: %s%s%s",
	    q->variant != NULL ? q->variant : "?", wire_failure_name(f),
	    why != NULL ? ", " : ", no UDP reply at all",
	    why != NULL ? why : "");
	fail_vs(r, control_state(v, REACH_PLAIN),
	    VERDICT_BLOCKED, why != NULL ? METHOD_QUIC : METHOD_UDP,
	    f != F(BAD_RESPONSE), what);
}

static void
judge_vpn(const struct cview *v, const outcome_t *oc,
    struct verdict_res *r)
{
	const Zond__V1__VpnOutcome *vp = oc->vpn;
	Zond__V1__Failure f = fail_of(oc);
	bool base = vp->has_baseline_ok && vp->baseline_ok;
	char what[128];

	snprintf(what, sizeof(what), "%s handshake: %s%s",
	    vp->protocol != NULL ? vp->protocol : "?", wire_failure_name(f),
	    base ? ", random-payload baseline answers" :
	    ", no UDP reply at all");
	fail_vs(r, control_state(v, REACH_PLAIN),
	    VERDICT_BLOCKED, base ? METHOD_PROTO : METHOD_UDP,
	    f != F(BAD_RESPONSE), what);
}

/* ------------------------------------------------------------ call */

/* The leg of c to dest with payload at the call port (not the path's
 * neutral port); NULL when absent. */
static const Zond__V1__CallLeg *
call_leg(const Zond__V1__CallOutcome *c, const char *dest,
    const char *payload)
{
	for (size_t i = 0; i < c->n_legs; i++) {
		const Zond__V1__CallLeg *l = c->legs[i];
		if (l != NULL && streq(l->destination, dest) &&
		    streq(l->payload, payload) && !(c->has_neutral_port &&
		    l->has_port && l->port == c->neutral_port))
			return l;
	}
	return NULL;
}

static bool
leg_ok(const Zond__V1__CallLeg *l)
{
	return l != NULL && l->has_failure && l->failure == F(NONE);
}

/* How far a path leg got: the destination counts past every hop. */
static uint32_t
leg_reach(const Zond__V1__CallLeg *l)
{
	if (l == NULL)
		return 0;
	return l->has_reached && l->reached ? UINT32_MAX : l->last_hop;
}

/*
 * A failed call test (docs/METHODOLOGY.md "call").  The two factors,
 * destination (service / helper) x payload (shaped / neutral), name the
 * method: the service fails both payloads while the helper answers the
 * shaped one -> by address/port (METHOD_UDP); the shaped payload fails
 * towards both destinations while the neutral one passes -> by shape
 * (METHOD_PROTO); both at once -> both (METHOD_PROTO, said in the
 * reason).  Without an answering helper the test says nothing about the
 * method: an anomaly.  The controls abroad decide blocked or down.
 */
static void
judge_call(const struct cview *v, const outcome_t *oc,
    struct verdict_res *r)
{
	const Zond__V1__CallOutcome *c = oc->call;
	const Zond__V1__CallLeg *ss = call_leg(c, "service", "shaped");
	const Zond__V1__CallLeg *sn = call_leg(c, "service", "neutral");
	const Zond__V1__CallLeg *hs = call_leg(c, "helper", "shaped");
	const Zond__V1__CallLeg *hn = call_leg(c, "helper", "neutral");
	Zond__V1__Failure f = fail_of(oc);
	bool path = streq(c->variant, "path"), flow = streq(c->variant, "flow");
	bool helper_up = leg_ok(hn) || leg_ok(hs);
	bool shape_helper = helper_up && leg_ok(hn) && !leg_ok(hs);
	bool svc_neutral_passes;
	const char *how;
	method_t m;
	char what[256];

	if (flow) {
		const Zond__V1__CallFlow *fl = c->flow;
		if (fl != NULL && fl->connected) {
			snprintf(what, sizeof(what), "call flow to the helper "
			    "connects, then is cut after %u s / %u packets",
			    fl->cut_after_s, fl->cut_after_packets);
			m = METHOD_UDP;	/* the flow's cut, not its shape */
		} else if (!helper_up && hn != NULL) {
			snprintf(what, sizeof(what), "call flow never "
			    "connects (%s); the helper answers nothing on "
			    "this port", fl && fl->stage ? fl->stage : "?");
			m = METHOD_UDP;
		} else {
			snprintf(what, sizeof(what), "call flow never "
			    "connects (%s step: %s); a neutral datagram to the "
			    "same port is answered: by shape",
			    fl && fl->stage ? fl->stage : "?",
			    wire_failure_name(f));
			m = METHOD_PROTO;
		}
		fail_vs(r, control_state(v, REACH_PLAIN), VERDICT_BLOCKED, m,
		    f != F(BAD_RESPONSE), what);
		return;
	}
	if (hs == NULL && hn == NULL) {
		snprintf(what, sizeof(what), "call %s: %s (no helper legs: "
		    "the method cannot be named)", c->variant ? c->variant :
		    "?", wire_failure_name(f));
		fail_vs(r, control_state(v, REACH_PLAIN), VERDICT_BLOCKED,
		    METHOD_UDP, f != F(BAD_RESPONSE), what);
		return;
	}
	if (!helper_up) {
		say(r, VERDICT_ANOMALY, METHOD_UDP, "call %s: %s, and the "
		    "helper answers nothing on the same port either: "
		    "inconclusive", c->variant ? c->variant : "?",
		    wire_failure_name(f));
		return;
	}
	/* relay: a service's relay never echoes a neutral payload, so only
	 * the path variant can see a neutral payload pass there */
	svc_neutral_passes = path && sn != NULL && ss != NULL &&
	    leg_reach(sn) > leg_reach(ss);
	if (shape_helper && !svc_neutral_passes && path) {
		how = "by address/port and by shape";
		m = METHOD_PROTO;
	} else if (shape_helper) {
		how = "by shape (DPI): the shaped datagram fails towards the "
		    "helper too, a neutral one passes";
		m = METHOD_PROTO;
	} else if (svc_neutral_passes) {
		how = "by shape, towards the service's addresses only";
		m = METHOD_PROTO;
	} else {
		how = path ? "by address/port: both payloads stop on the "
		    "way, the helper answers the shaped one" :
		    "by address/port: the relay does not answer, the helper "
		    "answers the same messages on the same port";
		m = METHOD_UDP;
	}
	if (path && ss != NULL)
		snprintf(what, sizeof(what), "call path: %s after hop %u "
		    "(%s); %s", f == F(UNREACHABLE) ? "refused (ICMP "
		    "unreachable)" : "silent", ss->last_hop, ss->last_hop_addr ?
		    ss->last_hop_addr : "none", how);
	else
		snprintf(what, sizeof(what), "call relay: %s; %s",
		    wire_failure_name(f), how);
	fail_vs(r, control_state(v, REACH_PLAIN), VERDICT_BLOCKED, m,
	    f != F(BAD_RESPONSE), what);
}

/* ------------------------------------------------------------ throughput */

/* real/control SNI rate ratio of one outcome; false when not measured */
static bool
tp_ratio(const outcome_t *oc, double *ratio)
{
	const Zond__V1__ThroughputOutcome *t = oc->throughput;

	if (fail_of(oc) != F(NONE) || !t->has_bytes_per_s ||
	    !t->has_control_bytes_per_s || t->control_bytes_per_s == 0 ||
	    (t->has_control_failure && t->control_failure != F(NONE)))
		return false;
	*ratio = (double)t->bytes_per_s / (double)t->control_bytes_per_s;
	return true;
}

static void
judge_throughput(const struct verdict_opts *o, const struct cview *v,
    const outcome_t *oc, struct verdict_res *r)
{
	const Zond__V1__ThroughputOutcome *t = oc->throughput;
	Zond__V1__Failure f = fail_of(oc);
	size_t i, low = 0, high = 0;
	bool csni_ok;
	double ratio, cr;
	char what[128];

	if (f == F(NONE)) {
		if (!tp_ratio(oc, &ratio)) {
			say(r, VERDICT_OK, METHOD_NONE, "transfer completed "
			    "(no control SNI rate to compare)");
			return;
		}
		if (ratio >= o->throttle_ratio) {
			say(r, VERDICT_OK, METHOD_NONE, "real/control SNI rate "
			    "%.2f", ratio);
			return;
		}
		for (i = 0; i < v->n; i++) {
			if (!tp_ratio(v->c[i]->m->outcome, &cr))
				continue;
			if (cr < o->throttle_ratio)
				low++;
			else
				high++;
		}
		snprintf(what, sizeof(what), "real SNI at %.2f of the control "
		    "SNI rate", ratio);
		if (low + high == 0)
			pending(r, METHOD_THROTTLE, VERDICT_ANOMALY, what);
		else if (low >= high)
			say(r, VERDICT_OK, METHOD_NONE, "%s, as from control "
			    "(the server, not the path)", what);
		else
			say(r, VERDICT_THROTTLED, METHOD_THROTTLE, "%s; "
			    "control gets full rate", what);
		return;
	}
	csni_ok = t->control_sni != NULL && *t->control_sni != '\0' &&
	    (!t->has_control_failure || t->control_failure == F(NONE)) &&
	    t->has_control_bytes_per_s && t->control_bytes_per_s > 0;
	snprintf(what, sizeof(what), "real SNI transfer: %s%s",
	    wire_failure_name(f), csni_ok ? ", control SNI completes" : "");
	if (conn_failure(f))
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_TCP, true, what);
	else if (csni_ok && f == F(STALL))
		/* data stopped mid-transfer for this name only: throttling
		 * by drops taken to the extreme */
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_THROTTLED, METHOD_THROTTLE, true, what);
	else if (csni_ok && (f == F(RESET) || f == F(EOF) ||
	    f == F(TIMEOUT)))
		/* nothing for this name, the control name works: SNI */
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_TLS, true, what);
	else
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_TCP, false, what);
}

/* ------------------------------------------------------------ freeze */

static void
judge_freeze(const struct verdict_opts *o, const struct cview *v,
    const outcome_t *oc, struct verdict_res *r)
{
	const Zond__V1__FreezeOutcome *z = oc->freeze;
	Zond__V1__Failure f = fail_of(oc);
	uint64_t got = z->has_received ? z->received : 0;
	char what[128];

	if (f == F(STALL) && got > 0) {
		bool in_range = got >= o->freeze_min && got <= o->freeze_max;
		snprintf(what, sizeof(what), "stall after %llu bytes%s",
		    (unsigned long long)got, in_range ? " (the 16-20 KB "
		    "freeze)" : " (outside the freeze range)");
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_FREEZE, in_range, what);
		return;
	}
	snprintf(what, sizeof(what), "transfer: %s after %llu bytes",
	    wire_failure_name(f), (unsigned long long)got);
	fail_vs(r, control_state(v, REACH_PLAIN),
	    VERDICT_BLOCKED, METHOD_TCP, got == 0 && f != F(BAD_RESPONSE),
	    what);
}

/* ------------------------------------------------------------ resolution */

/* A resolver failure that can be censorship (a missing resolver is
 * FAIL_LOCAL, never). */
static bool
dns_failure(Zond__V1__Failure f)
{
	return f == F(NXDOMAIN) || f == F(SERVFAIL) || f == F(DNS_REFUSED) ||
	    f == F(TIMEOUT) || f == F(BOGON) || f == F(MULTIPLE_RESPONSES);
}

/* Is s consistent with an address an uncensored tcp, tls or http
 * control of the view was given or used (aset_used)?  Read here, not
 * in the view: only measurements with a Resolution pay for it. */
static bool
ctl_consistent(const struct cview *v, const struct aset *s, bool tbl)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct verdict_ctl *c = v->c[i];
		if (!c->dns && !c->censored &&
		    addrs_cons(s->v, s->n, c->addr, c->naddr, tbl) != CONS_NONE)
			return true;
	}
	return false;
}

/* The parsed addresses of a list of strings, with their ASNs. */
static void
aset_strs(struct aset *s, char *const *v, size_t n, const struct ipasn *t)
{
	struct addr a;
	size_t i;

	s->n = 0;
	for (i = 0; i < n; i++)
		if (addr_parse_hp(v[i], &a))
			aset_add(s, &a);
	aset_asn(s, t);
}

enum resol { RES_HONEST, RES_FORGED, RES_FORGED_ALT_FAILED };

/*
 * How a tcp, tls or http measurement of a name was resolved
 * (Measurement.resolution; METHODOLOGY.md 2.2 and 2.3): RES_FORGED when
 * the system resolver failed, or gave addresses consistent with neither
 * the DoH resolver's nor the controls' (and no valid certificate there
 * proves them), and the same test on a DoH address worked; then r holds
 * the verdict, with method dns.  RES_FORGED_ALT_FAILED: the same
 * resolution, but the DoH address failed too (what gets the note for the
 * reason).  RES_HONEST otherwise, and without a Resolution.
 */
static enum resol
judge_resolution(const struct verdict_opts *o, const struct cview *v,
    const meas_t *m, struct verdict_res *r, char *what, size_t wlen)
{
	const Zond__V1__Resolution *rs = m->resolution;
	const outcome_t *oc = m->outcome;
	Zond__V1__Failure f = fail_of(oc), sf, af;
	struct aset sys, doh;
	const struct addr *bog;
	bool tbl = o->asn != NULL, cert = false, strong;
	enum cstate cs;
	char ab[INET6_ADDRSTRLEN], sb[128];

	if (rs == NULL)
		return RES_HONEST;
	sf = rs->has_system_failure ? rs->system_failure : F(NONE);
	aset_strs(&sys, rs->system, rs->n_system, o->asn);
	aset_strs(&doh, rs->doh, rs->n_doh, o->asn);
	bog = aset_bogon(&sys);
	if (sys.n == 0) {
		if (!dns_failure(sf))
			return RES_HONEST;
		snprintf(sb, sizeof(sb), "system resolver: %s",
		    wire_failure_name(sf));
		strong = true;
	} else {
		/* a certificate valid for the name at the system's address
		 * proves it, whatever the prefixes say */
		if (f == F(NONE) && oc->test_case == OC(TLS))
			cert = oc->tls->has_cert_valid && oc->tls->cert_valid;
		else if (f == F(NONE) && oc->test_case == OC(HTTP))
			cert = oc->http->url != NULL &&
			    strncmp(oc->http->url, "https://", 8) == 0;
		if (cert || doh.n == 0 || aset_consistent(&sys, &doh, tbl) ||
		    ctl_consistent(v, &sys, tbl))
			return RES_HONEST;
		addr_str(bog != NULL ? bog : &sys.v[0], ab, sizeof(ab));
		snprintf(sb, sizeof(sb), "system resolver's %s%s matches "
		    "neither DoH nor control (%s there)", bog != NULL ?
		    "bogon " : "", ab, f == F(NONE) ? "connected" :
		    wire_failure_name(f));
		/* without an ASN table a routable mismatch that connected
		 * may be a CDN's other network: weak */
		strong = tbl || bog != NULL || f != F(NONE);
	}
	af = rs->has_alt_failure ? rs->alt_failure : F(NONE);
	if (rs->alt_addr == NULL || !rs->has_alt_failure || af != F(NONE)) {
		if (rs->alt_addr == NULL || !rs->has_alt_failure)
			return RES_HONEST;
		snprintf(what, wlen, "%s; DoH address %s fails too (%s)", sb,
		    rs->alt_addr, wire_failure_name(af));
		return RES_FORGED_ALT_FAILED;
	}
	snprintf(what, wlen, "%s; DoH address %s works", sb, rs->alt_addr);
	if (oc->test_case == OC(HTTP))
		cs = cstate_of(v->http_ok, v->http_fail);
	else
		cs = control_state(v, oc->test_case == OC(TLS) ? REACH_TLS :
		    REACH_PLAIN);
	fail_vs(r, cs, VERDICT_BLOCKED, METHOD_DNS, strong, what);
	return RES_FORGED;
}

/* Append "; note" to r's reason as far as it fits. */
static void
reason_append(struct verdict_res *r, const char *note)
{
	size_t n = strlen(r->reason), k = strlen(note);

	if (n + 3 > sizeof(r->reason))
		return;
	memcpy(r->reason + n, "; ", 2);
	n += 2;
	if (k > sizeof(r->reason) - 1 - n)
		k = sizeof(r->reason) - 1 - n;
	memcpy(r->reason + n, note, k);
	r->reason[n + k] = '\0';
}

/* ------------------------------------------------------------ domestic */

/* The control SNI of a TLS outcome completed (certificate aside). */
static bool
tls_csni_ok(const outcome_t *oc)
{
	const Zond__V1__TlsOutcome *t = oc->tls;

	return t != NULL && t->control_sni != NULL &&
	    *t->control_sni != '\0' && t->has_control_failure &&
	    (t->control_failure == F(NONE) ||
	    t->control_failure == F(CERT_INVALID));
}

/* An unconfirmed block of a kind the site could cause itself: a TCP
 * failure, a TLS failure with no control-SNI evidence, an HTTP reset,
 * timeout or page difference.  Not DNS, UDP or the throttling kinds. */
static bool
site_causable(const meas_t *m, const struct verdict_res *r)
{
	if (r->verdict != VERDICT_BLOCKED || r->confirmed)
		return false;
	switch (m->test) {
	case T(TCP):
		return r->method == METHOD_TCP;
	case T(TLS):
		return r->method == METHOD_TCP || (r->method == METHOD_TLS &&
		    !tls_csni_ok(m->outcome));
	case T(HTTP):
		return r->method == METHOD_TCP || r->method == METHOD_HTTP;
	default:
		return false;
	}
}

/* Does domestic control c fail m's test and target the way m does?  A
 * failure against a failure; a page (m fetched one that differs from
 * control) against a page of the same status and about the same length:
 * the site serves the country this page. */
static bool
domestic_fails_too(const struct verdict_opts *o, const meas_t *m,
    const struct verdict_ctl *c)
{
	const Zond__V1__HttpOutcome *ph, *ch;
	uint64_t a, b;

	if (fail_of(m->outcome) != F(NONE))
		return c->fail != F(NONE);
	if (m->test != T(HTTP) || !c->http || c->fail != F(NONE))
		return false;
	ph = m->outcome->http;
	ch = c->m->outcome->http;
	if (!ph->has_status || !ch->has_status || ph->status != ch->status ||
	    !ph->has_body_length || !ch->has_body_length)
		return false;
	a = ph->body_length < ch->body_length ? ph->body_length :
	    ch->body_length;
	b = ph->body_length < ch->body_length ? ch->body_length :
	    ph->body_length;
	return b == 0 || (double)a / (double)b > o->body_ratio;
}

/*
 * A probe block the site could cause itself, where a healthy domestic
 * control (another network in the country: its in-measurement control
 * SNI worked, or its agent reached another target near that time) fails
 * the same test and target too: it works abroad and fails from every
 * Russian network tested, which a site refusing the country explains as
 * well as censorship does.  Flagged for review (VERDICT_REVIEW), never
 * blocked.
 */
static void
domestic_review(const struct verdict_opts *o, const struct verdict_in *in,
    struct verdict_res *r)
{
	const meas_t *m = in->m;
	const char *var = verdict_variant(m);
	int fam = meas_family(m);
	char was[VERDICT_REASON_MAX];
	size_t i, n;

	if (in->domestic == NULL || !site_causable(m, r))
		return;
	n = in->ndomestic < VERDICT_CONTROL_MAX ? in->ndomestic :
	    VERDICT_CONTROL_MAX;
	for (i = 0; i < n; i++) {
		const struct verdict_ctl *c = in->domestic[i];
		if (c == NULL || !c->usable || c->m->test != m->test ||
		    !streq(c->m->target, m->target) ||
		    !streq(c->variant, var) || !family_ok(fam, c->m))
			continue;
		if (!c->healthy && !(c->m->test == T(TLS) &&
		    tls_csni_ok(c->m->outcome)))
			continue;
		if (domestic_fails_too(o, m, c))
			break;
	}
	if (i == n)
		return;
	memcpy(was, r->reason, sizeof(was));
	say(r, VERDICT_REVIEW, r->method, "review: fails from a domestic "
	    "control too, works abroad: %s", was);
}

/* ------------------------------------------------------------ entry */

static zerr_t judge_meas(const struct verdict_opts *opts,
    const struct verdict_in *in, struct verdict_res *r);

/* Tests of a name are first checked for a forged or refused resolution
 * (judge_resolution); the rest is judge_meas. */
zerr_t
verdict_judge(const struct verdict_opts *opts, const struct verdict_in *in,
    struct verdict_res *r)
{
	struct verdict_opts def;
	struct cview tmp;
	const meas_t *m;
	enum resol res = RES_HONEST;
	char what[VERDICT_REASON_MAX];
	zerr_t e;

	if (opts == NULL) {
		verdict_opts_default(&def);
		opts = &def;
	}
	if (in != NULL && (m = in->m) != NULL && m->resolution != NULL &&
	    m->outcome != NULL && (m->test == T(TCP) || m->test == T(TLS) ||
	    m->test == T(HTTP)) && shape_ok(m->test, m->outcome) &&
	    fail_of(m->outcome) != F(LOCAL)) {
		memset(r, 0, sizeof(*r));
		res = judge_resolution(opts, view_of(in, &tmp), m, r, what,
		    sizeof(what));
		if (res == RES_FORGED)
			return ZE_OK;
	}
	if ((e = judge_meas(opts, in, r)) == ZE_OK)
		domestic_review(opts, in, r);
	if (res == RES_FORGED_ALT_FAILED)
		reason_append(r, what);
	return e;
}

static zerr_t
judge_meas(const struct verdict_opts *opts, const struct verdict_in *in,
    struct verdict_res *r)
{
	struct verdict_opts def;
	struct cview tmp;		/* the view when no memo keeps it */
	const struct cview *v;
	const meas_t *m;
	const outcome_t *oc;
	Zond__V1__Failure f;

	memset(r, 0, sizeof(*r));
	if (opts == NULL) {
		verdict_opts_default(&def);
		opts = &def;
	}
	if (in == NULL || (m = in->m) == NULL || (oc = m->outcome) == NULL) {
		say(r, VERDICT_ANOMALY, METHOD_NONE, "no outcome");
		return ZE_INVAL;
	}
	if (!shape_ok(m->test, oc)) {
		say(r, VERDICT_ANOMALY, METHOD_NONE, "outcome does not match "
		    "test %s", wire_test_name(m->test));
		return ZE_INVAL;
	}
	f = fail_of(oc);
	if (f == F(LOCAL)) {
		say(r, VERDICT_ANOMALY, METHOD_NONE, "local problem on the "
		    "agent: %s", oc->detail != NULL ? oc->detail : "local");
		return ZE_OK;
	}

	switch (m->test) {
	case T(DNS):
		judge_dns(opts, view_of(in, &tmp), oc->dns, r);
		return ZE_OK;
	case T(HTTP):
		judge_http(opts, view_of(in, &tmp), oc, r);
		return ZE_OK;
	case T(THROUGHPUT):
		judge_throughput(opts, view_of(in, &tmp), oc, r);
		return ZE_OK;
	case T(DOH):
		if (oc->test_case == OC(DNS) && (f == F(NONE) ||
		    f == F(NXDOMAIN) || f == F(BOGON) ||
		    f == F(MULTIPLE_RESPONSES) || f == F(SERVFAIL) ||
		    f == F(DNS_REFUSED))) {
			judge_dns(opts, view_of(in, &tmp), oc->dns, r);
			return ZE_OK;
		}
		break;
	default:
		break;
	}

	if (f == F(NONE)) {
		say(r, VERDICT_OK, METHOD_NONE, "%s succeeded",
		    wire_test_name(m->test));
		return ZE_OK;
	}
	v = view_of(in, &tmp);
	switch (m->test) {
	case T(TCP):
		judge_tcp(v, oc, r);
		break;
	case T(TLS):
		judge_tls(v, oc, r);
		break;
	case T(STUN):
		judge_stun(v, oc, r);
		break;
	case T(QUIC):
		judge_quic(in, v, oc, r);
		break;
	case T(VPN):
		judge_vpn(v, oc, r);
		break;
	case T(CALL):
		judge_call(v, oc, r);
		break;
	case T(FREEZE):
		judge_freeze(opts, v, oc, r);
		break;
	case T(DOH):
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, conn_failure(f) ? METHOD_TCP : METHOD_TLS,
		    f == F(RESET) || f == F(TIMEOUT) || conn_failure(f),
		    "DoH exchange failed");
		break;
	default:
		fail_vs(r, control_state(v, REACH_PLAIN),
		    VERDICT_BLOCKED, METHOD_NONE, false, "unknown test failed");
		break;
	}
	return ZE_OK;
}
