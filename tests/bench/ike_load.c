/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dvipsec-ike-load, the initiator (ike_load_main.c: options, sockets, measurement): an IKEv2
 * initiator load for any responder over UDP (strongSwan's charon, dvipsec-ike), to measure how many
 * IKE_SA + CHILD_SA set-ups per second the responder sustains. Not the engine (ike.h): a lean
 * initiator on the codec (ike_msg.h) and the crypto suite (ike_crypto.h) alone, so that it can keep
 * a window of set-ups in flight, never sends INITIAL_CONTACT (a responder would drop the older IKE
 * SAs of the same identity) and spends as little CPU per set-up as an honest initiator can. Each
 * slot of the window runs, over and over:
 *
 *   HDR(SPIi, 0), SAi1(AES-GCM-16-128, HMAC-SHA2-256, X25519), KEi, Ni,
 *     N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)   -->
 *                                                              <--  HDR, SAr1, KEr, Nr, N(NAT_*)
 *                                                                   (or N(COOKIE): start again)
 *   HDR, SK{IDi, IDr, AUTH(PSK), SAi2(ESP AES-GCM-16-128), TSi, TSr} -->   (port 4500)
 *                                                              <--  HDR, SK{IDr, AUTH, SAr2, TSi,
 *                                                                   TSr}: one set-up counted
 *   HDR, SK{D(IKE)}                                                  -->   (unless --no-delete)
 *                                                              <--  HDR, SK{}
 *
 * The responder's AUTH is verified. By default our NAT_DETECTION_SOURCE_IP is false, so that every
 * responder sees us behind a NAT and does what strongSwan's kernel-libipsec makes charon do
 * anyway: IKE_AUTH on 4500, a UDP-encapsulated CHILD SA (the same work for both). The X25519 key
 * pair is made once and reused for every IKE SA (RFC 7296 2.12 allows it; --fresh-dh makes one per
 * IKE SA): the initiator then does one scalar multiplication per set-up where the responder does
 * two, so one initiator core can saturate one responder core. Requests are retransmitted after
 * --retransmit-ms, doubling, --tries times; then the slot counts a timeout and starts over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "ike_load.h"

static const struct ike_crypto_suite suite = {
	.encr = IKE_ENCR_AES_GCM_16,
	.encr_key_bits = 128,
	.prf = IKE_PRF_HMAC_SHA2_256,
	.dh = IKE_DH_CURVE25519,
};

uint64_t
load_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- building requests ----------------------------------------------------------------------
 */

/* SHA-1(SPIi | SPIr | IPv4 | port), RFC 7296 2.23 */
static void
nat_hash(uint64_t spi_i, uint64_t spi_r, struct in_addr a, uint16_t port, uint8_t *out)
{
	uint8_t buf[8 + 8 + 4 + 2];

	put64(buf, spi_i);
	put64(buf + 8, spi_r);
	memcpy(buf + 16, &a.s_addr, 4);
	buf[20] = (uint8_t)(port >> 8);
	buf[21] = (uint8_t)port;
	sha1_sse(buf, sizeof(buf), out);
}

static void
offer(struct ike_sa *sa, uint8_t proto, const uint8_t *spi, uint8_t spi_size)
{
	struct ike_proposal *p = &sa->prop[0];

	memset(p, 0, sizeof(*p));
	sa->n_proposals = 1;
	p->num = 1;
	p->proto = proto;
	p->spi_size = spi_size;
	if (spi_size > 0)
		memcpy(p->spi, spi, spi_size);
	p->xf[p->n_transforms++] = (struct ike_transform){
		.type = IKE_XF_ENCR, .id = IKE_ENCR_AES_GCM_16, .has_key_len = true, .key_len = 128
	};
	if (proto == IKE_PROTO_IKE) {
		p->xf[p->n_transforms++] =
			(struct ike_transform){ .type = IKE_XF_PRF, .id = IKE_PRF_HMAC_SHA2_256 };
		p->xf[p->n_transforms++] =
			(struct ike_transform){ .type = IKE_XF_DH, .id = IKE_DH_CURVE25519 };
	} else {
		p->xf[p->n_transforms++] =
			(struct ike_transform){ .type = IKE_XF_ESN, .id = IKE_ESN_NO };
	}
}

