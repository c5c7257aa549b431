/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad input to the ESP stages: each malformed, forged or replayed packet is dropped under its own
 * reason, nothing else is counted, and a good packet afterwards still passes. Packets are built
 * with our outbound stage (checked against scapy elsewhere) or sealed by hand where the trailer
 * itself must be wrong but authentic.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>

#include "esp_priv.h"
#include "test_common.h"

#define SPI	0x1001
#define IP_LEN	20
#define ESP_OFF IP_LEN

static struct esp_lcore lc;
static struct esp_sa *sa_in, *sa_out, *sa_in_udp, *sa_out_udp;
static struct esp_sa_table *tbl;

static const uint8_t keymat[20] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
				    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xca, 0xfe, 0xba, 0xbe };

static void
make_params(struct esp_sa_params *p, enum esp_dir dir, uint32_t spi, bool udp)
{
	memset(p, 0, sizeof(*p));
	p->spi = spi;
	p->dir = dir;
	p->aead = ESP_AEAD_AES128_GCM16;
	p->mode = ESP_MODE_TUNNEL;
	p->keymat = keymat;
	p->keymat_len = sizeof(keymat);
	p->replay_window = 64;
	p->udp_encap = udp;
	p->local.family = p->remote.family = 4;
	/* outbound sender 192.0.2.10 -> receiver (DVIPA) 192.0.2.1 */
	p->local.v4 = rte_cpu_to_be_32(dir == ESP_DIR_OUTBOUND ? 0xc000020a : 0xc0000201);
	p->remote.v4 = rte_cpu_to_be_32(dir == ESP_DIR_OUTBOUND ? 0xc0000201 : 0xc000020a);
	/* inner traffic: 10.0.0.0/24 (peer) -> 10.9.0.0/24 (ours) */
	p->n_remote_ts = p->n_local_ts = 1;
	p->remote_ts[0].start.family = p->remote_ts[0].end.family = 4;
	p->remote_ts[0].start.v4 = rte_cpu_to_be_32(0x0a000000);
	p->remote_ts[0].end.v4 = rte_cpu_to_be_32(0x0a0000ff);
	p->remote_ts[0].port_hi = 65535;
	p->local_ts[0] = p->remote_ts[0];
	p->local_ts[0].start.v4 = rte_cpu_to_be_32(0x0a090000);
	p->local_ts[0].end.v4 = rte_cpu_to_be_32(0x0a0900ff);
}

/* A TCP SYN 10.0.0.5:40000 -> dst:80. */
static size_t
inner_syn(uint8_t *buf, uint32_t dst)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	memset(buf, 0, 40);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(40);
	ip->time_to_live = 64;
	ip->next_proto_id = 6;
	ip->src_addr = rte_cpu_to_be_32(0x0a000005);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	buf[20] = 0x9c;
	buf[21] = 0x40; /* 40000 */
	buf[23] = 80;
	buf[32] = 0x50;
	buf[33] = 0x02; /* SYN */
	return 40;
}

/* An encrypted packet from our outbound stage, copied out to bytes. */
static size_t
good_packet(struct esp_sa *out_sa, uint64_t seq, uint8_t *pkt)
{
	uint8_t inner[64];
	size_t n = inner_syn(inner, 0x0a090001);
	struct rte_mbuf *m = t_mbuf_from(inner, n);

	assert_int_equal(esp_outbound_burst(&lc, &out_sa, &m, &seq, 1), 1);
	n = m->data_len;
	memcpy(pkt, rte_pktmbuf_mtod(m, uint8_t *), n);
	rte_pktmbuf_free(m);
	return n;
}

