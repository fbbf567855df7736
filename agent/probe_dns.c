/*
 * probe_dns.c — DNS over UDP, keeping every response.
 *
 * One query (A, or AAAA with variant "AAAA") goes out of the probe's own
 * unconnected UDP socket to the resolver (env->resolver, else the first
 * usable nameserver of /etc/resolv.conf).  The socket then keeps reading:
 * until the first response that answers the query (same id, same
 * question), then for env->dns_window_ms more, because an on-path
 * injector answers first and the real resolver after; both are recorded.
 * Datagrams that do not answer the query are counted, not recorded.
 *
 * Also the DNS message helpers the doh probe shares (probe_util.h):
 * packets are built and parsed with ldns, never by hand.
 * Invariants: at most DNS_MAX_RESPONSES responses and DNS_MAX_ANSWERS
 * answers each are kept; every wait honours the deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "fingerprint.h"
#include "probe.h"
#include "probe_util.h"
#include "zbuf.h"
#include "ztime.h"

#define DNS_MAX_RESPONSES 16
#define DNS_MAX_ANSWERS 64
#define DNS_MAX_DGRAM 4096
#define RESOLV_CONF "/etc/resolv.conf"
#define ANSWER_CHECK_PORT 443
#define ANSWER_CHECK_MAX_MS 5000

zerr_t
pu_dns_query(const char *name, bool aaaa, uint16_t id, uint8_t **wire,
    size_t *n, zdiag_t *d)
{
	ldns_rdf *qname;
	ldns_pkt *q;
	ldns_status st;

	*wire = NULL;
	if (name == NULL || *name == '\0')
		return zdiag_set(d, ZE_INVAL, "dns: no name to query");
	qname = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, name);
	if (qname == NULL)
		return zdiag_set(d, ZE_INVAL, "dns: '%s' is not a domain name",
		    name);
	q = ldns_pkt_query_new(qname, aaaa ? LDNS_RR_TYPE_AAAA :
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
	if (q == NULL)
		return zdiag_set(d, ZE_NOMEM, "dns: out of memory");
	ldns_pkt_set_id(q, id);
	st = ldns_pkt2wire(wire, q, n);
	ldns_pkt_free(q);
	if (st != LDNS_STATUS_OK) {
		free(*wire);
		*wire = NULL;
		return zdiag_set(d, ZE_INVAL, "dns: cannot encode a query for "
		    "'%s': %s", name, ldns_get_errorstr_by_id(st));
	}
	return ZE_OK;
}

/* "type data" of one answer into a new DnsAnswer; NULL on ENOMEM. */
static Zond__V1__DnsAnswer *
dns_answer(const ldns_rr *rr)
{
	Zond__V1__DnsAnswer *a;
	zbuf_t b;
	size_t i;
	char *s;

	if ((a = malloc(sizeof(*a))) == NULL)
		return NULL;
	zond__v1__dns_answer__init(a);
	a->has_ttl = 1;
	a->ttl = ldns_rr_ttl(rr);
	if ((a->type = ldns_rr_type2str(ldns_rr_get_type(rr))) == NULL)
		goto fail;
	zbuf_init(&b, 4096);
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		if ((s = ldns_rdf2str(ldns_rr_rdf(rr, i))) == NULL) {
			zbuf_free(&b);
			goto fail;
		}
		/* an rdata too long for the cap is cut, not an error */
		if ((i > 0 && zbuf_putc(&b, ' ') != ZE_OK) ||
		    zbuf_puts(&b, s) != ZE_OK) {
			free(s);
			break;
		}
		free(s);
	}
	a->data = b.data != NULL ? (char *)b.data : strdup("");
	if (a->data == NULL)
		goto fail;
	return a;
fail:
	zond__v1__dns_answer__free_unpacked(a, NULL);
	return NULL;
}

