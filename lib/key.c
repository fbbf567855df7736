/* key.c — see key.h.  Secrets never leave sodium_malloc memory except
 * into caller buffers that the caller wipes; every path wipes. */
#include "key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"

struct zkey {
	unsigned char *sk;	/* sodium_malloc, crypto_sign_SECRETKEYBYTES */
	uint8_t pk[KEY_PUB_LEN];
};

static zerr_t
key_alloc(zkey_t **out)
{
	zkey_t *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ZE_NOMEM;
	if ((k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		free(k);
		return ZE_NOMEM;
	}
	*out = k;
	return ZE_OK;
}

void
key_free(zkey_t **kp)
{
	if (kp == NULL || *kp == NULL)
		return;
	sodium_free((*kp)->sk);	/* wipes */
	free(*kp);
	*kp = NULL;
}

zerr_t
key_from_seed(const uint8_t seed[KEY_SEED_LEN], zkey_t **out)
{
	zkey_t *k;
	zerr_t e;

	if ((e = key_alloc(&k)) != ZE_OK)
		return e;
	if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0) {
		key_free(&k);
		return ZE_CRYPTO;
	}
	*out = k;
	return ZE_OK;
}

zerr_t
key_generate(zkey_t **out)
{
	unsigned char seed[KEY_SEED_LEN];
	zerr_t e;

	randombytes_buf(seed, sizeof(seed));
	e = key_from_seed(seed, out);
	sodium_memzero(seed, sizeof(seed));
	return e;
}

const uint8_t *
key_public(const zkey_t *k)
{
	return k->pk;
}

void
key_public_hex(const zkey_t *k, char hex[KEY_HEX_LEN + 1])
{
	sodium_bin2hex(hex, KEY_HEX_LEN + 1, k->pk, KEY_PUB_LEN);
}

zerr_t
key_curve(const zkey_t *k, uint8_t curve_pk[32], uint8_t curve_sk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, k->pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(curve_sk, k->sk) != 0)
		return ZE_CRYPTO;
	return ZE_OK;
}

zerr_t
key_sign_raw(const zkey_t *k, const uint8_t *msg, size_t len,
    uint8_t sig[KEY_SIG_LEN])
{
	if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
		return ZE_CRYPTO;
	return ZE_OK;
}

zerr_t
pubkey_to_curve(const uint8_t pk[KEY_PUB_LEN], uint8_t curve_pk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, pk) != 0)
		return ZE_CRYPTO;
	return ZE_OK;
}

/*
 * Decode a key file's text: exactly 64 hex characters, then optionally one
 * newline.  what names the kind of file for messages.
 */
static zerr_t
hex32_decode(const char *path, const char *buf, size_t n, uint8_t out[32],
    const char *what, zdiag_t *d)
{
	size_t got = 0;

	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f') ||
		    (buf[i] >= 'A' && buf[i] <= 'F')))
			return zdiag_set(d, ZE_PARSE, "%s: not a %s: "
			    "non-hex character at byte %zu", path, what,
			    i + 1);
	if (n != KEY_HEX_LEN)
		return zdiag_set(d, ZE_PARSE, "%s: not a %s: expected %d hex "
		    "characters, found %zu", path, what, KEY_HEX_LEN, n);
	if (sodium_hex2bin(out, 32, buf, n, NULL, &got, NULL) != 0 ||
	    got != 32)
		return zdiag_set(d, ZE_PARSE, "%s: not a %s", path, what);
	return ZE_OK;
}

/* Read a small file into buf[cap] (at most cap - 1 bytes); refuse larger
 * ones.  No heap copy: buf may hold a secret. */
static zerr_t
read_small(const char *path, int fd, char *buf, size_t cap, size_t *n,
    zdiag_t *d)
{
	zerr_t e = bytes_read_fd(fd, path, buf, cap - 1, n, d);

	if (e == ZE_TOOBIG)
		return zdiag_set(d, ZE_PARSE, "%s: not a key file: larger "
		    "than %zu bytes", path, cap - 1);
	return e;
}

/* Open a key file (what: "secret key", "public key"); ZE_NOTFOUND when
 * it does not exist. */
static zerr_t
open_key(const char *path, const char *what, int *fd, zdiag_t *d)
{
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return zdiag_set(d, errno == ENOENT ? ZE_NOTFOUND : ZE_IO,
		    "%s: cannot open %s: %s", path, what, strerror(errno));
	return ZE_OK;
}

