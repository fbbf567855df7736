/*
 * call_probe — runs the call test once and prints its outcome as
 * key=value lines, one leg a line, for the shell tests that put it in
 * network namespaces of their own (call_path.sh).
 * Usage: call_probe VARIANT TARGET PORT HELPER|- TIMEOUT_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "wire.h"

int
main(int argc, char **argv)
{
	probe_env_t env;
	probe_req_t r;
	Zond__V1__Outcome *o = NULL;
	zdiag_t d;

	if (argc != 6) {
		fprintf(stderr, "usage: call_probe VARIANT TARGET PORT "
		    "HELPER|- TIMEOUT_MS\n");
		return 2;
	}
	memset(&env, 0, sizeof(env));
	memset(&r, 0, sizeof(r));
	env.timeout_ms = strtoll(argv[5], NULL, 10);
	env.helper = strcmp(argv[4], "-") != 0 ? argv[4] : NULL;
	env.call_ms = 2000;
	r.test = ZOND__V1__TEST_KIND__TEST_CALL;
	r.variant = argv[1];
	r.target = argv[2];
	r.port = atoi(argv[3]);
	if (probe_call(&env, &r, &o, &d) != ZE_OK) {
		fprintf(stderr, "call_probe: %s\n", d.text);
		return 1;
	}
	printf("failure=%s\ndetail=%s\n", wire_failure_name(o->failure),
	    o->detail ? o->detail : "");
	for (size_t i = 0; i < o->call->n_legs; i++) {
		const Zond__V1__CallLeg *l = o->call->legs[i];
		printf("leg=%s/%s port=%u failure=%s last_hop=%u "
		    "last_hop_addr=%s reached=%d sent=%u\n", l->destination,
		    l->payload, l->port, wire_failure_name(l->failure),
		    l->last_hop, l->last_hop_addr ? l->last_hop_addr : "-",
		    (int)l->reached, l->sent);
	}
	zond__v1__outcome__free_unpacked(o, NULL);
	return 0;
}
