/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sealed router<->target channel (protocol in dist_chan.h). Bytes in: dist_chan_feed buffers
 * them, dist_chan_next cuts frames, verifies the peer's hello once, then opens each frame with the
 * receive secretstream and hands the plaintext to dist_msg_decode. Messages out: dist_chan_seal
 * encodes and pushes them through the send secretstream. All key material and plaintext live in
 * one sodium_malloc'd block that is wiped on free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dist_chan.h"

#define HELLO_MAGIC	 "DVC1"
#define HELLO_VERSION	 1
#define HELLO_LEN	 104 /* magic 4, version 1, role 1, reserved 2, pk 32, nonce 32, mac 32 */
#define HELLO_MAC_OFF	 72
#define NONCE_LEN	 32
#define STREAM_HDR_LEN	 crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define STREAM_ABYTES	 crypto_secretstream_xchacha20poly1305_ABYTES
#define IN_CAP		 (4 * DIST_SEAL_MAX)
#define KDF_CTX		 "dvdisthl"
#define KDF_ID_HELLO_MAC 1

_Static_assert(HELLO_LEN + DIST_FRAME_LEN_SIZE == DIST_HELLO_FRAME_LEN, "hello frame length");
_Static_assert(STREAM_HDR_LEN == 24 && STREAM_ABYTES == 17, "DIST_SEAL_MAX assumes these");
_Static_assert(crypto_kx_PUBLICKEYBYTES == 32 && crypto_auth_BYTES == 32, "hello layout");
_Static_assert(IN_CAP >= DIST_FRAME_LEN_SIZE + DIST_FRAME_MAX, "a whole frame fits");

/* Everything secret, plus the plaintext scratch buffer, in guarded memory. */
struct chan_secrets {
	uint8_t psk[DIST_CHAN_KEY_LEN];
	uint8_t hello_key[crypto_auth_KEYBYTES];
	uint8_t kx_pk[crypto_kx_PUBLICKEYBYTES];
	uint8_t kx_sk[crypto_kx_SECRETKEYBYTES];
	uint8_t nonce[NONCE_LEN];
	uint8_t tx_header[STREAM_HDR_LEN];
	uint8_t rx_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	crypto_secretstream_xchacha20poly1305_state push;
	crypto_secretstream_xchacha20poly1305_state pull;
	uint8_t plain[DIST_MSG_MAX_LEN];
};

struct dist_chan {
	enum dist_role role;
	bool hello_sent;
	bool keyed;	 /* the peer's hello verified, both stream keys derived */
	bool tx_started; /* our stream header went out */
	bool rx_started; /* the peer's stream header came in */
	bool poisoned;
	struct chan_secrets *s;
	size_t in_len;
	uint8_t in[IN_CAP];
};

static uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
poison(struct dist_chan *c, int err)
{
	c->poisoned = true;
	c->in_len = 0;
	return err;
}

