/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crypto ceiling of scripts/bench/run.sh: Intel IPsec-MB alone on the very ESP packets of a
 * benchmark pcap (scripts/bench/pcapgen.py), one core, no packet I/O, no parsing in the timed loop.
 * AES-GCM through the direct API (what dvipsec's engine calls), ChaCha20-Poly1305 through the job
 * API in bursts of 32 (IPsec-MB has no direct call for it). Decryption reads each packet's
 * ciphertext and writes the cleartext elsewhere (out of place, so the file's bytes stay intact
 * across runs) and compares the tag with the packet's ICV; encryption seals those cleartexts again
 * with the packet's own nonce, which must give back the file's ciphertext and ICV (checked once
 * before timing, as every tag is).
 *
 * Prints one line of key=value pairs: TSC cycles per packet, median (min-max) of --runs runs, each
 * run enough passes over the file for --packets packets.
 *
 * Usage: dvipsec-imb-pcap-bench --pcap FILE --aead NAME --key HEX [--runs N] [--packets N]
 * (build: cc -O2 imb_pcap_bench.c -lIPSec_MB; scripts/bench/run.sh does it)
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <intel-ipsec-mb.h>

#define BURST	     32
#define MAX_RUNS     31
#define ICV_LEN	     16
#define ESP_HDR	     8 /* SPI, sequence number */
#define ESP_IV	     8
#define MAX_PACKETS  (1u << 22)
#define PCAP_MAGIC   0xa1b2c3d4u
#define PCAP_MAGIC_N 0xa1b23c4du /* nanosecond timestamps */

enum aead { AES128_GCM, AES256_GCM, CHACHA20_POLY1305 };

struct pkt {
	const uint8_t *ct; /* ciphertext in the file's buffer, the ICV right after it */
	uint32_t len;	   /* ciphertext bytes */
	uint8_t nonce[12];
	uint8_t aad[8];
	uint8_t *clear; /* out-of-place output */
	uint8_t tag[ICV_LEN];
};

struct bench {
	IMB_MGR *mgr;
	enum aead aead;
	struct gcm_key_data *gcm; /* 64-byte aligned: IPsec-MB stores it with aligned moves */
	uint8_t key[32];	  /* ChaCha20 */
	uint8_t salt[4];
	struct pkt *pkts;
	uint32_t n;
	uint8_t *sealed; /* encryption output */
	uint32_t sealed_stride;
};

static const char *const aead_names[] = { "aes128gcm16", "aes256gcm16", "chacha20poly1305" };

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
parse_hex(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != len * 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Finds the ESP header in an Ethernet frame: IPv4, raw ESP or ESP-in-UDP (RFC 3948). */
static const uint8_t *
find_esp(const uint8_t *fr, uint32_t len, uint32_t *esp_len)
{
	if (len < 14 + 20 || be16(fr + 12) != 0x0800 || (fr[14] >> 4) != 4)
		return NULL;

	const uint8_t *ip = fr + 14;
	uint32_t ihl = (ip[0] & 0xfu) * 4u, tot = be16(ip + 2);

	if (ihl < 20 || tot < ihl || 14 + tot > len)
		return NULL;
	if (ip[9] == 50) {
		*esp_len = tot - ihl;
		return ip + ihl;
	}
	if (ip[9] == 17 && tot >= ihl + 8 + ESP_HDR && be16(ip + ihl + 2) == 4500) {
		*esp_len = tot - ihl - 8;
		return ip + ihl + 8;
	}
	return NULL;
}

static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 24 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read a pcap\n", path);
		exit(2);
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* Indexes every ESP packet of the file; all must belong to one SPI. */
static void
load_pcap(struct bench *b, const uint8_t *buf, size_t size)
{
	uint32_t magic, spi = 0;
	size_t off = 24;

	memcpy(&magic, buf, 4);
	if (magic != PCAP_MAGIC && magic != PCAP_MAGIC_N) {
		fprintf(stderr, "not a little-endian classic pcap\n");
		exit(2);
	}
	b->pkts = calloc(MAX_PACKETS, sizeof(*b->pkts));
	if (b->pkts == NULL)
		exit(2);
	while (off + 16 <= size && b->n < MAX_PACKETS) {
		uint32_t caplen, esp_len;

		memcpy(&caplen, buf + off + 8, 4);
		if (off + 16 + caplen > size)
			break;

		const uint8_t *esp = find_esp(buf + off + 16, caplen, &esp_len);

		off += 16 + caplen;
		if (esp == NULL || esp_len < ESP_HDR + ESP_IV + 4 + ICV_LEN) {
			fprintf(stderr, "frame %u: no ESP packet\n", b->n + 1);
			exit(2);
		}

		uint32_t this_spi;

		memcpy(&this_spi, esp, 4);
		if (b->n == 0)
			spi = this_spi;
		else if (this_spi != spi) {
			fprintf(stderr, "frame %u: another SPI (one SA per file)\n", b->n + 1);
			exit(2);
		}

		struct pkt *p = &b->pkts[b->n++];

		p->ct = esp + ESP_HDR + ESP_IV;
		p->len = esp_len - ESP_HDR - ESP_IV - ICV_LEN;
		memcpy(p->nonce, b->salt, 4);
		memcpy(p->nonce + 4, esp + ESP_HDR, ESP_IV);
		memcpy(p->aad, esp, 8);
	}
	if (b->n == 0) {
		fprintf(stderr, "no packets\n");
		exit(2);
	}
}

static bool
tag_ok(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

static void
chacha_job(struct bench *b, const uint8_t *src, uint8_t *dst, uint32_t len, struct pkt *p,
	   uint8_t *tag, bool encrypt)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(b->mgr);

	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = b->key;
	job->dec_keys = b->key;
	job->key_len_in_bytes = 32;
	job->src = src;
	job->dst = dst;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = p->nonce;
	job->iv_len_in_bytes = 12;
	job->u.CHACHA20_POLY1305.aad = p->aad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = 8;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = ICV_LEN;
	job = IMB_SUBMIT_JOB(b->mgr);
	while (job != NULL) {
		if (job->status != IMB_STATUS_COMPLETED) {
			fprintf(stderr, "IPsec-MB job failed\n");
			exit(1);
		}
		job = IMB_GET_COMPLETED_JOB(b->mgr);
	}
}

static void
chacha_flush(struct bench *b)
{
	IMB_JOB *job;

	while ((job = IMB_FLUSH_JOB(b->mgr)) != NULL)
		if (job->status != IMB_STATUS_COMPLETED) {
			fprintf(stderr, "IPsec-MB job failed\n");
			exit(1);
		}
}

/* One pass over the file; returns how many tags did not match. */
static uint32_t
pass_decrypt(struct bench *b)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < b->n; i += BURST) {
		uint32_t end = i + BURST < b->n ? i + BURST : b->n;

		for (uint32_t k = i; k < end; k++) {
			struct pkt *p = &b->pkts[k];
			struct gcm_context_data ctx;

			switch (b->aead) {
			case AES128_GCM:
				IMB_AES128_GCM_DEC(b->mgr, b->gcm, &ctx, p->clear, p->ct, p->len,
						   p->nonce, p->aad, 8, p->tag, ICV_LEN);
				break;
			case AES256_GCM:
				IMB_AES256_GCM_DEC(b->mgr, b->gcm, &ctx, p->clear, p->ct, p->len,
						   p->nonce, p->aad, 8, p->tag, ICV_LEN);
				break;
			case CHACHA20_POLY1305:
				chacha_job(b, p->ct, p->clear, p->len, p, p->tag, false);
				break;
			}
		}
		if (b->aead == CHACHA20_POLY1305)
			chacha_flush(b);
		for (uint32_t k = i; k < end; k++)
			bad += !tag_ok(b->pkts[k].tag, b->pkts[k].ct + b->pkts[k].len);
	}
	return bad;
}

