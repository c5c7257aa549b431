/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dispatch stage (ARCHITECTURE.md section 2, steps 5-6): the connection table says which target
 * owns each flow; a miss with a SYN (or any non-TCP flow) picks a target by weight among the
 * healthy ones and inserts it; a TCP miss without SYN follows connection_table.non_syn_miss (drop
 * and count, or assign). Then GRE around the unchanged packet with the SA slot as key, and out of
 * the target's trusted link on this worker's own queue. Exits: the trusted links, or drops under a
 * named reason. Consumes every packet it is given.
 */
#include <rte_ethdev.h>
#include <rte_tcp.h>

#include "rtr.h"

static void
drop_pkts(struct rtr_worker *w, struct rte_mbuf **pkts, uint16_t n, enum rtr_drop why)
{
	w->st.drops[why] += n;
	dp_free(pkts, n);
}

static void
flush_target(struct rtr_worker *w, struct rtr *r, uint16_t t)
{
	struct rtr_txq *q = &w->txq[t];

	if (q->n == 0)
		return;

	uint16_t ok = gre_encap_burst(&w->link[t], q->m, q->key, NULL, q->n, &w->gre);
	uint16_t sent = rte_eth_tx_burst(r->link[t].id, w->queue, q->m, ok);

	w->st.to_target += sent;
	w->st.target_pkts[t] += sent;
	drop_pkts(w, q->m + sent, ok - sent, RTR_DROP_LINK_TX_FULL);
	drop_pkts(w, q->m + ok, q->n - ok, RTR_DROP_LINK_ENCAP);
	q->n = 0;
}

void
rtr_dispatch_flush(struct rtr_worker *w, struct rtr *r)
{
	for (uint16_t t = 0; t < r->n_targets; t++)
		flush_target(w, r, t);
}

/* A flow the table does not know: a new connection gets a target, anything else is refused. */
static enum rtr_drop
assign(struct rtr_worker *w, struct rtr *r, const struct rtr_flow *f, uint16_t *target,
       uint64_t now)
{
	bool syn = (f->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG;

	if (f->is_tcp && !syn && r->cfg->conn_table.non_syn_miss == CFG_NON_SYN_DROP)
		return RTR_DROP_NON_SYN_MISS;

	uint16_t t = dct_pick(&w->picker, &r->targets);

	if (t == DCT_NO_TARGET)
		return RTR_DROP_NO_TARGET;
	int rc = dct_insert(r->dct, &f->key, &t, now, &w->dct);

	if (rc == -ENOSPC)
		return RTR_DROP_DCT_FULL;
	if (rc == 0)
		w->st.new_flows++;
	*target = t; /* -EEXIST: another lcore inserted it first, and t is its choice */
	return RTR_DROP_NONE;
}

void
rtr_dispatch_burst(struct rtr_worker *w, struct rtr *r, struct rte_mbuf **pkts,
		   const struct rtr_flow *flows, uint16_t n, uint64_t now)
{
	struct dct_key keys[DP_BURST * 2];
	uint8_t flags[DP_BURST * 2];
	uint16_t target[DP_BURST * 2];

	RTE_ASSERT(n <= DP_BURST * 2);
	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		keys[i] = flows[i].key;
		flags[i] = flows[i].tcp_flags;
	}

	uint64_t hit = dct_lookup_burst(r->dct, keys, flags, n, target, now, &w->dct);
	uint64_t inserted = w->st.new_flows;

	for (uint16_t i = 0; i < n; i++) {
		/* a miss behind a SYN of this same burst may be that SYN's flow: look again */
		if (!(hit >> i & 1) && w->st.new_flows != inserted)
			hit |= dct_lookup_burst(r->dct, &keys[i], &flags[i], 1, &target[i], now,
						&w->dct)
			       << i;
		if (!(hit >> i & 1)) {
			enum rtr_drop why = assign(w, r, &flows[i], &target[i], now);

			if (why != RTR_DROP_NONE) {
				drop_pkts(w, &pkts[i], 1, why);
				continue;
			}
		}

		uint16_t t = target[i];
		struct rtr_txq *q = &w->txq[t];

		q->m[q->n] = pkts[i];
		q->key[q->n] = flows[i].gre_key;
		if (++q->n == DP_BURST)
			flush_target(w, r, t);
	}
}
