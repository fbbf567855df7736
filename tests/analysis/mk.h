/*
 * mk.h — build recorded measurements in C for the analysis tests.  Every
 * measurement is malloc'd the way protobuf-c unpacks one, so mk_free
 * (zond__v1__measurement__free_unpacked) releases it whole.
 */
#ifndef TEST_MK_H
#define TEST_MK_H

#include <stdbool.h>
#include <stdint.h>

#include "verdict.h"
#include "zond.pb-c.h"

typedef Zond__V1__Measurement meas_t;

#define FL(x) ZOND__V1__FAILURE__FAIL_##x
#define TK(x) ZOND__V1__TEST_KIND__TEST_##x

/* A measurement of test t on target by agent number `agent` (its key is
 * 32 bytes of that value) with outcome failure f and an empty sub-message
 * for its test. */
meas_t *mk(Zond__V1__TestKind t, const char *target, int agent,
    Zond__V1__Failure f);
void mk_free(meas_t *m);

/* Append a DNS response: rcode and a NULL-terminated list of A/AAAA
 * addresses (AAAA when the text has a colon). */
void mk_dns(meas_t *m, unsigned rcode, const char *const *addrs);
void mk_tls(meas_t *m, const char *stage, const char *control_sni,
    Zond__V1__Failure control_failure);
/* headers: NULL-terminated "Name: value" list or NULL */
void mk_http(meas_t *m, const char *url, unsigned status, uint64_t body_len,
    const char *title, const char *const *headers, const char *body);
void mk_stun(meas_t *m, const char *variant, int baseline); /* -1: absent */
void mk_quic(meas_t *m, const char *variant, int baseline);
void mk_vpn(meas_t *m, const char *protocol, int baseline);
void mk_tp(meas_t *m, uint64_t bps, uint64_t control_bps,
    Zond__V1__Failure control_failure);
void mk_freeze(meas_t *m, uint64_t requested, uint64_t received);
/* call tests: the variant, one crossed leg, the flow's media result */
void mk_call(meas_t *m, const char *variant);
void mk_call_leg(meas_t *m, const char *dest, const char *payload,
    uint32_t port, Zond__V1__Failure f, uint32_t last_hop, bool reached);
void mk_call_flow(meas_t *m, bool connected, const char *stage,
    uint32_t cut_s, uint32_t cut_packets);
/* Record the address family of m's socket (NetContext.family). */
void mk_family(meas_t *m, Zond__V1__AddrFamily fam);

/* Attach a localization: located at censor_hop (its address censor_addr,
 * NULL: none) or not located; hops: NULL-terminated addresses of TTL 1,
 * 2, ... ("" for a hop that did not answer) or NULL. */
void mk_locate(meas_t *m, bool located, unsigned censor_hop,
    const char *censor_addr, const char *const *hops);

/* verdict_judge of m against the controls ctl[0..nc) (entries may be
 * NULL), prepared here with o and freed again, and the siblings
 * sib[0..ns).  Judged without a memo, then twice with one (built, then
 * kept): aborts unless all three agree.  Returns verdict_judge's
 * result. */
zerr_t mk_judge(const struct verdict_opts *o, const meas_t *m,
    const meas_t *const *ctl, size_t nc, const meas_t *const *sib,
    size_t ns, struct verdict_res *r);

#endif
