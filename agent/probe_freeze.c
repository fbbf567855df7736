/*
 * probe_freeze.c — the "16-20 KB freeze" test (docs/PROBES-UDP.md).
 *
 * Plain TCP to zond-helper's bulk port: "GET N\n", then read the
 * "OK N\n" line and N bytes (default 64 KiB).  Records requested and
 * received (payload bytes, the short reply line not counted).  When data
 * stops for env->timeout_ms before the end: FAIL_STALL with received =
 * the bytes before the stall.  Also: timeout (nothing at all came back),
 * refused, unreachable, reset, eof, bad_response.
 */
#include "probe.h"
#include "probe_helper.h"
#include "probe_util.h"

#define FREEZE_DEFAULT	(64 * 1024)
#define FREEZE_MAX	(64LL * 1024 * 1024)

zerr_t
probe_freeze(const probe_env_t *env, const probe_req_t *req,
    Zond__V1__Outcome **out, zdiag_t *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ph_bulk r;
	Zond__V1__Outcome *o;
	Zond__V1__FreezeOutcome *fo;
	bool ok = false;
	int64_t bytes = req->bytes ? req->bytes : FREEZE_DEFAULT;
	char abuf[64];
	zerr_t e;

	*out = NULL;
	if (bytes < 1 || bytes > FREEZE_MAX)
		return zdiag_set(d, ZE_INVAL, "freeze: bytes %lld out of range "
		    "[1, %lld]", (long long)bytes, FREEZE_MAX);
	if ((e = ph_addr(req, probe_port(ZOND__V1__TEST_KIND__TEST_FREEZE,
	    NULL), &ss, &sl, d)) != ZE_OK)
		return e;
	ph_bulk_get(env, (struct sockaddr *)&ss, sl, NULL, (uint64_t)bytes,
	    &r);

	if ((o = pu_outcome_for(ZOND__V1__TEST_KIND__TEST_FREEZE)) == NULL)
		goto end;
	fo = o->freeze;
	pu_addr_str((struct sockaddr *)&ss, abuf, sizeof(abuf));
	fo->has_requested = 1;
	fo->requested = (uint64_t)bytes;
	fo->has_received = 1;
	fo->received = r.received;
	ok = (fo->addr = pu_strdup(abuf)) != NULL;
end:
	return pu_finish(o, ok, r.fail, r.detail, "freeze", out, d);
}