int
pu_dns_response(const uint8_t *p, size_t n, const char *name, bool aaaa,
    uint16_t id, Zond__V1__DnsResponse **resp)
{
	Zond__V1__DnsResponse *r = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *ql, *al;
	ldns_rr *qr;
	ldns_rdf *qname = NULL;
	size_t i, na;
	int ret = 0;

	*resp = NULL;
	if (ldns_wire2pkt(&pkt, p, n) != LDNS_STATUS_OK)
		return 0;
	if (ldns_pkt_id(pkt) != id || !ldns_pkt_qr(pkt))
		goto out;
	ql = ldns_pkt_question(pkt);
	if (ql == NULL || ldns_rr_list_rr_count(ql) != 1)
		goto out;
	qr = ldns_rr_list_rr(ql, 0);
	if (ldns_rr_get_type(qr) != (aaaa ? LDNS_RR_TYPE_AAAA :
	    LDNS_RR_TYPE_A) || ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN)
		goto out;
	if ((qname = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, name)) ==
	    NULL || ldns_dname_compare(qname, ldns_rr_owner(qr)) != 0)
		goto out;
	ret = -1;
	if ((r = malloc(sizeof(*r))) == NULL)
		goto out;
	zond__v1__dns_response__init(r);
	r->has_rcode = 1;
	r->rcode = ldns_pkt_get_rcode(pkt);
	al = ldns_pkt_answer(pkt);
	na = al != NULL ? ldns_rr_list_rr_count(al) : 0;
	if (na > DNS_MAX_ANSWERS)
		na = DNS_MAX_ANSWERS;
	if (na > 0 && (r->answers = calloc(na, sizeof(*r->answers))) == NULL)
		goto out;
	for (i = 0; i < na; i++) {
		if ((r->answers[i] = dns_answer(ldns_rr_list_rr(al, i))) ==
		    NULL)
			goto out;
		r->n_answers++;
	}
	*resp = r;
	r = NULL;
	ret = 1;
out:
	if (r != NULL)
		zond__v1__dns_response__free_unpacked(r, NULL);
	ldns_rdf_deep_free(qname);
	ldns_pkt_free(pkt);
	return ret;
}

bool
pu_dns_bogon(const char *addr)
{
	static const struct { uint32_t net; int bits; } v4[] = {
		{0x00000000, 8}, {0x0a000000, 8}, {0x64400000, 10},
		{0x7f000000, 8}, {0xa9fe0000, 16}, {0xac100000, 12},
		{0xc0a80000, 16}, {0xc6120000, 15}, {0xe0000000, 4},
		{0xf0000000, 4},
	};
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t h;
	size_t i;

	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6))
			return true;
		if ((a6.s6_addr[0] & 0xfe) == 0xfc)	/* fc00::/7 */
			return true;
		if (a6.s6_addr[0] == 0xfe && (a6.s6_addr[1] & 0xc0) == 0x80)
			return true;			/* fe80::/10 */
		if (!IN6_IS_ADDR_V4MAPPED(&a6))
			return false;
		memcpy(&a4, &a6.s6_addr[12], 4);
	} else if (inet_pton(AF_INET, addr, &a4) != 1) {
		return false;
	}
	h = ntohl(a4.s_addr);
	for (i = 0; i < ZARRAY_LEN(v4); i++)
		if ((h >> (32 - v4[i].bits)) == (v4[i].net >> (32 - v4[i].bits)))
			return true;
	return false;
}

static int
strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical text of a response: rcode and its sorted answers. */
static zerr_t
dns_canon(const Zond__V1__DnsResponse *r, zbuf_t *b)
{
	char *v[DNS_MAX_ANSWERS];
	size_t i, n = 0;
	zerr_t e;

	zbuf_reset(b);
	if ((e = zbuf_printf(b, "%u", r->rcode)) != ZE_OK)
		return e;
	for (i = 0; i < r->n_answers && n < ZARRAY_LEN(v); i++)
		if ((v[n++] = pu_asprintf("%s %s", r->answers[i]->type,
		    r->answers[i]->data)) == NULL) {
			n--;
			e = ZE_NOMEM;
			goto out;
		}
	qsort(v, n, sizeof(v[0]), strpcmp);
	for (i = 0; i < n; i++)
		if ((e = zbuf_printf(b, "|%s", v[i])) != ZE_OK)
			goto out;
	e = ZE_OK;
out:
	for (i = 0; i < n; i++)
		free(v[i]);
	return e;
}

