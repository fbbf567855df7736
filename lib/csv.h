/*
 * csv.h — RFC 4180 CSV records from a buffer, for target lists and
 * fingerprint files.
 *
 * Pure: works on bytes in memory, no I/O, so it can be fuzzed.  Fields may
 * be quoted ("a, b" and "" for a quote inside); CRLF or LF line ends; a
 * quoted field may span lines.  Blank lines and lines whose first byte is
 * '#' are skipped.  Each record's fields live in the reader until the next
 * call.  Every error names "file:line".
 */
#ifndef ZOND_CSV_H
#define ZOND_CSV_H

#include <stddef.h>

#include "err.h"
#include "zbuf.h"

#define CSV_MAX_FIELDS 32
#define CSV_MAX_RECORD 16384

typedef struct csv_reader {
	const char *fname;
	const char *buf;
	size_t len, pos;
	int line;		/* line of the next record */
	zbuf_t store;		/* field bytes of the current record */
	size_t nfields;
	size_t off[CSV_MAX_FIELDS];
	int rec_line;		/* first line of the current record */
} csv_reader_t;

void csv_init(csv_reader_t *r, const char *fname, const char *buf,
    size_t len);
void csv_free(csv_reader_t *r);

/* Read the next record.  ZE_OK, ZE_NOTFOUND at the end, or an error with
 * d naming file:line. */
zerr_t csv_next(csv_reader_t *r, zdiag_t *d) ZWUR;

/* Field i of the current record ("" when i is past the end). */
const char *csv_field(const csv_reader_t *r, size_t i);


#endif