/* The request goes into s->tx after room for the non-ESP marker. */
static uint8_t *
tx_msg(struct slot *s)
{
	return s->tx + IKE_NON_ESP_MARKER_LEN;
}

static int
build_init(struct load *l, struct slot *s)
{
	struct ike_hdr h = { .spi_i = s->spi_i,
			     .exchange = IKE_SA_INIT,
			     .flags = IKE_FLAG_INITIATOR };
	const uint8_t *pk = l->o.fresh_dh ? s->dh_pk : l->dh_pk;
	uint8_t src[NAT_HASH_LEN], dst[NAT_HASH_LEN];
	struct ike_writer w;
	size_t n;

	if (l->o.real_nat)
		nat_hash(s->spi_i, 0, l->o.local, l->o.local_port, src);
	else
		randombytes_buf(src, sizeof(src)); /* "we are behind a NAT" */
	nat_hash(s->spi_i, 0, l->o.remote, l->o.remote_port, dst);
	offer(&l->wsa, IKE_PROTO_IKE, NULL, 0);
	ike_wr_init(&w, tx_msg(s), MSG_MAX, &h);
	if (s->cookie_len > 0) /* first, RFC 7296 2.6 */
		ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_COOKIE,
							.data = s->cookie,
							.len = s->cookie_len });
	ike_wr_sa(&w, &l->wsa);
	ike_wr_ke(&w, &(struct ike_ke){ .group = IKE_DH_CURVE25519, .data = pk, .len = 32 });
	ike_wr_nonce(&w, s->ni, sizeof(s->ni));
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_SOURCE_IP,
						.data = src,
						.len = sizeof(src) });
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_DESTINATION_IP,
						.data = dst,
						.len = sizeof(dst) });
	if (ike_wr_finish(&w, &n) < 0)
		return -EMSGSIZE;
	memcpy(s->msg_i, tx_msg(s), n); /* IKE_AUTH signs it as sent */
	s->msg_i_len = n;
	s->tx_len = n;
	return 0;
}

/* An ID payload's body as AUTH signs it (RFC 7296 2.15): type, three zero bytes, data. */
static size_t
id_body(const char *id, uint8_t *out)
{
	size_t len = strlen(id);

	out[0] = strchr(id, '@') != NULL ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id, len);
	return 4 + len;
}

static void
selector(uint32_t net, uint32_t mask, struct ike_ts *ts)
{
	uint32_t end = net | ~mask;

	memset(ts, 0, sizeof(*ts));
	ts->n = 1;
	ts->sel[0].type = IKE_TS_IPV4_ADDR_RANGE;
	ts->sel[0].end_port = 65535;
	memcpy(ts->sel[0].start, &net, 4);
	memcpy(ts->sel[0].end, &end, 4);
}

/* Begin an SK message of s (request msg_id of exchange). */
static void
begin_sk(struct slot *s, struct ike_writer *w, uint8_t exchange, uint32_t msg_id)
{
	struct ike_hdr h = { .spi_i = s->spi_i,
			     .spi_r = s->spi_r,
			     .exchange = exchange,
			     .flags = IKE_FLAG_INITIATOR,
			     .msg_id = msg_id };

	ike_wr_init(w, tx_msg(s), MSG_MAX, &h);
	ike_wr_sk_open(w, IKE_AEAD_IV_LEN);
}

static int
seal(struct slot *s, struct ike_writer *w)
{
	struct ike_sk_layout lay;
	size_t n;

	ike_wr_sk_close(w, 1, IKE_AEAD_ICV_LEN, &lay);
	if (ike_wr_finish(w, &n) < 0 || ike_keys_seal(s->keys, tx_msg(s), n, lay.aad_len) < 0)
		return -EMSGSIZE;
	s->tx_len = n;
	return 0;
}

