/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the IKE message codec tests (test_ike_msg.c, test_ike_msg_bad.c): the scapy vector
 * file, hex, the null-cipher SK convention (open, rebuild), and the table of messages our writer
 * makes (one or more per payload type, at every cap), each described by the decoded form it must
 * give.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ike_msg_test.h"

struct vec ikt_vecs[IKT_MAX_VEC];
size_t ikt_n_vecs;
static json_t *vec_root;

size_t
ikt_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = hex; *p != '\0';) {
		unsigned v;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (sscanf(p, "%2x", &v) != 1 || n == cap)
			fail_msg("bad hex or too long: %s", hex);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	return n;
}

uint8_t *
ikt_dup(const uint8_t *b, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	memcpy(p, b, len);
	return p;
}

void
ikt_set_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Header and outer chain, as the vectors' "dump". */
void
ikt_dump_msg(const struct ike_msg *m, char *out)
{
	size_t n = ike_hdr_dump(&m->hdr, out, TEXT);

	assert_true(n < TEXT);
	assert_true(ike_payloads_dump(&m->pl, out + n, TEXT - n) < TEXT - n);
}

void
ikt_dump_chain(const struct ike_payloads *p, char *out)
{
	assert_true(ike_payloads_dump(p, out, TEXT) < TEXT);
}

/* Locate SK with the null-cipher sizes, unpad and parse the inner chain into *in. */
enum ike_err
ikt_open_sk(const struct ike_msg *m, struct ike_sk_layout *lay, struct ike_payloads *in)
{
	size_t inner_len;
	enum ike_err err = ike_sk_locate(m, NULL_IV, NULL_ICV, lay);

	if (err != IKE_OK)
		return err;
	err = ike_sk_unpad(m->raw + lay->ct_off, lay->ct_len, &inner_len);
	if (err != IKE_OK)
		return err;
	return ike_payloads_parse(lay->first_inner, m->raw + lay->ct_off, inner_len, lay->ct_off,
				  true, in);
}

/* Write m's header and chains again (inner into SK with the null-cipher sizes, no padding). */
int
ikt_rebuild(const struct ike_msg *m, const struct ike_payloads *in, uint8_t *out, size_t cap,
	    size_t *len, struct ike_sk_layout *lay)
{
	struct ike_writer w;

	ike_wr_init(&w, out, cap, &m->hdr);
	ike_wr_chain(&w, &m->pl);
	if (ike_has(&m->pl, IKE_PT_SK)) {
		ike_wr_sk_open(&w, NULL_IV);
		ike_wr_chain(&w, in);
		ike_wr_sk_close(&w, 1, NULL_ICV, lay);
	}
	return ike_wr_finish(&w, len);
}

/* ---- vectors ---- */

void
ikt_load_vectors(const char *path)
{
	json_error_t jerr;
	const json_t *arr, *v;
	size_t i;

	vec_root = json_load_file(path, 0, &jerr);
	if (vec_root == NULL) {
		fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
		exit(1);
	}
	arr = json_object_get(vec_root, "vectors");
	json_array_foreach(arr, i, v)
	{
		struct vec *x = &ikt_vecs[ikt_n_vecs++];
		const json_t *sk = json_object_get(v, "sk"), *e = json_object_get(v, "error");
		const char *hex = json_string_value(json_object_get(v, "hex"));

		if (ikt_n_vecs > IKT_MAX_VEC || hex == NULL)
			exit(1);
		x->name = json_string_value(json_object_get(v, "name"));
		x->b = malloc(strlen(hex) / 2 + 1);
		x->len = ikt_hex(hex, x->b, strlen(hex) / 2);
		x->error = json_is_string(e) ? json_string_value(e) : NULL;
		x->err_type = (int)json_integer_value(json_object_get(v, "err_type"));
		x->dump = json_string_value(json_object_get(v, "dump"));
		x->canonical = json_is_true(json_object_get(v, "canonical"));
		x->has_sk = json_is_object(sk);
		if (x->has_sk) {
			x->aad_len = (size_t)json_integer_value(json_object_get(sk, "aad_len"));
			ikt_hex(json_string_value(json_object_get(sk, "iv")), x->iv, NULL_IV);
			ikt_hex(json_string_value(json_object_get(sk, "icv")), x->icv, NULL_ICV);
			x->pad_len = (size_t)json_integer_value(json_object_get(sk, "pad_len"));
			x->inner_dump = json_string_value(json_object_get(sk, "inner_dump"));
		}
	}
}

