/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's IKE (ARCHITECTURE.md section 6): the sans-I/O engine of controlplane/ike runs on
 * the main lcore. Workers punt IKE datagrams for a DVIPA (UDP 500, and 4500 with the non-ESP
 * marker) through ike_ring; here they are unwrapped (IP, UDP, marker) into ike_input(), and what
 * the engine sends is wrapped into IP/UDP (the marker on 4500) and leaves by the return path (the
 * peer's learned MAC, worker 0's uplink queue).
 *
 * A CHILD SA pair the engine negotiates enters the SA table through rtr_sa_add() like any SA, so
 * every target receives it; a pair the engine retires leaves through rtr_sa_del(); a rekeyed pair
 * is linked to its predecessor (rtr_sa_rekey: the targets move outbound traffic to it, the old
 * inbound SA keeps working until the engine deletes it, and GRACE_MS longer for what the peer
 * sent on it before it saw the Delete). The cluster's lifesize events come back
 * here: soft asks the engine to rekey the pair, hard deletes it with the peer. Make-before-break
 * across the cluster: an answer that completes a CHILD SA is held until every joined target has
 * applied the new SA (SA_SYNC), so the peer's first packets on it find it there.
 *
 * One outbound SA per target (a peer's sa_per_target, default on): all targets sending on one SA
 * take unique sequence numbers from the coupling facility, but under load two senders reorder
 * them on the wire by more than a peer's replay window (measured: libipsec's 128 lost up to 4 %).
 * So beside each CHILD SA the peer negotiates, the router asks for one more per target after the
 * first (ike_add_child, resource = target index + 1; RFC 9611 per-resource CHILD SAs) and gives
 * each such pair's outbound SA to its target alone (rtr_sa_rec.out_target, carried by SA_ADD);
 * the first pair's outbound SA serves the first target and any target without its own. Every
 * pair's inbound SA shares the first one's connection-table id, so the peer may send on any of
 * them and connections keep their target. Rekeys keep the resource, hence the target.
 *
 * Without an "ike" object in the config the punted datagrams are counted and released.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>
#include <rte_udp.h>

#include "dp_telemetry.h"
#include "ike.h"
#include "rtr.h"

#define NATT_PORT    4500
#define MARKER_LEN   4
#define MAX_CHILDREN (RTR_MAX_SLOTS / 2)
#define SNAP_MS	     100
#define HOLD_MAX     16	 /* answers held until the targets have the pair they announce */
#define HOLD_MS	     200 /* then they go anyway (a target that does not answer is unhealthy soon) */
#define SNAP_SAS     32
#define ADD_MAX	     16	  /* negotiated pairs waiting for their per-target siblings to be asked */
#define ADD_DELAY_MS 100  /* after the pair came up (see add_siblings) */
#define GRACE_MS     1000 /* a replaced pair's inbound SA outlives its Delete by this much */
#define GRACE_MAX    64

struct child_map {
	uint32_t id; /* 0: free */
	uint32_t in_slot;
	uint32_t out_slot;
};

