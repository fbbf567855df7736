/*
 * daemon.h — the agent's measurement loop (daemon.c) in three steps, so a
 * caller (main; the privilege-separated agent to come) can set up, run
 * and tear down apart:
 *   agent_open   check the config, open the outbox, drop privileges,
 *                connect the uplink, start the scheduler;
 *   agent_step   one tick of the poll loop (daemon.c lists what it does);
 *   agent_close  stop the scheduler, store what finished, free all.
 * One agent per process (signals are process-wide); all three are called
 * from one thread.  Failures are logged where they happen.
 */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include "config.h"
#include "key.h"
#include "probe.h"
#include "scheduler.h"
#include "targets.h"

typedef struct agent agent_t;

enum agent_step {
	AGENT_GO,	/* call agent_step again */
	AGENT_STOP,	/* SIGINT/SIGTERM, or the loop cannot go on */
	AGENT_DONE,	/* [schedule] rounds measured and delivered */
};

/* Set up; c, k, t, env and so must outlive the agent.  On success *out
 * is a new agent (agent_close frees it). */
zerr_t agent_open(const struct agent_conf *c, const zkey_t *k,
    const targets_t *t, const probe_env_t *env, const struct sched_opts *so,
    agent_t **out) ZWUR;
/* One tick of the loop: waits at most about a second. */
enum agent_step agent_step(agent_t *a);
/* Accepts NULL and clears the pointer. */
void agent_close(agent_t **a);

/* open, step until stopped or done, close: the process exit status (1
 * when set-up failed, else 0). */
/* The uid and gid of [agent] user when this process is root and will
 * switch to it; both -1 otherwise (files it creates stay as they are). */
void agent_user_ids(const char *user, long *uid, long *gid);
int agent_daemon(const struct agent_conf *c, const zkey_t *k,
    const targets_t *t, const probe_env_t *env,
    const struct sched_opts *so);

#endif