static void
pass_encrypt(struct bench *b)
{
	for (uint32_t i = 0; i < b->n; i += BURST) {
		uint32_t end = i + BURST < b->n ? i + BURST : b->n;

		for (uint32_t k = i; k < end; k++) {
			struct pkt *p = &b->pkts[k];
			uint8_t *out = b->sealed + (size_t)k * b->sealed_stride;
			struct gcm_context_data ctx;

			switch (b->aead) {
			case AES128_GCM:
				IMB_AES128_GCM_ENC(b->mgr, b->gcm, &ctx, out, p->clear, p->len,
						   p->nonce, p->aad, 8, out + p->len, ICV_LEN);
				break;
			case AES256_GCM:
				IMB_AES256_GCM_ENC(b->mgr, b->gcm, &ctx, out, p->clear, p->len,
						   p->nonce, p->aad, 8, out + p->len, ICV_LEN);
				break;
			case CHACHA20_POLY1305:
				chacha_job(b, p->clear, out, p->len, p, out + p->len, true);
				break;
			}
		}
		if (b->aead == CHACHA20_POLY1305)
			chacha_flush(b);
	}
}

static double
tsc_hz(void)
{
	struct timespec a, z;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __rdtsc();
	do {
		clock_gettime(CLOCK_MONOTONIC, &z);
	} while ((double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9 < 0.2);
	t1 = __rdtsc();
	return (double)(t1 - t0) /
	       ((double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9);
}

static void
usage(void)
{
	fprintf(stderr, "usage: dvipsec-imb-pcap-bench --pcap FILE --aead "
			"aes128gcm16|aes256gcm16|chacha20poly1305 --key HEX [--runs N] "
			"[--packets N]\n");
	exit(2);
}

/* Fills v[0..runs) with cycles per packet of `runs` timed runs of `passes` passes each. */
static void
time_runs(struct bench *b, bool decrypt, unsigned runs, unsigned passes, uint64_t *v)
{
	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = __rdtsc();

		for (unsigned k = 0; k < passes; k++) {
			if (decrypt)
				pass_decrypt(b);
			else
				pass_encrypt(b);
		}
		v[r] = (__rdtsc() - t0) * 100 / ((uint64_t)passes * b->n); /* centi-cycles */
	}
	qsort(v, runs, sizeof(v[0]), cmp_u64);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "pcap", required_argument, NULL, 'p' },
					      { "aead", required_argument, NULL, 'a' },
					      { "key", required_argument, NULL, 'k' },
					      { "runs", required_argument, NULL, 'r' },
					      { "packets", required_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	const char *pcap = NULL, *key_hex = NULL;
	static struct bench b;
	unsigned runs = 9, min_packets = 200000;
	int aead = -1;
	uint8_t key[36];
	IMB_ARCH arch;

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'p':
			pcap = optarg;
			break;
		case 'a':
			for (int i = 0; i < 3; i++)
				if (strcmp(optarg, aead_names[i]) == 0)
					aead = i;
			break;
		case 'k':
			key_hex = optarg;
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			min_packets = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (pcap == NULL || key_hex == NULL || aead < 0 || runs < 1 || runs > MAX_RUNS)
		usage();
	b.aead = (enum aead)aead;

	size_t klen = b.aead == AES128_GCM ? 16 : 32;

	if (parse_hex(key_hex, key, klen + 4) < 0) {
		fprintf(stderr, "--key: expected %zu hex digits (key || salt)\n", (klen + 4) * 2);
		return 2;
	}
	memcpy(b.salt, key + klen, 4);
	b.mgr = alloc_mb_mgr(0);
	if (b.mgr == NULL)
		return 1;
	init_mb_mgr_auto(b.mgr, &arch);
	b.gcm = aligned_alloc(64, (sizeof(*b.gcm) + 63) & ~(size_t)63);
	if (b.gcm == NULL)
		return 1;
	if (b.aead == AES128_GCM)
		IMB_AES128_GCM_PRE(b.mgr, key, b.gcm);
	else if (b.aead == AES256_GCM)
		IMB_AES256_GCM_PRE(b.mgr, key, b.gcm);
	else
		memcpy(b.key, key, 32);

	size_t size;
	uint8_t *file = read_file(pcap, &size);
	uint32_t max_len = 0;
	uint64_t bytes = 0;

	load_pcap(&b, file, size);
	for (uint32_t i = 0; i < b.n; i++) {
		max_len = b.pkts[i].len > max_len ? b.pkts[i].len : max_len;
		bytes += b.pkts[i].len;
	}
	b.sealed_stride = (max_len + ICV_LEN + 63) & ~63u;

	uint8_t *clear = aligned_alloc(64, (size_t)b.n * b.sealed_stride);

	b.sealed = aligned_alloc(64, (size_t)b.n * b.sealed_stride);
	if (clear == NULL || b.sealed == NULL)
		return 1;
	for (uint32_t i = 0; i < b.n; i++)
		b.pkts[i].clear = clear + (size_t)i * b.sealed_stride;

	/* the buffers are what the file says: every tag verifies, sealing gives the file back */
	uint32_t bad = pass_decrypt(&b);

	pass_encrypt(&b);
	for (uint32_t i = 0; i < b.n && bad == 0; i++)
		if (memcmp(b.sealed + (size_t)i * b.sealed_stride, b.pkts[i].ct,
			   b.pkts[i].len + ICV_LEN) != 0)
			bad = i + 1;
	if (bad != 0) {
		fprintf(stderr, "%s: %u packet(s) do not verify with this key\n", pcap, bad);
		return 1;
	}

	unsigned passes = (min_packets + b.n - 1) / b.n;
	uint64_t dec[MAX_RUNS], enc[MAX_RUNS];

	time_runs(&b, true, runs, passes, dec);
	time_runs(&b, false, runs, passes, enc);
	printf("imb aead=%s arch=%s version=%s packets=%u ct_bytes=%.0f tsc_hz=%.0f runs=%u "
	       "dec_cyc=%.1f dec_cyc_min=%.1f dec_cyc_max=%.1f enc_cyc=%.1f enc_cyc_min=%.1f "
	       "enc_cyc_max=%.1f\n",
	       aead_names[aead],
	       arch == IMB_ARCH_AVX512 ? "avx512"
	       : arch == IMB_ARCH_AVX2 ? "avx2"
	       : arch == IMB_ARCH_AVX  ? "avx"
				       : "sse",
	       imb_get_version_str(), b.n, (double)bytes / b.n, tsc_hz(), runs,
	       dec[runs / 2] / 100.0, dec[0] / 100.0, dec[runs - 1] / 100.0, enc[runs / 2] / 100.0,
	       enc[0] / 100.0, enc[runs - 1] / 100.0);
	free_mb_mgr(b.mgr);
	free(b.gcm);
	free(b.sealed);
	free(clear);
	free(b.pkts);
	free(file);
	return 0;
}
