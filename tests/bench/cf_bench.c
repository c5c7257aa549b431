/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Coupling facility allocation cost: ns per cf_seq_take() with 1 and 2 threads on one SA slot (the
 * contended case: two targets sending on the same SA), for blocks of 1 and 32 numbers. Prints a
 * table; nothing is asserted.
 */
#include <pthread.h>
#include <stdio.h>
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
	shm_unlink(name);
	return 0;
}