static int
build_auth(struct load *l, struct slot *s)
{
	uint8_t idi[4 + 255], auth[IKE_PRF_MAX], spi[4];
	size_t idi_len = id_body(l->o.id, idi), auth_len;
	struct ike_writer w;
	struct ike_ts ts;

	if (ike_keys_psk_auth(s->keys, true, l->o.psk, l->o.psk_len,
			      &(struct ike_auth_octets){ .msg = s->msg_i,
							 .msg_len = s->msg_i_len,
							 .nonce = s->nr,
							 .nonce_len = s->nr_len,
							 .id = idi,
							 .id_len = idi_len },
			      auth, &auth_len) < 0)
		return -EINVAL;
	randombytes_buf(spi, sizeof(spi));
	spi[0] |= 0x10; /* >= 256 (RFC 4303 2.1) */
	begin_sk(s, &w, IKE_AUTH, 1);
	ike_wr_id(&w, IKE_PT_IDI,
		  &(struct ike_id){ .type = idi[0], .data = idi + 4, .len = idi_len - 4 });
	ike_wr_id(&w, IKE_PT_IDR,
		  &(struct ike_id){ .type = strchr(l->o.peer_id, '@') ? IKE_ID_RFC822_ADDR
								      : IKE_ID_FQDN,
				    .data = (const uint8_t *)l->o.peer_id,
				    .len = strlen(l->o.peer_id) });
	ike_wr_auth(&w,
		    &(struct ike_auth){ .method = IKE_AUTH_PSK, .data = auth, .len = auth_len });
	offer(&l->wsa, IKE_PROTO_ESP, spi, sizeof(spi));
	ike_wr_sa(&w, &l->wsa);
	selector(l->o.tsi_net, l->o.tsi_mask, &ts);
	ike_wr_ts(&w, IKE_PT_TSI, &ts);
	selector(l->o.tsr_net, l->o.tsr_mask, &ts);
	ike_wr_ts(&w, IKE_PT_TSR, &ts);
	return seal(s, &w);
}

static int
build_delete(struct slot *s)
{
	struct ike_writer w;

	begin_sk(s, &w, IKE_INFORMATIONAL, 2);
	ike_wr_delete(&w, &(struct ike_delete){ .proto = IKE_PROTO_IKE });
	return seal(s, &w);
}

/* ---- sending and the slots ------------------------------------------------------------------
 */

static void
transmit(struct load *l, struct slot *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = l->o.remote };
	const uint8_t *p = tx_msg(s);
	size_t len = s->tx_len;

	to.sin_port = htons(s->natt ? l->o.remote_natt_port : l->o.remote_port);
	if (s->natt) { /* the zero non-ESP marker in front */
		p -= IKE_NON_ESP_MARKER_LEN;
		len += IKE_NON_ESP_MARKER_LEN;
		memset(s->tx, 0, IKE_NON_ESP_MARKER_LEN);
	}
	/* a failed send is a lost datagram: the retransmission covers it */
	(void)sendto(l->fd[s->natt], p, len, 0, (struct sockaddr *)&to, sizeof(to));
}

static void
send_request(struct load *l, struct slot *s, uint64_t now)
{
	s->tries = 0;
	s->rt_ms = l->o.retransmit_ms;
	s->rt_next_ns = now + (uint64_t)s->rt_ms * 1000000ULL;
	transmit(l, s);
}

static void
free_slot(struct load *l, struct slot *s, uint64_t now)
{
	ike_keys_free(s->keys);
	s->keys = NULL;
	s->state = SLOT_FREE;
	l->inflight--;
	if (l->running)
		load_start(l, s, now);
}

static void
fail(struct load *l, struct slot *s, enum fail_reason why, uint64_t now)
{
	l->st.fail[why]++;
	free_slot(l, s, now);
}

