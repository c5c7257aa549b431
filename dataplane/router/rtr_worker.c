/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A router worker lcore: polls its queue of the uplink and runs the inbound fast path
 *   rx -> classify -> { esp: flow (SA, replay pre-check, peek) ; tcp: flow } -> dispatch -> links
 *                  -> ike: to the main lcore; replies (ARP, echo, ND): back out; drops: freed
 * Worker 0 also sends the targets' replies that the main lcore queued for the uplink.
 * Nothing here locks, logs or allocates; counters are this lcore's own.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "rtr.h"

/* Tells the main lcore about a peer's MAC when it differs from the last one this lcore saw. */
static void
learn_peers(struct rtr_worker *w, struct rtr *r, const struct rtr_classify_out *out)
{
	for (uint16_t i = 0; i < out->n_src; i++) {
		const struct rtr_pkt_src *s = &out->src[i];

		if (rtr_pkt_src_same(s, &w->learned))
			continue;

		struct rtr_learn l = { .ip = s->ip, .mac = s->mac };

		if (rte_ring_mp_enqueue_elem(r->learn_ring, &l, sizeof(l)) == 0) {
			w->learned = *s;
		}
	}
}

static void
process(struct rtr_worker *w, struct rtr *r, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct rtr_classify_out out;
	struct rte_mbuf *fwd[DP_BURST * 2];
	struct rtr_flow flows[DP_BURST * 2];
	uint16_t k, sent;

	w->st.rx += n;
	rtr_classify_burst(&r->cls_ctx, pkts, n, &out, &w->cls);

	learn_peers(w, r, &out);

	w->st.esp += out.esp.n;
	memcpy(fwd, out.esp.pkts, out.esp.n * sizeof(fwd[0]));
	k = rtr_flow_esp_burst(w, r, fwd, out.esp.info, flows, out.esp.n);
	dp_free(fwd + k, out.esp.n - k);

	w->st.tcp_plain += out.tcp.n;
	memcpy(fwd + k, out.tcp.pkts, out.tcp.n * sizeof(fwd[0]));
	uint16_t kp = rtr_flow_plain_burst(w, fwd + k, flows + k, out.tcp.n);

	dp_free(fwd + k + kp, out.tcp.n - kp);
	rtr_dispatch_burst(w, r, fwd, flows, k + kp, now);

	w->st.ike += out.ike.n;
	sent = (uint16_t)rte_ring_mp_enqueue_burst(r->ike_ring, (void **)out.ike.pkts, out.ike.n,
						   NULL);
	w->st.drops[RTR_DROP_IKE_RING_FULL] += out.ike.n - sent;
	dp_free(out.ike.pkts + sent, out.ike.n - sent);

	sent = rte_eth_tx_burst(r->uplink.id, w->queue, out.reply, out.n_reply);
	w->st.replies += sent;
	w->st.drops[RTR_DROP_REPLY_TX_FULL] += out.n_reply - sent;
	dp_free(out.reply + sent, out.n_reply - sent);

	dp_free(out.drop, out.n_drop);
}

static uint32_t
send_returns(struct rtr_worker *w, struct rtr *r)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(r->ret_ring, (void **)pkts, DP_BURST, NULL);

	if (n == 0)
		return 0;

	uint16_t sent = rte_eth_tx_burst(r->uplink.id, w->queue, pkts, (uint16_t)n);

	w->st.drops[RTR_DROP_RETURN_TX_FULL] += n - sent;
	dp_free(pkts + sent, (uint16_t)(n - sent));
	return n;
}

int
rtr_worker_main(void *arg)
{
	struct rtr_worker *w = arg;
	struct rtr *r = w->r;
	struct rte_mbuf *pkts[DP_BURST];

	rte_rcu_qsbr_thread_register(r->qsbr, w->lcore);
	rte_rcu_qsbr_thread_online(r->qsbr, w->lcore);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint16_t n = rte_eth_rx_burst(r->uplink.id, w->queue, pkts, DP_BURST);
		uint32_t work = n;

		if (n != 0)
			process(w, r, pkts, n, rte_rdtsc());
		if (w->queue == 0)
			work += send_returns(w, r);
		rtr_dispatch_flush(w, r);
		rte_rcu_qsbr_quiescent(r->qsbr, w->lcore);
		if (work == 0) {
			/* a sleeping worker must not hold up grace periods */
			rte_rcu_qsbr_thread_offline(r->qsbr, w->lcore);
			dp_idle_account(&w->idle, 0);
			rte_rcu_qsbr_thread_online(r->qsbr, w->lcore);
		} else {
			dp_idle_account(&w->idle, work);
		}
	}
	rte_rcu_qsbr_thread_offline(r->qsbr, w->lcore);
	rte_rcu_qsbr_thread_unregister(r->qsbr, w->lcore);
	return 0;
}
