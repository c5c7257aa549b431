/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-peer harness for the IKE engine tests (test_ike_engine.c, test_ike_engine_bad.c): engines
 * in one process joined by a queue of datagrams (a fake network that can drop, look at and
 * rewrite them, NAT included) and a fake clock. Like strongSwan's exchange tests, a test moves one
 * datagram at a time with t_step(), the wire message written in a comment above the call.
 */
#ifndef DVIPSEC_IKE_ENGINE_TEST_H
#define DVIPSEC_IKE_ENGINE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_priv.h"

enum { T_A, T_B, T_C, T_SIDES }; /* A initiates, B responds, C a second initiator */

#define T_MAX_EVENTS 16
#define T_QUEUE	     64

/* A child_up as the callback saw it, keys copied (the engine's copy lives for the call only). */
struct t_child {
	struct ike_child_event ev;
	uint8_t km_in[ESP_MAX_KEYMAT_LEN];
	uint8_t km_out[ESP_MAX_KEYMAT_LEN];
	char peer[32];
};

struct t_side {
	struct ike_config cfg;
	struct ike_engine *e;
	struct esp_addr addr;
	int n_up;
	int n_down;
	struct t_child up[T_MAX_EVENTS];
	uint32_t down[T_MAX_EVENTS];
	int refuse_child; /* child_up returns this (0: accept) */
};

struct t_pkt {
	int from;
	int to;
	struct ike_dgram d; /* as the sender's send callback saw it: local = sender */
	uint8_t buf[IKE_MAX_DGRAM];
};

extern struct t_side t_side[T_SIDES];
extern uint64_t t_now;
extern bool
	t_nat; /* A behind a NAT: 10.0.0.2 becomes 198.51.100.7, ports 500/4500 -> 40500/40501 */
extern const uint8_t t_psk[32];
extern bool t_mute[T_SIDES];		  /* what a muted side sends is lost */
extern void (*t_mangle)(struct t_pkt *p); /* called on every datagram as it is delivered */

/* Fresh configs: A "a.example" 10.0.0.2, B "b.example" 10.0.0.1, C "c.example" 10.0.0.3; each
 * knows the others by PSK (peer index = the other side's T_ index, own slot unused), default
 * proposals and selectors, retransmission 100 ms x 3. Engines are made by t_start(). */
void t_reset(void);
void t_start(void);
void t_stop(void);
/* The side's engine replaced by a fresh one with the same config (a restart: its SAs forgotten
 * without a word; the event log of t_side stays). */
void t_restart(int side);

/* A initiates with B (or from -> to). */
void t_initiate(int from, int to);
int t_queued(void);
/* The next datagram must come from `from` and be of this exchange, request or response: deliver
 * it (t_step) or lose it (t_drop). Returns it (valid until the next queue operation). */
const struct t_pkt *t_step(int from, uint8_t exchange, bool response);
const struct t_pkt *t_drop(int from, uint8_t exchange, bool response);
/* Deliver everything queued (and what that causes) without looking. */
void t_pump(void);
/* Move the clock and run every engine's timers. */
void t_advance(uint64_t ms);
/* Deliver raw bytes to side `to` as if from side `from` (port 500 unless given). */
void t_inject(int from, int to, const uint8_t *data, size_t len, uint16_t port);

/* The side's IKE SA (the first, or the only one). */
struct ike_sa_obj *t_sa(int side);
/* A plain message (IKE_SA_INIT) parsed into *m (bytes copied to a static buffer). */
void t_parse(const struct t_pkt *p, struct ike_msg *m);
/* An encrypted message decrypted with the keys of the receiver side's IKE SA that the message's
 * SPIs name, and its inner chain parsed into *inner. */
void t_open(int side, const struct t_pkt *p, struct ike_payloads *inner);
/* The side's IKE SA the message's SPIs name (fails the test if none). */
struct ike_sa_obj *t_sa_of(int side, const struct t_pkt *p);
/* The side's one IKE SA in this state (fails the test if there are none or several). */
struct ike_sa_obj *t_sa_in(int side, enum ike_sa_state state);
/* CHILD SA pairs of a side: how many are up (child_up without child_down), the child_up of id,
 * whether id had its child_down. */
int t_live(int side);
const struct t_child *t_up(int side, uint32_t id);
bool t_down(int side, uint32_t id);

/* A and B authenticate with Ed25519 raw keys (method 14); A knows B's public key as
 * pk_of_b_at_a (NULL: the right one). Call between t_reset() and t_start(). */
void t_ed25519(const uint8_t *pk_of_b_at_a);

/* Both sides' child_up of the same pair mirror each other: SPIs crossed, the same keys, AEAD,
 * mode, encapsulation, endpoints and selectors seen from either end. */
void t_assert_mirror(const struct t_child *a, const struct t_child *b);
/* The number of IKE SAs of a side, and of those in a state ("established", ...). */
uint32_t t_sas(int side, const char *state);

#define T_STAT(side, name) (ike_engine_stats(t_side[side].e)->name)

#endif /* DVIPSEC_IKE_ENGINE_TEST_H */
