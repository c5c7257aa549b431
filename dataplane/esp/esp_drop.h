/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why the ESP engine drops a packet: one X-macro table, so each reason has one name and one
 * description everywhere (counters, telemetry, tests). A drop bumps its per-lcore counter; the fast
 * path never logs.
 */
#ifndef DVIPSEC_ESP_DROP_H
#define DVIPSEC_ESP_DROP_H

#define ESP_DROP_REASONS(X)                                                                       \
	X(NOT_IP, "not_ip", "not an IPv4 or IPv6 packet")                                         \
	X(TRUNCATED, "truncated", "packet shorter than its headers say")                          \
	X(BAD_IP_HEADER, "bad_ip_header", "outer IP header malformed (IHL, lengths)")             \
	X(FRAGMENT, "fragment", "outer IP fragment; reassembly is not done here")                 \
	X(UNSUPPORTED_EXT, "unsupported_ext_header", "IPv6 extension header that is not walked")  \
	X(NOT_ESP, "not_esp", "neither ESP nor ESP-in-UDP")                                       \
	X(NON_ESP_MARKER, "non_esp_marker", "UDP 4500 with the zero non-ESP marker (IKE)")        \
	X(NATT_KEEPALIVE, "natt_keepalive", "NAT-T keepalive (RFC 3948 2.3)")                     \
	X(MULTI_SEGMENT, "multi_segment", "chained mbuf; the engine needs one segment")           \
	X(UNKNOWN_SPI, "unknown_spi", "no inbound SA with this SPI")                              \
	X(SPI_MISMATCH, "spi_mismatch", "SPI differs from the SA the trusted link's key names")   \
	X(ENCAP_MISMATCH, "encap_mismatch", "raw ESP for a UDP-encapsulated SA or the reverse")   \
	X(BAD_LENGTH, "bad_length", "ciphertext too short or not a multiple of 4 bytes")          \
	X(REPLAY_DUPLICATE, "replay_duplicate", "sequence number already received")               \
	X(REPLAY_OLD, "replay_too_old", "sequence number left of the replay window (or zero)")    \
	X(ICV_MISMATCH, "icv_mismatch", "integrity check value does not verify")                  \
	X(CRYPTO_ERROR, "crypto_error", "the crypto library failed the operation")                \
	X(BAD_PADDING, "bad_padding", "pad length too long or padding bytes not 1, 2, 3, ...")    \
	X(BAD_NEXT_HEADER, "bad_next_header", "next header does not fit the SA mode")             \
	X(DUMMY, "dummy_packet", "TFC dummy packet (next header 59), discarded as RFC 4303 says") \
	X(BAD_INNER, "bad_inner_header", "decrypted inner IP header malformed")                   \
	X(SELECTOR, "selector_mismatch", "inner addresses outside the SA's traffic selectors")    \
	X(NO_HEADROOM, "no_headroom", "mbuf has no room for the ESP headers")                     \
	X(NO_TAILROOM, "no_tailroom", "mbuf has no room for the ESP trailer and ICV")             \
	X(SEQ_OVERFLOW, "seq_overflow", "sequence number would wrap; the SA must be rekeyed")     \
	X(WRONG_SA, "wrong_sa", "SA of the wrong direction, family or mode for this packet")

enum esp_drop {
	ESP_DROP_NONE = 0, /* not a drop: the packet continues */
#define ESP_DROP_ENUM(sym, name, desc) ESP_DROP_##sym,
	ESP_DROP_REASONS(ESP_DROP_ENUM)
#undef ESP_DROP_ENUM
		ESP_DROP_COUNT
};

const char *esp_drop_name(enum esp_drop reason);
const char *esp_drop_desc(enum esp_drop reason);

#endif /* DVIPSEC_ESP_DROP_H */
