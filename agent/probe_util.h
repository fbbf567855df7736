/*
 * probe_util.h — what all probes share: allocating outcomes, parsing
 * addresses, classifying socket errors into the failure taxonomy, and
 * timing.  Everything here is thread-safe.
 */
#ifndef AGENT_PROBE_UTIL_H
#define AGENT_PROBE_UTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "probe.h"
#include "zond.pb-c.h"

/* A new, initialised Outcome with failure FAIL_NONE and attempts 1;
 * NULL when out of memory. */
Zond__V1__Outcome *pu_outcome_new(void);

/* Set failure and a printf-style detail (replacing any earlier one). */
void pu_fail(Zond__V1__Outcome *o, Zond__V1__Failure f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* malloc'd copy of s (NULL stays NULL); aborts the process on ENOMEM is
 * not acceptable, so it returns NULL and callers treat it as ZE_NOMEM. */
char *pu_strdup(const char *s);

/* malloc'd printf. */
char *pu_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse "ip", "ip:port", "[v6]:port" or "v6" into ss.  defport is used
 * when the text has no port.  Only numeric addresses: probes never
 * resolve names behind the caller's back.
 */
zerr_t pu_parse_addr(const char *text, int defport,
    struct sockaddr_storage *ss, socklen_t *len, zdiag_t *d) ZWUR;

/* "ip:port" / "[v6]:port" text of an address into buf (64 bytes). */
const char *pu_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/*
 * Which side of the path an error came from (docs/METHODOLOGY.md "Local
 * faults and address families").  LOCAL: the agent's own host or its own
 * gateway (a call that failed at once, before anything left the host; an
 * ICMP error the agent's kernel made itself; "no route" from a neighbour
 * on the agent's own link).  REMOTE: an ICMP error from a router further
 * away, or an administrative prohibition from anywhere but the host.
 * UNKNOWN: the error came back later and nobody said from where.
 */
enum pu_side { PU_SIDE_UNKNOWN, PU_SIDE_LOCAL, PU_SIDE_REMOTE };

/*
 * The one map from an errno to the failure taxonomy, for every probe:
 * ECONNREFUSED -> REFUSED, ETIMEDOUT/EAGAIN -> TIMEOUT,
 * ECONNRESET/EPIPE/ECONNABORTED -> RESET; EPERM (the local firewall),
 * ENETDOWN, EADDRNOTAVAIL, EAFNOSUPPORT -> LOCAL whatever the side;
 * ENETUNREACH/EHOSTUNREACH/EACCES/EHOSTDOWN/ENONET -> LOCAL when side is
 * PU_SIDE_LOCAL, else UNREACHABLE; anything else -> LOCAL.
 */
Zond__V1__Failure pu_errno_failure(int err, enum pu_side side);

/* Where an address sits seen from the agent. */
#define PU_WHERE_AWAY	0	/* somewhere else */
#define PU_WHERE_LINK	1	/* on one of the agent's own subnets */
#define PU_WHERE_SELF	2	/* one of the agent's addresses, loopback */
int pu_addr_where(const struct sockaddr *a);

/*
 * The side of an ICMP error read with IP_RECVERR/IPV6_RECVERR: origin is
 * ee_origin (SO_EE_ORIGIN_*), type/code the ICMP ones, where
 * pu_addr_where(offender).  Made by the agent's kernel or sent by one of
 * its addresses -> LOCAL; "no route" (v4 net/host unreachable, unknown
 * net/host; v6 no route, address unreachable) from a neighbour on the
 * agent's link (its gateway) -> LOCAL; anything else -> REMOTE.  Pure.
 */
enum pu_side pu_icmp_side(int origin, int type, int code, int where);

/* One error from a socket's error queue (IP_RECVERR/IPV6_RECVERR). */
struct pu_icmp {
	int origin;			/* ee_origin: SO_EE_ORIGIN_* */
	int type, code;			/* the ICMP ones */
	struct sockaddr_storage off;	/* the offender; family 0: none */
};

/* Take one message off fd's error queue (never blocks): 1 with an
 * IP/IPv6 error read into *e, 0 a message without one, -1 nothing
 * queued. */
int pu_errqueue_read(int fd, struct pu_icmp *e);

/* The side of the first ICMP error queued on fd (a socket with
 * IP_RECVERR/IPV6_RECVERR), taken off the queue; UNKNOWN when none. */
enum pu_side pu_errqueue_side(int fd);

#define PU_SIDE_WAIT_MS 3500	/* neighbour resolution gives up in ~3 s */

/*
 * Who says sa is unreachable?  For errors that carry no sender (TCP has
 * no error queue; libcurl passes on the errno only): a connected UDP
 * socket with IP_RECVERR to sa, one 1-byte datagram, and up to
 * min(timeout_ms, PU_SIDE_WAIT_MS) for an ICMP error.  A route lookup or
 * send refused at once -> LOCAL; a queued error -> pu_icmp_side; nothing
 * -> UNKNOWN.  Sends one datagram to sa; blocks for the wait.
 */
enum pu_side pu_unreach_side(const struct sockaddr *sa, socklen_t len,
    int64_t timeout_ms);

/*
 * Non-blocking connect with a timeout.  Returns a connected socket or -1
 * with *fail set (REFUSED, TIMEOUT, UNREACHABLE, LOCAL) and *err the errno.
 * *elapsed_us gets the connect time.
 */
int pu_connect(const struct sockaddr *sa, socklen_t len, int type,
    int64_t timeout_ms, Zond__V1__Failure *fail, int *err,
    int64_t *elapsed_us);

/* Wait until fd is readable (events POLLIN) or writable (POLLOUT) within
 * timeout_ms.  Returns 1 ready, 0 timeout, -1 error (errno set). */
int pu_wait(int fd, short events, int64_t timeout_ms);

/*
 * Map a libcurl result to the failure taxonomy.  os_errno is
 * CURLINFO_OS_ERRNO, errbuf the CURLOPT_ERRORBUFFER text ("" if none):
 * libcurl does not always carry the errno of a reset through, so the
 * OpenSSL/socket text is read as well.  CURLE_OK -> NONE; timeouts ->
 * TIMEOUT; connect errors by errno and side (pu_errno_failure); a reset
 * -> RESET; a clean close (no reply, TLS unexpected EOF) -> EOF;
 * certificate problems -> CERT_INVALID; other TLS errors -> TLS_ERROR;
 * HTTP protocol errors -> HTTP_ERROR; anything else -> LOCAL.
 */
Zond__V1__Failure pu_curl_failure(int curlcode, long os_errno,
    const char *errbuf, enum pu_side side);

/* The last address an easy handle opened a socket for (len 0: none). */
struct pu_curl_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Make curl (a CURL *) note in *a the address of each socket it opens
 * (CURLOPT_OPENSOCKETFUNCTION); *a must outlive the transfer.  Also makes
 * it check certificates at aclock_cert_time_us (CURLOPT_SSL_CTX_FUNCTION):
 * the aggregator's time once the agent knows it. */
void pu_curl_track(void *curl, struct pu_curl_addr *a);

/*
 * pu_curl_failure for a finished easy handle (CURL *) tracked with
 * pu_curl_track: *os_errno gets CURLINFO_OS_ERRNO; a connect that failed
 * "unreachable" is checked with pu_unreach_side against the address
 * curl tried (side UNKNOWN when it opened none).
 */
Zond__V1__Failure pu_curl_result(void *curl, const struct pu_curl_addr *a,
    int curlcode, const char *errbuf, long *os_errno, int64_t timeout_ms);

/*
 * DNS message helpers shared by the dns and doh probes; defined in
 * probe_dns.c.  Packets are built and parsed with ldns only.
 */
struct fpdb;

/* The query type req asks for: *aaaa false for A (no variant or "A"),
 * true for "AAAA" (any case); anything else is ZE_INVAL, "<probe>:
 * variant '...' is not A or AAAA". */
zerr_t pu_dns_qtype(const probe_req_t *req, const char *probe, bool *aaaa,
    zdiag_t *d) ZWUR;

/* A new outcome of test t (dns or doh) whose DNS message names the query
 * (name, A or AAAA); NULL when out of memory. */
Zond__V1__Outcome *pu_dns_outcome(Zond__V1__TestKind t, const char *name,
    bool aaaa);

/* Wire bytes of a query for name (A, or AAAA when aaaa) with id and RD
 * set; *wire is malloc'd (caller frees). */
zerr_t pu_dns_query(const char *name, bool aaaa, uint16_t id,
    uint8_t **wire, size_t *n, zdiag_t *d) ZWUR;

/* Decode p[0..n) as the answer to (name, A/AAAA, id).  Returns 1 and a
 * new *resp (rcode and answers filled; caller sets arrival_us and from),
 * 0 when the bytes are not a response to that query (garbage, other id,
 * other question), -1 when out of memory. */
int pu_dns_response(const uint8_t *p, size_t n, const char *name,
    bool aaaa, uint16_t id, Zond__V1__DnsResponse **resp);

/*
 * One TLS handshake and nothing else (no request, no body): to ip:port
 * with SNI sni, the certificate verified for sni against env->ca_file or
 * the system store, bounded by timeout_ms.  The failure mapping is the
 * tls probe's.  Defined in probe_tls.c.
 */
struct pu_tls_result {
	Zond__V1__Failure fail;
	bool has_hs;		/* the handshake completed */
	uint32_t hs_us;		/* TCP connected to handshake done */
	bool has_cert;		/* a certificate was seen */
	bool cert_valid;	/* ... and it is valid for sni */
};
zerr_t pu_tls_handshake(const probe_env_t *env, const char *sni,
    const char *ip, int port, int64_t timeout_ms, struct pu_tls_result *r,
    zdiag_t *d) ZWUR;

/* Is addr (text) in private, loopback, link-local or reserved space? */
bool pu_dns_bogon(const char *addr);

/* Set o's failure from the responses in o->dns: TIMEOUT when none,
 * MULTIPLE_RESPONSES when they differ, BOGON, then the rcode of the first
 * (NXDOMAIN, SERVFAIL, DNS_REFUSED, other: BAD_RESPONSE).  garbage is
 * the count of datagrams that did not answer the query; it goes in the
 * detail, as does the name of a DNS fingerprint an answer matches.
 * Returns ZE_NOMEM when the detail cannot be allocated. */
zerr_t pu_dns_classify(Zond__V1__Outcome *o, const struct fpdb *fp,
    unsigned garbage) ZWUR;

/*
 * A new outcome (as pu_outcome_new) that holds the empty per-test message
 * of test t (o->dns, o->tcp, ... as pu_outcome_shape gives); NULL when out
 * of memory.
 */
Zond__V1__Outcome *pu_outcome_for(Zond__V1__TestKind t);

/*
 * The end every probe shares.  When o is NULL or ok is false (something
 * could not be allocated), o is freed and the result is ZE_NOMEM with
 * "<probe>: out of memory".  Otherwise f other than FAIL_NONE goes into o
 * with detail, *out takes o and the result is ZE_OK.
 */
zerr_t pu_finish(Zond__V1__Outcome *o, bool ok, Zond__V1__Failure f,
    const char *detail, const char *probe, Zond__V1__Outcome **out,
    zdiag_t *d) ZWUR;

/*
 * Give an outcome that has no per-test message (the test never reached
 * its probe, e.g. the name did not resolve) the empty message of test t,
 * so every measurement of a test has the same shape.
 */
zerr_t pu_outcome_shape(Zond__V1__Outcome *o, Zond__V1__TestKind t) ZWUR;

#endif
