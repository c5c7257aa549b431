/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CREATE_CHILD_SA, our initiator against our responder (ike_engine_test.h): CHILD SA rekeys by
 * either side with and without PFS (make-before-break: child_up with rekey_of before the old
 * pair's child_down, which follows the Delete; the new KEYMAT recomputed from the nonces on the
 * wire), ike_rekey_child's answers, the child_rekey_s and ike_rekey_s timers on the fake clock,
 * IKE SA rekeys by either side (children survive on the new SA, the old one is gone, message IDs
 * restart, later exchanges use the new keys), collisions of CHILD rekeys and of IKE rekeys
 * (both outcomes of the nonce comparison, one survivor on both sides), a rekey against a Delete
 * of the same pair, a CHILD rekey against an IKE rekey, CHILD_SA_NOT_FOUND, NO_PROPOSAL_CHOSEN
 * and its retry, INVALID_KE_PAYLOAD and the retry with group 31, and lost messages; pairs added
 * beside a pair for a resource (RFC 9611, ike_add_child), their rekeys and deletes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ike_engine_test.h"

static const struct ike_proposal esp_pfs = { IKE_ENCR_AES_GCM_16, 128, 0, IKE_DH_CURVE25519,
					     false };
static const struct ike_proposal esp_plain = { IKE_ENCR_AES_GCM_16, 128, 0, 0, false };

static int
other(int side)
{
	return side == T_A ? T_B : T_A;
}

/* The four messages of a plain set-up, A initiating with B. */
static void
establish(void)
{
	/* IKE_SA_INIT request: HDR(SPIi, 0), SAi1, KEi, Ni, N(NAT_DETECTION_*) */
	t_step(T_A, IKE_SA_INIT, false);
	/* IKE_SA_INIT response: HDR(SPIi, SPIr), SAr1, KEr, Nr, N(NAT_DETECTION_*) */
	t_step(T_B, IKE_SA_INIT, true);
	/* IKE_AUTH request: HDR, SK{IDi, IDr, AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr} */
	t_step(T_A, IKE_AUTH, false);
	/* IKE_AUTH response: HDR, SK{IDr, AUTH, SAr2, TSi, TSr} */
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_queued(), 0);
	assert_int_equal(t_live(T_A), 1);
	assert_int_equal(t_live(T_B), 1);
}

/* Both sides configured with one ESP proposal, with PFS (x25519) or without. */
static void
start(bool pfs_a, bool pfs_b)
{
	t_reset();
	t_side[T_A].cfg.peers[T_B].n_esp = 1;
	t_side[T_A].cfg.peers[T_B].esp[0] = pfs_a ? esp_pfs : esp_plain;
	t_side[T_B].cfg.peers[T_A].n_esp = 1;
	t_side[T_B].cfg.peers[T_A].esp[0] = pfs_b ? esp_pfs : esp_plain;
	t_start();
	t_initiate(T_A, T_B);
	establish();
}

/* The pair of side's last child_up (copied: the array may grow). */
static struct t_child
last(int side)
{
	assert_true(t_side[side].n_up > 0);
	return t_side[side].up[t_side[side].n_up - 1];
}

static struct ike_nonce
nonce_of(const struct ike_payloads *p, uint8_t buf[IKE_NONCE_MAX])
{
	assert_true(ike_has(p, IKE_PT_NONCE));
	memcpy(buf, p->nonce.data, p->nonce.len);
	return (struct ike_nonce){ .data = buf, .len = p->nonce.len };
}

/* RFC 7296 2.8.1's "lowest", written out here rather than taken from the engine: octet by
 * octet, and a nonce that is a prefix of the other is the lower one. */
static bool
lower(const struct ike_nonce *a, const struct ike_nonce *b)
{
	for (size_t i = 0; i < a->len && i < b->len; i++)
		if (a->data[i] != b->data[i])
			return a->data[i] < b->data[i];
	return a->len < b->len;
}

/* Did the exchange with nonces (i1, r1) make the redundant SA, against (i2, r2)? */
static bool
exchange_lost(const struct ike_nonce *i1, const struct ike_nonce *r1, const struct ike_nonce *i2,
	      const struct ike_nonce *r2)
{
	const struct ike_nonce *l1 = lower(i1, r1) ? i1 : r1, *l2 = lower(i2, r2) ? i2 : r2;

	return lower(l1, l2);
}

/* A's and B's pairs now up are the same one, mirrored. */
static void
assert_one_pair(void)
{
	const struct t_child *a = NULL, *b = NULL;

	assert_int_equal(t_live(T_A), 1);
	assert_int_equal(t_live(T_B), 1);
	for (int i = 0; i < t_side[T_A].n_up; i++)
		if (!t_down(T_A, t_side[T_A].up[i].ev.id))
			a = &t_side[T_A].up[i];
	for (int i = 0; i < t_side[T_B].n_up; i++)
		if (!t_down(T_B, t_side[T_B].up[i].ev.id))
			b = &t_side[T_B].up[i];
	t_assert_mirror(a, b);
}

/* Suite, mode, encapsulation and selectors alike (a rekey keeps them). */
static void
assert_same_pair(const struct esp_sa_params *a, const struct esp_sa_params *b)
{
	assert_int_equal(a->aead, b->aead);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->udp_encap, b->udp_encap);
	assert_int_equal(a->n_local_ts, b->n_local_ts);
	assert_int_equal(a->n_remote_ts, b->n_remote_ts);
	for (uint8_t i = 0; i < a->n_local_ts; i++) {
		assert_int_equal(a->local_ts[i].start.v4, b->local_ts[i].start.v4);
		assert_int_equal(a->local_ts[i].end.v4, b->local_ts[i].end.v4);
		assert_int_equal(a->local_ts[i].port_hi, b->local_ts[i].port_hi);
	}
	for (uint8_t i = 0; i < a->n_remote_ts; i++) {
		assert_int_equal(a->remote_ts[i].start.v4, b->remote_ts[i].start.v4);
		assert_int_equal(a->remote_ts[i].end.v4, b->remote_ts[i].end.v4);
	}
}

/* ---- 2.8.1's nonce order, the engine's against the table ---- */

