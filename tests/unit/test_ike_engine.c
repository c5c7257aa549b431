/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE engine, our initiator against our responder (ike_engine_test.h): an IKE SA and its first
 * CHILD SA for each suite (both child_up events mirror each other: SPIs crossed, the same KEYMAT,
 * AEAD, mode and selectors), peers found by IPv4 / RFC 822 / FQDN identities, NAT detection both
 * ways and the move to port 4500, traffic selector narrowing, transport mode, Ed25519 raw keys,
 * lost messages (retransmission with backoff, the stored response repeated byte for byte), Delete
 * of a CHILD SA and of the IKE SA, INITIAL_CONTACT, liveness checks and a peer that falls silent.
 * Refusals and hostile input: test_ike_engine_bad.c.
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

/* The four messages of a plain set-up, i initiating with r. */
static void
establish(int i, int r)
{
	/* IKE_SA_INIT request: HDR(SPIi, 0), SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP),
	 * N(NAT_DETECTION_DESTINATION_IP) */
	t_step(i, IKE_SA_INIT, false);
	/* IKE_SA_INIT response: HDR(SPIi, SPIr), SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP),
	 * N(NAT_DETECTION_DESTINATION_IP) */
	t_step(r, IKE_SA_INIT, true);
	/* IKE_AUTH request: HDR, SK{IDi, IDr, AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr} */
	t_step(i, IKE_AUTH, false);
	/* IKE_AUTH response: HDR, SK{IDr, AUTH, SAr2, TSi, TSr} */
	t_step(r, IKE_AUTH, true);
	assert_int_equal(t_queued(), 0);
}

static struct esp_ts
ts(const char *start, const char *end, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct esp_ts t = { .start.family = 4, .end.family = 4, .proto = proto };

	inet_pton(AF_INET, start, &t.start.v4);
	inet_pton(AF_INET, end, &t.end.v4);
	t.port_lo = lo;
	t.port_hi = hi;
	return t;
}

static void
assert_ts(const struct esp_ts *got, const struct esp_ts *want)
{
	assert_int_equal(got->start.v4, want->start.v4);
	assert_int_equal(got->end.v4, want->end.v4);
	assert_int_equal(got->proto, want->proto);
	assert_int_equal(got->port_lo, want->port_lo);
	assert_int_equal(got->port_hi, want->port_hi);
}

/* ---- one set-up per suite ---- */

static const struct {
	const char *name;
	struct ike_proposal ike;
	struct ike_proposal esp;
	enum esp_aead aead;
} suites[] = {
	{ "aes128gcm16-prfsha256-x25519 / aes128gcm16",
	  { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519, false },
	  { IKE_ENCR_AES_GCM_16, 128, 0, 0, false },
	  ESP_AEAD_AES128_GCM16 },
	{ "aes256gcm16-prfsha384-x25519 / aes256gcm16",
	  { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, IKE_DH_CURVE25519, false },
	  { IKE_ENCR_AES_GCM_16, 256, 0, 0, false },
	  ESP_AEAD_AES256_GCM16 },
	{ "chacha20poly1305-prfsha512-x25519 / chacha20poly1305",
	  { IKE_ENCR_CHACHA20_POLY1305, 0, IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519, false },
	  { IKE_ENCR_CHACHA20_POLY1305, 256, 0, 0, false },
	  ESP_AEAD_CHACHA20_POLY1305 },
};

