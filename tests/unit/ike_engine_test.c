/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two-peer harness of ike_engine_test.h: a FIFO of datagrams between engines, NAT rewriting,
 * a fake clock, and recorders for child_up / child_down.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ike_engine_test.h"

struct t_side t_side[T_SIDES];
uint64_t t_now;
bool t_nat;
const uint8_t t_psk[32] = "dvipsec two-peer test shared key";
bool t_mute[T_SIDES];
void (*t_mangle)(struct t_pkt *p);

static struct t_pkt queue[T_QUEUE];
static int q_head, q_len;

static const char *const ids[T_SIDES] = { "a.example", "b.example", "c.example" };
static const char *const addrs[T_SIDES] = { "10.0.0.2", "10.0.0.1", "10.0.0.3" };
static const char *const nat_addr = "198.51.100.7";

static struct esp_addr
addr4(const char *s)
{
	struct esp_addr a = { .family = 4 };

	inet_pton(AF_INET, s, &a.v4);
	return a;
}

static bool
addr_eq(const struct esp_addr *a, const struct esp_addr *b)
{
	return a->family == b->family && a->v4 == b->v4;
}

/* ---- callbacks ---- */

static void
on_send(void *ctx, const struct ike_dgram *d)
{
	struct esp_addr nat = addr4(nat_addr);
	struct t_pkt *p;

	assert_true(d->len <= IKE_MAX_DGRAM);
	if (t_mute[(struct t_side *)ctx - t_side])
		return;
	assert_true(q_len < T_QUEUE);
	p = &queue[(q_head + q_len++) % T_QUEUE];
	p->from = (int)((struct t_side *)ctx - t_side);
	p->to = -1;
	for (int i = 0; i < T_SIDES; i++)
		if (addr_eq(&d->remote, &t_side[i].addr))
			p->to = i;
	if (t_nat && p->to == -1 && addr_eq(&d->remote, &nat))
		p->to = T_A;
	p->d = *d;
	memcpy(p->buf, d->data, d->len);
	p->d.data = p->buf;
}

static int
on_child_up(void *ctx, const struct ike_child_event *ev)
{
	struct t_side *s = ctx;
	struct t_child *c;

	if (s->refuse_child != 0)
		return s->refuse_child;
	assert_true(s->n_up < T_MAX_EVENTS);
	c = &s->up[s->n_up++];
	c->ev = *ev;
	assert_int_equal(ev->in.keymat_len, esp_aead_keymat_len(ev->in.aead));
	assert_int_equal(ev->out.keymat_len, ev->in.keymat_len);
	memcpy(c->km_in, ev->in.keymat, ev->in.keymat_len);
	memcpy(c->km_out, ev->out.keymat, ev->out.keymat_len);
	c->ev.in.keymat = c->km_in;
	c->ev.out.keymat = c->km_out;
	snprintf(c->peer, sizeof(c->peer), "%s", ev->peer);
	c->ev.peer = c->peer;
	return 0;
}

static void
on_child_down(void *ctx, uint32_t id)
{
	struct t_side *s = ctx;

	assert_true(s->n_down < T_MAX_EVENTS);
	s->down[s->n_down++] = id;
}

static void
on_log(void *ctx, int level, const char *line)
{
	if (getenv("T_IKE_LOG") != NULL)
		fprintf(stderr, "  [%c%d] %s\n", 'A' + (int)((struct t_side *)ctx - t_side), level,
			line);
}

/* ---- set-up ---- */

