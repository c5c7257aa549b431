/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE crypto suite against published vectors and its refusals:
 *   RFC 4231 (all seven cases, three PRFs, the input also fed in pieces), RFC 7748 5.2 and 6.1
 *   (X25519, iterated 1 and 1000 times), RFC 8032 7.1 (Ed25519), RFC 8439 2.8.2
 *   (ChaCha20-Poly1305), the ESP GCM/ChaCha file tests/vectors/rfc_esp_vectors.json opened as
 *   SK-payload AEADs; low-order and wrong-length X25519 values, PRF input limits, unsupported
 *   transforms, IV counter, random round trips.
 * The IKE compositions (key derivation, AUTH, SK payloads, KEYMAT, rekey) and tampering are in
 * test_ike_crypto_json.c. Usage: test_ike_crypto IKE_VECTORS.json ESP_VECTORS.json
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "test_ike_crypto.h"

struct ike_crypto *t_cx;
json_t *t_ike_vectors;
json_t *t_esp_vectors;

/* ---- helpers ----------------------------------------------------------------------------- */

size_t
t_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) != 0 ||
	    len * 2 != strlen(hex))
		fail_msg("bad or oversized hex (%zu chars, room for %zu bytes)", strlen(hex), cap);
	return len;
}

const char *
t_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("vector without string \"%s\"", key);
	return s;
}

long long
t_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("vector without integer \"%s\"", key);
	return json_integer_value(v);
}

size_t
t_field(const json_t *o, const char *key, uint8_t *out, size_t cap)
{
	return t_unhex(t_str(o, key), out, cap);
}

void
t_assert_hex(const uint8_t *got, size_t len, const char *hex, const char *what)
{
	static uint8_t want[T_BUF];
	static char got_hex[2 * T_BUF + 1];
	size_t want_len = t_unhex(hex, want, sizeof(want));

	if (want_len == len && memcmp(got, want, len) == 0)
		return;
	sodium_bin2hex(got_hex, sizeof(got_hex), got, len < T_BUF ? len : T_BUF);
	fail_msg("%s:\n  got  %s\n  want %s", what, got_hex, hex);
}

void
t_assert_field(const uint8_t *got, size_t len, const json_t *o, const char *key, const char *what)
{
	t_assert_hex(got, len, t_str(o, key), what);
}

static size_t
rep(uint8_t *out, uint8_t byte, size_t n)
{
	memset(out, byte, n);
	return n;
}

/* ---- RFC 4231: HMAC-SHA-256/384/512 ---------------------------------------------------------- */

struct hmac_case {
	int num;
	uint8_t key_byte; /* key: key_rep copies of key_byte, or key_hex */
	size_t key_rep;
	const char *key_hex;
	uint8_t data_byte; /* data: data_rep copies of data_byte, or data_str */
	size_t data_rep;
	const char *data_str;
	size_t cmp_len;	    /* case 5 publishes 128-bit truncations; 0 = whole output */
	const char *out[3]; /* SHA-256, SHA-384, SHA-512 */
};

static const struct hmac_case hmac_cases[] = {
	{ 1,
	  0x0b,
	  20,
	  NULL,
	  0,
	  0,
	  "Hi There",
	  0,
	  { "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152"
	    "e8"
	    "b2fa9cb6",
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b27"
	    "4e"
	    "aea3f4e4be9d914eeb61f1702e696c203a126854" } },
	{ 2,
	  0,
	  0,
	  "4a656665",
	  0,
	  0,
	  "what do ya want for nothing?",
	  0,
	  { "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239"
	    "ec"
	    "fab21649",
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f"
	    "65"
	    "f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" } },
	{ 3,
	  0xaa,
	  20,
	  NULL,
	  0xdd,
	  50,
	  NULL,
	  0,
	  { "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6"
	    "e1"
	    "01a34f27",
	    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485"
	    "a4"
	    "7e67c807b946a337bee8942674278859e13292fb" } },
	{ 4,
	  0,
	  0,
	  "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  0xcd,
	  50,
	  NULL,
	  0,
	  { "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	    "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a3"
	    "86"
	    "c674cffb",
	    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d67927"
	    "5c"
	    "c5788063a5f19741120c4f2de2adebeb10a298dd" } },
	{ 5,
	  0x0c,
	  20,
	  NULL,
	  0,
	  0,
	  "Test With Truncation",
	  16,
	  { "a3b6167473100ee06e0c796c2955552b", "3abf34c3503b2a23a46efc619baef897",
	    "415fad6271580a531d4179bc891d87a6" } },
	{ 6,
	  0xaa,
	  131,
	  NULL,
	  0,
	  0,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  0,
	  { "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248d"
	    "f1"
	    "63f44952",
	    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2"
	    "21"
	    "5d6a1e5295e64f73f63f0aec8b915a985d786598" } },
	{ 7,
	  0xaa,
	  131,
	  NULL,
	  0,
	  0,
	  "This is a test using a larger than block-size key and a larger than block-size data. "
	  "The key needs to be hashed before being used by the HMAC algorithm.",
	  0,
	  { "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6"
	    "11"
	    "0c46523e",
	    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb"
	    "55"
	    "c3e4de15134676fb6de0446065c97440fa8c6a58" } },
};

