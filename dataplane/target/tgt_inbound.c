/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Target inbound (ARCHITECTURE.md section 3): trusted link rx -> GRE decap (outer destination must
 * be our link address) -> SA by the key's slot -> esp_inbound_burst_sa (ICV, decrypt, replay
 * update on authenticated numbers only, selectors unless the key says the router checked) ->
 * authenticated numbers to the replay feedback -> Ethernet toward the kernel -> TAP.
 * Plain-slot packets (TCP to the DVIPA without IPsec) go to the TAP as they are.
 * Exits: the TAP; drops counted (ESP reasons in the engine's table, link reasons in gre.h's).
 */
#include <rte_ethdev.h>

#include "tgt.h"

static void
drop(struct tgt *t, struct rte_mbuf **pkts, uint16_t n, enum tgt_drop why)
{
	t->st.drops[why] += n;
	dp_free(pkts, n);
}

/* Ethernet toward the kernel, then out of the TAP. Consumes the packets. */
static void
to_tap(struct tgt *t, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t ok = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t v = rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4;
		struct rte_ether_hdr *eth =
			(struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));

		if (eth == NULL) {
			drop(t, &m, 1, TGT_DROP_TAP_TX_FULL);
			continue;
		}
		eth->dst_addr = t->tap_peer_mac;
		eth->src_addr = t->tap.mac;
		eth->ether_type =
			rte_cpu_to_be_16(v == 6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
		pkts[ok++] = m;
	}

	uint16_t sent = rte_eth_tx_burst(t->tap.id, 0, pkts, ok);

	t->st.to_tap += sent;
	drop(t, pkts + sent, ok - sent, TGT_DROP_TAP_TX_FULL);
}

uint32_t
tgt_inbound_poll(struct tgt *t)
{
	struct rte_mbuf *pkts[DP_BURST], *esp[DP_BURST], *plain[DP_BURST];
	struct gre_info info[DP_BURST];
	struct esp_sa *sas[DP_BURST];
	uint64_t seqs[DP_BURST];
	uint64_t skip_ts = 0;
	uint16_t n_esp = 0, n_plain = 0;
	uint16_t n = 0;

	/* the router's workers each send on their own queue */
	for (uint16_t q = 0; q < t->link.nb_rxq && n < DP_BURST; q++)
		n += rte_eth_rx_burst(t->link.id, q, pkts + n, DP_BURST - n);
	if (n == 0)
		return 0;
	t->st.link_rx += n;

	uint16_t ok = gre_decap_burst_local(&t->gre, t->link_ip, pkts, info, n);

	dp_free(pkts + ok, n - ok);
	for (uint16_t i = 0; i < ok; i++) {
		uint32_t slot = gre_key_slot(info[i].key);

		if (info[i].proto == GRE_PROTO_FEEDBACK) {
			drop(t, &pkts[i], 1, TGT_DROP_UNEXPECTED_PROTO);
		} else if (slot == GRE_SLOT_PLAIN) {
			plain[n_plain++] = pkts[i];
		} else if ((sas[n_esp] = shc_lookup(t->shc, slot)) == NULL) {
			drop(t, &pkts[i], 1, TGT_DROP_UNKNOWN_SLOT);
		} else {
			if (gre_key_filtered(info[i].key)) {
				skip_ts |= UINT64_C(1) << n_esp;
				t->st.filtered_by_router++;
			}
			esp[n_esp++] = pkts[i];
		}
	}

	uint16_t dec = esp_inbound_burst_sa(&t->esp, esp, sas, seqs, skip_ts, n_esp);

	dp_free(esp + dec, n_esp - dec);
	t->st.decrypted += dec;
	for (uint16_t i = 0; i < dec; i++)
		tgt_feedback_record(t, sas[i]->slot, seqs[i]);
	to_tap(t, esp, dec);
	t->st.plain_in += n_plain;
	to_tap(t, plain, n_plain);
	return n;
}
