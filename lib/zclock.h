/*
 * zclock.h — time for a machine without a real-time clock.
 *
 * A Raspberry Pi has no RTC: after a boot without network its wall clock
 * is wrong (fake-hwclock's time of the last shutdown) until NTP, which may
 * never come.  CLOCK_BOOTTIME, on the other hand, is right about spans
 * within one boot and never steps.  An anchor pins one instant of a boot
 * (its CLOCK_BOOTTIME) to a trusted clock (the aggregator's); any other
 * instant of the same boot is then placed exactly:
 *     true(b) = anchor.true_us - (anchor.boot_us - b)
 * whatever the wall clock did in between (docs/PROTOCOL.md "Clock").
 * Everything here is pure arithmetic but zclock_boot_id, which reads
 * /proc.  Not thread-safe per object; no globals.
 */
#ifndef ZOND_ZCLOCK_H
#define ZOND_ZCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ZCLOCK_BOOT_ID_LEN 16

struct zclock_anchor {
	bool set;
	uint8_t boot_id[ZCLOCK_BOOT_ID_LEN];
	int64_t boot_us;	/* CLOCK_BOOTTIME of the instant */
	int64_t true_us;	/* the trusted clock at that instant */
};

/*
 * An anchor learnt from a reply that carries the trusted clock server_us:
 * it arrived at recv_boot_us; the request it answers left at sent_boot_us
 * (0 or later than recv_boot_us: unknown).  With a round trip the server
 * time is taken to be at its middle (NTP's assumption of symmetric paths).
 */
void zclock_learn(struct zclock_anchor *a,
    const uint8_t boot_id[ZCLOCK_BOOT_ID_LEN], int64_t sent_boot_us,
    int64_t recv_boot_us, int64_t server_us);

/* The trusted time of instant boot_us of the anchor's boot (a must be
 * set).  Saturates instead of overflowing. */
int64_t zclock_at(const struct zclock_anchor *a, int64_t boot_us);

/* How the aggregator placed a measurement in time. */
enum zclock_placed {
	ZCLOCK_SIGNED = 0,	/* its start_us as signed (a verified clock,
				 * or an agent that sends no ClockCheck) */
	ZCLOCK_BY_BOOT = 1,	/* unverified; placed by its boot's anchor */
	ZCLOCK_UNPLACED = 2,	/* unverified, no anchor of its boot */
};

/*
 * Place a measurement's start: check says whether it carries a ClockCheck
 * at all; unverified, boot_id (boot_id_len bytes) and boot_us (has_boot_us)
 * are its fields; a is the aggregator's anchor of the delivering agent's
 * current boot (may be unset).  Sets *placed_us and returns how.
 */
enum zclock_placed zclock_place(const struct zclock_anchor *a, bool check,
    bool unverified, const uint8_t *boot_id, size_t boot_id_len,
    bool has_boot_us, uint64_t boot_us, int64_t start_us,
    int64_t *placed_us);

const char *zclock_placed_name(enum zclock_placed p);

/*
 * Parse the text of /proc/sys/kernel/random/boot_id (a UUID, 36 characters
 * and a newline) into 16 bytes.  Pure.
 */
zerr_t zclock_parse_boot_id(const char *s,
    uint8_t id[ZCLOCK_BOOT_ID_LEN], zdiag_t *d) ZWUR;
/* Read this boot's id. */
zerr_t zclock_boot_id(uint8_t id[ZCLOCK_BOOT_ID_LEN], zdiag_t *d) ZWUR;

#endif
