/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CREATE_CHILD_SA (RFC 7296 1.3) for CHILD SA pairs, both roles, the dispatch of every
 * CREATE_CHILD_SA, and what waits for the request window (ike_child_kick): rekeys by timer
 * (child_rekey_s, ike_rekey_s, jittered) and by ike_rekey_child() (the router's lifesize event).
 * IKE SA rekeys are in ike_rekey.c, what both share (exchange state, collisions, refusals) in
 * ike_create.c.
 *
 *   CHILD SA rekey (1.3.3, 2.8):
 *   HDR, SK{N(REKEY_SA, ESP, old inbound SPI), [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi], TSi, TSr}
 * -->
 *                    <-- HDR, SK{[N(USE_TRANSPORT_MODE)], SA, Nr, [KEr], TSi, TSr}
 *                    or  HDR, SK{N(TEMPORARY_FAILURE | NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE |
 *                                  INVALID_KE_PAYLOAD(group) | CHILD_SA_NOT_FOUND(ESP, SPI))}
 *
 *   A new pair beside the others (1.3.1; RFC 9611 per-resource CHILD SAs: ike_add_child):
 *   HDR, SK{[N(SA_RESOURCE_INFO, resource)], [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi], TSi, TSr}
 * -->
 *                    <-- HDR, SK{[N(USE_TRANSPORT_MODE)], SA, Nr, [KEr], TSi, TSr}
 *   As responder we take one within the configured selectors (as IKE_AUTH's first pair), up to
 *   IKE_MAX_CHILDREN_PER_SA (then NO_ADDITIONAL_SAS); a pair with the selectors of one we have
 *   comes up as its sibling (sibling_of), so the router keeps their connections together.
 *
 * The new pair has new SPIs, a proposal of the peer's configured ESP list (with PFS, a KE of
 * group 31, when the chosen proposal has a DH group), the old pair's selectors (a responder
 * narrows the offer to them), and KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) of this exchange's
 * nonces (2.17). Make-before-break: the responder hands the new pair to child_up (rekey_of = the
 * old pair's id) before it answers; the initiator when the answer arrives, and then deletes the
 * old pair with an INFORMATIONAL Delete (2.8); each side's child_down of the old pair follows
 * that Delete (the responder's when it arrives, the initiator's when it is answered).
 *
 * Collisions (2.8.1, 2.25.1): a peer's rekey of a pair we are rekeying ourselves is answered as
 * usual; when our answer arrives, the exchange with the lowest of the four nonces made the
 * redundant pair and its initiator deletes it, the other one's initiator deletes the old pair.
 * A rekey of a pair being deleted, or while the IKE SA is being rekeyed, is answered
 * TEMPORARY_FAILURE (and ours is retried after REKEY_RETRY_S); of a pair we do not know,
 * CHILD_SA_NOT_FOUND (the initiator then drops the old pair without a Delete). A pair the peer
 * deletes while we rekey it just goes (our exchange, if it completes, leaves the new one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

#define REKEY_RETRY_S 10 /* after TEMPORARY_FAILURE and other refusals (2.25: not at once) */

/* ---- responder --------------------------------------------------------------------------------
 */

static void
refuse_not_found(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		 const struct ike_notify *rekey)
{
	struct ike_writer w;

	/* the SPI copied from REKEY_SA (2.25) */
	e->st.create_child_refused++;
	ike_log(e, 1,
		"IKE SA %016llx_i %016llx_r: rekey of a CHILD SA we do not have: "
		"CHILD_SA_NOT_FOUND",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
	ike_msg_begin(e, sa, &w, IKE_CREATE_CHILD_SA, true, e->msg.hdr.msg_id);
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_CHILD_SA_NOT_FOUND,
						.proto = rekey->proto,
						.spi_size = rekey->spi_size,
						.spi = rekey->spi });
	ike_send_response(e, sa, &w, d);
}

/* KEYMAT of a pair made by CREATE_CHILD_SA (2.17) to child_up. initiated: we sent the request.
 * 0 or -errno. */
static int
keymat_up(struct ike_engine *e, struct ike_childsa *c, bool initiated, const struct ike_dh *dh,
	  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len, uint64_t now)
{
	struct ike_child_keymat *km;
	const uint8_t *gir = NULL;
	size_t gir_len = 0;
	int rc;

	if (dh != NULL)
		gir = ike_dh_shared(dh, &gir_len);
	rc = ike_keys_child_keymat(c->sa->keys, c->encr, c->key_bits, gir, gir_len, ni, ni_len, nr,
				   nr_len, &km);
	if (rc < 0)
		return rc;
	/* "initiator to responder" is this exchange's initiator, which is not the IKE SA's when its
	 * responder rekeys; ike_child_up splits by the IKE SA's roles */
	if (initiated != c->sa->initiator) {
		uint8_t t[IKE_AEAD_KEYMAT_MAX];

		memcpy(t, km->i2r, sizeof(t));
		memcpy(km->i2r, km->r2i, sizeof(t));
		memcpy(km->r2i, t, sizeof(t));
		sodium_memzero(t, sizeof(t));
	}
	rc = ike_child_up(e, c, km, now);
	ike_child_keymat_free(km);
	return rc;
}

/* An up pair with exactly c's selectors and mode, other than c: what a pair the peer adds beside
 * it serves the same traffic as (its connections keep their target), or NULL. */
static struct ike_childsa *
same_traffic(const struct ike_sa_obj *sa, const struct ike_childsa *c)
{
	for (struct ike_childsa *o = sa->children; o != NULL; o = o->next)
		if (o != c && o->up && o->replaced_by == 0 && o->mode == c->mode &&
		    o->n_local_ts == c->n_local_ts && o->n_remote_ts == c->n_remote_ts &&
		    memcmp(o->local_ts, c->local_ts, c->n_local_ts * sizeof(c->local_ts[0])) == 0 &&
		    memcmp(o->remote_ts, c->remote_ts, c->n_remote_ts * sizeof(c->remote_ts[0])) ==
			    0)
			return o;
	return NULL;
}

/* The peer rekeys the pair its REKEY_SA names (rn), or without one adds a pair (1.3.1): within
 * the configured selectors, as IKE_AUTH's first pair. */
static void
create_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
	       const struct ike_notify *rn, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);
	struct ike_create *cr = sa->create;
	const struct ike_proposal *list;
	struct ike_childsa *old = NULL, *c;
	struct ike_dh *dh = NULL;
	struct ike_writer w;
	struct ike_choice ch;
	struct ike_ts ts;
	struct esp_ts allow_l[ESP_MAX_TS], allow_r[ESP_MAX_TS];
	uint8_t n, n_l, n_r, spi[4], nr[IKE_NONCE_LEN], group[2];
	uint16_t error;

	if (rn != NULL && rn->proto == IKE_PROTO_ESP && rn->spi_size == 4)
		old = ike_child_by_spi_out(sa, ike_rd32(rn->spi));
	if (rn != NULL && old == NULL) {
		refuse_not_found(e, sa, d, rn);
		return;
	}
	/* 2.25.1 / 2.25.2: closing it, or rekeying the IKE SA */
	if ((old != NULL && (old->delete_queued || old->deleting)) || (cr != NULL && cr->ike)) {
		ike_child_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_NONCE) || !ike_has(p, IKE_PT_TSI) ||
	    !ike_has(p, IKE_PT_TSR)) {
		ike_child_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	list = ike_prop_list(peer, false, &n);
	if (ike_prop_choose_rekey(&p->sa, IKE_PROTO_ESP, list, n, &ch) < 0 ||
	    ike_rd32(ch.spi) < 256) {
		ike_child_refuse(e, sa, d, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (ch.pfs && (!ike_has(p, IKE_PT_KE) || p->ke.group != ch.dh)) {
		group[0] = (uint8_t)(ch.dh >> 8);
		group[1] = (uint8_t)ch.dh;
		ike_child_refuse(e, sa, d, IKE_N_INVALID_KE_PAYLOAD, group, sizeof(group));
		return;
	}
	c = ike_child_new(e, sa);
	if (c == NULL) {
		ike_child_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	/* the old pair's selectors, or the configured ones, as far as the offer covers them (TSi:
	 * the peer's side) */
	if (old != NULL) {
		n_l = old->n_local_ts;
		n_r = old->n_remote_ts;
		memcpy(allow_l, old->local_ts, sizeof(allow_l));
		memcpy(allow_r, old->remote_ts, sizeof(allow_r));
	} else {
		ike_ts_allowed(sa, peer, &p->tsi, allow_l, &n_l, allow_r, &n_r);
	}
	error = IKE_N_TS_UNACCEPTABLE;
	if (ike_child_take(c, p, peer, &ch, allow_l, n_l, allow_r, n_r) < 0)
		goto fail;
	if (old != NULL) {
		c->rekey_of = old->id;
		c->resource = old->resource;
	} else {
		const struct ike_childsa *twin = same_traffic(sa, c);

		c->sibling_of = twin != NULL ? twin->id : 0;
	}
	randombytes_buf(nr, sizeof(nr));
	/* a bad KE (low order) or nonce, or child_up refusing: as strongSwan says, no proposal */
	error = IKE_N_NO_PROPOSAL_CHOSEN;
	if (ch.pfs &&
	    (ike_dh_create(ch.dh, &dh) < 0 || ike_dh_compute(dh, p->ke.data, p->ke.len) < 0))
		goto fail;
	if (keymat_up(e, c, false, dh, p->nonce.data, p->nonce.len, nr, sizeof(nr), now) < 0)
		goto fail;
	if (old == NULL) {
		e->st.child_added++;
	} else if (cr != NULL && cr->old_id == old->id) {
		/* 2.8.1: ours is in flight; the answer to it decides */
		ike_create_note_peer(cr, p->nonce.data, p->nonce.len, nr, sizeof(nr));
		cr->peer_child = c->id;
		e->st.rekey_collisions++;
		ike_log(e, 1, "child %u: the peer rekeys it too (collision), its pair is %u",
			old->id, c->id);
	}
	if (old != NULL) {
		old->replaced_by = c->id;
		old->want_rekey = false;
		c->want_res = old->want_res; /* pairs asked for beside it: beside its successor */
		old->want_res = 0;
	}

	ike_msg_begin(e, sa, &w, IKE_CREATE_CHILD_SA, true, e->msg.hdr.msg_id);
	if (c->mode == ESP_MODE_TRANSPORT)
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE });
	ike_put32(spi, c->spi_in);
	ike_prop_answer(&e->wsa, IKE_PROTO_ESP, &ch, spi, sizeof(spi));
	ike_wr_sa(&w, &e->wsa);
	ike_wr_nonce(&w, nr, sizeof(nr));
	if (dh != NULL) {
		struct ike_ke ke = { .group = ch.dh };

		ke.data = ike_dh_public(dh, &ke.len);
		ike_wr_ke(&w, &ke);
	}
	ike_ts_list_to_wire(c->remote_ts, c->n_remote_ts, &ts);
	ike_wr_ts(&w, IKE_PT_TSI, &ts);
	ike_ts_list_to_wire(c->local_ts, c->n_local_ts, &ts);
	ike_wr_ts(&w, IKE_PT_TSR, &ts);
	ike_send_response(e, sa, &w, d);
	ike_dh_free(dh);
	sodium_memzero(nr, sizeof(nr));
	if (old != NULL)
		ike_log(e, 1, "child %u rekeyed by the peer: pair %u%s", old->id, c->id,
			dh != NULL ? " (PFS)" : "");
	else
		ike_log(e, 1, "pair %u added by the peer (beside %u)%s", c->id, c->sibling_of,
			dh != NULL ? " (PFS)" : "");
	return;

fail:
	ike_dh_free(dh);
	sodium_memzero(nr, sizeof(nr));
	ike_child_free(e, c);
	ike_child_refuse(e, sa, d, error, NULL, 0);
}

void
ike_child_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		  uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	const struct ike_notify *rn = ike_find_notify(p, IKE_N_REKEY_SA);

	if (sa->state != IKE_ST_ESTABLISHED) {
		/* going away (2.25.2), or not up yet */
		if (sa->state == IKE_ST_DELETING || sa->state == IKE_ST_REKEYED)
			ike_child_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		else
			ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (rn == NULL && ike_has(p, IKE_PT_SA) && p->sa.n_proposals > 0 &&
	    p->sa.prop[0].proto == IKE_PROTO_IKE)
		ike_rekey_request(e, sa, d, now);
	else if (rn == NULL && sa->n_children >= IKE_MAX_CHILDREN_PER_SA)
		ike_child_refuse(e, sa, d, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
	else
		create_request(e, sa, d, rn, now);
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}

/* ---- initiator --------------------------------------------------------------------------------
 */

/* Our request (again, after INVALID_KE_PAYLOAD): the pending pair c replaces the pair it names,
 * or (old_id 0) is added beside one for its resource. */
static int
rekey_send(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_create *cr = sa->create;
	const struct ike_childsa *c = cr->child;
	const struct ike_childsa *old = ike_child_by_id(e, cr->old_id);
	const struct ike_proposal *list;
	uint8_t n, spi[4], old_spi[4], res[2], fake[IKE_X25519_LEN];
	struct ike_writer w;
	struct ike_ts ts;

	if ((cr->old_id != 0 && old == NULL) || c == NULL)
		return -ENOENT;
	list = ike_prop_list(ike_sa_peer(e, sa), false, &n);
	ike_put32(spi, c->spi_in);
	ike_msg_begin(e, sa, &w, IKE_CREATE_CHILD_SA, false, sa->tx_next);
	if (old != NULL) {
		ike_put32(old_spi, old->spi_in);
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_REKEY_SA,
							.proto = IKE_PROTO_ESP,
							.spi_size = 4,
							.spi = old_spi });
	} else if (c->resource != 0) {
		/* RFC 9611 3.1: an opaque resource identifier; a peer without it ignores it */
		res[0] = (uint8_t)(c->resource >> 8);
		res[1] = (uint8_t)c->resource;
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_SA_RESOURCE_INFO,
							.data = res,
							.len = sizeof(res) });
	}
	if (c->mode == ESP_MODE_TRANSPORT)
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE });
	ike_prop_offer_rekey(&e->wsa, IKE_PROTO_ESP, list, n, spi, sizeof(spi),
			     cr->ke_group != IKE_DH_CURVE25519 ? cr->ke_group : 0);
	ike_wr_sa(&w, &e->wsa);
	ike_wr_nonce(&w, cr->ni, cr->ni_len);
	if (cr->ke_group != 0) {
		struct ike_ke ke;

		ike_create_ke(cr, fake, &ke);
		ike_wr_ke(&w, &ke);
	}
	ike_ts_list_to_wire(c->local_ts, c->n_local_ts, &ts);
	ike_wr_ts(&w, IKE_PT_TSI, &ts);
	ike_ts_list_to_wire(c->remote_ts, c->n_remote_ts, &ts);
	ike_wr_ts(&w, IKE_PT_TSR, &ts);
	return ike_send_request(e, sa, &w, IKE_REQ_CREATE_CHILD, now);
}

