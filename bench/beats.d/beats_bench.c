/*
 * beats_bench — the heartbeat history's cost, for bench/beats.
 *
 *   beats_bench --data DIR [--agents A] [--rounds R]
 *
 * Creates a fresh store in DIR, enrolls A probe agents (default 1,000)
 * and commits rounds of one seen entry per agent, one store_commit per
 * round, as the ingest's group commit does under a heartbeat storm:
 *   R rounds without status (the agent records only, no beat: the
 *   baseline)                               -> base_us_per_agent=
 *   STORE_BEATS_MAX rounds with status (the history fills, nothing
 *   trimmed)                                -> fill_us_per_beat=
 *   R rounds with status (each beat trims the 17th)
 *                                           -> steady_us_per_beat=
 * then reads every agent's history with store_beats_get
 *                                           -> get_us=
 * and checks that each agent holds exactly STORE_BEATS_MAX, the newest
 * (exit 1 otherwise).  Prints key=value lines.
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "ztime.h"

static double
rounds(store_t *s, uint8_t (*pk)[32], long na, long nr, bool status,
    int64_t *clock_us)
{
	struct store_seen *sn = calloc((size_t)na, sizeof(*sn));
	int64_t t0 = ztime_mono_us();
	zdiag_t d;

	if (sn == NULL)
		exit(2);
	for (long r = 0; r < nr; r++) {
		*clock_us += 30000000;	/* a heartbeat every 30 s */
		for (long i = 0; i < na; i++) {
			memset(&sn[i], 0, sizeof(sn[i]));
			memcpy(sn[i].agent, pk[i], 32);
			sn[i].seen_us = *clock_us + i;
			sn[i].has_status = status;
		}
		if (store_commit(s, NULL, 0, NULL, sn, (size_t)na, &d) !=
		    ZE_OK) {
			fprintf(stderr, "beats_bench: commit: %s\n", d.text);
			exit(1);
		}
	}
	free(sn);
	return (double)(ztime_mono_us() - t0) / (double)(na * nr);
}

int
main(int argc, char **argv)
{
	struct store_opts o = {0};
	const char *dir = NULL;
	long na = 1000, nr = 200;
	int64_t clock_us = 1767225600000000LL, t[STORE_BEATS_MAX + 1], g0;
	uint8_t (*pk)[32];
	store_t *s;
	zdiag_t d;
	size_t n;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "", (const struct option[]){
	    {"data", 1, NULL, 'd'}, {"agents", 1, NULL, 'a'},
	    {"rounds", 1, NULL, 'r'}, {0}}, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'a')
			na = strtol(optarg, NULL, 10);
		else if (c == 'r')
			nr = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	if (dir == NULL || na < 1 || na > 100000 || nr < 1) {
		fprintf(stderr, "usage: beats_bench --data DIR [--agents A] "
		    "[--rounds R]\n");
		return 2;
	}
	if (sodium_init() < 0 || (pk = calloc((size_t)na, 32)) == NULL)
		return 2;
	if (store_open(dir, &o, &s, &d) != ZE_OK) {
		fprintf(stderr, "beats_bench: %s\n", d.text);
		return 1;
	}
	for (long i = 0; i < na; i++) {
		struct store_agent a = {.asn = 64500 + (uint32_t)(i % 20),
		    .role = STORE_ROLE_PROBE, .enabled = true};
		uint8_t sk[64];
		bool created;

		crypto_sign_keypair(pk[i], sk);
		memcpy(a.pk, pk[i], 32);
		snprintf(a.region, sizeof(a.region), "RU-MOW");
		snprintf(a.name, sizeof(a.name), "b%ld", i);
		if (store_agent_enroll(s, &a, &created, &d) != ZE_OK) {
			fprintf(stderr, "beats_bench: enroll: %s\n", d.text);
			return 1;
		}
	}
	printf("agents=%ld\nrounds=%ld\n", na, nr);
	printf("base_us_per_agent=%.2f\n", rounds(s, pk, na, nr, false,
	    &clock_us));
	printf("fill_us_per_beat=%.2f\n", rounds(s, pk, na, STORE_BEATS_MAX,
	    true, &clock_us));
	printf("steady_us_per_beat=%.2f\n", rounds(s, pk, na, nr, true,
	    &clock_us));
	g0 = ztime_mono_us();
	for (long i = 0; i < na; i++) {
		if (store_beats_get(s, pk[i], t, STORE_BEATS_MAX + 1, &n,
		    &d) != ZE_OK) {
			fprintf(stderr, "beats_bench: get: %s\n", d.text);
			return 1;
		}
		if (n != STORE_BEATS_MAX || t[n - 1] != clock_us + i)
			bad++;
	}
	printf("get_us=%.2f\n", (double)(ztime_mono_us() - g0) / (double)na);
	printf("bad_histories=%d\n", bad);
	store_close(&s);
	free(pk);
	return bad != 0;
}
