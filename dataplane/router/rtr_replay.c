/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The single writer of the router's authenticated replay windows (see rtr_replay.h), and the
 * parser of the targets' feedback messages that feed it (dp_feedback.h). Runs on the main lcore.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "dp_feedback.h"
#include "rtr.h"
#include "rtr_replay.h"

uint32_t
rtr_replay_learn(struct esp_replay *rw, uint64_t base, uint64_t bits)
{
	if (bits == 0 || base % ESP_REPLAY_BLOCK_BITS != 0)
		return 0;

	uint64_t hi = base + 63 - (uint64_t)__builtin_clzll(bits);
	uint64_t top = rw->top;

	if (rw->window == 0) {
		if (hi > top)
			__atomic_store_n(&rw->top, hi, __ATOMIC_RELEASE);
		return (uint32_t)__builtin_popcountll(bits);
	}
	if (hi > top) {
		uint64_t cur = top / ESP_REPLAY_BLOCK_BITS;
		uint64_t next = hi / ESP_REPLAY_BLOCK_BITS;
		uint64_t diff = next - cur;

		if (diff > (uint64_t)rw->blk_mask + 1)
			diff = (uint64_t)rw->blk_mask + 1;
		for (uint64_t i = 1; i <= diff; i++)
			__atomic_store_n(&rw->bitmap[(cur + i) & rw->blk_mask], 0,
					 __ATOMIC_RELAXED);
		__atomic_store_n(&rw->top, hi, __ATOMIC_RELEASE);
		top = hi;
	}
	/* a block wholly left of the window would alias a newer block of the ring */
	if (top / ESP_REPLAY_BLOCK_BITS - base / ESP_REPLAY_BLOCK_BITS > rw->blk_mask)
		return 0;

	uint64_t *word = &rw->bitmap[(base / ESP_REPLAY_BLOCK_BITS) & rw->blk_mask];
	uint64_t old = __atomic_load_n(word, __ATOMIC_RELAXED);

	__atomic_store_n(word, old | bits, __ATOMIC_RELAXED);
	return (uint32_t)__builtin_popcountll(bits & ~old);
}

uint32_t
rtr_feedback_apply(struct rtr *r, struct rtr_stats *st, const uint8_t *msg, uint32_t len)
{
	struct dp_fb_hdr h;

	if (len < sizeof(h)) {
		st->drops[RTR_DROP_FEEDBACK_BAD]++;
		return 0;
	}
	memcpy(&h, msg, sizeof(h));

	uint32_t count = rte_be_to_cpu_16(h.count);

	if (h.version != DP_FB_VERSION || h.type != DP_FB_TYPE_REPLAY ||
	    count > (len - sizeof(h)) / sizeof(struct dp_fb_replay)) {
		st->drops[RTR_DROP_FEEDBACK_BAD]++;
		return 0;
	}
	st->feedback_msgs++;

	uint32_t learned = 0;

	for (uint32_t i = 0; i < count; i++) {
		struct dp_fb_replay rec;

		memcpy(&rec, msg + sizeof(h) + i * sizeof(rec), sizeof(rec));

		uint32_t slot = rte_be_to_cpu_32(rec.slot);
		/* the main lcore is the SA table's writer too: what it finds here stays valid */
		struct esp_sa *sa = shc_lookup(r->slots, slot);

		if (sa == NULL || sa->rt.dir != ESP_DIR_INBOUND) {
			st->drops[RTR_DROP_FEEDBACK_SLOT]++;
			continue;
		}
		learned += rtr_replay_learn(&sa->replay, rte_be_to_cpu_64(rec.base),
					    rte_be_to_cpu_64(rec.bits));
	}
	st->feedback_seqs += learned;
	return learned;
}
