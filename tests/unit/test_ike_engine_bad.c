/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE engine refusing, our initiator against our responder (ike_engine_test.h):
 * INVALID_KE_PAYLOAD and the initiator's retry with the group asked for, NO_PROPOSAL_CHOSEN (IKE
 * and ESP), a wrong PSK and a wrong Ed25519 key (AUTHENTICATION_FAILED both ways, no child_up), an
 * unknown identity, COOKIEs under half-open load (threshold 1, secret rotation, a forged cookie),
 * a child_up that refuses, a rekey of a pair B lacks (CHILD_SA_NOT_FOUND), unknown critical
 * payloads (UNSUPPORTED_CRITICAL_PAYLOAD, plain and encrypted), and garbage: short, malformed and
 * truncated datagrams and every single-byte change of an encrypted request, each counted and
 * dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ike_engine_test.h"

static void
establish(int i, int r)
{
	t_step(i, IKE_SA_INIT, false);
	t_step(r, IKE_SA_INIT, true);
	t_step(i, IKE_AUTH, false);
	t_step(r, IKE_AUTH, true);
	assert_int_equal(t_queued(), 0);
}

static const struct ike_notify *
plain_notify(const struct t_pkt *p, uint16_t type)
{
	static struct ike_msg m;

	t_parse(p, &m);
	return ike_find_notify(&m.pl, type);
}

static uint64_t
drops(int side)
{
	const struct ike_stats *s = ike_engine_stats(t_side[side].e);

	return s->bad_message + s->bad_icv + s->unknown_spi + s->bad_msg_id;
}

/* ---- INVALID_KE_PAYLOAD ---- */

static void
test_invalid_ke(void **state)
{
	const struct ike_notify *n;
	const struct t_pkt *p;
	struct ike_msg m;

	(void)state;
	t_reset();
	t_start();
	/* A guesses group 19 (ECP-256) for its KE and offers 19 and 31; B does 31 only */
	ike_engine_test_first_ke(t_side[T_A].e, IKE_DH_ECP256);
	t_initiate(T_A, T_B);
	/* HDR(SPIi, 0), SAi1(DH 19, 31), KEi(19), Ni, N(NAT_DETECTION_*) */
	p = t_step(T_A, IKE_SA_INIT, false);
	t_parse(p, &m);
	assert_int_equal(m.pl.ke.group, IKE_DH_ECP256);
	/* HDR(SPIi, 0), N(INVALID_KE_PAYLOAD, 31): B keeps nothing */
	p = t_step(T_B, IKE_SA_INIT, true);
	n = plain_notify(p, IKE_N_INVALID_KE_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->len, 2);
	assert_int_equal(n->data[0] << 8 | n->data[1], IKE_DH_CURVE25519);
	assert_int_equal(t_sas(T_B, NULL), 0);
	/* HDR(SPIi, 0), SAi1, KEi(31), Ni, N(NAT_DETECTION_*): the same SPIi */
	p = t_step(T_A, IKE_SA_INIT, false);
	t_parse(p, &m);
	assert_int_equal(m.pl.ke.group, IKE_DH_CURVE25519);
	assert_int_equal(m.hdr.spi_i, t_sa(T_A)->spi_i);
	/* HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*) */
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(T_STAT(T_B, invalid_ke), 1);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_assert_mirror(&t_side[T_A].up[0], &t_side[T_B].up[0]);
	t_stop();
}

/* ---- NO_PROPOSAL_CHOSEN ---- */

