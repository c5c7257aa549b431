/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The embedded coupling facility: sequence numbers of one SA slot taken by several threads (as
 * several targets do) are unique and leave no gaps; blocks stay contiguous; the 32-bit space ends
 * without ESN and every later request is refused; two mappings of the segment share the counters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "cf.h"

#define THREADS 4
#define TAKES	50000
#define BLOCK	3

static char shm_name[64];

struct worker {
	struct cf *cf;
	uint64_t *firsts;
};

static void *
take_many(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < TAKES; i++)
		w->firsts[i] = cf_seq_take(w->cf, 7, BLOCK, 0);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_concurrent_unique(void **state)
{
	struct cf *cf[THREADS];
	struct worker w[THREADS];
	pthread_t th[THREADS];
	uint64_t *all = calloc((size_t)THREADS * TAKES, sizeof(uint64_t));

	(void)state;
	assert_non_null(all);
	for (int t = 0; t < THREADS;
	     t++) { /* each thread maps the segment itself, as a target does */
		cf[t] = cf_open(shm_name, 16);
		assert_non_null(cf[t]);
		w[t] = (struct worker){ cf[t], all + (size_t)t * TAKES };
	}
	assert_int_equal(cf_seq_init(cf[0], 7, 0), 0);
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, take_many, &w[t]), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	/* the block starts are exactly 1, 1 + BLOCK, 1 + 2 BLOCK, ...: no overlap, no gap */
	qsort(all, (size_t)THREADS * TAKES, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < (size_t)THREADS * TAKES; i++)
		if (all[i] != 1 + i * BLOCK)
			fail_msg("block %zu starts at %llu", i, (unsigned long long)all[i]);
	assert_int_equal(cf_seq_peek(cf[1], 7), (uint64_t)THREADS * TAKES * BLOCK);
	for (int t = 0; t < THREADS; t++)
		cf_close(cf[t]);
	free(all);
}

static void
test_limits(void **state)
{
	struct cf *cf = cf_open(shm_name, 16);

	(void)state;
	assert_non_null(cf);
	/* without ESN the last number is 2^32 - 1 */
	assert_int_equal(cf_seq_init(cf, 3, UINT32_MAX - 2), 0);
	assert_int_equal(cf_seq_take(cf, 3, 2, 0), (uint64_t)UINT32_MAX - 1);
	assert_int_equal(cf_seq_take(cf, 3, 1, 0), 0); /* would be 2^32 */
	assert_int_equal(cf_seq_take(cf, 3, 1, 0), 0); /* and stays refused */
	/* with ESN the same slot goes on */
	assert_int_equal(cf_seq_init(cf, 4, UINT32_MAX), 0);
	assert_int_equal(cf_seq_take(cf, 4, 1, 1), (uint64_t)UINT32_MAX + 1);
	/* bad slot, empty request */
	assert_int_equal(cf_seq_take(cf, 16, 1, 0), 0);
	assert_int_equal(cf_seq_take(cf, 2, 0, 0), 0);
	assert_int_equal(cf_seq_init(cf, 16, 0), -EINVAL);
	cf_close(cf);
}

/* A slot's numbers belong to one SA: the same keys bound again (a restart) continue, another SA
 * in the slot (reuse, rekey) starts at 1; the binding is seen through every mapping. */
static void
test_bind(void **state)
{
	static const uint8_t key_a[20] = { 1, 2, 3 }, key_b[20] = { 1, 2, 4 };
	struct cf *cf = cf_open(shm_name, 16), *other = cf_open(shm_name, 16);
	uint64_t a = cf_sa_tag(0x1000, key_a, sizeof(key_a));
	uint64_t b = cf_sa_tag(0x1000, key_b, sizeof(key_b));
	uint64_t a_spi = cf_sa_tag(0x1001, key_a, sizeof(key_a));

	(void)state;
	assert_non_null(cf);
	assert_non_null(other);
	assert_true(a != 0 && a != b && a != a_spi);
	assert_int_equal(a, cf_sa_tag(0x1000, key_a, sizeof(key_a)));
	assert_int_equal(cf_seq_bind(cf, 9, a), 1); /* a fresh slot */
	assert_int_equal(cf_seq_take(cf, 9, 5, 0), 1);
	assert_int_equal(cf_seq_bind(other, 9, a), 0); /* same SA again: continues */
	assert_int_equal(cf_seq_take(other, 9, 1, 0), 6);
	assert_int_equal(cf_seq_bind(other, 9, b), 1); /* new keys in the slot: starts over */
	assert_int_equal(cf_seq_take(cf, 9, 1, 0), 1);
	assert_int_equal(cf_seq_peek(cf, 9), 1);
	/* the inbound high-water mark: only forward, only for the slot's own SA, reset with it */
	assert_int_equal(cf_replay_store(cf, 9, 700), 0);
	assert_int_equal(cf_replay_store(other, 9, 650), 0); /* late: ignored */
	assert_int_equal(cf_replay_load(other, 9, b), 700);
	assert_int_equal(cf_replay_load(cf, 9, a), 0); /* another SA's mark is not ours */
	assert_int_equal(cf_seq_bind(cf, 9, b), 0);
	assert_int_equal(cf_replay_load(cf, 9, b), 700); /* same SA bound again: kept */
	assert_int_equal(cf_seq_bind(cf, 9, a), 1);
	assert_int_equal(cf_replay_load(cf, 9, a), 0); /* new SA in the slot: starts over */
	assert_int_equal(cf_replay_store(cf, 16, 1), -EINVAL);
	assert_int_equal(cf_seq_bind(cf, 16, a), -EINVAL);
	assert_int_equal(cf_seq_bind(cf, 9, 0), -EINVAL);
	cf_close(other);
	cf_close(cf);
}

/* The backend comes from the name's scheme: "/NAME" and "shm:/NAME" are the same segment; a
 * scheme with no backend (a replicated store not built here) is refused as such. */
static void
test_backends(void **state)
{
	char shm_uri[80];
	struct cf *a = cf_open(shm_name, 16), *b;

	(void)state;
	snprintf(shm_uri, sizeof(shm_uri), "shm:%s", shm_name);
	b = cf_open(shm_uri, 16);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(cf_seq_init(a, 5, 41), 0);
	assert_int_equal(cf_seq_take(b, 5, 1, 0), 42);
	cf_close(b);
	cf_close(a);
	errno = 0;
	assert_null(cf_open("replicated:cluster-a", 16));
	assert_int_equal(errno, EPROTONOSUPPORT);
	errno = 0;
	assert_null(cf_open("no-scheme", 16));
	assert_int_equal(errno, EPROTONOSUPPORT);
}

int
main(void)
{
	snprintf(shm_name, sizeof(shm_name), "/dvipsec-cf-test-%d", (int)getpid());

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_unique),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_backends),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	shm_unlink(shm_name);
	return rc;
}
