/*
 * tl_inject DATA_DIR FILE VERSION [as-is|unsigned|tamper|stale] — a test
 * tool that plays an aggregator gone wrong: it stores FILE in the store as
 * the newest test list with header version VERSION and an expiry a day
 * ahead, without the checks `zondctl testlist push` makes, optionally
 * stripping the signature or flipping a byte of the signed body; stale
 * gives the stored copy an expiry a second ago (the aggregator must not
 * push it).  The real
 * aggregator then pushes it and the agent must refuse it on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "store.h"
#include "wire.h"
#include "ztime.h"

int
main(int argc, char **argv)
{
	Zond__V1__SignedTestList *st;
	struct store_opts o = {0};
	struct store_testlist m = {0};
	const char *mode = argc > 4 ? argv[4] : "as-is";
	store_t *s = NULL;
	uint64_t stored;
	zbuf_t b, out;
	zdiag_t d;
	int rc = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: tl_inject DATA_DIR FILE VERSION "
		    "[as-is|unsigned|tamper|stale]\n");
		return 2;
	}
	if (bytes_read_file(argv[2], WIRE_MAX_FRAME, &b, &d) != ZE_OK ||
	    (st = zond__v1__signed_test_list__unpack(NULL, b.len, b.data)) ==
	    NULL) {
		fprintf(stderr, "tl_inject: %s: not a signed list\n", argv[2]);
		return 1;
	}
	if (strcmp(mode, "unsigned") == 0) {
		st->has_sig = 0;
		st->sig.len = 0;
	} else if (strcmp(mode, "tamper") == 0 && st->body.len > 0) {
		st->body.data[st->body.len - 1] ^= 0x01;
	}
	zbuf_init(&out, WIRE_MAX_FRAME);
	if (wire_pack(&st->base, &out) != ZE_OK)
		goto done;
	m.version = strtoull(argv[3], NULL, 10);
	m.issued_us = ztime_now_us();
	m.expires_us = strcmp(mode, "stale") == 0 ? m.issued_us - 1000000 :
	    m.issued_us + 86400000000LL;
	m.ntests = 1;
	o.map_size = 1 << 20;
	if (store_open(argv[1], &o, &s, &d) != ZE_OK ||
	    store_testlist_put(s, &m, out.data, out.len, &stored, &d) !=
	    ZE_OK) {
		fprintf(stderr, "tl_inject: %s\n", d.text);
		goto done;
	}
	rc = 0;
done:
	store_close(&s);
	zond__v1__signed_test_list__free_unpacked(st, NULL);
	zbuf_free(&b);
	zbuf_free(&out);
	return rc;
}
