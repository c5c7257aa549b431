/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One IKE SA's keys, what the exchange engine holds per SA: derived from an IKE_SA_INIT (RFC 7296
 * 2.14) or from the CREATE_CHILD_SA that rekeys an IKE SA (2.18), they seal our SK payloads and
 * open the peer's (SK_ei / SK_er chosen by role), compute and verify AUTH (SK_pi / SK_pr, 2.15)
 * and expand SK_d into CHILD_SA keying material (2.17). The object (its two AEADs inside) and
 * every intermediate secret (SKEYSEED, the prf+ stream) are in guarded memory.
 */
#include <errno.h>
#include <string.h>

#include "ike_crypto_priv.h"

/* One guarded allocation per IKE SA, AEADs included: every sodium_malloc costs guard pages and
 * mappings (vm.max_map_count), and an engine holds thousands of IKE SAs. */
struct ike_keys {
	struct ike_aead aead_i; /* SK_ei */
	struct ike_aead aead_r; /* SK_er */
	struct ike_crypto *c;
	struct ike_crypto_suite suite;
	bool initiator;
	uint64_t iv_next; /* next explicit IV of our direction */
	uint8_t len[IKE_SKID_COUNT];
	uint8_t sk_d[IKE_PRF_MAX];
	uint8_t sk_ei[IKE_AEAD_KEYMAT_MAX];
	uint8_t sk_er[IKE_AEAD_KEYMAT_MAX];
	uint8_t sk_pi[IKE_PRF_MAX];
	uint8_t sk_pr[IKE_PRF_MAX];
};

static bool
nonce_ok(const uint8_t *nonce, size_t len, size_t prf_len)
{
	/* RFC 7296 2.10: at least 128 bits and at least half the PRF's key size */
	return nonce != NULL && len >= IKE_CRYPTO_NONCE_MIN && len <= IKE_CRYPTO_NONCE_MAX &&
	       len * 2 >= prf_len;
}

static int
check_suite(const struct ike_crypto_suite *s)
{
	if (ike_prf_len(s->prf) == 0 || ike_aead_keymat_len(s->encr, s->encr_key_bits) == 0 ||
	    s->dh != IKE_DH_CURVE25519)
		return -ENOTSUP;
	return 0;
}

static int
check_kex(const struct ike_crypto_suite *s, const struct ike_kex *kex)
{
	size_t hlen = ike_prf_len(s->prf);

	if (!nonce_ok(kex->ni, kex->ni_len, hlen) || !nonce_ok(kex->nr, kex->nr_len, hlen) ||
	    kex->gir == NULL || kex->gir_len != IKE_X25519_LEN)
		return -EINVAL;
	return 0;
}

/* The seven keys from SKEYSEED (c->work->skeyseed, skeyseed_len bytes) with the suite's PRF. */
static int
keys_from_skeyseed(struct ike_crypto *c, const struct ike_crypto_suite *s, bool initiator,
		   const struct ike_kex *kex, size_t skeyseed_len, struct ike_keys **out)
{
	struct ike_work *w = c->work;
	size_t hlen = ike_prf_len(s->prf), elen = ike_aead_keymat_len(s->encr, s->encr_key_bits);
	size_t total = hlen + 2 * elen + 2 * hlen;
	const struct ike_chunk seed[] = { { kex->ni, kex->ni_len },
					  { kex->nr, kex->nr_len },
					  { kex->spi_i, sizeof(kex->spi_i) },
					  { kex->spi_r, sizeof(kex->spi_r) } };
	struct ike_keys *k = NULL;
	const uint8_t *p = w->keymat;
	int rc;

	static_assert(sizeof(w->keymat) >= 3 * IKE_PRF_MAX + 2 * IKE_AEAD_KEYMAT_MAX, "keymat");
	rc = prf_key(c, &w->keyed, s->prf, w->skeyseed, skeyseed_len);
	if (rc == 0)
		rc = prf_plus_keyed(c, &w->keyed, seed, 4, w->keymat, total);
	if (rc < 0)
		goto wipe;
	k = guarded_zalloc(sizeof(*k));
	if (k == NULL) {
		rc = -ENOMEM;
		goto wipe;
	}
	k->c = c;
	k->suite = *s;
	k->initiator = initiator;
	k->len[IKE_SKID_D] = k->len[IKE_SKID_PI] = k->len[IKE_SKID_PR] = (uint8_t)hlen;
	k->len[IKE_SKID_EI] = k->len[IKE_SKID_ER] = (uint8_t)elen;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}, no SK_a with an AEAD */
	memcpy(k->sk_d, p, hlen), p += hlen;
	memcpy(k->sk_ei, p, elen), p += elen;
	memcpy(k->sk_er, p, elen), p += elen;
	memcpy(k->sk_pi, p, hlen), p += hlen;
	memcpy(k->sk_pr, p, hlen);
	rc = aead_init(&k->aead_i, c, s->encr, s->encr_key_bits, k->sk_ei, elen);
	if (rc == 0)
		rc = aead_init(&k->aead_r, c, s->encr, s->encr_key_bits, k->sk_er, elen);
	if (rc < 0) {
		ike_keys_free(k);
		k = NULL;
	}