void
t_reset(void)
{
	t_stop();
	memset(t_side, 0, sizeof(t_side));
	q_head = q_len = 0;
	t_now = 1000;
	t_nat = false;
	memset(t_mute, 0, sizeof(t_mute));
	t_mangle = NULL;
	for (int i = 0; i < T_SIDES; i++) {
		struct ike_config *cfg = &t_side[i].cfg;

		t_side[i].addr = addr4(addrs[i]);
		cfg->local_id.type = IKE_ID_FQDN;
		cfg->local_id.len = (uint8_t)strlen(ids[i]);
		memcpy(cfg->local_id.data, ids[i], cfg->local_id.len);
		cfg->retransmit_base_ms = 100;
		cfg->retransmit_tries = 3;
		cfg->half_open_timeout_s = 10;
		cfg->n_peers = T_SIDES;
		for (int j = 0; j < T_SIDES; j++) {
			struct ike_peer_cfg *p = &cfg->peers[j];

			snprintf(p->name, sizeof(p->name), "peer-%c", 'a' + j);
			p->id.type = IKE_ID_FQDN;
			p->id.len = (uint8_t)strlen(ids[j]);
			memcpy(p->id.data, ids[j], p->id.len);
			p->auth = IKE_AUTH_METHOD_PSK;
			p->psk = t_psk;
			p->psk_len = sizeof(t_psk);
			p->replay_window = 128;
			p->child_lifetime.hard_seconds = 3600;
		}
		/* its own slot: never matches (nobody claims our own ID) */
		cfg->peers[i].id.data[0] = '!';
	}
}

void
t_start(void)
{
	for (int i = 0; i < T_SIDES; i++)
		t_restart(i);
}

void
t_restart(int side)
{
	struct ike_io io = { .ctx = &t_side[side],
			     .send = on_send,
			     .child_up = on_child_up,
			     .child_down = on_child_down,
			     .log = on_log };

	ike_engine_free(t_side[side].e);
	t_side[side].e = NULL;
	assert_int_equal(ike_engine_create(&t_side[side].cfg, &io, &t_side[side].e), 0);
}

void
t_stop(void)
{
	for (int i = 0; i < T_SIDES; i++) {
		ike_engine_free(t_side[i].e);
		t_side[i].e = NULL;
	}
}

void
t_initiate(int from, int to)
{
	assert_int_equal(ike_initiate(t_side[from].e, (uint16_t)to, &t_side[from].addr,
				      &t_side[to].addr, t_now),
			 0);
}

int
t_queued(void)
{
	return q_len;
}

/* ---- the network ---- */

/* What the receiver sees: the sender's endpoints as source, after NAT. */
static void
deliver(struct t_pkt *p)
{
	struct ike_dgram rx = { .local = p->d.remote,
				.remote = p->d.local,
				.local_port = p->d.remote_port,
				.remote_port = p->d.local_port,
				.data = p->d.data,
				.len = p->d.len };

	if (t_nat && p->from == T_A) {
		rx.remote = addr4(nat_addr);
		rx.remote_port = p->d.local_port == IKE_NATT_PORT ? 40501 : 40500;
	}
	if (t_nat && p->to == T_A) {
		rx.local = t_side[T_A].addr;
		rx.local_port = p->d.remote_port == 40501 ? IKE_NATT_PORT : IKE_PORT;
		assert_true(p->d.remote_port == 40500 || p->d.remote_port == 40501);
	}
	assert_true(p->to >= 0);
	if (t_mangle != NULL)
		t_mangle(p);
	ike_input(t_side[p->to].e, &rx, t_now);
}

static struct t_pkt *
next(int from, uint8_t exchange, bool response)
{
	struct t_pkt *p;
	struct ike_hdr h;

	assert_true(q_len > 0);
	p = &queue[q_head];
	q_head = (q_head + 1) % T_QUEUE;
	q_len--;
	assert_int_equal(p->from, from);
	assert_int_equal(ike_hdr_parse(p->d.data, p->d.len, &h), IKE_OK);
	assert_int_equal(h.exchange, exchange);
	assert_int_equal(!!(h.flags & IKE_FLAG_RESPONSE), response);
	return p;
}

const struct t_pkt *
t_step(int from, uint8_t exchange, bool response)
{
	struct t_pkt *p = next(from, exchange, response);

	deliver(p);
	return p;
}

const struct t_pkt *
t_drop(int from, uint8_t exchange, bool response)
{
	return next(from, exchange, response);
}

void
t_pump(void)
{
	for (int n = 0; q_len > 0; n++) {
		struct t_pkt *p = &queue[q_head];

		assert_true(n < 1000);
		q_head = (q_head + 1) % T_QUEUE;
		q_len--;
		deliver(p);
	}
}

