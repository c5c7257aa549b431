/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's SA table and its distribution to targets.
 *  - Records: an added SA keeps a guarded copy of its keys and a generation above any static one;
 *    deletes, reloads (unchanged kept, changed replaced, missing deleted), rekeys, time and byte
 *    lifetimes (soft -> rekey event once, hard -> delete) and the coupling facility binding (same
 *    keys continue their sequence numbers, new keys start over).
 *  - Distribution over a real Unix socket, this test playing the target with the real sealed
 *    channel: the snapshot on join, then every add, delete, rekey and threshold change exactly
 *    once, in slot order, also when the router's socket buffer is tiny and the walk has to stop
 *    and go on; SA_SYNC times the fan-out; LIFESIZE reports reach the sums; a rejoin gets a new
 *    snapshot without what was deleted.
 */
#include <errno.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <sodium.h>

#include "rtr.h"
#include "rtr_replay.h"
#include "test_common.h"

#define N_SLOTS 512

static struct rtr r;
static struct cfg_router cfg;
static struct esp_lcore lc;
static uint8_t control_key[32] = "a-control-key-for-this-test-only";
static char shm_name[64];
static char sock_dir[64];

static void
params(struct esp_sa_params *p, enum esp_dir dir, uint32_t spi, uint8_t key_byte)
{
	static uint8_t keys[256][20];

	memset(p, 0, sizeof(*p));
	memset(keys[key_byte], key_byte, sizeof(keys[key_byte]));
	p->spi = spi;
	p->dir = dir;
	p->aead = ESP_AEAD_AES128_GCM16;
	p->mode = ESP_MODE_TUNNEL;
	p->keymat = keys[key_byte];
	p->keymat_len = 20;
	p->replay_window = 64;
	p->local.family = p->remote.family = 4;
	p->local.v4 = rte_cpu_to_be_32(0xc0000201);
	p->remote.v4 = rte_cpu_to_be_32(0xc000020a);
}

static void
empty_table(void)
{
	for (uint32_t s = 0; s < r.n_slots; s++)
		if (r.dist.rec[s].present)
			assert_int_equal(rtr_sa_del(&r, s), 0);
	rtr_sa_reclaim(&r);
}

/* ---- records ---- */

static void
test_records(void **state)
{
	struct esp_sa_params p;
	uint64_t v0 = r.dist.version;

	(void)state;
	params(&p, ESP_DIR_INBOUND, 0x100, 7);
	assert_int_equal(rtr_sa_add_at(&r, &p, 3, &lc), 0);

	const struct rtr_sa_rec *rec = &r.dist.rec[3];
	uint64_t gen = rec->generation;

	/* generations are above a target's static ones (1) and above the last run's */
	assert_true(gen > ((uint64_t)time(NULL) - 5) << 20);
	assert_true(rec->present);
	assert_ptr_not_equal(rec->keymat, p.keymat); /* a copy of our own */
	assert_ptr_equal(rec->params.keymat, rec->keymat);
	assert_memory_equal(rec->keymat, p.keymat, 20);
	assert_int_equal(rec->params.spi, 0x100);
	assert_true(r.dist.version > v0);

	uint32_t slot;

	params(&p, ESP_DIR_INBOUND, 0x101, 8);
	r.dist.next_slot = 3;
	assert_int_equal(rtr_sa_add(&r, &p, &lc, &slot), 0);
	assert_int_equal(slot, 4); /* round robin from next_slot, skipping the used one */
	assert_true(r.dist.rec[4].generation > gen);
	params(&p, ESP_DIR_INBOUND, 0x101, 9);
	assert_int_equal(rtr_sa_add_at(&r, &p, 5, &lc), -EEXIST); /* the SPI */
	assert_false(r.dist.rec[5].present);

	uint64_t v1 = r.dist.version;

	assert_int_equal(rtr_sa_del(&r, 3), 0);
	assert_false(rec->present);
	assert_null(rec->keymat);
	assert_true(rec->generation > r.dist.rec[4].generation); /* deletes are changes too */
	assert_true(r.dist.version > v1);
	assert_int_equal(rtr_sa_del(&r, 3), -ENOENT);

	/* rekey: both there, same direction */
	params(&p, ESP_DIR_OUTBOUND, 0x200, 10);
	assert_int_equal(rtr_sa_add_at(&r, &p, 6, &lc), 0);
	assert_int_equal(rtr_sa_rekey(&r, 4, 6), -EINVAL); /* in -> out */
	assert_int_equal(rtr_sa_rekey(&r, 3, 4), -ENOENT);
	params(&p, ESP_DIR_INBOUND, 0x102, 11);
	assert_int_equal(rtr_sa_add_at(&r, &p, 7, &lc), 0);
	/* a new chain has its own connection-table id; a rekey's successor takes its predecessor's,
	 * so the connections open on the old SA find their entries (and target) on the new one */
	assert_int_not_equal(rtr_sa_query(&r, 7)->flow_id, rtr_sa_query(&r, 4)->flow_id);
	assert_int_equal(rtr_sa_rekey(&r, 4, 7), 0);
	assert_int_equal(r.dist.rec[7].rekey_of, 5);
	assert_int_equal(rtr_sa_query(&r, 7)->flow_id, rtr_sa_query(&r, 4)->flow_id);
	assert_int_equal(rtr_sa_del(&r, 4), 0); /* the old one goes: the link with it */
	assert_int_equal(r.dist.rec[7].rekey_of, 0);
	empty_table();
}

