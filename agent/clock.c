/*
 * clock.c — see clock.h.  The file state_dir/clock is one line,
 * "zond-clock 1 BOOT_ID_HEX BOOT_US TRUE_US", written to a temporary file
 * and renamed (0600).  It is rewritten only when the anchor first appears
 * in a boot or the kept one is off by more than a second: an SD card is
 * not written on every reply.
 */
#include "clock.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "ztime.h"

#define RESAVE_US 1000000	/* kept anchor off by this much: write */

/* The process's anchor for other threads (aclock_cert_time_us): one
 * aclock per agent process. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zclock_anchor shared;

static void
share(const aclock_t *c)
{
	pthread_mutex_lock(&shared_mu);
	shared = c->a;
	pthread_mutex_unlock(&shared_mu);
}

int64_t
aclock_cert_time_us(void)
{
	struct zclock_anchor a;

	pthread_mutex_lock(&shared_mu);
	a = shared;
	pthread_mutex_unlock(&shared_mu);
	return a.set ? zclock_at(&a, ztime_boot_us()) : ztime_now_us();
}

static void
load(aclock_t *c)
{
	char line[160], hex[33], want[33];
	long long bu, tu;
	FILE *f;

	if ((f = fopen(c->path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("clock: %s", c->path);
		return;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "zond-clock 1 %32s %lld %lld", hex, &bu, &tu) != 3 ||
	    bu < 0 || tu <= 0) {
		log_warnx("clock: %s: not understood; ignored", c->path);
		fclose(f);
		return;
	}
	fclose(f);
	sodium_bin2hex(want, sizeof(want), c->boot_id, 16);
	if (strcmp(hex, want) != 0) {
		log_info("clock: %s is of another boot; the time is not known "
		    "yet", c->path);
		return;
	}
	c->a.set = true;
	memcpy(c->a.boot_id, c->boot_id, ZCLOCK_BOOT_ID_LEN);
	c->a.boot_us = bu;
	c->a.true_us = tu;
	c->saved_boot_us = bu;
	c->saved_true_us = tu;
	share(c);
	log_info("clock: known from %s (this boot) offset_ms=%lld", c->path,
	    (long long)((zclock_at(&c->a, ztime_boot_us()) -
	    ztime_now_us()) / 1000));
}

static void
save(aclock_t *c)
{
	char hex[33], buf[160];
	zdiag_t d;
	int n;

	if (c->path[0] == '\0')
		return;
	/* noted before trying: a directory that cannot be written is tried
	 * again only when the anchor moved, not on every reply */
	c->saved_boot_us = c->a.boot_us;
	c->saved_true_us = c->a.true_us;
	sodium_bin2hex(hex, sizeof(hex), c->boot_id, 16);
	n = snprintf(buf, sizeof(buf), "zond-clock 1 %s %" PRId64 " %" PRId64
	    "\n", hex, c->a.boot_us, c->a.true_us);
	if (bytes_write_file(c->path, buf, (size_t)n, 0600, &d) != ZE_OK)
		log_warnx("clock: %s", d.text);
}

void
aclock_init(aclock_t *c, const char *state_dir)
{
	zdiag_t d;

	memset(c, 0, sizeof(*c));
	if (zclock_boot_id(c->boot_id, &d) != ZE_OK) {
		log_warnx("clock: %s; measurements before the first reply "
		    "cannot be placed in time by the aggregator", d.text);
		return;
	}
	c->have_boot = true;
	if (state_dir != NULL && (size_t)snprintf(c->path, sizeof(c->path),
	    "%s/clock", state_dir) < sizeof(c->path))
		load(c);
	else
		c->path[0] = '\0';
}

void
aclock_learn(aclock_t *c, int64_t sent_boot_us, int64_t recv_boot_us,
    int64_t server_us, bool precise)
{
	struct zclock_anchor was = c->a;
	int64_t off;

	if (server_us <= 0 || (!precise && c->a.set))
		return;
	zclock_learn(&c->a, c->boot_id, sent_boot_us, recv_boot_us,
	    server_us);
	c->learnt++;
	share(c);
	off = zclock_at(&c->a, recv_boot_us) - ztime_now_us();
	if (!was.set) {
		log_info("clock: learnt the time from the aggregator "
		    "offset_ms=%lld", (long long)(off / 1000));
	}
	if (!c->have_boot)
		return;
	if (!was.set) {
		save(c);
		return;
	}
	{
		struct zclock_anchor kept = c->a;
		int64_t diff;

		kept.boot_us = c->saved_boot_us;
		kept.true_us = c->saved_true_us;
		diff = zclock_at(&kept, c->a.boot_us) - c->a.true_us;
		if (diff > RESAVE_US || diff < -RESAVE_US)
			save(c);
	}
}

bool
aclock_known(const aclock_t *c)
{
	return c->a.set;
}

void
aclock_stamp(const aclock_t *c, int64_t wall_us, int64_t boot_us,
    int64_t *start_us, Zond__V1__ClockCheck *cc)
{
	cc->has_unverified = 1;
	if (c->have_boot) {
		cc->has_boot_id = 1;
		cc->boot_id.data = (uint8_t *)(uintptr_t)c->boot_id;
		cc->boot_id.len = ZCLOCK_BOOT_ID_LEN;
		cc->has_boot_us = 1;
		cc->boot_us = (uint64_t)(boot_us > 0 ? boot_us : 0);
	}
	if (!c->a.set) {
		cc->unverified = 1;
		*start_us = wall_us;
		return;
	}
	cc->unverified = 0;
	*start_us = zclock_at(&c->a, boot_us);
	cc->has_offset_us = 1;
	cc->offset_us = *start_us - wall_us;
}