zerr_t
pu_dns_classify(Zond__V1__Outcome *o, const struct fpdb *fp,
    unsigned garbage)
{
	Zond__V1__DnsOutcome *dn = o->dns;
	Zond__V1__Failure f = ZOND__V1__FAILURE__FAIL_NONE;
	const char *why = NULL, *bogon = NULL, *fpaddr = NULL;
	struct fp_match fm = {NULL, FP_SCOPE_FP}, m1;
	zbuf_t c0, c, det;
	bool differ = false;
	size_t i, j;
	zerr_t e;

	zbuf_init(&c0, 65536);
	zbuf_init(&c, 65536);
	zbuf_init(&det, 4096);
	for (i = 0; i < dn->n_responses; i++) {
		const Zond__V1__DnsResponse *r = dn->responses[i];
		for (j = 0; j < r->n_answers; j++) {
			const Zond__V1__DnsAnswer *a = r->answers[j];
			if (strcmp(a->type, "A") != 0 &&
			    strcmp(a->type, "AAAA") != 0)
				continue;
			if (bogon == NULL && pu_dns_bogon(a->data))
				bogon = a->data;
			/* the strongest scope of all answers is named */
			m1 = fm;
			fp_match_keep(&fm, fpdb_match_dns(fp, a->data));
			if (fm.name != m1.name)
				fpaddr = a->data;
		}
		if ((e = dns_canon(r, i == 0 ? &c0 : &c)) != ZE_OK)
			goto out;
		if (i > 0 && (c.len != c0.len || memcmp(c.data, c0.data,
		    c.len) != 0))
			differ = true;
	}
	if (dn->n_responses == 0) {
		f = ZOND__V1__FAILURE__FAIL_TIMEOUT;
		why = "no response";
	} else if (differ) {
		f = ZOND__V1__FAILURE__FAIL_MULTIPLE_RESPONSES;
		why = "responses differ";
	} else if (bogon != NULL) {
		f = ZOND__V1__FAILURE__FAIL_BOGON;
		why = "bogon answer";
	} else {
		switch (dn->responses[0]->rcode) {
		case LDNS_RCODE_NOERROR:
			break;
		case LDNS_RCODE_NXDOMAIN:
			f = ZOND__V1__FAILURE__FAIL_NXDOMAIN;
			why = "NXDOMAIN";
			break;
		case LDNS_RCODE_SERVFAIL:
			f = ZOND__V1__FAILURE__FAIL_SERVFAIL;
			why = "SERVFAIL";
			break;
		case LDNS_RCODE_REFUSED:
			f = ZOND__V1__FAILURE__FAIL_DNS_REFUSED;
			why = "REFUSED";
			break;
		default:
			f = ZOND__V1__FAILURE__FAIL_BAD_RESPONSE;
			why = "unexpected rcode";
			break;
		}
	}
	e = ZE_OK;
	if (why != NULL)
		e = zbuf_printf(&det, "%s (%zu response%s)", why,
		    dn->n_responses, dn->n_responses == 1 ? "" : "s");
	if (e == ZE_OK && bogon != NULL && f != ZOND__V1__FAILURE__FAIL_BOGON)
		e = zbuf_printf(&det, "%sbogon answer %s", det.len ? "; " : "",
		    bogon);
	if (e == ZE_OK && bogon != NULL && f == ZOND__V1__FAILURE__FAIL_BOGON)
		e = zbuf_printf(&det, " %s", bogon);
	if (e == ZE_OK && fm.name != NULL)
		e = zbuf_printf(&det, "%sanswer %s matches fingerprint %s "
		    "(scope %s)", det.len ? "; " : "", fpaddr, fm.name,
		    fpdb_scope_name(fm.scope));
	if (e == ZE_OK && garbage > 0)
		e = zbuf_printf(&det, "%s%u datagram%s ignored: not an answer "
		    "to the query", det.len ? "; " : "", garbage,
		    garbage == 1 ? "" : "s");
	if (e == ZE_TOOBIG)
		e = ZE_OK;	/* a cut detail is still a detail */
	if (e != ZE_OK)
		goto out;
	o->has_failure = 1;
	o->failure = f;
	if (det.len > 0) {
		free(o->detail);
		o->detail = (char *)det.data;
		det.data = NULL;
	}
out:
	zbuf_free(&c0);
	zbuf_free(&c);
	zbuf_free(&det);
	return e;
}

/* First nameserver of resolv.conf that is a numeric address. */
static zerr_t
system_resolver(struct sockaddr_storage *ss, socklen_t *sl, zdiag_t *d)
{
	char line[512], *p, *end;
	FILE *f;

	if ((f = fopen(RESOLV_CONF, "re")) == NULL)
		return zdiag_set(d, ZE_NOTFOUND, "%s: %s", RESOLV_CONF,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "nameserver", 10) != 0 ||
		    (line[10] != ' ' && line[10] != '\t'))
			continue;
		for (p = line + 10; *p == ' ' || *p == '\t'; p++)
			;
		for (end = p; *end != '\0' && *end != ' ' && *end != '\t' &&
		    *end != '\n' && *end != '\r' && *end != '#'; end++)
			;
		*end = '\0';
		if (pu_parse_addr(p, probe_port(ZOND__V1__TEST_KIND__TEST_DNS,
		    NULL), ss, sl, NULL) == ZE_OK) {
			fclose(f);
			return ZE_OK;
		}
	}
	fclose(f);
	return zdiag_set(d, ZE_NOTFOUND, "%s: no usable nameserver",
	    RESOLV_CONF);
}