static void
test_hmac_rfc4231(void **state)
{
	static const uint16_t prfs[3] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
					  IKE_PRF_HMAC_SHA2_512 };
	(void)state;

	for (size_t i = 0; i < sizeof(hmac_cases) / sizeof(hmac_cases[0]); i++) {
		const struct hmac_case *hc = &hmac_cases[i];
		uint8_t key[256], data[256], out[IKE_PRF_MAX], pieces[IKE_PRF_MAX];
		size_t key_len, data_len;

		key_len = hc->key_hex ? t_unhex(hc->key_hex, key, sizeof(key))
				      : rep(key, hc->key_byte, hc->key_rep);
		if (hc->data_str != NULL) {
			data_len = strlen(hc->data_str);
			memcpy(data, hc->data_str, data_len);
		} else {
			data_len = rep(data, hc->data_byte, hc->data_rep);
		}
		for (int p = 0; p < 3; p++) {
			const struct ike_chunk one = { data, data_len };
			/* the same bytes as three pieces: 1 byte, the first half, the rest */
			const struct ike_chunk three[3] = { { data, 1 },
							    { data + 1, data_len / 2 - 1 },
							    { data + data_len / 2,
							      data_len - data_len / 2 } };
			size_t len = hc->cmp_len ? hc->cmp_len : ike_prf_len(prfs[p]);
			char what[64];

			snprintf(what, sizeof(what), "RFC 4231 case %d, PRF %u", hc->num, prfs[p]);
			assert_int_equal(ike_prf(t_cx, prfs[p], key, key_len, &one, 1, out), 0);
			t_assert_hex(out, len, hc->out[p], what);
			assert_int_equal(ike_prf(t_cx, prfs[p], key, key_len, three, 3, pieces), 0);
			assert_memory_equal(pieces, out, ike_prf_len(prfs[p]));
		}
	}
}

static void
test_prf_limits(void **state)
{
	static uint8_t big[IKE_PRF_INPUT_MAX + 1];
	uint8_t out[255 * 48], key[48] = { 1 };
	const struct ike_chunk seed = { key, sizeof(key) };
	(void)state;

	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_256), 32);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_384), 48);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
	assert_int_equal(ike_prf_len(2 /* PRF_HMAC_SHA1 */), 0);
	assert_int_equal(ike_prf(t_cx, 2, key, sizeof(key), &seed, 1, out), -ENOTSUP);

	/* IPsec-MB's HMAC job: 1..65534 bytes in one piece */
	for (uint16_t prf = IKE_PRF_HMAC_SHA2_256; prf <= IKE_PRF_HMAC_SHA2_512; prf++) {
		const struct ike_chunk most = { big, IKE_PRF_INPUT_MAX };
		const struct ike_chunk split[2] = { { big, 1000 },
						    { big + 1000, IKE_PRF_INPUT_MAX - 1000 } };
		uint8_t a[IKE_PRF_MAX], b[IKE_PRF_MAX];

		assert_int_equal(ike_prf(t_cx, prf, key, sizeof(key), &most, 1, a), 0);
		assert_int_equal(ike_prf(t_cx, prf, key, sizeof(key), split, 2, b), 0);
		assert_memory_equal(a, b, ike_prf_len(prf));
	}
	const struct ike_chunk over = { big, IKE_PRF_INPUT_MAX + 1 }, none = { NULL, 0 };
	assert_int_equal(ike_prf(t_cx, IKE_PRF_HMAC_SHA2_384, key, 48, &over, 1, out), -EINVAL);
	assert_int_equal(ike_prf(t_cx, IKE_PRF_HMAC_SHA2_384, key, 48, &none, 1, out), -EINVAL);

	/* prf+ stops at 255 blocks; its first block is prf(K, S | 0x01) */
	assert_int_equal(
		ike_prf_plus(t_cx, IKE_PRF_HMAC_SHA2_384, key, 48, &seed, 1, out, 255 * 48), 0);
	assert_int_equal(
		ike_prf_plus(t_cx, IKE_PRF_HMAC_SHA2_384, key, 48, &seed, 1, out, 255 * 48 + 1),
		-EINVAL);
	const uint8_t one = 1;
	const struct ike_chunk t1[2] = { { key, sizeof(key) }, { &one, 1 } };
	uint8_t first[48];
	assert_int_equal(ike_prf(t_cx, IKE_PRF_HMAC_SHA2_384, key, 48, t1, 2, first), 0);
	assert_memory_equal(first, out, 48);
}