void
load_start(struct load *l, struct slot *s, uint64_t now)
{
	uint64_t idx = (uint64_t)(s - l->slots);

	s->spi_i = ((uint64_t)randombytes_random() << 32 | randombytes_random()) << 16 | idx;
	s->spi_r = 0;
	s->started_ns = now;
	s->cookie_len = 0;
	s->cookie_rounds = 0;
	s->natt = false;
	randombytes_buf(s->ni, sizeof(s->ni));
	if (l->o.fresh_dh) {
		randombytes_buf(s->dh_sk, sizeof(s->dh_sk));
		crypto_scalarmult_base(s->dh_pk, s->dh_sk);
	}
	s->state = SLOT_INIT;
	l->inflight++;
	l->st.started++;
	if (build_init(l, s) < 0) { /* the slot stays free: no loop of failures */
		l->st.fail[FAIL_build]++;
		s->state = SLOT_FREE;
		l->inflight--;
		return;
	}
	send_request(l, s, now);
}

void
load_scan(struct load *l, uint64_t now)
{
	for (unsigned i = 0; i < l->o.window; i++) {
		struct slot *s = &l->slots[i];

		if (s->state == SLOT_FREE || s->rt_next_ns > now)
			continue;
		if (s->tries >= l->o.tries) {
			if (s->state == SLOT_DELETE) {
				l->st.delete_timeouts++; /* the set-up counted already */
				free_slot(l, s, now);
			} else {
				fail(l, s, FAIL_timeout, now);
			}
			continue;
		}
		s->tries++;
		s->rt_ms *= 2;
		s->rt_next_ns = now + (uint64_t)s->rt_ms * 1000000ULL;
		l->st.retransmits++;
		transmit(l, s);
	}
}

/* ---- answers ---------------------------------------------------------------------------------
 */

/* The first error notify of a chain (counted), or 0. */
static uint16_t
error_notify(struct load *l, const struct ike_payloads *p)
{
	for (uint8_t i = 0; i < p->n_notify; i++) {
		uint16_t t = p->notify[i].type;

		if (t != 0 && t <= IKE_N_ERROR_MAX) {
			l->st.notify[t < NOTIFY_TYPES ? t : 0]++;
			return t;
		}
	}
	return 0;
}

/* Is the answer's SA exactly one proposal of proto carrying our transforms? */
static bool
answer_ok(const struct ike_sa *sa, uint8_t proto)
{
	const struct ike_proposal *p = &sa->prop[0];
	bool encr = false, prf = proto != IKE_PROTO_IKE, dh = proto != IKE_PROTO_IKE;

	if (sa->n_proposals != 1 || p->proto != proto ||
	    p->spi_size != (proto == IKE_PROTO_IKE ? 0 : 4))
		return false;
	for (uint8_t i = 0; i < p->n_transforms; i++) {
		const struct ike_transform *x = &p->xf[i];

		encr |= x->type == IKE_XF_ENCR && x->id == IKE_ENCR_AES_GCM_16 && x->has_key_len &&
			x->key_len == 128;
		prf |= x->type == IKE_XF_PRF && x->id == IKE_PRF_HMAC_SHA2_256;
		dh |= x->type == IKE_XF_DH && x->id == IKE_DH_CURVE25519;
	}
	return encr && prf && dh;
}

/* Did the responder see a NAT, or do we? (only with --real-nat; else we claimed one) */
static bool
nat_seen(struct load *l, const struct slot *s, const struct ike_payloads *p)
{
	uint8_t src[NAT_HASH_LEN], dst[NAT_HASH_LEN];
	bool has = false, src_ok = false, dst_ok = false;

	nat_hash(s->spi_i, s->spi_r, l->o.remote, l->o.remote_port, src);
	nat_hash(s->spi_i, s->spi_r, l->o.local, l->o.local_port, dst);
	for (uint8_t i = 0; i < p->n_notify; i++) {
		const struct ike_notify *n = &p->notify[i];
		bool len_ok = n->len == NAT_HASH_LEN;

		if (n->type == IKE_N_NAT_DETECTION_SOURCE_IP) {
			has = true;
			src_ok |= len_ok && memcmp(n->data, src, NAT_HASH_LEN) == 0;
		} else if (n->type == IKE_N_NAT_DETECTION_DESTINATION_IP) {
			dst_ok |= len_ok && memcmp(n->data, dst, NAT_HASH_LEN) == 0;
		}
	}
	return has && (!src_ok || !dst_ok);
}

