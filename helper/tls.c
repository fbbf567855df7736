/*
 * tls.c — self-signed certificate and server SSL_CTX (tls.h).
 *
 * The key and certificate live only in memory for the life of the
 * process; nothing is written to disk.  Agents do not verify this
 * certificate: the helper is a throughput source, not an identity.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define CERT_DAYS	825

static zerr_t
ossl_fail(zdiag_t *d, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return zdiag_set(d, ZE_CRYPTO, "tls: %s: %s", what, e ? buf :
	    "unknown error");
}

/* Log nothing and refuse nothing: every server name is welcome. */
static int
any_sni(SSL *ssl, int *alert, void *arg)
{
	(void)ssl;
	(void)alert;
	(void)arg;
	return SSL_TLSEXT_ERR_OK;
}

zerr_t
htls_ctx_new(const char *cn, SSL_CTX **out, zdiag_t *d)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	SSL_CTX *ctx = NULL;
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	zerr_t e = ZE_CRYPTO;

	*out = NULL;
	if ((pkey = EVP_EC_gen("P-256")) == NULL) {
		e = ossl_fail(d, "key generation");
		goto out;
	}
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2)) {
		e = ossl_fail(d, "X509_new");
		goto out;
	}
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		e = ossl_fail(d, "RAND_bytes");
		goto out;
	}
	serial[0] &= 0x7f;	/* positive */
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)CERT_DAYS * 86400) == NULL ||
	    !X509_set_pubkey(x, pkey)) {
		e = ossl_fail(d, "certificate fields");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    X509_sign(x, pkey, EVP_sha256()) == 0) {
		e = ossl_fail(d, "certificate signing");
		goto out;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		e = ossl_fail(d, "SSL_CTX");
		goto out;
	}
	/* Writes come from one static buffer and may be partial. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_tlsext_servername_callback(ctx, any_sni);
	*out = ctx;
	ctx = NULL;
	e = ZE_OK;
out:
	SSL_CTX_free(ctx);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return e;
}