static void
test_nonce_order(void **state)
{
	static const struct {
		const char *name;
		uint8_t a[4], a_len;
		uint8_t b[4], b_len;
		int want; /* -1: a lower, 1: b lower, 0: equal */
	} rows[] = {
		{ "first octet decides", { 0x01, 0xff }, 2, { 0x02, 0x00 }, 2, -1 },
		{ "not as integers of different length", { 0x02 }, 1, { 0x01, 0xff, 0xff }, 3, 1 },
		{ "a later octet", { 0x01, 0x02, 0x03 }, 3, { 0x01, 0x02, 0x04 }, 3, -1 },
		{ "a prefix is lower", { 0x01, 0x02 }, 2, { 0x01, 0x02, 0x00 }, 3, -1 },
		{ "...either way round", { 0x01, 0x02, 0x00 }, 3, { 0x01, 0x02 }, 2, 1 },
		{ "equal", { 0xaa, 0xbb }, 2, { 0xaa, 0xbb }, 2, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("  %s\n", rows[i].name);
		assert_int_equal(
			ike_nonce_lower(rows[i].a, rows[i].a_len, rows[i].b, rows[i].b_len),
			rows[i].want < 0);
		assert_int_equal(
			ike_nonce_lower(rows[i].b, rows[i].b_len, rows[i].a, rows[i].a_len),
			rows[i].want > 0);
	}
}

/* ---- CHILD SA rekey, either side, with and without PFS ---- */

static void
test_child_rekey(void **state)
{
	static const struct {
		const char *name;
		int by;
		bool pfs;
	} rows[] = {
		{ "A (the IKE SA's initiator) rekeys, no PFS", T_A, false },
		{ "B (the IKE SA's responder) rekeys, no PFS", T_B, false },
		{ "A rekeys with PFS (KE group 31)", T_A, true },
		{ "B rekeys with PFS", T_B, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int x = rows[i].by, y = other(x);
		uint8_t ni_buf[IKE_NONCE_MAX], nr_buf[IKE_NONCE_MAX];
		struct t_child old_x, old_y, new_x, new_y;
		struct ike_child_keymat *km;
		struct ike_payloads inner;
		struct ike_nonce ni, nr;
		const struct ike_notify *n;
		const struct t_pkt *p;

		print_message("  %s\n", rows[i].name);
		start(rows[i].pfs, rows[i].pfs);
		old_x = last(x);
		old_y = last(y);

		assert_int_equal(ike_rekey_child(t_side[x].e, old_x.ev.id, t_now), 0);
		/* CREATE_CHILD_SA request: HDR, SK{N(REKEY_SA, ESP, x's old inbound SPI),
		 * SA(ESP, x's new inbound SPI, AES-GCM-128[, DH 31], no ESN), Ni, [KEi], TSi, TSr}
		 */
		p = t_step(x, IKE_CREATE_CHILD_SA, false);
		t_open(y, p, &inner);
		n = ike_find_notify(&inner, IKE_N_REKEY_SA);
		assert_non_null(n);
		assert_int_equal(n->proto, IKE_PROTO_ESP);
		assert_int_equal(n->spi_size, 4);
		assert_int_equal((uint32_t)n->spi[0] << 24 | n->spi[1] << 16 | n->spi[2] << 8 |
					 n->spi[3],
				 old_x.ev.in.spi);
		assert_int_equal(ike_has(&inner, IKE_PT_KE), rows[i].pfs);
		if (rows[i].pfs)
			assert_int_equal(inner.ke.group, IKE_DH_CURVE25519);
		assert_true(ike_has(&inner, IKE_PT_TSI) && ike_has(&inner, IKE_PT_TSR));
		ni = nonce_of(&inner, ni_buf);
		/* make-before-break: y installed the new pair before it answered */
		assert_int_equal(t_side[y].n_up, 2);
		new_y = last(y);
		assert_int_equal(new_y.ev.rekey_of, old_y.ev.id);
		assert_int_not_equal(new_y.ev.id, old_y.ev.id);
		assert_int_equal(t_side[y].n_down, 0);

		/* CREATE_CHILD_SA response: HDR, SK{SA(ESP, y's new inbound SPI[, DH 31]), Nr,
		 * [KEr], TSi, TSr} */
		p = t_step(y, IKE_CREATE_CHILD_SA, true);
		t_open(x, p, &inner);
		assert_int_equal(ike_has(&inner, IKE_PT_KE), rows[i].pfs);
		nr = nonce_of(&inner, nr_buf);
		assert_int_equal(t_side[x].n_up, 2);
		new_x = last(x);
		assert_int_equal(new_x.ev.rekey_of, old_x.ev.id);
		t_assert_mirror(&new_x, &new_y);
		assert_int_not_equal(new_x.ev.in.spi, old_x.ev.in.spi);
		assert_int_not_equal(new_x.ev.out.spi, old_x.ev.out.spi);
		/* same selectors and suite as the old pair, new keys both ways */
		assert_same_pair(&new_x.ev.in, &old_x.ev.in);
		assert_memory_not_equal(new_x.km_in, old_x.km_in, old_x.ev.in.keymat_len);
		assert_memory_not_equal(new_x.km_out, old_x.km_out, old_x.ev.out.keymat_len);
		/* KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr), the request's initiator's outbound first
		 */
		assert_int_equal(ike_keys_child_keymat(t_sa(x)->keys, IKE_ENCR_AES_GCM_16, 128,
						       NULL, 0, ni.data, ni.len, nr.data, nr.len,
						       &km),
				 0);
		if (rows[i].pfs) {
			assert_memory_not_equal(km->i2r, new_x.km_out, km->len);
		} else {
			assert_memory_equal(km->i2r, new_x.km_out, km->len);
			assert_memory_equal(km->r2i, new_x.km_in, km->len);
		}
		ike_child_keymat_free(km);
		/* nothing goes before the Delete */
		assert_int_equal(t_side[x].n_down + t_side[y].n_down, 0);
		/* x is deleting the old pair, y waits for that */
		assert_int_equal(ike_rekey_child(t_side[x].e, old_x.ev.id, t_now), -ENOENT);
		assert_int_equal(ike_rekey_child(t_side[y].e, old_y.ev.id, t_now), -EBUSY);

		/* INFORMATIONAL request: HDR, SK{D(ESP, x's old inbound SPI)} */
		p = t_step(x, IKE_INFORMATIONAL, false);
		t_open(y, p, &inner);
		assert_int_equal(inner.n_del, 1);
		assert_int_equal(ike_delete_spi(&inner.del[0], 0), old_x.ev.in.spi);
		assert_int_equal(t_side[y].n_down, 1);
		assert_int_equal(t_side[y].down[0], old_y.ev.id);
		assert_int_equal(t_side[x].n_down, 0);
		/* INFORMATIONAL response: HDR, SK{D(ESP, y's old inbound SPI)} */
		p = t_step(y, IKE_INFORMATIONAL, true);
		t_open(x, p, &inner);
		assert_int_equal(ike_delete_spi(&inner.del[0], 0), old_y.ev.in.spi);
		assert_int_equal(t_side[x].n_down, 1);
		assert_int_equal(t_side[x].down[0], old_x.ev.id);

		assert_int_equal(t_queued(), 0);
		assert_one_pair();
		assert_int_equal(T_STAT(x, child_rekeys), 1);
		assert_int_equal(T_STAT(y, child_rekeys), 1);
		assert_int_equal(T_STAT(x, rekey_collisions) + T_STAT(y, rekey_collisions), 0);
		assert_int_equal(ike_rekey_child(t_side[x].e, old_x.ev.id, t_now), -ENOENT);
		/* and the new pair rekeys again (by the other side this time) */
		assert_int_equal(ike_rekey_child(t_side[y].e, new_y.ev.id, t_now), 0);
		t_pump();
		assert_one_pair();
		assert_int_equal(last(x).ev.rekey_of, new_x.ev.id);
		assert_int_equal(T_STAT(x, child_rekeys), 2);
	}
	t_stop();
}

/* ---- transport mode is kept ---- */

static void
test_child_rekey_transport(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_side[T_A].cfg.peers[T_B].allow_transport = true;
	t_side[T_B].cfg.peers[T_A].allow_transport = true;
	t_start();
	t_initiate(T_A, T_B);
	establish();
	assert_int_equal(last(T_A).ev.in.mode, ESP_MODE_TRANSPORT);
	assert_int_equal(ike_rekey_child(t_side[T_B].e, last(T_B).ev.id, t_now), 0);
	/* HDR, SK{N(REKEY_SA), N(USE_TRANSPORT_MODE), SA, Ni, TSi, TSr} */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, false);
	t_open(T_A, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_USE_TRANSPORT_MODE));
	/* HDR, SK{N(USE_TRANSPORT_MODE), SA, Nr, TSi, TSr} */
	p = t_step(T_A, IKE_CREATE_CHILD_SA, true);
	t_open(T_B, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_USE_TRANSPORT_MODE));
	t_pump();
	assert_one_pair();
	assert_int_equal(last(T_A).ev.in.mode, ESP_MODE_TRANSPORT);
	assert_int_equal(last(T_B).ev.in.mode, ESP_MODE_TRANSPORT);
	t_stop();
}

