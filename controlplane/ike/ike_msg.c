/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving side of the IKE codec: port-4500 demultiplexing, the IKE header, the walk along a
 * payload chain (generic headers, critical bit, SK placement; bodies go to ike_payload.c) and the
 * SK payload's layout for the crypto layer. The engine gets a decoded ike_msg or one named error.
 */
#include <errno.h>
#include <string.h>

#include "ike_msg_priv.h"

static const char *const err_names[IKE_ERR_COUNT] = { [IKE_OK] = "ok",
#define IKE_ERR_NAME(sym, name, desc) [IKE_ERR_##sym] = name,
						      IKE_ERRORS(IKE_ERR_NAME)
#undef IKE_ERR_NAME
};

static const char *const err_descs[IKE_ERR_COUNT] = { [IKE_OK] = "no error",
#define IKE_ERR_DESC(sym, name, desc) [IKE_ERR_##sym] = desc,
						      IKE_ERRORS(IKE_ERR_DESC)
#undef IKE_ERR_DESC
};

const char *
ike_err_name(enum ike_err e)
{
	return (unsigned)e < IKE_ERR_COUNT ? err_names[e] : "unknown";
}

const char *
ike_err_desc(enum ike_err e)
{
	return (unsigned)e < IKE_ERR_COUNT ? err_descs[e] : "unknown error";
}

const char *
ike_payload_name(uint8_t type)
{
	switch (type) {
#define IKE_PT_CASE(num, sym, name) \
	case num:                   \
		return name;
		IKE_PAYLOAD_TYPES(IKE_PT_CASE)
#undef IKE_PT_CASE
	default:
		return NULL;
	}
}

const char *
ike_notify_name(uint16_t type)
{
	switch (type) {
#define IKE_N_CASE(num, sym) \
	case num:            \
		return #sym;
		IKE_NOTIFY_TYPES(IKE_N_CASE)
#undef IKE_N_CASE
	default:
		return NULL;
	}
}

const struct ike_notify *
ike_find_notify(const struct ike_payloads *p, uint16_t type)
{
	for (uint8_t i = 0; i < p->n_notify; i++)
		if (p->notify[i].type == type)
			return &p->notify[i];
	return NULL;
}

uint32_t
ike_delete_spi(const struct ike_delete *d, uint16_t i)
{
	return i < d->n_spi && d->spi_size == 4 ? rd32(d->spis + 4 * (size_t)i) : 0;
}

enum ike_udp_kind
ike_udp4500_classify(const uint8_t *p, size_t len, const uint8_t **ike, size_t *ike_len)
{
	*ike = NULL;
	*ike_len = 0;
	if (len == 1 && p[0] == 0xff)
		return IKE_UDP_KEEPALIVE;
	if (len < IKE_NON_ESP_MARKER_LEN)
		return IKE_UDP_RUNT;
	if (rd32(p) == 0) {
		*ike = p + IKE_NON_ESP_MARKER_LEN;
		*ike_len = len - IKE_NON_ESP_MARKER_LEN;
		return IKE_UDP_IKE;
	}
	return len >= 8 ? IKE_UDP_ESP : IKE_UDP_RUNT; /* SPI and sequence number at least */
}

int
ike_non_esp_add(uint8_t *buf, size_t cap, size_t len)
{
	if (cap < IKE_NON_ESP_MARKER_LEN || cap - IKE_NON_ESP_MARKER_LEN < len)
		return -ENOSPC;
	memmove(buf + IKE_NON_ESP_MARKER_LEN, buf, len);
	memset(buf, 0, IKE_NON_ESP_MARKER_LEN);
	return 0;
}

