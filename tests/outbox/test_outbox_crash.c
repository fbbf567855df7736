/*
 * test_outbox_crash — kill -9 never loses what outbox_put confirmed.
 *
 * A child process writes measurements in a loop and prints "P seq" after
 * each outbox_put returns; it acks older ones, printing "D seq" before
 * outbox_ack and "A seq" after it returns.  The parent SIGKILLs it at random moments (also
 * while it opens the environment), several times, on the same directory.
 * After each kill the environment must open cleanly; every printed P that
 * was not (about to be) acked must be there with its exact bytes, no acked
 * one may be,
 * and sequence numbers must never be handed out twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "log.h"
#include "outbox.h"
#include "ztime.h"

#define ROUNDS 10
#define BUDGET (256LL << 20)

static void
say(int fd, char kind, uint64_t seq)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%c %" PRIu64 "\n", kind, seq);
	size_t off = 0;
	ssize_t w;

	while (off < (size_t)n) {
		w = write(fd, line + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(3);
		off += (size_t)w;
	}
}

/* The child: write, confirm, ack older ones; until killed. */
static void __attribute__((noreturn))
writer(const char *dir, int fd)
{
	uint8_t body[5000], sig[KEY_SIG_LEN];
	uint64_t seq, acks[10];
	outbox_t *ob;
	size_t len, na;
	zdiag_t d;

	if (outbox_open(dir, BUDGET, &ob, &d) != ZE_OK) {
		fprintf(stderr, "child: open: %s\n", d.text);
		_exit(2);
	}
	for (;;) {
		if (outbox_next_seq(ob, &seq, &d) != ZE_OK)
			_exit(2);
		len = 50 + (size_t)(seq * 37 % 4000);
		for (size_t i = 0; i < len; i++)
			body[i] = th_byte(seq, i);
		memset(sig, (int)(seq & 0xff), sizeof(sig));
		if (outbox_put(ob, seq, body, len, sig, &d) != ZE_OK) {
			fprintf(stderr, "child: put: %s\n", d.text);
			_exit(2);
		}
		say(fd, 'P', seq);
		if (seq % 10 == 0 && seq > 60) {
			/* "D": may be deleted from here on; "A": is. */
			for (na = 0; na < 10; na++) {
				acks[na] = seq - 59 + na;
				say(fd, 'D', acks[na]);
			}
			if (outbox_ack(ob, acks, na, NULL, &d) != ZE_OK)
				_exit(2);
			for (size_t i = 0; i < na; i++)
				say(fd, 'A', acks[i]);
		}
	}
}

/* Set of seqs as a growable byte map. */
struct set {
	uint8_t *b;
	size_t n;
};

static void
set_add(struct set *s, uint64_t v)
{
	if (v >= s->n) {
		size_t nn = (size_t)v * 2 + 1024;

		s->b = realloc(s->b, nn);
		assert_non_null(s->b);
		memset(s->b + s->n, 0, nn - s->n);
		s->n = nn;
	}
	s->b[v] = 1;
}

static bool
set_has(const struct set *s, uint64_t v)
{
	return v < s->n && s->b[v];
}

struct check {
	struct set present;
	size_t bad;
	size_t n;
};