/* ---- the timers ---- */

static void
test_child_rekey_timer(void **state)
{
	uint32_t first;

	(void)state;
	t_reset();
	t_side[T_B].cfg.peers[T_A].child_rekey_s = 100; /* B's policy only */
	t_start();
	t_initiate(T_A, T_B);
	establish();
	first = last(T_B).ev.id;

	/* jittered by at most a tenth: nothing before 90 s, the rekey by 100 s */
	t_advance(90000 - 1);
	assert_int_equal(t_queued(), 0);
	t_advance(10000 + 1);
	/* HDR, SK{N(REKEY_SA), SA, Ni, TSi, TSr} from B */
	t_step(T_B, IKE_CREATE_CHILD_SA, false);
	/* HDR, SK{SA, Nr, TSi, TSr} */
	t_step(T_A, IKE_CREATE_CHILD_SA, true);
	/* HDR, SK{D(ESP, B's old SPI)} and HDR, SK{D(ESP, A's old SPI)} */
	t_step(T_B, IKE_INFORMATIONAL, false);
	t_step(T_A, IKE_INFORMATIONAL, true);
	assert_one_pair();
	assert_true(t_down(T_B, first));
	/* the new pair has its own timer: the next rekey 90..100 s after this one */
	t_advance(90000 - 1 - 100);
	assert_int_equal(t_queued(), 0);
	t_advance(10000 + 100 + 1);
	t_pump();
	assert_one_pair();
	assert_int_equal(T_STAT(T_B, child_rekeys), 2);
	assert_int_equal(T_STAT(T_A, child_rekeys), 2);
	assert_int_equal(t_side[T_A].n_down, 2);
	t_stop();
}

/* ---- lost messages ---- */

static void
test_child_rekey_lost(void **state)
{
	static uint8_t request[IKE_MAX_DGRAM], answer[IKE_MAX_DGRAM];
	size_t request_len, answer_len;
	const struct t_pkt *p;

	(void)state;
	start(true, true);
	assert_int_equal(ike_rekey_child(t_side[T_A].e, last(T_A).ev.id, t_now), 0);
	/* HDR, SK{N(REKEY_SA), SA, Ni, KEi, TSi, TSr}: lost */
	p = t_drop(T_A, IKE_CREATE_CHILD_SA, false);
	memcpy(request, p->d.data, request_len = p->d.len);
	t_advance(100);
	/* the same request again, byte for byte; B installs and answers, the answer is lost */
	p = t_step(T_A, IKE_CREATE_CHILD_SA, false);
	assert_memory_equal(p->d.data, request, request_len);
	assert_int_equal(t_side[T_B].n_up, 2);
	p = t_drop(T_B, IKE_CREATE_CHILD_SA, true);
	memcpy(answer, p->d.data, answer_len = p->d.len);
	t_advance(200);
	/* a third copy: B repeats its stored answer, byte for byte, without a second pair */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	assert_int_equal(p->d.len, answer_len);
	assert_memory_equal(p->d.data, answer, answer_len);
	assert_int_equal(t_side[T_B].n_up, 2);
	assert_int_equal(t_side[T_A].n_up, 2);
	t_assert_mirror(&t_side[T_A].up[1], &t_side[T_B].up[1]);
	/* HDR, SK{D(ESP)}: lost once, then answered */
	t_drop(T_A, IKE_INFORMATIONAL, false);
	assert_int_equal(t_side[T_B].n_down, 0);
	t_advance(100);
	t_step(T_A, IKE_INFORMATIONAL, false);
	t_step(T_B, IKE_INFORMATIONAL, true);
	assert_one_pair();
	assert_int_equal(T_STAT(T_A, retransmits), 3);
	assert_int_equal(T_STAT(T_B, retransmits), 1);
	assert_int_equal(t_sas(T_A, "established") + t_sas(T_B, "established"), 2);
	t_stop();
}

/* ---- collisions: both sides rekey the same pair (2.8.1) ---- */

