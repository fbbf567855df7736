/*
 * enroll.h — the aggregator's side of one-token enrollment
 * (docs/PROTOCOL.md 7): deciding an Uplink.enroll that came on a
 * connection the ZAP handler admitted for enrollment only (zap.h).
 * The ingest sends the answer, counts and logs it.  Thread-safe (the
 * store is); called from the ingest's main thread.
 */
#ifndef AGGREGATOR_ENROLL_H
#define AGGREGATOR_ENROLL_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "zond.pb-c.h"

/* EnrollStatus values 0..ENROLL_STORAGE; counters are indexed by them. */
#define ENROLL_NSTATUS (ZOND__V1__ENROLL_STATUS__ENROLL_STORAGE + 1)

struct enroll_answer {
	Zond__V1__EnrollStatus status;
	char detail[200];
	char region[STORE_REGION_LEN];
	uint32_t asn;
	enum store_network network;
	bool has_agent;		/* region, asn, network are set */
};

/* Parse the user id of an enrollment connection: "enroll:HEX" or
 * "enroll-limited:HEX" into its CURVE key.  False if user is neither. */
bool enroll_user(const char *user, uint8_t curve[32], bool *limited);

/*
 * Decide enrollment request en from the holder of CURVE key curve: rate
 * limit, enrollment off, malformed, the agent key must be the
 * connection's, then the token (store_token_redeem: one transaction).
 */
void enroll_decide(store_t *s, bool enabled, bool limited,
    const uint8_t curve[32], const Zond__V1__Enroll *en, int64_t now_us,
    struct enroll_answer *a);

/* "admitted", "unknown", "forged", ... (EnrollStatus without ENROLL_,
 * lower case) for logs, counters and the agent's messages. */
const char *enroll_status_name(Zond__V1__EnrollStatus s);

#endif
