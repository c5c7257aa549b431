/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sealed control channel between the router and one target, sans-I/O: the caller owns the
 * socket (Unix on one host, TCP across hosts) and moves bytes; this module turns them into
 * dist_msg messages and back. Both ends hold the same 32-byte control_key (cfg.h).
 *
 * Handshake (each side sends its hello as soon as it connects, in any order):
 *   hello frame = u32 length (104) | "DVC1" | u8 version | u8 role | u16 0 | kx public key (32) |
 *                 nonce (32) | HMAC-SHA512-256 (32) over everything before it, keyed with a key
 *                 derived from the control key.
 *   A wrong MAC (the peer has another control key) is -EACCES; nothing is ever sealed for it.
 *   Session keys: crypto_kx (client = target, server = router), each direction's key then
 *   BLAKE2b-keyed with the control key over (direction, kx key, both public keys, both nonces).
 * Then every message is one frame: u32 length | secretstream_xchacha20poly1305 ciphertext; the
 * first frame of each direction carries the 24-byte secretstream header before its ciphertext.
 * The secretstream nonce rejects replayed, reordered, dropped or truncated frames. A frame that
 * fails to open or to decode poisons the channel: every later call returns -EBADMSG and the
 * caller reconnects (a new channel, a new handshake, a full snapshot).
 *
 * Key confirmation: the hello MAC proves the control key but not freshness (a recorded hello
 * verifies again). The target's first sealed message is DIST_MSG_HELLO; the router sends SAs
 * only after it has opened that message, which only the holder of the target's fresh kx secret
 * key can have sealed.
 */
#ifndef DVIPSEC_DIST_CHAN_H
#define DVIPSEC_DIST_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dist_msg.h"

#define DIST_CHAN_KEY_LEN    32
#define DIST_FRAME_LEN_SIZE  4
#define DIST_HELLO_FRAME_LEN (DIST_FRAME_LEN_SIZE + 104)
/* Enough for any sealed message: length, stream header, message, stream tag and MAC. */
#define DIST_SEAL_MAX (DIST_FRAME_LEN_SIZE + 24 + DIST_MSG_MAX_LEN + 17)
/* The largest frame length accepted; a longer one is refused before its bytes are buffered. */
#define DIST_FRAME_MAX (DIST_SEAL_MAX - DIST_FRAME_LEN_SIZE)

enum dist_role {
	DIST_ROLE_ROUTER = 1,
	DIST_ROLE_TARGET = 2,
};

struct dist_chan;

/* A channel with a fresh kx key pair and nonce. NULL if out of memory or role is invalid. */
struct dist_chan *dist_chan_new(enum dist_role role, const uint8_t psk[DIST_CHAN_KEY_LEN]);

/* Wipe the keys and free. NULL is fine. */
void dist_chan_free(struct dist_chan *c);

/* Write this side's hello frame (DIST_HELLO_FRAME_LEN bytes). -ENOSPC if cap is too small,
 * -EALREADY if already written, -EBADMSG if poisoned. */
int dist_chan_hello(struct dist_chan *c, uint8_t *out, size_t cap, size_t *len);

/* How many bytes dist_chan_feed accepts now; read at most this much from the socket. */
size_t dist_chan_room(const struct dist_chan *c);

/* Buffer received bytes (any split). 0, -ENOBUFS if len > dist_chan_room() (nothing taken),
 * -EBADMSG if poisoned. */
int dist_chan_feed(struct dist_chan *c, const uint8_t *in, size_t len);

/*
 * Take the next complete message from the buffered bytes (the peer's hello is consumed on the
 * way). Return 0 with *out filled (dist_msg_clear it), -EAGAIN if no complete message is
 * buffered, -EACCES if the peer's hello fails its MAC (wrong control key), -EPROTO if the peer's
 * hello is malformed or has our own role, or -EBADMSG (frame too long, failed to open, not a valid
 * message, or the channel was poisoned before). Every error but -EAGAIN poisons the channel.
 */
int dist_chan_next(struct dist_chan *c, struct dist_msg *out);

/* Seal m as one frame into out. 0, -ENOTCONN before both hellos are through, -ENOSPC,
 * -EINVAL (m not encodable), -EBADMSG if poisoned. A failed seal does not advance the stream. */
int dist_chan_seal(struct dist_chan *c, const struct dist_msg *m, uint8_t *out, size_t cap,
		   size_t *len);

/* Both hellos are through: dist_chan_seal works. */
bool dist_chan_ready(const struct dist_chan *c);

/* An error has poisoned the channel. */
bool dist_chan_poisoned(const struct dist_chan *c);

#endif /* DVIPSEC_DIST_CHAN_H */