wipe:
	sodium_memzero(w->keymat, sizeof(w->keymat));
	sodium_memzero(&w->keyed, sizeof(w->keyed));
	sodium_memzero(w->skeyseed, sizeof(w->skeyseed));
	*out = k;
	return rc;
}

int
ike_keys_derive(struct ike_crypto *c, const struct ike_crypto_suite *s, bool initiator,
		const struct ike_kex *kex, struct ike_keys **out)
{
	struct ike_work *w = c->work;
	const struct ike_chunk gir = { kex->gir, kex->gir_len };
	int rc;

	*out = NULL;
	rc = check_suite(s);
	if (rc == 0)
		rc = check_kex(s, kex);
	if (rc < 0)
		return rc;
	/* SKEYSEED = prf(Ni | Nr, g^ir): the nonces are the key */
	memcpy(w->nonces, kex->ni, kex->ni_len);
	memcpy(w->nonces + kex->ni_len, kex->nr, kex->nr_len);
	rc = prf_key(c, &w->keyed, s->prf, w->nonces, kex->ni_len + kex->nr_len);
	if (rc == 0)
		rc = prf_eval(c, &w->keyed, &gir, 1, w->skeyseed);
	sodium_memzero(w->nonces, sizeof(w->nonces));
	if (rc < 0) {
		sodium_memzero(&w->keyed, sizeof(w->keyed));
		sodium_memzero(w->skeyseed, sizeof(w->skeyseed));
		return rc;
	}
	return keys_from_skeyseed(c, s, initiator, kex, ike_prf_len(s->prf), out);
}

int
ike_keys_rekey(const struct ike_keys *old, const struct ike_crypto_suite *s, bool initiator,
	       const struct ike_kex *kex, struct ike_keys **out)
{
	struct ike_crypto *c = old->c;
	struct ike_work *w = c->work;
	const struct ike_chunk parts[] = { { kex->gir, kex->gir_len },
					   { kex->ni, kex->ni_len },
					   { kex->nr, kex->nr_len } };
	int rc;

	*out = NULL;
	rc = check_suite(s);
	if (rc == 0)
		rc = check_kex(s, kex);
	if (rc < 0)
		return rc;
	/* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF: the exchange
	 * belongs to the old SA; prf+ then uses the new SA's PRF */
	rc = prf_key(c, &w->keyed, old->suite.prf, old->sk_d, old->len[IKE_SKID_D]);
	if (rc == 0)
		rc = prf_eval(c, &w->keyed, parts, 3, w->skeyseed);
	if (rc < 0) {
		sodium_memzero(&w->keyed, sizeof(w->keyed));
		sodium_memzero(w->skeyseed, sizeof(w->skeyseed));
		return rc;
	}
	return keys_from_skeyseed(c, s, initiator, kex, ike_prf_len(old->suite.prf), out);
}

void
ike_keys_free(struct ike_keys *k)
{
	sodium_free(k); /* wipes; NULL is fine */
}

bool
ike_keys_initiator(const struct ike_keys *k)
{
	return k->initiator;
}

const struct ike_crypto_suite *
ike_keys_suite(const struct ike_keys *k)
{
	return &k->suite;
}

