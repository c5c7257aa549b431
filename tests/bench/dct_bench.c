/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection table benchmark. For a small table (64K connections, cache-friendly) and a large one
 * (1M by default): EAL heap taken (measured, and dct_memory()'s figure), insert cost while filling,
 * lookup cost per key in bursts of 32 random keys (all hits, 25% misses, all misses), and the
 * control thread's aging cost per slot scanned and per entry removed. With a second lcore: two
 * lcores inserting at once (they share rte_hash's writer lock), and lookups on one lcore while the
 * other inserts. Prints TSC cycles (median of runs).
 *
 * Usage: dvipsec-dct-bench [EAL args] -- [--entries N] [--runs N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dct.h"

#define BURST	  32
#define TRACE	  32768 /* bursts in a lookup trace: 1M keys, the whole large table */
#define MAX_RUNS  31
#define SMALL	  (1u << 16)
#define NOW	  1000 /* lookups at the insert time: no last-seen writes, as between refreshes */
#define IDLE_TSC  (UINT64_C(1) << 40)
#define CLOSE_TSC (UINT64_C(1) << 36)

static uint32_t entries = 1u << 20;
static unsigned int runs = 9;
static struct dct_key (*trace)[BURST];

static uint64_t rng = 0x9e3779b97f4a7c15;

static uint64_t
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Key n: a distinct connection for every n < 2^32. */
static void
key_n(struct dct_key *k, uint32_t n)
{
	dct_key_v4(k, n >> 24, rte_cpu_to_be_32(0x0a000000 | (n & 0xffffff)),
		   rte_cpu_to_be_32(0xc0000201), rte_cpu_to_be_16((uint16_t)(1024 + n % 60000)),
		   rte_cpu_to_be_16(443));
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median(uint64_t *v, unsigned int n, double per)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return (double)v[n / 2] / per;
}

static size_t
heap_used(void)
{
	size_t sum = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats s;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0)
			sum += s.heap_allocsz_bytes;
	}
	return sum;
}

static struct dct *
create(const char *name, uint32_t capacity, size_t *measured)
{
	struct dct_params p = {
		.name = name,
		.capacity = capacity,
		.idle_timeout_tsc = IDLE_TSC,
		.closing_timeout_tsc = CLOSE_TSC,
		.socket_id = (int)rte_socket_id(),
	};
	size_t before = heap_used();
	struct dct *t = dct_create(&p);

	if (t == NULL) {
		fprintf(stderr, "dct_create(%u): %s\n", capacity, rte_strerror(rte_errno));
		exit(1);
	}
	*measured = heap_used() - before;
	return t;
}

/* Inserts keys first .. first + n - 1; returns TSC cycles per insert. */
static double
fill(struct dct *t, uint32_t first, uint32_t n, struct dct_lcore_stats *st)
{
	struct dct_key k;
	uint64_t c = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t tg = (uint16_t)(i % DCT_MAX_TARGETS);

		key_n(&k, first + i);
		uint64_t t0 = rte_rdtsc_precise();
		int r = dct_insert(t, &k, &tg, NOW, st);

		c += rte_rdtsc_precise() - t0;
		if (r != 0) {
			fprintf(stderr, "insert %u: %d\n", first + i, r);
			exit(1);
		}
	}
	return (double)c / n;
}

/* A trace of random keys, miss_pct percent of them not in the table (n and above). */
static void
make_trace(uint32_t n, unsigned int miss_pct)
{
	for (unsigned int b = 0; b < TRACE; b++)
		for (unsigned int i = 0; i < BURST; i++) {
			uint64_t r = rand64();
			bool miss = (r >> 40) % 100 < miss_pct;

			key_n(&trace[b][i], miss ? n + (uint32_t)(r % n) : (uint32_t)(r % n));
		}
}

/* Cycles per key over the trace (median of runs); checks the hit count. */
static double
lookups(struct dct *t, uint32_t n, unsigned int miss_pct)
{
	struct dct_lcore_stats st = { 0 };
	uint64_t v[MAX_RUNS];
	uint16_t target[BURST];
	uint64_t expect_hits = 0;

	make_trace(n, miss_pct);
	for (unsigned int b = 0; b < TRACE; b++)
		dct_lookup_burst(t, trace[b], NULL, BURST, target, NOW, &st); /* warm */
	expect_hits = st.hits;
	for (unsigned int r = 0; r < runs; r++) {
		memset(&st, 0, sizeof(st));
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned int b = 0; b < TRACE; b++)
			dct_lookup_burst(t, trace[b], NULL, BURST, target, NOW, &st);
		v[r] = rte_rdtsc_precise() - t0;
		if (st.hits != expect_hits) {
			fprintf(stderr, "lookup hits changed: %" PRIu64 " vs %" PRIu64 "\n",
				st.hits, expect_hits);
			exit(1);
		}
	}
	if (miss_pct == 0 && expect_hits != (uint64_t)TRACE * BURST) {
		fprintf(stderr, "all-hit trace missed %" PRIu64 " keys\n",
			(uint64_t)TRACE * BURST - expect_hits);
		exit(1);
	}
	return median(v, runs, (double)TRACE * BURST);
}

