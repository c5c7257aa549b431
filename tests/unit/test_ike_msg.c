/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message codec (controlplane/ike/ike_msg.h), what it must get right:
 *   - scapy-made vectors (scripts/ike_vectors.py): every field decodes as scapy built it, SK
 *     offsets, the inner chain; our writer rebuilds the canonical ones byte for byte, and builds
 *     two of them from explicit calls as the engine will;
 *   - the table of messages our writer makes (ike_msg_test.c), one or more per payload type and
 *     at every cap, parsed back field by field (outside and inside SK).
 * What it must refuse is test_ike_msg_bad.c.
 * Usage: test_ike_msg VECTORS.json                      the tests
 *        test_ike_msg --emit OURS.json VECTORS.json     our messages, for `ike_vectors.py check`
 *                                                       (scapy decodes them: meson test ike_scapy)
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
static struct ike_payloads inner, inner2, spec;
static uint8_t wire[BUF], wire2[BUF];
static char text[TEXT], text2[TEXT];

static void
test_vectors_decode(void **state)
{
	(void)state;
	assert_true(ikt_n_vecs >= 10);
	for (size_t i = 0; i < ikt_n_vecs; i++) {
		const struct vec *v = &ikt_vecs[i];
		enum ike_err err = ike_msg_parse(v->b, v->len, &msg);
		struct ike_sk_layout lay;
		size_t inner_len;

		if (v->error != NULL) {
			CHECK(strcmp(ike_err_name(err), v->error) == 0, "%s: got %s, want %s",
			      v->name, ike_err_name(err), v->error);
			if (v->err_type != 0)
				assert_int_equal(msg.pl.err_type, v->err_type);
			/* the header still decodes (INVALID_MAJOR_VERSION needs it) */
			assert_true(ike_hdr_dump(&msg.hdr, text, TEXT) < TEXT);
			CHECK(strcmp(text, v->dump) == 0, "%s:\n%s---\n%s", v->name, text, v->dump);
			continue;
		}
		CHECK(err == IKE_OK, "%s: %s at offset %zu (type %u)", v->name, ike_err_name(err),
		      msg.pl.err_off, msg.pl.err_type);
		ikt_dump_msg(&msg, text);
		CHECK(strcmp(text, v->dump) == 0, "%s: we decode\n%s--- scapy built\n%s", v->name,
		      text, v->dump);
		assert_int_equal(ike_has(&msg.pl, IKE_PT_SK), v->has_sk);
		if (!v->has_sk)
			continue;

		assert_int_equal(ike_sk_locate(&msg, NULL_IV, NULL_ICV, &lay), IKE_OK);
		assert_int_equal(lay.aad_len, v->aad_len);
		assert_int_equal(lay.iv_off, lay.aad_len);
		assert_memory_equal(v->b + lay.iv_off, v->iv, NULL_IV);
		assert_int_equal(lay.ct_off, lay.iv_off + NULL_IV);
		assert_int_equal(lay.icv_off, lay.ct_off + lay.ct_len);
		assert_int_equal(lay.icv_off + NULL_ICV, v->len);
		assert_memory_equal(v->b + lay.icv_off, v->icv, NULL_ICV);
		assert_int_equal(ike_sk_unpad(v->b + lay.ct_off, lay.ct_len, &inner_len), IKE_OK);
		assert_int_equal(lay.ct_len - 1 - inner_len, v->pad_len);
		err = ike_payloads_parse(lay.first_inner, v->b + lay.ct_off, inner_len, lay.ct_off,
					 true, &inner);
		CHECK(err == IKE_OK, "%s inner: %s at %zu", v->name, ike_err_name(err),
		      inner.err_off);
		ikt_dump_chain(&inner, text);
		CHECK(strcmp(text, v->inner_dump) == 0,
		      "%s inner: we decode\n%s--- scapy built\n%s", v->name, text, v->inner_dump);
		/* IDi'/IDr' for AUTH: the body from the ID type on, as on the wire */
		if (ike_has(&inner, IKE_PT_IDI)) {
			assert_ptr_equal(inner.idi.body + 4, inner.idi.data);
			assert_int_equal(inner.idi.body_len, inner.idi.len + 4);
			assert_int_equal(inner.idi.body[0], inner.idi.type);
		}
	}
}

