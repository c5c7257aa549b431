/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SK payload's AEADs (RFC 5282 AES-GCM with a 16-byte ICV, RFC 7634 ChaCha20-Poly1305), in
 * place: nonce = salt (the last 4 keymat bytes) | the 8-byte explicit IV; the AAD is whatever the
 * caller names (the IKE header through the SK payload's generic header). AES-GCM runs on IPsec-MB's
 * direct GCM functions over a key schedule expanded once per key; ChaCha20-Poly1305 on libsodium's
 * IETF construction. Opening compares the ICV in constant time and zeroes the range on failure,
 * so no unauthenticated plaintext is ever left for a caller to trip over.
 */
#include <errno.h>
#include <string.h>

#include "ike_crypto_priv.h"

#define AES128_KEY_LEN	 16
#define AES256_KEY_LEN	 32
#define CHACHA20_KEY_LEN 32
#define NONCE_LEN	 (IKE_AEAD_SALT_LEN + IKE_AEAD_IV_LEN)

static_assert(sizeof(struct ike_aead) % 64 == 0, "sodium_malloc aligns only multiples of 64");

size_t
ike_aead_keymat_len(uint16_t encr, uint16_t key_bits)
{
	switch (encr) {
	case IKE_ENCR_AES_GCM_16:
		if (key_bits == 128)
			return AES128_KEY_LEN + IKE_AEAD_SALT_LEN;
		if (key_bits == 256)
			return AES256_KEY_LEN + IKE_AEAD_SALT_LEN;
		return 0;
	case IKE_ENCR_CHACHA20_POLY1305:
		/* no Key Length attribute (RFC 7634 2); 256 accepted for symmetry */
		return key_bits == 0 || key_bits == 256 ? CHACHA20_KEY_LEN + IKE_AEAD_SALT_LEN : 0;
	default:
		return 0;
	}
}

int
aead_init(struct ike_aead *a, struct ike_crypto *c, uint16_t encr, uint16_t key_bits,
	  const uint8_t *keymat, size_t keymat_len)
{
	size_t need = ike_aead_keymat_len(encr, key_bits), key_len;

	if (need == 0)
		return -ENOTSUP;
	if (keymat == NULL || keymat_len != need)
		return -EINVAL;
	key_len = need - IKE_AEAD_SALT_LEN;
	a->c = c;
	a->encr = encr;
	a->key_bits = (uint16_t)(key_len * 8);
	memcpy(a->salt, keymat + key_len, IKE_AEAD_SALT_LEN);
	if (encr == IKE_ENCR_CHACHA20_POLY1305)
		memcpy(a->chacha, keymat, CHACHA20_KEY_LEN);
	else if (key_len == AES128_KEY_LEN)
		IMB_AES128_GCM_PRE(c->mgr, keymat, &a->gcm);
	else
		IMB_AES256_GCM_PRE(c->mgr, keymat, &a->gcm);
	return 0;
}

int
ike_aead_create(struct ike_crypto *c, uint16_t encr, uint16_t key_bits, const uint8_t *keymat,
		size_t keymat_len, struct ike_aead **out)
{
	struct ike_aead *a;
	int rc;

	*out = NULL;
	if (ike_aead_keymat_len(encr, key_bits) == 0)
		return -ENOTSUP;
	a = guarded_zalloc(sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	rc = aead_init(a, c, encr, key_bits, keymat, keymat_len);
	if (rc < 0) {
		sodium_free(a);
		return rc;
	}
	sodium_mprotect_readonly(a);
	*out = a;
	return 0;
}

void
ike_aead_free(struct ike_aead *a)
{
	sodium_free(a); /* wipes, NULL is fine */
}

static void
make_nonce(const struct ike_aead *a, const uint8_t iv[IKE_AEAD_IV_LEN], uint8_t nonce[NONCE_LEN])
{
	memcpy(nonce, a->salt, IKE_AEAD_SALT_LEN);
	memcpy(nonce + IKE_AEAD_SALT_LEN, iv, IKE_AEAD_IV_LEN);
}

int
ike_aead_seal(const struct ike_aead *a, const uint8_t iv[IKE_AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, uint8_t *data, size_t len, uint8_t icv[IKE_AEAD_ICV_LEN])
{
	struct gcm_context_data *ctx = &a->c->work->gcm_ctx;
	uint8_t nonce[NONCE_LEN];
	int rc = 0;

	make_nonce(a, iv, nonce);
	if (a->encr == IKE_ENCR_CHACHA20_POLY1305) {
		if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			    data, icv, NULL, data, len, aad, aad_len, NULL, nonce, a->chacha) != 0)
			rc = -EIO;
	} else {
		if (a->key_bits == 128)
			IMB_AES128_GCM_ENC(a->c->mgr, &a->gcm, ctx, data, data, len, nonce, aad,
					   aad_len, icv, IKE_AEAD_ICV_LEN);
		else
			IMB_AES256_GCM_ENC(a->c->mgr, &a->gcm, ctx, data, data, len, nonce, aad,
					   aad_len, icv, IKE_AEAD_ICV_LEN);
		sodium_memzero(ctx, sizeof(*ctx));
	}
	sodium_memzero(nonce, sizeof(nonce));
	return rc;
}

int
ike_aead_open(const struct ike_aead *a, const uint8_t iv[IKE_AEAD_IV_LEN], const uint8_t *aad,
	      size_t aad_len, uint8_t *data, size_t len, const uint8_t icv[IKE_AEAD_ICV_LEN])
{
	struct ike_work *w = a->c->work;
	uint8_t nonce[NONCE_LEN];
	int rc = 0;

	make_nonce(a, iv, nonce);
	if (a->encr == IKE_ENCR_CHACHA20_POLY1305) {
		/* libsodium checks the tag before it decrypts */
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			    data, NULL, data, len, icv, aad, aad_len, nonce, a->chacha) != 0)
			rc = -EBADMSG;
	} else {
		if (a->key_bits == 128)
			IMB_AES128_GCM_DEC(a->c->mgr, &a->gcm, &w->gcm_ctx, data, data, len, nonce,
					   aad, aad_len, w->tag, IKE_AEAD_ICV_LEN);
		else
			IMB_AES256_GCM_DEC(a->c->mgr, &a->gcm, &w->gcm_ctx, data, data, len, nonce,
					   aad, aad_len, w->tag, IKE_AEAD_ICV_LEN);
		if (crypto_verify_16(w->tag, icv) != 0)
			rc = -EBADMSG;
		sodium_memzero(&w->gcm_ctx, sizeof(w->gcm_ctx));
		sodium_memzero(w->tag, IKE_AEAD_ICV_LEN);
	}
	if (rc != 0)
		sodium_memzero(data, len);
	sodium_memzero(nonce, sizeof(nonce));
	return rc;
}
