/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 PRFs (RFC 4868: HMAC-SHA-256, -384, -512 with variable-length keys) and prf+ (RFC 7296
 * 2.13). HMAC-SHA-256/512 are libsodium's, which stream their input piece by piece. libsodium has
 * no SHA-384, so HMAC-SHA-384 is IPsec-MB's HMAC job: IPsec-MB 1.3 has no key set-up helper
 * (imb_hmac_ipad_opad came later), so the key is prepared as its own tests do and RFC 2104 says:
 * a key longer than the 128-byte block is first hashed with IMB_SHA384, the key^ipad and key^opad
 * blocks are run through IMB_SHA384_ONE_BLOCK, and the job starts from those two states (64
 * bytes each: the SHA-512 state SHA-384 shares). The job wants its input in one piece of 1..65534
 * bytes, so the pieces are gathered into guarded memory first.
 */
#include <errno.h>
#include <string.h>

#include "ike_crypto_priv.h"

#define IPAD 0x36
#define OPAD 0x5c

size_t
ike_prf_len(uint16_t prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256:
		return 32;
	case IKE_PRF_HMAC_SHA2_384:
		return 48;
	case IKE_PRF_HMAC_SHA2_512:
		return 64;
	default:
		return 0;
	}
}

static void
hash_pad_block(struct ike_crypto *c, const uint8_t *key, size_t key_len, uint8_t pad,
	       uint8_t state[IKE_SHA512_STATE])
{
	uint8_t *block = c->work->block;

	memset(block, pad, IKE_SHA384_BLOCK);
	for (size_t i = 0; i < key_len; i++)
		block[i] ^= key[i];
	IMB_SHA384_ONE_BLOCK(c->mgr, block, state);
}

static void
key_sha384(struct ike_crypto *c, struct prf_state *st, const uint8_t *key, size_t key_len)
{
	struct ike_work *w = c->work;

	if (key_len > IKE_SHA384_BLOCK) {
		IMB_SHA384(c->mgr, key, key_len, w->khash);
		key = w->khash;
		key_len = IMB_SHA384_DIGEST_SIZE_IN_BYTES;
	}
	hash_pad_block(c, key, key_len, IPAD, st->u.h384.ipad);
	hash_pad_block(c, key, key_len, OPAD, st->u.h384.opad);
	sodium_memzero(w->block, sizeof(w->block));
	sodium_memzero(w->khash, sizeof(w->khash));
}

int
prf_key(struct ike_crypto *c, struct prf_state *st, uint16_t prf, const uint8_t *key,
	size_t key_len)
{
	st->prf = prf;
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256:
		crypto_auth_hmacsha256_init(&st->u.h256, key, key_len);
		return 0;
	case IKE_PRF_HMAC_SHA2_384:
		key_sha384(c, st, key, key_len);
		return 0;
	case IKE_PRF_HMAC_SHA2_512:
		crypto_auth_hmacsha512_init(&st->u.h512, key, key_len);
		return 0;
	default:
		return -ENOTSUP;
	}
}

