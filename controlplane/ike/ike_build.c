/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending side of the IKE codec: a writer that appends payloads to a caller's buffer, each one's
 * type written into the previous next-payload field (the IKE header's, a payload's, or the SK
 * payload's for the first encrypted one) and its length filled in when it is complete. The SK
 * payload is left with zeroed IV and ICV and an unencrypted middle for the crypto layer.
 */
#include <errno.h>
#include <string.h>

#include "ike_msg_priv.h"

#define PAYLOAD_MAX 0xffff

/* Room for n more bytes, or set the sticky error. */
static uint8_t *
room(struct ike_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err != 0)
		return NULL;
	if (w->cap - w->len < n) {
		w->err = -ENOSPC;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void
put_bytes(struct ike_writer *w, const void *src, size_t n)
{
	uint8_t *p = room(w, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

static void
put_zero(struct ike_writer *w, size_t n)
{
	uint8_t *p = room(w, n);

	if (p != NULL)
		memset(p, 0, n);
}

static void
put_u8(struct ike_writer *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

static void
put_u16(struct ike_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void
put_u32(struct ike_writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void
put_u64(struct ike_writer *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static void
set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
set_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
fail(struct ike_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

/* Generic header of a new payload, chained to the previous one. Returns its offset, or 0 on error
 * (0 is the IKE header's, never a payload's). */
static size_t
begin(struct ike_writer *w, uint8_t type, bool critical)
{
	size_t off = w->len;

	if (w->err == 0 && w->sk_closed)
		fail(w, -EINVAL); /* SK is the last payload */
	put_u8(w, IKE_PT_NONE);
	put_u8(w, critical ? 0x80 : 0);
	put_u16(w, 0);
	if (w->err != 0)
		return 0;
	w->buf[w->np_off] = type;
	w->np_off = off;
	return off;
}

/* Fill in the length of the payload that starts at off. */
static int
end(struct ike_writer *w, size_t off)
{
	size_t plen = w->len - off;

	if (w->err != 0)
		return w->err;
	if (plen > PAYLOAD_MAX)
		return fail(w, -EMSGSIZE);
	set_u16(w->buf + off + 2, (uint16_t)plen);
	w->last_off = off + IKE_PAYLOAD_HDR_LEN;
	w->last_len = plen - IKE_PAYLOAD_HDR_LEN;
	return 0;
}

/* A payload whose body is a fixed part and one byte string. */
static int
simple(struct ike_writer *w, uint8_t type, const uint8_t *fixed, size_t fixed_len,
       const uint8_t *data, size_t len)
{
	size_t off;

	if (len > PAYLOAD_MAX)
		return fail(w, -EMSGSIZE);
	off = begin(w, type, false);
	put_bytes(w, fixed, fixed_len);
	put_bytes(w, data, len);
	return end(w, off);
}

void
ike_wr_init(struct ike_writer *w, uint8_t *buf, size_t cap, const struct ike_hdr *h)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	put_u64(w, h->spi_i);
	put_u64(w, h->spi_r);
	put_u8(w, IKE_PT_NONE);
	put_u8(w, IKE_VERSION);
	put_u8(w, h->exchange);
	put_u8(w, h->flags);
	put_u32(w, h->msg_id);
	put_u32(w, 0);
	w->np_off = 16;
}

static bool
proposal_ok(const struct ike_sa *sa, uint8_t i)
{
	const struct ike_proposal *p = &sa->prop[i];

	if (p->spi_size != 0 && p->spi_size != 4 && p->spi_size != 8)
		return false;
	if (p->n_transforms == 0 || p->n_transforms > IKE_MAX_TRANSFORMS)
		return false;
	if (i == 0)
		return p->num != 0;
	return sa->prop[0].num == 1 && p->num == sa->prop[i - 1].num + 1;
}

int
ike_wr_sa(struct ike_writer *w, const struct ike_sa *sa)
{
	size_t off;

	if (sa->n_proposals == 0 || sa->n_proposals > IKE_MAX_PROPOSALS)
		return fail(w, -EINVAL);
	for (uint8_t i = 0; i < sa->n_proposals; i++)
		if (!proposal_ok(sa, i))
			return fail(w, -EINVAL);

	off = begin(w, IKE_PT_SA, false);
	for (uint8_t i = 0; i < sa->n_proposals; i++) {
		const struct ike_proposal *p = &sa->prop[i];
		size_t poff = w->len;

		put_u8(w, i + 1 == sa->n_proposals ? 0 : 2);
		put_u8(w, 0);
		put_u16(w, 0);
		put_u8(w, p->num);
		put_u8(w, p->proto);
		put_u8(w, p->spi_size);
		put_u8(w, p->n_transforms);
		put_bytes(w, p->spi, p->spi_size);
		for (uint8_t t = 0; t < p->n_transforms; t++) {
			const struct ike_transform *xf = &p->xf[t];

			put_u8(w, t + 1 == p->n_transforms ? 0 : 3);
			put_u8(w, 0);
			put_u16(w, xf->has_key_len ? 12 : 8);
			put_u8(w, xf->type);
			put_u8(w, 0);
			put_u16(w, xf->id);
			if (xf->has_key_len) {
				put_u16(w, 0x8000 | IKE_ATTR_KEY_LENGTH);
				put_u16(w, xf->key_len);
			}
		}
		if (w->err != 0)
			return w->err;
		/* 16 proposals of 64 transforms with key lengths stay under 64 KiB */
		set_u16(w->buf + poff + 2, (uint16_t)(w->len - poff));
	}
	return end(w, off);
}

int
ike_wr_ke(struct ike_writer *w, const struct ike_ke *ke)
{
	uint8_t fixed[4] = { (uint8_t)(ke->group >> 8), (uint8_t)ke->group, 0, 0 };

	if (ke->len == 0)
		return fail(w, -EINVAL);
	return simple(w, IKE_PT_KE, fixed, sizeof(fixed), ke->data, ke->len);
}

int
ike_wr_id(struct ike_writer *w, uint8_t type, const struct ike_id *id)
{
	uint8_t fixed[4] = { id->type, 0, 0, 0 };

	if ((type != IKE_PT_IDI && type != IKE_PT_IDR) || !ike_id_len_ok(id->type, id->len))
		return fail(w, -EINVAL);
	return simple(w, type, fixed, sizeof(fixed), id->data, id->len);
}

int
ike_wr_cert(struct ike_writer *w, uint8_t type, const struct ike_cert *c)
{
	if (type != IKE_PT_CERT && type != IKE_PT_CERTREQ)
		return fail(w, -EINVAL);
	return simple(w, type, &c->encoding, 1, c->data, c->len);
}

int
ike_wr_auth(struct ike_writer *w, const struct ike_auth *a)
{
	uint8_t fixed[4] = { a->method, 0, 0, 0 };

	if (a->len == 0)
		return fail(w, -EINVAL);
	return simple(w, IKE_PT_AUTH, fixed, sizeof(fixed), a->data, a->len);
}

int
ike_wr_nonce(struct ike_writer *w, const uint8_t *nonce, size_t len)
{
	if (len < IKE_NONCE_MIN || len > IKE_NONCE_MAX)
		return fail(w, -EINVAL);
	return simple(w, IKE_PT_NONCE, NULL, 0, nonce, len);
}

int
ike_wr_notify(struct ike_writer *w, const struct ike_notify *n)
{
	size_t off;

	if (n->spi_size > 0 && n->spi == NULL)
		return fail(w, -EINVAL);
	if (n->len > PAYLOAD_MAX)
		return fail(w, -EMSGSIZE);
	off = begin(w, IKE_PT_NOTIFY, false);
	put_u8(w, n->proto);
	put_u8(w, n->spi_size);
	put_u16(w, n->type);
	put_bytes(w, n->spi, n->spi_size);
	put_bytes(w, n->data, n->len);
	return end(w, off);
}

int
ike_wr_delete(struct ike_writer *w, const struct ike_delete *d)
{
	size_t off;

	if (!ike_delete_ok(d->proto, d->spi_size, d->n_spi))
		return fail(w, -EINVAL);
	off = begin(w, IKE_PT_DELETE, false);
	put_u8(w, d->proto);
	put_u8(w, d->spi_size);
	put_u16(w, d->n_spi);
	put_bytes(w, d->spis, (size_t)d->n_spi * d->spi_size);
	return end(w, off);
}

int
ike_wr_vendor(struct ike_writer *w, const uint8_t *vid, size_t len)
{
	return simple(w, IKE_PT_VENDOR, NULL, 0, vid, len);
}

int
ike_wr_ts(struct ike_writer *w, uint8_t type, const struct ike_ts *ts)
{
	size_t off;

	if ((type != IKE_PT_TSI && type != IKE_PT_TSR) || ts->n == 0 || ts->n > IKE_MAX_TS)
		return fail(w, -EINVAL);
	for (uint8_t i = 0; i < ts->n; i++)
		if (ike_selector_len(ts->sel[i].type, ts->sel[i].raw_len) > PAYLOAD_MAX)
			return fail(w, -EMSGSIZE);
	off = begin(w, type, false);
	put_u8(w, ts->n);
	put_zero(w, 3);
	for (uint8_t i = 0; i < ts->n; i++) {
		const struct ike_selector *s = &ts->sel[i];
		size_t slen = ike_selector_len(s->type, s->raw_len);

		put_u8(w, s->type);
		put_u8(w, s->proto);
		put_u16(w, (uint16_t)slen);
		if (s->type == IKE_TS_IPV4_ADDR_RANGE || s->type == IKE_TS_IPV6_ADDR_RANGE) {
			size_t alen = s->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

			put_u16(w, s->start_port);
			put_u16(w, s->end_port);
			put_bytes(w, s->start, alen);
			put_bytes(w, s->end, alen);
		} else {
			put_bytes(w, s->raw, s->raw_len);
		}
	}
	return end(w, off);
}

int
ike_wr_cp(struct ike_writer *w, const struct ike_cp *cp)
{
	uint8_t fixed[4] = { cp->cfg_type, 0, 0, 0 };

	return simple(w, IKE_PT_CP, fixed, sizeof(fixed), cp->attrs, cp->len);
}

int
ike_wr_raw(struct ike_writer *w, uint8_t type, bool critical, const uint8_t *body, size_t len)
{
	size_t off;

	if (type == IKE_PT_SK || type == IKE_PT_NONE)
		return fail(w, -EINVAL);
	if (len > PAYLOAD_MAX)
		return fail(w, -EMSGSIZE);
	off = begin(w, type, critical);
	put_bytes(w, body, len);
	return end(w, off);
}

int
ike_wr_chain(struct ike_writer *w, const struct ike_payloads *p)
{
	for (uint8_t i = 0; i < p->n && w->err == 0; i++) {
		const struct ike_payload *e = &p->pl[i];

		switch (e->type) {
		case IKE_PT_SA:
			ike_wr_sa(w, &p->sa);
			break;
		case IKE_PT_KE:
			ike_wr_ke(w, &p->ke);
			break;
		case IKE_PT_IDI:
			ike_wr_id(w, e->type, &p->idi);
			break;
		case IKE_PT_IDR:
			ike_wr_id(w, e->type, &p->idr);
			break;
		case IKE_PT_CERT:
			ike_wr_cert(w, e->type, &p->cert[e->index]);
			break;
		case IKE_PT_CERTREQ:
			ike_wr_cert(w, e->type, &p->certreq[e->index]);
			break;
		case IKE_PT_AUTH:
			ike_wr_auth(w, &p->auth);
			break;
		case IKE_PT_NONCE:
			ike_wr_nonce(w, p->nonce.data, p->nonce.len);
			break;
		case IKE_PT_NOTIFY:
			ike_wr_notify(w, &p->notify[e->index]);
			break;
		case IKE_PT_DELETE:
			ike_wr_delete(w, &p->del[e->index]);
			break;
		case IKE_PT_VENDOR:
			ike_wr_vendor(w, p->vendor[e->index].data, p->vendor[e->index].len);
			break;
		case IKE_PT_TSI:
			ike_wr_ts(w, e->type, &p->tsi);
			break;
		case IKE_PT_TSR:
			ike_wr_ts(w, e->type, &p->tsr);
			break;
		case IKE_PT_CP:
			ike_wr_cp(w, &p->cp);
			break;
		case IKE_PT_SK:
			break; /* the caller opens and closes SK */
		default:
			ike_wr_raw(w, e->type, e->critical, e->body, e->len);
			break;
		}
	}
	return w->err;
}

int
ike_wr_sk_open(struct ike_writer *w, size_t iv_len)
{
	size_t off;

	if (w->sk_off != 0 || iv_len > PAYLOAD_MAX)
		return fail(w, -EINVAL);
	off = begin(w, IKE_PT_SK, false);
	put_zero(w, iv_len);
	if (w->err != 0)
		return w->err;
	/* np_off stays at the SK header: the first inner payload's type goes there. */
	w->sk_off = off;
	w->sk_iv_len = iv_len;
	return 0;
}

int
ike_wr_sk_close(struct ike_writer *w, size_t pad_block, size_t icv_len, struct ike_sk_layout *out)
{
	size_t ct_off, inner, pad;

	memset(out, 0, sizeof(*out));
	if (w->sk_off == 0 || w->sk_closed || pad_block == 0 || pad_block > 256)
		return fail(w, -EINVAL);
	if (w->err != 0)
		return w->err;
	ct_off = w->sk_off + IKE_PAYLOAD_HDR_LEN + w->sk_iv_len;
	inner = w->len - ct_off;
	pad = (pad_block - (inner + 1) % pad_block) % pad_block;
	put_zero(w, pad);
	put_u8(w, (uint8_t)pad);
	put_zero(w, icv_len);
	if (end(w, w->sk_off) != 0)
		return w->err;
	set_u32(w->buf + 24, (uint32_t)w->len);
	w->sk_closed = true;
	out->aad_len = w->sk_off + IKE_PAYLOAD_HDR_LEN;
	out->iv_off = out->aad_len;
	out->iv_len = w->sk_iv_len;
	out->ct_off = ct_off;
	out->ct_len = inner + pad + 1;
	out->icv_off = ct_off + out->ct_len;
	out->icv_len = icv_len;
	out->first_inner = w->buf[w->sk_off];
	return 0;
}

int
ike_wr_finish(struct ike_writer *w, size_t *len)
{
	*len = 0;
	if (w->err != 0)
		return w->err;
	if (w->sk_off != 0 && !w->sk_closed)
		return fail(w, -EINVAL);
	if (w->len > UINT32_MAX)
		return fail(w, -EMSGSIZE);
	set_u32(w->buf + 24, (uint32_t)w->len);
	*len = w->len;
	return 0;
}
