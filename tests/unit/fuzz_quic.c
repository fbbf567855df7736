/*
 * fuzz_quic — fuzz harness for the parsers of lib/quic.c and
 * lib/tlshello.c, which read bytes from the network (the lab's censor
 * opens every client Initial it sees; zond-helper every datagram).
 *
 * The first input byte selects: 0 tls_hello_parse (a handshake
 * message), 1 tls_hello_parse_record (TLS records), 2 quic_initial_sni
 * on a datagram, 3 the rest as the plaintext payload of an Initial that
 * is protected here (fixed DCID) and opened again, so the frame reader
 * sees arbitrary frames behind a valid tag.  Built with clang and
 * -DZOND_LIBFUZZER it is a libFuzzer target; otherwise a replay driver
 * for ctest (label fuzz) that runs the files of the directories on its
 * command line and deterministic mutations of them, under ASan/UBSan.
 * Invariants: a parsed hello's SNI is NUL-terminated printable ASCII
 * and its lists within their arrays; an opened Initial's CRYPTO length
 * within the buffer; a mode-3 packet always decrypts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "quic.h"
#include "tlshello.h"


static void
check_hello(const tls_hello_t *h)
{
	size_t i, l = strnlen(h->sni, sizeof(h->sni));

	if (l == sizeof(h->sni) || h->n_ciphers > TLS_HELLO_LIST ||
	    h->n_exts > TLS_HELLO_LIST || h->n_groups > TLS_HELLO_SHORT ||
	    h->n_key_shares > TLS_HELLO_SHORT ||
	    h->n_versions > TLS_HELLO_SHORT || h->n_alpn > TLS_HELLO_ALPN ||
	    (unsigned)tls_hello_shape(h) > TLS_SHAPE_OTHER)
		abort();
	for (i = 0; i < l; i++)
		if (h->sni[i] <= 0x20 || h->sni[i] >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static uint8_t pkt[4096], crypto[4096];
	tls_hello_t h;
	quic_hdr_t qh;
	quic_keys_t k;
	char sni[300];
	size_t n, cl;
	int rc;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (tls_hello_parse(data + 1, size - 1, &h, NULL) == ZE_OK)
			check_hello(&h);
		break;
	case 1:
		if (tls_hello_parse_record(data + 1, size - 1, &h, NULL) ==
		    ZE_OK)
			check_hello(&h);
		break;
	case 2:
		rc = quic_initial_sni(data + 1, size - 1, sni, sizeof(sni));
		if (rc > 0 || rc < QUIC_E_CRYPTO ||
		    (rc == 0 && strnlen(sni, sizeof(sni)) == sizeof(sni)))
			abort();
		break;
	default:
		/* c3 00000001 08 dcid 00 00 Length(2) pn(4) | payload */
		n = size - 1;
		if (n < 20 || n > sizeof(pkt) - 22 - 16)
			break;
		pkt[0] = 0xc3;
		memcpy(pkt + 1, "\x00\x00\x00\x01\x08", 5);
		memcpy(pkt + 6, dcid, 8);
		pkt[14] = 0;
		pkt[15] = 0;
		pkt[16] = (uint8_t)(0x40 | ((4 + n + 16) >> 8));
		pkt[17] = (uint8_t)(4 + n + 16);
		memset(pkt + 18, 0, 4);
		memcpy(pkt + 22, data + 1, n);
		if (quic_initial_keys(dcid, 8, false, &k, NULL) != ZE_OK ||
		    quic_protect(&k, pkt, 22, 4, n, NULL) != ZE_OK)
			abort();
		rc = quic_initial_open(pkt, 22 + n + 16, &qh, crypto,
		    sizeof(crypto), &cl);
		if (rc == QUIC_E_DECRYPT || rc == QUIC_E_SHORT ||
		    (rc == 0 && cl > sizeof(crypto)))
			abort();
		if (rc == 0 && tls_hello_parse(crypto, cl, &h, NULL) == ZE_OK)
			check_hello(&h);
		break;
	}
	return 0;
}

#ifndef ZOND_LIBFUZZER
/* set one length field to an extreme (the replay driver's mutation) */
static void
extreme(uint8_t *buf, size_t n, uint64_t r)
{
	/* never the selector byte; lengths sit in the first 80 */
	if (n > 2)
		buf[1 + r % (n - 1 < 80 ? n - 1 : 80)] = (r >> 8) % 2 ? 0xff : 0;
}

const struct fuzz_replay fuzz_replay = {"fuzz_quic", 1, extreme, 0,
    NULL, NULL};
#endif
