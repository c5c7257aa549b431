/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The distributed connection table at burst level: lookups and inserts of IPv4 and IPv6 keys, the
 * -EEXIST race result, a full table, FIN/RST closing and the timeouts (table of TCP flags), coarse
 * last-seen refresh, budgeted aging, removal of a target, RCU-deferred reuse, walking (weighted
 * target choice: test_dct_pick.c); two registered threads inserting and looking up
 * while the main thread ages; and a table filled with 1M connections. Times are plain numbers
 * passed as the TSC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dct.h"

#define IDLE	10000
#define CLOSING 100
#define REFRESH 10
#define ACK	0x10
#define PSH	0x08

static struct dct *
new_table(const char *name, uint32_t capacity, uint64_t idle, uint64_t closing,
	  struct rte_rcu_qsbr *v)
{
	struct dct_params p = {
		.name = name,
		.capacity = capacity,
		.idle_timeout_tsc = idle,
		.closing_timeout_tsc = closing,
		.refresh_tsc = REFRESH,
		.socket_id = SOCKET_ID_ANY,
		.qsbr = v,
	};
	struct dct *t = dct_create(&p);

	if (t == NULL)
		fail_msg("dct_create %s: %s", name, rte_strerror(rte_errno));
	return t;
}

/* A distinct IPv4 key for each n < 2^24. */
static void
key_n(struct dct_key *k, uint32_t n)
{
	dct_key_v4(k, n % 1021, rte_cpu_to_be_32(0x0a000000 | n), rte_cpu_to_be_32(0xc0000201),
		   rte_cpu_to_be_16((uint16_t)(1024 + n % 60000)), rte_cpu_to_be_16(443));
}

static uint32_t
n_of_key(const struct dct_key *k)
{
	uint32_t a;

	memcpy(&a, k->src, 4);
	return rte_be_to_cpu_32(a) & 0xffffff;
}

/* A target that depends on the key, so a hit can be checked without a record. */
static uint16_t
target_of(uint32_t n)
{
	return (uint16_t)((n * 2654435761u) >> 26);
}

static uint32_t
age_all(struct dct *t, uint64_t now)
{
	return dct_age(t, now, dct_slots(t));
}

static uint16_t
lookup_one(struct dct *t, const struct dct_key *k, uint8_t flags, uint64_t now,
	   struct dct_lcore_stats *st)
{
	uint16_t target = DCT_NO_TARGET;

	dct_lookup_burst(t, k, &flags, 1, &target, now, st);
	return target;
}

/* -- keys, lookups and inserts ----------------------------------------------------------------- */

struct key_case {
	const char *what;
	uint8_t family;
	uint32_t sa_id;
	const char *src, *dst;
	uint16_t sport, dport;
};

/* Each differs from another in one field only, so each field is shown to be part of the key. */
static const struct key_case key_cases[] = {
	{ "v4 through SA 7", 4, 7, "10.0.0.1", "192.0.2.1", 40000, 443 },
	{ "same, SA 8", 4, 8, "10.0.0.1", "192.0.2.1", 40000, 443 },
	{ "same, source port + 1", 4, 7, "10.0.0.1", "192.0.2.1", 40001, 443 },
	{ "same, destination port 80", 4, 7, "10.0.0.1", "192.0.2.1", 40000, 80 },
	{ "same, other source", 4, 7, "10.0.0.2", "192.0.2.1", 40000, 443 },
	{ "same, plain TCP", 4, DCT_SA_PLAIN, "10.0.0.1", "192.0.2.1", 40000, 443 },
	{ "v6", 6, 7, "2001:db8::10", "2001:db8::1", 40000, 443 },
	{ "v6, other destination", 6, 7, "2001:db8::10", "2001:db8::2", 40000, 443 },
	{ "v6 whose first bytes are 10.0.0.1", 6, 7, "a00:1::", "c000:201::", 40000, 443 },
	{ "v6 plain TCP", 6, DCT_SA_PLAIN, "2001:db8::10", "2001:db8::1", 40000, 443 },
};
#define N_KEY_CASES (sizeof(key_cases) / sizeof(key_cases[0]))

static void
key_from_case(const struct key_case *c, struct dct_key *k)
{
	uint8_t src[16], dst[16];

	if (c->family == 4) {
		uint32_t s, d;

		assert_int_equal(inet_pton(AF_INET, c->src, &s), 1);
		assert_int_equal(inet_pton(AF_INET, c->dst, &d), 1);
		dct_key_v4(k, c->sa_id, s, d, rte_cpu_to_be_16(c->sport),
			   rte_cpu_to_be_16(c->dport));
	} else {
		assert_int_equal(inet_pton(AF_INET6, c->src, src), 1);
		assert_int_equal(inet_pton(AF_INET6, c->dst, dst), 1);
		dct_key_v6(k, c->sa_id, src, dst, rte_cpu_to_be_16(c->sport),
			   rte_cpu_to_be_16(c->dport));
	}
}

