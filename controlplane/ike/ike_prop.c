/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Proposal choice (RFC 7296 2.7, 3.3): which of the initiator's proposals a responder takes, what
 * an initiator offers, and whether a responder's answer is one of the offers. Only AEADs: AES-GCM
 * with a 16-byte ICV (128/256-bit keys) and ChaCha20-Poly1305; PRF HMAC-SHA2-256/384/512; DH 31
 * (Curve25519). A configured proposal is one combination of these; an offered proposal matches it
 * when it contains each of its transforms (an offered proposal may list several per type).
 * CREATE_CHILD_SA (the *_rekey variants): an ESP proposal's DH group is PFS and must match (a
 * proposal without one matches offers without DH or with NONE); IKE proposals carry 8-byte SPIs.
 */
#include <errno.h>
#include <string.h>

#include "ike_priv.h"

#define N_DEFAULT_IKE 9
#define N_DEFAULT_ESP 3

static const struct ike_proposal default_ike[N_DEFAULT_IKE] = {
	{ IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_CHACHA20_POLY1305, 256, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_384, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_CHACHA20_POLY1305, 256, IKE_PRF_HMAC_SHA2_384, IKE_DH_CURVE25519, false },
	{ IKE_ENCR_CHACHA20_POLY1305, 256, IKE_PRF_HMAC_SHA2_512, IKE_DH_CURVE25519, false },
};

static const struct ike_proposal default_esp[N_DEFAULT_ESP] = {
	{ IKE_ENCR_AES_GCM_16, 128, 0, 0, false },
	{ IKE_ENCR_AES_GCM_16, 256, 0, 0, false },
	{ IKE_ENCR_CHACHA20_POLY1305, 256, 0, 0, false },
};

static uint16_t
key_bits(const struct ike_proposal *p)
{
	return p->encr == IKE_ENCR_CHACHA20_POLY1305 ? 256 : p->key_bits;
}

bool
ike_prop_aead(uint16_t encr, uint16_t bits, enum esp_aead *out)
{
	if (encr == IKE_ENCR_AES_GCM_16 && bits == 128)
		*out = ESP_AEAD_AES128_GCM16;
	else if (encr == IKE_ENCR_AES_GCM_16 && bits == 256)
		*out = ESP_AEAD_AES256_GCM16;
	else if (encr == IKE_ENCR_CHACHA20_POLY1305 && (bits == 256 || bits == 0))
		*out = ESP_AEAD_CHACHA20_POLY1305;
	else
		return false;
	return true;
}

bool
ike_prop_supported(const struct ike_proposal *p, bool ike)
{
	enum esp_aead aead;

	if (!ike_prop_aead(p->encr, p->key_bits, &aead))
		return false;
	if (ike)
		return ike_prf_len(p->prf) != 0 && p->dh == IKE_DH_CURVE25519 && !p->esn;
	return p->dh == 0 || p->dh == IKE_DH_CURVE25519;
}

const struct ike_proposal *
ike_prop_list(const struct ike_peer_cfg *peer, bool ike, uint8_t *n)
{
	uint8_t have = ike ? peer->n_ike : peer->n_esp;

	if (have > 0) {
		*n = have;
		return ike ? peer->ike : peer->esp;
	}
	*n = ike ? N_DEFAULT_IKE : N_DEFAULT_ESP;
	return ike ? default_ike : default_esp;
}

/* ---- matching an offered proposal ---- */

static bool
has_xf(const struct ike_wire_proposal *p, uint8_t type, uint16_t id)
{
	for (uint8_t i = 0; i < p->n_transforms; i++)
		if (p->xf[i].type == type && p->xf[i].id == id && !p->xf[i].unknown_attr)
			return true;
	return false;
}

static bool
has_type(const struct ike_wire_proposal *p, uint8_t type)
{
	for (uint8_t i = 0; i < p->n_transforms; i++)
		if (p->xf[i].type == type)
			return true;
	return false;
}

static bool
has_encr(const struct ike_wire_proposal *p, const struct ike_proposal *c)
{
	for (uint8_t i = 0; i < p->n_transforms; i++) {
		const struct ike_transform *x = &p->xf[i];

		if (x->type != IKE_XF_ENCR || x->id != c->encr || x->unknown_attr)
			continue;
		/* RFC 7634 2: ChaCha20-Poly1305 has no Key Length attribute; accept 256 anyway */
		if (c->encr == IKE_ENCR_CHACHA20_POLY1305
			    ? !x->has_key_len || x->key_len == 256
			    : x->has_key_len && x->key_len == c->key_bits)
			return true;
	}
	return false;
}

/* Does offer p contain everything of configured c? with_dh: ESP must also carry c->dh (a
 * CREATE_CHILD_SA with PFS); the first CHILD_SA of IKE_AUTH ignores DH transforms (2.21.3). */