static int
eval_sha384(struct ike_crypto *c, const struct prf_state *keyed, const struct ike_chunk *parts,
	    unsigned n, uint8_t *out)
{
	struct ike_work *w = c->work;
	size_t len;
	IMB_JOB *job;
	int rc;

	rc = gather_parts(c, parts, n, &len);
	if (rc < 0)
		return rc;
	if (len == 0 || len > IKE_PRF_INPUT_MAX) {
		rc = -EINVAL;
		goto wipe;
	}
	job = IMB_GET_NEXT_JOB(c->mgr);
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->hash_alg = IMB_AUTH_HMAC_SHA_384;
	job->enc_keys = NULL;
	job->dec_keys = NULL;
	job->key_len_in_bytes = 0;
	job->iv = NULL;
	job->iv_len_in_bytes = 0;
	job->src = c->gather;
	job->dst = NULL;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = 0;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->u.HMAC._hashed_auth_key_xor_ipad = keyed->u.h384.ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = keyed->u.h384.opad;
	job->auth_tag_output = w->tag;
	job->auth_tag_output_len_in_bytes = IMB_SHA384_DIGEST_SIZE_IN_BYTES;
	job->user_data = NULL;

	/* ours is the only job this manager ever holds: submit, then flush it out of its lane */
	job = IMB_SUBMIT_JOB(c->mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(c->mgr);
	if (job == NULL || job->status != IMB_STATUS_COMPLETED) {
		rc = -EIO;
	} else {
		memcpy(out, w->tag, IMB_SHA384_DIGEST_SIZE_IN_BYTES);
		rc = 0;
	}
	sodium_memzero(w->tag, sizeof(w->tag));
wipe:
	sodium_memzero(c->gather, len);
	return rc;
}

int
prf_eval(struct ike_crypto *c, const struct prf_state *keyed, const struct ike_chunk *parts,
	 unsigned n, uint8_t *out)
{
	struct prf_state *run = &c->work->run;

	switch (keyed->prf) {
	case IKE_PRF_HMAC_SHA2_256:
		memcpy(&run->u.h256, &keyed->u.h256, sizeof(run->u.h256));
		for (unsigned i = 0; i < n; i++)
			if (parts[i].len > 0)
				crypto_auth_hmacsha256_update(&run->u.h256, parts[i].ptr,
							      parts[i].len);
		crypto_auth_hmacsha256_final(&run->u.h256, out);
		break;
	case IKE_PRF_HMAC_SHA2_384:
		return eval_sha384(c, keyed, parts, n, out);
	case IKE_PRF_HMAC_SHA2_512:
		memcpy(&run->u.h512, &keyed->u.h512, sizeof(run->u.h512));
		for (unsigned i = 0; i < n; i++)
			if (parts[i].len > 0)
				crypto_auth_hmacsha512_update(&run->u.h512, parts[i].ptr,
							      parts[i].len);
		crypto_auth_hmacsha512_final(&run->u.h512, out);
		break;
	default:
		return -ENOTSUP;
	}
	sodium_memzero(run, sizeof(*run));
	return 0;
}

int
prf_plus_keyed(struct ike_crypto *c, const struct prf_state *keyed, const struct ike_chunk *seed,
	       unsigned n, uint8_t *out, size_t out_len)
{
	struct ike_chunk parts[IKE_PRF_MAX_PARTS];
	size_t hlen = ike_prf_len(keyed->prf), done = 0;
	uint8_t *t = c->work->t;
	uint8_t counter;
	int rc = 0;

	if (hlen == 0)
		return -ENOTSUP;
	if (n > IKE_PRF_MAX_PARTS - 2 || out_len > 255 * hlen)
		return -EINVAL;
	for (unsigned i = 1; done < out_len; i++) {
		unsigned k = 0;
		size_t take;

		if (i > 1)
			parts[k++] = (struct ike_chunk){ t, hlen };
		for (unsigned j = 0; j < n; j++)
			parts[k++] = seed[j];
		counter = (uint8_t)i;
		parts[k++] = (struct ike_chunk){ &counter, 1 };
		rc = prf_eval(c, keyed, parts, k, t);
		if (rc < 0)
			break;
		take = out_len - done < hlen ? out_len - done : hlen;
		memcpy(out + done, t, take);
		done += take;
	}
	sodium_memzero(t, IKE_PRF_MAX);
	return rc;
}

int
ike_prf(struct ike_crypto *c, uint16_t prf, const uint8_t *key, size_t key_len,
	const struct ike_chunk *parts, unsigned n, uint8_t *out)
{
	struct prf_state *keyed = &c->work->keyed;
	int rc;

	if (n > IKE_PRF_MAX_PARTS)
		return -EINVAL;
	rc = prf_key(c, keyed, prf, key, key_len);
	if (rc == 0)
		rc = prf_eval(c, keyed, parts, n, out);
	sodium_memzero(keyed, sizeof(*keyed));
	return rc;
}

int
ike_prf_plus(struct ike_crypto *c, uint16_t prf, const uint8_t *key, size_t key_len,
	     const struct ike_chunk *seed, unsigned n, uint8_t *out, size_t out_len)
{
	struct prf_state *keyed = &c->work->keyed;
	int rc;

	rc = prf_key(c, keyed, prf, key, key_len);
	if (rc == 0)
		rc = prf_plus_keyed(c, keyed, seed, n, out, out_len);
	sodium_memzero(keyed, sizeof(*keyed));
	return rc;
}
