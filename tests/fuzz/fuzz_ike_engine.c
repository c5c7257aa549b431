/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the IKE engine: arbitrary datagrams and, sealed with real keys so they pass
 * the ICV, arbitrary payload chains, into a responder and an initiator at every point of an
 * exchange. Randomness is deterministic per input (libsodium's randombytes replaced, reseeded for
 * every input), so SPIs, nonces and keys repeat and every crash reproduces. Input byte 0 picks:
 *   0  a datagram to the responder (byte 1 bit 0: on port 4500)
 *   1  a datagram to an initiator waiting for its IKE_SA_INIT answer (SPIi patched in)
 *   2  an established pair: byte 1 the exchange, byte 2 the first payload type, the rest a
 *      chain, sealed as the initiator's next request, to the responder
 *   3  the same pair, the initiator waiting for the answer to its Delete: a chain sealed as that
 *      answer
 *   4  a half-open responder: the initiator's real IDi, IDr and AUTH, then byte 1 as the next
 *      payload type and the rest as the chain (SA, TS, notifies: the first CHILD SA's paths)
 *   5  an initiator waiting for IKE_AUTH's answer: the responder's real IDr and AUTH, then the
 *      same
 *   6  an established pair, the initiator's real CREATE_CHILD_SA request (byte 1: bit 0 an IKE
 *      SA rekey, else a CHILD SA rekey; bit 1 PFS configured both sides; bit 2 the responder
 *      rekeys the same SA at once, a collision): its decrypted chain XORed with the rest of the
 *      input (the first byte onto the first payload type; input beyond the chain appended),
 *      sealed again, to the responder; everything that follows is delivered
 *   7  the same, but the request goes as it is and the responder's answer is XORed
 * After each input the engines get a timer tick far in the future and are freed: crashes, leaks
 * and sanitizer reports are the failures.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- deterministic randombytes ---- */

static uint64_t rng;

static uint64_t
next64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *
rng_name(void)
{
	return "fuzz";
}

static uint32_t
rng_random(void)
{
	return (uint32_t)next64();
}

static void
rng_buf(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)next64();
}

static randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

/* ---- two engines and a queue ---- */

#define QLEN 16

struct pkt {
	int to;
	struct ike_dgram d;
	uint8_t buf[IKE_MAX_DGRAM];
};

static struct pkt queue[QLEN];
static int q_len;
static struct ike_config cfg[2]; /* [0] initiator, [1] responder */
static struct ike_engine *eng[2];
static struct esp_addr addr[2];
static uint8_t work[IKE_MAX_DGRAM + 4096];

static void
on_send(void *ctx, const struct ike_dgram *d)
{
	struct pkt *p;

	if (q_len == QLEN)
		return; /* the network lost it */
	p = &queue[q_len++];
	p->to = ctx == &cfg[0] ? 1 : 0;
	p->d = (struct ike_dgram){ .local = d->remote,
				   .remote = d->local,
				   .local_port = d->remote_port,
				   .remote_port = d->local_port,
				   .data = p->buf,
				   .len = d->len };
	memcpy(p->buf, d->data, d->len);
}

static int
on_child_up(void *ctx, const struct ike_child_event *ev)
{
	(void)ctx;
	/* touch everything the engine hands over */
	volatile uint8_t x = 0;

	for (size_t i = 0; i < ev->in.keymat_len; i++)
		x ^= ev->in.keymat[i] ^ ev->out.keymat[i];
	(void)x;
	return 0;
}

static void
on_child_down(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
}

static void
config(struct ike_config *c, const char *me, const char *peer)
{
	static const uint8_t psk[16] = "fuzzing psk 16 b";
	struct ike_peer_cfg *p = &c->peers[0];

	memset(c, 0, sizeof(*c));
	c->local_id = (struct ike_id){ .type = IKE_ID_FQDN, .len = (uint8_t)strlen(me) };
	memcpy(c->local_id.data, me, strlen(me));
	c->n_peers = 1;
	c->cookie_threshold = 4;
	snprintf(p->name, sizeof(p->name), "%s", peer);
	p->id = (struct ike_id){ .type = IKE_ID_FQDN, .len = (uint8_t)strlen(peer) };
	memcpy(p->id.data, peer, strlen(peer));
	p->auth = IKE_AUTH_METHOD_PSK;
	p->psk = psk;
	p->psk_len = sizeof(psk);
	p->allow_transport = true;
	p->dpd_s = 5;
	p->replay_window = 64;
	/* narrowing work: 10.0.0.0/8 and a v6 range on the responder's side */
	p->n_local_ts = 2;
	p->local_ts[0] = (struct esp_ts){ .start = { .family = 4, .v4 = htonl(0x0a000000) },
					  .end = { .family = 4, .v4 = htonl(0x0affffff) },
					  .port_hi = 65535 };
	p->local_ts[1].start.family = p->local_ts[1].end.family = 6;
	memset(p->local_ts[1].end.v6, 0xff, 16);
	p->local_ts[1].port_hi = 65535;
}