/* The coupling facility: an outbound SA's numbers belong to its keys. */
static void
test_cf_binding(void **state)
{
	struct esp_sa_params p;

	(void)state;
	params(&p, ESP_DIR_OUTBOUND, 0x300, 20);
	assert_int_equal(rtr_sa_add_at(&r, &p, 9, &lc), 0);
	assert_int_equal(cf_seq_take(r.dist.cf, 9, 10, 0), 1);
	/* deleted and installed again with the same keys (a reload, a restart): no IV repeats */
	assert_int_equal(rtr_sa_del(&r, 9), 0);
	assert_int_equal(rtr_sa_add_at(&r, &p, 9, &lc), 0);
	assert_int_equal(cf_seq_take(r.dist.cf, 9, 1, 0), 11);
	/* new keys in the slot start over */
	assert_int_equal(rtr_sa_del(&r, 9), 0);
	params(&p, ESP_DIR_OUTBOUND, 0x300, 21);
	assert_int_equal(rtr_sa_add_at(&r, &p, 9, &lc), 0);
	assert_int_equal(cf_seq_take(r.dist.cf, 9, 1, 0), 1);
	empty_table();
}

/* An inbound SA installed again (a restarted router) starts its authenticated window at the
 * coupling facility's mark: nothing at or below it passes the pre-check; a new SA starts empty. */
static void
test_replay_mark(void **state)
{
	struct esp_sa_params p;

	(void)state;
	params(&p, ESP_DIR_INBOUND, 0x350, 25);
	p.replay_window = 1024;
	assert_int_equal(rtr_sa_add_at(&r, &p, 10, &lc), 0);
	assert_int_equal(cf_replay_store(r.dist.cf, 10, 5000), 0);
	assert_int_equal(rtr_sa_del(&r, 10), 0);
	assert_int_equal(rtr_sa_add_at(&r, &p, 10, &lc), 0);

	const struct esp_sa *sa = rtr_sa_query(&r, 10);

	assert_int_equal(sa->replay.top, 5000);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 5000), ESP_REPLAY_DUPLICATE);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 4001), ESP_REPLAY_DUPLICATE);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 3976), ESP_REPLAY_TOO_OLD);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 5001), ESP_REPLAY_OK);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 5063), ESP_REPLAY_OK);
	/* the window slides on from there as numbers are learned */
	assert_int_equal(rtr_replay_learn((struct esp_replay *)&sa->replay, 5056, 1u << 7), 1);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 5063), ESP_REPLAY_DUPLICATE);
	assert_int_equal(rtr_replay_precheck(&sa->replay, 5062), ESP_REPLAY_OK);
	/* other keys in the slot: no mark */
	assert_int_equal(rtr_sa_del(&r, 10), 0);
	params(&p, ESP_DIR_INBOUND, 0x350, 26);
	assert_int_equal(rtr_sa_add_at(&r, &p, 10, &lc), 0);
	assert_int_equal(rtr_sa_query(&r, 10)->replay.top, 0);
	empty_table();
}