static void
on_init(struct load *l, struct slot *s, uint64_t now)
{
	const struct ike_payloads *p = &l->msg.pl;
	const struct ike_notify *cookie = ike_find_notify(p, IKE_N_COOKIE);
	uint8_t gir[32];
	const uint8_t *sk = l->o.fresh_dh ? s->dh_sk : l->dh_sk;
	struct ike_kex kex = { .ni = s->ni, .ni_len = sizeof(s->ni), .gir = gir, .gir_len = 32 };
	int rc;

	if (cookie != NULL) {
		if (s->cookie_rounds++ == COOKIE_ROUNDS || cookie->len == 0 ||
		    cookie->len > COOKIE_MAX) {
			fail(l, s, FAIL_cookie, now);
			return;
		}
		l->st.cookies++;
		memcpy(s->cookie, cookie->data, cookie->len);
		s->cookie_len = (uint8_t)cookie->len;
		if (build_init(l, s) < 0)
			fail(l, s, FAIL_build, now);
		else
			send_request(l, s, now);
		return;
	}
	if (error_notify(l, p) != 0) {
		fail(l, s, FAIL_notify, now);
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_KE) || !ike_has(p, IKE_PT_NONCE) ||
	    l->msg.hdr.spi_r == 0 || p->ke.group != IKE_DH_CURVE25519 || p->ke.len != 32 ||
	    !answer_ok(&p->sa, IKE_PROTO_IKE) || l->msg.len > MSG_MAX) {
		fail(l, s, FAIL_proposal, now);
		return;
	}
	s->spi_r = l->msg.hdr.spi_r;
	memcpy(s->nr, p->nonce.data, p->nonce.len);
	s->nr_len = p->nonce.len;
	memcpy(s->msg_r, l->msg.raw, l->msg.len); /* our AUTH check signs it */
	s->msg_r_len = l->msg.len;
	s->natt = !l->o.real_nat || nat_seen(l, s, p);
	if (crypto_scalarmult(gir, sk, p->ke.data) != 0) {
		fail(l, s, FAIL_crypto, now);
		return;
	}
	kex.nr = s->nr;
	kex.nr_len = s->nr_len;
	put64(kex.spi_i, s->spi_i);
	put64(kex.spi_r, s->spi_r);
	rc = ike_keys_derive(l->cx, &suite, true, &kex, &s->keys);
	sodium_memzero(gir, sizeof(gir));
	if (rc < 0) {
		fail(l, s, FAIL_crypto, now);
		return;
	}
	if (build_auth(l, s) < 0) {
		fail(l, s, FAIL_build, now);
		return;
	}
	s->state = SLOT_AUTH;
	send_request(l, s, now);
}

/* Open the SK payload of l->msg (at buf) into l->inner. false: dropped (counted). */
static bool
open_sk(struct load *l, struct slot *s, uint8_t *buf)
{
	struct ike_sk_layout lay;
	size_t inner_len;

	if (ike_sk_locate(&l->msg, IKE_AEAD_IV_LEN, IKE_AEAD_ICV_LEN, &lay) != IKE_OK) {
		l->st.bad_message++;
		return false;
	}
	if (ike_keys_open(s->keys, buf, l->msg.len, lay.aad_len) < 0) {
		l->st.bad_icv++;
		return false;
	}
	if (ike_sk_unpad(buf + lay.ct_off, lay.ct_len, &inner_len) != IKE_OK ||
	    ike_payloads_parse(lay.first_inner, buf + lay.ct_off, inner_len, lay.ct_off, true,
			       &l->inner) != IKE_OK) {
		l->st.bad_message++;
		return false;
	}
	return true;
}

