/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_AUTH (RFC 7296 1.2), both roles, and the first CHILD SA:
 *
 *   Initiator                          Responder
 *   HDR, SK{IDi, [IDr,] AUTH, [N(INITIAL_CONTACT),] [N(USE_TRANSPORT_MODE),]
 *           SAi2, TSi, TSr}        -->
 *                                  <-- HDR, SK{IDr, AUTH, [N(USE_TRANSPORT_MODE),] SAr2, TSi, TSr}
 *                                      or HDR, SK{IDr, AUTH, N(NO_PROPOSAL_CHOSEN |
 *                                      TS_UNACCEPTABLE)}: the IKE SA stands, no CHILD SA
 *                                      or HDR, SK{N(AUTHENTICATION_FAILED)}: nothing stands
 *
 * The responder finds the peer's configuration by the IDi it claims (ike_peer_cfg.id), then
 * checks the IKE suite chosen in IKE_SA_INIT against that peer and its AUTH: a shared key
 * (method 2, 2.15) or an Ed25519 signature over the same octets (method 14, RFC 7427 / 8420).
 * The CHILD SA: one ESP proposal of the peer's, SPIs of each side (ours unique in the engine),
 * TSi / TSr narrowed to the peer's remote_ts / local_ts, transport mode only when asked for and
 * allowed, KEYMAT from SK_d and the IKE_SA_INIT nonces (2.17) handed to child_up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ike_priv.h"

/* the longer of a PSK AUTH (a PRF output) and an Ed25519 one */
#define AUTH_MAX (IKE_DSIG_ED25519_LEN > IKE_PRF_MAX ? IKE_DSIG_ED25519_LEN : IKE_PRF_MAX)

/* RestOfIDPayload (2.15): type, three reserved bytes, data */
static size_t
id_body(const struct ike_id *id, uint8_t *out)
{
	out[0] = id->type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id->data, id->len);
	return 4 + (size_t)id->len;
}

static struct ike_wire_id
wire_id(const struct ike_id *id)
{
	return (struct ike_wire_id){ .type = id->type, .data = id->data, .len = id->len };
}

static bool
id_match(const struct ike_id *cfg, const struct ike_wire_id *w)
{
	if (cfg->type != w->type || cfg->len != w->len)
		return false;
	/* names are case-insensitive (RFC 4343, RFC 5321 domain part: the whole address here) */
	if (w->type == IKE_ID_FQDN || w->type == IKE_ID_RFC822_ADDR)
		return strncasecmp((const char *)cfg->data, (const char *)w->data, w->len) == 0 &&
		       memchr(w->data, 0, w->len) == NULL;
	return memcmp(cfg->data, w->data, w->len) == 0;
}

static int
peer_by_id(const struct ike_engine *e, const struct ike_wire_id *w)
{
	for (uint16_t i = 0; i < e->cfg->n_peers; i++)
		if (id_match(&e->cfg->peers[i].id, w))
			return i;
	return -1;
}

/* AUTH of the signer (initiator or responder) over its octets: 0 or -errno */
static int
auth_make(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_peer_cfg *peer,
	  const struct ike_auth_octets *o, uint8_t *buf, struct ike_auth *out)
{
	size_t len = 0;
	int rc;

	if (peer->auth == IKE_AUTH_METHOD_DSIG) {
		rc = ike_keys_ed25519_auth(sa->keys, sa->initiator, e->ed, o, buf);
		len = IKE_DSIG_ED25519_LEN;
	} else {
		rc = ike_keys_psk_auth(sa->keys, sa->initiator, peer->psk, peer->psk_len, o, buf,
				       &len);
	}
	*out = (struct ike_auth){ .method = peer->auth, .data = buf, .len = len };
	return rc;
}

static int
auth_verify(struct ike_sa_obj *sa, const struct ike_peer_cfg *peer, const struct ike_auth_octets *o,
	    const struct ike_auth *a)
{
	bool signer_initiator = !sa->initiator;

	if (a->method != peer->auth)
		return -EBADMSG;
	if (peer->auth == IKE_AUTH_METHOD_DSIG)
		return ike_keys_ed25519_verify(sa->keys, signer_initiator, peer->ed25519_pk, o,
					       a->data, a->len);
	return ike_keys_psk_verify(sa->keys, signer_initiator, peer->psk, peer->psk_len, o, a->data,
				   a->len);
}

