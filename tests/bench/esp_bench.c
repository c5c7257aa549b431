/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP engine benchmark on one core: per AEAD and payload size, the engine's inbound (parse, SPI
 * lookup, replay, decrypt+ICV, trailer, decapsulation) and outbound (encapsulation, encrypt) stages
 * against raw IPsec-MB on the same buffers, and the router's peek. Prints TSC cycles per packet
 * (median of runs) and Gbps of payload. Packets are restored from templates between timed bursts
 * (not timed), so both the engine and the raw calls see the same warm buffers.
 *
 * Usage: dvipsec-esp-bench [EAL args] -- [--runs N] [--bursts N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <sodium.h>

#include "esp_priv.h"

#define BURST	   32
#define MAX_RUNS   31
#define PEEK_BYTES 48

static const uint32_t sizes[] = { 64, 512, 1400 };
static struct esp_lcore lc;
static struct rte_mempool *pool;
static unsigned runs = 9, bursts = 400;
static int only_aead = -1;
static uint32_t only_size;

struct bench_set {
	struct esp_sa *in, *out;
	struct esp_sa_table *tbl;
	uint32_t size;
	uint8_t inner[BURST][2048];
	uint8_t wire[BURST][2048];
	uint16_t wire_len[BURST];
	struct rte_mbuf *m[BURST];
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3
summarize(uint64_t *v, unsigned n, unsigned per)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return (struct stat3){ (double)v[n / 2] / per, (double)v[0] / per, (double)v[n - 1] / per };
}

static void
make_inner(uint8_t *buf, uint32_t len, uint32_t flow)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	memset(buf, 0, len);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->time_to_live = 64;
	ip->next_proto_id = 6;
	ip->src_addr = rte_cpu_to_be_32(0x0a000000 | flow);
	ip->dst_addr = rte_cpu_to_be_32(0x0a090001);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	for (uint32_t i = 20; i < len; i++)
		buf[i] = (uint8_t)i;
}

static void
make_sa(struct bench_set *b, enum esp_aead aead)
{
	struct esp_sa_params p;
	uint8_t keymat[ESP_MAX_KEYMAT_LEN];

	randombytes_buf(keymat, sizeof(keymat));
	memset(&p, 0, sizeof(p));
	p.spi = 0x2000;
	p.aead = aead;
	p.mode = ESP_MODE_TUNNEL;
	p.keymat = keymat;
	p.keymat_len = esp_aead_keymat_len(aead);
	p.replay_window = 1024;
	p.local.family = p.remote.family = 4;
	p.local.v4 = rte_cpu_to_be_32(0xc000020a);
	p.remote.v4 = rte_cpu_to_be_32(0xc0000201);
	p.dir = ESP_DIR_OUTBOUND;
	if (esp_sa_create(&p, &lc, &b->out) != 0)
		rte_exit(1, "outbound SA\n");
	p.dir = ESP_DIR_INBOUND;
	if (esp_sa_create(&p, &lc, &b->in) != 0)
		rte_exit(1, "inbound SA\n");
	sodium_memzero(keymat, sizeof(keymat));
	b->tbl = esp_sa_table_create(16);
	esp_sa_table_add(b->tbl, b->in);
}

static void
load_mbufs(struct bench_set *b, bool wire)
{
	for (int i = 0; i < BURST; i++) {
		struct rte_mbuf *m = b->m[i];
		uint16_t len = wire ? b->wire_len[i] : (uint16_t)b->size;

		rte_pktmbuf_reset(m);
		memcpy(rte_pktmbuf_append(m, len), wire ? b->wire[i] : b->inner[i], len);
	}
}

/* Encrypts the burst's templates once with sequence numbers base..base+BURST-1. */
static void
make_wire(struct bench_set *b, uint64_t base)
{
	struct esp_sa *sas[BURST];
	uint64_t seq[BURST];

	load_mbufs(b, false);
	for (int i = 0; i < BURST; i++) {
		sas[i] = b->out;
		seq[i] = base + (uint64_t)i;
	}
	if (esp_outbound_burst(&lc, sas, b->m, seq, BURST) != BURST)
		rte_exit(1, "outbound failed\n");
	for (int i = 0; i < BURST; i++) {
		b->wire_len[i] = b->m[i]->data_len;
		memcpy(b->wire[i], rte_pktmbuf_mtod(b->m[i], uint8_t *), b->wire_len[i]);
	}
}

static struct stat3
bench_inbound(struct bench_set *b)
{
	uint64_t t[MAX_RUNS];
	struct esp_sa *sas[BURST];

	for (unsigned r = 0; r < runs; r++) {
		uint64_t total = 0;

		for (unsigned k = 0; k < bursts; k++) {
			esp_replay_init(&b->in->replay, 1024, false);
			load_mbufs(b, true);
			uint64_t t0 = rte_rdtsc_precise();

			if (esp_inbound_burst(&lc, b->tbl, b->m, sas, BURST) != BURST)
				rte_exit(1, "inbound dropped\n");
			total += rte_rdtsc_precise() - t0;
		}
		t[r] = total;
	}
	return summarize(t, runs, bursts * BURST);
}

