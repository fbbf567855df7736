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
	const Zond__V1__TestKind t = ZOND__V1__TEST_KIND__TEST_VPN;
	const struct probe_variant *pv = probe_variant(probe_info(t),
	    req->variant);
	const char *variant = pv != NULL ? pv->name : "";
	struct vpn_req v;
	struct ph_shot sh;
	Zond__V1__Outcome *o;
	char names[64];
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
		return zdiag_set(d, ZE_INVAL, "vpn: unknown variant '%s' (%s)",
		    req->variant, probe_names(probe_info(t), names,
		    sizeof(names)));
	}
	memset(&sh, 0, sizeof(sh));
	sh.pkt = v.pkt;
	sh.len = v.len;
	sh.match = vpn_match;
	sh.arg = &v;
	sh.no_reply = true;
	if ((e = ph_shot_run(env, req, probe_port(t, variant), &sh, d)) !=
	    ZE_OK)
		return e;
	o = pu_outcome_for(t);
	return pu_finish(o, ph_shot_fill(o, &sh, variant), sh.f, sh.detail,
	    "vpn", out, d);
}
