/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow stage (ARCHITECTURE.md section 2, steps 2-4): SA by SPI, replay pre-check against the
 * authenticated window (rtr_replay.h), and a peek at the first payload bytes to find the inner
 * flow. Tunnel mode: the inner IPv4/IPv6 header comes first (IPv6 extension headers are walked as
 * far as the peeked bytes reach). Transport mode: the upper header comes first and the trailer's
 * next header says what it is (one more decrypted block). Filtering at the router (filter_policy
 * "router") checks a tunnel packet's inner header against the SA's selectors and marks the GRE key
 * so the target skips that check.
 * Exits: flows for the connection table (rtr_dispatch.c), or drops under a named reason.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "rtr.h"
#include "rtr_replay.h"

#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMP   1
#define PROTO_ICMPV6 58
#define PROTO_SCTP   132

static inline uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v; /* network order kept */
}

/* Ports (or the ICMP echo identifier) from the upper header at l4, n bytes of it available. */
static enum rtr_drop
flow_ports(const uint8_t *l4, uint32_t n, uint8_t proto, struct rtr_flow *f)
{
	f->key.proto = proto;
	switch (proto) {
	case PROTO_TCP:
		if (n < 14)
			return RTR_DROP_INNER_TOO_DEEP;
		f->key.src_port = rd16(l4);
		f->key.dst_port = rd16(l4 + 2);
		f->tcp_flags = l4[13];
		f->is_tcp = 1;
		return RTR_DROP_NONE;
	case PROTO_UDP:
	case PROTO_SCTP:
		if (n < 4)
			return RTR_DROP_INNER_TOO_DEEP;
		f->key.src_port = rd16(l4);
		f->key.dst_port = rd16(l4 + 2);
		return RTR_DROP_NONE;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (n >= 6)
			f->key.src_port = rd16(l4 + 4); /* echo identifier: pings stay together */
		return RTR_DROP_NONE;
	default:
		return RTR_DROP_NONE;
	}
}

static enum rtr_drop
flow_inner(const uint8_t *b, uint32_t n, struct rtr_flow *f)
{
	if (n >= 20 && (b[0] >> 4) == 4) {
		uint32_t ihl = (b[0] & 0xfu) * 4u;

		if (ihl < 20)
			return RTR_DROP_INNER_NOT_IP;
		if ((rte_be_to_cpu_16(rd16(b + 6)) & 0x3fff) != 0)
			return RTR_DROP_INNER_FRAGMENT;
		if (ihl > n)
			return RTR_DROP_INNER_TOO_DEEP;
		f->key.family = 4;
		memcpy(f->key.src, b + 12, 4);
		memcpy(f->key.dst, b + 16, 4);
		return flow_ports(b + ihl, n - ihl, b[9], f);
	}
	if (n >= 40 && (b[0] >> 4) == 6) {
		uint8_t next = b[6];
		uint32_t off = 40;

		/* hop-by-hop, routing, destination options: walk what the peek reached */
		while (next == 0 || next == 43 || next == 60) {
			if (off + 2 > n)
				return RTR_DROP_INNER_TOO_DEEP;
			next = b[off];
			off += (b[off + 1] + 1u) * 8u;
		}
		if (next == 44)
			return RTR_DROP_INNER_FRAGMENT;
		if (off > n)
			return RTR_DROP_INNER_TOO_DEEP;
		f->key.family = 6;
		memcpy(f->key.src, b + 8, 16);
		memcpy(f->key.dst, b + 24, 16);
		return flow_ports(b + off, n - off, next, f);
	}
	return RTR_DROP_INNER_NOT_IP;
}

enum rtr_drop
rtr_flow_tunnel(struct esp_lcore *lc, const struct rtr *r, const struct esp_sa *sa,
		const uint8_t *ip, const struct esp_pkt_info *pi, struct rtr_flow *f)
{
	uint8_t b[ESP_PEEK_MAX];
	int n = esp_peek(lc, sa, ip + pi->esp_off, pi->ip_len - pi->esp_off, b, sizeof(b));

	if (n < 0)
		return RTR_DROP_BAD_LENGTH;

	enum rtr_drop why = flow_inner(b, (uint32_t)n, f);

	if (why != RTR_DROP_NONE)
		return why;
	if (r->cfg->filter_policy == CFG_FILTER_ROUTER) {
		if (!esp_selectors_match(&sa->params, b, (uint32_t)n))
			return RTR_DROP_SELECTOR;
		f->gre_key |= GRE_KEY_FILTERED;
	}
	return RTR_DROP_NONE;
}

