/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload body decoders: one per payload type, each given exactly the body the generic header
 * announced (ike_msg.c checked that it lies inside the buffer). Every substructure length is
 * checked against what remains before it is used; decoded data points into the body.
 */
#include <string.h>

#include "ike_msg_priv.h"

#define PROPOSAL_HDR_LEN  8
#define TRANSFORM_HDR_LEN 8
#define ATTR_HDR_LEN	  4
#define ATTR_FORMAT_TV	  0x8000
#define LAST_PROPOSAL	  0
#define MORE_PROPOSALS	  2
#define LAST_TRANSFORM	  0
#define MORE_TRANSFORMS	  3
#define TS_HDR_LEN	  4

/* Attributes after the 8-byte transform header: Key Length (TV) is decoded, any other well-formed
 * attribute only flagged. */
static enum ike_err
decode_attrs(const uint8_t *a, size_t len, struct ike_transform *xf)
{
	size_t off = 0;

	while (off < len) {
		uint16_t type, val;

		if (len - off < ATTR_HDR_LEN)
			return IKE_ERR_BAD_ATTRIBUTE;
		type = rd16(a + off);
		val = rd16(a + off + 2);
		if (type & ATTR_FORMAT_TV) {
			type &= (uint16_t)~ATTR_FORMAT_TV;
			off += ATTR_HDR_LEN;
		} else {
			if (val > len - off - ATTR_HDR_LEN)
				return IKE_ERR_BAD_ATTRIBUTE;
			off += ATTR_HDR_LEN + val;
			if (type == IKE_ATTR_KEY_LENGTH)
				return IKE_ERR_BAD_ATTRIBUTE; /* Key Length is TV only */
		}
		if (type == IKE_ATTR_KEY_LENGTH) {
			if (xf->has_key_len)
				return IKE_ERR_BAD_ATTRIBUTE;
			xf->has_key_len = true;
			xf->key_len = val;
		} else {
			xf->unknown_attr = true;
		}
	}
	return IKE_OK;
}

static enum ike_err
decode_proposal(const uint8_t *b, size_t len, struct ike_proposal *p)
{
	size_t off, count = 0;
	uint8_t last = MORE_TRANSFORMS;

	p->num = b[4];
	p->proto = b[5];
	p->spi_size = b[6];
	p->n_transforms = b[7];
	if (p->spi_size != 0 && p->spi_size != 4 && p->spi_size != 8)
		return IKE_ERR_BAD_PROPOSAL;
	if (len - PROPOSAL_HDR_LEN < p->spi_size)
		return IKE_ERR_BAD_PROPOSAL;
	memcpy(p->spi, b + PROPOSAL_HDR_LEN, p->spi_size);
	if (p->n_transforms == 0)
		return IKE_ERR_BAD_PROPOSAL;
	if (p->n_transforms > IKE_MAX_TRANSFORMS)
		return IKE_ERR_TOO_MANY_TRANSFORMS;

	off = PROPOSAL_HDR_LEN + p->spi_size;
	while (off < len) {
		struct ike_transform *xf;
		size_t tlen;
		enum ike_err err;

		if (last == LAST_TRANSFORM || len - off < TRANSFORM_HDR_LEN)
			return IKE_ERR_BAD_TRANSFORM;
		last = b[off];
		tlen = rd16(b + off + 2);
		if ((last != LAST_TRANSFORM && last != MORE_TRANSFORMS) ||
		    tlen < TRANSFORM_HDR_LEN || tlen > len - off)
			return IKE_ERR_BAD_TRANSFORM;
		if (count == p->n_transforms)
			return IKE_ERR_BAD_PROPOSAL; /* more transforms than it says */
		xf = &p->xf[count++];
		xf->type = b[off + 4];
		xf->id = rd16(b + off + 6);
		err = decode_attrs(b + off + TRANSFORM_HDR_LEN, tlen - TRANSFORM_HDR_LEN, xf);
		if (err != IKE_OK)
			return err;
		off += tlen;
	}
	if (count != p->n_transforms)
		return IKE_ERR_BAD_PROPOSAL;
	if (last != LAST_TRANSFORM)
		return IKE_ERR_BAD_TRANSFORM;
	return IKE_OK;
}