static void
setup(void)
{
	rng = 0x5eed;
	q_len = 0;
	for (int i = 0; i < 2; i++) {
		struct ike_io io = { .ctx = &cfg[i],
				     .send = on_send,
				     .child_up = on_child_up,
				     .child_down = on_child_down };

		if (ike_engine_create(&cfg[i], &io, &eng[i]) < 0)
			abort();
	}
}

static void
teardown(void)
{
	for (int i = 0; i < 2; i++) {
		ike_tick(eng[i], 1000000000);
		ike_engine_free(eng[i]);
		eng[i] = NULL;
	}
}

/* Deliver queued datagrams; keep (not deliver) the n-th one if keep >= 0. */
static bool
pump(int keep, struct pkt *kept)
{
	bool got = false;

	for (int n = 0; q_len > 0; n++) {
		struct pkt p = queue[0];

		memmove(queue, queue + 1, (size_t)--q_len * sizeof(queue[0]));
		p.d.data = p.buf;
		if (n == keep) {
			*kept = p;
			kept->d.data = kept->buf;
			got = true;
			continue;
		}
		ike_input(eng[p.to], &p.d, 0);
	}
	return got;
}

static void
deliver(int to, const uint8_t *msg, size_t len, uint16_t port)
{
	struct ike_dgram d = { .local = addr[to],
			       .remote = addr[!to],
			       .local_port = port,
			       .remote_port = port,
			       .data = msg,
			       .len = len };

	ike_input(eng[to], &d, 0);
	pump(-1, NULL);
}

/* Our own sealed message p opened with sa's keys (its receiver's) in work: the inner chain's
 * offset and length, its first payload type; parsed into *in. */
static size_t
open_own(struct ike_sa_obj *sa, const struct pkt *p, struct ike_payloads *in, size_t *off,
	 uint8_t *first)
{
	static struct ike_msg m;
	struct ike_sk_layout lay;
	size_t len;

	memcpy(work, p->d.data, p->d.len);
	if (ike_msg_parse(work, p->d.len, &m) != IKE_OK ||
	    ike_sk_locate(&m, IKE_AEAD_IV_LEN, IKE_AEAD_ICV_LEN, &lay) != IKE_OK ||
	    ike_keys_open(sa->keys, work, p->d.len, lay.aad_len) < 0 ||
	    ike_sk_unpad(work + lay.ct_off, lay.ct_len, &len) != IKE_OK ||
	    ike_payloads_parse(lay.first_inner, work + lay.ct_off, len, lay.ct_off, true, in) !=
		    IKE_OK)
		abort(); /* our own message: must open */
	*off = lay.ct_off;
	*first = lay.first_inner;
	return len;
}

/* The inner chain of a sealed message p for SA sa (its receiver), up to and including the AUTH
 * payload, into out; the AUTH payload's next-payload byte gets `next`. Returns the length. */
static size_t
auth_prefix(struct ike_sa_obj *sa, const struct pkt *p, uint8_t next, uint8_t *out, uint8_t *first)
{
	static struct ike_payloads in;
	size_t off, end = 0;

	open_own(sa, p, &in, &off, first);
	for (uint8_t i = 0; i < in.n; i++) {
		if (in.pl[i].type == IKE_PT_AUTH) {
			end = (size_t)(in.pl[i].body + in.pl[i].len - (work + off));
			work[in.pl[i].body - work - IKE_PAYLOAD_HDR_LEN] = next;
		}
	}
	if (end == 0)
		abort();
	memcpy(out, work + off, end);
	return end;
}

static void
sealed(int from, struct ike_sa_obj *sa, uint8_t exchange, bool response, uint32_t msg_id,
       uint8_t first, const uint8_t *chain, size_t len)
{
	static uint8_t msg[IKE_MAX_DGRAM];
	size_t n;

	if (ike_seal_raw(eng[from], sa, exchange, response, msg_id, first, chain, len, msg,
			 sizeof(msg), &n) == 0)
		deliver(!from, msg, n, IKE_NATT_PORT);
}

/* ESP proposals of both sides: the defaults, or one with PFS (x25519) */
static void
esp_pfs(bool on)
{
	for (int i = 0; i < 2; i++) {
		cfg[i].peers[0].n_esp = on;
		cfg[i].peers[0].esp[0] = (struct ike_proposal){ .encr = IKE_ENCR_AES_GCM_16,
								.key_bits = 128,
								.dh = IKE_DH_CURVE25519 };
	}
}

/* Side `side` rekeys: its IKE SA, or its first pair. */
static void
rekey(int side, bool ike)
{
	struct ike_sa_obj *sa = eng[side]->heap[0];

	if (ike)
		ike_rekey_start(eng[side], sa, 0);
	else if (sa->children != NULL)
		ike_rekey_child(eng[side], sa->children->id, 0);
}

