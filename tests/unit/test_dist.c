/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control channel: the message codec (a table of every type round-tripped, every truncation and a
 * table of corruptions refused, one known-answer encoding) and the sealed channel between a router
 * and a target joined by an in-memory byte pipe (handshake, order, byte-at-a-time delivery, wrong
 * control key, tampering, replay, reordering, and a capture that must not contain key bytes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "dist_chan.h"
#include "dist_msg.h"

static uint8_t keymat_a128[16 + ESP_SALT_LEN];
static uint8_t keymat_a256[32 + ESP_SALT_LEN];
static uint8_t keymat_chacha[32 + ESP_SALT_LEN];

/* ---- message builders: each fills a zeroed message ---- */

static void
addr4(struct esp_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->v6[0] = x, a->v6[1] = y, a->v6[2] = z, a->v6[3] = w;
}

static void
addr6(struct esp_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	a->v6[0] = 0x20, a->v6[1] = 0x01, a->v6[2] = 0x0d, a->v6[3] = 0xb8;
	a->v6[15] = last;
}

static void
build_hello(struct dist_msg *m)
{
	m->type = DIST_MSG_HELLO;
	m->hello = (struct dist_hello){ .target_id = 7, .capabilities = 0x80000001 };
}

static void
build_snap_begin(struct dist_msg *m)
{
	m->type = DIST_MSG_SNAPSHOT_BEGIN;
	m->snapshot_begin = (struct dist_snapshot_begin){ .count = 3, .generation = UINT64_MAX };
}

static void
build_snap_end(struct dist_msg *m)
{
	m->type = DIST_MSG_SNAPSHOT_END;
	m->snapshot_end.generation = 0x0102030405060708ull;
}

static void
build_sa_v4_a128(struct dist_msg *m)
{
	struct esp_sa_params *sa = &m->sa_add.sa;

	m->type = DIST_MSG_SA_ADD;
	m->sa_add.slot = 12;
	m->sa_add.generation = 5;
	m->sa_add.out_target = DIST_OUT_ANY;
	sa->spi = 0xc0ffee01;
	sa->dir = ESP_DIR_INBOUND;
	sa->aead = ESP_AEAD_AES128_GCM16;
	sa->mode = ESP_MODE_TUNNEL;
	sa->keymat = keymat_a128;
	sa->keymat_len = sizeof(keymat_a128);
	sa->replay_window = 1024;
	addr4(&sa->local, 192, 0, 2, 1);
	addr4(&sa->remote, 198, 51, 100, 7);
	sa->lifetime = (struct esp_lifetime){ 1, 2, 3, 4, 5, 6 };
}

/* IPv6, ESN, UDP encapsulation, four selectors each way. */
static void
build_sa_v6_a256(struct dist_msg *m)
{
	struct esp_sa_params *sa = &m->sa_add.sa;

	m->type = DIST_MSG_SA_ADD;
	m->sa_add.slot = UINT32_MAX;
	m->sa_add.generation = 1ull << 40;
	m->sa_add.out_target = 0x1234; /* one target's own outbound SA */
	sa->spi = 1;
	sa->dir = ESP_DIR_OUTBOUND;
	sa->aead = ESP_AEAD_AES256_GCM16;
	sa->mode = ESP_MODE_TRANSPORT;
	sa->keymat = keymat_a256;
	sa->keymat_len = sizeof(keymat_a256);
	sa->esn = true;
	sa->replay_window = 4096;
	addr6(&sa->local, 1);
	addr6(&sa->remote, 2);
	sa->udp_encap = true;
	sa->udp_local_port = 4500;
	sa->udp_remote_port = 61000;
	sa->n_local_ts = ESP_MAX_TS;
	sa->n_remote_ts = ESP_MAX_TS;
	for (int i = 0; i < ESP_MAX_TS; i++) {
		addr6(&sa->local_ts[i].start, (uint8_t)(16 + i));
		addr6(&sa->local_ts[i].end, (uint8_t)(32 + i));
		sa->local_ts[i].proto = (uint8_t)(i == 0 ? 0 : 6);
		sa->local_ts[i].port_lo = (uint16_t)(1000 * i);
		sa->local_ts[i].port_hi = 65535;
		addr4(&sa->remote_ts[i].start, 10, (uint8_t)i, 0, 0);
		addr4(&sa->remote_ts[i].end, 10, (uint8_t)i, 255, 255);
		sa->remote_ts[i].proto = 17;
		sa->remote_ts[i].port_lo = 53;
		sa->remote_ts[i].port_hi = 53;
	}
	sa->lifetime = (struct esp_lifetime){ UINT64_MAX, UINT64_MAX - 1, 0, 1, UINT32_MAX, 0 };
}

static void
build_sa_chacha(struct dist_msg *m)
{
	struct esp_sa_params *sa = &m->sa_add.sa;

	m->type = DIST_MSG_SA_ADD;
	sa->spi = 0xffffffff;
	sa->aead = ESP_AEAD_CHACHA20_POLY1305;
	sa->keymat = keymat_chacha;
	sa->keymat_len = sizeof(keymat_chacha);
	addr4(&sa->local, 10, 0, 0, 1);
	addr6(&sa->remote, 9);
	sa->n_remote_ts = 1;
	addr4(&sa->remote_ts[0].start, 0, 0, 0, 0);
	addr4(&sa->remote_ts[0].end, 255, 255, 255, 255);
}

static void
build_sa_del(struct dist_msg *m)
{
	m->type = DIST_MSG_SA_DEL;
	m->sa_del = (struct dist_sa_del){ .slot = 12, .generation = 6 };
}

static void
build_rekey(struct dist_msg *m)
{
	m->type = DIST_MSG_REKEY;
	m->rekey = (struct dist_rekey){ .old_slot = 12, .new_slot = 13, .generation = 7 };
}

static void
build_lifesize(struct dist_msg *m)
{
	m->type = DIST_MSG_LIFESIZE;
	m->lifesize = (struct dist_lifesize){ 13, UINT64_MAX, 1ull << 33, 123456789 };
}

static void
build_conn_end4(struct dist_msg *m)
{
	m->type = DIST_MSG_CONN_END;
	m->conn_end = (struct dist_conn_end){
		.sa_id = 13, .family = 4, .proto = 6, .sport = 40000, .dport = 443
	};
	memcpy(m->conn_end.src, "\x0a\x00\x00\x01", 4);
	memcpy(m->conn_end.dst, "\x0a\x00\x00\x02", 4);
}

static void
build_conn_end6(struct dist_msg *m)
{
	m->type = DIST_MSG_CONN_END;
	m->conn_end = (struct dist_conn_end){
		.sa_id = UINT32_MAX, .family = 6, .proto = 6, .sport = 1, .dport = 65535
	};
	memset(m->conn_end.src, 0xfe, 16);
	memset(m->conn_end.dst, 0x01, 16);
}

static void
build_heartbeat(struct dist_msg *m)
{
	m->type = DIST_MSG_HEARTBEAT;
	m->heartbeat = (struct dist_heartbeat){ .seq = 0x0102030405060708ull, .time_ms = 0xa0b0 };
}

static void
build_state_up(struct dist_msg *m)
{
	m->type = DIST_MSG_TARGET_STATE;
	m->target_state =
		(struct dist_target_state){ .target_id = 3, .weight = 1000, .healthy = true };
}

static void
build_state_down(struct dist_msg *m)
{
	m->type = DIST_MSG_TARGET_STATE;
	m->target_state = (struct dist_target_state){ .target_id = 65535, .weight = 0 };
}

static void
build_sa_sync(struct dist_msg *m)
{
	m->type = DIST_MSG_SA_SYNC;
	m->sa_sync = (struct dist_sa_sync){ .generation = 0x100000007ull };
}

static void
build_limit(struct dist_msg *m)
{
	m->type = DIST_MSG_LIFESIZE_LIMIT;
	m->lifesize_limit = (struct dist_lifesize_limit){ .slot = 9,
							  .generation = 0x10000000aull,
							  .threshold = 1 };
}

struct msg_case {
	const char *what;
	void (*build)(struct dist_msg *m);
	size_t wire_len; /* encoded length, header included */
};

/* SA_ADD: 8 header + 67 fixed (out_target and selector counts included) + 39 per selector + 40
 * lifetime + 2 + keymat. */
static const struct msg_case msg_cases[] = {
	{ "hello", build_hello, 8 + 6 },
	{ "snapshot_begin", build_snap_begin, 8 + 12 },
	{ "snapshot_end", build_snap_end, 8 + 8 },
	{ "sa_add v4 aes128gcm16, no selectors", build_sa_v4_a128, 8 + 67 + 40 + 2 + 20 },
	{ "sa_add v6 aes256gcm16, 4+4 selectors, esn, udp", build_sa_v6_a256,
	  8 + 67 + 8 * 39 + 40 + 2 + 36 },
	{ "sa_add chacha20poly1305, mixed families", build_sa_chacha, 8 + 67 + 39 + 40 + 2 + 36 },
	{ "sa_del", build_sa_del, 8 + 12 },
	{ "rekey", build_rekey, 8 + 16 },
	{ "lifesize", build_lifesize, 8 + 28 },
	{ "conn_end v4", build_conn_end4, 8 + 42 },
	{ "conn_end v6", build_conn_end6, 8 + 42 },
	{ "heartbeat", build_heartbeat, 8 + 16 },
	{ "target_state healthy", build_state_up, 8 + 5 },
	{ "target_state down", build_state_down, 8 + 5 },
	{ "sa_sync", build_sa_sync, 8 + 8 },
	{ "lifesize_limit", build_limit, 8 + 20 },
};
#define N_MSG_CASES (sizeof(msg_cases) / sizeof(msg_cases[0]))

/* ---- comparison ---- */

static void
assert_addr_equal(const struct esp_addr *a, const struct esp_addr *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->v6, b->v6, 16);
}

