/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Router stage 1, classify (rtr_classify.h): Ethernet -> ARP / IPv4 / IPv6 -> to a DVIPA? ->
 * ESP, ESP-in-UDP, IKE, TCP, or an ARP/echo/neighbor solicitation answered in place. Packets next
 * go to SA lookup (esp), the control thread (ike), the connection table (tcp) or back out of the
 * uplink (reply). Every length is checked before it is read; the outer IP and UDP headers are
 * parsed by esp_parse_outer(), the same code the targets' ESP engine uses.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dp_bytes.h"
#include "rtr_classify.h"

#define ETH_LEN	      14
#define ARP_LEN	      28
#define IPV4_MIN_LEN  20
#define IPV6_LEN      40
#define UDP_LEN	      8
#define TCP_MIN_LEN   20
#define ICMP_HDR_LEN  8
#define ND_NS_MIN_LEN 24 /* type, code, checksum, reserved, target */
#define ND_OPT_LEN    8	 /* one link-layer address option for Ethernet */
#define ND_NA_LEN     (ND_NS_MIN_LEN + ND_OPT_LEN)
#define NA_FRAME_LEN  (ETH_LEN + IPV6_LEN + ND_NA_LEN)
#define IKE_PORT      500
#define REPLY_TTL     64
#define ND_HOP_LIMIT  255

#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMPV6 58

#define ICMP_ECHO_REPLY	     0
#define ICMP_ECHO_REQUEST    8
#define ICMPV6_ECHO_REQUEST  128
#define ICMPV6_ECHO_REPLY    129
#define ICMPV6_NS	     135
#define ICMPV6_NA	     136
#define ND_OPT_SRC_LLADDR    1
#define ND_OPT_TGT_LLADDR    2
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE  0x20000000u

static const char *const drop_names[RTR_CLS_DROP_COUNT] = { [RTR_CLS_DROP_NONE] = "none",
#define RTR_CLS_DROP_NAME(sym, name, desc) [RTR_CLS_DROP_##sym] = name,
							    RTR_CLS_DROPS(RTR_CLS_DROP_NAME)
#undef RTR_CLS_DROP_NAME
};

static const char *const drop_descs[RTR_CLS_DROP_COUNT] = { [RTR_CLS_DROP_NONE] = "not dropped",
#define RTR_CLS_DROP_DESC(sym, name, desc) [RTR_CLS_DROP_##sym] = desc,
							    RTR_CLS_DROPS(RTR_CLS_DROP_DESC)
#undef RTR_CLS_DROP_DESC
};

static const char *const exit_names[RTR_CLS_EXIT_COUNT] = {
	[RTR_CLS_EXIT_ESP] = "esp",	[RTR_CLS_EXIT_IKE] = "ike",   [RTR_CLS_EXIT_TCP] = "tcp",
	[RTR_CLS_EXIT_REPLY] = "reply", [RTR_CLS_EXIT_DROP] = "drop",
};

const char *
rtr_cls_drop_name(enum rtr_cls_drop reason)
{
	return (unsigned int)reason < RTR_CLS_DROP_COUNT ? drop_names[reason] : "?";
}

const char *
rtr_cls_drop_desc(enum rtr_cls_drop reason)
{
	return (unsigned int)reason < RTR_CLS_DROP_COUNT ? drop_descs[reason] : "?";
}

const char *
rtr_cls_exit_name(enum rtr_cls_exit exit)
{
	return (unsigned int)exit < RTR_CLS_EXIT_COUNT ? exit_names[exit] : "?";
}

/* The verdict on one frame: an exit, and the drop reason or the kind of reply. */
struct verdict {
	enum rtr_cls_exit exit;
	uint8_t why; /* enum rtr_cls_drop, or enum rtr_cls_reply on the reply exit */
	/* parsed straight into the ESP exit's next slot: building it on the stack and copying it
	 * whole stalled store forwarding (~15 cycles a packet) */
	struct esp_pkt_info *pi;
	struct rtr_pkt_src src;
};

/* Facts about the IP header that decide what may be answered. */
struct ip_facts {
	uint8_t family;
	uint8_t ns_only;    /* IPv6 to a solicited-node multicast group: only an NS can be ours */
	uint8_t src_unspec; /* IPv6 source :: (DAD); only an NS may have it */
};

