/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text form of decoded IKE messages: one line per header, payload, proposal, transform and traffic
 * selector, byte strings in lowercase hex. Used for debug logs and by the tests, which compare it
 * with the same form printed by scripts/ike_vectors.py from scapy's decode. Keep the two in step.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ike_msg_priv.h"

struct out {
	char *p;
	size_t cap;
	size_t len; /* needed so far, may exceed cap */
};

static void __attribute__((format(printf, 2, 3))) emit(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? o->p + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void
emit_hex(struct out *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		emit(o, "%02x", b[i]);
}

static void
emit_sa(struct out *o, const struct ike_sa *sa)
{
	emit(o, "sa\n");
	for (uint8_t i = 0; i < sa->n_proposals; i++) {
		const struct ike_proposal *p = &sa->prop[i];

		emit(o, " prop num=%u proto=%u spi=", p->num, p->proto);
		emit_hex(o, p->spi, p->spi_size);
		emit(o, " xforms=%u\n", p->n_transforms);
		for (uint8_t t = 0; t < p->n_transforms; t++) {
			const struct ike_transform *xf = &p->xf[t];

			emit(o, "  xf type=%u id=%u", xf->type, xf->id);
			if (xf->has_key_len)
				emit(o, " keylen=%u", xf->key_len);
			if (xf->unknown_attr)
				emit(o, " unknown_attr");
			emit(o, "\n");
		}
	}
}

static void
emit_ts(struct out *o, const char *name, const struct ike_ts *ts)
{
	emit(o, "%s n=%u\n", name, ts->n);
	for (uint8_t i = 0; i < ts->n; i++) {
		const struct ike_selector *s = &ts->sel[i];
		size_t alen = s->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

		emit(o, " ts type=%u proto=%u ", s->type, s->proto);
		if (s->type != IKE_TS_IPV4_ADDR_RANGE && s->type != IKE_TS_IPV6_ADDR_RANGE) {
			emit(o, "raw=");
			emit_hex(o, s->raw, s->raw_len);
		} else {
			emit(o, "ports=%u-%u start=", s->start_port, s->end_port);
			emit_hex(o, s->start, alen);
			emit(o, " end=");
			emit_hex(o, s->end, alen);
		}
		emit(o, "\n");
	}
}

/* "name field=N label=HEX": the payloads made of one number and one byte string. */
static void
emit_blob(struct out *o, const char *name, const char *field, unsigned v, const char *label,
	  const uint8_t *data, size_t len)
{
	emit(o, "%s %s=%u %s=", name, field, v, label);
	emit_hex(o, data, len);
	emit(o, "\n");
}

static void
emit_payload(struct out *o, const struct ike_payloads *p, const struct ike_payload *e)
{
	const struct ike_notify *n;
	const struct ike_delete *d;

	switch (e->type) {
	case IKE_PT_SA:
		emit_sa(o, &p->sa);
		break;
	case IKE_PT_KE:
		emit_blob(o, "ke", "group", p->ke.group, "data", p->ke.data, p->ke.len);
		break;
	case IKE_PT_IDI:
		emit_blob(o, "idi", "type", p->idi.type, "data", p->idi.data, p->idi.len);
		break;
	case IKE_PT_IDR:
		emit_blob(o, "idr", "type", p->idr.type, "data", p->idr.data, p->idr.len);
		break;
	case IKE_PT_CERT:
		emit_blob(o, "cert", "enc", p->cert[e->index].encoding, "data",
			  p->cert[e->index].data, p->cert[e->index].len);
		break;
	case IKE_PT_CERTREQ:
		emit_blob(o, "certreq", "enc", p->certreq[e->index].encoding, "data",
			  p->certreq[e->index].data, p->certreq[e->index].len);
		break;
	case IKE_PT_AUTH:
		emit_blob(o, "auth", "method", p->auth.method, "data", p->auth.data, p->auth.len);
		break;
	case IKE_PT_NONCE:
		emit(o, "nonce data=");
		emit_hex(o, p->nonce.data, p->nonce.len);
		emit(o, "\n");
		break;
	case IKE_PT_NOTIFY:
		n = &p->notify[e->index];
		emit(o, "notify proto=%u spi=", n->proto);
		emit_hex(o, n->spi, n->spi_size);
		emit(o, " type=%u data=", n->type);
		emit_hex(o, n->data, n->len);
		emit(o, "\n");
		break;
	case IKE_PT_DELETE:
		d = &p->del[e->index];
		emit(o, "delete proto=%u spi_size=%u n=%u spis=", d->proto, d->spi_size, d->n_spi);
		emit_hex(o, d->spis, (size_t)d->n_spi * d->spi_size);
		emit(o, "\n");
		break;
	case IKE_PT_VENDOR:
		emit(o, "vendor data=");
		emit_hex(o, p->vendor[e->index].data, p->vendor[e->index].len);
		emit(o, "\n");
		break;
	case IKE_PT_TSI:
		emit_ts(o, "tsi", &p->tsi);
		break;
	case IKE_PT_TSR:
		emit_ts(o, "tsr", &p->tsr);
		break;
	case IKE_PT_CP:
		emit_blob(o, "cp", "type", p->cp.cfg_type, "attrs", p->cp.attrs, p->cp.len);
		break;
	case IKE_PT_SK:
		emit(o, "sk np=%u\n", p->sk.next_payload);
		break;
	default:
		emit(o, "payload type=%u critical=%u data=", e->type, e->critical);
		emit_hex(o, e->body, e->len);
		emit(o, "\n");
		break;
	}
}

static size_t
finish(struct out *o)
{
	if (o->cap > 0)
		o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	return o->len;
}

size_t
ike_hdr_dump(const struct ike_hdr *h, char *out, size_t cap)
{
	struct out o = { .p = out, .cap = cap };

	emit(&o,
	     "hdr spi_i=%016" PRIx64 " spi_r=%016" PRIx64
	     " np=%u ver=%u exch=%u flags=%02x id=%" PRIu32 " len=%" PRIu32 "\n",
	     h->spi_i, h->spi_r, h->next_payload, h->major, h->exchange, h->flags, h->msg_id,
	     h->length);
	return finish(&o);
}

size_t
ike_payloads_dump(const struct ike_payloads *p, char *out, size_t cap)
{
	struct out o = { .p = out, .cap = cap };

	for (uint8_t i = 0; i < p->n; i++)
		emit_payload(&o, p, &p->pl[i]);
	return finish(&o);
}
