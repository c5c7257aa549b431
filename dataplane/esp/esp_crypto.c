/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AEAD backends on Intel IPsec-MB, chosen once per SA:
 *   AES-GCM: IPsec-MB's direct GCM functions on a per-SA precomputed gcm_key_data (no job API: it
 * costs ~45 cycles more per packet here), completing at once; ChaCha20-Poly1305: the job API, so
 * multi-buffer implementations can batch; jobs stay pending until esp_crypto_flush(). Tags are
 * compared in constant time (libsodium crypto_verify_16: SSE2, ~4x cheaper than sodium_memcmp). Key
 * schedules live in sodium_malloc'd memory that is read-only after set-up and wiped when freed.
 */
#include <errno.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "esp_priv.h"

/* -- lcore ------------------------------------------------------------------------------------- */

int
esp_lcore_init(struct esp_lcore *lc)
{
	IMB_ARCH arch;

	memset(lc, 0, sizeof(*lc));
	lc->mgr = alloc_mb_mgr(0);
	if (lc->mgr == NULL)
		return -ENOMEM;
	init_mb_mgr_auto(lc->mgr, &arch);
	if (imb_get_errno(lc->mgr) != 0) {
		free_mb_mgr(lc->mgr);
		lc->mgr = NULL;
		return -ENOTSUP;
	}
	return 0;
}

void
esp_lcore_fini(struct esp_lcore *lc)
{
	if (lc->mgr == NULL)
		return;
	esp_crypto_flush(lc);
	free_mb_mgr(lc->mgr);
	lc->mgr = NULL;
}

const char *
esp_crypto_arch_name(const struct esp_lcore *lc)
{
	switch (lc->mgr->used_arch) {
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "unknown";
	}
}

/* -- AES-GCM: direct API ----------------------------------------------------------------------- */

static void
gcm128_open(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	struct gcm_context_data ctx;

	IMB_AES128_GCM_DEC(lc->mgr, sa->rt.key, &ctx, op->data, op->data, op->len, op->nonce,
			   op->aad, op->aad_len, op->tag, ESP_ICV_LEN);
	op->status =
		crypto_verify_16(op->tag, op->icv) == 0 ? ESP_DROP_NONE : ESP_DROP_ICV_MISMATCH;
}

static void
gcm128_seal(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	struct gcm_context_data ctx;

	IMB_AES128_GCM_ENC(lc->mgr, sa->rt.key, &ctx, op->data, op->data, op->len, op->nonce,
			   op->aad, op->aad_len, op->icv, ESP_ICV_LEN);
	op->status = ESP_DROP_NONE;
}

static void
gcm256_open(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	struct gcm_context_data ctx;

	IMB_AES256_GCM_DEC(lc->mgr, sa->rt.key, &ctx, op->data, op->data, op->len, op->nonce,
			   op->aad, op->aad_len, op->tag, ESP_ICV_LEN);
	op->status =
		crypto_verify_16(op->tag, op->icv) == 0 ? ESP_DROP_NONE : ESP_DROP_ICV_MISMATCH;
}

static void
gcm256_seal(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	struct gcm_context_data ctx;

	IMB_AES256_GCM_ENC(lc->mgr, sa->rt.key, &ctx, op->data, op->data, op->len, op->nonce,
			   op->aad, op->aad_len, op->icv, ESP_ICV_LEN);
	op->status = ESP_DROP_NONE;
}

/* -- ChaCha20-Poly1305: job API ---------------------------------------------------------------- */

static void
complete_job(struct esp_lcore *lc, IMB_JOB *job)
{
	struct esp_aead_op *op = job->user_data;

	lc->jobs_pending--;
	if (job->status != IMB_STATUS_COMPLETED)
		op->status = ESP_DROP_CRYPTO_ERROR;
	else if (job->cipher_direction == IMB_DIR_DECRYPT)
		op->status = crypto_verify_16(op->tag, op->icv) == 0 ? ESP_DROP_NONE
								     : ESP_DROP_ICV_MISMATCH;
	else
		op->status = ESP_DROP_NONE;
}

static void
chacha_submit(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op, bool encrypt)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(lc->mgr);

	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = sa->rt.key;
	job->dec_keys = sa->rt.key;
	job->key_len_in_bytes = 32;
	job->src = op->data;
	job->dst = op->data;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = op->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len;
	job->iv = op->nonce;
	job->iv_len_in_bytes = sizeof(op->nonce);
	job->u.CHACHA20_POLY1305.aad = op->aad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = op->aad_len;
	job->auth_tag_output = encrypt ? op->icv : op->tag;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
	job->user_data = op;
	op->status = ESP_DROP_CRYPTO_ERROR; /* until the job completes */
	lc->jobs_pending++;

	job = IMB_SUBMIT_JOB(lc->mgr);
	while (job != NULL) {
		complete_job(lc, job);
		job = IMB_GET_COMPLETED_JOB(lc->mgr);
	}
}

static void
chacha_open(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	chacha_submit(lc, sa, op, false);
}

static void
chacha_seal(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op)
{
	chacha_submit(lc, sa, op, true);
}

void
esp_crypto_flush(struct esp_lcore *lc)
{
	IMB_JOB *job;

	while (lc->jobs_pending > 0 && (job = IMB_FLUSH_JOB(lc->mgr)) != NULL)
		complete_job(lc, job);
}

/* -- per-SA set-up ----------------------------------------------------------------------------- */

size_t
esp_crypto_sched_size(enum esp_aead aead)
{
	size_t sz = aead == ESP_AEAD_CHACHA20_POLY1305 ? 32 : sizeof(struct gcm_key_data);

	/* sodium_malloc places the block against a guard page: a multiple of the cache line keeps
	 * the schedule aligned */
	return RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE);
}

int
esp_crypto_sa_init(struct esp_lcore *lc, struct esp_sa *sa, const uint8_t *key, size_t key_len)
{
	enum esp_aead aead = sa->rt.aead;
	void *sched = sodium_malloc(esp_crypto_sched_size(aead));

	if (sched == NULL)
		return -ENOMEM;
	switch (aead) {
	case ESP_AEAD_AES128_GCM16:
		if (key_len != 16)
			goto bad_key;
		IMB_AES128_GCM_PRE(lc->mgr, key, sched);
		sa->rt.open = gcm128_open;
		sa->rt.seal = gcm128_seal;
		break;
	case ESP_AEAD_AES256_GCM16:
		if (key_len != 32)
			goto bad_key;
		IMB_AES256_GCM_PRE(lc->mgr, key, sched);
		sa->rt.open = gcm256_open;
		sa->rt.seal = gcm256_seal;
		break;
	case ESP_AEAD_CHACHA20_POLY1305:
		if (key_len != 32)
			goto bad_key;
		memcpy(sched, key, 32);
		sa->rt.open = chacha_open;
		sa->rt.seal = chacha_seal;
		break;
	default:
		goto bad_key;
	}
	if (aead == ESP_AEAD_CHACHA20_POLY1305)
		sa->rt.peek = esp_peek_chacha;
	else
		sa->rt.peek = __builtin_cpu_supports("aes") ? esp_peek_gcm_aesni : esp_peek_gcm_job;
	sodium_mprotect_readonly(sched);
	sa->guarded = sched;
	sa->rt.key = sched;
	return 0;

bad_key:
	sodium_free(sched);
	return -EINVAL;
}
