/*
 * probe_quic.c — QUIC-shaped datagrams (docs/PROBES-UDP.md).
 *
 * Variants:
 *   vn             long header with a reserved version 0x?a?a?a?a, padded
 *                  to 1200 bytes: every QUIC server must answer it with
 *                  Version Negotiation (RFC 9000 6), so it works against
 *                  any server, not only the helper;
 *   initial_large  1200 bytes that look like a version-1 Initial: first
 *                  byte 0xc3, bytes 1-4 = 00 00 00 01 -- the shape TSPU
 *                  drops (UDP payload >= 1001 bytes, version 1);
 *   initial_small  the same shape in 1000 bytes, just under that rule;
 *   initial_sni    a real version-1 Initial (lib/quic.c): random DCID of
 *                  8-20 bytes, a ClientHello (lib/tlshello.c, shape
 *                  "quic") naming the SNI with ALPN h3 and transport
 *                  parameters, padded to 1200 bytes; then the same with
 *                  the control SNI, in an order drawn per run.  Any QUIC
 *                  long header sent to our SCID answers it (Initial,
 *                  Handshake, Retry; a Version Negotiation too).
 * initial_large and initial_small are not real QUIC (no keys): only
 * zond-helper answers them.  A random-payload baseline goes to the same address at the same
 * time.  Failures: no_reply (baseline answered, this did not), timeout
 * (neither), unreachable (ICMP), bad_response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"
#include "quic.h"
#include "tlshello.h"
#include "wire.h"

#define QUIC_LARGE	1200
#define QUIC_SMALL	1000
#define CID_LEN		8

struct quic_req {
	uint8_t pkt[QUIC_LARGE];
	size_t len;
	int vn;			/* expecting Version Negotiation */
	char versions[64];	/* offered in a VN, for the record */
};

/* -1 for an unknown variant. */
static int
quic_build(struct quic_req *q, const char *variant)
{
	uint8_t *p = q->pkt;
	size_t rest;

	if (strcmp(variant, "vn") == 0) {
		q->vn = 1;
		q->len = QUIC_LARGE;
	} else if (strcmp(variant, "initial_large") == 0) {
		q->len = QUIC_LARGE;
	} else if (strcmp(variant, "initial_small") == 0) {
		q->len = QUIC_SMALL;
	} else {
		return -1;
	}
	ph_random(p, q->len);	/* ids and a payload that looks encrypted */
	p[0] = 0xc3;		/* long header, fixed bit, Initial, 4-byte pn */
	if (q->vn) {
		/* 0x?a?a?a?a: reserved for forcing negotiation (RFC 9000
		 * 15), random high nibbles. */
		p[1] = (uint8_t)((p[1] & 0xf0) | 0x0a);
		p[2] = (uint8_t)((p[2] & 0xf0) | 0x0a);
		p[3] = (uint8_t)((p[3] & 0xf0) | 0x0a);
		p[4] = (uint8_t)((p[4] & 0xf0) | 0x0a);
	} else {
		p[1] = p[2] = p[3] = 0;
		p[4] = 1;
	}
	p[5] = CID_LEN;				/* dcid at 6 */
	p[6 + CID_LEN] = CID_LEN;		/* scid at 15 */
	p[7 + 2 * CID_LEN] = 0;			/* token length */
	rest = q->len - (8 + 2 * CID_LEN) - 2;	/* after the Length field */
	be16_put(p + 8 + 2 * CID_LEN, (uint16_t)(0x4000 | rest));
	return 0;
}

static int
quic_match(const uint8_t *r, size_t n, void *arg)
{
	struct quic_req *q = arg;
	const uint8_t *dcid = q->pkt + 6, *scid = q->pkt + 7 + CID_LEN;
	size_t off, vlen = 0;

	/* Ours only if the ids come back swapped (RFC 9000 17.2.1). */
	if (n < 7 + 2 * CID_LEN || (r[0] & 0x80) == 0 || r[5] != CID_LEN ||
	    memcmp(r + 6, scid, CID_LEN) != 0 || r[6 + CID_LEN] != CID_LEN ||
	    memcmp(r + 7 + CID_LEN, dcid, CID_LEN) != 0)
		return 0;
	if (!q->vn)
		return be32_get(r + 1) == 1 ? 1 : -1;
	if (be32_get(r + 1) != 0)
		return -1;
	off = 7 + 2 * CID_LEN;
	if (off == n || (n - off) % 4 != 0)
		return -1;
	q->versions[0] = '\0';
	for (; off < n && vlen + 10 < sizeof(q->versions); off += 4) {
		int w = snprintf(q->versions + vlen, sizeof(q->versions) - vlen,
		    "%s%08x", vlen ? "," : "", be32_get(r + off));
		vlen += w < 0 ? 0 : (size_t)w;
	}
	return 1;
}

