/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The trusted link between the router and its targets: each packet travels in GRE (RFC 2784 with
 * the key and sequence number extensions of RFC 2890) over IPv4 over Ethernet, so a memif ring or
 * a real port to another host carries it and tshark decodes captures of it.
 *
 *   Ethernet (link MACs, type 0x0800)
 *   IPv4 (link addresses, protocol 47, TTL 64, DF, id from a per-link counter, checksum in
 * software) GRE: version 0, K always set, S when the link numbers its packets, C accepted on decap
 *        protocol type: 0x0800 / 0x86DD from the payload's IP version, or GRE_PROTO_FEEDBACK
 *        key: bits 0-23 the SA slot on the target, bit 31 "selectors already checked"
 *   payload: the inbound ESP packet as received (still encrypted), a plain IP packet (slot
 *            GRE_SLOT_PLAIN), or a dvipsec feedback message (target -> router)
 *
 * Router: classify -> ... -> connection table -> gre_encap_burst -> trusted link tx.
 * Target: trusted link rx -> gre_decap_burst -> shadow SA by key slot -> ESP inbound.
 *
 * Both bursts return how many packets passed: those are at the front of the array in their original
 * order, the failed ones behind them (also in order), and the CALLER owns (and frees) both. Every
 * failure bumps exactly one per-lcore drop counter. Encap writes its headers into the first segment
 * (chains are fine); decap needs single-segment mbufs.
 */
#ifndef DVIPSEC_GRE_H
#define DVIPSEC_GRE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#define GRE_PROTO_IPV4	   0x0800
#define GRE_PROTO_IPV6	   0x86DD
#define GRE_PROTO_FEEDBACK 0x88B5 /* IEEE 802 local experimental EtherType 1 */

#define GRE_KEY_SLOT_MASK 0x00FFFFFFu
#define GRE_SLOT_PLAIN	  0x00FFFFFFu /* plain TCP distributed without IPsec */
#define GRE_KEY_FILTERED  0x80000000u /* the router checked the traffic selectors */
#define GRE_KEY_RESERVED  0x7F000000u /* must be zero */

#define GRE_ETH_LEN	   14
#define GRE_IPV4_LEN	   20
#define GRE_HDR_LEN(seq)   (4u + 4u + ((seq) ? 4u : 0u)) /* flags/proto, key, [seq] */
#define GRE_ENCAP_LEN(seq) (GRE_ETH_LEN + GRE_IPV4_LEN + GRE_HDR_LEN(seq))
#define GRE_ENCAP_MAX	   GRE_ENCAP_LEN(1)
#define GRE_TTL		   64
#define GRE_BURST_MAX	   64 /* larger bursts are processed in chunks of this size */

#define GRE_DROP_REASONS(X)                                                                        \
	X(MULTI_SEGMENT, "multi_segment", "chained mbuf; decap needs one segment")                 \
	X(TRUNCATED, "truncated", "frame shorter than its headers say")                            \
	X(NOT_IPV4, "not_ipv4", "outer EtherType is not IPv4 (VLAN tags are not parsed)")          \
	X(BAD_IP_HEADER, "bad_ip_header", "outer IPv4 header malformed (version, IHL, length)")    \
	X(BAD_IP_CHECKSUM, "bad_ip_checksum", "outer IPv4 header checksum does not verify")        \
	X(FRAGMENT, "fragment", "outer IPv4 fragment; the trusted link never fragments")           \
	X(NOT_GRE, "not_gre", "outer IPv4 protocol is not GRE (47)")                               \
	X(WRONG_DST, "wrong_dst", "outer destination is not this link's address")                  \
	X(BAD_GRE_VERSION, "bad_gre_version", "GRE version is not 0")                              \
	X(BAD_GRE_FLAGS, "bad_gre_flags", "GRE routing, strict route or recursion bit set")        \
	X(BAD_GRE_CHECKSUM, "bad_gre_checksum", "GRE checksum present and wrong")                  \
	X(NO_KEY, "no_key", "GRE key absent")                                                      \
	X(BAD_KEY, "bad_key", "GRE key bits 24-30 not zero")                                       \
	X(UNKNOWN_PROTO, "unknown_proto", "GRE protocol type not IPv4, IPv6 or dvipsec feedback")  \
	X(BAD_PAYLOAD, "bad_payload", "payload shorter than an IP header or of another version")   \
	X(ENCAP_NOT_IP, "encap_not_ip", "encap: payload not IPv4/IPv6 and no protocol type given") \
	X(TOO_LONG, "too_long", "encap: outer packet would exceed 65535 bytes")                    \
	X(NO_HEADROOM, "no_headroom", "encap: mbuf headroom smaller than the link headers")