/* Seal an arbitrary ESP payload (trailer included) into an outer IPv4 packet, authentic but odd. */
static size_t
sealed_packet(uint64_t seq, const uint8_t *payload, uint32_t len, uint8_t *pkt)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	uint8_t *esp = pkt + ESP_OFF;
	struct esp_aead_op op;
	size_t total = ESP_OFF + ESP_PAYLOAD_OFF + len + ESP_ICV_LEN;

	memset(pkt, 0, ESP_OFF);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->time_to_live = 64;
	ip->next_proto_id = 50;
	ip->src_addr = rte_cpu_to_be_32(0xc000020a);
	ip->dst_addr = rte_cpu_to_be_32(0xc0000201);
	store_be32(esp, SPI);
	store_be32(esp + 4, (uint32_t)seq);
	store_be32(esp + 8, 0);
	store_be32(esp + 12, (uint32_t)seq);
	memcpy(esp + ESP_PAYLOAD_OFF, payload, len);
	memset(&op, 0, sizeof(op));
	op.data = esp + ESP_PAYLOAD_OFF;
	op.len = len;
	op.icv = op.data + len;
	esp_build_nonce_aad(sa_out, esp, seq, &op);
	sa_out->rt.seal(&lc, sa_out, &op);
	return total;
}

/* Runs one packet inbound; returns the drop reason (NONE if it passed) and checks that exactly one
 * counter moved. */
static enum esp_drop
run_in(const uint8_t *pkt, size_t len)
{
	struct esp_stats before = lc.stats;
	struct rte_mbuf *m = t_mbuf_from(pkt, len);
	struct esp_sa *got;
	uint16_t ok = esp_inbound_burst(&lc, tbl, &m, &got, 1);
	enum esp_drop why = ESP_DROP_NONE;
	int moved = 0;

	rte_pktmbuf_free(m);
	for (int r = 1; r < ESP_DROP_COUNT; r++) {
		if (lc.stats.drops[r] != before.drops[r]) {
			assert_int_equal(lc.stats.drops[r], before.drops[r] + 1);
			why = (enum esp_drop)r;
			moved++;
		}
	}
	assert_int_equal(moved, ok ? 0 : 1);
	return why;
}

#define assert_drop(pkt, len, reason)                                               \
	do {                                                                        \
		enum esp_drop got_ = run_in((pkt), (len));                          \
		if (got_ != (reason))                                               \
			fail_msg("expected drop %s, got %s", esp_drop_name(reason), \
				 esp_drop_name(got_));                              \
	} while (0)

static void
test_good_then_forged_icv(void **state)
{
	uint8_t pkt[256];
	size_t n;

	(void)state;
	n = good_packet(sa_out, 1, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);

	n = good_packet(sa_out, 2, pkt);
	pkt[n - 1] ^= 0x01; /* ICV */
	assert_drop(pkt, n, ESP_DROP_ICV_MISMATCH);
	pkt[n - 1] ^= 0x01;
	pkt[ESP_OFF + ESP_PAYLOAD_OFF + 3] ^= 0x80; /* ciphertext */
	assert_drop(pkt, n, ESP_DROP_ICV_MISMATCH);

	/* forged high numbers never move the window */
	n = good_packet(sa_out, 3, pkt);
	store_be32(pkt + ESP_OFF + 4, 4000000000u);
	assert_drop(pkt, n, ESP_DROP_ICV_MISMATCH);
	n = good_packet(sa_out, 2, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);
	assert_drop(pkt, n, ESP_DROP_REPLAY_DUPLICATE);
}

static void
test_replay_old(void **state)
{
	uint8_t pkt[256];
	size_t n;

	(void)state;
	n = good_packet(sa_out, 10, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);
	n = good_packet(sa_out, 200, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);
	n = good_packet(sa_out, 10 + 1, pkt);
	assert_drop(pkt, n, ESP_DROP_REPLAY_OLD);
}

