/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed, versioned messages of the router<->target control channel (dist_chan.h seals them).
 * Sans-I/O: encode into a caller's buffer, decode from one; nothing here touches a socket.
 *
 * Wire format (before sealing), integers big-endian:
 *   u8 version (DIST_MSG_VERSION), u8 type, u16 reserved (0), u32 body length, body.
 * Each type has its own fixed layout (dist_msg.c, one encode and one decode per type). Decoding
 * checks the remaining length before every read; an unknown version or type is -EPROTO, a short
 * buffer, trailing bytes, a reserved bit set or a field out of range is -EBADMSG. Decoding is
 * canonical: whatever decodes re-encodes to the same bytes.
 */
#ifndef DVIPSEC_DIST_MSG_H
#define DVIPSEC_DIST_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_types.h"

#define DIST_MSG_VERSION 2 /* 2: SA_ADD names the target that sends on an outbound SA */
#define DIST_MSG_HDR_LEN 8
/* An SA_ADD with four selectors each way is the longest message, well under a kilobyte. */
#define DIST_MSG_MAX_LEN 1024

/* type number, symbol, name */
#define DIST_MSG_TYPES(X)                                                                         \
	X(1, HELLO, "hello")		       /* target -> router, first sealed message */       \
	X(2, SNAPSHOT_BEGIN, "snapshot_begin") /* router -> target: full SA table follows */      \
	X(3, SNAPSHOT_END, "snapshot_end")                                                        \
	X(4, SA_ADD, "sa_add")			/* router -> target */                            \
	X(5, SA_DEL, "sa_del")			/* router -> target */                            \
	X(6, REKEY, "rekey")			/* router -> target, after the new SA's SA_ADD */ \
	X(7, LIFESIZE, "lifesize")		/* target -> router */                            \
	X(8, CONN_END, "conn_end")		/* target -> router: FIN/RST seen or idle */      \
	X(9, HEARTBEAT, "heartbeat")		/* both ways */                                   \
	X(10, TARGET_STATE, "target_state")	/* target -> router: weight and health */         \
	X(11, SA_SYNC, "sa_sync")		/* target -> router: SA changes applied up to */  \
	X(12, LIFESIZE_LIMIT, "lifesize_limit") /* router -> target: report threshold */

enum dist_msg_type {
#define DIST_MSG_ENUM(num, sym, name) DIST_MSG_##sym = num,
	DIST_MSG_TYPES(DIST_MSG_ENUM)
#undef DIST_MSG_ENUM
};

struct dist_hello {
	uint16_t target_id;
	uint32_t capabilities;
};

struct dist_snapshot_begin {
	uint32_t count; /* SA_ADDs that follow before SNAPSHOT_END */
	uint64_t generation;
};

struct dist_snapshot_end {
	uint64_t generation;
};

/* sa.keymat: when encoding, the caller's; when decoded, sodium_malloc'd memory owned by the
 * message (dist_msg_clear wipes and frees it). */
#define DIST_OUT_ANY 0xffff

struct dist_sa_add {
	uint32_t slot;
	uint64_t generation;
	/* the target (its id) that alone sends on this outbound SA, so that each sender's sequence
	 * numbers reach the peer in order (one CHILD SA per target, rtr_ike.c); DIST_OUT_ANY: any
	 * target that has no SA of its own for the traffic */
	uint16_t out_target;
	struct esp_sa_params sa;
};

struct dist_sa_del {
	uint32_t slot;
	uint64_t generation;
};

struct dist_rekey {
	uint32_t old_slot;
	uint32_t new_slot;
	uint64_t generation;
};

struct dist_lifesize {
	uint32_t slot;
	uint64_t bytes;
	uint64_t packets;
	uint64_t since_ms;
};

/* The newest SA generation a target has applied (every change up to it is in its cache). */
struct dist_sa_sync {
	uint64_t generation;
};

/* Bytes a target may count on slot's SA before it must send a LIFESIZE report. */
struct dist_lifesize_limit {
	uint32_t slot;
	uint64_t generation; /* of the SA in slot this applies to */
	uint64_t threshold;
};

/* A connection the target saw end (its application sent FIN or RST), as the connection table keys
 * it (dct_key: source = the peer, destination = the DVIPA), ports in host order here. */
struct dist_conn_end {
	uint32_t sa_id; /* the target's outbound SA slot (the router finds its inbound twin, which
			   keys the connection), or 0xffffff for TCP without IPsec */
	uint8_t family; /* 4 or 6; IPv4 addresses use the first 4 bytes, the rest zero */
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t src[16];
	uint8_t dst[16];
};

struct dist_heartbeat {
	uint64_t seq;
	uint64_t time_ms;
};

struct dist_target_state {
	uint16_t target_id;
	uint16_t weight;
	bool healthy;
};

struct dist_msg {
	enum dist_msg_type type;
	uint8_t *owned_keymat; /* set by decode only; NULL in messages the caller builds */
	union {
		struct dist_hello hello;
		struct dist_snapshot_begin snapshot_begin;
		struct dist_snapshot_end snapshot_end;
		struct dist_sa_add sa_add;
		struct dist_sa_del sa_del;
		struct dist_rekey rekey;
		struct dist_lifesize lifesize;
		struct dist_conn_end conn_end;
		struct dist_heartbeat heartbeat;
		struct dist_target_state target_state;
		struct dist_sa_sync sa_sync;
		struct dist_lifesize_limit lifesize_limit;
	};
};

/* Encode m into buf. Return 0 and set *len, -ENOSPC if cap is too small, -EINVAL if m is not
 * valid (unknown type, field out of range, keymat length not the AEAD's). */
int dist_msg_encode(const struct dist_msg *m, uint8_t *buf, size_t cap, size_t *len);

/* Decode exactly one message of len bytes into out. Return 0, -EPROTO (unknown version or type),
 * -EBADMSG (malformed) or -ENOMEM. On error out holds nothing to clear (it is cleared anyway). */
int dist_msg_decode(const uint8_t *buf, size_t len, struct dist_msg *out);

/* Wipe and free a decoded message's keymat, and zero the message. Safe on any message. */
void dist_msg_clear(struct dist_msg *m);

/* "sa_add" etc.; "unknown" for anything else. */
const char *dist_msg_type_name(uint32_t type);

#endif /* DVIPSEC_DIST_MSG_H */
