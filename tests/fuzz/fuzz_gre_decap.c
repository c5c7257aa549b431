/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the trusted link's GRE decap. Input: a flags byte, then a frame.
 *   bit 0: decap with the outer-destination check (gre_decap_burst_local)
 *   bit 1: mark the IP checksum as verified by the NIC, so the fuzzer gets past it easily
 * Failures: crashes and sanitizer reports; a frame both passed and counted as a drop, or counted
 * twice; a passed payload that is not the tail of the frame it came from; and a round trip that
 * does not hold: a decapsulated packet, encapsulated again with the key, protocol type and sequence
 * number decap reported, must decap again to the same payload and the same info.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "gre.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct gre_stats st;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0],
			"--no-huge",
			"--no-pci",
			"-m",
			"128",
			"--no-shconf",
			"--file-prefix=dvfuzzgre",
			"--log-level=*:error",
			NULL };

	(void)argc;
	if (rte_eal_init(8, eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_gre", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

static uint64_t
drops_total(void)
{
	uint64_t n = 0;

	for (int r = 0; r < GRE_DROP_COUNT; r++)
		n += st.drops[r];
	return n;
}

static uint16_t
decap(struct rte_mbuf **m, struct gre_info *gi, uint8_t flags)
{
	uint64_t drops = drops_total(), passed = st.decap_packets;
	uint16_t ok = (flags & 1)
			      ? gre_decap_burst_local(&st, rte_cpu_to_be_32(0x0aff0002), m, gi, 1)
			      : gre_decap_burst(&st, m, gi, 1);

	if (drops_total() - drops != (ok ? 0u : 1u) || st.decap_packets - passed != ok)
		abort(); /* every packet either passes or is counted exactly once */
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1600)
		return 0;

	uint8_t flags = data[0];
	const uint8_t *frame = data + 1;
	size_t len = size - 1;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct gre_info gi, gi2;

	if (m == NULL)
		abort();
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	if (flags & 2)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	if (!decap(&m, &gi, flags)) {
		if (m->data_len != len || memcmp(rte_pktmbuf_mtod(m, void *), frame, len) != 0)
			abort(); /* a failed frame is left as it came */
		rte_pktmbuf_free(m);
		return 0;
	}

	/* the payload is a piece of the frame, after the headers */
	uint32_t plen = m->pkt_len;

	if (m->data_len != plen || plen > len || len - plen < GRE_ETH_LEN + GRE_IPV4_LEN + 8)
		abort();

	const uint8_t *payload = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t off = (size_t)m->data_off - RTE_PKTMBUF_HEADROOM; /* where it was in the frame */

	if (off + plen > len || memcmp(payload, frame + off, plen) != 0)
		abort();
	if ((gi.key & GRE_KEY_RESERVED) != 0 ||
	    (gi.proto != GRE_PROTO_IPV4 && gi.proto != GRE_PROTO_IPV6 &&
	     gi.proto != GRE_PROTO_FEEDBACK) ||
	    (gi.proto == GRE_PROTO_IPV4 && (plen < 20 || payload[0] >> 4 != 4)) ||
	    (gi.proto == GRE_PROTO_IPV6 && (plen < 40 || payload[0] >> 4 != 6)))
		abort();

	/* round trip through our own encap */
	struct gre_link link;
	const struct rte_ether_addr a = { { 2, 0, 0, 0, 0, 1 } }, b = { { 2, 0, 0, 0, 0, 2 } };

	gre_link_init(&link, &a, &b, gi.outer_src, rte_cpu_to_be_32(0x0aff0002), gi.has_seq);
	link.seq = gi.seq;
	if (gre_encap_burst(&link, &m, &gi.key, &gi.proto, 1, &st) != 1)
		abort();
	if (!decap(&m, &gi2, 1))
		abort();
	if (gi2.key != gi.key || gi2.proto != gi.proto || gi2.has_seq != gi.has_seq ||
	    gi2.seq != gi.seq || gi2.outer_src != gi.outer_src || gi2.has_csum != 0 ||
	    m->pkt_len != plen || memcmp(rte_pktmbuf_mtod(m, void *), frame + off, plen) != 0)
		abort();
	rte_pktmbuf_free(m);
	return 0;
}
