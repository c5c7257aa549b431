/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message codec (controlplane/ike/ike_msg.h), what it must refuse, each with its named
 * error, without reading past the end (exact-size heap buffers; the sanitizer build checks):
 *   - every truncation of every scapy vector and of every inner chain;
 *   - a table of malformed payload bodies (lengths, substructure flags and counts, attributes,
 *     addresses, SPIs, selectors, critical unknown payloads) and of header and framing patches;
 *   - caps and duplicates in a chain; SK misplaced, short, badly padded;
 *   - writer limits: no space at every size, invalid input, oversize payloads, SK misuse;
 * and the port-4500 demultiplexer and the name tables.
 * Usage: test_ike_msg_bad VECTORS.json
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ike_msg_test.h"

/* Big decoded structures live here, not on the stack. */
static struct ike_msg msg, msg2;
static struct ike_payloads inner, spec;
static uint8_t wire[BUF], wire2[BUF];

static void
test_truncations(void **state)
{
	size_t total = 0;

	(void)state;
	for (size_t i = 0; i < ikt_n_vecs; i++) {
		const struct vec *v = &ikt_vecs[i];

		for (size_t cut = 0; cut < v->len; cut++) {
			uint8_t *b = ikt_dup(v->b, cut);
			enum ike_err err = ike_msg_parse(b, cut, &msg);

			if (v->error == NULL)
				assert_int_equal(err, cut < IKE_HDR_LEN ? IKE_ERR_TRUNCATED
									: IKE_ERR_BAD_LENGTH);
			else
				assert_int_not_equal(err, IKE_OK);
			if (cut >= IKE_HDR_LEN) {
				ikt_set_be32(b + 24, (uint32_t)cut);
				err = ike_msg_parse(b, cut, &msg);
				CHECK(err != IKE_OK, "%s cut at %zu parses", v->name, cut);
			}
			free(b);
			total++;
		}
		if (!v->has_sk)
			continue;
		/* the inner chain, cut */
		{
			struct ike_sk_layout lay;
			size_t inner_len;

			assert_int_equal(ike_msg_parse(v->b, v->len, &msg), IKE_OK);
			assert_int_equal(ike_sk_locate(&msg, NULL_IV, NULL_ICV, &lay), IKE_OK);
			assert_int_equal(ike_sk_unpad(v->b + lay.ct_off, lay.ct_len, &inner_len),
					 IKE_OK);
			for (size_t cut = 0; cut <= inner_len; cut++) {
				uint8_t *b = ikt_dup(v->b + lay.ct_off, cut);
				enum ike_err err = ike_payloads_parse(lay.first_inner, b, cut, 0,
								      true, &inner);

				CHECK((err == IKE_OK) == (cut == inner_len),
				      "%s inner cut at %zu: %s", v->name, cut, ike_err_name(err));
				free(b);
				total++;
			}
		}
	}
	print_message("%zu truncations refused\n", total);
}

/* ---- malformed payload bodies: one raw payload (then a Vendor ID) in a message ---- */

struct bad_body {
	const char *name;
	uint8_t type;
	bool critical;
	const char *hex;
	enum ike_err want;
};

