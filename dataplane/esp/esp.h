/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ESP engine shared by the router and the targets: SAs built from esp_sa_params, an SPI table,
 * per-lcore contexts, and burst stages for inbound (decrypt and decapsulate), outbound (encapsulate
 * and encrypt) and peek (decrypt the first bytes only, for the router's flow lookup).
 *
 * Packets are single-segment mbufs whose data starts at the outer IP header; the caller strips and
 * rebuilds layer 2. Burst stages return how many packets continue: those are at the front of the
 * array in their original order; the failed ones are moved behind them, and the CALLER owns (and
 * frees) both. Every failure bumps exactly one per-lcore drop counter.
 *
 * Threading: an SA's inbound state (replay window, counters) has one writer lcore at a time; the SA
 * table is written by one control thread and read lock-free (SAs are freed by the caller after its
 * readers have quiesced).
 */
#ifndef DVIPSEC_ESP_H
#define DVIPSEC_ESP_H

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "esp_drop.h"
#include "esp_replay.h"
#include "esp_types.h"

#define ESP_BURST_MAX	   64
#define ESP_HDR_LEN	   8 /* SPI + sequence number */
#define ESP_IV_OFF	   ESP_HDR_LEN
#define ESP_PAYLOAD_OFF	   (ESP_HDR_LEN + ESP_IV_LEN)
#define ESP_MIN_CIPHERTEXT 4 /* pad length + next header, 4-byte aligned */
#define ESP_PEEK_MAX	   64

struct IMB_MGR;
struct esp_lcore;
struct esp_sa;

/* One AEAD operation in place: inbound it decrypts and computes the tag to compare, outbound it
 * encrypts and writes the ICV. The SA's backend either finishes it at once or leaves it pending
 * until esp_crypto_flush(). */
struct esp_aead_op {
	uint8_t *data;
	uint8_t *icv;
	uint32_t len;
	uint8_t aad_len;
	uint8_t status; /* enum esp_drop: NONE, ICV_MISMATCH or CRYPTO_ERROR */
	uint8_t nonce[12];
	uint8_t aad[12];
	uint8_t tag[ESP_ICV_LEN];
};

typedef void (*esp_aead_fn)(struct esp_lcore *lc, const struct esp_sa *sa, struct esp_aead_op *op);
struct esp_pkt_info;
typedef enum esp_drop (*esp_decap_fn)(struct rte_mbuf *m, const struct esp_sa *sa,
				      const struct esp_pkt_info *pi, uint8_t *payload,
				      uint32_t payload_len, uint8_t next_hdr, bool check_ts);
/* Peek backend: the keystream for payload bytes [off, off + len) XORed from in (= payload + off)
 * into out; off % 16 + len <= ESP_PEEK_MAX. */
typedef void (*esp_peek_fn)(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *iv,
			    uint32_t off, const uint8_t *in, uint8_t *out, uint32_t len);

enum esp_sa_flags {
	ESP_SA_F_UDP = 1u << 0,	     /* ESP-in-UDP */
	ESP_SA_F_ESN = 1u << 1,	     /* 64-bit sequence numbers */
	ESP_SA_F_OUTER_V6 = 1u << 2, /* outer header is IPv6 */
	ESP_SA_F_CHECK_TS = 1u << 3, /* selectors to check after decryption */
};

/* What the per-packet path reads; one cache line pair, size pinned below. */
struct esp_sa_rt {
	uint32_t spi_be;
	uint8_t aead;  /* enum esp_aead */
	uint8_t mode;  /* enum esp_mode */
	uint8_t dir;   /* enum esp_dir */
	uint8_t flags; /* enum esp_sa_flags */
	uint8_t salt[ESP_SALT_LEN];
	uint8_t outer_len; /* outbound: bytes of outer IP (+UDP) header in outer_tmpl (tunnel) */
	uint8_t pad0[3];
	const void *key; /* guarded key schedule: IPsec-MB gcm_key_data, or the ChaCha20 key */
	esp_aead_fn seal;
	esp_aead_fn open;
	esp_peek_fn peek;
	esp_decap_fn decap; /* inbound: tunnel or transport, chosen once per SA */
	uint64_t packets;   /* inbound: authenticated; outbound: sent */
	uint64_t bytes;
	uint8_t outer_tmpl[48]; /* outbound: tunnel IPv4/IPv6 header, then the UDP header if any */
	uint32_t outer_ck_base; /* outbound IPv4 tunnel: RFC 1071 sum of the template's 16-bit words
				 * (big-endian values; TOS, length, id and checksum 0) */
	uint8_t pad1[4];
} __rte_cache_aligned;
static_assert(sizeof(struct esp_sa_rt) == 2 * RTE_CACHE_LINE_SIZE, "esp_sa_rt must stay two lines");

struct esp_sa {
	struct esp_sa_rt rt;
	uint32_t slot;	  /* cluster-wide SA slot: GRE key on the trusted link, index in
			     the targets' SA tables; set by the owner */
	uint32_t flow_id; /* the router's connection-table id for this SA's flows: that of the first
			     SA of its rekey chain, so connections keep their target across a
			     rekey; set by the owner */
	struct esp_replay replay;    /* inbound */
	struct esp_sa_params params; /* keymat cleared: keys live only in the guarded area */
	void *guarded;		     /* sodium_malloc'd key schedule */
} __rte_cache_aligned;

/* Per-lcore counters, summed by telemetry. */
struct esp_stats {
	uint64_t in_packets;
	uint64_t in_bytes;
	uint64_t out_packets;
	uint64_t out_bytes;
	uint64_t drops[ESP_DROP_COUNT];
};

struct esp_lcore {
	struct IMB_MGR *mgr;
	uint16_t ip_id;
	uint16_t jobs_pending;
	struct esp_stats stats;
} __rte_cache_aligned;

/* -- lcore and crypto -------------------------------------------------------------------------- */

/* Allocates this lcore's IPsec-MB manager (best architecture the CPU has). 0 or -ENOMEM/-ENOTSUP.
 */
int esp_lcore_init(struct esp_lcore *lc);
void esp_lcore_fini(struct esp_lcore *lc);
/* Completes every pending AEAD operation of this lcore. */
void esp_crypto_flush(struct esp_lcore *lc);
const char *esp_crypto_arch_name(const struct esp_lcore *lc);

/* -- SAs --------------------------------------------------------------------------------------- */

/* Builds an SA: copies the keying material into guarded memory, precomputes the key schedule and
 * chooses the per-SA functions. 0 or -EINVAL (bad params) / -ENOMEM. */
int esp_sa_create(const struct esp_sa_params *p, struct esp_lcore *lc, struct esp_sa **out);
/* Wipes the keys and frees. NULL is fine. */
void esp_sa_free(struct esp_sa *sa);

struct esp_sa_table;

struct esp_sa_table *esp_sa_table_create(uint32_t capacity);
void esp_sa_table_free(struct esp_sa_table *t);
/* Inbound SAs by SPI. -EEXIST, -ENOSPC, -EINVAL (not inbound). */
int esp_sa_table_add(struct esp_sa_table *t, struct esp_sa *sa);
/* Unlinks and returns the SA (the caller frees it after readers quiesce), or NULL. */
struct esp_sa *esp_sa_table_del(struct esp_sa_table *t, uint32_t spi);
struct esp_sa *esp_sa_table_lookup(const struct esp_sa_table *t, uint32_t spi_be);

/* -- header parsing (shared with the router's classifier) -------------------------------------- */

struct esp_pkt_info {
	uint16_t ip_len;  /* IP packet length per its header; the mbuf may hold trailing padding */
	uint16_t l3_len;  /* outer IP header including walked IPv6 extension headers */
	uint16_t esp_off; /* offset of the SPI from the IP header */
	uint16_t proto_off; /* offset of the byte that says ESP/UDP (v4 protocol, v6 next header) */
	uint8_t family;	    /* 4 or 6 */
	uint8_t udp;	    /* ESP-in-UDP */
};

/* Parses the outer IPv4/IPv6 (+UDP 4500) headers of an ESP packet. Returns ESP_DROP_NONE or why
 * not. */
enum esp_drop esp_parse_outer(const uint8_t *ip, uint32_t len, struct esp_pkt_info *pi);

/* Selector check (RFC 4301 5.2 "tunnel check") of an inbound cleartext inner IP packet, or of its
 * first len bytes: inner source in the peer's selectors, destination in ours, protocol and ports
 * included when len reaches them. */
bool esp_selectors_match(const struct esp_sa_params *p, const uint8_t *ip, uint32_t len);
/* The same for an outbound cleartext packet: source in our selectors, destination in the peer's
 * (which SA covers a reply). */
bool esp_selectors_match_out(const struct esp_sa_params *p, const uint8_t *ip, uint32_t len);

/* -- stages ------------------------------------------------------------------------------------ */

/* Inbound: SA by SPI, replay check, ICV verify and decrypt, replay update, trailer checks,
 * decapsulation (tunnel: the inner packet; transport: the original packet rebuilt), selector check.
 * sas[i] receives the SA of each packet that passed. */
uint16_t esp_inbound_burst(struct esp_lcore *lc, const struct esp_sa_table *tbl,
			   struct rte_mbuf **pkts, struct esp_sa **sas, uint16_t n);

/* The same with each packet's SA named by the caller (the target: from the trusted link's key):
 * sas[i] in, whose SPI the packet must carry (else spi_mismatch). Bit i of skip_ts set: the router
 * already checked the traffic selectors of packet i. seqs (may be NULL) receives the authenticated
 * full sequence number of each passed packet, in the same order. n <= ESP_BURST_MAX. */
uint16_t esp_inbound_burst_sa(struct esp_lcore *lc, struct rte_mbuf **pkts, struct esp_sa **sas,
			      uint64_t *seqs, uint64_t skip_ts, uint16_t n);

/* Outbound: encapsulate and encrypt pkts[i] (a cleartext IP packet) with sas[i] using sequence
 * number seqs[i], supplied by the caller (later the coupling facility) and used as the IV as well.
 */
uint16_t esp_outbound_burst(struct esp_lcore *lc, struct esp_sa *const *sas, struct rte_mbuf **pkts,
			    const uint64_t *seqs, uint16_t n);

/* Peek: writes the first len (<= ESP_PEEK_MAX) bytes of the decrypted payload of the ESP packet at
 * esp (from the SPI, esp_len bytes through the ICV) to out. Does not touch the packet and does not
 * verify the ICV: the result is a hint for flow lookup only. Returns the bytes written (fewer than
 * len when the payload is shorter), or -EINVAL when the packet cannot be ESP for this SA. */
/* The same for payload bytes [off, off + len); off % 16 + len <= ESP_PEEK_MAX. Inline: the
 * router calls it for every packet. */
static inline int
esp_peek_at(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	    uint32_t off, uint8_t *out, uint32_t len)
{
	if (esp_len < ESP_PAYLOAD_OFF + ESP_MIN_CIPHERTEXT + ESP_ICV_LEN || len > ESP_PEEK_MAX ||
	    off % 16 + len > ESP_PEEK_MAX)
		return -EINVAL;

	uint32_t avail = esp_len - ESP_PAYLOAD_OFF - ESP_ICV_LEN;

	if (off >= avail)
		return -EINVAL;

	uint32_t n = len < avail - off ? len : avail - off;

	sa->rt.peek(lc, sa, esp + ESP_IV_OFF, off, esp + ESP_PAYLOAD_OFF + off, out, n);
	return (int)n;
}

static inline int
esp_peek(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	 uint8_t *out, uint32_t len)
{
	return esp_peek_at(lc, sa, esp, esp_len, 0, out, len);
}
/* The trailer's next header (transport mode: the upper protocol), decrypted without the ICV check:
 * 0..255, or -EINVAL. */
int esp_peek_next_header(struct esp_lcore *lc, const struct esp_sa *sa, const uint8_t *esp,
			 uint32_t esp_len);

#endif /* DVIPSEC_ESP_H */