static void
test_reload(void **state)
{
	struct esp_sa_params sas[4], fresh_sas[4];
	struct cfg_router fresh = { 0 };
	uint64_t gen[4];

	(void)state;
	for (uint32_t i = 0; i < 4; i++) {
		params(&sas[i], ESP_DIR_INBOUND, 0x400 + i, (uint8_t)(30 + i));
		assert_int_equal(rtr_sa_add_at(&r, &sas[i], i, &lc), 0);
		gen[i] = r.dist.rec[i].generation;
	}
	r.n_static = 4;
	/* slot 0 the same, 1 a new key, 2 a new replay window, 3 gone */
	memcpy(fresh_sas, sas, sizeof(sas));
	params(&fresh_sas[1], ESP_DIR_INBOUND, 0x401, 40);
	fresh_sas[2].replay_window = 128;
	fresh.n_static_sas = 3;
	fresh.static_sas = fresh_sas;

	uint64_t adds = r.dist.adds, dels = r.dist.dels;

	rtr_sa_reload(&r, &fresh);
	assert_int_equal(r.dist.rec[0].generation, gen[0]);
	assert_true(r.dist.rec[1].present && r.dist.rec[1].generation > gen[1]);
	assert_memory_equal(r.dist.rec[1].keymat, fresh_sas[1].keymat, 20);
	assert_true(r.dist.rec[2].present && r.dist.rec[2].params.replay_window == 128);
	assert_false(r.dist.rec[3].present);
	assert_int_equal(r.dist.adds - adds, 2);
	assert_int_equal(r.dist.dels - dels, 3);
	assert_int_equal(r.n_static, 3);
	empty_table();
}

/* Byte lifetimes: soft raises one rekey event, hard deletes; reports for a slot with no SA are
 * counted apart. Time lifetimes the same way. */
static void
test_lifetimes(void **state)
{
	struct esp_sa_params p;

	(void)state;
	params(&p, ESP_DIR_INBOUND, 0x500, 50);
	p.lifetime.soft_bytes = 100000;
	p.lifetime.hard_bytes = 104000;
	assert_int_equal(rtr_sa_add_at(&r, &p, 11, &lc), 0);

	struct rtr_sa_rec *rec = &r.dist.rec[11];
	uint64_t first = rec->threshold, ev = r.dist.rekey_events, hard = r.dist.hard_expired;

	/* far from the limit: p_max (10% of soft) */
	assert_int_equal(first, 10000);
	rtr_sa_lifesize(&r, 11, 80000, 50);
	/* nearer: the one target may hold back a quarter of what is left */
	assert_int_equal(rec->threshold, 20000 / 4);
	assert_int_equal(r.dist.rekey_events, ev);
	rtr_sa_lifesize(&r, 11, 20000, 30);
	assert_int_equal(r.dist.rekey_events, ev + 1);
	rtr_sa_lifesize(&r, 11, 1000, 1);
	assert_int_equal(r.dist.rekey_events, ev + 1); /* once */
	assert_int_equal(rec->packets, 81);
	assert_true(rec->present);
	rtr_sa_lifesize(&r, 11, 3000, 20);
	assert_int_equal(r.dist.hard_expired, hard + 1);
	assert_false(rec->present);

	uint64_t stale = r.dist.reports_stale;

	rtr_sa_lifesize(&r, 11, 1, 1);
	rtr_sa_lifesize(&r, N_SLOTS + 5, 1, 1);
	assert_int_equal(r.dist.reports_stale, stale + 2);

	/* packets: one rekey event (not a second one for bytes), then the hard limit */
	params(&p, ESP_DIR_INBOUND, 0x502, 52);
	p.lifetime.soft_packets = 100;
	p.lifetime.hard_packets = 150;
	p.lifetime.soft_bytes = 50000;
	assert_int_equal(rtr_sa_add_at(&r, &p, 13, &lc), 0);
	rtr_sa_lifesize(&r, 13, 1000, 99);
	assert_int_equal(r.dist.rekey_events, ev + 1);
	rtr_sa_lifesize(&r, 13, 1000, 1);
	assert_int_equal(r.dist.rekey_events, ev + 2);
	rtr_sa_lifesize(&r, 13, 60000, 10); /* past soft bytes too: no second event */
	assert_int_equal(r.dist.rekey_events, ev + 2);
	assert_true(r.dist.rec[13].present);
	rtr_sa_lifesize(&r, 13, 100, 40);
	assert_false(r.dist.rec[13].present);
	assert_int_equal(r.dist.hard_expired, hard + 2);
	ev++;
	hard++;

	/* seconds */
	params(&p, ESP_DIR_INBOUND, 0x501, 51);
	p.lifetime.soft_seconds = 10;
	p.lifetime.hard_seconds = 20;
	assert_int_equal(rtr_sa_add_at(&r, &p, 12, &lc), 0);

	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	rtr_sa_expire(&r, now + 9 * hz);
	assert_int_equal(r.dist.rekey_events, ev + 1);
	rtr_sa_expire(&r, now + 11 * hz);
	rtr_sa_expire(&r, now + 12 * hz);
	assert_int_equal(r.dist.rekey_events, ev + 2);
	assert_true(r.dist.rec[12].present);
	rtr_sa_expire(&r, now + 21 * hz);
	assert_false(r.dist.rec[12].present);
	assert_int_equal(r.dist.hard_expired, hard + 2);
	empty_table();
}

