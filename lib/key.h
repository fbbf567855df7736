/*
 * key.h — an agent's, aggregator's or operator's Ed25519 identity.
 *
 * One key per party: it signs (Ed25519) and, converted with libsodium's
 * ed25519-to-curve25519 functions, it is also the CurveZMQ key pair.
 *
 * Files (docs/PROTOCOL.md "Keys"):
 *   identity.key  the 32-byte Ed25519 seed as 64 lowercase hex characters
 *                 and a newline; mode 0600; refused if group or others
 *                 may read it.
 *   identity.pub  the 32-byte public key as 64 lowercase hex characters
 *                 and a newline.
 * The secret lives in sodium_malloc'd memory and is wiped on free.
 * A zkey_t is immutable after loading and may be shared between threads.
 */
#ifndef ZOND_KEY_H
#define ZOND_KEY_H

#include <stdint.h>

#include "err.h"
#include "zbuf.h"

#define KEY_PUB_LEN 32
#define KEY_SEED_LEN 32
#define KEY_SIG_LEN 64
#define KEY_HEX_LEN 64

typedef struct zkey zkey_t;

/* Fresh random identity.  Caller frees with key_free. */
zerr_t key_generate(zkey_t **out) ZWUR;
/* Identity from a fixed seed (test vectors). */
zerr_t key_from_seed(const uint8_t seed[KEY_SEED_LEN], zkey_t **out) ZWUR;
/* Load a secret key file, enforcing its permissions (key_check_secret). */
zerr_t key_load(const char *path, zkey_t **out, zdiag_t *d) ZWUR;
/*
 * The permission rule for every secret file the programs read (identity
 * keys, the aggregator's [relay] tls_key): fd, open on path, must be a
 * regular file (else ZE_PARSE) that neither group nor others may access
 * (mode & 077 zero, else ZE_PERM).  Messages name path, what ("secret
 * key", "TLS private key"), the mode and the chmod that fixes it.
 */
zerr_t key_check_secret(int fd, const char *path, const char *what,
    zdiag_t *d) ZWUR;
/*
 * A secret file that is not a Zond key (a PEM private key): opened,
 * checked by key_check_secret, read into b (initialised here with cap
 * max, NUL-terminated; ZE_TOOBIG when larger).  ZE_NOTFOUND when it does
 * not exist.  The caller wipes b's bytes and frees it, also on error.
 */
zerr_t key_read_secret(const char *path, const char *what, size_t max,
    zbuf_t *b, zdiag_t *d) ZWUR;
/*
 * Write DIR/identity.key (0600) and DIR/identity.pub (0644), creating DIR
 * (0700) if needed.  Refuses to overwrite an existing identity.key.
 */
zerr_t key_save(const zkey_t *k, const char *dir, zdiag_t *d) ZWUR;
/*
 * Load the secret key at path; when it does not exist, create a fresh
 * identity there (0600; written to an O_EXCL temporary file, fsync'd and
 * renamed, so a crash leaves either no key or a whole one) and its public
 * half beside it (path with ".key" replaced by ".pub", else ".pub"
 * appended; 0644).  uid/gid other than (uid_t)-1 own the new files (a
 * root daemon that switches to its user).  *created tells which happened
 * (may be NULL).  A key file with loose permissions is refused as by
 * key_load.  Not thread-safe with another creator of the same path in
 * this process; across processes the rename makes the first key win.
 */
zerr_t key_load_or_create(const char *path, long uid, long gid,
    zkey_t **out, int *created, zdiag_t *d) ZWUR;
void key_free(zkey_t **k);

const uint8_t *key_public(const zkey_t *k);
/* 65-byte buffer: hex of the public key. */
void key_public_hex(const zkey_t *k, char hex[KEY_HEX_LEN + 1]);
/* CurveZMQ pair derived from the identity.  Caller wipes curve_sk. */
zerr_t key_curve(const zkey_t *k, uint8_t curve_pk[32],
    uint8_t curve_sk[32]) ZWUR;
/* Raw Ed25519 signature over msg (no prefix; see sign.h). */
zerr_t key_sign_raw(const zkey_t *k, const uint8_t *msg, size_t len,
    uint8_t sig[KEY_SIG_LEN]) ZWUR;

/* Parse 64 hex characters into a public key. */
zerr_t pubkey_from_hex(const char *hex, uint8_t pk[KEY_PUB_LEN],
    zdiag_t *d) ZWUR;
/* Load an identity.pub file. */
zerr_t pubkey_load(const char *path, uint8_t pk[KEY_PUB_LEN],
    zdiag_t *d) ZWUR;
/* Curve25519 public key of an Ed25519 public key (for CURVE server keys). */
zerr_t pubkey_to_curve(const uint8_t pk[KEY_PUB_LEN],
    uint8_t curve_pk[32]) ZWUR;

#endif
