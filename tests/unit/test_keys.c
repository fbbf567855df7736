/*
 * test_keys — identity files: round trip, permissions, bad files.
 * Works in a fresh temporary directory per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key.h"
#include "sign.h"

struct tmp {
	char dir[256];
	char key[300];
	char pub[300];
};

static int
setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/zond-test-keys-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->key, sizeof(t->key), "%s/id/identity.key", t->dir);
	snprintf(t->pub, sizeof(t->pub), "%s/id/identity.pub", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
t_roundtrip(void **state)
{
	struct tmp *t = *state;
	char iddir[300], hex[65];
	zkey_t *k = NULL, *l = NULL;
	uint8_t pk[32], sig[64];
	struct stat st;
	zdiag_t d;
	mode_t old = umask(0);	/* key_save must not depend on the umask */

	snprintf(iddir, sizeof(iddir), "%s/id", t->dir);
	assert_int_equal(key_generate(&k), ZE_OK);
	assert_int_equal(key_save(k, iddir, &d), ZE_OK);
	umask(old);
	assert_int_equal(stat(t->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(iddir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(key_load(t->key, &l, &d), ZE_OK);
	assert_memory_equal(key_public(k), key_public(l), 32);
	assert_int_equal(pubkey_load(t->pub, pk, &d), ZE_OK);
	assert_memory_equal(pk, key_public(k), 32);
	/* the pub file is exactly 64 lowercase hex and a newline */
	{
		FILE *f = fopen(t->pub, "r");
		char buf[100];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(n, 65);
		assert_int_equal(buf[64], '\n');
		key_public_hex(k, hex);
		assert_memory_equal(buf, hex, 64);
		for (int i = 0; i < 64; i++)
			assert_true((buf[i] >= '0' && buf[i] <= '9') ||
			    (buf[i] >= 'a' && buf[i] <= 'f'));
	}
	/* a signature by the loaded key verifies with the saved public key */
	assert_int_equal(sign_body(l, ZDOM_MEASUREMENT, (const uint8_t *)"x",
	    1, sig), ZE_OK);
	assert_int_equal(sign_verify(ZDOM_MEASUREMENT, pk,
	    (const uint8_t *)"x", 1, sig), ZE_OK);
	/* never overwrite an identity */
	assert_int_equal(key_save(k, iddir, &d), ZE_EXISTS);
	assert_non_null(strstr(d.text, "refusing to overwrite"));
	key_free(&k);
	key_free(&l);
	assert_null(k);
	key_free(&k);	/* NULL is fine */
}

static void
t_permissions(void **state)
{
	struct tmp *t = *state;
	char iddir[300];
	zkey_t *k = NULL, *l = NULL;
	zdiag_t d;
	static const mode_t bad[] = {0640, 0604, 0644, 0660, 0666, 0610,
	    0601, 0620};

	snprintf(iddir, sizeof(iddir), "%s/id", t->dir);
	assert_int_equal(key_generate(&k), ZE_OK);
	assert_int_equal(key_save(k, iddir, &d), ZE_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(t->key, bad[i]), 0);
		assert_int_equal(key_load(t->key, &l, &d), ZE_PERM);
		assert_null(l);
		/* the message names the file, the problem and the fix */
		assert_non_null(strstr(d.text, t->key));
		assert_non_null(strstr(d.text, "readable by group or others"));
		assert_non_null(strstr(d.text, "chmod 600"));
	}
	assert_int_equal(chmod(t->key, 0400), 0);
	assert_int_equal(key_load(t->key, &l, &d), ZE_OK);
	key_free(&l);
	key_free(&k);
}

/* A secret that is not a Zond key ([relay] tls_key): the same rule and
 * message as the identity key, then its bytes whole. */
static void
t_read_secret(void **state)
{
	struct tmp *t = *state;
	char path[320];
	zbuf_t b;
	zdiag_t d;
	FILE *f;
	static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602};
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";

	snprintf(path, sizeof(path), "%s/tls.key", t->dir);
	assert_int_equal(key_read_secret(path, "TLS private key", 4096, &b,
	    &d), ZE_NOTFOUND);
	assert_non_null(strstr(d.text, path));
	zbuf_free(&b);
	assert_non_null(f = fopen(path, "w"));
	fputs(pem, f);
	fclose(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char mode[16];

		assert_int_equal(chmod(path, bad[i]), 0);
		assert_int_equal(key_read_secret(path, "TLS private key", 4096,
		    &b, &d), ZE_PERM);
		assert_int_equal(b.len, 0);
		zbuf_free(&b);
		snprintf(mode, sizeof(mode), "(mode %04o)", (unsigned)bad[i]);
		assert_non_null(strstr(d.text, path));
		assert_non_null(strstr(d.text, "TLS private key is readable by "
		    "group or others"));
		assert_non_null(strstr(d.text, mode));
		assert_non_null(strstr(d.text, "chmod 600"));
	}
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(key_read_secret(path, "TLS private key", 4096, &b,
	    &d), ZE_OK);
	assert_int_equal(b.len, strlen(pem));
	assert_string_equal((const char *)b.data, pem);
	zbuf_free(&b);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(key_read_secret(path, "TLS private key", 4096, &b,
	    &d), ZE_OK);
	zbuf_free(&b);
	/* larger than the cap: refused, naming the file */
	assert_int_equal(key_read_secret(path, "TLS private key", 10, &b,
	    &d), ZE_TOOBIG);
	assert_non_null(strstr(d.text, path));
	zbuf_free(&b);
	/* a folder is not a key */
	assert_int_equal(key_read_secret(t->dir, "TLS private key", 4096, &b,
	    &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "not a regular file"));
	zbuf_free(&b);
}

