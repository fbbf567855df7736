/*
 * udp.c — classify one datagram and build zond-helper's reply (udp.h).
 *
 * Shapes (docs/HELPER.md has the byte layouts):
 *   STUN      RFC 5389 Binding Request -> Binding Success Response with
 *             XOR-MAPPED-ADDRESS and the request's transaction id.
 *   QUIC      long header: a real version-1 Initial (it decrypts with
 *             the Initial keys of its DCID, RFC 9001 5.2) -> a Retry
 *             to its SCID with a valid integrity tag (lib/quic.c);
 *             any other version-1 Initial -> a small version-1 long
 *             header reply with the connection ids swapped; any other
 *             non-zero version in a datagram of at least 1200 bytes ->
 *             Version Negotiation (RFC 9000 17.2.1) listing version 1.
 *   WireGuard 148-byte handshake initiation -> 92-byte response shape.
 *   OpenVPN   P_CONTROL_HARD_RESET_CLIENT_V2 -> HARD_RESET_SERVER_V2.
 *   TURN      Allocate / ChannelBind (RFC 8656) -> 401 with REALM and
 *             NONCE, or success when the long-term credential is right;
 *             ChannelData is echoed unchanged like the baseline.
 *   RTP       version 2 (first bits 10), dynamic payload type 96-127,
 *             at least 12 bytes -> echoed unchanged (the call test's
 *             path datagram on the media ports).
 *   anything else whose first byte is below 0x80 -> echoed unchanged.
 * Every length is checked before the bytes it covers are read.
 */
#include "udp.h"

#include <netinet/in.h>
#include <string.h>

#include <stdio.h>

#include "bytes.h"
#include "quic.h"
#include "stun.h"

#define STUN_BINDING_REQ	0x0001
#define STUN_BINDING_OK		0x0101
#define STUN_XOR_MAPPED		0x0020
#define STUN_REALM		0x0014

#define QUIC_MIN_VN_PROBE	1200	/* RFC 9000 14.1: smallest Initial */
#define QUIC_V1_MAX_CID		20

#define WG_INIT_LEN		148
#define WG_RESP_LEN		92

#define OVPN_HARD_RESET_CLIENT_V2	7
#define OVPN_HARD_RESET_SERVER_V2	8
#define OVPN_CLIENT_MIN		14	/* op, session id, no acks, packet id */
#define OVPN_SERVER_LEN		26

/* Case-insensitive search for the ASCII word "telegram" in p[0..n). */
static int
names_telegram(const uint8_t *p, size_t n)
{
	static const char w[] = "telegram";
	size_t i, j, wl = sizeof(w) - 1;

	for (i = 0; i + wl <= n; i++) {
		for (j = 0; j < wl; j++) {
			uint8_t c = p[i + j];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (c != (uint8_t)w[j])
				break;
		}
		if (j == wl)
			return 1;
	}
	return 0;
}

/* Is in[0..n) a STUN message (RFC 5389 6: top bits 00, magic cookie)? */
static int
is_stun(const uint8_t *in, size_t n)
{
	return n >= STUN_HDR && (in[0] & 0xc0) == 0 &&
	    be32_get(in + 4) == HU_STUN_COOKIE;
}

void
hu_turn_init(struct hu_turn *t, const char *user, const char *realm,
    const char *password)
{
	snprintf(t->user, sizeof(t->user), "%s", user ? user : HU_TURN_USER);
	snprintf(t->realm, sizeof(t->realm), "%s",
	    realm ? realm : HU_TURN_REALM);
	stun_lt_key(t->user, t->realm, password ? password : HU_TURN_PASSWORD,
	    t->key);
}

/* The peer's address bytes (4 or 16) and port; 0 when not IP. */
static size_t
peer_addr(const struct sockaddr *peer, const uint8_t **addr, uint16_t *port)
{
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)peer;
		*addr = (const uint8_t *)&s4->sin_addr;
		*port = ntohs(s4->sin_port);
		return 4;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		*addr = s6->sin6_addr.s6_addr;
		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*addr += 12;
			return 4;
		}
		return 16;
	}
	return 0;
}