static void
assert_ts_equal(const struct esp_ts *a, const struct esp_ts *b)
{
	assert_addr_equal(&a->start, &b->start);
	assert_addr_equal(&a->end, &b->end);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->port_lo, b->port_lo);
	assert_int_equal(a->port_hi, b->port_hi);
}

static void
assert_sa_equal(const struct esp_sa_params *a, const struct esp_sa_params *b)
{
	assert_int_equal(a->spi, b->spi);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->aead, b->aead);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->keymat_len, b->keymat_len);
	assert_memory_equal(a->keymat, b->keymat, a->keymat_len);
	assert_int_equal(a->esn, b->esn);
	assert_int_equal(a->replay_window, b->replay_window);
	assert_addr_equal(&a->local, &b->local);
	assert_addr_equal(&a->remote, &b->remote);
	assert_int_equal(a->udp_encap, b->udp_encap);
	assert_int_equal(a->udp_local_port, b->udp_local_port);
	assert_int_equal(a->udp_remote_port, b->udp_remote_port);
	assert_int_equal(a->n_local_ts, b->n_local_ts);
	assert_int_equal(a->n_remote_ts, b->n_remote_ts);
	for (unsigned i = 0; i < a->n_local_ts; i++)
		assert_ts_equal(&a->local_ts[i], &b->local_ts[i]);
	for (unsigned i = 0; i < a->n_remote_ts; i++)
		assert_ts_equal(&a->remote_ts[i], &b->remote_ts[i]);
	assert_memory_equal(&a->lifetime, &b->lifetime, sizeof(a->lifetime));
}

