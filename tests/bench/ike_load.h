/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-ike-load: what its two files share. ike_load.c runs the IKE SAs of the window (requests,
 * answers, retransmissions, the clock); ike_load_main.c parses the options, owns the sockets and
 * measures. A benchmark tool, not a library.
 */
#ifndef DVIPSEC_IKE_LOAD_H
#define DVIPSEC_IKE_LOAD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_crypto.h"
#include "ike_msg.h"

#define MAX_WINDOW    4096
#define MSG_MAX	      2048 /* one request or one IKE_SA_INIT of either side */
#define NONCE_LEN     32
#define NAT_HASH_LEN  20
#define COOKIE_MAX    64
#define COOKIE_ROUNDS 3
#define RX_BUF	      65536

/* Why a set-up was given up: name and description. */
#define LOAD_FAILURES(X)                                                             \
	X(timeout, "no answer after the last retransmission")                        \
	X(notify, "an error notify in the answer (counted by type below)")           \
	X(cookie, "COOKIE asked for more than 3 times")                              \
	X(proposal, "IKE_SA_INIT answer without what we offered (SA, KE, Nr, SPIr)") \
	X(auth, "IKE_AUTH answer without IDr/AUTH, or its AUTH does not verify")     \
	X(child, "IKE_AUTH answer without an ESP SA and selectors (IKE SA deleted)") \
	X(crypto, "X25519 or key derivation failed (low-order KEr, out of memory)")  \
	X(build, "a request did not fit MSG_MAX")

enum fail_reason {
#define FAIL_ENUM(name, desc) FAIL_##name,
	LOAD_FAILURES(FAIL_ENUM)
#undef FAIL_ENUM
		FAIL_COUNT
};

#define NOTIFY_TYPES 64 /* error notifies 1..63 counted one by one, higher ones in [0] */

struct load_stats {
	uint64_t setups;
	uint64_t started;
	uint64_t deletes;
	uint64_t delete_timeouts;
	uint64_t retransmits;
	uint64_t cookies;
	uint64_t stray;	   /* answers to nothing outstanding (late duplicates, unknown SPIs) */
	uint64_t requests; /* requests from the responder: left unanswered */
	uint64_t bad_icv;
	uint64_t bad_message;
	uint64_t fail[FAIL_COUNT];
	uint64_t notify[NOTIFY_TYPES];
};

enum slot_state { SLOT_FREE, SLOT_INIT, SLOT_AUTH, SLOT_DELETE };

struct slot {
	enum slot_state state;
	uint64_t spi_i; /* low 16 bits: the slot's index */
	uint64_t spi_r;
	uint64_t started_ns;
	struct ike_keys *keys;
	uint8_t dh_sk[32]; /* --fresh-dh only */
	uint8_t dh_pk[32];
	uint8_t ni[NONCE_LEN];
	uint8_t nr[IKE_NONCE_MAX];
	size_t nr_len;
	uint8_t cookie[COOKIE_MAX];
	uint8_t cookie_len;
	uint8_t cookie_rounds;
	bool natt; /* IKE on 4500 after IKE_SA_INIT */
	uint8_t msg_i[MSG_MAX];
	size_t msg_i_len;
	uint8_t msg_r[MSG_MAX];
	size_t msg_r_len;
	/* the request outstanding, to retransmit */
	uint8_t tx[IKE_NON_ESP_MARKER_LEN + MSG_MAX];
	size_t tx_len;
	uint8_t tries;
	uint32_t rt_ms;
	uint64_t rt_next_ns;
};

struct opts {
	struct in_addr local, remote;
	uint16_t local_port, local_natt_port, remote_port, remote_natt_port;
	char id[256], peer_id[256];
	uint8_t psk[128];
	size_t psk_len;
	uint32_t tsi_net, tsi_mask, tsr_net, tsr_mask; /* network order */
	unsigned window;
	double duration_s, warmup_s;
	unsigned retransmit_ms, tries;
	bool no_delete, fresh_dh, real_nat, progress;
	long watch_pid;
};

struct load {
	struct opts o;
	struct ike_crypto *cx;
	int fd[2]; /* [0] IKE port, [1] NAT-T port */
	bool running;
	bool counting;
	uint8_t dh_sk[32], dh_pk[32];
	struct load_stats st;
	struct slot *slots;
	unsigned inflight;
	uint32_t *lat_us; /* set-up latencies while counting */
	size_t n_lat, cap_lat;
	struct ike_sa wsa; /* an SA payload being built (large: not on the stack) */
	struct ike_msg msg;
	struct ike_payloads inner;
	uint8_t rx[RX_BUF];
};

/* CLOCK_MONOTONIC in nanoseconds: the clock of every deadline and latency. */
uint64_t load_now_ns(void);
/* A new IKE SA in the free slot s: its IKE_SA_INIT goes out. */
void load_start(struct load *l, struct slot *s, uint64_t now);
/* Retransmit what is due; give up slots out of tries (a new IKE SA starts in each while
 * l->running). */
void load_scan(struct load *l, uint64_t now);
/* One received IKE message (without the non-ESP marker) in buf, which it may decrypt in place. */
void load_input(struct load *l, uint8_t *buf, size_t len, uint64_t now);

#endif /* DVIPSEC_IKE_LOAD_H */