static const struct bad_body bad_bodies[] = {
	/* SA: proposal 8 bytes + transforms of 8 */
	{ "sa ok", 33, 0, "00000010 01010001 00000008 01000014", IKE_OK },
	{ "sa empty", 33, 0, "", IKE_ERR_BAD_PROPOSAL },
	{ "sa 4 bytes", 33, 0, "00000010", IKE_ERR_BAD_PROPOSAL },
	{ "proposal length 7", 33, 0, "00000007 01010001 00000008 01000014", IKE_ERR_BAD_PROPOSAL },
	{ "proposal length past SA", 33, 0, "00000011 01010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "proposal length cuts its transform", 33, 0, "0000000c 01010001 00000008 01000014",
	  IKE_ERR_BAD_TRANSFORM },
	{ "proposal last but more follow", 33, 0,
	  "00000010 01010001 00000008 01000014 00000010 02010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "proposal more but none follow", 33, 0, "02000010 01010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "proposal last flag 1", 33, 0, "01000010 01010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "proposal num 0", 33, 0, "00000010 00010001 00000008 01000014", IKE_ERR_BAD_PROPOSAL },
	{ "single proposal num 5 (a responder's choice)", 33, 0,
	  "00000010 05010001 00000008 01000014", IKE_OK },
	{ "proposals 1, 2", 33, 0,
	  "02000010 01010001 00000008 01000014 00000010 02010001 00000008 01000014", IKE_OK },
	{ "proposals 1, 3", 33, 0,
	  "02000010 01010001 00000008 01000014 00000010 03010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "proposals 2, 3", 33, 0,
	  "02000010 02010001 00000008 01000014 00000010 03010001 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "spi size 3", 33, 0, "00000013 01030301 aabbcc 00000008 03000014", IKE_ERR_BAD_PROPOSAL },
	{ "spi size 4", 33, 0, "00000014 01030401 aabbccdd 00000008 03000014", IKE_OK },
	{ "spi size 8 past proposal", 33, 0, "0000000c 01010801 00000000", IKE_ERR_BAD_PROPOSAL },
	{ "spi eats the transform", 33, 0, "00000010 01010801 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "0 transforms", 33, 0, "00000008 01010000", IKE_ERR_BAD_PROPOSAL },
	{ "says 2 transforms, has 1", 33, 0, "00000010 01010002 00000008 01000014",
	  IKE_ERR_BAD_PROPOSAL },
	{ "says 1 transform, has 2", 33, 0, "00000018 01010001 03000008 01000014 00000008 02000005",
	  IKE_ERR_BAD_PROPOSAL },
	{ "says 65 transforms", 33, 0, "00000010 01010041 00000008 01000014",
	  IKE_ERR_TOO_MANY_TRANSFORMS },
	{ "transform more but none follow", 33, 0, "00000010 01010001 03000008 01000014",
	  IKE_ERR_BAD_TRANSFORM },
	{ "transform last but more follow", 33, 0,
	  "00000018 01010002 00000008 01000014 00000008 02000005", IKE_ERR_BAD_TRANSFORM },
	{ "transform last flag 2", 33, 0, "00000010 01010001 02000008 01000014",
	  IKE_ERR_BAD_TRANSFORM },
	{ "transform length 7", 33, 0, "00000010 01010001 00000007 01000014",
	  IKE_ERR_BAD_TRANSFORM },
	{ "transform length past proposal", 33, 0, "00000010 01010001 00000009 01000014",
	  IKE_ERR_BAD_TRANSFORM },
	{ "transform header cut", 33, 0, "0000000e 01010001 00000008 0100", IKE_ERR_BAD_TRANSFORM },
	{ "key length TV", 33, 0, "00000014 01010001 0000000c 01000014 800e0080", IKE_OK },
	{ "key length TLV", 33, 0, "00000016 01010001 0000000e 01000014 000e0002 0080",
	  IKE_ERR_BAD_ATTRIBUTE },
	{ "attribute cut to 2 bytes", 33, 0, "00000012 01010001 0000000a 01000014 800e",
	  IKE_ERR_BAD_ATTRIBUTE },
	{ "TLV attribute length past transform", 33, 0,
	  "00000014 01010001 0000000c 01000014 00050008", IKE_ERR_BAD_ATTRIBUTE },
	{ "key length twice", 33, 0, "00000018 01010001 00000010 01000014 800e0080 800e0100",
	  IKE_ERR_BAD_ATTRIBUTE },
	{ "unknown TV attribute (flagged)", 33, 0, "00000014 01010001 0000000c 01000014 80050001",
	  IKE_OK },
	{ "unknown TLV attribute (flagged)", 33, 0,
	  "00000016 01010001 0000000e 01000014 00070002 abcd", IKE_OK },
	{ "reserved bytes set", 33, 0, "00ff0010 01010001 00ff0008 01ff0014", IKE_OK },
	/* KE: group, reserved, data */
	{ "ke no data", 34, 0, "001f0000", IKE_ERR_BAD_KE },
	{ "ke 2 bytes", 34, 0, "001f", IKE_ERR_BAD_KE },
	{ "ke 1 byte of data", 34, 0, "001f0000 aa", IKE_OK },
	/* ID */
	{ "idi ipv4 of 5 bytes", 35, 0, "01000000 0a00000101", IKE_ERR_BAD_ID },
	{ "idi ipv4 of 3 bytes", 35, 0, "01000000 0a0000", IKE_ERR_BAD_ID },
	{ "idr ipv6 of 15 bytes", 36, 0, "05000000 000102030405060708090a0b0c0d0e",
	  IKE_ERR_BAD_ID },
	{ "idr empty fqdn", 36, 0, "02000000", IKE_ERR_BAD_ID },
	{ "idi empty key id", 35, 0, "0b000000", IKE_ERR_BAD_ID },
	{ "idi 3 bytes", 35, 0, "020000", IKE_ERR_BAD_ID },
	{ "idi empty ID_NULL (type 13)", 35, 0, "0d000000", IKE_OK },
	/* CERT, CERTREQ */
	{ "cert empty", 37, 0, "", IKE_ERR_BAD_CERT },
	{ "cert encoding only", 37, 0, "04", IKE_OK },
	{ "certreq empty", 38, 0, "", IKE_ERR_BAD_CERT },
	/* AUTH */
	{ "auth no data", 39, 0, "02000000", IKE_ERR_BAD_AUTH },
	{ "auth 1 byte of data", 39, 0, "02000000 01", IKE_OK },
	/* Nonce */
	{ "nonce 15", 40, 0, "000102030405060708090a0b0c0d0e", IKE_ERR_BAD_NONCE },
	{ "nonce 16", 40, 0, "000102030405060708090a0b0c0d0e0f", IKE_OK },
	{ "nonce empty", 40, 0, "", IKE_ERR_BAD_NONCE },
	/* Notify */
	{ "notify spi 4", 41, 0, "03044009 01020304", IKE_OK },
	{ "notify spi past end", 41, 0, "03044009 010203", IKE_ERR_BAD_NOTIFY },
	{ "notify 3 bytes", 41, 0, "000040", IKE_ERR_BAD_NOTIFY },
	/* Delete */
	{ "delete esp ok", 42, 0, "03040001 c0ffee01", IKE_OK },
	{ "delete ike ok", 42, 0, "01000000", IKE_OK },
	{ "delete ike with spi size 4", 42, 0, "01040000", IKE_ERR_BAD_DELETE },
	{ "delete ike with 1 spi", 42, 0, "01000001", IKE_ERR_BAD_DELETE },
	{ "delete esp says 2 has 1", 42, 0, "03040002 c0ffee01", IKE_ERR_BAD_DELETE },
	{ "delete esp says 1 has 2", 42, 0, "03040001 c0ffee01 c0ffee02", IKE_ERR_BAD_DELETE },
	{ "delete esp no spi", 42, 0, "03040000", IKE_ERR_BAD_DELETE },
	{ "delete esp spi size 8", 42, 0, "03080001 0000000000000001", IKE_ERR_BAD_DELETE },
	{ "delete protocol 7", 42, 0, "07040001 00000001", IKE_ERR_BAD_DELETE },
	{ "delete 3 bytes", 42, 0, "030400", IKE_ERR_BAD_DELETE },
	/* Vendor ID */
	{ "vendor empty", 43, 0, "", IKE_OK },
	/* TS: n, reserved, selectors (type, proto, length, ports, addresses) */
	{ "ts v4", 44, 0, "01000000 07000010 0000ffff 0a000001 0a000001", IKE_OK },
	{ "ts 0 selectors", 44, 0, "00000000", IKE_ERR_BAD_TS },
	{ "ts says 9", 45, 0, "09000000 07000010 0000ffff 0a000001 0a000001", IKE_ERR_TOO_MANY_TS },
	{ "ts 3 bytes", 44, 0, "010000", IKE_ERR_BAD_TS },
	{ "ts v4 length 15", 44, 0, "01000000 0700000f 0000ffff 0a000001 0a0000", IKE_ERR_BAD_TS },
	{ "ts v4 length 17", 44, 0, "01000000 07000011 0000ffff 0a000001 0a000001 00",
	  IKE_ERR_BAD_TS },
	{ "ts v4 length past payload", 44, 0, "01000000 07000010 0000ffff 0a000001 0a00",
	  IKE_ERR_BAD_TS },
	{ "ts says 2 has 1", 44, 0, "02000000 07000010 0000ffff 0a000001 0a000001",
	  IKE_ERR_BAD_TS },
	{ "ts says 1 has 2", 44, 0,
	  "01000000 07000010 0000ffff 0a000001 0a000001 07000010 0000ffff 0a000001 0a000001",
	  IKE_ERR_BAD_TS },
	{ "ts 2 bytes after the selector", 44, 0,
	  "01000000 07000010 0000ffff 0a000001 0a000001 0000", IKE_ERR_BAD_TS },
	{ "ts v6 length 20 (scapy's default)", 45, 0,
	  "01000000 08000014 0000ffff 00000000000000000000000000000000", IKE_ERR_BAD_TS },
	{ "ts v6", 45, 0,
	  "01000000 08110028 01f41194 00000000000000000000000000000000"
	  " ffffffffffffffffffffffffffffffff",
	  IKE_OK },
	{ "ts unknown type 9 kept raw", 44, 0, "01000000 09000010 0000ffff 0a000001 0a000001",
	  IKE_OK },
	{ "ts unknown type length 3", 44, 0, "01000000 09000003", IKE_ERR_BAD_TS },
	/* CP */
	{ "cp 3 bytes", 47, 0, "010000", IKE_ERR_BAD_CP },
	{ "cp no attributes", 47, 0, "01000000", IKE_OK },
	/* unknown types: skipped unless critical (RFC 7296 2.5) */
	{ "eap non-critical", 48, 0, "0102000400", IKE_OK },
	{ "eap critical", 48, 1, "0102000400", IKE_ERR_UNSUPPORTED_CRITICAL },
	{ "type 255 critical", 255, 1, "", IKE_ERR_UNSUPPORTED_CRITICAL },
	{ "type 1 critical", 1, 1, "00", IKE_ERR_UNSUPPORTED_CRITICAL },
	{ "type 2 (a proposal's code) non-critical", 2, 0, "", IKE_OK },
	{ "skf (53) critical", 53, 1, "00010001", IKE_ERR_UNSUPPORTED_CRITICAL },
	/* the critical bit of a known payload is ignored */
	{ "nonce critical", 40, 1, "000102030405060708090a0b0c0d0e0f", IKE_OK },
};

/* hdr + raw payload + Vendor ID "tail"; returns the length. */
static size_t
build_with_raw(uint8_t type, bool critical, const uint8_t *body, size_t len)
{
	struct ike_writer w;
	size_t n;

	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_raw(&w, type, critical, body, len);
	ike_wr_vendor(&w, (const uint8_t *)"tail", 4);
	assert_int_equal(ike_wr_finish(&w, &n), 0);
	return n;
}

static void
test_bad_bodies(void **state)
{
	static uint8_t body[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		const struct bad_body *c = &bad_bodies[i];
		size_t blen = ikt_hex(c->hex, body, sizeof(body));
		size_t len = build_with_raw(c->type, c->critical, body, blen);
		uint8_t *b = ikt_dup(wire, len);
		enum ike_err err = ike_msg_parse(b, len, &msg);

		CHECK(err == c->want, "%s: got %s, want %s", c->name, ike_err_name(err),
		      ike_err_name(c->want));
		if (err != IKE_OK) {
			assert_int_equal(msg.pl.err_type, c->type);
			assert_int_equal(msg.pl.err_off, IKE_HDR_LEN);
		} else {
			/* the payload after it was reached */
			assert_int_equal(msg.pl.n, 2);
			assert_int_equal(msg.pl.pl[1].type, IKE_PT_VENDOR);
			assert_memory_equal(msg.pl.vendor[msg.pl.n_vendor - 1].data, "tail", 4);
			/* the same chain decodes the same way as an encrypted one */
			assert_int_equal(ike_payloads_parse(c->type, b + IKE_HDR_LEN,
							    len - IKE_HDR_LEN, IKE_HDR_LEN, true,
							    &inner),
					 IKE_OK);
			assert_int_equal(inner.n, 2);
		}
		free(b);
	}
	/* spot checks of what the accepted odd cases decoded to */
	ikt_hex("00000014 01010001 0000000c 01000014 80050001", body, sizeof(body));
	assert_int_equal(ike_msg_parse(wire, build_with_raw(33, 0, body, 20), &msg), IKE_OK);
	assert_true(msg.pl.sa.prop[0].xf[0].unknown_attr);
	assert_false(msg.pl.sa.prop[0].xf[0].has_key_len);
	ikt_hex("01000000 09000010 0000ffff 0a000001 0a000001", body, sizeof(body));
	assert_int_equal(ike_msg_parse(wire, build_with_raw(44, 0, body, 20), &msg), IKE_OK);
	assert_int_equal(msg.pl.tsi.sel[0].type, 9);
	assert_int_equal(msg.pl.tsi.sel[0].raw_len, 12);
	ikt_hex("0102000400", body, sizeof(body));
	assert_int_equal(ike_msg_parse(wire, build_with_raw(48, 0, body, 5), &msg), IKE_OK);
	assert_int_equal(msg.pl.pl[0].type, 48);
	assert_int_equal(msg.pl.pl[0].len, 5);
	assert_int_equal(msg.pl.seen, 1u << (IKE_PT_VENDOR - IKE_PT_SA));
}

/* Too many proposals and nonces of 257 bytes are easier made than written in hex. */
static void
test_bad_generated(void **state)
{
	static uint8_t body[1024];
	size_t n = 0, len;

	(void)state;
	for (int i = 0; i <= IKE_MAX_PROPOSALS; i++) {
		static const uint8_t tmpl[16] = {
			2, 0, 0, 16, 0, 1, 0, 1, 0, 0, 0, 8, 1, 0, 0, 20
		};

		memcpy(body + n, tmpl, 16);
		body[n + 4] = (uint8_t)(i + 1);
		if (i == IKE_MAX_PROPOSALS)
			body[n] = 0;
		n += 16;
	}
	len = build_with_raw(IKE_PT_SA, false, body, n);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_ERR_TOO_MANY_PROPOSALS);
	/* 16 is fine */
	body[n - 32] = 0;
	len = build_with_raw(IKE_PT_SA, false, body, n - 16);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_OK);
	assert_int_equal(msg.pl.sa.n_proposals, IKE_MAX_PROPOSALS);

	memset(body, 7, sizeof(body));
	len = build_with_raw(IKE_PT_NONCE, false, body, IKE_NONCE_MAX + 1);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_ERR_BAD_NONCE);
}

