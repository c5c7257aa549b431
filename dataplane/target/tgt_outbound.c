/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Target outbound (ARCHITECTURE.md section 3): TAP rx -> ARP requests answered (the target is the
 * kernel's next hop for every peer) -> IP packets from a DVIPA -> the outbound SA whose selectors
 * cover the packet -> sequence numbers from the coupling facility (unique across targets; they are
 * the IVs too) -> ESP -> the uplink (direct return) when the target has one and knows the peer's
 * MAC, else GRE back over the trusted link, out through the router. A packet no SA covers leaves
 * in the clear, through the router (the TCP that came in without IPsec). Exits: the link, the TAP
 * (ARP replies), drops counted by reason.
 */
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_tcp.h>

#include "tgt.h"

static void
drop(struct tgt *t, struct rte_mbuf *m, enum tgt_drop why)
{
	t->st.drops[why]++;
	rte_pktmbuf_free(m);
}

/* Any ARP request on the TAP: we are the next hop for everything behind it. */
static void
answer_arp(struct tgt *t, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	if (m->data_len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
	    arp->arp_plen != 4) {
		drop(t, m, TGT_DROP_TAP_NOT_IP);
		return;
	}

	uint32_t asked = arp->arp_data.arp_tip;

	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = t->tap.mac;
	arp->arp_data.arp_sip = asked;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = t->tap.mac;
	if (rte_eth_tx_burst(t->tap.id, 0, &m, 1) != 1) {
		drop(t, m, TGT_DROP_TAP_TX_FULL);
		return;
	}
	t->st.arp_replies++;
}

static bool
from_dvipa(const struct tgt *t, const uint8_t *ip)
{
	const struct cfg_target *c = t->cfg;

	for (uint8_t i = 0; i < c->n_dvipa; i++) {
		const struct esp_addr *a = &c->dvipa[i];

		if ((ip[0] >> 4) == 4 && a->family == 4 && memcmp(ip + 12, &a->v4, 4) == 0)
			return true;
		if ((ip[0] >> 4) == 6 && a->family == 6 && memcmp(ip + 8, a->v6, 16) == 0)
			return true;
	}
	return false;
}

/* Strips Ethernet and checks the IP header's length; TGT_DROP_NONE or why not. */
static enum tgt_drop
to_ip(struct rte_mbuf *m)
{
	rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));

	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len;

	if (m->data_len >= 20 && (ip[0] >> 4) == 4)
		len = (uint32_t)ip[2] << 8 | ip[3];
	else if (m->data_len >= 40 && (ip[0] >> 4) == 6)
		len = 40u + ((uint32_t)ip[4] << 8 | ip[5]);
	else
		return TGT_DROP_TAP_TRUNCATED;
	if (len > m->data_len || len < 20)
		return TGT_DROP_TAP_TRUNCATED;
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	return TGT_DROP_NONE;
}

/* 0: the router gave this outbound SA to us alone, 1: to any target; 2: to another target (never
 * ours to send on: its sequence numbers are that target's). */
static int
out_rank(const struct tgt *t, const struct tgt_slot *x)
{
	if (x->out_target == t->cfg->id)
		return 0;
	return x->out_target == DIST_OUT_ANY ? 1 : 2;
}

/* Orders the outbound slots as find_out_sa() must try them. An SA a rekey superseded only while
 * nothing else matches; then one of our own (one CHILD SA per target: our numbers alone on it, so
 * the peer sees them in order) before a shared one; of two SAs that match otherwise (a rekey's
 * pairs, side by side until the old one is deleted) the older one: the peer surely has it; the
 * router moves traffic to the new one with REKEY (supersedes the old) or by deleting the old one.
 * Another target's SA never. Control path, once per SA change. */
void
tgt_out_order(struct tgt *t)
{
	uint32_t n = 0;

	for (uint32_t s = 0; s < t->n_slots; s++) {
		const struct esp_sa *sa = shc_lookup(t->shc, s);
		const struct tgt_slot *x = &t->slot[s];

		if (sa == NULL || sa->params.dir != ESP_DIR_OUTBOUND || out_rank(t, x) == 2)
			continue;

		/* insertion sort by (superseded, rank, generation): a handful of SAs, rarely */
		uint32_t i = n++;
		int xr = out_rank(t, x);

		for (; i > 0; i--) {
			const struct tgt_slot *y = &t->slot[t->out_order[i - 1]];
			int yr = out_rank(t, y);

			if (y->superseded < x->superseded ||
			    (y->superseded == x->superseded &&
			     (yr < xr || (yr == xr && y->gen <= x->gen))))
				break;
			t->out_order[i] = t->out_order[i - 1];
		}
		t->out_order[i] = s;
	}
	t->n_out = n;
}

