/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Coupling facility: allocation cost (ns per cf_seq_take() with 1 and 2 threads on one SA slot, the
 * contended case of two targets sending on the same SA, blocks of 1 and 32), and a model of the
 * order on the wire: two "targets" take blocks and send each number after ~100 ns of work (the
 * encryption), appending to one shared wire; the reorder depth (how far below the highest number
 * already sent a number arrives) is what the peer's replay window must cover (strongSwan: 32).
 * Prints tables; nothing is asserted.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cf.h"

#define OPS 2000000

struct arg {
	struct cf *cf;
	uint32_t block;
	double ns;
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *
run(void *p)
{
	struct arg *a = p;
	double t0 = now_ns();

	for (int i = 0; i < OPS; i++)
		if (cf_seq_take(a->cf, 0, a->block, 1) == 0)
			break;
	a->ns = (now_ns() - t0) / OPS;
	return NULL;
}

#define WIRE_N (1u << 21)

static uint64_t *wire;
static _Atomic uint32_t wire_pos;

struct wire_arg {
	struct cf *cf;
	uint32_t block;
};

static void
spin_ns(double ns)
{
	double end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void *
send_blocks(void *p)
{
	struct wire_arg *a = p;

	for (;;) {
		uint64_t first = cf_seq_take(a->cf, 1, a->block, 1);

		for (uint32_t j = 0; j < a->block; j++) {
			spin_ns(100); /* the packet's encryption */
			uint32_t at = atomic_fetch_add(&wire_pos, 1);

			if (at >= WIRE_N)
				return NULL;
			wire[at] = first + j;
		}
	}
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void
reorder_model(const char *name)
{
	static uint64_t depth[WIRE_N];

	wire = calloc(WIRE_N, sizeof(*wire));
	if (wire == NULL)
		return;
	printf("\n| targets | block | reorder depth p50 | p99 | p99.99 | max "
	       "|\n|---|---|---|---|---|---|\n");
	for (uint32_t block = 1; block <= 32; block *= 2) {
		struct wire_arg a[2];
		pthread_t th[2];
		uint64_t top = 0;

		atomic_store(&wire_pos, 0);
		for (int t = 0; t < 2; t++) {
			a[t] = (struct wire_arg){ cf_open(name, 4), block };
			if (a[t].cf == NULL)
				return;
		}
		cf_seq_init(a[0].cf, 1, 0);
		for (int t = 0; t < 2; t++)
			pthread_create(&th[t], NULL, send_blocks, &a[t]);
		for (int t = 0; t < 2; t++) {
			pthread_join(th[t], NULL);
			cf_close(a[t].cf);
		}
		for (uint32_t i = 0; i < WIRE_N; i++) {
			depth[i] = wire[i] < top ? top - wire[i] : 0;
			if (wire[i] > top)
				top = wire[i];
		}
		qsort(depth, WIRE_N, sizeof(depth[0]), cmp_u64);
		printf("| 2 | %u | %llu | %llu | %llu | %llu |\n", block,
		       (unsigned long long)depth[WIRE_N / 2],
		       (unsigned long long)depth[(uint64_t)WIRE_N * 99 / 100],
		       (unsigned long long)depth[(uint64_t)WIRE_N * 9999 / 10000],
		       (unsigned long long)depth[WIRE_N - 1]);
	}
	free(wire);
}

int
main(void)
{
	char name[64];

	snprintf(name, sizeof(name), "/dvipsec-cf-bench-%d", (int)getpid());
	printf("| threads | block | ns per take | ns per number |\n|---|---|---|---|\n");
	for (int threads = 1; threads <= 2; threads++) {
		for (uint32_t block = 1; block <= 32; block *= 32) {
			struct arg a[2];
			pthread_t th[2];

			for (int t = 0; t < threads; t++) {
				a[t] = (struct arg){ cf_open(name, 4), block, 0 };
				if (a[t].cf == NULL)
					return 1;
			}
			for (int t = 0; t < threads; t++)
				pthread_create(&th[t], NULL, run, &a[t]);
			double ns = 0;

			for (int t = 0; t < threads; t++) {
				pthread_join(th[t], NULL);
				ns += a[t].ns / threads;
				cf_close(a[t].cf);
			}
			printf("| %d | %u | %.1f | %.2f |\n", threads, block, ns, ns / block);
		}
	}
	reorder_model(name);
	shm_unlink(name);
	return 0;
}