zerr_t
pu_dns_qtype(const probe_req_t *req, const char *probe, bool *aaaa,
    zdiag_t *d)
{
	*aaaa = false;
	if (req->variant == NULL || *req->variant == '\0' ||
	    strcasecmp(req->variant, "A") == 0)
		return ZE_OK;
	if (strcasecmp(req->variant, "AAAA") == 0) {
		*aaaa = true;
		return ZE_OK;
	}
	return zdiag_set(d, ZE_INVAL, "%s: variant '%s' is not A or AAAA",
	    probe, req->variant);
}

Zond__V1__Outcome *
pu_dns_outcome(Zond__V1__TestKind t, const char *name, bool aaaa)
{
	Zond__V1__Outcome *o = pu_outcome_for(t);

	if (o != NULL && ((o->dns->query = pu_strdup(name)) == NULL ||
	    (o->dns->qtype = pu_strdup(aaaa ? "AAAA" : "A")) == NULL)) {
		zond__v1__outcome__free_unpacked(o, NULL);
		o = NULL;
	}
	return o;
}

/*
 * The answer check: one TLS handshake, SNI the query name, to the first
 * address of the query's type in the first response that is not a bogon
 * (never a ClientHello into the volunteer's LAN), within left_ms (at most
 * ANSWER_CHECK_MAX_MS).  A certificate valid for the name shows the
 * address serves the name.  Nothing is recorded when there is no such
 * address; with no time left the check is recorded as FAIL_TIMEOUT and
 * nothing is sent.
 */
static zerr_t
answer_check(const probe_env_t *env, Zond__V1__DnsOutcome *dn, bool aaaa,
    int64_t left_ms, zdiag_t *d)
{
	const Zond__V1__DnsResponse *r;
	const char *ip = NULL;
	Zond__V1__AnswerCheck *ac;
	struct pu_tls_result tr;
	bool v6 = aaaa;
	size_t i;
	zerr_t e;

	if (dn->n_responses == 0)
		return ZE_OK;
	r = dn->responses[0];
	for (i = 0; i < r->n_answers && ip == NULL; i++)
		if (strcmp(r->answers[i]->type, aaaa ? "AAAA" : "A") == 0 &&
		    !pu_dns_bogon(r->answers[i]->data))
			ip = r->answers[i]->data;
	if (ip == NULL)
		return ZE_OK;
	if ((ac = malloc(sizeof(*ac))) == NULL)
		return zdiag_set(d, ZE_NOMEM, "dns: out of memory");
	zond__v1__answer_check__init(ac);
	dn->answer_check = ac;
	if ((ac->addr = pu_asprintf("%s%s%s:%d", v6 ? "[" : "", ip,
	    v6 ? "]" : "", ANSWER_CHECK_PORT)) == NULL)
		return zdiag_set(d, ZE_NOMEM, "dns: out of memory");
	ac->has_failure = 1;
	if (left_ms <= 0) {
		ac->failure = ZOND__V1__FAILURE__FAIL_TIMEOUT;
		return ZE_OK;
	}
	if (left_ms > ANSWER_CHECK_MAX_MS)
		left_ms = ANSWER_CHECK_MAX_MS;
	if ((e = pu_tls_handshake(env, dn->query, ip, ANSWER_CHECK_PORT,
	    left_ms, &tr, d)) != ZE_OK)
		return e;
	ac->failure = tr.fail;
	ac->has_cert_valid = tr.has_cert;
	ac->cert_valid = tr.cert_valid;
	ac->has_handshake_us = tr.has_hs;
	ac->handshake_us = tr.hs_us;
	return ZE_OK;
}