/* ---- RFC 7748: X25519 ------------------------------------------------------------------------ */

static void
x25519(const uint8_t scalar[32], const uint8_t u[32], uint8_t out[32])
{
	struct ike_dh *dh;
	const uint8_t *s;
	size_t len;

	assert_int_equal(ike_dh_create_from_private(IKE_DH_CURVE25519, scalar, 32, &dh), 0);
	assert_int_equal(ike_dh_compute(dh, u, 32), 0);
	s = ike_dh_shared(dh, &len);
	assert_non_null(s);
	assert_int_equal(len, 32);
	memcpy(out, s, 32);
	ike_dh_free(dh);
}

static void
test_x25519_rfc7748(void **state)
{
	static const char *const v52[2][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], out[32];
	(void)state;

	for (int i = 0; i < 2; i++) {
		t_unhex(v52[i][0], k, 32);
		t_unhex(v52[i][1], u, 32);
		x25519(k, u, out);
		t_assert_hex(out, 32, v52[i][2], "RFC 7748 5.2");
	}
	/* 5.2, iterated: k = u = 9; k, u = X25519(k, u), k */
	memset(k, 0, 32), k[0] = 9;
	memcpy(u, k, 32);
	for (int i = 1; i <= 1000; i++) {
		x25519(k, u, out);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			t_assert_hex(
				k, 32,
				"422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
				"RFC 7748 5.2 after 1 iteration");
	}
	t_assert_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
		     "RFC 7748 5.2 after 1000 iterations");

	/* 6.1: Alice and Bob */
	static const char *const
		alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		*const bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
	struct ike_dh *a, *b;
	const uint8_t *pa, *pb, *sa, *sb;
	size_t la, lb;

	t_unhex(alice, k, 32);
	assert_int_equal(ike_dh_create_from_private(IKE_DH_CURVE25519, k, 32, &a), 0);
	t_unhex(bob, k, 32);
	assert_int_equal(ike_dh_create_from_private(IKE_DH_CURVE25519, k, 32, &b), 0);
	pa = ike_dh_public(a, &la);
	pb = ike_dh_public(b, &lb);
	t_assert_hex(pa, la, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		     "RFC 7748 6.1 Alice's public key");
	t_assert_hex(pb, lb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		     "RFC 7748 6.1 Bob's public key");
	assert_null(ike_dh_shared(a, &la));
	assert_int_equal(ike_dh_compute(a, pb, lb), 0);
	assert_int_equal(ike_dh_compute(b, pa, 32), 0);
	sa = ike_dh_shared(a, &la);
	sb = ike_dh_shared(b, &lb);
	t_assert_hex(sa, la, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		     "RFC 7748 6.1 K (Alice)");
	t_assert_hex(sb, lb, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
		     "RFC 7748 6.1 K (Bob)");
	/* one shared secret per object: the private key is gone */
	assert_int_equal(ike_dh_compute(a, pb, 32), -EALREADY);
	ike_dh_free(a);
	ike_dh_free(b);
}

