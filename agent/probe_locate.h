/*
 * probe_locate.h — where on the path the censor sits (docs/PROBES-TCP.md
 * and docs/PROBES-UDP.md "Localization").
 *
 * After a tcp, tls, http, quic or stun test failed the way censorship
 * makes tests fail, its trigger (the SYN, the ClientHello with the real
 * SNI, the HTTP request, the datagram) is sent again with IP TTL 1, 2, ...
 * on connections and sockets of its own, unprivileged (IP_TTL and
 * IP_RECVERR), and the first TTL at which the censor's reaction (RST,
 * forged answer, drop) appears names the hop: CenTrace and "TSPU:
 * Russia's Decentralized Censorship System" (IMC 2022) did the same.
 *
 * Invariants: at most LOCATE_MAX_PACKETS packets sent (every SYN, ACK,
 * trigger, retransmission, RST and datagram counted) and about
 * LOCATE_MAX_MS per localization; traffic only to the failed test's own
 * address.  locate_decide and locate_seen_fix are pure; the limiter is
 * thread-safe; locate_run blocks for the localization's time and may run
 * in several threads at once.
 */
#ifndef AGENT_PROBE_LOCATE_H
#define AGENT_PROBE_LOCATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "probe.h"
#include "zond.pb-c.h"

#define LOCATE_MAX_PACKETS	64
#define LOCATE_MAX_MS		20000
#define LOCATE_MAX_TTL		64	/* most [tests] locate_max_ttl allows */
#define LOCATE_WAIT_MIN_MS	200	/* wait for a reaction, per packet */
#define LOCATE_WAIT_TCP_MS	500	/* a TCP trigger's least wait */
#define LOCATE_WAIT_MAX_MS	1000
#define LOCATE_SILENT_STOP	3	/* TTLs with nothing back at all */

typedef Zond__V1__LocateSeen locate_seen_t;
typedef Zond__V1__LocateReaction locate_reaction_t;

/* What one TTL drew, as locate_decide reads it. */
struct locate_obs {
	unsigned ttl;
	locate_seen_t trigger;	/* after the retry of a silence */
	locate_seen_t neutral;	/* the neutral datagram; SILENCE if none */
	bool has_addr;		/* a hop address is known for this TTL */
};

struct locate_verdict {
	bool located;
	const char *reason;	/* static text, docs/PROBES-TCP.md */
	unsigned hop;		/* located: the censor's hop (0: before
				 * the first router) */
	size_t addr_obs;	/* located: index of the observation whose
				 * address is the censor's; SIZE_MAX: none */
	locate_reaction_t reaction;
};

/*
 * The verdict on obs[0..n) (TTL 1, 2, ... in order).  The first TTL R
 * whose trigger drew RESET, FORGED or UNREACHABLE is the reaction; the
 * censor's hop is the last TTL below R whose trigger expired
 * (TIME_EXCEEDED), 0 when none did; a reaction at a TTL where the
 * neutral datagram reached the destination is the destination's own.
 * Without a reaction: a SERVER answer means the trigger went through;
 * else a drop is located after the last TTL whose trigger expired when
 * the neutral datagram got answers from further on.  Pure.
 */
void locate_decide(const struct locate_obs *obs, size_t n,
    struct locate_verdict *v);

/* An answer (SERVER) to a trigger whose neutral datagram of the same TTL
 * expired on the way cannot come from the destination: FORGED.  Pure. */
locate_seen_t locate_seen_fix(locate_seen_t trigger, locate_seen_t neutral);

/* Does a measurement of test t that ended with failure f get a
 * localization?  tcp, tls, http, quic, stun (and call); failures RESET,
 * TIMEOUT, EOF, NO_REPLY, BLOCKPAGE, TLS_ERROR, REFUSED. */
bool locate_wanted(Zond__V1__TestKind t, Zond__V1__Failure f);

/* Rate limit: one localization per target per interval, and a global
 * token bucket of per_hour tokens (refilled evenly, at most per_hour
 * held).  Thread-safe. */
struct locate_limit {
	pthread_mutex_t mu;
	int64_t *last_us;	/* per target, monotonic; 0: never */
	size_t n;
	int64_t interval_us;
	double tokens, per_hour;
	int64_t refill_us;	/* when tokens were last refilled */
};
zerr_t locate_limit_init(struct locate_limit *l, size_t ntargets,
    int64_t interval_ms, int per_hour) ZWUR;
void locate_limit_fini(struct locate_limit *l);
/* May target i be localized at monotonic time now_us?  Takes a token and
 * notes the time when yes. */
bool locate_limit_take(struct locate_limit *l, size_t i, int64_t now_us);

struct locate_cfg {
	unsigned max_ttl;	/* 1..LOCATE_MAX_TTL */
	int64_t budget_ms;	/* LOCATE_MAX_MS, less in tests */
};

/*
 * Localize the failure o of the test req (req->ip is the address the
 * test used; sent, what a datagram test sent, may be NULL for TCP
 * tests).  *out gets a new Localization (caller frees with
 * zond__v1__localization__free_unpacked) or NULL when there is nothing
 * to replay (no address, no datagram).  ZE_NOMEM only.
 */
zerr_t locate_run(const probe_env_t *env, const struct locate_cfg *cfg,
    const probe_req_t *req, const Zond__V1__Outcome *o,
    const struct probe_sent *sent, Zond__V1__Localization **out) ZWUR;

/*
 * The replay itself, for callers that know their trigger (the call test
 * hooks here with trigger "datagram"): TCP triggers ("client_hello",
 * "http_request": payload sent on an established connection; "syn":
 * payload NULL) or UDP ones ("quic_initial", "datagram", "dns_query").
 */
zerr_t locate_replay(const struct locate_cfg *cfg, const char *trigger,
    const struct sockaddr *dst, socklen_t dstlen, const uint8_t *payload,
    size_t len, Zond__V1__Localization **out) ZWUR;

/*
 * The call test's path variant probes the hops itself: its service-shaped
 * leg's last answering hop, when the test failed (no_reply, unreachable),
 * becomes *out (trigger "datagram", no extra packets) so the aggregator
 * places that censor as it places the others.  *out is NULL for any other
 * outcome.  ZE_NOMEM only.
 */
zerr_t locate_from_call(const Zond__V1__Outcome *o,
    Zond__V1__Localization **out) ZWUR;

/* Names for logs: "rst", "forged", "drop", "unreachable", "none"; and
 * "silence", "time_exceeded", "reset", "forged", "server", "unreachable". */
const char *locate_reaction_name(locate_reaction_t r);
const char *locate_seen_name(locate_seen_t s);

#endif
