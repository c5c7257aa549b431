/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE SA rekey (RFC 7296 1.3.2, 2.18) over CREATE_CHILD_SA, both roles (ike_child.c dispatches
 * the exchange and starts ours when ike_rekey_s is up):
 *
 *   HDR(old SA), SK{SA(IKE, SPIi of the new SA), Ni, KEi} -->
 *                            <-- HDR(old SA), SK{SA(IKE, SPIr of the new SA), Nr, KEr}
 *                            or  HDR, SK{N(TEMPORARY_FAILURE | NO_PROPOSAL_CHOSEN |
 *                                         INVALID_KE_PAYLOAD(group))}
 *   HDR(old SA), SK{D(IKE)} -->  <-- HDR(old SA), SK{}          (the rekey's initiator)
 *
 * The new SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) (ike_keys_rekey), the rekey's
 * initiator is its initiator, message IDs from 0, the old SA's endpoints and NAT state. Every
 * CHILD SA moves to it with its id: the pairs themselves do not change (no child_up or
 * child_down). The responder moves them when it answers and keeps the old SA (IKE_ST_REKEYED:
 * it answers requests, starts none) until the initiator's Delete, or half_open_timeout_s.
 *
 * Collisions (2.8.2, 2.25.2): a peer's IKE rekey while ours is in flight is answered as usual,
 * but the children stay on the old SA until our answer comes: the exchange with the lowest of
 * the four nonces made the redundant SA, which its initiator deletes; the other exchange's
 * initiator deletes the old SA; the children go to the surviving SA. A peer that deletes the old
 * SA before our answer comes has won (ike_child_ike_deleted). The peer's redundant SA waits for
 * its Delete (or half_open_timeout_s). A peer's IKE rekey while we create, rekey or delete a
 * CHILD SA or delete the IKE SA is answered TEMPORARY_FAILURE (and a CHILD rekey while the IKE
 * SA is being rekeyed, in ike_child.c); ours is retried after a while.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

#define REKEY_RETRY_S 10

/* What the new SA takes from the old one. */
static void
inherit(struct ike_sa_obj *n, const struct ike_sa_obj *old, const struct ike_choice *ch)
{
	n->peer = old->peer;
	n->ep = old->ep;
	n->natt = old->natt;
	n->nat_here = old->nat_here;
	n->nat_there = old->nat_there;
	n->suite = (struct ike_crypto_suite){
		.encr = ch->encr, .encr_key_bits = ch->key_bits, .prf = ch->prf, .dh = ch->dh
	};
}

static void
establish(struct ike_engine *e, struct ike_sa_obj *n, const struct ike_sa_obj *old, uint64_t now)
{
	n->state = IKE_ST_ESTABLISHED;
	n->established_ms = now;
	n->last_rx_ms = now;
	n->tx_next = n->rx_next = 0;
	e->st.ike_rekeys++;
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r with %s: the rekey of %016llx_i %016llx_r (%s)",
		(unsigned long long)n->spi_i, (unsigned long long)n->spi_r, ike_sa_peer(e, n)->name,
		(unsigned long long)old->spi_i, (unsigned long long)old->spi_r,
		n->initiator ? "initiator" : "responder");
}

/* from is replaced by to: its children move, it waits for the peer's Delete. */
static void
hand_over(struct ike_engine *e, struct ike_sa_obj *from, struct ike_sa_obj *to, uint64_t now)
{
	while (from->children != NULL)
		ike_child_move(from->children, to);
	from->state = IKE_ST_REKEYED;
	from->expire_ms = now + e->half_open_ms;
	from->want_dpd = false;
	ike_sa_schedule(e, from);
	ike_info_kick(e, to, now);
	ike_sa_schedule(e, to);
}

/* Our Delete of the IKE SA s (the old one, or our redundant one). */
static void
delete_sa(struct ike_engine *e, struct ike_sa_obj *s, uint64_t now)
{
	struct ike_writer w;

	ike_msg_begin(e, s, &w, IKE_INFORMATIONAL, false, s->tx_next);
	ike_wr_delete(&w, &(struct ike_delete){ .proto = IKE_PROTO_IKE });
	if (ike_send_request(e, s, &w, IKE_REQ_DELETE_IKE, now) == 0) {
		s->state = IKE_ST_DELETING;
	} else {
		s->state = IKE_ST_REKEYED; /* gone after the timeout */
		s->expire_ms = now + e->half_open_ms;
	}
	ike_sa_schedule(e, s);
}

/* Our rekey failed, or the peer deleted the old SA: a colliding exchange of the peer's takes the
 * children. */
static void
conclude(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	struct ike_sa_obj *other = sa->create->peer_sa;

	if (other == NULL)
		return;
	sa->create->peer_sa = NULL;
	other->rekey_parent = NULL;
	hand_over(e, sa, other, now);
}

