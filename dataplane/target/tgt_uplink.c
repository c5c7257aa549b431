/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Direct return (the z/OS way): a target with an uplink sends its encrypted replies straight to
 * the peer instead of back through the router. The peer's MAC comes from ARP on the uplink; the
 * target asks with an RFC 5227 probe (sender address 0.0.0.0), because claiming the DVIPA as sender
 * would pull the DVIPA's inbound traffic away from the router. Until the answer arrives, replies
 * for that peer go back over the trusted link, so nothing is lost. IPv4 peers on the uplink's
 * segment; IPv6 peers and routed next hops still go through the router.
 */
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "tgt.h"

#define ASK_PERIOD_MS 1000

static struct tgt_neigh *
neigh_slot(struct tgt *t, uint32_t ip)
{
	uint32_t h = rte_be_to_cpu_32(ip) * 2654435761u >> 24; /* TGT_NEIGH_MAX = 256 */

	return &t->neigh[h % TGT_NEIGH_MAX];
}

static void
learn(struct tgt *t, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct tgt_neigh *n = neigh_slot(t, ip);

	if (ip == 0)
		return;
	n->ip = ip;
	n->mac = *mac;
	n->resolved = 1;
}

static void
ask(struct tgt *t, uint32_t ip, uint64_t now)
{
	struct tgt_neigh *n = neigh_slot(t, ip);

	if (n->ip == ip && now - n->asked_tsc < rte_get_tsc_hz() / 1000 * ASK_PERIOD_MS)
		return;
	n->ip = ip;
	n->resolved = 0;
	n->asked_tsc = now;

	struct rte_mbuf *m = rte_pktmbuf_alloc(t->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL) {
		t->st.drops[TGT_DROP_NO_MBUF]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = t->uplink.mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = t->uplink.mac;
	arp->arp_data.arp_sip = 0; /* a probe: no address claimed */
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = ip;
	if (rte_eth_tx_burst(t->uplink.id, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
	else
		t->st.arp_requests++;
}

bool
tgt_uplink_send(struct tgt *t, struct rte_mbuf *m, uint64_t now)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t dst;

	if ((ip[0] >> 4) != 4)
		return false;
	memcpy(&dst, ip + 16, 4);

	const struct tgt_neigh *n = neigh_slot(t, dst);

	if (n->ip != dst || !n->resolved) {
		ask(t, dst, now);
		return false;
	}

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));

	if (eth == NULL)
		return false;
	eth->dst_addr = n->mac;
	eth->src_addr = t->uplink.mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	if (rte_eth_tx_burst(t->uplink.id, 0, &m, 1) != 1) {
		rte_pktmbuf_adj(m, sizeof(*eth));
		return false;
	}
	t->st.to_uplink++;
	return true;
}

uint32_t
tgt_uplink_poll(struct tgt *t)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n = rte_eth_rx_burst(t->uplink.id, 0, pkts, DP_BURST);

	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);
		const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

		/* only ARP is for us here: the DVIPA's inbound traffic belongs to the router */
		if (pkts[i]->data_len >= sizeof(*eth) + sizeof(*arp) &&
		    eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
		    arp->arp_hardware == rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) &&
		    arp->arp_protocol == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
		    arp->arp_hlen == RTE_ETHER_ADDR_LEN && arp->arp_plen == 4)
			learn(t, arp->arp_data.arp_sip, &arp->arp_data.arp_sha);
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}