static void
test_no_proposal(void **state)
{
	const struct ike_proposal chacha512 = { IKE_ENCR_CHACHA20_POLY1305, 256,
						IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519, false };
	const struct ike_proposal aes128 = { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256,
					     IKE_DH_CURVE25519, false };
	const struct t_pkt *p;

	(void)state;
	/* IKE: A offers only ChaCha20/SHA-512, B takes only AES-GCM-128/SHA-256 */
	t_reset();
	t_side[T_A].cfg.peers[T_B].n_ike = 1;
	t_side[T_A].cfg.peers[T_B].ike[0] = chacha512;
	for (int k = 0; k < T_SIDES; k++) {
		t_side[T_B].cfg.peers[k].n_ike = 1;
		t_side[T_B].cfg.peers[k].ike[0] = aes128;
	}
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	/* HDR(SPIi, 0), N(NO_PROPOSAL_CHOSEN) */
	p = t_step(T_B, IKE_SA_INIT, true);
	assert_non_null(plain_notify(p, IKE_N_NO_PROPOSAL_CHOSEN));
	assert_int_equal(T_STAT(T_B, no_proposal), 1);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	assert_int_equal(t_sas(T_A, NULL) + t_sas(T_B, NULL), 0);
	assert_int_equal(t_queued(), 0);

	/* ESP: the IKE SA stands, the CHILD SA does not */
	t_reset();
	t_side[T_A].cfg.peers[T_B].n_esp = 1;
	t_side[T_A].cfg.peers[T_B].esp[0] =
		(struct ike_proposal){ IKE_ENCR_CHACHA20_POLY1305, 256, 0, 0, false };
	t_side[T_B].cfg.peers[T_A].n_esp = 1;
	t_side[T_B].cfg.peers[T_A].esp[0] =
		(struct ike_proposal){ IKE_ENCR_AES_GCM_16, 128, 0, 0, true }; /* ESN only */
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	/* HDR, SK{IDr, AUTH, N(NO_PROPOSAL_CHOSEN)} */
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(T_STAT(T_B, no_proposal), 1);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	assert_int_equal(t_sas(T_A, "established") + t_sas(T_B, "established"), 2);
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 0);
	t_stop();
}

/* ---- authentication ---- */

static void
test_wrong_psk(void **state)
{
	static const uint8_t other[32] = "not the key that A uses at all.";
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_side[T_B].cfg.peers[T_A].psk = other;
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	/* HDR, SK{IDi, IDr, AUTH (with A's key), ...} */
	t_step(T_A, IKE_AUTH, false);
	assert_int_equal(T_STAT(T_B, auth_failed), 1);
	/* HDR, SK{N(AUTHENTICATION_FAILED)} */
	p = t_step(T_B, IKE_AUTH, true);
	assert_int_equal(T_STAT(T_A, auth_failed), 1);
	assert_int_equal(t_sas(T_A, NULL), 0);
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 0);
	/* B keeps the refused SA only to repeat its answer to a retransmission, then forgets it */
	assert_int_equal(t_sas(T_B, "deleting"), 1);
	assert_int_equal(t_side[T_B].e->half_open, 0);
	t_advance(10000);
	assert_int_equal(t_sas(T_B, NULL), 0);
	assert_int_equal(t_queued(), 0);

	/* an identity B has no peer for */
	t_reset();
	t_side[T_A].cfg.local_id.data[0] = 'z'; /* "z.example" */
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	/* HDR, SK{N(AUTHENTICATION_FAILED)} */
	p = t_step(T_B, IKE_AUTH, true);
	assert_int_equal(p->d.len, 28 + 4 + 8 + 8 + 1 + 16); /* HDR, SK{N}: nothing else */
	assert_int_equal(T_STAT(T_B, unknown_peer), 1);
	assert_int_equal(T_STAT(T_B, auth_failed), 1);
	assert_int_equal(T_STAT(T_A, auth_failed), 1);
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 0);
	t_stop();
}

static void
test_wrong_ed25519(void **state)
{
	uint8_t wrong[32];
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	memset(wrong, 0x5a, sizeof(wrong));
	/* B's key at A is wrong: B verifies A, answers, and A refuses B */
	t_reset();
	t_ed25519(wrong);
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	assert_int_equal(t_side[T_B].n_up, 1);
	/* HDR, SK{IDr, AUTH (B's signature), SAr2, TSi, TSr}: A cannot verify it */
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(T_STAT(T_A, auth_failed), 1);
	assert_int_equal(t_side[T_A].n_up, 0);
	assert_int_equal(t_sas(T_A, NULL), 0);
	/* HDR, SK{N(AUTHENTICATION_FAILED)} (2.21.2): B drops the IKE SA and its CHILD SA */
	p = t_drop(T_A, IKE_INFORMATIONAL, false);
	t_open(T_B, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_AUTHENTICATION_FAILED));
	t_inject(T_A, T_B, p->d.data, p->d.len, IKE_NATT_PORT);
	assert_int_equal(t_side[T_B].n_down, 1);
	assert_int_equal(t_sas(T_B, NULL), 0);
	assert_int_equal(T_STAT(T_B, auth_failed), 1);
	t_stop();
}

