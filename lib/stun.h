/*
 * stun.h — the messages of a call as the call test and zond-helper speak
 * them: STUN/TURN (RFC 5389, RFC 8656) requests and responses, TURN
 * ChannelData, and the RTP header (RFC 3550) of the media inside.
 *
 * Pure functions over bytes: no I/O, no globals, so each is unit-tested
 * and fuzzed.  Builders never write past the buffer (a message that does
 * not fit is reported, never truncated); parsers check every length
 * before reading what it covers and refuse, with a reason, what is not
 * the protocol.  Thread-safe.
 */
#ifndef ZOND_STUN_H
#define ZOND_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HDR		20
#define STUN_COOKIE		0x2112A442u
#define STUN_TID_LEN		12
#define STUN_KEY_LEN		16	/* MD5 of user:realm:password */
#define STUN_MSG_MAX		1500	/* largest message signed or checked */
#define STUN_TEXT_MAX		128	/* longest REALM/NONCE/SOFTWARE kept */

/* methods (RFC 5389 18.1, RFC 8656 18) */
#define STUN_BINDING		0x0001
#define STUN_ALLOCATE		0x0003
#define STUN_CHANNEL_BIND	0x0009
/* classes, or'ed into a method */
#define STUN_SUCCESS		0x0100
#define STUN_ERROR		0x0110

/* attributes */
#define STUN_A_MAPPED		0x0001
#define STUN_A_USERNAME		0x0006
#define STUN_A_INTEGRITY	0x0008
#define STUN_A_ERROR_CODE	0x0009
#define STUN_A_CHANNEL		0x000C
#define STUN_A_LIFETIME		0x000D
#define STUN_A_XOR_PEER		0x0012
#define STUN_A_REALM		0x0014
#define STUN_A_NONCE		0x0015
#define STUN_A_XOR_RELAYED	0x0016
#define STUN_A_TRANSPORT	0x0019
#define STUN_A_XOR_MAPPED	0x0020
#define STUN_A_SOFTWARE		0x8022

#define STUN_CHANNEL_MIN	0x4000	/* RFC 8656 12 */
#define STUN_CHANNEL_MAX	0x4FFF
#define STUN_CHANDATA_HDR	4

#define RTP_HDR			12
#define RTP_PT_OPUS		111	/* the dynamic type WebRTC gives Opus */

/* A message being built in a caller's buffer. */
typedef struct stun_w {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
} stun_w_t;

/* Start a message of type with transaction id tid in buf (cap bytes). */
void stun_w_init(stun_w_t *w, uint8_t *buf, size_t cap, uint16_t type,
    const uint8_t tid[STUN_TID_LEN]);
/* Append one attribute, padded to 4 bytes. */
void stun_w_attr(stun_w_t *w, uint16_t type, const void *val, size_t len);
/* An XOR-MAPPED-style address attribute (family from len: 4 or 16). */
void stun_w_xaddr(stun_w_t *w, uint16_t type, const uint8_t *addr,
    size_t alen, uint16_t port);
/* ERROR-CODE with its reason phrase. */
void stun_w_error(stun_w_t *w, unsigned code, const char *reason);
/* MESSAGE-INTEGRITY (HMAC-SHA1 with key) over the message so far; must
 * be the last attribute. */
void stun_w_integrity(stun_w_t *w, const uint8_t key[STUN_KEY_LEN]);
/* The finished length, 0 when it did not fit. */
size_t stun_w_end(const stun_w_t *w);

/* The long-term credential key, MD5(user ":" realm ":" password). */
void stun_lt_key(const char *user, const char *realm, const char *password,
    uint8_t key[STUN_KEY_LEN]);

/* What a parsed message says.  Texts are NUL-terminated copies, cut at
 * STUN_TEXT_MAX - 1 bytes. */
struct stun_msg {
	uint16_t type;
	uint8_t tid[STUN_TID_LEN];
	unsigned error_code;		/* 0: no ERROR-CODE */
	bool has_realm, has_nonce, has_software, has_username;
	char realm[STUN_TEXT_MAX];
	char nonce[STUN_TEXT_MAX];
	char software[STUN_TEXT_MAX];
	char username[STUN_TEXT_MAX];
	int mapped_family;		/* 0 none, 4, 6: (XOR-)MAPPED-ADDRESS */
	int relayed_family;		/* XOR-RELAYED-ADDRESS */
	bool has_channel;
	uint16_t channel;
	bool has_transport;
	uint8_t transport;		/* REQUESTED-TRANSPORT protocol */
	size_t integrity_off;		/* 0: no MESSAGE-INTEGRITY */
};

/*
 * Parse p[0..n) as one STUN message (header, cookie, length, attributes
 * and their address families).  0 and *m filled, or -1 with why.
 */
int stun_parse(const uint8_t *p, size_t n, struct stun_msg *m, char *why,
    size_t wlen);

/* Is MESSAGE-INTEGRITY of the parsed message p[0..n) right for key?
 * false when it has none.  Constant-time comparison. */
bool stun_integrity_ok(const uint8_t *p, size_t n, const struct stun_msg *m,
    const uint8_t key[STUN_KEY_LEN]);

/* Does p[0..n) look like STUN (top bits 00, magic cookie)? */
bool stun_is(const uint8_t *p, size_t n);

/* ChannelData: channel number, length, data (no padding over UDP).
 * Returns the length written, 0 when it does not fit. */
size_t stun_chandata_build(uint8_t *out, size_t cap, uint16_t channel,
    const uint8_t *data, size_t len);
/* 0 with *channel, *data, *len, or -1 (not ChannelData, bad length). */
int stun_chandata_parse(const uint8_t *p, size_t n, uint16_t *channel,
    const uint8_t **data, size_t *len);

/* An RTP header (version 2, no padding, extension or CSRC). */
struct rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
};
/* Header h then payload_len bytes of pay (NULL: zeros) into out. */
size_t rtp_build(uint8_t *out, size_t cap, const struct rtp_hdr *h,
    const uint8_t *pay, size_t payload_len);
/* 0 with *h, or -1 (short, not version 2, CSRC count past the end). */
int rtp_parse(const uint8_t *p, size_t n, struct rtp_hdr *h);

#endif