static void
assert_msg_equal(const struct dist_msg *a, const struct dist_msg *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case DIST_MSG_HELLO:
		assert_int_equal(a->hello.target_id, b->hello.target_id);
		assert_int_equal(a->hello.capabilities, b->hello.capabilities);
		break;
	case DIST_MSG_SNAPSHOT_BEGIN:
		assert_int_equal(a->snapshot_begin.count, b->snapshot_begin.count);
		assert_true(a->snapshot_begin.generation == b->snapshot_begin.generation);
		break;
	case DIST_MSG_SNAPSHOT_END:
		assert_true(a->snapshot_end.generation == b->snapshot_end.generation);
		break;
	case DIST_MSG_SA_ADD:
		assert_int_equal(a->sa_add.slot, b->sa_add.slot);
		assert_int_equal(a->sa_add.out_target, b->sa_add.out_target);
		assert_true(a->sa_add.generation == b->sa_add.generation);
		assert_sa_equal(&a->sa_add.sa, &b->sa_add.sa);
		break;
	case DIST_MSG_SA_DEL:
		assert_int_equal(a->sa_del.slot, b->sa_del.slot);
		assert_true(a->sa_del.generation == b->sa_del.generation);
		break;
	case DIST_MSG_REKEY:
		assert_int_equal(a->rekey.old_slot, b->rekey.old_slot);
		assert_int_equal(a->rekey.new_slot, b->rekey.new_slot);
		assert_true(a->rekey.generation == b->rekey.generation);
		break;
	case DIST_MSG_LIFESIZE:
		assert_int_equal(a->lifesize.slot, b->lifesize.slot);
		assert_true(a->lifesize.bytes == b->lifesize.bytes);
		assert_true(a->lifesize.packets == b->lifesize.packets);
		assert_true(a->lifesize.since_ms == b->lifesize.since_ms);
		break;
	case DIST_MSG_CONN_END:
		assert_int_equal(a->conn_end.sa_id, b->conn_end.sa_id);
		assert_int_equal(a->conn_end.family, b->conn_end.family);
		assert_int_equal(a->conn_end.proto, b->conn_end.proto);
		assert_int_equal(a->conn_end.sport, b->conn_end.sport);
		assert_int_equal(a->conn_end.dport, b->conn_end.dport);
		assert_memory_equal(a->conn_end.src, b->conn_end.src, 16);
		assert_memory_equal(a->conn_end.dst, b->conn_end.dst, 16);
		break;
	case DIST_MSG_HEARTBEAT:
		assert_true(a->heartbeat.seq == b->heartbeat.seq);
		assert_true(a->heartbeat.time_ms == b->heartbeat.time_ms);
		break;
	case DIST_MSG_TARGET_STATE:
		assert_int_equal(a->target_state.target_id, b->target_state.target_id);
		assert_int_equal(a->target_state.weight, b->target_state.weight);
		assert_int_equal(a->target_state.healthy, b->target_state.healthy);
		break;
	case DIST_MSG_SA_SYNC:
		assert_true(a->sa_sync.generation == b->sa_sync.generation);
		break;
	case DIST_MSG_LIFESIZE_LIMIT:
		assert_int_equal(a->lifesize_limit.slot, b->lifesize_limit.slot);
		assert_true(a->lifesize_limit.generation == b->lifesize_limit.generation);
		assert_true(a->lifesize_limit.threshold == b->lifesize_limit.threshold);
		break;
	default:
		fail_msg("unexpected type %d", a->type);
	}
}

static size_t
encode_case(const struct msg_case *mc, struct dist_msg *m, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	mc->build(m);
	assert_int_equal(dist_msg_encode(m, buf, cap, &len), 0);
	return len;
}

/* ---- codec ---- */

static void
test_msg_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_MSG_CASES; i++) {
		const struct msg_case *mc = &msg_cases[i];
		uint8_t buf[DIST_MSG_MAX_LEN], again[DIST_MSG_MAX_LEN];
		struct dist_msg m, d;
		size_t len, len2;

		len = encode_case(mc, &m, buf, sizeof(buf));
		print_message("%-48s %zu bytes\n", mc->what, len);
		assert_int_equal(len, mc->wire_len);
		assert_int_equal(buf[0], DIST_MSG_VERSION);
		assert_int_equal(buf[1], m.type);
		assert_int_equal(dist_msg_decode(buf, len, &d), 0);
		assert_msg_equal(&m, &d);
		if (d.type == DIST_MSG_SA_ADD) {
			/* the decoded key is its own copy, not a pointer into the wire buffer */
			assert_non_null(d.owned_keymat);
			assert_ptr_equal(d.sa_add.sa.keymat, d.owned_keymat);
		}
		/* canonical: the decoded message encodes to the same bytes */
		assert_int_equal(dist_msg_encode(&d, again, sizeof(again), &len2), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(again, buf, len);
		/* one byte short of room is -ENOSPC */
		assert_int_equal(dist_msg_encode(&m, again, len - 1, &len2), -ENOSPC);
		dist_msg_clear(&d);
		assert_null(d.owned_keymat);
		assert_int_equal(d.type, 0);
	}
}

/* Big-endian integers at fixed places: one message spelled out byte by byte. */
static void
test_msg_known_bytes(void **state)
{
	static const uint8_t want[] = { 2,    9,    0,	  0,	0,    0,    0,	  16,	/* header */
					0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* seq */
					0,    0,    0,	  0,	0,    0,    0xa0, 0xb0 };
	static const uint8_t want_state[] = { 2, 10, 0, 0, 0, 0, 0, 5, 0x00, 0x03, 0x03, 0xe8, 1 };
	uint8_t buf[64];
	struct dist_msg m = { 0 };
	size_t len;

	(void)state;
	build_heartbeat(&m);
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	memset(&m, 0, sizeof(m));
	build_state_up(&m);
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want_state));
	assert_memory_equal(buf, want_state, sizeof(want_state));
	assert_string_equal(dist_msg_type_name(DIST_MSG_SA_ADD), "sa_add");
	assert_string_equal(dist_msg_type_name(0), "unknown");
}