static inline enum rtr_cls_exit
drop(struct verdict *v, enum rtr_cls_drop why)
{
	v->why = (uint8_t)why;
	return RTR_CLS_EXIT_DROP;
}

static inline enum rtr_cls_exit
reply(struct verdict *v, enum rtr_cls_reply kind)
{
	v->why = (uint8_t)kind;
	return RTR_CLS_EXIT_REPLY;
}

static inline bool
is_dvipa4(const struct rtr_classify_ctx *ctx, const uint8_t *a)
{
	uint32_t v4;

	memcpy(&v4, a, 4);
	for (uint16_t i = 0; i < ctx->n_dvipas; i++)
		if (ctx->dvipas[i].family == 4 && ctx->dvipas[i].v4 == v4)
			return true;
	return false;
}

static inline bool
is_dvipa6(const struct rtr_classify_ctx *ctx, const uint8_t *a)
{
	for (uint16_t i = 0; i < ctx->n_dvipas; i++)
		if (ctx->dvipas[i].family == 6 && memcmp(ctx->dvipas[i].v6, a, 16) == 0)
			return true;
	return false;
}

/* ff02::1:ffXX:XXXX (RFC 4291 2.7.1) */
static inline bool
is_solicited_node(const uint8_t *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static inline bool
is_unspecified6(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changed from m to m'. */
static inline void
cksum_replace16(uint8_t *cksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~load_be16(cksum) + (uint32_t)(uint16_t)~old_word + new_word;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	store_be16(cksum, (uint16_t)~sum);
}

/* The ICMPv6 checksum sum (not complemented) over the pseudo header and len bytes at icmp. */
static inline uint16_t
icmpv6_sum(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	uint8_t ph[8] = { 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, PROTO_ICMPV6 };
	uint32_t sum = __rte_raw_cksum(ip6 + 8, 32, 0); /* source and destination */

	sum = __rte_raw_cksum(ph, sizeof(ph), sum);
	sum = __rte_raw_cksum(icmp, len, sum);
	return __rte_raw_cksum_reduce(sum);
}

static inline void
eth_answer(uint8_t *f, const struct rte_ether_addr *port_mac)
{
	memcpy(f, f + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	memcpy(f + RTE_ETHER_ADDR_LEN, port_mac, RTE_ETHER_ADDR_LEN);
}

/* -- ARP --------------------------------------------------------------------------------------- */

static enum rtr_cls_exit
classify_arp(const struct rtr_classify_ctx *ctx, uint8_t *f, uint32_t len, struct verdict *v)
{
	if (len < ETH_LEN + ARP_LEN)
		return drop(v, RTR_CLS_DROP_TRUNCATED);

	uint8_t *a = f + ETH_LEN;
	uint8_t *sha = a + 8, *spa = a + 14, *tha = a + 18, *tpa = a + 24;

	if (load_be16(a) != 1 || load_be16(a + 2) != RTE_ETHER_TYPE_IPV4 ||
	    a[4] != RTE_ETHER_ADDR_LEN || a[5] != 4 || load_be16(a + 6) != 1)
		return drop(v, RTR_CLS_DROP_ARP_NOT_REQUEST);
	/* an announcement (sender = target) asks nothing */
	if (!is_dvipa4(ctx, tpa) || memcmp(spa, tpa, 4) == 0)
		return drop(v, RTR_CLS_DROP_ARP_NOT_REQUEST);
	if (sha[0] & 1)
		return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);

	uint8_t dvipa[4];

	memcpy(dvipa, tpa, 4);
	memcpy(tha, sha, RTE_ETHER_ADDR_LEN);
	memcpy(tpa, spa, 4);
	memcpy(sha, &ctx->port_mac, RTE_ETHER_ADDR_LEN);
	memcpy(spa, dvipa, 4);
	store_be16(a + 6, 2);
	eth_answer(f, &ctx->port_mac);
	return reply(v, RTR_CLS_REPLY_ARP);
}

/* -- answers to IP ----------------------------------------------------------------------------- */

/* ICMP echo request -> reply in place: addresses and MACs swapped, a fresh TTL, IP options (if
 * any) removed, the ICMP checksum updated for the type change only. */
static enum rtr_cls_exit
answer_echo4(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, struct verdict *v)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + ETH_LEN;
	uint16_t opt_len = v->pi->l3_len - IPV4_MIN_LEN;
	uint8_t *icmp = ip + v->pi->l3_len;
	uint32_t icmp_len = v->pi->ip_len - v->pi->l3_len;

	/* a host drops a request whose checksum fails; the reply's is summed afresh, since the
	 * incremental update (RFC 1624) yields 0x0000 instead of 0xffff for an all-zero message */
	if (rte_raw_cksum(icmp, icmp_len) != 0xffff)
		return drop(v, RTR_CLS_DROP_BAD_ICMP_CHECKSUM);
	icmp[0] = ICMP_ECHO_REPLY;
	memset(icmp + 2, 0, 2);

	uint16_t icmp_ck = (uint16_t)~rte_raw_cksum(icmp, icmp_len);

	memcpy(icmp + 2, &icmp_ck, 2);
	if (opt_len != 0) {
		/* options of a request (record route, ...) are not ours to echo: drop them */
		memmove(f + opt_len, f, ETH_LEN + IPV4_MIN_LEN);
		rte_pktmbuf_adj(m, opt_len);
		f = rte_pktmbuf_mtod(m, uint8_t *);
		ip = f + ETH_LEN;
		ip[0] = 0x45;
		store_be16(ip + 2, (uint16_t)(v->pi->ip_len - opt_len));
	}

	uint8_t t[4];

	memcpy(t, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, t, 4);
	ip[8] = REPLY_TTL;
	memset(ip + 10, 0, 2);

	uint16_t ck = (uint16_t)~rte_raw_cksum(ip, IPV4_MIN_LEN);

	memcpy(ip + 10, &ck, 2);
	m->data_len = (uint16_t)(ETH_LEN + v->pi->ip_len - opt_len);
	m->pkt_len = m->data_len;
	eth_answer(f, &ctx->port_mac);
	return reply(v, RTR_CLS_REPLY_ECHO4);
}

/* ICMPv6 echo request -> reply: swapping the addresses leaves the pseudo-header sum alone, so only
 * the type change enters the checksum. */
static enum rtr_cls_exit
answer_echo6(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, struct verdict *v)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + ETH_LEN;
	uint8_t *icmp = ip + IPV6_LEN;
	uint16_t old_word = load_be16(icmp);
	uint8_t t[16];

	/* the pseudo header's next header (58) keeps the sum off zero: the update is exact */
	if (icmpv6_sum(ip, icmp, v->pi->ip_len - IPV6_LEN) != 0xffff)
		return drop(v, RTR_CLS_DROP_BAD_ICMP_CHECKSUM);
	icmp[0] = ICMPV6_ECHO_REPLY;
	cksum_replace16(icmp + 2, old_word, load_be16(icmp));
	memcpy(t, ip + 8, 16);
	memcpy(ip + 8, ip + 24, 16);
	memcpy(ip + 24, t, 16);
	ip[7] = REPLY_TTL;
	m->data_len = (uint16_t)(ETH_LEN + v->pi->ip_len);
	m->pkt_len = m->data_len;
	eth_answer(f, &ctx->port_mac);
	return reply(v, RTR_CLS_REPLY_ECHO6);
}

