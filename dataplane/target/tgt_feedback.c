/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay feedback (dp_feedback.h): the numbers this target authenticated go back to the router, in
 * aligned blocks of 64 per SA, so its pre-check window moves on authenticated numbers only. A
 * message leaves when it is full or FLUSH_US after the last one, whichever is first.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "tgt.h"

#define FLUSH_US 100

static void
send_msg(struct tgt *t)
{
	struct tgt_feedback *fb = &t->fb;
	struct rte_mbuf *m = rte_pktmbuf_alloc(t->pool);
	size_t len = sizeof(struct dp_fb_hdr) + fb->n_out * sizeof(struct dp_fb_replay);

	if (m == NULL || rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		t->st.drops[TGT_DROP_NO_MBUF]++;
		rte_pktmbuf_free(m);
		fb->n_out = 0;
		return;
	}

	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct dp_fb_hdr h = {
		.version = DP_FB_VERSION,
		.type = DP_FB_TYPE_REPLAY,
		.count = rte_cpu_to_be_16(fb->n_out),
		.target_id = rte_cpu_to_be_16(t->cfg->id),
	};
	const uint16_t proto = GRE_PROTO_FEEDBACK;
	const uint32_t key = 0;

	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), fb->out, fb->n_out * sizeof(fb->out[0]));
	t->st.feedback_records += fb->n_out;
	fb->n_out = 0;
	if (gre_encap_burst(&t->to_router, &m, &key, &proto, 1, &t->gre) != 1) {
		t->st.drops[TGT_DROP_LINK_ENCAP]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (rte_eth_tx_burst(t->link.id, 0, &m, 1) != 1) {
		t->st.drops[TGT_DROP_LINK_TX_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	t->st.feedback_msgs++;
}

static void
emit(struct tgt *t, const struct tgt_fb_block *b)
{
	struct tgt_feedback *fb = &t->fb;
	struct dp_fb_replay *r = &fb->out[fb->n_out++];

	r->slot = rte_cpu_to_be_32(b->slot);
	r->reserved = 0;
	r->base = rte_cpu_to_be_64(b->base);
	r->bits = rte_cpu_to_be_64(b->bits);
	if (fb->n_out == DP_FB_MAX_RECORDS)
		send_msg(t);
}

void
tgt_feedback_record(struct tgt *t, uint32_t slot, uint64_t seq)
{
	struct tgt_feedback *fb = &t->fb;
	uint64_t base = seq - seq % DP_FB_BLOCK;
	uint64_t bit = UINT64_C(1) << (seq % DP_FB_BLOCK);
	uint8_t i;

	for (i = 0; i < fb->n_open; i++)
		if (fb->open[i].slot == slot)
			break;
	if (i < fb->n_open && fb->open[i].base == base) {
		fb->open[i].bits |= bit;
		return;
	}
	if (i < fb->n_open) {
		emit(t, &fb->open[i]); /* the SA moved to its next block */
	} else if (fb->n_open == TGT_FB_OPEN) {
		emit(t, &fb->open[0]);
		i = 0;
	} else {
		i = fb->n_open++;
	}
	fb->open[i] = (struct tgt_fb_block){ .slot = slot, .base = base, .bits = bit };
}

void
tgt_feedback_flush(struct tgt *t, uint64_t now)
{
	struct tgt_feedback *fb = &t->fb;

	if (fb->n_open == 0 && fb->n_out == 0)
		return;
	if (now - fb->last_flush_tsc < rte_get_tsc_hz() / 1000000 * FLUSH_US)
		return;
	fb->last_flush_tsc = now;
	for (uint8_t i = 0; i < fb->n_open; i++)
		emit(t, &fb->open[i]);
	fb->n_open = 0;
	if (fb->n_out != 0)
		send_msg(t);
}
