/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRE framing of the trusted link, burst level: encap -> decap round trips (IPv4 and IPv6 ESP,
 * plain TCP, feedback; with and without sequence numbers; filtered flag), the encapsulated bytes
 * against headers built here by hand (checksums from a checksum written here, not DPDK's), every
 * encap and decap drop reason with exactly one counter moving, every prefix of a valid frame,
 * burst ordering across chunks, and tshark decoding a capture of our frames.
 *
 * Argument: a scratch directory.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "gre.h"
#include "test_common.h"
#include "test_pcap.h"

#define LINK_SRC_IP 0x0aff0001 /* 10.255.0.1, the router */
#define LINK_DST_IP 0x0aff0002 /* 10.255.0.2, a target */
#define MAX_PKT	    1600
#define OFF_IP	    14
#define OFF_GRE	    34

static const char *workdir;
static const struct rte_ether_addr mac_r = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr mac_t = { { 0x02, 0, 0, 0, 0, 0x02 } };
static struct gre_stats st;
static bool seen[GRE_DROP_COUNT];

/* -- helpers written independently of gre.c ---------------------------------------------------- */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* RFC 1071, big-endian words, an odd byte padded with zero; returns the value to store. */
static uint16_t
cksum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
fix_ip_cksum(uint8_t *ip)
{
	size_t ihl = (ip[0] & 0xfu) * 4u;

	put16(ip + 10, 0);
	put16(ip + 10, cksum(ip, ihl, 0));
}

static size_t
ipv4_header(uint8_t *b, uint8_t proto, size_t payload_len, uint32_t src, uint32_t dst)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint32_t)(20 + payload_len));
	put16(b + 4, 0x1234);
	b[8] = 64;
	b[9] = proto;
	put32(b + 12, src);
	put32(b + 16, dst);
	fix_ip_cksum(b);
	return 20;
}

static size_t
esp_body(uint8_t *b)
{
	put32(b, 0x1001); /* SPI */
	put32(b + 4, 1);  /* sequence number */
	for (int i = 0; i < 40; i++)
		b[8 + i] = (uint8_t)(i * 3);
	return 48;
}

enum payload { P_ESP4, P_ESP6_UDP, P_TCP4, P_FEEDBACK, P_BAD_NIBBLE };

/* The payloads the link carries: what the router received (ESP, plain TCP) or a feedback message.
 */
static size_t
make_payload(enum payload p, uint8_t *b)
{
	size_t n;

	switch (p) {
	case P_ESP4:
		n = esp_body(b + 20);
		return ipv4_header(b, 50, n, 0xc633640a, 0xc0000201) + n;
	case P_ESP6_UDP: {
		static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 };
		static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
		uint8_t ph[40] = { 0 };

		n = 8 + esp_body(b + 48);
		memset(b, 0, 48);
		b[0] = 0x60;
		put16(b + 4, (uint32_t)n);
		b[6] = 17;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
		put16(b + 40, 4500);
		put16(b + 42, 4500);
		put16(b + 44, (uint32_t)n);
		memcpy(ph, b + 8, 32);
		put32(ph + 32, (uint32_t)n);
		ph[39] = 17;
		put16(b + 46, cksum(b + 40, n, (uint16_t)~cksum(ph, 40, 0)));
		return 40 + n;
	}
	case P_TCP4:
		memset(b + 20, 0, 20);
		put16(b + 20, 40000);
		put16(b + 22, 443);
		b[32] = 0x50;
		b[33] = 0x02; /* SYN */
		return ipv4_header(b, 6, 20, 0xc633640a, 0xc0000201) + 20;
	case P_FEEDBACK:
		/* version 1, type replay, one record (dp_feedback.h) */
		memset(b, 0, 32);
		b[0] = 1;
		b[1] = 1;
		put16(b + 2, 1);
		put16(b + 4, 2);
		put32(b + 8, 5);
		b[23] = 0x40;
		b[31] = 0xff;
		return 32;
	case P_BAD_NIBBLE:
	default:
		memset(b, 0x50, 24);
		return 24;
	}
}

static void
link_init(struct gre_link *l, bool seq)
{
	gre_link_init(l, &mac_r, &mac_t, rte_cpu_to_be_32(LINK_SRC_IP),
		      rte_cpu_to_be_32(LINK_DST_IP), seq);
}

