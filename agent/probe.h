/*
 * probe.h — the interface every reachability test (probe) implements.
 *
 * A probe makes ONE attempt of one test and records facts: what it sent,
 * what came back, how long it took, and a failure kind from the taxonomy
 * (proto/zond.proto `Failure`).  It never judges "blocked"; that is the
 * aggregator's job.  Retries, scheduling, signing and storage are done by
 * the caller (scheduler.c), not by probes.
 *
 * Memory: *out and every pointer inside it (strings, bytes, sub-messages,
 * repeated arrays) are malloc'd by the probe, so the caller releases the
 * whole tree with zond__v1__outcome__free_unpacked(out, NULL).
 *
 * Return value: ZE_OK whenever the attempt ran, whatever the network did
 * (a timeout is out->failure = FAIL_TIMEOUT, not an error).  An error is
 * returned only when the request itself is unusable (ZE_INVAL: missing
 * target, bad address; diag says what) or on ZE_NOMEM.
 *
 * Thread-safety: probes share nothing mutable; several may run at once in
 * different threads.  Every blocking step honours env->timeout_ms.
 * Traffic: probes contact only the addresses in the request (and the
 * configured resolver; dns's answer check, the routable address the
 * resolver answered); tests point them at loopback or lab namespaces.
 */
#ifndef AGENT_PROBE_H
#define AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zond.pb-c.h"

struct fpdb;	/* blockpage fingerprints, lib/fingerprint.h */

typedef struct probe_env {
	int64_t timeout_ms;	/* each step: connect, handshake, read, ... */
	const char *resolver;	/* "ip" or "ip:port"; NULL: the system's */
	const char *doh_url;	/* DoH resolver URL; NULL: no DoH */
	const char *ca_file;	/* extra CA bundle (the lab CA); NULL: system */
	const struct fpdb *fp;	/* blockpage fingerprints; NULL: none */
	int64_t dns_window_ms;	/* keep listening this long for more DNS
				 * responses after the first one */
	int64_t body_cap;	/* most HTTP body bytes kept for hashing */
	bool answer_check;	/* dns: TLS handshake to the first routable
				 * address answered (docs/PROBES-TCP.md) */
} probe_env_t;

typedef struct probe_req {
	Zond__V1__TestKind test;
	const char *service;	/* for the record only */
	const char *target;	/* host, host:port or URL (docs/TARGETS.md) */
	const char *ip;		/* connect here instead of resolving; NULL */
	int port;		/* 0: the test's default */
	const char *sni;	/* TLS server name; NULL: host of target */
	const char *control_sni;	/* harmless SNI for the same IP; NULL */
	const char *variant;	/* stun: plain|whatsapp|telegram;
				 * tls: openssl|browser (ClientHello shape);
				 * quic: vn|initial_large|initial_small|
				 * initial_sni;
				 * vpn: wireguard|openvpn */
	int64_t bytes;		/* throughput/freeze: transfer size */
} probe_req_t;

typedef zerr_t (*probe_fn)(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d);

/*
 * The probe table (probe.c): every fact about a test kind that more than
 * one module needs -- the probe that runs it, its default
 * port, what its target is, its variants -- in one row per test, so a new
 * probe is one row and one file.  Test names are the wire's
 * (wire_test_name) so agent and aggregator spell them alike.  The table
 * is constant: any thread may read it.
 */
/* What the target column holds. */
enum probe_target {
	PROBE_TARGET_HOST,	/* host name or address, maybe with :port */
	PROBE_TARGET_URL,	/* an http:// or https:// URL */
	PROBE_TARGET_NAME,	/* a name looked up as is (DoH) */
};

struct probe_variant {
	const char *name;
	int port;		/* default port; 0: the test's */
};

typedef struct probe_info {
	Zond__V1__TestKind test;
	probe_fn run;
	enum probe_target target;
	int port;		/* default port; 0: from the target */
	bool connects;		/* needs an address: the scheduler resolves
				 * a host-name target before the probe runs */
	const struct probe_variant *variants;	/* {NULL} ended; NULL: none;
						 * the first is the default */
	bool variant_required;	/* a target row must name one */
} probe_info_t;

/* The row of test t; NULL when no probe runs it. */
const probe_info_t *probe_info(Zond__V1__TestKind t);
/* Row i of the table (in the order the docs list the tests), NULL past
 * the end. */
const probe_info_t *probe_info_at(size_t i);
/* The variant called name (NULL or "": the default, the first) of p;
 * NULL when p has no such variant. */
const struct probe_variant *probe_variant(const probe_info_t *p,
    const char *name);
/* Default port of test t with variant (NULL: the default one); 0 when
 * the target must say. */
int probe_port(Zond__V1__TestKind t, const char *variant);
/* "a, b, c" of the variants of p (or, p NULL, of the tests' names) into
 * buf; returns buf. */
const char *probe_names(const probe_info_t *p, char *buf, size_t len);

zerr_t probe_dns(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_doh(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_tcp(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_tls(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_http(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_stun(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_quic(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_vpn(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_throughput(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);
zerr_t probe_freeze(const probe_env_t *, const probe_req_t *,
    Zond__V1__Outcome **, zdiag_t *);

#endif
