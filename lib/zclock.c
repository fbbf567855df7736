/* zclock.c — see zclock.h. */
#include "zclock.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static int64_t
add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

void
zclock_learn(struct zclock_anchor *a,
    const uint8_t boot_id[ZCLOCK_BOOT_ID_LEN], int64_t sent_boot_us,
    int64_t recv_boot_us, int64_t server_us)
{
	a->set = true;
	memcpy(a->boot_id, boot_id, ZCLOCK_BOOT_ID_LEN);
	if (sent_boot_us > 0 && sent_boot_us <= recv_boot_us) {
		/* the server read its clock somewhere in the round trip:
		 * pin that to its middle */
		a->boot_us = sent_boot_us + (recv_boot_us - sent_boot_us) / 2;
	} else
		a->boot_us = recv_boot_us;
	a->true_us = server_us;
}

int64_t
zclock_at(const struct zclock_anchor *a, int64_t boot_us)
{
	/* boot times are CLOCK_BOOTTIME (>= 0); the difference of two
	 * cannot overflow, only adding it to a hostile true_us can */
	if (boot_us < 0 || a->boot_us < 0)
		return a->true_us;
	return add_sat(a->true_us, boot_us - a->boot_us);
}

enum zclock_placed
zclock_place(const struct zclock_anchor *a, bool check, bool unverified,
    const uint8_t *boot_id, size_t boot_id_len, bool has_boot_us,
    uint64_t boot_us, int64_t start_us, int64_t *placed_us)
{
	*placed_us = start_us;
	if (!check || !unverified)
		return ZCLOCK_SIGNED;
	if (a == NULL || !a->set || boot_id == NULL ||
	    boot_id_len != ZCLOCK_BOOT_ID_LEN || !has_boot_us ||
	    boot_us > INT64_MAX ||
	    memcmp(boot_id, a->boot_id, ZCLOCK_BOOT_ID_LEN) != 0)
		return ZCLOCK_UNPLACED;
	*placed_us = zclock_at(a, (int64_t)boot_us);
	return ZCLOCK_BY_BOOT;
}

const char *
zclock_placed_name(enum zclock_placed p)
{
	switch (p) {
	case ZCLOCK_SIGNED: return "signed";
	case ZCLOCK_BY_BOOT: return "boot";
	case ZCLOCK_UNPLACED: return "unplaced";
	}
	return "?";
}

zerr_t
zclock_parse_boot_id(const char *s, uint8_t id[ZCLOCK_BOOT_ID_LEN],
    zdiag_t *d)
{
	size_t n = strnlen(s, 38), bin = 0;
	const char *end = NULL;

	/* 8-4-4-4-12 hex digits, the dashes at 8, 13, 18, 23 and nowhere
	 * else (libsodium skips the dashes, the checks place them), then
	 * the end or one newline */
	if (n == 37 && s[36] == '\n')
		n = 36;
	if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-' || strchr(s, '-') != s + 8 ||
	    strrchr(s, '-') != s + 23 ||
	    sodium_hex2bin(id, ZCLOCK_BOOT_ID_LEN, s, 36, "-", &bin, &end) !=
	    0 || bin != ZCLOCK_BOOT_ID_LEN || end != s + 36)
		return zdiag_set(d, ZE_PARSE, "boot id '%.40s' is not a UUID "
		    "(8-4-4-4-12 hex digits)", s);
	return ZE_OK;
}

zerr_t
zclock_boot_id(uint8_t id[ZCLOCK_BOOT_ID_LEN], zdiag_t *d)
{
	char buf[64];
	FILE *f;
	size_t n;

	if ((f = fopen(BOOT_ID_PATH, "r")) == NULL)
		return zdiag_set(d, ZE_IO, "%s: %s", BOOT_ID_PATH,
		    strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return zclock_parse_boot_id(buf, id, d);
}
