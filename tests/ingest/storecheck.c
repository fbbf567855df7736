/*
 * storecheck — proves what the ingest tests claim about a data directory,
 * through the store's read API:
 *   - every stored record re-verifies (Ed25519 over the stored body with
 *     the stored agent key) and its derived fields match its body;
 *   - no (agent, seq) and no id is stored twice; dedup agrees;
 *   - with --agents N --count M --seed S: exactly agents first..first+N-1
 *     with seqs 1..M are stored, no more, no less;
 *   - with --acks FILE (a sender state file): every ACKed measurement is
 *     stored.
 * Prints one key=value line; exit 0 only if every check holds.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "sign.h"
#include "store.h"
#include "storeread.h"
#include "testagent.h"
#include "wire.h"

struct rec {
	uint8_t agent[KEY_PUB_LEN];
	uint64_t seq;
};

struct ctx {
	struct rec *r;
	size_t n, a;
	uint64_t bad;
	uint8_t last_id[STORE_ID_LEN];
	bool have_last;
	uint64_t id_order;
};

static int
on_meas(const struct store_meas *m, void *arg)
{
	struct ctx *c = arg;
	wire_meas_t *w = NULL;

	if (c->have_last && memcmp(c->last_id, m->id, STORE_ID_LEN) >= 0)
		c->id_order++;
	memcpy(c->last_id, m->id, STORE_ID_LEN);
	c->have_last = true;
	if (sign_verify(ZDOM_MEASUREMENT, m->agent, m->body, m->body_len,
	    m->sig) != ZE_OK ||
	    wire_meas_decode(m->body, m->body_len, &w, NULL) != ZE_OK ||
	    w->seq != m->seq || memcmp(w->agent.data, m->agent,
	    KEY_PUB_LEN) != 0 || memcmp(w->id.data, m->id, 16) != 0 ||
	    w->start_us != m->start_us)
		c->bad++;
	wire_meas_free(w);
	if (c->n == c->a) {
		c->a = c->a ? c->a * 2 : 4096;
		if ((c->r = realloc(c->r, c->a * sizeof(*c->r))) == NULL)
			abort();
	}
	memcpy(c->r[c->n].agent, m->agent, KEY_PUB_LEN);
	c->r[c->n].seq = m->seq;
	c->n++;
	return 0;
}

struct agent_walk {
	uint64_t n, last, order;
};

static int
on_agent_meas(const struct store_meas *m, void *arg)
{
	struct agent_walk *w = arg;

	if (m->seq <= w->last)
		w->order++;
	w->last = m->seq;
	w->n++;
	return 0;
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = memcmp(x->agent, y->agent, KEY_PUB_LEN);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 'S'},
		{"first", required_argument, NULL, 'f'},
		{"agents", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'm'},
		{"acks", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *seed = "test", *acks = NULL;
	unsigned first = 0, agents = 0;
	uint64_t count = 0, dups = 0, missing = 0, extra = 0, acked = 0;
	uint64_t ack_missing = 0;
	struct store_opts so;
	struct store_counts sc;
	struct rec *ack = NULL;
	size_t nack = 0, aack = 0;
	struct ctx c;
	store_t *s = NULL;
	zdiag_t d;
	int ch;
	bool ok;

	if (sodium_init() < 0)
		return 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'S': seed = optarg; break;
		case 'f': first = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': agents = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': count = strtoull(optarg, NULL, 10); break;
		case 'a': acks = optarg; break;
		default:
			return 2;
		}
	}
	if (data == NULL) {
		fprintf(stderr, "usage: storecheck --data DIR [--seed S "
		    "--agents N --count M] [--acks FILE]\n");
		return 2;
	}
	/*
	 * Read the ACK log before the store: an ACK is sent after its
	 * commit, so every ACK logged before this snapshot of the store was
	 * taken must be in it, even while the aggregator keeps running.
	 */
	if (acks != NULL) {
		FILE *f = fopen(acks, "r");
		char line[256];
		zkey_t *k;
		if (f == NULL) {
			perror(acks);
			return 2;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned idx;
			unsigned long long q;
			if (strchr(line, '\n') == NULL ||
			    sscanf(line, "A %u %llu", &idx, &q) != 2)
				continue;
			if (nack == aack) {
				aack = aack ? aack * 2 : 4096;
				if ((ack = realloc(ack, aack * sizeof(*ack))) ==
				    NULL)
					abort();
			}
			if (ta_key(seed, idx, &k) != ZE_OK)
				return 2;
			memcpy(ack[nack].agent, key_public(k), KEY_PUB_LEN);
			key_free(&k);
			ack[nack++].seq = q;
		}
		fclose(f);
	}
	memset(&so, 0, sizeof(so));
	so.readonly = true;
	if (store_open(data, &so, &s, &d) != ZE_OK) {
		fprintf(stderr, "storecheck: %s\n", d.text);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	if (store_meas_iter(s, NULL, NULL, on_meas, &c, &d) != ZE_OK ||
	    store_counts(s, &sc, &d) != ZE_OK) {
		fprintf(stderr, "storecheck: %s\n", d.text);
		return 1;
	}
	qsort(c.r, c.n, sizeof(*c.r), cmp_rec);
	for (size_t i = 1; i < c.n; i++)
		if (cmp_rec(&c.r[i - 1], &c.r[i]) == 0)
			dups++;
	if (agents > 0) {
		uint64_t found = 0;
		for (unsigned i = 0; i < agents; i++) {
			struct rec key, *lo_r;
			zkey_t *k;
			if (ta_key(seed, first + i, &k) != ZE_OK)
				return 2;
			memcpy(key.agent, key_public(k), KEY_PUB_LEN);
			key_free(&k);
			{
				/* the per-agent walk and the point reads
				 * must agree with the full scan */
				struct agent_walk w = {0, 0, 0};
				struct store_meas one;
				uint8_t id[STORE_ID_LEN];
				zbuf_t buf;
				if (sr_agent_iter(s, key.agent,
				    on_agent_meas, &w, &d) != ZE_OK ||
				    w.n != count || w.order != 0)
					c.bad++;
				zbuf_init(&buf, 1 << 20);
				if (count > 0 && (sr_lookup(s,
				    key.agent, count, id, &d) != ZE_OK ||
				    store_meas_get(s, id, &one, &buf, &d) !=
				    ZE_OK || one.seq != count ||
				    memcmp(one.agent, key.agent,
				    KEY_PUB_LEN) != 0))
					c.bad++;
				zbuf_free(&buf);
			}
			for (uint64_t q = 1; q <= count; q++) {
				key.seq = q;
				lo_r = bsearch(&key, c.r, c.n, sizeof(*c.r),
				    cmp_rec);
				if (lo_r == NULL)
					missing++;
				else
					found++;
			}
		}
		extra = c.n - dups > found ? c.n - dups - found : 0;
	}
	for (size_t i = 0; i < nack; i++)
		if (bsearch(&ack[i], c.r, c.n, sizeof(*c.r), cmp_rec) == NULL)
			ack_missing++;
	acked = nack;
	/*
	 * The scan and the counts are two read transactions; the aggregator
	 * may commit between them when checked while it runs.  Each is
	 * consistent on its own: meas and dedup agree inside one, and the
	 * later one holds at least what the scan saw.
	 */
	ok = c.bad == 0 && dups == 0 && missing == 0 && extra == 0 &&
	    ack_missing == 0 && c.id_order == 0 && sc.meas == sc.dedup &&
	    sc.meas >= c.n;
	printf("measurements=%zu dedup=%" PRIu64
	    " bad=%" PRIu64 " dups=%" PRIu64 " missing=%" PRIu64 " extra=%"
	    PRIu64 " acked=%" PRIu64 " ack_missing=%" PRIu64 " order_errors=%"
	    PRIu64 " ok=%d\n", c.n, sc.dedup, c.bad, dups,
	    missing, extra, acked, ack_missing, c.id_order, ok);
	free(c.r);
	free(ack);
	store_close(&s);
	return ok ? 0 : 1;
}