static int
check_item(const struct outbox_item *it, void *arg)
{
	struct check *c = arg;
	size_t len = 50 + (size_t)(it->seq * 37 % 4000);

	set_add(&c->present, it->seq);
	c->n++;
	if (it->len != len) {
		c->bad++;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (it->body[i] != th_byte(it->seq, i)) {
			c->bad++;
			return 0;
		}
	for (size_t i = 0; i < KEY_SIG_LEN; i++)
		if (it->sig[i] != (uint8_t)(it->seq & 0xff)) {
			c->bad++;
			return 0;
		}
	return 0;
}

/* Read what the child printed until deadline (or EOF when deadline < 0). */
static void
slurp(int fd, char **buf, size_t *len, size_t *cap, int64_t deadline)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t r;
	int64_t now;
	int to;

	for (;;) {
		if (deadline >= 0) {
			now = ztime_mono_us();
			if (now >= deadline)
				return;
			to = (int)((deadline - now) / 1000) + 1;
		} else
			to = -1;
		if (poll(&p, 1, to) <= 0) {
			if (deadline >= 0)
				continue;
			return;
		}
		if (*cap - *len < 4096) {
			*cap = *cap * 2 + 65536;
			*buf = realloc(*buf, *cap);
			assert_non_null(*buf);
		}
		r = read(fd, *buf + *len, *cap - *len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		*len += (size_t)r;
	}
}

static void
t_kill9(void **state)
{
	char dir[256];
	struct set printed = { 0 }, acked = { 0 }, acking = { 0 };
	uint64_t maxp = 0, total_p = 0, seed;
	int mid_loop_kills = 0;
	outbox_t *ob;
	zdiag_t d;

	(void)state;
	assert_int_equal(th_tmpdir(dir, sizeof(dir)), 0);
	seed = (uint64_t)ztime_now_us();
	srandom((unsigned)seed);
	print_message("seed %" PRIu64 " dir %s\n", seed, dir);
	for (int round = 0; round < ROUNDS; round++) {
		char *buf = NULL, *line, *end;
		size_t len = 0, cap = 0;
		uint64_t round_min = UINT64_MAX, round_p = 0, seq;
		struct check c = { { 0 }, 0, 0 };
		int fds[2], status;
		pid_t pid;
		long delay_ms;

		/* Round 0 kills almost at once (during open); then random. */
		delay_ms = round == 0 ? 0 : 5 + random() % 400;
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			writer(dir, fds[1]);
		}
		close(fds[1]);
		slurp(fds[0], &buf, &len, &cap,
		    ztime_mono_us() + delay_ms * 1000);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* Killed by us, not exited with an error. */
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		slurp(fds[0], &buf, &len, &cap, -1);
		close(fds[0]);

		/* Complete lines only: a torn last line claims nothing. */
		for (line = buf; buf != NULL && line < buf + len;
		    line = end + 1) {
			end = memchr(line, '\n', (size_t)(buf + len - line));
			if (end == NULL)
				break;
			*end = '\0';
			seq = strtoull(line + 2, NULL, 10);
			assert_true(seq > 0);
			if (line[0] == 'P') {
				/* never handed out before */
				assert_false(set_has(&printed, seq));
				set_add(&printed, seq);
				if (seq < round_min)
					round_min = seq;
				if (seq > maxp)
					maxp = seq;
				round_p++;
			} else if (line[0] == 'D') {
				set_add(&acking, seq);
			} else {
				assert_int_equal(line[0], 'A');
				assert_true(set_has(&acking, seq));
				set_add(&acked, seq);
			}
		}
		free(buf);
		total_p += round_p;
		if (round_p > 0)
			mid_loop_kills++;

		/* The environment opens cleanly and holds what was promised. */
		if (outbox_open(dir, BUDGET, &ob, &d) != ZE_OK)
			fail_msg("round %d: open after kill: %s", round,
			    d.text);
		assert_int_equal(outbox_iter(ob, 0, SIZE_MAX, check_item, &c,
		    NULL, &d), ZE_OK);
		assert_int_equal(c.bad, 0);
		for (uint64_t s = 1; s <= maxp; s++) {
			if (set_has(&printed, s) && !set_has(&acking, s) &&
			    !set_has(&c.present, s))
				fail_msg("round %d: seq %" PRIu64 " was "
				    "confirmed and is lost (round from %"
				    PRIu64 ", %zu present)", round, s,
				    round_min, c.n);
			if (set_has(&acked, s) && set_has(&c.present, s))
				fail_msg("round %d: seq %" PRIu64 " was acked "
				    "and is back", round, s);
		}
		/* The next seq is above everything ever handed out. */
		assert_int_equal(outbox_next_seq(ob, &seq, &d), ZE_OK);
		assert_true(seq > maxp);
		print_message("round %d: killed after %ld ms, %" PRIu64
		    " puts confirmed, backlog %zu\n", round, delay_ms,
		    round_p, c.n);
		outbox_close(&ob);
		free(c.present.b);
	}
	/* The test did kill writers in the middle of their work. */
	assert_true(mid_loop_kills >= ROUNDS / 2);
	assert_true(total_p > 100);
	free(printed.b);
	free(acked.b);
	free(acking.b);
	th_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_kill9),
	};

	if (sodium_init() < 0)
		return 1;
	log_init("test_outbox_crash", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
