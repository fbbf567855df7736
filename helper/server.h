/*
 * server.h — zond-helper's sockets and its one poll loop.
 *
 * helper_new() binds every configured endpoint and makes the TLS
 * context (so it needs privilege for ports below 1024); helper_drop()
 * then switches to the unprivileged user; helper_run() serves until
 * SIGTERM or SIGINT.  Not thread-safe: one helper per process.
 */
#ifndef HELPER_SERVER_H
#define HELPER_SERVER_H

#include "config.h"
#include "err.h"

struct helper;

zerr_t helper_new(const struct helper_conf *c, struct helper **out,
    zdiag_t *d) ZWUR;

/* When running as root, become user (groups, gid, uid), and check that
 * root cannot be regained.  Without root, or with user "" (the lab, which
 * runs everything as root in namespaces), does nothing. */
zerr_t helper_drop(const char *user, zdiag_t *d) ZWUR;

/* Serve until SIGTERM/SIGINT; returns 0 on a clean stop. */
int helper_run(struct helper *h);

void helper_free(struct helper **h);

#endif