static void
test_establish_suites(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		struct ike_peer_cfg *a, *b;
		const struct t_child *ca, *cb;

		print_message("  %s\n", suites[i].name);
		t_reset();
		a = &t_side[T_A].cfg.peers[T_B];
		b = &t_side[T_B].cfg.peers[T_A];
		a->n_ike = a->n_esp = 1;
		a->ike[0] = suites[i].ike;
		a->esp[0] = suites[i].esp;
		/* B accepts all three of each; it must take the one A offers */
		b->n_ike = b->n_esp = 3;
		for (int k = 0; k < 3; k++) {
			b->ike[k] = suites[2 - k].ike;
			b->esp[k] = suites[2 - k].esp;
		}
		t_start();
		t_initiate(T_A, T_B);
		establish(T_A, T_B);

		assert_int_equal(t_side[T_A].n_up, 1);
		assert_int_equal(t_side[T_B].n_up, 1);
		ca = &t_side[T_A].up[0];
		cb = &t_side[T_B].up[0];
		t_assert_mirror(ca, cb);
		assert_int_equal(ca->ev.in.aead, suites[i].aead);
		assert_int_equal(ca->ev.in.keymat_len, esp_aead_keymat_len(suites[i].aead));
		assert_int_equal(ca->ev.in.mode, ESP_MODE_TUNNEL);
		assert_false(ca->ev.in.udp_encap);
		assert_false(ca->ev.in.esn);
		assert_string_equal(ca->ev.peer, "peer-b");
		assert_string_equal(cb->ev.peer, "peer-a");
		assert_int_equal(ca->ev.id, 1);
		assert_int_equal(ca->ev.rekey_of, 0);
		/* tunnel endpoints: the IKE endpoints; default selectors: the hosts themselves */
		assert_int_equal(cb->ev.in.local.v4, t_side[T_B].addr.v4);
		assert_int_equal(cb->ev.in.remote.v4, t_side[T_A].addr.v4);
		assert_int_equal(cb->ev.out.local.v4, t_side[T_B].addr.v4);
		assert_int_equal(cb->ev.in.n_local_ts, 1);
		assert_int_equal(cb->ev.in.local_ts[0].start.v4, t_side[T_B].addr.v4);
		assert_int_equal(cb->ev.in.local_ts[0].end.v4, t_side[T_B].addr.v4);
		assert_int_equal(cb->ev.in.remote_ts[0].start.v4, t_side[T_A].addr.v4);
		/* from the peer configuration */
		assert_int_equal(cb->ev.in.replay_window, 128);
		assert_int_equal(cb->ev.in.lifetime.hard_seconds, 3600);
		/* the IKE SA's suite on both sides */
		assert_int_equal(t_sa(T_A)->suite.encr, suites[i].ike.encr);
		assert_int_equal(t_sa(T_B)->suite.prf, suites[i].ike.prf);
		assert_int_equal(t_sas(T_A, "established"), 1);
		assert_int_equal(t_sas(T_B, "established"), 1);
		assert_int_equal(T_STAT(T_A, ike_sa_up), 1);
		assert_int_equal(T_STAT(T_B, child_sa_up), 1);
		assert_int_equal(T_STAT(T_B, tx), 2);
		assert_int_equal(T_STAT(T_A, retransmits) + T_STAT(T_B, retransmits), 0);
		assert_int_equal(t_side[T_B].e->half_open, 0);
	}
	t_stop();
}

/* ---- identities: the peer is found by the IDi it sends ---- */