enum ike_err
ike_hdr_parse(const uint8_t *buf, size_t len, struct ike_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < IKE_HDR_LEN)
		return IKE_ERR_TRUNCATED;
	h->spi_i = rd64(buf);
	h->spi_r = rd64(buf + 8);
	h->next_payload = buf[16];
	h->major = buf[17] >> 4;
	h->minor = buf[17] & 0x0f;
	h->exchange = buf[18];
	h->flags = buf[19];
	h->msg_id = rd32(buf + 20);
	h->length = rd32(buf + 24);
	/* Version before length: a later major version may frame its messages differently, and the
	 * INVALID_MAJOR_VERSION answer needs only the SPIs and message ID. */
	if (h->major < 2)
		return IKE_ERR_OLD_VERSION;
	if (h->major > 2)
		return IKE_ERR_MAJOR_VERSION;
	if (h->length != len)
		return IKE_ERR_BAD_LENGTH;
	return IKE_OK;
}

/* Payloads that may appear once per chain. */
static bool
single_only(uint8_t type)
{
	switch (type) {
	case IKE_PT_SA:
	case IKE_PT_KE:
	case IKE_PT_IDI:
	case IKE_PT_IDR:
	case IKE_PT_AUTH:
	case IKE_PT_NONCE:
	case IKE_PT_TSI:
	case IKE_PT_TSR:
	case IKE_PT_CP:
		return true;
	default:
		return false;
	}
}

/* Decode one known payload's body into p (entry e is its chain entry). */
static enum ike_err
decode_body(struct ike_payloads *p, struct ike_payload *e)
{
	const uint8_t *b = e->body;
	size_t len = e->len;

	switch (e->type) {
	case IKE_PT_SA:
		return ike_dec_sa(b, len, &p->sa);
	case IKE_PT_KE:
		return ike_dec_ke(b, len, &p->ke);
	case IKE_PT_IDI:
		return ike_dec_id(b, len, &p->idi);
	case IKE_PT_IDR:
		return ike_dec_id(b, len, &p->idr);
	case IKE_PT_AUTH:
		return ike_dec_auth(b, len, &p->auth);
	case IKE_PT_NONCE:
		return ike_dec_nonce(b, len, &p->nonce);
	case IKE_PT_TSI:
		return ike_dec_ts(b, len, &p->tsi);
	case IKE_PT_TSR:
		return ike_dec_ts(b, len, &p->tsr);
	case IKE_PT_CP:
		return ike_dec_cp(b, len, &p->cp);
	case IKE_PT_CERT:
		if (p->n_cert == IKE_MAX_CERT)
			return IKE_ERR_TOO_MANY_PAYLOADS;
		e->index = p->n_cert;
		return ike_dec_cert(b, len, &p->cert[p->n_cert++]);
	case IKE_PT_CERTREQ:
		if (p->n_certreq == IKE_MAX_CERT)
			return IKE_ERR_TOO_MANY_PAYLOADS;
		e->index = p->n_certreq;
		return ike_dec_cert(b, len, &p->certreq[p->n_certreq++]);
	case IKE_PT_NOTIFY:
		if (p->n_notify == IKE_MAX_NOTIFY)
			return IKE_ERR_TOO_MANY_PAYLOADS;
		e->index = p->n_notify;
		return ike_dec_notify(b, len, &p->notify[p->n_notify++]);
	case IKE_PT_DELETE:
		if (p->n_del == IKE_MAX_DELETE)
			return IKE_ERR_TOO_MANY_PAYLOADS;
		e->index = p->n_del;
		return ike_dec_delete(b, len, &p->del[p->n_del++]);
	case IKE_PT_VENDOR:
		if (p->n_vendor == IKE_MAX_VENDOR)
			return IKE_ERR_TOO_MANY_PAYLOADS;
		e->index = p->n_vendor;
		p->vendor[p->n_vendor++] = (struct ike_vendor){ .data = b, .len = len };
		return IKE_OK;
	default:
		return IKE_OK; /* not reached: the caller handles SK and unknown types */
	}
}

enum ike_err
ike_payloads_parse(uint8_t first, const uint8_t *buf, size_t len, size_t base, bool encrypted,
		   struct ike_payloads *p)
{
	uint8_t type = first;
	size_t off = 0;
	enum ike_err err = IKE_OK;

