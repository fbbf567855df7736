/*
 * probe_stun.c — STUN Binding Request (RFC 5389), plain or app-shaped.
 *
 * Variants: "plain" (a bare 20-byte request), "whatsapp" (attributes
 * 0x4000-0x4007 as WhatsApp's STUN carries), "telegram" (a REALM naming
 * telegram).  The request and a random-payload baseline datagram go to
 * the same address at the same time (docs/PROBES-UDP.md); the zond-helper
 * echoes the baseline on every UDP port, any other peer just ignores it.
 * Records the address, variant, RTT, the FAMILY of the mapped address
 * (never the address: it is the volunteer's public IP) and baseline_ok.
 * Failures: timeout, unreachable (ICMP), bad_response.
 */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"

#define STUN_HDR	20
#define STUN_COOKIE	0x2112A442u

struct stun_req {
	uint8_t pkt[128];
	size_t len;
	const char *mapped;	/* "ipv4" / "ipv6" once answered */
	unsigned errcode;	/* from an error response */
};

static size_t
put_attr(uint8_t *p, unsigned type, const void *val, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	be16_put(p, (uint16_t)type);
	be16_put(p + 2, (uint16_t)len);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, padded - len);
	return 4 + padded;
}

/* Build the request for variant into s; -1 for an unknown variant. */
static int
stun_build(struct stun_req *s, const char *variant)
{
	uint8_t *p = s->pkt, v[8];
	size_t n = STUN_HDR;

	be16_put(p, 0x0001);
	be32_put(p + 4, STUN_COOKIE);
	ph_random(p + 8, 12);
	if (strcmp(variant, "whatsapp") == 0) {
		/* Shape only: the attribute types WhatsApp's STUN uses. */
		ph_random(v, sizeof(v));
		n += put_attr(p + n, 0x4000, v, 4);
		n += put_attr(p + n, 0x4003, v, 8);
		n += put_attr(p + n, 0x4007, v, 1);
	} else if (strcmp(variant, "telegram") == 0) {
		n += put_attr(p + n, 0x0014, "telegram.org", 12);
	} else if (strcmp(variant, "plain") != 0) {
		return -1;
	}
	be16_put(p + 2, (uint16_t)(n - STUN_HDR));
	s->len = n;
	return 0;
}

static int
stun_match(const uint8_t *r, size_t n, void *arg)
{
	struct stun_req *s = arg;
	breader_t br;
	unsigned type;
	size_t mlen;

	if (n < STUN_HDR || (r[0] & 0xc0) != 0 ||
	    memcmp(r + 4, s->pkt + 4, 16) != 0)
		return 0;	/* not an answer to this transaction */
	br_init(&br, r, n);
	type = br_be16(&br);
	mlen = br_be16(&br);
	br_skip(&br, 16);
	if (mlen != n - STUN_HDR || mlen % 4 != 0)
		return -1;
	if (type != 0x0101 && type != 0x0111)
		return -1;
	while (br_left(&br) >= 4) {
		unsigned t = br_be16(&br);
		size_t alen = br_be16(&br);
		const uint8_t *val = br_ptr(&br, alen);
		br_skip(&br, ((alen + 3) & ~(size_t)3) - alen);
		if (val == NULL)
			return -1;
		if (type == 0x0111 && t == 0x0009 && alen >= 4)
			s->errcode = (unsigned)(val[2] & 7) * 100 + val[3];
		if (type == 0x0101 && (t == 0x0020 || t == 0x0001) &&
		    alen >= 8) {
			if (val[1] == 0x01 && alen == 8)
				s->mapped = "ipv4";
			else if (val[1] == 0x02 && alen == 20)
				s->mapped = "ipv6";
			else
				return -1;
		}
	}
	if (br_error(&br) != ZE_OK || br_left(&br) != 0 || s->mapped == NULL)
		return -1;
	return 1;
}

zerr_t
probe_stun(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	const Zond__V1__TestKind t = ZOND__V1__TEST_KIND__TEST_STUN;
	const struct probe_variant *v = probe_variant(probe_info(t),
	    req->variant);
	struct stun_req s;
	struct ph_shot sh;
	Zond__V1__Outcome *o;
	char names[64];
	bool ok;
	zerr_t e;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	if (v == NULL || stun_build(&s, v->name) != 0)
		return zdiag_set(d, ZE_INVAL, "stun: unknown variant '%s' (%s)",
		    req->variant, probe_names(probe_info(t), names,
		    sizeof(names)));
	memset(&sh, 0, sizeof(sh));
	sh.pkt = s.pkt;
	sh.len = s.len;
	sh.match = stun_match;
	sh.arg = &s;
	if ((e = ph_shot_run(env, req, probe_port(t, v->name), &sh, d)) !=
	    ZE_OK)
		return e;
	if (sh.f == ZOND__V1__FAILURE__FAIL_BAD_RESPONSE && s.errcode)
		snprintf(sh.detail, sizeof(sh.detail), "error response %u",
		    s.errcode);
	o = pu_outcome_for(t);
	ok = ph_shot_fill(o, &sh, v->name) &&
	    (sh.f != ZOND__V1__FAILURE__FAIL_NONE ||
	    (o->stun->mapped = pu_strdup(s.mapped)) != NULL);
	return pu_finish(o, ok, sh.f, sh.detail, "stun", out, d);
}