/* Neighbor solicitation for a DVIPA (RFC 4861 7.1.1 checks) -> solicited advertisement with our
 * MAC as the target link-layer address (7.2.4); to all-nodes, unsolicited, if the NS came from ::
 * (duplicate address detection). */
static enum rtr_cls_exit
answer_ns(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, const struct ip_facts *ipf,
	  struct verdict *v)
{
	static const uint8_t all_nodes[16] = {
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + ETH_LEN;
	uint8_t *icmp = ip + IPV6_LEN;
	uint32_t len = v->pi->ip_len - IPV6_LEN;
	bool has_slla = false;

	if (len < ND_NS_MIN_LEN)
		return drop(v, RTR_CLS_DROP_BAD_ND);
	/* most solicitations on a shared segment are for other hosts: say so before summing */
	if (!is_dvipa6(ctx, icmp + 8))
		return drop(v, RTR_CLS_DROP_NOT_FOR_DVIPA);
	if (ip[7] != ND_HOP_LIMIT || icmp[1] != 0 || icmpv6_sum(ip, icmp, len) != 0xffff)
		return drop(v, RTR_CLS_DROP_BAD_ND);
	for (uint32_t off = ND_NS_MIN_LEN; off < len;) {
		uint32_t opt_len;

		if (len - off < 2 || (opt_len = icmp[off + 1] * 8u) == 0 || opt_len > len - off)
			return drop(v, RTR_CLS_DROP_BAD_ND);
		has_slla |= icmp[off] == ND_OPT_SRC_LLADDR;
		off += opt_len;
	}
	if (ipf->src_unspec && (!ipf->ns_only || has_slla))
		return drop(v, RTR_CLS_DROP_BAD_ND);

	if (m->data_len < NA_FRAME_LEN) {
		if (rte_pktmbuf_append(m, (uint16_t)(NA_FRAME_LEN - m->data_len)) == NULL)
			return drop(v, RTR_CLS_DROP_NO_ROOM_FOR_REPLY);
	} else {
		m->data_len = NA_FRAME_LEN;
		m->pkt_len = NA_FRAME_LEN;
	}

	if (ipf->src_unspec) {
		memcpy(f, all_nodes_mac, RTE_ETHER_ADDR_LEN);
		memcpy(f + RTE_ETHER_ADDR_LEN, &ctx->port_mac, RTE_ETHER_ADDR_LEN);
		memcpy(ip + 24, all_nodes, 16);
	} else {
		eth_answer(f, &ctx->port_mac);
		memcpy(ip + 24, ip + 8, 16);
	}
	store_be32(ip, 0x60000000u);
	store_be16(ip + 4, ND_NA_LEN);
	ip[6] = PROTO_ICMPV6;
	ip[7] = ND_HOP_LIMIT;
	memcpy(ip + 8, icmp + 8, 16); /* from the target address, a DVIPA */
	icmp[0] = ICMPV6_NA;
	icmp[1] = 0;
	memset(icmp + 2, 0, 2);
	store_be32(icmp + 4, ND_NA_FLAG_OVERRIDE | (ipf->src_unspec ? 0 : ND_NA_FLAG_SOLICITED));
	icmp[ND_NS_MIN_LEN] = ND_OPT_TGT_LLADDR;
	icmp[ND_NS_MIN_LEN + 1] = 1;
	memcpy(icmp + ND_NS_MIN_LEN + 2, &ctx->port_mac, RTE_ETHER_ADDR_LEN);

	uint16_t ck = (uint16_t)~icmpv6_sum(ip, icmp, ND_NA_LEN);

	memcpy(icmp + 2, &ck, 2);
	return reply(v, RTR_CLS_REPLY_NA);
}

/* -- IP ---------------------------------------------------------------------------------------- */

/* After esp_parse_outer() said "not ESP": the transport protocol decides. */
static enum rtr_cls_exit
classify_l4(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, const struct ip_facts *ipf,
	    struct verdict *v)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH_LEN);
	const uint8_t *l4 = ip + v->pi->l3_len;
	uint32_t room = v->pi->ip_len - v->pi->l3_len;
	uint8_t proto = ip[v->pi->proto_off];

	if (ipf->ns_only && !(proto == PROTO_ICMPV6 && room >= 1 && l4[0] == ICMPV6_NS))
		return drop(v, RTR_CLS_DROP_NOT_FOR_DVIPA);
	if (ipf->src_unspec && !(proto == PROTO_ICMPV6 && room >= 1 && l4[0] == ICMPV6_NS))
		return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);

	switch (proto) {
	case PROTO_UDP:
		if (room < UDP_LEN)
			return drop(v, RTR_CLS_DROP_TRUNCATED);
		if (load_be16(l4 + 4) != room)
			return drop(v, RTR_CLS_DROP_BAD_UDP_LENGTH);
		/* 4500 never gets here: esp_parse_outer() sorted it into ESP, IKE or keepalive */
		if (load_be16(l4 + 2) != IKE_PORT)
			return drop(v, RTR_CLS_DROP_UDP_OTHER_PORT);
		return RTR_CLS_EXIT_IKE;
	case PROTO_TCP:
		if (room < TCP_MIN_LEN)
			return drop(v, RTR_CLS_DROP_TRUNCATED);
		return RTR_CLS_EXIT_TCP;
	case PROTO_ICMP:
		if (ipf->family != 4)
			break;
		if (room < ICMP_HDR_LEN)
			return drop(v, RTR_CLS_DROP_TRUNCATED);
		if (l4[0] != ICMP_ECHO_REQUEST || l4[1] != 0)
			return drop(v, RTR_CLS_DROP_ICMP_NOT_ECHO);
		return answer_echo4(ctx, m, v);
	case PROTO_ICMPV6:
		if (ipf->family != 6)
			break;
		if (room < ICMP_HDR_LEN)
			return drop(v, RTR_CLS_DROP_TRUNCATED);
		if ((l4[0] != ICMPV6_ECHO_REQUEST || l4[1] != 0) && l4[0] != ICMPV6_NS)
			return drop(v, RTR_CLS_DROP_ICMP_NOT_ECHO);
		/* an answer reuses the header: extension headers would have to be rewritten */
		if (v->pi->l3_len != IPV6_LEN)
			return drop(v, RTR_CLS_DROP_UNSUPPORTED_EXT);
		if (l4[0] == ICMPV6_NS)
			return answer_ns(ctx, m, ipf, v);
		return answer_echo6(ctx, m, v);
	default:
		break;
	}
	return drop(v, RTR_CLS_DROP_IP_PROTO_OTHER);
}