enum gre_drop {
	GRE_DROP_NONE = 0, /* not a drop: the packet continues */
#define GRE_DROP_ENUM(sym, name, desc) GRE_DROP_##sym,
	GRE_DROP_REASONS(GRE_DROP_ENUM)
#undef GRE_DROP_ENUM
		GRE_DROP_COUNT
};

const char *gre_drop_name(enum gre_drop reason);
const char *gre_drop_desc(enum gre_drop reason);

/* One direction of one link as seen by one lcore (no sharing, so no atomics): the outer headers of
 * what this lcore sends, and its IP id and GRE sequence counters. On the receiving side src_ip is
 * the address gre_decap_burst_local() expects as the outer destination. */
struct gre_link {
	struct rte_ether_addr src_mac;
	struct rte_ether_addr dst_mac;
	uint32_t src_ip; /* network order */
	uint32_t dst_ip; /* network order */
	uint32_t seq;	 /* next GRE sequence number when seq_on */
	uint16_t ip_id;
	uint8_t seq_on;
	/* set by gre_link_init() from the fields above: the Ethernet and IPv4 headers with length,
	 * id and checksum left zero, and the checksum sum of the IPv4 header's constant words */
	uint32_t ck_base;
	uint8_t tmpl[GRE_ETH_LEN + GRE_IPV4_LEN];
};

/* Per-lcore counters, summed by telemetry. */
struct gre_stats {
	uint64_t encap_packets;
	uint64_t encap_bytes; /* payload bytes, before the link headers */
	uint64_t decap_packets;
	uint64_t decap_bytes; /* payload bytes, after the link headers */
	uint64_t drops[GRE_DROP_COUNT];
};

/* What decap learned from the headers it stripped. */
struct gre_info {
	uint32_t key;	    /* host order: slot | flags */
	uint32_t seq;	    /* host order; valid when has_seq */
	uint32_t outer_src; /* network order: which peer sent it */
	uint16_t proto;	    /* host order: GRE_PROTO_* */
	uint8_t has_seq;
	uint8_t has_csum; /* the GRE checksum was present (and verified) */
};

static inline uint32_t
gre_key(uint32_t slot, bool filtered)
{
	return (slot & GRE_KEY_SLOT_MASK) | (filtered ? GRE_KEY_FILTERED : 0u);
}

static inline uint32_t
gre_key_slot(uint32_t key)
{
	return key & GRE_KEY_SLOT_MASK;
}

static inline bool
gre_key_filtered(uint32_t key)
{
	return (key & GRE_KEY_FILTERED) != 0;
}

/* Sets up one link direction; counters start at 0. Addresses in network order. */
void gre_link_init(struct gre_link *link, const struct rte_ether_addr *src_mac,
		   const struct rte_ether_addr *dst_mac, uint32_t src_ip, uint32_t dst_ip,
		   bool seq_on);

/* Prepends Ethernet/IPv4/GRE to pkts[i] (data at an IP packet or a feedback payload) with key
 * keys[i] (host order). The protocol type is protos[i] when protos is not NULL and protos[i] is
 * not 0, else it comes from the payload's IP version nibble. Failures (no headroom, reserved key
 * bits, a payload that is not IP without a protocol, an outer length past 65535) leave the packet
 * unchanged. Returns the number passed. */
uint16_t gre_encap_burst(struct gre_link *link, struct rte_mbuf **pkts, const uint32_t *keys,
			 const uint16_t *protos, uint16_t n, struct gre_stats *st);

/* Validates and strips the link headers of received frames, leaving data at the payload with any
 * Ethernet padding trimmed. info[i] describes pkts[i] for the packets that passed (info moves with
 * its packet; entries behind the passed ones are undefined). Returns the number passed. */
uint16_t gre_decap_burst(struct gre_stats *st, struct rte_mbuf **pkts, struct gre_info *info,
			 uint16_t n);

/* The same, and the outer destination must be local_ip (network order, the link's own address). */
uint16_t gre_decap_burst_local(struct gre_stats *st, uint32_t local_ip, struct rte_mbuf **pkts,
			       struct gre_info *info, uint16_t n);

#endif /* DVIPSEC_GRE_H */
