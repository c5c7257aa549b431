/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's first stage (ARCHITECTURE.md section 2, step 1): Ethernet frames from the uplink
 * port, sorted by what they are for. Exits:
 *
 *   esp    ESP (IP protocol 50) or ESP-in-UDP (UDP 4500, non-zero first word) to a DVIPA
 *          -> SA lookup. Ethernet stripped: data at the outer IP header, padding trimmed;
 *          esp_pkt_info from esp_parse_outer() alongside; senders' MACs and addresses in src.
 *   ike    UDP 500, or UDP 4500 with the zero non-ESP marker, to a DVIPA -> control thread.
 *   tcp    plain TCP to a DVIPA -> connection table, distributed without IPsec.
 *   reply  ARP request for a DVIPA, ICMP/ICMPv6 echo request to a DVIPA, neighbor solicitation
 *          for a DVIPA: turned in place into the answer -> sent back out of the same port.
 *   drop   everything else, each under one reason of RTR_CLS_DROPS -> the caller frees them.
 *
 * The ike and tcp exits carry the same per-packet info as esp (data at the IP header). Frames
 * must be single-segment; VLAN tags are not parsed. The stage keeps no state: the caller owns every
 * mbuf on every exit.
 */
#ifndef DVIPSEC_RTR_CLASSIFY_H
#define DVIPSEC_RTR_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "esp.h"
#include "esp_types.h"

#define RTR_CLASSIFY_BURST_MAX 64

#define RTR_CLS_DROPS(X)                                                                         \
	X(MULTI_SEGMENT, "multi_segment", "chained mbuf; the router needs one segment")          \
	X(TRUNCATED, "truncated", "frame shorter than its headers say")                          \
	X(NOT_OUR_MAC, "not_our_mac", "unicast frame for another MAC address")                   \
	X(UNSUPPORTED_ETHERTYPE, "unsupported_ethertype",                                        \
	  "neither IPv4, IPv6 nor ARP (VLAN-tagged frames included: tags are not parsed)")       \
	X(BAD_IP_HEADER, "bad_ip_header",                                                        \
	  "IP version differs from the EtherType, or IHL/lengths bad")                           \
	X(BAD_IP_CHECKSUM, "bad_ip_checksum", "IPv4 header checksum does not verify")            \
	X(BAD_SRC_ADDR, "bad_src_addr", "source address multicast, broadcast or unspecified")    \
	X(NOT_FOR_DVIPA, "not_for_dvipa", "destination (or ND target) is none of our DVIPAs")    \
	X(FRAGMENT, "fragment", "IP fragment; reassembly is not done here")                      \
	X(UNSUPPORTED_EXT, "unsupported_ext_header",                                             \
	  "IPv6 extension header not walked, or any on ICMPv6 we would answer")                  \
	X(BAD_UDP_LENGTH, "bad_udp_length", "UDP length field disagrees with the IP length")     \
	X(NATT_KEEPALIVE, "natt_keepalive", "NAT-T keepalive (RFC 3948 2.3), nothing to do")     \
	X(UDP_OTHER_PORT, "udp_other_port", "UDP to a port other than 500 and 4500")             \
	X(ICMP_NOT_ECHO, "icmp_not_echo",                                                        \
	  "ICMP/ICMPv6 other than echo request and neighbor solicit")                            \
	X(BAD_ICMP_CHECKSUM, "bad_icmp_checksum", "echo request whose checksum does not verify") \
	X(BAD_ND, "bad_nd", "neighbor solicitation failing the RFC 4861 7.1.1 validity checks")  \
	X(ARP_NOT_REQUEST, "arp_not_request_for_dvipa",                                          \
	  "ARP that is not an Ethernet/IPv4 request for a DVIPA")                                \
	X(IP_PROTO_OTHER, "ip_proto_other", "IP protocol other than ESP, UDP, TCP, ICMP")        \
	X(NO_ROOM_FOR_REPLY, "no_room_for_reply", "mbuf too small for the neighbor advertisement")

