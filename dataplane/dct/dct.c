/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The distributed connection table on DPDK's cuckoo hash (rte_hash) with lock-free readers
 * (RW_CONCURRENCY_LF), concurrent inserts from every worker (MULTI_WRITER_ADD) and extendable
 * buckets (EXT_TABLE, so an insert below capacity never fails for want of a bucket). The hash maps
 * a key to a position; a parallel array of 16-byte entries, indexed by position, holds the target,
 * the state and the last-seen time.
 *
 * Why rte_hash and not a home-made lock-free table: the hot path, lookups, is rte_hash's lock-free
 * bulk lookup (SIMD signature compares, prefetching, retries across concurrent cuckoo moves):
 * about 120 TSC cycles per key for random hits among 1M connections, 50 for misses, 40-80 for hits
 * among 64K (tests/bench/dct_bench.c on a 2-vCPU VM). A home-made multi-writer table for a 48-byte
 * key would still need a claim protocol like the one below. What rte_hash costs is that writers
 * serialize on its writer spinlock: an insert (once per connection, on a SYN) holds it for a
 * bucket update, and so does each removal: a short critical section per connection, never per
 * packet. One lcore inserts in 500-900 cycles; two at once in 1000-2300 each (2-4.8M inserts/s
 * together). TSX lock elision (RTE_HASH_EXTRA_FLAGS_TRANS_MEM_SUPPORT) measured slower there.
 *
 * Insert races. rte_hash_add_key() on a key that is already there returns its position (and
 * overwrites its data pointer, which is why the target is not kept there). So an inserter claims
 * the entry at the returned position with a compare-and-swap from FREE: the one that succeeds
 * created the connection, a later one reads the winner's target and returns -EEXIST.
 *
 * Reuse. For that claim to be sound an entry must be FREE whenever the hash may hand its position
 * out, and stay claimed while any lcore may still reach it through the old key. Removal (control
 * thread) therefore marks the entry REMOVING, deletes the key (with lock-free concurrency rte_hash
 * does not free the position) and queues the position; after an RCU grace period (rte_rcu_qsbr, one
 * token per batch) it stores FREE and only then frees the position with
 * rte_hash_free_key_with_position(). rte_hash's own RCU integration frees positions without telling
 * us which, so it cannot keep the entry array in step.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring_elem.h>

#include "dct.h"

/* rte_cuckoo_hash.c internals the memory estimate follows (DPDK 22.11) */
#define HASH_KEY_ENTRY	    64 /* data pointer + 48-byte key, 16-byte aligned */
#define HASH_BUCKET	    64 /* 8 signatures, 8 positions, flags, next */
#define HASH_BUCKET_SLOTS   8
#define HASH_LCORE_CACHE_SZ 320 /* struct lcore_cache, cache aligned */

#define DCT_BATCHES    64 /* removal batches waiting for their grace period */
#define INSERT_RETRIES 64 /* pauses an insert waits for an entry being removed to go */

/* state << 16 | target; 0 is a free entry */
#define META(state, target) ((uint32_t)(state) << 16 | (uint32_t)(target))
#define META_STATE(m)	    ((uint8_t)((m) >> 16))
#define META_TARGET(m)	    ((uint16_t)(m))

struct dct_entry {
	_Atomic uint32_t meta;
	uint32_t pad;
	_Atomic uint64_t last_seen; /* TSC, refreshed coarsely */
};
static_assert(sizeof(struct dct_entry) == 16, "four entries per cache line");

struct dct_batch {
	uint64_t token; /* rte_rcu_qsbr_start() after the batch's removals */
	uint64_t end;	/* pending_tail when the batch closed */
};

struct dct {
	/* read by every lcore */
	struct rte_hash *hash;
	struct dct_entry *entries;
	uint32_t nslots; /* positions rte_hash can return */
	uint32_t capacity;
	uint64_t idle_tsc;
	uint64_t closing_tsc;
	uint64_t refresh_tsc;
	struct rte_rcu_qsbr *qsbr;
	size_t mem;

