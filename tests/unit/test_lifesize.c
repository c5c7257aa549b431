/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lifesize accounting as a table of scenarios: targets with skewed shares of an SA's traffic count
 * and report as the router tells them; the router's sum must raise the soft event exactly once,
 * when it reaches the soft limit, with the true count still at or below the hard limit; the sum
 * must never trail the truth by more than the bound in effect; and reports must stay few.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lifesize.h"

#define MAX_T 8

struct scenario {
	const char *name;
	uint64_t soft, hard;
	uint16_t n;
	uint32_t weight[MAX_T]; /* packets per round per target */
	uint32_t pkt;		/* bytes */
	uint64_t max_reports;
};

static void
run(const struct scenario *sc)
{
	struct shc_lifesize_sa sa;
	struct shc_lifesize_local loc[MAX_T] = { 0 };
	uint64_t truth = 0, soft_at = 0, max_lag = 0;
	int softs = 0;

	assert_int_equal(shc_lifesize_init(&sa, sc->soft, sc->hard, sc->n, 0), 0);
	for (uint16_t t = 0; t < sc->n; t++)
		loc[t].threshold = shc_lifesize_threshold(&sa);
	/* send until the soft event, then as much again: the hard event must follow */
	while (truth < 2 * sc->hard) {
		for (uint16_t t = 0; t < sc->n; t++) {
			for (uint32_t k = 0; k < sc->weight[t]; k++) {
				truth += sc->pkt;
				if (!shc_lifesize_count(&loc[t], sc->pkt))
					continue;

				enum shc_lifesize_event ev =
					shc_lifesize_report(&sa, shc_lifesize_take(&loc[t]));

				/* the router's answer carries the new threshold to everyone */
				for (uint16_t u = 0; u < sc->n; u++)
					loc[u].threshold = shc_lifesize_threshold(&sa);
				if (ev == SHC_LIFESIZE_SOFT) {
					softs++;
					soft_at = truth;
					if (sa.reported < sc->soft)
						fail_msg("%s: soft raised below the limit",
							 sc->name);
				}
				if (ev == SHC_LIFESIZE_HARD) {
					if (softs ==
					    0) { /* soft == hard: one report crossed both */
						softs = 1;
						soft_at = truth;
					}
					goto done;
				}
			}
			uint64_t lag = truth - sa.reported;

			if (lag > max_lag)
				max_lag = lag;
			/* the lag never exceeds what the targets may hold back */
			uint64_t held = 0;

			for (uint16_t u = 0; u < sc->n; u++)
				held += loc[u].since_report;
			if (lag != held)
				fail_msg("%s: lag %llu != held back %llu", sc->name,
					 (unsigned long long)lag, (unsigned long long)held);
		}
	}
	fail_msg("%s: no hard event", sc->name);
done:
	if (softs != 1)
		fail_msg("%s: %d soft events", sc->name, softs);
	/* a packet is counted once it arrived: the last one of each target may cross */
	if (soft_at > sc->hard + (uint64_t)sc->n * sc->pkt)
		fail_msg("%s: true count %llu at the soft event passed the hard limit %llu",
			 sc->name, (unsigned long long)soft_at, (unsigned long long)sc->hard);
	if (sa.reports > sc->max_reports)
		fail_msg("%s: %llu reports, expected at most %llu", sc->name,
			 (unsigned long long)sa.reports, (unsigned long long)sc->max_reports);
	print_message(
		"%-28s p_min %3u per mille, %4llu reports, soft at %5.1f%% of soft, worst lag "
		"%5.2f%% of soft\n",
		sc->name, sa.p_min_pm, (unsigned long long)sa.reports,
		100.0 * (double)soft_at / (double)sc->soft,
		100.0 * (double)max_lag / (double)sc->soft);
}

static void
test_scenarios(void **state)
{
	static const struct scenario table[] = {
		/* the config's default lifetime: 8 GiB soft, 10 GiB hard */
		{ "2 targets, even", 8ull << 30, 10ull << 30, 2, { 1, 1 }, 1400, 120 },
		{ "2 targets, 9:1", 8ull << 30, 10ull << 30, 2, { 9, 1 }, 1400, 120 },
		{ "8 targets, one hot",
		  8ull << 30,
		  10ull << 30,
		  8,
		  { 20, 1, 1, 1, 1, 1, 1, 1 },
		  1400,
		  400 },
		{ "8 targets, even, 64 B",
		  1ull << 24,
		  5ull << 22,
		  8,
		  { 1, 1, 1, 1, 1, 1, 1, 1 },
		  64,
		  400 },
		/* hard barely above soft: p_min small, many reports near the end, still safe */
		{ "2 targets, hard = soft+1%",
		  1ull << 26,
		  (1ull << 26) + (1ull << 26) / 100,
		  2,
		  { 3, 1 },
		  1400,
		  2000 },
		{ "4 targets, hard = soft", 1ull << 20, 1ull << 20, 4, { 1, 2, 3, 4 }, 100, 20000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		run(&table[i]);
}

static void
test_adaptation(void **state)
{
	struct shc_lifesize_sa sa;

	(void)state;
	assert_int_equal(shc_lifesize_init(&sa, 1000000, 1250000, 2, 0), 0);
	assert_int_equal(sa.p_min_pm, 100); /* 125 by 2 x p_min x soft <= hard - soft; p_max caps */
	assert_int_equal(sa.p_pm, SHC_LIFESIZE_P_MAX_PM); /* 1/4 / 2 = 125, capped */
	assert_int_equal(shc_lifesize_init(&sa, 1000000, 1100000, 8, 0), 0);
	assert_int_equal(sa.p_pm, 31); /* a quarter of soft over 8 targets */
	assert_int_equal(shc_lifesize_init(&sa, 1000000, 1100000, 2, 0), 0);
	assert_int_equal(sa.p_min_pm, 50);
	assert_int_equal(shc_lifesize_threshold(&sa), 100000);
	assert_int_equal(shc_lifesize_error_bound(&sa), 200000);
	/* far from the limit: p stays at p_max; near it: p falls toward p_min */
	assert_int_equal(shc_lifesize_report(&sa, 100000), SHC_LIFESIZE_NONE);
	assert_int_equal(sa.p_pm, 100);
	assert_int_equal(shc_lifesize_report(&sa, 500000), SHC_LIFESIZE_NONE);
	assert_int_equal(sa.p_pm, 50); /* 400000 left / 4 / 2 = 50000 = 50 per mille */
	/* an early refresh hands half the share on; one that ran out hands p_max */
	assert_int_equal(shc_lifesize_successor_p(&sa), 50); /* half of 50 is below p_min */
	assert_int_equal(shc_lifesize_report(&sa, 400000), SHC_LIFESIZE_SOFT);
	assert_int_equal(shc_lifesize_report(&sa, 1), SHC_LIFESIZE_NONE); /* once */
	assert_int_equal(shc_lifesize_successor_p(&sa), SHC_LIFESIZE_P_MAX_PM);
	assert_int_equal(shc_lifesize_report(&sa, 100000), SHC_LIFESIZE_HARD);
	/* bad set-ups */
	assert_int_equal(shc_lifesize_init(&sa, 2, 1, 2, 0), -EINVAL);
	assert_int_equal(shc_lifesize_init(&sa, 1, 2, 0, 0), -EINVAL);
	/* no byte lifetime: never an event */
	assert_int_equal(shc_lifesize_init(&sa, 0, 0, 3, 0), 0);
	assert_int_equal(shc_lifesize_report(&sa, UINT64_MAX / 2), SHC_LIFESIZE_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_adaptation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
