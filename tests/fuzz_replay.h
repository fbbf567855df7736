/*
 * fuzz_replay.h — the replay-and-mutate driver of the fuzz harnesses when
 * they are not built as libFuzzer targets (tests/fuzz_replay.c): every
 * file of the seed folders named on the command line goes to
 * LLVMFuzzerTestOneInput as it is and in FUZZ_MUTATIONS (or the harness's
 * own count) mutations (bytes flipped, cut, grown with junk, and one
 * harness-specific edit: a length field set to 0 or 0xff, a CSV-special
 * byte, ...).  Seeds are read up to FUZZ_SEED_MAX bytes.
 * Exit 0 after at least one seed, 1 with none or an unreadable folder.
 */
#ifndef ZOND_FUZZ_REPLAY_H
#define ZOND_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MUTATIONS 20000
#define FUZZ_SEED_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What each harness defines for the driver. */
struct fuzz_replay {
	const char *name;	/* for messages */
	size_t keep;		/* leading bytes never flipped nor cut (a
				 * selector byte) */
	/* set one length field of buf[0..n) to 0 or 0xff (r: random bits) */
	void (*extreme)(uint8_t *buf, size_t n, uint64_t r);
	unsigned mutations;	/* per seed; 0: FUZZ_MUTATIONS */
	/* optional: after a seed ran as it is; non-zero fails the run (e.g.
	 * a packet seed that no rule matches) */
	int (*seed_check)(const char *name, const uint8_t *data, size_t n);
	void (*fini)(void);	/* optional: at the end, free what is kept */
};
extern const struct fuzz_replay fuzz_replay;

#endif