/* Modes 6 and 7: a real CREATE_CHILD_SA, its request (6) or answer (7) XORed with mask. */
static void
create_child(bool answer, uint8_t flags, const uint8_t *mask, size_t n)
{
	static uint8_t chain[IKE_MAX_DGRAM];
	static struct ike_payloads in;
	struct ike_sa_obj *si = eng[0]->heap[0], *sr = eng[1]->heap[0];
	struct pkt kept;
	size_t len, off;
	uint8_t first;
	uint32_t msg_id = si->tx_next;

	rekey(0, flags & 1);
	if (flags & 4)
		rekey(1, flags & 1);
	if (q_len == 0)
		return;
	/* the initiator's request is queued first; the responder's (a collision) second */
	kept = queue[0];
	kept.d.data = kept.buf;
	memmove(queue, queue + 1, (size_t)--q_len * sizeof(queue[0]));
	if (answer) {
		ike_input(eng[1], &kept.d, 0);
		/* the answer is the last datagram the responder queued */
		if (q_len == 0 || queue[q_len - 1].to != 0)
			return;
		kept = queue[--q_len];
		kept.d.data = kept.buf;
	}
	len = open_own(answer ? si : sr, &kept, &in, &off, &first);
	memcpy(chain, work + off, len);
	if (n > 0)
		first ^= mask[0];
	for (size_t i = 1; i < n && len + 1 <= sizeof(chain); i++) {
		if (i - 1 < len)
			chain[i - 1] ^= mask[i];
		else
			chain[len++] = mask[i];
	}
	if (answer)
		sealed(1, sr, IKE_CREATE_CHILD_SA, true, msg_id, first, chain, len);
	else
		sealed(0, si, IKE_CREATE_CHILD_SA, false, msg_id, first, chain, len);
	pump(-1, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t chain[IKE_MAX_DGRAM];
	static bool ready;
	struct pkt kept;
	struct ike_sa_obj *si, *sr;
	uint8_t mode, first;
	size_t n;

	if (!ready) {
		randombytes_set_implementation(&rng_impl);
		if (sodium_init() < 0)
			abort();
		addr[0] = (struct esp_addr){ .family = 4, .v4 = htonl(0x0a000002) };
		addr[1] = (struct esp_addr){ .family = 4, .v4 = htonl(0x0a000001) };
		config(&cfg[0], "initiator.example", "responder.example");
		config(&cfg[1], "responder.example", "initiator.example");
		ready = true;
	}
	if (size < 2 || size > IKE_MAX_DGRAM)
		return 0;
	mode = data[0] % 8;
	esp_pfs(mode >= 6 && (data[1] & 2));
	setup();
	switch (mode) {
	case 0:
		deliver(1, data + 2, size - 2, data[1] & 1 ? IKE_NATT_PORT : IKE_PORT);
		break;
	case 1:
		ike_initiate(eng[0], 0, &addr[0], &addr[1], 0);
		q_len = 0; /* the request is lost; the input answers it */
		memcpy(work, data + 1, size - 1);
		if (size - 1 >= 8) {
			uint64_t spi = eng[0]->heap[0]->spi_i;

			for (int i = 0; i < 8; i++)
				work[i] = (uint8_t)(spi >> (56 - 8 * i));
		}
		deliver(0, work, size - 1, IKE_PORT);
		break;
	case 2:
	case 3:
		ike_initiate(eng[0], 0, &addr[0], &addr[1], 0);
		pump(-1, NULL);
		if (eng[0]->n_sa != 1 || eng[1]->n_sa != 1 || size < 3)
			break;
		si = eng[0]->heap[0];
		sr = eng[1]->heap[0];
		if (mode == 2) {
			sealed(0, si, (uint8_t)(IKE_SA_INIT + data[1] % 4), false, si->tx_next,
			       data[2], data + 3, size - 3);
		} else if (si->children != NULL) {
			ike_delete(eng[0], 0, si->children->id, 0);
			q_len = 0;
			sealed(1, sr, IKE_INFORMATIONAL, true, si->req.msg_id, data[1], data + 2,
			       size - 2);
		}
		break;
	case 4:
	case 5:
		ike_initiate(eng[0], 0, &addr[0], &addr[1], 0);
		/* I's IKE_SA_INIT, R's answer, I's IKE_AUTH (kept in mode 4), R's answer (mode 5)
		 */
		if (!pump(mode == 4 ? 2 : 3, &kept) || eng[1]->n_sa != 1 || eng[0]->n_sa != 1)
			break;
		si = eng[0]->heap[0];
		sr = eng[1]->heap[0];
		if (mode == 4) {
			n = auth_prefix(sr, &kept, data[1], chain, &first);
			if (n + size - 2 <= sizeof(chain)) {
				memcpy(chain + n, data + 2, size - 2);
				sealed(0, si, IKE_AUTH, false, 1, first, chain, n + size - 2);
			}
		} else {
			n = auth_prefix(si, &kept, data[1], chain, &first);
			if (n + size - 2 <= sizeof(chain)) {
				memcpy(chain + n, data + 2, size - 2);
				sealed(1, sr, IKE_AUTH, true, 1, first, chain, n + size - 2);
			}
		}
		break;
	case 6:
	case 7:
		ike_initiate(eng[0], 0, &addr[0], &addr[1], 0);
		pump(-1, NULL);
		if (eng[0]->n_sa != 1 || eng[1]->n_sa != 1)
			break;
		create_child(mode == 7, data[1], data + 2, size - 2);
		break;
	}
	teardown();
	return 0;
}