/* Sorts the result of esp_parse_outer(). */
static enum rtr_cls_exit
classify_parsed(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, const struct ip_facts *ipf,
		enum esp_drop parsed, struct verdict *v)
{
	/* malformed headers count as such first; then only an NS may go to a multicast group or
	 * come from :: (classify_l4 checks that for the rest) */
	if (parsed == ESP_DROP_NONE || parsed == ESP_DROP_NON_ESP_MARKER ||
	    parsed == ESP_DROP_NATT_KEEPALIVE) {
		if (ipf->ns_only)
			return drop(v, RTR_CLS_DROP_NOT_FOR_DVIPA);
		if (ipf->src_unspec)
			return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);
	}
	switch (parsed) {
	case ESP_DROP_NONE:
		if (v->pi->ip_len - v->pi->esp_off < ESP_HDR_LEN)
			return drop(v, RTR_CLS_DROP_TRUNCATED);
		return RTR_CLS_EXIT_ESP;
	case ESP_DROP_NON_ESP_MARKER:
		return RTR_CLS_EXIT_IKE;
	case ESP_DROP_NOT_ESP:
		return classify_l4(ctx, m, ipf, v);
	case ESP_DROP_NATT_KEEPALIVE:
		return drop(v, RTR_CLS_DROP_NATT_KEEPALIVE);
	case ESP_DROP_TRUNCATED:
		return drop(v, RTR_CLS_DROP_TRUNCATED);
	case ESP_DROP_FRAGMENT:
		return drop(v, RTR_CLS_DROP_FRAGMENT);
	case ESP_DROP_UNSUPPORTED_EXT:
		return drop(v, RTR_CLS_DROP_UNSUPPORTED_EXT);
	case ESP_DROP_BAD_IP_HEADER:
		/* the IP header itself was checked before: what is left is the UDP length */
		return drop(v, RTR_CLS_DROP_BAD_UDP_LENGTH);
	default:
		return drop(v, RTR_CLS_DROP_BAD_IP_HEADER);
	}
}

