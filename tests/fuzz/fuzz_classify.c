/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the router's classify stage. Input: a flags byte, then a frame.
 *   bits 0-1: the burst holds 1 + (bits) copies of the frame
 *   bit 2:    mark the IP checksum as verified by the NIC
 * DVIPAs 192.0.2.1, 192.0.2.2 and 2001:db8::1, port MAC 02:00:00:00:00:01 (as in
 * tests/unit/rtr_frames.py, whose frames are the seeds). Failures: crashes and sanitizer reports;
 * a packet on no exit or on two, counters that disagree with the exits; an IP exit whose data is
 * not the frame's IP packet; a dropped frame that was modified; an answer whose checksums do not
 * verify (echo replies: when the request's did), or that does not come from the port's MAC.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "rtr_classify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct esp_addr dvipas[3];
static struct rtr_classify_ctx ctx;
static struct rtr_classify_stats st;
static struct rtr_classify_out out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char *eal[] = { (*argv)[0],
			"--no-huge",
			"--no-pci",
			"-m",
			"128",
			"--no-shconf",
			"--file-prefix=dvfuzzcls",
			"--log-level=*:error",
			NULL };

	(void)argc;
	if (rte_eal_init(8, eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_cls", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	dvipas[0].family = dvipas[1].family = 4;
	dvipas[0].v4 = rte_cpu_to_be_32(0xc0000201);
	dvipas[1].v4 = rte_cpu_to_be_32(0xc0000202);
	dvipas[2].family = 6;
	memcpy(dvipas[2].v6, v6, 16);
	ctx.dvipas = dvipas;
	ctx.n_dvipas = 3;
	ctx.port_mac = (struct rte_ether_addr){ { 2, 0, 0, 0, 0, 1 } };
	return 0;
}

/* RFC 1071 over big-endian words, written here rather than taken from the code under test. */
static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static bool
sum_ok(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ICMP (v4) or ICMPv6 checksum of the IP packet at ip; false if the lengths do not allow one. */
static bool
l4_cksum_ok(const uint8_t *ip, size_t len)
{
	if ((ip[0] >> 4) == 4) {
		size_t ihl = (ip[0] & 0xfu) * 4u, tot = get16(ip + 2);

		return ihl >= 20 && tot >= ihl && tot <= len &&
		       sum_ok(sum16(ip + ihl, tot - ihl, 0));
	}
	if (len < 40 || 40u + get16(ip + 4) > len)
		return false;

	size_t plen = get16(ip + 4);
	uint32_t sum = sum16(ip + 8, 32, 0) + (uint32_t)plen + 58;

	return sum_ok(sum16(ip + 40, plen, sum));
}

static void
check_answer(const uint8_t *req, size_t req_len, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = m->data_len;

	if (len < 42 || memcmp(f + 6, &ctx.port_mac, 6) != 0)
		abort();
	switch (get16(f + 12)) {
	case 0x0806:
		if (get16(f + 20) != 2 || memcmp(f + 22, &ctx.port_mac, 6) != 0 ||
		    memcmp(f + 32, req + 22, 6) != 0 || memcmp(f + 38, req + 28, 4) != 0)
			abort();
		break;
	case 0x0800:
		if (!sum_ok(sum16(f + 14, 20, 0)) || f[14] != 0x45 || f[34] != 0 ||
		    (l4_cksum_ok(req + 14, req_len - 14) && !l4_cksum_ok(f + 14, len - 14)))
			abort();
		break;
	case 0x86dd:
		if (f[54] == 129) {
			if (l4_cksum_ok(req + 14, req_len - 14) && !l4_cksum_ok(f + 14, len - 14))
				abort();
		} else if (f[54] != 136 || len != 86 || !l4_cksum_ok(f + 14, len - 14) ||
			   memcmp(f + 14 + 8, f + 14 + 48, 16) != 0 ||
			   memcmp(f + 80, &ctx.port_mac, 6) != 0) {
			abort(); /* an NA from its target address, with our MAC, checksum valid */
		}
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1600)
		return 0;

	const uint8_t *frame = data + 1;
	size_t len = size - 1;
	uint16_t n = (uint16_t)(1 + (data[0] & 3));
	struct rte_mbuf *pkts[4];
	struct rtr_classify_stats before = st;

	for (uint16_t i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(pool);
		if (pkts[i] == NULL)
			abort();
		memcpy(rte_pktmbuf_append(pkts[i], (uint16_t)len), frame, len);
		if (data[0] & 4)
			pkts[i]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	}

	uint16_t ok = rtr_classify_burst(&ctx, pkts, n, &out, &st);
	uint64_t drops = 0, replies = 0, exits = 0;

	for (int r = 0; r < RTR_CLS_DROP_COUNT; r++)
		drops += st.drops[r] - before.drops[r];
	for (int r = 0; r < RTR_CLS_REPLY_COUNT; r++)
		replies += st.replies[r] - before.replies[r];
	for (int e = 0; e < RTR_CLS_EXIT_COUNT; e++)
		exits += st.exits[e] - before.exits[e];
	if (exits != n || st.rx_packets - before.rx_packets != n || drops != out.n_drop ||
	    replies != out.n_reply || ok != n - out.n_drop ||
	    out.esp.n + out.ike.n + out.tcp.n + out.n_reply + out.n_drop != n ||
	    st.exits[RTR_CLS_EXIT_ESP] - before.exits[RTR_CLS_EXIT_ESP] != out.esp.n)
		abort();
	/* identical copies go the same way */
	if (out.esp.n % n || out.ike.n % n || out.tcp.n % n || out.n_reply % n || out.n_drop % n)
		abort();

	const struct rtr_cls_ip_exit *ipx[3] = { &out.esp, &out.ike, &out.tcp };

	for (int x = 0; x < 3; x++) {
		for (uint16_t i = 0; i < ipx[x]->n; i++) {
			const struct rte_mbuf *m = ipx[x]->pkts[i];
			const struct esp_pkt_info *pi = &ipx[x]->info[i];

			if (m->data_len != pi->ip_len || 14u + pi->ip_len > len ||
			    pi->l3_len > pi->ip_len ||
			    (pi->ip_len && pi->family != frame[14] >> 4) ||
			    memcmp(rte_pktmbuf_mtod(m, const void *), frame + 14, pi->ip_len) != 0)
				abort();
			if (x == 0 && pi->esp_off + 8u > pi->ip_len)
				abort();
		}
	}
	for (uint16_t i = 0; i < out.n_drop; i++)
		if (out.drop[i]->data_len != len ||
		    memcmp(rte_pktmbuf_mtod(out.drop[i], const void *), frame, len) != 0)
			abort();
	for (uint16_t i = 0; i < out.n_reply; i++)
		check_answer(frame, len, out.reply[i]);
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
	return 0;
}