	/* written by inserting lcores and the control thread */
	_Atomic uint32_t count __rte_cache_aligned;
	_Atomic uint32_t per_target[DCT_MAX_TARGETS];

	/* control thread only */
	uint32_t cursor __rte_cache_aligned;
	uint32_t *pending; /* removed positions; nslots is enough, each is there at most once */
	uint64_t pending_head;
	uint64_t pending_tail;
	uint64_t batched; /* pending_tail covered by a batch */
	struct dct_batch batches[DCT_BATCHES];
	uint32_t batch_head;
	uint32_t batch_count;
};

static const char *const state_names[DCT_STATE_COUNT] = { [DCT_STATE_FREE] = "free",
#define STATE_NAME(sym, name, desc) [DCT_STATE_##sym] = name,
							  DCT_STATES(STATE_NAME)
#undef STATE_NAME
};

const char *
dct_state_name(uint8_t state)
{
	return state < DCT_STATE_COUNT ? state_names[state] : "invalid";
}

void
dct_stats_sum(const struct dct_lcore_stats *per_lcore, unsigned int n, struct dct_lcore_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < n; i++) {
#define STAT_ADD(name, desc) sum->name += per_lcore[i].name;
		DCT_STATS(STAT_ADD)
#undef STAT_ADD
	}
}

static bool
is_live(uint8_t state)
{
	return state == DCT_STATE_OPEN || state == DCT_STATE_CLOSING;
}

static size_t
estimate_memory(uint32_t hash_entries, uint32_t nslots)
{
	uint32_t key_slots = nslots + 1; /* slot 0 is rte_hash's dummy */
	uint32_t buckets = rte_align32pow2(hash_entries) / HASH_BUCKET_SLOTS;
	size_t sz = 0;

	sz += (size_t)key_slots * HASH_KEY_ENTRY;
	sz += rte_ring_get_memsize_elem(sizeof(uint32_t), rte_align32pow2(key_slots));
	sz += 2 * (size_t)buckets * HASH_BUCKET; /* main and extendable */
	sz += rte_ring_get_memsize_elem(sizeof(uint32_t), rte_align32pow2(buckets + 1));
	sz += (size_t)key_slots * sizeof(uint32_t); /* ext bucket to free per position */
	sz += (size_t)RTE_MAX_LCORE * HASH_LCORE_CACHE_SZ;
	sz += (size_t)nslots * (sizeof(struct dct_entry) + sizeof(uint32_t));
	sz += sizeof(struct dct);
	return sz;
}

struct dct *
dct_create(const struct dct_params *p)
{
	struct rte_hash_parameters hp = { 0 };
	struct dct *t;
	uint32_t slack;

	if (p == NULL || p->name == NULL || strlen(p->name) > 24 || p->capacity == 0 ||
	    p->capacity > RTE_HASH_ENTRIES_MAX / 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("dct", sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/* slack: positions waiting for a grace period still hold their key slot */
	slack = RTE_MAX(p->capacity / 16, 1024u);
	hp.name = p->name;
	hp.entries = p->capacity + slack;
	hp.key_len = sizeof(struct dct_key);
	hp.socket_id = p->socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	rte_errno = 0;
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL) {
		if (rte_errno == 0)
			rte_errno = ENOMEM;
		goto free_table;
	}
	t->nslots = (uint32_t)rte_hash_max_key_id(t->hash);
	t->entries = rte_zmalloc_socket("dct_entries", (size_t)t->nslots * sizeof(t->entries[0]),
					RTE_CACHE_LINE_SIZE, p->socket_id);
	t->pending = rte_malloc_socket("dct_pending", (size_t)t->nslots * sizeof(t->pending[0]),
				       RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t->entries == NULL || t->pending == NULL) {
		rte_errno = ENOMEM;
		goto free_arrays;
	}
	t->capacity = p->capacity;
	t->idle_tsc = p->idle_timeout_tsc;
	t->closing_tsc = p->closing_timeout_tsc;
	t->refresh_tsc =
		p->refresh_tsc != 0 ? p->refresh_tsc : RTE_MIN(t->idle_tsc, t->closing_tsc) / 16;
	t->qsbr = p->qsbr;
	t->mem = estimate_memory(hp.entries, t->nslots);
	return t;

free_arrays:
	rte_free(t->entries);
	rte_free(t->pending);
	rte_hash_free(t->hash);
free_table:
	rte_free(t);
	return NULL;
}

void
dct_free(struct dct *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t->entries);
	rte_free(t->pending);
	rte_free(t);
}