static void
test_child_rekey_collision(void **state)
{
	bool seen[2] = { false, false };

	(void)state;
	/* the nonces decide; run until each side has lost once (64 rounds: a miss is 2^-63) */
	for (int round = 0; round < 64 && !(seen[0] && seen[1]); round++) {
		uint8_t buf[4][IKE_NONCE_MAX];
		struct ike_nonce na, nb, ra, rb; /* A's Ni, B's Ni, A's Nr, B's Nr */
		struct t_child old_a, old_b, a_made, b_made;
		struct ike_payloads inner;
		const struct t_pkt *p;
		bool a_lost;

		start(false, false);
		old_a = last(T_A);
		old_b = last(T_B);
		assert_int_equal(ike_rekey_child(t_side[T_A].e, old_a.ev.id, t_now), 0);
		assert_int_equal(ike_rekey_child(t_side[T_B].e, old_b.ev.id, t_now), 0);
		/* the requests cross: HDR, SK{N(REKEY_SA, ESP, A's old SPI), SA, Ni(A), TSi, TSr}
		 * reaches B, which rekeys the same pair: answered as usual, B's pair b_made up */
		p = t_step(T_A, IKE_CREATE_CHILD_SA, false);
		t_open(T_B, p, &inner);
		na = nonce_of(&inner, buf[0]);
		/* HDR, SK{N(REKEY_SA, ESP, B's old SPI), SA, Ni(B), TSi, TSr} reaches A */
		p = t_step(T_B, IKE_CREATE_CHILD_SA, false);
		t_open(T_A, p, &inner);
		nb = nonce_of(&inner, buf[1]);
		assert_int_equal(t_side[T_A].n_up, 2);
		assert_int_equal(t_side[T_B].n_up, 2);
		/* B's answer to A: HDR, SK{SA, Nr(B), TSi, TSr}; A decides */
		p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
		t_open(T_A, p, &inner);
		rb = nonce_of(&inner, buf[2]);
		/* A's answer to B: HDR, SK{SA, Nr(A), TSi, TSr}; B decides */
		p = t_step(T_A, IKE_CREATE_CHILD_SA, true);
		t_open(T_B, p, &inner);
		ra = nonce_of(&inner, buf[3]);
		assert_int_equal(t_side[T_A].n_up, 3);
		assert_int_equal(t_side[T_B].n_up, 3);
		/* A's exchange (Ni(A), Nr(B)) made the pair A calls up[2], B up[1]; B's the others
		 */
		a_made = t_side[T_A].up[2];
		b_made = t_side[T_A].up[1];
		t_assert_mirror(&a_made, &t_side[T_B].up[1]);
		t_assert_mirror(&b_made, &t_side[T_B].up[2]);
		assert_int_equal(a_made.ev.rekey_of, old_a.ev.id);
		assert_int_equal(b_made.ev.rekey_of, old_a.ev.id);
		/* the lowest of the four nonces marks the redundant pair */
		a_lost = exchange_lost(&na, &rb, &nb, &ra);
		print_message("  round %d: %s's exchange had the lowest nonce\n", round,
			      a_lost ? "A" : "B");
		seen[a_lost] = true;
		/* the winner leaves the loser's redundant pair alone until its Delete comes */
		if (a_lost)
			assert_int_equal(
				ike_rekey_child(t_side[T_B].e, t_side[T_B].up[1].ev.id, t_now),
				-EBUSY);
		else
			assert_int_equal(ike_rekey_child(t_side[T_A].e, b_made.ev.id, t_now),
					 -EBUSY);
		/* the loser deletes its redundant pair, the winner the old one: both INFORMATIONAL
		 * requests, HDR, SK{D(ESP, SPI)}, and their answers */
		t_pump();
		assert_one_pair();
		assert_true(t_down(T_A, old_a.ev.id));
		assert_true(t_down(T_B, old_b.ev.id));
		assert_int_equal(t_down(T_A, a_made.ev.id), a_lost);
		assert_int_equal(t_down(T_A, b_made.ev.id), !a_lost);
		assert_int_equal(T_STAT(T_A, rekey_collisions), 1);
		assert_int_equal(T_STAT(T_B, rekey_collisions), 1);
		assert_int_equal(T_STAT(T_A, deletes) + T_STAT(T_B, deletes), 4);
		assert_int_equal(t_sa(T_A)->n_children, 1);
		assert_int_equal(t_sa(T_B)->n_children, 1);
	}
	assert_true(seen[0] && seen[1]);
	t_stop();
}

/* The winner's Delete of the old pair overtakes the loser's answer (that answer was lost): the
 * loser still deletes its redundant pair when the retransmission gets it through. */
static void
test_child_rekey_collision_reordered(void **state)
{
	(void)state;
	for (int round = 0; round < 16; round++) {
		struct t_child old_a;

		start(false, false);
		old_a = last(T_A);
		assert_int_equal(ike_rekey_child(t_side[T_A].e, old_a.ev.id, t_now), 0);
		assert_int_equal(ike_rekey_child(t_side[T_B].e, last(T_B).ev.id, t_now), 0);
		/* A's request reaches B; B's reaches A; B's answer to A is lost */
		t_step(T_A, IKE_CREATE_CHILD_SA, false);
		t_step(T_B, IKE_CREATE_CHILD_SA, false);
		t_drop(T_B, IKE_CREATE_CHILD_SA, true);
		/* A's answer reaches B, which decides and sends a Delete (of the old pair if it
		 * won, of its redundant one if it lost): A answers it as usual */
		t_step(T_A, IKE_CREATE_CHILD_SA, true);
		t_pump();
		/* A's request again: B's stored answer; A decides too */
		t_advance(100);
		t_pump();
		assert_one_pair();
		assert_true(t_down(T_A, old_a.ev.id));
		assert_int_equal(t_queued(), 0);
	}
	t_stop();
}

/* ---- rekey against Delete (2.25.1) ---- */

static void
test_rekey_vs_delete(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;
	struct t_child old_a, old_b;

	(void)state;
	start(false, false);
	old_a = last(T_A);
	old_b = last(T_B);
	assert_int_equal(ike_rekey_child(t_side[T_A].e, old_a.ev.id, t_now), 0);
	assert_int_equal(ike_delete(t_side[T_B].e, 0, old_b.ev.id, t_now), 0);
	/* A's HDR, SK{N(REKEY_SA), SA, Ni, TSi, TSr} reaches B, which is closing the pair */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	/* B's HDR, SK{D(ESP, B's SPI)} reaches A, which is rekeying it: answered as usual, with
	 * A's SPI, and the pair goes */
	p = t_step(T_B, IKE_INFORMATIONAL, false);
	assert_true(t_down(T_A, old_a.ev.id));
	/* HDR, SK{N(TEMPORARY_FAILURE)} to A: no new pair */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_TEMPORARY_FAILURE));
	/* HDR, SK{D(ESP, A's SPI)} to B */
	t_step(T_A, IKE_INFORMATIONAL, true);
	assert_true(t_down(T_B, old_b.ev.id));
	assert_int_equal(t_live(T_A) + t_live(T_B), 0);
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_sa(T_A)->n_children + t_sa(T_B)->n_children, 0);
	assert_int_equal(T_STAT(T_B, create_child_refused), 1);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	/* nothing retried for a pair that is gone */
	t_advance(60000);
	assert_int_equal(t_queued(), 0);
	t_stop();
}

/* ---- CHILD_SA_NOT_FOUND: B lost the pair (2.25) ---- */

static void
test_rekey_unknown_child(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;
	const struct ike_notify *n;
	struct t_child old_a = { 0 };

	(void)state;
	start(false, false);
	old_a = last(T_A);
	/* B forgets the pair without a word (as a peer that restarted its CHILD SAs would) */
	t_side[T_B].e->io.child_down = NULL;
	ike_child_free(t_side[T_B].e, ike_child_by_id(t_side[T_B].e, last(T_B).ev.id));
	assert_int_equal(ike_rekey_child(t_side[T_A].e, old_a.ev.id, t_now), 0);
	/* HDR, SK{N(REKEY_SA, ESP, A's SPI), SA, Ni, TSi, TSr} */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	/* HDR, SK{N(CHILD_SA_NOT_FOUND, ESP, A's SPI)}: A drops the pair, no Delete */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	n = ike_find_notify(&inner, IKE_N_CHILD_SA_NOT_FOUND);
	assert_non_null(n);
	assert_int_equal(n->spi_size, 4);
	assert_int_equal((uint32_t)n->spi[0] << 24 | n->spi[1] << 16 | n->spi[2] << 8 | n->spi[3],
			 old_a.ev.in.spi);
	assert_true(t_down(T_A, old_a.ev.id));
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_queued(), 0);
	assert_int_equal(t_sa(T_A)->n_children, 0);
	assert_int_equal(T_STAT(T_B, create_child_refused), 1);
	t_stop();
}

