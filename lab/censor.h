/*
 * censor.h — what zond-censor does with one packet read from NFQUEUE.
 *
 * censor_decide() is pure: from the rules and the packet bytes it returns
 * a verdict (accept or drop), a mark for the flow (the nft table turns it
 * into a conntrack mark: drop the flow, or rate-limit it), the rule that
 * matched, and up to CENSOR_MAX_INJECT forged packets to send first.  The
 * queue loop (queue.c) carries the decision out.  Rules are tried in file
 * order; the first that matches decides.
 */
#ifndef ZOND_LAB_CENSOR_H
#define ZOND_LAB_CENSOR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forge.h"
#include "pkt.h"
#include "rules.h"

#define CENSOR_MAX_INJECT 2

enum censor_verdict { CV_ACCEPT, CV_DROP };

struct censor_decision {
	enum censor_verdict verdict;
	uint32_t mark;		/* 0: leave the packet's mark alone */
	int rule;		/* index of the matching rule, -1: none */
	char name[PKT_NAME_MAX];	/* the SNI, Host or query name seen */
	struct pkt pkt;		/* the packet's headers */
	size_t ninject;
	struct {
		struct in_addr dst;
		size_t len;
		uint8_t buf[FORGE_MAX];
	} inject[CENSOR_MAX_INJECT];
};

void censor_decide(const struct ruleset *rs, const uint8_t *p, size_t len,
    struct censor_decision *out);

#endif
