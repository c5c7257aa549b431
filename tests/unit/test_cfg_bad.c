/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader tests, bad configs: a table of single edits to the base router and target configs
 * (test_cfg.h), each of which must make the load fail with -EINVAL and a message that starts with
 * the JSON path of the edit and what was expected, and never quotes key material. Run with
 * CFG_TEST_VERBOSE=1 to print every message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cfg.h"
#include "test_cfg.h"

static const char *const all_keys[] = { KEY_AES128, KEY_CHACHA, KEY_AES256, KEY_CONTROL };

enum role { ROUTER, TARGET };

#define DELETE NULL

/*
 * One edit to the base config of a role: set the value at a path ("targets[1].weight") to a JSON
 * value, or delete it (DELETE); or, with raw, a whole document. The error must start with expect;
 * a NULL expect marks a near miss that must load.
 */
struct bad_case {
	enum role role;
	const char *edit;
	const char *value;
	const char *expect;
	const char *raw;
};

#define SET(role, edit, value, expect)          \
	{                                       \
		role, edit, value, expect, NULL \
	}
#define RAW(role, raw, expect)                \
	{                                     \
		role, NULL, NULL, expect, raw \
	}

static const struct bad_case bad_cases[] = {
	/* Syntax and top-level shape. */
	RAW(ROUTER, "{\n  'dvipa': ['192.0.2.1',\n  ]\n}", "line 3, column 3: "),
	RAW(ROUTER, "{'workers': [1], 'workers': [2]}", "line 1, column 26: duplicate object key"),
	RAW(ROUTER, "['192.0.2.1']", "top level: expected an object, got an array"),
	RAW(ROUTER, "", "line 1, column 0: "),
	SET(ROUTER, "filter_polcy", "'router'",
	    "filter_polcy: unknown key (expected one of: eal, dvipa, ports,"),
	/* eal */
	SET(ROUTER, "eal", "'-l 0-1'", "eal: expected an array of 0..64 strings, got \"-l 0-1\""),
	SET(ROUTER, "eal[1]", "5", "eal[1]: expected a non-empty string, got 5"),
	/* dvipa */
	SET(ROUTER, "dvipa", "[]", "dvipa: expected an array of 1..8 addresses, got 0"),
	SET(ROUTER, "dvipa", DELETE, "dvipa: required key is missing"),
	SET(ROUTER, "dvipa[0]", "'192.0.2.300'",
	    "dvipa[0]: expected IPv4 or IPv6 address, got \"192.0.2.300\""),
	SET(ROUTER, "dvipa[1]", "'192.0.2.1'",
	    "dvipa[1]: expected an address not listed before, got \"192.0.2.1\" (also dvipa[0])"),
	/* ports */
	SET(ROUTER, "ports", "{}", "ports: expected an array of 1..16 ports, got an object"),
	SET(ROUTER, "ports[0].name", DELETE, "ports[0].name: required key is missing"),
	SET(ROUTER, "ports[1]", "{'name': 'uplink', 'devargs': 'net_null0'}",
	    "ports[1].name: expected a port name not used before, got \"uplink\""),
	SET(ROUTER, "ports[0].devargs", "''",
	    "ports[0].devargs: expected a string of 1..511 printable characters, got \"\""),
	SET(ROUTER, "ports[0].mtu", "1500", "ports[0].mtu: unknown key"),
	/* workers */
	SET(ROUTER, "workers", "[]", "workers: expected an array of 1..64 lcore ids, got 0"),
	SET(ROUTER, "workers[0]", "128", "workers[0]: expected integer 0..127, got 128"),
	SET(ROUTER, "workers[1]", "1",
	    "workers[1]: expected an lcore id not listed before, got 1 (also workers[0])"),
	/* targets */
	SET(ROUTER, "targets", DELETE, "targets: required key is missing"),
	SET(ROUTER, "targets[1].weight", "0", "targets[1].weight: expected integer 1..1000, got 0"),
	SET(ROUTER, "targets[1].weight", "'100'",
	    "targets[1].weight: expected integer 1..1000, got \"100\""),
	SET(ROUTER, "targets[1].weight", "1.5",
	    "targets[1].weight: expected integer 1..1000, got 1.5"),
	SET(ROUTER, "targets[0].id", "65536",
	    "targets[0].id: expected integer 1..65535, got 65536"),
	SET(ROUTER, "targets[1].id", "1",
	    "targets[1].id: expected a target id not used before, got 1 (also targets[0].id)"),
	SET(ROUTER, "targets[1].name", "'t 2'",
	    "targets[1].name: expected a name of 1..31 characters [A-Za-z0-9_.-], got \"t 2\""),
	SET(ROUTER, "targets[1].name", "'t1'",
	    "targets[1].name: expected a target name not used before, got \"t1\""),
	SET(ROUTER, "targets[0].wieght", "5", "targets[0].wieght: unknown key"),
	SET(ROUTER, "targets[0].link", DELETE, "targets[0].link: required key is missing"),
	SET(ROUTER, "targets[0].link.devargs", "3",
	    "targets[0].link.devargs: expected a string of 1..511 printable characters, got 3"),
	SET(ROUTER, "targets[0].control", "'udp:192.0.2.1:5'",
	    "targets[0].control: expected \"unix:PATH\" or \"tcp:HOST:PORT\" (unknown scheme)"),
	SET(ROUTER, "targets[1].control", "'tcp:[2001:db8::2]:0'",
	    "targets[1].control: expected \"unix:PATH\" or \"tcp:HOST:PORT\" (PORT 1..65535)"),
	SET(ROUTER, "targets[1].control", "'tcp:2001:db8::2:7000'",
	    "targets[1].control: expected \"unix:PATH\" or \"tcp:HOST:PORT\" (HOST a name"),
	SET(ROUTER, "targets[1].control", "'unix:/run/dvipsec/t1.ctl'",
	    "targets[1].control: expected a control endpoint not used before"),
	/* filter_policy, replay_window, connection_table */
	SET(ROUTER, "filter_policy", "'firewall'",
	    "filter_policy: expected one of \"bypass\", \"router\", got \"firewall\""),
	SET(ROUTER, "replay_window", "100",
	    "replay_window: expected 0 (off) or a power of two 64..4096, got 100"),
	SET(ROUTER, "replay_window", "8192",
	    "replay_window: expected 0 (off) or a power of two 64..4096, got 8192"),
	SET(ROUTER, "connection_table.capacity", "10",
	    "connection_table.capacity: expected integer 1024..67108864, got 10"),
	SET(ROUTER, "connection_table.idle_timeout_s", "0",
	    "connection_table.idle_timeout_s: expected integer 1..86400, got 0"),
	SET(ROUTER, "connection_table.non_syn_miss", "'reset'",
	    "connection_table.non_syn_miss: expected one of \"drop\", \"assign\", got \"reset\""),
	/* lifetime */
	SET(ROUTER, "lifetime.soft_bytes", "2000000",
	    "lifetime.soft_bytes: expected less than hard_bytes (2000000), got 2000000"),
	SET(ROUTER, "lifetime.soft_seconds", "-1",
	    "lifetime.soft_seconds: expected integer 0..4294967295, got -1"),
	SET(ROUTER, "lifetime.hard_pakets", "1", "lifetime.hard_pakets: unknown key"),
	/* control_key: never quoted back */
	SET(ROUTER, "control_key", DELETE, "control_key: required key is missing"),
	SET(ROUTER, "control_key", "'00112233'",
	    "control_key: expected 64 hex digits (32 bytes) for the control key, got 8 characters"),
	SET(ROUTER, "control_key", "'" KEY_AES128 KEY_AES128 "'",
	    "control_key: expected 64 hex digits (32 bytes) for the control key, got 80 "
	    "characters"),
	/* static_sas */
	SET(ROUTER, "static_sas", "{}",
	    "static_sas: expected an array of 0..1024 SAs, got an object"),
	SET(ROUTER, "static_sas[0]", "'sa'", "static_sas[0]: expected an object, got \"sa\""),
	SET(ROUTER, "static_sas[0].enacp", "'udp'", "static_sas[0].enacp: unknown key"),
	SET(ROUTER, "static_sas[0].spi", DELETE, "static_sas[0].spi: required key is missing"),
	SET(ROUTER, "static_sas[0].spi", "'0x000000ff'",
	    "static_sas[0].spi: expected SPI 256..0xffffffff (1..255 are reserved by RFC 4303), "
	    "got \"0x000000ff\""),
	SET(ROUTER, "static_sas[0].spi", "1",
	    "static_sas[0].spi: expected SPI 256..0xffffffff (1..255 are reserved by RFC 4303)"),
	SET(ROUTER, "static_sas[0].spi", "0", "static_sas[0].spi: expected SPI 256..0xffffffff as"),
	SET(ROUTER, "static_sas[0].spi", "'0x1g00'",
	    "static_sas[0].spi: expected SPI 256..0xffffffff as an integer or \"0x\" hex string, "
	    "got \"0x1g00\""),
	SET(ROUTER, "static_sas[0].spi", "4294967296",
	    "static_sas[0].spi: expected SPI 256..0xffffffff as"),
	SET(ROUTER, "static_sas[1].direction", "'inbound'",
	    "static_sas[1].spi: expected an inbound SPI not used before, got 0x00001000 "
	    "(also static_sas[0])"),
	SET(ROUTER, "static_sas[0].direction", "'in'",
	    "static_sas[0].direction: expected one of \"inbound\", \"outbound\", got \"in\""),
	SET(ROUTER, "static_sas[0].aead", "'aes128gcm'",
	    "static_sas[0].aead: expected one of \"aes128gcm16\", \"aes256gcm16\", "
	    "\"chacha20poly1305\", got \"aes128gcm\""),
	SET(ROUTER, "static_sas[0].key", DELETE, "static_sas[0].key: required key is missing"),
	SET(ROUTER, "static_sas[0].key", "'" KEY_AES128 "00'",
	    "static_sas[0].key: expected 40 hex digits (20 bytes) for aes128gcm16, got 42 "
	    "characters"),
	SET(ROUTER, "static_sas[0].key", "'c0ffee00c0ffee01c0ffee02c0ffee035a17c0dg'",
	    "static_sas[0].key: expected 40 hex digits (20 bytes) for aes128gcm16, "
	    "got a non-hex character at position 39"),
	SET(ROUTER, "static_sas[0].key", "12345",
	    "static_sas[0].key: expected 40 hex digits (20 bytes) for aes128gcm16, got an integer"),
	SET(ROUTER, "static_sas[1].key", "'" KEY_AES128 "'",
	    "static_sas[1].key: expected 72 hex digits (36 bytes) for chacha20poly1305, "
	    "got 40 characters"),
	SET(ROUTER, "static_sas[0].mode", "'tunel'", "static_sas[0].mode: expected one of"),
	SET(ROUTER, "static_sas[0].esn", "'yes'",
	    "static_sas[0].esn: expected true or false, got \"yes\""),
	SET(ROUTER, "static_sas[0].replay_window", "63",
	    "static_sas[0].replay_window: expected 0 (off) or a power of two 64..4096, got 63"),
	SET(ROUTER, "static_sas[0].local", DELETE, "static_sas[0].local: required key is missing"),
	SET(ROUTER, "static_sas[0].local", "'192.0.2.99'",
	    "static_sas[0].local: expected one of the dvipa addresses, got \"192.0.2.99\""),
	SET(ROUTER, "static_sas[0].remote", "'2001:db8::10'",
	    "static_sas[0].remote: expected an IPv4 address like local, got \"2001:db8::10\""),
	SET(ROUTER, "static_sas[0].encap", "'tcp'", "static_sas[0].encap: expected one of"),
	SET(ROUTER, "static_sas[0].udp_remote_port", "0",
	    "static_sas[0].udp_remote_port: expected integer 1..65535, got 0"),
	SET(ROUTER, "static_sas[1].udp_local_port", "4500",
	    "static_sas[1].udp_local_port: expected no UDP port without \"encap\": \"udp\""),
	SET(ROUTER, "static_sas[0].local_ts[0]", "'10.1.0.0/33'",
	    "static_sas[0].local_ts[0]: expected IPv4 prefix length 0..32, got \"10.1.0.0/33\""),
	SET(ROUTER, "static_sas[0].local_ts[0]", "'10.1.0.5/24'",
	    "static_sas[0].local_ts[0]: expected CIDR with the host bits clear, got "
	    "\"10.1.0.5/24\""),
	SET(ROUTER, "static_sas[0].local_ts[0]", "'10.1.0/24'",
	    "static_sas[0].local_ts[0]: expected CIDR like \"10.1.0.0/24\", got \"10.1.0/24\""),
	SET(ROUTER, "static_sas[0].local_ts[1]", "'10.1.1.0/24 '",
	    "static_sas[0].local_ts[1]: expected CIDR like"),
	SET(ROUTER, "static_sas[0].local_ts",
	    "['10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8']",
	    "static_sas[0].local_ts: expected an array of 0..4 selectors, got 5"),
	SET(ROUTER, "static_sas[0].remote_ts[1]", "'2001:db8::/32'",
	    "static_sas[0].remote_ts[1]: expected an IPv4 selector like the SA's others, "
	    "got \"2001:db8::/32\""),
	SET(ROUTER, "static_sas[1].local_ts[0]", "'10.0.0.0/8'",
	    "static_sas[1].local_ts[0]: expected an IPv6 selector in transport mode (like local), "
	    "got \"10.0.0.0/8\""),
	SET(ROUTER, "static_sas[0].remote_ts[0].ports", "'2000-1000'",
	    "static_sas[0].remote_ts[0].ports: expected a port 0..65535 or a range \"LO-HI\", "
	    "got \"2000-1000\""),
	SET(ROUTER, "static_sas[0].remote_ts[0].proto", "256",
	    "static_sas[0].remote_ts[0].proto: expected integer 0..255, got 256"),
	SET(ROUTER, "static_sas[0].remote_ts[0].cidr", DELETE,
	    "static_sas[0].remote_ts[0].cidr: required key is missing"),
	SET(ROUTER, "static_sas[0].lifetime.hard_bytes", "500000",
	    "static_sas[0].lifetime.hard_bytes: expected more than soft_bytes (1000000), got "
	    "500000"),
	SET(ROUTER, "static_sas[0].lifetime", "{'soft_packets': 10, 'hard_packets': 10}",
	    "static_sas[0].lifetime.soft_packets: expected less than hard_packets (10), got 10"),
	SET(ROUTER, "static_sas[0].lifetime", "{'soft_packets': 10}",
	    NULL), /* no hard limit: fine */
	/* the target's own keys, and shared ones through the target's parser */
	SET(TARGET, "id", "0", "id: expected integer 1..65535, got 0"),
	SET(TARGET, "id", DELETE, "id: required key is missing"),
	SET(TARGET, "tap", DELETE, "tap: required key is missing"),
	SET(TARGET, "linkk", "{}", "linkk: unknown key"),
	SET(TARGET, "uplink", "{'devargs': 'net_null0', 'iface': 'eth0'}",
	    "uplink.iface: unknown key (expected one of: devargs)"),
	SET(TARGET, "router_control", "'unix:'",
	    "router_control: expected \"unix:PATH\" or \"tcp:HOST:PORT\" (PATH of 1..107"),
	SET(TARGET, "workers[0]", "-1", "workers[0]: expected integer 0..127, got -1"),
	SET(TARGET, "dvipa", "['192.0.2.1', 'dvipa.example']",
	    "dvipa[1]: expected IPv4 or IPv6 address, got \"dvipa.example\""),
	SET(TARGET, "control_key", "'" KEY_AES256 "'",
	    "control_key: expected 64 hex digits (32 bytes) for the control key, got 72 "
	    "characters"),
	SET(TARGET, "static_sas[0].key", "'" KEY_CHACHA "0'",
	    "static_sas[0].key: expected 72 hex digits (36 bytes) for aes256gcm16, got 73 "
	    "characters"),
	SET(TARGET, "static_sas[0].key",
	    "'0badcafe0badcafe1badcafe0badcafe2badcafe0bad-afe3badcafe0badcafe0badf00d'",
	    "static_sas[0].key: expected 72 hex digits (36 bytes) for aes256gcm16, "
	    "got a non-hex character at position 44"),
};