/* One real Initial and the connection ids an answer must name. */
struct quic_sni {
	uint8_t pkt[QUIC_INITIAL_MIN];
	size_t len;
	quic_hdr_t h;
};

/* RFC 9000 18.2 transport parameters as a client sends them: id, length
 * and a varint value each; initial_source_connection_id is required. */
static size_t
quic_tp(const quic_hdr_t *h, uint8_t *p)
{
	static const struct { uint8_t id; uint32_t v; } tp[] = {
		{0x01, 30000},		/* max_idle_timeout, ms */
		{0x03, 1472},		/* max_udp_payload_size */
		{0x04, 1048576},	/* initial_max_data */
		{0x05, 262144},		/* ..._stream_data_bidi_local */
		{0x06, 262144},		/* ..._stream_data_bidi_remote */
		{0x07, 262144},		/* ..._stream_data_uni */
		{0x08, 100},		/* initial_max_streams_bidi */
		{0x09, 100},		/* initial_max_streams_uni */
	};
	size_t n = 0, i;

	for (i = 0; i < ZARRAY_LEN(tp); i++) {
		p[n++] = tp[i].id;
		if (tp[i].v < 0x40) {
			p[n++] = 1;
			p[n++] = (uint8_t)tp[i].v;
		} else if (tp[i].v < 0x4000) {
			p[n++] = 2;
			be16_put(p + n, (uint16_t)(0x4000 | tp[i].v));
			n += 2;
		} else {
			p[n++] = 4;
			be32_put(p + n, 0x80000000u | tp[i].v);
			n += 4;
		}
	}
	p[n++] = 0x0f;			/* initial_source_connection_id */
	p[n++] = (uint8_t)h->scid_len;
	memcpy(p + n, h->scid, h->scid_len);
	return n + h->scid_len;
}

static zerr_t
quic_sni_build(struct quic_sni *q, const char *sni, zdiag_t *d)
{
	uint8_t hello[TLS_HELLO_CAP], tp[128];
	tls_hello_opts_t o;
	size_t hl;
	zerr_t e;

	memset(q, 0, sizeof(*q));
	q->h.version = QUIC_V1;
	q->h.dcid_len = 8 + randombytes_uniform(13);	/* 8..20 */
	ph_random(q->h.dcid, q->h.dcid_len);
	q->h.scid_len = CID_LEN;
	ph_random(q->h.scid, q->h.scid_len);
	memset(&o, 0, sizeof(o));
	o.shape = TLS_SHAPE_QUIC;
	o.sni = sni;
	o.quic_tp = tp;
	o.quic_tp_len = quic_tp(&q->h, tp);
	if ((e = tls_hello_build(&o, false, hello, sizeof(hello), &hl, d)) !=
	    ZE_OK)
		return e;
	return quic_client_initial(&q->h, hello, hl, QUIC_INITIAL_MIN,
	    q->pkt, sizeof(q->pkt), &q->len, d);
}

/* A long header whose DCID is our SCID: ours, whatever its type. */
static int
quic_sni_match(const uint8_t *r, size_t n, void *arg)
{
	const struct quic_sni *q = arg;

	if (n < 6 + q->h.scid_len || (r[0] & 0x80) == 0 ||
	    r[5] != q->h.scid_len ||
	    memcmp(r + 6, q->h.scid, q->h.scid_len) != 0)
		return 0;
	return 1;
}

/* The SNI of an initial_sni request: sni, else the target if a name. */
static const char *
quic_sni_of(const probe_req_t *req, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *c;

	if (req->sni != NULL && *req->sni != '\0')
		return req->sni;
	if (req->target == NULL || pu_parse_addr(req->target, 443, &ss, &sl,
	    NULL) == ZE_OK)
		return NULL;
	c = strrchr(req->target, ':');
	if (c == NULL)
		c = req->target + strlen(req->target);
	if ((size_t)(c - req->target) >= len)
		return NULL;
	memcpy(buf, req->target, (size_t)(c - req->target));
	buf[c - req->target] = '\0';
	return buf;
}