/* ---- COOKIE ---- */

static uint8_t cookie_flip;

static void
flip_cookie(struct t_pkt *p)
{
	/* in an initiator's IKE_SA_INIT that starts with N(COOKIE): its last byte */
	if (p->from == T_C && p->d.len > 28 + 8 + 33 && p->d.data[16] == IKE_PT_NOTIFY &&
	    p->d.data[28 + 6] == 0x40 && p->d.data[28 + 7] == 0x06)
		p->buf[28 + 8 + 32] ^= cookie_flip;
}

static void
half_open_a(void)
{
	/* A's IKE SA with B stays half-open: A falls silent after IKE_SA_INIT */
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_mute[T_A] = true;
	t_step(T_B, IKE_SA_INIT, true);
	for (int i = 0; i < 20; i++)
		t_advance(100); /* A gives up (retransmissions into the void); B still waits */
	assert_int_equal(t_sas(T_A, NULL), 0);
	assert_int_equal(t_side[T_B].e->half_open, 1);
}

static void
test_cookie(void **state)
{
	const struct ike_notify *n;
	const struct t_pkt *p;
	struct ike_msg m;

	(void)state;
	t_reset();
	t_side[T_B].cfg.cookie_threshold = 1;
	t_side[T_B].cfg.half_open_timeout_s = 1000;
	t_side[T_C].cfg.retransmit_base_ms = 10 * IKE_COOKIE_ROTATE_MS; /* quiet while time jumps */
	t_start();
	half_open_a();

	t_initiate(T_C, T_B);
	/* C -> B: HDR(SPIi, 0), SAi1, KEi, Ni, N(NAT_DETECTION_*) */
	t_step(T_C, IKE_SA_INIT, false);
	/* B -> C: HDR(SPIi, 0), N(COOKIE): stateless, B holds nothing for C */
	p = t_step(T_B, IKE_SA_INIT, true);
	n = plain_notify(p, IKE_N_COOKIE);
	assert_non_null(n);
	assert_int_equal(n->len, 33);
	assert_int_equal(T_STAT(T_B, cookies_sent), 1);
	assert_int_equal(t_sas(T_B, NULL), 1);
	/* one secret rotation later the cookie still counts */
	t_advance(IKE_COOKIE_ROTATE_MS);
	/* C -> B: HDR(SPIi, 0), N(COOKIE), SAi1, KEi, Ni, N(NAT_DETECTION_*) */
	p = t_step(T_C, IKE_SA_INIT, false);
	t_parse(p, &m);
	assert_int_equal(m.hdr.next_payload, IKE_PT_NOTIFY);
	assert_int_equal(m.pl.notify[0].type, IKE_N_COOKIE);
	/* B -> C: HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*) */
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_C, IKE_AUTH, false);
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_side[T_C].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_assert_mirror(&t_side[T_C].up[0], &t_side[T_B].up[0]);
	assert_int_equal(T_STAT(T_B, cookies_sent), 1);

	/* two rotations: too old, another COOKIE */
	t_reset();
	t_side[T_B].cfg.cookie_threshold = 1;
	t_side[T_B].cfg.half_open_timeout_s = 1000;
	t_side[T_C].cfg.retransmit_base_ms = 10 * IKE_COOKIE_ROTATE_MS; /* quiet while time jumps */
	t_start();
	half_open_a();
	t_initiate(T_C, T_B);
	t_step(T_C, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_advance(2 * IKE_COOKIE_ROTATE_MS);
	t_step(T_C, IKE_SA_INIT, false);
	p = t_step(T_B, IKE_SA_INIT, true);
	assert_non_null(plain_notify(p, IKE_N_COOKIE));
	assert_int_equal(T_STAT(T_B, cookies_sent), 2);

	/* a cookie changed on the way is never taken: C gives up after IKE_INIT_RETRIES rounds */
	t_reset();
	t_side[T_B].cfg.cookie_threshold = 1;
	t_side[T_B].cfg.half_open_timeout_s = 1000;
	t_side[T_C].cfg.retransmit_base_ms = 10 * IKE_COOKIE_ROTATE_MS; /* quiet while time jumps */
	t_start();
	half_open_a();
	cookie_flip = 0x01;
	t_mangle = flip_cookie;
	t_initiate(T_C, T_B);
	t_pump();
	assert_int_equal(T_STAT(T_B, cookies_sent), 1 + IKE_INIT_RETRIES);
	assert_int_equal(t_sas(T_C, NULL), 0);
	assert_int_equal(t_sas(T_B, NULL), 1); /* A's half-open one only */
	t_stop();
}