static void
test_truncated_and_lengths(void **state)
{
	uint8_t pkt[256];
	size_t n;

	(void)state;
	n = good_packet(sa_out, 300, pkt);
	assert_drop(pkt, n - 1, ESP_DROP_TRUNCATED); /* the IP header claims more than arrived */
	assert_drop(pkt, 10, ESP_DROP_TRUNCATED);

	/* consistent lengths, but the ESP part is too short for IV + ICV */
	store_be16(pkt + 2, IP_LEN + 30);
	((struct rte_ipv4_hdr *)pkt)->hdr_checksum = 0;
	assert_drop(pkt, IP_LEN + 30, ESP_DROP_BAD_LENGTH);
	store_be16(pkt + 2, IP_LEN + 6);
	assert_drop(pkt, IP_LEN + 6, ESP_DROP_TRUNCATED);

	/* ciphertext not a multiple of 4 */
	n = good_packet(sa_out, 301, pkt);
	store_be16(pkt + 2, (uint16_t)(n - 1));
	assert_drop(pkt, n - 1, ESP_DROP_BAD_LENGTH);

	/* IHL below 5 */
	n = good_packet(sa_out, 302, pkt);
	pkt[0] = 0x44;
	assert_drop(pkt, n, ESP_DROP_BAD_IP_HEADER);
}

static void
test_bad_trailer(void **state)
{
	uint8_t pkt[256];
	uint8_t pl[64];
	size_t inner = inner_syn(pl, 0x0a090001);
	size_t n;

	(void)state;
	/* pad bytes must be 1, 2, ...: 1, 2, 3, 4, 9, 6 is authentic but wrong */
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 3, 4, 9, 6, 6, 4 }, 8);
	n = sealed_packet(401, pl, (uint32_t)inner + 8, pkt);
	assert_drop(pkt, n, ESP_DROP_BAD_PADDING);

	/* pad length longer than the payload */
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 200, 4 }, 4);
	n = sealed_packet(402, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_BAD_PADDING);

	/* next header 6 (TCP) on a tunnel SA */
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 2, 6 }, 4);
	n = sealed_packet(403, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_BAD_NEXT_HEADER);

	/* TFC dummy packet */
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 2, 59 }, 4);
	n = sealed_packet(404, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_DUMMY);

	/* next header says IPv4 but the inner header is not */
	pl[0] = 0x65;
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 2, 4 }, 4);
	n = sealed_packet(405, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_BAD_INNER);

	/* good trailer still passes */
	inner_syn(pl, 0x0a090001);
	n = sealed_packet(406, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);
}

static void
test_selectors(void **state)
{
	uint8_t pkt[256], pl[64];
	size_t inner = inner_syn(pl, 0x0a0a0001); /* 10.10.0.1 is not in 10.9.0.0/24 */
	size_t n;

	(void)state;
	memcpy(pl + inner, (const uint8_t[]){ 1, 2, 2, 4 }, 4);
	n = sealed_packet(500, pl, (uint32_t)inner + 4, pkt);
	assert_drop(pkt, n, ESP_DROP_SELECTOR);
}

static void
test_classification(void **state)
{
	uint8_t pkt[256];
	size_t n;

	(void)state;
	n = good_packet(sa_out, 600, pkt);
	store_be32(pkt + ESP_OFF, 0x7777);
	assert_drop(pkt, n, ESP_DROP_UNKNOWN_SPI);

	n = good_packet(sa_out, 601, pkt);
	pkt[0] = 0x15;
	assert_drop(pkt, n, ESP_DROP_NOT_IP);

	n = good_packet(sa_out, 602, pkt);
	pkt[9] = 6;
	assert_drop(pkt, n, ESP_DROP_NOT_ESP);

	n = good_packet(sa_out, 603, pkt);
	pkt[6] = 0x20; /* MF */
	assert_drop(pkt, n, ESP_DROP_FRAGMENT);

	/* raw ESP to the UDP-encapsulated SA's SPI */
	n = good_packet(sa_out, 604, pkt);
	store_be32(pkt + ESP_OFF, SPI + 1);
	assert_drop(pkt, n, ESP_DROP_ENCAP_MISMATCH);

	/* ESP-in-UDP good, then IKE's non-ESP marker and a NAT keepalive on 4500 */
	n = good_packet(sa_out_udp, 1, pkt);
	assert_drop(pkt, n, ESP_DROP_NONE);
	store_be32(pkt + IP_LEN + 8, 0);
	assert_drop(pkt, n, ESP_DROP_NON_ESP_MARKER);
	store_be16(pkt + 2, IP_LEN + 9);
	store_be16(pkt + IP_LEN + 4, 9);
	pkt[IP_LEN + 8] = 0xff;
	assert_drop(pkt, IP_LEN + 9, ESP_DROP_NATT_KEEPALIVE);
}

