/* vector.h — the fixed measurement of the golden test vectors
 * (tests/vectors/README.md describes it field by field). */
#ifndef TEST_VECTOR_H
#define TEST_VECTOR_H

#include <stdint.h>

#include "wire.h"

/* Seed of the vector key: bytes 0x00, 0x01, ..., 0x1f. */
void vector_seed(uint8_t seed[32]);

/* Storage for the nested messages of the vector measurement. */
struct vector_meas {
	Zond__V1__Measurement m;
	Zond__V1__NetContext net;
	Zond__V1__Outcome out;
	Zond__V1__TlsOutcome tls;
	uint8_t id[16];
	uint8_t agent[32];
};

/* Fill v with the vector measurement made by the agent with public key pk. */
void vector_measurement(struct vector_meas *v, const uint8_t pk[32]);

#endif