/* Chain-level errors: duplicates and caps per type. */
static void
test_bad_chains(void **state)
{
	static const uint8_t types[] = { IKE_PT_NOTIFY, IKE_PT_VENDOR,	IKE_PT_DELETE,
					 IKE_PT_CERT,	IKE_PT_CERTREQ, 48 };
	static const size_t caps[] = { IKE_MAX_NOTIFY, IKE_MAX_VENDOR, IKE_MAX_DELETE,
				       IKE_MAX_CERT,   IKE_MAX_CERT,   IKE_MAX_PAYLOADS };
	/* a body every type accepts: IKE delete, notify type 0, vendor, unknown; CERT encoding */
	static const uint8_t four[4] = { 1, 0, 0, 0 }, cert[1] = { 4 };
	uint8_t nonce[16] = { 0 };
	struct ike_writer w;
	size_t len;

	(void)state;
	for (size_t t = 0; t < sizeof(types); t++) {
		bool is_cert = types[t] == IKE_PT_CERT || types[t] == IKE_PT_CERTREQ;
		const uint8_t *body = is_cert ? cert : four;
		size_t blen = is_cert ? 1 : 4;

		for (size_t count = caps[t]; count <= caps[t] + 1; count++) {
			ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
			for (size_t i = 0; i < count; i++)
				ike_wr_raw(&w, types[t], false, body, blen);
			assert_int_equal(ike_wr_finish(&w, &len), 0);
			assert_int_equal(ike_msg_parse(wire, len, &msg),
					 count == caps[t] ? IKE_OK : IKE_ERR_TOO_MANY_PAYLOADS);
			if (count > caps[t]) {
				assert_int_equal(msg.pl.err_type, types[t]);
				assert_int_equal(msg.pl.err_off,
						 IKE_HDR_LEN + caps[t] * (4 + blen));
			}
		}
	}
	/* single-only payloads twice */
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_nonce(&w, nonce, 16);
	ike_wr_notify(&w, &(struct ike_notify){ .type = 1 });
	ike_wr_nonce(&w, nonce, 16);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_ERR_DUPLICATE);
	assert_int_equal(msg.pl.err_type, IKE_PT_NONCE);
	assert_int_equal(msg.pl.err_off, IKE_HDR_LEN + 20 + 8);
	/* each decoded type of an IKE_AUTH response once more: refused if it may appear once */
	len = ikt_build_case(&(struct rt_case){ "dup", ikt_rt_auth_all, false }, &spec, wire,
			     sizeof(wire));
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_OK);
	for (uint8_t i = 0; i < msg.pl.n; i++) {
		const struct ike_payload *e = &msg.pl.pl[i];
		bool single = e->type != IKE_PT_CERT && e->type != IKE_PT_NOTIFY;
		size_t len2;

		ike_wr_init(&w, wire2, sizeof(wire2), &ikt_hdr);
		ike_wr_chain(&w, &msg.pl);
		ike_wr_raw(&w, e->type, false, e->body, e->len);
		assert_int_equal(ike_wr_finish(&w, &len2), 0);
		CHECK(ike_msg_parse(wire2, len2, &msg2) == (single ? IKE_ERR_DUPLICATE : IKE_OK),
		      "type %u twice", e->type);
		if (single)
			assert_int_equal(msg2.pl.err_type, e->type);
	}
	assert_int_equal(msg.pl.n, 9); /* IDi, IDr, CERT, AUTH, CP, SA, N, TSi, TSr */
}