static int
keymat_up(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_childsa *c, uint64_t now)
{
	struct ike_child_keymat *km;
	int rc;

	rc = ike_keys_child_keymat(sa->keys, c->encr, c->key_bits, NULL, 0, sa->ni, sa->ni_len,
				   sa->nr, sa->nr_len, &km);
	if (rc == 0) {
		rc = ike_child_up(e, c, km, now);
		ike_child_keymat_free(km);
	}
	return rc;
}

static void
log_failure(struct ike_engine *e, const struct ike_sa_obj *sa, const char *why)
{
	char id[IKE_ID_MAX + 1] = "";
	const struct ike_wire_id *w = sa->initiator ? &e->inner.idr : &e->inner.idi;

	if (w->type == IKE_ID_FQDN || w->type == IKE_ID_RFC822_ADDR)
		for (size_t i = 0; i < w->len && i < IKE_ID_MAX; i++)
			id[i] = w->data[i] >= 0x20 && w->data[i] < 0x7f ? (char)w->data[i] : '?';
	ike_log(e, 1, "IKE_AUTH %016llx_i %016llx_r (id \"%s\"): %s", (unsigned long long)sa->spi_i,
		(unsigned long long)sa->spi_r, id, why);
}

/* ---- responder ---------------------------------------------------------------------------------
 */

/* The CHILD SA the initiator asked for: payloads of the answer into w, or an error notify. */
static void
child_answer(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_peer_cfg *peer,
	     struct ike_writer *w, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct esp_ts allow_l[ESP_MAX_TS], allow_r[ESP_MAX_TS];
	const struct ike_proposal *list;
	struct ike_childsa *c;
	struct ike_choice ch;
	struct ike_ts ts;
	uint8_t n, n_l, n_r, spi[4];
	uint16_t error = 0;

	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_TSI) || !ike_has(p, IKE_PT_TSR))
		return; /* no CHILD SA asked for (RFC 6023) */
	list = ike_prop_list(peer, false, &n);
	if (ike_prop_choose(&p->sa, IKE_PROTO_ESP, list, n, &ch) < 0 || ike_rd32(ch.spi) < 256) {
		e->st.no_proposal++;
		error = IKE_N_NO_PROPOSAL_CHOSEN;
		goto refuse;
	}
	ike_ts_allowed(sa, peer, &p->tsi, allow_l, &n_l, allow_r, &n_r);
	c = ike_child_new(e, sa);
	if (c == NULL) {
		error = IKE_N_TEMPORARY_FAILURE;
		goto refuse;
	}
	if (ike_child_take(c, p, peer, &ch, allow_l, n_l, allow_r, n_r) < 0) {
		ike_child_free(e, c);
		e->st.ts_unacceptable++;
		error = IKE_N_TS_UNACCEPTABLE;
		goto refuse;
	}
	if (keymat_up(e, sa, c, now) < 0) {
		ike_child_free(e, c);
		error = IKE_N_NO_PROPOSAL_CHOSEN; /* as strongSwan says when it cannot install */
		goto refuse;
	}
	if (c->mode == ESP_MODE_TRANSPORT)
		ike_wr_notify(w, &(struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE });
	ike_put32(spi, c->spi_in);
	ike_prop_answer(&e->wsa, IKE_PROTO_ESP, &ch, spi, sizeof(spi));
	ike_wr_sa(w, &e->wsa);
	ike_ts_list_to_wire(c->remote_ts, c->n_remote_ts, &ts);
	ike_wr_ts(w, IKE_PT_TSI, &ts);
	ike_ts_list_to_wire(c->local_ts, c->n_local_ts, &ts);
	ike_wr_ts(w, IKE_PT_TSR, &ts);
	return;

refuse:
	ike_log(e, 1, "IKE SA %016llx_r with %s: no CHILD SA (%s)", (unsigned long long)sa->spi_r,
		peer->name, ike_notify_name(error));
	ike_wr_notify(w, &(struct ike_notify){ .type = error });
}

