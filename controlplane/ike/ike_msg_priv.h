/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the IKE message codec: big-endian reads (callers check the length first) and the
 * per-payload body decoders of ike_payload.c, called by the chain walk in ike_msg.c.
 */
#ifndef DVIPSEC_IKE_MSG_PRIV_H
#define DVIPSEC_IKE_MSG_PRIV_H

#include "ike_msg.h"

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* Each decodes one payload body (after the generic header) of len bytes. */
enum ike_err ike_dec_sa(const uint8_t *b, size_t len, struct ike_sa *sa);
enum ike_err ike_dec_ke(const uint8_t *b, size_t len, struct ike_ke *ke);
enum ike_err ike_dec_id(const uint8_t *b, size_t len, struct ike_id *id);
enum ike_err ike_dec_cert(const uint8_t *b, size_t len, struct ike_cert *c);
enum ike_err ike_dec_auth(const uint8_t *b, size_t len, struct ike_auth *a);
enum ike_err ike_dec_nonce(const uint8_t *b, size_t len, struct ike_nonce *n);
enum ike_err ike_dec_notify(const uint8_t *b, size_t len, struct ike_notify *n);
enum ike_err ike_dec_delete(const uint8_t *b, size_t len, struct ike_delete *d);
enum ike_err ike_dec_ts(const uint8_t *b, size_t len, struct ike_ts *ts);
enum ike_err ike_dec_cp(const uint8_t *b, size_t len, struct ike_cp *cp);

/* Shared by decoders and the writer, so that what one accepts the other does. */
bool ike_id_len_ok(uint8_t type, size_t len);
bool ike_delete_ok(uint8_t proto, uint8_t spi_size, size_t n_spi);
size_t ike_selector_len(uint8_t type, size_t raw_len);

#endif /* DVIPSEC_IKE_MSG_PRIV_H */
