/* tlist.c — see tlist.h.  Rows are checked by targets_add_endpoint into
 * a scratch list, moved to the caller's only when every row passed. */
#include "tlist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "csv.h"
#include "sign.h"
#include "utf8.h"

/* The columns that travel as params, in targets_columns order. */
enum { COL_SERVICE, COL_TEST, COL_TARGET, COL_IP, COL_PORT, COL_SNI,
    COL_CSNI, COL_VARIANT, COL_BYTES, COL_INTERVAL };
static const int param_cols[] = {COL_IP, COL_PORT, COL_SNI, COL_CSNI,
    COL_VARIANT, COL_BYTES};
#define NPARAMS ZARRAY_LEN(param_cols)

const char *
tlist_reason_name(enum tlist_reason r)
{
	static const char *const names[TL__N] = {"ok", "unsigned",
	    "other_signer", "bad_signature", "malformed", "older", "expired",
	    "empty", "no_operator_key"};

	return (unsigned)r < TL__N ? names[r] : "?";
}

/* The column texts of row x into f (buffers for the numbers given). */
static void
row_fields(const target_t *x, const char *f[TARGETS_NCOLS], char port[16],
    char bytes[24], char interval[24])
{
	for (int c = 0; c < TARGETS_NCOLS; c++)
		f[c] = "";
	f[COL_SERVICE] = x->req.service;
	f[COL_TEST] = wire_test_name(x->req.test);
	f[COL_TARGET] = x->req.target;
	if (x->req.ip != NULL)
		f[COL_IP] = x->req.ip;
	if (x->req.port_hi > 0)
		snprintf(port, 16, "%d-%d", x->req.port, x->req.port_hi);
	else if (x->req.port > 0)
		snprintf(port, 16, "%d", x->req.port);
	else
		port[0] = '\0';
	f[COL_PORT] = port;
	if (x->req.sni != NULL)
		f[COL_SNI] = x->req.sni;
	if (x->req.control_sni != NULL)
		f[COL_CSNI] = x->req.control_sni;
	if (x->req.variant != NULL)
		f[COL_VARIANT] = x->req.variant;
	bytes[0] = interval[0] = '\0';
	if (x->req.bytes > 0)
		snprintf(bytes, 24, "%" PRId64, x->req.bytes);
	f[COL_BYTES] = bytes;
	if (x->interval_ms > 0)
		snprintf(interval, 24, "%" PRId64 "s", x->interval_ms / 1000);
	f[COL_INTERVAL] = interval;
}

