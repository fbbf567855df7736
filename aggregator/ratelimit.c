/* ratelimit.c — see ratelimit.h. */
#include "ratelimit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t h;	/* the source's hash; 0: free */
	int64_t tat;	/* theoretical arrival time of its next pass, us */
};

struct rlimit {
	size_t nsets;
	int64_t interval;	/* us between passes at the steady rate */
	int64_t burst;		/* how far tat may run ahead of now */
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct slot s[];
};

rlimit_t *
rl_new(size_t slots, uint32_t rate_per_min)
{
	size_t nsets = (slots + RL_WAYS - 1) / RL_WAYS;
	rlimit_t *rl;

	if (nsets == 0)
		nsets = 1;
	if (rate_per_min == 0)
		rate_per_min = 1;
	rl = calloc(1, sizeof(*rl) + nsets * RL_WAYS * sizeof(struct slot));
	if (rl == NULL)
		return NULL;
	rl->nsets = nsets;
	rl->interval = 60000000LL / rate_per_min;
	rl->burst = (int64_t)(rate_per_min - 1) * rl->interval;
	crypto_shorthash_keygen(rl->key);
	return rl;
}

void
rl_free(rlimit_t **rl)
{
	if (rl == NULL || *rl == NULL)
		return;
	free(*rl);
	*rl = NULL;
}

size_t
rl_slots(const rlimit_t *rl)
{
	return rl->nsets * RL_WAYS;
}

bool
rl_allow(rlimit_t *rl, const void *src, size_t len, int64_t now_us)
{
	uint8_t hb[crypto_shorthash_BYTES];
	struct slot *set, *sl = NULL;
	uint64_t h;
	int64_t tat;

	crypto_shorthash(hb, src, len, rl->key);
	memcpy(&h, hb, sizeof(h));
	h |= 1;		/* 0 marks a free slot */
	set = &rl->s[(h >> 1) % rl->nsets * RL_WAYS];
	for (int i = 0; i < RL_WAYS; i++)
		if (set[i].h == h) {
			sl = &set[i];
			break;
		}
	if (sl == NULL) {
		/* a new source: the slot that owes least (free, or paid
		 * up, or the smallest debt) */
		sl = &set[0];
		for (int i = 1; i < RL_WAYS; i++)
			if (set[i].h == 0 || set[i].tat < sl->tat)
				sl = &set[i];
		sl->h = h;
		sl->tat = now_us;
	}
	tat = sl->tat > now_us ? sl->tat : now_us;
	if (tat - now_us > rl->burst)
		return false;
	sl->tat = tat + rl->interval;
	return true;
}
