/*
 * rules.h — zond-censor's rules file: one censorship rule per line.
 *
 *   # comment
 *   TYPE [key=value ...]
 *
 * TYPE is one of the scenario's censor rule types (docs/CENSOR.md has the
 * table of keys).  Parsing is pure (rules_parse works on a buffer, no I/O,
 * no globals) and every error names "file:line".  Names (sni, domain,
 * host) are stored lowercase without a trailing dot.  A ruleset holds at
 * most RULES_MAX rules; rule i keeps the line it came from for the logs
 * and the match counts.
 */
#ifndef ZOND_LAB_RULES_H
#define ZOND_LAB_RULES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RULES_MAX	256
#define RULES_MAX_FILE	(256 * 1024)
#define RULES_MAX_LINE	1024
#define RULES_MAX_PORTS	16
#define RULES_NAME_MAX	254	/* 253 characters of a DNS name + NUL */

enum rule_type {
	RT_IP_DROP,
	RT_TCP_RST,
	RT_UDP_DROP,
	RT_LOSS_PCT,
	RT_TCP_FREEZE,
	RT_SNI_RST,
	RT_SNI_DROP,
	RT_THROTTLE,
	RT_DNS_HIJACK,
	RT_DNS_NXDOMAIN,
	RT_DNS_INJECT,
	RT_HTTP_BLOCKPAGE,
	RT_QUIC_V1_DROP,
	RT_PROTO_DROP,
	RT_TCP_DROP,
	RT_UDP_CUTOFF,
	RT_QUIC_SNI,
	RT_TLS_FINGERPRINT,
	RT__COUNT
};

enum rule_proto { RP_NONE, RP_WIREGUARD, RP_OPENVPN };

struct port_range {
	uint16_t lo, hi;
};

struct rule {
	enum rule_type type;
	int line;			/* line in the rules file */
	bool has_ip;
	struct in_addr ip;		/* ip_drop tcp_rst udp_drop tcp_freeze
					   tcp_drop udp_cutoff */
	unsigned prefix;		/* ip's prefix length: 32, or less for
					   the types that take a CIDR prefix
					   (udp_drop tcp_drop udp_cutoff) */
	uint16_t port;			/* tcp_rst */
	size_t nports;			/* udp_drop tcp_drop udp_cutoff */
	struct port_range ports[RULES_MAX_PORTS];
	char name[RULES_NAME_MAX];	/* sni, domain or host */
	int shape;			/* tls_fingerprint: enum tls_shape */
	struct in_addr answer;		/* dns_hijack, dns_inject */
	uint32_t kbps;			/* throttle */
	uint64_t after_bytes;		/* tcp_freeze */
	uint32_t after_s;		/* udp_cutoff: 0, or seconds */
	uint32_t after_packets;		/* udp_cutoff: 0, or packets */
	unsigned pct;			/* loss_pct */
	enum rule_proto proto;		/* proto_drop */
};

struct ruleset {
	size_t n;
	struct rule r[RULES_MAX];
};

/* Parse text (len bytes, named fname in messages) into rs, replacing what
 * rs held.  Pure. */
zerr_t rules_parse(const char *fname, const char *text, size_t len,
    struct ruleset *rs, zdiag_t *d) ZWUR;

/* Read path (at most RULES_MAX_FILE bytes) and parse it. */
zerr_t rules_load(const char *path, struct ruleset *rs, zdiag_t *d) ZWUR;

/* The rule type's name as written in the file ("sni_rst"). */
const char *rules_type_name(enum rule_type t);

/* Does rule type t need packets read in userspace (NFQUEUE)? */
bool rules_type_userspace(enum rule_type t);

/* Is name equal to pattern or a subdomain of it ("a.b.example" matches
 * "b.example")?  Both lowercase, no trailing dot. */
bool rules_name_match(const char *pattern, const char *name);

/* Write rule r back as one rules-file line (no newline) into buf. */
void rules_format(const struct rule *r, char *buf, size_t len);

#endif