/* A CREATE_CHILD_SA of ours for a pair like tmpl: its rekey (resource 0), or one more pair
 * beside it for resource. */
static int
rekey_start(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_childsa *tmpl,
	    uint16_t resource, uint64_t now)
{
	struct ike_childsa *old = resource == 0 ? tmpl : NULL;
	const struct ike_proposal *list;
	struct ike_childsa *c;
	struct ike_create *cr;
	uint16_t group = 0;
	uint8_t n;
	int rc;

	/* PFS when the configured ESP proposals carry a group (all the same: 31) */
	list = ike_prop_list(ike_sa_peer(e, sa), false, &n);
	for (uint8_t i = 0; i < n; i++)
		if (list[i].dh != 0)
			group = list[i].dh;
	cr = ike_create_new(e, group);
	if (cr == NULL)
		return -ENOMEM;
	c = ike_child_new(e, sa);
	if (c == NULL) {
		ike_dh_free(cr->dh);
		free(cr);
		return -ENOMEM;
	}
	c->pending = true;
	c->mode = tmpl->mode;
	c->n_local_ts = tmpl->n_local_ts;
	c->n_remote_ts = tmpl->n_remote_ts;
	memcpy(c->local_ts, tmpl->local_ts, sizeof(c->local_ts));
	memcpy(c->remote_ts, tmpl->remote_ts, sizeof(c->remote_ts));
	if (old != NULL) {
		c->rekey_of = old->id;
		c->resource = old->resource;
		cr->old_id = old->id;
	} else {
		c->sibling_of = tmpl->id;
		c->resource = resource;
	}
	cr->child = c;
	sa->create = cr;
	rc = rekey_send(e, sa, now);
	if (rc < 0) {
		ike_create_free(e, sa);
		return rc;
	}
	if (old != NULL) {
		old->rekeying = true;
		old->want_rekey = false;
		ike_log(e, 1, "child %u: rekeying (new inbound SPI %08x%s)", old->id, c->spi_in,
			group != 0 ? ", PFS" : "");
	} else {
		ike_log(e, 1, "child %u: adding a pair for resource %u (inbound SPI %08x%s)",
			tmpl->id, resource, c->spi_in, group != 0 ? ", PFS" : "");
	}
	return 0;
}