	memset(p, 0, sizeof(*p));
	p->first = first;
	while (type != IKE_PT_NONE) {
		struct ike_payload *e;
		size_t plen;
		uint8_t next;

		if (len - off < IKE_PAYLOAD_HDR_LEN) {
			err = IKE_ERR_TRUNCATED;
			goto fail;
		}
		next = buf[off];
		plen = rd16(buf + off + 2);
		if (plen < IKE_PAYLOAD_HDR_LEN || plen > len - off) {
			err = IKE_ERR_PAYLOAD_LENGTH;
			goto fail;
		}
		if (p->n == IKE_MAX_PAYLOADS) {
			err = IKE_ERR_TOO_MANY_PAYLOADS;
			goto fail;
		}
		e = &p->pl[p->n++];
		e->type = type;
		e->critical = buf[off + 1] & 0x80;
		e->body = buf + off + IKE_PAYLOAD_HDR_LEN;
		e->len = plen - IKE_PAYLOAD_HDR_LEN;

		if (type == IKE_PT_SK) {
			/* The SK payload's next-payload field starts the encrypted chain. */
			if (encrypted) {
				err = IKE_ERR_SK_INSIDE;
				goto fail;
			}
			if (plen != len - off) {
				err = IKE_ERR_SK_NOT_LAST;
				goto fail;
			}
			p->seen |= 1u << (IKE_PT_SK - IKE_PT_SA);
			p->sk = (struct ike_sk){ .next_payload = next,
						 .hdr_off = base + off,
						 .body_len = e->len };
			return IKE_OK;
		}
		if (ike_payload_name(type) == NULL) {
			if (e->critical) {
				err = IKE_ERR_UNSUPPORTED_CRITICAL;
				goto fail;
			}
		} else {
			if (single_only(type) && ike_has(p, type)) {
				err = IKE_ERR_DUPLICATE;
				goto fail;
			}
			err = decode_body(p, e);
			if (err != IKE_OK)
				goto fail;
			p->seen |= 1u << (type - IKE_PT_SA);
		}
		off += plen;
		type = next;
	}
	if (off != len) {
		err = IKE_ERR_TRAILING;
		goto fail;
	}
	return IKE_OK;

fail:
	p->err_type = type;
	p->err_off = base + off;
	return err;
}

enum ike_err
ike_msg_parse(const uint8_t *buf, size_t len, struct ike_msg *m)
{
	enum ike_err err;

	m->raw = buf;
	m->len = len;
	err = ike_hdr_parse(buf, len, &m->hdr);
	if (err != IKE_OK) {
		memset(&m->pl, 0, sizeof(m->pl));
		return err;
	}
	return ike_payloads_parse(m->hdr.next_payload, buf + IKE_HDR_LEN, len - IKE_HDR_LEN,
				  IKE_HDR_LEN, false, &m->pl);
}

enum ike_err
ike_sk_locate(const struct ike_msg *m, size_t iv_len, size_t icv_len, struct ike_sk_layout *out)
{
	const struct ike_sk *sk = &m->pl.sk;

	memset(out, 0, sizeof(*out));
	if (!ike_has(&m->pl, IKE_PT_SK))
		return IKE_ERR_SK_MISSING;
	/* At least the pad length byte between IV and ICV (and no overflow in the sum). */
	if (iv_len > sk->body_len || icv_len > sk->body_len - iv_len ||
	    sk->body_len - iv_len - icv_len < 1)
		return IKE_ERR_SK_SHORT;
	out->aad_len = sk->hdr_off + IKE_PAYLOAD_HDR_LEN;
	out->iv_off = out->aad_len;
	out->iv_len = iv_len;
	out->ct_off = out->iv_off + iv_len;
	out->ct_len = sk->body_len - iv_len - icv_len;
	out->icv_off = out->ct_off + out->ct_len;
	out->icv_len = icv_len;
	out->first_inner = sk->next_payload;
	return IKE_OK;
}

enum ike_err
ike_sk_unpad(const uint8_t *plain, size_t len, size_t *inner_len)
{
	*inner_len = 0;
	if (len == 0 || (size_t)plain[len - 1] + 1 > len)
		return IKE_ERR_BAD_PAD;
	*inner_len = len - 1 - plain[len - 1];
	return IKE_OK;
}