/* Not 0.0.0.0, 255.255.255.255 or 224.0.0.0/4 (network order): a sender we could answer and
 * learn a MAC for. */
static inline bool
ipv4_src_ok(uint32_t src)
{
	return src != 0 && src != UINT32_MAX &&
	       (rte_be_to_cpu_32(src) & 0xf0000000u) != 0xe0000000u;
}

static enum rtr_cls_exit
classify_ipv4(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, uint32_t len,
	      struct verdict *v)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH_LEN);
	uint32_t room = len - ETH_LEN;

	if (room < IPV4_MIN_LEN)
		return drop(v, RTR_CLS_DROP_TRUNCATED);

	uint32_t ihl = (ip[0] & 0xfu) * 4u;
	uint32_t tot = load_be16(ip + 2);

	if ((ip[0] >> 4) != 4 || ihl < IPV4_MIN_LEN || tot < ihl)
		return drop(v, RTR_CLS_DROP_BAD_IP_HEADER);
	if (tot > room)
		return drop(v, RTR_CLS_DROP_TRUNCATED);
	if (!is_dvipa4(ctx, ip + 16))
		return drop(v, RTR_CLS_DROP_NOT_FOR_DVIPA);

	if (!ipv4_cksum_ok(m, ip, ihl))
		return drop(v, RTR_CLS_DROP_BAD_IP_CHECKSUM);

	uint32_t src;

	memcpy(&src, ip + 12, 4);
	if (!ipv4_src_ok(src))
		return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);
	v->src.ip.family = 4;
	v->src.ip.v4 = src;

	struct ip_facts ipf = { .family = 4 };
	enum esp_drop parsed = esp_parse_outer(ip, room, v->pi);

	/* the common case first: ESP with room for its header (an IPv4 packet is never NS-only) */
	if (likely(parsed == ESP_DROP_NONE && v->pi->ip_len - v->pi->esp_off >= ESP_HDR_LEN))
		return RTR_CLS_EXIT_ESP;
	return classify_parsed(ctx, m, &ipf, parsed, v);
}

