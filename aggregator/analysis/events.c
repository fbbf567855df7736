/*
 * events.c — see events.h.  Invariant: an event never names insufficient
 * as its `to`; from == to only for a method change of a blocked or
 * throttled cell.
 */
#include "events.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "ztime.h"

#define TRY(x) do { zerr_t e_ = (x); if (e_ != ZE_OK) return e_; } while (0)

static bool
is_block(cell_verdict_t v)
{
	return v == CELL_BLOCKED || v == CELL_THROTTLED;
}

bool
event_make(int64_t time_us, const cell_t *now, cell_verdict_t prev,
    method_t prev_method, event_t *ev)
{
	if (now == NULL || now->verdict == CELL_INSUFFICIENT)
		return false;
	if (now->verdict == prev && (!is_block(prev) ||
	    now->method == prev_method))
		return false;
	memset(ev, 0, sizeof(*ev));
	ev->time_us = time_us;
	memcpy(ev->region, now->region, sizeof(ev->region));
	ev->region[sizeof(ev->region) - 1] = '\0';
	ev->asn = now->asn;
	memcpy(ev->service, now->service, sizeof(ev->service));
	ev->service[sizeof(ev->service) - 1] = '\0';
	ev->from = prev;
	ev->to = now->verdict;
	ev->method = is_block(now->verdict) ? now->method : METHOD_NONE;
	return true;
}

bool
event_first(const event_t *ev)
{
	return ev->from == CELL_INSUFFICIENT;
}

bool
event_news(const event_t *ev)
{
	return !event_first(ev) || ev->to != CELL_OK;
}

zerr_t
event_json(zbuf_t *b, const event_t *ev)
{
	char ts[32];

	TRY(zbuf_puts(b, "{\"time\":"));
	TRY(json_cstr(b, ztime_fmt_iso(ev->time_us, ts, sizeof(ts), 0)));
	TRY(zbuf_puts(b, ",\"region\":"));
	TRY(json_cstr(b, ev->region));
	TRY(zbuf_printf(b, ",\"asn\":%" PRId64 ",\"service\":", ev->asn));
	TRY(json_cstr(b, ev->service));
	TRY(zbuf_puts(b, ",\"from\":"));
	TRY(json_cstr(b, cell_verdict_name(ev->from)));
	TRY(zbuf_puts(b, ",\"to\":"));
	TRY(json_cstr(b, cell_verdict_name(ev->to)));
	TRY(zbuf_puts(b, ",\"method\":"));
	TRY(json_cstr(b, method_name(ev->method)));
	if (event_first(ev))
		TRY(zbuf_puts(b, ",\"first\":true"));
	if (ev->retracted)
		TRY(zbuf_puts(b, ",\"retracted\":true"));
	return zbuf_putc(b, '}');
}
