/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dataplane/esp: backend selection and small helpers shared by the stage files. */
#ifndef DVIPSEC_ESP_PRIV_H
#define DVIPSEC_ESP_PRIV_H

#include <string.h>

#include <rte_byteorder.h>

#include "dp_bytes.h"
#include "esp.h"

#define IPPROTO_ESP_NUM	 50
#define IPPROTO_UDP_NUM	 17
#define IPPROTO_IPIP_NUM 4
#define IPPROTO_IPV6_NUM 41
#define IPPROTO_NONE_NUM 59

/* Choose seal/open/peek for the SA's AEAD and build its key schedule into guarded memory.
 * Returns 0 or -errno. */
int esp_crypto_sa_init(struct esp_lcore *lc, struct esp_sa *sa, const uint8_t *key, size_t key_len);
size_t esp_crypto_sched_size(enum esp_aead aead);

/* Peek backends (esp_peek.c): the keystream of the first payload bytes XORed into out. */
void esp_peek_gcm_aesni(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv,
			uint32_t off, const uint8_t *in, uint8_t *out, uint32_t len);
void esp_peek_gcm_job(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv,
		      uint32_t off, const uint8_t *in, uint8_t *out, uint32_t len);
void esp_peek_chacha(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv, uint32_t off,
		     const uint8_t *in, uint8_t *out, uint32_t len);

/* Decapsulation after a good ICV and trailer (esp_inbound.c), one of them set per SA as rt.decap.
 */
enum esp_drop esp_decap_tunnel(struct rte_mbuf *m, const struct esp_sa *sa,
			       const struct esp_pkt_info *pi, uint8_t *payload,
			       uint32_t payload_len, uint8_t next_hdr, bool check_ts);
enum esp_drop esp_decap_transport(struct rte_mbuf *m, const struct esp_sa *sa,
				  const struct esp_pkt_info *pi, uint8_t *payload,
				  uint32_t payload_len, uint8_t next_hdr, bool check_ts);

static inline void
esp_count_drop(struct esp_lcore *lc, enum esp_drop why)
{
	lc->stats.drops[why]++;
}

/* nonce = salt || IV (RFC 4106 4, RFC 7634 2); aad = SPI || [seq high] || seq low (RFC 4106 5). */
static inline void
esp_build_nonce_aad(const struct esp_sa *sa, const uint8_t *esp, uint64_t seq,
		    struct esp_aead_op *op)
{
	memcpy(op->nonce, sa->rt.salt, ESP_SALT_LEN);
	memcpy(op->nonce + ESP_SALT_LEN, esp + ESP_IV_OFF, ESP_IV_LEN);
	memcpy(op->aad, esp, 4);
	if (sa->rt.flags & ESP_SA_F_ESN) {
		store_be32(op->aad + 4, (uint32_t)(seq >> 32));
		memcpy(op->aad + 8, esp + 4, 4);
		op->aad_len = 12;
	} else {
		memcpy(op->aad + 4, esp + 4, 4);
		op->aad_len = 8;
	}
}

/* Moves the failed packets behind the passed ones, both groups in their original order.
 * drop[i] != 0 marks a failure. Returns the number passed. */
uint16_t esp_compact(struct rte_mbuf **pkts, void **aux, const uint8_t *drop, uint16_t n);
/* The same reordering for a parallel array of numbers. */
void esp_compact_u64(uint64_t *v, const uint8_t *drop, uint16_t n);
/* After a chunk starting at `done` compacted `passed` packets, joins them to the `ok` passed before
 * it. */
void esp_merge_chunk(struct rte_mbuf **pkts, void **aux, uint16_t ok, uint16_t done,
		     uint16_t passed);

#endif /* DVIPSEC_ESP_PRIV_H */
