/*
 * fuzz_fingerprint — fuzz harness for the fingerprint CSV parser
 * (fpdb_parse) and the matchers over what it accepts.
 *
 * Built with clang and -DZOND_LIBFUZZER it is a libFuzzer target.  Built
 * otherwise it is a replay driver for ctest (label fuzz): it runs every
 * file of the directories on its command line, then a fixed number of
 * deterministic mutations of them (byte flips, inserts of CSV-special
 * bytes, cuts), under ASan/UBSan.  Invariants checked on every input: a
 * database exists exactly when the parse succeeds, and every error
 * message starts with "fuzz.csv:".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fpdb *db = NULL;
	zdiag_t d = {""};
	const char *hdrs[] = {"Server: x", "Location: http://warning.rt.ru/"};
	zerr_t e;

	e = fpdb_parse("fuzz.csv", (const char *)data, size, &db, &d);
	if (e == ZE_OK) {
		if (db == NULL)
			abort();
		(void)fpdb_match_http(db, (const char *)data, size, hdrs,
		    2).name;
		(void)fpdb_match_header(db, "location", "http://x/").name;
		(void)fpdb_match_dns(db, "10.10.34.34").name;
		/* every name the file holds is found again */
		{
			struct fp_match m = fpdb_match_dns(db, "10.10.34.34");
			if (m.name != NULL &&
			    fpdb_find(db, m.name).name == NULL)
				abort();
		}
		fpdb_free(&db);
	} else if (db != NULL || strncmp(d.text, "fuzz.csv:", 9) != 0) {
		fprintf(stderr, "bad error for input: '%s'\n", d.text);
		abort();
	}
	return 0;
}

#ifndef ZOND_LIBFUZZER

#define MUTATIONS 3000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
run_file(const char *path, zbuf_t *seeds, size_t *nseeds)
{
	FILE *f = fopen(path, "rb");
	zbuf_t *b = &seeds[*nseeds];
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	zbuf_init(b, FPDB_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (zbuf_append(b, chunk, n) != ZE_OK) {
			fclose(f);
			return -1;
		}
	fclose(f);
	LLVMFuzzerTestOneInput(b->data, b->len);
	(*nseeds)++;
	return 0;
}

int
main(int argc, char **argv)
{
	static const char special[] = ",\"\r\n\0.|([\\*+?^$";
	zbuf_t seeds[64], m;
	size_t nseeds = 0, i, k;
	int a;

	for (a = 1; a < argc; a++) {
		DIR *dir = opendir(argv[a]);
		struct dirent *de;
		char path[2048];
		if (dir == NULL) {
			fprintf(stderr, "%s: cannot open\n", argv[a]);
			return 1;
		}
		while ((de = readdir(dir)) != NULL && nseeds < 64) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[a],
			    de->d_name);
			if (run_file(path, seeds, &nseeds) != 0) {
				fprintf(stderr, "%s: cannot read\n", path);
				return 1;
			}
		}
		closedir(dir);
	}
	if (nseeds == 0) {
		fprintf(stderr, "no seed files\n");
		return 1;
	}
	zbuf_init(&m, FPDB_MAX_FILE);
	for (i = 0; i < MUTATIONS; i++) {
		const zbuf_t *s = &seeds[next() % nseeds];
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
				m.len = at;	/* cut */
				break;
			}
		}
		LLVMFuzzerTestOneInput(m.len ? m.data : (const uint8_t *)"",
		    m.len);
	}
	zbuf_free(&m);
	for (i = 0; i < nseeds; i++)
		zbuf_free(&seeds[i]);
	printf("fuzz_fingerprint: %zu seeds, %d mutations, no crash\n",
	    nseeds, MUTATIONS);
	return 0;
}

#endif
