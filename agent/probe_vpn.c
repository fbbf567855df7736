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
	struct vpn_req v;
	struct ph_shot sh;
	const char *variant = req->variant ? req->variant : "wireguard";
	Zond__V1__Outcome *o = NULL;
	Zond__V1__VpnOutcome *vo;
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
	memset(&sh, 0, sizeof(sh));
	sh.pkt = v.pkt;
	sh.len = v.len;
	sh.match = vpn_match;
	sh.arg = &v;
	sh.no_reply = true;
	if ((e = ph_shot_run(env, req, v.wg ? WG_PORT : OVPN_PORT, &sh,
	    d)) != ZE_OK)
		return e;

	if ((o = pu_outcome_new()) == NULL ||
	    (vo = malloc(sizeof(*vo))) == NULL)
		goto nomem;
	zond__v1__vpn_outcome__init(vo);
	o->test_case = ZOND__V1__OUTCOME__TEST_VPN;
	o->vpn = vo;
	if ((vo->addr = pu_strdup(sh.addr)) == NULL ||
	    (vo->protocol = pu_strdup(variant)) == NULL)
		goto nomem;
	vo->has_baseline_ok = 1;
	vo->baseline_ok = sh.baseline_ok;
	if (sh.f == ZOND__V1__FAILURE__FAIL_NONE) {
		vo->has_rtt_us = 1;
		vo->rtt_us = sh.rtt_us;
	} else {
		pu_fail(o, sh.f, "%s", sh.detail);
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
