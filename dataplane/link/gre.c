/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRE framing of the trusted link (gre.h): encap on the sending side (router: ESP and plain
 * packets; target: feedback), decap on the receiving side. Decap reads nothing it has not checked
 * the length of, and trusts no length field further than the frame.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dp_bytes.h"
#include "gre.h"

#define IPPROTO_GRE_NUM 47
#define IPV4_DF		0x4000
#define IPV4_FRAG_MASK	0x3fff /* MF and the offset */
#define IPV6_HDR_LEN	40

/* The first word of the GRE header (RFC 2784 2, RFC 2890 2). Bits 1, 4 and 5 (routing present,
 * strict source route, recursion) are the ones RFC 2784 2.3 says a receiver MUST discard on; bits
 * 6-12 "MUST be ignored on receipt", and Reserved1 after the checksum likewise. */
#define GRE_F_CSUM	   0x8000
#define GRE_F_KEY	   0x2000
#define GRE_F_SEQ	   0x1000
#define GRE_F_MUST_DISCARD 0x4c00
#define GRE_F_VERSION	   0x0007

static const char *const drop_names[GRE_DROP_COUNT] = { [GRE_DROP_NONE] = "none",
#define GRE_DROP_NAME(sym, name, desc) [GRE_DROP_##sym] = name,
							GRE_DROP_REASONS(GRE_DROP_NAME)
#undef GRE_DROP_NAME
};

static const char *const drop_descs[GRE_DROP_COUNT] = { [GRE_DROP_NONE] = "not dropped",
#define GRE_DROP_DESC(sym, name, desc) [GRE_DROP_##sym] = desc,
							GRE_DROP_REASONS(GRE_DROP_DESC)
#undef GRE_DROP_DESC
};

const char *
gre_drop_name(enum gre_drop reason)
{
	return (unsigned int)reason < GRE_DROP_COUNT ? drop_names[reason] : "?";
}

const char *
gre_drop_desc(enum gre_drop reason)
{
	return (unsigned int)reason < GRE_DROP_COUNT ? drop_descs[reason] : "?";
}

void
gre_link_init(struct gre_link *link, const struct rte_ether_addr *src_mac,
	      const struct rte_ether_addr *dst_mac, uint32_t src_ip, uint32_t dst_ip, bool seq_on)
{
	memset(link, 0, sizeof(*link));
	rte_ether_addr_copy(src_mac, &link->src_mac);
	rte_ether_addr_copy(dst_mac, &link->dst_mac);
	link->src_ip = src_ip;
	link->dst_ip = dst_ip;
	link->seq_on = seq_on;

	uint8_t *f = link->tmpl;
	uint8_t *ip = f + GRE_ETH_LEN;

	memcpy(f, dst_mac, RTE_ETHER_ADDR_LEN);
	memcpy(f + RTE_ETHER_ADDR_LEN, src_mac, RTE_ETHER_ADDR_LEN);
	store_be16(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	store_be16(ip + 6, IPV4_DF);
	ip[8] = GRE_TTL;
	ip[9] = IPPROTO_GRE_NUM;
	memcpy(ip + 12, &src_ip, 4);
	memcpy(ip + 16, &dst_ip, 4);
	link->ck_base = ipv4_tmpl_sum(ip);
}

/* Moves the passed packets of the chunk [start, start + passed) down to join the `ok` packets
 * that passed before it, the failed ones in between moving up behind them; returns the new ok. */
static uint16_t
merge_chunk(struct rte_mbuf **pkts, struct gre_info *info, uint16_t ok, uint16_t start,
	    uint16_t passed)
{
	struct rte_mbuf *tmp[GRE_BURST_MAX];

	if (ok == start || passed == 0)
		return ok + passed;
	memcpy(tmp, pkts + start, passed * sizeof(*tmp));
	memmove(pkts + ok + passed, pkts + ok, (size_t)(start - ok) * sizeof(*pkts));
	memcpy(pkts + ok, tmp, passed * sizeof(*tmp));
	if (info != NULL)
		memmove(info + ok, info + start, passed * sizeof(*info));
	return ok + passed;
}

/* -- encap ------------------------------------------------------------------------------------- */

/* What encap_one needs of the link, read once per chunk: stores into packets (bytes) may alias
 * anything, so fields read through the link pointer would be reloaded after each one. */
struct encap_state {
	uint8_t tmpl[GRE_ETH_LEN + GRE_IPV4_LEN];
	uint32_t ck_base;
	uint32_t seq;
	uint16_t ip_id;
	bool seq_on;
};

static inline enum gre_drop
encap_one(struct encap_state *es, struct rte_mbuf *m, uint32_t key, uint16_t proto)
{
	if (key & GRE_KEY_RESERVED)
		return GRE_DROP_BAD_KEY;
	if (proto == 0) {
		uint8_t ver = m->data_len >= 1 ? rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4 : 0;

		if (ver == 4)
			proto = GRE_PROTO_IPV4;
		else if (ver == 6)
			proto = GRE_PROTO_IPV6;
		else
			return GRE_DROP_ENCAP_NOT_IP;
	} else if (proto != GRE_PROTO_IPV4 && proto != GRE_PROTO_IPV6 &&
		   proto != GRE_PROTO_FEEDBACK) {
		return GRE_DROP_UNKNOWN_PROTO;
	}

	uint32_t gre_len = GRE_HDR_LEN(es->seq_on);
	uint32_t hdr_len = GRE_ETH_LEN + GRE_IPV4_LEN + gre_len;
	uint32_t ip_len = m->pkt_len + GRE_IPV4_LEN + gre_len;

	if (ip_len > UINT16_MAX)
		return GRE_DROP_TOO_LONG;

	/* NULL, and the mbuf untouched, when the headroom is too small */
	uint8_t *f = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hdr_len);

	if (f == NULL)
		return GRE_DROP_NO_HEADROOM;
	uint8_t *ip = f + GRE_ETH_LEN;
	uint8_t *g = ip + GRE_IPV4_LEN;
	uint16_t id = es->ip_id++;

	/* Ethernet and IPv4 from the template; length, id and checksum patched (RFC 1071 sum of
	 * the template's constant words plus the two variable ones); GRE written whole */
	/* constant sizes: a variable one becomes rep movs, ~30 cycles for 34 bytes */
	memcpy(f, es->tmpl, 32);
	memcpy(f + 32, es->tmpl + 32, GRE_ETH_LEN + GRE_IPV4_LEN - 32);
	store_be16(ip + 2, (uint16_t)ip_len);
	store_be16(ip + 4, id);

	store_be16(ip + 10, ipv4_cksum_finish(es->ck_base + ip_len + id));
	store_be16(g, (uint16_t)(GRE_F_KEY | (es->seq_on ? GRE_F_SEQ : 0)));
	store_be16(g + 2, proto);
	store_be32(g + 4, key);
	if (es->seq_on)
		store_be32(g + 8, es->seq++);
	m->l2_len = GRE_ETH_LEN;
	m->l3_len = GRE_IPV4_LEN;
	return GRE_DROP_NONE;
}

