/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window as a table of numbered cases: each case is a window set-up and a list of
 * received sequence numbers (the low 32 bits, as on the wire) with the full number we must infer
 * and the verdict. Accepted numbers are recorded (the ICV is assumed to have verified) unless the
 * step says check-only.
 */
#include <errno.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "esp_replay.h"
#include "esp_types.h"

#define MAX_STEPS 16
#define OK	  ESP_REPLAY_OK
#define DUP	  ESP_REPLAY_DUPLICATE
#define OLD	  ESP_REPLAY_TOO_OLD
#define SAME	  UINT64_MAX /* expected full number = the low half */

struct step {
	uint32_t seq_lo;
	enum esp_replay_verdict verdict;
	uint64_t full;
	bool check_only;
};

struct replay_case {
	int num;
	const char *what;
	uint32_t window;
	bool esn;
	struct step steps[MAX_STEPS];
};

static const struct replay_case cases[] = {
	{ 1, "in order", 64, false, { { 1, OK, SAME }, { 2, OK, SAME }, { 3, OK, SAME } } },
	{ 2,
	  "duplicate of the top",
	  64,
	  false,
	  { { 1, OK, SAME }, { 2, OK, SAME }, { 2, DUP, SAME } } },
	{ 3,
	  "out of order inside the window",
	  64,
	  false,
	  { { 5, OK, SAME },
	    { 3, OK, SAME },
	    { 4, OK, SAME },
	    { 1, OK, SAME },
	    { 2, OK, SAME },
	    { 3, DUP, SAME },
	    { 1, DUP, SAME } } },
	{ 4,
	  "left edge: top - seq == window is too old",
	  64,
	  false,
	  { { 100, OK, SAME }, { 36, OLD, SAME }, { 37, OK, SAME }, { 37, DUP, SAME } } },
	{ 5,
	  "far jump clears the bitmap",
	  64,
	  false,
	  { { 1, OK, SAME },
	    { 1000000, OK, SAME },
	    { 1, OLD, SAME },
	    { 999999, OK, SAME },
	    { 1000000, DUP, SAME },
	    { 999936, OLD, SAME },
	    { 999937, OK, SAME } } },
	{ 6,
	  "zero is never valid",
	  64,
	  false,
	  { { 0, OLD, SAME }, { 1, OK, SAME }, { 0, OLD, SAME } } },
	{ 7,
	  "largest window",
	  4096,
	  false,
	  { { 5000, OK, SAME }, { 905, OK, SAME }, { 904, OLD, SAME }, { 905, DUP, SAME } } },
	{ 8,
	  "bits of a reused block are cleared",
	  64,
	  false,
	  { { 1, OK, SAME },
	    { 2, OK, SAME },
	    { 64, OK, SAME },
	    { 127, OK, SAME },
	    { 129, OK, SAME },
	    { 130, OK, SAME }, /* shares block slot and bit with 2: stale unless cleared */
	    { 65, OLD, SAME },
	    { 66, OLD, SAME },
	    { 67, OK, SAME },
	    { 128, OK, SAME },
	    { 193, OK, SAME },
	    { 191, OK, SAME },
	    { 129, OLD, SAME },
	    { 130, DUP, SAME },
	    { 131, OK, SAME },
	    { 131, DUP, SAME } } },
	{ 9,
	  "window exactly full",
	  64,
	  false,
	  { { 64, OK, SAME },
	    { 1, OK, SAME },
	    { 1, DUP, SAME },
	    { 65, OK, SAME },
	    { 1, OLD, SAME } } },
	{ 10,
	  "highest 32-bit number without ESN",
	  64,
	  false,
	  { { 0xfffffffe, OK, SAME }, { 0xffffffff, OK, SAME }, { 0xffffffff, DUP, SAME } } },
	{ 11,
	  "anti-replay off accepts duplicates",
	  0,
	  false,
	  { { 5, OK, SAME }, { 5, OK, SAME }, { 1, OK, SAME }, { 0, OLD, SAME } } },
	{ 12,
	  "ESN: crossing 2^32 takes the next high half",
	  64,
	  true,
	  { { 0xfffffff0, OK, 0xfffffff0 }, { 5, OK, 0x100000005 }, { 5, DUP, 0x100000005 } } },
	{ 13,
	  "ESN: window straddling 2^32 keeps late numbers in the old half",
	  64,
	  true,
	  { { 0xfffffff0, OK, 0xfffffff0 },
	    { 5, OK, 0x100000005 },
	    { 0xfffffff8, OK, 0xfffffff8 },
	    { 0xfffffff0, DUP, 0xfffffff0 },
	    { 0xffffffc6, OK, 0xffffffc6 },
	    { 0xffffffc5, OK, 0x1ffffffc5, true },
	    { 0xffffffc6, DUP, 0xffffffc6 } } },
	{ 14,
	  "ESN: a number below the window means the next subspace",
	  64,
	  true,
	  { { 1000, OK, 1000 },
	    { 10, OK, 0x10000000a, true },
	    { 937, OK, 937 },
	    { 936, OK, 0x1000003a8, true } } },
	{ 15,
	  "ESN: first packet near the top of the first subspace",
	  64,
	  true,
	  { { 0xffffffff, OK, 0xffffffff },
	    { 0, OK, 0x100000000 },
	    { 0xfffffffe, OK, 0xfffffffe } } },
	{ 16,
	  "ESN: high halves keep counting, both window edges",
	  128,
	  true,
	  { { 0xffffffff, OK, 0xffffffff },
	    { 1, OK, 0x100000001 },
	    { 0xffffffff, DUP, 0xffffffff },
	    { 0x80000000, OK, 0x180000000 },
	    { 0xffffffff, OK, 0x1ffffffff },
	    { 0x10, OK, 0x200000010 },
	    { 0xffffffa0, OK, 0x1ffffffa0 },
	    { 0xffffff91, OK, 0x1ffffff91, true },
	    { 0xffffff90, OK, 0x2ffffff90, true } } },
};

