/* SPDX-License-Identifier: BSD-3-Clause */
/* Network-order loads and stores at any alignment, for every wire parser and builder. */
#ifndef DVIPSEC_DP_BYTES_H
#define DVIPSEC_DP_BYTES_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

static inline uint16_t
load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	v = rte_cpu_to_be_16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, sizeof(v));
}

#endif /* DVIPSEC_DP_BYTES_H */
