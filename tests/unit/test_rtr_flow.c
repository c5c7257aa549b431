/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's flow stage and its replay pre-check, burst by burst: ESP made by our outbound stage
 * (checked against scapy elsewhere) for each AEAD, tunnel (inner IPv4 and IPv6) and transport, raw
 * and UDP-encapsulated, must yield the inner flow; the authenticated window must only move on
 * feedback, drop what it knows, and never alias old blocks; router filtering marks or drops.
 */
#include <errno.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dp_feedback.h"
#include "rtr.h"
#include "rtr_replay.h"
#include "test_common.h"

#define DVIPA	0xc0000201u /* 192.0.2.1 */
#define PEER	0xc000020au /* 192.0.2.10 */
#define INNER_S 0x0a000005u /* 10.0.0.5 */
#define INNER_D 0x0a090001u /* 10.9.0.1 */

static struct rtr r;
static struct cfg_router cfg;
static struct rtr_worker w;
static struct esp_lcore lc;
static uint8_t keymat[ESP_MAX_KEYMAT_LEN];
static const uint8_t in6_s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
static const uint8_t in6_d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 1 };

struct pair {
	struct esp_sa *in;  /* the router's inbound SA */
	struct esp_sa *out; /* the peer's outbound twin, to make packets */
};

static void
params(struct esp_sa_params *p, enum esp_dir dir, uint32_t spi, enum esp_aead aead,
       enum esp_mode mode, bool udp)
{
	memset(p, 0, sizeof(*p));
	p->spi = spi;
	p->dir = dir;
	p->aead = aead;
	p->mode = mode;
	p->keymat = keymat;
	p->keymat_len = esp_aead_keymat_len(aead);
	p->replay_window = 64;
	p->udp_encap = udp;
	p->udp_local_port = p->udp_remote_port = 4500;
	p->local.family = p->remote.family = 4;
	p->local.v4 = rte_cpu_to_be_32(dir == ESP_DIR_INBOUND ? DVIPA : PEER);
	p->remote.v4 = rte_cpu_to_be_32(dir == ESP_DIR_INBOUND ? PEER : DVIPA);
}

static struct pair
add_pair(uint32_t slot, enum esp_aead aead, enum esp_mode mode, bool udp)
{
	struct esp_sa_params p;
	struct pair pr;

	/* the router's SA through its one entry point; the peer's twin made directly */
	params(&p, ESP_DIR_INBOUND, 0x1000 + slot, aead, mode, udp);
	assert_int_equal(rtr_sa_add_at(&r, &p, slot, &lc), 0);
	assert_int_equal(rtr_sa_add_at(&r, &p, slot, &lc), -EEXIST);
	pr.in = (struct esp_sa *)rtr_sa_query(&r, slot);
	assert_non_null(pr.in);
	assert_int_equal(pr.in->slot, slot);
	params(&p, ESP_DIR_OUTBOUND, 0x1000 + slot, aead, mode, udp);
	assert_int_equal(esp_sa_create(&p, &lc, &pr.out), 0);
	return pr;
}

static void
free_pair(struct pair *pr)
{
	uint32_t slot = pr->in->slot;

	assert_int_equal(rtr_sa_del(&r, slot), 0);
	assert_null(rtr_sa_query(&r, slot));
	assert_null(esp_sa_table_lookup(r.sa_tbl, rte_cpu_to_be_32(0x1000 + slot)));
	assert_int_equal(rtr_sa_del(&r, slot), -ENOENT);
	assert_int_equal(rtr_sa_reclaim(&r), 1); /* no worker registered: at once */
	esp_sa_free(pr->out);
}

/* A TCP segment 40000 -> 5001 with flags, in IPv4 or IPv6 (inner addresses, or the outer ones for
 * transport mode). */