/* ---- NO_PROPOSAL_CHOSEN and the retry; INVALID_KE_PAYLOAD and group 31 ---- */

static void
test_rekey_no_proposal(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;
	uint32_t old;

	(void)state;
	/* B wants PFS, A does not offer it (IKE_AUTH's pair ignores DH groups: it comes up) */
	start(false, true);
	old = last(T_A).ev.id;
	assert_int_equal(ike_rekey_child(t_side[T_A].e, old, t_now), 0);
	/* HDR, SK{N(REKEY_SA), SA(no DH), Ni, TSi, TSr} */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	/* HDR, SK{N(NO_PROPOSAL_CHOSEN)} */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_NO_PROPOSAL_CHOSEN));
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 2);
	assert_int_equal(T_STAT(T_B, no_proposal), 1);
	assert_int_equal(t_sa(T_A)->n_children, 1); /* no pending pair left behind */
	/* retried after 9..10 s, not at once (2.25); the router may ask again meanwhile */
	t_advance(9000 - 1);
	assert_int_equal(t_queued(), 0);
	t_advance(1000 + 1);
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	t_step(T_B, IKE_CREATE_CHILD_SA, true);
	assert_int_equal(T_STAT(T_B, no_proposal), 2);
	assert_int_equal(t_live(T_A), 1);
	t_stop();
}

static void
test_rekey_invalid_ke(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;
	const struct ike_notify *n;

	(void)state;
	start(true, true);
	/* A's next KE is of group 19 (ECP-256), offered ahead of 31 */
	ike_engine_test_first_ke(t_side[T_A].e, IKE_DH_ECP256);
	assert_int_equal(ike_rekey_child(t_side[T_A].e, last(T_A).ev.id, t_now), 0);
	/* HDR, SK{N(REKEY_SA), SA(DH 19, 31), Ni, KE(19), TSi, TSr} */
	p = t_step(T_A, IKE_CREATE_CHILD_SA, false);
	t_open(T_B, p, &inner);
	assert_int_equal(inner.ke.group, IKE_DH_ECP256);
	/* HDR, SK{N(INVALID_KE_PAYLOAD, 31)} */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	n = ike_find_notify(&inner, IKE_N_INVALID_KE_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->len, 2);
	assert_int_equal(n->data[1], IKE_DH_CURVE25519);
	/* at once again with KE(31): HDR, SK{N(REKEY_SA), SA, Ni, KE(31), TSi, TSr} */
	p = t_step(T_A, IKE_CREATE_CHILD_SA, false);
	t_open(T_B, p, &inner);
	assert_int_equal(inner.ke.group, IKE_DH_CURVE25519);
	t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_pump();
	assert_one_pair();
	assert_int_equal(T_STAT(T_B, invalid_ke), 1);
	assert_int_equal(T_STAT(T_A, child_rekeys), 1);
	t_stop();
}

/* ---- IKE SA rekey, either side ---- */

static void
test_ike_rekey(void **state)
{
	(void)state;
	for (int x = T_A; x <= T_B; x++) {
		int y = other(x);
		struct ike_sa_obj *old_x, *old_y, *new_x, *new_y;
		uint64_t old_spi_i, old_spi_r;
		struct ike_payloads inner;
		const struct t_pkt *p;
		struct t_child pair_x;
		size_t len_x, len_y, len_o;

		print_message("  %s\n", x == T_A
						? "A (its initiator) rekeys the IKE SA by its timer"
						: "B rekeys it by ike_rekey_ike()");
		t_reset();
		t_side[x].cfg.peers[y].ike_rekey_s = x == T_A ? 300 : 0;
		t_start();
		t_initiate(T_A, T_B);
		establish();
		pair_x = last(x);
		old_x = t_sa(x);
		old_y = t_sa(y);
		old_spi_i = old_x->spi_i;
		old_spi_r = old_x->spi_r;

		if (x == T_A) {
			t_advance(270000 - 1);
			assert_int_equal(t_queued(), 0);
			t_advance(30000 + 1);
		} else {
			assert_int_equal(ike_rekey_ike(t_side[x].e, T_C, t_now), -ENOENT);
			assert_int_equal(ike_rekey_ike(t_side[x].e, (uint16_t)y, t_now), 0);
			assert_int_equal(ike_rekey_ike(t_side[x].e, (uint16_t)y, t_now), -EBUSY);
		}
		/* CREATE_CHILD_SA on the old SA: HDR(old), SK{SA(IKE, x's new SPI, proposals), Ni,
		 * KEi} */
		p = t_step(x, IKE_CREATE_CHILD_SA, false);
		assert_ptr_equal(t_sa_of(y, p), old_y);
		assert_int_equal(t_sas(x, "rekeying"), 1);
		/* y made the new SA and moved its children: the old one waits for the Delete */
		new_y = t_sa_in(y, IKE_ST_ESTABLISHED);
		assert_ptr_not_equal(new_y, old_y);
		assert_int_equal(old_y->state, IKE_ST_REKEYED);
		assert_int_equal(new_y->n_children, 1);
		assert_int_equal(old_y->n_children, 0);
		assert_int_equal(new_y->initiator, false);
		/* HDR(old), SK{SA(IKE, y's new SPI, chosen), Nr, KEr} */
		p = t_step(y, IKE_CREATE_CHILD_SA, true);
		t_open(x, p, &inner);
		assert_int_equal(inner.sa.prop[0].proto, IKE_PROTO_IKE);
		assert_int_equal(inner.sa.prop[0].spi_size, 8);
		assert_int_equal(inner.ke.group, IKE_DH_CURVE25519);
		new_x = t_sa_in(x, IKE_ST_ESTABLISHED);
		assert_true(new_x->initiator);
		assert_int_equal(new_x->spi_i, new_y->spi_i);
		assert_int_equal(new_x->spi_r, new_y->spi_r);
		assert_true(new_x->spi_i != old_spi_i && new_x->spi_r != old_spi_r);
		assert_int_equal(new_x->n_children, 1);
		assert_int_equal(old_x->state, IKE_ST_DELETING);
		/* the same keys both ways, not the old ones */
		for (int k = IKE_SKID_D; k < IKE_SKID_COUNT; k++) {
			const uint8_t *kx = ike_keys_sk(new_x->keys, k, &len_x);
			const uint8_t *ky = ike_keys_sk(new_y->keys, k, &len_y);
			const uint8_t *ko = ike_keys_sk(old_x->keys, k, &len_o);

			assert_int_equal(len_x, len_y);
			if (len_x == 0)
				continue; /* SK_a: none with an AEAD */
			assert_memory_equal(kx, ky, len_x);
			assert_memory_not_equal(kx, ko, len_x);
		}
		/* INFORMATIONAL on the old SA: HDR(old), SK{D(IKE)} */
		p = t_drop(x, IKE_INFORMATIONAL, false);
		t_open(y, p, &inner);
		assert_int_equal(inner.del[0].proto, IKE_PROTO_IKE);
		t_inject(x, y, p->d.data, p->d.len, IKE_PORT);
		assert_int_equal(t_sas(y, NULL), 1);
		/* HDR(old), SK{} */
		t_step(y, IKE_INFORMATIONAL, true);
		assert_int_equal(t_sas(x, NULL), 1);
		assert_int_equal(t_sas(x, "established") + t_sas(y, "established"), 2);
		/* the pairs never noticed */
		assert_int_equal(t_side[x].n_down + t_side[y].n_down, 0);
		assert_int_equal(t_side[x].n_up + t_side[y].n_up, 2);
		assert_int_equal(T_STAT(x, ike_rekeys), 1);
		assert_int_equal(T_STAT(y, ike_rekeys), 1);

		/* later exchanges on the new SA, message IDs from 0: y rekeys the pair... */
		new_x = t_sa(x);
		new_y = t_sa(y);
		assert_int_equal(new_x->tx_next, 0);
		assert_int_equal(new_y->tx_next, 0);
		assert_int_equal(ike_rekey_child(t_side[y].e, last(y).ev.id, t_now), 0);
		/* HDR(new, ID 0), SK{N(REKEY_SA), SA, Ni, TSi, TSr} */
		p = t_step(y, IKE_CREATE_CHILD_SA, false);
		assert_ptr_equal(t_sa_of(x, p), new_x);
		assert_int_equal(p->d.data[20] | p->d.data[21] | p->d.data[22] | p->d.data[23], 0);
		t_pump();
		assert_one_pair();
		assert_true(t_down(x, pair_x.ev.id));
		/* ...and x deletes it */
		assert_int_equal(ike_delete(t_side[x].e, 0, last(x).ev.id, t_now), 0);
		t_pump();
		assert_int_equal(t_live(x) + t_live(y), 0);
		assert_int_equal(t_sas(x, "established") + t_sas(y, "established"), 2);
		/* the new SA's own timer: the next IKE rekey 270..300 s later (B has none) */
		t_advance(300000);
		t_pump();
		assert_int_equal(T_STAT(x, ike_rekeys), x == T_A ? 2 : 1);
		assert_int_equal(t_sas(x, NULL) + t_sas(y, NULL), 2);
	}
	t_stop();
}

