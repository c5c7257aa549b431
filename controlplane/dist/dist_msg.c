/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-channel message codec: one encode and one decode per type, both through the bounded
 * writer and reader below, so no field is read without its length checked first and no struct is
 * copied to or from the wire. Decoded key material goes straight into sodium_malloc'd memory.
 * Sealed frames carrying these messages are dist_chan.c's business.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "dist_msg.h"

struct writer {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool overflow;
};

struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static void
put_bytes(struct writer *w, const void *src, size_t n)
{
	if (w->overflow || w->cap - w->off < n) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->off, src, n);
	w->off += n;
}

static void
put_u8(struct writer *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

static void
put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void
put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void
put_u64(struct writer *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

/* Returns a pointer to n readable bytes, or NULL (and marks the reader bad) if fewer remain. */
static const uint8_t *
get_bytes(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t
get_u8(struct reader *r)
{
	const uint8_t *p = get_bytes(r, 1);

	return p == NULL ? 0 : p[0];
}

static uint16_t
get_u16(struct reader *r)
{
	const uint8_t *p = get_bytes(r, 2);

	return p == NULL ? 0 : (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_u32(struct reader *r)
{
	const uint8_t *p = get_bytes(r, 4);

	return p == NULL ? 0
			 : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
				   (uint32_t)p[3];
}

static uint64_t
get_u64(struct reader *r)
{
	uint64_t hi = get_u32(r);

	return hi << 32 | get_u32(r);
}

/* A flag byte must be 0 or 1 so that decoding stays canonical. */
static bool
get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);

	if (v > 1)
		r->bad = true;
	return v == 1;
}

static bool
is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* 16 address bytes with the unused tail zero: family 0 uses none, 4 the first four, 6 all. */
static bool
addr_bytes_valid(uint8_t family, const uint8_t b[16])
{
	switch (family) {
	case 0:
		return is_zero(b, 16);
	case 4:
		return is_zero(b + 4, 12);
	case 6:
		return true;
	default:
		return false;
	}
}

static bool
addr_valid(const struct esp_addr *a)
{
	return addr_bytes_valid(a->family, a->v6);
}

static bool
ts_valid(const struct esp_ts *ts)
{
	return addr_valid(&ts->start) && addr_valid(&ts->end);
}

static bool
sa_params_valid(const struct esp_sa_params *sa)
{
	if ((unsigned)sa->dir > ESP_DIR_OUTBOUND || (unsigned)sa->aead >= ESP_AEAD_COUNT ||
	    (unsigned)sa->mode > ESP_MODE_TRANSPORT)
		return false;
	if (sa->keymat == NULL || sa->keymat_len != esp_aead_keymat_len(sa->aead))
		return false;
	if (sa->n_local_ts > ESP_MAX_TS || sa->n_remote_ts > ESP_MAX_TS)
		return false;
	if (!addr_valid(&sa->local) || !addr_valid(&sa->remote))
		return false;
	for (unsigned i = 0; i < sa->n_local_ts; i++)
		if (!ts_valid(&sa->local_ts[i]))
			return false;
	for (unsigned i = 0; i < sa->n_remote_ts; i++)
		if (!ts_valid(&sa->remote_ts[i]))
			return false;
	return true;
}

static void
put_addr(struct writer *w, const struct esp_addr *a)
{
	put_u8(w, a->family);
	put_bytes(w, a->v6, sizeof(a->v6));
}

static void
get_addr(struct reader *r, struct esp_addr *a)
{
	const uint8_t *b;

	a->family = get_u8(r);
	b = get_bytes(r, sizeof(a->v6));
	if (b == NULL)
		return;
	memcpy(a->v6, b, sizeof(a->v6));
	if (!addr_valid(a))
		r->bad = true;
}

static void
put_ts(struct writer *w, const struct esp_ts *ts)
{
	put_addr(w, &ts->start);
	put_addr(w, &ts->end);
	put_u8(w, ts->proto);
	put_u16(w, ts->port_lo);
	put_u16(w, ts->port_hi);
}

static void
get_ts(struct reader *r, struct esp_ts *ts)
{
	get_addr(r, &ts->start);
	get_addr(r, &ts->end);
	ts->proto = get_u8(r);
	ts->port_lo = get_u16(r);
	ts->port_hi = get_u16(r);
}

static void
put_lifetime(struct writer *w, const struct esp_lifetime *lt)
{
	put_u64(w, lt->soft_bytes);
	put_u64(w, lt->hard_bytes);
	put_u64(w, lt->soft_packets);
	put_u64(w, lt->hard_packets);
	put_u32(w, lt->soft_seconds);
	put_u32(w, lt->hard_seconds);
}

static void
get_lifetime(struct reader *r, struct esp_lifetime *lt)
{
	lt->soft_bytes = get_u64(r);
	lt->hard_bytes = get_u64(r);
	lt->soft_packets = get_u64(r);
	lt->hard_packets = get_u64(r);
	lt->soft_seconds = get_u32(r);
	lt->hard_seconds = get_u32(r);
}

/*
 * SA_ADD body: u32 slot, u64 generation, u16 out_target, u32 spi, u8 dir, u8 aead, u8 mode, u8 esn,
 * u32 replay_window, addr local, addr remote (u8 family + 16 bytes each), u8 udp_encap,
 * u16 udp_local_port, u16 udp_remote_port, u8 n_local_ts, u8 n_remote_ts, the selectors
 * (addr start, addr end, u8 proto, u16 port_lo, u16 port_hi), lifetime (4 x u64, 2 x u32),
 * u16 keymat length, keymat.
 */
static int
encode_sa_add(struct writer *w, const struct dist_sa_add *a)
{
	const struct esp_sa_params *sa = &a->sa;

	if (!sa_params_valid(sa))
		return -EINVAL;
	put_u32(w, a->slot);
	put_u64(w, a->generation);
	put_u16(w, a->out_target);
	put_u32(w, sa->spi);
	put_u8(w, (uint8_t)sa->dir);
	put_u8(w, (uint8_t)sa->aead);
	put_u8(w, (uint8_t)sa->mode);
	put_u8(w, sa->esn);
	put_u32(w, sa->replay_window);
	put_addr(w, &sa->local);
	put_addr(w, &sa->remote);
	put_u8(w, sa->udp_encap);
	put_u16(w, sa->udp_local_port);
	put_u16(w, sa->udp_remote_port);
	put_u8(w, sa->n_local_ts);
	put_u8(w, sa->n_remote_ts);
	for (unsigned i = 0; i < sa->n_local_ts; i++)
		put_ts(w, &sa->local_ts[i]);
	for (unsigned i = 0; i < sa->n_remote_ts; i++)
		put_ts(w, &sa->remote_ts[i]);
	put_lifetime(w, &sa->lifetime);
	put_u16(w, (uint16_t)sa->keymat_len);
	put_bytes(w, sa->keymat, sa->keymat_len);
	return 0;
}

static int
decode_sa_add(struct reader *r, struct dist_msg *m)
{
	struct dist_sa_add *a = &m->sa_add;
	struct esp_sa_params *sa = &a->sa;
	uint8_t dir, aead, mode;
	const uint8_t *key;
	size_t key_len;

	a->slot = get_u32(r);
	a->generation = get_u64(r);
	a->out_target = get_u16(r);
	sa->spi = get_u32(r);
	dir = get_u8(r);
	aead = get_u8(r);
	mode = get_u8(r);
	if (r->bad || dir > ESP_DIR_OUTBOUND || aead >= ESP_AEAD_COUNT || mode > ESP_MODE_TRANSPORT)
		return -EBADMSG;
	sa->dir = (enum esp_dir)dir;
	sa->aead = (enum esp_aead)aead;
	sa->mode = (enum esp_mode)mode;
	sa->esn = get_bool(r);
	sa->replay_window = get_u32(r);
	get_addr(r, &sa->local);
	get_addr(r, &sa->remote);
	sa->udp_encap = get_bool(r);
	sa->udp_local_port = get_u16(r);
	sa->udp_remote_port = get_u16(r);
	sa->n_local_ts = get_u8(r);
	sa->n_remote_ts = get_u8(r);
	if (r->bad || sa->n_local_ts > ESP_MAX_TS || sa->n_remote_ts > ESP_MAX_TS)
		return -EBADMSG;
	for (unsigned i = 0; i < sa->n_local_ts; i++)
		get_ts(r, &sa->local_ts[i]);
	for (unsigned i = 0; i < sa->n_remote_ts; i++)
		get_ts(r, &sa->remote_ts[i]);
	get_lifetime(r, &sa->lifetime);
	key_len = get_u16(r);
	if (r->bad || key_len != esp_aead_keymat_len(sa->aead))
		return -EBADMSG;
	key = get_bytes(r, key_len);
	if (key == NULL)
		return -EBADMSG;
	/* sodium_malloc aborts before sodium_init; the call is cheap once done. */
	if (sodium_init() < 0)
		return -ENOMEM;
	m->owned_keymat = sodium_malloc(key_len);
	if (m->owned_keymat == NULL)
		return -ENOMEM;
	memcpy(m->owned_keymat, key, key_len);
	sa->keymat = m->owned_keymat;
	sa->keymat_len = key_len;
	return 0;
}

static int
encode_body(struct writer *w, const struct dist_msg *m)
{
	switch (m->type) {
	case DIST_MSG_HELLO:
		put_u16(w, m->hello.target_id);
		put_u32(w, m->hello.capabilities);
		return 0;
	case DIST_MSG_SNAPSHOT_BEGIN:
		put_u32(w, m->snapshot_begin.count);
		put_u64(w, m->snapshot_begin.generation);
		return 0;
	case DIST_MSG_SNAPSHOT_END:
		put_u64(w, m->snapshot_end.generation);
		return 0;
	case DIST_MSG_SA_ADD:
		return encode_sa_add(w, &m->sa_add);
	case DIST_MSG_SA_DEL:
		put_u32(w, m->sa_del.slot);
		put_u64(w, m->sa_del.generation);
		return 0;
	case DIST_MSG_REKEY:
		put_u32(w, m->rekey.old_slot);
		put_u32(w, m->rekey.new_slot);
		put_u64(w, m->rekey.generation);
		return 0;
	case DIST_MSG_LIFESIZE:
		put_u32(w, m->lifesize.slot);
		put_u64(w, m->lifesize.bytes);
		put_u64(w, m->lifesize.packets);
		put_u64(w, m->lifesize.since_ms);
		return 0;
	case DIST_MSG_CONN_END: {
		const struct dist_conn_end *c = &m->conn_end;

		if ((c->family != 4 && c->family != 6) || !addr_bytes_valid(c->family, c->src) ||
		    !addr_bytes_valid(c->family, c->dst))
			return -EINVAL;
		put_u32(w, c->sa_id);
		put_u8(w, c->family);
		put_u8(w, c->proto);
		put_u16(w, c->sport);
		put_u16(w, c->dport);
		put_bytes(w, c->src, sizeof(c->src));
		put_bytes(w, c->dst, sizeof(c->dst));
		return 0;
	}
	case DIST_MSG_HEARTBEAT:
		put_u64(w, m->heartbeat.seq);
		put_u64(w, m->heartbeat.time_ms);
		return 0;
	case DIST_MSG_TARGET_STATE:
		put_u16(w, m->target_state.target_id);
		put_u16(w, m->target_state.weight);
		put_u8(w, m->target_state.healthy);
		return 0;
	case DIST_MSG_SA_SYNC:
		put_u64(w, m->sa_sync.generation);
		return 0;
	case DIST_MSG_LIFESIZE_LIMIT:
		if (m->lifesize_limit.threshold == 0)
			return -EINVAL;
		put_u32(w, m->lifesize_limit.slot);
		put_u64(w, m->lifesize_limit.generation);
		put_u64(w, m->lifesize_limit.threshold);
		return 0;
	}
	return -EINVAL;
}

/* The one dispatch switch on the receive side. */
static int
decode_body(struct reader *r, struct dist_msg *m)
{
	switch (m->type) {
	case DIST_MSG_HELLO:
		m->hello.target_id = get_u16(r);
		m->hello.capabilities = get_u32(r);
		return 0;
	case DIST_MSG_SNAPSHOT_BEGIN:
		m->snapshot_begin.count = get_u32(r);
		m->snapshot_begin.generation = get_u64(r);
		return 0;
	case DIST_MSG_SNAPSHOT_END:
		m->snapshot_end.generation = get_u64(r);
		return 0;
	case DIST_MSG_SA_ADD:
		return decode_sa_add(r, m);
	case DIST_MSG_SA_DEL:
		m->sa_del.slot = get_u32(r);
		m->sa_del.generation = get_u64(r);
		return 0;
	case DIST_MSG_REKEY:
		m->rekey.old_slot = get_u32(r);
		m->rekey.new_slot = get_u32(r);
		m->rekey.generation = get_u64(r);
		return 0;
	case DIST_MSG_LIFESIZE:
		m->lifesize.slot = get_u32(r);
		m->lifesize.bytes = get_u64(r);
		m->lifesize.packets = get_u64(r);
		m->lifesize.since_ms = get_u64(r);
		return 0;
	case DIST_MSG_CONN_END: {
		struct dist_conn_end *c = &m->conn_end;
		const uint8_t *src, *dst;

		c->sa_id = get_u32(r);
		c->family = get_u8(r);
		c->proto = get_u8(r);
		c->sport = get_u16(r);
		c->dport = get_u16(r);
		src = get_bytes(r, sizeof(c->src));
		dst = get_bytes(r, sizeof(c->dst));
		if (src == NULL || dst == NULL || (c->family != 4 && c->family != 6) ||
		    !addr_bytes_valid(c->family, src) || !addr_bytes_valid(c->family, dst))
			return -EBADMSG;
		memcpy(c->src, src, sizeof(c->src));
		memcpy(c->dst, dst, sizeof(c->dst));
		return 0;
	}
	case DIST_MSG_HEARTBEAT:
		m->heartbeat.seq = get_u64(r);
		m->heartbeat.time_ms = get_u64(r);
		return 0;
	case DIST_MSG_TARGET_STATE:
		m->target_state.target_id = get_u16(r);
		m->target_state.weight = get_u16(r);
		m->target_state.healthy = get_bool(r);
		return 0;
	case DIST_MSG_SA_SYNC:
		m->sa_sync.generation = get_u64(r);
		return 0;
	case DIST_MSG_LIFESIZE_LIMIT:
		m->lifesize_limit.slot = get_u32(r);
		m->lifesize_limit.generation = get_u64(r);
		m->lifesize_limit.threshold = get_u64(r);
		return m->lifesize_limit.threshold == 0 ? -EBADMSG : 0;
	}
	return -EPROTO;
}

static bool
type_known(uint32_t type)
{
	switch (type) {
#define DIST_MSG_CASE(num, sym, name) case num:
		DIST_MSG_TYPES(DIST_MSG_CASE)
#undef DIST_MSG_CASE
		return true;
	}
	return false;
}

const char *
dist_msg_type_name(uint32_t type)
{
	switch (type) {
#define DIST_MSG_NAME(num, sym, name) \
	case num:                     \
		return name;
		DIST_MSG_TYPES(DIST_MSG_NAME)
#undef DIST_MSG_NAME
	}
	return "unknown";
}

int
dist_msg_encode(const struct dist_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct writer w = { .p = buf, .cap = cap };
	size_t body_len;
	int rc;

	if (!type_known(m->type))
		return -EINVAL;
	put_u8(&w, DIST_MSG_VERSION);
	put_u8(&w, (uint8_t)m->type);
	put_u16(&w, 0);
	put_u32(&w, 0); /* body length, patched below */
	rc = encode_body(&w, m);
	if (rc < 0)
		return rc;
	if (w.overflow)
		return -ENOSPC;
	body_len = w.off - DIST_MSG_HDR_LEN;
	buf[4] = (uint8_t)(body_len >> 24);
	buf[5] = (uint8_t)(body_len >> 16);
	buf[6] = (uint8_t)(body_len >> 8);
	buf[7] = (uint8_t)body_len;
	*len = w.off;
	return 0;
}

int
dist_msg_decode(const uint8_t *buf, size_t len, struct dist_msg *out)
{
	struct reader hdr = { .p = buf, .len = len };
	struct reader body;
	uint8_t version, type;
	uint16_t reserved;
	uint32_t body_len;
	int rc;

	memset(out, 0, sizeof(*out));
	version = get_u8(&hdr);
	type = get_u8(&hdr);
	reserved = get_u16(&hdr);
	body_len = get_u32(&hdr);
	if (hdr.bad)
		return -EBADMSG;
	if (version != DIST_MSG_VERSION || !type_known(type))
		return -EPROTO;
	if (reserved != 0 || body_len != len - DIST_MSG_HDR_LEN)
		return -EBADMSG;

	body = (struct reader){ .p = buf + DIST_MSG_HDR_LEN, .len = body_len };
	out->type = (enum dist_msg_type)type;
	rc = decode_body(&body, out);
	if (rc == 0 && (body.bad || body.off != body.len))
		rc = -EBADMSG;
	if (rc < 0)
		dist_msg_clear(out);
	return rc;
}

void
dist_msg_clear(struct dist_msg *m)
{
	if (m->owned_keymat != NULL)
		sodium_free(m->owned_keymat); /* zeroes the memory before unmapping it */
	sodium_memzero(m, sizeof(*m));
}