static size_t
tcp_packet(uint8_t *b, int family, bool transport, uint8_t flags)
{
	uint8_t *tcp;
	size_t l3;

	memset(b, 0, 80);
	if (family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16(40);
		ip->time_to_live = 64;
		ip->next_proto_id = 6;
		ip->src_addr = rte_cpu_to_be_32(transport ? PEER : INNER_S);
		ip->dst_addr = rte_cpu_to_be_32(transport ? DVIPA : INNER_D);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		l3 = 20;
	} else {
		b[0] = 0x60;
		b[5] = 20;
		b[6] = 6;
		b[7] = 64;
		memcpy(b + 8, in6_s, 16);
		memcpy(b + 24, in6_d, 16);
		l3 = 40;
	}
	tcp = b + l3;
	tcp[0] = 0x9c;
	tcp[1] = 0x40; /* 40000 */
	tcp[2] = 0x13;
	tcp[3] = 0x89; /* 5001 */
	tcp[12] = 0x50;
	tcp[13] = flags;
	return l3 + 20;
}

/* Our outbound stage encrypts; the result is parsed as classify would. */
static struct rte_mbuf *
esp_packet(struct esp_sa *out, uint64_t seq, int family, uint8_t flags, struct esp_pkt_info *pi)
{
	uint8_t b[128];
	size_t n = tcp_packet(b, family, out->params.mode == ESP_MODE_TRANSPORT, flags);
	struct rte_mbuf *m = t_mbuf_from(b, n);

	assert_int_equal(esp_outbound_burst(&lc, &out, &m, &seq, 1), 1);
	assert_int_equal(esp_parse_outer(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, pi),
			 ESP_DROP_NONE);
	return m;
}

/* Runs one packet through the flow stage; returns its drop reason (NONE: passed, flow set). */
static enum rtr_drop
run_flow(struct rte_mbuf *m, const struct esp_pkt_info *pi, struct rtr_flow *f)
{
	struct rtr_stats before = w.st;
	uint16_t ok = rtr_flow_esp_burst(&w, &r, &m, pi, f, 1);
	enum rtr_drop why = RTR_DROP_NONE;
	int moved = 0;

	rte_pktmbuf_free(m);
	for (int i = 1; i < RTR_DROP_COUNT; i++)
		if (w.st.drops[i] != before.drops[i]) {
			assert_int_equal(w.st.drops[i], before.drops[i] + 1);
			why = (enum rtr_drop)i;
			moved++;
		}
	assert_int_equal(moved, ok ? 0 : 1);
	return why;
}

static void
test_flows(void **state)
{
	static const struct {
		enum esp_aead aead;
		enum esp_mode mode;
		bool udp;
		int family; /* inner */
	} cases[] = {
		{ ESP_AEAD_AES128_GCM16, ESP_MODE_TUNNEL, false, 4 },
		{ ESP_AEAD_AES128_GCM16, ESP_MODE_TUNNEL, true, 6 },
		{ ESP_AEAD_AES128_GCM16, ESP_MODE_TRANSPORT, false, 4 },
		{ ESP_AEAD_AES256_GCM16, ESP_MODE_TUNNEL, true, 4 },
		{ ESP_AEAD_AES256_GCM16, ESP_MODE_TRANSPORT, true, 4 },
		{ ESP_AEAD_CHACHA20_POLY1305, ESP_MODE_TUNNEL, false, 6 },
		{ ESP_AEAD_CHACHA20_POLY1305, ESP_MODE_TRANSPORT, true, 4 },
	};

	(void)state;
	for (unsigned c = 0; c < RTE_DIM(cases); c++) {
		struct pair pr = add_pair(c, cases[c].aead, cases[c].mode, cases[c].udp);
		struct esp_pkt_info pi;
		struct rtr_flow f;
		bool tr = cases[c].mode == ESP_MODE_TRANSPORT;
		struct rte_mbuf *m = esp_packet(pr.out, 7, cases[c].family, 0x02, &pi);

		if (run_flow(m, &pi, &f) != RTR_DROP_NONE)
			fail_msg("case %u: flow stage dropped a good packet", c);
		assert_int_equal(f.key.sa_id, pr.in->flow_id);
		assert_int_equal(f.gre_key, c);
		assert_int_equal(f.key.proto, 6);
		assert_int_equal(f.is_tcp, 1);
		assert_int_equal(f.tcp_flags, 0x02);
		assert_int_equal(rte_be_to_cpu_16(f.key.src_port), 40000);
		assert_int_equal(rte_be_to_cpu_16(f.key.dst_port), 5001);
		assert_int_equal(f.key.family, cases[c].family);
		if (cases[c].family == 6) {
			assert_memory_equal(f.key.src, in6_s, 16);
			assert_memory_equal(f.key.dst, in6_d, 16);
		} else {
			uint32_t s = rte_cpu_to_be_32(tr ? PEER : INNER_S);
			uint32_t d = rte_cpu_to_be_32(tr ? DVIPA : INNER_D);

			assert_memory_equal(f.key.src, &s, 4);
			assert_memory_equal(f.key.dst, &d, 4);
		}
		/* what the router saw did not move its window: the same packet passes again */
		m = esp_packet(pr.out, 7, cases[c].family, 0x10, &pi);
		assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_NONE);
		assert_int_equal(f.tcp_flags, 0x10);
		free_pair(&pr);
	}
}