static bool
matches(const struct ike_wire_proposal *p, const struct ike_proposal *c, uint8_t proto,
	bool with_dh)
{
	/* transform types we do not know (RFC 9370's additional key exchanges, ...) */
	for (uint8_t i = 0; i < p->n_transforms; i++)
		if (p->xf[i].type < IKE_XF_ENCR || p->xf[i].type > IKE_XF_ESN)
			return false;
	if (!has_encr(p, c))
		return false;
	/* an AEAD takes no integrity algorithm; NONE may be spelled out */
	if (has_type(p, IKE_XF_INTEG) && !has_xf(p, IKE_XF_INTEG, IKE_INTEG_NONE))
		return false;
	if (proto == IKE_PROTO_IKE)
		return has_xf(p, IKE_XF_PRF, c->prf) && has_xf(p, IKE_XF_DH, c->dh) &&
		       !has_type(p, IKE_XF_ESN);
	if (has_type(p, IKE_XF_ESN) ? !has_xf(p, IKE_XF_ESN, c->esn ? IKE_ESN_YES : IKE_ESN_NO)
				    : c->esn)
		return false;
	if (with_dh && c->dh != 0)
		return has_xf(p, IKE_XF_DH, c->dh);
	if (with_dh && has_type(p, IKE_XF_DH))
		return has_xf(p, IKE_XF_DH, 0);
	return true;
}

static bool
spi_size_ok(const struct ike_wire_proposal *p, uint8_t proto)
{
	if (p->proto != proto)
		return false;
	return proto == IKE_PROTO_IKE ? p->spi_size == 0 || p->spi_size == 8 : p->spi_size == 4;
}

static void
choice(const struct ike_wire_proposal *p, const struct ike_proposal *c, struct ike_choice *out)
{
	*out = (struct ike_choice){ .num = p->num,
				    .encr = c->encr,
				    .key_bits = key_bits(c),
				    .prf = c->prf,
				    .dh = c->dh,
				    .esn = c->esn,
				    .spi_size = p->spi_size };
	memcpy(out->spi, p->spi, p->spi_size);
}