static void
test_vectors_rebuild(void **state)
{
	(void)state;
	for (size_t i = 0; i < ikt_n_vecs; i++) {
		const struct vec *v = &ikt_vecs[i];
		struct ike_sk_layout lay, lay2;
		size_t len;

		if (v->error != NULL)
			continue;
		assert_int_equal(ike_msg_parse(v->b, v->len, &msg), IKE_OK);
		if (v->has_sk)
			assert_int_equal(ikt_open_sk(&msg, &lay, &inner), IKE_OK);
		assert_int_equal(ikt_rebuild(&msg, &inner, wire, sizeof(wire), &len, &lay2), 0);
		if (v->has_sk) {
			assert_int_equal(lay2.aad_len, lay.aad_len);
			memcpy(wire + lay2.iv_off, v->iv, NULL_IV);
			memcpy(wire + lay2.icv_off, v->icv, NULL_ICV);
		}
		if (v->canonical) {
			CHECK(len == v->len && memcmp(wire, v->b, len) == 0,
			      "%s: rebuilt bytes differ from scapy's", v->name);
		}
		/* canonical or not, the rebuilt message decodes to the same fields */
		assert_int_equal(ike_msg_parse(wire, len, &msg2), IKE_OK);
		ikt_dump_msg(&msg, text);
		ikt_dump_msg(&msg2, text2);
		if (!v->canonical) { /* only the lengths differ */
			msg2.hdr.length = msg.hdr.length;
			ikt_dump_msg(&msg2, text2);
		}
		assert_string_equal(text, text2);
		if (v->has_sk) {
			assert_int_equal(ikt_open_sk(&msg2, &lay2, &inner2), IKE_OK);
			ikt_dump_chain(&inner, text);
			ikt_dump_chain(&inner2, text2);
			assert_string_equal(text, text2);
		}
	}
}

/* The engine's way of writing: explicit calls with named constants; must be scapy's bytes. */
static void
test_writer_known_answer(void **state)
{
	const struct vec *v = ikt_find_vec("ike_sa_init_request");
	struct ike_sa *sa = &spec.sa;
	struct ike_writer w;
	size_t len;

	(void)state;
	assert_int_equal(ike_msg_parse(v->b, v->len, &msg), IKE_OK);
	memset(sa, 0, sizeof(*sa));
	sa->n_proposals = 2;
	sa->prop[0] = (struct ike_proposal){ .num = 1, .proto = IKE_PROTO_IKE, .n_transforms = 5 };
	sa->prop[0].xf[0] = (struct ike_transform){ IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, true, 128 };
	sa->prop[0].xf[1] = (struct ike_transform){ IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, true, 256 };
	sa->prop[0].xf[2] =
		(struct ike_transform){ .type = IKE_XF_PRF, .id = IKE_PRF_HMAC_SHA2_256 };
	sa->prop[0].xf[3] =
		(struct ike_transform){ .type = IKE_XF_PRF, .id = IKE_PRF_HMAC_SHA2_384 };
	sa->prop[0].xf[4] = (struct ike_transform){ .type = IKE_XF_DH, .id = IKE_DH_CURVE25519 };
	sa->prop[1] = (struct ike_proposal){ .num = 2, .proto = IKE_PROTO_IKE, .n_transforms = 3 };
	sa->prop[1].xf[0] =
		(struct ike_transform){ .type = IKE_XF_ENCR, .id = IKE_ENCR_CHACHA20_POLY1305 };
	sa->prop[1].xf[1] =
		(struct ike_transform){ .type = IKE_XF_PRF, .id = IKE_PRF_HMAC_SHA2_256 };
	sa->prop[1].xf[2] = (struct ike_transform){ .type = IKE_XF_DH, .id = IKE_DH_CURVE25519 };

	ike_wr_init(&w, wire, sizeof(wire),
		    &(struct ike_hdr){ .spi_i = msg.hdr.spi_i,
				       .exchange = IKE_SA_INIT,
				       .flags = IKE_FLAG_INITIATOR });
	ike_wr_sa(&w, sa);
	ike_wr_ke(&w, &(struct ike_ke){ IKE_DH_CURVE25519, msg.pl.ke.data, 32 });
	ike_wr_nonce(&w, msg.pl.nonce.data, msg.pl.nonce.len);
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_SOURCE_IP,
						.data = msg.pl.notify[0].data,
						.len = 20 });
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_NAT_DETECTION_DESTINATION_IP,
						.data = msg.pl.notify[1].data,
						.len = 20 });
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED });
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_SIGNATURE_HASH_ALGORITHMS,
						.data = (const uint8_t *)"\0\2\0\3\0\4\0\5",
						.len = 8 });
	ike_wr_notify(&w, &(struct ike_notify){ .type = IKE_N_REDIRECT_SUPPORTED });
	ike_wr_vendor(&w, msg.pl.vendor[0].data, 16);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(len, v->len);
	assert_memory_equal(wire, v->b, len);
}

