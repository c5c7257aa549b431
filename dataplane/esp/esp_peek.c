/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peek: decrypt only the first bytes of an ESP payload, for the router's flow lookup. No ICV check
 * and no change to the packet: the bytes are a hint, and the target verifies everything later.
 *   AES-GCM (RFC 4106): the payload is AES-CTR under counter blocks salt || IV || 2, 3, ... (block
 * 1 is for the tag). Default backend: AES-NI rounds on IPsec-MB's own expanded key schedule, ~15
 * cycles for 3 blocks; fallback without AES-NI: IPsec-MB's CTR job on the same schedule.
 *   ChaCha20-Poly1305 (RFC 7634): ChaCha20 with block counter 1 (block 0 makes the Poly1305 key),
 *   from libsodium.
 * Any window of the payload can be peeked (esp_peek_at): the router also reads the trailer's next
 * header in transport mode, where nothing before the payload names the upper protocol.
 * Next: the router parses the inner headers out of these bytes (transport: TCP first; tunnel: IP
 * first).
 */
#include <errno.h>
#include <immintrin.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "esp_priv.h"

#define AES_BLOCK 16

static inline void
counter_block(uint8_t cb[AES_BLOCK], const uint8_t *salt, const uint8_t *iv, uint32_t ctr)
{
	memcpy(cb, salt, ESP_SALT_LEN);
	memcpy(cb + ESP_SALT_LEN, iv, ESP_IV_LEN);
	store_be32(cb + 12, ctr);
}

/*
 * Four counter blocks always (64 bytes of keystream from the block holding byte off): the AES units
 * pipeline independent blocks, so the fourth costs little, and fixed counts keep every block in a
 * register. Counter blocks are assembled in registers: writing bytes and reloading them as one
 * vector would stall store forwarding. off % 16 + len <= 64.
 */
__attribute__((target("aes,sse4.1"))) void
esp_peek_gcm_aesni(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv, uint32_t off,
		   const uint8_t *in, uint8_t *out, uint32_t len)
{
	const __m128i *rk =
		(const __m128i *)((const struct gcm_key_data *)sa->rt.key)->expanded_keys;
	const int rounds = sa->rt.aead == ESP_AEAD_AES128_GCM16 ? 10 : 14;
	uint32_t salt, iv_hi, iv_lo;

	RTE_SET_USED(lc);
	memcpy(&salt, sa->rt.salt, 4);
	memcpy(&iv_hi, iv, 4);
	memcpy(&iv_lo, iv + 4, 4);

	const __m128i base = _mm_setr_epi32((int)salt, (int)iv_hi, (int)iv_lo, 0);
	const uint32_t c0 = 2 + off / AES_BLOCK;
	__m128i k = _mm_load_si128(&rk[0]);
	__m128i x0 = _mm_xor_si128(_mm_insert_epi32(base, (int)rte_cpu_to_be_32(c0), 3), k);
	__m128i x1 = _mm_xor_si128(_mm_insert_epi32(base, (int)rte_cpu_to_be_32(c0 + 1), 3), k);
	__m128i x2 = _mm_xor_si128(_mm_insert_epi32(base, (int)rte_cpu_to_be_32(c0 + 2), 3), k);
	__m128i x3 = _mm_xor_si128(_mm_insert_epi32(base, (int)rte_cpu_to_be_32(c0 + 3), 3), k);

	for (int r = 1; r < rounds; r++) {
		k = _mm_load_si128(&rk[r]);
		x0 = _mm_aesenc_si128(x0, k);
		x1 = _mm_aesenc_si128(x1, k);
		x2 = _mm_aesenc_si128(x2, k);
		x3 = _mm_aesenc_si128(x3, k);
	}
	k = _mm_load_si128(&rk[rounds]);

	__m128i ks[4] = { _mm_aesenclast_si128(x0, k), _mm_aesenclast_si128(x1, k),
			  _mm_aesenclast_si128(x2, k), _mm_aesenclast_si128(x3, k) };
	uint32_t skip = off % AES_BLOCK;

	if (skip != 0) { /* a window inside the payload (the trailer): bytes, off the hot path */
		uint8_t k8[4 * AES_BLOCK];

		memcpy(k8, ks, sizeof(k8));
		for (uint32_t i = 0; i < len; i++)
			out[i] = in[i] ^ k8[skip + i];
		return;
	}

	uint32_t full = len / AES_BLOCK;

	for (uint32_t b = 0; b < full; b++) {
		__m128i p = _mm_loadu_si128((const __m128i *)(in + b * AES_BLOCK));

		_mm_storeu_si128((__m128i *)(out + b * AES_BLOCK), _mm_xor_si128(p, ks[b]));
	}
	if (len % AES_BLOCK != 0) {
		uint8_t k8[AES_BLOCK];

		_mm_storeu_si128((__m128i *)k8, ks[full]);
		for (uint32_t i = full * AES_BLOCK; i < len; i++)
			out[i] = in[i] ^ k8[i - full * AES_BLOCK];
	}
}

