/*
 * forge.h — build the packets zond-censor injects: TCP segments (RST, or
 * data with FIN for the blockpage), UDP datagrams, and DNS answers.
 *
 * Pure: each function writes into the caller's buffer of cap bytes and
 * returns the length written, or 0 when it does not fit.  IPv4 headers
 * and TCP/UDP checksums are filled in, so the result goes straight to a
 * raw IPPROTO_RAW socket.
 */
#ifndef ZOND_LAB_FORGE_H
#define ZOND_LAB_FORGE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define FORGE_MAX 1500

size_t forge_tcp(uint8_t *buf, size_t cap, struct in_addr src,
    struct in_addr dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, const uint8_t *data, size_t dlen);

size_t forge_udp(uint8_t *buf, size_t cap, struct in_addr src,
    struct in_addr dst, uint16_t sport, uint16_t dport, const uint8_t *data,
    size_t dlen);

/* A DNS response to query (qlen bytes, already read into q): the query's
 * id, RD bit and question; rcode; and, when a is not NULL and the
 * question asks for A/IN, one A record with a (TTL 60).  Other types get
 * an empty answer section. */
size_t forge_dns_answer(uint8_t *buf, size_t cap, const uint8_t *query,
    const struct dns_q *q, unsigned rcode, const struct in_addr *a);

/* The blockpage's HTTP response, NUL-terminated in buf; returns its
 * length without the NUL, 0 if cap is too small. */
size_t forge_blockpage(char *buf, size_t cap, const char *host);

#define FORGE_BLOCKPAGE_TEXT "Zond lab: access restricted"

#endif
