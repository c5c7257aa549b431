/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_SA_INIT (RFC 7296 1.2), both roles:
 *
 *   Initiator                          Responder
 *   HDR, [N(COOKIE)], SAi1, KEi, Ni,
 *   N(NAT_DETECTION_SOURCE_IP),
 *   N(NAT_DETECTION_DESTINATION_IP) -->
 *                                  <-- HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*)
 *                                      or HDR, N(COOKIE) / N(INVALID_KE_PAYLOAD) /
 *                                      N(NO_PROPOSAL_CHOSEN) / N(UNSUPPORTED_CRITICAL_PAYLOAD)
 *
 * A responder keeps no state for the refusals: a COOKIE (2.6) is a MAC over Ni, the initiator's
 * address and SPIi under a secret rotated every IKE_COOKIE_ROTATE_MS (the previous one still
 * counts), asked for while cookie_threshold or more IKE SAs are half-open. An initiator answers a
 * COOKIE or INVALID_KE_PAYLOAD by starting over with it (same SPIi and nonce). NAT detection (2.23)
 * compares SHA-1(SPIi | SPIr | address | port) both ways; a NAT on either side moves the IKE SA to
 * port 4500 (the initiator moves for IKE_AUTH) and its CHILD SAs to UDP-encapsulated ESP.
 * Success goes on in ike_auth.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "ike_priv.h"

static size_t
addr_bytes(const struct esp_addr *a, uint8_t *out)
{
	if (a->family == 6) {
		memcpy(out, a->v6, 16);
		return 16;
	}
	memcpy(out, &a->v4, 4);
	return 4;
}

/* NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP | Port), SPIs as in the header */
static void
nat_hash(uint64_t spi_i, uint64_t spi_r, const struct esp_addr *a, uint16_t port,
	 uint8_t out[IKE_NAT_HASH_LEN])
{
	uint8_t buf[8 + 8 + 16 + 2];
	size_t n = 16;

	ike_put64(buf, spi_i);
	ike_put64(buf + 8, spi_r);
	n += addr_bytes(a, buf + n);
	buf[n++] = (uint8_t)(port >> 8);
	buf[n++] = (uint8_t)port;
	sha1_sse(buf, n, out);
}

/* Is one of the notifies of this type the hash we expect? *present: any of that type at all. */
static bool
nat_match(const struct ike_payloads *p, uint16_t type, const uint8_t want[IKE_NAT_HASH_LEN],
	  bool *present)
{
	bool match = false;

	for (uint8_t i = 0; i < p->n_notify; i++) {
		const struct ike_notify *n = &p->notify[i];

		if (n->type != type)
			continue;
		*present = true;
		match |= n->len == IKE_NAT_HASH_LEN && memcmp(n->data, want, IKE_NAT_HASH_LEN) == 0;
	}
	return match;
}

/* What a received IKE_SA_INIT (request or response) says about NATs between us, given the SPIs
 * of its header and the datagram's endpoints. */
static void
nat_detect(struct ike_sa_obj *sa, const struct ike_payloads *p, const struct ike_dgram *d,
	   uint64_t spi_r)
{
	uint8_t src[IKE_NAT_HASH_LEN], dst[IKE_NAT_HASH_LEN];
	bool has_src = false, has_dst = false, src_ok, dst_ok;

	nat_hash(sa->spi_i, spi_r, &d->remote, d->remote_port, src);
	nat_hash(sa->spi_i, spi_r, &d->local, d->local_port, dst);
	src_ok = nat_match(p, IKE_N_NAT_DETECTION_SOURCE_IP, src, &has_src);
	dst_ok = nat_match(p, IKE_N_NAT_DETECTION_DESTINATION_IP, dst, &has_dst);
	sa->natt = has_src && has_dst;
	sa->nat_there = sa->natt && !src_ok;
	sa->nat_here = sa->natt && !dst_ok;
}

static void
write_nat(struct ike_writer *w, uint64_t spi_i, uint64_t spi_r, const struct ike_ep *ep)
{
	uint8_t src[IKE_NAT_HASH_LEN], dst[IKE_NAT_HASH_LEN];

	nat_hash(spi_i, spi_r, &ep->local, ep->local_port, src);
	nat_hash(spi_i, spi_r, &ep->remote, ep->remote_port, dst);
	ike_wr_notify(w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_SOURCE_IP,
					       .data = src,
					       .len = sizeof(src) });
	ike_wr_notify(w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_DESTINATION_IP,
					       .data = dst,
					       .len = sizeof(dst) });
}

