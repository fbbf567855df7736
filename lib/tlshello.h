/*
 * tlshello.h — TLS ClientHello: build one of a few named shapes, parse
 * one, and name the shape of a parsed one (docs/PROBES-TCP.md,
 * "ClientHello shapes", lists every byte each shape carries and where
 * the figures come from).
 *
 * Shapes:
 *   openssl  what Debian 12's OpenSSL 3.0 sends through libcurl (the tls
 *            probe's default); the figures were captured from a real
 *            handshake and a test checks them against the probe's own
 *            ClientHello (tests/probes/test_probe_tls.c);
 *   browser  Chromium-like (GREASE, Chromium's cipher order, extension
 *            set, ALPN h2 and http/1.1, compress_certificate, ALPS);
 *   quic     the ClientHello inside a QUIC Initial (TLS 1.3 only, ALPN
 *            h3, quic_transport_parameters, empty legacy session id).
 *
 * Builder and parser are pure functions over bytes (the builder's random
 * fields come from libsodium's randombytes_buf, which is thread-safe).
 * The parser never reads past its span: a hello cut short (a QUIC
 * Initial carrying only the first part of a long hello, a TCP segment)
 * parses as far as whole fields go and sets `truncated`.  Lists longer
 * than the arrays below keep their first entries and set `overflow`.
 */
#ifndef ZOND_TLSHELLO_H
#define ZOND_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum tls_shape {
	TLS_SHAPE_OPENSSL = 0,
	TLS_SHAPE_BROWSER,
	TLS_SHAPE_QUIC,
	TLS_SHAPE_OTHER			/* classification only */
};

#define TLS_HELLO_LIST	64		/* ciphers, extensions */
#define TLS_HELLO_SHORT	16		/* groups, key shares, versions */
#define TLS_HELLO_ALPN	8
#define TLS_HELLO_CAP	2048		/* any built hello fits */

/* Extension types the shapes use (IANA TLS ExtensionType Values). */
#define TLS_EXT_SNI		0
#define TLS_EXT_STATUS		5
#define TLS_EXT_GROUPS		10
#define TLS_EXT_POINTS		11
#define TLS_EXT_SIGALGS		13
#define TLS_EXT_ALPN		16
#define TLS_EXT_SCT		18
#define TLS_EXT_PADDING		21
#define TLS_EXT_ETM		22
#define TLS_EXT_EMS		23
#define TLS_EXT_COMPRESS_CERT	27
#define TLS_EXT_TICKET		35
#define TLS_EXT_VERSIONS	43
#define TLS_EXT_PSK_MODES	45
#define TLS_EXT_PHA		49
#define TLS_EXT_KEY_SHARE	51
#define TLS_EXT_QUIC_TP		57
#define TLS_EXT_ALPS		17513
#define TLS_EXT_RENEGO		65281

/* GREASE (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa. */
static inline bool
tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 12) == ((v >> 4) & 0x0f);
}

typedef struct tls_hello {
	uint16_t version;			/* legacy_version */
	uint8_t session_id_len;
	char sni[256];				/* host_name, "" when none */
	uint16_t ciphers[TLS_HELLO_LIST];
	size_t n_ciphers;
	uint16_t exts[TLS_HELLO_LIST];		/* types, in wire order */
	size_t n_exts;
	uint16_t groups[TLS_HELLO_SHORT];	/* supported_groups */
	size_t n_groups;
	uint16_t key_shares[TLS_HELLO_SHORT];	/* groups of the shares */
	size_t n_key_shares;
	uint16_t versions[TLS_HELLO_SHORT];	/* supported_versions */
	size_t n_versions;
	char alpn[TLS_HELLO_ALPN][32];		/* protocol names */
	size_t n_alpn;
	bool truncated;		/* the bytes ended inside the hello */
	bool overflow;		/* a list had more entries than kept */
} tls_hello_t;

/*
 * Parse a ClientHello handshake message (p[0] == 1, as in a QUIC CRYPTO
 * stream) into h.  ZE_PARSE with a message naming the field and its
 * byte offset when the bytes are not a ClientHello; a hello cut short
 * is no error (h->truncated).  ZE_TRUNC when not even the fixed part up
 * to the cipher suites is there.
 */
zerr_t tls_hello_parse(const uint8_t *p, size_t n, tls_hello_t *h,
    zdiag_t *d) ZWUR;

/*
 * The same from the first bytes a TLS client sends on TCP: handshake
 * records (content type 22), whose payloads are joined (up to
 * TLS_HELLO_CAP * 4 bytes) and parsed as above.
 */
zerr_t tls_hello_parse_record(const uint8_t *p, size_t n, tls_hello_t *h,
    zdiag_t *d) ZWUR;

/* Which of the shapes h is (rules in docs/PROBES-TCP.md), or OTHER. */
enum tls_shape tls_hello_shape(const tls_hello_t *h);

/* "openssl", "browser", "quic", "other". */
const char *tls_shape_name(enum tls_shape s);

/* The shape named name (not "other"); ZE_INVAL naming it otherwise. */
zerr_t tls_shape_parse(const char *name, enum tls_shape *s, zdiag_t *d)
	ZWUR;

typedef struct tls_hello_opts {
	enum tls_shape shape;		/* OPENSSL, BROWSER or QUIC */
	const char *sni;		/* NULL or "": no server_name */
	const char *alpn;		/* "h2,http/1.1"; NULL: the shape's */
	const uint8_t *quic_tp;		/* QUIC: transport parameters */
	size_t quic_tp_len;
} tls_hello_opts_t;

/*
 * Build a ClientHello of o->shape into out[cap]: the bare handshake
 * message, or with `record` inside one TLS record (for TCP).  *n gets
 * its length.  Random, session id and the x25519 key share are random
 * bytes (a server can still answer: any 32 bytes are an x25519 public
 * value).  ZE_INVAL for a bad SNI (empty label, over 253 bytes, a
 * character outside [A-Za-z0-9.-_]) or ALPN name (empty, over 31
 * bytes); ZE_TOOBIG when out is too small.
 */
zerr_t tls_hello_build(const tls_hello_opts_t *o, bool record, uint8_t *out,
    size_t cap, size_t *n, zdiag_t *d) ZWUR;

#endif