static zerr_t
quic_sni_shot(const probe_env_t *env, const probe_req_t *req, int port,
    const char *sni, struct quic_sni *q, struct ph_shot *sh, zdiag_t *d)
{
	zerr_t e;

	if ((e = quic_sni_build(q, sni, d)) != ZE_OK)
		return e;
	memset(sh, 0, sizeof(*sh));
	sh->pkt = q->pkt;
	sh->len = q->len;
	sh->match = quic_sni_match;
	sh->arg = q;
	sh->no_reply = true;
	return ph_shot_run(env, req, port, sh, d);
}

static zerr_t
probe_quic_sni(const probe_env_t *env, const probe_req_t *req, int port,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct quic_sni qa, qc;
	struct ph_shot a, c;
	const char *sni, *det;
	char host[256], dd[sizeof(a.detail) + 320];
	Zond__V1__Outcome *o;
	bool ctl, first, ok;
	zerr_t e;

	if ((sni = quic_sni_of(req, host, sizeof(host))) == NULL)
		return zdiag_set(d, ZE_INVAL, "quic: initial_sni needs an SNI "
		    "(the sni column, or a target that is a name)");
	ctl = req->control_sni != NULL && *req->control_sni != '\0';
	first = ctl && randombytes_uniform(2) == 1;
	if (first && (e = quic_sni_shot(env, req, port, req->control_sni,
	    &qc, &c, d)) != ZE_OK)
		return e;
	if ((e = quic_sni_shot(env, req, port, sni, &qa, &a, d)) != ZE_OK)
		return e;
	if (ctl && !first && (e = quic_sni_shot(env, req, port,
	    req->control_sni, &qc, &c, d)) != ZE_OK)
		return e;
	det = a.detail;
	o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_QUIC);
	if ((ok = ph_shot_fill(o, &a, "initial_sni"))) {
		Zond__V1__QuicOutcome *q = o->quic;
		q->has_sent_bytes = 1;
		q->sent_bytes = (uint32_t)qa.len;
		ok = (q->sni = pu_strdup(sni)) != NULL;
		if (ok && ctl) {
			ok = (q->control_sni = pu_strdup(req->control_sni)) !=
			    NULL;
			q->has_control_failure = 1;
			q->control_failure = c.f;
			q->has_control_rtt_us = c.f ==
			    ZOND__V1__FAILURE__FAIL_NONE;
			q->control_rtt_us = c.rtt_us;
			q->has_control_first = 1;
			q->control_first = first;
		}
	}
	if (ok && a.f != ZOND__V1__FAILURE__FAIL_NONE && ctl) {
		snprintf(dd, sizeof(dd), "SNI %s: %s; control SNI %s",
		    sni, a.detail, c.f == ZOND__V1__FAILURE__FAIL_NONE ?
		    "answered" : wire_failure_name(c.f));
		det = dd;
	} else if (ok && ctl && c.f != ZOND__V1__FAILURE__FAIL_NONE) {
		ok = (o->detail = pu_asprintf("control SNI %s: %s",
		    req->control_sni, c.detail)) != NULL;
	}
	return pu_finish(o, ok, a.f, det, "quic", out, d);
}

zerr_t
probe_quic(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	const Zond__V1__TestKind t = ZOND__V1__TEST_KIND__TEST_QUIC;
	const struct probe_variant *v = probe_variant(probe_info(t),
	    req->variant);
	struct quic_req q;
	struct ph_shot sh;
	Zond__V1__Outcome *o;
	char names[64];
	bool ok;
	zerr_t e;

	*out = NULL;
	memset(&q, 0, sizeof(q));
	if (v != NULL && strcmp(v->name, "initial_sni") == 0)
		return probe_quic_sni(env, req, probe_port(t, v->name), out,
		    d);
	if (v == NULL || quic_build(&q, v->name) != 0)
		return zdiag_set(d, ZE_INVAL, "quic: unknown variant '%s' (%s)",
		    req->variant, probe_names(probe_info(t), names,
		    sizeof(names)));
	memset(&sh, 0, sizeof(sh));
	sh.pkt = q.pkt;
	sh.len = q.len;
	sh.match = quic_match;
	sh.arg = &q;
	sh.no_reply = true;
	if ((e = ph_shot_run(env, req, probe_port(t, v->name), &sh, d)) !=
	    ZE_OK)
		return e;
	o = pu_outcome_for(t);
	if ((ok = ph_shot_fill(o, &sh, v->name))) {
		o->quic->has_sent_bytes = 1;
		o->quic->sent_bytes = (uint32_t)q.len;
		if (sh.f == ZOND__V1__FAILURE__FAIL_NONE && q.vn)
			ok = (o->detail = pu_asprintf("versions=%s",
			    q.versions)) != NULL;
	}
	return pu_finish(o, ok, sh.f, sh.detail, "quic", out, d);
}