zerr_t
tlist_sign(const targets_t *t, const zkey_t *k, uint64_t version,
    int64_t issued_us, int64_t expires_us, zbuf_t *out, zdiag_t *d)
{
	Zond__V1__TestList tl = ZOND__V1__TEST_LIST__INIT;
	Zond__V1__SignedTestList st = ZOND__V1__SIGNED_TEST_LIST__INIT;
	Zond__V1__TestSpec *specs = NULL, **sp = NULL;
	Zond__V1__TestSpec__ParamsEntry *ents = NULL, **ep = NULL;
	char *nums = NULL;	/* port, bytes per row: 40 bytes each */
	uint8_t sig[KEY_SIG_LEN];
	zbuf_t body;
	size_t ne = 0, start = out->len;
	zerr_t e = ZE_NOMEM;

	zbuf_init(&body, TLIST_MAX_FILE);
	if (t->n > 0 && ((specs = calloc(t->n, sizeof(*specs))) == NULL ||
	    (sp = calloc(t->n, sizeof(*sp))) == NULL ||
	    (ents = calloc(t->n * NPARAMS, sizeof(*ents))) == NULL ||
	    (ep = calloc(t->n * NPARAMS, sizeof(*ep))) == NULL ||
	    (nums = calloc(t->n, 40)) == NULL)) {
		zdiag_set(d, e, "out of memory for %zu tests", t->n);
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		const target_t *x = &t->v[i];
		const char *f[TARGETS_NCOLS];
		char interval[24];
		Zond__V1__TestSpec *s = &specs[i];
		size_t first = ne;

		if (x->interval_ms % 1000 != 0) {
			e = zdiag_set(d, ZE_RANGE, "%s:%d: interval of %" PRId64
			    " ms: a signed list holds whole seconds",
			    x->file ? x->file : "-", x->line, x->interval_ms);
			goto out;
		}
		row_fields(x, f, nums + 40 * i, nums + 40 * i + 16, interval);
		zond__v1__test_spec__init(s);
		s->has_test = 1;
		s->test = x->req.test;
		s->service = (char *)(uintptr_t)x->req.service;
		s->target = (char *)(uintptr_t)x->req.target;
		if (x->interval_ms > 0) {
			s->has_interval_s = 1;
			s->interval_s = (uint32_t)(x->interval_ms / 1000);
		}
		for (size_t p = 0; p < NPARAMS; p++) {
			int c = param_cols[p];
			if (*f[c] == '\0')
				continue;
			zond__v1__test_spec__params_entry__init(&ents[ne]);
			ents[ne].key = (char *)(uintptr_t)targets_columns[c];
			ents[ne].value = (char *)(uintptr_t)f[c];
			ep[ne] = &ents[ne];
			ne++;
		}
		s->n_params = ne - first;
		s->params = s->n_params ? &ep[first] : NULL;
		sp[i] = s;
	}
	tl.has_version = tl.has_issued_us = tl.has_expires_us = 1;
	tl.version = version;
	tl.issued_us = issued_us;
	tl.expires_us = expires_us;
	tl.n_tests = t->n;
	tl.tests = sp;
	if (protobuf_c_message_get_packed_size(&tl.base) + 128 >
	    TLIST_MAX_FILE) {
		e = zdiag_set(d, ZE_TOOBIG, "%zu tests encode to %zu bytes: "
		    "a signed list must fit one 1 MiB frame (at most %d bytes "
		    "with its signature); split the list or drop rows", t->n,
		    protobuf_c_message_get_packed_size(&tl.base),
		    TLIST_MAX_FILE);
		goto out;
	}
	if ((e = wire_pack(&tl.base, &body)) != ZE_OK ||
	    (e = sign_body(k, ZDOM_TESTLIST, body.data, body.len, sig)) !=
	    ZE_OK) {
		zdiag_set(d, e, "cannot encode or sign the list: %s",
		    zerr_str(e));
		goto out;
	}
	st.has_body = st.has_sig = st.has_signer = 1;
	st.body.data = body.data;
	st.body.len = body.len;
	st.sig.data = sig;
	st.sig.len = KEY_SIG_LEN;
	st.signer.data = (uint8_t *)(uintptr_t)key_public(k);
	st.signer.len = KEY_PUB_LEN;
	if ((e = wire_pack(&st.base, out)) != ZE_OK ||
	    out->len - start > TLIST_MAX_FILE) {
		out->len = start;
		e = zdiag_set(d, ZE_TOOBIG, "the signed list is over %d bytes "
		    "(one 1 MiB frame); split the list", TLIST_MAX_FILE);
	}
out:
	zbuf_free(&body);
	free(specs);
	free(sp);
	free(ents);
	free(ep);
	free(nums);
	return e;
}

