/*
 * fuzz_censor — fuzz harness for zond-censor's parsers: censor_decide()
 * (every queued packet, and through it every reader in pkt.c and the
 * forging in forge.c) and rules_parse() (the rules file).
 *
 * The first input byte selects: 0 an IPv4 packet for censor_decide under
 * a ruleset with every userspace rule type, 1 a rules file; the rest is
 * the input.  Built with clang and -DZOND_LIBFUZZER it is a libFuzzer
 * target; otherwise a replay driver for ctest (label fuzz) that runs the
 * files of the directories on its command line (tests/censor/corpus) and
 * deterministic mutations of them, under ASan/UBSan.  Invariants: at most
 * CENSOR_MAX_INJECT forged packets, each a whole IPv4 packet of at most
 * FORGE_MAX bytes; a matching rule exists; a parsed ruleset holds at most
 * RULES_MAX rules with lines in order, and a refused one says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "censor.h"
#include "rules.h"
#include "fuzz_replay.h"


static const char rules_text[] =
    "sni_rst sni=blocked.example\n"
    "sni_drop sni=drop.example\n"
    "throttle sni=slow.example kbps=150\n"
    "http_blockpage host=news.example\n"
    "dns_hijack domain=hijack.example answer=10.99.0.1\n"
    "dns_nxdomain domain=nx.example\n"
    "dns_inject domain=example answer=10.99.0.2\n"
    "quic_sni sni=example\n"
    "tls_fingerprint sni=example shape=browser\n"
    "quic_v1_drop\n"
    "proto_drop protocol=wireguard\n"
    "proto_drop protocol=openvpn\n";

static struct ruleset *rs;
static struct censor_decision *dec;

static void
setup(void)
{
	zdiag_t d;

	if (rs != NULL)
		return;
	rs = calloc(1, sizeof(*rs));
	dec = calloc(1, sizeof(*dec));
	if (rs == NULL || dec == NULL ||
	    rules_parse("fuzz", rules_text, strlen(rules_text), rs, &d) !=
	    ZE_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ruleset parsed;
	zdiag_t d;
	size_t i;

	setup();
	if (size == 0)
		return 0;
	if (data[0] == 1) {
		memset(&d, 0, sizeof(d));
		if (rules_parse("fuzz", (const char *)data + 1, size - 1,
		    &parsed, &d) == ZE_OK) {
			if (parsed.n > RULES_MAX)
				abort();
			for (i = 1; i < parsed.n; i++)
				if (parsed.r[i].line <= parsed.r[i - 1].line)
					abort();
		} else if (d.text[0] == '\0')
			abort();
		return 0;
	}
	censor_decide(rs, data + 1, size - 1, dec);
	if (dec->ninject > CENSOR_MAX_INJECT ||
	    dec->rule >= (int)rs->n || dec->rule < -1)
		abort();
	if (dec->rule == -1 && (dec->ninject != 0 || dec->mark != 0 ||
	    dec->verdict != CV_ACCEPT))
		abort();
	for (i = 0; i < dec->ninject; i++) {
		const uint8_t *p = dec->inject[i].buf;
		size_t n = dec->inject[i].len;

		if (n < 28 || n > FORGE_MAX || p[0] != 0x45 ||
		    (size_t)(p[2] << 8 | p[3]) != n)
			abort();
	}
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* a length byte set to an extreme (never the selector) */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	if (n > 1)
		buf[1 + r % (n - 1)] = (r >> 32) % 2 ? 0xff : 0;
}

/* A packet seed that no rule matches would leave the deep paths
 * unfuzzed. */
static int
seed_check(const char *name, const uint8_t *data, size_t n)
{
	if (n > 0 && data[0] == 0 && dec->rule < 0) {
		fprintf(stderr, "fuzz_censor: seed %s matches no rule\n", name);
		return 1;
	}
	return 0;
}

static void
fini(void)
{
	free(rs);
	free(dec);
}

const struct fuzz_replay fuzz_replay = {"fuzz_censor", 1, extreme, 0,
    seed_check, fini};
#endif
