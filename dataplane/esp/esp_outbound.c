/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound ESP stage: cleartext IP packet -> ESP header (SPI, sequence number from the caller) and
 * IV (the 64-bit sequence number: unique per SA as RFC 4106 3.1 requires) -> padding to 4 bytes and
 * trailer
 * -> AEAD seal in place -> outer header: tunnel mode prepends the SA's IPv4/IPv6 (+UDP) template,
 * transport mode slides the packet's own IP header forward (+UDP for NAT-T).
 * Exits: sealed packets at the front (data at the outer IP header; next: the uplink or the trusted
 * link), failed ones behind them, counted; the caller frees them.
 */
#include <rte_ip.h>
#include <rte_udp.h>

#include "esp_priv.h"

#define ESP_TRAILER_LEN 2

struct out_layout {
	uint32_t l3;	  /* transport: bytes of the packet's IP header kept in front */
	uint32_t payload; /* bytes protected by ESP */
	uint8_t next_hdr;
	uint8_t family; /* of the cleartext packet */
};

static enum esp_drop
layout(const struct esp_sa *sa, const uint8_t *ip, uint32_t len, struct out_layout *lo)
{
	if (len < 1)
		return ESP_DROP_TRUNCATED;
	lo->family = ip[0] >> 4;
	if (lo->family == 4) {
		if (len < 20 || (ip[0] & 0xf) < 5)
			return ESP_DROP_BAD_INNER;
		uint32_t tot = load_be16(ip + 2);

		lo->l3 = (ip[0] & 0xfu) * 4u;
		if (tot < lo->l3 || tot > len)
			return ESP_DROP_BAD_INNER;
		len = tot;
		lo->next_hdr = sa->rt.mode == ESP_MODE_TUNNEL ? IPPROTO_IPIP_NUM : ip[9];
	} else if (lo->family == 6) {
		if (len < 40 || 40u + load_be16(ip + 4) > len)
			return ESP_DROP_BAD_INNER;
		len = 40u + load_be16(ip + 4);
		lo->l3 = 40;
		lo->next_hdr = sa->rt.mode == ESP_MODE_TUNNEL ? IPPROTO_IPV6_NUM : ip[6];
		if (sa->rt.mode == ESP_MODE_TRANSPORT &&
		    (ip[6] == 0 || ip[6] == 43 || ip[6] == 44 || ip[6] == 60))
			return ESP_DROP_UNSUPPORTED_EXT; /* ESP would have to follow them */
	} else {
		return ESP_DROP_NOT_IP;
	}
	if (sa->rt.mode == ESP_MODE_TUNNEL) {
		lo->l3 = 0;
		lo->payload = len;
	} else {
		if ((lo->family == 6) != !!(sa->rt.flags & ESP_SA_F_OUTER_V6))
			return ESP_DROP_WRONG_SA;
		lo->payload = len - lo->l3;
	}
	return ESP_DROP_NONE;
}

static void
fill_outer(struct esp_lcore *lc, const struct esp_sa *sa, uint8_t *out, uint32_t total,
	   const uint8_t *inner)
{
	uint32_t off = 0;

	/* constant sizes for the common templates: a variable one is a library call. Nothing of
	 * the header is read back afterwards: loads spanning the small stores below would miss
	 * store forwarding */
	if (sa->rt.outer_len == 20)
		memcpy(out, sa->rt.outer_tmpl, 20);
	else if (sa->rt.outer_len == 28)
		memcpy(out, sa->rt.outer_tmpl, 28);
	else
		memcpy(out, sa->rt.outer_tmpl, sa->rt.outer_len);
	if (!(sa->rt.flags & ESP_SA_F_OUTER_V6)) {
		/* RFC 4301 5.1.2.1: DSCP and ECN copied from the inner header */
		uint8_t tos = (inner[0] >> 4) == 4 ? inner[1] : (uint8_t)(load_be16(inner) >> 4);
		uint16_t id = lc->ip_id++;

		out[1] = tos;
		store_be16(out + 2, (uint16_t)total);
		store_be16(out + 4, id);
		store_be16(out + 10, ipv4_cksum_finish(sa->rt.outer_ck_base + tos + total + id));
		off = sizeof(struct rte_ipv4_hdr);
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)out;
		uint32_t tc = (inner[0] >> 4) == 4 ? inner[1] : (uint8_t)(load_be16(inner) >> 4);

		h->vtc_flow = rte_cpu_to_be_32((6u << 28) | (tc << 20));
		h->payload_len = rte_cpu_to_be_16((uint16_t)(total - sizeof(*h)));
		off = sizeof(*h);
	}
	if (sa->rt.flags & ESP_SA_F_UDP)
		store_be16(out + off + 4, (uint16_t)(total - off));
}

/* Transport mode: the packet's own IP header moves forward by `grow` bytes and becomes the outer
 * one. */
static void
fix_transport_header(const struct esp_sa *sa, uint8_t *hdr, uint32_t l3, uint32_t total)
{
	uint8_t proto = (sa->rt.flags & ESP_SA_F_UDP) ? IPPROTO_UDP_NUM : IPPROTO_ESP_NUM;

	if (!(sa->rt.flags & ESP_SA_F_OUTER_V6)) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)hdr;

		h->next_proto_id = proto;
		h->total_length = rte_cpu_to_be_16((uint16_t)total);
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		hdr[6] = proto;
		store_be16(hdr + 4, (uint16_t)(total - 40));
	}
	if (sa->rt.flags & ESP_SA_F_UDP) {
		memcpy(hdr + l3, sa->rt.outer_tmpl, 8);
		store_be16(hdr + l3 + 4, (uint16_t)(total - l3));
	}
}