static void
test_key_layout(void **state)
{
	struct dct_key k;
	const uint8_t zero[12] = { 0 };

	(void)state;
	memset(&k, 0xff, sizeof(k));
	dct_key_v4(&k, 5, rte_cpu_to_be_32(0x0a000001), rte_cpu_to_be_32(0xc0000201),
		   rte_cpu_to_be_16(1234), rte_cpu_to_be_16(443));
	assert_int_equal(sizeof(k), 48);
	assert_int_equal(offsetof(struct dct_key, src), 16);
	assert_int_equal(k.pad0, 0);
	assert_int_equal(k.pad1, 0);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.family, 4);
	assert_memory_equal(k.src, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(k.src + 4, zero, 12);
	assert_memory_equal(k.dst, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(k.dst + 4, zero, 12);
	assert_memory_equal(&k.src_port, "\x04\xd2", 2);
}

static void
test_create_errors(void **state)
{
	static const struct {
		const char *name;
		uint32_t capacity;
		int err;
	} cases[] = {
		{ NULL, 100, EINVAL },
		{ "dct_zero", 0, EINVAL },
		{ "dct_name_longer_than_24_chars", 100, EINVAL },
		{ "dct_huge", UINT32_MAX, EINVAL },
		{ "dct_taken", 100, EEXIST }, /* the name of the table made below */
	};
	struct dct *taken = new_table("dct_taken", 100, IDLE, CLOSING, NULL);

	(void)state;
	assert_null(dct_create(NULL));
	assert_int_equal(rte_errno, EINVAL);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dct_params p = {
			.name = cases[i].name,
			.capacity = cases[i].capacity,
			.idle_timeout_tsc = IDLE,
			.closing_timeout_tsc = CLOSING,
			.socket_id = SOCKET_ID_ANY,
		};

		rte_errno = 0;
		assert_null(dct_create(&p));
		if (rte_errno != cases[i].err)
			fail_msg("case %u: rte_errno %d, expected %d", i, rte_errno, cases[i].err);
	}
	assert_int_equal(dct_capacity(taken), 100);
	assert_true(dct_slots(taken) >= 100 + 1024);
	dct_free(taken);
	dct_free(NULL);
	/* the name is free again */
	taken = new_table("dct_taken", 100, IDLE, CLOSING, NULL);
	dct_free(taken);
}

static void
test_insert_lookup(void **state)
{
	struct dct *t = new_table("dct_basic", 1000, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key keys[N_KEY_CASES + 3];
	uint16_t target[N_KEY_CASES + 3];
	uint16_t n = N_KEY_CASES + 3;

	(void)state;
	for (unsigned int i = 0; i < N_KEY_CASES; i++) {
		uint16_t tg = (uint16_t)(i + 1);

		key_from_case(&key_cases[i], &keys[i]);
		if (dct_insert(t, &keys[i], &tg, 100, &st) != 0)
			fail_msg("insert %s", key_cases[i].what);
		assert_int_equal(tg, i + 1);
	}
	/* three keys that were never inserted */
	for (unsigned int i = N_KEY_CASES; i < n; i++)
		key_n(&keys[i], 500 + i);
	for (unsigned int i = 0; i < n; i++)
		target[i] = 0xbeef;

	uint64_t hits = dct_lookup_burst(t, keys, NULL, n, target, 200, &st);

	assert_int_equal(hits, (UINT64_C(1) << N_KEY_CASES) - 1);
	for (unsigned int i = 0; i < N_KEY_CASES; i++)
		if (target[i] != i + 1)
			fail_msg("%s: target %u, expected %u", key_cases[i].what, target[i], i + 1);
	for (unsigned int i = N_KEY_CASES; i < n; i++)
		assert_int_equal(target[i], 0xbeef); /* misses leave target alone */
	assert_int_equal(st.inserts, N_KEY_CASES);
	assert_int_equal(st.lookups, n);
	assert_int_equal(st.hits, N_KEY_CASES);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.insert_exists + st.insert_full + st.closing_marks, 0);
	assert_int_equal(dct_count(t), N_KEY_CASES);
	assert_int_equal(dct_count_target(t, 1), 1);
	assert_int_equal(dct_count_target(t, 0), 0);

	/* a burst of the maximum size, hits at the odd positions */
	struct dct_key big[DCT_BURST_MAX];
	uint16_t big_target[DCT_BURST_MAX];

	for (unsigned int i = 0; i < DCT_BURST_MAX; i++) {
		if (i % 2 == 1)
			key_from_case(&key_cases[i / 2 % N_KEY_CASES], &big[i]);
		else
			key_n(&big[i], 1000 + i);
	}
	hits = dct_lookup_burst(t, big, NULL, DCT_BURST_MAX, big_target, 300, &st);
	assert_int_equal(hits, UINT64_C(0xaaaaaaaaaaaaaaaa));
	for (unsigned int i = 1; i < DCT_BURST_MAX; i += 2)
		assert_int_equal(big_target[i], i / 2 % N_KEY_CASES + 1);
	assert_int_equal(dct_lookup_burst(t, big, NULL, 0, big_target, 300, &st), 0);
	dct_free(t);
}

