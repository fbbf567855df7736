/*
 * resolve.h — how the agent found the address of a named target, and a
 * second opinion (docs/PROBES-TCP.md "Resolution").
 *
 * tcp, tls and http tests whose list row names no ip are tests of a
 * name: the agent asks the system resolver (what the user gets) and
 * records its addresses in a Resolution.  With [tests] doh_url set it
 * also asks the DoH resolver once, and when DoH names addresses of which
 * the system gave none, it runs the test once more to the first of them,
 * so a test of a name the system resolver forged or refused is
 * attributed to DNS, not to TCP or TLS.
 *
 * Memory: a Resolution and everything in it is malloc'd; release it with
 * zond__v1__resolution__free_unpacked(r, NULL).  Thread-safe (no state).
 */
#ifndef AGENT_RESOLVE_H
#define AGENT_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "probe.h"
#include "zond.pb-c.h"

#define RESOLVE_MAX_ADDRS 8	/* system[] and doh[] keep at most this */

/*
 * The name the agent resolves itself for req, into host: the host of a
 * tcp or tls "host[:port]" target or of an http URL, when req names no ip
 * and the host is not an address.  false otherwise (no Resolution).
 */
bool resolve_named(const probe_req_t *req, char *host, size_t len);

/*
 * Ask the system resolver (getaddrinfo, both families, stream) for host.
 * *out gets a new Resolution with name and system[] (distinct addresses
 * in the resolver's order, at most RESOLVE_MAX_ADDRS) or, when it gave
 * none, system_failure (EAI_NONAME: NXDOMAIN, EAI_AGAIN: TIMEOUT, other:
 * LOCAL) and a "system resolver: host: reason" text in why (at least 64
 * bytes).  ZE_NOMEM only when out of memory.
 */
zerr_t resolve_system(const char *host, Zond__V1__Resolution **out,
    char *why, size_t whylen) ZWUR;

/*
 * The second opinion for a test of req (as listed: ip NULL) whose
 * system resolution is r: nothing without env->doh_url; otherwise one DoH
 * query for r->name of the family of r->system[0] (A when the system gave
 * none) fills doh[] and doh_failure, and when DoH gave a routable address
 * and none of r->system is among its addresses, the test runs once more
 * to the first such address (control SNI left out) and alt_addr,
 * alt_failure and alt_us are filled.  ZE_NOMEM only when out of memory.
 */
zerr_t resolve_second(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Resolution *r) ZWUR;

#endif
