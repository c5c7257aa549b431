/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the unit tests: an EAL without hugepages, an mbuf pool, hex and JSON vector files. */
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sodium.h>

#include "test_common.h"

struct rte_mempool *t_pool;

void
t_eal_init(const char *prog)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=dvt%d", (int)getpid());
	char *argv[] = { (char *)prog, "--no-huge",   "--no-pci", "-m",
			 "256",	       "--no-shconf", prefix,	  "--log-level=*:error",
			 NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", prog);
		exit(1);
	}
	if (sodium_init() < 0)
		exit(1);
	t_pool = rte_pktmbuf_pool_create("t_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	if (t_pool == NULL) {
		fprintf(stderr, "%s: mbuf pool: %s\n", prog, rte_strerror(rte_errno));
		exit(1);
	}
}

struct rte_mbuf *
t_mbuf_from(const uint8_t *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);

	assert_non_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

	assert_non_null(p);
	memcpy(p, data, len);
	return m;
}

int
t_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t bin_len;
	const char *end;

	if (sodium_hex2bin(out, max, hex, strlen(hex), NULL, &bin_len, &end) != 0 || *end != '\0')
		return -1;
	return (int)bin_len;
}

void
t_to_hex(const uint8_t *in, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, in, len);
}

json_t *
t_load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	if (j == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	return j;
}

const char *
t_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL)
		fail_msg("vector lacks string \"%s\"", key);
	return s;
}

uint64_t
t_json_u64(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	/* JSON integers above 2^63 do not fit Jansson's: such values come as "0x..." strings */
	if (json_is_string(v)) {
		char *end;
		uint64_t u = strtoull(json_string_value(v), &end, 0);

		if (*end == '\0' && end != json_string_value(v))
			return u;
	}
	if (!json_is_integer(v))
		fail_msg("vector lacks integer \"%s\"", key);
	return (uint64_t)json_integer_value(v);
}

static void
addr_from_header(const uint8_t *ip, bool dst, struct esp_addr *a)
{
	a->family = ip[0] >> 4;
	if (a->family == 4)
		memcpy(&a->v4, ip + (dst ? 16 : 12), 4);
	else
		memcpy(a->v6, ip + (dst ? 24 : 8), 16);
}

void
t_params_from_vector(const json_t *v, enum esp_dir dir, struct esp_sa_params *p, uint8_t *keymat)
{
	uint8_t outer[128];
	int outer_len;

	memset(p, 0, sizeof(*p));
	assert_int_equal(esp_aead_from_name(t_json_str(v, "aead"), &p->aead), 0);
	int kl = t_hex(t_json_str(v, "keymat"), keymat, ESP_MAX_KEYMAT_LEN);

	assert_true(kl > 0);
	p->keymat = keymat;
	p->keymat_len = (size_t)kl;
	p->spi = (uint32_t)t_json_u64(v, "spi");
	p->dir = dir;
	p->esn = json_is_true(json_object_get(v, "esn"));
	p->mode = strcmp(t_json_str(v, "mode"), "transport") == 0 ? ESP_MODE_TRANSPORT
								  : ESP_MODE_TUNNEL;
	p->udp_encap = strcmp(t_json_str(v, "encap"), "udp") == 0;
	p->replay_window = 64;
	outer_len = t_hex(t_json_str(v, "outer"), outer, sizeof(outer));
	if (outer_len >= 20) {
		/* the vector's packet travels remote -> local for inbound */
		addr_from_header(outer, true, &p->local);
		addr_from_header(outer, false, &p->remote);
		if (dir == ESP_DIR_OUTBOUND) {
			struct esp_addr t = p->local;

			p->local = p->remote;
			p->remote = t;
		}
		if (p->udp_encap) {
			uint32_t l3 = p->local.family == 4 ? 20 : 40;
			uint16_t sport = (uint16_t)(outer[l3] << 8 | outer[l3 + 1]);
			uint16_t dport = (uint16_t)(outer[l3 + 2] << 8 | outer[l3 + 3]);

			p->udp_local_port = dir == ESP_DIR_INBOUND ? dport : sport;
			p->udp_remote_port = dir == ESP_DIR_INBOUND ? sport : dport;
		}
	} else {
		p->local.family = p->remote.family = 4;
		p->local.v4 = rte_cpu_to_be_32(0xc0000201);
		p->remote.v4 = rte_cpu_to_be_32(0xc000020a);
	}
}

uint64_t
t_drops(const struct esp_lcore *lc, enum esp_drop why)
{
	return lc->stats.drops[why];
}
