/*
 * agentstatus DATA_DIR PUBKEY_HEX VERSION — record an agent's status in
 * the aggregator's store as a hello does (store_commit with a store_seen),
 * with VERSION's bytes as they are: the ingest path sanitizes versions,
 * this tool does not, so zondctl's printing is tested on its own.  For
 * tests/cli/agents_output.sh.
 */
#include <stdio.h>
#include <string.h>

#include "key.h"
#include "store.h"
#include "ztime.h"

int
main(int argc, char **argv)
{
	struct store_opts o = {false, 0, 0, 0};
	struct store_seen seen;
	store_t *s = NULL;
	zdiag_t d;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: agentstatus DATA_DIR PUBKEY_HEX "
		    "VERSION\n");
		return 2;
	}
	memset(&seen, 0, sizeof(seen));
	if (pubkey_from_hex(argv[2], seen.agent, &d) != ZE_OK)
		goto fail;
	seen.seen_us = ztime_now_us();
	seen.has_status = true;
	snprintf(seen.version, sizeof(seen.version), "%s", argv[3]);
	seen.backlog = 7;
	seen.last_seq = 3;
	if (store_open(argv[1], &o, &s, &d) != ZE_OK ||
	    store_commit(s, NULL, 0, NULL, &seen, 1, &d) != ZE_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "agentstatus: %s\n", d.text);
out:
	store_close(&s);
	return rc;
}