static void
test_x25519_refusals(void **state)
{
	/* u-coordinates whose multiple by any clamped scalar is the identity (X25519 gives all
	 * zeros): 0, 1, the two points of order 8, p - 1 (order 2), and p, p + 1 (0 and 1 encoded
	 * non-canonically) */
	static const char *const low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t u[33] = { 9 };
	struct ike_dh *dh, *peer;
	const uint8_t *pub;
	size_t len;
	(void)state;

	assert_int_equal(ike_dh_create(19 /* ECP-256 */, &dh), -ENOTSUP);
	assert_null(dh);
	assert_int_equal(ike_dh_create_from_private(IKE_DH_CURVE25519, u, 31, &dh), -EINVAL);
	assert_int_equal(ike_dh_create(IKE_DH_CURVE25519, &dh), 0);
	/* RFC 8031 2: a KE of any other length is refused */
	assert_int_equal(ike_dh_compute(dh, u, 31), -EINVAL);
	assert_int_equal(ike_dh_compute(dh, u, 33), -EINVAL);
	assert_int_equal(ike_dh_compute(dh, NULL, 32), -EINVAL);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		t_unhex(low_order[i], u, 32);
		assert_int_equal(ike_dh_compute(dh, u, 32), -EBADMSG);
		assert_null(ike_dh_shared(dh, &len));
	}
	/* still usable after refusals: two fresh pairs agree */
	assert_int_equal(ike_dh_create(IKE_DH_CURVE25519, &peer), 0);
	pub = ike_dh_public(peer, &len);
	assert_int_equal(ike_dh_compute(dh, pub, len), 0);
	pub = ike_dh_public(dh, &len);
	assert_int_equal(ike_dh_compute(peer, pub, len), 0);
	assert_memory_equal(ike_dh_shared(dh, &len), ike_dh_shared(peer, &len), 32);
	assert_memory_not_equal(ike_dh_public(dh, &len), ike_dh_public(peer, &len), 32);
	ike_dh_free(dh);
	ike_dh_free(peer);
}

/* ---- RFC 8032 7.1: Ed25519 ------------------------------------------------------------------- */

static void
test_ed25519_rfc8032(void **state)
{
	static const char *const v[][4] = {
		/* secret key, public key, message, signature */
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
		  "c61e3970"
		  "1cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
		  "458f3613"
		  "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
		  "ae67f760"
		  "984dc6594a7c15e9716ed28dc027beceea1ec40a" },
		/* TEST SHA(abc): the message is SHA-512("abc") */
		{ "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		  "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
		  "36ba3c23"
		  "a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		  "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ec"
		  "fdfbc7c6"
		  "6431e0303dca179c138ac17ad9bef1177331a704" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t seed[32], pk[32], msg[65], sig[64], mine[64];
		size_t mlen;
		struct ike_ed25519_key *k;

		t_unhex(v[i][0], seed, 32);
		t_unhex(v[i][1], pk, 32);
		mlen = t_unhex(v[i][2], msg, sizeof(msg) - 1);
		t_unhex(v[i][3], sig, 64);
		assert_int_equal(ike_ed25519_key_from_seed(seed, &k), 0);
		assert_memory_equal(ike_ed25519_key_public(k), pk, 32);
		assert_int_equal(ike_ed25519_sign(k, msg, mlen, mine), 0);
		t_assert_hex(mine, 64, v[i][3], "RFC 8032 7.1 signature");
		assert_int_equal(ike_ed25519_verify(pk, msg, mlen, sig), 0);
		sig[i % 64] ^= 0x01;
		assert_int_equal(ike_ed25519_verify(pk, msg, mlen, sig), -EBADMSG);
		sig[i % 64] ^= 0x01;
		msg[mlen] = 0x00; /* one byte more */
		assert_int_equal(ike_ed25519_verify(pk, msg, mlen + 1, sig), -EBADMSG);
		pk[31] ^= 0x40;
		assert_int_equal(ike_ed25519_verify(pk, msg, mlen, sig), -EBADMSG);
		ike_ed25519_key_free(k);
	}
}

/* ---- AEADs: RFC 8439 2.8.2 and the ESP vector file ------------------------------------------ */

