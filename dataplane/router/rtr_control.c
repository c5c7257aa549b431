/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's main lcore (control work, one writer for what it owns):
 *   trusted link rx -> GRE decap -> replay feedback: authenticated numbers into the SAs' windows
 *                                -> replies from targets without an uplink: Ethernet to the peer's
 *                                   learned MAC -> worker 0 -> uplink
 *   IKE punts (counted and released until the IKE engine exists), peer MACs learned by workers,
 *   connection aging, the control channels (rtr_ctl.c), target health from link state and
 *   heartbeats (a target whose link goes down or whose heartbeat stops is marked unhealthy within
 *   HEALTH_PERIOD_MS of noticing, and its connections are flushed).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>

#include "rtr.h"

#define AGE_BUDGET	 1024 /* entries per pass */
#define HEALTH_PERIOD_MS 100

static uint32_t
neigh_hash(const struct esp_addr *ip)
{
	uint32_t h = ip->family == 4 ? ip->v4 : rte_hash_crc(ip->v6, 16, 0);

	return rte_hash_crc_4byte(h, 0) % RTR_NEIGH_MAX;
}

static bool
addr_eq(const struct esp_addr *a, const struct esp_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4 == b->v4 : memcmp(a->v6, b->v6, 16) == 0;
}

static void
neigh_learn(struct rtr_main *m, const struct rtr_learn *l)
{
	uint32_t h = neigh_hash(&l->ip);

	/* open addressing; a full table overwrites the home slot (the newest peer wins) */
	for (uint32_t i = 0; i < 8; i++) {
		struct rtr_neigh *n = &m->neigh[(h + i) % RTR_NEIGH_MAX];

		if (!n->used || addr_eq(&n->ip, &l->ip)) {
			n->ip = l->ip;
			n->mac = l->mac;
			n->used = 1;
			return;
		}
	}
	m->neigh[h].ip = l->ip;
	m->neigh[h].mac = l->mac;
}

static const struct rtr_neigh *
neigh_find(const struct rtr_main *m, const struct esp_addr *ip)
{
	uint32_t h = neigh_hash(ip);

	for (uint32_t i = 0; i < 8; i++) {
		const struct rtr_neigh *n = &m->neigh[(h + i) % RTR_NEIGH_MAX];

		if (n->used && addr_eq(&n->ip, ip))
			return n;
	}
	return NULL;
}

/* A reply from a target that has no uplink of its own, or an IKE message: an IP packet for a
 * peer. */
bool
rtr_send_to_peer(struct rtr *r, struct rte_mbuf *m)
{
	struct rtr_main *mc = &r->main;
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	struct esp_addr dst = { 0 };
	uint16_t type;

	if (m->data_len >= 20 && (ip[0] >> 4) == 4) {
		dst.family = 4;
		memcpy(&dst.v4, ip + 16, 4);
		type = RTE_ETHER_TYPE_IPV4;
	} else if (m->data_len >= 40 && (ip[0] >> 4) == 6) {
		dst.family = 6;
		memcpy(dst.v6, ip + 24, 16);
		type = RTE_ETHER_TYPE_IPV6;
	} else {
		mc->st.drops[RTR_DROP_RETURN_NOT_IP]++;
		rte_pktmbuf_free(m);
		return false;
	}

	const struct rtr_neigh *n = neigh_find(mc, &dst);
	struct rte_ether_hdr *eth;

	if (n == NULL) {
		mc->st.drops[RTR_DROP_RETURN_NO_NEIGHBOR]++;
		rte_pktmbuf_free(m);
		return false;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL) {
		mc->st.drops[RTR_DROP_RETURN_TX_FULL]++;
		rte_pktmbuf_free(m);
		return false;
	}
	eth->dst_addr = n->mac;
	eth->src_addr = r->uplink.mac;
	eth->ether_type = rte_cpu_to_be_16(type);
	if (rte_ring_sp_enqueue(r->ret_ring, m) != 0) {
		mc->st.drops[RTR_DROP_RETURN_TX_FULL]++;
		rte_pktmbuf_free(m);
		return false;
	}
	mc->st.returned++;
	return true;
}

