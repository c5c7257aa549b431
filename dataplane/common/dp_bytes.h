/* SPDX-License-Identifier: BSD-3-Clause */
/* Network-order loads and stores at any alignment, and IPv4 header checksums, for every wire
 * parser and builder. */
#ifndef DVIPSEC_DP_BYTES_H
#define DVIPSEC_DP_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

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

/* The RFC 1071 sum of an option-less IPv4 header, folded to 16 bits: 0xffff when its checksum
 * verifies. Summed in 32-bit words (the one's complement sum does not care how it is cut), five
 * loads where rte_raw_cksum() takes ten. */
static inline uint16_t
ipv4_hdr20_sum(const uint8_t *ip)
{
	uint32_t w[5];
	uint64_t s;

	memcpy(w, ip, sizeof(w));
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* A received IPv4 header's checksum (ihl bytes at ip, the header of m), unless the port already
 * judged it (RX checksum offload). */
static inline bool
ipv4_cksum_ok(const struct rte_mbuf *m, const uint8_t *ip, uint32_t ihl)
{
	uint64_t rx = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (rx == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		return true;
	if (rx == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	if (ihl == 20)
		return ipv4_hdr20_sum(ip) == 0xffff;

	uint32_t sum = 0; /* with options (rare): word by word, RFC 1071 */

	for (uint32_t i = 0; i + 1 < ihl; i += 2)
		sum += load_be16(ip + i);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* A sender's IPv4 header from a template: the RFC 1071 sum of the template's 20 bytes as big-endian
 * 16-bit values, taken once with the per-packet fields (TOS, length, id, checksum) at 0 ... */
static inline uint32_t
ipv4_tmpl_sum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += load_be16(ip + i);
	return sum;
}

/* ... then per packet, with those fields' values added: the checksum to store with store_be16(). */
static inline uint16_t
ipv4_cksum_finish(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif /* DVIPSEC_DP_BYTES_H */