/* RFC 7296 3.3.1: each proposal numbered one more than the previous; the first of several (only
 * an initiator sends several) is 1. A responder's single proposal carries the chosen number. */
static bool
proposal_num_ok(const struct ike_sa *sa, uint8_t i)
{
	if (i == 0)
		return sa->prop[0].num != 0;
	return sa->prop[0].num == 1 && sa->prop[i].num == sa->prop[i - 1].num + 1;
}

enum ike_err
ike_dec_sa(const uint8_t *b, size_t len, struct ike_sa *sa)
{
	uint8_t last = MORE_PROPOSALS;
	size_t off = 0;

	if (len == 0)
		return IKE_ERR_BAD_PROPOSAL;
	while (off < len) {
		size_t plen;
		enum ike_err err;

		if (last == LAST_PROPOSAL || len - off < PROPOSAL_HDR_LEN)
			return IKE_ERR_BAD_PROPOSAL;
		last = b[off];
		plen = rd16(b + off + 2);
		if ((last != LAST_PROPOSAL && last != MORE_PROPOSALS) || plen < PROPOSAL_HDR_LEN ||
		    plen > len - off)
			return IKE_ERR_BAD_PROPOSAL;
		if (sa->n_proposals == IKE_MAX_PROPOSALS)
			return IKE_ERR_TOO_MANY_PROPOSALS;
		err = decode_proposal(b + off, plen, &sa->prop[sa->n_proposals]);
		if (err != IKE_OK)
			return err;
		if (!proposal_num_ok(sa, sa->n_proposals))
			return IKE_ERR_BAD_PROPOSAL;
		sa->n_proposals++;
		off += plen;
	}
	if (last != LAST_PROPOSAL)
		return IKE_ERR_BAD_PROPOSAL;
	return IKE_OK;
}

enum ike_err
ike_dec_ke(const uint8_t *b, size_t len, struct ike_ke *ke)
{
	if (len <= 4)
		return IKE_ERR_BAD_KE;
	ke->group = rd16(b);
	ke->data = b + 4;
	ke->len = len - 4;
	return IKE_OK;
}

bool
ike_id_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case IKE_ID_IPV4_ADDR:
		return len == 4;
	case IKE_ID_IPV6_ADDR:
		return len == 16;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
	case IKE_ID_KEY_ID:
		return len > 0;
	default:
		return true; /* the engine decides what it accepts */
	}
}

enum ike_err
ike_dec_id(const uint8_t *b, size_t len, struct ike_id *id)
{
	if (len < 4 || !ike_id_len_ok(b[0], len - 4))
		return IKE_ERR_BAD_ID;
	id->type = b[0];
	id->data = b + 4;
	id->len = len - 4;
	id->body = b;
	id->body_len = len;
	return IKE_OK;
}

enum ike_err
ike_dec_cert(const uint8_t *b, size_t len, struct ike_cert *c)
{
	if (len < 1)
		return IKE_ERR_BAD_CERT;
	c->encoding = b[0];
	c->data = b + 1;
	c->len = len - 1;
	return IKE_OK;
}

enum ike_err
ike_dec_auth(const uint8_t *b, size_t len, struct ike_auth *a)
{
	if (len <= 4)
		return IKE_ERR_BAD_AUTH;
	a->method = b[0];
	a->data = b + 4;
	a->len = len - 4;
	return IKE_OK;
}

enum ike_err
ike_dec_nonce(const uint8_t *b, size_t len, struct ike_nonce *n)
{
	if (len < IKE_NONCE_MIN || len > IKE_NONCE_MAX)
		return IKE_ERR_BAD_NONCE;
	n->data = b;
	n->len = len;
	return IKE_OK;
}