/*
 * A TURN Allocate or ChannelBind request (in[0..n), already checked as
 * STUN with sound attribute lengths).  Without a valid credential: 401
 * with REALM, a NONCE from rnd and SOFTWARE.  With one: Allocate ->
 * success with XOR-RELAYED-ADDRESS (the peer's own address: the helper
 * relays nothing, it echoes), XOR-MAPPED-ADDRESS and LIFETIME;
 * ChannelBind of a valid channel number -> success; else 400.
 */
static size_t
turn_answer(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t *rnd, const struct hu_turn *turn, uint8_t *out, size_t cap,
    enum hu_kind *kind)
{
	static const char hex[] = "0123456789abcdef";
	struct stun_msg m;
	stun_w_t w;
	char why[128], nonce[33];
	const uint8_t *addr;
	uint16_t port, method = be16_get(in) & 0x3eef;
	size_t alen, i;
	uint8_t lt[4];

	*kind = HU_BAD;
	if (stun_parse(in, n, &m, why, sizeof(why)) != 0 ||
	    (alen = peer_addr(peer, &addr, &port)) == 0)
		return 0;
	if (m.integrity_off == 0 || !m.has_username ||
	    strcmp(m.username, turn->user) != 0 ||
	    !stun_integrity_ok(in, n, &m, turn->key)) {
		for (i = 0; i < 16; i++) {
			nonce[2 * i] = hex[rnd[i] >> 4];
			nonce[2 * i + 1] = hex[rnd[i] & 15];
		}
		nonce[32] = '\0';
		stun_w_init(&w, out, cap, (uint16_t)(method | STUN_ERROR),
		    m.tid);
		stun_w_error(&w, 401, "Unauthorized");
		stun_w_attr(&w, STUN_A_REALM, turn->realm,
		    strlen(turn->realm));
		stun_w_attr(&w, STUN_A_NONCE, nonce, 32);
		stun_w_attr(&w, STUN_A_SOFTWARE, HU_SOFTWARE,
		    sizeof(HU_SOFTWARE) - 1);
		*kind = HU_TURN_CHALLENGE;
		return stun_w_end(&w);
	}
	if (method == STUN_ALLOCATE) {
		if (!m.has_transport || m.transport != IPPROTO_UDP) {
			stun_w_init(&w, out, cap, STUN_ALLOCATE | STUN_ERROR,
			    m.tid);
			stun_w_error(&w, m.has_transport ? 442 : 400,
			    m.has_transport ? "Unsupported Transport Protocol"
			    : "Bad Request");
			stun_w_integrity(&w, turn->key);
			return stun_w_end(&w);
		}
		be32_put(lt, HU_TURN_LIFETIME);
		stun_w_init(&w, out, cap, STUN_ALLOCATE | STUN_SUCCESS, m.tid);
		stun_w_xaddr(&w, STUN_A_XOR_RELAYED, addr, alen, port);
		stun_w_attr(&w, STUN_A_LIFETIME, lt, 4);
		stun_w_xaddr(&w, STUN_A_XOR_MAPPED, addr, alen, port);
		stun_w_attr(&w, STUN_A_SOFTWARE, HU_SOFTWARE,
		    sizeof(HU_SOFTWARE) - 1);
		stun_w_integrity(&w, turn->key);
		*kind = HU_TURN_ALLOCATE;
		return stun_w_end(&w);
	}
	if (!m.has_channel || m.channel < STUN_CHANNEL_MIN ||
	    m.channel > STUN_CHANNEL_MAX) {
		stun_w_init(&w, out, cap, STUN_CHANNEL_BIND | STUN_ERROR, m.tid);
		stun_w_error(&w, 400, "Bad Request");
		stun_w_integrity(&w, turn->key);
		return stun_w_end(&w);
	}
	stun_w_init(&w, out, cap, STUN_CHANNEL_BIND | STUN_SUCCESS, m.tid);
	stun_w_integrity(&w, turn->key);
	*kind = HU_TURN_CHANNEL_BIND;
	return stun_w_end(&w);
}

