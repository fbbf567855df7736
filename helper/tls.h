/*
 * tls.h — zond-helper's TLS server context: a fresh self-signed P-256
 * certificate made at start, any SNI accepted (the throughput test
 * compares a real SNI with a control SNI to this same server, so the name
 * must never decide anything here).  Not thread-safe; call once.
 */
#ifndef HELPER_TLS_H
#define HELPER_TLS_H

#include <openssl/ssl.h>

#include "err.h"

/* A new server SSL_CTX with a self-signed certificate for cn; caller
 * frees it with SSL_CTX_free. */
zerr_t htls_ctx_new(const char *cn, SSL_CTX **out, zdiag_t *d) ZWUR;

#endif