/* The answer's pair: within what we proposed, one of our proposals, keys. 0 or -EBADMSG. */
static int
rekey_accept(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_create *cr, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct ike_childsa *c = cr->child;
	struct esp_ts l[ESP_MAX_TS], r[ESP_MAX_TS];
	const struct ike_proposal *list;
	struct ike_choice ch;
	uint8_t n, n_l = c->n_local_ts, n_r = c->n_remote_ts;

	memcpy(l, c->local_ts, sizeof(l));
	memcpy(r, c->remote_ts, sizeof(r));
	list = ike_prop_list(ike_sa_peer(e, sa), false, &n);
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_NONCE) || !ike_has(p, IKE_PT_TSI) ||
	    !ike_has(p, IKE_PT_TSR) ||
	    ike_prop_check_answer_rekey(&p->sa, IKE_PROTO_ESP, list, n, &ch) < 0 ||
	    ike_rd32(ch.spi) < 256)
		return -EBADMSG;
	c->spi_out = ike_rd32(ch.spi);
	c->encr = ch.encr;
	c->key_bits = ch.key_bits;
	c->esn = ch.esn;
	c->mode = c->mode == ESP_MODE_TRANSPORT &&
				  ike_find_notify(p, IKE_N_USE_TRANSPORT_MODE) != NULL
			  ? ESP_MODE_TRANSPORT
			  : ESP_MODE_TUNNEL;
	if (!ike_ts_within(&p->tsi, l, n_l, c->local_ts, &c->n_local_ts) ||
	    !ike_ts_within(&p->tsr, r, n_r, c->remote_ts, &c->n_remote_ts))
		return -EBADMSG;
	if (ch.pfs && (!ike_has(p, IKE_PT_KE) || p->ke.group != cr->ke_group || cr->dh == NULL ||
		       ike_dh_compute(cr->dh, p->ke.data, p->ke.len) < 0))
		return -EBADMSG;
	c->pending = false;
	if (keymat_up(e, c, true, ch.pfs ? cr->dh : NULL, cr->ni, cr->ni_len, p->nonce.data,
		      p->nonce.len, now) < 0)
		return -EIO;
	return 0;
}

