/*
 * quic.h — QUIC version 1 Initial packets as a client sends them and a
 * censor reads them: Initial keys from the Destination Connection ID
 * (RFC 9001 5.2), payload and header protection (5.3, 5.4; AES-128-GCM
 * and AES-128-ECB from OpenSSL's libcrypto), building a client Initial
 * that carries a ClientHello, opening one to get its CRYPTO data and
 * SNI back, and a Retry with its integrity tag (5.8) for a server that
 * answers an Initial without a handshake (zond-helper).
 *
 * Everything here is a pure function over bytes (no I/O, no globals)
 * and thread-safe.  Anyone can open a client Initial: its keys follow
 * from bytes in its own header, which is why a censor can read the SNI.
 */
#ifndef ZOND_QUIC_H
#define ZOND_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define QUIC_V1			0x00000001u
#define QUIC_CID_MAX		20	/* RFC 9000 17.2: v1 connection ids */
#define QUIC_INITIAL_MIN	1200	/* RFC 9000 14.1: client datagrams */
#define QUIC_TAG_LEN		16

typedef struct quic_keys {
	uint8_t key[16];	/* AEAD_AES_128_GCM */
	uint8_t iv[12];
	uint8_t hp[16];		/* header protection, AES-128-ECB */
} quic_keys_t;

typedef struct quic_hdr {
	uint32_t version;
	uint8_t dcid[QUIC_CID_MAX];
	size_t dcid_len;
	uint8_t scid[QUIC_CID_MAX];
	size_t scid_len;
	uint32_t pn;		/* packet number (sent in 4 bytes) */
} quic_hdr_t;

/* Initial keys of the client (server false) or server side for a
 * client's Destination Connection ID.  ZE_CRYPTO if libcrypto fails. */
zerr_t quic_initial_keys(const uint8_t *dcid, size_t dcid_len, bool server,
    quic_keys_t *k, zdiag_t *d) ZWUR;

/*
 * Protect the packet in pkt[0..hdr_len + plain_len): the header (its
 * last pn_len bytes the packet number) followed by the plaintext
 * payload; the tag is written after it, so pkt must have room for
 * hdr_len + plain_len + 16 bytes.  Long headers only.  Needs at least
 * 4 - pn_len + 16 bytes of payload for the header-protection sample.
 */
zerr_t quic_protect(const quic_keys_t *k, uint8_t *pkt, size_t hdr_len,
    size_t pn_len, size_t plain_len, zdiag_t *d) ZWUR;

/*
 * A protected client Initial for h (version, ids, packet number) whose
 * payload is one CRYPTO frame at offset 0 carrying crypto[0..clen)
 * (a ClientHello), then PADDING frames so that the datagram is `size`
 * bytes (no padding when it is already longer).  Into out[cap]; *n gets
 * the length.  ZE_INVAL for ids over 20 bytes, ZE_TOOBIG when it does
 * not fit.
 */
zerr_t quic_client_initial(const quic_hdr_t *h, const uint8_t *crypto,
    size_t clen, size_t size, uint8_t *out, size_t cap, size_t *n,
    zdiag_t *d) ZWUR;

/* Why a datagram could not be opened (quic_strerror names them). */
enum {
	QUIC_E_SHORT = -1,	/* ends inside the header or payload */
	QUIC_E_NOT_LONG = -2,	/* short header or fixed bit clear */
	QUIC_E_VERSION = -3,	/* not version 1 */
	QUIC_E_NOT_INITIAL = -4,/* another long-header packet type */
	QUIC_E_CID = -5,	/* a connection id over 20 bytes */
	QUIC_E_DECRYPT = -6,	/* the AEAD tag does not verify */
	QUIC_E_FRAME = -7,	/* a frame other than PADDING, PING, ACK,
				 * CRYPTO, or a malformed one */
	QUIC_E_NO_CRYPTO = -8,	/* no CRYPTO data at offset 0 */
	QUIC_E_HELLO = -9,	/* CRYPTO data is not a ClientHello */
	QUIC_E_NO_SNI = -10,	/* the ClientHello names no server */
	QUIC_E_CAP = -11,	/* the SNI does not fit the caller's buffer */
	QUIC_E_CRYPTO = -12	/* libcrypto failed */
};

/* A constant text for a QUIC_E_* value ("ok" for 0). */
const char *quic_strerror(int e);

/*
 * Open the first packet of dgram[0..n), a client's version-1 Initial:
 * header into *h, and the CRYPTO data contiguous from offset 0 (the
 * frames of this one packet, in any order) into crypto[0..cap), its
 * length in *clen (data beyond cap is dropped).  0, or a QUIC_E_* value.
 */
int quic_initial_open(const uint8_t *dgram, size_t n, quic_hdr_t *h,
    uint8_t *crypto, size_t cap, size_t *clen);

/*
 * The SNI of the ClientHello in a client's version-1 Initial, into
 * sni[0..cap) NUL-terminated: 0 when found, else a QUIC_E_* value
 * saying why not.  For the lab's censor and zond-helper.
 */
int quic_initial_sni(const uint8_t *dgram, size_t n, char *sni, size_t cap);

/*
 * A Retry (RFC 9000 17.2.5) answering the client Initial whose header
 * is *client: to its SCID, from scid[0..scid_len), with token[0..tlen)
 * and the integrity tag over the client's original DCID (RFC 9001 5.8).
 */
zerr_t quic_retry(const quic_hdr_t *client, const uint8_t *scid,
    size_t scid_len, const uint8_t *token, size_t tlen, uint8_t *out,
    size_t cap, size_t *n, zdiag_t *d) ZWUR;

#endif
