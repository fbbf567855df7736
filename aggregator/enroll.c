/* enroll.c — see enroll.h. */
#include "enroll.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "key.h"
#include "token.h"
#include "zap.h"

bool
enroll_user(const char *user, uint8_t curve[32], bool *limited)
{
	const char *hex;
	size_t got = 0;

	if (user == NULL)
		return false;
	if (strncmp(user, ZAP_ENROLL_USER, strlen(ZAP_ENROLL_USER)) == 0) {
		*limited = false;
		hex = user + strlen(ZAP_ENROLL_USER);
	} else if (strncmp(user, ZAP_LIMITED_USER,
	    strlen(ZAP_LIMITED_USER)) == 0) {
		*limited = true;
		hex = user + strlen(ZAP_LIMITED_USER);
	} else
		return false;
	return strlen(hex) == 64 && sodium_hex2bin(curve, 32, hex, 64, NULL,
	    &got, NULL) == 0 && got == 32;
}

const char *
enroll_status_name(Zond__V1__EnrollStatus s)
{
	static const char *const names[ENROLL_NSTATUS] = {
		"unspecified", "admitted", "unknown", "forged", "used",
		"expired", "revoked", "rate_limited", "disabled", "storage",
	};

	return (unsigned)s < ENROLL_NSTATUS ? names[s] : "unspecified";
}

static void
answer(struct enroll_answer *a, Zond__V1__EnrollStatus st, const char *why)
{
	a->status = st;
	snprintf(a->detail, sizeof(a->detail), "%s", why);
}

void
enroll_decide(store_t *s, bool enabled, bool limited,
    const uint8_t curve[32], const Zond__V1__Enroll *en, int64_t now_us,
    struct enroll_answer *a)
{
	static const Zond__V1__EnrollStatus of[] = {
		[STORE_REDEEM_ADMITTED] = ZOND__V1__ENROLL_STATUS__ENROLL_ADMITTED,
		[STORE_REDEEM_UNKNOWN] = ZOND__V1__ENROLL_STATUS__ENROLL_UNKNOWN,
		[STORE_REDEEM_FORGED] = ZOND__V1__ENROLL_STATUS__ENROLL_FORGED,
		[STORE_REDEEM_USED] = ZOND__V1__ENROLL_STATUS__ENROLL_USED,
		[STORE_REDEEM_EXPIRED] = ZOND__V1__ENROLL_STATUS__ENROLL_EXPIRED,
		[STORE_REDEEM_REVOKED] = ZOND__V1__ENROLL_STATUS__ENROLL_REVOKED,
	};
	static const char *const why[] = {
		[STORE_REDEEM_ADMITTED] = "admitted",
		[STORE_REDEEM_UNKNOWN] = "no such token here (damaged, or "
		    "made for another aggregator)",
		[STORE_REDEEM_FORGED] = "the token's proof does not verify "
		    "(its secret was altered)",
		[STORE_REDEEM_USED] = "the token has admitted another key "
		    "already",
		[STORE_REDEEM_EXPIRED] = "the token has expired",
		[STORE_REDEEM_REVOKED] = "the token was revoked by the "
		    "operator",
	};
	struct store_token t;
	enum store_redeem res;
	uint8_t mine[32];
	zdiag_t d;

	memset(a, 0, sizeof(*a));
	if (limited) {
		answer(a, ZOND__V1__ENROLL_STATUS__ENROLL_RATE_LIMITED,
		    "too many enrollment attempts from this address; try "
		    "again in a minute");
		return;
	}
	if (!enabled) {
		answer(a, ZOND__V1__ENROLL_STATUS__ENROLL_DISABLED,
		    "enrollment is switched off on this aggregator");
		return;
	}
	if (!en->has_token_id || en->token_id.len != STORE_TOKEN_ID_LEN ||
	    !en->has_agent_key || en->agent_key.len != KEY_PUB_LEN ||
	    !en->has_proof || en->proof.len != TOKEN_PROOF_LEN) {
		answer(a, ZOND__V1__ENROLL_STATUS__ENROLL_UNKNOWN,
		    "malformed enroll request (token id 16, agent key 32, "
		    "proof 32 bytes expected)");
		return;
	}
	if (pubkey_to_curve(en->agent_key.data, mine) != ZE_OK ||
	    sodium_memcmp(mine, curve, 32) != 0) {
		answer(a, ZOND__V1__ENROLL_STATUS__ENROLL_FORGED,
		    "the agent key is not the key of this connection");
		return;
	}
	if (store_token_redeem(s, en->token_id.data, en->agent_key.data,
	    en->proof.data, en->proof.len, now_us, &res, &t, &d) != ZE_OK) {
		answer(a, ZOND__V1__ENROLL_STATUS__ENROLL_STORAGE, d.text);
		return;
	}
	answer(a, of[res], why[res]);
	if (res == STORE_REDEEM_ADMITTED) {
		memcpy(a->region, t.region, sizeof(a->region));
		a->asn = t.asn;
		a->network = t.network;
		a->has_agent = true;
	}
}