static void
rekey_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct ike_create *cr = sa->create;
	struct ike_childsa *c = cr->child, *old = ike_child_by_id(e, cr->old_id), *theirs = NULL;
	const struct ike_notify *err = ike_child_error(e, sa);
	bool lost = false;
	int rc;

	if (err != NULL && ike_create_retry_ke(cr, err)) {
		if (rekey_send(e, sa, now) == 0)
			return;
	}
	if (err != NULL || c == NULL) {
		if (err != NULL && err->type == IKE_N_CHILD_SA_NOT_FOUND && old != NULL) {
			/* 2.25: it is gone at the peer; so it is here (we make no new pair) */
			ike_log(e, 1, "child %u: the peer does not know it, dropped", old->id);
			e->st.deletes++;
			ike_child_free(e, old);
			old = NULL;
		}
		if (old != NULL && old->replaced_by == 0)
			old->rekey_ms = ike_rekey_time(now, REKEY_RETRY_S);
		ike_create_free(e, sa);
		return;
	}
	rc = rekey_accept(e, sa, cr, now);
	if (rc < 0) {
		/* the peer installed a pair we cannot use: delete it (our inbound SPI names it) */
		if (rc == -EBADMSG) {
			e->st.bad_message++;
			ike_log(e, 1, "child %u: the rekey answer is not one we can take",
				cr->old_id);
		}
		c->pending = false;
		c->delete_queued = true;
		cr->child = NULL;
		if (old != NULL && old->replaced_by == 0)
			old->rekey_ms = ike_rekey_time(now, REKEY_RETRY_S);
		ike_create_free(e, sa);
		return;
	}
	if (cr->old_id == 0)
		e->st.child_added++;
	if (cr->collided)
		theirs = ike_child_by_id(e, cr->peer_child);
	if (theirs != NULL) {
		/* 2.8.1: the exchange with the lowest nonce made the redundant pair */
		lost = ike_create_lost(cr, p->nonce.data, p->nonce.len);
		ike_log(e, 1, "child %u: rekey collision %s, deleting %s %u", cr->old_id,
			lost ? "lost" : "won", lost ? "our redundant pair" : "the old pair",
			lost ? c->id : cr->old_id);
	}
	if (lost) {
		c->delete_queued = true;
	} else {
		/* theirs is redundant: the peer deletes it (no rekey of ours meanwhile) */
		if (theirs != NULL)
			theirs->replaced_by = c->id;
		if (old != NULL) {
			old->replaced_by = c->id;
			c->want_res |= old->want_res;
			old->want_res = 0;
			if (!old->deleting)
				old->delete_queued = true;
		}
	}
	cr->child = NULL;
	ike_create_free(e, sa);
}