uint64_t
dct_lookup_burst(struct dct *t, const struct dct_key *keys, const uint8_t *tcp_flags, uint16_t n,
		 uint16_t *target, uint64_t now_tsc, struct dct_lcore_stats *st)
{
	const void *kp[DCT_BURST_MAX];
	int32_t pos[DCT_BURST_MAX];
	uint64_t hits = 0;

	if (unlikely(n > DCT_BURST_MAX))
		n = DCT_BURST_MAX; /* the mask has 64 bits; the header says n <= 64 */
	if (n == 0)
		return 0;
	for (uint16_t i = 0; i < n; i++)
		kp[i] = &keys[i];
	rte_hash_lookup_bulk(t->hash, kp, n, pos);
	for (uint16_t i = 0; i < n; i++)
		if (pos[i] >= 0)
			rte_prefetch0(&t->entries[pos[i]]);

	for (uint16_t i = 0; i < n; i++) {
		if (pos[i] < 0)
			continue;
		struct dct_entry *e = &t->entries[pos[i]];
		uint32_t meta = atomic_load_explicit(&e->meta, memory_order_acquire);

		/* FREE: an insert between rte_hash_add_key and its claim; a miss for now */
		if (META_STATE(meta) == DCT_STATE_FREE)
			continue;
		target[i] = META_TARGET(meta);
		hits |= UINT64_C(1) << i;

		uint64_t last = atomic_load_explicit(&e->last_seen, memory_order_relaxed);

		if (tcp_flags != NULL && (tcp_flags[i] & (DCT_TCP_FIN | DCT_TCP_RST)) != 0 &&
		    META_STATE(meta) == DCT_STATE_OPEN) {
			/* the closing timeout runs from the FIN: time first, then the state */
			atomic_store_explicit(&e->last_seen, now_tsc, memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(
				    &e->meta, &meta, META(DCT_STATE_CLOSING, target[i]),
				    memory_order_release, memory_order_relaxed))
				st->closing_marks++;
			continue;
		}
		/* written only when stale, so hits on a busy connection leave its line shared */
		if ((int64_t)(now_tsc - last) > (int64_t)t->refresh_tsc)
			atomic_store_explicit(&e->last_seen, now_tsc, memory_order_relaxed);
	}
	uint32_t nhits = (uint32_t)__builtin_popcountll(hits);

	st->lookups += n;
	st->hits += nhits;
	st->misses += n - nhits;
	return hits;
}

/* An existing entry's target for -EEXIST; false if the key is absent or not claimed yet. */
static bool
existing_target(const struct dct *t, const struct dct_key *k, hash_sig_t sig, uint16_t *target)
{
	int32_t pos = rte_hash_lookup_with_hash(t->hash, k, sig);

	if (pos < 0)
		return false;
	uint32_t meta = atomic_load_explicit(&t->entries[pos].meta, memory_order_acquire);

	if (META_STATE(meta) == DCT_STATE_FREE)
		return false;
	*target = META_TARGET(meta);
	return true;
}

int
dct_insert(struct dct *t, const struct dct_key *k, uint16_t *target, uint64_t now_tsc,
	   struct dct_lcore_stats *st)
{
	uint16_t want = *target;

	if (want >= DCT_MAX_TARGETS || rte_lcore_id() >= RTE_MAX_LCORE)
		return -EINVAL;
	hash_sig_t sig = rte_hash_hash(t->hash, k);

