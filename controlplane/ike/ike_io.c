/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's message plumbing (the sockets are ike_udp.c's, or the router's): ike_input takes a
 * datagram, parses it, finds its IKE SA, applies the message ID window (window size 1: a
 * retransmitted request is answered with the stored response, byte for byte, without being
 * processed again), opens the SK payload and hands the inner chain to the exchange's file. The
 * senders seal SK payloads, store what they sent (responses for retransmitted requests, requests
 * for ike_tick to retransmit) and pass datagrams to the send callback.
 *
 * Nothing from the wire is trusted: each failure is counted (bad_message, bad_icv, unknown_spi,
 * bad_msg_id) and the datagram dropped; the parser's reason goes to the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

/* ---- sending --------------------------------------------------------------------------------- */

void
ike_send_to(struct ike_engine *e, const struct ike_dgram *to, const uint8_t *msg, size_t len)
{
	struct ike_dgram d = *to;

	d.data = msg;
	d.len = len;
	e->st.tx++;
	e->io.send(e->io.ctx, &d);
}

void
ike_send_ep(struct ike_engine *e, const struct ike_ep *ep, const uint8_t *msg, size_t len)
{
	struct ike_dgram d = { .local = ep->local,
			       .remote = ep->remote,
			       .local_port = ep->local_port,
			       .remote_port = ep->remote_port };

	ike_send_to(e, &d, msg, len);
}

void
ike_msg_begin(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w, uint8_t exchange,
	      bool response, uint32_t msg_id)
{
	struct ike_hdr h = { .spi_i = sa->spi_i,
			     .spi_r = sa->spi_r,
			     .exchange = exchange,
			     .flags = (uint8_t)((sa->initiator ? IKE_FLAG_INITIATOR : 0) |
						(response ? IKE_FLAG_RESPONSE : 0)),
			     .msg_id = msg_id };

	ike_wr_init(w, e->tx, sizeof(e->tx), &h);
	ike_wr_sk_open(w, IKE_AEAD_IV_LEN);
}

/* Close the SK payload and encrypt: e->tx[0, *len) is ready to send. */
static int
seal(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w, size_t *len)
{
	struct ike_sk_layout lay;
	int rc;

	/* AEADs need no padding beyond the pad length byte (RFC 5282 3, RFC 7634 3) */
	ike_wr_sk_close(w, 1, IKE_AEAD_ICV_LEN, &lay);
	rc = ike_wr_finish(w, len);
	if (rc == 0)
		rc = ike_keys_seal(sa->keys, e->tx, *len, lay.aad_len);
	if (rc < 0)
		ike_log(e, 0, "IKE SA %016llx_i: cannot build a message (%d)",
			(unsigned long long)sa->spi_i, rc);
	return rc;
}

static int
keep(uint8_t **buf, size_t *len, const uint8_t *msg, size_t n)
{
	uint8_t *b = realloc(*buf, n);

	if (b == NULL)
		return -ENOMEM;
	memcpy(b, msg, n);
	*buf = b;
	*len = n;
	return 0;
}

int
ike_send_response(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w,
		  const struct ike_dgram *d)
{
	size_t len;
	int rc = seal(e, sa, w, &len);

	/* the request is answered even if we cannot say so: its ID is used up either way */
	sa->rx_next++;
	if (rc < 0)
		return rc;
	sa->resp.valid = keep(&sa->resp.buf, &sa->resp.len, e->tx, len) == 0;
	memcpy(sa->resp.hash, e->rx_hash, IKE_HASH_LEN);
	ike_send_to(e, d, e->tx, len);
	return 0;
}

int
ike_send_request_plain(struct ike_engine *e, struct ike_sa_obj *sa, const uint8_t *msg, size_t len,
		       enum ike_req_kind kind, uint64_t now)
{
	if (keep(&sa->req.buf, &sa->req.len, msg, len) < 0)
		return -ENOMEM;
	sa->req.kind = kind;
	sa->req.tries = 0;
	sa->req.interval_ms = e->rt_base_ms;
	sa->req.next_ms = now + e->rt_base_ms;
	ike_send_ep(e, &sa->ep, msg, len);
	ike_sa_schedule(e, sa);
	return 0;
}

int
ike_send_request(struct ike_engine *e, struct ike_sa_obj *sa, struct ike_writer *w,
		 enum ike_req_kind kind, uint64_t now)
{
	size_t len;
	int rc = seal(e, sa, w, &len);

	if (rc < 0)
		return rc;
	sa->req.msg_id = sa->tx_next++;
	return ike_send_request_plain(e, sa, e->tx, len, kind, now);
}