static void
test_identities(void **state)
{
	static const struct {
		const char *name;
		uint8_t a_type; /* what A sends */
		const char *a_id;
		uint8_t b_type; /* what B has configured for A */
		const char *b_id;
		bool ok;
	} rows[] = {
		{ "IPv4 address", IKE_ID_IPV4_ADDR, "\x0a\x00\x00\x02", IKE_ID_IPV4_ADDR,
		  "\x0a\x00\x00\x02", true },
		{ "RFC 822, case differs", IKE_ID_RFC822_ADDR, "Alice@Example.ORG",
		  IKE_ID_RFC822_ADDR, "alice@example.org", true },
		{ "FQDN, case differs", IKE_ID_FQDN, "A.EXAMPLE", IKE_ID_FQDN, "a.example", true },
		{ "IPv4 address, other", IKE_ID_IPV4_ADDR, "\x0a\x00\x00\x09", IKE_ID_IPV4_ADDR,
		  "\x0a\x00\x00\x02", false },
		{ "same text, other type", IKE_ID_FQDN, "alice@example.org", IKE_ID_RFC822_ADDR,
		  "alice@example.org", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ike_id *a = &t_side[T_A].cfg.local_id, *b;
		size_t alen, blen;

		print_message("  %s\n", rows[i].name);
		t_reset();
		b = &t_side[T_B].cfg.peers[T_A].id;
		alen = rows[i].a_type == IKE_ID_IPV4_ADDR ? 4 : strlen(rows[i].a_id);
		blen = rows[i].b_type == IKE_ID_IPV4_ADDR ? 4 : strlen(rows[i].b_id);
		*a = (struct ike_id){ .type = rows[i].a_type, .len = (uint8_t)alen };
		memcpy(a->data, rows[i].a_id, alen);
		*b = (struct ike_id){ .type = rows[i].b_type, .len = (uint8_t)blen };
		memcpy(b->data, rows[i].b_id, blen);
		t_start();
		t_initiate(T_A, T_B);
		/* IKE_SA_INIT, then HDR, SK{IDi(type, data), IDr, AUTH, ...} and B's answer */
		t_pump();
		assert_int_equal(t_side[T_B].n_up, rows[i].ok);
		assert_int_equal(t_side[T_A].n_up, rows[i].ok);
		assert_int_equal(T_STAT(T_B, unknown_peer), !rows[i].ok);
		if (rows[i].ok)
			assert_string_equal(t_side[T_B].up[0].ev.peer, "peer-a");
	}
	t_stop();
}

/* ---- NAT ---- */

static void
test_nat(void **state)
{
	const struct t_pkt *p;
	const struct t_child *ca, *cb;

	(void)state;
	t_reset();
	t_nat = true; /* A is 198.51.100.7:40500 (and :40501 for its port 4500) to B */
	t_start();
	t_initiate(T_A, T_B);
	/* HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP = SHA-1(SPIi | 0 | 10.0.0.2 | 500)), ... */
	p = t_step(T_A, IKE_SA_INIT, false);
	assert_int_equal(p->d.local_port, IKE_PORT);
	/* HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*): B saw 198.51.100.7:40500 */
	t_step(T_B, IKE_SA_INIT, true);
	assert_true(t_sa(T_A)->nat_here);
	assert_false(t_sa(T_A)->nat_there);
	assert_true(t_sa(T_B)->nat_there);
	assert_false(t_sa(T_B)->nat_here);
	/* IKE_AUTH moves to port 4500 (2.23): HDR, SK{IDi, IDr, AUTH, ...} */
	p = t_step(T_A, IKE_AUTH, false);
	assert_int_equal(p->d.local_port, IKE_NATT_PORT);
	assert_int_equal(p->d.remote_port, IKE_NATT_PORT);
	/* B answers the NAT's port: HDR, SK{IDr, AUTH, SAr2, TSi, TSr} */
	p = t_step(T_B, IKE_AUTH, true);
	assert_int_equal(p->d.local_port, IKE_NATT_PORT);
	assert_int_equal(p->d.remote_port, 40501);

	ca = &t_side[T_A].up[0];
	cb = &t_side[T_B].up[0];
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	assert_true(ca->ev.in.udp_encap);
	assert_true(cb->ev.out.udp_encap);
	assert_int_equal(cb->ev.out.udp_local_port, IKE_NATT_PORT);
	assert_int_equal(cb->ev.out.udp_remote_port, 40501);
	assert_int_equal(ca->ev.out.udp_remote_port, IKE_NATT_PORT);
	/* B's tunnel goes to the NAT's address; A's selector is its address behind the NAT (B's
	 * default for a peer behind a NAT takes the one address it proposes) */
	assert_int_equal(cb->ev.out.remote.v4, htonl(0xc6336407)); /* 198.51.100.7 */
	assert_int_equal(cb->ev.in.n_remote_ts, 1);
	assert_int_equal(cb->ev.in.remote_ts[0].start.v4, t_side[T_A].addr.v4);
	t_assert_mirror(ca, cb);
	t_stop();
}

/* ---- traffic selectors ---- */

static void
test_ts_narrowing(void **state)
{
	struct ike_peer_cfg *a, *b;
	const struct t_child *ca, *cb;

	(void)state;
	t_reset();
	a = &t_side[T_A].cfg.peers[T_B];
	b = &t_side[T_B].cfg.peers[T_A];
	/* A proposes 10.1.0.0/16 === 10.2.0.0/16, everything */
	a->n_local_ts = a->n_remote_ts = 1;
	a->local_ts[0] = ts("10.1.0.0", "10.1.255.255", 0, 0, 65535);
	a->remote_ts[0] = ts("10.2.0.0", "10.2.255.255", 0, 0, 65535);
	/* B allows A's side 10.1.5.0/24 TCP 80 and 10.1.7.0/24, its own 10.2.0.0/24 and
	 * 10.9.0.0/16 (outside the proposal: must not appear) */
	b->n_remote_ts = b->n_local_ts = 2;
	b->remote_ts[0] = ts("10.1.5.0", "10.1.5.255", 6, 80, 80);
	b->remote_ts[1] = ts("10.1.7.0", "10.1.7.255", 0, 0, 65535);
	b->local_ts[0] = ts("10.2.0.0", "10.2.0.255", 0, 0, 65535);
	b->local_ts[1] = ts("10.9.0.0", "10.9.255.255", 0, 0, 65535);
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);
	ca = &t_side[T_A].up[0];
	cb = &t_side[T_B].up[0];
	t_assert_mirror(ca, cb);
	assert_int_equal(cb->ev.in.n_remote_ts, 2);
	assert_ts(&cb->ev.in.remote_ts[0],
		  (const struct esp_ts[]){ ts("10.1.5.0", "10.1.5.255", 6, 80, 80) });
	assert_ts(&cb->ev.in.remote_ts[1],
		  (const struct esp_ts[]){ ts("10.1.7.0", "10.1.7.255", 0, 0, 65535) });
	assert_int_equal(cb->ev.in.n_local_ts, 1);
	assert_ts(&cb->ev.in.local_ts[0],
		  (const struct esp_ts[]){ ts("10.2.0.0", "10.2.0.255", 0, 0, 65535) });
	assert_int_equal(ca->ev.in.n_local_ts, 2); /* A took B's narrowing */

	/* TS_UNACCEPTABLE: nothing of A's 10.1.0.0/16 is allowed */
	t_reset();
	a = &t_side[T_A].cfg.peers[T_B];
	b = &t_side[T_B].cfg.peers[T_A];
	a->n_local_ts = 1;
	a->local_ts[0] = ts("10.1.0.0", "10.1.255.255", 0, 0, 65535);
	b->n_remote_ts = 1;
	b->remote_ts[0] = ts("10.3.0.0", "10.3.255.255", 0, 0, 65535);
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	t_step(T_A, IKE_AUTH, false);
	/* HDR, SK{IDr, AUTH, N(TS_UNACCEPTABLE)}: the IKE SA stands without a CHILD SA */
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(T_STAT(T_B, ts_unacceptable), 1);
	assert_int_equal(T_STAT(T_A, peer_errors), 1);
	assert_int_equal(t_side[T_A].n_up + t_side[T_B].n_up, 0);
	assert_int_equal(t_sas(T_A, "established"), 1);
	assert_int_equal(t_sas(T_B, "established"), 1);
	assert_int_equal(t_sa(T_A)->n_children + t_sa(T_B)->n_children, 0);
	t_stop();
}