static void
test_msg_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_MSG_CASES; i++) {
		uint8_t buf[DIST_MSG_MAX_LEN];
		struct dist_msg m, d;
		size_t len = encode_case(&msg_cases[i], &m, buf, sizeof(buf));

		for (size_t cut = 0; cut < len; cut++) {
			assert_int_equal(dist_msg_decode(buf, cut, &d), -EBADMSG);
			assert_null(d.owned_keymat);
		}
		/* a truncated body with the header's length patched to match */
		for (size_t cut = DIST_MSG_HDR_LEN; cut < len; cut++) {
			uint8_t b2[DIST_MSG_MAX_LEN];

			memcpy(b2, buf, cut);
			b2[4] = 0, b2[5] = 0, b2[6] = (uint8_t)((cut - 8) >> 8);
			b2[7] = (uint8_t)(cut - 8);
			assert_int_equal(dist_msg_decode(b2, cut, &d), -EBADMSG);
		}
	}
}

/* SA_ADD offsets (header included) for the corruption table. */
#define OFF_DIR	      26
#define OFF_AEAD      27
#define OFF_MODE      28
#define OFF_ESN	      29
#define OFF_LOCAL     34
#define OFF_UDP_ENCAP 68
#define OFF_N_LTS     73
#define OFF_N_RTS     74
#define OFF_KEYLEN_V4 (75 + 40) /* no selectors */

struct corrupt_case {
	const char *what;
	void (*build)(struct dist_msg *m);
	size_t off;   /* byte to overwrite */
	uint8_t val;  /* its new value */
	int extra;    /* bytes appended at the end (0xee), header length adjusted if fix_len */
	bool fix_len; /* rewrite the header's body length to the new length */
	int want;
};

static const struct corrupt_case corrupt_cases[] = {
	{ "version 0", build_heartbeat, 0, 0, 0, false, -EPROTO },
	{ "version 1 (before out_target)", build_heartbeat, 0, 1, 0, false, -EPROTO },
	{ "version 3", build_heartbeat, 0, 3, 0, false, -EPROTO },
	{ "type 0", build_heartbeat, 1, 0, 0, false, -EPROTO },
	{ "type 13", build_heartbeat, 1, 13, 0, false, -EPROTO },
	{ "type 255", build_sa_v4_a128, 1, 255, 0, false, -EPROTO },
	{ "reserved set", build_heartbeat, 3, 1, 0, false, -EBADMSG },
	{ "body length says more", build_heartbeat, 7, 17, 0, false, -EBADMSG },
	{ "body length says less", build_heartbeat, 7, 15, 0, false, -EBADMSG },
	{ "body length high byte", build_heartbeat, 4, 0x80, 0, false, -EBADMSG },
	{ "trailing byte after the message", build_heartbeat, 0, DIST_MSG_VERSION, 1, false,
	  -EBADMSG },
	{ "trailing byte inside the body", build_heartbeat, 0, DIST_MSG_VERSION, 1, true,
	  -EBADMSG },
	{ "trailing bytes after an SA", build_sa_v4_a128, 0, DIST_MSG_VERSION, 4, true, -EBADMSG },
	{ "sa dir 2", build_sa_v4_a128, OFF_DIR, 2, 0, false, -EBADMSG },
	{ "sa aead 3", build_sa_v4_a128, OFF_AEAD, ESP_AEAD_COUNT, 0, false, -EBADMSG },
	{ "sa mode 2", build_sa_v4_a128, OFF_MODE, 2, 0, false, -EBADMSG },
	{ "sa esn flag 2", build_sa_v4_a128, OFF_ESN, 2, 0, false, -EBADMSG },
	{ "sa udp_encap flag 0xff", build_sa_v4_a128, OFF_UDP_ENCAP, 0xff, 0, false, -EBADMSG },
	{ "sa local family 5", build_sa_v4_a128, OFF_LOCAL, 5, 0, false, -EBADMSG },
	{ "sa local v4 with bytes past 4", build_sa_v4_a128, OFF_LOCAL + 1 + 4, 1, 0, false,
	  -EBADMSG },
	{ "sa local family 0 with an address", build_sa_v4_a128, OFF_LOCAL, 0, 0, false, -EBADMSG },
	{ "sa n_local_ts 5", build_sa_v4_a128, OFF_N_LTS, ESP_MAX_TS + 1, 0, false, -EBADMSG },
	{ "sa n_remote_ts 255", build_sa_v4_a128, OFF_N_RTS, 255, 0, false, -EBADMSG },
	{ "sa n_local_ts 1 but no selector", build_sa_v4_a128, OFF_N_LTS, 1, 0, false, -EBADMSG },
	{ "sa keymat length 0", build_sa_v4_a128, OFF_KEYLEN_V4 + 1, 0, 0, false, -EBADMSG },
	{ "sa keymat length 16 (no salt)", build_sa_v4_a128, OFF_KEYLEN_V4 + 1, 16, 0, false,
	  -EBADMSG },
	/* 36 bytes of key, as for the 256-bit AEADs, really present, but the AEAD is aes128 */
	{ "sa keymat length 36 for aes128", build_sa_v4_a128, OFF_KEYLEN_V4 + 1, 36, 16, true,
	  -EBADMSG },
	{ "sa keymat length 0xffff", build_sa_v4_a128, OFF_KEYLEN_V4, 0xff, 0, false, -EBADMSG },
	{ "conn_end family 0", build_conn_end4, 12, 0, 0, false, -EBADMSG },
	{ "conn_end v4 src past 4", build_conn_end4, 18 + 15, 1, 0, false, -EBADMSG },
	{ "target_state healthy 2", build_state_up, 12, 2, 0, false, -EBADMSG },
	/* threshold 1 -> 0: a target must never be told to report after every zero bytes */
	{ "lifesize_limit threshold 0", build_limit, 8 + 19, 0, 0, false, -EBADMSG },
};