zerr_t
probe_dns(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct sockaddr_storage rs, from;
	socklen_t rsl, fl;
	Zond__V1__Outcome *o = NULL;
	Zond__V1__DnsOutcome *dn;
	Zond__V1__DnsResponse *r;
	zdiag_t rd;
	uint8_t *q = NULL, dgram[DNS_MAX_DGRAM];
	char fbuf[80];
	size_t qn = 0;
	uint16_t id;
	unsigned garbage = 0;
	int64_t t0, now, deadline, end;
	bool aaaa = false, got = false;
	int fd = -1, rc;
	ssize_t n;
	zerr_t e;

	*out = NULL;
	if ((e = pu_dns_qtype(req, "dns", &aaaa, d)) != ZE_OK)
		return e;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)ztime_mono_us();
	if ((e = pu_dns_query(req->target, aaaa, id, &q, &qn, d)) != ZE_OK)
		return e;
	if (env->resolver != NULL &&
	    (e = pu_parse_addr(env->resolver, probe_port(
	    ZOND__V1__TEST_KIND__TEST_DNS, NULL), &rs, &rsl, d)) != ZE_OK)
		goto out;
	e = ZE_NOMEM;
	if ((o = pu_dns_outcome(ZOND__V1__TEST_KIND__TEST_DNS, req->target,
	    aaaa)) == NULL)
		goto out;
	dn = o->dns;
	dn->has_window_ms = 1;
	dn->window_ms = env->dns_window_ms < 0 ? 0 :
	    env->dns_window_ms > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)env->dns_window_ms;
	if ((dn->responses = calloc(DNS_MAX_RESPONSES,
	    sizeof(*dn->responses))) == NULL)
		goto out;
	e = ZE_OK;
	if (env->resolver == NULL && system_resolver(&rs, &rsl, &rd) !=
	    ZE_OK) {
		pu_fail(o, ZOND__V1__FAILURE__FAIL_LOCAL, "no resolver: %s",
		    rd.text);
		goto out;
	}
	fd = socket(rs.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		pu_fail(o, ZOND__V1__FAILURE__FAIL_LOCAL, "socket: %s",
		    strerror(errno));
		goto out;
	}
	pu_addr_str((struct sockaddr *)&rs, fbuf, sizeof(fbuf));
	t0 = ztime_mono_us();
	if (sendto(fd, q, qn, 0, (struct sockaddr *)&rs, rsl) < 0) {
		int err = errno;
		/* refused at once: it never left the host */
		pu_fail(o, pu_errno_failure(err, PU_SIDE_LOCAL), "send to %s: %s", fbuf,
		    strerror(err));
		goto out;
	}
	deadline = end = t0 + env->timeout_ms * 1000;
	for (;;) {
		now = ztime_mono_us();
		if (now >= deadline)
			break;
		rc = pu_wait(fd, POLLIN, (deadline - now + 999) / 1000);
		if (rc == 0)
			continue;	/* the loop head sees the deadline */
		if (rc < 0) {
			pu_fail(o, ZOND__V1__FAILURE__FAIL_LOCAL, "poll: %s",
			    strerror(errno));
			goto out;
		}
		fl = sizeof(from);
		n = recvfrom(fd, dgram, sizeof(dgram), MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		now = ztime_mono_us();
		if (n < 0) {
			/* ICMP errors surface here on some stacks; note
			 * them and keep listening for the window. */
			if (errno == EAGAIN || errno == EINTR)
				continue;
			garbage++;
			continue;
		}
		if ((size_t)n > sizeof(dgram)) {
			garbage++;	/* truncated: cannot be ours */
			continue;
		}
		rc = pu_dns_response(dgram, (size_t)n, req->target, aaaa, id,
		    &r);
		if (rc < 0) {
			e = ZE_NOMEM;
			goto out;
		}
		if (rc == 0) {
			garbage++;
			continue;
		}
		if (dn->n_responses == DNS_MAX_RESPONSES) {
			/* more than any real path sends; keep the first */
			zond__v1__dns_response__free_unpacked(r, NULL);
			continue;
		}
		r->has_arrival_us = 1;
		r->arrival_us = (uint32_t)(now - t0);
		pu_addr_str((struct sockaddr *)&from, fbuf, sizeof(fbuf));
		if ((r->from = pu_strdup(fbuf)) == NULL) {
			zond__v1__dns_response__free_unpacked(r, NULL);
			e = ZE_NOMEM;
			goto out;
		}
		dn->responses[dn->n_responses++] = r;
		if (!got) {
			got = true;
			deadline = now + (int64_t)dn->window_ms * 1000;
		}
	}
	if ((e = pu_dns_classify(o, env->fp, garbage)) != ZE_OK)
		goto out;
	close(fd);
	fd = -1;
	if (env->answer_check)
		e = answer_check(env, dn, aaaa, (end - ztime_mono_us()) / 1000,
		    d);
out:
	if (fd >= 0)
		close(fd);
	free(q);
	if (e != ZE_OK) {
		if (o != NULL)
			zond__v1__outcome__free_unpacked(o, NULL);
		if (e == ZE_NOMEM)
			zdiag_set(d, e, "dns: out of memory");
		return e;
	}
	*out = o;
	return ZE_OK;
}