const struct vec *
ikt_find_vec(const char *name)
{
	for (size_t i = 0; i < ikt_n_vecs; i++)
		if (strcmp(ikt_vecs[i].name, name) == 0)
			return &ikt_vecs[i];
	fail_msg("no vector %s", name);
	return NULL;
}

void
ikt_free_vectors(void)
{
	for (size_t i = 0; i < ikt_n_vecs; i++)
		free(ikt_vecs[i].b);
	ikt_n_vecs = 0;
	json_decref(vec_root);
	vec_root = NULL;
}

/* ---- the round-trip table: messages our writer makes and what they must decode to ---- */

static const uint8_t bytes256[256] = {
	0x5a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c,
	0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0xff, 0xfe, 0xfd, 0x00, 0x00, 0x80, 0x7f,
};

static struct ike_payload *
add(struct ike_payloads *s, uint8_t type, uint8_t index)
{
	struct ike_payload *e = &s->pl[s->n++];

	*e = (struct ike_payload){ .type = type, .index = index };
	if (type >= IKE_PT_SA && type <= IKE_PT_CP)
		s->seen |= 1u << (type - IKE_PT_SA);
	return e;
}

static void
xf(struct ike_proposal *p, uint8_t type, uint16_t id, int key_len)
{
	p->xf[p->n_transforms++] = (struct ike_transform){ .type = type,
							   .id = id,
							   .has_key_len = key_len >= 0,
							   .key_len = key_len >= 0 ? key_len : 0 };
}

static void
rt_sa_ike(struct ike_payloads *s)
{
	struct ike_proposal *p = &s->sa.prop[0];

	add(s, IKE_PT_SA, 0);
	s->sa.n_proposals = 2;
	p->num = 1, p->proto = IKE_PROTO_IKE;
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 128);
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_256, -1);
	xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_384, -1);
	xf(p, IKE_XF_DH, IKE_DH_CURVE25519, -1);
	p = &s->sa.prop[1];
	p->num = 2, p->proto = IKE_PROTO_IKE;
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_CBC, 256);
	xf(p, IKE_XF_INTEG, IKE_INTEG_SHA2_256_128, -1);
	xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_512, -1);
	xf(p, IKE_XF_DH, IKE_DH_ECP256, -1);
	xf(p, IKE_XF_DH, IKE_DH_MODP2048, -1);
}

static void
rt_sa_esp(struct ike_payloads *s)
{
	struct ike_proposal *p = &s->sa.prop[0];

	add(s, IKE_PT_SA, 0);
	s->sa.n_proposals = 1;
	*p = (struct ike_proposal){
		.num = 1, .proto = IKE_PROTO_ESP, .spi_size = 4, .spi = { 0xc0, 0xff, 0xee, 0x01 }
	};
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(p, IKE_XF_ENCR, IKE_ENCR_CHACHA20_POLY1305, -1);
	xf(p, IKE_XF_ESN, IKE_ESN_NO, -1);
	xf(p, 200, 0xffff, 0xffff); /* unknown type and largest values pass through */
}

