/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outer header parsing for ESP and ESP-in-UDP (RFC 4303, RFC 3948) over IPv4 and IPv6. Every length
 * is checked before it is read; nothing here trusts a length field further than the buffer. Shared
 * by the inbound stage and the router's classifier.
 */
#include "esp_priv.h"

#define IPV6_HDR_LEN  40
#define IPV6_MAX_EXT  4
#define UDP_HDR_LEN   8
#define IPV6_HOPOPTS  0
#define IPV6_ROUTING  43
#define IPV6_FRAGMENT 44
#define IPV6_DSTOPTS  60

static enum esp_drop
parse_ipv4(const uint8_t *ip, uint32_t len, struct esp_pkt_info *pi, uint8_t *proto)
{
	if (len < 20)
		return ESP_DROP_TRUNCATED;
	uint32_t ihl = (ip[0] & 0xfu) * 4u;
	uint32_t tot = load_be16(ip + 2);

	if (ihl < 20 || tot < ihl)
		return ESP_DROP_BAD_IP_HEADER;
	if (tot > len)
		return ESP_DROP_TRUNCATED;
	if ((load_be16(ip + 6) & 0x3fff) != 0) /* MF set or an offset */
		return ESP_DROP_FRAGMENT;
	pi->family = 4;
	pi->ip_len = (uint16_t)tot;
	pi->l3_len = (uint16_t)ihl;
	pi->proto_off = 9;
	*proto = ip[9];
	return ESP_DROP_NONE;
}

static enum esp_drop
parse_ipv6(const uint8_t *ip, uint32_t len, struct esp_pkt_info *pi, uint8_t *proto)
{
	if (len < IPV6_HDR_LEN)
		return ESP_DROP_TRUNCATED;
	uint32_t tot = IPV6_HDR_LEN + load_be16(ip + 4);

	if (tot > len)
		return ESP_DROP_TRUNCATED;

	uint8_t next = ip[6];
	uint32_t off = IPV6_HDR_LEN;
	uint16_t next_off = 6;

	for (int i = 0; i < IPV6_MAX_EXT; i++) {
		if (next == IPV6_FRAGMENT)
			return ESP_DROP_FRAGMENT;
		if (next != IPV6_HOPOPTS && next != IPV6_ROUTING && next != IPV6_DSTOPTS)
			break;
		if (off + 2 > tot)
			return ESP_DROP_TRUNCATED;
		uint32_t ext_len = (ip[off + 1] + 1u) * 8u;

		if (off + ext_len > tot)
			return ESP_DROP_TRUNCATED;
		next = ip[off];
		next_off = (uint16_t)off;
		off += ext_len;
	}
	if (next == IPV6_HOPOPTS || next == IPV6_ROUTING || next == IPV6_DSTOPTS)
		return ESP_DROP_UNSUPPORTED_EXT;
	pi->family = 6;
	pi->ip_len = (uint16_t)tot;
	pi->l3_len = (uint16_t)off;
	pi->proto_off = next_off;
	*proto = next;
	return ESP_DROP_NONE;
}

enum esp_drop
esp_parse_outer(const uint8_t *ip, uint32_t len, struct esp_pkt_info *pi)
{
	enum esp_drop why;
	uint8_t proto;

	if (len < 1)
		return ESP_DROP_TRUNCATED;
	switch (ip[0] >> 4) {
	case 4:
		why = parse_ipv4(ip, len, pi, &proto);
		break;
	case 6:
		why = parse_ipv6(ip, len, pi, &proto);
		break;
	default:
		return ESP_DROP_NOT_IP;
	}
	if (why != ESP_DROP_NONE)
		return why;

	if (proto == IPPROTO_ESP_NUM) {
		pi->udp = 0;
		pi->esp_off = pi->l3_len;
		return ESP_DROP_NONE;
	}
	if (proto != IPPROTO_UDP_NUM)
		return ESP_DROP_NOT_ESP;

	const uint8_t *udp = ip + pi->l3_len;
	uint32_t udp_room = pi->ip_len - pi->l3_len;

	if (udp_room < UDP_HDR_LEN)
		return ESP_DROP_TRUNCATED;
	/* RFC 3948: ESP-in-UDP goes to 4500; the source port may be anything (NAT) */
	if (load_be16(udp + 2) != ESP_UDP_PORT)
		return ESP_DROP_NOT_ESP;
	if (load_be16(udp + 4) != udp_room)
		return ESP_DROP_BAD_IP_HEADER;
	if (udp_room == UDP_HDR_LEN + 1 && udp[UDP_HDR_LEN] == 0xff)
		return ESP_DROP_NATT_KEEPALIVE;
	if (udp_room < UDP_HDR_LEN + 4)
		return ESP_DROP_TRUNCATED;
	if (load_be32(udp + UDP_HDR_LEN) == 0)
		return ESP_DROP_NON_ESP_MARKER;
	/* the UDP checksum is not verified: RFC 3948 3.1.2 lets a receiver skip it, ESP's ICV
	 * covers the payload, and a veth with TX offload hands us partial checksums (PEERS.md) */
	pi->udp = 1;
	pi->esp_off = (uint16_t)(pi->l3_len + UDP_HDR_LEN);
	return ESP_DROP_NONE;
}