enum rtr_cls_drop {
	RTR_CLS_DROP_NONE = 0, /* not a drop */
#define RTR_CLS_DROP_ENUM(sym, name, desc) RTR_CLS_DROP_##sym,
	RTR_CLS_DROPS(RTR_CLS_DROP_ENUM)
#undef RTR_CLS_DROP_ENUM
		RTR_CLS_DROP_COUNT
};

const char *rtr_cls_drop_name(enum rtr_cls_drop reason);
const char *rtr_cls_drop_desc(enum rtr_cls_drop reason);

enum rtr_cls_exit {
	RTR_CLS_EXIT_ESP = 0,
	RTR_CLS_EXIT_IKE,
	RTR_CLS_EXIT_TCP,
	RTR_CLS_EXIT_REPLY,
	RTR_CLS_EXIT_DROP,
	RTR_CLS_EXIT_COUNT
};

/* What the reply exit answered. */
enum rtr_cls_reply {
	RTR_CLS_REPLY_ARP = 0,
	RTR_CLS_REPLY_ECHO4,
	RTR_CLS_REPLY_ECHO6,
	RTR_CLS_REPLY_NA,
	RTR_CLS_REPLY_COUNT
};

const char *rtr_cls_exit_name(enum rtr_cls_exit exit);

/* Read-only, shared by all lcores. */
struct rtr_classify_ctx {
	const struct esp_addr *dvipas; /* IPv4 and IPv6 DVIPAs */
	uint16_t n_dvipas;
	struct rte_ether_addr port_mac; /* the uplink port's MAC: answers come from it */
};

/* Who sent a packet: the peer's MAC, learned for replies to its address. */
struct rtr_pkt_src {
	struct esp_addr ip;
	struct rte_ether_addr mac;
};

static inline bool
rtr_pkt_src_same(const struct rtr_pkt_src *a, const struct rtr_pkt_src *b)
{
	if (!rte_is_same_ether_addr(&a->mac, &b->mac) || a->ip.family != b->ip.family)
		return false;
	return a->ip.family == 4 ? a->ip.v4 == b->ip.v4 : memcmp(a->ip.v6, b->ip.v6, 16) == 0;
}

/* An exit for IP packets: data at the IP header, Ethernet stripped, padding trimmed. */
struct rtr_cls_ip_exit {
	uint16_t n;
	struct rte_mbuf *pkts[RTR_CLASSIFY_BURST_MAX];
	struct esp_pkt_info info[RTR_CLASSIFY_BURST_MAX]; /* ike, tcp: esp_off and udp are 0 */
};

/* Per-lcore scratch, one burst's worth; every exit keeps the packets' arrival order. */
struct rtr_classify_out {
	struct rtr_cls_ip_exit esp;
	struct rtr_cls_ip_exit ike;
	struct rtr_cls_ip_exit tcp;
	/* the senders of the packets on the IP exits, in arrival order, each one only where it
	 * differs from the sender of the IP-exit packet before it (a burst from one peer: one) */
	uint16_t n_src;
	struct rtr_pkt_src src[RTR_CLASSIFY_BURST_MAX];
	uint16_t n_reply;
	uint16_t n_drop;
	struct rte_mbuf *reply[RTR_CLASSIFY_BURST_MAX]; /* whole Ethernet frames, ready to send */
	struct rte_mbuf *drop[RTR_CLASSIFY_BURST_MAX];
	uint8_t drop_why[RTR_CLASSIFY_BURST_MAX]; /* enum rtr_cls_drop */
};

/* Per-lcore counters, summed by telemetry. exits[RTR_CLS_EXIT_DROP] is the sum of drops[]. */
struct rtr_classify_stats {
	uint64_t rx_packets;
	uint64_t exits[RTR_CLS_EXIT_COUNT];
	uint64_t replies[RTR_CLS_REPLY_COUNT];
	uint64_t drops[RTR_CLS_DROP_COUNT];
};

/* Sorts pkts[0..n) (n <= RTR_CLASSIFY_BURST_MAX; the rest are left alone and not counted) into
 * out, whose counts it resets first. Returns how many packets went to a non-drop exit. */
uint16_t rtr_classify_burst(const struct rtr_classify_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
			    struct rtr_classify_out *out, struct rtr_classify_stats *st);

#endif /* DVIPSEC_RTR_CLASSIFY_H */