static void
rt_sa_rekey_ike(struct ike_payloads *s)
{
	struct ike_proposal *p = &s->sa.prop[0];

	add(s, IKE_PT_SA, 0);
	s->sa.n_proposals = 1;
	*p = (struct ike_proposal){
		.num = 3, .proto = IKE_PROTO_IKE, .spi_size = 8, .spi = { 1, 2, 3, 4, 5, 6, 7, 8 }
	};
	xf(p, IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(p, IKE_XF_PRF, IKE_PRF_HMAC_SHA2_384, -1);
	xf(p, IKE_XF_DH, IKE_DH_CURVE25519, -1);
}

static void
rt_sa_caps(struct ike_payloads *s)
{
	add(s, IKE_PT_SA, 0);
	s->sa.n_proposals = IKE_MAX_PROPOSALS;
	for (int i = 0; i < IKE_MAX_PROPOSALS; i++) {
		struct ike_proposal *p = &s->sa.prop[i];

		p->num = (uint8_t)(i + 1), p->proto = IKE_PROTO_ESP, p->spi_size = 4;
		p->spi[3] = (uint8_t)i;
		for (int t = 0; t < IKE_MAX_TRANSFORMS; t++)
			xf(p, (uint8_t)(1 + t % 5), (uint16_t)(i * 100 + t), t % 2 ? t : -1);
	}
}

static void
rt_ke(struct ike_payloads *s)
{
	add(s, IKE_PT_KE, 0);
	s->ke = (struct ike_ke){ IKE_DH_MODP2048, bytes256, 256 };
	add(s, IKE_PT_NONCE, 0);
	s->nonce = (struct ike_nonce){ bytes256, 32 };
}

static void
rt_ids(struct ike_payloads *s)
{
	add(s, IKE_PT_IDI, 0);
	s->idi = (struct ike_id){ .type = IKE_ID_FQDN,
				  .data = (const uint8_t *)"a.example",
				  .len = 9 };
	add(s, IKE_PT_IDR, 0);
	s->idr = (struct ike_id){ .type = IKE_ID_IPV4_ADDR, .data = bytes256, .len = 4 };
}

static void
rt_ids6(struct ike_payloads *s)
{
	add(s, IKE_PT_IDR, 0);
	s->idr = (struct ike_id){ .type = IKE_ID_KEY_ID, .data = bytes256 + 60, .len = 12 };
	add(s, IKE_PT_IDI, 0);
	s->idi = (struct ike_id){ .type = IKE_ID_IPV6_ADDR, .data = bytes256, .len = 16 };
}

static void
rt_id_mail(struct ike_payloads *s)
{
	add(s, IKE_PT_IDI, 0);
	s->idi = (struct ike_id){ .type = IKE_ID_RFC822_ADDR,
				  .data = (const uint8_t *)"u@x.org",
				  .len = 7 };
	add(s, IKE_PT_IDR, 0);
	s->idr = (struct ike_id){ .type = IKE_ID_DER_ASN1_DN, .data = NULL, .len = 0 };
}

static void
rt_certs(struct ike_payloads *s)
{
	for (uint8_t i = 0; i < IKE_MAX_CERT; i++) {
		add(s, IKE_PT_CERT, i);
		s->cert[i] = (struct ike_cert){ IKE_CERT_X509_SIG, bytes256, 100u + i };
		add(s, IKE_PT_CERTREQ, i);
		s->certreq[i] = (struct ike_cert){ (uint8_t)(i + 1), bytes256 + i, 20u * i };
	}
	s->n_cert = s->n_certreq = IKE_MAX_CERT;
}

static void
rt_auth_psk(struct ike_payloads *s)
{
	add(s, IKE_PT_AUTH, 0);
	s->auth = (struct ike_auth){ IKE_AUTH_PSK, bytes256, 32 };
}

static void
rt_auth_sig(struct ike_payloads *s)
{
	add(s, IKE_PT_AUTH, 0);
	s->auth = (struct ike_auth){ IKE_AUTH_DIGITAL_SIG, bytes256, 75 };
}

static void
rt_nonce_min(struct ike_payloads *s)
{
	add(s, IKE_PT_NONCE, 0);
	s->nonce = (struct ike_nonce){ bytes256, IKE_NONCE_MIN };
}

static void
rt_nonce_max(struct ike_payloads *s)
{
	add(s, IKE_PT_NONCE, 0);
	s->nonce = (struct ike_nonce){ bytes256, IKE_NONCE_MAX };
}

static void
rt_notify(struct ike_payloads *s)
{
	static const uint8_t group[2] = { 0, 31 };

	add(s, IKE_PT_NOTIFY, 0);
	s->notify[0] = (struct ike_notify){ .type = IKE_N_COOKIE, .data = bytes256, .len = 64 };
	add(s, IKE_PT_NOTIFY, 1);
	s->notify[1] = (struct ike_notify){
		.proto = IKE_PROTO_ESP, .spi_size = 4, .type = IKE_N_REKEY_SA, .spi = bytes256 + 4
	};
	add(s, IKE_PT_NOTIFY, 2);
	s->notify[2] =
		(struct ike_notify){ .type = IKE_N_INVALID_KE_PAYLOAD, .data = group, .len = 2 };
	add(s, IKE_PT_NOTIFY, 3);
	s->notify[3] = (struct ike_notify){ .proto = IKE_PROTO_IKE,
					    .spi_size = 8,
					    .type = IKE_N_INVALID_SYNTAX,
					    .spi = bytes256,
					    .data = bytes256 + 8,
					    .len = 3 };
	add(s, IKE_PT_NOTIFY, 4);
	s->notify[4] = (struct ike_notify){ .type = 0xffff };
	s->n_notify = 5;
}

static void
rt_notify_caps(struct ike_payloads *s)
{
	for (uint8_t i = 0; i < IKE_MAX_NOTIFY; i++) {
		add(s, IKE_PT_NOTIFY, i);
		s->notify[i] = (struct ike_notify){ .type = (uint16_t)(16384 + i),
						    .data = bytes256,
						    .len = i };
	}
	s->n_notify = IKE_MAX_NOTIFY;
}

static void
rt_delete(struct ike_payloads *s)
{
	add(s, IKE_PT_DELETE, 0);
	s->del[0] = (struct ike_delete){ IKE_PROTO_ESP, 4, 3, bytes256 };
	add(s, IKE_PT_DELETE, 1);
	s->del[1] = (struct ike_delete){ IKE_PROTO_AH, 4, 1, bytes256 + 12 };
	add(s, IKE_PT_DELETE, 2);
	s->del[2] = (struct ike_delete){ .proto = IKE_PROTO_IKE };
	s->n_del = 3;
}

static void
rt_vendor(struct ike_payloads *s)
{
	for (uint8_t i = 0; i < IKE_MAX_VENDOR; i++) {
		add(s, IKE_PT_VENDOR, i);
		s->vendor[i] = (struct ike_vendor){ bytes256 + i, i * 3u };
	}
	s->n_vendor = IKE_MAX_VENDOR;
}

static void
v4(struct ike_selector *sel, uint8_t proto, uint16_t sp, uint16_t ep, uint8_t a, uint8_t b)
{
	*sel = (struct ike_selector){ .type = IKE_TS_IPV4_ADDR_RANGE,
				      .proto = proto,
				      .start_port = sp,
				      .end_port = ep,
				      .start = { 10, 0, 0, a },
				      .end = { 10, 0, 0, b } };
}

static void
rt_ts(struct ike_payloads *s)
{
	struct ike_selector *sel = s->tsi.sel;

	add(s, IKE_PT_TSI, 0);
	s->tsi.n = IKE_MAX_TS;
	v4(&sel[0], 0, 0, 65535, 1, 1);
	v4(&sel[1], 6, 443, 443, 0, 255);
	sel[2] = (struct ike_selector){
		.type = IKE_TS_IPV6_ADDR_RANGE, .proto = 17, .start_port = 500, .end_port = 4500
	};
	memcpy(sel[2].start, bytes256, 16);
	memset(sel[2].end, 0xff, 16);
	sel[3] = (struct ike_selector){ .type = 9, .proto = 0, .raw = bytes256, .raw_len = 12 };
	v4(&sel[4], 1, 65535, 0, 9, 3); /* OPAQUE ports, reversed range: passed through */
	sel[5] = (struct ike_selector){ .type = 10, .proto = 0, .raw = NULL, .raw_len = 0 };
	v4(&sel[6], 58, 0, 0, 0, 0);
	sel[7] = (struct ike_selector){ .type = IKE_TS_IPV6_ADDR_RANGE, .proto = 255 };
	add(s, IKE_PT_TSR, 0);
	s->tsr.n = 1;
	v4(&s->tsr.sel[0], 0, 0, 65535, 2, 2);
}

static void
rt_cp(struct ike_payloads *s)
{
	/* INTERNAL_IP4_ADDRESS 10.0.0.1, INTERNAL_IP4_DNS (empty) */
	static const uint8_t attrs[] = { 0, 1, 0, 4, 10, 0, 0, 1, 0, 3, 0, 0 };

	add(s, IKE_PT_CP, 0);
	s->cp = (struct ike_cp){ 2, attrs, sizeof(attrs) };
}

static void
rt_unknown(struct ike_payloads *s)
{
	struct ike_payload *e;

	e = add(s, 48, 0);
	e->body = bytes256;
	e->len = 5;
	add(s, IKE_PT_NONCE, 0);
	s->nonce = (struct ike_nonce){ bytes256, 17 };
	add(s, 200, 0);
	e = add(s, 1, 0);
	e->body = bytes256 + 7;
	e->len = 1;
}

/* The chain cap: 24 N + 16 V + 8 D = 48 payloads. */
static void
rt_chain_cap(struct ike_payloads *s)
{
	rt_notify_caps(s);
	rt_vendor(s);
	for (uint8_t i = 0; i < IKE_MAX_DELETE; i++) {
		add(s, IKE_PT_DELETE, i);
		s->del[i] = (struct ike_delete){ IKE_PROTO_ESP, 4, (uint16_t)(i + 1), bytes256 };
	}
	s->n_del = IKE_MAX_DELETE;
	assert_int_equal(s->n, IKE_MAX_PAYLOADS);
}

/* An IKE_AUTH response's payloads. */
void
ikt_rt_auth_all(struct ike_payloads *s)
{
	rt_ids(s);
	add(s, IKE_PT_CERT, 0);
	s->cert[0] = (struct ike_cert){ IKE_CERT_X509_SIG, bytes256, 256 };
	s->n_cert = 1;
	rt_auth_sig(s);
	rt_cp(s);
	rt_sa_esp(s);
	add(s, IKE_PT_NOTIFY, 0);
	s->notify[0] = (struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE };
	s->n_notify = 1;
	rt_ts(s);
}

const struct rt_case ikt_rt_cases[] = {
	{ "sa_ike", rt_sa_ike, false },
	{ "sa_esp", rt_sa_esp, true },
	{ "sa_rekey_ike", rt_sa_rekey_ike, true },
	{ "sa_caps", rt_sa_caps, false },
	{ "ke_nonce", rt_ke, false },
	{ "ids_fqdn_ipv4", rt_ids, true },
	{ "ids_ipv6_keyid", rt_ids6, true },
	{ "ids_rfc822_empty_dn", rt_id_mail, true },
	{ "certs_caps", rt_certs, true },
	{ "auth_psk", rt_auth_psk, true },
	{ "auth_sig", rt_auth_sig, true },
	{ "nonce_16", rt_nonce_min, false },
	{ "nonce_256", rt_nonce_max, false },
	{ "notify", rt_notify, false },
	{ "notify_in_sk", rt_notify, true },
	{ "notify_caps", rt_notify_caps, false },
	{ "delete", rt_delete, true },
	{ "vendor_caps", rt_vendor, false },
	{ "ts", rt_ts, true },
	{ "ts_clear", rt_ts, false },
	{ "cp", rt_cp, true },
	{ "unknown_noncritical", rt_unknown, false },
	{ "unknown_in_sk", rt_unknown, true },
	{ "chain_cap", rt_chain_cap, false },
	{ "auth_all", ikt_rt_auth_all, true },
};

const size_t ikt_n_rt_cases = sizeof(ikt_rt_cases) / sizeof(ikt_rt_cases[0]);

const struct ike_hdr ikt_hdr = { .spi_i = 0x0102030405060708ull,
				 .spi_r = 0xf1f2f3f4f5f6f7f8ull,
				 .exchange = IKE_AUTH,
				 .flags = IKE_FLAG_RESPONSE,
				 .msg_id = 0xfffffffe };

/* Write case c into out; returns the length. */
size_t
ikt_build_case(const struct rt_case *c, struct ike_payloads *s, uint8_t *out, size_t cap)
{
	struct ike_sk_layout lay;
	struct ike_writer w;
	size_t len;

	memset(s, 0, sizeof(*s));
	c->build(s);
	ike_wr_init(&w, out, cap, &ikt_hdr);
	if (c->in_sk)
		ike_wr_sk_open(&w, NULL_IV);
	ike_wr_chain(&w, s);
	if (c->in_sk)
		ike_wr_sk_close(&w, 1, NULL_ICV, &lay);
	CHECK(ike_wr_finish(&w, &len) == 0, "%s: writer error %d", c->name, w.err);
	return len;
}