/* ---- transport mode: asked for (A allows it) x allowed (B) ---- */

static void
test_transport(void **state)
{
	static const struct {
		bool a, b;
		enum esp_mode mode;
	} rows[] = {
		{ true, true, ESP_MODE_TRANSPORT },
		{ true, false, ESP_MODE_TUNNEL },
		{ false, true, ESP_MODE_TUNNEL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ike_payloads inner;
		const struct t_pkt *p;

		t_reset();
		t_side[T_A].cfg.peers[T_B].allow_transport = rows[i].a;
		t_side[T_B].cfg.peers[T_A].allow_transport = rows[i].b;
		t_start();
		t_initiate(T_A, T_B);
		t_step(T_A, IKE_SA_INIT, false);
		t_step(T_B, IKE_SA_INIT, true);
		/* HDR, SK{IDi, IDr, AUTH, N(INITIAL_CONTACT), [N(USE_TRANSPORT_MODE)], SAi2, TSi,
		 * TSr} */
		p = t_step(T_A, IKE_AUTH, false);
		t_open(T_B, p, &inner);
		assert_int_equal(ike_find_notify(&inner, IKE_N_USE_TRANSPORT_MODE) != NULL,
				 rows[i].a);
		/* HDR, SK{IDr, AUTH, [N(USE_TRANSPORT_MODE)], SAr2, TSi, TSr} */
		p = t_step(T_B, IKE_AUTH, true);
		t_open(T_A, p, &inner);
		assert_int_equal(ike_find_notify(&inner, IKE_N_USE_TRANSPORT_MODE) != NULL,
				 rows[i].mode == ESP_MODE_TRANSPORT);
		assert_int_equal(t_side[T_A].n_up, 1);
		assert_int_equal(t_side[T_B].n_up, 1);
		t_assert_mirror(&t_side[T_A].up[0], &t_side[T_B].up[0]);
		assert_int_equal(t_side[T_A].up[0].ev.in.mode, rows[i].mode);
	}
	t_stop();
}

/* ---- Ed25519 raw public keys (RFC 8420, AUTH method 14) ---- */

static void
test_ed25519(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_ed25519(NULL);
	t_start();
	t_initiate(T_A, T_B);
	/* HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*), N(SIGNATURE_HASH_ALGORITHMS: Identity) */
	p = t_step(T_A, IKE_SA_INIT, false);
	{
		struct ike_msg m;
		const struct ike_notify *n;

		t_parse(p, &m);
		n = ike_find_notify(&m.pl, IKE_N_SIGNATURE_HASH_ALGORITHMS);
		assert_non_null(n);
		assert_int_equal(n->len, 2);
		assert_int_equal(n->data[1], IKE_HASH_IDENTITY);
	}
	t_step(T_B, IKE_SA_INIT, true);
	/* HDR, SK{IDi, IDr, AUTH(14: 0x07 | id-Ed25519 | signature), ...} */
	p = t_step(T_A, IKE_AUTH, false);
	t_open(T_B, p, &inner);
	assert_int_equal(inner.auth.method, IKE_AUTH_METHOD_DSIG);
	assert_int_equal(inner.auth.len, IKE_DSIG_ED25519_LEN);
	/* HDR, SK{IDr, AUTH(14), SAr2, TSi, TSr} */
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_assert_mirror(&t_side[T_A].up[0], &t_side[T_B].up[0]);
	t_stop();
}

/* ---- lost messages ---- */

static void
test_retransmit_auth(void **state)
{
	static uint8_t request[IKE_MAX_DGRAM], answer[IKE_MAX_DGRAM];
	size_t request_len, answer_len;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	/* HDR, SK{IDi, IDr, AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr} */
	p = t_step(T_A, IKE_AUTH, false);
	memcpy(request, p->d.data, request_len = p->d.len);
	assert_int_equal(t_side[T_B].n_up, 1); /* B installs before it answers */
	/* HDR, SK{IDr, AUTH, SAr2, TSi, TSr}: lost */
	p = t_drop(T_B, IKE_AUTH, true);
	memcpy(answer, p->d.data, answer_len = p->d.len);

	t_advance(99);
	assert_int_equal(t_queued(), 0);
	t_advance(1); /* retransmit_base_ms */
	/* the same request again, byte for byte */
	p = t_step(T_A, IKE_AUTH, false);
	assert_int_equal(p->d.len, request_len);
	assert_memory_equal(p->d.data, request, request_len);
	/* and B's stored answer, byte for byte: it does not process the request again */
	p = t_step(T_B, IKE_AUTH, true);
	assert_int_equal(p->d.len, answer_len);
	assert_memory_equal(p->d.data, answer, answer_len);

	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_assert_mirror(&t_side[T_A].up[0], &t_side[T_B].up[0]);
	assert_int_equal(T_STAT(T_A, retransmits), 1);
	assert_int_equal(T_STAT(T_B, retransmits), 1);
	assert_int_equal(T_STAT(T_B, ike_sa_up), 1);
	/* a late third copy of the request: answered again, still one CHILD SA */
	t_inject(T_A, T_B, request, request_len, IKE_PORT);
	p = t_drop(T_B, IKE_AUTH, true);
	assert_memory_equal(p->d.data, answer, answer_len);
	assert_int_equal(t_side[T_B].n_up, 1);
	t_stop();
}

static void
test_retransmit_init(void **state)
{
	(void)state;
	t_reset();
	t_start();
	t_initiate(T_A, T_B);
	t_step(T_A, IKE_SA_INIT, false);
	/* HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*): lost */
	t_drop(T_B, IKE_SA_INIT, true);
	assert_int_equal(t_sas(T_B, "half_open"), 1);
	/* backoff: 100 ms, then 200 */
	t_advance(100);
	t_drop(T_A, IKE_SA_INIT, false);
	t_advance(199);
	assert_int_equal(t_queued(), 0);
	t_advance(1);
	/* the third copy arrives; B answers from its store (one half-open SA, not two) */
	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	assert_int_equal(t_sas(T_B, NULL), 1);
	t_step(T_A, IKE_AUTH, false);
	t_step(T_B, IKE_AUTH, true);
	assert_int_equal(t_side[T_A].n_up, 1);
	assert_int_equal(t_side[T_B].n_up, 1);
	assert_int_equal(T_STAT(T_A, retransmits), 2);
	assert_int_equal(T_STAT(T_B, retransmits), 1);
	t_stop();
}

/* ---- Delete ---- */

static void
test_delete_child(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;
	uint32_t spi_a, spi_b;

	(void)state;
	t_reset();
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);
	spi_a = t_side[T_A].up[0].ev.in.spi;
	spi_b = t_side[T_B].up[0].ev.in.spi;

	assert_int_equal(ike_delete(t_side[T_A].e, 0, t_side[T_A].up[0].ev.id, t_now), 0);
	/* INFORMATIONAL request: HDR, SK{D(ESP, A's inbound SPI)} */
	p = t_step(T_A, IKE_INFORMATIONAL, false);
	t_open(T_B, p, &inner);
	assert_int_equal(inner.n_del, 1);
	assert_int_equal(ike_delete_spi(&inner.del[0], 0), spi_a);
	assert_int_equal(t_side[T_B].n_down, 1);
	assert_int_equal(t_side[T_B].down[0], t_side[T_B].up[0].ev.id);
	assert_int_equal(t_side[T_A].n_down, 0); /* until answered */
	/* INFORMATIONAL response: HDR, SK{D(ESP, B's inbound SPI)} */
	p = t_step(T_B, IKE_INFORMATIONAL, true);
	t_open(T_A, p, &inner);
	assert_int_equal(ike_delete_spi(&inner.del[0], 0), spi_b);
	assert_int_equal(t_side[T_A].n_down, 1);
	assert_int_equal(t_side[T_A].down[0], t_side[T_A].up[0].ev.id);
	assert_int_equal(T_STAT(T_A, deletes), 1);
	assert_int_equal(T_STAT(T_B, child_sa_down), 1);
	assert_int_equal(t_sas(T_A, "established"), 1);
	assert_int_equal(t_sas(T_B, "established"), 1);
	assert_int_equal(ike_delete(t_side[T_A].e, 0, t_side[T_A].up[0].ev.id, t_now), -ENOENT);
	t_stop();
}

