/*
 * storeread.h — the per-agent reads the ingest tests check the store
 * with, built on the public store_tx_agent_walk (the roll-up's read of
 * the dedup index) in a read transaction of their own.
 */
#ifndef TESTS_INGEST_STOREREAD_H
#define TESTS_INGEST_STOREREAD_H

#include "store.h"

/* Every measurement of agent in seq order until fn != 0. */
zerr_t sr_agent_iter(store_t *s, const uint8_t agent[STORE_PK_LEN],
    store_meas_fn fn, void *arg, zdiag_t *d) ZWUR;
/* The id stored under (agent, seq); ZE_NOTFOUND if none. */
zerr_t sr_lookup(store_t *s, const uint8_t agent[STORE_PK_LEN],
    uint64_t seq, uint8_t id[STORE_ID_LEN], zdiag_t *d) ZWUR;

#endif
