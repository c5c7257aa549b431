/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's IKE SA table: IKE SAs by our SPI (and, for a responder, by the peer's SPIi and
 * address, to recognise a retransmitted IKE_SA_INIT), CHILD SAs by inbound SPI, half-open
 * accounting, and the timers: one deadline per IKE SA (retransmission, half-open expiry,
 * liveness, its own and its CHILD SAs' rekeys) kept in a binary heap that ike_tick() pops. The
 * engine's entry points other than ike_input (ike_io.c) are here too. A rekeyed IKE SA's CHILD
 * SAs move to its successor (ike_child_move); child ids stay.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ike_priv.h"

#define HALF_OPEN_DEFAULT_S 30
#define RT_BASE_DEFAULT_MS  500
#define RT_TRIES_DEFAULT    5
#define SPI_TRIES	    64 /* random SPIs tried before giving up (the tables are sparse) */

/* ---- the deadline heap (every IKE SA is in it; UINT64_MAX: nothing due) ------------------- */

static bool
earlier(const struct ike_engine *e, uint32_t a, uint32_t b)
{
	return e->heap[a]->deadline < e->heap[b]->deadline;
}

static void
swap(struct ike_engine *e, uint32_t a, uint32_t b)
{
	struct ike_sa_obj *t = e->heap[a];

	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	e->heap[a]->heap_idx = a;
	e->heap[b]->heap_idx = b;
}

static void
sift(struct ike_engine *e, uint32_t i)
{
	while (i > 0 && earlier(e, i, (i - 1) / 2)) {
		swap(e, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < e->n_sa && earlier(e, l, m))
			m = l;
		if (r < e->n_sa && earlier(e, r, m))
			m = r;
		if (m == i)
			return;
		swap(e, i, m);
		i = m;
	}
}

static int
heap_add(struct ike_engine *e, struct ike_sa_obj *sa)
{
	if (e->n_sa == e->heap_cap) {
		uint32_t cap = e->heap_cap ? 2 * e->heap_cap : 64;
		struct ike_sa_obj **h = realloc(e->heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		e->heap = h;
		e->heap_cap = cap;
	}
	sa->heap_idx = e->n_sa;
	e->heap[e->n_sa++] = sa;
	sift(e, sa->heap_idx);
	return 0;
}

static void
heap_del(struct ike_engine *e, struct ike_sa_obj *sa)
{
	uint32_t i = sa->heap_idx;

	e->n_sa--;
	if (i != e->n_sa) {
		e->heap[i] = e->heap[e->n_sa];
		e->heap[i]->heap_idx = i;
		sift(e, i);
	}
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
dpd_ms(const struct ike_engine *e, const struct ike_sa_obj *sa)
{
	const struct ike_peer_cfg *p = ike_sa_peer(e, sa);

	return p != NULL ? (uint64_t)p->dpd_s * 1000 : 0;
}

void
ike_sa_schedule(struct ike_engine *e, struct ike_sa_obj *sa)
{
	uint64_t d = UINT64_MAX, dpd = dpd_ms(e, sa);

	if (sa->expire_ms != 0)
		d = sa->expire_ms;
	if (sa->req.kind != IKE_REQ_NONE) {
		d = min64(d, sa->req.next_ms);
	} else if (sa->state == IKE_ST_ESTABLISHED) {
		if (dpd != 0)
			d = min64(d, sa->last_rx_ms + dpd);
		d = min64(d, ike_child_next_rekey(sa, ike_sa_peer(e, sa)));
	}
	sa->deadline = d;
	sift(e, sa->heap_idx);
}

/* ---- log --------------------------------------------------------------------------------------
 */

void
ike_log(struct ike_engine *e, int level, const char *fmt, ...)
{
	char line[320];
	va_list ap;

	if (e->io.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	e->io.log(e->io.ctx, level, line);
}

/* ---- IKE SAs ----------------------------------------------------------------------------------
 */

const struct ike_peer_cfg *
ike_sa_peer(const struct ike_engine *e, const struct ike_sa_obj *sa)
{
	return sa->peer < e->cfg->n_peers ? &e->cfg->peers[sa->peer] : NULL;
}

struct ike_sa_obj *
ike_sa_find(const struct ike_engine *e, uint64_t our_spi)
{
	struct ike_hlink *l = ike_htab_first(&e->sa_by_spi, our_spi);

	return l == NULL ? NULL : ike_container_of(l, struct ike_sa_obj, by_spi);
}

static uint64_t
init_key(uint64_t spi_i, const struct esp_addr *a, uint16_t port)
{
	uint64_t k = spi_i ^ ((uint64_t)port << 48);

	if (a->family == 6)
		for (int i = 0; i < 16; i++)
			k ^= (uint64_t)a->v6[i] << (8 * (i % 8));
	else
		k ^= a->v4;
	return k;
}

static bool
addr_eq(const struct esp_addr *a, const struct esp_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 6 ? memcmp(a->v6, b->v6, 16) == 0 : a->v4 == b->v4;
}

struct ike_sa_obj *
ike_sa_find_init(const struct ike_engine *e, uint64_t spi_i, const struct ike_dgram *d)
{
	uint64_t key = init_key(spi_i, &d->remote, d->remote_port);
	struct ike_hlink *l;

	for (l = ike_htab_first(&e->sa_by_init, key); l != NULL; l = ike_htab_next(l, key)) {
		struct ike_sa_obj *sa = ike_container_of(l, struct ike_sa_obj, by_init);

		if (sa->spi_i == spi_i && sa->init_port == d->remote_port &&
		    addr_eq(&sa->init_remote, &d->remote))
			return sa;
	}
	return NULL;
}

void
ike_sa_index_init(struct ike_engine *e, struct ike_sa_obj *sa)
{
	sa->init_remote = sa->ep.remote;
	sa->init_port = sa->ep.remote_port;
	ike_htab_add(&e->sa_by_init, &sa->by_init,
		     init_key(sa->spi_i, &sa->init_remote, sa->init_port));
	sa->indexed_init = true;
}

void
ike_sa_set_half_open(struct ike_engine *e, struct ike_sa_obj *sa, bool on)
{
	if (sa->half_open == on)
		return;
	sa->half_open = on;
	if (on)
		e->half_open++;
	else
		e->half_open--;
}

static uint64_t
fresh_spi64(const struct ike_engine *e)
{
	for (int i = 0; i < SPI_TRIES; i++) {
		uint64_t spi;

		randombytes_buf(&spi, sizeof(spi));
		if (spi != 0 && ike_sa_find(e, spi) == NULL)
			return spi;
	}
	return 0;
}

struct ike_sa_obj *
ike_sa_new(struct ike_engine *e, bool initiator, uint64_t now)
{
	struct ike_sa_obj *sa = calloc(1, sizeof(*sa));
	uint64_t spi = fresh_spi64(e);

	if (sa == NULL || spi == 0)
		goto fail;
	sa->initiator = initiator;
	sa->peer = IKE_PEER_NONE;
	if (initiator)
		sa->spi_i = spi;
	else
		sa->spi_r = spi;
	sa->last_rx_ms = now;
	sa->deadline = UINT64_MAX;
	if (heap_add(e, sa) < 0)
		goto fail;
	ike_htab_add(&e->sa_by_spi, &sa->by_spi, spi);
	return sa;

fail:
	free(sa);
	return NULL;
}

void
ike_sa_free(struct ike_engine *e, struct ike_sa_obj *sa)
{
	struct ike_sa_obj *parent = sa->rekey_parent;

	/* first: the pending pair of our CREATE_CHILD_SA is one of the children */
	ike_create_free(e, sa);
	if (parent != NULL && parent->create != NULL) {
		if (parent->create->new_sa == sa)
			parent->create->new_sa = NULL;
		if (parent->create->peer_sa == sa)
			parent->create->peer_sa = NULL;
	}
	while (sa->children != NULL)
		ike_child_free(e, sa->children);
	ike_sa_set_half_open(e, sa, false);
	if (sa->indexed_init)
		ike_htab_del(&e->sa_by_init, &sa->by_init);
	ike_htab_del(&e->sa_by_spi, &sa->by_spi);
	heap_del(e, sa);
	ike_keys_free(sa->keys);
	ike_dh_free(sa->dh);
	free(sa->msg_i);
	free(sa->msg_r);
	free(sa->req.buf);
	free(sa->resp.buf);
	free(sa);
}

void
ike_sa_gone(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	while (sa->children != NULL)
		ike_child_free(e, sa->children);
	ike_sa_set_half_open(e, sa, false);
	ike_req_done(sa);
	sa->state = IKE_ST_GONE;
	sa->expire_ms = now + e->half_open_ms;
	ike_sa_schedule(e, sa);
}

/* ---- CHILD SAs ------------------------------------------------------------------------------- */

struct ike_childsa *
ike_child_new(struct ike_engine *e, struct ike_sa_obj *sa)
{
	struct ike_childsa *c = calloc(1, sizeof(*c));
	uint32_t spi = 0;

	if (c == NULL)
		return NULL;
	for (int i = 0; i < SPI_TRIES && spi == 0; i++) {
		randombytes_buf(&spi, sizeof(spi));
		/* 1..255 are reserved (RFC 4303 2.1) */
		if (spi < 256 || ike_htab_first(&e->child_by_spi, spi) != NULL)
			spi = 0;
	}
	if (spi == 0) {
		free(c);
		return NULL;
	}
	c->spi_in = spi;
	c->sa = sa;
	c->id = e->next_child_id++;
	ike_htab_add(&e->child_by_spi, &c->by_spi, spi);
	c->next = sa->children;
	sa->children = c;
	sa->n_children++;
	return c;
}

void
ike_child_free(struct ike_engine *e, struct ike_childsa *c)
{
	struct ike_childsa **pp = &c->sa->children;

	if (c->sa->create != NULL && c->sa->create->child == c)
		c->sa->create->child = NULL;
	if (c->up) {
		e->st.child_sa_down++;
		ike_log(e, 1, "child %u down (spi in %08x out %08x)", c->id, c->spi_in, c->spi_out);
		if (e->io.child_down != NULL)
			e->io.child_down(e->io.ctx, c->id);
	}
	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->sa->n_children--;
	ike_htab_del(&e->child_by_spi, &c->by_spi);
	free(c);
}

struct ike_childsa *
ike_child_by_id(const struct ike_engine *e, uint32_t id)
{
	for (uint32_t i = 0; i < e->n_sa; i++)
		for (struct ike_childsa *c = e->heap[i]->children; c != NULL; c = c->next)
			if (c->id == id && !c->pending)
				return c;
	return NULL;
}

struct ike_childsa *
ike_child_by_spi_out(const struct ike_sa_obj *sa, uint32_t spi)
{
	for (struct ike_childsa *c = sa->children; c != NULL; c = c->next)
		if (c->spi_out == spi && !c->pending)
			return c;
	return NULL;
}

void
ike_child_move(struct ike_childsa *c, struct ike_sa_obj *to)
{
	struct ike_childsa **pp = &c->sa->children;

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->sa->n_children--;
	c->sa = to;
	c->next = to->children;
	to->children = c;
	to->n_children++;
}

uint64_t
ike_rekey_time(uint64_t now, uint32_t secs)
{
	uint64_t ms = (uint64_t)secs * 1000, jitter = ms / 10;

	if (secs == 0)
		return UINT64_MAX;
	if (jitter >= UINT32_MAX)
		jitter = UINT32_MAX - 1;
	/* both ends with the same lifetimes would otherwise collide every time */
	return now + ms - randombytes_uniform((uint32_t)jitter + 1);
}

static void
fill_params(const struct ike_engine *e, const struct ike_childsa *c, struct esp_sa_params *p)
{
	const struct ike_sa_obj *sa = c->sa;
	const struct ike_peer_cfg *peer = ike_sa_peer(e, sa);

	ike_prop_aead(c->encr, c->key_bits, &p->aead);
	p->mode = c->mode;
	p->esn = c->esn;
	p->replay_window = peer->replay_window;
	p->local = sa->ep.local;
	p->remote = sa->ep.remote;
	p->udp_encap = sa->nat_here || sa->nat_there;
	p->udp_local_port = p->udp_encap ? sa->ep.local_port : IKE_NATT_PORT;
	p->udp_remote_port = p->udp_encap ? sa->ep.remote_port : IKE_NATT_PORT;
	p->n_local_ts = c->n_local_ts;
	p->n_remote_ts = c->n_remote_ts;
	memcpy(p->local_ts, c->local_ts, sizeof(p->local_ts));
	memcpy(p->remote_ts, c->remote_ts, sizeof(p->remote_ts));
	p->lifetime = peer->child_lifetime;
}

int
ike_child_up(struct ike_engine *e, struct ike_childsa *c, const struct ike_child_keymat *km,
	     uint64_t now)
{
	const struct ike_sa_obj *sa = c->sa;
	struct ike_child_event ev = { .id = c->id,
				      .rekey_of = c->rekey_of,
				      .sibling_of = c->sibling_of,
				      .resource = c->resource,
				      .peer = ike_sa_peer(e, sa)->name };
	int rc = 0;

	fill_params(e, c, &ev.in);
	ev.out = ev.in;
	ev.in.spi = c->spi_in;
	ev.in.dir = ESP_DIR_INBOUND;
	ev.out.spi = c->spi_out;
	ev.out.dir = ESP_DIR_OUTBOUND;
	/* KEYMAT: initiator-to-responder first (RFC 7296 2.17); ours to send is i2r as initiator */
	ev.in.keymat = sa->initiator ? km->r2i : km->i2r;
	ev.out.keymat = sa->initiator ? km->i2r : km->r2i;
	ev.in.keymat_len = ev.out.keymat_len = km->len;
	if (e->io.child_up != NULL)
		rc = e->io.child_up(e->io.ctx, &ev);
	if (rc < 0) {
		ike_log(e, 0, "child %u refused by child_up (%d)", c->id, rc);
		return rc;
	}
	c->up = true;
	c->established_ms = now;
	c->rekey_ms = ike_rekey_time(now, ike_sa_peer(e, sa)->child_rekey_s);
	e->st.child_sa_up++;
	if (c->rekey_of != 0)
		e->st.child_rekeys++;
	ike_log(e, 1, "child %u up with %s: spi in %08x out %08x, %s%s%s%s", c->id, ev.peer,
		c->spi_in, c->spi_out, c->mode == ESP_MODE_TRANSPORT ? "transport" : "tunnel",
		ev.in.udp_encap ? ", ESP in UDP" : "", c->rekey_of != 0 ? ", a rekey" : "",
		c->sibling_of != 0 ? ", beside another" : "");
	return 0;
}

/* ---- the engine --------------------------------------------------------------------------- */

static int
check_config(const struct ike_config *cfg)
{
	if (cfg->n_peers > IKE_MAX_PEERS || cfg->local_id.len == 0)
		return -EINVAL;
	for (uint16_t i = 0; i < cfg->n_peers; i++) {
		const struct ike_peer_cfg *p = &cfg->peers[i];

		if (p->n_ike > IKE_MAX_PROPOSALS || p->n_esp > IKE_MAX_PROPOSALS ||
		    p->n_local_ts > ESP_MAX_TS || p->n_remote_ts > ESP_MAX_TS || p->id.len == 0)
			return -EINVAL;
		if (p->auth == IKE_AUTH_METHOD_PSK && (p->psk == NULL || p->psk_len == 0))
			return -EINVAL;
		if (p->auth == IKE_AUTH_METHOD_DSIG && !cfg->has_ed25519)
			return -EINVAL;
		if (p->auth != IKE_AUTH_METHOD_PSK && p->auth != IKE_AUTH_METHOD_DSIG)
			return -EINVAL;
		for (uint8_t j = 0; j < p->n_ike; j++)
			if (!ike_prop_supported(&p->ike[j], true))
				return -ENOTSUP;
		for (uint8_t j = 0; j < p->n_esp; j++)
			if (!ike_prop_supported(&p->esp[j], false))
				return -ENOTSUP;
	}
	return 0;
}

int
ike_engine_create(const struct ike_config *cfg, const struct ike_io *io, struct ike_engine **out)
{
	struct ike_engine *e;
	int rc;

	*out = NULL;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->cfg = cfg;
	e->io = *io;
	e->next_child_id = 1;
	e->half_open_ms =
		(cfg->half_open_timeout_s ? cfg->half_open_timeout_s : HALF_OPEN_DEFAULT_S) * 1000;
	e->rt_base_ms = cfg->retransmit_base_ms ? cfg->retransmit_base_ms : RT_BASE_DEFAULT_MS;
	e->rt_tries = cfg->retransmit_tries ? cfg->retransmit_tries : RT_TRIES_DEFAULT;
	rc = ike_crypto_create(&e->cx);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	if (ike_htab_init(&e->sa_by_spi, 256) < 0 || ike_htab_init(&e->sa_by_init, 256) < 0 ||
	    ike_htab_init(&e->child_by_spi, 256) < 0)
		goto fail;
	e->cookie = sodium_malloc(sizeof(*e->cookie));
	if (e->cookie == NULL)
		goto fail;
	randombytes_buf(e->cookie, sizeof(*e->cookie));
	if (cfg->has_ed25519) {
		rc = ike_ed25519_key_from_seed(cfg->ed25519_seed, &e->ed);
		if (rc < 0)
			goto fail;
	}
	*out = e;
	return 0;

fail:
	ike_engine_free(e);
	return rc;
}

void
ike_engine_free(struct ike_engine *e)
{
	if (e == NULL)
		return;
	/* no child_down: the owner is going away with its SA table */
	e->io.child_down = NULL;
	e->io.log = NULL;
	while (e->n_sa > 0)
		ike_sa_free(e, e->heap[e->n_sa - 1]);
	free(e->heap);
	ike_htab_fini(&e->sa_by_spi);
	ike_htab_fini(&e->sa_by_init);
	ike_htab_fini(&e->child_by_spi);
	sodium_free(e->cookie);
	ike_ed25519_key_free(e->ed);
	ike_crypto_free(e->cx);
	sodium_memzero(e->rx, sizeof(e->rx)); /* decrypted payloads (AUTH data, no keys) */
	sodium_memzero(e->tx, sizeof(e->tx));
	free(e);
}

/* One SA's due timers. Leaves it freed or with a deadline after now. */
static void
sa_timer(struct ike_engine *e, struct ike_sa_obj *sa, uint64_t now)
{
	if (sa->expire_ms != 0 && now >= sa->expire_ms) {
		if (sa->state == IKE_ST_HALF_OPEN) {
			e->st.half_open_expired++;
			ike_log(e, 2, "half-open IKE SA %016llx expired",
				(unsigned long long)sa->spi_r);
		}
		ike_sa_free(e, sa);
		return;
	}
	if (sa->req.kind != IKE_REQ_NONE && now >= sa->req.next_ms) {
		if (sa->req.tries >= e->rt_tries) {
			if (sa->req.kind != IKE_REQ_DELETE_IKE) {
				e->st.dead_peers++;
				ike_log(e, 1, "IKE SA %016llx_i %016llx_r: no answer, peer dead",
					(unsigned long long)sa->spi_i,
					(unsigned long long)sa->spi_r);
			}
			ike_sa_free(e, sa);
			return;
		}
		sa->req.tries++;
		sa->req.interval_ms *= 2;
		sa->req.next_ms = now + sa->req.interval_ms;
		e->st.retransmits++;
		ike_send_ep(e, &sa->ep, sa->req.buf, sa->req.len);
	}
	if (sa->state == IKE_ST_ESTABLISHED && sa->req.kind == IKE_REQ_NONE) {
		uint64_t dpd = dpd_ms(e, sa);

		if (dpd != 0 && now >= sa->last_rx_ms + dpd)
			sa->want_dpd = true;
		ike_info_kick(e, sa, now);
	}
	ike_sa_schedule(e, sa);
}

uint64_t
ike_tick(struct ike_engine *e, uint64_t now)
{
	/* every SA handled at most twice a tick even if a clock jump made everything due */
	uint32_t budget = 2 * e->n_sa + 16;

	if (now >= e->cookie_rotate_ms)
		ike_cookie_rotate(e, now);
	while (e->n_sa > 0 && e->heap[0]->deadline <= now && budget-- > 0)
		sa_timer(e, e->heap[0], now);
	return e->n_sa > 0 ? min64(e->heap[0]->deadline, e->cookie_rotate_ms) : e->cookie_rotate_ms;
}

int
ike_initiate(struct ike_engine *e, uint16_t peer, const struct esp_addr *local,
	     const struct esp_addr *remote, uint64_t now)
{
	struct ike_sa_obj *sa;
	int rc;

	if (peer >= e->cfg->n_peers || local->family != remote->family ||
	    (local->family != 4 && local->family != 6))
		return -EINVAL;
	if (e->cookie_rotate_ms == 0)
		ike_cookie_rotate(e, now);
	sa = ike_sa_new(e, true, now);
	if (sa == NULL)
		return -ENOMEM;
	sa->peer = peer;
	sa->ep = (struct ike_ep){
		.local = *local, .remote = *remote, .local_port = IKE_PORT, .remote_port = IKE_PORT
	};
	sa->state = IKE_ST_INIT_SENT;
	sa->ke_group = e->test_first_ke_group ? e->test_first_ke_group : IKE_DH_CURVE25519;
	rc = ike_init_start(e, sa, now);
	if (rc < 0)
		ike_sa_free(e, sa);
	return rc;
}

int
ike_delete(struct ike_engine *e, uint16_t peer, uint32_t child_id, uint64_t now)
{
	int found = 0;

	if (child_id != 0) {
		struct ike_childsa *c = ike_child_by_id(e, child_id);

		if (c == NULL || c->sa->state != IKE_ST_ESTABLISHED)
			return -ENOENT;
		c->delete_queued = true;
		ike_info_kick(e, c->sa, now);
		ike_sa_schedule(e, c->sa);
		return 0;
	}
	/* due now: ike_tick sends each Delete (kicking here would reorder the heap under us) */
	for (uint32_t i = 0; i < e->n_sa; i++) {
		struct ike_sa_obj *sa = e->heap[i];

		if (sa->peer != peer || sa->state != IKE_ST_ESTABLISHED)
			continue;
		sa->want_delete = true;
		found++;
	}
	for (uint32_t i = 0; i < e->n_sa; i++) {
		if (e->heap[i]->want_delete && e->heap[i]->deadline > now) {
			e->heap[i]->deadline = now;
			sift(e, i);
			i = (uint32_t)-1; /* the heap moved: look again (each SA once: now <= now)
					   */
		}
	}
	ike_tick(e, now);
	return found > 0 ? 0 : -ENOENT;
}

const struct ike_stats *
ike_engine_stats(const struct ike_engine *e)
{
	return &e->st;
}

static const char *
state_name(const struct ike_sa_obj *sa)
{
	switch (sa->state) {
	case IKE_ST_ESTABLISHED:
		return sa->create != NULL && sa->create->ike ? "rekeying" : "established";
	case IKE_ST_DELETING:
	case IKE_ST_GONE:
	case IKE_ST_REKEYED:
		return "deleting";
	default:
		return "half_open";
	}
}

uint32_t
ike_engine_list(const struct ike_engine *e, struct ike_sa_info *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->n_sa && n < max; i++) {
		const struct ike_sa_obj *sa = e->heap[i];
		const struct ike_peer_cfg *p = ike_sa_peer(e, sa);
		struct ike_sa_info *o = &out[n++];
		uint32_t k = 0;

		memset(o, 0, sizeof(*o));
		if (p != NULL)
			snprintf(o->peer, sizeof(o->peer), "%s", p->name);
		o->state = state_name(sa);
		o->spi_i = sa->spi_i;
		o->spi_r = sa->spi_r;
		o->initiator = sa->initiator;
		o->nat = sa->nat_here || sa->nat_there;
		o->n_children = sa->n_children;
		for (const struct ike_childsa *c = sa->children; c != NULL && k < 8; c = c->next)
			o->child_ids[k++] = c->id;
		o->established_ms = sa->established_ms;
	}
	return n;
}

void
ike_engine_test_first_ke(struct ike_engine *e, uint16_t group)
{
	e->test_first_ke_group = group;
}