void
ike_child_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	ike_req_done(sa);
	if (sa->create != NULL && sa->create->ike)
		ike_rekey_response(e, sa, now);
	else if (sa->create != NULL)
		rekey_response(e, sa, now);
	/* the old pair's Delete, what else waits; sa itself may be rekeyed now */
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}

/* ---- timers and the router's requests ----------------------------------------------------------
 */

static bool
eligible(const struct ike_childsa *c)
{
	return c->up && !c->pending && !c->rekeying && c->replaced_by == 0 && !c->delete_queued &&
	       !c->deleting;
}

uint64_t
ike_child_next_rekey(struct ike_sa_obj *sa, const struct ike_peer_cfg *peer)
{
	uint64_t d;

	if (sa->rekey_ms == 0)
		sa->rekey_ms =
			ike_rekey_time(sa->established_ms, peer != NULL ? peer->ike_rekey_s : 0);
	d = sa->rekey_ms;
	for (const struct ike_childsa *c = sa->children; c != NULL; c = c->next) {
		if (!eligible(c))
			continue;
		if (c->want_rekey || c->want_res != 0)
			return 0;
		if (c->rekey_ms < d)
			d = c->rekey_ms;
	}
	return d;
}

bool
ike_child_kick(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	if (sa->req.kind != IKE_REQ_NONE || sa->state != IKE_ST_ESTABLISHED || sa->create != NULL)
		return false;
	ike_child_next_rekey(sa, ike_sa_peer(e, sa));
	if (now >= sa->rekey_ms) {
		if (ike_rekey_start(e, sa, now) == 0)
			return true;
		sa->rekey_ms = ike_rekey_time(now, REKEY_RETRY_S);
	}
	for (struct ike_childsa *c = sa->children; c != NULL; c = c->next) {
		if (!eligible(c) || (!c->want_rekey && now < c->rekey_ms))
			continue;
		if (rekey_start(e, sa, c, 0, now) == 0)
			return true;
		c->want_rekey = false;
		c->rekey_ms = ike_rekey_time(now, REKEY_RETRY_S);
	}
	for (struct ike_childsa *c = sa->children; c != NULL; c = c->next) {
		uint16_t res;

		if (!eligible(c) || c->want_res == 0)
			continue;
		res = (uint16_t)(__builtin_ctz(c->want_res) + 1);
		c->want_res &= ~(1u << (res - 1));
		if (rekey_start(e, sa, c, res, now) == 0)
			return true;
	}
	return false;
}

