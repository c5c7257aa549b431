/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SAs and the inbound SPI table. An SA is built once from esp_sa_params: its keys go into guarded
 * memory (esp_crypto.c), its per-packet functions are chosen here, and outbound SAs get their outer
 * header template. The table is open addressing keyed by SPI: one control-thread writer, lock-free
 * readers (slots publish the SA pointer with release stores; deleted slots keep their SPI as a
 * tombstone).
 */
#include <errno.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>
#include <sodium.h>

#include "esp_priv.h"

static const char *const drop_names[ESP_DROP_COUNT] = { [ESP_DROP_NONE] = "none",
#define DROP_NAME(sym, name, desc) [ESP_DROP_##sym] = name,
							ESP_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};

static const char *const drop_descs[ESP_DROP_COUNT] = { [ESP_DROP_NONE] = "not dropped",
#define DROP_DESC(sym, name, desc) [ESP_DROP_##sym] = desc,
							ESP_DROP_REASONS(DROP_DESC)
#undef DROP_DESC
};

const char *
esp_drop_name(enum esp_drop reason)
{
	return (unsigned)reason < ESP_DROP_COUNT ? drop_names[reason] : "invalid";
}

const char *
esp_drop_desc(enum esp_drop reason)
{
	return (unsigned)reason < ESP_DROP_COUNT ? drop_descs[reason] : "invalid";
}

static const char *const aead_names[ESP_AEAD_COUNT] = {
#define AEAD_NAME(sym, name) [ESP_AEAD_##sym] = name,
	ESP_AEADS(AEAD_NAME)
#undef AEAD_NAME
};

int
esp_aead_from_name(const char *name, enum esp_aead *out)
{
	for (int i = 0; i < ESP_AEAD_COUNT; i++) {
		if (strcmp(name, aead_names[i]) == 0) {
			*out = (enum esp_aead)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
esp_aead_name(enum esp_aead aead)
{
	return (unsigned)aead < ESP_AEAD_COUNT ? aead_names[aead] : "invalid";
}

/* -- SA ---------------------------------------------------------------------------------------- */

static bool
params_valid(const struct esp_sa_params *p)
{
	if (p->spi < 256) /* RFC 4303 2.1: 1..255 reserved, 0 local use */
		return false;
	if ((unsigned)p->aead >= ESP_AEAD_COUNT || p->keymat == NULL ||
	    p->keymat_len != esp_aead_keymat_len(p->aead))
		return false;
	if (p->mode != ESP_MODE_TUNNEL && p->mode != ESP_MODE_TRANSPORT)
		return false;
	if (p->dir != ESP_DIR_INBOUND && p->dir != ESP_DIR_OUTBOUND)
		return false;
	if ((p->local.family != 4 && p->local.family != 6) || p->local.family != p->remote.family)
		return false;
	if (p->n_local_ts > ESP_MAX_TS || p->n_remote_ts > ESP_MAX_TS)
		return false;
	return true;
}

/* Outer header template for outbound packets: lengths and the IPv4 checksum are filled per packet.
 */
static void
build_outer_template(struct esp_sa *sa)
{
	const struct esp_sa_params *p = &sa->params;
	uint8_t *t = sa->rt.outer_tmpl;
	uint8_t len = 0;
	uint8_t next = (p->udp_encap) ? IPPROTO_UDP_NUM : IPPROTO_ESP_NUM;

	if (p->mode == ESP_MODE_TUNNEL && p->local.family == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)t;

		h->version_ihl = 0x45;
		h->time_to_live = 64;
		h->next_proto_id = next;
		h->src_addr = p->local.v4;
		h->dst_addr = p->remote.v4;
		len = sizeof(*h);
		sa->rt.outer_ck_base = ipv4_tmpl_sum(t);
	} else if (p->mode == ESP_MODE_TUNNEL) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)t;

		h->vtc_flow = rte_cpu_to_be_32(6u << 28);
		h->proto = next;
		h->hop_limits = 64;
		memcpy(h->src_addr, p->local.v6, 16);
		memcpy(h->dst_addr, p->remote.v6, 16);
		len = sizeof(*h);
	}
	if (p->udp_encap) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(t + len);

		u->src_port =
			rte_cpu_to_be_16(p->udp_local_port ? p->udp_local_port : ESP_UDP_PORT);
		u->dst_port =
			rte_cpu_to_be_16(p->udp_remote_port ? p->udp_remote_port : ESP_UDP_PORT);
		u->dgram_cksum = 0; /* IPv4: zero (RFC 3948 2.1); IPv6: set per packet */
		len += sizeof(*u);
	}
	sa->rt.outer_len = len;
}

