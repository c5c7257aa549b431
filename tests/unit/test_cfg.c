/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader tests, good paths: the shipped conf/{router,target1,target2}.json load and agree
 * with each other and with the demo topology; a base router and target config come out field by
 * field (static SAs included, down to the keymat bytes); the "ike" object field by field, its
 * defaults, its peer limit against the key block, and its names; file errors. The table of bad
 * configs is in test_cfg_bad.c.
 *
 * meson passes the source root in DVIPSEC_SOURCE_ROOT (conf/ and tests/cfg/ are read from there).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>

#include "cfg.h"
#include "test_cfg.h"

const char base_router[] =
	"{'eal': ['-l', '0-1', '--no-huge'],"
	" 'dvipa': ['192.0.2.1', '2001:db8::1'],"
	" 'ports': [{'name': 'uplink', 'devargs': 'net_af_packet0,iface=veth-r'}],"
	" 'workers': [1, 2],"
	" 'targets': ["
	"  {'id': 1, 'name': 't1',"
	"   'link': {'devargs': 'net_memif0,role=server,socket=/run/dvipsec/t1.sock,id=0'},"
	"   'control': 'unix:/run/dvipsec/t1.ctl'},"
	"  {'id': 2, 'name': 't2', 'weight': 50,"
	"   'link': {'devargs': 'net_memif1,role=server,socket=/run/dvipsec/t2.sock,id=0'},"
	"   'control': 'tcp:[2001:db8::2]:7000'}],"
	" 'filter_policy': 'router',"
	" 'target_timeout_ms': 700,"
	" 'replay_window': 256,"
	" 'connection_table': {'capacity': 4096, 'idle_timeout_s': 60, 'non_syn_miss': 'assign'},"
	" 'lifetime': {'soft_bytes': 1000000, 'hard_bytes': 2000000,"
	"              'soft_seconds': 3000, 'hard_seconds': 3600},"
	" 'control_key': '" KEY_CONTROL "',"
	" 'static_sas': ["
	"  {'spi': '0x00001000', 'direction': 'inbound', 'aead': 'aes128gcm16',"
	"   'key': '" KEY_AES128 "',"
	"   'local': '192.0.2.1', 'remote': '192.0.2.10', 'encap': 'udp', 'udp_remote_port': 4501,"
	"   'local_ts': ['10.1.0.0/24'],"
	"   'remote_ts': [{'cidr': '10.2.0.0/16', 'proto': 6, 'ports': '1024-65535'}],"
	"   'lifetime': {'hard_bytes': 5000000}},"
	"  {'spi': 4096, 'direction': 'outbound', 'aead': 'chacha20poly1305',"
	"   'key': '" KEY_CHACHA "',"
	"   'mode': 'transport', 'esn': true, 'replay_window': 0,"
	"   'local': '2001:db8::1', 'remote': '2001:db8::10',"
	"   'local_ts': ['2001:db8::1'], 'remote_ts': ['2001:db8::/32']}],"
	" 'ike': {'id': 'vpn.example.org', 'ed25519_key': '" KEY_ED_SEED "',"
	"  'cookie_threshold': 10, 'half_open_timeout_s': 20, 'retransmit_base_ms': 1000,"
	"  'retransmit_tries': 3,"
	"  'peers': ["
	"   {'name': 'client1', 'id': 'client.example.org', 'psk': '" KEY_PSK "',"
	"    'ike_proposals': ['aes256gcm16-prfsha384-x25519',"
	"                      'prfsha512-curve25519-chacha20poly1305'],"
	"    'esp_proposals': ['aes256gcm16-x25519-esn', 'chacha20poly1305-noesn', "
	"'aes128gcm16-esn'],"
	"    'local_ts': ['192.0.2.1', {'cidr': '2001:db8::/64', 'proto': 17, 'ports': "
	"'4500-4510'}],"
	"    'remote_ts': ['10.9.0.0/24'], 'transport': true, 'ike_rekey_s': 7200,"
	"    'lifetime': {'hard_bytes': 5000000}, 'child_rekey_s': 1200, 'replay_window': 64,"
	"    'dpd_s': 0, 'sa_per_target': false},"
	"   {'name': 'alice', 'id': 'alice@example.org', 'auth': 'ed25519',"
	"    'public_key': '" KEY_ED_PEER "', 'child_rekey_s': 3000},"
	"   {'name': 'branch4', 'id': '198.51.100.7', 'auth': 'psk', 'psk': '" KEY_PSK2 "',"
	"    'child_rekey_s': 0},"
	"   {'name': 'branch6', 'id': '2001:db8:100::1', 'psk': '" KEY_PSK
	"', 'child_rekey_s': 60},"
	"   {'name': 'gw', 'id': '@gw.example.net', 'psk': '" KEY_PSK "', 'child_rekey_s': 60}]}}";

const char base_target[] =
	"{'eal': ['-l', '2-3'], 'id': 7, 'dvipa': ['192.0.2.1'], 'workers': [3],"
	" 'link': {'devargs': 'net_memif0,role=client,socket=/run/dvipsec/t1.sock,id=0'},"
	" 'tap': {'devargs': 'net_tap0,iface=dvt1'},"
	" 'router_control': 'tcp:router.example:7000',"
	" 'control_key': '" KEY_CONTROL "',"
	" 'static_sas': ["
	"  {'spi': '0xC0DE0001', 'direction': 'inbound', 'aead': 'aes256gcm16',"
	"   'key': '" KEY_AES256 "',"
	"   'local': '192.0.2.1', 'remote': '198.51.100.7'}]}";