/* The responder's old SA, if the initiator never deletes it, goes after half_open_timeout_s. */
static void
test_ike_rekey_no_delete(void **state)
{
	(void)state;
	t_reset();
	t_side[T_A].cfg.peers[T_B].ike_rekey_s = 100;
	t_start();
	t_initiate(T_A, T_B);
	establish();
	t_advance(100000);
	/* HDR(old), SK{SA, Ni, KEi} and HDR(old), SK{SA, Nr, KEr} */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	t_step(T_B, IKE_CREATE_CHILD_SA, true);
	/* A's Delete of the old SA is lost, and so are its retransmissions */
	t_mute[T_A] = true;
	t_drop(T_A, IKE_INFORMATIONAL, false);
	assert_int_equal(t_sas(T_B, "deleting"), 1);
	t_advance(10000); /* the harness's half_open_timeout_s */
	assert_int_equal(t_sas(T_B, NULL), 1);
	assert_int_equal(t_sas(T_B, "established"), 1);
	assert_int_equal(t_sa(T_B)->n_children, 1);
	assert_int_equal(t_side[T_B].n_down, 0);
	t_stop();
}

static void
test_ike_rekey_lost_and_invalid_ke(void **state)
{
	static uint8_t answer[IKE_MAX_DGRAM];
	struct ike_payloads inner;
	const struct t_pkt *p;
	size_t answer_len;

	(void)state;
	t_reset();
	t_side[T_B].cfg.peers[T_A].ike_rekey_s = 100;
	t_start();
	t_initiate(T_A, T_B);
	establish();
	ike_engine_test_first_ke(t_side[T_B].e, IKE_DH_ECP256);
	t_advance(100000);
	/* HDR(old), SK{SA(IKE, DH 19 and 31), Ni, KE(19)} */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, false);
	t_open(T_A, p, &inner);
	assert_int_equal(inner.ke.group, IKE_DH_ECP256);
	/* HDR(old), SK{N(INVALID_KE_PAYLOAD, 31)} */
	t_step(T_A, IKE_CREATE_CHILD_SA, true);
	assert_int_equal(t_sas(T_A, NULL), 1);
	/* HDR(old), SK{SA, Ni, KE(31)} */
	t_step(T_B, IKE_CREATE_CHILD_SA, false);
	/* HDR(old), SK{SA, Nr, KEr}: lost */
	p = t_drop(T_A, IKE_CREATE_CHILD_SA, true);
	memcpy(answer, p->d.data, answer_len = p->d.len);
	assert_int_equal(t_sas(T_A, NULL), 2);
	t_advance(100);
	/* the request again; the stored answer again, and still one new SA at A */
	t_step(T_B, IKE_CREATE_CHILD_SA, false);
	p = t_step(T_A, IKE_CREATE_CHILD_SA, true);
	assert_memory_equal(p->d.data, answer, answer_len);
	assert_int_equal(t_sas(T_A, NULL), 2);
	t_pump();
	assert_int_equal(t_sas(T_A, NULL) + t_sas(T_B, NULL), 2);
	assert_int_equal(T_STAT(T_A, ike_rekeys), 1);
	assert_int_equal(T_STAT(T_A, invalid_ke), 1);
	assert_int_equal(t_sa(T_A)->n_children + t_sa(T_B)->n_children, 2);
	assert_int_equal(t_side[T_A].n_down + t_side[T_B].n_down, 0);
	t_stop();
}

/* ---- IKE rekey collision (2.8.2) ---- */