	/* reserve room first, so concurrent inserts cannot overshoot the capacity */
	if (atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed) >= t->capacity) {
		atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
		if (existing_target(t, k, sig, target)) {
			st->insert_exists++;
			return -EEXIST;
		}
		st->insert_full++;
		return -ENOSPC;
	}
	uint32_t meta;

	for (unsigned int attempt = 0;; attempt++) {
		int32_t pos = rte_hash_add_key_with_hash(t->hash, k, sig);

		if (pos < 0) {
			/* every slot in use or waiting for a grace period */
			atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
			st->insert_full++;
			return -ENOSPC;
		}
		struct dct_entry *e = &t->entries[pos];

		meta = atomic_load_explicit(&e->meta, memory_order_acquire);
		if (META_STATE(meta) == DCT_STATE_FREE) {
			/* the time before the claim publishes it (a racing inserter may store its
			 * own "now" here too) */
			atomic_store_explicit(&e->last_seen, now_tsc, memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(
				    &e->meta, &meta, META(DCT_STATE_OPEN, want),
				    memory_order_release, memory_order_acquire)) {
				atomic_fetch_add_explicit(&t->per_target[want], 1,
							  memory_order_relaxed);
				st->inserts++;
				return 0;
			}
		}
		/* the same connection is being removed (a reused port): once the control thread
		 * has deleted the key, the next add makes a new entry */
		if (META_STATE(meta) != DCT_STATE_REMOVING || attempt == INSERT_RETRIES)
			break;
		rte_pause();
	}
	atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
	*target = META_TARGET(meta);
	st->insert_exists++;
	return -EEXIST;
}

/* -- removal and reuse (control thread) -------------------------------------------------------- */

static void
free_position(struct dct *t, uint32_t pos)
{
	/* FREE before the position is back in the free list, so a new claim finds it FREE */
	atomic_store_explicit(&t->entries[pos].meta, 0, memory_order_release);
	rte_hash_free_key_with_position(t->hash, (int32_t)pos);
}

/* Frees the positions of every batch whose grace period has ended. */
static void
reclaim(struct dct *t)
{
	while (t->batch_count > 0) {
		const struct dct_batch *b = &t->batches[t->batch_head];

		if (rte_rcu_qsbr_check(t->qsbr, b->token, false) != 1)
			break;
		for (; t->pending_head != b->end; t->pending_head++)
			free_position(t, t->pending[t->pending_head % t->nslots]);
		t->batch_head = (t->batch_head + 1) % DCT_BATCHES;
		t->batch_count--;
	}
}

/* Starts the grace period of the positions removed since the last batch. */
static void
close_batch(struct dct *t)
{
	if (t->pending_tail == t->batched)
		return;
	uint64_t token = rte_rcu_qsbr_start(t->qsbr);

	if (t->batch_count == DCT_BATCHES) {
		/* full: extend the newest batch; its positions wait a little longer */
		struct dct_batch *b = &t->batches[(t->batch_head + DCT_BATCHES - 1) % DCT_BATCHES];

		b->token = token;
		b->end = t->pending_tail;
	} else {
		t->batches[(t->batch_head + t->batch_count) % DCT_BATCHES] =
			(struct dct_batch){ token, t->pending_tail };
		t->batch_count++;
	}
	t->batched = t->pending_tail;
}

/* Removes the live entry at pos, whose meta was read as meta. With a timeout, re-checks the
 * last-seen time after the entry is marked, so a packet that refreshed it just now keeps it. */
static bool
remove_at(struct dct *t, uint32_t pos, uint32_t meta, uint64_t now_tsc, const uint64_t *timeout)
{
	struct dct_entry *e = &t->entries[pos];
	void *key;

	/* fails when a worker just moved it to closing: the next pass looks again */
	if (!atomic_compare_exchange_strong_explicit(&e->meta, &meta,
						     META(DCT_STATE_REMOVING, META_TARGET(meta)),
						     memory_order_acq_rel, memory_order_relaxed))
		return false;
	if (timeout != NULL &&
	    (int64_t)(now_tsc - atomic_load_explicit(&e->last_seen, memory_order_relaxed)) <=
		    (int64_t)*timeout)
		goto keep;
	if (rte_hash_get_key_with_position(t->hash, (int32_t)pos, &key) != 0)
		goto keep; /* cannot happen: a live entry's key is in the hash */
	int32_t ret = rte_hash_del_key(t->hash, key);

	RTE_VERIFY(ret == (int32_t)pos);
	atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&t->per_target[META_TARGET(meta)], 1, memory_order_relaxed);
	if (t->qsbr == NULL) {
		free_position(t, pos);
	} else {
		t->pending[t->pending_tail % t->nslots] = pos;
		t->pending_tail++;
	}
	return true;