/* Spec i of the list into t, checked as a CSV row. */
static zerr_t
spec_row(const Zond__V1__TestSpec *s, size_t i, const char *name,
    targets_t *t, zdiag_t *d)
{
	const char *f[TARGETS_NCOLS];
	const char *tn;
	char where[300], interval[24];

	snprintf(where, sizeof(where), "%s: test %zu", name, i + 1);
	for (int c = 0; c < TARGETS_NCOLS; c++)
		f[c] = NULL;
	if (!s->has_test || (tn = wire_test_name(s->test)) == NULL ||
	    strcmp(tn, "?") == 0 || strcmp(tn, "unknown") == 0)
		return zdiag_set(d, ZE_PARSE, "%s: no known test kind (%d)",
		    where, s->has_test ? (int)s->test : -1);
	f[COL_TEST] = tn;
	f[COL_SERVICE] = s->service;
	f[COL_TARGET] = s->target;
	if (s->has_interval_s) {
		snprintf(interval, sizeof(interval), "%" PRIu32 "s",
		    s->interval_s);
		f[COL_INTERVAL] = interval;
	}
	for (size_t k = 0; k < s->n_params; k++) {
		const Zond__V1__TestSpec__ParamsEntry *pe = s->params[k];
		size_t p;
		for (p = 0; p < NPARAMS; p++)
			if (pe->key != NULL &&
			    strcmp(pe->key, targets_columns[param_cols[p]]) == 0)
				break;
		if (p == NPARAMS)
			return zdiag_set(d, ZE_PARSE, "%s: unknown param '%.64s'"
			    " (ip, port, sni, control_sni, variant, bytes)",
			    where, pe->key ? pe->key : "");
		if (f[param_cols[p]] != NULL)
			return zdiag_set(d, ZE_PARSE, "%s: param '%s' twice",
			    where, pe->key);
		f[param_cols[p]] = pe->value != NULL ? pe->value : "";
	}
	/* what the CSV reader guarantees of a field: UTF-8 text, bounded */
	for (int col = 0; col < TARGETS_NCOLS; col++) {
		size_t n = f[col] != NULL ? strlen(f[col]) : 0;
		if (n >= CSV_MAX_RECORD || !utf8_text_ok((const unsigned char *)
		    f[col], n))
			return zdiag_set(d, ZE_PARSE, "%s: %s is not UTF-8 text "
			    "of at most %d bytes", where, targets_columns[col],
			    CSV_MAX_RECORD - 1);
	}
	return targets_add_endpoint(t, f, name, (int)(i + 1), where, d);
}

enum tlist_reason
tlist_verify(const Zond__V1__SignedTestList *s, const struct tlist_check *c,
    const char *name, targets_t *t, struct tlist_info *info, zdiag_t *d)
{
	Zond__V1__TestList *tl = NULL;
	targets_t tmp;
	enum tlist_reason r = TL_MALFORMED;

	memset(info, 0, sizeof(*info));
	targets_init(&tmp);
	if (!s->has_sig || s->sig.len == 0 || !s->has_signer ||
	    s->signer.len == 0) {
		zdiag_set(d, ZE_BADSIG, "%s: the list is not signed (no %s)",
		    name, !s->has_sig || s->sig.len == 0 ? "sig" : "signer");
		return TL_UNSIGNED;
	}
	if (s->signer.len != KEY_PUB_LEN) {
		zdiag_set(d, ZE_PARSE, "%s: signer of %zu bytes (a key has %d)",
		    name, s->signer.len, KEY_PUB_LEN);
		return TL_MALFORMED;
	}
	memcpy(info->signer, s->signer.data, KEY_PUB_LEN);
	if (c->operator_pk != NULL && sodium_memcmp(c->operator_pk,
	    s->signer.data, KEY_PUB_LEN) != 0) {
		char hex[KEY_HEX_LEN + 1];
		sodium_bin2hex(hex, sizeof(hex), s->signer.data, KEY_PUB_LEN);
		zdiag_set(d, ZE_BADSIG, "%s: signed by %.16s..., not by the "
		    "operator key", name, hex);
		return TL_OTHER_SIGNER;
	}
	if (s->sig.len != KEY_SIG_LEN || !s->has_body ||
	    sign_verify(ZDOM_TESTLIST, s->signer.data, s->body.data,
	    s->body.len, s->sig.data) != ZE_OK) {
		zdiag_set(d, ZE_BADSIG, "%s: the signature does not verify",
		    name);
		return TL_BAD_SIGNATURE;
	}
	tl = zond__v1__test_list__unpack(NULL, s->body.len, s->body.data);
	if (tl == NULL || !tl->has_version || !tl->has_expires_us) {
		zdiag_set(d, ZE_PARSE, "%s: the body is no TestList with a "
		    "version and an expiry", name);
		goto out;
	}
	info->version = tl->version;
	info->issued_us = tl->has_issued_us ? tl->issued_us : 0;
	info->expires_us = tl->expires_us;
	info->ntests = tl->n_tests;
	if (c->newer && tl->version <= c->current) {
		zdiag_set(d, ZE_RANGE, "%s: version %" PRIu64 " is not newer "
		    "than %" PRIu64, name, tl->version, c->current);
		r = TL_OLDER;
		goto out;
	}
	if (c->now_us != 0 && tl->expires_us <= c->now_us) {
		zdiag_set(d, ZE_RANGE, "%s: version %" PRIu64 " expired %"
		    PRId64 " s ago", name, tl->version,
		    (c->now_us - tl->expires_us) / 1000000);
		r = TL_EXPIRED;
		goto out;
	}
	if (tl->n_tests == 0) {
		zdiag_set(d, ZE_RANGE, "%s: version %" PRIu64 " has no tests",
		    name, tl->version);
		r = TL_EMPTY;
		goto out;
	}
	if (tl->n_tests > TARGETS_MAX) {
		zdiag_set(d, ZE_TOOBIG, "%s: %zu tests, more than %d", name,
		    tl->n_tests, TARGETS_MAX);
		goto out;
	}
	for (size_t i = 0; i < tl->n_tests; i++)
		if (spec_row(tl->tests[i], i, name, &tmp, d) != ZE_OK)
			goto out;
	/* move the rows over: the scratch list's arrays become t's when t
	 * is empty, the common case; else row by row */
	if (t->n == 0 && t->nstrs == 0) {
		targets_free(t);
		*t = tmp;
		targets_init(&tmp);
	} else {
		for (size_t i = 0; i < tmp.n; i++) {
			const target_t *x = &tmp.v[i];
			char port[16], bytes[24], interval[24];
			const char *f[TARGETS_NCOLS];
			row_fields(x, f, port, bytes, interval);
			if (targets_add_endpoint(t, f, name, x->line, name, d)
			    != ZE_OK)
				goto out;
		}
	}
	r = TL_OK;
out:
	targets_free(&tmp);
	if (tl != NULL)
		zond__v1__test_list__free_unpacked(tl, NULL);
	return r;
}