static void
test_writer_known_answer_sk(void **state)
{
	const struct vec *v = ikt_find_vec("informational_delete");
	static const uint8_t spis[8] = { 0xc0, 0xff, 0xee, 0x01, 0xc0, 0xff, 0xee, 0x02 };
	struct ike_sk_layout lay;
	struct ike_writer w;
	size_t len;

	(void)state;
	assert_int_equal(ike_msg_parse(v->b, v->len, &msg), IKE_OK);
	ike_wr_init(&w, wire, sizeof(wire),
		    &(struct ike_hdr){ .spi_i = msg.hdr.spi_i,
				       .spi_r = msg.hdr.spi_r,
				       .exchange = IKE_INFORMATIONAL,
				       .flags = IKE_FLAG_INITIATOR,
				       .msg_id = 4 });
	assert_int_equal(ike_wr_sk_open(&w, 8), 0);
	ike_wr_delete(&w, &(struct ike_delete){ IKE_PROTO_ESP, 4, 2, spis });
	ike_wr_delete(&w, &(struct ike_delete){ .proto = IKE_PROTO_IKE });
	assert_int_equal(ike_wr_sk_close(&w, 1, 16, &lay), 0);
	/* what the crypto layer does: IV, seal in place (null cipher here), ICV */
	memcpy(wire + lay.iv_off, v->iv, 8);
	memcpy(wire + lay.icv_off, v->icv, 16);
	assert_int_equal(ike_wr_finish(&w, &len), 0);
	assert_int_equal(lay.aad_len, 32);
	assert_int_equal(lay.first_inner, IKE_PT_DELETE);
	assert_int_equal(lay.ct_len, 16 + 8 + 1);
	assert_int_equal(len, v->len);
	assert_memory_equal(wire, v->b, len);
	assert_int_equal(ike_delete_spi(&(struct ike_delete){ IKE_PROTO_ESP, 4, 2, spis }, 1),
			 0xc0ffee02);
}

/* Every proper prefix, as received (length field as sent) and with the header length patched
 * to the prefix so the chain walk runs into the cut; exact-size heap copies. */

/* ---- round trip: messages our writer makes, parsed back field by field ---- */

static void
expect_bytes(const char *what, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	CHECK(alen == blen, "%s: length %zu, want %zu", what, blen, alen);
	if (alen > 0)
		assert_memory_equal(a, b, alen);
}

static void
expect_sa(const struct ike_sa *want, const struct ike_sa *got)
{
	assert_int_equal(got->n_proposals, want->n_proposals);
	for (int i = 0; i < want->n_proposals; i++) {
		const struct ike_proposal *a = &want->prop[i], *b = &got->prop[i];

		assert_int_equal(b->num, a->num);
		assert_int_equal(b->proto, a->proto);
		expect_bytes("spi", a->spi, a->spi_size, b->spi, b->spi_size);
		assert_int_equal(b->n_transforms, a->n_transforms);
		for (int t = 0; t < a->n_transforms; t++) {
			assert_int_equal(b->xf[t].type, a->xf[t].type);
			assert_int_equal(b->xf[t].id, a->xf[t].id);
			assert_int_equal(b->xf[t].has_key_len, a->xf[t].has_key_len);
			assert_int_equal(b->xf[t].key_len, a->xf[t].key_len);
			assert_false(b->xf[t].unknown_attr);
		}
	}
}

static void
expect_ts(const struct ike_ts *want, const struct ike_ts *got)
{
	assert_int_equal(got->n, want->n);
	for (int i = 0; i < want->n; i++) {
		const struct ike_selector *a = &want->sel[i], *b = &got->sel[i];

		assert_int_equal(b->type, a->type);
		assert_int_equal(b->proto, a->proto);
		if (a->type == IKE_TS_IPV4_ADDR_RANGE || a->type == IKE_TS_IPV6_ADDR_RANGE) {
			size_t alen = a->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

			assert_int_equal(b->start_port, a->start_port);
			assert_int_equal(b->end_port, a->end_port);
			assert_memory_equal(b->start, a->start, alen);
			assert_memory_equal(b->end, a->end, alen);
		} else {
			expect_bytes("ts raw", a->raw, a->raw_len, b->raw, b->raw_len);
		}
	}
}

static void
expect_id(const struct ike_id *want, const struct ike_id *got)
{
	assert_int_equal(got->type, want->type);
	expect_bytes("id", want->data, want->len, got->data, got->len);
	/* IDx' = type, three zero bytes, data */
	assert_int_equal(got->body_len, 4 + want->len);
	assert_int_equal(got->body[0], want->type);
	assert_int_equal(got->body[1] | got->body[2] | got->body[3], 0);
}