static void
bench_size(const char *name, uint32_t n)
{
	struct dct_lcore_stats st = { 0 };
	size_t measured;
	struct dct *t = create(name, n + n / 16, &measured);
	uint32_t slots = dct_slots(t);

	printf("\n%u connections (capacity %u, %u slots)\n", n, dct_capacity(t), slots);
	printf("  EAL heap        %8.1f MiB measured, %.1f MiB dct_memory(), %.0f B/connection\n",
	       measured / 1048576.0, dct_memory(t) / 1048576.0, (double)measured / n);
	double ins_first = fill(t, 0, n - n / 10, &st);
	double ins_last = fill(t, n - n / 10, n / 10, &st);

	printf("  insert          %8.0f cycles (first 90%%), %.0f (last 10%%)\n", ins_first,
	       ins_last);
	printf("  lookup, hits    %8.1f cycles/key\n", lookups(t, n, 0));
	printf("  lookup, 25%% miss%7.1f cycles/key\n", lookups(t, n, 25));
	printf("  lookup, misses  %8.1f cycles/key\n", lookups(t, n, 100));

	/* aging: a full pass that removes nothing, then one that removes everything */
	uint64_t t0 = rte_rdtsc_precise();
	uint32_t removed = dct_age(t, NOW + 1, slots);
	uint64_t scan = rte_rdtsc_precise() - t0;

	t0 = rte_rdtsc_precise();
	removed += dct_age(t, NOW + IDLE_TSC + 1, slots);
	uint64_t rm = rte_rdtsc_precise() - t0;

	if (removed != n || dct_count(t) != 0) {
		fprintf(stderr, "aging removed %u of %u\n", removed, n);
		exit(1);
	}
	printf("  age, scan only  %8.1f cycles/slot\n", (double)scan / slots);
	printf("  age, remove all %8.0f cycles/entry\n", (double)rm / n);
	dct_free(t);
}

/* -- two lcores -------------------------------------------------------------------------------- */

struct mt_job {
	struct dct *t;
	uint32_t first, n;
	double cycles; /* per insert */
	uint64_t wall;
	_Atomic int *go;
};

static int
mt_insert(void *arg)
{
	struct mt_job *j = arg;
	struct dct_lcore_stats st = { 0 };

	while (atomic_load(j->go) == 0)
		rte_pause();
	uint64_t t0 = rte_rdtsc_precise();

	j->cycles = fill(j->t, j->first, j->n, &st);
	j->wall = rte_rdtsc_precise() - t0;
	return 0;
}

static void
bench_two_lcores(uint32_t n)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	_Atomic int go = 0;
	size_t measured;
	struct mt_job a, b;
	struct dct *t;

	if (worker >= RTE_MAX_LCORE) {
		printf("\n(one lcore: give -l 0,1 for the two-lcore figures)\n");
		return;
	}
	printf("\ntwo lcores (%u and %u)\n", rte_lcore_id(), worker);
	t = create("dct_mt", n + n / 2 + n / 16, &measured);
	a = (struct mt_job){ t, 0, n / 2, 0, 0, &go };
	b = (struct mt_job){ t, n / 2, n - n / 2, 0, 0, &go };
	rte_eal_remote_launch(mt_insert, &b, worker);
	atomic_store(&go, 1);
	mt_insert(&a);
	rte_eal_wait_lcore(worker);
	printf("  insert, both    %8.0f / %.0f cycles per insert on each lcore; %.2f M inserts/s "
	       "together\n",
	       a.cycles, b.cycles, n / ((double)RTE_MAX(a.wall, b.wall) / rte_get_tsc_hz()) / 1e6);

	/* lookups while the worker inserts n / 2 more */
	atomic_store(&go, 0);
	b = (struct mt_job){ t, 2 * n, n / 2, 0, 0, &go };
	make_trace(n, 0);
	rte_eal_remote_launch(mt_insert, &b, worker);
	atomic_store(&go, 1);
	struct dct_lcore_stats st = { 0 };
	uint16_t target[BURST];
	uint64_t keys = 0, c = 0;

	while (rte_eal_get_lcore_state(worker) != WAIT) {
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned int i = 0; i < TRACE; i++)
			dct_lookup_burst(t, trace[i], NULL, BURST, target, NOW, &st);
		c += rte_rdtsc_precise() - t0;
		keys += (uint64_t)TRACE * BURST;
	}
	rte_eal_wait_lcore(worker);
	if (st.hits != keys) {
		fprintf(stderr, "concurrent lookups missed %" PRIu64 "\n", keys - st.hits);
		exit(1);
	}
	printf("  lookup, hits    %8.1f cycles/key while the other lcore inserts (%.0f "
	       "cycles/insert)\n",
	       (double)c / keys, b.cycles);
	dct_free(t);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "entries", required_argument, NULL, 'e' },
					      { "runs", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	int ret = rte_eal_init(argc, argv);
	int c;

	if (ret < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			entries = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [EAL args] -- [--entries N] [--runs N]\n",
				argv[0]);
			return 2;
		}
	}
	if (runs == 0 || runs > MAX_RUNS || entries < SMALL) {
		fprintf(stderr, "--runs 1..%d, --entries >= %u\n", MAX_RUNS, SMALL);
		return 2;
	}
	trace = malloc(sizeof(*trace) * TRACE);
	if (trace == NULL)
		return 1;
	printf("dct benchmark: TSC %.2f GHz, bursts of %d random keys, %u runs (median)\n",
	       rte_get_tsc_hz() / 1e9, BURST, runs);
	bench_size("dct_small", SMALL);
	bench_size("dct_large", entries);
	bench_two_lcores(entries);
	free(trace);
	rte_eal_cleanup();
	return 0;
}
