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
#include <dirent.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

#define MUTATIONS 20000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
mutate_run(const uint8_t *seed, size_t len)
{
	static uint8_t buf[2048];

	for (int m = 0; m < MUTATIONS; m++) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		memcpy(buf, seed, n);
		switch (next() % 4) {
		case 0:		/* flip a few bytes (never the selector) */
			for (int i = 0; i < 4 && n > 1; i++)
				buf[1 + next() % (n - 1)] = (uint8_t)next();
			break;
		case 1:		/* cut */
			n = n > 1 ? 1 + next() % n : n;
			break;
		case 2:		/* grow with junk */
			while (n < sizeof(buf) && next() % 64 != 0)
				buf[n++] = (uint8_t)next();
			break;
		default:	/* a length or id field set to an extreme */
			if (n > 6)
				buf[1 + next() % 6] = next() % 2 ? 0xff : 0;
			break;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
}

int
main(int argc, char **argv)
{
	static uint8_t seed[2048];
	unsigned files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *dir = opendir(argv[i]);
		struct dirent *de;
		if (dir == NULL) {
			fprintf(stderr, "fuzz_helper: cannot open %s\n",
			    argv[i]);
			return 1;
		}
		while ((de = readdir(dir)) != NULL) {
			char path[1024];
			FILE *f;
			size_t n;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if ((f = fopen(path, "rb")) == NULL)
				continue;
			n = fread(seed, 1, sizeof(seed), f);
			fclose(f);
			LLVMFuzzerTestOneInput(seed, n);
			mutate_run(seed, n);
			files++;
		}
		closedir(dir);
	}
	printf("fuzz_helper: %u seeds, %u mutations each\n", files,
	    MUTATIONS);
	return files > 0 ? 0 : 1;
}

#endif
