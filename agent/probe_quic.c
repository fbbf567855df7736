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
 *   initial_small  the same shape in 1000 bytes, just under that rule.
 * The Initials are not real QUIC (no keys): only zond-helper answers
 * them.  A random-payload baseline goes to the same address at the same
 * time.  Failures: no_reply (baseline answered, this did not), timeout
 * (neither), unreachable (ICMP), bad_response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"

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