static size_t
stun_answer(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t *rnd, const struct hu_turn *turn, uint8_t *out, size_t cap,
    enum hu_kind *kind)
{
	size_t off, alen;
	int whatsapp = 0, telegram = 0;
	const uint8_t *addr;
	uint16_t port;
	int v6;

	*kind = HU_BAD;
	if ((size_t)be16_get(in + 2) != n - STUN_HDR || (n - STUN_HDR) % 4 != 0)
		return 0;
	for (off = STUN_HDR; off < n; off += 4 + ((alen + 3) & ~(size_t)3)) {
		uint16_t t;
		if (n - off < 4)
			return 0;
		t = be16_get(in + off);
		alen = be16_get(in + off + 2);
		if (((alen + 3) & ~(size_t)3) > n - off - 4)
			return 0;
		if (t >= 0x4000 && t <= 0x4007)
			whatsapp = 1;
		if (t == STUN_REALM && names_telegram(in + off + 4, alen))
			telegram = 1;
	}
	if (be16_get(in) == STUN_ALLOCATE ||
	    be16_get(in) == STUN_CHANNEL_BIND) {
		size_t r = turn_answer(in, n, peer, rnd, turn, out, cap, kind);
		if (r > n + HU_MAX_GROWTH) {
			/* no amplification: a TURN client that wants an
			 * answer pads its request (SOFTWARE) */
			*kind = HU_IGNORED;
			return 0;
		}
		return r;
	}
	if (be16_get(in) != STUN_BINDING_REQ) {
		*kind = HU_IGNORED;	/* indications, responses: no answer */
		return 0;
	}
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)peer;
		addr = (const uint8_t *)&s4->sin_addr;
		port = ntohs(s4->sin_port);
		v6 = 0;
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		addr = s6->sin6_addr.s6_addr;
		port = ntohs(s6->sin6_port);
		v6 = !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
		if (!v6)
			addr += 12;
	} else {
		return 0;
	}
	alen = v6 ? 20 : 8;	/* reserved, family, port, address */
	if (cap < STUN_HDR + 4 + alen)
		return 0;
	be16_put(out, STUN_BINDING_OK);
	be16_put(out + 2, (uint16_t)(4 + alen));
	memcpy(out + 4, in + 4, 16);	/* cookie and transaction id */
	be16_put(out + 20, STUN_XOR_MAPPED);
	be16_put(out + 22, (uint16_t)alen);
	out[24] = 0;
	out[25] = v6 ? 0x02 : 0x01;
	be16_put(out + 26, (uint16_t)(port ^ (HU_STUN_COOKIE >> 16)));
	for (off = 0; off < (v6 ? 16u : 4u); off++)	/* cookie || tid */
		out[28 + off] = addr[off] ^ in[4 + off];
	*kind = telegram ? HU_STUN_TELEGRAM : whatsapp ? HU_STUN_WHATSAPP :
	    HU_STUN;
	return STUN_HDR + 4 + alen;
}

/*
 * A Retry (RFC 9000 17.2.5) for in[0..n) if it is a real client Initial
 * carrying CRYPTO data: from a random 8-byte SCID, with a random 16-byte
 * token, tagged for the Initial's DCID.  The helper never completes a
 * handshake: a client that sends the Initial again with the token gets
 * another Retry, which it must discard (RFC 9000 17.2.5.2), so the
 * exchange proves the path and nothing more.  0 when it is not one.
 */
static size_t
quic_real_initial(const uint8_t *in, size_t n, const uint8_t *rnd,
    uint8_t *out, size_t cap)
{
	uint8_t crypto[2048];
	quic_hdr_t h;
	size_t clen, len = 0;

	if (quic_initial_open(in, n, &h, crypto, sizeof(crypto), &clen) != 0
	    || quic_retry(&h, rnd + 32, 8, rnd + 40, 16, out, cap, &len,
	    NULL) != ZE_OK)
		return 0;
	return len;
}

