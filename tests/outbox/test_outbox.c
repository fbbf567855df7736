/*
 * test_outbox — the outbox keeps what it accepted, in seq order, and
 * only what it was told to delete; sequence numbers never repeat across
 * close and reopen; the disk budget drops the oldest first and counts them
 * exactly; the map grows, and at its limit evicts instead of failing.
 * Real LMDB environments in temporary directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "log.h"
#include "outbox.h"
#include "sign.h"
#include "wire.h"

struct fx {
	char dir[256];
	zkey_t *k;
	zbuf_t body;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || th_tmpdir(f->dir, sizeof(f->dir)) != 0 ||
	    key_generate(&f->k) != ZE_OK)
		return -1;
	zbuf_init(&f->body, WIRE_MAX_MEASUREMENT);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	th_rmdir(f->dir);
	key_free(&f->k);
	zbuf_free(&f->body);
	free(f);
	return 0;
}

/* Put a raw item of n filler bytes under the next seq; returns the seq. */
static uint64_t
put_raw(outbox_t *ob, size_t n)
{
	uint8_t *b = malloc(n), sig[KEY_SIG_LEN];
	uint64_t seq;
	zdiag_t d;

	assert_non_null(b);
	assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
	for (size_t i = 0; i < n; i++)
		b[i] = th_byte(seq, i);
	memset(sig, (int)(seq & 0xff), sizeof(sig));
	if (outbox_put(ob, seq, b, n, sig, &d) != ZE_OK)
		fail_msg("put seq %llu: %s", (unsigned long long)seq, d.text);
	free(b);
	return seq;
}

struct seen {
	uint64_t seq[4096];
	size_t n;
	size_t bad;	/* items whose bytes are not what was put */
	const uint8_t *pk;	/* when set, signatures must verify */
};

static int
record(const struct outbox_item *it, void *arg)
{
	struct seen *s = arg;
	wire_meas_t *m;

	if (s->n < ZARRAY_LEN(s->seq))
		s->seq[s->n++] = it->seq;
	if (s->pk != NULL) {
		if (sign_verify(ZDOM_MEASUREMENT, s->pk, it->body, it->len,
		    it->sig) != ZE_OK ||
		    wire_meas_decode(it->body, it->len, &m, NULL) != ZE_OK) {
			s->bad++;
			return 0;
		}
		if (m->seq != it->seq)
			s->bad++;
		wire_meas_free(m);
		return 0;
	}
	for (size_t i = 0; i < it->len; i++)
		if (it->body[i] != th_byte(it->seq, i)) {
			s->bad++;
			break;
		}
	for (size_t i = 0; i < KEY_SIG_LEN; i++)
		if (it->sig[i] != (uint8_t)(it->seq & 0xff)) {
			s->bad++;
			break;
		}
	return 0;
}

static void
open_ok(struct fx *f, int64_t budget, outbox_t **ob)
{
	zdiag_t d;

	if (outbox_open(f->dir, budget, ob, &d) != ZE_OK)
		fail_msg("open: %s", d.text);
}

