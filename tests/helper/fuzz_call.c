/*
 * fuzz_call — fuzz harness for the call test's parsers (lib/stun.c):
 * stun_parse and stun_integrity_ok on any bytes, stun_chandata_parse and
 * rtp_parse on the same and on the ChannelData's contents.  Checks the
 * invariants a caller relies on: what a parser returns lies inside the
 * input, texts are terminated, families are 0, 4 or 6.  Built as a
 * replay-and-mutate driver (ctest, label fuzz) and, with clang, as a
 * libFuzzer target.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

#define MUTATIONS 20000

static uint64_t rng = 0x2545f4914f6cdd1dULL;

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
		case 0:		/* flip a few bytes */
			for (int i = 0; i < 4 && n > 0; i++)
				buf[next() % n] = (uint8_t)next();
			break;
		case 1:		/* cut */
			n = n > 0 ? next() % n : n;
			break;
		case 2:		/* grow with junk */
			while (n < sizeof(buf) && next() % 64 != 0)
				buf[n++] = (uint8_t)next();
			break;
		default:	/* a length field (header or attribute) */
			if (n > 24)
				buf[2 + 20 * (next() % 2) + next() % 2] =
				    next() % 2 ? 0xff : 0;
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
			fprintf(stderr, "fuzz_call: cannot open %s\n", argv[i]);
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
	if (files == 0) {
		fprintf(stderr, "fuzz_call: no seeds\n");
		return 1;
	}
	printf("fuzz_call: %u seeds, %d mutations each\n", files, MUTATIONS);
	return 0;
}
#endif
