/*
 * fuzz_ipasn — fuzz harness for the IP-to-ASN table loader (ipasn_parse)
 * and its lookups.
 *
 * With clang and -DZOND_LIBFUZZER it is a libFuzzer target; otherwise a
 * replay driver for ctest (label fuzz): the seed files of the directories
 * given, then a fixed number of deterministic mutations of them (bit
 * flips, bytes that matter to the format — tab, newline, dot, colon,
 * digits —, cuts), under ASan/UBSan.  Invariants on every input: a table
 * exists exactly when the parse succeeds; every error names "fuzz.tsv";
 * on success every row's first address finds its ASN or none, and
 * lookups never fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipasn.h"
#include "zbuf.h"
#include "fuzz_replay.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t probe[][16] = {
		{0}, {1, 0, 0, 7}, {5, 3, 1, 1}, {255, 255, 255, 255},
		{0x2a, 0x02, 0x06, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};
	struct ipasn *t = NULL;
	zdiag_t d = {""};
	char line[64];
	size_t i, k;

	if (ipasn_parse("fuzz.tsv", (const char *)data, size, &t, &d) !=
	    ZE_OK) {
		if (t != NULL || strncmp(d.text, "fuzz.tsv", 8) != 0) {
			fprintf(stderr, "bad error for input: '%s'\n", d.text);
			abort();
		}
		return 0;
	}
	if (t == NULL)
		abort();
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		(void)ipasn_lookup(t, 4, probe[i]);
		(void)ipasn_lookup(t, 6, probe[i]);
	}
	/* each row's range_start, looked up as text */
	for (i = 0; i < size; ) {
		for (k = 0; i + k < size && k < sizeof(line) - 1 &&
		    data[i + k] != '\t' && data[i + k] != '\n'; k++)
			line[k] = (char)data[i + k];
		line[k] = '\0';
		(void)ipasn_lookup_str(t, line);
		while (i < size && data[i] != '\n')
			i++;
		i++;
	}
	ipasn_free(&t);
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* one TSV- or address-special byte put in */
static void
special(uint8_t *buf, size_t n, uint64_t r)
{
	static const char sp[] = "\t\n\r.:0f9-[ \0";

	if (n > 0)
		buf[r % n] = (uint8_t)sp[(r >> 32) % (sizeof(sp) - 1)];
}

const struct fuzz_replay fuzz_replay = {"fuzz_ipasn", 0, special, 2500,
    NULL, NULL};
#endif
