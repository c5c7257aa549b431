/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the IKE crypto suite: the context with its guarded work area, the keyed PRF state, and
 * the AEAD object. Not for other modules.
 */
#ifndef DVIPSEC_IKE_CRYPTO_PRIV_H
#define DVIPSEC_IKE_CRYPTO_PRIV_H

#include <assert.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "ike_crypto.h"

#define IKE_PRF_MAX_PARTS 8
#define IKE_SHA384_BLOCK  128
#define IKE_SHA512_STATE  64 /* SHA-384 ipad/opad states are SHA-512 states (8 x 64 bits) */

/* A PRF with its key absorbed: libsodium's HMAC states, or for HMAC-SHA-384 the hashed
 * key^ipad / key^opad blocks IPsec-MB's HMAC job starts from. */
struct prf_state {
	uint16_t prf;
	union {
		crypto_auth_hmacsha256_state h256;
		crypto_auth_hmacsha512_state h512;
		struct {
			uint8_t ipad[IKE_SHA512_STATE];
			uint8_t opad[IKE_SHA512_STATE];
		} h384;
	} u;
};

/* Scratch for secrets in flight; one per context, in guarded memory, wiped after each use. */
struct ike_work {
	_Alignas(64) struct gcm_context_data gcm_ctx;
	struct prf_state keyed; /* the key of the PRF being evaluated */
	struct prf_state run;	/* a copy that absorbs one input */
	uint8_t block[IKE_SHA384_BLOCK];
	uint8_t khash[IKE_PRF_MAX];
	uint8_t tag[IKE_PRF_MAX];
	uint8_t t[IKE_PRF_MAX]; /* prf+ T(i) */
	uint8_t skeyseed[IKE_PRF_MAX];
	uint8_t psk_key[IKE_PRF_MAX]; /* prf(psk, "Key Pad for IKEv2") */
	uint8_t maced_id[IKE_PRF_MAX];
	uint8_t keymat[2 * IKE_AEAD_KEYMAT_MAX + 3 * IKE_PRF_MAX];
	uint8_t nonces[2 * IKE_CRYPTO_NONCE_MAX]; /* Ni | Nr: the key of SKEYSEED */
};

struct ike_crypto {
	IMB_MGR *mgr;	       /* in mgr_mem */
	void *mgr_mem;	       /* sodium_malloc'd: lanes keep HMAC states between jobs */
	struct ike_work *work; /* sodium_malloc'd */
	uint8_t *gather;       /* sodium_malloc'd: one-piece inputs (HMAC-SHA-384, Ed25519) */
	size_t gather_cap;
};

/* AES-GCM key schedules must sit on 64-byte boundaries: the object is allocated with a size
 * that is a multiple of 64, which sodium_malloc then aligns. */
struct ike_aead {
	_Alignas(64) struct gcm_key_data gcm; /* AES-GCM only */
	uint8_t chacha[32];		      /* ChaCha20-Poly1305 only */
	uint8_t salt[IKE_AEAD_SALT_LEN];
	uint16_t encr;
	uint16_t key_bits;
	struct ike_crypto *c;
};

/* ike_aead.c: sets up an AEAD in place (inside a guarded object). */
int aead_init(struct ike_aead *a, struct ike_crypto *c, uint16_t encr, uint16_t key_bits,
	      const uint8_t *keymat, size_t keymat_len);

/* ike_prf.c */
int prf_key(struct ike_crypto *c, struct prf_state *st, uint16_t prf, const uint8_t *key,
	    size_t key_len);
int prf_eval(struct ike_crypto *c, const struct prf_state *keyed, const struct ike_chunk *parts,
	     unsigned n, uint8_t *out);
int prf_plus_keyed(struct ike_crypto *c, const struct prf_state *keyed,
		   const struct ike_chunk *seed, unsigned n, uint8_t *out, size_t out_len);

/* ike_auth.c: prf(sk_p, id) into c->work->maced_id, then SignedOctets into c->gather. */
int signed_octets_gather(struct ike_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sk_p_len,
			 const struct ike_auth_octets *o, size_t *len);

/* ike_crypto.c: copies the parts into c->gather (grown as needed); their total length in *len.
 * The caller wipes c->gather[0, *len) when done. */
int gather_parts(struct ike_crypto *c, const struct ike_chunk *parts, unsigned n, size_t *len);

static inline size_t
round_up64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* sodium_malloc places a block against its guard page, so the block is only as aligned as its
 * size: round every size up to a cache line. Zeroed. */
static inline void *
guarded_zalloc(size_t size)
{
	void *p = sodium_malloc(round_up64(size));

	if (p != NULL)
		sodium_memzero(p, round_up64(size));
	return p;
}

#endif /* DVIPSEC_IKE_CRYPTO_PRIV_H */