/* Header and framing patches on a small good message: hdr, Nonce (20 at 28), Vendor (8 at 48). */
struct patch {
	const char *name;
	uint16_t off;
	uint8_t n;
	uint8_t bytes[4];
	enum ike_err want;
	uint16_t off2; /* a second byte to set, if not 0 */
	uint8_t val2;
};

static const struct patch patches[] = {
	{ "unchanged", 0, 0, { 0 }, IKE_OK },
	{ "nonce length 3", 30, 2, { 0, 3 }, IKE_ERR_PAYLOAD_LENGTH },
	{ "nonce length 0", 30, 2, { 0, 0 }, IKE_ERR_PAYLOAD_LENGTH },
	{ "nonce length past the end", 30, 2, { 0, 29 }, IKE_ERR_PAYLOAD_LENGTH },
	{ "nonce length 0xffff", 30, 2, { 0xff, 0xff }, IKE_ERR_PAYLOAD_LENGTH },
	{ "nonce length 24: next header read from the vendor body",
	  30,
	  2,
	  { 0, 24 },
	  IKE_ERR_PAYLOAD_LENGTH },
	{ "vendor length 9", 50, 2, { 0, 9 }, IKE_ERR_PAYLOAD_LENGTH },
	{ "vendor length 3", 50, 2, { 0, 3 }, IKE_ERR_PAYLOAD_LENGTH },
	{ "vendor length 4: 4 trailing bytes", 50, 2, { 0, 4 }, IKE_ERR_TRAILING },
	{ "vendor says more follow", 48, 1, { 40 }, IKE_ERR_TRUNCATED },
	{ "nonce says nothing follows", 28, 1, { 0 }, IKE_ERR_TRAILING },
	{ "header says nothing follows", 16, 1, { 0 }, IKE_ERR_TRAILING },
	{ "header length + 1", 24, 4, { 0, 0, 0, 57 }, IKE_ERR_BAD_LENGTH },
	{ "header length - 1", 24, 4, { 0, 0, 0, 55 }, IKE_ERR_BAD_LENGTH },
	{ "header length 2^32 - 1", 24, 4, { 0xff, 0xff, 0xff, 0xff }, IKE_ERR_BAD_LENGTH },
	{ "version 1.0", 17, 1, { 0x10 }, IKE_ERR_OLD_VERSION },
	{ "version 0.0", 17, 1, { 0x00 }, IKE_ERR_OLD_VERSION },
	{ "version 3.0", 17, 1, { 0x30 }, IKE_ERR_MAJOR_VERSION },
	{ "version 15.15", 17, 1, { 0xff }, IKE_ERR_MAJOR_VERSION },
	{ "version 2.1 (minor ignored)", 17, 1, { 0x21 }, IKE_OK },
	{ "all flag bits", 19, 1, { 0xff }, IKE_OK },
	{ "exchange 255", 18, 1, { 0xff }, IKE_OK },
	{ "reserved bits of a payload", 29, 1, { 0x7f }, IKE_OK },
	{ "critical bit of a known payload", 29, 1, { 0x80 }, IKE_OK },
	{ "header next payload SK: not last", 16, 1, { 46 }, IKE_ERR_SK_NOT_LAST },
	{ "nonce's next payload SK: SK covers the rest", 28, 1, { 46 }, IKE_OK },
	{ "unknown first payload, non-critical", 16, 1, { 100 }, IKE_OK },
	{ "unknown first payload, critical",
	  16,
	  1,
	  { 100 },
	  IKE_ERR_UNSUPPORTED_CRITICAL,
	  29,
	  0x80 },
};