static void
t_bad_files(void **state)
{
	struct tmp *t = *state;
	char path[320];
	zkey_t *l = NULL;
	uint8_t pk[32];
	zdiag_t d;
	char text[200];

	snprintf(path, sizeof(path), "%s/k", t->dir);
	/* missing */
	assert_int_equal(key_load(path, &l, &d), ZE_NOTFOUND);
	assert_non_null(strstr(d.text, path));
	/* empty */
	write_file(path, "", 0, 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "found 0"));
	/* 63 and 65 hex characters */
	memset(text, 'a', sizeof(text));
	write_file(path, text, 63, 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "expected 64 hex characters, found 63"));
	write_file(path, text, 65, 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "found 65"));
	/* a binary 32-byte seed is not our format */
	randombytes_buf(text, 32);
	text[0] = (char)0xff;
	write_file(path, text, 32, 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "non-hex character at byte 1"));
	/* a corrupt character in the middle */
	memset(text, '0', 64);
	text[64] = '\n';
	text[30] = 'z';
	write_file(path, text, 65, 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "byte 31"));
	/* a huge file */
	memset(text, '0', sizeof(text));
	write_file(path, text, sizeof(text), 0600);
	assert_int_equal(key_load(path, &l, &d), ZE_PARSE);
	assert_non_null(strstr(d.text, "larger than"));
	/* a directory */
	assert_int_equal(key_load(t->dir, &l, &d) == ZE_OK, 0);
	assert_null(l);
	/* public keys: same rules, from text and from files */
	assert_int_equal(pubkey_from_hex("abc", pk, &d), ZE_PARSE);
	assert_int_equal(pubkey_from_hex(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
	    pk, &d), ZE_PARSE);
	assert_int_equal(pubkey_from_hex(
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    pk, &d), ZE_OK);
	assert_int_equal(pk[1], 0x23);
}

static void
t_curve(void **state)
{
	zkey_t *k = NULL;
	uint8_t cpk[32], csk[32], cpk2[32], check[32];

	(void)state;
	assert_int_equal(key_generate(&k), ZE_OK);
	assert_int_equal(key_curve(k, cpk, csk), ZE_OK);
	assert_int_equal(pubkey_to_curve(key_public(k), cpk2), ZE_OK);
	assert_memory_equal(cpk, cpk2, 32);
	/* the derived secret really belongs to the derived public key */
	assert_int_equal(crypto_scalarmult_base(check, csk), 0);
	assert_memory_equal(check, cpk, 32);
	sodium_memzero(csk, sizeof(csk));
	key_free(&k);
}

/* First start: the key is created (0600, .pub 0644, parent 0700), the same
 * key loads the second time, and a loosened key is still refused. */
static void
t_load_or_create(void **state)
{
	struct tmp *t = *state;
	zkey_t *k = NULL, *k2 = NULL;
	uint8_t pk[KEY_PUB_LEN];
	struct stat st;
	int created = -1;
	zdiag_t d;
	char tmpname[400];

	assert_int_equal(key_load_or_create(t->key, -1, -1, &k, &created,
	    &d), ZE_OK);
	assert_int_equal(created, 1);
	assert_int_equal(stat(t->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(t->pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	snprintf(tmpname, sizeof(tmpname), "%s/id", t->dir);
	assert_int_equal(stat(tmpname, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pubkey_load(t->pub, pk, &d), ZE_OK);
	assert_memory_equal(pk, key_public(k), KEY_PUB_LEN);
	/* no temporary file is left beside it */
	snprintf(tmpname, sizeof(tmpname), "%s.tmp%ld", t->key,
	    (long)getpid());
	assert_int_not_equal(access(tmpname, F_OK), 0);

	assert_int_equal(key_load_or_create(t->key, -1, -1, &k2, &created,
	    &d), ZE_OK);
	assert_int_equal(created, 0);
	assert_memory_equal(key_public(k2), key_public(k), KEY_PUB_LEN);
	key_free(&k2);

	assert_int_equal(chmod(t->key, 0640), 0);
	assert_int_equal(key_load_or_create(t->key, -1, -1, &k2, &created,
	    &d), ZE_PERM);
	assert_null(k2);
	assert_non_null(strstr(d.text, "chmod 600"));
	key_free(&k);

	/* root creating it for the daemon's user: that user owns the key,
	 * its .pub and the folder made for them (only testable as root) */
	if (getuid() == 0) {
		char key[450], pub[450], dir[300];

		snprintf(dir, sizeof(dir), "%s/user", t->dir);
		snprintf(key, sizeof(key), "%s/identity.key", dir);
		snprintf(pub, sizeof(pub), "%s/identity.pub", dir);
		assert_int_equal(key_load_or_create(key, 65534, 65534, &k,
		    &created, &d), ZE_OK);
		assert_int_equal(created, 1);
		assert_int_equal(stat(key, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(stat(pub, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		key_free(&k);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(t_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(t_read_secret, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_load_or_create, setup,
		    teardown),
		cmocka_unit_test(t_curve),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