/* RFC 7427 4 / RFC 8420: we verify and make Ed25519 signatures ("Identity" hash) */
static void
write_sig_hash(struct ike_engine *e, struct ike_writer *w)
{
	static const uint8_t identity[2] = { 0, IKE_HASH_IDENTITY };

	if (e->ed != NULL)
		ike_wr_notify(w, &(struct ike_notify){ .type = IKE_N_SIGNATURE_HASH_ALGORITHMS,
						       .data = identity,
						       .len = sizeof(identity) });
}

static int
keep_copy(uint8_t **buf, size_t *len, const uint8_t *msg, size_t n)
{
	uint8_t *b = realloc(*buf, n);

	if (b == NULL)
		return -ENOMEM;
	memcpy(b, msg, n);
	*buf = b;
	*len = n;
	return 0;
}

static int
derive(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_ke *ke)
{
	struct ike_kex kex = {
		.ni = sa->ni, .ni_len = sa->ni_len, .nr = sa->nr, .nr_len = sa->nr_len
	};
	int rc;

	rc = ike_dh_compute(sa->dh, ke->data, ke->len);
	if (rc < 0)
		return rc;
	kex.gir = ike_dh_shared(sa->dh, &kex.gir_len);
	ike_put64(kex.spi_i, sa->spi_i);
	ike_put64(kex.spi_r, sa->spi_r);
	return ike_keys_derive(e->cx, &sa->suite, sa->initiator, &kex, &sa->keys);
}

/* ---- cookies ----------------------------------------------------------------------------------
 */

void
ike_cookie_rotate(struct ike_engine *e, uint64_t now)
{
	int n = 0;

	if (e->cookie_rotate_ms != 0)
		n = now >= e->cookie_rotate_ms + IKE_COOKIE_ROTATE_MS ? 2 : 1;
	/* two when a late tick missed a whole period: then neither old secret may stay */
	for (int i = 0; i < n; i++) {
		e->cookie->ver++;
		randombytes_buf(e->cookie->key[e->cookie->ver & 1], sizeof(e->cookie->key[0]));
	}
	e->cookie_rotate_ms = now + IKE_COOKIE_ROTATE_MS;
}

/* <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>) as HMAC-SHA-256 keyed with the secret */
static void
cookie_make(struct ike_engine *e, uint8_t ver, const struct ike_dgram *d,
	    uint8_t out[IKE_COOKIE_LEN])
{
	const struct ike_payloads *p = &e->msg.pl;
	crypto_auth_hmacsha256_state st;
	uint8_t ip[16], spi[8];
	size_t n = addr_bytes(&d->remote, ip);

	ike_put64(spi, e->msg.hdr.spi_i);
	out[0] = ver;
	crypto_auth_hmacsha256_init(&st, e->cookie->key[ver & 1], sizeof(e->cookie->key[0]));
	crypto_auth_hmacsha256_update(&st, p->nonce.data, p->nonce.len);
	crypto_auth_hmacsha256_update(&st, ip, n);
	crypto_auth_hmacsha256_update(&st, spi, sizeof(spi));
	crypto_auth_hmacsha256_final(&st, out + 1);
	sodium_memzero(&st, sizeof(st));
}

static bool
cookie_ok(struct ike_engine *e, const struct ike_dgram *d)
{
	const struct ike_notify *n = ike_find_notify(&e->msg.pl, IKE_N_COOKIE);
	uint8_t want[IKE_COOKIE_LEN];
	uint8_t ver;

	if (n == NULL || n->len != IKE_COOKIE_LEN)
		return false;
	ver = n->data[0];
	if (ver != e->cookie->ver && ver != (uint8_t)(e->cookie->ver - 1))
		return false;
	cookie_make(e, ver, d, want);
	return sodium_memcmp(want, n->data, IKE_COOKIE_LEN) == 0;
}

/* ---- responder ---------------------------------------------------------------------------------
 */