static void
test_patches(void **state)
{
	uint8_t nonce[16] = { 1 };
	struct ike_writer w;
	size_t len;

	(void)state;
	ike_wr_init(&w, wire2, sizeof(wire2), &ikt_hdr);
	ike_wr_nonce(&w, nonce, sizeof(nonce));
	ike_wr_vendor(&w, (const uint8_t *)"tail", 4);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(len, 56);
	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		const struct patch *p = &patches[i];
		uint8_t *b = ikt_dup(wire2, len);
		enum ike_err err;

		memcpy(b + p->off, p->bytes, p->n);
		if (p->off2 != 0)
			b[p->off2] = p->val2;
		err = ike_msg_parse(b, len, &msg);
		CHECK(err == p->want, "%s: got %s, want %s", p->name, ike_err_name(err),
		      ike_err_name(p->want));
		/* SPIs and message ID decode whatever the error, past 28 bytes */
		assert_int_equal(msg.hdr.spi_i, ikt_hdr.spi_i);
		assert_int_equal(msg.hdr.msg_id, ikt_hdr.msg_id);
		if (err == IKE_ERR_UNSUPPORTED_CRITICAL)
			assert_int_equal(msg.pl.err_type, 100);
		free(b);
	}
}

/* SK framing: position, sizes, padding, not last, inside, missing, short, bad pad. */
static void
test_sk(void **state)
{
	static const uint8_t nonce[32] = { 9 };
	struct ike_sk_layout lay, lay2;
	struct ike_writer w;
	size_t len, inner_len;
	uint8_t plain[8] = { 0 };

	(void)state;
	/* an unencrypted payload before SK is covered by the AAD; CBC-like padding to 16 */
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_vendor(&w, (const uint8_t *)"clear", 5);
	ike_wr_sk_open(&w, 16);
	ike_wr_nonce(&w, nonce, sizeof(nonce));
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_INITIAL_CONTACT });
	assert_int_equal(ike_wr_sk_close(&w, 16, 12, &lay), 0);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(lay.aad_len, IKE_HDR_LEN + 9 + 4);
	assert_int_equal(lay.iv_len, 16);
	assert_int_equal(lay.ct_len % 16, 0);
	assert_int_equal(lay.ct_len, 48); /* 36 + 8 + 3 padding + 1 */
	assert_int_equal(wire[lay.ct_off + lay.ct_len - 1], 3);
	assert_int_equal(lay.first_inner, IKE_PT_NONCE);
	assert_int_equal(lay.icv_off + 12, len);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_OK);
	assert_int_equal(msg.pl.n, 2);
	assert_int_equal(ike_sk_locate(&msg, 16, 12, &lay2), IKE_OK);
	assert_memory_equal(&lay, &lay2, sizeof(lay));
	assert_int_equal(ike_sk_unpad(wire + lay.ct_off, lay.ct_len, &inner_len), IKE_OK);
	assert_int_equal(inner_len, 44);
	assert_int_equal(ike_payloads_parse(lay.first_inner, wire + lay.ct_off, inner_len,
					    lay.ct_off, true, &inner),
			 IKE_OK);
	assert_int_equal(inner.n, 2);
	assert_memory_equal(inner.nonce.data, nonce, 32);
	/* other IV and ICV sizes move the boundaries, nothing else */
	assert_int_equal(ike_sk_locate(&msg, 8, 16, &lay2), IKE_OK);
	assert_int_equal(lay2.ct_len, lay.ct_len + 4);

	/* SK too short for the sizes asked */
	assert_int_equal(ike_sk_locate(&msg, 16, lay.ct_len + 12, &lay2), IKE_ERR_SK_SHORT);
	assert_int_equal(ike_sk_locate(&msg, 16 + lay.ct_len, 12, &lay2), IKE_ERR_SK_SHORT);
	assert_int_equal(ike_sk_locate(&msg, SIZE_MAX, SIZE_MAX, &lay2), IKE_ERR_SK_SHORT);
	assert_int_equal(ike_sk_locate(&msg, 16, lay.ct_len + 11, &lay2), IKE_OK);

	/* SK not last */
	memcpy(wire + len, "junkjunk", 8);
	ikt_set_be32(wire + 24, (uint32_t)len + 8);
	assert_int_equal(ike_msg_parse(wire, len + 8, &msg), IKE_ERR_SK_NOT_LAST);
	assert_int_equal(msg.pl.err_type, IKE_PT_SK);
	assert_int_equal(msg.pl.err_off, IKE_HDR_LEN + 9);

	/* SK inside SK, SK missing */
	assert_int_equal(
		ike_payloads_parse(IKE_PT_SK, (const uint8_t *)"\0\0\0\4", 4, 0, true, &inner),
		IKE_ERR_SK_INSIDE);
	assert_int_equal(
		ike_payloads_parse(IKE_PT_SK, (const uint8_t *)"\0\0\0\4", 4, 0, false, &inner),
		IKE_OK);
	assert_int_equal(build_with_raw(43, false, NULL, 0), 40);
	assert_int_equal(ike_msg_parse(wire, 40, &msg), IKE_OK);
	assert_int_equal(ike_sk_locate(&msg, 8, 16, &lay2), IKE_ERR_SK_MISSING);

	/* pad length */
	assert_int_equal(ike_sk_unpad(plain, 0, &inner_len), IKE_ERR_BAD_PAD);
	plain[7] = 7;
	assert_int_equal(ike_sk_unpad(plain, 8, &inner_len), IKE_OK);
	assert_int_equal(inner_len, 0);
	plain[7] = 8;
	assert_int_equal(ike_sk_unpad(plain, 8, &inner_len), IKE_ERR_BAD_PAD);
	plain[7] = 255;
	assert_int_equal(ike_sk_unpad(plain, 8, &inner_len), IKE_ERR_BAD_PAD);
	/* an empty inner chain (DPD) */
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_sk_open(&w, 8);
	assert_int_equal(ike_wr_sk_close(&w, 1, 16, &lay), 0);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(len, IKE_HDR_LEN + 4 + 8 + 1 + 16);
	assert_int_equal(lay.first_inner, IKE_PT_NONE);
	assert_int_equal(ike_msg_parse(wire, len, &msg), IKE_OK);
	assert_int_equal(ikt_open_sk(&msg, &lay2, &inner), IKE_OK);
	assert_int_equal(inner.n, 0);
}