/* IPsec-MB alone on the same ciphertexts: direct GCM for AES, one job per packet for ChaCha. */
static struct stat3
bench_raw(struct bench_set *b, bool decrypt)
{
	uint64_t t[MAX_RUNS];
	const uint32_t ct_off = 20 + ESP_PAYLOAD_OFF;

	for (unsigned r = 0; r < runs; r++) {
		uint64_t total = 0;

		for (unsigned k = 0; k < bursts; k++) {
			struct esp_aead_op op[BURST];

			load_mbufs(b, true);
			for (int i = 0; i < BURST; i++) {
				uint8_t *esp = rte_pktmbuf_mtod_offset(b->m[i], uint8_t *, 20);

				op[i].data = esp + ESP_PAYLOAD_OFF;
				op[i].len = b->wire_len[i] - ct_off - ESP_ICV_LEN;
				op[i].icv = op[i].data + op[i].len;
				esp_build_nonce_aad(b->in, esp, 1 + (uint64_t)i, &op[i]);
			}
			uint64_t t0 = rte_rdtsc_precise();

			for (int i = 0; i < BURST; i++) {
				struct gcm_context_data ctx;

				switch (b->in->rt.aead) {
				case ESP_AEAD_AES128_GCM16:
					if (decrypt)
						IMB_AES128_GCM_DEC(lc.mgr, b->in->rt.key, &ctx,
								   op[i].data, op[i].data,
								   op[i].len, op[i].nonce,
								   op[i].aad, 8, op[i].tag, 16);
					else
						IMB_AES128_GCM_ENC(lc.mgr, b->in->rt.key, &ctx,
								   op[i].data, op[i].data,
								   op[i].len, op[i].nonce,
								   op[i].aad, 8, op[i].tag, 16);
					break;
				case ESP_AEAD_AES256_GCM16:
					if (decrypt)
						IMB_AES256_GCM_DEC(lc.mgr, b->in->rt.key, &ctx,
								   op[i].data, op[i].data,
								   op[i].len, op[i].nonce,
								   op[i].aad, 8, op[i].tag, 16);
					else
						IMB_AES256_GCM_ENC(lc.mgr, b->in->rt.key, &ctx,
								   op[i].data, op[i].data,
								   op[i].len, op[i].nonce,
								   op[i].aad, 8, op[i].tag, 16);
					break;
				default:
					if (decrypt)
						b->in->rt.open(&lc, b->in, &op[i]);
					else
						b->in->rt.seal(&lc, b->in, &op[i]);
					break;
				}
			}
			esp_crypto_flush(&lc);
			total += rte_rdtsc_precise() - t0;
		}
		t[r] = total;
	}
	return summarize(t, runs, bursts * BURST);
}

static struct stat3
bench_outbound(struct bench_set *b)
{
	uint64_t t[MAX_RUNS];
	struct esp_sa *sas[BURST];
	uint64_t seq[BURST];
	uint64_t next = 1;

	for (int i = 0; i < BURST; i++)
		sas[i] = b->out;
	for (unsigned r = 0; r < runs; r++) {
		uint64_t total = 0;

		for (unsigned k = 0; k < bursts; k++) {
			load_mbufs(b, false);
			for (int i = 0; i < BURST; i++)
				seq[i] = next++;
			uint64_t t0 = rte_rdtsc_precise();

			if (esp_outbound_burst(&lc, sas, b->m, seq, BURST) != BURST)
				rte_exit(1, "outbound dropped\n");
			total += rte_rdtsc_precise() - t0;
		}
		t[r] = total;
	}
	return summarize(t, runs, bursts * BURST);
}

static struct stat3
bench_peek(struct bench_set *b, esp_peek_fn fn)
{
	uint64_t t[MAX_RUNS];
	uint8_t out[BURST][ESP_PEEK_MAX];
	const int reps = 64;

	for (unsigned r = 0; r < runs; r++) {
		uint64_t total = 0;

		for (unsigned k = 0; k < bursts; k++) {
			uint64_t t0 = rte_rdtsc_precise();

			for (int rep = 0; rep < reps; rep++)
				for (int i = 0; i < BURST; i++) {
					const uint8_t *esp = b->wire[i] + 20;

					fn(&lc, b->in, esp + ESP_IV_OFF, 0, esp + ESP_PAYLOAD_OFF,
					   out[i], PEEK_BYTES);
				}
			total += rte_rdtsc_precise() - t0;
		}
		t[r] = total;
	}
	/* keep the result alive */
	if (out[0][0] == 0x5a && out[1][0] == 0xa5)
		printf(" ");
	return summarize(t, runs, bursts * BURST * reps);
}