/* Runs one burst and checks that exactly the listed reasons moved, by the listed amounts. */
static void
expect_drops(const struct gre_stats *before, const uint64_t *want)
{
	for (int r = 0; r < GRE_DROP_COUNT; r++) {
		if (st.drops[r] - before->drops[r] != want[r])
			fail_msg("drop %s moved by %" PRIu64 ", expected %" PRIu64,
				 gre_drop_name((enum gre_drop)r), st.drops[r] - before->drops[r],
				 want[r]);
		if (want[r] != 0)
			seen[r] = true;
	}
}

/* One frame through encap: the count and the single counter that moved. */
static uint16_t
encap_one(struct gre_link *l, struct rte_mbuf *m, uint32_t key, uint16_t proto, enum gre_drop want)
{
	struct gre_stats before = st;
	uint64_t drops[GRE_DROP_COUNT] = { 0 };
	uint16_t ok = gre_encap_burst(l, &m, &key, proto ? &proto : NULL, 1, &st);

	if (want != GRE_DROP_NONE)
		drops[want] = 1;
	expect_drops(&before, drops);
	assert_int_equal(ok, want == GRE_DROP_NONE);
	assert_int_equal(st.encap_packets - before.encap_packets, ok);
	return ok;
}

static uint16_t
decap_frame(const uint8_t *frame, size_t len, const uint32_t *local, enum gre_drop want,
	    struct gre_info *gi, struct rte_mbuf **mp)
{
	struct rte_mbuf *m = t_mbuf_from(frame, len);
	struct gre_stats before = st;
	uint64_t drops[GRE_DROP_COUNT] = { 0 };
	uint16_t ok = local ? gre_decap_burst_local(&st, *local, &m, gi, 1)
			    : gre_decap_burst(&st, &m, gi, 1);

	if (want != GRE_DROP_NONE)
		drops[want] = 1;
	expect_drops(&before, drops);
	assert_int_equal(ok, want == GRE_DROP_NONE);
	assert_int_equal(st.decap_packets - before.decap_packets, ok);
	if (!ok) {
		/* a failed packet is left as it came */
		assert_int_equal(m->data_len, len);
		assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), frame, len);
	}
	if (mp != NULL)
		*mp = m;
	else
		rte_pktmbuf_free(m);
	return ok;
}

/* The headers gre_encap_burst must write, built here byte by byte. */
static size_t
expected_headers(uint8_t *h, size_t payload_len, uint16_t ip_id, bool seq_on, uint32_t seq,
		 uint16_t proto, uint32_t key)
{
	size_t gre_len = seq_on ? 12 : 8;

	memcpy(h, &mac_t, 6);
	memcpy(h + 6, &mac_r, 6);
	put16(h + 12, 0x0800);
	memset(h + 14, 0, 20);
	h[14] = 0x45;
	put16(h + 16, (uint32_t)(20 + gre_len + payload_len));
	put16(h + 18, ip_id);
	put16(h + 20, 0x4000); /* DF */
	h[22] = 64;
	h[23] = 47;
	put32(h + 26, LINK_SRC_IP);
	put32(h + 30, LINK_DST_IP);
	fix_ip_cksum(h + 14);
	put16(h + 34, seq_on ? 0x3000 : 0x2000);
	put16(h + 36, proto);
	put32(h + 38, key);
	if (seq_on)
		put32(h + 42, seq);
	return 34 + gre_len;
}

/* -- round trips ------------------------------------------------------------------------------- */

struct rt_case {
	const char *name;
	enum payload payload;
	bool seq;
	uint32_t key;
	uint16_t proto_arg; /* 0: from the IP version */
	uint16_t want_proto;
};

static const struct rt_case rt_cases[] = {
	{ "esp4", P_ESP4, false, 5, 0, GRE_PROTO_IPV4 },
	{ "esp4_seq_filtered", P_ESP4, true, 0x123456 | GRE_KEY_FILTERED, 0, GRE_PROTO_IPV4 },
	{ "esp4_explicit_proto", P_ESP4, false, 0, GRE_PROTO_IPV4, GRE_PROTO_IPV4 },
	{ "esp6_udp", P_ESP6_UDP, false, 1, 0, GRE_PROTO_IPV6 },
	{ "esp6_udp_seq_filtered", P_ESP6_UDP, true, 0xfffffe | GRE_KEY_FILTERED, 0,
	  GRE_PROTO_IPV6 },
	{ "plain_tcp4", P_TCP4, false, GRE_SLOT_PLAIN, 0, GRE_PROTO_IPV4 },
	{ "plain_tcp4_seq_filtered", P_TCP4, true, GRE_SLOT_PLAIN | GRE_KEY_FILTERED, 0,
	  GRE_PROTO_IPV4 },
	{ "feedback", P_FEEDBACK, false, 0, GRE_PROTO_FEEDBACK, GRE_PROTO_FEEDBACK },
	{ "feedback_seq", P_FEEDBACK, true, 7, GRE_PROTO_FEEDBACK, GRE_PROTO_FEEDBACK },
};

