/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's distributed connection table (DCT): which target (cluster member) owns each inbound
 * TCP connection. The router peeks at an ESP packet's inner TCP header, builds a dct_key and looks
 * it up here (ARCHITECTURE.md §2 step 5): a hit names the target the packet is GRE-encapsulated to
 * next; a SYN that misses gets a target from dct_pick() and is inserted; any other miss is the
 * caller's to drop. FIN or RST moves an entry to 'closing'; dct_age() removes closing and idle
 * entries after their timeouts, dct_remove_target() the entries of a target that died.
 *
 * Threading:
 *  - dct_lookup_burst(): any worker lcore, lock-free (no writes except a coarse last-seen refresh
 *    and the closing mark).
 *  - dct_insert(): any worker lcore, concurrently. Two lcores inserting the same key: exactly one
 *    gets 0, the other -EEXIST with the winner's target, so both packets go to the same target.
 *  - dct_age(), dct_remove_target(), dct_walk(): one control thread.
 *  - Every thread that inserts or runs the control calls must have an lcore id (an EAL lcore, or a
 *    thread that called rte_thread_register()): rte_hash's multi-writer mode keeps per-lcore free
 *    slot caches. The calls return -EINVAL / 0 otherwise.
 *  - Removed entries' slots are reused only after every reader registered in params.qsbr has
 *    reported a quiescent state (workers call rte_rcu_qsbr_quiescent() between bursts).
 *
 * Memory: all from the EAL heap (size -m accordingly); dct_memory() gives a table's figure, which
 * matches the heap's own statistics. Per slot: 64 B of key, a 16 B entry, 4 B each of free ring,
 * extendable-bucket index and removal queue; plus 2 x 8 B of buckets per power-of-two-rounded
 * slot. Slots = capacity + capacity / 16 (positions waiting for a grace period) + 8001 (rte_hash's
 * per-lcore caches). Measured: 1M connections with 1/16 headroom (capacity 1,114,112) take
 * 142 MiB; 64K connections take 9.5 MiB.
 */
#ifndef DVIPSEC_DCT_H
#define DVIPSEC_DCT_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

struct rte_rcu_qsbr;

#define DCT_SA_PLAIN	0x00ffffffu /* sa_id of TCP that reached the DVIPA without IPsec */
#define DCT_MAX_TARGETS 64
#define DCT_NO_TARGET	UINT16_MAX
#define DCT_BURST_MAX	64 /* keys per dct_lookup_burst() (rte_hash_lookup_bulk's limit) */
#define DCT_WEIGHT_MAX	1000

/* TCP flags byte bits the table looks at */
#define DCT_TCP_FIN 0x01
#define DCT_TCP_SYN 0x02
#define DCT_TCP_RST 0x04

/* 48 bytes, so rte_hash uses its 48-byte compare. Every pad and unused address byte is zero. */
struct dct_key {
	uint32_t sa_id;	   /* router SA slot of the inbound SA, or DCT_SA_PLAIN */
	uint8_t family;	   /* 4 or 6 (inner addresses) */
	uint8_t proto;	   /* 6 = TCP */
	uint16_t pad0;	   /* zero */
	uint16_t src_port; /* network order */
	uint16_t dst_port; /* network order */
	uint32_t pad1;	   /* zero */
	uint8_t src[16];   /* IPv4: the first 4 bytes */
	uint8_t dst[16];
};
static_assert(sizeof(struct dct_key) == 48, "dct_key must stay 48 bytes");

/* Addresses and ports in network order. */
static inline void
dct_key_v4(struct dct_key *k, uint32_t sa_id, uint32_t src_be, uint32_t dst_be, uint16_t sport_be,
	   uint16_t dport_be)
{
	memset(k, 0, sizeof(*k));
	k->sa_id = sa_id;
	k->family = 4;
	k->proto = 6;
	k->src_port = sport_be;
	k->dst_port = dport_be;
	memcpy(k->src, &src_be, 4);
	memcpy(k->dst, &dst_be, 4);
}

