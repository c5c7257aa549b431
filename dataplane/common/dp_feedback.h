/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay feedback, target -> router, over the trusted link (GRE protocol type GRE_PROTO_FEEDBACK):
 * the sequence numbers a target has AUTHENTICATED (ICV verified), so the router's replay pre-check
 * window only ever moves on authenticated numbers. A record covers one aligned block of 64 numbers
 * of one SA slot, the same block layout as the RFC 6479 bitmap, so the router ORs it in whole.
 *
 *   header: version (1) | type (1 = replay) | count (be16) | target id (be16) | reserved (2)
 *   record: slot (be32) | reserved (4) | base (be64, multiple of 64) | bits (be64; bit i = base +
 * i)
 */
#ifndef DVIPSEC_DP_FEEDBACK_H
#define DVIPSEC_DP_FEEDBACK_H

#include <stdint.h>

#define DP_FB_VERSION	  1
#define DP_FB_TYPE_REPLAY 1
#define DP_FB_MAX_RECORDS 56 /* 8 + 56 * 24 = 1352 bytes: fits a 1500 MTU with GRE around it */
#define DP_FB_BLOCK	  64

struct dp_fb_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t count;
	uint16_t target_id;
	uint16_t reserved;
} __attribute__((packed));

struct dp_fb_replay {
	uint32_t slot;
	uint32_t reserved;
	uint64_t base;
	uint64_t bits;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_fb_hdr) == 8, "feedback header is 8 bytes");
_Static_assert(sizeof(struct dp_fb_replay) == 24, "feedback record is 24 bytes");

#endif /* DVIPSEC_DP_FEEDBACK_H */