void
ike_req_done(struct ike_sa_obj *sa)
{
	sa->req.kind = IKE_REQ_NONE;
	free(sa->req.buf);
	sa->req.buf = NULL;
	sa->req.len = 0;
}

int
ike_seal_raw(struct ike_engine *e, struct ike_sa_obj *sa, uint8_t exchange, bool response,
	     uint32_t msg_id, uint8_t first, const uint8_t *chain, size_t len, uint8_t *out,
	     size_t cap, size_t *out_len)
{
	struct ike_writer w;
	size_t n;
	int rc;

	*out_len = 0;
	ike_msg_begin(e, sa, &w, exchange, response, msg_id);
	if (w.err == 0 && w.cap - w.len >= len) {
		/* the chain as given: its first type goes into the SK header's next payload */
		w.buf[w.np_off] = first;
		memcpy(w.buf + w.len, chain, len);
		w.len += len;
	} else {
		w.err = -ENOSPC;
	}
	rc = seal(e, sa, &w, &n);
	if (rc < 0)
		return rc;
	if (n > cap)
		return -ENOSPC;
	memcpy(out, e->tx, n);
	*out_len = n;
	return 0;
}

/* ---- receiving ------------------------------------------------------------------------------- */

static void
drop(struct ike_engine *e, enum ike_err err, const char *what)
{
	e->st.bad_message++;
	ike_log(e, 2, "dropped %s: %s (%s)", what, ike_err_name(err), ike_err_desc(err));
}

/* A request of the peer: a retransmission (answered from the store), the next in the window, or
 * out of it. true: go on and process it. */
static bool
request_window(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
	       const struct ike_hdr *h)
{
	if (h->msg_id + 1 == sa->rx_next && sa->resp.valid) {
		if (sodium_memcmp(sa->resp.hash, e->rx_hash, IKE_HASH_LEN) == 0) {
			e->st.retransmits++;
			ike_send_to(e, d, sa->resp.buf, sa->resp.len);
		} else {
			e->st.bad_msg_id++; /* same ID, other bytes: not a retransmission */
		}
		return false;
	}
	if (h->msg_id != sa->rx_next) {
		e->st.bad_msg_id++;
		return false;
	}
	return true;
}

/* Open the SK payload of e->msg in place and parse the inner chain into e->inner. 0, -EBADMSG
 * (counted), or an ike_err > 0 from the inner chain (not counted: the caller may answer it). */
static int
open_sk(struct ike_engine *e, struct ike_sa_obj *sa)
{
	struct ike_sk_layout lay;
	enum ike_err err;
	size_t inner_len;

	err = ike_sk_locate(&e->msg, IKE_AEAD_IV_LEN, IKE_AEAD_ICV_LEN, &lay);
	if (err != IKE_OK) {
		drop(e, err, "SK payload");
		return -EBADMSG;
	}
	if (ike_keys_open(sa->keys, e->rx, e->msg.len, lay.aad_len) < 0) {
		e->st.bad_icv++;
		return -EBADMSG;
	}
	err = ike_sk_unpad(e->rx + lay.ct_off, lay.ct_len, &inner_len);
	if (err != IKE_OK) {
		drop(e, err, "SK payload");
		return -EBADMSG;
	}
	return (int)ike_payloads_parse(lay.first_inner, e->rx + lay.ct_off, inner_len, lay.ct_off,
				       true, &e->inner);
}

/* NAT-T (RFC 7296 2.23): behind a NAT, the peer's address and port are whatever its last
 * authenticated message came from. */
static void
follow_peer(struct ike_sa_obj *sa, const struct ike_dgram *d, uint64_t now)
{
	sa->last_rx_ms = now;
	if (!sa->nat_here && !sa->nat_there)
		return;
	sa->ep.local = d->local;
	sa->ep.local_port = d->local_port;
	sa->ep.remote = d->remote;
	sa->ep.remote_port = d->remote_port;
}

static void
dispatch_request(struct ike_engine *e, struct ike_sa_obj *sa, const struct ike_dgram *d,
		 uint64_t now)
{
	switch (e->msg.hdr.exchange) {
	case IKE_AUTH:
		ike_auth_request(e, sa, d, now);
		break;
	case IKE_INFORMATIONAL:
		ike_info_request(e, sa, d, now);
		break;
	case IKE_CREATE_CHILD_SA:
		ike_child_request(e, sa, d, now);
		break;
	default:
		/* an exchange we do not know, authenticated: say so, keep the window moving */
		ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		break;
	}
}

