/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shadow SA cache under a reader lcore: the control thread replaces the SA of a slot thousands
 * of times while a reader looks it up and reads it; every retired SA is poisoned just before it is
 * freed, so a reader that could still see it after its grace period would read the poison (and
 * ASan would flag the use after free in the sanitizer build). Generations refuse stale updates.
 */
#include <errno.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <string.h>

#include <cmocka.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "esp.h"
#include "shc.h"
#include "test_common.h"

#define POISON	 0xdeadbeefu
#define REPLACES 3000
#define SPI_BASE 0x10000u

static struct esp_lcore lc;
static struct rte_rcu_qsbr *qsbr;
static struct shc *cache;
static atomic_bool stop;
static atomic_uint_fast64_t seen, bad;
static uint64_t freed_by_hook;

static void
poison_free(struct esp_sa *sa)
{
	sa->rt.spi_be = POISON;
	freed_by_hook++;
	esp_sa_free(sa);
}

static struct esp_sa *
make_sa(uint32_t spi)
{
	static const uint8_t keymat[20] = { 1, 2, 3 };
	struct esp_sa_params p = { .spi = spi,
				   .dir = ESP_DIR_INBOUND,
				   .aead = ESP_AEAD_AES128_GCM16,
				   .mode = ESP_MODE_TUNNEL,
				   .keymat = keymat,
				   .keymat_len = sizeof(keymat),
				   .replay_window = 64 };
	struct esp_sa *sa;

	p.local.family = p.remote.family = 4;
	assert_int_equal(esp_sa_create(&p, &lc, &sa), 0);
	return sa;
}

static int
reader(void *arg)
{
	unsigned int id = rte_lcore_id();

	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, id);
	rte_rcu_qsbr_thread_online(qsbr, id);
	while (!atomic_load(&stop)) {
		for (int k = 0; k < 16; k++) { /* a "burst" */
			struct esp_sa *sa = shc_lookup(cache, 0);

			if (sa == NULL)
				continue;
			uint32_t spi = rte_be_to_cpu_32(sa->rt.spi_be);

			if (spi < SPI_BASE || spi > SPI_BASE + REPLACES)
				atomic_fetch_add(&bad, 1);
			atomic_fetch_add(&seen, 1);
		}
		rte_rcu_qsbr_quiescent(qsbr, id);
	}
	rte_rcu_qsbr_thread_offline(qsbr, id);
	rte_rcu_qsbr_thread_unregister(qsbr, id);
	return 0;
}

static void
test_replace_under_reader(void **state)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);

	(void)state;
	if (worker >= RTE_MAX_LCORE)
		skip();
	assert_int_equal(shc_install(cache, 0, 1, make_sa(SPI_BASE)), 0);
	assert_int_equal(rte_eal_remote_launch(reader, NULL, worker), 0);
	for (uint32_t i = 1; i <= REPLACES; i++) {
		int rc;

		while ((rc = shc_install(cache, 0, 1 + i, make_sa(SPI_BASE + i))) == -ENOSPC)
			shc_reclaim(cache);
		assert_int_equal(rc, 0);
		shc_reclaim(cache);
	}
	/* let the reader pass a few more quiescent states, then everything retired can go */
	uint64_t s0 = atomic_load(&seen);

	while (atomic_load(&seen) < s0 + 1000)
		rte_pause();
	while (cache->n_retired != 0)
		shc_reclaim(cache);
	atomic_store(&stop, true);
	rte_eal_wait_lcore(worker);
	assert_int_equal(atomic_load(&bad), 0);
	assert_true(atomic_load(&seen) > 0);
	assert_int_equal(freed_by_hook, REPLACES);
	assert_int_equal(rte_be_to_cpu_32(shc_lookup(cache, 0)->rt.spi_be), SPI_BASE + REPLACES);
}

static void
test_generations(void **state)
{
	struct esp_sa *a = make_sa(0x4200), *b = make_sa(0x4300);

	(void)state;
	assert_int_equal(shc_install(cache, 5, 10, a), 0);
	assert_int_equal(shc_install(cache, 5, 10, b), -ESTALE); /* replayed */
	assert_int_equal(shc_install(cache, 5, 9, b), -ESTALE);	 /* older */
	assert_ptr_equal(shc_lookup(cache, 5), a);
	assert_int_equal(shc_remove(cache, 5, 10), -ESTALE);
	assert_int_equal(shc_remove(cache, 5, 11), 0);
	assert_null(shc_lookup(cache, 5));
	assert_int_equal(shc_remove(cache, 5, 12), -ENOENT);
	assert_int_equal(shc_install(cache, 64, 1, b), -EINVAL);
	assert_null(shc_lookup(cache, 64));
	esp_sa_free(b);
	/* no reader is registered now: the retired SA goes at once */
	assert_int_equal(shc_reclaim(cache), 1);
}

int
main(int argc, char **argv)
{
	(void)argc;
	t_eal_init(argv[0]);
	if (esp_lcore_init(&lc) < 0)
		return 1;
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE) < 0)
		return 1;
	cache = shc_create(64, qsbr, poison_free);
	if (cache == NULL)
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_under_reader),
		cmocka_unit_test(test_generations),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	shc_free(cache);
	esp_lcore_fini(&lc);
	return rc;
}