struct rtr_ike {
	struct ike_engine *e;
	struct rtr *r;
	uint64_t next_tick_ms;
	uint16_t ip_id;
	uint64_t rx_bad;	   /* punted datagrams we could not unwrap */
	uint64_t tx_dropped;	   /* no mbuf, too big, no neighbor yet */
	uint64_t install_failed;   /* child_up the SA table refused */
	uint64_t soft_events;	   /* rekeys asked of the engine */
	uint64_t target_sas_asked; /* per-target pairs asked of the engine (ike_add_child) */
	uint64_t target_sas_up;	   /* and come up (rekeys of them not counted) */
	/* pairs that came up in a callback: their per-target siblings are asked for after the
	 * engine call returns (a callback must not call into the engine) */
	/* inbound SAs of pairs a rekey replaced, deleted GRACE_MS after their pair went: the peer
	 * moves its traffic to the new pair when it sees the Delete, and what it sent on the old
	 * one before is still on its way (to the router, and forwarded to a target) */
	uint32_t n_grace;
	struct grace_req {
		uint32_t slot;
		uint32_t owner;
		uint64_t due_ms;
	} grace[GRACE_MAX];
	uint64_t grace_deletes;
	uint32_t n_add;
	struct add_req {
		uint32_t id;
		uint64_t due_ms;
	} add_q[ADD_MAX];
	uint64_t hard_events; /* deletes asked of the engine */
	uint64_t last_snap_ms;
	/* An answer that completes a CHILD SA (IKE_AUTH, CREATE_CHILD_SA) lets the peer send on it
	 * at once: it leaves only when every joined target has applied the SA (SA_SYNC), else the
	 * first packets would reach a target that does not know their slot. */
	uint64_t hold_gen; /* set by child_up during one ike_input: what the answers wait for */
	uint32_t n_held;
	struct {
		struct rte_mbuf *m;
		uint64_t gen;
		uint64_t until_ms;
	} held[HOLD_MAX];
	uint64_t held_total;
	uint64_t held_timeouts;
	/* what telemetry shows, copied by the main lcore every SNAP_MS: the telemetry thread never
	 * walks the engine's tables while the main lcore changes them */
	struct ike_stats snap_stats;
	uint32_t snap_n;
	struct ike_sa_info snap[SNAP_SAS];
	struct child_map child[MAX_CHILDREN];
};

static struct rtr_ike *tel_ike;

static uint64_t
now_ms(uint64_t tsc)
{
	return tsc / (rte_get_tsc_hz() / 1000);
}

static struct child_map *
child_find(struct rtr_ike *k, uint32_t id)
{
	for (uint32_t i = 0; i < MAX_CHILDREN; i++)
		if (k->child[i].id == id)
			return &k->child[i];
	return NULL;
}

/* ---- datagrams out ---- */

static void
io_send(void *ctx, const struct ike_dgram *d)
{
	struct rtr_ike *k = ctx;
	bool natt = d->local_port == NATT_PORT || d->remote_port == NATT_PORT;
	size_t ip_len =
		d->local.family == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	size_t udp_len = sizeof(struct rte_udp_hdr) + (natt ? MARKER_LEN : 0) + d->len;
	struct rte_mbuf *m;

	/* the router does not fragment: an IKE message must fit the uplink's 1500 bytes */
	if (d->local.family != d->remote.family || ip_len + udp_len > RTE_ETHER_MTU ||
	    (m = rte_pktmbuf_alloc(k->r->pool)) == NULL) {
		k->tx_dropped++;
		return;
	}

	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ip_len + udp_len));
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + ip_len);
	uint8_t *payload = (uint8_t *)(udp + 1);

	if (p == NULL) {
		rte_pktmbuf_free(m);
		k->tx_dropped++;
		return;
	}
	udp->src_port = rte_cpu_to_be_16(d->local_port);
	udp->dst_port = rte_cpu_to_be_16(d->remote_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)udp_len);
	udp->dgram_cksum = 0;
	if (natt) {
		memset(payload, 0, MARKER_LEN);
		payload += MARKER_LEN;
	}
	memcpy(payload, d->data, d->len);
	if (d->local.family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45,
					     .total_length =
						     rte_cpu_to_be_16((uint16_t)(ip_len + udp_len)),
					     .packet_id = rte_cpu_to_be_16(k->ip_id++),
					     .time_to_live = 64,
					     .next_proto_id = IPPROTO_UDP,
					     .src_addr = d->local.v4,
					     .dst_addr = d->remote.v4 };
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		*ip = (struct rte_ipv6_hdr){ .vtc_flow = rte_cpu_to_be_32(6u << 28),
					     .payload_len = rte_cpu_to_be_16((uint16_t)udp_len),
					     .proto = IPPROTO_UDP,
					     .hop_limits = 64 };
		memcpy(ip->src_addr, d->local.v6, 16);
		memcpy(ip->dst_addr, d->remote.v6, 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
	if (k->hold_gen != 0 && k->n_held < HOLD_MAX) {
		k->held[k->n_held].m = m;
		k->held[k->n_held].gen = k->hold_gen;
		k->held[k->n_held].until_ms = now_ms(rte_rdtsc()) + HOLD_MS;
		k->n_held++;
		k->held_total++;
		return;
	}
	if (!rtr_send_to_peer(k->r, m))
		k->tx_dropped++;
}