enum tlist_reason
tlist_verify_bytes(const uint8_t *p, size_t n, const struct tlist_check *c,
    const char *name, targets_t *t, struct tlist_info *info, zdiag_t *d)
{
	Zond__V1__SignedTestList *s;
	enum tlist_reason r;

	memset(info, 0, sizeof(*info));
	if (n > TLIST_MAX_FILE) {
		zdiag_set(d, ZE_TOOBIG, "%s: %zu bytes, more than a signed "
		    "list may have (%d)", name, n, TLIST_MAX_FILE);
		return TL_MALFORMED;
	}
	if ((s = zond__v1__signed_test_list__unpack(NULL, n, p)) == NULL) {
		zdiag_set(d, ZE_PARSE, "%s: not a SignedTestList (%zu bytes)",
		    name, n);
		return TL_MALFORMED;
	}
	r = tlist_verify(s, c, name, t, info, d);
	zond__v1__signed_test_list__free_unpacked(s, NULL);
	return r;
}

/* One CSV cell, quoted when it holds a comma, quote or line end (or
 * starts with '#', which a reader would take for a comment). */
static zerr_t
csv_cell(zbuf_t *out, const char *s, bool first)
{
	zerr_t e;

	if (!first && (e = zbuf_putc(out, ',')) != ZE_OK)
		return e;
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != '#')
		return zbuf_puts(out, s);
	if ((e = zbuf_putc(out, '"')) != ZE_OK)
		return e;
	for (; *s; s++)
		if ((*s == '"' && (e = zbuf_putc(out, '"')) != ZE_OK) ||
		    (e = zbuf_putc(out, *s)) != ZE_OK)
			return e;
	return zbuf_putc(out, '"');
}

zerr_t
tlist_csv_header(zbuf_t *out)
{
	zerr_t e = ZE_OK;

	for (int c = 0; c < TARGETS_NCOLS && e == ZE_OK; c++)
		e = csv_cell(out, targets_columns[c], c == 0);
	return e == ZE_OK ? zbuf_putc(out, '\n') : e;
}

zerr_t
tlist_csv_row(const target_t *x, zbuf_t *out)
{
	const char *f[TARGETS_NCOLS];
	char port[16], bytes[24], interval[24];
	zerr_t e = ZE_OK;

	row_fields(x, f, port, bytes, interval);
	for (int c = 0; c < TARGETS_NCOLS && e == ZE_OK; c++)
		e = csv_cell(out, f[c], c == 0);
	return e == ZE_OK ? zbuf_putc(out, '\n') : e;
}

zerr_t
tlist_save(const char *path, const uint8_t *p, size_t n, zdiag_t *d)
{
	return bytes_write_file(path, p, n, 0600, d);
}
