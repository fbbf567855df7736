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
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipasn.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

#define MUTATIONS 5000
#define SEEDS 32

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
load(const char *path, zbuf_t *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	zbuf_init(b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (zbuf_append(b, chunk, n) != ZE_OK) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char special[] = "\t\n\r.:0f9-[ \0";
	zbuf_t seeds[SEEDS], m;
	size_t ns = 0, i, k;
	int a;

	for (a = 1; a < argc; a++) {
		DIR *dir = opendir(argv[a]);
		struct dirent *de;
		char path[2048];

		if (dir == NULL) {
			fprintf(stderr, "%s: cannot open\n", argv[a]);
			return 1;
		}
		while ((de = readdir(dir)) != NULL && ns < SEEDS) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[a],
			    de->d_name);
			if (load(path, &seeds[ns]) != 0) {
				fprintf(stderr, "%s: cannot read\n", path);
				closedir(dir);
				return 1;
			}
			LLVMFuzzerTestOneInput(seeds[ns].data, seeds[ns].len);
			ns++;
		}
		closedir(dir);
	}
	if (ns == 0) {
		fprintf(stderr, "no seed files\n");
		return 1;
	}
	zbuf_init(&m, 1 << 20);
	for (i = 0; i < MUTATIONS; i++) {
		const zbuf_t *s = &seeds[next() % ns];
		size_t edits = 1 + next() % 4;

		zbuf_reset(&m);
		if (s->len > 0 && zbuf_append(&m, s->data, s->len) != ZE_OK)
			return 1;
		for (k = 0; k < edits && m.len > 0; k++) {
			size_t at = next() % m.len;
			switch (next() % 3) {
			case 0:
				m.data[at] ^= (uint8_t)(1u << (next() % 8));
				break;
			case 1:
				m.data[at] = (uint8_t)special[next() %
				    (sizeof(special) - 1)];
				break;
			default:
				m.len = at;
				break;
			}
		}
		LLVMFuzzerTestOneInput(m.len ? m.data : (const uint8_t *)"",
		    m.len);
	}
	zbuf_free(&m);
	for (i = 0; i < ns; i++)
		zbuf_free(&seeds[i]);
	printf("fuzz_ipasn: %zu seeds, %d mutations, no crash\n", ns,
	    MUTATIONS);
	return 0;
}

#endif