static void
expect_payloads(const struct ike_payloads *want, const struct ike_payloads *got)
{
	assert_int_equal(got->n, want->n);
	assert_int_equal(got->seen, want->seen);
	assert_int_equal(got->first, want->pl[0].type);
	for (int i = 0; i < want->n; i++) {
		const struct ike_payload *a = &want->pl[i], *b = &got->pl[i];

		assert_int_equal(b->type, a->type);
		assert_int_equal(b->index, a->index);
		if (ike_payload_name(a->type) == NULL) {
			assert_int_equal(b->critical, a->critical);
			expect_bytes("unknown", a->body, a->len, b->body, b->len);
		}
	}
	if (ike_has(want, IKE_PT_SA))
		expect_sa(&want->sa, &got->sa);
	if (ike_has(want, IKE_PT_KE)) {
		assert_int_equal(got->ke.group, want->ke.group);
		expect_bytes("ke", want->ke.data, want->ke.len, got->ke.data, got->ke.len);
	}
	if (ike_has(want, IKE_PT_IDI))
		expect_id(&want->idi, &got->idi);
	if (ike_has(want, IKE_PT_IDR))
		expect_id(&want->idr, &got->idr);
	if (ike_has(want, IKE_PT_AUTH)) {
		assert_int_equal(got->auth.method, want->auth.method);
		expect_bytes("auth", want->auth.data, want->auth.len, got->auth.data,
			     got->auth.len);
	}
	if (ike_has(want, IKE_PT_NONCE))
		expect_bytes("nonce", want->nonce.data, want->nonce.len, got->nonce.data,
			     got->nonce.len);
	if (ike_has(want, IKE_PT_TSI))
		expect_ts(&want->tsi, &got->tsi);
	if (ike_has(want, IKE_PT_TSR))
		expect_ts(&want->tsr, &got->tsr);
	if (ike_has(want, IKE_PT_CP)) {
		assert_int_equal(got->cp.cfg_type, want->cp.cfg_type);
		expect_bytes("cp", want->cp.attrs, want->cp.len, got->cp.attrs, got->cp.len);
	}
	assert_int_equal(got->n_notify, want->n_notify);
	for (int i = 0; i < want->n_notify; i++) {
		const struct ike_notify *a = &want->notify[i], *b = &got->notify[i];

		assert_int_equal(b->proto, a->proto);
		assert_int_equal(b->type, a->type);
		expect_bytes("notify spi", a->spi, a->spi_size, b->spi, b->spi_size);
		expect_bytes("notify data", a->data, a->len, b->data, b->len);
	}
	assert_int_equal(got->n_del, want->n_del);
	for (int i = 0; i < want->n_del; i++) {
		const struct ike_delete *a = &want->del[i], *b = &got->del[i];

		assert_int_equal(b->proto, a->proto);
		assert_int_equal(b->n_spi, a->n_spi);
		expect_bytes("spis", a->spis, (size_t)a->n_spi * a->spi_size, b->spis,
			     (size_t)b->n_spi * b->spi_size);
		for (uint16_t k = 0; k < a->n_spi; k++)
			assert_int_equal(ike_delete_spi(b, k), ike_delete_spi(a, k));
	}
	assert_int_equal(got->n_vendor, want->n_vendor);
	for (int i = 0; i < want->n_vendor; i++)
		expect_bytes("vendor", want->vendor[i].data, want->vendor[i].len,
			     got->vendor[i].data, got->vendor[i].len);
	assert_int_equal(got->n_cert, want->n_cert);
	assert_int_equal(got->n_certreq, want->n_certreq);
	for (int i = 0; i < want->n_cert; i++) {
		assert_int_equal(got->cert[i].encoding, want->cert[i].encoding);
		expect_bytes("cert", want->cert[i].data, want->cert[i].len, got->cert[i].data,
			     got->cert[i].len);
	}
	for (int i = 0; i < want->n_certreq; i++) {
		assert_int_equal(got->certreq[i].encoding, want->certreq[i].encoding);
		expect_bytes("certreq", want->certreq[i].data, want->certreq[i].len,
			     got->certreq[i].data, got->certreq[i].len);
	}
}

