/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dispatch stage (ARCHITECTURE.md section 2, steps 5-6): the connection table says which target
 * owns each flow; a miss with a SYN (or any non-TCP flow) picks a target by weight among the
 * healthy ones and inserts it; a TCP miss without SYN follows connection_table.non_syn_miss (drop
 * and count, or assign). Then GRE around the unchanged packet with the SA slot as key, and out of
 * the target's trusted link on this worker's own queue. Exits: the trusted links, or drops under a
 * named reason. Consumes every packet it is given.
 */
#include <string.h>

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

/* A packet that may share its predecessor's lookup: same flow, and no SYN, FIN or RST to act on. */
static inline bool
follows(const struct rtr_flow *f, const struct rtr_flow *prev)
{
	const uint8_t act = RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG;

	return !(f->tcp_flags & act) && memcmp(&f->key, &prev->key, sizeof(f->key)) == 0;
}

void
rtr_dispatch_burst(struct rtr_worker *w, struct rtr *r, struct rte_mbuf **pkts,
		   const struct rtr_flow *flows, uint16_t n, uint64_t now)
{
	/* one lookup per train: consecutive packets of a flow (a TCP window's worth) share it */
	struct dct_key keys[DP_BURST * 2];
	uint8_t flags[DP_BURST * 2];
	uint16_t target[DP_BURST * 2];
	uint8_t verdict[DP_BURST * 2]; /* per lookup: RTR_DROP_NONE once it has a target */
	uint8_t lookup_of[DP_BURST * 2];
	uint16_t nu = 0;

	RTE_ASSERT(n <= DP_BURST * 2);
	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		if (i > 0 && follows(&flows[i], &flows[i - 1])) {
			lookup_of[i] = lookup_of[i - 1];
			continue;
		}
		lookup_of[i] = (uint8_t)nu;
		keys[nu] = flows[i].key;
		flags[nu] = flows[i].tcp_flags;
		nu++;
	}

	uint64_t hit = dct_lookup_burst(r->dct, keys, flags, nu, target, now, &w->dct);
	uint64_t inserted = w->st.new_flows;

	for (uint16_t u = 0; u < nu; u++)
		verdict[u] = hit >> u & 1 ? RTR_DROP_NONE : UINT8_MAX; /* MAX: not decided yet */
	for (uint16_t i = 0; i < n; i++) {
		uint16_t u = lookup_of[i];

		if (verdict[u] == UINT8_MAX) {
			/* a miss behind a SYN of this same burst may be that SYN's flow: look again
			 */
			if (w->st.new_flows != inserted &&
			    dct_lookup_burst(r->dct, &keys[u], &flags[u], 1, &target[u], now,
					     &w->dct) != 0)
				verdict[u] = RTR_DROP_NONE;
			else
				verdict[u] = (uint8_t)assign(w, r, &flows[i], &target[u], now);
		}
		if (verdict[u] != RTR_DROP_NONE) {
			drop_pkts(w, &pkts[i], 1, (enum rtr_drop)verdict[u]);
			continue;
		}

		uint16_t t = target[u];
		struct rtr_txq *q = &w->txq[t];

		q->m[q->n] = pkts[i];
		q->key[q->n] = flows[i].gre_key;
		if (++q->n == DP_BURST)
			flush_target(w, r, t);
	}
}
