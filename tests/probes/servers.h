/*
 * servers.h — real servers on 127.0.0.1 that misbehave on purpose, for
 * the probe tests.  Each listens on port 0 (the kernel picks), runs in a
 * thread of the test process and serves until srv_stop().  They never
 * talk to any address but loopback.
 *
 * What they do is chosen by the request, so one server covers many cases:
 *   DNS (UDP), by query name:
 *     normal.test   A 192.0.2.10 / AAAA 2001:db8::10
 *     inject.test   A 10.10.34.34 at once, then A 192.0.2.11 50 ms later
 *     same2.test    A 192.0.2.12 twice (identical responses)
 *     bogon.test    A 10.1.2.3
 *     nx.test       NXDOMAIN      servfail.test  SERVFAIL
 *     refused.test  REFUSED       silent.test    nothing at all
 *     garbage.test  random bytes, then a response with another id, then
 *                   A 192.0.2.13
 *     dead.test     A 192.0.2.99 (no AAAA)
 *     forged.test   A 192.0.2.66 over UDP, A 192.0.2.10 over DoH (no AAAA)
 *     nxsys.test    NXDOMAIN over UDP, A 192.0.2.10 over DoH (no AAAA)
 *     v4.test       A 192.0.2.10 (no AAAA)
 *   TLS, by the SNI in the ClientHello:
 *     blocked.test  TCP reset (SO_LINGER 0) right after the ClientHello
 *     eof.test      clean close (FIN) right after the ClientHello
 *     slow.test     no answer until the client gives up
 *     wrong.test    handshake with a certificate for other.example
 *     any other     normal handshake (certificate for ok, control,
 *                   blocked, eof, slow, doh, forged, nxsys and v4.test),
 *                   then one HTTP/1.1 request: POST /dns-query (DoH,
 *                   answered like the DNS server) or GET (a small page)
 *   HTTP (plain TCP), by path:
 *     /ok           200 with <title>Zond test page</title>
 *     /block        200, the Russian blockpage text
 *     /lab          200, "Zond lab: access restricted"
 *     /redirect     302 to http://warning.rt.ru/?id=1
 *     /hop          302 to /hop2, which 302s to /ok
 *     /loop         302 to /loop (forever)
 *     /big          200 with 100000 bytes of body
 *     /blockreset   the blockpage, then a reset mid-body
 *     /reset        reset after reading the request
 *     /eof          clean close after reading the request
 *     /silent       no answer until the client gives up
 */
#ifndef TESTS_PROBES_SERVERS_H
#define TESTS_PROBES_SERVERS_H

#include <stdbool.h>

struct srv;

struct srv *srv_dns(void);
struct srv *srv_http(void);
/* TLS server; writes the test CA certificate to a temporary file whose
 * path srv_ca_file() gives (removed by srv_stop). */
struct srv *srv_tls(void);
/* The DNS and TLS servers bound to ip:port (a namespace's address; port
 * 53 or 443 needs root); "::" is dual-stack. */
struct srv *srv_dns_at(const char *ip, int port);
struct srv *srv_tls_at(const char *ip, int port);
/* The same servers on [::1]. */
struct srv *srv_dns6(void);
struct srv *srv_http6(void);
struct srv *srv_tls6(void);
int srv_port(const struct srv *s);
const char *srv_ca_file(const struct srv *s);
/* Datagrams/connections handled so far. */
int srv_count(const struct srv *s);
void srv_stop(struct srv **s);

/* A 127.0.0.1 port with nothing listening (bound, then closed). */
int srv_closed_port(void);

/*
 * A listening socket whose accept queue is full (backlog 0, never
 * accepted, two connections already queued), so further SYNs are
 * dropped.  Returns the port and the fds to close in *fds (3 of them),
 * or -1 when the queue could not be filled.
 */
int srv_full_backlog(int fds[3]);

#endif