static void
test_round_trip(void **state)
{
	(void)state;
	for (size_t c = 0; c < RTE_DIM(rt_cases); c++) {
		const struct rt_case *rc = &rt_cases[c];
		struct gre_link l;
		uint8_t payload[MAX_PKT], hdr[64];
		size_t plen = make_payload(rc->payload, payload);
		struct rte_mbuf *m[2];
		uint32_t keys[2] = { rc->key, rc->key };
		uint16_t protos[2] = { rc->proto_arg, rc->proto_arg };
		struct gre_info info[2];
		struct gre_stats before = st;
		uint32_t local = rte_cpu_to_be_32(LINK_DST_IP);

		printf("# %s\n", rc->name);
		link_init(&l, rc->seq);
		/* counters wrap */
		l.ip_id = 0xffff;
		l.seq = 0xffffffff;
		for (int i = 0; i < 2; i++)
			m[i] = t_mbuf_from(payload, plen);
		assert_int_equal(
			gre_encap_burst(&l, m, keys, rc->proto_arg ? protos : NULL, 2, &st), 2);
		assert_int_equal(st.encap_packets - before.encap_packets, 2);
		assert_int_equal(st.encap_bytes - before.encap_bytes, 2 * plen);
		for (int i = 0; i < 2; i++) {
			size_t hl = expected_headers(hdr, plen, (uint16_t)(0xffff + i), rc->seq,
						     0xffffffffu + (uint32_t)i, rc->want_proto,
						     rc->key);

			assert_int_equal(hl, GRE_ENCAP_LEN(rc->seq));
			assert_int_equal(m[i]->pkt_len, hl + plen);
			assert_memory_equal(rte_pktmbuf_mtod(m[i], const uint8_t *), hdr, hl);
			assert_memory_equal(rte_pktmbuf_mtod_offset(m[i], const uint8_t *, hl),
					    payload, plen);
		}
		assert_int_equal(l.ip_id, 1);
		assert_int_equal(l.seq, rc->seq ? 1 : 0xffffffffu);

		assert_int_equal(gre_decap_burst_local(&st, local, m, info, 2), 2);
		assert_int_equal(st.decap_bytes - before.decap_bytes, 2 * plen);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(m[i]->pkt_len, plen);
			assert_int_equal(m[i]->data_len, plen);
			assert_memory_equal(rte_pktmbuf_mtod(m[i], const uint8_t *), payload, plen);
			assert_int_equal(info[i].key, rc->key);
			assert_int_equal(gre_key_slot(info[i].key), rc->key & GRE_KEY_SLOT_MASK);
			assert_int_equal(gre_key_filtered(info[i].key),
					 (rc->key & GRE_KEY_FILTERED) != 0);
			assert_int_equal(info[i].proto, rc->want_proto);
			assert_int_equal(info[i].has_seq, rc->seq);
			assert_int_equal(info[i].seq, rc->seq ? 0xffffffffu + (uint32_t)i : 0);
			assert_int_equal(info[i].has_csum, 0);
			assert_int_equal(info[i].outer_src, rte_cpu_to_be_32(LINK_SRC_IP));
			rte_pktmbuf_free(m[i]);
		}
	}
	assert_int_equal(gre_key(GRE_SLOT_PLAIN, true), 0x80ffffffu);
	assert_int_equal(gre_key(0x1000001, false), 1); /* the slot is masked */
}

/* -- encap failures ---------------------------------------------------------------------------- */