static void
test_msg_corrupt(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]); i++) {
		const struct corrupt_case *cc = &corrupt_cases[i];
		struct msg_case mc = { cc->what, cc->build, 0 };
		uint8_t buf[DIST_MSG_MAX_LEN + 32];
		struct dist_msg m, d;
		size_t len = encode_case(&mc, &m, buf, sizeof(buf));

		print_message("%s\n", cc->what);
		assert_true(cc->off < len);
		buf[cc->off] = cc->val;
		memset(buf + len, 0xee, (size_t)cc->extra);
		len += (size_t)cc->extra;
		if (cc->fix_len) {
			buf[6] = (uint8_t)((len - 8) >> 8);
			buf[7] = (uint8_t)(len - 8);
		}
		assert_int_equal(dist_msg_decode(buf, len, &d), cc->want);
		assert_null(d.owned_keymat);
		assert_int_equal(d.type, 0);
	}
}

/* The sender refuses what the receiver would refuse. */
static void
test_msg_encode_invalid(void **state)
{
	uint8_t buf[DIST_MSG_MAX_LEN];
	struct dist_msg m;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	m.sa_add.sa.n_local_ts = ESP_MAX_TS + 1;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	m.sa_add.sa.keymat_len = 36; /* aes128 wants 20 */
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	m.sa_add.sa.keymat = NULL;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	m.sa_add.sa.aead = ESP_AEAD_COUNT;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	m.sa_add.sa.remote.v6[8] = 1; /* v4 with garbage past the address */
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_conn_end4(&m);
	m.conn_end.family = 5;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.type = (enum dist_msg_type)13;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	memset(&m, 0, sizeof(m));
	build_limit(&m);
	m.lifesize_limit.threshold = 0;
	assert_int_equal(dist_msg_encode(&m, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- channel ---- */

static const uint8_t psk_a[DIST_CHAN_KEY_LEN] = "router-and-targets-share-this-32";
static const uint8_t psk_b[DIST_CHAN_KEY_LEN] = "another-deployment-has-this-key!";

/* A byte stream with everything one side ever sent, for capture checks and replays. */
struct capture {
	uint8_t bytes[16384];
	size_t len;
	size_t frame_off[64]; /* start of each frame */
	size_t n_frames;
};

struct pair {
	struct dist_chan *rtr;
	struct dist_chan *tgt;
	struct capture r2t;
	struct capture t2r;
};

static void
record(struct capture *cap, const uint8_t *b, size_t n)
{
	assert_true(cap->len + n <= sizeof(cap->bytes));
	assert_true(cap->n_frames < 64);
	cap->frame_off[cap->n_frames++] = cap->len;
	memcpy(cap->bytes + cap->len, b, n);
	cap->len += n;
}

static const uint8_t *
frame_at(const struct capture *cap, size_t i, size_t *len)
{
	size_t end = i + 1 < cap->n_frames ? cap->frame_off[i + 1] : cap->len;

	assert_true(i < cap->n_frames);
	*len = end - cap->frame_off[i];
	return cap->bytes + cap->frame_off[i];
}

static void
send_hello(struct dist_chan *from, struct capture *cap)
{
	uint8_t buf[DIST_HELLO_FRAME_LEN];
	size_t len;

	assert_int_equal(dist_chan_hello(from, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, DIST_HELLO_FRAME_LEN);
	record(cap, buf, len);
}

static void
send_msg(struct dist_chan *from, const struct dist_msg *m, struct capture *cap)
{
	uint8_t buf[DIST_SEAL_MAX];
	size_t len;

	assert_int_equal(dist_chan_seal(from, m, buf, sizeof(buf), &len), 0);
	record(cap, buf, len);
}

/* Deliver frame i of cap to chan (whole). */
static void
deliver(struct dist_chan *to, const struct capture *cap, size_t i)
{
	size_t len;
	const uint8_t *f = frame_at(cap, i, &len);

	assert_int_equal(dist_chan_feed(to, f, len), 0);
}

/* Both hellos sent, crossed, and accepted. */
static void
pair_open(struct pair *p, const uint8_t *rtr_psk, const uint8_t *tgt_psk)
{
	memset(p, 0, sizeof(*p));
	p->rtr = dist_chan_new(DIST_ROLE_ROUTER, rtr_psk);
	p->tgt = dist_chan_new(DIST_ROLE_TARGET, tgt_psk);
	assert_non_null(p->rtr);
	assert_non_null(p->tgt);
	send_hello(p->rtr, &p->r2t);
	send_hello(p->tgt, &p->t2r);
	deliver(p->tgt, &p->r2t, 0);
	deliver(p->rtr, &p->t2r, 0);
}

static void
pair_handshake(struct pair *p)
{
	struct dist_msg m;

	pair_open(p, psk_a, psk_a);
	assert_int_equal(dist_chan_next(p->tgt, &m), -EAGAIN);
	assert_int_equal(dist_chan_next(p->rtr, &m), -EAGAIN);
	assert_true(dist_chan_ready(p->rtr));
	assert_true(dist_chan_ready(p->tgt));
}

static void
pair_close(struct pair *p)
{
	dist_chan_free(p->rtr);
	dist_chan_free(p->tgt);
}

static void
expect_msg(struct dist_chan *c, const struct dist_msg *want)
{
	struct dist_msg got;

	assert_int_equal(dist_chan_next(c, &got), 0);
	assert_msg_equal(want, &got);
	dist_msg_clear(&got);
}

/*
 * The join sequence, every type both ways it travels:
 *   R <- T  hello frames (crossed), then target HELLO {7}
 *   R -> T  SNAPSHOT_BEGIN, SA_ADD x3, SNAPSHOT_END, SA_DEL, REKEY, HEARTBEAT
 *   R <- T  LIFESIZE, CONN_END x2, HEARTBEAT, TARGET_STATE x2
 */
static void
test_chan_session(void **state)
{
	void (*r2t[])(struct dist_msg *) = { build_snap_begin, build_sa_v4_a128, build_sa_v6_a256,
					     build_sa_chacha,  build_snap_end,	 build_sa_del,
					     build_rekey,      build_heartbeat };
	void (*t2r[])(struct dist_msg *) = { build_hello,     build_lifesize,  build_conn_end4,
					     build_conn_end6, build_heartbeat, build_state_up,
					     build_state_down };
	struct dist_msg m, got;
	struct pair p;
	uint8_t buf[DIST_SEAL_MAX];
	size_t len;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.rtr = dist_chan_new(DIST_ROLE_ROUTER, psk_a);
	p.tgt = dist_chan_new(DIST_ROLE_TARGET, psk_a);
	memset(&m, 0, sizeof(m));
	build_heartbeat(&m);
	/* nothing is sealed before both hellos are through */
	assert_int_equal(dist_chan_seal(p.rtr, &m, buf, sizeof(buf), &len), -ENOTCONN);
	assert_int_equal(dist_chan_next(p.rtr, &got), -EAGAIN);
	send_hello(p.rtr, &p.r2t);
	assert_int_equal(dist_chan_hello(p.rtr, buf, sizeof(buf), &len), -EALREADY);
	assert_int_equal(dist_chan_seal(p.rtr, &m, buf, sizeof(buf), &len), -ENOTCONN);
	send_hello(p.tgt, &p.t2r);
	deliver(p.rtr, &p.t2r, 0);
	assert_int_equal(dist_chan_next(p.rtr, &got), -EAGAIN);
	assert_true(dist_chan_ready(p.rtr));
	assert_false(dist_chan_ready(p.tgt));
	/* the router may seal before the target has its hello: the target buffers it */
	for (size_t i = 0; i < sizeof(r2t) / sizeof(r2t[0]); i++) {
		memset(&m, 0, sizeof(m));
		r2t[i](&m);
		send_msg(p.rtr, &m, &p.r2t);
	}
	for (size_t i = 0; i < sizeof(t2r) / sizeof(t2r[0]); i++) {
		memset(&m, 0, sizeof(m));
		t2r[i](&m);
		if (i == 0) {
			assert_int_equal(dist_chan_seal(p.tgt, &m, buf, sizeof(buf), &len),
					 -ENOTCONN);
			deliver(p.tgt, &p.r2t, 0);
			assert_int_equal(dist_chan_next(p.tgt, &got), -EAGAIN);
			assert_true(dist_chan_ready(p.tgt));
		}
		send_msg(p.tgt, &m, &p.t2r);
	}
	/* all frames at once to the router */
	for (size_t i = 1; i < p.t2r.n_frames; i++)
		deliver(p.rtr, &p.t2r, i);
	for (size_t i = 0; i < sizeof(t2r) / sizeof(t2r[0]); i++) {
		memset(&m, 0, sizeof(m));
		t2r[i](&m);
		expect_msg(p.rtr, &m);
	}
	assert_int_equal(dist_chan_next(p.rtr, &got), -EAGAIN);
	/* one byte at a time to the target: each message appears exactly when its last byte is in
	 */
	size_t next_msg = 0, start = p.r2t.frame_off[1];

	for (size_t off = start; off < p.r2t.len; off++) {
		int rc;

		assert_int_equal(dist_chan_feed(p.tgt, p.r2t.bytes + off, 1), 0);
		rc = dist_chan_next(p.tgt, &got);
		size_t f = next_msg + 1;
		size_t f_end = f + 1 < p.r2t.n_frames ? p.r2t.frame_off[f + 1] : p.r2t.len;

		if (off + 1 < f_end) {
			assert_int_equal(rc, -EAGAIN);
			continue;
		}
		assert_int_equal(rc, 0);
		memset(&m, 0, sizeof(m));
		r2t[next_msg](&m);
		assert_msg_equal(&m, &got);
		dist_msg_clear(&got);
		next_msg++;
	}
	assert_int_equal(next_msg, sizeof(r2t) / sizeof(r2t[0]));
	assert_int_equal(dist_chan_next(p.tgt, &got), -EAGAIN);
	assert_false(dist_chan_poisoned(p.tgt));
	assert_false(dist_chan_poisoned(p.rtr));
	pair_close(&p);
}

/*
 * Wrong control key: R has psk_a, T has psk_b.
 *   R <- T  hello frames cross; each MAC fails: -EACCES on both sides, both poisoned
 *   R -> T  nothing can be sealed, so the target never sees an SA
 */
static void
test_chan_wrong_key(void **state)
{
	struct dist_msg m, got;
	struct pair p;
	uint8_t buf[DIST_SEAL_MAX];
	size_t len;

	(void)state;
	pair_open(&p, psk_a, psk_b);
	assert_int_equal(dist_chan_next(p.rtr, &got), -EACCES);
	assert_int_equal(dist_chan_next(p.tgt, &got), -EACCES);
	assert_true(dist_chan_poisoned(p.rtr));
	assert_true(dist_chan_poisoned(p.tgt));
	assert_false(dist_chan_ready(p.rtr));
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	assert_int_equal(dist_chan_seal(p.rtr, &m, buf, sizeof(buf), &len), -EBADMSG);
	assert_int_equal(dist_chan_next(p.rtr, &got), -EBADMSG);
	assert_int_equal(dist_chan_feed(p.tgt, buf, 1), -EBADMSG);
	assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
	assert_int_equal(dist_chan_room(p.tgt), 0);
	/* the only thing the router ever put on the wire is its hello */
	assert_int_equal(p.r2t.n_frames, 1);
	assert_null(memmem(p.r2t.bytes, p.r2t.len, keymat_a128, sizeof(keymat_a128)));
	pair_close(&p);

	/* A router with the right key talking to a fresh target that has the wrong one, fed the
	 * full session a right-key target got: refused at the hello, no SA decoded. */
	pair_handshake(&p);
	send_msg(p.rtr, &m, &p.r2t);
	struct dist_chan *bad = dist_chan_new(DIST_ROLE_TARGET, psk_b);

	assert_int_equal(dist_chan_feed(bad, p.r2t.bytes, p.r2t.len), 0);
	assert_int_equal(dist_chan_next(bad, &got), -EACCES);
	assert_int_equal(got.type, 0);
	dist_chan_free(bad);
	deliver(p.tgt, &p.r2t, 1);
	expect_msg(p.tgt, &m); /* while the right target gets it */
	pair_close(&p);
}

/* A reflected hello (the router's own) verifies under the key but carries the wrong role. */
static void
test_chan_reflect(void **state)
{
	struct dist_chan *r = dist_chan_new(DIST_ROLE_ROUTER, psk_a);
	uint8_t buf[DIST_HELLO_FRAME_LEN];
	struct dist_msg got;
	size_t len;

	(void)state;
	assert_null(dist_chan_new((enum dist_role)3, psk_a));
	assert_int_equal(dist_chan_hello(r, buf, sizeof(buf) - 1, &len), -ENOSPC);
	assert_int_equal(dist_chan_hello(r, buf, sizeof(buf), &len), 0);
	assert_int_equal(dist_chan_feed(r, buf, len), 0);
	assert_int_equal(dist_chan_next(r, &got), -EPROTO);
	assert_true(dist_chan_poisoned(r));
	dist_chan_free(r);
}

/* Every byte of the first two sealed frames flipped in turn (a fresh pair each time): the frame
 * fails, later good frames fail too, and nothing is decoded. Bytes of the length prefix that make
 * the frame longer only leave the receiver waiting (or refusing the length). */
static void
test_chan_tamper(void **state)
{
	struct dist_msg m, got;

	(void)state;
	for (size_t frame = 1; frame <= 2; frame++) {
		size_t flen;
		struct pair p;

		pair_handshake(&p);
		flen = 0;
		for (size_t i = 0; i < 3; i++) {
			memset(&m, 0, sizeof(m));
			build_sa_v6_a256(&m);
			send_msg(p.rtr, &m, &p.r2t);
		}
		frame_at(&p.r2t, frame, &flen);
		pair_close(&p);
		for (size_t pos = 0; pos < flen; pos++) {
			uint8_t copy[DIST_SEAL_MAX];
			int rc;

			pair_handshake(&p);
			for (size_t i = 0; i < 3; i++) {
				memset(&m, 0, sizeof(m));
				build_sa_v6_a256(&m);
				send_msg(p.rtr, &m, &p.r2t);
			}
			if (frame == 2) {
				deliver(p.tgt, &p.r2t, 1);
				expect_msg(p.tgt, &m);
			}
			const uint8_t *f = frame_at(&p.r2t, frame, &flen);

			memcpy(copy, f, flen);
			copy[pos] ^= 0x04;
			assert_int_equal(dist_chan_feed(p.tgt, copy, flen), 0);
			rc = dist_chan_next(p.tgt, &got);
			if (pos < DIST_FRAME_LEN_SIZE && rc == -EAGAIN) {
				/* a longer length: the frame is not complete yet */
				assert_true(pos >= 2);
			} else {
				assert_int_equal(rc, -EBADMSG);
				assert_int_equal(got.type, 0);
				assert_true(dist_chan_poisoned(p.tgt));
				assert_int_equal(dist_chan_feed(p.tgt, copy, 1), -EBADMSG);
				assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
			}
			pair_close(&p);
		}
	}
}

/* Frames delivered out of the order they were sealed in, as numbered cases. */
struct order_case {
	const char *what;
	int order[5]; /* sealed frame numbers (1-based; the hello is 0), -1 ends */
	int fails_at; /* index into order of the first delivery that must fail, -1 = none */
};

static const struct order_case order_cases[] = {
	{ "in order", { 1, 2, 3, -1 }, -1 },
	{ "first frame replayed", { 1, 1, -1 }, 1 },
	{ "later frame replayed", { 1, 2, 3, 2, -1 }, 3 },
	{ "last frame replayed after all", { 1, 2, 3, 3, -1 }, 3 },
	{ "second before first", { 2, 1, -1 }, 0 },
	{ "two swapped", { 1, 3, 2, -1 }, 1 },
	{ "one dropped", { 1, 2, 4, -1 }, 2 },
	{ "hello replayed after keying", { 1, 0, 2, -1 }, 1 },
};

static void
test_chan_order(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(order_cases) / sizeof(order_cases[0]); c++) {
		const struct order_case *oc = &order_cases[c];
		struct dist_msg m, got;
		struct pair p;

		print_message("%s\n", oc->what);
		pair_handshake(&p);
		for (uint32_t i = 1; i <= 4; i++) {
			memset(&m, 0, sizeof(m));
			build_heartbeat(&m);
			m.heartbeat.seq = i;
			send_msg(p.rtr, &m, &p.r2t);
		}
		for (int k = 0; oc->order[k] >= 0; k++) {
			int rc;

			deliver(p.tgt, &p.r2t, (size_t)oc->order[k]);
			rc = dist_chan_next(p.tgt, &got);
			if (oc->fails_at >= 0 && k >= oc->fails_at) {
				assert_int_equal(rc, -EBADMSG);
				/* everything after the failure fails as well, good frames included
				 */
				assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
				break;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(got.type, DIST_MSG_HEARTBEAT);
			assert_true(got.heartbeat.seq == (uint64_t)oc->order[k]);
			dist_msg_clear(&got);
		}
		assert_int_equal(dist_chan_poisoned(p.tgt), oc->fails_at >= 0);
		pair_close(&p);
	}
}

/*
 * A recorded session replayed to a new target with the right key: the router's old hello still
 * verifies (same control key), but the stream keys came from the old target's kx secret key, so
 * the first sealed frame fails and no SA is decoded.
 */
static void
test_chan_session_replay(void **state)
{
	struct dist_msg m, got;
	struct pair p;

	(void)state;
	pair_handshake(&p);
	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	send_msg(p.rtr, &m, &p.r2t);
	deliver(p.tgt, &p.r2t, 1);
	expect_msg(p.tgt, &m);

	struct dist_chan *t2 = dist_chan_new(DIST_ROLE_TARGET, psk_a);

	assert_int_equal(dist_chan_feed(t2, p.r2t.bytes, p.r2t.len), 0);
	assert_int_equal(dist_chan_next(t2, &got), -EBADMSG);
	assert_int_equal(got.type, 0);
	dist_chan_free(t2);

	/* the same toward the router: a recorded target session to a new router */
	memset(&m, 0, sizeof(m));
	build_hello(&m);
	send_msg(p.tgt, &m, &p.t2r);
	struct dist_chan *r2 = dist_chan_new(DIST_ROLE_ROUTER, psk_a);

	assert_int_equal(dist_chan_feed(r2, p.t2r.bytes, p.t2r.len), 0);
	assert_int_equal(dist_chan_next(r2, &got), -EBADMSG);
	dist_chan_free(r2);
	pair_close(&p);
}

/* Lengths are refused before the bytes behind them are buffered. */
static void
test_chan_lengths(void **state)
{
	static const uint8_t too_long[4] = { 0, 0, (DIST_FRAME_MAX + 1) >> 8,
					     (DIST_FRAME_MAX + 1) & 0xff };
	static const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t short_frame[4 + 16] = { 0, 0, 0, 16 };
	static const uint8_t not_hello[4] = { 0, 0, 0, 103 };
	uint8_t junk[8192] = { 0 };
	struct dist_msg got;
	struct pair p;

	(void)state;
	pair_handshake(&p);
	assert_int_equal(dist_chan_feed(p.tgt, too_long, 4), 0);
	assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
	pair_close(&p);

	pair_handshake(&p);
	assert_int_equal(dist_chan_feed(p.tgt, huge, 4), 0);
	assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
	pair_close(&p);

	pair_handshake(&p);
	assert_int_equal(dist_chan_feed(p.tgt, short_frame, sizeof(short_frame)), 0);
	assert_int_equal(dist_chan_next(p.tgt, &got), -EBADMSG);
	pair_close(&p);

	struct dist_chan *c = dist_chan_new(DIST_ROLE_ROUTER, psk_a);

	assert_int_equal(dist_chan_feed(c, not_hello, 4), 0);
	assert_int_equal(dist_chan_next(c, &got), -EPROTO);
	dist_chan_free(c);

	c = dist_chan_new(DIST_ROLE_TARGET, psk_a);
	size_t room = dist_chan_room(c);

	assert_true(room >= DIST_SEAL_MAX && room < sizeof(junk));
	assert_int_equal(dist_chan_feed(c, junk, room + 1), -ENOBUFS);
	assert_int_equal(dist_chan_room(c), room);
	assert_int_equal(dist_chan_feed(c, junk, room), 0);
	assert_int_equal(dist_chan_room(c), 0);
	dist_chan_free(c);
}

static bool
window_absent(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n, size_t w)
{
	for (size_t i = 0; i + w <= n; i++)
		if (memmem(hay, hay_len, needle + i, w) != NULL)
			return false;
	return true;
}

/* Everything both sides put on the wire in a session that carries SAs of every AEAD: no 8-byte
 * run of any keymat or of the control key appears, in either direction. */
static void
test_chan_capture_has_no_keys(void **state)
{
	struct dist_msg m;
	struct pair p;

	(void)state;
	pair_handshake(&p);
	memset(&m, 0, sizeof(m));
	build_hello(&m);
	send_msg(p.tgt, &m, &p.t2r);
	void (*sas[])(struct dist_msg *) = { build_sa_v4_a128, build_sa_v6_a256, build_sa_chacha };

	for (size_t i = 0; i < 3; i++) {
		memset(&m, 0, sizeof(m));
		sas[i](&m);
		send_msg(p.rtr, &m, &p.r2t);
	}
	/* the target did get the keys */
	assert_int_equal(dist_chan_feed(p.tgt, p.r2t.bytes + p.r2t.frame_off[1],
					p.r2t.len - p.r2t.frame_off[1]),
			 0);
	for (size_t i = 0; i < 3; i++) {
		memset(&m, 0, sizeof(m));
		sas[i](&m);
		expect_msg(p.tgt, &m);
	}
	for (int dir = 0; dir < 2; dir++) {
		const struct capture *cap = dir == 0 ? &p.r2t : &p.t2r;

		assert_true(
			window_absent(cap->bytes, cap->len, keymat_a128, sizeof(keymat_a128), 8));
		assert_true(
			window_absent(cap->bytes, cap->len, keymat_a256, sizeof(keymat_a256), 8));
		assert_true(window_absent(cap->bytes, cap->len, keymat_chacha,
					  sizeof(keymat_chacha), 8));
		assert_true(window_absent(cap->bytes, cap->len, psk_a, sizeof(psk_a), 8));
	}
	/* and the check can see a key: the plaintext encoding does contain it */
	uint8_t plain[DIST_MSG_MAX_LEN];
	size_t len;

	memset(&m, 0, sizeof(m));
	build_sa_v4_a128(&m);
	assert_int_equal(dist_msg_encode(&m, plain, sizeof(plain), &len), 0);
	assert_false(window_absent(plain, len, keymat_a128, sizeof(keymat_a128), 8));
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_roundtrip),
		cmocka_unit_test(test_msg_known_bytes),
		cmocka_unit_test(test_msg_truncation),
		cmocka_unit_test(test_msg_corrupt),
		cmocka_unit_test(test_msg_encode_invalid),
		cmocka_unit_test(test_chan_session),
		cmocka_unit_test(test_chan_wrong_key),
		cmocka_unit_test(test_chan_reflect),
		cmocka_unit_test(test_chan_tamper),
		cmocka_unit_test(test_chan_order),
		cmocka_unit_test(test_chan_session_replay),
		cmocka_unit_test(test_chan_lengths),
		cmocka_unit_test(test_chan_capture_has_no_keys),
	};

	if (sodium_init() < 0)
		return 1;
	/* Random keys; an 8-byte run of one turning up by chance in a capture of a few kilobytes
	 * has odds of about 2^-52, so outcomes do not depend on the draw. */
	randombytes_buf(keymat_a128, sizeof(keymat_a128));
	randombytes_buf(keymat_a256, sizeof(keymat_a256));
	randombytes_buf(keymat_chacha, sizeof(keymat_chacha));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