/* ---- the writer's limits ---- */

static void
test_writer_no_space(void **state)
{
	const struct vec *v = ikt_find_vec("ike_auth_request_psk");
	struct ike_sk_layout lay;
	size_t len, full;

	(void)state;
	assert_int_equal(ike_msg_parse(v->b, v->len, &msg), IKE_OK);
	assert_int_equal(ikt_open_sk(&msg, &lay, &inner), IKE_OK);
	assert_int_equal(ikt_rebuild(&msg, &inner, wire, sizeof(wire), &full, &lay), 0);
	for (size_t cap = 0; cap < full; cap++) {
		uint8_t *b = malloc(cap > 0 ? cap : 1);

		assert_int_equal(ikt_rebuild(&msg, &inner, b, cap, &len, &lay), -ENOSPC);
		assert_int_equal(len, 0);
		free(b);
	}
}

static void
test_writer_invalid(void **state)
{
	static const uint8_t big[70000];
	struct ike_writer w;
	struct ike_sk_layout lay;
	size_t len;
	int i = 0;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	/* each call gets a fresh writer; the error it leaves is sticky */
#define EXPECT_ERR(call, want)                                     \
	do {                                                       \
		ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);     \
		CHECK((call) == (want), "case %d: %s", i, #call);  \
		CHECK(w.err == (want), "case %d: sticky", i);      \
		assert_int_equal(ike_wr_finish(&w, &len), (want)); \
		i++;                                               \
	} while (0)
	EXPECT_ERR(ike_wr_nonce(&w, big, 15), -EINVAL);
	EXPECT_ERR(ike_wr_nonce(&w, big, 257), -EINVAL);
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), -EINVAL); /* no proposal */
	spec.sa.n_proposals = 1;
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), -EINVAL); /* proposal num 0, no transforms */
	spec.sa.prop[0] =
		(struct ike_proposal){ .num = 1, .proto = 1, .spi_size = 3, .n_transforms = 1 };
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), -EINVAL);
	spec.sa.prop[0].spi_size = 0;
	spec.sa.n_proposals = 2;
	spec.sa.prop[1] = (struct ike_proposal){ .num = 3, .proto = 1, .n_transforms = 1 };
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), -EINVAL);
	spec.sa.prop[1].num = 2;
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), 0);
	spec.sa.prop[1].n_transforms = IKE_MAX_TRANSFORMS + 1;
	EXPECT_ERR(ike_wr_sa(&w, &spec.sa), -EINVAL);
	EXPECT_ERR(ike_wr_ke(&w, &(struct ike_ke){ 31, big, 0 }), -EINVAL);
	EXPECT_ERR(ike_wr_id(&w, IKE_PT_IDI, &(struct ike_id){ .type = 1, .data = big, .len = 5 }),
		   -EINVAL);
	EXPECT_ERR(ike_wr_id(&w, IKE_PT_AUTH, &(struct ike_id){ .type = 2, .data = big, .len = 5 }),
		   -EINVAL);
	EXPECT_ERR(ike_wr_cert(&w, IKE_PT_IDI, &(struct ike_cert){ 4, big, 5 }), -EINVAL);
	EXPECT_ERR(ike_wr_auth(&w, &(struct ike_auth){ 2, big, 0 }), -EINVAL);
	EXPECT_ERR(ike_wr_notify(&w, &(struct ike_notify){ .spi_size = 4 }), -EINVAL);
	EXPECT_ERR(ike_wr_delete(&w, &(struct ike_delete){ IKE_PROTO_IKE, 4, 1, big }), -EINVAL);
	EXPECT_ERR(ike_wr_delete(&w, &(struct ike_delete){ IKE_PROTO_ESP, 4, 0, big }), -EINVAL);
	EXPECT_ERR(ike_wr_ts(&w, IKE_PT_TSI, &spec.tsi), -EINVAL); /* no selector */
	spec.tsi.n = 1;
	EXPECT_ERR(ike_wr_ts(&w, IKE_PT_IDI, &spec.tsi), -EINVAL);
	EXPECT_ERR(ike_wr_raw(&w, IKE_PT_SK, false, big, 1), -EINVAL);
	EXPECT_ERR(ike_wr_raw(&w, IKE_PT_NONE, false, big, 1), -EINVAL);
	/* 64 KiB payload length */
	EXPECT_ERR(ike_wr_vendor(&w, big, 65531), 0);
	EXPECT_ERR(ike_wr_vendor(&w, big, 65532), -EMSGSIZE);
	EXPECT_ERR(ike_wr_cp(&w, &(struct ike_cp){ 1, big, 65528 }), -EMSGSIZE);
	/* SK misuse */
	EXPECT_ERR(ike_wr_sk_close(&w, 1, 16, &lay), -EINVAL);
	EXPECT_ERR((ike_wr_sk_open(&w, 8), ike_wr_sk_open(&w, 8)), -EINVAL);
	EXPECT_ERR((ike_wr_sk_open(&w, 8), ike_wr_sk_close(&w, 0, 16, &lay)), -EINVAL);
	EXPECT_ERR((ike_wr_sk_open(&w, 8), ike_wr_sk_close(&w, 1, 16, &lay),
		    ike_wr_vendor(&w, big, 1)),
		   -EINVAL);
