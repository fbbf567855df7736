/*
 * scheduler.h — when each test runs, on which worker, how often retried.
 *
 * Each target runs every interval (its own or the default) plus a uniform
 * random spread in [0, jitter); due targets are started in random order;
 * at most `concurrency` probes run at once, each on a worker thread.  A
 * failing attempt is retried up to `retries` times (after retry_delay) and
 * only the last attempt is reported, with the attempt count, so one lost
 * packet does not become a failure.  Targets whose ip is "helper" use the
 * configured helper address; tests that connect to an address (the probe
 * table's `connects`, probe.h) resolve a host-name target with the system
 * resolver first; for tcp, tls and http tests of a name the answer is
 * kept (resolve.h) and, after the attempts, checked once against DoH.
 * A failure censorship causes is then localized (probe_locate.h), within
 * the rate limits of sched_opts, before the result is handed back.
 *
 * Threads: sched_* functions other than the workers are called from the
 * agent's main loop only.  Results come back through sched_pop(); sched_fd()
 * becomes readable when there are some.
 */
#ifndef AGENT_SCHEDULER_H
#define AGENT_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"
#include "targets.h"

struct sched_opts {
	int64_t interval_ms;
	int64_t jitter_ms;
	int64_t retry_delay_ms;
	int concurrency;
	int retries;
	const char *helper;	/* address for ip = "helper"; NULL: none */
	bool locate;		/* localize failures (probe_locate.h) */
	unsigned locate_max_ttl;
	int64_t locate_interval_ms;	/* per target */
	int locate_per_hour;		/* all targets */
};

typedef struct sched_result {
	size_t target;			/* index into the targets */
	Zond__V1__Outcome *outcome;	/* owned; freed by sched_result_free */
	Zond__V1__Resolution *resolution;	/* owned; tcp, tls, http
						 * of a name (resolve.h) */
	Zond__V1__Localization *locate;	/* owned; a failure localized
					 * (probe_locate.h) */
	int64_t start_us;		/* wall clock, first attempt */
	int64_t boot_us;		/* CLOCK_BOOTTIME then (clock.h) */
	int64_t duration_us;		/* all attempts */
	struct sched_result *next;
} sched_result_t;

typedef struct sched sched_t;

/* Starts the workers.  t and env must outlive the scheduler. */
zerr_t sched_new(const struct sched_opts *o, const targets_t *t,
    const probe_env_t *env, sched_t **out) ZWUR;
/* Stop the workers, waiting for running probes (bounded by their
 * timeouts, and a running localization by LOCATE_MAX_MS); finished
 * results stay for sched_pop. */
void sched_stop(sched_t *s);
/* sched_stop, then free, dropping unread results. */
void sched_free(sched_t **s);

int sched_fd(const sched_t *s);
/* Start every due target; now is CLOCK_MONOTONIC microseconds. */
void sched_dispatch(sched_t *s, int64_t now_us);
/* Start every target now, once (for --once). */
void sched_run_all(sched_t *s);
/* Monotonic time of the next due target (INT64_MAX when none). */
int64_t sched_next_due(const sched_t *s);
/* Targets queued or running. */
size_t sched_busy(sched_t *s);
/* Next finished result or NULL. */
sched_result_t *sched_pop(sched_t *s);
void sched_result_free(sched_result_t *r);

#endif