/* HDR(SPIi, 0), N(type, data): a stateless refusal */
static void
refuse(struct ike_engine *e, const struct ike_dgram *d, uint16_t type, const uint8_t *data,
       size_t len)
{
	struct ike_hdr h = { .spi_i = e->msg.hdr.spi_i,
			     .exchange = IKE_SA_INIT,
			     .flags = IKE_FLAG_RESPONSE };
	struct ike_writer w;
	size_t n;

	ike_wr_init(&w, e->tx, sizeof(e->tx), &h);
	ike_wr_notify(&w, &(struct ike_notify){ .type = type, .data = data, .len = len });
	if (ike_wr_finish(&w, &n) == 0)
		ike_send_to(e, d, e->tx, n);
}

void
ike_init_refuse_critical(struct ike_engine *e, const struct ike_dgram *d)
{
	uint8_t type = e->msg.pl.err_type;

	refuse(e, d, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, &type, 1);
}

static int
answer(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
       const struct ike_choice *ch)
{
	struct ike_hdr h = { .spi_i = sa->spi_i,
			     .spi_r = sa->spi_r,
			     .exchange = IKE_SA_INIT,
			     .flags = IKE_FLAG_RESPONSE };
	struct ike_ke ke = { .group = IKE_DH_CURVE25519 };
	struct ike_writer w;
	size_t n;
	int rc;

	ke.data = ike_dh_public(sa->dh, &ke.len);
	ike_prop_answer(&e->wsa, IKE_PROTO_IKE, ch, NULL, 0);
	ike_wr_init(&w, e->tx, sizeof(e->tx), &h);
	ike_wr_sa(&w, &e->wsa);
	ike_wr_ke(&w, &ke);
	ike_wr_nonce(&w, sa->nr, sa->nr_len);
	if (sa->natt)
		write_nat(&w, sa->spi_i, sa->spi_r, &sa->ep);
	write_sig_hash(e, &w);
	rc = ike_wr_finish(&w, &n);
	if (rc == 0)
		rc = keep_copy(&sa->msg_r, &sa->msg_r_len, e->tx, n);
	if (rc == 0)
		rc = keep_copy(&sa->resp.buf, &sa->resp.len, e->tx, n);
	if (rc < 0)
		return rc;
	sa->resp.valid = true;
	memcpy(sa->resp.hash, e->rx_hash, IKE_HASH_LEN);
	sa->rx_next = 1;
	ike_send_to(e, d, e->tx, n);
	return 0;
}