static void
test_delete_ike(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);

	/* the responder deletes: every IKE SA with peer A */
	assert_int_equal(ike_delete(t_side[T_B].e, T_A, 0, t_now), 0);
	/* INFORMATIONAL request: HDR, SK{D(IKE)} */
	p = t_drop(T_B, IKE_INFORMATIONAL, false);
	t_open(T_A, p, &inner);
	assert_int_equal(inner.n_del, 1);
	assert_int_equal(inner.del[0].proto, IKE_PROTO_IKE);
	t_inject(T_B, T_A, p->d.data, p->d.len, IKE_PORT);
	assert_int_equal(t_side[T_A].n_down, 1);
	assert_int_equal(t_sas(T_A, NULL), 0);
	assert_int_equal(t_sas(T_B, "deleting"), 1);
	/* INFORMATIONAL response: HDR, SK{} */
	t_step(T_A, IKE_INFORMATIONAL, true);
	assert_int_equal(t_side[T_B].n_down, 1);
	assert_int_equal(t_side[T_B].down[0], t_side[T_B].up[0].ev.id);
	assert_int_equal(t_sas(T_B, NULL), 0);
	assert_int_equal(T_STAT(T_A, deletes) + T_STAT(T_B, deletes), 2);
	assert_int_equal(ike_delete(t_side[T_B].e, T_A, 0, t_now), -ENOENT);
	t_stop();
}