/* RFC 7296 2.4: an IKE_AUTH with INITIAL_CONTACT says the peer holds no other IKE SA with us (it
 * restarted). Ours for its identity are dead, and their CHILD SAs, with the same selectors as the
 * new one, would keep covering its traffic: the targets would encrypt to SPIs it has forgotten.
 * They go without a Delete, which nobody on the other side could read. */
static void
initial_contact(struct ike_engine *e, const struct ike_sa_obj *sa)
{
	for (uint32_t i = 0; i < e->n_sa;) {
		struct ike_sa_obj *old = e->heap[i];

		if (old == sa || old->peer != sa->peer ||
		    (old->state != IKE_ST_ESTABLISHED && old->state != IKE_ST_DELETING &&
		     old->state != IKE_ST_REKEYED)) {
			i++;
			continue;
		}
		ike_log(e, 1, "INITIAL_CONTACT from %s: IKE SA %016llx_i %016llx_r dropped",
			ike_sa_peer(e, sa)->name, (unsigned long long)old->spi_i,
			(unsigned long long)old->spi_r);
		e->st.deletes++;
		ike_sa_free(e, old); /* reorders the heap: look again from the start */
		i = 0;
	}
}

static void
refuse_auth(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d, uint64_t now,
	    const char *why)
{
	e->st.auth_failed++;
	log_failure(e, sa, why);
	ike_info_refuse(e, sa, d, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
	ike_sa_gone(e, sa, now);
}

void
ike_auth_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		 uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	uint8_t idr[4 + IKE_ID_MAX], auth[AUTH_MAX];
	struct ike_wire_id our = wire_id(&e->cfg->local_id);
	const struct ike_peer_cfg *peer;
	struct ike_auth a;
	struct ike_writer w;
	int idx;

	if (sa->state != IKE_ST_HALF_OPEN) {
		ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (!ike_has(p, IKE_PT_IDI) || !ike_has(p, IKE_PT_AUTH)) {
		e->st.bad_message++;
		ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		ike_sa_gone(e, sa, now);
		return;
	}
	idx = peer_by_id(e, &p->idi);
	if (idx < 0) {
		e->st.unknown_peer++;
		refuse_auth(e, sa, d, now, "unknown identity");
		return;
	}
	peer = &e->cfg->peers[idx];
	sa->peer = (uint16_t)idx;
	if (ike_has(p, IKE_PT_IDR) && !id_match(&e->cfg->local_id, &p->idr)) {
		refuse_auth(e, sa, d, now, "IDr is not our identity");
		return;
	}
	if (!ike_prop_allowed(peer, &(struct ike_choice){ .encr = sa->suite.encr,
							  .key_bits = sa->suite.encr_key_bits,
							  .prf = sa->suite.prf,
							  .dh = sa->suite.dh })) {
		refuse_auth(e, sa, d, now, "IKE proposal not configured for this peer");
		return;
	}
	if (auth_verify(sa, peer,
			&(struct ike_auth_octets){ .msg = sa->msg_i,
						   .msg_len = sa->msg_i_len,
						   .nonce = sa->nr,
						   .nonce_len = sa->nr_len,
						   .id = p->idi.body,
						   .id_len = p->idi.body_len },
			&p->auth) < 0) {
		refuse_auth(e, sa, d, now, "AUTH does not verify");
		return;
	}
	if (auth_make(e, sa, peer,
		      &(struct ike_auth_octets){ .msg = sa->msg_r,
						 .msg_len = sa->msg_r_len,
						 .nonce = sa->ni,
						 .nonce_len = sa->ni_len,
						 .id = idr,
						 .id_len = id_body(&e->cfg->local_id, idr) },
		      auth, &a) < 0) {
		ike_log(e, 0, "IKE_AUTH: cannot make our AUTH");
		ike_info_refuse(e, sa, d, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		ike_sa_gone(e, sa, now);
		return;
	}
	/* established: from here on the IKE SA stands whatever becomes of the CHILD SA */
	sa->state = IKE_ST_ESTABLISHED;
	sa->established_ms = now;
	sa->expire_ms = 0;
	ike_sa_set_half_open(e, sa, false);
	e->st.ike_sa_up++;
	/* before the new CHILD SA is installed: never two pairs for the same traffic */
	if (ike_find_notify(p, IKE_N_INITIAL_CONTACT) != NULL)
		initial_contact(e, sa);
	ike_msg_begin(e, sa, &w, IKE_AUTH, true, e->msg.hdr.msg_id);
	ike_wr_id(&w, IKE_PT_IDR, &our);
	ike_wr_auth(&w, &a);
	child_answer(e, sa, peer, &w, now);
	ike_send_response(e, sa, &w, d);
	free(sa->msg_i);
	free(sa->msg_r);
	sa->msg_i = sa->msg_r = NULL;
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r with %s established (responder%s)",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r, peer->name,
		sa->nat_here || sa->nat_there ? ", NAT" : "");
	ike_sa_schedule(e, sa);
}

/* ---- initiator ---------------------------------------------------------------------------------
 */

/* RFC 7296 2.4: INITIAL_CONTACT asserts that this IKE SA is the only one between the two
 * identities, and the peer drops every other it holds with us. Said only while the engine has no
 * other IKE SA with the peer in any state (a set-up under way included): a second IKE SA to the
 * same peer must not tear down the first. After a restart the engine holds none, and says it. */
static bool
alone_with_peer(const struct ike_engine *e, const struct ike_sa_obj *sa)
{
	for (uint32_t i = 0; i < e->n_sa; i++)
		if (e->heap[i] != sa && e->heap[i]->peer == sa->peer)
			return false;
	return true;
}

int
ike_auth_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);
	uint8_t idi[4 + IKE_ID_MAX], spi[4], auth[AUTH_MAX];
	struct ike_wire_id our = wire_id(&e->cfg->local_id), their = wire_id(&peer->id);
	struct esp_ts ts_l[ESP_MAX_TS], ts_r[ESP_MAX_TS];
	const struct ike_proposal *list;
	struct ike_childsa *c;
	struct ike_writer w;
	struct ike_auth a;
	struct ike_ts ts;
	uint8_t n;
	int rc;

	rc = auth_make(e, sa, peer,
		       &(struct ike_auth_octets){ .msg = sa->msg_i,
						  .msg_len = sa->msg_i_len,
						  .nonce = sa->nr,
						  .nonce_len = sa->nr_len,
						  .id = idi,
						  .id_len = id_body(&e->cfg->local_id, idi) },
		       auth, &a);
	if (rc < 0)
		return rc;
	c = ike_child_new(e, sa);
	if (c == NULL)
		return -ENOMEM;
	sa->first_spi_in = c->spi_in;
	sa->first_transport = peer->allow_transport;
	ike_put32(spi, c->spi_in);
	ike_msg_begin(e, sa, &w, IKE_AUTH, false, sa->tx_next);
	ike_wr_id(&w, IKE_PT_IDI, &our);
	ike_wr_id(&w, IKE_PT_IDR, &their);
	ike_wr_auth(&w, &a);
	if (alone_with_peer(e, sa))
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_INITIAL_CONTACT });
	if (sa->first_transport)
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE });
	list = ike_prop_list(peer, false, &n);
	ike_prop_offer(&e->wsa, IKE_PROTO_ESP, list, n, spi, sizeof(spi), 0);
	ike_wr_sa(&w, &e->wsa);
	n = ike_ts_cfg(sa, peer, true, ts_l);
	ike_ts_list_to_wire(ts_l, n, &ts);
	ike_wr_ts(&w, IKE_PT_TSI, &ts);
	n = ike_ts_cfg(sa, peer, false, ts_r);
	ike_ts_list_to_wire(ts_r, n, &ts);
	ike_wr_ts(&w, IKE_PT_TSR, &ts);
	return ike_send_request(e, sa, &w, IKE_REQ_AUTH, now);
}

