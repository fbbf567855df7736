/*
 * tlist.h — signed test lists (docs/PROTOCOL.md §5): the operator's
 * endpoint and URL lists as one signed, versioned TestList.
 *
 * The mapping of a list row to a TestSpec and back is one-to-one
 * (PROTOCOL.md §5 "Rows"): test, service, target and interval_s are
 * fields; ip, port, sni, control_sni, variant and bytes are params, each
 * present only when the row has it.  A TestSpec is turned back into a row
 * and checked by targets_add_endpoint, the CSV loader's own rules, so a
 * signed list can hold nothing a CSV list could not.
 *
 * Verification (tlist_verify) checks, in this order: signed at all,
 * signer, signature (before anything of the body is decoded), decoding,
 * version, expiry, emptiness, every row; the first failure is the
 * reason.  All functions are pure but tlist_save and thread-safe.
 */
#ifndef AGENT_TLIST_H
#define AGENT_TLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "targets.h"
#include "wire.h"
#include "zbuf.h"

/* Why a list was refused; the names are what logs and docs say. */
enum tlist_reason {
	TL_OK = 0,
	TL_UNSIGNED,		/* no signature or no signer */
	TL_OTHER_SIGNER,	/* signer is not the operator key */
	TL_BAD_SIGNATURE,	/* the signature does not verify */
	TL_MALFORMED,		/* does not decode, lacks a field, a bad row */
	TL_OLDER,		/* version not above the one in use */
	TL_EXPIRED,		/* expires_us is not in the future */
	TL_EMPTY,		/* no tests */
	TL_NO_OPERATOR_KEY,	/* nothing to check the signer against */
	TL__N
};
const char *tlist_reason_name(enum tlist_reason r);

/* A SignedTestList file and the Downlink that carries it (6 bytes more)
 * must fit the 1 MiB frame, with room for CURVE's 33 bytes of framing in
 * case the agent's transport limit (ZMQ_MAXMSGSIZE) counts them: the
 * file may have at most this many bytes. */
#define TLIST_MAX_FILE (WIRE_MAX_FRAME - 64)

struct tlist_info {
	uint64_t version;
	int64_t issued_us;
	int64_t expires_us;
	uint8_t signer[KEY_PUB_LEN];
	size_t ntests;
};

/*
 * The SignedTestList of the rows of t, signed by k, into out (appended):
 * TestList{version, issued_us, expires_us, tests}.  Refuses (with the
 * row's file:line) an interval that is not whole seconds, and a result
 * over TLIST_MAX_FILE.
 */
zerr_t tlist_sign(const targets_t *t, const zkey_t *k, uint64_t version,
    int64_t issued_us, int64_t expires_us, zbuf_t *out, zdiag_t *d) ZWUR;

struct tlist_check {
	const uint8_t *operator_pk;	/* NULL: any signer (zondctl show) */
	bool newer;		/* refuse version <= current */
	uint64_t current;
	int64_t now_us;		/* refuse expires_us <= now_us; 0: no check */
};

/*
 * Verify s and, when it passes, append its rows to t (named `name` in
 * messages and in the rows' file).  info is filled as far as the list
 * could be read (version, dates and signer also on TL_OLDER, TL_EXPIRED
 * and TL_EMPTY).  d says what was wrong.
 */
enum tlist_reason tlist_verify(const Zond__V1__SignedTestList *s,
    const struct tlist_check *c, const char *name, targets_t *t,
    struct tlist_info *info, zdiag_t *d);
/* The same from a file's bytes (a SignedTestList encoding). */
enum tlist_reason tlist_verify_bytes(const uint8_t *p, size_t n,
    const struct tlist_check *c, const char *name, targets_t *t,
    struct tlist_info *info, zdiag_t *d);

/* One row of t in endpoint-list CSV (targets_columns order, quoted as
 * RFC 4180 needs), newline included, appended to out. */
zerr_t tlist_csv_row(const target_t *x, zbuf_t *out) ZWUR;
/* The CSV header line of tlist_csv_row. */
zerr_t tlist_csv_header(zbuf_t *out) ZWUR;

/* Write p to path atomically: path.tmp (0600), fsync, rename over path,
 * fsync the directory. */
zerr_t tlist_save(const char *path, const uint8_t *p, size_t n,
    zdiag_t *d) ZWUR;

#endif