/* ---- child_up refusals ---- */

static void
test_child_refused(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	/* the responder's child_up refuses: it answers NO_PROPOSAL_CHOSEN */
	t_reset();
	t_start();
	t_side[T_B].refuse_child = -ENOSPC;
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	/* HDR, SK{IDr, AUTH, N(NO_PROPOSAL_CHOSEN)} */
	p = t_step(T_B, IKE_AUTH, true);
	t_open(T_A, p, &inner);
	assert_non_null(ike_find_notify(&inner, IKE_N_NO_PROPOSAL_CHOSEN));
	assert_int_equal(t_side[T_A].n_up, 0);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	assert_int_equal(t_sas(T_A, "established"), 1);

	/* the initiator's child_up refuses: it deletes the pair with the peer */
	t_reset();
	t_start();
	t_side[T_A].refuse_child = -ENOSPC;
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_side[T_A].n_up, 0);
	assert_int_equal(t_side[T_B].n_up, 1);
	/* HDR, SK{D(ESP, A's inbound SPI)} */
	p = t_step(T_A, IKE_INFORMATIONAL, false);
	t_open(T_B, p, &inner);
	assert_int_equal(ike_delete_spi(&inner.del[0], 0), t_side[T_B].up[0].ev.out.spi);
	assert_int_equal(t_side[T_B].n_down, 1);
	/* HDR, SK{D(ESP, B's inbound SPI)} */
	t_step(T_B, IKE_INFORMATIONAL, true);
	assert_int_equal(t_side[T_A].n_down, 0); /* never up: no child_down owed */
	assert_int_equal(t_sa(T_A)->n_children, 0);
	assert_int_equal(t_sa(T_B)->n_children, 0);
	assert_int_equal(t_sas(T_A, "established") + t_sas(T_B, "established"), 2);
	t_stop();
}

/* ---- CREATE_CHILD_SA and unknown critical payloads inside an IKE SA ---- */

static void
test_create_child_refused(void **state)
{
	/* N(REKEY_SA, ESP, SPI 0x01020304: no pair of B's) alone */
	static const uint8_t rekey[] = { 0, 0, 0, 12, IKE_PROTO_ESP, 4, 0x40, 0x09, 1, 2, 3, 4 };
	static const uint8_t critical[] = { 0, 0x80, 0, 4 }; /* type 200, critical, empty */
	uint8_t msg[1024];
	struct ike_payloads inner;
	struct ike_sa_obj *a;
	size_t len;
	const struct t_pkt *p;
	const struct ike_notify *n;

	(void)state;
	t_reset();
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);
	a = t_sa(T_A);

	/* HDR(CREATE_CHILD_SA), SK{N(REKEY_SA, ESP, 0x01020304)} ->
	 * HDR, SK{N(CHILD_SA_NOT_FOUND, ESP, 0x01020304)} (2.25: the SPI copied) */
	assert_int_equal(ike_seal_raw(t_side[T_A].e, a, IKE_CREATE_CHILD_SA, false, a->tx_next,
				      IKE_PT_NOTIFY, rekey, sizeof(rekey), msg, sizeof(msg), &len),
			 0);
	t_inject(T_A, T_B, msg, len, IKE_PORT);
	p = t_drop(T_B, IKE_CREATE_CHILD_SA, true);
	t_open(T_A, p, &inner);
	n = ike_find_notify(&inner, IKE_N_CHILD_SA_NOT_FOUND);
	assert_non_null(n);
	assert_int_equal(n->proto, IKE_PROTO_ESP);
	assert_int_equal(n->spi_size, 4);
	assert_memory_equal(n->spi, rekey + 8, 4);
	assert_int_equal(T_STAT(T_B, create_child_refused), 1);

	/* HDR(INFORMATIONAL), SK{<200, critical>} -> HDR, SK{N(UNSUPPORTED_CRITICAL_PAYLOAD, 200)}
	 */
	assert_int_equal(ike_seal_raw(t_side[T_A].e, a, IKE_INFORMATIONAL, false, a->tx_next + 1,
				      200, critical, sizeof(critical), msg, sizeof(msg), &len),
			 0);
	t_inject(T_A, T_B, msg, len, IKE_PORT);
	p = t_drop(T_B, IKE_INFORMATIONAL, true);
	t_open(T_A, p, &inner);
	n = ike_find_notify(&inner, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->len, 1);
	assert_int_equal(n->data[0], 200);
	assert_int_equal(T_STAT(T_B, unsupported_critical), 1);
	assert_int_equal(t_sas(T_B, "established"), 1);
	assert_int_equal(t_side[T_B].n_down, 0);
	/* a rekey starts (test_ike_rekey.c follows it through); a second one is refused */
	assert_int_equal(ike_rekey_child(t_side[T_A].e, t_side[T_A].up[0].ev.id, t_now), 0);
	assert_int_equal(ike_rekey_child(t_side[T_A].e, t_side[T_A].up[0].ev.id, t_now), -EBUSY);
	assert_int_equal(ike_rekey_child(t_side[T_A].e, 9999, t_now), -ENOENT);
	t_stop();
}