/* Every joined target has applied generation gen (or none is joined). */
static bool
targets_have(const struct rtr *r, uint64_t gen)
{
	for (uint8_t t = 0; t < r->n_targets; t++)
		if (r->ctl[t].joined && r->ctl[t].acked_gen < gen)
			return false;
	return true;
}

/* Held answers whose SA every target has now (in order: one peer's answers stay in sequence). */
static void
release_held(struct rtr_ike *k, uint64_t ms)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < k->n_held; i++) {
		bool go = targets_have(k->r, k->held[i].gen);

		if (!go && ms >= k->held[i].until_ms) {
			k->held_timeouts++;
			go = true;
		}
		if (go && kept == 0) {
			if (!rtr_send_to_peer(k->r, k->held[i].m))
				k->tx_dropped++;
		} else {
			k->held[kept++] = k->held[i];
		}
	}
	k->n_held = kept;
}

/* ---- CHILD SAs into the SA table ---- */

static const struct ike_peer_cfg *
peer_cfg(const struct rtr *r, const char *name)
{
	for (uint16_t i = 0; name != NULL && i < r->cfg->ike->n_peers; i++)
		if (strcmp(r->cfg->ike->peers[i].name, name) == 0)
			return &r->cfg->ike->peers[i];
	return NULL;
}

/* The target a pair's resource names (index + 1), as SA_ADD names it: its id. */
static uint16_t
resource_target(const struct rtr *r, uint16_t resource)
{
	if (resource == 0 || resource > r->n_targets)
		return DIST_OUT_ANY;
	return r->cfg->targets[resource - 1].id;
}

/* Ask for the per-target pairs of the pairs queued by io_child_up, once the answer that completed
 * them has left (it is held until the targets have the pair) and ADD_DELAY_MS later: charon
 * ignores a CREATE_CHILD_SA that arrives while it is still taking in the IKE_AUTH answer
 * ("ignoring CREATE_CHILD_SA in IKE_SA state CONNECTING"), which costs a retransmission (1 s).
 * Until then every target sends on the negotiated pair. */
static void
add_siblings(struct rtr_ike *k, uint64_t ms)
{
	uint32_t kept = 0;

	if (k->n_held != 0)
		return;
	for (uint32_t i = 0; i < k->n_add; i++) {
		if (ms < k->add_q[i].due_ms) {
			k->add_q[kept++] = k->add_q[i];
			continue;
		}
		for (uint16_t t = 1; t < k->r->n_targets && t < IKE_MAX_RESOURCE; t++)
			if (ike_add_child(k->e, k->add_q[i].id, (uint16_t)(t + 1), ms) == 0)
				k->target_sas_asked++;
		k->next_tick_ms = 0; /* learn the new request's retransmission deadline */
	}
	k->n_add = kept;
}