/* ---- distribution over a real socket ---- */

struct fake_target {
	struct dist_conn conn;
	struct dist_msg got[1024];
	uint32_t n;
};

static struct fake_target tg;

static void
collect(void *arg, const struct dist_msg *m)
{
	struct fake_target *t = arg;

	assert_true(t->n < 1024);
	t->got[t->n] = *m;
	t->got[t->n].owned_keymat = NULL; /* the decoder frees it after the callback */
	if (m->type == DIST_MSG_SA_ADD) {
		/* keep only what we compare: the key bytes are checked here */
		assert_non_null(m->sa_add.sa.keymat);
		assert_memory_equal(m->sa_add.sa.keymat, r.dist.rec[m->sa_add.slot].keymat,
				    m->sa_add.sa.keymat_len);
		t->got[t->n].sa_add.sa.keymat = NULL;
	}
	t->n++;
}

/* Polls router and target until the target has want messages (or a second passed). */
static void
exchange(uint32_t want)
{
	uint64_t end = rte_rdtsc() + rte_get_tsc_hz();

	while (rte_rdtsc() < end) {
		rtr_ctl_poll(&r, rte_rdtsc());
		assert_true(dist_conn_recv(&tg.conn, collect, &tg) >= 0);
		assert_int_equal(dist_conn_flush(&tg.conn), 0);
		if (tg.n >= want && want != 0)
			return;
		usleep(200);
	}
	if (want != 0)
		fail_msg("target got %u messages, wanted %u", tg.n, want);
}

static void
join(void)
{
	struct dist_msg hello = { .type = DIST_MSG_HELLO, .hello = { .target_id = 1 } };
	int fd = dist_connect(&cfg.targets[0].control);

	assert_true(fd >= 0);
	dist_conn_init(&tg.conn);
	assert_int_equal(dist_conn_start(&tg.conn, fd, DIST_ROLE_TARGET, control_key), 0);
	tg.n = 0;
	for (int i = 0; i < 1000 && dist_conn_send(&tg.conn, &hello) != 0; i++) {
		rtr_ctl_poll(&r, rte_rdtsc());
		assert_true(dist_conn_recv(&tg.conn, collect, &tg) >= 0);
		dist_conn_flush(&tg.conn);
		usleep(200);
	}
	dist_conn_flush(&tg.conn);
}

/* Messages of one type, in arrival order; heartbeats are skipped. */
static uint32_t
of_type(enum dist_msg_type type, const struct dist_msg **out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < tg.n; i++)
		if (tg.got[i].type == type && n < max)
			out[n++] = &tg.got[i];
	return n;
}

static uint32_t
non_heartbeats(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < tg.n; i++)
		n += tg.got[i].type != DIST_MSG_HEARTBEAT;
	return n;
}

static void
exchange_until(uint32_t want_non_hb)
{
	uint64_t end = rte_rdtsc() + 2 * rte_get_tsc_hz();

	while (non_heartbeats() < want_non_hb && rte_rdtsc() < end)
		exchange(0 + tg.n + 1);
	if (non_heartbeats() != want_non_hb) {
		uint32_t per_type[16] = { 0 };

		for (uint32_t i = 0; i < tg.n; i++)
			per_type[tg.got[i].type & 15]++;
		for (int t = 1; t < 16; t++)
			if (per_type[t])
				print_message("%s: %u\n", dist_msg_type_name((uint32_t)t),
					      per_type[t]);
	}
	assert_int_equal(non_heartbeats(), want_non_hb);
}

