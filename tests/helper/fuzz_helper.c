/*
 * fuzz_helper — fuzz harness for zond-helper's parsers: hu_answer() (every
 * UDP datagram) and bulk_parse_request() (every TCP request line).
 *
 * The first input byte selects: 0 a datagram from an IPv4 peer, 1 from
 * an IPv6 peer, 2 a bulk request line; the rest is the input.  Built
 * with clang and -DZOND_LIBFUZZER it is a libFuzzer target; otherwise a
 * replay driver for ctest (label fuzz) that runs the files of the
 * directory on its command line and deterministic mutations of them,
 * under ASan/UBSan.  Invariants on every input: a reply is at most
 * HU_OUT_MAX bytes and at most 24 bytes larger than its request, and an
 * echo is the request itself; a parsed byte count is within bulk_max.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "udp.h"
#include "fuzz_replay.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rnd[HU_RAND_LEN], out[HU_OUT_MAX];
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const struct sockaddr *peer;
	enum hu_kind k;
	size_t r;

	if (size == 0)
		return 0;
	if (data[0] == 2) {
		int64_t n = -1;
		zdiag_t d;
		if (bulk_parse_request((const char *)data + 1, size - 1,
		    1000000, &n, &d) == ZE_OK && (n < 0 || n > 1000000))
			abort();
		return 0;
	}
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(40000);
	s4.sin_addr.s_addr = htonl(0xc0000201);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(40000);
	s6.sin6_addr.s6_addr[0] = 0x20;
	s6.sin6_addr.s6_addr[15] = 1;
	peer = data[0] & 1 ? (const struct sockaddr *)&s6 :
	    (const struct sockaddr *)&s4;
	r = hu_answer(data + 1, size - 1, peer, rnd, out, sizeof(out), &k);
	if (r > HU_OUT_MAX || r > size - 1 + 24 || (unsigned)k >= HU__COUNT)
		abort();
	if ((k == HU_ECHO || k == HU_RTP) && (r != size - 1 || memcmp(out, data + 1, r) != 0))
		abort();
	if (r == 0 && k != HU_BAD && k != HU_IGNORED)
		abort();
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* a length byte set to an extreme (never the selector) */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	if (n > 1)
		buf[1 + r % (n - 1)] = (r >> 32) % 2 ? 0xff : 0;
}

const struct fuzz_replay fuzz_replay = {"fuzz_helper", 1, extreme, 0,
    NULL, NULL};
#endif