/* Through the shadow cache, so a replaced SA is never used after its grace period; the first
 * match in tgt_out_order()'s order wins. */
static struct esp_sa *
find_out_sa(const struct tgt *t, const uint8_t *ip, uint32_t len)
{
	for (uint32_t i = 0; i < t->n_out; i++) {
		struct esp_sa *sa = shc_lookup(t->shc, t->out_order[i]);

		if (sa != NULL && esp_selectors_match_out(&sa->params, ip, len))
			return sa;
	}
	return NULL;
}

/* A TCP segment from our application with FIN or RST ends a connection the router's table holds:
 * tell the router (CONN_END at the next control poll), so the entry goes after the closing timeout
 * and not the idle one. The router sees the peer's FIN itself; this covers the server's side (an
 * application that closes or resets). sa_id: the outbound SA's slot, GRE_SLOT_PLAIN without. */
static void
note_conn_end(struct tgt *t, const uint8_t *ip, uint32_t len, uint32_t sa_id)
{
	struct dist_conn_end *e;
	uint32_t l3;
	int family = ip[0] >> 4;

	if (family == 4) {
		l3 = (ip[0] & 0xfu) * 4u;
		if (ip[9] != IPPROTO_TCP || (ip[6] & 0x3f) != 0 || ip[7] != 0) /* fragments */
			return;
	} else {
		l3 = 40;
		if (ip[6] != IPPROTO_TCP)
			return;
	}
	if (len < l3 + 14 || (ip[l3 + 13] & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) == 0)
		return;
	if (t->n_conn_end == TGT_CONN_END_MAX) {
		t->ctl.conn_ends_lost++;
		return;
	}
	e = &t->conn_end[t->n_conn_end++];
	memset(e, 0, sizeof(*e));
	e->sa_id = sa_id;
	e->family = (uint8_t)family;
	e->proto = IPPROTO_TCP;
	/* the table keys the peer's direction: the peer is the source */
	e->sport = (uint16_t)(ip[l3 + 2] << 8 | ip[l3 + 3]);
	e->dport = (uint16_t)(ip[l3] << 8 | ip[l3 + 1]);
	if (family == 4) {
		memcpy(e->src, ip + 16, 4);
		memcpy(e->dst, ip + 12, 4);
	} else {
		memcpy(e->src, ip + 24, 16);
		memcpy(e->dst, ip + 8, 16);
	}
}

/* No outbound SA of ours covers the packet, but IPsec does: an inbound SA covers its reverse (an
 * IPsec peer whose outbound SA is gone: expired, deleted, not yet here), or an outbound SA that
 * is not ours to send on (another target's) covers it. It must not leave in the clear. */
static bool
ipsec_covers(const struct tgt *t, const uint8_t *ip, uint32_t len)
{
	for (uint32_t i = 0; i < t->n_slots; i++) {
		const struct esp_sa *sa = shc_lookup(t->shc, i);

		if (sa == NULL)
			continue;
		if (sa->params.dir == ESP_DIR_OUTBOUND) {
			if (esp_selectors_match_out(&sa->params, ip, len))
				return true;
		} else if ((sa->params.n_local_ts != 0 || sa->params.n_remote_ts != 0) &&
			   esp_selectors_match_out(&sa->params, ip, len)) {
			return true;
		}
	}
	return false;
}

static void
to_router(struct tgt *t, struct rte_mbuf **pkts, const uint32_t *keys, uint16_t n)
{
	uint16_t ok = gre_encap_burst(&t->to_router, pkts, keys, NULL, n, &t->gre);
	uint16_t sent = rte_eth_tx_burst(t->link.id, 0, pkts, ok);

	t->st.to_link += sent;
	t->st.drops[TGT_DROP_LINK_TX_FULL] += ok - sent;
	dp_free(pkts + sent, ok - sent);
	t->st.drops[TGT_DROP_LINK_ENCAP] += n - ok;
	dp_free(pkts + ok, n - ok);
}