/* An IKE_SA_INIT request written here: SA (AES-GCM-128, SHA-256, 31), KE, Ni, then an extra
 * payload of type 200 (critical or not). */
static size_t
init_with_unknown(uint8_t *buf, size_t cap, bool critical)
{
	static const uint8_t body[4] = { 1, 2, 3, 4 };
	uint8_t ke_data[32], nonce[32];
	struct ike_sa sa = { .n_proposals = 1 };
	struct ike_hdr h = { .spi_i = 0x0102030405060708ULL,
			     .exchange = IKE_SA_INIT,
			     .flags = IKE_FLAG_INITIATOR };
	struct ike_writer w;
	size_t len;

	randombytes_buf(ke_data, sizeof(ke_data));
	randombytes_buf(nonce, sizeof(nonce));
	sa.prop[0] =
		(struct ike_wire_proposal){ .num = 1, .proto = IKE_PROTO_IKE, .n_transforms = 3 };
	sa.prop[0].xf[0] = (struct ike_transform){
		.type = IKE_XF_ENCR, .id = IKE_ENCR_AES_GCM_16, .has_key_len = true, .key_len = 128
	};
	sa.prop[0].xf[1] =
		(struct ike_transform){ .type = IKE_XF_PRF, .id = IKE_PRF_HMAC_SHA2_256 };
	sa.prop[0].xf[2] = (struct ike_transform){ .type = IKE_XF_DH, .id = IKE_DH_CURVE25519 };
	ike_wr_init(&w, buf, cap, &h);
	ike_wr_sa(&w, &sa);
	ike_wr_ke(&w, &(struct ike_ke){ .group = IKE_DH_CURVE25519, .data = ke_data, .len = 32 });
	ike_wr_nonce(&w, nonce, sizeof(nonce));
	ike_wr_raw(&w, 200, critical, body, sizeof(body));
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	return len;
}

static void
test_unsupported_critical(void **state)
{
	uint8_t msg[512];
	size_t len;
	const struct ike_notify *n;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_start();
	/* HDR, SAi1, KEi, Ni, <200 critical> -> HDR, N(UNSUPPORTED_CRITICAL_PAYLOAD, 200) */
	len = init_with_unknown(msg, sizeof(msg), true);
	t_inject(T_C, T_B, msg, len, IKE_PORT);
	p = t_drop(T_B, IKE_SA_INIT, true);
	n = plain_notify(p, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->len, 1);
	assert_int_equal(n->data[0], 200);
	assert_int_equal(t_sas(T_B, NULL), 0);
	/* not critical: ignored, answered as usual */
	len = init_with_unknown(msg, sizeof(msg), false);
	t_inject(T_C, T_B, msg, len, IKE_PORT);
	p = t_drop(T_B, IKE_SA_INIT, true);
	assert_null(plain_notify(p, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD));
	assert_int_equal(t_sas(T_B, "half_open"), 1);
	t_stop();
}

/* ---- garbage ---- */