/* Seals pt under keymat/iv/aad, expects ct | icv, opens it back; a flipped ICV bit is refused and
 * leaves zeros. */
static void
aead_kat(uint16_t encr, uint16_t bits, const uint8_t *keymat, size_t keymat_len,
	 const uint8_t iv[8], const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
	 const uint8_t *ct_icv, const char *what)
{
	uint8_t buf[T_BUF], icv[16];
	struct ike_aead *a;

	assert_true(len <= sizeof(buf));
	assert_int_equal(ike_aead_create(t_cx, encr, bits, keymat, keymat_len, &a), 0);
	memcpy(buf, pt, len);
	assert_int_equal(ike_aead_seal(a, iv, aad, aad_len, buf, len, icv), 0);
	if (memcmp(buf, ct_icv, len) != 0 || memcmp(icv, ct_icv + len, 16) != 0)
		fail_msg("%s: sealed bytes differ", what);
	assert_int_equal(ike_aead_open(a, iv, aad, aad_len, buf, len, icv), 0);
	assert_memory_equal(buf, pt, len);
	memcpy(buf, ct_icv, len);
	icv[15] ^= 0x80;
	assert_int_equal(ike_aead_open(a, iv, aad, aad_len, buf, len, icv), -EBADMSG);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], 0);
	ike_aead_free(a);
}

static void
test_chacha20poly1305_rfc8439(void **state)
{
	static const char pt[] =
		"Ladies and Gentlemen of the class of '99: If I could offer you only "
		"one tip for the future, sunscreen would be it.";
	uint8_t keymat[36], iv[8], aad[12], ct_icv[sizeof(pt) - 1 + 16];
	(void)state;

	/* the 96-bit nonce 07000000 | 4041424344454647 is salt | IV */
	t_unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f07000000", keymat,
		sizeof(keymat));
	t_unhex("4041424344454647", iv, sizeof(iv));
	t_unhex("50515253c0c1c2c3c4c5c6c7", aad, sizeof(aad));
	t_unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282"
		"fafb"
		"69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4"
		"fad6"
		"75945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
		"1ae10b594f09e26a7e902ecbd0600691",
		ct_icv, sizeof(ct_icv));
	aead_kat(IKE_ENCR_CHACHA20_POLY1305, 0, keymat, sizeof(keymat), iv, aad, sizeof(aad),
		 (const uint8_t *)pt, sizeof(pt) - 1, ct_icv, "RFC 8439 2.8.2");
}

/* rfc_esp_vectors.json, opened with our AEAD object: AAD = SPI | [seq_high |] seq_low (RFC 4106 5,
 * RFC 7634 2.1), the ESP payload after SPI, sequence number and IV is ciphertext | ICV. */
static void
test_esp_file_aeads(void **state)
{
	const json_t *vectors = json_object_get(t_esp_vectors, "vectors"), *v;
	size_t idx, checked = 0;
	(void)state;

	json_array_foreach(vectors, idx, v)
	{
		static const struct {
			const char *name;
			uint16_t encr, bits;
		} aeads[] = { { "aes128gcm16", IKE_ENCR_AES_GCM_16, 128 },
			      { "aes256gcm16", IKE_ENCR_AES_GCM_16, 256 },
			      { "chacha20poly1305", IKE_ENCR_CHACHA20_POLY1305, 0 } };
		uint8_t keymat[64], iv[8], esp[T_BUF], payload[T_BUF], aad[12], seq[8];
		size_t km_len, esp_len, pl_len, aad_len = 0;
		const char *aead = t_str(v, "aead");
		int which = -1;

		for (int i = 0; i < 3; i++)
			if (strcmp(aead, aeads[i].name) == 0)
				which = i;
		assert_true(which >= 0);
		km_len = t_field(v, "keymat", keymat, sizeof(keymat));
		t_field(v, "iv", iv, sizeof(iv));
		esp_len = t_field(v, "esp", esp, sizeof(esp));
		pl_len = t_field(v, "payload", payload, sizeof(payload));
		t_field(v, "seq_hex", seq, sizeof(seq));
		assert_int_equal(esp_len, 16 + pl_len + 16);
		memcpy(aad, esp, 4), aad_len = 4;
		if (json_is_true(json_object_get(v, "esn")))
			memcpy(aad + aad_len, seq, 4), aad_len += 4;
		memcpy(aad + aad_len, esp + 4, 4), aad_len += 4;
		aead_kat(aeads[which].encr, aeads[which].bits, keymat, km_len, iv, aad, aad_len,
			 payload, pl_len, esp + 16, t_str(v, "name"));
		checked++;
	}
	assert_true(checked >= 16);
}

