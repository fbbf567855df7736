/* daemon.h — the agent's measurement loop (daemon.c). */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include "config.h"
#include "key.h"
#include "probe.h"
#include "scheduler.h"
#include "targets.h"

/* Run until SIGINT/SIGTERM, or until [schedule] rounds are done and
 * delivered.  Returns the process exit status. */
int agent_daemon(const struct agent_conf *c, const zkey_t *k,
    const targets_t *t, const probe_env_t *env,
    const struct sched_opts *so);

#endif