static uint32_t
poll_link(struct rtr *r, uint16_t t)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct gre_info info[DP_BURST];
	uint16_t n = rte_eth_rx_burst(r->link[t].id, 0, pkts, DP_BURST);

	if (n == 0)
		return 0;

	uint16_t ok = gre_decap_burst_local(&r->main.gre, r->link_ip[t][0], pkts, info, n);

	dp_free(pkts + ok, n - ok);
	for (uint16_t i = 0; i < ok; i++) {
		if (info[i].proto == GRE_PROTO_FEEDBACK) {
			rtr_feedback_apply(r, &r->main.st, rte_pktmbuf_mtod(pkts[i], uint8_t *),
					   pkts[i]->data_len);
			rte_pktmbuf_free(pkts[i]);
		} else {
			rtr_send_to_peer(r, pkts[i]);
		}
	}
	return n;
}

static void
check_health(struct rtr *r, uint64_t now)
{
	if (now - r->main.last_health_tsc < rte_get_tsc_hz() / 1000 * HEALTH_PERIOD_MS)
		return;
	r->main.last_health_tsc = now;
	for (uint16_t t = 0; t < r->n_targets; t++) {
		bool was = atomic_load(&r->targets.healthy) >> t & 1;
		bool up = dp_port_link_up(&r->link[t]) && rtr_ctl_alive(r, t, now);

		dct_targets_set_health(&r->targets, t, up);
		/* a target that went away loses its connections: their packets would go nowhere,
		 * and new SYNs of the same flows must find a live target */
		if (was && !up)
			r->main.flushed += dct_remove_target(r->dct, t);
	}
}

static void
list_one(const struct dct_key *k, uint16_t target, uint8_t state, uint64_t last_seen, void *arg)
{
	struct rtr_dct_list *l = arg;

	if (l->n < RTR_DCT_LIST_MAX)
		l->rows[l->n++] = (struct rtr_dct_row){ *k, target, state, last_seen };
}

/* A listing for telemetry, done here because only this lcore may walk the table (it ages it). */
static void
answer_dct_list(struct rtr *r)
{
	struct rtr_dct_list *l = &r->main.dct_list;
	unsigned int want = atomic_load_explicit(&l->request, memory_order_acquire);

	if (want == 0)
		return;
	l->n = 0;
	dct_walk(r->dct, RTE_MIN(want, (unsigned int)RTR_DCT_LIST_MAX), list_one, l);
	atomic_store_explicit(&l->request, 0, memory_order_release);
}

uint32_t
rtr_control_poll(struct rtr *r, uint64_t now)
{
	uint32_t work = 0;
	struct rtr_learn learn[DP_BURST];
	unsigned int n;

	for (uint16_t t = 0; t < r->n_targets; t++)
		work += poll_link(r, t);

	/* peers' MACs first: an IKE answer goes to the MAC its request came from */
	n = rte_ring_sc_dequeue_burst_elem(r->learn_ring, learn, sizeof(learn[0]), DP_BURST, NULL);
	for (unsigned int i = 0; i < n; i++)
		neigh_learn(&r->main, &learn[i]);
	work += n;
	work += rtr_ike_poll(r, now);

	dct_age(r->dct, now, AGE_BUDGET);
	rtr_sa_reclaim(r);
	if (now - r->main.last_ctl_tsc >= rte_get_tsc_hz() / 1000) { /* sockets: once a ms */
		r->main.last_ctl_tsc = now;
		rtr_ctl_poll(r, now);
	}
	answer_dct_list(r);
	check_health(r, now);
	if (now - r->dist.last_time_check_tsc >= rte_get_tsc_hz()) { /* time lifetimes */
		r->dist.last_time_check_tsc = now;
		rtr_sa_expire(r, now);
	}
	/* read before the exchange: a write every loop would pull the line holding stop, which
	 * every worker reads every loop, away from them (~5 cycles a packet at 64 B) */
	if (atomic_load_explicit(&r->reload, memory_order_relaxed) &&
	    atomic_exchange(&r->reload, false))
		rtr_reload(r);
	return work;
}