/* Set or delete the value at path ("a.b[2].c") in doc; the parent must exist. */
static void
edit_json(json_t *doc, const char *path, const char *value)
{
	json_t *cur = doc, *val = NULL;
	const char *p = path;

	if (value != NULL) {
		char *text = dq(value);
		json_error_t jerr;

		val = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (val == NULL)
			fail_msg("bad test value %s: %s", value, jerr.text);
		free(text);
	}
	for (;;) {
		char key[64];
		size_t index = 0, len;
		int is_index = *p == '[';

		if (is_index) {
			index = strtoul(p + 1, (char **)&p, 10);
			assert_int_equal(*p++, ']');
		} else {
			len = strcspn(p, ".[");
			assert_true(len > 0 && len < sizeof(key));
			memcpy(key, p, len);
			key[len] = '\0';
			p += len;
		}
		if (*p == '.')
			p++;
		if (*p == '\0') {
			if (is_index && val == NULL)
				assert_int_equal(json_array_remove(cur, index), 0);
			else if (is_index && index == json_array_size(cur))
				assert_int_equal(json_array_append_new(cur, val), 0);
			else if (is_index)
				assert_int_equal(json_array_set_new(cur, index, val), 0);
			else if (val == NULL)
				assert_int_equal(json_object_del(cur, key), 0);
			else
				assert_int_equal(json_object_set_new(cur, key, val), 0);
			return;
		}
		cur = is_index ? json_array_get(cur, index) : json_object_get(cur, key);
		if (cur == NULL)
			fail_msg("test edit %s: no such parent", path);
	}
}