/*
 * IPv6 forbids a zero UDP checksum (RFC 8200 8.1) and Linux peers drop such ESP-in-UDP, so over
 * IPv6 the checksum is computed, after sealing since it covers the ciphertext. The UDP header
 * follows the fixed IPv6 header in both modes (transport mode refuses extension headers).
 */
static void
udp6_checksum(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
}

static enum esp_drop
prepare(struct esp_lcore *lc, struct esp_sa *sa, struct rte_mbuf *m, uint64_t seq,
	struct esp_aead_op *op)
{
	struct out_layout lo;

	if (m->nb_segs != 1)
		return ESP_DROP_MULTI_SEGMENT;
	if (sa->rt.dir != ESP_DIR_OUTBOUND)
		return ESP_DROP_WRONG_SA;
	if (seq == 0 || (!(sa->rt.flags & ESP_SA_F_ESN) && seq > UINT32_MAX))
		return ESP_DROP_SEQ_OVERFLOW;

	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	enum esp_drop why = layout(sa, ip, m->data_len, &lo);

	if (why != ESP_DROP_NONE)
		return why;
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - lo.l3 - lo.payload)); /* L2 padding */

	uint32_t pad = (4 - ((lo.payload + ESP_TRAILER_LEN) & 3)) & 3;
	uint32_t tail = pad + ESP_TRAILER_LEN + ESP_ICV_LEN;
	uint32_t front = sa->rt.outer_len + ESP_PAYLOAD_OFF; /* transport: outer_len is UDP only */

	if (rte_pktmbuf_tailroom(m) < tail)
		return ESP_DROP_NO_TAILROOM;
	if (rte_pktmbuf_headroom(m) < front)
		return ESP_DROP_NO_HEADROOM;

	uint8_t *trailer = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)tail);
	uint8_t *out = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)front);
	uint32_t total = m->data_len;
	uint8_t tos_src[2];

	memcpy(tos_src, ip, sizeof(tos_src));
	for (uint32_t i = 0; i < pad; i++)
		trailer[i] = (uint8_t)(i + 1);
	trailer[pad] = (uint8_t)pad;
	trailer[pad + 1] = lo.next_hdr;

	uint8_t *esp;

	if (sa->rt.mode == ESP_MODE_TUNNEL) {
		fill_outer(lc, sa, out, total, tos_src);
		esp = out + sa->rt.outer_len;
	} else {
		memmove(out, ip, lo.l3);
		fix_transport_header(sa, out, lo.l3, total);
		esp = out + lo.l3 + sa->rt.outer_len;
	}
	memcpy(esp, &sa->rt.spi_be, 4);
	store_be32(esp + 4, (uint32_t)seq);
	/* the IV (the 64-bit number, big-endian) in one store: the nonce is read back from it at
	 * once, and a load spanning two stores misses store forwarding (~15 cycles a packet) */
	uint64_t iv = rte_cpu_to_be_64(seq);

	memcpy(esp + ESP_IV_OFF, &iv, sizeof(iv));

	op->data = esp + ESP_PAYLOAD_OFF;
	op->len = lo.payload + pad + ESP_TRAILER_LEN;
	op->icv = op->data + op->len;
	esp_build_nonce_aad(sa, esp, seq, op);
	return ESP_DROP_NONE;
}

static uint16_t
outbound_chunk(struct esp_lcore *lc, struct esp_sa *const *sas, struct rte_mbuf **pkts,
	       const uint64_t *seqs, uint16_t n)
{
	struct esp_aead_op op[ESP_BURST_MAX];
	uint8_t drop[ESP_BURST_MAX];

	for (uint16_t i = 0; i < n; i++)
		drop[i] = prepare(lc, sas[i], pkts[i], seqs[i], &op[i]);
	for (uint16_t i = 0; i < n; i++)
		if (drop[i] == ESP_DROP_NONE)
			sas[i]->rt.seal(lc, sas[i], &op[i]);
	esp_crypto_flush(lc);
	for (uint16_t i = 0; i < n; i++) {
		if (drop[i] == ESP_DROP_NONE)
			drop[i] = op[i].status;
		if (drop[i] != ESP_DROP_NONE) {
			esp_count_drop(lc, drop[i]);
			continue;
		}
		if ((sas[i]->rt.flags & (ESP_SA_F_UDP | ESP_SA_F_OUTER_V6)) ==
		    (ESP_SA_F_UDP | ESP_SA_F_OUTER_V6))
			udp6_checksum(pkts[i]);
		sas[i]->rt.packets++;
		sas[i]->rt.bytes += op[i].len;
		lc->stats.out_packets++;
		lc->stats.out_bytes += pkts[i]->pkt_len;
	}
	return esp_compact(pkts, NULL, drop, n);
}

uint16_t
esp_outbound_burst(struct esp_lcore *lc, struct esp_sa *const *sas, struct rte_mbuf **pkts,
		   const uint64_t *seqs, uint16_t n)
{
	uint16_t done = 0, ok = 0;

	while (done < n) {
		uint16_t c = RTE_MIN((uint16_t)(n - done), (uint16_t)ESP_BURST_MAX);
		uint16_t passed = outbound_chunk(lc, sas + done, pkts + done, seqs + done, c);

		esp_merge_chunk(pkts, NULL, ok, done, passed);
		ok += passed;
		done += c;
	}
	return ok;
}