/* The responder's answer about the first CHILD SA (the IKE SA is up already). */
static void
child_accept(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_peer_cfg *peer,
	     struct ike_childsa *c, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	struct esp_ts ts_l[ESP_MAX_TS], ts_r[ESP_MAX_TS];
	const struct ike_proposal *list;
	struct ike_choice ch;
	uint8_t n, n_l, n_r;

	for (uint8_t i = 0; i < p->n_notify; i++) {
		if (p->notify[i].type <= IKE_N_ERROR_MAX) {
			const char *name = ike_notify_name(p->notify[i].type);

			e->st.peer_errors++;
			ike_log(e, 1, "peer %s refused the CHILD SA: %s (%u)", peer->name,
				name != NULL ? name : "error", p->notify[i].type);
			ike_child_free(e, c);
			return;
		}
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_TSI) || !ike_has(p, IKE_PT_TSR)) {
		ike_child_free(e, c); /* childless */
		return;
	}
	list = ike_prop_list(peer, false, &n);
	n_l = ike_ts_cfg(sa, peer, true, ts_l);
	n_r = ike_ts_cfg(sa, peer, false, ts_r);
	if (ike_prop_check_answer(&p->sa, IKE_PROTO_ESP, list, n, &ch) < 0 ||
	    ike_rd32(ch.spi) < 256) {
		e->st.bad_message++;
		ike_log(e, 1, "peer %s: CHILD SA proposal not one of ours", peer->name);
		ike_child_free(e, c);
		return;
	}
	c->spi_out = ike_rd32(ch.spi);
	c->encr = ch.encr;
	c->key_bits = ch.key_bits;
	c->esn = ch.esn;
	c->mode = sa->first_transport && ike_find_notify(p, IKE_N_USE_TRANSPORT_MODE) != NULL
			  ? ESP_MODE_TRANSPORT
			  : ESP_MODE_TUNNEL;
	if (!ike_ts_within(&p->tsi, ts_l, n_l, c->local_ts, &c->n_local_ts) ||
	    !ike_ts_within(&p->tsr, ts_r, n_r, c->remote_ts, &c->n_remote_ts)) {
		ike_log(e, 1, "peer %s: selectors wider than proposed, deleting the CHILD SA",
			peer->name);
		c->delete_queued = true;
		return;
	}
	if (keymat_up(e, sa, c, now) < 0)
		c->delete_queued = true; /* the engine deletes what child_up refused */
}

