/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ESP engine against independent vectors (RFC 7634 Appendix A, draft-mcgrew-gcm-test-01, and
 * packets made by scapy's ESP at test time). Usage: test_esp_vectors VECTORS.json [OURS.json]
 * For every vector:
 *   peek     - the first bytes from esp_peek() equal the decrypted payload's;
 *   inbound  - esp_inbound_burst() accepts the packet and delivers the vector's cleartext
 * byte-exact; seal     - our AEAD seal of the vector's payload under its nonce gives its ciphertext
 * and ICV; outbound - where the vector's IV is its sequence number (our IV rule),
 * esp_outbound_burst() of the cleartext gives the vector's ESP bytes exactly; the packet goes to
 * OURS.json so that scripts/esp_vectors.py check can decrypt it with scapy.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_malloc.h>

#include "esp_priv.h"
#include "test_common.h"

#define BUF 4096

static const char *vectors_path;
static const char *ours_path;
static struct esp_lcore lc;

struct vec {
	const json_t *j;
	const char *name;
	uint8_t outer[128], esp[BUF], payload[BUF], inner[BUF];
	int outer_len, esp_len, payload_len, inner_len;
	uint64_t seq;
};

static void
load_vec(const json_t *j, struct vec *v)
{
	v->j = j;
	v->name = t_json_str(j, "name");
	v->outer_len = t_hex(t_json_str(j, "outer"), v->outer, sizeof(v->outer));
	v->esp_len = t_hex(t_json_str(j, "esp"), v->esp, sizeof(v->esp));
	v->payload_len = t_hex(t_json_str(j, "payload"), v->payload, sizeof(v->payload));
	v->inner_len =
		json_object_get(j, "inner") ? t_hex(t_json_str(j, "inner"), v->inner, BUF) : -1;
	v->seq = t_json_u64(j, "seq");
	if (v->outer_len < 0 || v->esp_len < 32 || v->payload_len < 2)
		fail_msg("%s: malformed vector", v->name);
}

/* The vector's packet as it arrives: its own outer header, or a made-up IPv4 one around bare ESP.
 */
static size_t
wire_packet(const struct vec *v, const struct esp_sa_params *p, uint8_t *pkt)
{
	size_t off = 0;

	if (v->outer_len > 0) {
		memcpy(pkt, v->outer, (size_t)v->outer_len);
		off = (size_t)v->outer_len;
	} else {
		const uint8_t hdr[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 50 };
		uint16_t tot = (uint16_t)(20 + v->esp_len);

		memcpy(pkt, hdr, sizeof(hdr));
		pkt[2] = (uint8_t)(tot >> 8);
		pkt[3] = (uint8_t)tot;
		memcpy(pkt + 12, &p->remote.v4, 4);
		memcpy(pkt + 16, &p->local.v4, 4);
		off = 20;
	}
	memcpy(pkt + off, v->esp, (size_t)v->esp_len);
	return off + (size_t)v->esp_len;
}

static void
check_peek(const struct vec *v, const struct esp_sa *sa)
{
	uint8_t out[ESP_PEEK_MAX];
	int n = esp_peek(&lc, sa, v->esp, (uint32_t)v->esp_len, out, ESP_PEEK_MAX);
	int want = RTE_MIN(v->payload_len, ESP_PEEK_MAX);

	if (n != want || memcmp(out, v->payload, (size_t)n) != 0)
		fail_msg("%s: peek of %d bytes differs from the decrypted payload", v->name, want);

	/* any window, in particular the trailer: payload here is the whole ESP plaintext */
	if (v->payload_len != v->esp_len - 16 - ESP_ICV_LEN)
		fail_msg("%s: vector payload is not the whole ciphertext", v->name);
	for (int off = 0; off < v->payload_len; off++) {
		uint32_t len = RTE_MIN((uint32_t)(v->payload_len - off), ESP_PEEK_MAX - off % 16u);

		n = esp_peek_at(&lc, sa, v->esp, (uint32_t)v->esp_len, (uint32_t)off, out, len);
		if (n != (int)len || memcmp(out, v->payload + off, len) != 0)
			fail_msg("%s: peek of %u bytes at %d differs", v->name, len, off);
	}
	if (esp_peek_next_header(&lc, sa, v->esp, (uint32_t)v->esp_len) !=
	    v->payload[v->payload_len - 1])
		fail_msg("%s: peeked next header differs", v->name);
	if (esp_peek_at(&lc, sa, v->esp, (uint32_t)v->esp_len, (uint32_t)v->payload_len, out, 1) !=
	    -EINVAL)
		fail_msg("%s: a peek past the ciphertext must fail", v->name);
	if (sa->rt.aead == ESP_AEAD_CHACHA20_POLY1305)
		return;
	/* the AES-NI keystream equals IPsec-MB's own CTR job on the same key schedule */
	uint8_t ref[ESP_PEEK_MAX], fast[ESP_PEEK_MAX];

	for (uint32_t off = 0; off < 40; off += 13)
		for (uint32_t len = 1;
		     off + len <= (uint32_t)want && off % 16 + len <= ESP_PEEK_MAX; len += 7) {
			esp_peek_gcm_job(&lc, sa, v->esp + 8, off, v->esp + 16 + off, ref, len);
			esp_peek_gcm_aesni(&lc, sa, v->esp + 8, off, v->esp + 16 + off, fast, len);
			if (memcmp(ref, fast, len) != 0)
				fail_msg(
					"%s: AES-NI peek of %u bytes at %u differs from IPsec-MB's "
					"CTR",
					v->name, len, off);
		}
}

static void
check_inbound(const struct vec *v, struct esp_sa *sa, const struct esp_sa_params *p)
{
	struct esp_sa_table *tbl = esp_sa_table_create(4);
	uint8_t pkt[BUF];
	size_t len = wire_packet(v, p, pkt);
	struct rte_mbuf *m = t_mbuf_from(pkt, len);
	struct esp_sa *got = NULL;

	assert_non_null(tbl);
	assert_int_equal(esp_sa_table_add(tbl, sa), 0);
	if (esp_inbound_burst(&lc, tbl, &m, &got, 1) != 1) {
		for (int r = 1; r < ESP_DROP_COUNT; r++)
			if (lc.stats.drops[r] != 0)
				print_error("%s: drop %s\n", v->name, esp_drop_name(r));
		fail_msg("%s: inbound dropped the packet", v->name);
	}
	assert_ptr_equal(got, sa);
	if (v->inner_len >= 0) {
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

		if ((int)m->data_len != v->inner_len || memcmp(d, v->inner, m->data_len) != 0) {
			char hex[2 * BUF + 1];

			t_to_hex(d, m->data_len, hex);
			fail_msg("%s: decapsulated packet differs:\n got  %s\n want %s", v->name,
				 hex, t_json_str(v->j, "inner"));
		}
	}
	rte_pktmbuf_free(m);
	esp_sa_table_free(tbl);
}

/* Our seal on the vector's own nonce and AAD: ciphertext and ICV must match byte for byte. */
static void
check_seal(const struct vec *v, const struct esp_sa_params *in_p)
{
	struct esp_sa_params p = *in_p;
	struct esp_sa *sa;
	struct esp_aead_op op;
	uint8_t buf[BUF];
	uint8_t keymat[ESP_MAX_KEYMAT_LEN];

	memcpy(keymat, p.keymat, p.keymat_len);
	p.keymat = keymat;
	p.dir = ESP_DIR_OUTBOUND;
	assert_int_equal(esp_sa_create(&p, &lc, &sa), 0);
	memset(&op, 0, sizeof(op));
	memcpy(buf, v->payload, (size_t)v->payload_len);
	op.data = buf;
	op.len = (uint32_t)v->payload_len;
	op.icv = buf + op.len;
	esp_build_nonce_aad(sa, v->esp, v->seq, &op);
	sa->rt.seal(&lc, sa, &op);
	esp_crypto_flush(&lc);
	assert_int_equal(op.status, ESP_DROP_NONE);
	if (memcmp(buf, v->esp + 16, op.len + ESP_ICV_LEN) != 0)
		fail_msg("%s: our seal differs from the vector's ciphertext/ICV", v->name);
	esp_sa_free(sa);
}

static bool
iv_is_seq(const struct vec *v)
{
	uint8_t want[8];

	for (int i = 0; i < 8; i++)
		want[i] = (uint8_t)(v->seq >> (56 - 8 * i));
	return memcmp(v->esp + 8, want, 8) == 0;
}

static void
check_outbound(const struct vec *v, json_t *results)
{
	struct esp_sa_params p;
	struct esp_sa *sa;
	uint8_t keymat[ESP_MAX_KEYMAT_LEN];

	t_params_from_vector(v->j, ESP_DIR_OUTBOUND, &p, keymat); /* the vector's sender */
	assert_int_equal(esp_sa_create(&p, &lc, &sa), 0);

	/* the cleartext as a sender has it: tunnel - the inner packet; transport - the original one
	 */
	struct rte_mbuf *m = t_mbuf_from(v->inner, (size_t)v->inner_len);
	uint64_t seq = v->seq;

	if (esp_outbound_burst(&lc, &sa, &m, &seq, 1) != 1)
		fail_msg("%s: outbound dropped the packet", v->name);

	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t esp_off = m->data_len - (size_t)v->esp_len;

	if (m->data_len < v->esp_len || memcmp(d + esp_off, v->esp, (size_t)v->esp_len) != 0) {
		char hex[2 * BUF + 1];

		t_to_hex(d, m->data_len, hex);
		fail_msg("%s: our ESP differs from the vector's:\n got  %s\n want %s", v->name, hex,
			 t_json_str(v->j, "esp"));
	}
	if (results != NULL) {
		char *hex = malloc(2u * m->data_len + 1);

		assert_non_null(hex);
		t_to_hex(d, m->data_len, hex);
		json_array_append_new(results,
				      json_pack("{s:s, s:s}", "name", v->name, "packet", hex));
		free(hex);
	}
	rte_pktmbuf_free(m);
	esp_sa_free(sa);
}

static void
test_vectors(void **state)
{
	json_t *root = t_load_json(vectors_path);
	json_t *vectors = json_object_get(root, "vectors");
	json_t *results = json_array();
	json_t *j;
	size_t i, n_out = 0, n_skip = 0;
	static struct vec v;

	(void)state;
	assert_true(json_array_size(vectors) > 0);
	json_array_foreach(vectors, i, j)
	{
		struct esp_sa_params p;
		uint8_t keymat[ESP_MAX_KEYMAT_LEN];
		struct esp_sa *sa;

		load_vec(j, &v);
		if (t_json_u64(j, "spi") < 256) {
			/* RFC 4303 2.1 reserves SPIs 0..255 and our SAs refuse them;
			 * scripts/check_rfc_vectors.py still checks the vector itself */
			print_message("%s: reserved SPI, skipped\n", v.name);
			n_skip++;
			continue;
		}
		t_params_from_vector(j, ESP_DIR_INBOUND, &p, keymat);
		assert_int_equal(esp_sa_create(&p, &lc, &sa), 0);
		/* a receiver infers the ESN high half from its window (RFC 4303 A2): place the
		 * window as if the packet before this one had arrived */
		if (p.esn && v.seq > 1)
			assert_int_equal(esp_replay_update(&sa->replay, v.seq - 1), ESP_REPLAY_OK);
		check_peek(&v, sa);
		check_seal(&v, &p);
		check_inbound(&v, sa, &p);
		esp_sa_free(sa);
		if (v.inner_len > 0 && v.outer_len > 0 && iv_is_seq(&v)) {
			check_outbound(&v, results);
			n_out++;
		}
	}
	print_message("%zu vectors: peek, seal and inbound each; outbound %zu; skipped %zu\n",
		      json_array_size(vectors) - n_skip, n_out, n_skip);
	assert_true(n_skip < json_array_size(vectors));
	if (ours_path != NULL) {
		json_t *out = json_pack("{s:o}", "results", results);

		assert_int_equal(json_dump_file(out, ours_path, JSON_INDENT(1)), 0);
		json_decref(out);
	} else {
		json_decref(results);
	}
	json_decref(root);
}

static int
setup(void **state)
{
	(void)state;
	return esp_lcore_init(&lc);
}

static int
teardown(void **state)
{
	(void)state;
	esp_lcore_fini(&lc);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTORS.json [OURS.json]\n", argv[0]);
		return 2;
	}
	vectors_path = argv[1];
	ours_path = argc > 2 ? argv[2] : NULL;
	t_eal_init(argv[0]);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
	};
	return cmocka_run_group_tests_name(vectors_path, tests, setup, teardown);
}
