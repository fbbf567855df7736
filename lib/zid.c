/* zid.c — see zid.h. */
#include "zid.h"

#include <sodium.h>
#include <string.h>

#include "bytes.h"

void
zidgen_init(zidgen_t *g)
{
	memset(g, 0, sizeof(*g));
}

int64_t
zid_time_ms(const zid_t *id)
{
	/* the first 6 bytes, big-endian */
	return (int64_t)(be64_get(id->b) >> 16);
}

void
zid_floor(int64_t us, zid_t *id)
{
	int64_t ms = us < 0 ? 0 : us / 1000;

	memset(id, 0, sizeof(*id));
	be64_put(id->b, (uint64_t)ms << 16);
}

void
zid_next(zidgen_t *g, int64_t now_us, zid_t *out)
{
	int64_t ms = now_us / 1000;
	zid_t id;

	int64_t last = zid_time_ms(&g->last);

	/* clock stepped back a little: stay monotonic; by more than
	 * ZID_STEP_BACK_MS: start again from the clock, so that an id never
	 * runs ahead of its measurement's start (PROTOCOL.md "Ids") */
	if (ms < last && last - ms <= ZID_STEP_BACK_MS)
		ms = last;
	if (ms == last) {
		/* same millisecond: increment the random part, carry up */
		id = g->last;
		for (int i = ZID_LEN - 1; i >= 6; i--)
			if (++id.b[i] != 0)
				break;
	} else {
		zid_floor(ms * 1000, &id);
		randombytes_buf(id.b + 6, ZID_LEN - 6);
		id.b[6] &= 0x7f;	/* room to increment without overflow */
	}
	g->last = id;
	*out = id;
}