void
t_advance(uint64_t ms)
{
	t_now += ms;
	for (int i = 0; i < T_SIDES; i++)
		ike_tick(t_side[i].e, t_now);
}

void
t_inject(int from, int to, const uint8_t *data, size_t len, uint16_t port)
{
	struct ike_dgram d = { .local = t_side[to].addr,
			       .remote = t_side[from].addr,
			       .local_port = port ? port : IKE_PORT,
			       .remote_port = port ? port : IKE_PORT,
			       .data = data,
			       .len = len };

	ike_input(t_side[to].e, &d, t_now);
}

/* ---- checks ---- */

static void
assert_ts_eq(const struct esp_ts *a, uint8_t na, const struct esp_ts *b, uint8_t nb)
{
	assert_int_equal(na, nb);
	for (uint8_t i = 0; i < na; i++) {
		assert_int_equal(a[i].start.family, b[i].start.family);
		assert_memory_equal(&a[i].start, &b[i].start, sizeof(a[i].start));
		assert_memory_equal(&a[i].end, &b[i].end, sizeof(a[i].end));
		assert_int_equal(a[i].proto, b[i].proto);
		assert_int_equal(a[i].port_lo, b[i].port_lo);
		assert_int_equal(a[i].port_hi, b[i].port_hi);
	}
}

void
t_assert_mirror(const struct t_child *a, const struct t_child *b)
{
	const struct esp_sa_params *ai = &a->ev.in, *ao = &a->ev.out, *bi = &b->ev.in,
				   *bo = &b->ev.out;

	assert_int_equal(ai->spi, bo->spi);
	assert_int_equal(ao->spi, bi->spi);
	assert_int_not_equal(ai->spi, ao->spi);
	assert_int_equal(ai->dir, ESP_DIR_INBOUND);
	assert_int_equal(ao->dir, ESP_DIR_OUTBOUND);
	assert_int_equal(ai->keymat_len, bo->keymat_len);
	assert_memory_equal(ai->keymat, bo->keymat, ai->keymat_len);
	assert_memory_equal(ao->keymat, bi->keymat, ao->keymat_len);
	assert_memory_not_equal(ai->keymat, ao->keymat, ai->keymat_len);
	assert_int_equal(ai->aead, bi->aead);
	assert_int_equal(ai->aead, ao->aead);
	assert_int_equal(ai->mode, bi->mode);
	assert_int_equal(ai->esn, bi->esn);
	assert_int_equal(ai->udp_encap, bi->udp_encap);
	assert_int_equal(ao->udp_encap, ai->udp_encap);
	assert_ts_eq(ai->local_ts, ai->n_local_ts, bi->remote_ts, bi->n_remote_ts);
	assert_ts_eq(ai->remote_ts, ai->n_remote_ts, bi->local_ts, bi->n_local_ts);
	assert_ts_eq(ao->local_ts, ao->n_local_ts, ai->local_ts, ai->n_local_ts);
	assert_ts_eq(bo->remote_ts, bo->n_remote_ts, bi->remote_ts, bi->n_remote_ts);
}

uint32_t
t_sas(int side, const char *state)
{
	struct ike_sa_info info[16];
	uint32_t n = ike_engine_list(t_side[side].e, info, 16), k = 0;

	for (uint32_t i = 0; i < n; i++)
		k += state == NULL || strcmp(info[i].state, state) == 0;
	return k;
}

struct ike_sa_obj *
t_sa(int side)
{
	assert_true(t_side[side].e->n_sa > 0);
	return t_side[side].e->heap[0];
}

void
t_parse(const struct t_pkt *p, struct ike_msg *m)
{
	static uint8_t buf[IKE_MAX_DGRAM];

	memcpy(buf, p->d.data, p->d.len);
	assert_int_equal(ike_msg_parse(buf, p->d.len, m), IKE_OK);
}

