/*
 * probe_call.h — what the call test's files share (probe_call.c: the
 * probe, relay and flow; probe_call_path.c: the path variant).  Internal
 * to the agent; docs/PROBES-UDP.md "call" describes the test.
 */
#ifndef AGENT_PROBE_CALL_H
#define AGENT_PROBE_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe.h"

#define CALL_PAYLOAD		160	/* 20 ms of Opus at 64 kbit/s */
#define CALL_DEF_TTL		16
#define CALL_NEUTRAL_PORT	33434	/* traceroute's: no call service's */
#define CALL_HOP_WAIT_MS	1000	/* per TTL and try, or timeout_ms */
#define CALL_SERIES		5

/* A non-blocking UDP socket of family with IP_RECVERR; -1 with errno. */
int call_udp_socket(int family);
/* poll's timeout from now until wake (us), in 0..1000 ms. */
int call_wait_ms(int64_t now, int64_t wake);
/* A new leg of c (dest x payload at port); NULL when out of memory. */
Zond__V1__CallLeg *call_leg_add(Zond__V1__CallOutcome *c, const char *dest,
    const char *payload, int port);
/* Set the port of an IPv4 or IPv6 address. */
void call_set_port(struct sockaddr_storage *ss, int port);

/*
 * The path variant: the series to the service svc (and, hlp not NULL,
 * to the helper) on port; legs into c, the failure and its detail into
 * *f and detail.  false when out of memory.
 */
bool call_path(const probe_env_t *env, struct sockaddr_storage *svc,
    socklen_t sl, struct sockaddr_storage *hlp, socklen_t hl, int port,
    Zond__V1__CallOutcome *c, Zond__V1__Failure *f, char *detail,
    size_t dlen);

#endif