char *
dq(const char *s)
{
	char *copy = strdup(s), *p;

	assert_non_null(copy);
	for (p = copy; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return copy;
}

static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
}

static void
assert_keymat(const uint8_t *keymat, size_t keymat_len, const char *hex)
{
	uint8_t want[ESP_MAX_KEYMAT_LEN];

	assert_non_null(keymat);
	assert_int_equal(keymat_len, strlen(hex) / 2);
	unhex(hex, want, keymat_len);
	assert_memory_equal(keymat, want, keymat_len);
}

static void
assert_v4(const struct esp_addr *a, const char *text)
{
	struct in_addr want;

	assert_int_equal(a->family, 4);
	assert_int_equal(inet_pton(AF_INET, text, &want), 1);
	assert_int_equal(a->v4, want.s_addr);
}

static void
assert_v6(const struct esp_addr *a, const char *text)
{
	uint8_t want[16];

	assert_int_equal(a->family, 6);
	assert_int_equal(inet_pton(AF_INET6, text, want), 1);
	assert_memory_equal(a->v6, want, 16);
}

static char *
source_path(const char *rel)
{
	const char *root = getenv("DVIPSEC_SOURCE_ROOT");
	char *path;

	if (root == NULL)
		fail_msg("DVIPSEC_SOURCE_ROOT is not set (run the test through meson test)");
	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	return path;
}

static void
assert_addr(const struct esp_addr *a, const char *text)
{
	if (strchr(text, ':') != NULL)
		assert_v6(a, text);
	else
		assert_v4(a, text);
}

static void
assert_ts(const struct esp_ts *ts, const char *start, const char *end, uint8_t proto,
	  uint16_t port_lo, uint16_t port_hi)
{
	assert_addr(&ts->start, start);
	assert_addr(&ts->end, end);
	assert_int_equal(ts->proto, proto);
	assert_int_equal(ts->port_lo, port_lo);
	assert_int_equal(ts->port_hi, port_hi);
}

/* type 1 or 5: text is the address; 2 or 3: the bytes; and cfg_ike_id_name() spells it back. */
static void
assert_ike_id(const struct ike_id *id, uint8_t type, const char *text)
{
	char name[IKE_ID_MAX + 1];
	uint8_t addr[16];

	assert_int_equal(id->type, type);
	if (type == 1 || type == 5) {
		assert_int_equal(id->len, type == 1 ? 4 : 16);
		assert_int_equal(inet_pton(type == 1 ? AF_INET : AF_INET6, text, addr), 1);
		assert_memory_equal(id->data, addr, id->len);
	} else {
		assert_int_equal(id->len, strlen(text));
		assert_memory_equal(id->data, text, id->len);
	}
	assert_string_equal(cfg_ike_id_name(id, name, sizeof(name)), text);
}

/* The proposals as cfg_ike_proposal_name() spells them, space-separated. */
static void
assert_proposals(const struct ike_proposal *p, uint8_t n, bool esp, const char *want)
{
	char all[512] = "", name[64];
	uint8_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(all, " ");
		strcat(all, cfg_ike_proposal_name(&p[i], esp, name, sizeof(name)));
	}
	assert_string_equal(all, want);
}

static void
assert_proposal(const struct ike_proposal *p, uint16_t encr, uint16_t key_bits, uint16_t prf,
		uint16_t dh, bool esn)
{
	assert_int_equal(p->encr, encr);
	assert_int_equal(p->key_bits, key_bits);
	assert_int_equal(p->prf, prf);
	assert_int_equal(p->dh, dh);
	assert_int_equal(p->esn, esn);
}

/* --- the shipped configs ----------------------------------------------------------------- */

