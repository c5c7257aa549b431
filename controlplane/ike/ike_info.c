/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INFORMATIONAL (RFC 7296 1.4), both roles:
 *
 *   HDR, SK{D(ESP, SPIs)}  -->  <-- HDR, SK{D(ESP, our SPIs of the same pairs)}  (1.4.1)
 *   HDR, SK{D(IKE)}        -->  <-- HDR, SK{}     every CHILD SA goes with the IKE SA
 *   HDR, SK{}              -->  <-- HDR, SK{}     liveness check (2.4)
 *   HDR, SK{N(AUTHENTICATION_FAILED)} --> <-- HDR, SK{}  our AUTH did not verify (2.21.2)
 *
 * A Delete names the SPIs its sender receives on: our outbound SPIs. A pair both sides delete at
 * once is gone when the request arrives and is left out of the answer. We send a liveness check
 * after dpd_s without any authenticated message from the peer; a request that is not answered
 * after retransmit_tries retransmissions makes the peer dead (ike_sa.c). child_down follows each
 * pair's end; our own Deletes complete when answered (or when the peer is given up). What waits
 * for the request window goes in this order: the IKE SA's Delete, CHILD SA Deletes, rekeys
 * (ike_child_kick), a liveness check. A rekeyed IKE SA still answers (its Delete, mostly).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_priv.h"

void
ike_info_refuse(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		uint16_t type, const uint8_t *data, size_t len)
{
	struct ike_writer w;

	ike_msg_begin(e, sa, &w, e->msg.hdr.exchange, true, e->msg.hdr.msg_id);
	ike_wr_notify(&w, &(struct ike_notify){ .type = type, .data = data, .len = len });
	ike_send_response(e, sa, &w, d);
}

void
ike_info_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		 uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct ike_childsa **gone = NULL;
	uint8_t *spis = NULL;
	uint32_t n_gone = 0, n_answer = 0;
	bool delete_ike = false;
	struct ike_writer w;

	if (sa->state != IKE_ST_ESTABLISHED && sa->state != IKE_ST_DELETING &&
	    sa->state != IKE_ST_REKEYED) {
		/* before IKE_AUTH (message 1 must be IKE_AUTH) or after a refusal */
		ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		if (sa->state == IKE_ST_HALF_OPEN)
			ike_sa_gone(e, sa, now);
		return;
	}
	if (sa->n_children > 0) {
		gone = calloc(sa->n_children, sizeof(*gone));
		spis = calloc(sa->n_children, 4);
		if (gone == NULL || spis == NULL) {
			free(gone);
			free(spis);
			ike_info_refuse(e, sa, d, IKE_N_TEMPORARY_FAILURE, NULL, 0);
			return;
		}
	}
	/* 2.21.2: the initiator could not verify our AUTH; the IKE SA never stood for it */
	if (ike_find_notify(p, IKE_N_AUTHENTICATION_FAILED) != NULL) {
		e->st.auth_failed++;
		delete_ike = true;
	}
	for (uint8_t i = 0; i < p->n_del; i++) {
		const struct ike_delete *del = &p->del[i];

		if (del->proto == IKE_PROTO_IKE)
			delete_ike = true;
		if (del->proto != IKE_PROTO_ESP)
			continue;
		for (uint16_t j = 0; j < del->n_spi; j++) {
			struct ike_childsa *c = ike_child_by_spi_out(sa, ike_delete_spi(del, j));
			bool listed = false;

			if (c == NULL)
				continue;
			for (uint32_t k = 0; k < n_gone && !listed; k++)
				listed = gone[k] == c;
			if (listed)
				continue;
			gone[n_gone++] = c;
			/* deleting it ourselves as well: the peer needs no answer for it */
			if (!c->deleting)
				ike_put32(spis + 4 * n_answer++, c->spi_in);
		}
	}
	ike_msg_begin(e, sa, &w, IKE_INFORMATIONAL, true, e->msg.hdr.msg_id);
	if (!delete_ike && n_answer > 0)
		ike_wr_delete(&w, &(struct ike_delete){ .proto = IKE_PROTO_ESP,
							.spi_size = 4,
							.n_spi = (uint16_t)n_answer,
							.spis = spis });
	ike_send_response(e, sa, &w, d);
	free(spis);
	if (delete_ike) {
		free(gone);
		e->st.deletes++;
		ike_log(e, 1, "IKE SA %016llx_i %016llx_r deleted by the peer",
			(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
		ike_child_ike_deleted(e, sa, now);
		ike_sa_free(e, sa);
		return;
	}
	for (uint32_t k = 0; k < n_gone; k++) {
		e->st.deletes++;
		ike_child_free(e, gone[k]);
	}
	free(gone);
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}

void
ike_info_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	enum ike_req_kind kind = sa->req.kind;

	ike_req_done(sa);
	if (kind == IKE_REQ_DELETE_IKE) {
		e->st.deletes++;
		ike_log(e, 1, "IKE SA %016llx_i %016llx_r deleted", (unsigned long long)sa->spi_i,
			(unsigned long long)sa->spi_r);
		ike_sa_free(e, sa);
		return;
	}
	if (kind == IKE_REQ_DELETE_CHILD) {
		struct ike_childsa *c = sa->children, *next;

		for (; c != NULL; c = next) {
			next = c->next;
			if (c->deleting) {
				e->st.deletes++;
				ike_child_free(e, c);
			}
		}
	}
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}

/* Our Delete of the CHILD SAs ike_delete() queued: their inbound SPIs. */
static int
delete_children(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	uint8_t *spis = calloc(sa->n_children, 4);
	struct ike_writer w;
	uint16_t n = 0;
	int rc;

	if (spis == NULL)
		return -ENOMEM;
	for (struct ike_childsa *c = sa->children; c != NULL && n < UINT16_MAX; c = c->next) {
		if (c->delete_queued && !c->deleting) {
			c->deleting = true;
			ike_put32(spis + 4 * n++, c->spi_in);
		}
	}
	ike_msg_begin(e, sa, &w, IKE_INFORMATIONAL, false, sa->tx_next);
	ike_wr_delete(&w,
		      &(struct ike_delete){
			      .proto = IKE_PROTO_ESP, .spi_size = 4, .n_spi = n, .spis = spis });
	rc = ike_send_request(e, sa, &w, IKE_REQ_DELETE_CHILD, now);
	free(spis);
	return rc;
}

void
ike_info_kick(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	struct ike_writer w;
	bool queued = false;

	if (sa->req.kind != IKE_REQ_NONE || sa->state != IKE_ST_ESTABLISHED)
		return;
	if (sa->want_delete) {
		sa->want_delete = false;
		ike_msg_begin(e, sa, &w, IKE_INFORMATIONAL, false, sa->tx_next);
		ike_wr_delete(&w, &(struct ike_delete){ .proto = IKE_PROTO_IKE });
		if (ike_send_request(e, sa, &w, IKE_REQ_DELETE_IKE, now) == 0)
			sa->state = IKE_ST_DELETING;
		return;
	}
	for (struct ike_childsa *c = sa->children; c != NULL && !queued; c = c->next)
		queued = c->delete_queued && !c->deleting;
	if (queued) {
		delete_children(e, sa, now);
		return;
	}
	if (ike_child_kick(e, sa, now))
		return;
	if (sa->want_dpd) {
		sa->want_dpd = false;
		e->st.liveness_checks++;
		ike_msg_begin(e, sa, &w, IKE_INFORMATIONAL, false, sa->tx_next);
		ike_send_request(e, sa, &w, IKE_REQ_DPD, now);
	}
}
