/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Choosing the target of a new connection (a SYN that missed the table): smooth weighted round
 * robin as nginx does it, over the targets that are healthy and have a weight. Each pick adds every
 * eligible target's weight to its running value, takes the largest (the lowest index on a tie) and
 * subtracts the total from it; over sum(weights) picks each target gets exactly its weight, spread
 * out rather than in runs. The running values are per lcore (struct dct_picker), so picking writes
 * nothing shared. The target set is written by the control thread only; every change bumps its
 * version and each picker restarts its round, so a new weight or health takes effect at once.
 */
#include <errno.h>

#include "dct.h"

/* Control thread: recomputes the eligible mask from weights and health, then publishes. */
static void
publish(struct dct_target_set *s)
{
	uint64_t healthy = atomic_load_explicit(&s->healthy, memory_order_relaxed);
	uint64_t eligible = 0;

	for (unsigned int i = 0; i < DCT_MAX_TARGETS; i++)
		if ((healthy >> i & 1) != 0 &&
		    atomic_load_explicit(&s->weight[i], memory_order_relaxed) != 0)
			eligible |= UINT64_C(1) << i;
	atomic_store_explicit(&s->eligible, eligible, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->version, 1, memory_order_release);
}

void
dct_targets_init(struct dct_target_set *s)
{
	atomic_store_explicit(&s->healthy, 0, memory_order_relaxed);
	for (unsigned int i = 0; i < DCT_MAX_TARGETS; i++)
		atomic_store_explicit(&s->weight[i], 0, memory_order_relaxed);
	atomic_store_explicit(&s->version, 0, memory_order_relaxed);
	publish(s);
}

int
dct_targets_set_weight(struct dct_target_set *s, uint16_t target, uint16_t weight)
{
	if (target >= DCT_MAX_TARGETS || weight > DCT_WEIGHT_MAX)
		return -EINVAL;
	atomic_store_explicit(&s->weight[target], weight, memory_order_relaxed);
	publish(s);
	return 0;
}

int
dct_targets_set_health(struct dct_target_set *s, uint16_t target, bool healthy)
{
	uint64_t bit = UINT64_C(1) << (target % DCT_MAX_TARGETS);

	if (target >= DCT_MAX_TARGETS)
		return -EINVAL;
	uint64_t before =
		healthy ? atomic_fetch_or_explicit(&s->healthy, bit, memory_order_relaxed)
			: atomic_fetch_and_explicit(&s->healthy, ~bit, memory_order_relaxed);

	/* a periodic health check that changes nothing must not restart the pickers' rounds */
	if (!!(before & bit) != healthy)
		publish(s);
	return 0;
}

void
dct_picker_init(struct dct_picker *p)
{
	memset(p, 0, sizeof(*p));
	p->version = UINT32_MAX; /* differs from any set's first version: the first pick resets */
}

uint16_t
dct_pick(struct dct_picker *p, const struct dct_target_set *s)
{
	uint32_t version = atomic_load_explicit(&s->version, memory_order_acquire);
	uint16_t best = DCT_NO_TARGET;
	int32_t best_value = INT32_MIN;
	int32_t total = 0;

	if (version != p->version) {
		memset(p->current, 0, sizeof(p->current));
		p->version = version;
	}
	for (uint64_t m = atomic_load_explicit(&s->eligible, memory_order_relaxed); m != 0;
	     m &= m - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(m);
		/* a weight set to 0 after the mask was read: skip it, the version will change */
		int32_t w = atomic_load_explicit(&s->weight[i], memory_order_relaxed);

		if (w == 0)
			continue;
		p->current[i] += w;
		total += w;
		if (p->current[i] > best_value) {
			best_value = p->current[i];
			best = (uint16_t)i;
		}
	}
	if (best != DCT_NO_TARGET)
		p->current[best] -= total;
	return best;
}
