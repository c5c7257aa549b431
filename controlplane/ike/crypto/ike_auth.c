/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_AUTH's AUTH payload data (RFC 7296 2.15). Both methods prove the same SignedOctets:
 *   SignedOctets = RealMessage | NonceData (the peer's) | prf(SK_p, RestOfIDPayload)
 * shared key (method 2):    AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), SignedOctets)
 * Ed25519 (method 14, RFC 8420 with RFC 7427's encoding):
 *                           AUTH = 7 | AlgorithmIdentifier(id-Ed25519) | Ed25519(SignedOctets)
 * Ed25519 is pure EdDSA over the whole SignedOctets (the "Identity" hash), which libsodium wants in
 * one piece: it is gathered into guarded memory. Private keys live in guarded memory.
 */
#include <errno.h>
#include <string.h>

#include "ike_crypto_priv.h"

const uint8_t ike_ed25519_alg_id[IKE_ED25519_ALG_ID_LEN] = { 0x30, 0x05, 0x06, 0x03,
							     0x2b, 0x65, 0x70 };

#define KEY_PAD_LEN (sizeof(IKE_AUTH_KEY_PAD) - 1)

struct ike_ed25519_key {
	uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key */
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

/* ---- SignedOctets ---------------------------------------------------------------------------- */

static bool
octets_valid(const struct ike_auth_octets *o)
{
	return o != NULL && o->msg != NULL && o->msg_len > 0 && o->nonce != NULL &&
	       o->nonce_len > 0 && o->id != NULL && o->id_len > 0;
}

size_t
ike_signed_octets_len(uint16_t prf, const struct ike_auth_octets *o)
{
	size_t hlen = ike_prf_len(prf);

	if (hlen == 0 || !octets_valid(o))
		return 0;
	return o->msg_len + o->nonce_len + hlen;
}

/* prf(SK_p, RestOfIDPayload) into c->work->maced_id */
static int
maced_id(struct ike_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sk_p_len,
	 const struct ike_auth_octets *o)
{
	const struct ike_chunk id = { o->id, o->id_len };

	return ike_prf(c, prf, sk_p, sk_p_len, &id, 1, c->work->maced_id);
}

int
signed_octets_gather(struct ike_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sk_p_len,
		     const struct ike_auth_octets *o, size_t *len)
{
	int rc;

	if (ike_signed_octets_len(prf, o) == 0)
		return ike_prf_len(prf) == 0 ? -ENOTSUP : -EINVAL;
	/* the PRF may use the gather buffer itself: fill it only afterwards */
	rc = maced_id(c, prf, sk_p, sk_p_len, o);
	if (rc == 0) {
		const struct ike_chunk parts[] = { { o->msg, o->msg_len },
						   { o->nonce, o->nonce_len },
						   { c->work->maced_id, ike_prf_len(prf) } };

		rc = gather_parts(c, parts, 3, len);
	}
	sodium_memzero(c->work->maced_id, sizeof(c->work->maced_id));
	return rc;
}

int
ike_signed_octets(struct ike_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sk_p_len,
		  const struct ike_auth_octets *o, uint8_t *out, size_t cap, size_t *len)
{
	size_t need = ike_signed_octets_len(prf, o);
	int rc;

	if (need == 0)
		return ike_prf_len(prf) == 0 ? -ENOTSUP : -EINVAL;
	if (cap < need)
		return -EINVAL;
	rc = maced_id(c, prf, sk_p, sk_p_len, o);
	if (rc == 0) {
		memcpy(out, o->msg, o->msg_len);
		memcpy(out + o->msg_len, o->nonce, o->nonce_len);
		memcpy(out + o->msg_len + o->nonce_len, c->work->maced_id, ike_prf_len(prf));
		*len = need;
	}
	sodium_memzero(c->work->maced_id, sizeof(c->work->maced_id));
	return rc;
}

/* ---- shared key ------------------------------------------------------------------------------ */

int
ike_psk_auth(struct ike_crypto *c, uint16_t prf, const uint8_t *psk, size_t psk_len,
	     const uint8_t *sk_p, size_t sk_p_len, const struct ike_auth_octets *o, uint8_t *auth)
{
	struct ike_work *w = c->work;
	size_t hlen = ike_prf_len(prf);
	const struct ike_chunk pad = { (const uint8_t *)IKE_AUTH_KEY_PAD, KEY_PAD_LEN };
	int rc;

	if (hlen == 0)
		return -ENOTSUP;
	if (!octets_valid(o) || psk == NULL || psk_len == 0)
		return -EINVAL;
	rc = maced_id(c, prf, sk_p, sk_p_len, o);
	if (rc == 0)
		rc = ike_prf(c, prf, psk, psk_len, &pad, 1, w->psk_key);
	if (rc == 0) {
		const struct ike_chunk parts[] = { { o->msg, o->msg_len },
						   { o->nonce, o->nonce_len },
						   { w->maced_id, hlen } };

		rc = ike_prf(c, prf, w->psk_key, hlen, parts, 3, auth);
	}
	sodium_memzero(w->maced_id, sizeof(w->maced_id));
	sodium_memzero(w->psk_key, sizeof(w->psk_key));
	return rc;
}

/* ---- Ed25519 --------------------------------------------------------------------------------- */

static int
ed25519_new(struct ike_ed25519_key **out)
{
	*out = NULL;
	if (sodium_init() < 0)
		return -ENOMEM;
	*out = guarded_zalloc(sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

int
ike_ed25519_key_generate(struct ike_ed25519_key **out)
{
	int rc = ed25519_new(out);

	if (rc == 0 && crypto_sign_keypair((*out)->pk, (*out)->sk) != 0) {
		ike_ed25519_key_free(*out);
		*out = NULL;
		rc = -EIO;
	}
	return rc;
}

int
ike_ed25519_key_from_seed(const uint8_t seed[IKE_ED25519_SEED_LEN], struct ike_ed25519_key **out)
{
	int rc = ed25519_new(out);

	if (rc == 0 && crypto_sign_seed_keypair((*out)->pk, (*out)->sk, seed) != 0) {
		ike_ed25519_key_free(*out);
		*out = NULL;
		rc = -EIO;
	}
	return rc;
}

const uint8_t *
ike_ed25519_key_public(const struct ike_ed25519_key *k)
{
	return k->pk;
}

void
ike_ed25519_key_free(struct ike_ed25519_key *k)
{
	sodium_free(k);
}

int
ike_ed25519_sign(const struct ike_ed25519_key *k, const uint8_t *msg, size_t len,
		 uint8_t sig[IKE_ED25519_SIG_LEN])
{
	return crypto_sign_detached(sig, NULL, msg, len, k->sk) == 0 ? 0 : -EIO;
}

int
ike_ed25519_verify(const uint8_t pk[IKE_ED25519_PK_LEN], const uint8_t *msg, size_t len,
		   const uint8_t sig[IKE_ED25519_SIG_LEN])
{
	if (sodium_init() < 0)
		return -ENOMEM;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EBADMSG;
}