int
esp_sa_create(const struct esp_sa_params *p, struct esp_lcore *lc, struct esp_sa **out)
{
	struct esp_sa *sa;
	int rc;

	if (!params_valid(p))
		return -EINVAL;
	sa = rte_zmalloc("esp_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);
	if (sa == NULL)
		return -ENOMEM;

	sa->params = *p;
	sa->params.keymat = NULL;
	sa->rt.spi_be = rte_cpu_to_be_32(p->spi);
	sa->rt.aead = (uint8_t)p->aead;
	sa->rt.mode = (uint8_t)p->mode;
	sa->rt.dir = (uint8_t)p->dir;
	sa->rt.decap = p->mode == ESP_MODE_TUNNEL ? esp_decap_tunnel : esp_decap_transport;
	sa->rt.flags = (p->udp_encap ? ESP_SA_F_UDP : 0) | (p->esn ? ESP_SA_F_ESN : 0) |
		       (p->local.family == 6 ? ESP_SA_F_OUTER_V6 : 0) |
		       (p->n_local_ts + p->n_remote_ts > 0 ? ESP_SA_F_CHECK_TS : 0);

	rc = esp_replay_init(&sa->replay, p->dir == ESP_DIR_INBOUND ? p->replay_window : 0, p->esn);
	if (rc != 0)
		goto free_sa;

	size_t key_len = esp_aead_key_len(p->aead);

	memcpy(sa->rt.salt, p->keymat + key_len, ESP_SALT_LEN);
	rc = esp_crypto_sa_init(lc, sa, p->keymat, key_len);
	if (rc != 0)
		goto free_sa;
	if (p->dir == ESP_DIR_OUTBOUND)
		build_outer_template(sa);
	*out = sa;
	return 0;

free_sa:
	sodium_memzero(sa, sizeof(*sa));
	rte_free(sa);
	return rc;
}

void
esp_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	sodium_free(sa->guarded); /* wipes */
	sodium_memzero(sa, sizeof(*sa));
	rte_free(sa);
}

/* -- SPI table --------------------------------------------------------------------------------- */

struct esp_sa_slot {
	uint32_t spi_be; /* 0 = never used; a deleted slot keeps its SPI */
	struct esp_sa *_Atomic sa;
};

struct esp_sa_table {
	uint32_t mask;
	uint32_t used; /* slots ever taken, tombstones included */
	struct esp_sa_slot slots[];
};

static inline uint32_t
spi_hash(uint32_t spi_be)
{
	return (uint32_t)(((uint64_t)spi_be * 0x9E3779B97F4A7C15ull) >> 32);
}

struct esp_sa_table *
esp_sa_table_create(uint32_t capacity)
{
	uint32_t n = 16;

	while (n < capacity * 2u && n < (1u << 30)) /* load factor <= 1/2 */
		n <<= 1;
	struct esp_sa_table *t = rte_zmalloc(
		"esp_sa_table", sizeof(*t) + n * sizeof(struct esp_sa_slot), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return NULL;
	t->mask = n - 1;
	return t;
}

void
esp_sa_table_free(struct esp_sa_table *t)
{
	rte_free(t);
}

struct esp_sa *
esp_sa_table_lookup(const struct esp_sa_table *t, uint32_t spi_be)
{
	uint32_t i = spi_hash(spi_be) & t->mask;

	for (uint32_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		const struct esp_sa_slot *s = &t->slots[i];
		uint32_t spi = __atomic_load_n(&s->spi_be, __ATOMIC_ACQUIRE);

		if (spi == spi_be)
			return atomic_load_explicit(&s->sa, memory_order_acquire);
		if (spi == 0)
			return NULL;
	}
	return NULL;
}

int
esp_sa_table_add(struct esp_sa_table *t, struct esp_sa *sa)
{
	if (sa->rt.dir != ESP_DIR_INBOUND)
		return -EINVAL;

	uint32_t i = spi_hash(sa->rt.spi_be) & t->mask;

	for (uint32_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		struct esp_sa_slot *s = &t->slots[i];

		if (s->spi_be == sa->rt.spi_be) {
			/* reuse the tombstone of the same SPI */
			if (atomic_load_explicit(&s->sa, memory_order_relaxed) != NULL)
				return -EEXIST;
			atomic_store_explicit(&s->sa, sa, memory_order_release);
			return 0;
		}
		if (s->spi_be == 0) {
			if (t->used + 1 > (t->mask + 1) / 2)
				return -ENOSPC;
			atomic_store_explicit(&s->sa, sa, memory_order_relaxed);
			__atomic_store_n(&s->spi_be, sa->rt.spi_be, __ATOMIC_RELEASE);
			t->used++;
			return 0;
		}
	}
	return -ENOSPC;
}

struct esp_sa *
esp_sa_table_del(struct esp_sa_table *t, uint32_t spi)
{
	uint32_t spi_be = rte_cpu_to_be_32(spi);
	uint32_t i = spi_hash(spi_be) & t->mask;

	for (uint32_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		struct esp_sa_slot *s = &t->slots[i];

		if (s->spi_be == spi_be)
			return atomic_exchange_explicit(&s->sa, NULL, memory_order_acq_rel);
		if (s->spi_be == 0)
			return NULL;
	}
	return NULL;
}