static void
dispatch_response(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	switch (sa->req.kind) {
	case IKE_REQ_AUTH:
		ike_auth_response(e, sa, now);
		break;
	case IKE_REQ_DPD:
	case IKE_REQ_DELETE_CHILD:
	case IKE_REQ_DELETE_IKE:
		ike_info_response(e, sa, now);
		break;
	case IKE_REQ_CREATE_CHILD:
		ike_child_response(e, sa, now);
		break;
	default:
		break;
	}
}

static void
input_encrypted(struct ike_engine *e, const struct ike_dgram *d, uint64_t now)
{
	const struct ike_hdr *h = &e->msg.hdr;
	bool response = h->flags & IKE_FLAG_RESPONSE;
	bool from_initiator = h->flags & IKE_FLAG_INITIATOR;
	struct ike_sa_obj *sa = ike_sa_find(e, from_initiator ? h->spi_r : h->spi_i);
	int rc;

	/* the sender's role must be the other one, and both SPIs ours to know */
	if (sa == NULL || sa->initiator == from_initiator || sa->spi_i != h->spi_i ||
	    sa->spi_r != h->spi_r || sa->keys == NULL) {
		e->st.unknown_spi++;
		return;
	}
	if (!response && !request_window(e, sa, d, h))
		return;
	if (response && (sa->req.kind == IKE_REQ_NONE || sa->req.kind == IKE_REQ_INIT ||
			 h->msg_id != sa->req.msg_id)) {
		e->st.bad_msg_id++;
		return;
	}
	rc = open_sk(e, sa);
	if (rc < 0)
		return;
	follow_peer(sa, d, now);
	if (rc != IKE_OK) {
		enum ike_err err = (enum ike_err)rc;

		drop(e, err, "inner payloads");
		if (response)
			return; /* the retransmission timer decides */
		if (err == IKE_ERR_UNSUPPORTED_CRITICAL) {
			uint8_t type = e->inner.err_type;

			e->st.unsupported_critical++;
			ike_info_refuse(e, sa, d, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, &type, 1);
		} else {
			ike_info_refuse(e, sa, d, IKE_N_INVALID_SYNTAX, NULL, 0);
		}
		if (sa->state == IKE_ST_HALF_OPEN)
			ike_sa_gone(e, sa, now);
		return;
	}
	if (response)
		dispatch_response(e, sa, now);
	else
		dispatch_request(e, sa, d, now);
}

void
ike_input(struct ike_engine *e, const struct ike_dgram *d, uint64_t now)
{
	enum ike_err err;

	e->st.rx++;
	if (e->cookie_rotate_ms == 0)
		ike_cookie_rotate(e, now);
	if (d->data == NULL || d->len > sizeof(e->rx) || d->len < IKE_HDR_LEN ||
	    (d->local.family != 4 && d->local.family != 6) || d->local.family != d->remote.family) {
		drop(e, IKE_ERR_TRUNCATED, "datagram");
		return;
	}
	/* a copy: the SK payload is decrypted in place and payloads point into it */
	memcpy(e->rx, d->data, d->len);
	crypto_generichash(e->rx_hash, IKE_HASH_LEN, e->rx, d->len, NULL, 0);
	err = ike_msg_parse(e->rx, d->len, &e->msg);
	if (err == IKE_ERR_UNSUPPORTED_CRITICAL && e->msg.hdr.exchange == IKE_SA_INIT &&
	    !(e->msg.hdr.flags & IKE_FLAG_RESPONSE) && e->msg.hdr.spi_r == 0) {
		e->st.unsupported_critical++;
		ike_init_refuse_critical(e, d);
		return;
	}
	if (err != IKE_OK) {
		drop(e, err, "message");
		return;
	}
	if (e->msg.hdr.exchange != IKE_SA_INIT) {
		input_encrypted(e, d, now);
		return;
	}
	if (!(e->msg.hdr.flags & IKE_FLAG_RESPONSE)) {
		if (!(e->msg.hdr.flags & IKE_FLAG_INITIATOR) || e->msg.hdr.msg_id != 0 ||
		    e->msg.hdr.spi_r != 0) {
			e->st.bad_msg_id++;
			return;
		}
		ike_init_request(e, d, now);
	} else {
		struct ike_sa_obj *sa = ike_sa_find(e, e->msg.hdr.spi_i);

		if (sa == NULL || !sa->initiator || (e->msg.hdr.flags & IKE_FLAG_INITIATOR)) {
			e->st.unknown_spi++;
			return;
		}
		if (sa->state != IKE_ST_INIT_SENT || e->msg.hdr.msg_id != 0) {
			e->st.bad_msg_id++;
			return;
		}
		ike_init_response(e, sa, d, now);
	}
}
