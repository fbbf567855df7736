/*
 * pkt.h — read the packets zond-censor is handed: IPv4 with TCP or UDP,
 * and the few application shapes its rules look for (TLS ClientHello SNI,
 * HTTP Host, DNS query, QUIC v1 Initial size, WireGuard and OpenVPN
 * handshakes).
 *
 * Every function is pure and bounded: it reads only the len bytes it is
 * given, never trusts a length field inside them, and answers "no" for
 * anything truncated or malformed.  None of them may crash on any input
 * (tests/censor fuzzes them with random and mutated packets).
 */
#ifndef ZOND_LAB_PKT_H
#define ZOND_LAB_PKT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_NAME_MAX 256

/* An IPv4 packet split into its headers.  Pointers point into the
 * caller's buffer. */
struct pkt {
	struct in_addr src, dst;
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, other */
	bool frag;		/* a fragment: headers past IP not read */
	uint16_t sport, dport;
	uint32_t seq, ack;	/* TCP */
	uint8_t tcp_flags;	/* TCP */
	const uint8_t *payload;	/* TCP/UDP payload */
	size_t plen;
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

/* Split an IPv4 packet.  False when it is not IPv4 or too short for the
 * headers it claims.  For protocols other than TCP/UDP, and fragments,
 * only the IP fields are set. */
bool pkt_parse(const uint8_t *p, size_t len, struct pkt *out);

/* The server name of a TLS ClientHello at the start of a TCP payload,
 * lowercased, into name (PKT_NAME_MAX).  Works on a ClientHello cut short
 * by the segment as long as the server_name extension is inside it. */
bool pkt_tls_sni(const uint8_t *p, size_t len, char *name, size_t namelen);

/* The Host header of an HTTP/1.x request at the start of a TCP payload,
 * lowercased, without a port. */
bool pkt_http_host(const uint8_t *p, size_t len, char *name, size_t namelen);

/* A DNS query (QR = 0, one question). */
struct dns_q {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype, qclass;
	size_t qend;		/* offset just past the question */
	char name[PKT_NAME_MAX];	/* lowercase, no trailing dot */
};
bool pkt_dns_query(const uint8_t *p, size_t len, struct dns_q *q);

/* UDP payload of at least 1001 bytes whose bytes 1..4 are 0x00000001. */
bool pkt_quic_v1_big(const uint8_t *p, size_t len);

/* WireGuard handshake initiation: 148 bytes, type 1, three zero bytes. */
bool pkt_wireguard_init(const uint8_t *p, size_t len);

/* OpenVPN P_CONTROL_HARD_RESET_CLIENT_V2 (or _V3) in a UDP datagram, or
 * in TCP with the 2-byte length framing when tcp is set. */
bool pkt_openvpn_reset(const uint8_t *p, size_t len, bool tcp);

#endif
