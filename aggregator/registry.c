/*
 * registry.c — see registry.h.  Nothing here touches LMDB directly; the
 * store keeps the records.
 */
#include "registry.h"

#include <string.h>

#include "key.h"
#include "ztime.h"

zerr_t
registry_check_region(const char *s, zdiag_t *d)
{
	size_t n = strlen(s), i;

	if (n < 4 || n > 6 || s[2] != '-')
		goto bad;
	for (i = 0; i < 2; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			goto bad;
	for (i = 3; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			goto bad;
	return ZE_OK;
bad:
	return zdiag_set(d, ZE_PARSE, "region '%.32s' is not an ISO 3166-2 "
	    "code (like RU-MOW)", s);
}

zerr_t
registry_parse_role(const char *s, enum store_role *r, zdiag_t *d)
{
	if (strcmp(s, "probe") == 0)
		*r = STORE_ROLE_PROBE;
	else if (strcmp(s, "control") == 0)
		*r = STORE_ROLE_CONTROL;
	else if (strcmp(s, "control-domestic") == 0)
		*r = STORE_ROLE_DOMESTIC;
	else
		return zdiag_set(d, ZE_PARSE, "role '%.32s': use probe, "
		    "control or control-domestic", s);
	return ZE_OK;
}

zerr_t
registry_parse_asn(const char *s, uint32_t *asn, zdiag_t *d)
{
	const char *p = s;
	uint64_t v = 0;

	if ((p[0] == 'A' || p[0] == 'a') && (p[1] == 'S' || p[1] == 's'))
		p += 2;
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			goto bad;
	}
	if (v == 0)
		goto bad;
	*asn = (uint32_t)v;
	return ZE_OK;
bad:
	return zdiag_set(d, ZE_PARSE, "ASN '%.32s': use a number from 1 to "
	    "4294967295", s);
}

zerr_t
registry_check_name(const char *s, zdiag_t *d)
{
	size_t n = strlen(s);

	if (n >= STORE_NAME_LEN)
		return zdiag_set(d, ZE_TOOBIG, "name is %zu bytes; at most %d",
		    n, STORE_NAME_LEN - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return zdiag_set(d, ZE_PARSE, "name has a control "
			    "character at byte %zu", i + 1);
	return ZE_OK;
}

zerr_t
registry_parse_network(const char *s, enum store_network *n, zdiag_t *d)
{
	int v = store_network_parse(s);

	if (v < 0)
		return zdiag_set(d, ZE_PARSE, "network '%.32s': use fixed, "
		    "mobile or unknown", s);
	*n = (enum store_network)v;
	return ZE_OK;
}

zerr_t
registry_enroll(store_t *s, const char *pubkey_hex, const char *region,
    const char *asn, const char *name, const char *role, bool *created,
    zdiag_t *d)
{
	return registry_enroll_net(s, pubkey_hex, region, asn, name, role,
	    NULL, created, d);
}

zerr_t
registry_enroll_net(store_t *s, const char *pubkey_hex, const char *region,
    const char *asn, const char *name, const char *role,
    const char *network, bool *created, zdiag_t *d)
{
	struct store_agent a;
	uint8_t curve[32];
	zerr_t e;

	memset(&a, 0, sizeof(a));
	if ((e = pubkey_from_hex(pubkey_hex, a.pk, d)) != ZE_OK)
		return e;
	if (pubkey_to_curve(a.pk, curve) != ZE_OK)
		return zdiag_set(d, ZE_CRYPTO, "public key is not a valid "
		    "Ed25519 point");
	if ((e = registry_check_region(region, d)) != ZE_OK ||
	    (e = registry_parse_asn(asn, &a.asn, d)) != ZE_OK)
		return e;
	if (name == NULL)
		name = "";
	if ((e = registry_check_name(name, d)) != ZE_OK)
		return e;
	a.role = STORE_ROLE_PROBE;
	if (role != NULL && (e = registry_parse_role(role, &a.role, d)) !=
	    ZE_OK)
		return e;
	if (network != NULL && (e = registry_parse_network(network,
	    &a.network, d)) != ZE_OK)
		return e;
	memcpy(a.region, region, strlen(region) + 1);
	memcpy(a.name, name, strlen(name) + 1);
	a.enabled = true;
	a.enrolled_us = ztime_now_us();
	return store_agent_enroll(s, &a, created, d);
}