/* A's IKE_AUTH request to B; returns whether it carries N(INITIAL_CONTACT). */
static bool
auth_says_initial_contact(void)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	t_step(T_A, IKE_SA_INIT, false);
	t_step(T_B, IKE_SA_INIT, true);
	/* HDR, SK{IDi, IDr, AUTH, [N(INITIAL_CONTACT)], SAi2, TSi, TSr} */
	p = t_step(T_A, IKE_AUTH, false);
	t_open(T_B, p, &inner);
	bool ic = ike_find_notify(&inner, IKE_N_INITIAL_CONTACT) != NULL;

	t_step(T_B, IKE_AUTH, true);
	return ic;
}

/* INITIAL_CONTACT (RFC 7296 2.4): an initiator says it only when it holds no other IKE SA with the
 * peer (the first after a start), and a responder that hears it drops its other IKE SAs with that
 * identity, and their CHILD SAs before the new pair is up; another peer's stay. */
static void
test_initial_contact(void **state)
{
	(void)state;
	t_reset();
	t_start();
	t_initiate(T_C, T_B);
	establish(T_C, T_B);
	t_initiate(T_A, T_B);
	assert_true(auth_says_initial_contact()); /* A's first */
	assert_int_equal(t_side[T_B].n_up, 2);

	/* a second IKE SA from A while the first stands: no INITIAL_CONTACT, B keeps both */
	t_initiate(T_A, T_B);
	assert_false(auth_says_initial_contact());
	assert_int_equal(t_queued(), 0);
	assert_int_equal(t_side[T_B].n_up, 3);
	assert_int_equal(t_side[T_B].n_down, 0);
	assert_int_equal(t_sas(T_B, "established"), 3);
	assert_int_equal(t_sas(T_A, "established"), 2);

	/* A restarts (its SAs forgotten, B not told) and sets up again: INITIAL_CONTACT */
	t_restart(T_A);
	t_initiate(T_A, T_B);
	assert_true(auth_says_initial_contact());
	assert_int_equal(t_side[T_B].n_up, 4);
	assert_int_equal(t_side[T_B].n_down, 2);
	assert_true(t_down(T_B, t_side[T_B].up[1].ev.id)); /* both of A's old pairs, in any order */
	assert_true(t_down(T_B, t_side[T_B].up[2].ev.id));
	assert_false(t_down(T_B, t_side[T_B].up[3].ev.id));
	assert_int_equal(t_sas(T_B, "established"), 2); /* C's and A's new one */
	assert_int_equal(T_STAT(T_B, deletes), 2);
	assert_int_equal(T_STAT(T_B, child_sa_down), 2);
	/* nothing went on the wire about it: A's old IKE SAs are A's own business */
	assert_int_equal(t_queued(), 0);
	assert_int_equal(t_sas(T_A, "established"), 1);
	assert_int_equal(t_side[T_C].n_down, 0);
	t_stop();
}