void
ike_child_ike_deleted(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	if (sa->create == NULL || !sa->create->ike || sa->create->peer_sa == NULL)
		return;
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r: deleted by the peer, its rekey won",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
	conclude(e, sa, now);
}

/* ---- responder --------------------------------------------------------------------------------
 */

void
ike_rekey_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		  uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct ike_create *cr = sa->create;
	const struct ike_proposal *list;
	struct ike_sa_obj *n;
	struct ike_dh *dh = NULL;
	struct ike_kex kex = { 0 };
	struct ike_writer w;
	struct ike_choice ch;
	struct ike_ke ke = { .group = IKE_DH_CURVE25519 };
	uint8_t cnt, nr[IKE_NONCE_LEN], spi[8], group[2];
	int rc;

	/* 2.25.2: creating, rekeying or deleting a CHILD SA, or deleting the IKE SA */
	if ((cr != NULL && !cr->ike) || sa->req.kind == IKE_REQ_DELETE_CHILD || sa->want_delete) {
		ike_child_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_NONCE) || !ike_has(p, IKE_PT_KE)) {
		ike_child_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	list = ike_prop_list(ike_sa_peer(e, sa), true, &cnt);
	if (ike_prop_choose_rekey(&p->sa, IKE_PROTO_IKE, list, cnt, &ch) < 0 ||
	    ike_rd64(ch.spi) == 0) {
		ike_child_refuse(e, sa, d, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (p->ke.group != ch.dh) {
		group[0] = (uint8_t)(ch.dh >> 8);
		group[1] = (uint8_t)ch.dh;
		ike_child_refuse(e, sa, d, IKE_N_INVALID_KE_PAYLOAD, group, sizeof(group));
		return;
	}
	n = ike_sa_new(e, false, now);
	if (n == NULL) {
		ike_child_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	n->spi_i = ike_rd64(ch.spi);
	inherit(n, sa, &ch);
	randombytes_buf(nr, sizeof(nr));
	rc = ike_dh_create(IKE_DH_CURVE25519, &dh);
	if (rc == 0)
		rc = ike_dh_compute(dh, p->ke.data, p->ke.len);
	if (rc == 0) {
		kex = (struct ike_kex){
			.ni = p->nonce.data, .ni_len = p->nonce.len, .nr = nr, .nr_len = sizeof(nr)
		};
		kex.gir = ike_dh_shared(dh, &kex.gir_len);
		ike_put64(kex.spi_i, n->spi_i);
		ike_put64(kex.spi_r, n->spi_r);
		rc = ike_keys_rekey(sa->keys, &n->suite, false, &kex, &n->keys);
	}
	if (rc < 0) {
		/* a low-order KE, a nonce too short for the PRF */
		ike_dh_free(dh);
		ike_sa_free(e, n);
		ike_child_refuse(e, sa, d, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	establish(e, n, sa, now);
	ike_msg_begin(e, sa, &w, IKE_CREATE_CHILD_SA, true, e->msg.hdr.msg_id);
	ike_put64(spi, n->spi_r);
	ike_prop_answer(&e->wsa, IKE_PROTO_IKE, &ch, spi, sizeof(spi));
	ike_wr_sa(&w, &e->wsa);
	ike_wr_nonce(&w, nr, sizeof(nr));
	ke.data = ike_dh_public(dh, &ke.len);
	ike_wr_ke(&w, &ke);
	ike_send_response(e, sa, &w, d);
	ike_dh_free(dh);
	if (cr != NULL) {
		/* 2.8.2: ours is in flight; its answer decides, the children wait on the old SA */
		ike_create_note_peer(cr, p->nonce.data, p->nonce.len, nr, sizeof(nr));
		cr->peer_sa = n;
		n->rekey_parent = sa;
		e->st.rekey_collisions++;
		ike_log(e, 1, "IKE SA %016llx_i %016llx_r: the peer rekeys it too (collision)",
			(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
		ike_sa_schedule(e, n);
	} else {
		hand_over(e, sa, n, now);
	}
	sodium_memzero(nr, sizeof(nr));
}

/* ---- initiator --------------------------------------------------------------------------------
 */

static int
rekey_send(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_create *cr = sa->create;
	const struct ike_proposal *list;
	uint8_t cnt, spi[8], fake[IKE_X25519_LEN];
	struct ike_writer w;
	struct ike_ke ke;

	if (cr->new_sa == NULL)
		return -ENOENT;
	list = ike_prop_list(ike_sa_peer(e, sa), true, &cnt);
	ike_put64(spi, cr->new_sa->spi_i);
	ike_msg_begin(e, sa, &w, IKE_CREATE_CHILD_SA, false, sa->tx_next);
	ike_prop_offer_rekey(&e->wsa, IKE_PROTO_IKE, list, cnt, spi, sizeof(spi),
			     cr->ke_group != IKE_DH_CURVE25519 ? cr->ke_group : 0);
	ike_wr_sa(&w, &e->wsa);
	ike_wr_nonce(&w, cr->ni, cr->ni_len);
	ike_create_ke(cr, fake, &ke);
	ike_wr_ke(&w, &ke);
	return ike_send_request(e, sa, &w, IKE_REQ_CREATE_CHILD, now);
}

int
ike_rekey_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	struct ike_create *cr = ike_create_new(e, IKE_DH_CURVE25519);
	struct ike_sa_obj *n;
	int rc;

	if (cr == NULL)
		return -ENOMEM;
	n = ike_sa_new(e, true, now);
	if (n == NULL) {
		ike_dh_free(cr->dh);
		free(cr);
		return -ENOMEM;
	}
	n->state = IKE_ST_REKEY_NEW;
	n->peer = sa->peer;
	n->rekey_parent = sa;
	cr->ike = true;
	cr->new_sa = n;
	sa->create = cr;
	rc = rekey_send(e, sa, now);
	if (rc < 0) {
		ike_create_free(e, sa);
		return rc;
	}
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r: rekeying (new SPIi %016llx)",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		(unsigned long long)n->spi_i);
	return 0;
}

/* The answer: one of our proposals, the new SA's keys. 0 or -errno. */
static int
rekey_accept(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_create *cr,
	     struct ike_sa_obj *n)
{
	const struct ike_payloads *p = &e->inner;
	const struct ike_proposal *list;
	struct ike_kex kex = { 0 };
	struct ike_choice ch;
	uint8_t cnt;
	int rc;

	list = ike_prop_list(ike_sa_peer(e, sa), true, &cnt);
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_NONCE) || !ike_has(p, IKE_PT_KE) ||
	    ike_prop_check_answer_rekey(&p->sa, IKE_PROTO_IKE, list, cnt, &ch) < 0 ||
	    ike_rd64(ch.spi) == 0 || p->ke.group != cr->ke_group || cr->dh == NULL)
		return -EBADMSG;
	n->spi_r = ike_rd64(ch.spi);
	inherit(n, sa, &ch);
	rc = ike_dh_compute(cr->dh, p->ke.data, p->ke.len);
	if (rc < 0)
		return rc;
	kex = (struct ike_kex){
		.ni = cr->ni, .ni_len = cr->ni_len, .nr = p->nonce.data, .nr_len = p->nonce.len
	};
	kex.gir = ike_dh_shared(cr->dh, &kex.gir_len);
	ike_put64(kex.spi_i, n->spi_i);
	ike_put64(kex.spi_r, n->spi_r);
	return ike_keys_rekey(sa->keys, &n->suite, true, &kex, &n->keys);
}

void
ike_rekey_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct ike_create *cr = sa->create;
	struct ike_sa_obj *n = cr->new_sa, *other;
	const struct ike_notify *err = ike_child_error(e, sa);
	bool lost;

	if (err != NULL && ike_create_retry_ke(cr, err) && rekey_send(e, sa, now) == 0)
		return;
	if (err == NULL && n != NULL && rekey_accept(e, sa, cr, n) < 0) {
		e->st.bad_message++;
		ike_log(e, 1, "IKE SA %016llx_i %016llx_r: the rekey answer is not one we can take",
			(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
		n = NULL;
	}
	if (err != NULL || n == NULL) {
		/* NO_ADDITIONAL_SAS: the peer rekeys no IKE SAs; it may re-authenticate */
		sa->rekey_ms = err != NULL && err->type == IKE_N_NO_ADDITIONAL_SAS
				       ? UINT64_MAX
				       : ike_rekey_time(now, REKEY_RETRY_S);
		conclude(e, sa, now);
		ike_create_free(e, sa);
		return;
	}
	cr->new_sa = NULL;
	n->rekey_parent = NULL;
	establish(e, n, sa, now);
	other = cr->peer_sa;
	lost = other != NULL && ike_create_lost(cr, p->nonce.data, p->nonce.len);
	if (other != NULL)
		ike_log(e, 1, "IKE SA %016llx_i %016llx_r: rekey collision %s",
			(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
			lost ? "lost, deleting our redundant SA" : "won, deleting the old SA");
	if (lost) {
		delete_sa(e, n, now);
		conclude(e, sa, now);
	} else {
		if (other != NULL) {
			/* the peer's redundant SA: it deletes it */
			cr->peer_sa = NULL;
			other->rekey_parent = NULL;
			other->state = IKE_ST_REKEYED;
			other->expire_ms = now + e->half_open_ms;
			ike_sa_schedule(e, other);
		}
		while (sa->children != NULL)
			ike_child_move(sa->children, n);
		delete_sa(e, sa, now);
		ike_info_kick(e, n, now);
	}
	ike_create_free(e, sa);
	ike_sa_schedule(e, n);
}
