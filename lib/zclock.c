/* zclock.c — see zclock.h. */
#include "zclock.h"

#include <errno.h>
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

zerr_t
zclock_parse_boot_id(const char *s, uint8_t id[ZCLOCK_BOOT_ID_LEN],
    zdiag_t *d)
{
	size_t n = 0, i;

	/* 8-4-4-4-12 hex digits; the dashes at 8, 13, 18, 23 */
	for (i = 0; s[i] != '\0' && s[i] != '\n' && i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				goto bad;
			continue;
		}
		if ((hi = hexval((unsigned char)s[i])) < 0 ||
		    s[i + 1] == '\0' ||
		    (lo = hexval((unsigned char)s[i + 1])) < 0)
			goto bad;
		id[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (i != 36 || n != ZCLOCK_BOOT_ID_LEN ||
	    (s[i] != '\0' && !(s[i] == '\n' && s[i + 1] == '\0')))
		goto bad;
	return ZE_OK;
bad:
	return zdiag_set(d, ZE_PARSE, "boot id '%.40s' is not a UUID "
	    "(8-4-4-4-12 hex digits)", s);
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