static inline void
dct_key_v6(struct dct_key *k, uint32_t sa_id, const uint8_t src[16], const uint8_t dst[16],
	   uint16_t sport_be, uint16_t dport_be)
{
	memset(k, 0, sizeof(*k));
	k->sa_id = sa_id;
	k->family = 6;
	k->proto = 6;
	k->src_port = sport_be;
	k->dst_port = dport_be;
	memcpy(k->src, src, 16);
	memcpy(k->dst, dst, 16);
}

/* Entry states as dct_walk() reports them. */
#define DCT_STATES(X)                                                               \
	X(OPEN, "open", "connection seen, no FIN or RST yet")                       \
	X(CLOSING, "closing", "FIN or RST seen; removed after the closing timeout") \
	X(REMOVING, "removing", "being removed by the control thread")

enum dct_state {
	DCT_STATE_FREE = 0, /* slot unused (never reported) */
#define DCT_STATE_ENUM(sym, name, desc) DCT_STATE_##sym,
	DCT_STATES(DCT_STATE_ENUM)
#undef DCT_STATE_ENUM
		DCT_STATE_COUNT
};

const char *dct_state_name(uint8_t state);

/* Per-lcore counters, one cache-aligned struct per lcore; telemetry sums them (dct_stats_sum). */
#define DCT_STATS(X)                                                                          \
	X(lookups, "keys looked up")                                                          \
	X(hits, "lookups that found the connection")                                          \
	X(misses, "lookups that did not")                                                     \
	X(inserts, "connections inserted")                                                    \
	X(insert_exists, "inserts that found the connection there (another lcore was first)") \
	X(insert_full, "inserts refused because the table is full")                           \
	X(closing_marks, "connections moved to closing by FIN or RST")

struct dct_lcore_stats {
#define DCT_STAT_FIELD(name, desc) uint64_t name;
	DCT_STATS(DCT_STAT_FIELD)
#undef DCT_STAT_FIELD
} __rte_cache_aligned;

/* sum = the field-wise sum of per_lcore[0 .. n-1]. */
void dct_stats_sum(const struct dct_lcore_stats *per_lcore, unsigned int n,
		   struct dct_lcore_stats *sum);

/* -- the table --------------------------------------------------------------------------------- */

struct dct;

struct dct_params {
	const char *name;	      /* unique among the process's hash tables, <= 24 characters */
	uint32_t capacity;	      /* connections at most; further inserts get -ENOSPC */
	uint64_t idle_timeout_tsc;    /* an open entry without packets this long is removed */
	uint64_t closing_timeout_tsc; /* a closing entry without packets this long is removed */
	uint64_t refresh_tsc; /* last-seen granularity: a hit writes the entry only when its stored
				 time is older than this. 0: min(timeouts) / 16 */
	int socket_id;	      /* or SOCKET_ID_ANY */
	struct rte_rcu_qsbr
		*qsbr; /* the workers' QSBR variable; NULL if no lcore reads concurrently
			  with the control calls (removed slots are then reused at once) */
};

/* NULL with rte_errno set (EINVAL, ENOMEM, EEXIST for a name in use) on failure. */
struct dct *dct_create(const struct dct_params *p);
/* No reader may use the table any more. NULL is fine. */
void dct_free(struct dct *t);

/*
 * Looks up keys[0 .. n-1] (n <= DCT_BURST_MAX; keys beyond are not looked up). For each key
 * found, target[i] is set and bit i of the returned mask is set; the other target[i] are left
 * alone. tcp_flags (may be NULL) holds each packet's TCP flags byte: FIN or RST on a hit moves an
 * open entry to closing (and restarts its clock). A hit refreshes the entry's last-seen time when
 * the stored one is older than the refresh granularity. st is this lcore's counters.
 */
