/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the ESP inbound stage. The first input byte picks the mode:
 *   even: the rest is a packet off the wire (outer IP onward), fed as is: parsing, SPI lookup,
 * lengths, replay and ICV rejection; odd:  the rest is an ESP payload (trailer included) that the
 * harness seals with a known SA first, so the post-decryption paths (padding, next header, inner
 * headers, decapsulation, selectors) see arbitrary authentic plaintext. Crashes, sanitizer reports
 * and a packet both passed and counted as a drop are failures.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <sodium.h>

#include "esp_priv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SA 6

static struct esp_lcore lc;
static struct rte_mempool *pool;
static struct esp_sa_table *tbl;
static struct esp_sa *in_sa[N_SA], *out_sa[N_SA];

static void
make_sa(int i)
{
	static const uint8_t keymat[36] = { 1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12,
					    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
					    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36 };
	struct esp_sa_params p;

	memset(&p, 0, sizeof(p));
	p.spi = 0x1000 + (uint32_t)i;
	p.aead = (enum esp_aead)(i % ESP_AEAD_COUNT);
	p.mode = i < 3 ? ESP_MODE_TUNNEL : ESP_MODE_TRANSPORT;
	p.udp_encap = (i & 1) != 0;
	p.esn = i == 2;
	p.keymat = keymat;
	p.keymat_len = esp_aead_keymat_len(p.aead);
	p.replay_window = 64;
	p.local.family = p.remote.family = 4;
	p.local.v4 = rte_cpu_to_be_32(0xc0000201);
	p.remote.v4 = rte_cpu_to_be_32(0xc000020a);
	if (i == 0) {
		p.n_remote_ts = 1;
		p.remote_ts[0].start.family = p.remote_ts[0].end.family = 4;
		p.remote_ts[0].end.v4 = rte_cpu_to_be_32(0x7fffffff);
		p.remote_ts[0].port_hi = 65535;
	}
	p.dir = ESP_DIR_INBOUND;
	if (esp_sa_create(&p, &lc, &in_sa[i]) != 0 || esp_sa_table_add(tbl, in_sa[i]) != 0)
		abort();
	p.dir = ESP_DIR_OUTBOUND;
	if (esp_sa_create(&p, &lc, &out_sa[i]) != 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0],
			"--no-huge",
			"--no-pci",
			"-m",
			"128",
			"--no-shconf",
			"--file-prefix=dvfuzz",
			"--log-level=*:error",
			NULL };

	(void)argc;
	if (rte_eal_init(8, eal) < 0 || sodium_init() < 0 || esp_lcore_init(&lc) != 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	tbl = esp_sa_table_create(16);
	if (pool == NULL || tbl == NULL)
		abort();
	for (int i = 0; i < N_SA; i++)
		make_sa(i);
	return 0;
}

/* An authentic packet for SA i around an arbitrary payload. */
static size_t
seal(int i, const uint8_t *payload, size_t len, uint8_t *pkt)
{
	struct esp_sa *sa = out_sa[i];
	uint32_t udp = sa->params.udp_encap ? 8 : 0;
	uint32_t total = (uint32_t)(20 + udp + ESP_PAYLOAD_OFF + len + ESP_ICV_LEN);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	uint8_t *esp = pkt + 20 + udp;
	static uint32_t seq;
	struct esp_aead_op op;

	memset(pkt, 0, 20 + udp);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->next_proto_id = udp ? 17 : 50;
	ip->src_addr = sa->params.local.v4;
	ip->dst_addr = sa->params.remote.v4;
	if (udp) {
		store_be16(pkt + 20, 4500);
		store_be16(pkt + 22, 4500);
		store_be16(pkt + 24, (uint16_t)(total - 20));
	}
	seq++;
	memcpy(esp, &sa->rt.spi_be, 4);
	store_be32(esp + 4, seq);
	memset(esp + 8, 0, 4);
	store_be32(esp + 12, seq);
	memcpy(esp + ESP_PAYLOAD_OFF, payload, len);
	memset(&op, 0, sizeof(op));
	op.data = esp + ESP_PAYLOAD_OFF;
	op.len = (uint32_t)len;
	op.icv = op.data + len;
	esp_build_nonce_aad(sa, esp, seq, &op);
	sa->rt.seal(&lc, sa, &op);
	esp_crypto_flush(&lc);
	return total;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[1600];
	size_t len;

	if (size < 1 || size > 1400)
		return 0;
	if ((data[0] & 1) == 0) {
		len = size - 1;
		memcpy(pkt, data + 1, len);
	} else {
		size_t plen = (size - 1) & ~(size_t)3; /* ESP payloads are 4-byte aligned */

		if (plen < 4)
			return 0;
		len = seal((data[0] >> 1) % N_SA, data + 1, plen, pkt);
	}

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct esp_sa *got;

	if (m == NULL)
		abort();
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt, len);

	struct esp_stats before = lc.stats;
	uint16_t ok = esp_inbound_burst(&lc, tbl, &m, &got, 1);
	uint64_t drops = 0;

	for (int r = 0; r < ESP_DROP_COUNT; r++)
		drops += lc.stats.drops[r] - before.drops[r];
	if (drops != (ok ? 0u : 1u))
		abort(); /* every packet either passes or is counted exactly once */
	if (ok && (m->data_len < 20 || m->data_len > len))
		abort();
	rte_pktmbuf_free(m);
	return 0;
}