struct ike_sa_obj *
t_sa_in(int side, enum ike_sa_state state)
{
	struct ike_engine *e = t_side[side].e;
	struct ike_sa_obj *found = NULL;

	for (uint32_t i = 0; i < e->n_sa; i++) {
		if (e->heap[i]->state == state) {
			assert_null(found);
			found = e->heap[i];
		}
	}
	assert_non_null(found);
	return found;
}

struct ike_sa_obj *
t_sa_of(int side, const struct t_pkt *p)
{
	struct ike_engine *e = t_side[side].e;
	struct ike_hdr h;

	assert_int_equal(ike_hdr_parse(p->d.data, p->d.len, &h), IKE_OK);
	for (uint32_t i = 0; i < e->n_sa; i++)
		if (e->heap[i]->spi_i == h.spi_i && e->heap[i]->spi_r == h.spi_r)
			return e->heap[i];
	fail_msg("side %c has no IKE SA %016llx_i %016llx_r", 'A' + side,
		 (unsigned long long)h.spi_i, (unsigned long long)h.spi_r);
	return NULL;
}

int
t_live(int side)
{
	int n = 0;

	for (int i = 0; i < t_side[side].n_up; i++) {
		bool down = false;

		for (int j = 0; j < t_side[side].n_down && !down; j++)
			down = t_side[side].down[j] == t_side[side].up[i].ev.id;
		n += !down;
	}
	return n;
}

const struct t_child *
t_up(int side, uint32_t id)
{
	for (int i = 0; i < t_side[side].n_up; i++)
		if (t_side[side].up[i].ev.id == id)
			return &t_side[side].up[i];
	fail_msg("side %c: no child_up for %u", 'A' + side, id);
	return NULL;
}

bool
t_down(int side, uint32_t id)
{
	for (int i = 0; i < t_side[side].n_down; i++)
		if (t_side[side].down[i] == id)
			return true;
	return false;
}

void
t_open(int side, const struct t_pkt *p, struct ike_payloads *inner)
{
	static uint8_t buf[IKE_MAX_DGRAM];
	static struct ike_msg m;
	struct ike_sa_obj *sa = t_sa_of(side, p);
	struct ike_sk_layout lay;
	size_t len;

	memcpy(buf, p->d.data, p->d.len);
	assert_int_equal(ike_msg_parse(buf, p->d.len, &m), IKE_OK);
	assert_int_equal(ike_sk_locate(&m, IKE_AEAD_IV_LEN, IKE_AEAD_ICV_LEN, &lay), IKE_OK);
	assert_int_equal(ike_keys_open(sa->keys, buf, p->d.len, lay.aad_len), 0);
	assert_int_equal(ike_sk_unpad(buf + lay.ct_off, lay.ct_len, &len), IKE_OK);
	assert_int_equal(
		ike_payloads_parse(lay.first_inner, buf + lay.ct_off, len, lay.ct_off, true, inner),
		IKE_OK);
}

static const uint8_t seed_a[32] = "seed of side A for the tests....";
static const uint8_t seed_b[32] = "seed of side B for the tests....";

void
t_ed25519(const uint8_t *pk_of_b_at_a)
{
	uint8_t pk_a[32], pk_b[32], sk[64];

	crypto_sign_seed_keypair(pk_a, sk, seed_a);
	crypto_sign_seed_keypair(pk_b, sk, seed_b);
	t_side[T_A].cfg.has_ed25519 = t_side[T_B].cfg.has_ed25519 = true;
	t_side[T_A].cfg.ed25519_seed = seed_a;
	t_side[T_B].cfg.ed25519_seed = seed_b;
	t_side[T_A].cfg.peers[T_B].auth = IKE_AUTH_METHOD_DSIG;
	memcpy(t_side[T_A].cfg.peers[T_B].ed25519_pk, pk_of_b_at_a ? pk_of_b_at_a : pk_b, 32);
	t_side[T_B].cfg.peers[T_A].auth = IKE_AUTH_METHOD_DSIG;
	memcpy(t_side[T_B].cfg.peers[T_A].ed25519_pk, pk_a, 32);
}