static int
io_child_up(void *ctx, const struct ike_child_event *ev)
{
	struct rtr_ike *k = ctx;
	struct rtr *r = k->r;
	struct child_map *c = child_find(k, 0);
	uint32_t in_slot, out_slot;
	int rc;

	if (c == NULL) {
		k->install_failed++;
		return -ENOSPC;
	}
	rc = rtr_sa_add(r, &ev->in, &r->main.esp, &in_slot);
	if (rc == 0) {
		rc = rtr_sa_add(r, &ev->out, &r->main.esp, &out_slot);
		if (rc < 0)
			rtr_sa_del(r, in_slot);
	}
	if (rc < 0) {
		k->install_failed++;
		return rc;
	}
	r->dist.rec[in_slot].owner = ev->id;
	r->dist.rec[out_slot].owner = ev->id;
	r->dist.rec[out_slot].out_target = resource_target(r, ev->resource);
	k->hold_gen = r->sa_generation; /* this exchange's answer waits for the targets */
	*c = (struct child_map){ .id = ev->id, .in_slot = in_slot, .out_slot = out_slot };

	const struct child_map *old = ev->rekey_of ? child_find(k, ev->rekey_of) : NULL;
	const struct child_map *sib = ev->sibling_of ? child_find(k, ev->sibling_of) : NULL;
	const struct ike_peer_cfg *pc = peer_cfg(r, ev->peer);

	/* a pair beside another serves the same connections */
	if (sib != NULL)
		rtr_sa_share_flows(r, sib->in_slot, in_slot);
	if (ev->resource != 0 && ev->rekey_of == 0)
		k->target_sas_up++;
	if (ev->rekey_of == 0 && ev->sibling_of == 0 && pc != NULL && pc->sa_per_target &&
	    r->n_targets > 1 && k->n_add < ADD_MAX)
		k->add_q[k->n_add++] =
			(struct add_req){ .id = ev->id,
					  .due_ms = now_ms(rte_rdtsc()) + ADD_DELAY_MS };

	/* make-before-break: the targets hold both pairs. Inbound, the new SA inherits the old
	 * one's connections at once; outbound, the targets keep the old SA (they prefer the older
	 * of two that match) until the old pair's Delete has gone through: only then is it certain
	 * that the peer has the new one installed. */
	if (old != NULL)
		rtr_sa_rekey(r, old->in_slot, in_slot);
	return 0;
}

static void
io_child_down(void *ctx, uint32_t id)
{
	struct rtr_ike *k = ctx;
	struct child_map *c = child_find(k, id);

	if (c == NULL || id == 0)
		return;
	struct rtr *r = k->r;
	bool replaced = false;

	for (uint32_t s = 0; s < r->n_slots; s++)
		if (r->dist.rec[s].present && r->dist.rec[s].rekey_of == c->in_slot + 1)
			replaced = true;
	/* -ENOENT when the SA already went at its hard limit */
	if (r->dist.rec[c->out_slot].owner == id)
		rtr_sa_del(r, c->out_slot);
	if (r->dist.rec[c->in_slot].owner == id) {
		if (replaced && k->n_grace < GRACE_MAX)
			k->grace[k->n_grace++] =
				(struct grace_req){ .slot = c->in_slot,
						    .owner = id,
						    .due_ms = now_ms(rte_rdtsc()) + GRACE_MS };
		else
			rtr_sa_del(r, c->in_slot);
	}
	c->id = 0;
}

/* rtr_sa.c's lifesize events for an SA IKE made */
static void
sa_event(struct rtr *r, uint32_t slot, enum shc_lifesize_event ev)
{
	struct rtr_ike *k = r->ike;
	uint32_t id = r->dist.rec[slot].owner;
	uint64_t ms = now_ms(rte_rdtsc());

	if (k == NULL || k->e == NULL || id == 0)
		return;
	if (ev == SHC_LIFESIZE_SOFT) {
		k->soft_events++;
		ike_rekey_child(k->e, id, ms);
	} else if (ev == SHC_LIFESIZE_HARD) {
		k->hard_events++;
		ike_delete(k->e, 0, id, ms);
	}
	/* the request just sent has a retransmission timer the deadline we keep does not know yet:
	 * tick at the next poll to learn it */
	k->next_tick_ms = 0;
}