/* Only feedback moves the window; a forged (never reported) number keeps passing. */
static void
test_precheck(void **state)
{
	struct pair pr = add_pair(1, ESP_AEAD_AES128_GCM16, ESP_MODE_TUNNEL, false);
	struct esp_pkt_info pi;
	struct rtr_flow f;
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(rtr_replay_learn(&pr.in->replay, 0, UINT64_C(1) << 5), 1);
	m = esp_packet(pr.out, 5, 4, 0x10, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_REPLAY_DUPLICATE);
	m = esp_packet(pr.out, 6, 4, 0x10, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_NONE);
	m = esp_packet(pr.out, 1, 4, 0x10, &pi);
	memset(rte_pktmbuf_mtod(m, uint8_t *) + pi.esp_off + 4, 0, 4); /* sequence number 0 */
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_REPLAY_OLD);
	assert_int_equal(rtr_replay_learn(&pr.in->replay, 128, 1), 1); /* top 128 */
	m = esp_packet(pr.out, 64, 4, 0x10, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_REPLAY_OLD);
	m = esp_packet(pr.out, 65, 4, 0x10, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_NONE);
	free_pair(&pr);
}

/* The writer's table: (learn base, bits) then (seq, verdict) checks. */
static void
test_replay_learn_table(void **state)
{
	static const struct {
		uint64_t base, bits;
		uint32_t learned;
		uint64_t seq;
		enum esp_replay_verdict v;
	} steps[] = {
		/* 1 */ { 0, 0xe, 3, 1, ESP_REPLAY_DUPLICATE },
		/* 2 */ { 0, 0xe, 0, 4, ESP_REPLAY_OK },    /* reported twice: nothing new */
		/* 3 */ { 0, 0, 0, 0, ESP_REPLAY_TOO_OLD }, /* zero is never valid */
		/* 4 */ { 64, 1u << 3, 1, 67, ESP_REPLAY_DUPLICATE }, /* top 67 */
		/* 5 */ { 0, 0, 0, 3, ESP_REPLAY_TOO_OLD },	      /* 67 - 3 >= 64 */
		/* 6 */ { 0, 0, 0, 4, ESP_REPLAY_OK },		      /* inside, never reported */
		/* 7 */ { 0, 1u << 4, 1, 4, ESP_REPLAY_DUPLICATE },   /* late report, still in */
		/* 8 */ { 64 * 1000, 1, 1, 64000, ESP_REPLAY_DUPLICATE },
		/* 9 */ { 0, 0, 0, 63990, ESP_REPLAY_OK }, /* the far slide cleared the ring */
		/* 10 */ { 64 * 998, ~UINT64_C(0), 0, 63936, ESP_REPLAY_TOO_OLD }, /* would alias */
		/* 11 */ { 0, 0, 0, 64001, ESP_REPLAY_OK },
	};
	struct esp_replay rw;

	(void)state;
	assert_int_equal(esp_replay_init(&rw, 64, false), 0);
	for (unsigned i = 0; i < RTE_DIM(steps); i++) {
		uint32_t got =
			steps[i].bits ? rtr_replay_learn(&rw, steps[i].base, steps[i].bits) : 0;

		if (got != steps[i].learned || rtr_replay_precheck(&rw, steps[i].seq) != steps[i].v)
			fail_msg("step %u: learned %u, verdict %d", i + 1, got,
				 rtr_replay_precheck(&rw, steps[i].seq));
	}
	/* a misaligned base is refused */
	assert_int_equal(rtr_replay_learn(&rw, 64001, 1), 0);
}