static size_t
quic_answer(const uint8_t *in, size_t n, const uint8_t *rnd, uint8_t *out,
    size_t cap, enum hu_kind *kind)
{
	const uint8_t *dcid, *scid;
	size_t dcil, scil, o;
	uint32_t version;

	*kind = HU_BAD;
	if (n < 7)
		return 0;
	version = be32_get(in + 1);
	dcil = in[5];
	if (n - 6 < dcil + 1)
		return 0;
	dcid = in + 6;
	scil = in[6 + dcil];
	if (n - 7 - dcil < scil)
		return 0;
	scid = in + 7 + dcil;
	if (version == 0) {
		*kind = HU_IGNORED;	/* never answer a VN: no loops */
		return 0;
	}
	if (version == HU_QUIC_V1) {
		if (dcil > QUIC_V1_MAX_CID || scil > QUIC_V1_MAX_CID ||
		    (in[0] & 0x40) == 0)
			return 0;
		if ((in[0] & 0x30) != 0) {	/* 0-RTT, Handshake, Retry */
			*kind = HU_IGNORED;
			return 0;
		}
		if ((o = quic_real_initial(in, n, rnd, out, cap)) > 0) {
			*kind = HU_QUIC_RETRY;
			return o;
		}
		/* Long header, version 1, ids swapped, token length 0,
		 * Length 17 (2-byte varint), a 1-byte packet number and
		 * 16 bytes that look encrypted. */
		if (cap < 1 + 4 + 1 + scil + 1 + dcil + 1 + 2 + 17)
			return 0;
		o = 0;
		out[o++] = 0xc0;
		be32_put(out + o, HU_QUIC_V1);
		o += 4;
		out[o++] = (uint8_t)scil;
		memcpy(out + o, scid, scil);
		o += scil;
		out[o++] = (uint8_t)dcil;
		memcpy(out + o, dcid, dcil);
		o += dcil;
		out[o++] = 0;
		be16_put(out + o, 0x4000 | 17);
		o += 2;
		out[o++] = 0;
		memcpy(out + o, rnd, 16);
		o += 16;
		*kind = HU_QUIC_INITIAL;
		return o;
	}
	if (n < QUIC_MIN_VN_PROBE) {
		/* RFC 9000 6.1: no VN for datagrams a client could not have
		 * sent as a first Initial; also keeps replies smaller than
		 * requests. */
		*kind = HU_IGNORED;
		return 0;
	}
	if (cap < 1 + 4 + 1 + scil + 1 + dcil + 8)
		return 0;
	o = 0;
	out[o++] = 0x80 | (rnd[0] & 0x7f);
	be32_put(out + o, 0);
	o += 4;
	out[o++] = (uint8_t)scil;
	memcpy(out + o, scid, scil);
	o += scil;
	out[o++] = (uint8_t)dcil;
	memcpy(out + o, dcid, dcil);
	o += dcil;
	be32_put(out + o, HU_QUIC_V1);
	o += 4;
	/* A reserved (greased) version too, as RFC 9000 6.3 suggests. */
	be32_put(out + o, (be32_get(rnd + 1) & 0xf0f0f0f0u) | 0x0a0a0a0au);
	o += 4;
	*kind = HU_QUIC_VN;
	return o;
}

static size_t
wg_answer(const uint8_t *in, uint8_t *out, size_t cap, const uint8_t *rnd,
    enum hu_kind *kind)
{
	*kind = HU_BAD;
	if (cap < WG_RESP_LEN)
		return 0;
	/* type 2, reserved, sender index, receiver index = initiator's
	 * sender index, ephemeral (32), encrypted nothing (16), mac1 (16),
	 * mac2 (16, zero: no cookie). */
	out[0] = 2;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, rnd, 4);
	memcpy(out + 8, in + 4, 4);
	memcpy(out + 12, rnd + 4, 32 + 16 + 16);
	memset(out + 76, 0, 16);
	*kind = HU_WIREGUARD;
	return WG_RESP_LEN;
}