static void
test_insert_exists(void **state)
{
	struct dct *t = new_table("dct_exists", 100, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key k;
	uint16_t tg = 5;

	(void)state;
	key_n(&k, 1);
	assert_int_equal(dct_insert(t, &k, &tg, 10, &st), 0);
	/* another lcore's SYN for the same connection chose target 9: it must follow target 5 */
	tg = 9;
	assert_int_equal(dct_insert(t, &k, &tg, 11, &st), -EEXIST);
	assert_int_equal(tg, 5);
	assert_int_equal(lookup_one(t, &k, ACK, 12, &st), 5);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.insert_exists, 1);
	assert_int_equal(dct_count(t), 1);
	assert_int_equal(dct_count_target(t, 5), 1);
	assert_int_equal(dct_count_target(t, 9), 0);

	tg = DCT_MAX_TARGETS;
	key_n(&k, 2);
	assert_int_equal(dct_insert(t, &k, &tg, 10, &st), -EINVAL);
	assert_int_equal(dct_count(t), 1);
	dct_free(t);
}

static void
test_full(void **state)
{
	struct dct *t = new_table("dct_full", 64, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key k;
	uint16_t tg;

	(void)state;
	for (uint32_t i = 0; i < 64; i++) {
		key_n(&k, i);
		tg = target_of(i);
		assert_int_equal(dct_insert(t, &k, &tg, 10, &st), 0);
	}
	key_n(&k, 64);
	tg = 1;
	assert_int_equal(dct_insert(t, &k, &tg, 10, &st), -ENOSPC);
	assert_int_equal(dct_insert(t, &k, &tg, 10, &st), -ENOSPC);
	assert_int_equal(st.insert_full, 2);
	assert_int_equal(dct_count(t), 64);
	/* a connection that is there is still found when full */
	key_n(&k, 3);
	tg = 1;
	assert_int_equal(dct_insert(t, &k, &tg, 10, &st), -EEXIST);
	assert_int_equal(tg, target_of(3));

	/* close one, age it out, and there is room again */
	assert_int_equal(lookup_one(t, &k, DCT_TCP_RST, 20, &st), target_of(3));
	assert_int_equal(age_all(t, 20 + CLOSING + 1), 1);
	key_n(&k, 64);
	tg = 1;
	assert_int_equal(dct_insert(t, &k, &tg, 200, &st), 0);
	assert_int_equal(dct_count(t), 64);
	assert_int_equal(st.insert_full, 2);
	dct_free(t);
}

/* -- closing, timeouts, refresh ---------------------------------------------------------------- */

struct walk_rec {
	unsigned int calls;
	unsigned int by_state[DCT_STATE_COUNT];
	struct dct_key key;
	uint16_t target;
	uint8_t state;
	uint64_t last_seen;
};

static void
walk_record(const struct dct_key *key, uint16_t target, uint8_t state, uint64_t last_seen,
	    void *arg)
{
	struct walk_rec *w = arg;

	w->calls++;
	if (state < DCT_STATE_COUNT)
		w->by_state[state]++;
	w->key = *key;
	w->target = target;
	w->state = state;
	w->last_seen = last_seen;
}

static const struct flags_case {
	uint8_t flags;
	bool closes;
} flags_cases[] = {
	{ DCT_TCP_FIN, true },
	{ DCT_TCP_RST, true },
	{ DCT_TCP_FIN | ACK, true },
	{ DCT_TCP_RST | ACK, true },
	{ DCT_TCP_FIN | PSH | ACK, true },
	{ ACK, false },
	{ DCT_TCP_SYN, false },
	{ PSH | ACK, false },
	{ 0, false },
};

static void
test_fin_rst_closing(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < sizeof(flags_cases) / sizeof(flags_cases[0]); c++) {
		const struct flags_case *fc = &flags_cases[c];
		struct dct *t = new_table("dct_closing", 100, IDLE, CLOSING, NULL);
		struct dct_lcore_stats st = { 0 };
		struct walk_rec w = { 0 };
		const uint64_t t0 = 1000, t1 = 2000;
		uint64_t end = fc->closes ? t1 + CLOSING : t1 + IDLE;
		struct dct_key k;
		uint16_t tg = 7;

		print_message("flags 0x%02x\n", fc->flags);
		key_n(&k, 42);
		assert_int_equal(dct_insert(t, &k, &tg, t0, &st), 0);
		assert_int_equal(lookup_one(t, &k, fc->flags, t1, &st), 7);
		assert_int_equal(st.closing_marks, fc->closes ? 1 : 0);
		assert_int_equal(dct_walk(t, 10, walk_record, &w), 1);
		assert_int_equal(w.state, fc->closes ? DCT_STATE_CLOSING : DCT_STATE_OPEN);
		assert_int_equal(w.last_seen, t1);
		assert_string_equal(dct_state_name(w.state), fc->closes ? "closing" : "open");
		if (fc->closes) {
			/* a second FIN is not a second mark */
			assert_int_equal(lookup_one(t, &k, DCT_TCP_FIN, t1, &st), 7);
			assert_int_equal(st.closing_marks, 1);
		}
		assert_int_equal(age_all(t, end), 0); /* not before the timeout */
		assert_int_equal(dct_count(t), 1);
		assert_int_equal(age_all(t, end + 1), 1);
		assert_int_equal(lookup_one(t, &k, ACK, end + 2, &st), DCT_NO_TARGET);
		assert_int_equal(dct_count(t), 0);
		assert_int_equal(dct_count_target(t, 7), 0);
		dct_free(t);
	}
}