static void
run_case(const struct replay_case *c)
{
	struct esp_replay rw;

	assert_int_equal(esp_replay_init(&rw, c->window, c->esn), 0);
	for (int i = 0; i < MAX_STEPS; i++) {
		const struct step *s = &c->steps[i];

		if (i > 0 && s->seq_lo == 0 && s->verdict == OK && s->full == 0)
			break; /* end of the listed steps */
		uint64_t full = esp_replay_full_seq(&rw, s->seq_lo);
		uint64_t want = s->full == SAME ? s->seq_lo : s->full;

		if (full != want || esp_replay_check(&rw, full) != s->verdict)
			fail_msg("case %d (%s) step %d: seq_lo %#x -> full %#llx verdict %d, want "
				 "%#llx "
				 "verdict %d",
				 c->num, c->what, i + 1, s->seq_lo, (unsigned long long)full,
				 esp_replay_check(&rw, full), (unsigned long long)want, s->verdict);
		if (s->verdict == OK && !s->check_only)
			assert_int_equal(esp_replay_update(&rw, full), OK);
	}
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* A forged packet is only checked, never recorded: the next legitimate one still passes. */
static void
test_check_does_not_move_window(void **state)
{
	struct esp_replay rw;

	(void)state;
	assert_int_equal(esp_replay_init(&rw, 64, false), 0);
	assert_int_equal(esp_replay_update(&rw, 10), OK);
	assert_int_equal(esp_replay_check(&rw, 4000000000u), OK); /* forged: ICV fails, no update */
	assert_int_equal(esp_replay_check(&rw, 11), OK);
	assert_int_equal(esp_replay_update(&rw, 11), OK);
	assert_int_equal(rw.top, 11);
}

/* Two packets with one number in a burst both pass the check; the update lets only one in. */
static void
test_update_rechecks(void **state)
{
	struct esp_replay rw;

	(void)state;
	assert_int_equal(esp_replay_init(&rw, 64, false), 0);
	assert_int_equal(esp_replay_check(&rw, 7), OK);
	assert_int_equal(esp_replay_check(&rw, 7), OK);
	assert_int_equal(esp_replay_update(&rw, 7), OK);
	assert_int_equal(esp_replay_update(&rw, 7), DUP);
}

/* A window seeded at a high-water mark (an SA installed again after a restart): everything up to
 * the mark is seen, within or below the window; above it numbers pass and the window slides on. */
static void
test_seed(void **state)
{
	static const uint64_t marks[] = { 1, 63, 64, 130, 1000, UINT64_C(0x100000000) + 5 };
	struct esp_replay rw;

	(void)state;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		uint64_t m = marks[i];

		assert_int_equal(esp_replay_init(&rw, 128, true), 0);
		esp_replay_seed(&rw, m);
		for (uint64_t s = m > 200 ? m - 200 : 1; s <= m; s++)
			assert_int_not_equal(esp_replay_check(&rw, s), ESP_REPLAY_OK);
		for (uint64_t s = m + 1; s < m + 130; s++)
			assert_int_equal(esp_replay_check(&rw, s), ESP_REPLAY_OK);
		assert_int_equal(esp_replay_update(&rw, m + 2), ESP_REPLAY_OK);
		assert_int_equal(esp_replay_check(&rw, m + 2), ESP_REPLAY_DUPLICATE);
		assert_int_equal(esp_replay_check(&rw, m + 1), ESP_REPLAY_OK);
		assert_int_equal(esp_replay_check(&rw, m), ESP_REPLAY_DUPLICATE);
		assert_int_equal(esp_replay_update(&rw, m + 300), ESP_REPLAY_OK);
		assert_int_equal(esp_replay_check(&rw, m + 299), ESP_REPLAY_OK);
	}
}

static void
test_init_sizes(void **state)
{
	struct esp_replay rw;
	const uint32_t good[] = { 0, 64, 128, 1024, 4096 };
	const uint32_t bad[] = { 1, 32, 63, 100, 8192 };

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(esp_replay_init(&rw, good[i], false), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(esp_replay_init(&rw, bad[i], false), -EINVAL);
	assert_int_equal(esp_replay_init(&rw, 4096, false), 0);
	assert_int_equal(rw.blk_mask + 1, 128); /* 4096/64 + 1 rounded up */
	assert_int_equal(esp_replay_init(&rw, 64, false), 0);
	assert_int_equal(rw.blk_mask + 1, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_check_does_not_move_window),
		cmocka_unit_test(test_update_rechecks),
		cmocka_unit_test(test_init_sizes),
		cmocka_unit_test(test_seed),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