static void
test_encap_drops(void **state)
{
	struct gre_link l;
	uint8_t p[MAX_PKT];
	size_t n = make_payload(P_ESP4, p);
	struct rte_mbuf *m;

	(void)state;
	for (int seq = 0; seq <= 1; seq++) {
		link_init(&l, seq);
		uint16_t need = (uint16_t)GRE_ENCAP_LEN(seq);

		/* headroom exactly the headers: fits; one byte less: no_headroom, unchanged */
		for (uint16_t room = need - 1; room <= need; room++) {
			m = rte_pktmbuf_alloc(t_pool);
			m->data_off = room;
			memcpy(rte_pktmbuf_append(m, (uint16_t)n), p, n);
			encap_one(&l, m, 1, 0, room == need ? GRE_DROP_NONE : GRE_DROP_NO_HEADROOM);
			if (room < need) {
				assert_int_equal(m->data_off, room);
				assert_int_equal(m->pkt_len, n);
				assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), p, n);
			}
			rte_pktmbuf_free(m);
		}
	}
	link_init(&l, false);
	m = t_mbuf_from(p, n);
	encap_one(&l, m, 0x01000000, 0, GRE_DROP_BAD_KEY);
	encap_one(&l, m, 0x7f000005, 0, GRE_DROP_BAD_KEY);
	encap_one(&l, m, 5, 0x0806, GRE_DROP_UNKNOWN_PROTO);
	assert_int_equal(m->pkt_len, n);
	rte_pktmbuf_free(m);

	n = make_payload(P_BAD_NIBBLE, p);
	m = t_mbuf_from(p, n);
	encap_one(&l, m, 5, 0, GRE_DROP_ENCAP_NOT_IP);
	encap_one(&l, m, 5, GRE_PROTO_FEEDBACK, GRE_DROP_NONE); /* with a protocol: fine */
	rte_pktmbuf_free(m);
	m = t_mbuf_from(p, 0);
	encap_one(&l, m, 5, 0, GRE_DROP_ENCAP_NOT_IP);
	rte_pktmbuf_free(m);

	/* a chain whose outer IP length would pass 65535: too_long; one byte less fits */
	for (uint32_t total = 65535 - 28 + 1; total >= 65535 - 28; total--) {
		struct rte_mbuf *head = NULL;
		uint32_t left = total;

		while (left > 0) {
			uint16_t chunk = (uint16_t)RTE_MIN(left, 2000u);
			struct rte_mbuf *s = rte_pktmbuf_alloc(t_pool);

			assert_non_null(rte_pktmbuf_append(s, chunk));
			memset(rte_pktmbuf_mtod(s, uint8_t *), 0x45, chunk);
			if (head == NULL)
				head = s;
			else
				assert_int_equal(rte_pktmbuf_chain(head, s), 0);
			left -= chunk;
		}
		encap_one(&l, head, 5, 0, total > 65535 - 28 ? GRE_DROP_TOO_LONG : GRE_DROP_NONE);
		if (total == 65535 - 28)
			assert_int_equal(be16(rte_pktmbuf_mtod_offset(head, uint8_t *, 16)), 65535);
		rte_pktmbuf_free(head);
	}
}

/* -- decap failures ---------------------------------------------------------------------------- */

/* A valid frame with every optional field: C, K and S. */
static size_t
csum_frame(uint8_t *f, uint32_t key, bool seq)
{
	uint8_t p[MAX_PKT];
	size_t plen = make_payload(P_ESP4, p);
	size_t glen = 12 + (seq ? 4 : 0);
	uint8_t *g = f + OFF_GRE;

	memcpy(f, &mac_t, 6);
	memcpy(f + 6, &mac_r, 6);
	put16(f + 12, 0x0800);
	ipv4_header(f + OFF_IP, 47, glen + plen, LINK_SRC_IP, LINK_DST_IP);
	put16(g, 0xa000 | (seq ? 0x1000 : 0));
	put16(g + 2, 0x0800);
	put32(g + 4, 0); /* checksum, reserved1 */
	put32(g + 8, key);
	if (seq)
		put32(g + 12, 42);
	memcpy(g + glen, p, plen);
	put16(g + 4, cksum(g, glen + plen, 0));
	return OFF_GRE + glen + plen;
}

/* The frame the router sends for an ESP packet: key slot 5, with a sequence number. */
static size_t
base_frame(uint8_t *f)
{
	struct gre_link l;
	uint8_t p[MAX_PKT];
	size_t n = make_payload(P_ESP4, p);
	struct rte_mbuf *m = t_mbuf_from(p, n);
	uint32_t key = 5;

	link_init(&l, true);
	assert_int_equal(gre_encap_burst(&l, &m, &key, NULL, 1, &st), 1);
	n = m->data_len;
	memcpy(f, rte_pktmbuf_mtod(m, const uint8_t *), n);
	rte_pktmbuf_free(m);
	return n;
}