/* A burst of good and bad packets: the good ones come first in their order, the bad ones after. */
static void
test_burst_order(void **state)
{
	struct rte_mbuf *m[100], *orig[100];
	struct esp_sa *sas[100];
	uint8_t pkt[256];
	uint16_t good = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		size_t n = good_packet(sa_out, 1000 + (uint64_t)i, pkt);

		if (i % 3 == 0)
			pkt[n - 2] ^= 0xff;
		else
			good++;
		m[i] = orig[i] = t_mbuf_from(pkt, n);
	}
	assert_int_equal(esp_inbound_burst(&lc, tbl, m, sas, 100), good);
	for (int i = 0, g = 0, b = good; i < 100; i++) {
		if (i % 3 == 0) {
			assert_ptr_equal(m[b++], orig[i]);
		} else {
			assert_ptr_equal(m[g], orig[i]);
			assert_ptr_equal(sas[g++], sa_in);
		}
	}
	for (int i = 0; i < 100; i++)
		rte_pktmbuf_free(m[i]);
}

/* The target's variant: the SA comes from the link's key, not from the SPI table. */
static void
test_named_sa(void **state)
{
	uint8_t pkt[256], pl[64];
	struct rte_mbuf *m[4];
	struct esp_sa *sas[4];
	uint64_t seqs[4];
	size_t n;

	(void)state;
	/* 0: good; 1: right SPI but the key named the UDP SA; 2: selector mismatch, not skipped;
	 * 3: selector mismatch, skipped because the router checked */
	n = good_packet(sa_out, 2000, pkt);
	m[0] = t_mbuf_from(pkt, n);
	sas[0] = sa_in;
	n = good_packet(sa_out, 2001, pkt);
	m[1] = t_mbuf_from(pkt, n);
	sas[1] = sa_in_udp;
	inner_syn(pl, 0x0a0a0001); /* 10.10.0.1 is outside 10.9.0.0/24 */
	memcpy(pl + 40, (const uint8_t[]){ 1, 2, 2, 4 }, 4);
	n = sealed_packet(2002, pl, 44, pkt);
	m[2] = t_mbuf_from(pkt, n);
	sas[2] = sa_in;
	n = sealed_packet(2003, pl, 44, pkt);
	m[3] = t_mbuf_from(pkt, n);
	sas[3] = sa_in;

	struct esp_stats before = lc.stats;
	struct rte_mbuf *m0 = m[0], *m3 = m[3];

	assert_int_equal(esp_inbound_burst_sa(&lc, m, sas, seqs, 1u << 3, 4), 2);
	assert_ptr_equal(m[0], m0);
	assert_ptr_equal(m[1], m3);
	assert_int_equal(seqs[0], 2000);
	assert_int_equal(seqs[1], 2003);
	assert_ptr_equal(sas[1], sa_in);
	assert_int_equal(lc.stats.drops[ESP_DROP_SPI_MISMATCH],
			 before.drops[ESP_DROP_SPI_MISMATCH] + 1);
	assert_int_equal(lc.stats.drops[ESP_DROP_SELECTOR], before.drops[ESP_DROP_SELECTOR] + 1);
	/* the packet whose key named the wrong SA did not move that SA's window: 2001 still passes
	 */
	sas[0] = sa_in;
	n = good_packet(sa_out, 2001, pkt);
	for (int i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	m[0] = t_mbuf_from(pkt, n);
	assert_int_equal(esp_inbound_burst_sa(&lc, m, sas, NULL, 0, 1), 1);
	rte_pktmbuf_free(m[0]);
}

static void
test_outbound_errors(void **state)
{
	uint8_t inner[64];
	size_t n = inner_syn(inner, 0x0a090001);
	struct rte_mbuf *m = t_mbuf_from(inner, n);
	uint64_t seq = (uint64_t)UINT32_MAX + 1;
	struct esp_stats before = lc.stats;

	(void)state;
	assert_int_equal(esp_outbound_burst(&lc, &sa_out, &m, &seq, 1), 0);
	assert_int_equal(lc.stats.drops[ESP_DROP_SEQ_OVERFLOW],
			 before.drops[ESP_DROP_SEQ_OVERFLOW] + 1);
	seq = 5;
	assert_int_equal(esp_outbound_burst(&lc, &sa_in, &m, &seq, 1), 0);
	assert_int_equal(lc.stats.drops[ESP_DROP_WRONG_SA], before.drops[ESP_DROP_WRONG_SA] + 1);
	m->data_off = 0; /* no headroom left */
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), inner, n);
	assert_int_equal(esp_outbound_burst(&lc, &sa_out, &m, &seq, 1), 0);
	assert_int_equal(lc.stats.drops[ESP_DROP_NO_HEADROOM],
			 before.drops[ESP_DROP_NO_HEADROOM] + 1);
	rte_pktmbuf_free(m);
}