static void
test_garbage(void **state)
{
	static uint8_t init[IKE_MAX_DGRAM], buf[IKE_MAX_DGRAM];
	static const uint8_t v1[28] = { 1, 2, 3,  4,	5,  6, 7, 8, 0, 0, 0, 0, 0, 0,
					0, 0, 33, 0x10, 34, 0, 0, 0, 0, 0, 0, 0, 0, 28 };
	static const uint8_t badlen[28] = { 1, 2, 3, 4,	   5,  6,    7, 8, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 99 };
	static const uint8_t pastend[32] = { 1, 2, 3, 4, 5, 6,	7,    8,  0,	0, 0,
					     0, 0, 0, 0, 0, 33, 0x20, 34, 0x08, 0, 0,
					     0, 0, 0, 0, 0, 32, 0,    0,  0,	99 };
	size_t init_len;
	uint64_t before, cases = 0;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_start();
	/* a real IKE_SA_INIT request from A, kept */
	t_initiate(T_A, T_B);
	p = t_drop(T_A, IKE_SA_INIT, false);
	memcpy(init, p->d.data, init_len = p->d.len);

	before = T_STAT(T_B, bad_message);
	t_inject(T_C, T_B, init, 0, 0), cases++;
	t_inject(T_C, T_B, init, 1, 0), cases++;
	t_inject(T_C, T_B, init, 27, 0), cases++;
	t_inject(T_C, T_B, v1, sizeof(v1), 0), cases++;
	t_inject(T_C, T_B, badlen, sizeof(badlen), 0), cases++;
	t_inject(T_C, T_B, pastend, sizeof(pastend), 0), cases++;
	for (int i = 0; i < 64; i++) {
		randombytes_buf(buf, 300);
		t_inject(T_C, T_B, buf, 300, 0), cases++;
		t_inject(T_C, T_B, buf, 300, IKE_NATT_PORT), cases++;
	}
	/* every truncation, as cut (the header's length is then wrong) and with the length
	 * patched to fit (the chain is then cut) */
	for (size_t l = 0; l < init_len; l++) {
		t_inject(T_C, T_B, init, l, 0), cases++;
		if (l >= IKE_HDR_LEN) {
			memcpy(buf, init, l);
			buf[24] = (uint8_t)(l >> 24), buf[25] = (uint8_t)(l >> 16);
			buf[26] = (uint8_t)(l >> 8), buf[27] = (uint8_t)l;
			t_inject(T_C, T_B, buf, l, 0), cases++;
		}
	}
	/* random bytes mostly fail the header; a few may look like a message of no SA of ours */
	assert_int_equal(T_STAT(T_B, bad_message) - before + T_STAT(T_B, unknown_spi) +
				 T_STAT(T_B, bad_msg_id),
			 cases);
	assert_int_equal(t_sas(T_B, NULL), 0);
	assert_int_equal(t_queued(), 0);
	assert_int_equal(T_STAT(T_B, rx), cases);
	assert_int_equal(T_STAT(T_B, tx), 0);
	/* and a real exchange still works */
	t_inject(T_A, T_B, init, init_len, 0);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_stop();
}

/* Every single-byte change of an encrypted request (a liveness check) is dropped and counted:
 * the header (SPIs, flags, message ID, length) or the ICV (bad_icv), never answered. */
static void
test_tampered_request(void **state)
{
	static uint8_t req[IKE_MAX_DGRAM], buf[IKE_MAX_DGRAM];
	size_t len;
	uint64_t before;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_side[T_A].cfg.peers[T_B].dpd_s = 1;
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);
	t_advance(1000);
	/* HDR, SK{} */
	p = t_drop(T_A, IKE_INFORMATIONAL, false);
	memcpy(req, p->d.data, len = p->d.len);
	before = drops(T_B);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(buf, req, len);
			buf[i] ^= (uint8_t)(1 << bit);
			t_inject(T_A, T_B, buf, len, IKE_PORT);
		}
	}
	assert_int_equal(drops(T_B) - before, 2 * len);
	assert_int_equal(t_queued(), 0);
	assert_true(T_STAT(T_B, bad_icv) > 0);
	/* the request itself is still good */
	t_inject(T_A, T_B, req, len, IKE_PORT);
	t_drop(T_B, IKE_INFORMATIONAL, true);
	assert_int_equal(t_sas(T_B, "established"), 1);
	t_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_ke),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_wrong_ed25519),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_child_refused),
		cmocka_unit_test(test_create_child_refused),
		cmocka_unit_test(test_unsupported_critical),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_tampered_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
