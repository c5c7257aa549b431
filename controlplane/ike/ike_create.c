/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the CREATE_CHILD_SA exchanges share (RFC 7296 1.3, 2.8, 2.25): CHILD SA pairs (ike_child.c)
 * and IKE SA rekeys (ike_rekey.c) keep one exchange of ours in flight in struct ike_create (our
 * nonce, our KE's private half, the pair or IKE SA it makes, what a colliding exchange of the
 * peer's made), retry after INVALID_KE_PAYLOAD, decide collisions by the lowest nonce (2.8.1),
 * refuse requests and read the peer's refusals the same way; and a pair the peer asks for (in
 * IKE_AUTH, ike_auth.c, or CREATE_CHILD_SA) is taken the same way (ike_child_take).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

bool
ike_nonce_lower(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	/* octet by octet; a nonce that ends first is the lower one (2.8.1) */
	return c < 0 || (c == 0 && a_len < b_len);
}

void
ike_create_note_peer(struct ike_create *cr, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		     size_t nr_len)
{
	bool ni_low = ike_nonce_lower(ni, ni_len, nr, nr_len);

	cr->collided = true;
	cr->peer_low_len = (uint16_t)(ni_low ? ni_len : nr_len);
	memcpy(cr->peer_low, ni_low ? ni : nr, cr->peer_low_len);
}

bool
ike_create_lost(const struct ike_create *cr, const uint8_t *nr, size_t nr_len)
{
	const uint8_t *low = cr->ni;
	size_t low_len = cr->ni_len;

	if (ike_nonce_lower(nr, nr_len, low, low_len)) {
		low = nr;
		low_len = nr_len;
	}
	return ike_nonce_lower(low, low_len, cr->peer_low, cr->peer_low_len);
}

void
ike_child_refuse(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		 uint16_t type, const uint8_t *data, size_t len)
{
	switch (type) {
	case IKE_N_NO_PROPOSAL_CHOSEN:
		e->st.no_proposal++;
		break;
	case IKE_N_INVALID_KE_PAYLOAD:
		e->st.invalid_ke++;
		break;
	case IKE_N_TS_UNACCEPTABLE:
		e->st.ts_unacceptable++;
		break;
	case IKE_N_INVALID_SYNTAX:
		e->st.bad_message++;
		break;
	default:
		e->st.create_child_refused++;
		break;
	}
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r: CREATE_CHILD_SA refused with %s",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		ike_notify_name(type));
	ike_info_refuse(e, sa, d, type, data, len);
}

const struct ike_notify *
ike_child_error(struct ike_engine *e, const struct ike_sa_obj *sa)
{
	const struct ike_payloads *p = &e->inner;

	for (uint8_t i = 0; i < p->n_notify; i++) {
		if (p->notify[i].type <= IKE_N_ERROR_MAX) {
			const char *name = ike_notify_name(p->notify[i].type);

			e->st.peer_errors++;
			ike_log(e, 1,
				"IKE SA %016llx_i %016llx_r: the peer refused our CREATE_CHILD_SA: "
				"%s (%u)",
				(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
				name != NULL ? name : "error", p->notify[i].type);
			return &p->notify[i];
		}
	}
	return NULL;
}

/* The group an INVALID_KE_PAYLOAD asks for, if we can do it and did not send it: try again. */
bool
ike_create_retry_ke(struct ike_create *cr, const struct ike_notify *n)
{
	uint16_t group = n->len == 2 ? (uint16_t)(n->data[0] << 8 | n->data[1]) : 0;

	if (n->type != IKE_N_INVALID_KE_PAYLOAD || group != IKE_DH_CURVE25519 ||
	    cr->ke_group == 0 || group == cr->ke_group || cr->ke_tries++ >= IKE_INIT_RETRIES)
		return false;
	cr->ke_group = group;
	return cr->dh != NULL || ike_dh_create(group, &cr->dh) == 0;
}

/* A KE payload of cr's group: our public value, or (test hook) random bytes of another group. */
void
ike_create_ke(const struct ike_create *cr, uint8_t fake[IKE_X25519_LEN], struct ike_ke *ke)
{
	ke->group = cr->ke_group;
	if (cr->dh != NULL && cr->ke_group == IKE_DH_CURVE25519) {
		ke->data = ike_dh_public(cr->dh, &ke->len);
	} else {
		randombytes_buf(fake, IKE_X25519_LEN);
		ke->data = fake;
		ke->len = IKE_X25519_LEN;
	}
}

/* A new exchange's state: our nonce, and a KE of group (0: none) unless the test hook asks for
 * another first. */
struct ike_create *
ike_create_new(struct ike_engine *e, uint16_t group)
{
	struct ike_create *cr = calloc(1, sizeof(*cr));

	if (cr == NULL)
		return NULL;
	cr->ni_len = IKE_NONCE_LEN;
	randombytes_buf(cr->ni, cr->ni_len);
	cr->ke_group = group != 0 && e->test_first_ke_group != 0 ? e->test_first_ke_group : group;
	if (group != 0 && ike_dh_create(IKE_DH_CURVE25519, &cr->dh) < 0) {
		free(cr);
		return NULL;
	}
	return cr;
}

void
ike_create_free(struct ike_engine *e, struct ike_sa_obj *sa)
{
	struct ike_create *cr = sa->create;
	struct ike_childsa *old;

	if (cr == NULL)
		return;
	sa->create = NULL;
	if (cr->child != NULL && cr->child->pending)
		ike_child_free(e, cr->child);
	old = cr->ike ? NULL : ike_child_by_id(e, cr->old_id);
	if (old != NULL)
		old->rekeying = false;
	if (cr->new_sa != NULL) {
		cr->new_sa->rekey_parent = NULL;
		if (cr->new_sa->state == IKE_ST_REKEY_NEW)
			ike_sa_free(e, cr->new_sa);
	}
	if (cr->peer_sa != NULL)
		cr->peer_sa->rekey_parent = NULL;
	ike_dh_free(cr->dh);
	sodium_memzero(cr, sizeof(*cr));
	free(cr);
}

int
ike_child_take(struct ike_childsa *c, const struct ike_payloads *p, const struct ike_peer_cfg *peer,
	       const struct ike_choice *ch, const struct esp_ts *allow_l, uint8_t n_l,
	       const struct esp_ts *allow_r, uint8_t n_r)
{
	/* TSi is the initiator's side: the peer's, our remote */
	c->n_remote_ts = ike_ts_narrow(&p->tsi, allow_r, n_r, c->remote_ts);
	c->n_local_ts = ike_ts_narrow(&p->tsr, allow_l, n_l, c->local_ts);
	if (c->n_remote_ts == 0 || c->n_local_ts == 0)
		return -EACCES;
	c->spi_out = ike_rd32(ch->spi);
	c->encr = ch->encr;
	c->key_bits = ch->key_bits;
	c->esn = ch->esn;
	c->mode = ike_find_notify(p, IKE_N_USE_TRANSPORT_MODE) != NULL && peer->allow_transport
			  ? ESP_MODE_TRANSPORT
			  : ESP_MODE_TUNNEL;
	return 0;
}