struct dist_chan *
dist_chan_new(enum dist_role role, const uint8_t psk[DIST_CHAN_KEY_LEN])
{
	struct dist_chan *c;

	if (role != DIST_ROLE_ROUTER && role != DIST_ROLE_TARGET)
		return NULL;
	if (sodium_init() < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->s = sodium_malloc(sizeof(*c->s));
	if (c->s == NULL)
		goto free_chan;
	sodium_memzero(c->s, sizeof(*c->s));
	c->role = role;
	memcpy(c->s->psk, psk, DIST_CHAN_KEY_LEN);
	crypto_kdf_derive_from_key(c->s->hello_key, sizeof(c->s->hello_key), KDF_ID_HELLO_MAC,
				   KDF_CTX, c->s->psk);
	if (crypto_kx_keypair(c->s->kx_pk, c->s->kx_sk) != 0)
		goto free_secrets;
	randombytes_buf(c->s->nonce, sizeof(c->s->nonce));
	return c;

free_secrets:
	sodium_free(c->s);
free_chan:
	free(c);
	return NULL;
}

void
dist_chan_free(struct dist_chan *c)
{
	if (c == NULL)
		return;
	sodium_free(c->s);
	free(c);
}

bool
dist_chan_ready(const struct dist_chan *c)
{
	return !c->poisoned && c->hello_sent && c->keyed;
}

bool
dist_chan_poisoned(const struct dist_chan *c)
{
	return c->poisoned;
}

static void
hello_fill(const struct dist_chan *c, uint8_t h[HELLO_LEN])
{
	memcpy(h, HELLO_MAGIC, 4);
	h[4] = HELLO_VERSION;
	h[5] = (uint8_t)c->role;
	h[6] = 0;
	h[7] = 0;
	memcpy(h + 8, c->s->kx_pk, 32);
	memcpy(h + 40, c->s->nonce, NONCE_LEN);
	crypto_auth(h + HELLO_MAC_OFF, h, HELLO_MAC_OFF, c->s->hello_key);
}

int
dist_chan_hello(struct dist_chan *c, uint8_t *out, size_t cap, size_t *len)
{
	if (c->poisoned)
		return -EBADMSG;
	if (c->hello_sent)
		return -EALREADY;
	if (cap < DIST_HELLO_FRAME_LEN)
		return -ENOSPC;
	store_be32(out, HELLO_LEN);
	hello_fill(c, out + DIST_FRAME_LEN_SIZE);
	c->hello_sent = true;
	*len = DIST_HELLO_FRAME_LEN;
	return 0;
}

/* One direction's key: BLAKE2b keyed with the control key over the direction, the crypto_kx key
 * of that direction, and both hellos' public keys and nonces (router's first). */
static void
derive_key(const struct chan_secrets *s, const char *label, const uint8_t kx_key[32],
	   const uint8_t *router_pk, const uint8_t *router_nonce, const uint8_t *target_pk,
	   const uint8_t *target_nonce, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, s->psk, DIST_CHAN_KEY_LEN, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, kx_key, 32);
	crypto_generichash_update(&st, router_pk, 32);
	crypto_generichash_update(&st, router_nonce, NONCE_LEN);
	crypto_generichash_update(&st, target_pk, 32);
	crypto_generichash_update(&st, target_nonce, NONCE_LEN);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

static int
hello_accept(struct dist_chan *c, const uint8_t h[HELLO_LEN])
{
	struct chan_secrets *s = c->s;
	const uint8_t *peer_pk = h + 8, *peer_nonce = h + 40;
	const uint8_t *router_pk, *router_nonce, *target_pk, *target_nonce;
	uint8_t kx_rx[crypto_kx_SESSIONKEYBYTES], kx_tx[crypto_kx_SESSIONKEYBYTES];
	uint8_t tx_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	enum dist_role peer_role =
		c->role == DIST_ROLE_ROUTER ? DIST_ROLE_TARGET : DIST_ROLE_ROUTER;
	int kx_rc;

	if (memcmp(h, HELLO_MAGIC, 4) != 0 || h[4] != HELLO_VERSION || h[6] != 0 || h[7] != 0)
		return -EPROTO;
	if (crypto_auth_verify(h + HELLO_MAC_OFF, h, HELLO_MAC_OFF, s->hello_key) != 0)
		return -EACCES;
	/* Our own hello reflected back verifies too; the role byte catches it. */
	if (h[5] != (uint8_t)peer_role)
		return -EPROTO;

	if (c->role == DIST_ROLE_TARGET) {
		kx_rc = crypto_kx_client_session_keys(kx_rx, kx_tx, s->kx_pk, s->kx_sk, peer_pk);
		router_pk = peer_pk, router_nonce = peer_nonce;
		target_pk = s->kx_pk, target_nonce = s->nonce;
	} else {
		kx_rc = crypto_kx_server_session_keys(kx_rx, kx_tx, s->kx_pk, s->kx_sk, peer_pk);
		router_pk = s->kx_pk, router_nonce = s->nonce;
		target_pk = peer_pk, target_nonce = peer_nonce;
	}
	if (kx_rc != 0)
		return -EPROTO; /* a degenerate public key */

	const char *tx_label =
		c->role == DIST_ROLE_ROUTER ? "dvipsec-dist r2t" : "dvipsec-dist t2r";
	const char *rx_label =
		c->role == DIST_ROLE_ROUTER ? "dvipsec-dist t2r" : "dvipsec-dist r2t";

	derive_key(s, tx_label, kx_tx, router_pk, router_nonce, target_pk, target_nonce, tx_key);
	derive_key(s, rx_label, kx_rx, router_pk, router_nonce, target_pk, target_nonce, s->rx_key);
	crypto_secretstream_xchacha20poly1305_init_push(&s->push, s->tx_header, tx_key);
	sodium_memzero(kx_rx, sizeof(kx_rx));
	sodium_memzero(kx_tx, sizeof(kx_tx));
	sodium_memzero(tx_key, sizeof(tx_key));
	sodium_memzero(s->kx_sk, sizeof(s->kx_sk)); /* no second handshake on this channel */
	c->keyed = true;
	return 0;
}

size_t
dist_chan_room(const struct dist_chan *c)
{
	return c->poisoned ? 0 : IN_CAP - c->in_len;
}

int
dist_chan_feed(struct dist_chan *c, const uint8_t *in, size_t len)
{
	if (c->poisoned)
		return -EBADMSG;
	if (len > IN_CAP - c->in_len)
		return -ENOBUFS;
	memcpy(c->in + c->in_len, in, len);
	c->in_len += len;
	return 0;
}

static void
consume(struct dist_chan *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Open one sealed frame's payload into s->plain; returns the plaintext length or -EBADMSG. */
static int
frame_open(struct dist_chan *c, const uint8_t *p, size_t n)
{
	struct chan_secrets *s = c->s;
	unsigned long long mlen;
	unsigned char tag;

	if (!c->rx_started) {
		if (n < STREAM_HDR_LEN ||
		    crypto_secretstream_xchacha20poly1305_init_pull(&s->pull, p, s->rx_key) != 0)
			return -EBADMSG;
		sodium_memzero(s->rx_key, sizeof(s->rx_key));
		c->rx_started = true;
		p += STREAM_HDR_LEN;
		n -= STREAM_HDR_LEN;
	}
	if (n < STREAM_ABYTES || n - STREAM_ABYTES > sizeof(s->plain))
		return -EBADMSG;
	if (crypto_secretstream_xchacha20poly1305_pull(&s->pull, s->plain, &mlen, &tag, p, n, NULL,
						       0) != 0)
		return -EBADMSG;
	if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
		return -EBADMSG;
	return (int)mlen;
}

int
dist_chan_next(struct dist_chan *c, struct dist_msg *out)
{
	size_t flen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (c->poisoned)
		return -EBADMSG;
	for (;;) {
		if (c->in_len < DIST_FRAME_LEN_SIZE)
			return -EAGAIN;
		flen = load_be32(c->in);
		/* Lengths are judged before the frame is buffered. */
		if (!c->keyed && flen != HELLO_LEN)
			return poison(c, -EPROTO);
		if (flen > DIST_FRAME_MAX)
			return poison(c, -EBADMSG);
		if (c->in_len - DIST_FRAME_LEN_SIZE < flen)
			return -EAGAIN;

		const uint8_t *payload = c->in + DIST_FRAME_LEN_SIZE;

		if (!c->keyed) {
			rc = hello_accept(c, payload);
			if (rc < 0)
				return poison(c, rc);
			consume(c, DIST_FRAME_LEN_SIZE + flen);
			continue;
		}
		rc = frame_open(c, payload, flen);
		consume(c, DIST_FRAME_LEN_SIZE + flen);
		if (rc < 0)
			return poison(c, rc);
		size_t mlen = (size_t)rc;

		rc = dist_msg_decode(c->s->plain, mlen, out);
		sodium_memzero(c->s->plain, mlen);
		if (rc < 0)
			return poison(c, rc == -ENOMEM ? rc : -EBADMSG);
		return 0;
	}
}

int
dist_chan_seal(struct dist_chan *c, const struct dist_msg *m, uint8_t *out, size_t cap, size_t *len)
{
	struct chan_secrets *s = c->s;
	size_t mlen, hdr, need;
	int rc;

	if (c->poisoned)
		return -EBADMSG;
	if (!dist_chan_ready(c))
		return -ENOTCONN;
	rc = dist_msg_encode(m, s->plain, sizeof(s->plain), &mlen);
	if (rc < 0)
		return rc == -ENOSPC ? -EINVAL : rc;
	hdr = c->tx_started ? 0 : STREAM_HDR_LEN;
	need = DIST_FRAME_LEN_SIZE + hdr + mlen + STREAM_ABYTES;
	if (cap < need) {
		sodium_memzero(s->plain, mlen);
		return -ENOSPC;
	}
	store_be32(out, (uint32_t)(need - DIST_FRAME_LEN_SIZE));
	memcpy(out + DIST_FRAME_LEN_SIZE, s->tx_header, hdr);
	crypto_secretstream_xchacha20poly1305_push(
		&s->push, out + DIST_FRAME_LEN_SIZE + hdr, NULL, s->plain, mlen, NULL, 0,
		crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	sodium_memzero(s->plain, mlen);
	c->tx_started = true;
	*len = need;
	return 0;
}
