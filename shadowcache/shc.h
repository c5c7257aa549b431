/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shadow SA cache: a target's SAs by cluster slot (the GRE key names the slot). Fast-path
 * readers never lock: an SA is published with one release store of its pointer and read with one
 * acquire load. The control thread is the only writer: it installs, replaces (rekey,
 * make-before-break: the new SA gets its own slot, the old one stays until deleted) and removes
 * SAs, each change carrying the router's generation number so a stale or replayed update is
 * refused. A replaced or removed SA is freed only after an RCU grace period (rte_rcu_qsbr: every
 * reader lcore reports quiescent states), so a reader that loaded the old pointer finishes its
 * burst with it.
 */
#ifndef DVIPSEC_SHC_H
#define DVIPSEC_SHC_H

#include <stdatomic.h>
#include <stdint.h>

struct esp_sa;
struct rte_rcu_qsbr;

#define SHC_RETIRED_MAX 256 /* SAs waiting for their grace period */

struct shc_retired {
	struct esp_sa *sa;
	uint64_t token;
};

struct shc {
	uint32_t n_slots;
	struct rte_rcu_qsbr *qsbr;
	void (*free_sa)(struct esp_sa *sa);
	uint64_t *generation; /* per slot: the last accepted change */
	uint32_t n_retired;
	struct shc_retired retired[SHC_RETIRED_MAX];
	uint64_t freed;
	_Atomic(struct esp_sa *) slot[]; /* what readers load */
};

/* A cache of n_slots slots; qsbr is the readers' QSBR variable; free_sa frees a retired SA
 * (esp_sa_free). NULL and errno on failure. */
struct shc *shc_create(uint32_t n_slots, struct rte_rcu_qsbr *qsbr,
		       void (*free_sa)(struct esp_sa *sa));
/* Frees every SA, waiting for the readers first. */
void shc_free(struct shc *c);

/* Fast path: the SA in slot, or NULL. */
static inline struct esp_sa *
shc_lookup(const struct shc *c, uint32_t slot)
{
	if (slot >= c->n_slots)
		return NULL;
	return atomic_load_explicit(&((struct shc *)c)->slot[slot], memory_order_acquire);
}

/* Control thread. Publishes sa in slot (replacing and retiring any SA there) if generation is newer
 * than the slot's last change. 0, -ESTALE (an old update: nothing changed, the caller frees sa),
 * -EINVAL (slot), -ENOSPC (too many SAs still waiting for readers: try after shc_reclaim()). */
int shc_install(struct shc *c, uint32_t slot, uint64_t generation, struct esp_sa *sa);
/* The same SA again under a newer generation (a restarted router's snapshot): the slot keeps its
 * SA object, and with it the replay window. 0, -ESTALE, -EINVAL, -ENOENT (empty). */
int shc_advance(struct shc *c, uint32_t slot, uint64_t generation);
/* Empties slot, retiring its SA. 0, -ESTALE, -EINVAL, -ENOENT (empty), -ENOSPC. */
int shc_remove(struct shc *c, uint32_t slot, uint64_t generation);
/* Frees the retired SAs whose grace period has passed; returns how many. Never blocks. */
uint32_t shc_reclaim(struct shc *c);

#endif /* DVIPSEC_SHC_H */