static struct cfg_router *
load_shipped_router(void)
{
	char *path = source_path("conf/router.json"), err[ERR_LEN];
	struct cfg_router *r;
	int rc;

	rc = cfg_router_load(path, &r, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", path, err);
	free(path);
	return r;
}

static struct cfg_target *
load_shipped_target(int n)
{
	char rel[32], *path, err[ERR_LEN];
	struct cfg_target *t;
	int rc;

	snprintf(rel, sizeof(rel), "conf/target%d.json", n);
	path = source_path(rel);
	rc = cfg_target_load(path, &t, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", path, err);
	free(path);
	return t;
}

static const struct esp_sa_params *
find_sa(const struct esp_sa_params *sas, uint32_t n, uint32_t spi, enum esp_dir dir)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (sas[i].spi == spi && sas[i].dir == dir)
			return &sas[i];
	return NULL;
}

static void
test_shipped_router(void **state)
{
	static const enum esp_aead aeads[] = { ESP_AEAD_AES128_GCM16, ESP_AEAD_AES256_GCM16,
					       ESP_AEAD_CHACHA20_POLY1305 };
	struct cfg_router *r = load_shipped_router();
	uint32_t i;

	(void)state;
	assert_int_equal(r->n_dvipa, 1);
	assert_v4(&r->dvipa[0], "192.0.2.1");
	assert_int_equal(r->n_ports, 1);
	assert_string_equal(r->ports[0].link.devargs, "net_af_packet0,iface=dvr-up");
	assert_int_equal(r->n_targets, 2);
	assert_string_equal(r->targets[0].name, "t1");
	assert_string_equal(r->targets[1].name, "t2");
	assert_non_null(strstr(r->targets[0].link.devargs, "socket=/run/dvipsec/t1.sock"));
	assert_non_null(strstr(r->targets[1].link.devargs, "socket=/run/dvipsec/t2.sock"));
	assert_string_equal(r->eal.argv[r->eal.argc - 1], "dvr");
	assert_non_null(r->control_key);
	/* One inbound and one outbound SA per AEAD, all between the client and the DVIPA. */
	assert_int_equal(r->n_static_sas, 6);
	for (i = 0; i < 3; i++) {
		const struct esp_sa_params *in =
			find_sa(r->static_sas, 6, 0x1001 + i, ESP_DIR_INBOUND);
		const struct esp_sa_params *out =
			find_sa(r->static_sas, 6, 0x2001 + i, ESP_DIR_OUTBOUND);

		assert_non_null(in);
		assert_non_null(out);
		assert_int_equal(in->aead, aeads[i]);
		assert_int_equal(out->aead, aeads[i]);
		assert_v4(&in->local, "192.0.2.1");
		assert_v4(&in->remote, "192.0.2.10");
		assert_int_equal(in->keymat_len, esp_aead_keymat_len(aeads[i]));
	}
	/* One IKE peer: the client by FQDN, with a PSK, the three proposals of each kind. */
	assert_non_null(r->ike);
	assert_ike_id(&r->ike->local_id, 1, "192.0.2.1");
	assert_int_equal(r->ike->n_peers, 1);
	assert_string_equal(r->ike->peers[0].name, "client");
	assert_ike_id(&r->ike->peers[0].id, 2, "client.dvipsec.test");
	assert_int_equal(r->ike->peers[0].psk_len, 27);
	assert_memory_equal(r->ike->peers[0].psk, "lab-only-ike-psk-do-not-use", 27);
	assert_proposals(r->ike->peers[0].ike, r->ike->peers[0].n_ike, false,
			 "aes128gcm16-prfsha256-x25519 aes256gcm16-prfsha384-x25519 "
			 "chacha20poly1305-prfsha256-x25519");
	assert_proposals(r->ike->peers[0].esp, r->ike->peers[0].n_esp, true,
			 "aes128gcm16 aes256gcm16 chacha20poly1305");
	assert_int_equal(r->ike->peers[0].n_local_ts, 1);
	assert_ts(&r->ike->peers[0].local_ts[0], "192.0.2.1", "192.0.2.1", 0, 0, 65535);
	assert_int_equal(r->ike->peers[0].n_remote_ts, 1);
	assert_ts(&r->ike->peers[0].remote_ts[0], "10.9.0.0", "10.9.0.255", 0, 0, 65535);
	cfg_router_free(r);
}

/* Each target must be the other end of what the router says about it. */
static void
test_shipped_targets(void **state)
{
	struct cfg_router *r = load_shipped_router();
	int n;

	(void)state;
	for (n = 1; n <= 2; n++) {
		struct cfg_target *t = load_shipped_target(n);
		const struct cfg_router_target *rt = &r->targets[n - 1];
		char sock[64], tap[32];
		uint32_t i;

		snprintf(sock, sizeof(sock), "socket=/run/dvipsec/t%d.sock", n);
		snprintf(tap, sizeof(tap), "net_tap0,iface=dvt%d", n);
		assert_int_equal(t->id, rt->id);
		assert_int_equal(t->router_control.kind, CFG_CONTROL_UNIX);
		assert_string_equal(t->router_control.path, rt->control.path);
		assert_non_null(strstr(t->link.devargs, sock));
		assert_non_null(strstr(t->link.devargs, "role=client"));
		assert_non_null(strstr(rt->link.devargs, "role=server"));
		assert_string_equal(t->tap.devargs, tap);
		assert_false(t->has_uplink);
		assert_int_equal(t->n_dvipa, 1);
		assert_v4(&t->dvipa[0], "192.0.2.1");
		assert_memory_equal(t->control_key, r->control_key, CFG_CONTROL_KEY_LEN);
		assert_int_equal(t->n_static_sas, r->n_static_sas);
		for (i = 0; i < t->n_static_sas; i++) {
			const struct esp_sa_params *sa = &t->static_sas[i];
			const struct esp_sa_params *rsa =
				find_sa(r->static_sas, r->n_static_sas, sa->spi, sa->dir);

			assert_non_null(rsa);
			assert_int_equal(sa->keymat_len, rsa->keymat_len);
			assert_memory_equal(sa->keymat, rsa->keymat, sa->keymat_len);
		}
		cfg_target_free(t);
	}
	cfg_router_free(r);
}

/* --- a base config, field by field ------------------------------------------------------- */

static struct cfg_router *
load_base_router(void)
{
	char *text = dq(base_router), err[ERR_LEN];
	struct cfg_router *r;
	int rc;

	rc = cfg_router_load_from_string(text, &r, err, sizeof(err));
	if (rc != 0)
		fail_msg("base router: %s", err);
	free(text);
	return r;
}

static void
test_router_fields(void **state)
{
	struct cfg_router *r = load_base_router();
	uint8_t control_key[CFG_CONTROL_KEY_LEN];

	(void)state;
	assert_int_equal(r->eal.argc, 3);
	assert_string_equal(r->eal.argv[0], "-l");
	assert_string_equal(r->eal.argv[2], "--no-huge");
	assert_null(r->eal.argv[3]);
	assert_int_equal(r->n_dvipa, 2);
	assert_v4(&r->dvipa[0], "192.0.2.1");
	assert_v6(&r->dvipa[1], "2001:db8::1");
	assert_string_equal(r->ports[0].name, "uplink");
	assert_int_equal(r->n_workers, 2);
	assert_int_equal(r->workers[1], 2);
	assert_int_equal(r->targets[0].weight, 100); /* default */
	assert_int_equal(r->targets[1].weight, 50);
	assert_int_equal(r->targets[0].control.kind, CFG_CONTROL_UNIX);
	assert_string_equal(r->targets[0].control.path, "/run/dvipsec/t1.ctl");
	assert_int_equal(r->targets[1].control.kind, CFG_CONTROL_TCP);
	assert_string_equal(r->targets[1].control.host, "2001:db8::2");
	assert_int_equal(r->targets[1].control.port, 7000);
	assert_int_equal(r->filter_policy, CFG_FILTER_ROUTER);
	assert_int_equal(r->target_timeout_ms, 700);
	assert_int_equal(r->replay_window, 256);
	assert_int_equal(r->conn_table.capacity, 4096);
	assert_int_equal(r->conn_table.idle_timeout_s, 60);
	assert_int_equal(r->conn_table.non_syn_miss, CFG_NON_SYN_ASSIGN);
	assert_int_equal(r->lifetime.soft_bytes, 1000000);
	assert_int_equal(r->lifetime.hard_seconds, 3600);
	assert_int_equal(r->lifetime.hard_packets, 0);
	unhex(KEY_CONTROL, control_key, sizeof(control_key));
	assert_memory_equal(r->control_key, control_key, sizeof(control_key));
	cfg_router_free(r);
}

static void
test_sa_keymat(void **state)
{
	struct cfg_router *r = load_base_router();

	(void)state;
	assert_int_equal(r->n_static_sas, 2);
	assert_keymat(r->static_sas[0].keymat, r->static_sas[0].keymat_len, KEY_AES128);
	assert_int_equal(r->static_sas[0].keymat_len, 20);
	assert_keymat(r->static_sas[1].keymat, r->static_sas[1].keymat_len, KEY_CHACHA);
	assert_int_equal(r->static_sas[1].keymat_len, 36);
	cfg_router_free(r);
}

static void
test_sa_params(void **state)
{
	struct cfg_router *r = load_base_router();
	const struct esp_sa_params *in = &r->static_sas[0], *out = &r->static_sas[1];
	uint8_t v6_end[16];

	(void)state;
	/* "spi": "0x00001000", tunnel (default), UDP encap, selectors in both forms. */
	assert_int_equal(in->spi, 0x1000);
	assert_int_equal(in->dir, ESP_DIR_INBOUND);
	assert_int_equal(in->aead, ESP_AEAD_AES128_GCM16);
	assert_int_equal(in->mode, ESP_MODE_TUNNEL);
	assert_false(in->esn);
	assert_int_equal(in->replay_window, 256); /* from the top level */
	assert_v4(&in->local, "192.0.2.1");
	assert_v4(&in->remote, "192.0.2.10");
	assert_true(in->udp_encap);
	assert_int_equal(in->udp_local_port, 4500);
	assert_int_equal(in->udp_remote_port, 4501);
	assert_int_equal(in->n_local_ts, 1);
	assert_v4(&in->local_ts[0].start, "10.1.0.0");
	assert_v4(&in->local_ts[0].end, "10.1.0.255");
	assert_int_equal(in->local_ts[0].proto, 0);
	assert_int_equal(in->local_ts[0].port_lo, 0);
	assert_int_equal(in->local_ts[0].port_hi, 65535);
	assert_int_equal(in->n_remote_ts, 1);
	assert_v4(&in->remote_ts[0].start, "10.2.0.0");
	assert_v4(&in->remote_ts[0].end, "10.2.255.255");
	assert_int_equal(in->remote_ts[0].proto, 6);
	assert_int_equal(in->remote_ts[0].port_lo, 1024);
	assert_int_equal(in->remote_ts[0].port_hi, 65535);
	/* Lifetime: hard_bytes overridden, the rest inherited. */
	assert_int_equal(in->lifetime.soft_bytes, 1000000);
	assert_int_equal(in->lifetime.hard_bytes, 5000000);
	assert_int_equal(in->lifetime.soft_seconds, 3000);
	assert_int_equal(in->lifetime.hard_seconds, 3600);

	/* "spi": 4096 again, but outbound: (spi, direction) is what must be unique. */
	assert_int_equal(out->spi, 4096);
	assert_int_equal(out->dir, ESP_DIR_OUTBOUND);
	assert_int_equal(out->aead, ESP_AEAD_CHACHA20_POLY1305);
	assert_int_equal(out->mode, ESP_MODE_TRANSPORT);
	assert_true(out->esn);
	assert_int_equal(out->replay_window, 0);
	assert_false(out->udp_encap);
	assert_int_equal(out->udp_local_port, 4500);
	assert_v6(&out->local, "2001:db8::1");
	assert_v6(&out->local_ts[0].start, "2001:db8::1"); /* bare address = /128 */
	assert_v6(&out->local_ts[0].end, "2001:db8::1");
	assert_v6(&out->remote_ts[0].start, "2001:db8::");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", v6_end), 1);
	assert_memory_equal(out->remote_ts[0].end.v6, v6_end, 16);
	cfg_router_free(r);
}

static void
test_router_defaults(void **state)
{
	static const char minimal[] =
		"{'dvipa': ['192.0.2.1'], 'ports': [{'name': 'up', 'devargs': 'net_null0'}],"
		" 'workers': [1],"
		" 'targets': [{'id': 9, 'name': 'only', 'link': {'devargs': 'net_null1'},"
		"              'control': 'unix:/tmp/t.ctl'}],"
		" 'control_key': '" KEY_CONTROL "'}";
	char *text = dq(minimal), err[ERR_LEN];
	struct cfg_router *r;

	(void)state;
	assert_int_equal(cfg_router_load_from_string(text, &r, err, sizeof(err)), 0);
	assert_int_equal(r->eal.argc, 0);
	assert_non_null(r->eal.argv);
	assert_null(r->eal.argv[0]);
	assert_int_equal(r->targets[0].weight, 100);
	assert_int_equal(r->filter_policy, CFG_FILTER_BYPASS);
	assert_int_equal(r->target_timeout_ms, 1000);
	assert_int_equal(r->replay_window, 1024);
	assert_int_equal(r->conn_table.capacity, 1048576);
	assert_int_equal(r->conn_table.idle_timeout_s, 300);
	assert_int_equal(r->conn_table.non_syn_miss, CFG_NON_SYN_DROP);
	assert_int_equal(r->lifetime.hard_bytes, 0);
	assert_int_equal(r->n_static_sas, 0);
	assert_null(r->static_sas);
	assert_null(r->ike);
	cfg_router_free(r);
	free(text);
}

static void
test_target_fields(void **state)
{
	char *text = dq(base_target), err[ERR_LEN];
	struct cfg_target *t;
	json_t *doc;

	(void)state;
	assert_int_equal(cfg_target_load_from_string(text, &t, err, sizeof(err)), 0);
	assert_int_equal(t->id, 7);
	assert_int_equal(t->n_workers, 1);
	assert_int_equal(t->workers[0], 3);
	assert_string_equal(t->tap.devargs, "net_tap0,iface=dvt1");
	assert_false(t->has_uplink);
	assert_int_equal(t->router_control.kind, CFG_CONTROL_TCP);
	assert_string_equal(t->router_control.host, "router.example");
	assert_int_equal(t->router_control.port, 7000);
	assert_int_equal(t->replay_window, 1024);
	assert_int_equal(t->n_static_sas, 1);
	assert_int_equal(t->static_sas[0].spi, 0xc0de0001);
	assert_int_equal(t->static_sas[0].aead, ESP_AEAD_AES256_GCM16);
	assert_keymat(t->static_sas[0].keymat, t->static_sas[0].keymat_len, KEY_AES256);
	assert_int_equal(t->static_sas[0].n_local_ts, 0);
	cfg_target_free(t);

	/* With an uplink for direct return. */
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	json_object_set_new(doc, "uplink", json_pack("{s:s}", "devargs", "net_af_packet1,iface=x"));
	free(text);
	text = json_dumps(doc, 0);
	json_decref(doc);
	assert_int_equal(cfg_target_load_from_string(text, &t, err, sizeof(err)), 0);
	assert_true(t->has_uplink);
	assert_string_equal(t->uplink.devargs, "net_af_packet1,iface=x");
	cfg_target_free(t);
	free(text);
}

/* The key block is sized from the SA count: fill it to the limit at the longest keymat. */
static void
test_sa_limit(void **state)
{
	char *text = dq(base_router), *out, err[ERR_LEN];
	struct cfg_router *r;
	json_t *doc, *sas, *sa;
	size_t i;

	(void)state;
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	sas = json_array();
	for (i = 0; i <= CFG_MAX_STATIC_SAS; i++) {
		sa = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "spi", (json_int_t)(0x10000 + i),
			       "direction", "inbound", "aead", "chacha20poly1305", "key",
			       KEY_CHACHA, "local", "192.0.2.1", "remote", "192.0.2.10");
		assert_non_null(sa);
		assert_int_equal(json_array_append_new(sas, sa), 0);
	}
	json_object_set_new(doc, "static_sas", sas);

	/* 1025 SAs: refused. */
	out = json_dumps(doc, 0);
	assert_int_equal(cfg_router_load_from_string(out, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "static_sas: expected an array of 0..1024 SAs, got 1025");
	free(out);

	/* 1024: loaded, every keymat in place. */
	assert_int_equal(json_array_remove(sas, CFG_MAX_STATIC_SAS), 0);
	out = json_dumps(doc, 0);
	if (cfg_router_load_from_string(out, &r, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(r->n_static_sas, CFG_MAX_STATIC_SAS);
	for (i = 0; i < CFG_MAX_STATIC_SAS; i++) {
		assert_int_equal(r->static_sas[i].spi, 0x10000 + i);
		assert_keymat(r->static_sas[i].keymat, r->static_sas[i].keymat_len, KEY_CHACHA);
	}
	cfg_router_free(r);
	free(out);
	json_decref(doc);
	free(text);
}

/* --- the ike object ---------------------------------------------------------------------- */

/* IANA numbers, spelled out here rather than taken from the loader. */
enum {
	ENCR_GCM = 20,
	ENCR_CHACHA = 28,
	PRF_256 = 5,
	PRF_384 = 6,
	PRF_512 = 7,
	X25519 = 31,
	AUTH_PSK = 2,
	AUTH_DSIG = 14
};

static void
test_ike_fields(void **state)
{
	struct cfg_router *r = load_base_router();
	const struct ike_config *ike = r->ike;
	const struct ike_peer_cfg *p;
	uint8_t key[32];

	(void)state;
	assert_non_null(ike);
	assert_ike_id(&ike->local_id, 2, "vpn.example.org");
	assert_true(ike->has_ed25519);
	unhex(KEY_ED_SEED, key, 32);
	assert_memory_equal(ike->ed25519_seed, key, 32);
	assert_int_equal(ike->cookie_threshold, 10);
	assert_int_equal(ike->half_open_timeout_s, 20);
	assert_int_equal(ike->retransmit_base_ms, 1000);
	assert_int_equal(ike->retransmit_tries, 3);
	assert_int_equal(ike->n_peers, 5);

	/* Every key given. Proposals in any token order, curve25519 = x25519, noesn = no ESN. */
	p = &ike->peers[0];
	assert_string_equal(p->name, "client1");
	assert_ike_id(&p->id, 2, "client.example.org");
	assert_int_equal(p->auth, AUTH_PSK);
	assert_int_equal(p->psk_len, 16);
	unhex(KEY_PSK, key, 16);
	assert_memory_equal(p->psk, key, 16);
	assert_int_equal(p->n_ike, 2);
	assert_proposal(&p->ike[0], ENCR_GCM, 256, PRF_384, X25519, false);
	assert_proposal(&p->ike[1], ENCR_CHACHA, 256, PRF_512, X25519, false);
	assert_proposals(p->ike, p->n_ike, false,
			 "aes256gcm16-prfsha384-x25519 chacha20poly1305-prfsha512-x25519");
	assert_int_equal(p->n_esp, 3);
	assert_proposal(&p->esp[0], ENCR_GCM, 256, 0, X25519, true);
	assert_proposal(&p->esp[1], ENCR_CHACHA, 256, 0, 0, false);
	assert_proposal(&p->esp[2], ENCR_GCM, 128, 0, 0, true);
	assert_proposals(p->esp, p->n_esp, true,
			 "aes256gcm16-x25519-esn chacha20poly1305 aes128gcm16-esn");
	assert_int_equal(p->n_local_ts, 2);
	assert_ts(&p->local_ts[0], "192.0.2.1", "192.0.2.1", 0, 0, 65535);
	assert_ts(&p->local_ts[1], "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", 17, 4500, 4510);
	assert_int_equal(p->n_remote_ts, 1);
	assert_ts(&p->remote_ts[0], "10.9.0.0", "10.9.0.255", 0, 0, 65535);
	assert_true(p->allow_transport);
	assert_int_equal(p->ike_rekey_s, 7200);
	assert_int_equal(p->child_rekey_s, 1200);
	assert_int_equal(p->child_lifetime.soft_bytes, 1000000); /* from the top level */
	assert_int_equal(p->child_lifetime.hard_bytes, 5000000);
	assert_int_equal(p->child_lifetime.soft_seconds, 3000);
	assert_int_equal(p->child_lifetime.hard_seconds, 3600);
	assert_int_equal(p->replay_window, 64);
	assert_int_equal(p->dpd_s, 0);
	assert_false(p->sa_per_target);

	/* Ed25519 and, but for child_rekey_s, every default; the top level's replay window and
	 * lifetime, each DVIPA as a local selector, anything remote. */
	p = &ike->peers[1];
	assert_string_equal(p->name, "alice");
	assert_ike_id(&p->id, 3, "alice@example.org");
	assert_int_equal(p->auth, AUTH_DSIG);
	assert_null(p->psk);
	assert_int_equal(p->psk_len, 0);
	unhex(KEY_ED_PEER, key, 32);
	assert_memory_equal(p->ed25519_pk, key, 32);
	assert_proposals(p->ike, p->n_ike, false,
			 "aes128gcm16-prfsha256-x25519 aes256gcm16-prfsha384-x25519 "
			 "chacha20poly1305-prfsha256-x25519");
	assert_proposal(&p->ike[0], ENCR_GCM, 128, PRF_256, X25519, false);
	assert_proposal(&p->ike[2], ENCR_CHACHA, 256, PRF_256, X25519, false);
	assert_proposals(p->esp, p->n_esp, true, "aes128gcm16 aes256gcm16 chacha20poly1305");
	assert_proposal(&p->esp[1], ENCR_GCM, 256, 0, 0, false);
	assert_int_equal(p->n_local_ts, 2);
	assert_ts(&p->local_ts[0], "192.0.2.1", "192.0.2.1", 0, 0, 65535);
	assert_ts(&p->local_ts[1], "2001:db8::1", "2001:db8::1", 0, 0, 65535);
	assert_int_equal(p->n_remote_ts, 2);
	assert_ts(&p->remote_ts[0], "0.0.0.0", "255.255.255.255", 0, 0, 65535);
	assert_ts(&p->remote_ts[1], "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 0, 65535);
	assert_false(p->allow_transport);
	assert_int_equal(p->ike_rekey_s, 14400);
	assert_int_equal(p->child_rekey_s, 3000);
	assert_memory_equal(&p->child_lifetime, &r->lifetime, sizeof(r->lifetime));
	assert_int_equal(p->replay_window, 256);
	assert_int_equal(p->dpd_s, 30);
	assert_true(p->sa_per_target); /* the default */

	/* Address identities; "@name" is the FQDN name, as in strongSwan. */
	p = &ike->peers[2];
	assert_ike_id(&p->id, 1, "198.51.100.7");
	assert_int_equal(p->auth, AUTH_PSK);
	assert_int_equal(p->psk_len, 9);
	unhex(KEY_PSK2, key, 9);
	assert_memory_equal(p->psk, key, 9);
	assert_int_equal(p->child_rekey_s, 0);
	assert_ike_id(&ike->peers[3].id, 5, "2001:db8:100::1");
	assert_ike_id(&ike->peers[4].id, 2, "gw.example.net");
	/* Each peer's PSK is its own copy in the key block. */
	assert_ptr_not_equal(ike->peers[3].psk, ike->peers[0].psk);
	assert_memory_equal(ike->peers[3].psk, ike->peers[0].psk, 16);
	cfg_router_free(r);
}

static void
test_ike_defaults(void **state)
{
	static const char minimal[] =
		"{'dvipa': ['2001:db8::5', '192.0.2.1'],"
		" 'ports': [{'name': 'up', 'devargs': 'net_null0'}], 'workers': [1],"
		" 'targets': [{'id': 9, 'name': 'only', 'link': {'devargs': 'net_null1'},"
		"              'control': 'unix:/tmp/t.ctl'}],"
		" 'control_key': '" KEY_CONTROL "',"
		" 'ike': {'peers': [{'name': 'p', 'id': 'p.example', 'psk': '" KEY_PSK "'}]}}";
	char *text = dq(minimal), err[ERR_LEN];
	const struct ike_peer_cfg *p;
	struct cfg_router *r;

	(void)state;
	if (cfg_router_load_from_string(text, &r, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* Our identity: the first DVIPA, here an IPv6 address. */
	assert_ike_id(&r->ike->local_id, 5, "2001:db8::5");
	assert_false(r->ike->has_ed25519);
	assert_null(r->ike->ed25519_seed);
	assert_int_equal(r->ike->cookie_threshold, 64);
	assert_int_equal(r->ike->half_open_timeout_s, 30);
	assert_int_equal(r->ike->retransmit_base_ms, 500);
	assert_int_equal(r->ike->retransmit_tries, 5);
	assert_int_equal(r->ike->n_peers, 1);
	p = &r->ike->peers[0];
	assert_int_equal(p->auth, AUTH_PSK);
	assert_int_equal(p->n_ike, 3);
	assert_proposal(&p->ike[1], ENCR_GCM, 256, PRF_384, X25519, false);
	assert_int_equal(p->n_esp, 3);
	assert_proposal(&p->esp[2], ENCR_CHACHA, 256, 0, 0, false);
	assert_int_equal(p->n_local_ts, 2);
	assert_ts(&p->local_ts[0], "2001:db8::5", "2001:db8::5", 0, 0, 65535);
	assert_ts(&p->local_ts[1], "192.0.2.1", "192.0.2.1", 0, 0, 65535);
	assert_int_equal(p->n_remote_ts, 2);
	assert_false(p->allow_transport);
	assert_int_equal(p->ike_rekey_s, 14400);
	assert_int_equal(p->child_rekey_s, 3600);
	assert_int_equal(p->child_lifetime.hard_seconds, 0); /* no top-level lifetime: unlimited */
	assert_int_equal(p->child_lifetime.hard_bytes, 0);
	assert_int_equal(p->replay_window, 1024);
	assert_int_equal(p->dpd_s, 30);
	cfg_router_free(r);
	free(text);
}

/* The key block is sized from the peer count: 64 peers at the longest PSK, our seed, the SAs. */
static void
test_ike_limit(void **state)
{
	char *text = dq(base_router), *out, err[ERR_LEN], hex[2 * IKE_PSK_MAX + 1], name[16];
	struct cfg_router *r;
	json_t *doc, *peers, *peer;
	uint8_t want[IKE_PSK_MAX];
	size_t i;

	(void)state;
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	peers = json_array();
	for (i = 0; i <= IKE_MAX_PEERS; i++) {
		memset(hex, "0123456789abcdef"[i % 16], 2 * IKE_PSK_MAX);
		hex[2 * IKE_PSK_MAX] = '\0';
		snprintf(name, sizeof(name), "peer%zu", i);
		/* the top-level hard_seconds is 3600: rekey before it */
		peer = json_pack("{s:s, s:s, s:s, s:i}", "name", name, "id", name, "psk", hex,
				 "child_rekey_s", 600);
		assert_non_null(peer);
		assert_int_equal(json_array_append_new(peers, peer), 0);
	}
	json_object_set_new(json_object_get(doc, "ike"), "peers", peers);

	out = json_dumps(doc, 0);
	assert_int_equal(cfg_router_load_from_string(out, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ike.peers: expected an array of 1..64 peers, got 65");
	free(out);

	assert_int_equal(json_array_remove(peers, IKE_MAX_PEERS), 0);
	out = json_dumps(doc, 0);
	if (cfg_router_load_from_string(out, &r, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(r->ike->n_peers, IKE_MAX_PEERS);
	for (i = 0; i < IKE_MAX_PEERS; i++) {
		memset(hex, "0123456789abcdef"[i % 16], 2 * IKE_PSK_MAX);
		unhex(hex, want, IKE_PSK_MAX);
		assert_int_equal(r->ike->peers[i].psk_len, IKE_PSK_MAX);
		assert_memory_equal(r->ike->peers[i].psk, want, IKE_PSK_MAX);
	}
	assert_keymat(r->static_sas[1].keymat, r->static_sas[1].keymat_len, KEY_CHACHA);
	cfg_router_free(r);
	free(out);
	json_decref(doc);
	free(text);
}

/* The loader's spellings, back from the engine's numbers: what cfg_check and telemetry print. */
static void
test_ike_names(void **state)
{
	static const struct {
		struct ike_proposal p;
		bool esp;
		const char *name;
	} cases[] = {
		{ { ENCR_GCM, 128, PRF_256, X25519, false },
		  false,
		  "aes128gcm16-prfsha256-x25519" },
		{ { ENCR_CHACHA, 256, PRF_512, X25519, false },
		  false,
		  "chacha20poly1305-prfsha512-x25519" },
		{ { ENCR_GCM, 256, 0, 0, false }, true, "aes256gcm16" },
		{ { ENCR_GCM, 256, 0, X25519, true }, true, "aes256gcm16-x25519-esn" },
		{ { ENCR_CHACHA, 256, 0, 0, true }, true, "chacha20poly1305-esn" },
		/* what the loader never produces: numbers */
		{ { 12, 128, 2, 14, false }, false, "encr12_128-prf2-dh14" },
		{ { ENCR_GCM, 192, 0, 19, false }, true, "encr20_192-dh19" },
	};
	struct ike_id id = { .type = 11, .len = 4 };
	char buf[64], tiny[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
			cfg_ike_proposal_name(&cases[i].p, cases[i].esp, buf, sizeof(buf)),
			cases[i].name);
	assert_string_equal(cfg_ike_proposal_name(&cases[1].p, false, tiny, sizeof(tiny)),
			    "chacha2");
	assert_string_equal(cfg_ike_id_name(&id, buf, sizeof(buf)), "(id type 11, 4 bytes)");
	id.type = 2;
	memcpy(id.data, "a\nb\x80", 4);
	assert_string_equal(cfg_ike_id_name(&id, buf, sizeof(buf)), "a?b?");
}

/* --- loading errors ---------------------------------------------------------------------- */

static void
test_load_errors(void **state)
{
	char *fixtures = source_path("tests/cfg"), *path, err[ERR_LEN], tiny[8];
	struct cfg_router *r = (struct cfg_router *)&r;
	struct cfg_target *t = (struct cfg_target *)&t;

	(void)state;
	assert_true(asprintf(&path, "%s/no-such-file.json", fixtures) > 0);
	assert_int_equal(cfg_router_load(path, &r, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "no-such-file.json: No such file or directory"));
	free(path);

	/* A directory is not a config file. */
	assert_int_equal(cfg_target_load(fixtures, &t, err, sizeof(err)), -EINVAL);
	assert_null(t);

	/* Syntax errors in a file carry jansson's line and column. */
	assert_true(asprintf(&path, "%s/router_syntax_error.json", fixtures) > 0);
	assert_int_equal(cfg_router_load(path, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "line 4, column 1: ", 18), 0);
	/* No error buffer, and a tiny one: still fails cleanly, truncated. */
	assert_int_equal(cfg_router_load(path, &r, NULL, 0), -EINVAL);
	assert_int_equal(cfg_router_load(path, &r, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	free(path);

	assert_int_equal(cfg_router_load(NULL, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg_target_load_from_string(NULL, &t, err, sizeof(err)), -EINVAL);
	cfg_router_free(NULL);
	cfg_target_free(NULL);
	free(fixtures);
}

static void
test_helpers(void **state)
{
	struct cfg_router *r = load_base_router();
	char **argv;
	int argc;

	(void)state;
	assert_int_equal(cfg_eal_argv(&r->eal, "dvipsec-router", &argc, &argv), 0);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[0], "dvipsec-router");
	assert_string_equal(argv[1], "-l");
	assert_string_equal(argv[3], "--no-huge");
	assert_null(argv[4]);
	free(argv);
	assert_string_equal(cfg_aead_name(ESP_AEAD_AES128_GCM16), "aes128gcm16");
	assert_string_equal(cfg_aead_name(ESP_AEAD_AES256_GCM16), "aes256gcm16");
	assert_string_equal(cfg_aead_name(ESP_AEAD_CHACHA20_POLY1305), "chacha20poly1305");
	assert_null(cfg_aead_name(ESP_AEAD_COUNT));
	cfg_router_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_router), cmocka_unit_test(test_shipped_targets),
		cmocka_unit_test(test_router_fields),  cmocka_unit_test(test_sa_keymat),
		cmocka_unit_test(test_sa_params),      cmocka_unit_test(test_router_defaults),
		cmocka_unit_test(test_target_fields),  cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_helpers),	       cmocka_unit_test(test_sa_limit),
		cmocka_unit_test(test_ike_fields),     cmocka_unit_test(test_ike_defaults),
		cmocka_unit_test(test_ike_limit),      cmocka_unit_test(test_ike_names),
		cmocka_unit_test(test_bad_configs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
