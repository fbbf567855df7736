/* helpers.c — see helpers.h. */
#include "helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"
#include "ztime.h"

int
th_tmpdir(char *path, size_t n)
{
	const char *base = getenv("TMPDIR");
	int len;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	len = snprintf(path, n, "%s/zond-outbox-XXXXXX", base);
	if (len < 0 || (size_t)len >= n)
		return -1;
	return mkdtemp(path) == NULL ? -1 : 0;
}

void
th_rmdir(const char *path)
{
	char f[512];
	struct dirent *de;
	DIR *dir;

	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(f, sizeof(f), "%s/%s", path, de->d_name) <
		    (int)sizeof(f))
			(void)unlink(f);
	}
	closedir(dir);
	rmdir(path);
}

uint8_t
th_byte(uint64_t seq, size_t i)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	return (uint8_t)('a' + x % 26);
}

int
th_meas(const zkey_t *k, uint64_t seq, size_t pad, zbuf_t *body,
    uint8_t sig[KEY_SIG_LEN])
{
	Zond__V1__Measurement m = ZOND__V1__MEASUREMENT__INIT;
	Zond__V1__Outcome o = ZOND__V1__OUTCOME__INIT;
	Zond__V1__TcpOutcome tcp = ZOND__V1__TCP_OUTCOME__INIT;
	uint8_t id[WIRE_ID_LEN];
	char *target;
	int rc = -1;

	if ((target = malloc(pad + 32)) == NULL)
		return -1;
	snprintf(target, 32, "127.0.0.1:%llu/", (unsigned long long)seq);
	for (size_t i = strlen(target), j = 0; j < pad; i++, j++) {
		target[i] = (char)th_byte(seq, j);
		target[i + 1] = '\0';
	}
	memset(id, 0, sizeof(id));
	for (int i = 0; i < 8; i++)
		id[15 - i] = (uint8_t)(seq >> (8 * i));
	id[0] = 0x01;
	m.has_id = 1;
	m.id.data = id;
	m.id.len = sizeof(id);
	m.has_seq = 1;
	m.seq = seq;
	m.has_agent = 1;
	m.agent.data = (uint8_t *)(uintptr_t)key_public(k);
	m.agent.len = KEY_PUB_LEN;
	m.has_start_us = 1;
	m.start_us = ztime_now_us();
	m.has_test = 1;
	m.test = ZOND__V1__TEST_KIND__TEST_TCP;
	m.target = target;
	tcp.addr = "127.0.0.1:443";
	tcp.has_connect_us = 1;
	tcp.connect_us = 1234;
	o.has_failure = 1;
	o.failure = ZOND__V1__FAILURE__FAIL_NONE;
	o.test_case = ZOND__V1__OUTCOME__TEST_TCP;
	o.tcp = &tcp;
	m.outcome = &o;
	zbuf_reset(body);
	if (wire_meas_seal(k, &m, body, sig) == ZE_OK)
		rc = 0;
	free(target);
	return rc;
}