int
ike_add_child(struct ike_engine *e, uint32_t child_id, uint16_t resource, uint64_t now)
{
	struct ike_childsa *c = ike_child_by_id(e, child_id);
	const struct ike_create *cr;
	uint32_t bit;

	if (resource == 0 || resource > IKE_MAX_RESOURCE)
		return -EINVAL;
	if (c == NULL || !c->up || c->delete_queued || c->deleting)
		return -ENOENT;
	bit = 1u << (resource - 1);
	cr = c->sa->create;
	if ((c->want_res & bit) || (cr != NULL && !cr->ike && cr->old_id == 0 &&
				    cr->child != NULL && cr->child->resource == resource))
		return -EBUSY;
	c->want_res |= bit;
	ike_info_kick(e, c->sa, now);
	ike_sa_schedule(e, c->sa);
	return 0;
}

int
ike_rekey_child(struct ike_engine *e, uint32_t child_id, uint64_t now)
{
	struct ike_childsa *c = ike_child_by_id(e, child_id);
	struct ike_sa_obj *sa;

	if (c == NULL || !c->up || c->delete_queued || c->deleting)
		return -ENOENT;
	if (c->rekeying || c->want_rekey || c->replaced_by != 0)
		return -EBUSY;
	c->want_rekey = true;
	sa = c->sa;
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
	return 0;
}

int
ike_rekey_ike(struct ike_engine *e, uint16_t peer, uint64_t now)
{
	int found = 0, busy = 0;

	for (uint32_t i = 0; i < e->n_sa; i++) {
		struct ike_sa_obj *sa = e->heap[i];

		if (sa->peer != peer || sa->state != IKE_ST_ESTABLISHED)
			continue;
		if (sa->create != NULL && sa->create->ike) {
			busy++;
			continue;
		}
		found++;
		if (sa->rekey_ms > now) {
			/* due now; the heap moves under us: look again (each SA once: now <= now)
			 */
			sa->rekey_ms = now;
			ike_sa_schedule(e, sa);
			i = (uint32_t)-1;
			found = busy = 0;
		}
	}
	if (found == 0)
		return busy > 0 ? -EBUSY : -ENOENT;
	ike_tick(e, now);
	return 0;
}
