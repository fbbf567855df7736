/*
 * probe_helper.h — the client side of zond-helper's protocols, shared by
 * the stun, quic, vpn, throughput and freeze probes (docs/PROBES-UDP.md,
 * docs/HELPER.md):
 *   - where to send (ph_addr),
 *   - UDP exchanges with retransmission, several at once (ph_udp_run),
 *   - the random-payload baseline that goes with every UDP probe,
 *   - the bulk download "GET N\n" -> "OK N\n" + N bytes, plain or TLS.
 * Everything here is thread-safe (no globals; OpenSSL contexts are per
 * call).
 */
#ifndef AGENT_PROBE_HELPER_H
#define AGENT_PROBE_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe.h"

#define PH_RTO_MS	500	/* RFC 5389 7.2.1 first RTO, then doubled */
#define PH_BASELINE_LEN	64
#define PH_BULK_CAP_MIN_MS 60000	/* a transfer lasts at most this or
					 * 10 x timeout_ms, the larger */

/*
 * The address a probe talks to: req->ip if set, else req->target (both
 * numeric, "ip", "ip:port" or "[v6]:port").  The port is req->port if
 * non-zero, else the one in the text, else defport.
 */
zerr_t ph_addr(const probe_req_t *req, int defport,
    struct sockaddr_storage *ss, socklen_t *len, zdiag_t *d) ZWUR;

/* Does reply[0..n) answer this exchange?  1 yes; 0 not ours (ignored,
 * keep waiting); -1 ours but malformed (remembered; keep waiting). */
typedef int (*ph_match_fn)(const uint8_t *reply, size_t n, void *arg);

enum ph_state { PH_WAIT, PH_OK, PH_BAD, PH_ERROR, PH_TIMEOUT };

struct ph_udp {
	/* in */
	const uint8_t *pkt;
	size_t len;
	ph_match_fn match;
	void *arg;
	/* out */
	enum ph_state state;
	int err;		/* errno for PH_ERROR (ICMP errors included) */
	int side;		/* enum pu_side of err: who said it */
	int64_t rtt_us;		/* first transmission to the answer */
	unsigned tx;		/* transmissions made */
	/* private */
	int fd;
	int64_t next_us, rto_ms;
	int64_t first_us;
	int bad;
};

/*
 * Run the n exchanges in parallel, each on its own connected UDP socket
 * to sa (so ICMP errors come back as socket errors), retransmitting at
 * PH_RTO_MS, 2x, 4x, ... until answered or timeout_ms has passed.
 */
void ph_udp_run(const struct sockaddr *sa, socklen_t salen, struct ph_udp *x,
    size_t n, int64_t timeout_ms);

/* Failure kind of a finished exchange (ECONNREFUSED on UDP is an ICMP
 * port unreachable, so FAIL_UNREACHABLE); detail text into buf. */
Zond__V1__Failure ph_udp_failure(const struct ph_udp *x, int64_t timeout_ms,
    char *buf, size_t len);

/* A baseline datagram: PH_BASELINE_LEN random bytes whose first byte
 * avoids every shape the helper recognises, so the helper echoes it. */
struct ph_baseline {
	uint8_t pkt[PH_BASELINE_LEN];
};
void ph_baseline_init(struct ph_baseline *b, struct ph_udp *x);

/*
 * One probe packet to the helper with the random-payload baseline beside
 * it, to the same address: the common part of the stun, quic and vpn
 * probes.  Fill the `in` fields; ph_shot_run resolves the address
 * (ph_addr with port), runs both exchanges and fills the rest.  With
 * no_reply, a probe timeout while the baseline answered becomes
 * FAIL_NO_REPLY and the detail says so.  With req->sent, the probe
 * packet is copied there (the localization replays it).
 */
struct ph_shot {
	/* in */
	const uint8_t *pkt;
	size_t len;
	ph_match_fn match;
	void *arg;
	bool no_reply;
	/* out */
	char addr[64];			/* "ip:port" */
	bool baseline_ok;
	Zond__V1__Failure f;
	uint32_t rtt_us;		/* when f is FAIL_NONE */
	char detail[160];		/* when it is not */
};
zerr_t ph_shot_run(const probe_env_t *env, const probe_req_t *req,
    int port, struct ph_shot *s, zdiag_t *d) ZWUR;

/*
 * The part of a stun, quic or vpn outcome a finished shot decides: into
 * o's message (from pu_outcome_for) addr, variant (vpn: protocol),
 * baseline_ok and, when answered, rtt_us.  The failure goes in with
 * pu_finish(o, ok, s->f, s->detail, ...).  false when o is NULL, holds no
 * such message or a string could not be allocated.
 */
bool ph_shot_fill(Zond__V1__Outcome *o, const struct ph_shot *s,
    const char *variant);

/* Fill buf with random bytes (getrandom). */
void ph_random(void *buf, size_t len);

/* Result of one bulk download. */
struct ph_bulk {
	Zond__V1__Failure fail;
	uint64_t received;	/* payload bytes (after the "OK N" line) */
	int64_t elapsed_us;	/* request sent -> last byte */
	int64_t connect_us;
	char detail[192];
};

/*
 * Connect to sa, (with sni != NULL) do a TLS handshake sending that SNI,
 * ask for bytes and read them.  No data for timeout_ms after some data
 * has arrived: FAIL_STALL; before any: FAIL_TIMEOUT; RST: FAIL_RESET;
 * early close: FAIL_EOF; not the helper's reply: FAIL_BAD_RESPONSE;
 * still going after the transfer cap: FAIL_TIMEOUT with what arrived.
 */
void ph_bulk_get(const probe_env_t *env, const struct sockaddr *sa,
    socklen_t salen, const char *sni, uint64_t bytes, struct ph_bulk *r);

/* bytes * 1e6 / us, 0 when us <= 0. */
uint64_t ph_rate(uint64_t bytes, int64_t us);

#endif