static void
grace_expire(struct rtr_ike *k, uint64_t ms)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < k->n_grace; i++) {
		if (ms < k->grace[i].due_ms) {
			k->grace[kept++] = k->grace[i];
			continue;
		}
		/* unless it went meanwhile (hard limit) and the slot holds another SA now */
		if (k->r->dist.rec[k->grace[i].slot].owner == k->grace[i].owner &&
		    rtr_sa_del(k->r, k->grace[i].slot) == 0)
			k->grace_deletes++;
	}
	k->n_grace = kept;
}

/* ---- datagrams in ---- */

/* An IKE datagram punted by a worker: data at the IP header, UDP to 500 or 4500 (marker). */
static int
unwrap(struct rte_mbuf *m, struct ike_dgram *d)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = m->data_len, l3;
	const struct rte_udp_hdr *udp;

	memset(d, 0, sizeof(*d));
	if (len >= sizeof(struct rte_ipv4_hdr) && (p[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		l3 = (size_t)(p[0] & 0xf) * 4;
		if (ip->next_proto_id != IPPROTO_UDP)
			return -EINVAL;
		d->local.family = d->remote.family = 4;
		d->local.v4 = ip->dst_addr;
		d->remote.v4 = ip->src_addr;
	} else if (len >= sizeof(struct rte_ipv6_hdr) && (p[0] >> 4) == 6) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

		l3 = sizeof(*ip);
		if (ip->proto != IPPROTO_UDP)
			return -EINVAL;
		d->local.family = d->remote.family = 6;
		memcpy(d->local.v6, ip->dst_addr, 16);
		memcpy(d->remote.v6, ip->src_addr, 16);
	} else {
		return -EINVAL;
	}
	if (len < l3 + sizeof(*udp))
		return -EINVAL;
	udp = (const struct rte_udp_hdr *)(p + l3);
	d->local_port = rte_be_to_cpu_16(udp->dst_port);
	d->remote_port = rte_be_to_cpu_16(udp->src_port);
	d->data = (const uint8_t *)(udp + 1);
	d->len = len - l3 - sizeof(*udp);
	if (d->local_port == NATT_PORT) {
		static const uint8_t marker[MARKER_LEN];

		if (d->len < MARKER_LEN || memcmp(d->data, marker, MARKER_LEN) != 0)
			return -EINVAL;
		d->data += MARKER_LEN;
		d->len -= MARKER_LEN;
	}
	return 0;
}

