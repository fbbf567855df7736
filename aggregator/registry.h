/*
 * registry.h — enrolling agents: validation of what an operator types
 * (public key, ISO 3166-2 region, ASN, role, name) before it reaches the
 * store.  Parsers are pure functions; registry_enroll writes through the
 * store.  Thread-safe.
 */
#ifndef AGGREGATOR_REGISTRY_H
#define AGGREGATOR_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* ISO 3166-2 shape: two capital letters, '-', one to three capital
 * letters or digits ("RU-MOW", "RU-SPE", "UA-43"). */
zerr_t registry_check_region(const char *s, zdiag_t *d) ZWUR;
/* "probe" or "control". */
zerr_t registry_parse_role(const char *s, enum store_role *r,
    zdiag_t *d) ZWUR;
/* Decimal 1..4294967295, optionally prefixed "AS". */
zerr_t registry_parse_asn(const char *s, uint32_t *asn, zdiag_t *d) ZWUR;
/* Printable, no control characters, under STORE_NAME_LEN bytes. */
zerr_t registry_check_name(const char *s, zdiag_t *d) ZWUR;

/* "fixed", "mobile" or "unknown". */
zerr_t registry_parse_network(const char *s, enum store_network *n,
    zdiag_t *d) ZWUR;

/* Validate everything, then enroll (or update) the agent, enabled.
 * name and role may be NULL (empty name, probe). */
zerr_t registry_enroll(store_t *s, const char *pubkey_hex,
    const char *region, const char *asn, const char *name,
    const char *role, bool *created, zdiag_t *d) ZWUR;
/* The same with the access network (NULL: unknown for a new agent, kept
 * for an enrolled one). */
zerr_t registry_enroll_net(store_t *s, const char *pubkey_hex,
    const char *region, const char *asn, const char *name,
    const char *role, const char *network, bool *created, zdiag_t *d) ZWUR;

#endif