static void
test_ike_rekey_collision(void **state)
{
	bool seen[2] = { false, false };

	(void)state;
	for (int round = 0; round < 64 && !(seen[0] && seen[1]); round++) {
		uint8_t buf[4][IKE_NONCE_MAX];
		struct ike_nonce na, nb, ra, rb;
		struct ike_payloads inner;
		const struct t_pkt *p;
		bool a_lost;

		t_reset();
		t_side[T_A].cfg.peers[T_B].ike_rekey_s = 100;
		t_side[T_B].cfg.peers[T_A].ike_rekey_s = 100;
		t_start();
		t_initiate(T_A, T_B);
		establish();
		/* both timers are up by 100 s: the requests cross */
		t_advance(100000);
		/* A's HDR(old), SK{SA(IKE, SPIi(A)), Ni(A), KEi} reaches B, which rekeys too:
		 * answered as usual, its children stay until its own answer comes */
		p = t_step(T_A, IKE_CREATE_CHILD_SA, false);
		t_open(T_B, p, &inner);
		na = nonce_of(&inner, buf[0]);
		assert_int_equal(t_sas(T_B, NULL), 3); /* old, its pending one, A's */
		/* B's HDR(old), SK{SA(IKE, SPIi(B)), Ni(B), KEi} reaches A */
		p = t_step(T_B, IKE_CREATE_CHILD_SA, false);
		t_open(T_A, p, &inner);
		nb = nonce_of(&inner, buf[1]);
		/* B's answer: HDR(old), SK{SA, Nr(B), KEr}; A decides */
		p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
		t_open(T_A, p, &inner);
		rb = nonce_of(&inner, buf[2]);
		/* A's answer: HDR(old), SK{SA, Nr(A), KEr}; B decides */
		p = t_step(T_A, IKE_CREATE_CHILD_SA, true);
		t_open(T_B, p, &inner);
		ra = nonce_of(&inner, buf[3]);
		a_lost = exchange_lost(&na, &rb, &nb, &ra);
		print_message("  round %d: %s's exchange had the lowest nonce\n", round,
			      a_lost ? "A" : "B");
		seen[a_lost] = true;
		/* the loser deletes its redundant SA, the winner the old one: HDR, SK{D(IKE)} on
		 * each, and HDR, SK{} back */
		t_pump();
		assert_int_equal(t_sas(T_A, NULL), 1);
		assert_int_equal(t_sas(T_B, NULL), 1);
		assert_int_equal(t_sa(T_A)->spi_i, t_sa(T_B)->spi_i);
		assert_int_equal(t_sa(T_A)->spi_r, t_sa(T_B)->spi_r);
		/* the winner's exchange made it: its initiator is the new SA's initiator */
		assert_int_equal(t_sa(a_lost ? T_B : T_A)->initiator, true);
		assert_int_equal(t_sa(T_A)->n_children, 1);
		assert_int_equal(t_sa(T_B)->n_children, 1);
		assert_int_equal(t_side[T_A].n_down + t_side[T_B].n_down, 0);
		assert_int_equal(T_STAT(T_A, rekey_collisions), 1);
		assert_int_equal(T_STAT(T_B, rekey_collisions), 1);
		/* and it works: a CHILD rekey over it */
		assert_int_equal(ike_rekey_child(t_side[T_A].e, last(T_A).ev.id, t_now), 0);
		t_pump();
		assert_one_pair();
	}
	assert_true(seen[0] && seen[1]);
	t_stop();
}

/* The winner's Delete of the old SA overtakes the answer to the loser's request (lost): the
 * loser hands its children to the winner's SA (strongSwan's "undetected collision"). */
static void
test_ike_rekey_collision_reordered(void **state)
{
	int done = 0;

	(void)state;
	for (int round = 0; round < 64 && done < 4; round++) {
		bool b_won;

		t_reset();
		t_side[T_A].cfg.peers[T_B].ike_rekey_s = 100;
		t_side[T_B].cfg.peers[T_A].ike_rekey_s = 100;
		t_start();
		t_initiate(T_A, T_B);
		establish();
		t_advance(100000);
		t_step(T_A, IKE_CREATE_CHILD_SA, false);
		t_step(T_B, IKE_CREATE_CHILD_SA, false);
		/* B's answer to A is lost */
		t_drop(T_B, IKE_CREATE_CHILD_SA, true);
		/* A's answer reaches B, which decides */
		t_step(T_A, IKE_CREATE_CHILD_SA, true);
		/* B's surviving SA is its own exchange's if it won */
		b_won = t_sa_in(T_B, IKE_ST_ESTABLISHED)->initiator;
		if (!b_won)
			continue; /* then B's Delete is of its redundant SA: nothing to overtake */
		/* B won: HDR(old), SK{D(IKE)} reaches A before B's answer to it */
		t_step(T_B, IKE_INFORMATIONAL, false);
		/* A deleted the old SA and gave its child to B's SA */
		assert_int_equal(t_sa_in(T_A, IKE_ST_ESTABLISHED)->n_children, 1);
		t_pump();
		t_advance(11000); /* B's wait for A's redundant SA ends */
		t_pump();
		assert_int_equal(t_sas(T_A, NULL), 1);
		assert_int_equal(t_sas(T_B, NULL), 1);
		assert_int_equal(t_sa(T_A)->spi_i, t_sa(T_B)->spi_i);
		assert_int_equal(t_sa(T_A)->n_children, 1);
		assert_int_equal(t_sa(T_B)->n_children, 1);
		assert_int_equal(t_side[T_A].n_down + t_side[T_B].n_down, 0);
		done++;
	}
	assert_true(done > 0);
	t_stop();
}

/* ---- a CHILD rekey against an IKE rekey (2.25.2): both TEMPORARY_FAILURE, then both done ---- */

static void
test_child_vs_ike_rekey(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_side[T_A].cfg.peers[T_B].ike_rekey_s = 100;
	t_start();
	t_initiate(T_A, T_B);
	establish();
	t_advance(100000);
	assert_int_equal(ike_rekey_child(t_side[T_B].e, last(T_B).ev.id, t_now), 0);
	/* A's IKE rekey HDR, SK{SA(IKE), Ni, KEi} reaches B, which rekeys a CHILD SA */
	t_step(T_A, IKE_CREATE_CHILD_SA, false);
	/* B's CHILD rekey HDR, SK{N(REKEY_SA), SA, Ni, TSi, TSr} reaches A, which rekeys the IKE
	 * SA */
	t_step(T_B, IKE_CREATE_CHILD_SA, false);
	/* HDR, SK{N(TEMPORARY_FAILURE)} both ways */
	p = t_step(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_TEMPORARY_FAILURE));
	p = t_step(T_A, IKE_CREATE_CHILD_SA, true);
	t_open(T_B, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_TEMPORARY_FAILURE));
	assert_int_equal(t_sas(T_A, NULL) + t_sas(T_B, NULL), 2);
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 2);
	/* each retries 9..10 s later (if the retries cross again, again) */
	for (int i = 0;
	     i < 6000 && (T_STAT(T_A, ike_rekeys) == 0 || T_STAT(T_A, child_rekeys) == 0); i++) {
		t_advance(10);
		t_pump();
	}
	assert_int_equal(T_STAT(T_A, ike_rekeys), 1);
	assert_int_equal(T_STAT(T_A, child_rekeys), 1);
	assert_int_equal(t_sas(T_A, NULL) + t_sas(T_B, NULL), 2);
	assert_one_pair();
	t_stop();
}

/* ---- pairs added beside a pair (RFC 9611 per-resource CHILD SAs: one per target) ---- */

/* How many of side's live pairs (child_up, no child_down) serve resource. */
static int
live_with_resource(int side, uint16_t resource)
{
	int n = 0;

	for (int i = 0; i < t_side[side].n_up; i++)
		if (!t_down(side, t_side[side].up[i].ev.id) &&
		    t_side[side].up[i].ev.resource == resource)
			n++;
	return n;
}