void
esp_peek_gcm_job(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv, uint32_t off,
		 const uint8_t *in, uint8_t *out, uint32_t len)
{
	const struct gcm_key_data *gk = sa->rt.key;
	uint32_t skip = off % AES_BLOCK;
	uint8_t cb[AES_BLOCK];
	uint8_t tmp[ESP_PEEK_MAX + AES_BLOCK];
	IMB_JOB *job;

	esp_crypto_flush(lc); /* the job below must not complete someone else's */
	counter_block(cb, sa->rt.salt, iv, 2 + off / AES_BLOCK);
	job = IMB_GET_NEXT_JOB(lc->mgr);
	job->cipher_mode = IMB_CIPHER_CNTR;
	job->hash_alg = IMB_AUTH_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->enc_keys = gk->expanded_keys;
	job->dec_keys = gk->expanded_keys;
	job->key_len_in_bytes = sa->rt.aead == ESP_AEAD_AES128_GCM16 ? 16 : 32;
	job->src = in - skip; /* CTR starts at a block boundary; the payload is there */
	job->dst = tmp;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = skip + len;
	job->iv = cb;
	job->iv_len_in_bytes = AES_BLOCK;
	job->user_data = NULL;
	job = IMB_SUBMIT_JOB(lc->mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(lc->mgr);
	if (job == NULL || job->status != IMB_STATUS_COMPLETED)
		memset(out, 0, len); /* a hint that matches no flow */
	else
		memcpy(out, tmp + skip, len);
}

#define CHACHA_BLOCK 64

void
esp_peek_chacha(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv, uint32_t off,
		const uint8_t *in, uint8_t *out, uint32_t len)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	uint32_t skip = off % CHACHA_BLOCK;
	uint32_t ic = 1 + off / CHACHA_BLOCK;

	RTE_SET_USED(lc);
	memcpy(nonce, sa->rt.salt, ESP_SALT_LEN);
	memcpy(nonce + ESP_SALT_LEN, iv, ESP_IV_LEN);
	if (skip == 0) {
		crypto_stream_chacha20_ietf_xor_ic(out, in, len, nonce, ic, sa->rt.key);
		return;
	}

	uint8_t tmp[2 * CHACHA_BLOCK];

	crypto_stream_chacha20_ietf_xor_ic(tmp, in - skip, skip + len, nonce, ic, sa->rt.key);
	memcpy(out, tmp + skip, len);
}

int
esp_peek_next_header(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *esp,
		     uint32_t esp_len)
{
	uint8_t trailer[2]; /* pad length, next header */

	if (esp_len < ESP_PAYLOAD_OFF + ESP_MIN_CIPHERTEXT + ESP_ICV_LEN)
		return -EINVAL;
	uint32_t ct_len = esp_len - ESP_PAYLOAD_OFF - ESP_ICV_LEN;

	if (esp_peek_at(lc, sa, esp, esp_len, ct_len - 2, trailer, 2) != 2)
		return -EINVAL;
	return trailer[1];
}
