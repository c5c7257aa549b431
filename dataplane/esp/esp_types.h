/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plain types that describe an ESP SA: what the configuration loader and (later) the IKE engine
 * fill in, and what esp_sa_create() turns into a runtime SA. No DPDK or IPsec-MB types here, so the
 * control plane can include it without the data plane's headers.
 */
#ifndef DVIPSEC_ESP_TYPES_H
#define DVIPSEC_ESP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The AEADs, named as IKE proposals and strongSwan spell them. One list for the engine and the
 * loader. */
#define ESP_AEADS(X)                                                                 \
	X(AES128_GCM16, "aes128gcm16")		 /* RFC 4106, 16 B key + 4 B salt */ \
	X(AES256_GCM16, "aes256gcm16")		 /* RFC 4106, 32 B key + 4 B salt */ \
	X(CHACHA20_POLY1305, "chacha20poly1305") /* RFC 7634, 32 B key + 4 B salt */

enum esp_aead {
#define ESP_AEAD_ENUM(sym, name) ESP_AEAD_##sym,
	ESP_AEADS(ESP_AEAD_ENUM)
#undef ESP_AEAD_ENUM
		ESP_AEAD_COUNT
};

enum esp_mode {
	ESP_MODE_TUNNEL = 0,
	ESP_MODE_TRANSPORT,
};

enum esp_dir {
	ESP_DIR_INBOUND = 0,
	ESP_DIR_OUTBOUND,
};

#define ESP_SALT_LEN	   4
#define ESP_MAX_KEY_LEN	   32
#define ESP_MAX_KEYMAT_LEN (ESP_MAX_KEY_LEN + ESP_SALT_LEN)
#define ESP_ICV_LEN	   16
#define ESP_IV_LEN	   8
#define ESP_UDP_PORT	   4500
#define ESP_MAX_TS	   4
#define ESP_REPLAY_MIN	   64
#define ESP_REPLAY_MAX	   4096

/* An address of either family; v4 and v6 are in network byte order. */
struct esp_addr {
	uint8_t family; /* 4 or 6; 0 = unset */
	union {
		uint8_t v6[16];
		uint32_t v4;
	};
};

/* A traffic selector as IKEv2 carries it (RFC 7296 3.13.1): an address range, a protocol, a port
 * range. */
struct esp_ts {
	struct esp_addr start;
	struct esp_addr end;
	uint8_t proto; /* 0 = any */
	uint16_t port_lo;
	uint16_t port_hi;
};

/* SA lifetimes; 0 = unlimited. A soft limit is below its hard limit when both are set. */
struct esp_lifetime {
	uint64_t soft_bytes;
	uint64_t hard_bytes;
	uint64_t soft_packets;
	uint64_t hard_packets;
	uint32_t soft_seconds;
	uint32_t hard_seconds;
};

/* Everything needed to build one SA of one direction. The key points at keying material of
 * esp_aead_keymat_len() bytes (cipher key followed by the 4-byte salt) that the owner keeps in
 * sodium_malloc'd memory; esp_sa_create() copies it into guarded memory of its own. */
struct esp_sa_params {
	uint32_t spi; /* host order */
	enum esp_dir dir;
	enum esp_aead aead;
	enum esp_mode mode;
	const uint8_t *keymat;
	size_t keymat_len;

	bool esn;
	uint32_t replay_window; /* 0 disables anti-replay (inbound); else ESP_REPLAY_MIN..MAX, power
				   of 2 */

	/* Outer header: tunnel endpoints in tunnel mode; in transport mode the peer and local
	 * addresses the SA was negotiated between (used for outbound and for checks). */
	struct esp_addr local;
	struct esp_addr remote;

	bool udp_encap;		  /* RFC 3948 ESP-in-UDP */
	uint16_t udp_local_port;  /* host order, default 4500 */
	uint16_t udp_remote_port; /* host order, default 4500 (NAT may change it) */

	uint8_t n_local_ts; /* selectors; 0 = any */
	uint8_t n_remote_ts;
	struct esp_ts local_ts[ESP_MAX_TS];
	struct esp_ts remote_ts[ESP_MAX_TS];

	struct esp_lifetime lifetime;
};

static inline size_t
esp_aead_key_len(enum esp_aead aead)
{
	return aead == ESP_AEAD_AES128_GCM16 ? 16 : 32;
}

static inline size_t
esp_aead_keymat_len(enum esp_aead aead)
{
	return esp_aead_key_len(aead) + ESP_SALT_LEN;
}

/* Names as IKE proposals and strongSwan spell them: "aes128gcm16", "aes256gcm16",
 * "chacha20poly1305". Return 0 or -EINVAL. */
int esp_aead_from_name(const char *name, enum esp_aead *out);
const char *esp_aead_name(enum esp_aead aead);

#endif /* DVIPSEC_ESP_TYPES_H */