static size_t
fb_msg(uint8_t *b, uint8_t version, uint16_t count, uint32_t slot, uint64_t base, uint64_t bits)
{
	struct dp_fb_hdr h = { version, DP_FB_TYPE_REPLAY, rte_cpu_to_be_16(count), 0, 0 };
	struct dp_fb_replay rec = { rte_cpu_to_be_32(slot), 0, rte_cpu_to_be_64(base),
				    rte_cpu_to_be_64(bits) };

	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), &rec, sizeof(rec));
	return sizeof(h) + sizeof(rec);
}

static void
test_feedback(void **state)
{
	struct pair pr = add_pair(2, ESP_AEAD_AES256_GCM16, ESP_MODE_TRANSPORT, true);
	struct rtr_stats st;
	uint8_t b[64];
	size_t n;

	(void)state;
	memset(&st, 0, sizeof(st));
	n = fb_msg(b, DP_FB_VERSION, 1, 2, 128, 0x3);
	assert_int_equal(rtr_feedback_apply(&r, &st, b, (uint32_t)n), 2);
	assert_int_equal(rtr_replay_precheck(&pr.in->replay, 129), ESP_REPLAY_DUPLICATE);
	assert_int_equal(st.feedback_seqs, 2);
	n = fb_msg(b, 9, 1, 2, 192, 1);
	assert_int_equal(rtr_feedback_apply(&r, &st, b, (uint32_t)n), 0);
	assert_int_equal(st.drops[RTR_DROP_FEEDBACK_BAD], 1);
	n = fb_msg(b, DP_FB_VERSION, 2, 2, 192, 1); /* says 2 records, carries 1 */
	assert_int_equal(rtr_feedback_apply(&r, &st, b, (uint32_t)n), 0);
	assert_int_equal(st.drops[RTR_DROP_FEEDBACK_BAD], 2);
	assert_int_equal(rtr_feedback_apply(&r, &st, b, 5), 0);
	assert_int_equal(st.drops[RTR_DROP_FEEDBACK_BAD], 3);
	n = fb_msg(b, DP_FB_VERSION, 1, 77, 192, 1);
	assert_int_equal(rtr_feedback_apply(&r, &st, b, (uint32_t)n), 0);
	assert_int_equal(st.drops[RTR_DROP_FEEDBACK_SLOT], 1);
	assert_int_equal(rtr_replay_precheck(&pr.in->replay, 192), ESP_REPLAY_OK);
	free_pair(&pr);
}

