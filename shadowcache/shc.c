/* SPDX-License-Identifier: BSD-3-Clause */
/* The shadow SA cache's single writer: publish, retire, reclaim after a grace period (shc.h). */
#include <errno.h>
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "shc.h"

struct shc *
shc_create(uint32_t n_slots, struct rte_rcu_qsbr *qsbr, void (*free_sa)(struct esp_sa *sa))
{
	struct shc *c;

	if (n_slots == 0 || qsbr == NULL || free_sa == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c) + n_slots * sizeof(c->slot[0]));
	if (c == NULL)
		return NULL;
	c->generation = calloc(n_slots, sizeof(c->generation[0]));
	if (c->generation == NULL) {
		free(c);
		return NULL;
	}
	c->n_slots = n_slots;
	c->qsbr = qsbr;
	c->free_sa = free_sa;
	for (uint32_t i = 0; i < n_slots; i++)
		atomic_init(&c->slot[i], NULL);
	return c;
}

static int
retire(struct shc *c, struct esp_sa *old)
{
	if (old == NULL)
		return 0;
	/* the token taken after the unpublish: readers past it cannot hold old */
	c->retired[c->n_retired++] = (struct shc_retired){ old, rte_rcu_qsbr_start(c->qsbr) };
	return 0;
}

static int
check_change(struct shc *c, uint32_t slot, uint64_t generation)
{
	if (slot >= c->n_slots)
		return -EINVAL;
	if (generation <= c->generation[slot])
		return -ESTALE;
	if (c->n_retired == SHC_RETIRED_MAX && shc_reclaim(c) == 0)
		return -ENOSPC;
	return 0;
}

int
shc_install(struct shc *c, uint32_t slot, uint64_t generation, struct esp_sa *sa)
{
	int rc = check_change(c, slot, generation);

	if (rc < 0)
		return rc;
	c->generation[slot] = generation;
	return retire(c, atomic_exchange_explicit(&c->slot[slot], sa, memory_order_acq_rel));
}

int
shc_advance(struct shc *c, uint32_t slot, uint64_t generation)
{
	int rc = check_change(c, slot, generation);

	if (rc < 0)
		return rc;
	if (atomic_load_explicit(&c->slot[slot], memory_order_relaxed) == NULL)
		return -ENOENT;
	c->generation[slot] = generation;
	return 0;
}

int
shc_remove(struct shc *c, uint32_t slot, uint64_t generation)
{
	int rc = check_change(c, slot, generation);

	if (rc < 0)
		return rc;
	if (atomic_load_explicit(&c->slot[slot], memory_order_relaxed) == NULL)
		return -ENOENT;
	c->generation[slot] = generation;
	return retire(c, atomic_exchange_explicit(&c->slot[slot], NULL, memory_order_acq_rel));
}

uint32_t
shc_reclaim(struct shc *c)
{
	uint32_t kept = 0, freed = 0;

	for (uint32_t i = 0; i < c->n_retired; i++) {
		if (rte_rcu_qsbr_check(c->qsbr, c->retired[i].token, false) == 1) {
			c->free_sa(c->retired[i].sa);
			freed++;
		} else {
			c->retired[kept++] = c->retired[i];
		}
	}
	c->n_retired = kept;
	c->freed += freed;
	return freed;
}

void
shc_free(struct shc *c)
{
	if (c == NULL)
		return;

	/* only when the fast path is stopping: unpublish all, wait for every reader once, free */
	uint64_t token;

	for (uint32_t i = 0; i < c->n_slots; i++) {
		struct esp_sa *sa = atomic_exchange(&c->slot[i], NULL);

		if (sa == NULL)
			continue;
		if (c->n_retired == SHC_RETIRED_MAX) {
			token = rte_rcu_qsbr_start(c->qsbr);
			rte_rcu_qsbr_check(c->qsbr, token, true);
			shc_reclaim(c);
		}
		retire(c, sa);
	}
	token = rte_rcu_qsbr_start(c->qsbr);
	rte_rcu_qsbr_check(c->qsbr, token, true);
	shc_reclaim(c);
	free(c->generation);
	free(c);
}