static size_t
ovpn_answer(const uint8_t *in, uint8_t *out, size_t cap, const uint8_t *rnd,
    enum hu_kind *kind)
{
	*kind = HU_BAD;
	if (cap < OVPN_SERVER_LEN)
		return 0;
	/* opcode 8 with the client's key id, our session id, one ack
	 * (the client's packet id), the client's session id, packet id 0. */
	out[0] = (uint8_t)(OVPN_HARD_RESET_SERVER_V2 << 3 | (in[0] & 7));
	memcpy(out + 1, rnd, 8);
	out[9] = 1;
	memcpy(out + 10, in + 10, 4);
	memcpy(out + 14, in + 1, 8);
	be32_put(out + 22, 0);
	*kind = HU_OPENVPN;
	return OVPN_SERVER_LEN;
}

size_t
hu_answer(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t rnd[HU_RAND_LEN], uint8_t *out, size_t cap,
    enum hu_kind *kind)
{
	return hu_answer_turn(in, n, peer, rnd, NULL, out, cap, kind);
}

size_t
hu_answer_turn(const uint8_t *in, size_t n, const struct sockaddr *peer,
    const uint8_t rnd[HU_RAND_LEN], const struct hu_turn *turn, uint8_t *out,
    size_t cap, enum hu_kind *kind)
{
	struct hu_turn def;
	uint16_t ch;
	const uint8_t *data;
	size_t dlen;

	*kind = HU_BAD;
	if (turn == NULL) {
		hu_turn_init(&def, NULL, NULL, NULL);
		turn = &def;
	}
	if (n == 0 || n > HU_OUT_MAX || cap < HU_OUT_MAX)
		return 0;
	if (is_stun(in, n))
		return stun_answer(in, n, peer, rnd, turn, out, cap, kind);
	if (n == WG_INIT_LEN && in[0] == 1 && in[1] == 0 && in[2] == 0 &&
	    in[3] == 0)
		return wg_answer(in, out, cap, rnd, kind);
	if (n >= OVPN_CLIENT_MIN && in[0] >> 3 == OVPN_HARD_RESET_CLIENT_V2 &&
	    in[9] == 0)
		return ovpn_answer(in, out, cap, rnd, kind);
	if ((in[0] & 0xc0) == 0x80 && n >= 12 && (in[1] & 0x7f) >= 96) {
		/* RTP version 2 with a dynamic payload type (the call test's
		 * path datagram on media ports): echoed.  A QUIC long header
		 * has the fixed bit 0x40 set (the agent's), or a version
		 * byte below 0x60 */
		memcpy(out, in, n);
		*kind = HU_RTP;
		return n;
	}
	if (in[0] & 0x80)
		return quic_answer(in, n, rnd, out, cap, kind);
	memcpy(out, in, n);
	*kind = stun_chandata_parse(in, n, &ch, &data, &dlen) == 0 ?
	    HU_CHANNEL_DATA : HU_ECHO;
	return n;
}

const char *
hu_kind_name(enum hu_kind k)
{
	static const char *const names[HU__COUNT] = {
		[HU_BAD] = "bad",
		[HU_IGNORED] = "ignored",
		[HU_ECHO] = "echo",
		[HU_STUN] = "stun",
		[HU_STUN_WHATSAPP] = "stun_whatsapp",
		[HU_STUN_TELEGRAM] = "stun_telegram",
		[HU_QUIC_VN] = "quic_vn",
		[HU_QUIC_INITIAL] = "quic_initial",
		[HU_WIREGUARD] = "wireguard",
		[HU_OPENVPN] = "openvpn",
		[HU_TURN_CHALLENGE] = "turn_challenge",
		[HU_TURN_ALLOCATE] = "turn_allocate",
		[HU_TURN_CHANNEL_BIND] = "turn_channel_bind",
		[HU_CHANNEL_DATA] = "channel_data",
		[HU_RTP] = "rtp",
		[HU_QUIC_RETRY] = "quic_retry",
	};

	if ((unsigned)k >= HU__COUNT)
		return "?";
	return names[k];
}
