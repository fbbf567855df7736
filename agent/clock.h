/*
 * clock.h — the agent's time on a machine without a real-time clock.
 *
 * The agent learns the aggregator's time from its replies (Downlink
 * server_us) and pins it to CLOCK_BOOTTIME (lib/zclock.h): once it has
 * one such anchor in this boot it "knows the time", and a measurement's
 * start_us is the anchored time of its CLOCK_BOOTTIME instead of the wall
 * clock, whatever the wall clock or NTP do.  Before that, start_us is the
 * wall clock and the measurement is marked unverified; its boot id and
 * CLOCK_BOOTTIME let the aggregator place it (docs/PROTOCOL.md "Clock").
 * The anchor is kept in state_dir/clock with the boot id, so a restart of
 * the agent in the same boot keeps it; another boot ignores it.
 * Used from the main loop only (not thread-safe).
 */
#ifndef AGENT_CLOCK_H
#define AGENT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "zclock.h"
#include "zond.pb-c.h"

typedef struct aclock {
	bool have_boot;			/* boot_id was read */
	uint8_t boot_id[ZCLOCK_BOOT_ID_LEN];
	struct zclock_anchor a;		/* set: the time is known */
	char path[4096];		/* "" : not persisted */
	int64_t saved_boot_us;		/* anchor instant last written */
	int64_t saved_true_us;
	uint64_t learnt;		/* replies that set the anchor */
} aclock_t;

/* Read the boot id and, when state_dir is not NULL, the anchor kept there
 * for this boot.  Problems are logged; the clock then starts unknown. */
void aclock_init(aclock_t *c, const char *state_dir);

/*
 * A reply carrying server_us arrived at recv_boot_us (CLOCK_BOOTTIME).
 * sent_boot_us: when the request it answers left (0: unknown; its round
 * trip is then not corrected).  precise: it answers a Hello or Heartbeat
 * at once (an Ack waits for a commit, so it only sets a first anchor).
 */
void aclock_learn(aclock_t *c, int64_t sent_boot_us, int64_t recv_boot_us,
    int64_t server_us, bool precise);

/* The time is known in this boot. */
bool aclock_known(const aclock_t *c);

/*
 * The start of a measurement taken at wall_us / boot_us: *start_us (the
 * anchored time when known, else wall_us) and the ClockCheck to sign
 * (cc initialised by the caller; boot_id points into c).
 */
void aclock_stamp(const aclock_t *c, int64_t wall_us, int64_t boot_us,
    int64_t *start_us, Zond__V1__ClockCheck *cc);

/*
 * The time to check certificates at, for any thread: the anchored time of
 * now when the process knows it (the last aclock_learn or aclock_init
 * with an anchor), else the wall clock.  A Pi booted at 1970 would find
 * every certificate "not yet valid" by its wall clock.
 */
int64_t aclock_cert_time_us(void);

#endif
