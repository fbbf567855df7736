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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "zbuf.h"
#include "fuzz_replay.h"


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
/* one CSV- or pattern-special byte put in */
static void
special(uint8_t *buf, size_t n, uint64_t r)
{
	static const char sp[] = ",\"\r\n\0.|([\\*+?^$";

	if (n > 0)
		buf[r % n] = (uint8_t)sp[(r >> 32) % (sizeof(sp) - 1)];
}

const struct fuzz_replay fuzz_replay = {"fuzz_fingerprint", 0, special,
    3000, NULL, NULL};
#endif
