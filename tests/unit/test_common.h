/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the unit tests: an EAL without hugepages, an mbuf pool, hex and JSON vector files. */
#ifndef DVIPSEC_TEST_COMMON_H
#define DVIPSEC_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "esp.h"

/* rte_eal_init with --no-huge --no-pci and a per-process file prefix; creates t_pool. Aborts on
 * error. */
void t_eal_init(const char *prog);
extern struct rte_mempool *t_pool;

/* An mbuf holding a copy of data (headroom and tailroom as the pool gives: 128 / ~1900 bytes). */
struct rte_mbuf *t_mbuf_from(const uint8_t *data, size_t len);

/* Hex string to bytes; returns the byte count, or -1 if it is not hex or does not fit. */
int t_hex(const char *hex, uint8_t *out, size_t max);
void t_to_hex(const uint8_t *in, size_t len, char *out /* 2 * len + 1 */);

/* Loads a JSON file or fails the test. */
json_t *t_load_json(const char *path);
const char *t_json_str(const json_t *obj, const char *key);
/* An integer, or a string in C notation ("0x...") for values past 2^63. */
uint64_t t_json_u64(const json_t *obj, const char *key);

/* Fills SA parameters from a vector object (aead, keymat, spi, esn, mode, encap, local/remote or
 * the outer header's addresses). keymat must have room for ESP_MAX_KEYMAT_LEN. */
void t_params_from_vector(const json_t *v, enum esp_dir dir, struct esp_sa_params *p,
			  uint8_t *keymat);

/* Sum of one drop counter. */
uint64_t t_drops(const struct esp_lcore *lc, enum esp_drop why);

#endif
