/*
 * udp.h — what zond-helper answers to one UDP datagram.
 *
 * hu_answer() is a pure function over the datagram's bytes and the
 * sender's address: it classifies the datagram (STUN Binding Request,
 * QUIC long header, WireGuard handshake initiation, OpenVPN hard reset,
 * anything else) and builds the reply, if any.  No I/O, no globals, so it
 * is unit-tested and fuzzed directly.  Every UDP port of the helper runs
 * the same classifier, so a probe and its random-payload baseline can go
 * to the same port (docs/HELPER.md).
 *
 * Invariants: hu_answer never reads past in[n-1] nor writes past
 * out[cap-1]; a reply is at most HU_OUT_MAX bytes; datagrams that are
 * not understood are either echoed unchanged (the baseline) or dropped,
 * never answered with something larger than HU_OUT_MAX.
 */
#ifndef HELPER_UDP_H
#define HELPER_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HU_OUT_MAX	1500	/* largest reply; also the largest echo */
#define HU_RAND_LEN	96	/* random bytes a reply may consume */
#define HU_MAX_GROWTH	24	/* a reply exceeds its request by at most */

#define HU_STUN_COOKIE	0x2112A442u
#define HU_QUIC_V1	0x00000001u

enum hu_kind {
	HU_BAD,			/* malformed or unanswerable: counted */
	HU_IGNORED,		/* well-formed but needs no answer */
	HU_ECHO,		/* baseline: echoed unchanged */
	HU_STUN,		/* plain Binding Request */
	HU_STUN_WHATSAPP,	/* ... carrying attributes 0x4000-0x4007 */
	HU_STUN_TELEGRAM,	/* ... carrying a REALM naming telegram */
	HU_QUIC_VN,		/* unknown version: Version Negotiation */
	HU_QUIC_INITIAL,	/* version-1 Initial: small echo-style reply */
	HU_WIREGUARD,		/* handshake initiation -> response shape */
	HU_OPENVPN,		/* hard reset client v2 -> server v2 shape */
	HU_TURN_CHALLENGE,	/* TURN request without a valid credential:
				 * 401 with REALM and NONCE */
	HU_TURN_ALLOCATE,	/* authenticated Allocate -> success */
	HU_TURN_CHANNEL_BIND,	/* authenticated ChannelBind -> success */
	HU_CHANNEL_DATA,	/* TURN ChannelData: echoed unchanged */
	HU_RTP,			/* RTP v2, dynamic payload type: echoed */
	HU_QUIC_RETRY,		/* a real version-1 Initial (it decrypts with
				 * the keys of its DCID): a Retry */
	HU__COUNT
};

/*
 * The TURN long-term credential the helper accepts (docs/HELPER.md
 * "TURN"): Allocate and ChannelBind requests whose USERNAME is user and
 * whose MESSAGE-INTEGRITY was made with MD5(user:realm:password) are
 * answered with success; any other is answered 401 with the realm and a
 * fresh nonce.  Nonces are not remembered (the helper keeps no state per
 * client): a valid MESSAGE-INTEGRITY is what is checked.
 */
#define HU_TURN_USER		"zond"
#define HU_TURN_REALM		"zond"
#define HU_TURN_PASSWORD	"zond-call"
#define HU_TURN_LIFETIME	600	/* seconds, said in the Allocate answer */
#define HU_SOFTWARE		"zond-helper"

struct hu_turn {
	char user[64];
	char realm[64];
	uint8_t key[16];
};

/* Set t from the credential (NULLs: the defaults above). */
void hu_turn_init(struct hu_turn *t, const char *user, const char *realm,
    const char *password);

/*
 * Classify in[0..n) sent by peer and write the reply to out (cap bytes,
 * at least HU_OUT_MAX).  rnd holds HU_RAND_LEN fresh random bytes for
 * session ids and key-looking fields.  Returns the reply length, 0 when
 * nothing is to be sent; *kind says what the datagram was.
 */
size_t hu_answer(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t rnd[HU_RAND_LEN], uint8_t *out, size_t cap,
    enum hu_kind *kind);

/* The same with the TURN credential turn (NULL: the defaults). */
size_t hu_answer_turn(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t rnd[HU_RAND_LEN], const struct hu_turn *turn, uint8_t *out,
    size_t cap, enum hu_kind *kind);

/* Short name of a kind for logs and counters ("stun_whatsapp"). */
const char *hu_kind_name(enum hu_kind k);

#endif