/* ---- refusals and round trips ------------------------------------------------------------ */

static void
test_unsupported(void **state)
{
	uint8_t keymat[36] = { 0 }, n[64] = { 0 }, g[32] = { 1 };
	struct ike_crypto_suite s = { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256,
				      IKE_DH_CURVE25519 };
	struct ike_kex kex = { n, 32, n, 32, g, 32, { 1 }, { 2 } };
	struct ike_keys *k;
	struct ike_aead *a;
	(void)state;

	assert_int_equal(ike_aead_keymat_len(IKE_ENCR_AES_GCM_16, 192), 0);
	assert_int_equal(ike_aead_keymat_len(12 /* AES-CBC */, 128), 0);
	assert_int_equal(ike_aead_keymat_len(IKE_ENCR_CHACHA20_POLY1305, 128), 0);
	assert_int_equal(ike_aead_create(t_cx, IKE_ENCR_AES_GCM_16, 192, keymat, 28, &a), -ENOTSUP);
	assert_int_equal(ike_aead_create(t_cx, IKE_ENCR_AES_GCM_16, 128, keymat, 36, &a), -EINVAL);

	struct {
		struct ike_crypto_suite s;
		size_t ni_len, nr_len, gir_len;
		int rc;
	} cases[] = {
		{ s, 32, 32, 32, 0 },
		{ { 12, 128, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519 }, 32, 32, 32, -ENOTSUP },
		{ { IKE_ENCR_AES_GCM_16, 192, IKE_PRF_HMAC_SHA2_256, 31 }, 32, 32, 32, -ENOTSUP },
		{ { IKE_ENCR_AES_GCM_16, 128, 2 /* SHA-1 */, 31 }, 32, 32, 32, -ENOTSUP },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, 19 }, 32, 32, 32, -ENOTSUP },
		{ s, 15, 32, 32, -EINVAL },  /* nonce under 128 bits */
		{ s, 32, 257, 32, -EINVAL }, /* over 256 bytes */
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_512, 31 }, 31, 32, 32, -EINVAL },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_512, 31 }, 32, 32, 32, 0 },
		{ s, 32, 32, 31, -EINVAL }, /* g^ir of another length */
	};
	uint8_t big[300] = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kex.ni = big, kex.ni_len = cases[i].ni_len;
		kex.nr = big, kex.nr_len = cases[i].nr_len;
		kex.gir_len = cases[i].gir_len;
		assert_int_equal(ike_keys_derive(t_cx, &cases[i].s, true, &kex, &k), cases[i].rc);
		if (cases[i].rc == 0) {
			struct ike_child_keymat *km;

			assert_int_equal(
				ike_keys_child_keymat(k, 12, 128, NULL, 0, n, 32, n, 32, &km),
				-ENOTSUP);
			assert_int_equal(ike_keys_child_keymat(k, IKE_ENCR_AES_GCM_16, 128, g, 0, n,
							       32, n, 32, &km),
					 -EINVAL);
			assert_int_equal(ike_keys_child_keymat(k, IKE_ENCR_AES_GCM_16, 128, NULL, 0,
							       n, 8, n, 32, &km),
					 -EINVAL);
			ike_keys_free(k);
		} else {
			assert_null(k);
		}
	}
}

/* Two fresh ends of one IKE SA per suite, over random DH: messages of many lengths and AAD
 * lengths go both ways; each side's IVs count 0, 1, 2...; a short message is refused. */