const uint8_t *
ike_keys_sk(const struct ike_keys *k, enum ike_sk_id id, size_t *len)
{
	static const uint8_t empty[1];

	if ((unsigned)id >= IKE_SKID_COUNT) {
		*len = 0;
		return NULL;
	}
	*len = k->len[id];
	switch (id) {
	case IKE_SKID_D:
		return k->sk_d;
	case IKE_SKID_EI:
		return k->sk_ei;
	case IKE_SKID_ER:
		return k->sk_er;
	case IKE_SKID_PI:
		return k->sk_pi;
	case IKE_SKID_PR:
		return k->sk_pr;
	default:
		return empty; /* SK_ai, SK_ar: none with an AEAD */
	}
}

/* ---- SK payload ------------------------------------------------------------------------------ */

const struct ike_aead *
ike_keys_aead(const struct ike_keys *k, bool seal)
{
	/* the initiator seals with SK_ei; both sides open the other's direction */
	return seal == k->initiator ? &k->aead_i : &k->aead_r;
}

static bool
sk_layout_ok(size_t msg_len, size_t aad_len)
{
	/* at least the pad length byte to encrypt */
	return aad_len <= msg_len && msg_len - aad_len >= IKE_AEAD_IV_LEN + 1 + IKE_AEAD_ICV_LEN;
}

int
ike_keys_seal(struct ike_keys *k, uint8_t *msg, size_t msg_len, size_t aad_len)
{
	uint8_t *iv = msg + aad_len;
	size_t ct_len;
	uint64_t n;

	if (msg == NULL || !sk_layout_ok(msg_len, aad_len))
		return -EINVAL;
	if (k->iv_next == UINT64_MAX)
		return -EOVERFLOW;
	n = k->iv_next++; /* consumed even if sealing fails: never reused */
	for (int i = 0; i < IKE_AEAD_IV_LEN; i++)
		iv[i] = (uint8_t)(n >> (56 - 8 * i));
	ct_len = msg_len - aad_len - IKE_AEAD_IV_LEN - IKE_AEAD_ICV_LEN;
	return ike_aead_seal(ike_keys_aead(k, true), iv, msg, aad_len, iv + IKE_AEAD_IV_LEN, ct_len,
			     iv + IKE_AEAD_IV_LEN + ct_len);
}

int
ike_keys_open(struct ike_keys *k, uint8_t *msg, size_t msg_len, size_t aad_len)
{
	uint8_t *iv = msg + aad_len;
	size_t ct_len;

	if (msg == NULL || !sk_layout_ok(msg_len, aad_len))
		return -EINVAL;
	ct_len = msg_len - aad_len - IKE_AEAD_IV_LEN - IKE_AEAD_ICV_LEN;
	return ike_aead_open(ike_keys_aead(k, false), iv, msg, aad_len, iv + IKE_AEAD_IV_LEN,
			     ct_len, iv + IKE_AEAD_IV_LEN + ct_len);
}

/* ---- AUTH ------------------------------------------------------------------------------------ */

static const uint8_t *
sk_p(const struct ike_keys *k, bool signer_initiator)
{
	return signer_initiator ? k->sk_pi : k->sk_pr;
}

int
ike_keys_psk_auth(struct ike_keys *k, bool signer_initiator, const uint8_t *psk, size_t psk_len,
		  const struct ike_auth_octets *o, uint8_t auth[IKE_PRF_MAX], size_t *auth_len)
{
	size_t hlen = k->len[IKE_SKID_PI];
	int rc;

	rc = ike_psk_auth(k->c, k->suite.prf, psk, psk_len, sk_p(k, signer_initiator), hlen, o,
			  auth);
	*auth_len = rc == 0 ? hlen : 0;
	return rc;
}

int
ike_keys_psk_verify(struct ike_keys *k, bool signer_initiator, const uint8_t *psk, size_t psk_len,
		    const struct ike_auth_octets *o, const uint8_t *auth, size_t auth_len)
{
	uint8_t expect[IKE_PRF_MAX];
	size_t len;
	int rc;

	rc = ike_keys_psk_auth(k, signer_initiator, psk, psk_len, o, expect, &len);
	if (rc == 0 && (auth == NULL || auth_len != len || sodium_memcmp(expect, auth, len) != 0))
		rc = -EBADMSG;
	sodium_memzero(expect, sizeof(expect));
	return rc;
}