zerr_t
key_check_secret(int fd, const char *path, const char *what, zdiag_t *d)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return zdiag_set(d, ZE_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return zdiag_set(d, ZE_PARSE, "%s: not a regular file", path);
	if ((st.st_mode & 077) != 0)
		return zdiag_set(d, ZE_PERM, "%s: %s is readable by group or "
		    "others (mode %04o); refusing to use it. Run: chmod 600 %s",
		    path, what, (unsigned)(st.st_mode & 07777), path);
	return ZE_OK;
}

zerr_t
key_read_secret(const char *path, const char *what, size_t max, zbuf_t *b,
    zdiag_t *d)
{
	uint8_t *w;
	size_t n = 0;
	int fd;
	zerr_t e;

	zbuf_init(b, max);
	if ((e = open_key(path, what, &fd, d)) != ZE_OK)
		return e;
	if ((e = key_check_secret(fd, path, what, d)) != ZE_OK)
		goto out;
	if (zbuf_reserve(b, max, &w) != ZE_OK) {
		e = zdiag_set(d, ZE_NOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((e = bytes_read_fd(fd, path, w, max, &n, d)) != ZE_OK)
		goto out;
	b->len = n;
	b->data[n] = '\0';
out:
	close(fd);
	return e;
}

zerr_t
key_load(const char *path, zkey_t **out, zdiag_t *d)
{
	char buf[130];
	uint8_t seed[KEY_SEED_LEN];
	size_t n = 0;
	int fd;
	zerr_t e;

	if ((e = open_key(path, "secret key", &fd, d)) != ZE_OK)
		return e;
	if ((e = key_check_secret(fd, path, "secret key", d)) != ZE_OK)
		goto out;
	if ((e = read_small(path, fd, buf, sizeof(buf), &n, d)) != ZE_OK)
		goto out;
	if ((e = hex32_decode(path, buf, n, seed, "Zond secret key",
	    d)) != ZE_OK)
		goto out;
	if ((e = key_from_seed(seed, out)) != ZE_OK)
		zdiag_set(d, e, "%s: %s", path, zerr_str(e));
out:
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(seed, sizeof(seed));
	close(fd);
	return e;
}

zerr_t
pubkey_from_hex(const char *hex, uint8_t pk[KEY_PUB_LEN], zdiag_t *d)
{
	return hex32_decode("public key", hex, strlen(hex), pk,
	    "public key", d);
}

zerr_t
pubkey_load(const char *path, uint8_t pk[KEY_PUB_LEN], zdiag_t *d)
{
	char buf[130];
	size_t n = 0;
	int fd;
	zerr_t e;

	if ((e = open_key(path, "public key", &fd, d)) != ZE_OK)
		return e;
	e = read_small(path, fd, buf, sizeof(buf), &n, d);
	close(fd);
	if (e != ZE_OK)
		return e;
	return hex32_decode(path, buf, n, pk, "Zond public key", d);
}

/* Write all of buf to a new file; O_EXCL so nothing is overwritten. */
static zerr_t
write_new(const char *path, const char *buf, size_t n, mode_t mode,
    zdiag_t *d)
{
	int fd;
	size_t off = 0;
	ssize_t w;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return zdiag_set(d, errno == EEXIST ? ZE_EXISTS : ZE_IO,
		    "%s: %s%s", path, strerror(errno), errno == EEXIST ?
		    "; refusing to overwrite an identity (remove it first)" :
		    "");
	if (fchmod(fd, mode) != 0)	/* umask must not widen or narrow */
		goto fail;
	while (off < n) {
		w = write(fd, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	return ZE_OK;
fail:
	zdiag_set(d, ZE_IO, "%s: %s", path, strerror(errno));
	close(fd);
	unlink(path);
	return ZE_IO;
}

zerr_t
key_save(const zkey_t *k, const char *dir, zdiag_t *d)
{
	char path[4096], pubpath[4096];
	char hex[2 * KEY_SEED_LEN + 2];
	zerr_t e;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return zdiag_set(d, ZE_IO, "%s: cannot create directory: %s",
		    dir, strerror(errno));
	if ((size_t)snprintf(path, sizeof(path), "%s/identity.key", dir) >=
	    sizeof(path) || (size_t)snprintf(pubpath, sizeof(pubpath),
	    "%s/identity.pub", dir) >= sizeof(pubpath))
		return zdiag_set(d, ZE_INVAL, "%s: path too long", dir);
	if (access(pubpath, F_OK) == 0)
		return zdiag_set(d, ZE_EXISTS, "%s: exists; refusing to "
		    "overwrite an identity (remove it first)", pubpath);
	/* the seed is the first half of libsodium's 64-byte secret key */
	sodium_bin2hex(hex, sizeof(hex), k->sk, KEY_SEED_LEN);
	hex[2 * KEY_SEED_LEN] = '\n';
	e = write_new(path, hex, 2 * KEY_SEED_LEN + 1, 0600, d);
	sodium_memzero(hex, sizeof(hex));
	if (e != ZE_OK)
		return e;
	sodium_bin2hex(hex, sizeof(hex), k->pk, KEY_PUB_LEN);
	hex[KEY_HEX_LEN] = '\n';
	if ((e = write_new(pubpath, hex, KEY_HEX_LEN + 1, 0644, d)) != ZE_OK)
		unlink(path);
	return e;
}

/* Write n bytes to path atomically: a new temporary file beside it (O_EXCL,
 * mode), fsync, owner, link(2) to path (fails when path exists, so an
 * identity another process created first is never replaced), unlink. */
static zerr_t
write_atomic(const char *path, const char *buf, size_t n, mode_t mode,
    long uid, long gid, zdiag_t *d)
{
	char tmp[4096];
	zerr_t e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return zdiag_set(d, ZE_INVAL, "%s: path too long", path);
	(void)unlink(tmp);	/* a leftover of this pid's predecessor */
	if ((e = write_new(tmp, buf, n, mode, d)) != ZE_OK)
		return e;
	if (uid != -1 && chown(tmp, (uid_t)uid, (gid_t)gid) != 0) {
		e = zdiag_set(d, ZE_IO, "%s: cannot give it to uid %ld: %s",
		    path, uid, strerror(errno));
		unlink(tmp);
		return e;
	}
	if (link(tmp, path) != 0) {
		e = zdiag_set(d, errno == EEXIST ? ZE_EXISTS : ZE_IO,
		    "%s: %s", path, strerror(errno));
		unlink(tmp);
		return e;
	}
	unlink(tmp);
	return ZE_OK;
}

/* Sync the directory holding path, so that the new name survives a
 * power cut (a Pi loses power). */
static void
sync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Create the directory holding path (one level, 0700, given to uid) when
 * it does not exist. */
static zerr_t
make_parent(const char *path, long uid, long gid, zdiag_t *d)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return ZE_OK;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0700) != 0) {
		if (errno == EEXIST)
			return ZE_OK;
		return zdiag_set(d, ZE_IO, "%s: cannot create directory: %s",
		    dir, strerror(errno));
	}
	if (uid != -1 && chown(dir, (uid_t)uid, (gid_t)gid) != 0)
		return zdiag_set(d, ZE_IO, "%s: cannot give it to uid %ld: %s",
		    dir, uid, strerror(errno));
	return ZE_OK;
}

zerr_t
key_load_or_create(const char *path, long uid, long gid, zkey_t **out,
    int *created, zdiag_t *d)
{
	char pubpath[4096], hex[2 * KEY_SEED_LEN + 2];
	size_t pl = strlen(path);
	zkey_t *k = NULL;
	zerr_t e;

	*out = NULL;
	if (created != NULL)
		*created = 0;
	e = key_load(path, out, d);
	if (e != ZE_NOTFOUND)
		return e;
	if (pl > 4 && strcmp(path + pl - 4, ".key") == 0)
		pl -= 4;
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%.*s.pub", (int)pl,
	    path) >= sizeof(pubpath))
		return zdiag_set(d, ZE_INVAL, "%s: path too long", path);
	if ((e = make_parent(path, uid, gid, d)) != ZE_OK)
		return e;
	if ((e = key_generate(&k)) != ZE_OK)
		return zdiag_set(d, e, "%s: cannot generate a key: %s", path,
		    zerr_str(e));
	sodium_bin2hex(hex, sizeof(hex), k->sk, KEY_SEED_LEN);
	hex[2 * KEY_SEED_LEN] = '\n';
	e = write_atomic(path, hex, 2 * KEY_SEED_LEN + 1, 0600, uid, gid, d);
	sodium_memzero(hex, sizeof(hex));
	if (e == ZE_EXISTS) {
		/* another process created it first: use that one */
		key_free(&k);
		return key_load(path, out, d);
	}
	if (e != ZE_OK)
		goto fail;
	sodium_bin2hex(hex, sizeof(hex), k->pk, KEY_PUB_LEN);
	hex[KEY_HEX_LEN] = '\n';
	(void)unlink(pubpath);	/* a stale .pub of a removed key */
	if ((e = write_atomic(pubpath, hex, KEY_HEX_LEN + 1, 0644, uid, gid,
	    d)) != ZE_OK) {
		unlink(path);
		goto fail;
	}
	sync_dir_of(path);
	if (created != NULL)
		*created = 1;
	*out = k;
	return ZE_OK;
fail:
	key_free(&k);
	return e;
}