uint64_t dct_lookup_burst(struct dct *t, const struct dct_key *keys, const uint8_t *tcp_flags,
			  uint16_t n, uint16_t *target, uint64_t now_tsc,
			  struct dct_lcore_stats *st);

/*
 * Inserts k -> *target (< DCT_MAX_TARGETS) as open. 0; -EEXIST when the key is there already
 * (another lcore won the race): *target is set to its target; -ENOSPC when the table is full
 * (counted in insert_full); -EINVAL (bad target, no lcore id). If the control thread is removing
 * an entry of the same key (a reused 4-tuple), the insert waits up to 64 pauses for it to go, then
 * gives -EEXIST with the old target. st is this lcore's counters.
 */
int dct_insert(struct dct *t, const struct dct_key *k, uint16_t *target, uint64_t now_tsc,
	       struct dct_lcore_stats *st);

/*
 * Control thread. Frees the slots whose grace period has ended, then scans up to budget slots from
 * where the last call stopped (wrapping around) and removes open entries idle for longer than the
 * idle timeout and closing entries idle for longer than the closing timeout. Returns how many
 * entries it removed. budget 0 only frees slots.
 */
uint32_t dct_age(struct dct *t, uint64_t now_tsc, uint32_t budget);

/* Control thread: removes every entry of target; returns how many. The caller marks the target
 * unhealthy first, so no new connection picks it (one inserted by a lcore that picked it before
 * the flip may remain; a second call after a grace period catches it). */
uint32_t dct_remove_target(struct dct *t, uint16_t target);

uint32_t dct_count(const struct dct *t);
uint32_t dct_count_target(const struct dct *t, uint16_t target);
uint32_t dct_capacity(const struct dct *t);
/* Slots the table can hand out (capacity plus slack); dct_age() budgets count these. */
uint32_t dct_slots(const struct dct *t);
/* Removed entries whose slots wait for a grace period. */
uint32_t dct_pending(const struct dct *t);
/* Bytes the table takes from the EAL heap. */
size_t dct_memory(const struct dct *t);

typedef void (*dct_walk_fn)(const struct dct_key *key, uint16_t target, uint8_t state,
			    uint64_t last_seen_tsc, void *arg);
/* Control thread (it must not run concurrently with dct_age or dct_remove_target): calls fn for up
 * to max entries, in slot order; returns how many. */
uint32_t dct_walk(const struct dct *t, uint32_t max, dct_walk_fn fn, void *arg);

/* -- choosing a target for a new connection (dct_pick.c) --------------------------------------- */

/* Shared by all lcores; written by one control thread. A target is chosen only when it is healthy
 * and its weight is 1..DCT_WEIGHT_MAX. */
struct dct_target_set {
	_Atomic uint32_t version;  /* bumped by every change; pickers restart their rounds */
	_Atomic uint64_t healthy;  /* bit i: target i is healthy */
	_Atomic uint64_t eligible; /* healthy and weight > 0 */
	_Atomic uint16_t weight[DCT_MAX_TARGETS];
} __rte_cache_aligned;

/* Every target unhealthy with weight 0. */
void dct_targets_init(struct dct_target_set *s);
/* weight 0..DCT_WEIGHT_MAX (0: never chosen). 0 or -EINVAL. */
int dct_targets_set_weight(struct dct_target_set *s, uint16_t target, uint16_t weight);
int dct_targets_set_health(struct dct_target_set *s, uint16_t target, bool healthy);

/* Per-lcore smooth weighted round robin (nginx): N consecutive picks spread over the eligible
 * targets in proportion to their weights, interleaved, and deterministically. */
struct dct_picker {
	uint32_t version;
	int32_t current[DCT_MAX_TARGETS];
} __rte_cache_aligned;

void dct_picker_init(struct dct_picker *p);
/* A target index, or DCT_NO_TARGET when no target is eligible. */
uint16_t dct_pick(struct dct_picker *p, const struct dct_target_set *s);

#endif /* DVIPSEC_DCT_H */