static char *
build_case(const struct bad_case *c)
{
	json_t *doc;
	char *text, *base;

	if (c->raw != NULL)
		return dq(c->raw);
	base = dq(c->role == ROUTER ? base_router : base_target);
	doc = json_loads(base, 0, NULL);
	assert_non_null(doc);
	free(base);
	edit_json(doc, c->edit, c->value);
	text = json_dumps(doc, JSON_INDENT(1));
	assert_non_null(text);
	json_decref(doc);
	return text;
}

static void
assert_no_key_material(const char *err, const struct bad_case *c)
{
	char head[17];
	size_t i;

	for (i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		memcpy(head, all_keys[i], 16);
		head[16] = '\0';
		if (strstr(err, head) != NULL)
			fail_msg("case %s: error quotes key material: %s", c->edit, err);
	}
}

void
test_bad_configs(void **state)
{
	size_t i, n = sizeof(bad_cases) / sizeof(bad_cases[0]);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct bad_case *c = &bad_cases[i];
		char *text = build_case(c), err[ERR_LEN];
		int rc;

		memset(err, 'x', sizeof(err));
		if (c->role == ROUTER) {
			struct cfg_router *r = (struct cfg_router *)&r;

			rc = cfg_router_load_from_string(text, &r, err, sizeof(err));
			assert_true(rc == 0 ? r != NULL : r == NULL);
			cfg_router_free(r);
		} else {
			struct cfg_target *t = (struct cfg_target *)&t;

			rc = cfg_target_load_from_string(text, &t, err, sizeof(err));
			assert_true(rc == 0 ? t != NULL : t == NULL);
			cfg_target_free(t);
		}
		if (c->expect == NULL) {
			if (rc != 0)
				fail_msg("case %zu (%s): expected to load, got %s", i, c->edit,
					 err);
			free(text);
			continue;
		}
		if (rc != -EINVAL || strncmp(err, c->expect, strlen(c->expect)) != 0)
			fail_msg("case %zu (%s): rc %d\n  error:  %s\n  expect: %s...", i,
				 c->edit != NULL ? c->edit : "raw", rc, err, c->expect);
		assert_no_key_material(err, c);
		if (getenv("CFG_TEST_VERBOSE") != NULL)
			print_message("%s\n", err);
		free(text);
	}
	print_message("%zu edited configs checked\n", n);
}