static void
test_add_child(void **state)
{
	static const struct {
		const char *name;
		int by;
		bool pfs;
	} rows[] = {
		{ "B (the IKE SA's responder, as the router is) adds a pair", T_B, false },
		{ "A adds a pair, with PFS", T_A, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int x = rows[i].by, y = other(x);
		struct t_child old_x, old_y, new_x, new_y;
		struct ike_payloads inner;
		const struct ike_notify *n;
		const struct t_pkt *p;

		print_message("  %s\n", rows[i].name);
		start(rows[i].pfs, rows[i].pfs);
		old_x = last(x);
		old_y = last(y);

		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 0, t_now), -EINVAL);
		assert_int_equal(
			ike_add_child(t_side[x].e, old_x.ev.id, IKE_MAX_RESOURCE + 1, t_now),
			-EINVAL);
		assert_int_equal(ike_add_child(t_side[x].e, 4242, 2, t_now), -ENOENT);
		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 2, t_now), 0);
		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 2, t_now), -EBUSY);
		/* CREATE_CHILD_SA request: HDR, SK{N(SA_RESOURCE_INFO, 0x0002), SA(ESP, x's new
		 * inbound SPI[, DH 31]), Ni, [KEi], TSi, TSr}: no REKEY_SA */
		p = t_step(x, IKE_CREATE_CHILD_SA, false);
		t_open(y, p, &inner);
		assert_null(ike_find_notify(&inner, IKE_N_REKEY_SA));
		n = ike_find_notify(&inner, IKE_N_SA_RESOURCE_INFO);
		assert_non_null(n);
		assert_int_equal(n->len, 2);
		assert_int_equal(n->data[0] << 8 | n->data[1], 2);
		assert_int_equal(ike_has(&inner, IKE_PT_KE), rows[i].pfs);
		/* y installed it before answering, beside the pair with the same selectors */
		assert_int_equal(t_side[y].n_up, 2);
		new_y = last(y);
		assert_int_equal(new_y.ev.rekey_of, 0);
		assert_int_equal(new_y.ev.sibling_of, old_y.ev.id);
		assert_int_equal(new_y.ev.resource, 0); /* the resource is x's to know */

		/* CREATE_CHILD_SA response: HDR, SK{SA(ESP, y's new inbound SPI), Nr, [KEr], TSi,
		 * TSr} */
		p = t_step(y, IKE_CREATE_CHILD_SA, true);
		assert_int_equal(t_side[x].n_up, 2);
		new_x = last(x);
		assert_int_equal(new_x.ev.rekey_of, 0);
		assert_int_equal(new_x.ev.sibling_of, old_x.ev.id);
		assert_int_equal(new_x.ev.resource, 2);
		t_assert_mirror(&new_x, &new_y);
		assert_same_pair(&new_x.ev.in, &old_x.ev.in);
		assert_int_not_equal(new_x.ev.in.spi, old_x.ev.in.spi);
		assert_int_not_equal(new_x.ev.out.spi, old_x.ev.out.spi);
		assert_memory_not_equal(new_x.km_out, old_x.km_out, old_x.ev.out.keymat_len);
		/* nothing replaced, nothing deleted: both pairs live on both sides */
		assert_int_equal(t_queued(), 0);
		assert_int_equal(t_side[x].n_down + t_side[y].n_down, 0);
		assert_int_equal(t_live(x), 2);
		assert_int_equal(t_live(y), 2);
		assert_int_equal(T_STAT(x, child_added), 1);
		assert_int_equal(T_STAT(y, child_added), 1);
		assert_int_equal(T_STAT(x, child_rekeys) + T_STAT(y, child_rekeys), 0);

		/* two more at once: one exchange at a time, both come up */
		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 3, t_now), 0);
		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 4, t_now), 0);
		t_pump();
		assert_int_equal(t_live(x), 4);
		assert_int_equal(t_live(y), 4);
		assert_int_equal(live_with_resource(x, 3), 1);
		assert_int_equal(live_with_resource(x, 4), 1);

		/* a rekey of an added pair keeps its resource, whichever side rekeys it */
		assert_int_equal(ike_rekey_child(t_side[x].e, new_x.ev.id, t_now), 0);
		t_pump();
		assert_int_equal(last(x).ev.rekey_of, new_x.ev.id);
		assert_int_equal(last(x).ev.resource, 2);
		assert_true(t_down(x, new_x.ev.id));
		assert_int_equal(ike_rekey_child(t_side[y].e, last(y).ev.id, t_now), 0);
		t_pump();
		assert_int_equal(last(x).ev.resource, 2);
		assert_int_equal(live_with_resource(x, 2), 1);
		assert_int_equal(t_live(x), 4);
		assert_int_equal(t_live(y), 4);

		/* asked for while its template is being rekeyed: added beside the successor */
		assert_int_equal(ike_rekey_child(t_side[x].e, old_x.ev.id, t_now), 0);
		assert_int_equal(ike_add_child(t_side[x].e, old_x.ev.id, 5, t_now), 0);
		t_pump();
		assert_true(t_down(x, old_x.ev.id));
		assert_int_equal(live_with_resource(x, 5), 1);
		for (int k = 0; k < t_side[x].n_up; k++)
			if (t_side[x].up[k].ev.rekey_of == old_x.ev.id)
				assert_int_equal(last(x).ev.sibling_of, t_side[x].up[k].ev.id);
		assert_int_equal(last(x).ev.resource, 5);
		assert_int_equal(t_live(x), 5);
		assert_int_equal(t_live(y), 5);

		/* deleting one added pair leaves the others */
		for (int k = 0; k < t_side[x].n_up; k++) {
			const struct t_child *c = &t_side[x].up[k];

			if (!t_down(x, c->ev.id) && c->ev.resource == 3)
				assert_int_equal(ike_delete(t_side[x].e, 0, c->ev.id, t_now), 0);
		}
		t_pump();
		assert_int_equal(live_with_resource(x, 3), 0);
		assert_int_equal(t_live(x), 4);
		assert_int_equal(t_live(y), 4);

		/* the peer's child_up refusing it: no pair on either side, the others untouched */
		t_side[y].refuse_child = -ENOSPC;
		assert_int_equal(ike_add_child(t_side[x].e, last(x).ev.id, 6, t_now), 0);
		t_pump();
		t_side[y].refuse_child = 0;
		assert_int_equal(live_with_resource(x, 6), 0);
		assert_int_equal(t_live(x), 4);
		assert_int_equal(t_live(y), 4);
		assert_int_equal(t_sas(x, "established"), 1);
	}
	t_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce_order),
		cmocka_unit_test(test_child_rekey),
		cmocka_unit_test(test_child_rekey_transport),
		cmocka_unit_test(test_child_rekey_timer),
		cmocka_unit_test(test_child_rekey_lost),
		cmocka_unit_test(test_child_rekey_collision),
		cmocka_unit_test(test_child_rekey_collision_reordered),
		cmocka_unit_test(test_rekey_vs_delete),
		cmocka_unit_test(test_rekey_unknown_child),
		cmocka_unit_test(test_rekey_no_proposal),
		cmocka_unit_test(test_rekey_invalid_ke),
		cmocka_unit_test(test_ike_rekey),
		cmocka_unit_test(test_ike_rekey_no_delete),
		cmocka_unit_test(test_ike_rekey_lost_and_invalid_ke),
		cmocka_unit_test(test_ike_rekey_collision),
		cmocka_unit_test(test_ike_rekey_collision_reordered),
		cmocka_unit_test(test_child_vs_ike_rekey),
		cmocka_unit_test(test_add_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
