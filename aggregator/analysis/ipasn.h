/*
 * ipasn.h — an IP-to-ASN table in the iptoasn.com TSV format
 * (ip2asn-v4.tsv, ip2asn-v6.tsv, ip2asn-combined.tsv; public domain data
 * from https://iptoasn.com/), for DNS consistency (docs/METHODOLOGY.md
 * §2.3): two answers in the same ASN are the same operator's.
 *
 * One row a line, five tab-separated fields:
 *   range_start  range_end  AS_number  country_code  AS_description
 * with IPv4 or IPv6 text addresses (both ends of one family), the ends
 * included.  Rows of one family are sorted and do not overlap; the two
 * families may come in either order (the combined file has both).  ASN 0
 * ("Not routed") means no ASN: lookups there find none.
 *
 * The loader is strict: the first bad line is refused as "file:line:
 * what" and nothing is loaded.  Lookups are a binary search, O(log n).
 * A loaded table is immutable: share it between threads freely; free it
 * after the last user.
 */
#ifndef ZOND_IPASN_H
#define ZOND_IPASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define IPASN_MAX_FILE (512u * 1024 * 1024)	/* bytes; today's combined
						 * file is under 40 MB */
#define IPASN_MAX_LINE 1024	/* bytes of one row, newline excluded */
#define IPASN_MAX_CC 8		/* country code: "RU", "None", ... */
#define IPASN_MAX_DESC 512	/* AS description */

struct ipasn;

/* Parse the rows in buf[0..len) (name is the file named in messages).
 * Caller frees *out with ipasn_free. */
zerr_t ipasn_parse(const char *name, const char *buf, size_t len,
    struct ipasn **out, zdiag_t *d) ZWUR;

/* Read and parse the file path (at most IPASN_MAX_FILE bytes). */
zerr_t ipasn_load(const char *path, struct ipasn **out, zdiag_t *d) ZWUR;

void ipasn_free(struct ipasn **t);

/* The ASN of an address: fam 4 (addr[0..4)) or 6 (addr[0..16), network
 * order).  0 when no row holds it or its row says "Not routed".  t may
 * be NULL (no table: 0).  Thread-safe. */
uint32_t ipasn_lookup(const struct ipasn *t, int fam, const uint8_t *addr);

/* The same for a text address ("192.0.2.1", "2001:db8::1"); 0 when it
 * does not parse. */
uint32_t ipasn_lookup_str(const struct ipasn *t, const char *addr);

/* Rows kept per family (routed rows only), for logs. */
void ipasn_count(const struct ipasn *t, size_t *n4, size_t *n6);

#endif
