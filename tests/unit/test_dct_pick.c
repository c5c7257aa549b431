/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Weighted target choice for new connections: smooth weighted round robin per lcore over the
 * healthy targets, as a table of weights and health; interleaving; independent pickers; weight and
 * health changes taking effect at once; no healthy target at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dct.h"

/* -- weighted target choice -------------------------------------------------------------------- */

struct pick_case {
	const char *what;
	uint16_t weight[4];
	uint8_t healthy; /* bit i */
	unsigned int picks;
	unsigned int expect[4];
};

static const struct pick_case pick_cases[] = {
	{ "100/300", { 100, 300 }, 0x3, 1000, { 250, 750 } },
	{ "equal", { 1, 1, 1 }, 0x7, 999, { 333, 333, 333 } },
	{ "unhealthy skipped", { 100, 300, 600 }, 0x3, 1000, { 250, 750, 0 } },
	{ "weight 0 never chosen", { 0, 500, 500 }, 0x7, 1000, { 0, 500, 500 } },
	{ "one target", { 7 }, 0x1, 10, { 10 } },
	{ "extremes", { 1000, 1 }, 0x3, 2002, { 2000, 2 } },
	{ "healthy flag without weight", { 0, 0, 0, 5 }, 0xf, 20, { 0, 0, 0, 20 } },
	{ "four", { 100, 200, 300, 400 }, 0xf, 1000, { 100, 200, 300, 400 } },
};

static void
set_targets(struct dct_target_set *s, const uint16_t weight[4], uint8_t healthy)
{
	dct_targets_init(s);
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(dct_targets_set_weight(s, i, weight[i]), 0);
		assert_int_equal(dct_targets_set_health(s, i, (healthy >> i & 1) != 0), 0);
	}
}

static void
count_picks(struct dct_picker *p, const struct dct_target_set *s, unsigned int n,
	    unsigned int got[DCT_MAX_TARGETS])
{
	memset(got, 0, DCT_MAX_TARGETS * sizeof(got[0]));
	for (unsigned int i = 0; i < n; i++) {
		uint16_t tg = dct_pick(p, s);

		assert_true(tg < DCT_MAX_TARGETS);
		got[tg]++;
	}
}

static void
test_pick_weights(void **state)
{
	static struct dct_target_set s;
	static struct dct_picker p;
	unsigned int got[DCT_MAX_TARGETS];

	(void)state;
	for (unsigned int c = 0; c < sizeof(pick_cases) / sizeof(pick_cases[0]); c++) {
		const struct pick_case *pc = &pick_cases[c];

		set_targets(&s, pc->weight, pc->healthy);
		dct_picker_init(&p);
		count_picks(&p, &s, pc->picks, got);
		for (unsigned int i = 0; i < DCT_MAX_TARGETS; i++)
			if (got[i] != (i < 4 ? pc->expect[i] : 0))
				fail_msg("%s: target %u picked %u times, expected %u", pc->what, i,
					 got[i], i < 4 ? pc->expect[i] : 0);
	}
}

static void
test_pick_smooth(void **state)
{
	static struct dct_target_set s;
	static struct dct_picker p, q;
	static const uint16_t w[4] = { 100, 300 };
	/* smooth: interleaved, not 1 then 3 in a row */
	static const uint16_t seq[8] = { 1, 0, 1, 1, 1, 0, 1, 1 };

	(void)state;
	set_targets(&s, w, 0x3);
	dct_picker_init(&p);
	dct_picker_init(&q);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(dct_pick(&p, &s), seq[i]);
	/* per-lcore state: a second picker starts its own round */
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(dct_pick(&q, &s), seq[i]);
}

static void
test_pick_changes(void **state)
{
	static struct dct_target_set s;
	static struct dct_picker p;
	static const uint16_t w[4] = { 100, 300 };
	unsigned int got[DCT_MAX_TARGETS];

	(void)state;
	dct_targets_init(&s);
	dct_picker_init(&p);
	assert_int_equal(dct_pick(&p, &s), DCT_NO_TARGET);

	set_targets(&s, w, 0x3);
	count_picks(&p, &s, 400, got);
	assert_int_equal(got[0], 100);
	assert_int_equal(got[1], 300);
	/* weight change takes effect at once */
	assert_int_equal(dct_targets_set_weight(&s, 1, 100), 0);
	count_picks(&p, &s, 1000, got);
	assert_int_equal(got[0], 500);
	assert_int_equal(got[1], 500);
	/* target 0 dies, then comes back */
	assert_int_equal(dct_targets_set_health(&s, 0, false), 0);
	count_picks(&p, &s, 1000, got);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1000);
	assert_int_equal(dct_targets_set_health(&s, 0, true), 0);
	count_picks(&p, &s, 1000, got);
	assert_int_equal(got[0], 500);
	assert_int_equal(got[1], 500);
	/* all unhealthy */
	assert_int_equal(dct_targets_set_health(&s, 0, false), 0);
	assert_int_equal(dct_targets_set_health(&s, 1, false), 0);
	assert_int_equal(dct_pick(&p, &s), DCT_NO_TARGET);
	/* healthy again but weight 0 */
	assert_int_equal(dct_targets_set_weight(&s, 1, 0), 0);
	assert_int_equal(dct_targets_set_health(&s, 1, true), 0);
	assert_int_equal(dct_pick(&p, &s), DCT_NO_TARGET);
	/* the highest target index */
	assert_int_equal(dct_targets_set_weight(&s, DCT_MAX_TARGETS - 1, 1000), 0);
	assert_int_equal(dct_targets_set_health(&s, DCT_MAX_TARGETS - 1, true), 0);
	assert_int_equal(dct_pick(&p, &s), DCT_MAX_TARGETS - 1);
	/* bad arguments change nothing */
	assert_int_equal(dct_targets_set_weight(&s, 1, DCT_WEIGHT_MAX + 1), -EINVAL);
	assert_int_equal(dct_targets_set_weight(&s, DCT_MAX_TARGETS, 1), -EINVAL);
	assert_int_equal(dct_targets_set_health(&s, DCT_MAX_TARGETS, true), -EINVAL);
	assert_int_equal(dct_pick(&p, &s), DCT_MAX_TARGETS - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_weights),
		cmocka_unit_test(test_pick_smooth),
		cmocka_unit_test(test_pick_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
