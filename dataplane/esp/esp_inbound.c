/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound ESP stage: outer parse -> SA by SPI -> replay pre-check -> AEAD open (ICV verify +
 * decrypt, in place) -> replay update (authenticated numbers only) -> trailer checks ->
 * decapsulation -> selector check. Exits: passed packets (front of the burst, data at the cleartext
 * IP packet, next: the TAP or the caller), failed packets (behind them, each counted under one drop
 * reason; the caller frees them). Three passes over the burst so ChaCha20-Poly1305 jobs can be
 * batched by IPsec-MB between them.
 */
#include <rte_ip.h>

#include "esp_priv.h"

struct in_pkt {
	struct esp_aead_op op;
	struct esp_pkt_info pi;
	struct esp_sa *sa;
	uint64_t seq;
	bool check_ts;
};

/* The SA by SPI from the table, or the one the caller names (the target: from the link's key),
 * which must carry this SPI. */
static enum esp_drop
find_sa(const struct esp_sa_table *tbl, struct esp_sa *given, uint32_t spi_be, struct esp_sa **sa)
{
	if (tbl != NULL) {
		*sa = esp_sa_table_lookup(tbl, spi_be);
		return *sa == NULL ? ESP_DROP_UNKNOWN_SPI : ESP_DROP_NONE;
	}
	if (given == NULL)
		return ESP_DROP_UNKNOWN_SPI;
	if (given->rt.spi_be != spi_be)
		return ESP_DROP_SPI_MISMATCH;
	if (given->rt.dir != ESP_DIR_INBOUND)
		return ESP_DROP_WRONG_SA;
	*sa = given;
	return ESP_DROP_NONE;
}

static enum esp_drop
prepare(const struct esp_sa_table *tbl, struct esp_sa *given, struct rte_mbuf *m, struct in_pkt *p)
{
	if (m->nb_segs != 1)
		return ESP_DROP_MULTI_SEGMENT;

	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	enum esp_drop why = esp_parse_outer(ip, m->data_len, &p->pi);

	if (why != ESP_DROP_NONE)
		return why;

	uint8_t *esp = ip + p->pi.esp_off;
	uint32_t esp_len = p->pi.ip_len - p->pi.esp_off;

	if (esp_len < ESP_HDR_LEN)
		return ESP_DROP_TRUNCATED;

	uint32_t spi_be;
	struct esp_sa *sa;

	memcpy(&spi_be, esp, sizeof(spi_be));
	why = find_sa(tbl, given, spi_be, &sa);
	if (why != ESP_DROP_NONE)
		return why;
	if (!!(sa->rt.flags & ESP_SA_F_UDP) != p->pi.udp)
		return ESP_DROP_ENCAP_MISMATCH;
	if ((p->pi.family == 6) != !!(sa->rt.flags & ESP_SA_F_OUTER_V6))
		return ESP_DROP_WRONG_SA;
	if (esp_len < ESP_PAYLOAD_OFF + ESP_MIN_CIPHERTEXT + ESP_ICV_LEN)
		return ESP_DROP_BAD_LENGTH;

	uint32_t ct_len = esp_len - ESP_PAYLOAD_OFF - ESP_ICV_LEN;

	if (ct_len % 4 != 0)
		return ESP_DROP_BAD_LENGTH;

	p->seq = esp_replay_full_seq(&sa->replay, load_be32(esp + 4));
	switch (esp_replay_check(&sa->replay, p->seq)) {
	case ESP_REPLAY_OK:
		break;
	case ESP_REPLAY_DUPLICATE:
		return ESP_DROP_REPLAY_DUPLICATE;
	default:
		return ESP_DROP_REPLAY_OLD;
	}
	p->sa = sa;
	p->op.data = esp + ESP_PAYLOAD_OFF;
	p->op.len = ct_len;
	p->op.icv = p->op.data + ct_len;
	esp_build_nonce_aad(sa, esp, p->seq, &p->op);
	return ESP_DROP_NONE;
}

static enum esp_drop
check_inner(const uint8_t *in, uint32_t len, uint8_t next_hdr, uint32_t *inner_len)
{
	if (next_hdr == IPPROTO_IPIP_NUM) {
		if (len < 20 || (in[0] >> 4) != 4 || (in[0] & 0xf) < 5)
			return ESP_DROP_BAD_INNER;
		uint32_t tot = load_be16(in + 2);

		if (tot < (in[0] & 0xfu) * 4u || tot > len)
			return ESP_DROP_BAD_INNER;
		*inner_len = tot; /* anything after it is TFC padding */
		return ESP_DROP_NONE;
	}
	if (next_hdr == IPPROTO_IPV6_NUM) {
		if (len < 40 || (in[0] >> 4) != 6)
			return ESP_DROP_BAD_INNER;
		uint32_t tot = 40u + load_be16(in + 4);

		if (tot > len)
			return ESP_DROP_BAD_INNER;
		*inner_len = tot;
		return ESP_DROP_NONE;
	}
	return ESP_DROP_BAD_NEXT_HEADER;
}

/* Tunnel mode: the inner packet becomes the packet. */
enum esp_drop
esp_decap_tunnel(struct rte_mbuf *m, const struct esp_sa *sa, const struct esp_pkt_info *pi,
		 uint8_t *payload, uint32_t payload_len, uint8_t next_hdr, bool check_ts)
{
	uint32_t inner_len;
	enum esp_drop why = check_inner(payload, payload_len, next_hdr, &inner_len);

	if (why != ESP_DROP_NONE)
		return why;
	if (check_ts && (sa->rt.flags & ESP_SA_F_CHECK_TS) &&
	    !esp_selectors_match(&sa->params, payload, inner_len))
		return ESP_DROP_SELECTOR;
	rte_pktmbuf_adj(m, (uint16_t)(pi->esp_off + ESP_PAYLOAD_OFF));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - inner_len));
	return ESP_DROP_NONE;
}