/* filter_policy router: inside the selectors -> marked; outside -> dropped here. */
static void
test_router_filter(void **state)
{
	struct pair pr = add_pair(3, ESP_AEAD_AES128_GCM16, ESP_MODE_TUNNEL, false);
	struct esp_sa_params *p = &pr.in->params;
	struct esp_pkt_info pi;
	struct rtr_flow f;
	struct rte_mbuf *m;

	(void)state;
	cfg.filter_policy = CFG_FILTER_ROUTER;
	p->n_local_ts = 1;
	p->local_ts[0].start.family = p->local_ts[0].end.family = 4;
	p->local_ts[0].start.v4 = rte_cpu_to_be_32(0x0a090000);
	p->local_ts[0].end.v4 = rte_cpu_to_be_32(0x0a0900ff);
	p->local_ts[0].port_lo = 5001;
	p->local_ts[0].port_hi = 5001;
	m = esp_packet(pr.out, 1, 4, 0x02, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_NONE);
	assert_true(gre_key_filtered(f.gre_key));
	assert_int_equal(gre_key_slot(f.gre_key), 3);
	p->local_ts[0].port_lo = p->local_ts[0].port_hi = 5002;
	m = esp_packet(pr.out, 2, 4, 0x02, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_SELECTOR);
	cfg.filter_policy = CFG_FILTER_BYPASS;
	m = esp_packet(pr.out, 3, 4, 0x02, &pi);
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_NONE);
	assert_false(gre_key_filtered(f.gre_key));
	free_pair(&pr);
}

static void
test_bad_packets(void **state)
{
	struct pair pr = add_pair(4, ESP_AEAD_AES128_GCM16, ESP_MODE_TUNNEL, true);
	struct esp_pkt_info pi;
	struct rtr_flow f;
	struct rte_mbuf *m;

	(void)state;
	m = esp_packet(pr.out, 1, 4, 0x02, &pi);
	rte_pktmbuf_mtod(m, uint8_t *)[pi.esp_off + 3] ^= 0x40; /* SPI */
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_UNKNOWN_SPI);
	m = esp_packet(pr.out, 2, 4, 0x02, &pi);
	pi.udp = 0;
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_ENCAP_MISMATCH);
	m = esp_packet(pr.out, 3, 4, 0x02, &pi);
	pi.ip_len = (uint16_t)(pi.esp_off + 8 + 8 + 3); /* shorter than any ciphertext */
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_BAD_LENGTH);
	/* a forged ciphertext decrypts to garbage: not IP */
	m = esp_packet(pr.out, 4, 4, 0x02, &pi);
	rte_pktmbuf_mtod(m, uint8_t *)[pi.esp_off + 16] ^= 0xf0;
	assert_int_equal(run_flow(m, &pi, &f), RTR_DROP_INNER_NOT_IP);
	free_pair(&pr);
}

static void
test_plain(void **state)
{
	uint8_t b[128];
	size_t n = tcp_packet(b, 4, true, 0x02);
	struct rte_mbuf *m = t_mbuf_from(b, n);
	struct rtr_flow f;

	(void)state;
	assert_int_equal(rtr_flow_plain_burst(&w, &m, &f, 1), 1);
	assert_int_equal(f.key.sa_id, DCT_SA_PLAIN);
	assert_int_equal(f.gre_key, GRE_SLOT_PLAIN);
	assert_int_equal(rte_be_to_cpu_16(f.key.dst_port), 5001);
	b[6] = 0x20; /* a fragment */
	rte_pktmbuf_free(m);
	m = t_mbuf_from(b, n);
	assert_int_equal(rtr_flow_plain_burst(&w, &m, &f, 1), 0);
	assert_int_equal(w.st.drops[RTR_DROP_INNER_FRAGMENT], 1);
	rte_pktmbuf_free(m);
}

int
main(int argc, char **argv)
{
	(void)argc;
	t_eal_init(argv[0]);
	for (size_t i = 0; i < sizeof(keymat); i++)
		keymat[i] = (uint8_t)(0x40 + i);
	if (esp_lcore_init(&lc) < 0 || esp_lcore_init(&w.esp) < 0)
		return 1;
	r.cfg = &cfg;
	r.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (r.qsbr == NULL || rte_rcu_qsbr_init(r.qsbr, RTE_MAX_LCORE) < 0 ||
	    rtr_sa_init(&r, 64, r.qsbr) < 0)
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_precheck),
		cmocka_unit_test(test_replay_learn_table),
		cmocka_unit_test(test_feedback),
		cmocka_unit_test(test_router_filter),
		cmocka_unit_test(test_bad_packets),
		cmocka_unit_test(test_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