static void
test_distribution(void **state)
{
	struct esp_sa_params p;
	const struct dist_msg *m[600];

	(void)state;
	/* three SAs before the target joins; one has a byte lifetime (a threshold to send) */
	for (uint32_t i = 0; i < 3; i++) {
		params(&p, ESP_DIR_INBOUND, 0x600 + i, (uint8_t)(60 + i));
		if (i == 1)
			p.lifetime.soft_bytes = 1000000, p.lifetime.hard_bytes = 1020000;
		assert_int_equal(rtr_sa_add_at(&r, &p, 20 + i, &lc), 0);
	}
	join();
	/* BEGIN, 3 x ADD, 1 LIMIT, END */
	exchange_until(6);
	assert_true(r.ctl[0].joined);
	assert_int_equal(of_type(DIST_MSG_SNAPSHOT_BEGIN, m, 600), 1);
	assert_int_equal(m[0]->snapshot_begin.count, 3);
	assert_int_equal(of_type(DIST_MSG_SA_ADD, m, 600), 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(m[i]->sa_add.slot, 20 + i);
		assert_int_equal(m[i]->sa_add.sa.spi, 0x600 + i);
		assert_true(m[i]->sa_add.generation == r.dist.rec[20 + i].generation);
		assert_int_equal(m[i]->sa_add.out_target, DIST_OUT_ANY); /* static: any target */
	}
	assert_int_equal(of_type(DIST_MSG_LIFESIZE_LIMIT, m, 600), 1);
	assert_int_equal(m[0]->lifesize_limit.slot, 21);
	assert_true(m[0]->lifesize_limit.threshold == r.dist.rec[21].threshold);
	assert_int_equal(of_type(DIST_MSG_SNAPSHOT_END, m, 600), 1);
	assert_true(m[0]->snapshot_end.generation == r.sa_generation);
	uint32_t last = tg.n - 1;

	while (tg.got[last].type == DIST_MSG_HEARTBEAT)
		last--;
	assert_int_equal(tg.got[last].type, DIST_MSG_SNAPSHOT_END);

	/* changes: one add, one delete, one rekey, each exactly once; an outbound SA given to one
	 * target (rtr_ike.c's per-target pairs) says which */
	tg.n = 0;
	params(&p, ESP_DIR_INBOUND, 0x610, 70);
	assert_int_equal(rtr_sa_add_at(&r, &p, 30, &lc), 0);
	params(&p, ESP_DIR_OUTBOUND, 0x611, 71);
	assert_int_equal(rtr_sa_add_at(&r, &p, 31, &lc), 0);
	r.dist.rec[31].out_target = 7;
	assert_int_equal(rtr_sa_del(&r, 20), 0);
	assert_int_equal(rtr_sa_rekey(&r, 22, 30), 0);
	exchange_until(4);
	assert_int_equal(of_type(DIST_MSG_SA_DEL, m, 600), 1);
	assert_int_equal(m[0]->sa_del.slot, 20);
	assert_true(m[0]->sa_del.generation == r.dist.rec[20].generation);
	assert_int_equal(of_type(DIST_MSG_SA_ADD, m, 600), 2);
	assert_int_equal(m[0]->sa_add.slot, 30);
	assert_int_equal(m[1]->sa_add.slot, 31);
	assert_int_equal(m[1]->sa_add.out_target, 7);
	assert_int_equal(of_type(DIST_MSG_REKEY, m, 600), 1);
	assert_int_equal(m[0]->rekey.old_slot, 22);
	assert_int_equal(m[0]->rekey.new_slot, 30);
	exchange(0); /* a quiet period: nothing is sent twice */
	assert_int_equal(non_heartbeats(), 4);

	/* the target confirms: the fan-out of the pending changes is timed */
	uint64_t samples = r.dist.fanout_n;
	struct dist_msg sync = { .type = DIST_MSG_SA_SYNC,
				 .sa_sync = { .generation = r.sa_generation } };

	assert_int_equal(dist_conn_send(&tg.conn, &sync), 0);
	dist_conn_flush(&tg.conn);
	for (int i = 0; i < 100 && r.ctl[0].acked_gen != r.sa_generation; i++)
		exchange(0 + tg.n + 1);
	assert_true(r.ctl[0].acked_gen == r.sa_generation);
	assert_true(r.dist.fanout_n >= samples + 2); /* the add and the delete */

	/* a lifesize report reaches the sum and moves the threshold, which is sent again */
	uint64_t before = r.dist.rec[21].threshold;
	struct dist_msg rep = { .type = DIST_MSG_LIFESIZE,
				.lifesize = { .slot = 21, .bytes = 800000, .packets = 400 } };

	tg.n = 0;
	assert_int_equal(dist_conn_send(&tg.conn, &rep), 0);
	dist_conn_flush(&tg.conn);
	exchange_until(1);
	assert_true(r.dist.rec[21].life.reported == 800000);
	assert_true(r.dist.rec[21].threshold < before);
	assert_int_equal(of_type(DIST_MSG_LIFESIZE_LIMIT, m, 600), 1);
	assert_true(m[0]->lifesize_limit.threshold == r.dist.rec[21].threshold);

	/* 300 adds through a router socket buffer of a few kilobytes: the walk stops when the
	 * socket is full and goes on at the next poll; each SA arrives once, in slot order */
	int small = 4096;

	assert_int_equal(setsockopt(r.ctl[0].conn.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
			 0);
	tg.n = 0;
	for (uint32_t i = 0; i < 300; i++) {
		params(&p, ESP_DIR_INBOUND, 0x1000 + i, (uint8_t)i);
		assert_int_equal(rtr_sa_add_at(&r, &p, 100 + i, &lc), 0);
	}
	exchange_until(300);
	assert_int_equal(of_type(DIST_MSG_SA_ADD, m, 600), 300);
	for (uint32_t i = 0; i < 300; i++)
		assert_int_equal(m[i]->sa_add.slot, 100 + i);

	/* a rejoin (a restarted target) gets a full snapshot, without what was deleted */
	dist_conn_close(&tg.conn);
	join();
	exchange_until(2 + 304 +
		       2); /* BEGIN, 21 22 30 31 and the 300, LIMIT of 21, REKEY 22->30, END */
	assert_int_equal(of_type(DIST_MSG_SA_ADD, m, 600), 304);
	for (uint32_t i = 0; i < 304; i++)
		assert_int_not_equal(m[i]->sa_add.slot, 20);
	assert_int_equal(r.ctl[0].snapshots, 2);
	dist_conn_close(&tg.conn);
	empty_table();
}

static uint8_t walked_state;

static void
walk_one(const struct dct_key *key, uint16_t target, uint8_t state, uint64_t last_seen, void *arg)
{
	(void)key;
	(void)target;
	(void)last_seen;
	(void)arg;
	walked_state = state;
}

/* The pairing of an outbound SA with its inbound twin, and a target's CONN_END moving the
 * connection the router's table keys by that twin to closing. */
static void
test_conn_end(void **state)
{
	struct dct_params dp = { .name = "t_rtr_sa_dct",
				 .capacity = 1024,
				 .idle_timeout_tsc = 300 * rte_get_tsc_hz(),
				 .closing_timeout_tsc = 10 * rte_get_tsc_hz(),
				 .socket_id = SOCKET_ID_ANY };
	struct esp_sa_params p;
	struct dct_lcore_stats st = { 0 };
	struct dct_key k;
	uint16_t target = 0;

	(void)state;
	/* two static pairs: the twin is the one with the same endpoints, mode and selectors */
	params(&p, ESP_DIR_INBOUND, 0x700, 80);
	assert_int_equal(rtr_sa_add_at(&r, &p, 40, &lc), 0);
	params(&p, ESP_DIR_OUTBOUND, 0x701, 81);
	assert_int_equal(rtr_sa_add_at(&r, &p, 41, &lc), 0);
	params(&p, ESP_DIR_INBOUND, 0x702, 82);
	p.mode = ESP_MODE_TRANSPORT;
	assert_int_equal(rtr_sa_add_at(&r, &p, 42, &lc), 0);
	params(&p, ESP_DIR_OUTBOUND, 0x703, 83);
	p.mode = ESP_MODE_TRANSPORT;
	assert_int_equal(rtr_sa_add_at(&r, &p, 43, &lc), 0);
	assert_int_equal(rtr_sa_inbound_twin(&r, 41), 40);
	assert_int_equal(rtr_sa_inbound_twin(&r, 43), 42);
	assert_int_equal(rtr_sa_inbound_twin(&r, 40), -ENOENT); /* not outbound */
	/* a pair added beside another serves its connections: the same connection-table id */
	assert_int_not_equal(rtr_sa_query(&r, 42)->flow_id, rtr_sa_query(&r, 40)->flow_id);
	assert_int_equal(rtr_sa_share_flows(&r, 40, 41), -EINVAL); /* outbound */
	assert_int_equal(rtr_sa_share_flows(&r, 40, 55), -ENOENT);
	assert_int_equal(rtr_sa_share_flows(&r, 40, 42), 0);
	assert_int_equal(rtr_sa_query(&r, 42)->flow_id, rtr_sa_query(&r, 40)->flow_id);
	/* IKE pairs go by owner, whatever their selectors */
	r.dist.rec[42].owner = r.dist.rec[41].owner = 9;
	assert_int_equal(rtr_sa_inbound_twin(&r, 41), 42);
	r.dist.rec[42].owner = r.dist.rec[41].owner = 0;

	r.dct = dct_create(&dp);
	assert_non_null(r.dct);
	dct_key_v4(&k, rtr_sa_query(&r, 42)->flow_id, rte_cpu_to_be_32(0xc000020a),
		   rte_cpu_to_be_32(0xc0000201), rte_cpu_to_be_16(40000), rte_cpu_to_be_16(443));
	assert_int_equal(dct_insert(r.dct, &k, &target, rte_rdtsc(), &st), 0);

	join();
	exchange_until(2 + 4 + 0); /* the snapshot: BEGIN, 4 x ADD, END */

	/* the application on the target closed 192.0.2.10:40000 -> 192.0.2.1:443 on SA 43 */
	struct dist_msg m = { .type = DIST_MSG_CONN_END,
			      .conn_end = { .sa_id = 43,
					    .family = 4,
					    .proto = 6,
					    .sport = 40000,
					    .dport = 443,
					    .src = { 192, 0, 2, 10 },
					    .dst = { 192, 0, 2, 1 } } };
	uint64_t closed = r.ctl[0].conn_ends_closed;

	walked_state = 0;
	dct_walk(r.dct, 1, walk_one, NULL);
	assert_int_equal(walked_state, DCT_STATE_OPEN);
	assert_int_equal(dist_conn_send(&tg.conn, &m), 0);
	m.conn_end.sport = 40001; /* no such connection */
	assert_int_equal(dist_conn_send(&tg.conn, &m), 0);
	dist_conn_flush(&tg.conn);
	for (int i = 0; i < 200 && r.ctl[0].conn_ends < 2; i++)
		exchange(0 + tg.n + 1);
	assert_int_equal(r.ctl[0].conn_ends_closed, closed + 1);
	dct_walk(r.dct, 1, walk_one, NULL);
	assert_int_equal(walked_state, DCT_STATE_CLOSING);
	dist_conn_close(&tg.conn);
	dct_free(r.dct);
	r.dct = NULL;
	empty_table();
}

int
main(int argc, char **argv)
{
	(void)argc;
	t_eal_init(argv[0]);
	snprintf(shm_name, sizeof(shm_name), "/dvipsec-rtr-sa-test-%d", (int)getpid());
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/dvipsec-rtr-sa-%d", (int)getpid());
	if (esp_lcore_init(&lc) < 0 || mkdir(sock_dir, 0700) < 0)
		return 1;
	cfg.n_targets = 1;
	cfg.targets[0].id = 1;
	cfg.targets[0].weight = 100;
	cfg.target_timeout_ms = 1000;
	cfg.targets[0].control.kind = CFG_CONTROL_UNIX;
	snprintf(cfg.targets[0].control.path, sizeof(cfg.targets[0].control.path), "%s/t1.ctl",
		 sock_dir);
	cfg.control_key = control_key;
	r.cfg = &cfg;
	r.n_targets = 1;
	r.main.esp = lc;
	dct_targets_init(&r.targets);
	r.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	r.dist.cf = cf_open(shm_name, N_SLOTS);
	if (r.qsbr == NULL || rte_rcu_qsbr_init(r.qsbr, RTE_MAX_LCORE) < 0 ||
	    rtr_sa_init(&r, N_SLOTS, r.qsbr) < 0 || r.dist.cf == NULL || rtr_ctl_open(&r) < 0)
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),	    cmocka_unit_test(test_cf_binding),
		cmocka_unit_test(test_reload),	    cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_replay_mark), cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_conn_end),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rtr_ctl_close(&r);
	rtr_sa_fini(&r);
	cf_close(r.dist.cf);
	shm_unlink(shm_name);
	unlink(cfg.targets[0].control.path);
	rmdir(sock_dir);
	return rc;
}
