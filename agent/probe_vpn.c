/*
 * probe_vpn.c — VPN handshake shapes to zond-helper (docs/PROBES-UDP.md).
 *
 * Variants:
 *   wireguard  a 148-byte handshake initiation (type 1, random sender
 *              index, random key-looking fields, zero mac2); the helper
 *              answers a 92-byte type-2 response naming our index;
 *   openvpn    P_CONTROL_HARD_RESET_CLIENT_V2 without tls-auth (opcode
 *              7, session id, no acks, packet id 0: 14 bytes); the helper
 *              answers P_CONTROL_HARD_RESET_SERVER_V2 acking it and
 *              naming our session id.
 * A random-payload baseline goes to the same address at the same time.
 * Failures: no_reply (baseline answered, the handshake did not: the
 * protocol-signature block), timeout (neither answered), unreachable
 * (ICMP), bad_response.
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"

#define WG_PORT		51820
#define OVPN_PORT	1194
#define WG_INIT_LEN	148
#define WG_RESP_LEN	92
#define OVPN_INIT_LEN	14

struct vpn_req {
	uint8_t pkt[WG_INIT_LEN];
	size_t len;
	int wg;
};

static int
vpn_match(const uint8_t *r, size_t n, void *arg)
{
	struct vpn_req *v = arg;
	size_t acks, rs;

	if (v->wg) {
		/* type 2, reserved zero, receiver index = our sender index */
		if (n != WG_RESP_LEN || r[0] != 2 || r[1] || r[2] || r[3])
			return -1;
		return memcmp(r + 8, v->pkt + 4, 4) == 0 ? 1 : -1;
	}
	/* opcode 8 (any key id), session id, ack array, remote session id
	 * = ours, message packet id */
	if (n < 10 || r[0] >> 3 != 8)
		return -1;
	acks = r[9];
	rs = 10 + 4 * acks;
	if (acks == 0 || n < rs + 8 + 4)
		return -1;
	return memcmp(r + rs, v->pkt + 1, 8) == 0 ? 1 : -1;
}

zerr_t
probe_vpn(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct vpn_req v;
	struct ph_baseline b;
	struct ph_udp x[2];
	const char *variant = req->variant ? req->variant : "wireguard";
	Zond__V1__Outcome *o = NULL;
	Zond__V1__VpnOutcome *vo;
	char abuf[64], detail[128];
	Zond__V1__Failure f;
	zerr_t e;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	ph_random(v.pkt, sizeof(v.pkt));
	if (strcmp(variant, "wireguard") == 0) {
		v.wg = 1;
		v.len = WG_INIT_LEN;
		v.pkt[0] = 1;
		v.pkt[1] = v.pkt[2] = v.pkt[3] = 0;
		memset(v.pkt + WG_INIT_LEN - 16, 0, 16);	/* mac2 */
	} else if (strcmp(variant, "openvpn") == 0) {
		v.len = OVPN_INIT_LEN;
		v.pkt[0] = 7 << 3;	/* key id 0 */
		v.pkt[9] = 0;		/* no acks */
		memset(v.pkt + 10, 0, 4);	/* packet id 0 */
	} else {
		return zdiag_set(d, ZE_INVAL, "vpn: unknown variant '%s' "
		    "(wireguard, openvpn)", variant);
	}
	if ((e = ph_addr(req, v.wg ? WG_PORT : OVPN_PORT, &ss, &sl, d)) !=
	    ZE_OK)
		return e;
	memset(x, 0, sizeof(x));
	x[0].pkt = v.pkt;
	x[0].len = v.len;
	x[0].match = vpn_match;
	x[0].arg = &v;
	ph_baseline_init(&b, &x[1]);
	ph_udp_run((struct sockaddr *)&ss, sl, x, 2, env->timeout_ms);

	if ((o = pu_outcome_new()) == NULL ||
	    (vo = malloc(sizeof(*vo))) == NULL)
		goto nomem;
	zond__v1__vpn_outcome__init(vo);
	o->test_case = ZOND__V1__OUTCOME__TEST_VPN;
	o->vpn = vo;
	pu_addr_str((struct sockaddr *)&ss, abuf, sizeof(abuf));
	if ((vo->addr = pu_strdup(abuf)) == NULL ||
	    (vo->protocol = pu_strdup(variant)) == NULL)
		goto nomem;
	vo->has_baseline_ok = 1;
	vo->baseline_ok = x[1].state == PH_OK;
	f = ph_udp_failure(&x[0], env->timeout_ms, detail, sizeof(detail));
	if (f == ZOND__V1__FAILURE__FAIL_NONE) {
		vo->has_rtt_us = 1;
		vo->rtt_us = (uint32_t)x[0].rtt_us;
	} else {
		if (f == ZOND__V1__FAILURE__FAIL_TIMEOUT && vo->baseline_ok)
			f = ZOND__V1__FAILURE__FAIL_NO_REPLY;
		pu_fail(o, f, "%s%s", detail, f ==
		    ZOND__V1__FAILURE__FAIL_NO_REPLY ? "; baseline answered" :
		    "");
		if (o->detail == NULL)
			goto nomem;
	}
	*out = o;
	return ZE_OK;
nomem:
	if (o != NULL)
		zond__v1__outcome__free_unpacked(o, NULL);
	return zdiag_set(d, ZE_NOMEM, "vpn: out of memory");
}