enum rtr_drop
rtr_flow_transport(struct esp_lcore *lc, const struct rtr *r, const struct esp_sa *sa,
		   const uint8_t *ip, const struct esp_pkt_info *pi, struct rtr_flow *f)
{
	const uint8_t *esp = ip + pi->esp_off;
	uint32_t esp_len = pi->ip_len - pi->esp_off;
	int proto = esp_peek_next_header(lc, sa, esp, esp_len);
	uint8_t b[16];

	RTE_SET_USED(r);
	if (proto < 0)
		return RTR_DROP_BAD_LENGTH;
	int n = esp_peek(lc, sa, esp, esp_len, b, 14);

	if (n < 0)
		return RTR_DROP_BAD_LENGTH;
	f->key.family = pi->family;
	if (pi->family == 4) {
		memcpy(f->key.src, ip + 12, 4);
		memcpy(f->key.dst, ip + 16, 4);
	} else {
		memcpy(f->key.src, ip + 8, 16);
		memcpy(f->key.dst, ip + 24, 16);
	}
	return flow_ports(b, (uint32_t)n, (uint8_t)proto, f);
}

/* The last SA found in this burst: a burst mostly holds packets of one SA. */
struct sa_memo {
	uint32_t spi_be;
	const struct esp_sa *sa;
};

static enum rtr_drop
flow_esp(struct rtr_worker *w, const struct rtr *r, const uint8_t *ip,
	 const struct esp_pkt_info *pi, struct rtr_flow *f, struct sa_memo *memo)
{
	const uint8_t *esp = ip + pi->esp_off;
	uint32_t spi_be, seq_be;

	if (pi->ip_len < pi->esp_off + ESP_HDR_LEN)
		return RTR_DROP_BAD_LENGTH;
	memcpy(&spi_be, esp, 4);
	memcpy(&seq_be, esp + 4, 4);

	const struct esp_sa *sa = memo->sa;

	if (sa == NULL || spi_be != memo->spi_be) {
		sa = esp_sa_table_lookup(r->sa_tbl, spi_be);
		if (sa == NULL)
			return RTR_DROP_UNKNOWN_SPI;
		memo->spi_be = spi_be;
		memo->sa = sa;
	}
	if (!!(sa->rt.flags & ESP_SA_F_UDP) != pi->udp)
		return RTR_DROP_ENCAP_MISMATCH;

	uint64_t seq = esp_replay_full_seq(&sa->replay, rte_be_to_cpu_32(seq_be));

	switch (rtr_replay_precheck(&sa->replay, seq)) {
	case ESP_REPLAY_OK:
		break;
	case ESP_REPLAY_DUPLICATE:
		return RTR_DROP_REPLAY_DUPLICATE;
	default:
		return RTR_DROP_REPLAY_OLD;
	}
	memset(f, 0, sizeof(*f));
	/* a rekey's successor inherits its predecessor's id (rtr_sa_rekey): open connections go on
	 */
	f->key.sa_id = __atomic_load_n(&sa->flow_id, __ATOMIC_RELAXED);
	f->gre_key = sa->slot;
	return r->slot_flow[sa->slot](&w->esp, r, sa, ip, pi, f);
}

/* Failed packets behind the passed ones, flows beside their packets. */
static uint16_t
compact(struct rte_mbuf **pkts, struct rtr_flow *flows, const uint8_t *drop, uint16_t n)
{
	struct rte_mbuf *failed[DP_BURST * 2];
	uint16_t ok = 0, nf = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (drop[i] == RTR_DROP_NONE) {
			if (ok != i)
				flows[ok] = flows[i];
			pkts[ok++] = pkts[i];
		} else {
			failed[nf++] = pkts[i];
		}
	}
	memcpy(pkts + ok, failed, nf * sizeof(failed[0]));
	return ok;
}

uint16_t
rtr_flow_esp_burst(struct rtr_worker *w, const struct rtr *r, struct rte_mbuf **pkts,
		   const struct esp_pkt_info *pi, struct rtr_flow *flows, uint16_t n)
{
	uint8_t drop[DP_BURST * 2];
	struct sa_memo memo = { 0, NULL }; /* only within the burst: the RCU section */

	for (uint16_t i = 0; i < n; i++) {
		drop[i] = (uint8_t)flow_esp(w, r, rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					    &pi[i], &flows[i], &memo);
		if (drop[i] != RTR_DROP_NONE)
			w->st.drops[drop[i]]++;
	}
	return compact(pkts, flows, drop, n);
}

uint16_t
rtr_flow_plain_burst(struct rtr_worker *w, struct rte_mbuf **pkts, struct rtr_flow *flows,
		     uint16_t n)
{
	uint8_t drop[DP_BURST * 2];

	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *ip = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

		memset(&flows[i], 0, sizeof(flows[i]));
		flows[i].key.sa_id = DCT_SA_PLAIN;
		flows[i].gre_key = GRE_SLOT_PLAIN;
		/* classify checked the outer header; it is the flow's own header here */
		drop[i] = (uint8_t)flow_inner(ip, pkts[i]->data_len, &flows[i]);
		if (drop[i] != RTR_DROP_NONE)
			w->st.drops[drop[i]]++;
	}
	return compact(pkts, flows, drop, n);
}
