/*
 * fuzz_replay.c — see fuzz_replay.h.
 */
#include "fuzz_replay.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
mutate_run(const uint8_t *seed, size_t len)
{
	static uint8_t buf[FUZZ_SEED_MAX];
	const size_t keep = fuzz_replay.keep;
	const unsigned runs = fuzz_replay.mutations ? fuzz_replay.mutations :
	    FUZZ_MUTATIONS;

	for (unsigned m = 0; m < runs; m++) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		memcpy(buf, seed, n);
		switch (next() % 4) {
		case 0:		/* flip a few bytes */
			for (int i = 0; i < 4 && n > keep; i++)
				buf[keep + next() % (n - keep)] =
				    (uint8_t)next();
			break;
		case 1:		/* cut */
			if (n > keep)
				n = keep + next() % (n - keep + 1);
			break;
		case 2:		/* grow with junk */
			while (n < sizeof(buf) && next() % 64 != 0)
				buf[n++] = (uint8_t)next();
			break;
		default:	/* a length field at an extreme */
			fuzz_replay.extreme(buf, n, next());
			break;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
}

int
main(int argc, char **argv)
{
	static uint8_t seed[FUZZ_SEED_MAX];
	unsigned files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *dir = opendir(argv[i]);
		struct dirent *de;
		if (dir == NULL) {
			fprintf(stderr, "%s: cannot open %s\n",
			    fuzz_replay.name, argv[i]);
			return 1;
		}
		while ((de = readdir(dir)) != NULL) {
			char path[1024];
			FILE *f;
			size_t n;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if ((f = fopen(path, "rb")) == NULL)
				continue;
			n = fread(seed, 1, sizeof(seed), f);
			fclose(f);
			LLVMFuzzerTestOneInput(seed, n);
			if (fuzz_replay.seed_check != NULL &&
			    fuzz_replay.seed_check(de->d_name, seed, n) != 0) {
				closedir(dir);
				return 1;
			}
			mutate_run(seed, n);
			files++;
		}
		closedir(dir);
	}
	if (files == 0) {
		fprintf(stderr, "%s: no seeds\n", fuzz_replay.name);
		return 1;
	}
	printf("%s: %u seeds, %u mutations each\n", fuzz_replay.name, files,
	    fuzz_replay.mutations ? fuzz_replay.mutations : FUZZ_MUTATIONS);
	if (fuzz_replay.fini != NULL)
		fuzz_replay.fini();
	return 0;
}