keep:
	/* only this thread moves an entry out of REMOVING */
	atomic_store_explicit(&e->meta, meta, memory_order_release);
	return false;
}

uint32_t
dct_age(struct dct *t, uint64_t now_tsc, uint32_t budget)
{
	uint32_t removed = 0;

	if (rte_lcore_id() >= RTE_MAX_LCORE)
		return 0; /* rte_hash frees positions into a per-lcore cache */
	if (t->qsbr != NULL)
		reclaim(t);
	budget = RTE_MIN(budget, t->nslots);
	for (uint32_t i = 0; i < budget; i++) {
		uint32_t pos = t->cursor;

		t->cursor = pos + 1 == t->nslots ? 0 : pos + 1;
		struct dct_entry *e = &t->entries[pos];
		uint32_t meta = atomic_load_explicit(&e->meta, memory_order_acquire);
		uint8_t state = META_STATE(meta);

		if (!is_live(state))
			continue;
		uint64_t timeout = state == DCT_STATE_CLOSING ? t->closing_tsc : t->idle_tsc;
		uint64_t last = atomic_load_explicit(&e->last_seen, memory_order_relaxed);

		if ((int64_t)(now_tsc - last) <= (int64_t)timeout)
			continue;
		removed += remove_at(t, pos, meta, now_tsc, &timeout);
	}
	if (t->qsbr != NULL)
		close_batch(t);
	return removed;
}

uint32_t
dct_remove_target(struct dct *t, uint16_t target)
{
	uint32_t removed = 0;

	if (rte_lcore_id() >= RTE_MAX_LCORE || target >= DCT_MAX_TARGETS)
		return 0;
	if (t->qsbr != NULL)
		reclaim(t);
	for (uint32_t pos = 0; pos < t->nslots; pos++) {
		uint32_t meta = atomic_load_explicit(&t->entries[pos].meta, memory_order_acquire);

		if (is_live(META_STATE(meta)) && META_TARGET(meta) == target)
			removed += remove_at(t, pos, meta, 0, NULL);
	}
	if (t->qsbr != NULL)
		close_batch(t);
	return removed;
}

uint32_t
dct_count(const struct dct *t)
{
	return atomic_load_explicit(&t->count, memory_order_relaxed);
}

uint32_t
dct_count_target(const struct dct *t, uint16_t target)
{
	if (target >= DCT_MAX_TARGETS)
		return 0;
	return atomic_load_explicit(&t->per_target[target], memory_order_relaxed);
}

uint32_t
dct_capacity(const struct dct *t)
{
	return t->capacity;
}

uint32_t
dct_slots(const struct dct *t)
{
	return t->nslots;
}

uint32_t
dct_pending(const struct dct *t)
{
	return (uint32_t)(t->pending_tail - t->pending_head);
}

size_t
dct_memory(const struct dct *t)
{
	return t->mem;
}

uint32_t
dct_walk(const struct dct *t, uint32_t max, dct_walk_fn fn, void *arg)
{
	uint32_t done = 0;

	for (uint32_t pos = 0; pos < t->nslots && done < max; pos++) {
		const struct dct_entry *e = &t->entries[pos];
		uint32_t meta = atomic_load_explicit(&e->meta, memory_order_acquire);
		void *key;

		if (!is_live(META_STATE(meta)))
			continue;
		if (rte_hash_get_key_with_position(t->hash, (int32_t)pos, &key) != 0)
			continue;
		fn(key, META_TARGET(meta), META_STATE(meta),
		   atomic_load_explicit(&e->last_seen, memory_order_relaxed), arg);
		done++;
	}
	return done;
}
