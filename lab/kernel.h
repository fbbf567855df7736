/*
 * kernel.h — the part of the censorship the kernel does: one nftables
 * table (inet zond_censor_TAG) for drops, resets, loss, freezes and the
 * per-flow marks, and one iptables-nft chain (ZC_TAG) that sends the
 * packets userspace must read to NFQUEUE (this kernel has no nftables
 * `queue` statement).
 *
 * Text generation is pure (kernel_nft_script, kernel_queue_rules,
 * kernel_parse_counters) so it can be tested without root; install,
 * remove and counter reading run nft/iptables as child processes, never
 * through a shell.  Remove is idempotent and quiet about what is already
 * gone, so it doubles as --cleanup.
 */
#ifndef ZOND_LAB_KERNEL_H
#define ZOND_LAB_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"
#include "zbuf.h"

/* Packet marks userspace gives a flow; the nft table copies them into the
 * conntrack mark and acts on every later packet of the flow. */
#define KMARK_MASK	0xffff0000u
#define KMARK_BASE	0x5a000000u
#define KMARK_DROP	0x5a010000u	/* drop the flow from now on */
#define KMARK_THROTTLE	0x5a020000u	/* rate-limit the flow */
#define KMARK(kind, rule) ((kind) | ((uint32_t)(rule) & 0xffffu))

#define KERNEL_TAG_MAX	20
#define KERNEL_IF_MAX	16

struct kernel_opts {
	char tag[KERNEL_TAG_MAX + 1];	/* [a-z0-9_], from the ISP name */
	char lan[KERNEL_IF_MAX];	/* client side; "" = any */
	char wan[KERNEL_IF_MAX];	/* world side; "" = any */
	unsigned queue;			/* NFQUEUE number */
};

/* Fill o->tag from an ISP name: lowercase letters, digits and '_' (other
 * bytes become '_'), at most KERNEL_TAG_MAX.  False for an empty name. */
bool kernel_set_tag(struct kernel_opts *o, const char *isp);

/* Is s a plausible interface name (1..15 of [A-Za-z0-9_.@-])? */
bool kernel_ifname_ok(const char *s);

/* The nft script that (re)creates the table for rs.  Pure. */
zerr_t kernel_nft_script(const struct ruleset *rs,
    const struct kernel_opts *o, zbuf_t *out) ZWUR;

/* The iptables rules of the queue chain, one per line, as arguments
 * after "iptables -A CHAIN".  Pure.  Empty when no rule needs userspace. */
zerr_t kernel_queue_rules(const struct ruleset *rs,
    const struct kernel_opts *o, zbuf_t *out) ZWUR;

/* Add the packet counts of `nft list table` output (text) to
 * counts[rule] for every rule commented "zond:rN" with N < n.  Pure. */
void kernel_parse_counters(const char *text, size_t len, uint64_t *counts,
    size_t n);

/* Install everything for rs (replacing leftovers of the same tag). */
zerr_t kernel_install(const struct ruleset *rs, const struct kernel_opts *o,
    zdiag_t *d) ZWUR;

/* Remove the table and the chain of o->tag; what is missing is fine. */
void kernel_remove(const struct kernel_opts *o);

/* Add the kernel's per-rule packet counts to counts[0..n). */
zerr_t kernel_read_counters(const struct kernel_opts *o, uint64_t *counts,
    size_t n, zdiag_t *d) ZWUR;

#endif