uint32_t
rtr_ike_poll(struct rtr *r, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(r->ike_ring, (void **)pkts, DP_BURST, NULL);
	struct rtr_ike *k = r->ike;
	uint64_t ms = now_ms(now);

	r->main.ike_punted += n;
	for (unsigned int i = 0; i < n; i++) {
		struct ike_dgram d;

		if (k == NULL || k->e == NULL) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		if (unwrap(pkts[i], &d) == 0) {
			ike_input(k->e, &d, ms);
			k->hold_gen = 0;
		} else {
			k->rx_bad++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	if (k == NULL || k->e == NULL)
		return n;
	if (n != 0 || ms >= k->next_tick_ms)
		k->next_tick_ms = ike_tick(k->e, ms);
	k->hold_gen =
		0; /* a rekey we started completes in ike_input: nothing to hold after a tick */
	if (k->n_held != 0)
		release_held(k, ms);
	if (k->n_add != 0)
		add_siblings(k, ms);
	if (k->n_grace != 0)
		grace_expire(k, ms);
	if (ms - k->last_snap_ms >= SNAP_MS) {
		k->last_snap_ms = ms;
		k->snap_stats = *ike_engine_stats(k->e);
		k->snap_n = ike_engine_list(k->e, k->snap, SNAP_SAS);
	}
	return n;
}

/* ---- telemetry ---- */

static int
cmd_ike(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const names[] = {
#define IKE_STAT_NAME(name, desc) #name,
		IKE_STATS(IKE_STAT_NAME)
#undef IKE_STAT_NAME
	};
	struct rte_tel_data *col[6];
	char spi[24];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	if (tel_ike == NULL || tel_ike->e == NULL) {
		rte_tel_data_add_dict_int(d, "enabled", 0);
		return 0;
	}

	struct ike_stats st = tel_ike->snap_stats;
	const uint64_t *v = (const uint64_t *)&st;

	rte_tel_data_add_dict_int(d, "enabled", 1);
	for (size_t i = 0; i < RTE_DIM(names); i++)
		rte_tel_data_add_dict_u64(d, names[i], v[i]);
	rte_tel_data_add_dict_u64(d, "rx_unwrap_bad", tel_ike->rx_bad);
	rte_tel_data_add_dict_u64(d, "tx_dropped", tel_ike->tx_dropped);
	rte_tel_data_add_dict_u64(d, "child_install_failed", tel_ike->install_failed);
	rte_tel_data_add_dict_u64(d, "lifesize_rekeys_asked", tel_ike->soft_events);
	rte_tel_data_add_dict_u64(d, "lifesize_deletes_asked", tel_ike->hard_events);
	rte_tel_data_add_dict_u64(d, "target_sas_asked", tel_ike->target_sas_asked);
	rte_tel_data_add_dict_u64(d, "target_sas_up", tel_ike->target_sas_up);
	rte_tel_data_add_dict_u64(d, "inbound_grace_deletes", tel_ike->grace_deletes);
	rte_tel_data_add_dict_u64(d, "answers_held", tel_ike->held_total);
	rte_tel_data_add_dict_u64(d, "answers_held_timeout", tel_ike->held_timeouts);

	uint32_t n = RTE_MIN(tel_ike->snap_n, (uint32_t)SNAP_SAS);
	const struct ike_sa_info *sas = tel_ike->snap;
	static const char *const cols[] = { "peer", "state", "spi_i", "spi_r", "nat", "children" };
	static const enum dp_col_kind kinds[] = { DP_COL_STR, DP_COL_STR, DP_COL_STR,
						  DP_COL_STR, DP_COL_INT, DP_COL_INT };

	if (dp_tel_cols_new(col, kinds, 6) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		rte_tel_data_add_array_string(col[0], sas[i].peer);
		rte_tel_data_add_array_string(col[1], sas[i].state);
		snprintf(spi, sizeof(spi), "0x%016" PRIx64, sas[i].spi_i);
		rte_tel_data_add_array_string(col[2], spi);
		snprintf(spi, sizeof(spi), "0x%016" PRIx64, sas[i].spi_r);
		rte_tel_data_add_array_string(col[3], spi);
		rte_tel_data_add_array_int(col[4], sas[i].nat);
		rte_tel_data_add_array_int(col[5], (int)sas[i].n_children);
	}
	dp_tel_cols_put(d, cols, col, 6);
	return 0;
}

/* ---- set-up ---- */

int
rtr_ike_init(struct rtr *r)
{
	struct rtr_ike *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	k->r = r;
	r->ike = k;
	tel_ike = k;
	if (rte_telemetry_register_cmd("/dvipsec/ike", cmd_ike,
				       "IKE: counters by event and reason, IKE SAs (no keys)") < 0)
		return -EINVAL;
	if (r->cfg->ike == NULL)
		return 0;

	struct ike_io io = {
		.ctx = k, .send = io_send, .child_up = io_child_up, .child_down = io_child_down
	};
	int rc = ike_engine_create(r->cfg->ike, &io, &k->e);

	if (rc < 0)
		return rc;
	r->sa_event = sa_event;
	return 0;
}

void
rtr_ike_fini(struct rtr *r)
{
	if (r->ike == NULL)
		return;
	tel_ike = NULL;
	for (uint32_t i = 0; i < r->ike->n_held; i++)
		rte_pktmbuf_free(r->ike->held[i].m);
	ike_engine_free(r->ike->e);
	free(r->ike);
	r->ike = NULL;
}