static uint16_t
encap_chunk(struct gre_link *link, struct rte_mbuf **pkts, const uint32_t *keys,
	    const uint16_t *protos, uint16_t n, struct gre_stats *st)
{
	struct rte_mbuf *failed[GRE_BURST_MAX];
	struct encap_state es = { .ck_base = link->ck_base,
				  .seq = link->seq,
				  .ip_id = link->ip_id,
				  .seq_on = link->seq_on };
	uint64_t bytes = 0;
	uint16_t ok = 0, nf = 0;

	memcpy(es.tmpl, link->tmpl, sizeof(es.tmpl));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = m->pkt_len;
		enum gre_drop why = encap_one(&es, m, keys[i], protos != NULL ? protos[i] : 0);

		if (likely(why == GRE_DROP_NONE)) {
			bytes += len;
			pkts[ok++] = m;
		} else {
			st->drops[why]++;
			failed[nf++] = m;
		}
	}
	link->ip_id = es.ip_id;
	link->seq = es.seq;
	st->encap_packets += ok;
	st->encap_bytes += bytes;
	memcpy(pkts + ok, failed, nf * sizeof(*failed));
	return ok;
}

uint16_t
gre_encap_burst(struct gre_link *link, struct rte_mbuf **pkts, const uint32_t *keys,
		const uint16_t *protos, uint16_t n, struct gre_stats *st)
{
	uint16_t ok = 0;

	for (uint16_t start = 0; start < n; start += GRE_BURST_MAX) {
		uint16_t c = RTE_MIN((uint16_t)(n - start), (uint16_t)GRE_BURST_MAX);
		uint16_t passed = encap_chunk(link, pkts + start, keys + start,
					      protos != NULL ? protos + start : NULL, c, st);

		ok = merge_chunk(pkts, NULL, ok, start, passed);
	}
	return ok;
}

/* -- decap ------------------------------------------------------------------------------------- */