static int
setup(void **state)
{
	struct esp_sa_params p;

	(void)state;
	if (esp_lcore_init(&lc) != 0)
		return -1;
	make_params(&p, ESP_DIR_INBOUND, SPI, false);
	assert_int_equal(esp_sa_create(&p, &lc, &sa_in), 0);
	make_params(&p, ESP_DIR_OUTBOUND, SPI, false);
	assert_int_equal(esp_sa_create(&p, &lc, &sa_out), 0);
	make_params(&p, ESP_DIR_INBOUND, SPI + 1, true);
	assert_int_equal(esp_sa_create(&p, &lc, &sa_in_udp), 0);
	make_params(&p, ESP_DIR_OUTBOUND, SPI + 1, true);
	assert_int_equal(esp_sa_create(&p, &lc, &sa_out_udp), 0);
	tbl = esp_sa_table_create(16);
	assert_int_equal(esp_sa_table_add(tbl, sa_in), 0);
	assert_int_equal(esp_sa_table_add(tbl, sa_in_udp), 0);
	assert_int_equal(esp_sa_table_add(tbl, sa_in), -EEXIST);
	assert_int_equal(esp_sa_table_add(tbl, sa_out), -EINVAL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_ptr_equal(esp_sa_table_del(tbl, SPI), sa_in);
	assert_null(esp_sa_table_lookup(tbl, rte_cpu_to_be_32(SPI)));
	assert_ptr_equal(esp_sa_table_lookup(tbl, rte_cpu_to_be_32(SPI + 1)), sa_in_udp);
	esp_sa_table_free(tbl);
	esp_sa_free(sa_in);
	esp_sa_free(sa_out);
	esp_sa_free(sa_in_udp);
	esp_sa_free(sa_out_udp);
	esp_lcore_fini(&lc);
	return 0;
}

int
main(int argc, char **argv)
{
	(void)argc;
	t_eal_init(argv[0]);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_then_forged_icv),
		cmocka_unit_test(test_replay_old),
		cmocka_unit_test(test_truncated_and_lengths),
		cmocka_unit_test(test_bad_trailer),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_burst_order),
		cmocka_unit_test(test_named_sa),
		cmocka_unit_test(test_outbound_errors),
	};
	return cmocka_run_group_tests_name("esp_errors", tests, setup, teardown);
}
