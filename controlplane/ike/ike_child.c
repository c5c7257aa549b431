/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CREATE_CHILD_SA (RFC 7296 1.3): not done yet. Rekeys of CHILD and IKE SAs, either side, with
 * collisions per 2.8, come here; until then a request is answered so the peer's window moves on
 * and it retries or re-authenticates:
 *
 *   HDR, SK{[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}  -->
 *                                                      <-- HDR, SK{N(TEMPORARY_FAILURE)}  (a rekey)
 *                                                      <-- HDR, SK{N(NO_ADDITIONAL_SAS)}  (a new
 * pair)
 *
 * What the rekey will need is in place: CHILD SA records keep their negotiated proposal and
 * selectors (ike_childsa), child_up carries rekey_of, IKE SA keys rekey with ike_keys_rekey(),
 * requests have the IKE_REQ_CREATE_CHILD kind and ike_prop_choose takes the ESP proposals.
 */
#include <errno.h>

#include "ike_priv.h"

void
ike_child_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		  uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	bool rekey = ike_find_notify(p, IKE_N_REKEY_SA) != NULL ||
		     (ike_has(p, IKE_PT_SA) && p->sa.n_proposals > 0 &&
		      p->sa.prop[0].proto == IKE_PROTO_IKE);

	(void)now;
	if (sa->state != IKE_ST_ESTABLISHED) {
		ike_info_refuse(e, sa, d,
				sa->state == IKE_ST_DELETING ? IKE_N_TEMPORARY_FAILURE
							     : IKE_N_INVALID_SYNTAX,
				NULL, 0);
		return;
	}
	e->st.create_child_refused++;
	ike_log(e, 2, "CREATE_CHILD_SA (%s) refused: not implemented", rekey ? "rekey" : "new");
	ike_info_refuse(e, sa, d, rekey ? IKE_N_TEMPORARY_FAILURE : IKE_N_NO_ADDITIONAL_SAS, NULL,
			0);
}

void
ike_child_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	/* never sent yet */
	ike_req_done(sa);
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}

int
ike_rekey_child(struct ike_engine *e, uint32_t child_id, uint64_t now)
{
	(void)now;
	if (ike_child_by_id(e, child_id) == NULL)
		return -ENOENT;
	return -ENOTSUP;
}
