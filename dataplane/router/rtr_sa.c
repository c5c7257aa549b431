/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's SA table: the one way SAs enter and leave the router (static config now, IKE later;
 * the distribution server will forward every change to the targets). An SA has a cluster slot (the
 * GRE key) and a generation; inbound SAs are also found by SPI for the fast path. Changes run on
 * the main lcore only; workers read the SPI table and the slot table lock-free, and a deleted SA is
 * freed after an RCU grace period (the slot table is a shadow cache, shadowcache/shc.h).
 */
#include <errno.h>

#include "rtr.h"

int
rtr_sa_init(struct rtr *r, uint32_t n_slots, struct rte_rcu_qsbr *qsbr)
{
	/* the router's generations start above any a target gives its own static SAs (1), so an
	 * SA the router distributes always replaces a static one */
	r->sa_generation = UINT64_C(1) << 32;
	r->sa_tbl = esp_sa_table_create(2 * n_slots + 16);
	r->slots = shc_create(n_slots, qsbr, esp_sa_free);
	return r->sa_tbl != NULL && r->slots != NULL ? 0 : -ENOMEM;
}

void
rtr_sa_fini(struct rtr *r)
{
	shc_free(r->slots); /* waits for the readers, frees every SA */
	esp_sa_table_free(r->sa_tbl);
}

int
rtr_sa_add_at(struct rtr *r, const struct esp_sa_params *p, uint32_t slot, struct esp_lcore *lc)
{
	struct esp_sa *sa;
	int rc;

	if (slot >= r->slots->n_slots)
		return -EINVAL;
	if (shc_lookup(r->slots, slot) != NULL)
		return -EEXIST;
	rc = esp_sa_create(p, lc, &sa);
	if (rc < 0)
		return rc;
	sa->slot = slot;
	rc = shc_install(r->slots, slot, ++r->sa_generation, sa);
	if (rc < 0) {
		esp_sa_free(sa); /* never published */
		return rc;
	}
	if (p->dir == ESP_DIR_INBOUND) {
		/* the peek function is set before any worker can find the SA by its SPI */
		r->slot_flow[slot] =
			p->mode == ESP_MODE_TUNNEL ? rtr_flow_tunnel : rtr_flow_transport;
		rc = esp_sa_table_add(r->sa_tbl, sa);
		if (rc < 0) { /* SPI taken: unpublish; freed after the grace period */
			shc_remove(r->slots, slot, ++r->sa_generation);
			return rc;
		}
	}
	if (slot >= r->n_slots)
		r->n_slots = slot + 1;
	return 0;
}

int
rtr_sa_add(struct rtr *r, const struct esp_sa_params *p, struct esp_lcore *lc, uint32_t *slot)
{
	for (uint32_t s = 0; s < r->slots->n_slots; s++) {
		if (shc_lookup(r->slots, s) != NULL)
			continue;
		*slot = s;
		return rtr_sa_add_at(r, p, s, lc);
	}
	return -ENOSPC;
}

int
rtr_sa_del(struct rtr *r, uint32_t slot)
{
	struct esp_sa *sa = shc_lookup(r->slots, slot);

	if (sa == NULL)
		return -ENOENT;
	if (sa->params.dir == ESP_DIR_INBOUND)
		esp_sa_table_del(r->sa_tbl, sa->params.spi);
	/* unpublished by slot too; freed once every worker has passed a quiescent state */
	return shc_remove(r->slots, slot, ++r->sa_generation);
}

const struct esp_sa *
rtr_sa_query(const struct rtr *r, uint32_t slot)
{
	return shc_lookup(r->slots, slot);
}

uint32_t
rtr_sa_reclaim(struct rtr *r)
{
	return shc_reclaim(r->slots);
}