int
ike_keys_ed25519_auth(struct ike_keys *k, bool signer_initiator, const struct ike_ed25519_key *key,
		      const struct ike_auth_octets *o, uint8_t auth[IKE_DSIG_ED25519_LEN])
{
	size_t len;
	int rc;

	rc = signed_octets_gather(k->c, k->suite.prf, sk_p(k, signer_initiator),
				  k->len[IKE_SKID_PI], o, &len);
	if (rc < 0)
		return rc;
	auth[0] = IKE_ED25519_ALG_ID_LEN;
	memcpy(auth + 1, ike_ed25519_alg_id, IKE_ED25519_ALG_ID_LEN);
	rc = ike_ed25519_sign(key, k->c->gather, len, auth + 1 + IKE_ED25519_ALG_ID_LEN);
	sodium_memzero(k->c->gather, len);
	return rc;
}

int
ike_keys_ed25519_verify(struct ike_keys *k, bool signer_initiator,
			const uint8_t pk[IKE_ED25519_PK_LEN], const struct ike_auth_octets *o,
			const uint8_t *auth, size_t auth_len)
{
	size_t len;
	int rc;

	if (auth == NULL || auth_len < 1 || auth_len < 1 + (size_t)auth[0])
		return -EBADMSG;
	if (auth[0] != IKE_ED25519_ALG_ID_LEN ||
	    memcmp(auth + 1, ike_ed25519_alg_id, IKE_ED25519_ALG_ID_LEN) != 0)
		return -ENOTSUP;
	if (auth_len != IKE_DSIG_ED25519_LEN)
		return -EBADMSG;
	rc = signed_octets_gather(k->c, k->suite.prf, sk_p(k, signer_initiator),
				  k->len[IKE_SKID_PI], o, &len);
	if (rc < 0)
		return rc;
	rc = ike_ed25519_verify(pk, k->c->gather, len, auth + 1 + IKE_ED25519_ALG_ID_LEN);
	sodium_memzero(k->c->gather, len);
	return rc;
}

/* ---- CHILD_SA keying material ---------------------------------------------------------------- */

int
ike_keys_child_keymat(struct ike_keys *k, uint16_t esp_encr, uint16_t esp_key_bits,
		      const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
		      const uint8_t *nr, size_t nr_len, struct ike_child_keymat **out)
{
	struct ike_crypto *c = k->c;
	struct ike_work *w = c->work;
	size_t elen = ike_aead_keymat_len(esp_encr, esp_key_bits), hlen = k->len[IKE_SKID_D];
	struct ike_chunk seed[3];
	struct ike_child_keymat *km;
	unsigned n = 0;
	int rc;

	*out = NULL;
	if (elen == 0)
		return -ENOTSUP;
	if (!nonce_ok(ni, ni_len, hlen) || !nonce_ok(nr, nr_len, hlen) ||
	    (gir == NULL) != (gir_len == 0))
		return -EINVAL;
	km = guarded_zalloc(sizeof(*km));
	if (km == NULL)
		return -ENOMEM;
	/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) */
	if (gir != NULL)
		seed[n++] = (struct ike_chunk){ gir, gir_len };
	seed[n++] = (struct ike_chunk){ ni, ni_len };
	seed[n++] = (struct ike_chunk){ nr, nr_len };
	rc = prf_key(c, &w->keyed, k->suite.prf, k->sk_d, hlen);
	if (rc == 0)
		rc = prf_plus_keyed(c, &w->keyed, seed, n, w->keymat, 2 * elen);
	if (rc == 0) {
		/* initiator-to-responder first (RFC 7296 2.17), each key || salt */
		km->encr = esp_encr;
		km->key_bits = (uint16_t)((elen - IKE_AEAD_SALT_LEN) * 8);
		km->len = (uint8_t)elen;
		memcpy(km->i2r, w->keymat, elen);
		memcpy(km->r2i, w->keymat + elen, elen);
		*out = km;
	} else {
		sodium_free(km);
	}
	sodium_memzero(w->keymat, sizeof(w->keymat));
	sodium_memzero(&w->keyed, sizeof(w->keyed));
	return rc;
}

void
ike_child_keymat_free(struct ike_child_keymat *km)
{
	sodium_free(km);
}