static void
set_ip_len(uint8_t *f, uint32_t ip_len)
{
	put16(f + OFF_IP + 2, ip_len);
	fix_ip_cksum(f + OFF_IP);
}

struct decap_case {
	const char *name;
	void (*mutate)(uint8_t *f, size_t *len);
	enum gre_drop want;
};

#define MUT(fn_name, body)                           \
	static void fn_name(uint8_t *f, size_t *len) \
	{                                            \
		(void)f;                             \
		(void)len;                           \
		body;                                \
	}

MUT(m_none, {})
MUT(m_eth_13, *len = 13)
MUT(m_ip_30, *len = 30)
MUT(m_total_past_frame, set_ip_len(f, (uint32_t)(*len - OFF_IP + 1)))
MUT(m_gre_3, set_ip_len(f, 20 + 3))
MUT(m_gre_seq_cut, set_ip_len(f, 20 + 10))
MUT(m_ether_ipv6, put16(f + 12, 0x86dd))
MUT(m_ether_vlan, put16(f + 12, 0x8100))
MUT(m_ip_version_6, f[OFF_IP] = 0x65)
MUT(m_ihl_4, f[OFF_IP] = 0x44)
MUT(m_total_below_ihl, set_ip_len(f, 19))
MUT(m_ip_cksum, f[OFF_IP + 10] ^= 1)
MUT(m_mf, {
	f[OFF_IP + 6] |= 0x20;
	fix_ip_cksum(f + OFF_IP);
})
MUT(m_frag_offset, {
	f[OFF_IP + 7] = 1;
	fix_ip_cksum(f + OFF_IP);
})
MUT(m_no_df, {
	f[OFF_IP + 6] = 0;
	fix_ip_cksum(f + OFF_IP);
})
MUT(m_proto_esp, {
	f[OFF_IP + 9] = 50;
	fix_ip_cksum(f + OFF_IP);
})
MUT(m_gre_version_1, f[OFF_GRE + 1] |= 1)
MUT(m_gre_routing, f[OFF_GRE] |= 0x40)
MUT(m_gre_strict_route, f[OFF_GRE] |= 0x08)
MUT(m_gre_recursion, f[OFF_GRE] |= 0x04)
MUT(m_gre_ignored_bits, {
	f[OFF_GRE] |= 0x03;
	f[OFF_GRE + 1] |= 0xf8;
})
MUT(m_no_key, f[OFF_GRE] &= (uint8_t)~0x20)
MUT(m_key_bit_24, f[OFF_GRE + 4] = 0x01)
MUT(m_key_bits_24_30, f[OFF_GRE + 4] = 0x7f)
MUT(m_proto_arp, put16(f + OFF_GRE + 2, 0x0806))
MUT(m_proto_ipv6_for_v4, put16(f + OFF_GRE + 2, 0x86dd))
MUT(m_payload_19, set_ip_len(f, 20 + 12 + 19))
MUT(m_payload_not_ip, f[OFF_GRE + 12] = 0x50)
MUT(m_feedback_empty, {
	put16(f + OFF_GRE + 2, GRE_PROTO_FEEDBACK);
	set_ip_len(f, 20 + 12);
})
MUT(m_eth_padding, *len += 40)