void
ike_init_request(struct ike_engine *e, const struct ike_dgram *d, uint64_t now)
{
	const struct ike_payloads *p = &e->msg.pl;
	struct ike_sa_obj *sa = ike_sa_find_init(e, e->msg.hdr.spi_i, d);
	struct ike_choice ch;
	int rc;

	if (sa != NULL) {
		/* the same request again: the same answer; anything else with its SPIi: dropped */
		if (sa->state == IKE_ST_HALF_OPEN && sa->rx_next == 1 && sa->resp.valid &&
		    sodium_memcmp(sa->resp.hash, e->rx_hash, IKE_HASH_LEN) == 0) {
			e->st.retransmits++;
			ike_send_to(e, d, sa->resp.buf, sa->resp.len);
		} else {
			e->st.bad_msg_id++;
		}
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_KE) || !ike_has(p, IKE_PT_NONCE)) {
		e->st.bad_message++;
		ike_log(e, 2, "IKE_SA_INIT without SA, KE or Nonce");
		return;
	}
	if (e->cfg->cookie_threshold != 0 && e->half_open >= e->cfg->cookie_threshold &&
	    !cookie_ok(e, d)) {
		uint8_t cookie[IKE_COOKIE_LEN];

		cookie_make(e, e->cookie->ver, d, cookie);
		e->st.cookies_sent++;
		refuse(e, d, IKE_N_COOKIE, cookie, sizeof(cookie));
		return;
	}
	if (ike_prop_choose_any(e->cfg, &p->sa, &ch) < 0) {
		e->st.no_proposal++;
		refuse(e, d, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (p->ke.group != ch.dh) {
		uint8_t group[2] = { (uint8_t)(ch.dh >> 8), (uint8_t)ch.dh };

		e->st.invalid_ke++;
		refuse(e, d, IKE_N_INVALID_KE_PAYLOAD, group, sizeof(group));
		return;
	}
	sa = ike_sa_new(e, false, now);
	if (sa == NULL) {
		ike_log(e, 0, "IKE_SA_INIT: out of memory");
		return;
	}
	sa->spi_i = e->msg.hdr.spi_i;
	sa->ep = (struct ike_ep){ .local = d->local,
				  .remote = d->remote,
				  .local_port = d->local_port,
				  .remote_port = d->remote_port };
	sa->state = IKE_ST_HALF_OPEN;
	sa->suite = (struct ike_crypto_suite){
		.encr = ch.encr, .encr_key_bits = ch.key_bits, .prf = ch.prf, .dh = ch.dh
	};
	ike_sa_index_init(e, sa);
	ike_sa_set_half_open(e, sa, true);
	sa->expire_ms = now + e->half_open_ms;
	memcpy(sa->ni, p->nonce.data, p->nonce.len);
	sa->ni_len = (uint16_t)p->nonce.len;
	sa->nr_len = IKE_NONCE_LEN;
	randombytes_buf(sa->nr, sa->nr_len);
	nat_detect(sa, p, d, 0);
	rc = ike_dh_create(IKE_DH_CURVE25519, &sa->dh);
	if (rc == 0)
		rc = keep_copy(&sa->msg_i, &sa->msg_i_len, d->data, d->len);
	if (rc == 0)
		rc = derive(e, sa, &p->ke);
	if (rc == 0)
		rc = answer(e, sa, d, &ch);
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	if (rc < 0) {
		e->st.bad_message++;
		ike_log(e, 2, "IKE_SA_INIT refused (%d): bad KE or nonce", rc);
		ike_sa_free(e, sa);
		return;
	}
	ike_log(e, 2, "IKE SA %016llx_i %016llx_r half-open", (unsigned long long)sa->spi_i,
		(unsigned long long)sa->spi_r);
	ike_sa_schedule(e, sa);
}

/* ---- initiator ---------------------------------------------------------------------------------
 */

int
ike_init_start(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);
	struct ike_hdr h = { .spi_i = sa->spi_i,
			     .exchange = IKE_SA_INIT,
			     .flags = IKE_FLAG_INITIATOR };
	struct ike_ke ke = { .group = sa->ke_group };
	uint8_t fake[IKE_X25519_LEN];
	const struct ike_proposal *list;
	struct ike_writer w;
	uint8_t n_prop;
	size_t n;
	int rc;

	if (sa->ni_len == 0) {
		sa->ni_len = IKE_NONCE_LEN;
		randombytes_buf(sa->ni, sa->ni_len);
	}
	if (sa->ke_group == IKE_DH_CURVE25519) {
		if (sa->dh == NULL) {
			rc = ike_dh_create(IKE_DH_CURVE25519, &sa->dh);
			if (rc < 0)
				return rc;
		}
		ke.data = ike_dh_public(sa->dh, &ke.len);
	} else {
		/* test hook: a group we cannot compute, for a responder to refuse */
		randombytes_buf(fake, sizeof(fake));
		ke.data = fake;
		ke.len = sizeof(fake);
	}
	list = ike_prop_list(peer, true, &n_prop);
	ike_prop_offer(&e->wsa, IKE_PROTO_IKE, list, n_prop, NULL, 0,
		       sa->ke_group != IKE_DH_CURVE25519 ? sa->ke_group : 0);
	ike_wr_init(&w, e->tx, sizeof(e->tx), &h);
	if (sa->cookie_len > 0) /* first, RFC 7296 2.6 */
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_COOKIE,
							.data = sa->cookie,
							.len = sa->cookie_len });
	ike_wr_sa(&w, &e->wsa);
	ike_wr_ke(&w, &ke);
	ike_wr_nonce(&w, sa->ni, sa->ni_len);
	write_nat(&w, sa->spi_i, 0, &sa->ep);
	write_sig_hash(e, &w);
	rc = ike_wr_finish(&w, &n);
	if (rc == 0)
		rc = keep_copy(&sa->msg_i, &sa->msg_i_len, e->tx, n);
	if (rc < 0)
		return rc;
	sa->req.msg_id = 0;
	return ike_send_request_plain(e, sa, e->tx, n, IKE_REQ_INIT, now);
}