/* put, iterate, peek, ack, drop; then the same after reopening */
static void
t_round_trip(void **state)
{
	struct fx *f = *state;
	struct outbox_stats st;
	struct seen s;
	outbox_t *ob;
	uint8_t sig[KEY_SIG_LEN], buf[WIRE_MAX_MEASUREMENT], sig2[KEY_SIG_LEN];
	uint64_t seq, seqs[10], acks[3], drop;
	uint64_t bytes = 0;
	size_t n, len;
	zdiag_t d;

	open_ok(f, 1 << 20, &ob);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 0);
	assert_int_equal(st.last_seq, 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
		assert_true(i == 0 || seq > seqs[i - 1]);
		seqs[i] = seq;
		assert_int_equal(th_meas(f->k, seq, (size_t)i * 100, &f->body,
		    sig), 0);
		assert_int_equal(outbox_put(ob, seq, f->body.data,
		    f->body.len, sig, &d), ZE_OK);
		bytes += 8 + KEY_SIG_LEN + f->body.len;
	}
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 10);
	assert_int_equal(st.bytes, bytes);
	assert_int_equal(st.last_seq, seqs[9]);

	/* All, in order, intact. */
	memset(&s, 0, sizeof(s));
	s.pk = key_public(f->k);
	assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 10);
	assert_int_equal(s.bad, 0);
	assert_memory_equal(s.seq, seqs, sizeof(seqs));
	/* From the middle, bounded. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_iter(ob, seqs[4], 3, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(s.seq, &seqs[4], 3 * sizeof(uint64_t));
	/* Peek copies one item. */
	assert_int_equal(outbox_peek(ob, seqs[7], &seq, buf, sizeof(buf),
	    &len, sig2, &d), ZE_OK);
	assert_int_equal(seq, seqs[7]);
	assert_int_equal(sign_verify(ZDOM_MEASUREMENT, key_public(f->k), buf,
	    len, sig2), ZE_OK);
	assert_int_equal(outbox_peek(ob, seqs[9] + 1, &seq, buf, sizeof(buf),
	    &len, sig2, &d), ZE_NOTFOUND);

	/* Ack two stored items and one that is not there. */
	acks[0] = seqs[1];
	acks[1] = seqs[3];
	acks[2] = seqs[9] + 1000;
	assert_int_equal(outbox_ack(ob, acks, 3, &n, &d), ZE_OK);
	assert_int_equal(n, 2);
	/* Acking again changes nothing. */
	assert_int_equal(outbox_ack(ob, acks, 3, &n, &d), ZE_OK);
	assert_int_equal(n, 0);
	drop = seqs[2];
	assert_int_equal(outbox_drop(ob, &drop, 1, "bad_signature", &n, &d),
	    ZE_OK);
	assert_int_equal(n, 1);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 7);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.dropped, 0);
	bytes = st.bytes;
	outbox_close(&ob);
	assert_null(ob);

	/* Reopen: the same items and counters; seqs go on without reuse. */
	open_ok(f, 1 << 20, &ob);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 7);
	assert_int_equal(st.bytes, bytes);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.last_seq, seqs[9]);
	memset(&s, 0, sizeof(s));
	s.pk = key_public(f->k);
	assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 7);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.seq[0], seqs[0]);
	assert_int_equal(s.seq[1], seqs[4]);
	assert_int_equal(s.seq[6], seqs[9]);
	assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
	assert_true(seq > seqs[9]);

	/* Refused puts: a seq already used, one never handed out, sizes. */
	assert_int_equal(outbox_put(ob, seqs[9], f->body.data, f->body.len,
	    sig, &d), ZE_INVAL);
	assert_int_equal(outbox_put(ob, seq + 1, f->body.data, f->body.len,
	    sig, &d), ZE_INVAL);
	assert_int_equal(outbox_put(ob, seq, buf, WIRE_MAX_MEASUREMENT + 1,
	    sig, &d), ZE_TOOBIG);
	assert_int_equal(outbox_put(ob, seq, buf, 0, sig, &d), ZE_INVAL);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 7);
	outbox_close(&ob);
	outbox_close(&ob);	/* NULL is fine */
}

/* Seqs handed out but never put are not handed out again either. */
static void
t_seq_never_reused(void **state)
{
	struct fx *f = *state;
	outbox_t *ob;
	uint64_t seq, max = 0;
	zdiag_t d;

	for (int round = 0; round < 3; round++) {
		open_ok(f, 1 << 20, &ob);
		/* Cross a reservation block in one of the rounds. */
		for (int i = 0; i < (round == 1 ? OUTBOX_SEQ_BLOCK + 5 : 3);
		    i++) {
			assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
			assert_true(seq > max);
			max = seq;
		}
		if (round == 2)
			max = put_raw(ob, 100);
		outbox_close(&ob);
	}
	open_ok(f, 1 << 20, &ob);
	assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
	assert_int_equal(seq, max + 1);	/* clean close: no gap */
	outbox_close(&ob);
}