/* ---- liveness ---- */

static void
test_liveness(void **state)
{
	struct ike_payloads inner;
	const struct t_pkt *p;

	(void)state;
	t_reset();
	t_side[T_A].cfg.peers[T_B].dpd_s = 10;
	t_start();
	t_initiate(T_A, T_B);
	establish(T_A, T_B);

	t_advance(9999);
	assert_int_equal(t_queued(), 0);
	t_advance(1);
	/* after 10 s of silence: HDR, SK{} */
	p = t_step(T_A, IKE_INFORMATIONAL, false);
	t_open(T_B, p, &inner);
	assert_int_equal(inner.n, 0);
	/* HDR, SK{} */
	t_step(T_B, IKE_INFORMATIONAL, true);
	assert_int_equal(T_STAT(T_A, liveness_checks), 1);

	/* B falls silent: the next check and its three retransmissions (100, 200, 400 ms later)
	 * go unanswered; 800 ms after the last, B is dead */
	t_mute[T_B] = true;
	t_advance(10000);
	t_step(T_A, IKE_INFORMATIONAL, false);
	t_advance(100);
	t_step(T_A, IKE_INFORMATIONAL, false);
	t_advance(200);
	t_step(T_A, IKE_INFORMATIONAL, false);
	t_advance(399);
	assert_int_equal(t_queued(), 0);
	t_advance(1);
	t_step(T_A, IKE_INFORMATIONAL, false);
	t_advance(799);
	assert_int_equal(t_sas(T_A, NULL), 1);
	t_advance(1);
	assert_int_equal(t_sas(T_A, NULL), 0);
	assert_int_equal(T_STAT(T_A, dead_peers), 1);
	assert_int_equal(T_STAT(T_A, retransmits), 3);
	assert_int_equal(T_STAT(T_A, liveness_checks), 2);
	assert_int_equal(t_side[T_A].n_down, 1);
	assert_int_equal(t_side[T_A].down[0], t_side[T_A].up[0].ev.id);
	assert_int_equal(t_queued(), 0);
	t_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_establish_suites),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_ts_narrowing),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_retransmit_auth),
		cmocka_unit_test(test_retransmit_init),
		cmocka_unit_test(test_delete_child),
		cmocka_unit_test(test_delete_ike),
		cmocka_unit_test(test_initial_contact),
		cmocka_unit_test(test_liveness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