static double
gbps(double cycles, uint32_t bytes)
{
	return cycles > 0 ? (double)rte_get_tsc_hz() / cycles * bytes * 8 / 1e9 : 0;
}

int
main(int argc, char **argv)
{
	int eal = rte_eal_init(argc, argv);

	if (eal < 0)
		rte_exit(1, "rte_eal_init: %s\n", rte_strerror(rte_errno));
	argc -= eal;
	argv += eal;
	static const struct option opts[] = { { "runs", required_argument, NULL, 'r' },
					      { "bursts", required_argument, NULL, 'b' },
					      { "aead", required_argument, NULL, 'a' },
					      { "size", required_argument, NULL, 's' },
					      { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'r')
			runs = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'b')
			bursts = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'a' && esp_aead_from_name(optarg, (enum esp_aead *)&only_aead) == 0)
			continue;
		else if (c == 's')
			only_size = (uint32_t)strtoul(optarg, NULL, 10);
		else
			rte_exit(2, "usage: dvipsec-esp-bench [EAL] -- [--runs N] [--bursts N] "
				    "[--aead NAME] [--size BYTES]\n");
	}
	if (runs < 1 || runs > MAX_RUNS || bursts < 1)
		rte_exit(2, "--runs 1..%d, --bursts >= 1\n", MAX_RUNS);
	if (sodium_init() < 0 || esp_lcore_init(&lc) != 0)
		rte_exit(1, "crypto init\n");
	pool = rte_pktmbuf_pool_create("bench", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL)
		rte_exit(1, "mbuf pool\n");

	printf("dvipsec ESP engine, one core, IPsec-MB %s (%s), TSC %.2f GHz, burst %d, "
	       "median of %u runs x %u bursts; tunnel mode, IPv4, raw ESP; size = inner packet\n\n",
	       imb_get_version_str(), esp_crypto_arch_name(&lc), rte_get_tsc_hz() / 1e9, BURST,
	       runs, bursts);
	printf("| aead | size B | engine dec cyc/pkt | dec Gbps | IPsec-MB dec cyc/pkt | "
	       "engine/raw "
	       "rate | engine enc cyc/pkt | enc Gbps | IPsec-MB enc cyc/pkt | engine/raw rate |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");

	static struct bench_set b;
	double peek_cyc[ESP_AEAD_COUNT][2];

	memset(peek_cyc, 0, sizeof(peek_cyc));
	for (int a = 0; a < ESP_AEAD_COUNT; a++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			if ((only_aead >= 0 && a != only_aead) ||
			    (only_size && sizes[s] != only_size))
				continue;
			memset(&b, 0, sizeof(b));
			b.size = sizes[s];
			make_sa(&b, (enum esp_aead)a);
			for (int i = 0; i < BURST; i++) {
				make_inner(b.inner[i], b.size, (uint32_t)i);
				b.m[i] = rte_pktmbuf_alloc(pool);
			}
			make_wire(&b, 1);

			struct stat3 din = bench_inbound(&b);
			struct stat3 draw = bench_raw(&b, true);
			struct stat3 eout = bench_outbound(&b);
			struct stat3 eraw = bench_raw(&b, false);

			printf("| %s | %u | %.0f (%.0f-%.0f) | %.2f | %.0f | %.2f | %.0f "
			       "(%.0f-%.0f) | "
			       "%.2f | %.0f | %.2f |\n",
			       esp_aead_name((enum esp_aead)a), b.size, din.med, din.min, din.max,
			       gbps(din.med, b.size), draw.med, draw.med / din.med, eout.med,
			       eout.min, eout.max, gbps(eout.med, b.size), eraw.med,
			       eraw.med / eout.med);
			if (peek_cyc[a][0] == 0) {
				esp_peek_fn fast = b.in->rt.peek;

				peek_cyc[a][0] = bench_peek(&b, fast).med;
				peek_cyc[a][1] = a == ESP_AEAD_CHACHA20_POLY1305
							 ? 0
							 : bench_peek(&b, esp_peek_gcm_job).med;
			}
			for (int i = 0; i < BURST; i++)
				rte_pktmbuf_free(b.m[i]);
			esp_sa_free(b.in);
			esp_sa_free(b.out);
			esp_sa_table_free(b.tbl);
		}
	}
	printf("\n| aead | peek %d B cyc/pkt (engine) | IPsec-MB CTR job cyc/pkt "
	       "|\n|---|---|---|\n",
	       PEEK_BYTES);
	for (int a = 0; a < ESP_AEAD_COUNT; a++) {
		if (a == ESP_AEAD_CHACHA20_POLY1305)
			printf("| %s | %.1f | n/a |\n", esp_aead_name((enum esp_aead)a),
			       peek_cyc[a][0]);
		else
			printf("| %s | %.1f | %.1f |\n", esp_aead_name((enum esp_aead)a),
			       peek_cyc[a][0], peek_cyc[a][1]);
	}
	esp_lcore_fini(&lc);
	rte_eal_cleanup();
	return 0;
}