static enum gre_drop
decap_one(struct rte_mbuf *m, struct gre_info *gi, uint32_t local_ip, bool check_dst)
{
	if (m->nb_segs != 1)
		return GRE_DROP_MULTI_SEGMENT;

	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len;

	if (len < GRE_ETH_LEN)
		return GRE_DROP_TRUNCATED;
	if (load_be16(f + 12) != RTE_ETHER_TYPE_IPV4)
		return GRE_DROP_NOT_IPV4;

	const uint8_t *ip = f + GRE_ETH_LEN;
	uint32_t room = len - GRE_ETH_LEN;

	if (room < GRE_IPV4_LEN)
		return GRE_DROP_TRUNCATED;

	uint32_t ihl = (ip[0] & 0xfu) * 4u;
	uint32_t tot = load_be16(ip + 2);

	if ((ip[0] >> 4) != 4 || ihl < GRE_IPV4_LEN || tot < ihl)
		return GRE_DROP_BAD_IP_HEADER;
	if (tot > room)
		return GRE_DROP_TRUNCATED;
	if (!ipv4_cksum_ok(m, ip, ihl))
		return GRE_DROP_BAD_IP_CHECKSUM;
	if (load_be16(ip + 6) & IPV4_FRAG_MASK)
		return GRE_DROP_FRAGMENT;
	if (ip[9] != IPPROTO_GRE_NUM)
		return GRE_DROP_NOT_GRE;
	if (check_dst && memcmp(ip + 16, &local_ip, 4) != 0)
		return GRE_DROP_WRONG_DST;

	const uint8_t *g = ip + ihl;
	uint32_t g_room = tot - ihl;

	if (g_room < 4)
		return GRE_DROP_TRUNCATED;

	uint16_t flags = load_be16(g);

	if (flags & GRE_F_VERSION)
		return GRE_DROP_BAD_GRE_VERSION;
	if (flags & GRE_F_MUST_DISCARD)
		return GRE_DROP_BAD_GRE_FLAGS;
	if (!(flags & GRE_F_KEY))
		return GRE_DROP_NO_KEY;

	uint32_t off = 4;
	uint32_t hdr_len = 8 + (flags & GRE_F_CSUM ? 4u : 0u) + (flags & GRE_F_SEQ ? 4u : 0u);

	if (g_room < hdr_len)
		return GRE_DROP_TRUNCATED;
	if (flags & GRE_F_CSUM) {
		/* RFC 2784 2.5: the checksum covers the GRE header and the payload */
		if (rte_raw_cksum(g, g_room) != 0xffff)
			return GRE_DROP_BAD_GRE_CHECKSUM;
		off += 4;
	}

	uint32_t key = load_be32(g + off);

	if (key & GRE_KEY_RESERVED)
		return GRE_DROP_BAD_KEY;
	off += 4;

	uint16_t proto = load_be16(g + 2);
	const uint8_t *payload = g + hdr_len;
	uint32_t plen = g_room - hdr_len;

	switch (proto) {
	case GRE_PROTO_IPV4:
		if (plen < GRE_IPV4_LEN || (payload[0] >> 4) != 4)
			return GRE_DROP_BAD_PAYLOAD;
		break;
	case GRE_PROTO_IPV6:
		if (plen < IPV6_HDR_LEN || (payload[0] >> 4) != 6)
			return GRE_DROP_BAD_PAYLOAD;
		break;
	case GRE_PROTO_FEEDBACK:
		break;
	default:
		return GRE_DROP_UNKNOWN_PROTO;
	}

	gi->key = key;
	gi->proto = proto;
	gi->has_csum = (flags & GRE_F_CSUM) != 0;
	gi->has_seq = (flags & GRE_F_SEQ) != 0;
	gi->seq = gi->has_seq ? load_be32(g + off) : 0;
	memcpy(&gi->outer_src, ip + 12, 4);

	/* strip the link headers and any Ethernet padding behind the outer IP packet */
	rte_pktmbuf_adj(m, (uint16_t)(GRE_ETH_LEN + ihl + hdr_len));
	m->data_len = (uint16_t)plen;
	m->pkt_len = plen;
	return GRE_DROP_NONE;
}

static inline uint16_t
decap_chunk(struct gre_stats *st, uint32_t local_ip, bool check_dst, struct rte_mbuf **pkts,
	    struct gre_info *info, uint16_t n)
{
	struct rte_mbuf *failed[GRE_BURST_MAX];
	uint16_t ok = 0, nf = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		/* ok <= i: the info of a passed packet lands where the packet does */
		enum gre_drop why = decap_one(m, &info[ok], local_ip, check_dst);

		if (likely(why == GRE_DROP_NONE)) {
			st->decap_packets++;
			st->decap_bytes += m->pkt_len;
			pkts[ok++] = m;
		} else {
			st->drops[why]++;
			failed[nf++] = m;
		}
	}
	memcpy(pkts + ok, failed, nf * sizeof(*failed));
	return ok;
}

static inline uint16_t
decap_burst(struct gre_stats *st, uint32_t local_ip, bool check_dst, struct rte_mbuf **pkts,
	    struct gre_info *info, uint16_t n)
{
	uint16_t ok = 0;

	for (uint16_t start = 0; start < n; start += GRE_BURST_MAX) {
		uint16_t c = RTE_MIN((uint16_t)(n - start), (uint16_t)GRE_BURST_MAX);
		uint16_t passed =
			decap_chunk(st, local_ip, check_dst, pkts + start, info + start, c);

		ok = merge_chunk(pkts, info, ok, start, passed);
	}
	return ok;
}

uint16_t
gre_decap_burst(struct gre_stats *st, struct rte_mbuf **pkts, struct gre_info *info, uint16_t n)
{
	return decap_burst(st, 0, false, pkts, info, n);
}

uint16_t
gre_decap_burst_local(struct gre_stats *st, uint32_t local_ip, struct rte_mbuf **pkts,
		      struct gre_info *info, uint16_t n)
{
	return decap_burst(st, local_ip, true, pkts, info, n);
}