static const struct decap_case decap_cases[] = {
	{ "valid", m_none, GRE_DROP_NONE },
	{ "ethernet_cut", m_eth_13, GRE_DROP_TRUNCATED },
	{ "ip_header_cut", m_ip_30, GRE_DROP_TRUNCATED },
	{ "total_length_past_frame", m_total_past_frame, GRE_DROP_TRUNCATED },
	{ "gre_3_bytes", m_gre_3, GRE_DROP_TRUNCATED },
	{ "gre_seq_cut", m_gre_seq_cut, GRE_DROP_TRUNCATED },
	{ "ethertype_ipv6", m_ether_ipv6, GRE_DROP_NOT_IPV4 },
	{ "ethertype_vlan", m_ether_vlan, GRE_DROP_NOT_IPV4 },
	{ "ip_version_6", m_ip_version_6, GRE_DROP_BAD_IP_HEADER },
	{ "ihl_4", m_ihl_4, GRE_DROP_BAD_IP_HEADER },
	{ "total_below_ihl", m_total_below_ihl, GRE_DROP_BAD_IP_HEADER },
	{ "ip_checksum", m_ip_cksum, GRE_DROP_BAD_IP_CHECKSUM },
	{ "more_fragments", m_mf, GRE_DROP_FRAGMENT },
	{ "fragment_offset", m_frag_offset, GRE_DROP_FRAGMENT },
	{ "no_df_is_fine", m_no_df, GRE_DROP_NONE },
	{ "not_gre", m_proto_esp, GRE_DROP_NOT_GRE },
	{ "gre_version_1", m_gre_version_1, GRE_DROP_BAD_GRE_VERSION },
	{ "gre_routing_bit", m_gre_routing, GRE_DROP_BAD_GRE_FLAGS },
	{ "gre_strict_route_bit", m_gre_strict_route, GRE_DROP_BAD_GRE_FLAGS },
	{ "gre_recursion_bit5", m_gre_recursion, GRE_DROP_BAD_GRE_FLAGS },
	/* RFC 2784 2.3: bits 6-12 "MUST be ignored on receipt" */
	{ "gre_bits_6_12_ignored", m_gre_ignored_bits, GRE_DROP_NONE },
	{ "no_key", m_no_key, GRE_DROP_NO_KEY },
	{ "key_bit_24", m_key_bit_24, GRE_DROP_BAD_KEY },
	{ "key_bits_24_30", m_key_bits_24_30, GRE_DROP_BAD_KEY },
	{ "proto_arp", m_proto_arp, GRE_DROP_UNKNOWN_PROTO },
	{ "proto_ipv6_v4_payload", m_proto_ipv6_for_v4, GRE_DROP_BAD_PAYLOAD },
	{ "payload_19_bytes", m_payload_19, GRE_DROP_BAD_PAYLOAD },
	{ "payload_not_ip", m_payload_not_ip, GRE_DROP_BAD_PAYLOAD },
	{ "feedback_empty_is_fine", m_feedback_empty, GRE_DROP_NONE },
	{ "ethernet_padding", m_eth_padding, GRE_DROP_NONE },
};

static void
test_decap_table(void **state)
{
	uint8_t base[MAX_PKT];
	size_t base_len = base_frame(base);
	size_t payload_len = base_len - GRE_ENCAP_LEN(1);

	(void)state;
	for (size_t c = 0; c < RTE_DIM(decap_cases); c++) {
		const struct decap_case *dc = &decap_cases[c];
		uint8_t f[MAX_PKT + 64] = { 0 };
		size_t len = base_len;
		struct gre_info gi;
		struct rte_mbuf *m;

		printf("# %s\n", dc->name);
		memcpy(f, base, base_len);
		dc->mutate(f, &len);
		if (decap_frame(f, len, NULL, dc->want, &gi, &m)) {
			size_t want_len = dc->mutate == m_feedback_empty ? 0 : payload_len;

			assert_int_equal(m->pkt_len, want_len);
			assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *),
					    base + GRE_ENCAP_LEN(1), want_len);
			assert_int_equal(gi.key, 5);
			assert_int_equal(gi.has_seq, 1);
			assert_int_equal(gi.seq, 0);
		}
		rte_pktmbuf_free(m);
	}
}