static enum rtr_cls_exit
classify_ipv6(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, uint32_t len,
	      struct verdict *v)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH_LEN);
	uint32_t room = len - ETH_LEN;
	struct ip_facts ipf = { .family = 6 };

	if (room < IPV6_LEN)
		return drop(v, RTR_CLS_DROP_TRUNCATED);
	if ((ip[0] >> 4) != 6)
		return drop(v, RTR_CLS_DROP_BAD_IP_HEADER);
	if (!is_dvipa6(ctx, ip + 24)) {
		if (!is_solicited_node(ip + 24))
			return drop(v, RTR_CLS_DROP_NOT_FOR_DVIPA);
		ipf.ns_only = 1;
	}
	if (ip[8] == 0xff)
		return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);
	ipf.src_unspec = is_unspecified6(ip + 8);
	v->src.ip.family = 6;
	memcpy(v->src.ip.v6, ip + 8, 16);
	return classify_parsed(ctx, m, &ipf, esp_parse_outer(ip, room, v->pi), v);
}

/* -- the stage --------------------------------------------------------------------------------- */

static enum rtr_cls_exit
classify_one(const struct rtr_classify_ctx *ctx, struct rte_mbuf *m, struct verdict *v)
{
	if (m->nb_segs != 1)
		return drop(v, RTR_CLS_DROP_MULTI_SEGMENT);

	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = m->data_len;

	if (len < ETH_LEN)
		return drop(v, RTR_CLS_DROP_TRUNCATED);
	/* group bit clear: unicast, and then it must be ours (the port may be promiscuous) */
	if (!(f[0] & 1) && memcmp(f, &ctx->port_mac, RTE_ETHER_ADDR_LEN) != 0)
		return drop(v, RTR_CLS_DROP_NOT_OUR_MAC);
	if (f[RTE_ETHER_ADDR_LEN] & 1)
		return drop(v, RTR_CLS_DROP_BAD_SRC_ADDR);
	memcpy(&v->src.mac, f + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);

	switch (load_be16(f + 12)) {
	case RTE_ETHER_TYPE_IPV4:
		return classify_ipv4(ctx, m, len, v);
	case RTE_ETHER_TYPE_IPV6:
		return classify_ipv6(ctx, m, len, v);
	case RTE_ETHER_TYPE_ARP:
		return classify_arp(ctx, f, len, v);
	default:
		return drop(v, RTR_CLS_DROP_UNSUPPORTED_ETHERTYPE);
	}
}

static inline void
to_ip_exit(struct rtr_classify_out *out, struct rtr_cls_ip_exit *x, struct rte_mbuf *m,
	   const struct esp_pkt_info *pi, const struct rtr_pkt_src *src)
{
	/* data at the IP header, without the Ethernet padding behind the packet (the frame holds
	 * both headers: classify checked) */
	m->data_off += ETH_LEN;
	m->data_len = pi->ip_len;
	m->pkt_len = pi->ip_len;
	x->pkts[x->n] = m;
	if (&x->info[x->n] != pi)
		x->info[x->n] = *pi;
	x->n++;
	if (out->n_src == 0 || !rtr_pkt_src_same(&out->src[out->n_src - 1], src))
		out->src[out->n_src++] = *src;
}

/*
 * The common case in one pass: unicast to our MAC, IPv4 without options or fragmentation, ESP or
 * ESP-in-UDP to a DVIPA with room for the ESP header, a good checksum, a unicast source. For those
 * frames exactly what classify_one() sends to the ESP exit, with the same info, at about half the
 * cost (~20 cycles instead of ~30); any other frame (false) takes classify_one(), which names the
 * reason for a drop.
 */