/* Over the budget, the oldest go first; the count is exact and kept. */
static void
t_budget(void **state)
{
	struct fx *f = *state;
	const int64_t budget = OUTBOX_MIN_BUDGET;
	const size_t len = 1000, cost = 8 + KEY_SIG_LEN + 1000;
	const uint64_t keep = (uint64_t)budget / cost;
	struct outbox_stats st;
	struct seen s;
	outbox_t *ob;
	uint64_t first = 0, last = 0, seq;
	size_t n;
	zdiag_t d;

	open_ok(f, budget, &ob);
	for (int i = 0; i < 500; i++) {
		seq = put_raw(ob, len);
		if (i == 0)
			first = seq;
		last = seq;
		outbox_stats(ob, &st);
		assert_true(st.bytes <= (uint64_t)budget);
	}
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, keep);
	assert_int_equal(st.dropped, 500 - keep);
	assert_int_equal(st.bytes, keep * cost);
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, keep);
	assert_int_equal(s.bad, 0);
	/* The newest survive, contiguous. */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s.seq[i], last - keep + 1 + i);
	assert_true(s.seq[0] > first);
	outbox_close(&ob);

	/* Persisted; and counting goes on from there. */
	open_ok(f, budget, &ob);
	outbox_stats(ob, &st);
	assert_int_equal(st.dropped, 500 - keep);
	assert_int_equal(st.backlog, keep);
	(void)put_raw(ob, len);
	(void)put_raw(ob, len);
	outbox_stats(ob, &st);
	assert_int_equal(st.dropped, 502 - keep);
	assert_int_equal(st.backlog, keep);
	outbox_close(&ob);

	/* A larger budget keeps everything; a smaller one evicts at open. */
	open_ok(f, 4 * budget, &ob);
	for (int i = 0; i < 100; i++)
		(void)put_raw(ob, len);
	outbox_stats(ob, &st);
	assert_int_equal(st.dropped, 502 - keep);
	assert_int_equal(st.backlog, keep + 100);
	outbox_close(&ob);
	open_ok(f, budget, &ob);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, keep);
	assert_int_equal(st.dropped, 602 - keep);
	outbox_close(&ob);
}

/* The map starts small and grows; nothing is lost on the way. */
static void
t_map_grows(void **state)
{
	struct fx *f = *state;
	struct outbox_opts o = { .budget = 64 << 20, .map_init = 1 << 20 };
	struct outbox_stats st;
	struct seen s;
	outbox_t *ob;
	size_t n;
	zdiag_t d;

	assert_int_equal(outbox_open_opts(f->dir, &o, &ob, &d), ZE_OK);
	outbox_stats(ob, &st);
	assert_int_equal(st.map_size, 1 << 20);
	for (int i = 0; i < 1000; i++)
		(void)put_raw(ob, 8000 + (size_t)i);
	outbox_stats(ob, &st);
	assert_int_equal(st.backlog, 1000);
	assert_int_equal(st.dropped, 0);
	assert_true(st.map_size > 8 << 20);
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, 1000);
	assert_int_equal(s.bad, 0);
	outbox_close(&ob);
}

/*
 * At the map limit (here far below the budget), MDB_MAP_FULL evicts the
 * oldest, counted, and every put still succeeds; the file stays bounded.
 */
static void
t_map_full(void **state)
{
	struct fx *f = *state;
	struct outbox_opts o = { .budget = 64 << 20, .map_init = 1 << 20,
	    .map_max = 2 << 20 };
	struct outbox_stats st;
	struct seen s;
	outbox_t *ob;
	uint64_t last = 0;
	size_t n;
	zdiag_t d;

	assert_int_equal(outbox_open_opts(f->dir, &o, &ob, &d), ZE_OK);
	for (int i = 0; i < 1000; i++)
		last = put_raw(ob, 3000 + (size_t)(i % 7) * 1000);
	outbox_stats(ob, &st);
	assert_true(st.dropped > 0);
	assert_int_equal(st.dropped + st.backlog, 1000);
	assert_true(st.map_size <= (3 << 20));
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, record, &s, &n, &d),
	    ZE_OK);
	assert_int_equal(n, st.backlog);
	assert_int_equal(s.bad, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s.seq[i], last - n + 1 + i);
	outbox_close(&ob);
	/* Reopens with the same counts. */
	assert_int_equal(outbox_open_opts(f->dir, &o, &ob, &d), ZE_OK);
	{
		struct outbox_stats st2;

		outbox_stats(ob, &st2);
		assert_int_equal(st2.dropped, st.dropped);
		assert_int_equal(st2.backlog, st.backlog);
	}
	outbox_close(&ob);
}

static void
t_bad_args(void **state)
{
	struct fx *f = *state;
	outbox_t *ob = NULL;
	char path[300];
	zdiag_t d;

	assert_int_equal(outbox_open(f->dir, OUTBOX_MIN_BUDGET - 1, &ob, &d),
	    ZE_RANGE);
	assert_null(ob);
	snprintf(path, sizeof(path), "%s/no/such", f->dir);
	assert_int_not_equal(outbox_open(path, 1 << 20, &ob, &d), ZE_OK);
	assert_null(ob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(t_seq_never_reused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(t_map_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(t_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_args, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	log_init("test_outbox", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