static void
test_decap_extras(void **state)
{
	uint8_t f[MAX_PKT];
	size_t len = csum_frame(f, 9, true);
	uint32_t local = rte_cpu_to_be_32(LINK_DST_IP);
	uint32_t other = rte_cpu_to_be_32(LINK_DST_IP + 1);
	struct gre_info gi;
	struct rte_mbuf *m;

	(void)state;
	/* the C bit: checksum verified and reported */
	assert_int_equal(decap_frame(f, len, &local, GRE_DROP_NONE, &gi, NULL), 1);
	assert_int_equal(gi.has_csum, 1);
	assert_int_equal(gi.key, 9);
	assert_int_equal(gi.seq, 42);
	f[len - 1] ^= 0x10; /* payload byte: the GRE checksum covers it */
	decap_frame(f, len, NULL, GRE_DROP_BAD_GRE_CHECKSUM, &gi, NULL);
	f[len - 1] ^= 0x10;
	decap_frame(f, len, &other, GRE_DROP_WRONG_DST, &gi, NULL);

	/* the NIC's verdict on the IP checksum is taken when it has one */
	f[OFF_IP + 10] ^= 0xff;
	m = t_mbuf_from(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	assert_int_equal(gre_decap_burst(&st, &m, &gi, 1), 1);
	rte_pktmbuf_free(m);
	f[OFF_IP + 10] ^= 0xff;
	struct gre_stats before = st;

	m = t_mbuf_from(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	assert_int_equal(gre_decap_burst(&st, &m, &gi, 1), 0);
	assert_int_equal(
		st.drops[GRE_DROP_BAD_IP_CHECKSUM] - before.drops[GRE_DROP_BAD_IP_CHECKSUM], 1);
	rte_pktmbuf_free(m);

	/* a chained mbuf */
	m = t_mbuf_from(f, 40);
	assert_int_equal(rte_pktmbuf_chain(m, t_mbuf_from(f + 40, len - 40)), 0);
	before = st;
	assert_int_equal(gre_decap_burst(&st, &m, &gi, 1), 0);
	assert_int_equal(st.drops[GRE_DROP_MULTI_SEGMENT] - before.drops[GRE_DROP_MULTI_SEGMENT],
			 1);
	seen[GRE_DROP_MULTI_SEGMENT] = true;
	rte_pktmbuf_free(m);
}

/* Every strict prefix of valid frames (all optional fields, and the router's usual one). */
static void
test_decap_truncation(void **state)
{
	uint8_t f[2][MAX_PKT];
	size_t lens[2] = { csum_frame(f[0], 3, true), base_frame(f[1]) };
	unsigned int runs = 0;
	struct gre_info gi;

	(void)state;
	for (int k = 0; k < 2; k++) {
		for (size_t len = 0; len < lens[k]; len++) {
			decap_frame(f[k], len, NULL, GRE_DROP_TRUNCATED, &gi, NULL);
			runs++;
		}
		decap_frame(f[k], lens[k], NULL, GRE_DROP_NONE, &gi, NULL);
	}
	printf("# %u prefixes\n", runs);
}

/* More than one chunk of GRE_BURST_MAX: the passed in order in front, the failed in order behind,
 * and each gre_info next to its packet. */
static void
test_burst_order(void **state)
{
	enum { N = 150 };
	struct rte_mbuf *m[N], *orig[N];
	uint32_t keys[N];
	struct gre_info info[N];
	struct gre_link l;
	uint8_t p[MAX_PKT];
	size_t n = make_payload(P_ESP4, p);
	uint16_t want_ok = 0;

	(void)state;
	link_init(&l, true);
	for (int i = 0; i < N; i++) {
		m[i] = rte_pktmbuf_alloc(t_pool);
		if (i % 3 == 1)
			m[i]->data_off = 8; /* no headroom */
		else
			want_ok++;
		memcpy(rte_pktmbuf_append(m[i], (uint16_t)n), p, n);
		keys[i] = (uint32_t)i;
		orig[i] = m[i];
	}
	uint16_t ok = gre_encap_burst(&l, m, keys, NULL, N, &st);

	uint32_t passed_key[N];

	assert_int_equal(ok, want_ok);
	for (int i = 0, a = 0, b = ok; i < N; i++) {
		if (i % 3 != 1)
			passed_key[a] = (uint32_t)i;
		assert_ptr_equal(m[i % 3 == 1 ? b++ : a++], orig[i]);
	}
	for (int i = ok; i < N; i++)
		rte_pktmbuf_free(m[i]);

	/* decap the good ones, every fourth spoiled */
	uint16_t n_dec = ok, want_dec = 0;

	for (int i = 0; i < n_dec; i++) {
		orig[i] = m[i];
		if (i % 4 == 2)
			rte_pktmbuf_mtod(m[i], uint8_t *)[OFF_IP + 10] ^= 1;
		else
			want_dec++;
	}
	ok = gre_decap_burst(&st, m, info, n_dec);
	assert_int_equal(ok, want_dec);
	for (int i = 0, a = 0, b = ok; i < n_dec; i++) {
		int at = i % 4 == 2 ? b++ : a++;

		assert_ptr_equal(m[at], orig[i]);
		if (at < ok) {
			/* the i-th packet encap passed got sequence number i */
			assert_int_equal(info[at].seq, (uint32_t)i);
			assert_int_equal(info[at].key, passed_key[i]);
		}
	}
	for (int i = 0; i < n_dec; i++)
		rte_pktmbuf_free(m[i]);
}

/* tshark decodes a capture of our frames: keys, protocol types, sequence numbers, checksums. */
static void
test_tshark(void **state)
{
	static const struct {
		enum payload payload;
		bool seq;
		uint32_t key;
		uint16_t proto;
		const char *want;
	} frames[] = {
		{ P_ESP4, false, 5, 0,
		  "0x00000005;0x0800;;47,50;1,1;;eth:ethertype:ip:gre:ip:esp" },
		{ P_ESP6_UDP, true, 7 | GRE_KEY_FILTERED, 0,
		  "0x80000007;0x86dd;0;47;1;;eth:ethertype:ip:gre:ipv6:udp:udpencap:esp" },
		{ P_TCP4, false, GRE_SLOT_PLAIN, 0,
		  "0x00ffffff;0x0800;;47,6;1,1;;eth:ethertype:ip:gre:ip:tcp" },
		{ P_FEEDBACK, true, 3, GRE_PROTO_FEEDBACK,
		  "0x00000003;0x88b5;1;47;1;;eth:ethertype:ip:gre:data" },
	};
	char pcap[512], cmd[1400], line[512];
	struct gre_link l;

	(void)state;
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("# tshark missing: skipped\n");
		skip();
	}
	mkdir(workdir, 0755);
	snprintf(pcap, sizeof(pcap), "%s/gre_link.pcap", workdir);
	FILE *pf = t_pcap_open(pcap);

	link_init(&l, false);
	for (size_t i = 0; i < RTE_DIM(frames); i++) {
		uint8_t p[MAX_PKT];
		size_t n = make_payload(frames[i].payload, p);
		struct rte_mbuf *m = t_mbuf_from(p, n);

		l.seq_on = frames[i].seq;
		assert_int_equal(gre_encap_burst(&l, &m, &frames[i].key,
						 frames[i].proto ? &frames[i].proto : NULL, 1, &st),
				 1);
		t_pcap_write(pf, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		rte_pktmbuf_free(m);
	}
	uint8_t f[MAX_PKT];
	size_t len = csum_frame(f, 11, true);

	t_pcap_write(pf, f, len);
	t_pcap_close(pf);

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.check_checksum:TRUE -T fields -e gre.key -e gre.proto "
		 "-e gre.sequence_number -e ip.proto -e ip.checksum.status -e gre.checksum.status "
		 "-e frame.protocols -E separator=';' 2>/dev/null",
		 pcap);
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	for (size_t i = 0; i <= RTE_DIM(frames); i++) {
		const char *want =
			i < RTE_DIM(frames)
				? frames[i].want
				: "0x0000000b;0x0800;42;47,50;1,1;1;eth:ethertype:ip:gre:ip:esp";

		assert_non_null(fgets(line, sizeof(line), p));
		line[strcspn(line, "\n")] = '\0';
		printf("# tshark: %s\n", line);
		assert_string_equal(line, want);
	}
	assert_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);

	/* and nothing malformed or in error anywhere */
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.check_checksum:TRUE -Y '_ws.malformed || "
		 "_ws.expert.severity == error' 2>/dev/null | wc -l",
		 pcap);
	p = popen(cmd, "r");
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(atoi(line), 0);
	pclose(p);
}

static void
test_coverage(void **state)
{
	(void)state;
	for (int r = 1; r < GRE_DROP_COUNT; r++)
		if (!seen[r])
			fail_msg("drop reason %s never exercised", gre_drop_name((enum gre_drop)r));
	assert_string_equal(gre_drop_name(GRE_DROP_NO_KEY), "no_key");
	assert_non_null(strstr(gre_drop_desc(GRE_DROP_NO_HEADROOM), "headroom"));
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s scratch-dir\n", argv[0]);
		return 2;
	}
	workdir = argv[1];
	t_eal_init(argv[0]);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	 cmocka_unit_test(test_encap_drops),
		cmocka_unit_test(test_decap_table),	 cmocka_unit_test(test_decap_extras),
		cmocka_unit_test(test_decap_truncation), cmocka_unit_test(test_burst_order),
		cmocka_unit_test(test_tshark),		 cmocka_unit_test(test_coverage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