/* rekey: a CREATE_CHILD_SA (ESP: the DH group counts; IKE: an 8-byte SPI is required) */
static int
choose(const struct ike_sa *offer, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
       bool rekey, struct ike_choice *out)
{
	for (uint8_t i = 0; i < offer->n_proposals; i++) {
		const struct ike_wire_proposal *p = &offer->prop[i];

		if (!spi_size_ok(p, proto) || (rekey && proto == IKE_PROTO_IKE && p->spi_size != 8))
			continue;
		for (uint8_t j = 0; j < n; j++) {
			if (matches(p, &cfg[j], proto, rekey)) {
				choice(p, &cfg[j], out);
				out->pfs = rekey && proto == IKE_PROTO_ESP && cfg[j].dh != 0;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int
ike_prop_choose(const struct ike_sa *offer, uint8_t proto, const struct ike_proposal *cfg,
		uint8_t n, struct ike_choice *out)
{
	return choose(offer, proto, cfg, n, false, out);
}

int
ike_prop_choose_rekey(const struct ike_sa *offer, uint8_t proto, const struct ike_proposal *cfg,
		      uint8_t n, struct ike_choice *out)
{
	return choose(offer, proto, cfg, n, true, out);
}

int
ike_prop_choose_any(const struct ike_config *cfg, const struct ike_sa *offer,
		    struct ike_choice *out)
{
	for (uint8_t i = 0; i < offer->n_proposals; i++) {
		const struct ike_wire_proposal *p = &offer->prop[i];

		if (!spi_size_ok(p, IKE_PROTO_IKE) || p->spi_size != 0)
			continue;
		for (uint16_t k = 0; k < cfg->n_peers; k++) {
			uint8_t n;
			const struct ike_proposal *list = ike_prop_list(&cfg->peers[k], true, &n);

			for (uint8_t j = 0; j < n; j++) {
				if (matches(p, &list[j], IKE_PROTO_IKE, true)) {
					choice(p, &list[j], out);
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

bool
ike_prop_allowed(const struct ike_peer_cfg *peer, const struct ike_choice *ch)
{
	uint8_t n;
	const struct ike_proposal *list = ike_prop_list(peer, true, &n);

	for (uint8_t j = 0; j < n; j++)
		if (list[j].encr == ch->encr && key_bits(&list[j]) == ch->key_bits &&
		    list[j].prf == ch->prf && list[j].dh == ch->dh)
			return true;
	return false;
}

/* ---- building ---- */

static void
add_xf(struct ike_wire_proposal *p, uint8_t type, uint16_t id)
{
	p->xf[p->n_transforms++] = (struct ike_transform){ .type = type, .id = id };
}

static void
add_encr(struct ike_wire_proposal *p, uint16_t encr, uint16_t bits)
{
	add_xf(p, IKE_XF_ENCR, encr);
	if (encr != IKE_ENCR_CHACHA20_POLY1305) {
		p->xf[p->n_transforms - 1].has_key_len = true;
		p->xf[p->n_transforms - 1].key_len = bits;
	}
}

/* esp_dh: ESP proposals carry their configured DH group (PFS in CREATE_CHILD_SA), extra_dh ahead
 * of it */
static void
offer(struct ike_sa *out, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
      const uint8_t *spi, uint8_t spi_size, uint16_t extra_dh, bool esp_dh)
{
	memset(out, 0, sizeof(*out));
	for (uint8_t i = 0; i < n && i < IKE_WIRE_MAX_PROPOSALS; i++) {
		struct ike_wire_proposal *p = &out->prop[out->n_proposals++];
		const struct ike_proposal *c = &cfg[i];

		p->num = (uint8_t)(i + 1);
		p->proto = proto;
		p->spi_size = spi_size;
		if (spi_size > 0)
			memcpy(p->spi, spi, spi_size);
		add_encr(p, c->encr, key_bits(c));
		if (proto == IKE_PROTO_IKE) {
			add_xf(p, IKE_XF_PRF, c->prf);
			if (extra_dh != 0 && extra_dh != c->dh)
				add_xf(p, IKE_XF_DH, extra_dh);
			add_xf(p, IKE_XF_DH, c->dh);
		} else {
			if (esp_dh && c->dh != 0) {
				if (extra_dh != 0 && extra_dh != c->dh)
					add_xf(p, IKE_XF_DH, extra_dh);
				add_xf(p, IKE_XF_DH, c->dh);
			}
			add_xf(p, IKE_XF_ESN, c->esn ? IKE_ESN_YES : IKE_ESN_NO);
		}
	}
}

void
ike_prop_offer(struct ike_sa *out, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
	       const uint8_t *spi, uint8_t spi_size, uint16_t extra_dh)
{
	offer(out, proto, cfg, n, spi, spi_size, extra_dh, false);
}

void
ike_prop_offer_rekey(struct ike_sa *out, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
		     const uint8_t *spi, uint8_t spi_size, uint16_t extra_dh)
{
	offer(out, proto, cfg, n, spi, spi_size, extra_dh, true);
}

void
ike_prop_answer(struct ike_sa *out, uint8_t proto, const struct ike_choice *ch, const uint8_t *spi,
		uint8_t spi_size)
{
	struct ike_wire_proposal *p = &out->prop[0];

	memset(out, 0, sizeof(*out));
	out->n_proposals = 1;
	p->num = ch->num;
	p->proto = proto;
	p->spi_size = spi_size;
	if (spi_size > 0)
		memcpy(p->spi, spi, spi_size);
	add_encr(p, ch->encr, ch->key_bits);
	if (proto == IKE_PROTO_IKE) {
		add_xf(p, IKE_XF_PRF, ch->prf);
		add_xf(p, IKE_XF_DH, ch->dh);
	} else {
		if (ch->pfs)
			add_xf(p, IKE_XF_DH, ch->dh);
		add_xf(p, IKE_XF_ESN, ch->esn ? IKE_ESN_YES : IKE_ESN_NO);
	}
}

static uint8_t
count_type(const struct ike_wire_proposal *p, uint8_t type)
{
	uint8_t n = 0;

	for (uint8_t i = 0; i < p->n_transforms; i++)
		n += p->xf[i].type == type;
	return n;
}

static int
check_answer(const struct ike_sa *answer, uint8_t proto, const struct ike_proposal *cfg, uint8_t n,
	     bool rekey, struct ike_choice *out)
{
	const struct ike_wire_proposal *p = &answer->prop[0];
	const struct ike_proposal *c;

	if (answer->n_proposals != 1 || p->num == 0 || p->num > n || !spi_size_ok(p, proto))
		return -EBADMSG;
	if (proto == IKE_PROTO_IKE && p->spi_size != (rekey ? 8 : 0))
		return -EBADMSG;
	c = &cfg[p->num - 1];
	/* exactly one transform of each type it needs, and nothing else we did not offer */
	if (count_type(p, IKE_XF_ENCR) != 1 || count_type(p, IKE_XF_PRF) > 1 ||
	    count_type(p, IKE_XF_DH) > 1 || count_type(p, IKE_XF_ESN) > 1 ||
	    count_type(p, IKE_XF_INTEG) > 1 ||
	    !matches(p, c, proto, rekey || proto == IKE_PROTO_IKE))
		return -EBADMSG;
	choice(p, c, out);
	out->pfs = rekey && proto == IKE_PROTO_ESP && c->dh != 0;
	return 0;
}

int
ike_prop_check_answer(const struct ike_sa *answer, uint8_t proto, const struct ike_proposal *cfg,
		      uint8_t n, struct ike_choice *out)
{
	return check_answer(answer, proto, cfg, n, false, out);
}

int
ike_prop_check_answer_rekey(const struct ike_sa *answer, uint8_t proto,
			    const struct ike_proposal *cfg, uint8_t n, struct ike_choice *out)
{
	return check_answer(answer, proto, cfg, n, true, out);
}