#undef EXPECT_ERR
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_sk_open(&w, 8);
	assert_int_equal(ike_wr_finish(&w, &len), -EINVAL); /* SK left open */
	/* the first error stays: a later good call does not clear it */
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_nonce(&w, big, 1);
	assert_int_equal(ike_wr_vendor(&w, big, 1), -EINVAL);
	/* last body: IDr' as written, for the AUTH computation */
	ike_wr_init(&w, wire, sizeof(wire), &ikt_hdr);
	ike_wr_id(&w, IKE_PT_IDR,
		  &(struct ike_id){ .type = IKE_ID_FQDN, .data = (const uint8_t *)"gw", .len = 2 });
	assert_int_equal(w.last_off, IKE_HDR_LEN + 4);
	assert_int_equal(w.last_len, 6);
	assert_memory_equal(wire + w.last_off, "\x02\0\0\0gw", 6);
}

/* ---- port 4500 and names ---- */

static void
test_udp4500(void **state)
{
	static const uint8_t ike[] = { 0, 0, 0, 0, 0xaa, 0xbb };
	static const uint8_t esp[] = { 0, 0, 0, 1, 0, 0, 0, 1 };
	const uint8_t *p;
	uint8_t buf[16] = { 1, 2, 3 };
	size_t n;

	(void)state;
	assert_int_equal(ike_udp4500_classify(ike, sizeof(ike), &p, &n), IKE_UDP_IKE);
	assert_ptr_equal(p, ike + 4);
	assert_int_equal(n, 2);
	assert_int_equal(ike_udp4500_classify(ike, 4, &p, &n), IKE_UDP_IKE);
	assert_int_equal(n, 0);
	assert_int_equal(ike_udp4500_classify(esp, 8, &p, &n), IKE_UDP_ESP);
	assert_null(p);
	assert_int_equal(ike_udp4500_classify(esp, 7, &p, &n), IKE_UDP_RUNT);
	assert_int_equal(ike_udp4500_classify((const uint8_t *)"\xff", 1, &p, &n),
			 IKE_UDP_KEEPALIVE);
	assert_int_equal(ike_udp4500_classify((const uint8_t *)"\xfe", 1, &p, &n), IKE_UDP_RUNT);
	assert_int_equal(ike_udp4500_classify(ike, 3, &p, &n), IKE_UDP_RUNT);
	assert_int_equal(ike_udp4500_classify(ike, 0, &p, &n), IKE_UDP_RUNT);

	assert_int_equal(ike_non_esp_add(buf, sizeof(buf), 3), 0);
	assert_memory_equal(buf, "\0\0\0\0\1\2\3", 7);
	assert_int_equal(ike_non_esp_add(buf, 7, 4), -ENOSPC);
	assert_int_equal(ike_non_esp_add(buf, 3, 0), -ENOSPC);
	assert_int_equal(ike_non_esp_add(buf, 8, 4), 0);
}