static void
test_roundtrip(void **state)
{
	static const struct ike_crypto_suite suites[] = {
		{ IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519 },
		{ IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, IKE_DH_CURVE25519 },
		{ IKE_ENCR_CHACHA20_POLY1305, 0, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519 },
		{ IKE_ENCR_CHACHA20_POLY1305, 256, IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519 },
	};
	(void)state;

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		struct ike_dh *di, *dr;
		struct ike_keys *ki, *kr;
		struct ike_kex kex = { 0 };
		uint8_t ni[32], nr[40], msg[600], copy[600];
		const uint8_t *p;
		size_t len;

		randombytes_buf(ni, sizeof(ni));
		randombytes_buf(nr, sizeof(nr));
		randombytes_buf(kex.spi_i, 8);
		randombytes_buf(kex.spi_r, 8);
		assert_int_equal(ike_dh_create(IKE_DH_CURVE25519, &di), 0);
		assert_int_equal(ike_dh_create(IKE_DH_CURVE25519, &dr), 0);
		p = ike_dh_public(dr, &len);
		assert_int_equal(ike_dh_compute(di, p, len), 0);
		p = ike_dh_public(di, &len);
		assert_int_equal(ike_dh_compute(dr, p, len), 0);
		kex.ni = ni, kex.ni_len = sizeof(ni), kex.nr = nr, kex.nr_len = sizeof(nr);
		kex.gir = ike_dh_shared(di, &kex.gir_len);
		assert_int_equal(ike_keys_derive(t_cx, &suites[s], true, &kex, &ki), 0);
		kex.gir = ike_dh_shared(dr, &kex.gir_len);
		assert_int_equal(ike_keys_derive(t_cx, &suites[s], false, &kex, &kr), 0);
		assert_true(ike_keys_initiator(ki));
		assert_false(ike_keys_initiator(kr));

		for (unsigned i = 0; i < 40; i++) {
			bool from_i = i % 2 == 0;
			size_t aad_len = 28 + (i * 7) % 61, ct_len = 1 + (i * 37) % 500;
			size_t total = aad_len + 8 + ct_len + 16;
			struct ike_keys *tx = from_i ? ki : kr, *rx = from_i ? kr : ki;
			uint64_t iv = 0;

			randombytes_buf(msg, total);
			memcpy(copy, msg, total);
			assert_int_equal(ike_keys_seal(tx, msg, total, aad_len), 0);
			for (int b = 0; b < 8; b++)
				iv = iv << 8 | msg[aad_len + b];
			assert_int_equal(iv, i / 2);
			assert_memory_equal(msg, copy, aad_len);
			assert_int_equal(ike_keys_open(rx, msg, total, aad_len), 0);
			assert_memory_equal(msg + aad_len + 8, copy + aad_len + 8, ct_len);
		}
		assert_int_equal(ike_keys_seal(ki, msg, 28 + 8 + 16, 28), -EINVAL);
		assert_int_equal(ike_keys_open(kr, msg, 28 + 8 + 16, 28), -EINVAL);
		assert_int_equal(ike_keys_open(kr, msg, 20, 28), -EINVAL);
		ike_keys_free(ki);
		ike_keys_free(kr);
		ike_dh_free(di);
		ike_dh_free(dr);
	}
}

/* ---- main -------------------------------------------------------------------------------- */

static const char *ike_path, *esp_path;

static int
setup(void **state)
{
	json_error_t err;
	(void)state;

	if (ike_crypto_create(&t_cx) != 0)
		return -1;
	t_ike_vectors = json_load_file(ike_path, 0, &err);
	t_esp_vectors = json_load_file(esp_path, 0, &err);
	if (t_ike_vectors == NULL || t_esp_vectors == NULL) {
		fprintf(stderr, "cannot load vectors: %s:%d: %s\n", err.source, err.line, err.text);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(t_ike_vectors);
	json_decref(t_esp_vectors);
	ike_crypto_free(t_cx);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_prf_limits),
		cmocka_unit_test(test_prf_plus_vectors),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_x25519_refusals),
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_chacha20poly1305_rfc8439),
		cmocka_unit_test(test_esp_file_aeads),
		cmocka_unit_test(test_rfc7634_ike_example),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_suite_vectors),
		cmocka_unit_test(test_tamper_every_bit),
		cmocka_unit_test(test_auth_refusals),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s IKE_VECTORS.json ESP_VECTORS.json\n", argv[0]);
		return 2;
	}
	ike_path = argv[1];
	esp_path = argv[2];
	return cmocka_run_group_tests_name("ike_crypto", tests, setup, teardown);
}
