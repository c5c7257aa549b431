/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the IKE message codec. The input is
 *   1. parsed as a datagram (and as a port-4500 payload): what parses must re-build without a
 *      writer error, parse again to the same fields (text form, header length aside), and
 *      re-build to the same bytes (the writer's form is a fixed point). An SK payload's middle,
 *      taken as plaintext with the AEAD sizes (8-byte IV, 16-byte ICV), is parsed as the inner
 *      chain and goes through the same round trip inside the re-built SK payload;
 *   2. parsed as an inner chain: first byte = first payload type, the rest = the chain.
 * What the round trip cannot keep is normalised first: unknown transform attributes (dropped by
 * the writer), the header length, the first inner type of an SK payload whose middle does not
 * parse (re-built empty). Failures: crashes, sanitizer reports, a parse the writer
 * refuses, a re-parse that fails or differs, the text form's length depending on its buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "ike_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IV_LEN	8 /* AES-GCM and ChaCha20-Poly1305 */
#define ICV_LEN 16
#define BUF	(3 * 65536)
#define TEXT	(1024 * 1024)

static struct ike_msg m1, m2;
static struct ike_payloads in1, in2, ch1, ch2;
static uint8_t out1[BUF], out2[BUF];
static char text1[TEXT], text2[TEXT];

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static void
forget_unknown_attrs(struct ike_payloads *p)
{
	for (int i = 0; i < p->sa.n_proposals; i++)
		for (int t = 0; t < p->sa.prop[i].n_transforms; t++)
			p->sa.prop[i].xf[t].unknown_attr = false;
}

/* The text form, checking that a small buffer reports the same length as a large one. */
static void
dump(const struct ike_hdr *h, const struct ike_payloads *p, char *out)
{
	char small[8];
	size_t n = 0;

	if (h != NULL)
		n = ike_hdr_dump(h, out, TEXT);
	check(n < TEXT);
	check(ike_payloads_dump(p, out + n, TEXT - n) < TEXT - n);
	check(ike_payloads_dump(p, small, sizeof(small)) == strlen(out + n));
	check(strlen(small) == (strlen(out + n) < sizeof(small) ? strlen(out + n) : 7));
}

/* Inner chain of a parsed message's SK payload, taken as plaintext. */
static bool
open_sk(const struct ike_msg *m, struct ike_payloads *in)
{
	struct ike_sk_layout lay;
	size_t len;

	if (ike_sk_locate(m, IV_LEN, ICV_LEN, &lay) != IKE_OK)
		return false;
	check(lay.icv_off + lay.icv_len == m->len && lay.aad_len == lay.iv_off);
	if (ike_sk_unpad(m->raw + lay.ct_off, lay.ct_len, &len) != IKE_OK)
		return false;
	check(len < lay.ct_len);
	return ike_payloads_parse(lay.first_inner, m->raw + lay.ct_off, len, lay.ct_off, true,
				  in) == IKE_OK;
}

static size_t
build(const struct ike_msg *m, const struct ike_payloads *in, uint8_t *out)
{
	struct ike_sk_layout lay;
	struct ike_writer w;
	size_t len;

	ike_wr_init(&w, out, BUF, &m->hdr);
	ike_wr_chain(&w, &m->pl);
	if (ike_has(&m->pl, IKE_PT_SK)) {
		ike_wr_sk_open(&w, IV_LEN);
		if (in != NULL)
			ike_wr_chain(&w, in);
		ike_wr_sk_close(&w, 1, ICV_LEN, &lay);
	}
	check(ike_wr_finish(&w, &len) == 0);
	return len;
}

static void
datagram(const uint8_t *data, size_t size)
{
	bool inner;
	size_t len1, len2;

	if (ike_msg_parse(data, size, &m1) != IKE_OK)
		return;
	check(m1.hdr.major == 2 && m1.hdr.length == size);
	inner = ike_has(&m1.pl, IKE_PT_SK) && open_sk(&m1, &in1);
	if (!inner)
		m1.pl.sk.next_payload = IKE_PT_NONE; /* re-built with an empty SK payload */
	forget_unknown_attrs(&m1.pl);
	forget_unknown_attrs(&in1);

	len1 = build(&m1, inner ? &in1 : NULL, out1);
	check(ike_msg_parse(out1, len1, &m2) == IKE_OK);
	m2.hdr.length = m1.hdr.length;
	dump(&m1.hdr, &m1.pl, text1);
	dump(&m2.hdr, &m2.pl, text2);
	check(strcmp(text1, text2) == 0);
	if (inner) {
		check(open_sk(&m2, &in2));
		dump(NULL, &in1, text1);
		dump(NULL, &in2, text2);
		check(strcmp(text1, text2) == 0);
	}
	len2 = build(&m2, inner ? &in2 : NULL, out2);
	check(len1 == len2 && memcmp(out1, out2, len1) == 0);
}

static void
chain(const uint8_t *data, size_t size)
{
	struct ike_msg *m = &m2;
	struct ike_writer w;
	struct ike_sk_layout lay;
	size_t len;

	if (size == 0 || ike_payloads_parse(data[0], data + 1, size - 1, 0, true, &ch1) != IKE_OK)
		return;
	forget_unknown_attrs(&ch1);
	ike_wr_init(&w, out1, BUF, &(struct ike_hdr){ .exchange = IKE_AUTH });
	ike_wr_sk_open(&w, IV_LEN);
	ike_wr_chain(&w, &ch1);
	ike_wr_sk_close(&w, 4, ICV_LEN, &lay);
	check(ike_wr_finish(&w, &len) == 0);
	check(lay.ct_len % 4 == 0);
	check(ike_msg_parse(out1, len, m) == IKE_OK);
	check(open_sk(m, &ch2));
	dump(NULL, &ch1, text1);
	dump(NULL, &ch2, text2);
	check(strcmp(text1, text2) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ike;
	size_t ike_len;

	datagram(data, size);
	if (ike_udp4500_classify(data, size, &ike, &ike_len) == IKE_UDP_IKE)
		datagram(ike, ike_len);
	chain(data, size);
	return 0;
}