void
ike_auth_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_payloads *p = &e->inner;
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);
	struct ike_childsa *c = NULL;

	for (struct ike_childsa *x = sa->children; x != NULL; x = x->next)
		if (x->spi_in == sa->first_spi_in)
			c = x;
	ike_req_done(sa);
	if (sa->state != IKE_ST_AUTH_SENT || c == NULL) {
		ike_sa_schedule(e, sa);
		return;
	}
	if (!ike_has(p, IKE_PT_IDR) || !ike_has(p, IKE_PT_AUTH)) {
		const struct ike_notify *n = ike_find_notify(p, IKE_N_AUTHENTICATION_FAILED);

		if (n != NULL)
			e->st.auth_failed++;
		e->st.peer_errors++;
		log_failure(e, sa,
			    n != NULL ? "AUTHENTICATION_FAILED from the peer"
				      : "answer without IDr or AUTH");
		ike_sa_free(e, sa);
		return;
	}
	if (!id_match(&peer->id, &p->idr) ||
	    auth_verify(sa, peer,
			&(struct ike_auth_octets){ .msg = sa->msg_r,
						   .msg_len = sa->msg_r_len,
						   .nonce = sa->ni,
						   .nonce_len = sa->ni_len,
						   .id = p->idr.body,
						   .id_len = p->idr.body_len },
			&p->auth) < 0) {
		struct ike_writer w;

		e->st.auth_failed++;
		log_failure(e, sa, "the peer's IDr or AUTH does not verify");
		/* tell it once (2.21.2), then forget the IKE SA */
		ike_msg_begin(e, sa, &w, IKE_INFORMATIONAL, false, sa->tx_next);
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_AUTHENTICATION_FAILED });
		if (ike_send_request(e, sa, &w, IKE_REQ_DELETE_IKE, now) == 0)
			ike_req_done(sa);
		ike_sa_free(e, sa);
		return;
	}
	sa->state = IKE_ST_ESTABLISHED;
	sa->established_ms = now;
	e->st.ike_sa_up++;
	free(sa->msg_i);
	free(sa->msg_r);
	sa->msg_i = sa->msg_r = NULL;
	ike_log(e, 1, "IKE SA %016llx_i %016llx_r with %s established (initiator%s)",
		(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r, peer->name,
		sa->nat_here || sa->nat_there ? ", NAT" : "");
	child_accept(e, sa, peer, c, now);
	ike_info_kick(e, sa, now);
	ike_sa_schedule(e, sa);
}