static void
delete_ike_sa(struct load *l, struct slot *s, uint64_t now)
{
	if (build_delete(s) < 0) {
		fail(l, s, FAIL_build, now);
		return;
	}
	s->state = SLOT_DELETE;
	send_request(l, s, now);
}

static void
on_auth(struct load *l, struct slot *s, uint8_t *buf, uint64_t now)
{
	const struct ike_payloads *p = &l->inner;
	bool ike_up;

	if (!open_sk(l, s, buf))
		return; /* the retransmission may fetch a good one */
	ike_up = ike_has(p, IKE_PT_IDR) && ike_has(p, IKE_PT_AUTH);
	if (error_notify(l, p) != 0) {
		/* an IKE SA may stand without its CHILD SA: delete it */
		l->st.fail[FAIL_notify]++;
		if (ike_up)
			delete_ike_sa(l, s, now);
		else
			free_slot(l, s, now);
		return;
	}
	if (!ike_up || p->auth.method != IKE_AUTH_PSK ||
	    ike_keys_psk_verify(s->keys, false, l->o.psk, l->o.psk_len,
				&(struct ike_auth_octets){ .msg = s->msg_r,
							   .msg_len = s->msg_r_len,
							   .nonce = s->ni,
							   .nonce_len = sizeof(s->ni),
							   .id = p->idr.body,
							   .id_len = p->idr.body_len },
				p->auth.data, p->auth.len) < 0) {
		fail(l, s, FAIL_auth, now);
		return;
	}
	if (!ike_has(p, IKE_PT_SA) || !ike_has(p, IKE_PT_TSI) || !ike_has(p, IKE_PT_TSR) ||
	    !answer_ok(&p->sa, IKE_PROTO_ESP)) {
		l->st.fail[FAIL_child]++;
		delete_ike_sa(l, s, now);
		return;
	}
	l->st.setups++;
	if (l->counting) {
		if (l->n_lat == l->cap_lat) {
			size_t cap = l->cap_lat ? 2 * l->cap_lat : 65536;
			uint32_t *v = realloc(l->lat_us, cap * sizeof(*v));

			if (v != NULL) {
				l->lat_us = v;
				l->cap_lat = cap;
			}
		}
		if (l->n_lat < l->cap_lat)
			l->lat_us[l->n_lat++] = (uint32_t)((now - s->started_ns) / 1000);
	}
	if (l->o.no_delete)
		free_slot(l, s, now);
	else
		delete_ike_sa(l, s, now);
}

static void
on_delete(struct load *l, struct slot *s, uint8_t *buf, uint64_t now)
{
	if (!open_sk(l, s, buf))
		return;
	l->st.deletes++;
	free_slot(l, s, now);
}

void
load_input(struct load *l, uint8_t *buf, size_t len, uint64_t now)
{
	const struct ike_hdr *h = &l->msg.hdr;
	struct slot *s;
	uint64_t idx;

	if (ike_msg_parse(buf, len, &l->msg) != IKE_OK) {
		l->st.bad_message++;
		return;
	}
	if (!(h->flags & IKE_FLAG_RESPONSE)) {
		l->st.requests++;
		return;
	}
	idx = h->spi_i & 0xffff;
	s = idx < l->o.window ? &l->slots[idx] : NULL;
	if (s == NULL || s->state == SLOT_FREE || s->spi_i != h->spi_i) {
		l->st.stray++;
		return;
	}
	if (s->state == SLOT_INIT && h->exchange == IKE_SA_INIT && h->msg_id == 0)
		on_init(l, s, now);
	else if (s->state == SLOT_AUTH && h->exchange == IKE_AUTH && h->msg_id == 1 &&
		 h->spi_r == s->spi_r)
		on_auth(l, s, buf, now);
	else if (s->state == SLOT_DELETE && h->exchange == IKE_INFORMATIONAL && h->msg_id == 2 &&
		 h->spi_r == s->spi_r)
		on_delete(l, s, buf, now);
	else
		l->st.stray++;
}
