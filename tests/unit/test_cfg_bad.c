/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader tests, bad configs: a table of single edits to the base router and target configs
 * (test_cfg.h), each of which must make the load fail with -EINVAL and a message that starts with
 * the JSON path of the edit and what was expected, and never quotes key material. The "ike" cases
 * give the whole message. Run with CFG_TEST_VERBOSE=1 to print every message.
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

static const char *const all_keys[] = { KEY_AES128, KEY_CHACHA, KEY_AES256,  KEY_CONTROL,
					KEY_PSK,    KEY_PSK2,	KEY_ED_SEED, KEY_ED_PEER };

enum role { ROUTER, TARGET };

#define DELETE NULL

/*
 * One edit to the base config of a role: set the value at a path ("targets[1].weight") to a JSON
 * value, or delete it (DELETE); or, with raw, a whole document. The error must start with expect,
 * or with exact, be expect; a NULL expect marks a near miss that must load.
 */
struct bad_case {
	enum role role;
	const char *edit;
	const char *value;
	const char *expect;
	const char *raw;
	bool exact;
};

#define SET(role, edit, value, expect)                 \
	{                                              \
		role, edit, value, expect, NULL, false \
	}
#define RAW(role, raw, expect)                       \
	{                                            \
		role, NULL, NULL, expect, raw, false \
	}