static void
test_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ikt_n_rt_cases; i++) {
		const struct rt_case *c = &ikt_rt_cases[i];
		size_t len = ikt_build_case(c, &spec, wire, sizeof(wire));
		struct ike_sk_layout lay;
		enum ike_err err;

		err = ike_msg_parse(wire, len, &msg);
		CHECK(err == IKE_OK, "%s: %s at %zu", c->name, ike_err_name(err), msg.pl.err_off);
		assert_int_equal(msg.hdr.spi_i, ikt_hdr.spi_i);
		assert_int_equal(msg.hdr.spi_r, ikt_hdr.spi_r);
		assert_int_equal(msg.hdr.exchange, ikt_hdr.exchange);
		assert_int_equal(msg.hdr.flags, ikt_hdr.flags);
		assert_int_equal(msg.hdr.msg_id, ikt_hdr.msg_id);
		assert_int_equal(msg.hdr.major, 2);
		assert_int_equal(msg.hdr.length, len);
		if (!c->in_sk) {
			expect_payloads(&spec, &msg.pl);
			continue;
		}
		assert_int_equal(msg.pl.n, 1);
		assert_int_equal(msg.pl.first, IKE_PT_SK);
		err = ikt_open_sk(&msg, &lay, &inner);
		CHECK(err == IKE_OK, "%s inner: %s at %zu", c->name, ike_err_name(err),
		      inner.err_off);
		assert_int_equal(lay.aad_len, IKE_HDR_LEN + IKE_PAYLOAD_HDR_LEN);
		assert_int_equal(lay.icv_off + NULL_ICV, len);
		expect_payloads(&spec, &inner);
	}
}

/* ---- --emit: our messages for scapy to decode ---- */

static void
json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
emit_one(FILE *f, bool *first, const char *name, const uint8_t *b, size_t len)
{
	struct ike_sk_layout lay;

	if (ike_msg_parse(b, len, &msg) != IKE_OK) {
		fprintf(stderr, "%s: our own message does not parse\n", name);
		exit(1);
	}
	fprintf(f, "%s  {\"name\": \"%s\", \"hex\": \"", *first ? "" : ",\n", name);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", b[i]);
	fputs("\", \"dump\": ", f);
	ikt_dump_msg(&msg, text);
	json_text(f, text);
	if (ike_has(&msg.pl, IKE_PT_SK)) {
		if (ikt_open_sk(&msg, &lay, &inner) != IKE_OK)
			exit(1);
		ikt_dump_chain(&inner, text);
		fputs(", \"inner_dump\": ", f);
		json_text(f, text);
	}
	fputs("}", f);
	*first = false;
}

static int
emit(const char *out_path)
{
	FILE *f = fopen(out_path, "w");
	bool first = true;
	char name[96];
	size_t len;

	if (f == NULL) {
		perror(out_path);
		return 1;
	}
	fputs("{\"messages\": [\n", f);
	for (size_t i = 0; i < ikt_n_vecs; i++) {
		const struct vec *v = &ikt_vecs[i];
		struct ike_sk_layout lay;

		if (v->error != NULL)
			continue;
		if (ike_msg_parse(v->b, v->len, &msg) != IKE_OK ||
		    (v->has_sk && ikt_open_sk(&msg, &lay, &inner) != IKE_OK) ||
		    ikt_rebuild(&msg, &inner, wire2, sizeof(wire2), &len, &lay) != 0)
			return 1;
		snprintf(name, sizeof(name), "rebuilt_%s", v->name);
		emit_one(f, &first, name, wire2, len);
	}
	for (size_t i = 0; i < ikt_n_rt_cases; i++) {
		len = ikt_build_case(&ikt_rt_cases[i], &spec, wire, sizeof(wire));
		snprintf(name, sizeof(name), "roundtrip_%s%s", ikt_rt_cases[i].name,
			 ikt_rt_cases[i].in_sk ? "_sk" : "");
		memcpy(wire2, wire, len);
		emit_one(f, &first, name, wire2, len);
	}
	fputs("\n]}\n", f);
	return fclose(f) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_decode),
		cmocka_unit_test(test_vectors_rebuild),
		cmocka_unit_test(test_writer_known_answer),
		cmocka_unit_test(test_writer_known_answer_sk),
		cmocka_unit_test(test_roundtrip),
	};
	int rc;

	if (argc == 4 && strcmp(argv[1], "--emit") == 0) {
		ikt_load_vectors(argv[3]);
		rc = emit(argv[2]);
	} else if (argc == 2) {
		ikt_load_vectors(argv[1]);
		rc = cmocka_run_group_tests(tests, NULL, NULL);
	} else {
		fprintf(stderr, "usage: %s VECTORS.json | --emit OURS.json VECTORS.json\n",
			argv[0]);
		return 2;
	}
	ikt_free_vectors();
	return rc;
}
