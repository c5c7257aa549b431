/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's replay pre-check (ARCHITECTURE.md section 2, step 3). The router never verifies an
 * ICV, so it must never move a window on what it sees: its window per SA holds only numbers that
 * targets AUTHENTICATED and reported back (dp_feedback.h). Worker lcores read it lock-free to drop
 * duplicates and too-old packets cheaply; the main lcore is its only writer.
 *
 * Why a forged packet cannot hurt: it passes the pre-check (its number is unknown), the target's
 * ICV check drops it, nothing is reported, and the window stays where it was, so the legitimate
 * packet with that number passes both. A replay of an authenticated packet dies here once the
 * target's report arrived (sub-millisecond), or at the target before that (the same flow goes to
 * the same target, whose own window has the number).
 *
 * Ordering for lock-free readers: the writer clears the blocks a slide frees before it publishes
 * the new top (release), and sets bits after; a reader loads top (acquire) first. A reader can
 * thus only miss a bit (the target still catches that replay), never see a bit its number does not
 * own, except for a number that the slide just pushed out of the window, which is too old anyway.
 */
#ifndef DVIPSEC_RTR_REPLAY_H
#define DVIPSEC_RTR_REPLAY_H

#include <stdint.h>

#include "esp_replay.h"

static inline enum esp_replay_verdict
rtr_replay_precheck(const struct esp_replay *rw, uint64_t seq)
{
	if (seq == 0)
		return ESP_REPLAY_TOO_OLD;

	uint64_t top = __atomic_load_n(&rw->top, __ATOMIC_ACQUIRE);

	if (rw->window == 0 || seq > top)
		return ESP_REPLAY_OK;
	if (top - seq >= rw->window)
		return ESP_REPLAY_TOO_OLD;

	uint64_t word = __atomic_load_n(&rw->bitmap[(seq / ESP_REPLAY_BLOCK_BITS) & rw->blk_mask],
					__ATOMIC_RELAXED);

	return (word >> (seq % ESP_REPLAY_BLOCK_BITS) & 1) ? ESP_REPLAY_DUPLICATE : ESP_REPLAY_OK;
}

/* Records authenticated numbers base + i for each bit i of bits (base a multiple of 64). Single
 * writer. Returns how many numbers were new. */
uint32_t rtr_replay_learn(struct esp_replay *rw, uint64_t base, uint64_t bits);

#endif /* DVIPSEC_RTR_REPLAY_H */