/* COOKIE or INVALID_KE_PAYLOAD: start over with it. true: handled (started over or given up). */
static bool
start_over(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	const struct ike_notify *cookie = ike_find_notify(&e->msg.pl, IKE_N_COOKIE);
	const struct ike_notify *ke = ike_find_notify(&e->msg.pl, IKE_N_INVALID_KE_PAYLOAD);

	if (cookie == NULL && ke == NULL)
		return false;
	if (sa->init_retries++ >= IKE_INIT_RETRIES)
		goto give_up;
	if (cookie != NULL) {
		if (cookie->len == 0 || cookie->len > sizeof(sa->cookie))
			goto give_up;
		memcpy(sa->cookie, cookie->data, cookie->len);
		sa->cookie_len = (uint8_t)cookie->len;
	} else {
		uint16_t group = ke->len == 2 ? (uint16_t)(ke->data[0] << 8 | ke->data[1]) : 0;

		e->st.peer_errors++;
		/* only a group we offered and can do, and not the one we sent */
		if (group != IKE_DH_CURVE25519 || group == sa->ke_group)
			goto give_up;
		sa->ke_group = group;
	}
	ike_req_done(sa);
	if (ike_init_start(e, sa, now) < 0)
		goto give_up;
	return true;

give_up:
	ike_log(e, 1, "IKE_SA_INIT with peer %s: given up after %s", ike_sa_peer(e, sa)->name,
		cookie != NULL ? "COOKIE" : "INVALID_KE_PAYLOAD");
	ike_sa_free(e, sa);
	return true;
}

static const struct ike_notify *
first_error(const struct ike_payloads *p)
{
	for (uint8_t i = 0; i < p->n_notify; i++)
		if (p->notify[i].type <= IKE_N_ERROR_MAX)
			return &p->notify[i];
	return NULL;
}

void
ike_init_response(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		  uint64_t now)
{
	const struct ike_payloads *p = &e->msg.pl;
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);
	const struct ike_notify *err = first_error(p);
	const struct ike_proposal *list;
	struct ike_choice ch;
	uint8_t n_prop;
	int rc;

	if (start_over(e, sa, now))
		return;
	if (err != NULL) {
		const char *name = ike_notify_name(err->type);

		e->st.peer_errors++;
		ike_log(e, 1, "IKE_SA_INIT refused by peer %s: %s (%u)", peer->name,
			name != NULL ? name : "error", err->type);
		ike_sa_free(e, sa);
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_KE) || !ike_has(p, IKE_PT_NONCE) ||
	    e->msg.hdr.spi_r == 0) {
		e->st.bad_message++;
		return; /* not an answer: keep waiting (retransmitting) */
	}
	list = ike_prop_list(peer, true, &n_prop);
	rc = ike_prop_check_answer(&p->sa, IKE_PROTO_IKE, list, n_prop, &ch);
	if (rc < 0 || p->ke.group != ch.dh || p->ke.group != sa->ke_group) {
		e->st.bad_message++;
		ike_log(e, 1, "IKE_SA_INIT answer of peer %s: not what we offered", peer->name);
		ike_sa_free(e, sa);
		return;
	}
	sa->spi_r = e->msg.hdr.spi_r;
	sa->suite = (struct ike_crypto_suite){
		.encr = ch.encr, .encr_key_bits = ch.key_bits, .prf = ch.prf, .dh = ch.dh
	};
	memcpy(sa->nr, p->nonce.data, p->nonce.len);
	sa->nr_len = (uint16_t)p->nonce.len;
	nat_detect(sa, p, d, sa->spi_r);
	rc = keep_copy(&sa->msg_r, &sa->msg_r_len, d->data, d->len);
	if (rc == 0)
		rc = derive(e, sa, &p->ke);
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	if (rc < 0) {
		e->st.bad_message++;
		ike_log(e, 1, "IKE_SA_INIT answer of peer %s: bad KE or nonce (%d)", peer->name,
			rc);
		ike_sa_free(e, sa);
		return;
	}
	ike_req_done(sa);
	sa->tx_next = 1;
	sa->last_rx_ms = now;
	if (sa->nat_here || sa->nat_there) {
		/* RFC 7296 2.23: on to port 4500 */
		sa->ep.local_port = IKE_NATT_PORT;
		sa->ep.remote_port = IKE_NATT_PORT;
	}
	sa->state = IKE_ST_AUTH_SENT;
	if (ike_auth_start(e, sa, now) < 0) {
		ike_log(e, 0, "IKE_AUTH with peer %s: cannot build the request", peer->name);
		ike_sa_free(e, sa);
	}
}
