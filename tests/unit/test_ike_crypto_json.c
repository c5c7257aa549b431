/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE compositions against tests/vectors/ike_crypto_vectors.json, which
 * scripts/ike_crypto_vectors.py computes with python's hmac/hashlib and python3-cryptography
 * (never our C code). Per suite, byte for byte: g^ir from both private keys, SKEYSEED, the seven
 * keys on both ends, PSK and Ed25519 AUTH (and SignedOctets) by the signer and checked by the
 * verifier, every SK message sealed by its sender (counter IV or the vector's IV) and opened by
 * the receiver but not by the sender, CHILD_SA KEYMAT with and without PFS from both ends, and
 * the rekeyed IKE SA from both ends with its first message. Then tampering: every single bit
 * flipped in a sealed message is refused and leaves no plaintext; AUTH refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "test_ike_crypto.h"

static const char *const sk_names[IKE_SKID_COUNT] = {
	[IKE_SKID_D] = "sk_d",	 [IKE_SKID_EI] = "sk_ei", [IKE_SKID_ER] = "sk_er",
	[IKE_SKID_PI] = "sk_pi", [IKE_SKID_PR] = "sk_pr",
};

/* One suite's IKE SA as both ends derive it. */
struct ends {
	const json_t *j;
	struct ike_crypto_suite s;
	uint8_t ni[256], nr[256], gir[32];
	struct ike_kex kex;
	struct ike_keys *ki, *kr; /* initiator's and responder's */
};

static void
kex_from(const json_t *j, struct ike_kex *kex, uint8_t *ni, uint8_t *nr, uint8_t *gir)
{
	memset(kex, 0, sizeof(*kex));
	kex->ni = ni, kex->ni_len = t_field(j, "ni", ni, 256);
	kex->nr = nr, kex->nr_len = t_field(j, "nr", nr, 256);
	kex->gir = gir, kex->gir_len = t_field(j, "gir", gir, 32);
	t_field(j, "spi_i", kex->spi_i, 8);
	t_field(j, "spi_r", kex->spi_r, 8);
}

static void
check_keys(const struct ike_keys *k, const json_t *j, const char *what)
{
	char msg[128];
	size_t len;

	for (int id = 0; id < IKE_SKID_COUNT; id++) {
		const uint8_t *p = ike_keys_sk(k, (enum ike_sk_id)id, &len);

		assert_non_null(p);
		if (sk_names[id] == NULL) { /* SK_ai, SK_ar */
			assert_int_equal(len, 0);
			continue;
		}
		snprintf(msg, sizeof(msg), "%s %s", what, sk_names[id]);
		t_assert_field(p, len, j, sk_names[id], msg);
	}
}

static void
ends_up(const json_t *j, struct ends *e)
{
	uint8_t priv[32], ke[32];
	struct ike_dh *di, *dr;
	const uint8_t *p;
	size_t len;

	e->j = j;
	e->s = (struct ike_crypto_suite){ (uint16_t)t_int(j, "encr"),
					  (uint16_t)t_int(j, "encr_key_bits"),
					  (uint16_t)t_int(j, "prf"), (uint16_t)t_int(j, "dh") };
	kex_from(j, &e->kex, e->ni, e->nr, e->gir);

	/* g^ir from each end's private key and the other's KE data */
	t_field(j, "x25519_priv_i", priv, 32);
	assert_int_equal(ike_dh_create_from_private(e->s.dh, priv, 32, &di), 0);
	t_field(j, "x25519_priv_r", priv, 32);
	assert_int_equal(ike_dh_create_from_private(e->s.dh, priv, 32, &dr), 0);
	p = ike_dh_public(di, &len);
	t_assert_field(p, len, j, "ke_i", "KEi");
	p = ike_dh_public(dr, &len);
	t_assert_field(p, len, j, "ke_r", "KEr");
	t_field(j, "ke_r", ke, 32);
	assert_int_equal(ike_dh_compute(di, ke, 32), 0);
	t_field(j, "ke_i", ke, 32);
	assert_int_equal(ike_dh_compute(dr, ke, 32), 0);
	p = ike_dh_shared(di, &len);
	t_assert_field(p, len, j, "gir", "g^ir (initiator)");
	p = ike_dh_shared(dr, &len);
	t_assert_field(p, len, j, "gir", "g^ir (responder)");
	ike_dh_free(di);
	ike_dh_free(dr);

	assert_int_equal(ike_keys_derive(t_cx, &e->s, true, &e->kex, &e->ki), 0);
	assert_int_equal(ike_keys_derive(t_cx, &e->s, false, &e->kex, &e->kr), 0);
}

static void
ends_down(struct ends *e)
{
	ike_keys_free(e->ki);
	ike_keys_free(e->kr);
}

/* A message entry: msg, its AAD length, the plaintext of its encrypted range. */
struct sk_msg {
	uint8_t msg[T_BUF], pt[T_BUF];
	size_t len, aad_len, ct_len;
	bool from_i, counter_iv;
};

static void
sk_msg_load(const json_t *m, struct sk_msg *s)
{
	size_t pt_len;

	s->len = t_field(m, "msg", s->msg, sizeof(s->msg));
	s->aad_len = (size_t)t_int(m, "aad_len");
	pt_len = t_field(m, "plaintext", s->pt, sizeof(s->pt));
	assert_true(s->len == s->aad_len + IKE_AEAD_IV_LEN + pt_len + IKE_AEAD_ICV_LEN);
	s->ct_len = pt_len;
	s->from_i = json_object_get(m, "sender") == NULL || strcmp(t_str(m, "sender"), "i") == 0;
	s->counter_iv = json_is_true(json_object_get(m, "counter_iv"));
}

/* Seal by the sender (ki: the SA's initiator), compare; open by the receiver, compare; the
 * sender's own keys do not open it (each direction has its key). */
static void
check_message(const json_t *m, struct ike_keys *ki, struct ike_keys *kr)
{
	static struct sk_msg s;
	static uint8_t buf[T_BUF];
	struct ike_keys *tx, *rx;
	uint8_t *iv, *ct, *icv;
	size_t inner;
	char what[160];

	sk_msg_load(m, &s);
	snprintf(what, sizeof(what), "%s", t_str(m, "name"));
	tx = s.from_i ? ki : kr;
	rx = s.from_i ? kr : ki;
	iv = buf + s.aad_len;
	ct = iv + IKE_AEAD_IV_LEN;
	icv = ct + s.ct_len;

	memcpy(buf, s.msg, s.aad_len);
	memcpy(ct, s.pt, s.ct_len);
	memset(icv, 0, IKE_AEAD_ICV_LEN);
	if (s.counter_iv) {
		memset(iv, 0xee, IKE_AEAD_IV_LEN);
		assert_int_equal(ike_keys_seal(tx, buf, s.len, s.aad_len), 0);
	} else {
		memcpy(iv, s.msg + s.aad_len, IKE_AEAD_IV_LEN);
		assert_int_equal(ike_aead_seal(ike_keys_aead(tx, true), iv, buf, s.aad_len, ct,
					       s.ct_len, icv),
				 0);
	}
	t_assert_field(buf, s.len, m, "msg", what);

	memcpy(buf, s.msg, s.len);
	assert_int_equal(ike_keys_open(rx, buf, s.len, s.aad_len), 0);
	assert_memory_equal(ct, s.pt, s.ct_len);
	inner = s.ct_len - 1 - ct[s.ct_len - 1];
	assert_int_equal(inner, t_int(m, "inner_len"));

	memcpy(buf, s.msg, s.len);
	assert_int_equal(ike_keys_open(tx, buf, s.len, s.aad_len), -EBADMSG);
}

static void
check_auth(struct ends *e)
{
	const json_t *a = json_object_get(e->j, "auth");
	static uint8_t init_i[T_BUF], init_r[T_BUF], octets[T_BUF];
	uint8_t id_i[128], id_r[128], psk[128], auth[IKE_PRF_MAX], seed[32], pk[32];
	uint8_t dsig[IKE_DSIG_ED25519_LEN];
	struct ike_auth_octets o_i, o_r;
	struct ike_ed25519_key *key;
	size_t psk_len, len;

	o_i = (struct ike_auth_octets){ init_i, t_field(a, "init_i", init_i, T_BUF),
					e->nr,	e->kex.nr_len,
					id_i,	t_field(a, "id_i", id_i, 128) };
	o_r = (struct ike_auth_octets){ init_r, t_field(a, "init_r", init_r, T_BUF),
					e->ni,	e->kex.ni_len,
					id_r,	t_field(a, "id_r", id_r, 128) };
	psk_len = t_field(a, "psk", psk, sizeof(psk));

	/* shared key: the signer computes, the other end verifies */
	assert_int_equal(ike_keys_psk_auth(e->ki, true, psk, psk_len, &o_i, auth, &len), 0);
	t_assert_field(auth, len, a, "psk_auth_i", "AUTH (PSK) of the initiator");
	assert_int_equal(ike_keys_psk_verify(e->kr, true, psk, psk_len, &o_i, auth, len), 0);
	assert_int_equal(ike_keys_psk_auth(e->kr, false, psk, psk_len, &o_r, auth, &len), 0);
	t_assert_field(auth, len, a, "psk_auth_r", "AUTH (PSK) of the responder");
	assert_int_equal(ike_keys_psk_verify(e->ki, false, psk, psk_len, &o_r, auth, len), 0);

	const uint8_t *sk = ike_keys_sk(e->ki, IKE_SKID_PI, &len);
	size_t olen;
	assert_int_equal(ike_signed_octets_len(e->s.prf, &o_i), o_i.msg_len + o_i.nonce_len + len);
	assert_int_equal(ike_signed_octets(t_cx, e->s.prf, sk, len, &o_i, octets, T_BUF, &olen), 0);
	t_assert_field(octets, olen, a, "signed_octets_i", "InitiatorSignedOctets");
	assert_int_equal(ike_signed_octets(t_cx, e->s.prf, sk, len, &o_i, octets, olen - 1, &olen),
			 -EINVAL);
	sk = ike_keys_sk(e->kr, IKE_SKID_PR, &len);
	assert_int_equal(ike_signed_octets(t_cx, e->s.prf, sk, len, &o_r, octets, T_BUF, &olen), 0);
	t_assert_field(octets, olen, a, "signed_octets_r", "ResponderSignedOctets");

	/* Ed25519 (deterministic, so byte for byte) */
	t_field(a, "ed25519_seed_i", seed, 32);
	assert_int_equal(ike_ed25519_key_from_seed(seed, &key), 0);
	t_assert_field(ike_ed25519_key_public(key), 32, a, "ed25519_pk_i", "Ed25519 key i");
	assert_int_equal(ike_keys_ed25519_auth(e->ki, true, key, &o_i, dsig), 0);
	t_assert_field(dsig, sizeof(dsig), a, "dsig_auth_i", "AUTH (Ed25519) of the initiator");
	memcpy(pk, ike_ed25519_key_public(key), 32);
	assert_int_equal(ike_keys_ed25519_verify(e->kr, true, pk, &o_i, dsig, sizeof(dsig)), 0);
	ike_ed25519_key_free(key);

	t_field(a, "ed25519_seed_r", seed, 32);
	assert_int_equal(ike_ed25519_key_from_seed(seed, &key), 0);
	assert_int_equal(ike_keys_ed25519_auth(e->kr, false, key, &o_r, dsig), 0);
	t_assert_field(dsig, sizeof(dsig), a, "dsig_auth_r", "AUTH (Ed25519) of the responder");
	t_field(a, "ed25519_pk_r", pk, 32);
	assert_int_equal(ike_keys_ed25519_verify(e->ki, false, pk, &o_r, dsig, sizeof(dsig)), 0);
	ike_ed25519_key_free(key);
}

static void
check_children(struct ends *e)
{
	const json_t *children = json_object_get(e->j, "children"), *c;
	size_t idx;

	assert_true(json_array_size(children) >= 3);
	json_array_foreach(children, idx, c)
	{
		uint8_t ni[256], nr[256], gir[64];
		size_t ni_len = t_field(c, "ni", ni, 256), nr_len = t_field(c, "nr", nr, 256);
		size_t gir_len = t_field(c, "gir", gir, sizeof(gir));
		uint16_t encr = (uint16_t)t_int(c, "encr"),
			 bits = (uint16_t)t_int(c, "encr_key_bits");
		struct ike_keys *ends[2] = { e->ki, e->kr };

		for (int side = 0; side < 2; side++) {
			struct ike_child_keymat *km;

			assert_int_equal(ike_keys_child_keymat(ends[side], encr, bits,
							       gir_len ? gir : NULL, gir_len, ni,
							       ni_len, nr, nr_len, &km),
					 0);
			assert_int_equal(km->len, ike_aead_keymat_len(encr, bits));
			t_assert_field(km->i2r, km->len, c, "i2r", "KEYMAT initiator to responder");
			t_assert_field(km->r2i, km->len, c, "r2i", "KEYMAT responder to initiator");
			ike_child_keymat_free(km);
		}
	}
}

static void
check_rekey(struct ends *e)
{
	const json_t *r = json_object_get(e->j, "rekey");
	struct ike_crypto_suite s = { (uint16_t)t_int(r, "encr"),
				      (uint16_t)t_int(r, "encr_key_bits"),
				      (uint16_t)t_int(r, "prf"), IKE_DH_CURVE25519 };
	uint8_t ni[256], nr[256], gir[32];
	struct ike_keys *new_i, *new_r;
	struct ike_kex kex;

	kex_from(r, &kex, ni, nr, gir);
	/* the original responder initiated the rekeying: it is the new SA's initiator */
	assert_string_equal(t_str(r, "initiator"), "r");
	assert_int_equal(ike_keys_rekey(e->kr, &s, true, &kex, &new_i), 0);
	assert_int_equal(ike_keys_rekey(e->ki, &s, false, &kex, &new_r), 0);
	check_keys(new_i, r, "rekeyed SA, its initiator:");
	check_keys(new_r, r, "rekeyed SA, its responder:");
	assert_memory_equal(ike_keys_suite(new_i), &s, sizeof(s));
	check_message(json_object_get(r, "message"), new_i, new_r);
	ike_keys_free(new_i);
	ike_keys_free(new_r);
}

void
test_suite_vectors(void **state)
{
	const json_t *suites = json_object_get(t_ike_vectors, "suites"), *j, *m;
	size_t idx, mi;
	(void)state;

	assert_int_equal(json_array_size(suites), 4);
	json_array_foreach(suites, idx, j)
	{
		struct ends e;
		uint8_t nonces[512], skeyseed[IKE_PRF_MAX];
		struct ike_chunk g;

		ends_up(j, &e);
		g = (struct ike_chunk){ e.gir, e.kex.gir_len };
		print_message("suite %s\n", t_str(j, "name"));
		check_keys(e.ki, j, t_str(j, "name"));
		check_keys(e.kr, j, t_str(j, "name"));
		/* SKEYSEED = prf(Ni | Nr, g^ir), recomputed with the bare PRF */
		memcpy(nonces, e.ni, e.kex.ni_len);
		memcpy(nonces + e.kex.ni_len, e.nr, e.kex.nr_len);
		assert_int_equal(ike_prf(t_cx, e.s.prf, nonces, e.kex.ni_len + e.kex.nr_len, &g, 1,
					 skeyseed),
				 0);
		t_assert_field(skeyseed, ike_prf_len(e.s.prf), j, "skeyseed", "SKEYSEED");

		check_auth(&e);
		assert_int_equal(json_array_size(json_object_get(j, "messages")), 5);
		json_array_foreach(json_object_get(j, "messages"), mi, m)
			check_message(m, e.ki, e.kr);
		check_children(&e);
		check_rekey(&e);
		ends_down(&e);
	}
}

void
test_prf_plus_vectors(void **state)
{
	const json_t *v;
	size_t idx;
	(void)state;

	json_array_foreach(json_object_get(t_ike_vectors, "prf_plus"), idx, v)
	{
		uint8_t key[256], seed[512], out[T_BUF], want[T_BUF];
		size_t klen = t_field(v, "key", key, sizeof(key));
		size_t slen = t_field(v, "seed", seed, sizeof(seed));
		size_t n = t_field(v, "out", want, sizeof(want));
		const struct ike_chunk one = { seed, slen };
		const struct ike_chunk two[2] = { { seed, slen / 3 },
						  { seed + slen / 3, slen - slen / 3 } };
		uint16_t prf = (uint16_t)t_int(v, "prf");

		assert_int_equal(ike_prf_plus(t_cx, prf, key, klen, &one, 1, out, n), 0);
		t_assert_field(out, n, v, "out", "prf+");
		memset(out, 0, n);
		assert_int_equal(ike_prf_plus(t_cx, prf, key, klen, two, 2, out, n), 0);
		assert_memory_equal(out, want, n);
	}
	assert_int_equal(idx, 4);
}

void
test_rfc7634_ike_example(void **state)
{
	const json_t *v = json_array_get(json_object_get(t_ike_vectors, "rfc_examples"), 0);
	static struct sk_msg s;
	uint8_t keymat[64], buf[T_BUF];
	struct ike_aead *a;
	size_t km_len;
	(void)state;

	assert_non_null(v);
	assert_string_equal(t_str(v, "source"), "RFC 7634 Appendix B");
	sk_msg_load(v, &s);
	km_len = t_field(v, "keymat", keymat, sizeof(keymat));
	assert_int_equal(ike_aead_create(t_cx, (uint16_t)t_int(v, "encr"),
					 (uint16_t)t_int(v, "encr_key_bits"), keymat, km_len, &a),
			 0);
	memcpy(buf, s.msg, s.len);
	memcpy(buf + s.aad_len + 8, s.pt, s.ct_len);
	assert_int_equal(ike_aead_seal(a, s.msg + s.aad_len, buf, s.aad_len, buf + s.aad_len + 8,
				       s.ct_len, buf + s.len - 16),
			 0);
	t_assert_field(buf, s.len, v, "msg", "RFC 7634 Appendix B message");
	assert_int_equal(ike_aead_open(a, s.msg + s.aad_len, buf, s.aad_len, buf + s.aad_len + 8,
				       s.ct_len, buf + s.len - 16),
			 0);
	assert_memory_equal(buf + s.aad_len + 8, s.pt, s.ct_len);
	ike_aead_free(a);
}

/* Every bit of AAD, IV, ciphertext and ICV, one at a time: refused, and the encrypted range is
 * left all zeros. Then the untouched message still opens (the keys are intact). */
void
test_tamper_every_bit(void **state)
{
	const json_t *suites = json_object_get(t_ike_vectors, "suites"), *j;
	static struct sk_msg s;
	static uint8_t buf[T_BUF];
	size_t idx, flips = 0, msgs_done = 0;
	(void)state;

	json_array_foreach(suites, idx, j)
	{
		const json_t *msgs = json_object_get(j, "messages");
		struct ends e;

		ends_up(j, &e);
		for (size_t mi = 0; mi < json_array_size(msgs); mi++) {
			struct ike_keys *rx;

			sk_msg_load(json_array_get(msgs, mi), &s);
			rx = s.from_i ? e.kr : e.ki;
			for (size_t bit = 0; bit < 8 * s.len; bit++) {
				memcpy(buf, s.msg, s.len);
				buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				if (ike_keys_open(rx, buf, s.len, s.aad_len) != -EBADMSG)
					fail_msg("%s: bit %zu flipped was accepted",
						 t_str(json_array_get(msgs, mi), "name"), bit);
				for (size_t i = 0; i < s.ct_len; i++)
					assert_int_equal(buf[s.aad_len + 8 + i], 0);
				flips++;
			}
			/* the AAD boundary moved by one byte either way (one byte later leaves no
			 * room for the pad length byte when nothing else is encrypted) */
			memcpy(buf, s.msg, s.len);
			assert_int_equal(ike_keys_open(rx, buf, s.len, s.aad_len + 1),
					 s.ct_len > 1 ? -EBADMSG : -EINVAL);
			memcpy(buf, s.msg, s.len);
			assert_int_equal(ike_keys_open(rx, buf, s.len, s.aad_len - 1), -EBADMSG);
			memcpy(buf, s.msg, s.len);
			assert_int_equal(ike_keys_open(rx, buf, s.len, s.aad_len), 0);
			assert_memory_equal(buf + s.aad_len + 8, s.pt, s.ct_len);
			msgs_done++;
		}
		ends_down(&e);
	}
	print_message("%zu single-bit flips in %zu messages refused\n", flips, msgs_done);
	assert_int_equal(msgs_done, 4 * 5);
}

void
test_auth_refusals(void **state)
{
	const json_t *suites = json_object_get(t_ike_vectors, "suites"), *j;
	size_t idx;
	(void)state;

	json_array_foreach(suites, idx, j)
	{
		const json_t *a = json_object_get(j, "auth");
		static uint8_t init_i[T_BUF];
		uint8_t id_i[128], psk[128], auth[IKE_PRF_MAX], dsig[IKE_DSIG_ED25519_LEN], pk[32];
		struct ike_auth_octets o;
		size_t psk_len, len;
		struct ends e;

		ends_up(j, &e);
		o = (struct ike_auth_octets){ init_i, t_field(a, "init_i", init_i, T_BUF),
					      e.nr,   e.kex.nr_len,
					      id_i,   t_field(a, "id_i", id_i, 128) };
		psk_len = t_field(a, "psk", psk, sizeof(psk));
		len = t_field(a, "psk_auth_i", auth, sizeof(auth));
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len), 0);

		/* wrong PSK: one bit, one byte short, one byte more */
		psk[0] ^= 1;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		psk[0] ^= 1;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len - 1, &o, auth, len),
				 -EBADMSG);
		psk[psk_len] = 'x';
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len + 1, &o, auth, len),
				 -EBADMSG);
		/* but not a zero byte more: HMAC pads short keys with zeros (RFC 2104 2), so
		 * "k" and "k\0" are one key in IKEv2's PSK AUTH for every peer */
		psk[psk_len] = 0;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len + 1, &o, auth, len),
				 0);
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, 0, &o, auth, len), -EINVAL);
		/* the right PSK over other octets: message, nonce, identity, role */
		init_i[o.msg_len - 1] ^= 0x01;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		init_i[o.msg_len - 1] ^= 0x01;
		o.nonce = e.ni, o.nonce_len = e.kex.ni_len;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		o.nonce = e.nr, o.nonce_len = e.kex.nr_len;
		id_i[o.id_len - 1] ^= 0x20;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		id_i[o.id_len - 1] ^= 0x20;
		assert_int_equal(ike_keys_psk_verify(e.kr, false, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		/* a flipped, short or long AUTH */
		auth[len / 2] ^= 0x10;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len),
				 -EBADMSG);
		auth[len / 2] ^= 0x10;
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len - 1),
				 -EBADMSG);
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, NULL, 0),
				 -EBADMSG);
		assert_int_equal(ike_keys_psk_verify(e.kr, true, psk, psk_len, &o, auth, len), 0);

		/* Ed25519: the signature, the key, the role, the algorithm, the length */
		t_field(a, "dsig_auth_i", dsig, sizeof(dsig));
		t_field(a, "ed25519_pk_i", pk, sizeof(pk));
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig)),
				 0);
		dsig[IKE_DSIG_ED25519_LEN - 1] ^= 0x01;
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig)),
				 -EBADMSG);
		dsig[IKE_DSIG_ED25519_LEN - 1] ^= 0x01;
		assert_int_equal(ike_keys_ed25519_verify(e.kr, false, pk, &o, dsig, sizeof(dsig)),
				 -EBADMSG);
		assert_int_equal(
			ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig) - 1),
			-EBADMSG);
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, 0), -EBADMSG);
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, 5), -EBADMSG);
		dsig[7] = 0x71; /* id-Ed448 */
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig)),
				 -ENOTSUP);
		dsig[7] = 0x70;
		dsig[0] = 6;
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig)),
				 -ENOTSUP);
		dsig[0] = 7;
		t_field(a, "ed25519_pk_r", pk, sizeof(pk));
		assert_int_equal(ike_keys_ed25519_verify(e.kr, true, pk, &o, dsig, sizeof(dsig)),
				 -EBADMSG);
		ends_down(&e);
	}
}