static inline bool
fast_esp4(const struct rtr_classify_ctx *ctx, const struct rte_mbuf *m, struct esp_pkt_info *pi,
	  struct rtr_pkt_src *src)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = f + ETH_LEN;
	uint32_t len = m->data_len;
	uint32_t d32, s32, mac32;
	uint16_t d16, mac16;

	if (m->nb_segs != 1 || len < ETH_LEN + IPV4_MIN_LEN + ESP_HDR_LEN)
		return false;
	memcpy(&d32, f, 4);
	memcpy(&d16, f + 4, 2);
	memcpy(&mac32, &ctx->port_mac, 4);
	memcpy(&mac16, ctx->port_mac.addr_bytes + 4, 2);
	if (d32 != mac32 || d16 != mac16 || (f[RTE_ETHER_ADDR_LEN] & 1) ||
	    load_be16(f + 12) != RTE_ETHER_TYPE_IPV4 || ip[0] != 0x45)
		return false;

	uint32_t tot = load_be16(ip + 2);
	uint8_t proto = ip[9];

	if (tot > len - ETH_LEN || (load_be16(ip + 6) & 0x3fff) != 0 || !is_dvipa4(ctx, ip + 16))
		return false;
	if (proto == IPPROTO_ESP) {
		if (tot < IPV4_MIN_LEN + ESP_HDR_LEN)
			return false;
		pi->udp = 0;
		pi->esp_off = IPV4_MIN_LEN;
	} else {
		const uint8_t *udp = ip + IPV4_MIN_LEN;

		/* room for the ESP header behind UDP: never a keepalive; a zero SPI is IKE */
		if (proto != IPPROTO_UDP || tot < IPV4_MIN_LEN + UDP_LEN + ESP_HDR_LEN ||
		    load_be16(udp + 2) != ESP_UDP_PORT ||
		    load_be16(udp + 4) != tot - IPV4_MIN_LEN || load_be32(udp + UDP_LEN) == 0)
			return false;
		pi->udp = 1;
		pi->esp_off = IPV4_MIN_LEN + UDP_LEN;
	}

	memcpy(&s32, ip + 12, 4);
	if (!ipv4_cksum_ok(m, ip, IPV4_MIN_LEN) || !ipv4_src_ok(s32))
		return false;
	pi->ip_len = (uint16_t)tot;
	pi->l3_len = IPV4_MIN_LEN;
	pi->proto_off = 9;
	pi->family = 4;
	src->ip.family = 4;
	src->ip.v4 = s32;
	memcpy(&src->mac, f + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	return true;
}

uint16_t
rtr_classify_burst(const struct rtr_classify_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
		   struct rtr_classify_out *out, struct rtr_classify_stats *st)
{
	out->esp.n = out->ike.n = out->tcp.n = 0;
	out->n_src = out->n_reply = out->n_drop = 0;
	if (n > RTR_CLASSIFY_BURST_MAX)
		n = RTR_CLASSIFY_BURST_MAX;

	uint16_t n_fast = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct esp_pkt_info *pi = &out->esp.info[out->esp.n];
		struct rtr_pkt_src src = { .ip.family = 0 }; /* the unused address bytes too */

		if (likely(fast_esp4(ctx, m, pi, &src))) {
			to_ip_exit(out, &out->esp, m, pi, &src);
			n_fast++;
			continue;
		}

		struct verdict v = { .pi = pi };

		memset(v.pi, 0, sizeof(*v.pi));

		enum rtr_cls_exit exit = classify_one(ctx, m, &v);

		st->exits[exit]++;
		switch (exit) {
		case RTR_CLS_EXIT_ESP:
			to_ip_exit(out, &out->esp, m, v.pi, &v.src);
			break;
		case RTR_CLS_EXIT_IKE:
			to_ip_exit(out, &out->ike, m, v.pi, &v.src);
			break;
		case RTR_CLS_EXIT_TCP:
			to_ip_exit(out, &out->tcp, m, v.pi, &v.src);
			break;
		case RTR_CLS_EXIT_REPLY:
			st->replies[v.why]++;
			out->reply[out->n_reply++] = m;
			break;
		default:
			st->drops[v.why]++;
			out->drop_why[out->n_drop] = v.why;
			out->drop[out->n_drop++] = m;
			break;
		}
	}
	st->exits[RTR_CLS_EXIT_ESP] += n_fast;
	st->rx_packets += n;
	return (uint16_t)(n - out->n_drop);
}
