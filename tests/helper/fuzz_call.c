/*
 * fuzz_call — fuzz harness for the call test's parsers (lib/stun.c):
 * stun_parse and stun_integrity_ok on any bytes, stun_chandata_parse and
 * rtp_parse on the same and on the ChannelData's contents.  Checks the
 * invariants a caller relies on: what a parser returns lies inside the
 * input, texts are terminated, families are 0, 4 or 6.  Built as a
 * replay-and-mutate driver (ctest, label fuzz) and, with clang, as a
 * libFuzzer target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "stun.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[STUN_KEY_LEN] = {1, 2, 3};
	struct stun_msg m;
	struct rtp_hdr h;
	const uint8_t *d;
	uint16_t ch;
	size_t dl;
	char why[128];

	if (stun_parse(data, size, &m, why, sizeof(why)) == 0) {
		if (m.integrity_off != 0 && m.integrity_off + 24 > size)
			abort();
		if (strlen(m.realm) >= STUN_TEXT_MAX ||
		    strlen(m.nonce) >= STUN_TEXT_MAX ||
		    strlen(m.software) >= STUN_TEXT_MAX ||
		    strlen(m.username) >= STUN_TEXT_MAX)
			abort();
		if ((m.mapped_family != 0 && m.mapped_family != 4 &&
		    m.mapped_family != 6) || (m.relayed_family != 0 &&
		    m.relayed_family != 4 && m.relayed_family != 6))
			abort();
		(void)stun_integrity_ok(data, size, &m, key);
	} else if (why[0] == '\0') {
		abort();	/* a refusal always says why */
	}
	if (stun_chandata_parse(data, size, &ch, &d, &dl) == 0) {
		if (d != data + STUN_CHANDATA_HDR || dl > size - 4 ||
		    ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_MAX)
			abort();
		(void)rtp_parse(d, dl, &h);
	}
	(void)rtp_parse(data, size, &h);
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* set one length field to an extreme (the replay driver's mutation) */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	/* the header's length or an attribute's */
	if (n > 24)
		buf[2 + 20 * (r % 2) + (r >> 1) % 2] = (r >> 2) % 2 ? 0xff : 0;
}

const struct fuzz_replay fuzz_replay = {"fuzz_call", 0, extreme, 0,
    NULL, NULL};
#endif
