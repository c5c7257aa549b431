/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window: RFC 4303 3.4.3 semantics, RFC 6479 bitmap layout (a ring of 64-bit blocks,
 * one block more than the window needs, so sliding right clears whole blocks and never shifts
 * bits), and RFC 4303 Appendix A for extended sequence numbers (the 32 high bits are inferred,
 * never on the wire).
 *
 * The check and the update are separate on purpose: check before decryption (cheap rejection),
 * update only after the ICV verified, so a forged packet can never move the window. One writer per
 * window.
 */
#ifndef DVIPSEC_ESP_REPLAY_H
#define DVIPSEC_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define ESP_REPLAY_BLOCK_BITS 64
#define ESP_REPLAY_MAX_BLOCKS 128 /* (4096 / 64 + 1) rounded up to a power of two */

struct esp_replay {
	uint64_t top;	   /* highest authenticated sequence number (full 64 bits); 0 = none yet */
	uint32_t window;   /* packets; 0 = anti-replay off */
	uint32_t blk_mask; /* number of bitmap blocks - 1 */
	bool esn;
	uint64_t bitmap[ESP_REPLAY_MAX_BLOCKS];
};

enum esp_replay_verdict {
	ESP_REPLAY_OK = 0,
	ESP_REPLAY_DUPLICATE,
	ESP_REPLAY_TOO_OLD,
};

/* window: 0 (off) or a power of two in ESP_REPLAY_MIN..ESP_REPLAY_MAX. Returns 0 or -EINVAL. */
int esp_replay_init(struct esp_replay *rw, uint32_t window, bool esn);

/*
 * The full sequence number a received low half stands for (RFC 4303 A.2.1): without ESN the low
 * half itself; with ESN the high half is guessed from where the window sits, so that a number just
 * right of the window's top or inside it keeps the current high half and a small number past a wrap
 * takes the next.
 */
static inline uint64_t
esp_replay_full_seq(const struct esp_replay *rw, uint32_t seq_lo)
{
	if (!rw->esn)
		return seq_lo;
	uint32_t w = rw->window ? rw->window : ESP_REPLAY_BLOCK_BITS;
	uint32_t tl = (uint32_t)rw->top;
	uint32_t th = (uint32_t)(rw->top >> 32);
	uint32_t bottom = tl - w + 1; /* wraps when the window straddles a high-half boundary */

	if (tl >= w - 1) {
		/* the window lies inside one 2^32 subspace */
		if (seq_lo >= bottom)
			return ((uint64_t)th << 32) | seq_lo;
		return ((uint64_t)(th + 1) << 32) | seq_lo;
	}
	/* the window spans two subspaces: high numbers belong to the previous one */
	if (seq_lo >= bottom && th > 0)
		return ((uint64_t)(th - 1) << 32) | seq_lo;
	return ((uint64_t)th << 32) | seq_lo;
}

static inline enum esp_replay_verdict
esp_replay_check(const struct esp_replay *rw, uint64_t seq)
{
	if (seq == 0)
		return ESP_REPLAY_TOO_OLD; /* RFC 4303: the counter starts at 0, the first packet
					      carries 1 */
	if (rw->window == 0 || seq > rw->top)
		return ESP_REPLAY_OK;
	if (rw->top - seq >= rw->window)
		return ESP_REPLAY_TOO_OLD;
	uint64_t blk = (seq / ESP_REPLAY_BLOCK_BITS) & rw->blk_mask;
	uint64_t bit = UINT64_C(1) << (seq % ESP_REPLAY_BLOCK_BITS);
	return (rw->bitmap[blk] & bit) ? ESP_REPLAY_DUPLICATE : ESP_REPLAY_OK;
}

/* Record an authenticated sequence number. Call only after esp_replay_check() said OK and the ICV
 * verified; it returns the same verdict as a fresh check, so a racing duplicate still loses. */
static inline enum esp_replay_verdict
esp_replay_update(struct esp_replay *rw, uint64_t seq)
{
	enum esp_replay_verdict v = esp_replay_check(rw, seq);

	if (v != ESP_REPLAY_OK)
		return v;
	if (rw->window == 0) {
		if (seq > rw->top)
			rw->top = seq;
		return ESP_REPLAY_OK;
	}
	if (seq > rw->top) {
		uint64_t cur = rw->top / ESP_REPLAY_BLOCK_BITS;
		uint64_t next = seq / ESP_REPLAY_BLOCK_BITS;
		uint64_t diff = next - cur;

		if (diff > (uint64_t)rw->blk_mask + 1)
			diff = (uint64_t)rw->blk_mask + 1;
		for (uint64_t i = 1; i <= diff; i++)
			rw->bitmap[(cur + i) & rw->blk_mask] = 0;
		rw->top = seq;
	}
	rw->bitmap[(seq / ESP_REPLAY_BLOCK_BITS) & rw->blk_mask] |=
		UINT64_C(1) << (seq % ESP_REPLAY_BLOCK_BITS);
	return ESP_REPLAY_OK;
}

/* Start a fresh window at top with every number up to it seen (an SA installed again after a
 * restart, from the coupling facility's high-water mark): only numbers above it pass. */
static inline void
esp_replay_seed(struct esp_replay *rw, uint64_t top)
{
	rw->top = top;
	for (uint32_t b = 0; b <= rw->blk_mask; b++)
		rw->bitmap[b] = UINT64_MAX;
	/* numbers above top in top's block are not seen yet */
	if (top % ESP_REPLAY_BLOCK_BITS != ESP_REPLAY_BLOCK_BITS - 1)
		rw->bitmap[(top / ESP_REPLAY_BLOCK_BITS) & rw->blk_mask] =
			(UINT64_C(2) << (top % ESP_REPLAY_BLOCK_BITS)) - 1;
}

#endif /* DVIPSEC_ESP_REPLAY_H */