/* Transport mode: slide the outer IP header up to the payload, name the upper protocol, fix
 * lengths. */
enum esp_drop
esp_decap_transport(struct rte_mbuf *m, const struct esp_sa *sa, const struct esp_pkt_info *pi,
		    uint8_t *payload, uint32_t payload_len, uint8_t next_hdr, bool check_ts)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t l3 = pi->l3_len;
	uint8_t *hdr = payload - l3;

	RTE_SET_USED(sa);
	RTE_SET_USED(check_ts);
	memmove(hdr, ip, l3);
	hdr[pi->proto_off] = next_hdr;
	if (pi->family == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)hdr;

		h->total_length = rte_cpu_to_be_16((uint16_t)(l3 + payload_len));
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		store_be16(hdr + 4, (uint16_t)(l3 - 40 + payload_len));
	}
	rte_pktmbuf_adj(m, (uint16_t)(hdr - ip));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - l3 - payload_len));
	return ESP_DROP_NONE;
}

static enum esp_drop
finish(struct rte_mbuf *m, struct in_pkt *p)
{
	struct esp_sa *sa = p->sa;

	if (p->op.status != ESP_DROP_NONE)
		return (enum esp_drop)p->op.status;
	switch (esp_replay_update(&sa->replay, p->seq)) {
	case ESP_REPLAY_OK:
		break;
	case ESP_REPLAY_DUPLICATE: /* an earlier packet of this burst had the same number */
		return ESP_DROP_REPLAY_DUPLICATE;
	default:
		return ESP_DROP_REPLAY_OLD;
	}

	const uint8_t *ct = p->op.data;
	uint32_t len = p->op.len;
	uint8_t next_hdr = ct[len - 1];
	uint8_t pad_len = ct[len - 2];

	if (pad_len + 2u > len)
		return ESP_DROP_BAD_PADDING;

	uint32_t payload_len = len - 2 - pad_len;

	/* RFC 4303 2.4: padding bytes are 1, 2, 3, ... */
	for (uint32_t i = 0; i < pad_len; i++)
		if (ct[payload_len + i] != (uint8_t)(i + 1))
			return ESP_DROP_BAD_PADDING;
	if (next_hdr == IPPROTO_NONE_NUM)
		return ESP_DROP_DUMMY;

	sa->rt.packets++;
	sa->rt.bytes += payload_len;
	return sa->rt.decap(m, sa, &p->pi, p->op.data, payload_len, next_hdr, p->check_ts);
}

static uint16_t
inbound_chunk(struct esp_lcore *lc, const struct esp_sa_table *tbl, struct rte_mbuf **pkts,
	      struct esp_sa **sas, uint64_t *seqs, uint64_t skip_ts, uint16_t n)
{
	struct in_pkt p[ESP_BURST_MAX];
	uint8_t drop[ESP_BURST_MAX];

	for (uint16_t i = 0; i < n; i++) {
		drop[i] = prepare(tbl, tbl ? NULL : sas[i], pkts[i], &p[i]);
		p[i].check_ts = !(skip_ts >> i & 1);
	}
	/* a tight crypto loop: IPsec-MB's code and key schedule stay hot */
	for (uint16_t i = 0; i < n; i++)
		if (drop[i] == ESP_DROP_NONE)
			p[i].sa->rt.open(lc, p[i].sa, &p[i].op);
	esp_crypto_flush(lc);
	for (uint16_t i = 0; i < n; i++) {
		if (drop[i] == ESP_DROP_NONE)
			drop[i] = finish(pkts[i], &p[i]);
		if (drop[i] != ESP_DROP_NONE) {
			esp_count_drop(lc, drop[i]);
			continue;
		}
		sas[i] = p[i].sa;
		if (seqs != NULL)
			seqs[i] = p[i].seq;
		lc->stats.in_packets++;
		lc->stats.in_bytes += pkts[i]->pkt_len;
	}
	if (seqs != NULL)
		esp_compact_u64(seqs, drop, n);
	return esp_compact(pkts, (void **)sas, drop, n);
}

uint16_t
esp_inbound_burst(struct esp_lcore *lc, const struct esp_sa_table *tbl, struct rte_mbuf **pkts,
		  struct esp_sa **sas, uint16_t n)
{
	uint16_t done = 0, ok = 0;

	/* chunks keep per-packet state on the stack */
	while (done < n) {
		uint16_t c = RTE_MIN((uint16_t)(n - done), (uint16_t)ESP_BURST_MAX);
		uint16_t passed = inbound_chunk(lc, tbl, pkts + done, sas + done, NULL, 0, c);

		esp_merge_chunk(pkts, (void **)sas, ok, done, passed);
		ok += passed;
		done += c;
	}
	return ok;
}

uint16_t
esp_inbound_burst_sa(struct esp_lcore *lc, struct rte_mbuf **pkts, struct esp_sa **sas,
		     uint64_t *seqs, uint64_t skip_ts, uint16_t n)
{
	RTE_ASSERT(n <= ESP_BURST_MAX);
	return inbound_chunk(lc, NULL, pkts, sas, seqs, skip_ts, n);
}
