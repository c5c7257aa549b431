/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the IKE crypto tests (test_ike_crypto.c: RFC vectors and refusals;
 * test_ike_crypto_json.c: the python-made composition vectors and tampering).
 */
#ifndef DVIPSEC_TEST_IKE_CRYPTO_H
#define DVIPSEC_TEST_IKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ike_crypto.h"

#define T_BUF 4096

extern struct ike_crypto *t_cx;
extern json_t *t_ike_vectors; /* tests/vectors/ike_crypto_vectors.json */
extern json_t *t_esp_vectors; /* tests/vectors/rfc_esp_vectors.json */

/* Decodes hex into out (fails the test if it is not hex or does not fit); returns the length. */
size_t t_unhex(const char *hex, uint8_t *out, size_t cap);
/* A string member of a JSON object (fails the test if absent). */
const char *t_str(const json_t *o, const char *key);
long long t_int(const json_t *o, const char *key);
/* t_unhex(t_str(o, key)) */
size_t t_field(const json_t *o, const char *key, uint8_t *out, size_t cap);
/* Fails with both values in hex unless got[0, len) equals the hex string. */
void t_assert_hex(const uint8_t *got, size_t len, const char *hex, const char *what);
/* The same for a JSON member. */
void t_assert_field(const uint8_t *got, size_t len, const json_t *o, const char *key,
		    const char *what);

/* test_ike_crypto_json.c */
void test_prf_plus_vectors(void **state);
void test_rfc7634_ike_example(void **state);
void test_suite_vectors(void **state);
void test_tamper_every_bit(void **state);
void test_auth_refusals(void **state);

#endif /* DVIPSEC_TEST_IKE_CRYPTO_H */