static void
test_idle_and_refresh(void **state)
{
	struct dct *t = new_table("dct_idle", 100, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key a, b;
	uint16_t tg = 1;

	(void)state;
	key_n(&a, 1);
	key_n(&b, 2);
	assert_int_equal(dct_insert(t, &a, &tg, 0, &st), 0);
	tg = 2;
	assert_int_equal(dct_insert(t, &b, &tg, 0, &st), 0);
	assert_int_equal(lookup_one(t, &b, ACK, 5000, &st), 2); /* b is refreshed */

	assert_int_equal(age_all(t, IDLE), 0);
	assert_int_equal(age_all(t, IDLE + 1), 1);
	assert_int_equal(lookup_one(t, &a, ACK, IDLE + 2, &st), DCT_NO_TARGET);
	assert_int_equal(lookup_one(t, &b, ACK, IDLE + 2, &st), 2);
	/* that lookup refreshed b again */
	assert_int_equal(age_all(t, IDLE + 2 + IDLE), 0);
	assert_int_equal(age_all(t, IDLE + 2 + IDLE + 1), 1);
	assert_int_equal(dct_count(t), 0);
	dct_free(t);
}

static void
test_refresh_is_coarse(void **state)
{
	struct dct *t = new_table("dct_refresh", 100, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct walk_rec w;
	struct dct_key k;
	uint16_t tg = 3;
	static const struct {
		uint64_t now;
		uint64_t last_seen; /* after the lookup */
	} steps[] = {
		/* the insert */
		{ 100, 100 },
		/* within REFRESH of the stored time: the entry is not written */
		{ 105, 100 },
		{ 110, 100 },
		{ 111, 111 },
		{ 115, 111 },
		{ 121, 111 },
		{ 122, 122 },
		{ 5000, 5000 },
		/* an older clock (another lcore's) never moves it back */
		{ 4990, 5000 },
	};

	(void)state;
	key_n(&k, 9);
	assert_int_equal(dct_insert(t, &k, &tg, steps[0].now, &st), 0);
	for (unsigned int i = 1; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(lookup_one(t, &k, ACK, steps[i].now, &st), 3);
		memset(&w, 0, sizeof(w));
		assert_int_equal(dct_walk(t, 1, walk_record, &w), 1);
		if (w.last_seen != steps[i].last_seen)
			fail_msg("step %u: last seen %" PRIu64 ", expected %" PRIu64, i,
				 w.last_seen, steps[i].last_seen);
	}
	dct_free(t);
}

static void
test_budgeted_aging(void **state)
{
	struct dct *t = new_table("dct_budget", 1000, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	const uint32_t n = 300, budget = 64;
	uint32_t slots = dct_slots(t), removed = 0, calls = 0;
	struct dct_key k;

	(void)state;
	assert_true(slots > 1000);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t tg = target_of(i);

		key_n(&k, i);
		assert_int_equal(dct_insert(t, &k, &tg, 0, &st), 0);
	}
	/* one round of slots in calls of `budget`: each call removes at most `budget`, and because
	 * each resumes where the last stopped the round removes every entry exactly once */
	for (uint32_t scanned = 0; scanned < slots; scanned += budget) {
		uint32_t r = dct_age(t, IDLE + 1, budget);

		assert_true(r <= budget);
		if (calls == 0)
			assert_true(r < n);
		removed += r;
		calls++;
		assert_int_equal(dct_count(t), n - removed);
	}
	assert_int_equal(removed, n);
	assert_int_equal(calls, (slots + budget - 1) / budget);
	assert_int_equal(age_all(t, IDLE + 1), 0);
	assert_int_equal(dct_age(t, IDLE + 1, 0), 0);
	dct_free(t);
}

static void
test_remove_target(void **state)
{
	struct dct *t = new_table("dct_rmtarget", 100, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key keys[30];
	uint16_t target[30];

	(void)state;
	for (uint32_t i = 0; i < 30; i++) {
		uint16_t tg = (uint16_t)(i % 3);

		key_n(&keys[i], i);
		assert_int_equal(dct_insert(t, &keys[i], &tg, 0, &st), 0);
	}
	/* one of target 1's connections is closing: it goes as well */
	assert_int_equal(lookup_one(t, &keys[1], DCT_TCP_FIN, 1, &st), 1);
	assert_int_equal(dct_remove_target(t, 1), 10);
	assert_int_equal(dct_count(t), 20);
	assert_int_equal(dct_count_target(t, 0), 10);
	assert_int_equal(dct_count_target(t, 1), 0);
	assert_int_equal(dct_count_target(t, 2), 10);

	uint64_t hits = dct_lookup_burst(t, keys, NULL, 30, target, 2, &st);

	for (uint32_t i = 0; i < 30; i++) {
		assert_int_equal(hits >> i & 1, i % 3 != 1);
		if (i % 3 != 1)
			assert_int_equal(target[i], i % 3);
	}
	assert_int_equal(dct_remove_target(t, 1), 0);
	assert_int_equal(dct_remove_target(t, DCT_MAX_TARGETS), 0);
	/* the connections can come back (to another target) */
	uint16_t tg = 2;

	assert_int_equal(dct_insert(t, &keys[1], &tg, 3, &st), 0);
	assert_int_equal(dct_count_target(t, 2), 11);
	dct_free(t);
}

static void
test_walk(void **state)
{
	struct dct *t = new_table("dct_walk", 100, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct walk_rec w = { 0 };
	struct dct_key k;

	(void)state;
	for (uint32_t i = 0; i < 50; i++) {
		uint16_t tg = target_of(i);

		key_n(&k, i);
		assert_int_equal(dct_insert(t, &k, &tg, 0, &st), 0);
		if (i % 10 == 0)
			assert_int_equal(lookup_one(t, &k, DCT_TCP_FIN, 1, &st), target_of(i));
	}
	assert_int_equal(dct_walk(t, 10, walk_record, &w), 10);
	assert_int_equal(w.calls, 10);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dct_walk(t, 1000, walk_record, &w), 50);
	assert_int_equal(w.calls, 50);
	assert_int_equal(w.by_state[DCT_STATE_OPEN], 45);
	assert_int_equal(w.by_state[DCT_STATE_CLOSING], 5);
	assert_true(n_of_key(&w.key) < 50);
	assert_int_equal(w.target, target_of(n_of_key(&w.key)));
	assert_int_equal(dct_walk(t, 0, walk_record, &w), 0);
	dct_free(t);
}

/* Removed slots wait for the readers' grace period before they are handed out again. */
static void
test_rcu_deferred_reuse(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *v = rte_zmalloc("test_qsbr", sz, RTE_CACHE_LINE_SIZE);
	struct dct_lcore_stats st = { 0 };
	struct dct_key k;

	(void)state;
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(v, 0), 0);
	rte_rcu_qsbr_thread_online(v, 0);

	struct dct *t = new_table("dct_rcu", 100, IDLE, CLOSING, v);

	for (uint32_t i = 0; i < 10; i++) {
		uint16_t tg = 4;

		key_n(&k, i);
		assert_int_equal(dct_insert(t, &k, &tg, 0, &st), 0);
		assert_int_equal(lookup_one(t, &k, DCT_TCP_FIN, 1, &st), 4);
	}
	assert_int_equal(age_all(t, 1 + CLOSING + 1), 10);
	assert_int_equal(dct_count(t), 0);
	assert_int_equal(dct_pending(t), 10);
	/* the reader (thread 0) has not passed a quiescent state: nothing is freed */
	assert_int_equal(age_all(t, 1000), 0);
	assert_int_equal(dct_pending(t), 10);
	/* removed keys are gone for lookups and may be inserted again meanwhile (new slots) */
	key_n(&k, 3);
	assert_int_equal(lookup_one(t, &k, ACK, 1000, &st), DCT_NO_TARGET);
	uint16_t tg = 6;

	assert_int_equal(dct_insert(t, &k, &tg, 1000, &st), 0);
	assert_int_equal(lookup_one(t, &k, ACK, 1001, &st), 6);

	rte_rcu_qsbr_quiescent(v, 0);
	assert_int_equal(dct_age(t, 1002, 0), 0);
	assert_int_equal(dct_pending(t), 0);
	assert_int_equal(lookup_one(t, &k, ACK, 1003, &st), 6);
	assert_int_equal(dct_count(t), 1);

	rte_rcu_qsbr_thread_offline(v, 0);
	rte_rcu_qsbr_thread_unregister(v, 0);
	dct_free(t);
	rte_free(v);
}

/* -- concurrency ------------------------------------------------------------------------------- */

/*
 * Two registered threads, each: inserts its own long-lived connections, then the shared
 * connections (both threads insert the same ones at once, racing); then per round inserts fresh
 * short-lived
 * connections, looks up long-lived ones (all must hit with their target) and sends FIN on the
 * previous round's short-lived ones (all must hit). Meanwhile the main thread advances the clock
 * and ages with a small budget, removing closing entries and recycling their slots after grace
 * periods: more connections pass through than the table has slots. A hit with the wrong target
 * would show a slot reused too early.
 */
#define CONC_LIVE   20000
#define CONC_SHARED 4000 /* even */
#define CONC_EPH    4096 /* short-lived keys per thread, reused cyclically */
#define CONC_ROUNDS 3000
#define CONC_BATCH  16
#define NS_LIVE(w)  ((uint32_t)(1 + (w)) << 20)
#define NS_SHARED   (3u << 20)
#define NS_EPH(w)   ((uint32_t)(4 + (w)) << 20)

struct conc_worker {
	pthread_t thread;
	unsigned int idx;
	struct dct *t;
	struct rte_rcu_qsbr *v;
	struct dct_lcore_stats st;
	int shared_ret[CONC_SHARED];
	uint16_t shared_target[CONC_SHARED];
	uint64_t eph_inserted;
	uint64_t errors;
	char first_error[160];
};

static _Atomic uint64_t conc_clock;
static _Atomic unsigned int conc_done;
static _Atomic unsigned int conc_ready;

static void
conc_error(struct conc_worker *w, const char *what, uint32_t n, int a, int b)
{
	if (w->errors++ == 0)
		snprintf(w->first_error, sizeof(w->first_error), "thread %u: %s (key %#x: %d %d)",
			 w->idx, what, n, a, b);
}

static void conc_work(struct conc_worker *w);

static void *
conc_run(void *arg)
{
	conc_work(arg);
	atomic_fetch_add(&conc_done, 1);
	return NULL;
}

static void
conc_work(struct conc_worker *w)
{
	struct dct_key keys[CONC_BATCH * 3], prev[CONC_BATCH];
	uint32_t prev_n[CONC_BATCH];
	uint16_t target[CONC_BATCH * 3];
	uint8_t flags[CONC_BATCH * 3];
	unsigned int nprev = 0, lcore;
	uint32_t eph_next = 0;
	cpu_set_t all;

	/* threads inherit the main lcore's single-CPU affinity: let them run in parallel */
	CPU_ZERO(&all);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	if (rte_thread_register() != 0) {
		conc_error(w, "rte_thread_register", 0, rte_errno, 0);
		return;
	}
	lcore = rte_lcore_id();
	rte_rcu_qsbr_thread_register(w->v, lcore);
	rte_rcu_qsbr_thread_online(w->v, lcore);

	for (uint32_t i = 0; i < CONC_LIVE; i++) {
		uint32_t n = NS_LIVE(w->idx) | i;
		uint16_t tg = target_of(n);
		int r;

		key_n(&keys[0], n);
		r = dct_insert(w->t, &keys[0], &tg, atomic_load(&conc_clock), &w->st);
		if (r != 0)
			conc_error(w, "live insert", n, r, 0);
		if (i % 64 == 0)
			rte_rcu_qsbr_quiescent(w->v, lcore);
	}
	/* shared connections: both threads at once, racing; thread 1 takes them in pairs swapped
	 * (1, 0, 3, 2, ...), so neither can simply lead */
	atomic_fetch_add(&conc_ready, 1);
	while (atomic_load(&conc_ready) < 2)
		;
	for (uint32_t i = 0; i < CONC_SHARED; i++) {
		uint32_t j = i ^ w->idx;
		uint16_t tg = (uint16_t)(40 + w->idx);

		key_n(&keys[0], NS_SHARED | j);
		w->shared_ret[j] =
			dct_insert(w->t, &keys[0], &tg, atomic_load(&conc_clock), &w->st);
		w->shared_target[j] = tg;
		if (i % 64 == 0)
			rte_rcu_qsbr_quiescent(w->v, lcore);
	}
	atomic_fetch_add(&conc_ready, 1);

	uint64_t now = 0;

	for (uint32_t round = 0; round <= CONC_ROUNDS; round++) {
		uint64_t hits;

		/* one round per tick of the control thread's clock, so that it keeps up */
		while (atomic_load(&conc_clock) == now)
			sched_yield();
		now = atomic_load(&conc_clock);

		/* FIN on the previous round's short-lived connections: each must still be there */
		memset(flags, DCT_TCP_FIN | ACK, sizeof(flags));
		hits = dct_lookup_burst(w->t, prev, flags, (uint16_t)nprev, target, now, &w->st);
		for (unsigned int i = 0; i < nprev; i++) {
			if ((hits >> i & 1) == 0)
				conc_error(w, "short-lived connection lost", prev_n[i], 0, 0);
			else if (target[i] != target_of(prev_n[i]))
				conc_error(w, "short-lived target", prev_n[i], target[i],
					   target_of(prev_n[i]));
		}
		nprev = 0;
		if (round == CONC_ROUNDS)
			break;
		/* fresh short-lived connections; an old instance may still be closing */
		for (unsigned int i = 0; i < CONC_BATCH; i++) {
			uint32_t n = NS_EPH(w->idx) | (eph_next++ % CONC_EPH);
			uint16_t tg = target_of(n);
			int r;

			key_n(&prev[nprev], n);
			r = dct_insert(w->t, &prev[nprev], &tg, now, &w->st);
			if (r == 0) {
				w->eph_inserted++;
				prev_n[nprev++] = n;
			} else if (r != -EEXIST || tg != target_of(n)) {
				conc_error(w, "short-lived insert", n, r, tg);
			}
		}
		/* long-lived connections: all hit, right target; and the connections closed in
		 * an earlier round, which the control thread is removing now: hit or miss, but a
		 * hit has their target */
		for (unsigned int i = 0; i < CONC_BATCH * 2; i++)
			key_n(&keys[i], NS_LIVE(w->idx) | ((round * 37 + i * 613) % CONC_LIVE));
		for (unsigned int i = 0; i < CONC_BATCH; i++)
			key_n(&keys[CONC_BATCH * 2 + i],
			      NS_EPH(w->idx) | ((eph_next - 3 * CONC_BATCH + i) % CONC_EPH));
		memset(flags, ACK, sizeof(flags));
		hits = dct_lookup_burst(w->t, keys, flags, CONC_BATCH * 3, target, now, &w->st);
		for (unsigned int i = 0; i < CONC_BATCH * 3; i++) {
			uint32_t n = n_of_key(&keys[i]);
			bool hit = (hits >> i & 1) != 0;

			if ((i < CONC_BATCH * 2 && !hit) || (hit && target[i] != target_of(n)))
				conc_error(w, "lookup", n, hit, target[i]);
		}
		rte_rcu_qsbr_quiescent(w->v, lcore);
	}
	rte_rcu_qsbr_thread_offline(w->v, lcore);
	rte_rcu_qsbr_thread_unregister(w->v, lcore);
	rte_thread_unregister();
}

struct conc_check {
	const struct conc_worker *w;
	unsigned int bad;
	unsigned int n;
};

static void
conc_walk(const struct dct_key *key, uint16_t target, uint8_t state, uint64_t last_seen, void *arg)
{
	struct conc_check *c = arg;
	uint32_t n = n_of_key(key);
	uint16_t expect =
		(n & ~0xfffffu) == NS_SHARED ? c->w[0].shared_target[n & 0xfffff] : target_of(n);

	(void)last_seen;
	c->n++;
	if (target != expect || state != DCT_STATE_OPEN || (n >> 20) > 3)
		c->bad++;
}

static void
test_concurrency(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	struct rte_rcu_qsbr *v = rte_zmalloc("conc_qsbr", sz, RTE_CACHE_LINE_SIZE);
	static struct conc_worker w[2];
	struct dct_lcore_stats sum, per[2];
	uint64_t removed = 0, expect_target[DCT_MAX_TARGETS] = { 0 };

	(void)state;
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, RTE_MAX_LCORE), 0);
	/* idle never expires: only closing entries (the short-lived ones) may be removed */
	struct dct *t = new_table("dct_conc", 2 * CONC_LIVE + CONC_SHARED + 2 * CONC_EPH,
				  UINT64_MAX / 4, 2, v);

	atomic_store(&conc_clock, 1);
	atomic_store(&conc_done, 0);
	atomic_store(&conc_ready, 0);
	for (unsigned int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		w[i].t = t;
		w[i].v = v;
		assert_int_equal(pthread_create(&w[i].thread, NULL, conc_run, &w[i]), 0);
	}
	/* the control thread: keeps out of the way while the workers race (this may be a
	 * two-CPU machine), then ages in small steps until both are done */
	while (atomic_load(&conc_ready) < 4 && atomic_load(&conc_done) < 2)
		usleep(100);
	while (atomic_load(&conc_done) < 2) {
		uint64_t now = atomic_fetch_add(&conc_clock, 1) + 1;

		removed += dct_age(t, now, 4096);
		sched_yield();
	}
	for (unsigned int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (unsigned int i = 0; i < 2; i++)
		if (w[i].errors != 0)
			fail_msg("%s (%" PRIu64 " errors)", w[i].first_error, w[i].errors);
	uint64_t removed_running = removed, eph = w[0].eph_inserted + w[1].eph_inserted;

	/* the churn was real: most short-lived connections went in fresh, and the slots were
	 * recycled while the threads ran */
	assert_true(eph > CONC_ROUNDS * CONC_BATCH);
	assert_true(removed_running > eph / 2);
	assert_true(2 * CONC_LIVE + CONC_SHARED + eph > dct_slots(t));
	/* everything closing goes; readers are gone, so every slot is freed */
	atomic_fetch_add(&conc_clock, 10);
	removed += age_all(t, atomic_load(&conc_clock));
	removed += age_all(t, atomic_load(&conc_clock));
	assert_int_equal(dct_pending(t), 0);
	assert_int_equal(removed, w[0].eph_inserted + w[1].eph_inserted);

	/* the shared connections: one winner each, both packets to the same target */
	unsigned int won[2] = { 0 };

	for (uint32_t j = 0; j < CONC_SHARED; j++) {
		struct dct_key k;
		uint16_t tg = DCT_NO_TARGET;
		struct dct_lcore_stats st = { 0 };

		assert_true((w[0].shared_ret[j] == 0 && w[1].shared_ret[j] == -EEXIST) ||
			    (w[0].shared_ret[j] == -EEXIST && w[1].shared_ret[j] == 0));
		won[w[0].shared_ret[j] == 0 ? 0 : 1]++;
		assert_int_equal(w[0].shared_target[j], w[1].shared_target[j]);
		key_n(&k, NS_SHARED | j);
		assert_int_equal(dct_lookup_burst(t, &k, NULL, 1, &tg, 0, &st), 1);
		assert_int_equal(tg, w[0].shared_target[j]);
		expect_target[tg]++;
	}
	print_message("shared connections won: thread 0 %u, thread 1 %u; short-lived %" PRIu64
		      " + %" PRIu64 ", removed %" PRIu64 " (%" PRIu64 " while running), %u slots\n",
		      won[0], won[1], w[0].eph_inserted, w[1].eph_inserted, removed,
		      removed_running, dct_slots(t));

	/* nothing lost, nothing extra, counters agree */
	for (unsigned int i = 0; i < 2; i++)
		for (uint32_t j = 0; j < CONC_LIVE; j++)
			expect_target[target_of(NS_LIVE(i) | j)]++;
	assert_int_equal(dct_count(t), 2 * CONC_LIVE + CONC_SHARED);
	for (uint16_t i = 0; i < DCT_MAX_TARGETS; i++)
		assert_int_equal(dct_count_target(t, i), expect_target[i]);
	struct conc_check c = { .w = w };

	assert_int_equal(dct_walk(t, UINT32_MAX, conc_walk, &c), 2 * CONC_LIVE + CONC_SHARED);
	assert_int_equal(c.bad, 0);

	per[0] = w[0].st;
	per[1] = w[1].st;
	dct_stats_sum(per, 2, &sum);
	assert_int_equal(sum.inserts,
			 2 * CONC_LIVE + CONC_SHARED + w[0].eph_inserted + w[1].eph_inserted);
	assert_int_equal(sum.closing_marks, w[0].eph_inserted + w[1].eph_inserted);
	assert_int_equal(sum.insert_full, 0);
	assert_true(sum.insert_exists >= CONC_SHARED);
	assert_int_equal(sum.lookups, sum.hits + sum.misses);
	dct_free(t);
	rte_free(v);
}

/* -- 1M connections ---------------------------------------------------------------------------- */

static void
test_fill_1m(void **state)
{
	const uint32_t n = 1u << 20;
	struct dct *t = new_table("dct_1m", n + n / 16, IDLE, CLOSING, NULL);
	struct dct_lcore_stats st = { 0 };
	struct dct_key keys[DCT_BURST_MAX];
	uint16_t target[DCT_BURST_MAX];

	(void)state;
	print_message("1M table: %u slots, %zu MiB\n", dct_slots(t), dct_memory(t) >> 20);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t tg = target_of(i);

		key_n(&keys[0], i);
		if (dct_insert(t, &keys[0], &tg, 1, &st) != 0)
			fail_msg("insert %u of 1M failed", i);
	}
	assert_int_equal(dct_count(t), n);
	assert_int_equal(st.insert_full, 0);
	for (uint32_t i = 0; i < n; i += DCT_BURST_MAX) {
		for (uint32_t j = 0; j < DCT_BURST_MAX; j++)
			key_n(&keys[j], i + j);
		uint64_t hits = dct_lookup_burst(t, keys, NULL, DCT_BURST_MAX, target, 2, &st);

		if (hits != UINT64_MAX)
			fail_msg("burst at %u: hits %#" PRIx64, i, hits);
		for (uint32_t j = 0; j < DCT_BURST_MAX; j++)
			assert_int_equal(target[j], target_of(i + j));
	}
	/* and keys that are not there */
	for (uint32_t j = 0; j < DCT_BURST_MAX; j++)
		key_n(&keys[j], n + j);
	assert_int_equal(dct_lookup_burst(t, keys, NULL, DCT_BURST_MAX, target, 2, &st), 0);
	assert_int_equal(st.hits, n);
	assert_int_equal(st.misses, DCT_BURST_MAX);
	/* all idle: aged out in one full pass */
	assert_int_equal(age_all(t, 2 + IDLE + 1), n);
	assert_int_equal(dct_count(t), 0);
	dct_free(t);
}

static void
eal_init(const char *prog)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=dvdct%d", (int)getpid());
	/* the 1M table takes about 130 MiB of EAL heap */
	char *argv[] = { (char *)prog, "--no-huge", "--no-pci",	   "-m",   "768",
			 "-l",	       "0",	    "--no-shconf", prefix, "--log-level=*:error",
			 NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init: %s\n", prog, rte_strerror(rte_errno));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	(void)argc;
	eal_init(argv[0]);
	const struct CMUnitTest tests[] = {
		/* the table */
		cmocka_unit_test(test_key_layout),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_insert_exists),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_fin_rst_closing),
		cmocka_unit_test(test_idle_and_refresh),
		cmocka_unit_test(test_refresh_is_coarse),
		cmocka_unit_test(test_budgeted_aging),
		cmocka_unit_test(test_remove_target),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_rcu_deferred_reuse),
		/* target choice */
		/* threads, size */
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_fill_1m),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rte_eal_cleanup();
	return rc;
}