static void
test_names(void **state)
{
	(void)state;
	for (int e = 0; e < IKE_ERR_COUNT; e++) {
		assert_non_null(ike_err_name(e));
		assert_non_null(ike_err_desc(e));
		for (int f = 0; f < e; f++)
			assert_string_not_equal(ike_err_name(e), ike_err_name(f));
	}
	assert_string_equal(ike_err_name(IKE_ERR_COUNT), "unknown");
	assert_string_equal(ike_err_name(IKE_ERR_UNSUPPORTED_CRITICAL), "unsupported_critical");
	for (int t = IKE_PT_SA; t <= IKE_PT_CP; t++)
		assert_non_null(ike_payload_name((uint8_t)t));
	assert_null(ike_payload_name(48));
	assert_null(ike_payload_name(32));
	assert_string_equal(ike_notify_name(IKE_N_COOKIE), "COOKIE");
	assert_string_equal(ike_notify_name(16431), "SIGNATURE_HASH_ALGORITHMS");
	assert_null(ike_notify_name(2));
	assert_int_equal(IKE_N_INVALID_KE_PAYLOAD, 17);
	assert_int_equal(IKE_N_TS_UNACCEPTABLE, 38);
	assert_int_equal(IKE_N_TEMPORARY_FAILURE, 43);
	assert_int_equal(IKE_N_USE_TRANSPORT_MODE, 16391);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncations),	cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_bad_generated),	cmocka_unit_test(test_bad_chains),
		cmocka_unit_test(test_patches),		cmocka_unit_test(test_sk),
		cmocka_unit_test(test_writer_no_space), cmocka_unit_test(test_writer_invalid),
		cmocka_unit_test(test_udp4500),		cmocka_unit_test(test_names),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTORS.json\n", argv[0]);
		return 2;
	}
	ikt_load_vectors(argv[1]);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ikt_free_vectors();
	return rc;
}