enum ike_err
ike_dec_notify(const uint8_t *b, size_t len, struct ike_notify *n)
{
	if (len < 4 || len - 4 < b[1])
		return IKE_ERR_BAD_NOTIFY;
	n->proto = b[0];
	n->spi_size = b[1];
	n->type = rd16(b + 2);
	n->spi = b + 4;
	n->data = b + 4 + n->spi_size;
	n->len = len - 4 - n->spi_size;
	return IKE_OK;
}

/* RFC 7296 3.11: the IKE SA is deleted with no SPIs (size 0); AH and ESP SAs by their 4-byte SPIs,
 * at least one. */
bool
ike_delete_ok(uint8_t proto, uint8_t spi_size, size_t n_spi)
{
	if (proto == IKE_PROTO_IKE)
		return spi_size == 0 && n_spi == 0;
	if (proto == IKE_PROTO_AH || proto == IKE_PROTO_ESP)
		return spi_size == 4 && n_spi > 0;
	return false;
}

enum ike_err
ike_dec_delete(const uint8_t *b, size_t len, struct ike_delete *d)
{
	if (len < 4)
		return IKE_ERR_BAD_DELETE;
	d->proto = b[0];
	d->spi_size = b[1];
	d->n_spi = rd16(b + 2);
	d->spis = b + 4;
	if (!ike_delete_ok(d->proto, d->spi_size, d->n_spi) ||
	    len - 4 != (size_t)d->n_spi * d->spi_size)
		return IKE_ERR_BAD_DELETE;
	return IKE_OK;
}

/* Selector length for a type: fixed for the address ranges, header + raw bytes otherwise. */
size_t
ike_selector_len(uint8_t type, size_t raw_len)
{
	switch (type) {
	case IKE_TS_IPV4_ADDR_RANGE:
		return TS_HDR_LEN + 4 + 2 * 4;
	case IKE_TS_IPV6_ADDR_RANGE:
		return TS_HDR_LEN + 4 + 2 * 16;
	default:
		return TS_HDR_LEN + raw_len;
	}
}

static void
decode_selector(const uint8_t *s, size_t slen, struct ike_selector *sel)
{
	size_t alen;

	sel->type = s[0];
	sel->proto = s[1];
	if (sel->type != IKE_TS_IPV4_ADDR_RANGE && sel->type != IKE_TS_IPV6_ADDR_RANGE) {
		sel->raw = s + TS_HDR_LEN;
		sel->raw_len = slen - TS_HDR_LEN;
		return;
	}
	alen = sel->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
	sel->start_port = rd16(s + 4);
	sel->end_port = rd16(s + 6);
	memcpy(sel->start, s + 8, alen);
	memcpy(sel->end, s + 8 + alen, alen);
}

enum ike_err
ike_dec_ts(const uint8_t *b, size_t len, struct ike_ts *ts)
{
	size_t off = 4, n = 0;

	if (len < 4 || b[0] == 0)
		return IKE_ERR_BAD_TS;
	if (b[0] > IKE_MAX_TS)
		return IKE_ERR_TOO_MANY_TS;
	while (off < len) {
		size_t slen;

		if (n == b[0] || len - off < TS_HDR_LEN)
			return IKE_ERR_BAD_TS;
		slen = rd16(b + off + 2);
		if (slen < TS_HDR_LEN || slen > len - off ||
		    slen != ike_selector_len(b[off], slen - TS_HDR_LEN))
			return IKE_ERR_BAD_TS;
		decode_selector(b + off, slen, &ts->sel[n++]);
		off += slen;
	}
	if (n != b[0])
		return IKE_ERR_BAD_TS;
	ts->n = (uint8_t)n;
	return IKE_OK;
}

enum ike_err
ike_dec_cp(const uint8_t *b, size_t len, struct ike_cp *cp)
{
	if (len < 4)
		return IKE_ERR_BAD_CP;
	cp->cfg_type = b[0];
	cp->attrs = b + 4;
	cp->len = len - 4;
	return IKE_OK;
}