/* The router's "ike" object: the whole message. */
#define IKE(edit, value, expect)                        \
	{                                               \
		ROUTER, edit, value, expect, NULL, true \
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
	    "targets[0].id: expected integer 1..65534, got 65536"),
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
	SET(ROUTER, "target_timeout_ms", "400",
	    "target_timeout_ms: expected integer 500..60000, got 400"),
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
	SET(TARGET, "id", "0", "id: expected integer 1..65534, got 0"),
	SET(TARGET, "id", "65535", "id: expected integer 1..65534, got 65535"),
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
	SET(TARGET, "ike", "{}", "ike: unknown key (expected one of: eal, id, dvipa,"),
	/* ike: the object */
	IKE("ike", DELETE, NULL), /* no IKE: fine */
	IKE("ike", "[]", "ike: expected an object, got an array"),
	IKE("ike.peer", "[]",
	    "ike.peer: unknown key (expected one of: id, ed25519_key, cookie_threshold, "
	    "half_open_timeout_s, retransmit_base_ms, retransmit_tries, peers)"),
	IKE("ike.peers", DELETE, "ike.peers: required key is missing"),
	IKE("ike.peers", "[]", "ike.peers: expected an array of 1..64 peers, got 0"),
	IKE("ike.peers", "{}", "ike.peers: expected an array of 1..64 peers, got an object"),
	IKE("ike.peers[0]", "'client1'", "ike.peers[0]: expected an object, got \"client1\""),
	/* identities: ours and a peer's, inferred as strongSwan does */
	IKE("ike.id", "5", "ike.id: expected an IP address, FQDN or user@domain (a string), got 5"),
	IKE("ike.id", "''",
	    "ike.id: expected an IP address, FQDN or user@domain (1..255 characters), got \"\""),
	IKE("ike.id", "'192.0.2.300'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN whose last label is not "
	    "all digits), got \"192.0.2.300\""),
	IKE("ike.id", "'CN=vpn, O=example'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN of letters, digits, '-', "
	    "'_' and '.'), got \"CN=vpn, O=example\""),
	IKE("ike.id", "'2001:db8::zz'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN of letters, digits, '-', "
	    "'_' and '.'), got \"2001:db8::zz\""),
	IKE("ike.id", "'vpn..example.org'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN without empty labels), "
	    "got \"vpn..example.org\""),
	IKE("ike.id", "'@'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN without empty labels), "
	    "got \"@\""),
	IKE("ike.id", "'@#0a0b'",
	    "ike.id: expected an IP address, FQDN or user@domain (an FQDN of letters, digits, '-', "
	    "'_' and '.'), got \"@#0a0b\""),
	IKE("ike.peers[1].id", "'alice smith@example.org'",
	    "ike.peers[1].id: expected an IP address, FQDN or user@domain (user@domain of "
	    "printable "
	    "ASCII without spaces), got \"alice smith@example.org\""),
	IKE("ike.peers[1].id", "'alice@'",
	    "ike.peers[1].id: expected an IP address, FQDN or user@domain (user@domain with a "
	    "domain), got \"alice@\""),
	IKE("ike.peers[1].id", "'Client.Example.ORG'",
	    "ike.peers[1].id: expected a peer id not used before, got \"Client.Example.ORG\" (also "
	    "ike.peers[0].id)"),
	IKE("ike.peers[4].id", "'@client.example.org'",
	    "ike.peers[4].id: expected a peer id not used before, got \"@client.example.org\" "
	    "(also "
	    "ike.peers[0].id)"),
	IKE("ike.peers[3].id", "'198.51.100.7'",
	    "ike.peers[3].id: expected a peer id not used before, got \"198.51.100.7\" (also "
	    "ike.peers[2].id)"),
	IKE("ike.peers[3].id", "'2001:DB8:100:0::1'", NULL), /* same as nobody's */
	/* the later of the two is blamed */
	IKE("ike.peers[0].id", "'alice@example.org'",
	    "ike.peers[1].id: expected a peer id not used before, got \"alice@example.org\" (also "
	    "ike.peers[0].id)"),
	IKE("ike.peers[1].id", "'ALICE@example.org'", NULL),
	IKE("ike.peers[0].id", DELETE, "ike.peers[0].id: required key is missing"),
	/* our knobs */
	IKE("ike.ed25519_key", "'abcd'",
	    "ike.ed25519_key: expected 64 hex digits (32 bytes) for our Ed25519 key (its seed), "
	    "got "
	    "4 characters"),
	IKE("ike.ed25519_key", "'" KEY_ED_PEER "0'",
	    "ike.ed25519_key: expected 64 hex digits (32 bytes) for our Ed25519 key (its seed), "
	    "got "
	    "65 characters"),
	IKE("ike.cookie_threshold", "-1",
	    "ike.cookie_threshold: expected integer 0..1000000, got -1"),
	IKE("ike.half_open_timeout_s", "0",
	    "ike.half_open_timeout_s: expected integer 1..3600, got 0"),
	IKE("ike.retransmit_base_ms", "10",
	    "ike.retransmit_base_ms: expected integer 50..60000, got 10"),
	IKE("ike.retransmit_tries", "17", "ike.retransmit_tries: expected integer 1..16, got 17"),
	IKE("ike.retransmit_tries", "0", "ike.retransmit_tries: expected integer 1..16, got 0"),
	IKE("ike.retransmit_tries", "'5'",
	    "ike.retransmit_tries: expected integer 1..16, got \"5\""),
	IKE("ike.cookie_threshold", "0", NULL), /* no COOKIEs */
	/* a peer's name and keys */
	IKE("ike.peers[0].nmae", "'x'",
	    "ike.peers[0].nmae: unknown key (expected one of: name, id, auth, psk, public_key, "
	    "ike_proposals, esp_proposals, local_ts, remote_ts, transport, ike_rekey_s, lifetime, "
	    "child_rekey_s, replay_window, dpd_s, sa_per_target)"),
	IKE("ike.peers[0].name", DELETE, "ike.peers[0].name: required key is missing"),
	IKE("ike.peers[0].name", "'client 1'",
	    "ike.peers[0].name: expected a name of 1..31 characters [A-Za-z0-9_.-], got "
	    "\"client 1\""),
	IKE("ike.peers[2].name", "'client1'",
	    "ike.peers[2].name: expected a peer name not used before, got \"client1\" (also "
	    "ike.peers[0].name)"),
	IKE("ike.peers[0].auth", "'rsa'",
	    "ike.peers[0].auth: expected one of \"psk\", \"ed25519\", got \"rsa\""),
	IKE("ike.ed25519_key", DELETE,
	    "ike.peers[1].auth: expected \"psk\" as ike has no ed25519_key, got \"ed25519\""),
	IKE("ike.peers[0].psk", DELETE,
	    "ike.peers[0].psk: required key is missing (\"auth\" is \"psk\")"),
	IKE("ike.peers[0].psk", "'00112233445566'",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got 14 characters"),
	IKE("ike.peers[0].psk", "'" KEY_PSK "0'",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got 33 characters"),
	IKE("ike.peers[0].psk",
	    "'" KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK "00'",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got 258 characters"),
	IKE("ike.peers[0].psk", "'5eedf00d5eedf00d5eedf00d5eedf0 d'",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got a non-hex character at position 30"),
	IKE("ike.peers[0].psk", "'0x5eedf00d5eedf00d5eedf00d5eedf0'",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got a non-hex character at position 1"),
	IKE("ike.peers[0].psk", "1234567890123456",
	    "ike.peers[0].psk: expected an even number of hex digits, 16..256 (a PSK of 8..128 "
	    "bytes), got an integer"),
	IKE("ike.peers[0].psk", "'0011223344556677'", NULL), /* 8 bytes: the shortest */
	IKE("ike.peers[0].psk",
	    "'" KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK KEY_PSK "'",
	    NULL), /* 128 bytes: the longest */
	IKE("ike.peers[1].psk", "'" KEY_PSK "'",
	    "ike.peers[1].psk: expected no psk with \"auth\": \"ed25519\", got a string"),
	IKE("ike.peers[1].public_key", DELETE,
	    "ike.peers[1].public_key: required key is missing (\"auth\" is \"ed25519\")"),
	IKE("ike.peers[0].public_key", "'" KEY_ED_PEER "'",
	    "ike.peers[0].public_key: expected no public_key with \"auth\": \"psk\", got a string"),
	IKE("ike.peers[1].public_key", "'abc'",
	    "ike.peers[1].public_key: expected 64 hex digits (32 bytes) for an Ed25519 public key, "
	    "got 3 characters"),
	/* the neutral point (small order), and y = 2^255 - 1 (not below p: not canonical) */
	IKE("ike.peers[1].public_key",
	    "'0100000000000000000000000000000000000000000000000000000000000000'",
	    "ike.peers[1].public_key: expected an Ed25519 public key, got 32 bytes that are not a "
	    "point of the curve's prime-order subgroup"),
	IKE("ike.peers[1].public_key",
	    "'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'",
	    "ike.peers[1].public_key: expected an Ed25519 public key, got 32 bytes that are not a "
	    "point of the curve's prime-order subgroup"),
	/* proposals: the bad token by name */
	IKE("ike.peers[0].ike_proposals", "[]",
	    "ike.peers[0].ike_proposals: expected an array of 1..8 proposals, got 0"),
	IKE("ike.peers[0].ike_proposals", "'aes128gcm16-prfsha256-x25519'",
	    "ike.peers[0].ike_proposals: expected an array of 1..8 proposals, got "
	    "\"aes128gcm16-prfsha256-x25519\""),
	IKE("ike.peers[0].ike_proposals[0]", "7",
	    "ike.peers[0].ike_proposals[0]: expected a proposal ENCR-PRF-DH like "
	    "\"aes128gcm16-prfsha256-x25519\", got 7"),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-prfsha256-modp2048'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH made of aes128gcm16, aes256gcm16, "
	    "chacha20poly1305, prfsha256, prfsha384, prfsha512, x25519, curve25519, got "
	    "\"modp2048\" in \"aes128gcm16-prfsha256-modp2048\""),
	IKE("ike.peers[0].ike_proposals[1]", "'aes128-sha256-prfsha256-x25519'",
	    "ike.peers[0].ike_proposals[1]: expected ENCR-PRF-DH made of aes128gcm16, aes256gcm16, "
	    "chacha20poly1305, prfsha256, prfsha384, prfsha512, x25519, curve25519, got "
	    "\"aes128\" in \"aes128-sha256-prfsha256-x25519\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-prfsha256-x25519-esn'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH made of aes128gcm16, aes256gcm16, "
	    "chacha20poly1305, prfsha256, prfsha384, prfsha512, x25519, curve25519, got "
	    "\"esn\" in \"aes128gcm16-prfsha256-x25519-esn\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-prfsha256-x25519-'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH made of aes128gcm16, aes256gcm16, "
	    "chacha20poly1305, prfsha256, prfsha384, prfsha512, x25519, curve25519, got "
	    "\"\" in \"aes128gcm16-prfsha256-x25519-\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-x25519'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH like "
	    "\"aes128gcm16-prfsha256-x25519\" (no PRF), got \"aes128gcm16-x25519\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-prfsha256'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH like "
	    "\"aes128gcm16-prfsha256-x25519\" (no DH group), got \"aes128gcm16-prfsha256\""),
	IKE("ike.peers[0].ike_proposals[0]", "'prfsha256-x25519'",
	    "ike.peers[0].ike_proposals[0]: expected ENCR-PRF-DH like "
	    "\"aes128gcm16-prfsha256-x25519\" (no encryption algorithm), got "
	    "\"prfsha256-x25519\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-aes256gcm16-prfsha256-x25519'",
	    "ike.peers[0].ike_proposals[0]: expected one encryption algorithm per proposal (list "
	    "another proposal for an alternative), got \"aes256gcm16\" in "
	    "\"aes128gcm16-aes256gcm16-prfsha256-x25519\""),
	IKE("ike.peers[0].ike_proposals[0]", "'aes128gcm16-prfsha256-x25519-curve25519'",
	    "ike.peers[0].ike_proposals[0]: expected one DH group per proposal (list another "
	    "proposal for an alternative), got \"curve25519\" in "
	    "\"aes128gcm16-prfsha256-x25519-curve25519\""),
	IKE("ike.peers[0].ike_proposals[1]", "'aes256gcm16-prfsha384-curve25519'",
	    "ike.peers[0].ike_proposals[1]: expected a proposal not listed before, got "
	    "\"aes256gcm16-prfsha384-curve25519\" (also ike.peers[0].ike_proposals[0])"),
	IKE("ike.peers[0].ike_proposals",
	    "['aes128gcm16-prfsha256-x25519', 'aes128gcm16-prfsha384-x25519',"
	    " 'aes128gcm16-prfsha512-x25519', 'aes256gcm16-prfsha256-x25519',"
	    " 'aes256gcm16-prfsha384-x25519', 'aes256gcm16-prfsha512-x25519',"
	    " 'chacha20poly1305-prfsha256-x25519', 'chacha20poly1305-prfsha384-x25519',"
	    " 'chacha20poly1305-prfsha512-x25519']",
	    "ike.peers[0].ike_proposals: expected an array of 1..8 proposals, got 9"),
	IKE("ike.peers[0].esp_proposals[0]", "'aes128gcm16-prfsha256'",
	    "ike.peers[0].esp_proposals[0]: expected ENCR[-DH][-ESN] made of aes128gcm16, "
	    "aes256gcm16, chacha20poly1305, x25519, curve25519, esn, noesn, got \"prfsha256\" in "
	    "\"aes128gcm16-prfsha256\""),
	IKE("ike.peers[0].esp_proposals[0]", "'aes128gcm16-sha256'",
	    "ike.peers[0].esp_proposals[0]: expected ENCR[-DH][-ESN] made of aes128gcm16, "
	    "aes256gcm16, chacha20poly1305, x25519, curve25519, esn, noesn, got \"sha256\" in "
	    "\"aes128gcm16-sha256\""),
	IKE("ike.peers[0].esp_proposals[2]", "'aes128gcm16-esn-noesn'",
	    "ike.peers[0].esp_proposals[2]: expected one ESN setting per proposal (list another "
	    "proposal for an alternative), got \"noesn\" in \"aes128gcm16-esn-noesn\""),
	IKE("ike.peers[0].esp_proposals[0]", "'x25519'",
	    "ike.peers[0].esp_proposals[0]: expected ENCR[-DH][-ESN] like "
	    "\"aes256gcm16-x25519-esn\" (no encryption algorithm), got \"x25519\""),
	IKE("ike.peers[0].esp_proposals[1]", "''",
	    "ike.peers[0].esp_proposals[1]: expected a proposal ENCR[-DH][-ESN] like "
	    "\"aes256gcm16-x25519-esn\", got \"\""),
	IKE("ike.peers[0].esp_proposals[1]", "'chacha20poly1305'", NULL), /* was -noesn: same */
	IKE("ike.peers[0].esp_proposals[2]", "'chacha20poly1305'",
	    "ike.peers[0].esp_proposals[2]: expected a proposal not listed before, got "
	    "\"chacha20poly1305\" (also ike.peers[0].esp_proposals[1])"),
	IKE("ike.peers[0].esp_proposals[3]", "'esn-aes128gcm16'",
	    "ike.peers[0].esp_proposals[3]: expected a proposal not listed before, got "
	    "\"esn-aes128gcm16\" (also ike.peers[0].esp_proposals[2])"),
	/* selectors, as static SAs take them */
	IKE("ike.peers[0].local_ts", "[]",
	    "ike.peers[0].local_ts: expected an array of 1..4 selectors, got 0"),
	IKE("ike.peers[0].remote_ts",
	    "['10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8']",
	    "ike.peers[0].remote_ts: expected an array of 1..4 selectors, got 5"),
	IKE("ike.peers[0].remote_ts[0]", "'10.9.0.1/24'",
	    "ike.peers[0].remote_ts[0]: expected CIDR with the host bits clear, got "
	    "\"10.9.0.1/24\""),
	IKE("ike.peers[0].local_ts[1].ports", "'99999'",
	    "ike.peers[0].local_ts[1].ports: expected a port 0..65535 or a range \"LO-HI\", got "
	    "\"99999\""),
	IKE("ike.peers[0].remote_ts[0]", "{'cidr': '10.9.0.0/24', 'port': 80}",
	    "ike.peers[0].remote_ts[0].port: unknown key (expected one of: cidr, proto, ports)"),
	IKE("ike.peers[0].remote_ts[1]", "'2001:db8:9::/48'", NULL), /* families may mix */
	IKE("dvipa", "['192.0.2.1', '2001:db8::1', '192.0.2.2', '192.0.2.3', '192.0.2.4']",
	    "ike.peers[1].local_ts: required key is missing (the default, one selector per dvipa "
	    "address, would be 5 selectors of at most 4)"),
	/* the rest of a peer */
	IKE("ike.peers[0].transport", "'yes'",
	    "ike.peers[0].transport: expected true or false, got \"yes\""),
	IKE("ike.peers[0].ike_rekey_s", "-5",
	    "ike.peers[0].ike_rekey_s: expected integer 0..31536000, got -5"),
	IKE("ike.peers[0].child_rekey_s", "3600",
	    "ike.peers[0].child_rekey_s: expected less than the CHILD SA lifetime's hard_seconds "
	    "(3600), got 3600"),
	IKE("ike.peers[1].child_rekey_s", DELETE,
	    "ike.peers[1].child_rekey_s: expected less than the CHILD SA lifetime's hard_seconds "
	    "(3600), got 3600 (the default)"),
	IKE("ike.peers[1].lifetime", "{'hard_seconds': 7200}", NULL), /* now 3600 is fine */
	IKE("ike.peers[1].lifetime", "{'hard_seconds': 2000}",
	    "ike.peers[1].lifetime.hard_seconds: expected more than soft_seconds (3000), got 2000"),
	IKE("ike.peers[1].lifetime", "{'soft_seconds': 1000, 'hard_seconds': 2000}",
	    "ike.peers[1].child_rekey_s: expected less than the CHILD SA lifetime's hard_seconds "
	    "(2000), got 3000"),
	IKE("ike.peers[0].lifetime.soft_pakets", "1",
	    "ike.peers[0].lifetime.soft_pakets: unknown key (expected one of: soft_bytes, "
	    "hard_bytes, soft_packets, hard_packets, soft_seconds, hard_seconds)"),
	IKE("ike.peers[0].replay_window", "100",
	    "ike.peers[0].replay_window: expected 0 (off) or a power of two 64..4096, got 100"),
	IKE("ike.peers[0].dpd_s", "86401",
	    "ike.peers[0].dpd_s: expected integer 0..86400, got 86401"),
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
		if (rc != -EINVAL || strncmp(err, c->expect, strlen(c->expect)) != 0 ||
		    (c->exact && strcmp(err, c->expect) != 0))
			fail_msg("case %zu (%s): rc %d\n  error:  %s\n  expect: %s%s", i,
				 c->edit != NULL ? c->edit : "raw", rc, err, c->expect,
				 c->exact ? "" : "...");
		assert_no_key_material(err, c);
		if (getenv("CFG_TEST_VERBOSE") != NULL)
			print_message("%s\n", err);
		free(text);
	}
	print_message("%zu edited configs checked\n", n);
}