/*
 * Sequence numbers for a burst: blocks of at most TGT_SEQ_BLOCK per SA from the coupling facility
 * (a contended atomic costs 39 ns with two targets on one SA here), handed out in packet order. The
 * cap bounds how far another target's numbers can overtake ours on the wire (the peer's replay
 * window, 32 for strongSwan, must cover it: see tests/bench/cf_bench.c for the measured reorder
 * depth). A packet whose SA has run out is dropped. Returns the packets kept, in order.
 */
static uint16_t
number(struct tgt *t, struct rte_mbuf **pkts, struct esp_sa **sas, uint64_t *seqs, uint16_t n)
{
	struct esp_sa *sa_of[DP_BURST];
	uint64_t next[DP_BURST];
	uint16_t want[DP_BURST] = { 0 }, left[DP_BURST];
	uint16_t n_sa = 0, kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint16_t k = 0;

		while (k < n_sa && sa_of[k] != sas[i])
			k++;
		if (k == n_sa)
			sa_of[n_sa++] = sas[i];
		want[k]++;
	}
	for (uint16_t k = 0; k < n_sa; k++)
		left[k] = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t k = 0;

		while (sa_of[k] != sas[i])
			k++;
		if (left[k] == 0) { /* the next block, at most TGT_SEQ_BLOCK */
			left[k] = RTE_MIN(want[k], (uint16_t)TGT_SEQ_BLOCK);
			want[k] -= left[k];
			next[k] = cf_seq_take(t->cf, sa_of[k]->slot, left[k], sa_of[k]->params.esn);
		}
		left[k]--;
		if (next[k] == 0) {
			drop(t, pkts[i], TGT_DROP_SEQ_EXHAUSTED);
			continue;
		}
		pkts[kept] = pkts[i];
		sas[kept] = sas[i];
		seqs[kept++] = next[k]++;
	}
	return kept;
}

uint32_t
tgt_outbound_poll(struct tgt *t, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST], *enc[DP_BURST], *out[DP_BURST];
	struct esp_sa *sas[DP_BURST];
	uint64_t seqs[DP_BURST];
	uint32_t keys[DP_BURST];
	uint16_t n_enc = 0, n_out = 0;
	uint16_t n = rte_eth_rx_burst(t->tap.id, 0, pkts, DP_BURST);

	if (n == 0)
		return 0;
	t->st.from_tap += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (m->data_len < sizeof(*eth)) {
			drop(t, m, TGT_DROP_TAP_TRUNCATED);
			continue;
		}
		t->tap_peer_mac = eth->src_addr; /* the kernel's side: where decrypted packets go */
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			answer_arp(t, m);
			continue;
		}
		if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
		    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
			drop(t, m, TGT_DROP_TAP_NOT_IP); /* IPv6 ND, LLDP, ... */
			continue;
		}

		enum tgt_drop why = to_ip(m);

		if (why != TGT_DROP_NONE) {
			drop(t, m, why);
			continue;
		}

		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

		if (!from_dvipa(t, ip)) {
			drop(t, m, TGT_DROP_NOT_FROM_DVIPA);
			continue;
		}

		struct esp_sa *sa = find_out_sa(t, ip, m->data_len);

		note_conn_end(t, ip, m->data_len, sa != NULL ? sa->slot : GRE_SLOT_PLAIN);
		if (sa == NULL && ipsec_covers(t, ip, m->data_len)) {
			drop(t, m, TGT_DROP_NO_OUTBOUND_SA);
			continue;
		}
		if (sa == NULL) {
			t->st.out_plain++;
			keys[n_out] = GRE_SLOT_PLAIN;
			out[n_out++] = m;
			continue;
		}

		m->hash.usr = sa->slot; /* the burst reorders failures: the slot travels along */
		sas[n_enc] = sa;
		enc[n_enc++] = m;
	}

	n_enc = number(t, enc, sas, seqs, n_enc);

	uint16_t ok = esp_outbound_burst(&t->esp, sas, enc, seqs, n_enc);

	dp_free(enc + ok, n_enc - ok);
	t->st.encrypted += ok;
	for (uint16_t i = 0; i < ok; i++) {
		if (t->cfg->has_uplink && tgt_uplink_send(t, enc[i], now))
			continue;
		keys[n_out] = enc[i]->hash.usr;
		out[n_out++] = enc[i];
	}
	to_router(t, out, keys, n_out);
	return n;
}
