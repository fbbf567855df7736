/*
 * probe.c — the probe table (probe.h): one row per test kind.  Rows are in
 * the order docs/TARGETS.md lists the tests; that order also names them in
 * the target parser's messages.  Invariant: every row's variants list ends
 * with {NULL}, and a probe that takes variants defaults to the first.
 */
#include "probe.h"

#include <stdio.h>
#include <string.h>

#include "wire.h"

#define T(k) ZOND__V1__TEST_KIND__TEST_##k

static const struct probe_variant dns_variants[] = {
	{"A", 0}, {"AAAA", 0}, {NULL, 0},
};
static const struct probe_variant stun_variants[] = {
	{"plain", 0}, {"whatsapp", 0}, {"telegram", 0}, {NULL, 0},
};
static const struct probe_variant tls_variants[] = {
	{"openssl", 0}, {"browser", 0}, {NULL, 0},
};
static const struct probe_variant quic_variants[] = {
	{"vn", 0}, {"initial_large", 0}, {"initial_small", 0},
	{"initial_sni", 0}, {NULL, 0},
};
static const struct probe_variant vpn_variants[] = {
	{"wireguard", 51820}, {"openvpn", 1194}, {NULL, 0},
};

static const probe_info_t table[] = {
	{T(DNS), probe_dns, PROBE_TARGET_HOST, 53, false,
	    dns_variants, false},
	{T(DOH), probe_doh, PROBE_TARGET_NAME, 0, false,
	    dns_variants, false},
	{T(TCP), probe_tcp, PROBE_TARGET_HOST, 0, true, NULL,
	    false},
	{T(TLS), probe_tls, PROBE_TARGET_HOST, 443, true,
	    tls_variants, false},
	{T(HTTP), probe_http, PROBE_TARGET_URL, 0, false, NULL,
	    false},
	{T(STUN), probe_stun, PROBE_TARGET_HOST, 3478, true,
	    stun_variants, false},
	{T(QUIC), probe_quic, PROBE_TARGET_HOST, 443, true,
	    quic_variants, false},
	/* zond-helper's bulk port */
	{T(THROUGHPUT), probe_throughput, PROBE_TARGET_HOST, 8443,
	    true, NULL, false},
	{T(FREEZE), probe_freeze, PROBE_TARGET_HOST, 8443, true,
	    NULL, false},
	{T(VPN), probe_vpn, PROBE_TARGET_HOST, 0, true,
	    vpn_variants, true},
};

const probe_info_t *
probe_info(Zond__V1__TestKind t)
{
	for (size_t i = 0; i < ZARRAY_LEN(table); i++)
		if (table[i].test == t)
			return &table[i];
	return NULL;
}

const probe_info_t *
probe_info_at(size_t i)
{
	return i < ZARRAY_LEN(table) ? &table[i] : NULL;
}

const struct probe_variant *
probe_variant(const probe_info_t *p, const char *name)
{
	const struct probe_variant *v = p->variants;

	if (v == NULL)
		return NULL;
	if (name == NULL || *name == '\0')
		return v;
	for (; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

int
probe_port(Zond__V1__TestKind t, const char *variant)
{
	const probe_info_t *p = probe_info(t);
	const struct probe_variant *v;

	if (p == NULL)
		return 0;
	v = probe_variant(p, variant);
	return v != NULL && v->port != 0 ? v->port : p->port;
}

const char *
probe_names(const probe_info_t *p, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0;; i++) {
		const char *name;
		int w;
		if (p != NULL)
			name = p->variants != NULL ? p->variants[i].name : NULL;
		else
			name = i < ZARRAY_LEN(table) ?
			    wire_test_name(table[i].test) : NULL;
		if (name == NULL || n >= len)
			break;
		w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
		n += w < 0 ? 0 : (size_t)w;
	}
	return buf;
}
